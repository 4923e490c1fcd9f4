//! A live chain: the whole chain (every store and the centres, as `run` and `load` run
//! it) paced on the calling thread, one store shown at a time, the ops team's
//! interventions made at any store.
//!
//! The chain runs in its conservative windows ([`Windows::run_paced`]): between two steps
//! every event before the time reached is delivered and none after, so an intervention
//! is injected into its store at exactly that time and recorded there by the kernel; the
//! record ([`StoreIntervention`]s, per store in injection order) replays to the identical
//! run, and a session without interventions is the run `storetwin run` or `load` gives
//! (same `event_hash`, on any thread count). A viewer gets [`Frame`]s: the shown store's
//! [`Snapshot`](crate::store::live::Snapshot), as for one store, with a [`ChainView`] (the
//! flash sale's counters for this store and the chain, the centres' work).

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};
use storetwin_engine::{
    ActorId, Injection, LiveInput, Pacer, SimDuration, SimTime, StopReason, WallClock, WindowError,
};

use crate::chain::channel::Channel;
use crate::chain::platform::Platform;
use crate::chain::run::{BuiltChain, ChainError, ChainRun, ChainShard};
use crate::chain::spec::ChainSpec;
use crate::money::Cents;
use crate::store::live::{Frame, Intervention, Status};
use crate::store::world::{Layout, StoreMsg, StoreWorld};

/// An intervention at one store of a chain, with the sim time it took effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreIntervention {
    /// The store's index in the chain's order.
    pub store: u16,
    /// Sim time in nanoseconds since the run's start.
    pub at_ns: u64,
    #[serde(flatten)]
    pub what: Intervention,
}

impl StoreIntervention {
    pub fn at(&self) -> SimTime {
        SimTime::from_nanos(self.at_ns)
    }
}

/// A sensor reading injected into one store of a chain (a served chain's ingest), with the
/// sim time it took effect and its place among the store's interventions: `after` of them
/// were injected before it (so a replay injects both in the order the store took them).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreReading {
    pub store: u16,
    pub at_ns: u64,
    pub after: u32,
    #[serde(flatten)]
    pub reading: crate::store::sensors::Reading,
}

/// A message for one store of a live chain: what [`crate::store::live::Controls`] sends
/// for a chain (its `to` is an actor of that store).
#[derive(Clone, Debug)]
pub struct ChainMsg {
    pub store: u16,
    pub msg: StoreMsg,
}

/// How a live chain runs.
#[derive(Clone, Debug)]
pub struct ChainSessionConfig {
    pub speed: f64,
    pub paused: bool,
    /// Stop once every event before this sim time is delivered (the run's end if `None`).
    pub until: Option<SimTime>,
    /// Interventions made in advance (a replay's), in the order they were recorded.
    pub scheduled: Vec<StoreIntervention>,
    /// Readings taken in advance (a replay's), with their places among the interventions.
    pub scheduled_readings: Vec<StoreReading>,
    pub frame_every: Duration,
    /// Threads for the long steps (the events do not depend on it).
    pub threads: usize,
    /// Wall time between two [`ChainCheckpoint`]s handed to
    /// [`run_chain_session_with`]'s `checkpoint` (none if `None`).
    pub checkpoint_every: Option<Duration>,
}

/// What a live chain has done so far, taken when every event before `at` is delivered and
/// none after: a session log written from it replays to the identical run stopped at `at`
/// (what a server writes every second, so a session killed outright leaves its log).
#[derive(Clone, Debug)]
pub struct ChainCheckpoint {
    pub at: SimTime,
    pub interventions: Vec<StoreIntervention>,
    pub readings: Vec<StoreReading>,
    pub events: u64,
    /// The chain's fingerprint (`EventHash::combine` of the shards') and every shard's.
    pub event_hash: storetwin_engine::EventHash,
    pub shard_hashes: Vec<storetwin_engine::EventHash>,
    /// Queue waits (milliseconds) of the shoppers whose service started since the last
    /// checkpoint, per store and queue (the KPIs' order of queues): `waits[store][queue]`.
    pub waits: Vec<Vec<Vec<u32>>>,
}

