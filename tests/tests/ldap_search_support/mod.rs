//! Running the `ldap_search` example's code in process, for the test binaries that search a
//! real directory (slapd, Samba): its output, and the fixtures' byte pattern.

#![allow(dead_code)] // each test binary uses its own subset

use clap::Parser;
use sealstream_examples::ldap_search::{Args, Failure, run};

/// What `ldap_search` printed: LDIF on stdout and, with `-v`, the layer on stderr.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) ldif: String,
    pub(crate) log: String,
}

/// Run `ldap_search` with the command line `argv` (its first word the program's name).
pub(crate) async fn ldap_search(argv: &[&str]) -> Result<Output, Failure> {
    let args = Args::try_parse_from(argv).expect("valid arguments");
    let (mut ldif, mut log) = (Vec::new(), Vec::new());
    run(&args, &mut ldif, &mut log).await?;
    Ok(Output {
        ldif: String::from_utf8(ldif).expect("LDIF is UTF-8"),
        log: String::from_utf8(log).expect("log is UTF-8"),
    })
}

const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` bytes of the fixtures' pattern from `offset` on: byte i is ALNUM[(i + offset) % 62],
/// ALNUM being A-Z a-z 0-9 (tests/peers/slapd.sh, tests/peers/samba-dc.sh).
pub(crate) fn pattern(offset: usize, len: usize) -> String {
    (0..len)
        .map(|i| char::from(ALNUM[(i + offset) % 62]))
        .collect()
}
