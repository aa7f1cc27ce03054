//! Sending requests to KDCs over the network: UDP for small requests, TCP for large ones and
//! when a KDC says its reply is too big for UDP (RFC 4120 §7.2), a timeout on each try, and the
//! next KDC of the realm when one does not answer.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use sealstream::{Error, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::{
    ClientSecret, Credentials, InitCreds, InitCredsOptions, KdcRequest, Step, TgsExchange,
};
use crate::principal::Principal;

/// The largest request sent over UDP (MIT's `udp_preference_limit`); larger ones go over TCP.
const UDP_LIMIT: usize = 1465;
/// The largest reply taken from a KDC: tickets with a PAC from Active Directory run to tens of
/// kilobytes, nothing legitimate to a megabyte.
const MAX_REPLY: usize = 1 << 20;
/// The port a KDC listens on unless configured otherwise.
const KDC_PORT: u16 = 88;

/// Where each realm's KDCs are, and how long to wait for one.
#[derive(Clone, Debug)]
pub struct KdcConfig {
    realms: BTreeMap<String, Vec<String>>,
    default_realm: Option<String>,
    timeout: Duration,
}

impl Default for KdcConfig {
    fn default() -> Self {
        Self {
            realms: BTreeMap::new(),
            default_realm: None,
            timeout: Duration::from_secs(3),
        }
    }
}

impl KdcConfig {
    /// No realms yet; add them with [`kdc`](Self::kdc) or read a `krb5.conf`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A KDC of `realm` at `address` (`host`, `host:port`, `[v6]:port`; port 88 by default).
    pub fn kdc(mut self, realm: &str, address: &str) -> Self {
        self.realms
            .entry(realm.to_owned())
            .or_default()
            .push(address.to_owned());
        self
    }

    /// How long to wait for each KDC's answer before trying the next (default 3 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `default_realm` of the `krb5.conf` read, if it has one.
    pub fn default_realm(&self) -> Option<&str> {
        self.default_realm.as_deref()
    }

