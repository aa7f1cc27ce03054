//! The acceptor's side of context establishment (RFC 4121 §4.1, RFC 4120 §3.2.3): a service
//! checking an AP-REQ with the keys of its keytab.
//!
//! The checks, in order, each with the status it fails with:
//!
//! 1. the token is a Kerberos AP-REQ (`SEC_E_INVALID_TOKEN`);
//! 2. the ticket is for a service whose key, of the ticket's type and version, the keytab has
//!    (`SEC_E_WRONG_PRINCIPAL` for another service, `SEC_E_NO_CREDENTIALS` for a missing key);
//! 3. the ticket decrypts (key usage 2, `SEC_E_MESSAGE_ALTERED`) and is valid now, within the
//!    allowed clock skew (`SEC_E_CONTEXT_EXPIRED`);
//! 4. the authenticator decrypts with the ticket's session key (key usage 11), names the
//!    ticket's client (`SEC_E_WRONG_PRINCIPAL`), was made within the skew of now
//!    (`SEC_E_TIME_SKEW`), and has not been seen before within it (a replay,
//!    `SEC_E_OUT_OF_SEQUENCE`);
//! 5. its GSS-API checksum is well formed, and its channel bindings are those of this channel
//!    when the acceptor has some (`SEC_E_INVALID_TOKEN`, RFC 4121 §4.1.1.2).
//!
//! With mutual authentication the acceptor answers with an AP-REP (key usage 12) carrying a
//! fresh acceptor subkey and its own first sequence number.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use der::Decode;
use sealstream::{Error, Status};
use zeroize::Zeroizing;

use super::checksum::{self, ChannelBindings, GSS_CHECKSUM_TYPE, GssFlags};
use super::framing::{TOK_AP_REP, TOK_AP_REQ, frame, unframe};
use crate::asn1::{
    AP_MUTUAL_REQUIRED, ApReq, App, Authenticator, EncApRepPartBody, EncTicketPart, EncryptedData,
    EncryptionKeyRef, KRB_AP_REP, PVNO, SeqNumber, Ticket, flags_value,
};
use crate::crypto::{Key, fill_confounder};
use crate::kdc::{encode, octets, to_system};
use crate::principal::Principal;
use crate::token::{Role, SecurityContext};
use crate::{Enctype, Keytab, usage};

/// The most authenticators the replay cache remembers; beyond it, new contexts are refused
/// until old entries age out, rather than the cache growing without bound.
const MAX_REPLAY_ENTRIES: usize = 100_000;

/// How an acceptor checks what it is given.
#[derive(Clone, Debug)]
#[must_use]
pub struct AcceptorOptions {
    pub(crate) skew: Duration,
    pub(crate) bindings: Option<ChannelBindings>,
}

impl Default for AcceptorOptions {
    fn default() -> Self {
        Self {
            skew: Duration::from_secs(300),
            bindings: None,
        }
    }
}

impl AcceptorOptions {
    /// The clock difference tolerated between client and service (default 5 minutes, as
    /// RFC 4120 §1.7 suggests and MIT and Windows use).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// The channel bindings of the channel under the context (its TLS certificate's hash): a
    /// client that sends bindings must send these.
    pub fn channel_bindings(mut self, bindings: ChannelBindings) -> Self {
        self.bindings = Some(bindings);
        self
    }
}

/// A context an acceptor established.
#[derive(Debug)]
#[non_exhaustive]
pub struct Accepted {
    /// The context, to split into a security layer's halves.
    pub context: SecurityContext,
    /// The token to send back (the AP-REP), when the client asked for mutual authentication.
    pub token: Option<Vec<u8>>,
    /// Who the client is, as the ticket says.
    pub client: Principal,
    /// The flags the client asked for.
    pub flags: GssFlags,
}

/// A service that accepts Kerberos contexts with the keys of a keytab.
#[derive(Debug)]
pub struct Acceptor {
    keytab: Keytab,
    service: Option<Principal>,
    options: AcceptorOptions,
    /// Authenticators seen within the skew: (client, time, microseconds) and when they may be
    /// forgotten.
    replay: Mutex<HashMap<(String, SystemTime, i32), SystemTime>>,
}

impl Acceptor {
    /// An acceptor for `service` (any principal the keytab has a key for, if `None`).
    pub fn new(keytab: Keytab, service: Option<Principal>, options: AcceptorOptions) -> Self {
        Self {
            keytab,
            service,
            options,
            replay: Mutex::new(HashMap::new()),
        }
    }

