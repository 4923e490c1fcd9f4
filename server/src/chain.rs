//! A live chain served (`storetwin serve CHAIN.toml`): the whole chain or load test runs
//! paced on a thread of its own ([`run_chain_session_with`]), every store in the chain's
//! order is served under its name, and the operator acts on any of them.
//!
//! Store 0's frames always flow; another store's while a stream client watches it (or for
//! the moment a REST read of it needs a fresh one): [`Controls::watch`]. A forwarding
//! thread turns each frame into the store's published frame (the same wire format as one
//! store's). The session log is a chain session log
//! ([`storetwin_eventlog::chain::ChainLog`]), rewritten whole every second from the
//! chain's checkpoint and at the end, so a server killed outright leaves a log that
//! replays to the identical run up to its last second (`storetwin-twin --replay LOG`).
//!
//! Sensor readings come over HTTP per store (`{"store": NAME, "readings": [...]}`, checked
//! and differenced as for one store) and over MQTT (each message to the store its topic
//! names); a what-if at one store runs a copy of the whole chain ahead ([`ChainFork`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::Context as _;
use serde::Deserialize;
use storetwin_actors::chain::live::{
    ChainCheckpoint, ChainFork, ChainSessionConfig, ChainSessionEnd, StoreIntervention, StoreReading, layouts,
    run_chain_session_with,
};
use storetwin_actors::chain::run::build_chain;
use storetwin_actors::chain::spec::ChainSpec;
use storetwin_actors::store::live::{Controls, Frame, Status};
use storetwin_actors::store::spec::WorldSpec;
use storetwin_actors::store::wire::{WireFloor, WireSale, queue_names};
use storetwin_engine::{Seed, SimTime, StopReason, SystemWall};
use storetwin_eventlog::chain::{CHAIN_FORMAT, CHAIN_VERSION, ChainLog};

use crate::actions::{Action, FieldError, resolve_all};
use crate::api::{ApiError, Control, PROTOCOL, StreamQuery, allow_by, download, json, metrics_text, page};
use crate::auth::{Role, Tokens};
use crate::session::{Published, publish_frame};

/// One store of the served chain.
pub struct ServedStore {
    pub name: String,
    pub spec: Arc<WorldSpec>,
    pub floor: Arc<WireFloor>,
    pub latest: tokio::sync::watch::Receiver<Arc<Published>>,
    pub heat_clients: Arc<AtomicUsize>,
}

/// How a served chain ended.
#[derive(Debug)]
pub struct ChainEnded {
    pub reason: StopReason,
    pub events: u64,
    pub event_hash: String,
    pub end: SimTime,
}

/// The handle on a running chain session.
pub struct ChainSession {
    pub spec: Arc<ChainSpec>,
    pub scenario: PathBuf,
    pub scenario_hash: String,
    pub seed: u64,
    pub stores: Vec<ServedStore>,
    /// The chain session log.
    pub log: PathBuf,
    pub frame_every: Duration,
    controls: Controls,
    /// Asks the session thread for a copy of the chain (a what-if).
    forks: crossbeam_channel::Sender<crossbeam_channel::Sender<ChainFork>>,
    /// Each store's actor layout, and its sensor ingest (counters differenced per device).
    layouts: Vec<storetwin_actors::store::world::Layout>,
    ingest: Vec<Mutex<crate::ingest::Ingest>>,
    now_ns: Arc<AtomicU64>,
    thread: Mutex<Option<JoinHandle<anyhow::Result<ChainEnded>>>>,
}

/// One store of a served chain as the sensor ingest's [`crate::ingest::Sink`].
struct StoreSink<'a> {
    session: &'a ChainSession,
    store: usize,
}

impl crate::ingest::Sink for StoreSink<'_> {
    fn now(&self) -> SimTime {
        self.session.now()
    }

    fn room(&self) -> usize {
        crate::session::INPUT_QUEUE.saturating_sub(self.session.controls.pending())
    }

    fn layout(&self) -> storetwin_actors::store::world::Layout {
        self.session.layouts[self.store]
    }

    fn inject(
        &self,
        to: storetwin_engine::ActorId,
        msg: storetwin_actors::StoreMsg,
    ) -> Result<(), crate::session::Refused> {
        if self.session.controls.inject_store(self.store, to, msg) {
            Ok(())
        } else {
            Err(crate::session::Refused::Ended)
        }
    }
}

