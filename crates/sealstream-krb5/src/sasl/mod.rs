//! SASL GSSAPI (RFC 4752) with Kerberos V5: a client and a server mechanism for
//! `sealstream-sasl`, whose negotiated layer is this crate's Wrap tokens.
//!
//! The exchange:
//!
//! 1. the client's initial response is its AP-REQ; the server answers with its AP-REP;
//! 2. the client answers the AP-REP with an empty response (its side of the context is done);
//! 3. the server sends, in a Wrap token without confidentiality, four octets: "The first octet
//!    contains a bit-mask specifying the security layers supported by the server [1 no layer,
//!    2 integrity, 4 confidentiality] and the second through fourth octets contain in network
//!    byte order the maximum size output_message the server is able to receive";
//! 4. the client answers in the same kind of token with the one layer it chose, its own maximum
//!    and, after them, the authorization identity if it asks for one.
//!
//! The tokens of steps 3 and 4 are the context's own: they use the first sequence number of each
//! direction, and the layer's data follows them. The strength factors are those Cyrus SASL
//! reports with MIT krb5 (`GSS_C_SEC_CONTEXT_SASL_SSF`): 1 for integrity, and for
//! confidentiality the bit length of the session key, 128 or 256. A client or server whose
//! `max_ssf` is below that length is offered integrity only, as with Cyrus.
//!
//! [`GssapiClient`] needs a service ticket before it starts (from
//! [`KdcConfig`](crate::kdc::KdcConfig), a credential cache, or a TGS exchange of the
//! application's), and its steps never wait. [`GssapiKdcClient`] is the same exchange as a
//! `sealstream_sasl::AsyncClientMechanism` that gets the ticket itself when it starts, from a
//! ticket-granting ticket and the realm's KDCs. With the ticket, [`GssapiMechanism`] registers GSSAPI with a
//! `sealstream_sasl::SaslClientConfig`, so that `choose` weighs it against the server's other
//! mechanisms and hands it the configuration's channel bindings.

mod kdc_client;

use std::sync::Arc;
use std::time::SystemTime;

use sealstream::Qop;
use sealstream_sasl::{
    AuthError, AuthErrorKind, ClientMechanism, ClientMechanismFactory, Layer, MechanismInfo,
    Outcome, SaslClientConfig, SecurityLayer, SecurityProperties, ServerMechanism, Step,
};

use crate::Enctype;
use crate::gss::{Acceptor, ChannelBindings, GssFlags, Initiator, InitiatorOptions};
use crate::kdc::Credentials;
use crate::token::{Krb5Unwrap, Krb5Wrap, LayerOptions, Protection};

pub use kdc_client::GssapiKdcClient;

/// The registered mechanism name.
pub const NAME: &str = "GSSAPI";

/// Security layer bits of the negotiation (RFC 4752 §3.3).
const LAYER_NONE: u8 = 1;
const LAYER_INTEGRITY: u8 = 2;
const LAYER_CONFIDENTIALITY: u8 = 4;

/// The strength factor of the integrity layer (Cyrus SASL's).
const SSF_INTEGRITY: u32 = 1;

/// The largest maxbuf three octets can say.
const MAX_MAXBUF: u32 = 0x00ff_ffff;

/// The layer of one bit and its strength factor, for a context whose session key is `key`.
fn layer_of(bit: u8, key: Enctype) -> Option<(Layer, u32)> {
    match bit {
        LAYER_NONE => Some((Layer::None, 0)),
        LAYER_INTEGRITY => Some((Layer::Integrity, SSF_INTEGRITY)),
        LAYER_CONFIDENTIALITY => Some((
            Layer::Confidentiality { cipher: key.name() },
            confidentiality_ssf(key),
        )),
        _ => None,
    }
}

/// MIT's SASL strength factor of a sealed context: the bit length of its key.
fn confidentiality_ssf(key: Enctype) -> u32 {
    u32::try_from(key.key_len() * 8).expect("keys are at most 32 bytes")
}

