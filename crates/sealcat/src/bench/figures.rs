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
    pub(crate) lower_is_better: bool,
}

/// The table's rows, in the order they print.
pub(crate) const ROWS: &[Row] = &[
    Row {
        label: "one-way bulk",
        unit: "MB/s",
        get: |f| f.bulk_mbps,
        lower_is_better: false,
    },
    Row {
        label: "full duplex (sum)",
        unit: "MB/s",
        get: |f| f.duplex_mbps,
        lower_is_better: false,
    },
    Row {
        label: "CPU per byte (bulk)",
        unit: "ns",
        get: |f| f.cpu_ns_per_byte,
        lower_is_better: true,
    },
    Row {
        label: "ping-pong p50",
        unit: "µs",
        get: |f| f.ping_p50_us,
        lower_is_better: true,
    },
    Row {
        label: "ping-pong p99",
        unit: "µs",
        get: |f| f.ping_p99_us,
        lower_is_better: true,
    },
    Row {
        label: "full handshakes",
        unit: "/s",
        get: |f| f.handshakes_per_s,
        lower_is_better: false,
    },
    Row {
        label: "RSS per idle pair",
        unit: "KB",
        get: |f| f.idle_rss_per_pair / 1000.0,
        lower_is_better: true,
    },
    Row {
        label: "live heap per idle pair",
        unit: "KB",
        get: |f| f.idle_heap_per_pair / 1000.0,
        lower_is_better: true,
    },
    Row {
        label: "RSS per held pair",
        unit: "KB",
        get: |f| f.held_rss_per_pair / 1000.0,
        lower_is_better: true,
    },
    Row {
        label: "live heap per held pair",
        unit: "KB",
        get: |f| f.held_heap_per_pair / 1000.0,
        lower_is_better: true,
    },
    Row {
        label: "heap allocs per record",
        unit: "",
        get: |f| f.allocs_per_record,
        lower_is_better: true,
    },
    Row {
        label: "heap allocs per round trip",
        unit: "",
        get: |f| f.allocs_per_round_trip,
        lower_is_better: true,
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
