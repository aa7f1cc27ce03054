//! The SASL part of a client's command line, shared by `ldap_search` and `imap_client`: which
//! mechanism, whose credentials, which layer. The service name (`ldap`, `imap`) is the
//! protocol's, so it is not an option: [`crate::mechanism::client`] takes it.

use std::path::PathBuf;

/// The mechanism, the credentials and the layer to ask for.
#[derive(Debug, Clone, clap::Args)]
pub struct SaslArgs {
    /// The SASL mechanism: digest-md5; gssapi (Kerberos V5; the service is SERVICE/HOST, with
    /// SERVICE the protocol's (ldap, imap) and HOST as written in --url, or --server-name);
    /// ntlm (NTLMv2, as Samba's directory offers it: --user DOMAIN\\name or name@domain, and a
    /// password); gss-spnego (as Active Directory runs it: NTLM with --user and a password,
    /// else Kerberos with the credential cache's tickets); or scram-sha-256, scram-sha-1 (no
    /// layer: --qop auth, inside TLS) and their -plus variants, bound to the TLS channel
    /// (imap_client: tls-exporter on TLS 1.3, tls-unique on TLS 1.2; ldap_search:
    /// tls-server-end-point).
    #[arg(long, default_value = "digest-md5", value_parser = [
        "digest-md5", "gssapi", "ntlm", "gss-spnego",
        "scram-sha-256", "scram-sha-256-plus", "scram-sha-1", "scram-sha-1-plus",
    ])]
    pub mech: String,
    /// The server's name for SASL (and TLS) when it is not the host of --url (as when
    /// connecting to an address): gssapi asks for a ticket to SERVICE/NAME, digest-md5 sends
    /// SERVICE/NAME as its digest-uri.
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// The user: a SASL user name for digest-md5, a Kerberos principal (alice or
    /// alice@REALM) for gssapi (where it defaults to the credential cache's principal),
    /// DOMAIN\\name or name@domain for ntlm.
    #[arg(long)]
    pub user: Option<String>,
    /// The password (visible to other local users in the process list: for tests and labs;
    /// prefer --password-env).
    #[arg(long)]
    pub password: Option<String>,
    /// The password, from the environment variable of this name.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// gssapi: the user's keys from this keytab instead of a password.
    #[arg(long)]
    pub keytab: Option<PathBuf>,
    /// gssapi: tickets from this MIT credential cache (a FILE: cache, as kinit writes it).
    /// With no --password, --password-env, --keytab or --ccache, gssapi reads the cache
    /// KRB5CCNAME names, else /tmp/krb5cc_UID.
    #[arg(long)]
    pub ccache: Option<PathBuf>,
    /// gssapi: the krb5.conf naming the realm's KDCs (default: $KRB5_CONFIG, else
    /// /etc/krb5.conf).
    #[arg(long)]
    pub krb5_config: Option<PathBuf>,
    /// The realm: for digest-md5 the SASL realm, if not the server's first; for gssapi the
    /// Kerberos realm of a --user without one, if not krb5.conf's default_realm.
    #[arg(long)]
    pub realm: Option<String>,
    /// The quality of protection: auth (no layer), auth-int (integrity) or auth-conf
    /// (confidentiality).
    #[arg(long, value_parser = ["auth", "auth-int", "auth-conf"])]
    pub qop: String,
    /// The auth-conf cipher: rc4, 3des, or with --legacy-ciphers des, rc4-56, rc4-40. Without it,
    /// the strongest one the server offers.
    #[arg(long)]
    pub cipher: Option<String>,
    /// Allow the weak ciphers des, rc4-56 and rc4-40.
    #[arg(long)]
    pub legacy_ciphers: bool,
    /// The largest frame we accept, announced to the server as maxbuf.
    #[arg(long, default_value_t = 65536)]
    pub maxbuf: u32,
}
