//! The TLS record layer after the handshake, sans-IO: one [`TlsSeal`] and one [`TlsUnseal`] per
//! connection, each with its own key, nonce state and sequence number.
//!
//! rustls hands over the traffic secrets and sequence numbers; from then on record protection,
//! content types, alerts, close_notify, KeyUpdate, session tickets and the TLS 1.2
//! renegotiation refusal are ours. The rules implemented here are quoted beside the code.

use std::ops::Range;
use std::sync::Arc;

use rustls::SupportedCipherSuite;
use sealstream::{
    AlertCode, Control, Error, Qop, RecordMut, Seal, Status, StreamSizes, Unseal, Unsealed,
};

use crate::alert;
use crate::cipher::{EXPLICIT_NONCE_LEN, Framing, HEADER_LEN, RecordCipher, TAG_LEN};
use crate::info::TlsInfo;
use crate::key_schedule::{DirectionKeys, TrafficSecret};
use crate::tickets::{Direction, Tickets};

mod post_handshake;

#[cfg(test)]
use post_handshake::{
    CLIENT_HELLO, HELLO_REQUEST, MAX_HANDSHAKE_MESSAGE, MAX_KEY_UPDATES_IN_A_ROW,
    NEW_SESSION_TICKET,
};
use post_handshake::{KEY_UPDATE, Partial};

/// Content types (RFC 8446 §5.1).
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

/// "The length MUST NOT exceed 2^14 bytes" for plaintext (RFC 8446 §5.1).
pub const MAX_PLAINTEXT: usize = 16 * 1024;
/// "The length MUST NOT exceed 2^14 + 256 bytes" for TLS 1.3 ciphertext (RFC 8446 §5.2);
/// TLS 1.2 allows 2^14 + 2048 (RFC 5246 §6.2.3).
const MAX_CIPHERTEXT_TLS13: usize = MAX_PLAINTEXT + 256;
const MAX_CIPHERTEXT_TLS12: usize = MAX_PLAINTEXT + 2048;
/// Warning alerts accepted in a row, with no application data between them. BoringSSL's
/// `kMaxWarningAlerts` is 4 in a row; rustls allows 4 in a connection's life. A warning costs
/// the receiver no more than a data record of the same size, so the count only stops a peer
/// that sends nothing else.
const MAX_WARNINGS_IN_A_ROW: u32 = 4;

/// The record version field: always 0x0303 after the handshake.
const VERSION: [u8; 2] = [3, 3];

fn header(ty: u8, len: usize) -> [u8; HEADER_LEN] {
    let len = (len as u16).to_be_bytes();
    [ty, VERSION[0], VERSION[1], len[0], len[1]]
}

/// TLS 1.2 additional data: seq_num + type + version + length (RFC 5246 §6.2.3.3).
fn tls12_aad(seq: u64, ty: u8, plaintext_len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8..11].copy_from_slice(&[ty, VERSION[0], VERSION[1]]);
    aad[11..].copy_from_slice(&(plaintext_len as u16).to_be_bytes());
    aad
}

/// A KeyUpdate on a record layer without a TLS 1.3 traffic secret (cannot happen after a real
/// handshake, which always hands one over on TLS 1.3).
fn no_key_schedule() -> Error {
    Error::new(
        Status::InternalError,
        "no TLS 1.3 traffic secret to ratchet for a KeyUpdate",
    )
}

/// Where a record's plaintext lies.
#[derive(Clone, Copy)]
enum Plaintext<'a> {
    /// This many bytes already in the record buffer, after the header.
    InPlace(usize),
    /// In the caller's buffer: sealed from there into the record (see
    /// [`RecordCipher::seal_body`]).
    From(&'a [u8]),
}

impl Plaintext<'_> {
    fn len(&self) -> usize {
        match self {
            Plaintext::InPlace(len) => *len,
            Plaintext::From(bytes) => bytes.len(),
        }
    }
}

/// The sending half of a TLS connection.
#[derive(Debug)]
pub struct TlsSeal {
    cipher: RecordCipher,
    seq: u64,
    /// The TLS 1.3 traffic secret this half ratchets when it sends a KeyUpdate.
    secret: Option<TrafficSecret>,
    /// A TLS 1.3 client's ticket store, whose copy of our secret follows each ratchet.
    tickets: Option<Tickets>,
    info: Arc<TlsInfo>,
    /// Set once close_notify or a fatal alert went out: nothing may follow.
    closed: bool,
    /// The suite's confidentiality limit: records one key may protect.
    limit: u64,
    /// Records after which the key is renewed (TLS 1.3) or the connection closed (TLS 1.2).
    renew_after: u64,
    key_updates_sent: u64,
}

