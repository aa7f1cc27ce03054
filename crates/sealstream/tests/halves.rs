//! The owned halves: sealing and unsealing overlap in time on two threads, `reunite` works for
//! matching halves and hands mismatched ones back, and the read half reaches the write half only
//! through the control path.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sealstream::{
    AlertCode, Control, Error, Qop, RecordMut, Seal, SealedStream, Status, StreamSizes, Unseal,
    Unsealed,
};
use sealstream_testkit::connect;
use sealstream_testkit::test_sealer::{BAD_RECORD_MAC, TestSeal, TestUnseal, pair};
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

/// Both sides must be inside their sealer call at the same moment, or the first to arrive gives
/// up after a timeout. If the halves were serialised (a lock around the sealer or the stream)
/// the two calls could never overlap and the test fails.
#[derive(Default)]
struct Rendezvous {
    inside: Mutex<(bool, bool)>,
    cv: Condvar,
}

impl Rendezvous {
    /// Mark `side` inside, wait for the other side to be inside too. Returns whether they met.
    fn meet(&self, sealing: bool) -> bool {
        let mut inside = self.inside.lock().unwrap();
        if sealing {
            inside.0 = true;
        } else {
            inside.1 = true;
        }
        self.cv.notify_all();
        let (inside, timeout) = self
            .cv
            .wait_timeout_while(inside, Duration::from_secs(20), |s| !(s.0 && s.1))
            .unwrap();
        drop(inside);
        !timeout.timed_out()
    }
}

struct MeetingSeal(TestSeal, Arc<Rendezvous>, Arc<Mutex<Vec<bool>>>);
struct MeetingUnseal(TestUnseal, Arc<Rendezvous>, Arc<Mutex<Vec<bool>>>);

impl Seal for MeetingSeal {
    fn sizes(&self) -> StreamSizes {
        self.0.sizes()
    }
    fn seal(&mut self, qop: Qop, record: RecordMut<'_>) -> Result<usize, Error> {
        let met = self.1.meet(true);
        self.2.lock().unwrap().push(met);
        self.0.seal(qop, record)
    }
    fn seal_control(&mut self, c: &Control, out: &mut [u8]) -> Result<usize, Error> {
        self.0.seal_control(c, out)
    }
    fn supports_control(&self, c: &Control) -> bool {
        self.0.supports_control(c)
    }
    fn sequence(&self) -> u64 {
        self.0.sequence()
    }
}

impl Unseal for MeetingUnseal {
    fn max_record(&self) -> usize {
        self.0.max_record()
    }
    fn unseal(&mut self, input: &mut [u8]) -> Result<Unsealed, Error> {
        let outcome = self.0.unseal(input)?;
        if matches!(outcome, Unsealed::Data { .. }) {
            let met = self.1.meet(false);
            self.2.lock().unwrap().push(met);
        }
        Ok(outcome)
    }
    fn signals_close(&self) -> bool {
        true
    }
    fn sequence(&self) -> u64 {
        self.0.sequence()
    }
}

#[test]
fn seal_and_unseal_overlap_on_two_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client_io, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let (client_io, server_io) = (client_io.unwrap(), accepted.unwrap().0);

        let ((cs, cu), server) = pair(b"overlap", 1024);
        let meeting = Arc::new(Rendezvous::default());
        let met = Arc::new(Mutex::new(Vec::new()));
        let client = SealedStream::new(
            client_io,
            (
                MeetingSeal(cs, meeting.clone(), met.clone()),
                MeetingUnseal(cu, meeting.clone(), met.clone()),
            ),
        );
        let mut server = SealedStream::new(server_io, server);
        // The server's record is on its way before the client's halves start.
        server.write_all(b"to the client").await.unwrap();
        server.flush().await.unwrap();

        let (mut reader, mut writer) = client.into_split();
        let read_task = tokio::spawn(async move {
            let mut got = [0u8; 13];
            reader.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"to the client");
            reader
        });
        let write_task = tokio::spawn(async move {
            writer.write_all(b"to the server").await.unwrap();
            writer.flush().await.unwrap();
            writer
        });
        let mut got = [0u8; 13];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"to the server");
        let (reader, writer) = (read_task.await.unwrap(), write_task.await.unwrap());
        assert_eq!(
            *met.lock().unwrap(),
            vec![true, true],
            "seal and unseal never overlapped"
        );
        reader.reunite(writer).expect("same stream");
    });
}

