//! Coupon campaigns, from `[[coupon]]` to checked
//! [`CampaignSpec`](storetwin_actors::chain::spec::CampaignSpec)s.
//!
//! The rules are the coupon centre's (type and face value, what it applies to, stacking
//! class and order, limits, budgets, validity, batch lifecycle, who pays): each coupon type
//! takes exactly its values; a category or SKU must be the chain's; funding shares are
//! basis points that sum to exactly 10,000; schedule times lie in the chain's hours. The
//! campaigns come out in their evaluation order (increasing `order`, ties in file order).

use std::collections::BTreeSet;

use storetwin_actors::Cents;
use storetwin_actors::chain::spec::{
    CampaignSpec, CouponKind, CouponScope, Funding, IssueChannel, StackClass, StoreIdx, Validity,
};
use storetwin_engine::SimDuration;

use super::format::{AppliesTo, ClassFile, Coupon, CouponType, IssueFile};
use super::stores::{Catalogue, Hours};
use super::{in_hours, share_bps, since_open};
use crate::build::{Names, names};
use crate::check::Checks;
use crate::error::ProblemKind;
use crate::path::at;

/// The default stacking class of a coupon: service coupons are services, a coupon on a
/// category or SKU discounts products, any other discounts the order.
pub(crate) fn default_class(c: &Coupon) -> ClassFile {
    match (c.kind, &c.applies_to) {
        (CouponType::Parking | CouponType::Pickup, _) => ClassFile::Service,
        (_, Some(AppliesTo::Category(_) | AppliesTo::Sku(_))) => ClassFile::Product,
        _ => ClassFile::Order,
    }
}

fn class(c: ClassFile) -> StackClass {
    match c {
        ClassFile::Product => StackClass::Product,
        ClassFile::Order => StackClass::Order,
        ClassFile::Service => StackClass::Service,
    }
}

