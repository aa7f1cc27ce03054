//! A client that picks its mechanism from the server's list.
//!
//! LDAP clients read `supportedSASLMechanisms` from the root DSE, IMAP clients the `AUTH=`
//! capabilities; either way the application has credentials and requirements, not a mechanism.
//! [`ClientConfig::choose`] takes the strongest offered mechanism those allow.

use std::fmt;

use zeroize::Zeroizing;

use crate::digest::{DigestClient, DigestClientConfig};
use crate::external::ExternalClient;
use crate::plain::PlainClient;
use crate::props::{MechanismInfo, choose_mechanism};
use crate::{AuthError, ClientMechanism, SecurityProperties};

/// A client's credentials, target and requirements, for any mechanism.
#[derive(Clone)]
pub struct ClientConfig {
    /// The authentication identity; `None` when only EXTERNAL may be used.
    pub authcid: Option<String>,
    /// The password for `authcid`.
    pub password: Zeroizing<String>,
    /// The identity to act as, if not oneself.
    pub authzid: Option<String>,
    /// The service type (`ldap`, `imap`).
    pub service: String,
    /// The server's host name.
    pub host: String,
    /// The realm, when the server offers several.
    pub realm: Option<String>,
    /// Whether the lower layer authenticated us (a TLS client certificate): enables EXTERNAL.
    pub external: bool,
    /// Requirements on the layer, and our maxbuf.
    pub props: SecurityProperties,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("authcid", &self.authcid)
            .field("authzid", &self.authzid)
            .field("service", &self.service)
            .field("host", &self.host)
            .field("realm", &self.realm)
            .field("external", &self.external)
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A password-holding client for `service/host`, default properties, no EXTERNAL.
    pub fn new(
        authcid: impl Into<String>,
        password: impl Into<String>,
        service: impl Into<String>,
        host: impl Into<String>,
    ) -> Self {
        Self {
            authcid: Some(authcid.into()),
            password: Zeroizing::new(password.into()),
            authzid: None,
            service: service.into(),
            host: host.into(),
            realm: None,
            external: false,
            props: SecurityProperties::default(),
        }
    }

    /// The mechanisms this configuration can run, most preferred first for equal strength.
    pub fn available(&self) -> Vec<MechanismInfo> {
        let mut out = Vec::new();
        if self.authcid.is_some() {
            out.push(MechanismInfo::DIGEST_MD5);
        }
        if self.external {
            out.push(MechanismInfo::EXTERNAL);
        }
        if self.authcid.is_some() {
            out.push(MechanismInfo::PLAIN);
        }
        out
    }

    /// The client for the strongest mechanism in `offered` that satisfies the properties.
    pub fn choose(&self, offered: &[&str]) -> Result<Box<dyn ClientMechanism>, AuthError> {
        let chosen =
            choose_mechanism(offered, &self.available(), &self.props).ok_or_else(|| {
                AuthError::policy(format!(
                    "none of the offered mechanisms {offered:?} satisfies min_ssf {}{}",
                    self.props.min_ssf,
                    if self.props.no_plaintext {
                        " without a plaintext password"
                    } else {
                        ""
                    }
                ))
            })?;
        let authcid = self.authcid.clone().unwrap_or_default();
        Ok(match chosen.name {
            "EXTERNAL" => Box::new(ExternalClient::new(self.authzid.clone())),
            "PLAIN" => Box::new(PlainClient::new(
                authcid,
                self.password.as_str(),
                self.authzid.clone(),
            )),
            _ => Box::new(DigestClient::new(DigestClientConfig {
                authcid,
                password: self.password.clone(),
                authzid: self.authzid.clone(),
                service: self.service.clone(),
                host: self.host.clone(),
                realm: self.realm.clone(),
                props: self.props.clone(),
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_strongest_runnable() {
        let mut config = ClientConfig::new("u", "p", "ldap", "h");
        let m = config.choose(&["PLAIN", "DIGEST-MD5", "GSSAPI"]).unwrap();
        assert_eq!(m.name(), "DIGEST-MD5");
        config.props.no_plaintext = true;
        assert!(config.choose(&["PLAIN"]).is_err());
        config.external = true;
        assert_eq!(
            config.choose(&["PLAIN", "EXTERNAL"]).unwrap().name(),
            "EXTERNAL"
        );
        config.authcid = None;
        assert!(config.choose(&["DIGEST-MD5"]).is_err());
    }
}
