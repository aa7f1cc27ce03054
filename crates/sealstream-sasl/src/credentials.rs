//! Where a server finds a user's secret, and who may act as whom.
//!
//! Servers keep passwords in many places (a directory, a file, a database) and some keep only
//! DIGEST-MD5's `H(username:realm:password)` so the cleartext never sits on disk. Mechanisms ask
//! one [`CredentialLookup`] and accept either form where they can use it.

use std::fmt;

use zeroize::Zeroizing;

/// A user's stored secret.
#[derive(Clone)]
pub enum Secret {
    /// The password itself.
    Password(Zeroizing<String>),
    /// DIGEST-MD5's `H({ username, ":", realm, ":", password })` (RFC 2831 §2.1.2.1), for the
    /// realm it was looked up in, with strings converted as that section says.
    DigestHash(Zeroizing<[u8; 16]>),
}

impl Secret {
    /// A password secret.
    pub fn password(password: impl Into<String>) -> Self {
        Secret::Password(Zeroizing::new(password.into()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Password(_) => f.write_str("Secret::Password(..)"),
            Secret::DigestHash(_) => f.write_str("Secret::DigestHash(..)"),
        }
    }
}

/// A server's source of secrets and authorization decisions.
pub trait CredentialLookup: Send + Sync {
    /// The secret of `username` in `realm`, or `None` for an unknown user.
    fn lookup(&self, username: &str, realm: &str) -> Option<Secret>;

    /// Whether `authcid`, authenticated in `realm`, may act as `authzid` (RFC 4422 §3.4.1).
    /// The default allows only acting as oneself.
    fn authorize(&self, authcid: &str, realm: &str, authzid: &str) -> bool {
        let _ = realm;
        authcid == authzid
    }
}
