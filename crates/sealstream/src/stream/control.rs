//! The control path from the read half to the write half.
//!
//! When the read half unseals a record that needs an answer (a TLS 1.3 KeyUpdate asking for ours,
//! or a failure that deserves a fatal alert) it must not write: the write half may be in the
//! middle of a record on another thread. It queues a [`Control`] here instead, and the write half
//! seals it before its next record, or on flush or shutdown.
//!
//! What the peer can make the read half queue is bounded, whatever the writer is doing:
//!
//! - a key update owed is a flag, not a queue entry. RFC 8446 §4.6.3 asks for one KeyUpdate
//!   "prior to sending its next Application Data record", however many requests came before it,
//!   so a peer that asks ten thousand times while our writer is idle gets one answer;
//! - the first fatal alert is kept and everything queued after it is dropped: nothing follows a
//!   fatal alert;
//! - anything else (warning alerts, a close) waits in a queue of at most [`MAX_QUEUED`]; a
//!   push beyond it fails, and the read half fails with it.
//!
//! The data path pays one atomic load per write to learn that nothing is queued; the lock is
//! taken only when something is. A writer task waiting in [`Shared::poll_pending`] is woken
//! through an `AtomicWaker`, registered before the flag is read, so no wake-up is lost.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

use super::turns::Turns;
use crate::{AlertCode, Control, Error, Status};

/// The most controls other than key updates and a fatal alert that wait for the write half.
pub(crate) const MAX_QUEUED: usize = 16;

/// State shared by the two halves of one stream: the control queue, whose turn it is at the
/// transport ([`Turns`]), and the identity `reunite` checks.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) turns: Turns,
    pending: AtomicBool,
    queue: Mutex<Queue>,
    writer: AtomicWaker,
}

/// What the write half owes, in the order it sends it.
#[derive(Debug, Default)]
struct Queue {
    /// The first fatal alert: sent before anything else, and nothing after it.
    fatal: Option<AlertCode>,
    /// A KeyUpdate answering the peer's request (update_not_requested).
    key_update_answer: bool,
    /// A KeyUpdate asking the peer to update too (update_requested), queued by the user.
    key_update_request: bool,
    /// Everything else, in order.
    others: VecDeque<Control>,
}

impl Queue {
    fn is_empty(&self) -> bool {
        self.fatal.is_none()
            && !self.key_update_answer
            && !self.key_update_request
            && self.others.is_empty()
    }
}

impl Shared {
    /// Halves that take turns at the transport, or (`false`) never yield to each other.
    pub(crate) fn new(take_turns: bool) -> Self {
        Self {
            turns: Turns::new(take_turns),
            ..Self::default()
        }
    }

    /// Queue `control` for the write half and wake it. Fails, queueing nothing, when
    /// [`MAX_QUEUED`] controls other than key updates and a fatal alert already wait.
    pub(crate) fn push(&self, control: Control) -> Result<(), Error> {
        {
            let mut queue = self.lock();
            match control {
                Control::Alert(alert) if alert.level == AlertCode::FATAL => {
                    queue.fatal.get_or_insert(alert);
                }
                // Nothing is sent after a fatal alert: what comes now is dropped, never refused.
                _ if queue.fatal.is_some() => return Ok(()),
                Control::KeyUpdate {
                    update_requested: false,
                } => queue.key_update_answer = true,
                Control::KeyUpdate {
                    update_requested: true,
                } => queue.key_update_request = true,
                other if queue.others.len() >= MAX_QUEUED => {
                    return Err(Error::new(
                        Status::InsufficientMemory,
                        format!(
                            "{MAX_QUEUED} control messages already wait for the write half; \
                             {other:?} was not queued"
                        ),
                    ));
                }
                other => queue.others.push_back(other),
            }
        }
        self.pending.store(true, Ordering::Release);
        self.writer.wake();
        Ok(())
    }

    /// Whether anything is queued. One atomic load: the data path's whole cost.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Take the next control to send: a fatal alert (and then nothing else), the key updates
    /// owed, then the rest in order.
    pub(crate) fn pop(&self) -> Option<Control> {
        let mut queue = self.lock();
        let control = if let Some(alert) = queue.fatal {
            *queue = Queue::default();
            Some(Control::Alert(alert))
        } else if std::mem::take(&mut queue.key_update_answer) {
            Some(Control::KeyUpdate {
                update_requested: false,
            })
        } else if std::mem::take(&mut queue.key_update_request) {
            Some(Control::KeyUpdate {
                update_requested: true,
            })
        } else {
            queue.others.pop_front()
        };
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
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
    use std::task::{Wake, Waker};

    use sealstream_testkit::wakers::CountingWaker;

    const ANSWER: Control = Control::KeyUpdate {
        update_requested: false,
    };
    const REQUEST: Control = Control::KeyUpdate {
        update_requested: true,
    };

    fn warning(description: u8) -> Control {
        Control::Alert(AlertCode {
            level: AlertCode::WARNING,
            description,
        })
    }

    fn drain(shared: &Shared) -> Vec<Control> {
        std::iter::from_fn(|| shared.pop()).collect()
    }

    #[test]
    fn key_updates_coalesce_and_go_before_the_rest() {
        let shared = Shared::default();
        assert!(!shared.has_pending());
        shared.push(Control::Close).unwrap();
        for _ in 0..10_000 {
            shared.push(ANSWER).unwrap();
        }
        shared.push(REQUEST).unwrap();
        shared.push(REQUEST).unwrap();
        shared.push(warning(90)).unwrap();
        assert!(shared.has_pending());
        assert_eq!(
            drain(&shared),
            [ANSWER, REQUEST, Control::Close, warning(90)]
        );
        assert!(!shared.has_pending());
        assert_eq!(shared.pop(), None);
    }

    #[test]
    fn the_first_fatal_alert_goes_first_and_ends_the_queue() {
        let shared = Shared::default();
        shared.push(warning(90)).unwrap();
        shared.push(ANSWER).unwrap();
        shared.push(Control::Alert(AlertCode::fatal(20))).unwrap();
        shared.push(Control::Alert(AlertCode::fatal(10))).unwrap();
        assert_eq!(drain(&shared), [Control::Alert(AlertCode::fatal(20))]);
        assert!(!shared.has_pending());
    }

    #[test]
    fn other_controls_are_bounded_but_key_updates_and_a_fatal_alert_always_fit() {
        let shared = Shared::default();
        for _ in 0..MAX_QUEUED {
            shared.push(warning(100)).unwrap();
        }
        let err = shared.push(warning(100)).unwrap_err();
        assert_eq!(err.status(), Status::InsufficientMemory);
        shared.push(ANSWER).unwrap();
        shared.push(Control::Alert(AlertCode::fatal(80))).unwrap();
        // Behind a fatal alert nothing waits, so nothing is refused either.
        shared.push(warning(100)).unwrap();
        assert_eq!(drain(&shared), [Control::Alert(AlertCode::fatal(80))]);
        // Room again once the writer took them.
        shared.push(warning(100)).unwrap();
    }

    #[test]
    fn registered_writer_is_woken() {
        let shared = Shared::default();
        let (counter, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert!(shared.poll_pending(&mut cx).is_pending());
        shared.push(Control::Close).unwrap();
        assert_eq!(counter.count(), 1);
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
                std::thread::spawn(move || shared.push(Control::Close).unwrap())
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
