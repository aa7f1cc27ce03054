//! The acceptor's side of SPNEGO (RFC 4178 §3, MS-SPNG §3.2), sans-IO.
//!
//! It takes the first mechanism of the initiator's list that it can serve. Kerberos (either
//! OID) is accepted in one step when its AP-REQ came as the optimistic token. NTLM takes two:
//! the CHALLENGE goes back (after a NEGOTIATE that came optimistically or in the initiator's
//! second token, when the acceptor declined an optimistic Kerberos token), then the
//! AUTHENTICATE is read and [`AcceptStep::Verify`] names the user whose NT hash the
//! application looks up, however it keeps it; [`Acceptor::verify`] checks the AUTHENTICATE
//! with it, checks the initiator's mechListMIC (required with NTLM), answers with its own and
//! rewinds the NTLM keystreams as the initiator does.

use std::sync::Arc;
use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use sealstream::{Error, Status};
use sealstream_krb5::{LayerOptions, Protection as Krb5Protection};
use sealstream_ntlm::{NtHash, Protection as NtlmProtection};

use crate::initiator::Mechanism;
use crate::layer::{Negotiated, SpnegoUnwrap, SpnegoWrap};
use crate::oid::{KRB5, MS_KRB5, NTLMSSP};
use crate::token::{NegState, NegTokenInit, NegTokenResp, invalid, mech_list_bytes, octets};

/// What an [`Acceptor`] can accept.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct AcceptorOptions {
    kerberos: Option<Arc<sealstream_krb5::gss::Acceptor>>,
    ntlm: Option<sealstream_ntlm::AcceptorOptions>,
}

impl AcceptorOptions {
    /// Nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept Kerberos with `acceptor` (the service's keys).
    pub fn kerberos(mut self, acceptor: Arc<sealstream_krb5::gss::Acceptor>) -> Self {
        self.kerberos = Some(acceptor);
        self
    }

    /// Accept NTLM, saying and requiring what `options` do.
    pub fn ntlm(mut self, options: sealstream_ntlm::AcceptorOptions) -> Self {
        self.ntlm = Some(options);
        self
    }
}

/// What the acceptor does next.
#[derive(Debug)]
pub enum AcceptStep {
    /// Send this token and wait for the initiator's next.
    Continue(Vec<u8>),
    /// NTLM's AUTHENTICATE names this user: look up their NT hash and call
    /// [`Acceptor::verify`] (or drop the acceptor and refuse, for an unknown user).
    Verify {
        /// The domain as the client sent it.
        domain: String,
        /// The user as the client sent it.
        user: String,
    },
    /// The context is established: send this last token; [`Acceptor::into_negotiated`] gives
    /// the context.
    Done(Vec<u8>),
}

enum State {
    Start,
    AwaitNegotiate,
    AwaitAuthenticate(Box<sealstream_ntlm::Acceptor>),
    AwaitHash(Box<sealstream_ntlm::Claim>, Option<Vec<u8>>),
    Done(Box<Negotiated>),
    Failed,
}

/// The acceptor's side of one SPNEGO exchange.
pub struct Acceptor {
    options: AcceptorOptions,
    mech_types: Vec<ObjectIdentifier>,
    state: State,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("mech_types", &self.mech_types)
            .finish_non_exhaustive()
    }
}

fn reject_token() -> Result<Vec<u8>, Error> {
    NegTokenResp {
        neg_state: Some(NegState::Reject),
        ..NegTokenResp::default()
    }
    .to_token()
}

impl Acceptor {
    /// An acceptor for one exchange.
    pub fn new(options: AcceptorOptions) -> Self {
        Self {
            options,
            mech_types: Vec::new(),
            state: State::Start,
        }
    }

    /// The token to send when a step failed, so the initiator learns the exchange is over
    /// (`negState` reject).
    pub fn reject() -> Vec<u8> {
        reject_token().expect("a fixed token encodes")
    }

