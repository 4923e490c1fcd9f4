//! `report.html` of a load test ([`write_load_report`]): a flash sale under load on one
//! page, as Gatling's report shows a simulation, in the style of the run and chain reports
//! (inline CSS, charts as inline SVG, no script, nothing fetched).
//!
//! Top to bottom: the test's identity (sale, protocol, stores, seed; latencies are
//! simulated time); the thresholds with ✓ or ✗ and what each observed, and the
//! invariants; headline cards; then the charts, second by second ([`PerSecond`]): shoppers
//! started against the executors' target rate, grab latency percentiles, sell-through
//! (units taken and sold against the quota over time, and each store's units against its
//! store quota), reservations outstanding with those expiring and paid, and timeouts with
//! what followed them (a retry, or giving up). Every caption is computed from the data.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use storetwin_actors::chain::flash::desk::metric;
use storetwin_actors::load::metrics::{Metric, Percentile, Registry, Tags, TrendStat};
use storetwin_actors::load::threshold::{Aggregation, Bound, parse_condition};
use storetwin_actors::load::{LoadSpec, exit_code};
use storetwin_engine::{SimDuration, SimTime};
use storetwin_eventlog::atomic::write_atomic;

use super::charts::{
    self, ACCENT, AXIS, Area, BAD, GOOD, GRID, INK, Key, MUTED, SENSED, clock, grouped, nice_max, text,
};
use super::{Card, FULL, HALF, Tone, esc, figure, page_end, page_start, write_cards};
use crate::Result;
use crate::load::{Latency, LoadSummary, PerSecond, observed_text};

/// The load test a page is about, as the caller ran it.
#[derive(Clone, Debug)]
pub struct LoadTest<'a> {
    /// The file as given on the command line.
    pub scenario: &'a str,
    /// Fingerprint of the merged file and the store scenarios it names.
    pub scenario_hash: &'a str,
    pub seed: u64,
    pub threads: usize,
    /// Clock time of the run's start (the chain's opening), in seconds after midnight.
    pub open_at_s: u32,
    /// The run's end, from its start.
    pub end: SimTime,
    pub events: u64,
    pub event_hash: String,
    pub wall_s: f64,
    pub load: &'a LoadSpec,
}

/// The flash sale and what became of it, chain-wide.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SaleFigures {
    pub name: String,
    pub protocol: String,
    /// When the sale opens, from the run's start.
    pub start: SimTime,
    pub quota: u32,
    /// Time from the start to the last unit taken, if it sold out.
    pub sellout: Option<SimDuration>,
    pub arrived: u64,
    pub dropped: u64,
    pub grabs: u64,
    /// Grabs that got a unit at once, and units offered from the waitlist.
    pub got: u64,
    pub offered: u64,
    pub waitlisted: u64,
    pub retries: u64,
    pub timeouts: u64,
    /// Grabs that got no answer after every retry.
    pub failed: u64,
    pub sold: u64,
    /// Units still reserved (neither paid nor expired) at the end.
    pub reserved: u64,
    pub expired: u64,
    /// The most units taken (sold + reserved) at once.
    pub peak_taken: u64,
    /// The stock holder: share of the run its servers were busy, and its longest queue.
    pub holder_utilisation: f64,
    pub holder_max_queue: u64,
}

/// One store's share of the sale at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreTake {
    pub name: String,
    pub sold: u32,
    pub reserved: u32,
    pub quota: u32,
}

impl StoreTake {
    fn taken(&self) -> u32 {
        self.sold + self.reserved
    }
}

/// Writes the page of a load test to `path` (atomically): `summary` gives the thresholds'
/// verdicts and the invariants, `registry` the run's merged metrics (for the trend
/// statistics of the cards), `seconds` the series over time.
pub fn write_load_report(
    path: &Path,
    test: &LoadTest<'_>,
    sale: &SaleFigures,
    stores: &[StoreTake],
    summary: &LoadSummary,
    registry: &Registry,
    seconds: &PerSecond,
) -> Result<()> {
    let started = std::time::Instant::now();
    let html = render(test, sale, stores, summary, registry, seconds)?;
    write_atomic(path, |w| w.write_all(html.as_bytes()))?;
    tracing::info!(path = %path.display(), bytes = html.len(), ms = started.elapsed().as_secs_f64() * 1e3, "load report written");
    Ok(())
}

/// Nanoseconds of simulated time as the page writes them: "140 µs", "219 ms", "7.61 s".
fn duration_text(ns: f64) -> String {
    let three = |v: f64| {
        if v >= 100.0 {
            grouped(v, 0)
        } else if v >= 10.0 {
            grouped(v, 1)
        } else {
            grouped(v, 2)
        }
    };
    if ns >= 1e9 {
        format!("{} s", three(ns / 1e9))
    } else if ns >= 1e6 {
        format!("{} ms", three(ns / 1e6))
    } else {
        format!("{} \u{b5}s", three(ns / 1e3))
    }
}

