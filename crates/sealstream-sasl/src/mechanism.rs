//! The mechanism traits: one authentication exchange, independent of the protocol carrying it.
//!
//! LDAP carries SASL messages in BindRequest/BindResponse, IMAP in AUTHENTICATE continuation
//! lines, SMTP in base64 `334` replies. The mechanism only turns the peer's last message into
//! its next one, so the same DIGEST-MD5 (and later GSSAPI or NTLM) code serves all of them. What
//! the protocol must do around the steps:
//!
//! - send the client's [initial response](ClientMechanism::start) with the request when there is
//!   one (RFC 4422 §3.3 distinguishes "no initial response" from an empty one);
//! - relay challenges and responses until one side reports [`Step::Done`];
//! - deliver the server's outcome to the client, with the server's additional data if the
//!   protocol carries it ([`ClientMechanism::success`]); a protocol that cannot (RFC 4422 §3.6)
//!   sends that data as a last challenge and an empty response answers it;
//! - after success, install the negotiated [`SecurityLayer`] (if any) on the connection: the
//!   first byte after the server's success message is framed.

use crate::{AuthError, SecurityLayer};

/// What a step produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this message (a client response or a server challenge) and wait for the peer's next.
    Continue(Vec<u8>),
    /// The exchange is complete on this side.
    ///
    /// A client sends the message, if any, as its last response and waits for the outcome. A
    /// server reports success, with the message as additional data (RFC 4422 §3.6).
    Done(Option<Vec<u8>>),
}

/// The security layer an exchange negotiated (RFC 4422 §3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// No layer: data after the exchange flows unprotected.
    None,
    /// Integrity protection (DIGEST-MD5 `auth-int`, GSSAPI integrity).
    Integrity,
    /// Integrity and confidentiality with the named cipher (DIGEST-MD5 `auth-conf`).
    Confidentiality {
        /// The cipher's name as the mechanism spells it (`"3des"`, `"rc4"`, ...).
        cipher: &'static str,
    },
}

/// What a completed exchange established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The mechanism's name (`"DIGEST-MD5"`).
    pub mechanism: &'static str,
    /// The authentication identity whose credentials were proven (empty for EXTERNAL, where the
    /// lower layer proved them).
    pub authcid: String,
    /// The authorization identity: the one requested, or the authentication identity when none
    /// was (RFC 4422 §3.4.1).
    pub authzid: String,
    /// The negotiated security layer.
    pub layer: Layer,
    /// The security strength factor of the layer, in Cyrus's units (roughly key bits: 0 for no
    /// layer, 1 for integrity only, 128 for DIGEST-MD5 `rc4`).
    pub ssf: u32,
    /// The largest wrapped buffer we accept, as announced to the peer.
    pub our_maxbuf: u32,
    /// The largest wrapped buffer the peer accepts; we never send a larger frame. 0 is read as
    /// "no limit" by the framing.
    pub peer_maxbuf: u32,
}

/// A client's side of one mechanism's exchange.
///
/// Object safe: a client picks a mechanism from the server's list at run time and drives it as a
/// `Box<dyn ClientMechanism>`.
pub trait ClientMechanism: Send + std::fmt::Debug {
    /// The registered mechanism name (RFC 4422 §3.1).
    fn name(&self) -> &'static str;

    /// Start the exchange: the initial response to send with the authentication request, or
    /// `None` when the mechanism waits for the server's first challenge.
    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError>;

    /// Answer the server's challenge.
    fn step(&mut self, challenge: &[u8]) -> Result<Step, AuthError>;

    /// The server reported success, with its additional data if the protocol carried some.
    /// Mechanisms with mutual authentication verify the server here (DIGEST-MD5 `rspauth`) unless
    /// a last challenge already carried it.
    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError>;

    /// What the exchange established, once [`success`](Self::success) accepted the outcome.
    fn outcome(&self) -> Option<&Outcome>;

    /// The negotiated layer's sealer parts, or `None` for [`Layer::None`]. Fails before success.
    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError>;
}

/// A server's side of one mechanism's exchange.
pub trait ServerMechanism: Send + std::fmt::Debug {
    /// The registered mechanism name.
    fn name(&self) -> &'static str;

    /// Start the exchange with the client's initial response, if the request carried one.
    /// Server-first mechanisms (DIGEST-MD5) answer with their first challenge.
    fn start(&mut self, initial_response: Option<&[u8]>) -> Result<Step, AuthError>;

    /// Process the client's response to the last challenge.
    fn step(&mut self, response: &[u8]) -> Result<Step, AuthError>;

    /// What the exchange established, once a step returned [`Step::Done`].
    fn outcome(&self) -> Option<&Outcome>;

    /// The negotiated layer's sealer parts, or `None` for [`Layer::None`]. Fails before
    /// [`Step::Done`].
    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError>;
}
