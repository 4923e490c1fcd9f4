//! `report.html` of a chain run ([`write_chain_report`]): the chain's day on one page.
//!
//! In the style of the one-store report (inline CSS, charts as inline SVG, no script,
//! nothing fetched): the run's identity and headline cards; the stores ranked by sales with
//! the best and worst of each figure marked; the chain over the day; online and kiosk
//! orders by channel, their pick times against the target, each store's share picked within
//! it and how the orders ended (`html/orders.rs`); the coupon funnel of each campaign, or a
//! sentence when the chain has none (`html/coupons.rs`); settlement: each party's net
//! position, who funded the discounts, each store's books and every reconciliation identity
//! (`html/settlement.rs`); and the members' points by level and channel
//! (`html/members.rs`). Headline cards are means across replications (with 95% confidence
//! intervals when there are several); the rest shows replication 1, whose seed is the
//! run's. Every caption is computed from the data.

use std::fmt::Write as _;
use std::path::Path;

use plotters::style::RGBColor;
use serde_json::Value;
use storetwin_actors::chain::run::ChainRun;
use storetwin_actors::chain::spec::ChainSpec;
use storetwin_actors::chain::summary::{ChainKpis, ChainStoreKpis};
use storetwin_eventlog::atomic::write_atomic;
use storetwin_scenarios::Chain;

use super::charts::{self, ACCENT, BAD, Bar, Day, GOOD, Key, Line, clock, grouped, queue_colour};
use super::{Card, HALF, Tone, Unit, esc, figure, page_end, page_start, write_cards};
use super::{coupons, members, orders, settlement};
use crate::chain::chain_samples;
use crate::stats::{Estimate, estimate};
use crate::{Error, Result};

/// Stores drawn one line each on the charts over the day; a larger chain is drawn as its
/// total.
const LINES_PER_STORE_UP_TO: usize = 8;

/// Writes the report of `runs` of `chain` (in replication order; at least one) to `path`
/// (atomically). `summary` is what `summary.json` holds ([`crate::chain::chain_summary`]);
/// the run's identity is read from its `run` object.
pub fn write_chain_report(path: &Path, chain: &Chain, runs: &[ChainRun], summary: &Value) -> Result<()> {
    let started = std::time::Instant::now();
    let html = render(chain, runs, summary)?;
    write_atomic(path, |w| w.write_all(html.as_bytes()))?;
    tracing::info!(path = %path.display(), bytes = html.len(), ms = started.elapsed().as_secs_f64() * 1e3, "chain report written");
    Ok(())
}

/// Who owns a store: HQ, or a franchisee keeping a share of its net sales.
pub(super) fn owner(spec: &ChainSpec, store: &str) -> String {
    match spec.stores.iter().find(|s| s.name == store).and_then(|s| s.franchise_bps) {
        Some(bps) => format!("franchise ({}%)", grouped(f64::from(bps) / 100.0, 0)),
        None => "HQ".to_string(),
    }
}

/// A channel's name as a planner reads it.
pub(super) fn channel_name(channel: &str) -> String {
    match channel {
        "all" => "All channels".to_string(),
        "app" => "App".to_string(),
        "mini_program" => "Mini-program".to_string(),
        "web" => "Web".to_string(),
        "kiosk" => "Kiosks (in store)".to_string(),
        "store" => "In store".to_string(),
        other => {
            let s = other.replace('_', " ");
            let mut c = s.chars();
            c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        }
    }
}

/// Minutes of a duration in seconds, as the page writes them ("12.5 min", "15 min").
pub(super) fn minutes(s: f64) -> String {
    let m = s / 60.0;
    if m.fract() == 0.0 { format!("{} min", grouped(m, 0)) } else { format!("{} min", grouped(m, 1)) }
}

/// A share as a percentage with one decimal.
pub(super) fn pct(v: f64) -> String {
    format!("{}%", grouped(100.0 * v, 1))
}

