//! Sticky failures: the first error a half meets is the answer to every later call.
//!
//! After a record fails authentication, or the transport breaks in the middle of a record, the
//! byte stream has a hole that nothing can repair; returning the same error again is the only
//! honest answer.

use std::io;
use std::sync::Arc;

use crate::Error;

/// The error a half keeps once it has failed.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// A sealing or unsealing failure with its SSPI status.
    Sealer(Error),
    /// A transport failure; kept whole so every later call sees the same kind and message.
    Transport(Arc<io::Error>),
}

impl Failure {
    /// The failure as an `io::Error`; sealstream errors stay reachable through
    /// [`Error::from_io`].
    pub(crate) fn to_io(&self) -> io::Error {
        match self {
            Failure::Sealer(err) => err.clone().into(),
            Failure::Transport(err) => io::Error::new(err.kind(), TransportError(err.clone())),
        }
    }
}

/// A transport error returned again: same kind, same message, original as the source.
#[derive(Debug)]
struct TransportError(Arc<io::Error>);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
