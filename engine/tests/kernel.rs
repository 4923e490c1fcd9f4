//! The kernel's guarantees, each tested so that breaking it fails a test.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use proptest::prelude::*;
use rand::RngExt;
use storetwin_engine::phold::{Phold, PholdConfig};
use storetwin_engine::{
    ActorId, Context, EventKey, LiveInput, ManualWall, Model, Observer, Pacer, RunLimit, Seed, SimDuration, SimTime,
    Simulation, StopReason, run_replications,
};

/// A model whose actors send a scripted set of events at the start, and on each delivery
/// may send follow-ups (by a random draw), while a shadow set tracks what is pending.
struct Scripted {
    actors: u32,
    script: Vec<(u32, u32, u64)>, // (from, to, delay ns)
    follow_ups: bool,
    shadow: Rc<RefCell<Pending>>,
}

#[derive(Default)]
struct Pending {
    keys: BTreeSet<EventKey>,
    sends: Vec<u32>,
    delivered: Vec<EventKey>,
    violations: Vec<String>,
}

impl Pending {
    fn sent(&mut self, from: ActorId, at: SimTime) {
        let seq = self.sends[from.index()];
        self.sends[from.index()] += 1;
        self.keys.insert(EventKey::new(at, from, seq));
    }
}

impl Scripted {
    fn send(&self, ctx: &mut Context<'_, u8>, to: u32, delay: u64, hops: u8) {
        let at = ctx.now().saturating_add(SimDuration::from_nanos(delay));
        self.shadow.borrow_mut().sent(ctx.me(), at);
        ctx.send(ActorId(to), SimDuration::from_nanos(delay), hops);
    }
}

impl Model for Scripted {
    type Msg = u8;
    fn actor_count(&self) -> u32 {
        self.actors
    }
    fn start(&mut self, ctx: &mut Context<'_, u8>) {
        let mine: Vec<_> = self.script.iter().filter(|(from, ..)| *from == ctx.me().0).copied().collect();
        for (_, to, delay) in mine {
            self.send(ctx, to, delay, 3);
        }
    }
    fn handle(&mut self, hops: u8, ctx: &mut Context<'_, u8>) {
        if self.follow_ups && hops > 0 {
            let to = ctx.rng().random_range(0..self.actors);
            let delay = ctx.rng().random_range(0..3u64); // ties and zero delays on purpose
            self.send(ctx, to, delay, hops - 1);
        }
    }
}

struct ShadowCheck(Rc<RefCell<Pending>>);

impl Observer<u8> for ShadowCheck {
    fn on_event(&mut self, key: EventKey, _to: ActorId, _msg: &u8) {
        let mut p = self.0.borrow_mut();
        let min = p.keys.pop_first();
        if min != Some(key) {
            p.violations.push(format!("delivered {key:?} while the smallest pending key was {min:?}"));
        }
        p.delivered.push(key);
    }
}

fn run_scripted(actors: u32, script: Vec<(u32, u32, u64)>, follow_ups: bool) -> Pending {
    let shadow = Rc::new(RefCell::new(Pending { sends: vec![0; actors as usize], ..Pending::default() }));
    let model = Scripted { actors, script, follow_ups, shadow: shadow.clone() };
    let mut sim = Simulation::new(model, Seed(7));
    let reason = sim.run_observed(RunLimit::UNBOUNDED, &mut ShadowCheck(shadow.clone())).expect("run succeeds");
    assert_eq!(reason, StopReason::Drained);
    drop(sim);
    Rc::try_unwrap(shadow).ok().expect("sole owner").into_inner()
}