pub(crate) fn campaigns(
    coupons: &[Coupon],
    catalogue: Option<&Catalogue>,
    stores: &Names<StoreIdx>,
    hours: Hours,
    checks: &mut Checks<'_>,
) -> Vec<CampaignSpec> {
    names(checks, "coupon", coupons.iter().map(|c| c.name.as_str()), |i| u16::try_from(i).ok());
    let mut out = Vec::with_capacity(coupons.len());
    for (i, c) in coupons.iter().enumerate() {
        let before = checks.issues.len();
        let kind = kind(checks, i, c);
        let scope = match &c.applies_to {
            None | Some(AppliesTo::All) => Some(CouponScope::All),
            Some(AppliesTo::Category(name)) => catalogue.and_then(|cat| {
                checks
                    .resolve(at!["coupon", i, "applies_to", "category"], "category", name, &cat.category_ids)
                    .map(CouponScope::Category)
            }),
            Some(AppliesTo::Sku(name)) => catalogue.and_then(|cat| {
                checks.resolve(at!["coupon", i, "applies_to", "sku"], "SKU", name, &cat.skus).map(CouponScope::Sku)
            }),
        };
        checks.share(at!["coupon", i, "claim_share"], c.claim_share);
        let validity = validity(checks, i, c, hours);
        let per_member_limit = c.per_member_limit.unwrap_or(1);
        if per_member_limit == 0 {
            checks
                .bad(at!["coupon", i, "per_member_limit"], "a limit of 0 coupons per member issues none")
                .label("expected 1 or more");
        }
        if c.total_limit == Some(0) {
            checks.bad(at!["coupon", i, "total_limit"], "a limit of 0 coupons issues none").label("expected 1 or more");
        }
        for (key, amount) in [("budget", c.budget), ("daily_budget", c.daily_budget)] {
            if amount.is_some_and(|a| a.0 == Cents(0)) {
                checks
                    .bad(at!["coupon", i, key], "a budget of 0 gives no discount")
                    .label("expected an amount above 0");
            }
        }
        if let (Some(total), Some(daily)) = (c.budget, c.daily_budget)
            && daily.0 > total.0
        {
            checks
                .bad(at!["coupon", i, "daily_budget"], "the daily budget is above the whole budget")
                .label(format!("expected at most the budget, {}", total.0));
        }
        let funding = funding(checks, i, c);
        let activate_at = c.activate_at.unwrap_or(crate::time_of_day::TimeOfDay(hours.open_s));
        in_hours(checks, at!["coupon", i, "activate_at"], activate_at, hours, false);
        let mut pauses = Vec::with_capacity(c.pauses.len());
        for (k, pause) in c.pauses.iter().enumerate() {
            let mut ok = in_hours(checks, at!["coupon", i, "pauses", k, "from"], pause.from, hours, false);
            ok &= in_hours(checks, at!["coupon", i, "pauses", k, "to"], pause.to, hours, true);
            if ok && pause.to <= pause.from {
                checks
                    .bad(
                        at!["coupon", i, "pauses", k, "to"],
                        format!("the pause ends ({}) before it starts ({})", pause.to, pause.from),
                    )
                    .label(format!("expected a time after {}", pause.from));
            }
            pauses.push((since_open(pause.from, hours), since_open(pause.to, hours)));
        }
        if let Some(stop) = c.stop_at
            && in_hours(checks, at!["coupon", i, "stop_at"], stop, hours, true)
            && stop <= activate_at
        {
            checks
                .bad(
                    at!["coupon", i, "stop_at"],
                    format!("the campaign stops ({stop}) before it starts ({activate_at})"),
                )
                .label(format!("expected a time after {activate_at}"));
        }
        let store_list = c.stores.as_ref().map(|list| {
            if list.is_empty() {
                checks
                    .bad(at!["coupon", i, "stores"], "the campaign runs in no store")
                    .label("expected at least one store")
                    .help("name the stores, or leave `stores` out to run it in every store");
            }
            let mut seen = BTreeSet::new();
            let mut idx = Vec::with_capacity(list.len());
            for (k, name) in list.iter().enumerate() {
                let Some(s) = checks.resolve(at!["coupon", i, "stores", k], "store", name, stores) else { continue };
                if seen.insert(s) {
                    idx.push(s);
                } else {
                    checks
                        .bad(at!["coupon", i, "stores", k], format!("store \"{name}\" is listed twice"))
                        .label("listed before");
                }
            }
            idx
        });
        let mut combines_with: Vec<StackClass> = Vec::new();
        for &c in c.combines_with.iter().flatten() {
            if !combines_with.contains(&class(c)) {
                combines_with.push(class(c));
            }
        }
        let (Some(kind), Some(scope), Some(validity)) = (kind, scope, validity) else { continue };
        if checks.issues.len() != before {
            continue;
        }
        out.push(CampaignSpec {
            name: c.name.clone(),
            kind,
            scope,
            issue: match c.issue {
                IssueFile::WifiPortal => IssueChannel::WifiPortal,
                IssueFile::QrPoster => IssueChannel::QrPoster,
                IssueFile::BeaconShake => IssueChannel::BeaconShake,
                IssueFile::RegisterToGet => IssueChannel::RegisterToGet,
                IssueFile::SecondVisit => IssueChannel::SecondVisit,
                IssueFile::Referral => IssueChannel::Referral,
            },
            claim_share: c.claim_share,
            validity,
            class: class(c.class.unwrap_or_else(|| default_class(c))),
            combines_with,
            order: c.order.unwrap_or(0),
            per_member_limit,
            total_limit: c.total_limit,
            budget_total: c.budget.map(|p| p.0),
            budget_daily: c.daily_budget.map(|p| p.0),
            funding,
            activate_at: since_open(activate_at, hours),
            pauses,
            stop_at: c.stop_at.map(|t| since_open(t, hours)),
            stores: store_list,
        });
    }
    // The evaluation order; a stable sort keeps ties in file order.
    out.sort_by_key(|c| c.order);
    out
}

