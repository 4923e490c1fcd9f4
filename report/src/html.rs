//! The two pages: `report.html`, the planner's one-page report of a run, written next to
//! `summary.json` ([`write_run_report`]), and `compare.html`, the page of a comparison of
//! two scenarios ([`write_comparison_page`]).
//!
//! `report.html` is one self-contained HTML file (inline CSS, charts as inline SVG, no
//! script, nothing fetched) that opens from disk in any browser and prints: the run's
//! identity and headline KPI cards, the floor plan with the dwell heat map and the devices,
//! crowding (the floor by mean density with the densest cells, per-zone density and time
//! lost to crowds: `html/crowding.rs`), charts over the day, summary charts, lost sales by
//! cause, category and SKU beside what restocking did (`html/lost_sales.rs`), and tables of
//! every KPI, the queues and the kiosks' queues. Headline figures and the KPI table are the
//! means across replications (with 95% confidence intervals when there are several); the
//! floor, the charts and the other tables show replication 1, whose seed is the run's.
//! Every caption that says what a chart shows is computed from its data. Charts are drawn
//! by plotters (`html/charts.rs`, `html/floor.rs`); this file lays the page out.
//! `compare.html` is laid out in `html/comparison.rs` from the same style, cards, tables
//! and charts, and so are a chain run's page (`html/chain.rs`) and a load test's
//! (`html/load.rs`, [`write_load_report`]).

mod chain;
mod charts;
mod comparison;
mod coupons;
mod crowding;
mod floor;
mod load;
mod lost_sales;
mod members;
mod orders;
mod settlement;

pub use chain::write_chain_report;
pub use comparison::write_comparison_page;
pub use coupons::CampaignFunnel;
pub use load::{LoadTest, SaleFigures, StoreTake, write_load_report};
pub use settlement::{IdentityCount, identity_counts};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;
use storetwin_actors::store::day::DayRun;
use storetwin_actors::store::spec::DeviceKind;
use storetwin_actors::store::summary::StoreKpis;
use storetwin_scenarios::Scenario;

use charts::{ACCENT, BAD, Bar, Day, GOOD, SENSED, clock, css, grouped, queue_colour};
use storetwin_eventlog::atomic::write_atomic;

use crate::kpi::queue_label;
use crate::{Error, Result};

/// Chart sizes in pixels: across the page, and in one of two columns.
const FULL: (u32, u32) = (1100, 330);
const HALF: (u32, u32) = (540, 300);

/// Writes the report of `runs` of `scenario` (in replication order; at least one) to
/// `path` (atomically). `summary` is what `summary.json` holds
/// ([`crate::summary::summary`]; its `run` and `replications` objects are read).
pub fn write_run_report(path: &Path, scenario: &Scenario, runs: &[DayRun], summary: &Value) -> Result<()> {
    let started = std::time::Instant::now();
    let html = render(scenario, runs, summary)?;
    write_atomic(path, |w| w.write_all(html.as_bytes()))?;
    tracing::info!(path = %path.display(), bytes = html.len(), ms = started.elapsed().as_secs_f64() * 1e3, "report written");
    Ok(())
}

/// A KPI's mean across replications and the half-width of its 95% confidence interval.
#[derive(Clone, Copy, Debug)]
struct Estimate {
    mean: f64,
    ci95: f64,
    low: f64,
    high: f64,
    n: u64,
}

fn estimates(summary: &Value) -> BTreeMap<String, Estimate> {
    let Some(map) = summary.get("replications").and_then(Value::as_object) else { return BTreeMap::new() };
    map.iter()
        .filter_map(|(name, e)| {
            let f = |k: &str| e.get(k).and_then(Value::as_f64);
            Some((
                name.clone(),
                Estimate {
                    mean: f("mean")?,
                    ci95: f("ci95")?,
                    low: f("low")?,
                    high: f("high")?,
                    n: e.get("n")?.as_u64()?,
                },
            ))
        })
        .collect()
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a KPI is written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Count,
    Money,
    Percent,
    Seconds,
    Decimal,
}

impl Unit {
    /// `v` in this unit; `like` picks the scale (a confidence interval is written like its
    /// mean). Counts are whole unless a mean across replications is small.
    fn format(self, v: f64, like: f64) -> String {
        match self {
            Unit::Count if v.fract() == 0.0 || v.abs() >= 100.0 => grouped(v, 0),
            Unit::Count => grouped(v, 1),
            Unit::Money => grouped(v, 2),
            Unit::Percent => format!("{}%", grouped(100.0 * v, 1)),
            Unit::Seconds if like.abs() >= 120.0 => format!("{} min", grouped(v / 60.0, 1)),
            Unit::Seconds => format!("{} s", grouped(v, 1)),
            Unit::Decimal => grouped(v, 2),
        }
    }

    /// `v` on a headline card: money in whole units.
    fn card(self, v: f64, like: f64) -> String {
        match self {
            Unit::Money => grouped(v, 0),
            other => other.format(v, like),
        }
    }
}