/// The most records one key may protect: the suite's confidentiality limit (RFC 8446 §5.5:
/// "For AES-GCM, up to 2^24.5 full-size records [...] may be encrypted on a given connection
/// while keeping a safety margin of approximately 2^-57"; rustls's providers say 2^24 or 2^23).
fn confidentiality_limit(suite: SupportedCipherSuite) -> u64 {
    match suite {
        SupportedCipherSuite::Tls13(suite) => suite.common.confidentiality_limit,
        SupportedCipherSuite::Tls12(suite) => suite.common.confidentiality_limit,
    }
}

impl TlsSeal {
    /// `renew_after`: on TLS 1.3, records under one key before it is renewed, if sooner than
    /// the suite's confidentiality limit. TLS 1.2 cannot renew and keeps to the limit.
    pub(crate) fn new(
        keys: DirectionKeys,
        tickets: Option<Tickets>,
        info: Arc<TlsInfo>,
        renew_after: Option<u64>,
    ) -> Self {
        let limit = confidentiality_limit(info.suite);
        // The record that renews the key (a KeyUpdate, or TLS 1.2's close_notify) is the last
        // one under the old key, so it must still be within the limit.
        let asked = renew_after.filter(|_| info.is_tls13()).unwrap_or(u64::MAX);
        let renew_after = asked.min(limit - 1).max(1);
        Self {
            cipher: keys.cipher,
            seq: keys.seq,
            secret: keys.secret,
            tickets,
            info,
            closed: false,
            limit,
            renew_after,
            key_updates_sent: 0,
        }
    }

    /// What the handshake negotiated.
    pub fn info(&self) -> &TlsInfo {
        &self.info
    }

    /// KeyUpdates this half sent: asked for, answering the peer, or renewing the key before its
    /// limit.
    pub fn key_updates_sent(&self) -> u64 {
        self.key_updates_sent
    }

    fn header_len(&self) -> usize {
        match self.cipher.framing() {
            Framing::Tls12Explicit => HEADER_LEN + EXPLICIT_NONCE_LEN,
            Framing::Tls13 | Framing::Tls12Implicit => HEADER_LEN,
        }
    }

    /// Check that `buf` holds a record of `len` payload bytes.
    fn check_room(&self, buf: &[u8], len: usize) -> Result<(), Error> {
        // Sans-IO callers may hand us anything; the stream never exceeds `max_message`.
        if len > MAX_PLAINTEXT {
            return Err(Error::new(
                Status::InvalidParameter,
                format!("a TLS record carries at most {MAX_PLAINTEXT} bytes, not {len}"),
            ));
        }
        let needed = self.sizes().record_len(len);
        if buf.len() < needed {
            return Err(Error::new(
                Status::BufferTooSmall,
                format!(
                    "a {len}-byte TLS record needs {needed} bytes of buffer, not {}",
                    buf.len()
                ),
            ));
        }
        Ok(())
    }

    /// Place `payload` after the header of `out` and seal it as a record of content type `ty`.
    pub(crate) fn seal_bytes(
        &mut self,
        ty: u8,
        out: &mut [u8],
        payload: &[u8],
    ) -> Result<usize, Error> {
        self.seal_typed(ty, out, Plaintext::From(payload))
    }

