//! One contiguous `header | payload | trailer` record buffer, sealed in place.
//!
//! SSPI asks for STREAM_HEADER, DATA and STREAM_TRAILER buffers "from contiguous memory" for
//! performance. [`RecordMut`] is that: user bytes are copied once into the payload region (by
//! the stream, or by the sealer while it reads them: `Seal::seal_copying`), the sealer writes
//! the header, encrypts the payload where it lies and writes the trailer after it, and the
//! whole record goes to the transport from the same memory.

use std::ops::Range;

use crate::{Error, Status};

/// A mutable view of one record under construction: `header_len` bytes of header, `payload_len`
/// bytes of payload, and the rest of the buffer available for the trailer.
#[derive(Debug)]
pub struct RecordMut<'a> {
    buf: &'a mut [u8],
    header_len: usize,
    payload_len: usize,
}

impl<'a> RecordMut<'a> {
    /// A record over `buf` whose payload is `buf[header_len..header_len + payload_len]`.
    ///
    /// Fails with `SEC_E_BUFFER_TOO_SMALL` if `buf` cannot hold header and payload.
    pub fn new(buf: &'a mut [u8], header_len: usize, payload_len: usize) -> Result<Self, Error> {
        match header_len.checked_add(payload_len) {
            Some(n) if n <= buf.len() => Ok(Self {
                buf,
                header_len,
                payload_len,
            }),
            _ => Err(Error::new(
                Status::BufferTooSmall,
                format!(
                    "record buffer of {} bytes cannot hold a {header_len}-byte header and a \
                     {payload_len}-byte payload",
                    buf.len()
                ),
            )),
        }
    }

    /// Length of the header region.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Length of the payload.
    pub fn payload_len(&self) -> usize {
        self.payload_len
    }

    /// Room after the payload for the trailer.
    pub fn trailer_capacity(&self) -> usize {
        self.buf.len() - self.header_len - self.payload_len
    }

    /// Where the payload lies inside [`as_mut_slice`](Self::as_mut_slice).
    pub fn payload_range(&self) -> Range<usize> {
        self.header_len..self.header_len + self.payload_len
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.buf[self.payload_range()]
    }

    /// The header region, to be written by the sealer.
    pub fn header_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.header_len]
    }

    /// The payload, to be encrypted in place.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.buf[range]
    }

    /// Header, payload and trailer room as three disjoint slices.
    pub fn split_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let (header, rest) = self.buf.split_at_mut(self.header_len);
        let (payload, trailer) = rest.split_at_mut(self.payload_len);
        (header, payload, trailer)
    }

    /// The whole buffer, for sealers whose encryption spans payload and trailer (TLS 1.3 encrypts
    /// the inner content type that follows the payload).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.buf
    }

    /// Check a length returned by a sealer: at least header and payload, at most the buffer.
    pub(crate) fn check_sealed_len(len: usize, min: usize, buf_len: usize) -> Result<usize, Error> {
        if len < min || len > buf_len {
            return Err(Error::new(
                Status::InternalError,
                format!(
                    "sealer returned a record of {len} bytes; it must lie between {min} and the \
                     buffer's {buf_len}"
                ),
            ));
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        let mut buf = [0u8; 10];
        let mut r = RecordMut::new(&mut buf, 2, 5).unwrap();
        assert_eq!(r.trailer_capacity(), 3);
        r.payload_mut().copy_from_slice(b"hello");
        let (h, p, t) = r.split_mut();
        assert_eq!((h.len(), &p[..], t.len()), (2, &b"hello"[..], 3));
        assert_eq!(r.payload(), b"hello");
        assert!(RecordMut::check_sealed_len(10, 7, 10).is_ok());
        assert!(RecordMut::check_sealed_len(11, 7, 10).is_err());
        assert!(RecordMut::check_sealed_len(6, 7, 10).is_err());
    }

    #[test]
    fn too_small() {
        let mut buf = [0u8; 4];
        let err = RecordMut::new(&mut buf, 2, 5).unwrap_err();
        assert_eq!(err.status(), Status::BufferTooSmall);
        assert!(RecordMut::new(&mut buf, usize::MAX, 5).is_err());
    }
}
