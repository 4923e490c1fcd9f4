//! The live session the server serves: one store's simulation, paced, on a thread of its
//! own, which it alone touches.
//!
//! The rest of the server reaches it through [`Session`]: a bounded channel of inputs
//! (interventions, readings, pace), a channel to ask for a fork (an exact copy of the
//! simulation between two batches of events, for a what-if), and a `watch` channel holding
//! the latest published frame (a slow reader skips frames; nothing waits for readers).
//! The thread writes the session log as it goes ([`crate::journal`]): inputs, and a
//! checkpoint every second.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use bytestring::ByteString;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use storetwin_actors::StoreMsg;
use storetwin_actors::store::day::{DayRun, finish};
use storetwin_actors::store::live::{Frame, Status};
use storetwin_actors::store::spec::WorldSpec;
use storetwin_actors::store::wire::{WireFloor, WireFrame, queue_names};
use storetwin_actors::store::world::{Layout, StoreWorld};
use storetwin_engine::{LiveInput, Pacer, RunLimit, Seed, SimTime, Simulation, StopReason, SystemWall};

use crate::journal::{End, Header, Journal};
use crate::telemetry;

/// How the session runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Sim seconds per wall second.
    pub speed: f64,
    pub paused: bool,
    /// Wall time between two published frames (the fastest a client can be fed).
    pub frame_every: Duration,
    /// The session log.
    pub journal: PathBuf,
    /// Stop here instead of the scenario's end.
    pub until: Option<SimTime>,
}

/// Most inputs waiting for the session thread; past that a sender is told to retry.
pub const INPUT_QUEUE: usize = 200_000;

/// One published frame: the wire frame, encoded once for every client.
#[derive(Debug)]
pub struct Published {
    /// Counts frames from 1 (0: none yet).
    pub seq: u64,
    /// The frame, heat map included.
    pub wire: WireFrame,
    /// The frame without the heat map, as the stream sends it.
    pub json: ByteString,
    /// The same frame with the dwell heat map, while a client streams it.
    pub json_heat: Option<ByteString>,
}

/// How the session ended.
#[derive(Debug)]
pub struct Ended {
    pub reason: StopReason,
    pub events: u64,
    pub event_hash: String,
    pub run: DayRun,
}

/// The handle on a running session.
pub struct Session {
    pub spec: Arc<WorldSpec>,
    pub floor: Arc<WireFloor>,
    pub layout: Layout,
    pub scenario: PathBuf,
    pub scenario_hash: String,
    pub seed: u64,
    pub journal: PathBuf,
    /// Wall time between two published frames.
    pub frame_every: Duration,
    inputs: Sender<LiveInput<StoreMsg>>,
    forks: Sender<Sender<Simulation<StoreWorld>>>,
    pub latest: tokio::sync::watch::Receiver<Arc<Published>>,
    /// Clients that want the heat map in their frames.
    pub heat_clients: Arc<AtomicUsize>,
    /// The session's sim time now, nanoseconds (updated between batches of events).
    now_ns: Arc<AtomicU64>,
    thread: std::sync::Mutex<Option<JoinHandle<anyhow::Result<Ended>>>>,
}

/// Why an input was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The session has ended.
    Ended,
    /// The input queue is full: retry later.
    Full,
}

