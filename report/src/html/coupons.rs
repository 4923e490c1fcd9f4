//! The coupon funnel of a chain's `report.html`: per campaign, coupons issued, claimed,
//! redeemed, expired and refused, the budget used and who funded the discount.
//!
//! The figures come from the `coupons` section of `summary.json` when the run counts
//! coupons ([`CampaignFunnel::from_summary`] reads it into [`CampaignFunnel`], the one
//! shape this page draws, and is lenient about how the section is laid out: a list of
//! campaigns, or an object holding one, with the counts under their plain names). A run
//! without the section says so plainly: the chain file has no campaigns, or the run does
//! not count coupons.

use std::fmt::Write as _;

use serde_json::Value;
use storetwin_actors::chain::spec::{CampaignSpec, ChainSpec, Funding};

use super::chain::{bars_height, pct};
use super::charts::{self, ACCENT, BAD, Bar, GOOD, MUTED, grouped};
use super::{HALF, esc, figure};
use crate::Result;

/// One campaign's funnel, as the page draws it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignFunnel {
    pub name: String,
    pub issued: u64,
    /// Claimed by a shopper (`None` when the run does not count claims apart from issues).
    pub claimed: Option<u64>,
    pub redeemed: u64,
    pub expired: u64,
    /// Claims, locks and redemptions the coupon centre refused (a limit, a budget, a
    /// coupon already used).
    pub refused: u64,
    /// Discount given, in major units, and each funder's part of it.
    pub discount: f64,
    pub by_hq: f64,
    pub by_franchisees: f64,
    pub by_brands: f64,
    /// Budget used (major units), when the run reports it apart from the discount.
    pub budget_used: Option<f64>,
}

/// What the page can say about coupons.
#[derive(Clone, Debug, PartialEq)]
pub enum Coupons {
    /// The chain file has no coupon campaigns.
    NoCampaigns,
    /// The chain file has campaigns (by name) but the run does not count coupons.
    NotCounted(Vec<String>),
    Counted(Vec<CampaignFunnel>),
}

/// The number under the first of `keys` in `v` (a number, or the sum of an array or object
/// of numbers).
fn number(v: &Value, keys: &[&str]) -> Option<f64> {
    fn total(v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::Array(a) => Some(a.iter().filter_map(total).sum()),
            Value::Object(o) => Some(o.values().filter_map(total).sum()),
            _ => None,
        }
    }
    keys.iter().find_map(|k| v.get(*k).and_then(total))
}

/// A funder's part: `funded_by_hq`, `hq`, or `hq` inside `funded`/`funders`/`by_funder`.
fn funder(v: &Value, names: &[&str]) -> f64 {
    let flat: Vec<String> = names.iter().flat_map(|n| [format!("funded_by_{n}"), format!("discount_{n}")]).collect();
    let flat: Vec<&str> = flat.iter().map(String::as_str).collect();
    number(v, &flat)
        .or_else(|| {
            ["funded", "funders", "by_funder", "discount_by_funder", "funding"]
                .iter()
                .find_map(|o| v.get(*o).and_then(|o| number(o, names)))
        })
        .unwrap_or(0.0)
}

