//! k6 thresholds: pass/fail criteria on the metrics of a load test.
//!
//! A threshold is written as k6 writes it, `AGGREGATION OPERATOR VALUE`: `"p(95)<100ms"`,
//! `"p(99.9)<=1s"`, `"avg<50ms"`, `"med<20ms"`, `"min>0s"`, `"max<120s"`, `"rate<0.02"`,
//! `"count>=100"`, `"value<500"`, with `<`, `<=`, `>`, `>=`, `==` or `!=`. Time
//! statistics of a trend (avg, min, med, max, p(N)) compare in simulated time: the value
//! takes a unit (us, ms, s, m, h; see [`super::duration`]), and a bare number is
//! milliseconds, as in k6. It applies to a metric key ([`MetricKey`]): a metric name,
//! optionally with a tag filter, `grab_latency{store:S042,channel:app}`, which selects the
//! series whose tags include those (a k6 sub-metric).
//!
//! Which aggregation fits which kind (as k6): a trend takes avg, min, med, max, p(N) and
//! count; a rate takes rate; a counter takes count and rate (per second of the run so
//! far); a gauge takes value (its last) and max. A threshold on a metric that recorded
//! nothing fails with [`Observed::NoData`] (a misspelt name must not pass), and one whose
//! aggregation does not fit the metric fails with [`Observed::Unsupported`].
//!
//! `abort_on_fail` thresholds can be checked during the run ([`aborting`]), each once its
//! `delay_abort_eval` has passed since the run started.

use std::collections::BTreeMap;
use std::fmt;

use storetwin_engine::SimDuration;

use super::duration::parse_duration;
use super::metrics::{Metric, MetricKind, Percentile, Registry, Tags, TrendStat};

/// What a threshold reads of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Aggregation {
    Avg,
    Min,
    Med,
    Max,
    P(Percentile),
    Count,
    Rate,
    Value,
}

