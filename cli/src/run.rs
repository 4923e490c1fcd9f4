//! `storetwin run`: one scenario, one or more replications, and the files a planner reads
//! (written by `storetwin_report`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use storetwin_actors::store::day::{DayRun, run_day_with};
use storetwin_actors::store::summary::{QueueKpis, StoreKpis};
use storetwin_engine::{Seed, SimTime, run_replications};
use storetwin_eventlog::{EndState, EventLog, Header, Trailer};
use storetwin_report::kpi::{CURRENCY, Unit};
use storetwin_report::stats::estimate;
use storetwin_report::summary::Measured;
use storetwin_scenarios::Scenario;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML): one store, or a chain of stores.
    pub scenario: PathBuf,
    /// Directory for report.html, summary.json and timeseries.csv (created if missing).
    #[arg(long, value_name = "DIR", value_parser = out_dir)]
    pub out: PathBuf,
    /// Seed of the run (replication 0); default: the scenario's `run.seed`.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Number of replications; default: the scenario's `run.replications`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: Option<u32>,
    /// Threads for the replications, or for a chain's shards (default: one per core).
    /// Results are identical for any count.
    #[arg(long, value_name = "T", value_parser = threads)]
    pub threads: Option<usize>,
    /// Also write a compact log of every event of replication 0 to FILE.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `--threads T`: a whole number, at least 1.
pub fn threads(arg: &str) -> Result<usize, String> {
    match arg.parse::<usize>() {
        Ok(0) => Err("--threads must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("--threads must be a whole number: {e}")),
    }
}

/// `--out DIR`: a directory, or a path where one can be made; a file there is refused
/// before anything runs.
pub fn out_dir(arg: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(arg);
    if path.is_file() {
        return Err(format!("{} is a file, expected a directory", path.display()));
    }
    Ok(path)
}

/// Whether `path` is a chain file (else a store scenario).
pub fn is_chain(path: &std::path::Path) -> anyhow::Result<bool> {
    let kind = storetwin_scenarios::file_kind(path).map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))?;
    Ok(kind == storetwin_scenarios::FileKind::Chain)
}

