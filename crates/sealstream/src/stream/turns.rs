//! Turns at the transport: a half that finds the other half of its stream inside a call to the
//! transport yields to its executor instead of making a call of its own.
//!
//! Why: a TCP socket's send and receive paths take one lock in the kernel (`lock_sock`, held
//! while bytes are copied in or out and, on loopback, while they are delivered). When a
//! connection's read half and write half run on two threads and meet there, the one that comes
//! second sleeps in the kernel until the other is done, and is then woken through the
//! scheduler: in a one-connection duplex transfer on two tokio workers, nine context switches
//! in ten were a worker going to sleep in `__lock_sock`, and a fifth of both CPUs stayed idle,
//! for plain TCP as for sealed streams (BENCHMARKS.md, "Duplex"). A half that yields instead
//! leaves its thread free to run other tasks, or to poll it again a moment later, when the
//! other half's call is over.
//!
//! This is not a lock. Neither half ever waits for the other: a half that yields has changed
//! nothing and will be polled again (it wakes itself), and the two flags are only set while a
//! call into the transport runs, so a half can be held back at most for as long as one call of
//! the other lasts. Both halves may still enter at once (each looked before the other set its
//! flag); the kernel then serializes them as it would have. The flags are cleared by a guard,
//! so a transport that panics inside a call leaves no half yielding for ever.
//!
//! A stream that is not split, or whose halves are polled by one task, never meets itself
//! there: its calls come one after the other. Turns are taken only where the two directions
//! share a lock: a transport whose `SplitTransport::DIRECTIONS_SHARE_A_LOCK` says so (TCP),
//! and any transport split with `tokio::io::split`, whose mutex both halves take. Over a Unix
//! socket, or over another sealed stream (whose own halves take turns at the socket under it:
//! a layer inside TLS), the halves never yield to each other.
//! [`StreamBuilder::take_turns`](super::StreamBuilder::take_turns) turns them off for a stream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Which half a call into the transport is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Read,
    Write,
}

/// Whether each half is inside a call to the transport now.
#[derive(Debug)]
pub(crate) struct Turns {
    /// Off: no half ever yields (the flags are still set, and nothing reads them). Turned off
    /// for good when the stream is split over a transport whose directions share no lock.
    enabled: AtomicBool,
    reading: AtomicBool,
    writing: AtomicBool,
}

impl Default for Turns {
    fn default() -> Self {
        Self::new(true)
    }
}

impl Turns {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled: AtomicBool::new(enabled),
            reading: AtomicBool::new(false),
            writing: AtomicBool::new(false),
        }
    }

    /// No half yields from now on.
    pub(crate) fn never(&self) {
        self.enabled.store(false, Ordering::Relaxed);
    }

    fn flag(&self, side: Side) -> &AtomicBool {
        match side {
            Side::Read => &self.reading,
            Side::Write => &self.writing,
        }
    }

    /// Whether `me` should let the other half finish its call to the transport first. Relaxed:
    /// a stale answer costs one yield too many or one kernel wait, never correctness.
    pub(crate) fn other_is_in(&self, me: Side) -> bool {
        let other = match me {
            Side::Read => Side::Write,
            Side::Write => Side::Read,
        };
        self.flag(other).load(Ordering::Relaxed) && self.enabled.load(Ordering::Relaxed)
    }

    /// `Pending`, with the task woken to be polled again, if the other half is inside the
    /// transport: the yield this module is about.
    pub(crate) fn poll_turn(&self, me: Side, cx: &mut Context<'_>) -> Poll<()> {
        if self.other_is_in(me) {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// Mark `me` as inside the transport until the guard drops.
    pub(crate) fn enter(&self, me: Side) -> InTransport<'_> {
        let flag = self.flag(me);
        flag.store(true, Ordering::Relaxed);
        InTransport { flag }
    }
}

/// A half's call into the transport, from [`Turns::enter`]; dropping it ends the call.
#[derive(Debug)]
pub(crate) struct InTransport<'a> {
    flag: &'a AtomicBool,
}

impl Drop for InTransport<'_> {
    fn drop(&mut self) {
        self.flag.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use sealstream_testkit::wakers::poll_counting;

    use super::*;

    fn poll(turns: &Turns, me: Side) -> (Poll<()>, usize) {
        poll_counting(|cx| turns.poll_turn(me, cx))
    }

    #[test]
    fn a_half_yields_only_while_the_other_is_inside_and_wakes_itself() {
        let turns = Turns::default();
        assert_eq!(poll(&turns, Side::Read), (Poll::Ready(()), 0));
        let writing = turns.enter(Side::Write);
        assert_eq!(poll(&turns, Side::Read), (Poll::Pending, 1));
        // A half is never held back by its own call.
        assert_eq!(poll(&turns, Side::Write), (Poll::Ready(()), 0));
        drop(writing);
        assert_eq!(poll(&turns, Side::Read), (Poll::Ready(()), 0));
        let reading = turns.enter(Side::Read);
        assert_eq!(poll(&turns, Side::Write), (Poll::Pending, 1));
        drop(reading);
        assert_eq!(poll(&turns, Side::Write), (Poll::Ready(()), 0));
    }

    #[test]
    fn turned_off_no_half_yields() {
        for turns in [Turns::new(false), {
            let turns = Turns::new(true);
            turns.never();
            turns
        }] {
            let _writing = turns.enter(Side::Write);
            let _reading = turns.enter(Side::Read);
            assert_eq!(poll(&turns, Side::Read), (Poll::Ready(()), 0));
            assert_eq!(poll(&turns, Side::Write), (Poll::Ready(()), 0));
        }
    }

    #[test]
    fn a_call_that_panics_still_ends_its_turn() {
        let turns = Turns::default();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _writing = turns.enter(Side::Write);
            panic!("the transport panicked");
        }));
        assert!(caught.is_err());
        assert_eq!(poll(&turns, Side::Read), (Poll::Ready(()), 0));
    }
}
