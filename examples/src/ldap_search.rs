//! `ldap_search`: a SASL bind (DIGEST-MD5, GSSAPI with Kerberos V5, NTLM, GSS-SPNEGO or SCRAM),
//! the negotiated security layer installed as a `SealedStream` over the TCP connection, then
//! one search printed as LDIF.
//!
//! With `ldaps://`, the connection is TLS first (sealstream-tls); the SASL mechanism is bound
//! to it with the `tls-server-end-point` channel binding of the server's certificate (what
//! Active Directory checks as "LDAP channel binding"), and any SASL layer runs inside TLS.
//!
//! The bind is [`crate::ldap_bind`]'s; every byte after its last response is framed by the
//! layer (RFC 4422 §3.7).

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use rasn_ldap::{LdapMessage, ProtocolOp, ResultCode, SearchRequestScope};
use sealstream::{EofPolicy, StreamBuilder};
use sealstream_sasl::{AsyncClientMechanism, ChannelBindingData};
use sealstream_tls::ChannelBinding;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::connect::{Url, connect};
pub use crate::failure::Failure;
use crate::failure::io_failure;
use crate::ldap::{self, MessageReader};
use crate::ldap_bind::{bind, expect_response};
use crate::ldif;
use crate::sasl_args::SaslArgs;

/// The SASL service name of LDAP (RFC 4513 §5.2.1.2; the `ldap/HOST` Kerberos principal).
const SERVICE: &str = "ldap";
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
    /// The SASL mechanism and its credentials.
    #[command(flatten)]
    pub sasl: SaslArgs,
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

/// `ldap://HOST[:PORT][/]` (port 389) or `ldaps://HOST[:PORT][/]` (port 636).
pub fn parse_url(url: &str) -> Result<Url, Failure> {
    crate::connect::parse_url(url, ("ldap", 389), ("ldaps", 636))
}

/// Run the command: bind, search, write the entries to `out` as LDIF and, with `--verbose`, the
/// negotiated layer to `log`.
pub async fn run(args: &Args, out: &mut impl Write, log: &mut impl Write) -> Result<(), Failure> {
    crate::failure::within(args.timeout, &args.url, session(args, out, log)).await
}

async fn session(args: &Args, out: &mut impl Write, log: &mut impl Write) -> Result<(), Failure> {
    let Url { tls, host, port } = parse_url(&args.url)?;
    // The name the server is known by to SASL (DIGEST-MD5's digest-uri, GSSAPI's ldap/HOST)
    // and to TLS (the certificate's name).
    let server_name = args.sasl.server_name.as_deref().unwrap_or(&host);
    if !tls {
        // Everything that can fail without the server fails before connecting.
        let mechanism = crate::mechanism::client(&args.sasl, SERVICE, server_name, None).await?;
        let tcp = connect(&host, port).await?;
        return over(tcp, mechanism, args, out, log).await;
    }
    let config = crate::tls::client_config(args.ca.as_deref())?;
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
    let mechanism =
        crate::mechanism::client(&args.sasl, SERVICE, server_name, bindings.as_ref()).await?;
    over(tls, mechanism, args, out, log).await
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

    if args.verbose {
        let line = crate::mechanism::describe(&*client, "bound")?;
        writeln!(log, "ldap_search: {line}").ok();
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

    fn args_sasl(extra: &[&str]) -> SaslArgs {
        args(extra).sasl
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
        let p = properties(&args_sasl(&["--qop", "auth-int"])).unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (1, 1));
        let p = properties(&args_sasl(&["--qop", "auth-conf", "--cipher", "3des"])).unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (112, 112));
        let p = properties(&args_sasl(&["--qop", "auth-conf"])).unwrap();
        assert_eq!(
            (p.min_ssf, p.max_ssf, p.allow_legacy_ciphers),
            (2, 256, false)
        );
        let err = properties(&args_sasl(&["--qop", "auth-conf", "--cipher", "des"])).unwrap_err();
        assert!(err.message.contains("--legacy-ciphers"), "{err}");
        let p = properties(&args_sasl(&[
            "--qop",
            "auth-conf",
            "--cipher",
            "des",
            "--legacy-ciphers",
        ]))
        .unwrap();
        assert_eq!((p.min_ssf, p.max_ssf), (55, 55));
        let err = properties(&args_sasl(&["--qop", "auth-int", "--cipher", "rc4"])).unwrap_err();
        assert_eq!(err.exit_code, 2);
        let err = properties(&args_sasl(&["--qop", "auth-conf", "--cipher", "aes"])).unwrap_err();
        assert!(err.message.contains("unknown cipher"), "{err}");
    }

    #[test]
    fn gssapi_qop_pins_the_strength_and_refuses_digest_ciphers() {
        let gssapi = |extra: &[&str]| {
            let mut all = vec!["--mech", "gssapi"];
            all.extend_from_slice(extra);
            gssapi_properties(&args(&all).sasl)
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
        match crate::mechanism::client(&args(extra).sasl, SERVICE, "h", None).await {
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
        assert_eq!(password(&args.sasl).unwrap().as_deref(), Some(&path));
        let missing = "SEALSTREAM_TEST_NO_SUCH_VARIABLE";
        let err = password(&with(&["--password-env", missing]).sasl).unwrap_err();
        assert_eq!(err.exit_code, 2);
        assert!(err.message.contains(missing), "{err}");
        let err = password(&with(&["--password-env", "PATH", "--password", "p"]).sasl).unwrap_err();
        assert!(err.message.contains("not both"), "{err}");
        // DIGEST-MD5 needs a user and a password.
        let err = crate::mechanism::client(&with(&[]).sasl, SERVICE, "h", None)
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
