//! sealstream-tls against rustls's own record layer (tokio-rustls), both ways, for TLS 1.3 and
//! 1.2 with each AEAD suite: bytes identical in both directions at once, clean close both ways;
//! plus key updates from either side, truncation, and tampering.

use std::io::ErrorKind;

use sealstream::{Control, Error, Status};
use sealstream_interop::{pattern, tcp_pair, tls};
use sealstream_tls::rustls::HandshakeKind;
use sealstream_tls::{ChannelBinding, TlsAcceptor, TlsConnector};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const LEN: usize = 4 * 1024 * 1024;

/// Send `up` and receive everything at once on `stream`, then close; returns what came back.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(stream: S, up: Vec<u8>) -> Vec<u8> {
    let (mut r, mut w) = tokio::io::split(stream);
    let send = async move {
        for chunk in up.chunks(50_000) {
            w.write_all(chunk).await.expect("write");
        }
        w.shutdown().await.expect("shutdown sends close_notify");
    };
    let recv = async move {
        let mut got = Vec::new();
        r.read_to_end(&mut got)
            .await
            .expect("read until close_notify");
        got
    };
    tokio::join!(send, recv).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_tokio_rustls_server_every_suite() {
    let id = tls::identity();
    for tls13 in [true, false] {
        for suite in tls::suites(tls13) {
            let (c, s) = tcp_pair().await.unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, tls13, Some(suite)));
            let server = tokio::spawn(async move {
                let stream = acceptor.accept(s).await.expect("tokio-rustls accepts");
                exchange(stream, pattern(2, LEN)).await
            });
            let connector = TlsConnector::new(tls::client(&id, tls13, Some(suite)));
            let client = connector
                .connect(tls::localhost(), c)
                .await
                .expect("handshake");
            let info = client.seal_half().info().clone();
            assert_eq!(info.suite().suite(), suite.suite());
            assert_eq!(info.is_tls13(), tls13);
            assert_eq!(info.server_name(), Some("localhost"));
            assert_eq!(info.peer_certificates().first(), Some(&id.cert));
            let at_client = exchange(client, pattern(1, LEN)).await;
            let at_server = server.await.unwrap();
            assert!(
                at_server == pattern(1, LEN),
                "{suite:?}: client to server differs"
            );
            assert!(
                at_client == pattern(2, LEN),
                "{suite:?}: server to client differs"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_rustls_client_against_our_server_every_suite() {
    let id = tls::identity();
    for tls13 in [true, false] {
        for suite in tls::suites(tls13) {
            let (c, s) = tcp_pair().await.unwrap();
            let acceptor = TlsAcceptor::new(tls::server(&id, tls13, Some(suite)));
            let server = tokio::spawn(async move {
                let stream = acceptor.accept(s).await.expect("handshake");
                let (r, w) = stream.into_split();
                // Our halves on two tasks.
                let send = tokio::spawn(async move {
                    let mut w = w;
                    for chunk in pattern(2, LEN).chunks(16 * 1024) {
                        w.write_all(chunk).await.unwrap();
                    }
                    w.shutdown().await.unwrap();
                    w
                });
                let mut r = r;
                let mut got = Vec::new();
                r.read_to_end(&mut got).await.unwrap();
                let w = send.await.unwrap();
                r.reunite(w).expect("own halves");
                got
            });
            let connector = tokio_rustls::TlsConnector::from(tls::client(&id, tls13, Some(suite)));
            let client = connector
                .connect(tls::localhost(), c)
                .await
                .expect("tokio-rustls connects");
            let at_client = exchange(client, pattern(1, LEN)).await;
            let at_server = server.await.unwrap();
            assert!(
                at_server == pattern(1, LEN),
                "{suite:?}: client to server differs"
            );
            assert!(
                at_client == pattern(2, LEN),
                "{suite:?}: server to client differs"
            );
        }
    }
}

#[tokio::test]
async fn key_updates_both_ways_with_tokio_rustls() {
    let id = tls::identity();
    let (c, s) = tcp_pair().await.unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, true, None));
    let server = tokio::spawn(async move {
        let mut stream = acceptor.accept(s).await.unwrap();
        let mut buf = vec![0u8; 5];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"first");
        // rustls asks us to update too (update_requested).
        stream.get_mut().1.refresh_traffic_keys().unwrap();
        stream
            .write_all(b"after the server's update")
            .await
            .unwrap();
        stream.flush().await.unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        // Sends the KeyUpdate we asked for, then close_notify.
        stream.shutdown().await.unwrap();
        rest
    });
    let client = TlsConnector::new(tls::client(&id, true, None))
        .connect(tls::localhost(), c)
        .await
        .unwrap();
    let (mut r, mut w) = client.into_split();
    w.write_all(b"first").await.unwrap();
    w.flush().await.unwrap();
    let mut buf = vec![0u8; 25];
    r.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"after the server's update");
    assert_eq!(r.unseal_half().key_updates_received(), 1);
    assert!(
        w.has_pending_control(),
        "the answer waits for the write half"
    );
    // Our own update, asking the server to update as well.
    w.queue_control(Control::KeyUpdate {
        update_requested: true,
    })
    .unwrap();
    w.write_all(b"second, under new keys").await.unwrap();
    w.shutdown().await.unwrap();
    assert_eq!(server.await.unwrap(), b"second, under new keys");
    let mut end = Vec::new();
    r.read_to_end(&mut end).await.unwrap();
    assert!(end.is_empty());
    assert_eq!(
        r.unseal_half().key_updates_received(),
        2,
        "the server answered our request"
    );
}

