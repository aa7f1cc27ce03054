//! RFC 4422 §3.7 framing at the stream level: frames never exceed the peer's maxbuf, large
//! writes span many frames and are rebuilt, frames over our maxbuf are refused, and tampered or
//! replayed frames carry the mechanism's status.

use sealstream::sasl::{Frame, FramedSeal, FramedUnseal, LENGTH_LEN, MAX_SEND_FRAME, parse_frame};
use sealstream::{EofPolicy, Error, Seal, SealedStream, Status, StreamBuilder};
use sealstream_testkit::test_wrap::{TestUnwrap, TestWrap, direction};
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

type Layer = (FramedSeal<TestWrap>, FramedUnseal<TestUnwrap>);

/// Client and server layers: the client announces `client_maxbuf`, the server `server_maxbuf`.
fn layers(client_maxbuf: u32, server_maxbuf: u32) -> (Layer, Layer) {
    let (c_wrap, s_unwrap) = direction(b"client to server");
    let (s_wrap, c_unwrap) = direction(b"server to client");
    (
        (
            FramedSeal::new(c_wrap, server_maxbuf).unwrap(),
            FramedUnseal::new(c_unwrap, client_maxbuf).unwrap(),
        ),
        (
            FramedSeal::new(s_wrap, client_maxbuf).unwrap(),
            FramedUnseal::new(s_unwrap, server_maxbuf).unwrap(),
        ),
    )
}

fn frames(wire: &[u8]) -> Vec<usize> {
    let mut at = 0;
    let mut lens = Vec::new();
    while at < wire.len() {
        match parse_frame(&wire[at..], usize::MAX).unwrap() {
            Frame::Complete { body } => {
                lens.push(body.len());
                at += body.end;
            }
            Frame::Incomplete { .. } => panic!("wire ends inside a frame"),
        }
    }
    lens
}

#[tokio::test]
async fn frames_respect_the_peers_maxbuf() {
    let (client_layer, _) = layers(65536, 100);
    let (a, mut b) = duplex(1 << 20);
    let mut client = SealedStream::new(a, client_layer);
    assert_eq!(client.sizes().max_message, 100 - 20);
    client.write_all(&[7u8; 1000]).await.unwrap();
    client.shutdown().await.unwrap();
    drop(client);
    let mut wire = Vec::new();
    b.read_to_end(&mut wire).await.unwrap();
    let lens = frames(&wire);
    assert!(lens.iter().all(|&l| l <= 100), "{lens:?}");
    assert_eq!(lens.iter().map(|l| l - 20).sum::<usize>(), 1000);
    assert_eq!(wire.len(), 1000 + lens.len() * (LENGTH_LEN + 20));
}

#[tokio::test]
async fn a_large_message_spans_frames_and_is_rebuilt() {
    // Like slapd sending one 40 KB entry to a client with maxbuf 1024.
    let (client_layer, server_layer) = layers(1024, 65536);
    let (a, b) = duplex(4096);
    let mut client = SealedStream::new(a, client_layer);
    let mut server = SealedStream::new(b, server_layer);
    let entry: Vec<u8> = (0..40_744u32).map(|i| (i % 253) as u8).collect();
    let sent = entry.clone();
    let writer = tokio::spawn(async move {
        server.write_all(&sent).await.unwrap();
        server.shutdown().await.unwrap();
        server
    });
    let mut got = Vec::new();
    client
        .read_to_end(&mut got)
        .await
        .expect("SASL layers end cleanly between frames");
    assert!(got == entry);
    let server = writer.await.unwrap();
    assert_eq!(server.seal_half().sequence(), 40_744u64.div_ceil(1024 - 20));
}

#[tokio::test]
async fn frame_over_our_maxbuf_is_refused() {
    let (client_layer, _) = layers(100, 65536);
    let mut wire = 101u32.to_be_bytes().to_vec();
    wire.extend_from_slice(&[0u8; 101]);
    let mut client =
        StreamBuilder::new().build(sealstream_testkit::mock_io::scripted(wire), client_layer);
    let err = client.read(&mut [0u8; 10]).await.unwrap_err();
    let err = Error::from_io(&err).unwrap();
    assert_eq!(err.status(), Status::IllegalMessage);
    assert!(err.detail().contains("exceeds our maxbuf of 100"), "{err}");
}

