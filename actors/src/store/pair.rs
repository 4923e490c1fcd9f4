//! Two stores side by side on one clock: layout A and layout B (or any two store
//! scenarios) on the same seed, so the same shoppers arrive at the same times with the
//! same lists (common random numbers, as `storetwin compare` pairs its replications),
//! paced together and steered side by side.
//!
//! Both worlds run as the two shards of conservative windows ([`Windows::run_paced`]);
//! they send each other nothing, so a window is only a time both have reached. Between two
//! steps every event before the time reached is delivered on both sides and none after:
//! an intervention is injected into its side at exactly that time and recorded there by
//! the kernel, and a side without interventions is the run `storetwin run` gives for its
//! scenario and the seed (same `event_hash`, on one thread or two). A session stopped at
//! `t` is [`run_day_until`]`(spec, seed, t)` on each side: every event before `t`, the
//! books closed at `t`, which is what `storetwin compare --until` compares.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use storetwin_engine::{
    ActorId, LiveInput, Pacer, RunLimit, Seed, SimDuration, SimTime, Simulation, StopReason, WallClock, WindowError,
    Windows,
};

use crate::store::day::{DayError, DayRun, finish};
use crate::store::live::{Frame, Intervention, Snapshot, Status, TimedIntervention, simulate};
use crate::store::spec::WorldSpec;
use crate::store::summary::StoreKpis;
use crate::store::world::{StoreMsg, StoreWorld};

/// What a side-by-side viewer sends: messages for side 0 (A), side 1 (B) or both, injected
/// at the same sim time (an operator's "both sides" is one input, so it can never be split
/// across two steps).
#[derive(Clone, Debug)]
pub struct PairMsg(pub Vec<(u8, ActorId, StoreMsg)>);

/// How a side-by-side session runs.
#[derive(Clone, Debug)]
pub struct PairConfig {
    pub speed: f64,
    pub paused: bool,
    /// Stop at this sim time (the day's end if `None`).
    pub until: Option<SimTime>,
    /// Interventions made in advance on each side, at their times.
    pub scheduled: [Vec<TimedIntervention>; 2],
    /// Wall time between two frames.
    pub frame_every: Duration,
    /// Wall time between two computations of both sides' KPIs so far (each costs a copy of
    /// both worlds); the last frame always has them, at its time.
    pub kpis_every: Duration,
    /// Threads for steps of a few seconds of sim time or more (each side on its own).
    pub threads: usize,
}

impl Default for PairConfig {
    fn default() -> Self {
        PairConfig {
            speed: 60.0,
            paused: false,
            until: None,
            scheduled: [Vec::new(), Vec::new()],
            frame_every: Duration::from_millis(33),
            kpis_every: Duration::from_millis(500),
            threads: 2,
        }
    }
}

/// What a side-by-side frame adds to side A's [`Frame`]: side B's store, and both sides'
/// KPIs so far (the same KPIs `storetwin compare` compares), taken at `kpis_at`.
#[derive(Clone, Debug)]
pub struct PairView {
    pub b: Snapshot,
    pub kpis: Option<Arc<[StoreKpis; 2]>>,
    pub kpis_at: SimTime,
    /// Each side's interventions so far (planned, made live or replayed), with their times.
    pub interventions: [Vec<TimedIntervention>; 2],
}

/// How a side-by-side session ended.
pub struct PairEnd {
    pub reason: StopReason,
    pub end: SimTime,
    /// Each side's interventions, with the sim time each took effect.
    pub interventions: [Vec<TimedIntervention>; 2],
    pub max_lag: SimDuration,
    /// Each side's day to `end`: KPIs, invariants checked, `event_hash`.
    pub runs: [DayRun; 2],
}

/// A side's failure, named.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error("side {side}: {error}")]
    Side { side: &'static str, error: DayError },
    #[error("side by side needs the same hours: {0}")]
    Hours(String),
    #[error(transparent)]
    Window(WindowError),
}

