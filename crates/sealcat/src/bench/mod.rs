//! `sealcat bench`: a loopback load test that measures sealstream-tls, tokio-rustls and plain
//! TCP in the same run, and prints each figure with its ratio to tokio-rustls. Throughput and
//! latency are measured in this process; idle memory in a child process per implementation, so
//! that no implementation inherits the heap another one freed.
//! `--sealer digest-md5-*` or `--sealer krb5-aes256-*` measures a SASL layer (DIGEST-MD5, or
//! Kerberos V5 through SASL GSSAPI) instead, beside plain TCP and the raw rate of its primitives.
//!
//! Every byte moved is checked against the pattern its sender wrote; a mismatch ends the run
//! with an error. Each implementation is read the way its users would read it in bulk:
//! sealstream's plaintext where it was unsealed (`AsyncBufRead`), tokio-rustls and plain TCP
//! into a 64 KiB buffer. Figures: one-way bulk and full-duplex throughput, process CPU per byte,
//! 64-byte ping-pong latency, full handshakes (or SASL exchanges) per second, resident memory per
//! idle connection pair, and heap allocations per record.

mod check;
mod pinned;
mod primitives;
mod process;
mod sasl;
mod soak;
mod transport;

use std::time::{Duration, Instant};

use clap::Args;
use hdrhistogram::Histogram;
use stats_alloc::{Region, StatsAlloc};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use check::{Pattern, PatternSource};
use transport::{End, Impl, Loopback, Reader, Tls, Writer};

/// Which tests a run makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Every figure.
    All,
    /// One-way throughput, CPU per byte and allocations per record.
    Bulk,
    /// Both directions at once.
    Duplex,
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
    mode: Mode,
    /// Connections at once in the bulk, duplex and soak tests.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// The sealer under test: tls (sealstream-tls); a DIGEST-MD5 layer: digest-md5-int,
    /// digest-md5-conf-rc4, digest-md5-conf-3des; or a Kerberos layer (SASL GSSAPI with
    /// aes256-cts-hmac-sha1-96, tickets made in process): krb5-aes256-int, krb5-aes256-conf;
    /// or an NTLM layer (SASL NTLM): ntlm-seal (RC4 and HMAC-MD5, what a directory gets), ntlm-sign
    /// (signatures only, data in clear).
    #[arg(long, default_value = "tls", value_parser = [
        "tls", "digest-md5-int", "digest-md5-conf-rc4", "digest-md5-conf-3des",
        "krb5-aes256-int", "krb5-aes256-conf", "ntlm-seal", "ntlm-sign"
    ])]
    sealer: String,
    /// Implementations to measure, ours first (default for TLS:
    /// sealstream-tls,tokio-rustls,plain,sealstream-tls-in-place, each read into a 64 KiB
    /// buffer but the last, which reads sealstream-tls in place with fill_buf and is measured
    /// for throughput only; for a SASL layer: the layer, read in place, and plain).
    /// "sealstream" names the --sealer.
    #[arg(long, value_delimiter = ',')]
    compare: Option<Vec<String>>,
    /// Seconds each throughput and latency test runs.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Bytes per application write in the throughput tests (default: 16384, a full TLS record;
    /// with a SASL --sealer, a full 64 KiB frame's payload, the frames its primitives are
    /// timed on).
    #[arg(long)]
    size: Option<usize>,
    /// --size, or its default for the sealer.
    #[arg(skip)]
    write_size: usize,
    /// TLS cipher suite (rustls name).
    #[arg(long, default_value = "TLS13_AES_128_GCM_SHA256")]
    suite: String,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// In the throughput tests, run every client end on one thread and every server end on
    /// another (a current-thread runtime each) instead of both on the --workers runtime: one
    /// core seals while the other unseals, whatever tokio would have scheduled. On by default
    /// for the SASL layers, whose figure is a share of one core's primitives (off:
    /// --pin-sides=false); off by default for TLS.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pin_sides: Option<bool>,
    /// --pin-sides, or its default for the sealer.
    #[arg(skip)]
    pinned: bool,
    /// Idle connection pairs opened to measure memory per connection; the first tenth warm the
    /// process up, and the figure is what each of the others added.
    #[arg(long, default_value_t = 500)]
    idle_connections: usize,
    /// Soak: serve the echo from a child `sealcat listen --tls --echo` process, so each process
    /// holds one socket per connection (10,000 connections fit a 20,000 open-file limit).
    #[arg(long)]
    server_process: bool,
    /// Idle mode, one implementation: measure held pairs instead of pairs with a read pending
    /// (each kind in a process of its own, so neither reuses memory the other freed).
    #[arg(long, hide = true)]
    idle_held: bool,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

impl Options {
    /// Whether the run measures more than one implementation (the default lists two or three).
    fn measures_several(&self) -> bool {
        self.compare.as_ref().is_none_or(|names| names.len() > 1)
    }
}

