//! `sealcat connect HOST:PORT --imap --sasl MECH`: log in to an IMAP server the way `imtest`
//! does (STARTTLS first with `--starttls`, then AUTHENTICATE with the mechanism and layer asked
//! for), then relay the terminal through the negotiated layer: a person types IMAP commands
//! (`a1 SELECT INBOX`) and reads the answers, every byte of both sealed.
//!
//! The login is the `imap_client` example's code (`sealstream_examples::imap::login`), which
//! the Cyrus IMAP interop tests prove. Lines typed at a terminal end in LF and IMAP's in CRLF,
//! so each LF not preceded by CR goes out as CRLF ([`CrlfLines`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use rustls::pki_types::ServerName;
use sealstream::{EofPolicy, SealedStream, StreamBuilder};
use sealstream_examples::failure::Failure;
use sealstream_examples::imap::login::{ask_capabilities, greeting, login, starttls};
use sealstream_examples::imap::session::{Session, Trace};
use sealstream_examples::mechanism::describe;
use sealstream_sasl::{ClientMechanism, Ready, SaslSealer};
use sealstream_tls::TlsConnector;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::relay::{Moved, Until, relay};

/// The SASL service of IMAP: DIGEST-MD5's `digest-uri` and the Kerberos service `imap/HOST`.
pub(crate) const SERVICE: &str = "imap";

/// Log in to the IMAP server at `addr` over `tcp` with `mechanism` (after STARTTLS with
/// `tls` when given), then relay the terminal through the layer until the server closes.
/// With `verbose`, the protocol lines of the login and the layer go to stderr.
pub(crate) async fn connect(
    addr: &str,
    tcp: TcpStream,
    mechanism: Box<dyn ClientMechanism>,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    verbose: bool,
) -> Result<Moved, String> {
    let fail = |f: Failure| format!("IMAP server {addr}: {f}");
    let mut stderr = io::stderr();
    let trace: Trace<'_> = if verbose { Some(&mut stderr) } else { None };
    let mut session = Session::new(tcp, trace);
    let offered = greeting(&mut session).await.map_err(fail)?;
    let Some((config, name)) = tls else {
        let (from_peer, to_peer) = sealed(addr, session, mechanism).await?.into_split();
        return relay_terminal(addr, from_peer, to_peer).await;
    };
    let offered = match offered {
        Some(capabilities) => capabilities,
        None => ask_capabilities(&mut session).await.map_err(fail)?,
    };
    let (tcp, parts) = starttls(session, &offered).await.map_err(fail)?;
    let tls = TlsConnector::new(config)
        .handshake_timeout(super::HANDSHAKE_TIMEOUT)
        .connect(name, tcp)
        .await
        .map_err(|e| super::handshake_error(addr, &e))?;
    // A layer over TLS splits without a lock too: each half over TLS's half.
    let stream = sealed(addr, Session::resume(tls, parts), mechanism).await?;
    let (from_peer, to_peer) = stream.into_split();
    relay_terminal(addr, from_peer, to_peer).await
}

/// Relay the terminal (lines ending in CRLF) to the peer and the peer to stdout.
async fn relay_terminal<R, W>(addr: &str, from_peer: R, to_peer: W) -> Result<Moved, String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    relay(
        from_peer,
        to_peer,
        CrlfLines::new(tokio::io::stdin()),
        tokio::io::stdout(),
        Until::PeerClosed,
    )
    .await
    .map_err(|e| format!("connection to {addr}: {e}"))
}

/// Authenticate over `session` and install the layer on its connection.
async fn sealed<S>(
    addr: &str,
    mut session: Session<'_, S>,
    mechanism: Box<dyn ClientMechanism>,
) -> Result<SealedStream<S, SaslSealer>, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let fail = |f: Failure| format!("IMAP server {addr}: {f}");
    let offered = ask_capabilities(&mut session).await.map_err(fail)?;
    let authenticated = login(&mut session, &offered, Box::new(Ready::new(mechanism)))
        .await
        .map_err(fail)?;
    let mechanism = authenticated.mechanism;
    session.note(&format!(
        "sealcat: connected to {addr}: IMAP, {}",
        describe(&*mechanism, "authenticated").map_err(fail)?
    ));
    // --qop asks for a layer, so the mechanism has refused an exchange without one.
    let layer = mechanism
        .into_layer()
        .map_err(|e| format!("IMAP server {addr}: {e}"))?
        .ok_or_else(|| format!("IMAP server {addr}: the exchange negotiated no security layer"))?;
    let sealer = layer
        .into_sealer()
        .map_err(|e| format!("cannot install the security layer: {e}"))?;
    let (io, buffered, _) = session.into_parts();
    // The server's bytes after its OK are the layer's first; a SASL layer ends with the
    // connection.
    Ok(StreamBuilder::new()
        .eof_policy(EofPolicy::CleanEnd)
        .leftover_ciphertext(buffered)
        .build(io, sealer))
}

/// A reader that ends every line in CRLF: an LF not preceded by CR comes out as CRLF.
#[derive(Debug)]
pub(crate) struct CrlfLines<R> {
    inner: R,
    /// Read from `inner`, not yet handed out (at most one read's worth, expanded).
    pending: Vec<u8>,
    /// How much of `pending` has been handed out.
    at: usize,
    /// Whether the last byte read from `inner` was a CR.
    after_cr: bool,
}

impl<R> CrlfLines<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            at: 0,
            after_cr: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for CrlfLines<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at == this.pending.len() {
            let mut raw = [0u8; 4096];
            let mut raw_buf = ReadBuf::new(&mut raw);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut raw_buf))?;
            this.pending.clear();
            this.at = 0;
            for &b in raw_buf.filled() {
                if b == b'\n' && !this.after_cr {
                    this.pending.push(b'\r');
                }
                this.pending.push(b);
                this.after_cr = b == b'\r';
            }
        }
        let n = buf.remaining().min(this.pending.len() - this.at);
        buf.put_slice(&this.pending[this.at..this.at + n]);
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn lines_end_in_crlf_whatever_the_reads() {
        let input = b"a1 NOOP\na2 LOGOUT\r\n\n".to_vec();
        // One byte at a time: a CR and its LF in different reads stay one CRLF.
        let chunked = sealstream_testkit::mock_io::ChunkedIo::new(
            std::io::Cursor::new(input),
            vec![1],
            vec![1],
            vec![true, false],
        );
        let mut out = Vec::new();
        CrlfLines::new(chunked).read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"a1 NOOP\r\na2 LOGOUT\r\n\r\n");
    }
}
