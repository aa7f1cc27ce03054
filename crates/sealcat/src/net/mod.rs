//! `sealcat connect` and `sealcat listen`: a sealed stream between the terminal (or a command)
//! and a peer, in the spirit of `openssl s_client -quiet` and `socat`.

pub(crate) mod config;
pub(crate) mod connect;
pub(crate) mod identity;
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
    let mut line = format!("{:?} {:?}", info.version, info.suite.suite());
    if let Some(alpn) = &info.alpn {
        line.push_str(&format!(", ALPN {}", String::from_utf8_lossy(alpn)));
    }
    if let Some(name) = &info.server_name {
        line.push_str(&format!(", server name {name}"));
    }
    if let Some(leaf) = info.peer_certificates.first() {
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
    let hint = if text.contains("invalid peer certificate") {
        " (the server's certificate is not trusted: pass --ca FILE with its CA, or --insecure)"
    } else {
        ""
    };
    format!("TLS handshake with {peer} failed: {text}{hint}")
}