/// One implementation's figures; NaN where the mode skipped the test.
#[derive(Debug, Clone)]
struct Figures {
    bulk_mbps: f64,
    duplex_mbps: f64,
    cpu_ns_per_byte: f64,
    ping_p50_us: f64,
    ping_p99_us: f64,
    handshakes_per_s: f64,
    idle_rss_per_pair: f64,
    idle_heap_per_pair: f64,
    held_rss_per_pair: f64,
    held_heap_per_pair: f64,
    allocs_per_record: f64,
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
        }
    }
}

type BenchResult<T> = Result<T, String>;

/// The largest application write `--size` accepts (each sender holds one such buffer).
const MAX_WRITE_SIZE: usize = 16 * 1024 * 1024;

fn io_err(context: &'static str) -> impl Fn(std::io::Error) -> String {
    move |e| format!("{context}: {e}")
}

/// Run the benchmark.
pub(crate) fn run(
    mut options: Options,
    alloc: &'static StatsAlloc<std::alloc::System>,
) -> BenchResult<()> {
    if options.duration <= 0.0 || !options.duration.is_finite() {
        return Err("--duration must be a positive number of seconds".into());
    }
    let ours = match options.sealer.as_str() {
        "tls" => Impl::Sealstream,
        name => Impl::parse(name)?,
    };
    // Both ends of a connection share this process. On the runtime, tokio at times runs a
    // sender and its receiver on one worker for a while (see `pinned`), which a layer judged
    // against one core's primitives must not be measured through.
    options.pinned = options.pin_sides.unwrap_or(matches!(ours, Impl::Sasl(_)));
    options.write_size = options.size.unwrap_or(match ours {
        Impl::Sasl(layer) => layer.frame_payload(),
        _ => sealstream_tls::MAX_PLAINTEXT,
    });
    if !(1..=MAX_WRITE_SIZE).contains(&options.write_size) {
        return Err(format!(
            "--size must be between 1 and {MAX_WRITE_SIZE} bytes"
        ));
    }
    if options.workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    if options.server_process && options.mode != Mode::Soak {
        return Err("--server-process goes with --mode soak".into());
    }
    if options.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    let impls = match &options.compare {
        Some(names) => names
            .iter()
            .map(|n| match n.as_str() {
                "sealstream" => Ok(ours),
                n => Impl::parse(n),
            })
            .collect::<Result<Vec<_>, _>>()?,
        None if ours == Impl::Sealstream => vec![
            ours,
            Impl::TokioRustls,
            Impl::Plain,
            Impl::SealstreamInPlace,
        ],
        None => vec![ours, Impl::Plain],
    };
    if impls.is_empty() {
        return Err("--compare needs at least one implementation".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers)
        .enable_all()
        .build()
        .map_err(io_err("starting the runtime"))?;
    let tls = Tls::new(&options.suite)?;
    let duration = Duration::from_secs_f64(options.duration);
    let progress = indicatif::ProgressBar::new_spinner();
    progress.enable_steady_tick(Duration::from_millis(120));
    if options.mode == Mode::Soak {
        let which = impls[0];
        let report = runtime.block_on(async {
            let loopback = Loopback::new()
                .await
                .map_err(io_err("listening on 127.0.0.1"))?;
            let chunk = options.write_size.min(64 * 1024);
            let server = if options.server_process {
                soak::Server::Process
            } else {
                soak::Server::InProcess(&loopback, &tls)
            };
            soak::soak(
                which,
                server,
                options.connections,
                chunk,
                duration,
                &progress,
            )
            .await
        })?;
        progress.finish_and_clear();
        print_soak(&options, which, &report);
        if report.errors > 0 || report.lost > 0 {
            return Err(format!(
                "soak: {} failed connections, {} bytes lost; first error: {}",
                report.errors,
                report.lost,
                report.first_error.as_deref().unwrap_or("none")
            ));
        }
        return Ok(());
    }
    // A SASL layer is judged against its primitives, timed in slices between the rounds.
    let mut meter = match ours {
        Impl::Sasl(layer) if matches!(options.mode, Mode::All | Mode::Bulk | Mode::Duplex) => {
            Some(primitives::PrimitiveMeter::new(layer))
        }
        _ => None,
    };
    let mut results: Vec<(Impl, Figures)> =
        impls.iter().map(|&w| (w, Figures::default())).collect();
    runtime.block_on(async {
        let loopback = Loopback::new()
            .await
            .map_err(io_err("listening on 127.0.0.1"))?;
        let rounds = Rounds {
            impls: &impls,
            loopback: &loopback,
            tls: &tls,
            progress: &progress,
        };
        // A variant that differs only in how it is read is measured for throughput only.
        let whole: Vec<Impl> = impls
            .iter()
            .copied()
            .filter(|w| !w.is_read_variant())
            .collect();
        let others = Rounds {
            impls: &whole,
            ..rounds
        };
        if matches!(options.mode, Mode::All | Mode::Bulk | Mode::Duplex) {
            let tallies = rounds
                .throughput(&options, duration, alloc, meter.as_mut())
                .await?;
            for ((which, f), tally) in results.iter_mut().zip(tallies) {
                tally.fill(*which, options.write_size, f);
            }
        }
        if matches!(options.mode, Mode::All | Mode::Echo) {
            let latencies = others.ping_pong(duration).await?;
            let measured = results.iter_mut().filter(|(w, _)| !w.is_read_variant());
            for ((_, f), hist) in measured.zip(latencies) {
                f.ping_p50_us = hist.value_at_quantile(0.50) as f64 / 1000.0;
                f.ping_p99_us = hist.value_at_quantile(0.99) as f64 / 1000.0;
            }
        }
        if options.mode == Mode::All {
            let rates = others.handshakes(duration / 2).await?;
            let measured = results.iter_mut().filter(|(w, _)| !w.is_read_variant());
            for ((_, f), rate) in measured.zip(rates) {
                f.handshakes_per_s = rate;
            }
        }
        if matches!(options.mode, Mode::All | Mode::Idle) {
            for (which, f) in results.iter_mut().filter(|(w, _)| !w.is_read_variant()) {
                progress.set_message(format!("{}: idle memory", which.name()));
                if options.measures_several() {
                    (f.idle_rss_per_pair, f.idle_heap_per_pair) =
                        idle_memory_in_child(*which, &options, Idle::ReadPending).await?;
                    (f.held_rss_per_pair, f.held_heap_per_pair) =
                        idle_memory_in_child(*which, &options, Idle::Held).await?;
                } else if options.idle_held {
                    let count = options.idle_connections;
                    (f.held_rss_per_pair, f.held_heap_per_pair) =
                        idle_memory(*which, &loopback, &tls, count, Idle::Held, alloc).await?;
                } else {
                    let count = options.idle_connections;
                    (f.idle_rss_per_pair, f.idle_heap_per_pair) =
                        idle_memory(*which, &loopback, &tls, count, Idle::ReadPending, alloc)
                            .await?;
                }
            }
        }
        Ok::<_, String>(())
    })?;
    progress.finish_and_clear();
    let primitives = match (ours, &meter) {
        (Impl::Sasl(layer), Some(meter)) => Some((layer, meter.rates())),
        _ => None,
    };
    if options.json {
        print_json(&options, &tls, &results, primitives);
    } else {
        print_table(&options, &tls, &results);
        if let Some((layer, rates)) = primitives {
            print_primitives(layer, &rates, &results);
        }
    }
    Ok(())
}

/// `count` connected pairs of `which`.
async fn pairs(
    which: Impl,
    loopback: &Loopback,
    tls: &Tls,
    count: usize,
) -> BenchResult<Vec<(End, End)>> {
    let mut pairs = Vec::with_capacity(count);
    for _ in 0..count {
        pairs.push(
            loopback
                .pair(which, tls)
                .await
                .map_err(io_err("connecting"))?,
        );
    }
    Ok(pairs)
}

/// Rounds of the throughput, ping-pong and handshake tests (see [`Rounds`]).
const INTERLEAVED_ROUNDS: u32 = 5;

/// What one implementation's throughput rounds add up to.
#[derive(Debug, Default)]
struct Tally {
    bulk_bytes: u64,
    bulk_time: Duration,
    /// Process CPU time over the bulk rounds; None where /proc/self/stat cannot be read.
    bulk_cpu: Option<Duration>,
    bulk_allocs: u64,
    duplex_bytes: u64,
    duplex_time: Duration,
}

impl Tally {
    /// The figures of `which`, whose writes were `write_size` bytes each.
    fn fill(&self, which: Impl, write_size: usize, f: &mut Figures) {
        if !self.bulk_time.is_zero() {
            let bytes = self.bulk_bytes as f64;
            f.bulk_mbps = bytes / self.bulk_time.as_secs_f64() / 1e6;
            f.cpu_ns_per_byte = self
                .bulk_cpu
                .map_or(f64::NAN, |c| c.as_nanos() as f64 / bytes);
            // Each write is sealed as records of at most the payload a record carries.
            let per_write = write_size.div_ceil(which.record_payload()) as f64;
            let records = (bytes / write_size as f64 * per_write).max(1.0);
            f.allocs_per_record = self.bulk_allocs as f64 / records;
        }
        if !self.duplex_time.is_zero() {
            f.duplex_mbps = self.duplex_bytes as f64 / self.duplex_time.as_secs_f64() / 1e6;
        }
    }
}

/// The tests that run in [`INTERLEAVED_ROUNDS`] rounds, the implementations taking turns (ours,
/// tokio-rustls, plain, ours, ...), each round on new connections. Each implementation's
/// figure adds up all its rounds. This machine's speed drifts over seconds, and a round trip or
/// a transfer on two workers is fast or slow depending on which threads its tasks land on:
/// with one long run per implementation, that chance decided the ratios.
struct Rounds<'a> {
    impls: &'a [Impl],
    loopback: &'a Loopback,
    tls: &'a Tls,
    progress: &'a indicatif::ProgressBar,
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
    async fn throughput(
        &self,
        options: &Options,
        duration: Duration,
        alloc: &'static StatsAlloc<std::alloc::System>,
        mut meter: Option<&mut primitives::PrimitiveMeter>,
    ) -> BenchResult<Vec<Tally>> {
        let per_round = duration / INTERLEAVED_ROUNDS;
        let bulk = matches!(options.mode, Mode::All | Mode::Bulk);
        let both_ways = matches!(options.mode, Mode::All | Mode::Duplex);
        let mut tallies: Vec<Tally> = self
            .impls
            .iter()
            .map(|_| Tally {
                bulk_cpu: Some(Duration::ZERO),
                ..Tally::default()
            })
            .collect();
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
                    tally.bulk_allocs += run.allocations;
                    tally.bulk_cpu = tally.bulk_cpu.zip(run.cpu).map(|(sum, c)| sum + c);
                    tally.bulk_bytes += run.bytes;
                    tally.bulk_time += run.elapsed;
                }
                if both_ways {
                    self.say(which, "full duplex", round);
                    let run = self
                        .round(which, options, per_round, Flow::Duplex, alloc)
                        .await?;
                    tally.duplex_bytes += run.bytes;
                    tally.duplex_time += run.elapsed;
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
            return tokio::task::block_in_place(|| pinned::throughput(job, alloc));
        }
        let pairs = pairs(which, self.loopback, self.tls, options.connections).await?;
        let start = Mark::now(alloc);
        let (bytes, elapsed) = match flow {
            Flow::OneWay => one_way(pairs, options.write_size, duration).await?,
            Flow::Duplex => duplex(pairs, options.write_size, duration).await?,
        };
        Ok(Run::between(bytes, elapsed, &start, &Mark::now(alloc)))
    }
}

