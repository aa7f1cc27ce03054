//! A ticket and what goes with it: the credentials an exchange with the KDC produced.

use std::time::SystemTime;

use crate::crypto::Key;
use crate::principal::Principal;

/// A ticket for `server`, issued to `client`, with the session key that goes with it. Its bytes
/// are kept as the KDC sent them: they are handed on unchanged.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub(crate) client: Principal,
    pub(crate) server: Principal,
    pub(crate) key: Key,
    pub(crate) ticket: Vec<u8>,
    pub(crate) flags: u32,
    pub(crate) authtime: SystemTime,
    pub(crate) starttime: Option<SystemTime>,
    pub(crate) endtime: SystemTime,
    pub(crate) renew_till: Option<SystemTime>,
}

impl Credentials {
    /// Whom the ticket was issued to.
    pub fn client(&self) -> &Principal {
        &self.client
    }

    /// The service the ticket is for (`krbtgt/REALM@REALM` for a ticket-granting ticket).
    pub fn server(&self) -> &Principal {
        &self.server
    }

    /// The session key shared with that service.
    pub fn session_key(&self) -> &Key {
        &self.key
    }

    /// The ticket as the KDC encoded it.
    pub fn ticket(&self) -> &[u8] {
        &self.ticket
    }

    /// The ticket's flags (RFC 4120 §5.3, bit 0 the most significant).
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// When the client authenticated.
    pub fn auth_time(&self) -> SystemTime {
        self.authtime
    }

    /// When the ticket becomes valid, if later than the authentication.
    pub fn start_time(&self) -> Option<SystemTime> {
        self.starttime
    }

    /// When the ticket expires.
    pub fn end_time(&self) -> SystemTime {
        self.endtime
    }

    /// Until when the ticket may be renewed, for a renewable one.
    pub fn renew_till(&self) -> Option<SystemTime> {
        self.renew_till
    }

    /// Whether the ticket is still valid at `now`.
    pub fn is_current(&self, now: SystemTime) -> bool {
        now < self.endtime && self.starttime.is_none_or(|start| start <= now)
    }
}
