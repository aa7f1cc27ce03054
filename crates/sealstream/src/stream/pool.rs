//! Small per-thread pools of I/O buffers, one per direction.
//!
//! A direction gives its buffer back whenever it goes idle (the transport has nothing to read,
//! or a flush emptied it), so ten thousand idle connections hold no buffers. A busy connection
//! goes "idle" many times a second, though: the reader catches up with the socket, returns
//! `Pending`, and a microsecond later has data again. The pools turn that give-back and take
//! into a move within this thread instead of a free and an allocation.
//!
//! What one connection leaves in a buffer must never reach another connection's peer:
//!
//! - **Read buffers** hold received records and the plaintext unsealed from them. They go back
//!   to the read pool only, and a read buffer's bytes are handed out only after this
//!   connection's transport filled them and its sealer unsealed them in place (the stream checks
//!   that every plaintext range lies inside the bytes the record consumed), so nothing an
//!   earlier user left is ever lent or copied out. They are not cleared.
//! - **Write buffers** hold sealed records, and for an integrity-only layer (DIGEST-MD5
//!   auth-int, Kerberos conf=0) those carry their plaintext in clear. They go back to the write
//!   pool only, and the part that was used is zeroed first, so that a sealer that reports more
//!   bytes than it wrote sends zeros, never another connection's records.
//!
//! Each pool keeps at most [`MAX_POOLED`] buffers per thread, so what they hold is bounded by
//! the number of runtime threads, never by the number of connections. A buffer larger than its
//! stream's normal size (one that grew for a record above it) is freed, not kept.

use std::cell::RefCell;

/// The most buffers one thread keeps per direction.
pub(crate) const MAX_POOLED: usize = 4;

thread_local! {
    static READ: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    static WRITE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Which direction a buffer serves; each has its own pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    fn pool(self) -> &'static std::thread::LocalKey<RefCell<Vec<Vec<u8>>>> {
        match self {
            Direction::Read => &READ,
            Direction::Write => &WRITE,
        }
    }
}

/// A buffer of exactly `len` initialized bytes for `direction`, from its pool when it has one.
pub(crate) fn take(len: usize, direction: Direction) -> Vec<u8> {
    let pooled = direction.pool().with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.iter().position(|b| b.len() == len)?;
        Some(pool.swap_remove(at))
    });
    pooled.unwrap_or_else(|| vec![0; len])
}

/// Give back a read buffer of a stream whose normal buffer is `normal` bytes; it is kept if
/// the pool has room and it is no larger.
pub(crate) fn give_read(buf: Vec<u8>, normal: usize) {
    give(buf, Direction::Read, 0, normal);
}

/// Give back a write buffer whose first `used` bytes were written to, of a stream whose normal
/// buffer is `normal` bytes; the used bytes are zeroed if the buffer is kept.
pub(crate) fn give_write(buf: Vec<u8>, used: usize, normal: usize) {
    give(buf, Direction::Write, used, normal);
}

fn give(mut buf: Vec<u8>, direction: Direction, used: usize, normal: usize) {
    if buf.is_empty() || buf.len() > normal {
        return;
    }
    direction.pool().with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < MAX_POOLED {
            let used = used.min(buf.len());
            buf[..used].fill(0);
            pool.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled(direction: Direction) -> usize {
        direction.pool().with(|p| p.borrow().len())
    }

    #[test]
    fn reuses_buffers_of_the_same_size_and_stays_bounded() {
        let a = take(1000, Direction::Read);
        let ptr = a.as_ptr();
        give_read(a, 1000);
        let b = take(1000, Direction::Read);
        assert_eq!(b.as_ptr(), ptr, "the pooled buffer comes back");
        assert_eq!(take(999, Direction::Read).len(), 999);
        for _ in 0..MAX_POOLED + 3 {
            give_read(vec![0; 10], 10);
        }
        assert!(pooled(Direction::Read) <= MAX_POOLED);
        give_read(b, 1000);
    }

    #[test]
    fn directions_never_share_buffers() {
        let read = take(4321, Direction::Read);
        let ptr = read.as_ptr();
        give_read(read, 4321);
        let write = take(4321, Direction::Write);
        assert_ne!(write.as_ptr(), ptr, "a read buffer was handed to a writer");
        give_write(write, 0, 4321);
        let read = take(4321, Direction::Read);
        assert_eq!(read.as_ptr(), ptr);
    }

    #[test]
    fn a_kept_write_buffer_is_zeroed_where_it_was_used() {
        let mut buf = take(5000, Direction::Write);
        let ptr = buf.as_ptr();
        buf[..3000].fill(0xA5);
        give_write(buf, 3000, 5000);
        let again = take(5000, Direction::Write);
        assert_eq!(again.as_ptr(), ptr);
        assert!(
            again.iter().all(|&b| b == 0),
            "stale bytes left in a pooled buffer"
        );
    }

    #[test]
    fn a_buffer_above_its_streams_normal_size_is_freed_not_kept() {
        let before = pooled(Direction::Read);
        give_read(vec![0u8; 600 * 1024], 64 * 1024);
        assert_eq!(pooled(Direction::Read), before);
        // A stream configured with large buffers still has them pooled.
        give_read(vec![0u8; 1024 * 1024], 1024 * 1024);
        assert_eq!(pooled(Direction::Read), (before + 1).min(MAX_POOLED));
    }
}