/// Loads a scenario, turning its diagnostics into the compiler-like report.
pub fn load_scenario(path: &std::path::Path) -> anyhow::Result<Scenario> {
    storetwin_scenarios::load(path).map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    if is_chain(&args.scenario)? {
        return crate::chain::run(&args);
    }
    let scenario = load_scenario(&args.scenario)?;
    let seed = Seed(args.seed.unwrap_or(scenario.seed));
    let replications = args.replications.unwrap_or(scenario.replications).max(1);
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let world = &scenario.world;
    let duration = world.duration;

    let bar = progress_bar(u64::from(replications) * duration.as_nanos() / 1_000_000_000);
    let done_s = Mutex::new(vec![0u64; replications as usize]);
    let event_log = Mutex::new(match &args.events {
        Some(path) => {
            Some(EventLog::create(path, &Header::new(&scenario.path, &scenario.hash, seed.0, "storetwin run"))?)
        }
        None => None,
    });

    let allocations_before = crate::memory::allocations();
    let started = Instant::now();
    let results = run_replications(replications, args.threads.unwrap_or_else(default_threads), seed, |i, rep_seed| {
        let mut progress = |t: SimTime| {
            let mut done = done_s.lock().unwrap_or_else(|p| p.into_inner());
            done[i as usize] = t.as_nanos() / 1_000_000_000;
            bar.set_position(done.iter().sum());
        };
        let log = if i == 0 { event_log.lock().unwrap_or_else(|p| p.into_inner()).take() } else { None };
        match log {
            Some(mut log) => {
                let run = run_day_with(world, rep_seed, &mut log, &mut progress);
                (run, Some(log))
            }
            None => (run_day_with(world, rep_seed, &mut (), &mut progress), None),
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let allocations = crate::memory::allocations() - allocations_before;
    bar.finish_and_clear();

    let mut runs = Vec::with_capacity(results.len());
    for (run, log) in results {
        let run = run.map_err(anyhow::Error::new)?;
        if let Some(log) = log {
            let records = log.finish(&Trailer {
                events: run.events,
                event_hash: run.event_hash.to_string(),
                end_ns: run.end.as_nanos(),
                interventions: Vec::new(),
                end_state: EndState::of(&run.last),
            })?;
            tracing::info!(records, "event log written");
        }
        runs.push(run);
    }
    let first = &runs[0];

    let measured = Measured {
        threads: args.threads.unwrap_or_else(default_threads),
        wall_s: wall,
        heap_allocations: Some(allocations as u64),
    };
    let summary = storetwin_report::summary::summary(&scenario, seed, &runs, &measured);
    let summary_path = args.out.join("summary.json");
    storetwin_report::summary::write_summary(&summary_path, &summary)?;
    let csv_path = args.out.join("timeseries.csv");
    storetwin_report::timeseries::write_timeseries(&csv_path, &scenario, first)?;
    let report_path = args.out.join("report.html");
    storetwin_report::html::write_run_report(&report_path, &scenario, &runs, &summary)?;
    let events: u64 = runs.iter().map(|r| r.events).sum();

    let k = &first.kpis;
    let sim_s = duration.as_secs_f64() * f64::from(replications);
    say!(
        "{}: {} replication(s) of {:.1} h, seed {}",
        scenario.path.display(),
        replications,
        duration.as_secs_f64() / 3600.0,
        seed
    )?;
    let door_counters = world
        .store
        .devices
        .iter()
        .any(|d| matches!(d.kind, storetwin_actors::store::spec::DeviceKind::DoorCounter { .. }));
    if runs.len() > 1 {
        say_means(&runs, door_counters)?;
    } else {
        let door = if door_counters {
            format!("door counter {:.0}", k.footfall.sensed)
        } else {
            "no door counters".to_string()
        };
        say!(
            "  footfall {:.0} ({door}), buyers {}, conversion {:.1}%, sales {:.2}",
            k.footfall.truth,
            k.buyers,
            100.0 * k.conversion,
            k.sales
        )?;
        if let Some(worst) = k.queues.iter().max_by(|a, b| a.wait_s.p90.total_cmp(&b.wait_s.p90)) {
            say!("  longest waits at {}: p90 {:.0} s, max {:.0} s", worst.name, worst.wait_s.p90, worst.wait_s.max)?;
        }
    }
    say!("  {}", crowding_line(&runs))?;
    say!(
        "  {} events in {:.2} s wall ({:.0}x real time), {}event_hash {}",
        events,
        wall,
        sim_s / wall.max(1e-9),
        if runs.len() > 1 { "replication 1's " } else { "" },
        first.event_hash
    )?;
    say!("  wrote {} and {}", summary_path.display(), csv_path.display())?;
    say!("  report: {}", report_path.display())?;
    if let Some(p) = &args.events {
        say!("  wrote {}", p.display())?;
    }
    Ok(())
}

/// The headline figures of several replications: each one's mean with its 95% confidence
/// interval, labelled as such. The door counters' figure only if the store has them.
fn say_means(runs: &[DayRun], door_counters: bool) -> anyhow::Result<()> {
    let of = |f: &dyn Fn(&StoreKpis) -> f64| estimate(&runs.iter().map(|r| f(&r.kpis)).collect::<Vec<_>>());
    let count = |f: &dyn Fn(&StoreKpis) -> f64| Unit::Count.plus_minus(&of(f));
    say!("  mean of {} replications ± the half-width of its 95% confidence interval (95% CI):", runs.len())?;
    let door = if door_counters {
        format!("door counter {}", count(&|k| k.footfall.sensed))
    } else {
        "no door counters".to_string()
    };
    say!(
        "  footfall {} ({door}), buyers {}, conversion {}%",
        count(&|k| k.footfall.truth),
        count(&|k| k.buyers as f64),
        Unit::Fraction.plus_minus(&of(&|k| k.conversion)),
    )?;
    say!("  sales {} ({CURRENCY})", Unit::Money.plus_minus(&of(&|k| k.sales)))?;
    // Queues are the same in every replication (they come from the scenario).
    let queues = runs[0].kpis.queues.len();
    let waits = |q: usize, f: &dyn Fn(&QueueKpis) -> f64| of(&|k| k.queues.get(q).map_or(0.0, f));
    let worst =
        (0..queues).max_by(|a, b| waits(*a, &|q| q.wait_s.p90).mean.total_cmp(&waits(*b, &|q| q.wait_s.p90).mean));
    if let Some(q) = worst {
        say!(
            "  longest waits at {}: p90 {} s, max {} s",
            runs[0].kpis.queues[q].name,
            Unit::Seconds.plus_minus(&waits(q, &|q| q.wait_s.p90)),
            Unit::Seconds.plus_minus(&waits(q, &|q| q.wait_s.max)),
        )?;
    }
    Ok(())
}

/// One line on crowding: the densest zone at its peak, the seconds each shopper lost to
/// crowds, and the kiosks' gave-ups; means with their 95% intervals over several
/// replications.
fn crowding_line(runs: &[DayRun]) -> String {
    let of = |f: &dyn Fn(&StoreKpis) -> f64| estimate(&runs.iter().map(|r| f(&r.kpis)).collect::<Vec<_>>());
    let first = &runs[0].kpis;
    let limit = first.crowding.max_density_per_m2;
    // Zones are the same in every replication (they come from the scenario).
    let peak = |z: usize| of(&|k| k.crowding.zones.get(z).map_or(0.0, |z| z.peak_density));
    let densest = (0..first.crowding.zones.len()).max_by(|a, b| peak(*a).mean.total_cmp(&peak(*b).mean));
    let mut parts = Vec::new();
    if let Some(z) = densest {
        let p = peak(z);
        let over = if p.mean > limit { format!(" (limit {limit})") } else { String::new() };
        parts.push(format!("peak {} people/m² in {}{over}", Unit::Number.plus_minus(&p), first.crowding.zones[z].name));
    }
    parts.push(format!(
        "{} s slowed and {} s blocked per shopper",
        Unit::Seconds.plus_minus(&of(&|k| k.crowding.slowed_s_per_shopper)),
        Unit::Seconds.plus_minus(&of(&|k| k.crowding.blocked_s_per_shopper)),
    ));
    if !first.kiosks.is_empty() {
        let gave_up = of(&|k| k.kiosks.iter().map(|q| q.reneged as f64).sum());
        let noun = if first.kiosks.len() > 1 { "kiosks" } else { "kiosk" };
        parts.push(format!("{noun}: {} gave up", Unit::Count.plus_minus(&gave_up)));
    }
    format!("crowding: {}", parts.join(", "))
}

fn progress_bar(total_sim_s: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total_sim_s);
    bar.set_style(
        ProgressStyle::with_template("{spinner} simulating [{bar:40}] {percent}% sim time, {elapsed} wall")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
