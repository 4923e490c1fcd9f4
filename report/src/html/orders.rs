//! The orders section of a chain's `report.html`: online and kiosk orders by channel, their
//! pick times (p50, p90, p99) against the pick target, each store's share picked within
//! it, how the orders ended (collected, delivered, expired, cancelled, or still under way
//! at the close, by state), and the kiosk orders shipped to the store they were placed in
//! (transfers sent, received and in transit, transfer times, how they ended).

use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use storetwin_actors::chain::spec::ChainSpec;
use storetwin_actors::chain::summary::{ChainKpis, ChainStoreKpis, ChannelOrders, TransferKpis};

use super::chain::{bars_height, best_and_worst, channel_name, label_width, minutes, pct};
use super::charts::{self, ACCENT, AXIS, BAD, Bar, GOOD, GRID, INK, Key, MUTED, SENSED, draw_keys, grouped, text};
use super::{FULL, HALF, esc, figure};
use crate::Result;

/// Colours of the three percentiles.
const P50: RGBColor = RGBColor(0x93, 0xc5, 0xfd);
const P90: RGBColor = ACCENT;
const P99: RGBColor = RGBColor(0x1e, 0x3a, 0x8a);

/// Orders still open at the close.
fn open(c: &ChannelOrders) -> u64 {
    c.open_routed + c.open_picking + c.open_ready + c.open_dispatched + c.open_in_transit
}

/// A length of time in hours (from 2 h) or minutes.
fn duration(s: f64) -> String {
    if s >= 7200.0 { format!("{} h", grouped(s / 3600.0, 1)) } else { minutes((s / 6.0).round() * 6.0) }
}

/// The ship-to-store table: kiosk orders to collect where they were placed, their
/// transfers between stores and how they ended; or a sentence when there were none.
fn transfers(p: &mut String, t: &TransferKpis, kiosk_orders: u64) -> Result<()> {
    p.push_str("<h3>Ship to store</h3>\n");
    if t.kiosk_collect_orders == 0 {
        let why = if kiosk_orders == 0 {
            "No kiosk order was placed, so nothing was shipped between stores.".to_string()
        } else {
            format!(
                "All {} kiosk orders were delivered home; none was shipped to the store it was placed in.",
                grouped(kiosk_orders as f64, 0)
            )
        };
        writeln!(p, "<p id=\"transfers-none\">{}</p>", esc(&why))?;
        return Ok(());
    }
    let lede = format!(
        "{} of the {} kiosk orders were to collect at the store they were placed in: picked at another store with the item, then in transit to the ordering store, held at its pickup counter. {} transfers were sent and {} received; {} units were still in transit at the close.{}",
        grouped(t.kiosk_collect_orders as f64, 0),
        grouped(kiosk_orders as f64, 0),
        grouped(t.sent as f64, 0),
        grouped(t.received as f64, 0),
        grouped(t.units_in_transit_at_close as f64, 0),
        if t.received > 0 {
            format!(
                " Half took under {} from sent to received, one in ten over {}.",
                duration(t.transfer_p50_s),
                duration(t.transfer_p90_s)
            )
        } else {
            String::new()
        },
    );
    let time = |s: f64| if t.received > 0 { duration(s) } else { "\u{2014}".to_string() };
    write!(
        p,
        r#"<p>{}</p>
<div class="table-wrap"><table id="transfer-table" class="compact">
<thead><tr><th rowspan="2">To collect</th><th rowspan="2">Delivered home</th><th colspan="3" class="span">Transfers</th><th colspan="3" class="span">Units</th><th colspan="3" class="span">Transfer time</th><th colspan="3" class="span">At the ordering store</th></tr>
<tr><th>Sent</th><th>Received</th><th>In transit</th><th>Sent</th><th>Received</th><th>In transit</th><th>p50</th><th>p90</th><th>p99</th><th>Collected</th><th>Expired into back room</th><th>Waiting at close</th></tr></thead>
<tbody>
<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>
</tbody></table></div>
"#,
        esc(&lede),
        grouped(t.kiosk_collect_orders as f64, 0),
        grouped(t.kiosk_deliver_orders as f64, 0),
        grouped(t.sent as f64, 0),
        grouped(t.received as f64, 0),
        grouped(t.in_transit_at_close as f64, 0),
        grouped(t.units_sent as f64, 0),
        grouped(t.units_received as f64, 0),
        grouped(t.units_in_transit_at_close as f64, 0),
        time(t.transfer_p50_s),
        time(t.transfer_p90_s),
        time(t.transfer_p99_s),
        grouped(t.collected as f64, 0),
        grouped(t.expired_into_back_room as f64, 0),
        grouped(t.waiting_at_counter_at_close as f64, 0),
    )?;
    Ok(())
}

