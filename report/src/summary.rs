//! `summary.json`: what a run was and what it found, for machines and for the pages.
//!
//! Three objects: `run` (scenario file and hash, seed, replications, threads, version,
//! opening time, length of the day), `engine` (replication 1's `event_hash` and event
//! count, every replication's hash, wall time, real-time factor, heap allocations) and
//! `kpis` (replication 1's `StoreKpis`), and `replications`: each KPI of
//! `StoreKpis::flat` with its mean and 95% confidence interval across the replications
//! and the per-replication values, so others can pair or pool them. `report.html` reads
//! its header and key figures from here ([`crate::html::write_run_report`]).

use std::path::Path;

use serde_json::{Value, json};
use storetwin_actors::store::day::DayRun;
use storetwin_engine::Seed;
use storetwin_eventlog::atomic::write_atomic;
use storetwin_scenarios::Scenario;

use crate::stats::estimate;

/// What was measured of the runs from outside the simulation, which the runs themselves
/// cannot know: the threads they ran on, the wall time and the heap allocations.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    pub threads: usize,
    /// Wall time of all the replications, in seconds.
    pub wall_s: f64,
    /// Heap allocations made while the replications ran, if they were counted.
    pub heap_allocations: Option<u64>,
}

/// The summary of `runs` (in replication order; replication 1 first, run from `seed`) of
/// `scenario`: what `summary.json` holds.
pub fn summary(scenario: &Scenario, seed: Seed, runs: &[DayRun], measured: &Measured) -> Value {
    let Some(first) = runs.first() else { return json!({}) };
    let wall = measured.wall_s;
    let flats: Vec<_> = runs.iter().map(|r| r.kpis.flat()).collect();
    let mut across = serde_json::Map::new();
    for name in flats[0].keys() {
        let values: Vec<f64> = flats.iter().filter_map(|f| f.get(name).copied()).collect();
        let mut entry = serde_json::to_value(estimate(&values)).unwrap_or_default();
        // The per-replication values, so others can pair or pool them.
        entry["values"] = json!(values);
        across.insert(name.clone(), entry);
    }
    let events: u64 = runs.iter().map(|r| r.events).sum();
    let sim_s = first.end.as_secs_f64() * runs.len() as f64;
    let mut summary = json!({
        "run": {
            "scenario": scenario.path.display().to_string(),
            "scenario_hash": scenario.hash,
            "seed": seed.0,
            "replications": runs.len(),
            "threads": measured.threads,
            "version": env!("CARGO_PKG_VERSION"),
            "open_at": crate::time_of_day(scenario.world.open_at_s),
            "duration_h": first.end.as_secs_f64() / 3600.0,
        },
        "engine": {
            "event_hash": first.event_hash.to_string(),
            "events": first.events,
            "events_all_replications": events,
            "shoppers": first.shoppers,
            "wall_s": wall,
            "real_time_factor": sim_s / wall.max(1e-9),
            "events_per_sec": events as f64 / wall.max(1e-9),
            "replication_hashes": runs.iter().map(|r| r.event_hash.to_string()).collect::<Vec<_>>(),
        },
        "kpis": first.kpis,
        "replications": across,
    });
    if let Some(allocations) = measured.heap_allocations {
        summary["engine"]["heap_allocations"] = json!(allocations);
        summary["engine"]["heap_allocations_per_event"] = json!(allocations as f64 / events.max(1) as f64);
    }
    summary
}

/// Writes `summary` (from [`summary`]) to `path` (atomically), pretty-printed.
pub fn write_summary(path: &Path, summary: &Value) -> crate::Result<()> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, summary)?;
        w.write_all(b"\n")
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use storetwin_actors::store::day::run_day;

    use super::*;

    #[test]
    fn each_kpi_comes_with_its_mean_interval_and_every_replications_value() {
        let scenario = crate::weekday_opening(1);
        let seed = Seed(5);
        let runs: Vec<DayRun> =
            (0..2).map(|i| run_day(&scenario.world, seed.replication(i)).expect("the hour runs")).collect();
        let measured = Measured { threads: 2, wall_s: 0.5, heap_allocations: None };
        let s = summary(&scenario, seed, &runs, &measured);
        let footfall = &s["replications"]["footfall"];
        let values: Vec<f64> = runs.iter().map(|r| r.kpis.footfall.truth).collect();
        assert_eq!(footfall["values"], json!(values));
        assert_eq!(footfall["n"], 2);
        assert!((footfall["mean"].as_f64().expect("a mean") - (values[0] + values[1]) / 2.0).abs() < 1e-9);
        assert_eq!(s["run"]["replications"], 2);
        assert_eq!(s["run"]["open_at"], "08:00");
        assert_eq!(s["engine"]["event_hash"], runs[0].event_hash.to_string(), "replication 1's");
        assert_eq!(s["engine"]["events_all_replications"], runs[0].events + runs[1].events);
        assert_eq!(s["kpis"]["footfall"]["truth"], values[0]);
        assert!(s["engine"].get("heap_allocations").is_none(), "not counted, not written");
        let counted = summary(&scenario, seed, &runs, &Measured { heap_allocations: Some(40), ..measured });
        assert_eq!(counted["engine"]["heap_allocations"], 40);
    }
}
