//! Entry points for cargo-fuzz (`fuzz/`); not part of the API.
//!
//! `tls_unseal` builds both halves of a TLS record layer from fixed keys for one of four
//! framings (TLS 1.3 and 1.2, AES-256-GCM and ChaCha20-Poly1305), as a client or a server
//! (the first input byte chooses: framing in its two low bits, server in the third), lets the
//! input write a wire of raw bytes and of records sealed by our own seal half (so fuzzing
//! reaches the parsing behind the AEAD: alerts, KeyUpdates and the key ratchet, post-handshake
//! messages split across records and packed into one, renegotiation requests to either side,
//! content types), and unseals that wire to its end. Unsealing must never panic and every
//! outcome must lie inside its input. The first byte's five high bits give a reader's buffer
//! of that many KiB (none when zero): each record is first offered to `unseal_into` with it,
//! and a record that is not data, or is refused, must leave nothing in it.

use std::cell::RefCell;
use std::sync::Arc;

use rustls::crypto::cipher::{AeadKey, Iv};
use rustls::{ConnectionTrafficSecrets, HandshakeKind, ProtocolVersion, SupportedCipherSuite};
use sealstream::{Control, Seal, Unseal, Unsealed};

use crate::info::{Bindings, TlsInfo};
use crate::key_schedule::DirectionKeys;
use crate::provider::rustls_crypto::cipher_suite;
use crate::record::{TlsSeal, TlsUnseal};

fn secrets(suite: SupportedCipherSuite) -> ConnectionTrafficSecrets {
    let key = AeadKey::from([7u8; 32]);
    let iv = Iv::new([9u8; 12]);
    match suite.suite() {
        rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
        | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv }
        }
        _ => ConnectionTrafficSecrets::Aes256Gcm { key, iv },
    }
}

fn halves(which: u8) -> (TlsSeal, TlsUnseal) {
    let (version, suite) = match which % 4 {
        0 => (
            ProtocolVersion::TLSv1_3,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
        ),
        1 => (
            ProtocolVersion::TLSv1_3,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ),
        2 => (
            ProtocolVersion::TLSv1_2,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ),
        _ => (
            ProtocolVersion::TLSv1_2,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
    };
    let info = Arc::new(TlsInfo {
        version,
        suite,
        handshake_kind: HandshakeKind::Full,
        alpn: None,
        peer_certificates: Box::default(),
        server_name: None,
        bindings: Bindings {
            is_server: which & 4 != 0,
            ..Bindings::default()
        },
    });
    // Both halves start from the same keys, so the unseal half opens what the seal half
    // sealed, KeyUpdates included (TLS 1.3 ratchets a fixed traffic secret). Deriving them
    // costs HKDF calls, far more than a typical input: they are derived once per framing.
    thread_local! {
        static KEYS: RefCell<[Option<DirectionKeys>; 4]> = const { RefCell::new([None, None, None, None]) };
    }
    let keys = KEYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let slot = &mut cache[usize::from(which % 4)];
        if slot.is_none() {
            *slot = DirectionKeys::fixed(suite, &secrets(suite)).ok();
        }
        slot.clone()
    });
    let Some(keys) = keys else {
        unreachable!("fixed keys of the suite's length")
    };
    (
        TlsSeal::new(keys.clone(), None, info.clone(), None),
        TlsUnseal::new(keys, None, info),
    )
}

/// What the reader's buffer holds before each record is offered to it.
const UNTOUCHED: u8 = 0xAA;

/// Fuzz the TLS record layer's unseal path; see the module docs for the input's shape.
pub fn tls_unseal(data: &[u8]) {
    let Some((&which, mut rest)) = data.split_first() else {
        return;
    };
    let (mut seal, mut unseal) = halves(which);
    let mut wire = Vec::new();
    let mut record = vec![0u8; seal.sizes().max_record()];
    // Chunks: kind, length (u16), bytes.
    while let [kind, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (body, after) = tail.split_at(len);
        rest = after;
        match kind % 3 {
            0 => wire.extend_from_slice(body),
            1 => {
                let (ty, payload) = body.split_first().unwrap_or((&23, &[]));
                if let Ok(n) = seal.seal_bytes(*ty, &mut record, payload) {
                    wire.extend_from_slice(&record[..n]);
                }
            }
            _ => {
                let control = match body {
                    [level, description, ..] => Control::Alert(sealstream::AlertCode {
                        level: *level,
                        description: *description,
                    }),
                    [requested] => Control::KeyUpdate {
                        update_requested: requested & 1 == 1,
                    },
                    [] => Control::Close,
                };
                if let Ok(n) = seal.seal_control(&control, &mut record) {
                    wire.extend_from_slice(&record[..n]);
                }
            }
        }
    }
    let mut reader = vec![0u8; usize::from(which >> 3) * 1024];
    let mut input = &mut wire[..];
    while !input.is_empty() {
        let len = input.len();
        reader.fill(UNTOUCHED);
        let (outcome, into_reader) = match unseal.unseal_into(input, &mut reader) {
            Ok(Some(outcome)) => (Ok(outcome), true),
            Ok(None) => (unseal.unseal(input), false),
            Err(err) => (Err(err), true),
        };
        if into_reader && !matches!(outcome, Ok(Unsealed::Data { .. })) {
            assert!(
                reader.iter().all(|&b| b == 0 || b == UNTOUCHED),
                "a record that is not data left bytes in the reader's buffer: {outcome:?}"
            );
        }
        let consumed = match outcome {
            Ok(Unsealed::Incomplete { .. }) | Err(_) => return,
            Ok(Unsealed::Data {
                plaintext,
                consumed,
                protection,
            }) => {
                let room = if into_reader { reader.len() } else { consumed };
                assert!(plaintext.start <= plaintext.end && plaintext.end <= room);
                assert!(!into_reader || plaintext.start == 0);
                assert!(protection.is_confidential(), "TLS data is always sealed");
                consumed
            }
            Ok(
                Unsealed::Consumed { consumed }
                | Unsealed::Respond { consumed, .. }
                | Unsealed::Closed { consumed },
            ) => consumed,
            Ok(other) => panic!("an outcome the fuzzer does not know: {other:?}"),
        };
        assert!(consumed > 0 && consumed <= len, "{consumed} of {len}");
        input = &mut input[consumed..];
    }
}

#[cfg(test)]
mod tests {
    /// The committed seed corpus runs clean (the fuzz smoke run goes further).
    #[test]
    fn seed_corpus_runs_clean() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/tls_unseal");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            super::tls_unseal(&std::fs::read(entry.unwrap().path()).unwrap());
            seen += 1;
        }
        assert!(seen >= 10);
    }
}
