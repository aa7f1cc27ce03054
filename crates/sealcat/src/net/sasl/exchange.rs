//! Both ends of sealcat's SASL exchange (see `PROTOCOL.md`): the mechanism's messages carried
//! in lines until the server says `OK`, then the negotiated layer installed on the connection.

use std::time::Duration;

use sealstream::{SealedStream, StreamBuilder};
use sealstream_sasl::{ClientMechanism, Outcome, SaslSealer, ServerMechanism, Step};
use tokio::io::{AsyncRead, AsyncWrite};

use super::lines::{LineReader, decode, encode, write_line};

/// The greeting's first word and protocol version.
pub(crate) const GREETING: &str = "SEALCAT-SASL 1";

/// How long an exchange may take, as the TLS handshake's default timeout.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// DIGEST-MD5 needs two challenges; a peer asking for more than this is broken or hostile.
const MAX_STEPS: usize = 8;

/// A connection once the exchange succeeded: the sealed stream and what was negotiated.
pub(crate) struct Established<T> {
    pub(crate) stream: SealedStream<T, SaslSealer>,
    pub(crate) outcome: Outcome,
}

fn sasl_error(e: sealstream_sasl::AuthError) -> String {
    e.to_string()
}

/// Run `exchange` within [`TIMEOUT`].
async fn bounded<F, T>(exchange: F) -> Result<T, String>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the SASL exchange did not finish within {} s",
                TIMEOUT.as_secs()
            ))
        })
}

/// Install the layer `mechanism` negotiated on `io`, with `leftover` as the first ciphertext.
fn seal<T: AsyncRead + AsyncWrite>(
    io: T,
    layer: Option<sealstream_sasl::SecurityLayer>,
    leftover: Vec<u8>,
) -> Result<SealedStream<T, SaslSealer>, String> {
    // sealcat exists to seal: qop=auth is never offered or accepted, so this is a peer's doing.
    let layer = layer.ok_or("the exchange negotiated no security layer")?;
    let sealer = layer
        .into_sealer()
        .map_err(|e| format!("cannot install the security layer: {e}"))?;
    Ok(StreamBuilder::new()
        .leftover_ciphertext(leftover)
        .build(io, sealer))
}

/// The client's side: read the greeting, authenticate with `mechanism`, install its layer.
pub(crate) async fn client<T>(
    mut io: T,
    mut mechanism: Box<dyn ClientMechanism>,
) -> Result<Established<T>, String>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut lines = LineReader::default();
    bounded(async {
        let greeting = lines.read_line(&mut io).await?;
        let offered = greeting
            .strip_prefix(GREETING)
            .filter(|rest| rest.is_empty() || rest.starts_with(' '))
            .ok_or_else(|| {
                format!("the peer is not a sealcat SASL server (it sent {greeting:?})")
            })?;
        let name = mechanism.name();
        if !offered
            .split_whitespace()
            .any(|m| m.eq_ignore_ascii_case(name))
        {
            return Err(format!(
                "the server does not offer {name} (it offers:{offered})"
            ));
        }
        match mechanism.start().map_err(sasl_error)? {
            Some(initial) => {
                write_line(&mut io, &format!("AUTH {name} {}", encode(&initial))).await?
            }
            None => write_line(&mut io, &format!("AUTH {name}")).await?,
        }
        for _ in 0..MAX_STEPS {
            let line = lines.read_line(&mut io).await?;
            let (word, field) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            match word {
                "+" => {
                    let challenge = decode(field)?;
                    let response = match mechanism.step(&challenge) {
                        Ok(Step::Continue(r) | Step::Done(Some(r))) => r,
                        Ok(Step::Done(None)) => Vec::new(),
                        Err(e) => {
                            // Tell the server we give up, then say why.
                            let _ = write_line(&mut io, "*").await;
                            return Err(sasl_error(e));
                        }
                    };
                    write_line(&mut io, &encode(&response)).await?;
                }
                "OK" => {
                    let additional = (!field.is_empty()).then(|| decode(field)).transpose()?;
                    mechanism
                        .success(additional.as_deref())
                        .map_err(sasl_error)?;
                    return Ok(());
                }
                "NO" => return Err(format!("the server refused the authentication: {field}")),
                _ => return Err(format!("unexpected line from the server: {line:?}")),
            }
        }
        Err(format!(
            "the server asked for more than {MAX_STEPS} steps of {name}"
        ))
    })
    .await?;
    let outcome = mechanism
        .outcome()
        .cloned()
        .ok_or("the mechanism reported success without an outcome")?;
    let layer = mechanism.into_layer().map_err(sasl_error)?;
    Ok(Established {
        stream: seal(io, layer, lines.into_leftover())?,
        outcome,
    })
}

/// The server's side: greet with `mechanism`'s name, run the exchange, install its layer. A
/// failure is reported to the client as `NO` before it is returned.
pub(crate) async fn server<T>(
    mut io: T,
    mut mechanism: Box<dyn ServerMechanism>,
) -> Result<Established<T>, String>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut lines = LineReader::default();
    let result = bounded(serve_exchange(&mut io, &mut lines, mechanism.as_mut())).await;
    if let Err(reason) = &result {
        // The reason goes to the client on one line, within a second: a client that does not
        // read must not hold the connection (and, with --once, the server) any longer.
        let no = format!("NO {}", reason.replace(['\r', '\n'], " "));
        let _ = tokio::time::timeout(Duration::from_secs(1), write_line(&mut io, &no)).await;
    }
    result?;
    let outcome = mechanism
        .outcome()
        .cloned()
        .ok_or("the mechanism reported success without an outcome")?;
    let layer = mechanism.into_layer().map_err(sasl_error)?;
    Ok(Established {
        stream: seal(io, layer, lines.into_leftover())?,
        outcome,
    })
}

async fn serve_exchange<T>(
    io: &mut T,
    lines: &mut LineReader,
    mechanism: &mut dyn ServerMechanism,
) -> Result<(), String>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let name = mechanism.name();
    write_line(io, &format!("{GREETING} {name}")).await?;
    let request = lines.read_line(io).await?;
    let mut words = request.splitn(3, ' ');
    let (verb, asked, initial) = (words.next(), words.next(), words.next());
    if verb != Some("AUTH") {
        return Err(format!("expected AUTH, got {request:?}"));
    }
    match asked {
        Some(asked) if asked.eq_ignore_ascii_case(name) => {}
        other => {
            return Err(format!(
                "unsupported mechanism {:?} (this server offers {name})",
                other.unwrap_or("")
            ));
        }
    }
    let initial = initial.map(decode).transpose()?;
    let mut step = mechanism.start(initial.as_deref()).map_err(sasl_error)?;
    let mut challenges = 0;
    loop {
        match step {
            Step::Done(additional) => {
                let line = match additional {
                    Some(data) => format!("OK {}", encode(&data)),
                    None => "OK".to_string(),
                };
                return write_line(io, &line).await;
            }
            Step::Continue(_) if challenges == MAX_STEPS => {
                return Err(format!("{name} took more than {MAX_STEPS} steps"));
            }
            Step::Continue(challenge) => {
                challenges += 1;
                write_line(io, &format!("+ {}", encode(&challenge))).await?;
                let response = lines.read_line(io).await?;
                if response == "*" {
                    return Err("the client abandoned the exchange".to_string());
                }
                step = mechanism.step(&decode(&response)?).map_err(sasl_error)?;
            }
        }
    }
}
