//! The SASL client mechanism `ldap_search` and `imap_client` authenticate with, built from
//! their command line ([`SaslArgs`]) for the protocol's service (`ldap`, `imap`): DIGEST-MD5
//! with a password, NTLM with a password, or GSSAPI with a Kerberos service ticket for
//! `SERVICE/HOST`: one an MIT credential cache holds (`kinit`'s, by default), or one the KDCs
//! of a `krb5.conf` issue when the exchange starts, for the cache's ticket-granting ticket or
//! one got with a password or a keytab. All are driven as `AsyncClientMechanism`s. Each
//! `--qop` pins the strength factors so that the client negotiates exactly the layer asked
//! for, or fails.

use std::path::Path;
use std::time::SystemTime;

use sealstream_krb5::ccache::CredentialCache;
use sealstream_krb5::gss::ChannelBindings;
use sealstream_krb5::kdc::{ClientSecret, InitCredsOptions, KdcConfig};
use sealstream_krb5::sasl::{GssapiClient, GssapiKdcClient};
use sealstream_krb5::{Keytab, Principal};
use sealstream_negotiate::InitiatorOptions as SpnegoOptions;
use sealstream_negotiate::sasl::SpnegoClient;
use sealstream_ntlm::sasl::NtlmClient;
use sealstream_ntlm::{Credentials, InitiatorOptions};
use sealstream_sasl::digest::{DigestClient, DigestClientConfig, LayerChoice};
use sealstream_sasl::scram::{ScramClient, ScramHash};
use sealstream_sasl::{AsyncClientMechanism, ChannelBindingData, Layer, Ready, SecurityProperties};
use zeroize::Zeroizing;

use crate::failure::Failure;
use crate::sasl_args::SaslArgs;

/// The mechanism of `--mech`, ready to start, for the service `service` (`ldap`, `imap`) of
/// the server `host`, bound to the TLS channel
/// under it when `bindings` are given (GSSAPI, NTLM and GSS-SPNEGO; DIGEST-MD5 has no channel
/// bindings). GSSAPI's start may wait for the KDC (its service ticket); everything that can be
/// checked without the server (usage, files, a ticket-granting ticket) is checked here.
pub async fn client(
    args: &SaslArgs,
    service: &str,
    host: &str,
    bindings: Option<&ChannelBindingData>,
) -> Result<Box<dyn AsyncClientMechanism>, Failure> {
    match args.mech.to_ascii_lowercase().as_str() {
        "digest-md5" => {
            let (Some(user), Some(password)) = (&args.user, password(args)?) else {
                return Err(Failure::usage(
                    "--mech digest-md5 needs --user and a password (--password or \
                     --password-env)",
                ));
            };
            if args.keytab.is_some() || args.krb5_config.is_some() || args.ccache.is_some() {
                return Err(Failure::usage(
                    "--keytab, --ccache and --krb5-config are for --mech gssapi",
                ));
            }
            let mut config = DigestClientConfig::new(user, password.as_str(), service, host);
            config.realm = args.realm.clone();
            config.props = properties(args)?;
            Ok(Box::new(Ready::new(Box::new(DigestClient::new(config)))))
        }
        "gssapi" => {
            let props = gssapi_properties(args)?;
            gssapi_client(args, service, host, props, bindings).await
        }
        "ntlm" => {
            let props = gssapi_properties(args)?;
            let (Some(user), Some(password)) = (&args.user, password(args)?) else {
                return Err(Failure::usage(
                    "--mech ntlm needs --user (DOMAIN\\name or name@domain) and a password \
                     (--password or --password-env)",
                ));
            };
            if args.keytab.is_some() || args.krb5_config.is_some() || args.ccache.is_some() {
                return Err(Failure::usage(
                    "--keytab, --ccache and --krb5-config are for --mech gssapi",
                ));
            }
            let credentials = Credentials::with_password(user, &password)
                .map_err(|e| Failure::usage(format!("--user {user}: {}", e.detail())))?;
            let mut options = InitiatorOptions::default().target_name(format!("{service}/{host}"));
            if let Some(bindings) = bindings {
                options = options.channel_bindings(bindings.prefixed());
            }
            let client = NtlmClient::with_options(credentials, props, options);
            Ok(Box::new(Ready::new(Box::new(client))))
        }
        "gss-spnego" => {
            spnego_client(args, service, host, gssapi_properties(args)?, bindings).await
        }
        "scram-sha-256" | "scram-sha-256-plus" | "scram-sha-1" | "scram-sha-1-plus" => {
            scram_client(args, bindings)
        }
        other => Err(Failure::usage(format!(
            "--mech {other}: digest-md5, gssapi, ntlm, gss-spnego, scram-sha-256[-plus] or \
             scram-sha-1[-plus]"
        ))),
    }
}

