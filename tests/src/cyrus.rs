//! Cyrus IMAP servers of a test binary (tests/peers/cyrus-imapd.sh): started on first use,
//! shared by every test of the binary, stopped when the process exits.
//!
//! The mailbox is alice's INBOX (password [`PASSWORD`]), holding the script's five messages;
//! what Cyrus stored for each is in `expected/UID.eml`, and messages appended by tests appear
//! as files in the spool directory [`Cyrus::inbox`] names.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::mitkdc::{self, Kdc};
use crate::peer;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/cyrus-imapd.sh");

/// alice's password in the server's sasldb (DIGEST-MD5, SCRAM).
pub const PASSWORD: &str = "alice-imap-password";

/// A running Cyrus IMAP server.
#[derive(Debug)]
pub struct Cyrus {
    /// The script's directory.
    pub dir: PathBuf,
    /// IMAP (STARTTLS offered); IMAPS is on the next port.
    pub port: u16,
}

/// The server of this binary that offers layers and does not require one, with GSSAPI in the
/// binary's MIT KDC realm; `None` when a package is missing outside CI (under `CI=true` that
/// fails the test).
pub fn cyrus() -> Option<&'static Cyrus> {
    static CYRUS: OnceLock<Option<Cyrus>> = OnceLock::new();
    CYRUS
        .get_or_init(|| {
            let kdc = mitkdc::kdc()?;
            start(0, Some(kdc))
        })
        .as_ref()
}

/// The server of this binary that requires a security layer (`sasl_minimum_layer: 1`);
/// DIGEST-MD5 only.
pub fn cyrus_requiring_a_layer() -> Option<&'static Cyrus> {
    static CYRUS: OnceLock<Option<Cyrus>> = OnceLock::new();
    CYRUS.get_or_init(|| start(1, None)).as_ref()
}

impl Cyrus {
    /// `imap://localhost:PORT` (GSSAPI asks for a ticket to `imap/localhost`; DIGEST-MD5's
    /// digest-uri is `imap/localhost`).
    pub fn url(&self) -> String {
        format!("imap://localhost:{}", self.port)
    }

    /// `imaps://localhost:PORT+1`.
    pub fn imaps_url(&self) -> String {
        format!("imaps://localhost:{}", self.port + 1)
    }

    /// The CA certificate its TLS certificate chains to.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The UIDs and stored bytes of the messages the script delivered.
    pub fn expected(&self) -> Vec<(u32, Vec<u8>)> {
        let dir = self.dir.join("expected");
        let mut all: Vec<(u32, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("the expected messages")
            .map(|entry| {
                let path = entry.expect("a directory entry").path();
                let uid = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.parse().ok())
                    .expect("UID.eml");
                (uid, std::fs::read(&path).expect("a message file"))
            })
            .collect();
        all.sort();
        all
    }

    /// alice's INBOX spool directory: message UID is the file `UID.` there.
    pub fn inbox(&self) -> PathBuf {
        let path = std::fs::read_to_string(self.dir.join("inbox-path")).expect("inbox-path");
        PathBuf::from(path.trim())
    }

    /// What Cyrus stored as message `uid` of alice's INBOX.
    pub fn stored(&self, uid: u32) -> Vec<u8> {
        let path = self.inbox().join(format!("{uid}."));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

fn start(min_layer: u32, kdc: Option<&Kdc>) -> Option<Cyrus> {
    peer::require("saslpasswd2")?;
    let (dir, port) = peer::start_script(SCRIPT, "cyrus", |port, dir| {
        let mut command = Command::new(SCRIPT);
        command
            .args(["start".as_ref(), dir.as_os_str()])
            .args([port.to_string(), min_layer.to_string()]);
        if let Some(kdc) = kdc {
            command.env("CYRUS_KRB5_DIR", &kdc.dir);
        }
        command
    })?;
    peer::stop_at_exit(SCRIPT, &dir);
    Some(Cyrus { dir, port })
}
