//! The DIGEST-MD5 security layer: one buffer wrapped or unwrapped, in place (RFC 2831 §2.3, §2.4).
//!
//! Each direction owns its keys, its cipher state and its sequence number, so the stream's read
//! and write halves run on two tasks with nothing shared. RC4's keystream and the CBC chain of
//! DES/3DES continue from one frame to the next, which is why frames must be processed in order
//! and why a frame with the wrong sequence number is refused before it is decrypted.

use std::fmt;
use std::ops::Range;

use des::cipher::array::Array;
use des::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use des::{Des, TdesEde2};
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use rc4::{Rc4, StreamCipher};
use sealstream::sasl::{Unwrap, Wrap, WrapOverhead};
use sealstream::{Error, Protection, Qop, RecordMut, Status};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::compute::{DirectionKeys, Key16, direction_keys};
use super::{Cipher, DigestQop};
use crate::{AuthError, AuthErrorKind, Outcome, SecurityLayer};

/// Length of the truncated HMAC-MD5.
const MAC_LEN: usize = 10;
/// `0x0001`, the message type, then the 4-byte sequence number.
const TAIL_LEN: usize = 6;
/// What every wrapped buffer ends with after the message: MAC, type, sequence number.
const INTEGRITY_OVERHEAD: usize = MAC_LEN + TAIL_LEN;
const MESSAGE_TYPE: [u8; 2] = [0, 1];

/// How much plaintext [`mac_copying`] hashes before copying it: small enough that the chunk is
/// still in the L1 cache when it is copied, large enough that the calls cost nothing.
const COPY_CHUNK: usize = 4096;

// RFC 2831 §2.3: "MAC(Ki, SeqNum, msg) = (HMAC(Ki, {SeqNum, msg})[0..9], 0x0001, SeqNum)"
fn mac(key: &[u8; 16], seq: u32, msg: &[u8]) -> Result<[u8; MAC_LEN], Error> {
    let mut h = keyed_mac(key, seq)?;
    h.update(msg);
    Ok(truncated(h))
}

/// [`mac`] of `src`, copying `src` into `dst` (as long) chunk by chunk as it is hashed: each
/// chunk is read again for the copy while it is still in L1, where a copy and then a MAC would
/// each pass over the whole payload.
fn mac_copying(
    key: &[u8; 16],
    seq: u32,
    src: &[u8],
    dst: &mut [u8],
) -> Result<[u8; MAC_LEN], Error> {
    if src.len() != dst.len() {
        return Err(Error::new(
            Status::InternalError,
            format!(
                "{} bytes of plaintext for a {}-byte payload",
                src.len(),
                dst.len()
            ),
        ));
    }
    let mut h = keyed_mac(key, seq)?;
    for (from, to) in src.chunks(COPY_CHUNK).zip(dst.chunks_mut(COPY_CHUNK)) {
        h.update(from);
        to.copy_from_slice(from);
    }
    Ok(truncated(h))
}

fn keyed_mac(key: &[u8; 16], seq: u32) -> Result<Hmac<Md5>, Error> {
    let mut h = <Hmac<Md5> as KeyInit>::new_from_slice(key)
        .map_err(|_| Error::new(Status::InternalError, "HMAC-MD5 refused a 16-byte key"))?;
    h.update(&seq.to_be_bytes());
    Ok(h)
}

