//! Read an IMAP mailbox over a SASL security layer (DIGEST-MD5 `auth-int`/`auth-conf`, GSSAPI
//! sign/seal), optionally inside TLS: one line per message, `--save DIR` to keep them,
//! `--append FILE` to store one, `-v` for the protocol.
//!
//! ```text
//! tests/peers/cyrus-imapd.sh start /tmp/cyrus 20143     # Cyrus IMAP: alice / alice-imap-password
//! cargo run -p sealstream-examples --example imap_client -- \
//!     --url imap://localhost:20143 --mech digest-md5 --user alice \
//!     --password alice-imap-password --qop auth-conf -v
//! tests/peers/cyrus-imapd.sh stop /tmp/cyrus
//! ```
//!
//! GSSAPI, with a private MIT KDC beside Cyrus (the service is `imap/HOST` for the host of
//! `--url`, so `localhost` here):
//!
//! ```text
//! tests/peers/mitkdc.sh start /tmp/kdc 20088
//! CYRUS_KRB5_DIR=/tmp/kdc tests/peers/cyrus-imapd.sh start /tmp/cyrus 20143
//! export KRB5_CONFIG=/tmp/kdc/krb5.conf KRB5CCNAME=FILE:/tmp/kdc/alice.ccache
//! echo alice-password | kinit alice
//! cargo run -p sealstream-examples --example imap_client -- \
//!     --url imap://localhost:20143 --mech gssapi --qop auth-conf -v
//! ```
//!
//! `--starttls --ca /tmp/cyrus/ca.pem` (or `--url imaps://localhost:20144`) runs the same inside
//! TLS. The session is in `sealstream_examples::imap_client`, the IMAP parts in
//! `sealstream_examples::imap`. Errors are one line on stderr; the exit status is 2 for bad
//! arguments, 1 otherwise.

use std::process::ExitCode;

use clap::Parser;
use sealstream_examples::imap_client::{Args, run};

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("imap_client: cannot start the async runtime: {e}");
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
            eprintln!("imap_client: {failure}");
            ExitCode::from(failure.exit_code)
        }
    }
}