/// Which ways data flows in a throughput round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Each client sends to its server.
    OneWay,
    /// Both ends send and receive at once.
    Duplex,
}

/// Process CPU time and heap allocations so far.
#[derive(Debug, Clone, Copy)]
struct Mark {
    /// None where /proc/self/stat cannot be read.
    cpu: Option<Duration>,
    allocations: usize,
}

impl Mark {
    fn now(alloc: &'static StatsAlloc<std::alloc::System>) -> Self {
        Self {
            cpu: process::cpu_time(),
            allocations: alloc.stats().allocations,
        }
    }
}

/// One throughput round: bytes received, time taken, and the process's CPU time and heap
/// allocations over the transfer (connections and handshakes excluded).
#[derive(Debug)]
struct Run {
    bytes: u64,
    elapsed: Duration,
    cpu: Option<Duration>,
    allocations: u64,
}

impl Run {
    fn between(bytes: u64, elapsed: Duration, start: &Mark, end: &Mark) -> Self {
        Self {
            bytes,
            elapsed,
            cpu: end.cpu.zip(start.cpu).map(|(e, s)| e.saturating_sub(s)),
            allocations: end.allocations.saturating_sub(start.allocations) as u64,
        }
    }
}

/// Write `size`-byte chunks from `writer` until `duration` has passed, then close.
async fn send_for(mut writer: Writer, size: usize, duration: Duration) -> BenchResult<u64> {
    let mut source = PatternSource::new(size);
    let start = Instant::now();
    while start.elapsed() < duration {
        writer
            .write_all(source.next_write())
            .await
            .map_err(io_err("writing"))?;
    }
    writer.shutdown().await.map_err(io_err("closing"))?;
    Ok(source.offset())
}

