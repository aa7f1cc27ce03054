//! SASL `NTLM`: NTLMSSP carried directly in SASL messages, as Samba's directory offers it
//! beside GSSAPI and GSS-SPNEGO, with the security layer the NTLM flags settle.
//!
//! No RFC defines it; what it is, as Samba's LDAP server runs it (checked against Samba 4.17):
//!
//! 1. the client's initial response is its NEGOTIATE; the server answers with its CHALLENGE;
//! 2. the client's AUTHENTICATE is its last response; the server reports success with no
//!    additional data;
//! 3. there is no layer negotiation: when NTLMSSP_NEGOTIATE_SEAL was settled the layer seals,
//!    when only NTLMSSP_NEGOTIATE_SIGN was it signs, and with neither there is none (which a
//!    directory requiring signing refuses, LDAP result 8);
//! 4. each frame is an RFC 4422 length and an NTLM token (signature, then data). Sign-only
//!    layers seal the data too ("LDAP style"): Samba, gss-ntlmssp and Windows all do, and so do
//!    [`NtlmClient`] and [`NtlmServer`] by default. Between two ends of this crate a signing
//!    layer can leave the data in clear instead ([`NtlmClient::seal_when_signing`]), which no
//!    directory accepts.
//!
//! Neither side announces a maximum buffer. The client sends frames of at most
//! [`SEND_FRAME`] bytes and accepts frames of up to [`RECEIVE_FRAME`] bytes or the
//! properties' `maxbuf`, whichever is larger (Samba sends up to 131,072).

use std::sync::Arc;
use std::time::SystemTime;

use sealstream_sasl::{
    AuthError, AuthErrorKind, ClientMechanism, ClientMechanismFactory, Layer, MechanismInfo,
    Outcome, SaslClientConfig, SecurityLayer, SecurityProperties, ServerMechanism, Step,
};

use crate::flags::NegotiateFlags as F;
use crate::session::{Protection, SessionContext};
use crate::{Acceptor, AcceptorOptions, Credentials, Initiator, InitiatorOptions, NtHashLookup};

/// The mechanism's name.
pub const NAME: &str = "NTLM";
/// The largest frame the client sends.
pub const SEND_FRAME: u32 = 65536;
/// The least the client accepts, whatever `maxbuf` says.
pub const RECEIVE_FRAME: u32 = 262_144;
/// The strength factor of a sealing layer: RC4 with a 128-bit key.
const SSF_SEAL: u32 = 128;
/// The strength factor of a signing layer.
const SSF_SIGN: u32 = 1;

fn ntlm_error(what: &str, e: sealstream::Error) -> AuthError {
    use sealstream::Status;
    let kind = match e.status() {
        Status::InvalidToken => AuthErrorKind::Malformed,
        Status::UnsupportedFunction => AuthErrorKind::Policy,
        Status::InternalError => AuthErrorKind::Internal,
        _ => AuthErrorKind::Denied,
    };
    AuthError::new(kind, format!("{what}: {e}"))
}

/// NTLM for [`SaslClientConfig::register`]: with the user's credentials, it takes part in
/// `SaslClientConfig::choose` at strength 128 and binds to [`SaslClientConfig::channel_bindings`] when
/// they are set.
#[derive(Debug, Clone)]
pub struct NtlmMechanism {
    credentials: Credentials,
}

impl NtlmMechanism {
    /// The mechanism for `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self { credentials }
    }
}

impl ClientMechanismFactory for NtlmMechanism {
    fn info(&self) -> MechanismInfo {
        MechanismInfo {
            name: NAME,
            max_ssf: SSF_SEAL,
            plaintext: false,
        }
    }

    fn client(&self, config: &SaslClientConfig) -> Result<Box<dyn ClientMechanism>, AuthError> {
        // The service the configuration names, as MsvAvTargetName: a server can tell an
        // exchange relayed from another service.
        let mut options =
            InitiatorOptions::default().target_name(format!("{}/{}", config.service, config.host));
        if let Some(bindings) = &config.channel_bindings {
            options = options.channel_bindings(bindings.prefixed());
        }
        Ok(Box::new(NtlmClient::with_options(
            self.credentials.clone(),
            config.props.clone(),
            options,
        )))
    }
}

