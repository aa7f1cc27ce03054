//! Fault injection between two sealstream-tls endpoints: a proxy on the client-to-server path
//! flips bits in, drops, duplicates, reorders and truncates records after the handshake. The
//! receiver must fail with the matching status, hand out only the bytes of the records before
//! the fault (never a tampered byte), and the sender must hear the fatal alert. Also: a
//! handshake that never completes is bounded by its timeout, one without a timeout needs no
//! timer, and half-close works both ways.

use std::io::ErrorKind;
use std::time::Duration;

use sealstream::{Error, Status};
use sealstream_interop::{pattern, tcp_pair, tls};
use sealstream_tls::{TlsAcceptor, TlsConnector, TlsStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONTENT_APPLICATION_DATA: u8 = 23;
/// Messages the client sends, one record each.
const MESSAGES: usize = 4;
const MESSAGE_LEN: usize = 100;

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Flip one bit at this byte of the data record.
    Flip(usize),
    Drop,
    Duplicate,
    /// Send the record after the next one.
    Reorder,
    /// Forward only this many bytes after the handshake, then end the connection.
    CutAt(usize),
}

/// Forward client to server, applying `fault` to data record `index` (counted after the
/// client's Finished); server to client unchanged.
async fn proxy(front: TcpStream, back: TcpStream, tls13: bool, index: usize, fault: Fault) {
    let (mut fr, mut fw) = front.into_split();
    let (mut br, mut bw) = back.into_split();
    let down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut br, &mut fw).await;
        let _ = fw.shutdown().await;
    });
    // TLS 1.3 encrypts the client's Finished as application data: it comes first.
    let mut skip = usize::from(tls13);
    let mut data_index = 0;
    let mut after_handshake = 0usize;
    let mut held: Option<Vec<u8>> = None;
    loop {
        let mut header = [0u8; 5];
        if fr.read_exact(&mut header).await.is_err() {
            break;
        }
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        let mut record = header.to_vec();
        record.resize(5 + len, 0);
        if fr.read_exact(&mut record[5..]).await.is_err() {
            break;
        }
        let is_data = header[0] == CONTENT_APPLICATION_DATA;
        if !is_data || skip > 0 {
            skip -= usize::from(is_data);
            if bw.write_all(&record).await.is_err() {
                break;
            }
            continue;
        }
        let this = data_index;
        data_index += 1;
        let mut out = Vec::new();
        match fault {
            Fault::CutAt(at) => {
                let take = at.saturating_sub(after_handshake).min(record.len());
                let _ = bw.write_all(&record[..take]).await;
                after_handshake += record.len();
                if take < record.len() {
                    break; // end the connection mid-stream
                }
                continue;
            }
            _ if this != index => out.extend_from_slice(&record),
            Fault::Flip(at) => {
                let at = at % record.len();
                record[at] ^= 0x10;
                out.extend_from_slice(&record);
            }
            Fault::Drop => {}
            Fault::Duplicate => {
                out.extend_from_slice(&record);
                out.extend_from_slice(&record);
            }
            Fault::Reorder => {
                held = Some(record);
                continue;
            }
        }
        out.extend(held.take().unwrap_or_default());
        if bw.write_all(&out).await.is_err() {
            break;
        }
    }
    let _ = bw.shutdown().await;
    drop(bw);
    let _ = down.await;
}

struct Outcome {
    /// What the server read before its read failed (or ended).
    received: Vec<u8>,
    /// Its read error.
    error: Option<std::io::Error>,
    /// What the client's read half saw afterwards.
    client_heard: Option<std::io::Error>,
}

async fn run(tls13: bool, index: usize, fault: Fault) -> Outcome {
    let id = tls::identity();
    let (client_io, front) = tcp_pair().await.unwrap();
    let (back, server_io) = tcp_pair().await.unwrap();
    let proxy = tokio::spawn(proxy(front, back, tls13, index, fault));
    let acceptor = TlsAcceptor::new(tls::server(&id, tls13, None));
    let server = tokio::spawn(async move {
        // rustls itself may decrypt the first record behind the client's Finished, so a fault
        // there fails the accept, with the same status and nothing handed out.
        let stream: TlsStream<TcpStream> = match acceptor.accept(server_io).await {
            Ok(stream) => stream,
            Err(err) => return (Vec::new(), Some(err)),
        };
        let (mut r, mut w) = stream.into_split();
        let mut received = Vec::new();
        let mut buf = vec![0u8; 4096];
        let error = loop {
            match r.read(&mut buf).await {
                Ok(0) => break None,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) => break Some(e),
            }
        };
        // The write half sends the alert the read half asked for (if the connection is still
        // there to carry it).
        let _ = w.shutdown().await;
        (received, error)
    });
    let client = TlsConnector::new(tls::client(&id, tls13, None))
        .connect(tls::localhost(), client_io)
        .await
        .unwrap();
    let (mut r, mut w) = client.into_split();
    let sent = pattern(index as u64, MESSAGES * MESSAGE_LEN);
    for message in sent.chunks(MESSAGE_LEN) {
        if w.write_all(message).await.is_err() || w.flush().await.is_err() {
            break;
        }
    }
    let _ = w.shutdown().await;
    let (received, error) = server.await.unwrap();
    let mut rest = Vec::new();
    let client_heard = tokio::time::timeout(Duration::from_secs(10), r.read_to_end(&mut rest))
        .await
        .expect("the client's read ends")
        .err();
    proxy.await.unwrap();
    // Whatever the server read is exactly what was sent, up to some point.
    assert!(
        sent.starts_with(&received),
        "{fault:?} at {index}: the server handed out bytes that were not sent"
    );
    Outcome {
        received,
        error,
        client_heard,
    }
}

