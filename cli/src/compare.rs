//! `storetwin compare A B`: is B better than A, by how much, and are we sure?
//!
//! Both scenarios run the same replications with common random numbers: replication `i`
//! of A and of B use the same seed, and every actor draws from a stream fixed by (seed,
//! actor id), with shoppers numbered first, so the same shoppers arrive at the same times
//! with the same shopping lists in both. The difference of each KPI is then estimated
//! from the paired per-replication differences (Student's t, 95%), which cancels most of
//! the noise the two runs share. `--independent` gives B its own seeds and Welch's
//! interval instead, to see what the pairing buys. Two chain files compare the same way:
//! each store's shard draws from the replication's seed and its position in the chain, so
//! a store at the same position sees the same shoppers in both; the KPIs are the chain's
//! (`storetwin_report::kpi::chain_flat`), each store's under its name, and a store only one
//! chain has is listed apart. A chain file is not compared with a store scenario. The
//! estimation and the files
//! (`comparison.json` and the page `compare.html`, with `--out`) are
//! `storetwin_report::compare`'s and `storetwin_report::html`'s; this file runs the
//! replications and prints the table.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use storetwin_actors::chain::run::{ChainRun, run_chain};
use storetwin_actors::chain::spec::ChainSpec;
use storetwin_actors::store::day::{DayRun, run_day};
use storetwin_actors::store::pair::run_day_until;
use storetwin_actors::store::spec::WorldSpec;
use storetwin_actors::store::wire::{clock, parse_clock};
use storetwin_engine::{Seed, SimTime, run_replications};
use storetwin_report::compare::{Comparison, Differences, Row, Side, differences, row_decimals};
use storetwin_report::kpi::CURRENCY;
use storetwin_report::stats;

use crate::chain::load_chain;
use crate::run::{default_threads, is_chain, load_scenario, out_dir, threads};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The baseline scenario.
    a: PathBuf,
    /// The alternative scenario.
    b: PathBuf,
    /// Replications of each scenario.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    replications: u32,
    /// Threads for the replications, or for a chain's shards (default: one per core).
    /// Results are identical for any count.
    #[arg(long, value_name = "T", value_parser = threads)]
    threads: Option<usize>,
    /// Base seed; default: A's `run.seed`.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Give B its own seeds (no common random numbers) and use Welch's interval.
    #[arg(long)]
    independent: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Compare the day up to this store clock time only (every event before it, the books
    /// closed there): what `storetwin-twin --compare A B --at` shows at that moment.
    #[arg(long, value_name = "HH:MM[:SS]", value_parser = parse_clock)]
    until: Option<u32>,
    /// Also write DIR/comparison.json and the page DIR/compare.html.
    #[arg(long, value_name = "DIR", value_parser = out_dir)]
    out: Option<PathBuf>,
}

/// Seed offset for B's replications under `--independent`.
const INDEPENDENT: u64 = 0x9E37_79B9_7F4A_7C15;

/// The widest line the console table writes.
pub const WIDTH: usize = 100;

pub fn compare(args: CompareArgs) -> anyhow::Result<()> {
    match (is_chain(&args.a)?, is_chain(&args.b)?) {
        (true, true) => return compare_chains(&args),
        (false, false) => {}
        (a_chain, _) => {
            let (chain, store) = if a_chain { (&args.a, &args.b) } else { (&args.b, &args.a) };
            anyhow::bail!(
                "cannot compare a chain with a store: {} is a chain file and {} a store scenario; compare two \
                 chain files (storetwin compare CHAIN_A.toml CHAIN_B.toml) or two store scenarios",
                chain.display(),
                store.display()
            );
        }
    }
    let a = load_scenario(&args.a)?;
    let b = load_scenario(&args.b)?;
    let seed = Seed(args.seed.unwrap_or(a.seed));
    let seed_b = if args.independent { Seed(seed.0 ^ INDEPENDENT) } else { seed };
    let n = args.replications;
    // The same store clock time on both sides (sim time counts from each one's opening).
    let (until, until_b) = match args.until {
        Some(at_s) => (Some(until_of(at_s, &a.world)?), Some(until_of(at_s, &b.world)?)),
        None => (None, None),
    };
    let threads = args.threads.unwrap_or_else(default_threads);
    let (first_a, flat_a) = replicate(&a.world, n, threads, seed, until).context("scenario A failed")?;
    let (first_b, flat_b) = replicate(&b.world, n, threads, seed_b, until_b).context("scenario B failed")?;
    let shared_lines = storetwin_report::kpi::shared_lines([&first_a.kpis, &first_b.kpis]);
    let found = differences(&flat_a, &flat_b, args.independent, &shared_lines);
    let comparison = Comparison {
        a: Side::Store { scenario: &a, run: &first_a },
        b: Side::Store { scenario: &b, run: &first_b },
        seed,
        replications: n,
        until,
        paired: !args.independent,
        rows: &found.rows,
        only_a: &found.only_a,
        only_b: &found.only_b,
    };

    write_and_print(&args, &comparison, &found, "store's")
}

