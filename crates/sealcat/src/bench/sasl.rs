//! `sealcat bench --sealer digest-md5-*|krb5-aes256-*|ntlm-*`: a SASL security layer as the sealer
//! under test, beside the raw rate of its primitives (`primitives.rs`), so the layer's cost
//! beyond its crypto is visible.
//!
//! Each connection runs the real exchange over loopback with sealcat's line protocol (the same
//! code as `connect --sasl` and `listen --sasl`), then moves data through the negotiated layer
//! in 64 KiB frames (both sides' maxbuf).
//!
//! The Kerberos layers run SASL GSSAPI (RFC 4752) with `aes256-cts-hmac-sha1-96` session keys.
//! Their tickets are made in process by a `TicketIssuer` holding a service key the bench draws
//! at random, so the bench needs no KDC; the AP-REQ, the AP-REP, the layer negotiation and the
//! layer are the same code a KDC's ticket goes through.
//!
//! The NTLM layers run SASL NTLM (as Samba's directory offers it) with a password. `ntlm-seal`
//! is the layer a directory gets whether it negotiated signing or sealing (RC4 and
//! HMAC-MD5); `ntlm-sign` leaves the data in clear behind a signature, which only two ends of
//! this project agree to (`seal_when_signing(false)` on both).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use sealstream::Seal;
use sealstream::sasl::FramedSeal;
use sealstream_krb5::gss::{Acceptor, AcceptorOptions};
use sealstream_krb5::kdc::TicketIssuer;
use sealstream_krb5::sasl::{GssapiClient, GssapiServer};
use sealstream_krb5::{Enctype, Key, LayerOptions, Principal, Protection, Role, SecurityContext};
use sealstream_ntlm::sasl::{NtlmClient, NtlmServer};
use sealstream_sasl::digest::{
    Cipher, DigestClient, DigestClientConfig, DigestServer, DigestServerConfig, LayerChoice,
};
use sealstream_sasl::{ClientMechanism, SecurityProperties, ServerMechanism};

use super::error::{BenchError, BenchResult};
use crate::net::sasl::{OneUser, SERVICE};

/// The maxbuf both sides announce: frames of 64 KiB, as Cyrus and slapd default to.
pub(crate) const MAXBUF: u32 = 65536;

/// The two ends of one exchange.
pub(crate) type MechanismPair = (Box<dyn ClientMechanism>, Box<dyn ServerMechanism>);

/// The Kerberos layers' encryption type, for the service key and the session keys.
pub(crate) const KRB5_ENCTYPE: Enctype = Enctype::Aes256CtsHmacSha196;

/// The realm of the bench's in-process tickets.
const REALM: &str = "SEALCAT.BENCH";

/// A SASL layer to benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SaslLayer {
    /// DIGEST-MD5 auth-int: HMAC-MD5 per frame.
    DigestInt,
    /// DIGEST-MD5 auth-conf with rc4: HMAC-MD5 and RC4.
    DigestConfRc4,
    /// DIGEST-MD5 auth-conf with 3des: HMAC-MD5 and two-key triple DES in CBC mode.
    DigestConf3des,
    /// SASL GSSAPI integrity: RFC 4121 Wrap tokens without confidentiality (HMAC-SHA1-96).
    Krb5Int,
    /// SASL GSSAPI confidentiality: sealed Wrap tokens (AES-256-CTS and HMAC-SHA1-96).
    Krb5Conf,
    /// SASL NTLM, sealed: RC4 over data and checksum, HMAC-MD5.
    NtlmSeal,
    /// SASL NTLM, signed only: HMAC-MD5, RC4 over the 8-byte checksum.
    NtlmSign,
}

impl SaslLayer {
    pub(crate) const ALL: [SaslLayer; 7] = [
        SaslLayer::DigestInt,
        SaslLayer::DigestConfRc4,
        SaslLayer::DigestConf3des,
        SaslLayer::Krb5Int,
        SaslLayer::Krb5Conf,
        SaslLayer::NtlmSeal,
        SaslLayer::NtlmSign,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            SaslLayer::DigestInt => "digest-md5-int",
            SaslLayer::DigestConfRc4 => "digest-md5-conf-rc4",
            SaslLayer::DigestConf3des => "digest-md5-conf-3des",
            SaslLayer::Krb5Int => "krb5-aes256-int",
            SaslLayer::Krb5Conf => "krb5-aes256-conf",
            SaslLayer::NtlmSeal => "ntlm-seal",
            SaslLayer::NtlmSign => "ntlm-sign",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The mechanism, as the primitives' heading names it.
    pub(crate) fn mechanism(self) -> &'static str {
        match self {
            SaslLayer::Krb5Int | SaslLayer::Krb5Conf => {
                "Kerberos (SASL GSSAPI, aes256-cts-hmac-sha1-96)"
            }
            SaslLayer::NtlmSeal | SaslLayer::NtlmSign => "NTLM (SASL NTLM)",
            _ => "DIGEST-MD5",
        }
    }

