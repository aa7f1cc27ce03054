//! SASL (RFC 4422) for [`sealstream`]: mechanisms as sans-IO steps, and the security layer they
//! negotiate as the sealer of a [`SealedStream`](sealstream::SealedStream).
//!
//! The exchange belongs to the application protocol (LDAP binds, IMAP `AUTHENTICATE`), so the
//! mechanisms here never touch a socket: [`ClientMechanism`] and [`ServerMechanism`] turn the
//! peer's message into the next one. When the exchange succeeds, [`Outcome`] says what was
//! established and [`SecurityLayer::into_sealer`] gives the two halves that protect everything
//! after it, framed per RFC 4422 §3.7 by `sealstream::sasl`.
//!
//! ```no_run
//! use sealstream::SealedStream;
//! use sealstream_sasl::digest::{DigestClient, DigestClientConfig};
//! use sealstream_sasl::{ClientMechanism, Step};
//!
//! # async fn run(tcp: tokio::net::TcpStream,
//! #     mut send: impl FnMut(&[u8]) -> Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = DigestClientConfig::new("alice", "secret", "ldap", "ldap.example.com");
//! config.props.min_ssf = 56; // require confidentiality
//! let mut client = Box::new(DigestClient::new(config));
//! let challenge = send(&[]); // a BindRequest without credentials; the server's challenge
//! let Step::Continue(response) = client.step(&challenge)? else { unreachable!() };
//! let rspauth = send(&response); // the BindResponse's serverSaslCreds
//! client.success(Some(&rspauth))?; // mutual authentication: the server knew the password
//! println!("{:?}", client.outcome());
//! if let Some(layer) = client.into_layer()? {
//!     let stream = SealedStream::new(tcp, layer.into_sealer()?);
//!     // read and write LDAP messages through `stream`
//! #   drop(stream);
//! }
//! # Ok(()) }
//! ```
//!
//! Mechanisms: [`plain`] (RFC 4616), [`external`] (RFC 4422 appendix A), [`digest`]
//! (DIGEST-MD5, RFC 2831, with its `auth-int` and `auth-conf` layers) and [`scram`]'s client
//! (SCRAM-SHA-256 and SCRAM-SHA-1, RFC 5802 and RFC 7677, with their `-PLUS` channel-bound
//! variants; no layer, for use inside TLS). Other crates' mechanisms
//! plug in through the same traits and [`SecurityLayer::new`], and take part in
//! [`SaslClientConfig::choose`] once registered ([`SaslClientConfig::register`], a
//! [`ClientMechanismFactory`]): `sealstream-krb5` provides GSSAPI so. Channel bindings of the
//! channel under SASL reach the mechanisms that use them through
//! [`SaslClientConfig::channel_bindings`]. A mechanism whose steps must wait for something outside
//! the exchange (a KDC) implements [`AsyncClientMechanism`]; [`Ready`] drives any other the same
//! way.

#![forbid(unsafe_code)]

mod async_client;
mod credentials;
pub mod digest;
mod error;
pub mod external;
// The cargo-fuzz targets' entry points: built for them (`--cfg fuzzing`) and for this crate's
// tests, never as public API.
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
mod layer;
mod mechanism;
mod one_message;
pub mod plain;
mod props;
mod registry;
pub mod scram;
mod select;

pub use async_client::{AsyncClientMechanism, Ready, StepFuture};
pub use credentials::{CredentialLookup, Secret};
pub use error::{AuthError, AuthErrorKind};
pub use layer::{LayerUnwrap, LayerWrap, SaslSealer, SecurityLayer};
pub use mechanism::{ClientMechanism, Layer, Outcome, ServerMechanism, Step};
pub use props::{MechanismInfo, SecurityProperties, choose_mechanism};
pub use registry::{ChannelBindingData, ClientMechanismFactory};
pub use select::SaslClientConfig;
