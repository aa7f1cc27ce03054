//! A client's side of one IMAP connection: tagged commands, their responses, and a trace of
//! every protocol line for `--verbose`.
//!
//! The connection `S` changes under a session twice at most (TLS after STARTTLS, a SASL layer
//! after AUTHENTICATE): [`Session::into_parts`] gives the connection and the bytes already
//! received back, and [`Session::resume`] carries on over the new one with the same tags.

use std::io::{self, Write};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::reader::ResponseReader;
use super::response::{Kind, Response, Status};
use crate::failure::Failure;

/// The most untagged responses kept for one command (CAPABILITY, SELECT, ...), which draw a
/// handful: a server that sends more is refused instead of kept.
pub const MAX_UNTAGGED: usize = 10_000;

/// Where protocol lines are traced: `C: ` for ours, `S: ` for the server's.
pub type Trace<'t> = Option<&'t mut dyn Write>;

/// One IMAP connection.
#[derive(Debug)]
pub struct Session<'t, S> {
    io: S,
    reader: ResponseReader,
    next_tag: u32,
    trace: Tracer<'t>,
}

/// What a session keeps when its connection is replaced.
#[derive(Debug)]
pub struct Parts<'t> {
    reader: ResponseReader,
    next_tag: u32,
    trace: Tracer<'t>,
}

struct Tracer<'t>(Trace<'t>);

impl std::fmt::Debug for Tracer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Tracer(on)"
        } else {
            "Tracer(off)"
        })
    }
}

impl Tracer<'_> {
    fn line(&mut self, who: &str, text: &[u8]) {
        if let Some(out) = self.0.as_mut() {
            writeln!(out, "{who}: {}", String::from_utf8_lossy(text).trim_end()).ok();
        }
    }

    fn response(&mut self, response: &Response) {
        if self.0.is_some() {
            self.line("S", response.line());
            let sizes: Vec<String> = response
                .literals()
                .map(|l| format!("{} bytes", l.len()))
                .collect();
            if !sizes.is_empty() {
                self.line("S", format!("(literals: {})", sizes.join(", ")).as_bytes());
            }
        }
    }
}

/// The untagged responses a command drew, and its tagged completion (an OK).
#[derive(Debug)]
pub struct Completed {
    /// The untagged responses, in order.
    pub untagged: Vec<Response>,
    /// The tagged OK.
    pub done: Response,
}

impl<'t, S: AsyncRead + AsyncWrite + Unpin> Session<'t, S> {
    /// A session over `io`, tracing to `trace`.
    pub fn new(io: S, trace: Trace<'t>) -> Self {
        Self {
            io,
            reader: ResponseReader::new(),
            next_tag: 1,
            trace: Tracer(trace),
        }
    }

    /// Carry on over `io` with what [`into_parts`](Self::into_parts) kept.
    pub fn resume(io: S, parts: Parts<'t>) -> Self {
        Self {
            io,
            reader: parts.reader,
            next_tag: parts.next_tag,
            trace: Tracer(parts.trace.0),
        }
    }

    /// The connection, the bytes received after the last response (they belong to whatever
    /// runs on the connection next) and the rest of the session.
    pub fn into_parts(mut self) -> (S, Vec<u8>, Parts<'t>) {
        let buffered = self.reader.take_buffered();
        let parts = Parts {
            reader: self.reader,
            next_tag: self.next_tag,
            trace: self.trace,
        };
        (self.io, buffered, parts)
    }

    /// Write `text` to the trace, if there is one.
    pub fn note(&mut self, text: &str) {
        if let Some(out) = self.trace.0.as_mut() {
            writeln!(out, "{text}").ok();
        }
    }

    /// The connection.
    pub fn io(&mut self) -> &mut S {
        &mut self.io
    }

    /// The next response.
    pub async fn read(&mut self) -> Result<Response, Failure> {
        let response = self
            .reader
            .read(&mut self.io)
            .await
            .map_err(|e| Failure::other(format!("reading from the server: {e}")))?;
        self.trace.response(&response);
        Ok(response)
    }

