use std::time::{Duration, SystemTime};

use sealstream::Status;
use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut};

use super::*;
use crate::acceptor::{Acceptor, AcceptorOptions};
use crate::crypto::NtHash;
use crate::messages::tests::{spec_authenticate, spec_challenge};
use crate::session::Protection;

const PASSWORD: &str = "Alice-Pass-1234";

fn alice() -> Credentials {
    Credentials::with_password(r"SEALSTREAM\alice", PASSWORD).unwrap()
}

fn exchange(
    client: InitiatorOptions,
    server: AcceptorOptions,
    tamper: impl FnOnce(&mut Vec<u8>),
) -> Result<(SessionContext, SessionContext), Error> {
    let now = SystemTime::now();
    let (initiator, negotiate) = Initiator::new(alice(), client);
    let (acceptor, challenge) = Acceptor::new(server, &negotiate, now)?;
    let (mut authenticate, client_context) = initiator.finish(&challenge, now)?;
    tamper(&mut authenticate);
    let claim = acceptor.authenticate(&authenticate)?;
    assert_eq!((claim.domain(), claim.user()), ("SEALSTREAM", "alice"));
    let accepted = claim.verify(&NtHash::from_password(PASSWORD), now)?;
    Ok((client_context, accepted.into_context()))
}

#[test]
fn both_ends_agree_on_keys_and_flags() {
    let (c, s) = exchange(
        InitiatorOptions::default(),
        AcceptorOptions::new("SEALSTREAM", "SERVER"),
        |_| {},
    )
    .unwrap();
    assert_eq!(c.session_key(), s.session_key());
    assert_eq!(c.flags(), s.flags());
    assert!(
        c.flags()
            .contains(F::KEY_EXCH.union(F::SEAL).union(F::SIGN))
    );
    let (mut cw, _) = c.into_halves(Protection::Seal);
    let (_, mut su) = s.into_halves(Protection::Seal);
    let mut buf = vec![0; 16 + 5];
    buf[16..].copy_from_slice(b"hello");
    let n = cw
        .wrap(Qop::Default, RecordMut::new(&mut buf, 16, 5).unwrap())
        .unwrap();
    let r = su.unwrap(&mut buf[..n]).unwrap();
    assert_eq!(&buf[r], b"hello");
}

#[test]
fn a_wrong_password_is_logon_denied() {
    let now = SystemTime::now();
    let (initiator, negotiate) = Initiator::new(alice(), InitiatorOptions::default());
    let (acceptor, challenge) =
        Acceptor::new(AcceptorOptions::new("D", "SERVER"), &negotiate, now).unwrap();
    let (authenticate, _) = initiator.finish(&challenge, now).unwrap();
    let claim = acceptor.authenticate(&authenticate).unwrap();
    let e = claim
        .verify(&NtHash::from_password("not it"), now)
        .unwrap_err();
    assert_eq!(e.status(), Status::LogonDenied);
    assert!(e.detail().contains("wrong password"), "{e}");
}

#[test]
fn a_changed_authenticate_fails_its_mic() {
    // Drop SEAL from the AUTHENTICATE's flags, as a downgrading middlebox would.
    let e = exchange(
        InitiatorOptions::default(),
        AcceptorOptions::new("D", "SERVER"),
        |m| m[60] &= !0x20,
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::MessageAltered, "{e}");
    // Its workstation name, outside the NTLMv2 response.
    let e = exchange(
        InitiatorOptions::default().workstation("WS"),
        AcceptorOptions::new("D", "SERVER"),
        |m| {
            let at = m.len() - 16 - 2 * "alice".len() - 4;
            let _ = at;
            let ws = m.windows(4).position(|w| w == [b'W', 0, b'S', 0]).unwrap();
            m[ws] = b'X';
        },
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::MessageAltered, "{e}");
    // Its NTLMv2 response: the proof no longer verifies.
    let e = exchange(
        InitiatorOptions::default(),
        AcceptorOptions::new("D", "SERVER"),
        |m| {
            let nt = u32::from_le_bytes(m[24..28].try_into().unwrap()) as usize;
            m[nt + 40] ^= 1;
        },
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::LogonDenied, "{e}");
    // The MIC flag removed from the response: the proof covers it.
    let e = exchange(
        InitiatorOptions::default(),
        AcceptorOptions::new("D", "SERVER"),
        |m| {
            let nt = u32::from_le_bytes(m[24..28].try_into().unwrap()) as usize;
            let flags = m[nt..]
                .windows(8)
                .position(|w| w == [6, 0, 4, 0, 2, 0, 0, 0])
                .unwrap();
            m[nt + flags + 4] = 0;
        },
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::LogonDenied, "{e}");
}

