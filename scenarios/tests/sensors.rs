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