/// The SCRAM client of `--mech scram-sha-256[-plus]` or `scram-sha-1[-plus]`: no layer, so
/// `--qop auth`; the `-plus` variants bound to the TLS channel under SASL (`bindings`).
fn scram_client(
    args: &SaslArgs,
    bindings: Option<&ChannelBindingData>,
) -> Result<Box<dyn AsyncClientMechanism>, Failure> {
    let mech = args.mech.to_ascii_lowercase();
    let (Some(user), Some(password)) = (&args.user, password(args)?) else {
        return Err(Failure::usage(format!(
            "--mech {mech} needs --user and a password (--password or --password-env)"
        )));
    };
    if args.qop != "auth" {
        return Err(Failure::usage(format!(
            "--mech {mech} negotiates no security layer: use --qop auth, inside TLS"
        )));
    }
    if args.keytab.is_some() || args.krb5_config.is_some() || args.ccache.is_some() {
        return Err(Failure::usage(
            "--keytab, --ccache and --krb5-config are for --mech gssapi",
        ));
    }
    let hash = if mech.starts_with("scram-sha-1") {
        ScramHash::Sha1
    } else {
        ScramHash::Sha256
    };
    let client = ScramClient::new(hash, user, password.as_str(), None);
    let client = if mech.ends_with("-plus") {
        let bindings = bindings.ok_or_else(|| {
            Failure::usage(format!(
                "--mech {mech} binds to TLS: use it over TLS (imaps://, --starttls, ldaps://)"
            ))
        })?;
        client.channel_binding(bindings.clone())
    } else {
        client
    };
    Ok(Box::new(Ready::new(Box::new(client))))
}

/// The security properties that make the DIGEST-MD5 client negotiate exactly what the arguments
/// ask for (see [`LayerChoice`]).
pub fn properties(args: &SaslArgs) -> Result<SecurityProperties, Failure> {
    let choice = LayerChoice::from_names(&args.qop, args.cipher.as_deref())
        .map_err(|e| Failure::usage(format!("--qop/--cipher: {}", e.detail())))?;
    let mut props = choice.properties(args.legacy_ciphers).map_err(|e| {
        Failure::usage(format!(
            "--cipher: {}; add --legacy-ciphers to allow it",
            e.detail()
        ))
    })?;
    props.maxbuf = args.maxbuf;
    Ok(props)
}

/// The security properties of a GSSAPI or NTLM bind: `auth` no layer, `auth-int` integrity
/// (strength 1), `auth-conf` confidentiality (the key's length in bits: 128 or 256 for
/// Kerberos, 128 for NTLM).
pub fn gssapi_properties(args: &SaslArgs) -> Result<SecurityProperties, Failure> {
    if args.cipher.is_some() || args.legacy_ciphers {
        return Err(Failure::usage(
            "--cipher and --legacy-ciphers are for --mech digest-md5: GSSAPI seals with the \
             Kerberos session key's AES type, NTLM with RC4 under a 128-bit key",
        ));
    }
    let (min_ssf, max_ssf) = match args.qop.as_str() {
        "auth" => (0, 0),
        "auth-int" => (1, 1),
        _ => (2, 256),
    };
    Ok(SecurityProperties {
        min_ssf,
        max_ssf,
        maxbuf: args.maxbuf,
        ..SecurityProperties::default()
    })
}

/// The password of `--password` or `--password-env`, if either is given.
pub fn password(args: &SaslArgs) -> Result<Option<Zeroizing<String>>, Failure> {
    match (&args.password, &args.password_env) {
        (Some(_), Some(_)) => Err(Failure::usage("--password or --password-env, not both")),
        (Some(password), None) => Ok(Some(Zeroizing::new(password.clone()))),
        (None, Some(var)) => match std::env::var(var) {
            Ok(password) => Ok(Some(Zeroizing::new(password))),
            Err(e) => Err(Failure::usage(format!("--password-env {var}: {e}"))),
        },
        (None, None) => Ok(None),
    }
}

