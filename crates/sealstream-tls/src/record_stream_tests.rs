//! The record layer's halves inside a [`SealedStream`], against a peer driven sans-IO: what
//! the write half must still send when sealing data fails, and which controls a user may queue.

use sealstream::SealedStream;
use tokio::io::{AsyncWriteExt, DuplexStream, duplex};

use super::*;

/// Everything the stream sent, once it is dropped, unsealed by the peer's read half: the data,
/// and how the records ended (`Ok` at close_notify, `Err` at an alert or other failure).
async fn received(
    mut wire: DuplexStream,
    peer: &mut End,
) -> (Vec<u8>, Result<(), sealstream::Error>) {
    let mut bytes = Vec::new();
    wire.read_to_end(&mut bytes).await.unwrap();
    let mut data = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match peer.unseal.unseal(&mut bytes[at..]) {
            Ok(Unsealed::Data {
                plaintext,
                consumed,
                ..
            }) => {
                data.extend_from_slice(&bytes[at + plaintext.start..at + plaintext.end]);
                at += consumed;
            }
            Ok(Unsealed::Consumed { consumed } | Unsealed::Respond { consumed, .. }) => {
                at += consumed;
            }
            Ok(Unsealed::Closed { .. }) => return (data, Ok(())),
            Ok(Unsealed::Incomplete { .. }) => panic!("the stream sent half a record"),
            Ok(other) => panic!("an outcome this test does not know: {other:?}"),
            Err(err) => return (data, Err(err)),
        }
    }
    (
        data,
        Err(sealstream::Error::truncated("no close_notify, no alert")),
    )
}

/// Run `test` on a runtime of its own (`connected` runs the handshakes on one, outside).
fn run<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(test)
}

fn stream(
    end: End,
) -> (
    SealedStream<DuplexStream, (TlsSeal, TlsUnseal)>,
    DuplexStream,
) {
    let (ours, theirs) = duplex(1 << 20);
    (SealedStream::new(ours, (end.seal, end.unseal)), theirs)
}

#[test]
fn the_fatal_alert_of_a_failed_read_half_reaches_the_peer_when_the_write_fails() {
    for (tls13, suite) in every_suite() {
        let (mut client, server) = connected(tls13, suite, None);
        run(async {
            let (mut server, mut wire) = stream(server);
            // A record tampered with on the way: the read half fails and queues bad_record_mac.
            let mut record = seal(&mut client, b"tampered");
            let last = record.len() - 1;
            record[last] ^= 1;
            wire.write_all(&record).await.unwrap();
            let err = server.read(&mut [0u8; 64]).await.unwrap_err();
            assert_eq!(
                sealstream::Error::from_io(&err).unwrap().status(),
                Status::MessageAltered
            );
            // The application answers anyway: the alert is sealed first, the data after it cannot
            // be, and the write fails, but only once the alert is on the wire.
            let err = server.write_all(b"reply").await.unwrap_err();
            assert_eq!(
                sealstream::Error::from_io(&err).unwrap().status(),
                Status::ContextExpired,
                "{err}"
            );
            drop(server);
            let (data, end) = received(wire, &mut client).await;
            assert!(data.is_empty());
            let alert = end.unwrap_err();
            assert!(
                alert.to_string().contains("bad_record_mac"),
                "{suite:?}: the peer got {alert}"
            );
        });
    }
}

#[test]
fn the_close_notify_sent_at_a_tls12_key_limit_reaches_the_peer() {
    for suite in tls::suites(false) {
        let (mut client, mut server) = connected(false, suite, None);
        // Two records from the key's limit: one data record, then close_notify is due.
        client.seal.limit = client.seal.seq + 2;
        client.seal.renew_after = client.seal.limit - 1;
        run(async {
            let (mut stream, wire) = stream(client);
            stream.write_all(b"last").await.unwrap();
            let err = stream.write_all(b"one too many").await.unwrap_err();
            assert_eq!(
                sealstream::Error::from_io(&err).unwrap().status(),
                Status::ContextExpired,
                "{err}"
            );
            drop(stream);
            let (data, end) = received(wire, &mut server).await;
            assert_eq!(data, b"last");
            end.unwrap_or_else(|e| panic!("{suite:?}: no close_notify reached the peer: {e}"));
        });
    }
}

#[test]
fn a_key_update_is_refused_when_queued_on_tls12_and_taken_on_tls13() {
    for tls13 in [false, true] {
        let (client, _server) = connected(tls13, tls::suites(tls13)[0], None);
        let (stream, _wire) = run(async { stream(client) });
        let queued = stream.queue_control(Control::KeyUpdate {
            update_requested: true,
        });
        if tls13 {
            queued.unwrap();
        } else {
            assert_eq!(queued.unwrap_err().status(), Status::QopNotSupported);
        }
        stream
            .queue_control(Control::Alert(AlertCode {
                level: AlertCode::WARNING,
                description: crate::alert::USER_CANCELED,
            }))
            .unwrap();
    }
}
