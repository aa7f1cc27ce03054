//! A Kerberos key of one encryption type, and the keys of each usage derived from it.

use sealstream::{Error, Status};
use zeroize::Zeroizing;

use super::cipher::{UsageKeys, fill_confounder};
use super::derive::{Sha2, dk, kdf_hmac_sha2};
use crate::enctype::{Enctype, Family};

/// A key: a session key, a subkey, or a long-term key from a password or a keytab. Its bytes
/// are zeroized when it is dropped, and `Debug` shows only its type.
#[derive(Clone)]
pub struct Key {
    enctype: Enctype,
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("enctype", &self.enctype)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// The key `bytes` of `enctype` (a session key from a ticket, a key from a keytab).
    ///
    /// Fails with `SEC_E_INVALID_PARAMETER` when the length is not the type's key length.
    pub fn new(enctype: Enctype, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != enctype.key_len() {
            return Err(Error::new(
                Status::InvalidParameter,
                format!(
                    "a {enctype} key is {} bytes, not {}",
                    enctype.key_len(),
                    bytes.len()
                ),
            ));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key[..bytes.len()].copy_from_slice(bytes);
        Ok(Self {
            enctype,
            bytes: key,
        })
    }

    /// A fresh random key of `enctype` (a subkey).
    ///
    /// Fails with `SEC_E_INTERNAL_ERROR` when the operating system has no randomness to give.
    pub fn random(enctype: Enctype) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_confounder(&mut bytes[..enctype.key_len()])?;
        Self::new(enctype, &bytes[..enctype.key_len()])
    }

    /// The type.
    pub fn enctype(&self) -> Enctype {
        self.enctype
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.enctype.key_len()]
    }

    /// The keys of `usage` (RFC 3961 §5.3, RFC 8009 §5): `Kc = derive(usage | 0x99)`,
    /// `Ke = derive(usage | 0xAA)`, `Ki = derive(usage | 0x55)`, the usage as four big-endian
    /// bytes. RFC 8009 cuts Kc and Ki to the HMAC's length (128 or 192 bits) and Ke to the
    /// AES key's.
    pub fn derive(&self, usage: u32) -> UsageKeys {
        let label = |suffix: u8| {
            let u = usage.to_be_bytes();
            [u[0], u[1], u[2], u[3], suffix]
        };
        let base = self.as_bytes();
        let (kc, ke, ki) = match self.enctype.family() {
            Family::Sha1 => (
                dk(base, &label(0x99)),
                dk(base, &label(0xAA)),
                dk(base, &label(0x55)),
            ),
            family => {
                let hash = if family == Family::Sha256 {
                    Sha2::Sha256
                } else {
                    Sha2::Sha384
                };
                let mac_bits = (self.enctype.mac_len() * 8) as u32;
                let key_bits = (self.enctype.key_len() * 8) as u32;
                (
                    kdf_hmac_sha2(hash, base, &label(0x99), mac_bits),
                    kdf_hmac_sha2(hash, base, &label(0xAA), key_bits),
                    kdf_hmac_sha2(hash, base, &label(0x55), mac_bits),
                )
            }
        };
        UsageKeys::new(self.enctype, usage, &ke, &ki, &kc)
    }
}
