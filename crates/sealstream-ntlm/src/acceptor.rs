//! The server side of NTLMv2 (MS-NLMP §3.2.5): a NEGOTIATE in, a CHALLENGE out, then the
//! client's AUTHENTICATE checked against the NT hash the application holds for the user.
//!
//! The check is split in two so an application can look the hash up however it keeps it (a
//! database, a directory, behind an await): [`Acceptor::authenticate`] parses the
//! AUTHENTICATE and says who it claims to be, as a [`Claim`]; [`Claim::verify`] checks it
//! with that user's hash. A claim whose user is unknown is simply dropped (answer the client
//! as for a wrong password, so it learns nothing).
//!
//! [`Acceptor::authenticate`] refuses LM, NTLMv1 and anonymous logons (`SEC_E_LOGON_DENIED`)
//! and malformed messages (`SEC_E_INVALID_TOKEN`). What [`Claim::verify`] checks, in order, each
//! failure with its own message:
//!
//! 1. the NTProofStr, made with the hash, the user and domain as sent, and our challenge
//!    (`SEC_E_LOGON_DENIED`: wrong password, or unknown user);
//! 2. the response's time, within the allowed skew of the timestamp we sent
//!    (`SEC_E_TIME_SKEW`);
//! 3. the MIC over the three messages, required by default (`SEC_E_MESSAGE_ALTERED` when it
//!    does not verify, `SEC_E_LOGON_DENIED` when it is missing);
//! 4. the channel bindings, when the server has them (`SEC_E_LOGON_DENIED` when missing or
//!    different), and the SPN the client meant, when the server names its own
//!    (`SEC_E_WRONG_PRINCIPAL`).

use std::time::{Duration, SystemTime};

use sealstream::{Error, Status};
use zeroize::Zeroizing;

use crate::crypto::{
    NtHash, channel_bindings_hash, mic, nt_proof, ntowfv2, rc4k, session_base_key,
};
use crate::flags::NegotiateFlags as F;
use crate::initiator::{ct_eq16, require};
use crate::messages::{Authenticate, Challenge, MIC_AT, MIC_LEN, Negotiate};
use crate::session::{Role, SessionContext};
use crate::target_info::{
    AV_CHANNEL_BINDINGS, AV_DNS_COMPUTER_NAME, AV_DNS_DOMAIN_NAME, AV_FLAG_MIC,
    AV_NB_COMPUTER_NAME, AV_NB_DOMAIN_NAME, AV_TARGET_NAME, AV_TIMESTAMP, TargetInfo,
};
use crate::time::{distance, filetime};
use crate::wire::{from_utf16le, invalid, utf16le};

/// Where a server finds a user's NT hash, for mechanisms that look it up while they run (the
/// SASL servers); an application driving [`Acceptor`] itself looks it up between
/// [`Acceptor::authenticate`] and [`Claim::verify`] however it likes.
pub trait NtHashLookup: Send + Sync {
    /// The NT hash of `user` in `domain` (as the client sent them), or `None` for an unknown
    /// user (refused like a wrong password).
    fn nt_hash(&self, domain: &str, user: &str) -> Option<NtHash>;
}

impl<F: Fn(&str, &str) -> Option<NtHash> + Send + Sync> NtHashLookup for F {
    fn nt_hash(&self, domain: &str, user: &str) -> Option<NtHash> {
        self(domain, user)
    }
}

/// The flags a server answers with, besides what the client offered of SIGN, SEAL and
/// KEY_EXCH.
const ANSWER: F = F::UNICODE
    .union(F::REQUEST_TARGET)
    .union(F::NTLM)
    .union(F::ALWAYS_SIGN)
    .union(F::TARGET_TYPE_DOMAIN)
    .union(F::EXTENDED_SESSION_SECURITY)
    .union(F::TARGET_INFO)
    .union(F::VERSION)
    .union(F::KEY_128);

/// Length of the fixed part of `temp`, before the target information.
const TEMP_FIXED: usize = 28;

/// What a server says about itself and requires of clients.
#[derive(Clone, Debug)]
#[must_use]
pub struct AcceptorOptions {
    domain: String,
    computer: String,
    dns_domain: Option<String>,
    dns_computer: Option<String>,
    max_skew: Duration,
    require_mic: bool,
    channel_bindings: Option<Vec<u8>>,
    spn: Option<String>,
}