fn render(chain: &Chain, runs: &[ChainRun], summary: &Value) -> Result<String> {
    let first = runs.first().ok_or(Error::Input("a report needs at least one run"))?;
    let run = summary.get("run").ok_or(Error::Input("summary has no `run` object"))?;
    let all: Vec<ChainKpis> = runs.iter().map(ChainRun::kpis).collect();
    let k = &all[0];
    let spec = &chain.spec;
    let day = Day::new(spec.open_at_s, first.end);
    let n = runs.len();

    let mut page = String::with_capacity(1 << 20);
    let p = &mut page;
    page_start(p, &format!("{} \u{2014} chain day report", spec.name))?;
    let text_of = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "?".to_string(),
    };
    let franchised = spec.stores.iter().filter(|s| s.franchise_bps.is_some()).count();
    write!(
        p,
        r#"<header>
<p class="eyebrow">storetwin chain day report</p>
<h1>{name}</h1>
<p class="range">{open} &rarr; {close} <span>&middot; {hours} h simulated &middot; {stores} stores ({franchised} franchised) and the central platform</span></p>
<dl class="meta">
<div><dt>Scenario</dt><dd><code>{scenario_file}</code></dd></div>
<div><dt>Scenario hash</dt><dd><code>{hash}</code></dd></div>
<div><dt>Seed</dt><dd><code>{seed}</code></dd></div>
<div><dt>Replications</dt><dd>{n}</dd></div>
<div><dt>Event hash</dt><dd><code>{event_hash}</code></dd></div>
<div><dt>Events</dt><dd>{events}</dd></div>
<div><dt>storetwin</dt><dd>{version}</dd></div>
</dl>
</header>
"#,
        name = esc(&spec.name),
        open = clock(day.open_h),
        close = clock(day.close_h),
        hours = grouped(day.close_h - day.open_h, 1),
        stores = spec.stores.len(),
        scenario_file = esc(&text_of(run.get("scenario"))),
        hash = esc(&text_of(run.get("scenario_hash"))),
        seed = esc(&text_of(run.get("seed"))),
        event_hash = esc(&first.event_hash.to_string()),
        events = grouped(first.events as f64, 0),
        version = esc(&text_of(run.get("version"))),
    )?;

    cards(p, spec, &all)?;
    stores_section(p, spec, k, n)?;
    over_the_day(p, first, &day, n)?;
    orders::section(p, spec, k)?;
    coupons::section(p, spec, &k.coupons)?;
    settlement::section(p, spec, k, first)?;
    members::section(p, spec, k)?;

    page_end(
        p,
        &format!(
            r#"Written by storetwin {version} from <code>{scenario_file}</code> (scenario hash <code>{hash}</code>, seed <code>{seed}</code>). The same chain file and seed give the same figures on any machine and any number of threads: event hash <code>{event_hash}</code>. Every store's own KPIs, as a one-store run reports them, are in <code>summary.json</code> under <code>stores</code>."#,
            version = esc(&text_of(run.get("version"))),
            scenario_file = esc(&text_of(run.get("scenario"))),
            hash = esc(&text_of(run.get("scenario_hash"))),
            seed = esc(&text_of(run.get("seed"))),
            event_hash = esc(&first.event_hash.to_string()),
        ),
    )?;
    Ok(page)
}

/// A figure across replications.
fn across(all: &[ChainKpis], f: impl Fn(&ChainKpis) -> f64) -> Estimate {
    estimate(&all.iter().map(f).collect::<Vec<_>>())
}

/// A card of an estimate: its mean (\u{b1} the 95% half-width when n > 1).
fn estimate_card(label: &str, e: Estimate, unit: Unit, sub: String) -> Card {
    Card {
        label: label.to_string(),
        value: unit.card(e.mean, e.mean),
        ci: (e.n > 1).then(|| format!("\u{b1}{}", unit.card(e.ci95, e.mean))),
        sub,
        tone: None,
        verdict: None,
    }
}

