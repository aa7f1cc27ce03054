//! DIGEST-MD5 (RFC 2831): challenge-response authentication and its integrity and
//! confidentiality layers.
//!
//! RFC 6331 moved DIGEST-MD5 to Historic, but Active Directory and OpenLDAP with Cyrus SASL
//! still offer it, often as the only mechanism with a security layer when Kerberos is not set
//! up. Both sides are here, sans-IO: [`DigestClient`] and [`DigestServer`] only turn messages
//! into messages, and their [`SecurityLayer`](crate::SecurityLayer) becomes the sealer of a
//! `SealedStream`.
//!
//! What is implemented: `md5-sess`, `charset=utf-8` (with the ISO 8859-1 conversion before
//! hashing), realms, random nonce and cnonce, `nc=00000001`, authzid, mutual authentication
//! through `rspauth`, qop `auth`, `auth-int` and `auth-conf` with `rc4` and `3des`, and, only
//! with [`SecurityProperties::allow_legacy_ciphers`](crate::SecurityProperties), `des`,
//! `rc4-56` and `rc4-40`. Subsequent authentication (RFC 2831 §2.2) is not: every exchange is a
//! first one.

mod choice;
mod cipher;
mod client;
pub(crate) mod compute;
mod directives;
pub(crate) mod layer;
pub(crate) mod messages;
mod server;

pub use choice::LayerChoice;
pub use cipher::Cipher;
pub use client::{DigestClient, DigestClientConfig};
pub use compute::user_hash;
pub use layer::{DigestUnwrap, DigestWrap};
pub use server::{DigestServer, DigestServerConfig};

use crate::{AuthError, Layer};

/// The mechanism's registered name.
pub const NAME: &str = "DIGEST-MD5";

/// The largest `maxbuf` RFC 2831 allows: "smaller or equal to 16777215 (i.e. 2**24-1)".
pub const MAX_MAXBUF: u32 = 16_777_215;

/// The `maxbuf` assumed when a message has none: "The default is 65536".
pub const DEFAULT_MAXBUF: u32 = 65536;

/// The quality of protection a DIGEST-MD5 exchange negotiates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestQop {
    /// `auth`: authentication only, no layer.
    Auth,
    /// `auth-int`: an integrity layer (HMAC-MD5).
    AuthInt,
    /// `auth-conf`: integrity and confidentiality with a cipher.
    AuthConf(Cipher),
}

impl DigestQop {
    /// The `qop=` value.
    pub const fn name(self) -> &'static str {
        match self {
            DigestQop::Auth => "auth",
            DigestQop::AuthInt => "auth-int",
            DigestQop::AuthConf(_) => "auth-conf",
        }
    }

    /// The security strength factor: 0, 1, or the cipher's.
    pub const fn ssf(self) -> u32 {
        match self {
            DigestQop::Auth => 0,
            DigestQop::AuthInt => 1,
            DigestQop::AuthConf(c) => c.ssf(),
        }
    }

    /// The generic layer it denotes.
    pub const fn layer(self) -> Layer {
        match self {
            DigestQop::Auth => Layer::None,
            DigestQop::AuthInt => Layer::Integrity,
            DigestQop::AuthConf(c) => Layer::Confidentiality { cipher: c.name() },
        }
    }
}

impl std::fmt::Display for DigestQop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DigestQop::AuthConf(c) => write!(f, "auth-conf ({c})"),
            other => f.write_str(other.name()),
        }
    }
}

/// 16 random bytes as 32 hex digits: a nonce or cnonce.
fn random_nonce() -> Result<String, AuthError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        AuthError::new(
            crate::AuthErrorKind::Internal,
            format!("the system random generator failed: {e}"),
        )
    })?;
    let hex = compute::to_hex(&bytes);
    Ok(hex.iter().map(|&b| char::from(b)).collect())
}

/// Check a `maxbuf` value from the peer. RFC 2831 §2.1.2: "The value MUST be bigger than 16 (32
/// for Confidentiality protection with the "des" cipher) and smaller or equal to 16777215".
fn parse_maxbuf(value: Option<&str>) -> Result<u32, AuthError> {
    let Some(value) = value else {
        return Ok(DEFAULT_MAXBUF);
    };
    match value.parse::<u32>() {
        Ok(n) if n > 16 && n <= MAX_MAXBUF => Ok(n),
        _ => Err(AuthError::malformed(format!(
            "maxbuf={value} is not a number between 17 and {MAX_MAXBUF}"
        ))),
    }
}

/// Our own `maxbuf`, clamped into the range RFC 2831 allows.
fn our_maxbuf(props: &crate::SecurityProperties) -> u32 {
    props.maxbuf.clamp(17, MAX_MAXBUF)
}

#[cfg(test)]
mod tests;
