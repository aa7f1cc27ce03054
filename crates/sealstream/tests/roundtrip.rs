//! Data goes through a sealed stream unchanged, whatever the transport does: short reads and
//! writes, forced `Pending`, vectored writes, records of every size; and it is really sealed.

use std::io::IoSlice;

use sealstream::{Control, Error, Qop, Status};
use sealstream_testkit::mock_io::ChunkedIo;
use sealstream_testkit::test_sealer::{HEADER, TAG, TYPE_DATA, TYPE_DATA_CLEAR};
use sealstream_testkit::{TestStream, connect};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, duplex};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Send `data` from client to server and back, then close both ways; both sides must see
/// exactly the bytes and a clean end.
async fn echo_once<T>(client: TestStream<T>, server: TestStream<T>, data: Vec<u8>)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let len = data.len();
    let server_task = tokio::spawn(async move {
        let mut server = server;
        let mut got = vec![0u8; len];
        server.read_exact(&mut got).await.expect("server reads");
        server.write_all(&got).await.expect("server writes");
        server.shutdown().await.expect("server closes");
        let mut rest = Vec::new();
        server
            .read_to_end(&mut rest)
            .await
            .expect("client's close is clean");
        assert!(rest.is_empty());
    });
    let mut client = client;
    let (mut r, mut w) = tokio::io::split(&mut client);
    let send = async {
        w.write_all(&data).await.expect("client writes");
        w.flush().await.expect("client flushes");
    };
    let mut back = Vec::new();
    let recv = r.read_to_end(&mut back);
    let ((), n) = tokio::join!(send, recv);
    assert_eq!(n.expect("server's close is clean"), len);
    assert!(back == data, "bytes came back changed");
    client.shutdown().await.expect("client closes");
    server_task.await.expect("server task");
}

#[tokio::test]
async fn round_trip_over_duplex() {
    for len in [0, 1, 100, 1000, 16 * 1024, 16 * 1024 + 1, 200_000] {
        let (a, b) = duplex(64 * 1024);
        let (client, server) = connect(a, b, 16 * 1024);
        echo_once(client, server, pattern(len)).await;
    }
}

#[tokio::test]
async fn round_trip_one_byte_at_a_time_with_pending() {
    let (a, b) = duplex(1024);
    let (client, server) = connect(ChunkedIo::trickle(a), ChunkedIo::trickle(b), 300);
    echo_once(client, server, pattern(5000)).await;
}

#[tokio::test]
async fn round_trip_short_writes_long_reads() {
    let (a, b) = duplex(4096);
    let a = ChunkedIo::new(a, vec![70_000], vec![7, 1, 300], vec![false, true, false]);
    let b = ChunkedIo::new(b, vec![3, 5000], vec![1000], vec![true, false, false]);
    let (client, server) = connect(a, b, 1000);
    echo_once(client, server, pattern(50_000)).await;
}

#[tokio::test]
async fn records_are_sealed_not_plain() {
    let (a, mut b) = duplex(64 * 1024);
    let (mut client, _) = connect(a, tokio::io::empty(), 16 * 1024);
    let secret = b"attack at dawn, attack at dawn";
    client.write_all(secret).await.unwrap();
    client.flush().await.unwrap();
    let mut wire = vec![0u8; HEADER + secret.len() + TAG];
    b.read_exact(&mut wire).await.unwrap();
    assert_eq!(wire[0], TYPE_DATA);
    assert!(
        !wire.windows(6).any(|w| w == b"attack"),
        "plaintext visible on the wire"
    );
}

#[tokio::test]
async fn max_message_cuts_records() {
    let (a, mut b) = duplex(1 << 20);
    let (mut client, _) = connect(a, tokio::io::empty(), 100);
    client.write_all(&pattern(1050)).await.unwrap();
    client.flush().await.unwrap();
    drop(client);
    let mut wire = Vec::new();
    b.read_to_end(&mut wire).await.unwrap();
    let mut lens = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let len = u16::from_be_bytes([wire[at + 1], wire[at + 2]]) as usize;
        lens.push(len);
        at += HEADER + len + TAG;
    }
    assert_eq!(at, wire.len());
    assert_eq!(lens.iter().sum::<usize>(), 1050);
    assert!(
        lens.iter().all(|&l| l <= 100),
        "record above max_message: {lens:?}"
    );
}

#[tokio::test]
async fn vectored_writes_gather_slices_into_one_record() {
    let (a, mut b) = duplex(1 << 16);
    let (mut client, _) = connect(a, tokio::io::empty(), 16 * 1024);
    assert!(client.is_write_vectored());
    let parts: [&[u8]; 3] = [b"one ", b"two ", b"three"];
    let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    let n = client.write_vectored(&slices).await.unwrap();
    assert_eq!(n, 13);
    client.flush().await.unwrap();
    drop(client);
    let mut wire = Vec::new();
    b.read_to_end(&mut wire).await.unwrap();
    assert_eq!(wire.len(), HEADER + 13 + TAG, "one record for three slices");
}

