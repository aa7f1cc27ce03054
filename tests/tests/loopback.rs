//! End to end over real loopback TCP: both directions at full speed on split halves running on
//! different worker threads, and many connections at once, every byte compared.

use sealstream_interop::{pattern, tcp_pair};
use sealstream_testkit::connect;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Send `data` on `w` in `chunk`-byte writes, then close.
async fn send_all<W: tokio::io::AsyncWrite + Unpin>(mut w: W, data: Vec<u8>, chunk: usize) -> W {
    for part in data.chunks(chunk) {
        w.write_all(part).await.expect("write");
    }
    w.shutdown().await.expect("shutdown");
    w
}

async fn recv_all<R: tokio::io::AsyncRead + Unpin>(mut r: R) -> (R, Vec<u8>) {
    let mut got = Vec::new();
    r.read_to_end(&mut got)
        .await
        .expect("read to the peer's close");
    (r, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_duplex_bulk_on_split_halves() {
    const LEN: usize = 32 * 1024 * 1024;
    let (c, s) = tcp_pair().await.unwrap();
    let (client, server) = connect(c, s, 16 * 1024);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pattern(1, LEN);
    let down = pattern(2, LEN);

    let tasks = (
        tokio::spawn(send_all(cw, up.clone(), 16 * 1024)),
        tokio::spawn(send_all(sw, down.clone(), 64 * 1024)),
        tokio::spawn(recv_all(cr)),
        tokio::spawn(recv_all(sr)),
    );
    let (cw, sw) = (tasks.0.await.unwrap(), tasks.1.await.unwrap());
    let ((cr, at_client), (sr, at_server)) = (tasks.2.await.unwrap(), tasks.3.await.unwrap());
    assert!(at_server == up, "client to server bytes differ");
    assert!(at_client == down, "server to client bytes differ");
    cr.reunite(cw).expect("client halves reunite");
    sr.reunite(sw).expect("server halves reunite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_connections_at_once() {
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        tasks.push(tokio::spawn(async move {
            let (c, s) = tcp_pair().await.unwrap();
            let (mut client, server) = connect(c, s, 4096);
            let echo = tokio::spawn(async move {
                let (mut r, mut w) = server.into_split();
                tokio::io::copy(&mut r, &mut w).await.expect("echo");
                w.shutdown().await.expect("echo close");
            });
            let data = pattern(i, 100_000);
            let (mut r, mut w) = tokio::io::split(&mut client);
            let sent = data.clone();
            let (_, got) = tokio::join!(
                async move {
                    w.write_all(&sent).await.unwrap();
                    w.shutdown().await.unwrap();
                },
                async move {
                    let mut got = Vec::new();
                    r.read_to_end(&mut got).await.unwrap();
                    got
                }
            );
            assert!(got == data, "connection {i} echoed different bytes");
            echo.await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}
