//! TLS for the examples' clients (`ldaps://`, `imaps://`, STARTTLS): whom to trust.

use std::path::Path;
use std::sync::Arc;

use crate::failure::Failure;

/// A TLS client configuration trusting the CA certificates of the PEM file `ca` (`--ca`), else
/// the system's.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, Failure> {
    client_config_for(ca, None)
}

/// [`client_config`] limited to one TLS version (`"1.2"` or `"1.3"`, `--tls-version`) when
/// `version` names one.
pub fn client_config_for(
    ca: Option<&Path>,
    version: Option<&str>,
) -> Result<Arc<rustls::ClientConfig>, Failure> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Failure::usage(format!("--ca {}: {e}", path.display())))?;
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    Failure::usage(format!(
                        "--ca {}: unusable certificate: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        None => {
            let (added, _) =
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if added == 0 {
                return Err(Failure::usage(
                    "no system CA certificates found; pass --ca FILE",
                ));
            }
        }
    }
    let versions: &[&rustls::SupportedProtocolVersion] = match version {
        None => rustls::DEFAULT_VERSIONS,
        Some("1.2") => &[&rustls::version::TLS12],
        Some("1.3") => &[&rustls::version::TLS13],
        Some(other) => {
            return Err(Failure::usage(format!("--tls-version {other}: 1.2 or 1.3")));
        }
    };
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_protocol_versions(versions)
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}
