//! `compare.html`: the page of a comparison of two scenarios (`storetwin compare A B --out
//! DIR`), next to `comparison.json`.
//!
//! One self-contained page in the style of `report.html`: which scenarios were compared and
//! how, headline cards of the differences B − A of the key KPIs with their 95% confidence
//! intervals, those differences relative to A as a chart, the two floors' heat maps side by
//! side on one scale, occupancy over the day of both, and a table of every KPI. Differences
//! and intervals are from all replications; the floors and the occupancy chart show
//! replication 1 of each (the same seed for both under common random numbers). Two chains
//! get the chain's headline KPIs (sales, pick times against the target, net positions), the
//! chain's occupancy (its stores summed) and no floors.

use std::fmt::Write as _;
use std::path::Path;

use plotters::style::RGBColor;
use storetwin_actors::store::day::DayRun;
use storetwin_engine::SimTime;
use storetwin_scenarios::Scenario;

use super::charts::{self, ACCENT, BAD, Day, GOOD, Interval, Key, Line, MUTED, SENSED, grouped};
use super::{Card, FULL, HALF, Tone, esc, figure, floor, lane_queues, page_end, page_start, swatch, write_cards};
use crate::Result;
use crate::compare::{Comparison, Row, Side, row_decimals};
use crate::kpi::{Better, CURRENCY, Unit};
use crate::stats::{self, Estimate};
use storetwin_eventlog::atomic::write_atomic;

/// The colours of A and B wherever both are drawn.
const A_COLOUR: RGBColor = ACCENT;
const B_COLOUR: RGBColor = SENSED;

/// The KPIs of a chain with a headline card and a bar on the chart of differences.
const CHAIN_HEADLINES: [(&str, &str); 8] = [
    ("chain.sales", "Sales in store"),
    ("chain.conversion", "Conversion"),
    ("orders.within_target", "Picked within target"),
    ("orders.pick_p50_s", "p50 pick time"),
    ("orders.pick_p90_s", "p90 pick time"),
    ("chain.lost_value", "Lost sales (value)"),
    ("settlement.hq_net", "HQ net"),
    ("settlement.franchisees_net", "Franchisees' net"),
];

/// The KPIs of a store with a headline card and a bar on the chart of differences, in that
/// order, with their short names.
const HEADLINES: [(&str, &str); 8] = [
    ("footfall", "Footfall"),
    ("conversion", "Conversion"),
    ("sales", "Sales"),
    ("wait_mean_s", "Mean wait in queue"),
    ("wait_p90_s", "p90 wait in queue"),
    ("lost_value", "Lost sales (value)"),
    ("balked", "Balked"),
    ("reneged", "Reneged"),
];

/// Good or bad news when the difference is significant, unsure when it is not, and no tone
/// for a significant difference that is neither.
fn tone(row: &Row) -> Option<Tone> {
    if !row.significant {
        return Some(Tone::Unsure);
    }
    let up = row.diff.mean > 0.0;
    match row.info.better {
        Better::Higher => Some(if up { Tone::Good } else { Tone::Bad }),
        Better::Lower => Some(if up { Tone::Bad } else { Tone::Good }),
        Better::Neither => None,
    }
}

fn tone_colour(tone: Option<Tone>) -> RGBColor {
    match tone {
        Some(Tone::Good) => GOOD,
        Some(Tone::Bad) => BAD,
        Some(Tone::Unsure) => MUTED,
        None => ACCENT,
    }
}

/// A difference on the page: thousands grouped, a true minus sign, a "+" above zero and no
/// sign on a rounded zero.
fn signed(v: f64, d: usize) -> String {
    let s = grouped(v, d);
    if v > 0.0 && !stats::is_zero(&s) { format!("+{s}") } else { s }
}

/// A row's A, B, B − A and 95% interval as written on the page, in the row's unit, with
/// the decimals that give the interval's half-width two significant digits.
struct Written {
    a: String,
    b: String,
    diff: String,
    interval: String,
}

