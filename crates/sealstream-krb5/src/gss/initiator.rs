//! The initiator's side of context establishment (RFC 4121 §4.1, RFC 4120 §3.2).
//!
//! The AP-REQ carries the service ticket and an authenticator, encrypted in the ticket's
//! session key (key usage 11), holding the time, the GSS-API checksum (flags and channel
//! bindings), a fresh subkey and the initiator's first sequence number. With mutual
//! authentication the acceptor answers with an AP-REP whose encrypted part (key usage 12)
//! repeats the authenticator's time — which only someone with the service's key could read —
//! and may add a subkey and a sequence number of its own.

use std::time::SystemTime;

use der::Decode;
use sealstream::{Error, Status};
use zeroize::Zeroizing;

use super::checksum::{self, ChannelBindings, GSS_CHECKSUM_TYPE, GssFlags};
use super::framing::{TOK_AP_REP, TOK_AP_REQ, TOK_KRB_ERROR, frame, unframe};
use crate::asn1::{
    AP_MUTUAL_REQUIRED, ApRep, ApReqBody, App, AuthenticatorBody, Checksum, EncApRepPart,
    EncryptedData, EncryptionKeyRef, KRB_AP_REQ, KrbError, PVNO, RawTicket, SeqNumber, flags,
};
use crate::crypto::{Key, fill_confounder};
use crate::kdc::Credentials;
use crate::kdc::error as krb_error;
use crate::kdc::{encode, kerberos_time, octets};
use crate::token::{Role, SecurityContext};
use crate::{Enctype, usage};

/// How an initiator asks for its context.
#[derive(Clone, Debug)]
#[must_use]
pub struct InitiatorOptions {
    pub(crate) flags: GssFlags,
    pub(crate) bindings: Option<ChannelBindings>,
}

impl Default for InitiatorOptions {
    fn default() -> Self {
        Self {
            flags: GssFlags::LAYER,
            bindings: None,
        }
    }
}

impl InitiatorOptions {
    /// The context flags to request (default [`GssFlags::LAYER`]).
    pub fn flags(mut self, flags: GssFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Channel bindings to tie the context to (none by default).
    pub fn channel_bindings(mut self, bindings: ChannelBindings) -> Self {
        self.bindings = Some(bindings);
        self
    }
}

/// An initiator that sent its AP-REQ and waits for the AP-REP.
#[derive(Debug)]
pub struct Initiator {
    session_key: Key,
    subkey: Key,
    seq: u32,
    ctime: der::asn1::GeneralizedTime,
    cusec: i32,
    flags: GssFlags,
}

impl Initiator {
    /// Start a context with the service of `ticket` (from a TGS exchange) at `now`: the
    /// initiator, and the first token to send (an AP-REQ).
    pub fn new(
        ticket: &Credentials,
        options: InitiatorOptions,
        now: SystemTime,
    ) -> Result<(Self, Vec<u8>), Error> {
        let session_key = ticket.session_key().clone();
        let enctype: Enctype = session_key.enctype();
        let subkey = Key::random(enctype)?;
        let mut seq = [0u8; 4];
        fill_confounder(&mut seq)?;
        // MIT keeps the first sequence number below 2^30 so that peers that read it as signed
        // never see it wrap.
        let seq = u32::from_be_bytes(seq) & 0x3fff_ffff;
        let (ctime, cusec) = kerberos_time(now)?;
        let authenticator = App::<2, _>(AuthenticatorBody {
            authenticator_vno: PVNO,
            crealm: ticket.client().realm().into(),
            cname: ticket.client().to_asn1(),
            cksum: Some(Checksum {
                cksumtype: GSS_CHECKSUM_TYPE,
                checksum: octets(checksum::encode(options.flags, options.bindings.as_ref()))?,
            }),
            cusec,
            ctime,
            subkey: Some(EncryptionKeyRef {
                keytype: enctype.number(),
                keyvalue: der::asn1::OctetStringRef::new(subkey.as_bytes())
                    .map_err(|e| Error::new(Status::InternalError, format!("the subkey: {e}")))?,
            }),
            seq_number: Some(SeqNumber(seq)),
            authorization_data: None,
        });
        let authenticator = Zeroizing::new(encode("the authenticator", &authenticator)?);
        let mutual = options.flags.has(GssFlags::MUTUAL);
        let ap_req = App::<14, _>(ApReqBody {
            pvno: PVNO,
            msg_type: KRB_AP_REQ,
            ap_options: flags(if mutual { AP_MUTUAL_REQUIRED } else { 0 }),
            ticket: RawTicket::from_der(ticket.ticket()).map_err(|e| {
                Error::new(Status::InvalidToken, format!("the service ticket: {e}"))
            })?,
            authenticator: EncryptedData {
                etype: enctype.number(),
                kvno: None,
                cipher: octets(
                    session_key.encrypt_message(usage::AP_REQ_AUTHENTICATOR, &authenticator)?,
                )?,
            },
        });
        let token = frame(TOK_AP_REQ, &encode("the AP-REQ", &ap_req)?);
        Ok((
            Self {
                session_key,
                subkey,
                seq,
                ctime,
                cusec,
                flags: options.flags,
            },
            token,
        ))
    }

