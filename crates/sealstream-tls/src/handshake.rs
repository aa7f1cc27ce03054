//! The handshake, driven by rustls's unbuffered API over any transport.
//!
//! The unbuffered API reports how many input bytes each step consumed, so everything rustls
//! did not consume (records that followed the handshake) stays ours and is handed to the
//! stream's read half, and application data rustls decrypted during the handshake is handed
//! out first. (The buffered API's secret extraction drops both; see shared/notes/tls-rustls.md.)

use std::io;
use std::sync::Arc;

use rustls::client::{ClientConnectionData, UnbufferedClientConnection};
use rustls::kernel::KernelConnection;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{
    ConnectionState, EncodeError, InsufficientSizeError, UnbufferedConnectionCommon,
    UnbufferedStatus,
};
use rustls::{ExtractedSecrets, SideData};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::capture::{self, Captured, Transcript};
use crate::channel_binding;
use crate::info::{Bindings, Tls12Master, TlsInfo};
use crate::key_schedule::DirectionKeys;
use crate::tickets::Tickets;

/// The most handshake bytes buffered at once (a certificate chain fits easily).
const MAX_HANDSHAKE_BUFFER: usize = 256 * 1024;

/// What a finished handshake leaves for the stream.
pub(crate) struct Handshaken {
    /// The sending direction's keys.
    pub(crate) tx: DirectionKeys,
    /// The receiving direction's keys.
    pub(crate) rx: DirectionKeys,
    /// A TLS 1.3 client's session-ticket store.
    pub(crate) tickets: Option<Tickets>,
    pub(crate) info: Arc<TlsInfo>,
    /// Received bytes rustls did not consume: records of the sealed stream.
    pub(crate) ciphertext: Vec<u8>,
    /// Application data rustls decrypted during the handshake.
    pub(crate) plaintext: Vec<u8>,
}

/// What the hand-over takes from rustls: the traffic keys and sequence numbers, and on a client
/// the state that stores session tickets.
pub(crate) type Extracted = (
    ExtractedSecrets,
    Option<KernelConnection<ClientConnectionData>>,
);

/// The two unbuffered connection types, as one.
pub(crate) trait Unbuffered: Sized {
    type Data: SideData;

    /// Whether this is the server end.
    const IS_SERVER: bool;

    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data>;

    /// The extracted secrets and, on a client, what stores session tickets.
    fn finish(self) -> Result<Extracted, rustls::Error>;

    /// What both connection types share.
    fn common(&self) -> &UnbufferedConnectionCommon<Self::Data>;

    /// The negotiated parameters; `server_name` as the client asked for it or the server
    /// received it.
    fn info(&self, server_name: Option<String>) -> io::Result<TlsInfo> {
        let common = self.common();
        let incomplete = || io::Error::other("handshake finished without negotiated parameters");
        Ok(TlsInfo {
            version: common.protocol_version().ok_or_else(incomplete)?,
            suite: common.negotiated_cipher_suite().ok_or_else(incomplete)?,
            handshake_kind: common.handshake_kind().ok_or_else(incomplete)?,
            alpn: common.alpn_protocol().map(Box::from),
            peer_certificates: common
                .peer_certificates()
                .map(Box::from)
                .unwrap_or_default(),
            server_name: server_name.map(String::into_boxed_str),
            bindings: Bindings::default(),
        })
    }

    /// Whether rustls has records queued to send.
    fn wants_write(&self) -> bool {
        self.common().wants_write()
    }

    /// Whether the handshake is still running.
    fn is_handshaking(&self) -> bool {
        self.common().is_handshaking()
    }
}

impl Unbuffered for UnbufferedClientConnection {
    type Data = rustls::client::ClientConnectionData;
    const IS_SERVER: bool = false;

    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }

    fn finish(self) -> Result<Extracted, rustls::Error> {
        self.dangerous_into_kernel_connection()
            .map(|(secrets, kernel)| (secrets, Some(kernel)))
    }

    fn common(&self) -> &UnbufferedConnectionCommon<Self::Data> {
        self
    }
}

impl Unbuffered for UnbufferedServerConnection {
    type Data = rustls::server::ServerConnectionData;
    const IS_SERVER: bool = true;

    fn process<'c, 'i>(
        &'c mut self,
        incoming: &'i mut [u8],
    ) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(incoming)
    }

    fn finish(self) -> Result<Extracted, rustls::Error> {
        // A server receives no session tickets and ratchets its own keys: rustls's state goes.
        self.dangerous_into_kernel_connection()
            .map(|(secrets, _)| (secrets, None))
    }

    fn common(&self) -> &UnbufferedConnectionCommon<Self::Data> {
        self
    }
}