/// The layers `props` allows, as a bit mask, for a context whose session key is `key`.
fn allowed_layers(props: &SecurityProperties, key: Enctype) -> u8 {
    [
        (LAYER_NONE, 0),
        (LAYER_INTEGRITY, SSF_INTEGRITY),
        (LAYER_CONFIDENTIALITY, confidentiality_ssf(key)),
    ]
    .into_iter()
    .filter(|(_, ssf)| props.accepts_layer(*ssf))
    .fold(0, |mask, (bit, _)| mask | bit)
}

fn krb_error(what: &str, e: sealstream::Error) -> AuthError {
    use sealstream::Status;
    let kind = match e.status() {
        Status::InvalidToken => AuthErrorKind::Malformed,
        Status::InternalError | Status::InsufficientMemory => AuthErrorKind::Internal,
        _ => AuthErrorKind::Denied,
    };
    AuthError::new(kind, format!("{what}: {e}"))
}

/// The halves of an established context and what was negotiated over them.
struct Negotiated {
    wrap: Krb5Wrap,
    unwrap: Krb5Unwrap,
    outcome: Outcome,
}

fn into_layer(negotiated: Option<Negotiated>) -> Result<Option<SecurityLayer>, AuthError> {
    let Negotiated {
        mut wrap,
        mut unwrap,
        outcome,
    } = negotiated.ok_or_else(|| AuthError::state("the GSSAPI exchange has not succeeded"))?;
    let protection = match outcome.layer {
        Layer::None => return Ok(None),
        Layer::Integrity => Protection::Integrity,
        _ => Protection::Confidentiality,
    };
    wrap.set_options(LayerOptions::new(protection));
    unwrap.set_options(LayerOptions::new(protection));
    Ok(Some(SecurityLayer::new(
        wrap,
        unwrap,
        outcome.our_maxbuf,
        outcome.peer_maxbuf,
    )))
}

/// GSSAPI for [`SaslClientConfig::register`]: with a service ticket in hand, it takes part in
/// `SaslClientConfig::choose` beside the mechanisms of `sealstream-sasl`, at the strength of the
/// ticket's session key (128 or 256), and binds to [`SaslClientConfig::channel_bindings`] when they
/// are set (the application data is the binding type's prefix and its data).
#[derive(Debug, Clone)]
pub struct GssapiMechanism {
    ticket: Credentials,
}

impl GssapiMechanism {
    /// The mechanism for `ticket`, a ticket for the service the configuration names.
    pub fn new(ticket: Credentials) -> Self {
        Self { ticket }
    }
}

impl ClientMechanismFactory for GssapiMechanism {
    fn info(&self) -> MechanismInfo {
        MechanismInfo {
            name: NAME,
            max_ssf: confidentiality_ssf(self.ticket.session_key().enctype()),
            plaintext: false,
        }
    }

    fn client(&self, config: &SaslClientConfig) -> Result<Box<dyn ClientMechanism>, AuthError> {
        let client = GssapiClient::new(
            self.ticket.clone(),
            config.props.clone(),
            config.authzid.clone(),
        );
        Ok(Box::new(match &config.channel_bindings {
            Some(bindings) => {
                client.with_channel_bindings(ChannelBindings::new(&bindings.prefixed()))
            }
            None => client,
        }))
    }
}

/// Where a client is.
enum ClientState {
    Start(InitiatorOptions),
    AwaitApRep(Initiator),
    AwaitLayers(Krb5Wrap, Krb5Unwrap),
    AwaitSuccess(Negotiated),
    Done(Negotiated),
    Failed,
}

/// The client of SASL GSSAPI, for one service ticket.
pub struct GssapiClient {
    ticket: Credentials,
    props: SecurityProperties,
    authzid: Option<String>,
    state: ClientState,
}

