//! LDAP (RFC 4511) messages for a SASL bind and a search: building requests with `rasn-ldap`,
//! reading whole BER-encoded messages from a byte stream, and a small filter syntax.
//!
//! Under a SASL security layer an LDAP message may span several frames and a frame may hold
//! several messages; the layer gives back the byte stream, and [`MessageReader`] cuts it into
//! messages by their BER length, waiting for more bytes until a whole message is there.

use std::io;

use rasn::types::OctetString;
use rasn_ldap::{
    AttributeValueAssertion, AuthenticationChoice, BindRequest, Filter, LdapMessage, ProtocolOp,
    ResultCode, SaslCredentials, SearchRequest, SearchRequestDerefAliases, SearchRequestScope,
    UnbindRequest,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest LDAP message accepted: a bound on what a peer can make us allocate.
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// The most room made for a message's missing bytes before they arrive.
const READ_CHUNK: usize = 64 * 1024;

/// BER's universal SEQUENCE tag, constructed: every LDAPMessage starts with it.
const SEQUENCE: u8 = 0x30;

/// A BindRequest (LDAP v3, empty name) carrying SASL credentials for `mechanism`.
pub fn sasl_bind(id: u32, mechanism: &str, credentials: Option<Vec<u8>>) -> LdapMessage {
    let sasl = SaslCredentials::new(mechanism.into(), credentials.map(OctetString::from));
    LdapMessage::new(
        id,
        ProtocolOp::BindRequest(BindRequest::new(
            3,
            "".into(),
            AuthenticationChoice::Sasl(sasl),
        )),
    )
}

/// A SearchRequest with no size or time limit, aliases never dereferenced.
pub fn search(
    id: u32,
    base: &str,
    scope: SearchRequestScope,
    filter: Filter,
    attributes: &[String],
) -> LdapMessage {
    LdapMessage::new(
        id,
        ProtocolOp::SearchRequest(SearchRequest::new(
            base.into(),
            scope,
            SearchRequestDerefAliases::NeverDerefAliases,
            0,
            0,
            false,
            filter,
            attributes.iter().map(|a| a.as_str().into()).collect(),
        )),
    )
}

/// An UnbindRequest: the polite end of a session.
pub fn unbind(id: u32) -> LdapMessage {
    LdapMessage::new(id, ProtocolOp::UnbindRequest(UnbindRequest))
}

/// Encode `message` and write it to `io`, flushed.
pub async fn send<W: AsyncWrite + Unpin>(io: &mut W, message: &LdapMessage) -> io::Result<()> {
    let bytes = rasn::ber::encode(message).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot encode LDAP message: {e}"),
        )
    })?;
    io.write_all(&bytes).await?;
    io.flush().await
}

/// The length of the whole message at the start of `buf` (identifier, length and contents), or
/// `None` while the length octets are incomplete.
pub fn message_len(buf: &[u8]) -> io::Result<Option<usize>> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let (Some(&tag), Some(&first)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if tag != SEQUENCE {
        return Err(invalid(format!(
            "not an LDAP message: starts with 0x{tag:02x}, not a SEQUENCE"
        )));
    }
    if first < 0x80 {
        return Ok(Some(2 + usize::from(first)));
    }
    // RFC 4511 §5.1: "Only the definite form of length encoding is used."
    let octets = usize::from(first & 0x7f);
    if octets == 0 || octets > 4 {
        return Err(invalid(format!(
            "LDAP message with BER length form 0x{first:02x} (indefinite or over 4 octets)"
        )));
    }
    let Some(len_bytes) = buf.get(2..2 + octets) else {
        return Ok(None);
    };
    let len = len_bytes
        .iter()
        .fold(0usize, |n, &b| (n << 8) | usize::from(b));
    let total = 2 + octets + len;
    if total > MAX_MESSAGE {
        return Err(invalid(format!(
            "LDAP message of {total} bytes exceeds the {MAX_MESSAGE}-byte limit"
        )));
    }
    Ok(Some(total))
}

/// Cuts a byte stream into LDAP messages.
///
/// Messages are decoded where they lie: `start` moves past each, and the consumed bytes are
/// dropped once per read from the stream, not once per message, so a read holding thousands
/// of small messages costs one pass over them.
#[derive(Debug, Default)]
pub struct MessageReader {
    buf: Vec<u8>,
    /// Where the next message starts in `buf`.
    start: usize,
    /// Bytes moved by compaction, for the tests' flood check.
    #[cfg(test)]
    moved: usize,
}

