//! `ldap_search`: a SASL bind (DIGEST-MD5, GSSAPI with Kerberos V5, NTLM, or GSS-SPNEGO), the negotiated security
//! layer installed as a `SealedStream` over the TCP connection, then one search printed as LDIF.
//!
//! With `ldaps://`, the connection is TLS first (sealstream-tls); the SASL mechanism is bound
//! to it with the `tls-server-end-point` channel binding of the server's certificate (what
//! Active Directory checks as "LDAP channel binding"), and any SASL layer runs inside TLS.
//!
//! The bind (RFC 4513 §5.2.2): BindRequests with SaslCredentials; a BindResponse with result
//! 14 (saslBindInProgress) carries the server's challenge, and the final one with result 0
//! ends the exchange (with DIGEST-MD5's `rspauth`, which the client checks before trusting the
//! server; GSSAPI's AP-REP proved the server two steps earlier). Every byte after that response
//! is framed by the layer (RFC 4422 §3.7).

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use rasn_ldap::{LdapMessage, ProtocolOp, ResultCode, SearchRequestScope};
use sealstream::{EofPolicy, StreamBuilder};
use sealstream_sasl::{AsyncClientMechanism, ChannelBindingData, Layer, Step};
use sealstream_tls::ChannelBinding;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ldap::{self, MessageReader};
use crate::ldif;
pub use crate::mechanism::{gssapi_properties, properties};

/// The command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "ldap_search",
    about = "Search an LDAP directory over a SASL DIGEST-MD5, GSSAPI, NTLM or GSS-SPNEGO layer, \
             printing LDIF"
)]
pub struct Args {
    /// The server: `ldap://HOST[:PORT]` (port 389), or `ldaps://HOST[:PORT]` for LDAP over TLS
    /// (port 636).
    #[arg(long)]
    pub url: String,
    /// ldaps: the CA certificates to trust, a PEM file (default: the system's).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The SASL mechanism: digest-md5; gssapi (Kerberos V5; the service is ldap/HOST with
    /// HOST as written in --url, or --server-name); or ntlm (NTLMv2, as Samba's directory
    /// offers it: --user DOMAIN\\name or name@domain, and a password); or gss-spnego (as
    /// Active Directory runs it: NTLM with --user and a password, else Kerberos with the
    /// credential cache's tickets).
    #[arg(long, default_value = "digest-md5", value_parser = ["digest-md5", "gssapi", "ntlm", "gss-spnego"])]
    pub mech: String,
    /// The server's name for SASL when it is not the host of --url (as when connecting to an
    /// address): gssapi asks for a ticket to ldap/NAME, digest-md5 sends ldap/NAME as its
    /// digest-uri.
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
    /// The search base.
    #[arg(long)]
    pub base: String,
    /// The search scope: base, one or sub.
    #[arg(long, default_value = "sub", value_parser = ["base", "one", "sub"])]
    pub scope: String,
    /// The filter: (attr=value) or (attr=*).
    #[arg(long, default_value = "(objectClass=*)")]
    pub filter: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Print the negotiated layer, cipher and maxbuf on stderr.
    #[arg(short, long)]
    pub verbose: bool,
    /// The attributes to return (all user attributes when none are named).
    pub attributes: Vec<String>,
}

/// Why the command failed: one line for the user and the process exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit status: 2 for bad arguments, the LDAP result code when the server refused
    /// (49 for a wrong password), 1 otherwise.
    pub exit_code: u8,
    /// What went wrong, on one line.
    pub message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            exit_code: 2,
            message: message.into(),
        }
    }

    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self {
            exit_code: 1,
            message: message.into(),
        }
    }

    /// The server answered `what` with a result other than success.
    fn ldap(what: &str, code: ResultCode, diagnostic: &str) -> Self {
        let (number, name) = ldap::result_code(code);
        let diagnostic = if diagnostic.is_empty() {
            String::new()
        } else {
            format!(": {diagnostic}")
        };
        Self {
            exit_code: u8::try_from(number).unwrap_or(1).max(1),
            message: format!("{what} failed: result {number} ({name}){diagnostic}"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the server's diagnostic contains.
        f.write_str(&self.message.replace(['\n', '\r'], " "))
    }
}

impl std::error::Error for Failure {}

fn io_failure(what: &str) -> impl FnOnce(std::io::Error) -> Failure + '_ {
    move |e| Failure::other(format!("{what}: {e}"))
}

