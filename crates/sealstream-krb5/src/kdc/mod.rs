//! Getting tickets from a KDC, sans-IO.
//!
//! Shaped like MIT's `krb5_init_creds_step`: an exchange says what to send to which realm's
//! KDC and takes the reply; it never opens a socket, so tests drive it without a network and
//! an application can send its requests however it likes. [`InitCreds`] gets a ticket-granting
//! ticket (the AS exchange, with a password or a key); [`TgsExchange`] turns it into a ticket
//! for a service (the TGS exchange). [`KdcConfig`] sends the requests over UDP and TCP to the
//! KDCs a `krb5.conf` names, for applications that do not want to. [`TicketIssuer`] makes
//! service tickets with the service's own key, for tests and benchmarks without a KDC.

mod as_exchange;
mod credentials;
pub(crate) mod error;
mod issue;
mod reply;
mod tgs_exchange;
mod transport;

#[cfg(test)]
mod tests;

pub use as_exchange::{ClientSecret, InitCreds, InitCredsOptions};
pub use credentials::Credentials;
pub use issue::TicketIssuer;
pub use reply::{KdcRequest, Step};
pub use tgs_exchange::TgsExchange;
pub use transport::{KdcConfig, MAX_REALM_HOPS};

pub(crate) use reply::{encode, kerberos_time, octets, to_system};