    /// Seal `plaintext` as a record of content type `ty` at the start of `buf`.
    fn seal_typed(
        &mut self,
        ty: u8,
        buf: &mut [u8],
        plaintext: Plaintext<'_>,
    ) -> Result<usize, Error> {
        self.check_room(buf, plaintext.len())?;
        if let Some(secret) = &self.secret {
            secret.restore_keys(&mut self.cipher);
        }
        if self.closed {
            return Err(Error::new(
                Status::ContextExpired,
                "the TLS sending side is closed (close_notify or a fatal alert was sent)",
            ));
        }
        if self.seq >= self.limit || self.seq == u64::MAX {
            return Err(Error::new(
                Status::ContextExpired,
                format!(
                    "this key has protected {} records, the cipher suite's confidentiality limit",
                    self.seq
                ),
            ));
        }
        let seq = self.seq;
        let len = plaintext.len();
        let from = match plaintext {
            Plaintext::InPlace(_) => None,
            Plaintext::From(bytes) => Some(bytes),
        };
        let total = match self.cipher.framing() {
            Framing::Tls13 => {
                // RFC 8446 §5.2: TLSInnerPlaintext = content || ContentType || zeros; the outer
                // record says application_data and its header is the additional data.
                let total = HEADER_LEN + len + 1 + TAG_LEN;
                let hdr = header(APPLICATION_DATA, total - HEADER_LEN);
                buf[..HEADER_LEN].copy_from_slice(&hdr);
                self.cipher.seal_body(
                    self.cipher.xor_nonce(seq),
                    &hdr,
                    from,
                    &[ty],
                    &mut buf[HEADER_LEN..total],
                )?;
                total
            }
            Framing::Tls12Explicit => {
                let nonce = self.cipher.xor_nonce(seq);
                let start = HEADER_LEN + EXPLICIT_NONCE_LEN;
                let total = start + len + TAG_LEN;
                buf[..HEADER_LEN].copy_from_slice(&header(ty, EXPLICIT_NONCE_LEN + len + TAG_LEN));
                buf[HEADER_LEN..start].copy_from_slice(&nonce[4..]);
                self.cipher.seal_body(
                    nonce,
                    &tls12_aad(seq, ty, len),
                    from,
                    &[],
                    &mut buf[start..total],
                )?;
                total
            }
            Framing::Tls12Implicit => {
                let total = HEADER_LEN + len + TAG_LEN;
                buf[..HEADER_LEN].copy_from_slice(&header(ty, len + TAG_LEN));
                self.cipher.seal_body(
                    self.cipher.xor_nonce(seq),
                    &tls12_aad(seq, ty, len),
                    from,
                    &[],
                    &mut buf[HEADER_LEN..total],
                )?;
                total
            }
        };
        self.seq += 1;
        Ok(total)
    }

    fn seal_alert(&mut self, alert: AlertCode, out: &mut [u8]) -> Result<usize, Error> {
        let n = self.seal_bytes(ALERT, out, &alert.to_bytes())?;
        tracing::debug!(%alert, name = alert::name(alert.description), "sent alert");
        // After close_notify or a fatal alert nothing more may be sent.
        if alert.description == alert::CLOSE_NOTIFY
            || alert.level == AlertCode::FATAL
            || self.info.is_tls13() && alert.description != alert::USER_CANCELED
        {
            self.closed = true;
        }
        Ok(n)
    }
}

impl Seal for TlsSeal {
    fn sizes(&self) -> StreamSizes {
        let inner_type = usize::from(self.info.is_tls13());
        StreamSizes::new(self.header_len(), inner_type + TAG_LEN, MAX_PLAINTEXT, 1)
    }

    fn seal(&mut self, qop: Qop, mut record: RecordMut<'_>) -> Result<usize, Error> {
        let len = record.payload_len();
        match qop {
            Qop::Default => self.seal_typed(
                APPLICATION_DATA,
                record.as_mut_slice(),
                Plaintext::InPlace(len),
            ),
            Qop::OutOfBand if len == 2 => {
                let p = record.payload();
                let alert = AlertCode::from_bytes([p[0], p[1]]);
                self.seal_alert(alert, record.as_mut_slice())
            }
            Qop::OutOfBand => Err(Error::new(
                Status::InvalidParameter,
                "SECQOP_WRAP_OOB_DATA takes a two-byte TLS alert",
            )),
            Qop::IntegrityOnly => Err(Error::new(
                Status::QopNotSupported,
                "TLS always encrypts: SECQOP_WRAP_NO_ENCRYPT is not supported",
            )),
            other => Err(Error::new(
                Status::QopNotSupported,
                format!("TLS has no {other:?}"),
            )),
        }
    }

