//! The examples as a user runs them: curl against `https_hello` over HTTP/1.1 and HTTP/2, curl
//! against `tls_sni_server` by two names, and `tls_client` against `tls_echo_server`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The example binary `name`, built if `cargo test` has not built it yet.
fn example(name: &str) -> PathBuf {
    // target/debug/deps/<this test> -> target/debug/examples/<name>
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples");
    let path = dir.join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "sealstream-examples", "--example", name])
            .status()
            .unwrap();
        assert!(status.success(), "building example {name}");
    }
    path
}

/// A tool from PATH; under `CI=true` its absence is a failure.
fn require(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is required under CI=true (scripts/install-test-deps.sh installs it)"
        );
        eprintln!("skipped: {tool} not installed (scripts/install-test-deps.sh installs it)");
    }
    found
}

/// A certificate for localhost and its key, as PEM files.
fn cert_files(tag: &str) -> (PathBuf, PathBuf) {
    cert_files_for(tag, "localhost")
}

/// A certificate for `name` and its key, as PEM files.
fn cert_files_for(tag: &str, name: &str) -> (PathBuf, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec![name.into()]).unwrap();
    let dir =
        std::env::temp_dir().join(format!("sealstream-examples-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
    (c, k)
}

/// A server example on a free port; returns it and the port it printed.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(name: &str, cert: &std::path::Path, key: &std::path::Path) -> (Server, u16) {
    start_with(name, &[cert.as_os_str(), key.as_os_str()])
}

/// The server example `name` on a free port with `args` after the address.
fn start_with(name: &str, args: &[&std::ffi::OsStr]) -> (Server, u16) {
    let mut child = Command::new(example(name))
        .args(["127.0.0.1:0"])
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (Server(child), port)
}

#[test]
fn curl_gets_hello_over_http1_and_http2() {
    let Some(curl) = require("curl") else { return };
    let (cert, key) = cert_files("https");
    let (_server, port) = start("https_hello", &cert, &key);
    for (flag, version) in [("--http1.1", "HTTP/1.1"), ("--http2", "HTTP/2.0")] {
        let out = Command::new(&curl)
            .args([
                "--silent",
                "--show-error",
                "--max-time",
                "10",
                flag,
                "--cacert",
            ])
            .arg(&cert)
            .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
            .arg(format!("https://localhost:{port}/"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl {flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("hello from sealstream over {version}\n")
        );
    }
}

#[test]
fn tls_client_talks_to_tls_echo_server() {
    let (cert, key) = cert_files("echo");
    let (_server, port) = start("tls_echo_server", &cert, &key);
    let mut client = Command::new(example("tls_client"))
        .arg(format!("localhost:{port}"))
        .arg(&cert)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let mut stdin = client.stdin.take().unwrap();
    let input = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = client.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == data, "echoed bytes differ");
}

#[test]
fn curl_gets_the_certificate_of_the_name_it_asks_for() {
    let Some(curl) = require("curl") else { return };
    let (one_cert, one_key) = cert_files_for("sni-one", "one.test");
    let (two_cert, two_key) = cert_files_for("sni-two", "two.test");
    let (_server, port) = start_with(
        "tls_sni_server",
        &[
            "one.test".as_ref(),
            one_cert.as_os_str(),
            one_key.as_os_str(),
            "two.test".as_ref(),
            two_cert.as_os_str(),
            two_key.as_os_str(),
        ],
    );
    for (name, cert) in [("one.test", &one_cert), ("two.test", &two_cert)] {
        // curl trusts only this name's certificate: the server must pick it by SNI.
        let out = Command::new(&curl)
            .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
            .arg(cert)
            .args(["--resolve", &format!("{name}:{port}:127.0.0.1")])
            .arg(format!("https://{name}:{port}/"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("hello from {name}\n")
        );
    }
}
