//! The session log: what a live session was given, written as it runs, so that the log up
//! to any moment (after a crash, after `kill -9`) replays to the identical state.
//!
//! One JSON object a line:
//! - the header: `{"storetwin_session": 1, "scenario": PATH, "scenario_hash": H, "seed": N}`;
//! - every injected input, in the kernel's injection order `n` (0, 1, 2, ...), with the sim
//!   time it took effect: `{"n": 0, "at_ns": T, "intervention": {...}}` or
//!   `{"n": 1, "at_ns": T, "reading": {...}}`;
//! - a checkpoint at least every second of wall time, after the inputs injected so far:
//!   `{"check": {"at_ns": T, "events": E, "event_hash": "..."}}`, then the file is flushed;
//! - at the end, `{"end": {"at_ns": T, "events": E, "event_hash": "...", "reason": "..."}}`.
//!
//! [`replay`] rebuilds the scenario's world with the logged inputs at their times and keys,
//! runs it through every checkpoint and compares the event count and `event_hash` there. A
//! last line cut short by a crash is ignored; anything else that does not parse is an error
//! naming the file and line.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use storetwin_actors::StoreMsg;
use storetwin_actors::store::live::Intervention;
use storetwin_actors::store::sensors::Reading;
use storetwin_actors::store::world::{Layout, StoreWorld};
use storetwin_engine::{ActorId, Injection, RunLimit, Seed, SimTime, Simulation};

/// What a session was given from outside, as logged.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Intervention(Intervention),
    Reading(Reading),
}

impl Input {
    pub fn to_injection(self, layout: Layout) -> (ActorId, StoreMsg) {
        match self {
            Input::Intervention(i) => i.to_injection(layout),
            Input::Reading(r) => r.to_injection(layout),
        }
    }

    pub fn from_injection(to: ActorId, msg: &StoreMsg, layout: Layout) -> Option<Input> {
        Intervention::from_injection(to, msg, layout)
            .map(Input::Intervention)
            .or_else(|| Reading::from_injection(to, msg, layout).map(Input::Reading))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub storetwin_session: u32,
    pub scenario: PathBuf,
    pub scenario_hash: String,
    pub seed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logged {
    pub n: u64,
    pub at_ns: u64,
    #[serde(flatten)]
    pub input: Input,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub at_ns: u64,
    pub events: u64,
    pub event_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub at_ns: u64,
    pub events: u64,
    pub event_hash: String,
    pub reason: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Check { check: Check },
    End { end: End },
    Input(Logged),
}

/// Writes the session log as the session runs.
pub struct Journal {
    path: PathBuf,
    out: BufWriter<File>,
    /// Injections of the simulation already written.
    written: usize,
    layout: Layout,
}

impl Journal {
    /// Creates (truncates) the log at `path` and writes its header.
    pub fn create(path: &Path, header: &Header, layout: Layout) -> anyhow::Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        let file = File::create(path).with_context(|| format!("{}: cannot create the session log", path.display()))?;
        let mut journal = Journal { path: path.to_path_buf(), out: BufWriter::new(file), written: 0, layout };
        journal.line(header)?;
        journal.flush()?;
        Ok(journal)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn line(&mut self, value: &impl Serialize) -> anyhow::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n").with_context(|| format!("{}: cannot write", self.path.display()))
    }

    /// Writes the injections the simulation took since the last call.
    pub fn inputs(&mut self, sim: &Simulation<StoreWorld>) -> anyhow::Result<()> {
        let injections = sim.injections();
        while self.written < injections.len() {
            let i = &injections[self.written];
            let input = Input::from_injection(i.to, &i.msg, self.layout).with_context(|| {
                format!("injection {} to {} is neither an intervention nor a reading", self.written, i.to)
            })?;
            let logged = Logged { n: self.written as u64, at_ns: i.at.as_nanos(), input };
            self.line(&logged)?;
            self.written += 1;
        }
        Ok(())
    }

    /// Writes the inputs so far and a checkpoint, and flushes.
    pub fn checkpoint(&mut self, sim: &Simulation<StoreWorld>) -> anyhow::Result<()> {
        self.inputs(sim)?;
        let check = Check {
            at_ns: sim.now().as_nanos(),
            events: sim.events_delivered(),
            event_hash: sim.event_hash().to_string(),
        };
        self.line(&Line::Check { check })?;
        self.flush()
    }

    /// Writes the end record and flushes.
    pub fn end(&mut self, end: End) -> anyhow::Result<()> {
        self.line(&Line::End { end })?;
        self.flush()
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush().with_context(|| format!("{}: cannot write", self.path.display()))
    }
}

/// A session log as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub header: Header,
    pub inputs: Vec<Logged>,
    pub checks: Vec<Check>,
    pub end: Option<End>,
    /// A last line cut short (the session died while writing it).
    pub torn_tail: bool,
}