/// Where a client is.
enum State {
    Start(Credentials, InitiatorOptions),
    AwaitChallenge(Initiator),
    AwaitSuccess(SessionContext, Outcome),
    Done(SessionContext, Outcome),
    Failed,
}

/// The client of SASL NTLM.
pub struct NtlmClient {
    props: SecurityProperties,
    seal_when_signing: bool,
    state: State,
}

impl std::fmt::Debug for NtlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmClient")
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl NtlmClient {
    /// A client for `credentials` whose layer lies within `props`: sealing if `max_ssf`
    /// reaches 128, else signing if it reaches 1, else none.
    pub fn new(credentials: Credentials, props: SecurityProperties) -> Self {
        Self::with_options(credentials, props, InitiatorOptions::default())
    }

    /// The same with initiator options (an SPN, channel bindings); the signing and sealing
    /// flags are set from `props`.
    pub fn with_options(
        credentials: Credentials,
        props: SecurityProperties,
        options: InitiatorOptions,
    ) -> Self {
        let options = options.session_security(
            props.accepts_layer(SSF_SIGN) || props.accepts_layer(SSF_SEAL),
            props.accepts_layer(SSF_SEAL),
        );
        Self {
            props,
            seal_when_signing: true,
            state: State::Start(credentials, options),
        }
    }

    /// Whether a layer that only signs seals its data all the same, as every directory
    /// expects (the default). `false` leaves signed data in clear, for a peer of this crate
    /// that does the same ([`NtlmServer::seal_when_signing`]).
    pub fn seal_when_signing(mut self, seal: bool) -> Self {
        self.seal_when_signing = seal;
        self
    }
}

/// The layer a context's flags settle, within `props`.
fn settle(
    props: &SecurityProperties,
    context: &SessionContext,
    user: String,
) -> Result<Outcome, AuthError> {
    let flags = context.flags();
    let (layer, ssf) = if flags.contains(F::SEAL) {
        (Layer::Confidentiality { cipher: "rc4" }, SSF_SEAL)
    } else if flags.contains(F::SIGN) {
        (Layer::Integrity, SSF_SIGN)
    } else {
        (Layer::None, 0)
    };
    if !props.accepts_layer(ssf) {
        return Err(AuthError::policy(format!(
            "NTLM settled on {layer:?} (strength {ssf}); min_ssf {} and max_ssf {} do not allow \
             it",
            props.min_ssf, props.max_ssf
        )));
    }
    let (our_maxbuf, peer_maxbuf) = match layer {
        Layer::None => (0, 0),
        _ => (props.maxbuf.max(RECEIVE_FRAME), SEND_FRAME),
    };
    Ok(Outcome {
        mechanism: NAME,
        authzid: user.clone(),
        authcid: user,
        layer,
        ssf,
        our_maxbuf,
        peer_maxbuf,
    })
}

/// The sealer of an established context, or `None` when no layer was settled.
fn layer_of(
    context: SessionContext,
    outcome: &Outcome,
    seal_when_signing: bool,
) -> Option<SecurityLayer> {
    let protection = match outcome.layer {
        Layer::None => return None,
        Layer::Integrity if !seal_when_signing => Protection::Sign,
        _ => Protection::Seal,
    };
    let (wrap, unwrap) = context.into_halves(protection);
    Some(SecurityLayer::new(
        wrap,
        unwrap,
        outcome.our_maxbuf,
        outcome.peer_maxbuf,
    ))
}

impl ClientMechanism for NtlmClient {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Start(credentials, options) => {
                let (initiator, negotiate) = Initiator::new(credentials, options);
                self.state = State::AwaitChallenge(initiator);
                Ok(Some(negotiate))
            }
            other => {
                self.state = other;
                Err(AuthError::state("the NTLM exchange has already started"))
            }
        }
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitChallenge(initiator) => {
                let user = initiator.user_name();
                let (authenticate, context) = initiator
                    .finish(challenge, SystemTime::now())
                    .map_err(|e| ntlm_error("the server's CHALLENGE", e))?;
                let outcome = settle(&self.props, &context, user)?;
                self.state = State::AwaitSuccess(context, outcome);
                Ok(Step::Done(Some(authenticate)))
            }
            other => {
                self.state = other;
                Err(AuthError::state("no NTLM challenge is expected now"))
            }
        }
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitSuccess(..) if additional_data.is_some_and(|d| !d.is_empty()) => Err(
                AuthError::malformed("NTLM success carries no additional data"),
            ),
            State::AwaitSuccess(context, outcome) => {
                self.state = State::Done(context, outcome);
                Ok(())
            }
            other => {
                self.state = other;
                Err(AuthError::state(
                    "the server reported success before the NTLM exchange ended",
                ))
            }
        }
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Done(_, outcome) => Some(outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        let State::Done(context, outcome) = self.state else {
            return Err(AuthError::state("the NTLM exchange has not succeeded"));
        };
        Ok(layer_of(context, &outcome, self.seal_when_signing))
    }
}