fn pct(v: f64) -> String {
    format!("{}%", grouped(100.0 * v, 1))
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// A trend statistic of every series of `name`, in nanoseconds.
fn trend_stat(registry: &Registry, name: &str, stat: TrendStat) -> Option<f64> {
    match registry.aggregate(name, &Tags::new())? {
        Metric::Trend(t) => t.stat(stat),
        _ => None,
    }
}

fn render(
    test: &LoadTest<'_>,
    sale: &SaleFigures,
    stores: &[StoreTake],
    summary: &LoadSummary,
    registry: &Registry,
    seconds: &PerSecond,
) -> Result<String> {
    let open_h = f64::from(test.open_at_s) / 3600.0;
    let close_h = open_h + test.end.as_secs_f64() / 3600.0;
    let mut page = String::with_capacity(1 << 19);
    let p = &mut page;
    page_start(p, &format!("{} \u{2014} load test report", sale.name))?;
    write!(
        p,
        r#"<header>
<p class="eyebrow">storetwin load test report</p>
<h1>Flash sale {name}</h1>
<p class="range">{open} &rarr; {close} <span>&middot; {minutes} min simulated &middot; the sale opens at {start} &middot; {stores} stores and the central platform</span></p>
<dl class="meta">
<div><dt>Scenario</dt><dd><code>{scenario}</code></dd></div>
<div><dt>Scenario hash</dt><dd><code>{hash}</code></dd></div>
<div><dt>Protocol</dt><dd><code>{protocol}</code></dd></div>
<div><dt>Quota</dt><dd>{quota} units</dd></div>
<div><dt>Load scenarios</dt><dd>{scenarios}</dd></div>
<div><dt>Seed</dt><dd><code>{seed}</code></dd></div>
<div><dt>Event hash</dt><dd><code>{event_hash}</code></dd></div>
<div><dt>Events</dt><dd>{events}</dd></div>
<div><dt>Wall</dt><dd>{wall} s on {threads} thread(s)</dd></div>
<div><dt>storetwin</dt><dd>{version}</dd></div>
</dl>
<p class="note">Latencies are simulated time: what the shoppers would wait in the modelled system, not how long this machine took.</p>
</header>
"#,
        name = esc(&sale.name),
        open = clock(open_h),
        close = clock(close_h),
        minutes = grouped(test.end.as_secs_f64() / 60.0, 1),
        start = clock(open_h + sale.start.as_secs_f64() / 3600.0),
        stores = stores.len(),
        scenario = esc(test.scenario),
        hash = esc(test.scenario_hash),
        protocol = esc(&sale.protocol),
        quota = grouped(f64::from(sale.quota), 0),
        scenarios = esc(&test.load.scenarios.keys().cloned().collect::<Vec<_>>().join(", ")),
        seed = test.seed,
        event_hash = esc(&test.event_hash),
        events = grouped(test.events as f64, 0),
        wall = grouped(test.wall_s, 2),
        threads = test.threads,
        version = esc(env!("CARGO_PKG_VERSION")),
    )?;
    thresholds_section(p, summary)?;
    cards(p, sale, seconds, summary, registry)?;
    // Each chart spans what it shows: the load, the grabs, or the units and reservations.
    let s = seconds;
    let outstanding = s.outstanding();
    let open = test.open_at_s;
    let load = Span::over(s, open, |i| s.shoppers[i] > 0 || s.dropped[i] > 0 || s.target[i] > 0.0);
    let grabs = Span::over(s, open, |i| s.answered[i] > 0 || s.timeouts[i] > 0);
    let units = Span::over(s, open, |i| s.made[i] > 0 || s.expired[i] > 0 || s.paid[i] > 0 || outstanding[i] > 0);
    arrivals_section(p, s, &load)?;
    latency_section(p, s, &grabs, summary)?;
    sell_through_section(p, s, &units, sale, stores, open)?;
    reservations_section(p, s, &units)?;
    retries_section(p, s, &grabs, sale)?;
    page_end(
        p,
        &format!(
            r#"Written by storetwin {version} from <code>{scenario}</code> (scenario hash <code>{hash}</code>, seed <code>{seed}</code>). The same file and seed give the same figures on any machine and any number of threads: event hash <code>{event_hash}</code>. <code>timeseries.csv</code> has every series of these charts second by second; <code>summary.json</code> has the totals and each store's figures."#,
            version = esc(env!("CARGO_PKG_VERSION")),
            scenario = esc(test.scenario),
            hash = esc(test.scenario_hash),
            seed = test.seed,
            event_hash = esc(&test.event_hash),
        ),
    )?;
    Ok(page)
}

/// The thresholds as a table (✓ or ✗, the metric, the threshold, what it observed), the
/// exit code they give, and the invariants.
fn thresholds_section(p: &mut String, summary: &LoadSummary) -> Result<()> {
    let held = summary.invariants.iter().all(|i| i.held);
    let code = exit_code(held, &summary.thresholds);
    let crossed = summary.thresholds.iter().filter(|t| !t.passed).count();
    let lede = match (summary.thresholds.len(), crossed) {
        (0, _) => format!("The file sets no thresholds; exit code {code}."),
        (n, 0) => format!("All {n} thresholds passed: exit code {code}."),
        (n, c) => format!("{c} of {n} thresholds were crossed: exit code {code}."),
    };
    write!(
        p,
        r#"<section id="thresholds">
<h2>Thresholds</h2>
<p class="lede">{} Each is judged on the whole run at its end, as k6 does (those with abort_on_fail also every 2 s of simulated time during it, and stop the run when they fail); the invariants are checked in every run whatever the thresholds say.</p>
"#,
        esc(&lede)
    )?;
    if !summary.thresholds.is_empty() {
        p.push_str(
            "<div class=\"table-wrap\"><table id=\"threshold-table\" class=\"verdicts\">\n<thead><tr><th></th><th class=\"t\">Metric</th><th class=\"t\">Threshold</th><th class=\"t\">Observed</th><th class=\"t\">Verdict</th></tr></thead>\n<tbody>\n",
        );
        for t in &summary.thresholds {
            let (mark, class, verdict) =
                if t.passed { ("\u{2713}", "good", "passed") } else { ("\u{2717}", "bad", "crossed") };
            let abort = if t.abort_on_fail { r#"<span class="tag">abort on fail</span>"# } else { "" };
            writeln!(
                p,
                r#"<tr><td class="mark {class}">{mark}</td><td class="t"><code>{}</code></td><td class="t"><code>{}</code>{abort}</td><td class="t">{}</td><td class="t {class}">{verdict}</td></tr>"#,
                esc(&t.metric),
                esc(&t.threshold),
                esc(&observed_text(t)),
            )?;
        }
        p.push_str("</tbody></table></div>\n");
    }
    p.push_str("<h3>Invariants</h3>\n<ul class=\"invariants\">\n");
    for i in &summary.invariants {
        let (mark, class) = if i.held { ("\u{2713}", "good") } else { ("\u{2717}", "bad") };
        let detail = i.detail.as_ref().map_or(String::new(), |d| format!(": {}", esc(d)));
        writeln!(p, r#"<li><span class="mark {class}">{mark}</span> {}{detail}</li>"#, esc(&i.name))?;
    }
    p.push_str("</ul>\n</section>\n");
    Ok(())
}

/// The tone of a card whose figure the thresholds on `metric` with `aggregation` judge.
fn judged(summary: &LoadSummary, metric: &str, aggregation: Aggregation) -> Option<Tone> {
    let mut judged =
        summary.thresholds.iter().filter(|t| t.metric == metric && t.aggregation == aggregation).peekable();
    judged.peek()?;
    Some(if judged.all(|t| t.passed) { Tone::Good } else { Tone::Bad })
}

/// When every unit was taken, after the start.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sellout {
    after: SimDuration,
    /// The holder's own time; else the end of the first second by which the stores' books
    /// had every unit taken (when the stores hold the quota, as under demarcation, the
    /// centre's books never run out).
    exact: bool,
}

impl Sellout {
    fn of(sale: &SaleFigures, s: &PerSecond) -> Option<Sellout> {
        if let Some(after) = sale.sellout {
            return Some(Sellout { after, exact: true });
        }
        let second = s.taken().iter().position(|t| *t >= i64::from(sale.quota) && sale.quota > 0)?;
        let end = SimTime::from_secs(second as u64 + 1);
        Some(Sellout { after: end.saturating_since(sale.start), exact: false })
    }

    /// "8.7 s", or "within 8 s" to the second.
    fn text(self) -> String {
        let secs = self.after.as_secs_f64();
        if self.exact { format!("{} s", grouped(secs, 1)) } else { format!("within {} s", grouped(secs, 0)) }
    }
}

/// The most units taken at once: the holder's count, or the stores' books at the end of a
/// second if they saw more (under demarcation the stores hold the quota).
fn peak_taken(sale: &SaleFigures, s: &PerSecond) -> u64 {
    s.taken().iter().fold(sale.peak_taken, |m, t| m.max((*t).max(0) as u64))
}

fn card(label: &str, value: String, sub: String, tone: Option<Tone>) -> Card {
    Card { label: label.to_string(), value, ci: None, sub, tone, verdict: None }
}

fn cards(
    p: &mut String,
    sale: &SaleFigures,
    seconds: &PerSecond,
    summary: &LoadSummary,
    registry: &Registry,
) -> Result<()> {
    let latency = |stat| trend_stat(registry, metric::GRAB_LATENCY, stat);
    let p95 = latency(TrendStat::P(Percentile::whole(95)));
    let p99 = latency(TrendStat::P(Percentile::whole(99)));
    let queue_p99 = trend_stat(registry, metric::STOCK_QUEUE_WAIT, TrendStat::P(Percentile::whole(99)));
    let quota = f64::from(sale.quota);
    let sellout = match Sellout::of(sale, seconds) {
        Some(d) => card(
            "Sell-out",
            d.text(),
            if d.exact {
                format!("after the start: all {} units taken", grouped(quota, 0))
            } else {
                format!("after the start: all {} units taken, by the stores' books", grouped(quota, 0))
            },
            judged(summary, metric::SELLOUT_TIME, Aggregation::Max),
        ),
        None => card(
            "Sell-out",
            "Not sold out".into(),
            format!(
                "at most {} of {} units taken at once",
                grouped(peak_taken(sale, seconds) as f64, 0),
                grouped(quota, 0)
            ),
            judged(summary, metric::SELLOUT_TIME, Aggregation::Max),
        ),
    };
    let reservations = sale.sold + sale.reserved + sale.expired;
    let cards = vec![
        card(
            "Grabs",
            grouped(sale.grabs as f64, 0),
            format!(
                "by {} shoppers \u{b7} {} got a unit",
                grouped(sale.arrived as f64, 0),
                grouped((sale.got + sale.offered) as f64, 0)
            ),
            None,
        ),
        card(
            "Sold / quota",
            format!("{} / {}", grouped(sale.sold as f64, 0), grouped(quota, 0)),
            format!(
                "{} sold \u{b7} {} still reserved at the end",
                pct(ratio(sale.sold as f64, quota)),
                grouped(sale.reserved as f64, 0)
            ),
            None,
        ),
        sellout,
        card(
            "p95 grab latency",
            p95.map_or("no grabs".into(), duration_text),
            format!("p99 {} \u{b7} simulated time", p99.map_or("-".into(), duration_text)),
            judged(summary, metric::GRAB_LATENCY, Aggregation::P(Percentile::whole(95))),
        ),
        card(
            "Dropped shoppers",
            grouped(sale.dropped as f64, 0),
            format!(
                "{} of {} arrivals (max_shoppers in flight)",
                pct(ratio(sale.dropped as f64, (sale.arrived + sale.dropped) as f64)),
                grouped((sale.arrived + sale.dropped) as f64, 0)
            ),
            if sale.dropped > 0 { Some(Tone::Bad) } else { None },
        ),
        card(
            "Retries",
            grouped(sale.retries as f64, 0),
            format!(
                "after {} timeouts \u{b7} {} grabs failed",
                grouped(sale.timeouts as f64, 0),
                grouped(sale.failed as f64, 0)
            ),
            None,
        ),
        card(
            "Expired unpaid",
            grouped(sale.expired as f64, 0),
            format!(
                "{} of {} reservations \u{b7} {} offered from the waitlist",
                pct(ratio(sale.expired as f64, reservations as f64)),
                grouped(reservations as f64, 0),
                grouped(sale.offered as f64, 0)
            ),
            judged(summary, metric::RESERVATION_EXPIRED, Aggregation::Rate),
        ),
        card(
            "Stock holder p99 wait",
            queue_p99.map_or("no calls".into(), duration_text),
            match queue_p99 {
                Some(_) => format!(
                    "in its queue \u{b7} busy {} \u{b7} longest queue {}",
                    pct(sale.holder_utilisation),
                    grouped(sale.holder_max_queue as f64, 0)
                ),
                None if sale.protocol == "demarcation" => {
                    "the stores hold the quota: the centre's holder grants it, the stores' own serve the grabs"
                        .to_string()
                }
                None => "the centre's holder served no grab".to_string(),
            },
            judged(summary, metric::STOCK_QUEUE_WAIT, Aggregation::P(Percentile::whole(99))),
        ),
    ];
    write_cards(p, &cards)?;
    Ok(())
}

/// The stretch of the run a chart shows: from a little before the first second in which
/// what it shows happened to a little after the last (at least a minute).
#[derive(Clone, Copy, Debug)]
struct Span {
    /// Seconds from the run's start.
    from: f64,
    to: f64,
    open_s: f64,
}

impl Span {
    fn over(s: &PerSecond, open_at_s: u32, busy: impl Fn(usize) -> bool) -> Span {
        let n = s.len().max(1) as f64;
        let first = (0..s.len()).find(|&i| busy(i));
        let last = (0..s.len()).rev().find(|&i| busy(i));
        let (first, last) = match (first, last) {
            (Some(f), Some(l)) => (f as f64, l as f64 + 1.0),
            _ => (0.0, n),
        };
        let pad = ((last - first) * 0.015).max(2.0);
        let (mut from, mut to) = ((first - pad).max(0.0), (last + pad).min(n));
        if to - from < 60.0 {
            to = (from + 60.0).min(n);
            from = (to - 60.0).max(0.0);
        }
        Span { from, to, open_s: f64::from(open_at_s) }
    }

    /// Minutes of the day at `s` seconds from the run's start (the charts' x).
    fn x(&self, s: f64) -> f64 {
        (self.open_s + s) / 60.0
    }

    fn range(&self) -> Range<f64> {
        self.x(self.from)..self.x(self.to)
    }

    /// The seconds inside the span.
    fn seconds(&self) -> Range<usize> {
        (self.from.floor() as usize)..(self.to.ceil() as usize)
    }

    /// A tick at `m` minutes of the day: "08:10", or "08:10:30" between whole minutes.
    fn label(m: f64) -> String {
        let s = (m * 60.0).round() as i64;
        let (h, mi, se) = (s.div_euclid(3600).rem_euclid(24), s.div_euclid(60).rem_euclid(60), s.rem_euclid(60));
        if se == 0 { format!("{h:02}:{mi:02}") } else { format!("{h:02}:{mi:02}:{se:02}") }
    }

    /// The points `(x, v)` of a per-second series, each at the middle of its second.
    fn points<T: Copy>(&self, values: &[T], f: impl Fn(T) -> f64) -> Vec<(f64, f64)> {
        self.seconds().filter(|&i| i < values.len()).map(|i| (self.x(i as f64 + 0.5), f(values[i]))).collect()
    }
}

type SpanChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Axes over `span`: the clock across (without labels if `x_labels` is false), `y` up.
fn span_axes<'a, 'b>(
    area: &'a Area<'b>,
    span: &Span,
    y: Range<f64>,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
    x_labels: bool,
) -> Result<SpanChart<'a, 'b>> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(8)
        .margin_right(18)
        .x_label_area_size(if x_labels { 30 } else { 0 })
        .y_label_area_size(64)
        .build_cartesian_2d(span.range(), y)?;
    let ticks = (area.dim_in_pixel().0 / 110).max(2) as usize;
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .x_labels(if x_labels { ticks } else { 0 })
        .y_labels(6)
        .x_label_formatter(&|m| Span::label(*m))
        .y_label_formatter(y_fmt)
        .label_style(text(12.0, &MUTED))
        .axis_desc_style(text(12.0, &MUTED))
        .y_desc(y_desc);
    mesh.draw()?;
    Ok(chart)
}

/// A sentence in the middle of an empty chart.
fn nothing(area: &Area<'_>, what: &str) -> Result<()> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        what.to_string(),
        (w as i32 / 2 + 32, h as i32 / 2),
        text(14.0, &MUTED).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// A horizontal dashed line across the chart at `y`, labelled at its right end.
fn level_line(chart: &mut SpanChart<'_, '_>, span: &Span, y: f64, colour: RGBColor, label: &str) -> Result<()> {
    let Range { start, end } = span.range();
    chart.draw_series(DashedLineSeries::new([(start, y), (end, y)], 6, 4, colour.stroke_width(2)))?;
    chart.plotting_area().draw(
        &(EmptyElement::at((end, y))
            + Text::new(label.to_string(), (-4, -4), text(12.0, &colour).pos(Pos::new(HPos::Right, VPos::Bottom)))),
    )?;
    Ok(())
}

fn largest(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, f64::max)
}

/// Shoppers started per second against the executors' target, with the drops.
fn arrivals_section(p: &mut String, s: &PerSecond, span: &Span) -> Result<()> {
    let started = span.points(&s.shoppers, |v| v as f64);
    let target = span.points(&s.target, |v| v);
    let dropped = span.points(&s.dropped, |v| v as f64);
    let any_dropped = s.dropped.iter().any(|d| *d > 0);
    let max = largest(started.iter().chain(&target).chain(&dropped).map(|p| p.1));
    let mut keys = vec![
        Key { label: "started (observed)".into(), colour: ACCENT },
        Key { label: "target of the executors".into(), colour: INK },
    ];
    if any_dropped {
        keys.push(Key { label: "dropped (max_shoppers in flight)".into(), colour: BAD });
    }
    let svg = charts::svg(FULL, |root| {
        root.fill(&WHITE)?;
        charts::draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let mut chart = span_axes(&area, span, 0.0..nice_max(max), "shoppers per second", &|v| grouped(*v, 0), true)?;
        if max <= 0.0 {
            return nothing(&area, "no shopper arrived");
        }
        chart.draw_series(
            AreaSeries::new(started.iter().copied(), 0.0, ACCENT.mix(0.16)).border_style(ACCENT.stroke_width(1)),
        )?;
        if any_dropped {
            chart.draw_series(
                AreaSeries::new(dropped.iter().copied(), 0.0, BAD.mix(0.3)).border_style(BAD.stroke_width(1)),
            )?;
        }
        chart.draw_series(DashedLineSeries::new(target.iter().copied(), 6, 3, INK.stroke_width(2)))?;
        Ok(())
    })?;
    let total: u64 = s.shoppers.iter().sum();
    let expected: f64 = s.target.iter().sum();
    let peak = s.shoppers.iter().enumerate().max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)));
    let mut lede = format!(
        "Shoppers who started a journey each second, summed over the stores and the load scenarios, against the rate the scenarios' executors aim at (open models: arrivals come at that rate whatever the system does). {} started against {} expected",
        grouped(total as f64, 0),
        grouped(expected, 0)
    );
    if let Some((i, v)) = peak.filter(|(_, v)| **v > 0) {
        write!(lede, "; the busiest second, {}, had {}", Span::label(span.x(i as f64)), grouped(*v as f64, 0))?;
    }
    let dropped_total: u64 = s.dropped.iter().sum();
    if dropped_total > 0 {
        write!(
            lede,
            ". {} arrivals were dropped because max_shoppers were in flight",
            grouped(dropped_total as f64, 0)
        )?;
    }
    lede.push('.');
    section(
        p,
        "arrivals",
        "Arrival rate",
        &lede,
        &figure("chart-arrival-rate", "Arrival rate against target", "shoppers per second", &svg),
    )?;
    Ok(())
}

