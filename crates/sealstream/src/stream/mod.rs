//! The async stream: [`SealedStream`] and its owned halves.
//!
//! The stream is a thin adapter: all protocol logic is in the sealer halves, all buffering in
//! the read and write states of its two directions. The whole stream and its two halves drive the
//! very same state, so splitting changes who owns what, never how it behaves.

mod config;
mod control;
mod failure;
mod idle;
mod pool;
mod read;
mod span;
mod split;
mod turns;
mod write;

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

pub use config::{
    DEFAULT_READ_BUFFER, DEFAULT_WRITE_BUFFER, EofPolicy, MAX_RECORD_SIZED_READ_BUFFER,
    StreamBuilder,
};
pub use split::{ReadHalf, ReuniteError, ReuniteTransport, SplitTransport, WriteHalf};

use control::Shared;
use read::ReadState;
use write::WriteState;

use crate::{Control, Error, Qop, Sealer, StreamSizes};

/// A byte stream sealed by `S` over the transport `T`.
///
/// Writes are cut into records of at most [`StreamSizes::max_message`] bytes, each sealed in
/// place (`EncryptMessage`); reads hand out plaintext only after its record was unsealed and
/// authenticated (`DecryptMessage`). `poll_shutdown` sends the sealer's close message before
/// shutting the transport's write side; the peer's close reads as `Ok(0)`, and a transport end
/// without it as `UnexpectedEof`, unless [`EofPolicy::CleanEnd`] says otherwise.
///
/// [`into_split`](Self::into_split) gives owned halves for two tasks that run at once.
pub struct SealedStream<T, S: Sealer> {
    io: T,
    read: ReadState<S::Unseal>,
    write: WriteState<S::Seal>,
    shared: Arc<Shared>,
}

// The sealer halves are only ever used through `&mut`, never pinned: the stream is `Unpin`
// whenever its transport is.
impl<T: Unpin, S: Sealer> Unpin for SealedStream<T, S> {}

impl<T, S: Sealer> std::fmt::Debug for SealedStream<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedStream")
            .field("sizes", &self.write.sizes())
            .field("qop", &self.write.qop())
            .finish_non_exhaustive()
    }
}

impl<T, S: Sealer> SealedStream<T, S> {
    /// Seal `io` with `sealer`, with default settings. [`StreamBuilder`] sets buffer sizes,
    /// end-of-stream policy, the tracing span, and handshake leftovers.
    pub fn new(io: T, sealer: S) -> Self {
        StreamBuilder::new().build(io, sealer)
    }

    pub(crate) fn from_parts(
        io: T,
        read: ReadState<S::Unseal>,
        write: WriteState<S::Seal>,
        take_turns: bool,
    ) -> Self {
        Self::from_halves(io, read, write, Arc::new(Shared::new(take_turns)))
    }

