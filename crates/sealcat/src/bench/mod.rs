//! `sealcat bench`: a loopback load test that measures sealstream-tls, tokio-rustls and plain
//! TCP in the same run, and prints each figure with its ratio to tokio-rustls. Throughput and
//! latency are measured in this process; idle memory in a child process per implementation, so
//! that no implementation inherits the heap another one freed.
//! `--sealer digest-md5-*` or `--sealer krb5-aes256-*` measures a SASL layer (DIGEST-MD5, or
//! Kerberos V5 through SASL GSSAPI) instead, beside plain TCP and the raw rate of its primitives.
//!
//! Every byte moved is checked against the pattern its sender wrote; a mismatch ends the run
//! with an error. Every TLS implementation is read the same way, into a 64 KiB buffer, and
//! sealstream-tls once more where it was unsealed (`AsyncBufRead`), as a column of its own; a
//! SASL layer is read in place. Figures: one-way bulk and full-duplex throughput (with the ratio
//! round by round), process CPU per byte, the cores kept busy and how often the runtime's
//! workers parked, 64-byte ping-pong latency, full handshakes (or SASL exchanges) per second,
//! resident memory and live heap per idle or held connection pair, and heap allocations per
//! record.
//!
//! Here is [`run`], which puts a run together; the rest is by role: [`options`] (and their
//! checks), [`transport`] (the implementations, connected over loopback), [`rounds`] (the
//! interleaved tests) moving data with [`flows`] or [`pinned`] and checking it with [`check`],
//! [`idle`] (memory per idle pair), [`soak`], [`sasl`] and [`primitives`] (a SASL layer and
//! its crypto's ceiling), [`process`] (/proc), [`figures`] and [`output`] (what is found and
//! how it prints), and [`error`].

mod check;
mod error;
mod figures;
mod flows;
mod idle;
mod options;
mod output;
mod pinned;
mod primitives;
mod process;
mod rounds;
mod sasl;
mod soak;
mod transport;

use std::time::Duration;

use stats_alloc::StatsAlloc;

use error::{BenchError, BenchResult, io_err};
use figures::Figures;
use idle::{Idle, idle_memory, idle_memory_in_child};
use options::Mode;
pub(crate) use options::Options;
use output::{print_json, print_primitives, print_soak, print_sweep, print_table};
use rounds::Rounds;
use transport::{Impl, Loopback, Tls};

/// Run the benchmark: check the options, run the soak or the tests the mode asks for (once per
/// `--workers`/`--connections` pair of a sweep), and print the results.
pub(crate) fn run(
    mut options: Options,
    alloc: &'static StatsAlloc<std::alloc::System>,
) -> BenchResult<()> {
    let (ours, impls) = options.validate()?;
    let tls = Tls::new(&options.suite, options.take_turns)?;
    let progress = indicatif::ProgressBar::new_spinner();
    progress.enable_steady_tick(Duration::from_millis(120));
    if options.mode == Mode::Soak {
        return soak_run(&options, impls[0], &tls, &progress);
    }
    let sweep = options.sweep();
    let mut runs = Vec::with_capacity(sweep.len());
    for (workers, connections) in sweep {
        (options.workers, options.connections) = (workers, connections);
        let run = measure(&options, ours, &impls, &tls, &progress, alloc)?;
        if !options.json {
            progress.suspend(|| {
                print_table(&options, &tls, &run.results);
                if let Some((layer, rates)) = &run.primitives {
                    print_primitives(*layer, rates, &run.results);
                }
                println!();
            });
        }
        runs.push(run);
    }
    progress.finish_and_clear();
    if options.json {
        print_json(&options, &tls, &runs);
    } else if runs.len() > 1 {
        print_sweep(&runs);
    }
    Ok(())
}

