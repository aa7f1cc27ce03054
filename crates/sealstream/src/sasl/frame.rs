//! The RFC 4422 §3.7 frame: a four-octet big-endian length, then that many octets.

use std::ops::Range;

use crate::{Error, Status};

/// Length of the frame header.
pub const LENGTH_LEN: usize = 4;

/// The largest frame we send, even to a peer that accepts more (or announces 0, "no limit").
/// Smaller frames are always allowed; this bounds our record buffer.
pub const MAX_SEND_FRAME: usize = 64 * 1024;

/// What the start of an input holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The header or body is not all there yet; `missing` more bytes complete the frame (or at
    /// least its header, when the length is not known yet).
    Incomplete {
        /// Bytes still needed.
        missing: usize,
    },
    /// A whole frame; its body (the wrapped token) is `input[body]`.
    Complete {
        /// Where the token lies in the input.
        body: Range<usize>,
    },
}

impl Frame {
    /// Bytes the frame takes in the input: header and body.
    pub fn total_len(&self) -> Option<usize> {
        match self {
            Frame::Incomplete { .. } => None,
            Frame::Complete { body } => Some(body.end),
        }
    }
}

// RFC 4422 §3.7: "Each buffer of protected data is transferred over the underlying transport
// connection as a sequence of octets prepended with a four-octet field in network byte order that
// represents the length of the buffer. The length of the protected data buffer MUST be no larger
// than the maximum size that the other side expects. Upon the receipt of a length field whose
// value is greater than the maximum size that the receiver expects, the receiver SHOULD close the
// connection, as the sender is in violation of this specification."
/// Parse the frame at the start of `input`, refusing a length above `max_len` (our maxbuf) from
/// the header alone, with `SEC_E_ILLEGAL_MESSAGE`.
pub fn parse_frame(input: &[u8], max_len: usize) -> Result<Frame, Error> {
    let Some(header) = input.first_chunk::<LENGTH_LEN>() else {
        return Ok(Frame::Incomplete {
            missing: LENGTH_LEN - input.len(),
        });
    };
    let len = u32::from_be_bytes(*header) as usize;
    if len > max_len {
        return Err(Error::new(
            Status::IllegalMessage,
            format!("SASL frame of {len} bytes exceeds our maxbuf of {max_len}"),
        ));
    }
    let total = LENGTH_LEN + len;
    if input.len() < total {
        return Ok(Frame::Incomplete {
            missing: total - input.len(),
        });
    }
    Ok(Frame::Complete {
        body: LENGTH_LEN..total,
    })
}

/// The four header bytes for a body of `len` bytes.
///
/// # Panics
/// Never for lengths this crate produces (at most [`MAX_SEND_FRAME`]); a length above `u32::MAX`
/// is a caller bug.
pub fn encode_len(len: usize) -> [u8; LENGTH_LEN] {
    u32::try_from(len)
        .expect("SASL frame length fits in 32 bits")
        .to_be_bytes()
}

/// The largest frame body to send to a peer that announced `peer_maxbuf`: the announced value,
/// with 0 read as "no limit" (as FreeIPA announces it and other clients treat it), and never more
/// than [`MAX_SEND_FRAME`].
pub fn send_limit(peer_maxbuf: u32) -> usize {
    match peer_maxbuf {
        0 => MAX_SEND_FRAME,
        n => (n as usize).min(MAX_SEND_FRAME),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_headers_wait() {
        for n in 0..LENGTH_LEN {
            let input = vec![0u8; n];
            assert_eq!(
                parse_frame(&input, 100).unwrap(),
                Frame::Incomplete {
                    missing: LENGTH_LEN - n
                }
            );
        }
    }

    #[test]
    fn partial_body_reports_missing() {
        let mut input = encode_len(10).to_vec();
        input.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            parse_frame(&input, 100).unwrap(),
            Frame::Incomplete { missing: 7 }
        );
    }

    #[test]
    fn complete_frame_with_extra() {
        let mut input = encode_len(3).to_vec();
        input.extend_from_slice(b"abcXY");
        let frame = parse_frame(&input, 3).unwrap();
        assert_eq!(frame, Frame::Complete { body: 4..7 });
        assert_eq!(frame.total_len(), Some(7));
    }

    #[test]
    fn oversize_refused_from_header() {
        let input = encode_len(101);
        let err = parse_frame(&input, 100).unwrap_err();
        assert_eq!(err.status(), Status::IllegalMessage);
        let err = parse_frame(&u32::MAX.to_be_bytes(), 65536).unwrap_err();
        assert!(err.detail().contains("4294967295"));
    }

    #[test]
    fn send_limits() {
        assert_eq!(send_limit(0), MAX_SEND_FRAME);
        assert_eq!(send_limit(1024), 1024);
        assert_eq!(send_limit(u32::MAX), MAX_SEND_FRAME);
    }
}
