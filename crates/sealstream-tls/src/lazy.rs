//! Choosing the server's configuration from the ClientHello: tokio-rustls's
//! `LazyConfigAcceptor`. A server with several certificates (virtual hosts) or protocols reads
//! the client's first flight, looks at its SNI and ALPN offer, and only then picks the
//! `ServerConfig`, or hands the connection elsewhere.
//!
//! rustls's `server::Acceptor` parses the ClientHello; every byte read for it is kept and
//! replayed into the handshake of the [`TlsAcceptor`] chosen, so nothing the client sent is
//! lost or read twice.

use std::io;

use rustls::server::Acceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{TlsAcceptor, TlsStream};

/// The most bytes read before a whole ClientHello must have arrived (rustls bounds the message
/// itself; this bounds what we keep for it).
const MAX_CLIENT_HELLO: usize = 64 * 1024;

/// Reads the ClientHello of a connection before its configuration is chosen.
///
/// ```no_run
/// use std::sync::Arc;
/// use sealstream_tls::{LazyConfigAcceptor, TlsAcceptor};
///
/// # async fn serve(tcp: tokio::net::TcpStream, default: TlsAcceptor, admin: TlsAcceptor)
/// #     -> std::io::Result<()> {
/// let start = LazyConfigAcceptor::accept(tcp).await?;
/// let acceptor = match start.server_name() {
///     Some("admin.example.com") => &admin,
///     _ => &default,
/// };
/// let tls = start.into_stream(acceptor).await?;
/// # drop(tls); Ok(()) }
/// ```
#[derive(Debug)]
pub struct LazyConfigAcceptor;

impl LazyConfigAcceptor {
    /// Read from `io` until a whole ClientHello has arrived. A malformed one is answered with
    /// the alert rustls chose and fails with `InvalidData`; a transport that ends first fails
    /// with `UnexpectedEof`. There is no timeout here (the acceptor's `handshake_timeout` starts
    /// with `into_stream`): a server facing untrusted clients wraps this in one of its own.
    pub async fn accept<T>(mut io: T) -> io::Result<StartHandshake<T>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        let mut acceptor = Acceptor::default();
        let mut received = Vec::new();
        let mut chunk = vec![0u8; 4096];
        loop {
            let n = io.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the transport ended before the ClientHello did",
                ));
            }
            received.extend_from_slice(&chunk[..n]);
            let mut fresh = &chunk[..n];
            while !fresh.is_empty() {
                // rustls takes what its buffer has room for; one that takes nothing would have
                // this loop spin, so it is an error here rather than a retry.
                if acceptor.read_tls(&mut fresh)? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "rustls took no more of the ClientHello",
                    ));
                }
            }
            match acceptor.accept() {
                Ok(Some(accepted)) => {
                    let hello = accepted.client_hello();
                    let server_name = hello.server_name().map(str::to_owned);
                    let alpn = hello
                        .alpn()
                        .map(|protocols| protocols.map(<[u8]>::to_vec).collect())
                        .unwrap_or_default();
                    return Ok(StartHandshake {
                        io,
                        received,
                        server_name,
                        alpn,
                    });
                }
                Ok(None) if received.len() < MAX_CLIENT_HELLO => {}
                Ok(None) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "no whole ClientHello within 64 KiB",
                    ));
                }
                Err((err, mut alert)) => {
                    // Best effort: the peer learns why, the error says it anyway.
                    let mut out = Vec::new();
                    if alert.write(&mut out).is_ok() {
                        let _ = io.write_all(&out).await;
                    }
                    return Err(io::Error::new(io::ErrorKind::InvalidData, err));
                }
            }
        }
    }
}

/// A connection whose ClientHello has arrived: what it asks for, and the handshake to run with
/// the acceptor chosen for it.
#[derive(Debug)]
pub struct StartHandshake<T> {
    io: T,
    received: Vec<u8>,
    server_name: Option<String>,
    alpn: Vec<Vec<u8>>,
}

impl<T> StartHandshake<T> {
    /// The server name the client asked for (SNI), if it sent one.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The application protocols the client offered by ALPN, in its order of preference.
    pub fn alpn(&self) -> impl Iterator<Item = &[u8]> {
        self.alpn.iter().map(Vec::as_slice)
    }

    /// Run the handshake with `acceptor`'s configuration, from the ClientHello already read.
    pub async fn into_stream(self, acceptor: &TlsAcceptor) -> io::Result<TlsStream<T>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        acceptor
            .accept_received(self.io, self.received, sealstream::StreamBuilder::new())
            .await
    }

    /// Give the transport back with the bytes read from it (the ClientHello and anything
    /// after), for a server that hands the connection to something else.
    pub fn into_inner(self) -> (T, Vec<u8>) {
        (self.io, self.received)
    }
}