    /// The `[libdefaults] default_realm` and the `kdc` lines of each realm in `[realms]` of a
    /// `krb5.conf` (MIT's profile syntax). Other settings are ignored.
    pub fn from_krb5_conf(text: &str) -> Result<Self, Error> {
        let mut config = Self::new();
        let mut section = String::new();
        let mut realm: Option<String> = None;
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let bad = |why: &str| {
                Error::new(
                    Status::InvalidParameter,
                    format!("krb5.conf line {}: {why}: {raw:?}", number + 1),
                )
            };
            if let Some(name) = line.strip_prefix('[') {
                section = name.trim_end_matches(']').trim().to_owned();
                realm = None;
                continue;
            }
            if line == "}" {
                realm = None;
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| bad("no '='"))?;
            let (key, value) = (key.trim(), value.trim());
            match (section.as_str(), &realm) {
                ("libdefaults", _) if key == "default_realm" => {
                    config.default_realm = Some(value.to_owned());
                }
                ("realms", None) if value == "{" => realm = Some(key.to_owned()),
                ("realms", Some(name)) if key == "kdc" => {
                    config = config.kdc(&name.clone(), value);
                }
                _ => {}
            }
        }
        Ok(config)
    }

    /// The `krb5.conf` named by `KRB5_CONFIG` (its first entry), or `/etc/krb5.conf`.
    pub fn from_environment() -> Result<Self, Error> {
        let path = std::env::var("KRB5_CONFIG")
            .ok()
            .and_then(|v| v.split(':').next().map(str::to_owned))
            .unwrap_or_else(|| "/etc/krb5.conf".to_owned());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(
                Status::NoAuthenticatingAuthority,
                format!("cannot read {path}: {e}"),
            )
        })?;
        Self::from_krb5_conf(&text)
    }

    /// Send `request` to its realm's KDCs in turn until one answers.
    pub async fn send(&self, request: &KdcRequest) -> Result<Vec<u8>, Error> {
        let kdcs = self.realms.get(&request.realm).ok_or_else(|| {
            Error::new(
                Status::NoAuthenticatingAuthority,
                format!("no KDC is configured for realm {}", request.realm),
            )
        })?;
        let udp = !request.tcp_only && request.message.len() <= UDP_LIMIT;
        let mut failures = Vec::new();
        for kdc in kdcs {
            let address = with_port(kdc);
            let reply = if udp {
                tokio::time::timeout(self.timeout, send_udp(&address, &request.message)).await
            } else {
                tokio::time::timeout(self.timeout, send_tcp(&address, &request.message)).await
            };
            match reply {
                Ok(Ok(reply)) => return Ok(reply),
                Ok(Err(e)) => failures.push(format!("{address}: {e}")),
                Err(_) => failures.push(format!("{address}: no answer in {:?}", self.timeout)),
            }
        }
        Err(Error::new(
            Status::NoAuthenticatingAuthority,
            format!(
                "no KDC of realm {} answered ({})",
                request.realm,
                failures.join("; ")
            ),
        ))
    }

    /// A ticket-granting ticket for `client`, by an AS exchange with its realm's KDCs.
    pub async fn get_tgt(
        &self,
        client: Principal,
        secret: ClientSecret,
        options: InitCredsOptions,
    ) -> Result<Credentials, Error> {
        let mut exchange = InitCreds::new(client, secret, options)?;
        let request = exchange.start(SystemTime::now())?;
        self.run("AS", 8, request, |reply, now| exchange.step(reply, now))
            .await
    }

    /// A ticket for `service`, by TGS exchanges starting with `tgt`. A service in another realm
    /// is reached through cross-realm ticket-granting tickets: the KDC of the TGT's realm is
    /// asked for `krbtgt/SERVICE-REALM@ITS-REALM`, and answers with that or one for a realm
    /// closer to it, which is followed. A service whose realm is not known can be asked for in
    /// the client's realm: a KDC that knows it is elsewhere answers with a referral (RFC 6806),
    /// and the service is asked for in the realm referred to. Each realm is visited once, at
    /// most [`MAX_REALM_HOPS`] of them; the realms on the way need KDCs in this configuration.
    pub async fn get_service_ticket(
        &self,
        tgt: &Credentials,
        service: Principal,
    ) -> Result<Credentials, Error> {
        let mut tgt = tgt.clone();
        let mut service = service;
        let mut path = Vec::new();
        loop {
            let here = tgt.server().granting_realm().ok_or_else(|| {
                Error::new(
                    Status::InvalidParameter,
                    format!("{} is not a ticket-granting service", tgt.server()),
                )
            })?;
            path.push(here.to_owned());
            if here == service.realm() {
                let ticket = self.tgs(&tgt, service.clone()).await?;
                let referred = match ticket.server().granting_realm() {
                    Some(realm) if service.granting_realm().is_none() => realm.to_owned(),
                    _ => return Ok(ticket),
                };
                // A referral: the service is in `referred`, and this is a TGT for it.
                if path.contains(&referred) || path.len() > MAX_REALM_HOPS {
                    return Err(Error::new(
                        Status::TargetUnknown,
                        format!(
                            "the referrals for {service} go round or too far ({} -> {referred})",
                            path.join(" -> ")
                        ),
                    ));
                }
                service = service.in_realm(&referred);
                tgt = ticket;
                continue;
            }
            if path.len() > MAX_REALM_HOPS {
                return Err(Error::new(
                    Status::TargetUnknown,
                    format!(
                        "no path to realm {} within {MAX_REALM_HOPS} realms ({})",
                        service.realm(),
                        path.join(" -> ")
                    ),
                ));
            }
            let next = self
                .tgs(&tgt, Principal::krbtgt(service.realm(), here))
                .await?;
            let reached = next.server().granting_realm().unwrap_or_default();
            if path.iter().any(|realm| realm == reached) {
                return Err(Error::new(
                    Status::TargetUnknown,
                    format!(
                        "the path to realm {} comes back to {reached} ({} -> {reached})",
                        service.realm(),
                        path.join(" -> ")
                    ),
                ));
            }
            tgt = next;
        }
    }

    /// One TGS exchange: a ticket for `service` with `tgt`, at the KDCs of the service
    /// principal's realm.
    async fn tgs(&self, tgt: &Credentials, service: Principal) -> Result<Credentials, Error> {
        let mut exchange = TgsExchange::new(tgt, service, &[])?;
        let request = exchange.start(SystemTime::now())?;
        self.run("TGS", 4, request, |reply, now| exchange.step(reply, now))
            .await
    }

    /// Drive a sans-IO exchange: send its request, hand it the reply, until it is done or has
    /// taken `rounds` round trips (the `kind` exchange then fails, naming it).
    async fn run(
        &self,
        kind: &str,
        rounds: usize,
        mut request: KdcRequest,
        mut step: impl FnMut(&[u8], SystemTime) -> Result<Step, Error>,
    ) -> Result<Credentials, Error> {
        for _ in 0..rounds {
            let reply = self.send(&request).await?;
            match step(&reply, SystemTime::now())? {
                Step::Send(next) => request = next,
                Step::Done(creds) => return Ok(*creds),
            }
        }
        Err(Error::new(
            Status::InvalidToken,
            format!("the KDC did not finish the {kind} exchange in {rounds} round trips"),
        ))
    }
}

