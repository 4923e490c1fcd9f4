//! A live chain (the twin's and the server's chain sessions): paced in its windows, it is
//! the run `storetwin run` / `load` gives; an intervention made live at one store is
//! recorded with its store and time and replays to the identical run; the frames show the
//! chosen store and the flash sale's counters.

mod common;

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use storetwin_actors::chain::live::{
    ChainSessionConfig, ChainSessionEnd, StoreIntervention, layouts, run_chain_session,
};
use storetwin_actors::chain::run::{Checkpoint, Observer, build_chain, run_chain_observed};
use storetwin_actors::chain::spec::ChainSpec;
use storetwin_actors::store::live::{Controls, Frame, Intervention};
use storetwin_actors::store::wire::{WireFrame, WireSale, queue_names};
use storetwin_engine::{ManualWall, Seed, SimDuration, SimTime, SystemWall};
use storetwin_scenarios::Chain;

fn bundled(name: &str) -> (ChainSpec, Seed) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let chain = Chain::load(&path).unwrap_or_else(|e| panic!("{name}: {}", common::render(&e)));
    let (spec, seed) = chain.run_spec().expect("a load test that runs");
    (spec, Seed(seed))
}

/// 08:00 opening; the sale starts at 08:10 and the surge peaks in its first minute.
const SURGE: SimTime = SimTime::from_secs(11 * 60);

/// A live session of `spec` to `until`, showing store `shown`; `act` sees every frame and
/// may intervene through the controls. `Fast`: as fast as a fake clock lets it (a viewer
/// sees only what the session sent before it ended); `Real(x)`: x times the real pace.
#[allow(clippy::too_many_arguments, reason = "each test sets a different few")]
fn session(
    spec: &ChainSpec,
    seed: Seed,
    until: SimTime,
    shown: usize,
    threads: usize,
    scheduled: Vec<StoreIntervention>,
    pace: Pace,
    mut act: impl FnMut(&Frame, &mut Controls),
) -> (ChainSessionEnd, Vec<Frame>) {
    let built = build_chain(spec, seed).expect("the chain builds");
    let (mut controls, inputs) = Controls::chain(layouts(&built), shown);
    let (tx, frames) = crossbeam_channel::bounded(100_000);
    let config = ChainSessionConfig {
        speed: match pace {
            Pace::Fast => 1.0e6,
            Pace::Real(x) => x,
        },
        until: Some(until),
        scheduled,
        frame_every: Duration::from_millis(1),
        threads,
        ..ChainSessionConfig::default()
    };
    let thread = std::thread::spawn(move || match pace {
        Pace::Fast => run_chain_session(built, &config, ManualWall::with_step(Duration::from_micros(50)), &inputs, &tx),
        Pace::Real(_) => run_chain_session(built, &config, SystemWall::default(), &inputs, &tx),
    });
    let mut seen = Vec::new();
    for frame in frames.iter() {
        act(&frame, &mut controls);
        seen.push(frame);
    }
    let end = thread.join().expect("no panic").expect("the session ends with its invariants held");
    (end, seen)
}

#[derive(Clone, Copy)]
enum Pace {
    Fast,
    Real(f64),
}

/// The same chain run as `run` and `load` run it, stopped at `at`.
fn stopped_at(spec: &ChainSpec, seed: Seed, at: SimTime, threads: usize) -> storetwin_actors::chain::run::ChainRun {
    let mut observe = |cp: &Checkpoint| if cp.now >= at { ControlFlow::Break(()) } else { ControlFlow::Continue(()) };
    let observer = Observer {
        every: SimDuration::from_secs(60),
        metrics: Default::default(),
        totals_every: SimDuration::from_secs(60),
        observe: &mut observe,
    };
    run_chain_observed(spec, seed, threads, Some(observer)).expect("the run holds its invariants")
}