/// A section of the page: its heading, its lede (escaped here) and its figures.
fn section(p: &mut String, id: &str, title: &str, lede: &str, body: &str) -> std::fmt::Result {
    write!(p, "<section id=\"{id}\">\n<h2>{title}</h2>\n<p class=\"lede\">{}</p>\n{body}\n</section>\n", esc(lede))
}

/// A threshold on the whole run's grab latency (no tag filter), as a level to draw.
fn latency_thresholds(summary: &LoadSummary) -> Vec<(f64, String, bool)> {
    summary
        .thresholds
        .iter()
        .filter(|t| t.metric == metric::GRAB_LATENCY)
        .filter_map(|t| {
            let c = parse_condition(&t.threshold).ok()?;
            if !c.aggregation.is_time() {
                return None;
            }
            let ms = match c.bound {
                Bound::Duration(d) => d.as_nanos() as f64 / 1e6,
                Bound::Number(n) => n,
            };
            Some((ms, t.threshold.clone(), t.passed))
        })
        .collect()
}

/// One line of the latency chart.
struct Trace {
    label: &'static str,
    colour: RGBColor,
    width: u32,
    points: Vec<(f64, f64)>,
}

/// p50, p95, p99 and max of the grabs answered each second, on a log scale.
fn latency_section(p: &mut String, s: &PerSecond, span: &Span, summary: &LoadSummary) -> Result<()> {
    let ms = |ns: u64| (ns as f64 / 1e6).max(1e-3);
    let trace = |label, colour, width, f: fn(Latency) -> u64| Trace {
        label,
        colour,
        width,
        points: line_points(span, &s.latency, |l| ms(f(l))),
    };
    // Drawn in this order (max beneath), listed in the reverse.
    let series = [
        trace("max", RGBColor(0xa3, 0xa9, 0xb3), 1, |l| l.max),
        trace("p99", RGBColor(0x1e, 0x3a, 0x8a), 2, |l| l.p99),
        trace("p95", ACCENT, 2, |l| l.p95),
        trace("p50", RGBColor(0x60, 0xa5, 0xfa), 2, |l| l.p50),
    ];
    let thresholds = latency_thresholds(summary);
    let values = series.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let (lo, hi) = values.clone().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let hi = thresholds.iter().map(|t| t.0).fold(hi, f64::max);
    let any = hi > 0.0 && lo.is_finite();
    // Whole decades, so that every label is a round number.
    let (lo, hi) =
        if any { (10f64.powf(lo.log10().floor()), 10f64.powf((hi * 1.05).log10().ceil())) } else { (1.0, 1000.0) };
    let keys: Vec<Key> = series.iter().rev().map(|l| Key { label: l.label.into(), colour: l.colour }).collect();
    let svg = charts::svg(FULL, |root| {
        root.fill(&WHITE)?;
        charts::draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let mut chart = ChartBuilder::on(&area)
            .margin_top(8)
            .margin_right(18)
            .x_label_area_size(30)
            .y_label_area_size(64)
            .build_cartesian_2d(span.range(), (lo..hi).log_scale())?;
        let ticks = (FULL.0 / 110) as usize;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .x_labels(ticks)
            .y_labels(8)
            .x_label_formatter(&|m| Span::label(*m))
            .y_label_formatter(&|v| latency_label(*v))
            .label_style(text(12.0, &MUTED))
            .axis_desc_style(text(12.0, &MUTED))
            .y_desc("simulated time (log scale)")
            .draw()?;
        if !any {
            return nothing(&area, "no grab was answered");
        }
        for t in &series {
            for run in runs(&t.points) {
                chart.draw_series(LineSeries::new(run.iter().copied(), t.colour.stroke_width(t.width)))?;
            }
        }
        let Range { start, end } = span.range();
        for (ms, label, passed) in &thresholds {
            let colour = if *passed { GOOD } else { BAD };
            chart.draw_series(DashedLineSeries::new([(start, *ms), (end, *ms)], 6, 4, colour.stroke_width(1)))?;
            // On a white backing, so that the lines beneath do not hide it.
            let label = format!("threshold {label}");
            let w = charts::text_width(&label, 12.0);
            chart.plotting_area().draw(
                &(EmptyElement::at((end, *ms))
                    + Rectangle::new([(-w - 10, -19), (-1, -2)], WHITE.mix(0.88).filled())
                    + Text::new(label, (-5, -4), text(12.0, &colour).pos(Pos::new(HPos::Right, VPos::Bottom)))),
            )?;
        }
        Ok(())
    })?;
    // The slowest second among those with enough answers for a p95 to mean something.
    let busiest = s.answered.iter().copied().max().unwrap_or(0);
    let enough = (busiest / 100).max(20);
    let worst = s
        .latency
        .iter()
        .enumerate()
        .filter(|(i, _)| s.answered[*i] >= enough)
        .filter_map(|(i, l)| l.map(|l| (i, l)))
        .max_by_key(|(i, l)| (l.p95, std::cmp::Reverse(*i)));
    let answered: u64 = s.answered.iter().sum();
    let mut lede = format!(
        "Latency of the {} grabs answered (or given up), from the first call to the final answer, by the second the answer came, all stores together; simulated time, on a log scale. ",
        grouped(answered as f64, 0)
    );
    if let Some((i, l)) = worst {
        write!(
            lede,
            "Of the seconds with at least {} answers, the slowest, {}, had p95 {} and p99 {} ({} answers). ",
            grouped(enough as f64, 0),
            Span::label(span.x(i as f64)),
            duration_text(l.p95 as f64),
            duration_text(l.p99 as f64),
            grouped(s.answered[i] as f64, 0)
        )?;
    }
    if !thresholds.is_empty() {
        lede.push_str(
            "Dashed: the thresholds on grab_latency, which judge the whole run's percentile, not each second's.",
        );
    }
    write!(
        p,
        r#"<section id="latency">
<h2>Grab latency</h2>
<p class="lede">{}</p>
{}
</section>
"#,
        esc(lede.trim_end()),
        figure(
            "chart-latency-percentiles",
            "Grab latency percentiles over time",
            "p50, p95, p99 and max per second",
            &svg
        )
    )?;
    Ok(())
}

