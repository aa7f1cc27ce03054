//! SPNEGO's tokens (RFC 4178 §4.2) in DER:
//!
//! ```text
//! NegotiationToken ::= CHOICE {
//!     negTokenInit    [0] NegTokenInit,
//!     negTokenResp    [1] NegTokenResp
//! }
//! NegTokenInit ::= SEQUENCE {
//!     mechTypes       [0] MechTypeList,
//!     reqFlags        [1] ContextFlags  OPTIONAL,
//!     mechToken       [2] OCTET STRING  OPTIONAL,
//!     mechListMIC     [3] OCTET STRING  OPTIONAL,
//!     ...
//! }
//! NegTokenResp ::= SEQUENCE {
//!     negState       [0] ENUMERATED {
//!         accept-completed    (0),
//!         accept-incomplete   (1),
//!         reject              (2),
//!         request-mic         (3)
//!     }                                 OPTIONAL,
//!     supportedMech   [1] MechType      OPTIONAL,
//!     responseToken   [2] OCTET STRING  OPTIONAL,
//!     mechListMIC     [3] OCTET STRING  OPTIONAL,
//!     ...
//! }
//! ```
//!
//! The module's tags are explicit. The first token an initiator sends is a GSS-API initial
//! context token (RFC 2743 §3.1): `[APPLICATION 0]` around SPNEGO's OID and the
//! `negTokenInit`; the others are bare `NegotiationToken`s. The sequences are `der`'s (strict
//! DER, lengths checked before anything is allocated); the two outer wrappers are read and
//! written here.

use der::asn1::{BitString, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Enumerated, Length, Reader, Sequence, SliceReader};
use sealstream::{Error, Status};

use crate::oid::SPNEGO;

/// `negState`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[repr(u32)]
pub enum NegState {
    /// The acceptor is done; the context is established if the initiator is too.
    AcceptCompleted = 0,
    /// More tokens are needed.
    AcceptIncomplete = 1,
    /// The acceptor refuses every mechanism offered, or the exchange failed.
    Reject = 2,
    /// The acceptor asks for the initiator's mechListMIC.
    RequestMic = 3,
}

/// `NegTokenInit`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct NegTokenInit {
    /// The mechanisms offered, most preferred first.
    #[asn1(context_specific = "0")]
    pub mech_types: Vec<ObjectIdentifier>,
    /// Context flags (deprecated by RFC 4178; never sent here).
    #[asn1(context_specific = "1", optional = "true")]
    pub req_flags: Option<BitString>,
    /// The optimistic token of the first mechanism.
    #[asn1(context_specific = "2", optional = "true")]
    pub mech_token: Option<OctetString>,
    /// The MIC over `mech_types`.
    #[asn1(context_specific = "3", optional = "true")]
    pub mech_list_mic: Option<OctetString>,
}

/// `NegTokenResp`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence, Default)]
pub struct NegTokenResp {
    /// Where the negotiation stands.
    #[asn1(context_specific = "0", optional = "true")]
    pub neg_state: Option<NegState>,
    /// The mechanism the acceptor chose (in its first answer).
    #[asn1(context_specific = "1", optional = "true")]
    pub supported_mech: Option<ObjectIdentifier>,
    /// The chosen mechanism's token.
    #[asn1(context_specific = "2", optional = "true")]
    pub response_token: Option<OctetString>,
    /// The MIC over the initiator's `mechTypes`.
    #[asn1(context_specific = "3", optional = "true")]
    pub mech_list_mic: Option<OctetString>,
}

/// A token that does not parse: `SEC_E_INVALID_TOKEN`.
pub(crate) fn invalid(detail: impl std::fmt::Display) -> Error {
    Error::new(Status::InvalidToken, format!("SPNEGO: {detail}"))
}

/// An octet string for a token field.
pub(crate) fn octets(bytes: Vec<u8>) -> Result<OctetString, Error> {
    OctetString::new(bytes).map_err(|e| invalid(format!("a token too large to encode: {e}")))
}

