//! Target information (MS-NLMP §2.2.2.1): the AV_PAIR list a server sends in its CHALLENGE and
//! a client returns, extended, inside its NTLMv2 response, where the NTProofStr covers it.
//!
//! What the client adds is what makes NTLMv2 hard to relay: the timestamp it used, that its
//! AUTHENTICATE carries a MIC (`MsvAvFlags` bit 0x2), the service it meant (`MsvAvTargetName`)
//! and the TLS channel it ran over (`MsvAvChannelBindings`).

use sealstream::Error;

use crate::wire::{invalid, utf16le};

/// `MsvAvEOL`: the end of the list.
pub const AV_EOL: u16 = 0;
/// `MsvAvNbComputerName`: the server's NetBIOS name.
pub const AV_NB_COMPUTER_NAME: u16 = 1;
/// `MsvAvNbDomainName`: the server's NetBIOS domain.
pub const AV_NB_DOMAIN_NAME: u16 = 2;
/// `MsvAvDnsComputerName`: the server's DNS name.
pub const AV_DNS_COMPUTER_NAME: u16 = 3;
/// `MsvAvDnsDomainName`: the server's DNS domain.
pub const AV_DNS_DOMAIN_NAME: u16 = 4;
/// `MsvAvDnsTreeName`: the forest's DNS name.
pub const AV_DNS_TREE_NAME: u16 = 5;
/// `MsvAvFlags`: a 32-bit set of flags ([`AV_FLAG_MIC`]).
pub const AV_FLAGS: u16 = 6;
/// `MsvAvTimestamp`: the server's time, a FILETIME.
pub const AV_TIMESTAMP: u16 = 7;
/// `MsvAvSingleHost`.
pub const AV_SINGLE_HOST: u16 = 8;
/// `MsvAvTargetName`: the SPN of the service the client authenticates to (UTF-16LE).
pub const AV_TARGET_NAME: u16 = 9;
/// `MsvAvChannelBindings`: the MD5 of the GSS channel-bindings structure, or 16 zero bytes.
pub const AV_CHANNEL_BINDINGS: u16 = 10;

/// `MsvAvFlags` bit: the AUTHENTICATE message carries a MIC.
pub const AV_FLAG_MIC: u32 = 0x2;

/// An AV_PAIR list, in the order it arrived, without its `MsvAvEOL`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetInfo {
    pairs: Vec<(u16, Vec<u8>)>,
}

impl TargetInfo {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse a list: pairs up to `MsvAvEOL`, which must be there; bytes after it are ignored
    /// (Windows pads). A pair running past the end is `SEC_E_INVALID_TOKEN`.
    pub fn parse(mut bytes: &[u8]) -> Result<Self, Error> {
        let mut pairs = Vec::new();
        loop {
            let [a, b, c, d, ..] = *bytes else {
                return Err(invalid("target information ends without MsvAvEOL"));
            };
            let id = u16::from_le_bytes([a, b]);
            let len = usize::from(u16::from_le_bytes([c, d]));
            let Some(value) = bytes.get(4..4 + len) else {
                return Err(invalid(format!(
                    "target information pair {id} of {len} bytes runs past the list's end"
                )));
            };
            if id == AV_EOL {
                return Ok(Self { pairs });
            }
            pairs.push((id, value.to_vec()));
            bytes = &bytes[4 + len..];
        }
    }

    /// The list as it travels, ending with `MsvAvEOL`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(self.pairs.iter().map(|(_, v)| 4 + v.len()).sum::<usize>() + 4);
        for (id, value) in &self.pairs {
            out.extend_from_slice(&id.to_le_bytes());
            let len = u16::try_from(value.len()).expect("values are set through `set`");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    /// The value of the first pair `id`.
    pub fn get(&self, id: u16) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v.as_slice())
    }

    /// Set pair `id` to `value`, replacing the first one there or appending it. A value over
    /// 65535 bytes (more than an AV_PAIR holds) is `SEC_E_INVALID_PARAMETER`.
    pub fn set(&mut self, id: u16, value: &[u8]) -> Result<(), Error> {
        if value.len() > usize::from(u16::MAX) {
            return Err(Error::new(
                sealstream::Status::InvalidParameter,
                format!(
                    "an AV_PAIR holds at most 65535 bytes, not {} (pair {id})",
                    value.len()
                ),
            ));
        }
        match self.pairs.iter_mut().find(|(i, _)| *i == id) {
            Some((_, v)) => *v = value.to_vec(),
            None => self.pairs.push((id, value.to_vec())),
        }
        Ok(())
    }

    /// Set a UTF-16LE string pair.
    pub fn set_str(&mut self, id: u16, value: &str) -> Result<(), Error> {
        self.set(id, &utf16le(value))
    }

    /// `MsvAvTimestamp`, if present and 8 bytes long.
    pub fn timestamp(&self) -> Option<u64> {
        let v: [u8; 8] = self.get(AV_TIMESTAMP)?.try_into().ok()?;
        Some(u64::from_le_bytes(v))
    }

    /// `MsvAvFlags`, 0 when absent.
    pub fn flags(&self) -> u32 {
        self.get(AV_FLAGS)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map_or(0, u32::from_le_bytes)
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.pairs.iter().map(|(i, v)| (*i, v.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    // MS-NLMP §4.2.4.3's CHALLENGE target information: NbDomainName "Domain", NbComputerName
    // "Server", MsvAvEOL.
    const SPEC: &str = "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";

    #[test]
    fn the_spec_list_parses_and_reencodes_byte_for_byte() {
        let bytes = hex(SPEC);
        let info = TargetInfo::parse(&bytes).unwrap();
        assert_eq!(info.get(AV_NB_DOMAIN_NAME), Some(&utf16le("Domain")[..]));
        assert_eq!(info.get(AV_NB_COMPUTER_NAME), Some(&utf16le("Server")[..]));
        assert_eq!(info.to_bytes(), bytes);
    }

    #[test]
    fn flags_and_timestamp_are_read_and_replaced() {
        let mut info = TargetInfo::parse(&hex(SPEC)).unwrap();
        assert_eq!(info.flags(), 0);
        assert_eq!(info.timestamp(), None);
        info.set(AV_FLAGS, &AV_FLAG_MIC.to_le_bytes()).unwrap();
        info.set(AV_TIMESTAMP, &7u64.to_le_bytes()).unwrap();
        info.set(AV_FLAGS, &(AV_FLAG_MIC | 1).to_le_bytes())
            .unwrap();
        assert!(info.set(AV_TARGET_NAME, &vec![0; 65536]).is_err());
        let back = TargetInfo::parse(&info.to_bytes()).unwrap();
        assert_eq!(back.flags(), 3);
        assert_eq!(back.timestamp(), Some(7));
        assert_eq!(back.iter().count(), 4);
    }

    #[test]
    fn truncated_lists_are_refused() {
        let bytes = hex(SPEC);
        for cut in 0..bytes.len() {
            assert!(TargetInfo::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