    /// Application data is encrypted from the caller's buffer into the record in one pass (under
    /// aws-lc-rs; ring copies first); other qops copy, then [`seal`](Seal::seal).
    fn seal_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        mut record: RecordMut<'_>,
    ) -> Result<usize, Error> {
        if plaintext.len() != record.payload_len() || record.header_len() != self.header_len() {
            return Err(Error::new(
                Status::InternalError,
                format!(
                    "{} bytes of plaintext for a {}-byte payload after a {}-byte header",
                    plaintext.len(),
                    record.payload_len(),
                    record.header_len()
                ),
            ));
        }
        if qop == Qop::Default {
            let buf = record.as_mut_slice();
            return self.seal_typed(APPLICATION_DATA, buf, Plaintext::From(plaintext));
        }
        record.payload_mut().copy_from_slice(plaintext);
        self.seal(qop, record)
    }

    fn seal_control(&mut self, control: &Control, out: &mut [u8]) -> Result<usize, Error> {
        match *control {
            Control::Close if self.closed => Ok(0),
            Control::Close => self.seal_alert(
                AlertCode {
                    level: AlertCode::WARNING,
                    description: alert::CLOSE_NOTIFY,
                },
                out,
            ),
            // After close_notify or a fatal alert there is nothing more to say: an alert or a
            // KeyUpdate answer queued since then is dropped, not an error.
            Control::Alert(_) | Control::KeyUpdate { .. } if self.closed => Ok(0),
            Control::Alert(alert) => self.seal_alert(alert, out),
            Control::KeyUpdate { update_requested } => {
                if !self.info.is_tls13() {
                    return Err(Error::new(
                        Status::QopNotSupported,
                        "KeyUpdate needs TLS 1.3",
                    ));
                }
                // RFC 8446 §4.6.3: "After sending a KeyUpdate message, the sender SHALL send all
                // its traffic using the next generation of keys".
                let message = [KEY_UPDATE, 0, 0, 1, u8::from(update_requested)];
                let secret = self.secret.as_ref().ok_or_else(no_key_schedule)?;
                let (secret, cipher) = secret.next(&self.cipher)?;
                let n = self.seal_bytes(HANDSHAKE, out, &message)?;
                (self.secret, self.cipher) = (Some(secret), cipher);
                if let Some(tickets) = &self.tickets {
                    tickets.follow(Direction::Sending)?;
                }
                self.seq = 0;
                self.key_updates_sent += 1;
                tracing::debug!(update_requested, "sent KeyUpdate; sending key ratcheted");
                Ok(n)
            }
            ref other => Err(Error::new(
                Status::QopNotSupported,
                format!("TLS cannot send {other:?}"),
            )),
        }
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        qop == Qop::Default
    }

    /// Close and alerts always; a KeyUpdate only on TLS 1.3 (TLS 1.2 has none).
    fn supports_control(&self, control: &Control) -> bool {
        match control {
            Control::Close | Control::Alert(_) => true,
            Control::KeyUpdate { .. } => self.info.is_tls13(),
            _ => false,
        }
    }

    /// Before the key reaches its limit: RFC 8446 §5.5 "Implementations SHOULD NOT [...] exceed
    /// the limits [...]; to avoid this, they SHOULD update the keys", which TLS 1.3 does with a
    /// KeyUpdate. TLS 1.2 cannot renew keys; like rustls, it closes the connection instead.
    fn control_due(&self) -> Option<Control> {
        if self.closed || self.seq < self.renew_after {
            None
        } else if self.info.is_tls13() {
            Some(Control::KeyUpdate {
                update_requested: false,
            })
        } else {
            Some(Control::Close)
        }
    }

    /// Drops the expanded key schedule (rebuilt from the traffic key on the next record) and,
    /// on TLS 1.3, the traffic key and IV too (derived again from the traffic secret).
    fn release_idle(&mut self) {
        match &mut self.secret {
            Some(secret) => secret.forget_keys(&mut self.cipher),
            None => self.cipher.release(),
        }
    }

    fn sequence(&self) -> u64 {
        self.seq
    }
}

/// The receiving half of a TLS connection.
#[derive(Debug)]
pub struct TlsUnseal {
    cipher: RecordCipher,
    seq: u64,
    /// The TLS 1.3 traffic secret this half ratchets when the peer sends a KeyUpdate.
    secret: Option<TrafficSecret>,
    /// Where a TLS 1.3 client stores session tickets.
    tickets: Option<Tickets>,
    info: Arc<TlsInfo>,
    /// A post-handshake message not yet whole (almost always none).
    handshake: Option<Partial>,
    key_updates_in_a_row: u32,
    warnings_in_a_row: u32,
    /// TLS 1.2: a renegotiation request was refused once; the next one is fatal.
    renegotiation_refused: bool,
    /// The alert to send for the error just returned.
    fatal: Option<u8>,
    /// KeyUpdates received.
    key_updates: u64,
    /// Session tickets stored.
    tickets_stored: u64,
}