#[tokio::test]
async fn integrity_only_leaves_payload_readable_but_authenticated() {
    let (a, b) = duplex(1 << 16);
    let (mut client, mut server) = connect(a, b, 16 * 1024);
    client.set_qop(Qop::IntegrityOnly).unwrap();
    client.write_all(b"visible but signed").await.unwrap();
    client.flush().await.unwrap();
    let mut got = vec![0u8; 18];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"visible but signed");

    // On the wire the payload is clear, with the integrity-only record type.
    let (c, mut wire_end) = duplex(1 << 16);
    let (mut client, _) = connect(c, tokio::io::empty(), 16 * 1024);
    client.set_qop(Qop::IntegrityOnly).unwrap();
    client.write_all(b"visible but signed").await.unwrap();
    client.flush().await.unwrap();
    let mut wire = vec![0u8; HEADER + 18 + TAG];
    wire_end.read_exact(&mut wire).await.unwrap();
    assert_eq!(wire[0], TYPE_DATA_CLEAR);
    assert_eq!(&wire[HEADER..HEADER + 18], b"visible but signed");
}

#[tokio::test]
async fn out_of_band_qop_is_for_alerts_only() {
    let (a, _b) = duplex(1024);
    let (mut client, _) = connect(a, tokio::io::empty(), 1024);
    let err = client.set_qop(Qop::OutOfBand).unwrap_err();
    assert_eq!(err.status(), Status::QopNotSupported);
}

#[tokio::test]
async fn write_after_shutdown_is_context_expired() {
    let (a, _b) = duplex(1024);
    let (mut client, _) = connect(a, tokio::io::empty(), 1024);
    client.shutdown().await.unwrap();
    client.shutdown().await.expect("shutdown twice is fine");
    let err = client.write_all(b"late").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    assert_eq!(
        Error::from_io(&err).map(Error::status),
        Some(Status::ContextExpired)
    );
}

#[tokio::test]
async fn warning_alert_is_consumed_and_data_continues() {
    let (a, b) = duplex(1 << 16);
    let (mut client, mut server) = connect(a, b, 1024);
    client
        .queue_control(Control::Alert(sealstream::AlertCode {
            level: sealstream::AlertCode::WARNING,
            description: 90,
        }))
        .unwrap();
    client.write_all(b"after the warning").await.unwrap();
    client.flush().await.unwrap();
    let mut got = vec![0u8; 17];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"after the warning");
    assert_eq!(server.unseal_half().warnings, 1);
}

#[tokio::test(start_paused = true)]
async fn idle_buffers_are_released() {
    let (a, b) = duplex(1 << 16);
    let (mut client, mut server) = connect(a, b, 16 * 1024);
    client.write_all(&pattern(40_000)).await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(
        client.buffered_capacity().1,
        0,
        "write buffer kept after flush"
    );
    // Most of it: the last record's plaintext is still to be handed out, so the buffer stays.
    let mut got = vec![0u8; 39_999];
    server.read_exact(&mut got).await.unwrap();
    assert!(server.buffered_capacity().0 > 0);
    // The rest: nothing unread is left, so the buffer goes back before any further read, as a
    // connection held by a pool (and not polled) would find it.
    server.read_exact(&mut got[..1]).await.unwrap();
    assert_eq!(
        server.buffered_capacity().0,
        0,
        "read buffer kept with nothing unread in it"
    );
    // Nothing more to read: the read half parks without taking one. (Time is paused: the
    // timeout fires as soon as the read is parked, whatever the machine is doing.)
    let mut one = [0u8; 1];
    let parked =
        tokio::time::timeout(std::time::Duration::from_millis(20), server.read(&mut one)).await;
    assert!(parked.is_err(), "nothing was sent");
    assert_eq!(
        server.buffered_capacity().0,
        0,
        "read buffer kept while idle"
    );
}

