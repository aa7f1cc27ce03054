//! Client mechanisms whose steps may wait: for a KDC round trip (GSSAPI getting its service
//! ticket when the exchange starts), a token from a device, an operator's answer.
//!
//! [`ClientMechanism`] stays sans-IO and synchronous: every step turns the server's message into
//! the next one at once. A mechanism that must wait for something else implements
//! [`AsyncClientMechanism`], whose `start` and `step` return futures; [`Ready`] makes any
//! [`ClientMechanism`] one, so that an application drives every mechanism the same way:
//!
//! ```
//! use sealstream_sasl::plain::PlainClient;
//! use sealstream_sasl::{AsyncClientMechanism, Ready};
//!
//! # async fn bind() -> Result<(), sealstream_sasl::AuthError> {
//! let mut client: Box<dyn AsyncClientMechanism> =
//!     Box::new(Ready::new(Box::new(PlainClient::new("alice", "secret", None))));
//! let initial = client.start().await?; // sent with the authentication request
//! # let _ = initial;
//! # Ok(()) }
//! ```
//!
//! The futures borrow the mechanism and are `Send`, so an exchange can run on any task of a
//! multi-threaded runtime; nothing here depends on a particular runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::{AuthError, ClientMechanism, Outcome, SecurityLayer, Step};

/// What [`AsyncClientMechanism`]'s steps return: a boxed future of the step's result.
pub type StepFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AuthError>> + Send + 'a>>;

/// A client's side of one mechanism's exchange, whose steps may wait.
///
/// Object safe, like [`ClientMechanism`]; its methods mean what that trait's do.
pub trait AsyncClientMechanism: Send + fmt::Debug {
    /// The registered mechanism name (RFC 4422 §3.1).
    fn name(&self) -> &'static str;

    /// Start the exchange: the initial response to send with the authentication request, or
    /// `None` when the mechanism waits for the server's first challenge.
    fn start(&mut self) -> StepFuture<'_, Option<Vec<u8>>>;

    /// Answer the server's challenge.
    fn step<'a>(&'a mut self, challenge: &'a [u8]) -> StepFuture<'a, Step>;

    /// The server reported success, with its additional data if the protocol carried some.
    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError>;

    /// What the exchange established, once [`success`](Self::success) accepted the outcome.
    fn outcome(&self) -> Option<&Outcome>;

    /// The negotiated layer's sealer parts, or `None` for no layer. Fails before success.
    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError>;
}

/// A [`ClientMechanism`] as an [`AsyncClientMechanism`] whose steps are ready at once.
#[derive(Debug)]
pub struct Ready(Box<dyn ClientMechanism>);

impl Ready {
    /// `mechanism`, driven through futures that complete on their first poll.
    pub fn new(mechanism: Box<dyn ClientMechanism>) -> Self {
        Self(mechanism)
    }
}

impl AsyncClientMechanism for Ready {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn start(&mut self) -> StepFuture<'_, Option<Vec<u8>>> {
        let result = self.0.start();
        Box::pin(std::future::ready(result))
    }

    fn step<'a>(&'a mut self, challenge: &'a [u8]) -> StepFuture<'a, Step> {
        let result = self.0.step(challenge);
        Box::pin(std::future::ready(result))
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        self.0.success(additional_data)
    }

    fn outcome(&self) -> Option<&Outcome> {
        self.0.outcome()
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        self.0.into_layer()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use super::*;
    use crate::plain::PlainClient;

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    /// Poll `future` once: a `Ready` step must complete without waiting.
    fn poll_once<T>(mut future: StepFuture<'_, T>) -> Result<T, AuthError> {
        let waker = Waker::from(Arc::new(Noop));
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(result) => result,
            Poll::Pending => panic!("a Ready step waited"),
        }
    }

    #[test]
    fn a_ready_mechanism_completes_each_step_at_once() {
        let mut client: Box<dyn AsyncClientMechanism> = Box::new(Ready::new(Box::new(
            PlainClient::new("alice", "secret", None),
        )));
        assert_eq!(client.name(), "PLAIN");
        let initial = poll_once(client.start()).unwrap().unwrap();
        assert_eq!(initial, b"\0alice\0secret");
        // PLAIN has one message: a challenge after it is the server's mistake, refused at once.
        assert!(poll_once(client.step(b"more?")).is_err());
        client.success(None).unwrap();
        assert_eq!(client.outcome().unwrap().authcid, "alice");
        assert!(client.into_layer().unwrap().is_none());
    }
}
