//! The bundled weekday store as a live twin: its day without readings is the day the README
//! shows (the same `event_hash`), and real readings injected at 12:00 move it as they say.

mod common;

use std::path::Path;

use common::render;
use storetwin_actors::store::day::run_day;
use storetwin_engine::Seed;
use storetwin_scenarios::{Scenario, load};

fn weekday() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("weekday.toml");
    load(&path).unwrap_or_else(|e| panic!("weekday.toml does not load:\n{}", render(&e)))
}

#[test]
fn the_weekday_day_without_readings_keeps_its_event_hash() {
    let s = weekday();
    assert_eq!(s.seed, 20240611);
    let run = run_day(&s.world, Seed(s.seed)).expect("the day runs, invariants hold");
    assert_eq!(run.event_hash.to_string(), "25d45daa548aca9a");
    assert_eq!(run.events, 1_695_125);
}

#[test]
fn readings_at_noon_correct_the_weekday_store_and_replay_to_the_identical_run() {
    use storetwin_actors::StoreWorld;
    use storetwin_actors::store::day::finish;
    use storetwin_actors::store::sensors::{Reading, device_index, lane_index, sku_index};
    use storetwin_engine::{RunLimit, SimTime, Simulation};

    let s = weekday();
    let spec = &s.world;
    let seed = Seed(s.seed);
    // 12:00 is four hours after the 08:00 opening.
    let noon = SimTime::from_secs(u64::from(12 * 3600 - spec.open_at_s));
    assert_eq!(noon, SimTime::from_secs(4 * 3600));
    let end = SimTime::ZERO.saturating_add(spec.duration);
    let mut sim = Simulation::new(StoreWorld::build(spec.clone(), seed), seed);
    sim.run(RunLimit::until(noon)).expect("the morning runs");

    // The readings as the server gets them, by name.
    let device = |name: &str| device_index(spec, name).unwrap_or_else(|| panic!("a device {name}"));
    let bananas = sku_index(spec, "Bananas 1 kg").expect("bananas");
    let unit = spec.store.catalogue[bananas as usize].unit_weight_g;
    assert_eq!(unit, 500, "the scenario leaves the unit weight to its default");
    let readings = [
        Reading::ShelfWeight { device: device("smart-produce-1"), sku: bananas, grams: 12 * unit },
        Reading::DoorCount { device: device("door-1"), people: 14 },
        Reading::PosSale { lane: lane_index(spec, "L3").expect("L3"), cents: 2_345, items: 7 },
        Reading::DeviceState { device: device("kiosk-2"), up: false },
        Reading::EslAck {
            device: device("esl-bakery-1"),
            sku: sku_index(spec, "Sourdough loaf").expect("sku"),
            cents: 199,
        },
    ];
    let layout = sim.model().layout;
    for r in readings {
        r.check(spec).unwrap_or_else(|e| panic!("{r:?}: {e}"));
        let (to, msg) = r.to_injection(layout);
        sim.inject(to, msg).expect("injects");
    }
    sim.run(RunLimit::until(noon)).expect("the readings apply");
    let world = sim.model();
    assert_eq!(world.store.shelf[bananas as usize], 12);
    assert!(world.store.sensed_loss[bananas as usize] > 0);
    let drift = world.drift();
    assert!(drift.iter().all(|k| k.readings > 0), "{drift:?}");
    assert_eq!(drift.iter().find(|k| k.kpi == "esl_wrong_price").map(|k| k.sensed), Some(1.0));

    sim.run(RunLimit::until(end)).expect("the afternoon runs");
    let record = sim.injections().to_vec();
    let live = finish(sim, end).expect("the day's invariants hold, stock conservation among them");
    assert_ne!(live.event_hash.to_string(), "25d45daa548aca9a", "the readings changed the day");

    let mut replay = Simulation::new(StoreWorld::build(spec.clone(), seed), seed);
    replay.replay_injections(&record).expect("replays");
    replay.run(RunLimit::until(end)).expect("runs");
    let replayed = finish(replay, end).expect("invariants hold");
    assert_eq!(replayed.event_hash, live.event_hash);
    assert_eq!(replayed.last.drift, live.last.drift);
}
