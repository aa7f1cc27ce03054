//! DIGEST-MD5 interop with OpenLDAP slapd and Cyrus SASL (tests/peers/slapd.sh), through the
//! `ldap_search` example's own code (`sealstream_examples::ldap_search::run`): a SASL bind in
//! LDAP BindRequests, the negotiated layer installed as a `SealedStream`, and a search whose
//! entries are compared as LDIF, byte for byte.
//!
//! Each test starts its own slapd (`sealstream_interop::slapd`) in a fresh directory on a free
//! port and stops it when the test ends, also on panic.

use std::path::PathBuf;
use std::process::Command;

use sealstream_examples::ldap_search::Failure;
use sealstream_interop::slapd::Slapd;

mod ldap_search_support;

use ldap_search_support::{Output, ldap_search, pattern};

/// Run `ldap_search` against `slapd` as alice with `args` after the URL and credentials.
async fn search(slapd: &Slapd, password: &str, args: &[&str]) -> Result<Output, Failure> {
    let url = slapd.url();
    let mut argv = vec![
        "ldap_search",
        "--url",
        &url,
        "--mech",
        "digest-md5",
        "--user",
        "alice",
        "--password",
        password,
        "--realm",
        "example.com",
        "--timeout",
        "20",
        "-v",
    ];
    argv.extend_from_slice(args);
    ldap_search(&argv).await
}

/// The LDIF records of `ldif`, sorted: LDAP leaves the order of entries to the server.
fn entries(ldif: &str) -> Vec<&str> {
    assert!(
        ldif.ends_with("\n\n"),
        "{ldif:?} does not end with an empty line"
    );
    let mut records: Vec<&str> = ldif.trim_end().split("\n\n").collect();
    records.sort_unstable();
    records
}

fn item(n: u32) -> String {
    format!(
        "dn: cn=item{n},ou=data,dc=example,dc=com\nobjectClass: applicationProcess\n\
         cn: item{n}\ndescription: small entry number {n}\n\n"
    )
}

/// The 40,000-byte description of cn=large: byte i is ALNUM[i % 62].
fn large_value() -> String {
    pattern(0, 40_000)
}

/// The layers Cyrus on Debian 12 both offers and runs, as ldap_search arguments and the layer
/// `-v` reports.
const WORKING_LAYERS: [(&[&str], &str); 6] = [
    (&["--qop", "auth-int"], "auth-int, ssf 1"),
    (&["--qop", "auth-conf"], "auth-conf (rc4), ssf 128"),
    (
        &["--qop", "auth-conf", "--cipher", "rc4"],
        "auth-conf (rc4), ssf 128",
    ),
    (
        &[
            "--qop",
            "auth-conf",
            "--cipher",
            "rc4-56",
            "--legacy-ciphers",
        ],
        "auth-conf (rc4-56), ssf 56",
    ),
    (
        &["--qop", "auth-conf", "--cipher", "des", "--legacy-ciphers"],
        "auth-conf (des), ssf 55",
    ),
    (
        &[
            "--qop",
            "auth-conf",
            "--cipher",
            "rc4-40",
            "--legacy-ciphers",
        ],
        "auth-conf (rc4-40), ssf 40",
    ),
];

#[tokio::test(flavor = "current_thread")]
async fn search_over_every_working_layer() {
    let Some(slapd) = Slapd::start(1) else {
        return;
    };
    for (layer, reported) in WORKING_LAYERS {
        let mut args = layer.to_vec();
        args.extend([
            "--base",
            "ou=data,dc=example,dc=com",
            "--filter",
            "(cn=item3)",
        ]);
        let out = search(&slapd, "secret", &args)
            .await
            .unwrap_or_else(|f| panic!("{layer:?}: {f}"));
        assert_eq!(out.ldif, item(3), "{layer:?}");
        assert_eq!(
            out.log,
            format!(
                "ldap_search: bound as alice; layer {reported}; maxbuf ours 65536, server's 65536\n"
            ),
            "{layer:?}"
        );

        // Several entries in one answer, attributes chosen, presence filter.
        let mut args = layer.to_vec();
        args.extend(["--base", "ou=people,dc=example,dc=com", "--scope", "one"]);
        args.extend(["--filter", "(mail=*)", "mail", "uid"]);
        let out = search(&slapd, "secret", &args).await.unwrap();
        assert_eq!(
            entries(&out.ldif),
            [
                "dn: uid=alice,ou=people,dc=example,dc=com\nuid: alice\nmail: alice@example.com",
                "dn: uid=bob,ou=people,dc=example,dc=com\nuid: bob\nmail: bob@example.com",
            ],
            "{layer:?}"
        );
    }
}

