//! A live session: paced, with the ops team's interventions injected from outside,
//! recorded, and replayed to the identical run.

mod support;

use storetwin_actors::StoreWorld;
use storetwin_actors::store::day::{finish, run_day, run_day_replaying};
use storetwin_actors::store::live::{Intervention, SessionRecord, TimedIntervention};
use storetwin_engine::{LiveInput, ManualWall, Pacer, RunLimit, Seed, SimTime, Simulation};

#[test]
fn a_live_session_with_interventions_replays_to_the_identical_run() {
    let spec = support::small_store();
    let seed = Seed(42);
    let world = StoreWorld::build(spec.clone(), seed);
    let layout = world.layout;
    let mut sim = Simulation::new(world, seed);
    // 600x real time on a fake wall clock: the test never sleeps.
    let mut pacer = Pacer::new(ManualWall::default(), 600.0);
    let (tx, rx) = crossbeam_channel::unbounded();
    let inject = |what: Intervention| {
        let (to, msg) = what.to_injection(layout);
        tx.send(LiveInput::Inject { to, msg }).expect("channel open");
    };

    sim.run_paced(&mut pacer, &rx, RunLimit::until(SimTime::from_secs(3600)), &mut ()).expect("runs");
    let before = sim.model().snapshot(sim.now());
    assert_eq!(before.shoppers.len() as u64, before.footfall - sim.model().metrics.left);
    assert!(before.devices_up[0], "the door counter works");

    inject(Intervention::SetDeviceUp { device: 0, up: false });
    inject(Intervention::SetLaneOpen { lane: 1, open: false });
    inject(Intervention::SetPrice { sku: 4, cents: 199 });
    tx.send(LiveInput::SetSpeed(1200.0)).expect("channel open");
    sim.run_paced(&mut pacer, &rx, RunLimit::until(SimTime::from_secs(7200)), &mut ()).expect("runs");
    let during = sim.model().snapshot(sim.now());
    assert!(!during.devices_up[0], "the door counter is offline");
    assert!(!during.lanes[1].open, "lane L2 is closed");

    inject(Intervention::SetDeviceUp { device: 0, up: true });
    inject(Intervention::SetLaneOpen { lane: 1, open: true });
    let end = SimTime::ZERO.saturating_add(spec.duration);
    sim.run_paced(&mut pacer, &rx, RunLimit::until(end), &mut ()).expect("runs");

    // The record, as a session file would hold it.
    let interventions: Vec<TimedIntervention> = sim
        .injections()
        .iter()
        .map(|i| TimedIntervention {
            at_ns: i.at.as_nanos(),
            what: Intervention::from_injection(i.to, &i.msg, layout).expect("every injection is an intervention"),
        })
        .collect();
    assert_eq!(interventions.len(), 5);
    let record = SessionRecord { scenario_hash: "test".into(), seed: seed.0, interventions };
    let json = serde_json::to_string(&record).expect("serialises");
    let record: SessionRecord = serde_json::from_str(&json).expect("parses back");

    let live = finish(sim, end).expect("invariants hold");
    let replay = run_day_replaying(&spec, seed, &record.interventions).expect("replays");
    assert_eq!(replay.event_hash, live.event_hash);
    assert_eq!(replay.kpis, live.kpis);

    // The interventions changed the day: the door counter missed an hour of shoppers.
    let plain = run_day(&spec, seed).expect("runs");
    assert_eq!(plain.kpis.footfall.truth, live.kpis.footfall.truth, "the same shoppers came");
    assert!(live.kpis.footfall.sensed < plain.kpis.footfall.sensed - 50.0);
    assert_ne!(plain.event_hash, live.event_hash);
}