/// The sides' names, as errors and viewers call them.
pub const SIDES: [&str; 2] = ["A", "B"];

/// Runs `spec` with `seed` until `until`: every event before it delivered (and at the
/// day's end, every event up to and including it, as [`crate::store::day::run_day`]), the books closed at `until`.
pub fn run_day_until(spec: &WorldSpec, seed: Seed, until: SimTime) -> Result<DayRun, DayError> {
    let end = SimTime::ZERO.saturating_add(spec.duration);
    let until = until.min(end);
    let mut sim = Simulation::new(StoreWorld::build(spec.clone(), seed), seed);
    sim.run(RunLimit::until(last_instant(until, end)))?;
    finish(sim, until)
}

/// The last instant whose events a run stopped at `until` has delivered: just before it,
/// or the day's end itself.
fn last_instant(until: SimTime, end: SimTime) -> SimTime {
    if until >= end { end } else { SimTime::from_nanos(until.as_nanos().saturating_sub(1)) }
}

/// Both sides' KPIs so far, at `now`: each world copied and its books closed there (the
/// running worlds are not touched).
fn kpis_so_far(sims: &[Simulation<StoreWorld>], now: SimTime) -> Arc<[StoreKpis; 2]> {
    let kpis = |s: &Simulation<StoreWorld>| {
        let mut world = s.model().clone();
        world.close_books(now);
        world.kpis(now)
    };
    Arc::new([kpis(&sims[0]), kpis(&sims[1])])
}

