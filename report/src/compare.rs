//! The comparison of two scenarios, A and B: each KPI's difference B − A with its 95%
//! confidence interval, and `comparison.json`.
//!
//! Under common random numbers replication `i` of A and of B ran with the same seed, so
//! the same shoppers came at the same times with the same lists, and a difference is
//! estimated from the paired per-replication differences (Student's t), which cancels most
//! of the noise the two share. Runs on independent seeds get Welch's interval instead. A
//! KPI that only one scenario has (a lane or a zone of its own) cannot be compared: it is
//! listed apart, with its mean. Rows come in [`Kpi::listing_order`], so the console table,
//! `comparison.json` and `compare.html` ([`crate::html::write_comparison_page`]) list
//! them alike.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};
use storetwin_actors::chain::run::ChainRun;
use storetwin_actors::store::day::DayRun;
use storetwin_engine::{Seed, SimTime};
use storetwin_eventlog::atomic::write_atomic;
use storetwin_scenarios::{Chain, Scenario};

use crate::kpi::{Group, Kpi, Unit};
use crate::stats::{self, Estimate, estimate, welch};

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
    /// Each replication's A and B, in replication order (the first is replication 1, the
    /// run of the seed itself, which `storetwin-twin --compare` shows side by side).
    pub replications: Vec<Paired>,
    #[serde(skip)]
    pub info: Kpi,
}

/// One replication's value of a KPI in A and in B.
#[derive(Serialize, Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    pub a: f64,
    pub b: f64,
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
#[derive(Debug)]
pub struct Differences {
    pub rows: Vec<Row>,
    pub only_a: Vec<OnlyIn>,
    pub only_b: Vec<OnlyIn>,
}

/// Each KPI's difference B − A from the per-replication KPIs of both (by name, as
/// [`crate::kpi::flat`] gives them, in replication order): paired, or Welch's when
/// `independent`; in listing order, with the KPIs only one of them has. `shared_lines`
/// are the names of the queues that are lines shared by several lanes
/// ([`crate::kpi::shared_lines`]).
pub fn differences(
    flat_a: &[BTreeMap<String, f64>],
    flat_b: &[BTreeMap<String, f64>],
    independent: bool,
    shared_lines: &BTreeSet<String>,
) -> Differences {
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
                replications: va.iter().zip(&vb).map(|(&a, &b)| Paired { a, b }).collect(),
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
    Differences { only_a: only(flat_a, &keys_a, &keys_b), only_b: only(flat_b, &keys_b, &keys_a), rows }
}

/// The decimals a row is written with: those that give the half-width of the difference's
/// interval two significant digits (fractions in percent), and never so few that a
/// significant difference reads as zero.
pub fn row_decimals(row: &Row) -> usize {
    stats::decimals(&row.diff.scaled(row.unit.scale()), row.unit.default_decimals(), row.significant)
}

/// One of the two scenarios compared, a store or a chain of stores, with its replication
/// 1 (for the page's floors and charts).
pub enum Side<'a> {
    Store { scenario: &'a Scenario, run: &'a DayRun },
    Chain { chain: &'a Chain, run: &'a ChainRun },
}

