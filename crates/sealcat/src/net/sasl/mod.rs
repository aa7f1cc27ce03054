//! `--sasl digest-md5`, `gssapi`, `ntlm` and `gss-spnego`: authenticate with SASL and seal the connection
//! with the negotiated layer instead of TLS, over sealcat's line protocol
//! (`crates/sealcat/PROTOCOL.md`).

pub(crate) mod exchange;
mod gssapi;
pub(crate) mod lines;
mod ntlm;

use std::path::PathBuf;
use std::sync::Arc;

use sealstream_sasl::digest::{
    DigestClient, DigestClientConfig, DigestServer, DigestServerConfig, LayerChoice,
};
use sealstream_sasl::{ClientMechanism, CredentialLookup, Layer, Outcome, Secret, ServerMechanism};

/// The service name: DIGEST-MD5's `digest-uri` and the Kerberos service principal are
/// `sealcat/HOST`.
pub(crate) const SERVICE: &str = "sealcat";

/// The mechanisms `--sasl` takes.
pub(crate) const MECHANISMS: [&str; 4] = ["digest-md5", "gssapi", "ntlm", "gss-spnego"];

/// SASL options of `sealcat connect`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// The SASL user name (authentication identity); with gssapi a Kerberos principal, needed
    /// only with --password or --keytab; with ntlm and gss-spnego DOMAIN\\name or name@domain.
    #[arg(long, conflicts_with = "tls", required_if_eq("sasl", "digest-md5"))]
    user: Option<String>,
    /// The password. Prefer the SEALCAT_PASSWORD environment variable: a command line is visible
    /// to other local users.
    #[arg(
        long,
        env = "SEALCAT_PASSWORD",
        hide_env_values = true,
        conflicts_with = "tls",
        required_if_eq("sasl", "digest-md5")
    )]
    password: Option<String>,
    /// The realm to authenticate in (digest-md5: default the server's first; gssapi: the
    /// Kerberos realm of a --user without one, default krb5.conf's default_realm).
    #[arg(long, conflicts_with = "tls")]
    realm: Option<String>,
    /// gssapi: the user's keys from this keytab instead of a password.
    #[arg(long, conflicts_with = "tls", value_name = "FILE")]
    keytab: Option<PathBuf>,
    /// gssapi: tickets from this MIT credential cache (default: the one KRB5CCNAME names, else
    /// /tmp/krb5cc_UID), used when neither --password nor --keytab is given.
    #[arg(long, conflicts_with = "tls", value_name = "FILE")]
    ccache: Option<PathBuf>,
    /// gssapi: the krb5.conf naming the realm's KDCs (default: $KRB5_CONFIG, else
    /// /etc/krb5.conf).
    #[arg(long, conflicts_with = "tls", value_name = "FILE")]
    krb5_config: Option<PathBuf>,
    /// Act as this identity instead of the user's own (the server must allow it).
    #[arg(long, conflicts_with = "tls")]
    authzid: Option<String>,
    /// The layer to insist on: auth-int (integrity) or auth-conf (confidentiality).
    #[arg(
        long,
        conflicts_with = "tls",
        required_if_eq("sasl", "digest-md5"),
        value_parser = ["auth-int", "auth-conf"]
    )]
    qop: Option<String>,
    /// digest-md5: the auth-conf cipher, rc4 or 3des; des, rc4-56 and rc4-40 with
    /// --legacy-ciphers (default: the strongest the server offers). gssapi seals with the
    /// session key's AES type.
    #[arg(long, conflicts_with = "tls")]
    cipher: Option<String>,
    /// Allow DIGEST-MD5's weak ciphers des, rc4-56 and rc4-40.
    #[arg(long, conflicts_with = "tls")]
    legacy_ciphers: bool,
    /// The largest frame we accept, announced to the peer as maxbuf. NTLM and GSS-SPNEGO
    /// announce none: they send frames of up to 64 KiB and accept up to 256 KiB or this.
    #[arg(long, conflicts_with = "tls", default_value_t = 65536)]
    maxbuf: u32,
    /// The server's host name for SASL (DIGEST-MD5's digest-uri, the Kerberos service
    /// sealcat/NAME; default: the host of ADDR).
    #[arg(long, conflicts_with = "tls", value_name = "NAME")]
    sasl_host: Option<String>,
}

