//! Owned read and write halves that run on two tasks at once.
//!
//! SSPI allows one thread in `EncryptMessage` and one in `DecryptMessage` on the same context.
//! Here each half owns its sealer half, its buffer and its side of the transport, so nothing is
//! locked on the data path. The halves share only the control queue (touched when the read half
//! has something for the write half) and the identity [`ReadHalf::reunite`] checks.
//!
//! Dropping a half does the same whichever way the stream was split: nothing is sent and
//! nothing is closed, and the transport closes once both halves are gone (see [`WriteHalf`]).
//! tokio's `OwnedWriteHalf` shuts the socket's write side down when dropped; the halves made
//! here call its `forget` instead ([`SplitTransport::forget_write`]), so that a lock-free split
//! and a locked one behave alike.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

use super::SealedStream;
use super::control::Shared;
use super::read::ReadState;
use super::write::WriteState;
use crate::{Control, Error, Qop, Sealer, StreamSizes};

/// A transport that splits into owned halves without a lock.
pub trait SplitTransport: Sized {
    /// The reading half.
    type Read: AsyncRead + Unpin + ReuniteTransport<Self::Write, Output = Self>;
    /// The writing half.
    type Write: AsyncWrite + Unpin;

    /// Whether a call into one half can hold up a call into the other, because the two
    /// directions share a lock underneath: then the [`ReadHalf`] and [`WriteHalf`] of a stream
    /// built with [`take_turns`](super::StreamBuilder::take_turns) (the default) yield to each
    /// other at the transport instead of meeting at that lock. True for `TcpStream`, whose send
    /// and receive paths share the socket's lock in the kernel; false by default, and for
    /// `UnixStream` and a sealed stream (whose own halves take turns at the transport under
    /// it, if any).
    const DIRECTIONS_SHARE_A_LOCK: bool = false;

    /// The two halves.
    fn split_transport(self) -> (Self::Read, Self::Write);

    /// Let go of the write half when a [`WriteHalf`] is dropped, without closing anything: the
    /// transport must close only once the read half is gone too. The default drops it, which is
    /// right for a write half whose drop does nothing; tokio's `OwnedWriteHalf`s shut the
    /// socket's write side down on drop, so theirs call `forget`.
    fn forget_write(write: Self::Write) {
        drop(write);
    }
}

/// A transport read half that can be put back together with its write half.
pub trait ReuniteTransport<W>: Sized {
    /// The whole transport.
    type Output;

    /// The whole transport, or both halves back if they do not belong together.
    fn reunite_transport(self, write: W) -> Result<Self::Output, (Self, W)>;
}

#[cfg(feature = "net")]
impl SplitTransport for tokio::net::TcpStream {
    type Read = tokio::net::tcp::OwnedReadHalf;
    type Write = tokio::net::tcp::OwnedWriteHalf;

    /// `lock_sock`, taken by `sendmsg` and `recvmsg` alike while bytes are copied.
    const DIRECTIONS_SHARE_A_LOCK: bool = true;

    fn split_transport(self) -> (Self::Read, Self::Write) {
        self.into_split()
    }

    fn forget_write(write: Self::Write) {
        write.forget();
    }
}

#[cfg(feature = "net")]
impl ReuniteTransport<tokio::net::tcp::OwnedWriteHalf> for tokio::net::tcp::OwnedReadHalf {
    type Output = tokio::net::TcpStream;

    fn reunite_transport(
        self,
        write: tokio::net::tcp::OwnedWriteHalf,
    ) -> Result<Self::Output, (Self, tokio::net::tcp::OwnedWriteHalf)> {
        self.reunite(write).map_err(|e| (e.0, e.1))
    }
}

#[cfg(all(unix, feature = "net"))]
impl SplitTransport for tokio::net::UnixStream {
    type Read = tokio::net::unix::OwnedReadHalf;
    type Write = tokio::net::unix::OwnedWriteHalf;

    fn split_transport(self) -> (Self::Read, Self::Write) {
        self.into_split()
    }

    fn forget_write(write: Self::Write) {
        write.forget();
    }
}

#[cfg(all(unix, feature = "net"))]
impl ReuniteTransport<tokio::net::unix::OwnedWriteHalf> for tokio::net::unix::OwnedReadHalf {
    type Output = tokio::net::UnixStream;

