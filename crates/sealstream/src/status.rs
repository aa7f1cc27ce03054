//! SSPI status codes.
//!
//! Every outcome of sealing or unsealing corresponds to one `SECURITY_STATUS` that
//! `EncryptMessage`/`DecryptMessage` would return. Carrying the code lets an application that
//! already speaks SSPI (or logs its codes) read ours unchanged, and gives each failure one
//! unambiguous name.

use std::fmt;
use std::io;

/// An SSPI `SECURITY_STATUS`: the success and informational codes an unseal outcome maps to, and
/// the `SEC_E_*` failures an [`Error`](crate::Error) carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// `SEC_E_OK`: the message was sealed or unsealed.
    Ok,
    /// `SEC_I_CONTEXT_EXPIRED`: the peer closed its side of the context (TLS close_notify).
    ContextExpiredInfo,
    /// `SEC_I_RENEGOTIATE`: the peer sent a post-handshake message the write half must answer.
    Renegotiate,
    /// `SEC_E_INSUFFICIENT_MEMORY`: a buffer could not be obtained.
    InsufficientMemory,
    /// `SEC_E_UNSUPPORTED_FUNCTION`: the context cannot answer this query (a channel binding
    /// type the negotiated protocol does not define).
    UnsupportedFunction,
    /// `SEC_E_INVALID_HANDLE`: the context is not usable (for example a half of another stream).
    InvalidHandle,
    /// `SEC_E_INTERNAL_ERROR`: a sealer broke its contract (a length outside its buffer).
    InternalError,
    /// `SEC_E_INVALID_TOKEN`: a token or security-layer negotiation message is malformed.
    InvalidToken,
    /// `SEC_E_QOP_NOT_SUPPORTED`: the sealer cannot give the requested quality of protection.
    QopNotSupported,
    /// `SEC_E_MESSAGE_ALTERED`: a record failed authentication; it was tampered with or corrupted.
    MessageAltered,
    /// `SEC_E_OUT_OF_SEQUENCE`: a record authenticated but carries the wrong sequence number
    /// (replayed, reordered, or one before it was suppressed).
    OutOfSequence,
    /// `SEC_E_CONTEXT_EXPIRED`: the context was already closed (write after shutdown, or keys
    /// exhausted).
    ContextExpired,
    /// `SEC_E_INCOMPLETE_MESSAGE`: the input ended inside a record, or the transport ended without
    /// the peer's close (truncation).
    IncompleteMessage,
    /// `SEC_E_BUFFER_TOO_SMALL`: an output buffer cannot hold the sealed record.
    BufferTooSmall,
    /// `SEC_E_ILLEGAL_MESSAGE`: a record is malformed, oversized, of an unexpected type, or the
    /// peer sent a fatal alert.
    IllegalMessage,
    /// `SEC_E_CRYPTO_SYSTEM_INVALID`: the negotiated cipher is not supported or not allowed.
    CryptoSystemInvalid,
    /// `SEC_E_INVALID_PARAMETER`: an argument is out of range (a message above the maximum).
    InvalidParameter,
    /// `SEC_E_TARGET_UNKNOWN`: the service named is unknown to the authority (Kerberos:
    /// `KDC_ERR_S_PRINCIPAL_UNKNOWN`).
    TargetUnknown,
    /// `SEC_E_LOGON_DENIED`: the credentials were refused (a wrong password: Kerberos's
    /// `KDC_ERR_PREAUTH_FAILED`, or an AS-REP that does not decrypt).
    LogonDenied,
    /// `SEC_E_UNKNOWN_CREDENTIALS`: the client named is unknown to the authority (Kerberos:
    /// `KDC_ERR_C_PRINCIPAL_UNKNOWN`).
    UnknownCredentials,
    /// `SEC_E_NO_CREDENTIALS`: no credentials are available (no ticket in the cache, no key in
    /// the keytab).
    NoCredentials,
    /// `SEC_E_NO_AUTHENTICATING_AUTHORITY`: no authority could be reached (no KDC answered).
    NoAuthenticatingAuthority,
    /// `SEC_E_WRONG_PRINCIPAL`: the peer is not who it was expected to be (a ticket or reply for
    /// another principal).
    WrongPrincipal,
    /// `SEC_E_TIME_SKEW`: the clocks differ by more than is allowed (`KRB_AP_ERR_SKEW`).
    TimeSkew,
    /// `SEC_E_ETYPE_NOT_SUPP`: no encryption type both sides support.
    EtypeNotSupported,
}

