//! sealstream-tls against OpenSSL, an independent TLS implementation, started by the tests on
//! loopback: our client with `openssl s_server`, `openssl s_client` with our server, for TLS 1.3
//! and 1.2 with each AEAD suite, 32 MiB both ways at once, byte-identical; a KeyUpdate sent
//! by openssl in the middle of a transfer; session resumption both ways; channel bindings
//! against openssl's keying material exporter and `openssl dgst` of the certificate.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sealstream_interop::peer::{connect_when_listening, listening_port, require};
use sealstream_interop::{pattern, tls};
use sealstream_tls::rustls::HandshakeKind;
use sealstream_tls::{ChannelBinding, TlsAcceptor, TlsConnector};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const LEN: usize = 32 * 1024 * 1024;

/// OpenSSL's names for the suites `tls::suites` lists, in the same order.
fn openssl_suites(tls13: bool) -> [&'static str; 3] {
    if tls13 {
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
        ]
    } else {
        [
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
        ]
    }
}

fn version_args(tls13: bool, suite: &str) -> Vec<String> {
    if tls13 {
        vec!["-tls1_3".into(), "-ciphersuites".into(), suite.into()]
    } else {
        vec!["-tls1_2".into(), "-cipher".into(), suite.into()]
    }
}

/// The identity as PEM files in a fresh directory.
fn pem_files(id: &tls::Identity) -> (PathBuf, PathBuf) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sealstream-openssl-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &id.cert_pem).unwrap();
    std::fs::write(&key, &id.key_pem).unwrap();
    (cert, key)
}

/// `openssl s_server` arguments: listen on a port of its own choosing on 127.0.0.1 (see
/// [`server_port`]) with `cert` and `key` for `naccept` connections; `quiet` relays data only
/// (no session report, no commands).
fn s_server_args(cert: &Path, key: &Path, naccept: u32, quiet: bool) -> Vec<String> {
    let mut args: Vec<String> = ["s_server", "-accept", "127.0.0.1:0"]
        .map(String::from)
        .to_vec();
    if quiet {
        args.push("-quiet".into());
    }
    args.extend(["-naccept".into(), naccept.to_string()]);
    args.extend(["-cert".into(), cert.display().to_string()]);
    args.extend(["-key".into(), key.display().to_string()]);
    args
}

/// The port an `s_server` started by [`s_server_args`] listens on: it chose the port itself, so
/// no other process can hold it.
async fn server_port(server: &mut Child) -> u16 {
    let pid = server.id().expect("s_server is running");
    match listening_port(pid).await {
        Some(port) => port,
        None => {
            let mut stderr = String::new();
            if let Some(mut err) = server.stderr.take() {
                err.read_to_string(&mut stderr).await.ok();
            }
            panic!("s_server exited before it listened: {stderr}")
        }
    }
}

fn spawn(openssl: &Path, args: &[String]) -> Child {
    Command::new(openssl)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("openssl starts")
}

