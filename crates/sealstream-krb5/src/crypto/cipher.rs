//! One key usage's keys, expanded once, and the three things they do to a message: encrypt,
//! decrypt and checksum, in place and without allocating.
//!
//! The ciphertext of every AES type is `E(Ke, confounder | plaintext) | H`, where E is AES in
//! CBC mode with ciphertext stealing and a zero cipher state (RFC 3962 §5: "the last two blocks
//! are always swapped", which is the `CbcCs3` variant of the `cts` crate; a single block is
//! plain AES). The types differ in H:
//!
//! - RFC 3962 (simplified profile, RFC 3961 §5.3): `H = HMAC-SHA1(Ki, confounder |
//!   plaintext)[0..12]`, over the plaintext;
//! - RFC 8009 §5: "H = HMAC(Ki, IV | C)" truncated to 128 or 192 bits, over the zero cipher
//!   state and the ciphertext, so a forged message is refused before anything is decrypted.
//!
//! A checksum (`get_mic`, and RFC 4121 tokens without confidentiality) is the HMAC under Kc,
//! truncated the same way.

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, InnerIvInit, KeyInit};
use aes::{Aes128, Aes256};
use cts::{Decrypt, Encrypt};
use hmac::{Hmac, Mac};
use sealstream::{Error, Status};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use crate::enctype::{BLOCK_LEN, Enctype, Family};

/// An expanded AES key: Ke of one usage, or a base key during derivation. aes zeroizes its
/// round keys when it is dropped (its `zeroize` feature is on).
#[derive(Clone)]
pub(crate) enum Aes {
    Aes128(Box<Aes128>),
    Aes256(Box<Aes256>),
}

impl Aes {
    /// The cipher for a 16- or 32-byte key.
    pub(crate) fn new(key: &[u8]) -> Self {
        match key.len() {
            16 => Aes::Aes128(Box::new(Aes128::new_from_slice(key).expect("16 bytes"))),
            _ => Aes::Aes256(Box::new(Aes256::new_from_slice(key).expect("32 bytes"))),
        }
    }

    /// AES of one block, in place.
    pub(crate) fn encrypt_block(&self, block: &mut [u8; BLOCK_LEN]) {
        match self {
            Aes::Aes128(aes) => aes.encrypt_block(block.into()),
            Aes::Aes256(aes) => aes.encrypt_block(block.into()),
        }
    }

    /// CBC with ciphertext stealing and a zero IV over `data` (at least one block), in place.
    pub(crate) fn encrypt_cts(&self, data: &mut [u8]) {
        if let Ok(block) = <&mut [u8; BLOCK_LEN]>::try_from(&mut *data) {
            // One block: CBC of one block under the zero IV, nothing to steal or swap.
            return self.encrypt_block(block);
        }
        let iv = [0u8; BLOCK_LEN].into();
        let done = match self {
            Aes::Aes128(aes) => cts::CbcCs3::inner_iv_init(&**aes, &iv).encrypt(data),
            Aes::Aes256(aes) => cts::CbcCs3::inner_iv_init(&**aes, &iv).encrypt(data),
        };
        debug_assert!(done.is_ok(), "callers pass at least one block");
    }

    /// The inverse of [`encrypt_cts`](Self::encrypt_cts).
    pub(crate) fn decrypt_cts(&self, data: &mut [u8]) {
        if let Ok(block) = <&mut [u8; BLOCK_LEN]>::try_from(&mut *data) {
            match self {
                Aes::Aes128(aes) => aes.decrypt_block(block.into()),
                Aes::Aes256(aes) => aes.decrypt_block(block.into()),
            }
            return;
        }
        let iv = [0u8; BLOCK_LEN].into();
        let done = match self {
            Aes::Aes128(aes) => cts::CbcCs3::inner_iv_init(&**aes, &iv).decrypt(data),
            Aes::Aes256(aes) => cts::CbcCs3::inner_iv_init(&**aes, &iv).decrypt(data),
        };
        debug_assert!(done.is_ok(), "callers pass at least one block");
    }
}

/// A keyed HMAC, cloned for each message so the key is processed once. hmac zeroizes its state
/// when dropped (its `zeroize` feature is on).
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
}

impl KeyedMac {
    pub(crate) fn new(family: Family, key: &[u8]) -> Self {
        use hmac::KeyInit as _;
        let any_len = "HMAC takes a key of any length";
        match family {
            Family::Sha1 => KeyedMac::Sha1(Hmac::new_from_slice(key).expect(any_len)),
            Family::Sha256 => KeyedMac::Sha256(Hmac::new_from_slice(key).expect(any_len)),
            Family::Sha384 => KeyedMac::Sha384(Hmac::new_from_slice(key).expect(any_len)),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            KeyedMac::Sha1(mac) => mac.update(data),
            KeyedMac::Sha256(mac) => mac.update(data),
            KeyedMac::Sha384(mac) => mac.update(data),
        }
    }

    /// The first `out.len()` bytes of the HMAC.
    pub(crate) fn finish_into(self, out: &mut [u8]) {
        let n = out.len();
        match self {
            KeyedMac::Sha1(mac) => out.copy_from_slice(&mac.finalize().into_bytes()[..n]),
            KeyedMac::Sha256(mac) => out.copy_from_slice(&mac.finalize().into_bytes()[..n]),
            KeyedMac::Sha384(mac) => out.copy_from_slice(&mac.finalize().into_bytes()[..n]),
        }
    }