impl Status {
    /// The numeric `SECURITY_STATUS` as Windows defines it.
    pub const fn code(self) -> u32 {
        match self {
            Status::Ok => 0x0000_0000,
            Status::ContextExpiredInfo => 0x0009_0317,
            Status::Renegotiate => 0x0009_0321,
            Status::InsufficientMemory => 0x8009_0300,
            Status::InvalidHandle => 0x8009_0301,
            Status::UnsupportedFunction => 0x8009_0302,
            Status::InternalError => 0x8009_0304,
            Status::InvalidToken => 0x8009_0308,
            Status::QopNotSupported => 0x8009_030A,
            Status::MessageAltered => 0x8009_030F,
            Status::OutOfSequence => 0x8009_0310,
            Status::ContextExpired => 0x8009_0317,
            Status::IncompleteMessage => 0x8009_0318,
            Status::BufferTooSmall => 0x8009_0321,
            Status::IllegalMessage => 0x8009_0326,
            Status::CryptoSystemInvalid => 0x8009_0337,
            Status::InvalidParameter => 0x8009_035D,
            Status::TargetUnknown => 0x8009_0303,
            Status::LogonDenied => 0x8009_030C,
            Status::UnknownCredentials => 0x8009_030D,
            Status::NoCredentials => 0x8009_030E,
            Status::NoAuthenticatingAuthority => 0x8009_0311,
            Status::WrongPrincipal => 0x8009_0322,
            Status::TimeSkew => 0x8009_0324,
            Status::EtypeNotSupported => 0x8009_0341,
        }
    }

