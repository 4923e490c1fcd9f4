//! The live twin kept in step with the real store: readings of the real devices injected
//! at noon move the model as they say, keep its books balanced, show in `drift()`, are
//! never taken for interventions, and replay to the identical run.

mod support;

use storetwin_actors::StoreWorld;
use storetwin_actors::store::day::{finish, run_day};
use storetwin_actors::store::live::Intervention;
use storetwin_actors::store::sensors::{
    DRIFT_KPIS, DriftKpi, Reading, device_index, lane_index, sku_index, units_weighed,
};
use storetwin_actors::store::spec::{SkuId, WorldSpec};
use storetwin_engine::{RunLimit, Seed, SimDuration, SimTime, Simulation};

const SEED: Seed = Seed(20240611);
// `support::small_store`'s devices and the SKUs beside them.
const DOOR: u16 = 0;
const WIFI: u16 = 3;
const ESL_BAKERY: u16 = 4;
const SHELF_DAIRY: u16 = 5;
const MILK: u32 = 0;
const YOGHURT: u32 = 1;
const BREAD: u32 = 2;
const ROLLS: u32 = 3;

/// The weekday-like store (12 hours, shelves that last the day).
fn weekday() -> WorldSpec {
    support::weekday_like()
}

/// 12:00 on the store's clock, as sim time since it opened.
fn noon(spec: &WorldSpec) -> SimTime {
    SimTime::from_secs(u64::from(12 * 3600 - spec.open_at_s))
}

fn end(spec: &WorldSpec) -> SimTime {
    SimTime::ZERO.saturating_add(spec.duration)
}

/// The store's day run to 12:00.
fn twin_at_noon(spec: &WorldSpec) -> Simulation<StoreWorld> {
    let mut sim = Simulation::new(StoreWorld::build(spec.clone(), SEED), SEED);
    sim.run(RunLimit::until(noon(spec))).expect("the morning runs");
    sim
}

/// Injects the readings now and delivers them (and only what happens at this instant).
fn apply(sim: &mut Simulation<StoreWorld>, readings: &[Reading]) {
    let layout = sim.model().layout;
    for r in readings {
        r.check(&sim.model().spec).unwrap_or_else(|e| panic!("{r:?} is a valid reading: {e}"));
        let (to, msg) = r.to_injection(layout);
        sim.inject(to, msg).expect("injects");
    }
    sim.run(RunLimit::until(sim.now())).expect("runs");
}

fn run_to(sim: &mut Simulation<StoreWorld>, t: SimTime) {
    sim.run(RunLimit::until(t)).expect("runs");
}

fn drift(sim: &Simulation<StoreWorld>, kpi: &str) -> DriftKpi {
    sim.model().drift().into_iter().find(|k| k.kpi == kpi).expect("the KPI is listed")
}

fn grams(units: u32) -> u32 {
    units * storetwin_actors::store::spec::DEFAULT_UNIT_WEIGHT_G
}

#[test]
fn drift_lists_every_kpi_in_its_order_with_no_data_before_the_first_reading() {
    let spec = weekday();
    let sim = twin_at_noon(&spec);
    let drift = sim.model().drift();
    let names: Vec<&str> = drift.iter().map(|k| k.kpi).collect();
    assert_eq!(names, DRIFT_KPIS);
    assert!(drift.iter().all(|k| k.readings == 0 && k.sensed == 0.0), "{drift:?}");
    let footfall = &drift[0];
    assert!(footfall.model > 100.0 && footfall.model == sim.model().metrics.entered as f64, "{footfall:?}");
    assert_eq!(sim.model().snapshot(sim.now()).drift, drift);
}

