//! The `imap_client` example against Cyrus IMAP 3.6 (tests/peers/cyrus-imapd.sh), which runs
//! the whole IMAP session through the SASL security layer after AUTHENTICATE: DIGEST-MD5
//! `auth-int` and `auth-conf`, GSSAPI sign and seal with tickets from an MIT KDC, each plain,
//! inside STARTTLS and over IMAPS.
//!
//! Proof that nothing is lost or altered either way: every message FETCHed is compared with
//! the file Cyrus stored it in (one of them over 200 KiB, which Cyrus sends in frames of at most
//! 4096 bytes, or of our smaller maxbuf), and a message APPENDed through the layer (over 100
//! KiB, so in frames no larger than Cyrus's maxbuf of 4096: a larger one makes Cyrus drop the
//! connection) is compared with the file Cyrus stored it in. One server of each kind serves the
//! whole binary; appended messages are told apart by their UID.

use std::path::{Path, PathBuf};

use clap::Parser;
use sealstream_examples::imap_client::{Args, Failure, run};
use sealstream_interop::cyrus::{self, Cyrus, PASSWORD};
use sealstream_interop::mitkdc;

/// What `imap_client` printed: the summary on stdout and, with `-v`, the layer and the
/// protocol on stderr.
#[derive(Debug)]
struct Output {
    out: String,
    log: String,
}

async fn imap_client(argv: &[&str]) -> Result<Output, Failure> {
    let mut all = vec!["imap_client"];
    all.extend_from_slice(argv);
    let args = Args::try_parse_from(&all).expect("valid arguments");
    let (mut out, mut log) = (Vec::new(), Vec::new());
    run(&args, &mut out, &mut log).await?;
    Ok(Output {
        out: String::from_utf8(out).expect("UTF-8 output"),
        log: String::from_utf8_lossy(&log).into_owned(),
    })
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sealstream-cyrus-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A message of about `len` bytes whose body lines carry `name`, so each test's APPEND is its
/// own.
fn message(name: &str, len: usize) -> Vec<u8> {
    let mut text = format!(
        "From: Test <test@localhost>\r\nTo: alice@localhost\r\nSubject: appended by {name}\r\n\
         Message-ID: <{name}.{}@sealstream.test>\r\n\r\n",
        std::process::id()
    )
    .into_bytes();
    let mut line = 0usize;
    while text.len() < len {
        text.extend_from_slice(format!("{name} line {line:06} {}\r\n", "x".repeat(50)).as_bytes());
        line += 1;
    }
    text
}

/// Check what a run fetched (saved in `saved`) against what Cyrus stored, and that the message
/// it appended from `appended` is stored byte for byte; the log's layer line.
fn check_mailbox(cyrus: &Cyrus, output: &Output, saved: &Path, appended: &[u8]) {
    let expected = cyrus.expected();
    assert_eq!(expected.len(), 5, "the script delivers five messages");
    assert!(
        expected.iter().any(|(_, bytes)| bytes.len() > 200 * 1024),
        "one delivered message is over 200 KiB"
    );
    for (uid, bytes) in &expected {
        let got = std::fs::read(saved.join(format!("{uid}.eml")))
            .unwrap_or_else(|e| panic!("message {uid} saved: {e}\n{}", output.out));
        assert!(
            got == *bytes,
            "message {uid} differs from what Cyrus stored"
        );
        assert!(
            output
                .out
                .contains(&format!("UID {uid}  {} bytes", bytes.len())),
            "{}",
            output.out
        );
    }
    let line = output
        .out
        .lines()
        .find(|l| l.starts_with("appended "))
        .unwrap_or_else(|| panic!("no APPEND report:\n{}", output.out));
    assert!(
        line.starts_with(&format!("appended {} bytes as UID ", appended.len())),
        "{line}"
    );
    let uid: u32 = line.rsplit(' ').next().unwrap().parse().expect("a UID");
    assert!(
        cyrus.stored(uid) == appended,
        "the appended message differs from what Cyrus stored"
    );
}

/// `imap_client` to `url` with the mechanism arguments `mech`, saving every message and
/// appending one of 120 KiB; checked against what Cyrus stored. The log.
async fn round(cyrus: &Cyrus, name: &str, url: &str, mech: &[&str]) -> String {
    let dir = scratch(name);
    let append = message(name, 120 * 1024);
    let append_path = dir.join("append.eml");
    std::fs::write(&append_path, &append).unwrap();
    let saved = dir.join("saved");
    let mut argv = vec![
        "--url",
        url,
        "--save",
        saved.to_str().unwrap(),
        "--append",
        append_path.to_str().unwrap(),
        "-v",
    ];
    argv.extend_from_slice(mech);
    let output = imap_client(&argv)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    check_mailbox(cyrus, &output, &saved, &append);
    output.log
}

/// `round` as alice over DIGEST-MD5 with `qop` and `extra` arguments.
async fn digest_round(cyrus: &Cyrus, name: &str, url: &str, qop: &str, extra: &[&str]) -> String {
    let mut mech = vec![
        "--mech",
        "digest-md5",
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--qop",
        qop,
    ];
    mech.extend_from_slice(extra);
    round(cyrus, name, url, &mech).await
}

#[tokio::test]
async fn digest_md5_integrity_carries_every_message_both_ways() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let log = digest_round(cyrus, "digest-int", &cyrus.url(), "auth-int", &[]).await;
    assert!(
        log.contains(
            "authenticated as alice; layer auth-int, ssf 1; maxbuf ours 65536, server's 4096"
        ),
        "{log}"
    );
}

