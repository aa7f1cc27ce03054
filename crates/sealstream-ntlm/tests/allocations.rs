//! NTLM session security allocates nothing per message in steady state: the keys and RC4
//! states are made once per context, tokens are sealed and opened where they lie, and the
//! HMAC state keyed once per direction is cloned onto the stack per message. Counted by a global allocator over many messages,
//! sealed and signed, with wrap, the copying wrap, and signatures.

use std::time::SystemTime;

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut};
use sealstream_ntlm::{
    Acceptor, AcceptorOptions, Credentials, Initiator, InitiatorOptions, NtHash, Protection,
    SessionContext,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const MESSAGES: usize = 200;
const PAYLOAD: usize = 4000;

/// Both ends of an established context.
fn contexts() -> (SessionContext, SessionContext) {
    let now = SystemTime::now();
    let alice = Credentials::with_password(r"D\alice", "pw").unwrap();
    let (initiator, negotiate) = Initiator::new(alice, InitiatorOptions::default());
    let (acceptor, challenge) =
        Acceptor::new(AcceptorOptions::new("D", "S"), &negotiate, now).unwrap();
    let (authenticate, client) = initiator.finish(&challenge, now).unwrap();
    let claim = acceptor.authenticate(&authenticate).unwrap();
    let server = claim.verify(&NtHash::from_password("pw"), now).unwrap();
    (client, server.into_context())
}

#[test]
fn messages_allocate_nothing_in_steady_state() {
    for protection in [Protection::Seal, Protection::Sign] {
        for copying in [false, true] {
            let (client, server) = contexts();
            let (mut wrap, _) = client.into_halves(protection);
            let (_, mut unwrap) = server.into_halves(protection);
            let source = vec![0u8; PAYLOAD];
            let mut buf = vec![0u8; 16 + PAYLOAD];
            let mut one = |buf: &mut Vec<u8>, i: usize| {
                let record = RecordMut::new(buf, 16, PAYLOAD).unwrap();
                let len = if copying {
                    wrap.wrap_copying(Qop::Default, &source, record).unwrap()
                } else {
                    buf[16..].fill(0);
                    let record = RecordMut::new(buf, 16, PAYLOAD).unwrap();
                    wrap.wrap(Qop::Default, record).unwrap()
                };
                let plain = unwrap.unwrap(&mut buf[..len]).unwrap();
                assert_eq!(plain.len(), PAYLOAD, "message {i}");
                assert!(buf[plain].iter().all(|&b| b == 0));
            };
            one(&mut buf, 0);
            let region = Region::new(GLOBAL);
            for i in 1..=MESSAGES {
                one(&mut buf, i);
            }
            let stats = region.change();
            assert_eq!(
                stats.allocations + stats.reallocations,
                0,
                "{protection:?} copying={copying}: {stats:?} over {MESSAGES} messages"
            );
        }
    }
    a_flood_of_empty_messages_allocates_nothing();
    let (client, server) = contexts();
    let (mut wrap, _) = client.into_halves(Protection::Seal);
    let (_, mut unwrap) = server.into_halves(Protection::Seal);
    let region = Region::new(GLOBAL);
    for _ in 0..MESSAGES {
        let signature = wrap.sign(b"mechListMIC input").unwrap();
        unwrap.verify(b"mechListMIC input", &signature).unwrap();
    }
    let stats = region.change();
    assert_eq!(
        stats.allocations + stats.reallocations,
        0,
        "signatures: {stats:?}"
    );
}

/// A peer's flood of empty messages: each costs its fixed work and nothing more, no allocation
/// and no growth, over 10,000 of them. (Called from the one test of this binary: the allocator
/// counts every thread.)
fn a_flood_of_empty_messages_allocates_nothing() {
    let (client, server) = contexts();
    let (mut wrap, _) = client.into_halves(Protection::Seal);
    let (_, mut unwrap) = server.into_halves(Protection::Seal);
    let mut buf = [0u8; 16];
    let region = Region::new(GLOBAL);
    for _ in 0..10_000 {
        let len = wrap
            .wrap(Qop::Default, RecordMut::new(&mut buf, 16, 0).unwrap())
            .unwrap();
        assert_eq!(unwrap.unwrap(&mut buf[..len]).unwrap(), 16..16);
    }
    let stats = region.change();
    assert_eq!(stats.allocations + stats.reallocations, 0, "{stats:?}");
}
