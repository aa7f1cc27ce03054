//! Context establishment between our initiator and our acceptor, in process, with tickets made
//! here: the happy paths (mutual or not, with channel bindings) and every refusal the acceptor
//! owes. (Against MIT's `gss-server` and `gss-client`: `tests/tests/krb5_mit.rs`.)

use std::time::{Duration, SystemTime};

use sealstream::{Qop, Status};

use super::*;
use crate::{Enctype, LayerOptions, Principal, Protection};

use crate::testing::{REALM, credentials, keytab, service};

fn acceptor(options: AcceptorOptions) -> Acceptor {
    Acceptor::new(keytab(2), Some(service()), options)
}

fn round_trip(initiator: crate::SecurityContext, acceptor: crate::SecurityContext) {
    let options = LayerOptions::new(Protection::Confidentiality);
    let (mut iw, mut iu) = initiator.into_halves(options);
    let (mut aw, mut au) = acceptor.into_halves(options);
    for i in 0..3u8 {
        let token = iw.wrap_message(Qop::Default, &[i; 100]).unwrap();
        assert_eq!(au.unwrap_message(&token).unwrap(), [i; 100]);
        let token = aw.wrap_message(Qop::Default, &[i; 7]).unwrap();
        assert_eq!(iu.unwrap_message(&token).unwrap(), [i; 7]);
    }
}

#[test]
fn mutual_and_one_way_contexts_carry_data_both_ways() {
    let now = SystemTime::now();
    for session in Enctype::ALL {
        let creds = credentials(now, session);
        for flags in [GssFlags::LAYER, GssFlags(GssFlags::CONF | GssFlags::INTEG)] {
            let options = InitiatorOptions::default().flags(flags);
            let (initiator, token) = Initiator::new(&creds, options, now).unwrap();
            let accepted = acceptor(AcceptorOptions::default())
                .accept(&token, now)
                .unwrap();
            assert_eq!(accepted.client.to_string(), format!("alice@{REALM}"));
            assert_eq!(accepted.flags, flags);
            let context = match accepted.token {
                Some(reply) => initiator.finish(&reply).unwrap(),
                None => {
                    assert!(!flags.has(GssFlags::MUTUAL));
                    initiator.finish_without_reply().unwrap()
                }
            };
            round_trip(context, accepted.context);
        }
    }
}

#[test]
fn channel_bindings_must_match_when_the_acceptor_has_some() {
    let now = SystemTime::now();
    let creds = credentials(now, Enctype::Aes128CtsHmacSha196);
    let ours = ChannelBindings::new(b"tls-server-end-point:\x01\x02\x03");
    let theirs = ChannelBindings::new(b"tls-server-end-point:\x09\x09\x09");
    for (sent, expected, ok) in [
        (Some(&ours), Some(&ours), true),
        (Some(&theirs), Some(&ours), false),
        (None, Some(&ours), true),
        (Some(&ours), None, true),
    ] {
        let mut options = InitiatorOptions::default();
        if let Some(b) = sent {
            options = options.channel_bindings(b.clone());
        }
        let (_, token) = Initiator::new(&creds, options, now).unwrap();
        let mut accept_options = AcceptorOptions::default();
        if let Some(b) = expected {
            accept_options = accept_options.channel_bindings(b.clone());
        }
        let result = acceptor(accept_options).accept(&token, now);
        assert_eq!(result.is_ok(), ok, "{sent:?} {expected:?}: {result:?}");
        if let Err(e) = result {
            assert_eq!(e.status(), Status::InvalidToken);
        }
    }
}

