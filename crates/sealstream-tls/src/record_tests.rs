//! The record layer on its own, sans-IO: both halves of both ends after a real rustls
//! handshake over an in-memory pipe, driven record by record.
//!
//! The handshakes use `sealstream_interop::tls`'s configs, whose provider is always rustls's
//! aws-lc-rs one. Under `--no-default-features --features ring` the record layer seals with
//! ring all the same, so these tests then also check that a ring record layer interoperates
//! with secrets from an aws-lc-rs handshake (the record layer only receives extracted secrets).

use rustls::SupportedCipherSuite;
use rustls::client::UnbufferedClientConnection;
use rustls::server::UnbufferedServerConnection;
use sealstream::{AlertCode, Control, Qop, Seal, Status, Unseal, Unsealed, seal_message};
use sealstream_interop::tls;
use tokio::io::AsyncReadExt;

use super::*;
use crate::handshake::{Handshaken, handshake};

/// One end's halves.
struct End {
    seal: TlsSeal,
    unseal: TlsUnseal,
}

fn end(done: Handshaken, renew_after: Option<u64>) -> End {
    End {
        seal: TlsSeal::new(
            done.tx,
            done.tickets.clone(),
            done.info.clone(),
            renew_after,
        ),
        unseal: TlsUnseal::new(done.rx, done.tickets, done.info),
    }
}

/// A client and a server after a handshake limited to `suite`.
fn connected(tls13: bool, suite: SupportedCipherSuite, renew_after: Option<u64>) -> (End, End) {
    let id = tls::identity();
    let client = UnbufferedClientConnection::new(
        crate::client_config(&tls::client(&id, tls13, Some(suite))),
        tls::localhost(),
    )
    .unwrap();
    let server = UnbufferedServerConnection::new(crate::server_config(&tls::server(
        &id,
        tls13,
        Some(suite),
    )))
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (mut a, mut b) = tokio::io::duplex(64 * 1024);
        let (c, s) = tokio::join!(
            handshake(client, &mut a, Some("localhost".into()), Vec::new()),
            handshake(server, &mut b, None, Vec::new())
        );
        let (c, s) = (c.unwrap(), s.unwrap());
        assert!(c.ciphertext.is_empty() && s.ciphertext.is_empty());
        let (mut client, server) = (end(c, renew_after), end(s, None));
        // A TLS 1.3 server sends its session tickets with its last flight, before its handshake
        // returns: with the server's end of the pipe closed, reading to the end takes them all.
        drop(b);
        let mut pending = Vec::new();
        a.read_to_end(&mut pending).await.unwrap();
        while !pending.is_empty() {
            match client.unseal.unseal(&mut pending).unwrap() {
                Unsealed::Consumed { consumed } => drop(pending.drain(..consumed)),
                other => panic!("after the handshake: {other:?}"),
            }
        }
        (client, server)
    })
}

fn every_suite() -> Vec<(bool, SupportedCipherSuite)> {
    [true, false]
        .into_iter()
        .flat_map(|tls13| tls::suites(tls13).into_iter().map(move |s| (tls13, s)))
        .collect()
}

/// Seal `message` as one data record.
fn seal(end: &mut End, message: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; end.seal.sizes().record_len(message.len())];
    let n = seal_message(&mut end.seal, Qop::Default, message, &mut out).unwrap();
    out.truncate(n);
    out
}

fn seal_control(end: &mut End, control: &Control) -> Vec<u8> {
    let mut out = vec![0u8; end.seal.sizes().max_record()];
    let n = end.seal.seal_control(control, &mut out).unwrap();
    out.truncate(n);
    out
}

/// Seal `message` as one handshake record (a post-handshake message).
fn seal_handshake(end: &mut End, message: &[u8]) -> Vec<u8> {
    let mut record = vec![0u8; end.seal.sizes().max_record()];
    let n = end
        .seal
        .seal_bytes(HANDSHAKE, &mut record, message)
        .unwrap();
    record.truncate(n);
    record
}

