//! From a chain file's platform, members, online shoppers and link disruptions to the
//! checked parts of a [`storetwin_actors::chain::spec::ChainSpec`] (coupons are in
//! [`super::campaigns`], stores in [`super::stores`]).

use storetwin_actors::Dist;
use storetwin_actors::chain::spec::{
    CourierDelay, MemberLevel, MemberSpec, OnlineChannel, OnlineSegmentSpec, Partition, PlatformSpec, SettlementSpec,
    StoreIdx,
};
use storetwin_actors::store::spec::PaymentMix;
use storetwin_engine::SimDuration;

use super::format::{ChainFile, Channel};
use super::stores::Hours;
use super::{in_hours, share_bps, since_open};
use crate::build::{Names, names};
use crate::check::Checks;
use crate::duration::Duration;
use crate::error::ProblemKind;
use crate::path::{KeyPath, at};

/// `platform.pick_target` when left out: the brief's "respond within 15 minutes".
pub const DEFAULT_PICK_TARGET: SimDuration = SimDuration::from_secs(15 * 60);

/// `platform.coupon_timeout` when left out: a till waits five seconds for the coupon
/// centre, about a hundred round trips of a usual link.
pub const DEFAULT_COUPON_TIMEOUT: SimDuration = SimDuration::from_secs(5);

/// `members.referral_join_after_s` when left out: the mean, in seconds, of an exponential.
pub const DEFAULT_REFERRAL_JOIN_AFTER_S: f64 = 3600.0;
/// `platform.kiosk_collect_share` when left out: half of the kiosk orders are collected at
/// the store they were placed in, half delivered home.
pub const DEFAULT_KIOSK_COLLECT_SHARE: f64 = 0.5;

pub(crate) fn platform(file: &ChainFile, checks: &mut Checks<'_>) -> PlatformSpec {
    let p = &file.platform;
    let positive = |checks: &mut Checks<'_>, path: KeyPath, d: Duration, what: &str| {
        if d.0 == SimDuration::ZERO {
            checks.bad(path, format!("{what} must be above 0")).label("expected a duration above 0, like \"20ms\"");
        }
    };
    positive(checks, at!["platform", "latency", "min"], p.latency.min, "the least latency");
    if let Some(issue) = checks.issues.last_mut().filter(|i| i.message.starts_with("the least latency")) {
        issue.help("every message between a store and the centres takes at least this long: it is the width of the window stores run in side by side");
    }
    let extra = &p.latency.extra_s.0;
    if extra.min().is_nan() || extra.min() < 0.0 {
        checks
            .bad(
                at!["platform", "latency", "extra_s"],
                format!("the extra latency can be negative (its smallest value is {})", extra.min()),
            )
            .label("expected a distribution of values of 0 or more")
            .help("use a constant, exponential, lognormal, uniform or empirical distribution of seconds of 0 or more");
    }
    positive(checks, at!["platform", "stock_sync_every"], p.stock_sync_every, "the stock sync interval");
    if let Some(target) = p.pick_target {
        positive(checks, at!["platform", "pick_target"], target, "the pick target");
    }
    positive(checks, at!["platform", "pickup_hold"], p.pickup_hold, "the pickup hold");
    if let Some(timeout) = p.coupon_timeout {
        positive(checks, at!["platform", "coupon_timeout"], timeout, "the coupon timeout");
    }
    for (key, d) in [
        ("pick_base_s", &p.pick_base_s),
        ("pick_per_line_s", &p.pick_per_line_s),
        ("collect_after_s", &p.collect_after_s),
        ("pickup_service_s", &p.pickup_service_s),
        ("courier_s", &p.courier_s),
        ("ship_s", &p.ship_s),
    ]
    .into_iter()
    .chain(p.transfer_s.as_ref().map(|d| ("transfer_s", d)))
    {
        checks.non_negative_mean(at!["platform", key], &d.0);
    }
    checks.share(at!["platform", "pickup_no_show"], p.pickup_no_show);
    if let Some(share) = p.kiosk_collect_share {
        checks.share(at!["platform", "kiosk_collect_share"], share);
    }
    let mut fee_bps = [0u32; 4];
    if let Some(settlement) = &p.settlement {
        for ((slot, method), fee) in
            fee_bps.iter_mut().zip(["mobile_qr", "card", "cash", "prepaid"]).zip(settlement.fee.methods())
        {
            if let Some(fee) = fee {
                *slot = share_bps(checks, at!["platform", "settlement", "fee", method], fee).unwrap_or(0);
            }
        }
    }
    PlatformSpec {
        latency_min: p.latency.min.0,
        latency_extra_s: extra.clone(),
        stock_sync_every: p.stock_sync_every.0,
        pick_base_s: p.pick_base_s.0.clone(),
        pick_per_line_s: p.pick_per_line_s.0.clone(),
        pick_target: p.pick_target.map_or(DEFAULT_PICK_TARGET, |d| d.0),
        pickup_hold: p.pickup_hold.0,
        collect_after_s: p.collect_after_s.0.clone(),
        pickup_no_show: p.pickup_no_show,
        pickup_service_s: p.pickup_service_s.0.clone(),
        courier_s: p.courier_s.0.clone(),
        ship_s: p.ship_s.0.clone(),
        coupon_timeout: p.coupon_timeout.map_or(DEFAULT_COUPON_TIMEOUT, |d| d.0),
        kiosk_collect_share: p.kiosk_collect_share.unwrap_or(DEFAULT_KIOSK_COLLECT_SHARE),
        transfer_s: p.transfer_s.as_ref().unwrap_or(&p.ship_s).0.clone(),
        settlement: SettlementSpec { fee_bps },
    }
}

