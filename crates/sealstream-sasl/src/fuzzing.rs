//! Entry points for the cargo-fuzz targets in `fuzz/` (not a public API): each takes the
//! fuzzer's bytes, drives a real DIGEST-MD5 path with them, and checks what must hold for any
//! input. Everything is deterministic: fixed keys and a fixed cnonce.

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut};

use crate::digest::layer::halves;
use crate::digest::messages::{self, Challenge, Response};
use crate::digest::{Cipher, DigestClient, DigestClientConfig, DigestQop};
use crate::{ClientMechanism, Step};

/// The session key both directions of the fuzzed layers derive from.
const HA1: [u8; 16] = *b"fuzzing H(A1) 16";

/// Fuzz the challenge: the directive parser and the challenge's checks, the client's step on it
/// with every layer allowed, and `rspauth` parsing on the same bytes.
///
/// A challenge the parser accepts must survive re-encoding (what our server sends) unchanged; a
/// response the client builds must be one the server's parser accepts, with the qop the client
/// reports.
pub fn digest_challenge(data: &[u8]) {
    if let Ok(challenge) = Challenge::parse(data) {
        let encoded = challenge.encode();
        // Re-encoding quotes every value, so a challenge just under the size limit may come out
        // over it; that is the limit working, not a bug.
        if encoded.len() < messages::MAX_CHALLENGE {
            let again = Challenge::parse(&encoded).unwrap_or_else(|e| {
                panic!(
                    "re-encoded challenge {:?} refused: {e}",
                    String::from_utf8_lossy(&encoded)
                )
            });
            assert_eq!(again, challenge, "the challenge changed in re-encoding");
        }
    }

    let mut config = DigestClientConfig::new("fuzz", "pencil", "ldap", "localhost");
    config.props.allow_legacy_ciphers = true;
    let mut client = DigestClient::new(config).with_cnonce("fuzzcnonce");
    match client.step(data) {
        Ok(Step::Continue(response)) => {
            let parsed = Response::parse(&response).unwrap_or_else(|e| {
                panic!(
                    "our response {:?} refused: {e}",
                    String::from_utf8_lossy(&response)
                )
            });
            assert_eq!(Some(parsed.qop), client.qop());
            // The same bytes as the server's last message: never a panic, never a success (the
            // fuzzer cannot know rspauth without inverting MD5).
            assert!(client.success(Some(data)).is_err(), "rspauth guessed");
            assert!(client.outcome().is_none());
        }
        Ok(Step::Done(_)) => panic!("a challenge must be answered with a response"),
        Err(_) => assert!(client.qop().is_none()),
    }
}

/// The layers fuzzed: auth-int and every auth-conf cipher.
const QOPS: [DigestQop; 6] = [
    DigestQop::AuthInt,
    DigestQop::AuthConf(Cipher::Rc4),
    DigestQop::AuthConf(Cipher::TripleDes),
    DigestQop::AuthConf(Cipher::Des),
    DigestQop::AuthConf(Cipher::Rc4_56),
    DigestQop::AuthConf(Cipher::Rc4_40),
];

/// Fuzz unwrap. The first byte picks the layer (low bits) and the mode (high bit):
///
/// - arbitrary tokens (two-byte big-endian length, then the token): every unwrap either fails
///   or returns a range inside the token, and the sequence number advances exactly on success;
/// - genuine tokens (one-byte length, then the message, then a byte `at` and a byte `flip`):
///   each message is wrapped by the client and unwrapped by the server; it must come back intact
///   when `flip` is 0, and be refused when `flip` alters byte `at % len` of the token (after
///   which the layer is abandoned, as a stream abandons it).
pub fn digest_unwrap(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let qop = QOPS[usize::from(selector & 0x7f) % QOPS.len()];
    let (mut wrap, _) = halves(&HA1, qop, true).expect("client halves");
    let (_, mut unwrap) = halves(&HA1, qop, false).expect("server halves");
    if selector & 0x80 == 0 {
        arbitrary_tokens(&mut unwrap, rest);
    } else {
        genuine_tokens(&mut wrap, &mut unwrap, rest);
    }
}

fn arbitrary_tokens(unwrap: &mut impl Unwrap, mut rest: &[u8]) {
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let mut token = tail[..len].to_vec();
        rest = &tail[len..];
        let before = unwrap.sequence();
        match unwrap.unwrap(&mut token) {
            Ok(range) => {
                assert!(range.start <= range.end && range.end <= len);
                assert_eq!(unwrap.sequence(), before + 1);
            }
            Err(_) => assert_eq!(unwrap.sequence(), before),
        }
    }
}

