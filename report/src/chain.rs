//! The files of a chain run: `summary.json` ([`chain_summary`]: run identity, engine
//! figures with every shard's `event_hash`, and every section of the chain's KPIs,
//! [`storetwin_actors::chain::summary::ChainKpis`]: `chain` totals, `stores`, `orders`,
//! `members`, `settlement`, `coupons` per campaign, and any section added there later,
//! one entry per replication after the first's) and `timeseries.csv`
//! ([`write_chain_timeseries`]: the chain's minute by minute, summed over its stores). The
//! page is [`crate::html::write_chain_report`].

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};
use storetwin_actors::chain::run::ChainRun;
use storetwin_actors::store::world::Sample;
use storetwin_engine::{Seed, SimTime};
use storetwin_eventlog::atomic::write_atomic;
use storetwin_scenarios::Chain;

use crate::summary::Measured;

/// The summary of `runs` (replication 0 first) of `chain`.
pub fn chain_summary(chain: &Chain, seed: Seed, runs: &[ChainRun], measured: &Measured) -> Value {
    let Some(first) = runs.first() else { return json!({}) };
    let wall = measured.wall_s;
    let events: u64 = runs.iter().map(|r| r.events).sum();
    let sim_s = first.end.as_secs_f64() * runs.len() as f64;
    let kpis = first.kpis();
    let mut summary = json!({
        "run": {
            "kind": "chain",
            "scenario": chain.path.display().to_string(),
            "scenario_hash": chain.hash,
            "chain": chain.spec.name,
            "seed": seed.0,
            "replications": runs.len(),
            "threads": measured.threads,
            "version": env!("CARGO_PKG_VERSION"),
            "open_at": crate::time_of_day(chain.spec.open_at_s),
            "duration_h": first.end.as_secs_f64() / 3600.0,
            "stores": chain.spec.stores.len(),
        },
        "engine": {
            "event_hash": first.event_hash.to_string(),
            "events": first.events,
            "events_all_replications": events,
            "windows": first.windows,
            "window_width_ms": chain.spec.platform.latency_min.as_secs_f64() * 1000.0,
            "cross_shard_messages": first.messages,
            "shard_hashes": first.shard_hashes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "wall_s": wall,
            "real_time_factor": sim_s / wall.max(1e-9),
            "events_per_sec": events as f64 / wall.max(1e-9),
            "replication_hashes": runs.iter().map(|r| r.event_hash.to_string()).collect::<Vec<_>>(),
        },
        "replications": runs.iter().skip(1).map(|r| {
            let k = r.kpis();
            json!({ "event_hash": r.event_hash.to_string(), "chain": k.chain, "orders": k.orders.all })
        }).collect::<Vec<_>>(),
    });
    // Every section of the KPIs, under its own name: one added to `ChainKpis` is written
    // without a change here.
    if let (Value::Object(sections), Some(out)) =
        (serde_json::to_value(&kpis).unwrap_or_default(), summary.as_object_mut())
    {
        for (name, section) in sections {
            out.entry(name).or_insert(section);
        }
    }
    summary
}

/// One minute of the chain: each store's sample at that time, in store order.
struct Minute<'a> {
    at: SimTime,
    stores: Vec<Option<&'a Sample>>,
}

/// The stores' samples aligned by time: one row per time any store sampled, each store's
/// last sample at or before it (the stores share the chain's clock and sample every
/// minute, so the rows are the minutes of the day).
fn minutes(run: &ChainRun) -> Vec<Minute<'_>> {
    let mut times: Vec<SimTime> = run.stores.iter().flat_map(|s| s.day.samples.iter().map(|x| x.at)).collect();
    times.sort_unstable();
    times.dedup();
    times
        .into_iter()
        .map(|at| Minute {
            at,
            stores: run
                .stores
                .iter()
                .map(|s| {
                    let i = s.day.samples.partition_point(|x| x.at <= at);
                    i.checked_sub(1).map(|i| &s.day.samples[i])
                })
                .collect(),
        })
        .collect()
}

/// The chain-wide figures of one minute, summed over the stores: shoppers inside, those
/// who entered, left and bought so far, sales so far, lost items so far, waiting to pay
/// and open lanes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChainSample {
    pub at: SimTime,
    pub occupancy: u64,
    pub entered: u64,
    pub left: u64,
    pub buyers: u64,
    /// Major units.
    pub sales: f64,
    pub lost_items: u64,
    pub queue_total: u64,
    pub open_lanes: u64,
}

/// The chain's samples: every store's summed, minute by minute (replication `run`).
pub fn chain_samples(run: &ChainRun) -> Vec<ChainSample> {
    minutes(run)
        .iter()
        .map(|m| {
            let mut c = ChainSample { at: m.at, ..ChainSample::default() };
            let mut sales = storetwin_actors::Cents::ZERO;
            for s in m.stores.iter().flatten() {
                c.occupancy += u64::from(s.occupancy);
                c.entered += s.entered;
                c.left += s.left;
                c.buyers += s.buyers;
                sales += s.sales;
                c.lost_items += s.lost_items;
                c.queue_total += u64::from(s.queue_total);
                c.open_lanes += u64::from(s.open_lanes);
            }
            c.sales = sales.as_major();
            c
        })
        .collect()
}

