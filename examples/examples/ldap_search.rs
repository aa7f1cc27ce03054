//! Search an LDAP directory over a SASL DIGEST-MD5 or GSSAPI (Kerberos V5) security layer and
//! print the entries as LDIF.
//!
//! ```text
//! tests/peers/slapd.sh start /tmp/slapd 20389     # a private slapd with DIGEST-MD5 (alice/secret)
//! cargo run -p sealstream-examples --example ldap_search -- \
//!     --url ldap://127.0.0.1:20389 --mech digest-md5 --user alice --password secret \
//!     --qop auth-conf --cipher rc4 -v --base dc=example,dc=com --filter '(uid=alice)' cn mail
//! tests/peers/slapd.sh stop /tmp/slapd
//! ```
//!
//! GSSAPI, with a private MIT KDC beside slapd (the service is `ldap/HOST` for the host of
//! `--url`, so `localhost` here):
//!
//! ```text
//! tests/peers/mitkdc.sh start /tmp/kdc 20088
//! SLAPD_KRB5_DIR=/tmp/kdc tests/peers/slapd.sh start /tmp/slapd 20389
//! export KRB5_CONFIG=/tmp/kdc/krb5.conf KRB5CCNAME=FILE:/tmp/kdc/alice.ccache
//! echo alice-password | kinit alice               # or: --user alice --password-env VAR
//! cargo run -p sealstream-examples --example ldap_search -- \
//!     --url ldap://localhost:20389 --mech gssapi --qop auth-conf -v --base dc=example,dc=com cn
//! tests/peers/slapd.sh stop /tmp/slapd; tests/peers/mitkdc.sh stop /tmp/kdc
//! ```
//!
//! With no password or keytab, GSSAPI takes its tickets from the credential cache `KRB5CCNAME`
//! names (or `--ccache`): a ticket for the service it holds, else one from the KDCs of
//! `krb5.conf` with its ticket-granting ticket.
//!
//! The bind, the layer and the search are in `sealstream_examples::ldap_search`; `-v` prints the
//! negotiated layer, cipher and maxbuf on stderr. Errors are one line on stderr; the exit status
//! is 2 for bad arguments, the LDAP result code when the server refused (49: wrong password),
//! 1 otherwise (a KDC's refusal among them).

use std::process::ExitCode;

use clap::Parser;
use sealstream_examples::ldap_search::{Args, run};

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ldap_search: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(
        &args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("ldap_search: {failure}");
            ExitCode::from(failure.exit_code)
        }
    }
}
