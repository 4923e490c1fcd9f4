//! `storetwin bench`: kernel benchmarks a user can run and compare.

use std::time::Instant;

use anyhow::{Context as _, ensure};
use clap::{Args, Subcommand};
use serde::Serialize;
use storetwin_engine::phold::{Phold, PholdConfig};
use storetwin_engine::{RunLimit, Seed, SimTime, Simulation};

use crate::memory;

#[derive(Subcommand, Debug)]
pub enum Bench {
    /// PHOLD with ROSS defaults: every LP starts with one event; each event goes to a
    /// uniformly chosen LP with probability --remote (else to itself), Exp(1) + 1 later.
    Phold(PholdArgs),
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("stop").required(true).args(["events", "end_time"]))]
pub struct PholdArgs {
    /// Number of logical processes (actors).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..u32::MAX as i64))]
    lps: u32,
    /// Stop after this many events.
    #[arg(long, value_name = "E")]
    events: Option<u64>,
    /// Stop at this simulated time, in PHOLD time units.
    #[arg(long, value_name = "T")]
    end_time: Option<f64>,
    /// Probability that an event goes to a random LP.
    #[arg(long, value_name = "P", default_value_t = 0.25)]
    remote: f64,
    /// Run seed.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// What `storetwin bench phold --json` prints.
#[derive(Serialize, Debug)]
struct PholdReport {
    peer: &'static str,
    lps: u32,
    remote: f64,
    seed: u64,
    events: u64,
    end_time: f64,
    wall_s: f64,
    events_per_sec: f64,
    engine_bytes: usize,
    engine_bytes_per_lp: f64,
    event_hash: String,
    version: &'static str,
}

pub fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Phold(args) => phold(args),
    }
}

fn phold(args: PholdArgs) -> anyhow::Result<()> {
    ensure!((0.0..=1.0).contains(&args.remote), "--remote must be a probability in [0, 1], got {}", args.remote);
    let limit = match (args.events, args.end_time) {
        (Some(events), _) => RunLimit::events(events),
        (None, Some(t)) => {
            ensure!(t.is_finite() && t >= 0.0, "--end-time must be a non-negative number of time units, got {t}");
            RunLimit::until(SimTime::from_secs_f64(t))
        }
        (None, None) => unreachable!("clap requires --events or --end-time"),
    };
    let config = PholdConfig { remote: args.remote, ..PholdConfig::ross(args.lps) };

    let before = memory::live();
    memory::reset_peak();
    let started = Instant::now();
    let mut sim = Simulation::new(Phold::new(config), Seed(args.seed));
    sim.run(limit).context("PHOLD run failed")?;
    let wall = started.elapsed().as_secs_f64();
    let engine_bytes = memory::peak().saturating_sub(before);

    let report = PholdReport {
        peer: "storetwin",
        lps: args.lps,
        remote: args.remote,
        seed: args.seed,
        events: sim.events_delivered(),
        end_time: sim.now().as_secs_f64(),
        wall_s: wall,
        events_per_sec: sim.events_delivered() as f64 / wall.max(1e-9),
        engine_bytes,
        engine_bytes_per_lp: engine_bytes as f64 / f64::from(args.lps),
        event_hash: sim.event_hash().to_string(),
        version: env!("CARGO_PKG_VERSION"),
    };
    if args.json {
        say!("{}", serde_json::to_string(&report)?)?;
    } else {
        say!("PHOLD  lps {}  remote {}  seed {}", report.lps, report.remote, report.seed)?;
        say!("  events           {:>14}", report.events)?;
        say!("  end time         {:>14.3} time units", report.end_time)?;
        say!("  wall             {:>14.3} s", report.wall_s)?;
        say!("  events/s         {:>14.0}", report.events_per_sec)?;
        say!("  engine memory    {:>14} bytes ({:.1} per LP)", report.engine_bytes, report.engine_bytes_per_lp)?;
        say!("  event_hash       {:>14}", report.event_hash)?;
    }
    Ok(())
}
