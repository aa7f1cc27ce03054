//! Key derivation: from a base key (a session key, a subkey, a long-term key) to the keys of
//! one key usage.
//!
//! - RFC 3961 §5.1, for the RFC 3962 types: "DK(Key, Constant) = random-to-key(DR(Key,
//!   Constant))", "DR(Key, Constant) = k-truncate(E(Key, Constant, initial-cipher-state))",
//!   where a constant that is not one block long is n-folded to one first, and "If the output
//!   of E is shorter than k bits, it is fed back into the encryption as many times as necessary".
//!   AES's random-to-key is the identity, and E of one block with the zero cipher state is AES
//!   of that block.
//! - RFC 8009 §3: "KDF-HMAC-SHA2(key, label, [context,] k): k-truncate(K1)" where "K1 =
//!   HMAC-SHA-256(key, 0x00000001 | label | 0x00 | k)" (SHA-384 for the 256-bit type), k in
//!   bits as four big-endian bytes. One HMAC is enough for every k these types use.
//!
//! Both run once per key usage of a context, never per message.

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};
use zeroize::{Zeroize, Zeroizing};

use super::cipher::Aes;
use super::nfold::nfold;
use crate::enctype::BLOCK_LEN;

/// DK for an AES key (16 or 32 bytes) and `constant`: a key as long as `key`.
pub(crate) fn dk(key: &[u8], constant: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut block = [0u8; BLOCK_LEN];
    nfold(constant, &mut block);
    let mut out = Zeroizing::new(Vec::with_capacity(key.len()));
    let aes = Aes::new(key);
    while out.len() < key.len() {
        aes.encrypt_block(&mut block);
        let take = (key.len() - out.len()).min(BLOCK_LEN);
        out.extend_from_slice(&block[..take]);
    }
    block.zeroize();
    out
}

/// Which hash an RFC 8009 type's KDF and HMAC use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sha2 {
    Sha256,
    Sha384,
}

/// KDF-HMAC-SHA2(key, label, bits): `bits / 8` bytes.
pub(crate) fn kdf_hmac_sha2(hash: Sha2, key: &[u8], label: &[u8], bits: u32) -> Zeroizing<Vec<u8>> {
    fn k1<M: Mac + hmac::KeyInit>(key: &[u8], label: &[u8], bits: u32) -> Zeroizing<Vec<u8>> {
        let mut mac = <M as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(&1u32.to_be_bytes());
        mac.update(label);
        mac.update(&[0]);
        mac.update(&bits.to_be_bytes());
        Zeroizing::new(mac.finalize().into_bytes().to_vec())
    }
    let mut out = match hash {
        Sha2::Sha256 => k1::<Hmac<Sha256>>(key, label, bits),
        Sha2::Sha384 => k1::<Hmac<Sha384>>(key, label, bits),
    };
    out.truncate(bits as usize / 8);
    out
}
