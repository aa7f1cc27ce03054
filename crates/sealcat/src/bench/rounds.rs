//! The measured tests that take turns: throughput (one-way bulk with CPU time and allocations,
//! full duplex), ping-pong latency and full handshakes, each run in [`INTERLEAVED_ROUNDS`]
//! rounds with the implementations alternating, and what a round yields ([`Run`], between two
//! [`Mark`]s) and adds up to ([`Tally`]). The data itself moves in `flows` (or `pinned`).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use stats_alloc::StatsAlloc;

use super::error::{BenchError, BenchResult, io_err};
use super::figures::Figures;
use super::flows::{duplex, one_way, pairs, ping_pong_on};
use super::options::{Mode, Options};
use super::transport::{Impl, Loopback, Tls};
use super::{pinned, primitives, process};

/// Rounds of the throughput, ping-pong and handshake tests (see [`Rounds`]).
const INTERLEAVED_ROUNDS: u32 = 5;

/// What one implementation's throughput rounds add up to, one-way and in duplex.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    bulk: FlowTally,
    duplex: FlowTally,
}

impl Tally {
    /// The figures of `which`, whose writes were `write_size` bytes each.
    pub(crate) fn fill(&self, which: Impl, write_size: usize, f: &mut Figures) {
        let bulk = &self.bulk;
        if !bulk.time.is_zero() {
            f.bulk_mbps = bulk.mbps();
            f.cpu_ns_per_byte = bulk.cpu_ns_per_byte();
            f.bulk_cores = bulk.cores();
            // Each write is sealed as records of at most the payload a record carries.
            let per_write = write_size.div_ceil(which.record_payload()) as f64;
            let records = (bulk.bytes as f64 / write_size as f64 * per_write).max(1.0);
            f.allocs_per_record = bulk.allocations as f64 / records;
            f.bulk_rounds.clone_from(&bulk.rounds);
            f.bulk_parks_per_mb = bulk.parks_per_mb();
            // One-way, the client ends send and the server ends receive.
            [f.bulk_sending_thread_busy, f.bulk_receiving_thread_busy] = bulk.busy();
        }
        let duplex = &self.duplex;
        if !duplex.time.is_zero() {
            f.duplex_mbps = duplex.mbps();
            f.duplex_cpu_ns_per_byte = duplex.cpu_ns_per_byte();
            f.duplex_cores = duplex.cores();
            f.duplex_rounds.clone_from(&duplex.rounds);
            f.duplex_parks_per_mb = duplex.parks_per_mb();
            [f.duplex_client_thread_busy, f.duplex_server_thread_busy] = duplex.busy();
        }
    }
}

/// What one implementation's rounds of one flow (one-way or duplex) add up to. A figure that a
/// round could not give (CPU time without /proc, parks with pinned sides, the sides' threads
/// without them) is None from then on.
#[derive(Debug)]
struct FlowTally {
    bytes: u64,
    time: Duration,
    /// Process CPU time.
    cpu: Option<Duration>,
    allocations: u64,
    /// Each round's MB/s, in round order.
    rounds: Vec<f64>,
    /// Times the runtime's workers parked.
    parks: Option<u64>,
    /// CPU time of the client side's thread and of the server side's (pinned sides).
    sides: Option<[Duration; 2]>,
}

impl Default for FlowTally {
    fn default() -> Self {
        Self {
            bytes: 0,
            time: Duration::ZERO,
            cpu: Some(Duration::ZERO),
            allocations: 0,
            rounds: Vec::new(),
            parks: Some(0),
            sides: Some([Duration::ZERO; 2]),
        }
    }
}

impl FlowTally {
    fn add(&mut self, run: &Run) {
        self.bytes += run.bytes;
        self.time += run.elapsed;
        self.cpu = self.cpu.zip(run.cpu).map(|(sum, c)| sum + c);
        self.allocations += run.allocations;
        self.rounds.push(mbps(run));
        self.parks = self.parks.zip(run.parks).map(|(sum, p)| sum + p);
        self.sides = self
            .sides
            .zip(run.sides)
            .map(|([client, server], [c, s])| [client + c, server + s]);
    }

