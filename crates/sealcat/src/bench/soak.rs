//! `sealcat bench --mode soak`: many connections at once for a long time, each echoing
//! checksummed data, to show that nothing is lost or corrupted under load and that memory stays
//! flat. Failures are counted, not fatal, so the report says how many there were.
//!
//! ```text
//! ulimit -n 65536   # two sockets per connection pair, both in this process
//! cargo run --release -p sealcat -- bench --mode soak --connections 10000 --duration 60
//! ```
//!
//! Where the open-file limit cannot go that high, `--server-process` puts the echo server in a
//! child `sealcat listen --tls --echo`, and each process holds one socket per connection:
//!
//! ```text
//! ulimit -n 20000
//! cargo run --release -p sealcat -- bench --mode soak --connections 10000 --duration 60 --server-process
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::check::Pattern;
use super::error::{BenchError, BenchResult, io_err};
use super::flows::spawn;
use super::process;
use super::transport::{End, Impl, Loopback, Reader, Tls};

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
    /// The child server's RSS at the end, with `--server-process`.
    pub(crate) server_rss_end: Option<u64>,
    pub(crate) first_error: Option<String>,
}

/// Where the echo server runs.
pub(crate) enum Server<'a> {
    /// In this process, one loopback pair per connection.
    InProcess(&'a Loopback, &'a Tls),
    /// In a child `sealcat listen --tls --echo`.
    Process,
}

/// A child `sealcat listen --tls --echo`, and a connector that trusts its certificate.
struct ChildServer {
    child: tokio::process::Child,
    addr: String,
    connector: sealstream_tls::TlsConnector,
    /// A new directory of our own (mode 0700, random name) holding the server's certificate,
    /// removed with it.
    _dir: tempfile::TempDir,
}

/// How long the server process may take to say where it listens.
const CHILD_START_TIMEOUT: Duration = Duration::from_secs(10);

impl ChildServer {
    async fn start() -> BenchResult<Self> {
        let exe = std::env::current_exe().map_err(io_err("finding sealcat's own binary"))?;
        let dir = tempfile::Builder::new()
            .prefix("sealcat-soak-")
            .tempdir()
            .map_err(io_err("creating a directory for the server's certificate"))?;
        let cert = dir.path().join("server.pem");
        let mut child = tokio::process::Command::new(exe)
            .args(["listen", "127.0.0.1:0", "--tls", "--echo", "--save-cert"])
            .arg(&cert)
            // Its banner must be its first line: no tracing output before it.
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(io_err("starting the server process"))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| BenchError::Child("the server process has no stderr".into()))?;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let addr = tokio::time::timeout(CHILD_START_TIMEOUT, async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .map_err(io_err("reading the server process"))?
                    .ok_or_else(|| {
                        BenchError::Child("the server process ended before listening".into())
                    })?;
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return rest
                        .split_whitespace()
                        .next()
                        .map(str::to_string)
                        .ok_or_else(|| {
                            BenchError::Child(format!("the server process said {line:?}"))
                        });
                }
            }
        })
        .await
        .map_err(|_| {
            BenchError::Stalled(format!(
                "the server process did not say where it listens within {} s",
                CHILD_START_TIMEOUT.as_secs()
            ))
        })??;
        // Its later lines (failed connections) are drained, so it never blocks on stderr.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("server process: {line}");
            }
        });
        let config = crate::net::config::client(crate::net::config::Trust::CaFile(&cert), &[])
            .map_err(BenchError::Setup)?;
        Ok(Self {
            child,
            addr,
            connector: sealstream_tls::TlsConnector::new(config),
            _dir: dir,
        })
    }

    async fn connect(&self) -> std::io::Result<End> {
        let tcp = tokio::net::TcpStream::connect(&self.addr).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from("localhost").expect("valid name");
        let (reader, writer) = self.connector.connect(name, tcp).await?.into_split();
        Ok(End {
            reader: Reader::InPlace(Box::new(reader)),
            writer: Box::new(writer),
        })
    }

    fn rss(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4096)
    }
}

/// Echo `chunk`-byte messages on `end` until `deadline`; returns bytes sent and verified.
async fn echo_client(
    end: End,
    chunk: usize,
    deadline: Instant,
    lost: Arc<AtomicU64>,
) -> BenchResult<u64> {
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
        return Err(BenchError::Lost(format!(
            "{} bytes after the echo ended",
            rest.len()
        )));
    }
    Ok(rx.offset())
}

async fn echo_server(end: End) -> BenchResult<()> {
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
    server: Server<'_>,
    connections: usize,
    chunk: usize,
    duration: Duration,
    progress: &indicatif::ProgressBar,
) -> BenchResult<SoakReport> {
    let child = match server {
        Server::Process if which != Impl::Sealstream => {
            return Err(BenchError::Usage(
                "--server-process runs `sealcat listen --tls`: soak sealstream-tls".into(),
            ));
        }
        Server::Process => Some(ChildServer::start().await?),
        Server::InProcess(..) => None,
    };
    // (client, server) ends; the server end is None when the child process serves.
    let mut pairs: Vec<(End, Option<End>)> = Vec::with_capacity(connections);
    progress.set_length(connections as u64);
    progress.set_message(format!(
        "soak: opening {connections} {} connections",
        which.name()
    ));
    for _ in 0..connections {
        let pair = match (&server, &child) {
            (_, Some(child)) => child.connect().await.map(|client| (client, None)),
            (Server::InProcess(loopback, tls), None) => loopback
                .pair(which, tls)
                .await
                .map(|(client, server)| (client, Some(server))),
            (Server::Process, None) => unreachable!("the child was started above"),
        };
        pairs.push(pair.map_err(io_err("connecting (raise ulimit -n?)"))?);
        progress.inc(1);
    }
    let rss_connected = process::rss().unwrap_or(0);
    let lost = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(connections);
    for (i, (client, server)) in pairs.into_iter().enumerate() {
        if let Some(server) = server {
            spawn(&format!("soak echo server {i}"), echo_server(server))?;
        }
        tasks.push(spawn(
            &format!("soak client {i}"),
            echo_client(client, chunk, deadline, lost.clone()),
        )?);
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
                report.first_error.get_or_insert(err.to_string());
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
    report.server_rss_end = child.as_ref().and_then(ChildServer::rss);
    Ok(report)
}