/// Read to the end, checking every byte: in place where the implementation lends its
/// plaintext, else into a buffer.
async fn receive_all(reader: Reader) -> BenchResult<u64> {
    let mut pattern = Pattern::default();
    match reader {
        Reader::InPlace(mut reader) => loop {
            let lent = reader.fill_buf().await.map_err(io_err("reading"))?;
            if lent.is_empty() {
                return Ok(pattern.offset());
            }
            let n = lent.len();
            pattern.check(lent)?;
            reader.consume(n);
        },
        Reader::Copying(mut reader) => {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = reader.read(&mut buf).await.map_err(io_err("reading"))?;
                if n == 0 {
                    return Ok(pattern.offset());
                }
                pattern.check(&buf[..n])?;
            }
        }
    }
}

/// Spawn a task named `name` (the name shows in tokio-console, `--console`).
fn spawn<F>(name: &str, future: F) -> BenchResult<tokio::task::JoinHandle<F::Output>>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    crate::tasks::spawn_named(name, future).map_err(|e| format!("cannot start task {name}: {e}"))
}

fn joined<T>(r: Result<BenchResult<T>, tokio::task::JoinError>) -> BenchResult<T> {
    r.map_err(|e| format!("benchmark task failed: {e}"))?
}

/// Each pair's client sends to its server until `duration` has passed; all pairs at once.
async fn one_way(
    pairs: Vec<(End, End)>,
    size: usize,
    duration: Duration,
) -> BenchResult<(u64, Duration)> {
    let start = Instant::now();
    let mut flows = Vec::new();
    let mut idle = Vec::new();
    for (i, (client, server)) in pairs.into_iter().enumerate() {
        flows.push((
            spawn(
                &format!("bulk sender {i}"),
                send_for(client.writer, size, duration),
            )?,
            spawn(&format!("bulk receiver {i}"), receive_all(server.reader))?,
        ));
        idle.push((client.reader, server.writer));
    }
    let mut total = 0;
    for (sender, receiver) in flows {
        let sent = joined(sender.await)?;
        let received = joined(receiver.await)?;
        if sent != received {
            return Err(format!("sent {sent} bytes but {received} arrived"));
        }
        total += received;
    }
    let elapsed = start.elapsed();
    drop(idle);
    Ok((total, elapsed))
}

