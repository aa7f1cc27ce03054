//! Our SASL GSSAPI server and Kerberos acceptor under an LDAP client of another
//! implementation: OpenLDAP's `ldapwhoami -Y GSSAPI` (Cyrus SASL's GSSAPI plugin over MIT
//! krb5 1.20's GSS-API library) binds to the `ldap_whoami_server` example's server with a
//! ticket from `kinit`, negotiates integrity or confidentiality, and reads its own name back
//! through the layer. One MIT KDC serves the binary (`sealstream_interop::mitkdc`).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use sealstream_examples::ldap_server::{Session, serve};
use sealstream_interop::mitkdc::{self, Kdc, REALM};
use sealstream_krb5::Keytab;
use sealstream_krb5::gss::{Acceptor, AcceptorOptions};
use sealstream_krb5::sasl::GssapiServer;
use sealstream_sasl::{Layer, SecurityProperties};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Our server for one connection, with the keys of `keytab`, offering any layer: its port and
/// what the connection did.
async fn serve_one(keytab: &Path) -> (u16, JoinHandle<Result<Session, String>>) {
    let keytab = Keytab::read(keytab).unwrap();
    let acceptor = Arc::new(Acceptor::new(keytab, None, AcceptorOptions::default()));
    let props = SecurityProperties {
        min_ssf: 1,
        max_ssf: 256,
        maxbuf: 65536,
        ..SecurityProperties::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let session = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        serve(tcp, Box::new(GssapiServer::new(acceptor, props))).await
    });
    (port, session)
}

/// `ldapwhoami -N -Y GSSAPI -O SECPROPS -H ldap://localhost:PORT` with alice's cache.
async fn ldapwhoami(kdc: &Kdc, cache: &Path, port: u16, secprops: &str) -> Output {
    let mut command = Command::new("ldapwhoami");
    command
        .args(["-N", "-Y", "GSSAPI", "-O", secprops, "-H"])
        .arg(format!("ldap://localhost:{port}"))
        .env("KRB5_CONFIG", kdc.dir.join("krb5.conf"))
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()));
    tokio::task::spawn_blocking(move || command.output().expect("ldapwhoami runs"))
        .await
        .unwrap()
}

fn alices_cache(kdc: &Kdc, name: &str) -> std::path::PathBuf {
    let cache = kdc.dir.join(name);
    kdc.kinit("alice", "alice-password", &cache);
    cache
}

#[tokio::test]
async fn cyrus_ldapwhoami_binds_signed_and_sealed() {
    let Some(kdc) = mitkdc::kdc() else { return };
    if sealstream_interop::peer::require("ldapwhoami").is_none() {
        return;
    }
    let cache = alices_cache(kdc, "whoami-alice.ccache");
    // MIT's library asks for aes256-cts-hmac-sha1-96 first: that is the session key's type.
    for (secprops, layer, ssf) in [
        ("minssf=1,maxssf=1", Layer::Integrity, 1),
        (
            "minssf=56",
            Layer::Confidentiality {
                cipher: "aes256-cts-hmac-sha1-96",
            },
            256,
        ),
    ] {
        let (port, session) = serve_one(&kdc.dir.join("service.keytab")).await;
        let out = ldapwhoami(kdc, &cache, port, secprops).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{secprops}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("u:alice@{REALM}\n"),
            "{secprops}"
        );
        assert!(stderr.contains(&format!("SASL SSF: {ssf}")), "{stderr}");
        let session = session.await.unwrap().unwrap();
        let outcome = session.outcome.expect("bound");
        assert_eq!(outcome.authcid, format!("alice@{REALM}"));
        assert_eq!((outcome.layer, outcome.ssf), (layer, ssf), "{secprops}");
        assert_eq!(session.who_am_i, 1);
    }
}

/// A server without a key for ldap/localhost cannot read alice's ticket: the bind fails with
/// invalidCredentials and the server says which key it lacks.
#[tokio::test]
async fn a_server_without_the_service_key_refuses_the_bind() {
    let Some(kdc) = mitkdc::kdc() else { return };
    if sealstream_interop::peer::require("ldapwhoami").is_none() {
        return;
    }
    let cache = alices_cache(kdc, "whoami-refused.ccache");
    // alice's own keytab holds only her keys.
    let (port, session) = serve_one(&kdc.dir.join("alice.keytab")).await;
    let out = ldapwhoami(kdc, &cache, port, "minssf=1").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(49), "{stderr}");
    assert!(stderr.contains("Invalid credentials"), "{stderr}");
    let err = session.await.unwrap().unwrap_err();
    assert!(err.contains(&format!("ldap/localhost@{REALM}")), "{err}");
}
