//! The twin's simulation side, without Bevy: a live or replayed session on its own
//! thread, paced, recording to an event log and checking a replay against one.
//!
//! The window gets a [`Twin`]: a receiver of [`Frame`]s (owned copies of the store) and
//! [`Controls`] (a sender of inputs). That is all it can reach: the world lives on the
//! simulation thread and is never shared, so the window cannot change simulation state.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, bail};
use crossbeam_channel::Receiver;
use storetwin_actors::StoreMsg;
use storetwin_actors::StoreWorld;
use storetwin_actors::chain::live::{ChainSessionConfig, ChainSessionEnd, StoreIntervention};
use storetwin_actors::chain::run::ChainError;
use storetwin_actors::store::live::{
    Controls, Frame, Intervention, SessionConfig, SessionEnd, TimedIntervention, run_session,
};
use storetwin_actors::store::pair::{PairConfig, PairEnd, PairError, run_pair_session};
use storetwin_actors::store::spec::WorldSpec;
use storetwin_engine::{ActorId, EventKey, Observer, Seed, SimTime, WallClock};
use storetwin_eventlog::{Checker, EndState, EventLog, Header, LogReader, Trailer};
use storetwin_scenarios::Scenario;

/// What the session plays.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant, reason = "one per session")]
pub enum Mode {
    /// The scenario, live: the ops team may intervene.
    Live,
    /// An event log, replayed: the scenario with the log's seed and interventions, every
    /// event checked against the log's record.
    Replay { log: PathBuf, header: Header, trailer: Trailer },
}

impl Mode {
    pub fn is_replay(&self) -> bool {
        matches!(self, Mode::Replay { .. })
    }
}

/// How to start a session.
#[derive(Clone, Debug)]
pub struct Options {
    pub speed: f64,
    pub paused: bool,
    /// Stop at this sim time (a screenshot's `--at`).
    pub until: Option<SimTime>,
    /// Record the session to this event log.
    pub events: Option<PathBuf>,
    pub frame_every: Duration,
    /// Interventions planned ahead (`--intervene`), made at their times as if from the
    /// window, and recorded the same way.
    pub planned: Vec<TimedIntervention>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            speed: 60.0,
            paused: false,
            until: None,
            events: None,
            frame_every: Duration::from_millis(33),
            planned: Vec::new(),
        }
    }
}

/// A replay's verdict: the replayed run against the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub log: PathBuf,
    pub expected_hash: String,
    pub replayed_hash: String,
    pub expected_events: u64,
    pub replayed_events: u64,
    /// Events of the log the replay did not reach (it was stopped early).
    pub unreached: u64,
    pub divergence: Option<String>,
    pub expected_end: EndState,
    pub replayed_end: EndState,
}

impl Verdict {
    /// The replay reached the log's end with the identical run.
    pub fn identical(&self) -> bool {
        self.divergence.is_none()
            && self.unreached == 0
            && self.expected_hash == self.replayed_hash
            && self.expected_events == self.replayed_events
            && self.expected_end == self.replayed_end
    }

    pub fn describe(&self) -> String {
        if self.identical() {
            format!(
                "replay identical to {}: {} events, event_hash {}, end state {:?}",
                self.log.display(),
                self.replayed_events,
                self.replayed_hash,
                self.replayed_end
            )
        } else if let Some(d) = &self.divergence {
            format!("replay DIFFERS from {}: {d}", self.log.display())
        } else if self.unreached > 0 {
            format!(
                "replay stopped early: {} of the log's {} events replayed, all identical so far",
                self.replayed_events, self.expected_events
            )
        } else {
            format!(
                "replay DIFFERS from {}: event_hash {} (log {}), end state {:?} (log {:?})",
                self.log.display(),
                self.replayed_hash,
                self.expected_hash,
                self.replayed_end,
                self.expected_end
            )
        }
    }
}

/// How a session ended, as the twin reports it.
#[derive(Debug)]
pub struct Outcome {
    pub end: SessionEnd,
    /// The event log written, and its records.
    pub log: Option<(PathBuf, u64)>,
    pub verdict: Option<Verdict>,
}

/// A running session, as the window holds it.
pub struct Twin {
    pub scenario: Scenario,
    pub seed: Seed,
    pub mode: Mode,
    pub controls: Controls,
    pub frames: Receiver<Frame>,
    thread: Option<JoinHandle<anyhow::Result<Outcome>>>,
}

