//! AUTHENTICATE (RFC 3501 §6.2.2) driven by a `sealstream_sasl` client mechanism, with the
//! initial response on the command line when the server offers SASL-IR (RFC 4959).
//!
//! Challenges arrive as continuation requests (`+ BASE64`), responses go back as base64 lines.
//! IMAP has no room for additional data in its tagged OK, so a server that has some (DIGEST-MD5's
//! `rspauth`) sends it as one more challenge, which the client answers with an empty line
//! (RFC 4422 §3.6); the mechanism's last step says so ([`Step::Done`]). A mechanism that
//! cannot go on cancels the exchange with `*` (RFC 3501 §6.2.2), so the connection stays usable
//! for the error to be read.
//!
//! When the tagged OK arrives the exchange is over; with a security layer, the very next byte
//! the server sends is framed by it, so the caller takes the bytes already received from the
//! session ([`Session::into_parts`](super::session::Session::into_parts)) into the layer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sealstream_sasl::{AsyncClientMechanism, AuthError, Step};
use tokio::io::{AsyncRead, AsyncWrite};

use super::response::{Kind, Response, Status};
use super::session::{Session, closed, refused};
use crate::failure::Failure;

/// Challenges a server may send before this client gives up: DIGEST-MD5 takes two, GSSAPI
/// three.
const MAX_CHALLENGES: usize = 8;

/// How the exchange ended well: the mechanism (which verified the server where it can) and the
/// tagged OK (whose response code may list the capabilities).
#[derive(Debug)]
pub struct Authenticated {
    /// The mechanism, past its success: its outcome and its layer.
    pub mechanism: Box<dyn AsyncClientMechanism>,
    /// The server's tagged OK.
    pub done: Response,
}

/// Authenticate with `mechanism`, its initial response sent with the command when `sasl_ir`
/// (the server listed `SASL-IR`).
pub async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<'_, S>,
    mut mechanism: Box<dyn AsyncClientMechanism>,
    sasl_ir: bool,
) -> Result<Authenticated, Failure> {
    let name = mechanism.name();
    let what = format!("AUTHENTICATE {name}");
    let sasl = |e: AuthError| Failure::other(format!("{name}: {e}"));
    let initial = mechanism.start().await.map_err(sasl)?;
    let mut command = what.clone().into_bytes();
    let mut pending_initial = None;
    let mut secret = false;
    match initial {
        // RFC 4959: "=" stands for an empty initial response.
        Some(response) if sasl_ir => {
            command.push(b' ');
            command.extend_from_slice(encode(&response).as_bytes());
            secret = true;
        }
        // Without SASL-IR the server opens with an empty challenge, answered with it.
        Some(response) => pending_initial = Some(response),
        None => {}
    }
    let tag = session.send_command(&command, secret).await?;
    for _ in 0..=MAX_CHALLENGES {
        let response = session.read().await?;
        match response.kind() {
            Some(Kind::Continuation) => {
                let answer = match pending_initial.take() {
                    Some(initial) => Ok(initial),
                    None => answer(&mut *mechanism, response.continuation_data()).await,
                };
                match answer {
                    Ok(answer) => {
                        session
                            .send_line(encode_line(&answer).as_bytes(), true)
                            .await?
                    }
                    Err(e) => {
                        // Cancel, and read the server's BAD so the connection stays in step.
                        session.send_line(b"*", false).await?;
                        let _ = session.complete(&tag, &what).await;
                        return Err(sasl(e));
                    }
                }
            }
            Some(Kind::Tagged(t)) if t == tag => {
                if response.status() != Some(Status::Ok) {
                    return Err(refused(&what, &response));
                }
                mechanism.success(None).map_err(sasl)?;
                return Ok(Authenticated {
                    mechanism,
                    done: response,
                });
            }
            Some(Kind::Untagged) if response.status() == Some(Status::Bye) => {
                return Err(closed(&response));
            }
            Some(Kind::Untagged) => {}
            _ => {
                return Err(Failure::other(format!(
                    "{what}: the server answered with a line that is not IMAP: {}",
                    response.text_lossy()
                )));
            }
        }
    }
    Err(Failure::other(format!(
        "{what}: the server sent more than {MAX_CHALLENGES} challenges"
    )))
}

