//! `imap_client`: log in to an IMAP server with SASL (DIGEST-MD5, GSSAPI, NTLM or GSS-SPNEGO),
//! install the negotiated security layer as a `SealedStream` under the rest of the session,
//! then read a mailbox: SELECT, every message FETCHed whole with a one-line summary each, an
//! optional APPEND, LOGOUT.
//!
//! The connection is TCP, TLS from the first byte (`imaps://`), or TCP switched to TLS with
//! STARTTLS (`--starttls`, RFC 3501 §6.2.1); a SASL layer then runs inside TLS. Capabilities
//! are asked again after each switch, as RFC 3501 requires, since a server may offer more (or
//! other) mechanisms once the connection is protected.
//!
//! With a layer (RFC 4422 §3.7, as Cyrus IMAP runs it) every byte after the tagged OK of
//! AUTHENTICATE is framed, both ways: bytes the server sent right after its OK are the layer's
//! first frame, handed to the stream, never read as clear text. The stream cuts what we write
//! (an APPEND literal among it) into frames no larger than the server announced (Cyrus: 4096
//! bytes), and rebuilds the server's frames into lines and literals.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use sealstream::{EofPolicy, StreamBuilder};
use sealstream_sasl::ChannelBindingData;
use sealstream_tls::ChannelBinding;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::connect::{Url, connect, parse_url};
pub use crate::failure::Failure;
use crate::failure::io_failure;
use crate::imap::login::{ask_capabilities, greeting, login, starttls};
use crate::imap::response::{Kind, Status, Token};
use crate::imap::session::{Session, Trace, closed, quoted, refused};
use crate::sasl_args::SaslArgs;

/// The SASL service name of IMAP (RFC 3501 §6.2.2; the `imap/HOST` Kerberos principal).
const SERVICE: &str = "imap";

