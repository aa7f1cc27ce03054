//! What every exchange with a KDC shares: times, nonces, telling replies apart, and turning a
//! decrypted reply into credentials.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use sealstream::{Error, Status};

use super::Credentials;
use crate::Enctype;
use crate::asn1::{
    self, App, AsRep, EncKdcRepPart, KRB_AS_REP, KRB_ERROR, KRB_TGS_REP, KdcRep, KerberosTime,
    KrbError, KrbErrorBody, PVNO, TgsRep,
};
use crate::crypto::{Key, fill_confounder};
use crate::principal::Principal;

/// A message for a realm's KDC, and how it must travel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KdcRequest {
    /// The realm whose KDC it goes to.
    pub realm: String,
    /// The encoded request.
    pub message: Vec<u8>,
    /// The KDC said the reply is too big for UDP (`KRB_ERR_RESPONSE_TOO_BIG`): send it over TCP.
    pub tcp_only: bool,
}

/// What an exchange needs next.
#[derive(Debug)]
#[non_exhaustive]
pub enum Step {
    /// Send this to the realm's KDC and hand the reply to `step`.
    Send(KdcRequest),
    /// The exchange is over.
    Done(Box<Credentials>),
}

/// A reply from a KDC, told apart by its application tag.
pub(crate) enum Reply {
    As(KdcRep),
    Tgs(KdcRep),
    Error(KrbErrorBody),
}

impl Reply {
    pub(crate) fn decode(reply: &[u8]) -> Result<Self, Error> {
        let malformed = |e: der::Error| {
            Error::new(
                Status::InvalidToken,
                format!("malformed reply from the KDC: {e}"),
            )
        };
        let check = |pvno: u8, msg_type: u8, expected: u8| {
            if pvno != PVNO || msg_type != expected {
                return Err(Error::new(
                    Status::InvalidToken,
                    format!(
                        "a KDC reply of protocol version {pvno} and message type {msg_type} \
                         where version {PVNO}, type {expected} was expected"
                    ),
                ));
            }
            Ok(())
        };
        Ok(match reply.first() {
            Some(0x6b) => {
                let rep = AsRep::from_der(reply).map_err(malformed)?.0;
                check(rep.pvno, rep.msg_type, KRB_AS_REP)?;
                Reply::As(rep)
            }
            Some(0x6d) => {
                let rep = TgsRep::from_der(reply).map_err(malformed)?.0;
                check(rep.pvno, rep.msg_type, KRB_TGS_REP)?;
                Reply::Tgs(rep)
            }
            Some(0x7e) => {
                let err = KrbError::from_der(reply).map_err(malformed)?.0;
                check(err.pvno, err.msg_type, KRB_ERROR)?;
                Reply::Error(err)
            }
            Some(other) => {
                return Err(Error::new(
                    Status::InvalidToken,
                    format!(
                        "a KDC reply starting with {other:#04x} is neither a reply nor an error"
                    ),
                ));
            }
            None => {
                return Err(Error::new(
                    Status::InvalidToken,
                    "an empty reply from the KDC",
                ));
            }
        })
    }
}

/// The local clock, corrected by what a KDC said its time was (`KRB_AP_ERR_SKEW`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Clock {
    /// Seconds to add to the local time to get the KDC's.
    offset: i64,
}

impl Clock {
    /// The KDC's time when the local one is `now`.
    pub(crate) fn now(&self, now: SystemTime) -> SystemTime {
        let offset = Duration::from_secs(self.offset.unsigned_abs());
        if self.offset >= 0 {
            now + offset
        } else {
            now - offset
        }
    }

    /// Learn the KDC's time `stime` from an error sent when the local time was `now`.
    pub(crate) fn correct(&mut self, stime: &KerberosTime, now: SystemTime) {
        self.offset = unix_seconds(to_system(stime)) - unix_seconds(now);
    }
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// `t` as a `KerberosTime` (whole seconds), and the microseconds it drops.
pub(crate) fn kerberos_time(t: SystemTime) -> Result<(KerberosTime, i32), Error> {
    let since = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::new(Status::TimeSkew, "the clock is set before 1970"))?;
    let whole = Duration::from_secs(since.as_secs());
    let time = KerberosTime::from_unix_duration(whole)
        .map_err(|e| Error::new(Status::TimeSkew, format!("the clock reads {since:?}: {e}")))?;
    Ok((time, since.subsec_micros() as i32))
}

pub(crate) fn to_system(t: &KerberosTime) -> SystemTime {
    UNIX_EPOCH + t.to_unix_duration()
}

