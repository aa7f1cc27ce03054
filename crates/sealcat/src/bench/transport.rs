//! The implementations compared, each giving connected client and server halves over loopback
//! TCP: sealstream-tls (owned halves, no lock), tokio-rustls (split with `tokio::io::split`, the
//! way its users run both directions at once), plain TCP, and sealstream with a SASL layer
//! (`--sealer digest-md5-*`, `krb5-aes256-*`, `ntlm-*`).
//!
//! Every implementation of a TLS comparison is read the same way, into the reader's 64 KiB
//! buffer ([`Reader::Copying`]); `sealstream-tls (in place)` is sealstream-tls read with
//! `fill_buf`/`consume` ([`Reader::InPlace`]), the plaintext lent where it was unsealed, as a
//! parser would read it, measured as a row of its own. A SASL layer, judged against its own
//! primitives, is read in place.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::Resumption;
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::error::{BenchError, BenchResult};
use super::sasl::SaslLayer;
use crate::net::sasl::exchange;

/// A reading half of any implementation, as its users would read it: sealstream lends its
/// plaintext in place (`AsyncBufRead`), the others are read into the caller's buffer.
pub(crate) enum Reader {
    /// `read` into a buffer of the caller's.
    Copying(Box<dyn AsyncRead + Send + Unpin>),
    /// `fill_buf` and `consume`, or `read`.
    InPlace(Box<dyn AsyncBufRead + Send + Unpin>),
}

impl AsyncRead for Reader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Reader::Copying(r) => Pin::new(r).poll_read(cx, buf),
            Reader::InPlace(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}
/// A writing half of any implementation.
pub(crate) type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// One end of a connection, split.
pub(crate) struct End {
    pub(crate) reader: Reader,
    pub(crate) writer: Writer,
}

/// What is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Impl {
    Sealstream,
    /// sealstream-tls read in place (`AsyncBufRead`).
    SealstreamInPlace,
    TokioRustls,
    Plain,
    /// sealstream with a SASL security layer (DIGEST-MD5 or Kerberos).
    Sasl(SaslLayer),
}

impl Impl {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Impl::Sealstream => "sealstream-tls",
            Impl::SealstreamInPlace => "sealstream-tls (in place)",
            Impl::TokioRustls => "tokio-rustls",
            Impl::Plain => "plain TCP",
            Impl::Sasl(layer) => layer.name(),
        }
    }

    /// The name `--compare` takes for it.
    pub(crate) fn cli_name(self) -> &'static str {
        match self {
            Impl::Plain => "plain",
            Impl::SealstreamInPlace => "sealstream-tls-in-place",
            other => other.name(),
        }
    }

    pub(crate) fn parse(name: &str) -> BenchResult<Self> {
        match name {
            "sealstream" | "sealstream-tls" | "tls" => Ok(Impl::Sealstream),
            "sealstream-tls-in-place" | "in-place" => Ok(Impl::SealstreamInPlace),
            "tokio-rustls" => Ok(Impl::TokioRustls),
            "plain" | "tcp" => Ok(Impl::Plain),
            other => SaslLayer::parse(other).map(Impl::Sasl).ok_or_else(|| {
                let layers: Vec<&str> = SaslLayer::ALL.iter().map(|l| l.name()).collect();
                BenchError::Usage(format!(
                    "unknown implementation {other:?} (sealstream-tls, sealstream-tls-in-place, \
                     tokio-rustls, plain, {})",
                    layers.join(", ")
                ))
            }),
        }
    }

    /// Whether this is one of ours (the figures the ratios are taken of).
    pub(crate) fn is_sealstream(self) -> bool {
        matches!(
            self,
            Impl::Sealstream | Impl::SealstreamInPlace | Impl::Sasl(_)
        )
    }

    /// Whether this differs from another measured implementation only in how it is read: its
    /// latency, handshakes and idle memory are that one's, so only throughput is measured.
    pub(crate) fn is_read_variant(self) -> bool {
        self == Impl::SealstreamInPlace
    }

    /// Plaintext bytes in one full record or frame.
    pub(crate) fn record_payload(self) -> usize {
        match self {
            Impl::Sasl(layer) => layer.frame_payload(),
            _ => sealstream_tls::MAX_PLAINTEXT,
        }
    }
}

/// The TLS set-up shared by every connection of a run: one self-signed certificate, configs
/// limited to one suite, resumption off so every handshake is a full one.
pub(crate) struct Tls {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    /// Made once, as a server makes its acceptor once: each copies its config when made.
    connector: sealstream_tls::TlsConnector,
    acceptor: sealstream_tls::TlsAcceptor,
    pub(crate) suite: SupportedCipherSuite,
    /// `--take-turns`: whether sealstream-tls's halves take turns at the socket.
    take_turns: bool,
}

