//! The initiator's side of SPNEGO (RFC 4178 §3, MS-SPNG §3.1), sans-IO.
//!
//! What it offers, in order: Kerberos under Microsoft's OID and the standard one (with a
//! service ticket; its AP-REQ goes with the offer, as the optimistic token), then NTLMSSP (with
//! credentials; its NEGOTIATE is the optimistic token when Kerberos is not offered). The
//! acceptor's first answer names the mechanism it chose; the rest is that mechanism's exchange.
//!
//! The mechListMIC (RFC 4178 §5): "If the mechanism selected by the negotiation does not
//! support integrity protection, then no mechlistMIC token is used. Otherwise, if the accepted
//! mechanism is the most preferred mechanism of both the initiator and the acceptor, then the
//! MIC token exchange [...] is OPTIONAL." With NTLM, whose AUTHENTICATE carries a MIC of its
//! own, MS-SPNG requires it: the initiator sends its MIC over the DER of its `mechTypes` with
//! the AUTHENTICATE, the acceptor answers with its own, and both then start their RC4
//! keystreams over (MS-SPNG §3.3.5.1; seen on the wire with Samba and gss-ntlmssp: the first
//! data token after the MICs has sequence number 1 and the keystream's first bytes). With
//! Kerberos chosen as offered, an acceptor's MIC is checked if it sends one.
//!
//! Without integrity (a bind over TLS) NTLM settles neither SIGN nor SEAL. The initiator still
//! sends its mechListMIC when its AUTHENTICATE carried a MIC (MS-SPNG asks Windows for it);
//! Samba answers with none then, so the acceptor's is required only with integrity, and a
//! MIC made without a signing key (MS-NLMP's dummy signature, version 1 and zeros) is taken as
//! such. The choice of mechanism is then protected by the TLS channel and its channel
//! bindings, not by a MIC. An initiator that asked for integrity refuses an acceptor that
//! settles none.

use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use sealstream::{Error, Status};
use sealstream_krb5::gss::{ChannelBindings, GssFlags};
use sealstream_krb5::kdc::Credentials as Ticket;
use sealstream_krb5::{LayerOptions, Protection as Krb5Protection};
use sealstream_ntlm::{Credentials as NtlmCredentials, Protection as NtlmProtection};

use crate::layer::{Negotiated, SpnegoUnwrap, SpnegoWrap};
use crate::oid::{KRB5, MS_KRB5, NTLMSSP};
use crate::token::{NegState, NegTokenInit, NegTokenResp, invalid, mech_list_bytes, octets};

/// A mechanism SPNEGO can choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// Kerberos V5 (RFC 4121).
    Kerberos,
    /// NTLM (MS-NLMP).
    Ntlm,
}

/// What an [`Initiator`] offers.
#[derive(Clone, Debug)]
#[must_use]
pub struct InitiatorOptions {
    integrity: bool,
    confidentiality: bool,
    kerberos: Option<Ticket>,
    ntlm: Option<(NtlmCredentials, sealstream_ntlm::InitiatorOptions)>,
    channel_bindings: Option<Vec<u8>>,
}

impl InitiatorOptions {
    /// Nothing offered yet; the layer will seal if `confidentiality`, else only sign (an NTLM
    /// layer seals on the wire either way, as Windows and Samba do on LDAP).
    pub fn new(confidentiality: bool) -> Self {
        Self {
            integrity: true,
            confidentiality,
            kerberos: None,
            ntlm: None,
            channel_bindings: None,
        }
    }

    /// Whether to ask for integrity at all (the default): without it neither Kerberos's
    /// `GSS_C_INTEG_FLAG` nor NTLM's SIGN is asked for, so the context protects nothing after
    /// authenticating (what Active Directory requires of a bind over TLS, where it refuses
    /// layers with LDAP result 53). Off, it turns confidentiality off too.
    pub fn integrity(mut self, integrity: bool) -> Self {
        self.integrity = integrity;
        self
    }

    /// Whether the layer is to seal: Kerberos asks for `GSS_C_CONF_FLAG`, NTLM offers
    /// NTLMSSP_NEGOTIATE_SEAL.
    pub fn confidentiality(mut self, confidentiality: bool) -> Self {
        self.confidentiality = confidentiality;
        self
    }

