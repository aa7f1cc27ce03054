//! Every byte of a benchmark is checked: senders write a position-dependent pattern and
//! receivers compare what arrives with what must arrive at that offset.
//!
//! The pattern repeats with a prime period (65,521 bytes), so filling is a copy and checking a
//! comparison of whole slices, fast enough not to be what is measured. A lost, duplicated or
//! reordered record shifts everything after it and is caught unless the shift is an exact
//! multiple of the period.

use std::sync::OnceLock;

use super::error::{BenchError, BenchResult};

/// The pattern's period: a prime, so no record or write size lines up with it.
const PERIOD: usize = 65_521;

fn table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Two periods, so any window of up to one period is one contiguous slice.
        let mut state: u32 = 0x9E37_79B9;
        let one: Vec<u8> = (0..PERIOD)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        [one.clone(), one].concat()
    })
}

/// A bulk sender's pattern: every write is a window into one buffer prepared up front, so the
/// bench's own data costs the sender no copy per write (the layer under test copies the bytes
/// into its records anyway; a second copy by the bench would be counted against it).
#[derive(Debug)]
pub(crate) struct PatternSource {
    /// The pattern from offset 0 for one period plus one write.
    bytes: Vec<u8>,
    size: usize,
    offset: u64,
}

impl PatternSource {
    /// A source of `size`-byte writes (at least 1).
    pub(crate) fn new(size: usize) -> Self {
        let size = size.max(1);
        let bytes = table()[..PERIOD]
            .iter()
            .copied()
            .cycle()
            .take(PERIOD + size)
            .collect();
        Self {
            bytes,
            size,
            offset: 0,
        }
    }

    /// The next write's bytes.
    pub(crate) fn next_write(&mut self) -> &[u8] {
        let at = (self.offset % PERIOD as u64) as usize;
        self.offset += self.size as u64;
        &self.bytes[at..at + self.size]
    }

    /// Bytes handed out so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }
}

/// One direction's pattern, as sender or receiver.
#[derive(Debug, Default)]
pub(crate) struct Pattern {
    offset: u64,
}

impl Pattern {
    fn window(&self, len: usize) -> &'static [u8] {
        let at = (self.offset % PERIOD as u64) as usize;
        &table()[at..at + len]
    }

    /// Fill `buf` with the next bytes of the pattern.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(PERIOD) {
            chunk.copy_from_slice(self.window(chunk.len()));
            self.offset += chunk.len() as u64;
        }
    }

    /// Check that `buf` holds the next bytes of the pattern.
    pub(crate) fn check(&mut self, buf: &[u8]) -> BenchResult<()> {
        for chunk in buf.chunks(PERIOD) {
            let expected = self.window(chunk.len());
            if chunk != expected {
                let first = chunk
                    .iter()
                    .zip(expected)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                return Err(BenchError::Changed {
                    offset: self.offset + first as u64,
                });
            }
            self.offset += chunk.len() as u64;
        }
        Ok(())
    }

    /// Bytes seen so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_then_check_and_detect_change() {
        let mut tx = Pattern::default();
        let mut rx = Pattern::default();
        let mut buf = vec![0u8; 200_000];
        tx.fill(&mut buf);
        rx.check(&buf[..1234]).unwrap();
        let mut rest = buf[1234..].to_vec();
        rest[10] ^= 1;
        let err = rx.check(&rest).unwrap_err();
        assert!(
            matches!(err, BenchError::Changed { offset: 1244 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("byte 1244"), "{err}");
    }

    #[test]
    fn a_source_writes_what_a_pattern_fills() {
        for size in [1, 1000, PERIOD - 1, PERIOD, PERIOD + 1, 3 * PERIOD + 7] {
            let mut source = PatternSource::new(size);
            let mut filled = Pattern::default();
            let mut rx = Pattern::default();
            let mut buf = vec![0u8; size];
            for _ in 0..5 {
                filled.fill(&mut buf);
                let write = source.next_write();
                assert_eq!(write, &buf[..], "size {size}");
                rx.check(write).unwrap();
            }
            assert_eq!(source.offset(), filled.offset());
        }
    }

    #[test]
    fn a_lost_record_is_caught() {
        let mut tx = Pattern::default();
        let mut buf = vec![0u8; 3 * 16384];
        tx.fill(&mut buf);
        let mut rx = Pattern::default();
        rx.check(&buf[..16384]).unwrap();
        assert!(rx.check(&buf[2 * 16384..]).is_err());
    }
}
