//! A TLS server with one certificate per name (virtual hosts): it reads each ClientHello
//! first, picks the configuration by the name the client asked for (SNI), then finishes the
//! handshake with it and greets the client by that name: tokio-rustls's `LazyConfigAcceptor`
//! pattern with sealstream-tls's owned halves after it.
//!
//! ```text
//! cargo run -p sealstream-examples --example tls_sni_server -- 127.0.0.1:4433 \
//!     one.example one.pem one.key  two.example two.pem two.key
//! curl --cacert one.pem --resolve one.example:4433:127.0.0.1 https://one.example:4433/
//! ```
//!
//! A client that sends no name, or one not listed, gets the first certificate.

use std::process::ExitCode;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sealstream_tls::{LazyConfigAcceptor, TlsAcceptor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A name and the acceptor whose certificate is for it.
type Host = (String, TlsAcceptor);

fn acceptor(cert: &str, key: &str) -> Result<TlsAcceptor, Box<dyn std::error::Error>> {
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::new(Arc::new(config)).handshake_timeout(std::time::Duration::from_secs(10)))
}

async fn serve(addr: &str, hosts: Vec<Host>) -> Result<(), Box<dyn std::error::Error>> {
    let hosts = Arc::new(hosts);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("tls_sni_server: listening on {}", listener.local_addr()?);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let hosts = hosts.clone();
        tokio::spawn(async move {
            let served = async {
                let start = LazyConfigAcceptor::accept(tcp).await?;
                let asked = start.server_name().map(str::to_owned);
                let (name, acceptor) = hosts
                    .iter()
                    .find(|(name, _)| Some(name.as_str()) == asked.as_deref())
                    .unwrap_or(&hosts[0]);
                let stream = start.into_stream(acceptor).await?;
                let (mut reader, mut writer) = stream.into_split();
                // One request (whatever it is), one answer, then close.
                let mut request = [0u8; 4096];
                let _ = reader.read(&mut request).await?;
                let body = format!("hello from {name}\n");
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                writer.write_all(answer.as_bytes()).await?;
                writer.shutdown().await?;
                Ok::<String, std::io::Error>(name.clone())
            };
            match served.await {
                Ok(name) => eprintln!("tls_sni_server: {peer}: served as {name}"),
                Err(err) => eprintln!("tls_sni_server: {peer}: {err}"),
            }
        });
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((addr, rest)) = args.split_first() else {
        eprintln!("usage: tls_sni_server ADDR NAME CERT.pem KEY.pem [NAME CERT.pem KEY.pem ...]");
        return ExitCode::from(2);
    };
    if rest.is_empty() || rest.len() % 3 != 0 {
        eprintln!("usage: tls_sni_server ADDR NAME CERT.pem KEY.pem [NAME CERT.pem KEY.pem ...]");
        return ExitCode::from(2);
    }
    let mut hosts = Vec::new();
    for host in rest.chunks(3) {
        match acceptor(&host[1], &host[2]) {
            Ok(acceptor) => hosts.push((host[0].clone(), acceptor)),
            Err(err) => {
                eprintln!("tls_sni_server: {}: {err}", host[0]);
                return ExitCode::FAILURE;
            }
        }
    }
    match serve(addr, hosts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tls_sni_server: {err}");
            ExitCode::FAILURE
        }
    }
}
