//! The Samba Active Directory domain controller of a test binary (tests/peers/samba-dc.sh):
//! started on first use, shared by every test of the binary, stopped when the process exits.
//! Its LDAP (389) and KDC (88) ports are fixed, so one runs on a machine at a time; test
//! binaries run one after another.
//!
//! Its realm is [`REALM`]; its accounts and passwords are those the script's header lists.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use sealstream_krb5::kdc::KdcConfig;

use crate::peer;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/samba-dc.sh");
/// The script's exit status when the Samba packages are missing or it is not run as root.
const MISSING: i32 = 3;

/// The realm (and AD domain) the DC serves.
pub const REALM: &str = "SEALSTREAM.TEST";
/// The DC's name: its LDAP service is `ldap/DC_NAME`.
pub const DC_NAME: &str = "dc1.sealstream.test";
/// The directory's base DN.
pub const BASE_DN: &str = "DC=sealstream,DC=test";
/// alice's password.
pub const ALICE_PASSWORD: &str = "Alice-Pass-1234";
/// The LDAP URL to reach it (an address: the name is not resolvable outside the DC's own
/// namespace).
pub const LDAP_URL: &str = "ldap://127.0.0.1:389";

/// A running domain controller: its directory and its KDC for our client.
#[derive(Debug)]
pub struct SambaDc {
    /// The script's directory: `krb5.conf`, `env`, `passwords.txt`, `dc/` (Samba's own).
    pub dir: PathBuf,
    /// The KDC's address, from `krb5.conf`.
    pub config: KdcConfig,
}

/// The DC of this test binary, started once; `None` when Samba is missing (or this is not
/// root) outside CI. Under `CI=true` that fails the test.
pub fn dc() -> Option<&'static SambaDc> {
    static DC: OnceLock<Option<SambaDc>> = OnceLock::new();
    DC.get_or_init(start).as_ref()
}

fn start() -> Option<SambaDc> {
    peer::require("samba")?;
    let dir = std::env::temp_dir().join(format!("sealstream-samba-{}", std::process::id()));
    let out = Command::new(SCRIPT)
        .arg("start")
        .arg(&dir)
        .output()
        .expect("tests/peers/samba-dc.sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(MISSING) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{stderr}");
        eprintln!("skipping: {stderr}");
        return None;
    }
    assert!(out.status.success(), "the Samba DC did not start: {stderr}");
    peer::stop_at_exit(SCRIPT, &dir);
    let conf = std::fs::read_to_string(dir.join("krb5.conf")).expect("krb5.conf");
    let config = KdcConfig::from_krb5_conf(&conf).expect("the script's krb5.conf");
    assert_eq!(config.default_realm(), Some(REALM));
    Some(SambaDc { dir, config })
}
