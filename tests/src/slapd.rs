//! A private OpenLDAP slapd with Cyrus SASL (tests/peers/slapd.sh) for one test: started in a
//! fresh directory on a free port, stopped when dropped, also on panic (a failing test keeps
//! the directory, slapd.log included, and says where).

use std::path::PathBuf;
use std::process::Command;

use crate::mitkdc::Kdc;
use crate::peer;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/slapd.sh");

/// A running slapd, stopped on drop.
#[derive(Debug)]
pub struct Slapd {
    dir: PathBuf,
    port: u16,
}

impl Slapd {
    /// A slapd offering DIGEST-MD5 and forcing at least `minssf` (0: no layer required).
    /// `None` when the packages are missing outside CI; under `CI=true` that fails the test.
    pub fn start(minssf: u32) -> Option<Slapd> {
        Self::launch(minssf, None)
    }

    /// A slapd that also offers GSSAPI as `ldap/localhost` in `kdc`'s realm.
    pub fn start_with_kerberos(minssf: u32, kdc: &Kdc) -> Option<Slapd> {
        Self::launch(minssf, Some(kdc))
    }

    /// slapd cannot be told to pick its own port and report it, so it is given a free one; if
    /// another process takes that port before slapd binds it, slapd fails to bind and is
    /// started again on another.
    fn launch(minssf: u32, kdc: Option<&Kdc>) -> Option<Slapd> {
        peer::require("ldapsearch")?;
        let (dir, port) = peer::start_script(SCRIPT, "slapd", |port, dir| {
            let mut command = Command::new(SCRIPT);
            command
                .args(["start".as_ref(), dir.as_os_str()])
                .args([port.to_string(), minssf.to_string()]);
            if let Some(kdc) = kdc {
                command.env("SLAPD_KRB5_DIR", &kdc.dir);
            }
            command
        })?;
        Some(Slapd { dir, port })
    }

    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// `ldap://localhost:PORT`: the URL a GSSAPI client uses, so that it asks for a ticket to
    /// `ldap/localhost`.
    pub fn localhost_url(&self) -> String {
        format!("ldap://localhost:{}", self.port)
    }

    /// The directory: slapd.conf, slapd.log, the database.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let stopped = Command::new(SCRIPT)
            .args(["stop".as_ref(), self.dir.as_os_str()])
            .status();
        if !matches!(stopped, Ok(s) if s.success()) {
            eprintln!("could not stop the slapd in {}", self.dir.display());
        }
        if std::thread::panicking() {
            eprintln!("slapd files kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
