//! `sealcat bench --sealer digest-md5-*`: the DIGEST-MD5 layers as the sealer under test, and
//! the raw rate of their primitives on the same bytes, so the layer's cost beyond its crypto is
//! visible.
//!
//! Each connection runs the real exchange over loopback with sealcat's line protocol (the same
//! code as `connect --sasl` and `listen --sasl`), then moves data through the negotiated layer
//! in 64 KiB frames (both sides' maxbuf).

use std::time::{Duration, Instant};

use des::TdesEde2;
use des::cipher::array::Array;
use des::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use rc4::{Rc4, StreamCipher};
use sealstream_sasl::digest::{
    Cipher, DigestClient, DigestClientConfig, DigestQop, DigestServer, DigestServerConfig,
    LayerChoice,
};
use sealstream_sasl::{ClientMechanism, ServerMechanism};

use super::check::Pattern;
use crate::net::sasl::{OneUser, SERVICE};

/// The maxbuf both sides announce: frames of 64 KiB, as Cyrus and slapd default to.
pub(crate) const MAXBUF: u32 = 65536;

/// The two ends of one exchange.
pub(crate) type MechanismPair = (Box<dyn ClientMechanism>, Box<dyn ServerMechanism>);

/// A DIGEST-MD5 layer to benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DigestLayer {
    /// auth-int: HMAC-MD5 per frame.
    Int,
    /// auth-conf with rc4: HMAC-MD5 and RC4.
    ConfRc4,
    /// auth-conf with 3des: HMAC-MD5 and two-key triple DES in CBC mode.
    Conf3des,
}

impl DigestLayer {
    pub(crate) const ALL: [DigestLayer; 3] = [
        DigestLayer::Int,
        DigestLayer::ConfRc4,
        DigestLayer::Conf3des,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            DigestLayer::Int => "digest-md5-int",
            DigestLayer::ConfRc4 => "digest-md5-conf-rc4",
            DigestLayer::Conf3des => "digest-md5-conf-3des",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    fn qop(self) -> DigestQop {
        match self {
            DigestLayer::Int => DigestQop::AuthInt,
            DigestLayer::ConfRc4 => DigestQop::AuthConf(Cipher::Rc4),
            DigestLayer::Conf3des => DigestQop::AuthConf(Cipher::TripleDes),
        }
    }

    /// Plaintext bytes in one full frame: maxbuf less the length, MAC, type, sequence number
    /// and (3DES) the largest padding.
    pub(crate) fn frame_payload(self) -> usize {
        let overhead = 4 + 16 + if self == DigestLayer::Conf3des { 8 } else { 0 };
        MAXBUF as usize - overhead
    }

    /// A client and a server mechanism that can only agree on this layer.
    pub(crate) fn mechanisms(self) -> Result<MechanismPair, String> {
        let choice = match self.qop() {
            DigestQop::AuthConf(cipher) => LayerChoice::AuthConf(Some(cipher)),
            _ => LayerChoice::AuthInt,
        };
        let mut props = choice.properties(false).map_err(|e| e.to_string())?;
        props.maxbuf = MAXBUF;
        let mut client = DigestClientConfig::new("bench", "bench password", SERVICE, "localhost");
        client.props = props.clone();
        let mut server = DigestServerConfig::new(SERVICE, "localhost", "localhost");
        server.props = props;
        let users = std::sync::Arc::new(OneUser::new("bench", "bench password"));
        Ok((
            Box::new(DigestClient::new(client)),
            Box::new(DigestServer::new(server, users)),
        ))
    }
}

/// The primitives' own rates on one core, MB/s of frame payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PrimitiveRates {
    /// HMAC-MD5 over the sequence number and the payload, as auth-int and auth-conf compute it.
    pub(crate) hmac_md5: f64,
    /// The cipher alone over payload, padding and MAC (auth-conf only).
    pub(crate) cipher: Option<f64>,
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

/// Times the primitives of a layer on full frames of pattern bytes, a slice at a time.
///
/// The bench takes a slice before each of its interleaved rounds, so the primitives and the
/// layer are timed over the same stretch of the run. Timed once before the rounds, their rate
/// moved from 440 to 483 MB/s between runs on this machine, more than the margin the layer is
/// judged by; a slice follows whatever round ran last (the layer's, or plain TCP's).
pub(crate) struct PrimitiveMeter {
    layer: DigestLayer,
    frame: Vec<u8>,
    rc4: Rc4,
    tdes: cbc::Encryptor<TdesEde2>,
    seq: u32,
    hmac: Tally,
    cipher: Tally,
    combined: Tally,
}

/// The key every primitive runs with (the keys' values do not change the work).
const KEY: [u8; 16] = [0x5a; 16];

impl PrimitiveMeter {
    pub(crate) fn new(layer: DigestLayer) -> Self {
        let payload = layer.frame_payload();
        let mut frame = vec![0u8; payload + 24];
        Pattern::default().fill(&mut frame[..payload]);
        Self {
            layer,
            frame,
            rc4: Rc4::new_from_slice(&KEY).expect("a 16-byte key"),
            tdes: KeyIvInit::new_from_slices(&KEY, &KEY[..8]).expect("16-byte key, 8-byte IV"),
            seq: 0,
            hmac: Tally::default(),
            cipher: Tally::default(),
            combined: Tally::default(),
        }
    }

    /// Time each of the layer's figures for an equal share of `slice`.
    pub(crate) fn sample(&mut self, slice: Duration) {
        if self.layer == DigestLayer::Int {
            // The MAC is the whole work: the combined figure is the MAC's.
            let tally = self.timed(slice, |m| m.hmac_once());
            self.hmac.add(tally);
            self.combined.add(tally);
            return;
        }
        let share = slice / 3;
        let tally = self.timed(share, |m| m.hmac_once());
        self.hmac.add(tally);
        let tally = self.timed(share, |m| m.cipher_once());
        self.cipher.add(tally);
        let tally = self.timed(share, |m| {
            m.hmac_once();
            m.cipher_once();
        });
        self.combined.add(tally);
    }

    /// The rates over every slice so far.
    pub(crate) fn rates(&self) -> PrimitiveRates {
        let payload = self.layer.frame_payload();
        PrimitiveRates {
            hmac_md5: self.hmac.rate(payload),
            cipher: (self.layer != DigestLayer::Int).then(|| self.cipher.rate(payload)),
            combined: self.combined.rate(payload),
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

    // The MAC as auth-int and auth-conf compute it: over the sequence number and the payload.
    fn hmac_once(&mut self) {
        let payload = self.layer.frame_payload();
        let mut h = <Hmac<Md5> as KeyInit>::new_from_slice(&KEY).expect("HMAC takes any key");
        h.update(&self.seq.to_be_bytes());
        h.update(&self.frame[..payload]);
        let mac = h.finalize().into_bytes();
        self.frame[payload..payload + 10].copy_from_slice(&mac[..10]);
        self.seq = self.seq.wrapping_add(1);
    }

    // RC4 runs over payload and MAC; 3DES over payload, padding and MAC, a multiple of 8.
    fn cipher_once(&mut self) {
        let payload = self.layer.frame_payload();
        match self.layer {
            DigestLayer::Int => {}
            DigestLayer::ConfRc4 => self.rc4.apply_keystream(&mut self.frame[..payload + 10]),
            DigestLayer::Conf3des => {
                let len = (payload + 10).div_ceil(8) * 8;
                let (blocks, _) = Array::slice_as_chunks_mut(&mut self.frame[..len]);
                self.tdes.encrypt_blocks(blocks);
            }
        }
    }
}
