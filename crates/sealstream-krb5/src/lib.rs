//! Kerberos V5 for [`sealstream`], in pure Rust: tickets from a KDC, GSS-API contexts, and the
//! RFC 4121 per-message tokens that protect a stream once a context is established. No system
//! Kerberos library is used or needed.
//!
//! A client that gets its tickets with a password and protects a connection with them:
//!
//! ```no_run
//! use std::time::SystemTime;
//! use sealstream::sasl::{FramedSeal, FramedUnseal};
//! use sealstream_krb5::gss::{Initiator, InitiatorOptions};
//! use sealstream_krb5::kdc::{ClientSecret, InitCredsOptions, KdcConfig};
//! use sealstream_krb5::{LayerOptions, Principal, Protection};
//!
//! # async fn run(mut send_token: impl FnMut(&[u8]) -> Vec<u8>) -> Result<(), sealstream::Error> {
//! let kdcs = KdcConfig::from_environment()?; // KRB5_CONFIG or /etc/krb5.conf
//! let me = Principal::parse("alice", kdcs.default_realm())?;
//! let password = ClientSecret::Password(String::from("alice's password").into());
//! let tgt = kdcs.get_tgt(me, password, InitCredsOptions::default()).await?;
//! let ldap = Principal::service("ldap", "dc1.example.com", "EXAMPLE.COM");
//! let ticket = kdcs.get_service_ticket(&tgt, ldap).await?;
//!
//! // The GSS-API context: an AP-REQ out, the acceptor's AP-REP back.
//! let (initiator, ap_req) = Initiator::new(&ticket, InitiatorOptions::default(), SystemTime::now())?;
//! let ap_rep = send_token(&ap_req);
//! let context = initiator.finish(&ap_rep)?;
//!
//! // Its two halves, as the sealer of a `SealedStream` (RFC 4422 framing, as SASL uses it).
//! let (wrap, unwrap) = context.into_halves(LayerOptions::new(Protection::Confidentiality));
//! let sealer = (FramedSeal::new(wrap, 65536)?, FramedUnseal::new(unwrap, 65536)?);
//! # let _ = sealer;
//! # Ok(()) }
//! ```
//!
//! What is here:
//!
//! - [`crypto`]: `aes128-cts-hmac-sha1-96` and `aes256-cts-hmac-sha1-96` (RFC 3962),
//!   `aes128-cts-hmac-sha256-128` and `aes256-cts-hmac-sha384-192` (RFC 8009): string-to-key,
//!   the RFC 3961 and RFC 8009 key derivations (once per key usage, never per message),
//!   encryption, decryption and checksums in place. Every published vector of RFC 3961 A.1,
//!   RFC 3962 B and RFC 8009 A is a test.
//! - [`kdc`]: the AS exchange (password with PA-ENC-TIMESTAMP pre-authentication, the salt and
//!   parameters from PA-ETYPE-INFO2, or keys from a [`Keytab`]) and the TGS exchange, sans-IO,
//!   with clock correction from `KRB_AP_ERR_SKEW` and the switch to TCP on
//!   `KRB_ERR_RESPONSE_TOO_BIG`; [`KdcConfig`](kdc::KdcConfig) sends them over UDP and TCP to
//!   the KDCs of a `krb5.conf`, and reaches services of other realms through cross-realm
//!   ticket-granting tickets and KDC referrals (RFC 6806; a bounded path, each realm once).
//! - [`gss`]: the AP-REQ/AP-REP exchange as GSS-API tokens, as an [`Initiator`](gss::Initiator)
//!   with a service ticket or an [`Acceptor`](gss::Acceptor) with a keytab (ticket and
//!   authenticator checks, a replay cache, channel bindings).
//! - [`SecurityContext`]: an established context split into a [`Krb5Wrap`] and a
//!   [`Krb5Unwrap`] that share nothing, so one task seals while another unseals. Wrap tokens
//!   with and without confidentiality (`Qop::IntegrityOnly`), MIC tokens, any EC and RRC on
//!   receive, sequence numbers checked.
//! - `sasl` (feature `sasl`, on by default): the SASL GSSAPI mechanism of RFC 4752, client and
//!   server, for `sealstream-sasl`: it negotiates no layer, integrity or confidentiality and
//!   hands back this crate's Wrap tokens as the layer.
//!
//! - [`ccache`]: the tickets of an MIT `FILE:` credential cache (what `kinit` writes; the one
//!   `KRB5CCNAME` names by default), so a user who has run `kinit` needs no password here.
//!
//! All of it is tested against MIT krb5 1.20: tickets from its KDC for every AES type and from
//! the caches its `kinit` and `kvno` write, our initiator with its `gss-server` and its
//! `gss-client` with our acceptor, sealed and signed tokens both ways; the GSSAPI mechanism
//! against OpenLDAP slapd with Cyrus SASL (our client) and OpenLDAP's `ldapwhoami` with Cyrus
//! SASL (our server); and tickets and signed and sealed LDAP against a
//! Samba 4.17 Active Directory domain controller that requires signing (its tokens rotated the
//! Windows way, under the acceptor's subkey); and across two MIT realms that trust each other,
//! directly and by referral. Not yet: credential caches of other types (`KEYRING:`, `KCM:`,
//! `DIR:`).
//!
//! # Why this crate has its own Kerberos code
//!
//! Nothing cryptographic is written here: the primitives are RustCrypto's (`aes`, `cts`,
//! `hmac`, `sha1`, `sha2`, `pbkdf2`), and the messages are encoded and decoded by RustCrypto's
//! `der`, with the RFC 4120 types declared here field for field (about twenty of them). What is
//! ours is the Kerberos layer over those, because no maintained crate offers it in the shape a
//! stream needs: `sspi` serialises both directions behind one `&mut self`, assumes RRC 28 and
//! never checks incoming sequence numbers; `picky-krb` derives the keys on every call and
//! returns fresh buffers; `rasn-kerberos` has the message types but brings some forty crates
//! (JSON and XML codecs among them) to parse what a KDC sends; the others are bindings to a
//! system library, or under licences a library cannot pass on.
//!
//! Only AES types are implemented: DES, 3DES and RC4-HMAC are deprecated (RFC 6649, RFC 8429).

#![forbid(unsafe_code)]

mod asn1;
pub mod ccache;
pub mod crypto;
mod enctype;
mod file_reader;
// The cargo-fuzz targets' entry points: built for them (`--cfg fuzzing`) and for this crate's
// tests, never as public API.
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
pub mod gss;
pub mod kdc;
mod keytab;
mod principal;
#[cfg(feature = "sasl")]
pub mod sasl;
#[cfg(test)]
mod testing;
mod token;
pub mod usage;

pub use crypto::Key;
pub use enctype::Enctype;
pub use keytab::{Keytab, KeytabEntry};
pub use principal::Principal;
pub use token::{Krb5Unwrap, Krb5Wrap, LayerOptions, Protection, Role, SecurityContext};
