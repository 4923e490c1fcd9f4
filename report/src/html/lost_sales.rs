//! The report's lost-sales section, beside what restocking did: lost sales by cause and by
//! category as bars, the SKUs that lost the most with their causes, and the staff rounds,
//! low-stock alerts, restock trips and units moved of the same day, so that a planner sees
//! the stock-outs and the replenishment together.

use std::fmt::Write as _;

use storetwin_actors::store::metrics::LostCause;
use storetwin_actors::store::summary::{LostBy, StoreKpis};
use storetwin_scenarios::Scenario;

use super::charts::{self, BAD, Bar, grouped};
use super::{Card, FULL, Sensors, cause_label, cause_name, esc, figure, write_cards};
use crate::Result;

/// SKUs listed in the table.
const TOP_SKUS: usize = 10;

/// The section: what was lost and why, restocking, by category, by SKU.
pub(super) fn section(p: &mut String, scenario: &Scenario, k: &StoreKpis, sensors: Sensors) -> Result<()> {
    let value: f64 = k.lost_sales.values().map(|l| l.value).sum();
    let items: u64 = k.lost_sales.values().map(|l| l.items).sum();
    let mut causes: Vec<(&str, f64, u64)> = k.lost_sales.iter().map(|(c, l)| (*c, l.value, l.items)).collect();
    causes.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));
    let shares: Vec<String> = causes
        .iter()
        .filter(|c| c.1 > 0.0)
        .map(|(c, v, _)| format!("{} {}", share_pct(100.0 * v / value), cause_name(c)))
        .collect();
    let lede = if items == 0 {
        "Replication 1. No sale was lost.".to_string()
    } else {
        format!(
            "Replication 1. {} items worth {} went unbought: by value, {}.",
            grouped(items as f64, 0),
            grouped(value, 0),
            shares.join(", ")
        )
    };
    write!(
        p,
        r#"<section id="lost-sales">
<h2>Lost sales and restocking</h2>
<p class="lede">{}</p>
"#,
        esc(&lede)
    )?;
    restocking(p, scenario, k, sensors)?;

    // By cause: only the causes that lost something, the others named in the caption.
    let lost: Vec<Bar> = causes
        .iter()
        .filter(|c| c.2 > 0)
        .map(|(c, v, items)| Bar {
            label: cause_label(c).into(),
            value: *v,
            colour: BAD,
            note: format!("{} \u{b7} {} items", grouped(*v, 0), grouped(*items as f64, 0)),
        })
        .collect();
    let none: Vec<String> = causes.iter().filter(|c| c.2 == 0).map(|(c, _, _)| cause_label(c).to_lowercase()).collect();
    let note = if none.is_empty() {
        "value and items".to_string()
    } else {
        format!("value and items; no loss from: {}", none.join(", "))
    };
    let max = causes.first().map_or(0.0, |c| c.1);
    let by_cause = if lost.is_empty() {
        r#"<p class="none">No sale was lost.</p>"#.to_string()
    } else {
        let height = 46 + 34 * lost.len() as u32;
        charts::bars(&lost, 0.0..max.max(1.0) * 1.35, "value", &|v| grouped(*v, 0), 220, (FULL.0, height.max(150)))?
    };
    p.push_str(&figure("chart-lost", "Lost sales by cause", &note, &by_cause));
    p.push('\n');
    by_category(p, k, value)?;
    sku_table(p, scenario, k, value)?;
    p.push_str("</section>\n");
    Ok(())
}

/// A share in whole percent, "under 1%" for a small one that is not zero.
fn share_pct(pct: f64) -> String {
    if pct > 0.0 && pct < 1.0 { "under 1%".to_string() } else { format!("{pct:.0}%") }
}

/// What replenishment did, next to the stock-outs: rounds, alerts, trips and units.
fn restocking(p: &mut String, scenario: &Scenario, k: &StoreKpis, sensors: Sensors) -> Result<()> {
    let r = &scenario.world.store.replenishment;
    let card = |label: &str, v: u64, sub: String| Card {
        label: label.to_string(),
        value: grouped(v as f64, 0),
        ci: None,
        sub,
        tone: None,
        verdict: None,
    };
    let rounds = match r.round {
        Some(every) => format!("a walk of the floor every {} min", grouped(every.as_secs_f64() / 60.0, 0)),
        None => "none: staff restock on alerts only".to_string(),
    };
    let alerts = if sensors.smart_shelves { "raised by the smart shelves" } else { "no smart shelves to raise them" };
    let per_trip = if k.restock_trips > 0 { k.restocked_units as f64 / k.restock_trips as f64 } else { 0.0 };
    let cards = [
        card("Staff rounds", k.staff_rounds, rounds),
        card("Low-stock alerts", k.low_stock_alerts, alerts.to_string()),
        card(
            "Restock trips",
            k.restock_trips,
            format!("{} staff \u{b7} {} units a trip", r.staff, grouped(per_trip, 1)),
        ),
        card("Units restocked", k.restocked_units, "from the back room to the shelves".to_string()),
    ];
    p.push_str("<div id=\"replenishment\">\n");
    write_cards(p, &cards)?;
    let stock_out = k.lost_sales.get(LostCause::StockOut.name());
    let (so_items, so_value) = stock_out.map_or((0, 0.0), |l| (l.items, l.value));
    writeln!(
        p,
        r#"<p class="note">Empty shelves lost {} items worth {}, while staff made {} restock trips moving {} units. A trip starts on a smart shelf's low-stock alert, or on a round that finds a shelf no working smart shelf watches at its reorder level.</p>
</div>"#,
        grouped(so_items as f64, 0),
        grouped(so_value, 0),
        grouped(k.restock_trips as f64, 0),
        grouped(k.restocked_units as f64, 0),
    )?;
    Ok(())
}

