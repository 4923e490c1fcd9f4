//! The `[load]` section of a chain file: the k6-like format reads into the `LoadSpec` it
//! describes, and every mistake (an unknown executor, a bad stage, a threshold that does not
//! parse, a key that is not a setting, a missing rate) points at its file, line and column.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{MINI, line_of, render, temp_dir};
use storetwin_actors::load::executor::{Executor, Journey, RateStage, ShopperStage};
use storetwin_actors::load::metrics::{Percentile, TrendStat};
use storetwin_actors::load::threshold::{Aggregation, Bound, parse_metric_key};
use storetwin_engine::SimDuration;
use storetwin_scenarios::{Chain, Problem, ProblemKind, ScenarioError};

/// A chain of two stores on MINI, then its `[load]`.
const BASE: &str = common::two_store_chain!();

const LOAD: &str = r#"
[load]
seed = 7
summary_trend_stats = ["avg", "p(50)", "p(95)", "p(99)", "max"]

[load.scenarios.surge]
executor = "ramping-arrival-rate"
journey = "grab_online"
time_unit = "1s"
start_rate = 0
stages = [{ duration = "30s", target = 8000 }, { duration = "8m", target = 1200 }, { duration = "90s", target = 0 }]
max_shoppers = 1_000_000
tags = { wave = "t0" }

[load.scenarios.pickup]
executor = "constant-arrival-rate"
start_time = "10m"
rate = 200
time_unit = "1m"
duration = "2h"
journey = "collect_reservation"

[load.scenarios.browsers]
executor = "ramping-shoppers"
journey = "ordinary_shopping"
stages = [{ duration = "1m", target = 50 }, { duration = "1m30s", target = 0 }]

[load.thresholds]
grab_latency = ["p(95)<100ms", "p(99)<300ms"]
"grab_latency{store:S002}" = ["p(99)<500ms"]
grab_failed = ["rate<0.02"]
stock_queue_wait = [{ threshold = "p(99)<50ms", abort_on_fail = true, delay_abort_eval = "10s" }]
"#;

fn write(test: &str, text: &str) -> PathBuf {
    let dir = temp_dir(&format!("load-{test}"));
    fs::write(dir.join("mini.toml"), MINI).expect("mini.toml is written");
    fs::write(dir.join("chain.toml"), text).expect("chain.toml is written");
    dir
}

fn load(test: &str, text: &str) -> (Result<Chain, ScenarioError>, PathBuf) {
    let dir = write(test, text);
    (Chain::load(&dir.join("chain.toml")), dir)
}

/// BASE with LOAD where `from` is replaced (once) by `to`.
fn edit(from: &str, to: &str) -> String {
    assert!(LOAD.contains(from), "LOAD has no {from:?}");
    format!("{BASE}{}", LOAD.replacen(from, to, 1))
}

fn only_problem(test: &str, text: &str) -> (Problem, PathBuf) {
    let (result, dir) = load(test, text);
    let e = result.expect_err("the chain must not load");
    let all = e.problems();
    assert_eq!(all.len(), 1, "expected one problem, got {}", render(&e));
    (all[0].clone(), dir)
}

/// Where `needle` is in `text` (plus `offset` characters), as `file:line:column`.
fn where_is(dir: &Path, text: &str, needle: &str, offset: usize) -> String {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the text"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..at].chars().count() + 1 + offset;
    format!("{}:{}:{column}", dir.join("chain.toml").display(), line_of(text, needle))
}

