//! An established Kerberos security context, and its split into a sending and a receiving half.
//!
//! RFC 4121 §2: "the acceptor's subkey, if present, is used to protect the messages; otherwise
//! the initiator's subkey is used, or the session key if there is no subkey". Each direction has
//! its own key usages (22/23 for what the acceptor sends, 24/25 for what the initiator sends) and
//! its own sequence numbers, starting at the values the AP-REQ and AP-REP carried. The keys of
//! each usage are derived here, once; the halves own them and share nothing.

use super::header::{ACCEPTOR_SUBKEY, SENT_BY_ACCEPTOR};
use super::unwrap::Krb5Unwrap;
use super::wrap::Krb5Wrap;
use crate::crypto::Key;
use crate::usage;

/// Which end of the context this side is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The client: it sent the AP-REQ.
    Initiator,
    /// The service: it accepted the AP-REQ.
    Acceptor,
}

/// What a security layer gives its data by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protection {
    /// Wrap tokens without confidentiality (conf_flag 0): the data travels in clear with a
    /// checksum. SASL GSSAPI's integrity layer.
    Integrity,
    /// Sealed Wrap tokens: encrypted and checksummed. SASL GSSAPI's confidentiality layer.
    Confidentiality,
}

/// How the halves of a context wrap and unwrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub struct LayerOptions {
    pub(crate) protection: Protection,
    pub(crate) rotate: bool,
    pub(crate) accept_unsealed: bool,
}

impl LayerOptions {
    /// `protection` by default, no rotation, and (with confidentiality) unsealed tokens refused.
    pub fn new(protection: Protection) -> Self {
        Self {
            protection,
            rotate: false,
            accept_unsealed: false,
        }
    }

    /// Send tokens rotated as Windows does (RRC 28 sealed, 12 signed, for the SHA-1 types: the
    /// header copy and the HMAC right after the header), instead of MIT's RRC 0. Receiving
    /// accepts any rotation either way. Costs a move of each token's bytes.
    pub fn rotate_like_windows(mut self, rotate: bool) -> Self {
        self.rotate = rotate;
        self
    }

    /// With [`Protection::Confidentiality`], accept Wrap tokens the peer sent without
    /// confidentiality (SSPI's `SECQOP_WRAP_NO_ENCRYPT`) instead of refusing them with
    /// `SEC_E_QOP_NOT_SUPPORTED`. Off by default: a reader of a confidential layer must not be
    /// handed bytes that crossed the network in clear without asking for them.
    pub fn accept_unsealed(mut self, accept: bool) -> Self {
        self.accept_unsealed = accept;
        self
    }
}

/// An established RFC 4121 security context: the keys and sequence numbers the AP-REQ/AP-REP
/// exchange agreed on. Split it with [`into_halves`](Self::into_halves).
#[derive(Debug)]
pub struct SecurityContext {
    role: Role,
    key: Key,
    acceptor_subkey: Option<Key>,
    send_seq: u64,
    recv_seq: u64,
}

impl SecurityContext {
    /// A context for `role`, protected by `acceptor_subkey` if the acceptor sent one (in its
    /// AP-REP), otherwise by `key` (the initiator's subkey, or the ticket's session key), with
    /// the initial sequence numbers of each direction: ours, then the peer's.
    pub fn new(
        role: Role,
        key: Key,
        acceptor_subkey: Option<Key>,
        send_seq: u64,
        recv_seq: u64,
    ) -> Self {
        Self {
            role,
            key,
            acceptor_subkey,
            send_seq,
            recv_seq,
        }
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The key that protects the messages.
    pub fn message_key(&self) -> &Key {
        self.acceptor_subkey.as_ref().unwrap_or(&self.key)
    }

    /// The sending and the receiving half, each with its direction's keys derived.
    pub fn into_halves(self, options: LayerOptions) -> (Krb5Wrap, Krb5Unwrap) {
        let key = self.message_key();
        let subkey = if self.acceptor_subkey.is_some() {
            ACCEPTOR_SUBKEY
        } else {
            0
        };
        let (ours, theirs) = match self.role {
            Role::Initiator => (0, SENT_BY_ACCEPTOR),
            Role::Acceptor => (SENT_BY_ACCEPTOR, 0),
        };
        let (send_seal, send_sign, recv_seal, recv_sign) = match self.role {
            Role::Initiator => (
                usage::INITIATOR_SEAL,
                usage::INITIATOR_SIGN,
                usage::ACCEPTOR_SEAL,
                usage::ACCEPTOR_SIGN,
            ),
            Role::Acceptor => (
                usage::ACCEPTOR_SEAL,
                usage::ACCEPTOR_SIGN,
                usage::INITIATOR_SEAL,
                usage::INITIATOR_SIGN,
            ),
        };
        let wrap = Krb5Wrap::new(
            key.derive(send_seal),
            key.derive(send_sign),
            ours | subkey,
            self.send_seq,
            options,
        );
        let unwrap = Krb5Unwrap::new(
            key.derive(recv_seal),
            key.derive(recv_sign),
            theirs | subkey,
            self.recv_seq,
            options,
        );
        (wrap, unwrap)
    }
}
