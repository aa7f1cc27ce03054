//! A record protocol for tests only, with real authentication so tampering is really detected.
//!
//! Record: `type(1) | payload length (u16 BE) | sequence (u64 BE) | payload | tag(16)`, sealed
//! with ChaCha20-Poly1305 under a per-direction key, nonce = sequence number, the header as
//! associated data. Integrity-only records leave the payload clear and authenticate header and
//! payload as associated data. A key update ratchets the key (SHA-256 of the old one).
//!
//! It is shaped like TLS on purpose (close record, alerts, key updates with an "update
//! requested" flag) and carries explicit sequence numbers like Kerberos, so a replayed record
//! authenticates but is refused as out of sequence.
//!
//! Encrypted data records that fit a reader's buffer are opened straight into it
//! ([`Unseal::unseal_into`]) and everything else in place, so tests that read with buffers of
//! random sizes go through both of the stream's paths.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use sha2::{Digest, Sha256};

use sealstream::{
    AlertCode, Control, Error, Protection, Qop, RecordMut, Seal, Status, StreamSizes, Unseal,
    Unsealed,
};

/// Header length.
pub const HEADER: usize = 11;
/// Tag length.
pub const TAG: usize = 16;

/// Application data, encrypted.
pub const TYPE_DATA: u8 = 0x17;
/// Application data, integrity only.
pub const TYPE_DATA_CLEAR: u8 = 0x19;
/// An alert: level, description.
pub const TYPE_ALERT: u8 = 0x15;
/// Close: no more records in this direction.
pub const TYPE_CLOSE: u8 = 0x16;
/// Key update: one byte, 1 if the peer must update too.
pub const TYPE_KEY_UPDATE: u8 = 0x18;

/// Alert description sent when a record fails authentication.
pub const BAD_RECORD_MAC: u8 = 20;

fn direction_key(seed: &[u8], label: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(label.as_bytes())
        .chain_update(seed)
        .finalize()
        .into()
}

fn ratchet(key: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"ratchet")
        .chain_update(key)
        .finalize()
        .into()
}

fn nonce(seq: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    n.into()
}

/// Build the two ends of a connection from a shared seed: `(client, server)`, each a
/// `(Seal, Unseal)` pair usable as a [`sealstream::Sealer`].
pub fn pair(seed: &[u8], max_message: usize) -> ((TestSeal, TestUnseal), (TestSeal, TestUnseal)) {
    assert!(
        max_message <= u16::MAX as usize,
        "test records carry a u16 length"
    );
    let c2s = direction_key(seed, "client->server");
    let s2c = direction_key(seed, "server->client");
    (
        (
            TestSeal::new(c2s, max_message),
            TestUnseal::new(s2c, max_message),
        ),
        (
            TestSeal::new(s2c, max_message),
            TestUnseal::new(c2s, max_message),
        ),
    )
}

/// The sending half of the test protocol.
pub struct TestSeal {
    key: [u8; 32],
    cipher: ChaCha20Poly1305,
    seq: u64,
    max_message: usize,
    closed: bool,
    /// Times the stream said this half went idle ([`Seal::release_idle`]).
    pub idle_releases: u64,
}

impl std::fmt::Debug for TestSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSeal")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TestUnseal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestUnseal")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl TestSeal {
    fn new(key: [u8; 32], max_message: usize) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(&key.into()),
            key,
            seq: 0,
            max_message,
            closed: false,
            idle_releases: 0,
        }
    }

    fn seal_typed(
        &mut self,
        ty: u8,
        record: &mut [u8],
        payload_len: usize,
    ) -> Result<usize, Error> {
        if self.closed {
            return Err(Error::new(
                Status::ContextExpired,
                "test sealer already sent its close",
            ));
        }
        let (header, rest) = record.split_at_mut(HEADER);
        header[0] = ty;
        header[1..3].copy_from_slice(&(payload_len as u16).to_be_bytes());
        header[3..11].copy_from_slice(&self.seq.to_be_bytes());
        let (payload, trailer) = rest.split_at_mut(payload_len);
        let tag = if ty == TYPE_DATA_CLEAR {
            let mut aad = header.to_vec();
            aad.extend_from_slice(payload);
            self.cipher
                .encrypt_inout_detached(&nonce(self.seq), &aad, (&mut [][..]).into())
        } else {
            self.cipher
                .encrypt_inout_detached(&nonce(self.seq), header, payload.into())
        }
        .map_err(|_| Error::new(Status::InternalError, "encryption failed"))?;
        trailer[..TAG].copy_from_slice(&tag);
        self.seq += 1;
        Ok(HEADER + payload_len + TAG)
    }
}