/// How the chain session runs.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    pub speed: f64,
    pub paused: bool,
    pub frame_every: Duration,
    pub log: PathBuf,
    pub until: Option<SimTime>,
}

/// The log of the chain at a checkpoint (or its end).
struct LogOf<'a> {
    scenario: &'a std::path::Path,
    scenario_hash: &'a str,
    seed: u64,
    /// The store a replay in the twin starts on (the first).
    shown: String,
}

impl LogOf<'_> {
    fn log(
        &self,
        inputs: (Vec<StoreIntervention>, Vec<StoreReading>),
        events: u64,
        hash: String,
        shards: Vec<String>,
        end: SimTime,
    ) -> ChainLog {
        let (interventions, readings) = inputs;
        ChainLog {
            format: CHAIN_FORMAT.into(),
            version: CHAIN_VERSION,
            scenario: std::path::absolute(self.scenario).unwrap_or_else(|_| self.scenario.to_path_buf()),
            scenario_hash: self.scenario_hash.to_string(),
            seed: self.seed,
            written_by: "storetwin serve".into(),
            shown: self.shown.clone(),
            interventions,
            readings,
            events,
            event_hash: hash,
            shard_hashes: shards,
            end_ns: end.as_nanos(),
        }
    }
}

impl ChainSession {
    /// Starts the chain `spec` (of the file `scenario`, with content hash `scenario_hash`)
    /// with `seed` on a thread of its own.
    pub fn start(
        spec: &ChainSpec,
        scenario: PathBuf,
        scenario_hash: String,
        seed: u64,
        config: ChainConfig,
    ) -> anyhow::Result<ChainSession> {
        if let Some(dir) = config.log.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {} for the session log", dir.display()))?;
        }
        let built = build_chain(spec, Seed(seed))?;
        let spec = Arc::clone(&built.spec);
        let store_layouts = layouts(&built);
        let (controls, mut inputs) = Controls::chain(store_layouts.clone(), 0);
        let (forks, forks_rx) = crossbeam_channel::unbounded();
        inputs.forks = Some(forks_rx);
        let status = Status::starting(config.speed, config.paused);
        let mut senders = Vec::new();
        let mut stores = Vec::new();
        let mut names = Vec::new();
        for (s, store) in spec.stores.iter().enumerate() {
            let world = Arc::new(store.world.clone());
            let queue = queue_names(&world);
            let mut floor = WireFloor::of(&world);
            floor.scenario = scenario.display().to_string();
            floor.scenario_hash = scenario_hash.clone();
            floor.seed = seed;
            floor.sale = spec.flash.as_ref().and_then(|f| WireSale::of(&world, &f.name, f.sku.0));
            let first = built.store(s).map(|sim| {
                let frame = Frame { snapshot: sim.model().snapshot(SimTime::ZERO), status, chain: None, pair: None };
                publish_frame(&frame, &world, &queue, false, 0)
            });
            let first = first.context("a chain store without its simulation")?;
            let (tx, rx) = tokio::sync::watch::channel(Arc::new(first));
            senders.push(tx);
            stores.push(ServedStore {
                name: store.name.clone(),
                spec: Arc::clone(&world),
                floor: Arc::new(floor),
                latest: rx,
                heat_clients: Arc::new(AtomicUsize::new(0)),
            });
            names.push((world, queue));
        }
        let now_ns = Arc::new(AtomicU64::new(0));
        let heat: Vec<Arc<AtomicUsize>> = stores.iter().map(|s| Arc::clone(&s.heat_clients)).collect();
        let (frames_tx, frames_rx) = crossbeam_channel::bounded::<Frame>(1024);
        let forward_now = Arc::clone(&now_ns);
        let sweep = controls.clone();
        let store_count = spec.stores.len();
        let every = config.frame_every;
        std::thread::Builder::new()
            .name("storetwin-chain-publish".into())
            .spawn(move || {
                let mut seqs = vec![0u64; senders.len()];
                // Once a second every store's frame goes out, for the metrics (each store's
                // gauges under its name); between sweeps only the watched stores'.
                let mut next_sweep = std::time::Instant::now();
                let mut sweeping: Option<std::time::Instant> = None;
                loop {
                    let frame = match frames_rx.recv_timeout(every) {
                        Ok(f) => f,
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                            sweep_stores(&sweep, store_count, &mut next_sweep, &mut sweeping, every);
                            continue;
                        }
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                    };
                    sweep_stores(&sweep, store_count, &mut next_sweep, &mut sweeping, every);
                    let Some(store) = frame.chain.as_ref().map(|c| usize::from(c.store)) else { continue };
                    let (Some(tx), Some((world, queue))) = (senders.get(store), names.get(store)) else { continue };
                    if store == 0 {
                        forward_now.store(frame.snapshot.at.as_nanos(), Ordering::Relaxed);
                    }
                    crate::telemetry::chain_store(&frame, &world.store.name, store == 0, queue);
                    seqs[store] += 1;
                    let with_heat = frame.status.done || heat[store].load(Ordering::Relaxed) > 0;
                    tx.send_replace(Arc::new(publish_frame(&frame, world, queue, with_heat, seqs[store])));
                }
            })
            .context("cannot start the publishing thread")?;
        let session_config = ChainSessionConfig {
            speed: config.speed,
            paused: config.paused,
            until: config.until,
            scheduled: Vec::new(),
            scheduled_readings: Vec::new(),
            frame_every: config.frame_every,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            checkpoint_every: Some(Duration::from_secs(1)),
        };
        let (log_path, path, hash) = (config.log.clone(), scenario.clone(), scenario_hash.clone());
        let shown = spec.stores.first().map_or_else(String::new, |s| s.name.clone());
        let labels: Vec<(String, Vec<String>)> =
            spec.stores.iter().map(|s| (s.name.clone(), queue_names(&s.world))).collect();
        let thread = std::thread::Builder::new()
            .name("storetwin-chain-session".into())
            .spawn(move || {
                let of = LogOf { scenario: &path, scenario_hash: &hash, seed, shown };
                let mut failed = None;
                let mut checkpoint = |cp: &ChainCheckpoint| {
                    crate::telemetry::chain_waits(&cp.waits, &labels);
                    let shards = cp.shard_hashes.iter().map(ToString::to_string).collect();
                    let inputs = (cp.interventions.clone(), cp.readings.clone());
                    let log = of.log(inputs, cp.events, cp.event_hash.to_string(), shards, cp.at);
                    if failed.is_none()
                        && let Err(e) = log.write(&log_path)
                    {
                        tracing::error!("the session log {} cannot be written: {e}", log_path.display());
                        failed = Some(e);
                    }
                };
                let ended = run_chain_session_with(
                    built,
                    &session_config,
                    SystemWall::default(),
                    &inputs,
                    &frames_tx,
                    &mut checkpoint,
                );
                let end: ChainSessionEnd = ended.map_err(|e| anyhow::anyhow!("the chain stopped: {e}"))?;
                if let Some(e) = failed {
                    return Err(anyhow::anyhow!("the session log could not be written: {e}"));
                }
                let run = &end.run;
                let shards = run.shard_hashes.iter().map(ToString::to_string).collect();
                let inputs = (end.interventions.clone(), end.readings.clone());
                let log = of.log(inputs, run.events, run.event_hash.to_string(), shards, end.end);
                log.write(&log_path)?;
                Ok(ChainEnded {
                    reason: end.reason,
                    events: run.events,
                    event_hash: run.event_hash.to_string(),
                    end: end.end,
                })
            })
            .context("cannot start the chain session thread")?;
        Ok(ChainSession {
            spec,
            scenario,
            scenario_hash,
            seed,
            log: config.log,
            frame_every: config.frame_every,
            controls,
            forks,
            ingest: stores.iter().map(|s| Mutex::new(crate::ingest::Ingest::new(Arc::clone(&s.spec)))).collect(),
            layouts: store_layouts,
            stores,
            now_ns,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// An exact copy of the live chain (taken by the session thread between two steps; the
    /// session does not pause for it). `None` once it has ended.
    pub fn fork(&self, timeout: Duration) -> Option<ChainFork> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.forks.send(tx).ok()?;
        rx.recv_timeout(timeout).ok()
    }

    /// Takes a batch of store `s`'s readings (checked whole, as for one store's session).
    pub fn take_readings(
        &self,
        s: usize,
        readings: &[crate::ingest::RawReading],
        via: crate::ingest::Transport,
    ) -> Result<crate::ingest::IngestReport, ApiError> {
        let sink = StoreSink { session: self, store: s };
        let mut ingest =
            self.ingest[s].lock().map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the ingest failed"))?;
        ingest.take(readings, via, &sink)
    }

    /// The chain's controls (pace, interventions at a store, watching a store).
    pub fn controls(&self) -> &Controls {
        &self.controls
    }

    /// The session's sim time now (store 0's latest frame).
    pub fn now(&self) -> SimTime {
        SimTime::from_nanos(self.now_ns.load(Ordering::Relaxed))
    }

    /// The store named `name` (the first when `None`), or a 404 that lists the names.
    /// The store a request's body names (`what` says who must name it, as "its what-if
    /// names its"): a 422 naming the `store` field without one, a 404 for an unknown one.
    pub fn named_store(&self, name: Option<&str>, what: &str) -> Result<(usize, &ServedStore), ApiError> {
        let Some(name) = name else {
            return Err(ApiError::field(FieldError::new(
                "store",
                format!("a chain's {what} store: {{\"store\": NAME, ...}}"),
            )));
        };
        self.store(Some(name))
    }

    pub fn store(&self, name: Option<&str>) -> Result<(usize, &ServedStore), ApiError> {
        let Some(name) = name else { return self.stores.first().map(|s| (0, s)).ok_or_else(no_stores) };
        self.stores.iter().enumerate().find(|(_, s)| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.stores.iter().map(|s| s.name.as_str()).take(12).collect();
            ApiError {
                field: Some("store".into()),
                ..ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!(
                        "the chain has no store {name:?}; its stores: {}{}",
                        names.join(", "),
                        if self.stores.len() > 12 { ", …" } else { "" }
                    ),
                )
            }
        })
    }

    /// A fresh frame of store `s`: its latest if it is watched, else it is watched for
    /// long enough to publish one (a few frames at most).
    pub async fn fresh(&self, s: usize) -> Arc<Published> {
        let store = &self.stores[s];
        if s == 0 || self.thread.lock().map(|t| t.is_none()).unwrap_or(true) {
            return store.latest.borrow().clone();
        }
        let mut rx = store.latest.clone();
        rx.borrow_and_update();
        self.controls.watch(s, true);
        let wait = (self.frame_every * 4).max(Duration::from_millis(200));
        let _ = tokio::time::timeout(wait, rx.changed()).await;
        self.controls.watch(s, false);
        rx.borrow().clone()
    }

    /// Asks the session to stop, and waits for its end.
    pub fn stop(&self) -> Option<anyhow::Result<ChainEnded>> {
        self.controls.stop();
        self.join()
    }

    /// Waits for the session to end (the first caller gets the outcome).
    pub fn join(&self) -> Option<anyhow::Result<ChainEnded>> {
        let handle = self.thread.lock().ok()?.take()?;
        Some(handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the chain session thread panicked"))))
    }
}

