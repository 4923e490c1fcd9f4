//! `storetwin`: the command-line entry to the simulator.

/// `println!` that returns an error instead of panicking when stdout is closed (as when
/// piped into `head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod bench;
mod compare;
mod kpi;
mod memory;
mod report;
mod run;
mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: memory::CountingAlloc = memory::CountingAlloc;

const EXAMPLES: &str = "\
Examples:
  storetwin run scenarios/weekday.toml --out out/weekday
  storetwin run scenarios/weekday.toml --out out/weekday --replications 10 --seed 7
  storetwin compare scenarios/weekday.toml scenarios/layout-b.toml --replications 20
  storetwin validate scenarios/layout-b.toml
  storetwin schema > storetwin.schema.json
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
    /// Run a scenario: writes report.html, summary.json and timeseries.csv (and an event log).
    Run(run::RunArgs),
    /// Compare two scenarios with common random numbers: each KPI's difference and its 95% CI.
    Compare(compare::CompareArgs),
    /// Check a scenario file without running it; errors point at file, line and column.
    Validate {
        /// The scenario file (TOML).
        scenario: std::path::PathBuf,
    },
    /// Print the JSON Schema of the scenario format (for editors).
    Schema,
    /// Benchmark the simulation kernel.
    #[command(subcommand)]
    Bench(bench::Bench),
}

fn validate(path: &std::path::Path) -> anyhow::Result<()> {
    let scenario = run::load_scenario(path)?;
    let store = &scenario.world.store;
    let floor = &store.floor;
    say!(
        "{}: ok. Store \"{}\": {}x{} cells of {} m, {} SKUs, {} segments, {} lanes, {} devices, {} disruptions; {:.1} h from {:02}:{:02}",
        path.display(),
        store.name,
        floor.width,
        floor.height,
        floor.cell_m,
        store.catalogue.len(),
        store.segments.len(),
        store.lanes.len(),
        store.devices.len(),
        store.disruptions.len(),
        scenario.world.duration.as_secs_f64() / 3600.0,
        scenario.world.open_at_s / 3600,
        scenario.world.open_at_s / 60 % 60,
    )?;
    Ok(())
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
        Command::Run(args) => run::run(args),
        Command::Compare(args) => compare::compare(args),
        Command::Validate { scenario } => validate(&scenario),
        Command::Schema => say!("{}", storetwin_scenarios::json_schema()).map_err(anyhow::Error::from),
        Command::Bench(b) => bench::run(b),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped reading (`storetwin schema | head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
