//! The `[load]` section of a chain file: a k6-like load test of the chain (`storetwin
//! load`), read into a checked [`LoadSpec`].
//!
//! Names mirror k6's options: named scenarios, each an executor with its settings, a
//! journey (k6's `exec`) and tags; thresholds by metric key (`grab_latency`, or with a tag
//! filter `"grab_latency{store:S042}"`), each a k6 expression or the long form with
//! `abort_on_fail`. Lengths of time are written as k6 writes them (`"30s"`, `"8m"`,
//! `"1m30s"`, `"250us"`; see [`storetwin_actors::load::duration`]).
//!
//! ```toml
//! [load]
//! summary_trend_stats = ["avg", "p(50)", "p(95)", "p(99)", "max"]
//!
//! [load.scenarios.surge]
//! executor = "ramping-arrival-rate"
//! journey = "grab_online"
//! time_unit = "1s"
//! start_rate = 0
//! stages = [{ duration = "30s", target = 8000 }, { duration = "8m", target = 1200 }]
//! max_shoppers = 1_000_000
//! tags = { wave = "t0" }
//!
//! [load.thresholds]
//! grab_latency = ["p(95)<100ms", "p(99)<300ms"]
//! "grab_latency{store:S042}" = ["p(99)<500ms"]
//! stock_queue_wait = [{ threshold = "p(99)<50ms", abort_on_fail = true }]
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use storetwin_actors::chain::spec::StoreIdx;
use storetwin_actors::load::duration::parse_duration;
use storetwin_actors::load::executor::{Executor, Journey, LoadScenario, RateStage, ShopperStage};
use storetwin_actors::load::metrics::TrendStat;
use storetwin_actors::load::spec::{DEFAULT_SUMMARY_TREND_STATS, LoadSpec};
use storetwin_actors::load::threshold::{Threshold, ThresholdError, Thresholds, parse_metric_key};
use storetwin_engine::SimDuration;

use crate::build::Names;
use crate::check::{Checks, name_list};
use crate::deserializer::RAW_TEXT;
use crate::deserializer::closest;
use crate::error::ProblemKind;
use crate::path::{KeyPath, at};
use crate::source::Origin;

/// `time_unit` when left out.
pub const DEFAULT_TIME_UNIT: SimDuration = SimDuration::from_secs(1);

/// A k6 load test of the chain (`storetwin load`): named scenarios of arriving shoppers and
/// the thresholds the run must meet.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadFile {
    /// Replaces `run.seed` for the load test.
    pub seed: Option<u64>,
    /// The statistics each trend shows in the end-of-test summary, in this order: "avg",
    /// "min", "med", "max", "count", "p(N)" (k6's `summaryTrendStats`). Default: avg, min,
    /// med, max, p(90), p(95).
    pub summary_trend_stats: Option<Vec<String>>,
    /// The load scenarios by name (k6's `options.scenarios`).
    #[serde(default)]
    pub scenarios: BTreeMap<String, LoadScenarioFile>,
    /// Thresholds by metric key: a metric name, or a name with a tag filter
    /// (`"grab_latency{store:S042,channel:app}"`). Each is a k6 expression
    /// ("p(95)<100ms", "rate<0.02", "count>=100") or
    /// `{ threshold = "...", abort_on_fail = true, delay_abort_eval = "10s" }`.
    #[serde(default)]
    pub thresholds: BTreeMap<String, Vec<ThresholdFile>>,
}

/// How a load scenario starts journeys (k6's executors; shoppers are k6's VUs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutorFile {
    /// Open model: arrivals per `time_unit` from `start_rate`, ramping linearly through
    /// `stages`. Takes `stages`, optional `start_rate`, `time_unit`, `max_shoppers`.
    RampingArrivalRate,
    /// Open model: `rate` arrivals per `time_unit` for `duration`. Optional `time_unit`,
    /// `max_shoppers`.
    ConstantArrivalRate,
    /// Closed model: a number of active shoppers from `start_shoppers` through `stages`,
    /// each starting a new journey when the last ends.
    RampingShoppers,
    /// Closed model: `shoppers` active for `duration`.
    ConstantShoppers,
}

/// What the shoppers of a scenario do (k6's `exec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JourneyFile {
    GrabOnline,
    GrabInStore,
    CollectReservation,
    OrdinaryShopping,
    /// Pre-order a unit from the flash sale's tiers (needs `[[flash_sale.preorder]]`).
    PreOrder,
}

