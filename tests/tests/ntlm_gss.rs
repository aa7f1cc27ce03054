//! NTLM against two independent implementations on loopback, no domain controller involved:
//!
//! - gss-ntlmssp (the NTLMSSP mechanism of MIT's GSS-API library) behind MIT's `gss-server` and
//!   `gss-client` sample programs: our initiator authenticates to it and exchanges sealed
//!   messages and MICs, and its initiator does the same with our acceptor;
//! - Samba's NTLMSSP client (`ntlm_auth --helper-protocol=ntlmssp-client-1`, the code Samba's
//!   own tools use against Active Directory): our acceptor checks its AUTHENTICATE, MIC
//!   included, and derives the same session key Samba reports.
//!
//! OpenLDAP's `ldapwhoami -Y GSS-SPNEGO` (Cyrus SASL's GSS-SPNEGO over MIT's SPNEGO and
//! gss-ntlmssp) binds to our LDAP server example's SASL GSS-SPNEGO server, signing and sealing.
//!
//! Our SPNEGO initiator runs NTLM inside SPNEGO with gss-server the same way: the mechListMIC
//! exchange and the keystream rewind of MS-SPNG that follows it.
//!
//! gss-ntlmssp seals every Wrap token (it has no integrity-only form), so the layers here are
//! `Protection::Seal`; its raw mechanism sends no MIC (only inside SPNEGO), so the acceptor
//! that serves it allows that.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sealstream::Status;
use sealstream::sasl::{Unwrap, Wrap};
use sealstream_interop::{gss_sample as sample, peer};
use sealstream_ntlm::{
    Acceptor, AcceptorOptions, Credentials, Initiator, InitiatorOptions, NtHash, NtlmUnwrap,
    NtlmWrap, Protection, SIGNATURE_LEN,
};

const DOMAIN: &str = "SEALSTREAM";
const PASSWORD: &str = "Alice-Pass-1234";
/// gss-ntlmssp's mechanism, in the only OID syntax `gss-client -mech` takes.
const NTLMSSP_MECH: &str = "{1 3 6 1 4 1 311 2 2 10}";
/// Where Debian's gss-ntlmssp registers itself with MIT's library.
const MECH_CONF: &str = "/etc/gss/mech.d/mech.ntlmssp.conf";

/// gss-server and gss-client with gss-ntlmssp registered, or `None` outside CI when missing.
fn gss_ntlmssp() -> Option<()> {
    peer::require("gss-server")?;
    peer::require("gss-client")?;
    if !std::path::Path::new(MECH_CONF).is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "gss-ntlmssp is not installed; scripts/install-test-deps.sh installs it"
        );
        eprintln!("skipping: gss-ntlmssp is not installed");
        return None;
    }
    Some(())
}

/// gss-ntlmssp's user database: alice's password in DOMAIN (`NTLM_USER_FILE`).
fn user_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sealstream-ntlm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users");
    std::fs::write(&path, format!("{DOMAIN}:alice:{PASSWORD}\n")).unwrap();
    path
}

fn wrap_message(wrap: &mut NtlmWrap, message: &[u8]) -> Vec<u8> {
    let mut token = vec![0; SIGNATURE_LEN + message.len()];
    token[SIGNATURE_LEN..].copy_from_slice(message);
    let record = sealstream::RecordMut::new(&mut token, SIGNATURE_LEN, message.len()).unwrap();
    let n = wrap.wrap(sealstream::Qop::Default, record).unwrap();
    token.truncate(n);
    token
}

fn unwrap_message(unwrap: &mut NtlmUnwrap, mut token: Vec<u8>) -> Vec<u8> {
    let range = unwrap.unwrap(&mut token).unwrap();
    token[range].to_vec()
}

/// `gss-server -once` with gss-ntlmssp's user file, on a port of its own choosing.
async fn gss_server() -> (Child, u16) {
    let users = user_file();
    let args = ["-port", "0", "-once", "host@localhost"].map(std::ffi::OsStr::new);
    sample::gss_server(&args, &[("NTLM_USER_FILE", users.as_os_str())]).await
}

