//! Moving bytes between a sealed stream and local ends (stdin/stdout, a child process), one
//! task per direction on the stream's two halves.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes moved each way.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Moved {
    pub(crate) sent: u64,
    pub(crate) received: u64,
}

/// When the relay is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Until {
    /// Both directions ended: the local input reached its end (and our close went out) and the
    /// peer closed. For a child process, whose output ends once its input does.
    BothClosed,
    /// The peer closed; the local input is then abandoned, our close sent, and the relay ends
    /// (like `openssl s_client -quiet`: a terminal's stdin may never end).
    PeerClosed,
}

/// Copy until `reader` ends, counting into `moved` as bytes go (so the count survives the copy
/// being abandoned).
async fn copy_counting<R, W>(reader: &mut R, writer: &mut W, moved: &AtomicU64) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        writer.write_all(&buf[..n]).await?;
        // Interactive use: what arrived goes out now, not when a buffer fills.
        writer.flush().await?;
        moved.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Relay `local_in` to the peer and the peer to `local_out`. At the end of `local_in` our
/// close goes out (TLS close_notify, then the transport's FIN); the peer's close ends
/// `local_out`, which is then shut (closing a child's stdin).
pub(crate) async fn relay<SR, SW, LR, LW>(
    from_peer: SR,
    mut to_peer: SW,
    mut local_in: LR,
    mut local_out: LW,
    until: Until,
) -> io::Result<Moved>
where
    SR: AsyncRead + Unpin,
    SW: AsyncWrite + Unpin,
    LR: AsyncRead + Unpin,
    LW: AsyncWrite + Unpin,
{
    let (sent, received) = (AtomicU64::new(0), AtomicU64::new(0));
    let mut closed = false;
    {
        let up = async {
            copy_counting(&mut local_in, &mut to_peer, &sent).await?;
            to_peer.shutdown().await
        };
        let received = &received;
        let mut from_peer = from_peer;
        let down = async move {
            copy_counting(&mut from_peer, &mut local_out, received).await?;
            local_out.shutdown().await?;
            // A pipe closes when dropped (a child's stdin sees its end only then).
            drop(local_out);
            Ok::<(), io::Error>(())
        };
        tokio::pin!(up, down);
        match until {
            Until::BothClosed => {
                tokio::try_join!(up, down)?;
            }
            Until::PeerClosed => tokio::select! {
                done = &mut up => {
                    done?;
                    down.await?;
                }
                done = &mut down => {
                    done?;
                    closed = true;
                }
            },
        }
    }
    if closed {
        // The peer closed first: our input is abandoned, our close still goes out.
        to_peer.shutdown().await?;
    }
    Ok(Moved {
        sent: sent.into_inner(),
        received: received.into_inner(),
    })
}

/// Relay the terminal: stdin to the peer, the peer to stdout, until the peer closes.
pub(crate) async fn relay_terminal<SR, SW>(from_peer: SR, to_peer: SW) -> io::Result<Moved>
where
    SR: AsyncRead + Unpin,
    SW: AsyncWrite + Unpin,
{
    relay(
        from_peer,
        to_peer,
        tokio::io::stdin(),
        tokio::io::stdout(),
        Until::PeerClosed,
    )
    .await
}