    /// Plaintext bytes in one full frame.
    pub(crate) fn frame_payload(self) -> usize {
        match self {
            // maxbuf less the length, MAC, type, sequence number and (3DES) the largest padding.
            SaslLayer::DigestInt | SaslLayer::DigestConfRc4 => MAXBUF as usize - 4 - 16,
            SaslLayer::DigestConf3des => MAXBUF as usize - 4 - 16 - 8,
            // What the layer itself reports for a peer maxbuf of MAXBUF.
            SaslLayer::Krb5Int => krb5_frame_payload(Protection::Integrity),
            SaslLayer::Krb5Conf => krb5_frame_payload(Protection::Confidentiality),
            // The NTLM client sends frames of at most 64 KiB: length and signature before data.
            SaslLayer::NtlmSeal | SaslLayer::NtlmSign => {
                sealstream_ntlm::sasl::SEND_FRAME as usize - 4 - sealstream_ntlm::SIGNATURE_LEN
            }
        }
    }

    /// A client and a server mechanism that can only agree on this layer.
    pub(crate) fn mechanisms(self) -> BenchResult<MechanismPair> {
        match self {
            SaslLayer::DigestInt => digest(LayerChoice::AuthInt),
            SaslLayer::DigestConfRc4 => digest(LayerChoice::AuthConf(Some(Cipher::Rc4))),
            SaslLayer::DigestConf3des => digest(LayerChoice::AuthConf(Some(Cipher::TripleDes))),
            SaslLayer::Krb5Int => gssapi(1, 1),
            SaslLayer::Krb5Conf => gssapi(2, 256),
            SaslLayer::NtlmSeal => ntlm(true),
            SaslLayer::NtlmSign => ntlm(false),
        }
    }
}

/// An NTLM client and server that settle sealing (`seal`) or signing with data in clear.
fn ntlm(seal: bool) -> BenchResult<MechanismPair> {
    let (min_ssf, max_ssf) = if seal { (2, 256) } else { (1, 1) };
    let props = SecurityProperties {
        min_ssf,
        max_ssf,
        maxbuf: MAXBUF,
        ..SecurityProperties::default()
    };
    let credentials = sealstream_ntlm::Credentials::with_password(r"BENCH\bench", "bench password")
        .map_err(BenchError::setup)?;
    let hash = sealstream_ntlm::NtHash::from_password("bench password");
    let lookup = move |_: &str, _: &str| Some(hash.clone());
    let options = sealstream_ntlm::AcceptorOptions::new("BENCH", "SEALCAT");
    Ok((
        Box::new(NtlmClient::new(credentials, props.clone()).seal_when_signing(seal)),
        Box::new(NtlmServer::new(options, Arc::new(lookup), props).seal_when_signing(seal)),
    ))
}

/// A DIGEST-MD5 client and server that can only agree on `choice`.
fn digest(choice: LayerChoice) -> BenchResult<MechanismPair> {
    let mut props = choice.properties(false).map_err(BenchError::setup)?;
    props.maxbuf = MAXBUF;
    let mut client = DigestClientConfig::new("bench", "bench password", SERVICE, "localhost");
    client.props = props.clone();
    let mut server = DigestServerConfig::new(SERVICE, "localhost", "localhost");
    server.props = props;
    let users = Arc::new(OneUser::new("bench", "bench password"));
    Ok((
        Box::new(DigestClient::new(client)),
        Box::new(DigestServer::new(server, users)),
    ))
}

/// The service the Kerberos layers authenticate to.
fn krb5_service() -> Principal {
    Principal::service(SERVICE, "localhost", REALM)
}

/// The issuer of the bench's tickets: one random service key for the whole process, so that
/// the client and the server ends, made separately, agree on it.
fn issuer() -> BenchResult<&'static TicketIssuer> {
    static ISSUER: OnceLock<BenchResult<TicketIssuer>> = OnceLock::new();
    ISSUER
        .get_or_init(|| {
            TicketIssuer::with_random_key(krb5_service(), KRB5_ENCTYPE).map_err(BenchError::setup)
        })
        .as_ref()
        .map_err(BenchError::setup)
}

/// A GSSAPI client with a fresh ticket and a server with its own acceptor (and so its own
/// replay cache, as a connection of a server with many would find it nearly empty) that can
/// only agree on a layer of strength `min_ssf..=max_ssf`.
fn gssapi(min_ssf: u32, max_ssf: u32) -> BenchResult<MechanismPair> {
    let props = SecurityProperties {
        min_ssf,
        max_ssf,
        maxbuf: MAXBUF,
        ..SecurityProperties::default()
    };
    let issuer = issuer()?;
    let client = Principal::parse("bench", Some(REALM)).map_err(BenchError::setup)?;
    let ticket = issuer
        .issue(
            client,
            KRB5_ENCTYPE,
            Duration::from_secs(3600),
            SystemTime::now(),
        )
        .map_err(BenchError::setup)?;
    let acceptor = Acceptor::new(
        issuer.keytab(),
        Some(krb5_service()),
        AcceptorOptions::default(),
    );
    Ok((
        Box::new(GssapiClient::new(ticket, props.clone(), None)),
        Box::new(GssapiServer::new(Arc::new(acceptor), props)),
    ))
}

/// The plaintext of a full frame of a Kerberos layer, as its sealer reports it.
fn krb5_frame_payload(protection: Protection) -> usize {
    let key = Key::new(KRB5_ENCTYPE, &[0x5a; 32]).expect("a 32-byte AES-256 key");
    let context = SecurityContext::new(Role::Initiator, key, None, 0, 0);
    let (wrap, _) = context.into_halves(LayerOptions::new(protection));
    FramedSeal::new(wrap, MAXBUF)
        .expect("64 KiB frames have room for data")
        .sizes()
        .max_message
}