    /// Offer Kerberos with `ticket`, a service ticket for the acceptor.
    pub fn kerberos(mut self, ticket: Ticket) -> Self {
        self.kerberos = Some(ticket);
        self
    }

    /// Offer NTLM with `credentials` (after Kerberos, if that is offered too). `options` may
    /// name the target SPN; its signing and sealing flags are set from the layer asked for.
    pub fn ntlm(
        mut self,
        credentials: NtlmCredentials,
        options: sealstream_ntlm::InitiatorOptions,
    ) -> Self {
        self.ntlm = Some((credentials, options));
        self
    }

    /// Bind the context to a TLS channel: the application data of its channel bindings
    /// (`tls-server-end-point:` and the hash), for whichever mechanism is chosen.
    pub fn channel_bindings(mut self, application_data: Vec<u8>) -> Self {
        self.channel_bindings = Some(application_data);
        self
    }
}

/// What the initiator does next.
#[derive(Debug)]
pub enum Step {
    /// Send this token and wait for the acceptor's answer.
    Continue(Vec<u8>),
    /// The context is established: [`Initiator::into_negotiated`] gives it.
    Done,
}

/// Where an initiator is.
enum State {
    /// The first token is out; `kerberos` holds the AP-REQ's initiator if it went with it.
    Offered {
        kerberos: Option<Box<sealstream_krb5::gss::Initiator>>,
        ntlm: Option<NtlmStart>,
    },
    /// NTLM's NEGOTIATE is out, its CHALLENGE awaited.
    AwaitChallenge(sealstream_ntlm::Initiator, String),
    /// NTLM's AUTHENTICATE and our MIC are out; the acceptor's MIC awaited.
    /// With whether signing and sealing were settled.
    AwaitMic(
        Box<(sealstream_ntlm::NtlmWrap, sealstream_ntlm::NtlmUnwrap)>,
        String,
        (bool, bool),
    ),
    Done(Box<Negotiated>),
    Failed,
}

/// NTLM before its NEGOTIATE: sent as the optimistic token, or later.
enum NtlmStart {
    Sent(sealstream_ntlm::Initiator, String),
    NotYet(NtlmCredentials, sealstream_ntlm::InitiatorOptions),
}

/// The initiator's side of one SPNEGO exchange.
pub struct Initiator {
    mech_types: Vec<ObjectIdentifier>,
    integrity: bool,
    confidentiality: bool,
    kerberos_user: String,
    state: State,
}

impl std::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiator")
            .field("mech_types", &self.mech_types)
            .field("integrity", &self.integrity)
            .field("confidentiality", &self.confidentiality)
            .finish_non_exhaustive()
    }
}

/// MS-NLMP §3.4.4: the signature of a context without a signing key, version 1 then zeros.
pub(crate) fn is_dummy_signature(mic: &[u8]) -> bool {
    mic.len() == 16 && mic[..4] == [1, 0, 0, 0] && mic[4..].iter().all(|&b| b == 0)
}

fn refuse(detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(Status::LogonDenied, detail)
}