#[test]
fn channel_bindings_and_the_target_name_are_checked() {
    let data = b"tls-server-end-point:0123456789abcdef0123456789abcdef".to_vec();
    let both = |c: Option<&[u8]>, s: Option<&[u8]>| {
        let mut client = InitiatorOptions::default();
        let mut server = AcceptorOptions::new("D", "SERVER");
        if let Some(c) = c {
            client = client.channel_bindings(c);
        }
        if let Some(s) = s {
            server = server.channel_bindings(s);
        }
        exchange(client, server, |_| {})
    };
    both(Some(&data), Some(&data)).unwrap();
    both(Some(&data), None).unwrap();
    for client in [None, Some(&b"tls-server-end-point:other"[..])] {
        let e = both(client, Some(&data)).unwrap_err();
        assert_eq!(e.status(), Status::LogonDenied);
        assert!(e.detail().contains("channel bindings"), "{e}");
    }
    let spn = |c: &str| {
        exchange(
            InitiatorOptions::default().target_name(c),
            AcceptorOptions::new("D", "SERVER").spn("ldap/dc1.sealstream.test"),
            |_| {},
        )
    };
    spn("LDAP/DC1.sealstream.test").unwrap();
    assert_eq!(
        spn("cifs/dc1.sealstream.test").unwrap_err().status(),
        Status::WrongPrincipal
    );
}

#[test]
fn legacy_peers_are_refused_by_name() {
    let now = SystemTime::now();
    // A server that drops extended session security.
    let mut challenge = spec_challenge();
    challenge[22] &= !0x08;
    let (initiator, _) = Initiator::new(alice(), InitiatorOptions::default());
    let e = initiator.finish(&challenge, now).unwrap_err();
    assert_eq!(e.status(), Status::UnsupportedFunction);
    assert!(e.detail().contains("extended session security"), "{e}");
    // A client offering 56-bit keys only.
    let mut negotiate = crate::messages::Negotiate {
        flags: OFFER.difference(F::KEY_128),
    }
    .to_bytes();
    let e = Acceptor::new(AcceptorOptions::new("D", "SERVER"), &negotiate, now).unwrap_err();
    assert!(e.detail().contains("128-bit"), "{e}");
    // An NTLMv1 response (24 bytes).
    negotiate = crate::messages::Negotiate { flags: OFFER }.to_bytes();
    let (acceptor, _) =
        Acceptor::new(AcceptorOptions::new("D", "SERVER"), &negotiate, now).unwrap();
    let mut v1 = crate::messages::Authenticate::parse(&spec_authenticate(), false).unwrap();
    v1.nt_response.truncate(24);
    let e = acceptor.authenticate(&v1.to_bytes().unwrap()).unwrap_err();
    assert!(e.detail().contains("NTLMv1"), "{e}");
}

