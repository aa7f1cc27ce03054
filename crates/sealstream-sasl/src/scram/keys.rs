//! The proofs of RFC 5802 §3, from the password, the salt and the iteration count:
//!
//! - `SaltedPassword = Hi(Normalize(password), salt, i)`, where `Hi` is PBKDF2 with HMAC and
//!   an output as long as the hash's;
//! - `ClientKey = HMAC(SaltedPassword, "Client Key")`, `StoredKey = H(ClientKey)`;
//! - `ClientSignature = HMAC(StoredKey, AuthMessage)`, `ClientProof = ClientKey XOR
//!   ClientSignature`;
//! - `ServerKey = HMAC(SaltedPassword, "Server Key")`, `ServerSignature = HMAC(ServerKey,
//!   AuthMessage)`.
//!
//! Every intermediate key is zeroized when dropped.

use hmac::digest::{Digest, FixedOutputReset};
use hmac::{EagerHash, Hmac, KeyInit, Mac};
use zeroize::Zeroizing;

use super::ScramHash;

/// What the client sends and what it expects back.
pub(super) struct Proofs {
    /// `ClientProof`.
    pub(super) client_proof: Vec<u8>,
    /// `ServerSignature`, the server's proof that it knows the password.
    pub(super) server_signature: Zeroizing<Vec<u8>>,
}

/// The proofs for `password` (already SASLprepped) under `hash`.
pub(super) fn derive(
    hash: ScramHash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    auth_message: &[u8],
) -> Proofs {
    match hash {
        ScramHash::Sha1 => derive_with::<sha1::Sha1>(password, salt, iterations, auth_message),
        ScramHash::Sha256 => derive_with::<sha2::Sha256>(password, salt, iterations, auth_message),
    }
}

fn derive_with<D>(password: &[u8], salt: &[u8], iterations: u32, auth_message: &[u8]) -> Proofs
where
    D: EagerHash + Digest + FixedOutputReset,
{
    let len = <D as Digest>::output_size();
    let mut salted = Zeroizing::new(vec![0u8; len]);
    pbkdf2::pbkdf2_hmac::<D>(password, salt, iterations, &mut salted);
    let client_key = Zeroizing::new(hmac::<D>(&salted, b"Client Key"));
    let stored_key = Zeroizing::new(D::digest(&*client_key).to_vec());
    let client_signature = Zeroizing::new(hmac::<D>(&stored_key, auth_message));
    let client_proof = client_key
        .iter()
        .zip(client_signature.iter())
        .map(|(k, s)| k ^ s)
        .collect();
    let server_key = Zeroizing::new(hmac::<D>(&salted, b"Server Key"));
    let server_signature = Zeroizing::new(hmac::<D>(&server_key, auth_message));
    Proofs {
        client_proof,
        server_signature,
    }
}

fn hmac<D: EagerHash>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}
