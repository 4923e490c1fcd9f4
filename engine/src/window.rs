//! Shards run in conservative time windows.
//!
//! A large world (a chain of stores and its central platform) runs as *shards*: each one a
//! simulation with its own event queue, exchanging messages of one small type
//! ([`Shard::Remote`]) that take at least `lookahead` of simulated time to arrive. That
//! bound is what makes the shards independent for a while: an event a shard handles before
//! `t + lookahead` can only have been caused by messages sent before `t`. So the runner
//! moves all shards through windows `[start, start + lookahead)`: within a window each
//! shard delivers its own events with no one else's help (on any thread), and at the
//! window's end the messages sent in it are handed to their receivers, all of them due at
//! or after the window's end ([`WindowError::Lookahead`] otherwise). `start` is the
//! earliest pending event of any shard, so quiet stretches cost one window each.
//!
//! Determinism, whatever the number of threads: a shard's events depend only on its own
//! state and the messages it accepts, and every message is accepted before its time comes,
//! with a key that does not depend on threads: its time, the origin
//! [`ActorId::shard`]`(sender)` and the number of earlier messages from that sender to
//! this shard. So each shard delivers the same events in the same order (the same
//! per-shard `event_hash`) for any thread count, and so does the whole run.
//!
//! Threads: shards are dealt to `threads` workers for the whole run, heaviest first to the
//! least loaded (by [`Shard::weight`], a hint: only the speed depends on it); each window ends at one barrier, after which every worker takes the messages
//! for its shards and computes the next window's start from figures all workers published
//! before the barrier (so no second barrier is needed; the hand-over is double-buffered by
//! the window's parity). The barrier spins (then yields): a chain day has millions of short
//! windows, and sleeping at each would cost more than the work. The exchange is
//! plain memory here; the same protocol can run over MPI collectives between processes.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::{ActorId, SimDuration, SimError, SimTime};

/// Index of a shard in the slice given to [`run_windows`].
pub type ShardIdx = u32;

/// A message from one shard to an actor of another, due at `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope<X> {
    pub at: SimTime,
    pub from: ShardIdx,
    pub to_shard: ShardIdx,
    pub to: ActorId,
    pub msg: X,
}

/// One shard of a sharded world.
pub trait Shard: Send {
    /// What shards say to each other: keep it small and self-contained.
    type Remote: Send;

    /// Delivers every pending event with time `< end` and appends the messages sent to
    /// other shards meanwhile to `outbox` (in the order they were sent).
    fn run_window(&mut self, end: SimTime, outbox: &mut Vec<Envelope<Self::Remote>>) -> Result<(), SimError>;

    /// Takes a message from another shard, due at `env.at` (never before the end of the
    /// window being closed), to be delivered with the key `(env.at, origin, seq)`.
    fn accept(&mut self, origin: ActorId, seq: u32, env: Envelope<Self::Remote>) -> Result<(), SimError>;

    /// The time of this shard's next pending event.
    fn next_event_time(&self) -> Option<SimTime>;

    /// How much work this shard is expected to be, relative to the others (e.g. the
    /// events it will deliver): the threaded runner gives each worker about the same
    /// total. Only the speed depends on it, never the results.
    fn weight(&self) -> u64 {
        1
    }
}

/// Counts of a windowed run.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct WindowStats {
    /// Windows run (each ends with an exchange).
    pub windows: u64,
    /// Messages that crossed between shards.
    pub messages: u64,
    /// The checkpoint at which a [`Watch`] stopped the run, if it did.
    pub stopped: Option<SimTime>,
}

/// Looks at the shards during a run, at checkpoints `every` of simulated time apart: at a
/// checkpoint `t` every event before `t` has been delivered and none at or after it. Each
/// shard is looked at by the thread that runs it (`look`, given `t`); `decide` gets every shard's look
/// in shard order and may stop the run there. Windows never cross a checkpoint, which
/// changes nothing in what the shards deliver (only where windows end), so a watched run
/// is the same run as an unwatched one. In a quiet stretch only the last checkpoint before
/// the next event is looked at (nothing changed at the others).
pub struct Watch<'a, S, R> {
    pub every: SimDuration,
    pub look: &'a (dyn Fn(SimTime, &S) -> R + Sync),
    pub decide: &'a mut (dyn FnMut(SimTime, Vec<R>) -> ControlFlow<()> + Send),
}

