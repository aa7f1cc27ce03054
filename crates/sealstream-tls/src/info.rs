//! What the handshake negotiated.

use rustls::pki_types::CertificateDer;
use rustls::{ProtocolVersion, SupportedCipherSuite};

/// The parameters a TLS handshake settled on, readable from either half of the stream.
#[derive(Clone, Debug)]
pub struct TlsInfo {
    /// TLS 1.2 or TLS 1.3.
    pub version: ProtocolVersion,
    /// The cipher suite.
    pub suite: SupportedCipherSuite,
    /// The application protocol agreed by ALPN, if any.
    pub alpn: Option<Vec<u8>>,
    /// The peer's certificate chain, leaf first (a server's always; a client's if it sent one).
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// On the client side, the server name that was verified (and sent as SNI). On the server
    /// side `None`: rustls 0.23's unbuffered server API does not expose the SNI it received
    /// (a certificate resolver in the `ServerConfig` sees it).
    pub server_name: Option<String>,
}

impl TlsInfo {
    /// Whether TLS 1.3 was negotiated.
    pub fn is_tls13(&self) -> bool {
        self.version == ProtocolVersion::TLSv1_3
    }
}