fn genuine_tokens(wrap: &mut impl Wrap, unwrap: &mut impl Unwrap, mut rest: &[u8]) {
    // Every other token is wrapped from a separate buffer (`wrap_copying`, into a token whose
    // payload region holds garbage), the rest in place.
    let mut copying = false;
    while let [len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (message, tail) = tail.split_at(len);
        let (at, flip, tail) = match tail {
            [at, flip, tail @ ..] => (usize::from(*at), *flip, tail),
            _ => (0, 0, &[][..]),
        };
        rest = tail;
        let mut token = if copying {
            vec![0xA5; message.len()]
        } else {
            message.to_vec()
        };
        token.resize(message.len() + wrap.overhead().trailer, 0);
        let record = RecordMut::new(&mut token, 0, message.len()).expect("record fits");
        let n = if copying {
            wrap.wrap_copying(Qop::Default, message, record)
        } else {
            wrap.wrap(Qop::Default, record)
        }
        .expect("wrap");
        copying = !copying;
        token.truncate(n);
        let pos = at % token.len();
        token[pos] ^= flip;
        match unwrap.unwrap(&mut token) {
            Ok(range) => {
                assert_eq!(flip, 0, "a token altered at byte {pos} was accepted");
                assert_eq!(&token[range], message);
            }
            Err(e) => {
                assert_ne!(flip, 0, "a genuine token was refused: {e}");
                return;
            }
        }
    }
}

/// Fuzz SCRAM-SHA-256's client with a server's messages: `data` up to its first NUL is the
/// server's first message, the rest its final one. The client's nonce is fixed (`fuzz`) and
/// iteration counts up to 64 are accepted, so the fuzzer reaches the final message cheaply.
///
/// A first message the client answers must be one whose answer names the server's nonce and
/// carries a proof; no final message may be accepted (the fuzzer cannot know the server
/// signature without the password's salted keys), whether it comes as a challenge or with
/// success.
pub fn scram_client(data: &[u8]) {
    use crate::scram::{ScramClient, ScramHash};

    let (first, last) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &[][..]),
    };
    let fresh = || {
        let mut client = ScramClient::new(ScramHash::Sha256, "user", "pencil", None)
            .iterations(1, 64)
            .with_nonce("fuzz");
        client.start().expect("the first message");
        client
    };
    let mut client = fresh();
    match client.step(first) {
        Ok(Step::Continue(answer)) => {
            let answer = String::from_utf8(answer).expect("our answer is text");
            let nonce = std::str::from_utf8(first)
                .ok()
                .and_then(|text| text.split(',').find_map(|a| a.strip_prefix("r=")))
                .expect("an answered first message names its nonce");
            assert!(
                answer.starts_with(&format!("c=biws,r={nonce},p=")),
                "{answer}"
            );
            assert!(client.step(last).is_err(), "a server signature guessed");
            let mut with_success = fresh();
            with_success
                .step(first)
                .expect("answered once, answered again");
            assert!(
                with_success.success(Some(last)).is_err(),
                "a server signature guessed"
            );
            assert!(with_success.outcome().is_none());
        }
        Ok(Step::Done(_)) => panic!("a first message must be answered"),
        Err(_) => assert!(client.success(Some(last)).is_err()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scram_entry_point_on_real_and_broken_messages() {
        scram_client(
            b"r=fuzzSERVER,s=QSXCR+Q6sek8bf92,i=16\0v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        );
        scram_client(b"r=fuzzSERVER,s=QSXCR+Q6sek8bf92,i=16\0e=invalid-proof");
        scram_client(b"r=fuzzSERVER,s=QSXCR+Q6sek8bf92,i=4096\0");
        scram_client(b"r=other,s=QQ==,i=1");
        scram_client(b"");
    }

    #[test]
    fn challenge_entry_point_on_real_and_broken_challenges() {
        // What Cyrus SASL 2.1.28 in slapd sends (see tests/peers/slapd.sh).
        digest_challenge(
            b"realm=\"example.com\",nonce=\"Wd0TgYOE8ZgvTxumlvbmyQ1L0y5qa7sxMTGcgu6/e+w=\",\
              qop=\"auth-int,auth-conf\",cipher=\"rc4-40,rc4-56,rc4,des,3des\",\
              maxbuf=65536,charset=utf-8,algorithm=md5-sess",
        );
        digest_challenge(b"nonce=\"n\",algorithm=md5-sess");
        digest_challenge(b"nonce=\"n\",algorithm=md5-sess,maxbuf=16");
        digest_challenge(b"nonce=\"n");
        digest_challenge(b"");
    }

    #[test]
    fn unwrap_entry_point_in_both_modes_for_every_layer() {
        for i in 0..QOPS.len() as u8 {
            // Genuine: two intact messages, then one altered in its first byte.
            digest_unwrap(&[
                0x80 | i,
                3,
                b'a',
                b'b',
                b'c',
                0,
                0,
                1,
                b'x',
                7,
                0,
                2,
                b'y',
                b'z',
                0,
                0x40,
            ]);
            // Arbitrary: a short token, then a plausible-looking one.
            let mut data = vec![i, 0, 3, 1, 2, 3, 0, 22];
            data.extend_from_slice(&[0x55; 16]);
            data.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
            digest_unwrap(&data);
        }
    }
}
