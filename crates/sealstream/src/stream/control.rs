//! The control path from the read half to the write half.
//!
//! When the read half unseals a record that needs an answer (a TLS 1.3 KeyUpdate asking for ours,
//! or a failure that deserves a fatal alert) it must not write: the write half may be in the
//! middle of a record on another thread. It queues a [`Control`] here instead, and the write half
//! seals it before its next record, or on flush or shutdown.
//!
//! The data path pays one atomic load per write to learn that nothing is queued; the lock is
//! taken only when something is. A writer task waiting in [`Shared::poll_pending`] is woken
//! through an `AtomicWaker`, registered before the flag is read, so no wake-up is lost.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

use crate::Control;

/// State shared by the two halves of one stream: the control queue, and the identity `reunite`
/// checks.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pending: AtomicBool,
    queue: Mutex<VecDeque<Control>>,
    writer: AtomicWaker,
}

impl Shared {
    /// Queue `control` for the write half and wake it.
    pub(crate) fn push(&self, control: Control) {
        self.lock().push_back(control);
        self.pending.store(true, Ordering::Release);
        self.writer.wake();
    }

    /// Whether anything is queued. One atomic load: the data path's whole cost.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Take the oldest queued control.
    pub(crate) fn pop(&self) -> Option<Control> {
        let mut queue = self.lock();
        let control = queue.pop_front();
        if queue.is_empty() {
            self.pending.store(false, Ordering::Release);
        }
        control
    }

    /// Ready once something is queued; registers the writer's waker first so a push between the
    /// check and the return is never missed.
    pub(crate) fn poll_pending(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.writer.register(cx.waker());
        if self.has_pending() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Control>> {
        // The queue holds plain values and no code panics while holding the lock; a poisoned lock
        // still holds a consistent queue.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn fifo_and_flag() {
        let shared = Shared::default();
        assert!(!shared.has_pending());
        shared.push(Control::Close);
        shared.push(Control::KeyUpdate {
            update_requested: false,
        });
        assert!(shared.has_pending());
        assert_eq!(shared.pop(), Some(Control::Close));
        assert!(shared.has_pending());
        assert!(shared.pop().is_some());
        assert!(!shared.has_pending());
        assert_eq!(shared.pop(), None);
    }

    #[test]
    fn registered_writer_is_woken() {
        let shared = Shared::default();
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(shared.poll_pending(&mut cx).is_pending());
        shared.push(Control::Close);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(shared.poll_pending(&mut cx).is_ready());
    }

    #[test]
    fn wakeups_are_not_lost_across_threads() {
        // A writer thread polls until it sees the control; a pusher thread pushes once. If a wake
        // were lost the writer would park forever (bounded here by a timeout).
        for _ in 0..200 {
            let shared = Arc::new(Shared::default());
            let pusher = {
                let shared = shared.clone();
                std::thread::spawn(move || shared.push(Control::Close))
            };
            let thread = std::thread::current();
            struct Unpark(std::thread::Thread);
            impl Wake for Unpark {
                fn wake(self: Arc<Self>) {
                    self.0.unpark();
                }
            }
            let waker = Waker::from(Arc::new(Unpark(thread)));
            let mut cx = Context::from_waker(&waker);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while shared.poll_pending(&mut cx).is_pending() {
                assert!(std::time::Instant::now() < deadline, "lost wake-up");
                std::thread::park_timeout(std::time::Duration::from_secs(1));
            }
            pusher.join().unwrap();
            assert_eq!(shared.pop(), Some(Control::Close));
        }
    }
}
