//! A small per-thread pool of I/O buffers.
//!
//! A direction gives its buffer back whenever it goes idle (the transport has nothing to read,
//! or a flush emptied it), so ten thousand idle connections hold no buffers. A busy connection
//! goes "idle" many times a second, though: the reader catches up with the socket, returns
//! `Pending`, and a microsecond later has data again. The pool turns that give-back and take
//! into a move within this thread instead of a free and an allocation.
//!
//! It keeps at most [`MAX_POOLED`] buffers per thread, so what it holds is bounded by the
//! number of runtime threads, never by the number of connections. Buffers are not cleared
//! between users: the stream only ever hands out bytes it has just read and unsealed into them,
//! and only ever sends bytes a sealer has just written (a sealer that copies the plaintext
//! itself must write all of it: `Seal::seal_copying`).

use std::cell::RefCell;

/// The most buffers one thread keeps.
pub(crate) const MAX_POOLED: usize = 4;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of exactly `len` initialized bytes, from the pool when it has one.
pub(crate) fn take(len: usize) -> Vec<u8> {
    let pooled = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.iter().position(|b| b.len() == len)?;
        Some(pool.swap_remove(at))
    });
    pooled.unwrap_or_else(|| vec![0; len])
}

/// Give `buf` back; it is kept if the pool has room, freed otherwise.
pub(crate) fn give(buf: Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < MAX_POOLED {
            pool.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_buffers_of_the_same_size_and_stays_bounded() {
        let a = take(1000);
        let ptr = a.as_ptr();
        give(a);
        let b = take(1000);
        assert_eq!(b.as_ptr(), ptr, "the pooled buffer comes back");
        assert_eq!(take(999).len(), 999);
        for _ in 0..MAX_POOLED + 3 {
            give(vec![0; 10]);
        }
        POOL.with(|p| assert!(p.borrow().len() <= MAX_POOLED));
        give(b);
    }
}