/// A latency axis label in milliseconds: "0.1 ms", "10 ms", "1 s".
fn latency_label(ms: f64) -> String {
    let ns = ms * 1e6;
    // Only 1, 2 and 5 times a power of ten are labelled (the log axis offers others).
    let lead = ms / 10f64.powf(ms.log10().floor());
    if ![1.0, 2.0, 5.0].iter().any(|m| (lead - m).abs() < 1e-6) {
        return String::new();
    }
    if ns >= 1e9 {
        format!("{} s", grouped(ns / 1e9, 0))
    } else if ns >= 1e6 {
        format!("{} ms", grouped(ms, 0))
    } else {
        format!("{} \u{b5}s", grouped(ns / 1e3, 0))
    }
}

/// The points of an optional per-second series (a gap where it has no value).
fn line_points<T: Copy>(span: &Span, values: &[Option<T>], f: impl Fn(T) -> f64) -> Vec<(f64, f64)> {
    span.seconds()
        .filter(|&i| i < values.len())
        .map(|i| (span.x(i as f64 + 0.5), values[i].map_or(f64::NAN, &f)))
        .collect()
}

/// The stretches of `points` without a gap (NaN), each drawn as one line.
fn runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for p in points {
        if p.1.is_nan() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(*p);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Units taken and sold against the quota over time, and each store's units at the end.
fn sell_through_section(
    p: &mut String,
    s: &PerSecond,
    span: &Span,
    sale: &SaleFigures,
    stores: &[StoreTake],
    open_at_s: u32,
) -> Result<()> {
    let quota = f64::from(sale.quota);
    let taken = span.points(&s.taken(), |v| v as f64);
    let sold = span.points(&s.sold(), |v| v as f64);
    let wide = stores.len() > 12;
    let size = if wide { FULL } else { HALF };
    let keys = vec![
        Key { label: "taken (sold + reserved)".into(), colour: ACCENT },
        Key { label: "sold (paid)".into(), colour: GOOD },
        Key { label: "quota".into(), colour: INK },
    ];
    let sellout = Sellout::of(sale, s);
    let over_time = charts::svg(size, |root| {
        root.fill(&WHITE)?;
        charts::draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let top = largest(taken.iter().map(|p| p.1)).max(quota);
        let mut chart = span_axes(&area, span, 0.0..nice_max(top), "units", &|v| grouped(*v, 0), true)?;
        chart.draw_series(
            AreaSeries::new(taken.iter().copied(), 0.0, ACCENT.mix(0.12)).border_style(ACCENT.stroke_width(2)),
        )?;
        chart.draw_series(LineSeries::new(sold.iter().copied(), GOOD.stroke_width(2)))?;
        level_line(&mut chart, span, quota, INK, &format!("quota {}", grouped(quota, 0)))?;
        if let Some(d) = sellout {
            let x = span.x(sale.start.saturating_add(d.after).as_secs_f64());
            let label = format!("sold out {} after the start", d.text());
            chart.plotting_area().draw(
                &(EmptyElement::at((x, quota))
                    + Circle::new((0, 0), 4, ACCENT.filled())
                    + Circle::new((0, 0), 4, WHITE.stroke_width(1))
                    + Text::new(label, (8, 6), text(12.0, &INK).pos(Pos::new(HPos::Left, VPos::Top)))),
            )?;
        }
        Ok(())
    })?;
    let per_store = store_columns(stores, size)?;
    let mut ranked: Vec<&StoreTake> = stores.iter().collect();
    ranked.sort_by(|a, b| b.taken().cmp(&a.taken()).then_with(|| a.name.cmp(&b.name)));
    let mut lede = format!(
        "Chain-wide, units taken (sold or reserved) and units sold, second by second against the quota of {}; units taken fall when reservations expire unpaid and rise again when the waitlist takes them. ",
        grouped(quota, 0)
    );
    let opened = clock((f64::from(open_at_s) + sale.start.as_secs_f64()) / 3600.0);
    match sellout {
        Some(d) if d.exact => write!(lede, "Every unit was taken {} after the sale opened at {opened}. ", d.text())?,
        Some(d) => write!(
            lede,
            "Every unit was taken {} after the sale opened at {opened}, by the stores' books (the stores hold the quota; to the second). ",
            d.text()
        )?,
        None => write!(
            lede,
            "The sale did not sell out: at most {} units were taken at once. ",
            grouped(peak_taken(sale, s) as f64, 0)
        )?,
    }
    write!(
        lede,
        "At the end {} units were sold and {} still reserved.",
        grouped(sale.sold as f64, 0),
        grouped(sale.reserved as f64, 0)
    )?;
    let alike = ranked.windows(2).all(|w| (w[0].taken(), w[0].quota) == (w[1].taken(), w[1].quota));
    let store_note = match (ranked.first(), ranked.last()) {
        (Some(one), _) if alike && ranked.len() > 1 => {
            format!("against each store's quota (grey); every store took {} of {}", one.taken(), one.quota)
        }
        (Some(best), Some(worst)) if ranked.len() > 1 => {
            let median = ranked[ranked.len() / 2];
            format!(
                "ranked, against each store's quota (grey); most {} ({} of {}), median {} ({}), least {} ({} of {})",
                best.name,
                best.taken(),
                best.quota,
                median.name,
                median.taken(),
                worst.name,
                worst.taken(),
                worst.quota
            )
        }
        _ => "against the store's quota (grey)".to_string(),
    };
    let figures = [
        figure("chart-sell-through", "Sell-through against the quota", "units taken and sold over time", &over_time),
        figure(
            "chart-store-sell-through",
            "Sell-through per store",
            &format!("sold + reserved at the end, {store_note}"),
            &per_store,
        ),
    ];
    let body = if wide { figures.join("\n") } else { format!("<div class=\"grid2\">\n{}\n</div>", figures.join("\n")) };
    section(p, "sell-through", "Sell-through", &lede, &body)?;
    Ok(())
}

/// Each store's units sold and reserved at the end against its quota, as columns ranked
/// by units taken: named when there is room, numbered by rank when there are many.
fn store_columns(stores: &[StoreTake], size: (u32, u32)) -> Result<String> {
    let mut ranked: Vec<&StoreTake> = stores.iter().collect();
    ranked.sort_by(|a, b| b.taken().cmp(&a.taken()).then_with(|| a.name.cmp(&b.name)));
    let n = ranked.len() as i32;
    let top = nice_max(ranked.iter().map(|s| f64::from(s.quota.max(s.taken()))).fold(1.0, f64::max));
    let named = ranked.iter().map(|s| charts::text_width(&s.name, 12.0) + 8).sum::<i32>() < size.0 as i32 - 90;
    let keys = vec![
        Key { label: "sold".into(), colour: ACCENT },
        Key { label: "reserved".into(), colour: SENSED },
        Key { label: "store quota not taken".into(), colour: RGBColor(0xe5, 0xe7, 0xeb) },
    ];
    charts::svg(size, |root| {
        root.fill(&WHITE)?;
        charts::draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let mut chart = ChartBuilder::on(&area)
            .margin_top(8)
            .margin_right(18)
            .x_label_area_size(if named { 28 } else { 40 })
            .y_label_area_size(64)
            .build_cartesian_2d((0..(n - 1).max(1)).into_segmented(), 0.0..top)?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) if named => ranked.get(*i as usize).map(|s| s.name.clone()).unwrap_or_default(),
            SegmentValue::CenterOf(i) if (*i + 1) % 10 == 0 || *i == 0 => format!("{}", i + 1),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .x_labels(ranked.len())
            .y_labels(5)
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v| grouped(*v, 0))
            .x_label_style(text(12.0, if named { &INK } else { &MUTED }))
            .y_label_style(text(12.0, &MUTED))
            .axis_desc_style(text(12.0, &MUTED))
            .x_desc(if named { "" } else { "stores ranked by units taken" })
            .y_desc("units")
            .draw()?;
        if ranked.is_empty() {
            return nothing(&area, "no store");
        }
        let band = (f64::from(size.0) - 82.0) / f64::from(n.max(1));
        let pad = ((band * 0.16).round() as u32).clamp(1, 24);
        let column = |i: i32, from: f64, to: f64, colour: RGBColor| {
            let mut r =
                Rectangle::new([(SegmentValue::Exact(i), from), (SegmentValue::Exact(i + 1), to)], colour.filled());
            r.set_margin(0, 0, pad, pad);
            r
        };
        let grey = RGBColor(0xe5, 0xe7, 0xeb);
        chart.draw_series(ranked.iter().enumerate().map(|(i, s)| column(i as i32, 0.0, f64::from(s.quota), grey)))?;
        chart.draw_series(ranked.iter().enumerate().map(|(i, s)| column(i as i32, 0.0, f64::from(s.sold), ACCENT)))?;
        chart.draw_series(
            ranked
                .iter()
                .enumerate()
                .filter(|(_, s)| s.reserved > 0)
                .map(|(i, s)| column(i as i32, f64::from(s.sold), f64::from(s.taken()), SENSED)),
        )?;
        if named {
            for (i, s) in ranked.iter().enumerate() {
                chart.plotting_area().draw(
                    &(EmptyElement::at((SegmentValue::CenterOf(i as i32), f64::from(s.quota.max(s.taken()))))
                        + Text::new(
                            format!("{} of {}", s.taken(), s.quota),
                            (0, -4),
                            text(11.0, &INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )),
                )?;
            }
        }
        Ok(())
    })
}

