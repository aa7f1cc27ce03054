//! Negotiate (SPNEGO, RFC 4178, with Microsoft's MS-SPNG behaviour) for [`sealstream`]:
//! Kerberos when the client has a ticket, NTLM when it must, in pure Rust.
//!
//! This is what Active Directory calls Negotiate and what its LDAP servers offer as SASL
//! `GSS-SPNEGO`: the client lists the mechanisms it can use, sends the first one's token at
//! once, and the server answers with the mechanism it chose. What follows is the chosen
//! mechanism's own exchange, each token carried in a SPNEGO token, and at the end a MIC over the
//! list of mechanisms (mechListMIC) so that nobody on the path could have removed the strong
//! ones from it.
//!
//! Both ends of an exchange with NTLM, as a client with a password and a server that looks
//! users up meet (with Kerberos, add `.kerberos(ticket)` to the client's options and
//! `.kerberos(acceptor)` to the server's; it is then offered first and takes one round trip):
//!
//! ```
//! use std::time::SystemTime;
//! use sealstream_negotiate::{AcceptStep, Acceptor, AcceptorOptions, Initiator, InitiatorOptions, Step};
//! use sealstream_ntlm::{AcceptorOptions as NtlmOptions, Credentials, NtHash};
//!
//! # fn main() -> Result<(), sealstream::Error> {
//! let now = SystemTime::now();
//! let alice = Credentials::with_password(r"EXAMPLE\alice", "alice's password")?;
//! let client_options = InitiatorOptions::new(true).ntlm(alice, Default::default());
//! let (mut client, mut token) = Initiator::new(client_options, now)?;
//! let mut server = Acceptor::new(AcceptorOptions::new().ntlm(NtlmOptions::new("EXAMPLE", "DC1")));
//! loop {
//!     let mut step = server.step(&token, now)?;
//!     if let AcceptStep::Verify { domain, user } = &step {
//!         // Look the user's NT hash up (a directory, a database...).
//!         assert_eq!((domain.as_str(), user.as_str()), ("EXAMPLE", "alice"));
//!         step = server.verify(&NtHash::from_password("alice's password"), now)?;
//!     }
//!     match step {
//!         AcceptStep::Continue(answer) => match client.step(&answer, now)? {
//!             Step::Continue(next) => token = next,
//!             Step::Done => unreachable!("NTLM takes two round trips"),
//!         },
//!         AcceptStep::Done(last) => {
//!             client.step(&last, now)?;
//!             break;
//!         }
//!         AcceptStep::Verify { .. } => unreachable!("answered above"),
//!     }
//! }
//! // Each side's halves, for `FramedSeal`/`FramedUnseal` or a SASL layer.
//! let (client_wrap, client_unwrap) = client.into_negotiated()?.into_halves();
//! let (server_wrap, server_unwrap) = server.into_negotiated()?.into_halves();
//! # let _ = (client_wrap, client_unwrap, server_wrap, server_unwrap);
//! # Ok(()) }
//! ```
//!
//! - [`token`]: `NegTokenInit` and `NegTokenResp` in DER, and the GSS-API framing of the first.
//! - [`Initiator`]: offers Kerberos (with a service ticket, as an optimistic AP-REQ) before
//!   NTLM, follows the acceptor's choice, checks and sends the mechListMIC, and for NTLM rewinds
//!   the RC4 keystreams after the MICs as MS-SPNG §3.3.5.1 has both ends do.
//! - [`Acceptor`]: takes the first mechanism of the initiator's list it can serve; with NTLM
//!   it says whose NT hash it needs ([`AcceptStep::Verify`]) so the application can look it up
//!   behind an await, then checks the AUTHENTICATE and the mechListMIC and answers with its own.
//! - [`Negotiated`]: the established context of either mechanism, split into a [`SpnegoWrap`]
//!   and a [`SpnegoUnwrap`] that share nothing.
//! - `sasl` (feature `sasl`, on by default): SASL GSS-SPNEGO as Active Directory runs it: no
//!   RFC 4752 layer negotiation; the layer follows the context's flags.
//!
//! The SPNEGO layer is ours because the crates that have it (`picky-krb`'s types, `sspi`'s
//! negotiate) come with their own Kerberos and NTLM, and the point here is to drive this
//! project's sealers; the DER is RustCrypto's `der`.

mod acceptor;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
mod initiator;
mod layer;
pub mod oid;
#[cfg(feature = "sasl")]
pub mod sasl;
pub mod token;

pub use acceptor::{AcceptStep, Acceptor, AcceptorOptions};
pub use initiator::{Initiator, InitiatorOptions, Mechanism, Step};
pub use layer::{Negotiated, SpnegoUnwrap, SpnegoWrap};
