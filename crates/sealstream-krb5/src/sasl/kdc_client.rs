//! The GSSAPI client that gets its service ticket when the exchange starts: the one step of
//! SASL GSSAPI that waits, for a TGS exchange with the realm's KDCs (across realms if the
//! service is elsewhere). After it, the steps are [`GssapiClient`]'s.

use sealstream_sasl::{
    AsyncClientMechanism, AuthError, ClientMechanism, Outcome, SecurityLayer, SecurityProperties,
    Step, StepFuture,
};

use super::{GssapiClient, krb_error};
use crate::gss::ChannelBindings;
use crate::kdc::{Credentials, KdcConfig};
use crate::principal::Principal;

/// SASL GSSAPI as an [`AsyncClientMechanism`]: from a ticket-granting ticket, it asks the KDCs
/// of a [`KdcConfig`] for a ticket to the service when the exchange starts.
#[derive(Debug)]
pub struct GssapiKdcClient {
    kdcs: KdcConfig,
    tgt: Credentials,
    service: Principal,
    props: SecurityProperties,
    authzid: Option<String>,
    bindings: Option<ChannelBindings>,
    client: Option<GssapiClient>,
}

impl GssapiKdcClient {
    /// A client that will get a ticket for `service` (`ldap/host@REALM`) with `tgt` from
    /// `kdcs`, then choose its layer within `props`, asking to act as `authzid` if given.
    pub fn new(
        kdcs: KdcConfig,
        tgt: Credentials,
        service: Principal,
        props: SecurityProperties,
        authzid: Option<String>,
    ) -> Self {
        Self {
            kdcs,
            tgt,
            service,
            props,
            authzid,
            bindings: None,
            client: None,
        }
    }

    /// The same with channel bindings (`tls-server-end-point` of the TLS channel under SASL).
    pub fn with_channel_bindings(mut self, bindings: ChannelBindings) -> Self {
        self.bindings = Some(bindings);
        self
    }

    fn client(&mut self) -> Result<&mut GssapiClient, AuthError> {
        self.client
            .as_mut()
            .ok_or_else(|| AuthError::state("the GSSAPI exchange has not started"))
    }
}

impl AsyncClientMechanism for GssapiKdcClient {
    fn name(&self) -> &'static str {
        super::NAME
    }

    fn start(&mut self) -> StepFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move {
            if self.client.is_some() {
                return Err(AuthError::state("the GSSAPI exchange has already started"));
            }
            let ticket = self
                .kdcs
                .get_service_ticket(&self.tgt, self.service.clone())
                .await
                .map_err(|e| krb_error(&format!("a ticket for {}", self.service), e))?;
            let mut client = GssapiClient::new(ticket, self.props.clone(), self.authzid.take());
            if let Some(bindings) = self.bindings.take() {
                client = client.with_channel_bindings(bindings);
            }
            let initial = client.start()?;
            self.client = Some(client);
            Ok(initial)
        })
    }

    fn step<'a>(&'a mut self, challenge: &'a [u8]) -> StepFuture<'a, Step> {
        let result = self.client().and_then(|c| c.step(challenge));
        Box::pin(std::future::ready(result))
    }

    fn success(&mut self, additional_data: Option<&[u8]>) -> Result<(), AuthError> {
        self.client()?.success(additional_data)
    }

    fn outcome(&self) -> Option<&Outcome> {
        self.client.as_ref()?.outcome()
    }

    fn into_layer(self: Box<Self>) -> Result<Option<SecurityLayer>, AuthError> {
        let client = self
            .client
            .ok_or_else(|| AuthError::state("the GSSAPI exchange has not started"))?;
        Box::new(client).into_layer()
    }
}
