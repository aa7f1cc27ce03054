//! One direction's AEAD, built from the traffic secrets rustls extracted.
//!
//! rustls 0.23's `MessageEncrypter::encrypt` allocates a buffer per record; sealing with the
//! backend's AEAD (aws-lc-rs, or ring under the `ring` feature; see [`crate::provider`]) into our
//! record buffer allocates nothing. Under aws-lc-rs a record is sealed from the writer's buffer
//! into the record buffer and opened from the read buffer into the reader's
//! (`seal_out_of_place_scatter`, `open_separate_gather`), so plaintext is copied only by the
//! cipher; ring has no such calls and copies. The nonce rules are the RFCs':
//!
//! - TLS 1.3 (RFC 8446 §5.3): "the per-record nonce ... is formed as follows: 1. The 64-bit
//!   record sequence number is encoded in network byte order and padded to the left with zeros
//!   to iv_length. 2. The padded sequence number is XORed with either the static
//!   client_write_iv or server_write_iv."
//! - TLS 1.2 AES-GCM (RFC 5288 §3): the nonce is a 4-byte implicit salt and an 8-byte explicit
//!   part carried in the record; we send `seed XOR sequence`, as rustls does.
//! - TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): the nonce is formed as in TLS 1.3, nothing explicit.

use rustls::ConnectionTrafficSecrets;
use sealstream::{Error, Status};

use zeroize::Zeroizing;

use crate::provider::aead::{
    AES_128_GCM, AES_256_GCM, Aad, Algorithm, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey,
};

/// Bytes of an AEAD tag (all three suites).
pub(crate) const TAG_LEN: usize = 16;
/// Bytes of a record header.
pub(crate) const HEADER_LEN: usize = 5;
/// Explicit nonce bytes in a TLS 1.2 AES-GCM record.
pub(crate) const EXPLICIT_NONCE_LEN: usize = 8;

/// How the nonce is made and carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// TLS 1.3: nonce = iv XOR seq; inner content type after the payload.
    Tls13,
    /// TLS 1.2 AES-GCM: 8-byte explicit nonce after the header.
    Tls12Explicit,
    /// TLS 1.2 ChaCha20-Poly1305: nonce = iv XOR seq, nothing explicit.
    Tls12Implicit,
}

/// A record AEAD for one direction.
///
/// Under aws-lc-rs the expanded key schedule (aws-lc's AEAD context: about 600 bytes of AES
/// round keys and GHASH tables per direction, in the C heap) is built on the first record and
/// dropped by [`release`] when the stream says the direction went idle, so that ten thousand
/// idle connections do not hold forty thousand of them. On TLS 1.2 the traffic key stays, to
/// rebuild the schedule for the next record; on TLS 1.3 the key and IV go too
/// ([`forget`](Self::forget)), and the direction's traffic secret derives them again
/// ([`TrafficSecret::forget_keys`](crate::key_schedule::TrafficSecret::forget_keys)).
///
/// Under ring the schedule (about 550 bytes: AES round keys and the GHASH table) is a plain
/// value inside ring's `LessSafeKey`, so it is kept in a heap block of its own ([`Schedule`])
/// that [`release`] frees the same way.
///
/// Key wiping: the traffic key and IV live in one heap block, so moving the cipher copies a
/// pointer and never the key; the block is zeroized on drop. aws-lc wipes its context when it is
/// freed. ring does not zeroize its key schedule on drop, and its fields are private, so under
/// the `ring` feature [`release`] (and drop) first overwrites the boxed schedule with the
/// schedule of an all-zero key of the same algorithm, which has the same layout, then frees
/// it. What that cannot reach is the copy the expansion leaves on the stack while the schedule
/// is built and moved into its box.
///
/// [`release`]: RecordCipher::release
pub(crate) struct RecordCipher {
    alg: &'static Algorithm,
    /// The traffic key (its first `alg.key_len()` bytes) then the 12-byte IV. `None` once
    /// [`forget`](Self::forget) dropped it, until [`restore`](Self::restore) derives it again.
    material: Option<Material>,
    /// The expanded key schedule, while the direction is in use.
    key: Option<Schedule>,
    /// Whether the key and IV were [`restore`](Self::restore)d after being forgotten.
    restored: bool,
    framing: Framing,
}