#[tokio::test]
async fn reunite_matching_tcp_halves_and_keep_going() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (c, s) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    let (client, mut server) = connect(c.unwrap(), s.unwrap().0, 1024);
    let (r, mut w) = client.into_split();
    w.write_all(b"before").await.unwrap();
    w.flush().await.unwrap();
    let mut client = r.reunite(w).expect("matching halves reunite");
    client.write_all(b" after").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    server.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"before after");
}

#[tokio::test]
async fn reunite_mismatched_halves_hands_both_back() {
    let (a1, b1) = duplex(4096);
    let (a2, b2) = duplex(4096);
    let (one, mut peer1) = connect(a1, b1, 1024);
    let (two, _peer2) = connect(a2, b2, 1024);
    let (r1, w1) = one.into_split_locked();
    let (r2, w2) = two.into_split_locked();
    let err = r1.reunite(w2).expect_err("halves of different streams");
    assert!(err.to_string().contains("not from the same sealed stream"));
    let sealstream::stream::ReuniteError(r1, w2) = err;
    // The halves still work, and go back with their own partners.
    let mut one = w1.reunite(r1).expect("own halves");
    let _two = r2.reunite(w2).expect("own halves");
    one.write_all(b"still fine").await.unwrap();
    one.flush().await.unwrap();
    let mut got = [0u8; 10];
    peer1.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"still fine");
}

#[cfg(unix)]
#[tokio::test]
async fn unix_stream_splits_without_a_lock() {
    let (a, b) = tokio::net::UnixStream::pair().unwrap();
    let (client, mut server) = connect(a, b, 1024);
    let (mut r, mut w) = client.into_split();
    let _: &tokio::net::unix::OwnedWriteHalf = w.get_ref();
    server.write_all(b"ping").await.unwrap();
    server.flush().await.unwrap();
    let mut got = [0u8; 4];
    r.read_exact(&mut got).await.unwrap();
    w.write_all(b"pong").await.unwrap();
    w.shutdown().await.unwrap();
    let mut back = Vec::new();
    server.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"pong");
}

#[tokio::test]
async fn key_update_request_is_answered_by_the_write_half() {
    let (a, b) = duplex(1 << 16);
    let (client, mut server) = connect(a, b, 1024);
    let (mut reader, mut writer) = client.into_split_locked();

    // The server asks for a key update; its own key moves on after the request.
    server
        .queue_control(Control::KeyUpdate {
            update_requested: true,
        })
        .unwrap();
    server.write_all(b"new keys").await.unwrap();
    server.flush().await.unwrap();

    let mut got = [0u8; 8];
    reader.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"new keys");
    assert_eq!(reader.unseal_half().key_updates, 1);
    // The reader did not write: the answer waits for the writer, which is told.
    assert!(writer.has_pending_control());
    tokio::time::timeout(Duration::from_secs(5), writer.pending_control())
        .await
        .expect("writer is ready to send the answer");
    let seq_before = writer.seal_half().sequence();
    writer.write_all(b"under the new key").await.unwrap();
    writer.flush().await.unwrap();
    assert!(!writer.has_pending_control());
    assert_eq!(
        writer.seal_half().sequence(),
        seq_before + 2,
        "key update then data"
    );

    // The server can only read this if the update came first, under the old key.
    let mut got = [0u8; 17];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"under the new key");
    assert_eq!(server.unseal_half().key_updates, 1);
}

#[tokio::test]
async fn pending_control_wakes_an_idle_writer() {
    let (a, b) = duplex(1 << 16);
    let (client, mut server) = connect(a, b, 1024);
    let (mut reader, writer) = client.into_split_locked();
    let waiter = tokio::spawn(async move {
        writer.pending_control().await;
        writer
    });
    tokio::task::yield_now().await;
    server
        .queue_control(Control::KeyUpdate {
            update_requested: true,
        })
        .unwrap();
    server.flush().await.unwrap();
    server.write_all(b"x").await.unwrap();
    server.flush().await.unwrap();
    let mut one = [0u8; 1];
    reader.read_exact(&mut one).await.unwrap();
    let mut writer = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("woken")
        .unwrap();
    writer.flush().await.unwrap();
    assert_eq!(writer.seal_half().sequence(), 1, "the key update was sent");
}

