//! Channel bindings (RFC 5056): values that tie an authentication run inside the TLS stream
//! (SCRAM-SHA-*-PLUS, GSS-API with bindings, LDAP's EPA) to this very TLS connection.
//!
//! In SSPI these are `QueryContextAttributes` with `SECPKG_ATTR_ENDPOINT_BINDINGS`
//! (`tls-server-end-point`); `tls-exporter` is the TLS 1.3 successor of the
//! `SECPKG_ATTR_UNIQUE_BINDINGS` (`tls-unique`) value, which TLS 1.3 does not define.

use rustls::SupportedCipherSuite;
use rustls::pki_types::CertificateDer;
use sealstream::{Error, Status};
use sha2::Digest;

use crate::capture::Transcript;
use crate::key_schedule::expand_label;
use x509_parser::oid_registry::{self as oids, Oid};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::signature_algorithm::SignatureAlgorithm;

/// A channel binding type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelBinding {
    /// `tls-exporter` (RFC 9266): 32 bytes exported with the label `EXPORTER-Channel-Binding`
    /// and an empty context. Unique to the connection; defined for TLS 1.3 only.
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929 §4): the hash of the server's certificate. Both sides
    /// can compute it on TLS 1.2 and 1.3; it binds to the server's certificate, not the
    /// connection.
    TlsServerEndPoint,
    /// `tls-unique` (RFC 5929 §3): the verify_data of the connection's first Finished message
    /// (the client's in a full handshake, the server's in a resumed one). TLS 1.2 only; SCRAM's
    /// default there (RFC 5802 §6), and the type Cyrus SASL asks for.
    TlsUnique,
}

impl ChannelBinding {
    /// The name SASL and GSS-API use for this type (`cb-name` of RFC 5056).
    pub fn name(self) -> &'static str {
        match self {
            ChannelBinding::TlsExporter => "tls-exporter",
            ChannelBinding::TlsServerEndPoint => "tls-server-end-point",
            ChannelBinding::TlsUnique => "tls-unique",
        }
    }
}

/// RFC 9266 §2: "The label for the tls-exporter channel binding type is
/// 'EXPORTER-Channel-Binding'" and "The context value is the empty string", 32 bytes long.
const EXPORTER_LABEL: &[u8] = b"EXPORTER-Channel-Binding";
const EXPORTER_LEN: usize = 32;

/// The `tls-unique` value of a TLS 1.2 connection: the first Finished message's verify_data,
/// recomputed from the master secret and the messages before it (RFC 5246 §7.4.9:
/// `PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]`), since the Finished
/// itself crosses the wire encrypted.
pub(crate) fn tls_unique(
    suite: SupportedCipherSuite,
    master_secret: &[u8],
    transcript: &Transcript,
) -> Option<[u8; 12]> {
    let SupportedCipherSuite::Tls12(suite) = suite else {
        return None;
    };
    let hash_len = suite.common.hash_provider.output_len();
    let (hash, client_first) = transcript.before_first_finished(hash_len)?;
    let label: &[u8] = if client_first {
        b"client finished"
    } else {
        b"server finished"
    };
    let mut out = [0u8; 12];
    suite
        .prf_provider
        .for_secret(&mut out, master_secret, label, &hash);
    Some(out)
}

/// The `tls-exporter` value from the TLS 1.3 exporter master secret.
pub(crate) fn tls_exporter(
    suite: SupportedCipherSuite,
    exporter_secret: &[u8],
) -> Option<[u8; EXPORTER_LEN]> {
    let mut out = [0u8; EXPORTER_LEN];
    export(suite, exporter_secret, EXPORTER_LABEL, None, &mut out).ok()?;
    Some(out)
}

/// Keying material for `label` and `context` from the TLS 1.3 exporter master secret, into
/// `out`.
///
/// RFC 8446 §7.5:
/// ```text
/// TLS-Exporter(label, context_value, key_length) =
///     HKDF-Expand-Label(Derive-Secret(Secret, label, ""),
///                       "exporter", Hash(context_value), key_length)
/// ```
/// where `Derive-Secret(Secret, Label, "") = HKDF-Expand-Label(Secret, Label, Hash(""),
/// Hash.length)`. TLS 1.3 makes no difference between no context and an empty one.
pub(crate) fn export(
    suite: SupportedCipherSuite,
    exporter_secret: &[u8],
    label: &[u8],
    context: Option<&[u8]>,
    out: &mut [u8],
) -> Result<(), Error> {
    let SupportedCipherSuite::Tls13(suite) = suite else {
        return Err(Error::new(
            Status::UnsupportedFunction,
            "the TLS 1.3 exporter needs a TLS 1.3 suite",
        ));
    };
    let hash_len = suite.common.hash_provider.output_len();
    // HkdfLabel carries the label (after "tls13 ") in one length byte, the output length in
    // two, and HKDF-Expand gives at most 255 blocks.
    if label.len() > 255 - b"tls13 ".len() {
        return Err(Error::new(
            Status::InvalidParameter,
            format!(
                "an exporter label is at most 249 bytes, not {}",
                label.len()
            ),
        ));
    }
    if out.len() > 255 * hash_len {
        return Err(Error::new(
            Status::InvalidParameter,
            format!(
                "this suite exports at most {} bytes at once, not {}",
                255 * hash_len,
                out.len()
            ),
        ));
    }
    let empty_hash = suite.common.hash_provider.hash(&[]);
    let context_hash = suite.common.hash_provider.hash(context.unwrap_or_default());
    let mut derived = zeroize::Zeroizing::new(vec![0u8; hash_len]);
    expand_label(
        suite,
        exporter_secret,
        label,
        empty_hash.as_ref(),
        &mut derived,
    );
    expand_label(suite, &derived, b"exporter", context_hash.as_ref(), out);
    Ok(())
}

