//! TLS on rustls as a [`sealstream`] sealer: the Schannel row of the SSPI model.
//!
//! rustls runs the handshake (certificates, key exchange, ALPN, resumption), through its
//! unbuffered API so no byte is lost at the hand-over. Then each direction gets its own record
//! cipher from the extracted traffic secrets: the stream's [`ReadHalf`](sealstream::ReadHalf)
//! and [`WriteHalf`](sealstream::WriteHalf) seal and unseal at the same time on two tasks, with no
//! lock between them, where tokio-rustls serialises both directions behind one.
//!
//! ```no_run
//! use std::sync::Arc;
//! use sealstream_tls::TlsConnector;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # async fn run(config: rustls::ClientConfig) -> std::io::Result<()> {
//! let connector = TlsConnector::new(Arc::new(config));
//! let tcp = tokio::net::TcpStream::connect("example.com:443").await?;
//! let name = rustls::pki_types::ServerName::try_from("example.com").unwrap();
//! let tls = connector.connect(name, tcp).await?;
//! println!("{:?}", tls.seal_half().info().suite());
//! let (mut reader, mut writer) = tls.into_split();
//! writer.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
//! writer.flush().await?;
//! let mut page = Vec::new();
//! reader.read_to_end(&mut page).await?; // ends at the server's close_notify
//! # Ok(()) }
//! ```
//!
//! After the handshake the record layer is this crate's: TLS 1.3 and 1.2 with AES-128-GCM,
//! AES-256-GCM and ChaCha20-Poly1305 with aws-lc-rs or ring (no allocation per record; under
//! aws-lc-rs a record is sealed straight from the writer's buffer, and opened straight into the
//! reader's when it fits there and the reader initialized it — `read` into a `Vec` or an array, not
//! `read_buf` into a `BytesMut`, which gets one copy — so plaintext is moved only by the cipher;
//! `AsyncBufRead::fill_buf` lends it in place); close_notify on shutdown, and a transport end
//! without the peer's close_notify reported as truncation; KeyUpdate received and answered through
//! the write half, each half ratcheting its own traffic secret; session tickets stored for
//! resumption (or, with [`TlsConnector::store_session_tickets`], dropped to save memory); TLS 1.2
//! renegotiation refused; fatal alerts sent for records that fail. Once the handshake is over
//! nothing of rustls is kept but a TLS 1.3 client's ticket store.
//!
//! What a tokio-rustls user reads from the connection is on [`TlsInfo`], from either half:
//! version, suite, ALPN, peer certificates, the server name (the SNI a server received),
//! channel bindings ([`TlsInfo::channel_binding`]: `tls-exporter`, `tls-server-end-point`)
//! and keying material ([`TlsInfo::export_keying_material`]: RFC 5705 on TLS 1.2, RFC 8446
//! §7.5 on TLS 1.3).
//!
//! ```no_run
//! # fn run(tls: &sealstream_tls::TlsStream<tokio::net::TcpStream>) -> Result<(), sealstream::Error> {
//! // The same 32 bytes on both ends, bound to this connection.
//! let mut key = [0u8; 32];
//! let info = tls.seal_half().info();
//! info.export_keying_material(&mut key, b"EXPERIMENTAL my-protocol", Some(b"context"))?;
//! println!("{:?} {:?}, SNI {:?}", info.version(), info.alpn(), info.server_name());
//! # Ok(()) }
//! ```
//!
//! The transport comes back where that means something: [`TlsAcceptor::accept_fallible`]
//! returns it with the error of a failed handshake (to answer a client that does not speak TLS),
//! and `SealedStream::into_inner` with the bytes read past the last record (once both sides
//! have closed, to go on in the clear).
//!
//! A server that picks its `ServerConfig` by SNI or ALPN reads the ClientHello first with
//! [`LazyConfigAcceptor`] (as with tokio-rustls's), then runs the handshake with the acceptor
//! it chose ([`StartHandshake::into_stream`]) or takes the transport back.
//!
//! # Errors
//!
//! A handshake that fails is an `io::Error`: of kind `InvalidData`, with the `rustls::Error`
//! inside (`err.get_ref()` downcast; `AlertReceived(..)` for the peer's alert,
//! `InvalidCertificate(..)` for ours), when TLS refused it; `UnexpectedEof` when the transport
//! ended; `TimedOut` after [`TlsConnector::handshake_timeout`]; `InvalidInput` for a config
//! refused up front; the transport's own error otherwise. After the handshake every failure
//! carries a [`sealstream::Error`] ([`sealstream::Error::from_io`]) with its SSPI status and,
//! when a peer's fatal alert ended the stream, [`sealstream::Error::peer_alert`] (the codes are
//! in [`alert`]).
//!
//! 0-RTT early data is neither sent nor accepted: a config that enables it is refused by
//! [`TlsConnector::try_new`] and [`TlsAcceptor::try_new`], and by every handshake of a
//! connector or acceptor made with `new`, before a byte is written.
//!
//! # Crypto backend
//!
//! | feature | record layer | rustls feature it enables |
//! |---|---|---|
//! | `aws-lc-rs` (default) | aws-lc-rs | `aws_lc_rs` |
//! | `ring` | ring | `ring` |
//!
//! To use ring, depend on `sealstream-tls = { version = "0.1", default-features = false,
//! features = ["ring"] }`; one of the two features is required (the build fails with a message
//! otherwise). If both are on, as Cargo's feature unification can arrange, aws-lc-rs seals the
//! records. The feature picks only the record layer: the handshake runs with whatever
//! `CryptoProvider` your `ClientConfig` or `ServerConfig` holds (for example
//! `rustls::crypto::ring::default_provider()`), and the two need not match, since the record
//! layer receives only the traffic secrets rustls extracted. Under ring, expanded key schedules are
//! not wiped from memory when a connection ends (ring's keys do not zeroize on drop); aws-lc
//! wipes them. The raw traffic keys and IVs are zeroized under either.

