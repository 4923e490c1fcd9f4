//! No hidden defaults: every value a scenario leaves out and loading fills in is listed
//! on the loaded scenario, with the key a planner would write and the value used; and
//! `pay_s` may name only the methods used, the others taking their documented defaults.

mod common;

use common::{MINI, edit, load_mini, render};
use storetwin_actors::Dist;
use storetwin_scenarios::{AppliedDefault, Scenario};

fn defaults(s: &Scenario) -> Vec<(String, String)> {
    s.defaults.iter().map(|d| (d.key.clone(), d.value.clone())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn every_default_applied_is_listed_in_file_order() {
    let s = load_mini(MINI).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(
        defaults(&s),
        pairs(&[
            ("run.replications", "1"),
            ("store.max_density_per_m2", "4"),
            ("sku[Milk].popularity", "1"),
            ("sku[Milk].unit_weight_g", "500"),
            ("sku[Bread].unit_weight_g", "500"),
            ("segment[quick].payment.cash", "0"),
            ("segment[quick].payment.prepaid", "0"),
            ("lane[L1].open_at_start", "true"),
            ("lane[SCO].line", "none"),
            ("lane[SCO].open_at_start", "true"),
            ("device[door].failures", "none"),
            ("device[beacon].failures", "none"),
            ("device[cam].failures", "none"),
            ("device[esl].failures", "none"),
            ("device[scale].failures", "none"),
            ("device[kiosk].failures", "none"),
            ("replenishment.round_s", "3600"),
        ])
    );
    assert!(s.defaults.iter().all(|d| !d.note.is_empty()));
    let round = s.defaults.last().expect("round_s");
    assert_eq!(
        round,
        &AppliedDefault {
            key: "replenishment.round_s".into(),
            value: "3600".into(),
            note: "staff walk the floor every hour, restocking shelves no smart shelf watches",
        }
    );
}

#[test]
fn a_value_written_in_the_file_is_no_default_even_if_equal() {
    let text = edit("seed = 7", "seed = 7\nreplications = 1").replace(
        "trip_s = { dist = \"lognormal\", mean = 240, sd = 60 }",
        "trip_s = { dist = \"lognormal\", mean = 240, sd = 60 }\nround_s = 3600",
    );
    let s = load_mini(&text).unwrap_or_else(|e| panic!("{}", render(&e)));
    let keys: Vec<String> = defaults(&s).into_iter().map(|(k, _)| k).collect();
    assert!(!keys.iter().any(|k| k == "run.replications" || k == "replenishment.round_s"), "{keys:?}");
    let base = load_mini(MINI).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(s.world, base.world, "the defaults are the values written");
}

#[test]
fn options_left_out_are_listed_with_what_they_mean() {
    // No lane policy, a line without capacity, a disruption without `until`.
    let text = edit("[lane_policy]\nopen_when_queue = 3\nclose_when_idle_s = 300\n", "")
        .replace("[lines.front]\ncapacity = 8\n", "[lines.front]\n")
        .replace("until = \"09:30\"\n", "");
    let s = load_mini(&text).unwrap_or_else(|e| panic!("{}", render(&e)));
    let d = defaults(&s);
    for expected in [
        ("lines.front.capacity", "unbounded"),
        ("lane_policy.open_when_queue", "none"),
        ("lane_policy.close_when_idle_s", "none"),
        ("disruption[0].until", "12:00"),
    ] {
        assert!(d.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {d:?}");
    }
    // A price change takes no `until`: that is not a default.
    assert!(!d.iter().any(|(k, _)| k == "disruption[2].until"), "{d:?}");
}

#[test]
fn pay_s_may_name_only_the_methods_used() {
    let text = edit("pay_s = { mobile_qr = 8, card = 12, cash = 25, prepaid = 8 }", "pay_s = { card = 12 }");
    let s = load_mini(&text).unwrap_or_else(|e| panic!("{}", render(&e)));
    let sco = &s.world.store.lanes[2];
    assert_eq!(sco.name, "SCO");
    assert_eq!(sco.pay_s, [Dist::Constant(5.0), Dist::Constant(12.0), Dist::Constant(20.0), Dist::Constant(5.0)]);
    let d = defaults(&s);
    for (method, seconds) in [("mobile_qr", "5"), ("cash", "20"), ("prepaid", "5")] {
        assert!(d.contains(&(format!("lane[SCO].pay_s.{method}"), seconds.to_owned())), "{method} in {d:?}");
    }
    assert!(!d.iter().any(|(k, _)| k == "lane[SCO].pay_s.card"));
    // An empty `pay_s` takes every default; a method given with a bad value is still checked.
    let s = load_mini(&edit("pay_s = { mobile_qr = 8, card = 12, cash = 25, prepaid = 8 }", "pay_s = {}"))
        .unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(
        s.world.store.lanes[2].pay_s,
        storetwin_scenarios::format::PAY_S_DEFAULTS.map(|(_, v)| Dist::Constant(v))
    );
    let p = common::only_problem(&edit(
        "pay_s = { mobile_qr = 8, card = 12, cash = 25, prepaid = 8 }",
        "pay_s = { cash = -1 }",
    ));
    assert_eq!(p.path(), Some("lane[2].pay_s.cash"));
}

#[test]
fn a_unit_weight_given_is_used_and_a_weightless_unit_is_refused() {
    let text = edit("popularity = 2\n", "popularity = 2\nunit_weight_g = 800\n");
    let s = load_mini(&text).unwrap_or_else(|e| panic!("{}", render(&e)));
    let weights: Vec<u32> = s.world.store.catalogue.iter().map(|k| k.unit_weight_g).collect();
    assert_eq!(weights, [500, 800]);
    assert!(!defaults(&s).iter().any(|(k, _)| k == "sku[Bread].unit_weight_g"));
    let p = common::only_problem(&edit("popularity = 2\n", "popularity = 2\nunit_weight_g = 0\n"));
    assert_eq!(p.path(), Some("sku[1].unit_weight_g"));
}