/// The cause that lost most items of `l`, with its share of them.
fn main_cause(l: &LostBy) -> Option<(&'static str, f64)> {
    let (cause, n) = l.by_cause.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
    Some((cause, 100.0 * *n as f64 / l.items.max(1) as f64))
}

/// A bar per category: value lost, with its items and their main cause.
fn by_category(p: &mut String, k: &StoreKpis, total: f64) -> Result<()> {
    let cats = &k.lost_by_category;
    let Some(top) = cats.first() else {
        p.push_str(&figure(
            "chart-lost-category",
            "Lost sales by category",
            "",
            r#"<p class="none">No sale was lost.</p>"#,
        ));
        return Ok(());
    };
    let bars: Vec<Bar> = cats
        .iter()
        .map(|c| {
            let cause = main_cause(c)
                .map_or(String::new(), |(cause, share)| format!(" \u{b7} {} {}", share_pct(share), cause_name(cause)));
            Bar {
                label: c.name.replace('_', " "),
                value: c.value,
                colour: BAD,
                note: format!("{} \u{b7} {} items{cause}", grouped(c.value, 0), grouped(c.items as f64, 0)),
            }
        })
        .collect();
    let height = 46 + 30 * bars.len() as u32;
    let svg = charts::bars(&bars, 0.0..top.value.max(1.0) * 1.5, "value", &|v| grouped(*v, 0), 150, (FULL.0, height))?;
    let note = format!(
        "value lost in each category, with its items and their most common cause; {} lost the most: {} ({} of all)",
        top.name.replace('_', " "),
        grouped(top.value, 0),
        share_pct(100.0 * top.value / total.max(f64::MIN_POSITIVE)),
    );
    p.push_str(&figure("chart-lost-category", "Lost sales by category", &note, &svg));
    p.push('\n');
    Ok(())
}

/// The SKUs that lost the most value, with their category and items by cause.
fn sku_table(p: &mut String, scenario: &Scenario, k: &StoreKpis, total: f64) -> Result<()> {
    let store = &scenario.world.store;
    let top: Vec<&LostBy> = k.lost_by_sku.iter().take(TOP_SKUS).collect();
    if top.is_empty() {
        return Ok(());
    }
    // The causes any of them has, in the model's order.
    let causes: Vec<&'static str> =
        LostCause::ALL.iter().map(|c| c.name()).filter(|c| top.iter().any(|s| s.by_cause.contains_key(c))).collect();
    let share: f64 = top.iter().map(|s| s.value).sum::<f64>() / total.max(f64::MIN_POSITIVE);
    write!(
        p,
        r#"<div id="lost-sku-table">
<h3>The SKUs that lost the most</h3>
<p class="note">The {} of {} SKUs with a loss that lost the most value, together {:.0}% of it; items lost by cause.</p>
<div class="table-wrap"><table>
<thead><tr><th>#</th><th class="t">SKU</th><th class="t">Category</th><th>Value</th><th>Items</th>"#,
        top.len(),
        k.lost_by_sku.len(),
        100.0 * share,
    )?;
    for c in &causes {
        write!(p, r#"<th class="wrap">{}</th>"#, esc(cause_label(c)))?;
    }
    p.push_str("</tr></thead>\n<tbody>\n");
    for (i, s) in top.iter().enumerate() {
        let category = store
            .catalogue
            .iter()
            .find(|sku| sku.name == s.name)
            .and_then(|sku| store.categories.get(usize::from(sku.category.0)))
            .map_or(String::new(), |c| c.name.replace('_', " "));
        write!(
            p,
            r#"<tr><td>{}</td><td class="t">{}</td><td class="t">{}</td><td>{}</td><td>{}</td>"#,
            i + 1,
            esc(&s.name),
            esc(&category),
            grouped(s.value, 2),
            grouped(s.items as f64, 0),
        )?;
        for c in &causes {
            write!(p, "<td>{}</td>", s.by_cause.get(c).map_or("\u{2014}".to_string(), |n| grouped(*n as f64, 0)))?;
        }
        p.push_str("</tr>\n");
    }
    p.push_str("</tbody></table></div>\n</div>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_share_is_not_written_as_zero() {
        assert_eq!(share_pct(0.2), "under 1%");
        assert_eq!(share_pct(0.7), "under 1%", "not rounded up to 1%");
        assert_eq!(share_pct(0.0), "0%");
        assert_eq!(share_pct(84.4), "84%");
    }
}