/// The headline cards: means across replications (\u{b1} the 95% half-width when n > 1).
fn cards(p: &mut String, spec: &ChainSpec, all: &[ChainKpis]) -> Result<()> {
    let k = &all[0];
    let mean = |f: &dyn Fn(&ChainKpis) -> f64| across(all, f).mean;
    let target = spec.platform.pick_target.as_secs_f64();
    let s = &k.settlement;
    let holds_everywhere = all.iter().all(|k| k.settlement.reconciliation.holds);
    let broken: usize = all.iter().map(|k| k.settlement.reconciliation.broken.len()).sum();
    let worst_lost = k.stores.iter().max_by(|a, b| lost_value(a).total_cmp(&lost_value(b)));
    let sales = mean(&|k| k.chain.sales);
    let lost = mean(&|k| k.chain.lost_sales_value);
    let cards = vec![
        estimate_card(
            "Shoppers in store",
            across(all, |k| k.chain.shoppers_in_store as f64),
            Unit::Count,
            format!(
                "{} bought \u{b7} conversion {}",
                grouped(mean(&|k| k.chain.buyers as f64), 0),
                pct(mean(&|k| ratio(k.chain.buyers as f64, k.chain.shoppers_in_store as f64)))
            ),
        ),
        estimate_card(
            "Sales in store",
            across(all, |k| k.chain.sales),
            Unit::Money,
            format!(
                "{} items \u{b7} {} off at the tills",
                grouped(mean(&|k| k.chain.items_sold as f64), 0),
                grouped(mean(&|k| k.chain.discounts), 0)
            ),
        ),
        estimate_card(
            "Online orders",
            across(all, |k| k.chain.online_orders as f64),
            Unit::Count,
            format!(
                "worth {} \u{b7} and {} from kiosks",
                grouped(mean(&|k| k.chain.online_value), 0),
                grouped(mean(&|k| k.chain.kiosk_orders as f64), 0)
            ),
        ),
        estimate_card(
            &format!("Picked within {}", minutes(target)),
            across(all, |k| k.orders.all.share_picked_within_target),
            Unit::Percent,
            format!(
                "of {} picked \u{b7} p90 {}",
                grouped(mean(&|k| k.orders.all.picked as f64), 0),
                minutes(mean(&|k| k.orders.all.pick_p90_s))
            ),
        ),
        estimate_card(
            "Lost sales",
            across(all, |k| k.chain.lost_sales_value),
            Unit::Money,
            match worst_lost {
                Some(w) if lost > 0.0 => {
                    format!("{} of sales \u{b7} most at {}", pct(ratio(lost, sales + lost)), w.name)
                }
                _ => "nothing was lost".to_string(),
            },
        ),
        Card {
            label: "Settlement".into(),
            value: if holds_everywhere { "Holds".into() } else { "Broken".into() },
            ci: None,
            sub: if holds_everywhere {
                format!("all {} identities, to the cent", s.reconciliation.identities)
            } else {
                format!("{broken} of the identities do not hold")
            } + &format!(" \u{b7} paid {}", grouped(mean(&|k| k.settlement.paid), 0)),
            tone: Some(if holds_everywhere { Tone::Good } else { Tone::Bad }),
            verdict: None,
        },
        estimate_card(
            "HQ net",
            across(all, |k| k.settlement.hq_net),
            Unit::Money,
            format!(
                "franchisees {} \u{b7} fees {}",
                grouped(mean(&|k| k.settlement.franchisees_net), 0),
                grouped(mean(&|k| k.settlement.payment_channels_net), 0)
            ),
        ),
        estimate_card(
            "Member points earned",
            across(all, |k| k.members.earned as f64),
            Unit::Count,
            format!(
                "{} redeemed \u{b7} {} members",
                grouped(mean(&|k| k.members.redeemed as f64), 0),
                grouped(f64::from(k.members.population), 0)
            ),
        ),
    ];
    write_cards(p, &cards)?;
    if all.len() > 1 {
        writeln!(
            p,
            r#"<p class="note">Means across {} replications, &plusmn; the half-width of the 95% confidence interval of the mean. The sections below show replication 1.</p>"#,
            all.len()
        )?;
    }
    Ok(())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

pub(super) fn lost_value(s: &ChainStoreKpis) -> f64 {
    s.kpis.lost_sales.values().map(|l| l.value).sum()
}

/// Which way a column of the store table is better, if either.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
    Neither,
}

/// One column of the store table: heading, value of a store, how it is written, which
/// way is better.
struct Column {
    heading: &'static str,
    value: fn(&ChainStoreKpis) -> f64,
    write: fn(f64) -> String,
    better: Better,
}

