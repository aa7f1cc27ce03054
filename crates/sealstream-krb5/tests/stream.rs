//! A Kerberos security layer as the sealer of a `SealedStream`: RFC 4422 frames of RFC 4121
//! Wrap tokens, both directions at once, sealed and signed records mixed on one layer.

use sealstream::sasl::{FramedSeal, FramedUnseal};
use sealstream::{Qop, SealedStream};
use sealstream_krb5::{
    Enctype, Key, Krb5Unwrap, Krb5Wrap, LayerOptions, Protection, Role, SecurityContext,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

type Layer = (FramedSeal<Krb5Wrap>, FramedUnseal<Krb5Unwrap>);

fn layers(enctype: Enctype, options: LayerOptions, maxbuf: u32) -> (Layer, Layer) {
    let key = Key::new(enctype, &vec![0x33; enctype.key_len()]).unwrap();
    let subkey = Key::new(enctype, &vec![0x44; enctype.key_len()]).unwrap();
    let framed = |(wrap, unwrap)| {
        (
            FramedSeal::new(wrap, maxbuf).unwrap(),
            FramedUnseal::new(unwrap, maxbuf).unwrap(),
        )
    };
    let client = SecurityContext::new(Role::Initiator, key.clone(), Some(subkey.clone()), 11, 22);
    let server = SecurityContext::new(Role::Acceptor, key, Some(subkey), 22, 11);
    (
        framed(client.into_halves(options)),
        framed(server.into_halves(options)),
    )
}

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// Send `up` from client to server and `down` back at the same time, on owned halves.
async fn both_ways(
    client: SealedStream<DuplexStream, Layer>,
    server: SealedStream<DuplexStream, Layer>,
    up: Vec<u8>,
    down: Vec<u8>,
) {
    let (up_len, down_len) = (up.len(), down.len());
    let (mut cr, mut cw) = client.into_split_locked();
    let (mut sr, mut sw) = server.into_split_locked();
    let send_up = tokio::spawn(async move {
        cw.write_all(&up).await.unwrap();
        cw.shutdown().await.unwrap();
    });
    let send_down = tokio::spawn(async move {
        sw.write_all(&down).await.unwrap();
        sw.shutdown().await.unwrap();
    });
    let mut at_server = vec![0u8; up_len];
    sr.read_exact(&mut at_server).await.unwrap();
    let mut at_client = vec![0u8; down_len];
    cr.read_exact(&mut at_client).await.unwrap();
    send_up.await.unwrap();
    send_down.await.unwrap();
    assert!(
        at_server == pattern(1, up_len),
        "the server read other bytes"
    );
    assert!(
        at_client == pattern(2, down_len),
        "the client read other bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_each_way_at_once_for_every_type_and_protection() {
    for enctype in Enctype::ALL {
        for protection in [Protection::Confidentiality, Protection::Integrity] {
            for rotate in [false, true] {
                let options = LayerOptions::new(protection).rotate_like_windows(rotate);
                let (client, server) = layers(enctype, options, 65536);
                let (a, b) = duplex(256 * 1024);
                both_ways(
                    SealedStream::new(a, client),
                    SealedStream::new(b, server),
                    pattern(1, 1 << 20),
                    pattern(2, 1 << 20),
                )
                .await;
            }
        }
    }
}

#[tokio::test]
async fn a_confidential_layer_can_send_records_in_clear_when_asked() {
    // A confidential layer whose receiver takes tokens in clear (SSPI's
    // SECQOP_WRAP_NO_ENCRYPT): the writer switches per record.
    let options = LayerOptions::new(Protection::Confidentiality).accept_unsealed(true);
    let (client, server) = layers(Enctype::Aes256CtsHmacSha196, options, 4096);
    let (a, mut wire) = duplex(1 << 20);
    let mut client = SealedStream::new(a, client);
    client.write_all(b"secret part; ").await.unwrap();
    client.set_qop(Qop::IntegrityOnly).unwrap();
    client.write_all(b"PUBLIC PART; ").await.unwrap();
    client.set_qop(Qop::Default).unwrap();
    client.write_all(&pattern(1, 10_000)).await.unwrap();
    client.flush().await.unwrap();
    drop(client);
    let mut bytes = Vec::new();
    wire.read_to_end(&mut bytes).await.unwrap();
    let seen = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(seen(b"PUBLIC PART; "), "the signed record travels in clear");
    assert!(!seen(b"secret part; "), "the sealed record does not");

    let mut server = SealedStream::new(replay(bytes), server);
    let mut got = vec![0u8; 26 + 10_000];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got[..26], b"secret part; PUBLIC PART; ");
    assert_eq!(&got[26..], &pattern(1, 10_000)[..]);
}

/// A transport that reads `bytes` and takes whatever is written.
fn replay(bytes: Vec<u8>) -> tokio::io::Join<std::io::Cursor<Vec<u8>>, tokio::io::Sink> {
    tokio::io::join(std::io::Cursor::new(bytes), tokio::io::sink())
}