#[test]
fn a_shelf_weight_sets_the_shelf_and_the_books_balance_to_the_end_of_the_day() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    let store = &sim.model().store;
    let (milk_before, yoghurt_before) = (store.shelf[MILK as usize], store.shelf[YOGHURT as usize]);
    assert!(milk_before > 9_000 && yoghurt_before < 10_000, "shoppers bought some: {milk_before}, {yoghurt_before}");
    let baskets_before = store.in_baskets.clone();

    // 7,260 g of milk is 14.52 units: 15 on the shelf (shrinkage found); the yoghurt shelf
    // is full (stock found).
    assert_eq!(units_weighed(7_260, 500), 15);
    apply(
        &mut sim,
        &[
            Reading::ShelfWeight { device: SHELF_DAIRY, sku: MILK, grams: 7_260 },
            Reading::ShelfWeight { device: SHELF_DAIRY, sku: YOGHURT, grams: grams(10_000) },
        ],
    );
    let w = sim.model();
    assert_eq!((w.store.shelf[MILK as usize], w.store.shelf[YOGHURT as usize]), (15, 10_000));
    assert_eq!(w.store.sensed_loss[MILK as usize], milk_before - 15);
    assert_eq!(w.store.sensed_gain[YOGHURT as usize], 10_000 - yoghurt_before);
    assert_eq!((w.store.sensed_gain[MILK as usize], w.store.sensed_loss[YOGHURT as usize]), (0, 0));
    assert_eq!(w.store.in_baskets, baskets_before, "baskets are untouched");
    w.store.check_conservation().expect("the books balance after the corrections");

    let real = &w.metrics.real;
    let milk = real.shelves[&(storetwin_actors::store::spec::DeviceId(SHELF_DAIRY), SkuId(MILK))];
    assert_eq!((milk.model_units, milk.sensed_units, milk.drift()), (milk_before, 15, i64::from(milk_before) - 15));
    assert_eq!(real.shelf_corrected_units, u64::from(milk_before - 15) + u64::from(10_000 - yoghurt_before));
    let shelf = drift(&sim, "shelf_units");
    assert_eq!((shelf.model, shelf.sensed, shelf.readings), (10_015.0, 10_015.0, 2));

    // An hour on, shoppers have taken from the corrected shelves (and staff may have
    // restocked the milk): the model's units are its shelves' now, the weights stay.
    run_to(&mut sim, noon(&spec).saturating_add(SimDuration::from_secs(3600)));
    let shelf = drift(&sim, "shelf_units");
    let store = &sim.model().store;
    let now = store.shelf[MILK as usize] + store.shelf[YOGHURT as usize];
    assert_eq!((shelf.model, shelf.sensed, shelf.readings), (f64::from(now), 10_015.0, 2));
    assert!(store.shelf[YOGHURT as usize] < 10_000, "yoghurt was bought");

    let day = finish(sim, end(&spec)).expect("the day's invariants hold after the corrections");
    assert!(day.kpis.footfall.truth > 0.0);
}

#[test]
fn a_shelf_sensed_empty_is_restocked_from_the_back_room_as_any_empty_shelf() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    let mut plain = sim.fork();
    assert_eq!(sim.model().store.back_room[MILK as usize], 60, "the morning needed no restock");
    apply(&mut sim, &[Reading::ShelfWeight { device: SHELF_DAIRY, sku: MILK, grams: 120 }]);
    assert_eq!(sim.model().store.shelf[MILK as usize], 0);

    let later = noon(&spec).saturating_add(SimDuration::from_secs(20 * 60));
    run_to(&mut sim, later);
    run_to(&mut plain, later);
    // The smart shelf weighs nothing, alerts, and staff bring the back room's 60 units.
    let (twin, model) = (sim.model(), plain.model());
    assert_eq!(model.store.back_room[MILK as usize], 60);
    assert_eq!(twin.store.back_room[MILK as usize], 0);
    assert!(twin.metrics.low_stock_alerts > model.metrics.low_stock_alerts);
    assert_eq!(twin.metrics.restocked_units, model.metrics.restocked_units + 60);
    twin.store.check_conservation().expect("balanced");
}

#[test]
fn door_counts_add_to_the_sensed_footfall() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    let counted = sim.model().metrics.door_count;
    apply(&mut sim, &[Reading::DoorCount { device: DOOR, people: 37 }, Reading::DoorCount { device: DOOR, people: 5 }]);
    let footfall = drift(&sim, "footfall");
    assert_eq!((footfall.sensed, footfall.readings), (42.0, 2));
    assert_eq!(footfall.model, sim.model().metrics.entered as f64);
    assert_eq!(sim.model().metrics.real.door_by_device, [42]);
    assert_eq!(sim.model().metrics.door_count, counted, "the model's own door counter counts on its own");
}

