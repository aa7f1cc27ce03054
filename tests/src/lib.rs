//! Helpers shared by the end-to-end and interop tests in `tests/`: loopback connections and,
//! as sealers land, the real peers those tests start.

use tokio::net::{TcpListener, TcpStream};

/// A connected pair of loopback TCP sockets: (client side, server side).
pub async fn tcp_pair() -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client?;
    let (server, _) = accepted?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

/// A deterministic byte pattern that differs between streams, so a byte delivered to the wrong
/// connection or at the wrong offset is caught.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}
