//! What-if from now: the live state copied and run ahead as fast as possible, with and
//! without the interventions asked about, on common random numbers.
//!
//! Replication 0 of the "as is" arm is the live run continued exactly (the fork keeps every
//! actor's random stream); replication `r > 0` gives every actor a new stream,
//! `Seed(seed).replication(r)`, in both arms alike, so the two arms of a replication differ
//! only by the interventions. Each KPI is measured over the horizon (from the fork to its
//! end) in each arm; the answer is each arm's mean and the paired difference with its 95%
//! interval (Student's t over the replications' differences).
//!
//! The arrivals still to come are the session's own drawn schedule (the world draws its
//! shoppers' arrival times when it is built); what the replications vary is everything the
//! actors draw from now on: baskets, routes, patience, service and payment times, device
//! failures.

use serde::{Deserialize, Serialize};
use storetwin_actors::store::live::Intervention;
use storetwin_actors::store::spec::WorldSpec;
use storetwin_actors::store::wire::clock;
use storetwin_actors::store::world::StoreWorld;
use storetwin_engine::{RunLimit, Seed, SimDuration, SimTime, Simulation};
use storetwin_report::stats::{Estimate, estimate};

use crate::actions::{Action, FieldError, resolve_all};

/// A forecast request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// What to try (may be empty: a forecast of the store as it is).
    #[serde(default)]
    pub interventions: Vec<Action>,
    /// How far ahead, e.g. `"30min"`, `"2h"`.
    pub horizon: String,
    /// Replications per arm (default 20, at most 200).
    #[serde(default = "default_replications")]
    pub replications: u32,
    /// Seed of the replications' streams (default: the session's).
    #[serde(default)]
    pub seed: Option<u64>,
}

fn default_replications() -> u32 {
    20
}

pub const MAX_REPLICATIONS: u32 = 200;
/// How often the queues are looked at during a run ahead.
const LOOK_EVERY: SimDuration = SimDuration::from_secs(30);

/// A checked request.
#[derive(Clone, Debug)]
pub struct Plan {
    pub interventions: Vec<Intervention>,
    pub actions: Vec<Action>,
    pub horizon: SimDuration,
    pub replications: u32,
    pub seed: u64,
}

impl Request {
    pub fn check(&self, spec: &WorldSpec, session_seed: u64) -> Result<Plan, FieldError> {
        let horizon = storetwin_scenarios::parse_duration(&self.horizon)
            .map_err(|e| FieldError::new("horizon", format!("{e} (e.g. \"30min\")")))?;
        if horizon < SimDuration::from_secs(60) || horizon > SimDuration::from_secs(24 * 3600) {
            return Err(FieldError::new("horizon", format!("{:?} is outside 1min..24h", self.horizon)));
        }
        if self.replications < 2 || self.replications > MAX_REPLICATIONS {
            return Err(FieldError::new(
                "replications",
                format!("{} is outside 2..{MAX_REPLICATIONS} (an interval needs two)", self.replications),
            ));
        }
        Ok(Plan {
            interventions: resolve_all(&self.interventions, spec, "interventions")?,
            actions: self.interventions.clone(),
            horizon,
            replications: self.replications,
            seed: self.seed.unwrap_or(session_seed),
        })
    }
}

/// One KPI's answer.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KpiAnswer {
    pub kpi: &'static str,
    pub unit: &'static str,
    /// `lower` or `higher` is better.
    pub better: &'static str,
    pub as_is: Estimate,
    pub with_interventions: Estimate,
    /// `with_interventions - as_is`, paired by replication.
    pub difference: Estimate,
    /// The interval of the difference excludes 0.
    pub significant: bool,
    /// Each replication's difference.
    pub differences: Vec<f64>,
}

/// A forecast's answer.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub version: u32,
    pub from: String,
    pub to: String,
    pub from_ns: u64,
    pub horizon_s: f64,
    pub replications: u32,
    pub seed: u64,
    pub interventions: Vec<Action>,
    pub kpis: Vec<KpiAnswer>,
    /// The "as is" arm of replication 0 (the live run continued): events and hash at the
    /// horizon.
    pub as_is_events: u64,
    pub as_is_event_hash: String,
    pub wall_s: f64,
}

/// What one arm measured over the horizon.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Measured {
    pub mean_wait_s: f64,
    pub p90_wait_s: f64,
    pub served: f64,
    pub gave_up: f64,
    pub mean_waiting: f64,
    pub max_waiting: f64,
    pub buyers: f64,
    pub sales: f64,
}

