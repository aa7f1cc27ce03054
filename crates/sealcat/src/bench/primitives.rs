//! The raw rate of a SASL layer's primitives on one core, timed on the same full frames the
//! layer carries, so the layer's figure can be read as a share of its crypto's ceiling.
//!
//! - DIGEST-MD5: HMAC-MD5 over the sequence number and the payload; RC4 over payload and MAC,
//!   or 3DES-CBC over payload, padding and MAC.
//! - Kerberos, `aes256-cts-hmac-sha1-96` (RFC 3962, RFC 4121): a sealed token is HMAC-SHA1-96
//!   and AES-256-CBC-CTS over confounder, payload and token header (32 bytes more than the
//!   payload); a signed token is HMAC-SHA1-96 over payload and header. The keyed HMAC state is
//!   made once and cloned per frame, as the layer does.
//! - NTLM (MS-NLMP §3.4.4.2): HMAC-MD5 over the sequence number and the payload, the keyed
//!   state made once and cloned per frame as the layer does; sealed, RC4 over payload and the 8-byte checksum, one keystream
//!   continuing; signed, RC4 over the checksum alone (counted with the MAC).

use std::time::{Duration, Instant};

use aes::Aes256;
use aes::cipher::{InnerIvInit, KeyInit};
use cts::Encrypt;
use des::TdesEde2;
use des::cipher::array::Array;
use des::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, Mac};
use md5::Md5;
use rc4::{Rc4, StreamCipher};
use sha1::Sha1;

use super::check::Pattern;
use super::sasl::SaslLayer;

/// The primitives' own rates on one core, MB/s of frame payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PrimitiveRates {
    /// The MAC's name and rate over what the layer authenticates per frame.
    pub(crate) mac: (&'static str, f64),
    /// The cipher's name and rate over what the layer encrypts (confidentiality layers only).
    pub(crate) cipher: Option<(&'static str, f64)>,
    /// Both, one after the other: one direction's whole cryptographic work.
    pub(crate) combined: f64,
}

/// Frames done and time taken by one primitive figure.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    frames: u64,
    time: Duration,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.frames += other.frames;
        self.time += other.time;
    }

    fn rate(&self, payload: usize) -> f64 {
        self.frames as f64 * payload as f64 / self.time.as_secs_f64().max(1e-9) / 1e6
    }
}

/// The key every primitive runs with (the keys' values do not change the work).
const KEY: [u8; 32] = [0x5a; 32];

/// The keyed state of a layer's primitives.
enum Primitives {
    Digest {
        rc4: Box<Rc4>,
        tdes: Box<cbc::Encryptor<TdesEde2>>,
        seq: u32,
    },
    Krb5 {
        aes: Box<Aes256>,
        hmac: Hmac<Sha1>,
    },
    Ntlm {
        rc4: Box<Rc4>,
        hmac: Hmac<Md5>,
        seq: u32,
    },
}

/// Times the primitives of a layer on full frames of pattern bytes, a slice at a time.
///
/// The bench takes a slice before each of its interleaved rounds, so the primitives and the
/// layer are timed over the same stretch of the run. Timed once before the rounds, their rate
/// moved from 440 to 483 MB/s between runs on this machine, more than the margin the layer is
/// judged by; a slice follows whatever round ran last (the layer's, or plain TCP's).
pub(crate) struct PrimitiveMeter {
    layer: SaslLayer,
    payload: usize,
    frame: Vec<u8>,
    primitives: Primitives,
    mac: Tally,
    cipher: Tally,
    combined: Tally,
}

/// Room around the payload for what the primitives run over besides it.
const HEADROOM: usize = 64;

impl PrimitiveMeter {
    pub(crate) fn new(layer: SaslLayer) -> Self {
        let payload = layer.frame_payload();
        let mut frame = vec![0u8; payload + HEADROOM];
        Pattern::default().fill(&mut frame);
        let primitives = match layer {
            SaslLayer::Krb5Int | SaslLayer::Krb5Conf => Primitives::Krb5 {
                aes: Box::new(Aes256::new_from_slice(&KEY).expect("a 32-byte key")),
                hmac: <Hmac<Sha1> as KeyInit>::new_from_slice(&KEY[..32])
                    .expect("HMAC takes any key"),
            },
            SaslLayer::NtlmSeal | SaslLayer::NtlmSign => Primitives::Ntlm {
                rc4: Box::new(Rc4::new_from_slice(&KEY[..16]).expect("a 16-byte key")),
                hmac: <Hmac<Md5> as KeyInit>::new_from_slice(&KEY[..16])
                    .expect("HMAC takes any key"),
                seq: 0,
            },
            _ => Primitives::Digest {
                rc4: Box::new(Rc4::new_from_slice(&KEY[..16]).expect("a 16-byte key")),
                tdes: Box::new(
                    KeyIvInit::new_from_slices(&KEY[..16], &KEY[..8])
                        .expect("16-byte key, 8-byte IV"),
                ),
                seq: 0,
            },
        };
        Self {
            layer,
            payload,
            frame,
            primitives,
            mac: Tally::default(),
            cipher: Tally::default(),
            combined: Tally::default(),
        }
    }

