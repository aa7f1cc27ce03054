//! Our SPNEGO initiator against our SPNEGO acceptor: each mechanism, the optimistic token
//! declined, and each failure with its status. (Against other implementations: the interop
//! tests with gss-ntlmssp, Cyrus SASL and Samba.)

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut, Status};
use sealstream_krb5::gss::Acceptor as Krb5Acceptor;
use sealstream_krb5::kdc::TicketIssuer;
use sealstream_krb5::{Enctype, Principal};
use sealstream_negotiate::token::{NegState, NegTokenResp};
use sealstream_negotiate::{
    AcceptStep, Acceptor, AcceptorOptions, Initiator, InitiatorOptions, Mechanism, Negotiated, Step,
};
use sealstream_ntlm::{AcceptorOptions as NtlmAcceptorOptions, Credentials, NtHash};

const PASSWORD: &str = "Alice-Pass-1234";
const REALM: &str = "SEALSTREAM.TEST";

fn ntlm_credentials() -> Credentials {
    Credentials::with_password(r"SEALSTREAM\alice", PASSWORD).unwrap()
}

fn ntlm_acceptor() -> NtlmAcceptorOptions {
    NtlmAcceptorOptions::new("SEALSTREAM", "DC1")
}

/// A Kerberos service, a ticket to it for alice, and its acceptor.
fn kerberos() -> (sealstream_krb5::kdc::Credentials, Arc<Krb5Acceptor>) {
    let service = Principal::service("ldap", "dc1.sealstream.test", REALM);
    let issuer =
        TicketIssuer::with_random_key(service.clone(), Enctype::Aes256CtsHmacSha196).unwrap();
    let alice = Principal::parse("alice", Some(REALM)).unwrap();
    let ticket = issuer
        .issue(
            alice,
            Enctype::Aes256CtsHmacSha196,
            Duration::from_secs(600),
            SystemTime::now(),
        )
        .unwrap();
    let acceptor = Krb5Acceptor::new(issuer.keytab(), Some(service), Default::default());
    (ticket, Arc::new(acceptor))
}

/// Run the exchange; `hash` answers the acceptor's NTLM lookup.
fn run(
    client: InitiatorOptions,
    server: AcceptorOptions,
    hash: &NtHash,
) -> Result<(Negotiated, Negotiated), sealstream::Error> {
    let now = SystemTime::now();
    let (mut initiator, mut token) = Initiator::new(client, now)?;
    let mut acceptor = Acceptor::new(server);
    loop {
        let mut step = acceptor.step(&token, now)?;
        if let AcceptStep::Verify { domain, user } = &step {
            assert_eq!((domain.as_str(), user.as_str()), ("SEALSTREAM", "alice"));
            step = acceptor.verify(hash, now)?;
        }
        match step {
            AcceptStep::Continue(answer) => match initiator.step(&answer, now)? {
                Step::Continue(next) => token = next,
                Step::Done => panic!("the initiator finished before the acceptor"),
            },
            AcceptStep::Done(last) => {
                assert!(matches!(initiator.step(&last, now)?, Step::Done));
                return Ok((initiator.into_negotiated()?, acceptor.into_negotiated()?));
            }
            AcceptStep::Verify { .. } => unreachable!("answered above"),
        }
    }
}

/// Data both ways through the two contexts' halves.
fn talk(client: Negotiated, server: Negotiated) {
    let (mut cw, mut cu) = client.into_halves();
    let (mut sw, mut su) = server.into_halves();
    for (w, u) in [
        (&mut cw as &mut dyn Wrap, &mut su as &mut dyn Unwrap),
        (&mut sw, &mut cu),
    ] {
        for message in [&b"first"[..], b"second, longer message", b""] {
            let overhead = w.overhead();
            let mut token = vec![0; overhead.header + message.len() + overhead.trailer];
            token[overhead.header..overhead.header + message.len()].copy_from_slice(message);
            let record = RecordMut::new(&mut token, overhead.header, message.len()).unwrap();
            let n = w.wrap(Qop::Default, record).unwrap();
            let range = u.unwrap(&mut token[..n]).unwrap();
            assert_eq!(&token[range], message);
        }
    }
}

#[test]
fn ntlm_alone() {
    let client = InitiatorOptions::new(true).ntlm(ntlm_credentials(), Default::default());
    let server = AcceptorOptions::new().ntlm(ntlm_acceptor());
    let (c, s) = run(client, server, &NtHash::from_password(PASSWORD)).unwrap();
    assert_eq!(
        (c.mechanism(), s.mechanism()),
        (Mechanism::Ntlm, Mechanism::Ntlm)
    );
    assert_eq!(s.user(), r"SEALSTREAM\alice");
    assert!(c.confidential() && s.confidential());
    talk(c, s);
}