#[tokio::test]
async fn session_tickets_are_stored_and_resume() {
    tickets_and_resumption(true).await;
}

#[tokio::test]
async fn a_client_told_not_to_store_tickets_reads_past_them_and_never_resumes() {
    tickets_and_resumption(false).await;
}

/// Two connections of one connector to one acceptor: with tickets stored the second resumes.
async fn tickets_and_resumption(store: bool) {
    let id = tls::identity();
    let client_config = tls::client(&id, true, None);
    let connector = TlsConnector::new(client_config).store_session_tickets(store);
    let acceptor = TlsAcceptor::new(tls::server(&id, true, None));
    for round in 0..2 {
        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = acceptor.clone();
        let server = tokio::spawn(async move {
            let mut stream = acceptor.accept(s).await.unwrap();
            let kind = stream.seal_half().info().handshake_kind();
            assert_eq!(
                kind == HandshakeKind::Resumed,
                store && round > 0,
                "server, round {round}"
            );
            stream.write_all(b"hello").await.unwrap();
            stream.shutdown().await.unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await.unwrap();
        });
        let mut client = connector.connect(tls::localhost(), c).await.unwrap();
        let expected = if store && round > 0 {
            HandshakeKind::Resumed
        } else {
            HandshakeKind::Full
        };
        assert_eq!(
            client.seal_half().info().handshake_kind(),
            expected,
            "round {round}"
        );
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello");
        let stored = client.unseal_half().tickets_received();
        assert_eq!(stored >= 1, store, "round {round}: {stored} tickets stored");
        client.shutdown().await.unwrap();
        server.await.unwrap();
    }
}

#[tokio::test]
async fn eof_without_close_notify_is_truncation() {
    let id = tls::identity();
    let (c, s) = tcp_pair().await.unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, true, None));
    let server = tokio::spawn(async move {
        let mut stream = acceptor.accept(s).await.unwrap();
        stream.write_all(b"partial").await.unwrap();
        stream.flush().await.unwrap();
        // Close the TCP connection without close_notify.
        let (tcp, _) = stream.into_inner();
        drop(tcp);
    });
    let mut client = TlsConnector::new(tls::client(&id, true, None))
        .connect(tls::localhost(), c)
        .await
        .unwrap();
    let mut got = Vec::new();
    let err = client.read_to_end(&mut got).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(got, b"partial");
    server.await.unwrap();
}

#[tokio::test]
async fn tampered_record_is_refused_and_alerted() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let id = tls::identity();
    // client <-> proxy <-> server; the proxy flips the last bit of the first chunk it forwards
    // to the client once told the handshake is over. TLS 1.2: nothing follows the handshake
    // until the server writes.
    let (client_io, proxy_front) = tcp_pair().await.unwrap();
    let (proxy_back, server_io) = tcp_pair().await.unwrap();
    let flip = Arc::new(AtomicBool::new(false));
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, false, None));
    let server = tokio::spawn(async move {
        let mut stream = acceptor.accept(server_io).await.unwrap();
        wait.await.unwrap();
        stream.write_all(b"tamper with me").await.unwrap();
        stream.flush().await.unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap_err()
    });
    let proxy = {
        let flip = flip.clone();
        tokio::spawn(async move {
            let (mut fr, mut fw) = proxy_front.into_split();
            let (mut br, mut bw) = proxy_back.into_split();
            let up = tokio::spawn(async move {
                let _ = tokio::io::copy(&mut fr, &mut bw).await;
                let _ = bw.shutdown().await;
            });
            let mut buf = vec![0u8; 65536];
            let mut flipped = false;
            loop {
                let n = match br.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if !flipped && flip.load(Ordering::SeqCst) {
                    buf[n - 1] ^= 0x01;
                    flipped = true;
                }
                if fw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = fw.shutdown().await;
            let _ = up.await;
        })
    };
    let mut client = TlsConnector::new(tls::client(&id, false, None))
        .connect(tls::localhost(), client_io)
        .await
        .unwrap();
    flip.store(true, Ordering::SeqCst);
    go.send(()).unwrap();
    let mut got = Vec::new();
    let err = client.read_to_end(&mut got).await.unwrap_err();
    assert_eq!(
        Error::from_io(&err).map(Error::status),
        Some(Status::MessageAltered),
        "{err}"
    );
    assert!(got.is_empty(), "no unauthenticated byte handed out");
    // The write half sends the bad_record_mac alert the read half asked for.
    client.shutdown().await.unwrap();
    let server_err = server.await.unwrap();
    assert!(
        server_err.to_string().contains("BadRecordMac"),
        "server saw: {server_err}"
    );
    proxy.await.unwrap();
}