impl Aggregation {
    /// A statistic of time (of a trend): its value is a duration.
    pub fn is_time(self) -> bool {
        matches!(self, Aggregation::Avg | Aggregation::Min | Aggregation::Med | Aggregation::Max | Aggregation::P(_))
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregation::Avg => f.write_str("avg"),
            Aggregation::Min => f.write_str("min"),
            Aggregation::Med => f.write_str("med"),
            Aggregation::Max => f.write_str("max"),
            Aggregation::P(p) => write!(f, "p({p})"),
            Aggregation::Count => f.write_str("count"),
            Aggregation::Rate => f.write_str("rate"),
            Aggregation::Value => f.write_str("value"),
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn holds(self, observed: f64, bound: f64) -> bool {
        match self {
            Op::Lt => observed < bound,
            Op::Le => observed <= bound,
            Op::Gt => observed > bound,
            Op::Ge => observed >= bound,
            Op::Eq => observed == bound,
            Op::Ne => observed != bound,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// The value a threshold compares with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// With a unit: simulated time.
    Duration(SimDuration),
    /// A bare number (milliseconds for a time statistic).
    Number(f64),
}

impl Bound {
    /// The bound in the unit of the aggregation's value: nanoseconds for time.
    fn value(self, aggregation: Aggregation) -> f64 {
        match self {
            Bound::Duration(d) => d.as_nanos() as f64,
            Bound::Number(n) if aggregation.is_time() => n * 1e6,
            Bound::Number(n) => n,
        }
    }
}

/// A parsed threshold expression: `p(95) < 100ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condition {
    pub aggregation: Aggregation,
    pub op: Op,
    pub bound: Bound,
}

/// Why a threshold expression or a metric key does not parse: what was expected where
/// (a byte offset into the text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} at position {} of {text:?}, found {found}", at + 1)]
pub struct ThresholdError {
    pub text: String,
    pub at: usize,
    pub expected: String,
    pub found: String,
}

fn error(text: &str, at: usize, expected: impl Into<String>) -> ThresholdError {
    let found = match text[at..].chars().next() {
        Some(c) => format!("{:?}", c.to_string()),
        None => "the end".to_owned(),
    };
    ThresholdError { text: text.to_owned(), at, expected: expected.into(), found }
}

const AGGREGATIONS: &str = "avg, min, med, max, p(N), count, rate or value";

/// Parses `"p(95)<100ms"` and the like (spaces allowed between the parts).
pub fn parse_condition(text: &str) -> Result<Condition, ThresholdError> {
    let skip = |at: usize| at + text[at..].len() - text[at..].trim_start().len();
    let at = skip(0);
    let word_end = at + text[at..].find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(text.len() - at);
    let aggregation = match &text[at..word_end] {
        "avg" => Aggregation::Avg,
        "min" => Aggregation::Min,
        "med" => Aggregation::Med,
        "max" => Aggregation::Max,
        "count" => Aggregation::Count,
        "rate" => Aggregation::Rate,
        "value" => Aggregation::Value,
        "p" if text[word_end..].starts_with('(') => {
            let open = skip(word_end + 1);
            let digits = text[open..].find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len() - open);
            let Some(p) = Percentile::parse(&text[open..open + digits]) else {
                return Err(error(text, open, "a percentile from 0 to 100 (at most 3 decimals) like 95 or 99.9"));
            };
            let close = skip(open + digits);
            if !text[close..].starts_with(')') {
                return Err(error(text, close, "`)` after the percentile"));
            }
            return finish(text, Aggregation::P(p), skip(close + 1));
        }
        _ => return Err(error(text, at, format!("an aggregation: {AGGREGATIONS}"))),
    };
    finish(text, aggregation, skip(word_end))
}

/// The operator and the bound after the aggregation, from `at`.
fn finish(text: &str, aggregation: Aggregation, at: usize) -> Result<Condition, ThresholdError> {
    let rest = &text[at..];
    let (op, len) = if rest.starts_with("<=") {
        (Op::Le, 2)
    } else if rest.starts_with(">=") {
        (Op::Ge, 2)
    } else if rest.starts_with("===") {
        (Op::Eq, 3)
    } else if rest.starts_with("==") {
        (Op::Eq, 2)
    } else if rest.starts_with("!=") {
        (Op::Ne, 2)
    } else if rest.starts_with('<') {
        (Op::Lt, 1)
    } else if rest.starts_with('>') {
        (Op::Gt, 1)
    } else {
        return Err(error(text, at, "an operator: <, <=, >, >=, == or !="));
    };
    let start = at + len;
    let start = start + text[start..].len() - text[start..].trim_start().len();
    let value = text[start..].trim_end();
    if value.is_empty() {
        return Err(error(text, start, "a value like 100ms, 0.02 or 100"));
    }
    let number_len = value
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(value.len(), |(i, _)| i);
    let bound = if number_len == value.len() {
        match value.parse::<f64>() {
            Ok(n) if n.is_finite() => Bound::Number(n),
            _ => return Err(error(text, start, "a number like 0.02 or 100")),
        }
    } else if aggregation.is_time() {
        match parse_duration(value) {
            Ok(d) => Bound::Duration(d),
            Err(e) => {
                let (offset, expected) = match &e {
                    super::duration::DurationError::Expected { at, expected, .. } => (*at, (*expected).to_owned()),
                    other => (0, other.to_string()),
                };
                return Err(error(text, start + offset, expected));
            }
        }
    } else if number_len == 0 {
        return Err(error(text, start, "a number like 0.02 or 100"));
    } else {
        return Err(error(
            text,
            start + number_len,
            format!("a plain number: {aggregation} takes no unit (only avg, min, med, max and p(N) are times)"),
        ));
    };
    Ok(Condition { aggregation, op, bound })
}

/// A metric and an optional tag filter: `grab_latency`, `grab_latency{store:S042}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricKey {
    pub name: String,
    pub filter: Tags,
}