/// Reservations held over time (above) and those expiring unpaid each second (below), on
/// one clock.
fn reservations_section(p: &mut String, s: &PerSecond, span: &Span) -> Result<()> {
    let levels = s.outstanding();
    let outstanding = span.points(&levels, |v| v as f64);
    let keys = vec![
        Key { label: "outstanding (reserved, not paid)".into(), colour: ACCENT },
        Key { label: "expired unpaid per second".into(), colour: BAD },
    ];
    let expired_max = s.expired.iter().enumerate().max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)));
    let size = (FULL.0, 420);
    let svg = charts::svg(size, |root| {
        root.fill(&WHITE)?;
        charts::draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let (upper, lower) = area.split_vertically(214);
        let lower = lower.margin(14, 0, 0, 0);
        let top = largest(outstanding.iter().map(|p| p.1));
        let mut chart = span_axes(&upper, span, 0.0..nice_max(top), "outstanding", &|v| grouped(*v, 0), false)?;
        if top > 0.0 {
            chart.draw_series(
                AreaSeries::new(outstanding.iter().copied(), 0.0, ACCENT.mix(0.16))
                    .border_style(ACCENT.stroke_width(2)),
            )?;
        } else {
            nothing(&upper, "no reservation was made")?;
        }
        let flow = expired_max.map_or(0, |(_, v)| *v) as f64;
        let mut chart =
            span_axes(&lower, span, 0.0..nice_max(flow.max(4.0)), "expired per second", &|v| grouped(*v, 0), true)?;
        let width_s = second_bars(&mut chart, span, &s.expired, BAD.mix(0.8), size.0)?;
        match expired_max {
            Some((i, v)) if *v > 0 => {
                let right = (i as f64) > span.from + 0.7 * (span.to - span.from);
                let anchor = Pos::new(if right { HPos::Right } else { HPos::Left }, VPos::Top);
                chart.plotting_area().draw(
                    &(EmptyElement::at((span.x(i as f64 + width_s / 2.0), *v as f64))
                        + Text::new(
                            format!("{} at {}", grouped(*v as f64, 0), Span::label(span.x(i as f64))),
                            (if right { -6 } else { 6 }, 0),
                            text(12.0, &INK).pos(anchor),
                        )),
                )?;
            }
            _ => nothing(&lower, "no reservation expired")?,
        }
        Ok(())
    })?;
    let peak = levels.iter().enumerate().max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)));
    let mut lede = String::from(
        "Reservations held (a unit set aside for a shopper who has not paid yet) at the end of each second, chain-wide; below, those that expired unpaid each second and went back to the sale (to the waitlist first). The rest were paid: see units sold under Sell-through. ",
    );
    if let Some((i, v)) = peak.filter(|(_, v)| **v > 0) {
        write!(
            lede,
            "At most {} were outstanding at once ({}). ",
            grouped(*v as f64, 0),
            Span::label(span.x(i as f64 + 1.0))
        )?;
    }
    let sum = |v: &[u64]| grouped(v.iter().sum::<u64>() as f64, 0);
    write!(
        lede,
        "Of {} made, {} expired unpaid and {} were paid; {} were outstanding at the end.",
        sum(&s.made),
        sum(&s.expired),
        sum(&s.paid),
        grouped(levels.last().copied().unwrap_or(0) as f64, 0)
    )?;
    section(
        p,
        "reservations",
        "Reservations",
        &lede,
        &figure(
            "chart-reservations",
            "Reservations outstanding and expired",
            "outstanding at the end of each second, and expired per second",
            &svg,
        ),
    )?;
    Ok(())
}