impl Session {
    /// Starts `spec`'s world with `seed` on its own thread.
    pub fn start(
        spec: WorldSpec,
        scenario: PathBuf,
        scenario_hash: String,
        seed: u64,
        config: Config,
    ) -> anyhow::Result<Session> {
        let world = StoreWorld::build(spec.clone(), Seed(seed));
        let layout = world.layout;
        let header =
            Header { storetwin_session: 1, scenario: scenario.clone(), scenario_hash: scenario_hash.clone(), seed };
        let journal = Journal::create(&config.journal, &header, layout)?;
        let (inputs, inputs_rx) = crossbeam_channel::bounded(INPUT_QUEUE);
        let (forks, forks_rx) = crossbeam_channel::unbounded();
        let spec = Arc::new(spec);
        let names = queue_names(&spec);
        let mut floor = WireFloor::of(&spec);
        floor.scenario = scenario.display().to_string();
        floor.scenario_hash = scenario_hash.clone();
        floor.seed = seed;
        let floor = Arc::new(floor);
        let heat_clients = Arc::new(AtomicUsize::new(0));
        let now_ns = Arc::new(AtomicU64::new(0));
        let first = {
            let frame = Frame {
                snapshot: world.snapshot(SimTime::ZERO),
                status: Status::starting(config.speed, config.paused),
                chain: None,
                pair: None,
            };
            publish_frame(&frame, &spec, &names, false, 0)
        };
        let (latest_tx, latest) = tokio::sync::watch::channel(Arc::new(first));
        let runner = Runner {
            spec: spec.clone(),
            names,
            seed: Seed(seed),
            config: config.clone(),
            journal,
            latest: latest_tx,
            heat_clients: heat_clients.clone(),
            now_ns: now_ns.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("storetwin-session".into())
            .spawn(move || runner.run(world, &inputs_rx, &forks_rx))
            .context("cannot start the session thread")?;
        Ok(Session {
            spec,
            floor,
            layout,
            scenario,
            scenario_hash,
            seed,
            journal: config.journal,
            frame_every: config.frame_every,
            inputs,
            forks,
            latest,
            heat_clients,
            now_ns,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// The session's sim time now.
    pub fn now(&self) -> SimTime {
        SimTime::from_nanos(self.now_ns.load(Ordering::Relaxed))
    }

    /// The latest published frame.
    pub fn frame(&self) -> Arc<Published> {
        self.latest.borrow().clone()
    }

    /// Hands `input` to the session thread (it takes effect at the sim time it is taken).
    pub fn send(&self, input: LiveInput<StoreMsg>) -> Result<(), Refused> {
        self.inputs.try_send(input).map_err(|e| match e {
            TrySendError::Full(_) => Refused::Full,
            TrySendError::Disconnected(_) => Refused::Ended,
        })
    }

    /// Free room in the input queue.
    pub fn room(&self) -> usize {
        INPUT_QUEUE.saturating_sub(self.inputs.len())
    }

    /// An exact copy of the simulation as it is now (taken by the session thread between
    /// two batches of events; the session does not pause for it). `None` once it has ended.
    pub fn fork(&self, timeout: Duration) -> Option<Simulation<StoreWorld>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.forks.send(tx).ok()?;
        rx.recv_timeout(timeout).ok()
    }

    /// Asks the session to stop, and waits for its end.
    pub fn stop(&self) -> Option<anyhow::Result<Ended>> {
        let _ = self.inputs.send_timeout(LiveInput::Stop, Duration::from_secs(5));
        self.join()
    }

    /// Waits for the session to end (the first caller gets the outcome).
    pub fn join(&self) -> Option<anyhow::Result<Ended>> {
        let handle = self.thread.lock().ok()?.take()?;
        Some(handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the session thread panicked"))))
    }
}

struct Runner {
    spec: Arc<WorldSpec>,
    names: Vec<String>,
    seed: Seed,
    config: Config,
    journal: Journal,
    latest: tokio::sync::watch::Sender<Arc<Published>>,
    heat_clients: Arc<AtomicUsize>,
    now_ns: Arc<AtomicU64>,
}

pub(crate) fn publish_frame(frame: &Frame, spec: &WorldSpec, names: &[String], heat: bool, seq: u64) -> Published {
    let mut wire = WireFrame::of(frame, spec, names, true);
    wire.sent_us =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_micros() as u64);
    let map = wire.heat.take();
    let encode = |w: &WireFrame| ByteString::from(serde_json::to_string(w).expect("a frame serialises"));
    let json = encode(&wire);
    wire.heat = map;
    let json_heat = heat.then(|| encode(&wire));
    Published { seq, wire, json, json_heat }
}

impl Runner {
    fn run(
        mut self,
        world: StoreWorld,
        inputs: &Receiver<LiveInput<StoreMsg>>,
        forks: &Receiver<Sender<Simulation<StoreWorld>>>,
    ) -> anyhow::Result<Ended> {
        let end = SimTime::ZERO.saturating_add(self.spec.duration);
        let until = self.config.until.map_or(end, |t| t.min(end));
        let mut sim = Simulation::new(world, self.seed);
        let mut pacer = Pacer::new(SystemWall::default(), self.config.speed).paused(self.config.paused);
        let mut next_frame = Duration::ZERO;
        let mut next_check = Duration::from_secs(1);
        let mut seq = 0;
        let mut journal_error = None;
        let mut telemetry = telemetry::SessionGauges::new(&self.names);
        let reason = sim
            .run_paced_watched(&mut pacer, inputs, RunLimit::until(until), &mut (), |sim, pacer| {
                self.now_ns.store(sim.now().as_nanos(), Ordering::Relaxed);
                while let Ok(reply) = forks.try_recv() {
                    let _ = reply.send(sim.fork());
                }
                let wall = pacer.wall_now();
                if wall >= next_frame {
                    next_frame = wall + self.config.frame_every;
                    seq += 1;
                    let frame = Frame {
                        snapshot: sim.model().snapshot(sim.now()),
                        status: Status::of(pacer, sim.events_delivered(), false),
                        chain: None,
                        pair: None,
                    };
                    telemetry.update(sim.model(), &frame);
                    let heat = self.heat_clients.load(Ordering::Relaxed) > 0;
                    self.latest.send_replace(Arc::new(publish_frame(&frame, &self.spec, &self.names, heat, seq)));
                }
                if wall >= next_check && journal_error.is_none() {
                    next_check = wall + Duration::from_secs(1);
                    if let Err(e) = self.journal.checkpoint(sim) {
                        tracing::error!("the session log {} cannot be written: {e:#}", self.journal.path().display());
                        journal_error = Some(e);
                    }
                }
            })
            .map_err(|e| anyhow::anyhow!("the session stopped: {e}"))?;
        if let Some(e) = journal_error {
            return Err(e.context("the session log could not be written"));
        }
        let now = sim.now();
        self.journal.checkpoint(&sim)?;
        let ended = End {
            at_ns: now.as_nanos(),
            events: sim.events_delivered(),
            event_hash: sim.event_hash().to_string(),
            reason: format!("{reason:?}"),
        };
        self.journal.end(ended.clone())?;
        let last_status = Status::of(&pacer, sim.events_delivered(), true);
        // The metrics take the end's figures too (every wait to the last).
        let end_frame = Frame { snapshot: sim.model().snapshot(now), status: last_status, chain: None, pair: None };
        telemetry.update(sim.model(), &end_frame);
        let run = finish(sim, now).map_err(|e| anyhow::anyhow!("the session's end checks failed: {e}"))?;
        let frame = Frame { snapshot: run.last.clone(), status: last_status, chain: None, pair: None };
        seq += 1;
        self.latest.send_replace(Arc::new(publish_frame(&frame, &self.spec, &self.names, true, seq)));
        Ok(Ended { reason, events: ended.events, event_hash: ended.event_hash, run })
    }
}
