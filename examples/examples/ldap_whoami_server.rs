//! An LDAP server that authenticates clients with SASL GSSAPI (Kerberos V5) from a keytab, or
//! with GSS-SPNEGO (Kerberos from a keytab, NTLM from a user file), seals or signs the
//! connection with the negotiated layer, and answers "Who am I?" (RFC 4532) through it: enough
//! for OpenLDAP's `ldapwhoami` to prove our side of SASL.
//!
//! ```text
//! tests/peers/mitkdc.sh start /tmp/kdc 20088        # keys for ldap/localhost in service.keytab
//! cargo run -p sealstream-examples --example ldap_whoami_server -- \
//!     --listen 127.0.0.1:3890 --keytab /tmp/kdc/service.keytab -v &
//! export KRB5_CONFIG=/tmp/kdc/krb5.conf KRB5CCNAME=FILE:/tmp/kdc/alice.ccache
//! echo alice-password | kinit alice
//! ldapwhoami -N -Y GSSAPI -O minssf=56 -H ldap://localhost:3890   # u:alice@SEALSTREAM.TEST
//! ```
//!
//! GSS-SPNEGO with NTLM, the user file in gss-ntlmssp's format (`DOMAIN:user:password` lines),
//! for a client that takes its NTLM credentials from the same file:
//!
//! ```text
//! echo 'SEALSTREAM:alice:Alice-Pass-1234' > /tmp/users
//! cargo run -p sealstream-examples --example ldap_whoami_server -- \
//!     --mech gss-spnego --ntlm-users /tmp/users --listen 127.0.0.1:3890 -v &
//! NTLM_USER_FILE=/tmp/users ldapwhoami -N -Y GSS-SPNEGO -H ldap://localhost:3890
//! ```
//!
//! (`-N`: Cyrus would otherwise look the host up in DNS and ask for a ticket to the name it
//! finds.) Each connection is one line on stderr with `-v`: who bound, the layer and how many
//! "Who am I?" requests were answered.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use sealstream_examples::ldap_server::serve;
use sealstream_krb5::Keytab;
use sealstream_krb5::gss::{Acceptor, AcceptorOptions};
use sealstream_krb5::sasl::GssapiServer;
use sealstream_negotiate::AcceptorOptions as SpnegoAcceptorOptions;
use sealstream_negotiate::sasl::{NtHashLookup, SpnegoServer};
use sealstream_ntlm::{AcceptorOptions as NtlmAcceptorOptions, NtHash};
use sealstream_sasl::{SecurityProperties, ServerMechanism};
use tokio::net::TcpListener;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "ldap_whoami_server",
    about = "An LDAP server for SASL GSSAPI and GSS-SPNEGO binds and \"Who am I?\" through \
             their layer"
)]
struct Args {
    /// The SASL mechanism served.
    #[arg(long, default_value = "gssapi", value_parser = ["gssapi", "gss-spnego"])]
    mech: String,
    /// Where to listen, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:3890")]
    listen: String,
    /// The keytab with the service's keys (ldap/HOST@REALM, or any service it holds);
    /// required for gssapi, Kerberos inside gss-spnego.
    #[arg(long)]
    keytab: Option<PathBuf>,
    /// gss-spnego: NTLM users, one `DOMAIN:user:password` line each (gss-ntlmssp's format).
    #[arg(long, value_name = "FILE")]
    ntlm_users: Option<PathBuf>,
    /// gss-spnego: the NetBIOS domain and server names the NTLM CHALLENGE carries.
    #[arg(long, default_value = "SEALSTREAM")]
    ntlm_domain: String,
    /// The layers offered: auth-int, auth-conf, or both (the default).
    #[arg(long, value_parser = ["auth-int", "auth-conf"])]
    qop: Option<String>,
    /// The largest frame we accept, announced to clients as maxbuf.
    #[arg(long, default_value_t = 65536)]
    maxbuf: u32,
    /// Serve one connection and exit.
    #[arg(long)]
    once: bool,
    /// One line per connection on stderr.
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ldap_whoami_server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ldap_whoami_server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The users of an NTLM user file: `DOMAIN:user:password` lines, blank lines and `#`
/// comments skipped.
fn read_users(path: &Path) -> Result<Vec<(String, String, NtHash)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--ntlm-users {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, line)| {
            let mut fields = line.splitn(3, ':');
            match (fields.next(), fields.next(), fields.next()) {
                (Some(domain), Some(user), Some(password)) => Ok((
                    domain.to_owned(),
                    user.to_owned(),
                    NtHash::from_password(password),
                )),
                _ => Err(format!(
                    "--ntlm-users {} line {}: not DOMAIN:user:password",
                    path.display(),
                    n + 1
                )),
            }
        })
        .collect()
}