/// Unseal one whole record; the plaintext of a data record, else the outcome. A record with an
/// even sequence number is opened into a reader's buffer ([`Unseal::unseal_into`]), one with
/// an odd number in place, so every test here goes through both.
fn open(
    end: &mut End,
    mut record: Vec<u8>,
) -> Result<Result<Vec<u8>, Unsealed>, sealstream::Error> {
    let len = record.len();
    let mut reader = vec![0u8; 32 * 1024];
    let (outcome, opened) = if end.unseal.sequence() % 2 == 0 {
        let outcome = end.unseal.unseal_into(&mut record, &mut reader)?;
        (outcome.expect("a whole record fits 32 KiB"), &reader)
    } else {
        (end.unseal.unseal(&mut record)?, &record)
    };
    match outcome {
        Unsealed::Data {
            plaintext,
            consumed,
            protection,
        } => {
            assert_eq!(consumed, len);
            assert_eq!(protection, sealstream::Protection::Confidential);
            Ok(Ok(opened[plaintext].to_vec()))
        }
        other => Ok(Err(other)),
    }
}

#[test]
fn every_suite_round_trips_both_ways_with_exact_sizes() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        for len in [0usize, 1, 100, MAX_PLAINTEXT] {
            let message = vec![len as u8 ^ 0x5a; len];
            let record = seal(&mut client, &message);
            let sizes = client.seal.sizes();
            // The header is exact; the trailer is TLS 1.3's inner type plus the tag.
            assert_eq!(
                record.len(),
                sizes.header + len + sizes.trailer,
                "{suite:?}"
            );
            assert_eq!(open(&mut server, record).unwrap().unwrap(), message);
            let back = seal(&mut server, &message);
            assert_eq!(open(&mut client, back).unwrap().unwrap(), message);
        }
        assert_eq!(client.seal.sequence(), server.unseal.sequence());
    }
}

#[test]
fn sans_io_misuse_is_refused_with_a_status() {
    let (mut client, _) = connected(true, tls::suites(true)[0], None);
    let mut out = vec![0u8; 64 * 1024];
    let too_big = vec![0u8; MAX_PLAINTEXT + 1];
    let err = seal_message(&mut client.seal, Qop::Default, &too_big, &mut out).unwrap_err();
    assert_eq!(err.status(), Status::InvalidParameter);
    let err = seal_message(&mut client.seal, Qop::Default, b"hello", &mut out[..10]).unwrap_err();
    assert_eq!(err.status(), Status::BufferTooSmall);
    // Calling the sealer directly with a record that lies about its room.
    let mut short = [0u8; 8];
    let record = sealstream::RecordMut::new(&mut short, 5, 3).unwrap();
    let err = client.seal.seal(Qop::Default, record).unwrap_err();
    assert_eq!(err.status(), Status::BufferTooSmall);
    let err = seal_message(&mut client.seal, Qop::IntegrityOnly, b"x", &mut out).unwrap_err();
    assert_eq!(err.status(), Status::QopNotSupported);
    // Nothing was sealed by the failed calls.
    assert_eq!(client.seal.sequence(), 0);
}

#[test]
fn out_of_band_qop_sends_an_alert_the_peer_names() {
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    let mut out = vec![0u8; 1024];
    let alert = AlertCode::fatal(crate::alert::ILLEGAL_PARAMETER);
    let n = seal_message(
        &mut client.seal,
        Qop::OutOfBand,
        &alert.to_bytes(),
        &mut out,
    )
    .unwrap();
    let err = open(&mut server, out[..n].to_vec()).unwrap_err();
    assert_eq!(err.status(), Status::IllegalMessage);
    assert!(err.to_string().contains("illegal_parameter"), "{err}");
    // A fatal alert ends the sending side.
    let err = seal_message(&mut client.seal, Qop::Default, b"more", &mut out).unwrap_err();
    assert_eq!(err.status(), Status::ContextExpired);
}

