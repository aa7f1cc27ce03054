//! Bytes that were not authenticated are never handed out. Flipping any bit of any record,
//! replaying, reordering or dropping records is refused with the matching SSPI status, and the
//! first failure is sticky.

use std::io::ErrorKind;

use proptest::prelude::*;
use sealstream::{Error, Status, StreamBuilder};
use sealstream_testkit::{Wire, client_wire, server_reading};
use tokio::io::AsyncReadExt;

const MAX: usize = 64;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Read everything, `read_len` bytes at most per read; return the plaintext handed out and the
/// error that ended it.
async fn read_until_error(wire: Vec<u8>, read_len: usize) -> (Vec<u8>, Option<std::io::Error>) {
    let mut server = server_reading(wire, MAX, StreamBuilder::new());
    let mut got = Vec::new();
    let mut buf = vec![0u8; read_len];
    loop {
        match server.read(&mut buf).await {
            Ok(0) => return (got, None),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => {
                let again = server.read(&mut buf).await.unwrap_err();
                assert_eq!(again.to_string(), e.to_string(), "errors are sticky");
                return (got, Some(e));
            }
        }
    }
}

fn status(err: &std::io::Error) -> Status {
    Error::from_io(err).expect("a sealstream error").status()
}

fn messages() -> Vec<&'static [u8]> {
    vec![b"alpha alpha", b"bravo", b"charlie charlie charlie"]
}

fn plaintext_before(record: usize) -> Vec<u8> {
    messages()[..record].concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Flip any bit of any record: no plaintext of that record or later is handed out. Flips in
    /// type, sequence, payload or tag are MESSAGE_ALTERED; a flipped length can also read as an
    /// oversized record (ILLEGAL_MESSAGE) or one that runs past the end (truncation).
    #[test]
    fn any_flip_is_refused(byte in 0usize..1000, bit in 0u8..8, read_len in 1usize..100) {
        let wire: Wire = client_wire(&messages(), true, MAX);
        let byte = byte % wire.bytes.len();
        let mut tampered = wire.bytes.clone();
        tampered[byte] ^= 1 << bit;
        let record = wire.records.iter().position(|r| r.contains(&byte)).unwrap();
        let offset = byte - wire.records[record].start;
        let (got, err) = runtime().block_on(read_until_error(tampered, read_len));
        let err = err.expect("tampering is detected");
        prop_assert_eq!(&got, &plaintext_before(record.min(3)));
        let status = status(&err);
        if offset == 1 || offset == 2 {
            prop_assert!(
                matches!(status, Status::MessageAltered | Status::IllegalMessage | Status::IncompleteMessage),
                "length flip gave {:?}", status
            );
        } else {
            prop_assert_eq!(status, Status::MessageAltered);
            prop_assert_eq!(err.kind(), ErrorKind::InvalidData);
        }
    }

    /// Any truncation of the tampered-free stream hands out only whole records.
    #[test]
    fn any_cut_hands_out_whole_records_only(cut in 0usize..1000, read_len in 1usize..100) {
        let wire = client_wire(&messages(), true, MAX);
        let cut = cut % wire.bytes.len();
        let (got, err) = runtime().block_on(read_until_error(wire.bytes[..cut].to_vec(), read_len));
        let whole = wire.records.iter().take(3).filter(|r| r.end <= cut).count();
        prop_assert_eq!(got, plaintext_before(whole));
        prop_assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::UnexpectedEof));
    }
}

fn rearranged(order: &[usize]) -> Vec<u8> {
    let wire = client_wire(&messages(), true, MAX);
    order
        .iter()
        .flat_map(|&i| wire.bytes[wire.records[i].clone()].to_vec())
        .collect()
}

/// Read into a large buffer until the stream fails; after each read the bytes handed out are
/// overwritten, so what is left is what a refused record left in the reader's buffer.
async fn left_in_the_readers_buffer(wire: Vec<u8>) -> Vec<u8> {
    const UNTOUCHED: u8 = 0xAA;
    let mut server = server_reading(wire, MAX, StreamBuilder::new());
    let mut buf = vec![UNTOUCHED; 4096];
    loop {
        match server.read(&mut buf).await {
            Ok(0) => panic!("the stream ended without refusing anything"),
            Ok(n) => buf[..n].fill(UNTOUCHED),
            Err(_) => {
                return buf
                    .into_iter()
                    .filter(|&b| b != UNTOUCHED && b != 0)
                    .collect();
            }
        }
    }
}