/// Where `--url` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `ldaps://`: TLS from the first byte.
    pub tls: bool,
    /// The host, as written.
    pub host: String,
    /// The port (389 or 636 when not written).
    pub port: u16,
}

/// `ldap://HOST[:PORT][/]` or `ldaps://HOST[:PORT][/]`.
pub fn parse_url(url: &str) -> Result<Url, Failure> {
    let bad = |why: &str| Failure::usage(format!("--url {url:?}: {why}"));
    let (tls, rest) = match (url.strip_prefix("ldap://"), url.strip_prefix("ldaps://")) {
        (Some(rest), _) => (false, rest),
        (None, Some(rest)) => (true, rest),
        _ => {
            return Err(bad(
                "only ldap://HOST[:PORT] and ldaps://HOST[:PORT] are supported",
            ));
        }
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.contains(['/', '?', '@']) {
        return Err(bad("expected a host name"));
    }
    let port = match port {
        None if tls => 636,
        None => 389,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| bad("bad port"))?,
    };
    Ok(Url {
        tls,
        host: host.to_owned(),
        port,
    })
}

/// The client configuration of an `ldaps://` connection: `--ca`'s roots, else the system's.
fn tls_config(args: &Args) -> Result<Arc<rustls::ClientConfig>, Failure> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match &args.ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Failure::usage(format!("--ca {}: {e}", path.display())))?;
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    Failure::usage(format!(
                        "--ca {}: unusable certificate: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        None => {
            let (added, _) =
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if added == 0 {
                return Err(Failure::usage(
                    "no system CA certificates found; pass --ca FILE",
                ));
            }
        }
    }
    Ok(Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

/// Run the command: bind, search, write the entries to `out` as LDIF and, with `--verbose`, the
/// negotiated layer to `log`.
pub async fn run(args: &Args, out: &mut impl Write, log: &mut impl Write) -> Result<(), Failure> {
    let timeout = Duration::from_secs(args.timeout);
    match tokio::time::timeout(timeout, session(args, out, log)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::other(format!(
            "no answer from {} within {} s",
            args.url, args.timeout
        ))),
    }
}

async fn session(args: &Args, out: &mut impl Write, log: &mut impl Write) -> Result<(), Failure> {
    let Url { tls, host, port } = parse_url(&args.url)?;
    // The name the server is known by to SASL (DIGEST-MD5's digest-uri, GSSAPI's ldap/HOST)
    // and to TLS (the certificate's name).
    let server_name = args.server_name.as_deref().unwrap_or(&host);
    if !tls {
        // Everything that can fail without the server fails before connecting.
        let mechanism = crate::mechanism::client(args, server_name, None).await?;
        let tcp = connect(&host, port).await?;
        return over(tcp, mechanism, args, out, log).await;
    }
    let config = tls_config(args)?;
    let name = rustls::pki_types::ServerName::try_from(server_name.to_owned())
        .map_err(|e| Failure::usage(format!("{server_name:?} is not a server name: {e}")))?;
    let tcp = connect(&host, port).await?;
    let tls = sealstream_tls::TlsConnector::new(config)
        .connect(name, tcp)
        .await
        .map_err(io_failure(&format!("TLS with {host}:{port}")))?;
    // RFC 5929 leaves tls-server-end-point undefined for a certificate signed with neither
    // MD5, SHA-1 nor a SHA-2 hash (Ed25519): the bind then goes without channel bindings, and
    // says so, since a directory that enforces them will refuse it.
    let bindings = match tls
        .seal_half()
        .info()
        .channel_binding(ChannelBinding::TlsServerEndPoint)
    {
        Ok(data) => Some(ChannelBindingData::new(
            ChannelBinding::TlsServerEndPoint.name(),
            data,
        )),
        Err(e) => {
            writeln!(
                log,
                "ldap_search: warning: binding without channel bindings: {}",
                e.detail()
            )
            .ok();
            None
        }
    };
    let mechanism = crate::mechanism::client(args, server_name, bindings.as_ref()).await?;
    over(tls, mechanism, args, out, log).await
}

