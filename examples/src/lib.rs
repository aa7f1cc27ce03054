//! The code behind the examples that need more than one file: the `ldap_search` example's LDAP
//! messages, LDIF output and command, and the `ldap_whoami_server` example's server, kept in a
//! library so the interop tests against slapd, Samba and OpenLDAP's clients run exactly what
//! the examples run.
//!
//! - [`ldap`]: LDAP messages with `rasn-ldap`, a reader that waits for a whole BER message,
//!   and the simple filter syntax.
//! - [`ldif`]: entries as LDIF (RFC 2849).
//! - [`ldap_search`]: the command: SASL bind, security layer, search.
//! - [`mechanism`]: its SASL client, DIGEST-MD5 or GSSAPI (with the Kerberos tickets it needs).
//! - [`ldap_server`]: the `ldap_whoami_server` example's server side: a SASL bind (GSSAPI with
//!   a keytab), its layer, and "Who am I?" answered through it, for LDAP clients of other
//!   implementations to bind to.

#![forbid(unsafe_code)]

pub mod ldap;
pub mod ldap_search;
pub mod ldap_server;
pub mod ldif;
pub mod mechanism;