proptest! {
    /// Events scheduled up front come out sorted by (time, origin, origin's send counter),
    /// ties in time included.
    #[test]
    fn scheduled_events_are_delivered_in_key_order(
        actors in 1u32..6,
        script in prop::collection::vec((0u32..6, 0u32..6, 0u64..4), 0..60),
    ) {
        let script: Vec<_> = script.into_iter().map(|(f, t, d)| (f % actors, t % actors, d)).collect();
        let mut expected: Vec<EventKey> = Vec::new();
        let mut sends = vec![0u32; actors as usize];
        // Actors start in id order; each sends its scripted events in script order.
        for from in 0..actors {
            for (_, _, delay) in script.iter().filter(|(f, ..)| *f == from) {
                expected.push(EventKey::new(SimTime::from_nanos(*delay), ActorId(from), sends[from as usize]));
                sends[from as usize] += 1;
            }
        }
        expected.sort();
        let p = run_scripted(actors, script, false);
        prop_assert_eq!(p.delivered, expected);
        prop_assert!(p.violations.is_empty(), "{:?}", p.violations);
    }

    /// With events created while running (zero delays and ties included), every delivered
    /// event is the smallest pending key at that moment.
    #[test]
    fn dynamic_events_are_delivered_in_key_order(
        actors in 1u32..6,
        script in prop::collection::vec((0u32..6, 0u32..6, 0u64..4), 1..30),
    ) {
        let script: Vec<_> = script.into_iter().map(|(f, t, d)| (f % actors, t % actors, d)).collect();
        let n = script.len();
        let p = run_scripted(actors, script, true);
        prop_assert!(p.violations.is_empty(), "{:?}", p.violations);
        prop_assert_eq!(p.delivered.len(), n * 4);
        prop_assert!(p.keys.is_empty());
        prop_assert!(p.delivered.windows(2).all(|w| w[0].time() <= w[1].time()), "time went backwards");
    }
}

fn phold_hash(seed: u64, events: u64) -> (String, u64, SimTime) {
    let mut sim = Simulation::new(Phold::new(PholdConfig::ross(256)), Seed(seed));
    sim.run(RunLimit::events(events)).expect("phold runs");
    (sim.event_hash().to_string(), sim.events_delivered(), sim.now())
}

#[test]
fn phold_same_seed_same_hash_different_seed_different_hash() {
    let a = phold_hash(1, 50_000);
    assert_eq!(a, phold_hash(1, 50_000));
    assert_eq!(a.1, 50_000);
    assert_ne!(a.0, phold_hash(2, 50_000).0);
    // A prefix of the same run is a different sequence, hence a different hash.
    assert_ne!(a.0, phold_hash(1, 49_999).0);
}

#[test]
fn phold_keeps_one_event_per_lp_and_remote_share() {
    struct Remote(u64, u64);
    impl Observer<()> for Remote {
        fn on_event(&mut self, key: EventKey, to: ActorId, _: &()) {
            self.0 += 1;
            self.1 += u64::from(key.origin() != to);
        }
    }
    let lps = 1024;
    let mut sim = Simulation::new(Phold::new(PholdConfig::ross(lps)), Seed(3));
    let mut remote = Remote(0, 0);
    sim.run_observed(RunLimit::events(200_000), &mut remote).expect("phold runs");
    assert_eq!(sim.events_pending(), lps as usize, "PHOLD keeps its event population");
    // Remote with p = 0.25 to a uniform LP, which is itself with p = 1/1024.
    let share = remote.1 as f64 / remote.0 as f64;
    let expected = 0.25 * (1.0 - 1.0 / f64::from(lps));
    assert!((share - expected).abs() < 0.005, "remote share {share}, expected {expected}");
    // Mean delay is mean + lookahead = 2 time units, so time advances ~ events / lps * 2.
    let per_lp = sim.now().as_secs_f64() / (200_000.0 / f64::from(lps));
    assert!((per_lp - 2.0).abs() < 0.1, "time per event per LP {per_lp}");
}

#[test]
fn replications_are_identical_on_one_and_two_threads() {
    let run = |_: u32, seed: Seed| {
        let mut sim = Simulation::new(Phold::new(PholdConfig::ross(64)), seed);
        sim.run(RunLimit::until(SimTime::from_secs(200))).expect("phold runs");
        (sim.event_hash(), sim.events_delivered())
    };
    let one = run_replications(6, 1, Seed(11), run);
    let two = run_replications(6, 2, Seed(11), run);
    assert_eq!(one, two);
    assert_eq!(one.len(), 6);
    let distinct: BTreeSet<_> = one.iter().map(|(h, _)| h.0).collect();
    assert_eq!(distinct.len(), 6, "replications use different seeds");
    assert_eq!(one[0], run(0, Seed(11)), "replication 0 is the base seed");
}