fn tls_error(err: rustls::Error) -> io::Error {
    match err {
        // Application data that followed the handshake closely enough for rustls to decrypt
        // it here failed authentication: the same failure our record layer reports.
        rustls::Error::DecryptError => sealstream::Error::new(
            sealstream::Status::MessageAltered,
            "TLS record failed authentication (bad_record_mac)",
        )
        .into(),
        err => io::Error::new(io::ErrorKind::InvalidData, err),
    }
}

/// After a handshake error, send the fatal alert rustls queued for it, so the peer learns why
/// instead of seeing the connection drop. Best effort: the handshake has failed either way.
///
/// rustls's deframer keeps positions into `incoming`, so it gets the same buffer again (with
/// the failed call's discard applied), never an empty one.
async fn send_queued_alert<C, T>(conn: &mut C, io: &mut T, incoming: &mut [u8])
where
    C: Unbuffered,
    T: AsyncWrite + Unpin,
{
    let mut out = Vec::new();
    // Only while rustls has something queued: with nothing queued, `process` would parse the
    // offending bytes again and fail a second time.
    while conn.wants_write() {
        let Ok(ConnectionState::EncodeTlsData(mut encoder)) = conn.process(incoming).state else {
            break;
        };
        let queued = out.len();
        match encoder.encode(&mut []) {
            Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
                out.resize(queued + required_size, 0);
                match encoder.encode(&mut out[queued..]) {
                    Ok(n) => out.truncate(queued + n),
                    Err(_) => break,
                }
            }
            Ok(_) | Err(_) => break,
        }
    }
    if !out.is_empty() {
        let _ = io.write_all(&out).await;
        let _ = io.flush().await;
    }
}

/// Bytes of a record header: content type, version, length.
const RECORD_HEADER: usize = 5;

/// What rustls may see next, as new `(visible, shown)`, or `None` if nothing new has arrived.
///
/// rustls is shown the received bytes one record at a time (record headers are not
/// encrypted), never past the record that ends the handshake. Shown more, it would go on to
/// read the records after the peer's Finished, which the record layer is about to take over:
/// it would decrypt application data with its own sequence numbers, and act on a KeyUpdate
/// (ratchet its keys and queue a reply that the hand-over then drops). `shown` ends the whole
/// records rustls has seen; the next one is shown whole if it is all there, or else as far as
/// it has arrived (rustls checks a header as soon as it has one: content type, version,
/// length).
fn reveal(received: &[u8], shown: usize, visible: usize) -> Option<(usize, usize)> {
    let next = &received[shown..];
    let whole = next.get(..RECORD_HEADER).and_then(|header| {
        let end = RECORD_HEADER + usize::from(u16::from_be_bytes([header[3], header[4]]));
        (end <= next.len()).then_some(shown + end)
    });
    match whole {
        Some(end) => Some((end, end)),
        None if received.len() > visible => Some((received.len(), shown)),
        None => None,
    }
}