#[test]
fn tampering_and_replay_are_refused_without_plaintext() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        let first = seal(&mut client, b"first record");
        let mut flipped = first.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let err = open(&mut server, flipped).unwrap_err();
        assert_eq!(err.status(), Status::MessageAltered, "{suite:?}");
        assert_eq!(
            server.unseal.alert_for(&err),
            Some(Control::Alert(AlertCode::fatal(
                crate::alert::BAD_RECORD_MAC
            )))
        );

        // A fresh pair: a record replayed after it was accepted fails (its nonce is the
        // previous sequence number).
        let (mut client, mut server) = connected(tls13, suite, None);
        let record = seal(&mut client, b"once");
        assert_eq!(open(&mut server, record.clone()).unwrap().unwrap(), b"once");
        let err = open(&mut server, record).unwrap_err();
        assert_eq!(err.status(), Status::MessageAltered, "{suite:?}");
    }
}

#[test]
fn tls13_renews_its_key_before_the_limit_and_the_peer_follows() {
    let (mut client, mut server) = connected(true, tls::suites(true)[0], Some(3));
    let mut updates = 0;
    for i in 0..10u8 {
        if let Some(control) = client.seal.control_due() {
            assert_eq!(
                control,
                Control::KeyUpdate {
                    update_requested: false
                }
            );
            let record = seal_control(&mut client, &control);
            match open(&mut server, record).unwrap() {
                Err(Unsealed::Consumed { .. }) => updates += 1,
                other => panic!("a KeyUpdate that asks for nothing is consumed: {other:?}"),
            }
        }
        let record = seal(&mut client, &[i]);
        assert_eq!(open(&mut server, record).unwrap().unwrap(), [i]);
    }
    // Records 0-2, update, 0-2, update, 0-2, update, 0.
    assert_eq!(updates, 3);
    assert_eq!(client.seal.key_updates_sent(), 3);
    assert_eq!(server.unseal.key_updates_received(), 3);
}

#[test]
fn a_key_is_never_used_past_the_suite_limit() {
    for tls13 in [true, false] {
        let (mut client, mut server) = connected(tls13, tls::suites(tls13)[0], None);
        // Pretend the key is near the suite's limit.
        client.seal.limit = client.seal.seq + 3;
        client.seal.renew_after = client.seal.limit - 1;
        let record = seal(&mut client, b"a");
        assert_eq!(open(&mut server, record).unwrap().unwrap(), b"a");
        let record = seal(&mut client, b"b");
        assert_eq!(open(&mut server, record).unwrap().unwrap(), b"b");
        let due = client.seal.control_due().expect("renewal due at the limit");
        if tls13 {
            assert!(matches!(due, Control::KeyUpdate { .. }));
        } else {
            // TLS 1.2 cannot renew: close_notify goes out, and nothing after it.
            assert_eq!(due, Control::Close);
            let record = seal_control(&mut client, &due);
            assert!(matches!(
                open(&mut server, record).unwrap(),
                Err(Unsealed::Closed { .. })
            ));
            let mut out = vec![0u8; 1024];
            let err = seal_message(&mut client.seal, Qop::Default, b"c", &mut out).unwrap_err();
            assert_eq!(err.status(), Status::ContextExpired);
            continue;
        }
        // Ignoring the renewal, a data record at the limit is refused.
        let _ = seal(&mut client, b"c");
        let mut out = vec![0u8; 1024];
        let err = seal_message(&mut client.seal, Qop::Default, b"d", &mut out).unwrap_err();
        assert_eq!(err.status(), Status::ContextExpired, "{err}");
    }
}

#[test]
fn tls12_ignores_a_renewal_interval() {
    let (client, _) = connected(false, tls::suites(false)[0], Some(3));
    assert_eq!(client.seal.renew_after, (1 << 24) - 1);
}

/// A direction's cipher holds its key schedule behind a pointer under either backend, so an
/// idle half that released it is no larger than its key block's pointer and a few fields.
#[test]
fn a_record_cipher_holds_no_key_schedule_inline() {
    let size = std::mem::size_of::<crate::cipher::RecordCipher>();
    assert!(size <= 64, "RecordCipher is {size} bytes");
}

