//! The options of `sealcat bench` (its clap arguments) and their checks: what a run measures,
//! on what, for how long, and how it prints. [`Options::validate`] checks them and settles the
//! defaults that depend on the sealer before a run starts, so a bad option costs one line.

use clap::Args;

use super::error::{BenchError, BenchResult};
use super::transport::Impl;

/// Which tests a run makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Every figure.
    All,
    /// One-way throughput, CPU per byte and allocations per record.
    Bulk,
    /// Both directions at once.
    Duplex,
    /// One-way and both directions at once (bulk and duplex), as a --workers/--connections
    /// sweep wants them.
    Throughput,
    /// 64-byte ping-pong latency.
    Echo,
    /// Resident memory and live heap per idle connection pair (--idle-connections pairs, the
    /// first tenth a warm-up).
    Idle,
    /// --connections connections echoing checksummed data for --duration (first of --compare).
    Soak,
}

/// Options of `sealcat bench`.
#[derive(Debug, Args)]
pub(crate) struct Options {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Mode::All)]
    pub(crate) mode: Mode,
    /// Connections at once in the bulk, duplex and soak tests. A comma-separated list (with
    /// --workers, every pair) runs the tests once for each and ends with a summary of the ratios.
    #[arg(long = "connections", value_delimiter = ',', default_value = "1")]
    connection_counts: Vec<usize>,
    /// This run's --connections (one of the list).
    #[arg(skip)]
    pub(crate) connections: usize,
    /// The sealer under test: tls (sealstream-tls); a DIGEST-MD5 layer: digest-md5-int,
    /// digest-md5-conf-rc4, digest-md5-conf-3des; or a Kerberos layer (SASL GSSAPI with
    /// aes256-cts-hmac-sha1-96, tickets made in process): krb5-aes256-int, krb5-aes256-conf;
    /// or an NTLM layer (SASL NTLM): ntlm-seal (RC4 and HMAC-MD5, what a directory gets), ntlm-sign
    /// (signatures only, data in clear).
    #[arg(long, default_value = "tls", value_parser = [
        "tls", "digest-md5-int", "digest-md5-conf-rc4", "digest-md5-conf-3des",
        "krb5-aes256-int", "krb5-aes256-conf", "ntlm-seal", "ntlm-sign"
    ])]
    pub(crate) sealer: String,
    /// Implementations to measure, ours first (default for TLS:
    /// sealstream-tls,tokio-rustls,plain,sealstream-tls-in-place, each read into a 64 KiB
    /// buffer but the last, which reads sealstream-tls in place with fill_buf and is measured
    /// for throughput only; for a SASL layer: the layer, read in place, and plain).
    /// "sealstream" names the --sealer.
    #[arg(long, value_delimiter = ',')]
    compare: Option<Vec<String>>,
    /// Seconds each throughput and latency test runs.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) duration: f64,
    /// Bytes per application write in the throughput tests (default: 16384, a full TLS record;
    /// with a SASL --sealer, a full 64 KiB frame's payload, the frames its primitives are
    /// timed on).
    #[arg(long)]
    size: Option<usize>,
    /// --size, or its default for the sealer.
    #[arg(skip)]
    pub(crate) write_size: usize,
    /// TLS cipher suite (rustls name).
    #[arg(long, default_value = "TLS13_AES_128_GCM_SHA256")]
    pub(crate) suite: String,
    /// Tokio worker threads. A comma-separated list (with --connections, every pair) runs the
    /// tests once for each and ends with a summary of the ratios.
    #[arg(long = "workers", value_delimiter = ',', default_value = "2")]
    worker_counts: Vec<usize>,
    /// This run's --workers (one of the list).
    #[arg(skip)]
    pub(crate) workers: usize,
    /// In the throughput tests, run every client end on one thread and every server end on
    /// another (a current-thread runtime each) instead of both on the --workers runtime: one
    /// core seals while the other unseals, whatever tokio would have scheduled. On by default
    /// for the SASL layers, whose figure is a share of one core's primitives (off:
    /// --pin-sides=false); off by default for TLS.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pin_sides: Option<bool>,
    /// --pin-sides, or its default for the sealer.
    #[arg(skip)]
    pub(crate) pinned: bool,
    /// Whether sealstream-tls's read and write halves take turns at the socket (on by
    /// default, as in the library): a half that finds the other inside a send or receive
    /// yields instead of waiting for the kernel's socket lock. --take-turns=false shows the
    /// transfer without it.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) take_turns: bool,
    /// Idle connection pairs opened to measure memory per connection; the first tenth warm the
    /// process up, and the figure is what each of the others added.
    #[arg(long, default_value_t = 500)]
    pub(crate) idle_connections: usize,
    /// Soak: serve the echo from a child `sealcat listen --tls --echo` process, so each process
    /// holds one socket per connection (10,000 connections fit a 20,000 open-file limit).
    #[arg(long)]
    pub(crate) server_process: bool,
    /// Idle mode, one implementation: measure held pairs instead of pairs with a read pending
    /// (each kind in a process of its own, so neither reuses memory the other freed).
    #[arg(long, hide = true)]
    pub(crate) idle_held: bool,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The largest application write `--size` accepts (each sender holds one such buffer).