impl Initiator {
    /// Start: the initiator and its first token (a GSS-API initial context token). Fails when
    /// nothing is offered.
    pub fn new(options: InitiatorOptions, now: SystemTime) -> Result<(Self, Vec<u8>), Error> {
        let options = InitiatorOptions {
            confidentiality: options.confidentiality && options.integrity,
            ..options
        };
        let InitiatorOptions {
            integrity,
            confidentiality,
            kerberos,
            ntlm,
            channel_bindings,
        } = options;
        let mut mech_types = Vec::new();
        let mut mech_token = None;
        let mut kerberos_user = String::new();
        let kerberos = match kerberos {
            Some(ticket) => {
                kerberos_user = ticket.client().to_string();
                let mut flags = GssFlags::MUTUAL | GssFlags::REPLAY | GssFlags::SEQUENCE;
                if integrity {
                    flags |= GssFlags::INTEG;
                }
                if confidentiality {
                    flags |= GssFlags::CONF;
                }
                let mut krb =
                    sealstream_krb5::gss::InitiatorOptions::default().flags(GssFlags(flags));
                if let Some(data) = &channel_bindings {
                    krb = krb.channel_bindings(ChannelBindings::new(data));
                }
                let (initiator, ap_req) = sealstream_krb5::gss::Initiator::new(&ticket, krb, now)?;
                mech_types.extend([MS_KRB5, KRB5]);
                mech_token = Some(ap_req);
                Some(Box::new(initiator))
            }
            None => None,
        };
        let ntlm = match ntlm {
            Some((credentials, mut ntlm_options)) => {
                ntlm_options = ntlm_options.session_security(integrity, confidentiality);
                if let Some(data) = &channel_bindings {
                    ntlm_options = ntlm_options.channel_bindings(data.clone());
                }
                mech_types.push(NTLMSSP);
                Some(if mech_token.is_none() {
                    let (initiator, negotiate) =
                        sealstream_ntlm::Initiator::new(credentials, ntlm_options);
                    let user = initiator.user_name();
                    mech_token = Some(negotiate);
                    NtlmStart::Sent(initiator, user)
                } else {
                    NtlmStart::NotYet(credentials, ntlm_options)
                })
            }
            None => None,
        };
        if mech_types.is_empty() {
            return Err(Error::new(
                Status::NoCredentials,
                "SPNEGO has nothing to offer: neither a Kerberos ticket nor NTLM credentials",
            ));
        }
        let token = NegTokenInit {
            mech_types: mech_types.clone(),
            req_flags: None,
            mech_token: mech_token.map(octets).transpose()?,
            mech_list_mic: None,
        }
        .to_initial_token()?;
        Ok((
            Self {
                mech_types,
                integrity,
                confidentiality,
                kerberos_user,
                state: State::Offered { kerberos, ntlm },
            },
            token,
        ))
    }

