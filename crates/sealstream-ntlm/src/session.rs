//! NTLM session security (MS-NLMP §3.4) with extended session security: an established
//! context, and its split into a sending [`NtlmWrap`] and a receiving [`NtlmUnwrap`].
//!
//! Each direction has its own signing key, its own sealing key, its own RC4 state continuing
//! from one message to the next, and its own sequence number starting at 0 (§3.4.5: "the
//! client and server each have their own handle"), so the halves share nothing and one task
//! seals while another unseals. A token is the 16-byte signature, then the data:
//!
//! ```text
//! 01 00 00 00 | checksum (8) | seq (LE u32) | data (RC4-sealed, or clear when only signed)
//! ```
//!
//! §3.4.4.2, with extended session security: "Set Checksum to HMAC_MD5(SigningKey,
//! ConcatenationOf(SeqNum, Message))[0..7]"; with key exchange, "Set Checksum to RC4(Handle,
//! Checksum)". §3.4.3: sealing encrypts the message with the handle first, then makes the
//! signature, so one keystream runs through data and checksums in that order.
//!
//! An NTLM token does not say whether its data is sealed; both ends must agree. Samba,
//! gss-ntlmssp and Windows seal LDAP traffic even when only signing was negotiated, so a layer
//! is built with the [`Protection`] the application protocol uses, and integrity-only tokens
//! (`Qop::IntegrityOnly`) are offered only on a layer that signs.

use std::ops::Range;

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use rc4::{Rc4, StreamCipher};
use sealstream::sasl::{Unwrap, Wrap, WrapOverhead};
use sealstream::{Error, Qop, RecordMut, Status};
use subtle::ConstantTimeEq;

use crate::crypto::{Direction, Key16, seal_key, sign_key};
use crate::flags::NegotiateFlags;

/// Length of an NTLM signature (§2.2.2.9.1).
pub const SIGNATURE_LEN: usize = 16;
const SIGNATURE_VERSION: [u8; 4] = [1, 0, 0, 0];
/// HMAC-MD5 over data in chunks this size, sealing each as it goes, so the data is read from
/// cache the second time.
const CHUNK: usize = 4096;

/// Which end of the context this side is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The client: it sent the AUTHENTICATE.
    Initiator,
    /// The server: it checked the AUTHENTICATE.
    Acceptor,
}

/// What a layer does to its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protection {
    /// Data in clear, a signature ahead of it (`GSS_Wrap` without confidentiality).
    Sign,
    /// Data sealed with RC4, a signature ahead of it. What LDAP uses whenever NTLM signs.
    Seal,
}

/// An established NTLM context: the exported session key and the flags both sides settled on.
/// Split it with [`into_halves`](Self::into_halves).
pub struct SessionContext {
    role: Role,
    flags: NegotiateFlags,
    exported_session_key: Key16,
    mic: bool,
}

