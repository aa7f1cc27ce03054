//! The code behind the examples that need more than one file: the `ldap_search` example's LDAP
//! messages, LDIF output and command, the `ldap_whoami_server` example's server and the
//! `imap_client` example's session, kept in a library so the interop tests against slapd,
//! Samba, Cyrus IMAP and OpenLDAP's clients run exactly what the examples run.
//!
//! - [`ldap`]: LDAP messages with `rasn-ldap`, a reader that waits for a whole BER message,
//!   and the simple filter syntax.
//! - [`ldif`]: entries as LDIF (RFC 2849).
//! - [`ldap_bind`]: the SASL bind with any `sealstream_sasl` client mechanism.
//! - [`ldap_search`]: the command: SASL bind, security layer, search.
//! - [`ldap_server`]: the `ldap_whoami_server` example's server side: a SASL bind (GSSAPI with
//!   a keytab), its layer, and "Who am I?" answered through it, for LDAP clients of other
//!   implementations to bind to.
//! - [`imap`] and [`imap_client`]: the `imap_client` example: IMAP responses and literals,
//!   AUTHENTICATE with a `sealstream_sasl` mechanism, and the session that reads a mailbox
//!   through the negotiated layer (the Cyrus IMAP interop test runs it).
//! - [`sasl_args`], [`mechanism`], [`connect`], [`tls`], [`failure`]: what both clients share:
//!   the SASL options and the mechanism they make, the URL and TCP connection, whom TLS
//!   trusts, and the one-line failure with its exit status.

#![forbid(unsafe_code)]

pub mod connect;
pub mod failure;
pub mod imap;
pub mod imap_client;
pub mod ldap;
pub mod ldap_bind;
pub mod ldap_search;
pub mod ldap_server;
pub mod ldif;
pub mod mechanism;
pub mod sasl_args;
pub mod tls;
