//! An LDAP server that authenticates clients with SASL GSSAPI (Kerberos V5) from a keytab,
//! seals or signs the connection with the negotiated layer, and answers "Who am I?" (RFC 4532)
//! through it: enough for OpenLDAP's `ldapwhoami` to prove our side of SASL.
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
//! (`-N`: Cyrus would otherwise look the host up in DNS and ask for a ticket to the name it
//! finds.) Each connection is one line on stderr with `-v`: who bound, the layer and how many
//! "Who am I?" requests were answered.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use sealstream_examples::ldap_server::serve;
use sealstream_krb5::Keytab;
use sealstream_krb5::gss::{Acceptor, AcceptorOptions};
use sealstream_krb5::sasl::GssapiServer;
use sealstream_sasl::SecurityProperties;
use tokio::net::TcpListener;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "ldap_whoami_server",
    about = "An LDAP server for SASL GSSAPI binds and \"Who am I?\" through their layer"
)]
struct Args {
    /// Where to listen, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:3890")]
    listen: String,
    /// The keytab with the service's keys (ldap/HOST@REALM, or any service it holds).
    #[arg(long)]
    keytab: PathBuf,
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

async fn run(args: Args) -> Result<(), String> {
    let keytab = Keytab::read(&args.keytab).map_err(|e| format!("--keytab: {e}"))?;
    let acceptor = Arc::new(Acceptor::new(keytab, None, AcceptorOptions::default()));
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
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("ldap_whoami_server: listening on {local}");
    loop {
        let (tcp, peer) = listener.accept().await.map_err(|e| e.to_string())?;
        let mechanism = Box::new(GssapiServer::new(acceptor.clone(), props.clone()));
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