    fn reunite_transport(
        self,
        write: tokio::net::unix::OwnedWriteHalf,
    ) -> Result<Self::Output, (Self, tokio::net::unix::OwnedWriteHalf)> {
        self.reunite(write).map_err(|e| (e.0, e.1))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> ReuniteTransport<tokio::io::WriteHalf<T>>
    for tokio::io::ReadHalf<T>
{
    type Output = T;

    fn reunite_transport(
        self,
        write: tokio::io::WriteHalf<T>,
    ) -> Result<T, (Self, tokio::io::WriteHalf<T>)> {
        if self.is_pair_of(&write) {
            Ok(self.unsplit(write))
        } else {
            Err((self, write))
        }
    }
}

/// A sealed stream is itself a transport that splits without a lock, when the transport under
/// it does: a SASL layer over TLS (LDAP StartTLS with a SASL bind, IMAP STARTTLS with a
/// layer) splits into a read half over TLS's read half and a write half over TLS's write half,
/// each layer's sealing and unsealing on the task of its own direction.
///
/// Controls the inner stream's read half queues for its write half (a TLS KeyUpdate answer, an
/// alert) go out with the outer write half's next write, flush or shutdown, as they do for a
/// single layer; an otherwise idle outer writer can wait on them through
/// `outer.get_ref().pending_control()`.
impl<T: SplitTransport, S: Sealer> SplitTransport for SealedStream<T, S> {
    type Read = ReadHalf<T::Read, S>;
    type Write = WriteHalf<T::Write, S>;

    fn split_transport(self) -> (Self::Read, Self::Write) {
        self.into_split()
    }

    // Dropping a write half sends nothing and lets go of its transport half already.
}

impl<R, W, S: Sealer> ReuniteTransport<WriteHalf<W, S>> for ReadHalf<R, S>
where
    R: ReuniteTransport<W>,
{
    type Output = SealedStream<R::Output, S>;

    fn reunite_transport(
        self,
        write: WriteHalf<W, S>,
    ) -> Result<Self::Output, (Self, WriteHalf<W, S>)> {
        self.reunite(write).map_err(|e| (e.0, e.1))
    }
}

/// `forget_write` is what becomes of `w` when the [`WriteHalf`] is dropped.
pub(super) fn halves<R, W, S: Sealer>(
    r: R,
    w: W,
    forget_write: fn(W),
    read: ReadState<S::Unseal>,
    write: WriteState<S::Seal>,
    shared: Arc<Shared>,
) -> (ReadHalf<R, S>, WriteHalf<W, S>) {
    (
        ReadHalf {
            io: r,
            read,
            shared: shared.clone(),
        },
        WriteHalf {
            io: WriteTransport {
                io: Some(w),
                forget: forget_write,
            },
            write,
            shared,
        },
    )
}

/// The transport's write half, let go of with [`SplitTransport::forget_write`] when dropped.
struct WriteTransport<W> {
    /// `None` only once taken by `reunite` or the drop.
    io: Option<W>,
    forget: fn(W),
}

impl<W> WriteTransport<W> {
    fn get_ref(&self) -> &W {
        self.io
            .as_ref()
            .expect("the write transport is present until dropped")
    }

    fn get_mut(&mut self) -> &mut W {
        self.io
            .as_mut()
            .expect("the write transport is present until dropped")
    }

    fn into_inner(mut self) -> W {
        self.io
            .take()
            .expect("the write transport is present until dropped")
    }
}

impl<W> Drop for WriteTransport<W> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            (self.forget)(io);
        }
    }
}

/// The receiving half of a [`SealedStream`]: unseals on its own task.
pub struct ReadHalf<R, S: Sealer> {
    io: R,
    read: ReadState<S::Unseal>,
    shared: Arc<Shared>,
}

/// The sending half of a [`SealedStream`]: seals on its own task.
///
/// # Dropping it
///
/// Dropping a write half without [`shutdown`](tokio::io::AsyncWriteExt::shutdown) sends
/// nothing: sealed records the transport has not taken yet are discarded, no close message
/// (TLS close_notify) goes out, and the transport's write side stays open while the
/// [`ReadHalf`] lives, so the peer can still be read from. Once both halves are dropped the
/// transport closes, and the peer sees it end without a close message, which TLS reports as
/// truncation. This holds for halves from [`SealedStream::into_split`] and
/// [`SealedStream::into_split_locked`] alike. To end the stream, `shutdown().await` (close
/// message, then the transport's own shutdown); to send what was written and keep going,
/// `flush().await`.
pub struct WriteHalf<W, S: Sealer> {
    io: WriteTransport<W>,
    write: WriteState<S::Seal>,
    shared: Arc<Shared>,
}

impl<R: Unpin, S: Sealer> Unpin for ReadHalf<R, S> {}
impl<W: Unpin, S: Sealer> Unpin for WriteHalf<W, S> {}

impl<R, S: Sealer> fmt::Debug for ReadHalf<R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<W, S: Sealer> fmt::Debug for WriteHalf<W, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf")
            .field("sizes", &self.write.sizes())
            .finish_non_exhaustive()
    }
}

