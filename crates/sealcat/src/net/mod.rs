//! `sealcat connect` and `sealcat listen`: a sealed stream between the terminal (or a command)
//! and a peer, in the spirit of `openssl s_client -quiet` and `socat`.

pub(crate) mod config;
pub(crate) mod connect;
pub(crate) mod identity;
pub(crate) mod imap;
pub(crate) mod ldap;
pub(crate) mod listen;
pub(crate) mod relay;
pub(crate) mod sasl;

use std::time::Duration;

use sealstream_tls::TlsInfo;
use x509_parser::prelude::{FromDer, X509Certificate};

/// How long `connect` and `listen` give a TLS handshake: a client that connects and says
/// nothing holds a listener's connection no longer than this.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// One line on what a handshake negotiated, for `-v`.
pub(crate) fn describe(info: &TlsInfo) -> String {
    let mut line = format!("{:?} {:?}", info.version(), info.suite().suite());
    if let Some(alpn) = info.alpn() {
        line.push_str(&format!(", ALPN {}", String::from_utf8_lossy(alpn)));
    }
    if let Some(name) = info.server_name() {
        line.push_str(&format!(", server name {name}"));
    }
    if let Some(leaf) = info.peer_certificates().first() {
        match X509Certificate::from_der(leaf.as_ref()) {
            Ok((_, cert)) => {
                line.push_str(&format!(", peer certificate subject {}", cert.subject()))
            }
            Err(_) => line.push_str(", peer certificate unparsable"),
        }
    }
    line
}

/// An error message for a failed handshake, with a hint where the cause is a common one.
pub(crate) fn handshake_error(peer: &str, err: &std::io::Error) -> String {
    let text = err.to_string();
    format!("TLS handshake with {peer} failed: {text}{}", hint(&text))
}

/// What a person can do about a handshake error, from rustls's words for it.
fn hint(error: &str) -> &'static str {
    if error.contains("CaUsedAsEndEntity") {
        // `openssl req -x509` makes a CA certificate unless told otherwise; rustls (webpki)
        // will not take a CA certificate as a server's own, even when it is the one trusted.
        " (the server's certificate is a CA certificate (basicConstraints CA:TRUE), which cannot \
         also be a server's own certificate, even when it is the file given to --ca: give the \
         server a certificate made with `openssl req -x509 ... -addext \
         basicConstraints=critical,CA:FALSE`, or one signed by that CA)"
    } else if error.contains("invalid peer certificate") {
        " (the server's certificate is not trusted: pass --ca FILE with its CA, or --insecure)"
    } else if error.contains("SignatureAlgorithmsExtensionRequired") {
        // TLS 1.2 and 1.3 clients send signature_algorithms; TLS 1.0 and 1.1 ones do not.
        " (the client speaks only TLS 1.1 or older, which sealcat does not; it needs TLS 1.2 or \
         1.3)"
    } else if error.contains("received fatal alert: CertificateUnknown")
        || error.contains("received fatal alert: UnknownCA")
        || error.contains("received fatal alert: BadCertificate")
    {
        " (the peer did not accept this side's certificate)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::hint;

    #[test]
    fn a_ca_certificate_is_not_blamed_on_a_missing_ca() {
        let error = "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))";
        assert!(hint(error).contains("is a CA certificate"));
        assert!(!hint(error).contains("pass --ca"));
        assert!(hint("invalid peer certificate: UnknownIssuer").contains("pass --ca"));
        assert!(
            hint("peer is incompatible: SignatureAlgorithmsExtensionRequired")
                .contains("TLS 1.1 or older")
        );
        assert_eq!(hint("connection reset"), "");
    }
}