impl Default for ChainSessionConfig {
    fn default() -> Self {
        ChainSessionConfig {
            speed: 60.0,
            paused: false,
            until: None,
            scheduled: Vec::new(),
            scheduled_readings: Vec::new(),
            frame_every: Duration::from_millis(33),
            threads: 1,
            checkpoint_every: None,
        }
    }
}

/// The flash sale's figures of one store, or of the chain (the stores' sums).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashCounts {
    /// Units sold (reservations paid) and units reserved for a reservation not paid yet,
    /// as the stores' books have them (what `load`'s `timeseries.csv` counts).
    pub sold: u64,
    pub reserved: u64,
    /// Units that may go: the quota.
    pub quota: u64,
    /// Grabs answered (or given up) so far, and in the last whole second.
    pub grabs: u64,
    pub grabs_last_s: u64,
    /// Reservations the stock holder holds now, and of them those expiring within a minute.
    pub held: u32,
    pub expiring: u32,
    pub expired: u64,
    /// Paid units collected at the pickup counter, and paid units waiting for their
    /// shopper.
    pub collected: u64,
    pub to_collect: u64,
}

/// The flash sale as a viewer shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FlashView {
    pub name: String,
    pub sku: String,
    pub price: Cents,
    pub start: SimTime,
    /// The shown store's figures, and the chain's.
    pub store: FlashCounts,
    pub chain: FlashCounts,
    /// The shown store's shoppers by where they are (the crowd at the sale's shelf).
    pub desk: crate::chain::flash::desk::DeskNow,
    /// Calls waiting at the stock holder now, and members on its waitlist.
    pub holder_queue: u32,
    pub waitlist: u32,
    /// When the chain's quota was first all taken.
    pub sold_out_at: Option<SimTime>,
}

/// What a viewer is shown of the chain besides the store's floor.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainView {
    /// The store the frame's snapshot is of (its index in the chain's order).
    pub store: u16,
    pub flash: Option<FlashView>,
    /// Online and kiosk orders placed so far, by sales channel (the channel's name), and
    /// those not ended yet.
    pub orders_by_channel: Vec<(&'static str, u64)>,
    pub orders_open: u64,
    /// Pickers picking now, of the pickers there are: the shown store's and the chain's.
    pub pickers_busy: (u32, u32),
    pub chain_pickers_busy: (u32, u32),
    /// Coupons redeemed so far, over every campaign.
    pub coupons_redeemed: u64,
    /// The invariant that stopped the run, named, with its detail.
    pub broken: Option<String>,
}

/// How a live chain ended.
pub struct ChainSessionEnd {
    pub reason: StopReason,
    pub end: SimTime,
    /// Every intervention, with its store and time, per store in injection order.
    pub interventions: Vec<StoreIntervention>,
    /// Every sensor reading taken, likewise.
    pub readings: Vec<StoreReading>,
    pub max_lag: SimDuration,
    /// The chain's books closed at `end`, invariants checked.
    pub run: ChainRun,
}

/// The inputs of a live chain: what a viewer's controls send, the store it shows, how many
/// viewers watch each store besides (a server's clients: each watched store gets its frames
/// too), and the requests for a copy of the chain (a what-if from now).
pub struct ChainInputs {
    pub inputs: Receiver<LiveInput<ChainMsg>>,
    pub shown: Arc<AtomicUsize>,
    pub watched: Arc<[AtomicU32]>,
    pub forks: Option<Receiver<Sender<ChainFork>>>,
}

