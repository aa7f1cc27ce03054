//! Where a client's `--url` points, and the TCP connection to it.

use tokio::net::TcpStream;

use crate::failure::{Failure, io_failure};

/// Where `--url` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The TLS scheme (`ldaps://`, `imaps://`): TLS from the first byte.
    pub tls: bool,
    /// The host, as written.
    pub host: String,
    /// The port (the scheme's when not written).
    pub port: u16,
}

/// `SCHEME://HOST[:PORT][/]` for the clear scheme `plain` or the TLS scheme `tls`, each with
/// its default port: `parse_url(url, ("imap", 143), ("imaps", 993))`.
pub fn parse_url(url: &str, plain: (&str, u16), tls: (&str, u16)) -> Result<Url, Failure> {
    let bad = |why: &str| Failure::usage(format!("--url {url:?}: {why}"));
    let scheme = |name: &str| url.strip_prefix(name)?.strip_prefix("://");
    let (tls, rest, default_port) = match (scheme(plain.0), scheme(tls.0)) {
        (Some(rest), _) => (false, rest, plain.1),
        (None, Some(rest)) => (true, rest, tls.1),
        _ => {
            return Err(bad(&format!(
                "only {}://HOST[:PORT] and {}://HOST[:PORT] are supported",
                plain.0, tls.0
            )));
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
        None => default_port,
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

/// A TCP connection to `host:port`, with Nagle's algorithm off (requests are small and
/// answered one at a time).
pub async fn connect(host: &str, port: u16) -> Result<TcpStream, Failure> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(io_failure(&format!("cannot connect to {host}:{port}")))?;
    tcp.set_nodelay(true).ok();
    Ok(tcp)
}
