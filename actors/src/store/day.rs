//! Running one store day: build the world, run it to the end of the scenario, close the
//! books, check the invariants, and hand back the KPIs and the per-minute samples.

use storetwin_engine::{EventHash, Observer, RunLimit, Seed, SimDuration, SimError, SimTime, Simulation};

use crate::store::live::{Snapshot, TimedIntervention};

use crate::store::spec::WorldSpec;
use crate::store::summary::StoreKpis;
use crate::store::world::{Sample, StoreMsg, StoreWorld};

/// The result of one run.
#[derive(Clone, Debug)]
pub struct DayRun {
    pub seed: Seed,
    pub kpis: StoreKpis,
    pub samples: Vec<Sample>,
    pub events: u64,
    pub event_hash: EventHash,
    pub end: SimTime,
    pub shoppers: u32,
    /// The store as a viewer saw it at the end (before the books were closed).
    pub last: Snapshot,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DayError {
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(
        "invariant broken at the end of the run: {invariant}: {detail} (seed {seed}; rerun with this seed to reproduce)"
    )]
    Invariant { invariant: &'static str, detail: String, seed: Seed },
}

/// Runs `spec` with `seed` as fast as possible.
pub fn run_day(spec: &WorldSpec, seed: Seed) -> Result<DayRun, DayError> {
    run_day_observed(spec, seed, &mut ())
}

/// Runs `spec` with `seed`, showing every event to `observer` (e.g. an event log).
pub fn run_day_observed<O: Observer<StoreMsg>>(
    spec: &WorldSpec,
    seed: Seed,
    observer: &mut O,
) -> Result<DayRun, DayError> {
    run_day_with(spec, seed, observer, &mut |_| {})
}

/// Simulated time between two progress reports.
pub const PROGRESS_STEP: SimDuration = SimDuration::from_secs(15 * 60);

/// Runs `spec` with `seed`, showing every event to `observer` and calling `progress` with
/// the simulated time reached every [`PROGRESS_STEP`] (for a progress bar). Running in
/// steps delivers exactly the same events as one run.
pub fn run_day_with<O: Observer<StoreMsg>>(
    spec: &WorldSpec,
    seed: Seed,
    observer: &mut O,
    progress: &mut dyn FnMut(SimTime),
) -> Result<DayRun, DayError> {
    let world = StoreWorld::build(spec.clone(), seed);
    let mut sim = Simulation::new(world, seed);
    let mut reached = SimTime::ZERO;
    let end = SimTime::ZERO.saturating_add(spec.duration);
    while reached < end {
        reached = reached.saturating_add(PROGRESS_STEP).min(end);
        sim.run_observed(RunLimit::until(reached), observer)?;
        progress(reached);
    }
    finish(sim, end)
}

/// Replays a live session: the scenario with the recorded interventions injected at their
/// recorded times. Gives the session's exact run (same `event_hash`).
pub fn run_day_replaying(spec: &WorldSpec, seed: Seed, record: &[TimedIntervention]) -> Result<DayRun, DayError> {
    let mut sim = crate::store::live::simulation_with(spec, seed, record)?;
    let end = SimTime::ZERO.saturating_add(spec.duration);
    sim.run(RunLimit::until(end))?;
    finish(sim, end)
}

/// Closes the books of a finished run, checks the invariants and gathers the results.
pub fn finish(sim: Simulation<StoreWorld>, end: SimTime) -> Result<DayRun, DayError> {
    let seed = sim.seed();
    let events = sim.events_delivered();
    let event_hash = sim.event_hash();
    let mut world = sim.into_model();
    let shoppers = world.layout.shoppers;
    let last = world.snapshot(end);
    world.close_books(end);
    world.check_invariants().map_err(|(invariant, detail)| DayError::Invariant { invariant, detail, seed })?;
    let kpis = world.kpis(end);
    Ok(DayRun { seed, kpis, samples: std::mem::take(&mut world.samples), events, event_hash, end, shoppers, last })
}