/// The DER of `mechTypes`, what the mechListMIC covers (RFC 4178 §5).
pub fn mech_list_bytes(mech_types: &[ObjectIdentifier]) -> Result<Vec<u8>, Error> {
    mech_types
        .to_vec()
        .to_der()
        .map_err(|e| invalid(format!("encoding mechTypes: {e}")))
}

/// `tag`, its DER length, `value`.
fn tlv(tag: u8, value: &[u8]) -> Result<Vec<u8>, Error> {
    let len = Length::try_from(value.len())
        .map_err(|e| invalid(format!("a token of {} bytes: {e}", value.len())))?;
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    len.encode_to_vec(&mut out).map_err(invalid)?;
    out.extend_from_slice(value);
    Ok(out)
}

/// The value of the TLV that is all of `bytes`, if its tag is `tag`; the length is read as
/// DER (`der`'s decoder: the shortest form, checked against what follows).
fn untlv<'a>(tag: u8, bytes: &'a [u8], what: &str) -> Result<&'a [u8], Error> {
    let (&found, rest) = bytes
        .split_first()
        .ok_or_else(|| invalid(format!("an empty {what}")))?;
    if found != tag {
        return Err(invalid(format!(
            "{what} has tag {found:#04x}, not {tag:#04x}"
        )));
    }
    let mut reader = SliceReader::new(rest).map_err(|e| invalid(format!("{what}: {e}")))?;
    let len = Length::decode(&mut reader).map_err(|e| invalid(format!("{what}'s length: {e}")))?;
    let value = &rest[usize::try_from(reader.position()).expect("a few bytes")..];
    if usize::try_from(len).ok() != Some(value.len()) {
        return Err(invalid(format!(
            "{what} says {len} bytes and {} follow",
            value.len()
        )));
    }
    Ok(value)
}

impl NegTokenInit {
    /// The initiator's first token: `[APPLICATION 0] { SPNEGO, [0] NegTokenInit }`.
    pub fn to_initial_token(&self) -> Result<Vec<u8>, Error> {
        let inner = self
            .to_der()
            .map_err(|e| invalid(format!("encoding negTokenInit: {e}")))?;
        let mut body = SPNEGO.to_der().map_err(invalid)?;
        body.extend_from_slice(&tlv(0xa0, &inner)?);
        tlv(0x60, &body)
    }

    /// Read an initiator's first token (the GSS-API framing, or a bare `[0]` choice).
    pub fn from_initial_token(token: &[u8]) -> Result<Self, Error> {
        let choice = match token.first() {
            Some(0x60) => {
                let body = untlv(0x60, token, "the initial context token")?;
                let oid_len =
                    usize::from(*body.get(1).ok_or_else(|| invalid("a short token"))?) + 2;
                let oid = body
                    .get(..oid_len)
                    .ok_or_else(|| invalid("a short token"))?;
                if ObjectIdentifier::from_der(oid).ok() != Some(SPNEGO) {
                    return Err(invalid("the initial context token is not SPNEGO's"));
                }
                &body[oid_len..]
            }
            _ => token,
        };
        let inner = untlv(0xa0, choice, "negTokenInit")?;
        Self::from_der(inner).map_err(|e| invalid(format!("negTokenInit: {e}")))
    }
}

impl NegTokenResp {
    /// The token: `[1] NegTokenResp`.
    pub fn to_token(&self) -> Result<Vec<u8>, Error> {
        let inner = self
            .to_der()
            .map_err(|e| invalid(format!("encoding negTokenResp: {e}")))?;
        tlv(0xa1, &inner)
    }

    /// Read a `[1] NegTokenResp`.
    pub fn from_token(token: &[u8]) -> Result<Self, Error> {
        let inner = untlv(0xa1, token, "negTokenResp")?;
        Self::from_der(inner).map_err(|e| invalid(format!("negTokenResp: {e}")))
    }

    /// The response token's bytes, if any.
    pub fn response(&self) -> Option<&[u8]> {
        self.response_token.as_ref().map(OctetString::as_bytes)
    }

    /// The mechListMIC's bytes, if any.
    pub fn mic(&self) -> Option<&[u8]> {
        self.mech_list_mic.as_ref().map(OctetString::as_bytes)
    }
}

#[cfg(test)]
mod tests;