#[test]
fn idle_halves_drop_their_key_schedule_and_rebuild_it_for_the_next_record() {
    for (tls13, suite) in every_suite() {
        let (mut client, mut server) = connected(tls13, suite, None);
        // Nothing is expanded before the first record.
        assert!(!client.seal.cipher.is_expanded(), "{suite:?}");
        assert!(!server.unseal.cipher.is_expanded(), "{suite:?}");
        // Both backends free it: aws-lc's context in the C heap, ring's boxed schedule. The
        // first time, a TLS 1.3 direction drops its traffic key and IV too (its traffic secret
        // gives them again); once they were given again they stay. TLS 1.2 has only the key.
        for i in 0..3u8 {
            let forgotten = tls13 && i == 0;
            let message = vec![i; 1000];
            let record = seal(&mut client, &message);
            assert!(client.seal.cipher.is_expanded());
            client.seal.release_idle();
            assert!(!client.seal.cipher.is_expanded());
            assert_eq!(client.seal.cipher.has_keys(), !forgotten, "{suite:?} {i}");
            assert_eq!(open(&mut server, record).unwrap().unwrap(), message);
            server.unseal.release_idle();
            assert!(!server.unseal.cipher.is_expanded());
            assert_eq!(server.unseal.cipher.has_keys(), !forgotten, "{suite:?} {i}");
        }
        if tls13 {
            // A KeyUpdate ratchets from the secret, and the new generation drops its keys at
            // its first idle; with both sides' keys forgotten the next record still opens.
            let update = Control::KeyUpdate {
                update_requested: false,
            };
            let record = seal_control(&mut client, &update);
            client.seal.release_idle();
            assert!(!client.seal.cipher.has_keys(), "{suite:?}");
            assert!(open(&mut server, record).is_ok(), "{suite:?}");
            server.unseal.release_idle();
            assert!(!server.unseal.cipher.has_keys(), "{suite:?}");
            let record = seal(&mut client, b"next generation");
            assert_eq!(
                open(&mut server, record).unwrap().unwrap(),
                b"next generation"
            );
            // The other way too: the server's sending side and the client's receiving side.
            let record = seal(&mut server, b"answer");
            server.seal.release_idle();
            assert!(!server.seal.cipher.has_keys(), "{suite:?}");
            client.unseal.release_idle();
            assert_eq!(open(&mut client, record).unwrap().unwrap(), b"answer");
        }
        // A rebuilt key still refuses a tampered record.
        let mut record = seal(&mut client, b"after release");
        client.seal.release_idle();
        let last = record.len() - 1;
        record[last] ^= 1;
        let err = open(&mut server, record).unwrap_err();
        assert_eq!(err.status(), Status::MessageAltered, "{suite:?}");
    }
}

