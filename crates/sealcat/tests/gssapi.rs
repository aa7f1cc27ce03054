//! `sealcat connect --sasl gssapi` and `sealcat listen --sasl gssapi` as a user runs them, with
//! tickets from MIT krb5 1.20's KDC on loopback (tests/peers/mitkdc.sh; one KDC for this test
//! binary): from `kinit`'s credential cache, from a password, both layers end to end in frames
//! far smaller than the data, and what a missing or wrong credential gives.

use std::path::Path;

mod common;

use common::{Listener, assert_fails, pattern, stderr_of};
use sealstream_interop::mitkdc::{self, Kdc, REALM};

/// `sealcat listen --sasl gssapi --keytab` the KDC's service keytab, with `args`.
fn listen(kdc: &Kdc, args: &[&str]) -> Listener {
    let keytab = kdc.dir.join("service.keytab");
    let listener = common::listen(
        &["--sasl", "gssapi", "--keytab", keytab.to_str().unwrap()],
        args,
        &[],
    );
    assert!(
        listener.banner.contains(&format!(
            "SASL GSSAPI as host/localhost@{REALM}, ldap/localhost@{REALM}, \
             imap/localhost@{REALM}, sealcat/localhost@{REALM}"
        )),
        "{}",
        listener.banner
    );
    listener
}

/// `sealcat connect ADDR --sasl gssapi --sasl-host localhost ARGS` with the KDC's krb5.conf,
/// the credential cache `cache` and `input` on stdin.
fn connect(
    kdc: &Kdc,
    addr: &str,
    cache: &Path,
    args: &[&str],
    input: Vec<u8>,
) -> std::process::Output {
    let krb5_conf = kdc.dir.join("krb5.conf");
    let ccname = format!("FILE:{}", cache.display());
    common::connect(
        addr,
        &["--sasl", "gssapi", "--sasl-host", "localhost"],
        args,
        &[
            ("KRB5_CONFIG", krb5_conf.to_str().unwrap()),
            ("KRB5CCNAME", &ccname),
        ],
        input,
    )
}

#[test]
fn both_layers_echo_with_tickets_from_kinit() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let cache = kdc.dir.join("sealcat-alice.ccache");
    kdc.kinit("alice", "alice-password", &cache);
    // alice's ticket to sealcat/localhost has the KDC's choice of session key: the first of
    // our enctypes the service has, aes256-cts-hmac-sha384-192.
    let cases = [
        ("auth-int", "layer auth-int, SSF 1"),
        (
            "auth-conf",
            "layer auth-conf (aes256-cts-hmac-sha384-192), SSF 256",
        ),
    ];
    for (i, (qop, expected)) in cases.into_iter().enumerate() {
        let mut server = listen(kdc, &["--echo", "--once", "-v"]);
        let data = pattern(i as u8, 300_000);
        let args = ["--qop", qop, "--maxbuf", "1024", "-v"];
        let out = connect(kdc, &server.addr, &cache, &args, data.clone());
        let err = stderr_of(&out);
        assert!(out.status.success(), "{qop}: {err}");
        assert!(out.stdout == data, "{qop}: echoed bytes differ");
        assert!(
            err.contains(&format!("GSSAPI as alice@{REALM}, {expected}")),
            "{qop}: {err}"
        );
        assert!(err.contains("maxbuf ours 1024 / peer's 65536"), "{err}");
        let line = server.next_line();
        assert!(line.contains(expected), "the server agrees: {line}");
        assert!(line.contains("peer's 1024"), "{line}");
        assert!(server.child.wait().unwrap().success());
    }
}

#[test]
fn a_password_gets_the_tickets_when_given() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let server = listen(
        kdc,
        &["--exec", "tr a-z A-Z", "--once", "--qop", "auth-int"],
    );
    let krb5_conf = kdc.dir.join("krb5.conf");
    let out = common::connect(
        &server.addr,
        &["--sasl", "gssapi", "--sasl-host", "localhost"],
        &[
            "--user",
            "carol",
            "--krb5-config",
            krb5_conf.to_str().unwrap(),
            "-v",
        ],
        &[("SEALCAT_PASSWORD", "carol-password")],
        b"sign this\n".to_vec(),
    );
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(out.stdout, b"SIGN THIS\n");
    assert!(
        err.contains(&format!("GSSAPI as carol@{REALM}, layer auth-int")),
        "{err}"
    );
}

