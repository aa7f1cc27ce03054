//! Wrap and MIC tokens: MIT krb5's own test tokens, round trips for every type and both kinds,
//! rotation, tampering at every byte, replay, reflection, and the key the flags name.

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut, Status};

use super::*;
use crate::{Enctype, Key};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Tokens from MIT krb5's `src/tests/gssapi/t_invalid.c`: an initiator's tokens under the
/// aes128-cts-hmac-sha1-96 key "1234567887654321", no acceptor subkey, sequence number 0, over
/// the message "message".
const MIT_KEY: &[u8] = b"1234567887654321";
const MIT_MIC: &str = "040400ffffffffff000000000000000097e9633f9d822b7467948ad0";
const MIT_WRAP_SIGNED: &str =
    "050400ff000c000000000000000000006d657373616765df57b95ea2b17331dbce6162";
const MIT_WRAP_SEALED: &str = "050402ff00000000000000000000000072bbd7cfdeb0f920e29a98a7a4e7c99b30d3fe61512e1b5688b78af5a9bf8f82b1ebcc88e63313bf524bc03b243f3ef5f1e064";

fn mit_acceptor(options: LayerOptions) -> Krb5Unwrap {
    let key = Key::new(Enctype::Aes128CtsHmacSha196, MIT_KEY).unwrap();
    SecurityContext::new(Role::Acceptor, key, None, 0, 0)
        .into_halves(options)
        .1
}

fn unwrapped(unwrap: &mut Krb5Unwrap, mut token: Vec<u8>) -> Result<Vec<u8>, sealstream::Error> {
    let range = unwrap.unwrap(&mut token)?;
    Ok(token[range].to_vec())
}

#[test]
fn mit_tokens_are_read() {
    let options = LayerOptions::new(Protection::Integrity);
    let mut acceptor = mit_acceptor(options);
    acceptor.verify_mic(b"message", &hex(MIT_MIC)).unwrap();

    let mut acceptor = mit_acceptor(options);
    assert_eq!(
        unwrapped(&mut acceptor, hex(MIT_WRAP_SIGNED)).unwrap(),
        b"message"
    );
    assert!(!acceptor.last_was_sealed());
    // What the stream reports as the record's protection (SSPI's pfQOP).
    let qop = |u: &Krb5Unwrap| sealstream::sasl::Unwrap::protection(u);
    assert_eq!(qop(&acceptor), sealstream::Protection::IntegrityOnly);

    let mut acceptor = mit_acceptor(LayerOptions::new(Protection::Confidentiality));
    assert_eq!(
        unwrapped(&mut acceptor, hex(MIT_WRAP_SEALED)).unwrap(),
        b"message"
    );
    assert!(acceptor.last_was_sealed());
    assert_eq!(qop(&acceptor), sealstream::Protection::Confidential);
}

#[test]
fn a_rotated_token_reads_the_same_whatever_its_rrc() {
    let token = hex(MIT_WRAP_SEALED);
    let body_len = token.len() - 16;
    for rrc in [1, 3, 16, 28, body_len - 1, body_len, body_len + 5, 0xffff] {
        let mut rotated = token.clone();
        rotated[6..8].copy_from_slice(&(rrc as u16).to_be_bytes());
        rotated[16..].rotate_right(rrc % body_len);
        let mut acceptor = mit_acceptor(LayerOptions::new(Protection::Confidentiality));
        assert_eq!(
            unwrapped(&mut acceptor, rotated).unwrap(),
            b"message",
            "RRC {rrc}"
        );
    }
    // A signed token rotated by its checksum's length, as Windows sends it.
    let mut signed = hex(MIT_WRAP_SIGNED);
    signed[6..8].copy_from_slice(&12u16.to_be_bytes());
    signed[16..].rotate_right(12);
    let mut acceptor = mit_acceptor(LayerOptions::new(Protection::Integrity));
    assert_eq!(unwrapped(&mut acceptor, signed).unwrap(), b"message");
}