/// Section, label and unit of a KPI of `StoreKpis::flat`.
fn describe(key: &str) -> (u8, String, Unit) {
    if let Some(rest) = key.strip_prefix("queue[")
        && let Some((q, what)) = rest.split_once("].")
    {
        let label = match what {
            "wait_mean_s" => "mean wait",
            "wait_p90_s" => "p90 wait",
            other => other,
        };
        return (1, format!("{}: {label}", queue_label(q)), Unit::Seconds);
    }
    if let Some(rest) = key.strip_prefix("lane[")
        && let Some((l, _)) = rest.split_once("].")
    {
        return (2, format!("{l}: utilisation"), Unit::Percent);
    }
    if let Some(rest) = key.strip_prefix("zone[")
        && let Some((z, what)) = rest.rsplit_once("].")
    {
        return (4, format!("{z}: {}", what.replace('_', " ")), Unit::Decimal);
    }
    if let Some(rest) = key.strip_prefix("kiosk[")
        && let Some((kiosk, what)) = rest.rsplit_once("].")
    {
        let (label, unit) = match what {
            "wait_mean_s" => ("mean wait", Unit::Seconds),
            "reneged" => ("gave up", Unit::Count),
            other => (other, Unit::Decimal),
        };
        return (5, format!("{kiosk}: {label}"), unit);
    }
    let (label, unit) = match key {
        "footfall" => ("Footfall (true)", Unit::Count),
        "footfall_sensed" => ("Footfall (door counters)", Unit::Count),
        "wifi_visitors_sensed" => ("Visitors seen by WiFi probes", Unit::Count),
        "mean_visit_s" => ("Mean visit (true)", Unit::Seconds),
        "mean_visit_s_sensed" => ("Mean visit (WiFi probes)", Unit::Seconds),
        "buyers" => ("Buyers", Unit::Count),
        "conversion" => ("Conversion", Unit::Percent),
        "basket_mean_items" => ("Basket (items per buyer)", Unit::Decimal),
        "sales" => ("Sales", Unit::Money),
        "sales_per_m2" => ("Sales per m\u{b2}", Unit::Money),
        "balked" => ("Balked", Unit::Count),
        "reneged" => ("Reneged", Unit::Count),
        "lost_items" => ("Lost sales (items)", Unit::Count),
        "lost_value" => ("Lost sales (value)", Unit::Money),
        "kiosk_orders" => ("Kiosk orders", Unit::Count),
        "balk_rate" => ("Balk rate", Unit::Percent),
        "renege_rate" => ("Renege rate", Unit::Percent),
        "impulse_adds" => ("Impulse buys (items)", Unit::Count),
        "wait_mean_s" => ("Wait in queue, all queues (mean)", Unit::Seconds),
        "wait_p90_s" => ("Wait in queue, all queues (p90)", Unit::Seconds),
        "wait_max_s" => ("Wait in queue, all queues (max)", Unit::Seconds),
        "crowd.slowed_s_per_shopper" => ("Slowed by crowds, per shopper", Unit::Seconds),
        "crowd.blocked_s_per_shopper" => ("Blocked by full cells, per shopper", Unit::Seconds),
        "crowd.to_first_shelf_s" => ("From the door to the first shelf (mean)", Unit::Seconds),
        "crowd.entry_waits" => ("Waited outside a full entrance", Unit::Count),
        other => {
            let mut label = other.replace('_', " ");
            if let Some(first) = label.get(..1) {
                label = first.to_uppercase() + &label[1..];
            }
            return (3, label, Unit::Decimal);
        }
    };
    (0, label.to_string(), unit)
}

/// Where the headline KPIs come in the table.
const HEADLINE_ORDER: [&str; 25] = [
    "footfall",
    "footfall_sensed",
    "wifi_visitors_sensed",
    "buyers",
    "conversion",
    "basket_mean_items",
    "sales",
    "sales_per_m2",
    "lost_value",
    "lost_items",
    "balked",
    "reneged",
    "balk_rate",
    "renege_rate",
    "wait_mean_s",
    "wait_p90_s",
    "wait_max_s",
    "mean_visit_s",
    "mean_visit_s_sensed",
    "kiosk_orders",
    "impulse_adds",
    "crowd.slowed_s_per_shopper",
    "crowd.blocked_s_per_shopper",
    "crowd.to_first_shelf_s",
    "crowd.entry_waits",
];

/// Which kinds of sensing device the store has: a sensed figure without its device is
/// "no sensors", not a −100% error.
#[derive(Clone, Copy, Debug)]
struct Sensors {
    door_counters: bool,
    wifi_probes: bool,
    face_cameras: bool,
    smart_shelves: bool,
}

impl Sensors {
    fn of(scenario: &Scenario) -> Sensors {
        let has = |f: fn(&DeviceKind) -> bool| scenario.world.store.devices.iter().any(|d| f(&d.kind));
        Sensors {
            door_counters: has(|k| matches!(k, DeviceKind::DoorCounter { .. })),
            wifi_probes: has(|k| matches!(k, DeviceKind::WifiProbe { .. })),
            face_cameras: has(|k| matches!(k, DeviceKind::FaceCamera { .. })),
            smart_shelves: has(|k| matches!(k, DeviceKind::SmartShelf { .. })),
        }
    }

    fn any(self) -> bool {
        self.door_counters || self.wifi_probes || self.face_cameras || self.smart_shelves
    }

    /// For a sensed KPI of `StoreKpis::flat`, what is missing to sense it ("no door
    /// counters"), if anything.
    fn missing(self, key: &str) -> Option<&'static str> {
        match key {
            "footfall_sensed" if !self.door_counters => Some("no door counters"),
            "wifi_visitors_sensed" | "mean_visit_s_sensed" if !self.wifi_probes => Some("no WiFi probes"),
            _ => None,
        }
    }
}

/// For each lane, the index of the queue that feeds it (in `StoreKpis::queues` order:
/// lanes with their own queue, then shared lines).
fn lane_queues(scenario: &Scenario) -> Vec<usize> {
    let lanes = &scenario.world.store.lanes;
    let own = lanes.iter().filter(|l| l.line.is_none()).count();
    let mut next = 0;
    lanes
        .iter()
        .map(|l| match l.line {
            Some(line) => own + usize::from(line),
            None => {
                next += 1;
                next - 1
            }
        })
        .collect()
}

fn humanise(kind: &str) -> String {
    match kind {
        "wifi_probe" => "WiFi probe".to_string(),
        "esl" => "shelf label (ESL)".to_string(),
        other => other.replace('_', " "),
    }
}

