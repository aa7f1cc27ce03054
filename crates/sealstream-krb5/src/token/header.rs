//! The 16-byte header of RFC 4121 per-message tokens (§4.2.6).
//!
//! ```text
//! Wrap:  TOK_ID 05 04 | Flags | Filler FF | EC (2) | RRC (2) | SND_SEQ (8)
//! MIC:   TOK_ID 04 04 | Flags | Filler FF FF FF FF FF          | SND_SEQ (8)
//! ```
//!
//! §4.2.2: "SentByAcceptor 0 When set, this flag indicates the sender is the context acceptor.
//! [...] Sealed 1 When set in Wrap tokens, this flag indicates confidentiality is provided for.
//! [...] AcceptorSubkey 2 A value of 1 indicates that the token is protected using the
//! acceptor's subkey". "The rest of available bits are reserved for future use and MUST be
//! cleared. The receiver MUST ignore unknown flags."

use sealstream::{Error, Status};

/// Bytes of a token header.
pub(crate) const HEADER_LEN: usize = 16;

/// `TOK_ID` of a Wrap token.
pub(crate) const WRAP: [u8; 2] = [0x05, 0x04];
/// `TOK_ID` of a MIC token.
pub(crate) const MIC: [u8; 2] = [0x04, 0x04];

pub(crate) const SENT_BY_ACCEPTOR: u8 = 0x01;
pub(crate) const SEALED: u8 = 0x02;
pub(crate) const ACCEPTOR_SUBKEY: u8 = 0x04;

/// A Wrap token's header, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WrapHeader {
    pub(crate) flags: u8,
    pub(crate) ec: u16,
    pub(crate) rrc: u16,
    pub(crate) seq: u64,
}

impl WrapHeader {
    /// The header's bytes.
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..2].copy_from_slice(&WRAP);
        out[2] = self.flags;
        out[3] = 0xFF;
        out[4..6].copy_from_slice(&self.ec.to_be_bytes());
        out[6..8].copy_from_slice(&self.rrc.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    /// Read the header at the start of `token`. Fails with `SEC_E_INVALID_TOKEN` for a token
    /// too short to hold one, another token ID, or a filler byte other than FF.
    pub(crate) fn decode(token: &[u8]) -> Result<Self, Error> {
        let Some(h) = token.first_chunk::<HEADER_LEN>() else {
            return Err(defective(format!(
                "a {}-byte Wrap token is shorter than its header",
                token.len()
            )));
        };
        if h[..2] != WRAP {
            return Err(defective(format!(
                "token ID {:02x}{:02x} where a Wrap token (0504) was expected",
                h[0], h[1]
            )));
        }
        if h[3] != 0xFF {
            return Err(defective(format!("Wrap token filler {:02x}, not ff", h[3])));
        }
        Ok(Self {
            flags: h[2],
            ec: u16::from_be_bytes([h[4], h[5]]),
            rrc: u16::from_be_bytes([h[6], h[7]]),
            seq: u64::from_be_bytes(h[8..].try_into().expect("8 bytes")),
        })
    }
}

/// The header of a MIC token with `flags` and `seq`.
pub(crate) fn mic_header(flags: u8, seq: u64) -> [u8; HEADER_LEN] {
    let mut out = [0xFFu8; HEADER_LEN];
    out[..2].copy_from_slice(&MIC);
    out[2] = flags;
    out[8..].copy_from_slice(&seq.to_be_bytes());
    out
}

/// `SEC_E_INVALID_TOKEN` (GSS_S_DEFECTIVE_TOKEN): a token that is not well formed.
pub(crate) fn defective(detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(Status::InvalidToken, detail)
}
