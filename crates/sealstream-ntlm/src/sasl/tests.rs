use std::time::SystemTime;

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut, Unseal, Unsealed, seal_message};
use sealstream_sasl::{AuthErrorKind, ClientMechanism, Layer, SecurityProperties, Step};

use super::NtlmServer;
use super::*;
use crate::{Acceptor, AcceptorOptions, NtHash};

const PASSWORD: &str = "Alice-Pass-1234";

fn props(min_ssf: u32, max_ssf: u32) -> SecurityProperties {
    SecurityProperties {
        min_ssf,
        max_ssf,
        ..SecurityProperties::default()
    }
}

/// A whole exchange with our acceptor standing in for the server; the client's outcome and
/// the server's context.
fn run(props: SecurityProperties) -> (Box<NtlmClient>, SessionContext) {
    let credentials = Credentials::with_password(r"SEALSTREAM\alice", PASSWORD).unwrap();
    let mut client = Box::new(NtlmClient::new(credentials, props));
    let negotiate = client.start().unwrap().expect("client first");
    let now = SystemTime::now();
    let options = AcceptorOptions::new("SEALSTREAM", "DC1");
    let (acceptor, challenge) = Acceptor::new(options, &negotiate, now).unwrap();
    let Step::Done(Some(authenticate)) = client.step(&challenge).unwrap() else {
        panic!("the AUTHENTICATE is the client's last message");
    };
    let claim = acceptor.authenticate(&authenticate).unwrap();
    let accepted = claim.verify(&NtHash::from_password(PASSWORD), now).unwrap();
    client.success(None).unwrap();
    (client, accepted.into_context())
}

#[test]
fn the_layer_follows_the_properties() {
    for (min, max, layer, ssf) in [
        (0, 256, Layer::Confidentiality { cipher: "rc4" }, 128),
        (1, 1, Layer::Integrity, 1),
        (0, 0, Layer::None, 0),
    ] {
        let (client, server) = run(props(min, max));
        let outcome = ClientMechanism::outcome(&*client).unwrap().clone();
        assert_eq!((outcome.layer, outcome.ssf), (layer, ssf));
        assert_eq!(outcome.authcid, r"SEALSTREAM\alice");
        assert_eq!(server.flags().contains(F::SEAL), ssf == 128);
        assert_eq!(server.flags().contains(F::SIGN), ssf > 0);
        let sealed = client.into_layer().unwrap();
        assert_eq!(sealed.is_some(), ssf > 0);
    }
}

#[test]
fn the_layer_seals_even_when_only_signing_was_settled() {
    let (client, server) = run(props(1, 1));
    let layer = client.into_layer().unwrap().unwrap();
    assert_eq!(
        (layer.our_maxbuf(), layer.peer_maxbuf()),
        (RECEIVE_FRAME, SEND_FRAME)
    );
    let (mut seal, mut unseal) = layer.into_sealer().unwrap();
    let (mut server_wrap, mut server_unwrap) = server.into_halves(Protection::Seal);
    // Client to server: one RFC 4422 frame, a length and an NTLM token.
    let mut frame = vec![0; 64];
    let n = seal_message(&mut seal, Qop::Default, b"hello", &mut frame).unwrap();
    frame.truncate(n);
    assert_eq!(frame[..4], 21u32.to_be_bytes());
    assert_ne!(&frame[20..], b"hello", "sealed on the wire");
    let mut token = frame[4..].to_vec();
    let r = server_unwrap.unwrap(&mut token).unwrap();
    assert_eq!(&token[r], b"hello");
    // Server to client.
    let mut token = vec![0; 16 + 3];
    token[16..].copy_from_slice(b"bye");
    let n = server_wrap
        .wrap(Qop::Default, RecordMut::new(&mut token, 16, 3).unwrap())
        .unwrap();
    let mut frame = (n as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&token[..n]);
    let Unsealed::Data { plaintext, .. } = unseal.unseal(&mut frame).unwrap() else {
        panic!("a data frame");
    };
    assert_eq!(&frame[plaintext], b"bye");
}

