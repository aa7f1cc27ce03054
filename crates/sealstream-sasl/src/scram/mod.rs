//! SCRAM (RFC 5802) with SHA-256 (RFC 7677) or SHA-1: a password proven without sending it,
//! the server proven to know it in return, and, in the `-PLUS` variants, both bound to the TLS
//! channel under SASL so that a man in the middle who terminates TLS cannot relay the proof.
//!
//! SCRAM negotiates no security layer: it belongs under TLS, where it is the modern choice over
//! PLAIN (the password never crosses the wire) and over DIGEST-MD5 (moved to Historic by RFC
//! 6331).
//!
//! ```
//! use sealstream_sasl::scram::{ScramClient, ScramHash};
//! use sealstream_sasl::ClientMechanism;
//!
//! let mut client = ScramClient::new(ScramHash::Sha256, "alice", "secret", None);
//! assert_eq!(client.name(), "SCRAM-SHA-256");
//! let first = client.start()?.expect("SCRAM starts with the client");
//! assert!(first.starts_with(b"n,,n=alice,r="));
//! # Ok::<(), sealstream_sasl::AuthError>(())
//! ```
//!
//! Channel binding: [`ScramClient::channel_binding`] makes the client the `-PLUS` mechanism
//! with the binding type and data `sealstream-tls` computes (`tls-exporter` on TLS 1.3,
//! `tls-unique` on TLS 1.2, `tls-server-end-point` on either). RFC 5802 carries no negotiation
//! of the type: the server must accept the one the client sends. Cyrus SASL 2.1.28 accepts only
//! `tls-unique`, so against Cyrus the `-PLUS` variants work on TLS 1.2 and are refused on
//! TLS 1.3, where plain SCRAM inside TLS is what works.
//!
//! The hostile-server cases are bounded: an iteration count outside
//! [`ScramClient::iterations`]'s range (by default 4096 to 600,000) is refused before any key
//! is derived, messages over 4 KiB are refused unread, the server's nonce must extend ours,
//! and its signature is compared in constant time.
//!
//! The protocol layer is ours rather than a crate's: the SCRAM crates on crates.io either
//! bring their own crypto stack (ring) beside this workspace's RustCrypto generation or are a
//! whole SASL framework; the primitives here are the RustCrypto `pbkdf2`, `hmac`, `sha1` and
//! `sha2` crates, and user names and passwords are prepared with the `stringprep` crate's
//! SASLprep (RFC 4013).

mod keys;
mod messages;

use std::borrow::Cow;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::one_message;
use crate::{
    AuthError, AuthErrorKind, ChannelBindingData, ClientMechanism, Outcome, SecurityLayer, Step,
};
use messages::{
    ServerFinal, encode, escape_name, is_printable, parse_server_final, parse_server_first,
};

/// The hash function of a SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScramHash {
    /// SHA-1: SCRAM-SHA-1 (RFC 5802), for servers that offer nothing better.
    Sha1,
    /// SHA-256: SCRAM-SHA-256 (RFC 7677).
    Sha256,
}

impl ScramHash {
    /// The mechanism's registered name, with or without channel binding.
    pub fn mechanism_name(self, plus: bool) -> &'static str {
        match (self, plus) {
            (ScramHash::Sha1, false) => "SCRAM-SHA-1",
            (ScramHash::Sha1, true) => "SCRAM-SHA-1-PLUS",
            (ScramHash::Sha256, false) => "SCRAM-SHA-256",
            (ScramHash::Sha256, true) => "SCRAM-SHA-256-PLUS",
        }
    }
}

/// The client's channel-binding stance (RFC 5802 §6, the `gs2-cbind-flag`).
#[derive(Clone, Debug)]
enum Binding {
    /// `n`: the client does not bind.
    None,
    /// `y`: the client could bind but the server offered no `-PLUS` mechanism (a server that
    /// did offer one then knows the offer was stripped, and refuses).
    ServerOffersNone,
    /// `p=TYPE`: bound to this channel.
    Bound(ChannelBindingData),
}