#[test]
fn a_reported_fault_takes_a_device_down_until_a_heartbeat_brings_it_back() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    assert!(sim.model().devices[usize::from(DOOR)].is_up());
    let fault = Reading::DeviceState { device: DOOR, up: false };
    apply(&mut sim, &[fault, fault]);
    let w = sim.model();
    assert!(!w.devices[usize::from(DOOR)].is_up() && !w.snapshot(sim.now()).devices_up[usize::from(DOOR)]);
    assert_eq!((w.metrics.real.faults_reported, w.metrics.real.device_readings), (1, 2), "one fault, reported twice");
    let devices = drift(&sim, "devices_up");
    assert_eq!((devices.model, devices.sensed, devices.readings), (0.0, 0.0, 2));

    // Down, the model's door counter counts nobody while shoppers come in.
    let (counted, entered) = (sim.model().metrics.door_count, sim.model().metrics.entered);
    run_to(&mut sim, noon(&spec).saturating_add(SimDuration::from_secs(1800)));
    assert!(sim.model().metrics.entered > entered + 20);
    assert_eq!(sim.model().metrics.door_count, counted);

    apply(&mut sim, &[Reading::DeviceState { device: DOOR, up: true }]);
    assert!(sim.model().devices[usize::from(DOOR)].is_up());
    let devices = drift(&sim, "devices_up");
    assert_eq!((devices.model, devices.sensed, devices.readings), (1.0, 1.0, 3));

    // An outage of the model's own (the ops team took it offline) is not the real
    // device's to end: the heartbeat leaves it down, and the drift shows the disagreement.
    let (to, msg) = Intervention::SetDeviceUp { device: DOOR, up: false }.to_injection(sim.model().layout);
    sim.inject(to, msg).expect("injects");
    apply(&mut sim, &[Reading::DeviceState { device: DOOR, up: true }]);
    assert!(!sim.model().devices[usize::from(DOOR)].is_up());
    let devices = drift(&sim, "devices_up");
    assert_eq!((devices.model, devices.sensed), (0.0, 1.0));
}

#[test]
fn pos_sales_add_up_in_the_real_books_and_leave_the_models_own() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    let (payments, buyers) = (sim.model().metrics.payments, sim.model().metrics.buyers);
    apply(
        &mut sim,
        &[
            Reading::PosSale { lane: 0, cents: 1_250, items: 3 },
            Reading::PosSale { lane: 2, cents: 899, items: 1 },
            Reading::PosSale { lane: 0, cents: 4_550, items: 12 },
        ],
    );
    let real = &sim.model().metrics.real;
    assert_eq!((real.pos.transactions, real.pos.items, real.pos.paid.0), (3, 16, 6_699));
    assert_eq!((real.pos_by_lane[0].transactions, real.pos_by_lane[0].paid.0), (2, 5_800));
    assert_eq!((real.pos_by_lane[2].transactions, real.pos_by_lane[2].paid.0), (1, 899));
    let sales = drift(&sim, "sales");
    assert_eq!((sales.sensed, sales.readings), (66.99, 3));
    assert_eq!(sales.model, payments.as_major());
    let transactions = drift(&sim, "transactions");
    assert_eq!((transactions.model, transactions.sensed, transactions.readings), (buyers as f64, 3.0, 3));
    assert_eq!((sim.model().metrics.payments, sim.model().metrics.buyers), (payments, buyers));
}

#[test]
fn an_esl_acknowledging_a_wrong_price_counts_as_wrong_and_is_what_the_model_shows() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    // The day's price change made bread 3.49 at 10:00; its label shows it.
    let w = sim.model();
    assert_eq!(w.store.price[BREAD as usize].0, 349);
    let esl = &w.devices[usize::from(ESL_BAKERY)];
    assert_eq!(esl.shown_price(SkuId(BREAD)).map(|c| c.0), Some(349));
    let rolls = w.store.price[ROLLS as usize].0;

    // The real label still shows the old price; the rolls' label is right.
    apply(
        &mut sim,
        &[
            Reading::EslAck { device: ESL_BAKERY, sku: BREAD, cents: 249 },
            Reading::EslAck { device: ESL_BAKERY, sku: ROLLS, cents: rolls },
        ],
    );
    let w = sim.model();
    assert_eq!(w.devices[usize::from(ESL_BAKERY)].shown_price(SkuId(BREAD)).map(|c| c.0), Some(249));
    assert_eq!((w.metrics.real.esl_acks, w.metrics.real.esl_acks_wrong), (2, 1));
    let wrong = drift(&sim, "esl_wrong_price");
    assert_eq!((wrong.model, wrong.sensed, wrong.readings), (0.0, 1.0, 2));

    // The label is put right and acknowledged again at the till's price: the model, told
    // by the last acknowledgement, expected it wrong; it is right.
    apply(&mut sim, &[Reading::EslAck { device: ESL_BAKERY, sku: BREAD, cents: 349 }]);
    let wrong = drift(&sim, "esl_wrong_price");
    assert_eq!((wrong.model, wrong.sensed, wrong.readings), (1.0, 0.0, 3));
    assert_eq!(sim.model().devices[usize::from(ESL_BAKERY)].shown_price(SkuId(BREAD)).map(|c| c.0), Some(349));
    assert_eq!(sim.model().metrics.real.esl_acks_wrong, 1, "the count of wrong acknowledgements stays");
}