fn truncated(h: Hmac<Md5>) -> [u8; MAC_LEN] {
    let full = h.finalize().into_bytes();
    let mut out = [0; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

// RFC 2831 §2.4 leaves the DES key schedule implicit; Cyrus (`slidebits`) and the JDK
// (`addDesParity`) both spread 7 key bytes over the high 7 bits of 8 bytes and set odd parity
// in the low bit (DES itself ignores it).
fn des_key(k: &[u8]) -> [u8; 8] {
    let mut out = [
        k[0],
        k[0] << 7 | k[1] >> 1,
        k[1] << 6 | k[2] >> 2,
        k[2] << 5 | k[3] >> 3,
        k[3] << 4 | k[4] >> 4,
        k[4] << 3 | k[5] >> 5,
        k[5] << 2 | k[6] >> 6,
        k[6] << 1,
    ];
    for b in &mut out {
        let high_ones = (*b & 0xFE).count_ones();
        *b = (*b & 0xFE) | u8::from(high_ones % 2 == 0);
    }
    out
}

/// The cipher state of one direction: RC4's keystream, or a DES/3DES CBC chain (`cbc`) that
/// encrypts for the sending direction and decrypts for the receiving one.
enum Conf {
    Rc4(Box<Rc4>),
    DesEncrypt(Box<cbc::Encryptor<Des>>),
    DesDecrypt(Box<cbc::Decryptor<Des>>),
    TdesEncrypt(Box<cbc::Encryptor<TdesEde2>>),
    TdesDecrypt(Box<cbc::Decryptor<TdesEde2>>),
}

impl Conf {
    // RFC 2831 §2.4: "The key for the "rc4" cipher is the 16 byte Kc [...]. For "des" [...] the
    // first 7 bytes of Kc [...]; for "3des" [...] the first 14 bytes [...] as two 56-bit keys
    // [...] The IV for "des" and "3des" is the last 8 bytes of Kc."
    fn new(cipher: Cipher, kc: &[u8; 16], sending: bool) -> Result<Self, Error> {
        let bad_key = |_| Error::new(Status::InternalError, "cipher refused its key length");
        let iv = &kc[8..16];
        Ok(match cipher {
            Cipher::Rc4 | Cipher::Rc4_56 | Cipher::Rc4_40 => {
                Conf::Rc4(Box::new(Rc4::new_from_slice(kc).map_err(bad_key)?))
            }
            Cipher::Des => {
                let key = Zeroizing::new(des_key(&kc[..7]));
                if sending {
                    Conf::DesEncrypt(Box::new(
                        KeyIvInit::new_from_slices(&key[..], iv).map_err(bad_key)?,
                    ))
                } else {
                    Conf::DesDecrypt(Box::new(
                        KeyIvInit::new_from_slices(&key[..], iv).map_err(bad_key)?,
                    ))
                }
            }
            Cipher::TripleDes => {
                let mut key = Zeroizing::new([0u8; 16]);
                key[..8].copy_from_slice(&des_key(&kc[..7]));
                key[8..].copy_from_slice(&des_key(&kc[7..14]));
                if sending {
                    Conf::TdesEncrypt(Box::new(
                        KeyIvInit::new_from_slices(&key[..], iv).map_err(bad_key)?,
                    ))
                } else {
                    Conf::TdesDecrypt(Box::new(
                        KeyIvInit::new_from_slices(&key[..], iv).map_err(bad_key)?,
                    ))
                }
            }
        })
    }

    /// Encrypt (sending) or decrypt (receiving) `data` in place, a whole number of blocks for
    /// DES, continuing the keystream or the chain from the previous frame.
    fn apply(&mut self, data: &mut [u8]) {
        if let Conf::Rc4(rc4) = self {
            return rc4.apply_keystream(data);
        }
        let (blocks, rest) = Array::slice_as_chunks_mut(data);
        match self {
            Conf::Rc4(_) => unreachable!("handled above"),
            Conf::DesEncrypt(cbc) => cbc.encrypt_blocks(blocks),
            Conf::DesDecrypt(cbc) => cbc.decrypt_blocks(blocks),
            Conf::TdesEncrypt(cbc) => cbc.encrypt_blocks(blocks),
            Conf::TdesDecrypt(cbc) => cbc.decrypt_blocks(blocks),
        }
        debug_assert!(rest.is_empty(), "DES data is a whole number of blocks");
    }
}

/// One direction: integrity key, optional cipher, sequence number.
struct Direction {
    qop: DigestQop,
    integrity: Key16,
    conf: Option<Conf>,
    /// The next sequence number; above `u32::MAX` the direction is exhausted.
    seq: u64,
}

impl Direction {
    fn new(
        ha1: &[u8; 16],
        qop: DigestQop,
        client_to_server: bool,
        sending: bool,
    ) -> Result<Self, Error> {
        let cipher = match qop {
            DigestQop::AuthConf(c) => Some(c),
            _ => None,
        };
        let DirectionKeys { integrity, sealing } = direction_keys(ha1, cipher, client_to_server);
        let conf = cipher
            .map(|c| Conf::new(c, &sealing, sending))
            .transpose()?;
        Ok(Self {
            qop,
            integrity,
            conf,
            seq: 0,
        })
    }

    fn block_size(&self) -> usize {
        match self.qop {
            DigestQop::AuthConf(c) => c.block_size(),
            _ => 1,
        }
    }
}

impl fmt::Debug for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direction")
            .field("qop", &self.qop)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// The sending direction of a DIGEST-MD5 layer.
#[derive(Debug)]
pub struct DigestWrap(Direction);

/// The receiving direction of a DIGEST-MD5 layer.
#[derive(Debug)]
pub struct DigestUnwrap(Direction);

/// Both directions for one side: the client wraps with the client-to-server keys.
pub(crate) fn halves(
    ha1: &[u8; 16],
    qop: DigestQop,
    client: bool,
) -> Result<(DigestWrap, DigestUnwrap), Error> {
    Ok((
        DigestWrap(Direction::new(ha1, qop, client, true)?),
        DigestUnwrap(Direction::new(ha1, qop, !client, false)?),
    ))
}

/// The layer a finished exchange negotiated for one side: none for qop=auth, else both
/// directions framed with the maxbufs of `outcome`.
pub(crate) fn security_layer(
    ha1: &[u8; 16],
    qop: DigestQop,
    outcome: &Outcome,
    client: bool,
) -> Result<Option<SecurityLayer>, AuthError> {
    if qop == DigestQop::Auth {
        return Ok(None);
    }
    let (wrap, unwrap) = halves(ha1, qop, client)
        .map_err(|e| AuthError::new(AuthErrorKind::Internal, e.to_string()))?;
    Ok(Some(SecurityLayer::new(
        wrap,
        unwrap,
        outcome.our_maxbuf,
        outcome.peer_maxbuf,
    )))
}

impl Wrap for DigestWrap {
    fn overhead(&self) -> WrapOverhead {
        let block_size = self.0.block_size();
        WrapOverhead {
            header: 0,
            // Padding of 1 to 8 bytes for the block ciphers, then MAC, type and sequence number.
            trailer: INTEGRITY_OVERHEAD + if block_size > 1 { block_size } else { 0 },
            block_size,
        }
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        // auth-int is integrity only already; auth-conf cannot leave a buffer in the clear.
        qop == Qop::Default || (qop == Qop::IntegrityOnly && self.0.qop == DigestQop::AuthInt)
    }

    fn wrap(&mut self, qop: Qop, token: RecordMut<'_>) -> Result<usize, Error> {
        self.wrap_with(qop, token, None)
    }

    fn wrap_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        token: RecordMut<'_>,
    ) -> Result<usize, Error> {
        self.wrap_with(qop, token, Some(plaintext))
    }

    fn sequence(&self) -> u64 {
        self.0.seq
    }
}

impl DigestWrap {
    // RFC 2831 §2.3 (auth-int): "{msg, MAC(Ki, SeqNum, msg)}"
    // RFC 2831 §2.4 (auth-conf): "SEAL(Ki, Kc, SeqNum, msg) = {CIPHER(Kc, {msg, pad,
    // HMAC(Ki, {SeqNum, msg})[0..9]}), 0x0001, SeqNum}" where, for the block ciphers, "pad is
    // 1-8 bytes [...] each of which has the value of the length of the padding, such that the
    // length of msg+pad+10 is a multiple of 8".
    /// Wrap `token`, whose plaintext is in place, or is `plaintext` to be copied there while
    /// the MAC reads it.
    fn wrap_with(
        &mut self,
        qop: Qop,
        mut token: RecordMut<'_>,
        plaintext: Option<&[u8]>,
    ) -> Result<usize, Error> {
        if !self.supports_qop(qop) {
            return Err(Error::new(
                Status::QopNotSupported,
                format!("DIGEST-MD5 {} cannot send {qop:?}", self.0.qop),
            ));
        }
        let Ok(seq) = u32::try_from(self.0.seq) else {
            return Err(Error::new(
                Status::ContextExpired,
                "DIGEST-MD5 sequence numbers exhausted after 2^32 buffers",
            ));
        };
        let start = token.header_len();
        let n = token.payload_len();
        let block = self.0.block_size();
        let pad = if block > 1 {
            block - (n + MAC_LEN) % block
        } else {
            0
        };
        let body_len = n + pad + MAC_LEN;
        let buf = &mut token.as_mut_slice()[start..];
        if buf.len() < body_len + TAIL_LEN {
            return Err(Error::new(
                Status::BufferTooSmall,
                format!(
                    "no room for DIGEST-MD5's {} trailer bytes",
                    pad + INTEGRITY_OVERHEAD
                ),
            ));
        }
        let tag = match plaintext {
            None => mac(&self.0.integrity, seq, &buf[..n])?,
            Some(plaintext) => mac_copying(&self.0.integrity, seq, plaintext, &mut buf[..n])?,
        };
        buf[n..n + pad].fill(pad as u8);
        buf[n + pad..body_len].copy_from_slice(&tag);
        if let Some(conf) = &mut self.0.conf {
            conf.apply(&mut buf[..body_len]);
        }
        buf[body_len..body_len + 2].copy_from_slice(&MESSAGE_TYPE);
        buf[body_len + 2..body_len + TAIL_LEN].copy_from_slice(&seq.to_be_bytes());
        self.0.seq += 1;
        Ok(start + body_len + TAIL_LEN)
    }
}

impl DigestUnwrap {
    fn check_sequence(&self, got: u32) -> Result<(), Error> {
        if u64::from(got) != self.0.seq {
            return Err(Error::out_of_sequence(self.0.seq, got.into()));
        }
        Ok(())
    }

    fn unwrap_integrity(&mut self, token: &[u8], seq: u32) -> Result<Range<usize>, Error> {
        let msg_len = token.len() - INTEGRITY_OVERHEAD;
        let expected = mac(&self.0.integrity, seq, &token[..msg_len])?;
        if !bool::from(expected.ct_eq(&token[msg_len..msg_len + MAC_LEN])) {
            return Err(Error::message_altered("DIGEST-MD5 integrity check failed"));
        }
        // Authenticated: a wrong number now means replayed, reordered or suppressed.
        self.check_sequence(seq)?;
        Ok(0..msg_len)
    }

    fn unwrap_confidential(&mut self, token: &mut [u8], seq: u32) -> Result<Range<usize>, Error> {
        let body_len = token.len() - TAIL_LEN;
        let block = self.0.block_size();
        if block > 1 && (body_len % block != 0 || body_len < 2 * block) {
            return Err(Error::illegal_message(format!(
                "DIGEST-MD5 sealed body of {body_len} bytes is not whole {block}-byte blocks"
            )));
        }
        // The cipher state depends on every earlier buffer: decrypting one out of order would
        // break the keystream or chain for the rest, so the (clear) number is checked first.
        self.check_sequence(seq)?;
        let Some(conf) = &mut self.0.conf else {
            return Err(Error::new(
                Status::InternalError,
                "auth-conf without a cipher",
            ));
        };
        let body = &mut token[..body_len];
        conf.apply(body);
        let mac_start = body_len - MAC_LEN;
        let (msg_len, pad_ok) = if block > 1 {
            let pad = usize::from(body[mac_start - 1]);
            // The smallest body leaves 6 bytes before the MAC, less than a block of padding.
            let ok = (1..=block.min(mac_start)).contains(&pad)
                && body[mac_start - pad..mac_start]
                    .iter()
                    .all(|&b| usize::from(b) == pad);
            (if ok { mac_start - pad } else { 0 }, ok)
        } else {
            (mac_start, true)
        };
        let expected = mac(&self.0.integrity, seq, &body[..msg_len])?;
        if !pad_ok || !bool::from(expected.ct_eq(&body[mac_start..])) {
            return Err(Error::message_altered(
                "DIGEST-MD5 sealed buffer failed verification",
            ));
        }
        Ok(0..msg_len)
    }
}

impl Unwrap for DigestUnwrap {
    fn unwrap(&mut self, token: &mut [u8]) -> Result<Range<usize>, Error> {
        let len = token.len();
        if len < INTEGRITY_OVERHEAD {
            return Err(Error::illegal_message(format!(
                "DIGEST-MD5 buffer of {len} bytes is shorter than its {INTEGRITY_OVERHEAD}-byte trailer"
            )));
        }
        if token[len - TAIL_LEN..len - 4] != MESSAGE_TYPE {
            return Err(Error::illegal_message(
                "DIGEST-MD5 buffer has a message type other than 1",
            ));
        }
        let mut seq = [0; 4];
        seq.copy_from_slice(&token[len - 4..]);
        let seq = u32::from_be_bytes(seq);
        let plain = if self.0.conf.is_some() {
            self.unwrap_confidential(token, seq)?
        } else {
            self.unwrap_integrity(token, seq)?
        };
        self.0.seq += 1;
        Ok(plain)
    }

    // auth-conf seals every buffer, auth-int none: the negotiated qop decides.
    fn protection(&self) -> Protection {
        if self.0.conf.is_some() {
            Protection::Confidential
        } else {
            Protection::IntegrityOnly
        }
    }

    fn sequence(&self) -> u64 {
        self.0.seq
    }
}

#[cfg(test)]
mod tests;