impl TlsUnseal {
    pub(crate) fn new(keys: DirectionKeys, tickets: Option<Tickets>, info: Arc<TlsInfo>) -> Self {
        Self {
            cipher: keys.cipher,
            seq: keys.seq,
            secret: keys.secret,
            tickets,
            info,
            handshake: None,
            key_updates_in_a_row: 0,
            warnings_in_a_row: 0,
            renegotiation_refused: false,
            fatal: None,
            key_updates: 0,
            tickets_stored: 0,
        }
    }

    /// What the handshake negotiated.
    pub fn info(&self) -> &TlsInfo {
        &self.info
    }

    /// KeyUpdates received from the peer so far.
    pub fn key_updates_received(&self) -> u64 {
        self.key_updates
    }

    /// Session tickets received and stored for resumption so far.
    pub fn tickets_received(&self) -> u64 {
        self.tickets_stored
    }

    fn fail(&mut self, description: u8, error: Error) -> Error {
        self.fatal = Some(description);
        error
    }

    fn max_ciphertext(&self) -> usize {
        if self.info.is_tls13() {
            MAX_CIPHERTEXT_TLS13
        } else {
            MAX_CIPHERTEXT_TLS12
        }
    }

    /// Decrypt the record `input[..total]`: its content type and content range. In place, or
    /// into `out` when given, exactly [`opened_len`](Self::opened_len) bytes long; the range
    /// is then one of `out`.
    fn open(
        &mut self,
        input: &mut [u8],
        total: usize,
        mut out: Option<&mut [u8]>,
    ) -> Result<(u8, Range<usize>), Error> {
        if let Some(secret) = &self.secret {
            secret.restore_keys(&mut self.cipher);
        }
        let hdr: [u8; HEADER_LEN] = input[..HEADER_LEN].try_into().expect("header present");
        let outer = hdr[0];
        let len = total - HEADER_LEN;
        let seq = self.seq;
        match self.cipher.framing() {
            Framing::Tls13 => {
                // RFC 8446 §5.2: "opaque_type: The outer opaque_type field of a TLSCiphertext
                // record is always set to the value 23 (application_data)". The additional data
                // is the whole header, outer type included, so a changed type fails the tag
                // anyway; refusing it here costs no decryption.
                if outer != APPLICATION_DATA {
                    return Err(self.fail(
                        alert::UNEXPECTED_MESSAGE,
                        Error::illegal_message(format!(
                            "TLS 1.3 record with outer content type {outer} after the handshake"
                        )),
                    ));
                }
                if len < TAG_LEN + 1 {
                    return Err(self.fail(
                        alert::DECODE_ERROR,
                        Error::illegal_message("TLS 1.3 record too short"),
                    ));
                }
                // RFC 8446 §5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 + 1
                // octets"; §5.2: a record that decrypts to more is record_overflow. The
                // ciphertext's length says so before anything is decrypted.
                if len - TAG_LEN > MAX_PLAINTEXT + 1 {
                    return Err(self.fail(
                        alert::RECORD_OVERFLOW,
                        Error::illegal_message(format!(
                            "TLS 1.3 record with {} bytes of inner plaintext, above 2^14 + 1 \
                             (record_overflow)",
                            len - TAG_LEN
                        )),
                    ));
                }
                let nonce = self.cipher.xor_nonce(seq);
                let body = HEADER_LEN..total;
                let opened = match out.as_deref_mut() {
                    None => self.cipher.open(nonce, &hdr, &mut input[body]),
                    Some(out) => self
                        .cipher
                        .open_into(nonce, &hdr, &input[body], out)
                        .map(|()| out.len()),
                };
                let plain = opened.map_err(|e| self.fail(alert::BAD_RECORD_MAC, e))?;
                let (inner, at) = match out {
                    None => (&input[HEADER_LEN..HEADER_LEN + plain], HEADER_LEN),
                    Some(out) => (&out[..plain], 0),
                };
                // "the type field ... is the last non-zero octet"; all-zero is unexpected_message.
                let Some(end) = inner.iter().rposition(|&b| b != 0) else {
                    return Err(self.fail(
                        alert::UNEXPECTED_MESSAGE,
                        Error::illegal_message("TLS 1.3 record with no content type"),
                    ));
                };
                self.seq += 1;
                Ok((inner[end], at..at + end))
            }
            Framing::Tls12Explicit | Framing::Tls12Implicit => {
                let explicit = self.cipher.framing() == Framing::Tls12Explicit;
                let start = HEADER_LEN + if explicit { EXPLICIT_NONCE_LEN } else { 0 };
                if total < start + TAG_LEN {
                    return Err(self.fail(
                        alert::DECODE_ERROR,
                        Error::illegal_message("TLS 1.2 record too short"),
                    ));
                }
                let plaintext_len = total - start - TAG_LEN;
                // RFC 5246 §6.2.1: "The length MUST NOT exceed 2^14"; §6.2.3 and §7.2.2: a
                // record that decrypts to more is record_overflow. With an AEAD the plaintext's
                // length is known before decrypting.
                if plaintext_len > MAX_PLAINTEXT {
                    return Err(self.fail(
                        alert::RECORD_OVERFLOW,
                        Error::illegal_message(format!(
                            "TLS 1.2 record with {plaintext_len} bytes of plaintext, above 2^14 \
                             (record_overflow)"
                        )),
                    ));
                }
                let nonce = if explicit {
                    self.cipher.explicit_nonce(&input[HEADER_LEN..start])
                } else {
                    self.cipher.xor_nonce(seq)
                };
                let aad = tls12_aad(seq, outer, plaintext_len);
                let body = start..total;
                let opened = match out {
                    None => self
                        .cipher
                        .open(nonce, &aad, &mut input[body])
                        .map(|_| start),
                    Some(out) => self
                        .cipher
                        .open_into(nonce, &aad, &input[body], out)
                        .map(|()| 0),
                };
                let at = opened.map_err(|e| self.fail(alert::BAD_RECORD_MAC, e))?;
                self.seq += 1;
                Ok((outer, at..at + plaintext_len))
            }
        }
    }