fn output(child: Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Our initiator to gss-server: the three messages, then sealed messages that gss-server
/// unwraps and prints, each answered with a MIC we verify.
#[tokio::test]
async fn our_initiator_with_gss_ntlmssp_server() {
    let Some(()) = gss_ntlmssp() else { return };
    for name in [format!("{DOMAIN}\\alice"), "alice".to_owned()] {
        let (server, port) = gss_server().await;
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sample::send(&mut s, sample::NOOP | sample::CONTEXT_NEXT, &[]);
        let credentials = Credentials::with_password(&name, PASSWORD).unwrap();
        let options = InitiatorOptions::default().workstation("SEALSTREAM-TEST");
        let (initiator, negotiate) = Initiator::new(credentials, options);
        sample::send(&mut s, sample::CONTEXT, &negotiate);
        let (kind, challenge) = sample::recv(&mut s);
        assert_eq!(kind, sample::CONTEXT);
        let (authenticate, context) = initiator.finish(&challenge, SystemTime::now()).unwrap();
        sample::send(&mut s, sample::CONTEXT, &authenticate);
        let (mut wrap, mut unwrap) = context.into_halves(Protection::Seal);
        let messages: Vec<String> = (0..3)
            .map(|i| format!("hello from sealstream, message {i} as {name}"))
            .collect();
        for message in &messages {
            let token = wrap_message(&mut wrap, message.as_bytes());
            assert_ne!(&token[SIGNATURE_LEN..], message.as_bytes(), "sealed");
            let flags = sample::DATA | sample::WRAPPED | sample::ENCRYPTED | sample::SEND_MIC;
            sample::send(&mut s, flags, &token);
            let (kind, mic) = sample::recv(&mut s);
            assert_eq!(kind, sample::MIC);
            unwrap.verify(message.as_bytes(), &mic).unwrap();
        }
        sample::send(&mut s, sample::NOOP, &[]);
        drop(s);
        let (ok, printed) = output(server);
        assert!(ok, "gss-server failed: {printed}");
        for message in &messages {
            assert!(
                printed.contains(message.as_str()),
                "gss-server printed: {printed}"
            );
        }
        assert!(printed.contains("alice"), "{printed}");
    }
}

/// Our SPNEGO initiator offering NTLM to gss-server: NEGOTIATE as the optimistic token, the
/// AUTHENTICATE with our mechListMIC, gss-server's MIC checked, then sealed messages from the
/// rewound keystream at sequence number 1, each answered with a MIC we verify.
#[tokio::test]
async fn our_spnego_initiator_with_gss_ntlmssp_server() {
    let Some(()) = gss_ntlmssp() else { return };
    use sealstream_negotiate::{
        Initiator as Spnego, InitiatorOptions as SpnegoOptions, Mechanism, SpnegoUnwrap,
        SpnegoWrap, Step,
    };
    let (server, port) = gss_server().await;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sample::send(&mut s, sample::NOOP | sample::CONTEXT_NEXT, &[]);
    let credentials = Credentials::with_password(&format!("{DOMAIN}\\alice"), PASSWORD).unwrap();
    let options = SpnegoOptions::new(true).ntlm(credentials, InitiatorOptions::default());
    let (mut spnego, mut token) = Spnego::new(options, SystemTime::now()).unwrap();
    loop {
        sample::send(&mut s, sample::CONTEXT, &token);
        let (kind, answer) = sample::recv(&mut s);
        assert_eq!(kind, sample::CONTEXT);
        match spnego.step(&answer, SystemTime::now()).unwrap() {
            Step::Continue(next) => token = next,
            Step::Done => break,
        }
    }
    let negotiated = spnego.into_negotiated().unwrap();
    assert_eq!(negotiated.mechanism(), Mechanism::Ntlm);
    let (SpnegoWrap::Ntlm(mut wrap), SpnegoUnwrap::Ntlm(mut unwrap)) = negotiated.into_halves()
    else {
        panic!("an NTLM layer");
    };
    for i in 0..3 {
        let message = format!("hello through SPNEGO, message {i}");
        let token = wrap_message(&mut wrap, message.as_bytes());
        assert_eq!(
            token[12..16],
            (i + 1u32).to_le_bytes(),
            "data starts at sequence number 1"
        );
        let flags = sample::DATA | sample::WRAPPED | sample::ENCRYPTED | sample::SEND_MIC;
        sample::send(&mut s, flags, &token);
        let (kind, mic) = sample::recv(&mut s);
        assert_eq!(kind, sample::MIC);
        unwrap.verify(message.as_bytes(), &mic).unwrap();
    }
    sample::send(&mut s, sample::NOOP, &[]);
    drop(s);
    let (ok, printed) = output(server);
    assert!(ok, "gss-server failed: {printed}");
    assert!(
        printed.contains("hello through SPNEGO, message 2"),
        "{printed}"
    );
    assert!(
        printed.contains("1 3 6 1 5 5 2") || printed.contains("alice"),
        "{printed}"
    );
}

/// A wrong password: gss-server refuses the AUTHENTICATE and ends the connection.
#[tokio::test]
async fn gss_ntlmssp_server_refuses_a_wrong_password() {
    let Some(()) = gss_ntlmssp() else { return };
    let (server, port) = gss_server().await;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sample::send(&mut s, sample::NOOP | sample::CONTEXT_NEXT, &[]);
    let credentials = Credentials::with_password(&format!("{DOMAIN}\\alice"), "not-it").unwrap();
    let (initiator, negotiate) = Initiator::new(credentials, InitiatorOptions::default());
    sample::send(&mut s, sample::CONTEXT, &negotiate);
    let (_, challenge) = sample::recv(&mut s);
    let (authenticate, _) = initiator.finish(&challenge, SystemTime::now()).unwrap();
    sample::send(&mut s, sample::CONTEXT, &authenticate);
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let (_, printed) = output(server);
    assert!(
        printed.contains("accepting context"),
        "gss-server printed: {printed}"
    );
}

/// Serve one gss-client connection with our acceptor: the context, then each message
/// unwrapped and signed back. Returns the user and the messages.
fn serve_one_client(listener: TcpListener) -> (String, Vec<Vec<u8>>) {
    let (mut s, _) = listener.accept().unwrap();
    let (kind, _) = sample::recv(&mut s);
    assert_eq!(kind, sample::NOOP | sample::CONTEXT_NEXT);
    let (kind, negotiate) = sample::recv(&mut s);
    assert_eq!(kind, sample::CONTEXT);
    let options = AcceptorOptions::new(DOMAIN, "LOCALHOST").require_mic(false);
    let now = SystemTime::now();
    let (acceptor, challenge) = Acceptor::new(options, &negotiate, now).unwrap();
    sample::send(&mut s, sample::CONTEXT, &challenge);
    let (kind, authenticate) = sample::recv(&mut s);
    assert_eq!(kind, sample::CONTEXT);
    let claim = acceptor.authenticate(&authenticate).unwrap();
    let user = format!("{}\\{}", claim.domain(), claim.user());
    let accepted = claim
        .verify(&NtHash::from_password(PASSWORD), SystemTime::now())
        .unwrap();
    // NTLM's last leg has no answer: the client goes on to its messages.
    let (mut wrap, mut unwrap) = accepted.into_context().into_halves(Protection::Seal);
    let mut messages = Vec::new();
    loop {
        let (flags, token) = sample::recv(&mut s);
        if flags & sample::NOOP != 0 {
            return (user, messages);
        }
        let message = if flags & sample::WRAPPED != 0 {
            unwrap_message(&mut unwrap, token)
        } else {
            token
        };
        if flags & sample::SEND_MIC != 0 {
            sample::send(&mut s, sample::MIC, &wrap.sign(&message).unwrap());
        }
        messages.push(message);
    }
}

/// gss-client to our acceptor, three messages each way, with and without `-nx` (which
/// gss-ntlmssp seals all the same). gss-client exits 0 only if every MIC of ours verified.
#[tokio::test]
async fn gss_ntlmssp_client_with_our_acceptor() {
    let Some(()) = gss_ntlmssp() else { return };
    for extra in [&[][..], &["-nx"][..], &["-seq"][..]] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // -q: without it gss-client asks gss-ntlmssp for something it does not implement
        // (gss_inquire_names_for_mech) after authenticating, and exits 1.
        let client = Command::new("gss-client")
            .args([
                "-q",
                "-port",
                &port.to_string(),
                "-mcount",
                "3",
                "-mech",
                NTLMSSP_MECH,
            ])
            .args(["-user", &format!("{DOMAIN}\\alice"), "-pass", PASSWORD])
            .args(extra)
            .args(["localhost", "host@localhost", "a message from gss-ntlmssp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gss-client runs");
        let (user, messages) =
            std::thread::scope(|scope| scope.spawn(|| serve_one_client(listener)).join().unwrap());
        let (ok, printed) = output(client);
        assert!(
            ok,
            "gss-client {extra:?} failed (a MIC of ours did not verify?): {printed}"
        );
        assert_eq!(user, format!("{DOMAIN}\\alice"));
        assert_eq!(messages.len(), 3, "{printed}");
        for message in &messages {
            assert_eq!(message, b"a message from gss-ntlmssp");
        }
    }
}

/// Samba's NTLMSSP client, driven through `ntlm_auth`'s helper protocol.
struct NtlmAuth {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
}

impl NtlmAuth {
    fn start(password: &str) -> Option<Self> {
        peer::require("ntlm_auth")?;
        let mut child = Command::new("ntlm_auth")
            .args(["--helper-protocol=ntlmssp-client-1", "--username=alice"])
            .arg(format!("--password={password}"))
            .arg(format!("--domain={DOMAIN}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ntlm_auth runs");
        let out = BufReader::new(child.stdout.take().unwrap());
        Some(Self { child, out })
    }

    /// Send one line; the answer's two parts (`YR`, `AF`, `GK` ... and its argument).
    fn ask(&mut self, line: &str) -> (String, String) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut answer = String::new();
        self.out.read_line(&mut answer).unwrap();
        let answer = answer.trim_end();
        let (kind, arg) = answer.split_once(' ').unwrap_or((answer, ""));
        (kind.to_owned(), arg.to_owned())
    }
}

impl Drop for NtlmAuth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Samba's client to our acceptor, with signing and sealing asked for: its AUTHENTICATE (MIC,
/// single-host and channel-binding pairs included) verifies with the MIC required, and our
/// session key is the one Samba reports.
#[test]
fn samba_ntlm_auth_client_with_our_acceptor() {
    let Some(mut samba) = NtlmAuth::start(PASSWORD) else {
        return;
    };
    let features = "SF NTLMSSP_FEATURE_SESSION_KEY NTLMSSP_FEATURE_SIGN NTLMSSP_FEATURE_SEAL";
    assert_eq!(samba.ask(features).0, "OK");
    let (kind, negotiate) = samba.ask("YR");
    assert_eq!(kind, "YR");
    let negotiate = BASE64.decode(negotiate).unwrap();
    let now = SystemTime::now();
    let options = AcceptorOptions::new(DOMAIN, "DC1");
    let (acceptor, challenge) = Acceptor::new(options, &negotiate, now).unwrap();
    let (kind, authenticate) = samba.ask(&format!("TT {}", BASE64.encode(&challenge)));
    assert_eq!(kind, "AF", "ntlm_auth refused our CHALLENGE");
    let authenticate = BASE64.decode(authenticate).unwrap();
    let claim = acceptor.authenticate(&authenticate).unwrap();
    assert_eq!((claim.domain(), claim.user()), (DOMAIN, "alice"));
    let accepted = claim
        .verify(&NtHash::from_password(PASSWORD), SystemTime::now())
        .unwrap();
    let (kind, key) = samba.ask("GK");
    assert_eq!(kind, "GK");
    let context = accepted.into_context();
    assert_eq!(context.session_key()[..], BASE64.decode(key).unwrap()[..]);
    assert!(
        context
            .flags()
            .contains(sealstream_ntlm::NegotiateFlags::SEAL)
    );
}

/// Samba's client with a wrong password: our acceptor says so.
#[test]
fn samba_ntlm_auth_client_with_a_wrong_password_is_logon_denied() {
    let Some(mut samba) = NtlmAuth::start("not-it") else {
        return;
    };
    let negotiate = BASE64.decode(samba.ask("YR").1).unwrap();
    let now = SystemTime::now();
    let (acceptor, challenge) =
        Acceptor::new(AcceptorOptions::new(DOMAIN, "DC1"), &negotiate, now).unwrap();
    let authenticate = BASE64
        .decode(samba.ask(&format!("TT {}", BASE64.encode(&challenge))).1)
        .unwrap();
    let claim = acceptor.authenticate(&authenticate).unwrap();
    let e = claim
        .verify(&NtHash::from_password(PASSWORD), now)
        .unwrap_err();
    assert_eq!(e.status(), Status::LogonDenied, "{e}");
}

/// Our SASL GSS-SPNEGO server for one LDAP connection, NTLM only, with alice's NT hash: its
/// port and what the connection did.
async fn spnego_ldap_server() -> (
    u16,
    tokio::task::JoinHandle<Result<sealstream_examples::ldap_server::Session, String>>,
) {
    use sealstream_negotiate::AcceptorOptions as SpnegoAcceptor;
    use sealstream_negotiate::sasl::SpnegoServer;
    let lookup = |domain: &str, user: &str| {
        (domain.eq_ignore_ascii_case(DOMAIN) && user == "alice")
            .then(|| NtHash::from_password(PASSWORD))
    };
    let options = SpnegoAcceptor::new().ntlm(AcceptorOptions::new(DOMAIN, "LOCALHOST"));
    let props = sealstream_sasl::SecurityProperties {
        min_ssf: 1,
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let session = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let server = SpnegoServer::new(options, std::sync::Arc::new(lookup), props);
        sealstream_examples::ldap_server::serve(tcp, Box::new(server)).await
    });
    (port, session)
}

