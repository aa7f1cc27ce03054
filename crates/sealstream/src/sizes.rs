//! Stream sizes: the answer to `QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES)`.

/// The sizes of a seal half's records, like SSPI's `SecPkgContext_StreamSizes`.
///
/// `header` is exact: every record starts with that many bytes, so the payload region of a record
/// buffer is at a fixed offset and user bytes are copied there once. `trailer` is a maximum; each
/// seal call reports the record's actual length. `max_message` is the largest payload one record
/// carries (for SASL it follows from the peer's maxbuf).
///
/// Built with [`StreamSizes::new`]; more sizes may join these, so the struct cannot be written
/// as a literal outside this crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct StreamSizes {
    /// `cbHeader`: bytes before the payload.
    pub header: usize,
    /// `cbTrailer`: the most bytes after the payload.
    pub trailer: usize,
    /// `cbMaximumMessage`: the largest payload of one record.
    pub max_message: usize,
    /// `cbBlockSize`: the cipher's block size, 1 for stream ciphers and AEADs.
    pub block_size: usize,
}

impl StreamSizes {
    /// Sizes of `header` bytes before the payload, at most `trailer` after it, payloads of at
    /// most `max_message` bytes, and cipher blocks of `block_size` bytes (1 for stream ciphers
    /// and AEADs).
    pub const fn new(header: usize, trailer: usize, max_message: usize, block_size: usize) -> Self {
        Self {
            header,
            trailer,
            max_message,
            block_size,
        }
    }

    /// The largest sealed record: header, a full payload, and the largest trailer.
    pub const fn max_record(&self) -> usize {
        self.header + self.max_message + self.trailer
    }

    /// The length of a buffer that holds a record of `payload` bytes at most.
    pub const fn record_len(&self, payload: usize) -> usize {
        self.header + payload + self.trailer
    }
}
