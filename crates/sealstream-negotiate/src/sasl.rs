//! SASL GSS-SPNEGO as Active Directory (and Samba) run it on LDAP: the SPNEGO tokens are the
//! SASL messages, and there is no RFC 4752 layer negotiation after them. The layer is what the
//! context negotiated: sealing when confidentiality was (Kerberos `GSS_C_CONF_FLAG`, NTLM
//! NTLMSSP_NEGOTIATE_SEAL), signing when only integrity was. Nobody announces a maximum
//! buffer: the client sends frames of at most [`SEND_FRAME`] bytes and accepts up to
//! [`RECEIVE_FRAME`] or the properties' `maxbuf`, whichever is larger (Samba sends NTLM frames
//! of up to 131,072 bytes).
//!
//! [`SpnegoClient`] is the client; [`SpnegoServer`] the server, with NT hashes from an
//! [`NtHashLookup`] and Kerberos keys from a keytab's acceptor.
//!
//! The exchange on LDAP: with Kerberos one round trip (the AP-REQ in the offer, the AP-REP in
//! the successful BindResponse); with NTLM two (NEGOTIATE in the offer, CHALLENGE back,
//! AUTHENTICATE and our mechListMIC, then the server's mechListMIC in the successful
//! BindResponse).

use std::time::SystemTime;

pub use sealstream_ntlm::NtHashLookup;
use sealstream_sasl::{
    AuthError, AuthErrorKind, ClientMechanism, Layer, Outcome, SecurityLayer, SecurityProperties,
    ServerMechanism, Step as SaslStep,
};

use crate::acceptor::{AcceptStep, Acceptor, AcceptorOptions};
use crate::initiator::{Initiator, InitiatorOptions, Mechanism, Step};
use crate::layer::{Negotiated, SpnegoWrap};

/// The mechanism's name.
pub const NAME: &str = "GSS-SPNEGO";
/// The frame sizes of a directory's layers that announce no maxbuf: the same for SASL NTLM and
/// GSS-SPNEGO (the largest frame sent, the least accepted whatever `maxbuf` says).
pub use sealstream_ntlm::sasl::{RECEIVE_FRAME, SEND_FRAME};
/// The strength that asks for confidentiality: a 56-bit layer or more.
const SSF_CONFIDENTIAL: u32 = 56;

fn spnego_error(what: &str, e: sealstream::Error) -> AuthError {
    use sealstream::Status;
    let kind = match e.status() {
        Status::InvalidToken => AuthErrorKind::Malformed,
        Status::UnsupportedFunction | Status::NoCredentials => AuthErrorKind::Policy,
        Status::InternalError => AuthErrorKind::Internal,
        _ => AuthErrorKind::Denied,
    };
    AuthError::new(kind, format!("{what}: {e}"))
}

/// What a context's layer is, within `props`.
fn settle(props: &SecurityProperties, negotiated: &Negotiated) -> Result<Outcome, AuthError> {
    let (layer, ssf) = match (negotiated.mechanism(), negotiated.confidential()) {
        _ if !negotiated.signed() => (Layer::None, 0),
        (_, false) => (Layer::Integrity, 1),
        (Mechanism::Ntlm, true) => (Layer::Confidentiality { cipher: "rc4" }, 128),
        (Mechanism::Kerberos, true) => {
            let SpnegoWrap::Kerberos(wrap) = &negotiated.wrap else {
                unreachable!("a Kerberos context has Kerberos halves");
            };
            let enctype = wrap.enctype();
            let bits = u32::try_from(enctype.key_len() * 8).expect("small");
            (
                Layer::Confidentiality {
                    cipher: enctype.name(),
                },
                bits,
            )
        }
    };
    if !props.accepts_layer(ssf) {
        return Err(AuthError::policy(format!(
            "the context gives {layer:?} (strength {ssf}); min_ssf {} and max_ssf {} do not \
             allow it",
            props.min_ssf, props.max_ssf
        )));
    }
    let (our_maxbuf, peer_maxbuf) = match layer {
        Layer::None => (0, 0),
        _ => (props.maxbuf.max(RECEIVE_FRAME), SEND_FRAME),
    };
    Ok(Outcome {
        mechanism: NAME,
        authcid: negotiated.user().to_owned(),
        authzid: negotiated.user().to_owned(),
        layer,
        ssf,
        our_maxbuf,
        peer_maxbuf,
    })
}

