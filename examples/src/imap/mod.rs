//! IMAP4rev1 (RFC 3501) as far as a client that authenticates with SASL needs it, kept apart
//! from the `imap_client` command so it can be copied on its own:
//!
//! - [`reader`]: whole responses, literals included, within limits, never reading past them;
//! - [`response`]: what a response says (tag, status, code, capabilities, FETCH attributes);
//! - [`session`]: tagged commands and their completion, and a protocol trace;
//! - [`authenticate`]: AUTHENTICATE with a `sealstream_sasl` mechanism, SASL-IR when offered;
//! - [`login`]: greeting, capabilities, STARTTLS, and AUTHENTICATE with an offered mechanism.

pub mod authenticate;
pub mod login;
pub mod reader;
pub mod response;
pub mod session;