#[tokio::test]
async fn tampered_and_replayed_frames() {
    let (a, mut b) = duplex(1 << 16);
    let (client_layer, server_layer) = layers(65536, 65536);
    let mut client = SealedStream::new(a, client_layer);
    client.write_all(b"one").await.unwrap();
    client.flush().await.unwrap();
    client.write_all(b"two").await.unwrap();
    client.flush().await.unwrap();
    drop(client);
    let mut wire = Vec::new();
    b.read_to_end(&mut wire).await.unwrap();
    let frame_len = wire.len() / 2;

    let read = |wire: Vec<u8>, layer| async move {
        let mut s = StreamBuilder::new()
            .eof_policy(EofPolicy::Truncation)
            .build(sealstream_testkit::mock_io::scripted(wire), layer);
        let mut got = Vec::new();
        let r = s.read_to_end(&mut got).await;
        (
            got,
            r.err().and_then(|e| Error::from_io(&e).map(Error::status)),
        )
    };

    // Replay of the first frame.
    let mut replay = wire[..frame_len].to_vec();
    replay.extend_from_slice(&wire[..frame_len]);
    let (got, status) = read(replay, layers(65536, 65536).1).await;
    assert_eq!(
        (got.as_slice(), status),
        (&b"one"[..], Some(Status::OutOfSequence))
    );

    // One bit flipped in the second frame's data.
    let mut flipped = wire.clone();
    flipped[frame_len + LENGTH_LEN + 4] ^= 0x40;
    let (got, status) = read(flipped, server_layer).await;
    assert_eq!(
        (got.as_slice(), status),
        (&b"one"[..], Some(Status::MessageAltered))
    );

    // Cut inside a frame.
    let (got, status) = read(wire[..wire.len() - 1].to_vec(), layers(65536, 65536).1).await;
    assert_eq!(
        (got.as_slice(), status),
        (&b"one"[..], Some(Status::IncompleteMessage))
    );
}

#[test]
fn peer_maxbuf_without_room_is_refused() {
    let (wrap, _) = direction(b"k");
    let err = FramedSeal::new(wrap, 20).unwrap_err();
    assert_eq!(err.status(), Status::InvalidParameter);
    let (_, unwrap) = direction(b"k");
    assert!(FramedUnseal::new(unwrap, 0).is_err());
}

#[test]
fn maxbuf_zero_means_no_limit_capped_for_sending() {
    let (wrap, _) = direction(b"k");
    let seal = FramedSeal::new(wrap, 0).unwrap();

    assert_eq!(seal.sizes().max_message, MAX_SEND_FRAME - 20);
}

/// A frame of `plaintext` from `wrap`, of any size (a stream never sends one above 64 KiB, but
/// a peer with a larger maxbuf may).
fn frame_of(wrap: &mut TestWrap, plaintext: &[u8]) -> Vec<u8> {
    use sealstream::sasl::{Wrap, encode_len};
    let overhead = wrap.overhead();
    let mut token = vec![0u8; overhead.header + plaintext.len() + overhead.trailer];
    token[overhead.header..overhead.header + plaintext.len()].copy_from_slice(plaintext);
    let record = sealstream::RecordMut::new(&mut token, overhead.header, plaintext.len()).unwrap();
    let len = wrap.wrap(sealstream::Qop::Default, record).unwrap();
    let mut frame = encode_len(len).to_vec();
    frame.extend_from_slice(&token[..len]);
    frame
}

/// A frame larger than the normal read buffer grows it while it lasts; the next frame is read
/// into a normal-sized buffer again. Read both ways (copied, and lent in place), with buffers
/// kept (no idle release in between) and a transport that always has the next bytes.
#[tokio::test]
async fn a_frame_above_the_buffer_bound_then_a_small_one() {
    use tokio::io::AsyncBufReadExt;
    let big: Vec<u8> = (0..600 * 1024).map(|i| (i % 251) as u8).collect();
    for in_place in [false, true] {
        let (mut wrap, unwrap) = direction(b"large frames");
        let (other_wrap, _) = direction(b"unused direction");
        let mut wire = frame_of(&mut wrap, &big);
        wire.extend_from_slice(&frame_of(&mut wrap, b"and a small one"));
        let layer = (
            FramedSeal::new(other_wrap, 65536).unwrap(),
            FramedUnseal::new(unwrap, 1 << 20).unwrap(),
        );
        let mut stream = StreamBuilder::new()
            .release_idle_buffers(false)
            .eof_policy(EofPolicy::CleanEnd)
            .build(sealstream_testkit::mock_io::scripted(wire), layer);
        let mut got = Vec::new();
        if in_place {
            loop {
                let lent = stream.fill_buf().await.unwrap();
                if lent.is_empty() {
                    break;
                }
                let n = lent.len().min(1000);
                got.extend_from_slice(&lent[..n]);
                stream.consume(n);
            }
        } else {
            stream.read_to_end(&mut got).await.unwrap();
        }
        let mut expected = big.clone();
        expected.extend_from_slice(b"and a small one");
        assert!(got == expected, "in place: {in_place}, {} bytes", got.len());
    }
}