#[test]
fn a_live_chain_is_the_run_and_an_intervention_at_one_store_replays() {
    let (spec, seed) = bundled("flash-3-stores-atomic.toml");
    let reference = stopped_at(&spec, seed, SURGE, 1);
    let (plain, frames) = session(&spec, seed, SURGE, 1, 2, Vec::new(), Pace::Fast, |_, _| {});
    assert_eq!(plain.run.event_hash, reference.event_hash, "paced, in steps, on 2 threads: the same run");
    assert_eq!(plain.run.events, reference.events);
    assert_eq!(plain.end, SURGE);
    assert!(plain.interventions.is_empty());

    // Every frame is of the store shown, and the last is at the end with the sale's books.
    let last = frames.last().expect("a last frame");
    assert!(last.status.done);
    assert_eq!(last.snapshot.at, SURGE);
    let view = last.chain.as_ref().expect("a chain frame");
    assert_eq!(view.store, 1);
    let flash = view.flash.as_ref().expect("the chain runs a flash sale");
    assert_eq!(flash.name, "coffee-drop");
    assert_eq!(flash.chain.quota, 600);
    assert_eq!(flash.store.quota, 200);
    let desks: Vec<_> = plain.run.stores.iter().map(|s| s.flash.as_ref().expect("a desk")).collect();
    assert_eq!(flash.chain.sold, desks.iter().map(|d| u64::from(d.kpis.sold)).sum::<u64>());
    assert_eq!(flash.chain.reserved, desks.iter().map(|d| u64::from(d.kpis.packed)).sum::<u64>());
    assert_eq!(flash.store.sold, u64::from(desks[1].kpis.sold));
    assert_eq!(flash.store.to_collect, u64::from(flash.desk.to_collect));
    assert_eq!(flash.chain.to_collect, desks.iter().map(|d| u64::from(d.to_collect())).sum::<u64>());
    assert!(flash.chain.to_collect > flash.store.to_collect, "paid units wait at every store: {flash:?}");
    assert!(flash.chain.sold + flash.chain.reserved > 0, "a minute into the surge units are taken: {flash:?}");
    assert!(flash.chain.sold + flash.chain.reserved <= 600);
    assert!(flash.chain.grabs_last_s > 0, "grabs are answered every second of the surge");
    assert!(frames.windows(2).all(|w| w[0].snapshot.at <= w[1].snapshot.at), "time never goes back");

    // On the wire (a served chain's stream) the frame carries the same view, in JSON.
    let world = &spec.stores[1].world;
    let wire = WireFrame::of(last, world, &queue_names(world), false);
    let json = serde_json::to_value(&wire).expect("serialises");
    assert_eq!(json["chain"]["store_index"], 1);
    assert_eq!(json["chain"]["flash"]["chain"]["sold"], flash.chain.sold);
    assert_eq!(json["chain"]["flash"]["store"]["quota"], 200);
    assert_eq!(json["chain"]["flash"]["desk"]["in_store"], flash.desk.in_store);
    assert_eq!(json["chain"]["flash"]["start"], "08:10:00");
    let back: WireFrame = serde_json::from_value(json).expect("reads back");
    let cells = usize::from(world.store.floor.width) * usize::from(world.store.floor.height);
    assert_eq!(back.to_frame(cells).chain.as_deref(), Some(&**view), "the view comes back whole");
    // The floor names the sale's zone: the cells its crowd fills.
    let sale = spec.flash.as_ref().expect("a sale");
    let zone = WireSale::of(world, &sale.name, sale.sku.0).expect("the store stocks the sale's SKU");
    assert_eq!(zone.sku, flash.sku);
    assert!(!zone.cells.is_empty(), "the sale's shelf is reached from some cells");
    assert!(zone.cells.iter().all(|&i| (i as usize) < cells));

    // Close a lane at store 2 (index 1) live, five minutes in, through the controls.
    let mut sent = false;
    let (live, _) = session(&spec, seed, SURGE, 1, 1, Vec::new(), Pace::Real(600.0), |frame, controls| {
        if !sent && frame.snapshot.at >= SimTime::from_secs(300) {
            sent = controls.intervene(Intervention::SetLaneOpen { lane: 0, open: false });
        }
    });
    assert!(sent);
    assert_eq!(live.interventions.len(), 1, "{:?}", live.interventions);
    let made = live.interventions[0];
    assert_eq!((made.store, made.what), (1, Intervention::SetLaneOpen { lane: 0, open: false }));
    assert!(made.at() >= SimTime::from_secs(300) && made.at() < SURGE, "{made:?}");
    assert_ne!(live.run.event_hash, plain.run.event_hash, "closing a lane changes the run");
    assert_ne!(live.run.shard_hashes[2], plain.run.shard_hashes[2], "the store's own events changed");

    // The record replays to the identical run, on either thread count.
    for threads in [1, 2] {
        let (replayed, _) = session(&spec, seed, SURGE, 0, threads, live.interventions.clone(), Pace::Fast, |_, _| {});
        assert_eq!(replayed.run.event_hash, live.run.event_hash, "{threads} thread(s)");
        assert_eq!(replayed.interventions, live.interventions);
    }
}

