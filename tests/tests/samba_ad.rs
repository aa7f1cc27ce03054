//! Kerberos V5, NTLM and Negotiate against a Samba 4.17 Active Directory domain controller on
//! loopback (tests/peers/samba-dc.sh), which requires LDAP signing as Active Directory does by
//! default: tickets from its KDC, and `ldap_search --mech gssapi`, `--mech ntlm` and `--mech
//! gss-spnego` (NTLM with a password, Kerberos with a `kinit` credential cache) reading entries
//! through a signing and a sealing layer where a simple bind, and a SASL bind without a layer,
//! are refused.
//!
//! Samba sends what Windows does and MIT does not: Wrap tokens rotated right (RRC 28 sealed, 12
//! signed), tokens under the acceptor's subkey, a PAC large enough that its KDC answers an
//! AS-REQ over UDP with KRB_ERR_RESPONSE_TOO_BIG. One DC serves the whole test binary
//! (`sealstream_interop::samba`).

use std::process::Command;

use sealstream::Status;
use sealstream_examples::ldap_search::Failure;
use sealstream_interop::samba::{self, ALICE_PASSWORD, BASE_DN, DC_NAME, LDAP_URL, REALM};
use sealstream_krb5::kdc::{ClientSecret, InitCredsOptions};
use sealstream_krb5::{Enctype, Principal};

mod ldap_search_support;

use ldap_search_support::{Output, ldap_search, pattern};

fn alice() -> Principal {
    Principal::parse("alice", Some(REALM)).unwrap()
}

fn password(p: &str) -> ClientSecret {
    ClientSecret::Password(p.to_owned().into())
}

const ALICE_DN: &str = "CN=alice,CN=Users,DC=sealstream,DC=test";

/// `ldap_search --mech ntlm` as `user` with `password`, to the DC at 127.0.0.1, with `args`
/// after those.
async fn ntlm_search(user: &str, password: &str, args: &[&str]) -> Result<Output, Failure> {
    password_search("ntlm", user, password, args).await
}

/// `ldap_search --mech MECH --user USER --password PASSWORD`, to the DC at 127.0.0.1, with
/// `args` after those.
async fn password_search(
    mech: &str,
    user: &str,
    password: &str,
    args: &[&str],
) -> Result<Output, Failure> {
    let mut argv = vec![
        "ldap_search",
        "--url",
        LDAP_URL,
        "--server-name",
        DC_NAME,
        "--mech",
        mech,
        "--user",
        user,
        "--password",
        password,
        "--timeout",
        "30",
        "-v",
    ];
    argv.extend_from_slice(args);
    ldap_search(&argv).await
}

/// `ldap_search --mech gssapi` as alice with her password, to the DC at 127.0.0.1 known to
/// SASL as dc1.sealstream.test, with `args` after those.
async fn search(dc: &samba::SambaDc, args: &[&str]) -> Result<Output, Failure> {
    let krb5_conf = dc.dir.join("krb5.conf");
    let krb5 = ["--krb5-config", krb5_conf.to_str().unwrap()];
    password_search(
        "gssapi",
        "alice",
        ALICE_PASSWORD,
        &[&krb5[..], args].concat(),
    )
    .await
}

