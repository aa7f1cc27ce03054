//! sealstream-tls against OpenSSL, an independent TLS implementation, started by the tests on
//! loopback: our client with `openssl s_server`, `openssl s_client` with our server, for TLS 1.3
//! and 1.2 with each AEAD suite, data both ways at once, byte-identical; and a KeyUpdate sent
//! by openssl in the middle of a transfer.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sealstream_interop::peer::{connect_when_listening, free_port, require};
use sealstream_interop::{pattern, tls};
use sealstream_tls::{TlsAcceptor, TlsConnector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

const LEN: usize = 8 * 1024 * 1024;

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
    let dir = std::env::temp_dir().join(format!(
        "sealstream-openssl-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &id.cert_pem).unwrap();
    std::fs::write(&key, &id.key_pem).unwrap();
    (cert, key)
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
            let port = free_port();
            let mut args: Vec<String> = [
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-quiet",
                "-naccept",
                "1",
            ]
            .map(String::from)
            .to_vec();
            args.extend([
                "-cert".into(),
                cert.display().to_string(),
                "-key".into(),
                key.display().to_string(),
            ]);
            args.extend(version_args(tls13, name));
            let mut server = spawn(&openssl, &args);
            let tcp = connect_when_listening(port).await;
            let client = TlsConnector::new(tls::client(&id, tls13, Some(suite)))
                .connect(tls::localhost(), tcp)
                .await
                .unwrap_or_else(|e| panic!("{name}: handshake with s_server: {e}"));
            assert_eq!(client.seal_half().info().suite.suite(), suite.suite());
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
            assert_eq!(server.seal_half().info().suite.suite(), suite.suite());
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
    let port = free_port();
    // Without -quiet, s_server reads commands from stdin: "K" sends a KeyUpdate asking for ours.
    let args: Vec<String> = [
        "s_server",
        "-accept",
        &format!("127.0.0.1:{port}"),
        "-naccept",
        "1",
        "-tls1_3",
        "-cert",
        &cert.display().to_string(),
        "-key",
        &key.display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    let mut server = spawn(&openssl, &args);
    let tcp = connect_when_listening(port).await;
    let client = TlsConnector::new(tls::client(&id, true, None))
        .connect(tls::localhost(), tcp)
        .await
        .unwrap();
    let (mut r, mut w) = client.into_split();
    let mut stdin = server.stdin.take().unwrap();
    let mut stdout = server.stdout.take().unwrap();

    stdin.write_all(b"before the update\n").await.unwrap();
    stdin.flush().await.unwrap();
    let mut got = vec![0u8; 18];
    r.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"before the update\n");

    stdin.write_all(b"K\n").await.unwrap();
    stdin.flush().await.unwrap();
    // Give openssl time to send its KeyUpdate, then data under its new key.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stdin.write_all(b"after the update\n").await.unwrap();
    stdin.flush().await.unwrap();
    let mut got = vec![0u8; 17];
    r.read_exact(&mut got).await.unwrap();
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
