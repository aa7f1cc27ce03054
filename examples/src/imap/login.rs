//! The steps from a connection to an authenticated session: the greeting, the capabilities,
//! STARTTLS (RFC 3501 §6.2.1), and AUTHENTICATE with a mechanism the server offers.
//!
//! Shared by the `imap_client` example, which then reads a mailbox, and `sealcat connect
//! --imap`, which then hands the layer to a person at a terminal.

use sealstream_sasl::AsyncClientMechanism;
use tokio::io::{AsyncRead, AsyncWrite};

use super::authenticate::{Authenticated, authenticate};
use super::response::{Kind, Status};
use super::session::{Parts, Session, closed};
use crate::failure::Failure;

/// The greeting (RFC 3501 §7.1): an untagged OK, and the capabilities it lists if any. A
/// PREAUTH greeting leaves no room for SASL; a BYE means the server will not talk.
pub async fn greeting<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<'_, S>,
) -> Result<Option<Vec<String>>, Failure> {
    let greeting = session.read().await?;
    match (greeting.kind(), greeting.status()) {
        (Some(Kind::Untagged), Some(Status::Ok)) => Ok(greeting.capabilities()),
        (Some(Kind::Untagged), Some(Status::Bye)) => Err(closed(&greeting)),
        (Some(Kind::Untagged), Some(Status::Preauth)) => Err(Failure::other(
            "the server greeted with PREAUTH: the connection is authenticated already, so no \
             SASL exchange (and no security layer) can follow",
        )),
        _ => Err(Failure::other(format!(
            "the server's greeting is not IMAP: {}",
            greeting.text_lossy()
        ))),
    }
}

/// The capabilities, asked with CAPABILITY.
pub async fn ask_capabilities<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<'_, S>,
) -> Result<Vec<String>, Failure> {
    let done = session.command("CAPABILITY").await?;
    done.untagged
        .iter()
        .find_map(|r| r.capabilities())
        .ok_or_else(|| Failure::other("the server answered CAPABILITY without its capabilities"))
}

/// STARTTLS, when `capabilities` offer it: the connection to run the TLS handshake on, and
/// the session's parts to resume over TLS. Capabilities must be asked again afterwards.
pub async fn starttls<'t, S: AsyncRead + AsyncWrite + Unpin>(
    mut session: Session<'t, S>,
    capabilities: &[String],
) -> Result<(S, Parts<'t>), Failure> {
    if !capabilities.iter().any(|c| c == "STARTTLS") {
        return Err(Failure::other("the server does not offer STARTTLS"));
    }
    session.command("STARTTLS").await?;
    let (io, buffered, parts) = session.into_parts();
    // Anything after the OK arrived before TLS and is not protected by it: a server (or a man
    // in the middle) injecting responses to be read as if they came over TLS. Refuse it.
    if !buffered.is_empty() {
        return Err(Failure::other(format!(
            "the server sent {} bytes after its STARTTLS answer, before TLS began: refusing \
             them",
            buffered.len()
        )));
    }
    Ok((io, parts))
}

/// AUTHENTICATE with `mechanism` if `capabilities` offer it (with SASL-IR when they list it).
/// With a layer, the next byte the server sends belongs to it: take the session's parts
/// ([`Session::into_parts`]) and build the layer's stream on them.
pub async fn login<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<'_, S>,
    capabilities: &[String],
    mechanism: Box<dyn AsyncClientMechanism>,
) -> Result<Authenticated, Failure> {
    let offer = format!("AUTH={}", mechanism.name());
    if !capabilities.contains(&offer) {
        let offered: Vec<&str> = capabilities
            .iter()
            .filter_map(|c| c.strip_prefix("AUTH="))
            .collect();
        let hint = if capabilities.iter().any(|c| c == "STARTTLS") {
            " (it may offer more after STARTTLS)"
        } else {
            ""
        };
        return Err(Failure::other(format!(
            "the server does not offer AUTHENTICATE {}; it offers {}{hint}",
            mechanism.name(),
            if offered.is_empty() {
                "none".to_owned()
            } else {
                offered.join(", ")
            }
        )));
    }
    let sasl_ir = capabilities.iter().any(|c| c == "SASL-IR");
    authenticate(session, mechanism, sasl_ir).await
}
