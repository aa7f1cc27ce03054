//! The lines of sealcat's SASL exchange (see `PROTOCOL.md`): reading them with a length limit,
//! writing them, and base64 for the mechanism messages they carry.
//!
//! Lines are read from a buffer that may run past the exchange: the first bytes of the security
//! layer can arrive in the same segment as the server's `OK`. Those bytes are handed to the
//! sealed stream as ciphertext already received ([`LineReader::into_leftover`]), never lost.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The longest line accepted, CRLF included. DIGEST-MD5's largest message is its 4096-byte
/// response (RFC 2831 §2.1.2), 5,464 bytes in base64; anything much longer is not a SASL line.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Reads CRLF-terminated lines (a bare LF is accepted too), keeping what follows the last one.
#[derive(Debug, Default)]
pub(crate) struct LineReader {
    buf: Vec<u8>,
}

impl LineReader {
    /// The next line without its line end. Fails on a line over [`MAX_LINE`], a line that is not
    /// UTF-8, and an end of the connection before the line ended.
    pub(crate) async fn read_line<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<String, String> {
        let mut searched = 0;
        loop {
            if let Some(at) = self.buf[searched..].iter().position(|&b| b == b'\n') {
                let end = searched + at;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop(); // \n
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return String::from_utf8(line)
                    .map_err(|_| "the peer sent a line that is not UTF-8".to_string());
            }
            searched = self.buf.len();
            if self.buf.len() >= MAX_LINE {
                return Err(format!(
                    "the peer sent a line longer than {MAX_LINE} bytes during the SASL exchange"
                ));
            }
            let mut chunk = [0u8; 4096];
            let want = chunk.len().min(MAX_LINE - self.buf.len());
            let n = io
                .read(&mut chunk[..want])
                .await
                .map_err(|e| format!("reading the SASL exchange: {e}"))?;
            if n == 0 {
                return Err("the peer closed the connection during the SASL exchange".to_string());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The bytes received after the last line read: the start of the security layer.
    pub(crate) fn into_leftover(self) -> Vec<u8> {
        self.buf
    }
}

/// Write `line` and its CRLF in one write.
pub(crate) async fn write_line<W: AsyncWrite + Unpin>(
    io: &mut W,
    line: &str,
) -> Result<(), String> {
    let mut bytes = Vec::with_capacity(line.len() + 2);
    bytes.extend_from_slice(line.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    io.write_all(&bytes)
        .await
        .map_err(|e| format!("sending the SASL exchange: {e}"))?;
    io.flush()
        .await
        .map_err(|e| format!("sending the SASL exchange: {e}"))
}

/// A mechanism message as it travels: base64, with `=` for an empty message (RFC 4954 §4's
/// convention, so an empty message is not confused with a missing one).
pub(crate) fn encode(message: &[u8]) -> String {
    if message.is_empty() {
        "=".to_string()
    } else {
        STANDARD.encode(message)
    }
}

/// The message a base64 field carries (`=` is the empty message).
pub(crate) fn decode(field: &str) -> Result<Vec<u8>, String> {
    if field == "=" {
        return Ok(Vec::new());
    }
    // An empty field is a missing message, not an empty one (that is `=`): base64 would take
    // it for empty.
    if field.is_empty() {
        return Err("the peer left out a SASL message (an empty one is written `=`)".into());
    }
    STANDARD
        .decode(field)
        .map_err(|e| format!("the peer sent a SASL message that is not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_split_across_reads_and_leftovers_are_kept() {
        let (mut a, mut b) = tokio::io::duplex(64);
        let reading = tokio::spawn(async move {
            let mut reader = LineReader::default();
            let first = reader.read_line(&mut b).await.unwrap();
            let second = reader.read_line(&mut b).await.unwrap();
            (first, second, reader.into_leftover())
        });
        for piece in [&b"+ ab"[..], b"cd\r", b"\nOK\n\x00\x00\x00\x10rest"] {
            a.write_all(piece).await.unwrap();
            tokio::task::yield_now().await;
        }
        let (first, second, leftover) = reading.await.unwrap();
        assert_eq!(first, "+ abcd");
        assert_eq!(second, "OK");
        assert_eq!(leftover, b"\x00\x00\x00\x10rest");
    }

    #[tokio::test]
    async fn long_lines_and_early_ends_are_refused() {
        let (mut a, mut b) = tokio::io::duplex(MAX_LINE * 2);
        a.write_all(&vec![b'A'; MAX_LINE + 10]).await.unwrap();
        let err = LineReader::default().read_line(&mut b).await.unwrap_err();
        assert!(err.contains("longer than"), "{err}");

        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(b"+ abc").await.unwrap();
        drop(a);
        let err = LineReader::default().read_line(&mut b).await.unwrap_err();
        assert!(err.contains("closed"), "{err}");
    }

    #[test]
    fn base64_with_an_empty_message() {
        assert_eq!(encode(b""), "=");
        assert_eq!(decode("=").unwrap(), b"");
        assert_eq!(decode(&encode(b"realm=\"x\"")).unwrap(), b"realm=\"x\"");
        assert!(decode("not base64!").is_err());
        // A missing message is not an empty one.
        assert!(decode("").unwrap_err().contains("`=`"));
    }
}
