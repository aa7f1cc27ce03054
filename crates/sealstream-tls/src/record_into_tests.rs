//! Records sealed from the caller's buffer and opened into the reader's: the same records as
//! in place, for every suite, and nothing of a record that is not the reader's (a control
//! record, a forgery) left in the reader's buffer.

use super::*;

/// What the reader's buffer holds where nothing was written.
const UNTOUCHED: u8 = 0xAA;

/// Open `record` into a buffer of `room` bytes; the outcome and the buffer.
fn open_into(
    end: &mut End,
    record: &mut [u8],
    room: usize,
) -> (Result<Option<Unsealed>, sealstream::Error>, Vec<u8>) {
    let mut out = vec![UNTOUCHED; room];
    let outcome = end.unseal.unseal_into(record, &mut out);
    (outcome, out)
}

/// The plaintext range and bytes consumed of a data record opened into the reader's buffer.
fn opened(
    outcome: Result<Option<Unsealed>, sealstream::Error>,
    suite: SupportedCipherSuite,
) -> (std::ops::Range<usize>, usize) {
    match outcome {
        Ok(Some(Unsealed::Data {
            plaintext,
            consumed,
            ..
        })) => (plaintext, consumed),
        other => panic!("{suite:?}: not a data record opened into the buffer: {other:?}"),
    }
}

/// Seal `message` in place: the payload already lies in the record buffer.
fn seal_in_place(end: &mut End, message: &[u8]) -> Vec<u8> {
    let sizes = end.seal.sizes();
    let mut out = vec![0u8; sizes.record_len(message.len())];
    out[sizes.header..sizes.header + message.len()].copy_from_slice(message);
    let record = sealstream::RecordMut::new(&mut out, sizes.header, message.len()).unwrap();
    let n = end.seal.seal(Qop::Default, record).unwrap();
    out.truncate(n);
    out
}

#[test]
fn records_sealed_either_way_open_either_way() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        for len in [0usize, 1, 100, 4097, MAX_PLAINTEXT] {
            let message: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            // `seal` copies from the caller's buffer (`Seal::seal_copying`).
            for mut record in [
                seal(&mut client, &message),
                seal_in_place(&mut client, &message),
            ] {
                let total = record.len();
                // The room a record needs: its plaintext, and TLS 1.3's content type.
                let room = len + usize::from(tls13);
                let (outcome, out) = open_into(&mut server, &mut record, room);
                let (plaintext, consumed) = opened(outcome, suite);
                assert_eq!((plaintext.start, consumed), (0, total), "{suite:?}");
                assert_eq!(&out[plaintext], &message[..], "{suite:?} {len}");
            }
            // And in place, as before.
            let record = seal(&mut client, &message);
            assert_eq!(open(&mut server, record).unwrap().unwrap(), message);
        }
        assert_eq!(client.seal.sequence(), server.unseal.sequence());
    }
}

#[test]
fn a_record_that_does_not_fit_is_left_for_unsealing_in_place() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        let mut record = seal(&mut client, b"twelve bytes");
        let sequence = server.unseal.sequence();
        let room = 12 + usize::from(tls13) - 1;
        let (outcome, out) = open_into(&mut server, &mut record, room);
        assert_eq!(outcome.unwrap(), None, "{suite:?}");
        assert!(out.iter().all(|&b| b == UNTOUCHED), "{suite:?}");
        assert_eq!(server.unseal.sequence(), sequence, "{suite:?}");
        assert_eq!(open(&mut server, record).unwrap().unwrap(), b"twelve bytes");
        // A partial record is incomplete, whatever the room.
        let record = seal(&mut client, b"partial");
        let (outcome, _) = open_into(&mut server, &mut record[..8].to_vec(), 1 << 16);
        assert!(
            matches!(outcome.unwrap(), Some(Unsealed::Incomplete { .. })),
            "{suite:?}"
        );
    }
}

#[test]
fn a_forged_record_leaves_nothing_in_the_readers_buffer() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        let message = vec![0x11; 3000];
        let mut record = seal(&mut client, &message);
        let last = record.len() - 1;
        record[last] ^= 1;
        let (outcome, out) = open_into(&mut server, &mut record, 1 << 16);
        let err = outcome.unwrap_err();
        assert_eq!(err.status(), Status::MessageAltered, "{suite:?}");
        assert_eq!(
            server.unseal.alert_for(&err),
            Some(Control::Alert(AlertCode::fatal(
                crate::alert::BAD_RECORD_MAC
            )))
        );
        assert!(
            out.iter().all(|&b| b == 0 || b == UNTOUCHED),
            "{suite:?}: plaintext of a forged record left in the reader's buffer"
        );
    }
}

#[test]
fn control_records_opened_into_the_readers_buffer_are_wiped_from_it() {
    for (tls13, suite) in every_suite().into_iter().filter(|(tls13, _)| *tls13) {
        let (mut client, mut server) = connected(tls13, suite, None);
        let update = Control::KeyUpdate {
            update_requested: true,
        };
        let mut record = seal_control(&mut client, &update);
        let (outcome, out) = open_into(&mut server, &mut record, 1 << 16);
        assert!(
            matches!(outcome.unwrap(), Some(Unsealed::Respond { .. })),
            "{suite:?}"
        );
        assert!(out.iter().all(|&b| b == 0 || b == UNTOUCHED), "{suite:?}");
        assert_eq!(server.unseal.key_updates_received(), 1);
        // The next generation's data still opens into the buffer.
        let mut record = seal(&mut client, b"after the update");
        let (outcome, out) = open_into(&mut server, &mut record, 1 << 16);
        let Some(Unsealed::Data { plaintext, .. }) = outcome.unwrap() else {
            panic!("{suite:?}: data after the update");
        };
        assert_eq!(&out[plaintext], b"after the update");
        // close_notify ends the stream and leaves nothing either.
        let mut record = seal_control(&mut client, &Control::Close);
        let (outcome, out) = open_into(&mut server, &mut record, 1 << 16);
        assert!(matches!(outcome.unwrap(), Some(Unsealed::Closed { .. })));
        assert!(out.iter().all(|&b| b == 0 || b == UNTOUCHED), "{suite:?}");
    }
}

#[test]
fn a_flood_of_empty_records_opens_into_the_readers_buffer_one_by_one() {
    // Empty data records are allowed (RFC 8446 §5.1) and cost the receiver one AEAD call of a
    // byte or none each: 10,000 of them in one input, opened into a reader's buffer, give
    // 10,000 empty plaintexts and leave the half in step with the sender.
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        let mut wire = Vec::new();
        for _ in 0..10_000 {
            wire.extend(seal(&mut client, b""));
        }
        wire.extend(seal(&mut client, b"after"));
        let mut reader = vec![UNTOUCHED; 64];
        let mut at = 0;
        let mut empty = 0;
        let got = loop {
            let outcome = server.unseal.unseal_into(&mut wire[at..], &mut reader);
            let (plaintext, consumed) = opened(outcome, suite);
            at += consumed;
            if plaintext.is_empty() {
                empty += 1;
            } else {
                break reader[plaintext].to_vec();
            }
        };
        assert_eq!((empty, &got[..], at), (10_000, &b"after"[..], wire.len()));
        assert_eq!(
            server.unseal.sequence(),
            client.seal.sequence(),
            "{suite:?}"
        );
    }
}
