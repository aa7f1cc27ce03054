//! The receiving half against a peer that breaks the rules after the handshake: renegotiation
//! requests, floods of handshake messages, messages cut across records, oversized records and
//! record versions. Records are sealed with the peer's real keys, so every case reaches the
//! code behind the AEAD.

use super::*;

/// A handshake message: type, 24-bit length, body.
fn message(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    [&[ty, len[1], len[2], len[3]][..], body].concat()
}

/// A well-formed ClientHello body with one extension.
fn client_hello() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0]);
    body.extend_from_slice(&[0, 5, 0xff, 0x01, 0, 1, 0]);
    body
}

/// A well-formed NewSessionTicket body.
const TICKET: &[u8] = &[0, 0, 0, 60, 1, 2, 3, 4, 1, 9, 0, 3, 7, 7, 7, 0, 0];

/// Seal `content` as one record of type `ty` (TLS 1.3: the inner type, with `padding` zeros
/// after it) carrying record version `version`, straight through the cipher and without the
/// size checks of [`TlsSeal`]: what a peer that breaks the rules sends.
fn seal_raw(end: &mut End, ty: u8, version: [u8; 2], content: &[u8], padding: usize) -> Vec<u8> {
    let seal = &mut end.seal;
    let seq = seal.seq;
    seal.seq += 1;
    let header = |ty: u8, len: usize| {
        let len = (len as u16).to_be_bytes();
        [ty, version[0], version[1], len[0], len[1]]
    };
    let tls12_aad = |len: usize| {
        let mut aad = seq.to_be_bytes().to_vec();
        aad.extend_from_slice(&[ty, version[0], version[1]]);
        aad.extend_from_slice(&(len as u16).to_be_bytes());
        aad
    };
    let mut body = content.to_vec();
    let (mut record, nonce, aad) = match seal.cipher.framing() {
        Framing::Tls13 => {
            body.push(ty);
            body.resize(body.len() + padding, 0);
            let hdr = header(APPLICATION_DATA, body.len() + TAG_LEN);
            (hdr.to_vec(), seal.cipher.xor_nonce(seq), hdr.to_vec())
        }
        Framing::Tls12Explicit => {
            let nonce = seal.cipher.xor_nonce(seq);
            let mut record = header(ty, EXPLICIT_NONCE_LEN + body.len() + TAG_LEN).to_vec();
            record.extend_from_slice(&nonce[4..]);
            (record, nonce, tls12_aad(body.len()))
        }
        Framing::Tls12Implicit => (
            header(ty, body.len() + TAG_LEN).to_vec(),
            seal.cipher.xor_nonce(seq),
            tls12_aad(body.len()),
        ),
    };
    body.resize(body.len() + TAG_LEN, 0);
    seal.cipher
        .seal_body(nonce, &aad, None, &[], &mut body)
        .unwrap();
    record.extend_from_slice(&body);
    record
}

fn assert_fatal(end: &End, err: &sealstream::Error, description: u8, text: &str) {
    assert_eq!(err.status(), Status::IllegalMessage, "{err}");
    assert!(err.to_string().contains(text), "{err}");
    assert_eq!(
        end.unseal.alert_for(err),
        Some(Control::Alert(AlertCode::fatal(description))),
        "{err}"
    );
}

fn no_renegotiation() -> Unsealed {
    Unsealed::Respond {
        consumed: 0,
        control: Control::Alert(AlertCode {
            level: AlertCode::WARNING,
            description: crate::alert::NO_RENEGOTIATION,
        }),
    }
}

/// The outcome with `consumed` set to 0, to compare what it says.
fn without_consumed(outcome: Unsealed) -> Unsealed {
    match outcome {
        Unsealed::Respond { control, .. } => Unsealed::Respond {
            consumed: 0,
            control,
        },
        Unsealed::Consumed { .. } => Unsealed::Consumed { consumed: 0 },
        other => other,
    }
}

#[test]
fn a_record_packed_with_client_hellos_ends_the_connection_at_the_second() {
    for suite in tls::suites(false) {
        // The attack: one record of 16 KiB holding some 4,600 empty ClientHellos, or as many
        // well-formed ones as fit. The first empty one is malformed; with well-formed ones, the
        // first is refused with a warning and the second ends the connection.
        let (mut client, mut server) = connected(false, suite, None);
        let empty = message(CLIENT_HELLO, &[]).repeat(MAX_PLAINTEXT / 4);
        let record = seal_handshake(&mut client, &empty);
        let err = open(&mut server, record).unwrap_err();
        assert_fatal(
            &server,
            &err,
            crate::alert::DECODE_ERROR,
            "malformed ClientHello",
        );

        let (mut client, mut server) = connected(false, suite, None);
        let hello = message(CLIENT_HELLO, &client_hello());
        let packed = hello.repeat(MAX_PLAINTEXT / hello.len());
        let record = seal_handshake(&mut client, &packed);
        let err = open(&mut server, record).unwrap_err();
        assert_fatal(
            &server,
            &err,
            crate::alert::UNEXPECTED_MESSAGE,
            "second renegotiation request",
        );
    }
}

