//! Clocks: how simulated time relates to wall time.
//!
//! - As fast as possible: [`Simulation::run`]; the wall clock is never read.
//! - Paced: [`Simulation::run_paced`] keeps sim time = factor × wall time through a
//!   [`Pacer`], reports the lag when the simulation cannot keep up, and takes
//!   [`LiveInput`]s (injections, speed changes, pause) from a channel. Each injection is
//!   stamped with the sim time at which it arrived and recorded
//!   ([`Simulation::injections`]), so a live session replays exactly with
//!   [`Simulation::replay_injections`] and an as-fast-as-possible run.
//!
//! The kernel reads wall time only through a [`WallClock`] it is given. [`SystemWall`] is
//! the real one (the only place the crate touches `Instant`); [`ManualWall`] is a fake for
//! tests and headless rendering.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};

use crate::sim::{RunLimit, SimError, StopReason};
use crate::window::{Shard, WindowError, Windows};
use crate::{ActorId, Model, Observer, SimDuration, SimTime, Simulation};

/// A source of wall time.
pub trait WallClock {
    /// Wall time since an arbitrary fixed origin.
    fn now(&mut self) -> Duration;
    /// Waits until `now() >= deadline`; may return earlier (callers loop).
    fn sleep_until(&mut self, deadline: Duration);
}

/// The machine's monotonic clock.
#[derive(Debug)]
pub struct SystemWall {
    origin: Instant,
}

impl Default for SystemWall {
    fn default() -> Self {
        SystemWall { origin: Instant::now() }
    }
}

impl WallClock for SystemWall {
    fn now(&mut self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep_until(&mut self, deadline: Duration) {
        let now = self.now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }
}

/// A fake wall clock: sleeping jumps to the deadline at once, and each reading can cost a
/// fixed `step` (to mimic slow event processing). Clones share one time.
#[derive(Clone, Debug, Default)]
pub struct ManualWall {
    nanos: Arc<AtomicU64>,
    step: u64,
}

impl ManualWall {
    /// A clock at zero whose every `now()` reading then advances it by `step`.
    pub fn with_step(step: Duration) -> Self {
        ManualWall { nanos: Arc::default(), step: step.as_nanos() as u64 }
    }

    /// The current fake time, without advancing it.
    pub fn peek(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(by.as_nanos() as u64, Ordering::Relaxed);
    }
}

impl WallClock for ManualWall {
    fn now(&mut self) -> Duration {
        Duration::from_nanos(self.nanos.fetch_add(self.step, Ordering::Relaxed))
    }

