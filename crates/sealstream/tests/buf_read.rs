//! Plaintext lent in place (`AsyncBufRead`): the same bytes as `read` in the same order, in
//! whatever pieces the caller consumes them, mixed freely with `read`; nothing of a record that
//! failed authentication is ever lent; an end is an empty buffer, a truncation an error.

use proptest::prelude::*;
use sealstream::{Error, Status, StreamBuilder};
use sealstream_testkit::mock_io::ChunkedIo;
use sealstream_testkit::{client_wire, connect, server_reading};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, duplex};

const MAX: usize = 64;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 29 % 253) as u8).collect()
}

/// Take everything through `fill_buf`, consuming the sizes in `takes` in turn (0 reads with
/// `read` instead, into a 7-byte buffer); the bytes and the error that ended it.
async fn drain<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    takes: &[usize],
) -> (Vec<u8>, Option<std::io::Error>) {
    let mut got = Vec::new();
    for &take in takes.iter().cycle() {
        if take == 0 {
            let mut small = [0u8; 7];
            match reader.read(&mut small).await {
                Ok(0) => return (got, None),
                Ok(n) => got.extend_from_slice(&small[..n]),
                Err(e) => return (got, Some(e)),
            }
            continue;
        }
        let lent = match reader.fill_buf().await {
            Ok(lent) => lent,
            Err(e) => return (got, Some(e)),
        };
        if lent.is_empty() {
            return (got, None);
        }
        let n = take.min(lent.len());
        got.extend_from_slice(&lent[..n]);
        reader.consume(n);
    }
    unreachable!("the cycle ends only by returning")
}

fn status(err: &std::io::Error) -> Status {
    Error::from_io(err).expect("a sealstream error").status()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any message, any transport chunking, any mix of consume sizes and plain reads: the bytes
    /// arrive whole and in order, then the end.
    #[test]
    fn lent_bytes_are_the_stream(
        len in 0usize..3000,
        chunks in proptest::collection::vec(1usize..200, 1..6),
        takes in proptest::collection::vec(0usize..150, 1..6),
    ) {
        runtime().block_on(async {
            let data = pattern(len);
            let (a, b) = duplex(1 << 16);
            let (mut client, server) = connect(a, ChunkedIo::new(b, chunks, vec![1 << 16], vec![true, false]), MAX);
            let sent = data.clone();
            let writer = tokio::spawn(async move {
                client.write_all(&sent).await.unwrap();
                client.shutdown().await.unwrap();
                client
            });
            let mut server = server;
            let (got, err) = drain(&mut server, &takes).await;
            prop_assert!(err.is_none(), "{err:?}");
            prop_assert_eq!(got, data);
            // The end stays the end.
            prop_assert!(server.fill_buf().await.unwrap().is_empty());
            writer.await.unwrap();
            Ok(())
        })?;
    }

    /// Flip any bit of the second record: the first record's bytes are lent, nothing of the
    /// second or third ever is, and the failure is sticky.
    #[test]
    fn a_tampered_record_is_never_lent(byte in 0usize..1000, bit in 0u8..8) {
        let messages: [&[u8]; 3] = [b"first record", b"second record", b"third record"];
        let wire = client_wire(&messages, true, MAX);
        let second = wire.records[1].clone();
        let mut tampered = wire.bytes.clone();
        tampered[second.start + byte % second.len()] ^= 1 << bit;
        runtime().block_on(async {
            let mut server = server_reading(tampered, MAX, StreamBuilder::new());
            let (got, err) = drain(&mut server, &[5]).await;
            prop_assert_eq!(&got[..], &b"first record"[..]);
            let err = err.expect("the flip is refused");
            let again = server.fill_buf().await.unwrap_err();
            prop_assert_eq!(again.to_string(), err.to_string());
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn an_untampered_wire_ends_cleanly_and_a_cut_one_is_truncation() {
    let messages: [&[u8]; 2] = [b"hello ", b"world"];
    let wire = client_wire(&messages, true, MAX);
    let mut server = server_reading(wire.bytes.clone(), MAX, StreamBuilder::new());
    let (got, err) = drain(&mut server, &[3]).await;
    assert_eq!(got, b"hello world");
    assert!(err.is_none());

    // Cut inside the second record: the first is lent, then truncation.
    let cut = wire.records[1].start + 3;
    let mut server = server_reading(wire.bytes[..cut].to_vec(), MAX, StreamBuilder::new());
    let (got, err) = drain(&mut server, &[100]).await;
    assert_eq!(got, b"hello ");
    assert_eq!(status(&err.expect("truncated")), Status::IncompleteMessage);
}

#[tokio::test]
async fn a_handshake_leftover_is_lent_first() {
    let wire = client_wire(&[b"sealed"], true, MAX);
    let builder = StreamBuilder::new().leftover_plaintext(b"early ".to_vec());
    let mut server = server_reading(wire.bytes, MAX, builder);
    let lent = server.fill_buf().await.unwrap();
    assert_eq!(lent, b"early ");
    server.consume(2);
    assert_eq!(server.fill_buf().await.unwrap(), b"rly ");
    // Consuming more than was lent ends what was lent, and no more.
    server.consume(1000);
    let (got, err) = drain(&mut server, &[4]).await;
    assert_eq!(got, b"sealed");
    assert!(err.is_none());
}

#[tokio::test]
async fn a_read_half_reads_lines_in_place() {
    let (a, b) = duplex(1 << 16);
    let (mut client, server) = connect(a, b, MAX);
    let (reader, _writer) = server.into_split_locked();
    let text = "a line longer than one sixty-four byte record, so it spans two of them\nshort\n";
    client.write_all(text.as_bytes()).await.unwrap();
    client.shutdown().await.unwrap();
    let mut lines = reader.lines();
    assert_eq!(
        lines.next_line().await.unwrap().as_deref(),
        Some("a line longer than one sixty-four byte record, so it spans two of them")
    );
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("short"));
    assert_eq!(lines.next_line().await.unwrap(), None);
}
