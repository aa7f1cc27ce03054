//! A SASL security layer inside TLS, as LDAP StartTLS with a SASL bind or IMAP STARTTLS with a
//! layer runs it: sealstream-tls over TCP, a DIGEST-MD5 layer negotiated over it, and the
//! nested stream split into owned halves without a lock (each half over TLS's half over TCP's).
//! A megabyte each way at once, on both TLS versions, then the halves reunite and close.

use std::sync::Arc;

use sealstream::SealedStream;
use sealstream_interop::tls;
use sealstream_sasl::digest::{DigestClient, DigestClientConfig, DigestServer, DigestServerConfig};
use sealstream_sasl::{ClientMechanism, CredentialLookup, Secret, ServerMechanism, Step};
use sealstream_tls::{TlsAcceptor, TlsConnector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug)]
struct Alice;

impl CredentialLookup for Alice {
    fn lookup(&self, username: &str, _realm: &str) -> Option<Secret> {
        (username == "alice").then(|| Secret::password("secret"))
    }
}

/// The two ends of a DIGEST-MD5 `auth-conf` exchange, run in memory: their layers' sealers.
fn digest_layers() -> (sealstream_sasl::SaslSealer, sealstream_sasl::SaslSealer) {
    let mut config = DigestClientConfig::new("alice", "secret", "ldap", "localhost");
    config.props.min_ssf = 2;
    config.props.maxbuf = 4096;
    let mut client = Box::new(DigestClient::new(config));
    let mut server = Box::new(DigestServer::new(
        DigestServerConfig::new("ldap", "localhost", "localhost"),
        Arc::new(Alice),
    ));
    let Step::Continue(challenge) = server.start(None).unwrap() else {
        panic!("a challenge")
    };
    let Step::Continue(response) = client.step(&challenge).unwrap() else {
        panic!("a response")
    };
    let Step::Done(rspauth) = server.step(&response).unwrap() else {
        panic!("the end")
    };
    client.success(rspauth.as_deref()).unwrap();
    let client = client.into_layer().unwrap().expect("a layer");
    let server = server.into_layer().unwrap().expect("a layer");
    (client.into_sealer().unwrap(), server.into_sealer().unwrap())
}

async fn round(tls13: bool) {
    let id = tls::identity();
    let (c, s) = sealstream_interop::tcp_pair().await.unwrap();
    let acceptor = TlsAcceptor::new(tls::server(&id, tls13, None));
    let connector = TlsConnector::new(tls::client(&id, tls13, None));
    let (client_tls, server_tls) =
        tokio::join!(connector.connect(tls::localhost(), c), acceptor.accept(s));
    let (client_layer, server_layer) = digest_layers();
    let client = SealedStream::new(client_tls.unwrap(), client_layer);
    let server = SealedStream::new(server_tls.unwrap(), server_layer);

    // Both nested streams split without a lock: the halves' transports are TLS's halves.
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let down: Vec<u8> = (0..1_000_000u32).map(|i| (i * 11 % 239) as u8).collect();
    let (u, d) = (up.clone(), down.clone());
    let client_writes = tokio::spawn(async move {
        cw.write_all(&u).await.unwrap();
        cw.flush().await.unwrap();
        cw
    });
    let server_writes = tokio::spawn(async move {
        sw.write_all(&d).await.unwrap();
        sw.flush().await.unwrap();
        sw
    });
    let client_reads = tokio::spawn(async move {
        let mut got = vec![0u8; 1_000_000];
        cr.read_exact(&mut got).await.unwrap();
        (cr, got)
    });
    let mut got = vec![0u8; 1_000_000];
    sr.read_exact(&mut got).await.unwrap();
    assert!(got == up, "the client's megabyte arrives intact");
    let (cr, got) = client_reads.await.unwrap();
    assert!(got == down, "the server's megabyte arrives intact");

    let mut client = cr
        .reunite(client_writes.await.unwrap())
        .expect("one stream");
    let mut server = sr
        .reunite(server_writes.await.unwrap())
        .expect("one stream");
    client.write_all(b"bye").await.unwrap();
    client.shutdown().await.unwrap();
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"bye");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_layer_inside_tls13_splits_without_a_lock() {
    round(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_layer_inside_tls12_splits_without_a_lock() {
    round(false).await;
}
