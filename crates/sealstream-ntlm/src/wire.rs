//! The parts every NTLM message shares (MS-NLMP §2.2): the `NTLMSSP\0` signature and message
//! type, little-endian integers, and the 8-byte fields (length, maximum length, offset) that
//! point into the message's payload.
//!
//! Reading checks every field against the message's end before it is sliced, so a field that
//! points outside the message is `SEC_E_INVALID_TOKEN`, never a panic. Writing lays the fixed
//! header first and appends each field's bytes to the payload behind it.

use sealstream::{Error, Status};

/// `NTLMSSP\0`, the first eight bytes of every message.
pub(crate) const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// MessageType of a NEGOTIATE_MESSAGE.
pub(crate) const NEGOTIATE: u32 = 1;
/// MessageType of a CHALLENGE_MESSAGE.
pub(crate) const CHALLENGE: u32 = 2;
/// MessageType of an AUTHENTICATE_MESSAGE.
pub(crate) const AUTHENTICATE: u32 = 3;

/// The version structure this crate sends when VERSION is negotiated (§2.2.2.10): 10.0, build
/// 0, and NTLMSSP_REVISION_W2K3 (15), the only revision in use.
pub(crate) const VERSION: [u8; 8] = [10, 0, 0, 0, 0, 0, 0, 15];

/// An invalid message: `SEC_E_INVALID_TOKEN` with what was wrong.
pub(crate) fn invalid(detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(Status::InvalidToken, detail)
}

/// A received message, checked to be of one type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    name: &'static str,
}

impl<'a> Reader<'a> {
    /// `bytes` as a message of `message_type`, at least `fixed` bytes long.
    pub(crate) fn new(
        bytes: &'a [u8],
        message_type: u32,
        name: &'static str,
        fixed: usize,
    ) -> Result<Self, Error> {
        if bytes.len() < 12 || &bytes[..8] != SIGNATURE {
            return Err(invalid(format!("not an NTLM message (expected a {name})")));
        }
        let reader = Self { bytes, name };
        let found = reader.u32(8)?;
        if found != message_type {
            return Err(invalid(format!(
                "expected an NTLM {name}, got message type {found}"
            )));
        }
        if bytes.len() < fixed {
            return Err(invalid(format!(
                "NTLM {name} of {} bytes is shorter than its {fixed}-byte header",
                bytes.len()
            )));
        }
        Ok(reader)
    }

    /// The little-endian u16 at `at`.
    pub(crate) fn u16(&self, at: usize) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.array(at)?))
    }

    /// The little-endian u32 at `at`.
    pub(crate) fn u32(&self, at: usize) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array(at)?))
    }

    /// The `N` bytes at `at`.
    pub(crate) fn array<const N: usize>(&self, at: usize) -> Result<[u8; N], Error> {
        at.checked_add(N)
            .and_then(|end| self.bytes.get(at..end))
            .map(|s| s.try_into().expect("N bytes"))
            .ok_or_else(|| invalid(format!("NTLM {} ends at byte {at}", self.name)))
    }

    /// The payload bytes the field descriptor at `at` points to (§2.2.1.1: Len, MaxLen,
    /// BufferOffset). An empty field may point anywhere.
    pub(crate) fn field(&self, at: usize, field: &str) -> Result<&'a [u8], Error> {
        let len = usize::from(self.u16(at)?);
        let offset = self.u32(at + 4)? as usize;
        if len == 0 {
            return Ok(&[]);
        }
        offset
            .checked_add(len)
            .and_then(|end| self.bytes.get(offset..end))
            .ok_or_else(|| {
                invalid(format!(
                    "NTLM {} field {field} ({len} bytes at {offset}) lies outside the {}-byte \
                     message",
                    self.name,
                    self.bytes.len()
                ))
            })
    }

    /// Where the payload can start at the earliest: the lowest offset of the non-empty fields
    /// at `fields`, or the message's end.
    pub(crate) fn payload_start(&self, fields: &[usize]) -> Result<usize, Error> {
        let mut start = self.bytes.len();
        for &at in fields {
            if self.u16(at)? != 0 {
                start = start.min(self.u32(at + 4)? as usize);
            }
        }
        Ok(start)
    }
}

