//! `--console`: with the `console` feature (and `--cfg tokio_unstable`) sealcat serves
//! tokio-console; without it, the flag says how to build a sealcat that can.
//!
//! CI runs this file in both builds (scripts/test-all).

mod common;

#[cfg(feature = "console")]
#[test]
fn the_console_server_answers_while_sealcat_listens() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut server = common::listen(
        &["--tls"],
        &["--echo", "--console"],
        &[("TOKIO_CONSOLE_BIND", bind.as_str())],
    );
    // The console's line may come before or after the listening line.
    let mut lines = server.banner.clone();
    while !lines.contains("tokio-console server on") {
        let line = server.next_line();
        assert!(!line.is_empty(), "sealcat ended: {lines}");
        lines.push_str(&line);
    }
    assert!(lines.contains(&bind), "{lines}");

    // tokio-console speaks gRPC, over HTTP/2: the server answers the connection preface and an
    // empty SETTINGS frame with a SETTINGS frame of its own.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        match TcpStream::connect(&bind) {
            Ok(conn) => break conn,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("the console server does not accept connections: {e}"),
        }
    };
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .unwrap();
    let mut frame = [0u8; 9];
    conn.read_exact(&mut frame).unwrap();
    assert_eq!(frame[3], 0x04, "an HTTP/2 SETTINGS frame: {frame:?}");

    // sealcat still does its job with the console on.
    let out = common::connect(
        &server.addr,
        &["--tls"],
        &["--insecure"],
        &[],
        b"ping".to_vec(),
    );
    assert!(out.status.success(), "{}", common::stderr_of(&out));
    assert_eq!(out.stdout, b"ping");
}

#[cfg(not(feature = "console"))]
#[test]
fn without_the_feature_console_says_how_to_build_it() {
    let out = common::run(&["bench", "--console"]);
    common::assert_fails(&out, 2, "--features console");
    assert!(common::stderr_of(&out).contains("tokio_unstable"));
}

#[cfg(feature = "console")]
#[test]
fn a_bad_console_address_is_one_line_not_a_panic() {
    let out = common::sealcat()
        .args([
            "bench",
            "--console",
            "--mode",
            "idle",
            "--idle-connections",
            "1",
        ])
        .env("TOKIO_CONSOLE_BIND", "not an address")
        .output()
        .expect("sealcat runs");
    common::assert_fails(&out, 2, "TOKIO_CONSOLE_BIND");
    assert!(!common::stderr_of(&out).contains("panicked"));
}
