//! Search an LDAP directory over a SASL DIGEST-MD5 security layer and print the entries as LDIF.
//!
//! ```text
//! tests/peers/slapd.sh start /tmp/slapd 20389     # a private slapd with DIGEST-MD5 (alice/secret)
//! cargo run -p sealstream-examples --example ldap_search -- \
//!     --url ldap://127.0.0.1:20389 --mech digest-md5 --user alice --password secret \
//!     --qop auth-conf --cipher rc4 -v --base dc=example,dc=com --filter '(uid=alice)' cn mail
//! tests/peers/slapd.sh stop /tmp/slapd
//! ```
//!
//! The bind, the layer and the search are in `sealstream_examples::ldap_search`; `-v` prints the
//! negotiated layer, cipher and maxbuf on stderr. Errors are one line on stderr; the exit status
//! is 2 for bad arguments, the LDAP result code when the server refused (49: wrong password),
//! 1 otherwise.

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
