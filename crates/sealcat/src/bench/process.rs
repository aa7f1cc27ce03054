//! CPU time (of the process, or of the calling thread) and resident memory, read from /proc
//! (Linux).

use std::time::Duration;

/// User plus system CPU time of this process so far.
pub(crate) fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')' and state.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 100 per second on Linux.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time of the calling thread so far, in nanoseconds: the first field of its `schedstat`
/// (time spent on a CPU). Its `stat` counts in 10 ms ticks, rounded down, which a pinned side
/// that runs a few milliseconds per round would read as nothing.
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let on_cpu: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(on_cpu))
}

/// Resident set size in bytes.
pub(crate) fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threads_cpu_time_is_its_own_and_counts_in_the_process_total() {
        let (Some(process_before), Some(_)) = (cpu_time(), thread_cpu_time()) else {
            panic!("/proc/self/stat and /proc/thread-self/schedstat are readable on Linux");
        };
        // A thread that only sleeps while another spins: the spinning thread's clock moves,
        // the sleeping one's does not move with it.
        let sleeper = std::thread::spawn(|| {
            let before = thread_cpu_time().unwrap();
            std::thread::sleep(Duration::from_millis(300));
            thread_cpu_time().unwrap() - before
        });
        let before = thread_cpu_time().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut spun = Duration::ZERO;
        while spun < Duration::from_millis(200) && std::time::Instant::now() < deadline {
            spun = thread_cpu_time().unwrap() - before;
        }
        assert!(spun >= Duration::from_millis(200), "spun {spun:?} in 30 s");
        let slept = sleeper.join().unwrap();
        assert!(
            slept < spun,
            "the sleeping thread counted {slept:?}, the spinning {spun:?}"
        );
        // The process's clock counts whole 10 ms ticks: each of its two readings may be up to
        // one tick short.
        let process = cpu_time().unwrap() - process_before;
        assert!(
            process + Duration::from_millis(20) >= spun,
            "the process counted {process:?}, one of its threads {spun:?}"
        );
    }
}