    /// Check the initiator's first token at `now`; see the module documentation.
    pub fn accept(&self, token: &[u8], now: SystemTime) -> Result<Accepted, Error> {
        let (tok_id, message) = unframe(token)?;
        if tok_id != TOK_AP_REQ {
            return Err(Error::new(
                Status::InvalidToken,
                format!("expected an AP-REQ, got a token with TOK_ID {tok_id:02x?}"),
            ));
        }
        let malformed = |what: &str, e: der::Error| {
            Error::new(Status::InvalidToken, format!("a malformed {what}: {e}"))
        };
        let ap_req = ApReq::from_der(message)
            .map_err(|e| malformed("AP-REQ", e))?
            .0;
        let ticket_der = encode("the ticket", &ap_req.ticket)?;
        let ticket = Ticket::from_der(&ticket_der)
            .map_err(|e| malformed("ticket", e))?
            .0;
        let service = Principal::from_asn1(&ticket.sname, &ticket.realm);
        if let Some(expected) = &self.service {
            if !expected.same_name(&service) {
                return Err(Error::new(
                    Status::WrongPrincipal,
                    format!("the ticket is for {service}, this service is {expected}"),
                ));
            }
        }
        let enctype = Enctype::from_number(ticket.enc_part.etype).ok_or_else(|| {
            Error::new(
                Status::EtypeNotSupported,
                format!(
                    "the ticket is encrypted with type {}",
                    ticket.enc_part.etype
                ),
            )
        })?;
        let key = self
            .keytab
            .key(&service, enctype, ticket.enc_part.kvno)
            .ok_or_else(|| {
                Error::new(
                    Status::NoCredentials,
                    format!(
                        "the keytab has no {enctype} key{} for {service}",
                        ticket
                            .enc_part
                            .kvno
                            .map(|v| format!(" of version {v}"))
                            .unwrap_or_default()
                    ),
                )
            })?;

        // The ticket: who the client is, the session key, when it is valid.
        let ticket_plain = key
            .decrypt_message(usage::TICKET, ticket.enc_part.cipher.as_bytes())
            .map_err(|e| Error::new(e.status(), format!("the ticket: {}", e.detail())))?;
        let enc_ticket = EncTicketPart::from_der(&ticket_plain)
            .map_err(|e| malformed("EncTicketPart", e))?
            .0;
        let client = Principal::from_asn1(&enc_ticket.cname, &enc_ticket.crealm);
        let skew = self.options.skew;
        let start = enc_ticket
            .starttime
            .as_ref()
            .unwrap_or(&enc_ticket.authtime);
        if to_system(start) > now + skew {
            return Err(Error::new(
                Status::ContextExpired,
                format!("{client}'s ticket is not valid yet (KRB_AP_ERR_TKT_NYV)"),
            ));
        }
        if to_system(&enc_ticket.endtime) + skew < now {
            return Err(Error::new(
                Status::ContextExpired,
                format!("{client}'s ticket has expired (KRB_AP_ERR_TKT_EXPIRED)"),
            ));
        }
        let session_type = Enctype::from_number(enc_ticket.key.keytype).ok_or_else(|| {
            Error::new(
                Status::EtypeNotSupported,
                format!("the session key has type {}", enc_ticket.key.keytype),
            )
        })?;
        let session = Key::new(session_type, enc_ticket.key.keyvalue.as_bytes())?;

        // The authenticator: made by whoever holds the session key, just now, once.
        let auth_plain = session
            .decrypt_message(
                usage::AP_REQ_AUTHENTICATOR,
                ap_req.authenticator.cipher.as_bytes(),
            )
            .map_err(|e| Error::new(e.status(), format!("the authenticator: {}", e.detail())))?;
        let auth = Authenticator::from_der(&auth_plain)
            .map_err(|e| malformed("authenticator", e))?
            .0;
        let author = Principal::from_asn1(&auth.cname, &auth.crealm);
        if !author.same_name(&client) {
            return Err(Error::new(
                Status::WrongPrincipal,
                format!(
                    "the authenticator is {author}'s, the ticket {client}'s (KRB_AP_ERR_BADMATCH)"
                ),
            ));
        }
        let ctime = to_system(&auth.ctime);
        let off = ctime.duration_since(now).unwrap_or_else(|e| e.duration());
        if off > skew {
            return Err(Error::new(
                Status::TimeSkew,
                format!(
                    "{client}'s clock differs from this one by {}s, more than the {}s allowed \
                     (KRB_AP_ERR_SKEW)",
                    off.as_secs(),
                    skew.as_secs()
                ),
            ));
        }
        self.remember(&client, ctime, auth.cusec, now)?;

        let flags = match &auth.cksum {
            Some(cksum) if cksum.cksumtype == GSS_CHECKSUM_TYPE => {
                let (flags, bnd) =
                    checksum::decode(cksum.checksum.as_bytes()).ok_or_else(|| {
                        Error::new(
                            Status::InvalidToken,
                            "a malformed GSS-API authenticator checksum",
                        )
                    })?;
                if let Some(bindings) = &self.options.bindings {
                    // RFC 4121 §4.1.1.2: a zero Bnd means the initiator sent none.
                    if bnd != [0; 16] && bnd != bindings.hash() {
                        return Err(Error::new(
                            Status::InvalidToken,
                            "the client's channel bindings are not this channel's \
                             (GSS_S_BAD_BINDINGS)",
                        ));
                    }
                }
                flags
            }
            _ => GssFlags(0),
        };
        let initiator_subkey = match auth.subkey {
            Some(subkey) => {
                let enctype = Enctype::from_number(subkey.keytype).ok_or_else(|| {
                    Error::new(
                        Status::EtypeNotSupported,
                        format!("the client's subkey has type {}", subkey.keytype),
                    )
                })?;
                Some(Key::new(enctype, subkey.keyvalue.as_bytes())?)
            }
            None => None,
        };
        let initiator_seq = auth.seq_number.map_or(0, |s| s.0);
        let mutual = flags.has(GssFlags::MUTUAL)
            || flags_value(&ap_req.ap_options) & AP_MUTUAL_REQUIRED != 0;
        let message_key = initiator_subkey.unwrap_or_else(|| session.clone());

        if !mutual {
            // Without an AP-REP both directions count from the initiator's number.
            let context = SecurityContext::new(
                Role::Acceptor,
                message_key,
                None,
                u64::from(initiator_seq),
                u64::from(initiator_seq),
            );
            return Ok(Accepted {
                context,
                token: None,
                client,
                flags,
            });
        }
        let acceptor_subkey = Key::random(message_key.enctype())?;
        let mut seq = [0u8; 4];
        fill_confounder(&mut seq)?;
        let acceptor_seq = u32::from_be_bytes(seq) & 0x3fff_ffff;
        let part = App::<27, _>(EncApRepPartBody {
            ctime: auth.ctime,
            cusec: auth.cusec,
            subkey: Some(EncryptionKeyRef {
                keytype: acceptor_subkey.enctype().number(),
                keyvalue: der::asn1::OctetStringRef::new(acceptor_subkey.as_bytes())
                    .map_err(|e| Error::new(Status::InternalError, format!("the subkey: {e}")))?,
            }),
            seq_number: Some(SeqNumber(acceptor_seq)),
        });
        let part = Zeroizing::new(encode("the EncAPRepPart", &part)?);
        let ap_rep = App::<15, _>(crate::asn1::ApRepBody {
            pvno: PVNO,
            msg_type: KRB_AP_REP,
            enc_part: EncryptedData {
                etype: session.enctype().number(),
                kvno: None,
                cipher: octets(session.encrypt_message(usage::AP_REP_ENC_PART, &part)?)?,
            },
        });
        let token = frame(TOK_AP_REP, &encode("the AP-REP", &ap_rep)?);
        let context = SecurityContext::new(
            Role::Acceptor,
            message_key,
            Some(acceptor_subkey),
            u64::from(acceptor_seq),
            u64::from(initiator_seq),
        );
        Ok(Accepted {
            context,
            token: Some(token),
            client,
            flags,
        })
    }

    /// Refuse an authenticator seen before within the skew (RFC 4120 §3.2.3: "the server MUST
    /// maintain a replay cache"), and remember this one until it is too old to be accepted.
    fn remember(
        &self,
        client: &Principal,
        ctime: SystemTime,
        cusec: i32,
        now: SystemTime,
    ) -> Result<(), Error> {
        let mut seen = self
            .replay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.retain(|_, until| *until > now);
        let key = (client.to_string(), ctime, cusec);
        if seen.contains_key(&key) {
            return Err(Error::new(
                Status::OutOfSequence,
                format!("{client}'s authenticator was replayed (KRB_AP_ERR_REPEAT)"),
            ));
        }
        if seen.len() >= MAX_REPLAY_ENTRIES {
            return Err(Error::new(
                Status::InsufficientMemory,
                "the replay cache is full; try again once older authenticators expire",
            ));
        }
        seen.insert(key, ctime.max(now) + 2 * self.options.skew);
        Ok(())
    }
}
