//! The three NTLM messages (MS-NLMP §2.2.1): NEGOTIATE, CHALLENGE and AUTHENTICATE, parsed from
//! and written to their wire form.
//!
//! Parsing keeps no reference into the input and checks every field's bounds; the initiator and
//! acceptor decide what the values mean. Strings are UTF-16LE: a message that does not
//! negotiate NTLMSSP_NEGOTIATE_UNICODE is refused by both ends before its strings are read.

use sealstream::Error;

use crate::flags::NegotiateFlags;
use crate::target_info::TargetInfo;
use crate::wire::{
    AUTHENTICATE, CHALLENGE, NEGOTIATE, Reader, VERSION, Writer, from_utf16le, invalid,
};

/// Length of the MIC field of an AUTHENTICATE message.
pub(crate) const MIC_LEN: usize = 16;
/// Where the MIC field lies in an AUTHENTICATE message (after the 8-byte version).
pub(crate) const MIC_AT: usize = 72;

/// A NEGOTIATE_MESSAGE: the flags the client offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiate {
    /// What the client offers.
    pub flags: NegotiateFlags,
}

impl Negotiate {
    const FIXED: usize = 32;

    /// Parse a NEGOTIATE_MESSAGE. Its domain and workstation fields (OEM hints) are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let r = Reader::new(bytes, NEGOTIATE, "NEGOTIATE", Self::FIXED)?;
        Ok(Self {
            flags: NegotiateFlags::from_bits(r.u32(12)?),
        })
    }

    /// The message, with a version structure when VERSION is among the flags.
    pub fn to_bytes(&self) -> Vec<u8> {
        let fixed = Self::FIXED
            + if self.flags.contains(NegotiateFlags::VERSION) {
                8
            } else {
                0
            };
        let mut w = Writer::new(NEGOTIATE, fixed, 0);
        w.put(12, &self.flags.bits().to_le_bytes());
        // DomainNameFields (16) and WorkstationFields (24): empty, offset at the payload.
        let end = u32::try_from(fixed).expect("small").to_le_bytes();
        w.put(20, &end);
        w.put(28, &end);
        if fixed > Self::FIXED {
            w.put(32, &VERSION);
        }
        w.finish()
    }
}

/// A CHALLENGE_MESSAGE: the server's nonce, the flags it settled on, and its target
/// information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The flags the server accepted.
    pub flags: NegotiateFlags,
    /// The 8-byte server challenge.
    pub server_challenge: [u8; 8],
    /// TargetName: the server's domain or name, as sent (UTF-16LE).
    pub target_name: Vec<u8>,
    /// The target information NTLMv2 responses cover.
    pub target_info: TargetInfo,
}

impl Challenge {
    const FIXED: usize = 48;

    /// Parse a CHALLENGE_MESSAGE. Its target information must be present (NTLMv2 needs it).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let r = Reader::new(bytes, CHALLENGE, "CHALLENGE", Self::FIXED)?;
        let flags = NegotiateFlags::from_bits(r.u32(20)?);
        let target_info = r.field(40, "TargetInfo")?;
        if target_info.is_empty() {
            return Err(invalid(
                "the CHALLENGE carries no target information: the server does not speak NTLMv2",
            ));
        }
        Ok(Self {
            flags,
            server_challenge: r.array(24)?,
            target_name: r.field(12, "TargetName")?.to_vec(),
            target_info: TargetInfo::parse(target_info)?,
        })
    }

    /// The message, with a version structure when VERSION is among the flags.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let fixed = Self::FIXED
            + if self.flags.contains(NegotiateFlags::VERSION) {
                8
            } else {
                0
            };
        let info = self.target_info.to_bytes();
        let mut w = Writer::new(CHALLENGE, fixed, self.target_name.len() + info.len());
        w.put(20, &self.flags.bits().to_le_bytes());
        w.put(24, &self.server_challenge);
        if fixed > Self::FIXED {
            w.put(48, &VERSION);
        }
        w.field(12, &self.target_name)?;
        w.field(40, &info)?;
        Ok(w.finish())
    }
}

/// An AUTHENTICATE_MESSAGE: the client's responses, names and encrypted session key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticate {
    /// The flags the client settled on.
    pub flags: NegotiateFlags,
    /// LmChallengeResponse (24 zero bytes when the server sent a timestamp).
    pub lm_response: Vec<u8>,
    /// NtChallengeResponse: NTProofStr, then the client's `temp` blob.
    pub nt_response: Vec<u8>,
    /// The user's domain.
    pub domain: String,
    /// The user's name.
    pub user: String,
    /// The client's workstation name.
    pub workstation: String,
    /// The session key, encrypted under the key-exchange key (KEY_EXCH), else empty.
    pub encrypted_session_key: Vec<u8>,
    /// The message integrity code, when the message has one.
    pub mic: Option<[u8; MIC_LEN]>,
}

impl Authenticate {
    const FIXED: usize = 64;
    const FIELDS: [usize; 6] = [12, 20, 28, 36, 44, 52];

    /// Parse an AUTHENTICATE_MESSAGE. Whether it has a MIC is for the caller to say (the
    /// NTLMv2 response's `MsvAvFlags` tells); with one, the payload must start after it.
    pub fn parse(bytes: &[u8], with_mic: bool) -> Result<Self, Error> {
        let r = Reader::new(bytes, AUTHENTICATE, "AUTHENTICATE", Self::FIXED)?;
        let flags = NegotiateFlags::from_bits(r.u32(60)?);
        if !flags.contains(NegotiateFlags::UNICODE) {
            return Err(invalid("the AUTHENTICATE does not use Unicode strings"));
        }
        let mic = if with_mic {
            if r.payload_start(&Self::FIELDS)? < MIC_AT + MIC_LEN {
                return Err(invalid(
                    "the AUTHENTICATE announces a MIC but its payload overlaps the MIC field",
                ));
            }
            Some(r.array(MIC_AT)?)
        } else {
            None
        };
        Ok(Self {
            flags,
            lm_response: r.field(12, "LmChallengeResponse")?.to_vec(),
            nt_response: r.field(20, "NtChallengeResponse")?.to_vec(),
            domain: from_utf16le(r.field(28, "DomainName")?, "DomainName")?,
            user: from_utf16le(r.field(36, "UserName")?, "UserName")?,
            workstation: from_utf16le(r.field(44, "Workstation")?, "Workstation")?,
            encrypted_session_key: r.field(52, "EncryptedRandomSessionKey")?.to_vec(),
            mic,
        })
    }

    /// The message, with the version structure and a MIC field (zeroed when `mic` is `None`,
    /// to be filled in once the MIC over the message is known).
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let fixed = MIC_AT + MIC_LEN;
        let names = 2 * (self.domain.len() + self.user.len() + self.workstation.len());
        let mut w = Writer::new(
            AUTHENTICATE,
            fixed,
            names + self.lm_response.len() + self.nt_response.len() + 16,
        );
        w.put(60, &self.flags.bits().to_le_bytes());
        if self.flags.contains(NegotiateFlags::VERSION) {
            w.put(64, &VERSION);
        }
        if let Some(mic) = &self.mic {
            w.put(MIC_AT, mic);
        }
        w.field(28, &crate::wire::utf16le(&self.domain))?;
        w.field(36, &crate::wire::utf16le(&self.user))?;
        w.field(44, &crate::wire::utf16le(&self.workstation))?;
        w.field(12, &self.lm_response)?;
        w.field(20, &self.nt_response)?;
        w.field(52, &self.encrypted_session_key)?;
        Ok(w.finish())
    }
}

#[cfg(test)]
pub(crate) mod tests;
