//! The layer alone: sizes from the wire notes, chaining across buffers, and every way a buffer
//! can be altered, replayed or reordered.

use super::*;

const HA1: [u8; 16] = *b"0123456789abcdef";

fn qops() -> Vec<DigestQop> {
    let mut qops = vec![DigestQop::AuthInt];
    qops.extend(Cipher::ALL.map(DigestQop::AuthConf));
    qops
}

/// A client sender and the server's receiver for `qop`.
fn pair(qop: DigestQop) -> (DigestWrap, DigestUnwrap) {
    let (wrap, _) = halves(&HA1, qop, true).unwrap();
    let (_, unwrap) = halves(&HA1, qop, false).unwrap();
    (wrap, unwrap)
}

fn wrap(w: &mut DigestWrap, msg: &[u8]) -> Vec<u8> {
    let mut buf = msg.to_vec();
    buf.resize(msg.len() + w.overhead().trailer, 0);
    let n = w
        .wrap(
            Qop::Default,
            RecordMut::new(&mut buf, 0, msg.len()).unwrap(),
        )
        .unwrap();
    buf.truncate(n);
    buf
}

fn unwrap(u: &mut DigestUnwrap, token: &[u8]) -> Result<Vec<u8>, Error> {
    let mut buf = token.to_vec();
    let range = u.unwrap(&mut buf)?;
    Ok(buf[range].to_vec())
}

#[test]
fn sizes_match_the_wire_notes() {
    let (mut w, _) = pair(DigestQop::AuthInt);
    let token = wrap(&mut w, b"abc");
    assert_eq!(token.len(), 3 + 16);
    assert_eq!(&token[..3], b"abc");
    assert_eq!(&token[13..], &[0, 1, 0, 0, 0, 0]);
    let (mut w, _) = pair(DigestQop::AuthConf(Cipher::Rc4));
    assert_eq!(wrap(&mut w, b"hello rc4").len(), 25);
    let (mut w, _) = pair(DigestQop::AuthConf(Cipher::TripleDes));
    assert_eq!(wrap(&mut w, b"abc").len(), 22);
    // 8 - (n + 10) % 8 bytes of padding: a full block when n + 10 is already aligned.
    let (mut w, _) = pair(DigestQop::AuthConf(Cipher::Des));
    assert_eq!(wrap(&mut w, b"abcdef").len(), 6 + 8 + 10 + 6);
}

#[test]
fn des_keys_spread_seven_bytes_with_odd_parity() {
    assert_eq!(des_key(&[0xFF; 7]), [0xFE; 8]);
    assert_eq!(des_key(&[0; 7]), [0x01; 8]);
    // 0x80 then zeros: the first bit lands in the first byte's high bit.
    assert_eq!(des_key(&[0x80, 0, 0, 0, 0, 0, 0])[0], 0x80);
    assert_eq!(des_key(&[0x01, 0, 0, 0, 0, 0, 0])[1], 0x80);
    for b in des_key(b"\x12\x34\x56\x78\x9a\xbc\xde") {
        assert_eq!(b.count_ones() % 2, 1);
    }
}

#[test]
fn directions_use_different_keys() {
    for qop in qops() {
        let (mut client_wrap, _) = halves(&HA1, qop, true).unwrap();
        let (mut server_wrap, _) = halves(&HA1, qop, false).unwrap();
        assert_ne!(
            wrap(&mut client_wrap, b"same"),
            wrap(&mut server_wrap, b"same"),
            "{qop}"
        );
        // A client's own token does not verify as the server's.
        let (mut w, _) = halves(&HA1, qop, true).unwrap();
        let (_, mut own) = halves(&HA1, qop, true).unwrap();
        assert!(
            unwrap(&mut own, &wrap(&mut w, b"reflected")).is_err(),
            "{qop}"
        );
    }
}

#[test]
fn buffers_chain_in_order() {
    for qop in qops() {
        let (mut w, mut u) = pair(qop);
        let msgs: Vec<Vec<u8>> = (0..20).map(|i| vec![i as u8; i * 13]).collect();
        let tokens: Vec<Vec<u8>> = msgs.iter().map(|m| wrap(&mut w, m)).collect();
        for (m, t) in msgs.iter().zip(&tokens) {
            assert_eq!(&unwrap(&mut u, t).unwrap(), m, "{qop}");
        }
        assert_eq!((w.sequence(), u.sequence()), (20, 20));
        // The sequence number is the last four bytes.
        assert_eq!(&tokens[19][tokens[19].len() - 4..], &19u32.to_be_bytes());
    }
}

#[test]
fn replayed_and_reordered_buffers_are_out_of_sequence() {
    for qop in qops() {
        let (mut w, mut u) = pair(qop);
        let t0 = wrap(&mut w, b"first");
        let t1 = wrap(&mut w, b"second");
        let t2 = wrap(&mut w, b"third");
        // Reordered: the second arrives first.
        let (_, mut fresh) = pair(qop);
        assert_eq!(
            unwrap(&mut fresh, &t1).unwrap_err().status(),
            Status::OutOfSequence,
            "{qop}"
        );
        // Replayed.
        assert_eq!(unwrap(&mut u, &t0).unwrap(), b"first");
        assert_eq!(
            unwrap(&mut u, &t0).unwrap_err().status(),
            Status::OutOfSequence,
            "{qop}"
        );
        // Suppressed: the third without the second.
        assert_eq!(
            unwrap(&mut u, &t2).unwrap_err().status(),
            Status::OutOfSequence,
            "{qop}"
        );
    }
}

