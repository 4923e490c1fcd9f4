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

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use serde_json::json;
use storetwin_actors::store::day::{DayRun, run_day};
use storetwin_actors::store::spec::WorldSpec;
use storetwin_engine::{Seed, run_replications};

use crate::kpi::{CURRENCY, Group, Kpi, Unit};
use crate::report::{Comparison, Side};
use crate::run::{default_threads, load_scenario, out_dir, threads};
use crate::stats::{self, Estimate, estimate, welch};
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
    pub group: Group,
    /// Its name and unit, as the table lists it under its group.
    pub label: String,
    pub unit: Unit,
    pub a: f64,
    pub b: f64,
    /// B − A, with its 95% confidence interval.
    pub diff: Estimate,
    /// The interval excludes zero.
    pub significant: bool,
    #[serde(skip)]
    pub info: Kpi,
}

/// A KPI that only one of the two scenarios has (a lane or a zone of its own), so it
/// cannot be compared: its mean across that scenario's replications.
#[derive(Serialize, Debug)]
pub struct OnlyIn {
    pub kpi: String,
    pub group: Group,
    /// Its name and unit, with what it is of ("lane SCO7: utilisation (%)").
    pub label: String,
    pub unit: Unit,
    pub value: Estimate,
    #[serde(skip)]
    pub info: Kpi,
}

/// What a comparison found: the KPIs both have, in listing order, and those only one has.
pub struct Found {
    pub rows: Vec<Row>,
    pub only_a: Vec<OnlyIn>,
    pub only_b: Vec<OnlyIn>,
}

/// Seed offset for B's replications under `--independent`.
const INDEPENDENT: u64 = 0x9E37_79B9_7F4A_7C15;

/// The widest line the console table writes.
pub const WIDTH: usize = 100;

pub fn compare(args: CompareArgs) -> anyhow::Result<()> {
    let a = load_scenario(&args.a)?;
    let b = load_scenario(&args.b)?;
    let seed = Seed(args.seed.unwrap_or(a.seed));
    let seed_b = if args.independent { Seed(seed.0 ^ INDEPENDENT) } else { seed };
    let n = args.replications;
    let (first_a, flat_a) = replicate(&a.world, n, args.threads, seed).context("scenario A failed")?;
    let (first_b, flat_b) = replicate(&b.world, n, args.threads, seed_b).context("scenario B failed")?;
    let shared_lines = crate::kpi::shared_lines([&first_a.kpis, &first_b.kpis]);
    let found = differences(&flat_a, &flat_b, args.independent, &shared_lines);

    let report = json!({
        "a": { "scenario": a.path.display().to_string(), "scenario_hash": a.hash },
        "b": { "scenario": b.path.display().to_string(), "scenario_hash": b.hash },
        "seed": seed.0,
        "replications": n,
        "common_random_numbers": !args.independent,
        "kpis": found.rows,
        "only_in_a": found.only_a,
        "only_in_b": found.only_b,
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
            rows: &found.rows,
            only_a: &found.only_a,
            only_b: &found.only_b,
        };
        crate::report::write_comparison(&path, &comparison)?;
        page = Some(path);
    }
    if args.json {
        say!("{}", serde_json::to_string(&report)?)?;
        return Ok(());
    }
    let pairing = if args.independent {
        "independent seeds (Welch's interval)"
    } else {
        "common random numbers (paired differences)"
    };
    say!("A: {}\nB: {}", a.path.display(), b.path.display())?;
    say!("{n} replications of each, seed {seed}, {pairing}")?;
    say!("B - A: the difference of the means, with its 95% confidence interval (CI)\n")?;
    for line in table_lines(&found) {
        say!("{line}")?;
    }
    say!("\n* the 95% CI of the difference excludes zero. Percentages differ in percentage points.")?;
    say!("Money is in the store's {CURRENCY} (the scenario files name no currency).")?;
    if let Some(path) = page {
        say!("page: {}", path.display())?;
    }
    Ok(())
}