impl Seal for TestSeal {
    fn sizes(&self) -> StreamSizes {
        StreamSizes::new(HEADER, TAG, self.max_message, 1)
    }

    fn seal(&mut self, qop: Qop, mut record: RecordMut<'_>) -> Result<usize, Error> {
        let len = record.payload_len();
        let ty = match qop {
            Qop::Default => TYPE_DATA,
            Qop::IntegrityOnly => TYPE_DATA_CLEAR,
            Qop::OutOfBand if len == 2 => TYPE_ALERT,
            Qop::OutOfBand => {
                return Err(Error::new(
                    Status::InvalidParameter,
                    "an out-of-band message is a two-byte alert",
                ));
            }
            other => {
                return Err(Error::new(
                    Status::QopNotSupported,
                    format!("the test sealer has no {other:?}"),
                ));
            }
        };
        self.seal_typed(ty, record.as_mut_slice(), len)
    }

    fn seal_control(&mut self, control: &Control, out: &mut [u8]) -> Result<usize, Error> {
        match *control {
            Control::Close => {
                let n = self.seal_typed(TYPE_CLOSE, out, 0)?;
                self.closed = true;
                Ok(n)
            }
            Control::Alert(alert) => {
                out[HEADER..HEADER + 2].copy_from_slice(&alert.to_bytes());
                self.seal_typed(TYPE_ALERT, out, 2)
            }
            Control::KeyUpdate { update_requested } => {
                out[HEADER] = u8::from(update_requested);
                let n = self.seal_typed(TYPE_KEY_UPDATE, out, 1)?;
                self.key = ratchet(&self.key);
                self.cipher = ChaCha20Poly1305::new(&self.key.into());
                Ok(n)
            }
            ref other => Err(Error::new(
                Status::QopNotSupported,
                format!("test sealer cannot send {other:?}"),
            )),
        }
    }

    fn supports_qop(&self, _qop: Qop) -> bool {
        true
    }

    fn supports_control(&self, control: &Control) -> bool {
        matches!(
            control,
            Control::Close | Control::Alert(_) | Control::KeyUpdate { .. }
        )
    }

    fn release_idle(&mut self) {
        self.idle_releases += 1;
    }

    fn sequence(&self) -> u64 {
        self.seq
    }
}

/// The receiving half of the test protocol.
pub struct TestUnseal {
    key: [u8; 32],
    cipher: ChaCha20Poly1305,
    seq: u64,
    max_message: usize,
    /// Key updates received.
    pub key_updates: u64,
    /// Warning alerts received.
    pub warnings: u64,
    /// Times the stream said this half went idle ([`Unseal::release_idle`]).
    pub idle_releases: u64,
}

impl TestUnseal {
    fn new(key: [u8; 32], max_message: usize) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(&key.into()),
            key,
            seq: 0,
            max_message,
            key_updates: 0,
            warnings: 0,
            idle_releases: 0,
        }
    }
}

impl TestUnseal {
    /// The first record's header and length, or the outcome when it is not whole.
    fn frame(&self, input: &[u8]) -> Result<Result<([u8; HEADER], usize), Unsealed>, Error> {
        let Some(header) = input.first_chunk::<HEADER>() else {
            return Ok(Err(Unsealed::Incomplete {
                missing: Some(HEADER - input.len()),
            }));
        };
        let len = u16::from_be_bytes([header[1], header[2]]) as usize;
        if len > self.max_message {
            return Err(Error::illegal_message(format!(
                "record of {len} bytes above the maximum {}",
                self.max_message
            )));
        }
        let total = HEADER + len + TAG;
        if input.len() < total {
            return Ok(Err(Unsealed::Incomplete {
                missing: Some(total - input.len()),
            }));
        }
        Ok(Ok((*header, total)))
    }

    /// After a record's tag was checked: refuse it if it failed or is out of sequence, else
    /// count it.
    fn verified(&mut self, authentic: bool, seq: u64) -> Result<(), Error> {
        if !authentic {
            return Err(Error::message_altered("test record failed authentication"));
        }
        if seq != self.seq {
            return Err(Error::out_of_sequence(self.seq, seq));
        }
        self.seq += 1;
        Ok(())
    }
}