fn into_layer(negotiated: Negotiated, outcome: &Outcome) -> SecurityLayer {
    let (wrap, unwrap) = negotiated.into_halves();
    SecurityLayer::new(wrap, unwrap, outcome.our_maxbuf, outcome.peer_maxbuf)
}

enum State {
    Start(InitiatorOptions),
    InProgress(Initiator),
    AwaitSuccess(Box<Negotiated>, Outcome),
    Done(Box<Negotiated>, Outcome),
    Failed,
}

/// The client of SASL GSS-SPNEGO.
pub struct SpnegoClient {
    props: SecurityProperties,
    state: State,
}

impl std::fmt::Debug for SpnegoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpnegoClient")
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl SpnegoClient {
    /// A client offering what `options` offers; it asks for confidentiality when `props`
    /// allow a layer of 56 bits or more, for integrity when they allow 1, and for neither when
    /// `max_ssf` is 0 (a bind over TLS, where Active Directory refuses layers).
    pub fn new(options: InitiatorOptions, props: SecurityProperties) -> Self {
        let options = options
            .integrity(props.max_ssf >= 1)
            .confidentiality(props.max_ssf >= SSF_CONFIDENTIAL);
        Self {
            state: State::Start(options),
            props,
        }
    }

    /// The exchange completed on a token from the server: settle the outcome.
    fn completed(&mut self, initiator: Initiator) -> Result<(), AuthError> {
        let negotiated = initiator
            .into_negotiated()
            .map_err(|e| spnego_error("SPNEGO", e))?;
        let outcome = settle(&self.props, &negotiated)?;
        self.state = State::AwaitSuccess(Box::new(negotiated), outcome);
        Ok(())
    }
}

impl ClientMechanism for SpnegoClient {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Start(options) => {
                let (initiator, token) = Initiator::new(options, SystemTime::now())
                    .map_err(|e| spnego_error("starting SPNEGO", e))?;
                self.state = State::InProgress(initiator);
                Ok(Some(token))
            }
            other => {
                self.state = other;
                Err(AuthError::state(
                    "the GSS-SPNEGO exchange has already started",
                ))
            }
        }
    }

    fn step(&mut self, challenge: &[u8]) -> Result<SaslStep, AuthError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::InProgress(mut initiator) => {
                match initiator
                    .step(challenge, SystemTime::now())
                    .map_err(|e| spnego_error("the server's SPNEGO token", e))?
                {
                    Step::Continue(token) => {
                        self.state = State::InProgress(initiator);
                        Ok(SaslStep::Continue(token))
                    }
                    Step::Done => {
                        self.completed(initiator)?;
                        Ok(SaslStep::Done(None))
                    }
                }
            }
            other => {
                self.state = other;
                Err(AuthError::state("no GSS-SPNEGO challenge is expected now"))
            }
        }
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        let data = additional_data.filter(|d| !d.is_empty());
        match (std::mem::replace(&mut self.state, State::Failed), data) {
            (State::InProgress(mut initiator), Some(token)) => {
                match initiator
                    .step(token, SystemTime::now())
                    .map_err(|e| spnego_error("the server's last SPNEGO token", e))?
                {
                    Step::Done => self.completed(initiator)?,
                    Step::Continue(_) => {
                        return Err(AuthError::malformed(
                            "the server reported success while SPNEGO needed another round",
                        ));
                    }
                }
            }
            (State::AwaitSuccess(..), Some(_)) => {
                return Err(AuthError::malformed(
                    "GSS-SPNEGO success carries no data once the context is complete",
                ));
            }
            (State::InProgress(_), None) => {
                return Err(AuthError::denied(
                    "the server reported success before the SPNEGO context was complete \
                     (it did not prove itself)",
                ));
            }
            (state @ State::AwaitSuccess(..), None) => self.state = state,
            (other, _) => {
                self.state = other;
                return Err(AuthError::state(
                    "the server reported success before the GSS-SPNEGO exchange started",
                ));
            }
        }
        let State::AwaitSuccess(negotiated, outcome) =
            std::mem::replace(&mut self.state, State::Failed)
        else {
            unreachable!("set above");
        };
        self.state = State::Done(negotiated, outcome);
        Ok(())
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Done(_, outcome) => Some(outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        let State::Done(negotiated, outcome) = self.state else {
            return Err(AuthError::state(
                "the GSS-SPNEGO exchange has not succeeded",
            ));
        };
        if outcome.layer == Layer::None {
            return Ok(None);
        }
        Ok(Some(into_layer(*negotiated, &outcome)))
    }
}