/// Reads a log's header and trailer and loads its scenario (`scenario` overrides the
/// path the header names); refuses a scenario whose content changed since.
pub fn open_replay(log: &Path, scenario: Option<&Path>) -> anyhow::Result<(Scenario, Mode)> {
    let (header, trailer) = storetwin_eventlog::read_log(log)?;
    let path = scenario.map_or_else(|| header.scenario.clone(), Path::to_path_buf);
    let loaded = load_scenario(&path).with_context(|| {
        format!("{}: cannot load the scenario it was recorded from ({})", log.display(), path.display())
    })?;
    if loaded.hash != header.scenario_hash {
        bail!(
            "{}: recorded from a scenario with hash {}, but {} now has hash {}: the file changed, so the replay \
             would not be the same run",
            log.display(),
            header.scenario_hash,
            path.display(),
            loaded.hash
        );
    }
    Ok((loaded, Mode::Replay { log: log.to_path_buf(), header, trailer }))
}

/// Loads a scenario, turning its diagnostics into the compiler-like report.
pub fn load_scenario(path: &Path) -> anyhow::Result<Scenario> {
    storetwin_scenarios::load(path).map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))
}

/// Sees every event: writes the session's log, checks a replay against its log.
struct Recorder {
    log: Option<EventLog>,
    check: Option<Checker>,
}

impl Observer<StoreMsg> for Recorder {
    #[inline]
    fn on_event(&mut self, key: EventKey, to: ActorId, msg: &StoreMsg) {
        if let Some(log) = &mut self.log {
            log.on_event(key, to, msg);
        }
        if let Some(check) = &mut self.check {
            check.on_event(key, to, msg);
        }
    }
}

impl Twin {
    /// Starts the session on a thread of its own, paced by `wall`.
    pub fn start<W: WallClock + Send + 'static>(
        scenario: Scenario,
        seed: Seed,
        mode: Mode,
        options: &Options,
        wall: W,
    ) -> anyhow::Result<Twin> {
        let seed = match &mode {
            Mode::Replay { header, .. } => Seed(header.seed),
            Mode::Live => seed,
        };
        let mut config = SessionConfig {
            speed: options.speed,
            paused: options.paused,
            until: options.until,
            max_events: None,
            // In time order: the kernel numbers injections in the order they are made,
            // and the record (hence a replay) keeps that order.
            scheduled: {
                let mut planned = options.planned.clone();
                planned.sort_by_key(|t| t.at_ns);
                planned
            },
            frame_every: options.frame_every,
        };
        let mut recorder = Recorder { log: None, check: None };
        if let Mode::Replay { log, trailer, .. } = &mode {
            let (_, reader) = LogReader::open(log)?;
            recorder.check = Some(Checker::new(reader));
            // The same prefix of the same run: to the log's end time and event count.
            let end = SimTime::from_nanos(trailer.end_ns);
            config.until = Some(options.until.map_or(end, |t| t.min(end)));
            config.max_events = Some(trailer.events);
            config.scheduled = trailer.interventions.clone();
        }
        if let Some(path) = &options.events {
            let written_by = if mode.is_replay() { "storetwin-twin --replay" } else { "storetwin-twin" };
            recorder.log =
                Some(EventLog::create(path, &Header::new(&scenario.path, &scenario.hash, seed.0, written_by))?);
        }

        let world = storetwin_actors::StoreWorld::build(scenario.world.clone(), seed);
        let (controls, inputs) = Controls::new(world.layout);
        let (frames_tx, frames) = crossbeam_channel::bounded(4);
        let replay_log = match &mode {
            Mode::Replay { log, .. } => Some(log.clone()),
            Mode::Live => None,
        };
        let log_path = options.events.clone();
        let thread = std::thread::Builder::new()
            .name("storetwin-sim".into())
            .spawn(move || -> anyhow::Result<Outcome> {
                let end = run_session(world, seed, &config, wall, &inputs, &frames_tx, &mut recorder)?;
                let Recorder { log, check } = recorder;
                let log = match (log, log_path) {
                    (Some(log), Some(path)) => Some((path, log.finish(&trailer_of(&end))?)),
                    _ => None,
                };
                let verdict = match (check, replay_log) {
                    (Some(check), Some(path)) => {
                        let (unreached, divergence, trailer) = check.finish()?;
                        Some(Verdict {
                            log: path,
                            expected_hash: trailer.event_hash,
                            replayed_hash: end.event_hash.to_string(),
                            expected_events: trailer.events,
                            replayed_events: end.events,
                            unreached,
                            divergence,
                            expected_end: trailer.end_state,
                            replayed_end: EndState::of(&end.run.last),
                        })
                    }
                    _ => None,
                };
                Ok(Outcome { end, log, verdict })
            })
            .context("cannot start the simulation thread")?;
        Ok(Twin { scenario, seed, mode, controls, frames, thread: Some(thread) })
    }

    /// Stops the session (if it still runs) and waits for its outcome.
    pub fn finish(&mut self) -> anyhow::Result<Outcome> {
        let thread = self.thread.take().context("the session was already finished")?;
        stop_and_join(&self.controls, &self.frames, thread)?
    }
}