#[test]
fn replays_skew_expiry_and_the_wrong_service_or_key_are_refused() {
    let now = SystemTime::now();
    let creds = credentials(now, Enctype::Aes256CtsHmacSha196);
    let (_, token) = Initiator::new(&creds, InitiatorOptions::default(), now).unwrap();
    let a = acceptor(AcceptorOptions::default());
    a.accept(&token, now).unwrap();
    let replay = a.accept(&token, now + Duration::from_secs(1)).unwrap_err();
    assert_eq!(replay.status(), Status::OutOfSequence, "{replay}");

    let skewed = acceptor(AcceptorOptions::default())
        .accept(&token, now + Duration::from_secs(600))
        .unwrap_err();
    assert_eq!(skewed.status(), Status::TimeSkew, "{skewed}");

    // A ticket that ended two hours ago, its authenticator made now.
    let old = credentials(
        now - Duration::from_secs(3 * 3600),
        Enctype::Aes256CtsHmacSha196,
    );
    let (_, token) = Initiator::new(&old, InitiatorOptions::default(), now).unwrap();
    let expired = acceptor(AcceptorOptions::default())
        .accept(&token, now)
        .unwrap_err();
    assert_eq!(expired.status(), Status::ContextExpired, "{expired}");

    let (_, token) = Initiator::new(&creds, InitiatorOptions::default(), now).unwrap();
    let elsewhere = Acceptor::new(
        keytab(2),
        Some(Principal::service("ldap", "server.example.com", REALM)),
        AcceptorOptions::default(),
    )
    .accept(&token, now)
    .unwrap_err();
    assert_eq!(elsewhere.status(), Status::WrongPrincipal, "{elsewhere}");
    let no_key = Acceptor::new(keytab(3), None, AcceptorOptions::default())
        .accept(&token, now)
        .unwrap_err();
    assert_eq!(no_key.status(), Status::NoCredentials, "{no_key}");
}

#[test]
fn cut_or_changed_tokens_never_panic_and_are_refused_where_authenticated() {
    let now = SystemTime::now();
    let creds = credentials(now, Enctype::Aes128CtsHmacSha256128);
    let (_, token) = Initiator::new(&creds, InitiatorOptions::default(), now).unwrap();
    for cut in 0..token.len() {
        assert!(
            acceptor(AcceptorOptions::default())
                .accept(&token[..cut], now)
                .is_err()
        );
    }
    for at in 0..token.len() {
        let mut bad = token.clone();
        bad[at] ^= 0x01;
        // Whatever it gives, it must not panic; most changes are refused.
        let _ = acceptor(AcceptorOptions::default()).accept(&bad, now);
    }
    // The initiator's side: garbage, a cut AP-REP, and an AP-REP for another authenticator.
    let (initiator, token) = Initiator::new(&creds, InitiatorOptions::default(), now).unwrap();
    let reply = acceptor(AcceptorOptions::default())
        .accept(&token, now)
        .unwrap()
        .token
        .unwrap();
    for cut in 0..reply.len() {
        let (i, _) = Initiator::new(&creds, InitiatorOptions::default(), now).unwrap();
        assert!(i.finish(&reply[..cut]).is_err());
    }
    let (other, _) = Initiator::new(
        &creds,
        InitiatorOptions::default(),
        now + Duration::from_secs(1),
    )
    .unwrap();
    let err = other.finish(&reply).unwrap_err();
    assert_eq!(err.status(), Status::MessageAltered, "{err}");
    initiator.finish(&reply).unwrap();
}

/// A `TicketIssuer`'s tickets are accepted with its keytab, for every session type, and by no
/// acceptor with another key.
#[test]
fn issued_tickets_are_accepted_with_the_issuers_keytab_only() {
    use crate::kdc::TicketIssuer;
    let now = SystemTime::now();
    let alice = Principal::parse("alice", Some(REALM)).unwrap();
    let issuer = TicketIssuer::with_random_key(service(), Enctype::Aes128CtsHmacSha256128).unwrap();
    for session in Enctype::ALL {
        let ticket = issuer
            .issue(alice.clone(), session, Duration::from_secs(60), now)
            .unwrap();
        assert_eq!(ticket.session_key().enctype(), session);
        assert_eq!(ticket.end_time(), now + Duration::from_secs(60));
        let acceptor = Acceptor::new(issuer.keytab(), Some(service()), AcceptorOptions::default());
        let (_, ap_req) = Initiator::new(&ticket, InitiatorOptions::default(), now).unwrap();
        let accepted = acceptor.accept(&ap_req, now).unwrap();
        assert_eq!(accepted.client, alice);
    }
    let other = TicketIssuer::with_random_key(service(), Enctype::Aes128CtsHmacSha256128).unwrap();
    let ticket = issuer
        .issue(
            alice,
            Enctype::Aes256CtsHmacSha196,
            Duration::from_secs(60),
            now,
        )
        .unwrap();
    let (_, ap_req) = Initiator::new(&ticket, InitiatorOptions::default(), now).unwrap();
    let refused = Acceptor::new(other.keytab(), None, AcceptorOptions::default())
        .accept(&ap_req, now)
        .unwrap_err();
    assert_eq!(refused.status(), Status::MessageAltered, "{refused}");
}