/// A load scenario (k6's `options.scenarios.NAME`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadScenarioFile {
    /// "ramping-arrival-rate", "constant-arrival-rate", "ramping-shoppers" or
    /// "constant-shoppers".
    pub executor: ExecutorFile,
    /// "grab_online", "grab_in_store", "collect_reservation", "ordinary_shopping" or
    /// "pre_order".
    pub journey: JourneyFile,
    /// When the scenario starts, after the run starts ("10m"). Default "0s".
    pub start_time: Option<LoadDuration>,
    /// Arrival-rate executors: the rates are arrivals per this long. Default "1s".
    pub time_unit: Option<LoadDuration>,
    /// ramping-arrival-rate: the rate at the start. Default 0.
    pub start_rate: Option<f64>,
    /// constant-arrival-rate: arrivals per `time_unit`.
    pub rate: Option<f64>,
    /// Constant executors: how long the scenario runs ("2h").
    pub duration: Option<LoadDuration>,
    /// Ramping executors: each stage goes linearly from the previous target to its
    /// `target` (a rate per `time_unit`, or a number of shoppers) over its `duration`.
    pub stages: Option<Vec<StageFile>>,
    /// ramping-shoppers: the shoppers active at the start. Default 0.
    pub start_shoppers: Option<u32>,
    /// constant-shoppers: the shoppers active throughout.
    pub shoppers: Option<u32>,
    /// Arrival-rate executors: at most this many journeys in flight; an arrival beyond is
    /// dropped and counted in `shoppers_dropped` (k6's `maxVUs`). Default: no limit.
    pub max_shoppers: Option<u32>,
    /// Tags on every metric its shoppers record.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A stage of a ramping executor.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageFile {
    /// How long the stage lasts ("30s", "8m"); "0s" jumps to the target.
    pub duration: LoadDuration,
    /// Arrivals per `time_unit` (ramping-arrival-rate) or active shoppers
    /// (ramping-shoppers, a whole number) at the end of the stage.
    pub target: f64,
}

/// A length of time written as k6 writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadDuration(pub SimDuration);

impl<'de> Deserialize<'de> for LoadDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LoadDuration, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_TEXT, LoadDurationVisitor)
    }
}

struct LoadDurationVisitor;

impl<'de> Visitor<'de> for LoadDurationVisitor {
    type Value = LoadDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration with its unit like \"30s\", \"8m\" or \"1m30s\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LoadDuration, E> {
        if v.trim().parse::<f64>().is_ok() {
            return Err(E::custom(format!(
                "a duration needs its unit (us, ms, s, m, h or d): \"{}s\" for seconds, found {v}",
                v.trim()
            )));
        }
        parse_duration(v).map(LoadDuration).map_err(E::custom)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<LoadDuration, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl JsonSchema for LoadDuration {
    fn schema_name() -> Cow<'static, str> {
        "LoadDuration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A length of time as k6 writes it: numbers with units us, ms, s, m (or min) and h, run together (\"30s\", \"8m\", \"1m30s\", \"250us\").",
            "type": "string",
            "pattern": "^\\s*([0-9]+(\\.[0-9]+)?\\s*(us|µs|ms|s|min|m|h)\\s*)+$"
        })
    }
}

/// A threshold as written: the expression alone, or the long form.
#[derive(Debug)]
pub enum ThresholdFile {
    Short(String),
    Long { threshold: String, abort_on_fail: Option<bool>, delay_abort_eval: Option<LoadDuration> },
}