fn written(row: &Row) -> Written {
    let (scale, d) = (row.unit.scale(), row_decimals(row));
    let (unit, diff_unit) = (row.unit.suffix(), row.unit.diff_suffix());
    let e = row.diff.scaled(scale);
    Written {
        a: format!("{}{unit}", grouped(row.a * scale, d)),
        b: format!("{}{unit}", grouped(row.b * scale, d)),
        diff: format!("{}{diff_unit}", signed(e.mean, d)),
        interval: format!("[{}, {}]{diff_unit}", signed(e.low, d), signed(e.high, d)),
    }
}

/// A mean with its 95% half-width on the page: "12.3 s ± 0.41".
fn plus_minus(e: &Estimate, unit: Unit) -> String {
    let e = e.scaled(unit.scale());
    let d = stats::decimals(&e, unit.default_decimals(), false);
    let mean = format!("{}{}", grouped(e.mean, d), unit.suffix());
    if e.n > 1 { format!("{mean} \u{b1} {}", grouped(e.ci95, d)) } else { mean }
}

/// Writes the page of comparison `c` to `path` (atomically).
pub fn write_comparison_page(path: &Path, c: &Comparison<'_>) -> Result<()> {
    let started = std::time::Instant::now();
    let html = render(c)?;
    write_atomic(path, |w| w.write_all(html.as_bytes()))?;
    tracing::info!(path = %path.display(), bytes = html.len(), ms = started.elapsed().as_secs_f64() * 1e3, "comparison page written");
    Ok(())
}

/// The file name of a scenario without its extension, for titles.
fn name_of(side: &Side<'_>) -> String {
    let path = side.path();
    path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned())
}

