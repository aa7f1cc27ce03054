//! sealcat: how a person meets sealstream. `sealcat bench` runs a loopback load test of
//! sealstream-tls against tokio-rustls and plain TCP in one process and prints the ratios.

#![forbid(unsafe_code)]

mod bench;

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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load-test sealstream-tls, tokio-rustls and plain TCP over loopback, in one run.
    Bench(bench::Options),
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
            let text = err.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!(
                "sealcat: {} (see sealcat --help)",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Bench(options) => bench::run(options, GLOBAL),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sealcat: {err}");
            ExitCode::FAILURE
        }
    }
}