#[tokio::test]
async fn tickets_from_the_samba_kdc() {
    let Some(dc) = samba::dc() else { return };
    let tgt = dc
        .config
        .get_tgt(
            alice(),
            password(ALICE_PASSWORD),
            InitCredsOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(tgt.server().to_string(), format!("krbtgt/{REALM}@{REALM}"));
    let ldap = Principal::service("ldap", DC_NAME, REALM);
    let ticket = dc.config.get_service_ticket(&tgt, ldap).await.unwrap();
    assert_eq!(
        ticket.server().to_string(),
        format!("ldap/{DC_NAME}@{REALM}")
    );
    assert_eq!(ticket.client().to_string(), format!("alice@{REALM}"));
    assert_eq!(ticket.session_key().enctype(), Enctype::Aes256CtsHmacSha196);

    let wrong = dc
        .config
        .get_tgt(
            alice(),
            password("not her password"),
            InitCredsOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Status::LogonDenied, "{wrong}");
    let nobody = dc
        .config
        .get_tgt(
            Principal::parse("nobody", Some(REALM)).unwrap(),
            password("x"),
            InitCredsOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(nobody.status(), Status::UnknownCredentials, "{nobody}");
}

/// The DC refuses a simple bind (Cyrus `ldapsearch -x`, alice's own password) and a GSSAPI bind
/// without a layer; with a signing or a sealing layer, alice's entry is read.
#[tokio::test(flavor = "current_thread")]
async fn signing_and_sealing_where_weaker_binds_are_refused() {
    let Some(dc) = samba::dc() else { return };
    let simple = Command::new("ldapsearch")
        .args(["-x", "-H", LDAP_URL, "-D", "alice@sealstream.test", "-w"])
        .args([
            ALICE_PASSWORD,
            "-b",
            BASE_DN,
            "(sAMAccountName=alice)",
            "cn",
        ])
        .output()
        .expect("ldapsearch runs");
    let said = String::from_utf8_lossy(&simple.stderr);
    assert_eq!(simple.status.code(), Some(8), "{said}");
    assert!(said.contains("Transport encryption required"), "{said}");

    // Under CN=Users: a search of the whole domain ends with a search reference to the
    // configuration partition.
    let find_alice = [
        "--base",
        "CN=Users,DC=sealstream,DC=test",
        "--filter",
        "(sAMAccountName=alice)",
        "sAMAccountName",
        "userPrincipalName",
    ];
    let no_layer = [&["--qop", "auth"][..], &find_alice].concat();
    let failure = search(dc, &no_layer).await.unwrap_err();
    assert_eq!(failure.exit_code, 8, "{failure}");
    assert!(
        // Samba 4.17 in AD's mode (SASL without a layer allowed over TLS only) words it so.
        failure.message.contains("strongerAuthRequired")
            && failure.message.contains("not allowed if TLS is used"),
        "{failure}"
    );

    let expected = format!(
        "dn: {ALICE_DN}\nsAMAccountName: alice\nuserPrincipalName: alice@sealstream.test\n\n"
    );
    for (qop, layer) in [
        ("auth-int", "layer auth-int, ssf 1;".to_owned()),
        (
            "auth-conf",
            format!(
                "layer auth-conf ({}), ssf 256;",
                Enctype::Aes256CtsHmacSha196
            ),
        ),
    ] {
        let args = [&["--qop", qop][..], &find_alice].concat();
        let out = search(dc, &args)
            .await
            .unwrap_or_else(|f| panic!("{qop}: {f}"));
        assert_eq!(out.ldif, expected, "{qop}");
        assert!(
            out.log
                .starts_with(&format!("ldap_search: bound as alice@{REALM}; {layer}")),
            "{qop}: {}",
            out.log
        );
    }
}

/// alice's 300,000-byte jpegPhoto, sealed and signed: at least five of Samba's 64 KiB frames,
/// and with our maxbuf at 4,096 at least 74 (our layer refuses any frame above the maxbuf it
/// announced, so a whole answer shows Samba keeps to it).
#[tokio::test(flavor = "current_thread")]
async fn a_300_kb_attribute_arrives_whole_through_either_layer() {
    let Some(dc) = samba::dc() else { return };
    let photo = pattern(0, 300_000);
    let expected = format!("dn: {ALICE_DN}\njpegPhoto: {photo}\n\n");
    for qop in ["auth-int", "auth-conf"] {
        for maxbuf in ["65536", "4096"] {
            let args = [
                "--qop",
                qop,
                "--maxbuf",
                maxbuf,
                "--scope",
                "base",
                "--base",
                ALICE_DN,
                "jpegPhoto",
            ];
            let out = search(dc, &args)
                .await
                .unwrap_or_else(|f| panic!("{qop}, maxbuf {maxbuf}: {f}"));
            assert!(
                out.ldif == expected,
                "{qop}, maxbuf {maxbuf}: {} bytes of LDIF differ from the {} expected",
                out.ldif.len(),
                expected.len()
            );
        }
    }
}

/// SASL NTLM, as Samba offers it: no layer is refused (result 8), a wrong password is result
/// 49, and with a signing or a sealing layer alice's entry is read, named the down-level way
/// or by her UPN.
#[tokio::test(flavor = "current_thread")]
async fn ntlm_signing_and_sealing_where_no_layer_is_refused() {
    let Some(_dc) = samba::dc() else { return };
    let find_alice = [
        "--base",
        "CN=Users,DC=sealstream,DC=test",
        "--filter",
        "(sAMAccountName=alice)",
        "sAMAccountName",
    ];
    let down_level = r"SEALSTREAM\alice";
    let failure = ntlm_search(
        down_level,
        ALICE_PASSWORD,
        &[&["--qop", "auth"][..], &find_alice].concat(),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.exit_code, 8, "{failure}");
    assert!(
        // Samba 4.17 in AD's mode (SASL without a layer allowed over TLS only) words it so.
        failure.message.contains("strongerAuthRequired")
            && failure.message.contains("not allowed if TLS is used"),
        "{failure}"
    );
    let failure = ntlm_search(
        down_level,
        "not-her-password",
        &[&["--qop", "auth-conf"][..], &find_alice].concat(),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.exit_code, 49, "{failure}");

    let expected = format!("dn: {ALICE_DN}\nsAMAccountName: alice\n\n");
    for (user, qop, layer) in [
        (down_level, "auth-int", "layer auth-int, ssf 1;"),
        (down_level, "auth-conf", "layer auth-conf (rc4), ssf 128;"),
        (
            "alice@sealstream.test",
            "auth-conf",
            "layer auth-conf (rc4), ssf 128;",
        ),
    ] {
        let args = [&["--qop", qop][..], &find_alice].concat();
        let out = ntlm_search(user, ALICE_PASSWORD, &args)
            .await
            .unwrap_or_else(|f| panic!("{user}, {qop}: {f}"));
        assert_eq!(out.ldif, expected, "{user}, {qop}");
        assert!(
            out.log
                .starts_with(&format!("ldap_search: bound as {user}; {layer}")),
            "{user}, {qop}: {}",
            out.log
        );
    }
}

/// alice's 300,000-byte jpegPhoto through NTLM's signing and sealing layers (both RC4-sealed
/// on the wire, as Samba does for LDAP).
#[tokio::test(flavor = "current_thread")]
async fn ntlm_a_300_kb_attribute_arrives_whole() {
    let Some(_dc) = samba::dc() else { return };
    let expected = format!("dn: {ALICE_DN}\njpegPhoto: {}\n\n", pattern(0, 300_000));
    for qop in ["auth-int", "auth-conf"] {
        let args = [
            "--qop",
            qop,
            "--scope",
            "base",
            "--base",
            ALICE_DN,
            "jpegPhoto",
        ];
        let out = ntlm_search(r"SEALSTREAM\alice", ALICE_PASSWORD, &args)
            .await
            .unwrap_or_else(|f| panic!("{qop}: {f}"));
        assert!(
            out.ldif == expected,
            "{qop}: {} bytes of LDIF differ",
            out.ldif.len()
        );
    }
}

/// A credential cache for alice, written by MIT's `kinit` with the DC's KDC.
fn kinit_alice(dc: &samba::SambaDc) -> std::path::PathBuf {
    let cache = dc.dir.join("alice.ccache");
    let mut kinit = Command::new("kinit")
        .arg(format!("alice@{REALM}"))
        .env("KRB5_CONFIG", dc.dir.join("krb5.conf"))
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("kinit runs");
    use std::io::Write;
    writeln!(kinit.stdin.take().unwrap(), "{ALICE_PASSWORD}").unwrap();
    assert!(kinit.wait().unwrap().success(), "kinit alice");
    cache
}

/// GSS-SPNEGO as Active Directory runs it, with each mechanism and each layer: NTLM with a
/// password (two round trips, the mechListMICs, then the rewound keystream), Kerberos with a
/// `kinit` cache (one round trip, the AP-REP in the successful bind); alice's entry and her
/// 300,000-byte jpegPhoto read whole; a wrong password is result 49.
#[tokio::test(flavor = "current_thread")]
async fn gss_spnego_with_ntlm_and_with_kerberos() {
    let Some(dc) = samba::dc() else { return };
    let ccache = kinit_alice(dc);
    let krb5_conf = dc.dir.join("krb5.conf");
    let ccache = ccache.to_str().unwrap();
    let krb5_conf = krb5_conf.to_str().unwrap();
    let kerberos_argv = [
        "ldap_search",
        "--url",
        LDAP_URL,
        "--server-name",
        DC_NAME,
        "--mech",
        "gss-spnego",
        "--ccache",
        ccache,
        "--krb5-config",
        krb5_conf,
        "-v",
    ];
    let photo = format!("dn: {ALICE_DN}\njpegPhoto: {}\n\n", pattern(0, 300_000));
    let read_photo = ["--scope", "base", "--base", ALICE_DN, "jpegPhoto"];
    for (qop, ntlm_layer, krb5_layer) in [
        (
            "auth-int",
            "layer auth-int, ssf 1;".to_owned(),
            "layer auth-int, ssf 1;".to_owned(),
        ),
        (
            "auth-conf",
            "layer auth-conf (rc4), ssf 128;".to_owned(),
            format!(
                "layer auth-conf ({}), ssf 256;",
                Enctype::Aes256CtsHmacSha196
            ),
        ),
    ] {
        let args = [&["--qop", qop][..], &read_photo].concat();
        let out = password_search("gss-spnego", r"SEALSTREAM\alice", ALICE_PASSWORD, &args)
            .await
            .unwrap_or_else(|f| panic!("NTLM, {qop}: {f}"));
        assert!(
            out.ldif == photo,
            "NTLM, {qop}: {} bytes of LDIF differ",
            out.ldif.len()
        );
        assert!(
            out.log.starts_with(&format!(
                "ldap_search: bound as SEALSTREAM\\alice; {ntlm_layer}"
            )),
            "NTLM, {qop}: {}",
            out.log
        );
        let out = ldap_search(&[&kerberos_argv[..], &args].concat())
            .await
            .unwrap_or_else(|f| panic!("Kerberos, {qop}: {f}"));
        assert!(
            out.ldif == photo,
            "Kerberos, {qop}: {} bytes of LDIF differ",
            out.ldif.len()
        );
        assert!(
            out.log.starts_with(&format!(
                "ldap_search: bound as alice@{REALM}; {krb5_layer}"
            )),
            "Kerberos, {qop}: {}",
            out.log
        );
    }
    let wrong = password_search(
        "gss-spnego",
        r"SEALSTREAM\alice",
        "not-her-password",
        &[
            "--qop",
            "auth-conf",
            "--base",
            ALICE_DN,
            "--scope",
            "base",
            "cn",
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.exit_code, 49, "{wrong}");
}

/// LDAPS, as Active Directory's clients use it: GSS-SPNEGO binds without a layer (NTLM with a
/// password and Kerberos with a `kinit` cache), carrying the `tls-server-end-point` channel
/// binding of the DC's certificate, read alice's entry; a layer inside TLS is refused with
/// result 53. (Samba 4.17 does not check the binding; `ldaps_channel_binding.rs` has an
/// acceptor that does.)
#[tokio::test(flavor = "current_thread")]
async fn ldaps_binds_without_a_layer_and_refuses_one_inside_tls() {
    let Some(dc) = samba::dc() else { return };
    let ca = dc.dir.join("ca.pem");
    let ccache = kinit_alice(dc);
    let krb5_conf = dc.dir.join("krb5.conf");
    let (ca, ccache, krb5_conf) = (
        ca.to_str().unwrap(),
        ccache.to_str().unwrap(),
        krb5_conf.to_str().unwrap(),
    );
    let ldaps = [
        "ldap_search",
        "--url",
        "ldaps://127.0.0.1",
        "--server-name",
        DC_NAME,
        "--ca",
        ca,
        "--mech",
        "gss-spnego",
        "-v",
        "--base",
        "CN=Users,DC=sealstream,DC=test",
        "--filter",
        "(sAMAccountName=alice)",
    ];
    let ntlm = ["--user", r"SEALSTREAM\alice", "--password", ALICE_PASSWORD];
    let kerberos = ["--ccache", ccache, "--krb5-config", krb5_conf];
    let expected = format!("dn: {ALICE_DN}\nsAMAccountName: alice\n\n");
    for (credentials, who) in [
        (&ntlm[..], r"SEALSTREAM\alice".to_owned()),
        (&kerberos[..], format!("alice@{REALM}")),
    ] {
        let argv = [
            &ldaps[..],
            credentials,
            &["--qop", "auth", "sAMAccountName"],
        ]
        .concat();
        let out = ldap_search(&argv)
            .await
            .unwrap_or_else(|f| panic!("{who}: {f}"));
        assert_eq!(out.ldif, expected, "{who}");
        assert!(
            out.log
                .starts_with(&format!("ldap_search: bound as {who}; layer auth, ssf 0;")),
            "{who}: {}",
            out.log
        );
        let argv = [&ldaps[..], credentials, &["--qop", "auth-int", "cn"]].concat();
        let failure = ldap_search(&argv).await.unwrap_err();
        assert_eq!(failure.exit_code, 53, "{who}: {failure}");
        assert!(
            failure.message.contains("not allowed if TLS is used"),
            "{failure}"
        );
    }
}