impl std::fmt::Debug for GssapiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssapiClient")
            .field("service", self.ticket.server())
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl GssapiClient {
    /// A client with a ticket for the service (`ldap/host@REALM`), choosing its layer within
    /// `props`, asking to act as `authzid` if given.
    pub fn new(ticket: Credentials, props: SecurityProperties, authzid: Option<String>) -> Self {
        Self {
            ticket,
            props,
            authzid,
            state: ClientState::Start(InitiatorOptions::default().flags(GssFlags::LAYER)),
        }
    }

    /// The same with channel bindings (`tls-server-end-point` of the TLS channel under SASL).
    pub fn with_channel_bindings(mut self, bindings: ChannelBindings) -> Self {
        self.state = ClientState::Start(
            InitiatorOptions::default()
                .flags(GssFlags::LAYER)
                .channel_bindings(bindings),
        );
        self
    }

    /// The client's answer to the server's layer offer.
    fn choose(
        &self,
        wrap: &mut Krb5Wrap,
        unwrap: &mut Krb5Unwrap,
        challenge: &[u8],
    ) -> Result<(Vec<u8>, Outcome), AuthError> {
        let offer = unwrap
            .unwrap_message(challenge)
            .map_err(|e| krb_error("the server's layer offer", e))?;
        let &[offered, a, b, c] = offer.as_slice() else {
            return Err(AuthError::malformed(format!(
                "the server's layer offer is {} bytes, not 4",
                offer.len()
            )));
        };
        let peer_maxbuf = u32::from_be_bytes([0, a, b, c]);
        let usable = offered & allowed_layers(&self.props, wrap.enctype());
        // The strongest layer both sides accept.
        let chosen = [LAYER_CONFIDENTIALITY, LAYER_INTEGRITY, LAYER_NONE]
            .into_iter()
            .find(|bit| usable & bit != 0)
            .ok_or_else(|| {
                AuthError::policy(format!(
                    "the server offers layers {offered:#04x}; min_ssf {} and max_ssf {} allow \
                     none of them",
                    self.props.min_ssf, self.props.max_ssf
                ))
            })?;
        let (layer, ssf) = layer_of(chosen, wrap.enctype()).expect("one of the three bits");
        if layer != Layer::None && peer_maxbuf == 0 {
            return Err(AuthError::malformed(
                "the server offers a layer but a maximum buffer of 0",
            ));
        }
        let our_maxbuf = if layer == Layer::None {
            0
        } else {
            self.props.maxbuf.min(MAX_MAXBUF)
        };
        let mut answer = vec![chosen];
        answer.extend_from_slice(&our_maxbuf.to_be_bytes()[1..]);
        if let Some(authzid) = &self.authzid {
            answer.extend_from_slice(authzid.as_bytes());
        }
        let token = wrap
            .wrap_message(Qop::IntegrityOnly, &answer)
            .map_err(|e| krb_error("wrapping the layer choice", e))?;
        let authcid = self.ticket.client().to_string();
        Ok((
            token,
            Outcome {
                mechanism: NAME,
                authzid: self.authzid.clone().unwrap_or_else(|| authcid.clone()),
                authcid,
                layer,
                ssf,
                our_maxbuf,
                peer_maxbuf,
            },
        ))
    }
}

