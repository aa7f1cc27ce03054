//! Tickets and keytabs made in process, for the tests of the GSS-API exchange and of SASL
//! GSSAPI: what a KDC would issue for alice to a service whose key a keytab holds.

use std::time::{Duration, SystemTime};

use crate::kdc::{Credentials, TicketIssuer};
use crate::{Enctype, Key, Keytab, Principal};

pub(crate) const REALM: &str = "EXAMPLE.COM";

pub(crate) fn service() -> Principal {
    Principal::service("host", "server.example.com", REALM)
}

pub(crate) fn service_key() -> Key {
    Key::new(Enctype::Aes256CtsHmacSha196, &[0x33; 32]).unwrap()
}

/// The issuer of every test ticket: the service's key, version 2.
fn issuer() -> TicketIssuer {
    TicketIssuer::new(service(), service_key(), 2)
}

pub(crate) fn keytab(kvno: u32) -> Keytab {
    TicketIssuer::new(service(), service_key(), kvno).keytab()
}

/// A service ticket for alice, valid from `start` for an hour, as a KDC would issue it.
pub(crate) fn credentials(start: SystemTime, session: Enctype) -> Credentials {
    let alice = Principal::parse("alice", Some(REALM)).unwrap();
    issuer()
        .issue(alice, session, Duration::from_secs(3600), start)
        .unwrap()
}
