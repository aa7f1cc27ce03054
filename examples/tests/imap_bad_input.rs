//! `imap_client` against a server that misbehaves after a DIGEST-MD5 `auth-int` exchange: a
//! frame above our maxbuf, a frame cut short, a literal longer than what arrives, clear text
//! where the layer's frames belong, a BYE in the middle of a FETCH. Each ends in a one-line
//! error that says what happened; what arrived before it is kept (printed and saved), and
//! sealed data the server sends right after its OK, before the client installed the layer, is
//! read through the layer, not lost.
//!
//! The server is ours (sealstream-sasl's DIGEST-MD5 server and a `SealedStream`), scripted to
//! misbehave at one point each; Cyrus IMAP's well-behaved side is in
//! `tests/tests/cyrus_imap.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Parser;
use sealstream::{EofPolicy, StreamBuilder};
use sealstream_examples::imap_client::{Args, Failure, run};
use sealstream_sasl::digest::{DigestServer, DigestServerConfig};
use sealstream_sasl::{CredentialLookup, Secret, SecurityProperties, ServerMechanism, Step};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "fake-password";

/// Where the server goes wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// None: it sends a sealed untagged response right after its OK, then serves normally.
    SealedRightAfterOk,
    /// Clear text after the OK of a layered exchange.
    ClearTextAfterOk,
    /// A frame header announcing more than the client's maxbuf, at the FETCH.
    OversizedFrame,
    /// Half a frame, then the connection closed, at the FETCH.
    TruncatedFrame,
    /// A literal of 1000 bytes of which 10 arrive, then the layer's end, at the FETCH.
    ShortLiteral,
    /// One message, then BYE, in the middle of the FETCH.
    ByeMidFetch,
}

#[derive(Debug)]
struct Alice;

impl CredentialLookup for Alice {
    fn lookup(&self, username: &str, _realm: &str) -> Option<Secret> {
        (username == "alice").then(|| Secret::password(PASSWORD))
    }
}

/// A line from the client, CRLF removed.
async fn line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> String {
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .await
        .expect("a line from the client");
    line.trim_end().to_owned()
}

