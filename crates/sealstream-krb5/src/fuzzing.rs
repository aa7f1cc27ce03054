//! Entry points for the cargo-fuzz targets in `fuzz/` (not a public API): each takes the
//! fuzzer's bytes, drives a real Kerberos path with them, and checks what must hold for any
//! input. Everything is deterministic: fixed keys and sequence numbers.

use std::time::{Duration, SystemTime};

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut};

use crate::ccache::CredentialCache;
use crate::gss::{Acceptor, AcceptorOptions};
use crate::kdc::{ClientSecret, InitCreds, InitCredsOptions, Step};
use crate::keytab::KeytabEntry;
use crate::{Enctype, Key, Keytab, LayerOptions, Principal, Protection, Role, SecurityContext};

/// A fixed time, so that inputs replay the same way.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// Fuzz what a KDC may send: each chunk (`length (u16), bytes`) is the reply to the request an
/// AS exchange last sent, for a client with a password (first byte 0xff) or a key. No
/// reply may panic, and the exchange must end within the chunks.
pub fn krb5_kdc_reply(data: &[u8]) {
    let Some((&choice, mut rest)) = data.split_first() else {
        return;
    };
    let client = Principal::parse("fuzz@FUZZ.TEST", None).expect("a valid name");
    let key = Key::new(Enctype::Aes256CtsHmacSha196, &[7; 32]).expect("32 bytes");
    // A password costs a PBKDF2 of 4096 iterations or more per input; after it, the reply is
    // read as with a key. Only inputs starting 0xff take that path (the seed
    // `password_mit_preauth_required` does, MIT's PREAUTH_REQUIRED alone), so the fuzzer's time
    // goes to the replies.
    let secret = if choice == 0xff {
        ClientSecret::Password(String::from("pencil").into())
    } else {
        ClientSecret::Keys(vec![key])
    };
    let Ok(mut exchange) = InitCreds::new(client, secret, InitCredsOptions::default()) else {
        return;
    };
    if exchange.start(now()).is_err() {
        return;
    }
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (reply, after) = tail.split_at(len);
        rest = after;
        match exchange.step(reply, now()) {
            Ok(Step::Send(request)) => assert!(!request.message.is_empty()),
            Ok(Step::Done(_)) | Err(_) => return,
        }
    }
}

/// Fuzz an acceptor's first token: arbitrary bytes as an AP-REQ for a service whose key is
/// fixed. Nothing may panic; the fuzzer cannot forge a ticket, so nothing is accepted.
pub fn krb5_ap_req(data: &[u8]) {
    let service = Principal::service("host", "fuzz", "FUZZ.TEST");
    let key = Key::new(Enctype::Aes128CtsHmacSha196, &[9; 16]).expect("16 bytes");
    let keytab = Keytab::from_entries(vec![KeytabEntry {
        principal: service.clone(),
        kvno: 1,
        key,
    }]);
    let acceptor = Acceptor::new(keytab, Some(service), AcceptorOptions::default());
    assert!(
        acceptor.accept(data, now()).is_err(),
        "a forged AP-REQ was accepted"
    );
}

/// Fuzz the keytab parser: any bytes parse or are refused; what parses can be searched.
pub fn krb5_keytab(data: &[u8]) {
    if let Ok(keytab) = Keytab::parse(data) {
        for entry in keytab.entries() {
            let keys = keytab.keys_for(&entry.principal);
            assert!(!keys.is_empty());
        }
    }
}

/// Fuzz credential cache parsing: a cache that parses gives tickets whose session keys fit
/// their types, and looking a ticket up in it cannot panic at any time.
pub fn krb5_ccache(data: &[u8]) {
    let Ok(cache) = CredentialCache::parse(data) else {
        return;
    };
    for creds in cache.credentials() {
        let key = creds.session_key();
        assert_eq!(key.as_bytes().len(), key.enctype().key_len());
        let _ = cache.ticket_for(creds.server(), now());
    }
    let _ = cache.tgt(now());
    let _ = cache.tgt(SystemTime::UNIX_EPOCH);
}

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
    /// The committed seed corpora run clean (the fuzz smoke run goes further).
    #[test]
    fn seed_corpora_run_clean() {
        type Target = fn(&[u8]);
        let targets: [(&str, Target); 4] = [
            ("krb5_unwrap", super::krb5_unwrap),
            ("krb5_kdc_reply", super::krb5_kdc_reply),
            ("krb5_ap_req", super::krb5_ap_req),
            ("krb5_keytab", super::krb5_keytab),
        ];
        for (target, run) in targets {
            let dir = format!("{}/../../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
            let mut seen = 0;
            for entry in std::fs::read_dir(&dir).unwrap() {
                run(&std::fs::read(entry.unwrap().path()).unwrap());
                seen += 1;
            }
            assert!(seen >= 2, "{target}");
        }
    }
}
