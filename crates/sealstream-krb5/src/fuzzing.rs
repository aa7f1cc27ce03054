//! Entry points for the cargo-fuzz targets in `fuzz/` (not a public API): each takes the
//! fuzzer's bytes, drives a real Kerberos path with them, and checks what must hold for any
//! input. Everything is deterministic: fixed keys and sequence numbers.

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut};

use crate::{Enctype, Key, LayerOptions, Protection, Role, SecurityContext};

/// Fuzz RFC 4121 Wrap token unwrapping.
///
/// The first byte chooses the encryption type (two low bits), the layer's protection, whether
/// the context has an acceptor subkey, and whether tokens in clear are accepted. The rest is
/// chunks `kind, length (u16), bytes`: kind 0 hands the bytes to the acceptor's unwrap as they
/// are; kind 1 wraps them with the initiator's half (sealed or signed as the length's low bit
/// says, rotated like Windows as its next bit says) so the fuzzer reaches what lies behind the
/// integrity check; kind 2 wraps them and then flips the byte the first body byte names. A token
/// unwrapped must give a plaintext range inside it, and a token this side wrapped must come back
/// as it went, until a raw token has broken the sequence.
pub fn krb5_unwrap(data: &[u8]) {
    let Some((&choice, mut rest)) = data.split_first() else {
        return;
    };
    let enctype = Enctype::ALL[usize::from(choice & 3)];
    let protection = if choice & 4 != 0 {
        Protection::Confidentiality
    } else {
        Protection::Integrity
    };
    let subkey = choice & 8 != 0;
    let accepts_clear = choice & 16 != 0;
    let options = LayerOptions::new(protection).accept_unsealed(accepts_clear);
    let key = |byte: u8| Key::new(enctype, &[byte; 32][..enctype.key_len()]).expect("key length");
    let acceptor_subkey = subkey.then(|| key(0x17));
    let initiator = SecurityContext::new(Role::Initiator, key(0x42), acceptor_subkey.clone(), 5, 9);
    let acceptor = SecurityContext::new(Role::Acceptor, key(0x42), acceptor_subkey, 9, 5);
    let (mut wrap, _) = initiator.into_halves(options);
    let (mut rotated, _) =
        SecurityContext::new(Role::Initiator, key(0x42), subkey.then(|| key(0x17)), 5, 9)
            .into_halves(options.rotate_like_windows(true));
    let (_, mut unwrap) = acceptor.into_halves(options);
    let mut in_step = true;
    while let [kind, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (body, after) = tail.split_at(len);
        rest = after;
        let (mut token, expected) = match kind % 3 {
            0 => {
                in_step = false;
                (body.to_vec(), None)
            }
            _ => {
                let qop = if len & 1 == 0 {
                    Qop::Default
                } else {
                    Qop::IntegrityOnly
                };
                // Both wrap halves keep the same sequence: each wraps every message.
                let plain = wrap_one(&mut wrap, qop, body);
                let turned = wrap_one(&mut rotated, qop, body);
                let mut token = if len & 2 == 0 { plain } else { turned };
                if kind % 3 == 2 && !token.is_empty() {
                    in_step = false;
                    let at = usize::from(body.first().copied().unwrap_or(0)) % token.len();
                    token[at] ^= 0x5a;
                }
                (token, Some(body))
            }
        };
        let len = token.len();
        match unwrap.unwrap(&mut token) {
            Ok(range) => {
                assert!(
                    range.start <= range.end && range.end <= len,
                    "{range:?} of {len}"
                );
                if let (true, Some(expected)) = (in_step, expected) {
                    assert_eq!(&token[range], expected, "a token of ours came back changed");
                }
            }
            Err(_) => {
                if in_step && expected.is_some() {
                    // Only a layer that refuses tokens in clear may refuse one of ours.
                    assert!(
                        protection == Protection::Confidentiality && !accepts_clear,
                        "a token of ours was refused"
                    );
                    in_step = false;
                }
            }
        }
    }
}

fn wrap_one(wrap: &mut crate::Krb5Wrap, qop: Qop, message: &[u8]) -> Vec<u8> {
    let overhead = wrap.overhead_for(qop);
    let mut buf = vec![0u8; overhead.header + message.len() + overhead.trailer];
    buf[overhead.header..overhead.header + message.len()].copy_from_slice(message);
    let Ok(record) = RecordMut::new(&mut buf, overhead.header, message.len()) else {
        return Vec::new();
    };
    match wrap.wrap(qop, record) {
        Ok(n) => {
            buf.truncate(n);
            buf
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    /// The committed seed corpus runs clean (the fuzz smoke run goes further).
    #[test]
    fn seed_corpus_runs_clean() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/krb5_unwrap");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            super::krb5_unwrap(&std::fs::read(entry.unwrap().path()).unwrap());
            seen += 1;
        }
        assert!(seen >= 5);
    }
}
