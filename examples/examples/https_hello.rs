//! An HTTPS server on sealstream: hyper 1.x serves HTTP/1.1 and HTTP/2 (chosen by ALPN) over
//! a `SealedStream`, one task per connection.
//!
//! ```text
//! cargo run -p sealstream-examples --example https_hello -- 127.0.0.1:8443 cert.pem key.pem
//! curl --cacert cert.pem https://localhost:8443/
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sealstream_tls::TlsAcceptor;

async fn hello(
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = format!("hello from sealstream over {:?}\n", request.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

async fn serve(addr: &str, cert: &str, key: &str) -> Result<(), Box<dyn std::error::Error>> {
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // Offer HTTP/2 first; clients without ALPN get HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // A client that connects and says nothing holds its connection no longer than this.
    let acceptor =
        TlsAcceptor::new(Arc::new(config)).handshake_timeout(std::time::Duration::from_secs(10));

    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("https_hello: listening on {}", listener.local_addr()?);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(stream) => stream,
                Err(err) => return eprintln!("https_hello: {peer}: handshake failed: {err}"),
            };
            // The auto builder speaks HTTP/2 when the client starts with its preface (as it
            // does after ALPN chose h2), HTTP/1.1 otherwise.
            let served = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(hello))
                .await;
            if let Err(err) = served {
                eprintln!("https_hello: {peer}: {err}");
            }
        });
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, cert, key] = args.as_slice() else {
        eprintln!("usage: https_hello ADDR CERT.pem KEY.pem");
        return ExitCode::from(2);
    };
    match serve(addr, cert, key).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("https_hello: {err}");
            ExitCode::FAILURE
        }
    }
}