#[test]
fn missing_or_wrong_credentials_fail_with_one_line() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let server = listen(kdc, &["--echo"]);
    // No credential cache: nothing is sent to the server.
    let nowhere = Path::new("/nonexistent/krb5cc");
    let out = connect(kdc, &server.addr, nowhere, &[], Vec::new());
    assert_fails(&out, 1, "has kinit been run?");
    // A wrong password is the KDC's refusal.
    let out = common::connect(
        &server.addr,
        &["--sasl", "gssapi", "--sasl-host", "localhost"],
        &["--user", "alice"],
        &[
            ("SEALCAT_PASSWORD", "not her password"),
            ("KRB5_CONFIG", kdc.dir.join("krb5.conf").to_str().unwrap()),
        ],
        Vec::new(),
    );
    assert_fails(&out, 1, "SEC_E_LOGON_DENIED");
    // A service the KDC does not know.
    let cache = kdc.dir.join("sealcat-refusals.ccache");
    kdc.kinit("alice", "alice-password", &cache);
    let out = common::connect(
        &server.addr,
        &["--sasl", "gssapi", "--sasl-host", "nowhere.example"],
        &[],
        &[
            ("KRB5_CONFIG", kdc.dir.join("krb5.conf").to_str().unwrap()),
            ("KRB5CCNAME", &format!("FILE:{}", cache.display())),
        ],
        Vec::new(),
    );
    assert_fails(&out, 1, "sealcat/nowhere.example");
    // DIGEST-MD5's options do not mix with GSSAPI.
    let out = connect(kdc, &server.addr, &cache, &["--cipher", "rc4"], Vec::new());
    assert_fails(&out, 1, "--sasl digest-md5");
    let out = common::run(&["listen", "127.0.0.1:0", "--sasl", "gssapi"]);
    assert_fails(&out, 2, "--keytab");
}

/// `--sasl gss-spnego` with no password is Kerberos inside SPNEGO: the ticket from `kinit`'s
/// cache, accepted with the keytab, both layers.
#[test]
fn gss_spnego_uses_kerberos_with_a_credential_cache() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let cache = kdc.dir.join("sealcat-spnego.ccache");
    kdc.kinit("alice", "alice-password", &cache);
    let keytab = kdc.dir.join("service.keytab");
    for (qop, expected) in [
        ("auth-int", "layer auth-int, SSF 1"),
        (
            "auth-conf",
            "layer auth-conf (aes256-cts-hmac-sha384-192), SSF 256",
        ),
    ] {
        let mut server = common::listen(
            &["--sasl", "gss-spnego", "--keytab", keytab.to_str().unwrap()],
            &["--echo", "--once", "-v"],
            &[],
        );
        assert!(
            server
                .banner
                .contains("SASL GSS-SPNEGO (Kerberos as host/localhost@"),
            "{}",
            server.banner
        );
        let krb5_conf = kdc.dir.join("krb5.conf");
        let ccname = format!("FILE:{}", cache.display());
        let data = pattern(9, 100_000);
        let out = common::connect(
            &server.addr,
            &["--sasl", "gss-spnego", "--sasl-host", "localhost"],
            &["--qop", qop, "-v"],
            &[
                ("KRB5_CONFIG", krb5_conf.to_str().unwrap()),
                ("KRB5CCNAME", &ccname),
            ],
            data.clone(),
        );
        let err = stderr_of(&out);
        assert!(out.status.success(), "{qop}: {err}");
        assert!(out.stdout == data, "{qop}: echoed bytes differ");
        assert!(
            err.contains(&format!("GSS-SPNEGO as alice@{REALM}, {expected}")),
            "{qop}: {err}"
        );
        assert!(server.next_line().contains(expected));
        assert!(server.child.wait().unwrap().success());
    }
}