async fn connect(host: &str, port: u16) -> Result<TcpStream, Failure> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(io_failure(&format!("cannot connect to {host}:{port}")))?;
    tcp.set_nodelay(true).ok();
    Ok(tcp)
}

/// The bind and the search over `io` (TCP, or TLS).
async fn over<T: AsyncRead + AsyncWrite + Unpin>(
    mut io: T,
    mechanism: Box<dyn AsyncClientMechanism>,
    args: &Args,
    out: &mut impl Write,
    log: &mut impl Write,
) -> Result<(), Failure> {
    let filter = ldap::parse_filter(&args.filter).map_err(Failure::usage)?;
    let scope = match args.scope.as_str() {
        "base" => SearchRequestScope::BaseObject,
        "one" => SearchRequestScope::SingleLevel,
        _ => SearchRequestScope::WholeSubtree,
    };
    let mut reader = MessageReader::new();
    let client = bind(&mut io, &mut reader, mechanism).await?;

    let outcome = client
        .outcome()
        .ok_or_else(|| Failure::other("the bind succeeded without an outcome"))?;
    if args.verbose {
        let maxbuf = if outcome.our_maxbuf == 0 {
            "none (no layer)".to_owned()
        } else {
            format!(
                "ours {}, server's {}",
                outcome.our_maxbuf, outcome.peer_maxbuf
            )
        };
        writeln!(
            log,
            "ldap_search: bound as {}; layer {}, ssf {}; maxbuf {maxbuf}",
            outcome.authcid,
            layer_name(outcome.layer),
            outcome.ssf
        )
        .ok();
    }
    let layer = client
        .into_layer()
        .map_err(|e| Failure::other(e.to_string()))?;
    let search = ldap::search(2, &args.base, scope, filter, &args.attributes);
    match layer {
        None => run_search(&mut io, &mut reader, &search, out).await,
        Some(layer) => {
            let sealer = layer
                .into_sealer()
                .map_err(|e| Failure::other(format!("cannot install the security layer: {e}")))?;
            // Bytes the server sent after its bind response already belong to the layer.
            let mut stream = StreamBuilder::new()
                .eof_policy(EofPolicy::CleanEnd)
                .leftover_ciphertext(reader.take_buffered())
                .build(io, sealer);
            run_search(&mut stream, &mut reader, &search, out).await
        }
    }
}

/// A layer as DIGEST-MD5's qop names it: auth, auth-int, auth-conf (cipher).
fn layer_name(layer: Layer) -> String {
    match layer {
        Layer::Confidentiality { cipher } => format!("auth-conf ({cipher})"),
        Layer::Integrity => "auth-int".to_owned(),
        _ => "auth".to_owned(),
    }
}

/// Run the SASL exchange in BindRequests; the client once the server reported success and the
/// client verified it.
async fn bind<T: AsyncRead + AsyncWrite + Unpin>(
    tcp: &mut T,
    reader: &mut MessageReader,
    mut client: Box<dyn AsyncClientMechanism>,
) -> Result<Box<dyn AsyncClientMechanism>, Failure> {
    const ID: u32 = 1;
    let sasl = |e: sealstream_sasl::AuthError| Failure::other(e.to_string());
    let mut credentials = client.start().await.map_err(sasl)?;
    // DIGEST-MD5 takes two round trips and GSSAPI three; a server asking for more than a few
    // is broken.
    for _ in 0..5 {
        let request = ldap::sasl_bind(ID, client.name(), credentials.take());
        ldap::send(tcp, &request)
            .await
            .map_err(io_failure("sending the bind request"))?;
        let response = expect_response(reader.read(tcp).await, ID, "the bind")?;
        let ProtocolOp::BindResponse(response) = response.protocol_op else {
            return Err(Failure::other(
                "the server answered the bind with something other than a BindResponse",
            ));
        };
        match response.result_code {
            ResultCode::SaslBindInProgress => {
                let challenge = response.server_sasl_creds.unwrap_or_default();
                credentials = match client.step(&challenge).await.map_err(sasl)? {
                    Step::Continue(next) => Some(next),
                    Step::Done(last) => last,
                };
            }
            ResultCode::Success => {
                client
                    .success(response.server_sasl_creds.as_deref())
                    .map_err(sasl)?;
                return Ok(client);
            }
            code => return Err(Failure::ldap("bind", code, &response.diagnostic_message)),
        }
    }
    Err(Failure::other(
        "the server kept the SASL bind in progress beyond the mechanism's steps",
    ))
}