#[test]
fn a_watched_store_gets_frames_too_and_watching_changes_nothing() {
    let (spec, seed) = bundled("flash-3-stores-atomic.toml");
    let until = SimTime::from_secs(3 * 60);
    let mut watching = false;
    let (end, frames) = session(&spec, seed, until, 0, 1, Vec::new(), Pace::Real(600.0), |frame, controls| {
        if !watching && frame.snapshot.at >= SimTime::from_secs(60) {
            watching = controls.watch(2, true);
            assert!(!controls.watch(3, true), "the chain has three stores");
        }
    });
    assert!(watching);
    let of = |store: u16| frames.iter().filter(|f| f.chain.as_ref().is_some_and(|c| c.store == store)).count();
    assert!(of(0) > 10 && of(2) > 5, "store 0: {} frames, store 2: {}", of(0), of(2));
    assert_eq!(of(1), 0, "nobody watches store 1");
    let last: Vec<u16> =
        frames.iter().filter(|f| f.status.done).filter_map(|f| f.chain.as_ref().map(|c| c.store)).collect();
    assert_eq!(last, [0, 2], "a last frame of each store sent");
    let reference = stopped_at(&spec, seed, until, 1);
    assert_eq!(end.run.event_hash, reference.event_hash, "watching changes nothing");
}

#[test]
fn the_shown_store_switches_without_restarting_the_run() {
    let (spec, seed) = bundled("flash-3-stores-atomic.toml");
    let until = SimTime::from_secs(4 * 60);
    let mut switched = false;
    let (end, frames) = session(&spec, seed, until, 0, 1, Vec::new(), Pace::Real(600.0), |frame, controls| {
        if !switched && frame.snapshot.at >= SimTime::from_secs(120) {
            switched = controls.show(2);
            assert!(!controls.clone().show(3), "the chain has three stores");
        }
    });
    assert!(switched);
    let stores: Vec<u16> = frames.iter().filter_map(|f| f.chain.as_ref().map(|c| c.store)).collect();
    assert_eq!(stores.first(), Some(&0));
    assert_eq!(stores.last(), Some(&2));
    assert!(stores.windows(2).all(|w| w[0] <= w[1]), "0 until the switch, then 2");
    let reference = stopped_at(&spec, seed, until, 1);
    assert_eq!(end.run.event_hash, reference.event_hash, "showing another store changes nothing");
}

/// A copy of the live chain taken mid-run continues it exactly (a what-if's "as is" arm is
/// the live run continued), a reseeded copy does not, and an intervention in a copy leaves
/// the live run alone.
#[test]
fn a_copy_of_the_live_chain_continues_it_exactly() {
    let (spec, seed) = bundled("chain-3-stores.toml");
    let until = SimTime::from_secs(40 * 60);
    let built = build_chain(&spec, seed).expect("the chain builds");
    let (controls, mut inputs) = Controls::chain(layouts(&built), 0);
    let (forks_tx, forks_rx) = crossbeam_channel::unbounded();
    inputs.forks = Some(forks_rx);
    let (tx, frames) = crossbeam_channel::unbounded();
    let config = ChainSessionConfig {
        speed: 600.0,
        until: Some(until),
        frame_every: Duration::from_millis(5),
        threads: 2,
        ..ChainSessionConfig::default()
    };
    let thread = std::thread::spawn(move || run_chain_session(built, &config, SystemWall::default(), &inputs, &tx));
    // Once the run is past 10 minutes, ask for a copy.
    let mut fork = None;
    for frame in frames.iter() {
        if fork.is_none() && frame.snapshot.at >= SimTime::from_secs(600) {
            let (reply, answer) = crossbeam_channel::bounded(1);
            forks_tx.send(reply).expect("the session takes fork requests");
            fork = Some(answer.recv_timeout(Duration::from_secs(30)).expect("a copy of the chain"));
        }
    }
    drop(controls);
    let live = thread.join().expect("no panic").expect("the live run holds its invariants");
    let fork = fork.expect("a copy was taken");
    assert!(fork.now() >= SimTime::from_secs(600) && fork.now() < until, "taken at {:?}", fork.now());
    let mut exact = fork.copy();
    exact.run_to(until).expect("runs");
    assert_eq!(exact.event_hash(), live.run.event_hash, "the copy continued is the live run");
    assert_eq!(exact.events(), live.run.events);
    let mut other = fork.reseeded(Seed(99));
    other.run_to(until).expect("runs");
    assert_ne!(other.event_hash(), live.run.event_hash, "other streams, another run");
    let mut acted = fork.copy();
    acted.intervene(1, Intervention::SetLaneOpen { lane: 6, open: true }).expect("store 1 has L7");
    acted.run_to(until).expect("runs");
    assert_ne!(acted.event_hash(), live.run.event_hash, "the intervention changed the copy");
    assert!(live.interventions.is_empty(), "and not the live run");
}
