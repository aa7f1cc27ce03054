//! The authenticator checksum of a Kerberos GSS-API AP-REQ (RFC 4121 §4.1.1): not a
//! cryptographic checksum but a record, protected by the authenticator's encryption, of the
//! context flags requested and of the channel bindings.
//!
//! ```text
//! Octet        Name      Description
//! -----------------------------------------------------------------
//! 0..3         Lgth    Number of octets in Bnd field;  Represented
//!                      in little-endian order;  Currently contains
//!                      hex value 10 00 00 00 (16).
//! 4..19        Bnd     Channel binding information, as described in
//!                      section 4.1.1.2.
//! 20..23       Flags   Four-octet context-establishment flags in
//!                      little-endian order as described in section
//!                      4.1.1.1.
//! ```

use md5::{Digest, Md5};

/// The checksum type of the GSS-API authenticator checksum.
pub(crate) const GSS_CHECKSUM_TYPE: i32 = 0x8003;

/// Context flags (RFC 2744 §5.19; RFC 4121 §4.1.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GssFlags(pub u32);

impl GssFlags {
    /// `GSS_C_DELEG_FLAG`: delegate credentials (not supported here).
    pub const DELEG: u32 = 1;
    /// `GSS_C_MUTUAL_FLAG`: the acceptor proves itself with an AP-REP.
    pub const MUTUAL: u32 = 2;
    /// `GSS_C_REPLAY_FLAG`: replayed tokens are detected.
    pub const REPLAY: u32 = 4;
    /// `GSS_C_SEQUENCE_FLAG`: tokens out of sequence are detected.
    pub const SEQUENCE: u32 = 8;
    /// `GSS_C_CONF_FLAG`: confidentiality (sealed Wrap tokens).
    pub const CONF: u32 = 16;
    /// `GSS_C_INTEG_FLAG`: integrity.
    pub const INTEG: u32 = 32;

    /// What a security layer needs: mutual authentication, replay and sequence detection,
    /// integrity and confidentiality. Active Directory refuses to sign or seal LDAP traffic
    /// unless both of the last two were asked for, even when only one is used.
    pub const LAYER: GssFlags =
        GssFlags(Self::MUTUAL | Self::REPLAY | Self::SEQUENCE | Self::CONF | Self::INTEG);

    /// Whether `flag` is set.
    pub fn has(self, flag: u32) -> bool {
        self.0 & flag == flag
    }
}

/// Channel bindings (RFC 2744 §3.11): what ties the context to the channel under it, such as
/// `tls-server-end-point:` followed by the TLS server certificate's hash. Only the application
/// data is used (no addresses), as every current peer does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChannelBindings {
    application_data: Vec<u8>,
}

impl ChannelBindings {
    /// Bindings carrying `application_data`.
    pub fn new(application_data: &[u8]) -> Self {
        Self {
            application_data: application_data.to_vec(),
        }
    }

    /// "Bnd": the MD5 of the bindings as RFC 4121 §4.1.1.2 lays them out — initiator address
    /// type and address, acceptor address type and address, application data, each length and
    /// type a little-endian 32-bit number (the addresses here are empty, type 0).
    pub(crate) fn hash(&self) -> [u8; 16] {
        let mut md5 = Md5::new();
        for _ in 0..2 {
            md5.update(0u32.to_le_bytes()); // address type
            md5.update(0u32.to_le_bytes()); // address length
        }
        md5.update((self.application_data.len() as u32).to_le_bytes());
        md5.update(&self.application_data);
        md5.finalize().into()
    }
}

/// The 24-byte checksum value for `flags` and `bindings` (none: 16 zero bytes of Bnd).
pub(crate) fn encode(flags: GssFlags, bindings: Option<&ChannelBindings>) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&bindings.map_or([0; 16], ChannelBindings::hash));
    out.extend_from_slice(&flags.0.to_le_bytes());
    out
}

/// The flags and Bnd of a checksum value, if it is one (24 bytes at least, Lgth 16).
pub(crate) fn decode(value: &[u8]) -> Option<(GssFlags, [u8; 16])> {
    let (lgth, rest) = value.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*lgth) != 16 {
        return None;
    }
    let (bnd, rest) = rest.split_first_chunk::<16>()?;
    let (flags, _) = rest.split_first_chunk::<4>()?;
    Some((GssFlags(u32::from_le_bytes(*flags)), *bnd))
}
