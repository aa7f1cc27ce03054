//! Who the initiator is: a user, a domain, and the NT hash of the password.

use sealstream::{Error, Status};

use crate::crypto::NtHash;

/// An NTLM identity and its secret.
///
/// A name is accepted as `DOMAIN\user` (the down-level logon name) or `user@domain` (a UPN,
/// sent as Windows sends it: the whole name as the user, an empty domain); a bare `user`
/// has an empty domain, which servers take as their own.
#[derive(Clone)]
pub struct Credentials {
    user: String,
    domain: String,
    hash: NtHash,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// `name` with the NT hash of `password`.
    pub fn with_password(name: &str, password: &str) -> Result<Self, Error> {
        Self::with_nt_hash(name, NtHash::from_password(password))
    }

    /// `name` with a known NT hash ("pass the hash" is what NTLM is: the hash is the secret).
    pub fn with_nt_hash(name: &str, hash: NtHash) -> Result<Self, Error> {
        let (domain, user) = match name.split_once('\\') {
            Some((domain, user)) => (domain, user),
            None => ("", name),
        };
        if user.is_empty() || user.contains('\\') {
            return Err(Error::new(
                Status::UnknownCredentials,
                format!("{name:?} is not a user name (DOMAIN\\user, user@domain or user)"),
            ));
        }
        Ok(Self {
            user: user.to_owned(),
            domain: domain.to_owned(),
            hash,
        })
    }

    /// The user name as sent.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The domain as sent (empty for a UPN or a bare name).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub(crate) fn hash(&self) -> &NtHash {
        &self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_as_windows_sends_them() {
        let c = Credentials::with_password(r"SEALSTREAM\alice", "p").unwrap();
        assert_eq!((c.domain(), c.user()), ("SEALSTREAM", "alice"));
        let c = Credentials::with_password("alice@sealstream.test", "p").unwrap();
        assert_eq!((c.domain(), c.user()), ("", "alice@sealstream.test"));
        let c = Credentials::with_password("alice", "p").unwrap();
        assert_eq!((c.domain(), c.user()), ("", "alice"));
        for bad in ["", r"DOMAIN\", r"A\B\C"] {
            let e = Credentials::with_password(bad, "p").unwrap_err();
            assert_eq!(e.status(), Status::UnknownCredentials, "{bad:?}");
        }
        assert!(!format!("{c:?}").contains("hash"));
    }
}
