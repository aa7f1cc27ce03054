//! Memory per idle connection pair: open pairs, leave them idle (a read parked on each end, or
//! held unpolled), and count what each pair after a warm-up added to resident memory and to
//! live heap bytes. With several implementations each is measured in a child process of its
//! own (`sealcat bench --mode idle` for it alone), so none reuses memory another one freed.

use std::time::Duration;

use stats_alloc::{Region, StatsAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::{BenchError, BenchResult, io_err};
use super::flows::spawn;
use super::options::Options;
use super::process;
use super::transport::{End, Impl, Loopback, Reader, Tls, Writer};

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
pub(crate) enum Idle {
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
pub(crate) async fn idle_memory(
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
    let before = process::rss().ok_or_else(statm_unreadable)?;
    let region = Region::new(alloc);
    for _ in warmup..count {
        held.push(idle_pair(which, loopback, tls, idle).await?);
    }
    tokio::time::sleep(settle).await;
    let after = process::rss().ok_or_else(statm_unreadable)?;
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

/// [`idle_memory`] of `which` in a child process of its own (`sealcat bench --mode idle` for
/// it alone). In one process the figures depend on the order: memory that earlier tests and
/// implementations freed, and the allocator kept, is reused by the next one and its growth looks
/// smaller than it is. Each child starts from the same empty heap.
pub(crate) async fn idle_memory_in_child(
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
        return Err(BenchError::Child(format!(
            "idle-memory child for {} failed ({}): {}",
            which.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| BenchError::Child(format!("idle-memory child for {}: {e}", which.name())))?;
    let figure = |key: &str| {
        doc["results"][which.name()][key].as_f64().ok_or_else(|| {
            BenchError::Child(format!("idle-memory child for {}: no {key}", which.name()))
        })
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

/// Resident memory could not be read.
fn statm_unreadable() -> BenchError {
    BenchError::Measure("cannot read /proc/self/statm".into())
}