/// SASL options of `sealcat listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServerArgs {
    /// digest-md5: the one user accepted; ntlm and gss-spnego: the one NTLM account,
    /// DOMAIN\\name (or name, in the domain of --realm, else SEALCAT).
    #[arg(long, conflicts_with = "tls", required_if_eq("sasl", "digest-md5"))]
    user: Option<String>,
    /// The user's password. Prefer the SEALCAT_PASSWORD environment variable: a command line is
    /// visible to other local users.
    #[arg(
        long,
        env = "SEALCAT_PASSWORD",
        hide_env_values = true,
        conflicts_with = "tls",
        required_if_eq("sasl", "digest-md5")
    )]
    password: Option<String>,
    /// The realm offered (default: the host name).
    #[arg(long, conflicts_with = "tls")]
    realm: Option<String>,
    /// An identity the user may act as besides its own; repeat for several.
    #[arg(long = "authzid", conflicts_with = "tls", value_name = "ID")]
    authzids: Vec<String>,
    /// The layer offered: auth-int or auth-conf (default: both).
    #[arg(long, conflicts_with = "tls", value_parser = ["auth-int", "auth-conf"])]
    qop: Option<String>,
    /// Offer only auth-conf with this cipher.
    #[arg(long, conflicts_with = "tls")]
    cipher: Option<String>,
    /// Offer DIGEST-MD5's weak ciphers des, rc4-56 and rc4-40 too.
    #[arg(long, conflicts_with = "tls")]
    legacy_ciphers: bool,
    /// gssapi and gss-spnego: the keytab with the service's keys (sealcat/HOST@REALM, or any
    /// service it holds).
    #[arg(
        long,
        conflicts_with = "tls",
        value_name = "FILE",
        required_if_eq("sasl", "gssapi")
    )]
    keytab: Option<PathBuf>,
    /// The largest frame we accept, announced to the peer as maxbuf.
    #[arg(long, conflicts_with = "tls", default_value_t = 65536)]
    maxbuf: u32,
    /// Our host name, which clients must name in digest-uri (default: the host of ADDR, or
    /// localhost when ADDR is a wildcard address).
    #[arg(long, conflicts_with = "tls", value_name = "NAME")]
    sasl_host: Option<String>,
}

/// The layer and properties asked for by `--qop`, `--cipher` and `--legacy-ciphers`.
fn properties(
    qop: Option<&str>,
    cipher: Option<&str>,
    legacy: bool,
    maxbuf: u32,
) -> Result<sealstream_sasl::SecurityProperties, String> {
    let choice = match (qop, cipher) {
        (Some(qop), cipher) => LayerChoice::from_names(qop, cipher),
        // A cipher alone means auth-conf with it.
        (None, Some(cipher)) => LayerChoice::from_names("auth-conf", Some(cipher)),
        (None, None) => Ok(LayerChoice::AnyLayer),
    }
    .map_err(|e| e.detail().to_string())?;
    let mut props = choice
        .properties(legacy)
        .map_err(|e| format!("{}; add --legacy-ciphers to allow it", e.detail()))?;
    props.maxbuf = maxbuf;
    Ok(props)
}

fn required<'a>(value: &'a Option<String>, flag: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .ok_or_else(|| format!("--sasl needs {flag}"))
}