/// The mechanism's answer to the base64 challenge `data`.
async fn answer(
    mechanism: &mut dyn AsyncClientMechanism,
    data: &[u8],
) -> Result<Vec<u8>, AuthError> {
    let challenge = STANDARD
        .decode(data)
        .map_err(|e| AuthError::malformed(format!("the challenge is not base64: {e}")))?;
    Ok(match mechanism.step(&challenge).await? {
        Step::Continue(response) => response,
        Step::Done(last) => last.unwrap_or_default(),
    })
}

/// An initial response on the command line: base64, or `=` when empty (RFC 4959).
fn encode(response: &[u8]) -> String {
    if response.is_empty() {
        "=".to_owned()
    } else {
        STANDARD.encode(response)
    }
}

/// A response line: base64, empty when the response is (RFC 3501 §6.2.2).
fn encode_line(response: &[u8]) -> String {
    STANDARD.encode(response)
}

#[cfg(test)]
mod tests {
    use sealstream_sasl::Ready;
    use sealstream_sasl::plain::PlainClient;
    use sealstream_testkit::mock_io::scripted;

    use super::*;

    fn plain() -> Box<dyn AsyncClientMechanism> {
        Box::new(Ready::new(Box::new(PlainClient::new(
            "alice", "secret", None,
        ))))
    }

    async fn run(server: &[u8], sasl_ir: bool) -> (Result<Authenticated, Failure>, Vec<u8>) {
        let mut session = Session::new(scripted(server.to_vec()), None);
        let result = authenticate(&mut session, plain(), sasl_ir).await;
        let (io, _, _) = session.into_parts();
        (result, io.into_inner().1)
    }

    #[tokio::test]
    async fn the_initial_response_rides_on_the_command_with_sasl_ir() {
        let (result, sent) = run(b"a1 OK [CAPABILITY IMAP4rev1] done\r\n", true).await;
        let done = result.unwrap().done;
        assert_eq!(done.capabilities().unwrap(), ["IMAP4REV1"]);
        assert_eq!(sent, b"a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    }

    #[tokio::test]
    async fn without_sasl_ir_it_answers_the_empty_challenge() {
        let (result, sent) = run(b"+ \r\na1 OK done\r\n", false).await;
        assert!(result.is_ok());
        assert_eq!(sent, b"a1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n");
    }

    #[tokio::test]
    async fn refusals_and_broken_challenges() {
        let (result, _) = run(b"a1 NO [AUTHENTICATIONFAILED] bad password\r\n", true).await;
        assert_eq!(
            result.unwrap_err().message,
            "the server refused AUTHENTICATE PLAIN: NO [AUTHENTICATIONFAILED] bad password"
        );
        // PLAIN has nothing to say to a challenge after its initial response: cancelled.
        let (result, sent) = run(b"+ Zm9v\r\na1 BAD cancelled\r\n", true).await;
        assert!(result.unwrap_err().message.starts_with("PLAIN: "));
        assert!(sent.ends_with(b"\r\n*\r\n"), "{sent:?}");
        let (result, sent) = run(b"+ !!!\r\na1 BAD cancelled\r\n", true).await;
        assert!(result.unwrap_err().message.contains("not base64"));
        assert!(sent.ends_with(b"\r\n*\r\n"));
        let (result, _) = run(b"* BYE going away\r\n", true).await;
        assert_eq!(
            result.unwrap_err().message,
            "the server closed the connection: going away"
        );
        let (result, _) = run(b"", true).await;
        assert!(
            result
                .unwrap_err()
                .message
                .contains("closed the connection")
        );
    }
}