/// Stops a session's thread and waits for it, taking the frames it may be blocked
/// handing over (its last one among them).
fn stop_and_join<T>(controls: &Controls, frames: &Receiver<Frame>, thread: JoinHandle<T>) -> anyhow::Result<T> {
    controls.stop();
    while !thread.is_finished() {
        let _ = frames.recv_timeout(Duration::from_millis(5));
    }
    thread.join().map_err(|_| anyhow::anyhow!("the simulation thread panicked"))
}

/// The trailer of a session's log.
pub fn trailer_of(end: &SessionEnd) -> Trailer {
    Trailer {
        events: end.events,
        event_hash: end.event_hash.to_string(),
        end_ns: end.end.as_nanos(),
        interventions: end.interventions.clone(),
        end_state: EndState::of(&end.run.last),
    }
}

/// Parses a planned intervention, `HH:MM[:SS] ACTION` in store clock time:
/// `open L7`, `close L1`, `offline door-1`, `online door-1`, `price Bananas 1 kg = 0.99`.
/// Lanes, devices and SKUs go by their names in the scenario.
pub fn parse_intervention(text: &str, spec: &WorldSpec) -> Result<TimedIntervention, String> {
    let usage = "expected HH:MM[:SS] then `open LANE`, `close LANE`, `offline DEVICE`, `online DEVICE` or \
                 `price SKU = 1.99`";
    let (time, action) = text.trim().split_once(' ').ok_or_else(|| format!("{text:?}: {usage}"))?;
    let mut parts = time.split(':').map(|p| p.parse::<u64>());
    let (h, m, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Ok(h)), Some(Ok(m)), None, None) => (h, m, 0),
        (Some(Ok(h)), Some(Ok(m)), Some(Ok(s)), None) => (h, m, s),
        _ => return Err(format!("{text:?}: {time:?} is not a store clock time; {usage}")),
    };
    let at_s = h * 3600 + m * 60 + s;
    let open = u64::from(spec.open_at_s);
    let close = open + spec.duration.as_nanos() / 1_000_000_000;
    if h > 23 || m > 59 || s > 59 || at_s < open || at_s > close {
        return Err(format!("{text:?}: {time} is not within the store's opening hours"));
    }
    let at_ns = (at_s - open) * 1_000_000_000;
    let (verb, rest) = action.trim().split_once(' ').ok_or_else(|| format!("{text:?}: {usage}"))?;
    let rest = rest.trim();
    let store = &spec.store;
    let lane = || {
        store.lanes.iter().position(|l| l.name == rest).map(|i| i as u16).ok_or_else(|| {
            let names: Vec<&str> = store.lanes.iter().map(|l| l.name.as_str()).collect();
            format!("{text:?}: no lane {rest:?}; the lanes are {}", names.join(", "))
        })
    };
    let device = || {
        store.devices.iter().position(|d| d.name == rest).map(|i| i as u16).ok_or_else(|| {
            format!("{text:?}: no device {rest:?} (devices go by their names in the scenario, e.g. door-1)")
        })
    };
    let what = match verb {
        "open" => Intervention::SetLaneOpen { lane: lane()?, open: true },
        "close" => Intervention::SetLaneOpen { lane: lane()?, open: false },
        "offline" => Intervention::SetDeviceUp { device: device()?, up: false },
        "online" => Intervention::SetDeviceUp { device: device()?, up: true },
        "price" => {
            let (sku, price) = rest.rsplit_once('=').ok_or_else(|| format!("{text:?}: expected `price SKU = 1.99`"))?;
            let sku = sku.trim();
            let index = store
                .catalogue
                .iter()
                .position(|s| s.name == sku)
                .ok_or_else(|| format!("{text:?}: no SKU named {sku:?} in the catalogue"))?;
            let price: f64 = price
                .trim()
                .parse()
                .ok()
                .filter(|p: &f64| p.is_finite() && *p >= 0.0)
                .ok_or_else(|| format!("{text:?}: {:?} is not a price", price.trim()))?;
            Intervention::SetPrice { sku: index as u32, cents: (price * 100.0).round() as i64 }
        }
        _ => return Err(format!("{text:?}: unknown action {verb:?}; {usage}")),
    };
    Ok(TimedIntervention { at_ns, what })
}

