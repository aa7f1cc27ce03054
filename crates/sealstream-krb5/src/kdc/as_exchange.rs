//! The AS exchange (RFC 4120 §3.1): a ticket-granting ticket for a password or a key.
//!
//! Like MIT's `krb5_init_creds_step`, [`InitCreds`] never touches the network: each step
//! returns the message to send and the realm whose KDC takes it, and the next step takes the
//! reply. The exchange as most KDCs run it today:
//!
//! 1. an AS-REQ without pre-authentication; the KDC answers `KDC_ERR_PREAUTH_REQUIRED` with a
//!    PA-ETYPE-INFO2 that says which encryption type, salt and string-to-key parameters the
//!    client's key has;
//! 2. the AS-REQ again, with PA-ENC-TIMESTAMP: the current time encrypted in that key (key usage
//!    1), which proves the client knows it;
//! 3. the AS-REP, whose encrypted part (key usage 3) holds the session key of the ticket.
//!
//! A KDC that does not require pre-authentication answers the first request with the AS-REP
//! directly. `KRB_AP_ERR_SKEW` makes the exchange adopt the KDC's clock (it says its time) and
//! try once more; `KRB_ERR_RESPONSE_TOO_BIG` asks for the same request over TCP.

use std::time::{Duration, SystemTime};

use der::Decode;
use sealstream::{Error, Status};
use zeroize::Zeroizing;

use super::error::{self, KDC_ERR_PREAUTH_REQUIRED, KRB_AP_ERR_SKEW, KRB_ERR_RESPONSE_TOO_BIG};
use super::reply::{Clock, Reply, credentials, encode, kerberos_time, nonce, octets};
use super::{KdcRequest, Step};
use crate::asn1::{
    AsReq, EncryptedData, EtypeInfo2Entry, KRB_AS_REQ, KdcReq, KdcReqBody, PA_ENC_TIMESTAMP,
    PA_ETYPE_INFO2, PVNO, PaData, PaEncTsEnc, flags,
};
use crate::crypto::Key;
use crate::principal::Principal;
use crate::{Enctype, usage};