impl<R, S: Sealer> ReadHalf<R, S> {
    /// Put the stream back together. Fails, handing both halves back, if `write` came from
    /// another stream.
    #[allow(clippy::result_large_err)]
    pub fn reunite<W>(
        self,
        write: WriteHalf<W, S>,
    ) -> Result<SealedStream<R::Output, S>, ReuniteError<R, W, S>>
    where
        R: ReuniteTransport<W>,
    {
        if !Arc::ptr_eq(&self.shared, &write.shared) {
            return Err(ReuniteError(self, write));
        }
        let ReadHalf { io, read, shared } = self;
        let WriteHalf {
            io: w_io,
            write: w_state,
            shared: w_shared,
        } = write;
        let forget = w_io.forget;
        match io.reunite_transport(w_io.into_inner()) {
            Ok(io) => Ok(SealedStream::from_halves(io, read, w_state, shared)),
            Err((r_io, w_io)) => Err(ReuniteError(
                ReadHalf {
                    io: r_io,
                    read,
                    shared,
                },
                WriteHalf {
                    io: WriteTransport {
                        io: Some(w_io),
                        forget,
                    },
                    write: w_state,
                    shared: w_shared,
                },
            )),
        }
    }

    /// See [`SealedStream::weakest_protection`].
    pub fn weakest_protection(&self) -> Option<crate::Protection> {
        self.read.weakest_protection()
    }

    /// The unseal half, to query its state.
    pub fn unseal_half(&self) -> &S::Unseal {
        &self.read.unseal
    }

    /// The transport's read half.
    pub fn get_ref(&self) -> &R {
        &self.io
    }
}

impl<W, S: Sealer> WriteHalf<W, S> {
    /// Put the stream back together; see [`ReadHalf::reunite`].
    #[allow(clippy::result_large_err)]
    pub fn reunite<R>(
        self,
        read: ReadHalf<R, S>,
    ) -> Result<SealedStream<R::Output, S>, ReuniteError<R, W, S>>
    where
        R: ReuniteTransport<W>,
    {
        read.reunite(self)
    }

    /// The sizes of the records this half sends.
    pub fn sizes(&self) -> StreamSizes {
        self.write.sizes()
    }

    /// The seal half, to query its state.
    pub fn seal_half(&self) -> &S::Seal {
        &self.write.seal
    }

    /// The transport's write half.
    pub fn get_ref(&self) -> &W {
        self.io.get_ref()
    }

    /// See [`SealedStream::set_qop`].
    pub fn set_qop(&mut self, qop: Qop) -> Result<(), Error> {
        self.write.set_qop(qop)
    }

    /// See [`SealedStream::queue_control`].
    pub fn queue_control(&self, control: Control) -> Result<(), Error> {
        self.write.check_control(&control)?;
        self.shared.push(control)
    }

    /// Whether the read half queued something this half must send (a key-update answer, an
    /// alert). The next write, flush or shutdown sends it.
    pub fn has_pending_control(&self) -> bool {
        self.shared.has_pending()
    }

    /// Ready when the read half has queued something for this half to send; a writer that is
    /// otherwise idle can wait on it and then flush. Never loses a wake-up.
    pub fn poll_pending_control(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.shared.poll_pending(cx)
    }

    /// Wait until the read half queued something for this half to send.
    pub async fn pending_control(&self) {
        std::future::poll_fn(|cx| self.poll_pending_control(cx)).await
    }
}

impl<R: AsyncRead + Unpin, S: Sealer> AsyncRead for ReadHalf<R, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.read.poll_read(&mut this.io, cx, buf, &this.shared)
    }
}

/// Plaintext lent in place, as for [`SealedStream`]'s `AsyncBufRead`.
impl<R: AsyncRead + Unpin, S: Sealer> AsyncBufRead for ReadHalf<R, S> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        ready!(this.read.poll_fill_buf(&mut this.io, cx, &this.shared))?;
        Poll::Ready(Ok(this.read.available()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().read.consume(amt);
    }
}

impl<W: AsyncWrite + Unpin, S: Sealer> AsyncWrite for WriteHalf<W, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.write
            .poll_write(this.io.get_mut(), cx, &[IoSlice::new(buf)], &this.shared)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.write
            .poll_write(this.io.get_mut(), cx, bufs, &this.shared)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.write.poll_flush(this.io.get_mut(), cx, &this.shared)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.write
            .poll_shutdown(this.io.get_mut(), cx, &this.shared)
    }
}

/// Halves that do not belong to the same stream, handed back unchanged.
pub struct ReuniteError<R, W, S: Sealer>(pub ReadHalf<R, S>, pub WriteHalf<W, S>);

impl<R, W, S: Sealer> fmt::Debug for ReuniteError<R, W, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError").finish_non_exhaustive()
    }
}

impl<R, W, S: Sealer> fmt::Display for ReuniteError<R, W, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same sealed stream")
    }
}

impl<R, W, S: Sealer> std::error::Error for ReuniteError<R, W, S> {}
