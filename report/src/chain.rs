//! `summary.json` of a chain run: run identity, engine figures (events, windows,
//! cross-shard messages, every shard's `event_hash`) and the chain's KPIs
//! ([`storetwin_actors::chain::summary::ChainKpis`]: `chain` totals, `stores`, `orders`,
//! `members`, `settlement`, `coupons` per campaign), one entry per replication after the first's.

use serde_json::{Value, json};
use storetwin_actors::chain::run::ChainRun;
use storetwin_engine::Seed;
use storetwin_scenarios::Chain;

use crate::summary::Measured;

/// The summary of `runs` (replication 0 first) of `chain`.
pub fn chain_summary(chain: &Chain, seed: Seed, runs: &[ChainRun], measured: &Measured) -> Value {
    let Some(first) = runs.first() else { return json!({}) };
    let wall = measured.wall_s;
    let events: u64 = runs.iter().map(|r| r.events).sum();
    let sim_s = first.end.as_secs_f64() * runs.len() as f64;
    let kpis = first.kpis();
    json!({
        "run": {
            "kind": "chain",
            "scenario": chain.path.display().to_string(),
            "scenario_hash": chain.hash,
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
        "chain": kpis.chain,
        "stores": kpis.stores,
        "orders": kpis.orders,
        "members": kpis.members,
        "settlement": kpis.settlement,
        "coupons": kpis.coupons,
        "replications": runs.iter().skip(1).map(|r| {
            let k = r.kpis();
            json!({ "event_hash": r.event_hash.to_string(), "chain": k.chain, "orders": k.orders.all })
        }).collect::<Vec<_>>(),
    })
}
