//! The end-of-test summary of a load test (`storetwin load`), as text in k6's layout:
//! THRESHOLDS (✓ or ✗ per threshold, with what it observed), INVARIANTS (✓ or ✗ per
//! invariant), then TOTAL RESULTS in titled sections of rows, each a name padded with dots
//! and its value: a trend's statistics in the order given (k6's `summaryTrendStats`),
//! labelled "(simulated time)" since every latency is; a rate as a percentage of passes;
//! a counter with its rate per second; a gauge's last value and max; or plain text.
//!
//! The caller decides the sections (FLASH SALE, SHOPPERS, STOCK HOLDER, ENGINE) and their
//! rows, from the run's metrics ([`Row::from_metric`]) or otherwise; this only lays them
//! out. The statistics of one place line up across trend rows, as k6 aligns them.
//!
//! [`PerSecond`] reads the series the run kept second by second; [`write_timeseries`]
//! writes them as `timeseries.csv`, and the load test's `report.html` draws them.

use std::fmt::Write as _;

use storetwin_actors::load::duration::format_duration;
use storetwin_actors::load::metrics::{Metric, MetricKind, TrendStat};
use storetwin_actors::load::threshold::{Aggregation, Observed, ThresholdResult};
use storetwin_engine::SimDuration;

mod per_second;

pub use per_second::{Latency, PerSecond, units_taken};

/// Everything the summary shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadSummary {
    /// Every threshold's verdict, grouped under its metric key in this order.
    pub thresholds: Vec<ThresholdResult>,
    pub invariants: Vec<InvariantLine>,
    pub sections: Vec<Section>,
}

/// One invariant: held or broken, with what broke it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantLine {
    pub name: String,
    pub held: bool,
    pub detail: Option<String>,
}

/// A titled group of rows under TOTAL RESULTS.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub title: String,
    pub rows: Vec<Row>,
}

/// One row: a name and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub value: RowValue,
}

/// What a row shows.
#[derive(Clone, Debug, PartialEq)]
pub enum RowValue {
    /// Statistics of a trend of simulated time in nanoseconds (`count` as a number), in
    /// the order shown; `None` without values.
    Trend(Vec<(TrendStat, Option<f64>)>),
    Rate {
        passes: u64,
        total: u64,
    },
    /// A count, and its rate per second of the run if known.
    Counter {
        count: u64,
        per_second: Option<f64>,
    },
    Gauge {
        last: f64,
        max: f64,
    },
    Text(String),
}

impl Row {
    /// A row of `metric` (a series or an aggregate): a trend shows `stats`, a counter its
    /// rate over `elapsed`.
    pub fn from_metric(name: &str, metric: &Metric, stats: &[TrendStat], elapsed: SimDuration) -> Row {
        let value = match metric {
            Metric::Trend(t) => RowValue::Trend(stats.iter().map(|s| (*s, t.stat(*s))).collect()),
            Metric::Rate { passes, total } => RowValue::Rate { passes: *passes, total: *total },
            Metric::Counter { count } => {
                let s = elapsed.as_secs_f64();
                RowValue::Counter { count: *count, per_second: (s > 0.0).then(|| *count as f64 / s) }
            }
            Metric::Gauge { last, max, .. } => RowValue::Gauge { last: *last, max: *max },
        };
        Row { name: name.to_owned(), value }
    }

    pub fn text(name: &str, text: impl Into<String>) -> Row {
        Row { name: name.to_owned(), value: RowValue::Text(text.into()) }
    }
}

/// A plain number: whole numbers without decimals, others with two.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { format!("{v:.2}") }
}

fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

/// `p(95)=84.20ms`, `rate=1.20%`, `count=45`, or why there is no value.
pub fn observed_text(result: &ThresholdResult) -> String {
    let a = result.aggregation;
    match result.observed {
        Observed::Time(ns) => format!("{a}={}", format_duration(ns)),
        Observed::Number(v) => match (a, result.kind) {
            (Aggregation::Rate, Some(MetricKind::Rate)) => format!("{a}={}", percent(v)),
            (Aggregation::Rate, _) => format!("{a}={}/s", number(v)),
            _ => format!("{a}={}", number(v)),
        },
        Observed::NoData => "no data".to_owned(),
        Observed::Unsupported(kind) => format!("{a} does not apply to a {}", kind.name()),
    }
}

