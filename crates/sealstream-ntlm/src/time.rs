//! Windows FILETIME: 100-nanosecond intervals since 1601-01-01 UTC, as `MsvAvTimestamp` and
//! the NTLMv2 response carry the time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// FILETIME of the Unix epoch: the seconds from 1601 to 1970, in 100 ns units.
const UNIX_EPOCH_FILETIME: u64 = 11_644_473_600 * 10_000_000;

/// `time` as a FILETIME (times before 1970 clamp to the epoch).
pub(crate) fn filetime(time: SystemTime) -> u64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let ticks = since.as_secs() * 10_000_000 + u64::from(since.subsec_nanos() / 100);
    UNIX_EPOCH_FILETIME.saturating_add(ticks)
}

/// How far apart two FILETIMEs are.
pub(crate) fn distance(a: u64, b: u64) -> Duration {
    let ticks = a.abs_diff(b);
    Duration::new(ticks / 10_000_000, (ticks % 10_000_000) as u32 * 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_of_a_known_date() {
        // 2003-06-17 10:00 UTC, as worked through in Eric Glass's NTLM write-up.
        let t = UNIX_EPOCH + Duration::from_secs(1_055_844_000);
        assert_eq!(
            filetime(t).to_le_bytes(),
            [0x00, 0x90, 0xd3, 0x36, 0xb7, 0x34, 0xc3, 0x01]
        );
        assert_eq!(
            distance(filetime(t), filetime(t + Duration::from_millis(1500))),
            Duration::from_millis(1500)
        );
    }
}