impl ClientMechanism for GssapiClient {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        if !matches!(self.state, ClientState::Start(_)) {
            return Err(AuthError::state("the GSSAPI exchange has already started"));
        }
        let ClientState::Start(options) = std::mem::replace(&mut self.state, ClientState::Failed)
        else {
            unreachable!("checked above");
        };
        let (initiator, token) = Initiator::new(&self.ticket, options, SystemTime::now())
            .map_err(|e| krb_error("building the AP-REQ", e))?;
        self.state = ClientState::AwaitApRep(initiator);
        Ok(Some(token))
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        // A call out of order is refused and changes nothing; a failure ends the exchange.
        if !matches!(
            self.state,
            ClientState::AwaitApRep(_) | ClientState::AwaitLayers(..)
        ) {
            return Err(AuthError::state("no GSSAPI challenge is expected now"));
        }
        match std::mem::replace(&mut self.state, ClientState::Failed) {
            ClientState::AwaitApRep(initiator) => {
                let context = initiator
                    .finish(challenge)
                    .map_err(|e| krb_error("the server's AP-REP", e))?;
                let (wrap, unwrap) = context.into_halves(LayerOptions::new(Protection::Integrity));
                self.state = ClientState::AwaitLayers(wrap, unwrap);
                // RFC 4752 §3.1: the context is complete on this side; an empty response.
                Ok(Step::Continue(Vec::new()))
            }
            ClientState::AwaitLayers(mut wrap, mut unwrap) => {
                let (token, outcome) = self.choose(&mut wrap, &mut unwrap, challenge)?;
                self.state = ClientState::AwaitSuccess(Negotiated {
                    wrap,
                    unwrap,
                    outcome,
                });
                Ok(Step::Done(Some(token)))
            }
            _ => Err(AuthError::state("no GSSAPI challenge is expected now")),
        }
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        if !matches!(self.state, ClientState::AwaitSuccess(_)) {
            return Err(AuthError::state(
                "the server reported success before the GSSAPI exchange ended",
            ));
        }
        if additional_data.is_some_and(|d| !d.is_empty()) {
            self.state = ClientState::Failed;
            return Err(AuthError::malformed(
                "GSSAPI success carries no additional data",
            ));
        }
        match std::mem::replace(&mut self.state, ClientState::Failed) {
            ClientState::AwaitSuccess(negotiated) => {
                self.state = ClientState::Done(negotiated);
                Ok(())
            }
            _ => Err(AuthError::state(
                "the server reported success before the GSSAPI exchange ended",
            )),
        }
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            ClientState::Done(n) => Some(&n.outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        into_layer(match self.state {
            ClientState::Done(n) => Some(n),
            _ => None,
        })
    }
}

/// Where a server is.
enum ServerState {
    Start,
    AwaitEmpty(Krb5Wrap, Krb5Unwrap, String),
    AwaitChoice(Krb5Wrap, Krb5Unwrap, String, u8),
    Done(Negotiated),
    Failed,
}

/// The server of SASL GSSAPI, accepting with a keytab's keys.
pub struct GssapiServer {
    acceptor: Arc<Acceptor>,
    props: SecurityProperties,
    state: ServerState,
}

impl std::fmt::Debug for GssapiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssapiServer")
            .field("props", &self.props)
            .finish_non_exhaustive()
    }
}

impl GssapiServer {
    /// A server accepting with `acceptor` (shared between connections: it holds the replay
    /// cache), offering the layers `props` allows.
    pub fn new(acceptor: Arc<Acceptor>, props: SecurityProperties) -> Self {
        Self {
            acceptor,
            props,
            state: ServerState::Start,
        }
    }

    /// The layer offer: allowed layers and our maxbuf, in a Wrap token without confidentiality.
    fn offer(&self, wrap: &mut Krb5Wrap) -> Result<(Vec<u8>, u8), AuthError> {
        let layers = allowed_layers(&self.props, wrap.enctype());
        if layers == 0 {
            return Err(AuthError::policy(format!(
                "min_ssf {} and max_ssf {} allow no GSSAPI layer",
                self.props.min_ssf, self.props.max_ssf
            )));
        }
        let mut offer = vec![layers];
        offer.extend_from_slice(&self.props.maxbuf.min(MAX_MAXBUF).to_be_bytes()[1..]);
        let token = wrap
            .wrap_message(Qop::IntegrityOnly, &offer)
            .map_err(|e| krb_error("wrapping the layer offer", e))?;
        Ok((token, layers))
    }
}

