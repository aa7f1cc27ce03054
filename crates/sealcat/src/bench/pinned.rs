//! `sealcat bench --pin-sides`: the throughput tests with every client end on one thread and
//! every server end on another, each thread running a current-thread runtime of its own.
//!
//! By default both ends of a connection run on one multi-thread runtime, as in a process that
//! is client and server at once, and tokio decides where each task runs. With two workers it
//! sometimes runs a sender and its receiver on the same worker for a while, and the other core
//! waits; which rounds that happens in is chance, and a short run shows it. Pinned, one core
//! seals while the other unseals (one-way), or each core seals one direction and unseals the
//! other (duplex): the arrangement the DIGEST-MD5 primitives comparison assumes, since the
//! primitives are timed on one core for one direction's work.

use std::net::SocketAddr;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use stats_alloc::StatsAlloc;
use tokio::net::{TcpListener, TcpStream};

use super::transport::{End, Impl, Reader, Tls, Writer, client_end, server_end};
use super::{BenchResult, Mark, Run, io_err, receive_all, send_for};

/// Which ways data flows in a pinned run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Each client sends to its server.
    OneWay,
    /// Both ends send and receive at once.
    Duplex,
}

/// What one side moved: bytes sent and received per connection, and how long it took from the
/// moment both sides were connected.
#[derive(Debug, Default)]
struct SideReport {
    sent: Vec<u64>,
    received: Vec<u64>,
    elapsed: Duration,
}

/// What to run.
#[derive(Clone, Copy)]
pub(crate) struct Job<'a> {
    pub(crate) which: Impl,
    pub(crate) tls: &'a Tls,
    pub(crate) connections: usize,
    /// Bytes per application write.
    pub(crate) size: usize,
    /// How long the senders send.
    pub(crate) duration: Duration,
    pub(crate) flow: Flow,
}

/// Run `job`, client ends on one thread and server ends on another; returns the bytes received
/// in all, the time taken, and the process's CPU time and allocations from the moment both
/// sides were connected to the moment both were done.
pub(crate) fn throughput(
    job: Job<'_>,
    alloc: &'static StatsAlloc<std::alloc::System>,
) -> BenchResult<Run> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io_err("listening"))?;
    listener
        .set_nonblocking(true)
        .map_err(io_err("listening"))?;
    let addr = listener.local_addr().map_err(io_err("listening"))?;
    let meeting = Meeting {
        connected: Barrier::new(2),
        finished: Barrier::new(2),
        marks: Mutex::new([None, None]),
        alloc,
    };
    let side = Side {
        job,
        meeting: &meeting,
    };
    let (server, client) = std::thread::scope(|scope| {
        let server = scope.spawn(|| on_own_thread(side.server(listener)));
        let client = scope.spawn(|| on_own_thread(side.client(addr)));
        (server.join(), client.join())
    });
    let joined = |side: std::thread::Result<BenchResult<SideReport>>, name: &str| {
        side.map_err(|_| format!("the pinned {name} thread panicked"))?
    };
    let (server, client) = (joined(server, "server")?, joined(client, "client")?);
    let mut total = 0;
    for (i, (&sent, &received)) in client.sent.iter().zip(&server.received).enumerate() {
        if sent != received {
            return Err(format!(
                "connection {i}: the client sent {sent} bytes but {received} arrived"
            ));
        }
        total += received;
    }
    for (i, (&sent, &received)) in server.sent.iter().zip(&client.received).enumerate() {
        if sent != received {
            return Err(format!(
                "connection {i}: the server sent {sent} bytes but {received} arrived"
            ));
        }
        total += received;
    }
    let marks = *meeting.marks.lock().unwrap_or_else(|p| p.into_inner());
    let [Some(start), Some(end)] = marks else {
        return Err("a pinned side did not reach the start or the end".into());
    };
    Ok(Run::between(
        total,
        server.elapsed.max(client.elapsed),
        &start,
        &end,
    ))
}

/// Where the two sides meet: once both are connected (the clock starts) and once both are done
/// (the halves may be dropped). The thread that completes each meeting marks the process's CPU
/// time and allocations there.
struct Meeting {
    connected: Barrier,
    finished: Barrier,
    marks: Mutex<[Option<Mark>; 2]>,
    alloc: &'static StatsAlloc<std::alloc::System>,
}

