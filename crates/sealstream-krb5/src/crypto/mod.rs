//! The cryptography of the AES encryption types: keys, their derivation per key usage, and
//! encryption, decryption and checksums of messages (RFC 3961, RFC 3962, RFC 8009).
//!
//! The primitives are RustCrypto's (`aes`, `cts`, `hmac`, `sha1`, `sha2`, `pbkdf2`); what is
//! here is the Kerberos layer over them, which no maintained crate offers in a form that
//! derives each usage's keys once and works in place on a caller's buffer.

mod cipher;
mod derive;
mod key;
mod message;
mod nfold;
mod string_to_key;

pub use cipher::{UsageKeys, fill_confounder};
pub use key::Key;
pub use string_to_key::MAX_ITERATIONS;

#[cfg(test)]
mod tests;