/// A soak of `which` (the first of `--compare`), with its report printed; lost bytes or failed
/// connections make it an error.
fn soak_run(
    options: &Options,
    which: Impl,
    tls: &Tls,
    progress: &indicatif::ProgressBar,
) -> BenchResult<()> {
    let report = runtime(options.workers)?.block_on(async {
        let loopback = Loopback::new()
            .await
            .map_err(io_err("listening on 127.0.0.1"))?;
        let chunk = options.write_size.min(64 * 1024);
        let server = if options.server_process {
            soak::Server::Process
        } else {
            soak::Server::InProcess(&loopback, tls)
        };
        let duration = Duration::from_secs_f64(options.duration);
        soak::soak(
            which,
            server,
            options.connections,
            chunk,
            duration,
            progress,
        )
        .await
    })?;
    progress.finish_and_clear();
    print_soak(options, which, &report);
    if report.errors > 0 || report.lost > 0 {
        return Err(BenchError::Soak {
            errors: report.errors,
            lost: report.lost,
            first_error: report.first_error,
        });
    }
    Ok(())
}

/// A multi-thread runtime of `workers` worker threads.
fn runtime(workers: usize) -> BenchResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(io_err("starting the runtime"))
}

/// What one run (one `--workers`/`--connections` pair) found.
pub(crate) struct Run {
    /// Tokio worker threads.
    pub(crate) workers: usize,
    /// Connections at once in the throughput tests.
    pub(crate) connections: usize,
    /// Each implementation's figures, in `--compare` order.
    pub(crate) results: Vec<(Impl, Figures)>,
    /// A SASL layer's primitives, timed between the rounds.
    pub(crate) primitives: Option<(sasl::SaslLayer, primitives::PrimitiveRates)>,
}

/// Run the tests the mode asks for with `options.workers` workers and `options.connections`
/// connections, on a runtime of their own.
fn measure(
    options: &Options,
    ours: Impl,
    impls: &[Impl],
    tls: &Tls,
    progress: &indicatif::ProgressBar,
    alloc: &'static StatsAlloc<std::alloc::System>,
) -> BenchResult<Run> {
    let runtime = runtime(options.workers)?;
    let duration = Duration::from_secs_f64(options.duration);
    let throughput = matches!(
        options.mode,
        Mode::All | Mode::Bulk | Mode::Duplex | Mode::Throughput
    );
    // A SASL layer is judged against its primitives, timed in slices between the rounds.
    let mut meter = match ours {
        Impl::Sasl(layer) if throughput => Some(primitives::PrimitiveMeter::new(layer)),
        _ => None,
    };
    let mut results: Vec<(Impl, Figures)> =
        impls.iter().map(|&w| (w, Figures::default())).collect();
    runtime.block_on(async {
        let loopback = Loopback::new()
            .await
            .map_err(io_err("listening on 127.0.0.1"))?;
        let rounds = Rounds {
            impls,
            loopback: &loopback,
            tls,
            progress,
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
        if throughput {
            let tallies = rounds
                .throughput(options, duration, alloc, meter.as_mut())
                .await?;
            for ((which, f), tally) in results.iter_mut().zip(tallies) {
                tally.fill(*which, options.write_size, f);
            }
        }
        if matches!(options.mode, Mode::All | Mode::Echo) {
            let latencies = others.ping_pong(duration, alloc).await?;
            let measured = results.iter_mut().filter(|(w, _)| !w.is_read_variant());
            for ((_, f), (hist, allocs)) in measured.zip(latencies) {
                f.ping_p50_us = hist.value_at_quantile(0.50) as f64 / 1000.0;
                f.ping_p99_us = hist.value_at_quantile(0.99) as f64 / 1000.0;
                f.allocs_per_round_trip = allocs;
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
                        idle_memory_in_child(*which, options, Idle::ReadPending).await?;
                    (f.held_rss_per_pair, f.held_heap_per_pair) =
                        idle_memory_in_child(*which, options, Idle::Held).await?;
                } else if options.idle_held {
                    let count = options.idle_connections;
                    (f.held_rss_per_pair, f.held_heap_per_pair) =
                        idle_memory(*which, &loopback, tls, count, Idle::Held, alloc).await?;
                } else {
                    let count = options.idle_connections;
                    (f.idle_rss_per_pair, f.idle_heap_per_pair) =
                        idle_memory(*which, &loopback, tls, count, Idle::ReadPending, alloc)
                            .await?;
                }
            }
        }
        Ok::<_, BenchError>(())
    })?;
    let primitives = match (ours, &meter) {
        (Impl::Sasl(layer), Some(meter)) => Some((layer, meter.rates())),
        _ => None,
    };
    Ok(Run {
        workers: options.workers,
        connections: options.connections,
        results,
        primitives,
    })
}
