//! What sealcat reports while it runs: `tracing` output on stderr under `RUST_LOG`, and with
//! `--console` a tokio-console server showing every task sealcat spawns, by name.
//!
//! tokio instruments its tasks for the console only when built with `--cfg tokio_unstable`, so
//! `--console` needs a binary built for it:
//!
//! ```text
//! RUSTFLAGS="--cfg tokio_unstable" cargo build --release -p sealcat --features console
//! ```
//!
//! The console listens on 127.0.0.1:6669, or where `TOKIO_CONSOLE_BIND` says.

use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, Layer, Registry};

#[cfg(all(feature = "console", not(tokio_unstable)))]
compile_error!(
    "sealcat's `console` feature needs tokio's task instrumentation: build with \
     RUSTFLAGS=\"--cfg tokio_unstable\""
);

/// How to build a sealcat that serves tokio-console (said by a build without it).
#[cfg(not(feature = "console"))]
const CONSOLE_BUILD: &str =
    "RUSTFLAGS=\"--cfg tokio_unstable\" cargo build --release -p sealcat --features console";

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Install the subscribers asked for: `RUST_LOG` output, the console server. Nothing is
/// installed when neither is.
pub(crate) fn init(console: bool) -> Result<(), String> {
    let mut layers: Vec<BoxedLayer> = Vec::new();
    // RUST_LOG=sealstream=debug shows records, controls and alerts as they go.
    if std::env::var_os("RUST_LOG").is_some() {
        layers.push(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(EnvFilter::from_default_env())
                .boxed(),
        );
    }
    if console {
        layers.push(console_layer()?);
    }
    if layers.is_empty() {
        return Ok(());
    }
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|e| format!("cannot install the tracing subscriber: {e}"))
}

/// The console's layer, its server started on a thread of its own (so a busy benchmark cannot
/// starve it).
#[cfg(feature = "console")]
fn console_layer() -> Result<BoxedLayer, String> {
    check_bind_address()?;
    let (layer, server) = console_subscriber::ConsoleLayer::builder()
        .with_default_env()
        .build();
    let addr = server_address();
    std::thread::Builder::new()
        .name("tokio-console".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => {
                    if let Err(e) = runtime.block_on(server.serve()) {
                        eprintln!("sealcat: the tokio-console server stopped: {e}");
                    }
                }
                Err(e) => eprintln!("sealcat: cannot start the tokio-console server: {e}"),
            }
        })
        .map_err(|e| format!("cannot start the tokio-console server: {e}"))?;
    eprintln!("sealcat: tokio-console server on {addr} (run `tokio-console http://{addr}`)");
    // The console needs tokio's own task and resource events, and nothing else.
    Ok(layer
        .with_filter(EnvFilter::new("tokio=trace,runtime=trace"))
        .boxed())
}

/// console-subscriber panics on a `TOKIO_CONSOLE_BIND` it cannot resolve: say what is wrong
/// with it first, in one line.
#[cfg(feature = "console")]
fn check_bind_address() -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let Ok(bind) = std::env::var("TOKIO_CONSOLE_BIND") else {
        return Ok(());
    };
    match bind.to_socket_addrs().map(|mut addrs| addrs.next()) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(format!(
            "TOKIO_CONSOLE_BIND={bind:?} resolves to no address"
        )),
        Err(e) => Err(format!(
            "TOKIO_CONSOLE_BIND={bind:?} is not HOST:PORT (such as 127.0.0.1:6669): {e}"
        )),
    }
}

/// Where the console server listens: `TOKIO_CONSOLE_BIND`, or console-subscriber's default.
#[cfg(feature = "console")]
fn server_address() -> String {
    std::env::var("TOKIO_CONSOLE_BIND").unwrap_or_else(|_| {
        format!(
            "{}:{}",
            console_subscriber::Server::DEFAULT_IP,
            console_subscriber::Server::DEFAULT_PORT
        )
    })
}

#[cfg(not(feature = "console"))]
fn console_layer() -> Result<BoxedLayer, String> {
    Err(format!(
        "--console: this sealcat was built without tokio-console support; build it with {CONSOLE_BUILD}"
    ))
}