/// The GSSAPI client for `SERVICE/HOST@REALM` (the host as written in `--url` or
/// `--server-name`: names are not canonicalised through DNS, and the service is taken to be in
/// the user's realm). With a ticket for it in the credential cache, a client ready to start;
/// otherwise one that asks the KDCs for the ticket when the bind starts, with a ticket-granting
/// ticket from the cache or from an AS exchange made here with the password or keytab.
async fn gssapi_client(
    args: &SaslArgs,
    service: &str,
    host: &str,
    props: SecurityProperties,
    bindings: Option<&ChannelBindingData>,
) -> Result<Box<dyn AsyncClientMechanism>, Failure> {
    // Usage errors before any file or network access.
    let password = password(args)?;
    let proof = match (password, &args.keytab, &args.ccache) {
        (Some(password), None, None) => Proof::Password(password),
        (None, Some(keytab), None) => Proof::Keytab(keytab),
        (None, None, ccache) => {
            return cached_client(args, service, host, ccache.as_deref(), props, bindings);
        }
        _ => {
            return Err(Failure::usage(
                "--mech gssapi takes at most one of a password, --keytab and --ccache",
            ));
        }
    };
    let kdcs = kdc_config(args)?;
    let me = user_principal(args, kdcs.default_realm())?;
    let secret = match proof {
        Proof::Password(password) => ClientSecret::Password(password),
        Proof::Keytab(keytab) => keytab_keys(keytab, &me)?,
    };
    let tgt = kdcs
        .get_tgt(me.clone(), secret, InitCredsOptions::default())
        .await
        .map_err(kerberos(&format!("a ticket-granting ticket for {me}")))?;
    let service = Principal::service(service, host, me.realm());
    let client = GssapiKdcClient::new(kdcs, tgt, service, props, None);
    Ok(Box::new(match bindings {
        Some(b) => client.with_channel_bindings(ChannelBindings::new(&b.prefixed())),
        None => client,
    }))
}

/// The GSSAPI client from a credential cache: with the ticket for `SERVICE/HOST` it holds (as
/// `kvno` leaves behind), else with its ticket-granting ticket and the KDCs of `krb5.conf`.
fn cached_client(
    args: &SaslArgs,
    service: &str,
    host: &str,
    path: Option<&Path>,
    props: SecurityProperties,
    bindings: Option<&ChannelBindingData>,
) -> Result<Box<dyn AsyncClientMechanism>, Failure> {
    let cache = match path {
        Some(path) => CredentialCache::read(path),
        None => CredentialCache::from_environment(),
    }
    .map_err(kerberos("reading the credential cache"))?;
    let me = cache.principal();
    if let Some(user) = &args.user {
        let wanted = user_principal(args, Some(me.realm()))?;
        if !wanted.same_name(me) {
            return Err(Failure::usage(format!(
                "--user {user}: the credential cache holds tickets for {me}"
            )));
        }
    }
    let now = SystemTime::now();
    let service = Principal::service(service, host, me.realm());
    let bind = |b: &ChannelBindingData| ChannelBindings::new(&b.prefixed());
    if let Some(ticket) = cache.ticket_for(&service, now) {
        let client = GssapiClient::new(ticket.clone(), props, None);
        let client = match bindings {
            Some(b) => client.with_channel_bindings(bind(b)),
            None => client,
        };
        return Ok(Box::new(Ready::new(Box::new(client))));
    }
    let tgt = cache
        .tgt(now)
        .map_err(kerberos(&format!("a ticket for {service}")))?;
    let kdcs = kdc_config(args)?;
    let client = GssapiKdcClient::new(kdcs, tgt.clone(), service, props, None);
    Ok(Box::new(match bindings {
        Some(b) => client.with_channel_bindings(bind(b)),
        None => client,
    }))
}