impl std::fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionContext")
            .field("role", &self.role)
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl SessionContext {
    pub(crate) fn new(role: Role, flags: NegotiateFlags, exported_session_key: Key16) -> Self {
        Self {
            role,
            flags,
            exported_session_key,
            mic: false,
        }
    }

    pub(crate) fn with_mic(mut self, mic: bool) -> Self {
        self.mic = mic;
        self
    }

    /// Whether the AUTHENTICATE carried a MIC (which SPNEGO answers with a mechListMIC).
    pub fn authenticate_had_mic(&self) -> bool {
        self.mic
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The flags the exchange settled on.
    pub fn flags(&self) -> NegotiateFlags {
        self.flags
    }

    /// The session key both ends hold (`ExportedSessionKey`), for protocols that derive their
    /// own keys from it (SMB signing, for one).
    pub fn session_key(&self) -> &[u8; 16] {
        &self.exported_session_key
    }

    /// The sending and the receiving half, each with its direction's keys.
    pub fn into_halves(self, protection: Protection) -> (NtlmWrap, NtlmUnwrap) {
        let (ours, theirs) = match self.role {
            Role::Initiator => (Direction::ClientToServer, Direction::ServerToClient),
            Role::Acceptor => (Direction::ServerToClient, Direction::ClientToServer),
        };
        let key_exch = self.flags.contains(NegotiateFlags::KEY_EXCH);
        let half = |direction| {
            Half::new(
                sign_key(&self.exported_session_key, direction),
                seal_key(&self.exported_session_key, direction),
                key_exch,
                protection,
            )
        };
        (NtlmWrap(half(ours)), NtlmUnwrap(half(theirs)))
    }
}

/// One direction's keys and state.
struct Half {
    /// HMAC-MD5 keyed with the direction's signing key, once: each message clones it (the
    /// key's inner and outer blocks are not hashed again per message). Wiped on drop (`hmac`'s
    /// `zeroize`).
    keyed: Hmac<Md5>,
    seal_key: Key16,
    rc4: Box<Rc4>,
    key_exch: bool,
    protection: Protection,
    /// The next sequence number; past `u32::MAX` the direction is spent.
    seq: u64,
}

impl Half {
    fn new(sign_key: Key16, seal_key: Key16, key_exch: bool, protection: Protection) -> Self {
        let rc4 = Box::new(Rc4::new_from_slice(&seal_key[..]).expect("RC4 takes a 16-byte key"));
        let keyed = <Hmac<Md5> as KeyInit>::new_from_slice(&sign_key[..]).expect("any key length");
        Self {
            keyed,
            seal_key,
            rc4,
            key_exch,
            protection,
            seq: 0,
        }
    }

    fn mac(&self, seq: u32) -> Hmac<Md5> {
        let mut mac = self.keyed.clone();
        mac.update(&seq.to_le_bytes());
        mac
    }

    fn current_seq(&self) -> Result<u32, Error> {
        u32::try_from(self.seq).map_err(|_| {
            Error::new(
                Status::ContextExpired,
                "NTLM sequence numbers are spent (2^32 messages in one direction)",
            )
        })
    }

    /// The checksum of a MAC, sealed with the handle under key exchange.
    fn checksum(&mut self, mac: Hmac<Md5>) -> [u8; 8] {
        let mut checksum = [0; 8];
        checksum.copy_from_slice(&mac.finalize().into_bytes()[..8]);
        if self.key_exch {
            self.rc4.apply_keystream(&mut checksum);
        }
        checksum
    }

    fn signature(&mut self, seq: u32, mac: Hmac<Md5>) -> [u8; SIGNATURE_LEN] {
        let mut out = [0; SIGNATURE_LEN];
        out[..4].copy_from_slice(&SIGNATURE_VERSION);
        out[4..12].copy_from_slice(&self.checksum(mac));
        out[12..].copy_from_slice(&seq.to_le_bytes());
        self.seq += 1;
        out
    }

    fn rewind(&mut self) {
        *self.rc4 = Rc4::new_from_slice(&self.seal_key[..]).expect("RC4 takes a 16-byte key");
    }
}

/// The sending half of an NTLM layer: `EncryptMessage`/`MakeSignature` in place, as a [`Wrap`]
/// for a [`FramedSeal`](sealstream::sasl::FramedSeal).
pub struct NtlmWrap(Half);

impl std::fmt::Debug for NtlmWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmWrap")
            .field("protection", &self.0.protection)
            .field("seq", &self.0.seq)
            .finish_non_exhaustive()
    }
}

impl NtlmWrap {
    fn protection(&self, qop: Qop) -> Result<Protection, Error> {
        match (qop, self.0.protection) {
            (Qop::Default, p) => Ok(p),
            (Qop::IntegrityOnly, Protection::Sign) => Ok(Protection::Sign),
            (other, _) => Err(Error::new(
                Status::QopNotSupported,
                format!(
                    "an NTLM token does not say whether it is sealed, so a {:?} layer cannot \
                     send {other:?} data",
                    self.0.protection
                ),
            )),
        }
    }

    /// `MakeSignature` (`GSS_GetMIC`): the signature of `message`, which stays in clear. It
    /// takes the next sequence number and, under key exchange, moves the RC4 state, as SPNEGO's
    /// mechListMIC does.
    pub fn sign(&mut self, message: &[u8]) -> Result<[u8; SIGNATURE_LEN], Error> {
        let seq = self.0.current_seq()?;
        let mut mac = self.0.mac(seq);
        mac.update(message);
        Ok(self.0.signature(seq, mac))
    }

    /// Start the RC4 state over from the sealing key, keeping the sequence number: what
    /// MS-SPNG §3.3.5.1 has both ends do after the mechListMIC exchange when NTLM was
    /// negotiated.
    pub fn rewind_keystream(&mut self) {
        self.0.rewind();
    }
}

impl Wrap for NtlmWrap {
    fn overhead(&self) -> WrapOverhead {
        WrapOverhead {
            header: SIGNATURE_LEN,
            trailer: 0,
            block_size: 1,
        }
    }

    fn wrap(&mut self, qop: Qop, mut token: RecordMut<'_>) -> Result<usize, Error> {
        let protection = self.protection(qop)?;
        let seq = self.0.current_seq()?;
        let len = token.header_len() + token.payload_len();
        let (header, payload, _) = token.split_mut();
        let mut mac = self.0.mac(seq);
        mac.update(payload);
        if protection == Protection::Seal {
            self.0.rc4.apply_keystream(payload);
        }
        header.copy_from_slice(&self.0.signature(seq, mac));
        Ok(len)
    }