/// Where the exchange stands.
enum State {
    Start,
    SentFirst {
        nonce: String,
        gs2_header: String,
        first_bare: String,
    },
    SentFinal {
        server_signature: Zeroizing<Vec<u8>>,
    },
    Verified,
    Failed,
}

/// The client side of SCRAM-SHA-256, SCRAM-SHA-1 and their `-PLUS` variants.
pub struct ScramClient {
    hash: ScramHash,
    authcid: String,
    password: Zeroizing<String>,
    authzid: Option<String>,
    binding: Binding,
    min_iterations: u32,
    max_iterations: u32,
    nonce: Option<String>,
    state: State,
    outcome: Option<Outcome>,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("mechanism", &self.name())
            .field("authcid", &self.authcid)
            .field("authzid", &self.authzid)
            .finish_non_exhaustive()
    }
}

/// Iteration counts a client accepts by default: RFC 7677 §4 asks for at least 4096; 600,000
/// (OWASP's figure for PBKDF2-HMAC-SHA256) takes a fraction of a second, and bounds what a
/// hostile server can make the client spend.
const DEFAULT_MIN_ITERATIONS: u32 = 4096;
const DEFAULT_MAX_ITERATIONS: u32 = 600_000;

impl ScramClient {
    /// A client proving `authcid` with `password` (both prepared with SASLprep), acting as
    /// `authzid` when given; it does not bind to a channel (`n`).
    pub fn new(
        hash: ScramHash,
        authcid: impl Into<String>,
        password: impl Into<String>,
        authzid: Option<String>,
    ) -> Self {
        Self {
            hash,
            authcid: authcid.into(),
            password: Zeroizing::new(password.into()),
            authzid,
            binding: Binding::None,
            min_iterations: DEFAULT_MIN_ITERATIONS,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            nonce: None,
            state: State::Start,
            outcome: None,
        }
    }

    /// Bind to the channel under SASL: the client becomes the `-PLUS` mechanism and sends
    /// `bindings` (their type's name and data for this channel).
    pub fn channel_binding(mut self, bindings: ChannelBindingData) -> Self {
        self.binding = Binding::Bound(bindings);
        self
    }

    /// Say that this client could bind to the channel but the server offered no `-PLUS`
    /// mechanism (`y`): a server that did offer one detects the offer was removed on the way.
    pub fn server_offers_no_binding(mut self) -> Self {
        self.binding = Binding::ServerOffersNone;
        self
    }

    /// Accept iteration counts from `min` to `max` (by default 4096 to 600,000).
    pub fn iterations(mut self, min: u32, max: u32) -> Self {
        self.min_iterations = min;
        self.max_iterations = max;
        self
    }

    /// Use `nonce` instead of a random one (for the RFCs' test vectors and the fuzzer).
    #[cfg(any(test, fuzzing))]
    pub(crate) fn with_nonce(mut self, nonce: &str) -> Self {
        self.nonce = Some(nonce.to_owned());
        self
    }

    /// The `gs2-header`: the channel-binding flag and the authorization identity.
    fn gs2_header(&self) -> Result<String, AuthError> {
        let flag = match &self.binding {
            Binding::None => Cow::Borrowed("n"),
            Binding::ServerOffersNone => Cow::Borrowed("y"),
            Binding::Bound(data) => {
                if data.kind.is_empty()
                    || !data
                        .kind
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                {
                    return Err(AuthError::state(format!(
                        "{:?} is not a channel-binding type name",
                        data.kind
                    )));
                }
                Cow::Owned(format!("p={}", data.kind))
            }
        };
        let authzid = match &self.authzid {
            Some(authzid) => format!("a={}", escape_name(&prepare(authzid, "authzid")?)),
            None => String::new(),
        };
        Ok(format!("{flag},{authzid},"))
    }

