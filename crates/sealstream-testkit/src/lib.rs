//! Test support for sealstream. **Not a sealer to use**: it exists so the stream, the SASL
//! framing and the fault-injection harnesses can be tested without a real peer.
//!
//! - [`test_sealer`]: a record protocol built on ChaCha20-Poly1305 with explicit sequence
//!   numbers, a close record, alerts, key updates and integrity-only records, so that every path
//!   of the stream (tampering, replay, truncation, the control path) is exercised with real
//!   authentication.
//! - [`test_wrap`]: a SASL mechanism-shaped wrap/unwrap (HMAC-SHA-256 with sequence numbers) for
//!   the RFC 4422 framing.
//! - [`mock_io`]: transports that force `Pending`, short reads and writes, and EOF.
//! - [`wakers`]: a waker that counts its wakes, for polling by hand.

#![forbid(unsafe_code)]

pub mod fuzzing;
pub mod mock_io;
pub mod test_sealer;
pub mod test_wrap;
pub mod wakers;

use sealstream::SealedStream;

/// A stream sealed with the test protocol.
pub type TestStream<T> = SealedStream<T, (test_sealer::TestSeal, test_sealer::TestUnseal)>;

/// Two ends of a test-sealed connection over `client_io` and `server_io`, with default stream
/// settings.
pub fn connect<A, B>(
    client_io: A,
    server_io: B,
    max_message: usize,
) -> (TestStream<A>, TestStream<B>) {
    let (client, server) = test_sealer::pair(b"sealstream test seed", max_message);
    (
        SealedStream::new(client_io, client),
        SealedStream::new(server_io, server),
    )
}

/// Records of the client's direction as bytes on the wire, with where each record lies.
#[derive(Debug, Clone)]
pub struct Wire {
    /// The records, end to end.
    pub bytes: Vec<u8>,
    /// Each record's place in `bytes`.
    pub records: Vec<std::ops::Range<usize>>,
}

/// Seal `messages` as consecutive records of the client's direction, then the close record if
/// `close`; server-side unsealers read them.
pub fn client_wire(messages: &[&[u8]], close: bool, max_message: usize) -> Wire {
    use sealstream::Seal;
    let ((mut seal, _), _) = test_sealer::pair(b"sealstream test seed", max_message);
    let mut wire = Wire {
        bytes: Vec::new(),
        records: Vec::new(),
    };
    let mut buf = vec![0u8; test_sealer::HEADER + max_message + test_sealer::TAG];
    let push = |wire: &mut Wire, record: &[u8]| {
        let start = wire.bytes.len();
        wire.bytes.extend_from_slice(record);
        wire.records.push(start..wire.bytes.len());
    };
    for m in messages {
        let n = sealstream::seal_message(&mut seal, sealstream::Qop::Default, m, &mut buf)
            .expect("test record seals");
        push(&mut wire, &buf[..n]);
    }
    if close {
        let n = seal
            .seal_control(&sealstream::Control::Close, &mut buf)
            .expect("close seals");
        push(&mut wire, &buf[..n]);
    }
    wire
}

/// A server-side stream reading `wire` (then EOF) from a scripted transport.
pub fn server_reading(
    wire: Vec<u8>,
    max_message: usize,
    builder: sealstream::StreamBuilder,
) -> TestStream<tokio::io::Join<std::io::Cursor<Vec<u8>>, Vec<u8>>> {
    let (_, server) = test_sealer::pair(b"sealstream test seed", max_message);
    builder.build(mock_io::scripted(wire), server)
}
