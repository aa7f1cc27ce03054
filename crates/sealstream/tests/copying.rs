//! Which records the write path hands to `Seal::seal_copying` (plaintext from one caller
//! buffer, so a sealer may copy it while it reads it) and which it gathers and seals in place,
//! and that both arrive intact.

use std::io::IoSlice;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sealstream::{Control, Error, Qop, RecordMut, Seal, SealedStream, StreamBuilder, StreamSizes};
use sealstream_testkit::test_sealer::{TestSeal, TestUnseal, pair};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

/// A client whose seal half counts.
type Client = SealedStream<DuplexStream, (Counting, TestUnseal)>;

/// Calls of each sealing method.
#[derive(Debug, Default)]
struct Calls {
    in_place: AtomicUsize,
    copying: AtomicUsize,
    /// The plaintext length of each copying call.
    copied: Mutex<Vec<usize>>,
}

/// A seal half that counts which method each record went through.
#[derive(Debug)]
struct Counting {
    inner: TestSeal,
    calls: Arc<Calls>,
}

impl Seal for Counting {
    fn sizes(&self) -> StreamSizes {
        self.inner.sizes()
    }

    fn seal(&mut self, qop: Qop, record: RecordMut<'_>) -> Result<usize, Error> {
        self.calls.in_place.fetch_add(1, Ordering::Relaxed);
        self.inner.seal(qop, record)
    }

    fn seal_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        record: RecordMut<'_>,
    ) -> Result<usize, Error> {
        self.calls.copying.fetch_add(1, Ordering::Relaxed);
        self.calls.copied.lock().unwrap().push(plaintext.len());
        // The trait's default on the inner half: copy, then the inner `seal`.
        self.inner.seal_copying(qop, plaintext, record)
    }

    fn seal_control(&mut self, control: &Control, out: &mut [u8]) -> Result<usize, Error> {
        self.inner.seal_control(control, out)
    }

    fn supports_control(&self, control: &Control) -> bool {
        self.inner.supports_control(control)
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        self.inner.supports_qop(qop)
    }

    fn sequence(&self) -> u64 {
        self.inner.sequence()
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 251) as u8).collect()
}

/// Write with `write`, then read everything back on the other side.
async fn send(max_message: usize, write: impl AsyncFnOnce(&mut Client)) -> (Vec<u8>, Arc<Calls>) {
    send_through(max_message, 1 << 20, None, write).await
}

/// [`send`] over a transport that holds `transport_buffer` bytes, with the client's write
/// buffer of `write_buffer` bytes (the default when `None`); the server reads as it goes.
async fn send_through(
    max_message: usize,
    transport_buffer: usize,
    write_buffer: Option<usize>,
    write: impl AsyncFnOnce(&mut Client),
) -> (Vec<u8>, Arc<Calls>) {
    let ((client_seal, client_unseal), (server_seal, server_unseal)) =
        pair(b"copying test seed", max_message);
    let calls = Arc::new(Calls::default());
    let (a, b) = duplex(transport_buffer);
    let builder = match write_buffer {
        Some(bytes) => StreamBuilder::new().write_buffer(bytes),
        None => StreamBuilder::new(),
    };
    let mut client = builder.build(
        a,
        (
            Counting {
                inner: client_seal,
                calls: calls.clone(),
            },
            client_unseal,
        ),
    );
    let mut server = SealedStream::new(b, (server_seal, server_unseal));
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        got
    });
    write(&mut client).await;
    client.shutdown().await.unwrap();
    (reader.await.unwrap(), calls)
}

#[tokio::test]
async fn records_cut_from_one_buffer_are_sealed_while_copied() {
    let data = pattern(1050);
    let sent = data.clone();
    let (got, calls) = send(100, async move |client| {
        client.write_all(&sent).await.unwrap();
    })
    .await;
    assert_eq!(got, data);
    // Eleven records of at most 100 bytes, every one from the caller's buffer.
    assert_eq!(calls.copying.load(Ordering::Relaxed), 11);
    assert_eq!(calls.in_place.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn records_gathered_from_several_buffers_are_copied_then_sealed() {
    let parts: [&[u8]; 3] = [b"one ", b"two ", b"three"];
    let (got, calls) = send(100, async move |client| {
        let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        assert_eq!(client.write_vectored(&slices).await.unwrap(), 13);
    })
    .await;
    assert_eq!(got, b"one two three");
    assert_eq!(calls.copying.load(Ordering::Relaxed), 0);
    assert_eq!(calls.in_place.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_long_first_buffer_is_copied_while_sealed_and_the_rest_gathered() {
    // 150 bytes, then two short buffers: a full record from the first, then one record
    // gathering the first's last 50 bytes and both short ones.
    let first = pattern(150);
    let mut expected = first.clone();
    expected.extend_from_slice(b"abcdef");
    let (got, calls) = send(100, async move |client| {
        let slices = [
            IoSlice::new(&first),
            IoSlice::new(b"abc"),
            IoSlice::new(b"def"),
        ];
        let mut done = 0;
        while done < 156 {
            // Each call takes what the buffer has room for; resume where it stopped.
            let mut rest = Vec::new();
            let mut skip = done;
            for s in &slices {
                if skip >= s.len() {
                    skip -= s.len();
                } else {
                    rest.push(IoSlice::new(&s[skip..]));
                    skip = 0;
                }
            }
            done += client.write_vectored(&rest).await.unwrap();
        }
    })
    .await;
    assert_eq!(got, expected);
    assert_eq!(calls.copying.load(Ordering::Relaxed), 1);
    assert_eq!(calls.in_place.load(Ordering::Relaxed), 1);
}

#[test]
fn the_default_refuses_a_plaintext_of_the_wrong_length_and_seals_nothing() {
    let ((mut seal, _), _) = pair(b"copying test seed", 100);
    let mut buf = vec![0u8; seal.sizes().max_record()];
    let header = seal.sizes().header;
    let err = seal
        .seal_copying(
            Qop::Default,
            b"four",
            RecordMut::new(&mut buf, header, 5).unwrap(),
        )
        .unwrap_err();
    assert_eq!(err.status(), sealstream::Status::InternalError);
    assert_eq!(seal.sequence(), 0);
}

#[tokio::test]
async fn a_record_cut_short_by_the_write_buffer_is_sealed_while_copied() {
    // A write buffer of two full records and 37 bytes over a transport that takes 64 bytes at
    // a time: records are sealed while earlier ones wait, and the last one that fits is cut
    // to the room left, shorter than the 100 bytes a record may carry.
    let sizes = pair(b"copying test seed", 100).0.0.sizes();
    let buffer = 2 * sizes.record_len(100) + 37;
    let data = pattern(5000);
    let sent = data.clone();
    let (got, calls) = send_through(100, 64, Some(buffer), async move |client| {
        client.write_all(&sent).await.unwrap();
    })
    .await;
    assert_eq!(got, data);
    let copied = calls.copied.lock().unwrap().clone();
    assert_eq!(copied.iter().sum::<usize>(), 5000);
    assert_eq!(calls.in_place.load(Ordering::Relaxed), 0);
    assert!(
        copied.iter().any(|&n| n < 100),
        "no record was cut by the buffer: {copied:?}"
    );
}