/// Both directions of every pair at once.
async fn duplex(
    pairs: Vec<(End, End)>,
    size: usize,
    duration: Duration,
) -> BenchResult<(u64, Duration)> {
    let start = Instant::now();
    let mut flows = Vec::new();
    for (i, (client, server)) in pairs.into_iter().enumerate() {
        flows.push([
            (
                spawn(
                    &format!("duplex client sender {i}"),
                    send_for(client.writer, size, duration),
                )?,
                spawn(
                    &format!("duplex server receiver {i}"),
                    receive_all(server.reader),
                )?,
            ),
            (
                spawn(
                    &format!("duplex server sender {i}"),
                    send_for(server.writer, size, duration),
                )?,
                spawn(
                    &format!("duplex client receiver {i}"),
                    receive_all(client.reader),
                )?,
            ),
        ]);
    }
    let mut total = 0;
    for flow in flows {
        for (sender, receiver) in flow {
            let (sent, received) = (joined(sender.await)?, joined(receiver.await)?);
            if sent != received {
                return Err(format!(
                    "duplex lost bytes: sent {sent}, {received} arrived"
                ));
            }
            total += received;
        }
    }
    Ok((total, start.elapsed()))
}

/// 64-byte round trips on one connection for `duration` (at least one): the client writes,
/// the server echoes, every byte is checked; the histogram holds each round trip in ns.
async fn ping_pong_on(client: End, server: End, duration: Duration) -> BenchResult<Histogram<u64>> {
    let End {
        reader: mut sr,
        writer: mut sw,
    } = server;
    let echo = spawn("ping-pong echo", async move {
        let mut buf = [0u8; 64];
        loop {
            let n = sr.read(&mut buf).await.map_err(io_err("echo read"))?;
            if n == 0 {
                break;
            }
            sw.write_all(&buf[..n])
                .await
                .map_err(io_err("echo write"))?;
            sw.flush().await.map_err(io_err("echo flush"))?;
        }
        sw.shutdown().await.map_err(io_err("echo close"))
    })?;
    let End {
        reader: mut cr,
        writer: mut cw,
    } = client;
    let mut hist = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let (mut tx, mut rx) = (Pattern::default(), Pattern::default());
    let (mut out, mut back) = ([0u8; 64], [0u8; 64]);
    let start = Instant::now();
    // At least one round trip, however short the duration.
    let mut first = true;
    while first || start.elapsed() < duration {
        first = false;
        tx.fill(&mut out);
        let t = Instant::now();
        cw.write_all(&out).await.map_err(io_err("ping write"))?;
        cw.flush().await.map_err(io_err("ping flush"))?;
        cr.read_exact(&mut back)
            .await
            .map_err(io_err("pong read"))?;
        hist.record(t.elapsed().as_nanos() as u64)
            .map_err(|e| e.to_string())?;
        rx.check(&back)?;
    }
    cw.shutdown().await.map_err(io_err("ping close"))?;
    joined(echo.await)?;
    Ok(hist)
}