    pub(crate) fn from_halves(
        io: T,
        read: ReadState<S::Unseal>,
        write: WriteState<S::Seal>,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            io,
            read,
            write,
            shared,
        }
    }

    /// The sizes of the records this stream sends (`SECPKG_ATTR_STREAM_SIZES`).
    pub fn sizes(&self) -> StreamSizes {
        self.write.sizes()
    }

    /// The transport.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The transport. Reading or writing it directly corrupts the sealed stream.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// The transport back, with the bytes already read from it that no record took: for
    /// protocols that go on in the clear once the sealed phase has ended on both sides (after
    /// the peer's close and our `shutdown`, as FTP's CCC does), or to abandon the stream.
    ///
    /// What the sealer held goes: keys are dropped (and zeroized where the sealer does),
    /// plaintext unsealed but not yet read is lost, and records written but not flushed are
    /// not sent.
    pub fn into_inner(mut self) -> (T, Vec<u8>) {
        let unread = self.read.take_unread();
        (self.io, unread)
    }

    /// The seal half, to query its state (sequence number, negotiated parameters).
    pub fn seal_half(&self) -> &S::Seal {
        &self.write.seal
    }

    /// The unseal half, to query its state.
    pub fn unseal_half(&self) -> &S::Unseal {
        &self.read.unseal
    }

    /// Protect the data written from now on with `qop`. `Qop::IntegrityOnly` leaves it readable
    /// on the wire but authenticated; sealers that cannot do that (TLS) refuse with
    /// `SEC_E_QOP_NOT_SUPPORTED`. Alerts go through [`queue_control`](Self::queue_control).
    pub fn set_qop(&mut self, qop: Qop) -> Result<(), Error> {
        self.write.set_qop(qop)
    }

    /// Queue a control message (an alert, a key update) to be sealed before the next record; a
    /// flush sends it.
    ///
    /// Fails with `SEC_E_QOP_NOT_SUPPORTED` when the sealer cannot send it (a KeyUpdate on
    /// TLS 1.2, an alert on a SASL layer; [`Seal::supports_control`]), and with
    /// `SEC_E_INSUFFICIENT_MEMORY` when 16 controls already wait. Key updates do not count
    /// against that bound: however many are queued, one of each kind is sent. A fatal alert
    /// is sent before anything else queued, and nothing after it.
    ///
    /// [`Seal::supports_control`]: crate::Seal::supports_control
    pub fn queue_control(&self, control: Control) -> Result<(), Error> {
        self.write.check_control(&control)?;
        self.shared.push(control)
    }

    /// The weakest protection among the data records received so far: `IntegrityOnly` once
    /// the peer sent any record signed only (a Kerberos token without `conf_flag`, an
    /// integrity-only SASL layer), `Confidential` while every one was sealed, `None` before
    /// the first. A receiver that requires confidentiality checks it after reading.
    pub fn weakest_protection(&self) -> Option<crate::Protection> {
        self.read.weakest_protection()
    }

    /// Bytes of buffer held right now by (read, write) directions.
    pub fn buffered_capacity(&self) -> (usize, usize) {
        (self.read.buffer_capacity(), self.write.buffer_capacity())
    }

    /// Split into halves that two tasks can use at once, by splitting the transport without a
    /// lock ([`SplitTransport`] is implemented for `TcpStream`, `UnixStream`, and a sealed
    /// stream over a transport that splits: a SASL layer inside TLS).
    ///
    /// Dropping the [`WriteHalf`] sends nothing and closes nothing; the transport closes once
    /// both halves are dropped (unlike tokio's own `OwnedWriteHalf`, which shuts the socket's
    /// write side down on drop). Use `shutdown().await` on the write half to end the stream.
    pub fn into_split(self) -> (ReadHalf<T::Read, S>, WriteHalf<T::Write, S>)
    where
        T: SplitTransport,
    {
        if !T::DIRECTIONS_SHARE_A_LOCK {
            self.shared.turns.never();
        }
        let (r, w) = self.io.split_transport();
        split::halves(r, w, T::forget_write, self.read, self.write, self.shared)
    }

    /// Split into halves over any transport, with `tokio::io::split`. Its lock is held only for
    /// each transport call, never while sealing or unsealing, so both directions still run at
    /// once, and (with [`take_turns`](StreamBuilder::take_turns), the default) a half that
    /// finds the other inside the transport yields rather than wait on that lock; prefer
    /// [`into_split`](Self::into_split) where the transport splits without a lock.
    /// Dropping a half behaves as with [`into_split`](Self::into_split).
    pub fn into_split_locked(
        self,
    ) -> (
        ReadHalf<tokio::io::ReadHalf<T>, S>,
        WriteHalf<tokio::io::WriteHalf<T>, S>,
    )
    where
        T: AsyncRead + AsyncWrite,
    {
        let (r, w) = tokio::io::split(self.io);
        split::halves(r, w, drop, self.read, self.write, self.shared)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin, S: Sealer> AsyncRead for SealedStream<T, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.read.poll_read(&mut this.io, cx, buf, &this.shared)
    }
}

/// Plaintext lent in place: `fill_buf` returns authenticated bytes where they were unsealed,
/// with no copy into a caller's buffer (a parser can read a message straight from the record).
/// Mixed freely with `read`.
impl<T: AsyncRead + AsyncWrite + Unpin, S: Sealer> AsyncBufRead for SealedStream<T, S> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        ready!(this.read.poll_fill_buf(&mut this.io, cx, &this.shared))?;
        Poll::Ready(Ok(this.read.available()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().read.consume(amt);
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin, S: Sealer> AsyncWrite for SealedStream<T, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.write
            .poll_write(&mut this.io, cx, &[IoSlice::new(buf)], &this.shared)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.write.poll_write(&mut this.io, cx, bufs, &this.shared)
    }

    fn is_write_vectored(&self) -> bool {
        // Slices are gathered into records by copying, which the copy into the record buffer
        // does anyway: vectored writes cost nothing extra whatever the transport.
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.write.poll_flush(&mut this.io, cx, &this.shared)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.write.poll_shutdown(&mut this.io, cx, &this.shared)
    }
}