/// Push `down` into the peer's stdin and read `up.len()` bytes from its stdout, at the same
/// time as our end sends `up` and reads `down`.
async fn both_ways<S>(child: &mut Child, ours: S, up: Vec<u8>, down: Vec<u8>) -> (Vec<u8>, Vec<u8>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (mut r, mut w) = tokio::io::split(ours);
    let up_len = up.len();
    let down_len = down.len();
    let feed = async move {
        stdin.write_all(&down).await.unwrap();
        stdin.flush().await.unwrap();
        stdin
    };
    let send = async move {
        w.write_all(&up).await.unwrap();
        w.flush().await.unwrap();
        w
    };
    let at_peer = async move {
        let mut got = vec![0u8; up_len];
        stdout
            .read_exact(&mut got)
            .await
            .expect("peer printed what we sent");
        got
    };
    let at_us = async move {
        let mut got = vec![0u8; down_len];
        r.read_exact(&mut got)
            .await
            .expect("we read what the peer sent");
        (r, got)
    };
    let (_stdin, _w, at_peer, (_r, at_us)) = tokio::join!(feed, send, at_peer, at_us);
    (at_peer, at_us)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_with_openssl_s_server() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    let id = tls::identity();
    let (cert, key) = pem_files(&id);
    for tls13 in [true, false] {
        for (suite, name) in tls::suites(tls13).into_iter().zip(openssl_suites(tls13)) {
            let mut args = s_server_args(&cert, &key, 1, true);
            args.extend(version_args(tls13, name));
            let mut server = spawn(&openssl, &args);
            let port = server_port(&mut server).await;
            let tcp = connect_when_listening(port).await;
            let client = TlsConnector::new(tls::client(&id, tls13, Some(suite)))
                .connect(tls::localhost(), tcp)
                .await
                .unwrap_or_else(|e| panic!("{name}: handshake with s_server: {e}"));
            assert_eq!(client.seal_half().info().suite().suite(), suite.suite());
            let (at_peer, at_us) =
                both_ways(&mut server, client, pattern(3, LEN), pattern(4, LEN)).await;
            assert!(
                at_peer == pattern(3, LEN),
                "{name}: s_server received different bytes"
            );
            assert!(
                at_us == pattern(4, LEN),
                "{name}: we received different bytes"
            );
            server.kill().await.ok();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_with_our_server() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    let id = tls::identity();
    let (cert, _) = pem_files(&id);
    for tls13 in [true, false] {
        for (suite, name) in tls::suites(tls13).into_iter().zip(openssl_suites(tls13)) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let mut args: Vec<String> = [
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-quiet",
                "-servername",
                "localhost",
                "-verify_return_error",
            ]
            .map(String::from)
            .to_vec();
            args.extend(["-CAfile".into(), cert.display().to_string()]);
            args.extend(version_args(tls13, name));
            let mut client = spawn(&openssl, &args);
            let (tcp, _) = listener.accept().await.unwrap();
            let server = TlsAcceptor::new(tls::server(&id, tls13, Some(suite)))
                .accept(tcp)
                .await
                .unwrap_or_else(|e| panic!("{name}: handshake with s_client: {e}"));
            assert_eq!(server.seal_half().info().suite().suite(), suite.suite());
            let (at_peer, at_us) =
                both_ways(&mut client, server, pattern(5, LEN), pattern(6, LEN)).await;
            assert!(
                at_peer == pattern(5, LEN),
                "{name}: s_client received different bytes"
            );
            assert!(
                at_us == pattern(6, LEN),
                "{name}: we received different bytes"
            );
            client.kill().await.ok();
        }
    }
}

#[tokio::test]
async fn key_update_from_openssl_mid_transfer() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    let id = tls::identity();
    let (cert, key) = pem_files(&id);
    // Without -quiet, s_server reads commands from stdin: "K" sends a KeyUpdate asking for ours.
    let mut args = s_server_args(&cert, &key, 1, false);
    args.push("-tls1_3".into());
    let mut server = spawn(&openssl, &args);
    let port = server_port(&mut server).await;
    let tcp = connect_when_listening(port).await;
    let client = match TlsConnector::new(tls::client(&id, true, None))
        .connect(tls::localhost(), tcp)
        .await
    {
        Ok(client) => client,
        Err(e) => {
            server.start_kill().ok();
            let out = server.wait_with_output().await.expect("s_server ends");
            panic!(
                "handshake with s_server on port {port}: {e}; s_server said: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    let (mut r, mut w) = client.into_split();
    let mut stdin = server.stdin.take().unwrap();
    let mut stdout = server.stdout.take().unwrap();

    stdin.write_all(b"before the update\n").await.unwrap();
    stdin.flush().await.unwrap();
    let mut got = vec![0u8; 18];
    r.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"before the update\n");

    // s_server takes a stdin read as a command only when it holds nothing else, so the next
    // line goes out only once its KeyUpdate has reached our read half (which then queues the
    // answer for our write half), never in the same read as "K".
    stdin.write_all(b"K\n").await.unwrap();
    stdin.flush().await.unwrap();
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; 17];
        r.read_exact(&mut got).await.unwrap();
        (r, got)
    });
    tokio::time::timeout(Duration::from_secs(10), w.pending_control())
        .await
        .expect("openssl's KeyUpdate reaches our read half");
    stdin.write_all(b"after the update\n").await.unwrap();
    stdin.flush().await.unwrap();
    let (r, got) = reader.await.unwrap();
    assert_eq!(&got, b"after the update\n");
    assert_eq!(r.unseal_half().key_updates_received(), 1);

    // Our answer goes out before this data, under the old key; we then send under the new one,
    // which openssl can only decrypt if it received our KeyUpdate first.
    assert!(
        w.has_pending_control(),
        "the read half queued our KeyUpdate answer"
    );
    w.write_all(b"we updated too\n").await.unwrap();
    w.flush().await.unwrap();
    assert!(!w.has_pending_control());
    let mut printed = Vec::new();
    let mut buf = [0u8; 256];
    while !printed.ends_with(b"we updated too\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stdout.read(&mut buf))
            .await
            .expect("openssl prints our data")
            .unwrap();
        assert!(
            n > 0,
            "openssl ended: {}",
            String::from_utf8_lossy(&printed)
        );
        printed.extend_from_slice(&buf[..n]);
    }
    server.kill().await.ok();
}