    /// Take the initiator's next token.
    pub fn step(&mut self, token: &[u8], now: SystemTime) -> Result<AcceptStep, Error> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Start => self.offer(token, now),
            State::AwaitNegotiate => {
                let resp = NegTokenResp::from_token(token)?;
                let negotiate = resp
                    .response()
                    .ok_or_else(|| invalid("the initiator's second token carries no NEGOTIATE"))?;
                self.challenge(negotiate, now, false)
            }
            State::AwaitAuthenticate(acceptor) => {
                let resp = NegTokenResp::from_token(token)?;
                let authenticate = resp
                    .response()
                    .ok_or_else(|| invalid("the initiator's token carries no AUTHENTICATE"))?;
                let claim = acceptor.authenticate(authenticate)?;
                let step = AcceptStep::Verify {
                    domain: claim.domain().to_owned(),
                    user: claim.user().to_owned(),
                };
                self.state = State::AwaitHash(Box::new(claim), resp.mic().map(<[u8]>::to_vec));
                Ok(step)
            }
            State::AwaitHash(..) | State::Done(_) | State::Failed => Err(Error::new(
                Status::InvalidHandle,
                "no SPNEGO token is expected now",
            )),
        }
    }

    /// Check the AUTHENTICATE with the user's NT hash; the last token to send.
    pub fn verify(&mut self, hash: &NtHash, now: SystemTime) -> Result<AcceptStep, Error> {
        let State::AwaitHash(claim, mic) = std::mem::replace(&mut self.state, State::Failed) else {
            return Err(Error::new(
                Status::InvalidHandle,
                "no NTLM AUTHENTICATE awaits a hash",
            ));
        };
        let accepted = claim.verify(hash, now)?;
        let user = match accepted.domain() {
            "" => accepted.user().to_owned(),
            domain => format!("{domain}\\{}", accepted.user()),
        };
        let context = accepted.into_context();
        let flags = context.flags();
        let sealed = flags.contains(sealstream_ntlm::NegotiateFlags::SEAL);
        let signed = sealed || flags.contains(sealstream_ntlm::NegotiateFlags::SIGN);
        let (mut wrap, mut unwrap) = context.into_halves(NtlmProtection::Seal);
        let mech_list = mech_list_bytes(&self.mech_types)?;
        match mic {
            Some(mic) if !signed && crate::initiator::is_dummy_signature(&mic) => {}
            Some(mic) => unwrap.verify(&mech_list, &mic)?,
            // RFC 4178 §5: no MIC when the mechanism gives no integrity.
            None if !signed => {}
            None => {
                return Err(Error::new(
                    Status::LogonDenied,
                    "the initiator sent no mechListMIC, which NTLM inside SPNEGO requires",
                ));
            }
        }
        let ours = match signed {
            true => Some(octets(wrap.sign(&mech_list)?.to_vec())?),
            false => None,
        };
        let negotiated = Negotiated::ntlm(wrap, unwrap, user, (signed, sealed));
        self.state = State::Done(Box::new(negotiated));
        let token = NegTokenResp {
            neg_state: Some(NegState::AcceptCompleted),
            supported_mech: None,
            response_token: None,
            mech_list_mic: ours,
        };
        Ok(AcceptStep::Done(token.to_token()?))
    }

    /// The established context, once a step returned [`AcceptStep::Done`].
    pub fn into_negotiated(self) -> Result<Negotiated, Error> {
        match self.state {
            State::Done(negotiated) => Ok(*negotiated),
            _ => Err(Error::new(
                Status::InvalidHandle,
                "the SPNEGO exchange has not completed",
            )),
        }
    }

    /// The initiator's offer: choose a mechanism and answer its optimistic token if it was for
    /// that one.
    fn offer(&mut self, token: &[u8], now: SystemTime) -> Result<AcceptStep, Error> {
        let init = NegTokenInit::from_initial_token(token)?;
        self.mech_types = init.mech_types.clone();
        let ours = |mech: &ObjectIdentifier| {
            (self.options.kerberos.is_some() && (*mech == KRB5 || *mech == MS_KRB5))
                || (self.options.ntlm.is_some() && *mech == NTLMSSP)
        };
        let Some(&chosen) = init.mech_types.iter().find(|m| ours(m)) else {
            return Err(Error::new(
                Status::UnsupportedFunction,
                format!(
                    "SPNEGO: none of the offered mechanisms ({}) is accepted here",
                    init.mech_types
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let optimistic = init
            .mech_token
            .as_ref()
            .filter(|_| init.mech_types.first() == Some(&chosen))
            .map(|t| t.as_bytes());
        if chosen == NTLMSSP {
            return match optimistic {
                Some(negotiate) => self.challenge(negotiate, now, true),
                None => {
                    self.state = State::AwaitNegotiate;
                    let token = NegTokenResp {
                        neg_state: Some(NegState::AcceptIncomplete),
                        supported_mech: Some(NTLMSSP),
                        ..NegTokenResp::default()
                    };
                    Ok(AcceptStep::Continue(token.to_token()?))
                }
            };
        }
        let ap_req = optimistic.ok_or_else(|| {
            Error::new(
                Status::UnsupportedFunction,
                "SPNEGO: Kerberos chosen without its AP-REQ as the optimistic token",
            )
        })?;
        let acceptor = self
            .options
            .kerberos
            .as_ref()
            .expect("chosen only when configured");
        let accepted = acceptor.accept(ap_req, now)?;
        let conf = accepted.flags.0 & sealstream_krb5::gss::GssFlags::CONF != 0;
        let signed = conf || accepted.flags.0 & sealstream_krb5::gss::GssFlags::INTEG != 0;
        let protection = if conf {
            Krb5Protection::Confidentiality
        } else {
            Krb5Protection::Integrity
        };
        let (wrap, unwrap) = accepted.context.into_halves(LayerOptions::new(protection));
        self.state = State::Done(Box::new(Negotiated {
            mechanism: Mechanism::Kerberos,
            signed,
            confidential: conf,
            user: accepted.client.to_string(),
            wrap: SpnegoWrap::Kerberos(wrap),
            unwrap: SpnegoUnwrap::Kerberos(unwrap),
        }));
        let token = NegTokenResp {
            neg_state: Some(NegState::AcceptCompleted),
            supported_mech: Some(chosen),
            response_token: accepted.token.map(octets).transpose()?,
            mech_list_mic: None,
        };
        Ok(AcceptStep::Done(token.to_token()?))
    }

    /// NTLM's NEGOTIATE: answer with the CHALLENGE (naming NTLMSSP in the first answer).
    fn challenge(
        &mut self,
        negotiate: &[u8],
        now: SystemTime,
        first: bool,
    ) -> Result<AcceptStep, Error> {
        let options = self
            .options
            .ntlm
            .clone()
            .expect("NTLM chosen only when configured");
        let (acceptor, challenge) = sealstream_ntlm::Acceptor::new(options, negotiate, now)?;
        self.state = State::AwaitAuthenticate(Box::new(acceptor));
        let token = NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: first.then_some(NTLMSSP),
            response_token: Some(octets(challenge)?),
            mech_list_mic: None,
        };
        Ok(AcceptStep::Continue(token.to_token()?))
    }
}
