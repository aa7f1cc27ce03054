//! What PLAIN and EXTERNAL share: the whole exchange is one client message, the server answers
//! with success or failure, and no security layer follows. Each mechanism keeps only what
//! makes it itself: the message's format and how it is checked.

use crate::{AuthError, CredentialLookup, Layer, Outcome, SecurityLayer, Step};

/// The outcome of a mechanism without a security layer.
pub(crate) fn outcome(mechanism: &'static str, authcid: String, authzid: String) -> Outcome {
    Outcome {
        mechanism,
        authcid,
        authzid,
        layer: Layer::None,
        ssf: 0,
        our_maxbuf: 0,
        peer_maxbuf: 0,
    }
}

/// The authorization identity `authcid` asked for with `requested`: RFC 4422 §3.4.1, an empty
/// request means acting as oneself; anything else must be allowed by `credentials`.
pub(crate) fn authorize(
    credentials: &dyn CredentialLookup,
    authcid: &str,
    realm: &str,
    requested: &str,
) -> Result<String, AuthError> {
    let authzid = if requested.is_empty() {
        authcid
    } else {
        requested
    };
    if credentials.authorize(authcid, realm, authzid) {
        Ok(authzid.to_owned())
    } else {
        Err(AuthError::denied(format!(
            "{authcid} may not act as {authzid}"
        )))
    }
}

/// The client's check of the server's success: only after our message, and with no data.
pub(crate) fn check_success(
    mechanism: &str,
    sent: bool,
    additional_data: Option<&[u8]>,
) -> Result<(), AuthError> {
    if !sent {
        return Err(AuthError::state(format!(
            "success before the {mechanism} message was sent"
        )));
    }
    if additional_data.is_some_and(|d| !d.is_empty()) {
        return Err(AuthError::malformed(format!(
            "{mechanism} success carries no data"
        )));
    }
    Ok(())
}

/// `into_layer` of a finished exchange: there is no layer.
pub(crate) fn no_layer(
    mechanism: &str,
    outcome: Option<&Outcome>,
) -> Result<Option<SecurityLayer>, AuthError> {
    match outcome {
        Some(_) => Ok(None),
        None => Err(AuthError::state(format!(
            "{mechanism} exchange not complete"
        ))),
    }
}

/// The server's side of the exchange: the message arrives either as the initial response or
/// after an empty challenge, and only once.
#[derive(Debug)]
pub(crate) struct Exchange {
    mechanism: &'static str,
    done: bool,
    outcome: Option<Outcome>,
}

impl Exchange {
    pub(crate) fn new(mechanism: &'static str) -> Self {
        Self {
            mechanism,
            done: false,
            outcome: None,
        }
    }

    fn verify(
        &mut self,
        message: &[u8],
        check: impl FnOnce(&[u8]) -> Result<Outcome, AuthError>,
    ) -> Result<Step, AuthError> {
        self.done = true;
        self.outcome = Some(check(message)?);
        Ok(Step::Done(None))
    }

    /// `ServerMechanism::start`: check the initial response, or ask for the message (RFC 4422
    /// §3.3: an empty challenge).
    pub(crate) fn start(
        &mut self,
        initial_response: Option<&[u8]>,
        check: impl FnOnce(&[u8]) -> Result<Outcome, AuthError>,
    ) -> Result<Step, AuthError> {
        match initial_response {
            Some(message) => self.verify(message, check),
            None => Ok(Step::Continue(Vec::new())),
        }
    }

    /// `ServerMechanism::step`: the message after the empty challenge.
    pub(crate) fn step(
        &mut self,
        response: &[u8],
        check: impl FnOnce(&[u8]) -> Result<Outcome, AuthError>,
    ) -> Result<Step, AuthError> {
        if self.done {
            return Err(AuthError::state(format!(
                "{} exchange already ended",
                self.mechanism
            )));
        }
        self.verify(response, check)
    }

    pub(crate) fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    pub(crate) fn into_layer(self) -> Result<Option<SecurityLayer>, AuthError> {
        no_layer(self.mechanism, self.outcome.as_ref())
    }
}
