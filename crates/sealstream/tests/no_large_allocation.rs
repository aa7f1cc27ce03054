//! An announced record length is checked before memory is set aside for it: a 4 GiB SASL frame
//! header costs no allocation beyond the normal read buffer (which holds one record of our own
//! maxbuf, up to `MAX_RECORD_SIZED_READ_BUFFER`), and neither does a frame within our maxbuf
//! whose bytes never come: the buffer grows only as they arrive.
//!
//! A flood of the smallest frames, each draining the read buffer, costs no allocation per
//! frame: the buffer goes back to the thread's pool and comes back for the next one.
//!
//! This test binary counts allocations with an instrumented global allocator, so its tests run
//! one after the other under one lock.

use sealstream::sasl::FramedUnseal;
use sealstream::{Error, Status, StreamBuilder, Unseal};
use sealstream_testkit::test_wrap::direction;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::io::AsyncReadExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Tests in this binary measure the whole process's allocations: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

const MAXBUF: u32 = 16 * 1024 * 1024;

/// A SASL layer over a scripted transport.
type Layered = sealstream::SealedStream<
    tokio::io::Join<std::io::Cursor<Vec<u8>>, Vec<u8>>,
    (
        sealstream::sasl::FramedSeal<sealstream_testkit::test_wrap::TestWrap>,
        FramedUnseal<sealstream_testkit::test_wrap::TestUnwrap>,
    ),
>;

/// A stream with our maxbuf of 16 MiB reading `wire`, then EOF.
fn reading(wire: Vec<u8>) -> Layered {
    let (_, unwrap) = direction(b"k");
    let layer = FramedUnseal::new(unwrap, MAXBUF).unwrap();
    let (wrap, _) = direction(b"k");
    let seal = sealstream::sasl::FramedSeal::new(wrap, 65536).unwrap();
    StreamBuilder::new().build(sealstream_testkit::mock_io::scripted(wire), (seal, layer))
}

/// Bytes allocated (and grown by reallocation) while `f` runs.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let stats = region.change();
    (
        out,
        stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize,
    )
}

#[test]
fn a_frame_within_our_maxbuf_gets_memory_only_as_its_bytes_arrive() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // The peer announces a frame of exactly our maxbuf and sends 100 bytes of it, or 300 KiB.
    for sent in [100, 300 * 1024] {
        let mut wire = MAXBUF.to_be_bytes().to_vec();
        wire.extend(std::iter::repeat_n(0u8, sent));
        let mut stream = reading(wire);
        let (result, total) = allocated_by(|| rt.block_on(stream.read(&mut [0u8; 64])));
        let err = result.unwrap_err();
        assert_eq!(
            Error::from_io(&err).unwrap().status(),
            Status::IncompleteMessage,
            "{err}"
        );
        // Before any of it arrived: the normal buffer. Then at most twice what arrived.
        let bound = sealstream::stream::MAX_RECORD_SIZED_READ_BUFFER.max(2 * (sent + 4)) + 4096;
        assert!(
            total <= bound,
            "{total} bytes allocated for a {MAXBUF}-byte frame of which {sent} bytes came"
        );
    }
}

#[test]
fn oversized_frame_is_refused_before_allocation() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Our maxbuf is 16 MiB (the largest a 3-byte GSSAPI maxbuf can say); the peer announces
    // 4 GiB - 1. Then a frame just over our maxbuf.
    for announced in [u32::MAX, 16 * 1024 * 1024 + 1] {
        let (_, unwrap) = direction(b"k");
        let layer = FramedUnseal::new(unwrap, 16 * 1024 * 1024).unwrap();
        assert_eq!(layer.max_record(), 4 + 16 * 1024 * 1024);
        let (wrap, _) = direction(b"k");
        let seal = sealstream::sasl::FramedSeal::new(wrap, 65536).unwrap();
        let mut wire = announced.to_be_bytes().to_vec();
        wire.extend_from_slice(&[0u8; 100]);
        let mut stream =
            StreamBuilder::new().build(sealstream_testkit::mock_io::scripted(wire), (seal, layer));

        let region = Region::new(GLOBAL);
        let err = rt.block_on(stream.read(&mut [0u8; 64])).unwrap_err();
        let stats = region.change();
        let total = stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize;
        assert_eq!(
            Error::from_io(&err).unwrap().status(),
            Status::IllegalMessage
        );
        assert!(
            total <= sealstream::stream::MAX_RECORD_SIZED_READ_BUFFER + 4096,
            "allocated {total} bytes in all for a frame announcing {announced}"
        );
    }
}

/// A flood of the smallest frames, each arriving in a read of its own and read on its own, so
/// that every record drains the read buffer: the buffer goes back to the thread's pool and is
/// taken again for the next record, a move and never an allocation. 10,000 records cost a
/// bounded number of allocations, not one per record.
#[test]
fn a_flood_of_tiny_frames_costs_no_allocation_per_frame() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    const FRAMES: usize = 10_000;
    let (wrap, unwrap) = direction(b"k");
    let mut seal = sealstream::sasl::FramedSeal::new(wrap, 65536).unwrap();
    let mut wire = Vec::new();
    let mut frame = [0u8; 256];
    let mut frame_len = 0;
    for _ in 0..FRAMES {
        frame_len = sealstream::seal_message(&mut seal, sealstream::Qop::Default, b"x", &mut frame)
            .unwrap();
        wire.extend_from_slice(&frame[..frame_len]);
    }
    let io = sealstream_testkit::mock_io::ChunkedIo::new(
        sealstream_testkit::mock_io::scripted(wire),
        vec![frame_len],
        vec![],
        vec![],
    );
    let (wrap, _) = direction(b"k");
    let seal = sealstream::sasl::FramedSeal::new(wrap, 65536).unwrap();
    let layer = FramedUnseal::new(unwrap, 65536).unwrap();
    let mut stream = StreamBuilder::new()
        .eof_policy(sealstream::EofPolicy::CleanEnd)
        .build(io, (seal, layer));
    // The first record takes the buffer (from the pool or the allocator).
    let mut one = [0u8; 1];
    assert_eq!(rt.block_on(stream.read(&mut one)).unwrap(), 1);
    let region = Region::new(GLOBAL);
    rt.block_on(async {
        for _ in 1..FRAMES {
            assert_eq!(stream.read(&mut one).await.unwrap(), 1);
            assert_eq!(&one, b"x");
            assert_eq!(
                stream.buffered_capacity().0,
                0,
                "drained: the buffer went back"
            );
        }
    });
    let stats = region.change();
    assert!(
        stats.allocations + stats.reallocations < 50,
        "{stats:?} over {FRAMES} records"
    );
    assert_eq!(rt.block_on(stream.read(&mut one)).unwrap(), 0);
}
