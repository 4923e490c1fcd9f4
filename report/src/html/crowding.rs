//! The report's crowding section: what crowds cost shoppers (seconds slowed and blocked,
//! the time from the door to the first shelf, waits outside a full entrance), how the
//! walkers got round (detours, swaps, squeezes, each said in a sentence), the floor coloured
//! by mean density with the ten densest cells numbered and listed, and each zone's density
//! and shopper-hours lost.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use storetwin_actors::store::crowd::MAX_BLOCKED;
use storetwin_actors::store::summary::StoreKpis;
use storetwin_scenarios::Scenario;

use super::charts::grouped;
use super::floor::{self, cell_in_zone};
use super::{Estimate, FULL, Unit, esc, estimate_card, write_cards};
use crate::Result;

/// `n` and its noun, singular or plural ("1 detour", "9,965 detours").
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n as f64, 0), if n == 1 { one } else { many })
}

/// People per m², as the crowding section writes them.
fn density(v: f64) -> String {
    grouped(v, 2)
}

/// The crowding section.
pub(super) fn section(
    p: &mut String,
    scenario: &Scenario,
    k: &StoreKpis,
    est: &BTreeMap<String, Estimate>,
    lane_queue: &[usize],
) -> Result<()> {
    let c = &k.crowding;
    let cell_m = scenario.world.store.floor.cell_m;
    let replicated = est.values().any(|e| e.n > 1);
    let cards = [
        estimate_card(
            est,
            "Slowed by crowds".into(),
            "crowd.slowed_s_per_shopper",
            c.slowed_s_per_shopper,
            Unit::Seconds,
            format!("per shopper \u{b7} {} shopper-hours in all", grouped(c.slowed_hours, 1)),
        ),
        estimate_card(
            est,
            "Blocked by full cells".into(),
            "crowd.blocked_s_per_shopper",
            c.blocked_s_per_shopper,
            Unit::Seconds,
            format!("per shopper \u{b7} {} shopper-hours in all", grouped(c.blocked_hours, 1)),
        ),
        estimate_card(
            est,
            "Door to first shelf".into(),
            "crowd.to_first_shelf_s",
            c.to_first_shelf_s,
            Unit::Seconds,
            "mean time from the door to the first shelf reached".into(),
        ),
        estimate_card(
            est,
            "Waited outside".into(),
            "crowd.entry_waits",
            c.entry_waits as f64,
            Unit::Count,
            if c.entry_waits == 0 {
                "shoppers held at a full entrance: none".into()
            } else {
                format!("shoppers held at a full entrance, {} s each on average", grouped(c.entry_wait_s_mean, 1))
            },
        ),
    ];
    write!(
        p,
        r#"<section id="crowding">
<h2>Crowding</h2>
<p class="lede">Each cell of {cell} m holds at most {capacity} people: the density limit of {limit} people per m&sup2;. Walking slows as the crowd thickens (Weidmann's speed&ndash;density diagram); a shopper whose next cell is full waits, goes round, or steps past. {which}</p>
"#,
        cell = grouped(cell_m, 1),
        capacity = c.cell_capacity,
        limit = floor::short(c.max_density_per_m2),
        which = if replicated {
            "The cards are means across the replications (&plusmn; the 95% half-width); the rest is replication 1."
        } else {
            "Replication 1."
        },
    )?;
    write_cards(p, &cards)?;
    write!(
        p,
        r#"<ul class="explain">
<li><b>{detours}</b>: a shopper who found the way ahead full took another route round the crowd.</li>
<li><b>{swaps}</b>: two shoppers facing each other between full cells stepped past each other.</li>
<li><b>{squeezes}</b>: a shopper held up for {blocked} s by people walking stepped into the full cell anyway.</li>
</ul>
"#,
        detours = count(c.detours, "detour", "detours"),
        swaps = count(c.swaps, "swap", "swaps"),
        squeezes = count(c.squeezes, "squeeze", "squeezes"),
        blocked = MAX_BLOCKED.as_secs_f64(),
    )?;

    let svg = floor::density_plan(scenario, k, lane_queue, FULL.0)?;
    writeln!(
        p,
        r#"<figure id="floor-density" class="floor"><figcaption class="long">Mean density <span>{}</span></figcaption>{svg}</figure>"#,
        esc(&densest_caption(scenario, k))
    )?;
    p.push_str("<div class=\"grid2\">\n");
    densest_table(p, scenario, k)?;
    zone_table(p, k)?;
    p.push_str("</div>\n</section>\n");
    Ok(())
}

/// What the density plan shows, from its data: the densest cell, where the ten densest
/// are, the densest zone on average and at its peak, and cells denser than the limit.
pub(super) fn densest_caption(scenario: &Scenario, k: &StoreKpis) -> String {
    let c = &k.crowding;
    let Some(top) = c.densest.first() else { return "Nobody stood on the floor.".to_string() };
    let mut out = format!(
        "People per m\u{b2} in each cell over the day (replication 1). The densest cell is {}: {} people/m\u{b2} on average, {} at once at most.",
        cell_in_zone(top.x, top.y, top.zone.as_deref()),
        density(top.mean_density),
        count(u64::from(top.peak_people), "person", "people"),
    );
    // Where the ten densest are, by zone, most first.
    let mut by_zone: Vec<(String, usize)> = Vec::new();
    for cell in &c.densest {
        let zone = cell.zone.clone().unwrap_or_else(|| "no zone".to_string());
        match by_zone.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, n)) => *n += 1,
            None => by_zone.push((zone, 1)),
        }
    }
    by_zone.sort_by_key(|z| std::cmp::Reverse(z.1));
    let n = c.densest.len();
    let parts: Vec<String> = by_zone.iter().map(|(z, m)| format!("{m} in {z}")).collect();
    out.push_str(&format!(" Of the {n} densest (numbered), {}.", join_and(&parts)));
    let mean = c.zones.iter().max_by(|a, b| a.mean_density.total_cmp(&b.mean_density));
    let peak = c.zones.iter().max_by(|a, b| a.peak_density.total_cmp(&b.peak_density));
    if let (Some(mean), Some(peak)) = (mean, peak) {
        out.push_str(&format!(
            " The densest zone on average is {} ({} people/m\u{b2}); at its peak, {} ({} people on {} m\u{b2}: {} people/m\u{b2}).",
            mean.name,
            density(mean.mean_density),
            peak.name,
            grouped(f64::from(peak.peak_people), 0),
            grouped(peak.area_m2, 0),
            density(peak.peak_density),
        ));
    }
    let limit = c.max_density_per_m2;
    let walkable = scenario.world.store.floor.cells.iter().map(|k| k.walkable());
    let over = k.heat_map.density.iter().zip(walkable).filter(|(d, w)| *w && **d > limit).count();
    if over > 0 {
        out.push_str(&format!(
            " {} averaged more than the limit of {} people/m\u{b2}: queue members count in full, and a queue longer than the cells it fills waits in its last cell.",
            count(over as u64, "cell", "cells"),
            floor::short(limit),
        ));
    }
    out
}