/// Writes `timeseries.csv` of a chain run (replication `run` of `chain`) to `path`
/// (atomically): one row per simulated minute with the chain's totals (shoppers inside;
/// per minute those who entered, left and bought, sales and lost items; waiting to pay
/// and open lanes), then each store's shoppers inside, sales in the minute and waiting
/// to pay (`occupancy[riverside]`, `sales[riverside]`, `queue_total[riverside]`).
pub fn write_chain_timeseries(path: &Path, chain: &Chain, run: &ChainRun) -> crate::Result<()> {
    write_atomic(path, |w| write_chain_rows(w, chain, run))?;
    Ok(())
}

fn write_chain_rows(w: &mut dyn Write, chain: &Chain, run: &ChainRun) -> std::io::Result<()> {
    write!(w, "minute,time,occupancy,entered,left,buyers,sales,lost_items,queue_total,open_lanes")?;
    for s in &run.stores {
        let name = s.name.replace(',', " ");
        write!(w, ",occupancy[{name}],sales[{name}],queue_total[{name}]")?;
    }
    writeln!(w)?;
    let rows = minutes(run);
    let totals = chain_samples(run);
    let mut previous: Option<(&ChainSample, &Minute<'_>)> = None;
    for (c, m) in totals.iter().zip(&rows) {
        let (p, pm) = previous.unwrap_or((c, m));
        write!(
            w,
            "{},{},{},{},{},{},{:.2},{},{},{}",
            c.at.as_nanos() / 60_000_000_000,
            crate::time_of_day(chain.spec.open_at_s + (c.at.as_nanos() / 1_000_000_000) as u32),
            c.occupancy,
            c.entered - p.entered,
            c.left - p.left,
            c.buyers - p.buyers,
            c.sales - p.sales,
            c.lost_items - p.lost_items,
            c.queue_total,
            c.open_lanes,
        )?;
        for (s, ps) in m.stores.iter().zip(&pm.stores) {
            match (s, ps) {
                (Some(s), Some(ps)) => {
                    write!(w, ",{},{:.2},{}", s.occupancy, (s.sales - ps.sales).as_major(), s.queue_total)?
                }
                (Some(s), None) => write!(w, ",{},{:.2},{}", s.occupancy, s.sales.as_major(), s.queue_total)?,
                _ => write!(w, ",,,")?,
            }
        }
        writeln!(w)?;
        previous = Some((c, m));
    }
    Ok(())
}

/// The bundled three-store chain, cut to its first `hours` hours (quick to run in a test).
#[cfg(test)]
pub(crate) fn chain_opening(hours: u64) -> Chain {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/chain-3-stores.toml");
    let mut chain = Chain::load(&path).expect("the bundled chain loads");
    let duration = storetwin_engine::SimDuration::from_secs(hours * 3600);
    chain.spec.duration = duration;
    for store in &mut chain.spec.stores {
        store.world.duration = duration;
    }
    chain
}

#[cfg(test)]
mod tests {
    use storetwin_actors::chain::run::run_chain;

    use super::*;

    #[test]
    fn the_summary_has_every_kpi_section_and_the_timeseries_adds_up_to_the_stores() {
        let chain = chain_opening(1);
        let run = run_chain(&chain.spec, Seed(5), 1).expect("the chain's first hour runs");
        let measured = Measured { threads: 1, wall_s: 0.5, heap_allocations: None };
        let summary = chain_summary(&chain, Seed(5), std::slice::from_ref(&run), &measured);
        let Value::Object(sections) = serde_json::to_value(run.kpis()).expect("KPIs serialise") else {
            panic!("KPIs are an object")
        };
        for (name, section) in &sections {
            assert_eq!(&summary[name], section, "section {name}");
        }
        assert_eq!(summary["run"]["kind"], "chain");
        assert_eq!(summary["run"]["stores"], 3);

        let mut out = Vec::new();
        write_chain_rows(&mut out, &chain, &run).expect("writes to memory");
        let text = String::from_utf8(out).expect("UTF-8");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
        assert_eq!(header.len(), 10 + 3 * 3);
        assert_eq!(header[10], "occupancy[riverside]");
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 61, "minutes 0 to 60");
        assert_eq!((rows[0][1], rows[60][1]), ("08:00", "09:00"));
        let column = |name: &str| header.iter().position(|h| *h == name).expect("a column");
        let sum = |c: usize| rows.iter().map(|r| r[c].parse::<f64>().expect("a number")).sum::<f64>();
        let footfall: f64 = run.stores.iter().map(|s| s.day.kpis.footfall.truth).sum();
        assert_eq!(sum(column("entered")), footfall, "arrivals add up to the stores' footfall");
        let sales: f64 = run.stores.iter().map(|s| s.day.kpis.sales).sum();
        assert!((sum(column("sales")) - sales).abs() < 0.01, "{} vs {sales}", sum(column("sales")));
        for r in &rows {
            let inside: u64 = (0..3).map(|i| r[10 + 3 * i].parse::<u64>().expect("a count")).sum();
            assert_eq!(r[column("occupancy")].parse::<u64>().expect("a count"), inside, "minute {}", r[0]);
        }
    }
}