/// The metrics' sweep: every second every store is watched for a few frames.
fn sweep_stores(
    controls: &Controls,
    stores: usize,
    next: &mut std::time::Instant,
    sweeping: &mut Option<std::time::Instant>,
    every: Duration,
) {
    let now = std::time::Instant::now();
    match sweeping {
        Some(since) if now.duration_since(*since) >= every * 3 => {
            for s in 0..stores {
                controls.watch(s, false);
            }
            *sweeping = None;
        }
        None if now >= *next => {
            for s in 0..stores {
                controls.watch(s, true);
            }
            *sweeping = Some(now);
            *next = now + Duration::from_secs(1);
        }
        _ => {}
    }
}

fn no_stores() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "the chain has no stores")
}

/// What the chain's routes share.
pub struct ChainState {
    pub session: Arc<ChainSession>,
    pub tokens: Tokens,
}

type State = web::Data<ChainState>;

#[derive(Deserialize)]
struct StoreQuery {
    store: Option<String>,
    #[serde(default)]
    heat: u8,
}

async fn health(state: State) -> HttpResponse {
    let frame = state.session.stores.first().map(|s| s.latest.borrow().clone());
    let (status, clock, at) = match &frame {
        Some(f) => (
            if f.wire.status.done {
                "ended"
            } else if f.wire.status.paused {
                "paused"
            } else {
                "running"
            },
            f.wire.clock.clone(),
            f.wire.at_ns as f64 / 1e9,
        ),
        None => ("ended", String::new(), 0.0),
    };
    HttpResponse::Ok().json(serde_json::json!({
        "status": "ok", "session": status, "clock": clock, "sim_time_s": at,
        "chain": state.session.spec.name, "stores": state.session.stores.len(),
    }))
}