#[test]
fn renegotiation_is_refused_with_a_warning_once_and_fatally_after() {
    for suite in tls::suites(false) {
        // To a server, a ClientHello; to a client, a HelloRequest.
        let hello = message(CLIENT_HELLO, &client_hello());
        let request = message(HELLO_REQUEST, &[]);
        for to_server in [true, false] {
            let (mut client, mut server) = connected(false, suite, None);
            let (peer, end, ask) = if to_server {
                (&mut client, &mut server, &hello)
            } else {
                (&mut server, &mut client, &request)
            };
            let record = seal_handshake(peer, ask);
            let outcome = open(end, record).unwrap().unwrap_err();
            assert_eq!(without_consumed(outcome), no_renegotiation(), "{suite:?}");
            // Data still flows after the refusal.
            let record = seal(peer, b"still here");
            assert_eq!(open(end, record).unwrap().unwrap(), b"still here");
            let record = seal_handshake(peer, ask);
            let err = open(end, record).unwrap_err();
            assert_fatal(
                end,
                &err,
                crate::alert::UNEXPECTED_MESSAGE,
                "second renegotiation request",
            );
        }
    }
}

#[test]
fn renegotiation_requests_must_come_from_the_right_side_with_the_right_body() {
    let suite = tls::suites(false)[0];
    let hello = message(CLIENT_HELLO, &client_hello());
    let request = message(HELLO_REQUEST, &[]);
    let cases: [(bool, Vec<u8>, u8, &str); 5] = [
        // (sent by the server?, message, alert, text)
        (
            true,
            hello.clone(),
            crate::alert::UNEXPECTED_MESSAGE,
            "type 1 on a TLS 1.2 client",
        ),
        (
            false,
            request.clone(),
            crate::alert::UNEXPECTED_MESSAGE,
            "type 0 on a TLS 1.2 server",
        ),
        (
            true,
            message(HELLO_REQUEST, &[0]),
            crate::alert::DECODE_ERROR,
            "HelloRequest with a body",
        ),
        (
            false,
            message(CLIENT_HELLO, &client_hello()[..40]),
            crate::alert::DECODE_ERROR,
            "malformed ClientHello",
        ),
        (
            false,
            message(NEW_SESSION_TICKET, TICKET),
            crate::alert::UNEXPECTED_MESSAGE,
            "type 4 on a TLS 1.2 server",
        ),
    ];
    for (from_server, bytes, alert, text) in cases {
        let (mut client, mut server) = connected(false, suite, None);
        let (peer, end) = if from_server {
            (&mut server, &mut client)
        } else {
            (&mut client, &mut server)
        };
        let record = seal_handshake(peer, &bytes);
        let err = open(end, record).unwrap_err();
        assert_fatal(end, &err, alert, text);
    }
    // TLS 1.3 has no renegotiation at all.
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    let record = seal_handshake(&mut client, &hello);
    let err = open(&mut server, record).unwrap_err();
    assert_fatal(
        &server,
        &err,
        crate::alert::UNEXPECTED_MESSAGE,
        "type 1 on a TLS 1.3 server",
    );
}

