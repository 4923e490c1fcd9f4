//! The members section of a chain's `report.html`: how many joined during the run (at each
//! store's WiFi portal, online, by referral) and the referrals members made, then points
//! earned and redeemed by member level and by channel (in store, app, mini-program, web),
//! and what is outstanding.

use std::fmt::Write as _;

use storetwin_actors::chain::spec::ChainSpec;
use storetwin_actors::chain::summary::{ChainKpis, PointsBy};

use super::chain::{bars_height, channel_name, label_width};
use super::charts::{self, Bar, grouped, queue_colour};
use super::{HALF, esc, figure};
use crate::Result;

/// A table of points by level or by channel, with a total row.
fn table(p: &mut String, id: &str, heading: &str, rows: &[PointsBy], names: fn(&str) -> String) -> Result<()> {
    let with_members = rows.iter().any(|r| r.members.is_some());
    write!(
        p,
        r#"<div class="table-wrap"><table id="{id}">
<thead><tr><th>{heading}</th>{}<th>Earns</th><th>Points earned</th><th>Redemptions</th><th>Points redeemed</th></tr></thead>
<tbody>
"#,
        if with_members { "<th>Members</th><th>Points per member</th>" } else { "" }
    )?;
    for r in rows {
        let members = match r.members {
            Some(m) if with_members => format!(
                "<td>{}</td><td>{}</td>",
                grouped(f64::from(m), 0),
                grouped(if m > 0 { r.earned as f64 / f64::from(m) } else { 0.0 }, 1)
            ),
            _ if with_members => "<td></td><td></td>".to_string(),
            _ => String::new(),
        };
        writeln!(
            p,
            "<tr><td>{}</td>{members}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&names(&r.name)),
            grouped(r.earns as f64, 0),
            grouped(r.earned as f64, 0),
            grouped(r.redemptions as f64, 0),
            grouped(r.redeemed as f64, 0),
        )?;
    }
    let sum = |f: fn(&PointsBy) -> u64| rows.iter().map(f).sum::<u64>() as f64;
    let members: u64 = rows.iter().filter_map(|r| r.members).map(u64::from).sum();
    writeln!(
        p,
        r#"<tr class="total"><td>All</td>{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>
</tbody></table></div>"#,
        if with_members {
            format!(
                "<td>{}</td><td>{}</td>",
                grouped(members as f64, 0),
                grouped(if members > 0 { sum(|r| r.earned) / members as f64 } else { 0.0 }, 1)
            )
        } else {
            String::new()
        },
        grouped(sum(|r| r.earns), 0),
        grouped(sum(|r| r.earned), 0),
        grouped(sum(|r| r.redemptions), 0),
        grouped(sum(|r| r.redeemed), 0),
    )?;
    Ok(())
}

fn level_name(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

pub(super) fn section(p: &mut String, spec: &ChainSpec, k: &ChainKpis) -> Result<()> {
    let m = &k.members;
    let point = spec.members.point_value.as_major();
    let top = m.by_channel.iter().max_by_key(|c| c.earned);
    let share = |v: u64| if m.earned > 0 { 100.0 * v as f64 / m.earned as f64 } else { 0.0 };
    write!(
        p,
        r#"<section id="members">
<h2>Members</h2>
<p class="lede">{} members across the channels. They earned {} points ({}% {}), redeemed {} (worth {} off at {} a point) and had {} returned with refunds; {} points are outstanding, worth {}.</p>
<h3>By level</h3>
"#,
        grouped(f64::from(m.population), 0),
        grouped(m.earned as f64, 0),
        grouped(top.map_or(0.0, |t| share(t.earned)), 0),
        top.map_or(String::new(), |t| channel_name(&t.name).to_lowercase()),
        grouped(m.redeemed as f64, 0),
        grouped(m.redeemed as f64 * point, 2),
        grouped(point, 2),
        grouped(m.returned as f64, 0),
        grouped(m.outstanding as f64, 0),
        grouped(m.outstanding as f64 * point, 2),
    )?;
    registrations(p, m)?;
    table(p, "points-by-level", "Level", &m.by_level, level_name)?;
    p.push_str("<h3>By channel</h3>\n");
    table(p, "points-by-channel", "Channel", &m.by_channel, channel_name)?;
    let by_level = points_chart(&m.by_level, level_name)?;
    let by_channel = points_chart(&m.by_channel, channel_name)?;
    writeln!(
        p,
        r#"<div class="grid2" style="margin-top:22px">
{}
{}
</div>
</section>"#,
        figure("chart-points-by-level", "Points earned by level", "with those redeemed", &by_level),
        figure("chart-points-by-channel", "Points earned by channel", "with those redeemed", &by_channel),
    )?;
    Ok(())
}

/// Who joined during the run, where, and the referrals that brought some of them.
fn registrations(p: &mut String, m: &storetwin_actors::chain::summary::MemberKpis) -> Result<()> {
    let r = &m.registrations;
    let f = m.referrals.referred;
    write!(
        p,
        r#"<p class="note" id="registrations">{} members at the start of the run, {} at its end: {} registered, {} at the stores' WiFi portals, {} when ordering online as guests and {} referred by a member. Members referred {} friends after a purchase; {} of them joined ({}), each earning the referrer the referral coupons.</p>
<div class="table-wrap"><table id="registrations-by-store" class="compact">
<thead><tr><th>Joined</th><th>Members</th></tr></thead>
<tbody>
"#,
        grouped(f64::from(m.population_at_open), 0),
        grouped(f64::from(m.population), 0),
        grouped(r.total as f64, 0),
        grouped(r.in_store as f64, 0),
        grouped(r.online as f64, 0),
        grouped(r.referred as f64, 0),
        grouped(f as f64, 0),
        grouped(m.referrals.joined as f64, 0),
        super::chain::pct(m.referrals.conversion),
    )?;
    for s in &r.by_store {
        writeln!(p, "<tr><td>At {}'s WiFi portal</td><td>{}</td></tr>", esc(&s.store), grouped(s.count as f64, 0))?;
    }
    writeln!(
        p,
        r#"<tr><td>Online, as guests ordering</td><td>{}</td></tr>
<tr><td>Referred by a member</td><td>{}</td></tr>
<tr class="total"><td>All</td><td>{}</td></tr>
</tbody></table></div>"#,
        grouped(r.online as f64, 0),
        grouped(r.referred as f64, 0),
        grouped(r.total as f64, 0)
    )?;
    Ok(())
}

/// Points earned per level or channel as bars, each noting those redeemed.
fn points_chart(rows: &[PointsBy], names: fn(&str) -> String) -> Result<String> {
    let max = rows.iter().map(|l| l.earned).max().unwrap_or(0).max(1) as f64;
    let bars: Vec<Bar> = rows
        .iter()
        .enumerate()
        .map(|(i, l)| Bar {
            label: names(&l.name),
            value: l.earned as f64,
            colour: queue_colour(i),
            note: format!("{} \u{b7} {} redeemed", grouped(l.earned as f64, 0), grouped(l.redeemed as f64, 0)),
        })
        .collect();
    let label_px = label_width(bars.iter().map(|b| b.label.as_str()));
    charts::bars(&bars, 0.0..max * 1.6, "points", &|v| grouped(*v, 0), label_px, (HALF.0, bars_height(bars.len()) + 16))
}
