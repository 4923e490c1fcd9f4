//! k6-style metrics of a load test: a registry of series keyed by name and tags.
//!
//! Four kinds, as k6: a [`Trend`] (durations in simulated nanoseconds: count, exact sum,
//! min and max, and an HDR histogram with 3 significant digits for percentiles), a Rate
//! (passes of a total), a Counter (a sum) and a Gauge (its last value and its max). A
//! series is one metric name with one set of tags (`store`, `scenario`, `channel`,
//! `journey`, ...); a name has one kind. [`Registry::aggregate`] merges every series of a
//! name whose tags include a filter's (`grab_latency` with `store = S042`), which is what
//! a k6 sub-metric and a tag-filtered threshold read. A gauge aggregated that way is the
//! last value set among the series matching (by time, then order of setting), as k6's
//! sub-metric of a gauge.
//!
//! Series are registered once ([`Registry::register`], which allocates) and recorded into
//! by [`MetricId`] (which does not, but for a trend's histogram growing to a new largest
//! value). A series chosen with [`Registry::track_over_time`] also keeps a bucket per
//! period (one second by default) over the run's duration: a counter's sum, a rate's
//! passes and total, a gauge's last value, or for a trend the count, sum and a 2-digit
//! histogram for p50/p95/p99 and max per bucket. Memory is bounded by the duration and
//! kept to what each kind needs (8 or 16 bytes a bucket; a trend's histogram is allocated
//! when its bucket is first recorded into), so a counter per store kept second by second
//! stays cheap; a record after the end falls in the last bucket. Everything is ordered
//! (`BTreeMap`, `Vec`): iteration is the same on every run.

use std::collections::BTreeMap;
use std::fmt;

use hdrhistogram::Histogram;
use storetwin_engine::{SimDuration, SimTime};

/// Tags of a series, or of a filter: key → value, ordered.
pub type Tags = BTreeMap<String, String>;

/// The four kinds of k6 metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricKind {
    Trend,
    Rate,
    Counter,
    Gauge,
}

impl MetricKind {
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Trend => "trend",
            MetricKind::Rate => "rate",
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        }
    }
}

/// A series of a [`Registry`], by its registration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricId(u32);

/// A percentile as k6 writes it, `p(95)`, `p(99.9)`: thousandths of a percent, so that it
/// compares exactly (`p(99.9)` is 99,900).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percentile(pub u32);

impl Percentile {
    pub const fn whole(percent: u32) -> Percentile {
        Percentile(percent * 1000)
    }

    /// As a quantile from 0 to 1.
    pub fn quantile(self) -> f64 {
        f64::from(self.0) / 100_000.0
    }

    /// Reads `95`, `99.9`, `99.999` (from 0 to 100, at most 3 decimals).
    pub fn parse(text: &str) -> Option<Percentile> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(fraction)) || fraction.len() > 3 {
            return None;
        }
        let whole: u32 = whole.parse().ok()?;
        let mut thousandths: u32 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
        for _ in fraction.len()..3 {
            thousandths *= 10;
        }
        let value = whole.checked_mul(1000)?.checked_add(thousandths)?;
        (value <= 100_000).then_some(Percentile(value))
    }
}

impl fmt::Display for Percentile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, thousandths) = (self.0 / 1000, self.0 % 1000);
        if thousandths == 0 {
            return write!(f, "{whole}");
        }
        let fraction = format!("{thousandths:03}");
        write!(f, "{whole}.{}", fraction.trim_end_matches('0'))
    }
}

/// A statistic of a trend, as k6's `summaryTrendStats` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrendStat {
    Avg,
    Min,
    /// The median, `p(50)`.
    Med,
    Max,
    /// How many values.
    Count,
    P(Percentile),
}

impl TrendStat {
    /// Reads `avg`, `min`, `med`, `max`, `count` or `p(N)`.
    pub fn parse(text: &str) -> Option<TrendStat> {
        match text.trim() {
            "avg" => Some(TrendStat::Avg),
            "min" => Some(TrendStat::Min),
            "med" => Some(TrendStat::Med),
            "max" => Some(TrendStat::Max),
            "count" => Some(TrendStat::Count),
            other => {
                let inner = other.strip_prefix("p(")?.strip_suffix(')')?;
                Percentile::parse(inner.trim()).map(TrendStat::P)
            }
        }
    }
}

impl fmt::Display for TrendStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrendStat::Avg => f.write_str("avg"),
            TrendStat::Min => f.write_str("min"),
            TrendStat::Med => f.write_str("med"),
            TrendStat::Max => f.write_str("max"),
            TrendStat::Count => f.write_str("count"),
            TrendStat::P(p) => write!(f, "p({p})"),
        }
    }
}

