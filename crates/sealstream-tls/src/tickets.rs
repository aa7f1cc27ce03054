//! What a TLS 1.3 client keeps of rustls after the handshake: the means to store the session
//! tickets a server sends at any time later.
//!
//! rustls turns a NewSessionTicket into a resumable session in the config's session store, and
//! only its `KernelConnection` can do that (the resumption secret and the store stay inside
//! rustls). Nothing else of rustls's state is needed after the hand-over: KeyUpdates are
//! ratcheted by each half ([`crate::key_schedule`]), so servers and TLS 1.2 ends drop it.
//!
//! The `KernelConnection` also holds rustls's copy of both traffic secrets. If it stayed at the
//! hand-over's generation while the halves ratcheted theirs, the old secrets would outlive every
//! KeyUpdate, and with them the keys of every later generation (RFC 8446 §7.2: "Once
//! client_/server_application_traffic_secret_N+1 and its associated traffic keys have been
//! computed, implementations SHOULD delete client_/server_application_traffic_secret_N and its
//! associated traffic keys"). So each half advances rustls's copy of its direction when it
//! ratchets its own; both halves share it behind a lock that only tickets and KeyUpdates take,
//! never a record.

use std::sync::{Arc, Mutex};

use rustls::client::ClientConnectionData;
use rustls::kernel::KernelConnection;
use sealstream::{Error, Status};

/// A TLS 1.3 client's session-ticket store, as rustls's post-handshake state.
#[derive(Clone)]
pub(crate) struct Tickets(Arc<Mutex<KernelConnection<ClientConnectionData>>>);

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tickets")
    }
}

/// Which of rustls's traffic secrets to advance.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    Sending,
    Receiving,
}

fn rustls_error(context: &str, err: rustls::Error) -> Error {
    Error::new(Status::IllegalMessage, format!("{context}: {err}"))
}

impl Tickets {
    pub(crate) fn new(kernel: KernelConnection<ClientConnectionData>) -> Self {
        Self(Arc::new(Mutex::new(kernel)))
    }

    pub(crate) fn with<R>(
        &self,
        f: impl FnOnce(&mut KernelConnection<ClientConnectionData>) -> R,
    ) -> R {
        let mut kernel = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut kernel)
    }

    /// Store a TLS 1.3 NewSessionTicket (`payload` without the 4-byte handshake header).
    pub(crate) fn store(&self, payload: &[u8]) -> Result<(), Error> {
        self.with(|kernel| kernel.handle_new_session_ticket(payload))
            .map_err(|e| rustls_error("session ticket", e))
    }

    /// Advance rustls's copy of `direction`'s traffic secret by one generation, as the half
    /// just did with its own; what rustls derives is dropped (its keys zeroize themselves).
    pub(crate) fn follow(&self, direction: Direction) -> Result<(), Error> {
        self.with(|kernel| match direction {
            Direction::Sending => kernel.update_tx_secret().map(drop),
            Direction::Receiving => kernel.update_rx_secret().map(drop),
        })
        .map_err(|e| {
            Error::new(
                Status::InternalError,
                format!("advancing rustls's traffic secret: {e}"),
            )
        })
    }
}
