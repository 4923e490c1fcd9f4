//! The simulation: a model, its pending events, per-actor random streams and send
//! counters, and the loop that delivers events in the documented order.

use std::fmt;

use crate::hash::{EventHash, EventHasher};
use crate::model::{Context, Model};
use crate::queue::{Entry, EventQueue};
use crate::{ActorId, ActorRng, EventKey, Observer, Seed, SimTime};

/// Where a run call stops. Both bounds apply; the first reached wins.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RunLimit {
    /// Deliver events with time `<= until`, then set the clock to `until`.
    pub until: SimTime,
    /// Deliver at most this many events in this call.
    pub max_events: u64,
}

impl RunLimit {
    /// Run until no event is left.
    pub const UNBOUNDED: RunLimit = RunLimit { until: SimTime::MAX, max_events: u64::MAX };

    pub const fn until(until: SimTime) -> Self {
        RunLimit { until, max_events: u64::MAX }
    }

    pub const fn events(max_events: u64) -> Self {
        RunLimit { until: SimTime::MAX, max_events }
    }
}

/// Why a run call returned without error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StopReason {
    /// No event is pending.
    Drained,
    /// The next event lies after `RunLimit::until`.
    ReachedTime,
    /// `RunLimit::max_events` events were delivered.
    ReachedEventLimit,
    /// An actor called [`Context::stop`].
    StoppedByActor,
    /// A live run was told to stop from outside.
    StoppedByCommand,
}

/// A run that cannot go on: what went wrong, when, and the seed that reproduces it.
#[derive(Clone, PartialEq, Debug, thiserror::Error)]
#[error("{kind} at sim time {at} (seed {seed}; rerun with this seed to reproduce)")]
pub struct SimError {
    pub kind: SimErrorKind,
    pub at: SimTime,
    pub seed: Seed,
}

impl SimError {
    /// The invariant the run stopped on, if it stopped on a broken one.
    pub fn invariant(&self) -> Option<&'static str> {
        match self.kind {
            SimErrorKind::Invariant { invariant, .. } => Some(invariant),
            _ => None,
        }
    }
}

#[derive(Clone, PartialEq, Debug)]
pub enum SimErrorKind {
    /// A model invariant is broken (reported through [`Context::fail`]).
    Invariant { invariant: &'static str, detail: String },
    /// A message was addressed to an id the model does not have.
    UnknownActor { from: ActorId, to: ActorId },
    /// An actor has sent `u32::MAX` messages, the limit of the tie-breaking counter.
    SendCounterExhausted { actor: ActorId },
    /// An event's time lies before the current time (a kernel bug; never expected).
    TimeWentBackwards { event: SimTime },
    /// A recorded injection lies before the current time, or a record was replayed into a
    /// simulation that already has injections.
    BadReplay { detail: String },
}

impl fmt::Display for SimErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimErrorKind::Invariant { invariant, detail } => write!(f, "invariant broken: {invariant}: {detail}"),
            SimErrorKind::UnknownActor { from, to } => write!(f, "actor {from} sent a message to unknown actor {to}"),
            SimErrorKind::SendCounterExhausted { actor } => write!(f, "actor {actor} exhausted its 2^32 send counter"),
            SimErrorKind::TimeWentBackwards { event } => write!(f, "invariant broken: time went backwards to {event}"),
            SimErrorKind::BadReplay { detail } => write!(f, "bad replay: {detail}"),
        }
    }
}

/// Why the current run must halt after the event being handled.
#[derive(Clone)]
pub(crate) enum Halt {
    Stopped,
    Failed(SimErrorKind, SimTime),
}

/// An event injected from outside: to whom, what, and at which sim time it was delivered.
/// The `n`-th injection of a run (from 0) has the key `(at, EXTERNAL, n)`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Injection<M> {
    pub at: SimTime,
    pub to: ActorId,
    pub msg: M,
}