/// Each KPI's difference B − A from the per-replication KPIs of both (paired, or Welch's
/// when `independent`), in listing order, and the KPIs only one of them has.
fn differences(
    flat_a: &[BTreeMap<String, f64>],
    flat_b: &[BTreeMap<String, f64>],
    independent: bool,
    shared_lines: &BTreeSet<String>,
) -> Found {
    let keys = |flats: &[BTreeMap<String, f64>]| -> BTreeSet<String> {
        flats.first().map(|f| f.keys().cloned().collect()).unwrap_or_default()
    };
    let (keys_a, keys_b) = (keys(flat_a), keys(flat_b));
    let values = |flats: &[BTreeMap<String, f64>], key: &str| -> Vec<f64> {
        flats.iter().filter_map(|f| f.get(key).copied()).collect()
    };
    let mut rows: Vec<Row> = keys_a
        .intersection(&keys_b)
        .map(|key| {
            let (va, vb) = (values(flat_a, key), values(flat_b, key));
            let diff = if independent {
                welch(&va, &vb)
            } else {
                let d: Vec<f64> = va.iter().zip(&vb).map(|(x, y)| y - x).collect();
                estimate(&d)
            };
            let significant = diff.low > 0.0 || diff.high < 0.0;
            let info = Kpi::of(key, shared_lines);
            Row {
                kpi: key.clone(),
                group: info.group,
                label: info.label(),
                unit: info.unit,
                a: estimate(&va).mean,
                b: estimate(&vb).mean,
                diff,
                significant,
                info,
            }
        })
        .collect();
    rows.sort_by(|x, y| x.info.listing_order(&y.info));
    let only = |flats: &[BTreeMap<String, f64>], keys: &BTreeSet<String>, other: &BTreeSet<String>| {
        let mut only: Vec<OnlyIn> = keys
            .difference(other)
            .map(|key| {
                let info = Kpi::of(key, shared_lines);
                OnlyIn {
                    kpi: key.clone(),
                    group: info.group,
                    label: info.title(),
                    unit: info.unit,
                    value: estimate(&values(flats, key)),
                    info,
                }
            })
            .collect();
        only.sort_by(|x, y| x.info.listing_order(&y.info));
        only
    };
    Found { only_a: only(flat_a, &keys_a, &keys_b), only_b: only(flat_b, &keys_b, &keys_a), rows }
}

/// The decimals a row is written with: those that give the half-width of the difference's
/// interval two significant digits (fractions in percent), and never so few that a
/// significant difference reads as zero.
pub fn row_decimals(row: &Row) -> usize {
    stats::decimals(&row.diff.scaled(row.unit.scale()), row.unit.default_decimals(), row.significant)
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
fn table_lines(found: &Found) -> Vec<String> {
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
            let flat = crate::kpi::flat(&run.kpis);
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
    use super::*;

    fn flats(rows: &[&[(&str, f64)]]) -> Vec<BTreeMap<String, f64>> {
        rows.iter().map(|r| r.iter().map(|(k, v)| (k.to_string(), *v)).collect()).collect()
    }

    #[test]
    fn kpis_of_one_scenario_only_are_listed_not_dropped() {
        let a = flats(&[
            &[("sales", 100.0), ("lane[L1].utilisation", 0.5)],
            &[("sales", 110.0), ("lane[L1].utilisation", 0.6)],
        ]);
        let b = flats(&[
            &[("sales", 104.0), ("lane[L1].utilisation", 0.5), ("lane[L11].utilisation", 0.2)],
            &[("sales", 113.0), ("lane[L1].utilisation", 0.6), ("lane[L11].utilisation", 0.3)],
        ]);
        let found = differences(&a, &b, false, &BTreeSet::new());
        let keys: Vec<&str> = found.rows.iter().map(|r| r.kpi.as_str()).collect();
        assert_eq!(keys, ["sales", "lane[L1].utilisation"]);
        assert_eq!(found.rows[0].diff.mean, 3.5, "paired: mean of 4 and 3");
        assert!(found.only_a.is_empty());
        assert_eq!(found.only_b.len(), 1);
        assert_eq!(found.only_b[0].label, "lane L11: utilisation (%)");
        assert!((found.only_b[0].value.mean - 0.25).abs() < 1e-12);
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
