//! Service tickets made with the service's own key: what a KDC's ticket-granting service does
//! for one service, without a KDC.
//!
//! Whoever holds a service's long-term key can make tickets that service accepts; a KDC is how
//! clients get them without holding that key. [`TicketIssuer`] makes them in process, for tests
//! of an application's Kerberos code, for benchmarks (`sealcat bench --sealer krb5-*`), and for
//! a client and service deployed together with the service's keytab. A ticket it makes proves
//! nothing about its client: the issuer writes whatever client name it is given.

use std::time::{Duration, SystemTime};

use der::asn1::{OctetString, OctetStringRef};

use super::{Credentials, encode, kerberos_time};
use crate::asn1::*;
use crate::{Enctype, Key, Keytab, KeytabEntry, Principal, usage};
use sealstream::{Error, Status};

/// Makes tickets for one service with its long-term key.
#[derive(Clone, Debug)]
pub struct TicketIssuer {
    service: Principal,
    key: Key,
    kvno: u32,
}

impl TicketIssuer {
    /// An issuer for `service`, whose key version `kvno` is `key`.
    pub fn new(service: Principal, key: Key, kvno: u32) -> Self {
        Self { service, key, kvno }
    }

    /// An issuer for `service` with a fresh random key of type `enctype`, version 1.
    pub fn with_random_key(service: Principal, enctype: Enctype) -> Result<Self, Error> {
        Ok(Self::new(service, Key::random(enctype)?, 1))
    }

    /// The service's keytab: the one key tickets are made with, for an
    /// [`Acceptor`](crate::gss::Acceptor).
    pub fn keytab(&self) -> Keytab {
        Keytab::from_entries(vec![KeytabEntry {
            principal: self.service.clone(),
            kvno: self.kvno,
            key: self.key.clone(),
        }])
    }

    /// A ticket for `client`, valid from `now` for `lifetime`, with a fresh random session key
    /// of type `session`.
    pub fn issue(
        &self,
        client: Principal,
        session: Enctype,
        lifetime: Duration,
        now: SystemTime,
    ) -> Result<Credentials, Error> {
        let session_key = Key::random(session)?;
        let (authtime, _) = kerberos_time(now)?;
        let end = now
            .checked_add(lifetime)
            .ok_or_else(|| Error::new(Status::InvalidParameter, "the lifetime is too long"))?;
        let (endtime, _) = kerberos_time(end)?;
        let part = EncTicketPart::from(EncTicketPartBody {
            flags: flags(0),
            key: EncryptionKeyRef {
                keytype: session.number(),
                keyvalue: OctetStringRef::new(session_key.as_bytes())
                    .map_err(|_| Error::new(Status::InternalError, "a session key"))?,
            },
            crealm: client.realm().into(),
            cname: client.to_asn1(),
            transited: TransitedEncoding {
                tr_type: 1,
                contents: OctetString::new(Vec::new())
                    .map_err(|_| Error::new(Status::InternalError, "an empty octet string"))?,
            },
            authtime,
            starttime: None,
            endtime,
            renew_till: None,
            caddr: None,
            authorization_data: None,
        });
        let part = encode("a ticket's encrypted part", &part)?;
        let sealed = self.key.encrypt_message(usage::TICKET, &part)?;
        let ticket = Ticket::from(TicketBody {
            tkt_vno: 5,
            realm: self.service.realm().into(),
            sname: self.service.to_asn1(),
            enc_part: EncryptedData {
                etype: self.key.enctype().number(),
                kvno: Some(self.kvno),
                cipher: OctetString::new(sealed)
                    .map_err(|_| Error::new(Status::InternalError, "a ticket too long for DER"))?,
            },
        });
        Ok(Credentials {
            client,
            server: self.service.clone(),
            key: session_key,
            ticket: encode("a ticket", &ticket)?,
            flags: 0,
            authtime: now,
            starttime: None,
            endtime: end,
            renew_till: None,
        })
    }
}
