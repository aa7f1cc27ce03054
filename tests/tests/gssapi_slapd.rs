//! SASL GSSAPI (RFC 4752) with Kerberos V5 against OpenLDAP slapd and Cyrus SASL's GSSAPI
//! plugin over MIT krb5 1.20, through the `ldap_search` example's own code: tickets from MIT's
//! KDC (tests/peers/mitkdc.sh), a bind as alice to `ldap/localhost`, the negotiated layer
//! installed as a `SealedStream`, and a search compared as LDIF, byte for byte. slapd's own log
//! confirms which identity and strength it installed.
//!
//! One KDC serves the whole binary (`sealstream_interop::mitkdc`); each test starts its own
//! slapd (`sealstream_interop::slapd`).

use sealstream_examples::ldap_search::Failure;
use sealstream_interop::mitkdc::{self, Kdc};
use sealstream_interop::slapd::Slapd;

mod ldap_search_support;

use ldap_search_support::{Output, ldap_search, pattern};

/// How alice proves who she is to the KDC.
#[derive(Clone, Copy, Debug)]
enum Secret<'a> {
    Password(&'a str),
    AliceKeytab,
    /// Her tickets in this credential cache (no `--user`); with `kdcs: false`, a
    /// `--krb5-config` that does not exist, so only a ticket already in the cache can serve.
    Cache {
        path: &'a std::path::Path,
        kdcs: bool,
    },
}

/// Run `ldap_search --mech gssapi` as alice against `slapd`, with `args` after the credentials.
async fn search(
    kdc: &Kdc,
    slapd: &Slapd,
    secret: Secret<'_>,
    args: &[&str],
) -> Result<Output, Failure> {
    let url = slapd.localhost_url();
    let krb5_conf = kdc.dir.join("krb5.conf");
    let keytab = kdc.dir.join("alice.keytab");
    let mut argv = vec![
        "ldap_search",
        "--url",
        &url,
        "--mech",
        "gssapi",
        "--timeout",
        "20",
        "-v",
    ];
    let alice = [
        "--user",
        "alice",
        "--krb5-config",
        krb5_conf.to_str().unwrap(),
    ];
    match secret {
        Secret::Password(p) => argv.extend(alice.into_iter().chain(["--password", p])),
        Secret::AliceKeytab => {
            argv.extend(
                alice
                    .into_iter()
                    .chain(["--keytab", keytab.to_str().unwrap()]),
            );
        }
        Secret::Cache { path, kdcs } => {
            let conf = if kdcs {
                krb5_conf.to_str().unwrap()
            } else {
                "/nonexistent/krb5.conf"
            };
            argv.extend(["--ccache", path.to_str().unwrap(), "--krb5-config", conf]);
        }
    }
    argv.extend_from_slice(args);
    ldap_search(&argv).await
}

/// slapd's account of its binds: `mech=GSSAPI bind_ssf=N ssf=N` lines with the DN it mapped.
fn slapd_binds(slapd: &Slapd) -> Vec<String> {
    let log = std::fs::read_to_string(slapd.dir().join("slapd.log")).expect("slapd.log");
    log.lines()
        .filter_map(|line| line.split_once(" BIND dn=").map(|(_, bind)| bind))
        .filter(|bind| bind.contains("mech="))
        .map(str::to_owned)
        .collect()
}

fn item(n: u32) -> String {
    format!(
        "dn: cn=item{n},ou=data,dc=example,dc=com\nobjectClass: applicationProcess\n\
         cn: item{n}\ndescription: small entry number {n}\n\n"
    )
}

/// The 40,000-byte description of cn=large: byte i is ALNUM[i % 62].
fn large_entry() -> String {
    let value = pattern(0, 40_000);
    format!("dn: cn=large,ou=data,dc=example,dc=com\ndescription: {value}\n\n")
}

/// The descriptions of cn=bulk1..cn=bulk64 under ou=bulk, 4,000 bytes each, as LDIF.
fn bulk_entries() -> String {
    (1..=64)
        .map(|n| {
            format!(
                "dn: cn=bulk{n},ou=bulk,dc=example,dc=com\ndescription: {}\n\n",
                pattern(n, 4000)
            )
        })
        .collect()
}

/// The session key MIT's KDC picks for alice's ticket to ldap/localhost: the first type of our
/// request that the service has a key for.
const SESSION_ENCTYPE: &str = "aes256-cts-hmac-sha384-192";

