//! A TLS client whose two halves run on two tasks at once: one sends stdin, the other prints
//! what arrives, with no lock between them.
//!
//! ```text
//! cargo run -p sealstream-examples --example tls_client -- localhost:4433 cert.pem
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sealstream_tls::TlsConnector;
use tokio::io::AsyncWriteExt;

async fn run(addr: &str, ca: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let name = ServerName::try_from(host.to_string())?;

    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let stream = TlsConnector::new(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let (mut reader, mut writer) = stream.into_split();

    let send = tokio::spawn(async move {
        tokio::io::copy(&mut tokio::io::stdin(), &mut writer).await?;
        // close_notify, then the TCP FIN.
        writer.shutdown().await
    });
    let print = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        // Ends at the server's close_notify; a connection cut without it is an error.
        tokio::io::copy(&mut reader, &mut stdout).await?;
        stdout.flush().await
    });
    send.await??;
    print.await??;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, ca] = args.as_slice() else {
        eprintln!("usage: tls_client HOST:PORT CA.pem");
        return ExitCode::from(2);
    };
    match run(addr, ca).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tls_client: {err}");
            ExitCode::FAILURE
        }
    }
}