/// A nonce: 31 random bits (some KDCs read the field as a signed number).
pub(crate) fn nonce() -> Result<u32, Error> {
    let mut bytes = [0u8; 4];
    fill_confounder(&mut bytes)?;
    Ok(u32::from_be_bytes(bytes) & 0x7fff_ffff)
}

/// Encode a message, failing with `SEC_E_INTERNAL_ERROR` (a value out of DER's range).
pub(crate) fn encode<T: Encode>(what: &str, value: &T) -> Result<Vec<u8>, Error> {
    value
        .to_der()
        .map_err(|e| Error::new(Status::InternalError, format!("cannot encode {what}: {e}")))
}

/// The encrypted part of a KDC reply, decrypted with `key` for `usage`, checked against the
/// request (`nonce`, the service asked for), as credentials with `ticket`.
///
/// With `referral_ok` (a TGS exchange), a ticket-granting ticket of the same KDC for another
/// realm is accepted in place of the server asked for: a referral to the realm a service is in
/// (RFC 6806), or, asked for a cross-realm ticket-granting ticket (`krbtgt/B@A`), one for a
/// realm on the way, closer to B (`krbtgt/C@A`; RFC 4120 §1.2 and §3.3.1 describe such paths).
/// Any other server is `SEC_E_WRONG_PRINCIPAL`.
pub(crate) fn credentials(
    rep: &KdcRep,
    key: &Key,
    usage: u32,
    nonce: u32,
    server: &Principal,
    referral_ok: bool,
) -> Result<Credentials, Error> {
    if rep.enc_part.etype != key.enctype().number() {
        return Err(Error::new(
            Status::EtypeNotSupported,
            format!(
                "the KDC encrypted its reply with encryption type {}, not the key's {}",
                rep.enc_part.etype,
                key.enctype()
            ),
        ));
    }
    let plain = key.decrypt_message(usage, rep.enc_part.cipher.as_bytes())?;
    // EncASRepPart is [APPLICATION 25], EncTGSRepPart [APPLICATION 26]; either may come.
    let part: EncKdcRepPart<'_> = match plain.first() {
        Some(0x79) => App::<25, EncKdcRepPart<'_>>::from_der(&plain).map(|a| a.0),
        Some(0x7a) => App::<26, EncKdcRepPart<'_>>::from_der(&plain).map(|a| a.0),
        _ => Err(der::Error::from(der::ErrorKind::TagUnexpected {
            expected: None,
            actual: der::Tag::Null,
        })),
    }
    .map_err(|e| {
        Error::new(
            Status::InvalidToken,
            format!("the KDC reply's encrypted part is malformed: {e}"),
        )
    })?;
    // RFC 4120 §3.1.5: the client "verifies that the nonce in the decrypted reply matches
    // the nonce it supplied"; an authentic reply to another request is a replay.
    if part.nonce != nonce {
        return Err(Error::new(
            Status::OutOfSequence,
            "the KDC reply answers another request (its nonce differs)",
        ));
    }
    let granted = Principal::from_asn1(&part.sname, &part.srealm);
    let referral = referral_ok
        && granted.realm() == server.realm()
        && granted
            .granting_realm()
            .is_some_and(|realm| realm != server.realm());
    if !granted.same_name(server) && !referral {
        return Err(Error::new(
            Status::WrongPrincipal,
            format!("asked the KDC for a ticket to {server}, got one to {granted}"),
        ));
    }
    let enctype = Enctype::from_number(part.key.keytype).ok_or_else(|| {
        Error::new(
            Status::EtypeNotSupported,
            format!("the session key has encryption type {}", part.key.keytype),
        )
    })?;
    Ok(Credentials {
        client: Principal::from_asn1(&rep.cname, &rep.crealm),
        server: granted,
        key: Key::new(enctype, part.key.keyvalue.as_bytes())?,
        ticket: encode("the ticket", &rep.ticket)?,
        flags: asn1::flags_value(&part.flags),
        authtime: to_system(&part.authtime),
        starttime: part.starttime.as_ref().map(to_system),
        endtime: to_system(&part.endtime),
        renew_till: part.renew_till.as_ref().map(to_system),
    })
}

/// `bytes` as an `OCTET STRING`.
pub(crate) fn octets(bytes: Vec<u8>) -> Result<der::asn1::OctetString, Error> {
    der::asn1::OctetString::new(bytes)
        .map_err(|e| Error::new(Status::InternalError, format!("an OCTET STRING: {e}")))
}
