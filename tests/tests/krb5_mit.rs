//! Kerberos V5 against MIT krb5 1.20, started on loopback by tests/peers/mitkdc.sh: our AS and
//! TGS exchanges with MIT's KDC (passwords and keytabs, every AES type, wrong passwords and
//! unknown principals), tickets read from the credential caches `kinit` and `kvno` write, and
//! our initiator with MIT's `gss-server` sample acceptor, exchanging sealed and signed Wrap
//! tokens and MIC tokens under each of the four AES types.
//!
//! One KDC serves the whole test binary (`sealstream_interop::mitkdc`: started on first use,
//! stopped when the process ends).

use std::ffi::OsStr;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use sealstream::{Qop, Status};
use sealstream_interop::gss_sample as sample;
use sealstream_interop::mitkdc::{Kdc, REALM, kdc};
use sealstream_krb5::ccache::CredentialCache;
use sealstream_krb5::gss::{Acceptor, AcceptorOptions, Initiator, InitiatorOptions};
use sealstream_krb5::kdc::{
    ClientSecret, Credentials, InitCredsOptions, KdcConfig, Step, TgsExchange,
};
use sealstream_krb5::{Enctype, Keytab, LayerOptions, Principal, Protection};

fn principal(name: &str) -> Principal {
    Principal::parse(name, Some(REALM)).unwrap()
}

fn password(p: &str) -> ClientSecret {
    ClientSecret::Password(p.to_owned().into())
}

async fn tgt(kdc: &Kdc, who: &str, secret: ClientSecret) -> Credentials {
    kdc.config
        .get_tgt(principal(who), secret, InitCredsOptions::default())
        .await
        .unwrap_or_else(|e| panic!("a TGT for {who}: {e}"))
}

#[tokio::test]
async fn tickets_from_mit_with_passwords_keytabs_and_every_aes_type() {
    let Some(kdc) = kdc() else { return };
    // alice has all four AES keys, bob only aes128-sha256, carol only aes256-sha1: each is
    // pre-authenticated in the key the KDC's PA-ETYPE-INFO2 names.
    for (who, pw) in [
        ("alice", "alice-password"),
        ("bob", "bob-password"),
        ("carol", "carol-password"),
    ] {
        let tgt = tgt(kdc, who, password(pw)).await;
        assert_eq!(tgt.server().to_string(), format!("krbtgt/{REALM}@{REALM}"));
        assert!(tgt.is_current(SystemTime::now()));
        let ldap = Principal::service("ldap", "localhost", REALM);
        let ticket = kdc.config.get_service_ticket(&tgt, ldap).await.unwrap();
        assert_eq!(
            ticket.server().to_string(),
            format!("ldap/localhost@{REALM}")
        );
        assert_eq!(ticket.client().to_string(), format!("{who}@{REALM}"));
    }
    // Each enctype in turn for alice, her key derived from the password each time.
    for enctype in Enctype::ALL {
        let options = InitCredsOptions::default().enctypes(&[enctype]);
        let tgt = kdc
            .config
            .get_tgt(principal("alice"), password("alice-password"), options)
            .await
            .unwrap_or_else(|e| panic!("{enctype}: {e}"));
        assert_eq!(tgt.session_key().enctype(), enctype);
    }
    // With her keytab instead of her password.
    let keytab = Keytab::read(kdc.dir.join("alice.keytab")).unwrap();
    let keys = keytab.keys_for(&principal("alice"));
    assert_eq!(keys.len(), 4);
    tgt(kdc, "alice", ClientSecret::Keys(keys)).await;
}