/// The type and face value: exactly the values of its type, each in range.
fn kind(checks: &mut Checks<'_>, i: usize, c: &Coupon) -> Option<CouponKind> {
    let given = [
        ("off", c.off.is_some()),
        ("percent", c.percent.is_some()),
        ("max_off", c.max_off.is_some()),
        ("spend", c.spend.is_some()),
    ];
    let (required, optional) = c.kind.values();
    let list = required.iter().chain(optional).map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ");
    let name = c.kind.name();
    let mut ok = true;
    for (key, present) in given {
        let path = at!["coupon", i, key];
        if present && !required.contains(&key) && !optional.contains(&key) {
            ok = false;
            checks
                .key(ProblemKind::UnknownKey, path, format!("`{key}` is not a value of a {name} coupon"))
                .label(format!("a {name} coupon takes {list}"));
        } else if !present && required.contains(&key) {
            ok = false;
            checks
                .value(ProblemKind::MissingKey, at!["coupon", i], format!("a {name} coupon needs `{key}`"))
                .label(format!("this coupon needs `{key}`"));
        }
    }
    if !ok {
        return None;
    }
    let positive = |checks: &mut Checks<'_>, key: &str, amount: Cents| {
        if amount == Cents(0) {
            checks.bad(at!["coupon", i, key], "an amount of 0 takes nothing off").label("expected an amount above 0");
        }
    };
    let off = c.off.map(|p| p.0);
    if let Some(off) = off {
        positive(checks, "off", off);
    }
    Some(match c.kind {
        CouponType::Cash => CouponKind::Cash { off: off? },
        CouponType::Parking => CouponKind::Parking { off: off? },
        CouponType::Pickup => CouponKind::Pickup { off: off? },
        CouponType::Threshold => {
            let (spend, off) = (c.spend?.0, off?);
            positive(checks, "spend", spend);
            if off > spend {
                checks
                    .bad(
                        at!["coupon", i, "off"],
                        format!("{off} off a spend of {spend}: a threshold coupon saves less than the spend"),
                    )
                    .label(format!("expected at most the spend, {spend}"));
            }
            CouponKind::Threshold { spend, off }
        }
        CouponType::Percent => {
            let percent = c.percent?;
            let bps = percent * 100.0;
            if !(percent.is_finite() && percent > 0.0 && percent <= 100.0) {
                checks
                    .bad(
                        at!["coupon", i, "percent"],
                        format!("a percentage off is above 0 and at most 100, found {percent}"),
                    )
                    .label("expected a number above 0 and at most 100");
                return None;
            }
            if (bps - bps.round()).abs() > 1e-6 {
                checks
                    .bad(
                        at!["coupon", i, "percent"],
                        format!("a percentage off has at most 2 decimals, found {percent}"),
                    )
                    .label("expected a percentage like 12.5");
                return None;
            }
            let max_off = c.max_off.map(|p| p.0);
            if let Some(max) = max_off {
                positive(checks, "max_off", max);
            }
            CouponKind::Percent { bps: bps.round() as u32, max_off }
        }
    })
}

fn validity(checks: &mut Checks<'_>, i: usize, c: &Coupon, hours: Hours) -> Option<Validity> {
    let v = &c.validity;
    match (v.from, v.to, v.days_after_claim) {
        (Some(from), Some(to), None) => {
            if to <= from {
                checks
                    .bad(
                        at!["coupon", i, "validity", "to"],
                        format!("the coupon is valid until {to}, before it is valid from {from}"),
                    )
                    .label(format!("expected a time after {from}"));
                return None;
            }
            if to.seconds() <= hours.open_s {
                checks
                    .bad(
                        at!["coupon", i, "validity", "to"],
                        format!(
                            "the coupon is never valid while the chain is open (it opens at {})",
                            crate::time_of_day::TimeOfDay(hours.open_s)
                        ),
                    )
                    .label("expected a time after the opening");
                return None;
            }
            Some(Validity::Window { from: since_open(from, hours), to: since_open(to, hours) })
        }
        (None, None, Some(days)) => {
            if days == 0 {
                checks
                    .bad(
                        at!["coupon", i, "validity", "days_after_claim"],
                        "a coupon valid for 0 days can never be used",
                    )
                    .label("expected 1 or more");
                return None;
            }
            Some(Validity::AfterClaim(SimDuration::from_secs(u64::from(days) * 86_400)))
        }
        _ => {
            checks
                .bad(
                    at!["coupon", i, "validity"],
                    "a validity is a window { from = \"09:00\", to = \"21:00\" } or { days_after_claim = 7 }",
                )
                .label("expected `from` and `to`, or `days_after_claim`");
            None
        }
    }
}

/// The funding shares in basis points; they must sum to exactly 10,000.
fn funding(checks: &mut Checks<'_>, i: usize, c: &Coupon) -> Funding {
    let mut bps = [0u32; 3];
    let mut valid = true;
    for (slot, (payer, share)) in bps.iter_mut().zip(c.funding.payers()) {
        if let Some(share) = share {
            match share_bps(checks, at!["coupon", i, "funding", payer], share) {
                Some(b) => *slot = b,
                None => valid = false,
            }
        }
    }
    let total: u32 = bps.iter().sum();
    if valid && total != 10_000 {
        let list = c
            .funding
            .payers()
            .iter()
            .map(|(payer, share)| format!("{payer} {}", share.unwrap_or(0.0)))
            .collect::<Vec<_>>()
            .join(" + ");
        checks
            .bad(
                at!["coupon", i, "funding"],
                format!("funding shares sum to {}, not 1 ({list})", f64::from(total) / 10_000.0),
            )
            .label("these shares must sum to 1")
            .help("every cent of a discount is paid by someone: the shares of hq, franchisee and brand sum to 1");
    }
    Funding { hq_bps: bps[0], franchisee_bps: bps[1], brand_bps: bps[2] }
}