/// The most realms a service ticket's path may cross (the TGT's own among them).
pub const MAX_REALM_HOPS: usize = 8;

/// `address` with the KDC port if it names none.
fn with_port(address: &str) -> String {
    let has_port = match address.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => address.matches(':').count() == 1,
    };
    if has_port {
        address.to_owned()
    } else {
        format!("{address}:{KDC_PORT}")
    }
}

async fn send_udp(address: &str, message: &[u8]) -> std::io::Result<Vec<u8>> {
    let target = tokio::net::lookup_host(address)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
    let local = if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(target).await?;
    socket.send(message).await?;
    let mut reply = vec![0u8; 65536];
    let n = socket.recv(&mut reply).await?;
    reply.truncate(n);
    Ok(reply)
}

/// RFC 4120 §7.2.2: "each request (KRB_KDC_REQ) and response (KRB_KDC_REP or KRB_ERROR) sent
/// over the TCP stream is preceded by the length of the request as 4 octets in network byte
/// order. The high bit of the length is reserved for future expansion and MUST currently be
/// set to zero."
async fn send_tcp(address: &str, message: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(address).await?;
    let len = u32::try_from(message.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "request too big"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(message);
    stream.write_all(&framed).await?;
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await?;
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_REPLY {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the KDC announced a {len}-byte reply (at most {MAX_REPLY} are taken)"),
        ));
    }
    // Memory grows with the bytes that arrive, not with what the length field announces.
    let mut reply = Vec::with_capacity(len.min(READ_CHUNK));
    (&mut stream)
        .take(len as u64)
        .read_to_end(&mut reply)
        .await?;
    if reply.len() < len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!(
                "the KDC closed the connection {} bytes into a {len}-byte reply",
                reply.len()
            ),
        ));
    }
    Ok(reply)
}

/// The room made for a TCP reply before its bytes arrive.
const READ_CHUNK: usize = 16 * 1024;

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A KDC on TCP that reads one request and answers with `reply` (length prefix included).
    async fn kdc_answering(reply: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 64];
            let _ = tcp.read(&mut request).await;
            let _ = tcp.write_all(&reply).await;
        });
        address
    }

    /// A length field is not an allocation: a reply announcing 1 MiB and then ending after ten
    /// bytes is truncation, one announcing more than 1 MiB is refused from its header, and
    /// neither reserves what it announced.
    #[tokio::test]
    async fn tcp_replies_are_read_as_they_arrive_and_bounded() {
        let mut short = (MAX_REPLY as u32).to_be_bytes().to_vec();
        short.extend_from_slice(&[0x7e; 10]);
        let err = send_tcp(&kdc_answering(short).await, b"request")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
        assert!(
            err.to_string()
                .contains("10 bytes into a 1048576-byte reply"),
            "{err}"
        );

        let huge = ((MAX_REPLY + 1) as u32).to_be_bytes().to_vec();
        let err = send_tcp(&kdc_answering(huge).await, b"request")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");

        let mut whole = 5u32.to_be_bytes().to_vec();
        whole.extend_from_slice(b"hello");
        let reply = send_tcp(&kdc_answering(whole).await, b"request")
            .await
            .unwrap();
        assert_eq!(reply, b"hello");
    }
}
