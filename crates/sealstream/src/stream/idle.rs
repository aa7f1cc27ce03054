//! When a direction that went idle also tells its sealer to drop what it can rebuild.
//!
//! A direction "goes idle" whenever it gives its buffer back: the reader handed out everything it
//! had received (or the transport had nothing more), or a flush emptied the write buffer. It has
//! work again when bytes arrive or the writer takes a buffer. On a connection that then stays quiet that is the
//! last event for a long time, so it is the only moment to make the connection cheap: the
//! sealer drops its expanded key schedule there ([`Seal::release_idle`]). On a chatty
//! connection (request and response, ping-pong) the same moment comes once per message, and
//! rebuilding the key schedule each time would cost an allocation and a key expansion per
//! record. What tells the two apart is the gaps the direction spent idle: after
//! [`CHATTY_STREAK`] short ones in a row the connection is taken to be chatty and keeps its
//! keys; a long gap makes it quiet again. One short gap is not enough: a new connection's first
//! read goes idle a moment before the first message arrives, and a connection that exchanges a
//! message or two and falls silent (a request and its response, then keep-alive) must still
//! release. A chatty connection pays for at most [`CHATTY_STREAK`] rebuilds before it keeps
//! its keys.
//!
//! The limit of a rule without a timer: a connection whose last messages came in quick
//! succession keeps its keys when it falls silent, until it next wakes after a long gap. A
//! timer could release them later, but the stream cannot assume a runtime with timers enabled
//! (tokio panics on a timer without them), so it does not.
//!
//! The gaps are measured on tokio's clock (`tokio::time::Instant`), which reads the system's
//! monotonic clock and needs no timer; a test runtime with paused time makes them exact. The
//! rule itself takes the time as an argument.
//!
//! [`Seal::release_idle`]: crate::Seal::release_idle

use std::time::Duration;

use tokio::time::Instant;

/// An idle gap shorter than this is a short one.
pub(crate) const CHATTY_GAP: Duration = Duration::from_millis(20);

/// Short idle gaps in a row that mark the connection as chatty.
pub(crate) const CHATTY_STREAK: u8 = 3;

/// One direction's record of its idle gaps.
#[derive(Debug, Default)]
pub(crate) struct IdleGaps {
    /// When the direction last went idle, until it has work again.
    idle_since: Option<Instant>,
    /// Idle gaps shorter than [`CHATTY_GAP`] in a row, up to [`CHATTY_STREAK`].
    short_gaps: u8,
}

impl IdleGaps {
    /// The direction has work again (it takes a buffer after giving one back) at `now`.
    pub(crate) fn woke(&mut self, now: Instant) {
        if let Some(since) = self.idle_since.take() {
            self.short_gaps = if now.saturating_duration_since(since) < CHATTY_GAP {
                (self.short_gaps + 1).min(CHATTY_STREAK)
            } else {
                0
            };
        }
    }

    /// The direction has work again, now: reads the clock only if it had gone idle, since a
    /// busy direction takes its buffer back once per record.
    pub(crate) fn wake(&mut self) {
        if self.idle_since.is_some() {
            self.woke(Instant::now());
        }
    }

    /// The direction goes idle at `now`; returns whether its sealer should release what it can
    /// rebuild. Only the moment it goes idle decides: going idle again with no work in between
    /// (a drained read that then finds the transport empty) keeps the first moment and returns
    /// `false`, since whatever was to be released already was.
    pub(crate) fn went_idle(&mut self, now: Instant) -> bool {
        if self.idle_since.is_some() {
            return false;
        }
        self.idle_since = Some(now);
        self.short_gaps < CHATTY_STREAK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_after_a_streak_of_short_gaps_and_releases_after_a_long_one() {
        let mut now = Instant::now();
        let short = CHATTY_GAP - Duration::from_millis(1);
        let mut gaps = IdleGaps::default();
        assert!(gaps.went_idle(now), "first idle: nothing is known, release");
        for streak in 1..CHATTY_STREAK {
            now += short;
            gaps.woke(now);
            assert!(
                gaps.went_idle(now),
                "{streak} short gap(s): not chatty yet, release"
            );
        }
        now += short;
        gaps.woke(now);
        assert!(!gaps.went_idle(now), "a streak of short gaps: chatty, keep");
        now += short;
        gaps.woke(now);
        assert!(!gaps.went_idle(now), "still chatty");
        now += CHATTY_GAP;
        gaps.woke(now);
        assert!(gaps.went_idle(now), "a long gap: quiet again, release");
        assert!(
            !gaps.went_idle(now),
            "idle already: nothing more to release"
        );
        gaps.woke(now);
        assert!(gaps.went_idle(now), "the streak starts over");
    }

    #[test]
    fn going_idle_twice_keeps_the_first_moment() {
        let start = Instant::now();
        let mut gaps = IdleGaps::default();
        assert!(gaps.went_idle(start), "first idle: release");
        // A second Pending without work in between does not restart the gap, and has nothing
        // left to release.
        assert!(!gaps.went_idle(start + CHATTY_GAP));
        gaps.woke(start + CHATTY_GAP + Duration::from_millis(1));
        assert_eq!(gaps.short_gaps, 0, "the gap counts from the first Pending");
        assert!(gaps.went_idle(start + CHATTY_GAP + Duration::from_millis(1)));
    }
}
