//! `sealcat connect --imap` as a person runs it, against Cyrus IMAP 3.6 on loopback
//! (tests/peers/cyrus-imapd.sh; one server for this test binary, with GSSAPI from an MIT KDC):
//! IMAP commands typed with LF line ends go through a DIGEST-MD5 or GSSAPI layer, and what
//! comes back includes the large message byte for byte; a server that offers no layer, refuses
//! the mechanism or drops the connection gives one line of error.

use std::io::{Read, Write};
use std::net::TcpListener;

mod common;

use common::{assert_fails, stderr_of};
use sealstream_interop::cyrus::{self, Cyrus, PASSWORD};
use sealstream_interop::mitkdc;

/// What a person types: select, fetch the large message (UID 3) whole, log out.
const SESSION: &[u8] = b"t1 SELECT INBOX\nt2 UID FETCH 3 BODY.PEEK[]\nt3 LOGOUT\n";

/// `sealcat connect localhost:PORT --imap --sasl MECH ARGS` with `input` on stdin.
fn connect(cyrus: &Cyrus, mech: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let addr = format!("localhost:{}", cyrus.port);
    common::connect(
        &addr,
        &["--imap", "--sasl", mech],
        args,
        env,
        SESSION.to_vec(),
    )
}

/// The session's output holds the large message exactly as Cyrus stored it, and the logout.
fn assert_fetched(cyrus: &Cyrus, out: &std::process::Output) {
    let (_, large) = cyrus
        .expected()
        .into_iter()
        .find(|(uid, _)| *uid == 3)
        .expect("message 3");
    let marker = format!("BODY[] {{{}}}\r\n", large.len());
    let stdout = &out.stdout;
    let at = stdout
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .unwrap_or_else(|| panic!("no {marker:?} in the output: {}", stderr_of(out)));
    let body = &stdout[at + marker.len()..];
    assert!(body.len() >= large.len() && body[..large.len()] == large[..]);
    assert!(
        String::from_utf8_lossy(stdout).contains("t3 OK"),
        "the logout completed"
    );
}

#[test]
fn digest_md5_layers_carry_a_typed_session() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    for (qop, layer) in [
        ("auth-int", "layer auth-int, ssf 1"),
        ("auth-conf", "layer auth-conf (rc4), ssf 128"),
    ] {
        let out = connect(
            cyrus,
            "digest-md5",
            &["--user", "alice", "--qop", qop, "--maxbuf", "2048", "-v"],
            &[("SEALCAT_PASSWORD", PASSWORD)],
        );
        let err = stderr_of(&out);
        assert!(out.status.success(), "{qop}: {err}");
        assert!(
            err.contains(&format!(
                "IMAP, authenticated as alice; {layer}; maxbuf ours 2048, server's 4096"
            )),
            "{qop}: {err}"
        );
        assert_fetched(cyrus, &out);
    }
}

#[test]
fn gssapi_signs_a_typed_session() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let kdc = mitkdc::kdc().expect("the server's KDC");
    let cache = kdc.dir.join("sealcat-imap-alice.ccache");
    kdc.kinit("alice", "alice-password", &cache);
    let krb5_conf = kdc.dir.join("krb5.conf");
    let ccname = format!("FILE:{}", cache.display());
    let out = connect(
        cyrus,
        "gssapi",
        &["--qop", "auth-int", "-v"],
        &[
            ("KRB5_CONFIG", krb5_conf.to_str().unwrap()),
            ("KRB5CCNAME", &ccname),
        ],
    );
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("layer auth-int, ssf 1"), "{err}");
    assert_fetched(cyrus, &out);
}

#[test]
fn a_server_without_the_layer_or_the_mechanism_is_one_line() {
    let Some(cyrus) = cyrus::cyrus() else { return };
    let password = [("SEALCAT_PASSWORD", PASSWORD)];
    // Inside TLS Cyrus offers DIGEST-MD5 without a layer only.
    let ca = cyrus.ca();
    let out = connect(
        cyrus,
        "digest-md5",
        &[
            "--user",
            "alice",
            "--qop",
            "auth-int",
            "--starttls",
            "--ca",
            ca.to_str().unwrap(),
        ],
        &password,
    );
    assert_fails(&out, 1, "the server offers qop [\"auth\"]");
    let out = connect(
        cyrus,
        "ntlm",
        &["--user", "alice", "--qop", "auth-int"],
        &password,
    );
    assert_fails(
        &out,
        1,
        "does not offer AUTHENTICATE NTLM; it offers DIGEST-MD5",
    );
}

#[test]
fn a_server_that_drops_the_connection_is_one_line() {
    // Not IMAP at all: a listener that greets, takes the client's first command and hangs up.
    // It reads that command first: a socket closed with unread bytes sends a reset, and the
    // client would see "connection reset" or the end of the stream depending on timing.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=DIGEST-MD5] hello\r\n")
            .unwrap();
        let mut command = Vec::new();
        let mut byte = [0u8; 1];
        while !command.ends_with(b"\r\n") && tcp.read(&mut byte).unwrap_or(0) == 1 {
            command.push(byte[0]);
        }
    });
    let out = common::connect(
        &addr,
        &["--imap", "--sasl", "digest-md5"],
        &["--user", "alice", "--qop", "auth-int"],
        &[("SEALCAT_PASSWORD", "x")],
        Vec::new(),
    );
    server.join().unwrap();
    assert_fails(&out, 1, "the server closed the connection");
}
