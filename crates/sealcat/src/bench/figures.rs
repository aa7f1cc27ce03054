//! What a run finds: each implementation's [`Figures`], the table's rows ([`ROWS`]: label,
//! unit, which way is better), and the two columns every ratio is taken between ([`ours`] and
//! [`reference()`]). Filled by `run` from the rounds, read by `output`.

use super::transport::Impl;

/// One implementation's figures; NaN where the mode skipped the test.
#[derive(Debug, Clone)]
pub(crate) struct Figures {
    pub(crate) bulk_mbps: f64,
    pub(crate) duplex_mbps: f64,
    pub(crate) cpu_ns_per_byte: f64,
    pub(crate) duplex_cpu_ns_per_byte: f64,
    /// Process CPU time over wall time in the one-way rounds: cores kept busy.
    pub(crate) bulk_cores: f64,
    /// The same in the duplex rounds.
    pub(crate) duplex_cores: f64,
    /// Each one-way round's MB/s, in round order (the rounds alternate between implementations,
    /// so the same index is the same stretch of time).
    pub(crate) bulk_rounds: Vec<f64>,
    /// Each duplex round's MB/s, in round order.
    pub(crate) duplex_rounds: Vec<f64>,
    /// The runtime's worker parks per MB moved one-way (NaN with pinned sides).
    pub(crate) bulk_parks_per_mb: f64,
    /// The same in duplex.
    pub(crate) duplex_parks_per_mb: f64,
    /// With pinned sides, the share of the one-way rounds the sending side's thread was busy
    /// (NaN otherwise).
    pub(crate) bulk_sending_thread_busy: f64,
    /// The same for the receiving side's thread.
    pub(crate) bulk_receiving_thread_busy: f64,
    /// With pinned sides, the share of the duplex rounds the client side's thread was busy.
    pub(crate) duplex_client_thread_busy: f64,
    /// The same for the server side's thread.
    pub(crate) duplex_server_thread_busy: f64,
    pub(crate) ping_p50_us: f64,
    pub(crate) ping_p99_us: f64,
    pub(crate) handshakes_per_s: f64,
    pub(crate) idle_rss_per_pair: f64,
    pub(crate) idle_heap_per_pair: f64,
    pub(crate) held_rss_per_pair: f64,
    pub(crate) held_heap_per_pair: f64,
    pub(crate) allocs_per_record: f64,
    /// Heap allocations per 64-byte ping-pong round trip (both ends, two records).
    pub(crate) allocs_per_round_trip: f64,
}

impl Default for Figures {
    fn default() -> Self {
        Self {
            bulk_mbps: f64::NAN,
            duplex_mbps: f64::NAN,
            cpu_ns_per_byte: f64::NAN,
            duplex_cpu_ns_per_byte: f64::NAN,
            bulk_cores: f64::NAN,
            duplex_cores: f64::NAN,
            bulk_rounds: Vec::new(),
            duplex_rounds: Vec::new(),
            bulk_parks_per_mb: f64::NAN,
            duplex_parks_per_mb: f64::NAN,
            bulk_sending_thread_busy: f64::NAN,
            bulk_receiving_thread_busy: f64::NAN,
            duplex_client_thread_busy: f64::NAN,
            duplex_server_thread_busy: f64::NAN,
            ping_p50_us: f64::NAN,
            ping_p99_us: f64::NAN,
            handshakes_per_s: f64::NAN,
            idle_rss_per_pair: f64::NAN,
            idle_heap_per_pair: f64::NAN,
            held_rss_per_pair: f64::NAN,
            held_heap_per_pair: f64::NAN,
            allocs_per_record: f64::NAN,
            allocs_per_round_trip: f64::NAN,
        }
    }
}

/// A row of the table: one figure of every implementation, and their ratio.
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) get: fn(&Figures) -> f64,
    pub(crate) better: Better,
}

/// Which way a row's figure is better, and so whether it gets a ratio at all.
#[derive(Clone, Copy)]
pub(crate) enum Better {
    Lower,
    Higher,
    /// No ratio: the cores a test kept busy, how often the workers parked and how busy each
    /// pinned side's thread was only say what bound the figures above them: CPU, wake-ups, or
    /// one side.
    Neither,
}

