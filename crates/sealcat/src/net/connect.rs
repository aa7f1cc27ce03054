//! `sealcat connect ADDR --tls | --sasl MECH [--imap [--starttls]]`: stdin to the peer, the
//! peer to stdout.

use std::path::PathBuf;

use rustls::pki_types::ServerName;
use sealstream_tls::TlsConnector;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::config::{self, Trust};
use super::relay::{Moved, relay_terminal};
use super::sasl;

/// Options of `sealcat connect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// The peer, HOST:PORT.
    addr: String,
    /// Seal the connection with TLS.
    #[arg(long, required_unless_present = "sasl", conflicts_with = "sasl")]
    tls: bool,
    /// Authenticate with this SASL mechanism and seal the connection with its layer, over
    /// sealcat's line protocol (PROTOCOL.md).
    #[arg(long, value_name = "MECH", value_parser = sasl::MECHANISMS)]
    sasl: Option<String>,
    /// With --sasl: the peer is an IMAP server. Log in with AUTHENTICATE (as imtest does), then
    /// relay the terminal through the layer; lines typed go out ending in CRLF. The SASL
    /// service is imap (digest-uri imap/HOST, the Kerberos service imap/HOST).
    #[arg(long, requires = "sasl", conflicts_with = "ldap")]
    imap: bool,
    /// With --sasl: the peer is an LDAP server. Bind with SASL (as ldap_search does), then
    /// relay stdin and stdout through the layer: LDAP messages (BER) piped in go out sealed.
    /// The SASL service is ldap.
    #[arg(long, requires = "sasl")]
    ldap: bool,
    /// With --imap: switch to TLS with STARTTLS before authenticating (trusting --ca or the
    /// system's CAs). Servers that count TLS as a layer (Cyrus) then offer no SASL layer.
    #[arg(long, requires = "imap")]
    starttls: bool,
    /// Trust the CA certificates in this PEM file (default: the system's).
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    ca: Option<PathBuf>,
    /// Accept any server certificate (the handshake's signatures are still checked).
    #[arg(long, conflicts_with = "sasl")]
    insecure: bool,
    /// The server name to verify and send as SNI (default: the host of ADDR).
    #[arg(long, value_name = "NAME", conflicts_with = "sasl")]
    sni: Option<String>,
    /// Offer an application protocol by ALPN; repeat for several, in order of preference.
    #[arg(long = "alpn", value_name = "PROTOCOL", conflicts_with = "sasl")]
    alpn: Vec<String>,
    #[command(flatten)]
    sasl_args: sasl::ClientArgs,
    /// Print what was negotiated (TLS: version, suite, ALPN, peer certificate; SASL: layer,
    /// cipher, maxbuf) on stderr.
    #[arg(short, long)]
    verbose: bool,
}

/// The host part of `addr` (`[::1]:443` gives `::1`).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

pub(crate) async fn run(options: Options) -> Result<(), String> {
    let host = host_of(&options.addr).to_string();
    if options.ca.is_some() && options.sasl.is_some() && !options.starttls {
        return Err("--ca is for --tls and --starttls".into());
    }
    if let (Some(mech), true) = (&options.sasl, options.imap) {
        let mechanism = options
            .sasl_args
            .mechanism(mech, super::imap::SERVICE, &host)
            .await?;
        let tls = if options.starttls {
            let trust = match &options.ca {
                Some(path) => Trust::CaFile(path),
                None => Trust::System,
            };
            let server_name = ServerName::try_from(host.clone())
                .map_err(|_| format!("{host:?} is not a valid server name"))?;
            Some((config::client(trust, &[])?, server_name))
        } else {
            None
        };
        let tcp = connect_tcp(&options.addr).await?;
        let moved =
            super::imap::connect(&options.addr, tcp, mechanism, tls, options.verbose).await?;
        report(&options, moved);
        return Ok(());
    }
    if let (Some(mech), true) = (&options.sasl, options.ldap) {
        let mechanism = options
            .sasl_args
            .mechanism(mech, super::ldap::SERVICE, &host)
            .await?;
        let tcp = connect_tcp(&options.addr).await?;
        let moved = super::ldap::connect(&options.addr, tcp, mechanism, options.verbose).await?;
        report(&options, moved);
        return Ok(());
    }
    if let Some(mech) = &options.sasl {
        // Before connecting: a bad --cipher is a usage error, not a network one, and GSSAPI
        // gets its ticket first.
        let mechanism = options
            .sasl_args
            .mechanism(mech, sasl::SERVICE, &host)
            .await?;
        let tcp = connect_tcp(&options.addr).await?;
        let established = sasl::exchange::client(tcp, mechanism)
            .await
            .map_err(|e| sasl::exchange_error(&options.addr, &e))?;
        if options.verbose {
            eprintln!(
                "sealcat: connected to {}: {}",
                options.addr,
                sasl::describe(&established.outcome)
            );
        }
        let (from_peer, to_peer) = established.stream.into_split();
        return relay(&options, from_peer, to_peer).await;
    }

    let trust = match (&options.ca, options.insecure) {
        (Some(path), _) => Trust::CaFile(path),
        (None, true) => Trust::Anyone,
        (None, false) => Trust::System,
    };
    let name = options.sni.clone().unwrap_or(host);
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| format!("{name:?} is not a valid server name"))?;
    let config = config::client(trust, &options.alpn)?;
    let tcp = connect_tcp(&options.addr).await?;
    let stream = TlsConnector::new(config)
        .handshake_timeout(super::HANDSHAKE_TIMEOUT)
        .connect(server_name, tcp)
        .await
        .map_err(|e| super::handshake_error(&options.addr, &e))?;
    if options.insecure {
        eprintln!("sealcat: --insecure: the server's certificate was not verified");
    }
    if options.verbose {
        eprintln!(
            "sealcat: connected to {}: {}",
            options.addr,
            super::describe(stream.seal_half().info())
        );
    }
    let (from_peer, to_peer) = stream.into_split();
    relay(&options, from_peer, to_peer).await
}

async fn connect_tcp(addr: &str) -> Result<TcpStream, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// Relay the terminal over the sealed stream's two halves.
async fn relay<R, W>(options: &Options, from_peer: R, to_peer: W) -> Result<(), String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let moved = relay_terminal(from_peer, to_peer)
        .await
        .map_err(|e| format!("connection to {}: {e}", options.addr))?;
    report(options, moved);
    Ok(())
}

/// With `-v`, what the relay moved.
fn report(options: &Options, moved: Moved) {
    if options.verbose {
        eprintln!(
            "sealcat: closed; sent {} bytes, received {}",
            moved.sent, moved.received
        );
    }
}