    /// Send `TAG text` and return the tag. `secret` hides the text's last word from the trace
    /// (an initial response).
    pub async fn send_command(&mut self, text: &[u8], secret: bool) -> Result<String, Failure> {
        let tag = format!("a{}", self.next_tag);
        self.next_tag += 1;
        let mut line = Vec::with_capacity(tag.len() + text.len() + 3);
        line.extend_from_slice(tag.as_bytes());
        line.push(b' ');
        line.extend_from_slice(text);
        self.trace_ours(&line, secret);
        line.extend_from_slice(b"\r\n");
        self.write(&line).await?;
        Ok(tag)
    }

    /// Send a line that continues the current command (an AUTHENTICATE response, the end of
    /// an APPEND). `secret` traces only its length.
    pub async fn send_line(&mut self, text: &[u8], secret: bool) -> Result<(), Failure> {
        self.trace_ours(text, secret);
        let mut line = Vec::with_capacity(text.len() + 2);
        line.extend_from_slice(text);
        line.extend_from_slice(b"\r\n");
        self.write(&line).await
    }

    /// Send raw bytes (a literal), traced by their length.
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.trace.line(
            "C",
            format!("({} bytes of literal)", bytes.len()).as_bytes(),
        );
        self.write(bytes).await
    }

    fn trace_ours(&mut self, line: &[u8], secret: bool) {
        if secret && !line.is_empty() {
            // Up to the last space: `a3 AUTHENTICATE PLAIN`, and nothing of a bare line.
            let shown = match line.iter().rposition(|&b| b == b' ') {
                Some(space) => &line[..=space],
                None => &[][..],
            };
            let hidden = format!(
                "{}<{} bytes not shown>",
                String::from_utf8_lossy(shown),
                line.len() - shown.len()
            );
            self.trace.line("C", hidden.as_bytes());
        } else {
            self.trace.line("C", line);
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let sent = async {
            self.io.write_all(bytes).await?;
            self.io.flush().await
        };
        sent.await
            .map_err(|e: io::Error| Failure::other(format!("writing to the server: {e}")))
    }

    /// Run the command `text` to its completion: its untagged responses, and its tagged OK.
    /// A NO or BAD, a BYE, or a continuation request (a command that waits for a literal it
    /// was not given) fails, naming the command by its first word.
    pub async fn command(&mut self, text: &str) -> Result<Completed, Failure> {
        let tag = self.send_command(text.as_bytes(), false).await?;
        let name = text.split(' ').next().unwrap_or(text);
        self.complete(&tag, name).await
    }

    /// Read the responses to the command tagged `tag` (called `name` in failures) up to its
    /// completion; more than [`MAX_UNTAGGED`] untagged responses before it fail.
    pub async fn complete(&mut self, tag: &str, name: &str) -> Result<Completed, Failure> {
        let mut untagged = Vec::new();
        loop {
            let response = self.read().await?;
            match response.kind() {
                Some(Kind::Tagged(t)) if t == tag => {
                    return match response.status() {
                        Some(Status::Ok) => Ok(Completed {
                            untagged,
                            done: response,
                        }),
                        _ => Err(refused(name, &response)),
                    };
                }
                Some(Kind::Untagged) if response.status() == Some(Status::Bye) => {
                    return Err(closed(&response));
                }
                Some(Kind::Untagged) if untagged.len() == MAX_UNTAGGED => {
                    return Err(Failure::other(format!(
                        "{name}: the server sent more than {MAX_UNTAGGED} untagged responses"
                    )));
                }
                Some(Kind::Untagged) => untagged.push(response),
                Some(Kind::Continuation) => {
                    return Err(Failure::other(format!(
                        "{name}: the server asked for more than the command had: {}",
                        response.text_lossy()
                    )));
                }
                _ => {
                    return Err(Failure::other(format!(
                        "{name}: the server answered with a line that is not IMAP: {}",
                        response.text_lossy()
                    )));
                }
            }
        }
    }
}