#[tokio::test]
async fn a_refused_record_leaves_nothing_in_the_readers_buffer() {
    // Records are unsealed straight into a buffer this large; one that is refused after its
    // plaintext was written there (a forged tag, a replay) must not leave it behind.
    let wire = client_wire(&messages(), true, MAX);
    let mut forged = wire.bytes.clone();
    let last_byte_of_charlie = wire.records[2].end - 1;
    forged[last_byte_of_charlie] ^= 1;
    assert_eq!(left_in_the_readers_buffer(forged).await, b"");
    assert_eq!(
        left_in_the_readers_buffer(rearranged(&[0, 1, 1, 2, 3])).await,
        b""
    );
}

#[tokio::test]
async fn replayed_record_is_out_of_sequence() {
    let (got, err) = read_until_error(rearranged(&[0, 1, 1, 2, 3]), 5).await;
    assert_eq!(got, plaintext_before(2));
    assert_eq!(status(&err.unwrap()), Status::OutOfSequence);
}

#[tokio::test]
async fn reordered_records_are_out_of_sequence() {
    let (got, err) = read_until_error(rearranged(&[0, 2, 1, 3]), 5).await;
    assert_eq!(got, plaintext_before(1));
    let err = err.unwrap();
    assert_eq!(status(&err), Status::OutOfSequence);
    assert!(
        err.to_string()
            .contains("expected sequence number 1, got 2")
    );
}

#[tokio::test]
async fn dropped_record_is_out_of_sequence() {
    let (got, err) = read_until_error(rearranged(&[0, 2, 3]), 5).await;
    assert_eq!(got, plaintext_before(1));
    assert_eq!(status(&err.unwrap()), Status::OutOfSequence);
}

#[tokio::test]
async fn dropped_close_is_truncation() {
    let (got, err) = read_until_error(rearranged(&[0, 1, 2]), 5).await;
    assert_eq!(got, plaintext_before(3));
    assert_eq!(status(&err.unwrap()), Status::IncompleteMessage);
}

#[tokio::test]
async fn oversized_length_is_refused_from_the_header() {
    let mut wire = client_wire(&[b"x"], true, MAX).bytes;
    // Announce the largest length the header can hold.
    wire[1] = 0xFF;
    wire[2] = 0xFF;
    let (got, err) = read_until_error(wire, 5).await;
    assert!(got.is_empty());
    let err = err.unwrap();
    assert_eq!(status(&err), Status::IllegalMessage);
}

#[tokio::test]
async fn a_flood_of_empty_records_ends_no_read_and_grows_no_buffer() {
    // 20,000 empty data records (27 bytes each on the wire) around one message: a reader with
    // room for whole records (each opened into its buffer) and one with 3 bytes (each unsealed
    // in place) both get the message and the end, and the stream's own buffer stays at its
    // normal size however many records arrive.
    const FLOOD: usize = 20_000;
    let mut messages: Vec<&[u8]> = vec![b""; FLOOD];
    messages.insert(FLOOD / 2, b"the message");
    let wire = client_wire(&messages, true, MAX).bytes;
    for read_len in [4096, 3] {
        let mut server = server_reading(wire.clone(), MAX, StreamBuilder::new());
        let mut got = Vec::new();
        let mut buf = vec![0u8; read_len];
        let mut reads = 0;
        loop {
            match server.read(&mut buf).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
            reads += 1;
            assert!(
                server.buffered_capacity().0 <= 64 * 1024,
                "read buffer grew"
            );
        }
        assert_eq!(got, b"the message", "reading {read_len} bytes at a time");
        // Empty records hand out nothing and end no read: the reads are the message's.
        assert!(
            reads <= b"the message".len().div_ceil(read_len),
            "{reads} reads"
        );
    }
}