/// What a client proves who it is with.
#[derive(Clone)]
pub enum ClientSecret {
    /// A password; its key is derived with the salt and parameters the KDC names.
    Password(Zeroizing<String>),
    /// Long-term keys (from a keytab), at most one per encryption type.
    Keys(Vec<Key>),
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientSecret::Password(_) => f.write_str("Password(..)"),
            ClientSecret::Keys(keys) => f
                .debug_tuple("Keys")
                .field(&keys.iter().map(Key::enctype).collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// Settings of an AS exchange.
#[derive(Clone, Debug)]
#[must_use]
pub struct InitCredsOptions {
    pub(crate) enctypes: Vec<Enctype>,
    pub(crate) lifetime: Duration,
}

impl Default for InitCredsOptions {
    fn default() -> Self {
        Self {
            enctypes: Enctype::ALL.to_vec(),
            lifetime: Duration::from_secs(10 * 60 * 60),
        }
    }
}

impl InitCredsOptions {
    /// The encryption types to offer, in order of preference (default: every AES type,
    /// strongest first).
    pub fn enctypes(mut self, enctypes: &[Enctype]) -> Self {
        self.enctypes = enctypes.to_vec();
        self
    }

    /// How long the ticket should last (default 10 hours; the KDC may give less).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }
}

/// Where the exchange is.
#[derive(Debug)]
enum State {
    /// Nothing sent yet.
    Start,
    /// An AS-REQ went out, with pre-authentication in `key` if it is set.
    Sent { key: Option<Key> },
    /// Finished (or failed): no more steps.
    Over,
}

/// An AS exchange for `client`: see the module documentation.
#[derive(Debug)]
pub struct InitCreds {
    client: Principal,
    secret: ClientSecret,
    options: InitCredsOptions,
    nonce: u32,
    clock: Clock,
    state: State,
    /// The last request, resent over TCP when the reply was too big for UDP.
    last: Option<Vec<u8>>,
    skew_corrected: bool,
}

impl InitCreds {
    /// An exchange for `client` with `secret`.
    pub fn new(
        client: Principal,
        secret: ClientSecret,
        options: InitCredsOptions,
    ) -> Result<Self, Error> {
        if options.enctypes.is_empty() {
            return Err(Error::new(
                Status::InvalidParameter,
                "no encryption type to offer the KDC",
            ));
        }
        Ok(Self {
            client,
            secret,
            options,
            nonce: nonce()?,
            clock: Clock::default(),
            state: State::Start,
            last: None,
            skew_corrected: false,
        })
    }

    /// The first message: an AS-REQ for a ticket-granting ticket. With keys (not a password),
    /// pre-authentication goes with it at once, in the most preferred key.
    pub fn start(&mut self, now: SystemTime) -> Result<KdcRequest, Error> {
        let key = match &self.secret {
            ClientSecret::Keys(keys) => self
                .options
                .enctypes
                .iter()
                .find_map(|e| keys.iter().find(|k| k.enctype() == *e))
                .cloned(),
            ClientSecret::Password(_) => None,
        };
        self.send(key, now)
    }

    /// Take the KDC's reply to the last request sent at `now`: the next request, or the
    /// credentials.
    pub fn step(&mut self, reply: &[u8], now: SystemTime) -> Result<Step, Error> {
        let State::Sent { key } = std::mem::replace(&mut self.state, State::Over) else {
            return Err(Error::new(
                Status::InvalidParameter,
                "this AS exchange expects no reply now",
            ));
        };
        match Reply::decode(reply)? {
            Reply::As(rep) => {
                let key = match key {
                    Some(key) => key,
                    // No pre-authentication was asked for: the reply says how the key is made.
                    None => {
                        let hint = rep
                            .padata
                            .as_deref()
                            .and_then(etype_info2)
                            .unwrap_or_default();
                        self.key_for(rep.enc_part.etype, &hint)?
                    }
                };
                let tgs = Principal::krbtgt(self.client.realm(), self.client.realm());
                let creds =
                    credentials(&rep, &key, usage::AS_REP_ENC_PART, self.nonce, &tgs, false)
                        .map_err(|e| match e.status() {
                            Status::MessageAltered => Error::new(
                                Status::LogonDenied,
                                format!(
                                    "the KDC's reply does not decrypt with the key of {}: the \
                                 password or key is wrong",
                                    self.client
                                ),
                            ),
                            _ => e,
                        })?;
                Ok(Step::Done(Box::new(creds)))
            }
            Reply::Tgs(_) => Err(Error::new(
                Status::InvalidToken,
                "the KDC answered an AS-REQ with a TGS-REP",
            )),
            Reply::Error(err) => match err.error_code {
                KDC_ERR_PREAUTH_REQUIRED if key.is_none() => {
                    let methods = err
                        .e_data
                        .as_ref()
                        .and_then(|d| Vec::<PaData>::from_der(d.as_bytes()).ok())
                        .unwrap_or_default();
                    let entry =
                        etype_info2(&methods)
                            .filter(|e| !e.is_empty())
                            .ok_or_else(|| {
                                Error::new(
                                    Status::EtypeNotSupported,
                                    "the KDC asks for pre-authentication but names no encryption \
                                 type this client has (no usable PA-ETYPE-INFO2)",
                                )
                            })?;
                    let key = self.key_from_hints(&entry)?;
                    self.send(Some(key), now).map(Step::Send)
                }
                KRB_AP_ERR_SKEW if !self.skew_corrected => {
                    self.skew_corrected = true;
                    self.clock.correct(&err.stime, now);
                    self.send(key, now).map(Step::Send)
                }
                KRB_ERR_RESPONSE_TOO_BIG => {
                    let message = self.last.clone().unwrap_or_default();
                    self.state = State::Sent { key };
                    Ok(Step::Send(KdcRequest {
                        realm: self.client.realm().to_owned(),
                        message,
                        tcp_only: true,
                    }))
                }
                _ => Err(error::from_reply(
                    &format!("getting a ticket for {}", self.client),
                    &err,
                )),
            },
        }
    }

    /// Build and remember an AS-REQ, pre-authenticated with `key` if given.
    fn send(&mut self, key: Option<Key>, now: SystemTime) -> Result<KdcRequest, Error> {
        let kdc_now = self.clock.now(now);
        let (till, _) = kerberos_time(kdc_now + self.options.lifetime)?;
        let padata = match &key {
            Some(key) => {
                let (patimestamp, pausec) = kerberos_time(kdc_now)?;
                let timestamp = encode(
                    "PA-ENC-TS-ENC",
                    &PaEncTsEnc {
                        patimestamp,
                        pausec: Some(pausec),
                    },
                )?;
                let encrypted = EncryptedData {
                    etype: key.enctype().number(),
                    kvno: None,
                    cipher: octets(key.encrypt_message(usage::PA_ENC_TIMESTAMP, &timestamp)?)?,
                };
                Some(vec![PaData {
                    padata_type: PA_ENC_TIMESTAMP,
                    padata_value: octets(encode("PA-ENC-TIMESTAMP", &encrypted)?)?,
                }])
            }
            None => None,
        };
        let realm = self.client.realm();
        let request = AsReq::from(KdcReq {
            pvno: PVNO,
            msg_type: KRB_AS_REQ,
            padata,
            req_body: KdcReqBody {
                kdc_options: flags(0),
                cname: Some(self.client.to_asn1()),
                realm: realm.into(),
                sname: Some(Principal::krbtgt(realm, realm).to_asn1()),
                from: None,
                till,
                rtime: None,
                nonce: self.nonce,
                etype: self.options.enctypes.iter().map(|e| e.number()).collect(),
                addresses: None,
                enc_authorization_data: None,
                additional_tickets: None,
            },
        });
        let message = encode("the AS-REQ", &request)?;
        self.last = Some(message.clone());
        self.state = State::Sent { key };
        Ok(KdcRequest {
            realm: realm.to_owned(),
            message,
            tcp_only: false,
        })
    }

    /// The client's key for the first PA-ETYPE-INFO2 entry this client can use.
    fn key_from_hints(&self, entries: &[EtypeInfo2Entry]) -> Result<Key, Error> {
        let usable = entries.iter().find(|e| {
            Enctype::from_number(e.etype).is_some_and(|t| self.options.enctypes.contains(&t))
        });
        let entry = usable.ok_or_else(|| {
            Error::new(
                Status::EtypeNotSupported,
                format!(
                    "the KDC offers encryption types {:?} for {}, none of which this client uses",
                    entries.iter().map(|e| e.etype).collect::<Vec<_>>(),
                    self.client
                ),
            )
        })?;
        self.key_for(entry.etype, std::slice::from_ref(entry))
    }

    /// The client's key of type `etype`, from the password with the salt and parameters
    /// `hints` give for it (the principal's default salt if none), or from the keys held.
    fn key_for(&self, etype: i32, hints: &[EtypeInfo2Entry]) -> Result<Key, Error> {
        let enctype = Enctype::from_number(etype).ok_or_else(|| {
            Error::new(
                Status::EtypeNotSupported,
                format!("the KDC used encryption type {etype}, which this client does not"),
            )
        })?;
        match &self.secret {
            ClientSecret::Password(password) => {
                let hint = hints.iter().find(|h| h.etype == etype);
                let salt = match hint.and_then(|h| h.salt.as_ref()) {
                    Some(salt) => salt.0.as_bytes().to_vec(),
                    None => self.client.default_salt(),
                };
                let params = hint
                    .and_then(|h| h.s2kparams.as_ref())
                    .map(|p| p.as_bytes());
                Key::from_password(enctype, password.as_bytes(), &salt, params)
            }
            ClientSecret::Keys(keys) => keys
                .iter()
                .find(|k| k.enctype() == enctype)
                .cloned()
                .ok_or_else(|| {
                    Error::new(
                        Status::NoCredentials,
                        format!("no {enctype} key for {} in the keys given", self.client),
                    )
                }),
        }
    }
}

/// The entries of the PA-ETYPE-INFO2 among `padata`, if there is one that decodes.
fn etype_info2(padata: &[PaData]) -> Option<Vec<EtypeInfo2Entry>> {
    padata
        .iter()
        .find(|p| p.padata_type == PA_ETYPE_INFO2)
        .and_then(|p| Vec::<EtypeInfo2Entry>::from_der(p.padata_value.as_bytes()).ok())
}