/// Checkpoints of a watched run: the next one, and how far apart they are.
#[derive(Clone, Copy)]
struct Checkpoints {
    next: SimTime,
    every: SimDuration,
}

impl Checkpoints {
    fn new(every: SimDuration) -> Option<Checkpoints> {
        (every > SimDuration::ZERO).then(|| Checkpoints { next: SimTime::ZERO.saturating_add(every), every })
    }

    /// The checkpoint to look at before a window starting at `start`: the last one at or
    /// before it, if one is due.
    fn due(&self, start: SimTime) -> Option<SimTime> {
        if self.next > start {
            return None;
        }
        let skipped = start.saturating_since(self.next).as_nanos() / self.every.as_nanos();
        Some(self.next.saturating_add(SimDuration::from_nanos(skipped * self.every.as_nanos())))
    }

    fn passed(&mut self, at: SimTime) {
        self.next = at.saturating_add(self.every);
    }
}

#[derive(Clone, PartialEq, Debug, thiserror::Error)]
pub enum WindowError {
    #[error("shard {shard}: {error}")]
    Shard { shard: ShardIdx, error: SimError },
    #[error(
        "shard {from} sent a message to shard {to_shard} due at {at}, inside the window ending at {window_end}: \
         cross-shard messages must take at least the lookahead ({lookahead})"
    )]
    Lookahead { from: ShardIdx, to_shard: ShardIdx, at: SimTime, window_end: SimTime, lookahead: SimDuration },
    #[error("shard {from} sent a message to shard {to_shard}, which does not exist ({shards} shards)")]
    UnknownShard { from: ShardIdx, to_shard: ShardIdx, shards: usize },
    #[error("the lookahead must be positive")]
    ZeroLookahead,
    #[error("more than 2^32 messages from shard {from} to shard {to_shard}")]
    SeqExhausted { from: ShardIdx, to_shard: ShardIdx },
}