/// Run the handshake of `conn` over `io` to completion; `received` is what the transport
/// delivered before (a ClientHello a lazy acceptor read), taken first.
pub(crate) async fn handshake<C, T>(
    mut conn: C,
    io: &mut T,
    server_name: Option<String>,
    received: Vec<u8>,
) -> io::Result<Handshaken>
where
    C: Unbuffered,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut incoming = received;
    // incoming[..filled] is what the transport delivered; rustls sees incoming[..visible], and
    // incoming[..shown] is the whole records among it (see `reveal`).
    let (mut filled, mut visible, mut shown): (usize, usize, usize) = (incoming.len(), 0, 0);
    incoming.resize(incoming.len().max(16 * 1024), 0);
    let mut outgoing = vec![0u8; 4 * 1024];
    let mut queued = 0;
    let mut plaintext = Vec::new();
    let mut captured = Captured::default();
    // The ServerHello's random, for a TLS 1.2 exporter (see `capture::server_random`).
    let mut server_random: Option<[u8; 32]> = None;
    // TLS 1.2's messages before the first Finished, for tls-unique.
    let mut transcript = Transcript::default();
    loop {
        // Once the handshake is over and rustls has encoded everything it queued (a TLS 1.3
        // server's session tickets), send that and stop. Records still to come are ciphertext
        // for our record layer, which keeps what came before a bad one.
        if !conn.is_handshaking() && !conn.wants_write() {
            if queued > 0 {
                io.write_all(&outgoing[..queued]).await?;
                io.flush().await?;
            }
            break;
        }
        let UnbufferedStatus { mut discard, state } =
            capture::during(&mut captured, || conn.process(&mut incoming[..visible]));
        let mut need_bytes = false;
        let mut done = false;
        let state = match state {
            Ok(state) => state,
            Err(err) => {
                incoming.copy_within(discard..filled, 0);
                visible -= discard;
                send_queued_alert(&mut conn, io, &mut incoming[..visible]).await;
                return Err(tls_error(err));
            }
        };
        match state {
            ConnectionState::EncodeTlsData(mut encoder) => loop {
                match encoder.encode(&mut outgoing[queued..]) {
                    Ok(n) => {
                        queued += n;
                        break;
                    }
                    Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
                        outgoing.resize(queued + required_size, 0);
                    }
                    Err(err) => return Err(io::Error::other(err)),
                }
            },
            ConnectionState::TransmitTlsData(transmit) => {
                if C::IS_SERVER && server_random.is_none() {
                    server_random = capture::server_random(&outgoing[..queued]);
                }
                transcript.records(&outgoing[..queued], !C::IS_SERVER);
                io.write_all(&outgoing[..queued]).await?;
                io.flush().await?;
                queued = 0;
                transmit.done();
            }
            ConnectionState::BlockedHandshake => need_bytes = true,
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    let record = record.map_err(tls_error)?;
                    discard += record.discard;
                    plaintext.extend_from_slice(record.payload);
                }
            }
            ConnectionState::WriteTraffic(_) => done = true,
            ConnectionState::PeerClosed | ConnectionState::Closed => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed the connection during the TLS handshake",
                ));
            }
            other => {
                return Err(io::Error::other(format!(
                    "unexpected TLS handshake state {other:?}"
                )));
            }
        }
        // Only when rustls let go of something: it holds the discard back while a handshake
        // message is split across records, and a move per tiny record would cost the whole
        // buffer each time.
        if discard > 0 {
            incoming.copy_within(discard..filled, 0);
        }
        filled -= discard;
        visible -= discard;
        shown = shown.saturating_sub(discard);
        if done {
            break;
        }
        // rustls has read everything it was shown: show it the next record, reading from the
        // transport first if that record is not all there.
        if !need_bytes {
            continue;
        }
        loop {
            if let Some(more) = reveal(&incoming[..filled], shown, visible) {
                transcript.records(&incoming[shown..more.1], C::IS_SERVER);
                (visible, shown) = more;
                break;
            }
            if filled == incoming.len() {
                if incoming.len() >= MAX_HANDSHAKE_BUFFER {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "TLS handshake message larger than 256 KiB",
                    ));
                }
                incoming.resize(incoming.len() * 2, 0);
            }
            let n = io.read(&mut incoming[filled..]).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the transport ended during the TLS handshake",
                ));
            }
            filled += n;
            if !C::IS_SERVER && server_random.is_none() {
                server_random = capture::server_random(&incoming[..filled]);
            }
        }
    }
    let server_name = if C::IS_SERVER {
        captured.sni.take()
    } else {
        server_name
    };
    let mut info = conn.info(server_name)?;
    info.bindings = Bindings {
        is_server: C::IS_SERVER,
        exporter_secret: captured.exporter_secret.take().map(Arc::new),
        tls_unique: captured
            .tls12_master
            .as_ref()
            .and_then(|(_, master)| channel_binding::tls_unique(info.suite, master, &transcript)),
        tls12_master: match (captured.tls12_master.take(), server_random) {
            (Some((client_random, master)), Some(server_random)) => {
                let mut randoms = [0u8; 64];
                randoms[..32].copy_from_slice(client_random.get(..32).unwrap_or(&[0; 32]));
                randoms[32..].copy_from_slice(&server_random);
                (client_random.len() == 32).then(|| Arc::new(Tls12Master { master, randoms }))
            }
            _ => None,
        },
        own_key: captured.server_key.take(),
    };
    let (secrets, kernel) = conn.finish().map_err(tls_error)?;
    let (tx_logged, rx_logged) = if C::IS_SERVER {
        (
            &captured.server_traffic_secret,
            &captured.client_traffic_secret,
        )
    } else {
        (
            &captured.client_traffic_secret,
            &captured.server_traffic_secret,
        )
    };
    let tx = DirectionKeys::new(
        info.suite,
        secrets.tx,
        tx_logged.as_deref().map(Vec::as_slice),
    )?;
    let rx = DirectionKeys::new(
        info.suite,
        secrets.rx,
        rx_logged.as_deref().map(Vec::as_slice),
    )?;
    // TLS 1.2 tickets arrive during the handshake; only a TLS 1.3 client needs the store after.
    let tickets = kernel.filter(|_| info.is_tls13()).map(Tickets::new);
    incoming.truncate(filled);
    Ok(Handshaken {
        tx,
        rx,
        tickets,
        info: Arc::new(info),
        ciphertext: incoming,
        plaintext,
    })
}