#[tokio::test]
async fn mit_refusals_come_back_as_statuses_a_person_can_act_on() {
    let Some(kdc) = kdc() else { return };
    let options = InitCredsOptions::default;
    let wrong = kdc
        .config
        .get_tgt(principal("alice"), password("not her password"), options())
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Status::LogonDenied, "{wrong}");
    assert!(wrong.to_string().contains("password"), "{wrong}");
    let nobody = kdc
        .config
        .get_tgt(principal("nobody"), password("x"), options())
        .await
        .unwrap_err();
    assert_eq!(nobody.status(), Status::UnknownCredentials, "{nobody}");
    // bob has only aes128-sha256: offering him only aes256-sha1 leaves nothing in common.
    let no_etype = kdc
        .config
        .get_tgt(
            principal("bob"),
            password("bob-password"),
            options().enctypes(&[Enctype::Aes256CtsHmacSha196]),
        )
        .await
        .unwrap_err();
    assert_eq!(no_etype.status(), Status::EtypeNotSupported, "{no_etype}");
    let tgt = tgt(kdc, "alice", password("alice-password")).await;
    let missing = kdc
        .config
        .get_service_ticket(&tgt, Principal::service("nfs", "nowhere", REALM))
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Status::TargetUnknown, "{missing}");
    // A realm nobody serves.
    let elsewhere = KdcConfig::new()
        .kdc("ELSEWHERE", "127.0.0.1:1")
        .timeout(std::time::Duration::from_millis(300))
        .get_tgt(
            Principal::parse("alice@ELSEWHERE", None).unwrap(),
            password("x"),
            options(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        elsewhere.status(),
        Status::NoAuthenticatingAuthority,
        "{elsewhere}"
    );
}

/// `gss-server -once` for `host@localhost` with the realm's service keytab, on a port of its
/// own choosing.
async fn gss_server(kdc: &Kdc) -> (Child, u16) {
    let dir: &Path = &kdc.dir;
    let keytab = dir.join("service.keytab");
    let args = [
        OsStr::new("-port"),
        OsStr::new("0"),
        OsStr::new("-once"),
        OsStr::new("-keytab"),
        keytab.as_os_str(),
        OsStr::new("host@localhost"),
    ];
    let krb5_conf = dir.join("krb5.conf");
    let env = [
        ("KRB5_CONFIG", krb5_conf.as_os_str()),
        ("KRB5RCACHEDIR", dir.as_os_str()),
    ];
    sample::gss_server(&args, &env).await
}

/// A ticket for `service` whose session key is of type `enctype`: a TGS exchange asking for
/// that type alone.
async fn ticket_with_session_key(
    kdc: &Kdc,
    tgt: &Credentials,
    service: Principal,
    enctype: Enctype,
) -> Credentials {
    let mut exchange = TgsExchange::new(tgt, service, &[enctype]).unwrap();
    let mut request = exchange.start(SystemTime::now()).unwrap();
    loop {
        let reply = kdc.config.send(&request).await.unwrap();
        match exchange.step(&reply, SystemTime::now()).unwrap() {
            Step::Send(next) => request = next,
            Step::Done(creds) => return *creds,
            other => panic!("a TGS exchange that neither sends nor ends: {other:?}"),
        }
    }
}

/// Every AES type end to end: a ticket whose session key is of that type, a context with MIT's
/// `gss-server` (whose acceptor subkey is of the same type), a sealed and a signed Wrap token it
/// unwraps, and its MIC token we verify.
#[tokio::test]
async fn our_initiator_with_mit_gss_server_sealed_and_signed() {
    let Some(kdc) = kdc() else { return };
    let tgt = tgt(kdc, "alice", password("alice-password")).await;
    let host = Principal::service("host", "localhost", REALM);
    for enctype in Enctype::ALL {
        let ticket = ticket_with_session_key(kdc, &tgt, host.clone(), enctype).await;
        assert_eq!(ticket.session_key().enctype(), enctype);
        run_with_gss_server(kdc, &ticket, enctype).await;
    }
}

