//! The Kerberos GSS-API mechanism's context establishment (RFC 4121 §4.1): the AP-REQ an
//! initiator sends and the AP-REP it gets back, framed as GSS-API tokens. [`Initiator`] needs a
//! service ticket (from [`kdc`](crate::kdc)); [`Acceptor`] needs the service's keytab. Both end
//! with a [`SecurityContext`](crate::SecurityContext).

mod acceptor;
mod checksum;
mod framing;
mod initiator;

pub use acceptor::{Accepted, Acceptor, AcceptorOptions};
pub use checksum::{ChannelBindings, GssFlags};
pub use initiator::{Initiator, InitiatorOptions};

#[cfg(test)]
mod tests;
