use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut, Status};
use zeroize::Zeroizing;

use super::*;
use crate::hex;
use crate::wire::utf16le;

/// Both ends of a context on MS-NLMP §4.2.4's session key (16 bytes of 0x55, key exchange).
fn pair(protection: Protection) -> ((NtlmWrap, NtlmUnwrap), (NtlmWrap, NtlmUnwrap)) {
    let flags = NegotiateFlags::from_bits(0xe288_8235);
    let key = || Zeroizing::new([0x55; 16]);
    (
        SessionContext::new(Role::Initiator, flags, key()).into_halves(protection),
        SessionContext::new(Role::Acceptor, flags, key()).into_halves(protection),
    )
}

fn wrap(w: &mut NtlmWrap, qop: Qop, plaintext: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; SIGNATURE_LEN + plaintext.len()];
    buf[SIGNATURE_LEN..].copy_from_slice(plaintext);
    let n = w
        .wrap(
            qop,
            RecordMut::new(&mut buf, SIGNATURE_LEN, plaintext.len()).unwrap(),
        )
        .unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn sealing_matches_ms_nlmp_4_2_4_4() {
    let ((mut client, _), _) = pair(Protection::Seal);
    let token = wrap(&mut client, Qop::Default, &utf16le("Plaintext"));
    assert_eq!(token[..16], hex("010000007fb38ec5c55d497600000000")[..]);
    assert_eq!(token[16..], hex("54e50165bf1936dc996020c1811b0f06fb5f")[..]);
}

#[test]
fn the_copying_wrap_gives_the_same_tokens() {
    let ((mut a, _), _) = pair(Protection::Seal);
    let ((mut b, _), _) = pair(Protection::Seal);
    for len in [0, 1, 4095, 4096, 4097, 20000] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let in_place = wrap(&mut a, Qop::Default, &plaintext);
        let mut buf = vec![0xEE; SIGNATURE_LEN + len];
        let n = b
            .wrap_copying(
                Qop::Default,
                &plaintext,
                RecordMut::new(&mut buf, SIGNATURE_LEN, len).unwrap(),
            )
            .unwrap();
        assert_eq!(&buf[..n], &in_place[..], "length {len}");
    }
}

#[test]
fn each_direction_round_trips_sealed_and_signed() {
    for protection in [Protection::Seal, Protection::Sign] {
        let ((mut cw, mut cu), (mut sw, mut su)) = pair(protection);
        for i in 0..5u8 {
            let msg = vec![i; 100 * usize::from(i)];
            let mut t = wrap(&mut cw, Qop::Default, &msg);
            assert_eq!(
                t[16..] == msg[..],
                protection == Protection::Sign || msg.is_empty()
            );
            let r = su.unwrap(&mut t).unwrap();
            assert_eq!(t[r], msg[..]);
            let mut t = wrap(&mut sw, Qop::Default, &msg);
            let r = cu.unwrap(&mut t).unwrap();
            assert_eq!(t[r], msg[..]);
        }
        assert_eq!((cw.sequence(), su.sequence()), (5, 5));
    }
}

#[test]
fn tampered_replayed_reflected_and_short_tokens_are_refused() {
    let ((mut cw, _), (mut sw, mut su)) = pair(Protection::Seal);
    let good = wrap(&mut cw, Qop::Default, b"hello, directory");
    for at in [4, 11, 16, good.len() - 1] {
        let (_, (_, mut fresh)) = pair(Protection::Seal);
        let mut t = good.clone();
        t[at] ^= 1;
        let e = fresh.unwrap(&mut t).unwrap_err();
        assert_eq!(e.status(), Status::MessageAltered, "byte {at}");
    }
    let mut t = good.clone();
    su.unwrap(&mut t).unwrap();
    // The same token again: its sequence number is the previous one.
    let e = su.unwrap(&mut good.clone()).unwrap_err();
    assert_eq!(e.status(), Status::OutOfSequence);
    // A token the server sent, reflected back to it: other keys.
    let (_, (_, mut fresh)) = pair(Protection::Seal);
    let e = fresh
        .unwrap(&mut wrap(&mut sw, Qop::Default, b"x"))
        .unwrap_err();
    assert_ne!(e.status(), Status::Ok);
    let e = su.unwrap(&mut good[..15].to_vec()).unwrap_err();
    assert_eq!(e.status(), Status::InvalidToken);
    let mut t = good.clone();
    t[0] = 2;
    assert_eq!(
        su.unwrap(&mut t).unwrap_err().status(),
        Status::InvalidToken
    );
}

#[test]
fn integrity_only_tokens_only_on_a_signing_layer() {
    let ((mut seal, _), _) = pair(Protection::Seal);
    assert!(!seal.supports_qop(Qop::IntegrityOnly));
    let mut buf = [0; 20];
    let e = seal
        .wrap(Qop::IntegrityOnly, RecordMut::new(&mut buf, 16, 4).unwrap())
        .unwrap_err();
    assert_eq!(e.status(), Status::QopNotSupported);
    let ((mut sign, _), (_, mut su)) = pair(Protection::Sign);
    assert!(sign.supports_qop(Qop::IntegrityOnly));
    let mut t = wrap(&mut sign, Qop::IntegrityOnly, b"in clear");
    assert_eq!(&t[16..], b"in clear");
    assert_eq!(su.unwrap(&mut t).unwrap(), 16..24);
}

#[test]
fn signatures_verify_and_the_keystream_rewinds() {
    let ((mut cw, _), (_, mut su)) = pair(Protection::Seal);
    let sig = cw.sign(b"mechList").unwrap();
    su.verify(b"mechList", &sig).unwrap();
    assert_eq!(
        su.verify(b"mechList", &sig).unwrap_err().status(),
        Status::OutOfSequence
    );
    // MS-SPNG's rewind: both ends start the keystream again, sequence numbers go on.
    cw.rewind_keystream();
    su.rewind_keystream();
    let mut t = wrap(&mut cw, Qop::Default, b"after the MIC");
    assert_eq!(&t[12..16], &1u32.to_le_bytes());
    let r = su.unwrap(&mut t).unwrap();
    assert_eq!(&t[r], b"after the MIC");
    let e = su.verify(b"x", &[0; 15]).unwrap_err();
    assert_eq!(e.status(), Status::InvalidToken);
}

#[test]
fn spent_sequence_numbers_expire_the_context() {
    let ((mut cw, _), _) = pair(Protection::Seal);
    cw.0.seq = u64::from(u32::MAX) + 1;
    assert_eq!(cw.sign(b"x").unwrap_err().status(), Status::ContextExpired);
}
