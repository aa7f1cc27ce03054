//! `sealcat connect ADDR --tls`: stdin to the peer, the peer to stdout.

use std::path::PathBuf;

use rustls::pki_types::ServerName;
use sealstream_tls::TlsConnector;
use tokio::net::TcpStream;

use super::config::{self, Trust};
use super::relay::relay_terminal;

/// Options of `sealcat connect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// The peer, HOST:PORT.
    addr: String,
    /// Seal the connection with TLS.
    #[arg(long, required = true)]
    tls: bool,
    /// Trust the CA certificates in this PEM file (default: the system's).
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    ca: Option<PathBuf>,
    /// Accept any server certificate (the handshake's signatures are still checked).
    #[arg(long)]
    insecure: bool,
    /// The server name to verify and send as SNI (default: the host of ADDR).
    #[arg(long, value_name = "NAME")]
    sni: Option<String>,
    /// Offer an application protocol by ALPN; repeat for several, in order of preference.
    #[arg(long = "alpn", value_name = "PROTOCOL")]
    alpn: Vec<String>,
    /// Print the negotiated version, suite, ALPN and peer certificate on stderr.
    #[arg(short, long)]
    verbose: bool,
}

/// The host part of `addr` (`[::1]:443` gives `::1`).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

pub(crate) async fn run(options: Options) -> Result<(), String> {
    let trust = match (&options.ca, options.insecure) {
        (Some(path), _) => Trust::CaFile(path),
        (None, true) => Trust::Anyone,
        (None, false) => Trust::System,
    };
    let name = options
        .sni
        .clone()
        .unwrap_or_else(|| host_of(&options.addr).to_string());
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| format!("{name:?} is not a valid server name"))?;
    let config = config::client(trust, &options.alpn)?;

    let tcp = TcpStream::connect(&options.addr)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", options.addr))?;
    let _ = tcp.set_nodelay(true);
    let stream = TlsConnector::new(config)
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
    let moved = relay_terminal(from_peer, to_peer)
        .await
        .map_err(|e| format!("connection to {}: {e}", options.addr))?;
    if options.verbose {
        eprintln!(
            "sealcat: closed; sent {} bytes, received {}",
            moved.sent, moved.received
        );
    }
    Ok(())
}
