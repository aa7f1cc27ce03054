//! The TGS exchange (RFC 4120 §3.3): a ticket for a service, from a ticket-granting ticket.
//!
//! The TGS-REQ carries an AP-REQ in its PA-TGS-REQ: the ticket-granting ticket and an
//! authenticator (key usage 7) whose checksum (key usage 6) covers the request body, so the
//! request cannot be altered on the way. The authenticator also carries a fresh subkey, and the
//! KDC encrypts its reply in it (key usage 9) rather than in the ticket's session key, as MIT's
//! client does.

use std::time::{Duration, SystemTime};

use der::Decode;
use sealstream::{Error, Status};

use super::error::{self, KRB_AP_ERR_SKEW};
use super::reply::{Clock, Reply, credentials, encode, kerberos_time, nonce, octets};
use super::{Credentials, KdcRequest, Step};
use crate::asn1::{
    App, AuthenticatorBody, Checksum, EncryptedData, EncryptionKeyRef, KRB_AP_REQ, KRB_TGS_REQ,
    KdcReq, KdcReqBody, PA_TGS_REQ, PVNO, PaData, RawTicket, TgsReq, flags,
};
use crate::crypto::Key;
use crate::principal::Principal;
use crate::{Enctype, usage};

/// The `canonicalize` KDC option (bit 15, RFC 6806 §3).
const CANONICALIZE: u32 = 1 << (31 - 15);

/// A TGS exchange: a ticket for `service`, from a ticket-granting ticket for the service's
/// realm. It asks for name canonicalization, so the KDC may answer with a referral: a
/// ticket-granting ticket for the realm the service is in (RFC 6806), or, asked for a
/// cross-realm ticket-granting ticket, one for a realm closer to it;
/// [`KdcConfig::get_service_ticket`] follows either.
///
/// [`KdcConfig::get_service_ticket`]: super::KdcConfig::get_service_ticket
#[derive(Debug)]
pub struct TgsExchange {
    tgt: Credentials,
    service: Principal,
    enctypes: Vec<Enctype>,
    lifetime: Duration,
    nonce: u32,
    subkey: Key,
    clock: Clock,
    sent: bool,
    skew_corrected: bool,
}

impl TgsExchange {
    /// An exchange for a ticket to `service` with `tgt`, offering `enctypes` for the session
    /// key (every AES type if empty).
    pub fn new(tgt: &Credentials, service: Principal, enctypes: &[Enctype]) -> Result<Self, Error> {
        Ok(Self {
            subkey: Key::random(tgt.session_key().enctype())?,
            tgt: tgt.clone(),
            service,
            enctypes: if enctypes.is_empty() {
                Enctype::ALL.to_vec()
            } else {
                enctypes.to_vec()
            },
            lifetime: Duration::from_secs(10 * 60 * 60),
            nonce: nonce()?,
            clock: Clock::default(),
            sent: false,
            skew_corrected: false,
        })
    }

    /// The TGS-REQ.
    pub fn start(&mut self, now: SystemTime) -> Result<KdcRequest, Error> {
        self.send(now)
    }

    /// Take the KDC's reply: the service ticket, or the request again after a clock
    /// correction.
    pub fn step(&mut self, reply: &[u8], now: SystemTime) -> Result<Step, Error> {
        if !std::mem::take(&mut self.sent) {
            return Err(Error::new(
                Status::InvalidParameter,
                "this TGS exchange expects no reply now",
            ));
        }
        match Reply::decode(reply)? {
            Reply::Tgs(rep) => {
                let creds = credentials(
                    &rep,
                    &self.subkey,
                    usage::TGS_REP_ENC_PART_SUBKEY,
                    self.nonce,
                    &self.service,
                    true,
                )?;
                Ok(Step::Done(Box::new(creds)))
            }
            Reply::As(_) => Err(Error::new(
                Status::InvalidToken,
                "the KDC answered a TGS-REQ with an AS-REP",
            )),
            Reply::Error(err) if err.error_code == KRB_AP_ERR_SKEW && !self.skew_corrected => {
                self.skew_corrected = true;
                self.clock.correct(&err.stime, now);
                self.send(now).map(Step::Send)
            }
            Reply::Error(err) => Err(error::from_reply(
                &format!("getting a ticket for {}", self.service),
                &err,
            )),
        }
    }

    fn send(&mut self, now: SystemTime) -> Result<KdcRequest, Error> {
        let kdc_now = self.clock.now(now);
        let (till, _) = kerberos_time(kdc_now + self.lifetime)?;
        let body = KdcReqBody {
            // Name canonicalization asked for (RFC 6806 §3): the KDC may answer with a referral.
            kdc_options: flags(CANONICALIZE),
            cname: None,
            realm: self.service.realm().into(),
            sname: Some(self.service.to_asn1()),
            from: None,
            till,
            rtime: None,
            nonce: self.nonce,
            etype: self.enctypes.iter().map(|e| e.number()).collect(),
            addresses: None,
            enc_authorization_data: None,
            additional_tickets: None,
        };
        let session = self.tgt.session_key();
        let mut checksum = vec![0u8; session.enctype().checksum_len()];
        session
            .derive(usage::TGS_REQ_AUTH_CHECKSUM)
            .checksum(&[&encode("the TGS-REQ body", &body)?], &mut checksum)?;
        let (ctime, cusec) = kerberos_time(kdc_now)?;
        let subkey = self.subkey.as_bytes();
        let authenticator = App::<2, _>(AuthenticatorBody {
            authenticator_vno: PVNO,
            crealm: self.tgt.client().realm().into(),
            cname: self.tgt.client().to_asn1(),
            cksum: Some(Checksum {
                cksumtype: session.enctype().checksum_type(),
                checksum: octets(checksum)?,
            }),
            cusec,
            ctime,
            subkey: Some(EncryptionKeyRef {
                keytype: self.subkey.enctype().number(),
                keyvalue: der::asn1::OctetStringRef::new(subkey)
                    .map_err(|e| Error::new(Status::InternalError, format!("the subkey: {e}")))?,
            }),
            seq_number: None,
            authorization_data: None,
        });
        let authenticator = zeroize::Zeroizing::new(encode("the authenticator", &authenticator)?);
        let ap_req = App::<14, _>(crate::asn1::ApReqBody {
            pvno: PVNO,
            msg_type: KRB_AP_REQ,
            ap_options: flags(0),
            ticket: RawTicket::from_der(self.tgt.ticket()).map_err(|e| {
                Error::new(
                    Status::InvalidToken,
                    format!("the ticket-granting ticket: {e}"),
                )
            })?,
            authenticator: EncryptedData {
                etype: session.enctype().number(),
                kvno: None,
                cipher: octets(
                    session.encrypt_message(usage::TGS_REQ_AUTHENTICATOR, &authenticator)?,
                )?,
            },
        });
        let request = TgsReq::from(KdcReq {
            pvno: PVNO,
            msg_type: KRB_TGS_REQ,
            padata: Some(vec![PaData {
                padata_type: PA_TGS_REQ,
                padata_value: octets(encode("the AP-REQ", &ap_req)?)?,
            }]),
            req_body: body,
        });
        self.sent = true;
        Ok(KdcRequest {
            realm: self.service.realm().to_owned(),
            message: encode("the TGS-REQ", &request)?,
            tcp_only: false,
        })
    }
}
