//! The control path under pressure: what a peer can make the read half queue for the write
//! half is bounded whatever the writer does, and what a user queues is checked when queued.

use sealstream::sasl::FramedSeal;
use sealstream::{
    AlertCode, Control, Error, Qop, Seal, SealedStream, Status, Unseal, Unsealed, seal_message,
};
use sealstream_testkit::test_sealer::{TestSeal, TestUnseal, pair};
use sealstream_testkit::test_wrap::direction;
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

const SEED: &[u8] = b"controls";

/// One sealed control record of the peer's.
fn control_record(seal: &mut TestSeal, control: &Control) -> Vec<u8> {
    let mut out = vec![0u8; seal.sizes().max_record()];
    let n = seal.seal_control(control, &mut out).unwrap();
    out.truncate(n);
    out
}

fn data_record(seal: &mut TestSeal, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; seal.sizes().record_len(data.len())];
    let n = seal_message(seal, Qop::Default, data, &mut out).unwrap();
    out.truncate(n);
    out
}

#[tokio::test]
async fn ten_thousand_key_update_requests_get_one_answer() {
    let ((client_seal, client_unseal), (mut peer_seal, mut peer_unseal)) = pair(SEED, 1024);
    let (a, mut peer) = duplex(1 << 22);
    let mut client = SealedStream::new(a, (client_seal, client_unseal));

    // The peer asks again and again while our writer is idle, then sends data.
    let request = Control::KeyUpdate {
        update_requested: true,
    };
    let mut wire = Vec::new();
    for _ in 0..10_000 {
        wire.extend(control_record(&mut peer_seal, &request));
    }
    wire.extend(data_record(&mut peer_seal, b"hello"));
    peer.write_all(&wire).await.unwrap();
    let mut got = [0u8; 5];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hello");
    assert_eq!(client.unseal_half().key_updates, 10_000);

    // RFC 8446 §4.6.3: one KeyUpdate before our next data record, however many were asked for.
    client.write_all(b"reply").await.unwrap();
    client.flush().await.unwrap();
    drop(client);
    let mut sent = Vec::new();
    peer.read_to_end(&mut sent).await.unwrap();
    let mut data = Vec::new();
    let mut at = 0;
    while at < sent.len() {
        match peer_unseal.unseal(&mut sent[at..]).unwrap() {
            Unsealed::Data {
                plaintext,
                consumed,
                protection,
            } => {
                assert_eq!(protection, sealstream::Protection::Confidential);
                data.extend_from_slice(&sent[at + plaintext.start..at + plaintext.end]);
                at += consumed;
            }
            Unsealed::Consumed { consumed } => at += consumed,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(data, b"reply");
    assert_eq!(
        peer_unseal.key_updates, 1,
        "one answer for all the requests"
    );
}

/// A receiving half that asks the write half to echo every warning alert back: a sealer whose
/// answers could pile up while the writer is idle.
struct EchoWarnings(TestUnseal);

impl Unseal for EchoWarnings {
    fn max_record(&self) -> usize {
        self.0.max_record()
    }

    fn unseal(&mut self, input: &mut [u8]) -> Result<Unsealed, Error> {
        let warnings = self.0.warnings;
        match self.0.unseal(input)? {
            Unsealed::Consumed { consumed } if self.0.warnings > warnings => {
                Ok(Unsealed::Respond {
                    consumed,
                    control: Control::Alert(warning()),
                })
            }
            other => Ok(other),
        }
    }

    fn signals_close(&self) -> bool {
        true
    }

    fn sequence(&self) -> u64 {
        self.0.sequence()
    }
}

fn warning() -> AlertCode {
    AlertCode {
        level: AlertCode::WARNING,
        description: 90,
    }
}

#[tokio::test]
async fn answers_a_peer_piles_up_are_bounded_and_the_read_half_fails_past_the_bound() {
    let ((client_seal, client_unseal), (mut peer_seal, _)) = pair(SEED, 1024);
    let (a, mut peer) = duplex(1 << 20);
    let mut client = SealedStream::new(a, (client_seal, EchoWarnings(client_unseal)));
    let mut wire = Vec::new();
    for _ in 0..1000 {
        wire.extend(control_record(&mut peer_seal, &Control::Alert(warning())));
    }
    wire.extend(data_record(&mut peer_seal, b"never read"));
    peer.write_all(&wire).await.unwrap();
    let err = client.read(&mut [0u8; 16]).await.unwrap_err();
    let err = Error::from_io(&err).expect("a sealstream error");
    assert_eq!(err.status(), Status::InsufficientMemory, "{err}");
    assert!(err.detail().contains("wait for the write half"), "{err}");
}

#[tokio::test]
async fn a_control_the_sealer_cannot_send_is_refused_when_queued() {
    // A SASL layer has no alerts and no key updates; its close sends nothing.
    let (wrap, unwrap) = direction(b"k");
    let seal = FramedSeal::new(wrap, 65536).unwrap();
    let unseal = sealstream::sasl::FramedUnseal::new(unwrap, 65536).unwrap();
    let (a, _b) = duplex(1024);
    let stream = SealedStream::new(a, (seal, unseal));
    for control in [
        Control::Alert(warning()),
        Control::KeyUpdate {
            update_requested: false,
        },
    ] {
        let err = stream.queue_control(control).unwrap_err();
        assert_eq!(err.status(), Status::QopNotSupported, "{control:?}");
    }
    stream.queue_control(Control::Close).unwrap();

    // What the sealer can send is bounded too, key updates aside.
    let (a, _b) = duplex(1024);
    let (client, _) = pair(SEED, 1024);
    let stream = SealedStream::new(a, client);
    for _ in 0..16 {
        stream.queue_control(Control::Alert(warning())).unwrap();
    }
    let err = stream.queue_control(Control::Alert(warning())).unwrap_err();
    assert_eq!(err.status(), Status::InsufficientMemory);
    for _ in 0..100 {
        stream
            .queue_control(Control::KeyUpdate {
                update_requested: true,
            })
            .unwrap();
    }
}
