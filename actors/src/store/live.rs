//! The live side of a store: what the ops team can do to a running store (interventions),
//! and what a viewer is shown of it (snapshots).
//!
//! An intervention becomes a message injected into the simulation at the sim time it was
//! made (see the kernel's `clock` module); the kernel records every injection, and
//! [`Intervention::from_injection`] turns the record back into interventions, so a live
//! session saved as `(time, intervention)` pairs replays to the identical run
//! ([`crate::store::day::run_day_replaying`]). A [`Snapshot`] is an owned copy: a viewer holding
//! one cannot reach, let alone change, the simulation.

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};
use storetwin_engine::{
    ActorId, EventHash, Injection, LiveInput, Observer, Pacer, RunLimit, Seed, SimDuration, SimTime, Simulation,
    StopReason, WallClock,
};

use crate::store::day::{DayError, DayRun, finish};

use crate::money::Cents;
use crate::store::sensors::DriftKpi;
use crate::store::shopper::ShopperState;
use crate::store::spec::{Cell, DeviceId, LaneId, SkuId, WorldSpec};
use crate::store::world::{Layout, ShopperId, StoreMsg, StoreWorld};

/// Something the ops team does to the running store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Intervention {
    /// Open or close a lane (a closing lane serves the shoppers already in its queue).
    SetLaneOpen { lane: u16, open: bool },
    /// Change a SKU's price (minor units): the till at once, the labels through the ESLs.
    SetPrice { sku: u32, cents: i64 },
    /// Take a device offline or bring it back.
    SetDeviceUp { device: u16, up: bool },
}

impl Intervention {
    /// The actor and message that carry this intervention into the simulation.
    pub fn to_injection(self, layout: Layout) -> (ActorId, StoreMsg) {
        match self {
            Intervention::SetLaneOpen { lane, open } => {
                (layout.lane(LaneId(lane)), StoreMsg::SetLaneOpen { open, by_policy: false })
            }
            Intervention::SetPrice { sku, cents } => {
                (layout.store(), StoreMsg::SetPrice { sku: SkuId(sku), price: Cents(cents) })
            }
            Intervention::SetDeviceUp { device, up } => (layout.device(DeviceId(device)), StoreMsg::SetDeviceUp { up }),
        }
    }

    /// The intervention an injected message carried, if it was one.
    pub fn from_injection(to: ActorId, msg: &StoreMsg, layout: Layout) -> Option<Intervention> {
        match *msg {
            StoreMsg::SetLaneOpen { open, by_policy: false } if to.0 >= layout.lane(LaneId(0)).0 => {
                Some(Intervention::SetLaneOpen { lane: (to.0 - layout.lane(LaneId(0)).0) as u16, open })
            }
            StoreMsg::SetPrice { sku, price } if to == layout.store() => {
                Some(Intervention::SetPrice { sku: sku.0, cents: price.0 })
            }
            StoreMsg::SetDeviceUp { up } if to.0 >= layout.device(DeviceId(0)).0 => {
                Some(Intervention::SetDeviceUp { device: (to.0 - layout.device(DeviceId(0)).0) as u16, up })
            }
            _ => None,
        }
    }
}

/// A live session as a file: the scenario it ran, its seed, and every intervention with
/// the sim time it took effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub scenario_hash: String,
    pub seed: u64,
    pub interventions: Vec<TimedIntervention>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedIntervention {
    /// Sim time in nanoseconds since the scenario start.
    pub at_ns: u64,
    #[serde(flatten)]
    pub what: Intervention,
}

impl TimedIntervention {
    pub fn at(&self) -> SimTime {
        SimTime::from_nanos(self.at_ns)
    }
}

/// The world of `spec` on a new simulation, with `interventions` scheduled at their
/// times (in the order given: the kernel numbers injections in that order).
pub fn simulation_with(
    spec: &WorldSpec,
    seed: Seed,
    interventions: &[TimedIntervention],
) -> Result<Simulation<StoreWorld>, storetwin_engine::SimError> {
    simulate(StoreWorld::build(spec.clone(), seed), seed, interventions)
}

/// `world` on a new simulation, with `interventions` scheduled at their times.
pub fn simulate(
    world: StoreWorld,
    seed: Seed,
    interventions: &[TimedIntervention],
) -> Result<Simulation<StoreWorld>, storetwin_engine::SimError> {
    let layout = world.layout;
    let mut sim = Simulation::new(world, seed);
    let injections: Vec<Injection<StoreMsg>> = interventions
        .iter()
        .map(|t| {
            let (to, msg) = t.what.to_injection(layout);
            Injection { at: t.at(), to, msg }
        })
        .collect();
    sim.replay_injections(&injections)?;
    Ok(sim)
}

