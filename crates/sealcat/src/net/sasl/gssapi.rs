//! `--sasl gssapi`: Kerberos V5 through SASL GSSAPI (RFC 4752).
//!
//! The client needs a service ticket for `sealcat/HOST@REALM`: one its credential cache holds
//! (`kinit`'s, or `--ccache`), or one from the realm's KDCs (`--krb5-config`, else
//! `KRB5_CONFIG` or `/etc/krb5.conf`) with the cache's ticket-granting ticket, or with a
//! password or keytab when `--user` is given. The server accepts with the keys of `--keytab`,
//! for any service principal it holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use sealstream_krb5::ccache::CredentialCache;
use sealstream_krb5::gss::{Acceptor, AcceptorOptions};
use sealstream_krb5::kdc::{ClientSecret, Credentials, InitCredsOptions, KdcConfig};
use sealstream_krb5::sasl::{GssapiClient, GssapiServer};
use sealstream_krb5::{Keytab, Principal};
use sealstream_sasl::{ClientMechanism, SecurityProperties, ServerMechanism};

/// The layer `--qop` asks for, within strength factors GSSAPI understands: integrity is 1,
/// confidentiality the session key's bits (128 or 256). Without `--qop`, either.
pub(crate) fn properties(qop: Option<&str>, maxbuf: u32) -> SecurityProperties {
    let (min_ssf, max_ssf) = match qop {
        Some("auth-int") => (1, 1),
        Some("auth-conf") => (2, 256),
        _ => (1, 256),
    };
    SecurityProperties {
        min_ssf,
        max_ssf,
        maxbuf,
        ..SecurityProperties::default()
    }
}

/// How the client proves who it is.
pub(crate) struct ClientCredentials<'a> {
    /// The service: `sealcat`, or the protocol's (`imap`) with `connect --imap`.
    pub(crate) service: &'a str,
    pub(crate) user: Option<&'a str>,
    pub(crate) password: Option<&'a str>,
    pub(crate) keytab: Option<&'a Path>,
    pub(crate) ccache: Option<&'a Path>,
    pub(crate) krb5_config: Option<&'a Path>,
    pub(crate) realm: Option<&'a str>,
}