#[tokio::test]
async fn a_failed_handshake_tells_the_peer_why() {
    // Our client does not trust the server's certificate: tokio-rustls must hear the alert.
    let trusted = tls::identity();
    let served = tls::identity();
    let (c, s) = tcp_pair().await.unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&served, true, None));
    let server = tokio::spawn(async move { acceptor.accept(s).await.map(|_| ()).unwrap_err() });
    let err = TlsConnector::new(tls::client(&trusted, true, None))
        .connect(tls::localhost(), c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("certificate"), "{err}");
    let peer = server.await.unwrap().to_string();
    assert!(
        peer.contains("received fatal alert"),
        "the server only saw: {peer}"
    );

    // Our server speaks TLS 1.3 only, the client TLS 1.2 only: the client must hear the alert.
    let id = tls::identity();
    let (c, s) = tcp_pair().await.unwrap();
    let acceptor = TlsAcceptor::new(tls::server(&id, true, None));
    let server = tokio::spawn(async move { acceptor.accept(s).await.map(|_| ()).unwrap_err() });
    let connector = tokio_rustls::TlsConnector::from(tls::client(&id, false, None));
    let client_err = connector
        .connect(tls::localhost(), c)
        .await
        .map(|_| ())
        .unwrap_err();
    let ours = server.await.unwrap();
    assert_eq!(ours.kind(), ErrorKind::InvalidData, "{ours}");
    assert!(
        client_err.to_string().contains("received fatal alert"),
        "the client only saw: {client_err}"
    );
}

/// Both ends of a connection of ours, for `version`.
async fn our_pair(
    id: &tls::Identity,
    tls13: bool,
) -> (
    sealstream_tls::TlsStream<tokio::net::TcpStream>,
    sealstream_tls::TlsStream<tokio::net::TcpStream>,
) {
    let (c, s) = tcp_pair().await.unwrap();
    let acceptor = TlsAcceptor::new(tls::server(id, tls13, None));
    let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
    let client = TlsConnector::new(tls::client(id, tls13, None))
        .connect(tls::localhost(), c)
        .await
        .unwrap();
    (client, server.await.unwrap())
}

#[tokio::test]
async fn channel_bindings_agree_on_both_ends() {
    let id = tls::identity();
    for tls13 in [true, false] {
        let (client, server) = our_pair(&id, tls13).await;
        let (c, s) = (client.seal_half().info(), server.seal_half().info());

        let end_point = c
            .channel_binding(ChannelBinding::TlsServerEndPoint)
            .unwrap();
        assert_eq!(
            end_point,
            s.channel_binding(ChannelBinding::TlsServerEndPoint)
                .unwrap()
        );
        // An ECDSA-with-SHA256 certificate: SHA-256 of its DER (RFC 5929 §4.1).
        assert_eq!(end_point, sha2::Sha256::digest(id.cert.as_ref()).to_vec());

        let exporter = c.channel_binding(ChannelBinding::TlsExporter);
        if tls13 {
            let exporter = exporter.unwrap();
            assert_eq!(exporter.len(), 32);
            assert_eq!(
                exporter,
                s.channel_binding(ChannelBinding::TlsExporter).unwrap()
            );
        } else {
            let err = exporter.unwrap_err();
            assert_eq!(err.status(), Status::UnsupportedFunction);
            assert!(err.to_string().contains("TLS 1.3"), "{err}");
        }
        // The server learnt the name the client asked for.
        assert_eq!(s.server_name(), Some("localhost"));
    }
}

#[tokio::test]
async fn tls_exporter_matches_rustls_export_keying_material() {
    let id = tls::identity();
    for suite in tls::suites(true) {
        // Our client, tokio-rustls server.
        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, true, Some(suite)));
        let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
        let ours = TlsConnector::new(tls::client(&id, true, Some(suite)))
            .connect(tls::localhost(), c)
            .await
            .unwrap();
        let theirs = server.await.unwrap();
        let expected = theirs
            .get_ref()
            .1
            .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", Some(b""))
            .unwrap();
        let got = ours
            .seal_half()
            .info()
            .channel_binding(ChannelBinding::TlsExporter)
            .unwrap();
        assert_eq!(got, expected, "{:?}: our client", suite.suite());
        same_keying_material(ours.seal_half().info(), |len, label, context| {
            let conn = theirs.get_ref().1;
            conn.export_keying_material(vec![0u8; len], label, context)
                .unwrap()
        });

        // tokio-rustls client, our server.
        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = TlsAcceptor::new(tls::server(&id, true, Some(suite)));
        let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
        let theirs = tokio_rustls::TlsConnector::from(tls::client(&id, true, Some(suite)))
            .connect(tls::localhost(), c)
            .await
            .unwrap();
        let ours = server.await.unwrap();
        let expected = theirs
            .get_ref()
            .1
            .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", Some(b""))
            .unwrap();
        let got = ours
            .seal_half()
            .info()
            .channel_binding(ChannelBinding::TlsExporter)
            .unwrap();
        assert_eq!(got, expected, "{:?}: our server", suite.suite());
        same_keying_material(ours.seal_half().info(), |len, label, context| {
            let conn = theirs.get_ref().1;
            conn.export_keying_material(vec![0u8; len], label, context)
                .unwrap()
        });
    }
}