/// A shopper as a viewer draws it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShopperView {
    /// Stable for the shopper's visit (a viewer follows the marker by it).
    pub id: ShopperId,
    pub cell: Cell,
    pub state: ShopperState,
}

/// A queue (an own-queue lane or a shared line) as a viewer shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueView {
    pub waiting: u32,
    /// How long the shopper at the head has waited so far (0 when nobody waits).
    pub oldest_wait_s: f64,
    /// Shoppers whose service started so far today, and their mean wait.
    pub served: u64,
    pub mean_wait_s: f64,
}

/// A lane as a viewer draws it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneView {
    pub open: bool,
    /// POS down or closed by a disruption.
    pub down: bool,
    pub waiting: u32,
    pub serving: bool,
}

/// What a viewer is shown of the store at one sim time.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub at: SimTime,
    pub shoppers: Vec<ShopperView>,
    pub lanes: Vec<LaneView>,
    /// Same order as the KPIs' queues: own-queue lanes, then shared lines.
    pub queues: Vec<QueueView>,
    pub devices_up: Vec<bool>,
    pub footfall: u64,
    pub footfall_sensed: u64,
    pub buyers: u64,
    pub sales: Cents,
    /// Shopper-seconds per cell so far (the heat map).
    pub heat: Vec<f64>,
    /// People in each cell now (walkers and queue members), and the most a cell holds.
    pub crowd: Vec<u16>,
    pub cell_capacity: u16,
    /// Area of one cell, m² (crowd / area = density in people per m²).
    pub cell_area_m2: f64,
    /// The last hour, a point a minute (the per-minute samples): (time, shoppers inside,
    /// waiting in queues).
    pub last_hour: Vec<(SimTime, u32, u32)>,
    /// The model against the real store's readings, KPI by KPI (see [`StoreWorld::drift`]).
    pub drift: Vec<DriftKpi>,
}

impl StoreWorld {
    /// A copy of what a viewer needs at `now`.
    pub fn snapshot(&self, now: SimTime) -> Snapshot {
        Snapshot {
            at: now,
            shoppers: self
                .inside
                .iter()
                .map(|s| {
                    let shopper = &self.shoppers[s.0 as usize];
                    ShopperView { id: *s, cell: shopper.cell, state: shopper.state }
                })
                .collect(),
            lanes: self
                .lanes
                .iter()
                .map(|l| LaneView {
                    open: l.open,
                    down: l.down || l.closed_by_disruption,
                    waiting: l.queue.len() as u32,
                    serving: l.serving.is_some(),
                })
                .collect(),
            queues: self.queue_views(now),
            devices_up: self.devices.iter().map(|d| d.is_up()).collect(),
            footfall: self.metrics.entered,
            footfall_sensed: self.metrics.door_count,
            buyers: self.metrics.buyers,
            sales: self.metrics.sales,
            heat: self.metrics.cell_dwell_s.clone(),
            crowd: (0..self.floor.cell_count())
                .map(|i| self.crowd.occupancy(i).min(u32::from(u16::MAX)) as u16)
                .collect(),
            cell_capacity: self.crowd.capacity.iter().copied().max().unwrap_or(0),
            cell_area_m2: self.crowd.cell_area_m2(),
            last_hour: {
                let from = self.samples.partition_point(|s| s.at.saturating_add(SimDuration::from_secs(3600)) < now);
                self.samples[from..].iter().map(|s| (s.at, s.occupancy, s.queue_total)).collect()
            },
            drift: self.drift(),
        }
    }
}