/// The headline KPIs of the comparison: a chain's when both sides are chains.
fn headlines(c: &Comparison<'_>) -> &'static [(&'static str, &'static str)] {
    if matches!(c.a, Side::Chain { .. }) { &CHAIN_HEADLINES } else { &HEADLINES }
}

/// The span of the day covering both scenarios' days.
fn common_day(c: &Comparison<'_>) -> Day {
    let (a, b) = (&c.a, &c.b);
    let open_s = a.open_at_s().min(b.open_at_s());
    let close_ns = |s: &Side<'_>| u64::from(s.open_at_s()) * 1_000_000_000 + s.end().as_nanos();
    let end = close_ns(a).max(close_ns(b)) - u64::from(open_s) * 1_000_000_000;
    Day::new(open_s, SimTime::from_nanos(end))
}

fn render(c: &Comparison<'_>) -> Result<String> {
    let (name_a, name_b) = (name_of(&c.a), name_of(&c.b));
    let n = c.replications;
    let pairing = if c.paired { "common random numbers (paired)" } else { "independent seeds (Welch)" };
    let mut page = String::with_capacity(1 << 20);
    let p = &mut page;
    page_start(p, &format!("{name_a} vs {name_b} \u{2014} scenario comparison"))?;

    // Header.
    let side = |label: &str, s: &Side<'_>, colour: RGBColor| {
        format!(
            r#"<div><dt>{label}</dt><dd>{}<code>{}</code></dd></div>
<div><dt>{label} hash</dt><dd><code>{}</code></dd></div>"#,
            swatch(colour),
            esc(&s.path().display().to_string()),
            esc(s.hash())
        )
    };
    write!(
        p,
        r#"<header>
<p class="eyebrow">storetwin scenario comparison</p>
<h1>{title}</h1>
<p class="range">B &minus; A over {n} replications each{upto} <span>&middot; {pairing}</span></p>
<dl class="meta">
{a}
{b}
<div><dt>Seed</dt><dd><code>{seed}</code></dd></div>
<div><dt>Replications</dt><dd>{n}</dd></div>
<div><dt>storetwin</dt><dd>{version}</dd></div>
</dl>
</header>
"#,
        title = esc(&format!("{name_a} vs {name_b}")),
        a = side("A", &c.a, A_COLOUR),
        b = side("B", &c.b, B_COLOUR),
        seed = c.seed,
        upto = match c.until {
            Some(t) => format!(", the day up to {}", storetwin_actors::store::wire::clock(c.a.open_at_s(), t)),
            None => String::new(),
        },
        version = esc(env!("CARGO_PKG_VERSION")),
    )?;

    // Headline cards.
    let headline = |key: &str| c.rows.iter().find(|r| r.kpi == key);
    let cards: Vec<Card> = headlines(c)
        .iter()
        .filter_map(|(key, label)| {
            let row = headline(key)?;
            let verdict = if row.significant { "significant" } else { "not significant" };
            let w = written(row);
            Some(Card {
                label: (*label).to_string(),
                value: w.diff,
                ci: Some(format!("95% CI {}", w.interval)),
                sub: format!("A {} \u{b7} B {}", w.a, w.b),
                tone: tone(row),
                verdict: Some(verdict.to_string()),
            })
        })
        .collect();
    write_cards(p, &cards)?;
    let method = if c.paired {
        "from the paired differences of replications with the same seeds (Student's t)"
    } else {
        "from replications with independent seeds (Welch's t)"
    };
    writeln!(
        p,
        r#"<p class="note">B &minus; A: the difference of the means across {n} replications, with its 95% confidence interval {method}. Green or red where the interval excludes zero (better or worse; for {worse} up is worse); grey where it does not, so the difference may be noise.</p>"#,
        worse = if matches!(c.a, Side::Chain { .. }) {
            "pick times, waits and lost sales"
        } else {
            "waits, lost sales, balks and reneges"
        }
    )?;

    differences(p, c)?;
    floors(p, c, &name_a, &name_b)?;
    occupancy(p, c, &name_a, &name_b)?;
    table(p, c)?;

    page_end(
        p,
        &format!(
            "Written by storetwin {} from <code>{}</code> (scenario hash <code>{}</code>) and <code>{}</code> (scenario hash <code>{}</code>), seed <code>{}</code>, {n} replications each. The same files and seed give the same figures on any machine.",
            esc(env!("CARGO_PKG_VERSION")),
            esc(&c.a.path().display().to_string()),
            esc(c.a.hash()),
            esc(&c.b.path().display().to_string()),
            esc(c.b.hash()),
            c.seed,
        ),
    )?;
    Ok(page)
}

/// A relative difference in percent, with its sign.
fn signed_pct(v: f64, decimals: usize) -> String {
    format!("{}%", signed(v, decimals))
}

/// An interval reaching more than this many times as far from zero as the median of the
/// chart's intervals is drawn on a chart of its own.
const WIDE: f64 = 4.0;

/// Splits interval rows into those drawn on one scale and those whose intervals reach
/// [`WIDE`] times as far from zero as the median does (small counts, such as reneges,
/// whose relative differences vary far more from day to day), each in their order.
fn split_by_reach(rows: Vec<Interval>) -> (Vec<Interval>, Vec<Interval>) {
    let reach = |r: &Interval| r.low.abs().max(r.high.abs());
    let mut reaches: Vec<f64> = rows.iter().map(reach).collect();
    reaches.sort_by(f64::total_cmp);
    let median = reaches.get(reaches.len() / 2).copied().unwrap_or(0.0);
    if median <= 0.0 {
        return (rows, Vec::new());
    }
    rows.into_iter().partition(|r| reach(r) <= WIDE * median)
}