fn every_reading() -> Vec<Reading> {
    vec![
        Reading::DoorCount { device: DOOR, people: 3 },
        Reading::ShelfWeight { device: SHELF_DAIRY, sku: MILK, grams: 4_000 },
        Reading::DeviceState { device: WIFI, up: false },
        Reading::DeviceState { device: WIFI, up: true },
        Reading::PosSale { lane: 3, cents: 1_999, items: 4 },
        Reading::EslAck { device: ESL_BAKERY, sku: ROLLS, cents: 199 },
    ]
}

#[test]
fn every_reading_round_trips_and_is_never_taken_for_an_intervention_nor_the_reverse() {
    let spec = weekday();
    let layout = StoreWorld::build(spec.clone(), SEED).layout;
    for r in every_reading() {
        let (to, msg) = r.to_injection(layout);
        assert_eq!(Reading::from_injection(to, &msg, layout), Some(r), "{msg:?}");
        assert_eq!(Intervention::from_injection(to, &msg, layout), None, "{r:?} taken for an intervention");
        let json = serde_json::to_string(&r).expect("serialises");
        assert_eq!(serde_json::from_str::<Reading>(&json).expect("parses"), r, "{json}");
    }
    let interventions = [
        Intervention::SetLaneOpen { lane: 1, open: false },
        Intervention::SetPrice { sku: BREAD, cents: 199 },
        Intervention::SetDeviceUp { device: DOOR, up: false },
        Intervention::SetDeviceUp { device: DOOR, up: true },
    ];
    for i in interventions {
        let (to, msg) = i.to_injection(layout);
        assert_eq!(Intervention::from_injection(to, &msg, layout), Some(i));
        assert_eq!(Reading::from_injection(to, &msg, layout), None, "{i:?} taken for a reading");
    }
    // The JSON a server reads.
    let r: Reading = serde_json::from_str(r#"{"reading": "door_count", "device": 0, "people": 12}"#).expect("parses");
    assert_eq!(r, Reading::DoorCount { device: 0, people: 12 });
    // A reading's message sent to an actor of another kind is no reading.
    let (_, msg) = Reading::DoorCount { device: DOOR, people: 1 }.to_injection(layout);
    assert_eq!(Reading::from_injection(layout.store(), &msg, layout), None);
    let (_, msg) = Reading::PosSale { lane: 0, cents: 1, items: 1 }.to_injection(layout);
    assert_eq!(Reading::from_injection(layout.device(storetwin_actors::store::spec::DeviceId(0)), &msg, layout), None);
}

#[test]
fn check_refuses_what_does_not_fit_the_store_and_names_the_field() {
    let spec = weekday();
    let refused = |r: Reading| r.check(&spec).expect_err("refused");
    for r in every_reading() {
        r.check(&spec).unwrap_or_else(|e| panic!("{r:?}: {e}"));
    }

    let e = refused(Reading::DoorCount { device: WIFI, people: 1 });
    assert_eq!(e.field, "device");
    assert_eq!(e.to_string(), "device: 3 (wifi-1) is a wifi_probe, expected a door_counter");
    let e = refused(Reading::DoorCount { device: 99, people: 1 });
    assert_eq!(e.field, "device");
    assert!(e.message.contains("99 does not exist"), "{e}");
    let e = refused(Reading::DeviceState { device: 7, up: true });
    assert_eq!(e.field, "device", "{e}");
    let e = refused(Reading::DoorCount { device: DOOR, people: 20_000 });
    assert_eq!(e.field, "people");

    // The dairy shelf weighs milk and yoghurt, not bread.
    let e = refused(Reading::ShelfWeight { device: SHELF_DAIRY, sku: BREAD, grams: 500 });
    assert_eq!(e.field, "sku");
    assert!(e.message.contains("[0, 1]"), "{e}");
    let e = refused(Reading::ShelfWeight { device: SHELF_DAIRY, sku: 70, grams: 500 });
    assert_eq!(e.field, "sku");
    assert!(e.message.contains("does not exist"), "{e}");
    let e = refused(Reading::ShelfWeight { device: ESL_BAKERY, sku: BREAD, grams: 500 });
    assert_eq!(e.to_string(), "device: 4 (esl-b) is an esl, expected a smart_shelf");
    // More than the shelf holds (10,000 units of 500 g).
    Reading::ShelfWeight { device: SHELF_DAIRY, sku: MILK, grams: 5_000_249 }.check(&spec).expect("10,000 units");
    let e = refused(Reading::ShelfWeight { device: SHELF_DAIRY, sku: MILK, grams: 5_000_250 });
    assert_eq!(e.field, "grams");
    assert!(e.message.contains("expected at most 5000249 g"), "{e}");

    let e = refused(Reading::EslAck { device: ESL_BAKERY, sku: MILK, cents: 129 });
    assert_eq!(e.field, "sku");
    let e = refused(Reading::EslAck { device: SHELF_DAIRY, sku: MILK, cents: 129 });
    assert_eq!(e.to_string(), "device: 5 (shelf-a) is a smart_shelf, expected an esl");
    assert_eq!(refused(Reading::EslAck { device: ESL_BAKERY, sku: BREAD, cents: -1 }).field, "cents");

    assert_eq!(refused(Reading::PosSale { lane: 4, cents: 100, items: 1 }).field, "lane");
    assert_eq!(refused(Reading::PosSale { lane: 0, cents: -100, items: 1 }).field, "cents");
    assert_eq!(refused(Reading::PosSale { lane: 0, cents: 100, items: 0 }).field, "items");

    // Names, as the server's readings give them.
    assert_eq!(device_index(&spec, "door"), Some(DOOR));
    assert_eq!(device_index(&spec, "shelf-a"), Some(SHELF_DAIRY));
    assert_eq!(device_index(&spec, "shelf-z"), None);
    assert_eq!(lane_index(&spec, "S1"), Some(2));
    assert_eq!(lane_index(&spec, "L9"), None);
    assert_eq!(sku_index(&spec, "bread"), Some(BREAD));
    assert_eq!(sku_index(&spec, "caviar"), None);
}

#[test]
fn readings_that_do_not_fit_the_world_change_nothing_when_injected_unchecked() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    let layout = sim.model().layout;
    let shelves = sim.model().store.shelf.clone();
    for r in [
        Reading::DoorCount { device: WIFI, people: 10 },
        Reading::ShelfWeight { device: SHELF_DAIRY, sku: BREAD, grams: 0 },
        Reading::ShelfWeight { device: SHELF_DAIRY, sku: 999, grams: 0 },
        Reading::EslAck { device: ESL_BAKERY, sku: MILK, cents: 1 },
        Reading::EslAck { device: DOOR, sku: BREAD, cents: 1 },
    ] {
        assert!(r.check(&spec).is_err());
        let (to, msg) = r.to_injection(layout);
        sim.inject(to, msg).expect("injects");
    }
    let now = sim.now();
    run_to(&mut sim, now);
    let real = &sim.model().metrics.real;
    assert_eq!(real.ignored, 5);
    assert_eq!((real.door_count, real.shelf_readings, real.esl_acks), (0, 0, 0));
    assert_eq!(sim.model().store.shelf, shelves);
}