fn status(err: &Option<std::io::Error>) -> Option<Status> {
    err.as_ref().and_then(Error::from_io).map(Error::status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_dropped_duplicated_and_reordered_records_are_refused() {
    for tls13 in [true, false] {
        for index in 0..MESSAGES - 1 {
            for fault in [
                Fault::Flip(7),
                Fault::Flip(60),
                Fault::Drop,
                Fault::Duplicate,
                Fault::Reorder,
            ] {
                let case = format!("TLS 1.3 {tls13}, {fault:?} of record {index}");
                let outcome = run(tls13, index, fault).await;
                // TLS binds the sequence number into the nonce: any of these fails authentication.
                assert_eq!(
                    status(&outcome.error),
                    Some(Status::MessageAltered),
                    "{case}: {:?}",
                    outcome.error
                );
                // Exactly the records before the fault were delivered (a duplicate's original
                // is genuine).
                let delivered = index + usize::from(matches!(fault, Fault::Duplicate));
                assert_eq!(outcome.received.len(), delivered * MESSAGE_LEN, "{case}");
                // The client hears why.
                let heard = outcome
                    .client_heard
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                assert!(
                    heard.contains("bad_record_mac"),
                    "{case}: client heard {heard:?}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_at_any_offset_is_truncation() {
    let record = 5 + MESSAGE_LEN + 1 + 16; // TLS 1.3 record of one message
    for at in 0..2 * record + 1 {
        let outcome = run(true, 0, Fault::CutAt(at)).await;
        let case = format!("cut after {at} bytes");
        assert_eq!(
            outcome.error.as_ref().map(|e| e.kind()),
            Some(ErrorKind::UnexpectedEof),
            "{case}: {:?}",
            outcome.error
        );
        assert_eq!(
            status(&outcome.error),
            Some(Status::IncompleteMessage),
            "{case}"
        );
        // Whole records before the cut were delivered; nothing of the record it split.
        assert_eq!(outcome.received.len(), at / record * MESSAGE_LEN, "{case}");
    }
}

#[tokio::test]
async fn a_handshake_that_never_completes_times_out() {
    let id = tls::identity();
    let (client_io, silent) = tcp_pair().await.unwrap();
    let started = tokio::time::Instant::now();
    let err = TlsConnector::new(tls::client(&id, true, None))
        .handshake_timeout(Duration::from_millis(300))
        .connect(tls::localhost(), client_io)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);

    let (quiet, server_io) = tcp_pair().await.unwrap();
    let err = TlsAcceptor::new(tls::server(&id, true, None))
        .handshake_timeout(Duration::from_millis(300))
        .accept(server_io)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    drop(quiet);
}

#[test]
fn a_handshake_without_a_timeout_runs_on_a_runtime_without_a_timer() {
    // A runtime built without `enable_time`: a timer there panics, so by default the
    // handshake must not set one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    runtime.block_on(async {
        let id = tls::identity();
        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = TlsAcceptor::new(tls::server(&id, true, None));
        let connector = TlsConnector::new(tls::client(&id, true, None));
        let (server, client) =
            tokio::join!(acceptor.accept(s), connector.connect(tls::localhost(), c));
        let (mut server, mut client) = (server.unwrap(), client.unwrap());
        client.write_all(b"no timer needed").await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"no timer needed");
    });
}

#[tokio::test]
async fn half_close_works_in_both_directions() {
    let id = tls::identity();
    for client_first in [true, false] {
        let (c, s) = tcp_pair().await.unwrap();
        let acceptor = TlsAcceptor::new(tls::server(&id, true, None));
        let server = tokio::spawn(async move { acceptor.accept(s).await.unwrap() });
        let client = TlsConnector::new(tls::client(&id, true, None))
            .connect(tls::localhost(), c)
            .await
            .unwrap();
        let server = server.await.unwrap();
        let (first, second) = if client_first {
            (client, server)
        } else {
            (server, client)
        };
        let (mut first_r, mut first_w) = first.into_split();
        let (mut second_r, mut second_w) = second.into_split();
        // The first side closes its sending direction...
        first_w.write_all(b"last words").await.unwrap();
        first_w.shutdown().await.unwrap();
        let mut got = Vec::new();
        second_r.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        // ...and still receives everything the other side sends afterwards.
        let reply = pattern(5, 300_000);
        second_w.write_all(&reply).await.unwrap();
        second_w.shutdown().await.unwrap();
        let mut got = Vec::new();
        first_r.read_to_end(&mut got).await.unwrap();
        assert!(got == reply, "client first: {client_first}");
    }
}