async fn run_with_gss_server(kdc: &Kdc, ticket: &Credentials, enctype: Enctype) {
    for (qop, flags) in [
        (Qop::Default, sample::WRAPPED | sample::ENCRYPTED),
        (Qop::IntegrityOnly, sample::WRAPPED),
    ] {
        let (server, port) = gss_server(kdc).await;
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // The v2 sample protocol: an empty NOOP|CONTEXT_NEXT, then the context tokens.
        sample::send(&mut s, sample::NOOP | sample::CONTEXT_NEXT, &[]);
        let (initiator, ap_req) =
            Initiator::new(ticket, InitiatorOptions::default(), SystemTime::now()).unwrap();
        sample::send(&mut s, sample::CONTEXT, &ap_req);
        let (kind, ap_rep) = sample::recv(&mut s);
        assert_eq!(kind, sample::CONTEXT);
        let context = initiator.finish(&ap_rep).unwrap();
        assert_eq!(context.message_key().enctype(), enctype);
        let options = LayerOptions::new(Protection::Confidentiality).accept_unsealed(true);
        let (mut wrap, mut unwrap) = context.into_halves(options);
        // A wrapped message; gss-server unwraps it, prints it, and signs it back.
        let message = format!("hello from sealstream, {enctype}, {qop:?}");
        let token = wrap.wrap_message(qop, message.as_bytes()).unwrap();
        sample::send(&mut s, sample::DATA | flags | sample::SEND_MIC, &token);
        let (kind, mic) = sample::recv(&mut s);
        assert_eq!(kind, sample::MIC);
        unwrap.verify_mic(message.as_bytes(), &mic).unwrap();
        sample::send(&mut s, sample::NOOP, &[]);
        drop(s);
        let out = server.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&message),
            "gss-server printed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::io::stderr().flush();
    }
}

/// Serve one `gss-client` connection on `listener` with our acceptor: the context, then every
/// message, each signed back when asked. Returns the messages and whether each came sealed.
fn serve_one_client(
    listener: std::net::TcpListener,
    acceptor: &sealstream_krb5::gss::Acceptor,
) -> Vec<(Vec<u8>, bool)> {
    let (mut s, _) = listener.accept().unwrap();
    let (kind, _) = sample::recv(&mut s);
    assert_eq!(kind, sample::NOOP | sample::CONTEXT_NEXT);
    let (kind, ap_req) = sample::recv(&mut s);
    assert_eq!(kind, sample::CONTEXT);
    let accepted = acceptor.accept(&ap_req, SystemTime::now()).unwrap();
    assert_eq!(accepted.client.to_string(), format!("alice@{REALM}"));
    sample::send(
        &mut s,
        sample::CONTEXT,
        &accepted.token.expect("mutual authentication"),
    );
    let options = LayerOptions::new(Protection::Confidentiality).accept_unsealed(true);
    let (mut wrap, mut unwrap) = accepted.context.into_halves(options);
    let mut messages = Vec::new();
    loop {
        let (flags, token) = sample::recv(&mut s);
        if flags & sample::NOOP != 0 {
            return messages;
        }
        let (message, sealed) = if flags & sample::WRAPPED != 0 {
            let message = unwrap.unwrap_message(&token).unwrap();
            (message, unwrap.last_was_sealed())
        } else {
            (token, false)
        };
        if flags & sample::SEND_MIC != 0 {
            let mut mic = vec![0u8; wrap.mic_len()];
            let n = wrap.get_mic(&message, &mut mic).unwrap();
            sample::send(&mut s, sample::MIC, &mic[..n]);
        }
        messages.push((message, sealed));
    }
}

#[tokio::test]
async fn mit_gss_client_with_our_acceptor_sealed_and_signed() {
    let Some(kdc) = kdc() else { return };
    let keytab = Keytab::read(kdc.dir.join("service.keytab")).unwrap();
    let host = Principal::service("host", "localhost", REALM);
    let acceptor = sealstream_krb5::gss::Acceptor::new(
        keytab,
        Some(host),
        sealstream_krb5::gss::AcceptorOptions::default(),
    );
    // gss-client wraps with confidentiality by default, without it under -nx.
    for (extra, sealed) in [(&[][..], true), (&["-nx"][..], false)] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = Command::new("gss-client")
            .args(["-port", &port.to_string(), "-mcount", "3"])
            .args([
                "-user",
                &format!("alice@{REALM}"),
                "-pass",
                "alice-password",
            ])
            .args(extra)
            .args(["localhost", "host@localhost", "a message from MIT"])
            .env("KRB5_CONFIG", kdc.dir.join("krb5.conf"))
            .env("KRB5CCNAME", format!("MEMORY:sealstream-{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gss-client runs");
        let messages = std::thread::scope(|scope| {
            scope
                .spawn(|| serve_one_client(listener, &acceptor))
                .join()
                .unwrap()
        });
        let out = client.wait_with_output().unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "gss-client failed: {printed}");
        assert_eq!(messages.len(), 3, "{printed}");
        for (message, was_sealed) in &messages {
            assert_eq!(message, b"a message from MIT");
            assert_eq!(*was_sealed, sealed);
        }
        assert_eq!(
            printed.matches("Signature verified").count(),
            3,
            "gss-client checked our MICs: {printed}"
        );
    }
}