/// The server's side of one connection.
async fn serve(tcp: TcpStream, fault: Fault) {
    let mut io = BufReader::new(tcp);
    let caps = "IMAP4rev1 SASL-IR AUTH=DIGEST-MD5";
    io.write_all(format!("* OK [CAPABILITY {caps}] fake\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(line(&mut io).await, "a1 CAPABILITY");
    io.write_all(format!("* CAPABILITY {caps}\r\na1 OK done\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(line(&mut io).await, "a2 AUTHENTICATE DIGEST-MD5");
    let mut config = DigestServerConfig::new("imap", "localhost", "localhost");
    config.props = SecurityProperties {
        min_ssf: 1,
        maxbuf: 4096,
        ..SecurityProperties::default()
    };
    let mut server: Box<dyn ServerMechanism> = Box::new(DigestServer::new(config, Arc::new(Alice)));
    let Step::Continue(challenge) = server.start(None).unwrap() else {
        panic!("DIGEST-MD5 opens with a challenge")
    };
    io.write_all(format!("+ {}\r\n", STANDARD.encode(challenge)).as_bytes())
        .await
        .unwrap();
    let response = STANDARD.decode(line(&mut io).await).unwrap();
    let Step::Done(Some(rspauth)) = server.step(&response).unwrap() else {
        panic!("the response ends the exchange")
    };
    io.write_all(format!("+ {}\r\n", STANDARD.encode(rspauth)).as_bytes())
        .await
        .unwrap();
    assert_eq!(line(&mut io).await, "");
    if fault == Fault::ClearTextAfterOk {
        io.write_all(b"a2 OK done\r\n* OK clear text where frames belong\r\n")
            .await
            .unwrap();
        return;
    }
    io.write_all(b"a2 OK done\r\n").await.unwrap();
    assert!(io.buffer().is_empty(), "the client waits for the OK");
    let sealer = server.into_layer().unwrap().unwrap().into_sealer().unwrap();
    let stream = StreamBuilder::new()
        .eof_policy(EofPolicy::CleanEnd)
        .build(io.into_inner(), sealer);
    let mut io = BufReader::new(stream);
    if fault == Fault::SealedRightAfterOk {
        send(&mut io, "* OK [ALERT] sealed before the client asked").await;
    }
    assert_eq!(line(&mut io).await, "a3 CAPABILITY");
    send(&mut io, &format!("* CAPABILITY {caps}\r\na3 OK done")).await;
    assert_eq!(line(&mut io).await, "a4 SELECT \"INBOX\"");
    send(&mut io, "* 1 EXISTS\r\na4 OK [READ-WRITE] done").await;
    assert!(line(&mut io).await.starts_with("a5 UID FETCH 1:*"));
    let one = "* 1 FETCH (UID 1 RFC822.SIZE 5 BODY[] {5}\r\nhello)";
    match fault {
        Fault::SealedRightAfterOk => {
            send(&mut io, &format!("{one}\r\na5 OK done")).await;
            assert_eq!(line(&mut io).await, "a6 LOGOUT");
            send(&mut io, "* BYE bye\r\na6 OK done").await;
        }
        Fault::OversizedFrame => {
            // 8192 > the client's maxbuf of 4096, written past the layer.
            let tcp = io.get_mut().get_mut();
            tcp.write_all(&[0, 0, 0x20, 0, 1, 2, 3]).await.unwrap();
            tcp.flush().await.unwrap();
            let _ = io.read_line(&mut String::new()).await; // until the client goes
        }
        Fault::TruncatedFrame => {
            let tcp = io.get_mut().get_mut();
            tcp.write_all(&[0, 0, 0, 100]).await.unwrap();
            tcp.write_all(&[7; 10]).await.unwrap();
            tcp.shutdown().await.unwrap();
        }
        Fault::ShortLiteral => {
            io.write_all(b"* 1 FETCH (UID 1 RFC822.SIZE 1000 BODY[] {1000}\r\n0123456789")
                .await
                .unwrap();
            io.shutdown().await.unwrap();
        }
        Fault::ByeMidFetch => {
            send(&mut io, &format!("{one}\r\n* BYE server going down")).await;
            io.shutdown().await.unwrap();
        }
        Fault::ClearTextAfterOk => unreachable!(),
    }
}

/// Send `lines` and CRLF through the layer.
async fn send<W: AsyncWrite + Unpin>(io: &mut W, lines: &str) {
    io.write_all(format!("{lines}\r\n").as_bytes())
        .await
        .unwrap();
    io.flush().await.unwrap();
}

/// What the client printed and saved, and how it ended.
struct Run {
    result: Result<(), Failure>,
    out: String,
    log: String,
    saved: PathBuf,
}

async fn client_against(fault: Fault) -> Run {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        serve(tcp, fault).await;
    });
    let saved = std::env::temp_dir().join(format!(
        "sealstream-imap-bad-input-{}-{fault:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&saved);
    let url = format!("imap://localhost:{port}");
    let args = Args::try_parse_from([
        "imap_client",
        "--url",
        &url,
        "--user",
        "alice",
        "--password",
        PASSWORD,
        "--qop",
        "auth-int",
        "--maxbuf",
        "4096",
        "--timeout",
        "20",
        "--save",
        saved.to_str().unwrap(),
        "-v",
    ])
    .unwrap();
    let (mut out, mut log) = (Vec::new(), Vec::new());
    let result = run(&args, &mut out, &mut log).await;
    server.await.expect("the server's script holds");
    Run {
        result,
        out: String::from_utf8(out).unwrap(),
        log: String::from_utf8_lossy(&log).into_owned(),
        saved,
    }
}

#[tokio::test]
async fn sealed_data_right_after_the_ok_is_read_through_the_layer() {
    let run = client_against(Fault::SealedRightAfterOk).await;
    run.result.unwrap_or_else(|e| panic!("{e}\n{}", run.log));
    assert!(
        run.log
            .contains("S: * OK [ALERT] sealed before the client asked"),
        "{}",
        run.log
    );
    assert!(run.out.contains("UID 1  5 bytes"), "{}", run.out);
}

#[tokio::test]
async fn clear_text_where_frames_belong_is_refused() {
    let run = client_against(Fault::ClearTextAfterOk).await;
    let err = run.result.unwrap_err();
    // "* OK" read as a frame length is far above the maxbuf.
    assert!(
        err.message.starts_with("reading from the server: "),
        "{err}"
    );
    assert!(err.message.contains("exceeds our maxbuf of 4096"), "{err}");
}

#[tokio::test]
async fn a_frame_above_our_maxbuf_is_refused_from_its_header() {
    let run = client_against(Fault::OversizedFrame).await;
    let err = run.result.unwrap_err();
    assert!(
        err.message
            .contains("SASL frame of 8192 bytes exceeds our maxbuf of 4096"),
        "{err}"
    );
}

#[tokio::test]
async fn a_truncated_frame_is_an_error_not_an_end() {
    let run = client_against(Fault::TruncatedFrame).await;
    let err = run.result.unwrap_err();
    assert!(
        err.message.starts_with("reading from the server: "),
        "{err}"
    );
    assert!(
        err.message
            .contains("the transport ended inside a record (14 bytes of it received)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_literal_cut_short_says_how_much_arrived() {
    let run = client_against(Fault::ShortLiteral).await;
    let err = run.result.unwrap_err();
    assert!(
        err.message
            .contains("inside a literal of 1000 bytes (10 arrived)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_bye_mid_fetch_keeps_what_arrived_before_it() {
    let run = client_against(Fault::ByeMidFetch).await;
    let err = run.result.unwrap_err();
    assert_eq!(
        err.message,
        "the server closed the connection: server going down"
    );
    assert!(run.out.contains("UID 1  5 bytes"), "{}", run.out);
    assert_eq!(std::fs::read(run.saved.join("1.eml")).unwrap(), b"hello");
}
