//! `sealcat connect --sasl digest-md5` and `sealcat listen --sasl digest-md5` as a user runs
//! them: every layer and cipher end to end, frames far smaller than the data, failed and refused
//! authentications, tampering caught by the layer, and bad input.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

mod common;

use common::{Listener, assert_fails, pattern, run, stderr_of};

const PASSWORD: (&str, &str) = ("SEALCAT_PASSWORD", "correct horse");

/// `sealcat listen --sasl digest-md5 --user alice ARGS`, password from the environment.
fn listen(args: &[&str]) -> Listener {
    let listener = common::listen(
        &["--sasl", "digest-md5", "--user", "alice"],
        args,
        &[PASSWORD],
    );
    assert!(
        listener.banner.contains("SASL DIGEST-MD5"),
        "{}",
        listener.banner
    );
    listener
}

/// `sealcat connect ADDR --sasl digest-md5 --user alice ARGS` with `input` on stdin.
fn connect(addr: &str, args: &[&str], input: Vec<u8>) -> std::process::Output {
    common::connect(
        addr,
        &["--sasl", "digest-md5", "--user", "alice"],
        args,
        &[PASSWORD],
        input,
    )
}

#[test]
fn every_layer_echoes_through_frames_smaller_than_the_data() {
    // The client accepts 1,024-byte frames: 300 KB comes back as about 300 frames.
    let cases: [(&[&str], &str); 6] = [
        (&["--qop", "auth-int"], "layer auth-int, SSF 1"),
        (
            &["--qop", "auth-conf", "--cipher", "rc4"],
            "auth-conf (rc4), SSF 128",
        ),
        (
            &["--qop", "auth-conf", "--cipher", "3des"],
            "auth-conf (3des), SSF 112",
        ),
        (
            &["--qop", "auth-conf", "--cipher", "des", "--legacy-ciphers"],
            "auth-conf (des), SSF 55",
        ),
        (
            &[
                "--qop",
                "auth-conf",
                "--cipher",
                "rc4-56",
                "--legacy-ciphers",
            ],
            "auth-conf (rc4-56), SSF 56",
        ),
        (
            &[
                "--qop",
                "auth-conf",
                "--cipher",
                "rc4-40",
                "--legacy-ciphers",
            ],
            "auth-conf (rc4-40), SSF 40",
        ),
    ];
    for (i, (layer, expected)) in cases.into_iter().enumerate() {
        let mut server = listen(&["--echo", "--once", "--legacy-ciphers", "-v"]);
        let data = pattern(i as u8, 300_000);
        let mut args = layer.to_vec();
        args.extend(["--maxbuf", "1024", "-v"]);
        let out = connect(&server.addr, &args, data.clone());
        let err = stderr_of(&out);
        assert!(out.status.success(), "{layer:?}: {err}");
        assert!(out.stdout == data, "{layer:?}: echoed bytes differ");
        assert!(err.contains(expected), "{layer:?}: {err}");
        assert!(err.contains("maxbuf ours 1024 / peer's 65536"), "{err}");
        let line = server.next_line();
        assert!(line.contains(expected), "the server agrees: {line}");
        assert!(line.contains("peer's 1024"), "{line}");
        assert!(server.child.wait().unwrap().success());
    }
}

#[test]
fn the_strongest_common_layer_is_chosen_and_exec_works() {
    // The server offers everything; the client asks for auth-conf with any cipher: rc4.
    let server = listen(&["--exec", "tr a-z A-Z", "--once"]);
    let out = connect(
        &server.addr,
        &["--qop", "auth-conf", "-v"],
        b"seal this\n".to_vec(),
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(out.stdout, b"SEAL THIS\n");
    assert!(stderr_of(&out).contains("auth-conf (rc4)"));
}

#[test]
fn a_wrong_password_is_refused_and_the_server_goes_on() {
    let mut server = listen(&["--echo"]);
    let out = common::connect(
        &server.addr,
        &["--sasl", "digest-md5", "--user", "alice"],
        &["--qop", "auth-int"],
        &[("SEALCAT_PASSWORD", "wrong")],
        Vec::new(),
    );
    assert_fails(&out, 1, "wrong user name or password");
    let line = server.next_line();
    assert!(line.contains("wrong user name or password"), "{line}");
    // An unknown user gets the same answer, and the server still serves the right password.
    let out = common::connect(
        &server.addr,
        &["--sasl", "digest-md5", "--user", "mallory"],
        &["--qop", "auth-int"],
        &[PASSWORD],
        Vec::new(),
    );
    assert_fails(&out, 1, "wrong user name or password");
    let out = connect(&server.addr, &["--qop", "auth-int"], b"still here".to_vec());
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(out.stdout, b"still here");
}

#[test]
fn layers_the_server_does_not_offer_are_refused() {
    let server = listen(&["--echo", "--qop", "auth-int"]);
    let out = connect(&server.addr, &["--qop", "auth-conf"], Vec::new());
    assert_fails(&out, 1, "the server offers qop [\"auth-int\"]");
    // Weak ciphers need the opt-in on the server too.
    let server = listen(&["--echo"]);
    let out = connect(
        &server.addr,
        &[
            "--qop",
            "auth-conf",
            "--cipher",
            "rc4-40",
            "--legacy-ciphers",
        ],
        Vec::new(),
    );
    assert_fails(&out, 1, "SASL authentication with");
}

#[test]
fn authorization_identities_need_the_servers_consent() {
    let server = listen(&["--echo", "--authzid", "backup"]);
    let out = connect(
        &server.addr,
        &["--qop", "auth-int", "--authzid", "backup", "-v"],
        b"x".to_vec(),
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("acting as backup"));
    let out = connect(
        &server.addr,
        &["--qop", "auth-int", "--authzid", "root"],
        Vec::new(),
    );
    assert_fails(&out, 1, "root");
}

#[test]
fn the_digest_uri_host_must_match() {
    let server = listen(&["--echo", "--sasl-host", "db.example"]);
    let out = connect(&server.addr, &["--qop", "auth-int"], Vec::new());
    assert_fails(&out, 1, "SASL authentication with");
    let out = connect(
        &server.addr,
        &["--qop", "auth-int", "--sasl-host", "db.example"],
        b"ok".to_vec(),
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
}

/// A proxy between client and server that flips one bit of the first frame the client sends
/// after the exchange (the client's second line ends the exchange on its side).
fn tampering_proxy(server: String) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let upstream = TcpStream::connect(server).unwrap();
        let (mut up_w, mut down_r, mut client_w) = (
            upstream.try_clone().unwrap(),
            upstream,
            client.try_clone().unwrap(),
        );
        let down = std::thread::spawn(move || {
            let _ = std::io::copy(&mut down_r, &mut client_w);
            let _ = client_w.shutdown(std::net::Shutdown::Write);
        });
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut flipped = false;
        loop {
            let n = match client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let start = seen.len();
            seen.extend_from_slice(&buf[..n]);
            if !flipped {
                // Two newlines: "AUTH DIGEST-MD5" and the response. Frames follow; flip a bit
                // of the first frame's body (past its 4-byte length).
                let newlines: Vec<usize> = seen
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i)
                    .collect();
                if let Some(&end) = newlines.get(1) {
                    let target = end + 1 + 4 + 3;
                    if target < seen.len() && target >= start {
                        buf[target - start] ^= 0x01;
                        flipped = true;
                    }
                }
            }
            if up_w.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = up_w.shutdown(std::net::Shutdown::Write);
        let _ = down.join();
    });
    (addr, handle)
}