/// An exact copy of a live chain taken between two steps of its run (every event before
/// `now` delivered, none after): run ahead, it continues the live run exactly, unless its
/// random streams are replaced ([`ChainFork::reseeded`]) or interventions are made in it.
pub struct ChainFork {
    shards: Vec<ChainShard>,
    windows: storetwin_engine::Windows,
    lookahead: SimDuration,
    now: SimTime,
    /// The run's end: running to it delivers the end's own events too.
    end: SimTime,
}

impl ChainFork {
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn end(&self) -> SimTime {
        self.end
    }

    /// The copy with every shard's actors drawing from streams of `streams` (and the
    /// shard's index): one replication of a forecast; two given the same `streams` draw
    /// the same numbers (common random numbers).
    pub fn reseeded(&self, streams: storetwin_engine::Seed) -> ChainFork {
        ChainFork { shards: fork_shards(&self.shards, Some(streams)), windows: self.windows.clone(), ..*self }
    }

    /// An exact copy of this copy.
    pub fn copy(&self) -> ChainFork {
        ChainFork { shards: fork_shards(&self.shards, None), windows: self.windows.clone(), ..*self }
    }

    /// Makes `what` at store `store` now.
    pub fn intervene(&mut self, store: usize, what: Intervention) -> Result<(), ChainError> {
        let shard = store + 1;
        let Some(ChainShard::Store(sim, _)) = self.shards.get_mut(shard) else {
            return Err(ChainError::Window(WindowError::UnknownShard {
                from: 0,
                to_shard: shard as u32,
                shards: self.shards.len(),
            }));
        };
        let (to, msg) = what.to_injection(sim.model().layout);
        sim.inject_at(self.now, to, msg)
            .map(|_| ())
            .map_err(|error| ChainError::Window(WindowError::Shard { shard: shard as u32, error }))
    }

    /// Runs on one thread until every event before `t` is delivered (to the run's end, its
    /// own events too).
    pub fn run_to(&mut self, t: SimTime) -> Result<(), ChainError> {
        let t = t.min(self.end);
        let stop = if t >= self.end { self.end.saturating_add(SimDuration::from_nanos(1)) } else { t };
        if stop > self.now {
            self.windows.run(&mut self.shards, self.lookahead, stop, 1).map_err(ChainError::Window)?;
            self.now = t;
        }
        Ok(())
    }

    /// Store `store`'s world as it is now.
    pub fn store(&self, store: usize) -> Option<&StoreWorld> {
        worlds(&self.shards).nth(store)
    }

    /// Events delivered so far, and the chain's fingerprint.
    pub fn events(&self) -> u64 {
        events(&self.shards)
    }

    pub fn event_hash(&self) -> storetwin_engine::EventHash {
        checkpoint_of(&self.shards, self.now).event_hash
    }
}

/// The shards of a live chain copied (see [`ChainFork`]).
fn fork_of(
    shards: &[ChainShard],
    windows: &storetwin_engine::Windows,
    lookahead: SimDuration,
    now: SimTime,
    end: SimTime,
) -> ChainFork {
    ChainFork { shards: fork_shards(shards, None), windows: windows.clone(), lookahead, now, end }
}

/// Every shard copied exactly, or with its actors' streams from `reseed` and its index.
fn fork_shards(shards: &[ChainShard], reseed: Option<storetwin_engine::Seed>) -> Vec<ChainShard> {
    shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let seed = reseed.map(|r| storetwin_engine::Seed(storetwin_engine::rng::mix(r.0 ^ (i as u64 + 1))));
            match s {
                ChainShard::Platform(sim, w) => {
                    let copy = seed.map_or_else(|| sim.fork(), |seed| sim.fork_reseeded(seed));
                    ChainShard::Platform(Box::new(copy), *w)
                }
                ChainShard::Store(sim, w) => {
                    let copy = seed.map_or_else(|| sim.fork(), |seed| sim.fork_reseeded(seed));
                    ChainShard::Store(Box::new(copy), *w)
                }
            }
        })
        .collect()
}