#[test]
fn kerberos_first_in_one_round_trip() {
    let (ticket, krb5) = kerberos();
    for confidentiality in [true, false] {
        let client = InitiatorOptions::new(confidentiality)
            .kerberos(ticket.clone())
            .ntlm(ntlm_credentials(), Default::default());
        let server = AcceptorOptions::new()
            .kerberos(krb5.clone())
            .ntlm(ntlm_acceptor());
        let (c, s) = run(client, server, &NtHash::from_password("unused")).unwrap();
        assert_eq!(
            (c.mechanism(), s.mechanism()),
            (Mechanism::Kerberos, Mechanism::Kerberos)
        );
        assert_eq!(s.user(), format!("alice@{REALM}"));
        assert_eq!(
            (c.confidential(), s.confidential()),
            (confidentiality, confidentiality)
        );
        talk(c, s);
    }
}

#[test]
fn an_acceptor_without_kerberos_declines_the_optimistic_token_and_ntlm_follows() {
    let (ticket, _) = kerberos();
    let client = InitiatorOptions::new(true)
        .kerberos(ticket)
        .ntlm(ntlm_credentials(), Default::default());
    let server = AcceptorOptions::new().ntlm(ntlm_acceptor());
    let (c, s) = run(client, server, &NtHash::from_password(PASSWORD)).unwrap();
    assert_eq!(
        (c.mechanism(), s.mechanism()),
        (Mechanism::Ntlm, Mechanism::Ntlm)
    );
    talk(c, s);
}

#[test]
fn failures_carry_their_status() {
    // A wrong password.
    let client = InitiatorOptions::new(true).ntlm(ntlm_credentials(), Default::default());
    let server = AcceptorOptions::new().ntlm(ntlm_acceptor());
    let e = run(
        client.clone(),
        server.clone(),
        &NtHash::from_password("other"),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::LogonDenied, "{e}");
    // No mechanism in common.
    let e = run(
        client.clone(),
        AcceptorOptions::new(),
        &NtHash::from_password(PASSWORD),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::UnsupportedFunction, "{e}");
    // Nothing to offer.
    let e = Initiator::new(InitiatorOptions::new(true), SystemTime::now()).unwrap_err();
    assert_eq!(e.status(), Status::NoCredentials, "{e}");
    // A reject from the acceptor.
    let (mut initiator, _) = Initiator::new(client, SystemTime::now()).unwrap();
    let e = initiator
        .step(&Acceptor::reject(), SystemTime::now())
        .unwrap_err();
    assert_eq!(e.status(), Status::LogonDenied, "{e}");
}

#[test]
fn a_mech_list_mic_that_does_not_verify_is_refused_both_ways() {
    let now = SystemTime::now();
    let hash = NtHash::from_password(PASSWORD);
    let client = InitiatorOptions::new(true).ntlm(ntlm_credentials(), Default::default());
    let server = AcceptorOptions::new().ntlm(ntlm_acceptor());

    // The initiator's MIC changed on the way to the acceptor.
    let (mut initiator, first) = Initiator::new(client.clone(), now).unwrap();
    let mut acceptor = Acceptor::new(server.clone());
    let AcceptStep::Continue(challenge) = acceptor.step(&first, now).unwrap() else {
        panic!()
    };
    let Step::Continue(second) = initiator.step(&challenge, SystemTime::now()).unwrap() else {
        panic!()
    };
    let mut resp = NegTokenResp::from_token(&second).unwrap();
    let mut mic = resp.mic().unwrap().to_vec();
    mic[5] ^= 1;
    resp.mech_list_mic = Some(der::asn1::OctetString::new(mic).unwrap());
    acceptor.step(&resp.to_token().unwrap(), now).unwrap();
    let e = acceptor.verify(&hash, now).unwrap_err();
    assert_eq!(e.status(), Status::MessageAltered, "{e}");

    // The acceptor's MIC changed, or left out, on the way back.
    for tamper in [true, false] {
        let (mut initiator, first) = Initiator::new(client.clone(), now).unwrap();
        let mut acceptor = Acceptor::new(server.clone());
        let AcceptStep::Continue(challenge) = acceptor.step(&first, now).unwrap() else {
            panic!()
        };
        let Step::Continue(second) = initiator.step(&challenge, SystemTime::now()).unwrap() else {
            panic!()
        };
        acceptor.step(&second, now).unwrap();
        let AcceptStep::Done(last) = acceptor.verify(&hash, now).unwrap() else {
            panic!()
        };
        let mut resp = NegTokenResp::from_token(&last).unwrap();
        assert_eq!(resp.neg_state, Some(NegState::AcceptCompleted));
        resp.mech_list_mic = if tamper {
            let mut mic = resp.mic().unwrap().to_vec();
            mic[5] ^= 1;
            Some(der::asn1::OctetString::new(mic).unwrap())
        } else {
            None
        };
        let e = initiator
            .step(&resp.to_token().unwrap(), SystemTime::now())
            .unwrap_err();
        let expected = if tamper {
            Status::MessageAltered
        } else {
            Status::LogonDenied
        };
        assert_eq!(e.status(), expected, "{e}");
    }
}

