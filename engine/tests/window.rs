//! Shards in conservative time windows: the same events on any number of threads, every
//! message delivered at its time, and a message faster than the lookahead refused.

use rand::RngExt;
use storetwin_engine::{
    ActorId, Context, Envelope, EventHash, Model, Seed, ShardModel, SimDuration, SimTime, Simulation, Watch,
    WindowError, Windows, run_windows,
};

const LOOKAHEAD: SimDuration = SimDuration::from_millis(20);
const END: SimTime = SimTime::from_secs(20);

/// A PHOLD-like shard: each event is forwarded to a random actor, in another shard with
/// probability `remote` (taking the lookahead plus an exponential extra), else locally.
struct Ring {
    shard: u32,
    shards: u32,
    actors: u32,
    remote: f64,
    /// Added to every remote latency (negative: a model that breaks the lookahead).
    latency_ns: i64,
    outbox: Vec<Envelope<(u64, u32)>>,
    /// (due time, hop) of every delivered message: checked against the delivery time.
    late: u64,
    delivered_remote: u64,
    /// Added to the receiver of remote messages (non-zero: a model that sends to actors
    /// that do not exist).
    bad_target: u32,
    /// Messages sent to other shards due before [`END`].
    sent_before_end: u64,
    /// Remote due times rounded up to a multiple of this (non-zero: many messages due at
    /// the same instant, ordered by their key alone).
    grid_ns: u64,
}

#[derive(Clone, Copy)]
enum Msg {
    Hop(u32),
    /// A message from another shard, with the time it was due.
    Remote(u64, u32),
}

impl Model for Ring {
    type Msg = Msg;
    fn actor_count(&self) -> u32 {
        self.actors
    }
    fn start(&mut self, ctx: &mut Context<'_, Msg>) {
        let delay = SimDuration::from_secs_f64(ctx.rng().random::<f64>());
        ctx.schedule(delay, Msg::Hop(0));
    }
    fn handle(&mut self, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let hop = match msg {
            Msg::Hop(h) => h,
            Msg::Remote(due, h) => {
                self.delivered_remote += 1;
                if due != ctx.now().as_nanos() {
                    self.late += 1;
                }
                h
            }
        };
        let rng = ctx.rng();
        let go_remote = self.shards > 1 && rng.random::<f64>() < self.remote;
        let extra = -(1.0 - rng.random::<f64>()).ln() * 0.05;
        if go_remote {
            let mut other = rng.random_range(0..self.shards - 1);
            if other >= self.shard {
                other += 1;
            }
            let to = ActorId(rng.random_range(0..actors_of(other)) + self.bad_target);
            let base = LOOKAHEAD.as_nanos() as i64 + self.latency_ns;
            let mut at = ctx.now().as_nanos() + base as u64 + SimDuration::from_secs_f64(extra).as_nanos();
            if self.grid_ns > 0 {
                at = at.div_ceil(self.grid_ns) * self.grid_ns;
            }
            if at < END.as_nanos() {
                self.sent_before_end += 1;
            }
            self.outbox.push(Envelope {
                at: SimTime::from_nanos(at),
                from: self.shard,
                to_shard: other,
                to,
                msg: (at, hop + 1),
            });
        } else {
            let to = ActorId(rng.random_range(0..self.actors));
            ctx.send(to, SimDuration::from_secs_f64(extra), Msg::Hop(hop + 1));
        }
    }
}

impl ShardModel for Ring {
    type Remote = (u64, u32);
    fn take_outbox(&mut self, out: &mut Vec<Envelope<(u64, u32)>>) {
        out.append(&mut self.outbox);
    }
    fn remote_msg(&mut self, (due, hop): (u64, u32)) -> Result<Msg, String> {
        Ok(Msg::Remote(due, hop))
    }
}

fn shards(n: u32, latency_ns: i64) -> Vec<Simulation<Ring>> {
    (0..n)
        .map(|s| {
            let ring = Ring {
                shard: s,
                shards: n,
                actors: actors_of(s),
                remote: 0.3,
                latency_ns,
                outbox: Vec::new(),
                late: 0,
                delivered_remote: 0,
                bad_target: 0,
                sent_before_end: 0,
                grid_ns: 0,
            };
            Simulation::new(ring, Seed(42).replication(s))
        })
        .collect()
}