#[tokio::test]
async fn digest_md5_confidentiality_with_a_small_maxbuf() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    // 1024: Cyrus cuts its output into hundreds of frames to fit.
    let log = digest_round(
        cyrus,
        "digest-conf",
        &cyrus.url(),
        "auth-conf",
        &["--cipher", "rc4", "--maxbuf", "1024"],
    )
    .await;
    assert!(
        log.contains("layer auth-conf (rc4), ssf 128; maxbuf ours 1024, server's 4096"),
        "{log}"
    );
}

/// Inside TLS Cyrus counts TLS's strength against its maximum and offers DIGEST-MD5 without a
/// layer only: the client authenticates inside STARTTLS and IMAPS, and a client insisting on a
/// layer there says why it cannot have one.
#[tokio::test]
async fn digest_md5_inside_starttls_and_imaps() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let ca = cyrus.ca();
    let ca = ca.to_str().unwrap();
    let log = digest_round(
        cyrus,
        "digest-starttls",
        &cyrus.url(),
        "auth",
        &["--starttls", "--ca", ca],
    )
    .await;
    assert!(log.contains("C: a1 STARTTLS"), "{log}");
    assert!(
        log.contains("authenticated as alice; layer auth, ssf 0"),
        "{log}"
    );
    let log = digest_round(
        cyrus,
        "digest-imaps",
        &cyrus.imaps_url(),
        "auth",
        &["--ca", ca],
    )
    .await;
    assert!(log.contains("layer auth, ssf 0"), "{log}");
    let url = cyrus.imaps_url();
    let argv = [
        "--url",
        &url,
        "--ca",
        ca,
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--qop",
        "auth-int",
    ];
    let err = imap_client(&argv).await.unwrap_err();
    assert!(
        err.message.contains("the server offers qop [\"auth\"]"),
        "{err}"
    );
}

#[tokio::test]
async fn gssapi_sign_and_seal() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let kdc = mitkdc::kdc().expect("the KDC the server was started with");
    let dir = scratch("gssapi");
    let cache = dir.join("alice.ccache");
    kdc.kinit("alice", "alice-password", &cache);
    let krb5_conf = kdc.dir.join("krb5.conf");
    for (qop, layer) in [
        ("auth-int", "layer auth-int, ssf 1"),
        ("auth-conf", "layer auth-conf"),
    ] {
        let name = format!("gssapi-{qop}");
        let log = round(
            cyrus,
            &name,
            &cyrus.url(),
            &[
                "--mech",
                "gssapi",
                "--qop",
                qop,
                "--ccache",
                cache.to_str().unwrap(),
                "--krb5-config",
                krb5_conf.to_str().unwrap(),
            ],
        )
        .await;
        assert!(
            log.contains(&format!(
                "authenticated as alice@{}; {layer}",
                mitkdc::REALM
            )),
            "{log}"
        );
    }
}

