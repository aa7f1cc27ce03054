//! `sealcat bench --mode soak`: many connections at once for a long time, each echoing
//! checksummed data, to show that nothing is lost or corrupted under load and that memory stays
//! flat. Failures are counted, not fatal, so the report says how many there were.
//!
//! ```text
//! ulimit -n 65536   # two sockets per connection pair, both in this process
//! cargo run --release -p sealcat -- bench --mode soak --connections 10000 --duration 60
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::check::Pattern;
use super::transport::{End, Impl, Loopback, Tls};
use super::{BenchResult, io_err, process};

/// What a soak run saw.
#[derive(Debug, Default)]
pub(crate) struct SoakReport {
    pub(crate) connections: usize,
    pub(crate) seconds: f64,
    /// Bytes sent and verified on their way back.
    pub(crate) bytes: u64,
    /// Connections that failed (I/O error or a byte that came back different).
    pub(crate) errors: u64,
    /// Bytes sent that never came back.
    pub(crate) lost: u64,
    pub(crate) rss_connected: u64,
    pub(crate) rss_end: u64,
    pub(crate) first_error: Option<String>,
}

/// Echo `chunk`-byte messages on `end` until `deadline`; returns bytes sent and verified.
async fn echo_client(
    end: End,
    chunk: usize,
    deadline: Instant,
    lost: Arc<AtomicU64>,
) -> Result<u64, String> {
    let End {
        mut reader,
        mut writer,
    } = end;
    let (mut tx, mut rx) = (Pattern::default(), Pattern::default());
    let (mut out, mut back) = (vec![0u8; chunk], vec![0u8; chunk]);
    while Instant::now() < deadline {
        tx.fill(&mut out);
        writer.write_all(&out).await.map_err(io_err("soak write"))?;
        writer.flush().await.map_err(io_err("soak flush"))?;
        // Counted as lost until it is back.
        lost.fetch_add(chunk as u64, Ordering::Relaxed);
        reader
            .read_exact(&mut back)
            .await
            .map_err(io_err("soak read"))?;
        rx.check(&back)?;
        lost.fetch_sub(chunk as u64, Ordering::Relaxed);
    }
    writer.shutdown().await.map_err(io_err("soak close"))?;
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .await
        .map_err(io_err("soak end"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the echo ended", rest.len()));
    }
    Ok(rx.offset())
}

async fn echo_server(end: End) -> Result<(), String> {
    let End {
        mut reader,
        mut writer,
    } = end;
    tokio::io::copy(&mut reader, &mut writer)
        .await
        .map_err(io_err("echo"))?;
    writer.shutdown().await.map_err(io_err("echo close"))
}

pub(crate) async fn soak(
    which: Impl,
    loopback: &Loopback,
    tls: &Tls,
    connections: usize,
    chunk: usize,
    duration: Duration,
    progress: &indicatif::ProgressBar,
) -> BenchResult<SoakReport> {
    let mut pairs = Vec::with_capacity(connections);
    progress.set_length(connections as u64);
    progress.set_message(format!(
        "soak: opening {connections} {} connections",
        which.name()
    ));
    for _ in 0..connections {
        pairs.push(
            loopback
                .pair(which, tls)
                .await
                .map_err(io_err("connecting (raise ulimit -n?)"))?,
        );
        progress.inc(1);
    }
    let rss_connected = process::rss().unwrap_or(0);
    let lost = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(connections);
    for (client, server) in pairs {
        tokio::spawn(echo_server(server));
        tasks.push(tokio::spawn(echo_client(
            client,
            chunk,
            deadline,
            lost.clone(),
        )));
    }
    progress.set_length(duration.as_secs().max(1));
    progress.set_position(0);
    progress.set_message(format!("soak: {connections} connections echoing"));
    let ticker = {
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                progress.inc(1);
            }
        })
    };
    let mut report = SoakReport {
        connections,
        rss_connected,
        ..SoakReport::default()
    };
    for task in tasks {
        match task.await {
            Ok(Ok(bytes)) => report.bytes += bytes,
            Ok(Err(err)) => {
                report.errors += 1;
                report.first_error.get_or_insert(err);
            }
            Err(err) => {
                report.errors += 1;
                report.first_error.get_or_insert(err.to_string());
            }
        }
    }
    ticker.abort();
    report.seconds = start.elapsed().as_secs_f64();
    report.lost = lost.load(Ordering::Relaxed);
    report.rss_end = process::rss().unwrap_or(0);
    Ok(report)
}