/// The acceptor of `service/localhost` with the keys MIT's KDC gave it: it accepts `ticket`
/// (an AP-REQ made with it) and names `who` as the client.
fn accepted_by_the_service(kdc: &Kdc, service: &str, ticket: &Credentials, who: &str) {
    let keytab = Keytab::read(kdc.dir.join("service.keytab")).unwrap();
    let name = Principal::service(service, "localhost", REALM);
    let acceptor = Acceptor::new(keytab, Some(name), AcceptorOptions::default());
    let now = SystemTime::now();
    let (initiator, ap_req) = Initiator::new(ticket, InitiatorOptions::default(), now).unwrap();
    let accepted = acceptor.accept(&ap_req, now).unwrap();
    assert_eq!(accepted.client.to_string(), format!("{who}@{REALM}"));
    initiator.finish(&accepted.token.unwrap()).unwrap();
}

/// `kinit` writes a cache; we read its TGT and get a service ticket with it from MIT's KDC,
/// and take the ticket `kvno` left in it as it is. Both are accepted with the service's keys.
#[tokio::test]
async fn tickets_from_a_kinit_credential_cache() {
    let Some(kdc) = kdc() else { return };
    let cache_path = kdc.dir.join("carol.ccache");
    kdc.kinit("carol", "carol-password", &cache_path);
    let cache = CredentialCache::read(&cache_path).unwrap();
    assert_eq!(cache.principal().to_string(), format!("carol@{REALM}"));
    let now = SystemTime::now();
    let tgt = cache.tgt(now).unwrap();
    // carol has only an aes256-cts-hmac-sha1-96 key; the TGT's session key is the KDC's choice.
    assert!(tgt.is_current(now));
    let ldap = Principal::service("ldap", "localhost", REALM);
    assert!(cache.ticket_for(&ldap, now).is_none());
    let ticket = kdc
        .config
        .get_service_ticket(tgt, ldap.clone())
        .await
        .unwrap();
    accepted_by_the_service(kdc, "ldap", &ticket, "carol");

    kdc.client_program("kvno", &["imap/localhost"], &cache_path, "");
    let cache = CredentialCache::read(&cache_path).unwrap();
    let imap = Principal::service("imap", "localhost", REALM);
    let ticket = cache.ticket_for(&imap, SystemTime::now()).unwrap();
    accepted_by_the_service(kdc, "imap", ticket, "carol");
}

/// The name of the environment variable that makes this test binary, run again as a child,
/// read the default credential cache and print its principal.
const CHILD: &str = "SEALSTREAM_TEST_READ_DEFAULT_CCACHE";

/// `KRB5CCNAME` chooses the cache `CredentialCache::from_environment` reads. The environment
/// is the whole process's (and changing it is unsafe), so the reading runs in a child: this
/// test binary again, with only this test and `KRB5CCNAME` set.
#[test]
fn krb5ccname_names_the_default_cache() {
    if std::env::var_os(CHILD).is_some() {
        let cache = CredentialCache::from_environment().unwrap();
        println!("default principal: {}", cache.principal());
        return;
    }
    let Some(kdc) = kdc() else { return };
    let cache_path = kdc.dir.join("bob.ccache");
    kdc.kinit("bob", "bob-password", &cache_path);
    for name in [
        format!("FILE:{}", cache_path.display()),
        cache_path.display().to_string(),
    ] {
        let (ok, printed) = read_default_cache_in_a_child(&name);
        assert!(ok, "{name}: {printed}");
        assert!(
            printed.contains(&format!("default principal: bob@{REALM}")),
            "{name}: {printed}"
        );
    }
    let (ok, printed) = read_default_cache_in_a_child("KEYRING:persistent:0");
    assert!(!ok, "a KEYRING: cache was read: {printed}");
    assert!(
        printed.contains("only FILE: caches can be read"),
        "{printed}"
    );
}