/// "a", "a and b", "a, b and c".
fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The ten densest cells, as numbered on the plan.
fn densest_table(p: &mut String, scenario: &Scenario, k: &StoreKpis) -> Result<()> {
    let cell_m2 = scenario.world.store.floor.cell_m.powi(2);
    write!(
        p,
        r#"<div id="densest-table">
<h3>The {} densest cells</h3>
<p class="note">Mean people per m&sup2; over the day, and the most people in the cell ({} m&sup2;) at once.</p>
<div class="table-wrap"><table>
<thead><tr><th>#</th><th class="t">Cell</th><th class="t">Zone</th><th>Mean density</th><th>Peak people</th></tr></thead>
<tbody>
"#,
        k.crowding.densest.len(),
        grouped(cell_m2, 1),
    )?;
    for (i, c) in k.crowding.densest.iter().enumerate() {
        writeln!(
            p,
            r#"<tr><td>{}</td><td class="t">[{}, {}]</td><td class="t">{}</td><td>{}</td><td>{}</td></tr>"#,
            i + 1,
            c.x,
            c.y,
            esc(c.zone.as_deref().unwrap_or("\u{2014}")),
            density(c.mean_density),
            c.peak_people,
        )?;
    }
    p.push_str("</tbody></table></div>\n</div>\n");
    Ok(())
}

/// Each zone's walkable area, density (mean and at its peak) and the shopper-hours lost in
/// it to slow walking and to waiting at full cells; the whole floor's hours below.
fn zone_table(p: &mut String, k: &StoreKpis) -> Result<()> {
    let c = &k.crowding;
    p.push_str(
        r#"<div id="crowd-zone-table">
<h3>By zone</h3>
<p class="note">Walkable area; people per m&sup2; on average and at the zone's busiest moment; shopper-hours lost to slow walking in a crowd and to waiting at a full cell.</p>
<div class="table-wrap"><table>
<thead><tr><th rowspan="2">Zone</th><th rowspan="2">Area (m&sup2;)</th><th colspan="2" class="span">Density (people/m&sup2;)</th><th rowspan="2">Peak people</th><th colspan="2" class="span">Shopper-hours</th></tr>
<tr><th>mean</th><th>peak</th><th>slowed</th><th>blocked</th></tr></thead>
<tbody>
"#,
    );
    for z in &c.zones {
        writeln!(
            p,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&z.name),
            grouped(z.area_m2, 0),
            density(z.mean_density),
            density(z.peak_density),
            grouped(f64::from(z.peak_people), 0),
            grouped(z.slowed_hours, 1),
            grouped(z.blocked_hours, 1),
        )?;
    }
    writeln!(
        p,
        r#"<tr class="total"><td>Whole floor</td><td></td><td></td><td></td><td></td><td>{}</td><td>{}</td></tr>"#,
        grouped(c.slowed_hours, 1),
        grouped(c.blocked_hours, 1),
    )?;
    p.push_str("</tbody></table></div>\n</div>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_sentences() {
        assert_eq!(join_and(&[]), "");
        assert_eq!(join_and(&["4 in front aisle".into()]), "4 in front aisle");
        assert_eq!(join_and(&["a".into(), "b".into(), "c".into()]), "a, b and c");
        assert_eq!(count(1, "detour", "detours"), "1 detour");
        assert_eq!(count(9965, "detour", "detours"), "9,965 detours");
    }
}
