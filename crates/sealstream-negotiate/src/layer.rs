//! The established context of whichever mechanism SPNEGO chose, as one pair of sealer halves.

use std::ops::Range;

use sealstream::sasl::{Unwrap, Wrap, WrapOverhead};
use sealstream::{Error, Qop, RecordMut};
use sealstream_krb5::{Krb5Unwrap, Krb5Wrap};
use sealstream_ntlm::{NtlmUnwrap, NtlmWrap};

use crate::initiator::Mechanism;

/// The sending half of the chosen mechanism.
// One per connection, moved once into its stream: boxing the Kerberos keys would only add an
// indirection to every token.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum SpnegoWrap {
    /// RFC 4121 Wrap tokens.
    Kerberos(Krb5Wrap),
    /// NTLM sealed messages.
    Ntlm(NtlmWrap),
}

/// The receiving half of the chosen mechanism.
#[allow(clippy::large_enum_variant)] // as SpnegoWrap
#[derive(Debug)]
pub enum SpnegoUnwrap {
    /// RFC 4121 Wrap tokens.
    Kerberos(Krb5Unwrap),
    /// NTLM sealed messages.
    Ntlm(NtlmUnwrap),
}

macro_rules! each {
    ($self:expr, $inner:ident => $e:expr) => {
        match $self {
            Self::Kerberos($inner) => $e,
            Self::Ntlm($inner) => $e,
        }
    };
}

impl Wrap for SpnegoWrap {
    fn overhead(&self) -> WrapOverhead {
        each!(self, w => w.overhead())
    }

    fn overhead_for(&self, qop: Qop) -> WrapOverhead {
        each!(self, w => w.overhead_for(qop))
    }

    fn wrap(&mut self, qop: Qop, token: RecordMut<'_>) -> Result<usize, Error> {
        each!(self, w => w.wrap(qop, token))
    }

    fn wrap_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        token: RecordMut<'_>,
    ) -> Result<usize, Error> {
        each!(self, w => w.wrap_copying(qop, plaintext, token))
    }

    fn supports_qop(&self, qop: Qop) -> bool {
        each!(self, w => w.supports_qop(qop))
    }

    fn sequence(&self) -> u64 {
        each!(self, w => Wrap::sequence(w))
    }
}

impl Unwrap for SpnegoUnwrap {
    fn unwrap(&mut self, token: &mut [u8]) -> Result<Range<usize>, Error> {
        each!(self, u => u.unwrap(token))
    }

    fn protection(&self) -> sealstream::Protection {
        each!(self, u => u.protection())
    }

    fn sequence(&self) -> u64 {
        each!(self, u => Unwrap::sequence(u))
    }
}

/// An established SPNEGO context: the mechanism chosen, whether its layer seals, and its
/// halves.
#[derive(Debug)]
pub struct Negotiated {
    pub(crate) mechanism: Mechanism,
    pub(crate) signed: bool,
    pub(crate) confidential: bool,
    pub(crate) user: String,
    pub(crate) wrap: SpnegoWrap,
    pub(crate) unwrap: SpnegoUnwrap,
}

impl Negotiated {
    /// An NTLM context after the mechListMIC exchange: MS-SPNG §3.3.5.1 has both ends start
    /// their RC4 keystreams over from the sealing keys here, the sequence numbers going on.
    pub(crate) fn ntlm(
        mut wrap: NtlmWrap,
        mut unwrap: NtlmUnwrap,
        user: String,
        (signed, sealed): (bool, bool),
    ) -> Self {
        wrap.rewind_keystream();
        unwrap.rewind_keystream();
        Self {
            mechanism: Mechanism::Ntlm,
            signed,
            confidential: sealed,
            user,
            wrap: SpnegoWrap::Ntlm(wrap),
            unwrap: SpnegoUnwrap::Ntlm(unwrap),
        }
    }

    /// The mechanism the acceptor chose.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Whether integrity was negotiated at all (Kerberos's `GSS_C_INTEG_FLAG` or
    /// `GSS_C_CONF_FLAG`, NTLM's SIGN or SEAL): without it the context authenticated the peer
    /// and protects nothing, which is what Active Directory requires over TLS.
    pub fn signed(&self) -> bool {
        self.signed
    }

    /// Whether confidentiality was negotiated (Kerberos's `GSS_C_CONF_FLAG`, NTLM's
    /// NTLMSSP_NEGOTIATE_SEAL). An NTLM layer seals on the wire either way, as Windows and
    /// Samba do on LDAP; a Kerberos layer without it sends integrity-only Wrap tokens.
    pub fn confidential(&self) -> bool {
        self.confidential
    }

    /// Who authenticated: the Kerberos client principal, or the NTLM `DOMAIN\user`.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The two halves, to frame as a SASL layer or run as a stream's sealer.
    pub fn into_halves(self) -> (SpnegoWrap, SpnegoUnwrap) {
        (self.wrap, self.unwrap)
    }
}