const COLUMNS: [Column; 11] = [
    Column { heading: "Shoppers", value: |s| s.kpis.footfall.truth, write: |v| grouped(v, 0), better: Better::Neither },
    Column { heading: "Sales", value: |s| s.kpis.sales, write: |v| grouped(v, 0), better: Better::Higher },
    Column { heading: "Conversion", value: |s| s.kpis.conversion, write: pct, better: Better::Higher },
    Column {
        heading: "Sales per m\u{b2}",
        value: |s| s.kpis.sales_per_m2,
        write: |v| grouped(v, 1),
        better: Better::Higher,
    },
    Column {
        heading: "Mean wait",
        value: |s| s.kpis.wait_s.mean,
        write: |v| format!("{} s", grouped(v, 1)),
        better: Better::Lower,
    },
    Column { heading: "Lost sales", value: lost_value, write: |v| grouped(v, 0), better: Better::Lower },
    Column {
        heading: "Orders picked",
        value: |s| s.online.orders_picked as f64,
        write: |v| grouped(v, 0),
        better: Better::Neither,
    },
    Column {
        heading: "Within target",
        value: |s| s.online.share_picked_within_target,
        write: pct,
        better: Better::Higher,
    },
    Column { heading: "Mean pick", value: |s| s.online.mean_pick_s, write: minutes, better: Better::Lower },
    Column {
        heading: "Picker utilisation",
        value: |s| s.online.picker_utilisation,
        write: pct,
        better: Better::Neither,
    },
    Column {
        heading: "Counter wait",
        value: |s| s.online.mean_counter_wait_s,
        write: |v| format!("{} s", grouped(v, 1)),
        better: Better::Lower,
    },
];

