//! Turns at the transport (`StreamBuilder::take_turns`): a read half polled while its write
//! half is inside a call to the transport yields (Pending, its task woken to be polled again)
//! without calling the transport; once the write returns it reads as usual; turned off, it
//! calls the transport at once, as it does over a transport that does not say its directions
//! share a lock. A write half polled while its read half is inside the transport yields too,
//! having accepted nothing.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use sealstream::stream::{ReuniteTransport, SplitTransport};
use sealstream::{ReadHalf, StreamBuilder, WriteHalf};
use sealstream_testkit::test_sealer::{TestSeal, TestUnseal, pair};
use sealstream_testkit::wakers::poll_counting;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Where a test transport's calls stop: each call announces itself on `inside` and waits for a
/// word on `go` before it returns.
#[derive(Clone)]
struct Gate {
    inside: SyncSender<()>,
    go: Arc<Mutex<Receiver<()>>>,
}

impl Gate {
    fn pass(&self) {
        self.inside.send(()).unwrap();
        self.go.lock().unwrap().recv().unwrap();
    }
}

/// Counts its calls; stops in them (at its gate) when it has one. `SHARED`: whether its
/// transport says its two directions share a lock.
struct GatedRead<const SHARED: bool> {
    calls: Arc<AtomicUsize>,
    gate: Option<Gate>,
}

struct GatedWrite {
    calls: Arc<AtomicUsize>,
    gate: Option<Gate>,
}

impl<const SHARED: bool> AsyncRead for GatedRead<SHARED> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            gate.pass();
        }
        // Nothing arrives in these tests; the task would be woken by the transport.
        Poll::Pending
    }
}

impl AsyncWrite for GatedWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            gate.pass();
        }
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A transport made of the two gated halves.
struct Gated<const SHARED: bool>(GatedRead<SHARED>, GatedWrite);

impl SplitTransport for Gated<true> {
    type Read = GatedRead<true>;
    type Write = GatedWrite;
    const DIRECTIONS_SHARE_A_LOCK: bool = true;
    fn split_transport(self) -> (Self::Read, GatedWrite) {
        (self.0, self.1)
    }
}

/// Says nothing of a lock: the trait's default.
impl SplitTransport for Gated<false> {
    type Read = GatedRead<false>;
    type Write = GatedWrite;
    fn split_transport(self) -> (Self::Read, GatedWrite) {
        (self.0, self.1)
    }
}

impl<const SHARED: bool> ReuniteTransport<GatedWrite> for GatedRead<SHARED> {
    type Output = Gated<SHARED>;
    fn reunite_transport(self, write: GatedWrite) -> Result<Gated<SHARED>, (Self, GatedWrite)> {
        Ok(Gated(self, write))
    }
}

impl<const SHARED: bool> AsyncRead for Gated<SHARED> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<const SHARED: bool> AsyncWrite for Gated<SHARED> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.1).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.1).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.1).poll_shutdown(cx)
    }
}

