//! The read path: transport bytes in, authenticated plaintext out.
//!
//! Bytes are read into one bounded buffer, as many as the transport has (several records per
//! syscall), and each record is unsealed where it lies. Plaintext is handed out from there with a
//! single copy into the caller's buffer, or lent in place (`AsyncBufRead`) with none. A sealer
//! that can ([`Unseal::unseal_into`]) unseals a record straight into the caller's buffer when it
//! fits in room the caller initialized, so an ordinary read into a large `Vec` or array copies
//! nothing either; uninitialized room (`read_buf` into a `BytesMut`) is not zeroed for it:
//! zeroing would cost about what it saves, and more for a small record. Only
//! bytes the sealer authenticated are ever handed out; the first failure is sticky. The buffer
//! never grows beyond the sealer's largest record, and a record that announces more is refused
//! from its header before anything is allocated. A record larger than the normal buffer grows
//! it only as its bytes arrive.

use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Instant;
use tracing::Span;

use super::span::HalfSpan;

use super::config::EofPolicy;
use super::control::Shared;
use super::failure::Failure;
use super::idle::IdleGaps;
use super::pool;
use super::turns::Side;
use crate::{Error, Protection, Unseal, Unsealed};

#[derive(Debug)]
enum Phase {
    Open,
    /// The peer's close was received (`SEC_I_CONTEXT_EXPIRED`): reads return `Ok(0)`.
    PeerClosed,
    /// The transport ended between records and that counts as a clean end.
    Ended,
    /// Boxed: a failure is rare, and the box keeps every half's state small.
    Failed(Box<Failure>),
}

/// Plaintext a handshake left, and how much of it has been handed out.
#[derive(Debug)]
struct Leftover {
    bytes: Vec<u8>,
    handed_out: usize,
}

/// The receiving direction of a stream, without its transport.
#[derive(Debug)]
pub(crate) struct ReadState<U> {
    pub(crate) unseal: U,
    /// Received bytes; `buf.len()` is the allocated, zeroed capacity (empty when released).
    buf: Vec<u8>,
    /// First byte not yet unsealed.
    start: usize,
    /// End of the bytes received.
    end: usize,
    /// Authenticated plaintext not yet handed out; lies before `start`.
    plain: Range<usize>,
    /// Plaintext left over from a handshake, handed out first (boxed: most streams have none).
    prefix: Option<Box<Leftover>>,
    phase: Phase,
    capacity: usize,
    release_idle: bool,
    /// Whether the last read from the transport filled all the room it was given: then more
    /// is probably waiting, and a drained buffer is kept for the read that follows.
    filled_room: bool,
    idle: IdleGaps,
    eof: EofPolicy,
    span: HalfSpan,
    /// The weakest protection of the data records unsealed so far (`None` before the first).
    weakest: Option<Protection>,
}

/// What the buffered bytes allow without touching the transport.
enum Step {
    /// Something changed (plaintext, a consumed record, a new phase): look again.
    Progress,
    /// The next record needs this many more bytes.
    NeedBytes(usize),
}

impl<U: Unseal> ReadState<U> {
    pub(crate) fn new(
        unseal: U,
        capacity: usize,
        release_idle: bool,
        eof: EofPolicy,
        ciphertext: Vec<u8>,
        plaintext: Vec<u8>,
        span: Span,
    ) -> Self {
        // Room for one whole record, up to a bound: with SASL's usual 64 KiB maxbuf a full frame
        // is 4 bytes over 64 KiB, and a buffer one frame too small would be grown and shrunk
        // back (an allocation) for every frame. Larger records still grow it while they last.
        let capacity = capacity
            .max(
                unseal
                    .max_record()
                    .min(super::config::MAX_RECORD_SIZED_READ_BUFFER),
            )
            .max(1);
        // The leftover is copied once into a normal buffer: the handshake's own buffer may be
        // large and, when empty, must not be kept for the life of the connection.
        let end = ciphertext.len();
        let buf = if ciphertext.is_empty() {
            Vec::new()
        } else {
            let mut buf = pool::take(capacity.max(end), pool::Direction::Read);
            buf[..end].copy_from_slice(&ciphertext);
            buf
        };
        Self {
            unseal,
            buf,
            start: 0,
            end,
            plain: 0..0,
            prefix: (!plaintext.is_empty()).then(|| {
                Box::new(Leftover {
                    bytes: plaintext,
                    handed_out: 0,
                })
            }),
            phase: Phase::Open,
            capacity,
            release_idle,
            filled_room: false,
            idle: IdleGaps::default(),
            eof,
            span: HalfSpan::new(span),
            weakest: None,
        }
    }

    /// The weakest protection among the data records unsealed so far: `IntegrityOnly` once
    /// any arrived signed only, `None` before the first.
    pub(crate) fn weakest_protection(&self) -> Option<Protection> {
        self.weakest
    }