impl Side<'_> {
    /// The scenario file, as given.
    pub fn path(&self) -> &Path {
        match self {
            Side::Store { scenario, .. } => &scenario.path,
            Side::Chain { chain, .. } => &chain.path,
        }
    }

    /// The scenario's hash (a chain's covers its store scenarios).
    pub fn hash(&self) -> &str {
        match self {
            Side::Store { scenario, .. } => &scenario.hash,
            Side::Chain { chain, .. } => &chain.hash,
        }
    }

    /// "store" or "chain".
    pub fn kind(&self) -> &'static str {
        match self {
            Side::Store { .. } => "store",
            Side::Chain { .. } => "chain",
        }
    }

    /// Time of day the run starts at, in seconds after midnight.
    pub fn open_at_s(&self) -> u32 {
        match self {
            Side::Store { scenario, .. } => scenario.world.open_at_s,
            Side::Chain { chain, .. } => chain.spec.open_at_s,
        }
    }

    /// The end of replication 1, from its start.
    pub fn end(&self) -> SimTime {
        match self {
            Side::Store { run, .. } => run.end,
            Side::Chain { run, .. } => run.end,
        }
    }

    /// The seed of replication 1.
    pub fn seed(&self) -> Seed {
        match self {
            Side::Store { run, .. } => run.seed,
            Side::Chain { run, .. } => run.seed,
        }
    }

    /// Shoppers inside minute by minute in replication 1 (a chain's stores summed).
    pub fn occupancy(&self) -> Vec<(SimTime, f64)> {
        match self {
            Side::Store { run, .. } => run.samples.iter().map(|s| (s.at, f64::from(s.occupancy))).collect(),
            Side::Chain { run, .. } => {
                crate::chain::chain_samples(run).iter().map(|s| (s.at, s.occupancy as f64)).collect()
            }
        }
    }
}

/// A comparison as it is written: the two scenarios, how they were run, and what
/// [`differences`] found.
pub struct Comparison<'a> {
    pub a: Side<'a>,
    pub b: Side<'a>,
    /// Seed of A's replication 1 (and B's, under common random numbers).
    pub seed: Seed,
    pub replications: u32,
    /// The day up to this time only (every event before it, the books closed there), or
    /// the whole day.
    pub until: Option<SimTime>,
    /// Common random numbers and paired differences; otherwise independent seeds (Welch).
    pub paired: bool,
    /// Every KPI both scenarios have, with B − A, in listing order.
    pub rows: &'a [Row],
    /// The KPIs only A has, and only B has.
    pub only_a: &'a [OnlyIn],
    pub only_b: &'a [OnlyIn],
}

/// What `comparison.json` holds: both scenarios (kind, file and hash), the seed, the
/// replications, the time compared up to (`until_s`, sim seconds after opening; null for
/// the whole day), whether they were paired, every KPI compared (`kpis`) and those only one
/// scenario has (`only_in_a`, `only_in_b`).
pub fn comparison_json(c: &Comparison<'_>) -> Value {
    json!({
        "a": { "kind": c.a.kind(), "scenario": c.a.path().display().to_string(), "scenario_hash": c.a.hash() },
        "b": { "kind": c.b.kind(), "scenario": c.b.path().display().to_string(), "scenario_hash": c.b.hash() },
        "seed": c.seed.0,
        "replications": c.replications,
        "until_s": c.until.map(|t| t.as_nanos() / 1_000_000_000),
        "common_random_numbers": c.paired,
        "kpis": c.rows,
        "only_in_a": c.only_a,
        "only_in_b": c.only_b,
    })
}

/// Writes [`comparison_json`] of `c` to `path` (atomically), pretty-printed.
pub fn write_comparison_json(path: &Path, c: &Comparison<'_>) -> crate::Result<()> {
    let json = comparison_json(c);
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, &json)?;
        w.write_all(b"\n")
    })?;
    Ok(())
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
    }

    #[test]
    fn pairing_cancels_what_both_scenarios_share() {
        // B is A plus 2, replication by replication, over a spread of 40: the paired
        // difference is exactly 2 with no interval, Welch's spans zero.
        let a = flats(&[&[("sales", 100.0)], &[("sales", 140.0)], &[("sales", 120.0)]]);
        let b = flats(&[&[("sales", 102.0)], &[("sales", 142.0)], &[("sales", 122.0)]]);
        let paired = &differences(&a, &b, false, &BTreeSet::new()).rows[0];
        assert!((paired.diff.mean - 2.0).abs() < 1e-9 && paired.diff.ci95 < 1e-9, "{:?}", paired.diff);
        assert!(paired.significant);
        let welch = &differences(&a, &b, true, &BTreeSet::new()).rows[0];
        assert!((welch.diff.mean - 2.0).abs() < 1e-9);
        assert!(welch.diff.low < 0.0 && welch.diff.high > 0.0 && !welch.significant, "{:?}", welch.diff);
    }
}
