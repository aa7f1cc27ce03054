//! `sealcat bench --pin-sides`: the throughput tests with every client end on one thread and
//! every server end on another, each thread running a current-thread runtime of its own, as
//! two processes would. The default for the DIGEST-MD5 layers.
//!
//! Otherwise both ends of a connection run on one multi-thread runtime, as in a process that
//! is client and server at once, and tokio decides where each task runs. With two workers it
//! sometimes runs a sender and its receiver on the same worker for a while, and the other core
//! waits. Which rounds that happens in is chance: in session 5, counting the reads that ran on
//! the thread of the last write, the rounds that came out a fifth to two fifths slower were
//! the ones where a fifth to seven tenths of the reads did.
//!
//! Pinned, one core seals while the other unseals (one-way), or each core seals one direction
//! and unseals the other (duplex): the arrangement the DIGEST-MD5 primitives comparison
//! assumes, since the primitives are timed on one core for one direction's work.

use std::net::SocketAddr;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use stats_alloc::StatsAlloc;
use tokio::net::{TcpListener, TcpStream};

use super::error::{BenchError, BenchResult, io_err};
use super::flows::{receive_all, send_for};
use super::process;
use super::rounds::{Flow, Mark, Run};
use super::transport::{End, Impl, Reader, Tls, Writer, client_end, server_end};

/// What one side moved: bytes sent and received per connection, how long it took from the
/// moment both sides were connected, and the CPU time its thread spent meanwhile (None where
/// /proc/thread-self/schedstat cannot be read).
#[derive(Debug, Default)]
struct SideReport {
    sent: Vec<u64>,
    received: Vec<u64>,
    elapsed: Duration,
    cpu: Option<Duration>,
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
/// in all, the time taken, the process's CPU time and allocations from the moment both sides
/// were connected to the moment both were done, and each side's thread's CPU time while it
/// moved data.
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
        state: Mutex::new(Arrivals::default()),
        changed: Condvar::new(),
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
    let joined = |side: std::thread::Result<BenchResult<SideReport>>, name: &'static str| {
        side.map_err(|_| BenchError::Panicked { side: name })?
    };
    let (server, client) = (joined(server, "server")?, joined(client, "client")?);
    let mut total = 0;
    for (i, (&sent, &received)) in client.sent.iter().zip(&server.received).enumerate() {
        if sent != received {
            return Err(BenchError::Lost(format!(
                "connection {i}: the client sent {sent} bytes but {received} arrived"
            )));
        }
        total += received;
    }
    for (i, (&sent, &received)) in server.sent.iter().zip(&client.received).enumerate() {
        if sent != received {
            return Err(BenchError::Lost(format!(
                "connection {i}: the server sent {sent} bytes but {received} arrived"
            )));
        }
        total += received;
    }
    let [Some(start), Some(end)] = meeting.marks() else {
        return Err(BenchError::Stalled(
            "a pinned side did not reach the start or the end".into(),
        ));
    };
    let run = Run::between(total, server.elapsed.max(client.elapsed), &start, &end);
    Ok(run.with_sides(client.cpu.zip(server.cpu)))
}

/// Where the two sides meet: once both are connected (the clock starts) and once both are done
/// (the halves may be dropped). The side that completes a meeting marks the process's CPU time
/// and allocations there. A side waits a bounded time: if the other failed or panicked before
/// coming, it gives up with an error instead of waiting forever.
struct Meeting {
    state: Mutex<Arrivals>,
    changed: Condvar,
    alloc: &'static StatsAlloc<std::alloc::System>,
}

/// The two meetings: who has arrived, and the marks taken when both had.
#[derive(Default)]
struct Arrivals {
    arrived: [u8; 2],
    marks: [Option<Mark>; 2],
}

/// The meeting once both sides are connected.
const CONNECTED: usize = 0;
/// The meeting once both sides are done.
const FINISHED: usize = 1;