/// One poll of `f` with a waker that counts its wakes: (ready, wakes).
fn poll_once<T>(f: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> (bool, usize) {
    let (polled, wakes) = poll_counting(f);
    (polled.is_ready(), wakes)
}

struct Setup {
    reads: Arc<AtomicUsize>,
    writes: Arc<AtomicUsize>,
    inside: Receiver<()>,
    go: SyncSender<()>,
}

type TestSealer = (TestSeal, TestUnseal);

/// A gated transport, whose writes (or reads) stop at the gate.
fn gated<const SHARED: bool>(gate_writes: bool) -> (Gated<SHARED>, Setup) {
    let (inside_tx, inside) = sync_channel(1);
    let (go, go_rx) = sync_channel(1);
    let gate = Gate {
        inside: inside_tx,
        go: Arc::new(Mutex::new(go_rx)),
    };
    let (reads, writes) = (Arc::default(), Arc::default());
    let read = GatedRead::<SHARED> {
        calls: Arc::clone(&reads),
        gate: (!gate_writes).then(|| gate.clone()),
    };
    let write = GatedWrite {
        calls: Arc::clone(&writes),
        gate: gate_writes.then_some(gate),
    };
    let setup = Setup {
        reads,
        writes,
        inside,
        go,
    };
    (Gated(read, write), setup)
}

/// A sealed stream over `transport`, split.
fn split<T>(
    transport: T,
    take_turns: bool,
) -> (
    ReadHalf<T::Read, TestSealer>,
    WriteHalf<T::Write, TestSealer>,
)
where
    T: SplitTransport + AsyncRead + AsyncWrite + Unpin,
{
    let (client, _server) = pair(b"turns", 1024);
    StreamBuilder::new()
        .take_turns(take_turns)
        .build(transport, client)
        .into_split()
}

#[test]
fn a_read_waits_its_turn_while_the_write_half_is_inside_the_transport() {
    let (transport, setup) = gated::<true>(true);
    let (mut reader, mut writer) = split(transport, true);
    let writing = std::thread::spawn(move || {
        let (ready, _) = poll_once(|cx| Pin::new(&mut writer).poll_write(cx, b"hello"));
        assert!(ready, "the write goes through once the transport returns");
        writer
    });
    setup.inside.recv().unwrap();

    let mut buf = [0u8; 16];
    let (ready, wakes) =
        poll_once(|cx| Pin::new(&mut reader).poll_read(cx, &mut ReadBuf::new(&mut buf)));
    assert!(!ready);
    assert_eq!(wakes, 1, "a half that yields wakes itself");
    assert_eq!(
        setup.reads.load(Ordering::SeqCst),
        0,
        "no call into the transport"
    );

    setup.go.send(()).unwrap();
    let _writer = writing.join().unwrap();
    assert_eq!(setup.writes.load(Ordering::SeqCst), 1);
    let (ready, wakes) =
        poll_once(|cx| Pin::new(&mut reader).poll_read(cx, &mut ReadBuf::new(&mut buf)));
    assert!(!ready, "nothing has arrived");
    assert_eq!(wakes, 0, "waiting on the transport now, not yielding");
    assert_eq!(setup.reads.load(Ordering::SeqCst), 1);
}

/// The write half of `writer` stops inside the transport; a read polled then calls the
/// transport at once.
fn read_goes_in_beside_the_write<R, W>(
    mut reader: ReadHalf<R, TestSealer>,
    mut writer: WriteHalf<W, TestSealer>,
    setup: Setup,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let writing = std::thread::spawn(move || {
        let _ = poll_once(|cx| Pin::new(&mut writer).poll_write(cx, b"hello"));
    });
    setup.inside.recv().unwrap();

    let mut buf = [0u8; 16];
    let (ready, wakes) =
        poll_once(|cx| Pin::new(&mut reader).poll_read(cx, &mut ReadBuf::new(&mut buf)));
    assert!(!ready);
    assert_eq!(wakes, 0);
    assert_eq!(setup.reads.load(Ordering::SeqCst), 1);

    setup.go.send(()).unwrap();
    writing.join().unwrap();
}

#[test]
fn turned_off_a_read_calls_the_transport_while_the_write_half_is_inside() {
    let (transport, setup) = gated::<true>(true);
    let (reader, writer) = split(transport, false);
    read_goes_in_beside_the_write(reader, writer, setup);
}

#[test]
fn over_a_transport_whose_directions_share_no_lock_halves_never_yield() {
    let (transport, setup) = gated::<false>(true);
    let (reader, writer) = split(transport, true);
    read_goes_in_beside_the_write(reader, writer, setup);
}

#[test]
fn a_write_waits_its_turn_while_the_read_half_is_inside_the_transport() {
    let (transport, setup) = gated::<true>(false);
    let (mut reader, mut writer) = split(transport, true);
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 16];
        let _ = poll_once(|cx| Pin::new(&mut reader).poll_read(cx, &mut ReadBuf::new(&mut buf)));
        reader
    });
    setup.inside.recv().unwrap();

    let (ready, wakes) = poll_once(|cx| Pin::new(&mut writer).poll_write(cx, b"hello"));
    assert!(!ready, "nothing is accepted while the read half is inside");
    assert_eq!(wakes, 1);
    assert_eq!(setup.writes.load(Ordering::SeqCst), 0);

    setup.go.send(()).unwrap();
    let _reader = reading.join().unwrap();
    let (ready, _) = poll_once(|cx| Pin::new(&mut writer).poll_write(cx, b"hello"));
    assert!(ready, "the write goes through once the read has returned");
    assert_eq!(setup.writes.load(Ordering::SeqCst), 1);
}

/// A byte pattern that depends on its position, and write and read sizes that vary.
fn pattern(at: usize) -> u8 {
    (at.wrapping_mul(31) ^ (at >> 9)) as u8
}

fn sizes(seed: u64, max: usize) -> impl FnMut() -> usize {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        1 + (x as usize % max)
    }
}