/// Reads a session log.
pub fn read(path: &Path) -> anyhow::Result<Session> {
    let file = File::open(path).with_context(|| format!("{}: cannot open the session log", path.display()))?;
    let mut lines = BufReader::new(file).lines().enumerate().peekable();
    let (_, first) = lines.next().with_context(|| format!("{}: empty, not a session log", path.display()))?;
    let first = first.with_context(|| format!("{}:1: cannot read", path.display()))?;
    let header: Header = serde_json::from_str(&first)
        .with_context(|| format!("{}:1: not a storetwin session log header", path.display()))?;
    if header.storetwin_session != 1 {
        bail!("{}:1: session log version {}, this storetwin reads version 1", path.display(), header.storetwin_session);
    }
    let mut session = Session { header, inputs: Vec::new(), checks: Vec::new(), end: None, torn_tail: false };
    while let Some((i, line)) = lines.next() {
        let number = i + 1;
        let line = line.with_context(|| format!("{}:{number}: cannot read", path.display()))?;
        match serde_json::from_str::<Line>(&line) {
            Ok(Line::Input(logged)) => {
                if logged.n != session.inputs.len() as u64 {
                    bail!("{}:{number}: input n = {}, expected {}", path.display(), logged.n, session.inputs.len());
                }
                session.inputs.push(logged);
            }
            Ok(Line::Check { check }) => session.checks.push(check),
            Ok(Line::End { end }) => session.end = Some(end),
            Err(_) if lines.peek().is_none() => session.torn_tail = true,
            Err(e) => bail!("{}:{number}: {e}", path.display()),
        }
    }
    Ok(session)
}

/// A replay's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Checkpoints (and the end, if logged) reached with the logged event count and hash.
    pub verified: usize,
    /// The last point verified.
    pub last: Option<Check>,
    /// The first point that differed: (logged, replayed).
    pub differs: Option<(Check, Check)>,
    pub inputs: usize,
}

impl Verdict {
    pub fn identical(&self) -> bool {
        self.differs.is_none() && self.verified > 0
    }
}

/// Replays `session` on the world of `world` (built from the logged scenario with the
/// logged seed) and checks every checkpoint and the end.
pub fn replay(session: &Session, world: StoreWorld) -> anyhow::Result<Verdict> {
    let layout = world.layout;
    let mut sim = Simulation::new(world, Seed(session.header.seed));
    let injections: Vec<Injection<StoreMsg>> = session
        .inputs
        .iter()
        .map(|l| {
            let (to, msg) = l.input.to_injection(layout);
            Injection { at: SimTime::from_nanos(l.at_ns), to, msg }
        })
        .collect();
    sim.replay_injections(&injections).map_err(|e| anyhow::anyhow!("the logged inputs do not replay: {e}"))?;
    let mut points: Vec<Check> = session.checks.clone();
    if let Some(end) = &session.end {
        points.push(Check { at_ns: end.at_ns, events: end.events, event_hash: end.event_hash.clone() });
    }
    let mut verdict = Verdict { verified: 0, last: None, differs: None, inputs: injections.len() };
    for point in points {
        let due = point.events.saturating_sub(sim.events_delivered());
        if due > 0 {
            sim.run(RunLimit { until: SimTime::MAX, max_events: due })
                .map_err(|e| anyhow::anyhow!("the replay stopped: {e}"))?;
        }
        let replayed =
            Check { at_ns: point.at_ns, events: sim.events_delivered(), event_hash: sim.event_hash().to_string() };
        if replayed != point {
            verdict.differs = Some((point, replayed));
            break;
        }
        verdict.verified += 1;
        verdict.last = Some(point);
    }
    Ok(verdict)
}