fn actors_of(shard: u32) -> u32 {
    50 + 10 * shard
}

struct Outcome {
    hashes: Vec<EventHash>,
    events: Vec<u64>,
    messages: u64,
}

fn run(n: u32, threads: usize) -> Outcome {
    let mut sims = shards(n, 0);
    let stats = run_windows(&mut sims, LOOKAHEAD, END, threads).expect("run");
    for sim in &sims {
        assert_eq!(sim.model().late, 0, "a cross-shard message was delivered at another time than it was due");
    }
    let remote: u64 = sims.iter().map(|s| s.model().delivered_remote).sum();
    let due: u64 = sims.iter().map(|s| s.model().sent_before_end).sum();
    assert_eq!(remote, due, "every message sent across shards and due before the end is delivered once");
    assert!(stats.messages >= due);
    Outcome {
        hashes: sims.iter().map(Simulation::event_hash).collect(),
        events: sims.iter().map(Simulation::events_delivered).collect(),
        messages: stats.messages,
    }
}

#[test]
fn shards_deliver_the_same_events_on_any_number_of_threads() {
    let one = run(7, 1);
    assert!(one.messages > 10_000, "the test exercises the exchange ({} messages)", one.messages);
    assert!(one.events.iter().all(|&e| e > 10_000));
    for threads in [2, 3, 4, 8] {
        let other = run(7, threads);
        assert_eq!(one.hashes, other.hashes, "{threads} threads");
        assert_eq!(one.events, other.events, "{threads} threads");
        assert_eq!(one.messages, other.messages, "{threads} threads");
    }
}

/// A run stopped at checkpoints and continued delivers the same events as one run, even
/// where many messages are due at the same instant and only their keys order them.
#[test]
fn a_run_cut_at_checkpoints_delivers_the_same_events() {
    let gridded = || {
        let mut sims = shards(5, 0);
        for sim in &mut sims {
            sim.model_mut().grid_ns = 100_000_000;
        }
        sims
    };
    let mut whole = gridded();
    run_windows(&mut whole, LOOKAHEAD, END, 1).unwrap();
    let expected: Vec<EventHash> = whole.iter().map(Simulation::event_hash).collect();
    for threads in [1, 2] {
        let mut cut = gridded();
        let mut windows = Windows::new(cut.len());
        let mut t = SimTime::ZERO;
        let mut calls = 0;
        while t < END {
            t = t.saturating_add(SimDuration::from_millis(70)).min(END);
            windows.run(&mut cut, LOOKAHEAD, t, threads).unwrap();
            calls += 1;
        }
        assert!(calls > 200);
        let hashes: Vec<EventHash> = cut.iter().map(Simulation::event_hash).collect();
        assert_eq!(hashes, expected, "{threads} thread(s)");
        let remote: u64 = cut.iter().map(|s| s.model().delivered_remote).sum();
        assert!(remote > 10_000, "{remote} remote messages");
    }
}