#[test]
fn a_tampered_frame_is_refused_and_nothing_of_it_is_delivered() {
    let mut server = listen(&["--once", "--exec", "cat > /dev/null; echo never"]);
    let (proxy, handle) = tampering_proxy(server.addr.clone());
    let out = connect(
        &proxy,
        &["--qop", "auth-conf", "--cipher", "rc4"],
        pattern(9, 10_000),
    );
    let line = server.next_line();
    assert!(line.contains("SEC_E_MESSAGE_ALTERED"), "{line}");
    // The command never saw its input end, so it never answered: nothing reached the client.
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
    handle.join().unwrap();
}

#[test]
fn bad_input_gives_one_line_and_a_non_zero_exit() {
    let base = ["connect", "127.0.0.1:9", "--sasl", "digest-md5"];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        run(&args)
    };
    assert_fails(&with(&["--qop", "auth-int"]), 2, "--user");
    assert_fails(
        &with(&["--user", "a", "--password", "p", "--qop", "auth"]),
        2,
        "auth",
    );
    assert_fails(
        &with(&[
            "--user",
            "a",
            "--password",
            "p",
            "--qop",
            "auth-int",
            "--tls",
        ]),
        2,
        "--tls",
    );
    assert_fails(
        &with(&[
            "--user",
            "a",
            "--password",
            "p",
            "--qop",
            "auth-int",
            "--insecure",
        ]),
        2,
        "--insecure",
    );
    assert_fails(
        &with(&["--user", "a", "--password", "p", "--cipher", "rc4"]),
        2,
        "--qop",
    );
    assert_fails(
        &run(&["listen", "127.0.0.1:0", "--tls", "--cipher", "rc4"]),
        2,
        "--tls",
    );
    assert_fails(
        &with(&[
            "--user",
            "a",
            "--password",
            "p",
            "--qop",
            "auth-int",
            "--cipher",
            "rc4",
        ]),
        1,
        "auth-conf",
    );
    assert_fails(
        &with(&[
            "--user",
            "a",
            "--password",
            "p",
            "--qop",
            "auth-conf",
            "--cipher",
            "des",
        ]),
        1,
        "--legacy-ciphers",
    );
    assert_fails(
        &with(&[
            "--user",
            "a",
            "--password",
            "p",
            "--qop",
            "auth-conf",
            "--cipher",
            "aes",
        ]),
        1,
        "unknown cipher",
    );
    assert_fails(
        &run(&["connect", "127.0.0.1:9", "--user", "a", "--tls"]),
        2,
        "cannot be used with '--tls'",
    );
    assert_fails(
        &run(&[
            "listen",
            "127.0.0.1:0",
            "--sasl",
            "kerberos_v4",
            "--user",
            "a",
        ]),
        2,
        "kerberos_v4",
    );

    // A peer that is not a sealcat SASL server.
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = plain.local_addr().unwrap().to_string();
    let talker = std::thread::spawn(move || {
        let (mut conn, _) = plain.accept().unwrap();
        let _ = conn.write_all(b"* OK IMAP4rev1 ready\r\n");
        let mut sink = [0u8; 64];
        let _ = conn.read(&mut sink);
    });
    let out = connect(&addr, &["--qop", "auth-int"], Vec::new());
    assert_fails(&out, 1, "not a sealcat SASL server");
    talker.join().unwrap();
}