#[test]
fn the_spec_authenticate_verifies_and_yields_its_session_key() {
    // MS-NLMP §4.2.4.3 with the server challenge 0123456789abcdef; its time is 0 and it has no
    // MIC, so this server allows both.
    let now = SystemTime::now();
    let negotiate = crate::messages::Negotiate {
        flags: F::from_bits(0xe288_8235),
    }
    .to_bytes();
    let options = AcceptorOptions::new("Domain", "SERVER")
        .max_skew(Duration::MAX)
        .require_mic(false);
    let (acceptor, _) = Acceptor::with_challenge(
        options,
        &negotiate,
        now,
        [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
    )
    .unwrap();
    let claim = acceptor.authenticate(&spec_authenticate()).unwrap();
    assert_eq!(claim.workstation(), "COMPUTER");
    let accepted = claim
        .verify(&NtHash::from_password("Password"), now)
        .unwrap();
    assert_eq!(accepted.user(), "User");
    assert_eq!(accepted.into_context().session_key(), &[0x55; 16]);
}

#[test]
fn a_stale_response_is_time_skew() {
    let now = SystemTime::now();
    let (initiator, negotiate) = Initiator::new(alice(), InitiatorOptions::default());
    let (acceptor, challenge) =
        Acceptor::new(AcceptorOptions::new("D", "SERVER"), &negotiate, now).unwrap();
    let (authenticate, _) = initiator.finish(&challenge, now).unwrap();
    let claim = acceptor.authenticate(&authenticate).unwrap();
    let later = now + Duration::from_secs(301);
    let e = claim
        .verify(&NtHash::from_password(PASSWORD), later)
        .unwrap_err();
    assert_eq!(e.status(), Status::TimeSkew, "{e}");
}

#[test]
fn without_a_server_timestamp_the_client_sends_lmv2_and_no_mic() {
    let random = Randomness {
        client_challenge: [0xaa; 8],
        session_key: Zeroizing::new([0x55; 16]),
    };
    let creds = Credentials::with_password(r"Domain\User", "Password").unwrap();
    let (initiator, _) = Initiator::new(creds, InitiatorOptions::default());
    let now = SystemTime::UNIX_EPOCH;
    let (bytes, context) = initiator
        .finish_with(&spec_challenge(), now, random)
        .unwrap();
    let a = crate::messages::Authenticate::parse(&bytes, true).unwrap();
    assert_eq!(a.mic, Some([0; 16]));
    assert_eq!(a.lm_response[16..], [0xaa; 8]);
    // Key exchange: the spec's encrypted session key needs the spec's NTProofStr, which covers
    // the channel-bindings pair this client adds, so only the exported key is the spec's.
    assert_eq!(context.session_key(), &[0x55; 16]);
}

#[test]
fn a_challenge_without_target_information_is_refused() {
    // The spec's CHALLENGE with its TargetInfo field emptied: an NTLMv1-only server.
    let mut challenge = spec_challenge();
    challenge[40..42].copy_from_slice(&[0, 0]);
    let (initiator, _) = Initiator::new(alice(), InitiatorOptions::default());
    let e = initiator.finish(&challenge, SystemTime::now()).unwrap_err();
    assert_eq!(e.status(), Status::InvalidToken);
    assert!(e.detail().contains("target information"), "{e}");
}

#[test]
fn a_response_made_at_another_time_is_time_skew() {
    // A client whose clock is ten minutes off and that sees no MsvAvTimestamp (taken out of
    // the CHALLENGE on its way) puts its own time into the response; without the server's
    // timestamp it sends no MIC either, so this server does not require one.
    let now = SystemTime::now();
    let (initiator, negotiate) = Initiator::new(alice(), InitiatorOptions::default());
    let (acceptor, challenge) = Acceptor::new(
        AcceptorOptions::new("D", "SERVER").require_mic(false),
        &negotiate,
        now,
    )
    .unwrap();
    let mut parsed = crate::messages::Challenge::parse(&challenge).unwrap();
    parsed.target_info = {
        let mut info = crate::target_info::TargetInfo::new();
        for (id, value) in parsed
            .target_info
            .iter()
            .filter(|(id, _)| *id != crate::target_info::AV_TIMESTAMP)
        {
            info.set(id, value).unwrap();
        }
        info
    };
    let without_timestamp = parsed.to_bytes().unwrap();
    let (authenticate, _) = initiator
        .finish(&without_timestamp, now - Duration::from_secs(600))
        .unwrap();
    let claim = acceptor.authenticate(&authenticate).unwrap();
    let e = claim
        .verify(&NtHash::from_password(PASSWORD), now)
        .unwrap_err();
    assert_eq!(e.status(), Status::TimeSkew, "{e}");
    assert!(e.detail().contains("response's time"), "{e}");
}

#[test]
fn the_client_vouches_only_for_the_servers_names_and_timestamp() {
    // A CHALLENGE whose target information also carries pairs a client must not sign for the
    // server: a target name, flags claiming a MIC, a single-host token, and a duplicate name.
    let mut challenge = crate::messages::Challenge::parse(&spec_challenge()).unwrap();
    let mut info = challenge.target_info.clone();
    info.set_str(crate::target_info::AV_TARGET_NAME, "cifs/elsewhere")
        .unwrap();
    info.set(crate::target_info::AV_FLAGS, &2u32.to_le_bytes())
        .unwrap();
    info.set(crate::target_info::AV_SINGLE_HOST, &[1; 48])
        .unwrap();
    let mut bytes = info.to_bytes();
    let eol = bytes.len() - 4;
    bytes.splice(eol..eol, [2, 0, 4, 0, b'X', 0, b'Y', 0]);
    challenge.target_info = crate::target_info::TargetInfo::parse(&bytes).unwrap();
    let (initiator, _) = Initiator::new(alice(), InitiatorOptions::default());
    let (authenticate, _) = initiator
        .finish(&challenge.to_bytes().unwrap(), SystemTime::now())
        .unwrap();
    let a = crate::messages::Authenticate::parse(&authenticate, false).unwrap();
    let signed = crate::target_info::TargetInfo::parse(&a.nt_response[16 + 28..]).unwrap();
    let ids: Vec<u16> = signed.iter().map(|(id, _)| id).collect();
    // NbDomainName and NbComputerName once, then the client's channel bindings; no timestamp
    // came, so no MIC is claimed.
    assert_eq!(ids, [2, 1, 10], "{signed:?}");
    assert_eq!(signed.get(2), Some(&crate::wire::utf16le("Domain")[..]));
}