/// Runs `worlds` (A and B, built with `seed`) side by side on the calling thread: paced by
/// `wall`, taking `inputs`, sending a [`Frame`] of A with a [`PairView`] of B every
/// `frame_every` of wall time and a last one at the end. Both sides must keep the same
/// hours (they share one clock).
pub fn run_pair_session<W: WallClock>(
    worlds: [StoreWorld; 2],
    seed: Seed,
    config: &PairConfig,
    wall: W,
    inputs: &Receiver<LiveInput<PairMsg>>,
    frames: &Sender<Frame>,
) -> Result<PairEnd, PairError> {
    let [a, b] = worlds;
    if a.spec.duration != b.spec.duration || a.spec.open_at_s != b.spec.open_at_s {
        return Err(PairError::Hours(format!(
            "A opens at {} s past midnight for {}, B at {} s for {}",
            a.spec.open_at_s, a.spec.duration, b.spec.open_at_s, b.spec.duration
        )));
    }
    let end = SimTime::ZERO.saturating_add(a.spec.duration);
    let side_error = |side: usize, error: DayError| PairError::Side { side: SIDES[side], error };
    let mut sims = Vec::with_capacity(2);
    for (side, (world, scheduled)) in [a, b].into_iter().zip(&config.scheduled).enumerate() {
        sims.push(simulate(world, seed, scheduled).map_err(|e| side_error(side, e.into()))?);
    }
    let until = config.until.map_or(end, |t| t.min(end));
    // Every event before `stop`: at the day's end that includes those at the end itself.
    let stop = if until >= end { end.saturating_add(SimDuration::from_nanos(1)) } else { until };
    let mut pacer = Pacer::new(wall, config.speed).paused(config.paused).with_tick(Duration::from_millis(20));
    let mut windows = Windows::new(2);
    let mut next_frame = Duration::ZERO;
    let mut kpis: Option<(Arc<[StoreKpis; 2]>, SimTime)> = None;
    // On the session's wall clock, as the frames (a fake clock in tests).
    let mut kpis_due = Duration::ZERO;
    let mut inject = |sims: &mut [Simulation<StoreWorld>], now: SimTime, _: ActorId, m: PairMsg| {
        for (side, to, msg) in m.0 {
            let side = usize::from(side).min(1);
            sims[side].inject_at(now, to, msg).map_err(|error| WindowError::Shard { shard: side as u32, error })?;
        }
        Ok(())
    };
    let mut watch = |sims: &[Simulation<StoreWorld>], _: &Windows, now: SimTime, pacer: &mut Pacer<W>| {
        let wall_now = pacer.wall_now();
        if wall_now >= next_frame {
            next_frame = wall_now + config.frame_every;
            let at = now.min(end);
            // KPIs so far on their own schedule of wall time (and while paused, once more
            // at the time paused at, so a paused view reads exact figures).
            let stale = kpis.as_ref().is_none_or(|(_, t)| *t != at);
            if stale && wall_now >= kpis_due {
                kpis = Some((kpis_so_far(sims, at), at));
                kpis_due = wall_now + config.kpis_every;
            }
            let status = Status::of(pacer, sims.iter().map(Simulation::events_delivered).sum(), false);
            let _ = frames.try_send(frame(sims, at, status, kpis.clone()));
        }
        ControlFlow::Continue(())
    };
    // Two sides that send nothing to each other: any lookahead is safe; a long one keeps
    // a step in one window.
    let lookahead = SimDuration::from_secs(3600);
    let threads = config.threads.clamp(1, 2);
    let ran = windows.run_paced(
        &mut sims,
        lookahead,
        threads,
        &mut pacer,
        inputs,
        SimTime::ZERO,
        stop,
        &mut inject,
        &mut watch,
    );
    let (reason, reached) = match ran {
        Ok(r) => r,
        Err(WindowError::Shard { shard, error }) => return Err(side_error(shard as usize, error.into())),
        Err(e) => return Err(PairError::Window(e)),
    };
    let at = reached.min(end);
    let status = Status::of(&pacer, sims.iter().map(Simulation::events_delivered).sum(), true);
    let interventions = recorded(&sims);
    let max_lag = pacer.max_lag();
    let mut runs = Vec::with_capacity(2);
    for (side, sim) in sims.into_iter().enumerate() {
        runs.push(finish(sim, at).map_err(|e| side_error(side, e))?);
    }
    let runs: [DayRun; 2] = runs.try_into().unwrap_or_else(|_| unreachable!("two sides ran"));
    // The last frame's KPIs are the closed books': exactly the day so far on each side.
    let last = Frame {
        snapshot: runs[0].last.clone(),
        status,
        chain: None,
        pair: Some(Arc::new(PairView {
            b: runs[1].last.clone(),
            kpis: Some(Arc::new([runs[0].kpis.clone(), runs[1].kpis.clone()])),
            kpis_at: at,
            interventions: interventions.clone(),
        })),
    };
    let _ = frames.send_timeout(last, Duration::from_secs(5));
    Ok(PairEnd { reason, end: at, interventions, max_lag, runs })
}

fn frame(
    sims: &[Simulation<StoreWorld>],
    at: SimTime,
    status: Status,
    kpis: Option<(Arc<[StoreKpis; 2]>, SimTime)>,
) -> Frame {
    let (kpis, kpis_at) = match kpis {
        Some((k, t)) => (Some(k), t),
        None => (None, SimTime::ZERO),
    };
    Frame {
        snapshot: sims[0].model().snapshot(at),
        status,
        chain: None,
        pair: Some(Arc::new(PairView {
            b: sims[1].model().snapshot(at),
            kpis,
            kpis_at,
            interventions: recorded(sims),
        })),
    }
}

/// Each side's interventions so far, from its kernel's record of injections.
fn recorded(sims: &[Simulation<StoreWorld>]) -> [Vec<TimedIntervention>; 2] {
    std::array::from_fn(|side| {
        let layout = sims[side].model().layout;
        sims[side]
            .injections()
            .iter()
            .filter_map(|i| {
                Intervention::from_injection(i.to, &i.msg, layout)
                    .map(|what| TimedIntervention { at_ns: i.at.as_nanos(), what })
            })
            .collect()
    })
}
