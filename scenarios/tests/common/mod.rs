//! Helpers shared by the scenario tests: a small valid scenario, loading with edits,
//! rendering diagnostics as a user sees them (miette, no colours).

#![allow(dead_code)]

use std::path::PathBuf;

use storetwin_scenarios::{Problem, Scenario, ScenarioError, load_str};

/// A small scenario that loads: one row of shelves per category, two lanes on a
/// shared line, every device kind, a disruption.
pub const MINI: &str = r##"[run]
seed = 7
open = "08:00"
close = "12:00"

[store]
name = "Corner shop"
cell_m = 1.0
floor = '''
##########
#aa.bb..W#
#........#
#.1.2.3..#
#....K...#
##E####X##
'''

[store.legend]
"#" = "wall"
"." = "floor"
"W" = "floor"
"K" = "floor"
"E" = "entrance"
"X" = "exit"
"a" = { shelf = "dairy" }
"b" = { shelf = "bakery" }
"1" = { lane = "L1" }
"2" = { lane = "L2" }
"3" = { lane = "SCO" }

[[store.zone]]
name = "shelves"
from = [1, 1]
to = [8, 2]

[categories]
dairy = 1.5
bakery = 1.0

[[sku]]
name = "Milk"
category = "dairy"
price = "1.19"
cost = "0.80"
shelf = 30
shelf_capacity = 40
back_room = 100
reorder_at = 10

[[sku]]
name = "Bread"
category = "bakery"
price = 2.49
cost = 1
shelf = 20
shelf_capacity = 20
back_room = 50
reorder_at = 5
popularity = 2

[arrivals]
per_hour = [30, 60, 40, 20]

[[segment]]
name = "quick"
share = 0.75
basket = { dist = "lognormal", mean = 4, sd = 2 }
dwell_s = 10
speed_mps = { dist = "normal", mean = 1.2, sd = 0.2 }
member_share = 0.4
app_share = 0.2
price_sensitivity = 0.3
patience_s = { dist = "exponential", mean = 300 }
balk_at = 6
substitute = 0.5
endless_aisle = 0.1
payment = { mobile_qr = 0.5, card = 0.5 }

[[segment]]
name = "big"
share = 0.25
basket = { dist = "empirical", values = [10, 20, 30], weights = [1, 2, 1] }
dwell_s = { dist = "uniform", low = 5, high = 25 }
speed_mps = 1.0
member_share = 0.6
app_share = 0.1
price_sensitivity = 0.5
patience_s = { dist = "constant", value = 600 }
balk_at = 8
substitute = 0.6
endless_aisle = 0.2
payment = { mobile_qr = 0.25, card = 0.25, cash = 0.25, prepaid = 0.25 }

[lines.front]
capacity = 8

[[lane]]
name = "L1"
kind = "staffed"
line = "front"
base_s = 20
per_item_s = 3
pay_s = { mobile_qr = 5, card = 10, cash = 20, prepaid = 5 }

[[lane]]
name = "L2"
kind = "staffed"
line = "front"
open_at_start = false
base_s = 20
per_item_s = 3
pay_s = { mobile_qr = 5, card = 10, cash = 20, prepaid = 5 }

[[lane]]
name = "SCO"
kind = "self_checkout"
base_s = 15
per_item_s = 5
pay_s = { mobile_qr = 8, card = 12, cash = 25, prepaid = 8 }

[lane_policy]
open_when_queue = 3
close_when_idle_s = 300

[[device]]
name = "door"
kind = "door_counter"
at = "E"
miss = 0.05
double = 0.01

[[device]]
name = "wifi"
kind = "wifi_probe"
at = "W"
range_m = 15
detect = 0.5
detect_app = 0.9
noise_m = 3
interval_s = 30
failures = { mtbf_s = 86400, mttr_s = 3600 }

[[device]]
name = "beacon"
kind = "beacon"
at = [3, 2]
range_m = 5