impl Meeting {
    fn meet(&self, barrier: &Barrier, mark: usize) {
        if barrier.wait().is_leader() {
            let now = Mark::now(self.alloc);
            self.marks.lock().unwrap_or_else(|p| p.into_inner())[mark] = Some(now);
        }
    }
}

/// Run `future` on a current-thread runtime of this thread.
fn on_own_thread<F: std::future::Future<Output = BenchResult<SideReport>>>(
    future: F,
) -> BenchResult<SideReport> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io_err("starting a pinned runtime"))?
        .block_on(future)
}

/// One side of a pinned run.
#[derive(Clone, Copy)]
struct Side<'a> {
    job: Job<'a>,
    meeting: &'a Meeting,
}

/// How long one side may take to connect and finish its handshakes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The halves a side does not use in a one-way run, kept open until both sides are done.
type Unused = (Vec<Reader>, Vec<Writer>);

impl Side<'_> {
    async fn server(self, listener: std::net::TcpListener) -> BenchResult<SideReport> {
        let ends = tokio::time::timeout(CONNECT_TIMEOUT, async {
            let listener = TcpListener::from_std(listener).map_err(io_err("listening"))?;
            let mut ends = Vec::with_capacity(self.job.connections);
            for _ in 0..self.job.connections {
                let (tcp, _) = listener.accept().await.map_err(io_err("accepting"))?;
                tcp.set_nodelay(true).map_err(io_err("accepting"))?;
                let end = server_end(self.job.which, self.job.tls, tcp).await;
                ends.push(end.map_err(io_err("handshake (server)"))?);
            }
            Ok(ends)
        })
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the server side did not connect in {CONNECT_TIMEOUT:?}"
            ))
        });
        // The server receives in one-way runs.
        self.transfer(ends, self.job.flow == Flow::Duplex, true)
            .await
    }

    async fn client(self, addr: SocketAddr) -> BenchResult<SideReport> {
        let ends = tokio::time::timeout(CONNECT_TIMEOUT, async {
            let mut ends = Vec::with_capacity(self.job.connections);
            for _ in 0..self.job.connections {
                let tcp = TcpStream::connect(addr)
                    .await
                    .map_err(io_err("connecting"))?;
                tcp.set_nodelay(true).map_err(io_err("connecting"))?;
                let end = client_end(self.job.which, self.job.tls, tcp).await;
                ends.push(end.map_err(io_err("handshake (client)"))?);
            }
            Ok(ends)
        })
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the client side did not connect in {CONNECT_TIMEOUT:?}"
            ))
        });
        self.transfer(ends, true, self.job.flow == Flow::Duplex)
            .await
    }

    /// Meet the other side once both are connected, move the data, and meet it again once both
    /// are done, whatever failed on either side (so neither waits forever).
    async fn transfer(
        self,
        ends: BenchResult<Vec<End>>,
        send: bool,
        receive: bool,
    ) -> BenchResult<SideReport> {
        // Blocking the thread is fine here: this side's handshakes are over, and the other
        // side's do not need this thread.
        self.meeting.meet(&self.meeting.connected, 0);
        let moved = match ends {
            Ok(ends) => self.move_data(ends, send, receive).await,
            Err(err) => Err(err),
        };
        self.meeting.meet(&self.meeting.finished, 1);
        moved.map(|(report, unused)| {
            drop(unused);
            report
        })
    }

    /// Send on every end (if `send`) and receive on every end (if `receive`) at once, as tasks
    /// of this thread's runtime.
    async fn move_data(
        self,
        ends: Vec<End>,
        send: bool,
        receive: bool,
    ) -> BenchResult<(SideReport, Unused)> {
        let start = Instant::now();
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        let mut unused: Unused = (Vec::new(), Vec::new());
        for End { reader, writer } in ends {
            if send {
                senders.push(tokio::spawn(send_for(
                    writer,
                    self.job.size,
                    self.job.duration,
                )));
            } else {
                unused.1.push(writer);
            }
            if receive {
                receivers.push(tokio::spawn(receive_all(reader)));
            } else {
                unused.0.push(reader);
            }
        }
        let mut report = SideReport::default();
        for task in senders {
            let sent = task
                .await
                .map_err(|e| format!("sender task failed: {e}"))??;
            report.sent.push(sent);
        }
        for task in receivers {
            let received = task
                .await
                .map_err(|e| format!("receiver task failed: {e}"))??;
            report.received.push(received);
        }
        report.elapsed = start.elapsed();
        Ok((report, unused))
    }
}