impl ClientArgs {
    /// The mechanism `mech` to authenticate with, for `service` (sealcat's [`SERVICE`], or
    /// `imap`) on a server reached as `host`. GSSAPI may talk to the realm's KDCs for a ticket
    /// first.
    pub(crate) async fn mechanism(
        &self,
        mech: &str,
        service: &str,
        host: &str,
    ) -> Result<Box<dyn ClientMechanism>, String> {
        let host = self.sasl_host.as_deref().unwrap_or(host);
        if mech == "ntlm" || mech == "gss-spnego" {
            if self.cipher.is_some() || self.legacy_ciphers || self.authzid.is_some() {
                return Err(format!(
                    "--cipher, --legacy-ciphers and --authzid are not for --sasl {mech}"
                ));
            }
            let props = gssapi::properties(self.qop.as_deref(), self.maxbuf);
            if mech == "ntlm" {
                if self.keytab.is_some() || self.ccache.is_some() || self.krb5_config.is_some() {
                    return Err("--keytab, --ccache and --krb5-config are for Kerberos".into());
                }
                let user = required(&self.user, "--user")?;
                let password = required(&self.password, "--password")?;
                return ntlm::ntlm_client(user, password, service, host, props);
            }
            let credentials = gssapi::ClientCredentials {
                service,
                user: self.user.as_deref(),
                password: self.password.as_deref(),
                keytab: self.keytab.as_deref(),
                ccache: self.ccache.as_deref(),
                krb5_config: self.krb5_config.as_deref(),
                realm: self.realm.as_deref(),
            };
            return ntlm::spnego_client(&credentials, host, props).await;
        }
        if mech == "gssapi" {
            if self.cipher.is_some() || self.legacy_ciphers {
                return Err(
                    "--cipher and --legacy-ciphers are for --sasl digest-md5: GSSAPI \
                            seals with the Kerberos session key's AES type"
                        .into(),
                );
            }
            let credentials = gssapi::ClientCredentials {
                service,
                user: self.user.as_deref(),
                password: self.password.as_deref(),
                keytab: self.keytab.as_deref(),
                ccache: self.ccache.as_deref(),
                krb5_config: self.krb5_config.as_deref(),
                realm: self.realm.as_deref(),
            };
            let props = gssapi::properties(self.qop.as_deref(), self.maxbuf);
            return credentials
                .mechanism(host, props, self.authzid.clone())
                .await;
        }
        if self.keytab.is_some() || self.ccache.is_some() || self.krb5_config.is_some() {
            return Err("--keytab, --ccache and --krb5-config are for --sasl gssapi".into());
        }
        let mut config = DigestClientConfig::new(
            required(&self.user, "--user")?,
            required(&self.password, "--password")?,
            service,
            host,
        );
        config.realm = self.realm.clone();
        config.authzid = self.authzid.clone();
        config.props = properties(
            Some(required(&self.qop, "--qop")?),
            self.cipher.as_deref(),
            self.legacy_ciphers,
            self.maxbuf,
        )?;
        Ok(Box::new(DigestClient::new(config)))
    }
}

/// What a listening server needs to run one exchange per connection.
#[derive(Clone)]
pub(crate) enum ServerSettings {
    /// DIGEST-MD5 for the one user of `--user`.
    Digest {
        config: DigestServerConfig,
        credentials: Arc<OneUser>,
    },
    /// GSSAPI with the keys of `--keytab`.
    Gssapi(gssapi::ServerSettings),
    /// NTLM for the one user of `--user`, or GSS-SPNEGO with it and/or `--keytab`.
    Ntlm(Box<ntlm::ServerSettings>),
}

impl ServerArgs {
    /// The settings of mechanism `mech` for a server listening on host `host` (`None`: a
    /// wildcard address).
    pub(crate) fn settings(
        &self,
        mech: &str,
        host: Option<&str>,
    ) -> Result<ServerSettings, String> {
        if mech == "ntlm" || mech == "gss-spnego" {
            if self.cipher.is_some() || self.legacy_ciphers || !self.authzids.is_empty() {
                return Err(format!(
                    "--cipher, --legacy-ciphers and --authzid are not for --sasl {mech}"
                ));
            }
            let props = gssapi::properties(self.qop.as_deref(), self.maxbuf);
            let kerberos = match (&self.keytab, mech) {
                (Some(_), "ntlm") => return Err("--keytab is for Kerberos".into()),
                (Some(keytab), _) => Some(gssapi::ServerSettings::new(keytab, props.clone())?),
                (None, _) => None,
            };
            return ntlm::ServerSettings::new(
                mech == "gss-spnego",
                self.user.as_deref(),
                self.password.as_deref(),
                self.realm.as_deref(),
                kerberos,
                props,
            )
            .map(|settings| ServerSettings::Ntlm(Box::new(settings)));
        }
        if mech == "gssapi" {
            if self.user.is_some() || self.cipher.is_some() || self.legacy_ciphers {
                return Err(
                    "--user, --cipher and --legacy-ciphers are for --sasl digest-md5: \
                            GSSAPI accepts whoever the KDC vouches for"
                        .into(),
                );
            }
            let keytab = self
                .keytab
                .as_deref()
                .ok_or("--sasl gssapi needs --keytab")?;
            let props = gssapi::properties(self.qop.as_deref(), self.maxbuf);
            return gssapi::ServerSettings::new(keytab, props).map(ServerSettings::Gssapi);
        }
        if self.keytab.is_some() {
            return Err("--keytab is for --sasl gssapi".into());
        }
        let host = self
            .sasl_host
            .as_deref()
            .or(host)
            .unwrap_or("localhost")
            .to_string();
        let realm = self.realm.clone().unwrap_or_else(|| host.clone());
        let mut config = DigestServerConfig::new(SERVICE, &host, &realm);
        config.props = properties(
            self.qop.as_deref(),
            self.cipher.as_deref(),
            self.legacy_ciphers,
            self.maxbuf,
        )?;
        let credentials = Arc::new(OneUser {
            user: required(&self.user, "--user")?.to_string(),
            password: required(&self.password, "--password")?.to_string(),
            authzids: self.authzids.clone(),
        });
        Ok(ServerSettings::Digest {
            config,
            credentials,
        })
    }