impl CampaignFunnel {
    /// One campaign from its JSON object.
    fn from_json(v: &Value, index: usize) -> CampaignFunnel {
        let count = |keys: &[&str]| number(v, keys).unwrap_or(0.0).max(0.0).round() as u64;
        let name = ["name", "campaign"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map_or_else(|| format!("campaign {}", index + 1), str::to_string);
        let refused = match number(v, &["refused"]) {
            Some(r) => r.max(0.0).round() as u64,
            None => count(&["claim_refused"]) + count(&["lock_refused"]) + count(&["redeem_refused"]),
        };
        let by_hq = funder(v, &["hq"]);
        let by_franchisees = funder(v, &["franchisees", "franchisee"]);
        let by_brands = funder(v, &["brands", "brand"]);
        CampaignFunnel {
            name,
            issued: count(&["issued"]),
            claimed: number(v, &["claimed"]).map(|c| c.max(0.0).round() as u64),
            redeemed: count(&["redeemed", "redemptions"]),
            expired: count(&["expired"]),
            refused,
            discount: number(v, &["discount", "discounts", "discount_total"])
                .unwrap_or(by_hq + by_franchisees + by_brands),
            by_hq,
            by_franchisees,
            by_brands,
            budget_used: number(v, &["budget_used"]),
        }
    }

    /// The campaigns of `summary`'s `coupons` section, if it has one: a list of
    /// campaigns, or an object with one under `campaigns` or `by_campaign`.
    pub fn from_summary(summary: &Value) -> Option<Vec<CampaignFunnel>> {
        let section = summary.get("coupons")?;
        let list = match section {
            Value::Array(a) => a,
            Value::Object(o) => ["campaigns", "by_campaign"].iter().find_map(|k| o.get(*k)?.as_array())?,
            _ => return None,
        };
        Some(list.iter().enumerate().map(|(i, v)| CampaignFunnel::from_json(v, i)).collect())
    }
}

/// What the page says about the coupons of `spec`'s run, from `summary`.
pub fn coupons(spec: &ChainSpec, summary: &Value) -> Coupons {
    match CampaignFunnel::from_summary(summary) {
        Some(campaigns) if !campaigns.is_empty() => Coupons::Counted(campaigns),
        _ if spec.campaigns.is_empty() => Coupons::NoCampaigns,
        _ => Coupons::NotCounted(spec.campaigns.iter().map(|c| c.name.clone()).collect()),
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

/// The budget a campaign has: overall, or per day.
fn budget_text(c: &CampaignSpec) -> Option<String> {
    match (c.budget_total, c.budget_daily) {
        (Some(t), _) => Some(grouped(t.as_major(), 2)),
        (None, Some(d)) => Some(format!("{} a day", grouped(d.as_major(), 2))),
        (None, None) => None,
    }
}

pub(super) fn section(p: &mut String, spec: &ChainSpec, summary: &Value) -> Result<()> {
    p.push_str("<section id=\"coupons\">\n<h2>Coupons</h2>\n");
    let campaigns = match coupons(spec, summary) {
        Coupons::NoCampaigns => {
            p.push_str(
                "<p class=\"lede none\">The scenario has no coupon campaigns: the chain file defines no <code>[[coupon]]</code>.</p>\n</section>\n",
            );
            return Ok(());
        }
        Coupons::NotCounted(names) => {
            write!(
                p,
                "<p class=\"lede none\">Coupons are not in this run: the chain file defines {} campaign{} ({}), but this run does not count coupons, so there is no funnel to draw. Discounts that were given are in the settlement below.</p>\n</section>\n",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                esc(&names.join(", "))
            )?;
            return Ok(());
        }
        Coupons::Counted(c) => c,
    };
    let total: f64 = campaigns.iter().map(|c| c.discount).sum();
    let redeemed: u64 = campaigns.iter().map(|c| c.redeemed).sum();
    let issued: u64 = campaigns.iter().map(|c| c.issued).sum();
    write!(
        p,
        r#"<p class="lede">{} campaigns issued {} coupons, of which {} were redeemed ({}), giving {} of discount. Each funnel runs from issued to redeemed; expired coupons were claimed and never used; refused counts what the coupon centre turned down (a limit or budget reached, a coupon already used).</p>
<div class="table-wrap"><table id="coupon-table" class="compact">
<thead><tr><th rowspan="2">Campaign</th><th rowspan="2">Issued</th><th rowspan="2">Claimed</th><th rowspan="2">Redeemed</th><th rowspan="2">Redeemed of issued</th><th rowspan="2">Expired</th><th rowspan="2">Refused</th><th rowspan="2">Budget used</th><th colspan="4" class="span">Discount</th></tr>
<tr><th>total</th><th>HQ</th><th>franchisees</th><th>brands</th></tr></thead>
<tbody>
"#,
        campaigns.len(),
        grouped(issued as f64, 0),
        grouped(redeemed as f64, 0),
        pct(if issued > 0 { redeemed as f64 / issued as f64 } else { 0.0 }),
        grouped(total, 2),
    )?;
    for c in &campaigns {
        let campaign = spec.campaigns.iter().find(|s| s.name == c.name);
        let budget_used = c.budget_used.unwrap_or(c.discount);
        let budget = match campaign.and_then(budget_text) {
            Some(b) => format!("{} of {b}", grouped(budget_used, 2)),
            None => format!("{} (no budget)", grouped(budget_used, 2)),
        };
        writeln!(
            p,
            r#"<tr data-campaign="{name}"><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            grouped(c.issued as f64, 0),
            c.claimed.map_or("\u{2014}".to_string(), |v| grouped(v as f64, 0)),
            grouped(c.redeemed as f64, 0),
            pct(if c.issued > 0 { c.redeemed as f64 / c.issued as f64 } else { 0.0 }),
            grouped(c.expired as f64, 0),
            grouped(c.refused as f64, 0),
            esc(&budget),
            grouped(c.discount, 2),
            grouped(c.by_hq, 2),
            grouped(c.by_franchisees, 2),
            grouped(c.by_brands, 2),
            name = esc(&c.name),
        )?;
    }
    p.push_str("</tbody></table></div>\n<div class=\"grid2\" style=\"margin-top:22px\">\n");
    for (i, c) in campaigns.iter().enumerate() {
        let mut steps = vec![("Issued", c.issued, ACCENT)];
        if let Some(claimed) = c.claimed {
            steps.push(("Claimed", claimed, ACCENT));
        }
        steps.extend([("Redeemed", c.redeemed, GOOD), ("Expired", c.expired, MUTED), ("Refused", c.refused, BAD)]);
        let top = steps.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
        let bars: Vec<Bar> = steps
            .iter()
            .map(|(label, v, colour)| Bar {
                label: (*label).to_string(),
                value: *v as f64,
                colour: *colour,
                note: if c.issued > 0 && *label != "Issued" {
                    format!("{} \u{b7} {}", grouped(*v as f64, 0), pct(*v as f64 / c.issued as f64))
                } else {
                    grouped(*v as f64, 0)
                },
            })
            .collect();
        let svg =
            charts::bars(&bars, 0.0..top * 1.4, "", &|v| grouped(*v, 0), 100, (HALF.0, bars_height(steps.len())))?;
        let funders = [("HQ", c.by_hq), ("franchisees", c.by_franchisees), ("brands", c.by_brands)]
            .iter()
            .filter(|(_, v)| *v != 0.0)
            .map(|(who, v)| format!("{who} {}", grouped(*v, 2)))
            .collect::<Vec<_>>()
            .join(", ");
        let funding = spec.campaigns.iter().find(|s| s.name == c.name).map(|s| funding_text(&s.funding));
        let mut note = if funders.is_empty() {
            format!("discount {}", grouped(c.discount, 2))
        } else {
            format!("discount {}: {funders}", grouped(c.discount, 2))
        };
        if let Some(funding) = funding {
            note.push_str(&format!(" (funded {funding})"));
        }
        p.push_str(&figure(&format!("chart-coupon-{}", i + 1), &c.name, &note, &svg));
        p.push('\n');
    }
    p.push_str("</div>\n</section>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> ChainSpec {
        crate::chain::chain_opening(1).spec
    }

    #[test]
    fn a_run_without_coupon_figures_says_why_there_is_no_funnel() {
        let mut spec = spec();
        let summary = json!({ "run": {} });
        let Coupons::NotCounted(names) = coupons(&spec, &summary) else { panic!("campaigns but no figures") };
        assert_eq!(names, ["dairy-wifi", "spend-30-save-3", "pickup-welcome"]);
        let mut page = String::new();
        section(&mut page, &spec, &summary).expect("the section");
        assert!(page.contains("Coupons are not in this run") && page.contains("3 campaigns"), "{page}");
        spec.campaigns.clear();
        assert_eq!(coupons(&spec, &summary), Coupons::NoCampaigns);
        let mut page = String::new();
        section(&mut page, &spec, &summary).expect("the section");
        assert!(page.contains("The scenario has no coupon campaigns"), "{page}");
    }

    #[test]
    fn the_funnel_is_read_from_the_coupons_section_whatever_its_layout() {
        let spec = spec();
        let campaign = json!({
            "name": "dairy-wifi", "issued": 900, "claimed": 315, "redeemed": 120, "expired": 40,
            "claim_refused": [3, 0], "lock_refused": { "budget": 2 }, "redeem_refused": 1,
            "budget_used": 48.0, "funded_by_hq": 0.0, "funded_by_franchisees": 0.0, "funded_by_brands": 48.0,
        });
        for summary in [json!({ "coupons": [campaign] }), json!({ "coupons": { "campaigns": [campaign] } })] {
            let Coupons::Counted(c) = coupons(&spec, &summary) else { panic!("figures") };
            let c = &c[0];
            assert_eq!((c.issued, c.claimed, c.redeemed, c.expired, c.refused), (900, Some(315), 120, 40, 6));
            assert_eq!((c.discount, c.by_brands, c.budget_used), (48.0, 48.0, Some(48.0)));
            let mut page = String::new();
            section(&mut page, &spec, &summary).expect("the section");
            assert!(page.contains("48.00 of 1,000.00"), "budget used of the campaign's budget: {page}");
            assert!(page.contains("brand 100%") && page.contains("13.3%"), "funding and redemption rate");
            assert!(page.contains("id=\"chart-coupon-1\""));
        }
        let nested = json!({ "coupons": { "by_campaign": [{ "campaign": "x", "redeemed": 2, "funded": { "hq": 1.5, "brand": 0.5 } }] } });
        let Coupons::Counted(c) = coupons(&spec, &nested) else { panic!("figures") };
        assert_eq!((c[0].name.as_str(), c[0].by_hq, c[0].by_brands, c[0].discount), ("x", 1.5, 0.5, 2.0));
    }
}
