//! The write path: plaintext in, sealed records out.
//!
//! User bytes are copied once, into the payload region of the next record in one reusable
//! buffer, and sealed there in place. When a record's bytes come from one caller buffer, the
//! sealer does that copy itself (`Seal::seal_copying`), so one that reads the plaintext anyway
//! can copy as it reads. Records are laid end to end so several go to the transport
//! in one write. Like tokio-rustls, each `poll_write` seals what it accepted and tries to send it
//! at once, so a caller that forgets to flush still makes progress; bytes wait in the buffer only
//! while the transport is not ready, and the buffer is bounded.
//!
//! Before any record, the write half seals whatever the read half queued for it (a key-update
//! answer, an alert): that is the only way the two halves talk.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;
use tokio::time::Instant;
use tracing::Span;

use super::span::HalfSpan;

use super::control::Shared;
use super::failure::Failure;
use super::idle::IdleGaps;
use super::pool;
use super::turns::Side;
use crate::sealer::{seal_record, seal_record_copying};
use crate::{Control, Error, Qop, Seal, Status, StreamSizes};

#[derive(Debug)]
enum Phase {
    Open,
    /// The close token is sealed; flushing it and shutting the transport's write side.
    Closing,
    Closed,
    /// Boxed: a failure is rare, and the box keeps every half's state small.
    Failed(Box<Failure>),
}

/// The sending direction of a stream, without its transport.
#[derive(Debug)]
pub(crate) struct WriteState<S> {
    pub(crate) seal: S,
    /// Sealed records; `buf.len()` is the allocated, zeroed capacity (empty when released).
    buf: Vec<u8>,
    /// Bytes of `buf` already written to the transport.
    written: usize,
    /// End of the sealed bytes.
    filled: usize,
    /// How far into `buf` anything was written since it was taken (zeroed before the buffer
    /// goes back to the pool).
    used: usize,
    phase: Phase,
    qop: Qop,
    capacity: usize,
    release_idle: bool,
    idle: IdleGaps,
    span: HalfSpan,
}

impl<S: Seal> WriteState<S> {
    pub(crate) fn new(seal: S, capacity: usize, release_idle: bool, span: Span) -> Self {
        // The seal half's sizes are constant (`Seal::sizes`): asked for when needed, not kept.
        let sizes = seal.sizes();
        // Room for as many whole records as `capacity` bytes of plaintext fill (at least one):
        // 64 KiB of plaintext is four full TLS records, 65,624 bytes sealed. A buffer of exactly
        // 64 KiB would take three full records and a shortened fourth, then send the last 88
        // bytes as a record and a transport write of their own.
        let whole_records = (capacity / sizes.max_message.max(1))
            .max(1)
            .saturating_mul(sizes.max_record());
        Self {
            seal,
            buf: Vec::new(),
            written: 0,
            filled: 0,
            used: 0,
            phase: Phase::Open,
            qop: Qop::Default,
            capacity: capacity.max(whole_records),
            release_idle,
            idle: IdleGaps::default(),
            span: HalfSpan::new(span),
        }
    }

    pub(crate) fn sizes(&self) -> StreamSizes {
        self.seal.sizes()
    }

    /// Bytes of buffer currently allocated (for tests and memory accounting).
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    pub(crate) fn set_qop(&mut self, qop: Qop) -> Result<(), Error> {
        if qop == Qop::OutOfBand || !self.seal.supports_qop(qop) {
            return Err(Error::new(
                Status::QopNotSupported,
                format!("this stream cannot send data with {qop:?} protection"),
            ));
        }
        self.qop = qop;
        Ok(())
    }

    pub(crate) fn qop(&self) -> Qop {
        self.qop
    }

    /// Refuse at queue time a control this half's sealer cannot send.
    pub(crate) fn check_control(&self, control: &Control) -> Result<(), Error> {
        if self.seal.supports_control(control) {
            Ok(())
        } else {
            Err(Error::new(
                Status::QopNotSupported,
                format!("this stream's sealer cannot send {control:?}"),
            ))
        }
    }