/// The chart of the headline differences relative to A. Its axis reaches a little beyond
/// the widest interval; a few intervals much wider than the rest get a chart of their own,
/// so that they do not flatten the others.
fn differences(p: &mut String, c: &Comparison<'_>) -> Result<()> {
    let mut skipped = Vec::new();
    let rows: Vec<Interval> = headlines(c)
        .iter()
        .filter_map(|(key, label)| {
            let row = c.rows.iter().find(|r| r.kpi == *key)?;
            if row.a == 0.0 {
                skipped.push(*label);
                return None;
            }
            let rel = row.diff.scaled(100.0 / row.a.abs());
            let d = stats::decimals(&rel, 1, row.significant);
            Some(Interval {
                label: (*label).to_string(),
                value: rel.mean,
                low: rel.low,
                high: rel.high,
                colour: tone_colour(tone(row)),
                note: format!("{} [{}, {}]", signed_pct(rel.mean, d), signed_pct(rel.low, d), signed_pct(rel.high, d)),
            })
        })
        .collect();
    let note_px = rows.iter().map(|r| charts::text_width(&r.note, 12.0)).max().unwrap_or(0) as u32 + 28;
    let (narrow, wide) = split_by_reach(rows);
    let chart = |rows: &[Interval]| {
        charts::intervals(rows, "B \u{2212} A, % of A", &|v, d| signed_pct(v, d), 160, note_px, FULL.0)
    };
    let mut figures =
        figure("chart-differences", "Relative differences", "B \u{2212} A in % of A, 95% CI", &chart(&narrow)?);
    if !wide.is_empty() {
        figures.push('\n');
        figures.push_str(&figure(
            "chart-differences-wide",
            "Relative differences with wide intervals",
            "on a scale of their own, so that they do not flatten the others",
            &chart(&wide)?,
        ));
    }
    let skipped = if skipped.is_empty() {
        String::new()
    } else {
        format!(" Left out because A's mean is zero: {}.", skipped.join(", "))
    };
    write!(
        p,
        r#"<section>
<h2>How much B differs from A</h2>
<p class="lede">Each difference B &minus; A as a percentage of A's mean, with its 95% confidence interval as an error bar. Coloured where the interval excludes zero: green better, red worse; grey where it includes zero.{}</p>
{figures}
</section>
"#,
        esc(&skipped),
    )?;
    Ok(())
}

/// The two floors' heat maps side by side, on one scale (two stores only: a chain has a
/// floor per store).
fn floors(p: &mut String, c: &Comparison<'_>, name_a: &str, name_b: &str) -> Result<()> {
    let (Side::Store { scenario: sa, run: ra }, Side::Store { scenario: sb, run: rb }) = (&c.a, &c.b) else {
        return Ok(());
    };
    let high = floor::dwell_max_minutes(&ra.kpis).max(floor::dwell_max_minutes(&rb.kpis));
    let plan = |s: &Scenario, r: &DayRun| floor::floor_plan(s, &r.kpis, &lane_queues(s), HALF.0, Some(high));
    let (svg_a, svg_b) = (plan(sa, ra)?, plan(sb, rb)?);
    let caption = |id: &str, label: &str, name: &str, colour: RGBColor, svg: &str| {
        format!(
            r#"<figure id="{id}" class="floor"><figcaption>{}{label} <span>{}</span></figcaption>{svg}</figure>"#,
            swatch(colour),
            esc(name)
        )
    };
    write!(
        p,
        r#"<section>
<h2>Where shoppers spent their time</h2>
<p class="lede">Shopper-minutes in each cell over the day, replication 1 of each{same}, on one colour scale so the two read alike.</p>
<div class="grid2">
{}
{}
</div>
</section>
"#,
        caption("floor-a", "A", name_a, A_COLOUR, &svg_a),
        caption("floor-b", "B", name_b, B_COLOUR, &svg_b),
        same = if c.paired { " (the same shoppers)" } else { "" },
    )?;
    Ok(())
}

