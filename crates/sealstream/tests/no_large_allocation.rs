//! An announced record length is checked before memory is set aside for it: a 4 GiB SASL frame
//! header costs no allocation beyond the normal read buffer (which holds one record of our own
//! maxbuf, up to `MAX_RECORD_SIZED_READ_BUFFER`).
//!
//! This test binary counts allocations with an instrumented global allocator, so it holds only
//! this test.

use sealstream::sasl::FramedUnseal;
use sealstream::{Error, Status, StreamBuilder, Unseal};
use sealstream_testkit::test_wrap::direction;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::io::AsyncReadExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

#[test]
fn oversized_frame_is_refused_before_allocation() {
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