/// The next message, which must answer request `id`; a notice of disconnection (RFC 4511
/// §4.4.1, message ID 0) becomes its diagnostic.
fn expect_response(
    message: std::io::Result<LdapMessage>,
    id: u32,
    what: &str,
) -> Result<LdapMessage, Failure> {
    let message = message.map_err(io_failure(&format!("reading the answer to {what}")))?;
    if message.message_id == id {
        return Ok(message);
    }
    if let (0, ProtocolOp::ExtendedResp(notice)) = (message.message_id, &message.protocol_op) {
        return Err(Failure::ldap(
            &format!("{what} (the server disconnected)"),
            notice.result_code,
            &notice.diagnostic_message,
        ));
    }
    Err(Failure::other(format!(
        "{what}: the server answered message {} instead of {id}",
        message.message_id
    )))
}

/// Send the search over `io` and write each entry as LDIF until SearchResultDone.
async fn run_search<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    reader: &mut MessageReader,
    request: &LdapMessage,
    out: &mut impl Write,
) -> Result<(), Failure> {
    ldap::send(io, request)
        .await
        .map_err(io_failure("sending the search request"))?;
    loop {
        let message = expect_response(reader.read(io).await, request.message_id, "the search")?;
        match message.protocol_op {
            ProtocolOp::SearchResEntry(entry) => {
                ldif::write_entry(out, &entry).map_err(io_failure("writing the output"))?;
            }
            ProtocolOp::SearchResRef(references) => {
                for uri in references.0 {
                    writeln!(out, "# search reference: {}\n", uri.as_str())
                        .map_err(io_failure("writing the output"))?;
                }
            }
            ProtocolOp::SearchResDone(done) => {
                let result = done.0;
                if result.result_code != ResultCode::Success {
                    return Err(Failure::ldap(
                        "search",
                        result.result_code,
                        &result.diagnostic_message,
                    ));
                }
                break;
            }
            _ => {
                return Err(Failure::other(
                    "the server answered the search with an unexpected message",
                ));
            }
        }
    }
    out.flush().map_err(io_failure("writing the output"))?;
    // Best effort: the answer is complete whatever happens to the goodbye.
    let _ = ldap::send(io, &ldap::unbind(request.message_id + 1)).await;
    let _ = io.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanism::password;

    fn args(extra: &[&str]) -> Args {
        let base = [
            "ldap_search",
            "--url",
            "ldap://h",
            "--user",
            "u",
            "--password",
            "p",
            "--base",
            "dc=x",
        ];
        Args::try_parse_from(base.iter().chain(extra)).unwrap()
    }

    #[test]
    fn urls() {
        let url = |tls, host: &str, port| Url {
            tls,
            host: host.into(),
            port,
        };
        assert_eq!(parse_url("ldap://h").unwrap(), url(false, "h", 389));
        assert_eq!(
            parse_url("ldap://127.0.0.1:20389/").unwrap(),
            url(false, "127.0.0.1", 20389)
        );
        assert_eq!(parse_url("ldap://[::1]:1").unwrap(), url(false, "::1", 1));
        assert_eq!(parse_url("ldaps://h").unwrap(), url(true, "h", 636));
        assert_eq!(parse_url("ldaps://h:3269").unwrap(), url(true, "h", 3269));
        for bad in [
            "ldapi://h",
            "h:389",
            "ldap://",
            "ldap://h:0",
            "ldap://h:x",
            "ldap://h/dc=x",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert_eq!(err.exit_code, 2, "{bad}");
        }
    }

    #[test]
    fn qop_and_cipher_pin_the_strength() {
        let p = properties(&args(&["--qop", "auth-int"])).unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (1, 1));
        let p = properties(&args(&["--qop", "auth-conf", "--cipher", "3des"])).unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (112, 112));
        let p = properties(&args(&["--qop", "auth-conf"])).unwrap();
        assert_eq!(
            (p.min_ssf, p.max_ssf, p.allow_legacy_ciphers),
            (2, 256, false)
        );
        let err = properties(&args(&["--qop", "auth-conf", "--cipher", "des"])).unwrap_err();
        assert!(err.message.contains("--legacy-ciphers"), "{err}");
        let p = properties(&args(&[
            "--qop",
            "auth-conf",
            "--cipher",
            "des",
            "--legacy-ciphers",
        ]))
        .unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (55, 55));
        let err = properties(&args(&["--qop", "auth-int", "--cipher", "rc4"])).unwrap_err();
        assert_eq!(err.exit_code, 2);
        let err = properties(&args(&["--qop", "auth-conf", "--cipher", "aes"])).unwrap_err();
        assert!(err.message.contains("unknown cipher"), "{err}");
    }

    #[test]
    fn gssapi_qop_pins_the_strength_and_refuses_digest_ciphers() {
        let gssapi = |extra: &[&str]| {
            let mut all = vec!["--mech", "gssapi"];
            all.extend_from_slice(extra);
            gssapi_properties(&args(&all))
        };
        let p = gssapi(&["--qop", "auth"]).unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (0, 0));
        let p = gssapi(&["--qop", "auth-int"]).unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (1, 1));
        let p = gssapi(&["--qop", "auth-conf", "--maxbuf", "1024"]).unwrap();
        assert_eq!((p.min_ssf, p.max_ssf, p.maxbuf), (2, 256, 1024));
        let err = gssapi(&["--qop", "auth-conf", "--cipher", "rc4"]).unwrap_err();
        assert_eq!(err.exit_code, 2);
        assert!(err.message.contains("digest-md5"), "{err}");
        assert!(
            Args::try_parse_from(["ldap_search", "--mech", "ntlmv1", "--url", "ldap://h"]).is_err()
        );
    }

    async fn refused(extra: &[&str]) -> Failure {
        match crate::mechanism::client(&args(extra), "h", None).await {
            Ok(_) => panic!("{extra:?} was accepted"),
            Err(f) => f,
        }
    }

    #[tokio::test]
    async fn credentials_must_fit_the_mechanism() {
        let f = refused(&["--qop", "auth", "--keytab", "/k"]).await;
        assert_eq!(f.exit_code, 2);
        assert!(f.message.contains("--mech gssapi"), "{f}");
        let f = refused(&["--qop", "auth", "--mech", "gssapi", "--keytab", "/k"]).await;
        assert_eq!(f.exit_code, 2);
        assert!(f.message.contains("at most one of"), "{f}");
        let f = refused(&["--qop", "auth", "--ccache", "/c"]).await;
        assert_eq!(f.exit_code, 2);
        assert!(f.message.contains("--mech gssapi"), "{f}");
    }

    #[tokio::test]
    async fn a_password_comes_from_the_named_environment_variable() {
        let no_password = [
            "ldap_search",
            "--url",
            "ldap://h",
            "--base",
            "dc=x",
            "--qop",
            "auth",
        ];
        let with = |extra: &[&str]| {
            Args::try_parse_from(no_password.iter().chain(extra)).expect("valid arguments")
        };
        // PATH is set in any test environment; its value stands in for a password.
        let path = std::env::var("PATH").unwrap();
        let args = with(&["--password-env", "PATH"]);
        assert_eq!(password(&args).unwrap().as_deref(), Some(&path));
        let missing = "SEALSTREAM_TEST_NO_SUCH_VARIABLE";
        let err = password(&with(&["--password-env", missing])).unwrap_err();
        assert_eq!(err.exit_code, 2);
        assert!(err.message.contains(missing), "{err}");
        let err = password(&with(&["--password-env", "PATH", "--password", "p"])).unwrap_err();
        assert!(err.message.contains("not both"), "{err}");
        // DIGEST-MD5 needs a user and a password.
        let err = crate::mechanism::client(&with(&[]), "h", None)
            .await
            .err()
            .unwrap();
        assert!(err.message.contains("--user"), "{err}");
    }

    #[test]
    fn failures_are_one_line() {
        let f = Failure::ldap("bind", ResultCode::InvalidCredentials, "bad\nthing");
        assert_eq!(f.exit_code, 49);
        assert_eq!(
            f.to_string(),
            "bind failed: result 49 (invalidCredentials): bad thing"
        );
    }
}