#![forbid(unsafe_code)]

pub mod alert;
mod capture;
mod channel_binding;
mod cipher;
// The cargo-fuzz targets' entry points: built for them (`--cfg fuzzing`) and for this crate's
// tests, never as public API.
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
mod handshake;
mod info;
mod key_schedule;
mod lazy;
mod provider;
mod record;
mod tickets;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::ServerName;
use rustls::server::UnbufferedServerConnection;
use rustls::{ClientConfig, ServerConfig};
use sealstream::{SealedStream, Sealer, Status, StreamBuilder};
use tokio::io::{AsyncRead, AsyncWrite};

pub use channel_binding::ChannelBinding;
pub use info::TlsInfo;
pub use lazy::{LazyConfigAcceptor, StartHandshake};
pub use record::{MAX_PLAINTEXT, TlsSeal, TlsUnseal};
pub use rustls;

/// The TLS sealer: one [`TlsSeal`] and one [`TlsUnseal`].
#[derive(Debug)]
pub struct Tls {
    seal: TlsSeal,
    unseal: TlsUnseal,
}

impl Sealer for Tls {
    type Seal = TlsSeal;
    type Unseal = TlsUnseal;

    fn into_halves(self) -> (TlsSeal, TlsUnseal) {
        (self.seal, self.unseal)
    }
}

/// A TLS-sealed stream.
pub type TlsStream<T> = SealedStream<T, Tls>;

/// The user's client config with what the hand-over needs: secret extraction, and a key log
/// that also reports the exporter secret for channel bindings (the user's key log still sees
/// everything).
fn client_config(config: &ClientConfig) -> Arc<ClientConfig> {
    let mut ours = config.clone();
    ours.enable_secret_extraction = true;
    ours.key_log = Arc::new(capture::CapturingKeyLog {
        inner: config.key_log.clone(),
    });
    Arc::new(ours)
}

/// The user's server config with secret extraction, the capturing key log, and a certificate
/// resolver that also reports the certificate presented and the SNI received.
fn server_config(config: &ServerConfig) -> Arc<ServerConfig> {
    let mut ours = config.clone();
    ours.enable_secret_extraction = true;
    ours.key_log = Arc::new(capture::CapturingKeyLog {
        inner: config.key_log.clone(),
    });
    ours.cert_resolver = Arc::new(capture::CapturingResolver {
        inner: config.cert_resolver.clone(),
    });
    Arc::new(ours)
}