async fn stores(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Viewer)?;
    let list: Vec<serde_json::Value> = state
        .session
        .stores
        .iter()
        .map(|s| serde_json::json!({ "name": s.name, "lanes": s.spec.store.lanes.len(), "devices": s.spec.store.devices.len() }))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "chain": state.session.spec.name, "stores": list })))
}

async fn floor(req: HttpRequest, state: State, query: web::Query<StoreQuery>) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Viewer)?;
    let (_, store) = state.session.store(query.store.as_deref())?;
    Ok(HttpResponse::Ok().json(&*store.floor))
}

async fn current(req: HttpRequest, state: State, query: web::Query<StoreQuery>) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Viewer)?;
    let (s, _) = state.session.store(query.store.as_deref())?;
    let frame = state.session.fresh(s).await;
    if query.heat != 0 {
        return Ok(HttpResponse::Ok().json(&frame.wire));
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(frame.json.as_bytes().clone()))
}

async fn kpis(req: HttpRequest, state: State, query: web::Query<StoreQuery>) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Viewer)?;
    let (s, store) = state.session.store(query.store.as_deref())?;
    let frame = state.session.fresh(s).await;
    let w = &frame.wire;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "version": w.version,
        "store": store.name,
        "clock": w.clock,
        "status": w.status,
        "kpis": w.kpis,
        "queues": w.queues,
        "lanes": w.lanes,
        "devices": w.devices,
    })))
}