    /// The symbolic name from `winerror.h`, such as `SEC_E_MESSAGE_ALTERED`.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Ok => "SEC_E_OK",
            Status::ContextExpiredInfo => "SEC_I_CONTEXT_EXPIRED",
            Status::Renegotiate => "SEC_I_RENEGOTIATE",
            Status::InsufficientMemory => "SEC_E_INSUFFICIENT_MEMORY",
            Status::InvalidHandle => "SEC_E_INVALID_HANDLE",
            Status::UnsupportedFunction => "SEC_E_UNSUPPORTED_FUNCTION",
            Status::InternalError => "SEC_E_INTERNAL_ERROR",
            Status::InvalidToken => "SEC_E_INVALID_TOKEN",
            Status::QopNotSupported => "SEC_E_QOP_NOT_SUPPORTED",
            Status::MessageAltered => "SEC_E_MESSAGE_ALTERED",
            Status::OutOfSequence => "SEC_E_OUT_OF_SEQUENCE",
            Status::ContextExpired => "SEC_E_CONTEXT_EXPIRED",
            Status::IncompleteMessage => "SEC_E_INCOMPLETE_MESSAGE",
            Status::BufferTooSmall => "SEC_E_BUFFER_TOO_SMALL",
            Status::IllegalMessage => "SEC_E_ILLEGAL_MESSAGE",
            Status::CryptoSystemInvalid => "SEC_E_CRYPTO_SYSTEM_INVALID",
            Status::InvalidParameter => "SEC_E_INVALID_PARAMETER",
            Status::TargetUnknown => "SEC_E_TARGET_UNKNOWN",
            Status::LogonDenied => "SEC_E_LOGON_DENIED",
            Status::UnknownCredentials => "SEC_E_UNKNOWN_CREDENTIALS",
            Status::NoCredentials => "SEC_E_NO_CREDENTIALS",
            Status::NoAuthenticatingAuthority => "SEC_E_NO_AUTHENTICATING_AUTHORITY",
            Status::WrongPrincipal => "SEC_E_WRONG_PRINCIPAL",
            Status::TimeSkew => "SEC_E_TIME_SKEW",
            Status::EtypeNotSupported => "SEC_E_ETYPE_NOT_SUPP",
        }
    }

    /// Whether this is a failure (`SEC_E_*`) rather than success or information.
    pub const fn is_error(self) -> bool {
        self.code() & 0x8000_0000 != 0
    }

    /// The `io::ErrorKind` a failure with this status surfaces as through `AsyncRead` /
    /// `AsyncWrite`. This is the one table from statuses to I/O errors.
    pub const fn io_kind(self) -> io::ErrorKind {
        match self {
            // Bytes on the wire that must not be believed.
            Status::MessageAltered
            | Status::OutOfSequence
            | Status::IllegalMessage
            | Status::InvalidToken => io::ErrorKind::InvalidData,
            // The peer went away without its close: truncation, never a clean end.
            Status::IncompleteMessage => io::ErrorKind::UnexpectedEof,
            // Using a context that is closed.
            Status::ContextExpired | Status::ContextExpiredInfo => io::ErrorKind::BrokenPipe,
            Status::QopNotSupported | Status::CryptoSystemInvalid | Status::UnsupportedFunction => {
                io::ErrorKind::Unsupported
            }
            Status::InsufficientMemory => io::ErrorKind::OutOfMemory,
            Status::BufferTooSmall | Status::InvalidParameter | Status::InvalidHandle => {
                io::ErrorKind::InvalidInput
            }
            // Who may talk to whom.
            Status::LogonDenied
            | Status::UnknownCredentials
            | Status::NoCredentials
            | Status::WrongPrincipal => io::ErrorKind::PermissionDenied,
            Status::TargetUnknown => io::ErrorKind::NotFound,
            Status::NoAuthenticatingAuthority => io::ErrorKind::ConnectionRefused,
            Status::EtypeNotSupported => io::ErrorKind::Unsupported,
            Status::TimeSkew | Status::InternalError | Status::Ok | Status::Renegotiate => {
                io::ErrorKind::Other
            }
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:08X})", self.name(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_winerror() {
        assert_eq!(Status::MessageAltered.code(), 0x8009030F);
        assert_eq!(Status::OutOfSequence.code(), 0x80090310);
        assert_eq!(Status::ContextExpired.code(), 0x80090317);
        assert_eq!(Status::ContextExpiredInfo.code(), 0x00090317);
        assert_eq!(Status::Renegotiate.code(), 0x00090321);
        assert_eq!(Status::IncompleteMessage.code(), 0x80090318);
        assert_eq!(Status::BufferTooSmall.code(), 0x80090321);
        assert_eq!(Status::IllegalMessage.code(), 0x80090326);
        assert_eq!(Status::CryptoSystemInvalid.code(), 0x80090337);
        assert_eq!(Status::QopNotSupported.code(), 0x8009030A);
        assert_eq!(Status::TargetUnknown.code(), 0x80090303);
        assert_eq!(Status::LogonDenied.code(), 0x8009030C);
        assert_eq!(Status::UnknownCredentials.code(), 0x8009030D);
        assert_eq!(Status::NoCredentials.code(), 0x8009030E);
        assert_eq!(Status::NoAuthenticatingAuthority.code(), 0x80090311);
        assert_eq!(Status::WrongPrincipal.code(), 0x80090322);
        assert_eq!(Status::TimeSkew.code(), 0x80090324);
        assert_eq!(Status::EtypeNotSupported.code(), 0x80090341);
    }

    #[test]
    fn informational_codes_are_not_errors() {
        assert!(!Status::Ok.is_error());
        assert!(!Status::ContextExpiredInfo.is_error());
        assert!(!Status::Renegotiate.is_error());
        assert!(Status::MessageAltered.is_error());
    }

    #[test]
    fn display_names_and_hex() {
        assert_eq!(
            Status::MessageAltered.to_string(),
            "SEC_E_MESSAGE_ALTERED (0x8009030F)"
        );
    }
}
