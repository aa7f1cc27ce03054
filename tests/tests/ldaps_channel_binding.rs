//! LDAP channel binding (what Active Directory calls "Extended Protection for Authentication"):
//! `ldap_search` over `ldaps://` binds with GSS-SPNEGO and NTLM carrying the
//! `tls-server-end-point` binding of the server's certificate, and our LDAP server example,
//! whose NTLM acceptor knows its own certificate's binding, checks it. A client that reached
//! the server through another TLS channel (a relay presenting another certificate) is refused.
//! No layer runs inside TLS, as Active Directory requires. (Samba 4.17, the DC of
//! `samba_ad.rs`, does not check channel bindings; 4.21 does.)

use std::sync::Arc;

use sealstream_examples::ldap_server::{Session, serve};
use sealstream_interop::tls;
use sealstream_negotiate::AcceptorOptions as SpnegoAcceptor;
use sealstream_negotiate::sasl::SpnegoServer;
use sealstream_ntlm::{AcceptorOptions, NtHash};
use sealstream_sasl::{Layer, SecurityProperties};
use sealstream_tls::{ChannelBinding, TlsAcceptor};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod ldap_search_support;

use ldap_search_support::ldap_search;

const PASSWORD: &str = "Alice-Pass-1234";

/// An LDAPS server for one connection with `id`'s certificate, whose NTLM acceptor expects
/// the channel bindings of `expected`'s certificate: its port and what the connection did.
async fn ldaps_server(
    id: &tls::Identity,
    expected: &tls::Identity,
) -> (u16, JoinHandle<Result<Session, String>>) {
    let acceptor = TlsAcceptor::new(tls::server(id, true, None));
    // What a client that reached us through `expected`'s channel computes.
    let mut bindings = b"tls-server-end-point:".to_vec();
    bindings.extend_from_slice(&{
        use sha2::Digest;
        sha2::Sha256::digest(expected.cert.as_ref()).to_vec()
    });
    let lookup = |_: &str, user: &str| (user == "alice").then(|| NtHash::from_password(PASSWORD));
    let ntlm = AcceptorOptions::new("SEALSTREAM", "LDAP").channel_bindings(bindings);
    let props = SecurityProperties {
        min_ssf: 0,
        max_ssf: 0,
        ..SecurityProperties::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let session = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let stream = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        let ours = stream
            .seal_half()
            .info()
            .channel_binding(ChannelBinding::TlsServerEndPoint)
            .map_err(|e| e.to_string())?;
        assert_eq!(ours.len(), 32, "SHA-256 of an ECDSA-SHA256 certificate");
        let server = SpnegoServer::new(SpnegoAcceptor::new().ntlm(ntlm), Arc::new(lookup), props);
        serve(stream, Box::new(server)).await
    });
    (port, session)
}

async fn search(
    port: u16,
    ca: &std::path::Path,
) -> Result<ldap_search_support::Output, sealstream_examples::ldap_search::Failure> {
    let url = format!("ldaps://127.0.0.1:{port}");
    ldap_search(&[
        "ldap_search",
        "--url",
        &url,
        "--server-name",
        "localhost",
        "--ca",
        ca.to_str().unwrap(),
        "--mech",
        "gss-spnego",
        "--user",
        r"SEALSTREAM\alice",
        "--password",
        PASSWORD,
        "--qop",
        "auth",
        "--base",
        "",
        "--scope",
        "base",
        "-v",
    ])
    .await
}

#[tokio::test]
async fn ntlm_over_ldaps_carries_the_channel_binding_our_acceptor_checks() {
    let id = tls::identity();
    let ca = std::env::temp_dir().join(format!("sealstream-ldaps-{}.pem", std::process::id()));
    std::fs::write(&ca, &id.cert_pem).unwrap();

    // The binding of the certificate the client saw: accepted, no layer inside TLS.
    let (port, session) = ldaps_server(&id, &id).await;
    let out = search(port, &ca).await;
    let session = session.await.unwrap().unwrap();
    let outcome = session.outcome.expect("bound");
    assert_eq!(outcome.layer, Layer::None);
    assert_eq!(outcome.authcid, r"SEALSTREAM\alice");
    // Our server answers searches with unwillingToPerform: the bind is what is tested.
    let failure = out.unwrap_err();
    assert_eq!(failure.exit_code, 53, "{failure}");
    assert!(failure.message.starts_with("search failed"), "{failure}");

    // The server expects another certificate's binding (the client's TLS ended elsewhere).
    let other = tls::identity();
    let (port, session) = ldaps_server(&id, &other).await;
    let failure = search(port, &ca).await.unwrap_err();
    assert_eq!(failure.exit_code, 49, "{failure}");
    assert!(failure.message.contains("channel bindings"), "{failure}");
    // The server's side of it: the bind failed, for that reason.
    let error = session.await.unwrap().unwrap_err();
    assert!(error.contains("channel bindings"), "{error}");
    let _ = std::fs::remove_file(&ca);
}