    pub(crate) fn poll_write<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
        shared: &Shared,
    ) -> Poll<io::Result<usize>> {
        if matches!(self.phase, Phase::Failed(_)) {
            return self.poll_failed(io, cx).map(Err);
        }
        self.check_open()?;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        // Before anything is accepted: the bytes accepted below go to the transport at once.
        ready!(shared.turns.poll_turn(Side::Write, cx));
        ready!(self.poll_controls(io, cx, shared))?;
        if let Some(control) = self.seal.control_due() {
            ready!(self.poll_seal_control(io, cx, shared, &control))?;
        }
        ready!(self.poll_room(io, cx, shared, self.seal.sizes_for(self.qop).record_len(1)))?;

        let accepted = match self.seal_from(bufs) {
            Ok(accepted) => accepted,
            Err((0, err)) => {
                // Controls sealed just before (a fatal alert, the close at a key's limit) still
                // go out before the error is reported.
                self.fail(Failure::Sealer(err));
                return self.poll_failed(io, cx).map(Err);
            }
            Err((accepted, err)) => {
                // The accepted bytes are sealed and will go out; the error waits for the next
                // call.
                self.fail(Failure::Sealer(err));
                accepted
            }
        };
        // Send at once what the transport takes; the rest waits for the next write or flush.
        // A transport error here is sticky and reported by the next call: the bytes were
        // accepted.
        let _ = self.poll_drain(io, cx, shared);
        Poll::Ready(Ok(accepted))
    }

    pub(crate) fn poll_flush<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Shared,
    ) -> Poll<io::Result<()>> {
        match &self.phase {
            Phase::Failed(_) => return self.poll_failed(io, cx).map(Err),
            Phase::Closed => return Poll::Ready(Ok(())),
            Phase::Open | Phase::Closing => {}
        }
        if matches!(self.phase, Phase::Open) {
            ready!(self.poll_controls(io, cx, shared))?;
        }
        ready!(self.poll_drain(io, cx, shared))?;
        ready!(Pin::new(&mut *io).poll_flush(cx))
            .map_err(|e| self.fail(Failure::Transport(e.into())))?;
        if self.release_idle {
            self.go_idle();
        }
        Poll::Ready(Ok(()))
    }

    pub(crate) fn poll_shutdown<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Shared,
    ) -> Poll<io::Result<()>> {
        loop {
            match &self.phase {
                Phase::Open => {
                    ready!(self.poll_controls(io, cx, shared))?;
                    ready!(self.poll_seal_control(io, cx, shared, &Control::Close))?;
                    tracing::debug!(parent: self.span.id(), "close sealed");
                    self.phase = Phase::Closing;
                }
                Phase::Closing => {
                    ready!(self.poll_drain(io, cx, shared))?;
                    ready!(Pin::new(&mut *io).poll_shutdown(cx))
                        .map_err(|e| self.fail(Failure::Transport(e.into())))?;
                    self.phase = Phase::Closed;
                    self.release();
                }
                Phase::Closed => return Poll::Ready(Ok(())),
                Phase::Failed(_) => return self.poll_failed(io, cx).map(Err),
            }
        }
    }

    /// The answer of a failed half: first the records sealed before the failure, which are
    /// whole and which the peer should have (a fatal alert queued by the read half, the
    /// close_notify sent at a key's limit), then the failure. A transport failure has nothing
    /// left that could be sent.
    fn poll_failed<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<io::Error> {
        let Phase::Failed(failure) = &self.phase else {
            unreachable!("poll_failed on a half that has not failed");
        };
        if matches!(**failure, Failure::Sealer(_)) {
            while self.written < self.filled {
                match ready!(
                    Pin::new(&mut *io).poll_write(cx, &self.buf[self.written..self.filled])
                ) {
                    Ok(n) if n > 0 => self.written += n,
                    // The transport is gone too: what is left cannot be sent; the first failure
                    // stays the answer.
                    _ => self.written = self.filled,
                }
            }
            if self.written > 0 {
                let _ = ready!(Pin::new(&mut *io).poll_flush(cx));
                self.release();
            }
        }
        let Phase::Failed(failure) = &self.phase else {
            unreachable!("the phase of a failed half does not change");
        };
        Poll::Ready(failure.to_io())
    }

    /// Queue-independent sending of one control now (used by shutdown).
    fn poll_seal_control<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Shared,
        control: &Control,
    ) -> Poll<io::Result<()>> {
        let max = self.seal.sizes().max_record();
        ready!(self.poll_room(io, cx, shared, max))?;
        self.used = self.used.max(self.filled + max);
        let out = &mut self.buf[self.filled..self.filled + max];
        match self.seal.seal_control(control, out) {
            Ok(n) if n <= max => {
                tracing::debug!(parent: self.span.id(), ?control, len = n, "sealed control");
                self.filled += n;
                Poll::Ready(Ok(()))
            }
            Ok(n) => {
                self.fail(Failure::Sealer(Error::new(
                    Status::InternalError,
                    format!("sealer wrote a {n}-byte control record into {max} bytes"),
                )));
                // Nothing of the bad record is sent: only what was sealed before it.
                self.poll_failed(io, cx).map(Err)
            }
            Err(err) => {
                self.fail(Failure::Sealer(err));
                self.poll_failed(io, cx).map(Err)
            }
        }
    }

    /// Seal every control the read half (or the user) queued, in order.
    fn poll_controls<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Shared,
    ) -> Poll<io::Result<()>> {
        while shared.has_pending() {
            // Make room before taking the control off the queue, so a Pending loses nothing.
            ready!(self.poll_room(io, cx, shared, self.seal.sizes().max_record()))?;
            let Some(control) = shared.pop() else { break };
            ready!(self.poll_seal_control(io, cx, shared, &control))?;
        }
        Poll::Ready(Ok(()))
    }

    /// Copy from `bufs` into record payloads and seal each in place, while there is room.
    /// Returns the bytes accepted, or the error with the bytes accepted before it.
    ///
    /// A record whose plaintext all comes from one buffer (every record of a plain write) goes
    /// to [`Seal::seal_copying`], so a sealer that reads the plaintext anyway copies it as it
    /// reads; a record gathered from several buffers is copied here, then sealed.
    fn seal_from(&mut self, bufs: &[IoSlice<'_>]) -> Result<usize, (usize, Error)> {
        // The payload goes after the header of this record's qop (`Seal::sizes_for`).
        let sizes = self.seal.sizes_for(self.qop);
        let StreamSizes {
            header, trailer, ..
        } = sizes;
        let mut accepted = 0;
        let mut slices = bufs
            .iter()
            .map(|b| &b[..])
            .filter(|b| !b.is_empty())
            .peekable();
        let mut current: &[u8] = slices.next().unwrap_or(&[]);
        while !current.is_empty() {
            let room = self.buf.len() - self.filled;
            // A control the sealer asks for goes first: the next write call sends it.
            if room < sizes.record_len(1) || accepted > 0 && self.seal.control_due().is_some() {
                break;
            }
            let payload_cap = sizes.max_message.min(room - header - trailer);
            let record = self.filled;
            let sealed = if current.len() >= payload_cap || slices.peek().is_none() {
                let (plaintext, rest) = current.split_at(current.len().min(payload_cap));
                current = rest;
                if current.is_empty() {
                    current = slices.next().unwrap_or(&[]);
                }
                let end = record + header + plaintext.len() + trailer;
                self.used = self.used.max(end);
                if cfg!(debug_assertions) {
                    // What a sealer that skipped part of the copy would send, instead of
                    // whatever an earlier user of this buffer left (see `Seal::seal_copying`).
                    self.buf[record + header..end - trailer].fill(0xA5);
                }
                seal_record_copying(
                    &mut self.seal,
                    self.qop,
                    plaintext,
                    &mut self.buf[record..end],
                    header,
                )
                .map(|len| (len, plaintext.len()))
            } else {
                let payload = &mut self.buf[record + header..record + header + payload_cap];
                let mut n = 0;
                while n < payload_cap && !current.is_empty() {
                    let take = current.len().min(payload_cap - n);
                    payload[n..n + take].copy_from_slice(&current[..take]);
                    n += take;
                    current = &current[take..];
                    if current.is_empty() {
                        current = slices.next().unwrap_or(&[]);
                    }
                }
                let end = record + header + n + trailer;
                self.used = self.used.max(end);
                seal_record(
                    &mut self.seal,
                    self.qop,
                    &mut self.buf[record..end],
                    header,
                    n,
                )
                .map(|len| (len, n))
            };
            let (len, n) = sealed.map_err(|err| (accepted, err))?;
            tracing::trace!(parent: self.span.id(), payload = n, len, "sealed record");
            self.filled += len;
            accepted += n;
        }
        Ok(accepted)
    }

    /// Make at least `min` bytes of room after `filled`, writing to the transport if needed.
    fn poll_room<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Shared,
        min: usize,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.buf.is_empty() {
                self.buf = pool::take(self.capacity, pool::Direction::Write);
                self.used = 0;
                self.idle.wake();
            }
            if self.written == self.filled {
                self.written = 0;
                self.filled = 0;
            }
            if self.buf.len() - self.filled >= min {
                return Poll::Ready(Ok(()));
            }
            let pending = self.filled - self.written;
            if self.written > 0 && self.buf.len() - pending >= min {
                self.buf.copy_within(self.written..self.filled, 0);
                self.written = 0;
                self.filled = pending;
                continue;
            }
            ready!(self.poll_write_once(io, cx, shared))?;
        }
    }

    /// Write everything sealed.
    fn poll_drain<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Shared,
    ) -> Poll<io::Result<()>> {
        while self.written < self.filled {
            ready!(self.poll_write_once(io, cx, shared))?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_write_once<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        shared: &Shared,
    ) -> Poll<io::Result<()>> {
        let polled = {
            let _turn = shared.turns.enter(Side::Write);
            Pin::new(io).poll_write(cx, &self.buf[self.written..self.filled])
        };
        match ready!(polled) {
            Ok(0) => Poll::Ready(Err(self.fail(Failure::Transport(
                io::Error::new(io::ErrorKind::WriteZero, "the transport accepted no bytes").into(),
            )))),
            Ok(n) => {
                self.written += n;
                Poll::Ready(Ok(()))
            }
            Err(err) => Poll::Ready(Err(self.fail(Failure::Transport(err.into())))),
        }
    }

    fn check_open(&self) -> io::Result<()> {
        match &self.phase {
            Phase::Open => Ok(()),
            Phase::Failed(failure) => Err(failure.to_io()),
            Phase::Closing | Phase::Closed => Err(Error::new(
                Status::ContextExpired,
                "write after shutdown: the stream's sending side is closed",
            )
            .into()),
        }
    }

    /// Record a sticky failure and return it as an `io::Error`.
    fn fail(&mut self, failure: Failure) -> io::Error {
        tracing::debug!(parent: self.span.id(), ?failure, "write half failed");
        let err = failure.to_io();
        self.phase = Phase::Failed(Box::new(failure));
        err
    }

    fn release(&mut self) {
        if self.written == self.filled {
            pool::give_write(std::mem::take(&mut self.buf), self.used, self.capacity);
            self.written = 0;
            self.filled = 0;
        }
    }

    /// A flush emptied the buffer: give it back and, unless the connection is chatty, let the
    /// sealer drop what it can rebuild (see [`IdleGaps`]).
    fn go_idle(&mut self) {
        self.release();
        if self.buf.is_empty() && self.idle.went_idle(Instant::now()) {
            self.seal.release_idle();
        }
    }
}