/// A model in motion. See the crate docs for the guarantees.
pub struct Simulation<Mo: Model> {
    model: Mo,
    pub(crate) queue: EventQueue<Mo::Msg>,
    rngs: Vec<ActorRng>,
    sends: Vec<u32>,
    actors: u32,
    pub(crate) now: SimTime,
    seed: Seed,
    hasher: EventHasher,
    delivered: u64,
    pub(crate) started: bool,
    halt: Option<Halt>,
    failed: Option<SimError>,
    injections: Vec<Injection<Mo::Msg>>,
}

impl<Mo: Model> Simulation<Mo> {
    /// A simulation of `model` with randomness derived from `seed`. Nothing runs until the
    /// first `run*` call, which first calls [`Model::start`] for every actor.
    ///
    /// # Panics
    /// If the model has `u32::MAX` actors or more (that id is reserved for injections).
    pub fn new(model: Mo, seed: Seed) -> Self {
        let actors = model.actor_count();
        assert!(actors < u32::MAX, "a model has at most u32::MAX - 1 actors");
        Simulation {
            queue: EventQueue::with_capacity(actors as usize),
            rngs: (0..actors).map(|id| seed.actor_stream(ActorId(id))).collect(),
            sends: vec![0; actors as usize],
            model,
            actors,
            now: SimTime::ZERO,
            seed,
            hasher: EventHasher::default(),
            delivered: 0,
            started: false,
            halt: None,
            failed: None,
            injections: Vec::new(),
        }
    }

    /// The model, read-only: for reports and snapshots between run calls.
    pub fn model(&self) -> &Mo {
        &self.model
    }

    /// The model, to change between run calls: for the owner of a shard (which hands the
    /// model the messages other shards sent and takes the ones it sends) and for tests.
    /// Viewers get [`Self::model`] or an owned snapshot, never this.
    pub fn model_mut(&mut self) -> &mut Mo {
        &mut self.model
    }

    /// Ends the simulation and hands back the model, for closing reports.
    pub fn into_model(self) -> Mo {
        self.model
    }

    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// The current time: that of the last delivered event, or later if a run call's
    /// limit or a paced clock moved it on.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events delivered so far.
    pub fn events_delivered(&self) -> u64 {
        self.delivered
    }

    /// Events pending.
    pub fn events_pending(&self) -> usize {
        self.queue.len()
    }

    /// The time of the next pending event.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// The fingerprint of the events delivered so far (see [`crate::hash`]).
    pub fn event_hash(&self) -> EventHash {
        self.hasher.finish()
    }

    /// The events injected so far, in order: the record that replays this run.
    pub fn injections(&self) -> &[Injection<Mo::Msg>] {
        &self.injections
    }

    /// Runs as fast as possible to `limit`, with nobody observing.
    pub fn run(&mut self, limit: RunLimit) -> Result<StopReason, SimError> {
        self.run_observed(limit, &mut ())
    }

    /// Runs as fast as possible to `limit`, showing every event to `observer`.
    pub fn run_observed<O: Observer<Mo::Msg>>(
        &mut self,
        limit: RunLimit,
        observer: &mut O,
    ) -> Result<StopReason, SimError> {
        self.start()?;
        let mut remaining = limit.max_events;
        loop {
            if remaining == 0 {
                return Ok(StopReason::ReachedEventLimit);
            }
            match self.queue.peek_time() {
                None => return Ok(StopReason::Drained),
                Some(t) if t > limit.until => {
                    self.now = self.now.max(limit.until);
                    return Ok(StopReason::ReachedTime);
                }
                Some(_) => {}
            }
            remaining -= 1;
            if self.deliver_next(observer) {
                return self.halted();
            }
        }
    }

