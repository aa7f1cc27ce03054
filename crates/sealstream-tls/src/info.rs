//! What the handshake negotiated.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use rustls::{HandshakeKind, ProtocolVersion, SupportedCipherSuite};
use sealstream::{Error, Status};
use zeroize::Zeroizing;

use crate::channel_binding::{self, ChannelBinding};

/// The parameters a TLS handshake settled on, readable from either half of the stream.
///
/// Read through its methods, so that what it records can grow.
#[derive(Clone, Debug)]
pub struct TlsInfo {
    pub(crate) version: ProtocolVersion,
    pub(crate) suite: SupportedCipherSuite,
    pub(crate) handshake_kind: HandshakeKind,
    pub(crate) alpn: Option<Box<[u8]>>,
    pub(crate) peer_certificates: Box<[CertificateDer<'static>]>,
    pub(crate) server_name: Option<Box<str>>,
    pub(crate) bindings: Bindings,
}

/// What a TLS 1.2 exporter derives from (RFC 5705 §4).
pub(crate) struct Tls12Master {
    /// The master secret (the extended one with RFC 7627's extension).
    pub(crate) master: Zeroizing<Vec<u8>>,
    /// client_random then server_random.
    pub(crate) randoms: [u8; 64],
}

impl std::fmt::Debug for Tls12Master {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls12Master(..)")
    }
}

/// What channel bindings are computed from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bindings {
    pub(crate) is_server: bool,
    /// The TLS 1.3 exporter master secret, shared by the stream's halves.
    pub(crate) exporter_secret: Option<Arc<Zeroizing<Vec<u8>>>>,
    /// A TLS 1.2 connection's master secret and randoms, for RFC 5705 exports.
    pub(crate) tls12_master: Option<Arc<Tls12Master>>,
    /// The `tls-unique` value (TLS 1.2).
    pub(crate) tls_unique: Option<[u8; 12]>,
    /// The certificate this side presented, on a server that ran a full handshake.
    pub(crate) own_key: Option<Arc<CertifiedKey>>,
}

impl TlsInfo {
    /// Keying material exported from this connection (RFC 5705, RFC 8446 §7.5), the same on
    /// both ends: fill `out` for `label` and, if given, `context`, as rustls's and
    /// tokio-rustls's `export_keying_material`.
    ///
    /// TLS 1.3 derives it from the exporter master secret, TLS 1.2 from the master secret and
    /// both randoms with the suite's PRF (RFC 5705; a context, even an empty one, is part of
    /// the seed with its length). A TLS 1.3 label over 249 bytes, more output than the suite's
    /// hash can expand to (255 blocks), a TLS 1.2 context of 64 KiB or more, or an empty label
    /// is `SEC_E_INVALID_PARAMETER`. The secrets it derives from are kept for the life of the
    /// stream and zeroized when its last half is dropped.
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        if label.is_empty() {
            return Err(Error::new(
                Status::InvalidParameter,
                "an exporter label is not empty",
            ));
        }
        if let Some(secret) = &self.bindings.exporter_secret {
            return channel_binding::export(self.suite, secret, label, context, out);
        }
        match (&self.bindings.tls12_master, self.suite) {
            (Some(tls12), SupportedCipherSuite::Tls12(suite)) => {
                let mut seed = tls12.randoms.to_vec();
                if let Some(context) = context {
                    let len = u16::try_from(context.len()).map_err(|_| {
                        Error::new(
                            Status::InvalidParameter,
                            "an RFC 5705 context is shorter than 64 KiB",
                        )
                    })?;
                    seed.extend_from_slice(&len.to_be_bytes());
                    seed.extend_from_slice(context);
                }
                suite
                    .prf_provider
                    .for_secret(out, &tls12.master, label, &seed);
                Ok(())
            }
            _ => Err(Error::new(
                Status::UnsupportedFunction,
                "this connection kept nothing to export keying material from",
            )),
        }
    }

    /// TLS 1.2 or TLS 1.3.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The cipher suite.
    pub fn suite(&self) -> SupportedCipherSuite {
        self.suite
    }

    /// Whether the handshake was full, full after a HelloRetryRequest, or resumed a session.
    pub fn handshake_kind(&self) -> HandshakeKind {
        self.handshake_kind
    }

    /// The application protocol agreed by ALPN, if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The peer's certificate chain, leaf first (a server's always; a client's if it sent one).
    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        &self.peer_certificates
    }

    /// The server name: on the client side the name that was verified (and sent as SNI), on
    /// the server side the SNI the client sent, if any.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// Whether TLS 1.3 was negotiated.
    pub fn is_tls13(&self) -> bool {
        self.version == ProtocolVersion::TLSv1_3
    }

    /// The channel binding of `kind` for this connection, the same on both ends (RFC 5056):
    /// what SCRAM-*-PLUS, GSS-API and LDAP's extended protection put in their authentication so
    /// that it cannot be relayed into another TLS connection.
    ///
    /// Fails with `SEC_E_UNSUPPORTED_FUNCTION` where the type is undefined:
    /// - `tls-exporter` on TLS 1.2 (RFC 9266 defines it for TLS 1.3; use
    ///   `tls-server-end-point` there);
    /// - `tls-server-end-point` for a certificate whose signature uses no single hash (Ed25519),
    ///   or on a server that resumed a session and so presented no certificate.
    pub fn channel_binding(&self, kind: ChannelBinding) -> Result<Vec<u8>, Error> {
        let unsupported = |why: &str| {
            Error::new(
                Status::UnsupportedFunction,
                format!("no {} channel binding: {why}", kind.name()),
            )
        };
        match kind {
            ChannelBinding::TlsExporter => self
                .bindings
                .exporter_secret
                .as_ref()
                .and_then(|secret| channel_binding::tls_exporter(self.suite, secret))
                .map(|value| value.to_vec())
                .ok_or_else(|| unsupported("RFC 9266 defines it for TLS 1.3 only")),
            ChannelBinding::TlsUnique => self
                .bindings
                .tls_unique
                .map(|value| value.to_vec())
                .ok_or_else(|| {
                    unsupported(
                        "RFC 5929 defines it for TLS 1.2 (RFC 9266 has tls-exporter take its \
                         place on TLS 1.3)",
                    )
                }),
            ChannelBinding::TlsServerEndPoint => {
                let cert = if self.bindings.is_server {
                    self.bindings
                        .own_key
                        .as_ref()
                        .and_then(|key| key.cert.first())
                        .ok_or_else(|| {
                            unsupported(
                                "this server resumed a session and presented no certificate",
                            )
                        })?
                } else {
                    self.peer_certificates
                        .first()
                        .ok_or_else(|| unsupported("the server presented no certificate"))?
                };
                channel_binding::tls_server_end_point(cert)
            }
        }
    }
}