/// A watched run delivers the same events as an unwatched one, shows every shard at each
/// checkpoint, and stops at the same checkpoint with the same events on any thread count.
#[test]
fn a_watched_run_is_the_same_run_and_stops_where_told() {
    let mut plain = shards(5, 0);
    run_windows(&mut plain, LOOKAHEAD, END, 1).unwrap();
    let expected: Vec<EventHash> = plain.iter().map(Simulation::event_hash).collect();
    let every = SimDuration::from_millis(250);
    let look = |_: SimTime, s: &Simulation<Ring>| s.events_delivered();
    let mut stops = Vec::new();
    for threads in [1, 2, 3] {
        let mut sims = shards(5, 0);
        let mut seen: Vec<(SimTime, Vec<u64>)> = Vec::new();
        let mut decide = |at: SimTime, looks: Vec<u64>| {
            seen.push((at, looks));
            std::ops::ControlFlow::Continue(())
        };
        let stats = Windows::new(5)
            .run_watched(&mut sims, LOOKAHEAD, END, threads, Some(Watch { every, look: &look, decide: &mut decide }))
            .unwrap();
        assert_eq!(stats.stopped, None);
        assert_eq!(sims.iter().map(Simulation::event_hash).collect::<Vec<_>>(), expected, "{threads} thread(s)");
        assert_eq!(seen.len(), 79, "every checkpoint before the end: 0.25 s apart over 20 s");
        assert!(seen.iter().all(|(_, l)| l.len() == 5));
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1.iter().zip(&w[1].1).all(|(a, b)| a <= b)));
        let mut stop_late = |_at: SimTime, looks: Vec<u64>| {
            if looks.iter().sum::<u64>() > 20_000 {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        };
        let mut sims = shards(5, 0);
        let stats = Windows::new(5)
            .run_watched(&mut sims, LOOKAHEAD, END, threads, Some(Watch { every, look: &look, decide: &mut stop_late }))
            .unwrap();
        let at = stats.stopped.expect("stopped");
        assert!(at < END && at.as_nanos().is_multiple_of(every.as_nanos()));
        assert!(sims.iter().all(|s| s.next_event_time().is_none_or(|t| t >= at)), "nothing at or after the stop ran");
        stops.push((at, sims.iter().map(Simulation::event_hash).collect::<Vec<_>>()));
    }
    assert!(stops.windows(2).all(|w| w[0] == w[1]), "the same stop on 1, 2 and 3 threads");
}

#[test]
fn a_different_seed_changes_the_run() {
    let mut a = shards(3, 0);
    let mut b: Vec<_> = (0..3u32)
        .map(|s| {
            let ring = Ring {
                shard: s,
                shards: 3,
                actors: actors_of(s),
                remote: 0.3,
                latency_ns: 0,
                outbox: Vec::new(),
                late: 0,
                delivered_remote: 0,
                bad_target: 0,
                sent_before_end: 0,
                grid_ns: 0,
            };
            Simulation::new(ring, Seed(43).replication(s))
        })
        .collect();
    run_windows(&mut a, LOOKAHEAD, SimTime::from_secs(5), 2).unwrap();
    run_windows(&mut b, LOOKAHEAD, SimTime::from_secs(5), 2).unwrap();
    assert_ne!(a[0].event_hash(), b[0].event_hash());
}

#[test]
fn events_at_or_after_the_end_stay_pending() {
    let mut sims = shards(3, 0);
    let end = SimTime::from_secs(3);
    run_windows(&mut sims, LOOKAHEAD, end, 2).unwrap();
    for sim in &sims {
        assert!(sim.next_event_time().is_some_and(|t| t >= end));
        assert!(sim.now() < end);
    }
}

#[test]
fn a_message_faster_than_the_lookahead_stops_the_run() {
    for threads in [1, 2] {
        let mut sims = shards(3, -1_000_000);
        let err = run_windows(&mut sims, LOOKAHEAD, SimTime::from_secs(20), threads).expect_err("must fail");
        assert!(matches!(err, WindowError::Lookahead { .. }), "{err}");
        assert!(err.to_string().contains("at least the lookahead"), "{err}");
    }
}

#[test]
fn a_zero_lookahead_is_refused() {
    let mut sims = shards(2, 0);
    let err = run_windows(&mut sims, SimDuration::ZERO, SimTime::from_secs(1), 1).unwrap_err();
    assert_eq!(err, WindowError::ZeroLookahead);
}

#[test]
fn a_failing_shard_stops_every_thread() {
    for threads in [1, 2, 3] {
        let mut sims = shards(4, 0);
        sims[2].model_mut().bad_target = 1_000;
        if threads == 3 {
            for sim in &mut sims {
                sim.model_mut().bad_target = 1_000;
            }
        }
        let err = run_windows(&mut sims, LOOKAHEAD, SimTime::from_secs(20), threads).expect_err("must fail");
        assert!(err.to_string().contains("unknown actor"), "{err}");
    }
}
