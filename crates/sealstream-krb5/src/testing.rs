//! Tickets and keytabs made in process, for the tests of the GSS-API exchange and of SASL
//! GSSAPI: what a KDC would issue for alice to a service whose key a keytab holds.

use std::time::{Duration, SystemTime};

use der::Encode;
use der::asn1::OctetString;

use crate::asn1::*;
use crate::kdc::{Credentials, kerberos_time};
use crate::keytab::KeytabEntry;
use crate::{Enctype, Key, Keytab, Principal, usage};

pub(crate) const REALM: &str = "EXAMPLE.COM";

pub(crate) fn service() -> Principal {
    Principal::service("host", "server.example.com", REALM)
}

pub(crate) fn service_key() -> Key {
    Key::new(Enctype::Aes256CtsHmacSha196, &[0x33; 32]).unwrap()
}

pub(crate) fn keytab(kvno: u32) -> Keytab {
    Keytab::from_entries(vec![KeytabEntry {
        principal: service(),
        kvno,
        key: service_key(),
    }])
}

/// A service ticket for alice, valid from `start` for an hour, as a KDC would issue it.
pub(crate) fn credentials(start: SystemTime, session: Enctype) -> Credentials {
    let client = Principal::parse("alice", Some(REALM)).unwrap();
    let session_key = Key::new(session, &vec![0x44; session.key_len()]).unwrap();
    let (authtime, _) = kerberos_time(start).unwrap();
    let (endtime, _) = kerberos_time(start + Duration::from_secs(3600)).unwrap();
    let part = EncTicketPart::from(EncTicketPartBody {
        flags: flags(0),
        key: EncryptionKeyRef {
            keytype: session.number(),
            keyvalue: der::asn1::OctetStringRef::new(session_key.as_bytes()).unwrap(),
        },
        crealm: REALM.into(),
        cname: client.to_asn1(),
        transited: TransitedEncoding {
            tr_type: 1,
            contents: OctetString::new(Vec::new()).unwrap(),
        },
        authtime,
        starttime: None,
        endtime,
        renew_till: None,
        caddr: None,
        authorization_data: None,
    })
    .to_der()
    .unwrap();
    let ticket = Ticket::from(TicketBody {
        tkt_vno: 5,
        realm: REALM.into(),
        sname: service().to_asn1(),
        enc_part: EncryptedData {
            etype: 18,
            kvno: Some(2),
            cipher: OctetString::new(service_key().encrypt_message(usage::TICKET, &part).unwrap())
                .unwrap(),
        },
    })
    .to_der()
    .unwrap();
    Credentials {
        client,
        server: service(),
        key: session_key,
        ticket,
        flags: 0,
        authtime: start,
        starttime: None,
        endtime: start + Duration::from_secs(3600),
        renew_till: None,
    }
}