/// Settings shared by the connector and the acceptor.
#[derive(Clone, Copy, Debug)]
struct Settings {
    /// No timer unless asked for: the runtime may have none (see `handshake_timeout`).
    timeout: Option<Duration>,
    renew_keys_after: Option<u64>,
    /// Whether a TLS 1.3 client keeps what stores session tickets after the handshake.
    store_tickets: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: None,
            renew_keys_after: None,
            store_tickets: true,
        }
    }
}

/// Run the handshake of `conn` over `io` and build the stream; a failure hands `io` back.
async fn finish<T, C>(
    conn: C,
    mut io: T,
    server_name: Option<String>,
    received: Vec<u8>,
    settings: Settings,
    builder: StreamBuilder,
) -> Result<TlsStream<T>, (io::Error, T)>
where
    T: AsyncRead + AsyncWrite + Unpin,
    C: handshake::Unbuffered,
{
    let handshake = handshake::handshake(conn, &mut io, server_name, received);
    let done = match settings.timeout {
        Some(timeout) => match tokio::time::timeout(timeout, handshake).await {
            Ok(done) => done,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("TLS handshake did not finish within {timeout:?}"),
            )),
        },
        None => handshake.await,
    };
    let done = match done {
        Ok(done) => done,
        Err(err) => return Err((err, io)),
    };
    // Under the caller's span if the builder has one, else a root span of its own.
    let parent = builder.get_span().and_then(|span| span.id());
    let span = tracing::debug_span!(
        parent: parent,
        "tls",
        version = ?done.info.version,
        suite = ?done.info.suite.suite(),
        alpn = ?done.info.alpn.as_deref().map(String::from_utf8_lossy),
    );
    let tickets = done.tickets.filter(|_| settings.store_tickets);
    let seal = TlsSeal::new(
        done.tx,
        tickets.clone(),
        done.info.clone(),
        settings.renew_keys_after,
    );
    let unseal = TlsUnseal::new(done.rx, tickets, done.info);
    // A filter that turns the tls span off must not cost the stream the caller's span.
    let builder = if span.is_disabled() {
        builder
    } else {
        builder.span(span)
    };
    Ok(builder
        .leftover_ciphertext(done.ciphertext)
        .leftover_plaintext(done.plaintext)
        .build(io, Tls { seal, unseal }))
}

/// Why a config cannot be used: 0-RTT early data, which sealstream-tls does not send or
/// accept (a handshake would otherwise fail halfway, or early data be replayable).
const EARLY_DATA_CLIENT: &str = "this ClientConfig enables 0-RTT (enable_early_data), which \
    sealstream-tls does not send: set enable_early_data to false";
const EARLY_DATA_SERVER: &str = "this ServerConfig accepts 0-RTT (max_early_data_size > 0), which \
    sealstream-tls does not take: set max_early_data_size to 0";

fn refused(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

/// Connects as a TLS client with the user's `rustls::ClientConfig`.
#[derive(Clone, Debug)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    settings: Settings,
    /// Why `config` cannot connect (see [`TlsConnector::try_new`]).
    refused: Option<&'static str>,
}

impl TlsConnector {
    /// A connector for `config`. It works on a copy that enables secret extraction (the
    /// hand-over to the record layer needs it) and wraps the key log to learn the exporter
    /// secret for [`ChannelBinding::TlsExporter`]; the user's key log still sees every secret it
    /// asks for.
    ///
    /// A config that enables 0-RTT early data is refused: here every `connect` fails with
    /// `InvalidInput` before touching the transport; [`try_new`](Self::try_new) says so at
    /// once.
    pub fn new(config: Arc<ClientConfig>) -> Self {
        Self {
            refused: config.enable_early_data.then_some(EARLY_DATA_CLIENT),
            config: client_config(&config),
            settings: Settings::default(),
        }
    }