/// With our maxbuf at 1024 the 40,128-byte SearchResultEntry must come as at least 40 frames:
/// the layer refuses any frame above our maxbuf, so an exact value proves the reassembly.
#[tokio::test(flavor = "current_thread")]
async fn large_entry_arrives_in_many_frames() {
    let Some(slapd) = Slapd::start(1) else {
        return;
    };
    let expected = format!(
        "dn: cn=large,ou=data,dc=example,dc=com\ndescription: {}\n\n",
        large_value()
    );
    for (layer, reported) in WORKING_LAYERS {
        let mut args = layer.to_vec();
        args.extend(["--maxbuf", "1024", "--scope", "base"]);
        args.extend([
            "--base",
            "cn=large,ou=data,dc=example,dc=com",
            "description",
        ]);
        let out = search(&slapd, "secret", &args)
            .await
            .unwrap_or_else(|f| panic!("{layer:?}: {f}"));
        assert!(out.ldif == expected, "{layer:?}: the large entry differs");
        assert!(
            out.log
                .ends_with(&format!("{reported}; maxbuf ours 1024, server's 65536\n")),
            "{layer:?}: {}",
            out.log
        );
    }
}

/// Debian 12's Cyrus SASL offers 3des but cannot initialise it (OpenSSL 3 without its legacy
/// provider): slapd answers our DIGEST-MD5 response with result 80. Where 3des works, the search
/// must succeed instead.
#[tokio::test(flavor = "current_thread")]
async fn triple_des_refusal_is_reported_cleanly() {
    let Some(slapd) = Slapd::start(1) else {
        return;
    };
    let args = ["--qop", "auth-conf", "--cipher", "3des"];
    let args = [&args[..], &["--base", "ou=data,dc=example,dc=com"]].concat();
    let args = [&args[..], &["--filter", "(cn=item5)"]].concat();
    match search(&slapd, "secret", &args).await {
        Err(failure) => {
            assert_eq!(failure.exit_code, 80, "{failure}");
            assert_eq!(
                failure.to_string(),
                "bind failed: result 80 (other): SASL(-1): generic failure: \
                 couldn't init cipher '3des'"
            );
        }
        Ok(out) => {
            eprintln!("this Cyrus SASL runs 3des");
            assert_eq!(out.ldif, item(5));
            assert!(out.log.contains("auth-conf (3des), ssf 112"), "{}", out.log);
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_password_is_result_49() {
    let Some(slapd) = Slapd::start(1) else {
        return;
    };
    let args = ["--qop", "auth-int", "--base", "dc=example,dc=com"];
    let failure = search(&slapd, "not-secret", &args).await.unwrap_err();
    assert_eq!(failure.exit_code, 49, "{failure}");
    assert!(
        failure.to_string().starts_with(
            "bind failed: result 49 (invalidCredentials): SASL(-13): authentication failure"
        ),
        "{failure}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn forced_layer_refuses_qop_auth() {
    let Some(forced) = Slapd::start(1) else {
        return;
    };
    let args = ["--qop", "auth", "--base", "ou=data,dc=example,dc=com"];
    let failure = search(&forced, "secret", &args).await.unwrap_err();
    assert_eq!(failure.exit_code, 1, "{failure}");
    assert!(
        failure.to_string().starts_with(
            "SASL security properties not satisfiable: the server offers qop \
             [\"auth-int\", \"auth-conf\"]"
        ),
        "{failure}"
    );
    drop(forced);

    // The same search without a layer where the server allows it.
    let Some(open) = Slapd::start(0) else {
        return;
    };
    let args = [&args[..], &["--filter", "(cn=item1)"]].concat();
    let out = search(&open, "secret", &args).await.unwrap();
    assert_eq!(out.ldif, item(1));
    assert_eq!(
        out.log,
        "ldap_search: bound as alice; layer auth, ssf 0; maxbuf none (no layer)\n"
    );
}

/// The example binary itself, which `cargo test --workspace` builds into `target/*/examples`
/// next to this test's `deps` directory. `cargo test -p sealstream-interop` does not build it:
/// then the test is skipped, except under `CI=true`, whose test run covers the workspace.
fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("test executable path");
    let path = exe.parent()?.parent()?.join("examples").join("ldap_search");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} missing: the CI test run builds the examples (cargo test --workspace)",
        path.display()
    );
    eprintln!("skipping: {} not built", path.display());
    None
}

#[test]
fn example_binary_prints_ldif_and_one_line_errors() {
    let Some(binary) = example_binary() else {
        return;
    };
    let Some(slapd) = Slapd::start(1) else {
        return;
    };
    let run = |password: &str| {
        Command::new(&binary)
            .args([
                "--url",
                &slapd.url(),
                "--mech",
                "digest-md5",
                "--user",
                "alice",
            ])
            .args([
                "--password",
                password,
                "--qop",
                "auth-conf",
                "--cipher",
                "rc4",
                "-v",
            ])
            .args([
                "--base",
                "ou=data,dc=example,dc=com",
                "--filter",
                "(cn=item2)",
            ])
            .output()
            .expect("ldap_search runs")
    };
    let ok = run("secret");
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&ok.stdout), item(2));
    assert_eq!(
        stderr,
        "ldap_search: bound as alice; layer auth-conf (rc4), ssf 128; \
         maxbuf ours 65536, server's 65536\n"
    );

    let refused = run("wrong");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(49), "{stderr}");
    assert!(refused.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("ldap_search: bind failed: result 49 (invalidCredentials)"),
        "{stderr}"
    );
}