/// A trend of durations: exact count, sum, min and max; percentiles from an HDR histogram
/// (3 significant digits, so within 0.1%, and never outside `[min, max]`).
#[derive(Clone, Debug)]
pub struct Trend {
    histogram: Histogram<u64>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl PartialEq for Trend {
    fn eq(&self, other: &Trend) -> bool {
        (self.count, self.sum, self.min, self.max) == (other.count, other.sum, other.min, other.max)
            && self.histogram == other.histogram
    }
}

impl Default for Trend {
    fn default() -> Trend {
        Trend {
            histogram: Histogram::new(3).expect("3 significant digits are valid"),
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

impl Trend {
    pub fn record(&mut self, value: SimDuration) {
        let v = value.as_nanos();
        record(&mut self.histogram, v);
        self.count += 1;
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, other: &Trend) {
        if other.count == 0 {
            return;
        }
        self.histogram.add(&other.histogram).expect("auto-resizing histograms add");
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// A statistic in nanoseconds (`count` as a plain number); `None` without values.
    pub fn stat(&self, stat: TrendStat) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let clamp = |v: u64| v.clamp(self.min, self.max) as f64;
        Some(match stat {
            TrendStat::Avg => self.sum as f64 / self.count as f64,
            TrendStat::Min => self.min as f64,
            TrendStat::Max => self.max as f64,
            TrendStat::Count => self.count as f64,
            TrendStat::Med => clamp(self.histogram.value_at_quantile(0.5)),
            TrendStat::P(p) => clamp(self.histogram.value_at_quantile(p.quantile())),
        })
    }
}

/// Records `v` in an auto-resizing histogram, which takes any value up to 2^62 ns (146
/// years); a larger one is clamped.
fn record<T: hdrhistogram::Counter>(histogram: &mut Histogram<T>, v: u64) {
    if histogram.record(v).is_err() {
        histogram.saturating_record(v);
    }
}

/// What a series (or an aggregate of several) holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    Trend(Trend),
    Rate {
        passes: u64,
        total: u64,
    },
    Counter {
        count: u64,
    },
    /// `set` orders the settings of all gauges of a registry: (time, sequence number).
    Gauge {
        last: f64,
        max: f64,
        set: (SimTime, u64),
    },
}

impl Metric {
    fn empty(kind: MetricKind) -> Metric {
        match kind {
            MetricKind::Trend => Metric::Trend(Trend::default()),
            MetricKind::Rate => Metric::Rate { passes: 0, total: 0 },
            MetricKind::Counter => Metric::Counter { count: 0 },
            MetricKind::Gauge => Metric::Gauge { last: 0.0, max: f64::NEG_INFINITY, set: (SimTime::ZERO, 0) },
        }
    }

    pub fn kind(&self) -> MetricKind {
        match self {
            Metric::Trend(_) => MetricKind::Trend,
            Metric::Rate { .. } => MetricKind::Rate,
            Metric::Counter { .. } => MetricKind::Counter,
            Metric::Gauge { .. } => MetricKind::Gauge,
        }
    }

    /// Whether anything was recorded.
    pub fn is_empty(&self) -> bool {
        match self {
            Metric::Trend(t) => t.count == 0,
            Metric::Rate { total, .. } => *total == 0,
            Metric::Counter { .. } => false,
            Metric::Gauge { set, .. } => set.1 == 0,
        }
    }

    /// `passes / total` of a rate (`None` for another kind or no total).
    pub fn rate(&self) -> Option<f64> {
        match self {
            Metric::Rate { passes, total } if *total > 0 => Some(*passes as f64 / *total as f64),
            _ => None,
        }
    }

    /// Adds `other` (of the same kind) to this aggregate.
    fn merge(&mut self, other: &Metric) {
        match (self, other) {
            (Metric::Trend(a), Metric::Trend(b)) => a.merge(b),
            (Metric::Rate { passes, total }, Metric::Rate { passes: p, total: t }) => {
                *passes += p;
                *total += t;
            }
            (Metric::Counter { count }, Metric::Counter { count: c }) => *count += c,
            (Metric::Gauge { last, max, set }, Metric::Gauge { last: l, max: m, set: s }) => {
                if s.1 > 0 && *s > *set {
                    (*last, *set) = (*l, *s);
                }
                *max = max.max(*m);
            }
            _ => debug_assert!(false, "series of one name have one kind"),
        }
    }
}

/// A name used with two kinds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("metric `{name}` is a {registered}, not a {requested}")]
pub struct KindMismatch {
    pub name: String,
    pub registered: &'static str,
    pub requested: &'static str,
}

/// The values of a trend that fell in one bucket: count, exact sum and a 2-digit
/// histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendBucket {
    count: u64,
    sum: u128,
    histogram: Histogram<u32>,
}

impl TrendBucket {
    fn new() -> TrendBucket {
        TrendBucket { count: 0, sum: 0, histogram: Histogram::new(2).expect("2 significant digits are valid") }
    }

