//! Certificates and keys for `sealcat listen`: the user's PEM files, or a self-signed
//! certificate made at start whose fingerprint the user can compare on the client side.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// A certificate chain and its private key.
pub(crate) struct Identity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    /// The leaf as PEM, for a self-signed certificate (to hand to clients).
    pub(crate) self_signed_pem: Option<String>,
}

impl Identity {
    /// A fresh self-signed certificate for `names` (DNS names or IP addresses).
    pub(crate) fn self_signed(names: Vec<String>) -> Result<Self, String> {
        let cert = rcgen::generate_simple_self_signed(names)
            .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
        Ok(Self {
            chain: vec![cert.cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der())),
            self_signed_pem: Some(cert.cert.pem()),
        })
    }

    /// The chain in `cert` and the key in `key`, both PEM.
    pub(crate) fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, String> {
        let chain = load_certs(cert)?;
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("cannot read a private key from {}: {e}", key.display()))?;
        Ok(Self {
            chain,
            key,
            self_signed_pem: None,
        })
    }

    /// The SHA-256 fingerprint of the leaf, as `AB:CD:...` (what `openssl x509 -fingerprint
    /// -sha256` prints).
    pub(crate) fn fingerprint(&self) -> String {
        fingerprint(&self.chain[0])
    }
}

/// The SHA-256 fingerprint of `cert`, as `AB:CD:...`.
pub(crate) fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Every certificate in the PEM file `path` (at least one).
pub(crate) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", path.display()));
    }
    Ok(certs)
}
