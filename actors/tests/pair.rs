//! Two stores side by side on one clock and one seed: each side is its own run, a session
//! stopped early is the day so far, and an intervention on one side is recorded there.

mod support;

use std::time::Duration;

use crossbeam_channel::Sender;
use storetwin_actors::StoreWorld;
use storetwin_actors::money::Cents;
use storetwin_actors::store::day::{run_day, run_day_replaying};
use storetwin_actors::store::live::{Frame, Intervention};
use storetwin_actors::store::pair::{PairConfig, PairEnd, PairMsg, run_day_until, run_pair_session};
use storetwin_actors::store::spec::WorldSpec;
use storetwin_engine::{ActorId, LiveInput, ManualWall, Seed, SimTime};

fn session(
    a: &WorldSpec,
    b: &WorldSpec,
    seed: Seed,
    config: &PairConfig,
    live: impl FnOnce(&Sender<LiveInput<PairMsg>>),
) -> (PairEnd, Frame) {
    let (tx, rx) = crossbeam_channel::unbounded();
    live(&tx);
    let (ftx, frx) = crossbeam_channel::unbounded();
    let worlds = [StoreWorld::build(a.clone(), seed), StoreWorld::build(b.clone(), seed)];
    let end = run_pair_session(worlds, seed, config, ManualWall::with_step(Duration::from_millis(5)), &rx, &ftx)
        .expect("the pair runs");
    let last = frx.try_iter().last().expect("a last frame");
    (end, last)
}

/// The small store, and the same store with dearer goods (other choices, other events).
fn two_stores() -> (WorldSpec, WorldSpec) {
    let a = support::small_store();
    let mut b = a.clone();
    for sku in &mut b.store.catalogue {
        sku.price = Cents(sku.price.0 * 3);
    }
    (a, b)
}

#[test]
fn each_side_is_its_own_run_and_stopping_early_is_the_day_so_far() {
    let (a, b) = two_stores();
    let seed = Seed(7);
    let config = PairConfig { speed: 1e6, ..PairConfig::default() };
    let (whole, last) = session(&a, &b, seed, &config, |_| {});
    let view = last.pair.as_deref().expect("a side-by-side frame");
    assert!(last.status.done);
    assert_eq!(view.kpis.as_deref().map(|k| k[1].flat()), Some(whole.runs[1].kpis.flat()), "B's closed books");
    for (side, spec) in [&a, &b].into_iter().enumerate() {
        let alone = run_day(spec, seed).expect("runs");
        assert_eq!(whole.runs[side].event_hash, alone.event_hash, "side {side}");
        assert_eq!(whole.runs[side].events, alone.events);
    }
    assert_ne!(whole.runs[0].event_hash, whole.runs[1].event_hash);
    let t = SimTime::from_secs(1800);
    for threads in [1, 2] {
        let (part, _) = session(&a, &b, seed, &PairConfig { until: Some(t), threads, ..config.clone() }, |_| {});
        assert_eq!(part.end, t);
        for (side, spec) in [&a, &b].into_iter().enumerate() {
            let alone = run_day_until(spec, seed, t).expect("runs");
            assert_eq!(part.runs[side].event_hash, alone.event_hash, "side {side}, {threads} threads");
            assert_eq!(part.runs[side].kpis.flat(), alone.kpis.flat());
            assert!(alone.events < whole.runs[side].events);
        }
    }
}

#[test]
fn an_intervention_on_one_side_is_recorded_there_and_replays() {
    let (a, _) = two_stores();
    let seed = Seed(11);
    let config = PairConfig { speed: 1e6, ..PairConfig::default() };
    let layout = StoreWorld::build(a.clone(), seed).layout;
    let (to, msg) = Intervention::SetLaneOpen { lane: 0, open: false }.to_injection(layout);
    let (run, last) = session(&a, &a, seed, &config, |tx| {
        tx.send(LiveInput::Inject { to: ActorId(0), msg: PairMsg(vec![(1, to, msg)]) }).expect("open");
    });
    assert!(run.interventions[0].is_empty());
    assert_eq!(run.interventions[1].len(), 1);
    assert_eq!(run.interventions[1][0].what, Intervention::SetLaneOpen { lane: 0, open: false });
    assert_eq!(last.pair.as_deref().map(|p| &p.interventions), Some(&run.interventions), "the frame lists them");
    assert_ne!(run.runs[0].event_hash, run.runs[1].event_hash, "B closed a lane, A did not");
    assert_eq!(run.runs[0].event_hash, run_day(&a, seed).expect("runs").event_hash);
    let replayed = run_day_replaying(&a, seed, &run.interventions[1]).expect("replays");
    assert_eq!(replayed.event_hash, run.runs[1].event_hash);
}

#[test]
fn the_controls_act_on_both_sides_at_one_sim_time() {
    let (a, b) = two_stores();
    let seed = Seed(5);
    let worlds = [StoreWorld::build(a.clone(), seed), StoreWorld::build(b.clone(), seed)];
    let (controls, rx) = storetwin_actors::store::live::Controls::pair([worlds[0].layout, worlds[1].layout]);
    let close = Intervention::SetLaneOpen { lane: 1, open: false };
    assert!(controls.intervene_on(&[(0, close), (1, close)]));
    assert!(controls.intervene(Intervention::SetPrice { sku: 0, cents: 99 }), "plain controls act on A");
    let (ftx, _frx) = crossbeam_channel::unbounded();
    let config = PairConfig { speed: 1e6, until: Some(SimTime::from_secs(3600)), ..PairConfig::default() };
    let run = run_pair_session(worlds, seed, &config, ManualWall::with_step(Duration::from_millis(5)), &rx, &ftx)
        .expect("runs");
    assert_eq!(run.interventions[0].len(), 2);
    assert_eq!(run.interventions[1].len(), 1);
    assert_eq!(run.interventions[0][0].what, close);
    assert_eq!(run.interventions[1][0], run.interventions[0][0], "the same change at the same time on both");
    assert_eq!(run.interventions[0][1].what, Intervention::SetPrice { sku: 0, cents: 99 });
}