impl Meeting {
    fn meet(&self, point: usize, patience: Duration) -> BenchResult<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.arrived[point] += 1;
        if state.arrived[point] == 2 {
            state.marks[point] = Some(Mark::now(self.alloc));
            self.changed.notify_all();
            return Ok(());
        }
        let (_state, waited) = self
            .changed
            .wait_timeout_while(state, patience, |state| state.arrived[point] < 2)
            .unwrap_or_else(|p| p.into_inner());
        if waited.timed_out() {
            return Err(BenchError::Stalled(format!(
                "the other side did not arrive within {patience:?} (it failed or hung)"
            )));
        }
        Ok(())
    }

    fn marks(&self) -> [Option<Mark>; 2] {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).marks
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
/// How long a transfer may outlast the senders' duration (draining, closing).
const TRANSFER_GRACE: Duration = Duration::from_secs(30);

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
            Err(BenchError::Stalled(format!(
                "the server side did not connect in {CONNECT_TIMEOUT:?}"
            )))
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
            Err(BenchError::Stalled(format!(
                "the client side did not connect in {CONNECT_TIMEOUT:?}"
            )))
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
        // The other side may still be connecting: wait as long as it may take, and a little.
        let met = self
            .meeting
            .meet(CONNECTED, CONNECT_TIMEOUT + Duration::from_secs(5));
        let moved = match ends.and_then(|ends| met.map(|()| ends)) {
            Ok(ends) => self.move_data(ends, send, receive).await,
            Err(err) => Err(err),
        };
        let done = self
            .meeting
            .meet(FINISHED, self.job.duration + TRANSFER_GRACE);
        let moved = moved.and_then(|moved| done.map(|()| moved));
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
        // Every task of this side runs on this thread (a current-thread runtime).
        let cpu_at_start = process::thread_cpu_time();
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
        // Past the deadline, or at the first failure, every task still running is aborted: its
        // halves close, and the other side's tasks end instead of waiting on them.
        let deadline = tokio::time::sleep(self.job.duration + TRANSFER_GRACE);
        tokio::pin!(deadline);
        let mut report = SideReport::default();
        let collected = async {
            for task in senders.iter_mut() {
                let sent = task.await.map_err(|source| BenchError::Task {
                    task: "sender task",
                    source,
                })??;
                report.sent.push(sent);
            }
            for task in receivers.iter_mut() {
                let received = task.await.map_err(|source| BenchError::Task {
                    task: "receiver task",
                    source,
                })??;
                report.received.push(received);
            }
            Ok::<_, BenchError>(())
        };
        let outcome = tokio::select! {
            outcome = collected => outcome,
            () = &mut deadline => Err(BenchError::Stalled(format!(
                "the transfer did not end within {:?} of its duration",
                TRANSFER_GRACE
            ))),
        };
        if let Err(err) = outcome {
            for task in senders.iter().chain(&receivers) {
                task.abort();
            }
            return Err(err);
        }
        report.elapsed = start.elapsed();
        report.cpu = process::thread_cpu_time()
            .zip(cpu_at_start)
            .map(|(end, start)| end.saturating_sub(start));
        Ok((report, unused))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ALLOC: StatsAlloc<std::alloc::System> = StatsAlloc::system();

    fn meeting() -> Meeting {
        Meeting {
            state: Mutex::new(Arrivals::default()),
            changed: Condvar::new(),
            alloc: &ALLOC,
        }
    }

    #[test]
    fn a_side_left_alone_gives_up_instead_of_waiting_forever() {
        let meeting = meeting();
        let err = meeting
            .meet(CONNECTED, Duration::from_millis(50))
            .unwrap_err();
        assert!(matches!(err, BenchError::Stalled(_)), "{err:?}");
        assert!(err.to_string().contains("did not arrive"), "{err}");
        assert!(meeting.marks()[CONNECTED].is_none());
    }

    #[test]
    fn two_sides_meet_and_the_second_marks_the_moment() {
        let meeting = meeting();
        std::thread::scope(|scope| {
            let other = scope.spawn(|| meeting.meet(FINISHED, Duration::from_secs(10)));
            meeting.meet(FINISHED, Duration::from_secs(10)).unwrap();
            other.join().unwrap().unwrap();
        });
        assert!(meeting.marks()[FINISHED].is_some());
        assert!(meeting.marks()[CONNECTED].is_none());
    }
}