/// Keying material exported for several labels, contexts and lengths is what rustls exports
/// on the other end.
fn same_keying_material(
    ours: &sealstream_tls::TlsInfo,
    theirs: impl Fn(usize, &[u8], Option<&[u8]>) -> Vec<u8>,
) {
    // (label, context, bytes to export)
    type Case<'a> = (&'a [u8], Option<&'a [u8]>, usize);
    let cases: [Case<'_>; 4] = [
        (b"EXPERIMENTAL sealstream", Some(b"a context"), 32),
        (b"EXPERIMENTAL sealstream", None, 64),
        (b"EXTRACTOR-dtls_srtp", Some(b""), 60),
        (b"EXPERIMENTAL long", Some(&[7u8; 300]), 1000),
    ];
    for (label, context, len) in cases {
        let mut got = vec![0u8; len];
        ours.export_keying_material(&mut got, label, context)
            .unwrap();
        let expected = theirs(len, label, context);
        assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(label));
    }
    let err = ours
        .export_keying_material(&mut [0u8; 16], b"", None)
        .unwrap_err();
    assert_eq!(err.status(), sealstream::Status::InvalidParameter);
    if ours.is_tls13() {
        // Past what HKDF can expand (255 blocks of the hash) is refused, not truncated.
        let mut huge = vec![0u8; 255 * 48 + 1];
        let err = ours
            .export_keying_material(&mut huge, b"EXPERIMENTAL x", None)
            .unwrap_err();
        assert_eq!(err.status(), sealstream::Status::InvalidParameter);
    }
}

/// RFC 5705 on TLS 1.2, every suite, both directions: what rustls exports on the other end.
#[tokio::test]
async fn tls12_keying_material_matches_rustls() {
    let id = tls::identity();
    for suite in tls::suites(false) {
        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, false, Some(suite)));
        let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
        let ours = TlsConnector::new(tls::client(&id, false, Some(suite)))
            .connect(tls::localhost(), c)
            .await
            .unwrap();
        let theirs = server.await.unwrap();
        same_keying_material(ours.seal_half().info(), |len, label, context| {
            let conn = theirs.get_ref().1;
            conn.export_keying_material(vec![0u8; len], label, context)
                .unwrap()
        });

        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = TlsAcceptor::new(tls::server(&id, false, Some(suite)));
        let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
        let theirs = tokio_rustls::TlsConnector::from(tls::client(&id, false, Some(suite)))
            .connect(tls::localhost(), c)
            .await
            .unwrap();
        let ours = server.await.unwrap();
        same_keying_material(ours.seal_half().info(), |len, label, context| {
            let conn = theirs.get_ref().1;
            conn.export_keying_material(vec![0u8; len], label, context)
                .unwrap()
        });
    }
}

#[tokio::test]
async fn renewed_keys_are_followed_by_tokio_rustls() {
    let id = tls::identity();
    let (c, s) = tcp_pair().await.unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, true, None));
    let server = tokio::spawn(async move {
        let mut stream = acceptor.accept(s).await.unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.unwrap();
        got
    });
    let mut ours = TlsConnector::new(tls::client(&id, true, None))
        .renew_keys_after(50)
        .connect(tls::localhost(), c)
        .await
        .unwrap();
    ours.write_all(&pattern(9, LEN)).await.unwrap();
    ours.shutdown().await.unwrap();
    let records = LEN as u64 / 16384;
    let sent = ours.seal_half().key_updates_sent();
    assert!(
        sent >= records / 50,
        "{sent} KeyUpdates for {records} records"
    );
    assert!(server.await.unwrap() == pattern(9, LEN));
}