/// The hash RFC 5929 §4.1 picks for a certificate signed with `algorithm`.
///
/// "if the certificate's signatureAlgorithm uses a single hash function, and that hash
/// function is either MD5 or SHA-1, then use SHA-256; if the certificate's signatureAlgorithm
/// uses a single hash function and that hash function neither MD5 nor SHA-1, then use the hash
/// function associated with the certificate's signatureAlgorithm; if the certificate's
/// signatureAlgorithm uses no hash functions or uses multiple hash functions, then this channel
/// binding type's channel bindings are undefined at this time".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EndPointHash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// The hash for a signature whose single hash function is named by `oid`.
fn hash_of_digest(oid: &Oid<'_>) -> Option<EndPointHash> {
    const SHA224: &str = "2.16.840.1.101.3.4.2.4";
    if *oid == oids::OID_HASH_SHA1 || *oid == oids::OID_NIST_HASH_SHA256 {
        Some(EndPointHash::Sha256)
    } else if *oid == oids::OID_NIST_HASH_SHA384 {
        Some(EndPointHash::Sha384)
    } else if *oid == oids::OID_NIST_HASH_SHA512 {
        Some(EndPointHash::Sha512)
    } else if oid.to_id_string() == SHA224 {
        Some(EndPointHash::Sha224)
    } else {
        None
    }
}

/// The hash for a certificate's signature algorithm (MD5 and SHA-1 become SHA-256).
fn end_point_hash(cert: &X509Certificate<'_>) -> Result<EndPointHash, Error> {
    let algorithm = &cert.signature_algorithm;
    let oid = &algorithm.algorithm;
    let by_signature: [(&Oid<'_>, EndPointHash); 10] = [
        (&oids::OID_PKCS1_MD5WITHRSAENC, EndPointHash::Sha256),
        (&oids::OID_PKCS1_SHA1WITHRSA, EndPointHash::Sha256),
        (&oids::OID_PKCS1_SHA224WITHRSA, EndPointHash::Sha224),
        (&oids::OID_PKCS1_SHA256WITHRSA, EndPointHash::Sha256),
        (&oids::OID_PKCS1_SHA384WITHRSA, EndPointHash::Sha384),
        (&oids::OID_PKCS1_SHA512WITHRSA, EndPointHash::Sha512),
        (&oids::OID_SIG_ECDSA_WITH_SHA224, EndPointHash::Sha224),
        (&oids::OID_SIG_ECDSA_WITH_SHA256, EndPointHash::Sha256),
        (&oids::OID_SIG_ECDSA_WITH_SHA384, EndPointHash::Sha384),
        (&oids::OID_SIG_ECDSA_WITH_SHA512, EndPointHash::Sha512),
    ];
    let found = match by_signature.iter().find(|(known, _)| *known == oid) {
        Some((_, hash)) => Some(*hash),
        // RSASSA-PSS names its hash in the parameters.
        None if *oid == oids::OID_PKCS1_RSASSAPSS => {
            match SignatureAlgorithm::try_from(algorithm) {
                Ok(SignatureAlgorithm::RSASSA_PSS(params)) => {
                    hash_of_digest(params.hash_algorithm_oid())
                }
                _ => None,
            }
        }
        None => None,
    };
    found.ok_or_else(|| {
        let name = if *oid == oids::OID_SIG_ED25519 {
            "Ed25519".to_string()
        } else if *oid == oids::OID_SIG_ED448 {
            "Ed448".to_string()
        } else {
            format!("signature algorithm {oid}")
        };
        Error::new(
            Status::UnsupportedFunction,
            format!(
                "tls-server-end-point is undefined for a certificate signed with {name}: it uses \
                 no single hash function (RFC 5929 §4.1)"
            ),
        )
    })
}

/// The `tls-server-end-point` value of the server certificate `cert`.
pub(crate) fn tls_server_end_point(cert: &CertificateDer<'_>) -> Result<Vec<u8>, Error> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).map_err(|e| {
        Error::new(
            Status::InvalidParameter,
            format!("the server certificate does not parse: {e}"),
        )
    })?;
    let der = cert.as_ref();
    Ok(match end_point_hash(&parsed)? {
        EndPointHash::Sha224 => sha2::Sha224::digest(der).to_vec(),
        EndPointHash::Sha256 => sha2::Sha256::digest(der).to_vec(),
        EndPointHash::Sha384 => sha2::Sha384::digest(der).to_vec(),
        EndPointHash::Sha512 => sha2::Sha512::digest(der).to_vec(),
    })
}
