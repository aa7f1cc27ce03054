//! DIGEST-MD5 interop with the JDK's `javax.security.sasl` (tests/java/DigestPeer.java): our
//! client against the JDK server and the JDK client against our server, for auth-int and each of
//! the five auth-conf ciphers. maxbuf is 1024 on both sides, so the messages arrive as many
//! frames; the JDK peer unwraps what we send and wraps it back, and we compare every byte.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use sealstream::SealedStream;
use sealstream_interop::{pattern, peer};
use sealstream_sasl::digest::{
    Cipher, DigestClient, DigestClientConfig, DigestQop, DigestServer, DigestServerConfig,
};
use sealstream_sasl::{
    ClientMechanism, CredentialLookup, Secret, SecurityLayer, SecurityProperties, ServerMechanism,
    Step,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

const MAXBUF: u32 = 1024;
const LENGTH: usize = 10_000;

fn qops() -> Vec<DigestQop> {
    let mut qops = vec![DigestQop::AuthInt];
    qops.extend(Cipher::ALL.map(DigestQop::AuthConf));
    qops
}

fn props(qop: DigestQop) -> SecurityProperties {
    SecurityProperties {
        min_ssf: qop.ssf(),
        max_ssf: qop.ssf(),
        maxbuf: MAXBUF,
        allow_legacy_ciphers: true,
        ..Default::default()
    }
}

fn java_args(qop: DigestQop) -> Vec<String> {
    let cipher = match qop {
        DigestQop::AuthConf(c) => c.name().to_owned(),
        _ => "-".to_owned(),
    };
    vec![
        qop.name().to_owned(),
        cipher,
        MAXBUF.to_string(),
        LENGTH.to_string(),
    ]
}

async fn write_msg(tcp: &mut TcpStream, msg: &[u8]) {
    tcp.write_all(&(msg.len() as u32).to_be_bytes())
        .await
        .unwrap();
    tcp.write_all(msg).await.unwrap();
}

async fn read_msg(tcp: &mut TcpStream) -> Vec<u8> {
    let mut len = [0; 4];
    tcp.read_exact(&mut len).await.unwrap();
    let mut msg = vec![0; u32::from_be_bytes(len) as usize];
    tcp.read_exact(&mut msg).await.unwrap();
    msg
}

/// Send `LENGTH` bytes through the layer, read them back from the JDK peer, compare.
async fn echo_through(tcp: TcpStream, layer: SecurityLayer, seed: u64) {
    let mut stream = SealedStream::new(tcp, layer.into_sealer().unwrap());
    let data = pattern(seed, LENGTH);
    stream.write_all(&data).await.unwrap();
    stream.flush().await.unwrap();
    let mut back = vec![0; LENGTH];
    stream.read_exact(&mut back).await.unwrap();
    assert!(back == data, "the JDK peer's echo differs");
    stream.shutdown().await.unwrap();
}

async fn finish(child: Child, what: &str) {
    let out = child.wait_with_output().await.unwrap();
    eprint!("{what}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{what}: JDK peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn java(classes: &Path, args: &[&str], extra: Vec<String>) -> Command {
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(classes)
        .arg("DigestPeer")
        .args(args)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

#[tokio::test(flavor = "current_thread")]
async fn our_client_against_jdk_server() {
    let Some(classes) = peer::compile_java("DigestPeer") else {
        return;
    };
    for (i, qop) in qops().into_iter().enumerate() {
        let mut child = java(&classes, &["server"], java_args(qop)).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).await.unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{qop}: JDK server printed {line:?}"));
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut config = DigestClientConfig::new("chris", "secret", "ldap", "localhost");
        config.props = props(qop);
        let mut client = Box::new(DigestClient::new(config));
        let challenge = read_msg(&mut tcp).await;
        let Step::Continue(response) = client.step(&challenge).unwrap() else {
            panic!("{qop}: a response expected")
        };
        write_msg(&mut tcp, &response).await;
        let rspauth = read_msg(&mut tcp).await;
        client.success(Some(&rspauth)).unwrap();
        assert_eq!(client.qop(), Some(qop));
        let outcome = client.outcome().unwrap().clone();
        assert_eq!((outcome.our_maxbuf, outcome.peer_maxbuf), (MAXBUF, MAXBUF));
        let layer = client.into_layer().unwrap().unwrap();
        echo_through(tcp, layer, i as u64).await;
        finish(child, &format!("JDK server, {qop}")).await;
    }
}

struct Chris;

impl CredentialLookup for Chris {
    fn lookup(&self, username: &str, _realm: &str) -> Option<Secret> {
        (username == "chris").then(|| Secret::password("secret"))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn jdk_client_against_our_server() {
    let Some(classes) = peer::compile_java("DigestPeer") else {
        return;
    };
    for (i, qop) in qops().into_iter().enumerate() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let mut args = java_args(qop);
        args.push(port);
        let child = java(&classes, &["client"], args).spawn().unwrap();
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut config = DigestServerConfig::new("ldap", "localhost", "localhost");
        config.props = props(qop);
        let mut server = Box::new(DigestServer::new(config, Arc::new(Chris)));
        let Step::Continue(challenge) = server.start(None).unwrap() else {
            panic!("{qop}: a challenge expected")
        };
        write_msg(&mut tcp, &challenge).await;
        let response = read_msg(&mut tcp).await;
        let Step::Done(Some(rspauth)) = server.step(&response).unwrap() else {
            panic!("{qop}: rspauth expected")
        };
        write_msg(&mut tcp, &rspauth).await;
        assert_eq!(server.qop(), Some(qop));
        assert_eq!(server.outcome().unwrap().authzid, "chris");
        let layer = server.into_layer().unwrap().unwrap();
        echo_through(tcp, layer, 100 + i as u64).await;
        finish(child, &format!("JDK client, {qop}")).await;
    }
}