/// The command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "imap_client",
    about = "Read an IMAP mailbox over a SASL DIGEST-MD5, GSSAPI, NTLM or GSS-SPNEGO security \
             layer, optionally inside TLS"
)]
pub struct Args {
    /// The server: `imap://HOST[:PORT]` (port 143), or `imaps://HOST[:PORT]` for IMAP over TLS
    /// (port 993).
    #[arg(long)]
    pub url: String,
    /// imap://: switch to TLS with STARTTLS before authenticating.
    #[arg(long)]
    pub starttls: bool,
    /// TLS: the CA certificates to trust, a PEM file (default: the system's).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// TLS: only this version, 1.2 or 1.3 (default: either, 1.3 preferred).
    #[arg(long, value_name = "VERSION", value_parser = ["1.2", "1.3"])]
    pub tls_version: Option<String>,
    /// The SASL mechanism and its credentials.
    #[command(flatten)]
    pub sasl: SaslArgs,
    /// The mailbox to read.
    #[arg(long, default_value = "INBOX")]
    pub mailbox: String,
    /// A message (RFC 5322) to APPEND to the mailbox after reading it; bare LF line ends are
    /// sent as CRLF.
    #[arg(long, value_name = "FILE")]
    pub append: Option<PathBuf>,
    /// Write each message fetched to DIR/UID.eml, exactly as the server sent it.
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Print the negotiated layer and every protocol line (C: ours, S: the server's; SASL
    /// responses and literals by their size only) on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `imap://HOST[:PORT]` (port 143) or `imaps://HOST[:PORT]` (port 993).
pub fn parse_imap_url(url: &str) -> Result<Url, Failure> {
    parse_url(url, ("imap", 143), ("imaps", 993))
}

/// Run the command: log in, read the mailbox (a summary per message on `out`), append, log
/// out. With `--verbose`, the layer and the protocol go to `log`.
pub async fn run(args: &Args, out: &mut impl Write, log: &mut impl Write) -> Result<(), Failure> {
    crate::failure::within(args.timeout, &args.url, session(args, out, log)).await
}

async fn session(args: &Args, out: &mut impl Write, log: &mut impl Write) -> Result<(), Failure> {
    let Url { tls, host, port } = parse_imap_url(&args.url)?;
    if tls && args.starttls {
        return Err(Failure::usage(
            "--starttls is for imap://; imaps:// is TLS from the first byte",
        ));
    }
    let mailbox = quoted(&args.mailbox).ok_or_else(|| {
        Failure::usage(format!(
            "--mailbox {:?}: only printable ASCII names are supported",
            args.mailbox
        ))
    })?;
    // Everything that can fail without the server fails before connecting.
    let server_name = args.sasl.server_name.as_deref().unwrap_or(&host).to_owned();
    let message = args.append.as_deref().map(read_message).transpose()?;
    let tls_config = if tls || args.starttls {
        let name = rustls::pki_types::ServerName::try_from(server_name.clone())
            .map_err(|e| Failure::usage(format!("{server_name:?} is not a server name: {e}")))?;
        let version = args.tls_version.as_deref();
        Some((
            crate::tls::client_config_for(args.ca.as_deref(), version)?,
            name,
        ))
    } else {
        None
    };
    // A -plus mechanism is bound to the TLS connection, so it is made once TLS is up.
    let bound = args.sasl.mech.ends_with("-plus");
    if bound && tls_config.is_none() {
        return Err(Failure::usage(format!(
            "--mech {} binds to TLS: use imaps:// or --starttls",
            args.sasl.mech
        )));
    }
    let mechanism = match bound {
        true => None,
        false => Some(crate::mechanism::client(&args.sasl, SERVICE, &server_name, None).await?),
    };
    let mut work = Work {
        args,
        server_name,
        mailbox,
        message,
        mechanism,
    };
    let trace: Trace<'_> = if args.verbose { Some(log) } else { None };
    let tcp = connect(&host, port).await?;
    match tls_config {
        Some((config, name)) if tls => {
            let tls = sealstream_tls::TlsConnector::new(config)
                .connect(name, tcp)
                .await
                .map_err(io_failure(&format!("TLS with {host}:{port}")))?;
            work.bind_to(&tls).await?;
            let mut session = Session::new(tls, trace);
            greeting(&mut session).await?;
            work.login(session, out).await
        }
        Some((config, name)) => {
            let mut session = Session::new(tcp, trace);
            let capabilities = greeting(&mut session).await?;
            let capabilities = match capabilities {
                Some(c) => c,
                None => ask_capabilities(&mut session).await?,
            };
            let (tcp, parts) = starttls(session, &capabilities).await?;
            let tls = sealstream_tls::TlsConnector::new(config)
                .connect(name, tcp)
                .await
                .map_err(io_failure(&format!("TLS with {host}:{port}")))?;
            work.bind_to(&tls).await?;
            work.login(Session::resume(tls, parts), out).await
        }
        None => {
            let mut session = Session::new(tcp, trace);
            greeting(&mut session).await?;
            work.login(session, out).await
        }
    }
}

/// What is done once connected.
struct Work<'a> {
    args: &'a Args,
    /// The server's name for SASL.
    server_name: String,
    /// The mailbox as a quoted string.
    mailbox: String,
    message: Option<Vec<u8>>,
    mechanism: Option<Box<dyn sealstream_sasl::AsyncClientMechanism>>,
}

impl Work<'_> {
    /// Make the mechanism of a `-plus` `--mech` now that `tls` is up, bound to it:
    /// `tls-exporter` (RFC 9266) on TLS 1.3, `tls-unique` (RFC 5929, SCRAM's default) on
    /// TLS 1.2, else `tls-server-end-point`.
    async fn bind_to(&mut self, tls: &sealstream_tls::TlsStream<TcpStream>) -> Result<(), Failure> {
        if self.mechanism.is_some() {
            return Ok(());
        }
        let info = tls.seal_half().info();
        let bindings = [
            ChannelBinding::TlsExporter,
            ChannelBinding::TlsUnique,
            ChannelBinding::TlsServerEndPoint,
        ]
        .into_iter()
        .find_map(|kind| {
            let data = info.channel_binding(kind).ok()?;
            Some(ChannelBindingData::new(kind.name(), data))
        })
        .ok_or_else(|| Failure::other("this TLS connection has no channel binding to offer"))?;
        let mechanism =
            crate::mechanism::client(&self.args.sasl, SERVICE, &self.server_name, Some(&bindings))
                .await?;
        self.mechanism = Some(mechanism);
        Ok(())
    }

