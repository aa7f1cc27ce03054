//! The examples as a user runs them: curl against `https_hello` over HTTP/1.1 and HTTP/2, and
//! `tls_client` against `tls_echo_server`.

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
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
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

fn start(name: &str, cert: &PathBuf, key: &PathBuf) -> (Server, u16) {
    let mut child = Command::new(example(name))
        .args(["127.0.0.1:0"])
        .args([cert, key])
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