#[test]
fn malformed_tokens_are_invalid_and_late_calls_are_refused() {
    let mut acceptor = Acceptor::new(AcceptorOptions::new().ntlm(ntlm_acceptor()));
    let e = acceptor
        .step(b"\x60\x03\x06\x01\x00", SystemTime::now())
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidToken, "{e}");
    let e = acceptor
        .verify(&NtHash::from_password(PASSWORD), SystemTime::now())
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidHandle, "{e}");
    let client = InitiatorOptions::new(true).ntlm(ntlm_credentials(), Default::default());
    let (mut initiator, _) = Initiator::new(client, SystemTime::now()).unwrap();
    let e = initiator
        .step(b"\xa1\x05\x30\x03\x0a\x01", SystemTime::now())
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidToken, "{e}");
}

#[test]
fn without_integrity_the_context_protects_nothing() {
    let (ticket, krb5) = kerberos();
    for kerberos_first in [true, false] {
        let mut client = InitiatorOptions::new(true).integrity(false);
        client = if kerberos_first {
            client.kerberos(ticket.clone())
        } else {
            client.ntlm(ntlm_credentials(), Default::default())
        };
        let server = AcceptorOptions::new()
            .kerberos(krb5.clone())
            .ntlm(ntlm_acceptor());
        let (c, s) = run(client, server, &NtHash::from_password(PASSWORD)).unwrap();
        assert!(
            !c.signed() && !s.signed(),
            "kerberos first: {kerberos_first}"
        );
        assert!(!c.confidential() && !s.confidential());
    }
}

#[test]
fn a_sasl_client_asking_for_no_layer_gets_none() {
    use sealstream_negotiate::sasl::{SpnegoClient, SpnegoServer};
    use sealstream_sasl::{ClientMechanism, Layer, SecurityProperties, ServerMechanism, Step as S};
    let (ticket, krb5) = kerberos();
    let none = SecurityProperties {
        min_ssf: 0,
        max_ssf: 0,
        ..Default::default()
    };
    let mut client = SpnegoClient::new(InitiatorOptions::new(true).kerberos(ticket), none.clone());
    let lookup = |_: &str, _: &str| None;
    let mut server = SpnegoServer::new(
        AcceptorOptions::new().kerberos(krb5),
        Arc::new(lookup),
        none,
    );
    let first = client.start().unwrap();
    let S::Done(Some(last)) = server.start(first.as_deref()).unwrap() else {
        panic!()
    };
    client.success(Some(&last)).unwrap();
    assert_eq!(
        ClientMechanism::outcome(&client).unwrap().layer,
        Layer::None
    );
    assert_eq!(server.outcome().unwrap().layer, Layer::None);
}

#[test]
fn an_initiator_that_asked_for_integrity_refuses_an_acceptor_that_settles_none() {
    // An acceptor (or someone on the path) answering with a CHALLENGE without SIGN or SEAL.
    let now = SystemTime::now();
    let client = InitiatorOptions::new(true).ntlm(ntlm_credentials(), Default::default());
    let (mut initiator, _) = Initiator::new(client, now).unwrap();
    let bare = sealstream_ntlm::messages::Negotiate {
        flags: sealstream_ntlm::NegotiateFlags::from_bits(0x6208_8205),
    }
    .to_bytes();
    let (_, challenge) = sealstream_ntlm::Acceptor::new(ntlm_acceptor(), &bare, now).unwrap();
    let resp = NegTokenResp {
        neg_state: Some(NegState::AcceptIncomplete),
        supported_mech: Some(sealstream_negotiate::oid::NTLMSSP),
        response_token: Some(der::asn1::OctetString::new(challenge).unwrap()),
        mech_list_mic: None,
    };
    let e = initiator.step(&resp.to_token().unwrap(), now).unwrap_err();
    assert_eq!(e.status(), Status::UnsupportedFunction, "{e}");
    assert!(e.detail().contains("integrity"), "{e}");
}
