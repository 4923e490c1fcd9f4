//! The settlement section of a chain's `report.html`: what every party ends the day with
//! (HQ, the franchisees, the payment channels, the brands), who funded the discounts, each
//! store's books, and every reconciliation identity of the books with whether it holds.

use std::fmt::Write as _;

use storetwin_actors::chain::run::ChainRun;
use storetwin_actors::chain::spec::ChainSpec;
use storetwin_actors::chain::summary::ChainKpis;

use super::chain::{owner, pct};
use super::charts::{self, ACCENT, Bar, SENSED, grouped};
use super::{HALF, esc, figure};
use crate::Result;

/// One invariant of the books: how many times it was checked (per store, channel,
/// method, campaign) and how many of those hold.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityCount {
    pub name: &'static str,
    pub checked: usize,
    pub hold: usize,
}

/// Every identity of `run`'s books, counted by invariant in the order they are checked.
pub fn identity_counts(run: &ChainRun) -> Vec<IdentityCount> {
    let mut out: Vec<IdentityCount> = Vec::new();
    for i in run.platform.settlement.reconcile().identities {
        let holds = usize::from(i.holds());
        match out.iter_mut().find(|c| c.name == i.name) {
            Some(c) => {
                c.checked += 1;
                c.hold += holds;
            }
            None => out.push(IdentityCount { name: i.name, checked: 1, hold: holds }),
        }
    }
    out
}

