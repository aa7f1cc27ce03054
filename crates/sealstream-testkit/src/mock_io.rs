//! Transports that misbehave on purpose: short reads and writes, forced `Pending`, early EOF.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Wraps a transport: each read returns at most the next of `read_sizes` bytes, each write takes
/// at most the next of `write_sizes`, and every call whose number is in the `pending` pattern
/// returns `Pending` first (waking itself, as a real transport would when ready again).
#[derive(Debug)]
pub struct ChunkedIo<T> {
    inner: T,
    read_sizes: Vec<usize>,
    write_sizes: Vec<usize>,
    pending: Vec<bool>,
    reads: usize,
    writes: usize,
    polls: usize,
    read_calls: usize,
    write_calls: usize,
}

impl<T> ChunkedIo<T> {
    /// `read_sizes` and `write_sizes` cycle (zeros count as 1); `pending` cycles over calls (an
    /// empty pattern never pends).
    pub fn new(
        inner: T,
        read_sizes: Vec<usize>,
        write_sizes: Vec<usize>,
        pending: Vec<bool>,
    ) -> Self {
        Self {
            inner,
            read_sizes,
            write_sizes,
            pending,
            reads: 0,
            writes: 0,
            polls: 0,
            read_calls: 0,
            write_calls: 0,
        }
    }

    /// Reads that reached the inner transport.
    pub fn read_calls(&self) -> usize {
        self.read_calls
    }

    /// Writes that reached the inner transport.
    pub fn write_calls(&self) -> usize {
        self.write_calls
    }

    /// One byte at a time both ways, pending every other call.
    pub fn trickle(inner: T) -> Self {
        Self::new(inner, vec![1], vec![1], vec![true, false])
    }

    fn next_size(sizes: &[usize], i: &mut usize) -> usize {
        if sizes.is_empty() {
            return usize::MAX;
        }
        let s = sizes[*i % sizes.len()].max(1);
        *i += 1;
        s
    }

    fn should_pend(&mut self, cx: &mut Context<'_>) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        let pend = self.pending[self.polls % self.pending.len()];
        self.polls += 1;
        if pend {
            cx.waker().wake_by_ref();
        }
        pend
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ChunkedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.should_pend(cx) {
            return Poll::Pending;
        }
        this.read_calls += 1;
        let limit = Self::next_size(&this.read_sizes, &mut this.reads).min(buf.remaining());
        // The inner transport reads into the first `limit` bytes of the caller's room, in
        // place: no buffer of its own, so allocation counts see only the stream's.
        let n = {
            let mut small = ReadBuf::new(buf.initialize_unfilled_to(limit));
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut small))?;
            small.filled().len()
        };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ChunkedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.should_pend(cx) {
            return Poll::Pending;
        }
        this.write_calls += 1;
        let limit = Self::next_size(&this.write_sizes, &mut this.writes).min(buf.len());
        Pin::new(&mut this.inner).poll_write(cx, &buf[..limit])
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A transport whose reads return `input` then EOF, and whose writes are collected.
pub fn scripted(input: Vec<u8>) -> tokio::io::Join<io::Cursor<Vec<u8>>, Vec<u8>> {
    tokio::io::join(io::Cursor::new(input), Vec::new())
}