    /// [`new`](Self::new), failing with `SEC_E_UNSUPPORTED_FUNCTION` for a config that enables
    /// 0-RTT early data (`enable_early_data`), which sealstream-tls does not send.
    pub fn try_new(config: Arc<ClientConfig>) -> Result<Self, sealstream::Error> {
        let connector = Self::new(config);
        match connector.refused {
            Some(why) => Err(sealstream::Error::new(Status::UnsupportedFunction, why)),
            None => Ok(connector),
        }
    }

    /// Fail handshakes that take longer than `timeout` with `TimedOut` (`None`, the default,
    /// waits as long as the peer does, like tokio-rustls).
    ///
    /// A timeout needs a tokio runtime with its timer enabled (`Builder::enable_time`, or
    /// `enable_all`); on a runtime without one, tokio panics when the handshake starts. A
    /// server facing untrusted clients should set one, or wrap the handshake in a timeout of
    /// its own: a client that opens a connection and sends nothing otherwise holds it open.
    pub fn handshake_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.timeout = timeout.into();
        self
    }

    /// On TLS 1.3, renew the sending key with a KeyUpdate after `records` records under one
    /// key (at least 1). Without this, keys are renewed just before the cipher suite's
    /// confidentiality limit (2^24 records for AES-128-GCM, 2^23 for AES-256-GCM; ChaCha20-
    /// Poly1305 has none). TLS 1.2 cannot renew keys: at the limit the connection sends
    /// close_notify and further writes fail with `SEC_E_CONTEXT_EXPIRED`, as in rustls.
    pub fn renew_keys_after(mut self, records: u64) -> Self {
        self.settings.renew_keys_after = Some(records);
        self
    }

    /// Whether to store the session tickets a TLS 1.3 server sends after the handshake in the
    /// config's session store, for resumption (default: yes).
    ///
    /// Storing them takes rustls's post-handshake state (its `KernelConnection`), which the
    /// read half keeps for the life of the connection: about 1.5 KB, most of it the server's
    /// certificate chain and rustls's key schedule. rustls does not say whether a config's
    /// resumption is disabled, so a client that uses `Resumption::disabled()`, or never
    /// resumes, can say `false` here to save that memory. Tickets that arrive are then checked
    /// for well-formedness and dropped, as RFC 8446 lets a client do. TLS 1.2 clients receive
    /// their tickets during the handshake and are not affected.
    pub fn store_session_tickets(mut self, store: bool) -> Self {
        self.settings.store_tickets = store;
        self
    }

    /// Run the handshake as a client over `io`, verifying the server as `server_name` (also
    /// sent as SNI for DNS names).
    pub async fn connect<T>(
        &self,
        server_name: ServerName<'static>,
        io: T,
    ) -> io::Result<TlsStream<T>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        self.connect_with(server_name, io, StreamBuilder::new())
            .await
    }

    /// [`connect`](Self::connect) with stream settings (buffer sizes, end-of-stream policy). A
    /// span set on the builder becomes the parent of the stream's `tls` span, which records the
    /// version, suite and ALPN.
    pub async fn connect_with<T>(
        &self,
        server_name: ServerName<'static>,
        io: T,
        builder: StreamBuilder,
    ) -> io::Result<TlsStream<T>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        if let Some(why) = self.refused {
            return Err(refused(why));
        }
        let name = server_name.to_str().into_owned();
        let conn = UnbufferedClientConnection::new(self.config.clone(), server_name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        finish(conn, io, Some(name), Vec::new(), self.settings, builder)
            .await
            .map_err(|(err, _io)| err)
    }
}

/// Accepts TLS connections with the user's `rustls::ServerConfig`.
#[derive(Clone, Debug)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
    settings: Settings,
    /// Why `config` cannot accept (see [`TlsAcceptor::try_new`]).
    refused: Option<&'static str>,
}