    /// Schedules a message from another shard (see [`crate::window`]) for `to` at `at`,
    /// with the key `(at, origin, seq)`: `origin` is [`ActorId::shard`] of the sender and
    /// `seq` counts the sender's earlier messages to this shard, so the key is unique and
    /// independent of threads. `at` must not lie before the current time.
    pub fn accept_remote(
        &mut self,
        at: SimTime,
        origin: ActorId,
        seq: u32,
        to: ActorId,
        msg: Mo::Msg,
    ) -> Result<(), SimError> {
        self.start()?;
        if to.0 >= self.actors || origin.0 < self.actors {
            self.halt = Some(Halt::Failed(SimErrorKind::UnknownActor { from: origin, to }, self.now));
            return Err(self.check_halt().expect_err("a failure was just recorded"));
        }
        if at < self.now {
            self.halt = Some(Halt::Failed(SimErrorKind::TimeWentBackwards { event: at }, self.now));
            return Err(self.check_halt().expect_err("a failure was just recorded"));
        }
        self.queue.push(Entry::new(EventKey::new(at, origin, seq), to, msg));
        Ok(())
    }

    /// Calls `Model::start` for every actor, once.
    pub(crate) fn start(&mut self) -> Result<(), SimError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.started {
            return Ok(());
        }
        self.started = true;
        for id in 0..self.actors {
            let (model, mut ctx) = self.model_and_context(ActorId(id), SimTime::ZERO);
            model.start(&mut ctx);
        }
        self.check_halt().map(|_| ())
    }

    /// The model and the context of actor `me` at `now`, borrowed side by side.
    #[inline(always)]
    fn model_and_context(&mut self, me: ActorId, now: SimTime) -> (&mut Mo, Context<'_, Mo::Msg>) {
        let ctx = Context {
            now,
            me,
            actors: self.actors,
            rng: &mut self.rngs[me.index()],
            sends: &mut self.sends[me.index()],
            queue: &mut self.queue,
            halt: &mut self.halt,
        };
        (&mut self.model, ctx)
    }

    /// Delivers the pending event with the smallest key; returns `true` if the run must
    /// halt after it (see [`Self::halted`]). The caller has checked that an event is pending.
    #[inline(always)]
    pub(crate) fn deliver_next<O: Observer<Mo::Msg>>(&mut self, observer: &mut O) -> bool {
        let entry = self.queue.take_min().expect("caller checked an event is pending");
        let key = entry.key();
        let time = key.time();
        if time < self.now {
            self.queue.settle();
            self.halt = Some(Halt::Failed(SimErrorKind::TimeWentBackwards { event: time }, self.now));
            return true;
        }
        self.now = time;
        self.delivered += 1;
        self.hasher.event(key, entry.to);
        observer.on_event(key, entry.to, &entry.msg);
        let (model, mut ctx) = self.model_and_context(entry.to, time);
        model.handle(entry.msg, &mut ctx);
        self.queue.settle();
        self.halt.is_some()
    }

    /// Why the run halted after `deliver_next` returned `true`.
    #[cold]
    pub(crate) fn halted(&mut self) -> Result<StopReason, SimError> {
        match self.check_halt() {
            Ok(reason) => Ok(reason.expect("deliver_next reported a halt")),
            Err(e) => Err(e),
        }
    }

    fn check_halt(&mut self) -> Result<Option<StopReason>, SimError> {
        match self.halt.take() {
            None => Ok(None),
            Some(Halt::Stopped) => Ok(Some(StopReason::StoppedByActor)),
            Some(Halt::Failed(kind, at)) => {
                let error = SimError { kind, at, seed: self.seed };
                self.failed = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Moves the clock forward to `t` without delivering anything, as far as the next
    /// pending event at most. Used by paced clocks so that an injection gets the sim time
    /// of the moment it arrived.
    pub(crate) fn advance_to(&mut self, t: SimTime) {
        let bound = self.queue.peek_time().map_or(t, |next| t.min(next));
        self.now = self.now.max(bound);
    }

    fn fail_replay(&mut self, detail: String) -> SimError {
        let error = SimError { kind: SimErrorKind::BadReplay { detail }, at: self.now, seed: self.seed };
        self.failed = Some(error.clone());
        error
    }
}

impl<Mo: Model + Clone> Simulation<Mo>
where
    Mo::Msg: Clone,
{
    /// An exact copy, taken between run calls: running it delivers the same events, with
    /// the same keys and `event_hash`, as running this one would (a what-if's arm without
    /// its interventions continues the live run exactly).
    pub fn fork(&self) -> Self {
        Simulation {
            model: self.model.clone(),
            queue: self.queue.duplicate(),
            rngs: self.rngs.clone(),
            sends: self.sends.clone(),
            actors: self.actors,
            now: self.now,
            seed: self.seed,
            hasher: self.hasher,
            delivered: self.delivered,
            started: self.started,
            halt: self.halt.clone(),
            failed: self.failed.clone(),
            injections: self.injections.clone(),
        }
    }

    /// As [`Self::fork`], but from now on every actor draws from a new stream,
    /// `streams.actor_stream(actor)`: one replication of a forecast from the current state
    /// (two forks given the same `streams` draw the same numbers: common random numbers).
    pub fn fork_reseeded(&self, streams: Seed) -> Self {
        let mut fork = self.fork();
        fork.rngs = (0..self.actors).map(|id| streams.actor_stream(ActorId(id))).collect();
        fork
    }
}

impl<Mo: Model> Simulation<Mo>
where
    Mo::Msg: Clone,
{
    /// Injects `msg` for `to` at the current time, from outside the simulation, and records
    /// it. It is delivered after every actor's event at the current time.
    pub fn inject(&mut self, to: ActorId, msg: Mo::Msg) -> Result<EventKey, SimError> {
        self.start()?;
        if to.0 >= self.actors {
            self.halt = Some(Halt::Failed(SimErrorKind::UnknownActor { from: ActorId::EXTERNAL, to }, self.now));
            return Err(self.check_halt().expect_err("a failure was just recorded"));
        }
        let seq =
            u32::try_from(self.injections.len()).map_err(|_| self.fail_replay("more than 2^32 injections".into()))?;
        let key = EventKey::new(self.now, ActorId::EXTERNAL, seq);
        self.injections.push(Injection { at: self.now, to, msg: msg.clone() });
        self.queue.push(Entry::new(key, to, msg));
        Ok(key)
    }

    /// Injects `msg` for `to` at `at` (not before the current time, and with every event
    /// before `at` delivered), moving the clock to `at`, and records it: what a driver of
    /// windowed shards uses to inject at the time the windows have reached (see
    /// [`crate::window::Windows::run_paced`]).
    pub fn inject_at(&mut self, at: SimTime, to: ActorId, msg: Mo::Msg) -> Result<EventKey, SimError> {
        self.start()?;
        if at < self.now || self.queue.peek_time().is_some_and(|t| t < at) {
            return Err(self.fail_replay(format!(
                "an injection at {at} with the clock at {} and an event pending before it",
                self.now
            )));
        }
        self.now = at;
        self.inject(to, msg)
    }

    /// Schedules a recorded run's injections, each at its recorded time and with its
    /// recorded key, so that running this simulation reproduces the recorded one exactly.
    /// The simulation must have no injections of its own yet.
    pub fn replay_injections(&mut self, record: &[Injection<Mo::Msg>]) -> Result<(), SimError> {
        self.start()?;
        if !self.injections.is_empty() {
            return Err(self.fail_replay("the simulation already has injections".into()));
        }
        for (n, injection) in record.iter().enumerate() {
            if injection.at < self.now || injection.to.0 >= self.actors {
                return Err(self.fail_replay(format!(
                    "injection {n} (to {} at {}) is before now ({}) or to an unknown actor",
                    injection.to, injection.at, self.now
                )));
            }
            let seq = u32::try_from(n).map_err(|_| self.fail_replay("more than 2^32 injections".into()))?;
            let key = EventKey::new(injection.at, ActorId::EXTERNAL, seq);
            self.queue.push(Entry::new(key, injection.to, injection.msg.clone()));
        }
        self.injections.extend_from_slice(record);
        Ok(())
    }
}