/// The stores ranked by sales, each figure's best and worst marked, and two charts.
fn stores_section(p: &mut String, spec: &ChainSpec, k: &ChainKpis, replications: usize) -> Result<()> {
    let mut ranked: Vec<&ChainStoreKpis> = k.stores.iter().collect();
    ranked.sort_by(|a, b| b.kpis.sales.total_cmp(&a.kpis.sales).then_with(|| a.name.cmp(&b.name)));
    let target = spec.platform.pick_target.as_secs_f64();
    let mut lede = format!(
        "{}Ranked by sales (HQ-owned stores unless marked as franchised); in each column the best store is marked green and the worst red (shoppers, orders picked and picker utilisation are neither better nor worse). Conversion is buyers per shopper; mean wait is in the checkout queues; orders are those the store's pickers picked (online and kiosk), within target meaning within {} of reaching the store; counter wait is at the pickup counter.",
        if replications > 1 { "Replication 1. " } else { "" },
        minutes(target)
    );
    if let (Some(best), Some(worst)) = (ranked.first(), ranked.last())
        && ranked.len() > 1
    {
        let slowest = k
            .stores
            .iter()
            .filter(|s| s.online.orders_picked > 0)
            .min_by(|a, b| a.online.share_picked_within_target.total_cmp(&b.online.share_picked_within_target));
        write!(
            lede,
            " {} sold the most ({}), {} the least ({}).",
            best.name,
            grouped(best.kpis.sales, 0),
            worst.name,
            grouped(worst.kpis.sales, 0)
        )?;
        if let Some(s) = slowest {
            write!(
                lede,
                " {} picked the smallest share of its orders within target ({} of {}, {} picker{}).",
                s.name,
                pct(s.online.share_picked_within_target),
                grouped(s.online.orders_picked as f64, 0),
                s.online.pickers,
                if s.online.pickers == 1 { "" } else { "s" }
            )?;
        }
    }
    write!(
        p,
        r#"<section id="stores">
<h2>Stores</h2>
<p class="lede">{}</p>
<div class="table-wrap"><table id="store-table" class="compact">
<thead><tr><th>#</th><th class="t">Store</th>"#,
        esc(&lede)
    )?;
    for c in &COLUMNS {
        write!(p, "<th>{}</th>", esc(c.heading))?;
    }
    p.push_str("</tr></thead>\n<tbody>\n");
    // The best and worst value of each column (only when the stores differ in it).
    let extremes: Vec<Option<(f64, f64)>> = COLUMNS
        .iter()
        .map(|c| {
            let values: Vec<f64> = ranked.iter().map(|s| (c.value)(s)).collect();
            let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
            match c.better {
                _ if ranked.len() < 2 || (c.write)(lo) == (c.write)(hi) => None,
                Better::Higher => Some((hi, lo)),
                Better::Lower => Some((lo, hi)),
                Better::Neither => None,
            }
        })
        .collect();
    for (rank, s) in ranked.iter().enumerate() {
        write!(
            p,
            r#"<tr data-store="{name}"><td>{}</td><td class="t">{name}{}</td>"#,
            rank + 1,
            match owner(spec, &s.name).as_str() {
                "HQ" => String::new(),
                franchise => format!(r#"<span class="tag">{}</span>"#, esc(franchise)),
            },
            name = esc(&s.name),
        )?;
        for (c, extreme) in COLUMNS.iter().zip(&extremes) {
            let v = (c.value)(s);
            let class = match extreme {
                Some((best, _)) if (c.write)(v) == (c.write)(*best) => r#" class="best""#,
                Some((_, worst)) if (c.write)(v) == (c.write)(*worst) => r#" class="worst""#,
                _ => "",
            };
            write!(p, "<td{class}>{}</td>", esc(&(c.write)(v)))?;
        }
        p.push_str("</tr>\n");
    }
    p.push_str("</tbody></table></div>\n");

    // Sales per store, best green and worst red; mean wait per store.
    let total: f64 = ranked.iter().map(|s| s.kpis.sales).sum();
    let colours = best_and_worst(&ranked.iter().map(|s| grouped(s.kpis.sales, 0)).collect::<Vec<_>>());
    let sales: Vec<Bar> = ranked
        .iter()
        .enumerate()
        .map(|(i, s)| Bar {
            label: s.name.clone(),
            value: s.kpis.sales,
            colour: colours[i],
            note: format!("{} \u{b7} {}", grouped(s.kpis.sales, 0), pct(ratio(s.kpis.sales, total))),
        })
        .collect();
    let max_sales = ranked.first().map_or(1.0, |s| s.kpis.sales).max(1.0);
    let label_px = label_width(ranked.iter().map(|s| s.name.as_str()));
    let height = bars_height(ranked.len());
    let sales_svg = charts::bars(&sales, 0.0..max_sales * 1.4, "", &|v| grouped(*v, 0), label_px, (HALF.0, height))?;
    let waits: Vec<Bar> = ranked
        .iter()
        .map(|s| Bar {
            label: s.name.clone(),
            value: s.kpis.wait_s.mean,
            colour: ACCENT,
            note: format!("{} s \u{b7} p90 {} s", grouped(s.kpis.wait_s.mean, 1), grouped(s.kpis.wait_s.p90, 0)),
        })
        .collect();
    let max_wait = ranked.iter().map(|s| s.kpis.wait_s.mean).fold(1.0, f64::max);
    let waits_svg =
        charts::bars(&waits, 0.0..max_wait * 1.6, "seconds", &|v| grouped(*v, 0), label_px, (HALF.0, height + 16))?;
    write!(
        p,
        r#"<div class="grid2" style="margin-top:22px">
{}
{}
</div>
</section>
"#,
        figure("chart-store-sales", "Sales per store", "ranked, with each store's share of the chain", &sales_svg),
        figure("chart-store-waits", "Mean wait in the checkout queues", "per store, with the p90", &waits_svg),
    )?;
    Ok(())
}

/// Colours of bars ranked best first, by their figures as written: green for the best,
/// red for the worst, the accent for the others, and for all when they are alike.
pub(super) fn best_and_worst(written: &[String]) -> Vec<RGBColor> {
    let (best, worst) = (written.first(), written.last());
    written
        .iter()
        .map(|w| match (best, worst) {
            (Some(b), Some(l)) if b == l => ACCENT,
            (Some(b), _) if w == b => GOOD,
            (_, Some(l)) if w == l => BAD,
            _ => ACCENT,
        })
        .collect()
}

/// Width of the label column of a bar chart whose rows are `labels`.
pub(super) fn label_width<'a>(labels: impl Iterator<Item = &'a str>) -> u32 {
    (labels.map(|l| charts::text_width(l, 13.0)).max().unwrap_or(60) as u32 + 20).clamp(80, 240)
}