async fn log(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Viewer)?;
    download(state.session.log.clone()).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Interventions {
    store: Option<String>,
    interventions: Vec<Action>,
}

async fn interventions(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Operator)?;
    let body: Interventions = json(body).await?;
    let (s, store) = state.session.named_store(body.store.as_deref(), "interventions name their")?;
    if body.interventions.is_empty() || body.interventions.len() > 100 {
        return Err(ApiError::field(FieldError::new("interventions", "expected 1 to 100 actions")));
    }
    let list = resolve_all(&body.interventions, &store.spec, "interventions").map_err(ApiError::field)?;
    let at = state.session.now();
    for what in list {
        if !state.session.controls.intervene_store(s, what) {
            return Err(ApiError::conflict("the session has ended; it takes no more inputs"));
        }
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "accepted": body.interventions.len(),
        "store": store.name,
        "at": storetwin_actors::store::wire::clock(state.session.spec.open_at_s, at),
        "interventions": body.interventions,
    })))
}

async fn control(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Operator)?;
    let body: Control = json(body).await?;
    body.check()?;
    let controls = &state.session.controls;
    let sent = body.speed.is_none_or(|x| controls.set_speed(x))
        && match body.pause {
            Some(true) => controls.pause(),
            Some(false) => controls.resume(),
            None => true,
        };
    if !sent {
        return Err(ApiError::conflict("the session has ended; it takes no more inputs"));
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "pause": body.pause, "speed": body.speed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Readings {
    store: Option<String>,
    readings: Vec<crate::ingest::RawReading>,
}

/// A batch of one store's readings: `{"store": NAME, "readings": [...]}`, checked and taken
/// as for one store's session.
async fn readings(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Operator)?;
    let body: Readings = match json(body).await {
        Ok(b) => b,
        Err(e) => {
            metrics::counter!(crate::telemetry::REJECTED, "reason" => "malformed", "via" => "http").increment(1);
            return Err(e);
        }
    };
    let (s, _) = state.session.named_store(body.store.as_deref(), "readings name their")?;
    let report = state.session.take_readings(s, &body.readings, crate::ingest::Transport::Http)?;
    Ok(HttpResponse::Accepted().json(report))
}

/// A what-if at one store of the chain: `POST /v1/forecast` as for one store, with
/// `"store": NAME`. The whole chain is copied and run ahead (the other stores and the
/// centres too), and the answer is that store's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainForecast {
    store: Option<String>,
    #[serde(default)]
    interventions: Vec<Action>,
    horizon: String,
    #[serde(default = "default_replications")]
    replications: u32,
    #[serde(default)]
    seed: Option<u64>,
}

