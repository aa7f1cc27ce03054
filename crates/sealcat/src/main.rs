//! sealcat: how a person meets sealstream. `sealcat connect` and `sealcat listen` put a sealed
//! stream between the terminal (or a command) and a peer (`connect --imap` logs in to an IMAP
//! server first, as `imtest` does); `sealcat bench` runs a loopback load test of
//! sealstream-tls against tokio-rustls and plain TCP in one process and prints the ratios.

#![forbid(unsafe_code)]

mod bench;
mod net;
mod observe;
mod tasks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts heap allocations so `bench` can report allocations per record.
#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Sealed streams from the command line.
#[derive(Debug, Parser)]
#[command(name = "sealcat", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Serve tokio-console (127.0.0.1:6669, or TOKIO_CONSOLE_BIND) with every task sealcat
    /// spawns, by name. Needs a build with the console feature: RUSTFLAGS="--cfg tokio_unstable"
    /// cargo build --release -p sealcat --features console
    #[arg(long, global = true)]
    console: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect to a peer: stdin to it, its data to stdout.
    Connect(net::connect::Options),
    /// Accept connections: relay one to stdin/stdout, or --echo, or --exec a command for each.
    Listen(net::listen::Options),
    /// Load-test sealstream-tls, tokio-rustls and plain TCP over loopback, in one run.
    Bench(bench::Options),
}

/// Run `future` on a runtime of two worker threads.
fn block_on<F: std::future::Future<Output = Result<(), String>>>(future: F) -> Result<(), String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?
        .block_on(future)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // One line, like every other sealcat error; `--help` has the rest.
            // clap puts the missing arguments on the lines after the first; the usage and tips
            // follow an empty line.
            let text = err.to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            eprintln!(
                "sealcat: {} (see sealcat --help)",
                message.join(" ").trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    if let Err(err) = observe::init(cli.console) {
        eprintln!("sealcat: {err}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Connect(options) => block_on(net::connect::run(options)),
        Command::Listen(options) => block_on(net::listen::run(options)),
        Command::Bench(options) => bench::run(options, GLOBAL).map_err(|err| err.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sealcat: {err}");
            ExitCode::FAILURE
        }
    }
}