/// [`idle_memory`] of `which` in a child process of its own (`sealcat bench --mode idle` for
/// it alone). In one process the figures depend on the order: memory that earlier tests and
/// implementations freed, and the allocator kept, is reused by the next one and its growth looks
/// smaller than it is. Each child starts from the same empty heap.
async fn idle_memory_in_child(
    which: Impl,
    options: &Options,
    idle: Idle,
) -> BenchResult<(f64, f64)> {
    if options.idle_connections == 0 {
        return Ok((f64::NAN, f64::NAN));
    }
    let exe = std::env::current_exe().map_err(io_err("finding sealcat's own executable"))?;
    let mut command = tokio::process::Command::new(exe);
    command
        .args([
            "bench",
            "--mode",
            "idle",
            "--json",
            "--sealer",
            &options.sealer,
        ])
        .args(["--compare", which.cli_name(), "--suite", &options.suite])
        .args(["--workers", &options.workers.to_string()])
        .args(["--idle-connections", &options.idle_connections.to_string()])
        .args((idle == Idle::Held).then_some("--idle-held"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = command
        .output()
        .await
        .map_err(io_err("running the idle-memory child"))?;
    if !out.status.success() {
        return Err(format!(
            "idle-memory child for {} failed ({}): {}",
            which.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("idle-memory child for {}: {e}", which.name()))?;
    let figure = |key: &str| {
        doc["results"][which.name()][key]
            .as_f64()
            .ok_or_else(|| format!("idle-memory child for {}: no {key}", which.name()))
    };
    let kind = match idle {
        Idle::ReadPending => "idle",
        Idle::Held => "held",
    };
    Ok((
        figure(&format!("{kind}_rss_bytes_per_pair"))?,
        figure(&format!("{kind}_heap_bytes_per_pair"))?,
    ))
}

impl Rounds<'_> {
    /// 64-byte ping-pong latency, `duration` per implementation; each implementation's
    /// histogram holds all its rounds.
    async fn ping_pong(&self, duration: Duration) -> BenchResult<Vec<Histogram<u64>>> {
        let mut hists = self
            .impls
            .iter()
            .map(|_| Histogram::<u64>::new(3).map_err(|e| e.to_string()))
            .collect::<BenchResult<Vec<_>>>()?;
        for round in 1..=INTERLEAVED_ROUNDS {
            for (&which, hist) in self.impls.iter().zip(&mut hists) {
                self.say(which, "ping-pong", round);
                let (client, server) = self
                    .loopback
                    .pair(which, self.tls)
                    .await
                    .map_err(io_err("connecting"))?;
                let part = ping_pong_on(client, server, duration / INTERLEAVED_ROUNDS).await?;
                hist.add(&part).map_err(|e| e.to_string())?;
            }
        }
        Ok(hists)
    }

    /// Full handshakes per second (TCP connect and accept included for all), `duration` per
    /// implementation.
    async fn handshakes(&self, duration: Duration) -> BenchResult<Vec<f64>> {
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

/// The share of `--idle-connections` opened before the baseline is taken (one in ten).
///
/// The first connections of a process pay for things that every later one shares: the buffer
/// pool's per-thread buffers, the runtime's first registrations and worker queues, the crypto
/// library's first-use state (aws-lc's entropy pool alone is 130 KB). Measured from a cold
/// start, 500 pairs would each carry a five-hundredth of that. The figure is what one more
/// idle connection costs once the process is warm.
const IDLE_WARMUP_DIVISOR: usize = 10;

/// How an idle connection waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idle {
    /// A read parked on each end, as an idle server and client wait for the next message.
    ReadPending,
    /// Both ends held and not polled, as a connection pool keeps one, or a server busy with the
    /// request it just read.
    Held,
}

/// What keeps one idle pair alive.
enum IdlePair {
    /// Both writers (kept, not used), and a task parked in a read on each end.
    ReadPending {
        _writers: (Writer, Writer),
        parked: [tokio::task::JoinHandle<()>; 2],
    },
    /// Both ends (kept, not used), untouched since the message.
    Held { _ends: (End, End) },
}

/// Open a pair, exchange one small message so every buffer has been used, then leave it as
/// `idle` says.
async fn idle_pair(
    which: Impl,
    loopback: &Loopback,
    tls: &Tls,
    idle: Idle,
) -> BenchResult<IdlePair> {
    let (mut client, mut server) = loopback
        .pair(which, tls)
        .await
        .map_err(io_err("connecting"))?;
    client
        .writer
        .write_all(b"hello")
        .await
        .map_err(io_err("writing"))?;
    client.writer.flush().await.map_err(io_err("flushing"))?;
    let mut buf = [0u8; 5];
    server
        .reader
        .read_exact(&mut buf)
        .await
        .map_err(io_err("reading"))?;
    if idle == Idle::Held {
        return Ok(IdlePair::Held {
            _ends: (client, server),
        });
    }
    let park = |mut r: Reader| async move {
        let mut buf = [0u8; 1];
        let _ = r.read(&mut buf).await;
    };
    let parked = [
        spawn("idle client", park(client.reader))?,
        spawn("idle server", park(server.reader))?,
    ];
    Ok(IdlePair::ReadPending {
        _writers: (client.writer, server.writer),
        parked,
    })
}

/// Open `count` idle connection pairs (see [`idle_pair`]) and return what each pair after the
/// warm-up ([`IDLE_WARMUP_DIVISOR`]) added to resident memory and to live heap bytes (the
/// second is exact; the first includes allocator slack and runtime growth).
async fn idle_memory(
    which: Impl,
    loopback: &Loopback,
    tls: &Tls,
    count: usize,
    idle: Idle,
    alloc: &'static StatsAlloc<std::alloc::System>,
) -> BenchResult<(f64, f64)> {
    if count == 0 {
        return Ok((f64::NAN, f64::NAN));
    }
    let warmup = count / IDLE_WARMUP_DIVISOR;
    let mut held = Vec::with_capacity(count);
    for _ in 0..warmup {
        held.push(idle_pair(which, loopback, tls, idle).await?);
    }
    let settle = Duration::from_millis(200);
    tokio::time::sleep(settle).await;
    let before = process::rss().ok_or("cannot read /proc/self/statm")?;
    let region = Region::new(alloc);
    for _ in warmup..count {
        held.push(idle_pair(which, loopback, tls, idle).await?);
    }
    tokio::time::sleep(settle).await;
    let after = process::rss().ok_or("cannot read /proc/self/statm")?;
    let heap = region.change();
    let live =
        heap.bytes_allocated as f64 - heap.bytes_deallocated as f64 + heap.bytes_reallocated as f64;
    for pair in &held {
        if let IdlePair::ReadPending { parked, .. } = pair {
            for task in parked {
                task.abort();
            }
        }
    }
    drop(held);
    let per_pair = |bytes: f64| bytes / (count - warmup) as f64;
    Ok((
        per_pair(after.saturating_sub(before) as f64),
        per_pair(live),
    ))
}

struct Row {
    label: &'static str,
    unit: &'static str,
    get: fn(&Figures) -> f64,
    lower_is_better: bool,
}

const ROWS: &[Row] = &[
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
];

/// The figures ratios are taken against: tokio-rustls when measured, else plain TCP.
fn reference(results: &[(Impl, Figures)]) -> Option<&(Impl, Figures)> {
    let find = |which: Impl| results.iter().find(|(i, _)| *i == which);
    find(Impl::TokioRustls).or_else(|| find(Impl::Plain))
}

/// Our figures: the first sealstream implementation measured.
fn ours(results: &[(Impl, Figures)]) -> Option<&(Impl, Figures)> {
    results.iter().find(|(i, _)| i.is_sealstream())
}

fn print_table(options: &Options, tls: &Tls, results: &[(Impl, Figures)]) {
    let sealer = match ours(results) {
        Some((Impl::Sasl(layer), _)) => format!("{} ({}-byte frames)", layer.name(), sasl::MAXBUF),
        _ => format!("{:?}", tls.suite.suite()),
    };
    let pinned = if options.pinned {
        " (throughput: sides pinned to a thread each)"
    } else {
        ""
    };
    println!(
        "sealcat bench: {sealer}, {}-byte writes, {} connection(s), {} tokio workers{pinned}, {} s per test, 127.0.0.1",
        options.write_size, options.connections, options.workers, options.duration
    );
    let reference = reference(results);
    let ours = ours(results);
    let mut header = format!("{:<28}", "");
    for (which, _) in results {
        header.push_str(&format!("{:>27}", which.name()));
    }
    if let (Some((theirs, _)), Some((us, _))) = (reference, ours) {
        header.push_str(&format!(
            "{:>34}",
            format!("{}÷{}", us.name(), theirs.name())
        ));
    }
    println!("{header}");
    for row in ROWS {
        if results.iter().all(|(_, f)| (row.get)(f).is_nan()) {
            continue; // not measured in this mode
        }
        let mut line = format!(
            "{:<28}",
            format!("{} ({})", row.label, row.unit).replace(" ()", "")
        );
        for (_, f) in results {
            let v = (row.get)(f);
            line.push_str(&format!(
                "{:>27}",
                if v.is_nan() {
                    "-".to_owned() // not measured for this implementation
                } else if v >= 100.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            ));
        }
        if let (Some((_, r)), Some((_, o))) = (reference, ours) {
            let (ours, theirs) = ((row.get)(o), (row.get)(r));
            // A reference that prints as 0.00 (allocations per record of plain TCP, say) gives
            // no meaningful ratio: 0.0002 ÷ 0.00001 would print as "20×".
            let ratio = if theirs.abs() < 0.005 {
                f64::NAN
            } else {
                ours / theirs
            };
            let better = if row.lower_is_better {
                ratio < 1.0
            } else {
                ratio > 1.0
            };
            let text = if ratio.is_finite() {
                format!("{ratio:.2}×{}", if better { " better" } else { "" })
            } else {
                "-".into()
            };
            line.push_str(&format!("{text:>34}"));
        }
        println!("{line}");
    }
    // The in-place read beside the reference, read as every column above is not.
    let in_place = results.iter().find(|(w, f)| {
        *w == Impl::SealstreamInPlace && !(f.bulk_mbps.is_nan() && f.duplex_mbps.is_nan())
    });
    if let (Some((_, p)), Some((theirs, r))) = (in_place, reference) {
        let ratio = |get: fn(&Figures) -> f64| {
            let v = get(p) / get(r);
            if v.is_finite() {
                format!("{v:.2}×")
            } else {
                "-".into()
            }
        };
        println!(
            "sealstream-tls read in place (fill_buf/consume) ÷ {} read into a buffer: \
             one-way {}, duplex {}",
            theirs.name(),
            ratio(|f| f.bulk_mbps),
            ratio(|f| f.duplex_mbps)
        );
    }
}

/// The primitives' own rates, and the layer's throughput as a share of them. One-way, one core
/// wraps while the other unwraps; in duplex each core does one direction's wrap and the other's
/// unwrap: either way the layer's ceiling is one direction's crypto on one core.
fn print_primitives(
    layer: sasl::SaslLayer,
    rates: &primitives::PrimitiveRates,
    results: &[(Impl, Figures)],
) {
    println!();
    println!(
        "{} primitives on one core, {}-byte frames (one direction's work per byte):",
        layer.mechanism(),
        layer.frame_payload()
    );
    let (mac, mac_rate) = rates.mac;
    println!("  {:<34}{:>10.0} MB/s", mac, mac_rate);
    if let Some((cipher, rate)) = rates.cipher {
        println!("  {:<34}{:>10.0} MB/s", cipher, rate);
        println!(
            "  {:<34}{:>10.0} MB/s",
            format!("{mac} and {cipher}"),
            rates.combined
        );
    }
    if let Some((_, f)) = ours(results) {
        for (label, value) in [("one-way", f.bulk_mbps), ("full duplex", f.duplex_mbps)] {
            if value.is_finite() {
                println!(
                    "  {:<34}{:>10.2}",
                    format!("layer {label} ÷ primitives"),
                    value / rates.combined
                );
            }
        }
    }
}

fn print_json(
    options: &Options,
    tls: &Tls,
    results: &[(Impl, Figures)],
    primitives: Option<(sasl::SaslLayer, primitives::PrimitiveRates)>,
) {
    let mut impls = serde_json::Map::new();
    for (which, f) in results {
        impls.insert(
            which.name().into(),
            serde_json::json!({
                "bulk_mb_per_s": f.bulk_mbps,
                "duplex_mb_per_s": f.duplex_mbps,
                "cpu_ns_per_byte": f.cpu_ns_per_byte,
                "ping_p50_us": f.ping_p50_us,
                "ping_p99_us": f.ping_p99_us,
                "handshakes_per_s": f.handshakes_per_s,
                "idle_rss_bytes_per_pair": f.idle_rss_per_pair,
                "idle_heap_bytes_per_pair": f.idle_heap_per_pair,
                "held_rss_bytes_per_pair": f.held_rss_per_pair,
                "held_heap_bytes_per_pair": f.held_heap_per_pair,
                "allocs_per_record": f.allocs_per_record,
            }),
        );
    }
    let primitives = primitives.map(|(layer, rates)| {
        let ours = ours(results).map(|(_, f)| f.clone()).unwrap_or_default();
        serde_json::json!({
            "layer": layer.name(),
            "frame_payload_bytes": layer.frame_payload(),
            "mac": rates.mac.0,
            "mac_mb_per_s": rates.mac.1,
            "cipher": rates.cipher.map(|(name, _)| name),
            "cipher_mb_per_s": rates.cipher.map(|(_, rate)| rate),
            "combined_mb_per_s": rates.combined,
            "bulk_ratio": ours.bulk_mbps / rates.combined,
            "duplex_ratio": ours.duplex_mbps / rates.combined,
        })
    });
    let doc = serde_json::json!({
        "sealer": options.sealer,
        "primitives": primitives,
        "suite": format!("{:?}", tls.suite.suite()),
        "write_size": options.write_size,
        "mode": format!("{:?}", options.mode).to_lowercase(),
        "connections": options.connections,
        "workers": options.workers,
        "pin_sides": options.pinned,
        "duration_s": options.duration,
        "errors": 0,
        "results": impls,
    });
    println!("{doc:#}");
}

fn print_soak(options: &Options, which: Impl, report: &soak::SoakReport) {
    if options.json {
        let doc = serde_json::json!({
            "mode": "soak",
            "implementation": which.name(),
            "connections": report.connections,
            "seconds": report.seconds,
            "bytes_verified": report.bytes,
            "errors": report.errors,
            "bytes_lost": report.lost,
            "rss_bytes_connected": report.rss_connected,
            "rss_bytes_end": report.rss_end,
            "server_process_rss_bytes_end": report.server_rss_end,
            "first_error": report.first_error,
        });
        println!("{doc:#}");
        return;
    }
    println!(
        "sealcat bench --mode soak: {}, {} connections, {:.1} s",
        which.name(),
        report.connections,
        report.seconds
    );
    println!("  bytes echoed and verified   {}", report.bytes);
    println!("  failed connections          {}", report.errors);
    println!("  bytes lost                  {}", report.lost);
    println!(
        "  RSS connected / at the end  {:.1} MB / {:.1} MB",
        report.rss_connected as f64 / 1e6,
        report.rss_end as f64 / 1e6
    );
    if let Some(rss) = report.server_rss_end {
        println!("  server process RSS at end   {:.1} MB", rss as f64 / 1e6);
    }
}