    fn mbps(&self) -> f64 {
        self.bytes as f64 / self.time.as_secs_f64() / 1e6
    }

    /// Process CPU time per byte moved, in ns (NaN without CPU time).
    fn cpu_ns_per_byte(&self) -> f64 {
        self.cpu.map_or(f64::NAN, |c| {
            c.as_nanos() as f64 / (self.bytes as f64).max(1.0)
        })
    }

    /// CPU time over wall time: how many cores the process kept busy (NaN without CPU time).
    fn cores(&self) -> f64 {
        self.cpu
            .map_or(f64::NAN, |c| c.as_secs_f64() / self.time.as_secs_f64())
    }

    /// Worker parks per megabyte moved (NaN without a count).
    fn parks_per_mb(&self) -> f64 {
        self.parks
            .map_or(f64::NAN, |p| p as f64 / (self.bytes as f64 / 1e6).max(1e-6))
    }

    /// Each pinned side's thread's CPU time over wall time, (client, server): the share of the
    /// time it was busy (NaN without pinned sides).
    fn busy(&self) -> [f64; 2] {
        self.sides.map_or([f64::NAN; 2], |sides| {
            sides.map(|cpu| cpu.as_secs_f64() / self.time.as_secs_f64())
        })
    }
}

/// MB/s of one round.
fn mbps(run: &Run) -> f64 {
    run.bytes as f64 / run.elapsed.as_secs_f64().max(1e-9) / 1e6
}

/// The tests that run in [`INTERLEAVED_ROUNDS`] rounds, the implementations taking turns (ours,
/// tokio-rustls, plain, ours, ...), each round on new connections. Each implementation's
/// figure adds up all its rounds. This machine's speed drifts over seconds, and a round trip or
/// a transfer on two workers is fast or slow depending on which threads its tasks land on:
/// with one long run per implementation, that chance decided the ratios.
pub(crate) struct Rounds<'a> {
    pub(crate) impls: &'a [Impl],
    pub(crate) loopback: &'a Loopback,
    pub(crate) tls: &'a Tls,
    pub(crate) progress: &'a indicatif::ProgressBar,
}

