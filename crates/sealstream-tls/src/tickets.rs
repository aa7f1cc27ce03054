//! What a TLS 1.3 client keeps of rustls after the handshake: the means to store the session
//! tickets a server sends at any time later.
//!
//! rustls turns a NewSessionTicket into a resumable session in the config's session store, and
//! only its `KernelConnection` can do that (the resumption secret and the store stay inside
//! rustls). Nothing else of rustls's state is needed after the hand-over: KeyUpdates are
//! ratcheted by each half ([`crate::key_schedule`]), so servers and TLS 1.2 ends drop it, and
//! a client's read half (the only half that sees tickets) owns it without a lock.

use rustls::client::ClientConnectionData;
use rustls::kernel::KernelConnection;
use sealstream::{Error, Status};

/// A TLS 1.3 client's session-ticket store, as rustls's post-handshake state.
pub(crate) struct Tickets(Box<KernelConnection<ClientConnectionData>>);

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tickets")
    }
}

impl Tickets {
    pub(crate) fn new(kernel: KernelConnection<ClientConnectionData>) -> Self {
        Self(Box::new(kernel))
    }

    /// Store a TLS 1.3 NewSessionTicket (`payload` without the 4-byte handshake header).
    pub(crate) fn store(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.0
            .handle_new_session_ticket(payload)
            .map_err(|e| Error::new(Status::IllegalMessage, format!("session ticket: {e}")))
    }
}
