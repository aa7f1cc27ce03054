use std::time::SystemTime;

use sealstream::sasl::{Unwrap, Wrap};
use sealstream::{Qop, RecordMut, Unseal, Unsealed, seal_message};
use sealstream_sasl::{AuthErrorKind, ClientMechanism, Layer, SecurityProperties, Step};

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
