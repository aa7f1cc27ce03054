//! The AS exchange against a KDC played in-process: pre-authentication, clock correction, the
//! switch to TCP, and replies that are wrong, forged or garbage. (The same exchanges against
//! MIT's KDC are in `tests/tests/krb5_mit.rs`.)

use std::time::{Duration, SystemTime};

use der::asn1::{Any, OctetString};
use der::{Decode, Encode};
use sealstream::Status;

use super::error::{KDC_ERR_PREAUTH_REQUIRED, KRB_AP_ERR_SKEW, KRB_ERR_RESPONSE_TOO_BIG};
use super::*;
use crate::asn1::*;
use crate::crypto::Key;
use crate::{Enctype, Principal, usage};

const REALM: &str = "EXAMPLE.COM";
const PASSWORD: &str = "hunter2 but longer";

fn alice() -> Principal {
    Principal::parse("alice", Some(REALM)).unwrap()
}

/// alice's key, derived once (string-to-key runs 4096 PBKDF2 iterations).
fn alice_key() -> Key {
    static KEY: std::sync::OnceLock<Key> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        Key::from_password(
            Enctype::Aes256CtsHmacSha196,
            PASSWORD.as_bytes(),
            &alice().default_salt(),
            None,
        )
        .unwrap()
    })
    .clone()
}

/// An exchange with alice's key itself: pre-authenticated from the first request.
fn keyed() -> (InitCreds, KdcRequest) {
    let mut ex = InitCreds::new(
        alice(),
        ClientSecret::Keys(vec![alice_key()]),
        InitCredsOptions::default(),
    )
    .unwrap();
    let req = ex.start(SystemTime::now()).unwrap();
    (ex, req)
}

fn octets(bytes: &[u8]) -> OctetString {
    OctetString::new(bytes.to_vec()).unwrap()
}

/// The request the client sent.
fn request(req: &KdcRequest) -> KdcReq {
    AsReq::from_der(&req.message).unwrap().0
}

fn krb_error(code: i32, stime: SystemTime, e_data: Option<Vec<u8>>) -> Vec<u8> {
    let (stime, _) = kerberos_time(stime).unwrap();
    KrbError::from(KrbErrorBody {
        pvno: PVNO,
        msg_type: KRB_ERROR,
        ctime: None,
        cusec: None,
        stime,
        susec: 0,
        error_code: code,
        crealm: None,
        cname: None,
        realm: REALM.into(),
        sname: Principal::krbtgt(REALM, REALM).to_asn1(),
        e_text: Some("from the test KDC".into()),
        e_data: e_data.map(|d| octets(&d)),
    })
    .to_der()
    .unwrap()
}

fn preauth_required(now: SystemTime) -> Vec<u8> {
    let info = vec![EtypeInfo2Entry {
        etype: 18,
        salt: Some(KerberosString(
            String::from_utf8(alice().default_salt()).unwrap(),
        )),
        s2kparams: None,
    }];
    let methods = vec![PaData {
        padata_type: PA_ETYPE_INFO2,
        padata_value: octets(&info.to_der().unwrap()),
    }];
    krb_error(
        KDC_ERR_PREAUTH_REQUIRED,
        now,
        Some(methods.to_der().unwrap()),
    )
}

/// An AS-REP for `req`, its encrypted part (tagged `tag`) in `key`, answering `nonce` with a
/// ticket for `server`.
fn as_rep(key: &Key, nonce: u32, server: &Principal, tag: u8, now: SystemTime) -> Vec<u8> {
    let session = [0x5au8; 32];
    let (authtime, _) = kerberos_time(now).unwrap();
    let (endtime, _) = kerberos_time(now + Duration::from_secs(3600)).unwrap();
    let part = EncKdcRepPart {
        key: EncryptionKeyRef {
            keytype: 18,
            keyvalue: der::asn1::OctetStringRef::new(&session).unwrap(),
        },
        last_req: Any::from_der(&[0x30, 0x00]).unwrap(),
        nonce,
        key_expiration: None,
        flags: flags(0x0080_0000),
        authtime,
        starttime: None,
        endtime,
        renew_till: None,
        srealm: server.realm().into(),
        sname: server.to_asn1(),
        caddr: None,
        encrypted_pa_data: None,
    };
    let part = match tag {
        25 => App::<25, _>(part).to_der(),
        _ => App::<26, _>(part).to_der(),
    }
    .unwrap();
    let ticket = Ticket::from(TicketBody {
        tkt_vno: 5,
        realm: REALM.into(),
        sname: server.to_asn1(),
        enc_part: EncryptedData {
            etype: 18,
            kvno: Some(1),
            cipher: octets(b"opaque to the client"),
        },
    })
    .to_der()
    .unwrap();
    AsRep::from(KdcRep {
        pvno: PVNO,
        msg_type: KRB_AS_REP,
        padata: None,
        crealm: REALM.into(),
        cname: alice().to_asn1(),
        ticket: Any::from_der(&ticket).unwrap(),
        enc_part: EncryptedData {
            etype: key.enctype().number(),
            kvno: Some(1),
            cipher: octets(&key.encrypt_message(usage::AS_REP_ENC_PART, &part).unwrap()),
        },
    })
    .to_der()
    .unwrap()
}

