//! A small LDAP server (RFC 4511) that does one thing properly: a SASL bind with a server
//! mechanism of this workspace (GSSAPI with a keytab), the negotiated security layer installed
//! as a `SealedStream`, and the "Who am I?" extended operation (RFC 4532) answered through it.
//!
//! It exists so that an LDAP client of another implementation can prove our side of SASL:
//! OpenLDAP's `ldapwhoami -Y GSSAPI`, which runs Cyrus SASL over MIT's GSS-API library,
//! authenticates to it, negotiates integrity or confidentiality, and must read its own name
//! back through the layer. Everything else an LDAP server does is refused with
//! `unwillingToPerform`; a simple bind with `strongerAuthRequired`, as Active Directory does.
//!
//! The answer is the client's authorization identity in the form of RFC 4513 §5.2.1.8, or
//! empty before a bind (RFC 4532 §2.2): this server answers `u:` and the identity the bind
//! established (the authenticated one, or the authorization identity the client asked for and
//! was granted).

use std::io;
use std::time::Duration;

use rasn::types::OctetString;
use rasn_ldap::{
    AuthenticationChoice, BindRequest, BindResponse, ExtendedRequest, ExtendedResponse,
    LdapMessage, LdapResult, ProtocolOp, ResultCode, SearchResultDone,
};
use sealstream::StreamBuilder;
use sealstream_sasl::{AuthError, AuthErrorKind, Outcome, ServerMechanism, Step};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::ldap::{self, MessageReader};

/// The OID of the "Who am I?" extended operation (RFC 4532 §2.1).
pub const WHO_AM_I: &str = "1.3.6.1.4.1.4203.1.11.3";
/// The responseName of a notice of disconnection (RFC 4511 §4.4.1).
const NOTICE_OF_DISCONNECTION: &str = "1.3.6.1.4.1.1466.20036";

/// How long a client has to finish its bind, and then between requests.
const IDLE: Duration = Duration::from_secs(30);
/// Round trips a bind may take (GSSAPI takes three).
const MAX_BIND_STEPS: usize = 5;

/// What one connection did: who bound, with what layer, and how often they asked who they are.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bind's outcome (`None`: the client never bound).
    pub outcome: Option<Outcome>,
    /// How many "Who am I?" requests were answered.
    pub who_am_i: usize,
}

/// Serve one connection (TCP, or TLS over it for LDAPS): a SASL bind with `mechanism`, then
/// requests through its layer, until the client unbinds or closes. An error is what ended it
/// otherwise.
pub async fn serve<T: AsyncRead + AsyncWrite + Unpin>(
    mut tcp: T,
    mut mechanism: Box<dyn ServerMechanism>,
) -> Result<Session, String> {
    let mut reader = MessageReader::new();
    let mut session = Session {
        outcome: None,
        who_am_i: 0,
    };
    // Before the bind: in the clear.
    loop {
        let Some(message) = next_request(&mut tcp, &mut reader).await? else {
            return Ok(session);
        };
        match message.protocol_op {
            ProtocolOp::BindRequest(request) => {
                if bind(
                    &mut tcp,
                    &mut reader,
                    message.message_id,
                    request,
                    &mut *mechanism,
                )
                .await?
                {
                    break;
                }
            }
            ProtocolOp::UnbindRequest(_) => return Ok(session),
            op => {
                answer_other(&mut tcp, message.message_id, &op, &mut session, None).await?;
            }
        }
    }
    let outcome = mechanism
        .outcome()
        .cloned()
        .ok_or("the mechanism succeeded without an outcome")?;
    session.outcome = Some(outcome.clone());
    let layer = mechanism
        .into_layer()
        .map_err(|e| format!("the security layer: {e}"))?;
    match layer {
        None => requests(&mut tcp, &mut reader, &outcome, &mut session).await?,
        Some(layer) => {
            let sealer = layer
                .into_sealer()
                .map_err(|e| format!("cannot install the security layer: {e}"))?;
            // The layer starts right after the successful BindResponse: bytes the client sent
            // after its last bind request already belong to it.
            let mut stream = StreamBuilder::new()
                .leftover_ciphertext(reader.take_buffered())
                .build(tcp, sealer);
            requests(&mut stream, &mut reader, &outcome, &mut session).await?;
        }
    }
    Ok(session)
}

/// The next request, or `None` when the client closed the connection between messages.
async fn next_request<S: AsyncRead + Unpin>(
    io: &mut S,
    reader: &mut MessageReader,
) -> Result<Option<LdapMessage>, String> {
    match tokio::time::timeout(IDLE, reader.read(io)).await {
        Err(_) => Err(format!("no request within {} s", IDLE.as_secs())),
        Ok(Ok(message)) => Ok(Some(message)),
        Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof && reader.is_empty() => Ok(None),
        Ok(Err(e)) => Err(format!("reading a request: {e}")),
    }
}