impl ServerMechanism for GssapiServer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn start(&mut self, initial_response: Option<&[u8]>) -> Result<Step, AuthError> {
        if !matches!(self.state, ServerState::Start) {
            return Err(AuthError::state("the GSSAPI exchange has already started"));
        }
        self.state = ServerState::Failed;
        let token = initial_response
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::malformed("GSSAPI starts with the client's AP-REQ"))?;
        let accepted = self
            .acceptor
            .accept(token, SystemTime::now())
            .map_err(|e| krb_error("the client's AP-REQ", e))?;
        let client = accepted.client.to_string();
        let (mut wrap, unwrap) = accepted
            .context
            .into_halves(LayerOptions::new(Protection::Integrity));
        match accepted.token {
            Some(ap_rep) => {
                self.state = ServerState::AwaitEmpty(wrap, unwrap, client);
                Ok(Step::Continue(ap_rep))
            }
            None => {
                let (offer, layers) = self.offer(&mut wrap)?;
                self.state = ServerState::AwaitChoice(wrap, unwrap, client, layers);
                Ok(Step::Continue(offer))
            }
        }
    }

    fn step(&mut self, response: &[u8]) -> Result<Step, AuthError> {
        if !matches!(
            self.state,
            ServerState::AwaitEmpty(..) | ServerState::AwaitChoice(..)
        ) {
            return Err(AuthError::state("no GSSAPI response is expected now"));
        }
        match std::mem::replace(&mut self.state, ServerState::Failed) {
            ServerState::AwaitEmpty(mut wrap, unwrap, client) => {
                if !response.is_empty() {
                    return Err(AuthError::malformed(
                        "the client answered the AP-REP with a token; GSSAPI expects an empty \
                         response",
                    ));
                }
                let (offer, layers) = self.offer(&mut wrap)?;
                self.state = ServerState::AwaitChoice(wrap, unwrap, client, layers);
                Ok(Step::Continue(offer))
            }
            ServerState::AwaitChoice(wrap, mut unwrap, client, offered) => {
                let answer = unwrap
                    .unwrap_message(response)
                    .map_err(|e| krb_error("the client's layer choice", e))?;
                let [chosen, a, b, c, authzid @ ..] = answer.as_slice() else {
                    return Err(AuthError::malformed(
                        "the client's layer choice is shorter than 4 bytes",
                    ));
                };
                let (layer, ssf) = layer_of(*chosen, wrap.enctype())
                    .filter(|_| offered & chosen != 0)
                    .ok_or_else(|| {
                        AuthError::policy(format!(
                            "the client chose layer {chosen:#04x}; {offered:#04x} was offered"
                        ))
                    })?;
                let peer_maxbuf = u32::from_be_bytes([0, *a, *b, *c]);
                let authzid = std::str::from_utf8(authzid)
                    .map_err(|_| AuthError::malformed("the authorization identity is not UTF-8"))?;
                let our_maxbuf = if layer == Layer::None {
                    0
                } else {
                    self.props.maxbuf.min(MAX_MAXBUF)
                };
                self.state = ServerState::Done(Negotiated {
                    wrap,
                    unwrap,
                    outcome: Outcome {
                        mechanism: NAME,
                        authzid: if authzid.is_empty() {
                            client.clone()
                        } else {
                            authzid.to_owned()
                        },
                        authcid: client,
                        layer,
                        ssf,
                        our_maxbuf,
                        peer_maxbuf,
                    },
                });
                Ok(Step::Done(None))
            }
            _ => Err(AuthError::state("no GSSAPI response is expected now")),
        }
    }

    fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            ServerState::Done(n) => Some(&n.outcome),
            _ => None,
        }
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        into_layer(match self.state {
            ServerState::Done(n) => Some(n),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::SystemTime;

    use sealstream::{Qop, Seal, Unseal, Unsealed, seal_message};
    use sealstream_sasl::{ClientMechanism, Layer, SecurityProperties, ServerMechanism, Step};

    use super::*;
    use crate::Enctype;
    use crate::gss::AcceptorOptions;
    use crate::testing::{credentials, keytab, service};

    fn props(min_ssf: u32, max_ssf: u32) -> SecurityProperties {
        SecurityProperties {
            min_ssf,
            max_ssf,
            ..SecurityProperties::default()
        }
    }

    /// Run the exchange between a client and a server with these properties, over a ticket
    /// whose session key is of type `enctype`.
    fn exchange_with(
        enctype: Enctype,
        client_props: SecurityProperties,
        server_props: SecurityProperties,
        authzid: Option<&str>,
    ) -> Result<(Box<GssapiClient>, Box<GssapiServer>), AuthError> {
        let ticket = credentials(SystemTime::now(), enctype);
        let acceptor = Arc::new(Acceptor::new(
            keytab(2),
            Some(service()),
            AcceptorOptions::default(),
        ));
        let mut client = Box::new(GssapiClient::new(
            ticket,
            client_props,
            authzid.map(str::to_owned),
        ));
        let mut server = Box::new(GssapiServer::new(acceptor, server_props));
        let mut message = client.start()?;
        let mut from_server = match server.start(message.as_deref())? {
            Step::Continue(challenge) => challenge,
            Step::Done(_) => panic!("the server cannot be done at once"),
        };
        loop {
            match client.step(&from_server)? {
                Step::Continue(response) => message = Some(response),
                Step::Done(last) => message = last,
            }
            match server.step(message.as_deref().unwrap_or_default())? {
                Step::Continue(challenge) => from_server = challenge,
                Step::Done(additional) => {
                    client.success(additional.as_deref())?;
                    return Ok((client, server));
                }
            }
        }
    }

    fn exchange(
        client_props: SecurityProperties,
        server_props: SecurityProperties,
        authzid: Option<&str>,
    ) -> Result<(Box<GssapiClient>, Box<GssapiServer>), AuthError> {
        exchange_with(
            Enctype::Aes256CtsHmacSha196,
            client_props,
            server_props,
            authzid,
        )
    }

    #[test]
    fn each_layer_is_negotiated_and_carries_data_both_ways() {
        let sealed = Layer::Confidentiality {
            cipher: "aes256-cts-hmac-sha1-96",
        };
        for (min, max, layer, ssf) in [
            (56, 256, sealed, 256),
            (1, 1, Layer::Integrity, 1),
            (0, 0, Layer::None, 0),
        ] {
            let (client, server) = exchange(props(min, max), props(0, 256), None).unwrap();
            let outcome = client.outcome().unwrap().clone();
            assert_eq!((outcome.layer, outcome.ssf), (layer, ssf));
            assert_eq!(server.outcome().unwrap().ssf, ssf);
            assert_eq!(server.outcome().unwrap().layer, layer);
            assert_eq!(server.outcome().unwrap().authcid, "alice@EXAMPLE.COM");
            let (client_layer, server_layer) =
                (client.into_layer().unwrap(), server.into_layer().unwrap());
            let (Some(c), Some(s)) = (client_layer, server_layer) else {
                assert_eq!(layer, Layer::None);
                continue;
            };
            let ((mut cs, mut cu), (mut ss, mut su)) =
                (c.into_sealer().unwrap(), s.into_sealer().unwrap());
            for (seal, unseal) in [(&mut cs, &mut su), (&mut ss, &mut cu)] {
                let mut record = vec![0u8; seal.sizes().max_record()];
                let n = seal_message(seal, Qop::Default, b"after the bind", &mut record).unwrap();
                let clear = record.windows(14).any(|w| w == b"after the bind");
                assert_eq!(clear, layer == Layer::Integrity, "{layer:?}");
                let Unsealed::Data { plaintext, .. } = unseal.unseal(&mut record[..n]).unwrap()
                else {
                    panic!("data")
                };
                assert_eq!(&record[plaintext], b"after the bind");
            }
        }
    }

    /// MIT's strength factor for a sealed context is its key's length, and a side whose
    /// `max_ssf` is below it does not offer or choose confidentiality (as Cyrus SASL).
    /// Registered with a `sealstream-sasl` client configuration, GSSAPI is chosen over
    /// DIGEST-MD5 for its strength, and binds to the configuration's channel bindings: an
    /// acceptor expecting the same bindings accepts, one expecting others refuses.
    #[test]
    fn registered_gssapi_is_chosen_and_binds_to_the_channel() {
        use sealstream_sasl::ChannelBindingData;

        let bindings = ChannelBindingData::new("tls-server-end-point", vec![7; 32]);
        let mut config = SaslClientConfig::new("alice", "not used", "host", "server.example.com");
        config.channel_bindings = Some(bindings.clone());
        let ticket = credentials(SystemTime::now(), Enctype::Aes128CtsHmacSha196);
        config.register(Arc::new(GssapiMechanism::new(ticket)));
        assert_eq!(config.available()[0].max_ssf, 128);
        let offered = ["DIGEST-MD5", "GSSAPI"];
        for (expected, accepted) in [
            (bindings.prefixed(), true),
            (b"tls-server-end-point:other".to_vec(), false),
        ] {
            let mut client = config.choose(&offered).unwrap();
            assert_eq!(client.name(), NAME);
            let options =
                AcceptorOptions::default().channel_bindings(ChannelBindings::new(&expected));
            let acceptor = Arc::new(Acceptor::new(keytab(2), Some(service()), options));
            let mut server = GssapiServer::new(acceptor, props(0, 256));
            let ap_req = client.start().unwrap();
            let result = server.start(ap_req.as_deref());
            assert_eq!(result.is_ok(), accepted, "{result:?}");
            if let Err(e) = result {
                assert!(e.to_string().contains("channel bindings"), "{e}");
            }
        }
    }

    #[test]
    fn the_confidentiality_ssf_is_the_session_key_length() {
        let (client, _) = exchange_with(
            Enctype::Aes128CtsHmacSha256128,
            props(0, 256),
            props(0, 256),
            None,
        )
        .unwrap();
        let outcome = client.outcome().unwrap();
        let cipher = "aes128-cts-hmac-sha256-128";
        assert_eq!(outcome.layer, Layer::Confidentiality { cipher });
        assert_eq!(outcome.ssf, 128);
        for (client_max, server_max) in [(128, 256), (256, 128)] {
            let (client, _) = exchange(props(0, client_max), props(0, server_max), None).unwrap();
            assert_eq!(client.outcome().unwrap().layer, Layer::Integrity);
        }
    }

    #[test]
    fn an_authzid_is_carried_and_impossible_requirements_fail_as_policy() {
        let (_, server) = exchange(props(0, 256), props(0, 256), Some("dn:cn=admin")).unwrap();
        assert_eq!(server.outcome().unwrap().authzid, "dn:cn=admin");
        // The server offers integrity only; the client requires confidentiality.
        let err = exchange(props(56, 256), props(1, 1), None).unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::Policy, "{err:?}");
        // A server that allows no layer at all.
        let err = exchange(props(0, 256), props(257, 512), None).unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::Policy, "{err:?}");
    }

    #[test]
    fn steps_out_of_order_and_foreign_tokens_are_refused() {
        let ticket = credentials(SystemTime::now(), Enctype::Aes128CtsHmacSha196);
        let mut client = GssapiClient::new(ticket, props(0, 256), None);
        assert_eq!(client.step(b"x").unwrap_err().kind(), AuthErrorKind::State);
        client.start().unwrap();
        assert_eq!(client.start().unwrap_err().kind(), AuthErrorKind::State);
        assert_eq!(
            client.step(b"not an AP-REP").unwrap_err().kind(),
            AuthErrorKind::Malformed
        );
        let acceptor = Arc::new(Acceptor::new(keytab(2), None, AcceptorOptions::default()));
        let mut server = GssapiServer::new(acceptor, props(0, 256));
        assert_eq!(
            server.start(None).unwrap_err().kind(),
            AuthErrorKind::Malformed
        );
    }
}