/// An expanded key schedule as this backend holds it: aws-lc-rs's `LessSafeKey` owns a pointer
/// to aws-lc's context in the C heap, so it is kept as is.
#[cfg(feature = "aws-lc-rs")]
type Schedule = LessSafeKey;
/// An expanded key schedule as this backend holds it: ring's `LessSafeKey` holds the schedule
/// itself, so it is boxed, to be freed (and wiped) on release.
#[cfg(not(feature = "aws-lc-rs"))]
type Schedule = Box<LessSafeKey>;

/// A schedule from the expanded key `key`.
fn schedule(key: LessSafeKey) -> Schedule {
    #[cfg(feature = "aws-lc-rs")]
    return key;
    #[cfg(not(feature = "aws-lc-rs"))]
    return Box::new(key);
}

/// A traffic key and IV in a heap block of their own, zeroized on drop.
type Material = Box<Zeroizing<[u8; MATERIAL_LEN]>>;

/// A zeroed [`Material`] block.
fn new_material() -> Material {
    Box::new(Zeroizing::new([0u8; MATERIAL_LEN]))
}

/// The longest traffic key: AES-256-GCM's and ChaCha20-Poly1305's 32 bytes.
const MAX_KEY_LEN: usize = 32;
/// Where the IV starts in [`RecordCipher::material`].
const IV_AT: usize = MAX_KEY_LEN;
const MATERIAL_LEN: usize = MAX_KEY_LEN + 12;