#[test]
fn the_load_section_reads_into_its_spec() {
    let (result, _) = load("ok", &format!("{BASE}{LOAD}"));
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let spec = chain.load.expect("a [load] section");
    assert_eq!(spec.seed, Some(7));
    let stats: Vec<String> = spec.summary_trend_stats.iter().map(ToString::to_string).collect();
    assert_eq!(stats, ["avg", "p(50)", "p(95)", "p(99)", "max"]);
    assert_eq!(spec.scenarios.keys().collect::<Vec<_>>(), ["browsers", "pickup", "surge"]);

    let surge = &spec.scenarios["surge"];
    let s = SimDuration::from_secs;
    assert_eq!(
        surge.executor,
        Executor::RampingArrivalRate {
            start_rate: 0.0,
            time_unit: s(1),
            stages: vec![
                RateStage { duration: s(30), target: 8000.0 },
                RateStage { duration: s(480), target: 1200.0 },
                RateStage { duration: s(90), target: 0.0 },
            ],
        }
    );
    assert_eq!((surge.max_shoppers, surge.journey, surge.start_time), (Some(1_000_000), Journey::GrabOnline, s(0)));
    assert_eq!(surge.tags.get("wave").map(String::as_str), Some("t0"));
    let pickup = &spec.scenarios["pickup"];
    assert_eq!(pickup.executor, Executor::ConstantArrivalRate { rate: 200.0, time_unit: s(60), duration: s(7200) });
    assert_eq!((pickup.start_time, pickup.journey), (s(600), Journey::CollectReservation));
    assert_eq!(spec.end().as_nanos(), s(600 + 7200).as_nanos());
    let browsers = &spec.scenarios["browsers"];
    assert_eq!(
        browsers.executor,
        Executor::RampingShoppers {
            start_shoppers: 0,
            stages: vec![ShopperStage { duration: s(60), target: 50 }, ShopperStage { duration: s(90), target: 0 }],
        }
    );

    let key = |k: &str| parse_metric_key(k).expect("a key");
    let latency = &spec.thresholds[&key("grab_latency")];
    assert_eq!(latency.iter().map(|t| t.source.as_str()).collect::<Vec<_>>(), ["p(95)<100ms", "p(99)<300ms"]);
    assert_eq!(latency[0].condition.aggregation, Aggregation::P(Percentile::whole(95)));
    assert_eq!(latency[0].condition.bound, Bound::Duration(SimDuration::from_millis(100)));
    assert!(spec.thresholds.contains_key(&key("grab_latency{store:S002}")));
    let wait = &spec.thresholds[&key("stock_queue_wait")][0];
    assert!(wait.abort_on_fail);
    assert_eq!(wait.delay_abort_eval, s(10));
    assert!(!spec.thresholds[&key("grab_failed")][0].abort_on_fail);

    // Without [load]: none; the default trend statistics are k6's.
    let (result, _) = load("none", BASE);
    assert_eq!(result.unwrap_or_else(|e| panic!("{}", render(&e))).load, None);
    let (result, _) = load(
        "defaults",
        &format!(
            "{BASE}\n[load.scenarios.a]\nexecutor = \"constant-shoppers\"\njourney = \"grab_in_store\"\nshoppers = 3\nduration = \"1m\"\n"
        ),
    );
    let spec = result.unwrap_or_else(|e| panic!("{}", render(&e))).load.expect("[load]");
    assert_eq!(spec.summary_trend_stats[4], TrendStat::P(Percentile::whole(90)));
    assert_eq!(spec.scenarios["a"].executor, Executor::ConstantShoppers { shoppers: 3, duration: s(60) });
}

#[test]
fn an_unknown_executor_lists_the_known_ones() {
    let text = edit("executor = \"ramping-arrival-rate\"", "executor = \"ramping-vus\"");
    let (p, dir) = only_problem("executor", &text);
    assert_eq!(p.path(), Some("load.scenarios.surge.executor"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"ramping-vus\"", 0));
    assert_eq!(p.message(), "unknown value \"ramping-vus\"");
    assert_eq!(
        p.label(),
        Some(
            "expected one of \"ramping-arrival-rate\", \"constant-arrival-rate\", \"ramping-shoppers\" or \
             \"constant-shoppers\""
        )
    );
}

#[test]
fn a_stage_needs_a_duration_of_zero_or_more_with_its_unit() {
    let text = edit("{ duration = \"8m\"", "{ duration = \"-8m\"");
    let (p, dir) = only_problem("negative", &text);
    assert_eq!(p.path(), Some("load.scenarios.surge.stages[1].duration"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"-8m\"", 0));
    assert_eq!(p.message(), "a duration cannot be negative, found \"-8m\"");
    let text = edit("{ duration = \"8m\"", "{ duration = \"8 minutes\"");
    let (p, _) = only_problem("malformed", &text);
    assert_eq!(p.message(), "expected a unit: us, ms, s, m, h or d at position 3 of \"8 minutes\"");
    let text = edit("{ duration = \"8m\"", "{ duration = 8");
    let (p, _) = only_problem("no-unit", &text);
    assert!(p.message().starts_with("a duration needs its unit"), "{}", p.message());
    let text = edit("target = 1200", "target = -5");
    let (p, _) = only_problem("negative-target", &text);
    assert_eq!(p.path(), Some("load.scenarios.surge.stages[1].target"));
    let text = edit("{ duration = \"1m\", target = 50 }", "{ duration = \"1m\", target = 2.5 }");
    let (p, _) = only_problem("fractional-shoppers", &text);
    assert_eq!(p.message(), "a number of shoppers is a whole number, found 2.5");
}