/// The first column of a row (and, for a trend, its statistics one by one).
fn cells(value: &RowValue) -> Vec<String> {
    match value {
        RowValue::Trend(stats) => stats
            .iter()
            .map(|(stat, v)| {
                let shown = match (stat, v) {
                    (_, None) => "-".to_owned(),
                    (TrendStat::Count, Some(v)) => number(*v),
                    (_, Some(ns)) => format_duration(*ns),
                };
                format!("{stat}={shown}")
            })
            .collect(),
        RowValue::Rate { passes, total } => {
            let share = if *total > 0 { percent(*passes as f64 / *total as f64) } else { "-".to_owned() };
            vec![share, format!("{passes} out of {total}")]
        }
        RowValue::Counter { count, per_second } => {
            let mut out = vec![count.to_string()];
            out.extend(per_second.map(|r| format!("{r:.2}/s")));
            out
        }
        RowValue::Gauge { last, max } => vec![number(*last), format!("max={}", number(*max))],
        RowValue::Text(t) => vec![t.clone()],
    }
}

/// The summary as text, every line indented as k6 indents it.
pub fn render(summary: &LoadSummary) -> String {
    let mut out = String::new();
    if !summary.thresholds.is_empty() {
        out.push_str("  █ THRESHOLDS\n");
        let mut last: Option<&str> = None;
        for r in &summary.thresholds {
            if last != Some(r.metric.as_str()) {
                let _ = write!(out, "\n    {}\n", r.metric);
                last = Some(&r.metric);
            }
            let mark = if r.passed { '✓' } else { '✗' };
            let _ = writeln!(out, "    {mark} '{}' {}", r.threshold, observed_text(r));
        }
        out.push_str("\n\n");
    }
    if !summary.invariants.is_empty() {
        out.push_str("  █ INVARIANTS\n\n");
        for i in &summary.invariants {
            let mark = if i.held { '✓' } else { '✗' };
            match &i.detail {
                Some(d) => {
                    let _ = writeln!(out, "    {mark} {}: {d}", i.name);
                }
                None => {
                    let _ = writeln!(out, "    {mark} {}", i.name);
                }
            }
        }
        out.push_str("\n\n");
    }
    let rows = || summary.sections.iter().flat_map(|s| &s.rows);
    if rows().next().is_none() {
        return out;
    }
    // One width for names everywhere; per column widths for trend statistics and for the
    // first value of the other rows.
    let name_width = rows().map(|r| r.name.chars().count()).max().unwrap_or(0) + 3;
    let mut trend_widths: Vec<usize> = Vec::new();
    let mut first_width = 0;
    for row in rows() {
        let c = cells(&row.value);
        match row.value {
            RowValue::Trend(_) => {
                for (i, cell) in c.iter().enumerate() {
                    if trend_widths.len() <= i {
                        trend_widths.push(0);
                    }
                    trend_widths[i] = trend_widths[i].max(cell.chars().count());
                }
            }
            RowValue::Text(_) => {}
            _ => first_width = first_width.max(c[0].chars().count()),
        }
    }
    out.push_str("  █ TOTAL RESULTS\n");
    for section in &summary.sections {
        let _ = write!(out, "\n    {}\n", section.title);
        for row in &section.rows {
            let dots = ".".repeat(name_width - row.name.chars().count());
            let c = cells(&row.value);
            let line = match row.value {
                RowValue::Trend(_) => {
                    let last = c.len().saturating_sub(1);
                    let mut line = String::new();
                    for (i, cell) in c.iter().enumerate() {
                        if i < last {
                            let _ = write!(line, "{cell:<w$} ", w = trend_widths[i]);
                        } else {
                            line.push_str(cell);
                        }
                    }
                    line.push_str("  (simulated time)");
                    line
                }
                RowValue::Text(_) => c.join(" "),
                _ => {
                    let mut line = format!("{:<w$}", c[0], w = first_width);
                    for cell in &c[1..] {
                        line.push(' ');
                        line.push_str(cell);
                    }
                    line.trim_end().to_owned()
                }
            };
            let _ = writeln!(out, "    {}{dots}: {line}", row.name);
        }
    }
    out
}