impl Unseal for TestUnseal {
    fn max_record(&self) -> usize {
        HEADER + self.max_message + TAG
    }

    fn unseal(&mut self, input: &mut [u8]) -> Result<Unsealed, Error> {
        let (header, total) = match self.frame(input)? {
            Ok(framed) => framed,
            Err(incomplete) => return Ok(incomplete),
        };
        let ty = header[0];
        let len = total - HEADER - TAG;
        let seq = u64::from_be_bytes(header[3..11].try_into().expect("8 bytes"));
        let (payload, tag) = input[HEADER..total].split_at_mut(len);
        let tag = Tag::try_from(&*tag).expect("a 16-byte tag");
        let verified = if ty == TYPE_DATA_CLEAR {
            let mut aad = header.to_vec();
            aad.extend_from_slice(payload);
            self.cipher
                .decrypt_inout_detached(&nonce(seq), &aad, (&mut [][..]).into(), &tag)
        } else {
            self.cipher
                .decrypt_inout_detached(&nonce(seq), &header, payload.into(), &tag)
        };
        self.verified(verified.is_ok(), seq)?;
        match ty {
            TYPE_DATA | TYPE_DATA_CLEAR => Ok(Unsealed::Data {
                plaintext: HEADER..HEADER + len,
                consumed: total,
                protection: if ty == TYPE_DATA {
                    Protection::Confidential
                } else {
                    Protection::IntegrityOnly
                },
            }),
            TYPE_CLOSE => Ok(Unsealed::Closed { consumed: total }),
            TYPE_ALERT if len == 2 => {
                let alert = AlertCode::from_bytes([payload[0], payload[1]]);
                if alert.level == AlertCode::WARNING {
                    self.warnings += 1;
                    Ok(Unsealed::Consumed { consumed: total })
                } else {
                    Err(Error::illegal_message(format!("peer sent {alert}")))
                }
            }
            TYPE_KEY_UPDATE if len == 1 => {
                self.key = ratchet(&self.key);
                self.cipher = ChaCha20Poly1305::new(&self.key.into());
                self.key_updates += 1;
                if payload[0] == 1 {
                    Ok(Unsealed::Respond {
                        consumed: total,
                        control: Control::KeyUpdate {
                            update_requested: false,
                        },
                    })
                } else {
                    Ok(Unsealed::Consumed { consumed: total })
                }
            }
            _ => Err(Error::illegal_message(format!(
                "unexpected record type {ty:#04x} of {len} bytes"
            ))),
        }
    }

    /// Encrypted data records that fit `out` are opened into it; everything else declines.
    fn unseal_into(&mut self, input: &mut [u8], out: &mut [u8]) -> Result<Option<Unsealed>, Error> {
        let (header, total) = match self.frame(input)? {
            Ok(framed) => framed,
            Err(incomplete) => return Ok(Some(incomplete)),
        };
        let len = total - HEADER - TAG;
        if header[0] != TYPE_DATA || len > out.len() {
            return Ok(None);
        }
        let seq = u64::from_be_bytes(header[3..11].try_into().expect("8 bytes"));
        let (payload, tag) = input[HEADER..total].split_at(len);
        let tag = Tag::try_from(tag).expect("a 16-byte tag");
        // Copied, then opened where it lies, as a backend without an out-of-place call does
        // (ring): a refused record leaves its ciphertext in `out` unless it is wiped.
        let out = &mut out[..len];
        out.copy_from_slice(payload);
        let verified = self
            .cipher
            .decrypt_inout_detached(&nonce(seq), &header, out.into(), &tag);
        if let Err(err) = self.verified(verified.is_ok(), seq) {
            // Leave nothing of a refused record (forged, replayed) in the caller's buffer.
            out.fill(0);
            return Err(err);
        }
        Ok(Some(Unsealed::Data {
            plaintext: 0..len,
            consumed: total,
            protection: Protection::Confidential,
        }))
    }

    fn signals_close(&self) -> bool {
        true
    }

    fn alert_for(&self, error: &Error) -> Option<Control> {
        (error.status() == Status::MessageAltered)
            .then_some(Control::Alert(AlertCode::fatal(BAD_RECORD_MAC)))
    }

    fn release_idle(&mut self) {
        self.idle_releases += 1;
    }

    fn sequence(&self) -> u64 {
        self.seq
    }
}