#[tokio::test]
async fn a_server_requiring_a_layer_refuses_a_client_without_one() {
    let Some(cyrus) = cyrus::cyrus_requiring_a_layer() else {
        return;
    };
    let url = cyrus.url();
    let argv = |qop| {
        vec![
            "--url",
            &url,
            "--mech",
            "digest-md5",
            "--user",
            "alice",
            "--password",
            PASSWORD,
            "--qop",
            qop,
        ]
    };
    let output = imap_client(&argv("auth-int"))
        .await
        .expect("a layered login");
    assert!(output.out.starts_with("INBOX: "), "{}", output.out);
    let refused = imap_client(&argv("auth")).await.unwrap_err();
    assert_eq!(refused.exit_code, 1);
    // The server offers no `auth` qop, so the client gives up before answering.
    assert!(
        refused.message.starts_with("DIGEST-MD5: ") && refused.message.contains("auth-int"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_wrong_password_and_a_missing_mechanism_are_one_line_errors() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let url = cyrus.url();
    let err = imap_client(&[
        "--url",
        &url,
        "--user",
        "alice",
        "--password",
        "not-the-password",
        "--qop",
        "auth-int",
    ])
    .await
    .unwrap_err();
    assert!(
        err.message
            .starts_with("the server refused AUTHENTICATE DIGEST-MD5: NO"),
        "{err}"
    );
    let err = imap_client(&[
        "--url",
        &url,
        "--mech",
        "ntlm",
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--qop",
        "auth-int",
    ])
    .await
    .unwrap_err();
    assert!(
        err.message
            .starts_with("the server does not offer AUTHENTICATE NTLM; it offers "),
        "{err}"
    );
}

/// SCRAM-SHA-256 (no layer) inside STARTTLS: the whole mailbox and an APPEND, with the
/// server's signature checked (Cyrus sends it as a last challenge).
#[tokio::test]
async fn scram_sha_256_inside_starttls() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let ca = cyrus.ca();
    let mech = [
        "--mech",
        "scram-sha-256",
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--qop",
        "auth",
        "--starttls",
        "--ca",
        ca.to_str().unwrap(),
    ];
    let log = round(cyrus, "scram-starttls", &cyrus.url(), &mech).await;
    assert!(log.contains("C: a1 STARTTLS"), "{log}");
    assert!(
        log.contains("authenticated as alice; layer auth, ssf 0"),
        "{log}"
    );
}

/// SCRAM-SHA-256-PLUS on TLS 1.2 binds with `tls-unique`, the type Cyrus SASL 2.1.28 asks for:
/// Cyrus (OpenSSL's Finished message) and sealstream-tls (the Finished recomputed from the
/// master secret and the handshake messages) agree, and the whole mailbox goes through.
#[tokio::test]
async fn scram_sha_256_plus_binds_with_tls_unique_on_tls12() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let ca = cyrus.ca();
    let mech = [
        "--mech",
        "scram-sha-256-plus",
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--qop",
        "auth",
        "--tls-version",
        "1.2",
        "--ca",
        ca.to_str().unwrap(),
    ];
    let log = round(cyrus, "scram-plus-tls12", &cyrus.imaps_url(), &mech).await;
    assert!(
        log.contains("C: a2 AUTHENTICATE SCRAM-SHA-256-PLUS"),
        "{log}"
    );
    assert!(
        log.contains("authenticated as alice; layer auth, ssf 0"),
        "{log}"
    );
}

/// SCRAM-SHA-256-PLUS on TLS 1.3: ours sends `tls-exporter` (RFC 9266, which replaces
/// `tls-unique` there); Cyrus SASL 2.1.28 takes only `tls-unique`, refuses it, and says so in
/// its log.
#[tokio::test]
async fn scram_sha_256_plus_is_refused_by_cyrus_for_its_binding_type() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let ca = cyrus.ca();
    let url = cyrus.imaps_url();
    let err = imap_client(&[
        "--url",
        &url,
        "--ca",
        ca.to_str().unwrap(),
        "--mech",
        "scram-sha-256-plus",
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--qop",
        "auth",
        "--tls-version",
        "1.3",
    ])
    .await
    .unwrap_err();
    assert!(
        err.message
            .starts_with("the server refused AUTHENTICATE SCRAM-SHA-256-PLUS: NO"),
        "{err}"
    );
    // The script captures Cyrus's syslog when it runs as root.
    if let Ok(log) = std::fs::read_to_string(cyrus.dir.join("syslog.log")) {
        assert!(
            log.contains("Expected: tls-unique, received: tls-exporter"),
            "{log}"
        );
    }
}