enum ServerState {
    AwaitNegotiate,
    AwaitAuthenticate(Box<Acceptor>),
    Done(SessionContext, Outcome),
    Failed,
}

/// The server of SASL NTLM: NT hashes from an [`NtHashLookup`], the layer the client's flags
/// settle if `props` accept it.
pub struct NtlmServer {
    options: AcceptorOptions,
    lookup: Arc<dyn NtHashLookup>,
    props: SecurityProperties,
    seal_when_signing: bool,
    state: ServerState,
}

impl std::fmt::Debug for NtlmServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmServer")
            .field("options", &self.options)
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl NtlmServer {
    /// A server saying and requiring what `options` do, with NT hashes from `lookup`.
    pub fn new(
        options: AcceptorOptions,
        lookup: Arc<dyn NtHashLookup>,
        props: SecurityProperties,
    ) -> Self {
        Self {
            options,
            lookup,
            props,
            seal_when_signing: true,
            state: ServerState::AwaitNegotiate,
        }
    }

    /// Whether a layer that only signs seals its data all the same (the default); see
    /// [`NtlmClient::seal_when_signing`].
    pub fn seal_when_signing(mut self, seal: bool) -> Self {
        self.seal_when_signing = seal;
        self
    }
}

impl ServerMechanism for NtlmServer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, initial_response: Option<&[u8]>) -> Result<Step, AuthError> {
        let negotiate = match (&self.state, initial_response) {
            (ServerState::AwaitNegotiate, Some(n)) if !n.is_empty() => n,
            (ServerState::AwaitNegotiate, _) => {
                return Err(AuthError::malformed(
                    "SASL NTLM starts with the client's NEGOTIATE",
                ));
            }
            _ => return Err(AuthError::state("the NTLM exchange has already started")),
        };
        self.state = ServerState::Failed;
        let (acceptor, challenge) =
            Acceptor::new(self.options.clone(), negotiate, SystemTime::now())
                .map_err(|e| ntlm_error("the client's NEGOTIATE", e))?;
        self.state = ServerState::AwaitAuthenticate(Box::new(acceptor));
        Ok(Step::Continue(challenge))
    }

    fn step(&mut self, response: &[u8]) -> Result<Step, AuthError> {
        let ServerState::AwaitAuthenticate(acceptor) =
            std::mem::replace(&mut self.state, ServerState::Failed)
        else {
            return Err(AuthError::state("no NTLM message is expected now"));
        };
        let claim = acceptor
            .authenticate(response)
            .map_err(|e| ntlm_error("the client's AUTHENTICATE", e))?;
        let hash = self
            .lookup
            .nt_hash(claim.domain(), claim.user())
            .ok_or_else(|| {
                AuthError::denied(format!(
                    "NTLM: no such user {}\\{}",
                    claim.domain(),
                    claim.user()
                ))
            })?;
        let accepted = claim
            .verify(&hash, SystemTime::now())
            .map_err(|e| ntlm_error("NTLM", e))?;
        let user = match accepted.domain() {
            "" => accepted.user().to_owned(),
            domain => format!("{domain}\\{}", accepted.user()),
        };
        let context = accepted.into_context();
        let outcome = settle(&self.props, &context, user)?;
        self.state = ServerState::Done(context, outcome);
        Ok(Step::Done(None))
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            ServerState::Done(_, outcome) => Some(outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        match self.state {
            ServerState::Done(context, outcome) => {
                Ok(layer_of(context, &outcome, self.seal_when_signing))
            }
            _ => Err(AuthError::state("the NTLM exchange has not succeeded")),
        }
    }
}

#[cfg(test)]
mod tests;
