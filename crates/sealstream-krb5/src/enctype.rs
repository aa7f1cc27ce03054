//! The encryption types this crate implements, and what each one's numbers are.
//!
//! Two families, both AES in CBC mode with ciphertext stealing and an HMAC:
//!
//! - RFC 3962 (`aes128-cts-hmac-sha1-96`, `aes256-cts-hmac-sha1-96`): the RFC 3961 simplified
//!   profile. Keys are derived with DK (AES of an n-folded constant); the HMAC-SHA1 is taken over
//!   the plaintext and cut to 96 bits (encrypt-and-MAC).
//! - RFC 8009 (`aes128-cts-hmac-sha256-128`, `aes256-cts-hmac-sha384-192`): keys are derived
//!   with KDF-HMAC-SHA2 (SP 800-108 counter mode); the HMAC is taken over the cipher state and
//!   the ciphertext (encrypt-then-MAC) and cut to 128 or 192 bits.
//!
//! DES, 3DES and RC4-HMAC are not implemented: they are deprecated (RFC 6649, RFC 8429).

use std::fmt;

/// The confounder, the cipher's block, and the cipher state of every AES type: 16 bytes.
pub(crate) const BLOCK_LEN: usize = 16;

/// An encryption type (the `etype` numbers of RFC 3961 §8, RFC 3962 §7, RFC 8009 §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Enctype {
    /// `aes128-cts-hmac-sha1-96`, 17.
    Aes128CtsHmacSha196,
    /// `aes256-cts-hmac-sha1-96`, 18.
    Aes256CtsHmacSha196,
    /// `aes128-cts-hmac-sha256-128`, 19.
    Aes128CtsHmacSha256128,
    /// `aes256-cts-hmac-sha384-192`, 20.
    Aes256CtsHmacSha384192,
}

/// How an encryption type derives its keys and where its HMAC goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// RFC 3962: DK derivation, HMAC-SHA1 over the plaintext.
    Sha1,
    /// RFC 8009 with SHA-256.
    Sha256,
    /// RFC 8009 with SHA-384.
    Sha384,
}

impl Enctype {
    /// Every type, strongest first: the order a client offers them in.
    pub const ALL: [Enctype; 4] = [
        Enctype::Aes256CtsHmacSha384192,
        Enctype::Aes128CtsHmacSha256128,
        Enctype::Aes256CtsHmacSha196,
        Enctype::Aes128CtsHmacSha196,
    ];

    /// The type with this number, if this crate implements it.
    pub const fn from_number(number: i32) -> Option<Enctype> {
        match number {
            17 => Some(Enctype::Aes128CtsHmacSha196),
            18 => Some(Enctype::Aes256CtsHmacSha196),
            19 => Some(Enctype::Aes128CtsHmacSha256128),
            20 => Some(Enctype::Aes256CtsHmacSha384192),
            _ => None,
        }
    }

    /// Its number.
    pub const fn number(self) -> i32 {
        match self {
            Enctype::Aes128CtsHmacSha196 => 17,
            Enctype::Aes256CtsHmacSha196 => 18,
            Enctype::Aes128CtsHmacSha256128 => 19,
            Enctype::Aes256CtsHmacSha384192 => 20,
        }
    }

    /// Its name, as in `krb5.conf` and in RFC 8009's string-to-key salt.
    pub const fn name(self) -> &'static str {
        match self {
            Enctype::Aes128CtsHmacSha196 => "aes128-cts-hmac-sha1-96",
            Enctype::Aes256CtsHmacSha196 => "aes256-cts-hmac-sha1-96",
            Enctype::Aes128CtsHmacSha256128 => "aes128-cts-hmac-sha256-128",
            Enctype::Aes256CtsHmacSha384192 => "aes256-cts-hmac-sha384-192",
        }
    }

    /// The type with this name (case-insensitive), if this crate implements it.
    pub fn from_name(name: &str) -> Option<Enctype> {
        Enctype::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name))
    }

    /// The length of its keys in bytes: 16 for AES-128, 32 for AES-256.
    pub const fn key_len(self) -> usize {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes128CtsHmacSha256128 => 16,
            Enctype::Aes256CtsHmacSha196 | Enctype::Aes256CtsHmacSha384192 => 32,
        }
    }

    /// The length of the HMAC it appends to a ciphertext (`h` in RFC 3961): 12, 16 or 24 bytes.
    pub const fn mac_len(self) -> usize {
        match self.family() {
            Family::Sha1 => 12,
            Family::Sha256 => 16,
            Family::Sha384 => 24,
        }
    }

    /// The length of its checksum (the associated checksum type's output): the same as
    /// [`mac_len`](Self::mac_len) for every AES type.
    pub const fn checksum_len(self) -> usize {
        self.mac_len()
    }

    /// The checksum type that goes with it (RFC 3962 §7, RFC 8009 §8): 15, 16, 19 or 20.
    pub const fn checksum_type(self) -> i32 {
        match self {
            Enctype::Aes128CtsHmacSha196 => 15,
            Enctype::Aes256CtsHmacSha196 => 16,
            Enctype::Aes128CtsHmacSha256128 => 19,
            Enctype::Aes256CtsHmacSha384192 => 20,
        }
    }

    /// What a ciphertext adds to its plaintext: the confounder and the HMAC.
    pub const fn overhead(self) -> usize {
        BLOCK_LEN + self.mac_len()
    }

    /// The default PBKDF2 iteration count of its string-to-key (RFC 3962 §4: 4096; RFC 8009
    /// §4: 32768).
    pub const fn default_iterations(self) -> u32 {
        match self.family() {
            Family::Sha1 => 4096,
            Family::Sha256 | Family::Sha384 => 32768,
        }
    }

    pub(crate) const fn family(self) -> Family {
        match self {
            Enctype::Aes128CtsHmacSha196 | Enctype::Aes256CtsHmacSha196 => Family::Sha1,
            Enctype::Aes128CtsHmacSha256128 => Family::Sha256,
            Enctype::Aes256CtsHmacSha384192 => Family::Sha384,
        }
    }
}

impl fmt::Display for Enctype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_round_trip() {
        for e in Enctype::ALL {
            assert_eq!(Enctype::from_number(e.number()), Some(e));
            assert_eq!(Enctype::from_name(e.name()), Some(e));
            assert_eq!(Enctype::from_name(&e.name().to_uppercase()), Some(e));
        }
        // DES, DES3, RC4-HMAC: not implemented.
        for number in [1, 3, 16, 23, 24, 0, -1] {
            assert_eq!(Enctype::from_number(number), None);
        }
        assert_eq!(Enctype::from_name("arcfour-hmac"), None);
    }
}
