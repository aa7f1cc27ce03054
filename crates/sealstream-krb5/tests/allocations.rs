//! Wrap, unwrap, MIC and verify in steady state allocate nothing: a context's keys are derived
//! and expanded once, tokens are made and opened where they lie, and the keyed HMAC state is
//! cloned on the stack. Counted by a global allocator over many tokens of every enctype, sealed
//! and signed, rotated and not. The allocator counts every thread, so the checks run one after
//! the other in a single test.

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut};
use sealstream_krb5::{Enctype, Key, LayerOptions, Protection, Role, SecurityContext};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Tokens made and opened per measured run.
const TOKENS: usize = 200;
const PAYLOAD: usize = 4000;

fn contexts(enctype: Enctype) -> (SecurityContext, SecurityContext) {
    let key = Key::new(enctype, &vec![0x33; enctype.key_len()]).unwrap();
    let subkey = Key::new(enctype, &vec![0x44; enctype.key_len()]).unwrap();
    (
        SecurityContext::new(Role::Initiator, key.clone(), Some(subkey.clone()), 7, 9),
        SecurityContext::new(Role::Acceptor, key, Some(subkey), 9, 7),
    )
}

#[test]
fn tokens_allocate_nothing_in_steady_state() {
    wrap_and_unwrap_allocate_nothing_per_token();
    mic_tokens_allocate_nothing();
}

fn wrap_and_unwrap_allocate_nothing_per_token() {
    for enctype in Enctype::ALL {
        for protection in [Protection::Confidentiality, Protection::Integrity] {
            for rotate in [false, true] {
                let options = LayerOptions::new(protection).rotate_like_windows(rotate);
                let (initiator, acceptor) = contexts(enctype);
                let (mut wrap, _) = initiator.into_halves(options);
                let (_, mut unwrap) = acceptor.into_halves(options);
                let overhead = wrap.overhead();
                let mut buf = vec![0u8; overhead.header + PAYLOAD + overhead.trailer];
                let mut one_token = |buf: &mut Vec<u8>, i: usize| {
                    let payload = overhead.header..overhead.header + PAYLOAD;
                    buf[payload.clone()].fill(i as u8);
                    let record = RecordMut::new(buf, overhead.header, PAYLOAD).unwrap();
                    let len = wrap.wrap(Qop::Default, record).unwrap();
                    let plain = unwrap.unwrap(&mut buf[..len]).unwrap();
                    assert_eq!(plain.len(), PAYLOAD);
                    assert!(buf[plain].iter().all(|&b| b == i as u8));
                };
                one_token(&mut buf, 0);
                let region = Region::new(GLOBAL);
                for i in 1..=TOKENS {
                    one_token(&mut buf, i);
                }
                let stats = region.change();
                assert_eq!(
                    stats.allocations + stats.reallocations,
                    0,
                    "{enctype} {protection:?} rotate={rotate}: {stats:?} over {TOKENS} tokens"
                );
            }
        }
    }
}

fn mic_tokens_allocate_nothing() {
    for enctype in Enctype::ALL {
        let (initiator, acceptor) = contexts(enctype);
        let options = LayerOptions::new(Protection::Integrity);
        let (mut wrap, _) = initiator.into_halves(options);
        let (_, mut unwrap) = acceptor.into_halves(options);
        let message = [0x5a; 300];
        let mut token = [0u8; 64];
        let region = Region::new(GLOBAL);
        for _ in 0..TOKENS {
            let len = wrap.get_mic(&message, &mut token).unwrap();
            unwrap.verify_mic(&message, &token[..len]).unwrap();
        }
        let stats = region.change();
        assert_eq!(
            stats.allocations + stats.reallocations,
            0,
            "{enctype}: {stats:?} over {TOKENS} MIC tokens"
        );
    }
}