/// A read that drains the buffer looks at the transport once more: a bulk reader, with more
/// waiting, keeps its buffer (giving it back would cost a trip through the pool per buffer),
/// and a reader that took the last message gives it back there and then.
#[tokio::test]
async fn a_drained_read_keeps_its_buffer_only_while_more_is_waiting() {
    // 1024-byte records (11-byte header, 997-byte payload, 16-byte tag): 64 of them fill the 64
    // KiB read buffer exactly, so a read that fills it ends on a record boundary.
    use sealstream_testkit::test_sealer::{HEADER, TAG};
    let payload = 1024 - HEADER - TAG;
    let (a, b) = duplex(1 << 20);
    let (mut client, mut server) = connect(a, b, payload);
    let data = pattern(payload * 64 * 3);
    client.write_all(&data).await.unwrap();
    client.flush().await.unwrap();
    let mut got = vec![0u8; payload * 64];
    let chunks: Vec<&[u8]> = data.chunks(payload * 64).collect();
    for (i, part) in chunks.iter().enumerate() {
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..], *part);
        let kept = server.buffered_capacity().0;
        if i + 1 < chunks.len() {
            assert_eq!(kept, 64 * 1024, "a busy reader gave its buffer back");
        } else {
            assert_eq!(kept, 0, "the last message's reader kept its buffer");
        }
    }
    // The last message was not followed by a read: what a pool or a busy server holds.
    client.write_all(b"later").await.unwrap();
    client.flush().await.unwrap();
    let mut later = [0u8; 5];
    server.read_exact(&mut later).await.unwrap();
    assert_eq!(&later, b"later");
}

#[tokio::test]
async fn buffers_can_be_kept() {
    let (a, b) = duplex(1 << 16);
    let ((cs, cu), (ss, su)) = sealstream_testkit::test_sealer::pair(b"k", 1024);
    let mut client = sealstream::StreamBuilder::new()
        .release_idle_buffers(false)
        .build(a, (cs, cu));
    let _server: TestStream<DuplexStream> = sealstream::SealedStream::new(b, (ss, su));
    client.write_all(b"x").await.unwrap();
    client.flush().await.unwrap();
    assert!(client.buffered_capacity().1 > 0);
}

#[tokio::test]
async fn handshake_leftovers_come_first() {
    // A handshake that read past its last message hands over the extra records and any
    // plaintext it already unsealed; the stream delivers them in order before reading more.
    let wire = sealstream_testkit::client_wire(&[b" then records"], false, 1024);
    let (extra, rest) = wire.bytes.split_at(wire.records[0].start + 5);
    let (_, server) = sealstream_testkit::test_sealer::pair(b"sealstream test seed", 1024);
    let mut stream = sealstream::StreamBuilder::new()
        .leftover_plaintext(b"early data".to_vec())
        .leftover_ciphertext(extra.to_vec())
        .eof_policy(sealstream::EofPolicy::CleanEnd)
        .build(sealstream_testkit::mock_io::scripted(rest.to_vec()), server);
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"early data then records");
}

#[tokio::test]
async fn one_read_takes_many_records_and_one_write_sends_many() {
    let (a, b) = duplex(1 << 20);
    let (client, server) = connect(
        ChunkedIo::new(a, vec![], vec![], vec![]),
        ChunkedIo::new(b, vec![], vec![], vec![]),
        1000,
    );
    let (mut client, mut server) = (client, server);
    // 20 records of 1000 bytes in one vectored call: sealed end to end, written at once.
    client.write_all(&pattern(20_000)).await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(
        client.get_ref().write_calls(),
        1,
        "records were not coalesced"
    );
    let mut got = vec![0u8; 20_000];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(got, pattern(20_000));
    assert_eq!(
        server.get_ref().read_calls(),
        1,
        "records were not read together"
    );
}

/// The write buffer is sized in plaintext: 64 KiB of it, in records of at most 16 KiB, is four
/// full records, and the buffer holds all four sealed, so the write is one transport write of
/// four full records, not three, a shortened fourth and a sliver after it.
#[tokio::test]
async fn a_write_of_the_buffer_size_goes_out_in_one_transport_write() {
    let (a, b) = duplex(1 << 20);
    let (mut client, mut server) = connect(
        ChunkedIo::new(a, vec![], vec![], vec![]),
        ChunkedIo::new(b, vec![], vec![], vec![]),
        16 * 1024,
    );
    let data = pattern(64 * 1024);
    client.write_all(&data).await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(client.get_ref().write_calls(), 1, "a 64 KiB write was cut");
    let mut got = vec![0u8; data.len()];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(got, data);
    // Four records: the receiver's next sequence number.
    assert_eq!(
        sealstream::Unseal::sequence(server.unseal_half()),
        4,
        "records were shortened"
    );
}

#[tokio::test]
async fn an_empty_leftover_holds_no_memory() {
    // A handshake hands over its input buffer; empty, it must not stay allocated.
    let (a, _b) = duplex(1024);
    let (_, server) = sealstream_testkit::test_sealer::pair(b"k", 1024);
    let stream = sealstream::StreamBuilder::new()
        .leftover_ciphertext(Vec::with_capacity(16 * 1024))
        .leftover_plaintext(Vec::with_capacity(16 * 1024))
        .build(a, server);
    assert_eq!(
        stream.buffered_capacity(),
        (0, 0),
        "empty leftovers were kept"
    );
}