#[tokio::test]
async fn a_peer_that_does_not_speak_tls_gets_an_alert_and_we_an_error() {
    let id = tls::identity();
    let (c, mut s) = tcp_pair().await.unwrap();
    let peer = tokio::spawn(async move {
        let mut hello = [0u8; 5];
        s.read_exact(&mut hello).await.unwrap();
        assert_eq!(hello[0], 22, "a ClientHello record");
        s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            .await
            .unwrap();
        // Skip the rest of the ClientHello, then what follows is our alert.
        let len = u16::from_be_bytes([hello[3], hello[4]]) as usize;
        let mut rest = vec![0u8; len];
        s.read_exact(&mut rest).await.unwrap();
        let mut after = Vec::new();
        s.read_to_end(&mut after).await.unwrap();
        after
    });
    let err = TlsConnector::new(tls::client(&id, true, None))
        .connect(tls::localhost(), c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    let after = peer.await.unwrap();
    assert_eq!(after.first(), Some(&21), "an alert record: {after:?}");
    assert_eq!(after.len(), 7, "exactly one alert: {after:?}");
}

/// Accept one connection on `listener` (bound by the test, its client on a thread of its own)
/// and run our server's handshake on it.
async fn accept_one(
    listener: std::net::TcpListener,
    config: std::sync::Arc<rustls::ServerConfig>,
) -> sealstream_tls::TlsStream<tokio::net::TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let (tcp, _) = tokio::net::TcpListener::from_std(listener)
        .unwrap()
        .accept()
        .await
        .unwrap();
    TlsAcceptor::new(config).accept(tcp).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_sent_with_the_clients_finished_reaches_our_server() {
    // curl and browsers send their request in the same flight as their Finished. A TLS 1.3
    // server queues its session tickets on that Finished: they must go out before our record
    // layer takes over, or its sequence numbers are off by the tickets.
    use std::io::{Read, Write};
    let id = tls::identity();
    for tls13 in [true, false] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let config = tls::client(&id, tls13, None);
        let client = std::thread::spawn(move || {
            let mut sock = std::net::TcpStream::connect(addr).unwrap();
            let mut conn = rustls::ClientConnection::new(config, tls::localhost()).unwrap();
            // Written before the handshake: rustls sends it right after its Finished.
            conn.writer().write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
            let mut stream = rustls::Stream::new(&mut conn, &mut sock);
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply).unwrap();
            reply
        });
        let mut server = accept_one(listener, tls::server(&id, tls13, None)).await;
        let mut request = [0u8; 18];
        server.read_exact(&mut request).await.unwrap();
        assert_eq!(&request, b"GET / HTTP/1.1\r\n\r\n");
        server
            .write_all(b"HTTP/1.1 200 OK\r\n\r\nhello")
            .await
            .unwrap();
        server.shutdown().await.unwrap();
        let reply = tokio::task::spawn_blocking(move || client.join().unwrap())
            .await
            .unwrap();
        assert_eq!(reply, b"HTTP/1.1 200 OK\r\n\r\nhello", "TLS 1.3: {tls13}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_update_in_the_finished_flight_is_answered_after_the_hand_over() {
    // The client's Finished, a KeyUpdate asking for one back and a record under the new key
    // arrive in one segment; later the client updates its key again. A server that sends no
    // session tickets has nothing to write after the Finished, and rustls, shown the whole
    // segment, used to read on: it ratcheted its keys for the KeyUpdate and queued the answer,
    // which the hand-over dropped, so the client could not read the server's next record. Now
    // rustls never sees past the Finished, and our record layer answers.
    use std::io::{Read, Write};
    let id = tls::identity();
    for tickets in [0, 2] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let config = tls::client(&id, true, None);
        let client = std::thread::spawn(move || {
            let mut sock = std::net::TcpStream::connect(addr).unwrap();
            let mut conn = rustls::ClientConnection::new(config, tls::localhost()).unwrap();
            let mut flight = Vec::new();
            loop {
                while conn.wants_write() {
                    conn.write_tls(&mut flight).unwrap();
                }
                if !conn.is_handshaking() {
                    break; // the Finished stays in `flight`, unsent
                }
                sock.write_all(&flight).unwrap();
                flight.clear();
                conn.read_tls(&mut sock).unwrap();
                conn.process_new_packets().unwrap();
            }
            conn.refresh_traffic_keys().unwrap(); // a KeyUpdate with update_requested
            conn.writer().write_all(b"after ").unwrap();
            while conn.wants_write() {
                conn.write_tls(&mut flight).unwrap();
            }
            sock.write_all(&flight).unwrap();
            let mut stream = rustls::Stream::new(&mut conn, &mut sock);
            let mut first = [0u8; 5];
            stream.read_exact(&mut first).unwrap();
            stream.conn.refresh_traffic_keys().unwrap();
            stream.write_all(b"later").unwrap();
            stream.flush().unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).unwrap();
            [&first[..], &rest].concat()
        });
        let mut config = (*tls::server(&id, true, None)).clone();
        config.send_tls13_tickets = tickets;
        let mut server = accept_one(listener, std::sync::Arc::new(config)).await;
        let mut got = [0u8; 6];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"after ", "{tickets} tickets");
        server.write_all(b"first").await.unwrap();
        server.flush().await.unwrap();
        let mut got = [0u8; 5];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"later", "{tickets} tickets");
        server.write_all(b" and last").await.unwrap();
        server.shutdown().await.unwrap();
        assert_eq!(server.unseal_half().key_updates_received(), 2);
        assert_eq!(
            server.seal_half().key_updates_sent(),
            2,
            "each request answered"
        );
        let reply = tokio::task::spawn_blocking(move || client.join().unwrap())
            .await
            .unwrap();
        assert_eq!(reply, b"first and last", "{tickets} tickets");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_record_in_the_finished_flight_keeps_the_good_one_before_it() {
    // The client's Finished, a good record and a tampered one arrive in one segment. The good
    // record is delivered, the bad one is MESSAGE_ALTERED, and the handshake itself succeeds
    // (it used to fail, losing the good record, when rustls decrypted past the Finished).
    use std::io::{Read, Write};
    let id = tls::identity();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tls::client(&id, true, None);
    let client = std::thread::spawn(move || {
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        let mut conn = rustls::ClientConnection::new(config, tls::localhost()).unwrap();
        conn.writer().write_all(b"good").unwrap();
        conn.writer().write_all(b"bad!").unwrap();
        loop {
            if conn.wants_write() {
                let mut flight = Vec::new();
                while conn.wants_write() {
                    conn.write_tls(&mut flight).unwrap();
                }
                if !conn.is_handshaking() {
                    // Finished, "good", "bad!": corrupt the last record's tag.
                    *flight.last_mut().unwrap() ^= 1;
                    sock.write_all(&flight).unwrap();
                    break;
                }
                sock.write_all(&flight).unwrap();
            }
            conn.read_tls(&mut sock).unwrap();
            conn.process_new_packets().unwrap();
        }
        // Hold the socket until the server is done.
        let _ = sock.read(&mut [0u8; 1]);
    });
    // The handshake itself is sound: only the record after it was tampered with.
    let mut server = accept_one(listener, tls::server(&id, true, None)).await;
    let mut got = Vec::new();
    let err = server.read_to_end(&mut got).await.unwrap_err();
    assert_eq!(got, b"good");
    assert_eq!(
        Error::from_io(&err).map(Error::status),
        Some(Status::MessageAltered),
        "{err}"
    );
    drop(server);
    tokio::task::spawn_blocking(move || client.join().unwrap())
        .await
        .unwrap();
}

