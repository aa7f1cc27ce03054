//! `sealcat listen ADDR --tls | --sasl MECH`: accept sealed connections and relay them to
//! stdin/stdout, echo them, or hand each to a command.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;

use sealstream_tls::TlsAcceptor;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use super::config;
use super::identity::Identity;
use super::relay::{Until, relay, relay_terminal};
use super::sasl;

/// Options of `sealcat listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// Where to listen, HOST:PORT (port 0: any free port, printed on stderr).
    addr: String,
    /// Seal connections with TLS.
    #[arg(long, required_unless_present = "sasl", conflicts_with = "sasl")]
    tls: bool,
    /// Authenticate clients with this SASL mechanism and seal each connection with its layer,
    /// over sealcat's line protocol (PROTOCOL.md).
    #[arg(long, value_name = "MECH", value_parser = sasl::MECHANISMS)]
    sasl: Option<String>,
    /// The certificate chain, PEM (default: a self-signed certificate made at start).
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "sasl")]
    cert: Option<PathBuf>,
    /// The private key, PEM.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Write the self-signed certificate to this file, for `connect --ca`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "sasl"])]
    save_cert: Option<PathBuf>,
    /// Send every connection's data back to it.
    #[arg(long, conflicts_with = "exec")]
    echo: bool,
    /// Run this shell command per connection; its stdin and stdout become the stream.
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,
    /// Accept an application protocol by ALPN; repeat for several, in order of preference.
    #[arg(long = "alpn", value_name = "PROTOCOL", conflicts_with = "sasl")]
    alpn: Vec<String>,
    #[command(flatten)]
    sasl_args: sasl::ServerArgs,
    /// With --echo or --exec, serve one connection and exit.
    #[arg(long)]
    once: bool,
    /// Print each connection's negotiated parameters on stderr.
    #[arg(short, long)]
    verbose: bool,
}

/// What each connection is for.
#[derive(Clone, Debug)]
enum Serve {
    Relay,
    Echo,
    Exec(String),
}

/// How each connection is sealed.
#[derive(Clone)]
enum Acceptor {
    Tls(TlsAcceptor),
    Sasl(sasl::ServerSettings),
}

/// The host part of `addr`, without brackets; `None` for a wildcard address.
fn host_of(addr: &str) -> Option<String> {
    let host = addr.rsplit_once(':').map_or("", |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!matches!(host, "" | "0.0.0.0" | "::")).then(|| host.to_string())
}

/// The TLS acceptor, and the words describing it for the start-up line.
fn tls_acceptor(options: &Options) -> Result<(TlsAcceptor, String), String> {
    let identity = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => Identity::from_pem_files(cert, key)?,
        _ => {
            let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
            if let Some(host) = host_of(&options.addr) {
                if !names.contains(&host) {
                    names.push(host);
                }
            }
            Identity::self_signed(names)?
        }
    };
    let fingerprint = identity.fingerprint();
    if let (Some(path), Some(pem)) = (&options.save_cert, &identity.self_signed_pem) {
        std::fs::write(path, pem)
            .map_err(|e| format!("cannot write the certificate to {}: {e}", path.display()))?;
    }
    let kind = if identity.self_signed_pem.is_some() {
        "self-signed certificate"
    } else {
        "certificate"
    };
    let acceptor = TlsAcceptor::new(config::server(identity, &options.alpn)?)
        .handshake_timeout(super::HANDSHAKE_TIMEOUT);
    Ok((acceptor, format!("TLS, {kind} SHA-256 {fingerprint}")))
}

