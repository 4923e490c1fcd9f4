//! The coupon funnel of a chain's `report.html`: per campaign, coupons issued (each to the
//! member who claimed it), redeemed (in store and on online orders), expired, released and
//! reversed, the claims and redemptions the coupon centre refused, the budget used and who
//! funded the discount.
//!
//! The section draws [`CampaignFunnel`]s, its own small shape, filled from the run's
//! `ChainKpis::coupons` ([`CampaignFunnel::of`]); a chain file without campaigns gets a
//! sentence saying so instead.

use std::fmt::Write as _;

use storetwin_actors::chain::spec::{CampaignSpec, ChainSpec, Funding, IssueChannel};
use storetwin_actors::chain::summary::CampaignKpis;

use super::chain::{bars_height, pct};
use super::charts::{self, ACCENT, BAD, Bar, GOOD, MUTED, SENSED, grouped};
use super::{HALF, esc, figure};
use crate::Result;

/// One campaign's funnel, as the page draws it (money in major units).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignFunnel {
    pub name: String,
    /// Issued, which is claimed: a coupon is issued to the member who claims it.
    pub issued: u64,
    pub redeemed: u64,
    /// Of `redeemed`, on online orders (the coupon centre's own checkout).
    pub redeemed_online: u64,
    pub expired: u64,
    /// Locks given back by their order (a checkout or an online order cancelled).
    pub released: u64,
    /// Redemptions reversed by their order (an online order refunded, a till that gave up
    /// waiting for the centre).
    pub reversed: u64,
    /// Claims the coupon centre refused (a limit or the budget reached, the campaign not
    /// running), and locks and redemptions it refused (a coupon already used elsewhere).
    pub claims_refused: u64,
    pub redemptions_refused: u64,
    /// The discount given (the budget used), and each funder's part of it.
    pub budget_used: f64,
    pub by_hq: f64,
    pub by_franchisees: f64,
    pub by_brands: f64,
    /// What settlement booked for the campaign's funders: the budget used, less what was
    /// still on its way to settlement at close (a coupon accepted offline and refused later
    /// is the store owner's offline loss, in the settlement section).
    pub settled: f64,
}

impl CampaignFunnel {
    /// The funnel of a campaign's KPIs.
    pub fn of(k: &CampaignKpis) -> CampaignFunnel {
        CampaignFunnel {
            name: k.name.clone(),
            issued: u64::from(k.issued),
            redeemed: u64::from(k.redeemed),
            redeemed_online: u64::from(k.redeemed_online),
            expired: u64::from(k.expired),
            released: u64::from(k.released),
            reversed: u64::from(k.reversed),
            claims_refused: u64::from(k.claims_refused),
            redemptions_refused: u64::from(k.redemptions_refused),
            budget_used: k.budget_used,
            by_hq: k.funded_by_hq,
            by_franchisees: k.funded_by_franchisees,
            by_brands: k.funded_by_brands,
            settled: k.settled_discounts,
        }
    }

    /// Redeemed of issued.
    fn redemption_rate(&self) -> f64 {
        if self.issued > 0 { self.redeemed as f64 / self.issued as f64 } else { 0.0 }
    }
}

/// Who funds a campaign, as the chain file says: "brand 100%", "HQ 60%, franchisee 40%".
fn funding_text(f: &Funding) -> String {
    let parts: Vec<String> = [("HQ", f.hq_bps), ("franchisee", f.franchisee_bps), ("brand", f.brand_bps)]
        .iter()
        .filter(|(_, bps)| *bps > 0)
        .map(|(who, bps)| format!("{who} {}%", grouped(f64::from(*bps) / 100.0, 0)))
        .collect();
    parts.join(", ")
}

/// How shoppers get a campaign's coupons, as a phrase: "at the WiFi portal".
fn issue_text(issue: IssueChannel) -> &'static str {
    match issue {
        IssueChannel::WifiPortal => "at the WiFi portal",
        IssueChannel::QrPoster => "from a QR poster",
        IssueChannel::BeaconShake => "at a beacon",
        IssueChannel::RegisterToGet => "on registering as a member",
        IssueChannel::SecondVisit => "after a purchase, for the next visit",
        IssueChannel::Referral => "for a referral",
    }
}

/// The budget a campaign has: overall, or per day.
fn budget_text(c: &CampaignSpec) -> Option<String> {
    match (c.budget_total, c.budget_daily) {
        (Some(t), _) => Some(grouped(t.as_major(), 2)),
        (None, Some(d)) => Some(format!("{} a day", grouped(d.as_major(), 2))),
        (None, None) => None,
    }
}