impl ChainInputs {
    /// The stores whose frames go out: the one shown, then those watched, in order.
    fn sent(&self, stores: usize) -> Vec<usize> {
        let shown = self.shown.load(Ordering::Relaxed).min(stores.saturating_sub(1));
        let watched =
            (0..stores.min(self.watched.len())).filter(|s| *s != shown && self.watched[*s].load(Ordering::Relaxed) > 0);
        std::iter::once(shown).chain(watched).collect()
    }
}

/// Runs the chain `built` (from [`crate::chain::run::build_chain`]) live on the calling thread: paced by `wall`, taking
/// `inputs`, sending a [`Frame`] of the store `inputs.shown` names (and one of each store
/// `inputs.watched` counts viewers of) every `frame_every` of wall time (a slow viewer
/// misses frames) and a last one at the end. An invariant
/// broken during the run stops it: the last frame names it, and the error is returned.
pub fn run_chain_session<W: WallClock>(
    built: BuiltChain,
    config: &ChainSessionConfig,
    wall: W,
    inputs: &ChainInputs,
    frames: &Sender<Frame>,
) -> Result<ChainSessionEnd, ChainError> {
    run_chain_session_with(built, config, wall, inputs, frames, &mut |_| {})
}

/// [`run_chain_session`], handing `checkpoint` a [`ChainCheckpoint`] every
/// `config.checkpoint_every` of wall time (between two steps, on the session's thread).
pub fn run_chain_session_with<W: WallClock>(
    mut built: BuiltChain,
    config: &ChainSessionConfig,
    wall: W,
    inputs: &ChainInputs,
    frames: &Sender<Frame>,
    checkpoint: &mut dyn FnMut(&ChainCheckpoint),
) -> Result<ChainSessionEnd, ChainError> {
    schedule_with(&mut built, &config.scheduled, &config.scheduled_readings)?;
    let mut next_checkpoint = config.checkpoint_every.unwrap_or(Duration::MAX);
    // How many of each store's queues' waits the checkpoints have reported.
    let mut waits_seen: Vec<Vec<usize>> = Vec::new();
    let stop = built.stop();
    // To the end (or past it) is to the end's own events too, as `run` and `load` run.
    let until = config.until.map_or(stop, |t| if t >= built.end { stop } else { t });
    let lookahead = built.lookahead();
    let mut pacer = Pacer::new(wall, config.speed).paused(config.paused).with_tick(Duration::from_millis(20));
    let mut next_frame = Duration::ZERO;
    let stores = built.spec.stores.len();
    let mut inject = |shards: &mut [ChainShard], now: SimTime, to: ActorId, m: ChainMsg| -> Result<(), WindowError> {
        let shard = usize::from(m.store) + 1;
        match shards.get_mut(shard) {
            Some(ChainShard::Store(sim, _)) => sim
                .inject_at(now, to, m.msg)
                .map(|_| ())
                .map_err(|error| WindowError::Shard { shard: shard as u32, error }),
            // A store the chain does not have: the controls only name stores it has.
            _ => Ok(()),
        }
    };
    let run_end = built.end;
    let mut watch = |shards: &[ChainShard], windows: &storetwin_engine::Windows, now: SimTime, pacer: &mut Pacer<W>| {
        if let Some(forks) = &inputs.forks {
            while let Ok(reply) = forks.try_recv() {
                let _ = reply.send(fork_of(shards, windows, lookahead, now, run_end));
            }
        }
        let wall_now = pacer.wall_now();
        if let Some(every) = config.checkpoint_every
            && wall_now >= next_checkpoint
        {
            next_checkpoint = wall_now + every;
            let mut cp = checkpoint_of(shards, now);
            cp.waits = new_waits(shards, &mut waits_seen);
            checkpoint(&cp);
        }
        if wall_now >= next_frame {
            next_frame = wall_now + config.frame_every;
            let status = Status::of(pacer, events(shards), false);
            for store in inputs.sent(stores) {
                if let Some(frame) = frame_of(shards, store, now, status, None) {
                    let _ = frames.try_send(frame);
                }
            }
        }
        ControlFlow::Continue(())
    };
    let ran = built.windows.run_paced(
        &mut built.shards,
        lookahead,
        config.threads,
        &mut pacer,
        &inputs.inputs,
        SimTime::ZERO,
        until,
        &mut inject,
        &mut watch,
    );
    let sent = inputs.sent(stores);
    let (reason, reached) = match ran {
        Ok(r) => r,
        Err(e) => {
            let error = built.failed(e);
            let at = error_time(&error).unwrap_or(SimTime::ZERO);
            let status = Status::of(&pacer, events(&built.shards), true);
            for &store in &sent {
                if let Some(frame) = frame_of(&built.shards, store, at, status, Some(error.to_string())) {
                    let _ = frames.send_timeout(frame, Duration::from_secs(5));
                }
            }
            return Err(error);
        }
    };
    let interventions = recorded(&built);
    let readings = readings_in(&built.shards);
    let status = Status::of(&pacer, events(&built.shards), true);
    let last_at = reached.min(built.end);
    let last: Vec<Frame> = sent.iter().filter_map(|s| frame_of(&built.shards, *s, last_at, status, None)).collect();
    let stopped_at = (reached < stop).then_some(reached);
    let max_lag = pacer.max_lag();
    match built.close(stopped_at) {
        Ok(run) => {
            for frame in last {
                let _ = frames.send_timeout(frame, Duration::from_secs(5));
            }
            Ok(ChainSessionEnd { reason, end: run.end, interventions, readings, max_lag, run })
        }
        Err(error) => {
            for mut frame in last {
                if let Some(view) = frame.chain.as_mut() {
                    Arc::make_mut(view).broken = Some(error.to_string());
                }
                let _ = frames.send_timeout(frame, Duration::from_secs(5));
            }
            Err(error)
        }
    }
}