/// Occupancy over the day of both, on one chart.
fn occupancy(p: &mut String, c: &Comparison<'_>, name_a: &str, name_b: &str) -> Result<()> {
    let day = common_day(c);
    let line = |label: &str, name: &str, colour: RGBColor, s: &Side<'_>| {
        let own = Day::new(s.open_at_s(), s.end());
        Line {
            key: Key { label: format!("{label}: {name}"), colour },
            points: s.occupancy().iter().map(|(at, v)| (own.hour_of(*at), *v)).collect(),
        }
    };
    let lines = [line("A", name_a, A_COLOUR, &c.a), line("B", name_b, B_COLOUR, &c.b)];
    let svg = charts::lines(&day, &lines, "shoppers inside", FULL)?;
    write!(
        p,
        r#"<section>
<h2>Over the day</h2>
<p class="lede">Replication 1 of each (seed {}{}); samples every simulated minute.{}</p>
{}
</section>
"#,
        c.a.seed(),
        if c.paired { String::new() } else { format!(" and {}", c.b.seed()) },
        if c.paired {
            " The same shoppers come to both, so the lines part only where B changes what they do."
        } else {
            ""
        },
        figure(
            "chart-occupancy-ab",
            if matches!(c.a, Side::Chain { .. }) { "Shoppers in the chain's stores" } else { "Shoppers in the store" },
            "minute by minute, A and B",
            &svg
        ),
    )?;
    Ok(())
}

/// The first letter in upper case.
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or(String::new(), |first| first.to_uppercase().chain(chars).collect())
}

