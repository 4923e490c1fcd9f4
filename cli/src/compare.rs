//! `storetwin compare A B`: is B better than A, by how much, and are we sure?
//!
//! Both scenarios run the same replications with common random numbers: replication `i`
//! of A and of B use the same seed, and every actor draws from a stream fixed by (seed,
//! actor id), with shoppers numbered first, so the same shoppers arrive at the same times
//! with the same shopping lists in both. The difference of each KPI is then estimated
//! from the paired per-replication differences (Student's t, 95%), which cancels most of
//! the noise the two runs share. `--independent` gives B its own seeds and Welch's
//! interval instead, to see what the pairing buys. With `--out`, the comparison is also
//! written as `comparison.json` and as the page `compare.html` (`report/comparison.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use serde_json::json;
use storetwin_actors::day::{DayRun, run_day};
use storetwin_actors::spec::WorldSpec;
use storetwin_engine::{Seed, run_replications};

use crate::report::{Comparison, Side};
use crate::run::{default_threads, load_scenario, out_dir, threads};
use crate::stats::{Estimate, estimate, welch};
use storetwin_eventlog::atomic::write_atomic;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The baseline scenario.
    a: PathBuf,
    /// The alternative scenario.
    b: PathBuf,
    /// Replications of each scenario.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    replications: u32,
    /// Threads for the replications (results are identical for any count).
    #[arg(long, value_name = "T", default_value_t = default_threads(), value_parser = threads)]
    threads: usize,
    /// Base seed; default: A's `run.seed`.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Give B its own seeds (no common random numbers) and use Welch's interval.
    #[arg(long)]
    independent: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write DIR/comparison.json and the page DIR/compare.html.
    #[arg(long, value_name = "DIR", value_parser = out_dir)]
    out: Option<PathBuf>,
}

/// One KPI compared.
#[derive(Serialize, Debug)]
pub struct Row {
    pub kpi: String,
    pub a: f64,
    pub b: f64,
    /// B − A, with its 95% confidence interval.
    pub diff: Estimate,
    /// The interval excludes zero.
    pub significant: bool,
}

/// Seed offset for B's replications under `--independent`.
const INDEPENDENT: u64 = 0x9E37_79B9_7F4A_7C15;

pub fn compare(args: CompareArgs) -> anyhow::Result<()> {
    let a = load_scenario(&args.a)?;
    let b = load_scenario(&args.b)?;
    let seed = Seed(args.seed.unwrap_or(a.seed));
    let seed_b = if args.independent { Seed(seed.0 ^ INDEPENDENT) } else { seed };
    let n = args.replications;
    let (first_a, flat_a) = replicate(&a.world, n, args.threads, seed).context("scenario A failed")?;
    let (first_b, flat_b) = replicate(&b.world, n, args.threads, seed_b).context("scenario B failed")?;

    let mut rows = Vec::new();
    for kpi in flat_a[0].keys().filter(|k| flat_b[0].contains_key(*k)) {
        let va: Vec<f64> = flat_a.iter().map(|f| f[kpi]).collect();
        let vb: Vec<f64> = flat_b.iter().map(|f| f[kpi]).collect();
        let diff = if args.independent {
            welch(&va, &vb)
        } else {
            let d: Vec<f64> = va.iter().zip(&vb).map(|(x, y)| y - x).collect();
            estimate(&d)
        };
        let significant = diff.low > 0.0 || diff.high < 0.0;
        rows.push(Row { kpi: kpi.clone(), a: estimate(&va).mean, b: estimate(&vb).mean, diff, significant });
    }

    let report = json!({
        "a": { "scenario": a.path.display().to_string(), "scenario_hash": a.hash },
        "b": { "scenario": b.path.display().to_string(), "scenario_hash": b.hash },
        "seed": seed.0,
        "replications": n,
        "common_random_numbers": !args.independent,
        "kpis": rows,
    });
    let mut page = None;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        write_atomic(&dir.join("comparison.json"), |w| {
            serde_json::to_writer_pretty(&mut *w, &report)?;
            w.write_all(b"\n")
        })?;
        let path = dir.join("compare.html");
        let comparison = Comparison {
            a: Side { scenario: &a, run: &first_a },
            b: Side { scenario: &b, run: &first_b },
            seed,
            replications: n,
            paired: !args.independent,
            rows: &rows,
        };
        crate::report::write_comparison(&path, &comparison)?;
        page = Some(path);
    }
    if args.json {
        say!("{}", serde_json::to_string(&report)?)?;
        return Ok(());
    }
    let pairing = if args.independent { "independent seeds, Welch" } else { "common random numbers, paired" };
    say!(
        "A: {}\nB: {}\n{n} replications each, seed {seed}, {pairing}; differences are B - A with 95% CI\n",
        a.path.display(),
        b.path.display()
    )?;
    let width = rows.iter().map(|r| r.kpi.len()).max().unwrap_or(3).max(3);
    say!("{:<width$} {:>12} {:>12} {:>12} {:>24}  ", "KPI", "A", "B", "B - A", "95% CI")?;
    for r in &rows {
        let mark = if r.significant { "*" } else { "" };
        say!(
            "{:<width$} {:>12.3} {:>12.3} {:>12.3} {:>24}  {mark}",
            r.kpi,
            r.a,
            r.b,
            r.diff.mean,
            format!("[{:.3}, {:.3}]", r.diff.low, r.diff.high)
        )?;
    }
    say!("\n* the 95% confidence interval of the difference excludes zero")?;
    if let Some(path) = page {
        say!("page: {}", path.display())?;
    }
    Ok(())
}

/// Runs `n` replications of `world` from `seed`: replication 0's whole run (for the page's
/// floor and charts) and every replication's flat KPIs, in replication order.
fn replicate(
    world: &WorldSpec,
    n: u32,
    threads: usize,
    seed: Seed,
) -> anyhow::Result<(DayRun, Vec<BTreeMap<String, f64>>)> {
    let results = run_replications(n, threads, seed, |i, s| {
        run_day(world, s).map(|run| {
            let flat = run.kpis.flat();
            (flat, (i == 0).then_some(run))
        })
    });
    let mut first = None;
    let mut flats = Vec::with_capacity(results.len());
    for result in results {
        let (flat, run) = result?;
        first = first.or(run);
        flats.push(flat);
    }
    Ok((first.context("no replication ran")?, flats))
}