/// A message under construction: a fixed header, then the payload its fields point into.
#[derive(Debug)]
pub(crate) struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// A message of `message_type` whose fixed header is `fixed` bytes (zeroed).
    pub(crate) fn new(message_type: u32, fixed: usize, capacity: usize) -> Self {
        let mut bytes = Vec::with_capacity(fixed + capacity);
        bytes.extend_from_slice(SIGNATURE);
        bytes.extend_from_slice(&message_type.to_le_bytes());
        bytes.resize(fixed, 0);
        Self { bytes }
    }

    /// Write `value` at `at` in the header.
    pub(crate) fn put(&mut self, at: usize, value: &[u8]) {
        self.bytes[at..at + value.len()].copy_from_slice(value);
    }

    /// Append `data` to the payload and point the field descriptor at `at` to it.
    pub(crate) fn field(&mut self, at: usize, data: &[u8]) -> Result<(), Error> {
        let len = u16::try_from(data.len()).map_err(|_| {
            Error::new(
                Status::InvalidParameter,
                format!("an NTLM field of {} bytes is over 65535", data.len()),
            )
        })?;
        let offset = u32::try_from(self.bytes.len()).expect("messages are small");
        self.put(at, &len.to_le_bytes());
        self.put(at + 2, &len.to_le_bytes());
        self.put(at + 4, &offset.to_le_bytes());
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    /// The message.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// `s` in UTF-16LE, as NTLM carries strings once UNICODE is negotiated.
pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A UTF-16LE string from the wire; unpaired surrogates are replaced, an odd length refused.
pub(crate) fn from_utf16le(bytes: &[u8], what: &str) -> Result<String, Error> {
    if bytes.len() % 2 != 0 {
        return Err(invalid(format!(
            "{what} is {} bytes, not UTF-16",
            bytes.len()
        )));
    }
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    Ok(char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_pointing_past_the_end_is_an_invalid_token() {
        let mut w = Writer::new(CHALLENGE, 56, 0);
        w.field(12, b"abcd").unwrap();
        let mut bytes = w.finish();
        let r = Reader::new(&bytes, CHALLENGE, "CHALLENGE", 56).unwrap();
        assert_eq!(r.field(12, "TargetName").unwrap(), b"abcd");
        bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        let r = Reader::new(&bytes, CHALLENGE, "CHALLENGE", 56).unwrap();
        let err = r.field(12, "TargetName").unwrap_err();
        assert_eq!(err.status(), Status::InvalidToken);
        assert!(err.detail().contains("TargetName"), "{err}");
    }

    #[test]
    fn wrong_signature_type_and_length_are_named() {
        let w = Writer::new(NEGOTIATE, 32, 0).finish();
        let e = Reader::new(&w, CHALLENGE, "CHALLENGE", 56).unwrap_err();
        assert!(e.detail().contains("message type 1"), "{e}");
        let e = Reader::new(&w[..20], NEGOTIATE, "NEGOTIATE", 32).unwrap_err();
        assert!(e.detail().contains("shorter"), "{e}");
        let e = Reader::new(b"NTLMSSX\0\x01\0\0\0", NEGOTIATE, "NEGOTIATE", 12).unwrap_err();
        assert!(e.detail().contains("not an NTLM message"), "{e}");
    }

    #[test]
    fn utf16_round_trips_and_odd_lengths_are_refused() {
        assert_eq!(from_utf16le(&utf16le("Dömain"), "x").unwrap(), "Dömain");
        assert!(from_utf16le(b"abc", "UserName").is_err());
    }
}