/// A counter model for injections: each actor counts what it got and echoes some of it.
#[derive(Default)]
struct Echo {
    got: Vec<u64>,
}

impl Model for Echo {
    type Msg = u64;
    fn actor_count(&self) -> u32 {
        self.got.len() as u32
    }
    fn start(&mut self, ctx: &mut Context<'_, u64>) {
        ctx.schedule(SimDuration::from_secs(1), 1);
    }
    fn handle(&mut self, msg: u64, ctx: &mut Context<'_, u64>) {
        self.got[ctx.me().index()] += msg;
        if ctx.now() < SimTime::from_secs(100) {
            let actors = ctx.actor_count();
            let to = ctx.rng().random_range(0..actors);
            let delay = SimDuration::from_millis(ctx.rng().random_range(100..2000));
            ctx.send(ActorId(to), delay, msg + 1);
        }
    }
}

fn echo(actors: usize) -> Echo {
    Echo { got: vec![0; actors] }
}

#[test]
fn injected_events_replay_to_the_identical_hash() {
    let mut live = Simulation::new(echo(8), Seed(5));
    for (t, to, msg) in [(10, 3, 1000), (10, 4, 2000), (37, 0, 7), (99, 7, 5)] {
        live.run(RunLimit::until(SimTime::from_secs(t))).expect("runs");
        live.inject(ActorId(to), msg).expect("injects");
    }
    live.run(RunLimit::UNBOUNDED).expect("runs");

    let mut replay = Simulation::new(echo(8), Seed(5));
    replay.replay_injections(live.injections()).expect("replays");
    replay.run(RunLimit::UNBOUNDED).expect("runs");
    assert_eq!(replay.event_hash(), live.event_hash());
    assert_eq!(replay.model().got, live.model().got);
    assert_eq!(replay.injections(), live.injections());

    let mut plain = Simulation::new(echo(8), Seed(5));
    plain.run(RunLimit::UNBOUNDED).expect("runs");
    assert_ne!(plain.event_hash(), live.event_hash(), "injections changed the run");
}

/// Records the fake wall time at which each event was delivered.
struct WallAt(ManualWall, Vec<(SimTime, Duration)>);

impl<M> Observer<M> for WallAt {
    fn on_event(&mut self, key: EventKey, _to: ActorId, _msg: &M) {
        self.1.push((key.time(), self.0.peek()));
    }
}

#[test]
fn paced_clock_delivers_each_event_at_its_wall_time() {
    let wall = ManualWall::default();
    let mut pacer = Pacer::new(wall.clone(), 10.0);
    let (_tx, rx) = crossbeam_channel::unbounded::<LiveInput<u64>>();
    let mut sim = Simulation::new(echo(4), Seed(9));
    let mut seen = WallAt(wall.clone(), Vec::new());
    let reason = sim.run_paced(&mut pacer, &rx, RunLimit::until(SimTime::from_secs(50)), &mut seen).expect("runs");
    assert_eq!(reason, StopReason::ReachedTime);
    assert!(seen.1.len() > 50);
    for (sim_t, wall_t) in &seen.1 {
        // Sim time = 10 × wall time; the fake sleep lands on the deadline to the nanosecond.
        let expected = sim_t.as_nanos() as f64 / 10.0;
        assert!((wall_t.as_nanos() as f64 - expected).abs() <= 1.0, "event at {sim_t} delivered at wall {wall_t:?}");
    }
    assert_eq!(pacer.max_lag(), SimDuration::ZERO);
    assert_eq!(wall.peek(), Duration::from_secs(5));
}

