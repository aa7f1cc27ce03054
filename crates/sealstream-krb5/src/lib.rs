//! Kerberos V5 for [`sealstream`], in pure Rust: the AES encryption types and the RFC 4121
//! per-message tokens that protect a stream once a Kerberos context is established.
//!
//! ```
//! use sealstream::sasl::{FramedSeal, FramedUnseal};
//! use sealstream_krb5::{Enctype, Key, LayerOptions, Protection, Role, SecurityContext};
//!
//! # fn main() -> Result<(), sealstream::Error> {
//! // The session key and sequence numbers an AP-REQ/AP-REP exchange agreed on.
//! let key = Key::new(Enctype::Aes256CtsHmacSha196, &[7; 32])?;
//! let context = SecurityContext::new(Role::Initiator, key, None, 1000, 2000);
//! let (wrap, unwrap) = context.into_halves(LayerOptions::new(Protection::Confidentiality));
//! // A SASL GSSAPI layer (RFC 4752): RFC 4422 frames of at most the peer's max buffer.
//! let sealer = (FramedSeal::new(wrap, 65536)?, FramedUnseal::new(unwrap, 65536)?);
//! # let _ = sealer;
//! # Ok(()) }
//! ```
//!
//! What is here today:
//!
//! - [`crypto`]: `aes128-cts-hmac-sha1-96` and `aes256-cts-hmac-sha1-96` (RFC 3962),
//!   `aes128-cts-hmac-sha256-128` and `aes256-cts-hmac-sha384-192` (RFC 8009): string-to-key,
//!   the RFC 3961 and RFC 8009 key derivations (once per key usage, never per message),
//!   encryption, decryption and checksums in place. Every published vector of RFC 3961 A.1,
//!   RFC 3962 B and RFC 8009 A is a test.
//! - [`SecurityContext`]: an established context split into a [`Krb5Wrap`] and a
//!   [`Krb5Unwrap`] that share nothing, so one task seals while another unseals. Wrap tokens
//!   with and without confidentiality (`Qop::IntegrityOnly`), MIC tokens, any EC and RRC on
//!   receive, sequence numbers checked.
//!
//! Getting a context (the AS, TGS and AP exchanges, keytabs and credential caches) is the next
//! part of this crate; until then a context comes from keys you have.
//!
//! # Why this crate has its own Kerberos code
//!
//! The primitives are RustCrypto's (`aes`, `cts`, `hmac`, `sha1`, `sha2`, `pbkdf2`); nothing
//! cryptographic is written here. The Kerberos layer over them is ours because no maintained
//! crate offers it in the shape a stream needs: `sspi` serialises both directions behind one
//! `&mut self`, assumes RRC 28 and never checks incoming sequence numbers; `picky-krb` derives
//! the keys on every call and returns fresh buffers; the others are bindings to a system
//! library, or under licences a library cannot pass on.
//!
//! Only AES types are implemented: DES, 3DES and RC4-HMAC are deprecated (RFC 6649, RFC 8429).

#![forbid(unsafe_code)]

pub mod crypto;
mod enctype;
#[doc(hidden)]
pub mod fuzzing;
mod token;
pub mod usage;

pub use crypto::Key;
pub use enctype::Enctype;
pub use token::{Krb5Unwrap, Krb5Wrap, LayerOptions, Protection, Role, SecurityContext};