/// Integrity and confidentiality, each with a password and with a keytab: a small entry, then
/// the 40,128-byte entry with our maxbuf at 1024, which the layer must reassemble from at least
/// 40 Wrap tokens (it refuses any frame above our maxbuf, so an exact entry proves it).
#[tokio::test(flavor = "current_thread")]
async fn search_over_integrity_and_confidentiality() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let Some(slapd) = Slapd::start_with_kerberos(1, kdc) else {
        return;
    };
    let layers = [
        ("auth-int", "auth-int, ssf 1".to_owned(), 1),
        (
            "auth-conf",
            format!("auth-conf ({SESSION_ENCTYPE}), ssf 256"),
            256,
        ),
    ];
    let mut expected_binds = Vec::new();
    for (qop, reported, ssf) in &layers {
        for secret in [Secret::Password("alice-password"), Secret::AliceKeytab] {
            let what = format!("{qop} with {secret:?}");
            let args = [
                "--qop",
                qop,
                "--base",
                "ou=data,dc=example,dc=com",
                "--filter",
                "(cn=item3)",
            ];
            let out = search(kdc, &slapd, secret, &args)
                .await
                .unwrap_or_else(|f| panic!("{what}: {f}"));
            assert_eq!(out.ldif, item(3), "{what}");
            assert_eq!(
                out.log,
                format!(
                    "ldap_search: bound as alice@{}; layer {reported}; \
                     maxbuf ours 65536, server's 65536\n",
                    mitkdc::REALM
                ),
                "{what}"
            );

            let args = [
                "--qop",
                qop,
                "--maxbuf",
                "1024",
                "--scope",
                "base",
                "--base",
                "cn=large,ou=data,dc=example,dc=com",
                "description",
            ];
            let out = search(kdc, &slapd, secret, &args)
                .await
                .unwrap_or_else(|f| panic!("{what}, large entry: {f}"));
            assert!(out.ldif == large_entry(), "{what}: the large entry differs");
            assert!(
                out.log.ends_with("maxbuf ours 1024, server's 65536\n"),
                "{what}: {}",
                out.log
            );
            let bind = format!(
                "\"uid=alice,ou=people,dc=example,dc=com\" mech=GSSAPI bind_ssf={ssf} ssf={ssf}"
            );
            expected_binds.extend([bind.clone(), bind]);
        }
    }
    assert_eq!(slapd_binds(&slapd), expected_binds);
}

/// A slapd that requires a layer refuses `--qop auth` before any data flows (the client sees
/// the offer and fails as a policy matter); one that does not lets the search run in the clear.
#[tokio::test(flavor = "current_thread")]
async fn no_layer_only_where_the_server_allows_it() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let args = [
        "--qop",
        "auth",
        "--base",
        "ou=data,dc=example,dc=com",
        "--filter",
        "(cn=item1)",
    ];
    let Some(forced) = Slapd::start_with_kerberos(1, kdc) else {
        return;
    };
    let secret = Secret::Password("alice-password");
    let failure = search(kdc, &forced, secret, &args).await.unwrap_err();
    assert_eq!(failure.exit_code, 1, "{failure}");
    assert_eq!(
        failure.to_string(),
        "SASL security properties not satisfiable: the server offers layers 0x06; min_ssf 0 \
         and max_ssf 0 allow none of them"
    );
    drop(forced);

    let Some(open) = Slapd::start_with_kerberos(0, kdc) else {
        return;
    };
    let out = search(kdc, &open, secret, &args).await.unwrap();
    assert_eq!(out.ldif, item(1));
    assert_eq!(
        out.log,
        format!(
            "ldap_search: bound as alice@{}; layer auth, ssf 0; maxbuf none (no layer)\n",
            mitkdc::REALM
        )
    );
    assert_eq!(
        slapd_binds(&open),
        ["\"uid=alice,ou=people,dc=example,dc=com\" mech=GSSAPI bind_ssf=0 ssf=0"]
    );
}

/// A wrong password is the KDC's refusal, reported before any connection to slapd.
#[tokio::test(flavor = "current_thread")]
async fn wrong_password_is_refused_by_the_kdc() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let Some(slapd) = Slapd::start_with_kerberos(1, kdc) else {
        return;
    };
    let args = ["--qop", "auth-int", "--base", "dc=example,dc=com"];
    let failure = search(kdc, &slapd, Secret::Password("not-hers"), &args)
        .await
        .unwrap_err();
    assert_eq!(failure.exit_code, 1, "{failure}");
    let message = failure.to_string();
    assert!(
        message.starts_with(&format!(
            "Kerberos: a ticket-granting ticket for alice@{}: ",
            mitkdc::REALM
        )),
        "{message}"
    );
    assert!(slapd_binds(&slapd).is_empty());
}