#[test]
fn a_threshold_that_does_not_parse_points_into_its_string() {
    let text = edit("\"p(99)<300ms\"", "\"p(99)=300ms\"");
    let (p, dir) = only_problem("threshold", &text);
    assert_eq!(p.kind(), ProblemKind::BadValue);
    assert_eq!(p.path(), Some("load.thresholds.grab_latency[1]"));
    // At the `=`: the quote, then `p(99)`.
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"p(99)=300ms\"", 6));
    assert_eq!(
        p.message(),
        "\"p(99)=300ms\" is not a threshold: expected an operator: <, <=, >, >=, == or != at position 6"
    );
    // In the long form, at its `threshold`.
    let text = edit("threshold = \"p(99)<50ms\"", "threshold = \"p(99)<50 parsecs\"");
    let (p, dir) = only_problem("threshold-long", &text);
    assert_eq!(p.path(), Some("load.thresholds.stock_queue_wait[0].threshold"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"p(99)<50 parsecs\"", 10));
    // A metric key that does not parse, at its own place.
    let text = edit("\"grab_latency{store:S002}\"", "\"grab_latency{store=S002}\"");
    let (p, dir) = only_problem("key", &text);
    assert!(p.message().starts_with("\"grab_latency{store=S002}\" is not a metric key"), "{}", p.message());
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"grab_latency{store=S002}\"", 24));
    // A filter on a store the chain does not have.
    let text = edit("\"grab_latency{store:S002}\"", "\"grab_latency{store:S020}\"");
    let (p, dir) = only_problem("filter", &text);
    assert_eq!(p.kind(), ProblemKind::Reference);
    assert_eq!(p.message(), "no store is named \"S020\"");
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"grab_latency{store:S020}\"", 0));
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean \"S002\"?")), "{:?}", p.help_text());
}

#[test]
fn unknown_keys_and_keys_of_another_executor_are_refused() {
    let text = edit("start_rate = 0", "startRate = 0");
    let (p, dir) = only_problem("unknown", &text);
    assert_eq!(p.kind(), ProblemKind::UnknownKey);
    assert_eq!(common::place(&p), format!("{}:{}:1", dir.join("chain.toml").display(), line_of(&text, "startRate")));
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean `start_rate`?")), "{:?}", p.help_text());
    let text = edit("seed = 7", "sede = 7");
    let (p, _) = only_problem("unknown-load-key", &text);
    assert_eq!((p.kind(), p.path()), (ProblemKind::UnknownKey, Some("load.sede")));
    let text = edit("max_shoppers = 1_000_000", "max_shoppers = 1_000_000\nrate = 5");
    let (p, dir) = only_problem("other-executor", &text);
    assert_eq!(p.message(), "`rate` is not a setting of a ramping-arrival-rate scenario");
    assert_eq!(common::place(&p), format!("{}:{}:1", dir.join("chain.toml").display(), line_of(&text, "rate = 5")));
    let text = edit("abort_on_fail = true, ", "");
    let (p, _) = only_problem("delay-without-abort", &text);
    assert!(p.message().starts_with("`delay_abort_eval` delays an abort"), "{}", p.message());
    let text = edit("\"p(50)\"", "\"p50\"");
    let (p, dir) = only_problem("trend-stat", &text);
    assert_eq!(p.path(), Some("load.summary_trend_stats[1]"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"p50\"", 0));
}

#[test]
fn a_constant_executor_needs_its_rate_and_duration() {
    let text = edit("rate = 200\n", "");
    let (p, dir) = only_problem("no-rate", &text);
    assert_eq!(p.kind(), ProblemKind::MissingKey);
    assert_eq!(p.message(), "a constant-arrival-rate scenario needs `rate`");
    assert_eq!(common::place(&p), where_is(&dir, &text, "[load.scenarios.pickup]", 0));
    let text = edit("duration = \"2h\"\n", "");
    let (p, _) = only_problem("no-duration", &text);
    assert_eq!(p.message(), "a constant-arrival-rate scenario needs `duration`");
    let text = edit("duration = \"2h\"", "duration = \"0s\"");
    let (p, _) = only_problem("zero-duration", &text);
    assert_eq!(p.message(), "a scenario of no duration starts nothing");
    let text = edit("time_unit = \"1m\"", "time_unit = \"0s\"");
    let (p, _) = only_problem("zero-unit", &text);
    assert_eq!(p.path(), Some("load.scenarios.pickup.time_unit"));
}

#[test]
fn a_variant_changes_one_load_scenario_by_key() {
    let dir = write("variant", &format!("{BASE}{LOAD}"));
    let variant = "extends = \"chain.toml\"\n\n[load.scenarios.surge]\nmax_shoppers = 5000\n\n[load.thresholds]\ngrab_failed = [\"rate<0.05\"]\n";
    fs::write(dir.join("variant.toml"), variant).expect("written");
    let chain = Chain::load(&dir.join("variant.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    let spec = chain.load.expect("[load]");
    assert_eq!(spec.scenarios["surge"].max_shoppers, Some(5000));
    assert_eq!(spec.scenarios["surge"].journey, Journey::GrabOnline, "the rest is the base's");
    let failed = &spec.thresholds[&parse_metric_key("grab_failed").expect("a key")];
    assert_eq!(failed.iter().map(|t| t.source.as_str()).collect::<Vec<_>>(), ["rate<0.05"]);
    assert_eq!(spec.thresholds.len(), 4);
}
