//! The one error type of `sealcat bench`: what stopped a run, by kind, with the underlying I/O
//! or task error kept as its source.
//!
//! Every error prints as one line (`sealcat: ` and its [`Display`](fmt::Display)), and the line
//! carries what a user needs: which option to fix, which operation failed and why, which byte
//! arrived changed. A run stops at its first error; the soak, which counts failures instead,
//! ends with [`BenchError::Soak`] when it saw any.

use std::fmt;
use std::io;

use tokio::task::JoinError;

/// What the bench's fallible steps return.
pub(crate) type BenchResult<T> = Result<T, BenchError>;

/// Why a benchmark run failed.
#[derive(Debug)]
pub(crate) enum BenchError {
    /// Options the bench cannot run with, or an implementation or cipher suite it does not know.
    Usage(String),
    /// Setting a sealer up failed: its TLS configs and certificate, a SASL mechanism pair, a
    /// ticket.
    Setup(String),
    /// An I/O operation failed; `context` says which ("connecting", "writing", ...).
    Io {
        context: &'static str,
        source: io::Error,
    },
    /// A task could not be started.
    Spawn { name: String, source: io::Error },
    /// A task panicked or was cancelled; `task` says which kind ("benchmark task", ...).
    Task {
        task: &'static str,
        source: JoinError,
    },
    /// The thread of one side (`side`: "client" or "server") of a pinned run panicked.
    Panicked { side: &'static str },
    /// A byte arrived other than it was sent, `offset` bytes into its direction.
    Changed { offset: u64 },
    /// Bytes were lost, or more came than were sent: the counts of the two ends disagree.
    Lost(String),
    /// A side or a process did not connect, arrive or finish in time (it failed or hung).
    Stalled(String),
    /// A child process (the idle-memory child, the soak's server) failed or said something
    /// the bench cannot read.
    Child(String),
    /// A figure could not be taken: /proc could not be read, a histogram refused a value.
    Measure(String),
    /// A soak run counted failed connections or lost bytes (it goes on at a failure, so the
    /// report says how many there were).
    Soak {
        errors: u64,
        lost: u64,
        first_error: Option<String>,
    },
}

impl BenchError {
    /// A [`BenchError::Setup`] from a library's error, as its message.
    pub(crate) fn setup(err: impl fmt::Display) -> Self {
        Self::Setup(err.to_string())
    }

    /// A [`BenchError::Measure`] from a library's error, as its message.
    pub(crate) fn measure(err: impl fmt::Display) -> Self {
        Self::Measure(err.to_string())
    }
}

/// For `map_err`: an I/O failure while doing what `context` says.
pub(crate) fn io_err(context: &'static str) -> impl Fn(io::Error) -> BenchError {
    move |source| BenchError::Io { context, source }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message)
            | Self::Setup(message)
            | Self::Lost(message)
            | Self::Stalled(message)
            | Self::Child(message)
            | Self::Measure(message) => f.write_str(message),
            Self::Io { context, source } => write!(f, "{context}: {source}"),
            Self::Spawn { name, source } => write!(f, "cannot start task {name}: {source}"),
            Self::Task { task, source } => write!(f, "{task} failed: {source}"),
            Self::Panicked { side } => write!(f, "the pinned {side} thread panicked"),
            Self::Changed { offset } => write!(
                f,
                "byte {offset} arrived changed: every byte must arrive as sent"
            ),
            Self::Soak {
                errors,
                lost,
                first_error,
            } => write!(
                f,
                "soak: {errors} failed connections, {lost} bytes lost; first error: {}",
                first_error.as_deref().unwrap_or("none")
            ),
        }
    }
}

impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } | Self::Spawn { source, .. } => Some(source),
            Self::Task { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn io_errors_name_what_failed_and_keep_the_cause() {
        let err = io_err("connecting")(io::Error::other("refused"));
        assert_eq!(err.to_string(), "connecting: refused");
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("refused")
        );
    }

    #[test]
    fn a_soak_without_an_error_message_says_none() {
        let err = BenchError::Soak {
            errors: 0,
            lost: 12,
            first_error: None,
        };
        assert_eq!(
            err.to_string(),
            "soak: 0 failed connections, 12 bytes lost; first error: none"
        );
        assert!(err.source().is_none());
    }
}
