//! From a password to a long-term key.
//!
//! - RFC 3962 §4: "tkey = random2key(PBKDF2(passphrase, salt, iter_count, keylength))",
//!   "key = DK(tkey, "kerberos")", with PBKDF2 over HMAC-SHA1 and 4096 iterations unless the
//!   KDC's s2kparams (a four-byte big-endian count) say otherwise.
//! - RFC 8009 §4: "saltp = enctype-name | 0x00 | salt", "tkey = random-to-key(PBKDF2-HMAC-
//!   SHA2(passphrase, saltp, iter_count, keylength))", "base-key = KDF-HMAC-SHA2(tkey,
//!   "kerberos", keylength)", with 32768 iterations by default.
//!
//! The iteration count comes from the KDC, which a password's owner may not control: counts
//! above 2^24 are refused (MIT refuses them too) so that no reply makes a client spin for hours.

use sealstream::{Error, Status};
use sha1::Sha1;
use sha2::{Sha256, Sha384};
use zeroize::Zeroizing;

use super::derive::{Sha2, dk, kdf_hmac_sha2};
use super::key::Key;
use crate::enctype::{Enctype, Family};

/// The most PBKDF2 iterations a KDC may ask for.
pub const MAX_ITERATIONS: u32 = 1 << 24;

/// The iteration count `params` (the KDC's s2kparams) ask for, or the type's default.
fn iterations(enctype: Enctype, params: Option<&[u8]>) -> Result<u32, Error> {
    let count = match params {
        None => enctype.default_iterations(),
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        Some(other) => {
            return Err(Error::new(
                Status::InvalidParameter,
                format!(
                    "{enctype} string-to-key parameters are a 4-byte iteration count, not {} bytes",
                    other.len()
                ),
            ));
        }
    };
    if count == 0 || count > MAX_ITERATIONS {
        return Err(Error::new(
            Status::InvalidParameter,
            format!("{count} PBKDF2 iterations: at least 1 and at most {MAX_ITERATIONS} are taken"),
        ));
    }
    Ok(count)
}

impl Key {
    /// The long-term key of `password` with `salt` (usually the realm then the principal's
    /// name components, or what the KDC's PA-ETYPE-INFO2 says) and the KDC's s2kparams, if any.
    ///
    /// Fails with `SEC_E_INVALID_PARAMETER` for malformed parameters or an iteration count
    /// above [`MAX_ITERATIONS`].
    pub fn from_password(
        enctype: Enctype,
        password: &[u8],
        salt: &[u8],
        params: Option<&[u8]>,
    ) -> Result<Key, Error> {
        let count = iterations(enctype, params)?;
        let len = enctype.key_len();
        let mut tkey = Zeroizing::new([0u8; 32]);
        let tkey = &mut tkey[..len];
        let key = match enctype.family() {
            Family::Sha1 => {
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, count, tkey);
                dk(tkey, b"kerberos")
            }
            family => {
                let mut saltp =
                    Zeroizing::new(Vec::with_capacity(enctype.name().len() + 1 + salt.len()));
                saltp.extend_from_slice(enctype.name().as_bytes());
                saltp.push(0);
                saltp.extend_from_slice(salt);
                let hash = if family == Family::Sha256 {
                    pbkdf2::pbkdf2_hmac::<Sha256>(password, &saltp, count, tkey);
                    Sha2::Sha256
                } else {
                    pbkdf2::pbkdf2_hmac::<Sha384>(password, &saltp, count, tkey);
                    Sha2::Sha384
                };
                kdf_hmac_sha2(hash, tkey, b"kerberos", (len * 8) as u32)
            }
        };
        Key::new(enctype, &key)
    }
}