/// A config with 0-RTT early data is refused up front, never by a handshake failing halfway:
/// `try_new` says so at once, and a connector or acceptor made with `new` fails every handshake
/// with `InvalidInput` before writing a byte.
#[tokio::test]
async fn configs_with_early_data_are_refused_before_any_byte() {
    use tokio::io::AsyncReadExt;
    let id = tls::identity();
    let mut client = (*tls::client(&id, true, None)).clone();
    client.enable_early_data = true;
    let client = std::sync::Arc::new(client);
    let err = TlsConnector::try_new(client.clone()).unwrap_err();
    assert_eq!(err.status(), sealstream::Status::UnsupportedFunction);
    assert!(err.to_string().contains("enable_early_data"), "{err}");
    let (ours, mut peer) = tokio::io::duplex(1024);
    let err = TlsConnector::new(client)
        .connect(tls::localhost(), ours)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let mut sent = Vec::new();
    peer.read_to_end(&mut sent).await.unwrap();
    assert!(sent.is_empty(), "nothing was sent");

    let mut server = (*tls::server(&id, true, None)).clone();
    server.max_early_data_size = 16384;
    let server = std::sync::Arc::new(server);
    let err = TlsAcceptor::try_new(server.clone()).unwrap_err();
    assert!(err.to_string().contains("max_early_data_size"), "{err}");
    let (ours, _peer) = tokio::io::duplex(1024);
    let err = TlsAcceptor::new(server).accept(ours).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // Without early data both construct.
    assert!(TlsConnector::try_new(tls::client(&id, true, None)).is_ok());
    assert!(TlsAcceptor::try_new(tls::server(&id, true, None)).is_ok());
}