/// When a run's error happened, if it says.
fn error_time(e: &ChainError) -> Option<SimTime> {
    match e {
        ChainError::Platform(s) => Some(s.at),
        ChainError::Store { error: crate::store::day::DayError::Sim(s), .. } => Some(s.at),
        ChainError::Window(w) => w.sim_error().map(|s| s.at),
        _ => None,
    }
}

/// Replays a live chain's record unpaced: the chain `spec` with `seed` and the record's
/// interventions, run until every event before `until` is delivered (to the end when
/// `until` is past it), its books closed there. The same run the session had (same
/// `event_hash`, every shard's), on any number of `threads`.
pub fn replay_chain(
    spec: &ChainSpec,
    seed: storetwin_engine::Seed,
    record: &[StoreIntervention],
    readings: &[StoreReading],
    until: SimTime,
    threads: usize,
) -> Result<ChainRun, ChainError> {
    let mut built = crate::chain::run::build_chain(spec, seed)?;
    schedule_with(&mut built, record, readings)?;
    let stop = built.stop();
    let until = if until >= built.end { stop } else { until };
    let lookahead = built.lookahead();
    if let Err(e) = built.windows.run(&mut built.shards, lookahead, until, threads) {
        return Err(built.failed(e));
    }
    built.close((until < stop).then_some(until))
}

/// Schedules `record`'s interventions at their stores, in order: each store's share of
/// the record, in the order given, replays with the keys the live session gave them.
pub fn schedule(built: &mut BuiltChain, record: &[StoreIntervention]) -> Result<(), ChainError> {
    schedule_with(built, record, &[])
}