const KPIS: [(&str, &str, &str); 8] = [
    ("mean_wait_s", "s", "lower"),
    ("p90_wait_s", "s", "lower"),
    ("served", "shoppers", "higher"),
    ("gave_up", "shoppers", "lower"),
    ("mean_waiting", "shoppers", "lower"),
    ("max_waiting", "shoppers", "lower"),
    ("buyers", "shoppers", "higher"),
    ("sales", "currency", "higher"),
];

impl Measured {
    fn values(&self) -> [f64; 8] {
        [
            self.mean_wait_s,
            self.p90_wait_s,
            self.served,
            self.gave_up,
            self.mean_waiting,
            self.max_waiting,
            self.buyers,
            self.sales,
        ]
    }
}

struct Start {
    started: u64,
    wait_s: f64,
    gave_up: u64,
    buyers: u64,
    sales: i64,
    waits: Vec<hdrhistogram::Histogram<u64>>,
}

fn start_of(world: &StoreWorld) -> Start {
    let mut s = Start {
        started: 0,
        wait_s: 0.0,
        gave_up: 0,
        buyers: world.metrics.buyers,
        sales: world.metrics.sales.0,
        waits: vec![],
    };
    for (stats, _) in world.kpi_queues() {
        s.started += stats.started;
        s.wait_s += stats.served_wait_s;
        s.gave_up += stats.reneged + stats.balked;
        s.waits.push(stats.waits_ms.clone());
    }
    s
}

fn waiting(world: &StoreWorld) -> u32 {
    world.kpi_queues().map(|(_, q)| q.len() as u32).sum()
}

/// What a forecast runs ahead: a copy of a live store (one store's session), or of a live
/// chain with the store the question is about.
pub trait Ahead: Sized + Sync {
    fn now(&self) -> SimTime;
    /// An exact copy.
    fn copy(&self) -> Self;
    /// A copy whose actors draw from `streams` (one replication).
    fn reseeded(&self, streams: Seed) -> Self;
    /// Makes `interventions` at the store, now.
    fn make(&mut self, interventions: &[Intervention]) -> anyhow::Result<()>;
    /// Runs until `t`.
    fn run_to(&mut self, t: SimTime) -> anyhow::Result<()>;
    /// The store asked about.
    fn world(&self) -> &StoreWorld;
    /// Events so far and the fingerprint (of the whole chain, for a chain).
    fn identity(&self) -> (u64, String);
}

impl Ahead for Simulation<StoreWorld> {
    fn now(&self) -> SimTime {
        Simulation::now(self)
    }

    fn copy(&self) -> Self {
        self.fork()
    }

    fn reseeded(&self, streams: Seed) -> Self {
        self.fork_reseeded(streams)
    }

    fn make(&mut self, interventions: &[Intervention]) -> anyhow::Result<()> {
        let layout = self.model().layout;
        for i in interventions {
            let (to, msg) = i.to_injection(layout);
            self.inject(to, msg).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(())
    }

    fn run_to(&mut self, t: SimTime) -> anyhow::Result<()> {
        self.run(RunLimit::until(t)).map_err(|e| anyhow::anyhow!("the forecast run stopped: {e}"))?;
        Ok(())
    }

    fn world(&self) -> &StoreWorld {
        self.model()
    }

    fn identity(&self) -> (u64, String) {
        (self.events_delivered(), self.event_hash().to_string())
    }
}

/// Runs `sim` (a fork) to `until`, with `interventions` made at once, and measures it.
pub fn run_arm<A: Ahead>(mut sim: A, interventions: &[Intervention], until: SimTime) -> anyhow::Result<(Measured, A)> {
    sim.make(interventions)?;
    let start = start_of(sim.world());
    let mut looks = 0u64;
    let mut waiting_sum = 0u64;
    let mut waiting_max = 0u32;
    let mut t = sim.now();
    while t < until {
        t = t.saturating_add(LOOK_EVERY).min(until);
        sim.run_to(t)?;
        let w = waiting(sim.world());
        looks += 1;
        waiting_sum += u64::from(w);
        waiting_max = waiting_max.max(w);
    }
    let end = start_of(sim.world());
    let served = end.started.saturating_sub(start.started);
    let mut waits = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000, 2).expect("valid bounds");
    for (now, before) in end.waits.iter().zip(&start.waits) {
        let mut new = now.clone();
        if new.subtract(before).is_ok() {
            let _ = waits.add(&new);
        }
    }
    let m = Measured {
        mean_wait_s: if served > 0 { (end.wait_s - start.wait_s) / served as f64 } else { 0.0 },
        p90_wait_s: if waits.is_empty() { 0.0 } else { waits.value_at_quantile(0.9) as f64 / 1000.0 },
        served: served as f64,
        gave_up: end.gave_up.saturating_sub(start.gave_up) as f64,
        mean_waiting: if looks > 0 { waiting_sum as f64 / looks as f64 } else { 0.0 },
        max_waiting: f64::from(waiting_max),
        buyers: end.buyers.saturating_sub(start.buyers) as f64,
        sales: (end.sales - start.sales) as f64 / 100.0,
    };
    Ok((m, sim))
}