    /// Authenticate over `session` (capabilities asked afresh), then read the mailbox, over
    /// the security layer when one was negotiated.
    async fn login<S>(
        mut self,
        mut session: Session<'_, S>,
        out: &mut impl Write,
    ) -> Result<(), Failure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let capabilities = ask_capabilities(&mut session).await?;
        let mechanism = self.mechanism.take().expect("logs in once");
        let authenticated = login(&mut session, &capabilities, mechanism).await?;
        let mechanism = authenticated.mechanism;
        let line = crate::mechanism::describe(&*mechanism, "authenticated")?;
        session.note(&format!("imap_client: {line}"));
        let layer = mechanism
            .into_layer()
            .map_err(|e| Failure::other(e.to_string()))?;
        match layer {
            None => {
                let capabilities = match authenticated.done.capabilities() {
                    Some(c) => c,
                    None => ask_capabilities(&mut session).await?,
                };
                self.mailbox(session, &capabilities, out).await
            }
            Some(layer) => {
                let sealer = layer.into_sealer().map_err(|e| {
                    Failure::other(format!("cannot install the security layer: {e}"))
                })?;
                let (io, buffered, parts) = session.into_parts();
                // The server's bytes after its OK already belong to the layer. Without a close
                // message of its own, a SASL layer ends where the connection does.
                let stream = StreamBuilder::new()
                    .eof_policy(EofPolicy::CleanEnd)
                    .leftover_ciphertext(buffered)
                    .build(io, sealer);
                let mut session = Session::resume(stream, parts);
                // The OK of a layered exchange lists no capabilities: ask inside the layer.
                let capabilities = ask_capabilities(&mut session).await?;
                self.mailbox(session, &capabilities, out).await
            }
        }
    }

    /// SELECT, FETCH every message, APPEND, LOGOUT.
    async fn mailbox<S>(
        &self,
        mut session: Session<'_, S>,
        capabilities: &[String],
        out: &mut impl Write,
    ) -> Result<(), Failure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let output = |e| Failure::other(format!("writing the output: {e}"));
        let selected = session.command(&format!("SELECT {}", self.mailbox)).await?;
        let exists = selected
            .untagged
            .iter()
            .rev()
            .filter_map(|r| r.numbered())
            .find(|(_, name)| name == "EXISTS")
            .map(|(n, _)| n)
            .unwrap_or(0);
        writeln!(out, "{}: {exists} messages", self.args.mailbox).map_err(output)?;
        if exists > 0 {
            self.fetch_all(&mut session, out).await?;
        }
        if let Some(message) = &self.message {
            let literal_plus = capabilities.iter().any(|c| c == "LITERAL+");
            let uid = append(&mut session, &self.mailbox, message, literal_plus).await?;
            let uid = uid.map_or_else(|| "a UID not reported".to_owned(), |u| format!("UID {u}"));
            writeln!(out, "appended {} bytes as {uid}", message.len()).map_err(output)?;
        }
        logout(&mut session).await?;
        out.flush().map_err(output)
    }

    /// `UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])`: each message as it arrives, summarised
    /// on `out` and saved with `--save`.
    async fn fetch_all<S>(
        &self,
        session: &mut Session<'_, S>,
        out: &mut impl Write,
    ) -> Result<(), Failure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        const WHAT: &str = "UID FETCH";
        if let Some(dir) = &self.args.save {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::other(format!("--save {}: {e}", dir.display())))?;
        }
        let tag = session
            .send_command(b"UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])", false)
            .await?;
        let (mut count, mut bytes) = (0usize, 0usize);
        loop {
            let response = session.read().await?;
            match response.kind() {
                Some(Kind::Tagged(t)) if t == tag => {
                    if response.status() != Some(Status::Ok) {
                        return Err(refused(WHAT, &response));
                    }
                    writeln!(out, "fetched {count} messages, {bytes} bytes")
                        .map_err(io_failure("writing the output"))?;
                    return Ok(());
                }
                Some(Kind::Untagged) if response.status() == Some(Status::Bye) => {
                    return Err(closed(&response));
                }
                Some(Kind::Untagged) => {
                    let Some((_, attributes)) = response.fetch() else {
                        continue;
                    };
                    let Some(fetched) = Fetched::from(&attributes)? else {
                        continue; // a FETCH of flags the server sent on its own
                    };
                    writeln!(out, "{}", fetched.summary())
                        .map_err(io_failure("writing the output"))?;
                    if let Some(dir) = &self.args.save {
                        let path = dir.join(format!("{}.eml", fetched.uid));
                        std::fs::write(&path, fetched.body).map_err(|e| {
                            Failure::other(format!("--save {}: {e}", path.display()))
                        })?;
                    }
                    count += 1;
                    bytes += fetched.body.len();
                }
                _ => {
                    return Err(Failure::other(format!(
                        "{WHAT}: the server answered with a line that is not IMAP: {}",
                        response.text_lossy()
                    )));
                }
            }
        }
    }
}

