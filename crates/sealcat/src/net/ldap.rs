//! `sealcat connect HOST:PORT --ldap --sasl MECH`: a SASL bind to an LDAP server with the
//! mechanism and layer asked for, then stdin and stdout relayed through the layer: LDAP
//! messages (BER) piped in go out sealed, and the server's come out unsealed.
//!
//! The bind is the `ldap_search` example's code (`sealstream_examples::ldap_bind`), which the
//! slapd, Samba and Cyrus interop tests prove.

use sealstream::{EofPolicy, StreamBuilder};
use sealstream_examples::ldap::MessageReader;
use sealstream_examples::ldap_bind::bind;
use sealstream_sasl::{ClientMechanism, Ready};
use tokio::net::TcpStream;

use super::relay::{Moved, relay_terminal};

/// The SASL service of LDAP: DIGEST-MD5's `digest-uri` and the Kerberos service `ldap/HOST`.
pub(crate) const SERVICE: &str = "ldap";

/// Bind to the LDAP server at `addr` over `tcp` with `mechanism`, then relay stdin and stdout
/// through the layer until the server closes. With `verbose`, the layer goes to stderr.
pub(crate) async fn connect(
    addr: &str,
    mut tcp: TcpStream,
    mechanism: Box<dyn ClientMechanism>,
    verbose: bool,
) -> Result<Moved, String> {
    let mut reader = MessageReader::new();
    let mechanism = bind(&mut tcp, &mut reader, Box::new(Ready::new(mechanism)))
        .await
        .map_err(|f| format!("LDAP server {addr}: {f}"))?;
    if let (true, Some(outcome)) = (verbose, mechanism.outcome()) {
        eprintln!(
            "sealcat: connected to {addr}: LDAP, {}",
            super::sasl::describe(outcome)
        );
    }
    // --qop asks for a layer, so the mechanism has refused an exchange without one.
    let layer = mechanism
        .into_layer()
        .map_err(|e| format!("LDAP server {addr}: {e}"))?
        .ok_or_else(|| format!("LDAP server {addr}: the bind negotiated no security layer"))?;
    let sealer = layer
        .into_sealer()
        .map_err(|e| format!("cannot install the security layer: {e}"))?;
    // The server's bytes after its BindResponse are the layer's first.
    let stream = StreamBuilder::new()
        .eof_policy(EofPolicy::CleanEnd)
        .leftover_ciphertext(reader.take_buffered())
        .build(tcp, sealer);
    let (from_peer, to_peer) = stream.into_split();
    relay_terminal(from_peer, to_peer)
        .await
        .map_err(|e| format!("connection to {addr}: {e}"))
}