pub(super) fn section(p: &mut String, spec: &ChainSpec, k: &ChainKpis) -> Result<()> {
    let target = spec.platform.pick_target.as_secs_f64();
    let all = &k.orders.all;
    let channels: Vec<&ChannelOrders> = k.orders.by_channel.iter().filter(|c| c.orders > 0).collect();
    let online: Vec<String> = k
        .orders
        .by_channel
        .iter()
        .filter(|c| c.channel != "kiosk")
        .map(|c| format!("{} {}", grouped(c.orders as f64, 0), channel_name(&c.channel).to_lowercase()))
        .collect();
    let lede = if all.orders == 0 {
        "No order was placed online or at a kiosk.".to_string()
    } else {
        format!(
            "{} orders: {} online ({}) and {} from in-store kiosks. The centres sent each to the nearest store with the stock{}. {} were picked, {} of them within the {} target; half took under {} from reaching the store, one in ten over {}. An order is picked when its last line is; a kiosk order (the endless aisle) is picked at another store than the one it was placed in.",
            grouped(all.orders as f64, 0),
            grouped(k.chain.online_orders as f64, 0),
            online.join(", "),
            grouped(k.chain.kiosk_orders as f64, 0),
            if all.rerouted > 0 {
                format!(", rerouting {} when a store was short", grouped(all.rerouted as f64, 0))
            } else {
                String::new()
            },
            grouped(all.picked as f64, 0),
            pct(all.share_picked_within_target),
            minutes(target),
            minutes(all.pick_p50_s),
            minutes(all.pick_p90_s),
        )
    };
    write!(
        p,
        r#"<section id="orders">
<h2>Orders</h2>
<p class="lede">{}</p>
<div class="table-wrap"><table id="channel-table" class="compact">
<thead><tr><th rowspan="2">Channel</th><th rowspan="2">Orders</th><th rowspan="2">Value</th><th rowspan="2">Rerouted</th><th rowspan="2">Picked</th><th colspan="3" class="span">Pick time (min)</th><th rowspan="2">Within {}</th><th rowspan="2">Collected</th><th rowspan="2">Delivered</th><th rowspan="2">Expired</th><th rowspan="2">Cancelled</th><th rowspan="2">Open at close</th></tr>
<tr><th>p50</th><th>p90</th><th>p99</th></tr></thead>
<tbody>
"#,
        esc(&lede),
        esc(&minutes(target)),
    )?;
    for c in k.orders.by_channel.iter().chain(std::iter::once(all)) {
        let class = if c.channel == "all" { r#" class="total""# } else { "" };
        let picked = c.picked > 0;
        let time = |s: f64| if picked { grouped(s / 60.0, 1) } else { "\u{2014}".to_string() };
        writeln!(
            p,
            "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&channel_name(&c.channel)),
            grouped(c.orders as f64, 0),
            grouped(c.value, 2),
            grouped(c.rerouted as f64, 0),
            grouped(c.picked as f64, 0),
            time(c.pick_p50_s),
            time(c.pick_p90_s),
            time(c.pick_p99_s),
            if picked { pct(c.share_picked_within_target) } else { "\u{2014}".to_string() },
            grouped(c.collected as f64, 0),
            grouped(c.delivered as f64, 0),
            grouped(c.expired as f64, 0),
            grouped(c.cancelled as f64, 0),
            grouped(open(c) as f64, 0),
        )?;
    }
    p.push_str("</tbody></table></div>\n");
    transfers(p, &k.transfers, k.chain.kiosk_orders)?;

    let mut rows: Vec<&ChannelOrders> = channels.clone();
    if channels.len() > 1 {
        rows.push(all);
    }
    let picks = pick_times(&rows, target, FULL.0)?;
    let slowest = channels.iter().filter(|c| c.picked > 0).max_by(|a, b| a.pick_p90_s.total_cmp(&b.pick_p90_s));
    let pick_note = match slowest {
        Some(c) => format!(
            "p50, p90 and p99 per channel; the dashed line is the {} target; slowest at the p90: {} ({})",
            minutes(target),
            channel_name(&c.channel).to_lowercase(),
            minutes(c.pick_p90_s)
        ),
        None => "nothing was picked".to_string(),
    };
    writeln!(
        p,
        "<div style=\"margin-top:22px\">{}</div>",
        figure("chart-pick-times", "Pick time by channel", &pick_note, &picks)
    )?;

    let within = within_target(&k.stores)?;
    let outcomes = outcomes(all)?;
    let (ended, still) = (all.collected + all.delivered + all.expired + all.cancelled, open(all));
    write!(
        p,
        r#"<div class="grid2">
{}
{}
</div>
</section>
"#,
        figure(
            "chart-within-target",
            &format!("Picked within {} per store", minutes(target)),
            &format!("share of the orders each store picked; the chain {}", pct(all.share_picked_within_target)),
            &within
        ),
        figure(
            "chart-order-outcomes",
            "How the orders ended",
            &format!("{} ended, {} still under way at the close", grouped(ended as f64, 0), grouped(still as f64, 0)),
            &outcomes
        ),
    )?;
    Ok(())
}

/// Each store's share of its picked orders picked within target, lowest red, highest
/// green.
fn within_target(stores: &[ChainStoreKpis]) -> Result<String> {
    let mut ranked: Vec<&ChainStoreKpis> = stores.iter().collect();
    ranked.sort_by(|a, b| {
        b.online.share_picked_within_target.total_cmp(&a.online.share_picked_within_target).then(a.name.cmp(&b.name))
    });
    let n = ranked.len();
    let colours = best_and_worst(&ranked.iter().map(|s| pct(s.online.share_picked_within_target)).collect::<Vec<_>>());
    let bars: Vec<Bar> = ranked
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let share = s.online.share_picked_within_target;
            Bar {
                label: s.name.clone(),
                value: 100.0 * share,
                colour: colours[i],
                note: if s.online.orders_picked == 0 {
                    "none picked".to_string()
                } else {
                    format!("{} of {}", pct(share), grouped(s.online.orders_picked as f64, 0))
                },
            }
        })
        .collect();
    let label_px = label_width(ranked.iter().map(|s| s.name.as_str()));
    charts::bars(
        &bars,
        0.0..125.0,
        "% picked within target",
        &|v| format!("{v:.0}%"),
        label_px,
        (HALF.0, bars_height(n) + 16),
    )
}

