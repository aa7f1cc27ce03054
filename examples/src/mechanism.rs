//! The SASL client mechanism `ldap_search` binds with, built from its command line: DIGEST-MD5
//! with a password, or GSSAPI with a Kerberos service ticket for `ldap/HOST` obtained from the
//! KDCs of a `krb5.conf` (with a password or a keytab). Each `--qop` pins the strength factors
//! so that the client negotiates exactly the layer asked for, or fails.

use std::path::Path;

use sealstream_krb5::kdc::{ClientSecret, InitCredsOptions, KdcConfig};
use sealstream_krb5::sasl::GssapiClient;
use sealstream_krb5::{Keytab, Principal};
use sealstream_sasl::digest::{DigestClient, DigestClientConfig, LayerChoice};
use sealstream_sasl::{ClientMechanism, SecurityProperties};

use crate::ldap_search::{Args, Failure};

/// The mechanism of `--mech`, ready to start, for the server `host`.
pub async fn client(args: &Args, host: &str) -> Result<Box<dyn ClientMechanism>, Failure> {
    match args.mech.to_ascii_lowercase().as_str() {
        "digest-md5" => {
            let password = args
                .password
                .as_deref()
                .ok_or_else(|| Failure::usage("--mech digest-md5 needs --password"))?;
            if args.keytab.is_some() || args.krb5_config.is_some() {
                return Err(Failure::usage(
                    "--keytab and --krb5-config are for --mech gssapi",
                ));
            }
            let mut config = DigestClientConfig::new(&args.user, password, "ldap", host);
            config.realm = args.realm.clone();
            config.props = properties(args)?;
            Ok(Box::new(DigestClient::new(config)))
        }
        "gssapi" => {
            let props = gssapi_properties(args)?;
            Ok(Box::new(GssapiClient::new(
                service_ticket(args, host).await?,
                props,
                None,
            )))
        }
        other => Err(Failure::usage(format!(
            "--mech {other}: digest-md5 or gssapi"
        ))),
    }
}

/// The security properties that make the DIGEST-MD5 client negotiate exactly what the arguments
/// ask for (see [`LayerChoice`]).
pub fn properties(args: &Args) -> Result<SecurityProperties, Failure> {
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

/// The security properties of a GSSAPI bind: `auth` no layer, `auth-int` integrity (strength 1),
/// `auth-conf` confidentiality (the session key's length in bits, 128 or 256).
pub fn gssapi_properties(args: &Args) -> Result<SecurityProperties, Failure> {
    if args.cipher.is_some() || args.legacy_ciphers {
        return Err(Failure::usage(
            "--cipher and --legacy-ciphers are for --mech digest-md5: GSSAPI seals with the \
             Kerberos session key's AES type",
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

/// A ticket for `ldap/HOST@REALM` (the host as written in `--url`: names are not canonicalised
/// through DNS, and the service is taken to be in the user's realm), after a TGT for `--user`.
async fn service_ticket(
    args: &Args,
    host: &str,
) -> Result<sealstream_krb5::kdc::Credentials, Failure> {
    // Usage errors before any file or network access.
    let proof = match (&args.password, &args.keytab) {
        (Some(password), None) => Proof::Password(password),
        (None, Some(keytab)) => Proof::Keytab(keytab),
        _ => {
            return Err(Failure::usage(
                "--mech gssapi needs exactly one of --password and --keytab",
            ));
        }
    };
    let kerberos = |what: &str| {
        let what = what.to_owned();
        move |e: sealstream::Error| Failure::other(format!("Kerberos: {what}: {e}"))
    };
    let kdcs = match &args.krb5_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("--krb5-config {}: {e}", path.display())))?;
            KdcConfig::from_krb5_conf(&text).map_err(kerberos("reading --krb5-config"))?
        }
        None => KdcConfig::from_environment().map_err(kerberos("reading krb5.conf"))?,
    };
    let realm = args.realm.as_deref().or(kdcs.default_realm());
    let me = Principal::parse(&args.user, realm).map_err(|e| {
        Failure::usage(format!(
            "--user {}: {e} (name a realm with user@REALM or --realm)",
            args.user
        ))
    })?;
    let secret = match proof {
        Proof::Password(password) => ClientSecret::Password(password.to_owned().into()),
        Proof::Keytab(keytab) => keytab_keys(keytab, &me)?,
    };
    let tgt = kdcs
        .get_tgt(me.clone(), secret, InitCredsOptions::default())
        .await
        .map_err(kerberos(&format!("a ticket-granting ticket for {me}")))?;
    let service = Principal::service("ldap", host, me.realm());
    kdcs.get_service_ticket(&tgt, service.clone())
        .await
        .map_err(kerberos(&format!("a ticket for {service}")))
}

/// What proves the user's identity to the KDC.
enum Proof<'a> {
    Password(&'a str),
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