/// A server that picks its configuration from the ClientHello (tokio-rustls's
/// `LazyConfigAcceptor`): a tokio-rustls client asking for `localhost` with ALPN `h2` gets the
/// configuration whose certificate it trusts and which speaks h2, and the bytes read for the
/// ClientHello are replayed into that handshake. A client that sends no SNI gets the other
/// certificate and refuses it.
#[tokio::test]
async fn a_lazy_acceptor_picks_the_config_by_sni_and_alpn() {
    use sealstream_tls::LazyConfigAcceptor;
    let trusted = tls::identity();
    let other = tls::identity();
    let mut h2 = (*tls::server(&trusted, true, None)).clone();
    h2.alpn_protocols = vec![b"h2".to_vec()];
    let by_name = TlsAcceptor::new(std::sync::Arc::new(h2));
    let fallback = TlsAcceptor::new(tls::server(&other, true, None));
    let serve = |s| {
        let (by_name, fallback) = (by_name.clone(), fallback.clone());
        tokio::spawn(async move {
            let start = LazyConfigAcceptor::accept(s).await.unwrap();
            let asked = (start.server_name().map(str::to_owned), start.alpn().count());
            let acceptor = if start.server_name() == Some("localhost") {
                &by_name
            } else {
                &fallback
            };
            (asked, start.into_stream(acceptor).await)
        })
    };

    let (c, s) = tcp_pair().await.unwrap();
    let server = serve(s);
    let mut client = (*tls::client(&trusted, true, None)).clone();
    client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client));
    let mut theirs = connector.connect(tls::localhost(), c).await.unwrap();
    theirs.write_all(b"over the chosen config").await.unwrap();
    theirs.flush().await.unwrap();
    let (asked, ours) = server.await.unwrap();
    assert_eq!(asked, (Some("localhost".to_owned()), 2));
    let mut ours = ours.unwrap();
    assert_eq!(ours.seal_half().info().alpn(), Some(&b"h2"[..]));
    assert_eq!(ours.seal_half().info().server_name(), Some("localhost"));
    let mut got = [0u8; 22];
    ours.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"over the chosen config");

    // No SNI (an IP address): the fallback's certificate, which this client does not trust.
    let (c, s) = tcp_pair().await.unwrap();
    let server = serve(s);
    let ip = rustls::pki_types::ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let refused = TlsConnector::new(tls::client(&trusted, true, None))
        .connect(ip, c)
        .await;
    assert!(refused.is_err());
    let (asked, _) = server.await.unwrap();
    assert_eq!(asked, (None, 0));
}

/// What is not a ClientHello is answered with an alert and refused; a server that wants the
/// connection back for something else gets it with the bytes read.
#[tokio::test]
async fn a_lazy_acceptor_refuses_garbage_and_hands_the_transport_back() {
    use sealstream_tls::LazyConfigAcceptor;
    let (mut peer, ours) = tokio::io::duplex(4096);
    peer.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let err = LazyConfigAcceptor::accept(ours).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let mut alert = Vec::new();
    peer.read_to_end(&mut alert).await.unwrap();
    assert_eq!(alert.first(), Some(&21), "an alert record: {alert:?}");

    let id = tls::identity();
    let (c, s) = tcp_pair().await.unwrap();
    let client = tokio::spawn(async move {
        TlsConnector::new(tls::client(&id, true, None))
            .connect(tls::localhost(), c)
            .await
    });
    let start = LazyConfigAcceptor::accept(s).await.unwrap();
    let (_tcp, received) = start.into_inner();
    assert_eq!(received[0], 22, "a handshake record");
    drop(_tcp);
    assert!(client.await.unwrap().is_err());
}

/// A peer's fatal alert is matchable, not only text: after the handshake as
/// `sealstream::Error::peer_alert`, during it as the `rustls::Error` inside the `io::Error`.
#[tokio::test]
async fn a_peers_fatal_alert_is_matchable() {
    let id = tls::identity();
    let (mut client, server) = our_pair(&id, true).await;
    let alert = sealstream::AlertCode::fatal(sealstream_tls::alert::INTERNAL_ERROR);
    let (_server_reader, mut server_writer) = server.into_split();
    server_writer.queue_control(Control::Alert(alert)).unwrap();
    server_writer.flush().await.unwrap();
    let err = client.read_to_end(&mut Vec::new()).await.unwrap_err();
    let ours = Error::from_io(&err).expect("a sealstream error");
    assert_eq!(ours.peer_alert(), Some(alert), "{ours}");

    // During the handshake: a tokio-rustls server speaking TLS 1.3 only refuses our TLS 1.2
    // client with protocol_version.
    let (c, s) = tcp_pair().await.unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server(&id, true, None));
    let server = tokio::spawn(async move { acceptor.accept(s).await.map(|_| ()) });
    let err = TlsConnector::new(tls::client(&id, false, None))
        .connect(tls::localhost(), c)
        .await
        .unwrap_err();
    let rustls_err = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .expect("the handshake's rustls::Error");
    assert!(
        matches!(
            rustls_err,
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)
        ),
        "{rustls_err:?}"
    );
    let _ = server.await;
}

/// `accept_fallible` hands the transport back when the handshake fails, so a TLS port can
/// answer a plain-HTTP client in the clear.
#[tokio::test]
async fn a_fallible_accept_hands_the_transport_back() {
    let id = tls::identity();
    let (mut c, s) = tcp_pair().await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let acceptor = TlsAcceptor::new(tls::server(&id, true, None));
    let Err((err, mut tcp)) = acceptor.accept_fallible(s).await else {
        panic!("an HTTP request is not a ClientHello")
    };
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nthis port speaks TLS\n")
        .await
        .unwrap();
    tcp.shutdown().await.unwrap();
    let mut answer = Vec::new();
    c.read_to_end(&mut answer).await.unwrap();
    // rustls's alert record first, then our answer in the clear.
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(text.ends_with("this port speaks TLS\n"), "{text:?}");

    // A good client still gets a stream.
    let (c, s) = tcp_pair().await.unwrap();
    let server = tokio::spawn(async move { acceptor.accept_fallible(s).await.is_ok() });
    TlsConnector::new(tls::client(&id, true, None))
        .connect(tls::localhost(), c)
        .await
        .expect("a TLS client");
    assert!(server.await.unwrap(), "the TLS client got a stream");
}