#[test]
fn a_message_cut_across_records_anywhere_is_reassembled() {
    // TLS 1.2: a ClientHello cut in two at every point, header included.
    let (mut client, mut server) = connected(false, tls::suites(false)[0], None);
    let hello = message(CLIENT_HELLO, &client_hello());
    for cut in 1..hello.len() {
        server.unseal.renegotiation_refused = false;
        let record = seal_handshake(&mut client, &hello[..cut]);
        assert!(
            matches!(
                open(&mut server, record),
                Ok(Err(Unsealed::Consumed { .. }))
            ),
            "cut at {cut}"
        );
        assert!(server.unseal.handshake.is_some());
        let record = seal_handshake(&mut client, &hello[cut..]);
        let outcome = open(&mut server, record).unwrap().unwrap_err();
        assert_eq!(
            without_consumed(outcome),
            no_renegotiation(),
            "cut at {cut}"
        );
        assert!(server.unseal.handshake.is_none());
    }

    // TLS 1.3: three tickets sent one byte per record, then three tickets across two records
    // with the cut inside the second ticket's header.
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    client.unseal.tickets = None;
    let tickets = message(NEW_SESSION_TICKET, TICKET).repeat(3);
    for byte in &tickets {
        let record = seal_handshake(&mut server, &[*byte]);
        assert!(matches!(
            open(&mut client, record),
            Ok(Err(Unsealed::Consumed { .. }))
        ));
    }
    assert!(client.unseal.handshake.is_none());
    let cut = TICKET.len() + 4 + 2;
    for part in [&tickets[..cut], &tickets[cut..]] {
        let record = seal_handshake(&mut server, part);
        assert!(matches!(
            open(&mut client, record),
            Ok(Err(Unsealed::Consumed { .. }))
        ));
    }
    assert!(client.unseal.handshake.is_none());
    // A malformed ticket in the middle of a record is found there.
    let mut bad = message(NEW_SESSION_TICKET, TICKET);
    bad.extend(message(NEW_SESSION_TICKET, &TICKET[..9]));
    bad.extend(message(NEW_SESSION_TICKET, TICKET));
    let record = seal_handshake(&mut server, &bad);
    let err = open(&mut client, record).unwrap_err();
    assert_fatal(
        &client,
        &err,
        crate::alert::DECODE_ERROR,
        "malformed NewSessionTicket",
    );
}

#[test]
fn a_message_dripped_a_byte_per_record_is_gathered_in_one_allocation() {
    // The quadratic case of reassembly: the largest message, one byte per record. Once its
    // header is in, the partial message is held in one buffer of the message's size that never
    // moves again, so each record costs one byte of copying, not the whole message so far.
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    client.unseal.tickets = None;
    let body_len = MAX_HANDSHAKE_MESSAGE - 4;
    let mut body = TICKET[..8].to_vec();
    body.push(0); // no nonce
    let ticket_len = body_len - body.len() - 2 - 2;
    body.extend_from_slice(&(ticket_len as u16).to_be_bytes());
    body.resize(body.len() + ticket_len, 0x5a);
    body.extend_from_slice(&[0, 0]); // no extensions
    let whole = message(NEW_SESSION_TICKET, &body);
    assert_eq!(whole.len(), MAX_HANDSHAKE_MESSAGE);
    let mut buffer = None;
    for (at, byte) in whole.iter().enumerate() {
        let record = seal_handshake(&mut server, &[*byte]);
        assert!(
            matches!(
                open(&mut client, record),
                Ok(Err(Unsealed::Consumed { .. }))
            ),
            "byte {at}"
        );
        if at >= 3 && at + 1 < whole.len() {
            let partial = client.unseal.handshake.as_ref().expect("a partial message");
            assert!(partial.capacity() >= whole.len(), "byte {at}");
            let place = partial.as_ptr();
            assert_eq!(*buffer.get_or_insert(place), place, "moved at byte {at}");
        }
    }
    assert!(client.unseal.handshake.is_none(), "the ticket was taken");
}

#[test]
fn an_oversized_message_is_refused_from_its_header() {
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    // The header alone, announcing more than is reassembled, split over two records.
    let len = (MAX_HANDSHAKE_MESSAGE as u32).to_be_bytes();
    let header = [NEW_SESSION_TICKET, len[1], len[2], len[3]];
    let record = seal_handshake(&mut server, &header[..2]);
    assert!(matches!(
        open(&mut client, record),
        Ok(Err(Unsealed::Consumed { .. }))
    ));
    let record = seal_handshake(&mut server, &header[2..]);
    let err = open(&mut client, record).unwrap_err();
    assert_fatal(
        &client,
        &err,
        crate::alert::UNEXPECTED_MESSAGE,
        "post-handshake message of",
    );
    // Nothing of the refused message is kept.
    assert!(client.unseal.handshake.is_none());
}

