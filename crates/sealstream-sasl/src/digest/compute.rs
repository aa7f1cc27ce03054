//! The RFC 2831 computations: H(A1), the `response` and `rspauth` values, and the layer keys.

use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::Cipher;

/// 16 bytes of key or hash material, wiped on drop.
pub(crate) type Key16 = Zeroizing<[u8; 16]>;

/// A string's bytes for hashing.
///
/// RFC 2831 §2.1.2.1: "If "charset=utf-8" is present, and all the characters of either
/// "username-value" or "passwd" are in the ISO 8859-1 character set, then it must be converted to
/// ISO 8859-1 before being hashed." Cyrus and the JDK apply this to username, realm and password
/// one string at a time; so do we. Without `charset=utf-8` every value is ISO 8859-1 already and
/// the same conversion gives its bytes.
fn hash_bytes(s: &str) -> Zeroizing<Vec<u8>> {
    if s.chars().all(|c| u32::from(c) <= 0xFF) {
        Zeroizing::new(s.chars().map(|c| u32::from(c) as u8).collect())
    } else {
        Zeroizing::new(s.as_bytes().to_vec())
    }
}

/// `H({ username-value, ":", realm-value, ":", passwd })`: what a server may store instead of
/// the password ([`Secret::DigestHash`](crate::Secret::DigestHash)).
pub fn user_hash(username: &str, realm: &str, password: &str) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(&*hash_bytes(username));
    h.update(b":");
    h.update(&*hash_bytes(realm));
    h.update(b":");
    h.update(&*hash_bytes(password));
    h.finalize().into()
}

// RFC 2831 §2.1.2.1:
//   If authzid is specified, then A1 is
//      A1 = { H( { username-value, ":", realm-value, ":", passwd } ),
//           ":", nonce-value, ":", cnonce-value, ":", authzid-value }
//   If authzid is not specified, then A1 is
//      A1 = { H( { username-value, ":", realm-value, ":", passwd } ),
//           ":", nonce-value, ":", cnonce-value }
/// `H(A1)`, binary: the session secret everything else derives from.
pub(crate) fn ha1(user_hash: &[u8; 16], nonce: &str, cnonce: &str, authzid: Option<&str>) -> Key16 {
    let mut h = Md5::new();
    h.update(user_hash);
    h.update(b":");
    h.update(nonce.as_bytes());
    h.update(b":");
    h.update(cnonce.as_bytes());
    if let Some(authzid) = authzid {
        h.update(b":");
        h.update(authzid.as_bytes());
    }
    Zeroizing::new(h.finalize().into())
}

fn hex(bytes: &[u8; 16]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 32];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}

/// Which of the two values [`digest_response`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The client's `response`: A2 starts with `AUTHENTICATE:`.
    Client,
    /// The server's `rspauth`: A2 starts with `:`.
    Server,
}

// RFC 2831 §2.1.2.1:
//   response-value = HEX( KD ( HEX(H(A1)),
//                  { nonce-value, ":" nc-value, ":", cnonce-value, ":", qop-value, ":",
//                    HEX(H(A2)) }))
//   If the "qop" directive's value is "auth", then A2 is:
//      A2       = { "AUTHENTICATE:", digest-uri-value }
//   If the "qop" value is "auth-int" or "auth-conf" then A2 is:
//      A2       = { "AUTHENTICATE:", digest-uri-value,
//               ":00000000000000000000000000000000" }
// RFC 2831 §2.1.3: rspauth is computed the same way with A2 = { ":", digest-uri-value } (and
// the same suffix for auth-int and auth-conf).
//   KD(k, s) = H({k, ":", s})
/// The 32 lower-case hex digits of `response` (client) or `rspauth` (server).
pub(crate) fn digest_response(
    ha1: &[u8; 16],
    nonce: &str,
    nc: u32,
    cnonce: &str,
    qop: &str,
    digest_uri: &str,
    side: Side,
) -> [u8; 32] {
    let mut a2 = Md5::new();
    if side == Side::Client {
        a2.update(b"AUTHENTICATE");
    }
    a2.update(b":");
    a2.update(digest_uri.as_bytes());
    if qop != "auth" {
        a2.update(b":00000000000000000000000000000000");
    }
    let ha2 = hex(&a2.finalize().into());
    let mut kd = Md5::new();
    kd.update(Zeroizing::new(hex(ha1)).as_slice());
    kd.update(b":");
    kd.update(nonce.as_bytes());
    kd.update(format!(":{nc:08x}:").as_bytes());
    kd.update(cnonce.as_bytes());
    kd.update(b":");
    kd.update(qop.as_bytes());
    kd.update(b":");
    kd.update(ha2);
    hex(&kd.finalize().into())
}

/// The keys of one direction of a layer.
pub(crate) struct DirectionKeys {
    /// The integrity key (Kic or Kis).
    pub(crate) integrity: Key16,
    /// The sealing key (Kcc or Kcs), for `auth-conf`.
    pub(crate) sealing: Key16,
}

// RFC 2831 §2.3: "Kic = MD5({H(A1), "Digest session key to client-to-server signing key magic
// constant"}); Kis = MD5({H(A1), "Digest session key to server-to-client signing key magic
// constant"})"
// RFC 2831 §2.4: "Kcc = MD5({H(A1)[0..n], "Digest H(A1) to client-to-server sealing key magic
// constant"}); Kcs = MD5({H(A1)[0..n], "Digest H(A1) to server-to-client sealing key magic
// constant"})"
/// The keys for the client-to-server direction (`client_to_server`) or the other one.
pub(crate) fn direction_keys(
    ha1: &[u8; 16],
    cipher: Option<Cipher>,
    client_to_server: bool,
) -> DirectionKeys {
    let dir = if client_to_server {
        "client-to-server"
    } else {
        "server-to-client"
    };
    let mut ki = Md5::new();
    ki.update(ha1);
    ki.update(format!(
        "Digest session key to {dir} signing key magic constant"
    ));
    let n = cipher.map_or(16, Cipher::ha1_bytes);
    let mut kc = Md5::new();
    kc.update(&ha1[..n]);
    kc.update(format!("Digest H(A1) to {dir} sealing key magic constant"));
    DirectionKeys {
        integrity: Zeroizing::new(ki.finalize().into()),
        sealing: Zeroizing::new(kc.finalize().into()),
    }
}

/// Parse 32 hex digits (either case) into 16 bytes.
pub(crate) fn parse_hex16(s: &str) -> Option<[u8; 16]> {
    let bytes = s.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = [0; 16];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// The 32 hex digits of `bytes`, for comparing against a received value.
pub(crate) fn to_hex(bytes: &[u8; 16]) -> [u8; 32] {
    hex(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_conversion() {
        // "é" is in ISO 8859-1: hashed as the single byte 0xE9, not UTF-8's C3 A9.
        assert_eq!(&*hash_bytes("é"), &[0xE9]);
        // "€" is not: the whole string stays UTF-8.
        assert_eq!(&*hash_bytes("é€"), "é€".as_bytes());
        assert_eq!(user_hash("é", "r", "p"), {
            let mut h = Md5::new();
            h.update(b"\xe9:r:p");
            <[u8; 16]>::from(h.finalize())
        });
    }

    #[test]
    fn hex_round_trip() {
        let b = [0x01, 0xAB, 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        assert_eq!(
            parse_hex16(std::str::from_utf8(&to_hex(&b)).unwrap()),
            Some(b)
        );
        assert_eq!(parse_hex16("0"), None);
        assert_eq!(parse_hex16(&"g".repeat(32)), None);
        assert_eq!(parse_hex16("+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1"), None);
    }
}