impl StoreWorld {
    /// The queues as a viewer shows them, in the KPIs' order.
    pub fn queue_views(&self, now: SimTime) -> Vec<QueueView> {
        self.kpi_queues()
            .map(|(stats, queue)| QueueView {
                waiting: queue.len() as u32,
                oldest_wait_s: queue.front().map_or(0.0, |w| now.saturating_since(w.joined).as_secs_f64()),
                served: stats.started,
                mean_wait_s: if stats.started > 0 { stats.served_wait_s / stats.started as f64 } else { 0.0 },
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// A live session: the simulation on its own thread, paced, sending frames to a viewer
// and taking the ops team's controls.

/// How a live session runs.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Sim time per wall time (1.0 = real time).
    pub speed: f64,
    /// Start paused.
    pub paused: bool,
    /// Stop at this sim time (the scenario's end if `None`).
    pub until: Option<SimTime>,
    /// Stop after this many events (a replay stops where its log stopped).
    pub max_events: Option<u64>,
    /// Interventions made in advance at their times (a replay's).
    pub scheduled: Vec<TimedIntervention>,
    /// Wall time between two frames sent to the viewer.
    pub frame_every: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            speed: 60.0,
            paused: false,
            until: None,
            max_events: None,
            scheduled: Vec::new(),
            frame_every: Duration::from_millis(33),
        }
    }
}

/// How the session is running, sent with every frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Status {
    pub speed: f64,
    pub paused: bool,
    /// How far the simulation is behind its paced time (zero when it keeps up).
    pub lag: SimDuration,
    pub max_lag: SimDuration,
    pub events: u64,
    /// The last frame: the session has ended.
    pub done: bool,
}

/// What the viewer receives: an owned copy of the store and the session's status, and for
/// a store of a live chain what it is shown of the chain.
#[derive(Clone, Debug)]
pub struct Frame {
    pub snapshot: Snapshot,
    pub status: Status,
    pub chain: Option<std::sync::Arc<crate::chain::live::ChainView>>,
    /// For side A of two stores side by side: side B and both sides' KPIs so far.
    pub pair: Option<std::sync::Arc<crate::store::pair::PairView>>,
}

/// The only way a viewer acts on a session: it sends inputs, which the simulation thread
/// injects at the sim time they arrive (and records). It holds no reference to the world.
/// For a live chain it acts on the store it shows ([`Controls::show`] changes which).
#[derive(Clone, Debug)]
pub struct Controls {
    to: Target,
    layout: Layout,
}

#[derive(Clone, Debug)]
enum Target {
    Store(Sender<LiveInput<StoreMsg>>),
    Chain {
        tx: Sender<LiveInput<crate::chain::live::ChainMsg>>,
        shown: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        layouts: std::sync::Arc<[Layout]>,
        watched: std::sync::Arc<[std::sync::atomic::AtomicU32]>,
    },
    Pair {
        tx: Sender<LiveInput<crate::store::pair::PairMsg>>,
        layouts: [Layout; 2],
    },
}

impl Controls {
    /// Controls for a world with `layout`, and the receiving end for [`run_session`].
    pub fn new(layout: Layout) -> (Controls, Receiver<LiveInput<StoreMsg>>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (Controls { to: Target::Store(tx), layout }, rx)
    }