/// Read `child`'s stdout lines until one contains `marker`; returns that line.
async fn line_with(child: &mut Child, marker: &str) -> String {
    let stdout = child.stdout.as_mut().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no {marker:?} from openssl; it printed {seen:#?}"))
            .unwrap();
        let Some(line) = line else {
            panic!("openssl ended without {marker:?}; it printed {seen:#?}");
        };
        if line.contains(marker) {
            return line;
        }
        seen.push(line);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The hex after "Keying material: " in openssl's session report.
async fn openssl_keying_material(child: &mut Child) -> String {
    let line = line_with(child, "Keying material:").await;
    line.rsplit(' ').next().unwrap().trim().to_string()
}

fn exporter_args() -> Vec<String> {
    [
        "-keymatexport",
        "EXPORTER-Channel-Binding",
        "-keymatexportlen",
        "32",
    ]
    .map(String::from)
    .to_vec()
}

#[tokio::test]
async fn tls_exporter_matches_openssl_both_ways() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    let id = tls::identity();
    let (cert, key) = pem_files(&id);
    for (suite, name) in tls::suites(true).into_iter().zip(openssl_suites(true)) {
        // Our client, s_server (which reports the exporter when not -quiet).
        let mut args = s_server_args(&cert, &key, 1, false);
        args.extend(version_args(true, name));
        args.extend(exporter_args());
        let mut server = spawn(&openssl, &args);
        let port = server_port(&mut server).await;
        let tcp = connect_when_listening(port).await;
        let ours = TlsConnector::new(tls::client(&id, true, Some(suite)))
            .connect(tls::localhost(), tcp)
            .await
            .unwrap();
        let theirs = openssl_keying_material(&mut server).await;
        let binding = ours
            .seal_half()
            .info()
            .channel_binding(ChannelBinding::TlsExporter)
            .unwrap();
        assert_eq!(hex(&binding), theirs, "{name}: our client");
        server.kill().await.ok();

        // s_client, our server.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut args: Vec<String> = [
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
        ]
        .map(String::from)
        .to_vec();
        args.extend(["-CAfile".into(), cert.display().to_string()]);
        args.extend(version_args(true, name));
        args.extend(exporter_args());
        let mut client = spawn(&openssl, &args);
        let (tcp, _) = listener.accept().await.unwrap();
        let ours = TlsAcceptor::new(tls::server(&id, true, Some(suite)))
            .accept(tcp)
            .await
            .unwrap();
        let theirs = openssl_keying_material(&mut client).await;
        let binding = ours
            .seal_half()
            .info()
            .channel_binding(ChannelBinding::TlsExporter)
            .unwrap();
        assert_eq!(hex(&binding), theirs, "{name}: our server");
        client.kill().await.ok();
    }
}

