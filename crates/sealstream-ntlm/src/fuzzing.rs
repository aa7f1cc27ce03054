//! Entry points for the cargo-fuzz targets in `fuzz/`, built only for them (`cfg(fuzzing)`) and
//! this crate's tests: not a public API. Each takes the fuzzer's bytes, drives a real NTLM path
//! with them, and checks what must hold for any input. Keys, times and nonces are fixed, so an
//! input replays the same way.

use std::time::{Duration, SystemTime};

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut};
use zeroize::Zeroizing;

use crate::flags::NegotiateFlags as F;
use crate::initiator::{OFFER, Randomness};
use crate::messages::{Authenticate, Challenge, Negotiate};
use crate::session::{Protection, Role, SessionContext};
use crate::target_info::TargetInfo;
use crate::{Acceptor, AcceptorOptions, Credentials, Initiator, InitiatorOptions, NtHash};

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// The server challenge of the fuzzed acceptor.
pub const SERVER_CHALLENGE: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// Fuzz what a peer sends during authentication: the bytes (after a first byte of choices) as
/// every message type and as target information; as the CHALLENGE to an initiator; as the
/// AUTHENTICATE to an acceptor whose challenge and time are fixed. Nothing may panic; what an
/// initiator writes must parse back.
pub fn ntlm_messages(data: &[u8]) {
    let Some((&choice, message)) = data.split_first() else {
        return;
    };
    let _ = Negotiate::parse(message);
    if let Ok(challenge) = Challenge::parse(message) {
        let again = challenge.to_bytes().expect("a parsed CHALLENGE encodes");
        assert_eq!(Challenge::parse(&again).expect("it parses back"), challenge);
    }
    let _ = Authenticate::parse(message, choice & 1 != 0);
    if let Ok(info) = TargetInfo::parse(message) {
        assert_eq!(
            TargetInfo::parse(&info.to_bytes()).expect("it parses back"),
            info
        );
    }

    let alice = Credentials::with_password(r"FUZZ\alice", "pencil").expect("a valid name");
    let options = InitiatorOptions::default()
        .target_name("ldap/fuzz")
        .channel_bindings(b"cb".to_vec());
    let (initiator, _) = Initiator::new(alice, options);
    let random = Randomness {
        client_challenge: [0xaa; 8],
        session_key: Zeroizing::new([0x55; 16]),
    };
    if let Ok((authenticate, _)) = initiator.finish_with(message, now(), random) {
        Authenticate::parse(&authenticate, true).expect("our AUTHENTICATE parses");
    }

    let negotiate = Negotiate { flags: OFFER }.to_bytes();
    let server = AcceptorOptions::new("FUZZ", "SERVER").require_mic(choice & 2 != 0);
    let (acceptor, _) = Acceptor::with_challenge(server, &negotiate, now(), SERVER_CHALLENGE)
        .expect("our own NEGOTIATE is accepted");
    if let Ok(claim) = acceptor.authenticate(message) {
        let _ = (claim.user(), claim.domain(), claim.workstation());
        let _ = claim.verify(&NtHash::from_password("pencil"), now());
    }
}

/// Fuzz NTLM session security: chunks (`kind, length (u16), bytes`) are fed to the receiving
/// half of a context as raw tokens (kind 0), as tokens our sending half made of the bytes (1),
/// or as such tokens with one byte changed (2). The first byte chooses sealing or signing and
/// key exchange. No token may panic; a token of ours, while nothing was changed or refused
/// before it, must give back its bytes; a changed one must be refused.
pub fn ntlm_unwrap(data: &[u8]) {
    let Some((&choice, mut rest)) = data.split_first() else {
        return;
    };
    let protection = if choice & 1 != 0 {
        Protection::Seal
    } else {
        Protection::Sign
    };
    let flags = if choice & 2 != 0 {
        OFFER
    } else {
        OFFER.difference(F::KEY_EXCH)
    };
    let key = || Zeroizing::new([0x37; 16]);
    let (mut wrap, _) = SessionContext::new(Role::Initiator, flags, key()).into_halves(protection);
    let (_, mut unwrap) = SessionContext::new(Role::Acceptor, flags, key()).into_halves(protection);
    let mut in_step = true;
    while let [kind, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (body, after) = tail.split_at(len);
        rest = after;
        let (mut token, expected, changed) = match kind % 3 {
            0 => (body.to_vec(), None, false),
            k => {
                let mut token = vec![0; 16 + body.len()];
                token[16..].copy_from_slice(body);
                let record = RecordMut::new(&mut token, 16, body.len()).expect("room");
                wrap.wrap(Qop::Default, record)
                    .expect("wrapping never fails here");
                let changed = k == 2;
                if changed {
                    let at = usize::from(body.first().copied().unwrap_or(0)) % token.len();
                    token[at] ^= 0x5a;
                }
                (token, Some(body), changed)
            }
        };
        let len = token.len();
        match unwrap.unwrap(&mut token) {
            Ok(range) => {
                assert!(
                    range.start <= range.end && range.end <= len,
                    "{range:?} of {len}"
                );
                assert!(!changed, "a changed token was accepted");
                if let (true, Some(expected)) = (in_step, expected) {
                    assert_eq!(&token[range], expected, "a token of ours came back changed");
                }
            }
            Err(_) => {
                assert!(
                    !(in_step && expected.is_some() && !changed),
                    "a token of ours was refused"
                );
                in_step = false;
            }
        }
        if expected.is_none() {
            // A raw token that was accepted moved the receiver past our sender's sequence.
            in_step = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_run_clean() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus");
        for (target, run) in [
            ("ntlm_messages", ntlm_messages as fn(&[u8])),
            ("ntlm_unwrap", ntlm_unwrap),
        ] {
            let entries = std::fs::read_dir(format!("{dir}/{target}")).expect("a seed corpus");
            let mut seen = 0;
            for entry in entries {
                run(&std::fs::read(entry.unwrap().path()).unwrap());
                seen += 1;
            }
            assert!(seen > 0, "{target} has seeds");
        }
    }

    #[test]
    fn a_changed_token_is_refused_and_ours_round_trip() {
        for choice in 0..4u8 {
            let mut data = vec![choice];
            for (kind, body) in [(1u8, &b"hello"[..]), (1, b"second"), (2, b"changed")] {
                data.push(kind);
                data.extend_from_slice(&(body.len() as u16).to_be_bytes());
                data.extend_from_slice(body);
            }
            ntlm_unwrap(&data);
        }
    }
}