impl TlsAcceptor {
    /// An acceptor for `config`. Like [`TlsConnector::new`] it works on a copy, whose
    /// certificate resolver is also wrapped to learn the certificate presented (for
    /// [`ChannelBinding::TlsServerEndPoint`]) and the SNI received ([`TlsInfo::server_name`]).
    ///
    /// A config that accepts 0-RTT early data is refused: every `accept` fails with
    /// `InvalidInput` before touching the transport; [`try_new`](Self::try_new) says so at
    /// once.
    pub fn new(config: Arc<ServerConfig>) -> Self {
        Self {
            refused: (config.max_early_data_size > 0).then_some(EARLY_DATA_SERVER),
            config: server_config(&config),
            settings: Settings::default(),
        }
    }

    /// [`new`](Self::new), failing with `SEC_E_UNSUPPORTED_FUNCTION` for a config that accepts
    /// 0-RTT early data (`max_early_data_size > 0`), which sealstream-tls does not take.
    pub fn try_new(config: Arc<ServerConfig>) -> Result<Self, sealstream::Error> {
        let acceptor = Self::new(config);
        match acceptor.refused {
            Some(why) => Err(sealstream::Error::new(Status::UnsupportedFunction, why)),
            None => Ok(acceptor),
        }
    }

    /// Fail handshakes that take longer than `timeout` with `TimedOut` (`None`, the default,
    /// waits as long as the peer does, like tokio-rustls).
    ///
    /// A timeout needs a tokio runtime with its timer enabled (`Builder::enable_time`, or
    /// `enable_all`); on a runtime without one, tokio panics when the handshake starts. A
    /// server facing untrusted clients should set one, or wrap the handshake in a timeout of
    /// its own: a client that opens a connection and sends nothing otherwise holds it open.
    pub fn handshake_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.timeout = timeout.into();
        self
    }

    /// On TLS 1.3, renew the sending key with a KeyUpdate after `records` records under one
    /// key (at least 1). Without this, keys are renewed just before the cipher suite's
    /// confidentiality limit (2^24 records for AES-128-GCM, 2^23 for AES-256-GCM; ChaCha20-
    /// Poly1305 has none). TLS 1.2 cannot renew keys: at the limit the connection sends
    /// close_notify and further writes fail with `SEC_E_CONTEXT_EXPIRED`, as in rustls.
    pub fn renew_keys_after(mut self, records: u64) -> Self {
        self.settings.renew_keys_after = Some(records);
        self
    }

    /// Run the handshake as a server over `io`.
    pub async fn accept<T>(&self, io: T) -> io::Result<TlsStream<T>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_with(io, StreamBuilder::new()).await
    }

    /// [`accept`](Self::accept) with stream settings; a span set on the builder becomes the
    /// parent of the stream's `tls` span, as with [`TlsConnector::connect_with`].
    pub async fn accept_with<T>(&self, io: T, builder: StreamBuilder) -> io::Result<TlsStream<T>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_received(io, Vec::new(), builder).await
    }

    /// [`accept`](Self::accept) that hands the transport back when the handshake fails (as
    /// tokio-rustls's `Accept::into_fallible`): a server can then answer a client that does
    /// not speak TLS in the clear, or log and close it its own way. What the failed handshake
    /// read from the transport is not given back.
    pub async fn accept_fallible<T>(&self, io: T) -> Result<TlsStream<T>, (io::Error, T)>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_received_fallible(io, Vec::new(), StreamBuilder::new())
            .await
    }

    /// [`accept_with`](Self::accept_with), the transport having delivered `received` already.
    pub(crate) async fn accept_received<T>(
        &self,
        io: T,
        received: Vec<u8>,
        builder: StreamBuilder,
    ) -> io::Result<TlsStream<T>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_received_fallible(io, received, builder)
            .await
            .map_err(|(err, _io)| err)
    }

    async fn accept_received_fallible<T>(
        &self,
        io: T,
        received: Vec<u8>,
        builder: StreamBuilder,
    ) -> Result<TlsStream<T>, (io::Error, T)>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        if let Some(why) = self.refused {
            return Err((refused(why), io));
        }
        let conn = match UnbufferedServerConnection::new(self.config.clone()) {
            Ok(conn) => conn,
            Err(e) => return Err((io::Error::new(io::ErrorKind::InvalidInput, e), io)),
        };
        finish(conn, io, None, received, self.settings, builder).await
    }
}