pub use storetwin_actors::store::wire::clock;

/// An intervention in words, with the scenario's names, at store clock time.
pub fn describe_intervention(t: &TimedIntervention, spec: &WorldSpec) -> String {
    let clock = clock(spec.open_at_s, t.at());
    let store = &spec.store;
    let what = match t.what {
        Intervention::SetLaneOpen { lane, open } => {
            let name = store.lanes.get(usize::from(lane)).map_or("?", |l| l.name.as_str());
            format!("{} lane {name}", if open { "open" } else { "close" })
        }
        Intervention::SetPrice { sku, cents } => {
            let name = store.catalogue.get(sku as usize).map_or("?", |s| s.name.as_str());
            format!("price of {name} = {}.{:02}", cents / 100, (cents % 100).abs())
        }
        Intervention::SetDeviceUp { device, up } => {
            let name = store.devices.get(usize::from(device)).map_or("?", |d| d.name.as_str());
            format!("{name} {}", if up { "online" } else { "offline" })
        }
    };
    format!("{clock} {what}")
}

// ---------------------------------------------------------------------------------------
// A store of a live chain: the whole chain (or load test) runs, one store is drawn.

/// A live or replayed chain session, as the window holds it.
pub struct ChainTwin {
    pub chain: storetwin_scenarios::Chain,
    pub spec: std::sync::Arc<storetwin_actors::chain::spec::ChainSpec>,
    pub seed: Seed,
    /// The log replayed, if this is a replay.
    pub replay: Option<(PathBuf, storetwin_eventlog::chain::ChainLog)>,
    pub controls: Controls,
    pub frames: Receiver<Frame>,
    thread: Option<JoinHandle<Result<ChainSessionEnd, ChainError>>>,
}

/// How a chain session ended, as the twin reports it.
pub struct ChainOutcome {
    pub end: Result<ChainSessionEnd, ChainError>,
    /// The session log written.
    pub log: Option<PathBuf>,
    /// A replay: `None` if identical, else what differs.
    pub verdict: Option<Result<String, String>>,
}

/// Loads a chain or load file for the twin: the spec and seed its command runs, with
/// diagnostics rendered.
pub fn load_chain(
    path: &Path,
) -> anyhow::Result<(storetwin_scenarios::Chain, storetwin_actors::chain::spec::ChainSpec, u64)> {
    let chain = storetwin_scenarios::Chain::load(path).map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))?;
    let (spec, seed) = chain.run_spec().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((chain, spec, seed))
}

/// Reads a chain session log and loads the chain it was recorded from (`scenario`
/// overrides the path it names); refuses a chain whose content changed since.
pub fn open_chain_replay(
    log_path: &Path,
    scenario: Option<&Path>,
) -> anyhow::Result<(
    storetwin_scenarios::Chain,
    storetwin_actors::chain::spec::ChainSpec,
    storetwin_eventlog::chain::ChainLog,
)> {
    let log = storetwin_eventlog::chain::ChainLog::read(log_path)?;
    let path = scenario.map_or_else(|| log.scenario.clone(), Path::to_path_buf);
    let (chain, spec, _) = load_chain(&path).with_context(|| {
        format!("{}: cannot load the chain it was recorded from ({})", log_path.display(), path.display())
    })?;
    if chain.hash != log.scenario_hash {
        bail!(
            "{}: recorded from a chain with hash {}, but {} now has hash {}: the file changed, so the replay would not \
             be the same run",
            log_path.display(),
            log.scenario_hash,
            path.display(),
            chain.hash
        );
    }
    Ok((chain, spec, log))
}