impl fmt::Display for MetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.filter.is_empty() {
            let pairs: Vec<String> = self.filter.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            write!(f, "{{{}}}", pairs.join(","))?;
        }
        Ok(())
    }
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// Parses `name` or `name{key:value,key:value}`.
pub fn parse_metric_key(text: &str) -> Result<MetricKey, ThresholdError> {
    let end = text.find(|c: char| !name_char(c)).unwrap_or(text.len());
    if end == 0 {
        return Err(error(text, 0, "a metric name (letters, digits, _ . -)"));
    }
    let name = text[..end].to_owned();
    let mut filter = Tags::new();
    if end == text.len() {
        return Ok(MetricKey { name, filter });
    }
    if !text[end..].starts_with('{') {
        return Err(error(text, end, "`{` starting a tag filter like {store:S042}, or the end of the name"));
    }
    let Some(close) = text.rfind('}') else {
        return Err(error(text, text.len(), "`}` closing the tag filter"));
    };
    if close + 1 != text.len() {
        return Err(error(text, close + 1, "the end after `}`"));
    }
    let mut at = end + 1;
    for pair in text[end + 1..close].split(',') {
        let lead = pair.len() - pair.trim_start().len();
        let Some(colon) = pair.find(':') else {
            return Err(error(text, at + pair.trim_end().len(), "`:` between a tag and its value, like store:S042"));
        };
        let (key, value) = (pair[..colon].trim(), pair[colon + 1..].trim());
        if key.is_empty() || !key.chars().all(name_char) {
            return Err(error(text, at + lead, "a tag name (letters, digits, _ . -)"));
        }
        if value.is_empty() {
            return Err(error(text, at + colon + 1, "a tag value after `:`"));
        }
        if filter.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(error(text, at + lead, format!("each tag once (`{key}` is given twice)")));
        }
        at += pair.len() + 1;
    }
    Ok(MetricKey { name, filter })
}

/// A threshold on one metric key, with k6's abort options.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The expression as written: `"p(95)<100ms"`.
    pub source: String,
    pub condition: Condition,
    /// Stop the run as soon as this threshold fails (k6's `abortOnFail`).
    pub abort_on_fail: bool,
    /// Check it for aborting only this long after the run starts (k6's `delayAbortEval`).
    pub delay_abort_eval: SimDuration,
}

impl Threshold {
    /// The short form: an expression alone, no abort.
    pub fn parse(text: &str) -> Result<Threshold, ThresholdError> {
        Ok(Threshold {
            source: text.to_owned(),
            condition: parse_condition(text)?,
            abort_on_fail: false,
            delay_abort_eval: SimDuration::ZERO,
        })
    }

    /// This threshold on `key` against what `registry` holds, `elapsed` into the run.
    pub fn evaluate(&self, key: &MetricKey, registry: &Registry, elapsed: SimDuration) -> ThresholdResult {
        let aggregation = self.condition.aggregation;
        let observed = match registry.aggregate(&key.name, &key.filter) {
            None => Observed::NoData,
            Some(m) if m.is_empty() => Observed::NoData,
            Some(m) => observe(&m, aggregation, elapsed),
        };
        let passed = match observed {
            Observed::Time(v) | Observed::Number(v) => {
                self.condition.op.holds(v, self.condition.bound.value(aggregation))
            }
            Observed::NoData | Observed::Unsupported(_) => false,
        };
        ThresholdResult {
            metric: key.to_string(),
            kind: registry.kind(&key.name),
            threshold: self.source.clone(),
            aggregation,
            observed,
            passed,
            abort_on_fail: self.abort_on_fail,
        }
    }
}

/// What an aggregation reads of a metric.
fn observe(metric: &Metric, aggregation: Aggregation, elapsed: SimDuration) -> Observed {
    let unsupported = Observed::Unsupported(metric.kind());
    match (metric, aggregation) {
        (Metric::Trend(t), Aggregation::Count) => Observed::Number(t.count() as f64),
        (Metric::Trend(t), a) if a.is_time() => {
            let stat = match a {
                Aggregation::Avg => TrendStat::Avg,
                Aggregation::Min => TrendStat::Min,
                Aggregation::Med => TrendStat::Med,
                Aggregation::Max => TrendStat::Max,
                Aggregation::P(p) => TrendStat::P(p),
                _ => unreachable!("a time statistic"),
            };
            t.stat(stat).map_or(Observed::NoData, Observed::Time)
        }
        (Metric::Rate { .. }, Aggregation::Rate) => metric.rate().map_or(Observed::NoData, Observed::Number),
        (Metric::Counter { count }, Aggregation::Count) => Observed::Number(*count as f64),
        (Metric::Counter { count }, Aggregation::Rate) => {
            let s = elapsed.as_secs_f64();
            if s > 0.0 { Observed::Number(*count as f64 / s) } else { Observed::NoData }
        }
        (Metric::Gauge { last, .. }, Aggregation::Value) => Observed::Number(*last),
        (Metric::Gauge { max, .. }, Aggregation::Max) => Observed::Number(*max),
        _ => unsupported,
    }
}