    /// What the server offers, for its start-up line.
    pub(crate) fn offer(&self) -> String {
        match (&self.qop, &self.cipher) {
            (Some(qop), Some(cipher)) => format!("{qop} ({cipher})"),
            (Some(qop), None) => qop.clone(),
            (None, Some(cipher)) => format!("auth-conf ({cipher})"),
            (None, None) => "auth-int or auth-conf".to_string(),
        }
    }
}

impl ServerSettings {
    /// A fresh mechanism for one connection.
    pub(crate) fn mechanism(&self) -> Box<dyn ServerMechanism> {
        match self {
            ServerSettings::Digest {
                config,
                credentials,
            } => Box::new(DigestServer::new(config.clone(), credentials.clone())),
            ServerSettings::Gssapi(settings) => settings.mechanism(),
            ServerSettings::Ntlm(settings) => settings.mechanism(),
        }
    }

    /// Who clients authenticate to, for the start-up line: `DIGEST-MD5 as sealcat/HOST`, or
    /// `GSSAPI as` the keytab's services.
    pub(crate) fn describe(&self) -> String {
        match self {
            ServerSettings::Digest { config, .. } => {
                format!("DIGEST-MD5 as {SERVICE}/{}", config.host)
            }
            ServerSettings::Gssapi(settings) => format!("GSSAPI as {}", settings.describe()),
            ServerSettings::Ntlm(settings) => settings.describe(),
        }
    }
}

/// `--user` and `--password`: the one account a sealcat server knows.
pub(crate) struct OneUser {
    user: String,
    password: String,
    authzids: Vec<String>,
}

impl OneUser {
    /// `user` with `password`, who may act as no one else.
    pub(crate) fn new(user: &str, password: &str) -> Self {
        Self {
            user: user.to_string(),
            password: password.to_string(),
            authzids: Vec::new(),
        }
    }
}

impl CredentialLookup for OneUser {
    fn lookup(&self, username: &str, _realm: &str) -> Option<Secret> {
        (username == self.user).then(|| Secret::password(self.password.clone()))
    }

    fn authorize(&self, authcid: &str, _realm: &str, authzid: &str) -> bool {
        authcid == authzid || (authcid == self.user && self.authzids.iter().any(|a| a == authzid))
    }
}

/// One line on what an exchange negotiated, for `-v`.
pub(crate) fn describe(outcome: &Outcome) -> String {
    let layer = match outcome.layer {
        Layer::None => "no layer".to_string(),
        Layer::Integrity => "auth-int".to_string(),
        Layer::Confidentiality { cipher } => format!("auth-conf ({cipher})"),
    };
    let mut line = format!("{} as {}", outcome.mechanism, outcome.authcid);
    if outcome.authzid != outcome.authcid {
        line.push_str(&format!(" acting as {}", outcome.authzid));
    }
    line.push_str(&format!(
        ", layer {layer}, SSF {}, maxbuf ours {} / peer's {}",
        outcome.ssf, outcome.our_maxbuf, outcome.peer_maxbuf
    ));
    line
}

/// An error message for a failed exchange.
pub(crate) fn exchange_error(peer: &str, err: &str) -> String {
    format!("SASL authentication with {peer} failed: {err}")
}