/// [`schedule`] with sensor readings too, each at its place among its store's
/// interventions.
pub fn schedule_with(
    built: &mut BuiltChain,
    record: &[StoreIntervention],
    readings: &[StoreReading],
) -> Result<(), ChainError> {
    let n = built.spec.stores.len();
    let mut per_store: Vec<Vec<Injection<StoreMsg>>> = vec![Vec::new(); n];
    let mut interventions_at = vec![0u32; n];
    let bad = |what: String| ChainError::Invariant { invariant: "session record", detail: what, seed: built.seed };
    let layout_of = |s: usize| match built.shards.get(s + 1) {
        Some(ChainShard::Store(sim, _)) => Some(sim.model().layout),
        _ => None,
    };
    // The order within a store is what matters (its kernel numbers its injections in order).
    let mut readings_by_store: Vec<Vec<(usize, &StoreReading)>> = vec![Vec::new(); n];
    for (i, r) in readings.iter().enumerate() {
        let s = usize::from(r.store);
        if s >= n {
            return Err(bad(format!("reading {i} names store {s}; the chain has {n} stores")));
        }
        readings_by_store[s].push((i, r));
    }
    let mut next_reading = vec![0usize; n];
    let mut push_readings = |s: usize, upto: u32, per_store: &mut Vec<Vec<Injection<StoreMsg>>>| {
        while let Some((_, r)) = readings_by_store[s].get(next_reading[s]).filter(|(_, r)| r.after <= upto) {
            if let Some(layout) = layout_of(s) {
                let (to, msg) = r.reading.to_injection(layout);
                per_store[s].push(Injection { at: SimTime::from_nanos(r.at_ns), to, msg });
            }
            next_reading[s] += 1;
        }
    };
    for (i, t) in record.iter().enumerate() {
        let s = usize::from(t.store);
        let Some(layout) = layout_of(s) else {
            return Err(bad(format!("intervention {i} names store {s}; the chain has {n} stores")));
        };
        push_readings(s, interventions_at[s], &mut per_store);
        let (to, msg) = t.what.to_injection(layout);
        per_store[s].push(Injection { at: t.at(), to, msg });
        interventions_at[s] += 1;
    }
    for s in 0..n {
        push_readings(s, u32::MAX, &mut per_store);
    }
    for (s, injections) in per_store.iter().enumerate().filter(|(_, i)| !i.is_empty()) {
        if let Some(ChainShard::Store(sim, _)) = built.shards.get_mut(s + 1)
            && let Err(error) = sim.replay_injections(injections)
        {
            return Err(built.failed(WindowError::Shard { shard: s as u32 + 1, error }));
        }
    }
    Ok(())
}

/// The chain's record at `now` (see [`ChainCheckpoint`]).
fn checkpoint_of(shards: &[ChainShard], now: SimTime) -> ChainCheckpoint {
    let shard_hashes: Vec<storetwin_engine::EventHash> = shards
        .iter()
        .map(|s| match s {
            ChainShard::Platform(sim, _) => sim.event_hash(),
            ChainShard::Store(sim, _) => sim.event_hash(),
        })
        .collect();
    ChainCheckpoint {
        at: now,
        interventions: recorded_in(shards),
        readings: readings_in(shards),
        events: events(shards),
        event_hash: storetwin_engine::EventHash::combine(shard_hashes.iter().copied()),
        shard_hashes,
        waits: Vec::new(),
    }
}

/// Every store's queue waits since `seen` (which it moves on): a checkpoint's `waits`.
fn new_waits(shards: &[ChainShard], seen: &mut Vec<Vec<usize>>) -> Vec<Vec<Vec<u32>>> {
    worlds(shards)
        .enumerate()
        .map(|(s, world)| {
            if seen.len() <= s {
                seen.resize_with(s + 1, Vec::new);
            }
            let seen = &mut seen[s];
            world
                .kpi_queues()
                .enumerate()
                .map(|(q, (stats, _))| {
                    if seen.len() <= q {
                        seen.resize(q + 1, 0);
                    }
                    let from = seen[q].min(stats.waits_log.len());
                    seen[q] = stats.waits_log.len();
                    stats.waits_log[from..].to_vec()
                })
                .collect()
        })
        .collect()
}