enum ServerState {
    InProgress(Acceptor),
    Done(Box<Negotiated>, Outcome),
    Failed,
}

/// The server of SASL GSS-SPNEGO: Kerberos and NTLM as its [`AcceptorOptions`] allow, the
/// layer the client's context negotiated if `props` accept it.
pub struct SpnegoServer {
    props: SecurityProperties,
    lookup: std::sync::Arc<dyn NtHashLookup>,
    state: ServerState,
}

impl std::fmt::Debug for SpnegoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpnegoServer")
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl SpnegoServer {
    /// A server accepting what `options` allow, with NT hashes from `lookup`.
    pub fn new(
        options: AcceptorOptions,
        lookup: std::sync::Arc<dyn NtHashLookup>,
        props: SecurityProperties,
    ) -> Self {
        Self {
            props,
            lookup,
            state: ServerState::InProgress(Acceptor::new(options)),
        }
    }

    fn advance(&mut self, token: &[u8]) -> Result<SaslStep, AuthError> {
        let ServerState::InProgress(mut acceptor) =
            std::mem::replace(&mut self.state, ServerState::Failed)
        else {
            return Err(AuthError::state("no GSS-SPNEGO response is expected now"));
        };
        let now = SystemTime::now();
        let mut step = acceptor
            .step(token, now)
            .map_err(|e| spnego_error("the client's SPNEGO token", e))?;
        if let AcceptStep::Verify { domain, user } = &step {
            let hash = self
                .lookup
                .nt_hash(domain, user)
                .ok_or_else(|| AuthError::denied(format!("NTLM: no such user {domain}\\{user}")))?;
            step = acceptor
                .verify(&hash, now)
                .map_err(|e| spnego_error("NTLM", e))?;
        }
        match step {
            AcceptStep::Continue(token) => {
                self.state = ServerState::InProgress(acceptor);
                Ok(SaslStep::Continue(token))
            }
            AcceptStep::Done(token) => {
                let negotiated = acceptor
                    .into_negotiated()
                    .map_err(|e| spnego_error("SPNEGO", e))?;
                let outcome = settle(&self.props, &negotiated)?;
                self.state = ServerState::Done(Box::new(negotiated), outcome);
                Ok(SaslStep::Done(Some(token)))
            }
            AcceptStep::Verify { .. } => unreachable!("answered above"),
        }
    }
}

impl ServerMechanism for SpnegoServer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, initial_response: Option<&[u8]>) -> Result<SaslStep, AuthError> {
        match initial_response {
            Some(token) if !token.is_empty() => self.advance(token),
            _ => Err(AuthError::malformed(
                "GSS-SPNEGO starts with the client's SPNEGO token",
            )),
        }
    }

    fn step(&mut self, response: &[u8]) -> Result<SaslStep, AuthError> {
        self.advance(response)
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            ServerState::Done(_, outcome) => Some(outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        match self.state {
            ServerState::Done(_, outcome) if outcome.layer == Layer::None => Ok(None),
            ServerState::Done(negotiated, outcome) => Ok(Some(into_layer(*negotiated, &outcome))),
            _ => Err(AuthError::state(
                "the GSS-SPNEGO exchange has not succeeded",
            )),
        }
    }
}