/// The mechanism for one connection.
type Mechanisms = Box<dyn Fn() -> Box<dyn ServerMechanism> + Send + Sync>;

fn mechanisms(args: &Args, props: SecurityProperties) -> Result<Mechanisms, String> {
    let acceptor = match &args.keytab {
        Some(path) => {
            let keytab = Keytab::read(path).map_err(|e| format!("--keytab: {e}"))?;
            Some(Arc::new(Acceptor::new(
                keytab,
                None,
                AcceptorOptions::default(),
            )))
        }
        None => None,
    };
    if args.mech == "gssapi" {
        let acceptor = acceptor.ok_or("--mech gssapi needs --keytab")?;
        return Ok(Box::new(move || {
            Box::new(GssapiServer::new(acceptor.clone(), props.clone()))
        }));
    }
    let mut options = SpnegoAcceptorOptions::new();
    if let Some(acceptor) = acceptor {
        options = options.kerberos(acceptor);
    }
    let users = match &args.ntlm_users {
        Some(path) => {
            options = options.ntlm(NtlmAcceptorOptions::new(&args.ntlm_domain, "LDAP"));
            read_users(path)?
        }
        None => Vec::new(),
    };
    if args.keytab.is_none() && args.ntlm_users.is_none() {
        return Err("--mech gss-spnego needs --keytab, --ntlm-users or both".into());
    }
    let lookup: Arc<dyn NtHashLookup> = Arc::new(move |domain: &str, user: &str| {
        users
            .iter()
            .find(|(d, u, _)| d.eq_ignore_ascii_case(domain) && u.eq_ignore_ascii_case(user))
            .map(|(_, _, hash)| hash.clone())
    });
    Ok(Box::new(move || {
        Box::new(SpnegoServer::new(
            options.clone(),
            lookup.clone(),
            props.clone(),
        ))
    }))
}

async fn run(args: Args) -> Result<(), String> {
    let (min_ssf, max_ssf) = match args.qop.as_deref() {
        Some("auth-int") => (1, 1),
        Some("auth-conf") => (2, 256),
        _ => (1, 256),
    };
    let props = SecurityProperties {
        min_ssf,
        max_ssf,
        maxbuf: args.maxbuf,
        ..SecurityProperties::default()
    };
    let mechanisms = mechanisms(&args, props)?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("ldap_whoami_server: listening on {local}");
    loop {
        let (tcp, peer) = listener.accept().await.map_err(|e| e.to_string())?;
        let mechanism = mechanisms();
        let verbose = args.verbose;
        let connection = tokio::spawn(async move {
            match serve(tcp, mechanism).await {
                Ok(session) if verbose => match session.outcome {
                    Some(o) => eprintln!(
                        "ldap_whoami_server: {peer}: bound as {}, layer {:?}, ssf {}; \
                         answered {} \"Who am I?\"",
                        o.authzid, o.layer, o.ssf, session.who_am_i
                    ),
                    None => eprintln!("ldap_whoami_server: {peer}: left without binding"),
                },
                Ok(_) => {}
                Err(e) => eprintln!("ldap_whoami_server: {peer}: {e}"),
            }
        });
        if args.once {
            return connection.await.map_err(|e| e.to_string());
        }
    }
}