/// The table's rows, in the order they print.
pub(crate) const ROWS: &[Row] = &[
    Row {
        label: "one-way bulk",
        unit: "MB/s",
        get: |f| f.bulk_mbps,
        better: Better::Higher,
    },
    Row {
        label: "full duplex (sum)",
        unit: "MB/s",
        get: |f| f.duplex_mbps,
        better: Better::Higher,
    },
    Row {
        label: "CPU per byte (bulk)",
        unit: "ns",
        get: |f| f.cpu_ns_per_byte,
        better: Better::Lower,
    },
    Row {
        label: "CPU per byte (duplex)",
        unit: "ns",
        get: |f| f.duplex_cpu_ns_per_byte,
        better: Better::Lower,
    },
    Row {
        label: "cores busy (bulk)",
        unit: "",
        get: |f| f.bulk_cores,
        better: Better::Neither,
    },
    Row {
        label: "cores busy (duplex)",
        unit: "",
        get: |f| f.duplex_cores,
        better: Better::Neither,
    },
    Row {
        label: "worker parks per MB (bulk)",
        unit: "",
        get: |f| f.bulk_parks_per_mb,
        better: Better::Neither,
    },
    Row {
        label: "worker parks per MB (duplex)",
        unit: "",
        get: |f| f.duplex_parks_per_mb,
        better: Better::Neither,
    },
    Row {
        label: "sending thread busy (bulk)",
        unit: "",
        get: |f| f.bulk_sending_thread_busy,
        better: Better::Neither,
    },
    Row {
        label: "receiving thread busy (bulk)",
        unit: "",
        get: |f| f.bulk_receiving_thread_busy,
        better: Better::Neither,
    },
    Row {
        label: "client thread busy (duplex)",
        unit: "",
        get: |f| f.duplex_client_thread_busy,
        better: Better::Neither,
    },
    Row {
        label: "server thread busy (duplex)",
        unit: "",
        get: |f| f.duplex_server_thread_busy,
        better: Better::Neither,
    },
    Row {
        label: "ping-pong p50",
        unit: "µs",
        get: |f| f.ping_p50_us,
        better: Better::Lower,
    },
    Row {
        label: "ping-pong p99",
        unit: "µs",
        get: |f| f.ping_p99_us,
        better: Better::Lower,
    },
    Row {
        label: "full handshakes",
        unit: "/s",
        get: |f| f.handshakes_per_s,
        better: Better::Higher,
    },
    Row {
        label: "RSS per idle pair",
        unit: "KB",
        get: |f| f.idle_rss_per_pair / 1000.0,
        better: Better::Lower,
    },
    Row {
        label: "live heap per idle pair",
        unit: "KB",
        get: |f| f.idle_heap_per_pair / 1000.0,
        better: Better::Lower,
    },
    Row {
        label: "RSS per held pair",
        unit: "KB",
        get: |f| f.held_rss_per_pair / 1000.0,
        better: Better::Lower,
    },
    Row {
        label: "live heap per held pair",
        unit: "KB",
        get: |f| f.held_heap_per_pair / 1000.0,
        better: Better::Lower,
    },
    Row {
        label: "heap allocs per record",
        unit: "",
        get: |f| f.allocs_per_record,
        better: Better::Lower,
    },
    Row {
        label: "heap allocs per round trip",
        unit: "",
        get: |f| f.allocs_per_round_trip,
        better: Better::Lower,
    },
];

/// The figures ratios are taken against: tokio-rustls when measured, else plain TCP.
pub(crate) fn reference(results: &[(Impl, Figures)]) -> Option<&(Impl, Figures)> {
    let find = |which: Impl| results.iter().find(|(i, _)| *i == which);
    find(Impl::TokioRustls).or_else(|| find(Impl::Plain))
}

/// Our figures: the first sealstream implementation measured.
pub(crate) fn ours(results: &[(Impl, Figures)]) -> Option<&(Impl, Figures)> {
    results.iter().find(|(i, _)| i.is_sealstream())
}

/// The ratios of ours to the reference round by round (round *i* of each, taken one after the
/// other): what the machine's drift over seconds does not move, where the ratio of the sums
/// weighs a fast stretch more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RoundRatios {
    pub(crate) median: f64,
    pub(crate) lowest: f64,
    pub(crate) highest: f64,
}

impl RoundRatios {
    /// One-way and duplex, `ours` against `theirs` (each None where the test did not run).
    pub(crate) fn both(ours: &Figures, theirs: &Figures) -> [Option<Self>; 2] {
        [
            Self::of(&ours.bulk_rounds, &theirs.bulk_rounds),
            Self::of(&ours.duplex_rounds, &theirs.duplex_rounds),
        ]
    }

    /// None unless both have the same number of rounds, at least one.
    pub(crate) fn of(ours: &[f64], theirs: &[f64]) -> Option<Self> {
        if ours.is_empty() || ours.len() != theirs.len() {
            return None;
        }
        let mut ratios: Vec<f64> = ours.iter().zip(theirs).map(|(o, t)| o / t).collect();
        ratios.sort_by(f64::total_cmp);
        let mid = ratios.len() / 2;
        let median = if ratios.len() % 2 == 1 {
            ratios[mid]
        } else {
            (ratios[mid - 1] + ratios[mid]) / 2.0
        };
        Some(Self {
            median,
            lowest: ratios[0],
            highest: ratios[ratios.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RoundRatios;

    #[test]
    fn round_ratios_pair_rounds_by_index() {
        // The sums give 0.99×; round by round ours is ahead in three of five.
        let ours = [110.0, 220.0, 55.0, 330.0, 100.0];
        let theirs = [100.0, 200.0, 100.0, 300.0, 125.0];
        let r = RoundRatios::of(&ours, &theirs).unwrap();
        assert_eq!(r.median, 1.1);
        assert_eq!(r.lowest, 0.55);
        assert_eq!(r.highest, 1.1);
    }

    #[test]
    fn round_ratios_of_an_even_count_average_the_middle_two() {
        let r = RoundRatios::of(&[1.0, 3.0, 2.0, 4.0], &[1.0; 4]).unwrap();
        assert_eq!((r.median, r.lowest, r.highest), (2.5, 1.0, 4.0));
    }

    #[test]
    fn round_ratios_need_matching_rounds() {
        assert_eq!(RoundRatios::of(&[], &[]), None);
        assert_eq!(RoundRatios::of(&[1.0, 2.0], &[1.0]), None);
    }
}
