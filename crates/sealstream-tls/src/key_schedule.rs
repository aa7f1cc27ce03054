//! The TLS 1.3 key schedule after the handshake: each half ratchets its own direction's
//! traffic secret on a KeyUpdate, with the cipher suite's HKDF.
//!
//! rustls's `KernelConnection` can derive the next secrets, but it is one object for both
//! directions, so the two halves would share it behind a lock, and it holds the whole
//! post-handshake state (about 1 KB an end with its `ExpectTraffic`). The ratchet is two HKDF
//! calls; doing it here lets each half own its secret, lock-free, and lets a server (which
//! receives no session tickets) and every TLS 1.2 end drop rustls's state once the handshake
//! is over. The secrets come from the key log rustls writes during the handshake
//! ([`crate::capture`]). They are of the generation rustls hands over, since rustls is never
//! shown a record after the one that ends the handshake ([`crate::handshake`]); the first
//! KeyUpdate checks that against the keys rustls extracted ([`TrafficSecret::next`]).

use rustls::crypto::tls13::{HkdfExpander, OkmBlock};
use rustls::{CipherSuite, ConnectionTrafficSecrets, SupportedCipherSuite, Tls13CipherSuite};
use sealstream::{Error, Status};
use zeroize::Zeroizing;

use crate::cipher::RecordCipher;
use crate::provider::aead::{AES_128_GCM, AES_256_GCM, Algorithm, CHACHA20_POLY1305};

/// The longest traffic secret: SHA-384's 48 bytes.
const MAX_SECRET_LEN: usize = 48;

/// HKDF-Expand-Label of RFC 8446 §7.1, with the suite's own HKDF:
///
/// ```text
/// HKDF-Expand-Label(Secret, Label, Context, Length) =
///      HKDF-Expand(Secret, HkdfLabel, Length)
/// struct {
///     uint16 length = Length;
///     opaque label<7..255> = "tls13 " + Label;
///     opaque context<0..255> = Context;
/// } HkdfLabel;
/// ```
pub(crate) fn expand_label(
    suite: &Tls13CipherSuite,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) {
    let expander = suite.hkdf_provider.expander_for_okm(&OkmBlock::new(secret));
    expand_label_with(&*expander, label, context, out);
}

/// [`expand_label`] with an expander already made from the secret (making one allocates).
fn expand_label_with(expander: &dyn HkdfExpander, label: &[u8], context: &[u8], out: &mut [u8]) {
    let length = (out.len() as u16).to_be_bytes();
    let label_len = [(b"tls13 ".len() + label.len()) as u8];
    let context_len = [context.len() as u8];
    let info: [&[u8]; 6] = [&length, &label_len, b"tls13 ", label, &context_len, context];
    // Lengths here are at most 48 bytes, far below HKDF's 255 * hash length.
    let _ = expander.expand_slice(&info, out);
}

/// The record AEAD of a TLS 1.3 suite.
fn aead_of(suite: &Tls13CipherSuite) -> Result<&'static Algorithm, Error> {
    match suite.common.suite {
        CipherSuite::TLS13_AES_128_GCM_SHA256 => Ok(&AES_128_GCM),
        CipherSuite::TLS13_AES_256_GCM_SHA384 => Ok(&AES_256_GCM),
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256 => Ok(&CHACHA20_POLY1305),
        other => Err(Error::new(
            Status::CryptoSystemInvalid,
            format!("no record protection for {other:?}"),
        )),
    }
}

/// One direction's TLS 1.3 application traffic secret, generation by generation.
pub(crate) struct TrafficSecret {
    suite: &'static Tls13CipherSuite,
    aead: &'static Algorithm,
    /// The secret: its first `len` bytes. On the heap so that moving the half never copies it;
    /// zeroized on drop.
    secret: Box<Zeroizing<[u8; MAX_SECRET_LEN]>>,
    /// The hash's length, at most 48 (one byte keeps every half a little smaller).
    len: u8,
    /// Whether the secret is known to lead to the keys in use. The key log reports the first
    /// generation, the one rustls hands over; checking that costs two key derivations, so it
    /// waits for the first KeyUpdate instead of slowing every handshake down.
    in_step: bool,
}