/// Writes a load test's `timeseries.csv`: a row per second in which anything happened
/// (from the run's start), with shoppers arriving and the target rate, grabs answered and
/// their latency percentiles, the holder's p99 queue wait, then retries and timeouts,
/// reservations made, expired and paid, and the levels they give (reservations
/// outstanding, units taken, units sold). Latencies are in simulated milliseconds.
pub fn write_timeseries(path: &std::path::Path, seconds: &PerSecond) -> crate::Result<()> {
    let mut csv = String::from(
        "second,shoppers,grabs_answered,grab_p50_ms,grab_p95_ms,grab_p99_ms,queue_wait_p99_ms,\
         target_per_s,shoppers_dropped,grab_max_ms,grab_retries,grab_timeouts,reservations_made,\
         reservations_expired,reservations_paid,reservations_outstanding,units_taken,units_sold\n",
    );
    let ms = |ns: Option<u64>| ns.map_or(String::new(), |ns| format!("{:.3}", ns as f64 / 1e6));
    let (taken, sold, outstanding) = (seconds.taken(), seconds.sold(), seconds.outstanding());
    let mut any = false;
    for i in (0..seconds.len()).filter(|&i| seconds.active(i)) {
        any = true;
        let l = seconds.latency[i];
        let _ = writeln!(
            csv,
            "{i},{},{},{},{},{},{},{:.2},{},{},{},{},{},{},{},{},{},{}",
            seconds.shoppers[i],
            seconds.answered[i],
            ms(l.map(|l| l.p50)),
            ms(l.map(|l| l.p95)),
            ms(l.map(|l| l.p99)),
            ms(seconds.queue_wait_p99[i]),
            seconds.target[i],
            seconds.dropped[i],
            ms(l.map(|l| l.max)),
            seconds.retries[i],
            seconds.timeouts[i],
            seconds.made[i],
            seconds.expired[i],
            seconds.paid[i],
            outstanding[i],
            taken[i],
            sold[i],
        );
    }
    if !any {
        csv.push_str("# no shopper arrived\n");
    }
    storetwin_eventlog::atomic::write_atomic(path, |w| w.write_all(csv.as_bytes()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use storetwin_actors::load::metrics::{MetricKind, Percentile, Registry, Tags};
    use storetwin_actors::load::threshold::{Threshold, Thresholds, evaluate, parse_metric_key};
    use storetwin_engine::SimTime;

    use super::*;

    /// A small load test's figures, from a registry as a run would leave it.
    fn summary() -> LoadSummary {
        let elapsed = SimDuration::from_secs(100);
        let mut r = Registry::new(elapsed);
        let tags = |s: &str| [("store".to_owned(), s.to_owned())].into_iter().collect::<Tags>();
        let a = r.register("grab_latency", MetricKind::Trend, &tags("S001")).expect("a trend");
        let b = r.register("grab_latency", MetricKind::Trend, &tags("S042")).expect("a trend");
        for i in 1..=100u64 {
            r.record_trend(a, SimTime::ZERO, SimDuration::from_millis(i));
            r.record_trend(b, SimTime::ZERO, SimDuration::from_millis(10 * i));
        }
        let wait = r.register("stock_queue_wait", MetricKind::Trend, &Tags::new()).expect("a trend");
        for i in 1..=4u64 {
            r.record_trend(wait, SimTime::ZERO, SimDuration::from_nanos(i * 20_000));
        }
        let failed = r.register("grab_failed", MetricKind::Rate, &Tags::new()).expect("a rate");
        for i in 0..200 {
            r.record_rate(failed, SimTime::ZERO, i < 3);
        }
        let sold = r.register("sold", MetricKind::Counter, &Tags::new()).expect("a counter");
        r.add_counter(sold, SimTime::ZERO, 150);
        let held = r.register("reservations_held", MetricKind::Gauge, &Tags::new()).expect("a gauge");
        r.set_gauge(held, SimTime::ZERO, 40.0);
        r.set_gauge(held, SimTime::from_secs(1), 12.0);

        let mut thresholds = Thresholds::new();
        let t = |s: &str| Threshold::parse(s).expect("parses");
        let key = |k: &str| parse_metric_key(k).expect("a key");
        thresholds.insert(key("grab_latency"), vec![t("p(95)<100ms"), t("p(99)<300ms")]);
        thresholds.insert(key("grab_latency{store:S042}"), vec![t("p(99)<500ms")]);
        thresholds.insert(key("grab_failed"), vec![t("rate<0.02")]);
        thresholds.insert(key("sellout_time"), vec![t("max<120s")]);

        let stats = [
            TrendStat::Avg,
            TrendStat::P(Percentile::whole(50)),
            TrendStat::P(Percentile::whole(95)),
            TrendStat::P(Percentile::whole(99)),
            TrendStat::Max,
        ];
        let all = |name: &str| r.aggregate(name, &Tags::new()).expect("recorded");
        let row = |name: &str, m: &Metric| Row::from_metric(name, m, &stats, elapsed);
        LoadSummary {
            thresholds: evaluate(&thresholds, &r, elapsed),
            invariants: vec![
                InvariantLine { name: "no oversell".into(), held: true, detail: None },
                InvariantLine {
                    name: "stock conservation".into(),
                    held: false,
                    detail: Some("S042 sold 201 of 200 (seed 7)".into()),
                },
            ],
            sections: vec![
                Section {
                    title: "FLASH SALE".into(),
                    rows: vec![
                        row("grab_latency", &all("grab_latency")),
                        row("  { store:S042 }", &r.aggregate("grab_latency", &tags("S042")).expect("S042")),
                        row("grab_failed", &all("grab_failed")),
                        row("sold", &all("sold")),
                        row("reservations_held", &all("reservations_held")),
                    ],
                },
                Section { title: "STOCK HOLDER".into(), rows: vec![row("stock_queue_wait", &all("stock_queue_wait"))] },
                Section {
                    title: "ENGINE".into(),
                    rows: vec![Row::text("events", "1204332"), Row::text("event_hash", "85407659e5146034")],
                },
            ],
        }
    }

    #[test]
    fn the_summary_reads_as_k6s() {
        // The percentiles are the data's: of 1..100 ms and 10..1000 ms (200 values), the
        // 100th is 91 ms, the 190th 900 ms, the 198th 980 ms (HDR: within 0.1%); S042's
        // p(99) is its 99th, 990 ms. A threshold on a metric never recorded has no data.
        let golden = "  █ THRESHOLDS

    grab_failed
    ✓ 'rate<0.02' rate=1.50%

    grab_latency
    ✗ 'p(95)<100ms' p(95)=900.20ms
    ✗ 'p(99)<300ms' p(99)=980.42ms

    grab_latency{store:S042}
    ✗ 'p(99)<500ms' p(99)=990.38ms

    sellout_time
    ✗ 'max<120s' no data


  █ INVARIANTS

    ✓ no oversell
    ✗ stock conservation: S042 sold 201 of 200 (seed 7)


  █ TOTAL RESULTS

    FLASH SALE
    grab_latency........: avg=277.75ms p(50)=91.03ms  p(95)=900.20ms p(99)=980.42ms max=1.00s  (simulated time)
      { store:S042 }....: avg=505.00ms p(50)=500.17ms p(95)=950.01ms p(99)=990.38ms max=1.00s  (simulated time)
    grab_failed.........: 1.50% 3 out of 200
    sold................: 150   1.50/s
    reservations_held...: 12    max=40

    STOCK HOLDER
    stock_queue_wait....: avg=50.00µs  p(50)=40.03µs  p(95)=80.00µs  p(99)=80.00µs  max=80.00µs  (simulated time)

    ENGINE
    events..............: 1204332
    event_hash..........: 85407659e5146034
";
        let text = render(&summary());
        assert_eq!(text, golden, "\n{text}");
    }

    #[test]
    fn the_marks_follow_the_verdicts() {
        let mut s = summary();
        assert_eq!(s.thresholds.iter().filter(|t| t.passed).count(), 1, "grab_failed's 1.5% is below 2%");
        for t in &mut s.thresholds {
            t.passed = true;
        }
        s.invariants.clear();
        s.sections.clear();
        let text = render(&s);
        assert!(!text.contains('✗') && text.matches('✓').count() == 5, "{text}");
        assert!(!text.contains("INVARIANTS") && !text.contains("TOTAL RESULTS"), "{text}");
        assert_eq!(render(&LoadSummary::default()), "");
    }
}