    /// Where the first record of `input` ends, or the outcome when it is not whole yet. A
    /// header this layer refuses is an error (with its alert).
    fn frame(&mut self, input: &[u8]) -> Result<Result<usize, Unsealed>, Error> {
        let Some(hdr) = input.first_chunk::<HEADER_LEN>() else {
            return Ok(Err(Unsealed::Incomplete {
                missing: Some(HEADER_LEN - input.len()),
            }));
        };
        let len = u16::from_be_bytes([hdr[3], hdr[4]]) as usize;
        if len > self.max_ciphertext() {
            return Err(self.fail(
                alert::RECORD_OVERFLOW,
                Error::illegal_message(format!(
                    "TLS record of {len} bytes above the maximum of {} (record_overflow)",
                    self.max_ciphertext()
                )),
            ));
        }
        // RFC 8446 §5.1: legacy_record_version "MUST be ignored for all purposes" in TLS 1.3
        // (the AEAD still authenticates it as part of the header). TLS 1.2 records carry the
        // negotiated version, which its additional data covers too.
        if !self.info.is_tls13() && hdr[1..3] != VERSION {
            return Err(self.fail(
                alert::DECODE_ERROR,
                Error::illegal_message(format!(
                    "record version {:02x}{:02x} after the handshake",
                    hdr[1], hdr[2]
                )),
            ));
        }
        let total = HEADER_LEN + len;
        if input.len() < total {
            return Ok(Err(Unsealed::Incomplete {
                missing: Some(total - input.len()),
            }));
        }
        Ok(Ok(total))
    }

    /// How many bytes the `total`-byte record decrypts to (TLS 1.3: its content, content type
    /// and padding); `None` if it is too short to hold a tag, which [`open`](Self::open)
    /// refuses.
    fn opened_len(&self, total: usize) -> Option<usize> {
        let framing = match self.cipher.framing() {
            Framing::Tls12Explicit => HEADER_LEN + EXPLICIT_NONCE_LEN + TAG_LEN,
            Framing::Tls13 | Framing::Tls12Implicit => HEADER_LEN + TAG_LEN,
        };
        total.checked_sub(framing)
    }

