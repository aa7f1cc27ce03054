//! A reader over the big-endian fields of MIT's file formats (keytabs and credential caches),
//! which names the file and the byte where a field runs short or makes no sense.
//!
//! Every length is checked against what is left before anything is taken or allocated, so a
//! length field cannot make a reader reserve more memory than the file holds.

use sealstream::{Error, Status};

/// A position in one file's bytes, or in one part of them.
pub(crate) struct FileReader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Where `bytes` starts in the file, for the offsets errors name.
    base: usize,
    /// The file's kind, as errors name it ("keytab", "credential cache").
    file: &'static str,
    /// What running short means here ("an entry ends before its fields do").
    short: &'static str,
}

impl<'a> FileReader<'a> {
    pub(crate) fn new(
        bytes: &'a [u8],
        base: usize,
        file: &'static str,
        short: &'static str,
    ) -> Self {
        Self {
            bytes,
            at: 0,
            base,
            file,
            short,
        }
    }

    /// The offset in the file of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.at
    }

    /// How many bytes are left.
    pub(crate) fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// An error at the next byte.
    pub(crate) fn error(&self, why: &str) -> Error {
        malformed(self.file, self.offset(), why)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.left() {
            return Err(self.error(self.short));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Bytes after a 16-bit length (a keytab's `counted_octet_string`).
    pub(crate) fn counted16(&mut self) -> Result<&'a [u8], Error> {
        let len = usize::from(self.u16()?);
        self.take(len)
    }

    /// Bytes after a 32-bit length (a credential cache's `data`).
    pub(crate) fn counted32(&mut self) -> Result<&'a [u8], Error> {
        let len = self.u32()?;
        if usize::try_from(len).map_or(true, |len| len > self.left()) {
            return Err(self.error(&format!(
                "a field of {len} bytes where {} are left",
                self.left()
            )));
        }
        self.take(len as usize)
    }

    /// A name (principal component or realm) from `bytes`, which must be UTF-8.
    pub(crate) fn text(&self, bytes: &[u8], at: usize) -> Result<String, Error> {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| malformed(self.file, at, "a name that is not UTF-8"))
    }

    /// A name after a 16-bit length.
    pub(crate) fn string16(&mut self) -> Result<String, Error> {
        let at = self.offset();
        let bytes = self.counted16()?;
        self.text(bytes, at)
    }

    /// A name after a 32-bit length.
    pub(crate) fn string32(&mut self) -> Result<String, Error> {
        let at = self.offset();
        let bytes = self.counted32()?;
        self.text(bytes, at)
    }
}

/// `SEC_E_INVALID_TOKEN` naming the file's kind and the byte.
pub(crate) fn malformed(file: &str, at: usize, why: &str) -> Error {
    Error::new(Status::InvalidToken, format!("{file} byte {at}: {why}"))
}