    /// Controls for a live chain whose stores have `layouts`, showing store `shown`, and
    /// the inputs for [`crate::chain::live::run_chain_session`].
    pub fn chain(layouts: Vec<Layout>, shown: usize) -> (Controls, crate::chain::live::ChainInputs) {
        let (tx, inputs) = crossbeam_channel::unbounded();
        let shown = shown.min(layouts.len().saturating_sub(1));
        let layout = layouts.get(shown).copied().unwrap_or(Layout::EMPTY);
        let shown = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(shown));
        let watched: std::sync::Arc<[std::sync::atomic::AtomicU32]> =
            (0..layouts.len()).map(|_| std::sync::atomic::AtomicU32::new(0)).collect();
        let inputs = crate::chain::live::ChainInputs {
            inputs,
            shown: std::sync::Arc::clone(&shown),
            watched: std::sync::Arc::clone(&watched),
            forks: None,
        };
        (Controls { to: Target::Chain { tx, shown, layouts: layouts.into(), watched }, layout }, inputs)
    }

    /// Controls for two stores side by side with `layouts` (A, B), and the inputs for
    /// [`crate::store::pair::run_pair_session`]. [`Controls::intervene`] acts on A;
    /// [`Controls::intervene_on`] on either side or both.
    pub fn pair(layouts: [Layout; 2]) -> (Controls, Receiver<LiveInput<crate::store::pair::PairMsg>>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (Controls { to: Target::Pair { tx, layouts }, layout: layouts[0] }, rx)
    }

    /// Side by side: makes each `(side, intervention)` (side 0 is A, 1 is B) at one sim
    /// time. False once the session has ended, or for controls that are not a pair's.
    pub fn intervene_on(&self, whats: &[(u8, Intervention)]) -> bool {
        let Target::Pair { tx, layouts } = &self.to else { return false };
        let msgs = whats
            .iter()
            .map(|(side, what)| {
                let (to, msg) = what.to_injection(layouts[usize::from(*side).min(1)]);
                (*side, to, msg)
            })
            .collect();
        tx.send(LiveInput::Inject { to: ActorId::EXTERNAL, msg: crate::store::pair::PairMsg(msgs) }).is_ok()
    }

    /// Inputs sent and not yet taken by the session (what a bounded queue is checked by).
    pub fn pending(&self) -> usize {
        match &self.to {
            Target::Store(tx) => tx.len(),
            Target::Chain { tx, .. } => tx.len(),
            Target::Pair { tx, .. } => tx.len(),
        }
    }

    /// A live chain: injects `msg` for actor `to` of store `store` at the sim time it is
    /// taken (a sensor reading's message). False as [`Controls::intervene_store`].
    pub fn inject_store(&self, store: usize, to: ActorId, msg: StoreMsg) -> bool {
        let Target::Chain { tx, layouts, .. } = &self.to else { return false };
        if store >= layouts.len() {
            return false;
        }
        let msg = crate::chain::live::ChainMsg { store: store as u16, msg };
        tx.send(LiveInput::Inject { to, msg }).is_ok()
    }

    /// A live chain: makes `what` at store `store` (whichever is shown). False for a store on
    /// its own, a store the chain lacks, or once the session has ended.
    pub fn intervene_store(&self, store: usize, what: Intervention) -> bool {
        let Target::Chain { tx, layouts, .. } = &self.to else { return false };
        let Some(layout) = layouts.get(store) else { return false };
        let (to, msg) = what.to_injection(*layout);
        let msg = crate::chain::live::ChainMsg { store: store as u16, msg };
        tx.send(LiveInput::Inject { to, msg }).is_ok()
    }

    /// A live chain: one more viewer watches store `store` (`on`), or one fewer; while any
    /// does, its frames are sent too. False for a store on its own or one the chain lacks.
    pub fn watch(&self, store: usize, on: bool) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let Target::Chain { watched, .. } = &self.to else { return false };
        let Some(count) = watched.get(store) else { return false };
        if on {
            count.fetch_add(1, Relaxed);
        } else {
            let _ = count.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
        }
        true
    }

    /// The store shown (0 for a store on its own).
    pub fn shown(&self) -> usize {
        match &self.to {
            Target::Store(_) | Target::Pair { .. } => 0,
            Target::Chain { shown, .. } => shown.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Shows store `store` of a live chain from the next frame on (and acts on it);
    /// false for a store on its own or a store the chain does not have.
    pub fn show(&mut self, store: usize) -> bool {
        match &self.to {
            Target::Chain { shown, layouts, .. } if store < layouts.len() => {
                shown.store(store, std::sync::atomic::Ordering::Relaxed);
                self.layout = layouts[store];
                true
            }
            _ => false,
        }
    }

    fn send(&self, input: LiveInput<StoreMsg>) -> bool {
        match &self.to {
            Target::Store(tx) => tx.send(input).is_ok(),
            Target::Chain { tx, shown, .. } => {
                let store = shown.load(std::sync::atomic::Ordering::Relaxed) as u16;
                tx.send(addressed(input, |_, msg| crate::chain::live::ChainMsg { store, msg })).is_ok()
            }
            Target::Pair { tx, .. } => {
                tx.send(addressed(input, |to, msg| crate::store::pair::PairMsg(vec![(0, to, msg)]))).is_ok()
            }
        }
    }

    /// Returns false once the session has ended.
    pub fn intervene(&self, what: Intervention) -> bool {
        let (to, msg) = what.to_injection(self.layout);
        self.send(LiveInput::Inject { to, msg })
    }

    pub fn set_speed(&self, factor: f64) -> bool {
        self.send(LiveInput::SetSpeed(factor))
    }

    pub fn pause(&self) -> bool {
        self.send(LiveInput::Pause)
    }

    pub fn resume(&self) -> bool {
        self.send(LiveInput::Resume)
    }

    pub fn stop(&self) -> bool {
        self.send(LiveInput::Stop)
    }
}

/// `input` for a session whose messages are `wrap`ped store messages (a chain's, naming
/// the store; a pair's, naming the side).
fn addressed<M>(input: LiveInput<StoreMsg>, wrap: impl FnOnce(ActorId, StoreMsg) -> M) -> LiveInput<M> {
    match input {
        LiveInput::Inject { to, msg } => LiveInput::Inject { to, msg: wrap(to, msg) },
        LiveInput::SetSpeed(f) => LiveInput::SetSpeed(f),
        LiveInput::Pause => LiveInput::Pause,
        LiveInput::Resume => LiveInput::Resume,
        LiveInput::Stop => LiveInput::Stop,
    }
}

/// How a session ended.
#[derive(Clone, Debug)]
pub struct SessionEnd {
    pub reason: StopReason,
    pub event_hash: EventHash,
    pub events: u64,
    pub end: SimTime,
    /// Every intervention, live or scheduled, with the sim time it took effect.
    pub interventions: Vec<TimedIntervention>,
    pub max_lag: SimDuration,
    /// The day's KPIs to the end time, invariants checked, and the last snapshot.
    pub run: DayRun,
}

/// Runs a live session of `world` (built with `seed`) on the calling thread (the twin
/// starts it on a thread of its own):
/// paced by `wall`, taking `inputs` (from [`Controls`]), showing every event to `observer`
/// (an event log, a replay check) and sending a [`Frame`] every `frame_every` of wall time
/// and a last one when the session ends. A slow viewer misses frames; it never slows the
/// simulation. The run is the one `run_day_replaying` gives for the same interventions.
pub fn run_session<W: WallClock, O: Observer<StoreMsg>>(
    world: StoreWorld,
    seed: Seed,
    config: &SessionConfig,
    wall: W,
    inputs: &Receiver<LiveInput<StoreMsg>>,
    frames: &Sender<Frame>,
    observer: &mut O,
) -> Result<SessionEnd, DayError> {
    let spec_duration = world.spec.duration;
    let mut sim = simulate(world, seed, &config.scheduled)?;
    let layout = sim.model().layout;

    let end = SimTime::ZERO.saturating_add(spec_duration);
    let until = config.until.map_or(end, |t| t.min(end));
    let limit = RunLimit { until, max_events: config.max_events.unwrap_or(u64::MAX) };
    let mut pacer = Pacer::new(wall, config.speed).paused(config.paused);
    let mut next_frame = Duration::ZERO;
    let reason = sim.run_paced_watched(&mut pacer, inputs, limit, observer, |sim, pacer| {
        let wall_now = pacer.wall_now();
        if wall_now >= next_frame {
            next_frame = wall_now + config.frame_every;
            let frame = Frame {
                snapshot: sim.model().snapshot(sim.now()),
                status: Status::of(pacer, sim.events_delivered(), false),
                chain: None,
                pair: None,
            };
            // A viewer that has not taken the last frames misses this one.
            let _ = frames.try_send(frame);
        }
    })?;

    // A run cut short by its event limit (a replay of a session stopped early) ends where
    // the session ended.
    let now = match (reason, config.until) {
        (StopReason::ReachedEventLimit, Some(until)) => until.max(sim.now()),
        _ => sim.now(),
    };
    let status = Status::of(&pacer, sim.events_delivered(), true);
    let interventions = sim
        .injections()
        .iter()
        .filter_map(|i| {
            Intervention::from_injection(i.to, &i.msg, layout)
                .map(|what| TimedIntervention { at_ns: i.at.as_nanos(), what })
        })
        .collect();
    let max_lag = pacer.max_lag();
    let event_hash = sim.event_hash();
    let events = sim.events_delivered();
    let run = finish(sim, now)?;
    // The last frame is not dropped: wait a while for the viewer to take it.
    let _ = frames
        .send_timeout(Frame { snapshot: run.last.clone(), status, chain: None, pair: None }, Duration::from_secs(5));
    Ok(SessionEnd { reason, event_hash, events, end: now, interventions, max_lag, run })
}

impl Status {
    /// A session's status before it starts, at `speed` and `paused`.
    pub fn starting(speed: f64, paused: bool) -> Status {
        Status { speed, paused, lag: SimDuration::ZERO, max_lag: SimDuration::ZERO, events: 0, done: false }
    }

    /// The status of a session paced by `pacer` that has delivered `events`.
    pub fn of<W: WallClock>(pacer: &Pacer<W>, events: u64, done: bool) -> Status {
        Status {
            speed: pacer.factor(),
            paused: pacer.is_paused(),
            lag: pacer.lag(),
            max_lag: pacer.max_lag(),
            events,
            done,
        }
    }
}