/// `openssl x509 -outform DER | openssl dgst -<hash>` of a PEM certificate, as hex.
async fn openssl_digest(openssl: &Path, cert_pem: &Path, hash: &str) -> String {
    let der = Command::new(openssl)
        .args(["x509", "-outform", "DER", "-in"])
        .arg(cert_pem)
        .output()
        .await
        .unwrap();
    assert!(der.status.success());
    let mut dgst = Command::new(openssl)
        .args(["dgst", &format!("-{hash}"), "-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    dgst.stdin
        .take()
        .unwrap()
        .write_all(&der.stdout)
        .await
        .unwrap();
    let out = dgst.wait_with_output().await.unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_uppercase()
}

#[tokio::test]
async fn tls_server_end_point_hash_follows_the_certificate_signature() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    // RFC 5929 §4.1: the certificate's own signature hash, SHA-256 in place of MD5 or SHA-1.
    let cases: [(&'static rcgen::SignatureAlgorithm, Option<&str>); 4] = [
        (&rcgen::PKCS_ECDSA_P256_SHA256, Some("sha256")),
        (&rcgen::PKCS_ECDSA_P384_SHA384, Some("sha384")),
        (&rcgen::PKCS_RSA_SHA512, Some("sha512")),
        (&rcgen::PKCS_ED25519, None),
    ];
    for (algorithm, hash) in cases {
        let id = tls::identity_signed_with(algorithm);
        let (cert, _) = pem_files(&id);
        for tls13 in [true, false] {
            if !tls13 && hash.is_none() {
                continue; // rustls offers no TLS 1.2 suite for Ed25519 keys with ECDSA ciphers.
            }
            let (client, server) = pair(&id, tls13).await;
            for info in [client.seal_half().info(), server.seal_half().info()] {
                let got = info.channel_binding(ChannelBinding::TlsServerEndPoint);
                match hash {
                    Some(hash) => assert_eq!(
                        hex(&got.unwrap()),
                        openssl_digest(&openssl, &cert, hash).await,
                        "{algorithm:?}"
                    ),
                    None => {
                        let err = got.unwrap_err();
                        assert_eq!(err.status(), sealstream::Status::UnsupportedFunction);
                        assert!(err.to_string().contains("Ed25519"), "{err}");
                    }
                }
            }
        }
    }
}

/// Both ends ours over TCP, any suite of the version.
async fn pair(
    id: &tls::Identity,
    tls13: bool,
) -> (
    sealstream_tls::TlsStream<tokio::net::TcpStream>,
    sealstream_tls::TlsStream<tokio::net::TcpStream>,
) {
    let (c, s) = sealstream_interop::tcp_pair().await.unwrap();
    let acceptor = TlsAcceptor::new(tls::server(id, tls13, None));
    let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
    let client = TlsConnector::new(tls::client(id, tls13, None))
        .connect(tls::localhost(), c)
        .await
        .unwrap();
    (client, server.await.unwrap())
}

#[tokio::test]
async fn our_client_resumes_with_openssl_s_server() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    let id = tls::identity();
    let (cert, key) = pem_files(&id);
    for tls13 in [true, false] {
        let mut args = s_server_args(&cert, &key, 2, true);
        args.push(if tls13 { "-tls1_3" } else { "-tls1_2" }.into());
        let mut server = spawn(&openssl, &args);
        let port = server_port(&mut server).await;
        let connector = TlsConnector::new(tls::client(&id, tls13, None));
        for round in 0..2 {
            let tcp = connect_when_listening(port).await;
            let mut ours = connector.connect(tls::localhost(), tcp).await.unwrap();
            let kind = ours.seal_half().info().handshake_kind();
            let expected = if round == 0 {
                HandshakeKind::Full
            } else {
                HandshakeKind::Resumed
            };
            assert_eq!(kind, expected, "TLS 1.3: {tls13}, round {round}");
            // A TLS 1.3 ticket arrives after the handshake: read until the data that follows it.
            ours.write_all(b"ping\n").await.unwrap();
            ours.flush().await.unwrap();
            let mut printed = [0u8; 5];
            server
                .stdout
                .as_mut()
                .unwrap()
                .read_exact(&mut printed)
                .await
                .unwrap();
            assert_eq!(&printed, b"ping\n");
            server
                .stdin
                .as_mut()
                .unwrap()
                .write_all(b"pong\n")
                .await
                .unwrap();
            server.stdin.as_mut().unwrap().flush().await.unwrap();
            let mut got = [0u8; 5];
            ours.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"pong\n");
            if tls13 {
                assert!(ours.unseal_half().tickets_received() >= 1);
            }
            ours.shutdown().await.unwrap();
        }
        server.kill().await.ok();
    }
}