impl std::fmt::Debug for TrafficSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrafficSecret")
            .field("suite", &self.suite.common.suite)
            .field("in_step", &self.in_step)
            .finish_non_exhaustive()
    }
}

/// A copy of the same generation, in a heap block of its own (zeroized on drop).
impl Clone for TrafficSecret {
    fn clone(&self) -> Self {
        // Copied heap to heap: a by-value copy would leave the secret on the stack.
        let mut secret = Box::new(Zeroizing::new([0u8; MAX_SECRET_LEN]));
        secret.copy_from_slice(&self.secret[..]);
        Self { secret, ..*self }
    }
}

impl TrafficSecret {
    /// `secret` as the key log reported it (`CLIENT_TRAFFIC_SECRET_0` or
    /// `SERVER_TRAFFIC_SECRET_0`).
    pub(crate) fn new(suite: &'static Tls13CipherSuite, secret: &[u8]) -> Result<Self, Error> {
        let len = suite.common.hash_provider.output_len();
        if secret.len() != len || len > MAX_SECRET_LEN {
            return Err(Error::new(
                Status::InternalError,
                format!(
                    "traffic secret of {} bytes for a {len}-byte hash",
                    secret.len()
                ),
            ));
        }
        let mut boxed = Box::new(Zeroizing::new([0u8; MAX_SECRET_LEN]));
        boxed[..len].copy_from_slice(secret);
        Ok(Self {
            suite,
            aead: aead_of(suite)?,
            secret: boxed,
            len: len as u8,
            in_step: false,
        })
    }

    /// RFC 8446 §7.3: "The traffic keying material is generated from an input traffic secret
    /// value using:
    /// ```text
    /// [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
    /// [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
    /// ```"
    pub(crate) fn record_cipher(&self) -> RecordCipher {
        RecordCipher::tls13(self.aead, |key, iv| self.derive_key_and_iv(key, iv))
    }

    /// This generation's traffic key and IV (RFC 8446 §7.3, above), into `key` and `iv`.
    fn derive_key_and_iv(&self, key: &mut [u8], iv: &mut [u8]) {
        let secret = &self.secret[..usize::from(self.len)];
        let expander = self
            .suite
            .hkdf_provider
            .expander_for_okm(&OkmBlock::new(secret));
        expand_label_with(&*expander, b"key", &[], key);
        expand_label_with(&*expander, b"iv", &[], iv);
    }

    /// Let `cipher`, this generation's, go idle: drop its key schedule and, the first time
    /// this generation goes idle, the traffic key and IV too ([`restore_keys`] derives them
    /// again for the next record). Once restored they stay until the next generation: a
    /// connection that is used again after its first quiet spell is likely used on and on, and
    /// every restore costs two derivations and allocations, which a connection that ramps up
    /// (going idle a few times before it counts as chatty) would otherwise pay each time.
    ///
    /// Before the keys are first dropped, this secret must be found to give them (the check
    /// [`next`] would make at the first KeyUpdate); a secret that does not (which the
    /// hand-over is built never to allow) leaves them in place.
    ///
    /// [`restore_keys`]: Self::restore_keys
    /// [`next`]: Self::next
    pub(crate) fn forget_keys(&mut self, cipher: &mut RecordCipher) {
        if !self.in_step && cipher.has_keys() {
            self.in_step = self.gives_keys_of(cipher);
        }
        if self.in_step && !cipher.was_restored() {
            cipher.forget();
        } else {
            cipher.release();
        }
    }

    /// Whether this secret gives `cipher`'s key and IV (compared in constant time), derived
    /// into a zeroized block on the stack.
    fn gives_keys_of(&self, cipher: &RecordCipher) -> bool {
        let mut derived = Zeroizing::new([0u8; 32 + 12]);
        let (key, iv) = derived.split_at_mut(32);
        let key = &mut key[..self.aead.key_len()];
        self.derive_key_and_iv(key, iv);
        cipher.has_key_and_iv(self.aead, key, iv)
    }