/// Height of a bar chart of `rows` bars.
pub(super) fn bars_height(rows: usize) -> u32 {
    (50 + 36 * rows as u32).max(150)
}

/// The means of each run of `n` points, at the run's last point (a line that reads
/// through minute-to-minute noise).
fn means(points: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    points.chunks(n.max(1)).map(|c| (c[c.len() - 1].0, c.iter().map(|p| p.1).sum::<f64>() / c.len() as f64)).collect()
}

/// Shoppers inside and waiting to pay over the day, per store (or for the chain when it
/// has many stores).
fn over_the_day(p: &mut String, run: &ChainRun, day: &Day, replications: usize) -> Result<()> {
    let per_store = run.stores.len() <= LINES_PER_STORE_UP_TO;
    let lines = |f: fn(&storetwin_actors::store::world::Sample) -> f64,
                 total: fn(&crate::chain::ChainSample) -> f64| {
        if per_store {
            run.stores
                .iter()
                .enumerate()
                .map(|(i, s)| Line {
                    key: Key { label: s.name.clone(), colour: queue_colour(i) },
                    points: s.day.samples.iter().map(|x| (day.hour_of(x.at), f(x))).collect(),
                })
                .collect::<Vec<_>>()
        } else {
            vec![Line {
                key: Key { label: "the chain".into(), colour: ACCENT },
                points: chain_samples(run).iter().map(|x| (day.hour_of(x.at), total(x))).collect(),
            }]
        }
    };
    let inside =
        charts::lines(day, &lines(|s| f64::from(s.occupancy), |c| c.occupancy as f64), "shoppers inside", HALF)?;
    let waiting = lines(|s| f64::from(s.queue_total), |c| c.queue_total as f64);
    let waiting: Vec<Line> = waiting.into_iter().map(|l| Line { key: l.key, points: means(&l.points, 10) }).collect();
    let waiting = charts::lines(day, &waiting, "waiting to pay", HALF)?;
    let samples = chain_samples(run);
    let peak = samples.iter().max_by_key(|s| (s.occupancy, std::cmp::Reverse(s.at)));
    let lede = match peak {
        Some(peak) => format!(
            "{}Minute by minute{}. The chain's stores held {} shoppers at once at the peak, at {}; {} were waiting to pay then. timeseries.csv has these figures for every minute.",
            if replications > 1 { "Replication 1. " } else { "" },
            if per_store { ", one line per store" } else { ", the chain's stores summed" },
            grouped(peak.occupancy as f64, 0),
            clock(day.hour_of(peak.at)),
            grouped(peak.queue_total as f64, 0),
        ),
        None => "No samples were taken.".to_string(),
    };
    write!(
        p,
        r#"<section id="over-the-day">
<h2>Over the day</h2>
<p class="lede">{}</p>
<div class="grid2">
{}
{}
</div>
</section>
"#,
        esc(&lede),
        figure("chart-chain-occupancy", "Shoppers in the stores", "", &inside),
        figure("chart-chain-queues", "Waiting to pay", "in all checkout queues, mean per 10 minutes", &waiting),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use storetwin_actors::chain::run::run_chain;
    use storetwin_engine::Seed;

    use super::*;
    use crate::summary::Measured;

    fn text(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&amp;", "&").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_page_has_every_section_and_the_summary_figures() {
        let chain = crate::chain::chain_opening(2);
        let runs: Vec<ChainRun> =
            (0..2).map(|i| run_chain(&chain.spec, Seed(5).replication(i), 1).expect("the chain runs")).collect();
        let measured = Measured { threads: 1, wall_s: 1.0, heap_allocations: None };
        let summary = crate::chain::chain_summary(&chain, Seed(5), &runs, &measured);
        let html = render(&chain, &runs, &summary).expect("the page renders");
        for id in [
            "id=\"stores\"",
            "id=\"store-table\"",
            "id=\"over-the-day\"",
            "id=\"orders\"",
            "id=\"chart-pick-times\"",
            "id=\"chart-within-target\"",
            "id=\"chart-order-outcomes\"",
            "id=\"coupons\"",
            "id=\"settlement\"",
            "id=\"reconciliation\"",
            "id=\"members\"",
        ] {
            assert!(html.contains(id), "no {id}");
        }
        assert!(!html.contains("<script"), "no script");
        let words = text(&html);
        // Replication 1's figures, as summary.json has them.
        let k = &summary;
        let f = |v: &Value| v.as_f64().expect("a number");
        let store_sales = grouped(f(&k["stores"][0]["sales"]), 0);
        assert!(words.contains(&store_sales), "riverside's sales {store_sales}");
        let paid = grouped(f(&k["settlement"]["paid"]), 2);
        assert!(words.contains(&paid), "paid {paid}");
        let earned = grouped(f(&k["members"]["earned"]), 0);
        assert!(words.contains(&earned), "points earned {earned}");
        let identities = k["settlement"]["reconciliation"]["identities"].as_u64().expect("a count");
        assert!(words.contains(&format!("all {identities} identities")), "identities");
        for c in k["orders"]["by_channel"].as_array().expect("channels") {
            let orders = grouped(f(&c["orders"]), 0);
            let name = channel_name(c["channel"].as_str().expect("a name"));
            assert!(words.contains(&format!("{name} {orders}")), "{name}: {orders} orders");
        }
        // Kiosk orders to collect: the ship-to-store table with the transfers as counted, or
        // the sentence saying there were none.
        let t = &k["transfers"];
        if f(&t["kiosk_collect_orders"]) > 0.0 {
            assert!(html.contains("id=\"transfer-table\""), "a transfer table");
            let sent = format!(
                "{} transfers were sent and {} received",
                grouped(f(&t["sent"]), 0),
                grouped(f(&t["received"]), 0)
            );
            assert!(words.contains(&sent), "{sent}");
        } else {
            assert!(html.contains("id=\"transfers-none\"") && !html.contains("id=\"transfer-table\""));
        }
        // The headline sales card is the mean of the two replications.
        let mean = (runs[0].kpis().chain.sales + runs[1].kpis().chain.sales) / 2.0;
        assert!(words.contains(&format!("Sales in store {}", grouped(mean, 0))), "the mean sales");
        // The stores are ranked by sales.
        let order: Vec<usize> = ["riverside", "old-town", "station"]
            .iter()
            .map(|s| html.find(&format!("data-store=\"{s}\"")).expect("a row per store"))
            .collect();
        let kpis = runs[0].kpis();
        let sales: Vec<f64> = kpis.stores.iter().map(|s| s.kpis.sales).collect();
        for i in 0..3 {
            for j in 0..3 {
                if sales[i] > sales[j] {
                    assert!(order[i] < order[j], "a store that sold more comes first");
                }
            }
        }
    }

    #[test]
    fn the_page_is_written_whole_or_not_at_all() {
        let chain = crate::chain::chain_opening(1);
        let runs = [run_chain(&chain.spec, Seed(9), 1).expect("the chain runs")];
        let measured = Measured { threads: 1, wall_s: 1.0, heap_allocations: None };
        let summary = crate::chain::chain_summary(&chain, Seed(9), &runs, &measured);
        let dir = std::env::temp_dir().join(format!("storetwin-chain-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let path = dir.join("report.html");
        std::fs::write(&path, "old").expect("an old page");
        let refused = write_chain_report(&path, &chain, &runs, &serde_json::json!({}));
        assert!(matches!(refused, Err(Error::Input(_))), "a summary without its run object is refused");
        assert_eq!(std::fs::read_to_string(&path).expect("the old page"), "old", "left as it was");
        let no_runs = write_chain_report(&path, &chain, &[], &summary);
        assert!(matches!(no_runs, Err(Error::Input(_))));
        write_chain_report(&path, &chain, &runs, &summary).expect("the page is written");
        let page = std::fs::read_to_string(&path).expect("the new page");
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"), "the whole page");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .expect("the directory")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
