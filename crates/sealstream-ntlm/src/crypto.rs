//! NTLMv2's cryptography (MS-NLMP §3.3.2, §3.4.5), on RustCrypto's MD4, MD5, HMAC and RC4.
//!
//! Every function here is one line of the specification's pseudocode; names follow it
//! (`NTOWFv2`, `NTProofStr`, `SessionBaseKey`, `SIGNKEY`, `SEALKEY`) so the two can be read side
//! by side. Keys live in [`Zeroizing`] buffers and are wiped when dropped.

use hmac::{Hmac, KeyInit, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use rc4::{Rc4, StreamCipher};
use sealstream::{Error, Status};
use zeroize::Zeroizing;

use crate::wire::utf16le;

/// A 16-byte key.
pub(crate) type Key16 = Zeroizing<[u8; 16]>;

/// The NT hash of a password: MD4 of its UTF-16LE form (§3.3.1 `NTOWFv1`). What a Windows
/// domain stores for an account, and all NTLMv2 needs of the password.
#[derive(Clone, PartialEq, Eq)]
pub struct NtHash(Key16);

impl NtHash {
    /// The NT hash of `password`.
    pub fn from_password(password: &str) -> Self {
        let utf16 = Zeroizing::new(utf16le(password));
        let mut out = Zeroizing::new([0; 16]);
        out.copy_from_slice(&Md4::digest(&utf16[..]));
        Self(out)
    }

    /// A hash already known (from a directory, or `secretsdump`-style 32 hex digits).
    pub fn from_bytes(hash: [u8; 16]) -> Self {
        Self(Zeroizing::new(hash))
    }

    /// A hash written as 32 hexadecimal digits.
    pub fn from_hex(hex: &str) -> Result<Self, Error> {
        let bad = || {
            Error::new(
                Status::InvalidParameter,
                "an NT hash is 32 hexadecimal digits",
            )
        };
        if hex.len() != 32 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = Zeroizing::new([0; 16]);
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }

    pub(crate) fn bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Debug for NtHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NtHash(..)")
    }
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> Key16 {
    let mut mac = <Hmac<Md5> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    let mut out = Zeroizing::new([0; 16]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// `NTOWFv2(Passwd, User, UserDom) = HMAC_MD5(MD4(UNICODE(Passwd)),
/// UNICODE(ConcatenationOf(Uppercase(User), UserDom)))`, the NTLMv2 response key.
pub(crate) fn ntowfv2(hash: &NtHash, user: &str, domain: &str) -> Key16 {
    let identity = Zeroizing::new(utf16le(&format!("{}{domain}", upcase(user))));
    hmac_md5(hash.bytes(), &[&identity])
}

/// Upper case as Windows does it for names: character by character, a character whose upper
/// case is not a single character left as it is ('ß' stays 'ß', where Unicode's full mapping
/// makes it "SS").
fn upcase(name: &str) -> String {
    name.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// `NTProofStr = HMAC_MD5(ResponseKeyNT, ConcatenationOf(CHALLENGE_MESSAGE.ServerChallenge,
/// temp))`.
pub(crate) fn nt_proof(response_key: &[u8; 16], server_challenge: &[u8; 8], temp: &[u8]) -> Key16 {
    hmac_md5(response_key, &[server_challenge, temp])
}

/// `LmChallengeResponse = ConcatenationOf(HMAC_MD5(ResponseKeyLM,
/// ConcatenationOf(CHALLENGE_MESSAGE.ServerChallenge, ClientChallenge)), ClientChallenge)`.
pub(crate) fn lmv2_response(
    response_key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
) -> [u8; 24] {
    let mac = hmac_md5(response_key, &[server_challenge, client_challenge]);
    let mut out = [0; 24];
    out[..16].copy_from_slice(&mac[..]);
    out[16..].copy_from_slice(client_challenge);
    out
}

/// `SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr)`; with NTLMv2 it is also the
/// KeyExchangeKey (§3.4.5.1).
pub(crate) fn session_base_key(response_key: &[u8; 16], nt_proof: &[u8; 16]) -> Key16 {
    hmac_md5(response_key, &[nt_proof])
}

/// `RC4K(K, D)`: RC4 with a fresh key over one buffer, in place (the key exchange).
pub(crate) fn rc4k(key: &[u8; 16], data: &mut [u8; 16]) {
    Rc4::new_from_slice(key)
        .expect("RC4 takes a 16-byte key")
        .apply_keystream(data);
}

/// The message integrity code of §3.1.5.1.2: `HMAC_MD5(ExportedSessionKey,
/// ConcatenationOf(NEGOTIATE_MESSAGE, CHALLENGE_MESSAGE, AUTHENTICATE_MESSAGE))`, the last with
/// its MIC field zeroed.
pub(crate) fn mic(
    exported_session_key: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> [u8; 16] {
    *hmac_md5(exported_session_key, &[negotiate, challenge, authenticate])
}

/// The direction a key protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    ClientToServer,
    ServerToClient,
}

// §3.4.5.2 SIGNKEY and §3.4.5.3 SEALKEY with extended session security: MD5 of the key and a
// magic constant, the constant's terminating NUL included.
const CLIENT_SIGN: &[u8] = b"session key to client-to-server signing key magic constant\0";
const SERVER_SIGN: &[u8] = b"session key to server-to-client signing key magic constant\0";
const CLIENT_SEAL: &[u8] = b"session key to client-to-server sealing key magic constant\0";
const SERVER_SEAL: &[u8] = b"session key to server-to-client sealing key magic constant\0";

fn md5_of(parts: &[&[u8]]) -> Key16 {
    let mut h = Md5::new();
    for part in parts {
        h.update(part);
    }
    let mut out = Zeroizing::new([0; 16]);
    out.copy_from_slice(&h.finalize());
    out
}

/// `SIGNKEY(NegFlg, ExportedSessionKey, Mode)` with extended session security.
pub(crate) fn sign_key(exported_session_key: &[u8; 16], direction: Direction) -> Key16 {
    let magic = match direction {
        Direction::ClientToServer => CLIENT_SIGN,
        Direction::ServerToClient => SERVER_SIGN,
    };
    md5_of(&[exported_session_key, magic])
}

/// `SEALKEY(NegFlg, ExportedSessionKey, Mode)` with extended session security and
/// NTLMSSP_NEGOTIATE_128, the only strength this crate negotiates (the 40- and 56-bit cuts are
/// refused before keys are made).
pub(crate) fn seal_key(exported_session_key: &[u8; 16], direction: Direction) -> Key16 {
    let magic = match direction {
        Direction::ClientToServer => CLIENT_SEAL,
        Direction::ServerToClient => SERVER_SEAL,
    };
    md5_of(&[exported_session_key, magic])
}

/// The MD5 of a GSS channel-bindings structure (RFC 2744 §3.11, as `MsvAvChannelBindings`
/// carries it): zero address types and empty addresses, then the application data with its
/// length, each length a little-endian u32.
pub fn channel_bindings_hash(application_data: &[u8]) -> [u8; 16] {
    let len = u32::try_from(application_data.len()).unwrap_or(u32::MAX);
    *md5_of(&[&[0; 16], &len.to_le_bytes(), application_data])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    // MS-NLMP §4.2.4: User "User", UserDom "Domain", Passwd "Password".
    #[test]
    fn nt_hash_and_ntowfv2_match_ms_nlmp() {
        let hash = NtHash::from_password("Password");
        assert_eq!(hash.bytes()[..], hex("a4f49c406510bdcab6824ee7c30fd852"));
        assert_eq!(
            NtHash::from_hex("a4f49c406510bdcab6824ee7c30fd852").unwrap(),
            hash
        );
        assert!(NtHash::from_hex("a4f49c406510bdcab6824ee7c30fd85").is_err());
        assert!(NtHash::from_hex("g4f49c406510bdcab6824ee7c30fd852").is_err());
        assert_eq!(
            ntowfv2(&hash, "User", "Domain")[..],
            hex("0c868a403bfd7a93a3001ef22ef02e3f")
        );
        // The user name is upper-cased, the domain is not.
        assert_eq!(
            ntowfv2(&hash, "user", "Domain"),
            ntowfv2(&hash, "User", "Domain")
        );
        assert_ne!(
            ntowfv2(&hash, "User", "domain"),
            ntowfv2(&hash, "User", "Domain")
        );
        // One character for one, as Windows upper-cases names.
        assert_eq!(upcase("straße-émile"), "STRAßE-ÉMILE");
        assert_eq!(format!("{hash:?}"), "NtHash(..)");
    }

    #[test]
    fn ntlmv2_response_and_keys_match_ms_nlmp() {
        let key = ntowfv2(&NtHash::from_password("Password"), "User", "Domain");
        let server_challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        let client_challenge = [0xaa; 8];
        // §4.2.4.2.1 LMv2 response.
        assert_eq!(
            lmv2_response(&key, &server_challenge, &client_challenge)[..],
            hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        // §4.2.4.2.2: temp with time 0 and the CHALLENGE's target information.
        let temp = hex("01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000\
             02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000\
             00000000");
        let proof = nt_proof(&key, &server_challenge, &temp);
        assert_eq!(proof[..], hex("68cd0ab851e51c96aabc927bebef6a1c"));
        let base = session_base_key(&key, &proof);
        assert_eq!(base[..], hex("8de40ccadbc14a82f15cb0ad0de95ca3"));
        // §4.2.4.2.2 key exchange: RandomSessionKey 55.. encrypted under the KeyExchangeKey.
        let mut random = [0x55; 16];
        rc4k(&base, &mut random);
        assert_eq!(random[..], hex("c5dad2544fc9799094ce1ce90bc9d03e"));
        // §4.2.4.4 keys from ExportedSessionKey = RandomSessionKey.
        let exported = [0x55; 16];
        assert_eq!(
            seal_key(&exported, Direction::ClientToServer)[..],
            hex("59f600973cc4960a25480a7c196e4c58")
        );
        assert_eq!(
            sign_key(&exported, Direction::ClientToServer)[..],
            hex("4788dc861b4782f35d43fd98fe1a2d39")
        );
    }
}