impl AcceptorOptions {
    /// The server `computer` of the NetBIOS domain `domain` (`MsvAvNbDomainName`,
    /// `MsvAvNbComputerName`): it requires a MIC, allows five minutes between its timestamp and
    /// the client's response, and has no channel bindings or SPN to check.
    pub fn new(domain: impl Into<String>, computer: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            computer: computer.into(),
            dns_domain: None,
            dns_computer: None,
            max_skew: Duration::from_secs(300),
            require_mic: true,
            channel_bindings: None,
            spn: None,
        }
    }

    /// The DNS names of the domain and the server (`MsvAvDnsDomainName`,
    /// `MsvAvDnsComputerName`).
    pub fn dns_names(mut self, domain: impl Into<String>, computer: impl Into<String>) -> Self {
        self.dns_domain = Some(domain.into());
        self.dns_computer = Some(computer.into());
        self
    }

    /// How far the client's response time may lie from the timestamp the server sent.
    pub fn max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self
    }

    /// Whether an AUTHENTICATE without a MIC is refused (the default: Windows, Samba and
    /// gss-ntlmssp all send one, and without it the flags can be changed on the way).
    pub fn require_mic(mut self, require: bool) -> Self {
        self.require_mic = require;
        self
    }

    /// The TLS channel bindings' application data of this connection: a client must send the
    /// same (`MsvAvChannelBindings`), or it is refused.
    pub fn channel_bindings(mut self, application_data: impl Into<Vec<u8>>) -> Self {
        self.channel_bindings = Some(application_data.into());
        self
    }

    /// The server's own SPN: a client that names another service (`MsvAvTargetName`) is
    /// refused. A client that names none is accepted.
    pub fn spn(mut self, spn: impl Into<String>) -> Self {
        self.spn = Some(spn.into());
        self
    }
}

/// The server's side of one NTLM exchange, between its CHALLENGE and the client's
/// AUTHENTICATE.
#[derive(Debug)]
pub struct Acceptor {
    options: AcceptorOptions,
    negotiate: Vec<u8>,
    challenge: Vec<u8>,
    server_challenge: [u8; 8],
    timestamp: u64,
    flags: F,
}

impl Acceptor {
    /// Answer a client's NEGOTIATE: the acceptor, and the CHALLENGE to send.
    pub fn new(
        options: AcceptorOptions,
        negotiate: &[u8],
        now: SystemTime,
    ) -> Result<(Self, Vec<u8>), Error> {
        let mut server_challenge = [0; 8];
        getrandom::getrandom(&mut server_challenge)
            .map_err(|e| Error::new(Status::InternalError, format!("no randomness: {e}")))?;
        Self::with_challenge(options, negotiate, now, server_challenge)
    }

    pub(crate) fn with_challenge(
        options: AcceptorOptions,
        negotiate: &[u8],
        now: SystemTime,
        server_challenge: [u8; 8],
    ) -> Result<(Self, Vec<u8>), Error> {
        let offered = Negotiate::parse(negotiate)?.flags;
        require(offered, "client")?;
        let flags = ANSWER.union(offered.intersection(F::SIGN.union(F::SEAL).union(F::KEY_EXCH)));
        let timestamp = filetime(now);
        let mut info = TargetInfo::new();
        info.set_str(AV_NB_DOMAIN_NAME, &options.domain)?;
        info.set_str(AV_NB_COMPUTER_NAME, &options.computer)?;
        if let (Some(domain), Some(computer)) = (&options.dns_domain, &options.dns_computer) {
            info.set_str(AV_DNS_DOMAIN_NAME, domain)?;
            info.set_str(AV_DNS_COMPUTER_NAME, computer)?;
        }
        info.set(AV_TIMESTAMP, &timestamp.to_le_bytes())?;
        let challenge = Challenge {
            flags,
            server_challenge,
            target_name: utf16le(&options.domain),
            target_info: info,
        }
        .to_bytes()?;
        let out = challenge.clone();
        Ok((
            Self {
                options,
                negotiate: negotiate.to_vec(),
                challenge,
                server_challenge,
                timestamp,
                flags,
            },
            out,
        ))
    }

    /// Read the client's AUTHENTICATE: who it claims to be, to be checked with that user's
    /// NT hash. Malformed messages and legacy responses are refused here.
    pub fn authenticate(self, message: &[u8]) -> Result<Claim, Error> {
        let plain = Authenticate::parse(message, false)?;
        if plain.user.is_empty() && plain.nt_response.is_empty() {
            return Err(Error::new(
                Status::LogonDenied,
                "anonymous NTLM logons are refused",
            ));
        }
        if plain.nt_response.len() == 24 {
            return Err(Error::new(
                Status::LogonDenied,
                "NTLMv1 responses are refused (NTLMv2 only)",
            ));
        }
        if plain.nt_response.len() < 16 + TEMP_FIXED + 4 {
            return Err(invalid(format!(
                "an NTLMv2 response of {} bytes is too short",
                plain.nt_response.len()
            )));
        }
        let temp = &plain.nt_response[16..];
        if temp[..2] != [1, 1] {
            return Err(invalid("the NTLMv2 response's version is not 1"));
        }
        let info = TargetInfo::parse(&temp[TEMP_FIXED..])?;
        let with_mic = info.flags() & AV_FLAG_MIC != 0;
        let authenticate = if with_mic {
            Authenticate::parse(message, true)?
        } else {
            plain
        };
        Ok(Claim {
            acceptor: self,
            message: message.to_vec(),
            authenticate,
            info,
        })
    }
}