    fn record(&mut self, v: u64) {
        self.count += 1;
        self.sum += u128::from(v);
        record(&mut self.histogram, v);
    }

    fn merge(&mut self, other: &TrendBucket) {
        self.count += other.count;
        self.sum += other.sum;
        self.histogram.add(&other.histogram).expect("auto-resizing histograms add");
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean in nanoseconds (exact).
    pub fn mean(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum as f64 / self.count as f64 }
    }

    /// A percentile in nanoseconds (within 1%).
    pub fn percentile(&self, p: Percentile) -> u64 {
        self.histogram.value_at_quantile(p.quantile())
    }

    /// The largest value in nanoseconds (within 1%).
    pub fn max(&self) -> u64 {
        self.histogram.max()
    }
}

/// One bucket of a series over time, as read: a trend's values, or a rate's passes and
/// total, a counter's sum, a gauge's last value in the bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bucket<'a> {
    Trend(&'a TrendBucket),
    Rate { passes: u64, total: u64 },
    Counter { count: u64 },
    Gauge { last: f64 },
}

impl Bucket<'_> {
    /// A trend bucket's percentile in nanoseconds (within 1%).
    pub fn percentile(self, p: Percentile) -> Option<u64> {
        match self {
            Bucket::Trend(t) if t.count > 0 => Some(t.percentile(p)),
            _ => None,
        }
    }

    /// How many records fell in the bucket (a counter's: its sum; a gauge's: 1).
    pub fn count(self) -> u64 {
        match self {
            Bucket::Trend(t) => t.count,
            Bucket::Counter { count } => count,
            Bucket::Rate { total, .. } => total,
            Bucket::Gauge { .. } => 1,
        }
    }
}

/// The buckets of a series over time, stored by kind so that a bucket costs what its kind
/// needs (a trend's histogram is boxed, a rate's is two numbers, a counter's one, a
/// gauge's a value), and only for the periods recorded into (a map by period index), so
/// a run of days with a burst of minutes holds the burst's buckets, not a slot for every
/// second of the days. `n` is the number of periods in the run.
#[derive(Clone, Debug, PartialEq)]
enum Slots {
    Trend(BTreeMap<usize, Box<TrendBucket>>),
    Rate(BTreeMap<usize, (u64, u64)>),
    Counter(BTreeMap<usize, u64>),
    Gauge(BTreeMap<usize, f64>),
}

/// The entry of period `i` in `map`, the last one first (records come in time order).
fn slot<T>(map: &mut BTreeMap<usize, T>, i: usize, new: impl FnOnce() -> T) -> &mut T {
    if map.last_key_value().is_some_and(|(&k, _)| k == i) {
        return map.last_entry().expect("not empty").into_mut();
    }
    map.entry(i).or_insert_with(new)
}

impl Slots {
    fn new(kind: MetricKind) -> Slots {
        match kind {
            MetricKind::Trend => Slots::Trend(BTreeMap::new()),
            MetricKind::Rate => Slots::Rate(BTreeMap::new()),
            MetricKind::Counter => Slots::Counter(BTreeMap::new()),
            MetricKind::Gauge => Slots::Gauge(BTreeMap::new()),
        }
    }

    fn get(&self, i: usize) -> Option<Bucket<'_>> {
        match self {
            Slots::Trend(v) => v.get(&i).map(|t| Bucket::Trend(t)),
            Slots::Rate(v) => v.get(&i).filter(|r| r.1 > 0).map(|&(passes, total)| Bucket::Rate { passes, total }),
            Slots::Counter(v) => v.get(&i).filter(|c| **c > 0).map(|&count| Bucket::Counter { count }),
            Slots::Gauge(v) => v.get(&i).map(|&last| Bucket::Gauge { last }),
        }
    }

    /// The periods recorded into, in order.
    fn recorded(&self) -> Vec<usize> {
        match self {
            Slots::Trend(v) => v.keys().copied().collect(),
            Slots::Rate(v) => v.keys().copied().collect(),
            Slots::Counter(v) => v.keys().copied().collect(),
            Slots::Gauge(v) => v.keys().copied().collect(),
        }
    }

