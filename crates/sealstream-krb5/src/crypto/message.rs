//! Whole messages encrypted under a key and a key usage, as the Kerberos exchanges carry them
//! in `EncryptedData`: `E(confounder | plaintext) | HMAC`, with a fresh confounder.
//!
//! These run a few times per authentication, not per record, so they derive the usage's keys
//! on each call and allocate the result; the per-message tokens of a context use
//! [`UsageKeys`](super::UsageKeys) directly instead.

use sealstream::{Error, Status};
use zeroize::Zeroizing;

use super::cipher::fill_confounder;
use super::key::Key;
use crate::enctype::BLOCK_LEN;

impl Key {
    /// `plaintext` encrypted for `usage`: confounder, ciphertext and HMAC.
    pub(crate) fn encrypt_message(&self, usage: u32, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let h = self.enctype().mac_len();
        let mut out = vec![0u8; BLOCK_LEN + plaintext.len() + h];
        fill_confounder(&mut out[..BLOCK_LEN])?;
        out[BLOCK_LEN..BLOCK_LEN + plaintext.len()].copy_from_slice(plaintext);
        let (data, mac) = out.split_at_mut(BLOCK_LEN + plaintext.len());
        self.derive(usage).encrypt(data, mac)?;
        Ok(out)
    }

    /// The plaintext of `ciphertext`, encrypted for `usage`; `SEC_E_MESSAGE_ALTERED` if it
    /// does not verify (a wrong key, or tampering), `SEC_E_INVALID_TOKEN` if it is too short to
    /// be a ciphertext at all.
    pub(crate) fn decrypt_message(
        &self,
        usage: u32,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let h = self.enctype().mac_len();
        if ciphertext.len() < BLOCK_LEN + h {
            return Err(Error::new(
                Status::InvalidToken,
                format!(
                    "a {}-byte {} ciphertext is shorter than its confounder and HMAC",
                    ciphertext.len(),
                    self.enctype()
                ),
            ));
        }
        let mut data = Zeroizing::new(ciphertext[..ciphertext.len() - h].to_vec());
        self.derive(usage)
            .decrypt(&mut data, &ciphertext[ciphertext.len() - h..])?;
        data.drain(..BLOCK_LEN);
        Ok(data)
    }
}