    /// Derive `cipher`'s traffic key and IV again if [`forget_keys`](Self::forget_keys)
    /// dropped them.
    pub(crate) fn restore_keys(&self, cipher: &mut RecordCipher) {
        if !cipher.has_keys() {
            cipher.restore(|key, iv| self.derive_key_and_iv(key, iv));
        }
    }

    /// RFC 8446 §7.2: "application_traffic_secret_N+1 =
    /// HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)".
    fn step(&mut self) {
        let mut next = Zeroizing::new([0u8; MAX_SECRET_LEN]);
        expand_label(
            self.suite,
            &self.secret[..usize::from(self.len)],
            b"traffic upd",
            &[],
            &mut next[..usize::from(self.len)],
        );
        self.secret[..usize::from(self.len)].copy_from_slice(&next[..usize::from(self.len)]);
    }

    /// The secret and cipher of the generation after the one `current` protects with; `self`
    /// is left as it is, so a KeyUpdate that cannot be sent changes nothing. The first time,
    /// the secret must first be found to give `current`'s keys: a failure here means the key
    /// log and the extracted keys disagree, which the hand-over is built never to allow.
    pub(crate) fn next(&self, current: &RecordCipher) -> Result<(Self, RecordCipher), Error> {
        if !self.in_step && !self.gives_keys_of(current) {
            return Err(Error::new(
                Status::InternalError,
                "the logged traffic secret does not give the keys rustls extracted",
            ));
        }
        let mut next = Self {
            in_step: true,
            ..self.clone()
        };
        next.step();
        let cipher = next.record_cipher();
        Ok((next, cipher))
    }
}

/// One direction's keys as the handshake hands them over.
#[derive(Clone, Debug)]
pub(crate) struct DirectionKeys {
    /// The next record's sequence number.
    pub(crate) seq: u64,
    pub(crate) cipher: RecordCipher,
    /// The traffic secret, on TLS 1.3; TLS 1.2 has no KeyUpdate.
    pub(crate) secret: Option<TrafficSecret>,
}

impl DirectionKeys {
    /// The keys rustls extracted, and on TLS 1.3 the traffic secret the key log reported (checked
    /// against them at the first KeyUpdate, [`TrafficSecret::next`]).
    pub(crate) fn new(
        suite: SupportedCipherSuite,
        extracted: (u64, ConnectionTrafficSecrets),
        logged: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let (seq, extracted) = extracted;
        let secret = match suite {
            SupportedCipherSuite::Tls12(_) => None,
            SupportedCipherSuite::Tls13(suite13) => {
                let logged = logged.ok_or_else(|| {
                    Error::new(
                        Status::InternalError,
                        "the key log did not report this direction's traffic secret",
                    )
                })?;
                Some(TrafficSecret::new(suite13, logged)?)
            }
        };
        Ok(Self {
            seq,
            cipher: RecordCipher::new(&extracted, secret.is_some())?,
            secret,
        })
    }