impl MessageReader {
    /// A reader with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next whole message, reading from `io` as often as it takes. The end of the stream
    /// before a whole message is an `UnexpectedEof` error.
    pub async fn read<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> io::Result<LdapMessage> {
        loop {
            let pending = &self.buf[self.start..];
            let total = message_len(pending)?;
            if let Some(total) = total.filter(|&total| pending.len() >= total) {
                let message = rasn::ber::decode::<LdapMessage>(&pending[..total]);
                self.start += total;
                return message.map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("malformed LDAP message: {e}"),
                    )
                });
            }
            // Drop what was consumed before reading more: once per read.
            #[cfg(test)]
            {
                self.moved += pending.len();
            }
            self.buf.drain(..self.start);
            self.start = 0;
            match total {
                // Room for what is missing, at most READ_CHUNK at a time: memory grows with
                // the bytes that arrive, not with what a header announces.
                Some(total) => self.buf.reserve((total - self.buf.len()).min(READ_CHUNK)),
                None => self.buf.reserve(4096),
            }
            if io.read_buf(&mut self.buf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    if self.buf.is_empty() {
                        "the peer closed the connection".to_owned()
                    } else {
                        format!(
                            "the peer closed the connection inside a message ({} bytes received)",
                            self.buf.len()
                        )
                    },
                ));
            }
        }
    }

    /// Whether no bytes are buffered (the stream stopped between messages).
    pub fn is_empty(&self) -> bool {
        self.start == self.buf.len()
    }

    /// Bytes read past the last message returned: after a bind, the first bytes of the security
    /// layer, if the server sent any before we did.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.start);
        self.buf.clear();
        self.start = 0;
        rest
    }
}

/// An LDAP result code as a number and its RFC 4511 name: `49 (invalidCredentials)`.
pub fn result_code(code: ResultCode) -> (u32, String) {
    let name = format!("{code:?}");
    let mut chars = name.chars();
    let camel = chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default();
    (code as u32, camel)
}

/// Parse the filter syntax this example supports: `(attr=value)` (equality, with RFC 4515
/// `\XX` escapes in the value) and `(attr=*)` (presence). Anything else is an error saying so.
pub fn parse_filter(filter: &str) -> Result<Filter, String> {
    let unsupported = || {
        format!(
            "unsupported filter {filter:?}: only (attr=value) and (attr=*) are supported \
             (no &, |, !, substrings, ranges or approximate matches)"
        )
    };
    let inner = filter
        .strip_prefix('(')
        .and_then(|f| f.strip_suffix(')'))
        .ok_or_else(unsupported)?;
    let (attr, value) = inner.split_once('=').ok_or_else(unsupported)?;
    let attr_ok = !attr.is_empty()
        && attr
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';' || c == '.');
    if !attr_ok || value.contains(['(', ')']) {
        return Err(unsupported());
    }
    if value == "*" {
        return Ok(Filter::Present(attr.into()));
    }
    if value.contains('*') {
        return Err(unsupported());
    }
    let value = unescape(value).ok_or_else(|| {
        format!("bad escape in filter {filter:?}: a backslash must be followed by two hex digits")
    })?;
    Ok(Filter::EqualityMatch(AttributeValueAssertion::new(
        attr.into(),
        OctetString::from(value),
    )))
}