/// Draws a bar per second of `values` (those above 0); a second is at least 2 pixels wide,
/// so that a lone second shows. Returns the bars' width in seconds.
fn second_bars(
    chart: &mut SpanChart<'_, '_>,
    span: &Span,
    values: &[u64],
    colour: RGBAColor,
    width_px: u32,
) -> Result<f64> {
    let plot_px = f64::from(width_px) - 82.0;
    let width_s = (2.0 * (span.to - span.from) / plot_px).max(1.0);
    chart.draw_series(span.seconds().filter(|&i| i < values.len() && values[i] > 0).map(|i| {
        let x0 = span.x(i as f64);
        Rectangle::new([(x0, 0.0), (span.x(i as f64 + width_s), values[i] as f64)], colour.filled())
    }))?;
    Ok(width_s)
}

/// Timeouts per second, split into those the client retried and those after which it gave
/// up (the grab failed).
fn retries_section(p: &mut String, s: &PerSecond, span: &Span, sale: &SaleFigures) -> Result<()> {
    let timeouts = span.points(&s.timeouts, |v| v as f64);
    let keys = vec![
        Key { label: "timed out, retried".into(), colour: SENSED },
        Key { label: "timed out, gave up (grab failed)".into(), colour: BAD },
    ];
    let svg = charts::svg(FULL, |root| {
        root.fill(&WHITE)?;
        charts::draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let max = largest(timeouts.iter().map(|p| p.1));
        let mut chart =
            span_axes(&area, span, 0.0..nice_max(max.max(4.0)), "calls per second", &|v| grouped(*v, 0), true)?;
        if max <= 0.0 {
            return nothing(&area, "no call timed out: every grab was answered in time");
        }
        second_bars(&mut chart, span, &s.timeouts, BAD.mix(0.85), FULL.0)?;
        second_bars(&mut chart, span, &s.retries, SENSED.mix(1.0), FULL.0)?;
        Ok(())
    })?;
    let lede = format!(
        "Calls of a grab that got no answer within the client's timeout, by the second the timeout fell: the client then retried (after a backoff, with the first call's idempotency key if it has one) or, out of retries, gave up. {} timeouts, {} retries, {} grabs failed.",
        grouped(sale.timeouts as f64, 0),
        grouped(sale.retries as f64, 0),
        grouped(sale.failed as f64, 0)
    );
    section(
        p,
        "retries",
        "Retries",
        &lede,
        &figure("chart-retries", "Retries and timeouts", "calls per second", &svg),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use storetwin_actors::load::MetricKind;
    use storetwin_actors::load::executor::{Executor, Journey, LoadScenario, RateStage};
    use storetwin_actors::load::threshold::{Threshold, Thresholds, parse_metric_key};

    use super::*;
    use crate::load::InvariantLine;

    const TITLES: [&str; 6] = [
        "Arrival rate against target",
        "Grab latency percentiles over time",
        "Sell-through against the quota",
        "Sell-through per store",
        "Reservations outstanding and expired",
        "Retries and timeouts",
    ];

    /// A small load test as a run would leave it: two stores, a ramp of grabs from 0 s to
    /// 20 s, a quota of 50 taken in the first seconds, some expiries, a few retries.
    fn fixture(stores: &[&str]) -> (LoadSpec, Registry, LoadSummary, SaleFigures, Vec<StoreTake>) {
        let duration = SimDuration::from_secs(60);
        let mut load = LoadSpec::default();
        load.scenarios.insert(
            "surge".into(),
            LoadScenario {
                executor: Executor::RampingArrivalRate {
                    start_rate: 0.0,
                    time_unit: SimDuration::from_secs(1),
                    stages: vec![RateStage { duration: SimDuration::from_secs(20), target: 40.0 }],
                },
                start_time: SimDuration::from_secs(5),
                max_shoppers: None,
                journey: Journey::GrabOnline,
                tags: BTreeMap::new(),
            },
        );
        let mut thresholds = Thresholds::new();
        let key = |k: &str| parse_metric_key(k).expect("a key");
        let t = |s: &str| Threshold::parse(s).expect("a threshold");
        thresholds.insert(key(metric::GRAB_LATENCY), vec![t("p(95)<1s"), t("p(99)<10ms")]);
        thresholds.insert(key(metric::GRAB_FAILED), vec![t("rate<0.5")]);
        load.thresholds = thresholds;
        let mut registry = Registry::new(duration);
        for (k, store) in stores.iter().enumerate() {
            let mut r = Registry::new(duration);
            let tags = Tags::from([("store".to_string(), store.to_string())]);
            let id = |r: &mut Registry, name: &str, kind| {
                let id = r.register(name, kind, &tags).expect("one kind");
                r.track_over_time(id);
                id
            };
            let latency = id(&mut r, metric::GRAB_LATENCY, MetricKind::Trend);
            let by_second = id(&mut r, metric::GRAB_LATENCY_BY_SECOND, MetricKind::Trend);
            let failed = id(&mut r, metric::GRAB_FAILED, MetricKind::Rate);
            let shoppers = id(&mut r, metric::SHOPPERS, MetricKind::Counter);
            let made = id(&mut r, metric::RESERVATIONS_MADE, MetricKind::Counter);
            let expired = id(&mut r, metric::RESERVATION_EXPIRED, MetricKind::Rate);
            let retries = id(&mut r, metric::GRAB_RETRIES, MetricKind::Counter);
            let timeouts = id(&mut r, metric::GRAB_TIMEOUTS, MetricKind::Counter);
            for sec in 5..25u64 {
                let at = SimTime::from_secs(sec);
                let n = 2 * (sec - 4);
                r.add_counter(shoppers, at, n);
                for j in 0..n {
                    let l = SimDuration::from_millis(20 + 10 * j + 30 * k as u64);
                    r.record_trend(latency, at, l);
                    r.record_trend(by_second, at, l);
                    r.record_rate(failed, at, false);
                }
                if sec < 8 {
                    r.add_counter(made, at, 8);
                }
                if sec % 7 == 0 {
                    r.add_counter(timeouts, at, 2);
                    r.add_counter(retries, at, 1);
                }
            }
            for sec in 30..34u64 {
                r.record_rate(expired, SimTime::from_secs(sec), true);
                r.record_rate(expired, SimTime::from_secs(sec + 1), false);
            }
            registry.merge(&r).expect("same kinds");
        }
        let summary = LoadSummary {
            thresholds: load.evaluate(&registry, duration),
            invariants: vec![
                InvariantLine { name: "no oversell".into(), held: true, detail: Some("at most 48 of 50".into()) },
                InvariantLine { name: "stock conserved per SKU and store".into(), held: true, detail: None },
            ],
            sections: Vec::new(),
        };
        let sale = SaleFigures {
            name: "<b>drop & \"go\"".into(),
            protocol: "atomic".into(),
            start: SimTime::from_secs(5),
            quota: 50,
            sellout: Some(SimDuration::from_millis(2500)),
            arrived: 420,
            grabs: 420,
            got: 48,
            retries: 6,
            timeouts: 12,
            sold: 40,
            reserved: 0,
            expired: 8,
            peak_taken: 48,
            ..SaleFigures::default()
        };
        let takes = stores
            .iter()
            .enumerate()
            .map(|(i, s)| StoreTake { name: (*s).to_string(), sold: 20 - i as u32, reserved: i as u32 % 2, quota: 25 })
            .collect();
        (load, registry, summary, sale, takes)
    }

    fn page(stores: &[&str]) -> (String, LoadSummary) {
        let (load, registry, summary, sale, takes) = fixture(stores);
        let seconds = PerSecond::new(&registry, &load);
        let test = LoadTest {
            scenario: "scenarios/<flash>.toml",
            scenario_hash: "0123456789abcdef",
            seed: 7,
            threads: 2,
            open_at_s: 8 * 3600,
            end: SimTime::from_secs(60),
            events: 12_345,
            event_hash: "85407659e5146034".into(),
            wall_s: 0.5,
            load: &load,
        };
        let html = render(&test, &sale, &takes, &summary, &registry, &seconds).expect("the page renders");
        (html, summary)
    }

    /// The rows of the threshold table.
    fn threshold_rows(html: &str) -> Vec<&str> {
        let table = &html[html.find("id=\"threshold-table\"").expect("a threshold table")..];
        let body = &table[..table.find("</table>").expect("the table ends")];
        body.split("<tr>").skip(2).collect()
    }

    #[test]
    fn the_page_names_every_chart_and_marks_every_threshold() {
        let (html, summary) = page(&["north", "south"]);
        for title in TITLES {
            assert!(html.contains(&format!("<figcaption>{title}")), "no chart titled {title}");
        }
        assert_eq!(html.matches("<svg").count(), TITLES.len(), "one SVG per chart");
        assert!(!html.contains("<script"), "no script");
        let rows = threshold_rows(&html);
        assert_eq!(rows.len(), summary.thresholds.len(), "a row per threshold");
        // p(99)<10ms fails (the latencies reach 400 ms); the two others pass.
        for (row, t) in rows.iter().zip(&summary.thresholds) {
            let mark = if t.passed { "\u{2713}" } else { "\u{2717}" };
            assert!(row.contains(mark) && row.contains(&esc(&t.threshold)), "{row}");
            assert!(row.contains(&esc(&observed_text(t))), "{row}");
        }
        assert_eq!(summary.thresholds.iter().filter(|t| !t.passed).count(), 1);
        assert!(html.contains("1 of 3 thresholds were crossed: exit code 99."));
        assert_eq!(html.matches("<li><span class=\"mark good\">\u{2713}</span>").count(), 2, "two invariants held");
        // The figures the charts are drawn from reach the captions.
        assert!(html.contains("sold out 2.5 s after the start"));
        assert!(html.contains("Of 48 made, 8 expired unpaid and 8 were paid; 32 were outstanding at the end."));
    }

    #[test]
    fn names_from_the_file_are_escaped() {
        let (html, _) = page(&["<S1>", "S&2"]);
        assert!(!html.contains("<b>drop") && !html.contains("<flash>") && !html.contains("<S1>"));
        assert!(html.contains("Flash sale &lt;b&gt;drop &amp; &quot;go&quot;"));
        assert!(html.contains("scenarios/&lt;flash&gt;.toml"));
        // Store names label the columns (drawn by plotters, which escapes SVG text too).
        assert!(html.contains("&lt;S1&gt;") && html.contains("S&amp;2"));
    }

    #[test]
    fn a_run_without_load_still_draws_every_chart_and_says_so() {
        let (load, _, _, sale, takes) = fixture(&["north"]);
        let registry = Registry::new(SimDuration::from_secs(60));
        let seconds = PerSecond::new(&registry, &LoadSpec { scenarios: BTreeMap::new(), ..load.clone() });
        let summary = LoadSummary::default();
        let test = LoadTest {
            scenario: "empty.toml",
            scenario_hash: "0",
            seed: 1,
            threads: 1,
            open_at_s: 0,
            end: SimTime::from_secs(60),
            events: 0,
            event_hash: "0".into(),
            wall_s: 0.0,
            load: &load,
        };
        let html = render(&test, &sale, &takes, &summary, &registry, &seconds).expect("the page renders");
        assert_eq!(html.matches("<svg").count(), TITLES.len());
        for said in ["no shopper arrived", "no grab was answered", "no reservation was made", "no call timed out"] {
            assert!(html.contains(said), "{said}");
        }
        assert!(html.contains("The file sets no thresholds; exit code 0."));
    }

    #[test]
    fn the_page_is_written_whole() {
        let (load, registry, summary, sale, takes) = fixture(&["north"]);
        let seconds = PerSecond::new(&registry, &load);
        let test = LoadTest {
            scenario: "flash.toml",
            scenario_hash: "0",
            seed: 1,
            threads: 1,
            open_at_s: 0,
            end: SimTime::from_secs(60),
            events: 0,
            event_hash: "0".into(),
            wall_s: 0.0,
            load: &load,
        };
        let dir = std::env::temp_dir().join(format!("storetwin-load-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let path = dir.join("report.html");
        write_load_report(&path, &test, &sale, &takes, &summary, &registry, &seconds).expect("written");
        let page = std::fs::read_to_string(&path).expect("the page");
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
        let leftovers = std::fs::read_dir(&dir).expect("the directory").filter_map(|e| e.ok()).count();
        assert_eq!(leftovers, 1, "no temporary file left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