#[test]
fn paced_clock_reports_lag_when_the_simulation_cannot_keep_up() {
    // Every wall reading costs 50 ms: at 1000x that is 50 s of sim time per reading,
    // far more than the gaps between events.
    let wall = ManualWall::with_step(Duration::from_millis(50));
    let mut pacer = Pacer::new(wall, 1000.0);
    let (_tx, rx) = crossbeam_channel::unbounded::<LiveInput<u64>>();
    let mut sim = Simulation::new(echo(2000), Seed(9));
    sim.run_paced(&mut pacer, &rx, RunLimit::until(SimTime::from_secs(100)), &mut ()).expect("runs");
    assert!(pacer.max_lag() > SimDuration::from_secs(1), "lag {}", pacer.max_lag());

    let mut fast = Simulation::new(echo(2000), Seed(9));
    fast.run(RunLimit::until(SimTime::from_secs(100))).expect("runs");
    assert_eq!(fast.event_hash(), sim.event_hash(), "lag changes timing, never results");
}

#[test]
fn live_session_with_inputs_replays_to_the_identical_hash() {
    let wall = ManualWall::default();
    let mut pacer = Pacer::new(wall.clone(), 1.0).with_tick(Duration::from_millis(250));
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut sim = Simulation::new(echo(4), Seed(21));
    // Inputs arrive while the sim sleeps: queue them up front; the loop takes them at its
    // first look, then the others after speed changes.
    tx.send(LiveInput::SetSpeed(4.0)).expect("open");
    tx.send(LiveInput::Inject { to: ActorId(2), msg: 500 }).expect("open");
    sim.run_paced(&mut pacer, &rx, RunLimit::until(SimTime::from_secs(20)), &mut ()).expect("runs");
    tx.send(LiveInput::Inject { to: ActorId(1), msg: 40 }).expect("open");
    tx.send(LiveInput::Pause).expect("open");
    tx.send(LiveInput::Resume).expect("open");
    tx.send(LiveInput::Inject { to: ActorId(3), msg: 3 }).expect("open");
    let stop_at = SimTime::from_secs(150);
    sim.run_paced(&mut pacer, &rx, RunLimit::until(stop_at), &mut ()).expect("runs");
    assert_eq!(sim.injections().len(), 3);
    assert!(sim.injections()[0].at == SimTime::ZERO && sim.injections()[1].at >= SimTime::from_secs(20));
    assert!((pacer.factor() - 4.0).abs() < f64::EPSILON);

    let mut replay = Simulation::new(echo(4), Seed(21));
    replay.replay_injections(sim.injections()).expect("replays");
    replay.run(RunLimit::until(stop_at)).expect("runs");
    assert_eq!(replay.event_hash(), sim.event_hash());
    assert_eq!(replay.model().got, sim.model().got);
}

#[test]
fn stop_command_ends_a_live_run() {
    let (tx, rx) = crossbeam_channel::unbounded();
    tx.send(LiveInput::Stop).expect("open");
    let mut pacer = Pacer::new(ManualWall::default(), 1.0);
    let mut sim = Simulation::new(echo(2), Seed(1));
    assert_eq!(sim.run_paced(&mut pacer, &rx, RunLimit::UNBOUNDED, &mut ()), Ok(StopReason::StoppedByCommand));
}

