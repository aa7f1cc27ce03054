//! The DIGEST-MD5 client: answer the challenge, then verify the server's `rspauth`.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::compute::{self, Key16, Side, digest_response, ha1, user_hash};
use super::messages::{Challenge, Response, parse_rspauth};
use super::{Cipher, DigestQop, NAME, layer, our_maxbuf, random_nonce};
use crate::{AuthError, ClientMechanism, Outcome, SecurityLayer, SecurityProperties, Step};

/// What a DIGEST-MD5 client needs: who it is, whom it talks to, what it requires.
#[derive(Clone)]
pub struct DigestClientConfig {
    /// The authentication identity (`username`).
    pub authcid: String,
    /// The password.
    pub password: Zeroizing<String>,
    /// The identity to act as, if not oneself (`authzid`).
    pub authzid: Option<String>,
    /// The service type of `digest-uri` (`ldap`, `imap`, ...).
    pub service: String,
    /// The server's host name in `digest-uri`.
    pub host: String,
    /// The realm to use when the server offers several, or none. Without it the client takes the
    /// server's first.
    pub realm: Option<String>,
    /// What layer to accept and our maxbuf.
    pub props: SecurityProperties,
}

impl fmt::Debug for DigestClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestClientConfig")
            .field("authcid", &self.authcid)
            .field("authzid", &self.authzid)
            .field("service", &self.service)
            .field("host", &self.host)
            .field("realm", &self.realm)
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl DigestClientConfig {
    /// `authcid` with `password` for `service/host` (the `digest-uri`), default properties.
    pub fn new(
        authcid: impl Into<String>,
        password: impl Into<String>,
        service: impl Into<String>,
        host: impl Into<String>,
    ) -> Self {
        Self {
            authcid: authcid.into(),
            password: Zeroizing::new(password.into()),
            authzid: None,
            service: service.into(),
            host: host.into(),
            realm: None,
            props: SecurityProperties::default(),
        }
    }
}

enum State {
    /// Waiting for the challenge.
    Start,
    /// Response sent; waiting for `rspauth`.
    Sent {
        ha1: Key16,
        rspauth: [u8; 32],
        outcome: Outcome,
        qop: DigestQop,
    },
    /// The server proved itself.
    Verified {
        ha1: Key16,
        outcome: Outcome,
        qop: DigestQop,
    },
    Failed,
}

/// The client side of DIGEST-MD5.
pub struct DigestClient {
    config: DigestClientConfig,
    cnonce: Option<String>,
    state: State,
}

impl fmt::Debug for DigestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start => "start",
            State::Sent { .. } => "sent response",
            State::Verified { .. } => "verified",
            State::Failed => "failed",
        };
        f.debug_struct("DigestClient")
            .field("config", &self.config)
            .field("state", &state)
            .finish()
    }
}

/// The strongest qop both the challenge offers and `props` accept.
fn choose_qop(challenge: &Challenge, props: &SecurityProperties) -> Result<DigestQop, AuthError> {
    let offered = |q: &str| challenge.qops.iter().any(|o| o == q);
    let mut best: Option<DigestQop> = None;
    let mut consider = |q: DigestQop| {
        if props.accepts_layer(q.ssf()) && best.is_none_or(|b| q.ssf() > b.ssf()) {
            best = Some(q);
        }
    };
    if offered("auth-conf") {
        challenge
            .ciphers
            .iter()
            .filter(|c| props.allow_legacy_ciphers || !c.is_legacy())
            .for_each(|&c| consider(DigestQop::AuthConf(c)));
    }
    if offered("auth-int") {
        consider(DigestQop::AuthInt);
    }
    if offered("auth") {
        consider(DigestQop::Auth);
    }
    best.ok_or_else(|| {
        let ciphers: Vec<&str> = challenge.ciphers.iter().map(|c| Cipher::name(*c)).collect();
        // Mention the legacy opt-in only where it would have found a cipher.
        let legacy_would_fit = !props.allow_legacy_ciphers
            && offered("auth-conf")
            && challenge
                .ciphers
                .iter()
                .any(|c| c.is_legacy() && props.accepts_layer(DigestQop::AuthConf(*c).ssf()));
        AuthError::policy(format!(
            "the server offers qop {:?} with ciphers {ciphers:?}; none lies within SSF {}..={}{}",
            challenge.qops,
            props.min_ssf,
            props.max_ssf,
            if legacy_would_fit {
                " (des, rc4-56 and rc4-40 need allow_legacy_ciphers)"
            } else {
                ""
            }
        ))
    })
}

impl DigestClient {
    /// A client for `config`.
    pub fn new(config: DigestClientConfig) -> Self {
        Self {
            config,
            cnonce: None,
            state: State::Start,
        }
    }

    /// Use `cnonce` instead of a random one: for published test vectors and fuzzing only.
    #[cfg(any(fuzzing, test))]
    pub(crate) fn with_cnonce(mut self, cnonce: &str) -> Self {
        self.cnonce = Some(cnonce.to_owned());
        self
    }