impl std::fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCipher")
            .field("framing", &self.framing)
            .field("expanded", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// A copy with the same keys and no expanded key schedule (built on first use). The copy's key
/// block is zeroized on drop like the original's.
impl Clone for RecordCipher {
    fn clone(&self) -> Self {
        // Copied heap to heap: a by-value copy would leave the key on the stack.
        let material = self.material.as_ref().map(|original| {
            let mut material = new_material();
            material.copy_from_slice(&original[..]);
            material
        });
        Self {
            alg: self.alg,
            material,
            key: None,
            restored: false,
            framing: self.framing,
        }
    }
}

/// Under ring, wipes the expanded schedule (see [`RecordCipher::release`]); the key block
/// zeroizes itself.
impl Drop for RecordCipher {
    fn drop(&mut self) {
        self.release();
    }
}

impl RecordCipher {
    /// The cipher for `secrets` in a TLS 1.3 (`tls13`) or TLS 1.2 connection.
    pub(crate) fn new(secrets: &ConnectionTrafficSecrets, tls13: bool) -> Result<Self, Error> {
        let (alg, key, iv, chacha) = match secrets {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => (&AES_128_GCM, key, iv, false),
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => (&AES_256_GCM, key, iv, false),
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
                (&CHACHA20_POLY1305, key, iv, true)
            }
            _ => {
                return Err(Error::new(
                    Status::CryptoSystemInvalid,
                    "the negotiated cipher suite has no record protection here",
                ));
            }
        };
        let (key, iv) = (key.as_ref(), iv.as_ref());
        if key.len() != alg.key_len() || key.len() > MAX_KEY_LEN {
            return Err(Error::new(
                Status::CryptoSystemInvalid,
                "traffic key has the wrong length",
            ));
        }
        if iv.len() != MATERIAL_LEN - IV_AT {
            return Err(Error::new(
                Status::CryptoSystemInvalid,
                "traffic IV is not 12 bytes",
            ));
        }
        let mut material = new_material();
        material[..key.len()].copy_from_slice(key);
        material[IV_AT..].copy_from_slice(iv);
        let framing = match (tls13, chacha) {
            (true, _) => Framing::Tls13,
            (false, false) => Framing::Tls12Explicit,
            (false, true) => Framing::Tls12Implicit,
        };
        Ok(Self {
            alg,
            material: Some(material),
            key: None,
            restored: false,
            framing,
        })
    }

    /// A TLS 1.3 cipher for `alg` whose key and IV `derive` writes (into the zeroized block
    /// they are kept in, so they are never copied).
    pub(crate) fn tls13(
        alg: &'static Algorithm,
        derive: impl FnOnce(&mut [u8], &mut [u8]),
    ) -> Self {
        let mut cipher = Self {
            alg,
            material: None,
            key: None,
            restored: false,
            framing: Framing::Tls13,
        };
        cipher.restore(derive);
        cipher.restored = false;
        cipher
    }

    /// Whether the traffic key and IV are here (not [`forget`](Self::forget)-ten).
    pub(crate) fn has_keys(&self) -> bool {
        self.material.is_some()
    }

    /// Drop the expanded key schedule and the traffic key and IV too, for a TLS 1.3 direction
    /// whose traffic secret [`restore`](Self::restore)s them for its next record.
    pub(crate) fn forget(&mut self) {
        self.release();
        self.material = None;
    }

    /// Bring back forgotten keys: `derive` writes the key and IV (into the zeroized block they
    /// are kept in, so they are never copied). Keys already here stay as they are.
    pub(crate) fn restore(&mut self, derive: impl FnOnce(&mut [u8], &mut [u8])) {
        if self.material.is_none() {
            let mut material = new_material();
            let (key, iv) = material.split_at_mut(IV_AT);
            derive(&mut key[..self.alg.key_len()], iv);
            self.material = Some(material);
            self.restored = true;
        }
    }

    /// Whether the key and IV were forgotten and [`restore`](Self::restore)d since this
    /// cipher was made.
    pub(crate) fn was_restored(&self) -> bool {
        self.restored
    }

    /// Whether this cipher protects records with `alg` under `key` and `iv` (in constant
    /// time); false if its keys are forgotten.
    pub(crate) fn has_key_and_iv(&self, alg: &'static Algorithm, key: &[u8], iv: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        let Some(material) = &self.material else {
            return false;
        };
        let len = self.alg.key_len();
        self.alg == alg
            && key.len() == len
            && bool::from(material[..len].ct_eq(key) & material[IV_AT..].ct_eq(iv))
    }

    /// The traffic key and IV; an error if they were forgotten and not restored (the record
    /// layer restores them before every record, so this is never seen).
    fn material(&self) -> Result<&[u8; MATERIAL_LEN], Error> {
        self.material
            .as_deref()
            .map(|material| &**material)
            .ok_or_else(|| Error::new(Status::InternalError, "traffic key not restored"))
    }

    /// Whether `other` protects records with the same algorithm, key and IV (in constant time;
    /// tests: the record layer compares with [`has_key_and_iv`](Self::has_key_and_iv)).
    #[cfg(test)]
    pub(crate) fn same_keys(&self, other: &RecordCipher) -> bool {
        use subtle::ConstantTimeEq;
        match (&self.material, &other.material) {
            (Some(ours), Some(theirs)) => {
                self.alg == other.alg && bool::from(ours[..].ct_eq(&theirs[..]))
            }
            _ => false,
        }
    }

    /// The IV; zeros if the keys were forgotten and not restored, in which case no record is
    /// sealed or opened with it: [`key`](Self::key) fails first.
    fn iv(&self) -> [u8; 12] {
        let mut iv = [0u8; 12];
        if let Ok(material) = self.material() {
            iv.copy_from_slice(&material[IV_AT..]);
        }
        iv
    }

    /// The expanded key, built now if it was released (or never built).
    fn key(&mut self) -> Result<&LessSafeKey, Error> {
        if self.key.is_none() {
            let material = self.material()?;
            let unbound = UnboundKey::new(self.alg, &material[..self.alg.key_len()])
                .map_err(|_| Error::new(Status::InternalError, "cannot expand the traffic key"))?;
            self.key = Some(schedule(LessSafeKey::new(unbound)));
        }
        self.key
            .as_ref()
            .map(|key| -> &LessSafeKey { key })
            .ok_or_else(|| Error::new(Status::InternalError, "traffic key not expanded"))
    }

    /// Drop the expanded key schedule; the next record builds it again. aws-lc wipes its
    /// context as it frees it; ring's boxed schedule is overwritten with an all-zero key's
    /// first.
    pub(crate) fn release(&mut self) {
        #[cfg(not(feature = "aws-lc-rs"))]
        if let Some(expanded) = self.key.as_mut() {
            let zero = [0u8; MAX_KEY_LEN];
            if let Ok(unbound) = UnboundKey::new(self.alg, &zero[..self.alg.key_len()]) {
                **expanded = LessSafeKey::new(unbound);
                // The box is freed next: keep the overwrite from being optimized away.
                std::hint::black_box(&**expanded);
            }
        }
        self.key = None;
    }

    /// The raw traffic key and IV (tests).
    #[cfg(test)]
    pub(crate) fn key_and_iv(&self) -> (&[u8], &[u8]) {
        (
            &self.material().expect("keys present")[..self.alg.key_len()],
            &self.material().expect("keys present")[IV_AT..],
        )
    }

    /// Whether the key schedule is expanded now (tests).
    #[cfg(test)]
    pub(crate) fn is_expanded(&self) -> bool {
        self.key.is_some()
    }

    pub(crate) fn framing(&self) -> Framing {
        self.framing
    }

    /// The nonce for `seq` under the XOR rule (TLS 1.3, TLS 1.2 ChaCha20, and the explicit part
    /// we choose for TLS 1.2 GCM).
    pub(crate) fn xor_nonce(&self, seq: u64) -> [u8; 12] {
        let mut nonce = self.iv();
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// The TLS 1.2 GCM nonce from the salt and the explicit part received.
    pub(crate) fn explicit_nonce(&self, explicit: &[u8]) -> [u8; 12] {
        let mut nonce = self.iv();
        nonce[4..].copy_from_slice(explicit);
        nonce
    }

    /// Seal a record body into `out`: the plaintext, then `extra` (TLS 1.3's inner content
    /// type), encrypted, then the tag, so `out` is as long as the three. The plaintext is
    /// `plaintext` where it lies (a caller's buffer), or with `None` already at the front of
    /// `out`. From a caller's buffer it is read once, by the cipher, not first copied into the
    /// record; ring has no such call, so under ring it is copied and sealed in place.
    pub(crate) fn seal_body(
        &mut self,
        nonce: [u8; 12],
        aad: &[u8],
        plaintext: Option<&[u8]>,
        extra: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        let payload_len = out.len().checked_sub(TAG_LEN + extra.len());
        let Some(payload_len) = payload_len.filter(|&n| plaintext.is_none_or(|p| p.len() == n))
        else {
            return Err(Error::new(
                Status::InternalError,
                "record body of the wrong length",
            ));
        };
        let failed = |_| Error::new(Status::InternalError, "record encryption failed");
        let nonce = Nonce::assume_unique_for_key(nonce);
        let aad = Aad::from(aad);
        let (payload, rest) = out.split_at_mut(payload_len);
        #[cfg(feature = "aws-lc-rs")]
        if let Some(plaintext) = plaintext {
            return self
                .key()?
                .seal_out_of_place_scatter(nonce, aad, plaintext, payload, extra, rest)
                .map_err(failed);
        }
        if let Some(plaintext) = plaintext {
            payload.copy_from_slice(plaintext);
        }
        rest[..extra.len()].copy_from_slice(extra);
        let body = &mut out[..payload_len + extra.len()];
        let tag = self
            .key()?
            .seal_in_place_separate_tag(nonce, aad, body)
            .map_err(failed)?;
        out[payload_len + extra.len()..].copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// Verify and decrypt `ciphertext_and_tag` into `out`, exactly as long as the ciphertext:
    /// a reader's buffer, so that the plaintext is not copied there afterwards. If the record
    /// fails authentication, `out` is wiped: aws-lc decrypts before it checks the tag, and
    /// although both backends clear their output on failure, this does not rely on it.
    /// Under ring, which has no such call, the ciphertext is copied to `out` and opened there.
    pub(crate) fn open_into(
        &mut self,
        nonce: [u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        let Some((ciphertext, tag)) = ciphertext_and_tag
            .split_at_checked(ciphertext_and_tag.len().wrapping_sub(TAG_LEN))
            .filter(|(ciphertext, _)| ciphertext.len() == out.len())
        else {
            return Err(Error::new(
                Status::InternalError,
                "record body of the wrong length",
            ));
        };
        let nonce = Nonce::assume_unique_for_key(nonce);
        let key = self.key()?;
        #[cfg(feature = "aws-lc-rs")]
        let opened = key.open_separate_gather(nonce, Aad::from(aad), ciphertext, tag, out);
        #[cfg(not(feature = "aws-lc-rs"))]
        let opened = {
            out.copy_from_slice(ciphertext);
            let tag = crate::provider::aead::Tag::try_from(tag)
                .map_err(|_| Error::new(Status::InternalError, "record tag of the wrong length"))?;
            key.open_in_place_separate_tag(nonce, Aad::from(aad), tag, out, 0..)
                .map(|_| ())
        };
        opened.map_err(|_| {
            zeroize::Zeroize::zeroize(&mut *out);
            Error::message_altered("TLS record failed authentication (bad_record_mac)")
        })
    }

    /// Verify and decrypt `in_out` (ciphertext then tag) in place; returns the plaintext length.
    pub(crate) fn open(
        &mut self,
        nonce: [u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, Error> {
        self.key()?
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
            .map(|plain| plain.len())
            .map_err(|_| {
                Error::message_altered("TLS record failed authentication (bad_record_mac)")
            })
    }
}
