//! The DIGEST-MD5 server: challenge, verify the client's response, prove itself with `rspauth`.

use std::fmt;
use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::compute::{Key16, Side, digest_response, ha1, user_hash};
use super::messages::{Challenge, Response, encode_rspauth};
use super::{Cipher, DigestQop, NAME, layer, our_maxbuf, random_nonce};
use crate::{
    AuthError, CredentialLookup, Outcome, Secret, SecurityLayer, SecurityProperties,
    ServerMechanism, Step,
};

/// What a DIGEST-MD5 server needs besides its credentials.
#[derive(Clone, Debug)]
pub struct DigestServerConfig {
    /// The service type clients must name in `digest-uri` (`ldap`).
    pub service: String,
    /// Our host name, which clients must name in `digest-uri` (compared case-insensitively).
    pub host: String,
    /// The realm offered and required (empty: offer none, and expect none).
    pub realm: String,
    /// Which layers to offer and our maxbuf.
    pub props: SecurityProperties,
}

impl DigestServerConfig {
    /// A server for `service/host` in `realm`, default properties.
    pub fn new(
        service: impl Into<String>,
        host: impl Into<String>,
        realm: impl Into<String>,
    ) -> Self {
        Self {
            service: service.into(),
            host: host.into(),
            realm: realm.into(),
            props: SecurityProperties::default(),
        }
    }

    /// The qops and ciphers our properties allow, or a policy error.
    fn offer(&self) -> Result<(Vec<String>, Vec<Cipher>), AuthError> {
        let p = &self.props;
        let ciphers: Vec<Cipher> = Cipher::ALL
            .into_iter()
            .filter(|c| (p.allow_legacy_ciphers || !c.is_legacy()) && p.accepts_layer(c.ssf()))
            .collect();
        let mut qops = Vec::new();
        if p.accepts_layer(0) {
            qops.push("auth".to_owned());
        }
        if p.accepts_layer(1) {
            qops.push("auth-int".to_owned());
        }
        if !ciphers.is_empty() {
            qops.push("auth-conf".to_owned());
        }
        if qops.is_empty() {
            return Err(AuthError::policy(format!(
                "no DIGEST-MD5 qop lies within SSF {}..={}",
                p.min_ssf, p.max_ssf
            )));
        }
        Ok((qops, ciphers))
    }
}

enum State {
    Start,
    Challenged {
        challenge: Challenge,
    },
    Done {
        ha1: Key16,
        outcome: Outcome,
        qop: DigestQop,
    },
    Failed,
}

/// The server side of DIGEST-MD5.
pub struct DigestServer {
    config: DigestServerConfig,
    credentials: Arc<dyn CredentialLookup>,
    nonce: Option<String>,
    state: State,
}