    /// Take the acceptor's next token.
    ///
    /// `now` is the time an NTLM response carries when the acceptor's CHALLENGE has none.
    pub fn step(&mut self, token: &[u8], now: SystemTime) -> Result<Step, Error> {
        let resp = NegTokenResp::from_token(token)?;
        if resp.neg_state == Some(NegState::Reject) {
            self.state = State::Failed;
            return Err(refuse(
                "the acceptor rejected every mechanism offered (SPNEGO reject)",
            ));
        }
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Offered { kerberos, ntlm } => self.chosen(resp, kerberos, ntlm, now),
            State::AwaitChallenge(initiator, user) => self.challenge(&resp, initiator, user, now),
            State::AwaitMic(halves, user, (signed, sealed)) => {
                let (wrap, mut unwrap) = *halves;
                if resp.neg_state != Some(NegState::AcceptCompleted) {
                    return Err(invalid(format!(
                        "expected accept-completed, got {:?}",
                        resp.neg_state
                    )));
                }
                match resp.mic() {
                    Some(mic) if !signed && is_dummy_signature(mic) => {}
                    Some(mic) => unwrap.verify(&mech_list_bytes(&self.mech_types)?, mic)?,
                    // RFC 4178 §5: no MIC when the mechanism gives no integrity (Samba sends
                    // none then); with integrity MS-SPNG requires it.
                    None if !signed => {}
                    None => {
                        return Err(refuse(
                            "the acceptor completed NTLM without the mechListMIC MS-SPNG requires",
                        ));
                    }
                }
                self.ntlm_done(wrap, unwrap, user, (signed, sealed));
                Ok(Step::Done)
            }
            State::Done(_) | State::Failed => Err(Error::new(
                Status::InvalidHandle,
                "the SPNEGO exchange is over; no token is expected",
            )),
        }
    }

    /// The established context, once a step returned [`Step::Done`].
    pub fn into_negotiated(self) -> Result<Negotiated, Error> {
        match self.state {
            State::Done(negotiated) => Ok(*negotiated),
            _ => Err(Error::new(
                Status::InvalidHandle,
                "the SPNEGO exchange has not completed",
            )),
        }
    }

    /// The acceptor's first answer: which mechanism, and that mechanism's first reply.
    fn chosen(
        &mut self,
        resp: NegTokenResp,
        kerberos: Option<Box<sealstream_krb5::gss::Initiator>>,
        ntlm: Option<NtlmStart>,
        now: SystemTime,
    ) -> Result<Step, Error> {
        // RFC 4178 §4.2.2: supportedMech "SHALL only be present in the first reply"; absent,
        // the first mechanism offered was taken.
        let mech = resp.supported_mech.unwrap_or(self.mech_types[0]);
        if !self.mech_types.contains(&mech) {
            return Err(invalid(format!(
                "the acceptor chose {mech}, which was not offered"
            )));
        }
        if mech == NTLMSSP {
            let (initiator, user) = match ntlm {
                Some(NtlmStart::Sent(initiator, user)) => (initiator, user),
                Some(NtlmStart::NotYet(credentials, options)) => {
                    // The optimistic Kerberos token was not taken: NTLM starts now.
                    let (initiator, negotiate) =
                        sealstream_ntlm::Initiator::new(credentials, options);
                    let user = initiator.user_name();
                    self.state = State::AwaitChallenge(initiator, user);
                    let token = NegTokenResp {
                        response_token: Some(octets(negotiate)?),
                        ..NegTokenResp::default()
                    };
                    return Ok(Step::Continue(token.to_token()?));
                }
                None => unreachable!("NTLMSSP is offered only with credentials"),
            };
            return self.challenge(&resp, initiator, user, now);
        }
        let initiator = kerberos.ok_or_else(|| invalid("Kerberos chosen but not offered"))?;
        let ap_rep = resp
            .response()
            .ok_or_else(|| invalid("the acceptor chose Kerberos but sent no AP-REP"))?;
        let context = initiator.finish(ap_rep)?;
        let user = std::mem::take(&mut self.kerberos_user);
        let protection = if self.confidentiality {
            Krb5Protection::Confidentiality
        } else {
            Krb5Protection::Integrity
        };
        let (wrap, mut unwrap) = context.into_halves(LayerOptions::new(protection));
        if let Some(mic) = resp.mic() {
            unwrap.verify_mic(&mech_list_bytes(&self.mech_types)?, mic)?;
        }
        match resp.neg_state {
            Some(NegState::AcceptCompleted) | None => {}
            other => {
                return Err(invalid(format!(
                    "Kerberos was accepted with negState {other:?}; only accept-completed is handled"
                )));
            }
        }
        self.state = State::Done(Box::new(Negotiated {
            mechanism: Mechanism::Kerberos,
            signed: self.integrity,
            confidential: self.confidentiality,
            user,
            wrap: SpnegoWrap::Kerberos(wrap),
            unwrap: SpnegoUnwrap::Kerberos(unwrap),
        }));
        Ok(Step::Done)
    }

    /// NTLM's CHALLENGE: the AUTHENTICATE and our mechListMIC.
    fn challenge(
        &mut self,
        resp: &NegTokenResp,
        initiator: sealstream_ntlm::Initiator,
        user: String,
        now: SystemTime,
    ) -> Result<Step, Error> {
        let challenge = resp
            .response()
            .ok_or_else(|| invalid("the acceptor chose NTLM but sent no CHALLENGE"))?;
        let (authenticate, context) = initiator.finish(challenge, now)?;
        let flags = context.flags();
        let sealed = flags.contains(sealstream_ntlm::NegotiateFlags::SEAL);
        let signed = sealed || flags.contains(sealstream_ntlm::NegotiateFlags::SIGN);
        if self.integrity && !signed {
            return Err(Error::new(
                Status::UnsupportedFunction,
                "the acceptor settled NTLM without signing although integrity was asked for",
            ));
        }
        let had_mic = context.authenticate_had_mic();
        let (mut wrap, unwrap) = context.into_halves(NtlmProtection::Seal);
        // RFC 4178 §5: a mechanism without integrity sends no mechListMIC.
        let mic = match signed || had_mic {
            true => Some(octets(
                wrap.sign(&mech_list_bytes(&self.mech_types)?)?.to_vec(),
            )?),
            false => None,
        };
        let token = NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: None,
            response_token: Some(octets(authenticate)?),
            mech_list_mic: mic,
        };
        self.state = State::AwaitMic(Box::new((wrap, unwrap)), user, (signed, sealed));
        Ok(Step::Continue(token.to_token()?))
    }

    fn ntlm_done(
        &mut self,
        wrap: sealstream_ntlm::NtlmWrap,
        unwrap: sealstream_ntlm::NtlmUnwrap,
        user: String,
        settled: (bool, bool),
    ) {
        self.state = State::Done(Box::new(Negotiated::ntlm(wrap, unwrap, user, settled)));
    }
}