/// One SASL bind, every round trip of it; whether it succeeded. A failed bind has been
/// answered with its result code.
async fn bind<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    reader: &mut MessageReader,
    mut id: u32,
    mut request: BindRequest,
    mechanism: &mut dyn ServerMechanism,
) -> Result<bool, String> {
    let mut started = false;
    for _ in 0..MAX_BIND_STEPS {
        let step = match &request.authentication {
            AuthenticationChoice::Sasl(sasl)
                if sasl.mechanism.eq_ignore_ascii_case(mechanism.name()) =>
            {
                let credentials = sasl.credentials.as_deref();
                let step = if started {
                    mechanism.step(credentials.unwrap_or_default())
                } else {
                    mechanism.start(credentials)
                };
                started = true;
                step
            }
            AuthenticationChoice::Sasl(sasl) => {
                let why = format!(
                    "SASL mechanism {} is not offered (only {})",
                    sasl.mechanism.0,
                    mechanism.name()
                );
                respond(io, id, ResultCode::AuthMethodNotSupported, &why, None).await?;
                return Ok(false);
            }
            _ => {
                let why = "simple binds are refused: bind with SASL and a security layer";
                respond(io, id, ResultCode::StrongerAuthRequired, why, None).await?;
                return Ok(false);
            }
        };
        match step {
            Ok(Step::Done(additional)) => {
                respond(io, id, ResultCode::Success, "", additional).await?;
                return Ok(true);
            }
            Ok(Step::Continue(challenge)) => {
                respond(io, id, ResultCode::SaslBindInProgress, "", Some(challenge)).await?;
            }
            Err(e) => {
                respond(io, id, failure_code(&e), &e.to_string(), None).await?;
                return Err(format!("the bind failed: {e}"));
            }
        }
        let Some(next) = next_request(io, reader).await? else {
            return Err("the client closed the connection inside its bind".to_owned());
        };
        let next_request = match next.protocol_op {
            ProtocolOp::BindRequest(request) => request,
            ProtocolOp::UnbindRequest(_) => {
                return Err("the client gave up inside its bind".to_owned());
            }
            _ => return Err("the client sent another request inside its bind".to_owned()),
        };
        (id, request) = (next.message_id, next_request);
    }
    let why = format!("the bind took more than {MAX_BIND_STEPS} round trips");
    respond(io, id, ResultCode::ProtocolError, &why, None).await?;
    Err(why)
}

/// invalidCredentials for a refused authentication, inappropriateAuthentication for what the
/// policy does not allow, protocolError for a malformed exchange.
fn failure_code(e: &AuthError) -> ResultCode {
    match e.kind() {
        AuthErrorKind::Policy => ResultCode::InappropriateAuthentication,
        AuthErrorKind::Malformed | AuthErrorKind::State => ResultCode::ProtocolError,
        _ => ResultCode::InvalidCredentials,
    }
}

async fn respond<S: AsyncWrite + Unpin>(
    io: &mut S,
    id: u32,
    code: ResultCode,
    diagnostic: &str,
    credentials: Option<Vec<u8>>,
) -> Result<(), String> {
    let response = BindResponse::new(
        code,
        "".into(),
        diagnostic.into(),
        None,
        credentials.map(OctetString::from),
    );
    send(
        io,
        &LdapMessage::new(id, ProtocolOp::BindResponse(response)),
    )
    .await
}

async fn send<S: AsyncWrite + Unpin>(io: &mut S, message: &LdapMessage) -> Result<(), String> {
    ldap::send(io, message)
        .await
        .map_err(|e| format!("sending a response: {e}"))
}

/// Requests after the bind, over `io` (the layer, if one was negotiated), until an unbind or
/// the end of the stream.
async fn requests<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    reader: &mut MessageReader,
    outcome: &Outcome,
    session: &mut Session,
) -> Result<(), String> {
    loop {
        let Some(message) = next_request(io, reader).await? else {
            return Ok(());
        };
        match message.protocol_op {
            ProtocolOp::UnbindRequest(_) => return Ok(()),
            ProtocolOp::BindRequest(_) => {
                let why = "already bound: one bind per connection";
                respond(
                    io,
                    message.message_id,
                    ResultCode::UnwillingToPerform,
                    why,
                    None,
                )
                .await?;
            }
            op => answer_other(io, message.message_id, &op, session, Some(outcome)).await?,
        }
    }
}

/// "Who am I?" with the bound identity (empty before a bind). Any other extended operation is
/// a protocolError, as RFC 4511 §4.12 has a server answer one it does not know; a search is
/// done with unwillingToPerform, and anything else ends the session with a notice of
/// disconnection (§4.4.1); an abandon is ignored.
async fn answer_other<S: AsyncWrite + Unpin>(
    io: &mut S,
    id: u32,
    op: &ProtocolOp,
    session: &mut Session,
    bound: Option<&Outcome>,
) -> Result<(), String> {
    let extended = |code, diagnostic: &str, value: Option<String>| ExtendedResponse {
        result_code: code,
        matched_dn: "".into(),
        diagnostic_message: diagnostic.into(),
        referral: None,
        response_name: None,
        response_value: value.map(|v| OctetString::from(v.into_bytes())),
    };
    let response = match op {
        ProtocolOp::ExtendedReq(ExtendedRequest { request_name, .. })
            if request_name.as_ref() == WHO_AM_I.as_bytes() =>
        {
            session.who_am_i += 1;
            let authz_id = bound
                .map(|o| format!("u:{}", o.authzid))
                .unwrap_or_default();
            ProtocolOp::ExtendedResp(extended(ResultCode::Success, "", Some(authz_id)))
        }
        ProtocolOp::ExtendedReq(_) => ProtocolOp::ExtendedResp(extended(
            ResultCode::ProtocolError,
            "this server knows only \"Who am I?\" (RFC 4532)",
            None,
        )),
        ProtocolOp::SearchRequest(_) => {
            ProtocolOp::SearchResDone(SearchResultDone(LdapResult::new(
                ResultCode::UnwillingToPerform,
                "".into(),
                "this server holds no entries".into(),
            )))
        }
        ProtocolOp::AbandonRequest(_) => return Ok(()),
        _ => {
            let mut notice = extended(
                ResultCode::ProtocolError,
                "this server answers binds and \"Who am I?\" only",
                None,
            );
            notice.response_name = Some(OctetString::from(NOTICE_OF_DISCONNECTION.as_bytes()));
            send(io, &LdapMessage::new(0, ProtocolOp::ExtendedResp(notice))).await?;
            return Err("the client sent a request this server does not serve".to_owned());
        }
    };
    send(io, &LdapMessage::new(id, response)).await
}