fn exchange() -> InitCreds {
    InitCreds::new(
        alice(),
        ClientSecret::Password(PASSWORD.to_owned().into()),
        InitCredsOptions::default(),
    )
    .unwrap()
}

/// Start, answer with PREAUTH_REQUIRED: the pre-authenticated request.
fn to_preauth(ex: &mut InitCreds, now: SystemTime) -> KdcRequest {
    let first = ex.start(now).unwrap();
    assert!(
        request(&first).padata.is_none(),
        "no pre-authentication yet"
    );
    match ex.step(&preauth_required(now), now).unwrap() {
        Step::Send(req) => req,
        other => panic!("{other:?}"),
    }
}

/// The time a pre-authenticated request carries, after checking it decrypts with alice's key.
fn preauth_time(req: &KdcRequest) -> SystemTime {
    let padata = request(req).padata.expect("PA-ENC-TIMESTAMP");
    assert_eq!(padata[0].padata_type, PA_ENC_TIMESTAMP);
    let encrypted = EncryptedData::from_der(padata[0].padata_value.as_bytes()).unwrap();
    assert_eq!(encrypted.etype, 18);
    let plain = alice_key()
        .decrypt_message(usage::PA_ENC_TIMESTAMP, encrypted.cipher.as_bytes())
        .unwrap();
    to_system(&PaEncTsEnc::from_der(&plain).unwrap().patimestamp)
}

#[test]
fn preauthentication_then_the_reply_gives_credentials() {
    let now = SystemTime::now();
    for tag in [25, 26] {
        let mut ex = exchange();
        let req = to_preauth(&mut ex, now);
        let sent = preauth_time(&req);
        assert!(sent.duration_since(now - Duration::from_secs(1)).is_ok());
        let nonce = request(&req).req_body.nonce;
        let reply = as_rep(
            &alice_key(),
            nonce,
            &Principal::krbtgt(REALM, REALM),
            tag,
            now,
        );
        let Step::Done(creds) = ex.step(&reply, now).unwrap() else {
            panic!("not done")
        };
        assert_eq!(
            creds.server().to_string(),
            format!("krbtgt/{REALM}@{REALM}")
        );
        assert_eq!(creds.session_key().as_bytes(), [0x5a; 32]);
        assert!(creds.is_current(now));
        assert!(ex.step(&reply, now).is_err(), "the exchange is over");
    }
}

#[test]
fn the_kdc_clock_is_adopted_once_and_a_big_reply_moves_to_tcp() {
    let now = SystemTime::now();
    let mut ex = exchange();
    let req = to_preauth(&mut ex, now);
    let ahead = now + Duration::from_secs(3600);
    let Step::Send(again) = ex
        .step(&krb_error(KRB_AP_ERR_SKEW, ahead, None), now)
        .unwrap()
    else {
        panic!("no retry")
    };
    let sent = preauth_time(&again);
    let off = sent.duration_since(ahead).unwrap_or_else(|e| e.duration());
    assert!(
        off < Duration::from_secs(2),
        "the timestamp follows the KDC's clock"
    );
    assert_ne!(req.message, again.message);
    let Step::Send(tcp) = ex
        .step(&krb_error(KRB_ERR_RESPONSE_TOO_BIG, now, None), now)
        .unwrap()
    else {
        panic!("no retry")
    };
    assert!(tcp.tcp_only);
    assert_eq!(tcp.message, again.message, "the same request, over TCP");
    let err = ex
        .step(&krb_error(KRB_AP_ERR_SKEW, ahead, None), now)
        .unwrap_err();
    assert_eq!(err.status(), Status::TimeSkew, "only one correction: {err}");
}

