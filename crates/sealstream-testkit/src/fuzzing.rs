//! Entry points for the cargo-fuzz targets in `fuzz/`: each takes the fuzzer's bytes, drives a
//! real path of the library with them, and checks the invariants that must hold for any input.

use std::io;

use sealstream::sasl::FramedUnseal;
use sealstream::{Error, StreamBuilder, Unseal, Unsealed};
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

use crate::mock_io::{ChunkedIo, scripted};
use crate::test_wrap::direction;

/// Read `wire` through a stream until it ends, returning the first error; every error must be
/// sticky and carry an SSPI status.
fn read_through<S: sealstream::Sealer>(
    schedule: &[u8],
    wire: &[u8],
    sealer: S,
) -> Option<io::Error> {
    let reads: Vec<usize> = schedule.iter().map(|&b| usize::from(b) * 17 + 1).collect();
    let pending = schedule
        .iter()
        .map(|&b| b & 1 == 1)
        .chain([false])
        .collect();
    let io = ChunkedIo::new(scripted(wire.to_vec()), reads, vec![], pending);
    let mut stream = StreamBuilder::new().build(io, sealer);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut buf = [0u8; 4096];
        // Every other call takes plaintext lent in place (`fill_buf`, then part of it consumed).
        let mut lend = false;
        loop {
            lend = !lend;
            let got = if lend {
                match stream.fill_buf().await {
                    Ok(lent) => {
                        let n = lent.len().min(777);
                        stream.consume(n);
                        Ok(n)
                    }
                    Err(err) => Err(err),
                }
            } else {
                stream.read(&mut buf).await
            };
            match got {
                Ok(0) => return None,
                Ok(_) => {}
                Err(err) => {
                    assert!(
                        Error::from_io(&err).is_some(),
                        "error without a status: {err}"
                    );
                    let again = stream.read(&mut buf).await.expect_err("errors are sticky");
                    assert_eq!(again.kind(), err.kind());
                    return Some(err);
                }
            }
        }
    })
}

/// The first byte picks how many bytes of scheduling follow; the rest is the wire.
fn schedule_and_wire(data: &[u8]) -> (&[u8], &[u8]) {
    let n = data.first().map_or(0, |&b| usize::from(b % 8));
    let data = data.get(1..).unwrap_or(&[]);
    data.split_at(n.min(data.len()))
}

/// Fuzz the read path of a test-sealed stream: arbitrary transport bytes, arbitrary chunking.
pub fn stream_read(data: &[u8]) {
    let (schedule, wire) = schedule_and_wire(data);
    let (_, server) = crate::test_sealer::pair(b"sealstream test seed", 1024);
    read_through(schedule, wire, server);
}

/// Fuzz RFC 4422 framing and a mechanism's unwrap: first directly on the sans-IO unsealer, then
/// through a stream with arbitrary chunking.
pub fn sasl_frames(data: &[u8]) {
    let (schedule, wire) = schedule_and_wire(data);
    let maxbuf = 1 + u32::from(schedule.first().copied().unwrap_or(0)) * 64;

    let (_, unwrap) = direction(b"fuzz");
    let mut unseal = FramedUnseal::new(unwrap, maxbuf).expect("maxbuf >= 1");
    let mut input = wire.to_vec();
    let mut at = 0;
    while at < input.len() {
        match unseal.unseal(&mut input[at..]) {
            Ok(Unsealed::Data {
                plaintext,
                consumed,
                ..
            }) => {
                assert!(plaintext.end <= consumed && consumed <= input.len() - at);
                assert!(consumed <= unseal.max_record());
                at += consumed;
            }
            Ok(Unsealed::Incomplete { missing }) => {
                let missing = missing.expect("SASL frames know what is missing");
                assert!(missing > 0, "incomplete with nothing missing");
                break;
            }
            Ok(other) => panic!("SASL framing never gives {other:?}"),
            Err(_) => break,
        }
    }

    let (wrap, _) = direction(b"fuzz");
    let (_, unwrap) = direction(b"fuzz");
    let seal = sealstream::sasl::FramedSeal::new(wrap, 65536).expect("room");
    let unseal = FramedUnseal::new(unwrap, maxbuf).expect("maxbuf >= 1");
    read_through(schedule, wire, (seal, unseal));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_take_valid_and_garbage_input() {
        let wire = crate::client_wire(&[b"hello", b"world"], true, 1024);
        let mut data = vec![3, 10, 200, 7];
        data.extend_from_slice(&wire.bytes);
        stream_read(&data);
        stream_read(&[]);
        stream_read(&[7; 100]);
        sasl_frames(&[1, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5]);
        sasl_frames(&[0xFF; 64]);
    }
}