#[test]
fn out_of_order_calls_and_extra_data_are_refused() {
    let credentials = Credentials::with_password("alice", PASSWORD).unwrap();
    let mut client = NtlmClient::new(credentials, props(0, 256));
    assert_eq!(client.step(b"x").unwrap_err().kind(), AuthErrorKind::State);
    assert_eq!(
        client.success(None).unwrap_err().kind(),
        AuthErrorKind::State
    );
    client.start().unwrap();
    assert_eq!(client.start().unwrap_err().kind(), AuthErrorKind::State);
    let e = client.step(b"not a challenge").unwrap_err();
    assert_eq!(e.kind(), AuthErrorKind::Malformed, "{e}");
    assert!(Box::new(client).into_layer().is_err());

    let (mut client, _) = {
        let credentials = Credentials::with_password(r"D\alice", PASSWORD).unwrap();
        let mut client = Box::new(NtlmClient::new(credentials, props(0, 256)));
        let negotiate = client.start().unwrap().unwrap();
        let options = AcceptorOptions::new("D", "DC1");
        let (_, challenge) = Acceptor::new(options, &negotiate, SystemTime::now()).unwrap();
        client.step(&challenge).unwrap();
        (client, ())
    };
    let e = client.success(Some(b"surprise")).unwrap_err();
    assert_eq!(e.kind(), AuthErrorKind::Malformed);
}

#[test]
fn a_client_that_needs_a_layer_refuses_a_server_that_settles_none() {
    // The server drops SIGN and SEAL from its CHALLENGE.
    let credentials = Credentials::with_password(r"D\alice", PASSWORD).unwrap();
    let mut client = NtlmClient::new(credentials, props(1, 256));
    let negotiate = client.start().unwrap().unwrap();
    let mut flags = crate::messages::Negotiate::parse(&negotiate).unwrap();
    flags.flags = flags.flags.difference(F::SIGN.union(F::SEAL));
    let options = AcceptorOptions::new("D", "DC1");
    let (_, challenge) = Acceptor::new(options, &flags.to_bytes(), SystemTime::now()).unwrap();
    let e = client.step(&challenge).unwrap_err();
    assert_eq!(e.kind(), AuthErrorKind::Policy, "{e}");
}

/// Our client and our server, through sealstream-sasl's traits; the layers' sealers.
fn client_and_server(
    client_props: SecurityProperties,
    server_props: SecurityProperties,
    seal_when_signing: bool,
    password: &str,
) -> Result<(sealstream_sasl::SaslSealer, sealstream_sasl::SaslSealer), sealstream_sasl::AuthError>
{
    use sealstream_sasl::ServerMechanism;
    let credentials = Credentials::with_password(r"SEALSTREAM\alice", password).unwrap();
    let mut client =
        Box::new(NtlmClient::new(credentials, client_props).seal_when_signing(seal_when_signing));
    let lookup = |domain: &str, user: &str| {
        (domain == "SEALSTREAM" && user == "alice").then(|| NtHash::from_password(PASSWORD))
    };
    let options = AcceptorOptions::new("SEALSTREAM", "DC1");
    let mut server = Box::new(
        NtlmServer::new(options, std::sync::Arc::new(lookup), server_props)
            .seal_when_signing(seal_when_signing),
    );
    let negotiate = client.start()?;
    let Step::Continue(challenge) = server.start(negotiate.as_deref())? else {
        panic!("the server answers with its CHALLENGE");
    };
    let Step::Done(Some(authenticate)) = client.step(&challenge)? else {
        panic!("the AUTHENTICATE is the client's last message");
    };
    assert_eq!(server.step(&authenticate)?, Step::Done(None));
    client.success(None)?;
    assert_eq!(
        ClientMechanism::outcome(&*client).unwrap().layer,
        server.outcome().unwrap().layer
    );
    let into =
        |layer: Option<sealstream_sasl::SecurityLayer>| layer.unwrap().into_sealer().unwrap();
    Ok((into(client.into_layer()?), into(server.into_layer()?)))
}

/// One message from `from` to `to`; whether it crossed in clear.
fn send(
    from: &mut sealstream_sasl::SaslSealer,
    to: &mut sealstream_sasl::SaslSealer,
    message: &[u8],
) -> bool {
    let mut frame = vec![0; 64 + message.len()];
    let n = seal_message(&mut from.0, Qop::Default, message, &mut frame).unwrap();
    frame.truncate(n);
    let clear = frame.windows(message.len()).any(|w| w == message);
    let Unsealed::Data { plaintext, .. } = to.1.unseal(&mut frame).unwrap() else {
        panic!("a data frame");
    };
    assert_eq!(&frame[plaintext], message);
    clear
}

