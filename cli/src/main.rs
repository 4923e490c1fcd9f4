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
mod chain;
mod compare;
mod load;
mod memory;
mod run;
mod serve;

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
  storetwin validate scenarios/weekday.toml scenarios/layout-b.toml
  storetwin run scenarios/chain-3-stores.toml --out out/chain-3-stores --threads 2
  storetwin validate scenarios/chain-3-stores.toml
  storetwin compare scenarios/chain-3-stores.toml scenarios/chain-3-stores-more-pickers.toml --replications 10
  storetwin schema > storetwin.schema.json
  storetwin schema --chain > storetwin-chain.schema.json
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
    /// Run a scenario: writes report.html, summary.json and timeseries.csv (and an event log);
    /// a chain file runs every store and the central platform.
    Run(run::RunArgs),
    /// Compare two scenarios with common random numbers: each KPI's difference and its 95% CI.
    Compare(compare::CompareArgs),
    /// Check scenario files without running them; errors point at file, line and column.
    /// Lists the defaults each file relies on.
    Validate {
        /// The scenario files (TOML); each is checked and reported on its own.
        #[arg(required = true)]
        scenarios: Vec<std::path::PathBuf>,
    },
    /// Print the JSON Schema of store scenario files (with --chain: of chain files), for
    /// editors.
    Schema {
        /// The schema of chain files.
        #[arg(long)]
        chain: bool,
    },
    /// Load-test a chain's flash sale, k6-style: the file's [load] scenarios bring the
    /// shoppers, its thresholds decide the exit code (0 pass, 99 thresholds crossed, 104
    /// invalid scenario, 111 a broken invariant).
    Load(load::LoadArgs),
    /// Serve a live twin of a store: a paced session with a browser view, a WebSocket
    /// stream, a REST API for interventions, sensor readings and what-if forecasts, and
    /// Prometheus metrics.
    Serve(Box<serve::ServeArgs>),
    /// Replay a session log written by `storetwin serve` and check it is the identical run.
    Replay(serve::ReplayArgs),
    /// Benchmark the simulation kernel.
    #[command(subcommand)]
    Bench(bench::Bench),
}

/// Checks each file, printing what it holds and the defaults it relies on (or its
/// problems, on stderr); fails if any file failed.
fn validate(paths: &[std::path::PathBuf]) -> anyhow::Result<()> {
    let mut failed = Vec::new();
    for path in paths {
        if run::is_chain(path)? {
            match chain::load_chain(path) {
                Ok(c) => describe_chain(path, &c)?,
                Err(e) if paths.len() == 1 => return Err(e),
                Err(e) => {
                    eprintln!("error: {e}");
                    failed.push(path.display().to_string());
                }
            }
            continue;
        }
        match storetwin_scenarios::load(path) {
            Ok(scenario) => describe(path, &scenario)?,
            // One file: its problems are the error.
            Err(e) if paths.len() == 1 => return Err(anyhow::anyhow!("{:?}", miette::Report::new(e))),
            Err(e) => {
                eprintln!("error: {:?}", miette::Report::new(e));
                failed.push(path.display().to_string());
            }
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(anyhow::anyhow!("{} of {} files are not valid scenarios: {}", failed.len(), paths.len(), failed.join(", ")))
}

fn describe(path: &std::path::Path, scenario: &storetwin_scenarios::Scenario) -> anyhow::Result<()> {
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
    if !scenario.defaults.is_empty() {
        say!("  defaults applied (not in the file):")?;
        for line in default_lines(&scenario.defaults) {
            say!("    {line}")?;
        }
    }
    Ok(())
}

/// The applied defaults, one line per key and value: items of an array that take the same
/// default share a line (`lane[L1, L2].open_at_start = true`).
fn describe_chain(path: &std::path::Path, chain: &storetwin_scenarios::Chain) -> anyhow::Result<()> {
    let spec = &chain.spec;
    let franchised = spec.stores.iter().filter(|s| s.franchise_bps.is_some()).count();
    say!(
        "{}: ok. Chain \"{}\": {} stores ({} franchised), {} SKUs, {} online segments, {} coupon campaigns, \
         {} partitions; {:.1} h from {:02}:{:02}; links {:.0} ms and more",
        path.display(),
        spec.name,
        spec.stores.len(),
        franchised,
        spec.catalogue.len(),
        spec.online.len(),
        spec.campaigns.len(),
        spec.partitions.len(),
        spec.duration.as_secs_f64() / 3600.0,
        spec.open_at_s / 3600,
        spec.open_at_s / 60 % 60,
        spec.platform.latency_min.as_secs_f64() * 1000.0,
    )?;
    if !chain.defaults.is_empty() {
        say!("  defaults applied (not in the file):")?;
        for line in default_lines(&chain.defaults) {
            say!("    {line}")?;
        }
    }
    Ok(())
}

fn default_lines(defaults: &[storetwin_scenarios::AppliedDefault]) -> Vec<String> {
    /// The array, the key after the item, the value and the note of a line.
    type Line<'a> = (String, String, String, &'a str);
    // Each line with its items, in first-seen order.
    let mut groups: Vec<(Line<'_>, Vec<String>)> = Vec::new();
    for d in defaults {
        let (array, item, rest) = match (d.key.find('['), d.key.find("].")) {
            (Some(open), Some(close)) if open < close => {
                (d.key[..open].to_owned(), d.key[open + 1..close].to_owned(), d.key[close + 2..].to_owned())
            }
            _ => (d.key.clone(), String::new(), String::new()),
        };
        let group = (array, rest, d.value.clone(), d.note);
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, items)) => items.push(item),
            None => groups.push((group, vec![item])),
        }
    }
    groups
        .into_iter()
        .map(|((array, rest, value, note), items)| {
            let key = if rest.is_empty() { array } else { format!("{array}[{}].{rest}", items.join(", ")) };
            format!("{key} = {value}  ({note})")
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // rumqttd (the embedded MQTT broker) logs each client's disconnect as an error; the
    // server reports the broker's failures itself.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rumqttd=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    tracing::debug!(?cli, "starting");
    let result = match cli.command {
        Command::Load(args) => return load::run(&args),
        Command::Run(args) => run::run(args),
        Command::Compare(args) => compare::compare(args),
        Command::Validate { scenarios } => validate(&scenarios),
        Command::Schema { chain } => say!(
            "{}",
            if chain { storetwin_scenarios::chain_json_schema() } else { storetwin_scenarios::json_schema() }
        )
        .map_err(anyhow::Error::from),
        Command::Serve(args) => serve::serve(*args),
        Command::Replay(args) => serve::replay(args),
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