#[test]
fn a_day_with_readings_replays_from_its_injections_to_the_identical_run() {
    let spec = weekday();
    let mut sim = twin_at_noon(&spec);
    apply(&mut sim, &every_reading());
    run_to(&mut sim, noon(&spec).saturating_add(SimDuration::from_secs(1800)));
    apply(
        &mut sim,
        &[
            Reading::ShelfWeight { device: SHELF_DAIRY, sku: YOGHURT, grams: 0 },
            Reading::DeviceState { device: SHELF_DAIRY, up: false },
            Reading::DoorCount { device: DOOR, people: 9 },
        ],
    );
    run_to(&mut sim, end(&spec));
    let layout = sim.model().layout;
    assert_eq!(sim.injections().len(), 9);
    assert!(sim.injections().iter().all(|i| Reading::from_injection(i.to, &i.msg, layout).is_some()));
    assert!(sim.injections().iter().all(|i| Intervention::from_injection(i.to, &i.msg, layout).is_none()));
    let record = sim.injections().to_vec();
    let live = finish(sim, end(&spec)).expect("invariants hold");

    let mut replay = Simulation::new(StoreWorld::build(spec.clone(), SEED), SEED);
    replay.replay_injections(&record).expect("replays");
    replay.run(RunLimit::until(end(&spec))).expect("runs");
    let drift = replay.model().drift();
    let replayed = finish(replay, end(&spec)).expect("invariants hold");
    assert_eq!(replayed.event_hash, live.event_hash);
    assert_eq!(replayed.kpis, live.kpis);
    assert_eq!(replayed.last.drift, live.last.drift);
    assert_eq!(drift, live.last.drift);
    assert_eq!(live.last.drift[0].sensed, 12.0, "door counts 3 + 9");

    // The readings changed the day.
    let plain = run_day(&spec, SEED).expect("runs");
    assert_ne!(plain.event_hash, live.event_hash);
    assert!(plain.last.drift.iter().all(|k| k.readings == 0));
}