/// With tickets from `kinit` (a TGT, then a service ticket from MIT's KDC) and, after `kvno`,
/// with the service ticket the cache already holds: no `--user`, no password, the identity the
/// cache's.
#[tokio::test(flavor = "current_thread")]
async fn search_with_a_kinit_credential_cache() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let Some(slapd) = Slapd::start_with_kerberos(1, kdc) else {
        return;
    };
    let cache = kdc.dir.join("alice-for-slapd.ccache");
    kdc.kinit("alice", "alice-password", &cache);
    let args = [
        "--qop",
        "auth-conf",
        "--base",
        "ou=data,dc=example,dc=com",
        "--filter",
        "(cn=item2)",
    ];
    // The cache holds only a TGT: without the KDCs there is no ticket for ldap/localhost.
    let without_kdcs = Secret::Cache {
        path: &cache,
        kdcs: false,
    };
    let failure = search(kdc, &slapd, without_kdcs, &args).await.unwrap_err();
    assert!(
        failure.message.contains("/nonexistent/krb5.conf"),
        "{failure}"
    );
    let out = search(
        kdc,
        &slapd,
        Secret::Cache {
            path: &cache,
            kdcs: true,
        },
        &args,
    )
    .await
    .unwrap();
    assert_eq!(out.ldif, item(2));
    assert!(
        out.log.starts_with(&format!(
            "ldap_search: bound as alice@{}; layer auth-conf",
            mitkdc::REALM
        )),
        "{}",
        out.log
    );
    kdc.client_program("kvno", &["ldap/localhost"], &cache, "");
    let out = search(kdc, &slapd, without_kdcs, &args).await.unwrap();
    assert_eq!(out.ldif, item(2));
    let bind = "\"uid=alice,ou=people,dc=example,dc=com\" mech=GSSAPI bind_ssf=256 ssf=256";
    assert_eq!(slapd_binds(&slapd), [bind, bind]);
}

/// A one-level search of ou=bulk: 64 entries, 259,511 bytes of LDIF, more than 200 KiB. With
/// our maxbuf at 65,536 it arrives in at least four Wrap tokens, and at 4,096 in at least 64,
/// sealed and signed; it must arrive whole and in order.
#[tokio::test(flavor = "current_thread")]
async fn a_search_result_of_more_than_200_kib_arrives_whole() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let Some(slapd) = Slapd::start_with_kerberos(1, kdc) else {
        return;
    };
    let expected = bulk_entries();
    assert!(expected.len() > 200 * 1024, "{}", expected.len());
    for qop in ["auth-int", "auth-conf"] {
        for maxbuf in ["65536", "4096"] {
            let args = [
                "--qop",
                qop,
                "--maxbuf",
                maxbuf,
                "--scope",
                "one",
                "--base",
                "ou=bulk,dc=example,dc=com",
                "description",
            ];
            let out = search(kdc, &slapd, Secret::Password("alice-password"), &args)
                .await
                .unwrap_or_else(|f| panic!("{qop}, maxbuf {maxbuf}: {f}"));
            assert!(
                out.ldif == expected,
                "{qop}, maxbuf {maxbuf}: {} bytes of LDIF differ from the {} expected",
                out.ldif.len(),
                expected.len()
            );
            assert!(
                out.log.contains(&format!("maxbuf ours {maxbuf},")),
                "{}",
                out.log
            );
        }
    }
}

/// The service ticket is asked for when the bind starts (the one step that waits for the KDC):
/// a service the KDC does not know fails there, naming it, and no bind reaches slapd.
#[tokio::test(flavor = "current_thread")]
async fn an_unknown_service_fails_when_the_bind_starts() {
    let Some(kdc) = mitkdc::kdc() else { return };
    let Some(slapd) = Slapd::start_with_kerberos(1, kdc) else {
        return;
    };
    let args = [
        "--server-name",
        "nowhere.example",
        "--qop",
        "auth-int",
        "--base",
        "dc=example,dc=com",
    ];
    let failure = search(kdc, &slapd, Secret::Password("alice-password"), &args)
        .await
        .unwrap_err();
    assert_eq!(failure.exit_code, 1, "{failure}");
    let message = failure.to_string();
    assert!(
        message.contains(&format!(
            "a ticket for ldap/nowhere.example@{}",
            mitkdc::REALM
        )),
        "{message}"
    );
    assert!(message.contains("SEC_E_TARGET_UNKNOWN"), "{message}");
    assert!(slapd_binds(&slapd).is_empty());
}