impl Tls {
    pub(crate) fn new(suite_name: &str, take_turns: bool) -> BenchResult<Self> {
        let provider = aws_lc_rs::default_provider();
        let suite = *provider
            .cipher_suites
            .iter()
            .find(|s| format!("{:?}", s.suite()).eq_ignore_ascii_case(suite_name))
            .ok_or_else(|| {
                let known: Vec<String> = provider
                    .cipher_suites
                    .iter()
                    .map(|s| format!("{:?}", s.suite()))
                    .collect();
                BenchError::Usage(format!(
                    "unknown cipher suite {suite_name:?}; known: {}",
                    known.join(", ")
                ))
            })?;
        let provider = Arc::new(rustls::crypto::CryptoProvider {
            cipher_suites: vec![suite],
            ..provider
        });
        let version = suite.version();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])
            .map_err(BenchError::setup)?;
        let cert_der: CertificateDer<'static> = cert.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[version])
            .map_err(BenchError::setup)?
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.clone()], key)
            .map_err(BenchError::setup)?;
        let mut roots = RootCertStore::empty();
        roots.add(cert_der).map_err(BenchError::setup)?;
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .map_err(BenchError::setup)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.resumption = Resumption::disabled();
        let (client, server) = (Arc::new(client), Arc::new(server));
        Ok(Self {
            // Resumption is off for every implementation; rustls cannot tell our connector so,
            // and without this it would keep rustls's ticket store on each client (about 1.5 KB
            // an idle connection) to feed tickets into a store that drops them.
            connector: sealstream_tls::TlsConnector::new(client.clone())
                .store_session_tickets(false),
            acceptor: sealstream_tls::TlsAcceptor::new(server.clone()),
            client,
            server,
            suite,
            take_turns,
        })
    }

    /// How each sealstream-tls end is built.
    fn builder(&self) -> sealstream::StreamBuilder {
        sealstream::StreamBuilder::new().take_turns(self.take_turns)
    }
}

/// A listener that hands out connected loopback TCP pairs.
pub(crate) struct Loopback {
    listener: TcpListener,
}

impl Loopback {
    pub(crate) async fn new() -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind("127.0.0.1:0").await?,
        })
    }

    async fn tcp_pair(&self) -> io::Result<(TcpStream, TcpStream)> {
        let addr = self.listener.local_addr()?;
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), self.listener.accept());
        let (client, (server, _)) = (client?, accepted?);
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        Ok((client, server))
    }

    /// A connected (client, server) pair of `which`, handshake done.
    pub(crate) async fn pair(&self, which: Impl, tls: &Tls) -> io::Result<(End, End)> {
        let (c, s) = self.tcp_pair().await?;
        let (client, server) = tokio::join!(client_end(which, tls, c), server_end(which, tls, s));
        Ok((client?, server?))
    }
}

fn split<R, W>((reader, writer): (R, W)) -> End
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    End {
        reader: Reader::Copying(Box::new(reader)),
        writer: Box::new(writer),
    }
}

/// [`split`] for sealstream's halves, whose plaintext is read in place.
fn split_in_place<R, W>((reader, writer): (R, W)) -> End
where
    R: AsyncBufRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    End {
        reader: Reader::InPlace(Box::new(reader)),
        writer: Box::new(writer),
    }
}

/// A sealstream-tls end, split, read into a buffer or ([`Impl::SealstreamInPlace`]) in place.
fn sealstream_tls_end(which: Impl, stream: sealstream_tls::TlsStream<TcpStream>) -> End {
    if which == Impl::SealstreamInPlace {
        split_in_place(stream.into_split())
    } else {
        split(stream.into_split())
    }
}

/// The client end of `which` over `tcp`, handshake done (the server end runs elsewhere).
pub(crate) async fn client_end(which: Impl, tls: &Tls, tcp: TcpStream) -> io::Result<End> {
    let name = ServerName::try_from("localhost").expect("valid name");
    match which {
        Impl::Plain => Ok(split(tcp.into_split())),
        Impl::Sealstream | Impl::SealstreamInPlace => Ok(sealstream_tls_end(
            which,
            tls.connector.connect_with(name, tcp, tls.builder()).await?,
        )),
        Impl::TokioRustls => {
            let connector = tokio_rustls::TlsConnector::from(tls.client.clone());
            Ok(split(tokio::io::split(connector.connect(name, tcp).await?)))
        }
        Impl::Sasl(layer) => {
            let (mechanism, _) = layer.mechanisms().map_err(io::Error::other)?;
            let done = exchange::client(tcp, mechanism)
                .await
                .map_err(io::Error::other)?;
            Ok(split_in_place(done.stream.into_split()))
        }
    }
}

/// The server end of `which` over `tcp`, handshake done (the client end runs elsewhere).
pub(crate) async fn server_end(which: Impl, tls: &Tls, tcp: TcpStream) -> io::Result<End> {
    match which {
        Impl::Plain => Ok(split(tcp.into_split())),
        Impl::Sealstream | Impl::SealstreamInPlace => Ok(sealstream_tls_end(
            which,
            tls.acceptor.accept_with(tcp, tls.builder()).await?,
        )),
        Impl::TokioRustls => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.server.clone());
            Ok(split(tokio::io::split(acceptor.accept(tcp).await?)))
        }
        Impl::Sasl(layer) => {
            let (_, mechanism) = layer.mechanisms().map_err(io::Error::other)?;
            let done = exchange::server(tcp, mechanism)
                .await
                .map_err(io::Error::other)?;
            Ok(split_in_place(done.stream.into_split()))
        }
    }
}
