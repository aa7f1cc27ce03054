//! A transport end is a clean end only after the peer's close: EOF at any offset of any record,
//! or between records without the close, is truncation (`UnexpectedEof`,
//! `SEC_E_INCOMPLETE_MESSAGE`), unless the application opted out for protocols that frame
//! themselves.

use std::io::ErrorKind;

use sealstream::{EofPolicy, Error, Status, StreamBuilder};
use sealstream_testkit::{client_wire, server_reading};
use tokio::io::AsyncReadExt;

const MAX: usize = 64;

async fn read_all(wire: Vec<u8>, builder: StreamBuilder) -> (Vec<u8>, std::io::Result<()>) {
    let mut server = server_reading(wire, MAX, builder);
    let mut got = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        match server.read(&mut buf).await {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => {
                // Sticky: the same error again.
                let again = server.read(&mut buf).await.unwrap_err();
                assert_eq!(again.kind(), e.kind());
                return (got, Err(e));
            }
        }
    }
}

#[tokio::test]
async fn eof_at_every_offset_is_truncation() {
    let wire = client_wire(&[b"first record", b"second record"], true, MAX);
    let close = wire.records[2].clone();
    for cut in 0..wire.bytes.len() {
        let (got, result) = read_all(wire.bytes[..cut].to_vec(), StreamBuilder::new()).await;
        let err = result.expect_err(&format!("cut at {cut} must be truncation"));
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "cut at {cut}");
        assert_eq!(
            Error::from_io(&err).map(Error::status),
            Some(Status::IncompleteMessage)
        );
        // Only whole, authenticated records were handed out.
        let whole: Vec<u8> = match cut {
            c if c >= wire.records[1].end => b"first recordsecond record".to_vec(),
            c if c >= wire.records[0].end => b"first record".to_vec(),
            _ => Vec::new(),
        };
        assert_eq!(got, whole, "cut at {cut}");
        assert!(cut < close.end);
    }
    let (got, result) = read_all(wire.bytes.clone(), StreamBuilder::new()).await;
    result.expect("with the close the end is clean");
    assert_eq!(got, b"first recordsecond record");
}

#[tokio::test]
async fn clean_end_policy_accepts_eof_between_records_only() {
    let wire = client_wire(&[b"first record", b"second record"], false, MAX);
    let builder = || StreamBuilder::new().eof_policy(EofPolicy::CleanEnd);
    for cut in 0..=wire.bytes.len() {
        let at_boundary = cut == 0 || wire.records.iter().any(|r| r.end == cut);
        let (_, result) = read_all(wire.bytes[..cut].to_vec(), builder()).await;
        match result {
            Ok(()) => assert!(at_boundary, "cut at {cut} inside a record read as clean"),
            Err(e) => {
                assert!(!at_boundary, "cut at {cut} between records failed: {e}");
                assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
            }
        }
    }
}

#[tokio::test]
async fn after_the_close_reads_stay_at_end() {
    let mut wire = client_wire(&[b"data"], true, MAX).bytes;
    // Bytes after the close are never unsealed or handed out.
    wire.extend_from_slice(b"garbage after close");
    let mut server = server_reading(wire, MAX, StreamBuilder::new());
    let mut got = Vec::new();
    server.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"data");
    assert_eq!(server.read(&mut [0u8; 4]).await.unwrap(), 0);
}