/// Cyrus's GSS-SPNEGO client (through MIT's SPNEGO, which picks gss-ntlmssp's NTLM with the
/// user file's credentials) binds to our server with an integrity and with a confidentiality
/// layer, and reads its name back through it with "Who am I?".
#[tokio::test]
async fn cyrus_ldapwhoami_gss_spnego_with_our_acceptor() {
    let Some(()) = gss_ntlmssp() else { return };
    if peer::require("ldapwhoami").is_none() {
        return;
    }
    let users = user_file();
    for (secprops, layer) in [
        ("minssf=1,maxssf=1", sealstream_sasl::Layer::Integrity),
        (
            "minssf=56",
            sealstream_sasl::Layer::Confidentiality { cipher: "rc4" },
        ),
    ] {
        let (port, session) = spnego_ldap_server().await;
        let mut command = Command::new("ldapwhoami");
        command
            .args(["-N", "-Y", "GSS-SPNEGO", "-O", secprops, "-H"])
            .arg(format!("ldap://localhost:{port}"))
            .env("NTLM_USER_FILE", &users)
            // No Kerberos: MIT's SPNEGO offers only what it has credentials for.
            .env("KRB5CCNAME", "FILE:/nonexistent/sealstream.ccache")
            .env("KRB5_CONFIG", "/dev/null");
        let out = tokio::task::spawn_blocking(move || command.output().expect("ldapwhoami runs"))
            .await
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{secprops}: {printed}");
        let session = session.await.unwrap().unwrap();
        let outcome = session.outcome.expect("bound");
        assert_eq!(outcome.layer, layer, "{secprops}");
        assert_eq!(outcome.authzid, format!("{DOMAIN}\\alice"));
        // "Who am I?" answered through the layer with the name our acceptor authenticated.
        assert!(
            printed.starts_with(&format!("u:{DOMAIN}\\alice\n")),
            "{printed}"
        );
        let cyrus_ssf = if layer == sealstream_sasl::Layer::Integrity {
            "SASL SSF: 1\n"
        } else {
            "SASL SSF: 64\n"
        };
        assert!(printed.contains(cyrus_ssf), "{secprops}: {printed}");
        assert_eq!(session.who_am_i, 1);
    }
}