impl fmt::Debug for DigestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start => "start",
            State::Challenged { .. } => "challenged",
            State::Done { .. } => "done",
            State::Failed => "failed",
        };
        f.debug_struct("DigestServer")
            .field("config", &self.config)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl DigestServer {
    /// A server checking users against `credentials`.
    pub fn new(config: DigestServerConfig, credentials: Arc<dyn CredentialLookup>) -> Self {
        Self {
            config,
            credentials,
            nonce: None,
            state: State::Start,
        }
    }

    /// Use `nonce` instead of a random one: for published test vectors only.
    #[cfg(test)]
    pub(crate) fn with_nonce(mut self, nonce: &str) -> Self {
        self.nonce = Some(nonce.to_owned());
        self
    }

    /// H(A1) of a completed exchange, for checking recorded vectors against the layer.
    #[cfg(test)]
    pub(crate) fn ha1_for_tests(&self) -> [u8; 16] {
        match &self.state {
            State::Done { ha1, .. } => **ha1,
            _ => [0; 16],
        }
    }

    /// The negotiated qop, once the client was verified.
    pub fn qop(&self) -> Option<DigestQop> {
        match &self.state {
            State::Done { qop, .. } => Some(*qop),
            _ => None,
        }
    }

    fn challenge(&mut self) -> Result<Vec<u8>, AuthError> {
        let (qops, ciphers) = self.config.offer()?;
        let challenge = Challenge {
            realms: if self.config.realm.is_empty() {
                Vec::new()
            } else {
                vec![self.config.realm.clone()]
            },
            nonce: match &self.nonce {
                Some(n) => n.clone(),
                None => random_nonce()?,
            },
            qops,
            ciphers,
            maxbuf: our_maxbuf(&self.config.props),
            utf8: true,
        };
        let bytes = challenge.encode();
        self.state = State::Challenged { challenge };
        Ok(bytes)
    }

    fn verify(&mut self, challenge: &Challenge, bytes: &[u8]) -> Result<Vec<u8>, AuthError> {
        let r = Response::parse(bytes)?;
        let c = &self.config;
        if r.nonce != challenge.nonce {
            return Err(AuthError::denied("the response is for another nonce"));
        }
        // RFC 2831 §2.1.2: "nonce-count [...] The server MUST verify [...] the nc-value is 1 for
        // the first authentication" (subsequent authentication is not supported).
        if r.nc != 1 {
            return Err(AuthError::denied(format!(
                "nc={:08x}, expected 00000001",
                r.nc
            )));
        }
        let realm = r.realm.clone().unwrap_or_default();
        if realm != c.realm {
            return Err(AuthError::denied(format!(
                "realm {realm:?} is not ours ({:?})",
                c.realm
            )));
        }
        // "digest-uri: [...] The server SHOULD check that the supplied value is correct."
        // digest-uri-value = serv-type "/" host [ "/" serv-name ]
        let mut uri = r.digest_uri.splitn(3, '/');
        let (serv_type, host) = (uri.next().unwrap_or(""), uri.next().unwrap_or(""));
        if serv_type != c.service || !host.eq_ignore_ascii_case(&c.host) {
            return Err(AuthError::denied(format!(
                "digest-uri {} does not name {}/{}",
                r.digest_uri, c.service, c.host
            )));
        }
        let offered = challenge.qops.iter().any(|q| q == r.qop.name())
            && match r.qop {
                DigestQop::AuthConf(cipher) => challenge.ciphers.contains(&cipher),
                _ => true,
            };
        if !offered {
            return Err(AuthError::policy(format!("{} was not offered", r.qop)));
        }
        let stored = match self.credentials.lookup(&r.username, &realm) {
            Some(Secret::Password(password)) => user_hash(&r.username, &realm, &password),
            Some(Secret::DigestHash(hash)) => *hash,
            None => return Err(AuthError::denied("wrong user name or password")),
        };
        let ha1 = ha1(&stored, &r.nonce, &r.cnonce, r.authzid.as_deref());
        let value = |side| {
            digest_response(
                &ha1,
                &r.nonce,
                r.nc,
                &r.cnonce,
                r.qop.name(),
                &r.digest_uri,
                side,
            )
        };
        if !bool::from(value(Side::Client).ct_eq(&r.response)) {
            return Err(AuthError::denied("wrong user name or password"));
        }
        let authzid = r.authzid.clone().unwrap_or_else(|| r.username.clone());
        if !self.credentials.authorize(&r.username, &realm, &authzid) {
            return Err(AuthError::denied(format!(
                "{} may not act as {authzid}",
                r.username
            )));
        }
        let layer = r.qop != DigestQop::Auth;
        let outcome = Outcome {
            mechanism: NAME,
            authcid: r.username.clone(),
            authzid,
            layer: r.qop.layer(),
            ssf: r.qop.ssf(),
            our_maxbuf: if layer { challenge.maxbuf } else { 0 },
            peer_maxbuf: if layer { r.maxbuf } else { 0 },
        };
        let rspauth = encode_rspauth(&value(Side::Server));
        self.state = State::Done {
            ha1,
            outcome,
            qop: r.qop,
        };
        Ok(rspauth)
    }
}

impl ServerMechanism for DigestServer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, initial_response: Option<&[u8]>) -> Result<Step, AuthError> {
        if !matches!(self.state, State::Start) {
            return Err(AuthError::state("DIGEST-MD5 exchange already started"));
        }
        if initial_response.is_some_and(|r| !r.is_empty()) {
            self.state = State::Failed;
            return Err(AuthError::malformed(
                "DIGEST-MD5 subsequent authentication (an initial response) is not supported",
            ));
        }
        self.challenge().map(Step::Continue)
    }

    fn step(&mut self, response: &[u8]) -> Result<Step, AuthError> {
        let State::Challenged { challenge } = std::mem::replace(&mut self.state, State::Failed)
        else {
            return Err(AuthError::state("no challenge is waiting for a response"));
        };
        // The last message goes out as additional data with success; a protocol without that
        // sends it as a challenge and discards the client's empty answer.
        self.verify(&challenge, response)
            .map(|rspauth| Step::Done(Some(rspauth)))
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Done { outcome, .. } => Some(outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        let State::Done { ha1, outcome, qop } = self.state else {
            return Err(AuthError::state("DIGEST-MD5 exchange not complete"));
        };
        layer::security_layer(&ha1, qop, &outcome, false)
    }
}
