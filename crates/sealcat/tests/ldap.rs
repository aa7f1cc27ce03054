//! `sealcat connect --ldap` against OpenLDAP slapd with Cyrus SASL (tests/peers/slapd.sh, which
//! requires a layer): a DIGEST-MD5 bind with the layer asked for, then LDAP messages piped
//! through it: a search of 64 entries of 4,000 bytes each, in frames far smaller than the
//! results, and the unbind that ends the session. A wrong password is one line of error.

use std::process::Stdio;

use rasn_ldap::{ProtocolOp, ResultCode, SearchRequestScope};
use sealstream_examples::ldap::{self, MessageReader};
use sealstream_interop::slapd::Slapd;
use tokio::process::Command;

/// `sealcat connect ADDR --ldap --sasl digest-md5 --user alice --qop QOP -v` with the
/// password `password`, a one-level search of ou=bulk piped in, the results read back; the
/// number of entries and their bytes, and sealcat's stderr.
async fn search(slapd: &Slapd, qop: &str, password: &str) -> (usize, usize, String, bool) {
    let addr = slapd.url().trim_start_matches("ldap://").to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealcat"))
        .args(["connect", &addr, "--ldap", "--sasl", "digest-md5"])
        .args(["--user", "alice", "--qop", qop, "--maxbuf", "4096", "-v"])
        .env("SEALCAT_PASSWORD", password)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sealcat starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let filter = ldap::parse_filter("(objectClass=*)").unwrap();
    let request = ldap::search(
        2,
        "ou=bulk,dc=example,dc=com",
        SearchRequestScope::SingleLevel,
        filter,
        &[],
    );
    // A bind that fails leaves sealcat gone before it reads anything: the write may fail.
    let sent = ldap::send(&mut stdin, &request).await.is_ok();
    let mut reader = MessageReader::new();
    let (mut entries, mut bytes) = (0, 0);
    if sent {
        loop {
            let Ok(message) = reader.read(&mut stdout).await else {
                break;
            };
            match message.protocol_op {
                ProtocolOp::SearchResEntry(entry) => {
                    entries += 1;
                    bytes += entry
                        .attributes
                        .iter()
                        .flat_map(|a| a.vals.iter())
                        .map(|v| v.len())
                        .sum::<usize>();
                }
                ProtocolOp::SearchResDone(done) => {
                    assert_eq!(done.0.result_code, ResultCode::Success);
                    let _ = ldap::send(&mut stdin, &ldap::unbind(3)).await;
                    break;
                }
                _ => {}
            }
        }
    }
    drop(stdin);
    let out = child.wait_with_output().await.expect("sealcat ends");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (entries, bytes, stderr, out.status.success())
}

#[tokio::test]
async fn a_search_goes_through_either_layer() {
    let Some(slapd) = Slapd::start(1) else { return };
    for (qop, layer) in [
        ("auth-int", "layer auth-int, SSF 1"),
        ("auth-conf", "layer auth-conf (rc4), SSF 128"),
    ] {
        let (entries, bytes, stderr, ok) = search(&slapd, qop, "secret").await;
        assert!(ok, "{qop}: {stderr}");
        assert!(
            stderr.contains(&format!("LDAP, DIGEST-MD5 as alice, {layer}")),
            "{qop}: {stderr}"
        );
        // slapd.sh: bulk1..bulk64, each a cn and a 4,000-byte description.
        assert_eq!(entries, 64, "{qop}: {stderr}");
        assert!(bytes > 64 * 4000, "{qop}: {bytes} bytes");
    }
}

#[tokio::test]
async fn a_wrong_password_is_one_line() {
    let Some(slapd) = Slapd::start(1) else { return };
    let (entries, _, stderr, ok) = search(&slapd, "auth-int", "wrong").await;
    assert!(!ok);
    assert_eq!(entries, 0);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bind failed: result 49 (invalidCredentials)"),
        "{stderr}"
    );
}
