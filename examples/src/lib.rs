//! The code behind the examples that need more than one file: the `ldap_search` example's LDAP
//! messages, LDIF output and command, kept in a library so the interop tests against a real
//! slapd run exactly what the example runs.
//!
//! - [`ldap`]: LDAP messages with `rasn-ldap`, a reader that waits for a whole BER message,
//!   and the simple filter syntax.
//! - [`ldif`]: entries as LDIF (RFC 2849).
//! - [`ldap_search`]: the command: SASL bind, security layer, search.
//! - [`mechanism`]: its SASL client, DIGEST-MD5 or GSSAPI (with the Kerberos tickets it needs).

#![forbid(unsafe_code)]

pub mod ldap;
pub mod ldap_search;
pub mod ldif;
pub mod mechanism;