/// Every store's interventions as the kernel recorded them, store by store.
fn recorded(built: &BuiltChain) -> Vec<StoreIntervention> {
    recorded_in(&built.shards)
}

/// Every store's sensor readings as the kernel recorded them, each with the count of its
/// store's interventions injected before it.
fn readings_in(shards: &[ChainShard]) -> Vec<StoreReading> {
    let mut out = Vec::new();
    for (s, shard) in shards.iter().enumerate().skip(1) {
        let ChainShard::Store(sim, _) = shard else { continue };
        let layout = sim.model().layout;
        let mut after = 0u32;
        for i in sim.injections() {
            if Intervention::from_injection(i.to, &i.msg, layout).is_some() {
                after += 1;
            } else if let Some(reading) = crate::store::sensors::Reading::from_injection(i.to, &i.msg, layout) {
                out.push(StoreReading { store: (s - 1) as u16, at_ns: i.at.as_nanos(), after, reading });
            }
        }
    }
    out
}

fn recorded_in(shards: &[ChainShard]) -> Vec<StoreIntervention> {
    let mut out = Vec::new();
    for (s, shard) in shards.iter().enumerate().skip(1) {
        let ChainShard::Store(sim, _) = shard else { continue };
        let layout = sim.model().layout;
        out.extend(sim.injections().iter().filter_map(|i| {
            Intervention::from_injection(i.to, &i.msg, layout).map(|what| StoreIntervention {
                store: (s - 1) as u16,
                at_ns: i.at.as_nanos(),
                what,
            })
        }));
    }
    out
}

fn events(shards: &[ChainShard]) -> u64 {
    shards
        .iter()
        .map(|s| match s {
            ChainShard::Platform(sim, _) => sim.events_delivered(),
            ChainShard::Store(sim, _) => sim.events_delivered(),
        })
        .sum()
}

fn platform(shards: &[ChainShard]) -> Option<&Platform> {
    match shards.first()? {
        ChainShard::Platform(sim, _) => Some(sim.model()),
        ChainShard::Store(..) => None,
    }
}

fn worlds(shards: &[ChainShard]) -> impl Iterator<Item = &StoreWorld> {
    shards.iter().filter_map(|s| match s {
        ChainShard::Store(sim, _) => Some(sim.model()),
        ChainShard::Platform(..) => None,
    })
}

/// The frame of store `store` at `now`: its snapshot and the chain's view.
fn frame_of(
    shards: &[ChainShard],
    store: usize,
    now: SimTime,
    status: Status,
    broken: Option<String>,
) -> Option<Frame> {
    let world = worlds(shards).nth(store)?;
    let mut view = chain_view(shards, store, now);
    view.broken = broken;
    Some(Frame { snapshot: world.snapshot(now), status, chain: Some(Arc::new(view)), pair: None })
}

