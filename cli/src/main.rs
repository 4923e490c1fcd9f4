//! `storetwin`: the command-line entry to the simulator.

mod bench;
mod memory;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: memory::CountingAlloc = memory::CountingAlloc;

const EXAMPLES: &str = "\
Examples:
  storetwin bench phold --lps 1024 --events 10000000
  storetwin bench phold --lps 65536 --end-time 100 --json
  RUST_LOG=debug storetwin bench phold --lps 64 --events 1000

Logs go to stderr; set RUST_LOG (error, warn, info, debug, trace) to see more.";

/// storetwin: an actor-based, deterministic simulation and digital twin of smart retail
/// stores and store chains.
#[derive(Parser, Debug)]
#[command(name = "storetwin", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Benchmark the simulation kernel.
    #[command(subcommand)]
    Bench(bench::Bench),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    tracing::debug!(?cli, "starting");
    let result = match cli.command {
        Command::Bench(b) => bench::run(b),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