/// An AUTHENTICATE read but not yet checked: who it claims to be.
#[derive(Debug)]
pub struct Claim {
    acceptor: Acceptor,
    message: Vec<u8>,
    authenticate: Authenticate,
    info: TargetInfo,
}

impl Claim {
    /// The user name as the client sent it.
    pub fn user(&self) -> &str {
        &self.authenticate.user
    }

    /// The domain as the client sent it (empty with a UPN).
    pub fn domain(&self) -> &str {
        &self.authenticate.domain
    }

    /// The client's workstation name.
    pub fn workstation(&self) -> &str {
        &self.authenticate.workstation
    }

    /// Check the claim with the user's NT hash; `now` is the server's time.
    pub fn verify(self, hash: &NtHash, now: SystemTime) -> Result<Accepted, Error> {
        let Claim {
            acceptor,
            message,
            authenticate: a,
            info,
        } = self;
        let options = &acceptor.options;
        let key = ntowfv2(hash, &a.user, &a.domain);
        let (proof, temp) = a.nt_response.split_at(16);
        let expected = nt_proof(&key, &acceptor.server_challenge, temp);
        if !ct_eq16(&expected[..], proof) {
            return Err(Error::new(
                Status::LogonDenied,
                "the NTLMv2 response does not verify: wrong password, or unknown user",
            ));
        }
        let time = u64::from_le_bytes(temp[8..16].try_into().expect("8 bytes"));
        let skew = distance(time, acceptor.timestamp);
        if skew > options.max_skew {
            return Err(Error::new(
                Status::TimeSkew,
                format!(
                    "the NTLMv2 response's time is {} s from the CHALLENGE's timestamp \
                     (allowed: {} s)",
                    skew.as_secs(),
                    options.max_skew.as_secs()
                ),
            ));
        }
        let age = distance(filetime(now), acceptor.timestamp);
        if age > options.max_skew {
            return Err(Error::new(
                Status::TimeSkew,
                format!(
                    "the CHALLENGE was sent {} s ago (allowed: {} s)",
                    age.as_secs(),
                    options.max_skew.as_secs()
                ),
            ));
        }
        let flags = a.flags.intersection(acceptor.flags);
        require(flags, "client")?;
        let base = session_base_key(&key, &expected);
        let exported = if flags.contains(F::KEY_EXCH) {
            let mut k: [u8; 16] = a.encrypted_session_key.as_slice().try_into().map_err(|_| {
                invalid(format!(
                    "the encrypted session key is {} bytes, not 16",
                    a.encrypted_session_key.len()
                ))
            })?;
            rc4k(&base, &mut k);
            Zeroizing::new(k)
        } else {
            base
        };
        let had_mic = a.mic.is_some();
        match a.mic {
            Some(received) => {
                let mut zeroed = message;
                zeroed[MIC_AT..MIC_AT + MIC_LEN].fill(0);
                let code = mic(&exported, &acceptor.negotiate, &acceptor.challenge, &zeroed);
                if !ct_eq16(&code, &received) {
                    return Err(Error::message_altered(
                        "the AUTHENTICATE's MIC does not verify: the exchange was changed on the way",
                    ));
                }
            }
            None if options.require_mic => {
                return Err(Error::new(
                    Status::LogonDenied,
                    "the client sent no MIC, and this server requires one",
                ));
            }
            None => {}
        }
        if let Some(data) = &options.channel_bindings {
            let sent = info.get(AV_CHANNEL_BINDINGS).unwrap_or(&[]);
            if !ct_eq16(sent, &channel_bindings_hash(data)) {
                return Err(Error::new(
                    Status::LogonDenied,
                    "the client's channel bindings are missing or name another TLS channel",
                ));
            }
        }
        if let (Some(ours), Some(theirs)) = (&options.spn, info.get(AV_TARGET_NAME)) {
            let theirs = from_utf16le(theirs, "MsvAvTargetName")?;
            if !theirs.is_empty() && !theirs.eq_ignore_ascii_case(ours) {
                return Err(Error::new(
                    Status::WrongPrincipal,
                    format!("the client authenticated to {theirs:?}, not to {ours:?}"),
                ));
            }
        }
        Ok(Accepted {
            user: a.user,
            domain: a.domain,
            context: SessionContext::new(Role::Acceptor, flags, exported).with_mic(had_mic),
        })
    }
}

/// A client the server has authenticated.
#[derive(Debug)]
pub struct Accepted {
    user: String,
    domain: String,
    context: SessionContext,
}

impl Accepted {
    /// The user name as the client sent it.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The domain as the client sent it.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The established context, to split into a layer's halves.
    pub fn into_context(self) -> SessionContext {
        self.context
    }
}