/// Send `total` bytes of the pattern in writes of varying size, then close.
async fn send_all<W: tokio::io::AsyncWrite + Unpin>(mut w: W, total: usize, seed: u64) -> W {
    use tokio::io::AsyncWriteExt;
    let mut next = sizes(seed, 40_000);
    let mut sent = 0;
    while sent < total {
        let n = next().min(total - sent);
        let chunk: Vec<u8> = (sent..sent + n).map(pattern).collect();
        w.write_all(&chunk).await.unwrap();
        sent += n;
    }
    w.shutdown().await.unwrap();
    w
}

/// Read to the peer's close in reads of varying size, checking every byte.
async fn receive_all<R: tokio::io::AsyncRead + Unpin>(mut r: R, seed: u64) -> usize {
    use tokio::io::AsyncReadExt;
    let mut next = sizes(seed, 70_000);
    let mut buf = vec![0u8; 70_000];
    let mut got = 0;
    loop {
        let want = next();
        let n = r.read(&mut buf[..want]).await.unwrap();
        if n == 0 {
            return got;
        }
        for (i, b) in buf[..n].iter().enumerate() {
            assert_eq!(*b, pattern(got + i), "byte {} differs", got + i);
        }
        got += n;
    }
}

type TcpHalves = (
    ReadHalf<tokio::net::tcp::OwnedReadHalf, TestSealer>,
    WriteHalf<tokio::net::tcp::OwnedWriteHalf, TestSealer>,
);

/// The client's and the server's halves of a sealed connection over loopback TCP.
async fn split_over_tcp(seed: &[u8]) -> (TcpHalves, TcpHalves) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client_io, accepted) =
        tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    let (client_io, server_io) = (client_io.unwrap(), accepted.unwrap().0);
    let (client, server) = pair(seed, 16 * 1024);
    (
        StreamBuilder::new().build(client_io, client).into_split(),
        StreamBuilder::new().build(server_io, server).into_split(),
    )
}

/// Over TCP, on a runtime with more workers than halves, both ends' halves on tasks of their
/// own: every byte arrives both ways, in order, and both ends close cleanly, with the halves
/// taking turns at each socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_tcp_halves_taking_turns_move_every_byte_both_ways() {
    const TOTAL: usize = 8 << 20;
    let ((cr, cw), (sr, sw)) = split_over_tcp(b"turns over tcp").await;

    let tasks = [
        tokio::spawn(async move {
            send_all(cw, TOTAL, 1).await;
            TOTAL
        }),
        tokio::spawn(async move {
            send_all(sw, TOTAL, 2).await;
            TOTAL
        }),
        tokio::spawn(receive_all(cr, 3)),
        tokio::spawn(receive_all(sr, 4)),
    ];
    for task in tasks {
        assert_eq!(task.await.unwrap(), TOTAL);
    }
}

/// A peer that floods one-byte records keeps the read half going in and out of `recv`
/// back to back; the write half still gets its turns: 4 MiB go out while the flood runs, and
/// every byte of both arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_tiny_records_does_not_starve_the_write_half() {
    use std::sync::atomic::AtomicBool;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const TOTAL: usize = 4 << 20;
    let ((mut cr, cw), (sr, mut sw)) = split_over_tcp(b"flood").await;

    let stop = Arc::new(AtomicBool::new(false));
    let flood = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            let mut sent = 0usize;
            while !stop.load(Ordering::Relaxed) {
                sw.write_all(&[pattern(sent)]).await.unwrap();
                sent += 1;
            }
            sw.shutdown().await.unwrap();
            sent
        }
    });
    let flooded = tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let mut got = 0usize;
        loop {
            let n = cr.read(&mut buf).await.unwrap();
            if n == 0 {
                return got;
            }
            for (i, b) in buf[..n].iter().enumerate() {
                assert_eq!(*b, pattern(got + i));
            }
            got += n;
        }
    });
    let upload = tokio::spawn(send_all(cw, TOTAL, 5));
    let received = tokio::spawn(receive_all(sr, 6));
    let guard = std::time::Duration::from_secs(120);
    tokio::time::timeout(guard, upload)
        .await
        .expect("the write half was starved")
        .unwrap();
    assert_eq!(received.await.unwrap(), TOTAL);
    stop.store(true, Ordering::Relaxed);
    let sent = flood.await.unwrap();
    assert!(sent > 0);
    assert_eq!(flooded.await.unwrap(), sent);
}