    /// The bytes received and not yet unsealed, taken out (the rest of the state is being
    /// dropped).
    pub(crate) fn take_unread(&mut self) -> Vec<u8> {
        let unread = self.buf[self.start..self.end].to_vec();
        self.start = self.end;
        unread
    }

    /// Bytes of buffer currently allocated (for tests and memory accounting).
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity() + self.prefix.as_ref().map_or(0, |p| p.bytes.capacity())
    }

    pub(crate) fn poll_read<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
        shared: &Shared,
    ) -> Poll<io::Result<()>> {
        let filled_before = out.filled().len();
        loop {
            self.hand_out(out);
            if out.remaining() == 0 {
                self.look_again_if_drained(io, cx, shared);
                return Poll::Ready(Ok(()));
            }
            let copied = out.filled().len() > filled_before;
            match &self.phase {
                Phase::Open => {}
                Phase::PeerClosed | Phase::Ended => return Poll::Ready(Ok(())),
                // Plaintext already copied is authenticated; the error comes on the next call.
                Phase::Failed(_) if copied => return Poll::Ready(Ok(())),
                Phase::Failed(failure) => return Poll::Ready(Err(failure.to_io())),
            }
            let missing = match self.unseal_next(shared, Some(out)) {
                Step::Progress => continue,
                Step::NeedBytes(missing) => missing,
            };
            if copied {
                // Don't wait on the transport while holding plaintext for the caller.
                self.look_again_if_drained(io, cx, shared);
                return Poll::Ready(Ok(()));
            }
            ready!(self.poll_fill(io, cx, shared, missing));
        }
    }

    /// Wait until authenticated plaintext is ready to lend ([`available`](Self::available)),
    /// or the stream has ended (then nothing is available) or failed.
    pub(crate) fn poll_fill_buf<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        cx: &mut Context<'_>,
        shared: &Shared,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.available().is_empty() {
                return Poll::Ready(Ok(()));
            }
            match &self.phase {
                Phase::Open => {}
                Phase::PeerClosed | Phase::Ended => return Poll::Ready(Ok(())),
                Phase::Failed(failure) => return Poll::Ready(Err(failure.to_io())),
            }
            let missing = match self.unseal_next(shared, None) {
                Step::Progress => continue,
                Step::NeedBytes(missing) => missing,
            };
            ready!(self.poll_fill(io, cx, shared, missing));
        }
    }

    /// The authenticated plaintext not yet handed out, in order: what the handshake left,
    /// then the current record's. Empty when neither has any.
    pub(crate) fn available(&self) -> &[u8] {
        match &self.prefix {
            Some(prefix) => &prefix.bytes[prefix.handed_out..],
            // An empty range may point past a buffer that has since been swapped.
            None if self.plain.is_empty() => &[],
            None => &self.buf[self.plain.clone()],
        }
    }

    /// Mark the first `amt` bytes of [`available`](Self::available) as handed out (at most
    /// what it holds).
    pub(crate) fn consume(&mut self, amt: usize) {
        if let Some(prefix) = self.prefix.as_mut() {
            prefix.handed_out += amt.min(prefix.bytes.len() - prefix.handed_out);
            if prefix.handed_out == prefix.bytes.len() {
                self.prefix = None;
            }
            return;
        }
        self.plain.start += amt.min(self.plain.len());
        self.release_if_drained();
    }

    /// Copy leftover and unsealed plaintext into `out`.
    fn hand_out(&mut self, out: &mut ReadBuf<'_>) {
        loop {
            let available = self.available();
            let n = out.remaining().min(available.len());
            if n == 0 {
                return;
            }
            out.put_slice(&available[..n]);
            self.consume(n);
        }
    }

    /// Unseal the next buffered record, if one is complete: into the room left in `out` if
    /// there is a reader's buffer and the sealer can (see [`Unseal::unseal_into`]), else in
    /// place. Plaintext has all been handed out here.
    fn unseal_next(&mut self, shared: &Shared, out: Option<&mut ReadBuf<'_>>) -> Step {
        if self.start == self.end {
            return Step::NeedBytes(1);
        }
        let input = &mut self.buf[self.start..self.end];
        let len = input.len();
        // Only room the caller initialized: zeroing an uninitialized buffer (`read_buf` into a
        // `BytesMut`) first would cost what the copy costs, and far more for a small record in
        // a large buffer.
        let out = out.filter(|out| out.initialized().len() > out.filled().len());
        if let Some(out) = out {
            let filled = out.filled().len();
            let room = (out.initialized().len() - filled).min(self.unseal.max_record());
            let dst = &mut out.initialized_mut()[filled..filled + room];
            match self.unseal.unseal_into(input, dst) {
                Ok(None) => {}
                Ok(Some(outcome)) => {
                    let checked = outcome.check_into(len, room).map(|()| outcome);
                    if let Ok(Unsealed::Data { plaintext, .. }) = &checked {
                        // Authenticated, and in initialized room.
                        out.advance(plaintext.end);
                    }
                    return self.unsealed(checked, shared, true);
                }
                Err(err) => return self.unsealed(Err(err), shared, true),
            }
        }
        let outcome = self
            .unseal
            .unseal(input)
            .and_then(|outcome| outcome.check(len).map(|()| outcome));
        self.unsealed(outcome, shared, false)
    }

    /// Act on what unsealing the record at `start` gave; `handed_out`: a data record's
    /// plaintext went straight into the reader's buffer.
    fn unsealed(
        &mut self,
        outcome: Result<Unsealed, Error>,
        shared: &Shared,
        handed_out: bool,
    ) -> Step {
        match outcome {
            Ok(Unsealed::Incomplete { missing }) => {
                return Step::NeedBytes(missing.unwrap_or(1).max(1));
            }
            Ok(Unsealed::Data {
                plaintext,
                consumed,
                protection,
            }) => {
                if self.weakest != Some(Protection::IntegrityOnly) {
                    self.weakest = Some(protection);
                }
                tracing::trace!(parent: self.span.id(), consumed, plaintext = plaintext.len(), handed_out, "unsealed record");
                if handed_out {
                    self.start += consumed;
                    // As `consume` does for plaintext handed out from the buffer.
                    self.release_if_drained();
                } else {
                    self.plain = self.start + plaintext.start..self.start + plaintext.end;
                    self.start += consumed;
                }
            }
            Ok(Unsealed::Consumed { consumed }) => {
                tracing::trace!(parent: self.span.id(), consumed, "consumed control record");
                self.start += consumed;
            }
            Ok(Unsealed::Respond { consumed, control }) => {
                tracing::debug!(parent: self.span.id(), ?control, "peer asked for an answer");
                self.start += consumed;
                // Bounded (see `Shared`): a peer that asks for more answers than the write half
                // sends ends the stream rather than growing the queue.
                if let Err(err) = shared.push(control) {
                    self.fail(Failure::Sealer(err));
                }
            }
            Ok(Unsealed::Closed { consumed }) => {
                tracing::debug!(parent: self.span.id(), "peer closed its side");
                self.start += consumed;
                self.phase = Phase::PeerClosed;
                // Bytes after the close (a protocol going on in the clear) stay for
                // `into_inner`; with none, the buffer goes back now.
                if self.start == self.end {
                    self.release();
                }
            }
            Err(err) => {
                if let Some(alert) = self.unseal.alert_for(&err) {
                    // A fatal alert always fits; anything else is best effort here.
                    let _ = shared.push(alert);
                }
                self.fail(Failure::Sealer(err));
            }
        }
        Step::Progress
    }

    /// Read from the transport until at least one more byte arrives (the caller loops until the
    /// record is whole), making room for `missing` more bytes of the current record.
    fn poll_fill<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        cx: &mut Context<'_>,
        shared: &Shared,
        missing: usize,
    ) -> Poll<()> {
        let buffered = self.end - self.start;
        let needed = buffered.saturating_add(missing);
        let max = self.unseal.max_record();
        if needed > max {
            self.fail(Failure::Sealer(Error::illegal_message(format!(
                "record needs {needed} bytes, above the largest accepted record of {max}"
            ))));
            return Poll::Ready(());
        }
        self.make_room(needed, missing);

        // Not a wait on the transport: nothing here goes idle for it.
        ready!(shared.turns.poll_turn(Side::Read, cx));
        let mut read_buf = ReadBuf::new(&mut self.buf[self.end..]);
        let polled = {
            let _turn = shared.turns.enter(Side::Read);
            Pin::new(io).poll_read(cx, &mut read_buf)
        };
        match polled {
            Poll::Pending => {
                if self.start == self.end && self.release_idle {
                    self.go_idle();
                }
                Poll::Pending
            }
            Poll::Ready(Err(err)) => {
                self.fail(Failure::Transport(err.into()));
                Poll::Ready(())
            }
            Poll::Ready(Ok(())) => {
                let n = read_buf.filled().len();
                self.filled_room = read_buf.remaining() == 0;
                if n == 0 {
                    self.transport_ended();
                } else {
                    // Work again: bytes arrived (taking a buffer to look is not work).
                    self.idle.wake();
                    self.end += n;
                }
                Poll::Ready(())
            }
        }
    }

    /// Ensure the buffer is allocated and has room after `end` for more of the current record,
    /// which needs `needed` bytes in all, `missing` of them not yet here. Plaintext has all been
    /// handed out here.
    ///
    /// A record larger than the normal buffer gets room only as its bytes arrive: when the
    /// buffer is full, it doubles, to at most twice what has arrived of the record. A peer that
    /// announces a 16 MiB SASL frame and sends 4 bytes makes the stream hold the normal buffer,
    /// not 16 MiB; one that sends the whole frame costs a doubling buffer, whose copies add up
    /// to less than the frame once more.
    fn make_room(&mut self, needed: usize, missing: usize) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.plain = 0..0;
            if self.buf.len() > self.capacity {
                // A large record is done: go back to the normal size.
                self.buf = Vec::new();
            }
        }
        if self.buf.is_empty() {
            self.buf = pool::take(self.capacity, pool::Direction::Read);
            return;
        }
        let tail = self.buf.len() - self.end;
        if self.start > 0 && (tail < missing || tail < self.buf.len() / 4) {
            // Move the partial record to the front: at most one record's bytes.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            self.plain = 0..0;
        }
        if self.end == self.buf.len() {
            let arrived = self.end - self.start;
            let room = needed.min(self.capacity.max(arrived.saturating_mul(2)));
            let len = self.start + room;
            self.buf.reserve_exact(len - self.buf.len());
            self.buf.resize(len, 0);
        }
    }

    fn transport_ended(&mut self) {
        let partial = self.end - self.start;
        if partial > 0 {
            self.fail(Failure::Sealer(Error::truncated(format!(
                "the transport ended inside a record ({partial} bytes of it received)"
            ))));
        } else if self.unseal.signals_close() && self.eof == EofPolicy::Truncation {
            self.fail(Failure::Sealer(Error::truncated(
                "the transport ended without the peer's close message (truncation)",
            )));
        } else {
            tracing::debug!(parent: self.span.id(), "transport ended between records");
            self.phase = Phase::Ended;
            self.release();
        }
    }

    fn fail(&mut self, failure: Failure) {
        tracing::debug!(parent: self.span.id(), ?failure, "read half failed");
        self.phase = Phase::Failed(Box::new(failure));
        self.plain = 0..0;
        self.release();
    }

    /// Go idle as soon as the buffer holds nothing unread (no plaintext left to hand out and
    /// no bytes of a next record) and the last read from the transport came back short of the
    /// room it had, so that nothing more was waiting then. A connection held by a pool, or a
    /// server busy with the request it just read, then costs no read buffer and (unless it is
    /// chatty) no expanded key schedule, whether or not it reads again; a busy connection
    /// takes the same buffer back from this thread's pool on its next read (a move, not an
    /// allocation) and, after [`CHATTY_STREAK`](super::idle::CHATTY_STREAK) short gaps, keeps
    /// its keys. A read that filled all its room says more is waiting: the buffer stays for
    /// the next read, which on a bulk transfer comes at once. Giving it back there would send
    /// it through the pool once per buffer drained, and with many connections on a thread the
    /// pool runs dry and allocates; it goes back when a later read finds the transport empty.
    fn release_if_drained(&mut self) {
        if !self.filled_room && self.is_drained() {
            self.go_idle();
        }
    }

    /// Whether the buffer is held with nothing unread in it, under a policy of giving it back.
    fn is_drained(&self) -> bool {
        self.release_idle
            && self.prefix.is_none()
            && self.plain.is_empty()
            && self.start == self.end
            && !self.buf.is_empty()
    }

    /// A read handed out everything the buffer held: look at the transport once, without
    /// waiting, instead of guessing ([`release_if_drained`](Self::release_if_drained) is for
    /// `consume`, which cannot poll). Bytes waiting stay in the buffer for the next call, as
    /// on a bulk transfer; an empty transport makes the read half go idle there and then,
    /// buffer given back and the task registered for the next bytes, as a connection that is
    /// held unread after its last message needs. The read that finds the transport empty is
    /// the one the next call would have made. While the write half is inside the transport
    /// the look is left to the next call (see [`Turns`](super::turns)).
    fn look_again_if_drained<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        cx: &mut Context<'_>,
        shared: &Shared,
    ) {
        if self.is_drained()
            && matches!(self.phase, Phase::Open)
            && !shared.turns.other_is_in(Side::Read)
        {
            // Ready (bytes, the transport's end or an error) is for the next call to report.
            let _ = self.poll_fill(io, cx, shared, 1);
        }
    }

    fn release(&mut self) {
        if self.plain.is_empty() {
            pool::give_read(std::mem::take(&mut self.buf), self.capacity);
            self.start = 0;
            self.end = 0;
            self.plain = 0..0;
        }
    }

    /// The transport has nothing more for now: give the buffer back and, unless the connection
    /// is chatty, let the sealer drop what it can rebuild (see [`IdleGaps`]).
    fn go_idle(&mut self) {
        self.release();
        if self.buf.is_empty() && self.idle.went_idle(Instant::now()) {
            self.unseal.release_idle();
        }
    }
}