fn swatch(colour: plotters::style::RGBColor) -> String {
    format!(r#"<span class="swatch" style="background:{}"></span>"#, css(colour))
}

fn render(scenario: &Scenario, runs: &[DayRun], summary: &Value) -> Result<String> {
    let first = runs.first().ok_or(Error::Input("a report needs at least one run"))?;
    let k = &first.kpis;
    let run = summary.get("run").ok_or(Error::Input("summary has no `run` object"))?;
    let est = estimates(summary);
    let n = runs.len();
    let day = Day::new(scenario.world.open_at_s, first.end);
    let lane_queue = lane_queues(scenario);
    let queue_names: Vec<String> = k.queues.iter().map(|q| q.name.clone()).collect();

    let mut page = String::with_capacity(1 << 20);
    let p = &mut page;
    page_start(p, &format!("{} \u{2014} store day report", k.store))?;

    // Header.
    let text_of = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "?".to_string(),
    };
    let days = (day.close_h / 24.0).floor() as i64 - (day.open_h / 24.0).floor() as i64;
    let next_day = if days > 0 { format!(" (+{days} day)") } else { String::new() };
    write!(
        p,
        r#"<header>
<p class="eyebrow">storetwin store day report</p>
<h1>{store}</h1>
<p class="range">{open} &rarr; {close}{next_day} <span>&middot; {hours} h simulated</span></p>
<dl class="meta">
<div><dt>Scenario</dt><dd><code>{scenario_file}</code></dd></div>
<div><dt>Scenario hash</dt><dd><code>{hash}</code></dd></div>
<div><dt>Seed</dt><dd><code>{seed}</code></dd></div>
<div><dt>Replications</dt><dd>{n}</dd></div>
<div><dt>Event hash</dt><dd><code>{event_hash}</code></dd></div>
<div><dt>storetwin</dt><dd>{version}</dd></div>
</dl>
</header>
"#,
        store = esc(&k.store),
        open = clock(day.open_h),
        close = clock(day.close_h),
        hours = grouped(day.close_h - day.open_h, 1),
        scenario_file = esc(&text_of(run.get("scenario"))),
        hash = esc(&text_of(run.get("scenario_hash"))),
        seed = esc(&text_of(run.get("seed"))),
        event_hash = esc(&first.event_hash.to_string()),
        version = esc(&text_of(run.get("version"))),
    )?;

    let sensors = Sensors::of(scenario);
    cards(p, runs, &est, day.open_h, sensors)?;

    // The floor.
    let floor_svg = floor::floor_plan(scenario, k, &lane_queue, FULL.0, None)?;
    let devices = if k.devices.is_empty() {
        "The store has no devices.".to_string()
    } else if k.devices.iter().any(|d| d.down_minutes > 0.0) {
        "Devices are marked by kind, with a red ring on those that were down during the day.".to_string()
    } else {
        "Devices are marked by kind.".to_string()
    };
    write!(
        p,
        r#"<section>
<h2>Floor plan and where shoppers spent their time</h2>
<p class="lede">Each cell of {cell} m is coloured by the shopper-minutes spent in it over the day (replication 1). {hottest} Shelves are coloured by category. {devices}</p>
<figure id="floor-heatmap" class="floor">{floor_svg}</figure>
</section>
"#,
        cell = grouped(scenario.world.store.floor.cell_m, 1),
        hottest = esc(&floor::hottest_caption(scenario, k)),
        devices = esc(&devices),
    )?;
    crowding::section(p, scenario, k, &est, &lane_queue)?;

    // Over the day.
    let samples = &first.samples;
    let replication_note = if n > 1 {
        format!(
            "Replication 1 of {n} (seed {}). The key figures further down give means and 95% confidence intervals across all {n}.",
            first.seed
        )
    } else {
        format!("One replication, seed {}; samples every simulated minute.", first.seed)
    };
    write!(
        p,
        r#"<section>
<h2>Over the day</h2>
<p class="lede">{replication_note}</p>
{occupancy}
<div class="grid2">
{arrivals}
{sales}
</div>
{lengths}
{waits}
</section>
"#,
        occupancy = figure(
            "chart-occupancy",
            "Shoppers in the store",
            "minute by minute",
            &charts::occupancy(&day, samples, FULL)?
        ),
        arrivals = figure(
            "chart-arrivals",
            "Arrivals per hour",
            if sensors.door_counters { "true, and as counted at the doors" } else { "true (no door counters)" },
            &charts::arrivals_per_hour(&day, samples, sensors.door_counters, HALF)?
        ),
        sales = figure("chart-sales", "Sales per hour", "", &charts::sales_per_hour(&day, samples, HALF)?),
        lengths = figure(
            "chart-queue-length",
            "Queue length",
            "mean number waiting in each queue per 10 minutes",
            &charts::queue_lengths(&day, samples, &queue_names, FULL.0)?
        ),
        waits = figure(
            "chart-queue-wait",
            "Wait in queue",
            "mean wait in seconds of those served in each half hour; grey where a queue served nobody",
            &charts::queue_waits(&day, samples, &queue_names, 1800, FULL.0)?
        ),
    )?;

    summary_charts(p, k, &lane_queue, n, sensors)?;
    lost_sales::section(p, scenario, k, sensors)?;
    kpi_table(p, k, &est, n, &lane_queue, sensors)?;
    queue_table(p, k)?;
    kiosk_table(p, k)?;
    lane_table(p, k, &lane_queue)?;
    p.push_str("<div class=\"pair\">\n");
    zone_table(p, k)?;
    device_table(p, k)?;
    p.push_str("</div>\n");

    page_end(
        p,
        &format!(
            r#"Written by storetwin {version} from <code>{scenario_file}</code> (scenario hash <code>{hash}</code>, seed <code>{seed}</code>). The same scenario and seed give the same figures on any machine: event hash <code>{event_hash}</code>."#,
            version = esc(&text_of(run.get("version"))),
            scenario_file = esc(&text_of(run.get("scenario"))),
            hash = esc(&text_of(run.get("scenario_hash"))),
            seed = esc(&text_of(run.get("seed"))),
            event_hash = esc(&first.event_hash.to_string()),
        ),
    )?;
    Ok(page)
}

/// The start of a page: doctype, head with the title and [`STYLE`], up to `<main>`.
fn page_start(p: &mut String, title: &str) -> std::fmt::Result {
    write!(
        p,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="storetwin {version}">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
"#,
        version = esc(env!("CARGO_PKG_VERSION")),
        title = esc(title),
    )
}

/// The end of a page: the footer (HTML, already escaped) and the closing tags.
fn page_end(p: &mut String, footer: &str) -> std::fmt::Result {
    write!(p, "<footer>{footer}</footer>\n</main>\n</body>\n</html>\n")
}

fn figure(id: &str, title: &str, note: &str, svg: &str) -> String {
    let note = if note.is_empty() { String::new() } else { format!(" <span>{}</span>", esc(note)) };
    format!(r#"<figure id="{id}"><figcaption>{}{note}</figcaption>{svg}</figure>"#, esc(title))
}

/// One headline card: a label, the figure, its 95% half-width (several replications) and a
/// line of context.
struct Card {
    label: String,
    value: String,
    ci: Option<String>,
    sub: String,
    /// Colours the figure (and the verdict): good news, bad news, or none to tell (grey).
    tone: Option<Tone>,
    /// A word under the context, such as whether a difference is significant.
    verdict: Option<String>,
}

/// Whether a figure is good or bad news, or neither for sure.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tone {
    Good,
    Bad,
    Unsure,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Unsure => "unsure",
        }
    }
}