    /// Act on the opened record of content type `ty` whose content is `bytes` (at `content`
    /// in the buffer it was opened into), `total` bytes on the wire.
    fn dispatch(
        &mut self,
        ty: u8,
        bytes: &[u8],
        content: Range<usize>,
        total: usize,
    ) -> Result<Unsealed, Error> {
        if self.handshake.is_some() && ty != HANDSHAKE {
            return Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message("handshake message interrupted by another record type"),
            ));
        }
        match ty {
            APPLICATION_DATA => {
                // Empty records are allowed (RFC 8446 §5.1), but only data resets the counts:
                // a peer cannot buy another 32 KeyUpdates with 22 bytes of nothing.
                if !content.is_empty() {
                    self.key_updates_in_a_row = 0;
                    self.warnings_in_a_row = 0;
                }
                // TLS always encrypts application data (an AEAD suite).
                Ok(Unsealed::Data {
                    plaintext: content,
                    consumed: total,
                    protection: sealstream::Protection::Confidential,
                })
            }
            ALERT => self.on_alert(bytes, total),
            HANDSHAKE if !content.is_empty() => self.on_handshake(bytes, total),
            CHANGE_CIPHER_SPEC => Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message("ChangeCipherSpec after the handshake"),
            )),
            // Empty handshake records and unknown content types.
            _ => Err(self.fail(
                alert::UNEXPECTED_MESSAGE,
                Error::illegal_message(format!(
                    "unexpected record of content type {ty} after the handshake"
                )),
            )),
        }
    }

    fn on_alert(&mut self, content: &[u8], consumed: usize) -> Result<Unsealed, Error> {
        let &[level, description] = content else {
            return Err(self.fail(
                alert::DECODE_ERROR,
                Error::illegal_message("alert record of the wrong length"),
            ));
        };
        let code = AlertCode { level, description };
        if description == alert::CLOSE_NOTIFY {
            tracing::debug!("received close_notify");
            return Ok(Unsealed::Closed { consumed });
        }
        // RFC 8446 §6: in TLS 1.3 every alert but close_notify and user_canceled is an error
        // whatever its level; TLS 1.2 warnings are informational.
        let warning = level == AlertCode::WARNING
            && (!self.info.is_tls13() || description == alert::USER_CANCELED);
        if warning {
            self.warnings_in_a_row += 1;
            if self.warnings_in_a_row > MAX_WARNINGS_IN_A_ROW {
                return Err(self.fail(
                    alert::UNEXPECTED_MESSAGE,
                    Error::illegal_message("too many warning alerts in a row"),
                ));
            }
            tracing::debug!(%code, name = alert::name(description), "received warning alert");
            return Ok(Unsealed::Consumed { consumed });
        }
        Err(
            Error::illegal_message(format!("peer sent {code} ({})", alert::name(description)))
                .with_peer_alert(code),
        )
    }
}

impl Unseal for TlsUnseal {
    fn max_record(&self) -> usize {
        HEADER_LEN + self.max_ciphertext()
    }

    fn unseal(&mut self, input: &mut [u8]) -> Result<Unsealed, Error> {
        self.fatal = None;
        let total = match self.frame(input)? {
            Ok(total) => total,
            Err(incomplete) => return Ok(incomplete),
        };
        let (ty, content) = self.open(input, total, None)?;
        self.dispatch(ty, &input[content.clone()], content, total)
    }

    /// Records that decrypt to no more than `out` holds are opened into it, whatever their
    /// content type; one that is not application data, or fails, is wiped from it.
    fn unseal_into(&mut self, input: &mut [u8], out: &mut [u8]) -> Result<Option<Unsealed>, Error> {
        // Declining must leave this half as it was: `frame` changes nothing unless it fails.
        let total = match self.frame(input)? {
            Ok(total) => total,
            Err(incomplete) => return Ok(Some(incomplete)),
        };
        let Some(out) = self.opened_len(total).and_then(|n| out.get_mut(..n)) else {
            return Ok(None);
        };
        self.fatal = None;
        let outcome = self
            .open(input, total, Some(&mut *out))
            .and_then(|(ty, content)| self.dispatch(ty, &out[content.clone()], content, total));
        if !matches!(outcome, Ok(Unsealed::Data { .. })) {
            // A session ticket, a KeyUpdate, an alert, or what failed: not the reader's.
            zeroize::Zeroize::zeroize(out);
        }
        outcome.map(Some)
    }

    fn signals_close(&self) -> bool {
        true
    }

    fn alert_for(&self, _error: &Error) -> Option<Control> {
        self.fatal.map(|d| Control::Alert(AlertCode::fatal(d)))
    }

    /// Drops the expanded key schedule (rebuilt from the traffic key on the next record) and,
    /// on TLS 1.3, the traffic key and IV too (derived again from the traffic secret).
    fn release_idle(&mut self) {
        match &mut self.secret {
            Some(secret) => secret.forget_keys(&mut self.cipher),
            None => self.cipher.release(),
        }
    }

    fn sequence(&self) -> u64 {
        self.seq
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