#[test]
fn our_client_and_server_agree_and_sign_only_wires_are_opt_in() {
    let message = b"a message long enough to be seen in clear";
    for (props, seal_when_signing, clear) in [
        (props(0, 256), true, false),
        (props(1, 1), true, false),
        (props(1, 1), false, true),
        (props(0, 256), false, false),
    ] {
        let (mut client, mut server) =
            client_and_server(props.clone(), props.clone(), seal_when_signing, PASSWORD).unwrap();
        assert_eq!(
            send(&mut client, &mut server, message),
            clear,
            "{props:?} {seal_when_signing}"
        );
        assert_eq!(send(&mut server, &mut client, message), clear);
    }
}

#[test]
fn the_server_refuses_wrong_passwords_unknown_users_and_weak_layers() {
    let e = client_and_server(props(0, 256), props(0, 256), true, "wrong").unwrap_err();
    assert_eq!(e.kind(), AuthErrorKind::Denied, "{e}");
    // The server insists on confidentiality; the client only signs.
    let e = client_and_server(props(1, 1), props(56, 256), true, PASSWORD).unwrap_err();
    assert_eq!(e.kind(), AuthErrorKind::Policy, "{e}");
}

#[test]
fn a_registered_ntlm_is_chosen_and_carries_the_channel_bindings() {
    use sealstream_sasl::{ChannelBindingData, SaslClientConfig};
    let credentials = Credentials::with_password(r"SEALSTREAM\alice", PASSWORD).unwrap();
    let mut config = SaslClientConfig::new("alice", PASSWORD, "ldap", "dc1");
    config.register(std::sync::Arc::new(NtlmMechanism::new(credentials)));
    config.channel_bindings = Some(ChannelBindingData::new("tls-server-end-point", vec![7; 32]));
    // Stronger than PLAIN, and the only one with a layer here.
    let mut client = config.choose(&["PLAIN", "NTLM"]).unwrap();
    assert_eq!(client.name(), NAME);
    let negotiate = client.start().unwrap().unwrap();
    let now = SystemTime::now();
    let server = |data: Vec<u8>| AcceptorOptions::new("SEALSTREAM", "DC1").channel_bindings(data);
    let mut expected = b"tls-server-end-point:".to_vec();
    expected.extend_from_slice(&[7; 32]);
    let (acceptor, challenge) = Acceptor::new(server(expected), &negotiate, now).unwrap();
    let Step::Done(Some(authenticate)) = client.step(&challenge).unwrap() else {
        panic!()
    };
    let claim = acceptor.authenticate(&authenticate).unwrap();
    claim.verify(&NtHash::from_password(PASSWORD), now).unwrap();
}

#[test]
fn an_unknown_user_is_denied_and_an_oversized_frame_refused_from_its_header() {
    use sealstream_sasl::ServerMechanism;
    let credentials = Credentials::with_password(r"SEALSTREAM\mallory", PASSWORD).unwrap();
    let mut client = NtlmClient::new(credentials, props(0, 256));
    let lookup = |_: &str, user: &str| (user == "alice").then(|| NtHash::from_password(PASSWORD));
    let options = AcceptorOptions::new("SEALSTREAM", "DC1");
    let mut server = NtlmServer::new(options, std::sync::Arc::new(lookup), props(0, 256));
    let Step::Continue(challenge) = server.start(client.start().unwrap().as_deref()).unwrap()
    else {
        panic!()
    };
    let Step::Done(Some(authenticate)) = client.step(&challenge).unwrap() else {
        panic!()
    };
    let e = server.step(&authenticate).unwrap_err();
    assert_eq!(e.kind(), AuthErrorKind::Denied);
    assert!(e.detail().contains("mallory"), "{e}");

    // A layer receives frames of at most RECEIVE_FRAME bytes: a larger length is refused
    // before anything is read or allocated for it.
    let (_, mut server_layer) =
        client_and_server(props(0, 256), props(0, 256), true, PASSWORD).unwrap();
    let mut frame = (RECEIVE_FRAME + 1).to_be_bytes().to_vec();
    frame.extend_from_slice(&[0; 16]);
    let e = server_layer.1.unseal(&mut frame).unwrap_err();
    assert!(e.detail().contains(&(RECEIVE_FRAME + 1).to_string()), "{e}");
}
