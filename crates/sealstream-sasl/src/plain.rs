//! PLAIN (RFC 4616): an authorization identity, a user name and a password in one message.
//!
//! PLAIN has no layer and sends the password as it is, so it belongs under TLS; clients that set
//! [`SecurityProperties::no_plaintext`](crate::SecurityProperties) never choose it.

use std::sync::Arc;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::digest::compute::user_hash;
use crate::one_message::{self, Exchange};
use crate::{
    AuthError, ClientMechanism, CredentialLookup, Outcome, Secret, SecurityLayer, ServerMechanism,
    Step,
};

const NAME: &str = "PLAIN";

// RFC 4616 §2: "The server MUST be capable of accepting authzid, authcid, and passwd productions
// up to and including 255 octets." We accept up to 1024 each.
const MAX_FIELD: usize = 1024;

/// The client side of PLAIN.
pub struct PlainClient {
    authcid: String,
    password: Zeroizing<String>,
    authzid: Option<String>,
    sent: bool,
    outcome: Option<Outcome>,
}

impl std::fmt::Debug for PlainClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainClient")
            .field("authcid", &self.authcid)
            .field("authzid", &self.authzid)
            .finish_non_exhaustive()
    }
}

impl PlainClient {
    /// A client proving `authcid` with `password`, acting as `authzid` when given.
    pub fn new(
        authcid: impl Into<String>,
        password: impl Into<String>,
        authzid: Option<String>,
    ) -> Self {
        Self {
            authcid: authcid.into(),
            password: Zeroizing::new(password.into()),
            authzid,
            sent: false,
            outcome: None,
        }
    }

    // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
    fn message(&mut self) -> Result<Vec<u8>, AuthError> {
        let authzid = self.authzid.as_deref().unwrap_or("");
        for (what, value) in [
            ("authzid", authzid),
            ("authcid", self.authcid.as_str()),
            ("password", self.password.as_str()),
        ] {
            if value.contains('\0') {
                return Err(AuthError::state(format!("PLAIN {what} contains NUL")));
            }
        }
        if self.authcid.is_empty() || self.password.is_empty() {
            return Err(AuthError::state("PLAIN needs a user name and a password"));
        }
        self.sent = true;
        let mut msg =
            Vec::with_capacity(authzid.len() + self.authcid.len() + self.password.len() + 2);
        msg.extend_from_slice(authzid.as_bytes());
        msg.push(0);
        msg.extend_from_slice(self.authcid.as_bytes());
        msg.push(0);
        msg.extend_from_slice(self.password.as_bytes());
        Ok(msg)
    }
}

impl ClientMechanism for PlainClient {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        self.message().map(Some)
    }

    // RFC 4422 §3.3: a client that sent no initial response answers an empty challenge with it.
    fn step(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        if self.sent || !challenge.is_empty() {
            return Err(AuthError::malformed(
                "PLAIN expects no challenge after its message",
            ));
        }
        self.message().map(|m| Step::Done(Some(m)))
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        one_message::check_success(NAME, self.sent, additional_data)?;
        let authzid = self.authzid.clone().unwrap_or_else(|| self.authcid.clone());
        self.outcome = Some(one_message::outcome(NAME, self.authcid.clone(), authzid));
        Ok(())
    }

    fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        one_message::no_layer(NAME, self.outcome.as_ref())
    }
}

/// The server side of PLAIN, checking passwords against a [`CredentialLookup`] in one realm.
pub struct PlainServer {
    credentials: Arc<dyn CredentialLookup>,
    realm: String,
    exchange: Exchange,
}

impl std::fmt::Debug for PlainServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainServer")
            .field("realm", &self.realm)
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

impl PlainServer {
    /// A server looking users up in `realm` (a stored DIGEST-MD5 hash is checked against it).
    pub fn new(credentials: Arc<dyn CredentialLookup>, realm: impl Into<String>) -> Self {
        Self {
            credentials,
            realm: realm.into(),
            exchange: Exchange::new(NAME),
        }
    }

