//! How a [`SealedStream`](crate::SealedStream) is built: buffer sizes, end-of-stream policy,
//! tracing span, and bytes left over from a handshake.

use tracing::Span;

use super::SealedStream;
use super::read::ReadState;
use super::write::WriteState;
use crate::Sealer;

/// What a transport end without the peer's close message means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EofPolicy {
    /// The stream was truncated: reads fail with `UnexpectedEof` (`SEC_E_INCOMPLETE_MESSAGE`).
    /// The default, because an attacker can cut a connection but cannot forge the close.
    #[default]
    Truncation,
    /// A clean end (`Ok(0)`), for application protocols that frame their own messages and detect
    /// truncation themselves (HTTP with Content-Length, LDAP). An end inside a record is still
    /// truncation.
    CleanEnd,
}

/// Default size of the read buffer: several TLS records per read syscall.
pub const DEFAULT_READ_BUFFER: usize = 64 * 1024;
/// The largest read buffer sized to the sealer's largest record rather than to the configured
/// read buffer: records above it (a SASL maxbuf of megabytes) grow the buffer only while one is
/// being received, and only as its bytes arrive (to at most twice what arrived). Whatever a
/// peer announces, a stream allocates no more than this, or the configured read buffer if
/// larger, before the record's bytes arrive.
pub const MAX_RECORD_SIZED_READ_BUFFER: usize = 256 * 1024;
/// Default size of the write buffer: several records coalesced per write syscall.
pub const DEFAULT_WRITE_BUFFER: usize = 64 * 1024;

/// Builds a [`SealedStream`] with non-default settings.
///
/// ```
/// # use sealstream::{EofPolicy, StreamBuilder};
/// let builder = StreamBuilder::new()
///     .read_buffer(32 * 1024)
///     .eof_policy(EofPolicy::CleanEnd);
/// ```
#[derive(Debug)]
#[must_use]
pub struct StreamBuilder {
    pub(crate) read_buffer: usize,
    pub(crate) write_buffer: usize,
    pub(crate) release_idle_buffers: bool,
    pub(crate) take_turns: bool,
    pub(crate) eof: EofPolicy,
    pub(crate) span: Option<Span>,
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) plaintext: Vec<u8>,
}

impl Default for StreamBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamBuilder {
    /// Default settings: 64 KiB buffers per direction, released when idle, split halves that take
    /// turns at a transport whose directions share a lock, EOF without the peer's close is
    /// truncation.
    pub fn new() -> Self {
        Self {
            read_buffer: DEFAULT_READ_BUFFER,
            write_buffer: DEFAULT_WRITE_BUFFER,
            release_idle_buffers: true,
            take_turns: true,
            eof: EofPolicy::Truncation,
            span: None,
            ciphertext: Vec::new(),
            plaintext: Vec::new(),
        }
    }

    /// Size of the read buffer: how much one read from the transport may bring (several records
    /// at once). It is raised to hold the sealer's largest record when that is at most 256 KiB
    /// (a SASL frame of 64 KiB and its length), so full-sized records need no reallocation. A
    /// record larger than the buffer grows it, never beyond the sealer's largest record, until
    /// the record is consumed.
    pub fn read_buffer(mut self, bytes: usize) -> Self {
        self.read_buffer = bytes;
        self
    }

    /// Size of the write buffer, in plaintext: it holds as many whole sealed records as `bytes`
    /// of plaintext fill (at least one), so a write of that size goes to the transport in one
    /// call. The default, 64 KiB, is four full TLS records (65,624 bytes sealed) or one full
    /// 64 KiB SASL frame.
    pub fn write_buffer(mut self, bytes: usize) -> Self {
        self.write_buffer = bytes;
        self
    }

    /// Whether to give back a direction's buffer when it holds nothing unread (reads) or after
    /// a flush (writes), so idle connections, and connections held unread, cost little memory. With it, a
    /// direction that goes quiet also lets its sealer drop what it can rebuild (TLS: the expanded
    /// key schedule; see [`Seal::release_idle`](crate::Seal::release_idle)). On by default; turn
    /// it off to trade memory for fewer allocations on request/response traffic.
    pub fn release_idle_buffers(mut self, release: bool) -> Self {
        self.release_idle_buffers = release;
        self
    }

    /// Whether the read and write halves, split onto two tasks, take turns at the transport: a
    /// half that finds the other inside a call to the transport (a `recv` or a `send`) yields
    /// to its executor and is polled again, instead of calling the transport at the same
    /// moment. On by default. It applies where the two directions share a lock: a `TcpStream`
    /// split with [`into_split`](SealedStream::into_split) (a socket's send and receive paths
    /// share one lock in the kernel, and a thread that meets the other half there sleeps until
    /// it is woken, which left a fifth of two CPUs idle in a one-connection duplex transfer;
    /// BENCHMARKS.md, "Duplex"), and any transport split with
    /// [`into_split_locked`](SealedStream::into_split_locked). Halves over a transport whose
    /// [`SplitTransport::DIRECTIONS_SHARE_A_LOCK`](super::SplitTransport::DIRECTIONS_SHARE_A_LOCK)
    /// is false (a Unix socket, another sealed stream) never yield to each other. Neither half
    /// ever waits for the other; sealing and unsealing still overlap. A stream that is not
    /// split, or whose halves one task polls, is not affected.
    pub fn take_turns(mut self, take_turns: bool) -> Self {
        self.take_turns = take_turns;
        self
    }

    /// What a transport end without the peer's close message means.
    pub fn eof_policy(mut self, eof: EofPolicy) -> Self {
        self.eof = eof;
        self
    }

    /// The span the stream's events are recorded under (by default a new root span
    /// `sealed_stream`). Sealer crates that make a span of their own (with peer, suite and
    /// mechanism) make it a child of this one.
    pub fn span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// The span set with [`span`](Self::span), if any: what a sealer crate's own span goes
    /// under.
    pub fn get_span(&self) -> Option<&Span> {
        self.span.as_ref()
    }

    /// Bytes received from the transport during a handshake that belong to the sealed stream
    /// (records after the handshake's last message). They are unsealed before anything is read.
    pub fn leftover_ciphertext(mut self, bytes: Vec<u8>) -> Self {
        self.ciphertext = bytes;
        self
    }

    /// Application data already unsealed during a handshake; handed out before anything else.
    pub fn leftover_plaintext(mut self, bytes: Vec<u8>) -> Self {
        self.plaintext = bytes;
        self
    }

    /// The stream over `io` protected by `sealer`.
    pub fn build<T, S: Sealer>(self, io: T, sealer: S) -> SealedStream<T, S> {
        let span = self
            .span
            .unwrap_or_else(|| tracing::debug_span!(parent: None, "sealed_stream"));
        let (seal, unseal) = sealer.into_halves();
        let write = WriteState::new(
            seal,
            self.write_buffer,
            self.release_idle_buffers,
            span.clone(),
        );
        let read = ReadState::new(
            unseal,
            self.read_buffer,
            self.release_idle_buffers,
            self.eof,
            self.ciphertext,
            self.plaintext,
            span,
        );
        SealedStream::from_parts(io, read, write, self.take_turns)
    }
}