/// `--until`'s time `at_s` (seconds after midnight) as sim time in `world`'s day, which
/// must be open then.
fn until_of(at_s: u32, world: &WorldSpec) -> anyhow::Result<SimTime> {
    let open = world.open_at_s;
    let end = SimTime::ZERO.saturating_add(world.duration);
    let at = at_s.checked_sub(open).map(|s| SimTime::from_secs(u64::from(s))).filter(|t| *t <= end);
    at.with_context(|| {
        format!(
            "--until {}: {} is open from {} to {}",
            clock(0, SimTime::from_secs(u64::from(at_s))),
            world.store.name,
            clock(open, SimTime::ZERO),
            clock(open, end)
        )
    })
}

/// `storetwin compare` of two chain files: both run the same replication seeds, one
/// replication after another, each on `--threads` shard threads.
fn compare_chains(args: &CompareArgs) -> anyhow::Result<()> {
    if args.until.is_some() {
        anyhow::bail!("--until compares two store scenarios up to a time; chain files are compared over the whole run");
    }
    let a = load_chain(&args.a)?;
    let b = load_chain(&args.b)?;
    let seed = Seed(args.seed.unwrap_or(a.seed));
    let seed_b = if args.independent { Seed(seed.0 ^ INDEPENDENT) } else { seed };
    let n = args.replications;
    let (first_a, flat_a) =
        replicate_chain(&a.spec, n, args.threads.unwrap_or_else(default_threads), seed).context("chain A failed")?;
    let (first_b, flat_b) =
        replicate_chain(&b.spec, n, args.threads.unwrap_or_else(default_threads), seed_b).context("chain B failed")?;
    let found = differences(&flat_a, &flat_b, args.independent, &Default::default());
    let comparison = Comparison {
        a: Side::Chain { chain: &a, run: &first_a },
        b: Side::Chain { chain: &b, run: &first_b },
        seed,
        replications: n,
        until: None,
        paired: !args.independent,
        rows: &found.rows,
        only_a: &found.only_a,
        only_b: &found.only_b,
    };
    write_and_print(args, &comparison, &found, "chain's")
}

/// Writes `comparison.json` and `compare.html` (with `--out`) and prints the table, or the
/// JSON with `--json`. `whose` says whose currency the money is in.
fn write_and_print(
    args: &CompareArgs,
    comparison: &Comparison<'_>,
    found: &Differences,
    whose: &str,
) -> anyhow::Result<()> {
    let (a, b, seed, n) = (comparison.a.path(), comparison.b.path(), comparison.seed, comparison.replications);
    let mut page = None;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        storetwin_report::compare::write_comparison_json(&dir.join("comparison.json"), comparison)?;
        let path = dir.join("compare.html");
        storetwin_report::html::write_comparison_page(&path, comparison)?;
        page = Some(path);
    }
    if args.json {
        say!("{}", serde_json::to_string(&storetwin_report::compare::comparison_json(comparison))?)?;
        return Ok(());
    }
    let pairing = if args.independent {
        "independent seeds (Welch's interval)"
    } else {
        "common random numbers (paired differences)"
    };
    say!("A: {}\nB: {}", a.display(), b.display())?;
    match comparison.until {
        Some(t) => say!(
            "{n} replications of each, seed {seed}, {pairing}, the day up to {}",
            clock(comparison.a.open_at_s(), t)
        )?,
        None => say!("{n} replications of each, seed {seed}, {pairing}")?,
    }
    say!("B - A: the difference of the means, with its 95% confidence interval (CI)\n")?;
    for line in table_lines(found) {
        say!("{line}")?;
    }
    say!("\n* the 95% CI of the difference excludes zero. Percentages differ in percentage points.")?;
    say!("Money is in the {whose} {CURRENCY} (the scenario files name no currency).")?;
    if let Some(path) = page {
        say!("page: {}", path.display())?;
    }
    Ok(())
}