pub(crate) async fn run(options: Options) -> Result<(), String> {
    let (acceptor, description) = if let Some(mech) = &options.sasl {
        let settings = options
            .sasl_args
            .settings(mech, host_of(&options.addr).as_deref())?;
        let description = format!(
            "SASL {}, offering {}",
            settings.describe(),
            options.sasl_args.offer()
        );
        (Acceptor::Sasl(settings), description)
    } else {
        let (acceptor, description) = tls_acceptor(&options)?;
        (Acceptor::Tls(acceptor), description)
    };

    let listener = TcpListener::bind(&options.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
    eprintln!("sealcat: listening on {local} ({description})");

    let serve = match (&options.exec, options.echo) {
        (Some(cmd), _) => Serve::Exec(cmd.clone()),
        (None, true) => Serve::Echo,
        (None, false) => Serve::Relay,
    };
    if matches!(serve, Serve::Relay) || options.once {
        let (tcp, peer) = accept(&listener).await?;
        return handle(tcp, peer, &acceptor, &serve, options.verbose).await;
    }
    loop {
        let (tcp, peer) = accept(&listener).await?;
        let (acceptor, serve, verbose) = (acceptor.clone(), serve.clone(), options.verbose);
        crate::tasks::spawn_named(&format!("connection {peer}"), async move {
            if let Err(err) = handle(tcp, peer, &acceptor, &serve, verbose).await {
                eprintln!("sealcat: {err}");
            }
        })
        .map_err(|e| format!("cannot start a task for {peer}: {e}"))?;
    }
}

/// The next connection. Failures that concern one connection or a passing shortage (the peer
/// gave up before we accepted, too many open files) are reported and waited out, as a server
/// must: only a listener that cannot accept at all ends the command. While failures go on, one
/// line a second says so, with how many there were.
async fn accept(listener: &TcpListener) -> Result<(TcpStream, SocketAddr), String> {
    let mut unreported = 0u64;
    let mut last_report: Option<std::time::Instant> = None;
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                return Ok((tcp, peer));
            }
            Err(e) if is_transient(&e) => {
                unreported += 1;
                if last_report.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1)) {
                    let more = match unreported {
                        1 => String::new(),
                        n => format!(" ({n} failures since the last report)"),
                    };
                    eprintln!("sealcat: cannot accept a connection now: {e}{more}");
                    last_report = Some(std::time::Instant::now());
                    unreported = 0;
                }
                // A shortage of descriptors or memory takes a moment to pass; a network error
                // on one pending connection does not, but a short pause costs nothing.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(format!("cannot accept a connection: {e}")),
        }
    }
}

/// Accept errors that pass: the connection was aborted or reset before it was accepted, a
/// resource (file descriptors, memory) ran short for a moment, or, as Linux's accept(2) says,
/// an error already pending on the new connection ("For reliable operation the application
/// should detect the network errors defined for the protocol after accept() and treat them like
/// EAGAIN by retrying. In the case of TCP/IP, these are ENETDOWN, EPROTO, ENOPROTOOPT,
/// EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, and ENETUNREACH.").
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::OutOfMemory
    ) || matches!(
        e.raw_os_error(),
        Some(
            libc::EMFILE
                | libc::ENFILE
                | libc::ENOBUFS
                | libc::ENOMEM
                | libc::ENETDOWN
                | libc::EPROTO
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
        )
    )
}

async fn handle(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: &Acceptor,
    serve: &Serve,
    verbose: bool,
) -> Result<(), String> {
    match acceptor {
        Acceptor::Tls(acceptor) => {
            let stream = acceptor
                .accept(tcp)
                .await
                .map_err(|e| super::handshake_error(&peer.to_string(), &e))?;
            if verbose {
                eprintln!(
                    "sealcat: {peer} connected: {}",
                    super::describe(stream.seal_half().info())
                );
            }
            let (from_peer, to_peer) = stream.into_split();
            serve_halves(from_peer, to_peer, peer, serve).await?;
        }
        Acceptor::Sasl(settings) => {
            let established = sasl::exchange::server(tcp, settings.mechanism())
                .await
                .map_err(|e| sasl::exchange_error(&peer.to_string(), &e))?;
            if verbose {
                eprintln!(
                    "sealcat: {peer} connected: {}",
                    sasl::describe(&established.outcome)
                );
            }
            let (from_peer, to_peer) = established.stream.into_split();
            serve_halves(from_peer, to_peer, peer, serve).await?;
        }
    }
    if verbose {
        eprintln!("sealcat: {peer} closed");
    }
    Ok(())
}

/// Do with a sealed connection's halves what `serve` says.
async fn serve_halves<R, W>(
    mut from_peer: R,
    mut to_peer: W,
    peer: SocketAddr,
    serve: &Serve,
) -> Result<(), String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let failed = |e: io::Error| format!("connection from {peer}: {e}");
    match serve {
        Serve::Relay => {
            relay_terminal(from_peer, to_peer).await.map_err(failed)?;
        }
        Serve::Echo => {
            use tokio::io::AsyncWriteExt;
            tokio::io::copy(&mut from_peer, &mut to_peer)
                .await
                .map_err(failed)?;
            to_peer.shutdown().await.map_err(failed)?;
        }
        Serve::Exec(cmd) => {
            let mut child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
            let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
            let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
                return Err(format!("{cmd:?} has no stdin or stdout"));
            };
            relay(from_peer, to_peer, stdout, stdin, Until::BothClosed)
                .await
                .map_err(failed)?;
            let _ = child.wait().await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_that_pass_are_told_from_those_that_do_not() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::EPROTO, libc::ENETUNREACH] {
            assert!(
                is_transient(&io::Error::from_raw_os_error(errno)),
                "{errno}"
            );
        }
        assert!(is_transient(&io::ErrorKind::ConnectionAborted.into()));
        for errno in [libc::EBADF, libc::EINVAL, libc::ENOTSOCK] {
            assert!(
                !is_transient(&io::Error::from_raw_os_error(errno)),
                "{errno}"
            );
        }
    }
}
