//! A client that picks its mechanism from the server's list.
//!
//! LDAP clients read `supportedSASLMechanisms` from the root DSE, IMAP clients the `AUTH=`
//! capabilities; either way the application has credentials and requirements, not a mechanism.
//! [`SaslClientConfig::choose`] takes the strongest offered mechanism those allow.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::digest::{DigestClient, DigestClientConfig};
use crate::external::ExternalClient;
use crate::plain::PlainClient;
use crate::props::{MechanismInfo, choose_mechanism};
use crate::scram::{ScramClient, ScramHash};
use crate::{
    AuthError, ChannelBindingData, ClientMechanism, ClientMechanismFactory, SecurityProperties,
};

/// A client's credentials, target and requirements, for any mechanism.
#[derive(Clone)]
pub struct SaslClientConfig {
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
    /// The channel bindings of the channel under SASL (a TLS connection), for mechanisms that
    /// bind to it (GSSAPI); the others ignore them.
    pub channel_bindings: Option<ChannelBindingData>,
    /// Mechanisms other crates provide, in the order registered.
    registered: Vec<Arc<dyn ClientMechanismFactory>>,
}

impl fmt::Debug for SaslClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslClientConfig")
            .field("authcid", &self.authcid)
            .field("authzid", &self.authzid)
            .field("service", &self.service)
            .field("host", &self.host)
            .field("realm", &self.realm)
            .field("external", &self.external)
            .field("props", &self.props)
            .field("channel_bindings", &self.channel_bindings)
            .field(
                "registered",
                &self
                    .registered
                    .iter()
                    .map(|f| f.info().name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl SaslClientConfig {
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
            channel_bindings: None,
            registered: Vec::new(),
        }
    }

    /// Take part in [`choose`](Self::choose) with another crate's mechanism. Registered
    /// mechanisms come before this crate's at equal strength, in the order registered; one of
    /// the same name as an earlier one replaces it.
    pub fn register(&mut self, factory: Arc<dyn ClientMechanismFactory>) -> &mut Self {
        let name = factory.info().name;
        self.registered
            .retain(|f| !f.info().name.eq_ignore_ascii_case(name));
        self.registered.push(factory);
        self
    }

    /// The mechanisms this configuration can run, most preferred first for equal strength.
    pub fn available(&self) -> Vec<MechanismInfo> {
        let mut out: Vec<MechanismInfo> = self.registered.iter().map(|f| f.info()).collect();
        // An identity the lower layer proved is what the application set up to use.
        if self.external {
            out.push(MechanismInfo::EXTERNAL);
        }
        if self.authcid.is_some() {
            // Without a layer to gain, SCRAM (bound to the channel when it can be) comes
            // before DIGEST-MD5, which only a layer recommends, and PLAIN last.
            if self.channel_bindings.is_some() {
                out.push(MechanismInfo::SCRAM_SHA_256_PLUS);
            }
            out.push(MechanismInfo::SCRAM_SHA_256);
            out.push(MechanismInfo::DIGEST_MD5);
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
        if let Some(factory) = self
            .registered
            .iter()
            .find(|f| f.info().name.eq_ignore_ascii_case(chosen.name))
        {
            return factory.client(self);
        }
        let authcid = self.authcid.clone().unwrap_or_default();
        let scram = || {
            ScramClient::new(
                ScramHash::Sha256,
                authcid.clone(),
                self.password.as_str(),
                self.authzid.clone(),
            )
        };
        Ok(match chosen.name {
            "EXTERNAL" => Box::new(ExternalClient::new(self.authzid.clone())),
            "SCRAM-SHA-256-PLUS" => match &self.channel_bindings {
                Some(bindings) => Box::new(scram().channel_binding(bindings.clone())),
                None => {
                    return Err(AuthError::state(
                        "SCRAM-SHA-256-PLUS without channel bindings",
                    ));
                }
            },
            // We could bind, so the server offered no -PLUS mechanism: say so (RFC 5802 §6).
            "SCRAM-SHA-256" if self.channel_bindings.is_some() => {
                Box::new(scram().server_offers_no_binding())
            }
            "SCRAM-SHA-256" => Box::new(scram()),
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
        let mut config = SaslClientConfig::new("u", "p", "ldap", "h");
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

    #[test]
    fn scram_comes_before_plain_and_binds_when_it_can() {
        let mut config = SaslClientConfig::new("u", "p", "imap", "h");
        let offered = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"];
        assert_eq!(config.choose(&offered).unwrap().name(), "SCRAM-SHA-256");
        // A layer wanted: DIGEST-MD5 can give one, SCRAM cannot.
        let with_digest = ["SCRAM-SHA-256", "DIGEST-MD5"];
        assert_eq!(config.choose(&with_digest).unwrap().name(), "DIGEST-MD5");
        config.props.max_ssf = 0;
        assert_eq!(config.choose(&with_digest).unwrap().name(), "SCRAM-SHA-256");
        config.channel_bindings = Some(ChannelBindingData::new("tls-exporter", vec![7; 32]));
        let mut plus = config.choose(&offered).unwrap();
        assert_eq!(plus.name(), "SCRAM-SHA-256-PLUS");
        assert!(
            plus.start()
                .unwrap()
                .unwrap()
                .starts_with(b"p=tls-exporter,,n=u,")
        );
        // Bindings but no -PLUS offered: the client says it could have bound ("y").
        let mut unbound = config.choose(&["SCRAM-SHA-256"]).unwrap();
        assert!(unbound.start().unwrap().unwrap().starts_with(b"y,,n=u,"));
    }

    /// A mechanism of another crate: a client that remembers the channel bindings it was made
    /// with, so the test can see what `choose` handed it.
    #[derive(Debug)]
    struct Bound {
        max_ssf: u32,
    }

    #[derive(Debug)]
    struct BoundClient {
        bindings: Option<ChannelBindingData>,
    }

    impl ClientMechanismFactory for Bound {
        fn info(&self) -> MechanismInfo {
            MechanismInfo {
                name: "X-BOUND",
                max_ssf: self.max_ssf,
                plaintext: false,
            }
        }

        fn client(&self, config: &SaslClientConfig) -> Result<Box<dyn ClientMechanism>, AuthError> {
            Ok(Box::new(BoundClient {
                bindings: config.channel_bindings.clone(),
            }))
        }
    }

    impl ClientMechanism for BoundClient {
        fn name(&self) -> &'static str {
            "X-BOUND"
        }
        fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
            Ok(self.bindings.as_ref().map(ChannelBindingData::prefixed))
        }
        fn step(&mut self, _: &[u8]) -> Result<crate::Step, AuthError> {
            Err(AuthError::state("one message only"))
        }
        fn success(&mut self, _: Option<&[u8]>) -> Result<(), AuthError> {
            Ok(())
        }
        fn outcome(&self) -> Option<&crate::Outcome> {
            None
        }
        fn into_layer(self: Box<Self>) -> Result<Option<crate::SecurityLayer>, AuthError> {
            Ok(None)
        }
    }

    #[test]
    fn registered_mechanisms_are_chosen_by_strength_and_get_the_channel_bindings() {
        let mut config = SaslClientConfig::new("u", "p", "ldap", "h");
        config.channel_bindings = Some(ChannelBindingData::new(
            "tls-server-end-point",
            vec![1, 2, 3],
        ));
        // Weaker than DIGEST-MD5: registered, offered, not chosen.
        config.register(Arc::new(Bound { max_ssf: 56 }));
        let offered = ["DIGEST-MD5", "x-bound"];
        assert_eq!(config.choose(&offered).unwrap().name(), "DIGEST-MD5");
        // Registering the name again replaces it; now the stronger, it is chosen.
        config.register(Arc::new(Bound { max_ssf: 256 }));
        assert_eq!(config.available()[0].max_ssf, 256);
        // X-BOUND, SCRAM-SHA-256-PLUS, SCRAM-SHA-256, DIGEST-MD5, PLAIN
        assert_eq!(config.available().len(), 5);
        let mut chosen = config.choose(&offered).unwrap();
        assert_eq!(chosen.name(), "X-BOUND");
        assert_eq!(
            chosen.start().unwrap().unwrap(),
            b"tls-server-end-point:\x01\x02\x03"
        );
        // Not offered: the built-in choice stands.
        assert_eq!(config.choose(&["DIGEST-MD5"]).unwrap().name(), "DIGEST-MD5");
        assert!(format!("{config:?}").contains("X-BOUND"), "{config:?}");
        assert!(!format!("{config:?}").contains("\\x01"), "{config:?}");
    }
}