/// A row's figures as written: A, B, B − A and the interval's ends, all with
/// [`row_decimals`].
fn written(row: &Row) -> [String; 5] {
    let s = row.unit.scale();
    let diff = row.diff.scaled(s);
    let d = row_decimals(row);
    [
        stats::fixed(row.a * s, d),
        stats::fixed(row.b * s, d),
        stats::signed(diff.mean, d),
        stats::signed(diff.low, d),
        stats::signed(diff.high, d),
    ]
}

/// The console table: a heading per group, its KPIs below it, and the KPIs only one
/// scenario has at the end. No line is wider than [`WIDTH`]: a label that does not fit
/// its column is written on a line of its own, its figures on the next.
fn table_lines(found: &Differences) -> Vec<String> {
    const INDENT: &str = "  ";
    let cells: Vec<[String; 5]> = found.rows.iter().map(written).collect();
    let width =
        |i: usize, header: &str| cells.iter().map(|c| c[i].chars().count()).max().unwrap_or(0).max(header.len());
    let (wa, wb, wd) = (width(0, "A"), width(1, "B"), width(2, "B - A"));
    let (wl, wh) = (width(3, ""), width(4, ""));
    let figures_w = 2 + wa + 2 + wb + 2 + wd + 2 + (wl + wh + 4) + 3;
    let longest = found.rows.iter().map(|r| INDENT.len() + r.label.chars().count()).max().unwrap_or(3);
    let label_w = longest.min(WIDTH.saturating_sub(figures_w)).max(24);
    let figures = |c: &[String; 5], mark: &str| {
        format!("  {:>wa$}  {:>wb$}  {:>wd$}  [{:>wl$}, {:>wh$}]{mark}", c[0], c[1], c[2], c[3], c[4])
    };
    let mut lines = vec![format!("{:<label_w$}  {:>wa$}  {:>wb$}  {:>wd$}  95% CI", "KPI", "A", "B", "B - A")];
    let mut group = None;
    for (row, c) in found.rows.iter().zip(&cells) {
        if group != Some(row.group) {
            if group.is_some() {
                lines.push(String::new());
            }
            group = Some(row.group);
            lines.push(row.group.title().to_string());
        }
        let label = format!("{INDENT}{}", row.label);
        let mark = if row.significant { "  *" } else { "" };
        let pad = label_w.saturating_sub(label.chars().count());
        if label.chars().count() > label_w {
            lines.push(label);
            lines.push(format!("{}{}", " ".repeat(label_w), figures(c, mark)));
        } else {
            lines.push(format!("{label}{}{}", " ".repeat(pad), figures(c, mark)));
        }
    }
    let only_w = found.only_a.iter().chain(&found.only_b).map(|o| INDENT.len() + o.label.chars().count()).max();
    for (side, only) in [("A", &found.only_a), ("B", &found.only_b)] {
        if only.is_empty() {
            continue;
        }
        lines.push(String::new());
        lines.push(format!("only in {side} (not compared; mean ± 95% CI):"));
        for o in only {
            let label = format!("{INDENT}{}", o.label);
            let value = o.unit.plus_minus(&o.value);
            let column = only_w.unwrap_or(0) + 2;
            if column + value.chars().count() > WIDTH {
                lines.push(label);
                lines.push(format!("{INDENT}{INDENT}{value}"));
            } else {
                lines.push(format!("{label:<column$}{value}"));
            }
        }
    }
    lines
}

