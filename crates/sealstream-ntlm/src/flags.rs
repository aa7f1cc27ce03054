//! The NegotiateFlags of MS-NLMP §2.2.2.5: what each side offers and what the challenge settles.
//!
//! The client offers flags in its NEGOTIATE message, the server answers with the set it accepts
//! in its CHALLENGE, and the AUTHENTICATE repeats what was settled. This crate sends and accepts
//! only what NTLMv2 with extended session security needs; the legacy flags are named so that a
//! refusal can say which one a peer asked for.

use std::fmt;

/// A set of NTLM negotiate flags (MS-NLMP §2.2.2.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NegotiateFlags(u32);

macro_rules! flags {
    ($($(#[$doc:meta])* $name:ident = $bit:expr;)*) => {
        impl NegotiateFlags {
            $($(#[$doc])* pub const $name: Self = Self($bit);)*
        }
        const NAMES: &[(&str, u32)] = &[$((stringify!($name), $bit)),*];
    };
}

flags! {
    /// `NTLMSSP_NEGOTIATE_UNICODE` (A): strings are UTF-16LE.
    UNICODE = 0x0000_0001;
    /// `NTLM_NEGOTIATE_OEM` (B): strings in the OEM code page.
    OEM = 0x0000_0002;
    /// `NTLMSSP_REQUEST_TARGET` (C): the server names its domain or server in the CHALLENGE.
    REQUEST_TARGET = 0x0000_0004;
    /// `NTLMSSP_NEGOTIATE_SIGN` (D): session security with integrity.
    SIGN = 0x0000_0010;
    /// `NTLMSSP_NEGOTIATE_SEAL` (E): session security with confidentiality.
    SEAL = 0x0000_0020;
    /// `NTLMSSP_NEGOTIATE_DATAGRAM` (F): connectionless NTLM (refused here).
    DATAGRAM = 0x0000_0040;
    /// `NTLMSSP_NEGOTIATE_LM_KEY` (G): LAN Manager session keys (refused here).
    LM_KEY = 0x0000_0080;
    /// `NTLMSSP_NEGOTIATE_NTLM` (H): NTLM authentication (set by every client and server).
    NTLM = 0x0000_0200;
    /// `NTLMSSP_NEGOTIATE_ANONYMOUS` (J): an anonymous connection.
    ANONYMOUS = 0x0000_0800;
    /// `NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED` (K): the NEGOTIATE carries a domain name.
    OEM_DOMAIN_SUPPLIED = 0x0000_1000;
    /// `NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED` (L): the NEGOTIATE carries a workstation.
    OEM_WORKSTATION_SUPPLIED = 0x0000_2000;
    /// `NTLMSSP_NEGOTIATE_ALWAYS_SIGN` (M): a signature even when neither SIGN nor SEAL is set.
    ALWAYS_SIGN = 0x0000_8000;
    /// `NTLMSSP_TARGET_TYPE_DOMAIN` (N): the target name is a domain.
    TARGET_TYPE_DOMAIN = 0x0001_0000;
    /// `NTLMSSP_TARGET_TYPE_SERVER` (O): the target name is a server.
    TARGET_TYPE_SERVER = 0x0002_0000;
    /// `NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY` (P): NTLMv2-style session security, with
    /// keys of its own for each direction. Required here.
    EXTENDED_SESSION_SECURITY = 0x0008_0000;
    /// `NTLMSSP_NEGOTIATE_IDENTIFY` (Q): an identify-level token.
    IDENTIFY = 0x0010_0000;
    /// `NTLMSSP_REQUEST_NON_NT_SESSION_KEY` (R): an LM session key (refused here).
    NON_NT_SESSION_KEY = 0x0040_0000;
    /// `NTLMSSP_NEGOTIATE_TARGET_INFO` (S): the CHALLENGE carries target information.
    TARGET_INFO = 0x0080_0000;
    /// `NTLMSSP_NEGOTIATE_VERSION` (T): the messages carry a version structure.
    VERSION = 0x0200_0000;
    /// `NTLMSSP_NEGOTIATE_128` (U): 128-bit session keys. Required here.
    KEY_128 = 0x2000_0000;
    /// `NTLMSSP_NEGOTIATE_KEY_EXCH` (V): the client chooses the session key and sends it
    /// encrypted.
    KEY_EXCH = 0x4000_0000;
    /// `NTLMSSP_NEGOTIATE_56` (W): 56-bit session keys.
    KEY_56 = 0x8000_0000;
}

impl NegotiateFlags {
    /// No flag.
    pub const EMPTY: Self = Self(0);

    /// The flags as they travel (little-endian on the wire).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The flags of a received message, unknown bits included.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// Whether every flag of `other` is set here.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The flags set in both.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// This set without the flags of `other`.
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

impl fmt::Debug for NegotiateFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)?;
        let mut set = f.debug_set();
        let mut rest = self.0;
        for (name, bit) in NAMES {
            if self.0 & bit != 0 {
                set.entry(&format_args!("{name}"));
                rest &= !bit;
            }
        }
        if rest != 0 {
            set.entry(&format_args!("{rest:#x}"));
        }
        set.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::NegotiateFlags as F;

    #[test]
    fn gss_ntlmssp_negotiate_flags_read_as_seen_on_the_wire() {
        // gss-ntlmssp's NEGOTIATE, captured against a Samba AD DC (shared/notes/samba-ad.md).
        let f = F::from_bits(0xe208_8237);
        for flag in [
            F::UNICODE,
            F::OEM,
            F::REQUEST_TARGET,
            F::SIGN,
            F::SEAL,
            F::NTLM,
            F::ALWAYS_SIGN,
            F::EXTENDED_SESSION_SECURITY,
            F::VERSION,
            F::KEY_128,
            F::KEY_EXCH,
            F::KEY_56,
        ] {
            assert!(f.contains(flag), "{flag:?}");
        }
        assert!(!f.contains(F::LM_KEY));
        let shown = format!("{f:?}");
        assert!(shown.starts_with("0xe2088237"), "{shown}");
        assert!(shown.contains("EXTENDED_SESSION_SECURITY"), "{shown}");
    }
}