impl ChainTwin {
    /// Starts the chain `spec` (of `chain`) on a thread of its own, showing store `shown`;
    /// a replay takes the log's seed, interventions and end.
    #[allow(clippy::too_many_arguments, reason = "one call starts a whole session")]
    pub fn start<W: WallClock + Send + 'static>(
        chain: storetwin_scenarios::Chain,
        spec: storetwin_actors::chain::spec::ChainSpec,
        seed: Seed,
        shown: usize,
        replay: Option<(PathBuf, storetwin_eventlog::chain::ChainLog)>,
        options: &Options,
        planned: Vec<StoreIntervention>,
        wall: W,
    ) -> anyhow::Result<ChainTwin> {
        let seed = replay.as_ref().map_or(seed, |(_, log)| Seed(log.seed));
        let built = storetwin_actors::chain::run::build_chain(&spec, seed)?;
        let spec = std::sync::Arc::clone(&built.spec);
        let (controls, inputs) = Controls::chain(storetwin_actors::chain::live::layouts(&built), shown);
        let mut config = ChainSessionConfig {
            speed: options.speed,
            paused: options.paused,
            until: options.until,
            scheduled: planned,
            scheduled_readings: Vec::new(),
            frame_every: options.frame_every,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            checkpoint_every: None,
        };
        if let Some((_, log)) = &replay {
            let end = SimTime::from_nanos(log.end_ns);
            config.until = Some(options.until.map_or(end, |t| t.min(end)));
            config.scheduled = log.interventions.clone();
            config.scheduled_readings = log.readings.clone();
        }
        let (frames_tx, frames) = crossbeam_channel::bounded(4);
        let thread = std::thread::Builder::new()
            .name("storetwin-chain".into())
            .spawn(move || storetwin_actors::chain::live::run_chain_session(built, &config, wall, &inputs, &frames_tx))
            .context("cannot start the simulation thread")?;
        Ok(ChainTwin { chain, spec, seed, replay, controls, frames, thread: Some(thread) })
    }

    /// Stops the session (if it still runs), waits for it, writes its log to `events` and
    /// checks a replay against its log.
    pub fn finish(&mut self, events: Option<&Path>, written_by: &str) -> anyhow::Result<ChainOutcome> {
        let thread = self.thread.take().context("the session was already finished")?;
        let end = stop_and_join(&self.controls, &self.frames, thread)?;
        let mut outcome = ChainOutcome { end, log: None, verdict: None };
        let Ok(done) = &outcome.end else { return Ok(outcome) };
        let shown = self.spec.stores.get(self.controls.shown()).map_or_else(String::new, |s| s.name.clone());
        let log = storetwin_eventlog::chain::ChainLog {
            format: storetwin_eventlog::chain::CHAIN_FORMAT.into(),
            version: storetwin_eventlog::chain::CHAIN_VERSION,
            scenario: std::path::absolute(&self.chain.path).unwrap_or_else(|_| self.chain.path.clone()),
            scenario_hash: self.chain.hash.clone(),
            seed: self.seed.0,
            written_by: written_by.into(),
            shown,
            interventions: done.interventions.clone(),
            readings: done.readings.clone(),
            events: done.run.events,
            event_hash: done.run.event_hash.to_string(),
            shard_hashes: done.run.shard_hashes.iter().map(ToString::to_string).collect(),
            end_ns: done.end.as_nanos(),
        };
        if let Some(path) = events {
            log.write(path)?;
            outcome.log = Some(path.to_path_buf());
        }
        if let Some((path, expected)) = &self.replay {
            let names: Vec<String> = self.spec.stores.iter().map(|s| s.name.clone()).collect();
            outcome.verdict = Some(chain_verdict(path, expected, &log, &names));
        }
        Ok(outcome)
    }
}

/// A chain replay against its log: `Ok` says it is identical, `Err` what differs (the
/// first store whose events differ, or that the replay stopped early).
pub fn chain_verdict(
    path: &Path,
    expected: &storetwin_eventlog::chain::ChainLog,
    got: &storetwin_eventlog::chain::ChainLog,
    names: &[String],
) -> Result<String, String> {
    if got.end_ns < expected.end_ns {
        return Err(format!(
            "replay stopped early at {} of the log's {} s: not compared",
            got.end_ns as f64 / 1e9,
            expected.end_ns as f64 / 1e9
        ));
    }
    if got.event_hash == expected.event_hash
        && got.events == expected.events
        && got.interventions == expected.interventions
    {
        return Ok(format!(
            "replay identical to {}: {} events, event_hash {}, {} interventions",
            path.display(),
            got.events,
            got.event_hash,
            got.interventions.len()
        ));
    }
    let shard = got.shard_hashes.iter().zip(&expected.shard_hashes).position(|(a, b)| a != b);
    let place = match shard {
        Some(0) => "first in the centres".to_string(),
        Some(s) => format!("first in store {}", names.get(s - 1).map_or("?", String::as_str)),
        None => "in no single shard".to_string(),
    };
    Err(format!(
        "replay DIFFERS from {}: event_hash {} (log {}), {} events (log {}), {place}",
        path.display(),
        got.event_hash,
        expected.event_hash,
        got.events,
        expected.events
    ))
}