    fn merge(&mut self, other: &Slots) {
        match (self, other) {
            (Slots::Trend(a), Slots::Trend(b)) => {
                for (&i, theirs) in b {
                    match a.get_mut(&i) {
                        Some(m) => m.merge(theirs),
                        None => {
                            a.insert(i, theirs.clone());
                        }
                    }
                }
            }
            (Slots::Rate(a), Slots::Rate(b)) => {
                for (&i, theirs) in b {
                    let mine = a.entry(i).or_insert((0, 0));
                    mine.0 += theirs.0;
                    mine.1 += theirs.1;
                }
            }
            (Slots::Counter(a), Slots::Counter(b)) => {
                for (&i, theirs) in b {
                    *a.entry(i).or_insert(0) += theirs;
                }
            }
            (Slots::Gauge(a), Slots::Gauge(b)) => {
                for (&i, &theirs) in b {
                    a.insert(i, theirs);
                }
            }
            _ => debug_assert!(false, "buckets of one name have one kind"),
        }
    }
}

/// A series over time: one bucket per `period` from 0 to the run's duration.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    period: SimDuration,
    /// Periods in the run; a record after the end falls in the last.
    periods: usize,
    slots: Slots,
}

impl Timeline {
    fn new(kind: MetricKind, period: SimDuration, duration: SimDuration) -> Timeline {
        let period_ns = period.as_nanos().max(1);
        let n = duration.as_nanos().div_ceil(period_ns).max(1);
        Timeline { period: SimDuration::from_nanos(period_ns), periods: n as usize, slots: Slots::new(kind) }
    }

    /// The bucket holding `at` (a time after the end falls in the last one).
    fn index(&self, at: SimTime) -> usize {
        ((at.as_nanos() / self.period.as_nanos()) as usize).min(self.periods - 1)
    }

    fn record_trend(&mut self, at: SimTime, v: u64) {
        let i = self.index(at);
        if let Slots::Trend(buckets) = &mut self.slots {
            slot(buckets, i, || Box::new(TrendBucket::new())).record(v);
        }
    }

    fn record_rate(&mut self, at: SimTime, pass: bool) {
        let i = self.index(at);
        if let Slots::Rate(v) = &mut self.slots {
            let r = slot(v, i, || (0, 0));
            r.0 += u64::from(pass);
            r.1 += 1;
        }
    }

    fn add_counter(&mut self, at: SimTime, n: u64) {
        let i = self.index(at);
        if let Slots::Counter(v) = &mut self.slots {
            *slot(v, i, || 0) += n;
        }
    }

    fn set_gauge(&mut self, at: SimTime, value: f64) {
        let i = self.index(at);
        if let Slots::Gauge(v) = &mut self.slots {
            *slot(v, i, || value) = value;
        }
    }

    pub fn period(&self) -> SimDuration {
        self.period
    }

    /// How many buckets: the run's duration in periods, rounded up.
    pub fn len(&self) -> usize {
        self.periods
    }

    pub fn is_empty(&self) -> bool {
        self.periods == 0
    }

    /// The buckets recorded into, by index and start time, in time order (the quick way
    /// over a long, mostly quiet run).
    pub fn recorded(&self) -> impl Iterator<Item = (usize, SimTime, Bucket<'_>)> + '_ {
        let period = self.period.as_nanos();
        self.slots
            .recorded()
            .into_iter()
            .filter_map(move |i| Some((i, SimTime::from_nanos(i as u64 * period), self.slots.get(i)?)))
    }

    /// Bucket `i` (from the run's start), `None` where nothing was recorded.
    pub fn get(&self, i: usize) -> Option<Bucket<'_>> {
        self.slots.get(i)
    }

    /// Each bucket by its start time, `None` where nothing was recorded.
    pub fn buckets(&self) -> impl Iterator<Item = (SimTime, Option<Bucket<'_>>)> + '_ {
        let period = self.period.as_nanos();
        (0..self.periods).map(move |i| (SimTime::from_nanos(i as u64 * period), self.slots.get(i)))
    }

    fn merge(&mut self, other: &Timeline) {
        self.slots.merge(&other.slots);
    }
}

/// One series: its name, tags and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub tags: Tags,
    pub metric: Metric,
    pub timeline: Option<Timeline>,
}

/// Every series of a load test.
#[derive(Clone, Debug, PartialEq)]
pub struct Registry {
    series: Vec<Series>,
    index: BTreeMap<(String, Tags), MetricId>,
    kinds: BTreeMap<String, MetricKind>,
    /// Run length and bucket period of the series tracked over time.
    timeline: (SimDuration, SimDuration),
    gauge_sets: u64,
}

impl Registry {
    /// A registry whose series tracked over time have a bucket per second of `duration`.
    pub fn new(duration: SimDuration) -> Registry {
        Registry::with_period(duration, SimDuration::from_secs(1))
    }

    /// As [`Registry::new`], with buckets of `period`.
    pub fn with_period(duration: SimDuration, period: SimDuration) -> Registry {
        Registry {
            series: Vec::new(),
            index: BTreeMap::new(),
            kinds: BTreeMap::new(),
            timeline: (duration, period),
            gauge_sets: 0,
        }
    }