    /// The negotiated qop, once the response was sent.
    pub fn qop(&self) -> Option<DigestQop> {
        match &self.state {
            State::Sent { qop, .. } | State::Verified { qop, .. } => Some(*qop),
            _ => None,
        }
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
        let challenge = Challenge::parse(challenge)?;
        let c = &self.config;
        let qop = choose_qop(&challenge, &c.props)?;
        // "realm: [...] If the directive is missing, "realm-value" will set to the empty string
        // when computing A1" (RFC 2831 §2.1.2).
        let realm = match (&c.realm, challenge.realms.first()) {
            (Some(ours), _) => Some(ours.clone()),
            (None, Some(first)) => Some(first.clone()),
            (None, None) => None,
        };
        if let Some(ours) = &c.realm {
            if !challenge.realms.is_empty() && !challenge.realms.contains(ours) {
                return Err(AuthError::policy(format!(
                    "the server offers realms {:?}, not {ours:?}",
                    challenge.realms
                )));
            }
        }
        let cnonce = match &self.cnonce {
            Some(c) => c.clone(),
            None => random_nonce()?,
        };
        let digest_uri = format!("{}/{}", c.service, c.host);
        let authzid = c.authzid.clone().filter(|a| !a.is_empty());
        let secret = Zeroizing::new(user_hash(
            &c.authcid,
            realm.as_deref().unwrap_or(""),
            &c.password,
        ));
        let ha1 = ha1(&secret, &challenge.nonce, &cnonce, authzid.as_deref());
        let nc = 1;
        let hex = |side| {
            digest_response(
                &ha1,
                &challenge.nonce,
                nc,
                &cnonce,
                qop.name(),
                &digest_uri,
                side,
            )
        };
        let (response, rspauth) = (hex(Side::Client), hex(Side::Server));
        let ours = our_maxbuf(&c.props);
        let message = Response {
            username: c.authcid.clone(),
            realm,
            nonce: challenge.nonce.clone(),
            cnonce,
            nc,
            qop,
            digest_uri,
            response,
            maxbuf: ours,
            utf8: challenge.utf8,
            authzid: authzid.clone(),
        }
        .encode();
        let layer = qop != DigestQop::Auth;
        let outcome = Outcome {
            mechanism: NAME,
            authcid: c.authcid.clone(),
            authzid: authzid.unwrap_or_else(|| c.authcid.clone()),
            layer: qop.layer(),
            ssf: qop.ssf(),
            our_maxbuf: if layer { ours } else { 0 },
            peer_maxbuf: if layer { challenge.maxbuf } else { 0 },
        };
        self.state = State::Sent {
            ha1,
            rspauth,
            outcome,
            qop,
        };
        Ok(message)
    }

    fn verify(&mut self, data: &[u8]) -> Result<(), AuthError> {
        let State::Sent {
            ha1,
            rspauth,
            outcome,
            qop,
        } = std::mem::replace(&mut self.state, State::Failed)
        else {
            return Err(AuthError::state("rspauth before the response was sent"));
        };
        let got = compute::to_hex(&parse_rspauth(data)?);
        if !bool::from(got.ct_eq(&rspauth)) {
            return Err(AuthError::denied(
                "the server's rspauth is wrong: it does not know the password",
            ));
        }
        self.state = State::Verified { ha1, outcome, qop };
        Ok(())
    }
}

impl ClientMechanism for DigestClient {
    fn name(&self) -> &'static str {
        NAME
    }

    // RFC 2831 §2.1: "Digest Authentication [...] is a server-first mechanism" for a first
    // authentication: no initial response.
    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        Ok(None)
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        match self.state {
            State::Start => {
                let result = self.respond(challenge);
                if result.is_err() {
                    self.state = State::Failed;
                }
                result.map(Step::Continue)
            }
            // RFC 2831 §2.1.3 as a last challenge; RFC 4422 §3.6: answered by an empty response.
            State::Sent { .. } => self
                .verify(challenge)
                .map(|()| Step::Done(Some(Vec::new()))),
            State::Verified { .. } | State::Failed => {
                Err(AuthError::state("DIGEST-MD5 exchange already ended"))
            }
        }
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        match (&self.state, additional_data) {
            (State::Sent { .. }, Some(data)) => self.verify(data),
            (State::Sent { .. }, None) => {
                self.state = State::Failed;
                Err(AuthError::denied(
                    "the server reported success without rspauth: it did not prove itself",
                ))
            }
            (State::Verified { .. }, None) => Ok(()),
            (State::Verified { .. }, Some([])) => Ok(()),
            _ => Err(AuthError::state("success in the wrong state")),
        }
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Verified { outcome, .. } => Some(outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        let State::Verified { ha1, outcome, qop } = self.state else {
            return Err(AuthError::state("DIGEST-MD5 exchange not complete"));
        };
        layer::security_layer(&ha1, qop, &outcome, true)
    }
}
