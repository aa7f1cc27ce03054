//! A TLS echo server: each connection's read half feeds its write half, on its own task.
//!
//! ```text
//! cargo run -p sealstream-examples --example tls_echo_server -- 127.0.0.1:4433 cert.pem key.pem
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sealstream_tls::TlsAcceptor;
use tokio::io::AsyncWriteExt;

async fn serve(addr: &str, cert: &str, key: &str) -> Result<(), Box<dyn std::error::Error>> {
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // A client that connects and says nothing holds its connection no longer than this.
    let acceptor =
        TlsAcceptor::new(Arc::new(config)).handshake_timeout(std::time::Duration::from_secs(10));

    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("tls_echo_server: listening on {}", listener.local_addr()?);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let echoed = async {
                let stream = acceptor.accept(tcp).await?;
                // Owned halves: no lock between reading and writing.
                let (mut reader, mut writer) = stream.into_split();
                let n = tokio::io::copy(&mut reader, &mut writer).await?;
                // The client's close_notify ended the copy; send ours.
                writer.shutdown().await?;
                Ok::<u64, std::io::Error>(n)
            };
            match echoed.await {
                Ok(n) => eprintln!("tls_echo_server: {peer}: echoed {n} bytes"),
                Err(err) => eprintln!("tls_echo_server: {peer}: {err}"),
            }
        });
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, cert, key] = args.as_slice() else {
        eprintln!("usage: tls_echo_server ADDR CERT.pem KEY.pem");
        return ExitCode::from(2);
    };
    match serve(addr, cert, key).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tls_echo_server: {err}");
            ExitCode::FAILURE
        }
    }
}
