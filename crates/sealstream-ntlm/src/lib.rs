//! NTLM (MS-NLMP) for [`sealstream`], in pure Rust: NTLMv2 authentication, as an
//! [`Initiator`] with a password or an NT hash and an [`Acceptor`] that checks an AUTHENTICATE
//! against a hash the application looks up, and NTLM session security (seal and sign) as a
//! security layer whose two directions share nothing.
//!
//! What Active Directory asks of an LDAP client when "LDAP server signing required" is on: a
//! SASL bind whose layer signs or seals. With Kerberos unavailable (no ticket, a machine outside
//! the domain), NTLM is that layer.
//!
//! ```
//! use sealstream::sasl::{FramedSeal, FramedUnseal};
//! use sealstream_ntlm::{
//!     Acceptor, AcceptorOptions, Credentials, Initiator, InitiatorOptions, NtHash, Protection,
//! };
//! use std::time::SystemTime;
//!
//! # fn main() -> Result<(), sealstream::Error> {
//! let now = SystemTime::now();
//! let alice = Credentials::with_password(r"EXAMPLE\alice", "alice's password")?;
//! let (client, negotiate) = Initiator::new(alice, InitiatorOptions::default());
//! let (server, challenge) = Acceptor::new(AcceptorOptions::new("EXAMPLE", "SERVER"), &negotiate, now)?;
//! let (authenticate, client_context) = client.finish(&challenge, now)?;
//!
//! // The server learns who claims to be there, looks the NT hash up, and checks.
//! let claim = server.authenticate(&authenticate)?;
//! assert_eq!((claim.domain(), claim.user()), ("EXAMPLE", "alice"));
//! let accepted = claim.verify(&NtHash::from_password("alice's password"), now)?;
//!
//! // Each side's two halves, as the sealer of a `SealedStream` (RFC 4422 framing).
//! let (wrap, unwrap) = client_context.into_halves(Protection::Seal);
//! let client_sealer = (FramedSeal::new(wrap, 0)?, FramedUnseal::new(unwrap, 65536)?);
//! let (wrap, unwrap) = accepted.into_context().into_halves(Protection::Seal);
//! let server_sealer = (FramedSeal::new(wrap, 0)?, FramedUnseal::new(unwrap, 65536)?);
//! # let _ = (client_sealer, server_sealer);
//! # Ok(()) }
//! ```
//!
//! What is here, and what is refused:
//!
//! - [`messages`]: NEGOTIATE, CHALLENGE and AUTHENTICATE, every field bounds-checked.
//! - [`Initiator`]: NTLMv2 responses over the server's target information extended with a
//!   timestamp, the MIC flag, the target SPN (`MsvAvTargetName`) and TLS channel bindings
//!   (`MsvAvChannelBindings`); key exchange; the MIC over the three messages.
//! - [`Acceptor`]: the checks a Windows server makes: the NTProofStr, the timestamp against its
//!   own, the MIC, the channel bindings and the SPN when it has them; key exchange.
//! - [`SessionContext`] → [`NtlmWrap`] / [`NtlmUnwrap`]: per-direction RC4 states, signing keys
//!   and sequence numbers (MS-NLMP §3.4 with extended session security), as
//!   [`Wrap`](sealstream::sasl::Wrap)/[`Unwrap`](sealstream::sasl::Unwrap) for SASL framing;
//!   signatures for SPNEGO's mechListMIC and the keystream rewind that follows it.
//! - `sasl` (feature `sasl`, on by default): the SASL `NTLM` mechanism Samba's directory
//!   offers, for `sealstream-sasl`, whose layer is this crate's sealed tokens.
//! - Refused, each with a message naming it: LM and NTLMv1 responses, anything without
//!   extended session security (one RC4 state shared by both directions cannot be split), 40-
//!   and 56-bit keys, OEM strings, anonymous logons.
//!
//! Every value of MS-NLMP §4.2.4 (NTLMv2) is a test. The protocol code is ours because no
//! maintained crate offers NTLM session security apart from a whole SSPI stack (`sspi`, whose
//! contexts serialise both directions); the primitives are RustCrypto's (`md4`, `md-5`, `hmac`,
//! `rc4`).

mod acceptor;
mod credentials;
mod crypto;
mod flags;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
mod initiator;
pub mod messages;
#[cfg(feature = "sasl")]
pub mod sasl;
mod session;
pub mod target_info;
mod time;
mod wire;

/// Bytes written in hexadecimal, whitespace ignored: how the tests write MS-NLMP's vectors.
#[cfg(test)]
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

pub use acceptor::{Accepted, Acceptor, AcceptorOptions, Claim, NtHashLookup};
pub use credentials::Credentials;
pub use crypto::{NtHash, channel_bindings_hash};
pub use flags::NegotiateFlags;
pub use initiator::{Initiator, InitiatorOptions};
pub use session::{NtlmUnwrap, NtlmWrap, Protection, Role, SIGNATURE_LEN, SessionContext};