impl WindowError {
    /// The shard's simulation error, if the run stopped on one (a broken invariant).
    pub fn sim_error(&self) -> Option<&SimError> {
        match self {
            WindowError::Shard { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Runs `shards` until no event before `end` is left (events at `end` or later stay
/// pending), `threads` at a time (at least one; more threads than shards are not used).
pub fn run_windows<S: Shard>(
    shards: &mut [S],
    lookahead: SimDuration,
    end: SimTime,
    threads: usize,
) -> Result<WindowStats, WindowError> {
    Windows::new(shards.len()).run(shards, lookahead, end, threads)
}

/// A windowed run that can stop at checkpoints and go on: it keeps what must carry over
/// from one call to the next (the count of messages each shard has accepted from each
/// other, which is part of every message's key). Running to `t1`, then to `t2`, delivers
/// exactly the events of one run to `t2`, in the same order (the same `event_hash`): at
/// each call's end every message sent is already with its receiver, due at or after the
/// end.
#[derive(Clone, Debug)]
pub struct Windows {
    shards: usize,
    /// `seqs[to * shards + from]`: messages shard `to` has accepted from shard `from`.
    seqs: Vec<u32>,
    stats: WindowStats,
}

impl Windows {
    pub fn new(shards: usize) -> Windows {
        Windows { shards, seqs: vec![0; shards * shards], stats: WindowStats::default() }
    }

    /// Windows run and messages exchanged so far, over every call.
    pub fn stats(&self) -> WindowStats {
        self.stats
    }

    /// Runs `shards` (the same ones, in the same order, at every call) until no event
    /// before `end` is left, as [`run_windows`]; returns the counts of every call so far.
    pub fn run<S: Shard>(
        &mut self,
        shards: &mut [S],
        lookahead: SimDuration,
        end: SimTime,
        threads: usize,
    ) -> Result<WindowStats, WindowError> {
        self.run_watched::<S, ()>(shards, lookahead, end, threads, None)
    }

    /// As [`Self::run`], shown to `watch` at its checkpoints (counted from time zero); if
    /// it stops the run, `stopped` says where.
    pub fn run_watched<S: Shard, R: Send>(
        &mut self,
        shards: &mut [S],
        lookahead: SimDuration,
        end: SimTime,
        threads: usize,
        watch: Option<Watch<'_, S, R>>,
    ) -> Result<WindowStats, WindowError> {
        if lookahead == SimDuration::ZERO {
            return Err(WindowError::ZeroLookahead);
        }
        let n = shards.len();
        assert_eq!(n, self.shards, "a windowed run goes on with the shards it started with");
        let threads = threads.clamp(1, n.max(1));
        let stats = if threads == 1 {
            run_sequential(shards, &mut self.seqs, lookahead, end, watch)?
        } else {
            run_threaded(shards, &mut self.seqs, lookahead, end, threads, watch)?
        };
        self.stats.windows += stats.windows;
        self.stats.messages += stats.messages;
        self.stats.stopped = stats.stopped;
        Ok(self.stats)
    }
}

/// Hands `env` to its receiver, `shard`, whose counts of accepted messages per sender
/// are `seqs`.
fn deliver<S: Shard>(shard: &mut S, seqs: &mut [u32], env: Envelope<S::Remote>) -> Result<(), WindowError> {
    let (from, to) = (env.from, env.to_shard);
    let slot = &mut seqs[from as usize];
    let seq = *slot;
    *slot = seq.checked_add(1).ok_or(WindowError::SeqExhausted { from, to_shard: to })?;
    shard.accept(ActorId::shard(from), seq, env).map_err(|error| WindowError::Shard { shard: to, error })
}

fn window_end(start: SimTime, lookahead: SimDuration, end: SimTime) -> SimTime {
    start.saturating_add(lookahead).min(end)
}

/// Checks that every message in `out` (sent in the window ending at `window_end`) is due
/// at or after it and goes to an existing shard.
fn check_outbox<X>(
    out: &[Envelope<X>],
    window_end: SimTime,
    lookahead: SimDuration,
    shards: usize,
) -> Result<(), WindowError> {
    for env in out {
        if env.to_shard as usize >= shards {
            return Err(WindowError::UnknownShard { from: env.from, to_shard: env.to_shard, shards });
        }
        if env.at < window_end {
            return Err(WindowError::Lookahead {
                from: env.from,
                to_shard: env.to_shard,
                at: env.at,
                window_end,
                lookahead,
            });
        }
    }
    Ok(())
}

fn next_time<S: Shard>(shards: &[S]) -> Option<SimTime> {
    shards.iter().filter_map(Shard::next_event_time).min()
}

/// The worker of each shard: heaviest first, each to the least loaded worker so far
/// (ties to the lower index), so that `workers` get about the same total weight.
fn assign(weights: &[u64], workers: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(weights[i]), i));
    let mut load = vec![0u64; workers];
    let mut owner = vec![0; weights.len()];
    for i in order {
        let w = (0..workers).min_by_key(|&w| (load[w], w)).unwrap_or(0);
        load[w] = load[w].saturating_add(weights[i].max(1));
        owner[i] = w;
    }
    owner
}

fn run_sequential<S: Shard, R: Send>(
    shards: &mut [S],
    seqs: &mut [u32],
    lookahead: SimDuration,
    end: SimTime,
    mut watch: Option<Watch<'_, S, R>>,
) -> Result<WindowStats, WindowError> {
    let n = shards.len();
    let mut stats = WindowStats::default();
    let mut out = Vec::new();
    let mut checkpoints = watch.as_ref().and_then(|w| Checkpoints::new(w.every));
    while let Some(start) = next_time(shards).filter(|&t| t < end) {
        if let (Some(w), Some(cp)) = (watch.as_mut(), checkpoints.as_mut())
            && let Some(at) = cp.due(start)
        {
            let looks = shards.iter().map(|s| (w.look)(at, s)).collect();
            if (w.decide)(at, looks).is_break() {
                stats.stopped = Some(at);
                break;
            }
            cp.passed(at);
        }
        let stop = match checkpoints {
            Some(cp) => window_end(start, lookahead, end).min(cp.next),
            None => window_end(start, lookahead, end),
        };
        for (i, shard) in shards.iter_mut().enumerate() {
            if shard.next_event_time().is_some_and(|t| t < stop) {
                shard.run_window(stop, &mut out).map_err(|error| WindowError::Shard { shard: i as ShardIdx, error })?;
            }
        }
        check_outbox(&out, stop, lookahead, n)?;
        stats.windows += 1;
        stats.messages += out.len() as u64;
        for env in out.drain(..) {
            let to = env.to_shard as usize;
            deliver(&mut shards[to], &mut seqs[to * n..(to + 1) * n], env)?;
        }
    }
    Ok(stats)
}

/// A sense-reversing barrier that spins, then yields.
struct SpinBarrier {
    parties: u32,
    arrived: AtomicU32,
    generation: AtomicU32,
}

impl SpinBarrier {
    fn new(parties: u32) -> Self {
        SpinBarrier { parties, arrived: AtomicU32::new(0), generation: AtomicU32::new(0) }
    }

    fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.store(generation.wrapping_add(1), Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if spins < 2_000 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

const NONE: u64 = u64::MAX;

fn run_threaded<S: Shard, R: Send>(
    shards: &mut [S],
    seqs: &mut [u32],
    lookahead: SimDuration,
    end: SimTime,
    threads: usize,
    watch: Option<Watch<'_, S, R>>,
) -> Result<WindowStats, WindowError> {
    let n = shards.len();
    let workers = threads.min(n);
    let weights: Vec<u64> = shards.iter().map(Shard::weight).collect();
    let owner = assign(&weights, workers);
    // Each worker's shards, in index order, with their indices and their counts of
    // accepted messages; and each shard's place in its worker's list.
    let mut place = vec![0usize; n];
    let mut locals: Vec<Vec<(ShardIdx, &mut S, &mut [u32])>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, (shard, row)) in shards.iter_mut().zip(seqs.chunks_mut(n)).enumerate() {
        place[i] = locals[owner[i]].len();
        locals[owner[i]].push((i as ShardIdx, shard, row));
    }
    let barrier = SpinBarrier::new(workers as u32);
    // Everything a worker hands the others is double-buffered by the window's parity: what
    // it writes in window `k` is read by the others after the barrier that ends `k`, while
    // it may already write window `k + 1` into the other half. It cannot write `k + 2`
    // (the same half again) before everyone has passed the barrier ending `k + 1`, so after
    // they finished reading `k`.
    //
    // `slots[s][r][parity]`: messages worker `s`'s shards sent to worker `r`'s shards, in
    // send order. `next[w][parity]`: the time of worker `w`'s next event after its run,
    // and the earliest message it sent (so every worker computes the next window's start
    // from the same figures, without a second barrier).
    type Slot<X> = Mutex<Vec<Envelope<X>>>;
    let slots: Vec<Vec<[Slot<S::Remote>; 2]>> = (0..workers)
        .map(|_| (0..workers).map(|_| [Mutex::new(Vec::new()), Mutex::new(Vec::new())]).collect())
        .collect();
    let next: Vec<[AtomicU64; 2]> = (0..workers).map(|_| [AtomicU64::new(NONE), AtomicU64::new(NONE)]).collect();
    let sent: Vec<[AtomicU64; 2]> = (0..workers).map(|_| [AtomicU64::new(NONE), AtomicU64::new(NONE)]).collect();
    // The first phase in which a worker met an error: `2k` while running window `k`, `2k + 1`
    // while delivering its messages (`NONE`: none yet). Looked at just after the barrier
    // ending window `k`, when every phase up to `2k` is over on every worker, so all stop
    // after the same barrier.
    let failed = AtomicU64::new(NONE);
    let error: Mutex<Option<WindowError>> = Mutex::new(None);
    let stats = Mutex::new(WindowStats::default());
    // At a checkpoint each worker leaves its shards' looks here; worker 0 hands them to
    // `decide` in shard order and says whether to stop.
    let checkpoints = watch.as_ref().and_then(|w| Checkpoints::new(w.every));
    let (look, mut decide) = match watch {
        Some(w) => (Some(w.look), Some(w.decide)),
        None => (None, None),
    };
    let looks: Mutex<Vec<(ShardIdx, R)>> = Mutex::new(Vec::with_capacity(n));
    let stop_here = AtomicBool::new(false);

    let record = |phase: u64, e: WindowError| {
        let mut slot = error.lock().unwrap_or_else(PoisonError::into_inner);
        // Keep the error of the lowest shard, so the report does not depend on timing.
        let shard_of = |e: &WindowError| match e {
            WindowError::Shard { shard, .. } => *shard,
            WindowError::Lookahead { from, .. }
            | WindowError::UnknownShard { from, .. }
            | WindowError::SeqExhausted { from, .. } => *from,
            WindowError::ZeroLookahead => 0,
        };
        if slot.as_ref().is_none_or(|old| shard_of(&e) < shard_of(old)) {
            *slot = Some(e);
        }
        failed.fetch_min(phase, Ordering::AcqRel);
    };
    let earliest = |parity: usize| {
        let of = |v: &[[AtomicU64; 2]]| v.iter().map(|t| t[parity].load(Ordering::Acquire)).min().unwrap_or(NONE);
        of(&next).min(of(&sent))
    };

    std::thread::scope(|scope| {
        for (w, mut local) in locals.into_iter().enumerate() {
            let (barrier, slots, next, sent, failed, stats, record, earliest, owner, place) =
                (&barrier, &slots, &next, &sent, &failed, &stats, &record, &earliest, &owner, &place);
            let (looks, stop_here, mut checkpoints) = (&looks, &stop_here, checkpoints);
            let mut decide = if w == 0 { decide.take() } else { None };
            scope.spawn(move || {
                let next_time = |local: &[(ShardIdx, &mut S, &mut [u32])]| {
                    local.iter().filter_map(|(_, s, _)| s.next_event_time()).min().map_or(NONE, SimTime::as_nanos)
                };
                let mut out = Vec::new();
                let mut sorted: Vec<Vec<Envelope<S::Remote>>> = (0..workers).map(|_| Vec::new()).collect();
                let mut messages = 0u64;
                // Window -1: nothing run, nothing sent; its figures give window 0's start.
                next[w][1].store(next_time(&local), Ordering::Release);
                barrier.wait();
                let mut start = earliest(1);
                let mut k = 0u64;
                let mut stopped = None;
                while start != NONE && start < end.as_nanos() {
                    let parity = (k % 2) as usize;
                    // Every worker sees the same `start`, so all meet at the same checkpoints.
                    if let (Some(look), Some(cp)) = (look, checkpoints.as_mut())
                        && let Some(at) = cp.due(SimTime::from_nanos(start))
                    {
                        let mine: Vec<(ShardIdx, R)> = local.iter().map(|(i, s, _)| (*i, look(at, &**s))).collect();
                        looks.lock().unwrap_or_else(PoisonError::into_inner).extend(mine);
                        barrier.wait();
                        if let Some(decide) = decide.as_mut() {
                            let mut all = std::mem::take(&mut *looks.lock().unwrap_or_else(PoisonError::into_inner));
                            all.sort_by_key(|(i, _)| *i);
                            let verdict = decide(at, all.into_iter().map(|(_, r)| r).collect());
                            stop_here.store(verdict.is_break(), Ordering::Release);
                        }
                        barrier.wait();
                        if stop_here.load(Ordering::Acquire) {
                            stopped = Some(at);
                            break;
                        }
                        cp.passed(at);
                    }
                    let stop = window_end(SimTime::from_nanos(start), lookahead, end);
                    let stop = checkpoints.map_or(stop, |cp| stop.min(cp.next));
                    for (i, shard, _) in local.iter_mut() {
                        if shard.next_event_time().is_some_and(|t| t < stop)
                            && let Err(error) = shard.run_window(stop, &mut out)
                        {
                            record(2 * k, WindowError::Shard { shard: *i, error });
                        }
                    }
                    let mut earliest_sent = NONE;
                    match check_outbox(&out, stop, lookahead, n) {
                        Err(e) => {
                            out.clear();
                            record(2 * k, e);
                        }
                        Ok(()) => {
                            messages += out.len() as u64;
                            for env in out.drain(..) {
                                earliest_sent = earliest_sent.min(env.at.as_nanos());
                                sorted[owner[env.to_shard as usize]].push(env);
                            }
                            for (r, list) in sorted.iter_mut().enumerate() {
                                if !list.is_empty() {
                                    let mut slot = slots[w][r][parity].lock().unwrap_or_else(PoisonError::into_inner);
                                    slot.append(list);
                                }
                            }
                        }
                    }
                    next[w][parity].store(next_time(&local), Ordering::Release);
                    sent[w][parity].store(earliest_sent, Ordering::Release);
                    barrier.wait();
                    if failed.load(Ordering::Acquire) <= 2 * k {
                        break;
                    }
                    // Senders in worker order; each slot in send order.
                    for from in slots {
                        let mut slot = from[w][parity].lock().unwrap_or_else(PoisonError::into_inner);
                        for env in slot.drain(..) {
                            let (_, shard, seqs) = &mut local[place[env.to_shard as usize]];
                            if let Err(e) = deliver(&mut **shard, seqs, env) {
                                record(2 * k + 1, e);
                            }
                        }
                    }
                    start = earliest(parity);
                    k += 1;
                }
                let mut total = stats.lock().unwrap_or_else(PoisonError::into_inner);
                if w == 0 {
                    total.windows = k;
                    total.stopped = stopped;
                }
                total.messages += messages;
            });
        }
    });
    match error.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some(e) => Err(e),
        None => Ok(stats.into_inner().unwrap_or_else(PoisonError::into_inner)),
    }
}

/// A kernel [`Model`](crate::Model) that can be a shard: it keeps the messages its actors
/// send to other shards (each with its due time) until the window ends, and turns the
/// messages it receives into its own. A [`Simulation`](crate::Simulation) of such a model
/// is a [`Shard`].
pub trait ShardModel: crate::Model {
    type Remote: Send;

    /// Moves the messages sent to other shards since the last call to `out`, in send order.
    fn take_outbox(&mut self, out: &mut Vec<Envelope<Self::Remote>>);

    /// The message to deliver for `msg`, received from another shard; `Err` says why the
    /// model cannot take it (a protocol error, which stops the run).
    fn remote_msg(&mut self, msg: Self::Remote) -> Result<Self::Msg, String>;
}

impl<Mo> Shard for crate::Simulation<Mo>
where
    Mo: ShardModel + Send,
    Mo::Msg: Send,
{
    type Remote = Mo::Remote;

    fn run_window(&mut self, end: SimTime, outbox: &mut Vec<Envelope<Mo::Remote>>) -> Result<(), SimError> {
        let until = SimTime::from_nanos(end.as_nanos().saturating_sub(1));
        self.run(crate::RunLimit::until(until))?;
        self.model_mut().take_outbox(outbox);
        Ok(())
    }

    fn accept(&mut self, origin: ActorId, seq: u32, env: Envelope<Mo::Remote>) -> Result<(), SimError> {
        match self.model_mut().remote_msg(env.msg) {
            Ok(msg) => self.accept_remote(env.at, origin, seq, env.to, msg),
            Err(detail) => Err(SimError {
                kind: crate::SimErrorKind::Invariant { invariant: "shard protocol", detail },
                at: self.now(),
                seed: self.seed(),
            }),
        }
    }

    fn next_event_time(&self) -> Option<SimTime> {
        // Before its first run a simulation has not started its actors yet: it may have
        // events at time zero.
        if self.started { crate::Simulation::next_event_time(self) } else { Some(self.now()) }
    }
}

#[cfg(test)]
mod tests {
    use super::assign;

    fn loads(weights: &[u64], owner: &[usize], workers: usize) -> Vec<u64> {
        let mut load = vec![0; workers];
        for (w, o) in weights.iter().zip(owner) {
            load[*o] += w;
        }
        load
    }

    #[test]
    fn heavy_shards_are_spread_over_the_workers() {
        // A platform, 40 + 45 light stores and 15 heavy ones at the end, as a chain lists
        // them: contiguous blocks would give one worker all the heavy stores.
        let mut weights = vec![5];
        weights.extend(std::iter::repeat_n(10, 85));
        weights.extend(std::iter::repeat_n(37, 15));
        let owner = assign(&weights, 2);
        let load = loads(&weights, &owner, 2);
        assert!(load[0].abs_diff(load[1]) <= 37, "{load:?}");
        let heavy: Vec<usize> = owner[86..].to_vec();
        assert!(heavy.iter().filter(|&&w| w == 0).count().abs_diff(heavy.iter().filter(|&&w| w == 1).count()) <= 1);
    }

    #[test]
    fn equal_weights_deal_round_robin_and_every_worker_gets_a_shard() {
        assert_eq!(assign(&[1; 7], 3), vec![0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(assign(&[0, 0, 9], 3).iter().copied().collect::<std::collections::BTreeSet<_>>().len(), 3);
    }
}