#[test]
fn a_session_ticket_is_stored_or_checked_and_dropped_by_a_client_and_refused_by_a_server() {
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    // NewSessionTicket (RFC 8446 §4.6.1): lifetime, age_add, nonce<0..255>, ticket<1..2^16-1>,
    // extensions<0..2^16-2>.
    let body: &[u8] = &[0, 0, 0, 60, 1, 2, 3, 4, 1, 9, 0, 3, 7, 7, 7, 0, 0];
    let mut message = vec![NEW_SESSION_TICKET, 0, 0, body.len() as u8];
    message.extend_from_slice(body);

    let before = client.unseal.tickets_received();
    let record = seal_handshake(&mut server, &message);
    assert!(matches!(
        open(&mut client, record),
        Ok(Err(Unsealed::Consumed { .. }))
    ));
    assert_eq!(client.unseal.tickets_received(), before + 1);

    let record = seal_handshake(&mut client, &message);
    let err = open(&mut server, record).unwrap_err();
    assert_eq!(err.status(), Status::IllegalMessage);
    assert_eq!(
        server.unseal.alert_for(&err),
        Some(Control::Alert(AlertCode::fatal(
            crate::alert::UNEXPECTED_MESSAGE
        )))
    );
    assert_eq!(server.unseal.tickets_received(), 0);

    // A client that does not store tickets checks their shape and drops them.
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    client.unseal.tickets = None;
    let before = client.unseal.tickets_received();
    let record = seal_handshake(&mut server, &message);
    assert!(matches!(
        open(&mut client, record),
        Ok(Err(Unsealed::Consumed { .. }))
    ));
    assert_eq!(client.unseal.tickets_received(), before);
    // Well-formed extensions (early_data's max_early_data_size, and an unknown type) pass.
    let with_extensions = [
        &body[..body.len() - 2],
        &[0, 12, 0, 42, 0, 4, 0, 0, 64, 0, 0xfa, 0xfa, 0, 0],
    ]
    .concat();
    let mut good = vec![NEW_SESSION_TICKET, 0, 0, with_extensions.len() as u8];
    good.extend_from_slice(&with_extensions);
    let record = seal_handshake(&mut server, &good);
    assert!(matches!(
        open(&mut client, record),
        Ok(Err(Unsealed::Consumed { .. }))
    ));
    // Cut inside each field, an empty ticket, and a byte after the extensions.
    let mut bodies: Vec<Vec<u8>> = [0, 8, 9, 12, body.len() - 1]
        .iter()
        .map(|&cut| body[..cut].to_vec())
        .collect();
    bodies.push([&body[..10], &[0, 0, 0, 0]].concat());
    bodies.push([body, &[0]].concat());
    let without_extensions = &body[..body.len() - 2];
    // An extension longer than its block, a stray byte after the last one, and one type twice.
    bodies.push([without_extensions, &[0, 4, 0, 42, 0, 9]].concat());
    bodies.push([without_extensions, &[0, 5, 0, 42, 0, 0, 1]].concat());
    bodies.push([without_extensions, &[0, 8, 0, 42, 0, 0, 0, 42, 0, 0]].concat());
    for (case, bad_body) in bodies.iter().enumerate() {
        let mut bad = vec![NEW_SESSION_TICKET, 0, 0, bad_body.len() as u8];
        bad.extend_from_slice(bad_body);
        let record = seal_handshake(&mut server, &bad);
        let err = open(&mut client, record).unwrap_err();
        assert_eq!(err.status(), Status::IllegalMessage, "case {case}");
        assert_eq!(
            client.unseal.alert_for(&err),
            Some(Control::Alert(AlertCode::fatal(crate::alert::DECODE_ERROR)))
        );
        let (c, s) = connected(true, tls::suites(true)[0], None);
        (client, server) = (c, s);
        client.unseal.tickets = None;
    }
}

#[test]
fn rustls_kept_state_follows_every_key_update_in_both_directions() {
    // A TLS 1.3 client keeps rustls's state for tickets; its copy of the traffic secrets must
    // not stay at the hand-over's generation. After one KeyUpdate each way, what rustls would
    // derive next must be what our halves would derive next.
    let (mut client, mut server) = connected(true, tls::suites(true)[0], None);
    let tickets = client
        .unseal
        .tickets
        .clone()
        .expect("a TLS 1.3 client keeps tickets");
    let update = Control::KeyUpdate {
        update_requested: false,
    };
    let record = seal_control(&mut client, &update);
    assert!(matches!(
        open(&mut server, record),
        Ok(Err(Unsealed::Consumed { .. }))
    ));
    let record = seal_control(&mut server, &update);
    assert!(matches!(
        open(&mut client, record),
        Ok(Err(Unsealed::Consumed { .. }))
    ));
    let (rustls_tx, rustls_rx) = tickets.with(|kernel| {
        (
            kernel.update_tx_secret().unwrap().1,
            kernel.update_rx_secret().unwrap().1,
        )
    });
    let seal = &client.seal;
    let (_, our_tx) = seal.secret.as_ref().unwrap().next(&seal.cipher).unwrap();
    let unseal = &client.unseal;
    let (_, our_rx) = unseal
        .secret
        .as_ref()
        .unwrap()
        .next(&unseal.cipher)
        .unwrap();
    assert!(
        RecordCipher::new(&rustls_tx, true)
            .unwrap()
            .same_keys(&our_tx)
    );
    assert!(
        RecordCipher::new(&rustls_rx, true)
            .unwrap()
            .same_keys(&our_rx)
    );
}

#[path = "record_post_handshake_tests.rs"]
mod post_handshake;

#[path = "record_stream_tests.rs"]
mod in_a_stream;

#[path = "record_into_tests.rs"]
mod out_of_place;