const MAX_WRITE_SIZE: usize = 16 * 1024 * 1024;

impl Options {
    /// Check the options, settle the ones whose default depends on the sealer (`pinned`,
    /// `write_size`), and return the sealer under test and the implementations to measure,
    /// ours first.
    pub(crate) fn validate(&mut self) -> BenchResult<(Impl, Vec<Impl>)> {
        if self.duration <= 0.0 || !self.duration.is_finite() {
            return Err(usage("--duration must be a positive number of seconds"));
        }
        let ours = match self.sealer.as_str() {
            "tls" => Impl::Sealstream,
            name => Impl::parse(name)?,
        };
        // Both ends of a connection share this process. On the runtime, tokio at times runs a
        // sender and its receiver on one worker for a while (see `pinned`), which a layer judged
        // against one core's primitives must not be measured through.
        self.pinned = self.pin_sides.unwrap_or(matches!(ours, Impl::Sasl(_)));
        self.write_size = self.size.unwrap_or(match ours {
            Impl::Sasl(layer) => layer.frame_payload(),
            _ => sealstream_tls::MAX_PLAINTEXT,
        });
        if !(1..=MAX_WRITE_SIZE).contains(&self.write_size) {
            return Err(BenchError::Usage(format!(
                "--size must be between 1 and {MAX_WRITE_SIZE} bytes"
            )));
        }
        if self.worker_counts.is_empty() || self.worker_counts.contains(&0) {
            return Err(usage("--workers must be at least 1"));
        }
        if self.server_process && self.mode != Mode::Soak {
            return Err(usage("--server-process goes with --mode soak"));
        }
        if self.connection_counts.is_empty() || self.connection_counts.contains(&0) {
            return Err(usage("--connections must be at least 1"));
        }
        if self.mode == Mode::Soak && self.sweep().len() > 1 {
            return Err(usage(
                "a soak takes one --workers and one --connections, not a list",
            ));
        }
        (self.workers, self.connections) = self.sweep()[0];
        let impls = match &self.compare {
            Some(names) => names
                .iter()
                .map(|n| match n.as_str() {
                    "sealstream" => Ok(ours),
                    n => Impl::parse(n),
                })
                .collect::<BenchResult<Vec<_>>>()?,
            None if ours == Impl::Sealstream => vec![
                ours,
                Impl::TokioRustls,
                Impl::Plain,
                Impl::SealstreamInPlace,
            ],
            None => vec![ours, Impl::Plain],
        };
        if impls.is_empty() {
            return Err(usage("--compare needs at least one implementation"));
        }
        Ok((ours, impls))
    }

    /// Every (workers, connections) pair to run, workers first: the whole sweep, or the one
    /// pair of a plain run.
    pub(crate) fn sweep(&self) -> Vec<(usize, usize)> {
        self.worker_counts
            .iter()
            .flat_map(|&w| self.connection_counts.iter().map(move |&c| (w, c)))
            .collect()
    }

    /// Whether the run measures more than one implementation (the default lists two or three).
    pub(crate) fn measures_several(&self) -> bool {
        self.compare.as_ref().is_none_or(|names| names.len() > 1)
    }
}

/// A [`BenchError::Usage`] saying `message`.
fn usage(message: &str) -> BenchError {
    BenchError::Usage(message.to_owned())
}
