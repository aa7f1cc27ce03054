//! The client side of NTLMv2 (MS-NLMP §3.1.5.1): a NEGOTIATE out, the server's CHALLENGE in,
//! the AUTHENTICATE out, and the session keys.
//!
//! Sans-IO: [`Initiator::new`] returns the bytes to send and [`Initiator::finish`] takes the
//! bytes received; the application carries them in whatever its protocol uses (a SASL bind, an
//! HTTP header, an SPNEGO token).

use std::time::SystemTime;

use sealstream::{Error, Status};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::crypto::{
    Key16, channel_bindings_hash, lmv2_response, mic, nt_proof, ntowfv2, rc4k, session_base_key,
};
use crate::flags::NegotiateFlags as F;
use crate::messages::{Authenticate, Challenge, MIC_AT, MIC_LEN, Negotiate};
use crate::session::{Role, SessionContext};
use crate::target_info::{
    AV_CHANNEL_BINDINGS, AV_DNS_COMPUTER_NAME, AV_DNS_DOMAIN_NAME, AV_DNS_TREE_NAME, AV_FLAG_MIC,
    AV_FLAGS, AV_NB_COMPUTER_NAME, AV_NB_DOMAIN_NAME, AV_TARGET_NAME, AV_TIMESTAMP, TargetInfo,
};

/// The target information pairs a client copies from the server's CHALLENGE into its
/// response (MS-NLMP §3.1.5.1.2): the server's names and its timestamp.
const SERVER_PAIRS: [u16; 6] = [
    AV_NB_COMPUTER_NAME,
    AV_NB_DOMAIN_NAME,
    AV_DNS_COMPUTER_NAME,
    AV_DNS_DOMAIN_NAME,
    AV_DNS_TREE_NAME,
    AV_TIMESTAMP,
];
use crate::time::filetime;

/// What the initiator offers: NTLMv2 with extended session security, 128-bit keys, key
/// exchange, signing and sealing, Unicode; nothing legacy.
pub(crate) const OFFER: F = F::UNICODE
    .union(F::REQUEST_TARGET)
    .union(F::SIGN)
    .union(F::SEAL)
    .union(F::NTLM)
    .union(F::ALWAYS_SIGN)
    .union(F::EXTENDED_SESSION_SECURITY)
    .union(F::VERSION)
    .union(F::KEY_128)
    .union(F::KEY_EXCH);

/// Flags without which this crate does not go on: each names what would be lost.
pub(crate) fn require(flags: F, peer: &str) -> Result<(), Error> {
    let missing = [
        (F::UNICODE, "Unicode strings"),
        (
            F::EXTENDED_SESSION_SECURITY,
            "extended session security (NTLMv1-style session security is refused)",
        ),
        (
            F::KEY_128,
            "128-bit session keys (40- and 56-bit keys are refused)",
        ),
    ]
    .into_iter()
    .find(|(flag, _)| !flags.contains(*flag));
    match missing {
        Some((_, what)) => Err(Error::new(
            Status::UnsupportedFunction,
            format!("the {peer} does not negotiate {what}"),
        )),
        None => Ok(()),
    }
}

/// Options of an [`Initiator`].
#[derive(Clone, Debug)]
#[must_use]
pub struct InitiatorOptions {
    target_name: Option<String>,
    channel_bindings: Option<Vec<u8>>,
    workstation: String,
    offer: F,
}

impl Default for InitiatorOptions {
    /// Signing and sealing offered, no SPN, no channel bindings, no workstation name.
    fn default() -> Self {
        Self {
            target_name: None,
            channel_bindings: None,
            workstation: String::new(),
            offer: OFFER,
        }
    }
}

impl InitiatorOptions {
    /// Whether to offer signing (NTLMSSP_NEGOTIATE_SIGN) and sealing (NTLMSSP_NEGOTIATE_SEAL);
    /// both by default. Servers that apply a layer by the flags (Active Directory's LDAP) sign
    /// when only SIGN is settled and seal when SEAL is, and refuse binds with neither when
    /// signing is required.
    pub fn session_security(mut self, sign: bool, seal: bool) -> Self {
        let mut offer = OFFER.difference(F::SIGN.union(F::SEAL));
        if sign {
            offer = offer.union(F::SIGN);
        }
        if seal {
            offer = offer.union(F::SEAL);
        }
        self.offer = offer;
        self
    }

    /// The service principal name the client means (`ldap/dc1.example.com`), sent as
    /// `MsvAvTargetName` so a server can refuse an exchange relayed from another service.
    pub fn target_name(mut self, spn: impl Into<String>) -> Self {
        self.target_name = Some(spn.into());
        self
    }

    /// The application data of the TLS channel bindings (`tls-server-end-point:` and the
    /// certificate hash, RFC 5929), whose MD5 goes in `MsvAvChannelBindings`.
    pub fn channel_bindings(mut self, application_data: impl Into<Vec<u8>>) -> Self {
        self.channel_bindings = Some(application_data.into());
        self
    }

    /// The workstation name to send (empty by default).
    pub fn workstation(mut self, name: impl Into<String>) -> Self {
        self.workstation = name.into();
        self
    }
}

/// The client's side of one NTLM exchange, between its NEGOTIATE and the server's CHALLENGE.
#[derive(Debug)]
pub struct Initiator {
    credentials: Credentials,
    options: InitiatorOptions,
    negotiate: Vec<u8>,
}