/// Run `krb5ccname_names_the_default_cache` alone in a child with `KRB5CCNAME=name`: whether
/// it passed, and what it printed on stdout and stderr (a panic's message is on stderr).
fn read_default_cache_in_a_child(name: &str) -> (bool, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "krb5ccname_names_the_default_cache",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("KRB5CCNAME", name)
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

/// SASL GSSAPI whose first step waits for the KDC: `GssapiKdcClient` gets its ticket for
/// ldap/localhost from MIT's KDC when the exchange starts, then binds to our GSSAPI server
/// (the service's keytab) with a confidentiality layer that carries data both ways.
#[tokio::test]
async fn a_gssapi_client_gets_its_ticket_when_the_exchange_starts() {
    use std::sync::Arc;

    use sealstream::{Unseal, Unsealed, seal_message};
    use sealstream_krb5::sasl::{GssapiKdcClient, GssapiServer};
    use sealstream_sasl::{
        AsyncClientMechanism, Layer, SecurityProperties, ServerMechanism, Step as SaslStep,
    };

    let Some(kdc) = kdc() else { return };
    let tgt = tgt(kdc, "alice", password("alice-password")).await;
    let ldap = Principal::service("ldap", "localhost", REALM);
    let props = SecurityProperties {
        min_ssf: 56,
        max_ssf: 256,
        ..SecurityProperties::default()
    };
    let mut client: Box<dyn AsyncClientMechanism> = Box::new(GssapiKdcClient::new(
        kdc.config.clone(),
        tgt,
        ldap.clone(),
        props.clone(),
        None,
    ));
    let keytab = Keytab::read(kdc.dir.join("service.keytab")).unwrap();
    let acceptor = Arc::new(Acceptor::new(
        keytab,
        Some(ldap),
        AcceptorOptions::default(),
    ));
    let mut server = GssapiServer::new(acceptor, props);

    let initial = client.start().await.unwrap();
    let mut step = server.start(initial.as_deref()).unwrap();
    let additional = loop {
        match step {
            SaslStep::Done(additional) => break additional,
            SaslStep::Continue(challenge) => {
                let response = match client.step(&challenge).await.unwrap() {
                    SaslStep::Continue(response) => response,
                    SaslStep::Done(last) => last.unwrap_or_default(),
                };
                step = server.step(&response).unwrap();
            }
        }
    };
    client.success(additional.as_deref()).unwrap();
    let outcome = client.outcome().unwrap().clone();
    assert_eq!(outcome.authcid, format!("alice@{REALM}"));
    assert!(
        matches!(outcome.layer, Layer::Confidentiality { .. }),
        "{outcome:?}"
    );
    assert_eq!(server.outcome().unwrap().layer, outcome.layer);

    // The layers carry a message from the client to the server.
    let (mut seal, _) = client.into_layer().unwrap().unwrap().into_sealer().unwrap();
    let (_, mut unseal) = Box::new(server)
        .into_layer()
        .unwrap()
        .unwrap()
        .into_sealer()
        .unwrap();
    let mut record = vec![0u8; 4096];
    let n = seal_message(&mut seal, Qop::Default, b"through the layer", &mut record).unwrap();
    assert!(
        !record.windows(17).any(|w| w == b"through the layer"),
        "sealed"
    );
    match unseal.unseal(&mut record[..n]).unwrap() {
        Unsealed::Data { plaintext, .. } => {
            assert_eq!(&record[plaintext], b"through the layer");
        }
        other => panic!("{other:?}"),
    }
}
