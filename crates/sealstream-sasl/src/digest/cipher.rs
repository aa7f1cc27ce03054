//! The five `auth-conf` ciphers of RFC 2831 §2.4, their strengths, and which are legacy.

/// A DIGEST-MD5 confidentiality cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cipher {
    /// `rc4`: RC4 keyed with all 128 bits of the sealing key. SSF 128.
    Rc4,
    /// `3des`: two-key triple DES (EDE, k3 = k1) in CBC mode. SSF 112.
    TripleDes,
    /// `des`: single DES in CBC mode (56-bit key). Legacy. SSF 55, as Cyrus counts it.
    Des,
    /// `rc4-56`: RC4 whose key derives from 56 bits of H(A1). Legacy. SSF 56.
    Rc4_56,
    /// `rc4-40`: RC4 whose key derives from 40 bits of H(A1). Legacy. SSF 40.
    Rc4_40,
}

impl Cipher {
    /// Every cipher, strongest first: the order a client prefers them in.
    pub const ALL: [Cipher; 5] = [
        Cipher::Rc4,
        Cipher::TripleDes,
        Cipher::Rc4_56,
        Cipher::Des,
        Cipher::Rc4_40,
    ];

    /// The name in `cipher=` directives.
    pub const fn name(self) -> &'static str {
        match self {
            Cipher::Rc4 => "rc4",
            Cipher::TripleDes => "3des",
            Cipher::Des => "des",
            Cipher::Rc4_56 => "rc4-56",
            Cipher::Rc4_40 => "rc4-40",
        }
    }

    /// The cipher a `cipher=` name denotes (case-insensitive).
    pub fn from_name(name: &str) -> Option<Cipher> {
        Cipher::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The security strength factor Cyrus SASL assigns it.
    pub const fn ssf(self) -> u32 {
        match self {
            Cipher::Rc4 => 128,
            Cipher::TripleDes => 112,
            Cipher::Des => 55,
            Cipher::Rc4_56 => 56,
            Cipher::Rc4_40 => 40,
        }
    }

    /// Whether it needs [`allow_legacy_ciphers`](crate::SecurityProperties::allow_legacy_ciphers).
    pub const fn is_legacy(self) -> bool {
        matches!(self, Cipher::Des | Cipher::Rc4_56 | Cipher::Rc4_40)
    }

    // RFC 2831 §2.4: "The key for the "rc4-40" cipher is a 40 bit key [...] n is 5; for "rc4-56"
    // n is 7; for the rest n is 16."
    /// How many bytes of H(A1) the sealing keys derive from.
    pub(crate) const fn ha1_bytes(self) -> usize {
        match self {
            Cipher::Rc4_40 => 5,
            Cipher::Rc4_56 => 7,
            Cipher::Rc4 | Cipher::Des | Cipher::TripleDes => 16,
        }
    }

    /// The block size: 8 for DES and 3DES, 1 for RC4.
    pub(crate) const fn block_size(self) -> usize {
        match self {
            Cipher::Des | Cipher::TripleDes => 8,
            Cipher::Rc4 | Cipher::Rc4_56 | Cipher::Rc4_40 => 1,
        }
    }
}

impl std::fmt::Display for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Cipher::ALL {
            assert_eq!(Cipher::from_name(c.name()), Some(c));
            assert_eq!(Cipher::from_name(&c.name().to_uppercase()), Some(c));
        }
        assert_eq!(Cipher::from_name("aes"), None);
        let legacy: Vec<_> = Cipher::ALL.into_iter().filter(|c| c.is_legacy()).collect();
        assert_eq!(legacy, [Cipher::Rc4_56, Cipher::Des, Cipher::Rc4_40]);
    }
}
