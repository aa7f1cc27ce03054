//! How data moves in the tests on the runtime: connected pairs, a sender that writes the
//! checked pattern for a while and a receiver that checks every byte to the end, one-way and
//! duplex transfers over many pairs at once, ping-pong round trips, and named tasks for all of
//! them. The pinned sides (`pinned`) reuse the sender and the receiver.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::check::{Pattern, PatternSource};
use super::error::{BenchError, BenchResult, io_err};
use super::transport::{End, Impl, Loopback, Reader, Tls, Writer};

/// `count` connected pairs of `which`.
pub(crate) async fn pairs(
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

/// Write `size`-byte chunks from `writer` until `duration` has passed, then close.
pub(crate) async fn send_for(
    mut writer: Writer,
    size: usize,
    duration: Duration,
) -> BenchResult<u64> {
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
pub(crate) async fn receive_all(reader: Reader) -> BenchResult<u64> {
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
pub(crate) fn spawn<F>(name: &str, future: F) -> BenchResult<tokio::task::JoinHandle<F::Output>>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    crate::tasks::spawn_named(name, future).map_err(|source| BenchError::Spawn {
        name: name.to_owned(),
        source,
    })
}

/// A spawned task's outcome: its own result, or [`BenchError::Task`] if it panicked or was
/// cancelled.
fn joined<T>(r: Result<BenchResult<T>, tokio::task::JoinError>) -> BenchResult<T> {
    r.map_err(|source| BenchError::Task {
        task: "benchmark task",
        source,
    })?
}

/// Each pair's client sends to its server until `duration` has passed; all pairs at once.
pub(crate) async fn one_way(
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
            return Err(BenchError::Lost(format!(
                "sent {sent} bytes but {received} arrived"
            )));
        }
        total += received;
    }
    let elapsed = start.elapsed();
    drop(idle);
    Ok((total, elapsed))
}

/// Both directions of every pair at once.
pub(crate) async fn duplex(
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
                return Err(BenchError::Lost(format!(
                    "duplex lost bytes: sent {sent}, {received} arrived"
                )));
            }
            total += received;
        }
    }
    Ok((total, start.elapsed()))
}

/// 64-byte round trips on one connection for `duration` (at least one): the client writes,
/// the server echoes, every byte is checked; the histogram holds each round trip in ns.
pub(crate) async fn ping_pong_on(
    client: End,
    server: End,
    duration: Duration,
) -> BenchResult<Histogram<u64>> {
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
    let mut hist = Histogram::<u64>::new(3).map_err(BenchError::measure)?;
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
            .map_err(BenchError::measure)?;
        rx.check(&back)?;
    }
    cw.shutdown().await.map_err(io_err("ping close"))?;
    joined(echo.await)?;
    Ok(hist)
}