    /// Whether `tag` is the start of the HMAC, compared in constant time.
    pub(crate) fn verify_truncated(self, tag: &[u8]) -> bool {
        match self {
            KeyedMac::Sha1(mac) => mac.verify_truncated_left(tag).is_ok(),
            KeyedMac::Sha256(mac) => mac.verify_truncated_left(tag).is_ok(),
            KeyedMac::Sha384(mac) => mac.verify_truncated_left(tag).is_ok(),
        }
    }
}

/// The keys of one key usage (RFC 3961 §5.3, RFC 8009 §5): Ke for encryption, Ki for the
/// ciphertext's HMAC, Kc for checksums, each expanded once.
#[derive(Clone)]
pub struct UsageKeys {
    enctype: Enctype,
    usage: u32,
    ke: Aes,
    ki: KeyedMac,
    kc: KeyedMac,
}

impl std::fmt::Debug for UsageKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageKeys")
            .field("enctype", &self.enctype)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

impl UsageKeys {
    pub(crate) fn new(enctype: Enctype, usage: u32, ke: &[u8], ki: &[u8], kc: &[u8]) -> Self {
        let family = enctype.family();
        Self {
            enctype,
            usage,
            ke: Aes::new(ke),
            ki: KeyedMac::new(family, ki),
            kc: KeyedMac::new(family, kc),
        }
    }

    /// The encryption type.
    pub fn enctype(&self) -> Enctype {
        self.enctype
    }

    /// The key usage number these keys were derived for.
    pub fn usage(&self) -> u32 {
        self.usage
    }

    /// Encrypt `data` in place, which holds a 16-byte confounder then the plaintext, and write
    /// the HMAC (its [`Enctype::mac_len`] bytes) into `mac`.
    ///
    /// The confounder must be random (`getrandom`, or [`fill_confounder`]); it is the caller's
    /// so that a token can keep its bytes where they go on the wire.
    ///
    /// Fails with `SEC_E_INVALID_PARAMETER` when `data` is shorter than a confounder or `mac`
    /// is not the HMAC's length.
    pub fn encrypt(&self, data: &mut [u8], mac: &mut [u8]) -> Result<(), Error> {
        self.check_lengths(data.len(), mac.len())?;
        match self.enctype.family() {
            Family::Sha1 => {
                let mut h = self.ki.clone();
                h.update(data);
                h.finish_into(mac);
                self.ke.encrypt_cts(data);
            }
            Family::Sha256 | Family::Sha384 => {
                self.ke.encrypt_cts(data);
                let mut h = self.ki.clone();
                h.update(&[0u8; BLOCK_LEN]);
                h.update(data);
                h.finish_into(mac);
            }
        }
        Ok(())
    }

    /// Check `mac` and decrypt `data` in place: afterwards it holds the confounder then the
    /// plaintext. A message that fails its HMAC is `SEC_E_MESSAGE_ALTERED`; `data` then holds
    /// nothing anyone may read (RFC 8009 checks before decrypting; an RFC 3962 message is
    /// decrypted first, and the caller must not use it).
    pub fn decrypt(&self, data: &mut [u8], mac: &[u8]) -> Result<(), Error> {
        self.check_lengths(data.len(), mac.len())?;
        let authentic = match self.enctype.family() {
            Family::Sha1 => {
                self.ke.decrypt_cts(data);
                let mut h = self.ki.clone();
                h.update(data);
                h.verify_truncated(mac)
            }
            Family::Sha256 | Family::Sha384 => {
                let mut h = self.ki.clone();
                h.update(&[0u8; BLOCK_LEN]);
                h.update(data);
                let authentic = h.verify_truncated(mac);
                if authentic {
                    self.ke.decrypt_cts(data);
                }
                authentic
            }
        };
        if authentic {
            Ok(())
        } else {
            Err(Error::message_altered(format!(
                "{} message failed its integrity check (key usage {})",
                self.enctype, self.usage
            )))
        }
    }

    /// The checksum of the concatenation of `parts` under Kc, into `out` ([`Enctype::checksum_len`]
    /// bytes).
    pub fn checksum(&self, parts: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if out.len() != self.enctype.checksum_len() {
            return Err(self.wrong_length("checksum", out.len()));
        }
        let mut h = self.kc.clone();
        for part in parts {
            h.update(part);
        }
        h.finish_into(out);
        Ok(())
    }

    /// Whether `checksum` is the checksum of the concatenation of `parts`, in constant time.
    pub fn verify_checksum(&self, parts: &[&[u8]], checksum: &[u8]) -> bool {
        if checksum.len() != self.enctype.checksum_len() {
            return false;
        }
        let mut h = self.kc.clone();
        for part in parts {
            h.update(part);
        }
        h.verify_truncated(checksum)
    }

    fn check_lengths(&self, data: usize, mac: usize) -> Result<(), Error> {
        if data < BLOCK_LEN {
            return Err(Error::new(
                Status::InvalidParameter,
                format!("{data} bytes cannot hold a {BLOCK_LEN}-byte confounder"),
            ));
        }
        if mac != self.enctype.mac_len() {
            return Err(self.wrong_length("HMAC", mac));
        }
        Ok(())
    }

    fn wrong_length(&self, what: &str, len: usize) -> Error {
        Error::new(
            Status::InvalidParameter,
            format!(
                "a {} {what} is {} bytes, not {len}",
                self.enctype,
                self.enctype.mac_len()
            ),
        )
    }
}

/// Fill `confounder` with random bytes from the operating system.
///
/// Fails with `SEC_E_INTERNAL_ERROR` when the system has none to give.
pub fn fill_confounder(confounder: &mut [u8]) -> Result<(), Error> {
    getrandom::getrandom(confounder).map_err(|e| {
        Error::new(
            Status::InternalError,
            format!("no random confounder from the operating system: {e}"),
        )
    })
}