/// Collected, delivered, expired, cancelled, and what was still under way at the close.
fn outcomes(all: &ChannelOrders) -> Result<String> {
    let rows = [
        ("Collected", all.collected, GOOD),
        ("Delivered", all.delivered, GOOD),
        ("Expired", all.expired, BAD),
        ("Cancelled", all.cancelled, BAD),
        ("Open: at the centre", all.open_routed, MUTED),
        ("Open: being picked", all.open_picking, MUTED),
        ("Open: ready for pickup", all.open_ready, MUTED),
        ("Open: on the way", all.open_dispatched, MUTED),
        ("Open: between stores", all.open_in_transit, MUTED),
    ];
    let total = all.orders.max(1) as f64;
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(label, v, colour)| Bar {
            label: (*label).to_string(),
            value: *v as f64,
            colour: *colour,
            note: format!("{} \u{b7} {}", grouped(*v as f64, 0), pct(*v as f64 / total)),
        })
        .collect();
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    charts::bars(&bars, 0.0..max * 1.45, "orders", &|v| grouped(*v, 0), 170, (HALF.0, bars_height(rows.len())))
}

/// Pick-time percentiles of each channel as three bars per row (p50, p90, p99), in
/// minutes, with the target as a dashed line.
fn pick_times(rows: &[&ChannelOrders], target_s: f64, width: u32) -> Result<String> {
    let n = rows.len().max(1);
    let height = 70 + 58 * n as u32;
    let longest = rows.iter().map(|c| c.pick_p99_s).fold(target_s, f64::max) / 60.0;
    let x_max = charts::nice_max(longest * 1.12);
    let keys = [
        Key { label: "p50".into(), colour: P50 },
        Key { label: "p90".into(), colour: P90 },
        Key { label: "p99".into(), colour: P99 },
        Key { label: format!("target {}", minutes(target_s)), colour: SENSED },
    ];
    let labels: Vec<String> = rows.iter().map(|c| channel_name(&c.channel)).collect();
    let label_px = label_width(labels.iter().map(String::as_str));
    charts::svg((width, height), |root| {
        root.fill(&WHITE)?;
        draw_keys(root, &keys, (label_px as i32, 0))?;
        let (_, area) = root.split_vertically(26);
        let mut chart = ChartBuilder::on(&area)
            .margin_top(4)
            .margin_right(70)
            .x_label_area_size(40)
            .y_label_area_size(label_px)
            .build_cartesian_2d(0.0..x_max, 0.0..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .x_labels(8)
            .y_labels(0)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .x_label_style(text(12.0, &MUTED))
            .axis_desc_style(text(12.0, &MUTED))
            .x_desc("minutes from reaching the store to picked")
            .draw()?;
        for (i, c) in rows.iter().enumerate() {
            let top = (n - i) as f64 - 0.14;
            let h = 0.24;
            let values = [(c.pick_p50_s, P50), (c.pick_p90_s, P90), (c.pick_p99_s, P99)];
            for (j, (v, colour)) in values.iter().enumerate() {
                let y1 = top - h * j as f64;
                let minutes_v = v / 60.0;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y1 - h * 0.86), (minutes_v, y1)],
                    colour.filled(),
                )))?;
                chart.plotting_area().draw(
                    &(EmptyElement::at((minutes_v, y1 - h * 0.43))
                        + Text::new(minutes(*v), (5, 0), text(11.0, &INK).pos(Pos::new(HPos::Left, VPos::Center)))),
                )?;
            }
            let centre = chart.backend_coord(&(0.0, (n - i) as f64 - 0.5));
            let label = text(13.0, &INK).pos(Pos::new(HPos::Right, VPos::Center));
            root.draw(&Text::new(labels[i].clone(), (centre.0 - 8, centre.1), label))?;
        }
        let target = target_s / 60.0;
        chart.draw_series(DashedLineSeries::new(
            vec![(target, 0.0), (target, n as f64)],
            6,
            4,
            SENSED.stroke_width(2),
        ))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpis() -> TransferKpis {
        TransferKpis {
            kiosk_collect_orders: 275,
            kiosk_deliver_orders: 271,
            sent: 271,
            received: 157,
            in_transit_at_close: 114,
            units_sent: 1271,
            units_received: 1157,
            units_in_transit_at_close: 114,
            transfer_p50_s: 9576.4,
            transfer_p90_s: 15409.2,
            transfer_p99_s: 20480.0,
            collected: 123,
            expired_into_back_room: 4,
            waiting_at_counter_at_close: 30,
        }
    }

    #[test]
    fn the_ship_to_store_table_has_each_figure_in_its_column() {
        let mut p = String::new();
        transfers(&mut p, &kpis(), 546).expect("renders");
        assert!(p.contains("275 of the 546 kiosk orders were to collect"), "{p}");
        assert!(p.contains("271 transfers were sent and 157 received; 114 units were still in transit"), "{p}");
        assert!(p.contains("Half took under 2.7 h from sent to received, one in ten over 4.3 h."), "{p}");
        let row = p.split("<tbody>").nth(1).expect("a body");
        let cells: Vec<&str> = row.split("<td>").skip(1).map(|c| c.split('<').next().unwrap_or("")).collect();
        assert_eq!(
            cells,
            ["275", "271", "271", "157", "114", "1,271", "1,157", "114", "2.7 h", "4.3 h", "5.7 h", "123", "4", "30"]
        );
    }

    #[test]
    fn without_kiosk_orders_to_collect_a_sentence_says_so() {
        let none = TransferKpis { kiosk_collect_orders: 0, kiosk_deliver_orders: 12, ..kpis() };
        let mut p = String::new();
        transfers(&mut p, &none, 12).expect("renders");
        assert!(p.contains("All 12 kiosk orders were delivered home"), "{p}");
        assert!(!p.contains("transfer-table"));
        let mut p = String::new();
        transfers(&mut p, &TransferKpis { kiosk_deliver_orders: 0, ..none }, 0).expect("renders");
        assert!(p.contains("No kiosk order was placed"), "{p}");
    }
}