#[test]
fn every_altered_byte_is_caught() {
    for qop in qops() {
        let (mut w, _) = pair(qop);
        let token = wrap(&mut w, b"a message of some length, spanning blocks");
        let len = token.len();
        for i in 0..len {
            let mut bad = token.clone();
            bad[i] ^= 0x01;
            let (_, mut u) = pair(qop);
            let status = unwrap(&mut u, &bad).unwrap_err().status();
            let expected = if i >= len - 4 {
                // auth-int authenticates the number; auth-conf checks it before decrypting.
                if qop == DigestQop::AuthInt {
                    Status::MessageAltered
                } else {
                    Status::OutOfSequence
                }
            } else if i >= len - 6 {
                Status::IllegalMessage
            } else {
                Status::MessageAltered
            };
            assert_eq!(status, expected, "{qop}, byte {i} of {len}");
        }
    }
}

/// The smallest sealed body (two blocks: the MAC starts at byte 6) decrypting to a padding length
/// of 7 or 8 claims more padding than there is room for: refused, never a slice out of range
/// (found by the digest_unwrap fuzz target).
#[test]
fn padding_longer_than_the_body_is_refused() {
    for cipher in [Cipher::Des, Cipher::TripleDes] {
        for pad in [7u8, 8, 255] {
            let qop = DigestQop::AuthConf(cipher);
            let (mut w, mut u) = pair(qop);
            let mut token = vec![pad; 16];
            w.0.conf.as_mut().unwrap().apply(&mut token);
            token.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
            let status = unwrap(&mut u, &token).unwrap_err().status();
            assert_eq!(status, Status::MessageAltered, "{qop}, pad {pad}");
        }
    }
}

#[test]
fn short_and_misaligned_buffers_are_illegal() {
    for qop in qops() {
        let (_, mut u) = pair(qop);
        for len in 0..16 {
            let status = unwrap(&mut u, &vec![0; len]).unwrap_err().status();
            assert_eq!(status, Status::IllegalMessage, "{qop}, {len} bytes");
        }
    }
    let (mut w, mut u) = pair(DigestQop::AuthConf(Cipher::TripleDes));
    let mut token = wrap(&mut w, b"abc");
    token.remove(0);
    assert_eq!(
        unwrap(&mut u, &token).unwrap_err().status(),
        Status::IllegalMessage
    );
}

#[test]
fn qop_requests() {
    let (mut w, _) = pair(DigestQop::AuthConf(Cipher::Rc4));
    assert!(!w.supports_qop(Qop::IntegrityOnly));
    let mut buf = [0u8; 64];
    let err = w
        .wrap(Qop::IntegrityOnly, RecordMut::new(&mut buf, 0, 3).unwrap())
        .unwrap_err();
    assert_eq!(err.status(), Status::QopNotSupported);
    let (mut w, _) = pair(DigestQop::AuthInt);
    assert!(w.supports_qop(Qop::IntegrityOnly));
    let err = w
        .wrap(Qop::Default, RecordMut::new(&mut buf[..18], 0, 3).unwrap())
        .unwrap_err();
    assert_eq!(err.status(), Status::BufferTooSmall);
}

#[test]
fn exhausted_sequence_numbers_expire_the_context() {
    let (mut w, _) = pair(DigestQop::AuthInt);
    w.0.seq = u64::from(u32::MAX);
    let token = wrap(&mut w, b"last");
    assert_eq!(&token[token.len() - 4..], &[0xFF; 4]);
    let mut buf = [0u8; 64];
    let err = w
        .wrap(Qop::Default, RecordMut::new(&mut buf, 0, 3).unwrap())
        .unwrap_err();
    assert_eq!(err.status(), Status::ContextExpired);
}

/// Wrap `msg` through `wrap_copying`, the payload region starting out as garbage.
fn wrap_copied(w: &mut DigestWrap, msg: &[u8]) -> Vec<u8> {
    let mut buf = vec![0xA5; msg.len() + w.overhead().trailer];
    let n = w
        .wrap_copying(
            Qop::Default,
            msg,
            RecordMut::new(&mut buf, 0, msg.len()).unwrap(),
        )
        .unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn copying_while_hashing_wraps_the_same_tokens() {
    // Lengths around the copy chunk and the block sizes, and a full 64 KiB frame's payload.
    let lengths = [0, 1, 7, 8, 63, 64, 65, 4095, 4096, 4097, 8192 + 3, 65516];
    for qop in qops() {
        let (mut in_place, mut receiver) = pair(qop);
        let (mut copying, _) = pair(qop);
        for (i, &len) in lengths.iter().enumerate() {
            let msg: Vec<u8> = (0..len).map(|b| (b * 7 + i) as u8).collect();
            let token = wrap_copied(&mut copying, &msg);
            // The same token as copying first and then wrapping, sequence number and cipher
            // state included (the previous tokens went through the same path on both sides).
            assert_eq!(token, wrap(&mut in_place, &msg), "{qop}, {len} bytes");
            assert_eq!(unwrap(&mut receiver, &token).unwrap(), msg, "{qop}");
        }
        assert_eq!(copying.sequence(), lengths.len() as u64);
    }
}

#[test]
fn copying_a_plaintext_of_the_wrong_length_is_refused_and_sends_nothing() {
    for qop in qops() {
        let (mut w, mut receiver) = pair(qop);
        let mut buf = vec![0; 100];
        let err = w
            .wrap_copying(
                Qop::Default,
                b"four",
                RecordMut::new(&mut buf, 0, 5).unwrap(),
            )
            .unwrap_err();
        assert_eq!(err.status(), Status::InternalError, "{qop}");
        // Nothing was used up: the next token is the first one.
        assert_eq!(w.sequence(), 0, "{qop}");
        let token = wrap_copied(&mut w, b"next");
        assert_eq!(unwrap(&mut receiver, &token).unwrap(), b"next", "{qop}");
    }
}
