//! The MIT Kerberos KDC of a test binary (tests/peers/mitkdc.sh): started on first use, shared
//! by every test of the binary, stopped when the process exits.
//!
//! Its realm is [`REALM`]; its principals, passwords and keytabs are those the script's header
//! lists (alice, bob, carol; host, ldap and imap on `localhost`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sealstream_krb5::kdc::KdcConfig;

use crate::peer;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/mitkdc.sh");

/// The realm the KDC serves.
pub const REALM: &str = "SEALSTREAM.TEST";

/// A running KDC: its directory and its configuration for our client.
#[derive(Debug)]
pub struct Kdc {
    /// The script's directory: `krb5.conf`, `service.keytab`, `alice.keytab`, `env`, `kdc.log`.
    pub dir: PathBuf,
    /// The KDC's address, from `krb5.conf`.
    pub config: KdcConfig,
    /// Its address, `127.0.0.1:PORT` (UDP and TCP).
    pub address: String,
}

/// The KDC of this test binary, started once; `None` when MIT krb5 is missing outside CI
/// (under `CI=true` that fails the test).
pub fn kdc() -> Option<&'static Kdc> {
    static KDC: OnceLock<Option<Kdc>> = OnceLock::new();
    KDC.get_or_init(start).as_ref()
}

impl Kdc {
    /// Run one of MIT's client programs (`kinit`, `kvno`, `klist`) against this KDC, with the
    /// credential cache `cache` and `stdin` as its input; panics unless it succeeds.
    pub fn client_program(&self, program: &str, args: &[&str], cache: &Path, stdin: &str) {
        let mut child = Command::new(program)
            .args(args)
            .env("KRB5_CONFIG", self.dir.join("krb5.conf"))
            .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(stdin.as_bytes())
            .expect("the program reads its input");
        let out = child.wait_with_output().expect("the program ends");
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `kinit who` with `password`, into the `FILE:` cache `cache` (replaced if it exists).
    pub fn kinit(&self, who: &str, password: &str, cache: &Path) {
        let _ = std::fs::remove_file(cache);
        self.client_program("kinit", &[who], cache, &format!("{password}\n"));
    }
}

fn start() -> Option<Kdc> {
    start_realm(REALM, &[])
}

/// A KDC of its own for `realm`, with the script's settings `settings` (environment variables:
/// `MITKDC_CROSS_REALMS` for cross-realm keys with other KDCs started with this realm among
/// theirs, `MITKDC_EXTRA_SERVICES`, `MITKDC_DOMAIN_REALMS` for referrals), stopped when the
/// process exits; `None` as for [`kdc`]. Its `config` names only its own realm.
pub fn start_realm(realm: &str, settings: &[(&str, &str)]) -> Option<Kdc> {
    peer::require("krb5kdc")?;
    let (dir, port) = peer::start_script(SCRIPT, "mitkdc", |port, dir| {
        let mut command = Command::new(SCRIPT);
        command
            .args(["start".as_ref(), dir.as_os_str()])
            .arg(port.to_string())
            .arg(realm)
            .envs(settings.iter().copied());
        command
    })?;
    let conf = std::fs::read_to_string(dir.join("krb5.conf")).expect("krb5.conf");
    let config = KdcConfig::from_krb5_conf(&conf).expect("the script's krb5.conf");
    assert_eq!(config.default_realm(), Some(realm));
    // The KDC lives as long as the test process: stop it when the process exits.
    peer::stop_at_exit(SCRIPT, &dir);
    Some(Kdc {
        dir,
        config,
        address: format!("127.0.0.1:{port}"),
    })
}