pub(crate) fn members(file: &ChainFile, checks: &mut Checks<'_>) -> MemberSpec {
    let m = &file.members;
    if m.population == 0 {
        checks
            .bad(at!["members", "population"], "the chain has no members")
            .label("expected 1 or more")
            .help("a member shopper, in a store or online, is one of the region's members");
    }
    if m.level.is_empty() {
        checks.value(ProblemKind::MissingKey, at!["members", "level"], "at least one [[members.level]] is needed");
    }
    let mut valid = true;
    for (i, level) in m.level.iter().enumerate() {
        if level.name.trim().is_empty() {
            checks.bad(at!["members", "level", i, "name"], "a member level needs a name").label("expected a name");
        }
        valid &= checks.share(at!["members", "level", i, "share"], level.share);
    }
    if valid && !m.level.is_empty() {
        let list: Vec<(String, f64)> = m.level.iter().map(|l| (l.name.clone(), l.share)).collect();
        checks.sums_to_one(at!["members", "level"], "member level shares", &list);
    }
    checks.share(at!["members", "redeem_share"], m.redeem_share);
    if let Some(share) = m.register_share {
        checks.share(at!["members", "register_share"], share);
    }
    if let Some(share) = m.referral_share {
        checks.share(at!["members", "referral_share"], share);
    }
    if let Some(d) = &m.referral_join_after_s {
        checks.non_negative_mean(at!["members", "referral_join_after_s"], &d.0);
    }
    let redeem_max_bps = share_bps(checks, at!["members", "redeem_max"], m.redeem_max).unwrap_or(0);
    MemberSpec {
        population: m.population,
        levels: m
            .level
            .iter()
            .map(|l| MemberLevel { name: l.name.clone(), share: l.share, points_per_unit: l.points_per_unit })
            .collect(),
        point_value: m.point_value.0,
        redeem_share: m.redeem_share,
        redeem_max_bps,
        register_share: m.register_share.unwrap_or(0.0),
        referral_share: m.referral_share.unwrap_or(0.0),
        referral_join_after_s: m.referral_join_after_s.as_ref().map_or_else(
            || Dist::exponential(DEFAULT_REFERRAL_JOIN_AFTER_S).expect("a positive mean"),
            |d| d.0.clone(),
        ),
    }
}