fn default_replications() -> u32 {
    20
}

/// A copy of the chain, as a forecast runs ahead the store it asks about.
struct StoreAhead {
    fork: ChainFork,
    store: usize,
}

impl crate::forecast::Ahead for StoreAhead {
    fn now(&self) -> SimTime {
        self.fork.now()
    }

    fn copy(&self) -> Self {
        StoreAhead { fork: self.fork.copy(), store: self.store }
    }

    fn reseeded(&self, streams: Seed) -> Self {
        StoreAhead { fork: self.fork.reseeded(streams), store: self.store }
    }

    fn make(&mut self, interventions: &[storetwin_actors::store::live::Intervention]) -> anyhow::Result<()> {
        for what in interventions {
            self.fork.intervene(self.store, *what)?;
        }
        Ok(())
    }

    fn run_to(&mut self, t: SimTime) -> anyhow::Result<()> {
        Ok(self.fork.run_to(t)?)
    }

    fn world(&self) -> &storetwin_actors::StoreWorld {
        self.fork.store(self.store).expect("the store asked about is in the chain")
    }

    fn identity(&self) -> (u64, String) {
        (self.fork.events(), self.fork.event_hash().to_string())
    }
}

async fn forecast(req: HttpRequest, state: State, body: web::Payload) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Operator)?;
    let body: ChainForecast = json(body).await?;
    let (s, store) = state.session.named_store(body.store.as_deref(), "what-if names its")?;
    let request = crate::forecast::Request {
        interventions: body.interventions,
        horizon: body.horizon,
        replications: body.replications,
        seed: body.seed,
    };
    let plan = request.check(&store.spec, state.session.seed).map_err(ApiError::field)?;
    let session = Arc::clone(&state.session);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let answer = web::block(move || {
        let fork = session
            .fork(Duration::from_secs(10))
            .ok_or_else(|| ApiError::conflict("the session has ended; there is no live state to forecast from"))?;
        let spec = Arc::clone(&session.stores[s].spec);
        crate::forecast::forecast(&StoreAhead { fork, store: s }, &spec, &plan, threads)
            .map_err(|e| ApiError::conflict(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    metrics::counter!(crate::telemetry::FORECASTS).increment(1);
    metrics::histogram!(crate::telemetry::FORECAST_SECONDS).record(answer.wall_s);
    let mut json =
        serde_json::to_value(&answer).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    json["store"] = store.name.as_str().into();
    Ok(HttpResponse::Ok().json(json))
}

async fn prometheus(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    allow_by(&req, &state.tokens, Role::Viewer)?;
    Ok(metrics_text())
}

async fn stream(
    req: HttpRequest,
    state: State,
    body: web::Payload,
    query: web::Query<StreamQuery>,
    store: web::Query<StoreQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    allow_by(&req, &state.tokens, Role::Viewer)?;
    let every = query.every()?;
    let (s, served) = state.session.store(store.store.as_deref())?;
    let (response, ws, messages) = actix_ws::handle_with_protocols(&req, body, &[PROTOCOL])?;
    let session = Arc::clone(&state.session);
    session.controls.watch(s, true);
    let done: Box<dyn FnOnce() + Send> = Box::new(move || {
        session.controls.watch(s, false);
    });
    let feed = crate::stream::Feed {
        latest: served.latest.clone(),
        heat_clients: Arc::clone(&served.heat_clients),
        frame_every: state.session.frame_every,
        done: Some(done),
    };
    actix_web::rt::spawn(crate::stream::serve_feed(feed, ws, messages, every, query.heat != 0));
    Ok(response)
}

/// The chain's routes, for `App::configure`: one store's API with `?store=NAME` (the first
/// store without it) and `GET /v1/stores`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page))
        .route("/v1/health", web::get().to(health))
        .route("/v1/stores", web::get().to(stores))
        .route("/v1/floor", web::get().to(floor))
        .route("/v1/state", web::get().to(current))
        .route("/v1/kpis", web::get().to(kpis))
        .route("/v1/log", web::get().to(log))
        .route("/v1/stream", web::get().to(stream))
        .route("/v1/interventions", web::post().to(interventions))
        .route("/v1/control", web::post().to(control))
        .route("/v1/readings", web::post().to(readings))
        .route("/v1/forecast", web::post().to(forecast))
        .route("/metrics", web::get().to(prometheus));
}
