//! The SASL bind of RFC 4513 §5.2.2, driven by any `sealstream_sasl` client mechanism: shared by
//! `ldap_search` and `sealcat connect --ldap`.
//!
//! BindRequests carry SaslCredentials; a BindResponse with result 14 (saslBindInProgress)
//! carries the server's challenge, and the final one with result 0 ends the exchange (with
//! DIGEST-MD5's `rspauth`, which the client checks before trusting the server; GSSAPI's AP-REP
//! proved the server two steps earlier). Every byte after that response is framed by the layer
//! (RFC 4422 §3.7).

use rasn_ldap::{LdapMessage, ProtocolOp, ResultCode};
use sealstream_sasl::{AsyncClientMechanism, Step};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::failure::{Failure, io_failure};
use crate::ldap::{self, MessageReader};

/// An LDAP refusal as a failure.
impl Failure {
    /// The server answered `what` with a result other than success.
    pub fn ldap(what: &str, code: ResultCode, diagnostic: &str) -> Self {
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

/// Run the SASL exchange in BindRequests (message ID 1); the client once the server reported
/// success and the client verified it. With a layer, the bytes `reader` holds after the
/// response are the layer's first ([`MessageReader::take_buffered`]).
pub async fn bind<T: AsyncRead + AsyncWrite + Unpin>(
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
pub fn expect_response(
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