/// What a threshold found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observed {
    /// A time statistic, in simulated nanoseconds.
    Time(f64),
    /// A rate (0 to 1), a count, a counter's rate per second, a gauge's value.
    Number(f64),
    /// The metric (with its filter) recorded nothing.
    NoData,
    /// The aggregation does not fit a metric of this kind.
    Unsupported(MetricKind),
}

/// One threshold's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdResult {
    /// The metric key, `grab_latency{store:S042}`.
    pub metric: String,
    /// The metric's kind, if it was registered.
    pub kind: Option<MetricKind>,
    /// The expression as written.
    pub threshold: String,
    pub aggregation: Aggregation,
    pub observed: Observed,
    pub passed: bool,
    pub abort_on_fail: bool,
}

/// Thresholds by metric key, as a load spec holds them.
pub type Thresholds = BTreeMap<MetricKey, Vec<Threshold>>;

/// Every threshold, in key order then file order.
pub fn evaluate(thresholds: &Thresholds, registry: &Registry, elapsed: SimDuration) -> Vec<ThresholdResult> {
    thresholds.iter().flat_map(|(key, list)| list.iter().map(move |t| t.evaluate(key, registry, elapsed))).collect()
}

/// The `abort_on_fail` thresholds that fail `elapsed` into the run, among those whose
/// `delay_abort_eval` has passed: the run should stop if this is not empty. A metric with
/// no data yet does not stop the run (its first values may be still to come); at the end
/// it fails like any other.
pub fn aborting(thresholds: &Thresholds, registry: &Registry, elapsed: SimDuration) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .flat_map(|(key, list)| list.iter().map(move |t| (key, t)))
        .filter(|(_, t)| t.abort_on_fail && elapsed >= t.delay_abort_eval)
        .map(|(key, t)| t.evaluate(key, registry, elapsed))
        .filter(|r| !r.passed && r.observed != Observed::NoData)
        .collect()
}

#[cfg(test)]
mod tests {
    use storetwin_engine::SimTime;

    use super::*;

