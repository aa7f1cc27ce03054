//! Mechanisms other crates provide, and the channel-binding data mechanisms may use.
//!
//! A [`ClientMechanismFactory`] registered with a [`SaslClientConfig`](crate::SaslClientConfig) takes
//! part in [`SaslClientConfig::choose`](crate::SaslClientConfig::choose) like the mechanisms of this
//! crate: it says what it can negotiate ([`MechanismInfo`]), and makes a client from the
//! configuration when it is chosen. `sealstream-krb5` provides GSSAPI so, holding the service
//! ticket it needs (a KDC round trip the application makes before the exchange).

use std::fmt;

use crate::{AuthError, ClientMechanism, MechanismInfo, SaslClientConfig};

/// A client mechanism that can be registered with a [`SaslClientConfig`].
pub trait ClientMechanismFactory: Send + Sync + fmt::Debug {
    /// The mechanism's registered name and the strongest layer it can negotiate.
    fn info(&self) -> MechanismInfo;

    /// A client for one exchange, with `config`'s identity, requirements and channel bindings.
    fn client(&self, config: &SaslClientConfig) -> Result<Box<dyn ClientMechanism>, AuthError>;
}

/// Channel-binding data of the channel under SASL (RFC 5056): the binding type's name and the
/// bytes for this channel, as `sealstream-tls` computes them (`TlsInfo::channel_binding`).
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelBindingData {
    /// The channel-binding type: `tls-server-end-point`, `tls-exporter`, `tls-unique`.
    pub kind: String,
    /// The binding data for this channel.
    pub data: Vec<u8>,
}

impl ChannelBindingData {
    /// Data `data` of binding type `kind`.
    pub fn new(kind: impl Into<String>, data: Vec<u8>) -> Self {
        Self {
            kind: kind.into(),
            data,
        }
    }

    /// The type's name, a colon, then the data: the application data of GSS-API channel
    /// bindings, which start with the binding type's unique prefix and a colon (RFC 5056 §2.1;
    /// the prefixes of RFC 5929), as Active Directory expects them.
    pub fn prefixed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.kind.len() + 1 + self.data.len());
        out.extend_from_slice(self.kind.as_bytes());
        out.push(b':');
        out.extend_from_slice(&self.data);
        out
    }
}

impl fmt::Debug for ChannelBindingData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBindingData")
            .field("kind", &self.kind)
            .field("len", &self.data.len())
            .finish()
    }
}