#[tokio::test]
async fn openssl_s_client_resumes_with_our_server() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    let id = tls::identity();
    let (cert, _) = pem_files(&id);
    let session = cert.with_file_name("session.pem");
    for tls13 in [true, false] {
        let acceptor = TlsAcceptor::new(tls::server(&id, tls13, None));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        for round in 0..2 {
            let mut args: Vec<String> = [
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-servername",
                "localhost",
            ]
            .map(String::from)
            .to_vec();
            args.extend(["-CAfile".into(), cert.display().to_string()]);
            args.push(if tls13 { "-tls1_3" } else { "-tls1_2" }.into());
            let flag = if round == 0 { "-sess_out" } else { "-sess_in" };
            args.extend([flag.into(), session.display().to_string()]);
            let mut client = spawn(&openssl, &args);
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ours = acceptor.accept(tcp).await.unwrap();
            let kind = ours.seal_half().info().handshake_kind();
            let expected = if round == 0 {
                HandshakeKind::Full
            } else {
                HandshakeKind::Resumed
            };
            assert_eq!(kind, expected, "TLS 1.3: {tls13}, round {round}");
            // openssl reports the session as new or reused in its summary.
            let line = line_with(
                &mut client,
                if round == 0 {
                    "New, TLS"
                } else {
                    "Reused, TLS"
                },
            )
            .await;
            assert!(!line.is_empty());
            // Data after the handshake (and after our ticket) still flows.
            ours.write_all(b"hello\n").await.unwrap();
            ours.flush().await.unwrap();
            line_with(&mut client, "hello").await;
            // s_client writes the session file when it ends.
            client.stdin.take();
            let mut rest = Vec::new();
            let _ = ours.read_to_end(&mut rest).await;
            client.wait().await.unwrap();
        }
    }
}

#[tokio::test]
async fn openssl_follows_our_renewed_keys() {
    let Some(openssl) = require("openssl") else {
        return;
    };
    let id = tls::identity();
    let (cert, key) = pem_files(&id);
    let mut args = s_server_args(&cert, &key, 1, true);
    args.push("-tls1_3".into());
    let mut server = spawn(&openssl, &args);
    let port = server_port(&mut server).await;
    let tcp = connect_when_listening(port).await;
    let ours = TlsConnector::new(tls::client(&id, true, None))
        .renew_keys_after(64)
        .connect(tls::localhost(), tcp)
        .await
        .unwrap();
    let len = 8 * 1024 * 1024;
    let mut stdout = server.stdout.take().unwrap();
    let (r, mut w) = ours.into_split();
    let at_peer = async move {
        let mut got = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            let n = tokio::time::timeout(Duration::from_secs(10), stdout.read(&mut got[filled..]))
                .await
                .unwrap_or_else(|_| panic!("openssl stopped printing after {filled} bytes"))
                .unwrap();
            assert!(n > 0, "openssl ended after {filled} bytes");
            filled += n;
        }
        got
    };
    let send = async move {
        w.write_all(&pattern(11, len)).await.unwrap();
        w.flush().await.unwrap();
        w
    };
    let (got, w) = tokio::join!(at_peer, send);
    assert!(got == pattern(11, len), "openssl printed different bytes");
    assert!(w.seal_half().key_updates_sent() >= (len / 16384 / 64) as u64);
    drop(w.reunite(r).unwrap());
    server.kill().await.ok();
}
