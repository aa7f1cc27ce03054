//! The entry point of the `spnego_tokens` cargo-fuzz target, built only for it (`cfg(fuzzing)`)
//! and this crate's tests: not a public API.

use std::time::{Duration, SystemTime};

use sealstream_ntlm::{AcceptorOptions as NtlmAcceptorOptions, Credentials, NtHash};

use crate::token::{NegTokenInit, NegTokenResp};
use crate::{AcceptStep, Acceptor, AcceptorOptions, Initiator, InitiatorOptions, Step};

/// Fuzz SPNEGO tokens: chunks (`length (u16), bytes`) are parsed as each token type (what
/// parses must encode and parse back the same), fed in order to an acceptor that serves NTLM,
/// and as answers to an initiator that offers NTLM. Nothing may panic.
pub fn spnego_tokens(data: &[u8]) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut chunks = Vec::new();
    let mut rest = data;
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (chunk, after) = tail.split_at(len);
        chunks.push(chunk);
        rest = after;
    }
    for chunk in &chunks {
        if let Ok(init) = NegTokenInit::from_initial_token(chunk) {
            let again = init.to_initial_token().expect("a parsed token encodes");
            assert_eq!(
                NegTokenInit::from_initial_token(&again).expect("parses back"),
                init
            );
        }
        if let Ok(resp) = NegTokenResp::from_token(chunk) {
            let again = resp.to_token().expect("a parsed token encodes");
            assert_eq!(NegTokenResp::from_token(&again).expect("parses back"), resp);
        }
    }

    let options = AcceptorOptions::new().ntlm(NtlmAcceptorOptions::new("FUZZ", "SERVER"));
    let mut acceptor = Acceptor::new(options);
    for chunk in &chunks {
        match acceptor.step(chunk, now) {
            Ok(AcceptStep::Verify { .. }) => {
                let _ = acceptor.verify(&NtHash::from_password("pencil"), now);
                break;
            }
            Ok(AcceptStep::Continue(_)) => {}
            Ok(AcceptStep::Done(_)) | Err(_) => break,
        }
    }

    let alice = Credentials::with_password(r"FUZZ\alice", "pencil").expect("a valid name");
    let options = InitiatorOptions::new(true).ntlm(alice, Default::default());
    let (mut initiator, _) = Initiator::new(options, now).expect("NTLM is offered");
    for chunk in &chunks {
        match initiator.step(chunk, now) {
            Ok(Step::Continue(_)) => {}
            Ok(Step::Done) | Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_seeds_run_clean() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/corpus/spnego_tokens"
        );
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("a seed corpus") {
            super::spnego_tokens(&std::fs::read(entry.unwrap().path()).unwrap());
            seen += 1;
        }
        assert!(seen > 0);
    }
}