[[device]]
name = "cam"
kind = "face_camera"
at = [2, 4]
range_m = 3
recognise = 0.8

[[device]]
name = "esl"
kind = "esl"
at = "a"
latency_s = 30

[[device]]
name = "scale"
kind = "smart_shelf"
at = [4, 1]
noise_units = 1

[[device]]
name = "kiosk"
kind = "kiosk"
at = "K"

[[disruption]]
at = "09:00"
until = "09:30"
device_offline = "wifi"

[[disruption]]
at = "10:00"
until = "10:20"
pos_outage = "L1"

[[disruption]]
at = "11:00"
price_change = { sku = "Milk", price = "0.99" }

[replenishment]
staff = 1
trip_s = { dist = "lognormal", mean = 240, sd = 60 }
"##;

/// MINI with `from` replaced (once) by `to`; panics if `from` is not in MINI, so a
/// test never silently tests the unchanged scenario.
pub fn edit(from: &str, to: &str) -> String {
    assert!(MINI.contains(from), "MINI has no {from:?}");
    MINI.replacen(from, to, 1)
}

pub fn load_mini(text: &str) -> Result<Scenario, ScenarioError> {
    load_str("mini.toml", text)
}

/// Every problem of a scenario that must not load.
pub fn problems(text: &str) -> Vec<Problem> {
    match load_mini(text) {
        Ok(_) => panic!("the scenario loaded, but a problem was expected"),
        Err(e) => e.problems().to_vec(),
    }
}

/// The one problem of a scenario that must not load.
pub fn only_problem(text: &str) -> Problem {
    let mut all = problems(text);
    assert_eq!(all.len(), 1, "expected one problem, got {:#?}", all.iter().map(|p| p.to_string()).collect::<Vec<_>>());
    all.remove(0)
}

/// The report as a user sees it (miette graphical, no colours).
pub fn render(diagnostic: &dyn miette::Diagnostic) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(1000)
        .render_report(&mut out, diagnostic)
        .expect("rendering into a String cannot fail");
    out
}

/// The problem whose message starts with `start`, among those of a scenario that must
/// not load.
pub fn problem_starting(text: &str, start: &str) -> Problem {
    let all = problems(text);
    match all.iter().find(|p| p.message().starts_with(start)) {
        Some(p) => p.clone(),
        None => {
            panic!("no problem starts with {start:?}: {:#?}", all.iter().map(|p| p.to_string()).collect::<Vec<_>>())
        }
    }
}

/// `file:line:column` of a problem.
pub fn place(problem: &Problem) -> String {
    problem.location().map(|l| l.to_string()).unwrap_or_else(|| "<nowhere>".to_owned())
}

/// A fresh directory for files of one test.
pub fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storetwin-scenarios-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir can be created");
    dir
}

/// 1-based line of the first occurrence of `needle` in `text`.
pub fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..at].matches('\n').count() + 1
}

/// The head of a chain file the flash-sale and load tests add to: two stores on MINI
/// (open 08:00 to 12:00), the platform and the members set (a macro, so that `concat!`
/// can build whole files as constants).
#[allow(unused_macros)]
macro_rules! two_store_chain {
    () => {
        r#"[run]
seed = 5
open = "08:00"
close = "12:00"

[chain]
name = "Corner Group"

[[store]]
name = "S{n:03}"
count = 2
file = "mini.toml"

[platform]
latency = { min = "20ms", extra_s = 0.01 }
stock_sync_every = "5min"
pick_base_s = 60
pick_per_line_s = 20
pickup_hold = "24h"
collect_after_s = 3600
pickup_no_show = 0.05
pickup_service_s = 45
courier_s = 1800
ship_s = 86400

[members]
population = 1000
point_value = "0.01"
redeem_share = 0.1
redeem_max = 0.2

[[members.level]]
name = "basic"
share = 1.0
points_per_unit = 1
"#
    };
}
#[allow(unused_imports)]
pub(crate) use two_store_chain;