impl Rounds<'_> {
    fn say(&self, which: Impl, test: &str, round: u32) {
        self.progress.set_message(format!(
            "{}: {test}, round {round} of {INTERLEAVED_ROUNDS}",
            which.name()
        ));
    }

    /// One-way bulk (with process CPU time and allocations over the same interval) and full
    /// duplex, as the mode asks, `duration` per implementation and test. A `meter` times the
    /// primitives for half a round's time before each round.
    pub(crate) async fn throughput(
        &self,
        options: &Options,
        duration: Duration,
        alloc: &'static StatsAlloc<std::alloc::System>,
        mut meter: Option<&mut primitives::PrimitiveMeter>,
    ) -> BenchResult<Vec<Tally>> {
        let per_round = duration / INTERLEAVED_ROUNDS;
        let bulk = matches!(options.mode, Mode::All | Mode::Bulk | Mode::Throughput);
        let both_ways = matches!(options.mode, Mode::All | Mode::Duplex | Mode::Throughput);
        let mut tallies: Vec<Tally> = self.impls.iter().map(|_| Tally::default()).collect();
        for round in 1..=INTERLEAVED_ROUNDS {
            if let Some(meter) = meter.as_deref_mut() {
                self.progress
                    .set_message(format!("primitives, round {round} of {INTERLEAVED_ROUNDS}"));
                // On this task's thread, with the runtime's workers idle: one core, as the
                // layer's two sides each have.
                tokio::task::block_in_place(|| meter.sample(per_round / 2));
            }
            for (&which, tally) in self.impls.iter().zip(&mut tallies) {
                if bulk {
                    self.say(which, "one-way bulk", round);
                    let run = self
                        .round(which, options, per_round, Flow::OneWay, alloc)
                        .await?;
                    tally.bulk.add(&run);
                }
                if both_ways {
                    self.say(which, "full duplex", round);
                    let run = self
                        .round(which, options, per_round, Flow::Duplex, alloc)
                        .await?;
                    tally.duplex.add(&run);
                }
            }
        }
        Ok(tallies)
    }

    /// One throughput round of `flow` on new connections, on the runtime or with the sides
    /// pinned to a thread each (`--pin-sides`, during which the runtime's own workers stay
    /// idle); CPU time and allocations count from the moment all are connected.
    async fn round(
        &self,
        which: Impl,
        options: &Options,
        duration: Duration,
        flow: Flow,
        alloc: &'static StatsAlloc<std::alloc::System>,
    ) -> BenchResult<Run> {
        if options.pinned {
            let job = pinned::Job {
                which,
                tls: self.tls,
                connections: options.connections,
                size: options.write_size,
                duration,
                flow,
            };
            let mut run = tokio::task::block_in_place(|| pinned::throughput(job, alloc))?;
            // Each side's current-thread runtime counts its own parks: one side's, not a
            // figure of the transfer.
            run.parks = None;
            return Ok(run);
        }
        let pairs = pairs(which, self.loopback, self.tls, options.connections).await?;
        let start = Mark::now(alloc);
        let (bytes, elapsed) = match flow {
            Flow::OneWay => one_way(pairs, options.write_size, duration).await?,
            Flow::Duplex => duplex(pairs, options.write_size, duration).await?,
        };
        Ok(Run::between(bytes, elapsed, &start, &Mark::now(alloc)))
    }

    /// 64-byte ping-pong latency, `duration` per implementation: each implementation's
    /// histogram holds all its rounds, beside the heap allocations per round trip over them
    /// (connecting excluded).
    pub(crate) async fn ping_pong(
        &self,
        duration: Duration,
        alloc: &'static StatsAlloc<std::alloc::System>,
    ) -> BenchResult<Vec<(Histogram<u64>, f64)>> {
        let mut hists = self
            .impls
            .iter()
            .map(|_| Histogram::<u64>::new(3).map_err(BenchError::measure))
            .collect::<BenchResult<Vec<_>>>()?;
        let mut allocations = vec![0u64; self.impls.len()];
        for round in 1..=INTERLEAVED_ROUNDS {
            for ((&which, hist), allocated) in
                self.impls.iter().zip(&mut hists).zip(&mut allocations)
            {
                self.say(which, "ping-pong", round);
                let (client, server) = self
                    .loopback
                    .pair(which, self.tls)
                    .await
                    .map_err(io_err("connecting"))?;
                let start = Mark::now(alloc);
                let part = ping_pong_on(client, server, duration / INTERLEAVED_ROUNDS).await?;
                *allocated += Mark::now(alloc)
                    .allocations
                    .saturating_sub(start.allocations) as u64;
                hist.add(&part).map_err(BenchError::measure)?;
            }
        }
        Ok(hists
            .into_iter()
            .zip(allocations)
            .map(|(hist, allocated)| {
                let per_trip = allocated as f64 / hist.len().max(1) as f64;
                (hist, per_trip)
            })
            .collect())
    }

    /// Full handshakes per second (TCP connect and accept included for all), `duration` per
    /// implementation.
    pub(crate) async fn handshakes(&self, duration: Duration) -> BenchResult<Vec<f64>> {
        let mut totals = vec![(0u64, Duration::ZERO); self.impls.len()];
        for round in 1..=INTERLEAVED_ROUNDS {
            for (&which, (count, spent)) in self.impls.iter().zip(&mut totals) {
                self.say(which, "handshakes", round);
                let start = Instant::now();
                // At least one handshake a round, however short the round.
                loop {
                    let pair = self
                        .loopback
                        .pair(which, self.tls)
                        .await
                        .map_err(io_err("handshake"))?;
                    drop(pair);
                    *count += 1;
                    if start.elapsed() >= duration / INTERLEAVED_ROUNDS {
                        break;
                    }
                }
                *spent += start.elapsed();
            }
        }
        Ok(totals
            .into_iter()
            .map(|(count, spent)| count as f64 / spent.as_secs_f64())
            .collect())
    }
}