impl ClientCredentials<'_> {
    /// The client for a server known as `host`, asking to act as `authzid` if given.
    pub(crate) async fn mechanism(
        &self,
        host: &str,
        props: SecurityProperties,
        authzid: Option<String>,
    ) -> Result<Box<dyn ClientMechanism>, String> {
        let ticket = self.service_ticket(host).await?;
        Ok(Box::new(GssapiClient::new(ticket, props, authzid)))
    }

    /// A ticket for `SERVICE/HOST`, from the cache or the KDCs.
    pub(crate) async fn service_ticket(&self, host: &str) -> Result<Credentials, String> {
        if self.ccache.is_some() && (self.password.is_some() || self.keytab.is_some()) {
            return Err("--ccache, --password and --keytab exclude each other".into());
        }
        let proof = match (self.password, self.keytab) {
            (None, None) => return self.cached_ticket(host).await,
            (Some(_), Some(_)) => {
                return Err("--sasl gssapi takes --password or --keytab, not both".into());
            }
            (Some(password), None) => Proof::Password(password),
            (None, Some(keytab)) => Proof::Keytab(keytab),
        };
        let user = self
            .user
            .ok_or("--sasl gssapi with --password or --keytab needs --user")?;
        let kdcs = self.kdcs()?;
        let me = self.principal(user, kdcs.default_realm())?;
        let secret = match proof {
            Proof::Password(password) => ClientSecret::Password(password.to_string().into()),
            Proof::Keytab(keytab) => {
                let keys = Keytab::read(keytab)
                    .map_err(|e| format!("--keytab: {e}"))?
                    .keys_for(&me);
                if keys.is_empty() {
                    return Err(format!(
                        "--keytab {}: no AES key for {me}",
                        keytab.display()
                    ));
                }
                ClientSecret::Keys(keys)
            }
        };
        let tgt = kdcs
            .get_tgt(me.clone(), secret, InitCredsOptions::default())
            .await
            .map_err(|e| format!("Kerberos: a ticket-granting ticket for {me}: {e}"))?;
        let service = Principal::service(self.service, host, me.realm());
        kdcs.get_service_ticket(&tgt, service.clone())
            .await
            .map_err(|e| format!("Kerberos: a ticket for {service}: {e}"))
    }

    /// A ticket from the credential cache: its own for the service, else one the KDCs issue
    /// for its ticket-granting ticket.
    async fn cached_ticket(&self, host: &str) -> Result<Credentials, String> {
        let cache = match self.ccache {
            Some(path) => CredentialCache::read(path),
            None => CredentialCache::from_environment(),
        }
        .map_err(|e| format!("Kerberos: {e}"))?;
        let me = cache.principal();
        if let Some(user) = self.user {
            if !self.principal(user, Some(me.realm()))?.same_name(me) {
                return Err(format!(
                    "--user {user}: the credential cache holds tickets for {me}"
                ));
            }
        }
        let service = Principal::service(self.service, host, me.realm());
        let now = SystemTime::now();
        if let Some(ticket) = cache.ticket_for(&service, now) {
            return Ok(ticket.clone());
        }
        let tgt = cache
            .tgt(now)
            .map_err(|e| format!("Kerberos: a ticket for {service}: {e}"))?;
        self.kdcs()?
            .get_service_ticket(tgt, service.clone())
            .await
            .map_err(|e| format!("Kerberos: a ticket for {service}: {e}"))
    }

    fn kdcs(&self) -> Result<KdcConfig, String> {
        match self.krb5_config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--krb5-config {}: {e}", path.display()))?;
                KdcConfig::from_krb5_conf(&text)
                    .map_err(|e| format!("--krb5-config {}: {e}", path.display()))
            }
            None => KdcConfig::from_environment().map_err(|e| format!("Kerberos: {e}")),
        }
    }

    fn principal(&self, user: &str, default_realm: Option<&str>) -> Result<Principal, String> {
        Principal::parse(user, self.realm.or(default_realm))
            .map_err(|e| format!("--user {user}: {e} (name a realm with user@REALM or --realm)"))
    }
}

/// What proves the user's identity to the KDC when the credential cache is not used.
enum Proof<'a> {
    Password(&'a str),
    Keytab(&'a Path),
}

/// A server's acceptor, shared by its connections (it keeps the replay cache).
#[derive(Clone)]
pub(crate) struct ServerSettings {
    acceptor: Arc<Acceptor>,
    props: SecurityProperties,
    keytab: PathBuf,
    services: String,
}

impl ServerSettings {
    /// Accept with the keys of `keytab`, offering the layers `props` allows.
    pub(crate) fn new(keytab: &Path, props: SecurityProperties) -> Result<Self, String> {
        let keys = Keytab::read(keytab).map_err(|e| format!("--keytab: {e}"))?;
        let mut services: Vec<String> = Vec::new();
        for entry in keys.entries() {
            let name = entry.principal.to_string();
            if !services.contains(&name) {
                services.push(name);
            }
        }
        if services.is_empty() {
            return Err(format!(
                "--keytab {}: no AES key of any service",
                keytab.display()
            ));
        }
        Ok(Self {
            acceptor: Arc::new(Acceptor::new(keys, None, AcceptorOptions::default())),
            props,
            keytab: keytab.to_path_buf(),
            services: services.join(", "),
        })
    }

    /// The acceptor, for GSS-SPNEGO's Kerberos.
    pub(crate) fn acceptor(&self) -> Arc<Acceptor> {
        self.acceptor.clone()
    }

    /// A fresh mechanism for one connection.
    pub(crate) fn mechanism(&self) -> Box<dyn ServerMechanism> {
        Box::new(GssapiServer::new(self.acceptor.clone(), self.props.clone()))
    }

    /// The services clients may ask tickets for, and where their keys are.
    pub(crate) fn describe(&self) -> String {
        format!("{} (keys from {})", self.services, self.keytab.display())
    }
}
