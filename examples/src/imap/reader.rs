//! Reading whole responses: lines ended by CRLF, and the literals a line announces at its end
//! (RFC 3501 §4.3: `{N}` CRLF, then exactly N bytes, then the line goes on).
//!
//! The reader never reads past the response it returns: what the server sent after it stays in
//! the reader's buffer, so a client switching the connection to TLS or to a SASL layer after a
//! tagged OK hands those bytes on ([`ResponseReader::take_buffered`]) instead of losing them or
//! reading them as clear text.
//!
//! A hostile or broken server costs what it sends: a line without CRLF is refused past
//! [`Limits::max_line`], a literal's announced size is checked against
//! [`Limits::max_response`] before any byte of it is read, and a response holds at most
//! [`MAX_LITERALS`]; memory for a literal grows with the bytes that arrive, never with the size
//! announced. Consumed bytes are skipped with an offset, not moved: the buffer is compacted once
//! per read from the connection, whatever the number of lines in it.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::response::Response;

/// How much one response may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line (between literals), CRLF excluded.
    pub max_line: usize,
    /// The most bytes of one response: its lines and literals together.
    pub max_response: usize,
}

impl Default for Limits {
    /// Lines of up to 64 KiB; responses of up to 64 MiB (a message fetched whole).
    fn default() -> Self {
        Self {
            max_line: 64 * 1024,
            max_response: 64 * 1024 * 1024,
        }
    }
}

/// Bytes asked of the connection per read.
const READ_CHUNK: usize = 16 * 1024;

/// The most literals one response may carry: a FETCH of a few body parts has a handful, and
/// each costs more to keep than its `{0}` marker costs to send.
pub const MAX_LITERALS: usize = 1024;

/// Reads responses from a connection, one at a time.
#[derive(Debug, Default)]
pub struct ResponseReader {
    buf: Vec<u8>,
    /// Where the bytes not yet returned start in `buf`.
    start: usize,
    /// How far `buf` is known to hold no CRLF (so a long line is scanned once).
    scanned: usize,
    limits: Limits,
}

impl ResponseReader {
    /// A reader with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A reader with `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The bytes received after the last response returned, handed over (the reader is empty
    /// afterwards).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.buf.drain(..self.start);
        self.start = 0;
        self.scanned = 0;
        std::mem::take(&mut self.buf)
    }

    /// How many bytes received after the last response wait in the reader.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole response from `io`.
    ///
    /// Errors: `UnexpectedEof` when the connection ends before the response does (inside a
    /// line or a literal: the message says which, and how much arrived); `InvalidData` for a
    /// line or response over the limits.
    pub async fn read<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> io::Result<Response> {
        let mut line = Vec::new();
        let mut literals = Vec::new();
        let mut total = 0usize;
        loop {
            let segment_start = line.len();
            self.read_line(io, &mut line).await?;
            total += line.len() - segment_start;
            let Some(len) = literal_length(&line[segment_start..]) else {
                return Ok(Response::new(line, literals));
            };
            if literals.len() == MAX_LITERALS {
                return Err(invalid(format!(
                    "the server sent more than {MAX_LITERALS} literals in one response"
                )));
            }
            let len = usize::try_from(len)
                .ok()
                .filter(|&len| total.saturating_add(len) <= self.limits.max_response)
                .ok_or_else(|| {
                    invalid(format!(
                        "the server announced a literal of {len} bytes: more than this client \
                         accepts in one response ({} bytes)",
                        self.limits.max_response
                    ))
                })?;
            total += len;
            let literal = self.read_literal(io, len).await?;
            literals.push((line.len(), literal));
        }
    }

    /// Append the next line, CRLF removed, to `line` (empty when a response starts, for the
    /// message when the connection ends).
    async fn read_line<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        line: &mut Vec<u8>,
    ) -> io::Result<()> {
        let first = line.is_empty();
        loop {
            let from = self.scanned.max(self.start);
            if let Some(at) = self.buf[from..].windows(2).position(|pair| pair == b"\r\n") {
                let end = from + at;
                if end - self.start > self.limits.max_line {
                    return Err(self.line_too_long());
                }
                line.extend_from_slice(&self.buf[self.start..end]);
                self.start = end + 2;
                self.scanned = self.start;
                return Ok(());
            }
            // The last byte may be the CR of a CRLF still to come.
            self.scanned = self.buf.len().saturating_sub(1).max(self.start);
            if self.scanned - self.start > self.limits.max_line {
                return Err(self.line_too_long());
            }
            if self.fill(io).await? == 0 {
                let what = if first && self.buffered() == 0 {
                    "the server closed the connection".to_owned()
                } else {
                    format!(
                        "the server closed the connection in the middle of a response line \
                         ({} bytes without its CRLF)",
                        self.buffered()
                    )
                };
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, what));
            }
        }
    }

    /// The `len` bytes of a literal: those already buffered, then what arrives.
    async fn read_literal<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        len: usize,
    ) -> io::Result<Vec<u8>> {
        let buffered = len.min(self.buffered());
        let mut literal = Vec::with_capacity(buffered.max(len.min(READ_CHUNK)));
        literal.extend_from_slice(&self.buf[self.start..self.start + buffered]);
        self.start += buffered;
        self.scanned = self.start;
        while literal.len() < len {
            let want = (len - literal.len()).min(READ_CHUNK);
            let start = literal.len();
            literal.resize(start + want, 0);
            let n = io.read(&mut literal[start..]).await?;
            literal.truncate(start + n);
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the server closed the connection inside a literal of {len} bytes \
                         ({start} arrived)"
                    ),
                ));
            }
        }
        Ok(literal)
    }

    /// Read what the connection has into the buffer; the number of bytes (0 at its end). What
    /// was returned already is dropped from the buffer first: one move of the unread rest (at
    /// most a line's worth) per read.
    async fn fill<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        let result = io.read(&mut self.buf[start..]).await;
        self.buf.truncate(start + *result.as_ref().unwrap_or(&0));
        result
    }

    fn line_too_long(&self) -> io::Error {
        invalid(format!(
            "the server sent a response line over {} bytes",
            self.limits.max_line
        ))
    }
}