/// An initiator and an acceptor over the same key, with an acceptor subkey if `subkey`.
fn pair(
    enctype: Enctype,
    options: LayerOptions,
    subkey: bool,
) -> ((Krb5Wrap, Krb5Unwrap), (Krb5Wrap, Krb5Unwrap)) {
    let key = Key::new(enctype, &vec![0x42; enctype.key_len()]).unwrap();
    let sub = subkey.then(|| Key::new(enctype, &vec![0x17; enctype.key_len()]).unwrap());
    let initiator = SecurityContext::new(Role::Initiator, key.clone(), sub.clone(), 7, 900);
    let acceptor = SecurityContext::new(Role::Acceptor, key, sub, 900, 7);
    (
        initiator.into_halves(options),
        acceptor.into_halves(options),
    )
}

/// Wrap `message` with `qop` into a fresh buffer laid out as the stream lays records out.
fn wrap(w: &mut Krb5Wrap, qop: Qop, message: &[u8]) -> Vec<u8> {
    let overhead = w.overhead_for(qop);
    let mut buf = vec![0u8; overhead.header + message.len() + overhead.trailer];
    buf[overhead.header..overhead.header + message.len()].copy_from_slice(message);
    let n = w
        .wrap(
            qop,
            RecordMut::new(&mut buf, overhead.header, message.len()).unwrap(),
        )
        .unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn every_type_round_trips_sealed_and_signed_both_ways() {
    for enctype in Enctype::ALL {
        for protection in [Protection::Confidentiality, Protection::Integrity] {
            for subkey in [false, true] {
                for rotate in [false, true] {
                    let options = LayerOptions::new(protection)
                        .rotate_like_windows(rotate)
                        .accept_unsealed(true);
                    let ((mut iw, mut iu), (mut aw, mut au)) = pair(enctype, options, subkey);
                    for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 1000, 65_000] {
                        let message: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                        for qop in [Qop::Default, Qop::IntegrityOnly] {
                            let token = wrap(&mut iw, qop, &message);
                            let sealed =
                                protection == Protection::Confidentiality && qop == Qop::Default;
                            if !sealed && !rotate {
                                assert_eq!(&token[16..16 + len], &message[..], "in clear");
                            }
                            let expected = if sealed {
                                16 + 16 + len + 16 + enctype.mac_len()
                            } else {
                                16 + len + enctype.checksum_len()
                            };
                            assert_eq!(token.len(), expected, "{enctype} {qop:?}");
                            assert_eq!(unwrapped(&mut au, token).unwrap(), message);
                            assert_eq!(au.last_was_sealed(), sealed);
                            let back = wrap(&mut aw, qop, &message);
                            assert_eq!(unwrapped(&mut iu, back).unwrap(), message);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn any_change_to_a_token_is_refused_and_nothing_is_handed_out() {
    for enctype in [
        Enctype::Aes128CtsHmacSha196,
        Enctype::Aes256CtsHmacSha384192,
    ] {
        for qop in [Qop::Default, Qop::IntegrityOnly] {
            let options = LayerOptions::new(Protection::Confidentiality).accept_unsealed(true);
            let ((mut iw, _), (_, au)) = pair(enctype, options, true);
            let token = wrap(&mut iw, qop, b"attack at dawn");
            for byte in 0..token.len() {
                for bit in [0x01, 0x80] {
                    // A fresh receiver each time: the first failure would otherwise be sticky
                    // only in the stream, not here.
                    let mut receiver = au.clone_for_test();
                    let mut tampered = token.clone();
                    tampered[byte] ^= bit;
                    let err = unwrapped(&mut receiver, tampered).unwrap_err();
                    assert!(
                        matches!(err.status(), Status::MessageAltered | Status::InvalidToken),
                        "{enctype} {qop:?} byte {byte}: {err}"
                    );
                }
            }
            // Cut short anywhere.
            for len in 0..token.len() {
                let mut receiver = au.clone_for_test();
                assert!(
                    unwrapped(&mut receiver, token[..len].to_vec()).is_err(),
                    "cut at {len}"
                );
            }
        }
    }
}

#[test]
fn replayed_reordered_and_dropped_tokens_are_out_of_sequence() {
    let options = LayerOptions::new(Protection::Confidentiality);
    let ((mut iw, _), (_, mut au)) = pair(Enctype::Aes256CtsHmacSha196, options, true);
    let first = wrap(&mut iw, Qop::Default, b"one");
    let second = wrap(&mut iw, Qop::Default, b"two");
    let third = wrap(&mut iw, Qop::Default, b"three");
    assert_eq!(unwrapped(&mut au, first.clone()).unwrap(), b"one");
    let replay = unwrapped(&mut au, first).unwrap_err();
    assert_eq!(replay.status(), Status::OutOfSequence, "{replay}");
    let skipped = unwrapped(&mut au, third.clone()).unwrap_err();
    assert_eq!(skipped.status(), Status::OutOfSequence, "{skipped}");
    assert_eq!(unwrapped(&mut au, second).unwrap(), b"two");
    assert_eq!(unwrapped(&mut au, third).unwrap(), b"three");
}

#[test]
fn a_token_reflected_to_its_sender_or_under_the_wrong_key_is_refused() {
    let options = LayerOptions::new(Protection::Confidentiality);
    // The initiator's own token fed back to the initiator's receiving half.
    let ((mut iw, mut iu), _) = pair(Enctype::Aes128CtsHmacSha196, options, false);
    let token = wrap(&mut iw, Qop::Default, b"mirror");
    let err = unwrapped(&mut iu, token).unwrap_err();
    assert_eq!(err.status(), Status::InvalidToken, "{err}");
    // A token without the AcceptorSubkey flag where the context has an acceptor subkey, and
    // one with it where there is none.
    let ((mut plain, _), _) = pair(Enctype::Aes128CtsHmacSha196, options, false);
    let (_, (_, mut with_subkey)) = pair(Enctype::Aes128CtsHmacSha196, options, true);
    let err = unwrapped(&mut with_subkey, wrap(&mut plain, Qop::Default, b"x")).unwrap_err();
    assert_eq!(err.status(), Status::InvalidToken, "{err}");
    let ((mut sub, _), _) = pair(Enctype::Aes128CtsHmacSha196, options, true);
    let (_, (_, mut without)) = pair(Enctype::Aes128CtsHmacSha196, options, false);
    let err = unwrapped(&mut without, wrap(&mut sub, Qop::Default, b"x")).unwrap_err();
    assert_eq!(err.status(), Status::InvalidToken, "{err}");
}

#[test]
fn a_confidential_layer_refuses_tokens_in_clear_unless_told_to_take_them() {
    let strict = LayerOptions::new(Protection::Confidentiality);
    let ((mut iw, _), (_, mut au)) = pair(Enctype::Aes128CtsHmacSha256128, strict, false);
    let err = unwrapped(&mut au, wrap(&mut iw, Qop::IntegrityOnly, b"clear")).unwrap_err();
    assert_eq!(err.status(), Status::QopNotSupported, "{err}");
    let lenient = strict.accept_unsealed(true);
    let ((mut iw, _), (_, mut au)) = pair(Enctype::Aes128CtsHmacSha256128, lenient, false);
    assert_eq!(
        unwrapped(&mut au, wrap(&mut iw, Qop::IntegrityOnly, b"clear")).unwrap(),
        b"clear"
    );
}

#[test]
fn mic_tokens_round_trip_and_tampering_is_refused() {
    for enctype in Enctype::ALL {
        let options = LayerOptions::new(Protection::Integrity);
        let ((mut iw, _), (_, mut au)) = pair(enctype, options, true);
        let mut token = vec![0u8; iw.mic_len()];
        let n = iw.get_mic(b"mechListMIC input", &mut token).unwrap();
        assert_eq!(n, 16 + enctype.checksum_len());
        au.verify_mic(b"mechListMIC input", &token).unwrap();
        // The next one, over another message, with a flipped checksum bit.
        iw.get_mic(b"second", &mut token).unwrap();
        let err = au.verify_mic(b"other", &token).unwrap_err();
        assert_eq!(err.status(), Status::MessageAltered);
        token[20] ^= 1;
        assert!(au.verify_mic(b"second", &token).is_err());
    }
}