/// What a viewer is shown of the chain at `now`, with store `store` shown.
pub fn chain_view(shards: &[ChainShard], store: usize, now: SimTime) -> ChainView {
    let platform = platform(shards);
    let mut orders_by_channel: Vec<(&'static str, u64)> = Channel::ALL.iter().map(|c| (c.name(), 0)).collect();
    let mut orders_open = 0;
    let mut coupons_redeemed = 0;
    if let Some(p) = platform {
        for o in &p.orders.orders {
            let c = Channel::ALL.iter().position(|c| *c == o.channel()).unwrap_or(0);
            orders_by_channel[c].1 += 1;
            orders_open += u64::from(!o.status.is_final());
        }
        coupons_redeemed = (0..p.coupons.campaigns().len())
            .filter_map(|c| p.coupons.counters(crate::chain::spec::CampaignId(c as u16)))
            .map(|c| u64::from(c.redeemed))
            .sum();
    }
    let pickers = |w: &StoreWorld| w.office.as_ref().map_or((0, 0), |o| (o.pickers_busy(), o.pickers()));
    let shown = worlds(shards).nth(store);
    let chain_pickers = worlds(shards).map(pickers).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    ChainView {
        store: store as u16,
        flash: flash_view(shards, platform, store, now),
        orders_by_channel,
        orders_open,
        pickers_busy: shown.map_or((0, 0), pickers),
        chain_pickers_busy: chain_pickers,
        coupons_redeemed,
        broken: None,
    }
}

fn flash_view(shards: &[ChainShard], platform: Option<&Platform>, store: usize, now: SimTime) -> Option<FlashView> {
    let holder = platform?.flash.as_ref()?;
    let sale = &holder.sale;
    // The last whole second before now.
    let last_second = (now.as_nanos() / 1_000_000_000).checked_sub(1).map(|s| s as usize);
    let soon = now.saturating_add(SimDuration::from_secs(60));
    let held_at_holder = holder.ledger.held(soon);
    let counts = |d: &crate::chain::flash::desk::FlashDesk, s: usize| {
        let held = match &d.local {
            Some(local) => local.ledger.held(soon).iter().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
            None => held_at_holder.get(s).copied().unwrap_or_default(),
        };
        FlashCounts {
            sold: u64::from(d.kpis.sold),
            reserved: u64::from(d.kpis.packed),
            quota: u64::from(sale.store_quota.get(s).copied().unwrap_or(0)),
            grabs: d.kpis.grabs,
            grabs_last_s: last_second.map_or(0, |i| d.answered_in_second(i)),
            held: held.0,
            expiring: held.1,
            expired: d.kpis.lapsed,
            collected: d.kpis.collected,
            to_collect: u64::from(d.to_collect()),
        }
    };
    let desks = worlds(shards).map(|w| w.office.as_ref().and_then(|o| o.flash.as_deref()));
    let mut chain = FlashCounts { quota: u64::from(sale.quota), ..FlashCounts::default() };
    let mut shown = FlashCounts::default();
    let mut desk_now = Default::default();
    for (s, desk) in desks.enumerate() {
        let Some(d) = desk else { continue };
        let c = counts(d, s);
        if s == store {
            desk_now = d.now();
            shown = c;
        }
        chain.sold += c.sold;
        chain.reserved += c.reserved;
        chain.grabs += c.grabs;
        chain.grabs_last_s += c.grabs_last_s;
        chain.held += c.held;
        chain.expiring += c.expiring;
        chain.expired += c.expired;
        chain.collected += c.collected;
        chain.to_collect += c.to_collect;
    }
    let sku = worlds(shards)
        .next()
        .and_then(|w| w.spec.store.catalogue.get(sale.sku.0 as usize))
        .map_or_else(String::new, |s| s.name.clone());
    Some(FlashView {
        name: sale.name.clone(),
        sku,
        price: sale.price,
        start: sale.start,
        store: shown,
        chain,
        desk: desk_now,
        holder_queue: holder.queued() as u32,
        waitlist: holder.ledger.waitlist.len() as u32,
        sold_out_at: holder.ledger.kpis.sold_out_at,
    })
}

/// The store indices of a chain, by name.
pub fn store_index(spec: &ChainSpec, name: &str) -> Result<usize, String> {
    spec.stores.iter().position(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = spec.stores.iter().map(|s| s.name.as_str()).take(12).collect();
        let more = if spec.stores.len() > 12 { format!(", … ({} stores)", spec.stores.len()) } else { String::new() };
        format!("no store named {name:?} in the chain; its stores are {}{more}", names.join(", "))
    })
}

/// Every store's layout, in the chain's order (what the controls need to address a
/// store's lanes and devices).
pub fn layouts(built: &BuiltChain) -> Vec<Layout> {
    worlds(&built.shards).map(|w| w.layout).collect()
}