/// The length a line announces with a literal marker at its end: `{N}`, or `~{N}` (RFC 3516
/// literal8).
fn literal_length(line: &[u8]) -> Option<u64> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use sealstream_testkit::mock_io::{ChunkedIo, scripted};

    use super::*;

    /// Every response of the bytes `chunks` hold, each read returning at most one chunk and
    /// every other read `Pending` first; the reader's buffered bytes after the first error.
    async fn read_all(chunks: &[&[u8]], limits: Limits) -> (Vec<io::Result<Response>>, Vec<u8>) {
        let chunks: Vec<&[u8]> = chunks.iter().copied().filter(|c| !c.is_empty()).collect();
        let sizes = chunks.iter().map(|c| c.len()).chain([usize::MAX]).collect();
        let mut io = ChunkedIo::new(scripted(chunks.concat()), sizes, vec![1], vec![true, false]);
        let mut reader = ResponseReader::with_limits(limits);
        let mut out = Vec::new();
        loop {
            let result = reader.read(&mut io).await;
            let end = result.is_err();
            out.push(result);
            if end {
                return (out, reader.take_buffered());
            }
        }
    }

    #[tokio::test]
    async fn responses_with_literals_split_anywhere() {
        let wire =
            b"* 1 FETCH (UID 9 BODY[] {12}\r\nhello\r\nworld)\r\na1 OK done\r\n\x00\x00\x00\x10";
        // Every way of cutting the bytes in two, and byte by byte.
        for cut in 0..wire.len() {
            let (responses, rest) =
                read_all(&[&wire[..cut], &wire[cut..]], Limits::default()).await;
            assert_eq!(responses.len(), 3, "cut at {cut}");
            let fetch = responses[0].as_ref().unwrap();
            assert_eq!(fetch.line(), b"* 1 FETCH (UID 9 BODY[] {12})");
            assert_eq!(fetch.literals().collect::<Vec<_>>(), [b"hello\r\nworld"]);
            assert_eq!(responses[1].as_ref().unwrap().line(), b"a1 OK done");
            // What follows the last response stays in the reader (a layer's first bytes).
            assert!(rest.is_empty() || wire.ends_with(&rest), "cut at {cut}");
            let err = responses[2].as_ref().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        }
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        let (responses, _) = read_all(&bytes, Limits::default()).await;
        assert_eq!(responses[0].as_ref().unwrap().literals().count(), 1);
    }

    #[tokio::test]
    async fn bytes_after_a_response_are_handed_over() {
        let mut io = scripted(b"a2 OK go\r\n\x00\x00\x00\x04abcd".to_vec());
        let mut reader = ResponseReader::new();
        let ok = reader.read(&mut io).await.unwrap();
        assert_eq!(ok.line(), b"a2 OK go");
        assert_eq!(reader.buffered(), 8);
        assert_eq!(reader.take_buffered(), b"\x00\x00\x00\x04abcd");
        assert_eq!(reader.buffered(), 0);
    }

    #[tokio::test]
    async fn a_truncated_literal_says_how_much_arrived() {
        let (responses, _) = read_all(
            &[b"* 1 FETCH (BODY[] {100}\r\n", b"0123456789"],
            Limits::default(),
        )
        .await;
        let err = responses[0].as_ref().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(
            err.to_string()
                .contains("inside a literal of 100 bytes (10 arrived)"),
            "{err}"
        );
        let (responses, _) = read_all(&[b"* OK no end"], Limits::default()).await;
        let err = responses[0].as_ref().unwrap_err();
        assert!(
            err.to_string().contains("middle of a response line"),
            "{err}"
        );
        let (responses, _) = read_all(&[], Limits::default()).await;
        let err = responses[0].as_ref().unwrap_err();
        assert_eq!(err.to_string(), "the server closed the connection");
    }

    #[tokio::test]
    async fn limits_are_checked_before_the_bytes_arrive() {
        let limits = Limits {
            max_line: 32,
            max_response: 1000,
        };
        // A literal announced over the limit is refused from its marker alone.
        let (responses, _) = read_all(&[b"* 1 FETCH (BODY[] {1001}\r\n"], limits).await;
        let err = responses[0].as_ref().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("1001 bytes"), "{err}");
        // So is an absurd one.
        let (responses, _) =
            read_all(&[b"* 1 FETCH (BODY[] {99999999999999999999}\r\n"], limits).await;
        assert!(responses[0].is_err());
        // A line without CRLF is refused once it passes the limit, not at the end of input.
        let long = vec![b'x'; 40];
        let (responses, _) = read_all(&[&long, &long, &long], limits).await;
        let err = responses[0].as_ref().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // Exactly the limit is fine.
        let mut line = vec![b'y'; 32];
        line.extend_from_slice(b"\r\n");
        let (responses, _) = read_all(&[&line], limits).await;
        assert_eq!(responses[0].as_ref().unwrap().line().len(), 32);
    }

    #[tokio::test]
    async fn a_flood_of_small_lines_is_read_in_one_pass() {
        // 300,000 responses of 9 bytes, in reads of up to 1 MiB: each comes back, and nothing
        // of them stays buffered.
        let flood = b"* 1 FOO\r\n".repeat(300_000);
        let mut io = ChunkedIo::new(scripted(flood), vec![1 << 20], vec![1], vec![]);
        let mut reader = ResponseReader::new();
        for _ in 0..300_000 {
            assert_eq!(reader.read(&mut io).await.unwrap().line(), b"* 1 FOO");
        }
        assert_eq!(reader.buffered(), 0);
        assert_eq!(
            reader.read(&mut io).await.unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }

    #[tokio::test]
    async fn a_response_of_endless_empty_literals_is_refused() {
        let mut wire = b"* 1 FETCH (X".to_vec();
        for _ in 0..=MAX_LITERALS {
            wire.extend_from_slice(b" {0}\r\n");
        }
        wire.extend_from_slice(b")\r\n");
        let (responses, _) = read_all(&[&wire], Limits::default()).await;
        let err = responses[0].as_ref().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().contains("literals in one response"),
            "{err}"
        );
        // Exactly the limit is a response.
        let mut wire = b"* 1 FETCH (X".to_vec();
        for _ in 0..MAX_LITERALS {
            wire.extend_from_slice(b" {0}\r\n");
        }
        wire.extend_from_slice(b")\r\n");
        let (responses, _) = read_all(&[&wire], Limits::default()).await;
        assert_eq!(
            responses[0].as_ref().unwrap().literals().count(),
            MAX_LITERALS
        );
    }

    #[test]
    fn literal_markers() {
        assert_eq!(literal_length(b"* 1 FETCH (BODY[] {12}"), Some(12));
        assert_eq!(literal_length(b"* 1 FETCH (BINARY[] ~{3}"), Some(3));
        assert_eq!(literal_length(b"* OK {}"), None);
        assert_eq!(literal_length(b"* OK {1x}"), None);
        assert_eq!(literal_length(b"* OK done"), None);
    }
}
