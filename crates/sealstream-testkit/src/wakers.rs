//! Wakers for polling by hand: one that counts its wakes, so a test can tell a half that
//! yields (woken to be polled again) from one that waits (woken by something else later).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts how often it was woken.
#[derive(Debug, Default)]
pub struct CountingWaker(AtomicUsize);

impl CountingWaker {
    /// The counter, and a waker that counts on it.
    pub fn new() -> (Arc<Self>, Waker) {
        let counter = Arc::new(Self::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// Wakes so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Poll `f` once with a fresh [`CountingWaker`]: what it returned, and how often it woke the
/// waker meanwhile.
pub fn poll_counting<T>(f: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> (Poll<T>, usize) {
    let (counter, waker) = CountingWaker::new();
    let polled = f(&mut Context::from_waker(&waker));
    (polled, counter.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_wakes_by_reference_and_by_value() {
        let (polled, wakes) = poll_counting(|cx| {
            cx.waker().wake_by_ref();
            let owned = cx.waker().clone();
            owned.wake();
            Poll::<()>::Pending
        });
        assert_eq!((polled, wakes), (Poll::Pending, 2));
        assert_eq!(poll_counting(|_| Poll::Ready(7)), (Poll::Ready(7), 0));
    }
}
