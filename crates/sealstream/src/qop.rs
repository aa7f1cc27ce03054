//! Quality of protection and control messages.
//!
//! SSPI's `fQOP` argument asks `EncryptMessage` for less than full protection
//! (`SECQOP_WRAP_NO_ENCRYPT`) or for an out-of-band TLS alert (`SECQOP_WRAP_OOB_DATA`). Control
//! messages are what a write half sends that is not application data: the close token, an alert,
//! or an answer the read half asked for (a TLS 1.3 KeyUpdate).

use std::fmt;

/// Quality of protection for one sealed record (SSPI `fQOP`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Qop {
    /// The sealer's negotiated protection (`fQOP` 0): confidentiality and integrity where the
    /// sealer provides them.
    #[default]
    Default,
    /// `SECQOP_WRAP_NO_ENCRYPT` (0x80000001): produce header and trailer, leave the payload in the
    /// clear (Kerberos conf=0, NTLM sign, DIGEST-MD5 auth-int). TLS answers `QOP_NOT_SUPPORTED`.
    IntegrityOnly,
    /// `SECQOP_WRAP_OOB_DATA` (0x40000000): the payload is a two-byte TLS alert
    /// (level, description) to send as an alert record.
    OutOfBand,
}

/// What protected a data record the peer sent: what SSPI's `DecryptMessage` reports in
/// `pfQOP`. A receiver that needs confidentiality checks it, since a peer may send
/// integrity-only tokens on a layer that also offers sealing (Kerberos `conf_flag` 0, an NTLM
/// signing-only session).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protection {
    /// Encrypted and integrity-protected (`pfQOP` 0).
    Confidential,
    /// Integrity-protected only: the plaintext crossed the wire in the clear, signed
    /// (`SECQOP_WRAP_NO_ENCRYPT`).
    IntegrityOnly,
}

impl Protection {
    /// The `pfQOP` value `DecryptMessage` returns for a record so protected.
    pub const fn fqop(self) -> u32 {
        match self {
            Protection::Confidential => 0,
            Protection::IntegrityOnly => Qop::SECQOP_WRAP_NO_ENCRYPT,
        }
    }

    /// Whether the plaintext was encrypted on the wire.
    pub const fn is_confidential(self) -> bool {
        matches!(self, Protection::Confidential)
    }
}

impl Qop {
    /// `SECQOP_WRAP_NO_ENCRYPT`.
    pub const SECQOP_WRAP_NO_ENCRYPT: u32 = 0x8000_0001;
    /// `SECQOP_WRAP_OOB_DATA`.
    pub const SECQOP_WRAP_OOB_DATA: u32 = 0x4000_0000;

    /// The `fQOP` value SSPI uses for this quality of protection.
    pub const fn fqop(self) -> u32 {
        match self {
            Qop::Default => 0,
            Qop::IntegrityOnly => Self::SECQOP_WRAP_NO_ENCRYPT,
            Qop::OutOfBand => Self::SECQOP_WRAP_OOB_DATA,
        }
    }

    /// The quality of protection an SSPI `fQOP` value asks for, if it is one sealstream knows.
    pub const fn from_fqop(fqop: u32) -> Option<Qop> {
        match fqop {
            0 => Some(Qop::Default),
            Self::SECQOP_WRAP_NO_ENCRYPT => Some(Qop::IntegrityOnly),
            Self::SECQOP_WRAP_OOB_DATA => Some(Qop::OutOfBand),
            _ => None,
        }
    }
}

/// A two-byte TLS alert: level then description, as `SECQOP_WRAP_OOB_DATA` carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AlertCode {
    /// 1 = warning, 2 = fatal.
    pub level: u8,
    /// The alert description (0 = close_notify, 20 = bad_record_mac, ...).
    pub description: u8,
}

impl AlertCode {
    /// Alert level 1.
    pub const WARNING: u8 = 1;
    /// Alert level 2.
    pub const FATAL: u8 = 2;

    /// A fatal alert with `description`.
    pub const fn fatal(description: u8) -> Self {
        Self {
            level: Self::FATAL,
            description,
        }
    }

    /// The two bytes on the wire.
    pub const fn to_bytes(self) -> [u8; 2] {
        [self.level, self.description]
    }

    /// The alert in two wire bytes.
    pub const fn from_bytes(bytes: [u8; 2]) -> Self {
        Self {
            level: bytes[0],
            description: bytes[1],
        }
    }
}

impl fmt::Display for AlertCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Self::WARNING => "warning",
            Self::FATAL => "fatal",
            _ => "unknown-level",
        };
        write!(f, "{level} alert {}", self.description)
    }
}

/// A message the write half sends that carries no application data.
///
/// The read half never writes: when a record it unsealed needs an answer it returns
/// [`Unsealed::Respond`](crate::Unsealed::Respond), the stream queues the control for the write
/// half, and the write half seals it before its next record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Control {
    /// The sealer's close token (TLS close_notify). Sealers without one write nothing.
    Close,
    /// An alert (TLS); what `SECQOP_WRAP_OOB_DATA` sends.
    Alert(AlertCode),
    /// A key update (TLS 1.3 KeyUpdate). The seal half sends it under its current key and then
    /// moves to the next one.
    KeyUpdate {
        /// Whether the peer is asked to update its own sending key too.
        update_requested: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqop_round_trips() {
        for qop in [Qop::Default, Qop::IntegrityOnly, Qop::OutOfBand] {
            assert_eq!(Qop::from_fqop(qop.fqop()), Some(qop));
        }
        assert_eq!(Qop::IntegrityOnly.fqop(), 0x80000001);
        assert_eq!(Qop::from_fqop(7), None);
    }

    #[test]
    fn alert_bytes() {
        let a = AlertCode::fatal(20);
        assert_eq!(a.to_bytes(), [2, 20]);
        assert_eq!(AlertCode::from_bytes([2, 20]), a);
        assert_eq!(a.to_string(), "fatal alert 20");
    }
}