    fn wrap_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        mut token: RecordMut<'_>,
    ) -> Result<usize, Error> {
        let protection = self.protection(qop)?;
        let seq = self.0.current_seq()?;
        let len = token.header_len() + token.payload_len();
        let (header, payload, _) = token.split_mut();
        if payload.len() != plaintext.len() {
            return Err(Error::new(
                Status::InternalError,
                "the token's payload region does not fit the plaintext",
            ));
        }
        let mut mac = self.0.mac(seq);
        for (from, to) in plaintext.chunks(CHUNK).zip(payload.chunks_mut(CHUNK)) {
            mac.update(from);
            to.copy_from_slice(from);
            if protection == Protection::Seal {
                self.0.rc4.apply_keystream(to);
            }
        }
        header.copy_from_slice(&self.0.signature(seq, mac));
        Ok(len)
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        self.protection(qop).is_ok()
    }

    fn sequence(&self) -> u64 {
        self.0.seq
    }
}

/// The receiving half of an NTLM layer: `DecryptMessage`/`VerifySignature` in place, as an
/// [`Unwrap`] for a [`FramedUnseal`](sealstream::sasl::FramedUnseal).
///
/// A token is checked in this order: its length and signature version
/// (`SEC_E_INVALID_TOKEN`); its sequence number, which must be the next one exactly
/// (`SEC_E_OUT_OF_SEQUENCE`, before the RC4 state moves); then its checksum over the data
/// (`SEC_E_MESSAGE_ALTERED`, and nothing of the token is handed out).
pub struct NtlmUnwrap(Half);

impl std::fmt::Debug for NtlmUnwrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmUnwrap")
            .field("protection", &self.0.protection)
            .field("seq", &self.0.seq)
            .finish_non_exhaustive()
    }
}

impl NtlmUnwrap {
    fn check_header(&self, signature: &[u8]) -> Result<u32, Error> {
        if signature[..4] != SIGNATURE_VERSION {
            return Err(Error::new(
                Status::InvalidToken,
                "NTLM signature version is not 1",
            ));
        }
        let expected = self.0.current_seq()?;
        let seq = u32::from_le_bytes(signature[12..16].try_into().expect("4 bytes"));
        if seq != expected {
            return Err(Error::out_of_sequence(expected.into(), seq.into()));
        }
        Ok(seq)
    }

    fn check_checksum(&mut self, mac: Hmac<Md5>, signature: &[u8]) -> Result<(), Error> {
        let expected = self.0.checksum(mac);
        if !bool::from(expected.ct_eq(&signature[4..12])) {
            return Err(Error::message_altered(
                "NTLM signature checksum does not verify",
            ));
        }
        self.0.seq += 1;
        Ok(())
    }

    /// `VerifySignature` (`GSS_VerifyMIC`): check `signature` over `message` and that it
    /// carries the next sequence number.
    pub fn verify(&mut self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        if signature.len() != SIGNATURE_LEN {
            return Err(Error::new(
                Status::InvalidToken,
                format!("an NTLM signature is 16 bytes, not {}", signature.len()),
            ));
        }
        let seq = self.check_header(signature)?;
        let mut mac = self.0.mac(seq);
        mac.update(message);
        self.check_checksum(mac, signature)
    }

    /// Start the RC4 state over from the sealing key; see [`NtlmWrap::rewind_keystream`].
    pub fn rewind_keystream(&mut self) {
        self.0.rewind();
    }
}

impl Unwrap for NtlmUnwrap {
    fn unwrap(&mut self, token: &mut [u8]) -> Result<Range<usize>, Error> {
        if token.len() < SIGNATURE_LEN {
            return Err(Error::new(
                Status::InvalidToken,
                format!(
                    "an NTLM token of {} bytes is shorter than its signature",
                    token.len()
                ),
            ));
        }
        let (signature, data) = token.split_at_mut(SIGNATURE_LEN);
        let seq = self.check_header(signature)?;
        if self.0.protection == Protection::Seal {
            self.0.rc4.apply_keystream(data);
        }
        let mut mac = self.0.mac(seq);
        mac.update(data);
        self.check_checksum(mac, signature)?;
        Ok(SIGNATURE_LEN..token.len())
    }

    // NTLM messages carry no flag: the session's negotiated protection applies to each.
    fn protection(&self) -> sealstream::Protection {
        if self.0.protection == Protection::Seal {
            sealstream::Protection::Confidential
        } else {
            sealstream::Protection::IntegrityOnly
        }
    }

    fn sequence(&self) -> u64 {
        self.0.seq
    }
}

#[cfg(test)]
mod tests;