// ---------------------------------------------------------------------------------------
// Two stores side by side on one clock and the same shoppers.

/// A side-by-side session, as the window holds it.
pub struct PairTwin {
    pub scenarios: [Scenario; 2],
    pub seed: Seed,
    pub controls: Controls,
    pub frames: Receiver<Frame>,
    thread: Option<JoinHandle<Result<PairEnd, PairError>>>,
}

impl PairTwin {
    /// Starts `a` and `b` side by side on a thread of their own, both with `seed` (the same
    /// shoppers), with `planned` interventions on each side.
    pub fn start<W: WallClock + Send + 'static>(
        a: Scenario,
        b: Scenario,
        seed: Seed,
        options: &Options,
        planned: [Vec<TimedIntervention>; 2],
        wall: W,
    ) -> anyhow::Result<PairTwin> {
        let worlds = [StoreWorld::build(a.world.clone(), seed), StoreWorld::build(b.world.clone(), seed)];
        let (controls, inputs) = Controls::pair([worlds[0].layout, worlds[1].layout]);
        let config = PairConfig {
            speed: options.speed,
            paused: options.paused,
            until: options.until,
            scheduled: planned,
            frame_every: options.frame_every,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ..PairConfig::default()
        };
        let (frames_tx, frames) = crossbeam_channel::bounded(4);
        let thread = std::thread::Builder::new()
            .name("storetwin-pair".into())
            .spawn(move || run_pair_session(worlds, seed, &config, wall, &inputs, &frames_tx))
            .context("cannot start the simulation thread")?;
        Ok(PairTwin { scenarios: [a, b], seed, controls, frames, thread: Some(thread) })
    }

    /// Stops the session (if it still runs) and waits for it.
    pub fn finish(&mut self) -> anyhow::Result<Result<PairEnd, PairError>> {
        let thread = self.thread.take().context("the session was already finished")?;
        stop_and_join(&self.controls, &self.frames, thread)
    }
}

/// The log of a side-by-side session that ended with `end`.
pub fn pair_log(twin: &PairTwin, end: &PairEnd, written_by: &str) -> storetwin_eventlog::pair::PairLog {
    let side = |i: usize| {
        let s = &twin.scenarios[i];
        storetwin_eventlog::pair::PairSide {
            scenario: std::path::absolute(&s.path).unwrap_or_else(|_| s.path.clone()),
            scenario_hash: s.hash.clone(),
            interventions: end.interventions[i].clone(),
            events: end.runs[i].events,
            event_hash: end.runs[i].event_hash.to_string(),
        }
    };
    storetwin_eventlog::pair::PairLog {
        format: storetwin_eventlog::pair::PAIR_FORMAT.into(),
        version: storetwin_eventlog::pair::PAIR_VERSION,
        seed: twin.seed.0,
        written_by: written_by.into(),
        sides: [side(0), side(1)],
        end_ns: end.end.as_nanos(),
    }
}

/// A side-by-side replay against its log: `Ok` says it is identical, `Err` which side
/// differs (or that the replay stopped before the log's end).
pub fn pair_verdict(
    path: &Path,
    expected: &storetwin_eventlog::pair::PairLog,
    got: &storetwin_eventlog::pair::PairLog,
) -> Result<String, String> {
    if got.end_ns < expected.end_ns {
        return Ok(format!(
            "replay stopped at {} s, before the log's end at {} s: not compared (replay to the end to check it)",
            got.end_ns / 1_000_000_000,
            expected.end_ns / 1_000_000_000
        ));
    }
    for (label, (want, have)) in ["A", "B"].iter().zip(expected.sides.iter().zip(&got.sides)) {
        if (want.events, &want.event_hash) != (have.events, &have.event_hash) {
            return Err(format!(
                "replay DIFFERS from {} on side {label}: {} events, event_hash {}; the log has {} events, event_hash {}",
                path.display(),
                have.events,
                have.event_hash,
                want.events,
                want.event_hash
            ));
        }
    }
    Ok(format!(
        "replay identical on both sides: A {} events, event_hash {}; B {} events, event_hash {}",
        got.sides[0].events, got.sides[0].event_hash, got.sides[1].events, got.sides[1].event_hash
    ))
}
