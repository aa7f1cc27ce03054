//! EXTERNAL (RFC 4422 appendix A): the identity was proven by a lower layer (a TLS client
//! certificate, a Unix socket's peer credentials); the exchange only asks to act as someone.

use std::sync::Arc;

use crate::one_message::{self, Exchange};
use crate::{
    AuthError, ClientMechanism, CredentialLookup, Outcome, SecurityLayer, ServerMechanism, Step,
};

const NAME: &str = "EXTERNAL";

/// The client side of EXTERNAL.
#[derive(Debug)]
pub struct ExternalClient {
    authzid: Option<String>,
    sent: bool,
    outcome: Option<Outcome>,
}

impl ExternalClient {
    /// A client that acts as `authzid`, or as whoever the lower layer proved when `None`.
    pub fn new(authzid: Option<String>) -> Self {
        Self {
            authzid,
            sent: false,
            outcome: None,
        }
    }

    fn message(&mut self) -> Vec<u8> {
        self.sent = true;
        self.authzid.clone().unwrap_or_default().into_bytes()
    }
}

impl ClientMechanism for ExternalClient {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        Ok(Some(self.message()))
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        if self.sent || !challenge.is_empty() {
            return Err(AuthError::malformed(
                "EXTERNAL expects no challenge after its message",
            ));
        }
        Ok(Step::Done(Some(self.message())))
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        one_message::check_success(NAME, self.sent, additional_data)?;
        // The client does not learn who the lower layer proved it to be.
        let authzid = self.authzid.clone().unwrap_or_default();
        self.outcome = Some(one_message::outcome(NAME, String::new(), authzid));
        Ok(())
    }

    fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        one_message::no_layer(NAME, self.outcome.as_ref())
    }
}

/// The server side of EXTERNAL: `identity` is what the lower layer proved (none: refuse).
pub struct ExternalServer {
    identity: Option<String>,
    authorizer: Arc<dyn CredentialLookup>,
    exchange: Exchange,
}

impl std::fmt::Debug for ExternalServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalServer")
            .field("identity", &self.identity)
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

impl ExternalServer {
    /// A server for a client the lower layer proved to be `identity`; `authorizer` decides
    /// whether it may act as another identity ([`CredentialLookup::authorize`], realm `""`).
    pub fn new(identity: Option<String>, authorizer: Arc<dyn CredentialLookup>) -> Self {
        Self {
            identity,
            authorizer,
            exchange: Exchange::new(NAME),
        }
    }

    // RFC 4422 A.1: "The authorization identity string is transferred as its UTF-8
    // representation. [...] If the client sends an empty string as its authorization identity,
    // the server is to derive the authorization identity from the client's authentication
    // credentials."
    fn check(
        identity: Option<&str>,
        authorizer: &dyn CredentialLookup,
        message: &[u8],
    ) -> Result<Outcome, AuthError> {
        let Some(identity) = identity else {
            return Err(AuthError::denied(
                "no identity was established by the lower layer",
            ));
        };
        let requested = std::str::from_utf8(message)
            .map_err(|_| AuthError::malformed("EXTERNAL authzid is not UTF-8"))?;
        if requested.contains('\0') {
            return Err(AuthError::malformed("EXTERNAL authzid contains NUL"));
        }
        let authzid = one_message::authorize(authorizer, identity, "", requested)?;
        Ok(one_message::outcome(NAME, identity.to_owned(), authzid))
    }
}

impl ServerMechanism for ExternalServer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, initial_response: Option<&[u8]>) -> Result<Step, AuthError> {
        let (identity, authorizer) = (self.identity.as_deref(), &*self.authorizer);
        self.exchange
            .start(initial_response, |m| Self::check(identity, authorizer, m))
    }

    fn step(&mut self, response: &[u8]) -> Result<Step, AuthError> {
        let (identity, authorizer) = (self.identity.as_deref(), &*self.authorizer);
        self.exchange
            .step(response, |m| Self::check(identity, authorizer, m))
    }

    fn outcome(&self) -> Option<&Outcome> {
        self.exchange.outcome()
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        self.exchange.into_layer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthErrorKind, Secret};

    struct SelfOnly;
    impl CredentialLookup for SelfOnly {
        fn lookup(&self, _: &str, _: &str) -> Option<Secret> {
            None
        }
    }

    #[test]
    fn derives_or_checks_authzid() {
        let mut s = ExternalServer::new(Some("cn=alice".into()), Arc::new(SelfOnly));
        assert_eq!(s.start(Some(b"")).unwrap(), Step::Done(None));
        assert_eq!(s.outcome().unwrap().authzid, "cn=alice");

        let mut s = ExternalServer::new(Some("cn=alice".into()), Arc::new(SelfOnly));
        let err = s.start(Some(b"cn=root")).unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::Denied);

        let mut s = ExternalServer::new(None, Arc::new(SelfOnly));
        assert_eq!(
            s.start(Some(b"")).unwrap_err().kind(),
            AuthErrorKind::Denied
        );
    }

    #[test]
    fn client_round_trip_without_initial_response() {
        let mut s = ExternalServer::new(Some("cn=alice".into()), Arc::new(SelfOnly));
        let mut c = ExternalClient::new(Some("cn=alice".into()));
        let Step::Continue(challenge) = s.start(None).unwrap() else {
            panic!("empty challenge expected")
        };
        let Step::Done(Some(msg)) = c.step(&challenge).unwrap() else {
            panic!("EXTERNAL answers with its authzid")
        };
        assert_eq!(s.step(&msg).unwrap(), Step::Done(None));
        c.success(None).unwrap();
        assert_eq!(c.outcome().unwrap().authzid, "cn=alice");
        assert!(Box::new(s).into_layer().unwrap().is_none());
    }
}