/// RFC 4515 §3: `\XX` stands for the byte 0xXX.
fn unescape(value: &str) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_lengths() {
        assert_eq!(message_len(&[]).unwrap(), None);
        assert_eq!(message_len(&[0x30]).unwrap(), None);
        assert_eq!(message_len(&[0x30, 0x05]).unwrap(), Some(7));
        assert_eq!(message_len(&[0x30, 0x82, 0x01]).unwrap(), None);
        assert_eq!(message_len(&[0x30, 0x82, 0x01, 0x00]).unwrap(), Some(260));
        assert!(message_len(&[0x04, 0x00]).is_err(), "not a SEQUENCE");
        assert!(message_len(&[0x30, 0x80]).is_err(), "indefinite length");
        assert!(message_len(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(
            message_len(&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]).is_err(),
            "too large"
        );
    }

    #[tokio::test]
    async fn reader_waits_for_whole_messages_across_reads() {
        let a = rasn::ber::encode(&sasl_bind(1, "DIGEST-MD5", None)).unwrap();
        let b = rasn::ber::encode(&search(
            2,
            "dc=example,dc=com",
            SearchRequestScope::WholeSubtree,
            parse_filter("(cn=x)").unwrap(),
            &["a".repeat(300)],
        ))
        .unwrap();
        let stream: Vec<u8> = [a.clone(), b.clone()].concat();
        // One byte per read: every message is incomplete many times over.
        let mut io = tokio_test_reader(stream, 1);
        let mut reader = MessageReader::new();
        assert_eq!(reader.read(&mut io).await.unwrap().message_id, 1);
        assert_eq!(reader.read(&mut io).await.unwrap().message_id, 2);
        let end = reader.read(&mut io).await.unwrap_err();
        assert_eq!(end.kind(), io::ErrorKind::UnexpectedEof);

        let mut cut = tokio_test_reader(b[..b.len() - 1].to_vec(), 7);
        let err = MessageReader::new().read(&mut cut).await.unwrap_err();
        assert!(err.to_string().contains("inside a message"), "{err}");
    }

    /// A header announcing a 60 MiB message, then a few bytes of it and the end: the reader
    /// makes room as bytes come, never for the whole announcement (a server example faces
    /// clients that have not authenticated).
    #[tokio::test]
    async fn an_announced_length_is_not_reserved_before_its_bytes_arrive() {
        let mut header = vec![0x30, 0x84];
        header.extend_from_slice(&(60u32 << 20).to_be_bytes());
        header.extend_from_slice(&[0x02, 0x01, 0x01]);
        let mut io = tokio_test_reader(header, 1024);
        let mut reader = MessageReader::new();
        let err = reader.read(&mut io).await.unwrap_err();
        assert!(err.to_string().contains("inside a message"), "{err}");
        assert!(
            reader.buf.capacity() <= 2 * READ_CHUNK,
            "{}",
            reader.buf.capacity()
        );
    }

    /// 20,000 small messages arriving in large reads: each is decoded in order, and the bytes
    /// moved to drop consumed ones stay within what arrived (a drain per message would move
    /// some 10,000 times as much).
    #[tokio::test]
    async fn a_flood_of_small_messages_costs_one_pass() {
        let one = rasn::ber::encode(&unbind(7)).unwrap();
        let count = 20_000;
        let stream: Vec<u8> = std::iter::repeat_n(one.as_slice(), count)
            .flatten()
            .copied()
            .collect();
        let mut io = tokio_test_reader(stream.clone(), 65_536);
        let mut reader = MessageReader::new();
        for _ in 0..count {
            assert_eq!(reader.read(&mut io).await.unwrap().message_id, 7);
        }
        assert!(reader.is_empty());
        assert!(reader.moved <= stream.len(), "{} bytes moved", reader.moved);
    }

    /// A reader handing out `data` at most `chunk` bytes at a time.
    fn tokio_test_reader(data: Vec<u8>, chunk: usize) -> impl AsyncRead + Unpin {
        struct Chunks(Vec<u8>, usize, usize);
        impl AsyncRead for Chunks {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                let Chunks(data, pos, chunk) = &mut *self;
                let n = (*chunk).min(data.len() - *pos).min(buf.remaining());
                buf.put_slice(&data[*pos..*pos + n]);
                *pos += n;
                std::task::Poll::Ready(Ok(()))
            }
        }
        Chunks(data, 0, chunk)
    }

    #[test]
    fn filters() {
        assert_eq!(
            parse_filter("(objectClass=*)").unwrap(),
            Filter::Present("objectClass".into())
        );
        assert_eq!(
            parse_filter("(cn=a\\2ab)").unwrap(),
            Filter::EqualityMatch(AttributeValueAssertion::new(
                "cn".into(),
                OctetString::from(&b"a*b"[..])
            ))
        );
        for bad in [
            "cn=x",
            "(&(cn=x)(sn=y))",
            "(cn=a*)",
            "(cn>=a)",
            "(cn~=a)",
            "(=x)",
            "(cn=\\2)",
            "(!(cn=x))",
        ] {
            let err = parse_filter(bad).unwrap_err();
            assert!(
                err.contains("unsupported") || err.contains("bad escape"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn result_code_names() {
        assert_eq!(
            result_code(ResultCode::InvalidCredentials),
            (49, "invalidCredentials".to_owned())
        );
        assert_eq!(result_code(ResultCode::Other), (80, "other".to_owned()));
    }
}