/// Runs `n` replications of the chain `spec` from `seed`, one after another on `threads`
/// shard threads: replication 0's whole run (for the page) and every replication's flat
/// KPIs, in replication order.
fn replicate_chain(
    spec: &ChainSpec,
    n: u32,
    threads: usize,
    seed: Seed,
) -> anyhow::Result<(ChainRun, Vec<BTreeMap<String, f64>>)> {
    let mut first = None;
    let mut flats = Vec::with_capacity(n as usize);
    for i in 0..n {
        let run = run_chain(spec, seed.replication(i), threads)?;
        flats.push(storetwin_report::kpi::chain_flat(&run.kpis()));
        if i == 0 {
            first = Some(run);
        }
    }
    Ok((first.context("no replication ran")?, flats))
}

/// Runs `n` replications of `world` from `seed` (to `until`, or the whole day): replication
/// 0's whole run (for the page's floor and charts) and every replication's flat KPIs, in
/// replication order.
fn replicate(
    world: &WorldSpec,
    n: u32,
    threads: usize,
    seed: Seed,
    until: Option<SimTime>,
) -> anyhow::Result<(DayRun, Vec<BTreeMap<String, f64>>)> {
    let results = run_replications(n, threads, seed, |i, s| {
        let run = match until {
            Some(t) => run_day_until(world, s, t),
            None => run_day(world, s),
        };
        run.map(|run| {
            let flat = storetwin_report::kpi::flat(&run.kpis);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn flats(rows: &[&[(&str, f64)]]) -> Vec<BTreeMap<String, f64>> {
        rows.iter().map(|r| r.iter().map(|(k, v)| (k.to_string(), *v)).collect()).collect()
    }

    #[test]
    fn kpis_of_one_scenario_only_are_listed_after_the_table() {
        let a = flats(&[
            &[("sales", 100.0), ("lane[L1].utilisation", 0.5)],
            &[("sales", 110.0), ("lane[L1].utilisation", 0.6)],
        ]);
        let b = flats(&[
            &[("sales", 104.0), ("lane[L1].utilisation", 0.5), ("lane[L11].utilisation", 0.2)],
            &[("sales", 113.0), ("lane[L1].utilisation", 0.6), ("lane[L11].utilisation", 0.3)],
        ]);
        let found = differences(&a, &b, false, &BTreeSet::new());
        let lines = table_lines(&found);
        let at = lines.iter().position(|l| l.starts_with("only in B")).expect("an only-in-B list");
        assert!(
            lines[at + 1].starts_with("  lane L11: utilisation (%)") && lines[at + 1].ends_with("25 ± 64"),
            "{lines:#?}"
        );
    }

    #[test]
    fn the_table_fits_100_columns_even_with_long_names_and_big_numbers() {
        let long = "line of the self-checkouts by the flower stand near the exit";
        let keys = [
            format!("queue[{long}].wait_mean_s"),
            format!("queue[{long}].wait_p90_s"),
            format!("zone[{long}].dwell_s"),
            "sales".to_string(),
            "footfall".to_string(),
        ];
        let rep = |k: f64| -> Vec<(&str, f64)> {
            keys.iter().map(|key| (key.as_str(), 1.234_567e7 + k * 98_765.4)).collect::<Vec<_>>()
        };
        let (r1, r2, r3) = (rep(1.0), rep(2.0), rep(4.0));
        let a = flats(&[&r1, &r2, &r3]);
        let (s1, s2, s3) = (rep(-3.0), rep(9.0), rep(1.0));
        let mut b = flats(&[&s1, &s2, &s3]);
        for f in &mut b {
            f.insert(format!("lane[{long} 2].utilisation"), 0.5);
        }
        let found = differences(&a, &b, true, &[long.to_string()].into_iter().collect());
        let lines = table_lines(&found);
        for line in &lines {
            assert!(line.chars().count() <= WIDTH, "{} chars: {line}", line.chars().count());
        }
        assert!(lines.iter().any(|l| l.contains("line of the self-chec…: mean wait (s)")), "{lines:#?}");
        assert!(lines.iter().any(|l| l.starts_with("  lane line of the self-chec…: utilisation (%)")));
        let headings: Vec<&String> = lines.iter().filter(|l| !l.starts_with(' ') && !l.is_empty()).collect();
        assert_eq!(headings[1..4], ["footfall & conversion", "sales", "queues"]);
    }
}