/// A row of headline cards.
fn write_cards(p: &mut String, cards: &[Card]) -> std::fmt::Result {
    p.push_str("<div class=\"cards\">\n");
    for c in cards {
        let ci = c.ci.as_ref().map_or(String::new(), |ci| format!(r#"<div class="ci">{}</div>"#, esc(ci)));
        let tone = c.tone.map_or(String::new(), |t| format!(" {}", t.class()));
        let verdict =
            c.verdict.as_ref().map_or(String::new(), |v| format!(r#"<div class="verdict{tone}">{}</div>"#, esc(v)));
        writeln!(
            p,
            r#"<div class="card"><div class="label">{}</div><div class="value{tone}">{}</div>{ci}<div class="sub">{}</div>{verdict}</div>"#,
            esc(&c.label),
            esc(&c.value),
            esc(&c.sub)
        )?;
    }
    p.push_str("</div>\n");
    Ok(())
}

/// A headline card of KPI `name` of `StoreKpis::flat`: its mean across replications
/// (\u{b1} the 95% half-width when n > 1), or `fallback` if it is not estimated.
fn estimate_card(
    est: &BTreeMap<String, Estimate>,
    label: String,
    name: &str,
    fallback: f64,
    unit: Unit,
    sub: String,
) -> Card {
    let e = est.get(name);
    let v = e.map_or(fallback, |e| e.mean);
    Card {
        label,
        value: unit.card(v, v),
        ci: e.filter(|e| e.n > 1).map(|e| format!("\u{b1}{}", unit.card(e.ci95, e.mean))),
        sub,
        tone: None,
        verdict: None,
    }
}

/// The headline cards: means across replications (\u{b1} the 95% half-width when n > 1).
fn cards(
    p: &mut String,
    runs: &[DayRun],
    est: &BTreeMap<String, Estimate>,
    open_h: f64,
    sensors: Sensors,
) -> Result<()> {
    let k = &runs[0].kpis;
    let mean = |name: &str, fallback: f64| est.get(name).map_or(fallback, |e| e.mean);
    let card = |label: String, name: &str, fallback: f64, unit: Unit, sub: String| {
        estimate_card(est, label, name, fallback, unit, sub)
    };
    let (footfall, door) = (mean("footfall", k.footfall.truth), mean("footfall_sensed", k.footfall.sensed));
    let door_error = if footfall > 0.0 { 100.0 * (door - footfall) / footfall } else { 0.0 };
    let mut cards = vec![
        card(
            "Footfall".into(),
            "footfall",
            k.footfall.truth,
            Unit::Count,
            if sensors.door_counters {
                format!("door counters {} ({})", Unit::Count.format(door, door), signed_pct(door_error))
            } else {
                "shoppers who came in (no door counters)".to_string()
            },
        ),
        card(
            "Buyers".into(),
            "buyers",
            k.buyers as f64,
            Unit::Count,
            format!("{} picked something", grouped(k.picked_something as f64, 0)),
        ),
        card("Conversion".into(), "conversion", k.conversion, Unit::Percent, "buyers per visitor".into()),
        card(
            "Sales".into(),
            "sales",
            k.sales,
            Unit::Money,
            format!(
                "basket {} items \u{b7} {} per m\u{b2}",
                grouped(mean("basket_mean_items", k.basket_mean_items), 1),
                grouped(mean("sales_per_m2", k.sales_per_m2), 0)
            ),
        ),
    ];
    let peaks: Vec<f64> =
        runs.iter().map(|r| r.samples.iter().map(|s| f64::from(s.occupancy)).fold(0.0, f64::max)).collect();
    let peak = crate::stats::estimate(&peaks);
    let peak_at = runs[0].samples.iter().max_by_key(|s| (s.occupancy, std::cmp::Reverse(s.at))).map(|s| s.at);
    cards.push(Card {
        label: "Peak occupancy".into(),
        value: Unit::Count.card(peak.mean, peak.mean),
        ci: (peak.n > 1).then(|| format!("\u{b1}{}", Unit::Count.card(peak.ci95, peak.mean))),
        sub: match peak_at {
            Some(at) => format!("shoppers inside at {}", clock(open_h + at.as_secs_f64() / 3600.0)),
            None => "shoppers inside at once".into(),
        },
        tone: None,
        verdict: None,
    });
    let worst = k.queues.iter().max_by(|a, b| {
        let p90 = |q: &storetwin_actors::store::summary::QueueKpis| {
            mean(&format!("queue[{}].wait_p90_s", q.name), q.wait_s.p90)
        };
        p90(a).total_cmp(&p90(b))
    });
    if let Some(q) = worst {
        let p90 = mean(&format!("queue[{}].wait_p90_s", q.name), q.wait_s.p90);
        cards.push(card(
            format!("Mean wait at {}", queue_label(&q.name)),
            &format!("queue[{}].wait_mean_s", q.name),
            q.wait_s.mean,
            Unit::Seconds,
            format!("p90 {} \u{b7} the highest p90 of any queue", Unit::Seconds.format(p90, p90)),
        ));
    }
    let lost_items: u64 = k.lost_sales.values().map(|l| l.items).sum();
    let lost_value: f64 = k.lost_sales.values().map(|l| l.value).sum();
    let items = grouped(mean("lost_items", lost_items as f64), 0);
    let sub = match k.lost_sales.iter().max_by(|a, b| a.1.value.total_cmp(&b.1.value)) {
        Some((cause, l)) if lost_value > 0.0 => {
            format!("{items} items \u{b7} {:.0}% {}", 100.0 * l.value / lost_value, cause_name(cause))
        }
        _ => format!("{items} items"),
    };
    cards.push(card("Lost sales".into(), "lost_value", lost_value, Unit::Money, sub));
    let gave_up: Vec<f64> = runs.iter().map(|r| (r.kpis.balked + r.kpis.reneged) as f64).collect();
    let gave_up = crate::stats::estimate(&gave_up);
    let (balked, reneged) = (mean("balked", k.balked as f64), mean("reneged", k.reneged as f64));
    cards.push(Card {
        label: "Balked + reneged".into(),
        value: Unit::Count.card(gave_up.mean, gave_up.mean),
        ci: (gave_up.n > 1).then(|| format!("\u{b1}{}", Unit::Count.card(gave_up.ci95, gave_up.mean))),
        sub: format!(
            "at checkout: {} balked \u{b7} {} reneged",
            Unit::Count.format(balked, balked),
            Unit::Count.format(reneged, reneged)
        ),
        tone: None,
        verdict: None,
    });

    write_cards(p, &cards)?;
    if runs.len() > 1 {
        writeln!(
            p,
            r#"<p class="note">Means across {} replications, &plusmn; the half-width of the 95% confidence interval of the mean.</p>"#,
            runs.len()
        )?;
    }
    Ok(())
}

fn signed_pct(v: f64) -> String {
    let s = grouped(v, 1);
    if v > 0.0 { format!("+{s}%") } else { format!("{s}%") }
}

fn signed_whole_pct(v: f64) -> String {
    let s = grouped(v, 0);
    if v.round() > 0.0 { format!("+{s}%") } else { format!("{s}%") }
}

fn cause_name(cause: &str) -> &str {
    match cause {
        "stock_out" => "stock-outs",
        "balk" => "balked at a queue",
        "renege" => "reneged in a queue",
        "price" => "price too high",
        "unreachable" => "shelf unreachable",
        "kiosk_wait" => "gave up waiting at the kiosk",
        other => other,
    }
}

fn summary_charts(
    p: &mut String,
    k: &StoreKpis,
    lane_queue: &[usize],
    replications: usize,
    sensors: Sensors,
) -> Result<()> {
    let what = if sensors.any() {
        "The flow from the door to the till, how far the sensors were from the truth, and how busy each lane was."
    } else {
        "The flow from the door to the till, and how busy each lane was."
    };
    let lede = if replications > 1 {
        format!("Replication 1 of {replications}: {}", lower_first(what))
    } else {
        what.to_string()
    };
    let visitors = k.footfall.truth;
    let share = |v: f64| if visitors > 0.0 { format!(" \u{b7} {:.1}%", 100.0 * v / visitors) } else { String::new() };
    let funnel = [
        ("Visitors", visitors, ACCENT),
        ("Picked something", k.picked_something as f64, ACCENT),
        ("Bought", k.buyers as f64, GOOD),
    ];
    let funnel: Vec<Bar> = funnel
        .iter()
        .enumerate()
        .map(|(i, (label, v, colour))| Bar {
            label: (*label).into(),
            value: *v,
            colour: *colour,
            note: format!("{}{}", grouped(*v, 0), if i == 0 { String::new() } else { share(*v) }),
        })
        .collect();
    let funnel_svg = charts::bars(&funnel, 0.0..visitors.max(1.0) * 1.32, "", &|v| grouped(*v, 0), 130, HALF)?;

    let util: Vec<Bar> = k
        .lanes
        .iter()
        .enumerate()
        .map(|(i, l)| Bar {
            label: l.name.clone(),
            value: 100.0 * l.utilisation,
            colour: queue_colour(lane_queue.get(i).copied().unwrap_or(i)),
            note: format!("{:.0}%", 100.0 * l.utilisation),
        })
        .collect();
    let util_svg = charts::columns(&util, 105.0, "utilisation", &|v| format!("{v:.0}%"), (FULL.0, 300))?;

    write!(
        p,
        r#"<section>
<h2>The day in summary</h2>
<p class="lede">{lede}</p>
<div class="grid2">
{}
{}
</div>
{}
</section>
"#,
        figure("chart-funnel", "Conversion funnel", "visitors \u{2192} picked something \u{2192} bought", &funnel_svg),
        sensed_figure(k, sensors)?,
        figure(
            "chart-utilisation",
            "Lane utilisation",
            "busy time over open time, coloured by the queue that feeds each lane",
            &util_svg
        ),
    )?;
    Ok(())
}

/// `s` with its first letter in lower case.
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_lowercase().chain(c).collect())
}

/// What the sensors reported against the truth, a bar per sensed figure; a figure whose
/// sensors the store does not have says so instead of a bar, and a store without sensors
/// gets a sentence instead of a chart.
fn sensed_figure(k: &StoreKpis, sensors: Sensors) -> Result<String> {
    if !sensors.any() {
        return Ok(r#"<figure id="chart-sensed"><figcaption>Sensed vs true</figcaption><p class="none">No sensors: this store has no door counters, WiFi probes, face cameras or smart shelves, so no sensed figure can be set against the truth.</p></figure>"#.to_string());
    }
    let identify = sensors.face_cameras || sensors.wifi_probes;
    // Each figure, and what is missing to sense it.
    let sensed = [
        ("Footfall (door counters)", &k.footfall, (!sensors.door_counters).then_some("no door counters")),
        ("Visitors (WiFi probes)", &k.wifi_visitors, (!sensors.wifi_probes).then_some("no WiFi probes")),
        ("Mean visit (WiFi probes)", &k.mean_visit_s, (!sensors.wifi_probes).then_some("no WiFi probes")),
        ("Members identified", &k.members_identified, (!identify).then_some("no face cameras or WiFi")),
        ("Shelf stock (smart shelves)", &k.shelf_stock_units, (!sensors.smart_shelves).then_some("no smart shelves")),
    ];
    let worst = sensed.iter().filter(|s| s.2.is_none()).map(|(_, s, _)| s.error_pct.abs()).fold(5.0, f64::max);
    let sensed_bars: Vec<Bar> = sensed
        .iter()
        .map(|(label, s, missing)| match missing {
            Some(missing) => {
                Bar { label: (*label).into(), value: 0.0, colour: charts::MUTED, note: (*missing).to_string() }
            }
            // An error of a figure whose truth is 0 is not a percentage.
            None if s.truth == 0.0 && s.sensed != 0.0 => Bar {
                label: (*label).into(),
                value: 0.0,
                colour: charts::MUTED,
                note: format!("{} vs 0 (no error % of 0)", grouped(s.sensed, 0)),
            },
            None => {
                let unit = if label.starts_with("Mean visit") { " s" } else { "" };
                Bar {
                    label: (*label).into(),
                    value: s.error_pct,
                    colour: match s.error_pct.abs() {
                        e if e < 5.0 => GOOD,
                        e if e < 15.0 => SENSED,
                        _ => BAD,
                    },
                    note: format!(
                        "{}{unit} vs {}{unit} ({})",
                        grouped(s.sensed, 0),
                        grouped(s.truth, 0),
                        signed_pct(s.error_pct)
                    ),
                }
            }
        })
        .collect();
    let span = worst * 1.6;
    let svg =
        charts::bars(&sensed_bars, -span..span, "error of the sensed figure", &|v| signed_whole_pct(*v), 200, HALF)?;
    Ok(figure(
        "chart-sensed",
        "Sensed vs true",
        "error of what the sensors reported; green within 5%, amber within 15%, red beyond",
        &svg,
    ))
}

fn cause_label(cause: &str) -> &str {
    match cause {
        "stock_out" => "Stock-out",
        "balk" => "Balked at queue",
        "renege" => "Reneged in queue",
        "price" => "Price too high",
        "unreachable" => "Shelf unreachable",
        "kiosk_wait" => "Gave up waiting at the kiosk",
        other => other,
    }
}

/// A KPI's value cell: the mean, and "±half-width" when there are several replications.
fn estimate_cell(e: &Estimate, unit: Unit) -> String {
    let mean = unit.format(e.mean, e.mean);
    if e.n > 1 { format!(r#"{mean} <span class="ci">&plusmn;{}</span>"#, unit.format(e.ci95, e.mean)) } else { mean }
}

/// Every KPI of `StoreKpis::flat` with its mean and 95% confidence interval: the store's
/// in one table, queue waits and lane utilisation (in queue and lane order) beside it.
fn kpi_table(
    p: &mut String,
    k: &StoreKpis,
    est: &BTreeMap<String, Estimate>,
    n: usize,
    lane_queue: &[usize],
    sensors: Sensors,
) -> Result<()> {
    let replicated = est.values().any(|e| e.n > 1);
    let note = if replicated {
        format!(
            "Means across {n} replications, \u{b1} the half-width of the 95% confidence interval of the mean (Student's t)."
        )
    } else {
        "1 replication: no confidence interval; run with --replications N".to_string()
    };
    let mut store: Vec<(u8, usize, &str, String, Unit, Estimate)> = est
        .iter()
        .filter_map(|(key, e)| {
            let (group, label, unit) = describe(key);
            let order = HEADLINE_ORDER.iter().position(|h| h == key).unwrap_or(usize::MAX);
            (group == 0 || group == 3).then_some((group, order, key.as_str(), label, unit, *e))
        })
        .collect();
    store.sort_by_key(|a| (a.0, a.1));
    write!(
        p,
        r#"<section id="kpi-table">
<h2>Key figures</h2>
<p class="lede">{}</p>
<div class="grid2">
<div class="table-wrap"><table class="kpis">
<thead><tr><th>Store</th><th>{}</th>{}</tr></thead>
<tbody>
"#,
        esc(&note),
        if replicated { "Mean" } else { "Value" },
        if replicated { "<th>95% CI</th>" } else { "" },
    )?;
    for (_, _, key, label, unit, e) in &store {
        if let Some(missing) = sensors.missing(key) {
            write!(p, r#"<tr><td>{}</td><td class="none">{missing}</td>"#, esc(label))?;
            p.push_str(if replicated { "<td></td></tr>\n" } else { "</tr>\n" });
            continue;
        }
        write!(p, "<tr><td>{}</td><td>{}</td>", esc(label), estimate_cell(e, *unit))?;
        if replicated {
            if e.n > 1 {
                write!(p, "<td>{} \u{2013} {}</td>", unit.format(e.low, e.mean), unit.format(e.high, e.mean))?;
            } else {
                p.push_str("<td></td>");
            }
        }
        p.push_str("</tr>\n");
    }
    p.push_str("</tbody></table></div>\n<div>\n");

    p.push_str(
        "<div class=\"table-wrap\"><table class=\"kpis\">\n<thead><tr><th>Queue</th><th>Mean wait</th><th>p90 wait</th></tr></thead>\n<tbody>\n",
    );
    for (i, q) in k.queues.iter().enumerate() {
        let cell = |what: &str| {
            est.get(&format!("queue[{}].{what}", q.name)).map_or(String::new(), |e| estimate_cell(e, Unit::Seconds))
        };
        writeln!(
            p,
            r#"<tr><td title="{}">{}{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&q.name),
            swatch(queue_colour(i)),
            esc(&queue_label(&q.name)),
            cell("wait_mean_s"),
            cell("wait_p90_s")
        )?;
    }
    p.push_str("</tbody></table></div>\n");
    p.push_str(
        "<div class=\"table-wrap\"><table class=\"kpis\">\n<thead><tr><th>Lane</th><th>Utilisation</th></tr></thead>\n<tbody>\n",
    );
    for (i, l) in k.lanes.iter().enumerate() {
        let cell = est
            .get(&format!("lane[{}].utilisation", l.name))
            .map_or(String::new(), |e| estimate_cell(e, Unit::Percent));
        writeln!(
            p,
            r#"<tr><td>{}{}</td><td>{cell}</td></tr>"#,
            swatch(queue_colour(lane_queue.get(i).copied().unwrap_or(i))),
            esc(&l.name)
        )?;
    }
    p.push_str("</tbody></table></div>\n");
    if !k.kiosks.is_empty() {
        p.push_str(
            "<div class=\"table-wrap\"><table class=\"kpis\">\n<thead><tr><th>Kiosk</th><th>Mean wait</th><th>Gave up</th></tr></thead>\n<tbody>\n",
        );
        for q in &k.kiosks {
            let cell = |what: &str, unit: Unit| {
                est.get(&format!("kiosk[{}].{what}", q.name)).map_or(String::new(), |e| estimate_cell(e, unit))
            };
            writeln!(
                p,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&q.name),
                cell("wait_mean_s", Unit::Seconds),
                cell("reneged", Unit::Count)
            )?;
        }
        p.push_str("</tbody></table></div>\n");
    }
    p.push_str(
        "<div class=\"table-wrap\"><table class=\"kpis\">\n<thead><tr><th>Zone</th><th>Mean people/m\u{b2}</th><th>Peak people/m\u{b2}</th></tr></thead>\n<tbody>\n",
    );
    for z in &k.crowding.zones {
        let cell = |what: &str| {
            est.get(&format!("zone[{}].{what}", z.name)).map_or(String::new(), |e| estimate_cell(e, Unit::Decimal))
        };
        writeln!(
            p,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&z.name),
            cell("mean_density"),
            cell("peak_density")
        )?;
    }
    p.push_str("</tbody></table></div>\n</div>\n</div>\n</section>\n");
    Ok(())
}

fn queue_table(p: &mut String, k: &StoreKpis) -> Result<()> {
    p.push_str(
        r#"<section id="queue-table">
<h2>Queues</h2>
<p class="lede">Replication 1. Served are those whose service ended, as their lanes count them; waits are of those whose service started; Little's law: the mean number waiting L equals the arrival rate &lambda; times the mean time in queue W of everyone who joined.</p>
<div class="table-wrap"><table>
<thead><tr><th rowspan="2">Queue</th><th rowspan="2" class="t">Kind</th><th rowspan="2">Joined</th><th rowspan="2">Served</th><th rowspan="2">Reneged</th><th rowspan="2">Jockeyed</th><th rowspan="2">Balked</th><th colspan="5" class="span">Wait (s)</th><th rowspan="2">Max length</th><th colspan="2" class="span">Little's law</th></tr>
<tr><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>L</th><th>&lambda;W</th></tr></thead>
<tbody>
"#,
    );
    for (i, q) in k.queues.iter().enumerate() {
        let w = &q.wait_s;
        writeln!(
            p,
            r#"<tr><td title="{full}">{swatch}{name}</td><td class="t">{kind}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td></tr>"#,
            grouped(q.joined as f64, 0),
            grouped(q.served as f64, 0),
            grouped(q.reneged as f64, 0),
            grouped(q.jockeyed as f64, 0),
            grouped(q.balked as f64, 0),
            w.mean,
            w.p50,
            w.p90,
            w.p99,
            w.max,
            q.max_length,
            q.mean_length,
            q.arrival_rate_per_s * q.mean_time_in_queue_s,
            full = esc(&q.name),
            swatch = swatch(queue_colour(i)),
            name = esc(&queue_label(&q.name)),
            kind = esc(q.kind),
        )?;
    }
    p.push_str("</tbody></table></div>\n</section>\n");
    Ok(())
}

/// Each kiosk's queue: a shopper who finds a shelf empty may queue at a kiosk to order the
/// item; one whose patience runs out gives up and the item stays unbought.
fn kiosk_table(p: &mut String, k: &StoreKpis) -> Result<()> {
    p.push_str(
        r#"<section id="kiosk-table">
<h2>Kiosk queues</h2>
"#,
    );
    if k.kiosks.is_empty() {
        p.push_str("<p class=\"lede\">The store has no kiosk.</p>\n</section>\n");
        return Ok(());
    }
    let joined: u64 = k.kiosks.iter().map(|q| q.joined).sum();
    let gave_up: u64 = k.kiosks.iter().map(|q| q.reneged).sum();
    let lost = k.lost_sales.get("kiosk_wait").map_or(0.0, |l| l.value);
    write!(
        p,
        r#"<p class="lede">Replication 1. A shopper who finds a shelf empty may queue at a kiosk to order the item. {}. Waits are of those served; utilisation is busy time over the day.</p>
<div class="table-wrap"><table>
<thead><tr><th rowspan="2">Kiosk</th><th rowspan="2">Joined</th><th rowspan="2">Served</th><th rowspan="2">Gave up</th><th colspan="2" class="span">Wait (s)</th><th colspan="2" class="span">Queue</th><th rowspan="2">Utilisation</th></tr>
<tr><th>mean</th><th>p90</th><th>max</th><th>mean</th></tr></thead>
<tbody>
"#,
        if gave_up == 0 {
            "Nobody gave up waiting".to_string()
        } else {
            format!(
                "{} of the {} who queued ({:.0}%) gave up waiting when their patience ran out, leaving {} of sales unbought (lost sales: gave up waiting at the kiosk)",
                grouped(gave_up as f64, 0),
                grouped(joined as f64, 0),
                100.0 * gave_up as f64 / joined.max(1) as f64,
                grouped(lost, 0)
            )
        }
    )?;
    for q in &k.kiosks {
        writeln!(
            p,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{:.1}</td><td>{:.1}%</td></tr>",
            esc(&q.name),
            grouped(q.joined as f64, 0),
            grouped(q.served as f64, 0),
            grouped(q.reneged as f64, 0),
            q.wait_s.mean,
            q.wait_s.p90,
            q.max_length,
            q.mean_length,
            100.0 * q.utilisation,
        )?;
    }
    p.push_str("</tbody></table></div>\n</section>\n");
    Ok(())
}

fn lane_table(p: &mut String, k: &StoreKpis, lane_queue: &[usize]) -> Result<()> {
    p.push_str(
        r#"<section id="lane-table">
<h2>Lanes</h2>
<p class="lede">Replication 1. Utilisation is busy time over open time.</p>
<div class="table-wrap"><table>
<thead><tr><th>Lane</th><th class="t">Kind</th><th>Served</th><th>Items</th><th>Payments</th><th>Open (h)</th><th>Utilisation</th></tr></thead>
<tbody>
"#,
    );
    for (i, l) in k.lanes.iter().enumerate() {
        writeln!(
            p,
            r#"<tr><td>{}{}</td><td class="t">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}%</td></tr>"#,
            swatch(queue_colour(lane_queue.get(i).copied().unwrap_or(i))),
            esc(&l.name),
            esc(&l.kind.replace('_', " ")),
            grouped(l.served as f64, 0),
            grouped(l.items as f64, 0),
            grouped(l.payments, 2),
            l.open_hours,
            100.0 * l.utilisation,
        )?;
    }
    p.push_str("</tbody></table></div>\n</section>\n");
    Ok(())
}

fn zone_table(p: &mut String, k: &StoreKpis) -> Result<()> {
    p.push_str(
        r#"<section id="zone-table">
<h2>Zones</h2>
<p class="lede">Replication 1. A visitor of a zone is a shopper who entered it; a buyer is one who picked an item in it; dwell is per visitor.</p>
<div class="table-wrap"><table>
<thead><tr><th>Zone</th><th>Visitors</th><th>Buyers</th><th>Conversion</th><th>Dwell (s)</th></tr></thead>
<tbody>
"#,
    );
    for z in &k.zones {
        writeln!(
            p,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1}</td></tr>",
            esc(&z.name),
            grouped(z.visitors as f64, 0),
            grouped(z.buyers as f64, 0),
            100.0 * z.conversion,
            z.dwell_s_per_visitor
        )?;
    }
    p.push_str("</tbody></table></div>\n</section>\n");
    Ok(())
}

fn device_table(p: &mut String, k: &StoreKpis) -> Result<()> {
    // By name, whatever its case.
    let mut kinds: BTreeMap<(String, String), (usize, usize, f64)> = BTreeMap::new();
    for d in &k.devices {
        let name = humanise(d.kind);
        let e = kinds.entry((name.to_lowercase(), name)).or_default();
        e.0 += 1;
        if d.down_minutes > 0.0 {
            e.1 += 1;
            e.2 += d.down_minutes;
        }
    }
    if k.devices.is_empty() {
        p.push_str("<section id=\"device-table\">\n<h2>Devices</h2>\n<p class=\"lede\">The store has no devices.</p>\n</section>\n");
        return Ok(());
    }
    let down: Vec<_> = k.devices.iter().filter(|d| d.down_minutes > 0.0).collect();
    write!(
        p,
        r#"<section id="device-table">
<h2>Devices</h2>
<p class="lede">Replication 1. {}</p>
<div class="table-wrap"><table>
<thead><tr><th>Kind</th><th>Devices</th><th>Down</th><th>Down (min)</th></tr></thead>
<tbody>
"#,
        if down.is_empty() {
            "No device was down.".to_string()
        } else {
            format!(
                "Down during the day: {}.",
                down.iter()
                    .map(|d| format!("{} ({}, {:.0} min)", esc(&d.name), esc(&humanise(d.kind)), d.down_minutes))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    )?;
    for ((_, kind), (count, down, minutes)) in &kinds {
        let class = if *down > 0 { r#" class="down""# } else { "" };
        writeln!(p, "<tr{class}><td>{}</td><td>{count}</td><td>{down}</td><td>{:.1}</td></tr>", esc(kind), minutes)?;
    }
    write!(
        p,
        r#"</tbody></table></div>
<details><summary>All {} devices</summary>
<div class="table-wrap"><table>
<thead><tr><th>Device</th><th class="t">Kind</th><th>Down minutes</th></tr></thead>
<tbody>
"#,
        k.devices.len()
    )?;
    for d in &k.devices {
        let class = if d.down_minutes > 0.0 { r#" class="down""# } else { "" };
        writeln!(
            p,
            r#"<tr{class}><td>{}</td><td class="t">{}</td><td>{:.1}</td></tr>"#,
            esc(&d.name),
            esc(&humanise(d.kind)),
            d.down_minutes
        )?;
    }
    p.push_str("</tbody></table></div>\n</details>\n</section>\n");
    Ok(())
}

const STYLE: &str = r#"
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f5f6f8; --accent: #2563eb; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 36px 24px 48px; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
header .eyebrow { margin: 0; color: var(--accent); font-size: 12px; font-weight: 600; letter-spacing: .08em; text-transform: uppercase; }
header h1 { margin: 2px 0 0; font-size: 32px; line-height: 1.2; letter-spacing: -.01em; }
header .range { margin: 2px 0 14px; font-size: 18px; font-weight: 500; }
header .range span { color: var(--muted); font-weight: 400; font-size: 15px; }
.meta { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0; }
.meta div { min-width: 0; }
.meta dt { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .06em; }
.meta dd { margin: 0; font-size: 14px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 24px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px 12px; }
.card .label { color: var(--muted); font-size: 13px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.card .value { font-size: 26px; font-weight: 650; line-height: 1.25; margin-top: 2px; font-variant-numeric: tabular-nums; }
.ci { font-size: .8em; font-weight: 500; color: var(--muted); white-space: nowrap; }
.card .ci { font-size: 14px; line-height: 1.3; }
.card .sub { color: var(--muted); font-size: 13px; margin-top: 2px; }
#replenishment { margin-bottom: 24px; }
#replenishment .cards { margin-top: 4px; }
.card .verdict { font-size: 11.5px; font-weight: 600; letter-spacing: .05em; text-transform: uppercase; margin-top: 4px; }
.good { color: #16a34a; } .bad { color: #dc2626; } .unsure { color: var(--muted); }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
section { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 22px 24px 24px; margin: 20px 0; }
h2 { font-size: 20px; margin: 0 0 4px; letter-spacing: -.005em; }
.lede { color: var(--muted); font-size: 14px; margin: 0 0 16px; max-width: 80ch; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 28px 32px; align-items: start; margin-bottom: 26px; }
section > .grid2:last-child { margin-bottom: 0; }
figure { margin: 0 0 26px; }
.grid2 figure { margin-bottom: 0; }
section > figure:last-child { margin-bottom: 0; }
figcaption { font-weight: 600; font-size: 15px; margin: 0 0 6px; }
figcaption span { color: var(--muted); font-weight: 400; font-size: 13px; margin-left: 6px; }
figure svg { display: block; width: 100%; height: auto; }
figure svg text { font-family: inherit; }
.floor svg rect { shape-rendering: crispEdges; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th.t, td.t { text-align: left; }
thead th { color: var(--muted); font-size: 11.5px; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; vertical-align: bottom; }
thead th.span { text-align: center; border-bottom: 1px solid var(--line); }
thead tr:last-child th { border-bottom: 2px solid var(--line); }
tbody tr:hover { background: #f9fafb; }
tr.group th { text-align: left; padding-top: 14px; font-size: 13px; color: var(--ink); border-bottom: 1px solid var(--line); }
tr.down td { color: #b91c1c; }
table.kpis { margin-bottom: 20px; }
.grid2 table.kpis td:first-child { white-space: normal; }
h3 { font-size: 15px; margin: 20px 0 2px; }
ul.only { margin: 8px 0 0; padding-left: 20px; font-size: 13.5px; columns: 2; column-gap: 32px; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 8px; }
details { margin-top: 14px; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; align-items: start; margin: 20px 0; }
.pair > section { margin: 0; }
footer { color: var(--muted); font-size: 13px; margin-top: 24px; }
td.none, p.none { color: var(--muted); font-style: italic; }
p.none { font-size: 14px; margin: 8px 0 0; }
ul.explain { margin: 6px 0 22px; padding-left: 20px; font-size: 14px; max-width: 90ch; }
ul.explain li { margin: 3px 0; }
figcaption.long span { display: block; margin: 2px 0 0; max-width: 110ch; }
th.wrap { white-space: normal; max-width: 11em; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
td.best { color: #15803d; font-weight: 650; } td.worst { color: #b91c1c; font-weight: 650; }
table.compact th, table.compact td { padding: 6px 7px; }
table.compact thead th { white-space: normal; }
.tag { color: var(--muted); font-size: 12px; margin-left: 8px; }
section h3:first-child { margin-top: 0; }
td.mark, span.mark { font-weight: 700; font-size: 15px; }
table.verdicts { max-width: 900px; }
ul.invariants { list-style: none; margin: 6px 0 0; padding: 0; font-size: 14px; }
ul.invariants li { margin: 4px 0; padding-left: 1.6em; text-indent: -1.6em; }
ul.invariants .mark { display: inline-block; width: 1.6em; text-indent: 0; }
@media (max-width: 860px) { .grid2, .pair { grid-template-columns: 1fr; } .cards { grid-template-columns: repeat(2, 1fr); } main { padding: 20px 12px; } }
@media print { body { background: #fff; } main { max-width: none; padding: 0; } section { break-inside: avoid; border: 0; padding: 0; } .card { break-inside: avoid; } }
"#;