    /// The client's final message and the signature the server must answer with.
    fn answer_first(&mut self, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
        let State::SentFirst {
            nonce,
            gs2_header,
            first_bare,
        } = std::mem::replace(&mut self.state, State::Failed)
        else {
            return Err(AuthError::state(
                "a SCRAM challenge before the first message",
            ));
        };
        let first = parse_server_first(challenge)?;
        // RFC 5802 §5.1: the server's nonce starts with the client's.
        if !first.nonce.starts_with(&nonce)
            || first.nonce.len() == nonce.len()
            || !is_printable(&first.nonce)
        {
            return Err(AuthError::malformed(
                "the server's nonce does not extend the client's",
            ));
        }
        if first.iterations < self.min_iterations || first.iterations > self.max_iterations {
            return Err(AuthError::policy(format!(
                "the server asks for {} iterations; this client accepts {} to {}",
                first.iterations, self.min_iterations, self.max_iterations
            )));
        }
        let mut binding_input = gs2_header.into_bytes();
        if let Binding::Bound(data) = &self.binding {
            binding_input.extend_from_slice(&data.data);
        }
        let without_proof = format!("c={},r={}", encode(&binding_input), first.nonce);
        // The server's message is known to be UTF-8 (it parsed).
        let server_first = std::str::from_utf8(challenge).unwrap_or_default();
        let auth_message = format!("{first_bare},{server_first},{without_proof}");
        let password = prepare(&self.password, "password")?;
        let proofs = keys::derive(
            self.hash,
            password.as_bytes(),
            &first.salt,
            first.iterations,
            auth_message.as_bytes(),
        );
        let message = format!("{without_proof},p={}", encode(&proofs.client_proof));
        self.state = State::SentFinal {
            server_signature: proofs.server_signature,
        };
        Ok(message.into_bytes())
    }

    /// Check the server's final message against the signature it must hold.
    fn verify(&mut self, message: &[u8]) -> Result<(), AuthError> {
        let State::SentFinal { server_signature } =
            std::mem::replace(&mut self.state, State::Failed)
        else {
            return Err(AuthError::state(
                "the server's final SCRAM message before the client's",
            ));
        };
        match parse_server_final(message)? {
            ServerFinal::Error(reason) => Err(AuthError::denied(format!(
                "the server refused the proof: {reason}"
            ))),
            ServerFinal::Verifier(signature) => {
                if bool::from(signature.ct_eq(&server_signature)) {
                    self.state = State::Verified;
                    Ok(())
                } else {
                    Err(AuthError::new(
                        AuthErrorKind::Denied,
                        "the server's signature is wrong: it does not know the password",
                    ))
                }
            }
        }
    }
}

/// `text` prepared with SASLprep (RFC 4013), as RFC 5802 §5.1 asks of user names and
/// passwords.
fn prepare<'a>(text: &'a str, what: &str) -> Result<Cow<'a, str>, AuthError> {
    stringprep::saslprep(text)
        .map_err(|e| AuthError::state(format!("the {what} cannot be prepared with SASLprep: {e}")))
}

/// 18 random bytes as 24 base64 characters: printable, no comma.
fn random_nonce() -> Result<String, AuthError> {
    let mut bytes = [0u8; 18];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        AuthError::new(
            AuthErrorKind::Internal,
            format!("the system random generator failed: {e}"),
        )
    })?;
    Ok(encode(&bytes))
}