/// `tls-unique` (TLS 1.2): both ends compute the same 12 bytes, for a full handshake (the
/// client's Finished) and a resumed one (the server's), a different value for each connection;
/// TLS 1.3 has none (RFC 9266's tls-exporter takes its place). Cyrus IMAP, which reads it from
/// OpenSSL, agrees too (`scram_sha_256_plus_binds_with_tls_unique_on_tls12`).
#[tokio::test]
async fn tls_unique_agrees_on_both_ends() {
    let id = tls::identity();
    let server_config = tls::server(&id, false, None);
    let acceptor = TlsAcceptor::new(server_config);
    let client_config = tls::client(&id, false, None);
    let connector = TlsConnector::new(client_config);
    let mut seen = Vec::new();
    for round in 0..2 {
        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = acceptor.clone();
        let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
        let client = connector.connect(tls::localhost(), c).await.unwrap();
        let server = server.await.unwrap();
        let unique = |stream: &sealstream_tls::TlsStream<tokio::net::TcpStream>| {
            stream
                .seal_half()
                .info()
                .channel_binding(ChannelBinding::TlsUnique)
                .unwrap()
        };
        let (ours, theirs) = (unique(&client), unique(&server));
        assert_eq!(ours.len(), 12, "round {round}");
        assert_eq!(ours, theirs, "round {round}");
        assert!(!seen.contains(&ours), "round {round}: a value of its own");
        seen.push(ours);
        let kind = client.seal_half().info().handshake_kind();
        assert_eq!(
            kind == HandshakeKind::Resumed,
            round == 1,
            "the second round resumes: {kind:?}"
        );
    }
    let (client, _server) = our_pair(&id, true).await;
    let err = client
        .seal_half()
        .info()
        .channel_binding(ChannelBinding::TlsUnique)
        .unwrap_err();
    assert_eq!(err.status(), Status::UnsupportedFunction);
}

/// A ClientHello that never ends costs a lazy acceptor a bounded amount: handshake records
/// announcing a message far larger than any ClientHello are refused by the time 64 KiB arrived.
#[tokio::test]
async fn a_lazy_acceptor_bounds_an_endless_client_hello() {
    use sealstream_tls::LazyConfigAcceptor;
    let (mut peer, ours) = tokio::io::duplex(1 << 20);
    let accept = tokio::spawn(LazyConfigAcceptor::accept(ours));
    // A ClientHello header announcing 16 MB, then full handshake records of filler.
    let mut first = vec![22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff];
    first.resize(5 + 0x4000, 0);
    let _ = peer.write_all(&first).await;
    let mut filler = vec![22, 3, 1, 0x40, 0x00];
    filler.resize(5 + 0x4000, 0);
    let mut sent = first.len();
    while !accept.is_finished() && sent < 1 << 20 {
        if peer.write_all(&filler).await.is_err() {
            break;
        }
        sent += filler.len();
        tokio::task::yield_now().await;
    }
    let err = accept.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    assert!(sent <= 128 * 1024, "{sent} bytes taken before the refusal");
}

/// A ClientHello sent one byte per record (rustls holds its discard back until the message is
/// whole) is joined and answered: thousands of tiny records, each handled without moving the
/// buffered ones again.
#[tokio::test]
async fn a_client_hello_in_one_byte_records_is_answered() {
    let id = tls::identity();
    // A real ClientHello, from our client.
    let (c, mut s) = tokio::io::duplex(1 << 16);
    let client = tokio::spawn(async move {
        TlsConnector::new(tls::client(&id, true, None))
            .connect(tls::localhost(), c)
            .await
            .map(|_| ())
    });
    let mut header = [0u8; 5];
    s.read_exact(&mut header).await.unwrap();
    let mut hello = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    s.read_exact(&mut hello).await.unwrap();
    client.abort();
    // The same bytes, one per handshake record.
    let mut wire = Vec::new();
    for byte in &hello {
        wire.extend_from_slice(&[22, 3, 1, 0, 1, *byte]);
    }
    let (ours, mut peer) = tokio::io::duplex(1 << 20);
    let acceptor = TlsAcceptor::new(tls::server(&tls::identity(), true, None));
    let server = tokio::spawn(async move { acceptor.accept(ours).await.map(|_| ()) });
    peer.write_all(&wire).await.unwrap();
    let mut answer = [0u8; 6];
    peer.read_exact(&mut answer).await.unwrap();
    assert_eq!(
        (answer[0], answer[5]),
        (22, 2),
        "a ServerHello after {} records",
        hello.len()
    );
    server.abort();
}