/// Every KPI both have, under the headings of their groups: A, B, B − A, its 95% interval
/// and whether it excludes zero; then the KPIs only one of them has.
fn table(p: &mut String, c: &Comparison<'_>) -> Result<()> {
    write!(
        p,
        r#"<section id="kpi-diff-table">
<h2>Every KPI</h2>
<p class="lede">Means across {} replications of each; B &minus; A with its 95% confidence interval, written with as many decimals as give the interval's half-width two significant digits. Percentages differ in percentage points (pp); money is in {CURRENCY} (the scenario files name no currency).</p>
<div class="table-wrap"><table class="kpis">
<thead><tr><th>KPI</th><th>A</th><th>B</th><th>B &minus; A</th><th>95% CI</th><th>Significant</th></tr></thead>
<tbody>
"#,
        c.replications
    )?;
    let mut group = None;
    for r in c.rows {
        if group != Some(r.group) {
            group = Some(r.group);
            writeln!(p, r#"<tr class="group"><th colspan="6">{}</th></tr>"#, esc(&capitalised(r.group.title())))?;
        }
        let class = tone(r).map_or(String::new(), |t| format!(r#" class="{}""#, t.class()));
        let w = written(r);
        writeln!(
            p,
            r#"<tr><td title="{}">{}</td><td>{}</td><td>{}</td><td{class}>{}</td><td{class}>{}</td><td{class}>{}</td></tr>"#,
            esc(&r.kpi),
            esc(&capitalised(&r.info.page_label())),
            esc(&w.a),
            esc(&w.b),
            esc(&w.diff),
            esc(&w.interval),
            if r.significant { "yes" } else { "no" },
        )?;
    }
    p.push_str("</tbody></table></div>\n");
    for (side, id, only) in [("A", "only-in-a", c.only_a), ("B", "only-in-b", c.only_b)] {
        if only.is_empty() {
            continue;
        }
        write!(
            p,
            r#"<div id="{id}"><h3>Only in {side}</h3>
<p class="note">Not compared: the other scenario has no such KPI. Mean across {} replications &plusmn; the half-width of its 95% confidence interval.</p>
<ul class="only">
"#,
            c.replications
        )?;
        for o in only {
            writeln!(
                p,
                r#"<li title="{}">{}: {}</li>"#,
                esc(&o.kpi),
                esc(&capitalised(&o.info.title())),
                esc(&plus_minus(&o.value, o.unit))
            )?;
        }
        p.push_str("</ul></div>\n");
    }
    p.push_str("</section>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::kpi::Kpi;

    fn row(kpi: &str, a: f64, diff: f64, half: f64) -> Row {
        let diff = Estimate { mean: diff, ci95: half, low: diff - half, high: diff + half, n: 4 };
        let significant = diff.low > 0.0 || diff.high < 0.0;
        let info = Kpi::of(kpi, &BTreeSet::new());
        Row {
            kpi: kpi.to_string(),
            group: info.group,
            label: info.label(),
            unit: info.unit,
            a,
            b: a + diff.mean,
            diff,
            significant,
            replications: Vec::new(),
            info,
        }
    }

    #[test]
    fn longer_waits_are_bad_more_sales_good_and_an_interval_over_zero_is_unsure() {
        assert_eq!(tone(&row("wait_mean_s", 30.0, 5.0, 1.0)), Some(Tone::Bad));
        assert_eq!(tone(&row("queue[L1].wait_p90_s", 30.0, -5.0, 1.0)), Some(Tone::Good));
        assert_eq!(tone(&row("sales", 1000.0, 50.0, 10.0)), Some(Tone::Good));
        assert_eq!(tone(&row("lost_value", 100.0, -20.0, 5.0)), Some(Tone::Good));
        assert_eq!(tone(&row("sales", 1000.0, 50.0, 60.0)), Some(Tone::Unsure));
        assert_eq!(tone(&row("mean_visit_s", 300.0, 5.0, 1.0)), None, "longer visits are neither");
        assert_eq!(tone(&row("zone[checkout].conversion", 0.3, 0.05, 0.01)), Some(Tone::Good));
    }

    #[test]
    fn differences_carry_their_sign_units_and_the_decimals_of_their_interval() {
        let w = written(&row("wait_mean_s", 30.0, 4.26, 0.53));
        assert_eq!((w.a.as_str(), w.diff.as_str(), w.interval.as_str()), ("30.00 s", "+4.26 s", "[+3.73, +4.79] s"));
        let w = written(&row("conversion", 0.6, 0.012, 0.004));
        assert_eq!((w.a.as_str(), w.diff.as_str(), w.interval.as_str()), ("60.00%", "+1.20 pp", "[+0.80, +1.60] pp"));
        let w = written(&row("mean_visit_s", 349.4, 1.816, 0.656));
        assert_eq!(w.diff, "+1.82 s", "a significant difference of seconds is never a rounded 0.0 min");
        let w = written(&row("sales", 190_399.6, 335.3, 610.0));
        assert_eq!((w.a.as_str(), w.interval.as_str()), ("190,400", "[\u{2212}275, +945]"));
        assert_eq!(written(&row("balked", 3.0, -0.0004, 0.01)).diff, "0.000", "no sign on a rounded zero");
        assert_eq!(signed_pct(0.01, 1), "0.0%", "no sign on a rounded zero");
    }

    fn interval(label: &str, low: f64, high: f64) -> Interval {
        let value = (low + high) / 2.0;
        Interval { label: label.into(), value, low, high, colour: MUTED, note: String::new() }
    }

    #[test]
    fn a_few_far_wider_intervals_get_a_scale_of_their_own() {
        let rows = vec![
            interval("footfall", 0.0, 0.0),
            interval("sales", -0.1, 0.5),
            interval("wait", -2.9, -1.5),
            interval("p90", -3.1, -1.9),
            interval("lost", -3.2, 0.4),
            interval("reneged", -23.6, 0.6),
        ];
        let (narrow, wide) = split_by_reach(rows);
        let names = |rows: &[Interval]| rows.iter().map(|r| r.label.clone()).collect::<Vec<_>>();
        assert_eq!(names(&narrow), ["footfall", "sales", "wait", "p90", "lost"]);
        assert_eq!(names(&wide), ["reneged"]);
        let (narrow, wide) = split_by_reach(vec![interval("a", -1.0, 1.0), interval("b", -3.0, 2.0)]);
        assert_eq!((narrow.len(), wide.len()), (2, 0), "alike intervals share one scale");
        let (narrow, wide) = split_by_reach(vec![interval("a", 0.0, 0.0), interval("b", 0.0, 0.0)]);
        assert_eq!((narrow.len(), wide.len()), (2, 0));
    }
}