pub(super) fn section(p: &mut String, spec: &ChainSpec, k: &ChainKpis, run: &ChainRun) -> Result<()> {
    let s = &k.settlement;
    let share = |v: f64| if s.paid != 0.0 { pct(v / s.paid) } else { "\u{2014}".to_string() };
    write!(
        p,
        r#"<section id="settlement">
<h2>Settlement</h2>
<p class="lede">{} payments settled, in the stores and online: {} gross, {} of discounts, {} paid. Of what was paid, HQ ends the day with {} ({}), the franchisees with {} ({}) and the payment channels with {} in fees; {}. Money in the chain's currency units.</p>
<div class="grid2">
<div>
<h3>Net positions</h3>
<div class="table-wrap"><table id="net-positions">
<thead><tr><th>Party</th><th>Net</th><th>Share of paid</th></tr></thead>
<tbody>
"#,
        grouped(s.payments as f64, 0),
        grouped(s.gross, 2),
        grouped(s.discounts, 2),
        grouped(s.paid, 2),
        grouped(s.hq_net, 2),
        share(s.hq_net),
        grouped(s.franchisees_net, 2),
        share(s.franchisees_net),
        grouped(s.payment_channels_net, 2),
        if s.brands_net == 0.0 {
            "the brands fund no discount".to_string()
        } else {
            format!("the brands end with {} (they reimburse the coupons they fund)", grouped(s.brands_net, 2))
        },
    )?;
    let parties = [
        ("HQ", s.hq_net),
        ("Franchisees", s.franchisees_net),
        ("Payment channels (fees)", s.payment_channels_net),
        ("Brands", s.brands_net),
    ];
    for (party, net) in parties {
        writeln!(p, "<tr><td>{party}</td><td>{}</td><td>{}</td></tr>", grouped(net, 2), share(net))?;
    }
    let sum: f64 = parties.iter().map(|x| x.1).sum();
    writeln!(
        p,
        r#"<tr class="total"><td>All parties (= paid)</td><td>{}</td><td>{}</td></tr>
</tbody></table></div>
<h3>Who funded the discounts</h3>
<div class="table-wrap"><table id="funders">
<thead><tr><th>Funder</th><th>Discount funded</th><th>Share</th></tr></thead>
<tbody>"#,
        grouped(sum, 2),
        share(sum)
    )?;
    let funded = [("HQ", s.funded_by_hq), ("Franchisees", s.funded_by_franchisees), ("Brands", s.funded_by_brands)];
    let of = |v: f64| if s.discounts != 0.0 { pct(v / s.discounts) } else { "\u{2014}".to_string() };
    for (who, v) in funded {
        writeln!(p, "<tr><td>{who}</td><td>{}</td><td>{}</td></tr>", grouped(v, 2), of(v))?;
    }
    writeln!(
        p,
        r#"<tr class="total"><td>All discounts</td><td>{}</td><td>{}</td></tr>
<tr><td>of which member points (HQ)</td><td>{}</td><td>{}</td></tr>
<tr><td>of which offline losses (store owners)</td><td>{}</td><td>{}</td></tr>
</tbody></table></div>
</div>"#,
        grouped(s.discounts, 2),
        of(s.discounts),
        grouped(s.points_discounts, 2),
        of(s.points_discounts),
        grouped(s.offline_losses.total, 2),
        of(s.offline_losses.total)
    )?;

    let bars: Vec<Bar> = parties
        .iter()
        .map(|(party, net)| Bar {
            label: (*party).to_string(),
            value: *net,
            colour: if *net < 0.0 { SENSED } else { ACCENT },
            note: grouped(*net, 0),
        })
        .collect();
    let (lo, hi) = parties.iter().fold((0.0f64, 0.0f64), |(l, h), x| (l.min(x.1), h.max(x.1)));
    let reach = (hi - lo).max(1.0);
    let range = if lo < 0.0 { (lo - 0.3 * reach)..(hi + 0.3 * reach) } else { 0.0..hi.max(1.0) * 1.35 };
    let svg = charts::bars(&bars, range, "net position", &|v| grouped(*v, 0), 190, (HALF.0, 260))?;
    writeln!(p, "{}\n</div>", figure("chart-net-positions", "What each party ends the day with", "", &svg))?;

    // Each store's books.
    p.push_str(
        r#"<h3>Per store</h3>
<div class="table-wrap"><table id="store-settlement">
<thead><tr><th>Store</th><th class="t">Owner</th><th>Paid</th><th>Fees</th><th>HQ net</th><th>Franchisee net</th></tr></thead>
<tbody>
"#,
    );
    for st in &s.by_store {
        writeln!(
            p,
            r#"<tr><td>{}</td><td class="t">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&st.store),
            esc(&owner(spec, &st.store)),
            grouped(st.paid, 2),
            grouped(st.fees, 2),
            grouped(st.hq_net, 2),
            st.franchisee_net.map_or("\u{2014} (HQ-owned)".to_string(), |v| grouped(v, 2)),
        )?;
    }
    p.push_str("</tbody></table></div>\n");

    // Offline losses: coupons given while a store could not reach the coupon centre (or
    // after a till gave up waiting) that the centre then refused.
    let l = &s.offline_losses;
    if l.coupons == 0 {
        p.push_str(
            "<p class=\"note\" id=\"offline-losses\">No offline losses: every coupon a store applied was granted by the coupon centre.</p>\n",
        );
    } else {
        write!(
            p,
            r#"<h3 id="offline-losses">Offline losses</h3>
<p class="note">{} coupons, {} of discount, were given while a store could not reach the coupon centre and refused by the centre afterwards (redeemed elsewhere meanwhile, or over a budget). No campaign pays for them: each store's owner bears its own, franchisees {} and HQ {}.</p>
<div class="table-wrap"><table id="offline-loss-table" class="compact">
<thead><tr><th>Store</th><th class="t">Borne by</th><th>Coupons</th><th>Discount</th></tr></thead>
<tbody>
"#,
            grouped(f64::from(l.coupons), 0),
            grouped(l.total, 2),
            grouped(l.borne_by_franchisees, 2),
            grouped(l.borne_by_hq, 2),
        )?;
        for st in &l.by_store {
            writeln!(
                p,
                r#"<tr><td>{}</td><td class="t">{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&st.store),
                if st.borne_by == "hq" { "HQ" } else { "the franchisee" },
                grouped(f64::from(st.coupons), 0),
                grouped(st.amount, 2),
            )?;
        }
        p.push_str("</tbody></table></div>\n");
    }

    // Reconciliation.
    let counts = identity_counts(run);
    let checked: usize = counts.iter().map(|c| c.checked).sum();
    let hold: usize = counts.iter().map(|c| c.hold).sum();
    let r = &s.reconciliation;
    let verdict = if r.holds {
        format!("All {checked} identities hold, to the cent.")
    } else {
        format!("{} of {checked} identities do not hold: {}.", checked - hold, r.broken.join("; "))
    };
    write!(
        p,
        r#"<h3 id="reconciliation">Reconciliation</h3>
<p class="note">{} Each invariant of the books is checked for the chain and for every store, store and channel, payment method and campaign it applies to.</p>
<div class="table-wrap"><table id="identities">
<thead><tr><th>Identity</th><th>Checked</th><th>Hold</th><th class="t">Verdict</th></tr></thead>
<tbody>
"#,
        esc(&verdict)
    )?;
    for c in &counts {
        let ok = c.hold == c.checked;
        let class = if ok { "good" } else { "bad" };
        writeln!(
            p,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="t {class}">{}</td></tr>"#,
            esc(c.name.strip_prefix("settlement: ").unwrap_or(c.name)),
            c.checked,
            c.hold,
            if ok { "holds" } else { "BROKEN" }
        )?;
    }
    writeln!(
        p,
        r#"<tr class="total"><td>Every identity</td><td>{checked}</td><td>{hold}</td><td class="t {}">{}</td></tr>
</tbody></table></div>
</section>"#,
        if hold == checked { "good" } else { "bad" },
        if hold == checked { "holds" } else { "BROKEN" }
    )?;
    Ok(())
}