#[tokio::test]
async fn a_failed_record_sends_the_fatal_alert_through_the_writer() {
    let (a, b) = duplex(1 << 16);
    let (client, mut server) = connect(a, b, 1024);
    let (mut reader, mut writer) = client.into_split_locked();

    // Corrupt the server's record on its way: write it by hand with one bit flipped.
    let ((_, _), (mut server_seal, _)) = pair(b"sealstream test seed", 1024);
    let mut record = vec![0u8; 1024 + 27];
    let n =
        sealstream::seal_message(&mut server_seal, Qop::Default, b"tampered", &mut record).unwrap();
    record[n - 1] ^= 1;
    server.get_mut().write_all(&record[..n]).await.unwrap();

    let err = reader.read(&mut [0u8; 16]).await.unwrap_err();
    assert_eq!(
        Error::from_io(&err).unwrap().status(),
        Status::MessageAltered
    );
    assert!(writer.has_pending_control());
    // Shutting down sends the alert first, then the close.
    writer.shutdown().await.unwrap();

    let err = server.read(&mut [0u8; 16]).await.unwrap_err();
    let err = Error::from_io(&err).unwrap();
    assert_eq!(err.status(), Status::IllegalMessage);
    assert!(
        err.detail()
            .contains(&AlertCode::fatal(BAD_RECORD_MAC).to_string()),
        "{err}"
    );
}

/// Whether the transport's far end has seen the end of our sending direction. A Unix socket's
/// shutdown reaches the peer within the system call, so the answer does not depend on timing.
fn peer_saw_end(peer: &tokio::net::UnixStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match peer.try_read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn dropping_a_write_half_closes_nothing_until_the_read_half_goes_too() {
    // One behaviour for both ways of splitting: the dropped write half sends nothing and the
    // transport stays open while the read half lives.
    for locked in [false, true] {
        let (a, peer) = tokio::net::UnixStream::pair().unwrap();
        let (client, _) = pair(b"k", 1024);
        let stream = sealstream::SealedStream::new(a, client);
        let (read, mut write): (Box<dyn std::any::Any>, _) = if locked {
            let (r, w) = stream.into_split_locked();
            (
                Box::new(r),
                Box::new(w) as Box<dyn tokio::io::AsyncWrite + Unpin>,
            )
        } else {
            let (r, w) = stream.into_split();
            (
                Box::new(r),
                Box::new(w) as Box<dyn tokio::io::AsyncWrite + Unpin>,
            )
        };
        write.write_all(b"sent").await.unwrap();
        write.flush().await.unwrap();
        drop(write);
        // The record makes the peer readable: its reads below reach the socket (tokio answers
        // WouldBlock without a system call until the reactor has seen readiness).
        peer.readable().await.unwrap();
        assert!(
            !peer_saw_end(&peer),
            "dropping the write half closed the transport (locked: {locked})"
        );
        drop(read);
        peer.readable().await.unwrap();
        assert!(peer_saw_end(&peer), "locked: {locked}");
    }
}

/// A layer over a layer (a SASL layer inside TLS) splits without a lock: each outer half owns
/// the inner stream's half of its direction. Both directions carry data at once, and the halves
/// reunite into the nested stream, which keeps going.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_over_a_layer_splits_without_a_lock() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (c, s) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    let (inner_client, inner_server) = connect(c.unwrap(), s.unwrap().0, 1024);
    let (outer_c, outer_s) = pair(b"the outer layer", 700);
    let client = SealedStream::new(inner_client, outer_c);
    let server = SealedStream::new(inner_server, outer_s);

    let (mut r, mut w) = client.into_split();
    // The outer write half holds the inner stream's write half, over TCP's owned write half.
    let _: &sealstream::stream::WriteHalf<tokio::net::tcp::OwnedWriteHalf, _> = w.get_ref();
    let up: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let down: Vec<u8> = (0..150_000u32).map(|i| (i % 241) as u8).collect();
    let (up2, down2) = (up.clone(), down.clone());
    let writer = tokio::spawn(async move {
        w.write_all(&up2).await.unwrap();
        w.flush().await.unwrap();
        w
    });
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; down2.len()];
        r.read_exact(&mut got).await.unwrap();
        assert!(got == down2, "the server's bytes arrive intact");
        r
    });
    let (mut sr, mut sw) = server.into_split();
    let mut got = vec![0u8; up.len()];
    let (read, wrote) = tokio::join!(sr.read_exact(&mut got), async {
        sw.write_all(&down).await?;
        sw.flush().await
    });
    read.unwrap();
    wrote.unwrap();
    assert!(got == up, "the client's bytes arrive intact");
    let mut server = sr.reunite(sw).expect("the server's halves");
    let (r, w) = (reader.await.unwrap(), writer.await.unwrap());
    let mut client = r.reunite(w).expect("the halves of one nested stream");
    client.write_all(b"reunited").await.unwrap();
    client.flush().await.unwrap();
    let mut last = [0u8; 8];
    server.read_exact(&mut last).await.unwrap();
    assert_eq!(&last, b"reunited");
}
