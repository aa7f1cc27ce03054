//! `--sasl ntlm` and `--sasl gss-spnego`: NTLM as Samba's directory offers it, and Negotiate
//! (SPNEGO) as Active Directory does, with the layer the context's flags settle.
//!
//! The client names itself `DOMAIN\user` (or `user@domain`) with `--user` and a password;
//! with `--sasl gss-spnego` and no password it uses Kerberos instead, with a ticket for
//! `sealcat/HOST` as `--sasl gssapi` gets one. The server knows one NTLM account (`--user`,
//! `--password`; its domain is the user's, else `--realm`, else `SEALCAT`) and, for
//! gss-spnego, the Kerberos services of `--keytab`.

use std::sync::Arc;

use sealstream_negotiate::InitiatorOptions as SpnegoOptions;
use sealstream_negotiate::sasl::{SpnegoClient, SpnegoServer};
use sealstream_ntlm::sasl::{NtlmClient, NtlmServer};
use sealstream_ntlm::{AcceptorOptions, Credentials, InitiatorOptions, NtHash, NtHashLookup};
use sealstream_sasl::{ClientMechanism, SecurityProperties, ServerMechanism};

use super::gssapi;

/// The NTLM domain of a server that is told none.
const DEFAULT_DOMAIN: &str = "SEALCAT";

/// `--user` and the password as NTLM credentials.
fn credentials(user: &str, password: &str) -> Result<Credentials, String> {
    Credentials::with_password(user, password).map_err(|e| format!("--user {user}: {}", e.detail()))
}

/// The NTLM client for `service` on a server known as `host`.
pub(crate) fn ntlm_client(
    user: &str,
    password: &str,
    service: &str,
    host: &str,
    props: SecurityProperties,
) -> Result<Box<dyn ClientMechanism>, String> {
    let options = InitiatorOptions::default().target_name(format!("{service}/{host}"));
    Ok(Box::new(NtlmClient::with_options(
        credentials(user, password)?,
        props,
        options,
    )))
}

/// The GSS-SPNEGO client: NTLM with a password, else Kerberos with a ticket.
pub(crate) async fn spnego_client(
    kerberos: &gssapi::ClientCredentials<'_>,
    host: &str,
    props: SecurityProperties,
) -> Result<Box<dyn ClientMechanism>, String> {
    let options = match (kerberos.user, kerberos.password) {
        (Some(user), Some(password)) if kerberos.keytab.is_none() => {
            let service = kerberos.service;
            let ntlm = InitiatorOptions::default().target_name(format!("{service}/{host}"));
            SpnegoOptions::new(true).ntlm(credentials(user, password)?, ntlm)
        }
        (None, Some(_)) => return Err("--sasl gss-spnego with --password needs --user".into()),
        _ => SpnegoOptions::new(true).kerberos(kerberos.service_ticket(host).await?),
    };
    Ok(Box::new(SpnegoClient::new(options, props)))
}

/// A server's one NTLM account.
struct OneNtlmUser {
    domain: String,
    user: String,
    hash: NtHash,
}

impl NtHashLookup for OneNtlmUser {
    fn nt_hash(&self, domain: &str, user: &str) -> Option<NtHash> {
        // A client may name the domain, leave it empty with a bare name, or send a UPN
        // (user@domain) with an empty domain, as Windows does.
        let (user, domain) = match (domain, user.rsplit_once('@')) {
            ("", Some((user, domain))) => (user, domain),
            _ => (user, domain),
        };
        let domain_matches = domain.is_empty() || domain.eq_ignore_ascii_case(&self.domain);
        (domain_matches && user.eq_ignore_ascii_case(&self.user)).then(|| self.hash.clone())
    }
}

/// What an NTLM or GSS-SPNEGO server needs per connection.
#[derive(Clone)]
pub(crate) struct ServerSettings {
    spnego: bool,
    ntlm: Option<(AcceptorOptions, Arc<OneNtlmUser>)>,
    kerberos: Option<gssapi::ServerSettings>,
    props: SecurityProperties,
}

impl ServerSettings {
    /// The settings of `--sasl ntlm` (`spnego` false) or `--sasl gss-spnego`.
    pub(crate) fn new(
        spnego: bool,
        user: Option<&str>,
        password: Option<&str>,
        realm: Option<&str>,
        kerberos: Option<gssapi::ServerSettings>,
        props: SecurityProperties,
    ) -> Result<Self, String> {
        let ntlm = match (user, password) {
            (Some(user), Some(password)) => {
                let (domain, user) = match user.split_once('\\') {
                    Some((domain, user)) => (domain.to_owned(), user.to_owned()),
                    None => (realm.unwrap_or(DEFAULT_DOMAIN).to_owned(), user.to_owned()),
                };
                let options = AcceptorOptions::new(domain.clone(), "SEALCAT");
                let account = OneNtlmUser {
                    domain,
                    user,
                    hash: NtHash::from_password(password),
                };
                Some((options, Arc::new(account)))
            }
            (None, None) => None,
            _ => return Err("NTLM needs both --user and --password".into()),
        };
        match (spnego, &ntlm, &kerberos) {
            (false, None, _) => return Err("--sasl ntlm needs --user and --password".into()),
            (true, None, None) => {
                return Err(
                    "--sasl gss-spnego needs --user and --password (NTLM), --keytab \
                            (Kerberos), or both"
                        .into(),
                );
            }
            _ => {}
        }
        Ok(Self {
            spnego,
            ntlm,
            kerberos,
            props,
        })
    }

    /// A fresh mechanism for one connection.
    pub(crate) fn mechanism(&self) -> Box<dyn ServerMechanism> {
        let lookup: Arc<dyn NtHashLookup> = match &self.ntlm {
            Some((_, account)) => account.clone(),
            None => Arc::new(|_: &str, _: &str| None),
        };
        if !self.spnego {
            let (options, _) = self.ntlm.clone().expect("checked in new");
            return Box::new(NtlmServer::new(options, lookup, self.props.clone()));
        }
        let mut options = sealstream_negotiate::AcceptorOptions::new();
        if let Some((ntlm, _)) = &self.ntlm {
            options = options.ntlm(ntlm.clone());
        }
        if let Some(kerberos) = &self.kerberos {
            options = options.kerberos(kerberos.acceptor());
        }
        Box::new(SpnegoServer::new(options, lookup, self.props.clone()))
    }

    /// Who clients authenticate as, for the start-up line.
    pub(crate) fn describe(&self) -> String {
        let ntlm = self
            .ntlm
            .as_ref()
            .map(|(_, a)| format!("NTLM for {}\\{}", a.domain, a.user));
        let kerberos = self
            .kerberos
            .as_ref()
            .map(|k| format!("Kerberos as {}", k.describe()));
        let parts: Vec<String> = ntlm.into_iter().chain(kerberos).collect();
        if self.spnego {
            format!("GSS-SPNEGO ({})", parts.join("; "))
        } else {
            parts.join("; ")
        }
    }
}
