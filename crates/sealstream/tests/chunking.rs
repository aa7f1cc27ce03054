//! Property: whatever the transport does (any read and write sizes, `Pending` anywhere),
//! whatever the record size and however large the reader's buffer, both directions round-trip
//! byte for byte and end cleanly. The server reads with `read_to_end` (uninitialized room that
//! grows); the client into a buffer of its own size, which records may or may not fit, so
//! records are unsealed both into the reader's buffer and in place.

use proptest::prelude::*;
use sealstream_testkit::connect;
use sealstream_testkit::mock_io::ChunkedIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

#[derive(Debug, Clone)]
struct Schedule {
    reads: Vec<usize>,
    writes: Vec<usize>,
    pending: Vec<bool>,
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        prop::collection::vec(1usize..3000, 1..6),
        prop::collection::vec(1usize..3000, 1..6),
        prop::collection::vec(any::<bool>(), 0..5),
    )
        .prop_map(|(reads, writes, mut pending)| {
            // A transport that is never ready would spin forever: keep one ready slot.
            pending.push(false);
            Schedule {
                reads,
                writes,
                pending,
            }
        })
}

fn io(s: &Schedule, inner: tokio::io::DuplexStream) -> ChunkedIo<tokio::io::DuplexStream> {
    ChunkedIo::new(inner, s.reads.clone(), s.writes.clone(), s.pending.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn both_directions_round_trip(
        client_sched in schedule(),
        server_sched in schedule(),
        max_message in 1usize..5000,
        up in prop::collection::vec(any::<u8>(), 0..20_000),
        down in prop::collection::vec(any::<u8>(), 0..20_000),
        write_chunk in 1usize..7000,
        pipe in 1usize..10_000,
        client_read in 1usize..8000,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (a, b) = duplex(pipe);
            let (client, server) = connect(io(&client_sched, a), io(&server_sched, b), max_message);
            let (mut cr, mut cw) = tokio::io::split(client);
            let (mut sr, mut sw) = tokio::io::split(server);
            let (up2, down2) = (up.clone(), down.clone());
            let client_send = async move {
                for chunk in up2.chunks(write_chunk) {
                    cw.write_all(chunk).await.unwrap();
                }
                cw.shutdown().await.unwrap();
            };
            let server_send = async move {
                for chunk in down2.chunks(write_chunk) {
                    sw.write_all(chunk).await.unwrap();
                }
                sw.shutdown().await.unwrap();
            };
            let client_recv = async move {
                let mut got = Vec::new();
                let mut buf = vec![0u8; client_read];
                loop {
                    match cr.read(&mut buf).await.unwrap() {
                        0 => break got,
                        n => got.extend_from_slice(&buf[..n]),
                    }
                }
            };
            let server_recv = async move {
                let mut got = Vec::new();
                sr.read_to_end(&mut got).await.unwrap();
                got
            };
            let ((), (), at_client, at_server) =
                tokio::join!(client_send, server_send, client_recv, server_recv);
            assert!(at_server == up, "client to server bytes differ");
            assert!(at_client == down, "server to client bytes differ");
        });
    }
}
