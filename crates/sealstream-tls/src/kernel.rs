//! The part of rustls that lives on after the handshake.
//!
//! rustls's `KernelConnection` derives the next traffic secret on a TLS 1.3 KeyUpdate and stores
//! session tickets. Both halves may need it (the read half ratchets its key, the write half its
//! own), so it sits behind a mutex that is touched only for those rare messages, never per
//! record.

use std::sync::{Arc, Mutex};

use rustls::ConnectionTrafficSecrets;
use rustls::client::ClientConnectionData;
use rustls::kernel::KernelConnection;
use rustls::server::ServerConnectionData;
use sealstream::{Error, Status};

pub(crate) enum Side {
    Client(KernelConnection<ClientConnectionData>),
    Server(KernelConnection<ServerConnectionData>),
    /// No key schedule: a record layer made from raw keys (the fuzzing entry point). Key
    /// updates and tickets fail.
    Detached,
}

fn detached() -> Error {
    Error::new(
        Status::IllegalMessage,
        "no key schedule: this record layer was made from raw keys",
    )
}

/// The shared post-handshake state.
#[derive(Clone)]
pub(crate) struct Kernel(Arc<Mutex<Side>>);

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kernel")
    }
}

fn rustls_error(context: &'static str, err: rustls::Error) -> Error {
    Error::new(Status::IllegalMessage, format!("{context}: {err}"))
}

impl Kernel {
    pub(crate) fn new(side: Side) -> Self {
        Self(Arc::new(Mutex::new(side)))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Side) -> R) -> R {
        let mut side = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut side)
    }

    /// The next sending secret (after we sent our KeyUpdate).
    pub(crate) fn next_tx(&self) -> Result<ConnectionTrafficSecrets, Error> {
        self.with(|side| match side {
            Side::Client(k) => k
                .update_tx_secret()
                .map_err(|e| rustls_error("key update", e)),
            Side::Server(k) => k
                .update_tx_secret()
                .map_err(|e| rustls_error("key update", e)),
            Side::Detached => Err(detached()),
        })
        .map(|(_, secrets)| secrets)
    }

    /// The next receiving secret (after the peer's KeyUpdate).
    pub(crate) fn next_rx(&self) -> Result<ConnectionTrafficSecrets, Error> {
        self.with(|side| match side {
            Side::Client(k) => k
                .update_rx_secret()
                .map_err(|e| rustls_error("key update", e)),
            Side::Server(k) => k
                .update_rx_secret()
                .map_err(|e| rustls_error("key update", e)),
            Side::Detached => Err(detached()),
        })
        .map(|(_, secrets)| secrets)
    }

    /// Store a TLS 1.3 NewSessionTicket (client only; `payload` without the 4-byte header).
    pub(crate) fn new_session_ticket(&self, payload: &[u8]) -> Result<(), Error> {
        self.with(|side| match side {
            Side::Client(k) => k
                .handle_new_session_ticket(payload)
                .map_err(|e| rustls_error("session ticket", e)),
            Side::Server(_) => Err(Error::new(
                Status::IllegalMessage,
                "a client sent a NewSessionTicket (unexpected_message)",
            )),
            Side::Detached => Err(detached()),
        })
    }

    pub(crate) fn is_client(&self) -> bool {
        self.with(|side| matches!(side, Side::Client(_)))
    }
}