/// One message of the FETCH.
struct Fetched<'a> {
    uid: u32,
    body: &'a [u8],
}

impl<'a> Fetched<'a> {
    /// The message of a FETCH's attributes; `None` when they carry no body; a failure when
    /// the body and its announced size disagree.
    fn from(attributes: &'a [(String, Token<'a>)]) -> Result<Option<Self>, Failure> {
        let get = |name: &str| attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let number = |token: Option<&Token<'_>>| match token {
            Some(Token::Atom(digits)) => std::str::from_utf8(digits).ok()?.parse::<u64>().ok(),
            _ => None,
        };
        let body = match get("BODY[]") {
            Some(Token::Literal(bytes)) => *bytes,
            Some(Token::Atom(nil)) if nil.eq_ignore_ascii_case(b"NIL") => &[][..],
            Some(Token::Quoted(_)) => {
                return Err(Failure::other(
                    "the server sent a message body as a quoted string (not supported here)",
                ));
            }
            _ => return Ok(None),
        };
        let uid = number(get("UID"))
            .and_then(|uid| u32::try_from(uid).ok())
            .ok_or_else(|| Failure::other("the server sent a message without its UID"))?;
        if let Some(size) = number(get("RFC822.SIZE")) {
            if size != body.len() as u64 {
                return Err(Failure::other(format!(
                    "message UID {uid}: RFC822.SIZE says {size} bytes but its body holds {}",
                    body.len()
                )));
            }
        }
        Ok(Some(Self { uid, body }))
    }

    /// `UID 3  251234 bytes  From: ...  Subject: ...`.
    fn summary(&self) -> String {
        let from = header(self.body, "From").unwrap_or_default();
        let subject = header(self.body, "Subject").unwrap_or_default();
        format!(
            "UID {}  {} bytes  From: {}  Subject: {}",
            self.uid,
            self.body.len(),
            shorten(&from, 40),
            shorten(&subject, 60)
        )
    }
}

/// The value of the header field `name` of `message` (RFC 5322 §2.2: unfolded; encoded words
/// are left as they are).
fn header(message: &[u8], name: &str) -> Option<String> {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |at| at + 2);
    let mut lines = message[..end].split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if !line[..colon].eq_ignore_ascii_case(name.as_bytes()) {
            continue;
        }
        let mut value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_owned();
        while let Some(next) =
            lines.next_if(|l| l.first().is_some_and(|&b| b == b' ' || b == b'\t'))
        {
            let next = next.strip_suffix(b"\r").unwrap_or(next);
            value.push(' ');
            value.push_str(String::from_utf8_lossy(next).trim());
        }
        return Some(value);
    }
    None
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max - 1).collect();
    short.push('…');
    short
}