/// Time is paused on this test's runtime: the gaps between messages are exactly zero and the
/// quiet spell exactly 40 ms, however slow the machine, so the counts below are exact.
#[tokio::test(start_paused = true)]
async fn each_direction_tells_its_sealer_when_it_goes_quiet_but_not_while_chatty() {
    use std::time::Duration;
    let (a, b) = duplex(64 * 1024);
    let (mut client, mut server) = connect(a, b, 16 * 1024);
    let mut got = [0u8; 5];
    assert_eq!(client.seal_half().idle_releases, 0);

    // The first flush empties the write buffer: the seal half may drop what it can rebuild.
    client.write_all(b"hello").await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(client.seal_half().idle_releases, 1);
    server.read_exact(&mut got).await.unwrap();
    // Everything received was handed out: the read half went idle there, without waiting for
    // a read to find the transport empty (a connection held by a pool is never read again).
    assert_eq!(server.unseal_half().idle_releases, 1);
    // Nothing more to read: the read half parks with its buffer empty, and has nothing more
    // to release.
    // (Polled once: a read polled again by a timer would wake and go idle a second time.)
    let mut more = [0u8; 1];
    {
        use std::future::Future;
        let mut read = std::pin::pin!(server.read(&mut more));
        let once = std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx))).await;
        assert!(once.is_pending(), "no data was sent");
    }
    assert_eq!(server.unseal_half().idle_releases, 1);

    // Messages right after each other: after two short idle gaps the sender still releases (a
    // message or two and then silence is common); from the third in a row the connection is
    // chatty and keeps its keys.
    for _ in 0..6 {
        client.write_all(b"again").await.unwrap();
        client.flush().await.unwrap();
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"again");
    }
    assert_eq!(client.seal_half().idle_releases, 3);

    // After a quiet spell longer than the chatty gap, going idle releases again.
    tokio::time::sleep(Duration::from_millis(40)).await;
    client.write_all(b"later").await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(client.seal_half().idle_releases, 4);
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"later");
}

/// A receiver can tell sealed records from signed-only ones: the weakest protection received
/// is `Confidential` while every record was sealed and `IntegrityOnly` from the first one sent
/// with `Qop::IntegrityOnly` on, whatever follows.
#[tokio::test]
async fn the_reader_sees_the_weakest_protection_received() {
    use sealstream::Protection;
    let (a, b) = duplex(1 << 16);
    let (mut client, mut server) = connect(a, b, 1024);
    assert_eq!(server.weakest_protection(), None);
    let mut got = [0u8; 6];
    client.write_all(b"sealed").await.unwrap();
    client.flush().await.unwrap();
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(server.weakest_protection(), Some(Protection::Confidential));
    client.set_qop(Qop::IntegrityOnly).unwrap();
    client.write_all(b"signed").await.unwrap();
    client.flush().await.unwrap();
    client.set_qop(Qop::Default).unwrap();
    client.write_all(b"sealed").await.unwrap();
    client.flush().await.unwrap();
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"signed");
    assert_eq!(server.weakest_protection(), Some(Protection::IntegrityOnly));
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(
        server.weakest_protection(),
        Some(Protection::IntegrityOnly),
        "a sealed record after a signed one does not hide it"
    );
    let (reader, _writer) = server.into_split_locked();
    assert_eq!(reader.weakest_protection(), Some(Protection::IntegrityOnly));
}

/// After the sealed phase ends (the peer's close), `into_inner` gives the transport back with
/// the bytes read past the close record, and the connection goes on in the clear.
#[tokio::test]
async fn into_inner_hands_back_the_transport_and_the_bytes_after_the_close() {
    let (a, b) = duplex(1 << 16);
    let (mut client, mut server) = connect(a, b, 1024);
    client.write_all(b"sealed").await.unwrap();
    client.queue_control(Control::Close).unwrap();
    client.flush().await.unwrap();
    // The sealed phase is over for the client: it goes on in the clear on the same transport.
    let (mut raw, unread) = client.into_inner();
    assert!(unread.is_empty());
    raw.write_all(b"clear after").await.unwrap();
    raw.shutdown().await.unwrap();

    let mut sealed = Vec::new();
    server.read_to_end(&mut sealed).await.unwrap();
    assert_eq!(sealed, b"sealed");
    let (mut io, unread) = server.into_inner();
    let mut clear = unread;
    io.read_to_end(&mut clear).await.unwrap();
    assert_eq!(clear, b"clear after");
}