impl ThresholdFile {
    fn expression(&self) -> &str {
        match self {
            ThresholdFile::Short(t) | ThresholdFile::Long { threshold: t, .. } => t,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdTable {
    threshold: String,
    abort_on_fail: Option<bool>,
    delay_abort_eval: Option<LoadDuration>,
}

impl<'de> Deserialize<'de> for ThresholdFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ThresholdFile, D::Error> {
        deserializer.deserialize_any(ThresholdVisitor)
    }
}

struct ThresholdVisitor;

impl<'de> Visitor<'de> for ThresholdVisitor {
    type Value = ThresholdFile;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a threshold like \"p(95)<100ms\", or { threshold = \"...\", abort_on_fail = true }")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ThresholdFile, E> {
        Ok(ThresholdFile::Short(v.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ThresholdFile, A::Error> {
        let t = ThresholdTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(ThresholdFile::Long {
            threshold: t.threshold,
            abort_on_fail: t.abort_on_fail,
            delay_abort_eval: t.delay_abort_eval,
        })
    }
}

impl JsonSchema for ThresholdFile {
    fn schema_name() -> Cow<'static, str> {
        "Threshold".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let duration = generator.subschema_for::<LoadDuration>();
        json_schema!({
            "description": "A k6 threshold: AGGREGATION OPERATOR VALUE (\"p(95)<100ms\", \"p(99.9)<=1s\", \"avg<50ms\", \"rate<0.02\", \"count>=100\"), or the long form with abort_on_fail.",
            "anyOf": [
                { "type": "string" },
                {
                    "type": "object",
                    "properties": {
                        "threshold": { "type": "string", "description": "The expression, as in the short form." },
                        "abort_on_fail": { "type": "boolean", "description": "Stop the run as soon as this threshold fails. Default false." },
                        "delay_abort_eval": duration
                    },
                    "required": ["threshold"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// The keys of a load scenario, whether each is given, for the executor checks.
fn given(s: &LoadScenarioFile) -> [(&'static str, bool); 8] {
    [
        ("time_unit", s.time_unit.is_some()),
        ("start_rate", s.start_rate.is_some()),
        ("rate", s.rate.is_some()),
        ("duration", s.duration.is_some()),
        ("stages", s.stages.is_some()),
        ("start_shoppers", s.start_shoppers.is_some()),
        ("shoppers", s.shoppers.is_some()),
        ("max_shoppers", s.max_shoppers.is_some()),
    ]
}

/// The executor's own keys: required, then optional.
fn keys_of(executor: ExecutorFile) -> (&'static [&'static str], &'static [&'static str]) {
    match executor {
        ExecutorFile::RampingArrivalRate => (&["stages"], &["start_rate", "time_unit", "max_shoppers"]),
        ExecutorFile::ConstantArrivalRate => (&["rate", "duration"], &["time_unit", "max_shoppers"]),
        ExecutorFile::RampingShoppers => (&["stages"], &["start_shoppers"]),
        ExecutorFile::ConstantShoppers => (&["shoppers", "duration"], &[]),
    }
}

fn executor_name(executor: ExecutorFile) -> &'static str {
    Executor::NAMES[executor as usize]
}

/// The checked `[load]` section, if the chain file has one (`None` too if it has
/// problems, which are in `checks`).
pub(crate) fn load_spec(
    load: Option<&LoadFile>,
    stores: &Names<StoreIdx>,
    checks: &mut Checks<'_>,
) -> Option<LoadSpec> {
    let load = load?;
    let before = checks.issues.len();
    let summary_trend_stats = match &load.summary_trend_stats {
        None => DEFAULT_SUMMARY_TREND_STATS.to_vec(),
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, text) in list.iter().enumerate() {
                match TrendStat::parse(text) {
                    Some(stat) => out.push(stat),
                    None => {
                        checks
                            .bad(at!["load", "summary_trend_stats", i], format!("{text:?} is not a trend statistic"))
                            .label(
                                "expected \"avg\", \"min\", \"med\", \"max\", \"count\" or \"p(N)\" like \"p(99.9)\"",
                            );
                    }
                }
            }
            out
        }
    };
    let mut scenarios = BTreeMap::new();
    for (name, s) in &load.scenarios {
        if let Some(scenario) = scenario(name, s, checks) {
            scenarios.insert(name.clone(), scenario);
        }
    }
    let scenario_names: BTreeMap<String, ()> = load.scenarios.keys().map(|k| (k.clone(), ())).collect();
    let journey_names: BTreeMap<String, ()> = Journey::NAMES.iter().map(|j| ((*j).to_owned(), ())).collect();
    let mut thresholds = Thresholds::new();
    for (key_text, list) in &load.thresholds {
        let path = at!["load", "thresholds", key_text];
        let key = match parse_metric_key(key_text) {
            Ok(key) => key,
            Err(e) => {
                threshold_problem(checks, path, true, &e, "a metric key like grab_latency or grab_latency{store:S042}");
                continue;
            }
        };
        for (tag, value) in &key.filter {
            match tag.as_str() {
                "store" => known(checks, &path, "store", value, stores),
                "scenario" => known(checks, &path, "load scenario", value, &scenario_names),
                "journey" => known(checks, &path, "journey", value, &journey_names),
                _ => {}
            }
        }
        if list.is_empty() {
            checks
                .bad(path.clone(), format!("no threshold is given for {key_text}"))
                .label("expected at least one threshold");
        }
        let mut parsed = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let text = item.expression();
            let item_path = match item {
                ThresholdFile::Short(_) => at!["load", "thresholds", key_text, i],
                ThresholdFile::Long { .. } => at!["load", "thresholds", key_text, i, "threshold"],
            };
            let mut threshold = match Threshold::parse(text) {
                Ok(t) => t,
                Err(e) => {
                    threshold_problem(
                        checks,
                        item_path,
                        false,
                        &e,
                        "a threshold like \"p(95)<100ms\" or \"rate<0.02\"",
                    );
                    continue;
                }
            };
            if let ThresholdFile::Long { abort_on_fail, delay_abort_eval, .. } = item {
                threshold.abort_on_fail = abort_on_fail.unwrap_or(false);
                threshold.delay_abort_eval = delay_abort_eval.map_or(SimDuration::ZERO, |d| d.0);
                if delay_abort_eval.is_some() && !threshold.abort_on_fail {
                    checks
                        .key(
                            ProblemKind::UnknownKey,
                            at!["load", "thresholds", key_text, i, "delay_abort_eval"],
                            "`delay_abort_eval` delays an abort, but this threshold does not abort",
                        )
                        .label("only with abort_on_fail = true");
                }
            }
            parsed.push(threshold);
        }
        thresholds.entry(key).or_default().extend(parsed);
    }
    (checks.issues.len() == before).then_some(LoadSpec { seed: load.seed, summary_trend_stats, scenarios, thresholds })
}

/// A threshold or metric key that does not parse: pointed at the character where reading
/// stopped when the string is written plainly in the file (no escapes), else at the string.
fn threshold_problem(checks: &mut Checks<'_>, path: KeyPath, key: bool, e: &ThresholdError, expected: &str) {
    let origin = checks.root.locate(&path, key);
    let raw = checks.sources.text_at(origin);
    let plain = [('"', '"'), ('\'', '\'')].iter().any(|(open, close)| {
        raw.len() == e.text.len() + 2
            && raw.starts_with(*open)
            && raw.ends_with(*close)
            && raw[1..raw.len() - 1] == e.text
    });
    let bare = raw == e.text;
    let message = format!("{:?} is not {}: expected {} at position {}", e.text, what(key), e.expected, e.at + 1);
    let label = format!("expected {}", e.expected);
    if plain || bare {
        let start = origin.start + usize::from(plain) + e.at;
        let width = e.text[e.at..].chars().next().map_or(0, char::len_utf8).max(1);
        let inner = Origin::new(origin.file, start..start + width);
        checks.at(ProblemKind::BadValue, inner, path, message).label(label).help(format!("expected {expected}"));
    } else {
        checks.value(ProblemKind::BadValue, path, message).label(label).help(format!("expected {expected}"));
    }
}

/// A tag filter's value names something that exists (a store, a load scenario, a
/// journey); the problem points at the metric key.
fn known<T>(checks: &mut Checks<'_>, path: &KeyPath, what: &str, name: &str, names: &BTreeMap<String, T>) {
    if names.contains_key(name) {
        return;
    }
    let list = name_list(names.keys());
    let issue = checks.key(ProblemKind::Reference, path.clone(), format!("no {what} is named \"{name}\""));
    issue.label(format!("a tag filter on an unknown {what}"));
    match closest(name, names.keys().map(String::as_str)) {
        Some(s) => issue.help(format!("did you mean \"{s}\"? Known: {list}")),
        None => issue.help(format!("known: {list}")),
    };
}

fn what(key: bool) -> &'static str {
    if key { "a metric key" } else { "a threshold" }
}

/// One load scenario, checked.
fn scenario(name: &str, s: &LoadScenarioFile, checks: &mut Checks<'_>) -> Option<LoadScenario> {
    let base = || at!["load", "scenarios", name];
    let path = |key: &str| at!["load", "scenarios", name, key];
    let executor = executor_name(s.executor);
    let (required, optional) = keys_of(s.executor);
    let mut ok = true;
    if name.trim().is_empty() {
        checks.key(ProblemKind::BadValue, base(), "a load scenario needs a name").label("expected a name");
        ok = false;
    }
    for (key, present) in given(s) {
        if present && !required.contains(&key) && !optional.contains(&key) {
            ok = false;
            let takes: Vec<String> = required.iter().chain(optional).map(|k| format!("`{k}`")).collect();
            checks
                .key(ProblemKind::UnknownKey, path(key), format!("`{key}` is not a setting of a {executor} scenario"))
                .label(format!("a {executor} scenario takes {}", takes.join(", ")));
        } else if !present && required.contains(&key) {
            ok = false;
            checks
                .value(ProblemKind::MissingKey, base(), format!("a {executor} scenario needs `{key}`"))
                .label(format!("this scenario needs `{key}`"));
        }
    }
    let time_unit = s.time_unit.map_or(DEFAULT_TIME_UNIT, |d| d.0);
    if time_unit == SimDuration::ZERO {
        checks.bad(path("time_unit"), "a time unit of 0 has no rate").label("expected a duration above 0, like \"1s\"");
        ok = false;
    }
    for (key, value) in [("start_rate", s.start_rate), ("rate", s.rate)] {
        if let Some(v) = value {
            ok &= checks.non_negative(path(key), v);
        }
    }
    if s.duration.is_some_and(|d| d.0 == SimDuration::ZERO) {
        checks.bad(path("duration"), "a scenario of no duration starts nothing").label("expected a duration above 0");
        ok = false;
    }
    if s.max_shoppers == Some(0) {
        checks
            .bad(path("max_shoppers"), "with at most 0 shoppers every arrival is dropped")
            .label("expected 1 or more");
        ok = false;
    }
    let closed = matches!(s.executor, ExecutorFile::RampingShoppers | ExecutorFile::ConstantShoppers);
    if let Some(stages) = &s.stages {
        if stages.is_empty() {
            checks
                .bad(path("stages"), "no stages: the scenario would start nothing")
                .label("expected at least one stage");
            ok = false;
        }
        for (i, stage) in stages.iter().enumerate() {
            let target_path = at!["load", "scenarios", name, "stages", i, "target"];
            if !checks.non_negative(target_path.clone(), stage.target) {
                ok = false;
            } else if closed && (stage.target.fract() != 0.0 || stage.target > f64::from(u32::MAX)) {
                checks
                    .bad(target_path, format!("a number of shoppers is a whole number, found {}", stage.target))
                    .label("expected a whole number of shoppers");
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let stages = s.stages.as_deref().unwrap_or_default();
    let duration = s.duration.map_or(SimDuration::ZERO, |d| d.0);
    let executor = match s.executor {
        ExecutorFile::RampingArrivalRate => Executor::RampingArrivalRate {
            start_rate: s.start_rate.unwrap_or(0.0),
            time_unit,
            stages: stages.iter().map(|st| RateStage { duration: st.duration.0, target: st.target }).collect(),
        },
        ExecutorFile::ConstantArrivalRate => {
            Executor::ConstantArrivalRate { rate: s.rate.unwrap_or(0.0), time_unit, duration }
        }
        ExecutorFile::RampingShoppers => Executor::RampingShoppers {
            start_shoppers: s.start_shoppers.unwrap_or(0),
            stages: stages
                .iter()
                .map(|st| ShopperStage { duration: st.duration.0, target: st.target as u32 })
                .collect(),
        },
        ExecutorFile::ConstantShoppers => Executor::ConstantShoppers { shoppers: s.shoppers.unwrap_or(0), duration },
    };
    let journey = match s.journey {
        JourneyFile::GrabOnline => Journey::GrabOnline,
        JourneyFile::GrabInStore => Journey::GrabInStore,
        JourneyFile::CollectReservation => Journey::CollectReservation,
        JourneyFile::OrdinaryShopping => Journey::OrdinaryShopping,
        JourneyFile::PreOrder => Journey::PreOrder,
    };
    Some(LoadScenario {
        executor,
        start_time: s.start_time.map_or(SimDuration::ZERO, |d| d.0),
        max_shoppers: s.max_shoppers,
        journey,
        tags: s.tags.clone(),
    })
}