    fn check(
        credentials: &dyn CredentialLookup,
        realm: &str,
        message: &[u8],
    ) -> Result<Outcome, AuthError> {
        let mut fields = message.split(|b| *b == 0);
        let (Some(authzid), Some(authcid), Some(passwd), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(AuthError::malformed(
                "PLAIN message is not authzid NUL authcid NUL passwd",
            ));
        };
        let field = |what: &str, bytes: &[u8]| -> Result<String, AuthError> {
            if bytes.len() > MAX_FIELD {
                return Err(AuthError::malformed(format!(
                    "PLAIN {what} longer than {MAX_FIELD} bytes"
                )));
            }
            String::from_utf8(bytes.to_vec())
                .map_err(|_| AuthError::malformed(format!("PLAIN {what} is not UTF-8")))
        };
        let authzid = field("authzid", authzid)?;
        let authcid = field("authcid", authcid)?;
        let passwd = Zeroizing::new(field("password", passwd)?);
        if authcid.is_empty() || passwd.is_empty() {
            return Err(AuthError::malformed(
                "PLAIN authcid and password must not be empty",
            ));
        }
        let ok = match credentials.lookup(&authcid, realm) {
            Some(Secret::Password(stored)) => {
                bool::from(stored.as_bytes().ct_eq(passwd.as_bytes()))
            }
            Some(Secret::DigestHash(stored)) => {
                let hash = user_hash(&authcid, realm, &passwd);
                bool::from(stored.ct_eq(&hash[..]))
            }
            None => false,
        };
        if !ok {
            return Err(AuthError::denied("PLAIN: wrong user name or password"));
        }
        let authzid = one_message::authorize(credentials, &authcid, realm, &authzid)?;
        Ok(one_message::outcome(NAME, authcid, authzid))
    }
}

impl ServerMechanism for PlainServer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, initial_response: Option<&[u8]>) -> Result<Step, AuthError> {
        let (credentials, realm) = (&*self.credentials, self.realm.as_str());
        self.exchange
            .start(initial_response, |m| Self::check(credentials, realm, m))
    }

    fn step(&mut self, response: &[u8]) -> Result<Step, AuthError> {
        let (credentials, realm) = (&*self.credentials, self.realm.as_str());
        self.exchange
            .step(response, |m| Self::check(credentials, realm, m))
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
    use crate::{AuthErrorKind, Layer};

    struct Users;
    impl CredentialLookup for Users {
        fn lookup(&self, username: &str, realm: &str) -> Option<Secret> {
            match username {
                "tim" => Some(Secret::password("tanstaaftanstaaf")),
                "hashed" => Some(Secret::DigestHash(Zeroizing::new(user_hash(
                    "hashed", realm, "pw",
                )))),
                _ => None,
            }
        }
    }

    fn server() -> PlainServer {
        PlainServer::new(Arc::new(Users), "example.com")
    }

    #[test]
    fn rfc4616_example() {
        // RFC 4616 §4: "C: a002 AUTHENTICATE "PLAIN" {20+}  C: {21}\0tim\0tanstaaftanstaaf"
        let mut c = PlainClient::new("tim", "tanstaaftanstaaf", None);
        let msg = c.start().unwrap().unwrap();
        assert_eq!(msg, b"\0tim\0tanstaaftanstaaf");
        let mut s = server();
        assert_eq!(s.start(Some(&msg)).unwrap(), Step::Done(None));
        assert_eq!(s.outcome().unwrap().authzid, "tim");
        c.success(None).unwrap();
        assert_eq!(c.outcome().unwrap().layer, Layer::None);
        assert!(Box::new(c).into_layer().unwrap().is_none());
    }

    #[test]
    fn stored_digest_hash_and_denials() {
        let mut s = server();
        assert!(matches!(
            s.start(Some(b"\0hashed\0pw")),
            Ok(Step::Done(None))
        ));
        let deny = |msg: &[u8]| server().start(Some(msg)).unwrap_err().kind();
        assert_eq!(deny(b"\0hashed\0wrong"), AuthErrorKind::Denied);
        assert_eq!(deny(b"\0tim\0wrong"), AuthErrorKind::Denied);
        assert_eq!(deny(b"\0nobody\0x"), AuthErrorKind::Denied);
        assert_eq!(deny(b"root\0tim\0tanstaaftanstaaf"), AuthErrorKind::Denied);
        assert_eq!(deny(b"\0tim"), AuthErrorKind::Malformed);
        assert_eq!(deny(b"\0tim\0a\0b"), AuthErrorKind::Malformed);
        assert_eq!(deny(b"\0\0pw"), AuthErrorKind::Malformed);
        assert_eq!(deny(b"\0tim\0\xff"), AuthErrorKind::Malformed);
    }

    #[test]
    fn no_initial_response_gets_empty_challenge() {
        let mut s = server();
        assert_eq!(s.start(None).unwrap(), Step::Continue(Vec::new()));
        let mut c = PlainClient::new("tim", "tanstaaftanstaaf", Some("tim".into()));
        let Step::Done(Some(msg)) = c.step(b"").unwrap() else {
            panic!("PLAIN answers with its message")
        };
        assert_eq!(s.step(&msg).unwrap(), Step::Done(None));
        assert!(s.step(&msg).is_err());
    }
}