/// Which ways data flows in a throughput round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Each client sends to its server.
    OneWay,
    /// Both ends send and receive at once.
    Duplex,
}

/// Process CPU time, heap allocations and the runtime's worker parks so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    /// None where /proc/self/stat cannot be read.
    cpu: Option<Duration>,
    allocations: usize,
    /// Parks of the runtime the mark is taken on; None off a runtime. A pinned round's
    /// runtimes are each side's own, so [`Rounds::round`] drops its count.
    parks: Option<u64>,
}

impl Mark {
    pub(crate) fn now(alloc: &'static StatsAlloc<std::alloc::System>) -> Self {
        Self {
            cpu: process::cpu_time(),
            allocations: alloc.stats().allocations,
            parks: worker_parks(),
        }
    }
}

/// How many times the current runtime's workers have parked: gone to sleep with nothing to
/// run, to be woken by the I/O driver or by another worker. On a transfer each park after the
/// first is a wake-up that another thread paid for. None off a runtime.
fn worker_parks() -> Option<u64> {
    let metrics = tokio::runtime::Handle::try_current().ok()?.metrics();
    Some(
        (0..metrics.num_workers())
            .map(|worker| metrics.worker_park_count(worker))
            .sum(),
    )
}

/// One throughput round: bytes received, time taken, and the process's CPU time, heap
/// allocations and worker parks over the transfer (connections and handshakes excluded).
#[derive(Debug)]
pub(crate) struct Run {
    bytes: u64,
    elapsed: Duration,
    cpu: Option<Duration>,
    allocations: u64,
    parks: Option<u64>,
    /// With pinned sides, the CPU time of the client side's thread and of the server side's
    /// over the transfer; None otherwise.
    sides: Option<[Duration; 2]>,
}

impl Run {
    pub(crate) fn between(bytes: u64, elapsed: Duration, start: &Mark, end: &Mark) -> Self {
        Self {
            bytes,
            elapsed,
            cpu: end.cpu.zip(start.cpu).map(|(e, s)| e.saturating_sub(s)),
            allocations: end.allocations.saturating_sub(start.allocations) as u64,
            parks: end.parks.zip(start.parks).map(|(e, s)| e.saturating_sub(s)),
            sides: None,
        }
    }

    /// The same run with the CPU time of each pinned side's thread, (client, server).
    pub(crate) fn with_sides(self, sides: Option<(Duration, Duration)>) -> Self {
        Self {
            sides: sides.map(|(client, server)| [client, server]),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(elapsed_ms: u64, sides_ms: Option<[u64; 2]>) -> Run {
        Run {
            bytes: 1_000_000,
            elapsed: Duration::from_millis(elapsed_ms),
            cpu: Some(Duration::from_millis(elapsed_ms)),
            allocations: 0,
            parks: sides_ms.is_none().then_some(10),
            sides: sides_ms.map(|sides| sides.map(Duration::from_millis)),
        }
    }

    #[test]
    fn pinned_sides_busy_is_each_threads_cpu_over_the_rounds_time() {
        let mut flow = FlowTally::default();
        flow.add(&round(1000, Some([700, 300])));
        flow.add(&round(1000, Some([900, 500])));
        assert_eq!(
            flow.busy(),
            [0.8, 0.4],
            "1.6 s and 0.8 s of CPU over 2 s of rounds"
        );
        assert!(flow.parks_per_mb().is_nan(), "pinned sides count no parks");
        assert_eq!(flow.rounds, [1.0, 1.0]);
    }

    #[test]
    fn a_round_without_a_figure_leaves_the_flow_without_it() {
        let mut flow = FlowTally::default();
        flow.add(&round(1000, None));
        assert!(flow.busy().iter().all(|b| b.is_nan()));
        assert_eq!(flow.parks_per_mb(), 10.0, "10 parks over 1 MB");
        // A later pinned round does not bring a partial sum back.
        flow.add(&round(1000, Some([1000, 1000])));
        assert!(flow.busy().iter().all(|b| b.is_nan()));
        assert!(flow.parks_per_mb().is_nan());
        assert_eq!(flow.cores(), 1.0);
    }
}