    /// The flags this initiator asked for.
    pub fn flags(&self) -> GssFlags {
        self.flags
    }

    /// Establish the context without an answer, when mutual authentication was not asked for
    /// (the acceptor then proves nothing, and both directions count from this side's number).
    pub fn finish_without_reply(self) -> Result<SecurityContext, Error> {
        if self.flags.has(GssFlags::MUTUAL) {
            return Err(Error::new(
                Status::InvalidParameter,
                "mutual authentication was asked for: the acceptor's AP-REP is needed",
            ));
        }
        Ok(SecurityContext::new(
            Role::Initiator,
            self.subkey,
            None,
            u64::from(self.seq),
            u64::from(self.seq),
        ))
    }

    /// Take the acceptor's answer (an AP-REP, or a KRB-ERROR) and establish the context.
    pub fn finish(self, token: &[u8]) -> Result<SecurityContext, Error> {
        let (tok_id, message) = unframe(token)?;
        match tok_id {
            TOK_AP_REP => {}
            TOK_KRB_ERROR => {
                let err = KrbError::from_der(message).map_err(|e| {
                    Error::new(Status::InvalidToken, format!("a malformed KRB-ERROR: {e}"))
                })?;
                return Err(krb_error::from_reply(
                    "the acceptor refused the AP-REQ",
                    &err.0,
                ));
            }
            other => {
                return Err(Error::new(
                    Status::InvalidToken,
                    format!("expected an AP-REP, got a token with TOK_ID {other:02x?}"),
                ));
            }
        }
        let rep = ApRep::from_der(message)
            .map_err(|e| Error::new(Status::InvalidToken, format!("a malformed AP-REP: {e}")))?;
        let plain = self
            .session_key
            .decrypt_message(usage::AP_REP_ENC_PART, rep.0.enc_part.cipher.as_bytes())
            .map_err(|e| {
                Error::new(
                    Status::MessageAltered,
                    format!("the AP-REP does not decrypt with the session key: {e}"),
                )
            })?;
        let part = EncApRepPart::from_der(&plain).map_err(|e| {
            Error::new(
                Status::InvalidToken,
                format!("a malformed EncAPRepPart: {e}"),
            )
        })?;
        // RFC 4120 §3.2.5: "the client verifies that the timestamp field matches that in the
        // Authenticator it sent to the server".
        if part.0.ctime != self.ctime || part.0.cusec != self.cusec {
            return Err(Error::new(
                Status::MessageAltered,
                "the AP-REP answers another authenticator (its time differs)",
            ));
        }
        let acceptor_subkey = match part.0.subkey {
            Some(subkey) => {
                let enctype = Enctype::from_number(subkey.keytype).ok_or_else(|| {
                    Error::new(
                        Status::EtypeNotSupported,
                        format!(
                            "the acceptor's subkey has encryption type {}",
                            subkey.keytype
                        ),
                    )
                })?;
                Some(Key::new(enctype, subkey.keyvalue.as_bytes())?)
            }
            None => None,
        };
        // RFC 4121 §4.1: without a sequence number from the acceptor, "the initiator's sequence
        // number is used for both".
        let recv_seq = part.0.seq_number.map_or(self.seq, |s| s.0);
        Ok(SecurityContext::new(
            Role::Initiator,
            self.subkey,
            acceptor_subkey,
            u64::from(self.seq),
            u64::from(recv_seq),
        ))
    }
}