#[test]
fn key_update_rules_and_a_flood_that_empty_records_do_not_excuse() {
    let update = message(KEY_UPDATE, &[0]);
    // Not at the end of its record; a request value other than 0 or 1; the wrong length.
    for (bytes, alert, text) in [
        (
            [update.clone(), message(KEY_UPDATE, &[0])].concat(),
            crate::alert::UNEXPECTED_MESSAGE,
            "not at the end of its record",
        ),
        (
            message(KEY_UPDATE, &[2]),
            crate::alert::ILLEGAL_PARAMETER,
            "invalid request value",
        ),
        (
            message(KEY_UPDATE, &[0, 0]),
            crate::alert::DECODE_ERROR,
            "wrong length",
        ),
    ] {
        let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
        let record = seal_handshake(&mut client, &bytes);
        let err = open(&mut server, record).unwrap_err();
        assert_fatal(&server, &err, alert, text);
    }

    // KeyUpdates with empty data records between them still count as in a row.
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    let not_requested = Control::KeyUpdate {
        update_requested: false,
    };
    for _ in 0..MAX_KEY_UPDATES_IN_A_ROW {
        let record = seal_control(&mut client, &not_requested);
        assert!(matches!(
            open(&mut server, record),
            Ok(Err(Unsealed::Consumed { .. }))
        ));
        let record = seal(&mut client, b"");
        assert_eq!(open(&mut server, record).unwrap().unwrap(), b"");
    }
    let record = seal_control(&mut client, &not_requested);
    let err = open(&mut server, record).unwrap_err();
    assert_fatal(
        &server,
        &err,
        crate::alert::UNEXPECTED_MESSAGE,
        "KeyUpdates without application data",
    );

    // With a byte of data between them there is no limit.
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    for _ in 0..2 * MAX_KEY_UPDATES_IN_A_ROW {
        let record = seal_control(&mut client, &not_requested);
        assert!(open(&mut server, record).is_ok());
        let record = seal(&mut client, b"x");
        assert_eq!(open(&mut server, record).unwrap().unwrap(), b"x");
    }
}

#[test]
fn a_record_that_decrypts_to_more_than_the_limit_is_record_overflow() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        // The largest allowed: 2^14 bytes of content (TLS 1.3: then its type, 2^14 + 1 inner).
        let full = vec![0x42; MAX_PLAINTEXT];
        let record = seal_raw(&mut client, APPLICATION_DATA, VERSION, &full, 0);
        assert_eq!(
            open(&mut server, record).unwrap().unwrap(),
            full,
            "{suite:?}"
        );
        // One byte more of content, or (TLS 1.3) of padding.
        let over = vec![0x42; MAX_PLAINTEXT + 1];
        let record = seal_raw(&mut client, APPLICATION_DATA, VERSION, &over, 0);
        let err = open(&mut server, record).unwrap_err();
        assert_fatal(
            &server,
            &err,
            crate::alert::RECORD_OVERFLOW,
            "record_overflow",
        );
        if tls13 {
            let (mut client, mut server) = connected(tls13, suite, None);
            let record = seal_raw(&mut client, APPLICATION_DATA, VERSION, &full[..100], 0);
            assert!(open(&mut server, record).is_ok());
            let padded = seal_raw(
                &mut client,
                APPLICATION_DATA,
                VERSION,
                &full[..MAX_PLAINTEXT - 10],
                11,
            );
            let err = open(&mut server, padded).unwrap_err();
            assert_fatal(
                &server,
                &err,
                crate::alert::RECORD_OVERFLOW,
                "record_overflow",
            );
        }
    }
}

#[test]
fn tls13_ignores_the_legacy_record_version_and_tls12_requires_its_own() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        let record = seal_raw(&mut client, APPLICATION_DATA, [3, 1], b"legacy", 0);
        if tls13 {
            // RFC 8446 §5.1: "MUST be ignored for all purposes".
            assert_eq!(open(&mut server, record).unwrap().unwrap(), b"legacy");
        } else {
            let err = open(&mut server, record).unwrap_err();
            assert_fatal(
                &server,
                &err,
                crate::alert::DECODE_ERROR,
                "record version 0301",
            );
        }
    }
}

/// A peer that asks for a new key generation before every byte it sends, against a receiver
/// whose directions go idle between messages: every generation is ratcheted once, its keys
/// dropped at its first idle and derived once again, and nothing accumulates; the sender's
/// side the same. Ten thousand rounds, each message still opened.
#[test]
fn a_key_update_before_every_byte_with_idle_gaps_costs_one_ratchet_each() {
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    let update = Control::KeyUpdate {
        update_requested: false,
    };
    for i in 0..10_000u32 {
        let record = seal_control(&mut client, &update);
        client.seal.release_idle();
        assert!(open(&mut server, record).is_ok(), "round {i}");
        server.unseal.release_idle();
        assert!(!server.unseal.cipher.has_keys() && !server.unseal.cipher.is_expanded());
        let byte = [i as u8];
        let record = seal(&mut client, &byte);
        assert_eq!(
            open(&mut server, record).unwrap().unwrap(),
            byte,
            "round {i}"
        );
        server.unseal.release_idle();
    }
    assert_eq!(server.unseal.key_updates_received(), 10_000);
}
