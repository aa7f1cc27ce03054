//! GSS-API initial context tokens (RFC 2743 §3.1) carrying Kerberos messages (RFC 4121 §4.1):
//!
//! ```text
//! InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {
//!         thisMech MechType,            -- 1.2.840.113554.1.2.2 for Kerberos V5
//!         innerContextToken ANY DEFINED BY thisMech
//! }
//! ```
//!
//! The Kerberos inner token is a two-byte TOK_ID (`01 00` AP-REQ, `02 00` AP-REP, `03 00`
//! KRB-ERROR) then the message. Microsoft's variant of the mechanism OID
//! (1.2.840.48018.1.2.2, which Windows puts in SPNEGO) is read as the same mechanism.

use sealstream::{Error, Status};

pub(crate) const TOK_AP_REQ: [u8; 2] = [0x01, 0x00];
pub(crate) const TOK_AP_REP: [u8; 2] = [0x02, 0x00];
pub(crate) const TOK_KRB_ERROR: [u8; 2] = [0x03, 0x00];

/// The DER of the Kerberos V5 mechanism OID, 1.2.840.113554.1.2.2.
const KRB5_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];
/// Microsoft's, 1.2.840.48018.1.2.2.
const MS_KRB5_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
];

/// `message` behind the TOK_ID `tok_id`, as an initial context token.
pub(crate) fn frame(tok_id: [u8; 2], message: &[u8]) -> Vec<u8> {
    let len = KRB5_OID.len() + 2 + message.len();
    let mut out = vec![0x60];
    // A DER length: short form below 128, else the count of length bytes then the length.
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(KRB5_OID);
    out.extend_from_slice(&tok_id);
    out.extend_from_slice(message);
    out
}

/// The TOK_ID and the message of an initial context token of the Kerberos mechanism.
pub(crate) fn unframe(token: &[u8]) -> Result<([u8; 2], &[u8]), Error> {
    let bad = |why: &str| {
        Error::new(
            Status::InvalidToken,
            format!("not a Kerberos GSS-API token: {why}"),
        )
    };
    let (&tag, rest) = token.split_first().ok_or_else(|| bad("empty"))?;
    if tag != 0x60 {
        return Err(bad(&format!("tag {tag:#04x}, not [APPLICATION 0]")));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| bad("no length"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(bad("a length of the wrong form"));
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes.iter().fold(0usize, |n, b| n << 8 | usize::from(*b));
        (len, rest)
    };
    if len != rest.len() {
        return Err(bad(&format!(
            "its length says {len} bytes and {} follow",
            rest.len()
        )));
    }
    let rest = rest
        .strip_prefix(KRB5_OID)
        .or_else(|| rest.strip_prefix(MS_KRB5_OID))
        .ok_or_else(|| bad("another mechanism"))?;
    let (tok_id, message) = rest
        .split_first_chunk::<2>()
        .ok_or_else(|| bad("no TOK_ID"))?;
    Ok((*tok_id, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_at_every_length_form() {
        for len in [0, 10, 200, 70_000] {
            let message = vec![0x42; len];
            let token = frame(TOK_AP_REQ, &message);
            assert_eq!(unframe(&token).unwrap(), (TOK_AP_REQ, &message[..]));
            // Cut short, or with a byte more, the length no longer matches.
            assert!(unframe(&token[..token.len() - 1]).is_err());
            assert!(unframe(&[&token[..], &[0]].concat()).is_err());
        }
        let mut ms = frame(TOK_AP_REP, b"x");
        ms[7] = 0x82;
        assert_eq!(unframe(&ms).unwrap(), (TOK_AP_REP, &b"x"[..]));
        let mut other = frame(TOK_AP_REP, b"x");
        other[12] = 0x03;
        assert!(unframe(&other).is_err());
    }
}
