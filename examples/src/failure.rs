//! Why an example's command failed: one line for the user and the process's exit status.

use std::fmt;
use std::future::Future;
use std::time::Duration;

/// Why the command failed: one line for the user and the process exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit status: 2 for bad arguments; for `ldap_search` the LDAP result code when the
    /// server refused (49 for a wrong password); 1 otherwise.
    pub exit_code: u8,
    /// What went wrong, on one line.
    pub message: String,
}

impl Failure {
    /// Bad arguments (exit status 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            exit_code: 2,
            message: message.into(),
        }
    }

    /// Anything else (exit status 1).
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self {
            exit_code: 1,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the server's diagnostic contains.
        f.write_str(&self.message.replace(['\n', '\r'], " "))
    }
}

impl std::error::Error for Failure {}

/// An IO error while doing `what`, as a failure.
pub(crate) fn io_failure(what: &str) -> impl FnOnce(std::io::Error) -> Failure + '_ {
    move |e| Failure::other(format!("{what}: {e}"))
}

/// `session`, or a failure naming `peer` when it takes more than `seconds`.
pub async fn within<T>(
    seconds: u64,
    peer: &str,
    session: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(Duration::from_secs(seconds), session).await {
        Ok(result) => result,
        Err(_) => Err(Failure::other(format!(
            "no answer from {peer} within {seconds} s"
        ))),
    }
}
