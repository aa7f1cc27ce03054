//! The three DIGEST-MD5 messages: the server's challenge, the client's response, and the
//! server's `rspauth`, parsed strictly (each directive at most once, required ones present,
//! values in range) from a tolerant directive list.

use super::directives::{self, Fields, Writer};
use super::{Cipher, DigestQop, compute, parse_maxbuf};
use crate::AuthError;

// RFC 2831 §2.1.1: "The size of a digest-challenge MUST be less than 2048 bytes."
pub(crate) const MAX_CHALLENGE: usize = 2048;
// RFC 2831 §2.1.2: "The size of a digest-response MUST be less than 4096 bytes."
const MAX_RESPONSE: usize = 4096;

/// The server's first message (RFC 2831 §2.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// Realms the client may choose from ("Multiple realm directives are allowed").
    pub(crate) realms: Vec<String>,
    pub(crate) nonce: String,
    /// The `qop-options`, lower-cased; unknown ones are kept and never chosen.
    pub(crate) qops: Vec<String>,
    /// The ciphers offered that this implementation knows.
    pub(crate) ciphers: Vec<Cipher>,
    pub(crate) maxbuf: u32,
    pub(crate) utf8: bool,
}

const CHALLENGE_DIRECTIVES: [&str; 8] = [
    "realm",
    "nonce",
    "qop",
    "stale",
    "maxbuf",
    "charset",
    "algorithm",
    "cipher",
];

fn charset(fields: &Fields) -> Result<bool, AuthError> {
    match fields.get("charset") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("utf-8") => Ok(true),
        Some(v) => Err(AuthError::malformed(format!("charset={v} is not utf-8"))),
    }
}