/// One replication: the "as is" arm, the arm with the interventions, and (replication 0)
/// the "as is" run's event count and hash at the horizon.
type Pair = (Measured, Measured, Option<(u64, String)>);

/// Answers `plan` from `live` (a fork of the live session), on up to `threads` threads.
/// The answer does not depend on `threads`.
pub fn forecast<A: Ahead>(live: &A, spec: &WorldSpec, plan: &Plan, threads: usize) -> anyhow::Result<Answer> {
    let wall = std::time::Instant::now();
    let from = live.now();
    let end = SimTime::ZERO.saturating_add(spec.duration);
    let until = from.saturating_add(plan.horizon).min(end);
    if until <= from {
        anyhow::bail!("the session is at its end ({}): there is nothing to forecast", clock(spec.open_at_s, from));
    }
    let reps = plan.replications as usize;
    let streams = Seed(plan.seed);
    let one = |r: usize| -> anyhow::Result<Pair> {
        let base = if r == 0 { live.copy() } else { live.reseeded(streams.replication(r as u32)) };
        let (b, with_sim) = run_arm(base.copy(), &plan.interventions, until)?;
        drop(with_sim);
        let (a, as_is) = run_arm(base, &[], until)?;
        let id = (r == 0).then(|| as_is.identity());
        Ok((a, b, id))
    };
    let threads = threads.clamp(1, reps);
    let mut results: Vec<Option<anyhow::Result<Pair>>> = (0..reps).map(|_| None).collect();
    std::thread::scope(|scope| {
        let chunks: Vec<_> = (0..threads)
            .map(|w| {
                let one = &one;
                scope.spawn(move || (w..reps).step_by(threads).map(|r| (r, one(r))).collect::<Vec<_>>())
            })
            .collect();
        for c in chunks {
            for (r, res) in c.join().expect("a forecast worker panicked") {
                results[r] = Some(res);
            }
        }
    });
    let mut as_is = Vec::with_capacity(reps);
    let mut with = Vec::with_capacity(reps);
    let mut identity = None;
    for res in results.into_iter().flatten() {
        let (a, b, id) = res?;
        as_is.push(a.values());
        with.push(b.values());
        if id.is_some() {
            identity = id;
        }
    }
    let kpis = KPIS
        .iter()
        .enumerate()
        .map(|(k, (kpi, unit, better))| {
            let a: Vec<f64> = as_is.iter().map(|v| v[k]).collect();
            let b: Vec<f64> = with.iter().map(|v| v[k]).collect();
            let d: Vec<f64> = a.iter().zip(&b).map(|(a, b)| b - a).collect();
            let difference = estimate(&d);
            KpiAnswer {
                kpi,
                unit,
                better,
                as_is: estimate(&a),
                with_interventions: estimate(&b),
                significant: difference.low > 0.0 || difference.high < 0.0,
                difference,
                differences: d,
            }
        })
        .collect();
    let (as_is_events, as_is_event_hash) = identity.unwrap_or_default();
    Ok(Answer {
        version: 1,
        from: clock(spec.open_at_s, from),
        to: clock(spec.open_at_s, until),
        from_ns: from.as_nanos(),
        horizon_s: until.saturating_since(from).as_secs_f64(),
        replications: plan.replications,
        seed: plan.seed,
        interventions: plan.actions.clone(),
        kpis,
        as_is_events,
        as_is_event_hash,
        wall_s: wall.elapsed().as_secs_f64(),
    })
}