/// APPEND `message` to `mailbox` (a quoted string), as a non-synchronizing literal when the
/// server has LITERAL+ (RFC 7888), else waiting for its continuation request; the new message's
/// UID when the server reports it (UIDPLUS, RFC 4315 `APPENDUID`).
async fn append<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<'_, S>,
    mailbox: &str,
    message: &[u8],
    literal_plus: bool,
) -> Result<Option<u32>, Failure> {
    const WHAT: &str = "APPEND";
    let plus = if literal_plus { "+" } else { "" };
    let command = format!("APPEND {mailbox} {{{}{plus}}}", message.len());
    let tag = session.send_command(command.as_bytes(), false).await?;
    if !literal_plus {
        loop {
            let response = session.read().await?;
            match response.kind() {
                Some(Kind::Continuation) => break,
                Some(Kind::Tagged(t)) if t == tag => return Err(refused(WHAT, &response)),
                Some(Kind::Untagged) if response.status() == Some(Status::Bye) => {
                    return Err(closed(&response));
                }
                Some(Kind::Untagged) => {}
                _ => {
                    return Err(Failure::other(format!(
                        "{WHAT}: the server answered with a line that is not IMAP: {}",
                        response.text_lossy()
                    )));
                }
            }
        }
    }
    session.send_bytes(message).await?;
    session.send_line(b"", false).await?;
    let done = session.complete(&tag, WHAT).await?.done;
    // [APPENDUID uidvalidity uid]
    let uid = done.code().and_then(|code| {
        let text = std::str::from_utf8(code).ok()?;
        let mut words = text.split(' ');
        if !words.next()?.eq_ignore_ascii_case("APPENDUID") {
            return None;
        }
        words.nth(1)?.parse().ok()
    });
    Ok(uid)
}

/// LOGOUT: the server's BYE and tagged OK, then our end of the connection closed.
async fn logout<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<'_, S>,
) -> Result<(), Failure> {
    let tag = session.send_command(b"LOGOUT", false).await?;
    loop {
        let response = session.read().await?;
        if response.kind() == Some(Kind::Tagged(&tag)) {
            if response.status() != Some(Status::Ok) {
                return Err(refused("LOGOUT", &response));
            }
            break;
        }
    }
    // Best effort: everything was read and answered.
    let _ = session.io().shutdown().await;
    Ok(())
}

/// The message of `--append`, with bare LF line ends made CRLF (IMAP messages end lines with
/// CRLF; Cyrus refuses bare newlines).
fn read_message(path: &Path) -> Result<Vec<u8>, Failure> {
    let raw = std::fs::read(path)
        .map_err(|e| Failure::usage(format!("--append {}: {e}", path.display())))?;
    if raw.is_empty() {
        return Err(Failure::usage(format!(
            "--append {}: the file is empty",
            path.display()
        )));
    }
    Ok(crlf(&raw))
}

/// `text` with every LF not preceded by CR preceded by one.
fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32);
    let mut previous = 0u8;
    for &b in text {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url = parse_imap_url("imap://localhost").unwrap();
        assert_eq!((url.tls, url.port), (false, 143));
        let url = parse_imap_url("imaps://127.0.0.1:10993/").unwrap();
        assert_eq!(
            (url.tls, url.host.as_str(), url.port),
            (true, "127.0.0.1", 10993)
        );
        assert_eq!(parse_imap_url("ldap://h").unwrap_err().exit_code, 2);
    }

    #[test]
    fn headers_are_unfolded_and_found_in_the_header_only() {
        let message = b"From: Alice <a@x>\r\nSubject: one\r\n two\r\n\r\nSubject: body\r\n";
        assert_eq!(header(message, "subject").unwrap(), "one two");
        assert_eq!(header(message, "From").unwrap(), "Alice <a@x>");
        assert_eq!(header(b"\r\n\r\nFrom: x\r\n", "From"), None);
        assert_eq!(shorten("abcdef", 4), "abc…");
    }

    #[test]
    fn bare_line_feeds_become_crlf() {
        assert_eq!(crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    }

    #[test]
    fn a_body_must_match_its_announced_size() {
        let attributes = vec![
            ("UID".to_owned(), Token::Atom(b"4")),
            ("RFC822.SIZE".to_owned(), Token::Atom(b"3")),
            ("BODY[]".to_owned(), Token::Literal(b"ab")),
        ];
        let err = Fetched::from(&attributes).err().unwrap();
        assert!(err.message.contains("RFC822.SIZE says 3"), "{err}");
        let flags_only = vec![("UID".to_owned(), Token::Atom(b"4"))];
        assert!(Fetched::from(&flags_only).unwrap().is_none());
    }
}