#[test]
fn broken_invariant_names_itself_and_the_seed() {
    struct Faulty;
    impl Model for Faulty {
        type Msg = ();
        fn actor_count(&self) -> u32 {
            2
        }
        fn start(&mut self, ctx: &mut Context<'_, ()>) {
            ctx.schedule(SimDuration::from_secs(3), ());
        }
        fn handle(&mut self, (): (), ctx: &mut Context<'_, ()>) {
            if ctx.me() == ActorId(1) {
                ctx.fail("stock conservation", "shelf 4 holds -1 units");
            }
        }
    }
    let mut sim = Simulation::new(Faulty, Seed(77));
    let err = sim.run(RunLimit::UNBOUNDED).expect_err("the invariant breaks");
    let text = err.to_string();
    assert!(text.contains("stock conservation") && text.contains("seed 77") && text.contains("0:00:03.000"), "{text}");
    assert_eq!(sim.run(RunLimit::UNBOUNDED), Err(err), "a failed run stays failed");

    struct Stray;
    impl Model for Stray {
        type Msg = ();
        fn actor_count(&self) -> u32 {
            1
        }
        fn start(&mut self, ctx: &mut Context<'_, ()>) {
            ctx.send(ActorId(5), SimDuration::ZERO, ());
        }
        fn handle(&mut self, (): (), _: &mut Context<'_, ()>) {}
    }
    let err = Simulation::new(Stray, Seed(1)).run(RunLimit::UNBOUNDED).expect_err("unknown actor");
    assert!(err.to_string().contains("unknown actor #5"), "{err}");
}

#[test]
fn paced_run_reaches_deadlines_despite_float_rounding() {
    // Factors whose wall-to-sim conversion rounds a nanosecond short of the deadline slept
    // to; the fake wall only moves when slept, so a run that waited for that nanosecond
    // would never end.
    for factor in [600.0, 1200.0, 3.0, 0.7, 1000.0 / 3.0] {
        let mut pacer = Pacer::new(ManualWall::default(), factor);
        let (_tx, rx) = crossbeam_channel::unbounded::<LiveInput<u64>>();
        let mut sim = Simulation::new(echo(50), Seed(3));
        let until = SimTime::from_secs(150);
        assert_eq!(sim.run_paced(&mut pacer, &rx, RunLimit::until(until), &mut ()), Ok(StopReason::ReachedTime));
        let mut fast = Simulation::new(echo(50), Seed(3));
        fast.run(RunLimit::until(until)).expect("runs");
        assert_eq!(sim.event_hash(), fast.event_hash(), "factor {factor}");
    }
}

#[test]
fn a_paused_run_waits_a_tick_per_look_and_its_watcher_sees_a_still_model() {
    // Paused, the loop must sleep a tick between looks (not spin on a deadline already
    // past), and the watcher is still called, so a viewer keeps getting frames.
    let wall = ManualWall::default();
    let mut pacer = Pacer::new(wall.clone(), 1.0).with_tick(Duration::from_millis(20));
    let (tx, rx) = crossbeam_channel::unbounded::<LiveInput<u64>>();
    tx.send(LiveInput::Pause).expect("open");
    let mut sim = Simulation::new(echo(4), Seed(2));
    let mut looks: Vec<(Duration, SimTime, u64)> = Vec::new();
    let reason = sim
        .run_paced_watched(&mut pacer, &rx, RunLimit::UNBOUNDED, &mut (), |sim, pacer| {
            looks.push((pacer.wall_now(), sim.now(), sim.model().got.iter().sum()));
            if looks.len() == 50 {
                tx.send(LiveInput::Stop).expect("open");
            }
        })
        .expect("runs");
    assert_eq!(reason, StopReason::StoppedByCommand);
    assert_eq!(looks.len(), 50);
    for pair in looks.windows(2) {
        assert!(pair[1].0 >= pair[0].0 + Duration::from_millis(20), "looked again after {:?}", pair[1].0 - pair[0].0);
        assert_eq!((pair[1].1, pair[1].2), (looks[0].1, looks[0].2), "time and model stand still while paused");
    }
}

#[test]
fn a_fork_continues_the_run_exactly_and_a_reseeded_fork_departs_from_it() {
    let mut live = Simulation::new(Phold::new(PholdConfig::ross(64)), Seed(7));
    live.run(RunLimit::events(20_000)).expect("phold runs");
    let mut fork = live.fork();
    let mut same_streams = live.fork_reseeded(Seed(99));
    let mut other = live.fork_reseeded(Seed(99));
    let mut third = live.fork_reseeded(Seed(100));
    for sim in [&mut live, &mut fork, &mut same_streams, &mut other, &mut third] {
        sim.run(RunLimit::events(30_000)).expect("phold runs");
    }
    assert_eq!(fork.event_hash(), live.event_hash());
    assert_eq!(fork.now(), live.now());
    assert_eq!(fork.events_delivered(), 50_000);
    // Common random numbers: the same streams give the same run; other streams another.
    assert_eq!(same_streams.event_hash(), other.event_hash());
    assert_ne!(same_streams.event_hash(), live.event_hash());
    assert_ne!(third.event_hash(), same_streams.event_hash());
}
