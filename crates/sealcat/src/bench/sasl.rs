//! `sealcat bench --sealer digest-md5-*`: the DIGEST-MD5 layers as the sealer under test, and
//! the raw rate of their primitives on the same bytes, so the layer's cost beyond its crypto is
//! visible.
//!
//! Each connection runs the real exchange over loopback with sealcat's line protocol (the same
//! code as `connect --sasl` and `listen --sasl`), then moves data through the negotiated layer
//! in 64 KiB frames (both sides' maxbuf).

use std::time::{Duration, Instant};

use des::TdesEde2;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use md5::Md5;
use rc4::consts::U16;
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

/// Measure the primitives of `layer` on full frames of pattern bytes for about `duration`
/// (split between the three figures).
pub(crate) fn primitive_rates(layer: DigestLayer, duration: Duration) -> PrimitiveRates {
    let payload = layer.frame_payload();
    let mut frame = vec![0u8; payload + 24];
    Pattern::default().fill(&mut frame[..payload]);
    let slice = duration / 3;
    let key = [0x5au8; 16];

    let hmac_once = |frame: &mut [u8], seq: u32| {
        let mut h = <Hmac<Md5> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
        h.update(&seq.to_be_bytes());
        h.update(&frame[..payload]);
        let mac = h.finalize().into_bytes();
        frame[payload..payload + 10].copy_from_slice(&mac[..10]);
    };
    let mut rc4 = Rc4::<U16>::new(GenericArray::from_slice(&key));
    let tdes = TdesEde2::new_from_slice(&key).expect("16-byte key");
    let mut iv = [0u8; 8];
    // RC4 runs over payload and MAC; 3DES over payload, padding and MAC, a multiple of 8.
    let conf_len = match layer {
        DigestLayer::Int => 0,
        DigestLayer::ConfRc4 => payload + 10,
        DigestLayer::Conf3des => (payload + 10).div_ceil(8) * 8,
    };
    let mut cipher_once = |frame: &mut [u8]| match layer {
        DigestLayer::Int => {}
        DigestLayer::ConfRc4 => rc4.apply_keystream(&mut frame[..conf_len]),
        DigestLayer::Conf3des => {
            for block in frame[..conf_len].chunks_exact_mut(8) {
                block.iter_mut().zip(iv.iter()).for_each(|(b, v)| *b ^= v);
                tdes.encrypt_block(GenericArray::from_mut_slice(block));
                iv.copy_from_slice(block);
            }
        }
    };

    let rate = |work: &mut dyn FnMut(&mut [u8], u32), frame: &mut [u8]| {
        let start = Instant::now();
        let mut frames = 0u32;
        while start.elapsed() < slice || frames == 0 {
            work(frame, frames);
            frames += 1;
        }
        frames as f64 * payload as f64 / start.elapsed().as_secs_f64() / 1e6
    };
    let hmac_md5 = rate(&mut |f, seq| hmac_once(f, seq), &mut frame);
    let cipher = (layer != DigestLayer::Int).then(|| rate(&mut |f, _| cipher_once(f), &mut frame));
    let combined = rate(
        &mut |f, seq| {
            hmac_once(f, seq);
            cipher_once(f);
        },
        &mut frame,
    );
    PrimitiveRates {
        hmac_md5,
        cipher,
        combined,
    }
}