    fn names(&self) -> (&'static str, Option<&'static str>) {
        match self.layer {
            SaslLayer::DigestInt => ("HMAC-MD5", None),
            SaslLayer::DigestConfRc4 => ("HMAC-MD5", Some("RC4")),
            SaslLayer::DigestConf3des => ("HMAC-MD5", Some("3DES-CBC")),
            SaslLayer::Krb5Int => ("HMAC-SHA1-96", None),
            SaslLayer::Krb5Conf => ("HMAC-SHA1-96", Some("AES-256-CTS")),
            SaslLayer::NtlmSeal => ("HMAC-MD5", Some("RC4")),
            SaslLayer::NtlmSign => ("HMAC-MD5", None),
        }
    }

    /// Time each of the layer's figures for an equal share of `slice`.
    pub(crate) fn sample(&mut self, slice: Duration) {
        if self.names().1.is_none() {
            // The MAC is the whole work: the combined figure is the MAC's.
            let tally = self.timed(slice, |m| m.mac_once());
            self.mac.add(tally);
            self.combined.add(tally);
            return;
        }
        let share = slice / 3;
        let tally = self.timed(share, |m| m.mac_once());
        self.mac.add(tally);
        let tally = self.timed(share, |m| m.cipher_once());
        self.cipher.add(tally);
        let tally = self.timed(share, |m| {
            m.mac_once();
            m.cipher_once();
        });
        self.combined.add(tally);
    }

    /// The rates over every slice so far.
    pub(crate) fn rates(&self) -> PrimitiveRates {
        let (mac, cipher) = self.names();
        PrimitiveRates {
            mac: (mac, self.mac.rate(self.payload)),
            cipher: cipher.map(|name| (name, self.cipher.rate(self.payload))),
            combined: self.combined.rate(self.payload),
        }
    }

    /// Run `work` on whole frames for about `slice` (at least one frame).
    fn timed(&mut self, slice: Duration, mut work: impl FnMut(&mut Self)) -> Tally {
        let start = Instant::now();
        let mut frames = 0;
        while frames == 0 || start.elapsed() < slice {
            work(self);
            frames += 1;
        }
        Tally {
            frames,
            time: start.elapsed(),
        }
    }

    /// The bytes a token of this layer authenticates and encrypts: DIGEST-MD5 the payload;
    /// a sealed Kerberos token confounder, payload and header; a signed one payload and header.
    fn protected_len(&self) -> usize {
        match self.layer {
            SaslLayer::Krb5Conf => self.payload + 32,
            SaslLayer::Krb5Int => self.payload + 16,
            _ => self.payload,
        }
    }

    fn mac_once(&mut self) {
        let len = self.protected_len();
        match &mut self.primitives {
            Primitives::Digest { seq, .. } => {
                // Over the sequence number and the payload, a MAC keyed per frame.
                let mut h =
                    <Hmac<Md5> as KeyInit>::new_from_slice(&KEY[..16]).expect("any key length");
                h.update(&seq.to_be_bytes());
                h.update(&self.frame[..len]);
                let mac = h.finalize().into_bytes();
                self.frame[len..len + 10].copy_from_slice(&mac[..10]);
                *seq = seq.wrapping_add(1);
            }
            Primitives::Krb5 { hmac, .. } => {
                let mut h = hmac.clone();
                h.update(&self.frame[..len]);
                let mac = h.finalize().into_bytes();
                self.frame[len..len + 12].copy_from_slice(&mac[..12]);
            }
            Primitives::Ntlm { rc4, hmac, seq } => {
                let mut h = hmac.clone();
                h.update(&seq.to_le_bytes());
                h.update(&self.frame[..len]);
                let mac = h.finalize().into_bytes();
                self.frame[len..len + 8].copy_from_slice(&mac[..8]);
                if self.layer == SaslLayer::NtlmSign {
                    // Signing alone still seals the checksum with the keystream.
                    rc4.apply_keystream(&mut self.frame[len..len + 8]);
                }
                *seq = seq.wrapping_add(1);
            }
        }
    }

    fn cipher_once(&mut self) {
        let len = self.protected_len();
        match &mut self.primitives {
            // RC4 runs over payload and MAC; 3DES over payload, padding and MAC, a multiple of 8.
            Primitives::Digest { rc4, tdes, .. } => match self.layer {
                SaslLayer::DigestConfRc4 => rc4.apply_keystream(&mut self.frame[..len + 10]),
                _ => {
                    let len = (len + 10).div_ceil(8) * 8;
                    let (blocks, _) = Array::slice_as_chunks_mut(&mut self.frame[..len]);
                    tdes.encrypt_blocks(blocks);
                }
            },
            // RC4 over payload and checksum, the one keystream of the direction.
            Primitives::Ntlm { rc4, .. } => rc4.apply_keystream(&mut self.frame[..len + 8]),
            // CBC with ciphertext stealing and a zero IV over confounder, payload and header.
            Primitives::Krb5 { aes, .. } => {
                let iv = [0u8; 16].into();
                let done = cts::CbcCs3::inner_iv_init(&**aes, &iv).encrypt(&mut self.frame[..len]);
                debug_assert!(done.is_ok(), "a frame is many blocks");
            }
        }
    }
}