pub(super) fn section(p: &mut String, spec: &ChainSpec, coupons: &[CampaignKpis]) -> Result<()> {
    p.push_str("<section id=\"coupons\">\n<h2>Coupons</h2>\n");
    if coupons.is_empty() {
        p.push_str(
            "<p class=\"lede none\">The scenario has no coupon campaigns: the chain file defines no <code>[[coupon]]</code>, so there is no funnel to draw.</p>\n</section>\n",
        );
        return Ok(());
    }
    let campaigns: Vec<CampaignFunnel> = coupons.iter().map(CampaignFunnel::of).collect();
    let total: f64 = campaigns.iter().map(|c| c.budget_used).sum();
    let redeemed: u64 = campaigns.iter().map(|c| c.redeemed).sum();
    let issued: u64 = campaigns.iter().map(|c| c.issued).sum();
    let best =
        campaigns.iter().filter(|c| c.issued > 0).max_by(|a, b| a.redemption_rate().total_cmp(&b.redemption_rate()));
    let mut lede = format!(
        "{} campaigns issued {} coupons to the members who claimed them; {} were redeemed ({}), for {} of discount.",
        campaigns.len(),
        grouped(issued as f64, 0),
        grouped(redeemed as f64, 0),
        pct(if issued > 0 { redeemed as f64 / issued as f64 } else { 0.0 }),
        grouped(total, 2),
    );
    if let Some(b) = best {
        write!(lede, " {} converted best: {} of its coupons redeemed.", b.name, pct(b.redemption_rate()))?;
    }
    let offline: Vec<&CampaignFunnel> =
        campaigns.iter().filter(|c| (c.settled - c.budget_used).abs() >= 0.005).collect();
    if !offline.is_empty() {
        write!(
            lede,
            " Settlement had not yet booked all the discount the coupon centre granted for {} (payments still on their way at close).",
            offline.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        )?;
    }
    let online: u64 = campaigns.iter().map(|c| c.redeemed_online).sum();
    if online > 0 {
        write!(lede, " {} of the redemptions were on online orders.", grouped(online as f64, 0))?;
    }
    lede.push_str(
        " Each funnel runs from issued to redeemed; expired coupons were never used in time; released ones were locked by an order that was then cancelled; reversed ones were redeemed by an order that was then refunded (or by a till that gave up waiting for the centre) and given back; refused counts the claims and redemptions the coupon centre turned down.",
    );
    // Settled apart only when settlement booked another discount than the centre granted.
    let settled_column = !offline.is_empty();
    write!(
        p,
        r#"<p class="lede">{}</p>
<div class="table-wrap"><table id="coupon-table" class="compact">
<thead><tr><th rowspan="2">Campaign</th><th rowspan="2">Issued</th><th rowspan="2">Redeemed</th><th rowspan="2">of which online</th><th rowspan="2">Expired</th><th rowspan="2">Released</th><th rowspan="2">Reversed</th><th colspan="2" class="span">Refused</th><th rowspan="2">Budget used</th><th colspan="3" class="span">Funded by</th>{}</tr>
<tr><th>claims</th><th>redemptions</th><th>HQ</th><th>franchisees</th><th>brands</th></tr></thead>
<tbody>
"#,
        esc(&lede),
        if settled_column { r#"<th rowspan="2">Settled</th>"# } else { "" }
    )?;
    for c in &campaigns {
        let campaign = spec.campaigns.iter().find(|s| s.name == c.name);
        let budget = match campaign.and_then(budget_text) {
            Some(b) => format!("{} of {b}", grouped(c.budget_used, 2)),
            None => format!("{} (no budget)", grouped(c.budget_used, 2)),
        };
        writeln!(
            p,
            r#"<tr data-campaign="{name}"><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>"#,
            grouped(c.issued as f64, 0),
            if c.issued > 0 {
                format!("{} ({})", grouped(c.redeemed as f64, 0), pct(c.redemption_rate()))
            } else {
                grouped(c.redeemed as f64, 0)
            },
            grouped(c.redeemed_online as f64, 0),
            grouped(c.expired as f64, 0),
            grouped(c.released as f64, 0),
            grouped(c.reversed as f64, 0),
            grouped(c.claims_refused as f64, 0),
            grouped(c.redemptions_refused as f64, 0),
            esc(&budget),
            grouped(c.by_hq, 2),
            grouped(c.by_franchisees, 2),
            grouped(c.by_brands, 2),
            if settled_column { format!("<td>{}</td>", grouped(c.settled, 2)) } else { String::new() },
            name = esc(&c.name),
        )?;
    }
    p.push_str("</tbody></table></div>\n<div class=\"grid2\" style=\"margin-top:22px\">\n");
    for (i, c) in campaigns.iter().enumerate() {
        let id = format!("chart-coupon-{}", i + 1);
        let campaign = spec.campaigns.iter().find(|s| s.name == c.name);
        if c.issued == 0 && c.claims_refused == 0 {
            let issue = campaign.map_or(String::new(), |s| format!(" (issued {})", issue_text(s.issue)));
            writeln!(
                p,
                r#"<figure id="{id}"><figcaption>{}</figcaption><p class="none">No coupon of this campaign was claimed{} in this run, so nothing was redeemed.</p></figure>"#,
                esc(&c.name),
                esc(&issue)
            )?;
            continue;
        }
        let steps = [
            ("Issued (claimed)", c.issued, ACCENT),
            ("Redeemed", c.redeemed, GOOD),
            ("Expired", c.expired, MUTED),
            ("Released", c.released, SENSED),
            ("Reversed", c.reversed, SENSED),
            ("Claims refused", c.claims_refused, BAD),
            ("Redemptions refused", c.redemptions_refused, BAD),
        ];
        let top = steps.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
        let bars: Vec<Bar> = steps
            .iter()
            .enumerate()
            .map(|(j, (label, v, colour))| Bar {
                label: (*label).to_string(),
                value: *v as f64,
                colour: *colour,
                note: if c.issued > 0 && j > 0 && j < 5 {
                    format!("{} \u{b7} {}", grouped(*v as f64, 0), pct(*v as f64 / c.issued as f64))
                } else {
                    grouped(*v as f64, 0)
                },
            })
            .collect();
        let svg = charts::bars(
            &bars,
            0.0..top * 1.45,
            "coupons",
            &|v| grouped(*v, 0),
            150,
            (HALF.0, bars_height(steps.len())),
        )?;
        let funders = [("HQ", c.by_hq), ("franchisees", c.by_franchisees), ("brands", c.by_brands)]
            .iter()
            .filter(|(_, v)| *v != 0.0)
            .map(|(who, v)| format!("{who} {}", grouped(*v, 2)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut note = if funders.is_empty() {
            format!("discount {}", grouped(c.budget_used, 2))
        } else {
            format!("discount {}: {funders}", grouped(c.budget_used, 2))
        };
        if let Some(funding) = campaign.map(|s| funding_text(&s.funding)) {
            write!(note, " (funded {funding})")?;
        }
        p.push_str(&figure(&id, &c.name, &note, &svg));
        p.push('\n');
    }
    p.push_str("</div>\n</section>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use storetwin_actors::chain::run::run_chain;
    use storetwin_engine::Seed;

    use super::*;

    #[test]
    fn each_campaign_has_its_funnel_and_a_chain_without_campaigns_says_so() {
        let chain = crate::chain::chain_opening(2);
        let run = run_chain(&chain.spec, Seed(5), 1).expect("the chain runs");
        let coupons = run.kpis().coupons;
        assert_eq!(coupons.len(), 3);
        let mut page = String::new();
        section(&mut page, &chain.spec, &coupons).expect("the section");
        for (i, c) in coupons.iter().enumerate() {
            assert!(page.contains(&format!(r#"id="chart-coupon-{}""#, i + 1)), "a funnel for {}", c.name);
            let row =
                page.split(&format!(r#"data-campaign="{}""#, c.name)).nth(1).expect("a row").split("</tr>").next();
            let row = row.expect("the row");
            assert!(row.contains(&format!("<td>{}</td>", grouped(f64::from(c.issued), 0))), "{row}");
            assert!(row.contains(&format!("<td>{}</td>", grouped(c.funded_by_brands, 2))), "{row}");
        }
        assert!(page.contains("of 1,000.00"), "dairy-wifi's budget used of its budget: {page}");
        assert!(page.contains("of 400.00 a day"), "spend-30-save-3's daily budget");
        assert!(page.contains("(funded brand 100%)"), "the funding the chain file gives");
        let issued: u32 = coupons.iter().map(|c| c.issued).sum();
        assert!(page.contains(&format!("issued {} coupons", grouped(f64::from(issued), 0))));
        // The pickup-welcome campaign is issued to new members and redeemed on online
        // pickup orders: its row says how many of its redemptions were online.
        let welcome = coupons.iter().find(|c| c.name == "pickup-welcome").expect("the campaign");
        assert!(welcome.issued > 0 && welcome.redeemed_online == welcome.redeemed, "{welcome:?}");
        let row = page.split(r#"data-campaign="pickup-welcome""#).nth(1).expect("a row");
        assert!(row.contains(&format!("<td>{}</td><td>", grouped(f64::from(welcome.redeemed_online), 0))), "{row}");
        assert!(page.contains("of the redemptions were on online orders"));

        let mut page = String::new();
        section(&mut page, &chain.spec, &[]).expect("the section");
        assert!(page.contains("The scenario has no coupon campaigns"), "{page}");
        assert!(!page.contains("<svg"));
    }
}