impl Challenge {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, AuthError> {
        if bytes.len() >= MAX_CHALLENGE {
            return Err(AuthError::malformed(format!(
                "challenge of {} bytes; RFC 2831 allows less than {MAX_CHALLENGE}",
                bytes.len()
            )));
        }
        let fields = Fields::new(directives::parse(bytes)?, &CHALLENGE_DIRECTIVES, &["realm"])?;
        // "algorithm: This directive is required for backwards compatibility with HTTP Digest,
        // which supports other algorithms. This directive is required and MUST appear exactly
        // once; [...] the value MUST be "md5-sess"."
        let algorithm = fields.require("algorithm")?;
        if !algorithm.eq_ignore_ascii_case("md5-sess") {
            return Err(AuthError::malformed(format!(
                "algorithm={algorithm} is not md5-sess"
            )));
        }
        let qops: Vec<String> = match fields.get("qop") {
            // "If this directive is absent, it is treated as if it appeared with only the value
            // "auth"."
            None => vec!["auth".into()],
            Some(v) => directives::list(v).map(str::to_ascii_lowercase).collect(),
        };
        let ciphers = fields
            .get("cipher")
            .map(|v| directives::list(v).filter_map(Cipher::from_name).collect())
            .unwrap_or_default();
        let nonce = fields.require("nonce")?;
        if nonce.is_empty() {
            return Err(AuthError::malformed("the nonce is empty"));
        }
        Ok(Self {
            realms: fields.all("realm").map(str::to_owned).collect(),
            nonce: nonce.to_owned(),
            qops,
            ciphers,
            maxbuf: parse_maxbuf(fields.get("maxbuf"))?,
            utf8: charset(&fields)?,
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        for realm in &self.realms {
            w.text("realm", realm, self.utf8);
        }
        w.quoted("nonce", &self.nonce);
        w.quoted("qop", &self.qops.join(","));
        if self.maxbuf != super::DEFAULT_MAXBUF {
            w.token("maxbuf", &self.maxbuf.to_string());
        }
        if self.utf8 {
            w.token("charset", "utf-8");
        }
        w.token("algorithm", "md5-sess");
        if !self.ciphers.is_empty() {
            let names: Vec<&str> = self.ciphers.iter().map(|c| c.name()).collect();
            w.quoted("cipher", &names.join(","));
        }
        w.finish()
    }
}

/// The client's answer (RFC 2831 §2.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) username: String,
    pub(crate) realm: Option<String>,
    pub(crate) nonce: String,
    pub(crate) cnonce: String,
    pub(crate) nc: u32,
    pub(crate) qop: DigestQop,
    pub(crate) digest_uri: String,
    /// Lower-case hex.
    pub(crate) response: [u8; 32],
    pub(crate) maxbuf: u32,
    pub(crate) utf8: bool,
    pub(crate) authzid: Option<String>,
}

const RESPONSE_DIRECTIVES: [&str; 12] = [
    "username",
    "realm",
    "nonce",
    "cnonce",
    "nc",
    "qop",
    "digest-uri",
    "response",
    "maxbuf",
    "charset",
    "cipher",
    "authzid",
];

impl Response {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, AuthError> {
        if bytes.len() >= MAX_RESPONSE {
            return Err(AuthError::malformed(format!(
                "response of {} bytes; RFC 2831 allows less than {MAX_RESPONSE}",
                bytes.len()
            )));
        }
        let fields = Fields::new(directives::parse(bytes)?, &RESPONSE_DIRECTIVES, &[])?;
        let nc_value = fields.require("nc")?;
        // nonce-count = "nc" "=" nc-value; nc-value = 8LHEX
        let nc = match u32::from_str_radix(nc_value, 16) {
            Ok(n) if nc_value.len() == 8 => n,
            _ => {
                return Err(AuthError::malformed(format!(
                    "nc={nc_value} is not 8 hex digits"
                )));
            }
        };
        let qop = match fields
            .get("qop")
            .unwrap_or("auth")
            .to_ascii_lowercase()
            .as_str()
        {
            "auth" => DigestQop::Auth,
            "auth-int" => DigestQop::AuthInt,
            "auth-conf" => {
                // "cipher: [...] This directive is required [when qop is auth-conf] and MUST
                // appear exactly once if "auth-conf" is negotiated"
                let name = fields.require("cipher")?;
                DigestQop::AuthConf(Cipher::from_name(name).ok_or_else(|| {
                    AuthError::malformed(format!("cipher={name} is not a DIGEST-MD5 cipher"))
                })?)
            }
            other => return Err(AuthError::malformed(format!("qop={other} is not known"))),
        };
        let response = fields.require("response")?;
        let response = compute::parse_hex16(response)
            .map(|bytes| compute::to_hex(&bytes))
            .ok_or_else(|| {
                AuthError::malformed(format!("response={response} is not 32 hex digits"))
            })?;
        Ok(Self {
            username: fields.require("username")?.to_owned(),
            realm: fields.get("realm").map(str::to_owned),
            nonce: fields.require("nonce")?.to_owned(),
            cnonce: fields.require("cnonce")?.to_owned(),
            nc,
            qop,
            digest_uri: fields.require("digest-uri")?.to_owned(),
            response,
            maxbuf: parse_maxbuf(fields.get("maxbuf"))?,
            utf8: charset(&fields)?,
            authzid: fields
                .get("authzid")
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        if self.utf8 {
            w.token("charset", "utf-8");
        }
        w.text("username", &self.username, self.utf8);
        if let Some(realm) = &self.realm {
            w.text("realm", realm, self.utf8);
        }
        w.quoted("nonce", &self.nonce);
        w.token("nc", &format!("{:08x}", self.nc));
        w.quoted("cnonce", &self.cnonce);
        w.quoted("digest-uri", &self.digest_uri);
        if self.qop != DigestQop::Auth {
            w.token("maxbuf", &self.maxbuf.to_string());
        }
        w.token(
            "response",
            std::str::from_utf8(&self.response).unwrap_or_default(),
        );
        w.token("qop", self.qop.name());
        if let DigestQop::AuthConf(cipher) = self.qop {
            w.token("cipher", cipher.name());
        }
        if let Some(authzid) = &self.authzid {
            w.quoted("authzid", authzid);
        }
        w.finish()
    }
}

/// The `rspauth` value of the server's last message (RFC 2831 §2.1.3).
pub(crate) fn parse_rspauth(bytes: &[u8]) -> Result<[u8; 16], AuthError> {
    let fields = Fields::new(directives::parse(bytes)?, &["rspauth"], &[])?;
    let value = fields.require("rspauth")?;
    compute::parse_hex16(value)
        .ok_or_else(|| AuthError::malformed(format!("rspauth={value} is not 32 hex digits")))
}

/// The server's last message: `rspauth=<32 hex digits>`.
pub(crate) fn encode_rspauth(value: &[u8; 32]) -> Vec<u8> {
    let mut out = b"rspauth=".to_vec();
    out.extend_from_slice(value);
    out
}