/// The random values of one AUTHENTICATE.
pub(crate) struct Randomness {
    pub(crate) client_challenge: [u8; 8],
    pub(crate) session_key: Key16,
}

impl Randomness {
    fn fresh() -> Result<Self, Error> {
        let mut client_challenge = [0; 8];
        let mut session_key = Zeroizing::new([0; 16]);
        getrandom::getrandom(&mut client_challenge)
            .and_then(|()| getrandom::getrandom(&mut session_key[..]))
            .map_err(|e| Error::new(Status::InternalError, format!("no randomness: {e}")))?;
        Ok(Self {
            client_challenge,
            session_key,
        })
    }
}

impl Initiator {
    /// Start an exchange for `credentials`: the initiator, and the NEGOTIATE to send.
    pub fn new(credentials: Credentials, options: InitiatorOptions) -> (Self, Vec<u8>) {
        let negotiate = Negotiate {
            flags: options.offer,
        }
        .to_bytes();
        let out = negotiate.clone();
        (
            Self {
                credentials,
                options,
                negotiate,
            },
            out,
        )
    }

    /// The user as the AUTHENTICATE will name it: `DOMAIN\user`, or the user alone when the
    /// domain is empty (a UPN).
    pub fn user_name(&self) -> String {
        match self.credentials.domain() {
            "" => self.credentials.user().to_owned(),
            domain => format!("{domain}\\{}", self.credentials.user()),
        }
    }

    /// Answer the server's CHALLENGE: the AUTHENTICATE to send, and the established context.
    /// `now` is the time to put in the response when the server sent none.
    pub fn finish(
        self,
        challenge: &[u8],
        now: SystemTime,
    ) -> Result<(Vec<u8>, SessionContext), Error> {
        self.finish_with(challenge, now, Randomness::fresh()?)
    }

    pub(crate) fn finish_with(
        self,
        challenge_bytes: &[u8],
        now: SystemTime,
        random: Randomness,
    ) -> Result<(Vec<u8>, SessionContext), Error> {
        let challenge = Challenge::parse(challenge_bytes)?;
        require(challenge.flags, "server")?;
        let flags = challenge.flags.intersection(self.options.offer);
        // The pairs the client vouches for: the server's names and timestamp (the first of
        // each), then what the client itself says. A pair the server made up for the client to
        // sign (a target name, flags claiming a MIC, a single-host token) is not echoed.
        let mut info = TargetInfo::new();
        for (id, value) in challenge.target_info.iter() {
            if SERVER_PAIRS.contains(&id) && info.get(id).is_none() {
                info.set(id, value)?;
            }
        }
        // §3.1.5.1.2: with the server's timestamp, use it, send a MIC and no LMv2 response.
        let server_time = info.timestamp();
        let time = server_time.unwrap_or_else(|| filetime(now));
        if server_time.is_some() {
            info.set(AV_FLAGS, &AV_FLAG_MIC.to_le_bytes())?;
        }
        if let Some(spn) = &self.options.target_name {
            info.set_str(AV_TARGET_NAME, spn)?;
        }
        let bindings = self
            .options
            .channel_bindings
            .as_deref()
            .map_or([0; 16], channel_bindings_hash);
        info.set(AV_CHANNEL_BINDINGS, &bindings)?;

        let key = ntowfv2(
            self.credentials.hash(),
            self.credentials.user(),
            self.credentials.domain(),
        );
        let temp = temp(time, &random.client_challenge, &info);
        let proof = nt_proof(&key, &challenge.server_challenge, &temp);
        let mut nt_response = proof.to_vec();
        nt_response.extend_from_slice(&temp);
        let lm_response = match server_time {
            Some(_) => [0; 24],
            None => lmv2_response(&key, &challenge.server_challenge, &random.client_challenge),
        };
        let base = session_base_key(&key, &proof);
        let (exported, encrypted_session_key) = if flags.contains(F::KEY_EXCH) {
            let mut encrypted = *random.session_key;
            rc4k(&base, &mut encrypted);
            (random.session_key, encrypted.to_vec())
        } else {
            (base, Vec::new())
        };

        let authenticate = Authenticate {
            flags,
            lm_response: lm_response.to_vec(),
            nt_response,
            domain: self.credentials.domain().to_owned(),
            user: self.credentials.user().to_owned(),
            workstation: self.options.workstation.clone(),
            encrypted_session_key,
            mic: None,
        };
        let mut bytes = authenticate.to_bytes()?;
        if server_time.is_some() {
            let code = mic(&exported, &self.negotiate, challenge_bytes, &bytes);
            bytes[MIC_AT..MIC_AT + MIC_LEN].copy_from_slice(&code);
        }
        let context = SessionContext::new(Role::Initiator, flags, exported);
        Ok((bytes, context.with_mic(server_time.is_some())))
    }
}

/// The NTLMv2 client challenge structure `temp` (§2.2.2.7, §3.3.2): response versions 1 and 1,
/// six reserved bytes, the time, the client challenge, four reserved bytes, the target
/// information, and four more.
pub(crate) fn temp(time: u64, client_challenge: &[u8; 8], info: &TargetInfo) -> Vec<u8> {
    let info = info.to_bytes();
    let mut out = Vec::with_capacity(28 + info.len() + 4);
    out.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(client_challenge);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&info);
    out.extend_from_slice(&[0; 4]);
    out
}

/// Whether two 16-byte values are equal, in constant time.
pub(crate) fn ct_eq16(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests;
