//! Tickets across realms: two MIT krb5 1.20 KDCs on loopback (tests/peers/mitkdc.sh) that trust
//! each other, SEALSTREAM.TEST and OTHER.TEST. alice of SEALSTREAM.TEST gets a ticket for a
//! service of OTHER.TEST through the cross-realm ticket-granting ticket her KDC issues, or,
//! asking for it in her own realm, through the referral her KDC answers with (RFC 6806); the
//! service accepts it with its own keys. Without the trust, or without the other realm's KDC,
//! the failure says so.

use std::time::SystemTime;

use sealstream::Status;
use sealstream_interop::mitkdc::{self, REALM};
use sealstream_krb5::gss::{Acceptor, AcceptorOptions, Initiator, InitiatorOptions};
use sealstream_krb5::kdc::{ClientSecret, InitCredsOptions, KdcConfig};
use sealstream_krb5::{Keytab, Principal};

const OTHER: &str = "OTHER.TEST";

fn alice() -> Principal {
    Principal::parse("alice", Some(REALM)).unwrap()
}

fn password() -> ClientSecret {
    ClientSecret::Password(String::from("alice-password").into())
}

#[tokio::test]
async fn a_service_in_a_trusting_realm_through_a_cross_realm_tgt() {
    // The home KDC refers host-based services on other.example to OTHER.TEST (RFC 6806),
    // which has one.
    let Some(home) = mitkdc::start_realm(
        REALM,
        &[
            ("MITKDC_CROSS_REALMS", OTHER),
            ("MITKDC_DOMAIN_REALMS", "other.example=OTHER.TEST"),
        ],
    ) else {
        return;
    };
    let Some(other) = mitkdc::start_realm(
        OTHER,
        &[
            ("MITKDC_CROSS_REALMS", REALM),
            ("MITKDC_EXTRA_SERVICES", "host/other.example"),
        ],
    ) else {
        return;
    };
    let both = KdcConfig::new()
        .kdc(REALM, &home.address)
        .kdc(OTHER, &other.address);
    let tgt = both
        .get_tgt(alice(), password(), InitCredsOptions::default())
        .await
        .unwrap();
    let service = Principal::service("host", "localhost", OTHER);
    let ticket = both
        .get_service_ticket(&tgt, service.clone())
        .await
        .unwrap();
    assert_eq!(
        ticket.server().to_string(),
        format!("host/localhost@{OTHER}")
    );
    assert_eq!(ticket.client().to_string(), format!("alice@{REALM}"));
    // The service of OTHER.TEST accepts it with its own keys, and sees alice of SEALSTREAM.TEST.
    let keytab = Keytab::read(other.dir.join("service.keytab")).unwrap();
    let acceptor = Acceptor::new(keytab, Some(service), AcceptorOptions::default());
    let now = SystemTime::now();
    let (initiator, ap_req) = Initiator::new(&ticket, InitiatorOptions::default(), now).unwrap();
    let accepted = acceptor.accept(&ap_req, now).unwrap();
    assert_eq!(accepted.client.to_string(), format!("alice@{REALM}"));
    initiator.finish(&accepted.token.unwrap()).unwrap();

    // A service whose realm the client does not know, asked for in its own realm: the home KDC
    // refers it to OTHER.TEST, whose KDC issues the ticket.
    let guessed = Principal::service("host", "other.example", REALM);
    let referred = both.get_service_ticket(&tgt, guessed).await.unwrap();
    assert_eq!(
        referred.server().to_string(),
        format!("host/other.example@{OTHER}")
    );
    let keytab = Keytab::read(other.dir.join("service.keytab")).unwrap();
    let acceptor = Acceptor::new(
        keytab,
        Some(Principal::service("host", "other.example", OTHER)),
        AcceptorOptions::default(),
    );
    let (_, ap_req) = Initiator::new(&referred, InitiatorOptions::default(), now).unwrap();
    assert_eq!(
        acceptor.accept(&ap_req, now).unwrap().client.to_string(),
        format!("alice@{REALM}")
    );

    // Without a KDC for OTHER.TEST in the configuration, the path stops there, and says so.
    let home_only = KdcConfig::new().kdc(REALM, &home.address);
    let err = home_only
        .get_service_ticket(&tgt, Principal::service("host", "localhost", OTHER))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::NoAuthenticatingAuthority, "{err}");
    assert!(err.to_string().contains(OTHER), "{err}");

    // A realm nobody trusts: the home KDC has no krbtgt/NOWHERE.TEST.
    let err = both
        .get_service_ticket(
            &tgt,
            Principal::service("host", "localhost", "NOWHERE.TEST"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Status::TargetUnknown, "{err}");
    assert!(err.to_string().contains("krbtgt/NOWHERE.TEST"), "{err}");
}