    /// Keys from a fixed secret (TLS 1.3) or the fixed traffic keys `tls12` (TLS 1.2), for
    /// the fuzzing entry point.
    #[cfg(any(fuzzing, test))]
    pub(crate) fn fixed(
        suite: SupportedCipherSuite,
        tls12: &ConnectionTrafficSecrets,
    ) -> Result<Self, Error> {
        match suite {
            SupportedCipherSuite::Tls13(suite13) => {
                let len = suite13.common.hash_provider.output_len();
                let mut secret = TrafficSecret::new(suite13, &[7u8; MAX_SECRET_LEN][..len])?;
                // The cipher is derived from this very secret: nothing to check later.
                secret.in_step = true;
                Ok(Self {
                    seq: 0,
                    cipher: secret.record_cipher(),
                    secret: Some(secret),
                })
            }
            SupportedCipherSuite::Tls12(_) => Ok(Self {
                seq: 0,
                cipher: RecordCipher::new(tls12, false)?,
                secret: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use rustls::crypto::cipher::{AeadKey, Iv};

    use super::*;
    use crate::provider::rustls_crypto::cipher_suite;

    fn tls13(suite: SupportedCipherSuite) -> &'static Tls13CipherSuite {
        match suite {
            SupportedCipherSuite::Tls13(suite) => suite,
            SupportedCipherSuite::Tls12(_) => unreachable!("a TLS 1.3 suite"),
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A client application traffic secret and its AES-128-GCM key and IV, generated with
    /// OpenSSL (the vectors of rustls's `tls13::key_schedule` tests); the next generation
    /// computed independently with Python's `hmac` module (HKDF-Expand-Label by hand).
    #[test]
    fn derives_openssls_keys_and_ratchets_to_the_next_generation() {
        let secret = hex("c14a6d7976d8102b5a0c9951493fee87dcaff82c24cab214e8be71a8206dbda5");
        let suite = tls13(cipher_suite::TLS13_AES_128_GCM_SHA256);
        let ats = TrafficSecret::new(suite, &secret).unwrap();
        let first = ats.record_cipher();
        assert_eq!(
            first.key_and_iv().0,
            hex("cc9f5f980b5f10306cbad7be98d7572e")
        );
        assert_eq!(first.key_and_iv().1, hex("b80929e8d02c70f61162ed6b"));
        let (next_ats, next) = ats.next(&first).unwrap();
        assert_eq!(next.key_and_iv().0, hex("d7fc961a8a8a7d86d5c6ef6bcdb9012b"));
        assert_eq!(next.key_and_iv().1, hex("cbf2586d2fd1f022ace10dc0"));
        assert_eq!(
            &next_ats.secret[..32],
            hex("a8c713cb95053376505685bcd3d7924c45a8169a0eafc750122966064301249e")
        );
        assert_eq!(
            &ats.secret[..32],
            secret,
            "the old generation is left as it was"
        );
    }

    fn extracted(cipher: &RecordCipher) -> ConnectionTrafficSecrets {
        let (key, iv) = cipher.key_and_iv();
        ConnectionTrafficSecrets::Chacha20Poly1305 {
            key: AeadKey::from(<[u8; 32]>::try_from(key).unwrap()),
            iv: Iv::copy(iv),
        }
    }

    /// The first KeyUpdate checks that the logged secret gives the extracted keys; from then on
    /// each generation follows from the last.
    #[test]
    fn the_logged_secret_is_checked_against_the_extracted_keys() {
        let suite = cipher_suite::TLS13_CHACHA20_POLY1305_SHA256;
        let logged = [3u8; 32];
        let mut reference = TrafficSecret::new(tls13(suite), &logged).unwrap();
        let first = reference.record_cipher();
        let keys = DirectionKeys::new(suite, (5, extracted(&first)), Some(&logged)).unwrap();
        assert_eq!(keys.seq, 5);
        assert!(keys.cipher.same_keys(&first));
        let (secret, second) = keys.secret.unwrap().next(&keys.cipher).unwrap();
        reference.step();
        assert!(second.same_keys(&reference.record_cipher()));
        let (_, third) = secret.next(&second).unwrap();
        reference.step();
        assert!(third.same_keys(&reference.record_cipher()));

        // A secret one generation ahead of the extracted keys (as if rustls had ratcheted on
        // its own) is refused, not followed.
        let keys = DirectionKeys::new(suite, (0, extracted(&second)), Some(&logged)).unwrap();
        let err = keys.secret.unwrap().next(&keys.cipher).unwrap_err();
        assert_eq!(err.status(), Status::InternalError);

        let unrelated = TrafficSecret::new(tls13(suite), &[4u8; 32]).unwrap();
        let keys = DirectionKeys::new(
            suite,
            (0, extracted(&unrelated.record_cipher())),
            Some(&logged),
        )
        .unwrap();
        let err = keys.secret.unwrap().next(&keys.cipher).unwrap_err();
        assert_eq!(err.status(), Status::InternalError);
        let err = DirectionKeys::new(suite, (0, extracted(&first)), None).unwrap_err();
        assert_eq!(err.status(), Status::InternalError);
        assert!(
            TrafficSecret::new(tls13(suite), &[0u8; 48]).is_err(),
            "SHA-256 secrets are 32 bytes"
        );
    }
}