    /// The series `name` with `tags` (registered now if new). A name has one kind.
    pub fn register(&mut self, name: &str, kind: MetricKind, tags: &Tags) -> Result<MetricId, KindMismatch> {
        match self.kinds.get(name) {
            Some(&k) if k != kind => {
                return Err(KindMismatch { name: name.to_owned(), registered: k.name(), requested: kind.name() });
            }
            Some(_) => {}
            None => {
                self.kinds.insert(name.to_owned(), kind);
            }
        }
        let key = (name.to_owned(), tags.clone());
        if let Some(&id) = self.index.get(&key) {
            return Ok(id);
        }
        let id = MetricId(u32::try_from(self.series.len()).expect("fewer than 2^32 series"));
        self.series.push(Series {
            name: name.to_owned(),
            tags: tags.clone(),
            metric: Metric::empty(kind),
            timeline: None,
        });
        self.index.insert(key, id);
        Ok(id)
    }

    /// Keeps `id`'s buckets over time from now on.
    pub fn track_over_time(&mut self, id: MetricId) {
        let (duration, period) = self.timeline;
        let series = &mut self.series[id.0 as usize];
        let kind = series.metric.kind();
        series.timeline.get_or_insert_with(|| Timeline::new(kind, period, duration));
    }

    fn at(&mut self, id: MetricId) -> &mut Series {
        &mut self.series[id.0 as usize]
    }

    /// A value of trend `id`, recorded at `at`.
    pub fn record_trend(&mut self, id: MetricId, at: SimTime, value: SimDuration) {
        let series = self.at(id);
        if let Metric::Trend(t) = &mut series.metric {
            t.record(value);
        } else {
            debug_assert!(false, "{} is not a trend", series.name);
        }
        if let Some(timeline) = series.timeline.as_mut() {
            timeline.record_trend(at, value.as_nanos());
        }
    }

    /// A pass or a failure of rate `id`.
    pub fn record_rate(&mut self, id: MetricId, at: SimTime, pass: bool) {
        let series = self.at(id);
        if let Metric::Rate { passes, total } = &mut series.metric {
            *passes += u64::from(pass);
            *total += 1;
        } else {
            debug_assert!(false, "{} is not a rate", series.name);
        }
        if let Some(timeline) = series.timeline.as_mut() {
            timeline.record_rate(at, pass);
        }
    }

    /// Adds `n` to counter `id`.
    pub fn add_counter(&mut self, id: MetricId, at: SimTime, n: u64) {
        let series = self.at(id);
        if let Metric::Counter { count } = &mut series.metric {
            *count += n;
        } else {
            debug_assert!(false, "{} is not a counter", series.name);
        }
        if let Some(timeline) = series.timeline.as_mut() {
            timeline.add_counter(at, n);
        }
    }

    /// Sets gauge `id` to `value`.
    pub fn set_gauge(&mut self, id: MetricId, at: SimTime, value: f64) {
        self.gauge_sets += 1;
        let order = (at, self.gauge_sets);
        let series = self.at(id);
        if let Metric::Gauge { last, max, set } = &mut series.metric {
            (*last, *set) = (value, order);
            *max = max.max(value);
        } else {
            debug_assert!(false, "{} is not a gauge", series.name);
        }
        if let Some(timeline) = series.timeline.as_mut() {
            timeline.set_gauge(at, value);
        }
    }

