//! Why an authentication exchange failed.
//!
//! An exchange fails for reasons the application treats differently: the peer sent something
//! that is not the mechanism's syntax (a broken or hostile peer), the credentials were wrong
//! (tell the user), our security properties cannot be met (a configuration problem), or the
//! application called the steps out of order (a bug). [`AuthError`] keeps that distinction in
//! [`AuthErrorKind`], and converts into a [`sealstream::Error`] with the matching SSPI status for
//! code that handles one error type.

use std::borrow::Cow;
use std::fmt;

use sealstream::Status;

/// What kind of failure ended an exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// The peer's message is malformed: a syntax error, a missing, duplicated or out-of-range
    /// directive, or a message too large.
    Malformed,
    /// Authentication failed: unknown user, wrong password, a response or `rspauth` that does not
    /// verify, or an authorization identity the user may not assume.
    Denied,
    /// The peer's offer and our [`SecurityProperties`](crate::SecurityProperties) have nothing in
    /// common (no acceptable mechanism, layer or cipher).
    Policy,
    /// A step was called in the wrong order, or after the exchange ended.
    State,
    /// Something on our side failed: the system's random generator, or a cipher refusing a key.
    Internal,
}

/// An authentication failure: its kind and a sentence saying what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthError {
    kind: AuthErrorKind,
    detail: Cow<'static, str>,
}

impl AuthError {
    /// An error of `kind` with a sentence.
    pub fn new(kind: AuthErrorKind, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// [`AuthErrorKind::Malformed`].
    pub fn malformed(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::Malformed, detail)
    }

    /// [`AuthErrorKind::Denied`].
    pub fn denied(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::Denied, detail)
    }

    /// [`AuthErrorKind::Policy`].
    pub fn policy(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::Policy, detail)
    }

    /// [`AuthErrorKind::State`].
    pub fn state(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::State, detail)
    }

    /// The kind of failure.
    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// The sentence describing the failure.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            AuthErrorKind::Malformed => "malformed SASL message",
            AuthErrorKind::Denied => "SASL authentication failed",
            AuthErrorKind::Policy => "SASL security properties not satisfiable",
            AuthErrorKind::State => "SASL exchange misused",
            AuthErrorKind::Internal => "SASL internal failure",
        };
        write!(f, "{kind}: {}", self.detail)
    }
}

impl std::error::Error for AuthError {}

impl From<AuthError> for sealstream::Error {
    /// Malformed messages and failed verification are `SEC_E_INVALID_TOKEN` (what
    /// `InitializeSecurityContext` returns for a bad token), policy failures
    /// `SEC_E_CRYPTO_SYSTEM_INVALID`, misuse `SEC_E_INVALID_HANDLE`, our own failures
    /// `SEC_E_INTERNAL_ERROR`.
    fn from(err: AuthError) -> Self {
        let status = match err.kind {
            AuthErrorKind::Malformed | AuthErrorKind::Denied => Status::InvalidToken,
            AuthErrorKind::Policy => Status::CryptoSystemInvalid,
            AuthErrorKind::State => Status::InvalidHandle,
            AuthErrorKind::Internal => Status::InternalError,
        };
        sealstream::Error::new(status, err.to_string()).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_with_status() {
        let e: sealstream::Error = AuthError::denied("wrong password").into();
        assert_eq!(e.status(), Status::InvalidToken);
        assert!(e.detail().contains("wrong password"));
        let e: sealstream::Error = AuthError::policy("no cipher").into();
        assert_eq!(e.status(), Status::CryptoSystemInvalid);
    }
}