#[test]
fn forged_wrong_and_garbage_replies_are_refused_without_a_panic() {
    let now = SystemTime::now();
    let krbtgt = Principal::krbtgt(REALM, REALM);
    type Reply<'a> = Box<dyn Fn(u32) -> Vec<u8> + 'a>;
    let cases: Vec<(Reply<'_>, Status)> = vec![
        // Encrypted in another key: the password is wrong.
        (
            Box::new(|n| {
                let other = Key::new(Enctype::Aes256CtsHmacSha196, &[1; 32]).unwrap();
                as_rep(&other, n, &Principal::krbtgt(REALM, REALM), 25, now)
            }),
            Status::LogonDenied,
        ),
        // An answer to another request.
        (
            Box::new(|n| {
                as_rep(
                    &alice_key(),
                    n ^ 1,
                    &Principal::krbtgt(REALM, REALM),
                    25,
                    now,
                )
            }),
            Status::OutOfSequence,
        ),
        // A ticket for another service.
        (
            Box::new(|n| {
                as_rep(
                    &alice_key(),
                    n,
                    &Principal::service("host", "x", REALM),
                    25,
                    now,
                )
            }),
            Status::WrongPrincipal,
        ),
        (Box::new(|_| Vec::new()), Status::InvalidToken),
        (
            Box::new(|_| b"HTTP/1.1 400 Bad Request".to_vec()),
            Status::InvalidToken,
        ),
    ];
    for (i, (reply, status)) in cases.into_iter().enumerate() {
        let mut ex = exchange();
        let req = to_preauth(&mut ex, now);
        let err = ex
            .step(&reply(request(&req).req_body.nonce), now)
            .unwrap_err();
        assert_eq!(err.status(), status, "case {i}: {err}");
    }
    // A genuine reply cut short anywhere, or with a byte changed anywhere.
    let (_, req) = keyed();
    let good = as_rep(&alice_key(), request(&req).req_body.nonce, &krbtgt, 25, now);
    for cut in 0..good.len() {
        let (mut ex, _) = keyed();
        assert!(ex.step(&good[..cut], now).is_err(), "cut at {cut}");
    }
    // Each reply answers a fresh exchange's random nonce, whose DER encoding is 1 to 5 bytes:
    // the replies differ in length, so each is walked to its own end.
    for at in 0.. {
        let (mut ex, req) = keyed();
        let mut bad = as_rep(&alice_key(), request(&req).req_body.nonce, &krbtgt, 25, now);
        let Some(byte) = bad.get_mut(at) else { break };
        *byte ^= 0x40;
        // Most changes are refused; a few land in the bytes the client does not interpret
        // (the opaque ticket, the kvno): whatever comes back must not be a panic.
        let _ = ex.step(&bad, now);
    }
    // A reply with no request outstanding.
    let mut ex = exchange();
    let err = ex.step(&good, now).unwrap_err();
    assert_eq!(err.status(), Status::InvalidParameter);
}

#[test]
fn keys_preauthenticate_at_once_and_an_unknown_etype_is_named() {
    let now = SystemTime::now();
    let (_, first) = keyed();
    preauth_time(&first);
    // A KDC that offers only DES for a password client.
    let mut ex = exchange();
    ex.start(now).unwrap();
    let info = vec![EtypeInfo2Entry {
        etype: 3,
        salt: None,
        s2kparams: None,
    }];
    let methods = vec![PaData {
        padata_type: PA_ETYPE_INFO2,
        padata_value: octets(&info.to_der().unwrap()),
    }];
    let reply = krb_error(
        KDC_ERR_PREAUTH_REQUIRED,
        now,
        Some(methods.to_der().unwrap()),
    );
    let err = ex.step(&reply, now).unwrap_err();
    assert_eq!(err.status(), Status::EtypeNotSupported, "{err}");
    assert!(err.to_string().contains("[3]"), "{err}");
}

/// Asked for `krbtgt/FAR@REALM`, a KDC may grant `krbtgt/NEAR@REALM`, a realm on the way, and
/// asked for a service, a referral to the service's realm: taken where referrals are (the TGS
/// exchange), refused in an AS exchange, and never a service ticket, a ticket-granting ticket of
/// another realm's KDC or one for the KDC's own realm in their place.
#[test]
fn a_closer_ticket_granting_ticket_is_taken_only_where_referrals_are() {
    use super::reply::{Reply, credentials};

    let now = SystemTime::now();
    let asked = Principal::krbtgt("FAR.TEST", REALM);
    let granted_for = |asked: &Principal, server: &Principal, referral_ok: bool| {
        let reply = as_rep(&alice_key(), 7, server, 25, now);
        let Reply::As(rep) = Reply::decode(&reply).unwrap() else {
            panic!("an AS-REP")
        };
        credentials(
            &rep,
            &alice_key(),
            usage::AS_REP_ENC_PART,
            7,
            asked,
            referral_ok,
        )
    };
    let granted = |server: &Principal, referral_ok: bool| granted_for(&asked, server, referral_ok);
    let closer = Principal::krbtgt("NEAR.TEST", REALM);
    let creds = granted(&closer, true).unwrap();
    assert!(creds.server().same_name(&closer));
    assert_eq!(creds.server().granting_realm(), Some("NEAR.TEST"));
    for (server, referral_ok) in [
        (closer.clone(), false),
        (Principal::service("host", "far", REALM), true),
        (Principal::krbtgt("FAR.TEST", "NEAR.TEST"), true),
        // The KDC's own realm is no referral: following it would go round.
        (Principal::krbtgt(REALM, REALM), true),
    ] {
        let err = granted(&server, referral_ok).unwrap_err();
        assert_eq!(err.status(), Status::WrongPrincipal, "{server}: {err}");
    }
    // Asked for a service, a referral (RFC 6806): a TGT for the realm the service is in.
    let service = Principal::service("host", "far.example", REALM);
    let referral = granted_for(&service, &asked, true).unwrap();
    assert_eq!(referral.server().granting_realm(), Some("FAR.TEST"));
    let err = granted_for(&service, &asked, false).unwrap_err();
    assert_eq!(err.status(), Status::WrongPrincipal, "{err}");
}