    fn sleep_until(&mut self, deadline: Duration) {
        self.nanos.fetch_max(deadline.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// Keeps sim time at `factor` × wall time from an anchor, which moves on every speed
/// change and pause.
#[derive(Debug)]
pub struct Pacer<W> {
    wall: W,
    factor: f64,
    anchor_wall: Duration,
    anchor_sim: SimTime,
    paused: bool,
    tick: Duration,
    lag: SimDuration,
    max_lag: SimDuration,
}

impl<W: WallClock> Pacer<W> {
    /// Sim time runs `factor` times as fast as wall time (1.0 = real time).
    /// `factor` must be positive and finite; others are taken as 1.0.
    pub fn new(mut wall: W, factor: f64) -> Self {
        let anchor_wall = wall.now();
        Pacer {
            wall,
            factor: sane_factor(factor),
            anchor_wall,
            anchor_sim: SimTime::ZERO,
            paused: false,
            tick: Duration::from_millis(10),
            lag: SimDuration::ZERO,
            max_lag: SimDuration::ZERO,
        }
    }

    /// Starts paused: nothing happens until a [`LiveInput::Resume`].
    pub fn paused(mut self, paused: bool) -> Self {
        self.paused = paused;
        self
    }

    /// The longest the pacer sleeps before looking at its inputs again (default 10 ms).
    pub fn with_tick(mut self, tick: Duration) -> Self {
        self.tick = tick.max(Duration::from_micros(1));
        self
    }

    pub fn factor(&self) -> f64 {
        self.factor
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// How far the simulation was behind its paced time at the last check: zero when it
    /// keeps up.
    pub fn lag(&self) -> SimDuration {
        self.lag
    }

    /// The largest lag seen.
    pub fn max_lag(&self) -> SimDuration {
        self.max_lag
    }

    /// The wall clock's reading (for watchers that act on wall time, such as a viewer
    /// sending frames at a fixed rate).
    pub fn wall_now(&mut self) -> Duration {
        self.wall.now()
    }

    /// The sim time the wall clock says it should be.
    fn paced_now(&mut self) -> SimTime {
        if self.paused {
            return self.anchor_sim;
        }
        let elapsed = self.wall.now().saturating_sub(self.anchor_wall);
        self.anchor_sim.saturating_add(SimDuration::from_secs_f64(elapsed.as_secs_f64() * self.factor))
    }

    /// The sim time now, but never short of a `due` time whose wall deadline has passed:
    /// converting wall to sim time in floating point can land a nanosecond short of the
    /// deadline just slept to, and the run would then wait for that nanosecond forever.
    fn paced_now_reaching(&mut self, due: [SimTime; 2]) -> SimTime {
        let mut now = self.paced_now();
        if !self.paused {
            let wall = self.wall.now();
            for t in due {
                if wall >= self.deadline(t) {
                    now = now.max(t);
                }
            }
        }
        now
    }

    /// The wall time at which sim time `t` is due.
    fn deadline(&self, t: SimTime) -> Duration {
        let sim_ahead = t.saturating_since(self.anchor_sim).as_secs_f64() / self.factor;
        self.anchor_wall.saturating_add(Duration::try_from_secs_f64(sim_ahead).unwrap_or(Duration::MAX))
    }

    /// Re-anchors at (wall now, `sim_now`): used by speed changes and resume, so the new
    /// pace starts from where the simulation is.
    fn reanchor(&mut self, sim_now: SimTime) {
        self.anchor_wall = self.wall.now();
        self.anchor_sim = sim_now;
        self.lag = SimDuration::ZERO;
    }

    fn note_lag(&mut self, lag: SimDuration) {
        self.lag = lag;
        self.max_lag = self.max_lag.max(lag);
    }
}

fn sane_factor(factor: f64) -> f64 {
    if factor.is_finite() && factor > 0.0 { factor } else { 1.0 }
}

/// An input to a live run, sent over a channel by whoever drives it (the twin's window,
/// the live server).
#[derive(Clone, Debug)]
pub enum LiveInput<M> {
    /// Deliver `msg` to `to` at the current sim time; recorded for replay.
    Inject {
        to: ActorId,
        msg: M,
    },
    /// Change the pace to `factor` × wall time.
    SetSpeed(f64),
    Pause,
    Resume,
    Stop,
}

/// At most this many events are delivered between two looks at the inputs and the wall.
const BATCH: u32 = 1024;

impl<Mo: Model> Simulation<Mo>
where
    Mo::Msg: Clone,
{
    /// Runs paced by `pacer` until `limit`, taking inputs from `inputs`. If the simulation
    /// falls behind, it delivers events as fast as it can and the pacer reports the lag.
    /// A closed input channel just means no more inputs.
    pub fn run_paced<W: WallClock, O: Observer<Mo::Msg>>(
        &mut self,
        pacer: &mut Pacer<W>,
        inputs: &Receiver<LiveInput<Mo::Msg>>,
        limit: RunLimit,
        observer: &mut O,
    ) -> Result<StopReason, SimError> {
        self.run_paced_watched(pacer, inputs, limit, observer, |_, _| {})
    }

    /// [`Simulation::run_paced`], calling `watch` with a shared borrow of the simulation
    /// (its model, time, event count) and the pacer between batches of events: at least
    /// every pacer tick and at least every 1,024 events. A viewer takes its snapshots
    /// there; it cannot change the simulation (it gets `&Simulation`) and is never called
    /// in the middle of an event.
    pub fn run_paced_watched<W: WallClock, O: Observer<Mo::Msg>>(
        &mut self,
        pacer: &mut Pacer<W>,
        inputs: &Receiver<LiveInput<Mo::Msg>>,
        limit: RunLimit,
        observer: &mut O,
        mut watch: impl FnMut(&Simulation<Mo>, &mut Pacer<W>),
    ) -> Result<StopReason, SimError> {
        self.start()?;
        pacer.reanchor(self.now);
        let mut remaining = limit.max_events;
        loop {
            loop {
                match inputs.try_recv() {
                    Ok(LiveInput::Inject { to, msg }) => {
                        let t = pacer.paced_now().min(limit.until);
                        self.advance_to(t);
                        self.inject(to, msg)?;
                    }
                    Ok(LiveInput::SetSpeed(factor)) => {
                        pacer.factor = sane_factor(factor);
                        pacer.reanchor(self.now);
                    }
                    Ok(LiveInput::Pause) => {
                        pacer.paused = true;
                        pacer.reanchor(self.now);
                    }
                    Ok(LiveInput::Resume) => {
                        pacer.paused = false;
                        pacer.reanchor(self.now);
                    }
                    Ok(LiveInput::Stop) => return Ok(StopReason::StoppedByCommand),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }

            let next = self.queue.peek_time().map_or(limit.until, |t| t.min(limit.until));
            let paced_now = pacer.paced_now_reaching([next, limit.until]).min(limit.until);
            let mut batch = 0;
            while batch < BATCH && remaining > 0 {
                match self.queue.peek_time() {
                    Some(t) if t <= paced_now => {}
                    _ => break,
                }
                batch += 1;
                remaining -= 1;
                if self.deliver_next(observer) {
                    return self.halted();
                }
            }
            if remaining == 0 {
                return Ok(StopReason::ReachedEventLimit);
            }
            watch(self, pacer);
            let next = self.queue.peek_time();
            match next {
                Some(t) if t <= paced_now => {
                    // Still behind after a full batch: report how far, and go on at once.
                    pacer.note_lag(paced_now.saturating_since(self.now));
                    continue;
                }
                None if limit.until == SimTime::MAX => return Ok(StopReason::Drained),
                _ => {}
            }
            pacer.note_lag(SimDuration::ZERO);
            if paced_now >= limit.until {
                self.now = self.now.max(limit.until);
                return Ok(StopReason::ReachedTime);
            }
            self.advance_to(paced_now);
            let due = next.map_or(limit.until, |t| t.min(limit.until));
            let tick_end = pacer.wall.now().saturating_add(pacer.tick);
            // Paused, no sim time is due: only the inputs can change anything.
            let wake = if pacer.paused { tick_end } else { pacer.deadline(due).min(tick_end) };
            pacer.wall.sleep_until(wake);
        }
    }
}

/// At most this much wall time's worth of sim time is run between two looks at the inputs
/// and the watcher by [`Windows::run_paced`], so a run that cannot keep up still shows
/// itself and takes its inputs regularly.
const WINDOWS_STEP: Duration = Duration::from_millis(100);

/// Sim time steps at least this long go to every thread; shorter ones run on one (the
/// events do not depend on it, and starting the workers costs more than a short step).
const THREADED_STEP: SimDuration = SimDuration::from_secs(2);

/// What [`Windows::run_paced`] hands an injection to: the shards, the time reached, the
/// receiver and the message.
pub type PacedInject<'a, S, M> = dyn FnMut(&mut [S], SimTime, ActorId, M) -> Result<(), WindowError> + 'a;

/// What [`Windows::run_paced`] shows the shards (and the windows' own state: a copy of both
/// continues the run exactly) to between steps; `Break` stops the run.
pub type PacedWatch<'a, S, W> = dyn FnMut(&[S], &Windows, SimTime, &mut Pacer<W>) -> ControlFlow<()> + 'a;

impl Windows {
    /// Runs `shards` paced by `pacer` from `from` (every event before it delivered) until
    /// every event before `until` is delivered, taking `inputs`: an injection is handed to
    /// `inject` with the time the windows have reached (every event before it delivered,
    /// none at or after it), where it must be injected for the run to replay from its
    /// record. `watch` sees the shards between steps (at least every pacer tick) and may
    /// stop the run. Returns why the run stopped and the time reached.
    ///
    /// The events delivered are those of one unpaced [`Windows::run`] to the same time with
    /// the same injections at the same times: neither the pace, the steps nor `threads`
    /// change them (a step of a few seconds of sim time or more uses every thread).
    #[allow(clippy::too_many_arguments, reason = "one call drives a whole live session")]
    pub fn run_paced<S: Shard, W: WallClock, M>(
        &mut self,
        shards: &mut [S],
        lookahead: SimDuration,
        threads: usize,
        pacer: &mut Pacer<W>,
        inputs: &Receiver<LiveInput<M>>,
        from: SimTime,
        until: SimTime,
        inject: &mut PacedInject<'_, S, M>,
        watch: &mut PacedWatch<'_, S, W>,
    ) -> Result<(StopReason, SimTime), WindowError> {
        let mut now = from;
        pacer.reanchor(now);
        loop {
            loop {
                match inputs.try_recv() {
                    Ok(LiveInput::Inject { to, msg }) => inject(shards, now, to, msg)?,
                    Ok(LiveInput::SetSpeed(factor)) => {
                        pacer.factor = sane_factor(factor);
                        pacer.reanchor(now);
                    }
                    Ok(LiveInput::Pause) => {
                        pacer.paused = true;
                        pacer.reanchor(now);
                    }
                    Ok(LiveInput::Resume) => {
                        pacer.paused = false;
                        pacer.reanchor(now);
                    }
                    Ok(LiveInput::Stop) => return Ok((StopReason::StoppedByCommand, now)),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            let next = shards.iter().filter_map(Shard::next_event_time).min();
            let due = next.map_or(until, |t| t.min(until));
            let paced = pacer.paced_now_reaching([due, until]).min(until);
            let most = SimDuration::from_secs_f64(WINDOWS_STEP.as_secs_f64() * pacer.factor).max(lookahead);
            let step_end = paced.min(now.saturating_add(most));
            if step_end > now {
                if next.is_some_and(|t| t < step_end) {
                    let threads = if step_end.saturating_since(now) >= THREADED_STEP { threads } else { 1 };
                    self.run(shards, lookahead, step_end, threads)?;
                }
                now = step_end;
            }
            if watch(shards, self, now, pacer).is_break() {
                return Ok((StopReason::StoppedByCommand, now));
            }
            if now < paced {
                // Behind: say how far, and go on at once.
                pacer.note_lag(paced.saturating_since(now));
                continue;
            }
            pacer.note_lag(SimDuration::ZERO);
            if now >= until {
                let drained = shards.iter().all(|s| s.next_event_time().is_none());
                return Ok((if drained { StopReason::Drained } else { StopReason::ReachedTime }, now));
            }
            let next = shards.iter().filter_map(Shard::next_event_time).min();
            let due = next.map_or(until, |t| t.min(until));
            let tick_end = pacer.wall.now().saturating_add(pacer.tick);
            let wake = if pacer.paused { tick_end } else { pacer.deadline(due.max(now)).min(tick_end) };
            pacer.wall.sleep_until(wake);
        }
    }
}