pub(crate) fn online(file: &ChainFile, hours: Hours, checks: &mut Checks<'_>) -> Vec<OnlineSegmentSpec> {
    names(checks, "online", file.online.iter().map(|o| o.name.as_str()), |i| u16::try_from(i).ok());
    let open_hours = hours.close_s.saturating_sub(hours.open_s).div_ceil(3600) as usize;
    let mut out = Vec::with_capacity(file.online.len());
    for (i, o) in file.online.iter().enumerate() {
        let rates = &o.orders_per_hour;
        if rates.len() != open_hours && hours.close_s > hours.open_s {
            checks
                .bad(
                    at!["online", i, "orders_per_hour"],
                    format!(
                        "{} hourly rates, but the chain is open {open_hours} hours ({} to {})",
                        rates.len(),
                        crate::time_of_day::TimeOfDay(hours.open_s),
                        crate::time_of_day::TimeOfDay(hours.close_s)
                    ),
                )
                .label(format!("expected {open_hours} rates, one per opening hour"))
                .help("give a rate for every hour the chain is open (0 for an hour without orders)");
        }
        for (h, rate) in rates.iter().enumerate() {
            checks.non_negative(at!["online", i, "orders_per_hour", h], *rate);
        }
        checks.non_negative_mean(at!["online", i, "basket"], &o.basket.0);
        checks.share(at!["online", i, "member_share"], o.member_share);
        let ways = o.fulfilment.ways().map(|w| w.unwrap_or(0.0));
        let mut valid = true;
        for (way, share) in ["pickup", "same_city", "ship_from_store"].into_iter().zip(ways) {
            valid &= checks.share(at!["online", i, "fulfilment", way], share);
        }
        if valid {
            let list: Vec<(String, f64)> =
                ["pickup", "same_city", "ship_from_store"].iter().map(|w| (*w).to_owned()).zip(ways).collect();
            checks.sums_to_one(at!["online", i, "fulfilment"], "fulfilment shares", &list);
        }
        let p = &o.payment;
        let shares = [("mobile_qr", p.mobile_qr), ("card", p.card), ("cash", p.cash), ("prepaid", p.prepaid)];
        let mut valid = true;
        for (key, v) in shares {
            valid &= checks.share(at!["online", i, "payment", key], v);
        }
        if valid {
            let list: Vec<(String, f64)> = shares.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
            checks.sums_to_one(at!["online", i, "payment"], "payment shares", &list);
        }
        out.push(OnlineSegmentSpec {
            name: o.name.clone(),
            channel: match o.channel {
                Channel::App => OnlineChannel::App,
                Channel::MiniProgram => OnlineChannel::MiniProgram,
                Channel::Web => OnlineChannel::Web,
            },
            orders_per_hour: rates.clone(),
            basket: o.basket.0.clone(),
            fulfilment: ways,
            member_share: o.member_share,
            payment: PaymentMix { mobile_qr: p.mobile_qr, card: p.card, cash: p.cash, prepaid: p.prepaid },
        });
    }
    out
}

pub(crate) fn partitions(
    file: &ChainFile,
    stores: &Names<StoreIdx>,
    hours: Hours,
    checks: &mut Checks<'_>,
) -> Vec<Partition> {
    let mut out = Vec::with_capacity(file.partition.len());
    for (i, p) in file.partition.iter().enumerate() {
        let store = match &p.store {
            Some(name) => match checks.resolve(at!["partition", i, "store"], "store", name, stores) {
                Some(idx) => Some(idx),
                None => continue,
            },
            None => None,
        };
        if window(checks, "partition", i, (p.from, p.to), hours) {
            out.push(Partition { store, from: since_open(p.from, hours), to: since_open(p.to, hours) });
        }
    }
    out
}

pub(crate) fn courier_delays(file: &ChainFile, hours: Hours, checks: &mut Checks<'_>) -> Vec<CourierDelay> {
    let mut out = Vec::with_capacity(file.courier_delay.len());
    for (i, d) in file.courier_delay.iter().enumerate() {
        if d.extra.0 == SimDuration::ZERO {
            checks
                .bad(at!["courier_delay", i, "extra"], "a delay of 0 delays nothing")
                .label("expected a duration above 0");
        }
        if window(checks, "courier_delay", i, (d.from, d.to), hours) {
            out.push(CourierDelay { from: since_open(d.from, hours), to: since_open(d.to, hours), extra: d.extra.0 });
        }
    }
    out
}

/// `from` and `to` of item `i` of `array` lie in the chain's hours, `to` after `from`.
fn window(
    checks: &mut Checks<'_>,
    array: &str,
    i: usize,
    (from, to): (crate::time_of_day::TimeOfDay, crate::time_of_day::TimeOfDay),
    hours: Hours,
) -> bool {
    let mut ok = in_hours(checks, at![array, i, "from"], from, hours, false);
    ok &= in_hours(checks, at![array, i, "to"], to, hours, true);
    if ok && to <= from {
        checks
            .bad(at![array, i, "to"], format!("it ends ({to}) before it starts ({from})"))
            .label(format!("expected a time after {from}"));
        ok = false;
    }
    ok
}