/// A tagged NO or BAD as a failure.
pub fn refused(name: &str, response: &Response) -> Failure {
    Failure::other(format!(
        "the server refused {name}: {}",
        String::from_utf8_lossy(response.rest())
    ))
}

/// An untagged BYE as a failure.
pub fn closed(response: &Response) -> Failure {
    Failure::other(format!(
        "the server closed the connection: {}",
        response.status_text()
    ))
}

/// `text` as an IMAP quoted string (RFC 3501 `quoted`); `None` for text a quoted string cannot
/// hold (CR, LF, NUL, or 8-bit).
pub fn quoted(text: &str) -> Option<String> {
    if text
        .bytes()
        .any(|b| matches!(b, b'\r' | b'\n' | 0) || !b.is_ascii())
    {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

#[cfg(test)]
mod tests {
    use sealstream_testkit::mock_io::scripted;

    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quoted("INBOX").unwrap(), "\"INBOX\"");
        assert_eq!(quoted("a\"b\\c").unwrap(), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted("a\r\nb"), None);
        assert_eq!(quoted("é"), None);
    }

    #[tokio::test]
    async fn commands_complete_or_fail_by_name() {
        let server = b"* 2 EXISTS\r\na1 OK [READ-WRITE] done\r\n\
                       a2 NO [NONEXISTENT] no such mailbox\r\n\
                       * BYE shutting down\r\n"
            .to_vec();
        let mut trace = Vec::new();
        let mut session = Session::new(scripted(server), Some(&mut trace));
        let done = session.command("SELECT \"INBOX\"").await.unwrap();
        assert_eq!(done.untagged.len(), 1);
        assert_eq!(done.done.code(), Some(&b"READ-WRITE"[..]));
        let err = session.command("SELECT \"Nope\"").await.unwrap_err();
        assert_eq!(
            err.message,
            "the server refused SELECT: NO [NONEXISTENT] no such mailbox"
        );
        let err = session.command("NOOP").await.unwrap_err();
        assert_eq!(
            err.message,
            "the server closed the connection: shutting down"
        );
        let err = session.command("NOOP").await.unwrap_err();
        assert!(err.message.contains("closed the connection"), "{err}");
        let (io, _, _) = session.into_parts();
        assert_eq!(
            io.into_inner().1,
            b"a1 SELECT \"INBOX\"\r\na2 SELECT \"Nope\"\r\na3 NOOP\r\na4 NOOP\r\n"
        );
        let trace = String::from_utf8(trace).unwrap();
        assert!(
            trace.starts_with("C: a1 SELECT \"INBOX\"\nS: * 2 EXISTS\n"),
            "{trace}"
        );
    }

    #[tokio::test]
    async fn a_flood_of_untagged_responses_is_refused() {
        let mut server = b"* 1 EXISTS\r\n".repeat(MAX_UNTAGGED + 1);
        server.extend_from_slice(b"a1 OK done\r\n");
        let mut session = Session::new(scripted(server), None);
        let err = session.command("SELECT \"INBOX\"").await.unwrap_err();
        assert_eq!(
            err.message,
            format!("SELECT: the server sent more than {MAX_UNTAGGED} untagged responses")
        );
        let mut server = b"* 1 EXISTS\r\n".repeat(MAX_UNTAGGED);
        server.extend_from_slice(b"a1 OK done\r\n");
        let mut session = Session::new(scripted(server), None);
        let done = session.command("SELECT \"INBOX\"").await.unwrap();
        assert_eq!(done.untagged.len(), MAX_UNTAGGED);
    }

    #[tokio::test]
    async fn secrets_are_not_traced() {
        let mut trace = Vec::new();
        let mut session = Session::new(scripted(Vec::new()), Some(&mut trace));
        session
            .send_command(b"AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", true)
            .await
            .unwrap();
        session.send_line(b"c2VjcmV0", true).await.unwrap();
        drop(session);
        let trace = String::from_utf8(trace).unwrap();
        assert_eq!(
            trace,
            "C: a1 AUTHENTICATE PLAIN <20 bytes not shown>\nC: <8 bytes not shown>\n"
        );
    }
}