impl ClientMechanism for ScramClient {
    fn name(&self) -> &'static str {
        self.hash
            .mechanism_name(matches!(self.binding, Binding::Bound(_)))
    }

    // RFC 5802 §7: client-first-message = gs2-header client-first-message-bare, where
    // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions].
    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        if !matches!(self.state, State::Start) {
            return Err(AuthError::state("the SCRAM exchange has started already"));
        }
        if self.authcid.is_empty() || self.password.is_empty() {
            return Err(AuthError::state("SCRAM needs a user name and a password"));
        }
        let nonce = match self.nonce.take() {
            Some(nonce) => nonce,
            None => random_nonce()?,
        };
        let gs2_header = self.gs2_header()?;
        let user = escape_name(&prepare(&self.authcid, "user name")?);
        let first_bare = format!("n={user},r={nonce}");
        let message = format!("{gs2_header}{first_bare}").into_bytes();
        self.state = State::SentFirst {
            nonce,
            gs2_header,
            first_bare,
        };
        Ok(Some(message))
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        match self.state {
            State::SentFirst { .. } => self.answer_first(challenge).map(Step::Continue),
            // A protocol without room for data in its success (IMAP) sends the server's final
            // message as a last challenge; an empty response answers it (RFC 4422 §3.6).
            State::SentFinal { .. } => self
                .verify(challenge)
                .map(|()| Step::Done(Some(Vec::new()))),
            _ => Err(AuthError::state("a SCRAM challenge out of turn")),
        }
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        match (&self.state, additional_data) {
            (State::SentFinal { .. }, Some(data)) if !data.is_empty() => self.verify(data)?,
            (State::SentFinal { .. }, _) => {
                self.state = State::Failed;
                return Err(AuthError::new(
                    AuthErrorKind::Denied,
                    "the server reported success without its signature: it did not prove it \
                     knows the password",
                ));
            }
            (State::Verified, None | Some([])) => {}
            (State::Verified, Some(_)) => {
                return Err(AuthError::malformed(
                    "the server sent data with its success after its final SCRAM message",
                ));
            }
            _ => return Err(AuthError::state("success before the SCRAM exchange ended")),
        }
        let authzid = self.authzid.clone().unwrap_or_else(|| self.authcid.clone());
        self.outcome = Some(one_message::outcome(
            self.name(),
            self.authcid.clone(),
            authzid,
        ));
        Ok(())
    }

    fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        one_message::no_layer(self.name(), self.outcome.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `client` through the RFC's exchange: its messages must be `first` and `last`.
    fn exchange(
        mut client: ScramClient,
        first: &str,
        server_first: &str,
        last: &str,
        server_final: &str,
    ) {
        let sent = client.start().unwrap().unwrap();
        assert_eq!(String::from_utf8(sent).unwrap(), first);
        let Step::Continue(sent) = client.step(server_first.as_bytes()).unwrap() else {
            panic!("the client answers the server's first message");
        };
        assert_eq!(String::from_utf8(sent).unwrap(), last);
        client.success(Some(server_final.as_bytes())).unwrap();
        let outcome = client.outcome().unwrap();
        assert_eq!((outcome.authcid.as_str(), outcome.ssf), ("user", 0));
        assert!(Box::new(client).into_layer().unwrap().is_none());
    }

    // RFC 5802 §5: "user" with the password "pencil", SCRAM-SHA-1.
    #[test]
    fn rfc5802_example() {
        let client = ScramClient::new(ScramHash::Sha1, "user", "pencil", None)
            .with_nonce("fyko+d2lbbFgONRv9qkxdawL");
        exchange(
            client,
            "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        );
    }

    // RFC 7677 §3: the same user and password, SCRAM-SHA-256.
    #[test]
    fn rfc7677_example() {
        let client = ScramClient::new(ScramHash::Sha256, "user", "pencil", None)
            .with_nonce("rOprNGfwEbeRWgbNEkqO");
        exchange(
            client,
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        );
    }

    /// A SCRAM-SHA-256 client that has answered RFC 7677's server-first message.
    fn rfc7677_answered() -> ScramClient {
        let mut client = ScramClient::new(ScramHash::Sha256, "user", "pencil", None)
            .with_nonce("rOprNGfwEbeRWgbNEkqO");
        client.start().unwrap();
        client
            .step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap();
        client
    }

    #[test]
    fn the_server_signature_may_come_as_a_last_challenge() {
        let mut client = rfc7677_answered();
        let step = client
            .step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert_eq!(step, Step::Done(Some(Vec::new())));
        client.success(None).unwrap();
        assert_eq!(client.outcome().unwrap().mechanism, "SCRAM-SHA-256");
    }

    fn after_first(server_first: &str) -> Result<Step, AuthError> {
        let mut client = ScramClient::new(ScramHash::Sha256, "user", "pencil", None)
            .with_nonce("abc")
            .iterations(4096, 10_000);
        client.start().unwrap();
        client.step(server_first.as_bytes())
    }

    #[test]
    fn hostile_first_messages_are_refused_before_any_key_is_derived() {
        for (server_first, why) in [
            ("r=xyz123,s=QQ==,i=4096", "does not extend"),
            ("r=abc,s=QQ==,i=4096", "does not extend"),
            ("r=abc\u{7f}x,s=QQ==,i=4096", "does not extend"),
            ("r=abcdef,s=QQ==,i=4095", "accepts 4096 to 10000"),
            ("r=abcdef,s=QQ==,i=4000000000", "accepts 4096 to 10000"),
        ] {
            let err = after_first(server_first).unwrap_err();
            assert!(err.detail().contains(why), "{server_first}: {err}");
        }
    }

    #[test]
    fn a_wrong_or_missing_server_signature_fails() {
        let start = rfc7677_answered;
        let err = start()
            .success(Some(b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
            .unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::Denied);
        assert!(err.detail().contains("does not know the password"), "{err}");
        let err = start().success(None).unwrap_err();
        assert!(err.detail().contains("without its signature"), "{err}");
        let err = start().step(b"e=invalid-proof").unwrap_err();
        assert!(err.detail().contains("invalid-proof"), "{err}");
        let mut client = start();
        assert!(client.success(Some(b"x")).is_err());
        assert!(
            client.success(None).is_err(),
            "a failed exchange stays failed"
        );
    }

    #[test]
    fn channel_binding_and_authorization_identity_in_the_gs2_header() {
        let bindings = ChannelBindingData::new("tls-exporter", vec![1, 2, 3]);
        let mut client =
            ScramClient::new(ScramHash::Sha256, "us,er", "pencil", Some("ad=min".into()))
                .channel_binding(bindings)
                .with_nonce("abc");
        assert_eq!(client.name(), "SCRAM-SHA-256-PLUS");
        let first = client.start().unwrap().unwrap();
        assert_eq!(first, b"p=tls-exporter,a=ad=3Dmin,n=us=2Cer,r=abc");
        let Step::Continue(last) = client.step(b"r=abcdef,s=QQ==,i=4096").unwrap() else {
            panic!()
        };
        // c= carries the gs2 header and then the binding data.
        let expected = encode(b"p=tls-exporter,a=ad=3Dmin,\x01\x02\x03");
        assert!(last.starts_with(format!("c={expected},r=abcdef,p=").as_bytes()));
        let mut client =
            ScramClient::new(ScramHash::Sha1, "u", "p", None).server_offers_no_binding();
        assert_eq!(client.name(), "SCRAM-SHA-1");
        assert!(client.start().unwrap().unwrap().starts_with(b"y,,n=u,r="));
    }

    #[test]
    fn names_and_passwords_are_prepared() {
        // SASLprep maps U+00A0 (no-break space) to a space and refuses control characters.
        let mut client = ScramClient::new(ScramHash::Sha256, "a\u{a0}b", "p", None).with_nonce("n");
        assert_eq!(client.start().unwrap().unwrap(), b"n,,n=a b,r=n");
        let mut client = ScramClient::new(ScramHash::Sha256, "a\u{7}b", "p", None);
        assert!(client.start().is_err());
        let mut client = ScramClient::new(ScramHash::Sha256, "", "p", None);
        assert!(client.start().is_err());
    }
}
