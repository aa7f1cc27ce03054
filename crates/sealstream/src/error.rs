//! The one error type of sealstream.
//!
//! Every failure carries the SSPI [`Status`] it corresponds to and a human sentence. Errors are
//! `Clone` because each stream half keeps its first error and returns it again on every later
//! call (sticky errors): once a record failed authentication nothing after it can be trusted.
//! [`From<Error> for io::Error`](#impl-From<Error>-for-Error) is the single table from statuses to
//! `io::ErrorKind` (see [`Status::io_kind`]); [`Error::from_io`] recovers the status.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::Arc;

use crate::{AlertCode, Status};

/// A sealing, unsealing or stream failure with its SSPI status.
#[derive(Clone)]
pub struct Error {
    status: Status,
    detail: Cow<'static, str>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    /// The fatal alert the peer sent, when that is what ended the stream (TLS).
    peer_alert: Option<AlertCode>,
}

impl Error {
    /// An error with `status` and a sentence saying what happened.
    pub fn new(status: Status, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            detail: detail.into(),
            source: None,
            peer_alert: None,
        }
    }

    /// Record that the peer's fatal `alert` is what this error reports.
    pub fn with_peer_alert(mut self, alert: AlertCode) -> Self {
        self.peer_alert = Some(alert);
        self
    }

    /// The fatal alert the peer sent, when receiving it is what failed (a TLS peer's
    /// `handshake_failure`, `bad_record_mac`, `certificate_revoked`...): match on its
    /// `description` (constants in `sealstream_tls::alert`) instead of on the message.
    pub fn peer_alert(&self) -> Option<AlertCode> {
        self.peer_alert
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// `SEC_E_MESSAGE_ALTERED`: authentication of a record failed.
    pub fn message_altered(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::MessageAltered, detail)
    }

    /// `SEC_E_OUT_OF_SEQUENCE`: a record carries an unexpected sequence number.
    pub fn out_of_sequence(expected: u64, got: u64) -> Self {
        Self::new(
            Status::OutOfSequence,
            format!("expected sequence number {expected}, got {got}"),
        )
    }

    /// `SEC_E_ILLEGAL_MESSAGE`: a record is malformed.
    pub fn illegal_message(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::IllegalMessage, detail)
    }

    /// `SEC_E_INCOMPLETE_MESSAGE` for a transport that ended without the peer's close.
    pub fn truncated(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::IncompleteMessage, detail)
    }

    /// The SSPI status of this failure.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The sentence describing this failure.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The `io::ErrorKind` this error surfaces as (from [`Status::io_kind`]).
    pub fn io_kind(&self) -> io::ErrorKind {
        self.status.io_kind()
    }

    /// The sealstream error inside an `io::Error` produced by this crate, if there is one.
    pub fn from_io(err: &io::Error) -> Option<&Error> {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("status", &self.status)
            .field("detail", &self.detail);
        if let Some(alert) = &self.peer_alert {
            d.field("peer_alert", alert);
        }
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.detail)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        io::Error::new(err.io_kind(), err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_error_keeps_status_and_kind() {
        let io: io::Error = Error::message_altered("bad tag").into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        let back = Error::from_io(&io).expect("sealstream error inside");
        assert_eq!(back.status(), Status::MessageAltered);
        assert_eq!(back.detail(), "bad tag");
        assert!(io.to_string().contains("SEC_E_MESSAGE_ALTERED"));
    }

    #[test]
    fn truncation_is_unexpected_eof() {
        let io: io::Error = Error::truncated("no close_notify").into();
        assert_eq!(io.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn foreign_io_errors_have_no_status() {
        let io = io::Error::other("x");
        assert!(Error::from_io(&io).is_none());
    }
}