    fn c(text: &str) -> Condition {
        parse_condition(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    #[test]
    fn every_form_k6_writes_parses() {
        let p = |n| Aggregation::P(Percentile::whole(n));
        assert_eq!(c("p(95)<100ms"), Condition { aggregation: p(95), op: Op::Lt, bound: Bound::Duration(ms(100)) });
        assert_eq!(
            c("p(99.9)<=1s"),
            Condition { aggregation: Aggregation::P(Percentile(99_900)), op: Op::Le, bound: Bound::Duration(ms(1000)) }
        );
        assert_eq!(c("avg<50ms").aggregation, Aggregation::Avg);
        assert_eq!(c("med < 20ms").bound, Bound::Duration(ms(20)));
        assert_eq!(c("min>250us").bound, Bound::Duration(SimDuration::from_nanos(250_000)));
        assert_eq!(c("max<120s").bound, Bound::Duration(SimDuration::from_secs(120)));
        assert_eq!(c("max<2m").bound, Bound::Duration(SimDuration::from_secs(120)));
        assert_eq!(
            c("rate<0.02"),
            Condition { aggregation: Aggregation::Rate, op: Op::Lt, bound: Bound::Number(0.02) }
        );
        assert_eq!(
            c("count>=100"),
            Condition { aggregation: Aggregation::Count, op: Op::Ge, bound: Bound::Number(100.0) }
        );
        assert_eq!(c("p(95)<500").bound, Bound::Number(500.0), "a bare number, read as k6 does at evaluation");
        assert_eq!(c("value!=-1").op, Op::Ne);
        assert_eq!(c(" count == 0 ").op, Op::Eq);
    }

    #[test]
    fn parse_errors_say_what_was_expected_where() {
        let e = |text: &str| parse_condition(text).expect_err(text);
        let err = e("p95<100ms");
        assert_eq!((err.at, err.expected.starts_with("an aggregation")), (0, true));
        let err = e("p(95<100ms");
        assert_eq!((err.at, err.expected.as_str()), (4, "`)` after the percentile"), "{err}");
        let err = e("p(x)<100ms");
        assert_eq!(err.at, 2, "{err}");
        assert!(err.expected.starts_with("a percentile"), "{err}");
        let err = e("p(95)=100ms");
        assert_eq!((err.at, err.expected.as_str()), (5, "an operator: <, <=, >, >=, == or !="));
        assert_eq!(
            err.to_string(),
            "expected an operator: <, <=, >, >=, == or != at position 6 of \"p(95)=100ms\", found \"=\""
        );
        let err = e("p(95)<100 weeks");
        assert_eq!((err.at, err.expected.as_str()), (10, "a unit: us, ms, s, m, h or d"));
        let err = e("rate<2%");
        assert_eq!(err.at, 6);
        assert!(err.expected.contains("rate takes no unit"), "{err}");
        let err = e("avg<");
        assert_eq!((err.at, err.found.as_str()), (4, "the end"));
        let err = e("p(101)<1s");
        assert!(err.expected.starts_with("a percentile from 0 to 100"), "{err}");
        let err = e("count>=lots");
        assert_eq!(err.at, 7);
    }

    #[test]
    fn metric_keys_take_tag_filters() {
        let k = parse_metric_key("grab_latency{store:S042, channel:app}").expect("a key");
        assert_eq!(k.name, "grab_latency");
        assert_eq!(k.filter.get("store").map(String::as_str), Some("S042"));
        assert_eq!(k.filter.len(), 2);
        assert_eq!(k.to_string(), "grab_latency{channel:app,store:S042}");
        assert_eq!(parse_metric_key("grab_latency").expect("a name").filter.len(), 0);
        let err = |text: &str| parse_metric_key(text).expect_err(text);
        assert_eq!(err("{store:S042}").at, 0);
        assert_eq!(err("grab latency").at, 4);
        assert_eq!(err("grab_latency{store:S042").at, 23);
        assert_eq!(err("grab_latency{storeS042}").at, 22);
        assert_eq!(err("grab_latency{store:}").at, 19);
        assert_eq!(err("grab_latency{store:a,store:b}").at, 21);
        assert_eq!(err("grab_latency{store:a}x").at, 21);
    }

    fn registry() -> (Registry, MetricKey) {
        let mut r = Registry::new(SimDuration::from_secs(60));
        let tags = |s: &str| [("store".to_owned(), s.to_owned())].into_iter().collect::<Tags>();
        let a = r.register("grab_latency", MetricKind::Trend, &tags("S042")).unwrap();
        let b = r.register("grab_latency", MetricKind::Trend, &tags("S007")).unwrap();
        for i in 1..=100 {
            r.record_trend(a, SimTime::ZERO, ms(i * 5)); // 5 .. 500 ms
            r.record_trend(b, SimTime::ZERO, ms(i)); // 1 .. 100 ms
        }
        let failed = r.register("grab_failed", MetricKind::Rate, &Tags::new()).unwrap();
        for i in 0..100 {
            r.record_rate(failed, SimTime::ZERO, i < 3);
        }
        let sold = r.register("sold", MetricKind::Counter, &Tags::new()).unwrap();
        r.add_counter(sold, SimTime::ZERO, 120);
        (r, parse_metric_key("grab_latency{store:S042}").expect("a key"))
    }

    #[test]
    fn thresholds_pass_and_fail_with_what_they_observed() {
        let (r, s042) = registry();
        let all = parse_metric_key("grab_latency").expect("a key");
        let t = |text: &str| Threshold::parse(text).expect("parses");
        let elapsed = SimDuration::from_secs(60);
        let result = t("p(95)<400ms").evaluate(&s042, &r, elapsed);
        assert!(!result.passed, "{result:?}");
        match result.observed {
            Observed::Time(ns) => assert!((ns - 475e6).abs() / 475e6 < 1e-3, "{ns}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(result.metric, "grab_latency{store:S042}");
        assert!(t("p(95)<500ms").evaluate(&s042, &r, elapsed).passed);
        assert!(t("p(95)<500").evaluate(&s042, &r, elapsed).passed, "a bare number is milliseconds");
        assert!(!t("max<500ms").evaluate(&s042, &r, elapsed).passed, "the max is 500 ms");
        assert!(t("max<=500ms").evaluate(&s042, &r, elapsed).passed);
        assert!(t("max<=500ms").evaluate(&all, &r, elapsed).passed);
        assert!(!t("min>1ms").evaluate(&all, &r, elapsed).passed, "S007's 1 ms is in the whole");
        assert!(t("count==200").evaluate(&all, &r, elapsed).passed);
        let rate = |text: &str| {
            Threshold::parse(text).expect("parses").evaluate(&parse_metric_key("grab_failed").unwrap(), &r, elapsed)
        };
        assert!(rate("rate<0.05").passed && !rate("rate<0.02").passed);
        assert_eq!(rate("rate<0.05").observed, Observed::Number(0.03));
        assert_eq!(rate("avg<1s").observed, Observed::Unsupported(MetricKind::Rate));
        assert!(!rate("avg<1s").passed);
        let sold = parse_metric_key("sold").unwrap();
        assert_eq!(t("rate>1").evaluate(&sold, &r, elapsed).observed, Observed::Number(2.0), "120 in 60 s");
        // Nothing recorded: fails, whether the name or the filter finds nothing.
        let none = t("p(95)<1s").evaluate(&parse_metric_key("grab_latency{store:S999}").unwrap(), &r, elapsed);
        assert_eq!((none.observed, none.passed), (Observed::NoData, false));
    }

    #[test]
    fn abort_thresholds_are_checked_during_the_run_after_their_delay() {
        let (r, s042) = registry();
        let mut thresholds = Thresholds::new();
        let abort = Threshold {
            abort_on_fail: true,
            delay_abort_eval: SimDuration::from_secs(10),
            ..Threshold::parse("p(99)<100ms").unwrap()
        };
        let plain = Threshold::parse("p(50)<1ms").unwrap();
        thresholds.insert(s042.clone(), vec![abort, plain]);
        assert!(aborting(&thresholds, &r, SimDuration::from_secs(5)).is_empty(), "too early");
        let stop = aborting(&thresholds, &r, SimDuration::from_secs(10));
        assert_eq!(stop.len(), 1, "only the abort_on_fail one");
        assert_eq!(stop[0].threshold, "p(99)<100ms");
        let all = evaluate(&thresholds, &r, SimDuration::from_secs(60));
        assert_eq!(all.iter().map(|r| r.passed).collect::<Vec<_>>(), [false, false]);
        // A passing abort threshold does not stop the run.
        thresholds.insert(s042, vec![Threshold { abort_on_fail: true, ..Threshold::parse("p(99)<1s").unwrap() }]);
        assert!(aborting(&thresholds, &r, SimDuration::from_secs(60)).is_empty());
        // Nor does one whose metric has no data yet.
        let empty = parse_metric_key("grab_latency{store:S999}").unwrap();
        let mut none = Thresholds::new();
        none.insert(empty, vec![Threshold { abort_on_fail: true, ..Threshold::parse("p(99)<1ms").unwrap() }]);
        assert!(aborting(&none, &r, SimDuration::from_secs(60)).is_empty());
        assert!(!evaluate(&none, &r, SimDuration::from_secs(60))[0].passed, "at the end, no data fails");
    }
}