    /// Every series, in registration order.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    pub fn get(&self, id: MetricId) -> &Series {
        &self.series[id.0 as usize]
    }

    /// The kind of `name`, if registered.
    pub fn kind(&self, name: &str) -> Option<MetricKind> {
        self.kinds.get(name).copied()
    }

    /// Every series of `name` whose tags include all of `filter`'s, merged; `None` if no
    /// series matches.
    pub fn aggregate(&self, name: &str, filter: &Tags) -> Option<Metric> {
        let mut out: Option<Metric> = None;
        for s in self.matching(name, filter) {
            match &mut out {
                Some(m) => m.merge(&s.metric),
                None => out = Some(s.metric.clone()),
            }
        }
        out
    }

    /// The buckets over time of every tracked series of `name` matching `filter`, merged.
    pub fn timeline(&self, name: &str, filter: &Tags) -> Option<Timeline> {
        let mut out: Option<Timeline> = None;
        for t in self.matching(name, filter).filter_map(|s| s.timeline.as_ref()) {
            match &mut out {
                Some(m) => m.merge(t),
                None => out = Some(t.clone()),
            }
        }
        out
    }

    fn matching<'a>(&'a self, name: &'a str, filter: &'a Tags) -> impl Iterator<Item = &'a Series> + 'a {
        let from = (name.to_owned(), Tags::new());
        self.index
            .range(from..)
            .take_while(move |((n, _), _)| n == name)
            .filter(move |((_, tags), _)| filter.iter().all(|(k, v)| tags.get(k) == Some(v)))
            .map(|(_, id)| &self.series[id.0 as usize])
    }

    /// Adds every series of `other` (another shard's registry of the same run) to this
    /// one, in `other`'s registration order.
    pub fn merge(&mut self, other: &Registry) -> Result<(), KindMismatch> {
        for s in &other.series {
            let id = self.register(&s.name, s.metric.kind(), &s.tags)?;
            let mine = &mut self.series[id.0 as usize];
            mine.metric.merge(&s.metric);
            match (&mut mine.timeline, &s.timeline) {
                (Some(m), Some(t)) => m.merge(t),
                (None, Some(t)) => mine.timeline = Some(t.clone()),
                _ => {}
            }
        }
        self.gauge_sets = self.gauge_sets.max(other.gauge_sets);
        Ok(())
    }

    /// Adds `other`'s series named in `names` to this registry's, without their buckets
    /// over time (what a threshold needs during a run, at a fraction of [`Self::merge`]'s
    /// cost).
    pub fn merge_totals(
        &mut self,
        other: &Registry,
        names: &std::collections::BTreeSet<String>,
    ) -> Result<(), KindMismatch> {
        for name in names {
            let from = (name.clone(), Tags::new());
            for (_, id) in other.index.range(from..).take_while(|((n, _), _)| n == name) {
                let s = &other.series[id.0 as usize];
                let mine = self.register(&s.name, s.metric.kind(), &s.tags)?;
                self.series[mine.0 as usize].metric.merge(&s.metric);
            }
        }
        self.gauge_sets = self.gauge_sets.max(other.gauge_sets);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    fn at(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    #[test]
    fn percentiles_read_and_print_as_k6_writes_them() {
        for (text, value) in [("95", 95_000), ("99.9", 99_900), ("99.999", 99_999), ("0", 0), ("100", 100_000)] {
            assert_eq!(Percentile::parse(text), Some(Percentile(value)), "{text}");
            assert_eq!(Percentile(value).to_string(), text);
        }
        for bad in ["", "100.1", "99.9999", "x", "9 5", "-1", ".5", "5."] {
            assert_eq!(Percentile::parse(bad), None, "{bad:?}");
        }
        let stats: Vec<String> = ["avg", "min", "med", "max", "count", "p(90)", "p(99.9)"]
            .iter()
            .map(|s| TrendStat::parse(s).expect("a stat").to_string())
            .collect();
        assert_eq!(stats, ["avg", "min", "med", "max", "count", "p(90)", "p(99.9)"]);
        assert_eq!(TrendStat::parse("p95"), None);
        assert_eq!(TrendStat::parse("mean"), None);
    }

    #[test]
    fn a_trend_is_exact_where_it_can_be_and_within_a_thousandth_elsewhere() {
        let mut t = Trend::default();
        for i in 1..=10_000u64 {
            t.record(SimDuration::from_nanos(i * 37_000));
        }
        assert_eq!(t.stat(TrendStat::Count), Some(10_000.0));
        assert_eq!(t.stat(TrendStat::Min), Some(37_000.0));
        assert_eq!(t.stat(TrendStat::Max), Some(370_000_000.0));
        assert_eq!(t.stat(TrendStat::Avg), Some(37_000.0 * 10_001.0 / 2.0));
        for (p, exact) in [(50, 5_000), (95, 9_500), (99, 9_900)] {
            let got = t.stat(TrendStat::P(Percentile::whole(p))).expect("values");
            let want = exact as f64 * 37_000.0;
            assert!((got - want).abs() / want < 1e-3, "p({p}): {got} vs {want}");
        }
        assert_eq!(t.stat(TrendStat::Med), t.stat(TrendStat::P(Percentile::whole(50))));
        assert_eq!(t.stat(TrendStat::P(Percentile::whole(100))), Some(370_000_000.0), "never above the max");
        assert_eq!(Trend::default().stat(TrendStat::Avg), None);
    }

    #[test]
    fn series_aggregate_over_a_tag_filter() {
        let mut r = Registry::new(SimDuration::from_secs(10));
        let s42 =
            r.register("grab_latency", MetricKind::Trend, &tags(&[("store", "S042"), ("channel", "app")])).unwrap();
        let s42w =
            r.register("grab_latency", MetricKind::Trend, &tags(&[("store", "S042"), ("channel", "web")])).unwrap();
        let s07 =
            r.register("grab_latency", MetricKind::Trend, &tags(&[("store", "S007"), ("channel", "app")])).unwrap();
        let other = r.register("grab_latency_x", MetricKind::Trend, &Tags::new()).unwrap();
        assert_eq!(
            r.register("grab_latency", MetricKind::Trend, &tags(&[("channel", "app"), ("store", "S042")])),
            Ok(s42)
        );
        r.record_trend(s42, at(1), ms(10));
        r.record_trend(s42w, at(1), ms(30));
        r.record_trend(s07, at(1), ms(1000));
        r.record_trend(other, at(1), ms(5000));
        let trend = |m: Option<Metric>| match m {
            Some(Metric::Trend(t)) => t,
            other => panic!("not a trend: {other:?}"),
        };
        let store = trend(r.aggregate("grab_latency", &tags(&[("store", "S042")])));
        assert_eq!((store.count(), store.stat(TrendStat::Max)), (2, Some(30e6)));
        let all = trend(r.aggregate("grab_latency", &Tags::new()));
        assert_eq!((all.count(), all.stat(TrendStat::Max)), (3, Some(1e9)), "not grab_latency_x");
        let app = trend(r.aggregate("grab_latency", &tags(&[("channel", "app")])));
        assert_eq!(app.stat(TrendStat::Avg), Some(505e6));
        assert_eq!(r.aggregate("grab_latency", &tags(&[("store", "S999")])), None);
        assert_eq!(r.aggregate("nothing", &Tags::new()), None);
        // A name has one kind.
        let e = r.register("grab_latency", MetricKind::Rate, &Tags::new()).expect_err("a trend");
        assert_eq!(e.to_string(), "metric `grab_latency` is a trend, not a rate");
    }

    #[test]
    fn rates_counters_and_gauges_aggregate_as_k6_sub_metrics() {
        let mut r = Registry::new(SimDuration::from_secs(10));
        let a = r.register("grab_failed", MetricKind::Rate, &tags(&[("store", "a")])).unwrap();
        let b = r.register("grab_failed", MetricKind::Rate, &tags(&[("store", "b")])).unwrap();
        for i in 0..10 {
            r.record_rate(a, at(1), i < 1);
            r.record_rate(b, at(1), i < 5);
        }
        assert_eq!(r.aggregate("grab_failed", &Tags::new()).and_then(|m| m.rate()), Some(0.3));
        let sold = r.register("sold", MetricKind::Counter, &tags(&[("store", "a")])).unwrap();
        let sold_b = r.register("sold", MetricKind::Counter, &tags(&[("store", "b")])).unwrap();
        r.add_counter(sold, at(1), 3);
        r.add_counter(sold_b, at(2), 4);
        assert_eq!(r.aggregate("sold", &Tags::new()), Some(Metric::Counter { count: 7 }));
        let ga = r.register("outstanding", MetricKind::Gauge, &tags(&[("store", "a")])).unwrap();
        let gb = r.register("outstanding", MetricKind::Gauge, &tags(&[("store", "b")])).unwrap();
        r.set_gauge(ga, at(1), 9.0);
        r.set_gauge(gb, at(3), 2.0);
        r.set_gauge(ga, at(2), 5.0);
        match r.aggregate("outstanding", &Tags::new()) {
            Some(Metric::Gauge { last, max, .. }) => assert_eq!((last, max), (2.0, 9.0), "b set last (at 3 s)"),
            other => panic!("{other:?}"),
        }
        match r.aggregate("outstanding", &tags(&[("store", "a")])) {
            Some(Metric::Gauge { last, max, .. }) => assert_eq!((last, max), (5.0, 9.0)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn series_over_time_keep_a_bucket_per_second_of_the_run() {
        let mut r = Registry::new(SimDuration::from_secs(5));
        let id = r.register("grab_latency", MetricKind::Trend, &Tags::new()).unwrap();
        let untracked = r.register("grab_latency", MetricKind::Trend, &tags(&[("store", "x")])).unwrap();
        r.track_over_time(id);
        for i in 0..100u64 {
            r.record_trend(id, SimTime::from_nanos((1000 + i) * 1_000_000), ms(i + 1));
            r.record_trend(untracked, at(1), ms(7));
        }
        r.record_trend(id, at(3), ms(500));
        r.record_trend(id, at(60), ms(1));
        let timeline = r.timeline("grab_latency", &Tags::new()).expect("tracked");
        let buckets: Vec<(SimTime, Option<Bucket>)> = timeline.buckets().collect();
        assert_eq!(buckets.len(), 5, "one per second of the run, no more");
        assert!(buckets[0].1.is_none() && buckets[2].1.is_none());
        let second = buckets[1].1.expect("values in second 1");
        assert_eq!(second.count(), 100);
        let p95 = second.percentile(Percentile::whole(95)).expect("values") as f64;
        assert!((p95 - 95e6).abs() / 95e6 < 0.01, "{p95}");
        assert_eq!(buckets[3].1.map(Bucket::count), Some(1));
        assert_eq!(buckets[4].1.map(Bucket::count), Some(1), "after the end: the last bucket");
        assert!(r.get(untracked).timeline.is_none());
    }

    #[test]
    fn counters_rates_and_gauges_over_time_add_up_second_by_second_across_stores() {
        let mut a = Registry::new(SimDuration::from_secs(3));
        let mut b = Registry::new(SimDuration::from_secs(3));
        let ca = a.register("made", MetricKind::Counter, &tags(&[("store", "a")])).unwrap();
        let cb = b.register("made", MetricKind::Counter, &tags(&[("store", "b")])).unwrap();
        let ra = a.register("expired", MetricKind::Rate, &tags(&[("store", "a")])).unwrap();
        let rb = b.register("expired", MetricKind::Rate, &tags(&[("store", "b")])).unwrap();
        let ga = a.register("level", MetricKind::Gauge, &tags(&[("store", "a")])).unwrap();
        for id in [ca, ra, ga] {
            a.track_over_time(id);
        }
        b.track_over_time(cb);
        b.track_over_time(rb);
        a.add_counter(ca, at(0), 3);
        a.add_counter(ca, at(2), 1);
        b.add_counter(cb, at(0), 4);
        a.record_rate(ra, at(1), true);
        b.record_rate(rb, at(1), false);
        b.record_rate(rb, at(1), true);
        a.set_gauge(ga, at(2), 7.0);
        a.set_gauge(ga, at(2), 5.0);
        a.merge(&b).expect("same kinds");
        let made: Vec<u64> = a
            .timeline("made", &Tags::new())
            .expect("tracked")
            .buckets()
            .map(|(_, b)| b.map_or(0, Bucket::count))
            .collect();
        assert_eq!(made, [7, 0, 1], "summed over the stores, second by second");
        let expired = a.timeline("expired", &Tags::new()).expect("tracked");
        assert_eq!(expired.len(), 3);
        assert_eq!(expired.get(0), None, "no total: empty");
        assert_eq!(expired.get(1), Some(Bucket::Rate { passes: 2, total: 3 }));
        let level = a.timeline("level", &Tags::new()).expect("tracked");
        assert_eq!((level.get(1), level.get(2)), (None, Some(Bucket::Gauge { last: 5.0 })));
        // A trend's bucket keeps its largest value (within 1%) and its exact mean.
        let t = a.register("wait", MetricKind::Trend, &Tags::new()).unwrap();
        a.track_over_time(t);
        a.record_trend(t, at(1), ms(2));
        a.record_trend(t, at(1), ms(900));
        let wait = a.timeline("wait", &Tags::new()).expect("tracked");
        match wait.get(1) {
            Some(Bucket::Trend(b)) => {
                assert!((b.max() as f64 - 900e6).abs() / 900e6 < 0.01, "{}", b.max());
                assert_eq!(b.mean(), 451e6);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn registries_of_two_shards_merge_into_one() {
        let mut a = Registry::new(SimDuration::from_secs(2));
        let mut b = Registry::new(SimDuration::from_secs(2));
        let ta = a.register("wait", MetricKind::Trend, &Tags::new()).unwrap();
        a.track_over_time(ta);
        a.record_trend(ta, at(0), ms(1));
        let tb = b.register("wait", MetricKind::Trend, &Tags::new()).unwrap();
        b.track_over_time(tb);
        b.record_trend(tb, at(1), ms(3));
        let cb = b.register("sold", MetricKind::Counter, &Tags::new()).unwrap();
        b.add_counter(cb, at(1), 2);
        a.merge(&b).expect("same kinds");
        match a.aggregate("wait", &Tags::new()) {
            Some(Metric::Trend(t)) => assert_eq!((t.count(), t.stat(TrendStat::Avg)), (2, Some(2e6))),
            other => panic!("{other:?}"),
        }
        assert_eq!(a.aggregate("sold", &Tags::new()), Some(Metric::Counter { count: 2 }));
        let counts: Vec<u64> = a
            .timeline("wait", &Tags::new())
            .expect("tracked")
            .buckets()
            .map(|(_, b)| b.map_or(0, Bucket::count))
            .collect();
        assert_eq!(counts, [1, 1]);
        let mut c = Registry::new(SimDuration::from_secs(2));
        c.register("wait", MetricKind::Counter, &Tags::new()).unwrap();
        assert!(a.merge(&c).is_err(), "a trend and a counter of one name");
    }
}