/// The GSS-SPNEGO client: NTLM with `--user` and a password, else Kerberos with a ticket for
/// `SERVICE/HOST` from the credential cache (or got with its ticket-granting ticket now).
async fn spnego_client(
    args: &SaslArgs,
    service: &str,
    host: &str,
    props: SecurityProperties,
    bindings: Option<&ChannelBindingData>,
) -> Result<Box<dyn AsyncClientMechanism>, Failure> {
    if args.keytab.is_some() {
        return Err(Failure::usage(
            "--mech gss-spnego takes a password (NTLM) or a credential cache (Kerberos)",
        ));
    }
    let options = match password(args)? {
        Some(password) => {
            let user = args.user.as_deref().ok_or_else(|| {
                Failure::usage("--mech gss-spnego with a password needs --user DOMAIN\\name")
            })?;
            let credentials = Credentials::with_password(user, &password)
                .map_err(|e| Failure::usage(format!("--user {user}: {}", e.detail())))?;
            let ntlm = InitiatorOptions::default().target_name(format!("{service}/{host}"));
            SpnegoOptions::new(true).ntlm(credentials, ntlm)
        }
        None => {
            let cache = match &args.ccache {
                Some(path) => CredentialCache::read(path),
                None => CredentialCache::from_environment(),
            }
            .map_err(kerberos("reading the credential cache"))?;
            let now = SystemTime::now();
            let service = Principal::service(service, host, cache.principal().realm());
            let ticket = match cache.ticket_for(&service, now) {
                Some(ticket) => ticket.clone(),
                None => {
                    let tgt = cache
                        .tgt(now)
                        .map_err(kerberos(&format!("a ticket for {service}")))?;
                    kdc_config(args)?
                        .get_service_ticket(tgt, service.clone())
                        .await
                        .map_err(kerberos(&format!("a ticket for {service}")))?
                }
            };
            SpnegoOptions::new(true).kerberos(ticket)
        }
    };
    let options = match bindings {
        Some(bindings) => options.channel_bindings(bindings.prefixed()),
        None => options,
    };
    let client = SpnegoClient::new(options, props);
    Ok(Box::new(Ready::new(Box::new(client))))
}

/// The KDCs of `--krb5-config`, or of the default `krb5.conf`.
fn kdc_config(args: &SaslArgs) -> Result<KdcConfig, Failure> {
    match &args.krb5_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--krb5-config {}: {e}", path.display())))?;
            KdcConfig::from_krb5_conf(&text).map_err(kerberos("reading --krb5-config"))
        }
        None => KdcConfig::from_environment().map_err(kerberos("reading krb5.conf")),
    }
}

/// `--user` as a principal, in `--realm` or else `default_realm` when it names none.
fn user_principal(args: &SaslArgs, default_realm: Option<&str>) -> Result<Principal, Failure> {
    let user = args
        .user
        .as_deref()
        .ok_or_else(|| Failure::usage("--mech gssapi with a password or --keytab needs --user"))?;
    let realm = args.realm.as_deref().or(default_realm);
    Principal::parse(user, realm).map_err(|e| {
        Failure::usage(format!(
            "--user {user}: {e} (name a realm with user@REALM or --realm)"
        ))
    })
}

/// A Kerberos error as a failure, saying what was being done.
fn kerberos(what: &str) -> impl FnOnce(sealstream::Error) -> Failure {
    let what = what.to_owned();
    move |e| Failure::other(format!("Kerberos: {what}: {e}"))
}

/// What proves the user's identity to the KDC.
enum Proof<'a> {
    Password(Zeroizing<String>),
    Keytab(&'a Path),
}

/// The keys of `principal` in the keytab at `path`.
fn keytab_keys(path: &Path, principal: &Principal) -> Result<ClientSecret, Failure> {
    let keytab = Keytab::read(path)
        .map_err(|e| Failure::usage(format!("--keytab {}: {e}", path.display())))?;
    let keys = keytab.keys_for(principal);
    if keys.is_empty() {
        return Err(Failure::usage(format!(
            "--keytab {}: no AES key for {principal}",
            path.display()
        )));
    }
    Ok(ClientSecret::Keys(keys))
}

/// What an exchange established, on one line after `verb` (`bound`, `authenticated`):
/// `bound as alice; layer auth-int, ssf 1; maxbuf ours 65536, server's 4096`.
pub fn describe(mechanism: &dyn AsyncClientMechanism, verb: &str) -> Result<String, Failure> {
    let outcome = mechanism
        .outcome()
        .ok_or_else(|| Failure::other("the exchange succeeded without an outcome"))?;
    let maxbuf = if outcome.our_maxbuf == 0 {
        "none (no layer)".to_owned()
    } else {
        format!(
            "ours {}, server's {}",
            outcome.our_maxbuf, outcome.peer_maxbuf
        )
    };
    let layer = match outcome.layer {
        Layer::Confidentiality { cipher } => format!("auth-conf ({cipher})"),
        Layer::Integrity => "auth-int".to_owned(),
        _ => "auth".to_owned(),
    };
    Ok(format!(
        "{verb} as {}; layer {layer}, ssf {}; maxbuf {maxbuf}",
        outcome.authcid, outcome.ssf
    ))
}
