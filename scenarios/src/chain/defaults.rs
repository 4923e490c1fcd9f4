//! No hidden defaults in a chain: every value the chain file leaves out that loading
//! filled in, what the chain replaces in its store scenarios, and the store scenarios' own
//! defaults, as [`AppliedDefault`]s (see [`crate::defaults`] for the key syntax).
//!
//! Per store: the overrides left out (`store[S001].pickers = 1`), the chain categories its
//! floor has no shelf for (popularity 0), and the chain's SKUs its scenario does not list
//! (no stock). Per store scenario, once: its `[run]` replaced by the chain's, its prices
//! replaced by the chain's where they differ, and its own defaults with its path in front
//! (`weekday.toml:replenishment.round_s`).

use std::collections::BTreeSet;

use storetwin_actors::chain::spec::ChainStoreSpec;
use storetwin_actors::store::spec::{CategoryId, CellKind};

use super::DEFAULT_KIOSK_COLLECT_SHARE;
use super::campaigns::default_class;
use super::format::{ChainFile, ClassFile};
use super::stores::{Catalogue, StoreFiles};
use super::{
    DEFAULT_COUPON_TIMEOUT, DEFAULT_PICK_TARGET, DEFAULT_PICKERS, DEFAULT_PICKUP_STAFF, DEFAULT_REFERRAL_JOIN_AFTER_S,
};
use crate::defaults::{AppliedDefault, item};
use crate::document::Node;
use crate::format::DEFAULT_REPLICATIONS;
use crate::path::at;
use crate::time_of_day::TimeOfDay;

pub(crate) fn applied(
    root: &Node,
    file: &ChainFile,
    stores: &StoreFiles,
    catalogue: &Catalogue,
    built: &[ChainStoreSpec],
) -> Vec<AppliedDefault> {
    let mut out = Vec::new();
    let mut add = |key: String, value: String, note: &'static str| out.push(AppliedDefault { key, value, note });
    let has = |path: crate::path::KeyPath, key: &str| {
        root.get(&path).and_then(Node::as_table).is_some_and(|t| t.contains_key(key))
    };
    let (open, close) = (file.run.open, file.run.close);

    if !has(at!["run"], "replications") {
        add("run.replications".into(), DEFAULT_REPLICATIONS.to_string(), "one replication");
    }
    for (i, (store, spec)) in file.store.iter().zip(built).enumerate() {
        let key = |k: &str| item("store", &store.name, i, k);
        let given = |k: &str| has(at!["store", i], k);
        if !given("arrivals_scale") {
            add(key("arrivals_scale"), "1".into(), "the store scenario's arrivals");
        }
        if !given("stock_scale") {
            add(key("stock_scale"), "1".into(), "the store scenario's opening stock");
        }
        if !given("pickers") {
            add(key("pickers"), DEFAULT_PICKERS.to_string(), "staff who pick online orders");
        }
        if !given("pickup_staff") {
            add(key("pickup_staff"), DEFAULT_PICKUP_STAFF.to_string(), "staff at the pickup counter");
        }
        if !given("location_km") && !given("region_km") {
            add(key("location_km"), "[0, 0]".into(), "at the origin of the region's map");
        }
        if !given("franchise") {
            add(key("franchise"), "none".into(), "owned by HQ");
        }
        if !given("offline_coupons") {
            add(
                key("offline_coupons"),
                "\"refuse\"".into(),
                "no coupon is applied while the store cannot reach the coupon centre",
            );
        }
        let world = &spec.world.store;
        let shelved: BTreeSet<CategoryId> = world
            .floor
            .cells
            .iter()
            .filter_map(|k| match k {
                CellKind::Shelf(c) => Some(*c),
                _ => None,
            })
            .collect();
        for (c, name) in catalogue.categories.iter().enumerate() {
            if !shelved.contains(&CategoryId(c as u16)) {
                add(
                    key(&format!("categories.{}", crate::defaults::bare_or_quoted(name))),
                    "0".into(),
                    "no shelf of this category on the store's floor: none of its SKUs in stock, and the store's shoppers never look for it",
                );
            }
        }
        let scenario = &stores.files[stores.of_store[i]];
        let listed: BTreeSet<&str> =
            scenario.checked.as_ref().map(|c| c.file.sku.iter().map(|s| s.name.as_str()).collect()).unwrap_or_default();
        let missing = catalogue
            .items
            .iter()
            .filter(|s| shelved.contains(&s.category) && !listed.contains(s.name.as_str()))
            .count();
        if missing > 0 {
            add(
                key("stock"),
                format!("none of {missing} of the chain's SKUs (not in {})", scenario.written),
                "the store does not carry them: its shoppers who want one meet a stock-out",
            );
        }
    }

    match catalogue.from_file {
        Some(index) => add(
            "sku".into(),
            format!("the catalogue of {} ({} SKUs)", stores.files[index].written, catalogue.items.len()),
            "the chain file has no [[sku]]: the first store's scenario gives the chain's catalogue and prices",
        ),
        None => {
            for (i, sku) in file.sku.iter().enumerate() {
                if !has(at!["sku", i], "popularity") {
                    add(
                        item("sku", &sku.name, i, "popularity"),
                        "1".into(),
                        "as popular as any other SKU of its category left at 1",
                    );
                }
            }
        }
    }

    let platform = &file.platform;
    if platform.pick_target.is_none() {
        let minutes = DEFAULT_PICK_TARGET.as_nanos() / 60_000_000_000;
        add(
            "platform.pick_target".into(),
            format!("\"{minutes}min\""),
            "an online order should be picked within this time",
        );
    }
    if platform.coupon_timeout.is_none() {
        let secs = DEFAULT_COUPON_TIMEOUT.as_nanos() / 1_000_000_000;
        add(
            "platform.coupon_timeout".into(),
            format!("\"{secs}s\""),
            "a till waits this long for the coupon centre, then applies the store's offline policy",
        );
    }
    let members = &file.members;
    if members.register_share.is_none() {
        add("members.register_share".into(), "0".into(), "no non-member registers");
    }
    if members.referral_share.is_none() {
        add("members.referral_share".into(), "0".into(), "no member refers a friend");
    }
    if members.referral_join_after_s.is_none() {
        add(
            "members.referral_join_after_s".into(),
            format!("{{ dist = \"exponential\", mean = {DEFAULT_REFERRAL_JOIN_AFTER_S} }}"),
            "a referred friend answers about an hour after the referral",
        );
    }
    if platform.kiosk_collect_share.is_none() {
        add(
            "platform.kiosk_collect_share".into(),
            DEFAULT_KIOSK_COLLECT_SHARE.to_string(),
            "half of the kiosk orders are shipped to the store they were placed in and collected there, half delivered home",
        );
    }
    if platform.transfer_s.is_none() {
        add(
            "platform.transfer_s".into(),
            "platform.ship_s".into(),
            "a kiosk order to collect travels between the stores as long as a parcel shipped from a store",
        );
    }
    match &platform.settlement {
        None => add("platform.settlement".into(), "none".into(), "no payment-channel fees"),
        Some(s) => {
            for (method, fee) in ["mobile_qr", "card", "cash", "prepaid"].into_iter().zip(s.fee.methods()) {
                if fee.is_none() {
                    add(format!("platform.settlement.fee.{method}"), "0".into(), "no fee for this payment method");
                }
            }
        }
    }

    for (i, o) in file.online.iter().enumerate() {
        for (way, share) in ["pickup", "same_city", "ship_from_store"].into_iter().zip(o.fulfilment.ways()) {
            if share.is_none() {
                add(
                    item("online", &o.name, i, &format!("fulfilment.{way}")),
                    "0".into(),
                    "no order is fulfilled this way",
                );
            }
        }
        for method in ["mobile_qr", "card", "cash", "prepaid"] {
            if !has(at!["online", i, "payment"], method) {
                add(
                    item("online", &o.name, i, &format!("payment.{method}")),
                    "0".into(),
                    "nobody in the segment pays this way",
                );
            }
        }
    }

    for (i, c) in file.coupon.iter().enumerate() {
        let key = |k: &str| item("coupon", &c.name, i, k);
        if c.applies_to.is_none() {
            add(key("applies_to"), "\"all\"".into(), "the discount applies to the whole basket");
        }
        if c.class.is_none() {
            let class = match default_class(c) {
                ClassFile::Product => "\"product\"",
                ClassFile::Order => "\"order\"",
                ClassFile::Service => "\"service\"",
            };
            add(key("class"), class.into(), "the stacking class of its type and what it applies to");
        }
        if c.combines_with.is_none() {
            add(key("combines_with"), "[]".into(), "combines with no other coupon");
        }
        if c.order.is_none() {
            add(key("order"), "0".into(), "applied in file order among coupons of the same order");
        }
        if c.per_member_limit.is_none() {
            add(key("per_member_limit"), "1".into(), "one coupon of the campaign per member");
        }
        if c.total_limit.is_none() {
            add(key("total_limit"), "none".into(), "no limit on the coupons issued");
        }
        if c.budget.is_none() {
            add(key("budget"), "none".into(), "no limit on the discount given");
        }
        if c.daily_budget.is_none() {
            add(key("daily_budget"), "none".into(), "no daily limit on the discount given");
        }
        for (payer, share) in c.funding.payers() {
            if share.is_none() {
                add(key(&format!("funding.{payer}")), "0".into(), "pays no share of the discount");
            }
        }
        if c.activate_at.is_none() {
            add(key("activate_at"), format!("\"{open}\""), "issues from the chain's opening");
        }
        if c.stop_at.is_none() {
            add(key("stop_at"), "none".into(), "issues until closing");
        }
        if c.stores.is_none() {
            add(key("stores"), "all".into(), "runs in every store");
        }
    }
    for (i, p) in file.partition.iter().enumerate() {
        if p.store.is_none() {
            let key = match &p.name {
                Some(name) => item("partition", name, i, "store"),
                None => format!("partition[{i}].store"),
            };
            add(key, "all".into(), "every store is cut off from the centres");
        }
    }

    if let Some(sale) = &file.flash_sale {
        for (i, t) in sale.preorder.iter().enumerate() {
            if t.opens.is_none() {
                add(
                    item("flash_sale.preorder", &t.name, i, "opens"),
                    format!("\"{}\"", crate::duration::format_duration(super::flash::DEFAULT_PREORDER_OPENS)),
                    "the tier takes orders from the sale's start",
                );
            }
        }
    }

    // What the chain does to each store scenario, once per scenario.
    for (index, scenario) in stores.files.iter().enumerate() {
        let Some(checked) = &scenario.checked else { continue };
        // Lanes open at opening are the chain's when every store of this scenario says.
        let lanes_overridden =
            file.store.iter().zip(&stores.of_store).filter(|(_, f)| **f == index).all(|(s, _)| s.open_lanes.is_some());
        let prefix = &scenario.written;
        let world = &checked.built.world;
        let (file_open, file_close) = (
            TimeOfDay(world.open_at_s),
            TimeOfDay(world.open_at_s + (world.duration.as_nanos() / 1_000_000_000) as u32),
        );
        if (file_open, file_close) == (open, close) {
            add(
                format!("{prefix}:run"),
                "the chain's [run]".into(),
                "a store scenario's seed, replications and hours are the chain's",
            );
        } else {
            add(
                format!("{prefix}:run"),
                format!("the chain's [run], {open} to {close} (the scenario's: {file_open} to {file_close})"),
                "the chain's seed and hours replace the scenario's: arrivals are taken by time of day, none while the scenario is closed",
            );
        }
        let repriced = checked
            .file
            .sku
            .iter()
            .filter_map(|s| catalogue.skus.get(&s.name).map(|id| (s, &catalogue.items[id.0 as usize])))
            .filter(|(s, c)| s.price.0 != c.price || s.cost.0 != c.cost || s.popularity != c.popularity)
            .count();
        if repriced > 0 {
            add(
                format!("{prefix}:sku"),
                format!("the chain's price, cost and popularity for {repriced} SKUs"),
                "the chain's catalogue replaces what the scenario says of its SKUs",
            );
        }
        let replaced = |key: &str| {
            key.starts_with("run.")
                || (lanes_overridden && key.starts_with("lane[") && key.ends_with("].open_at_start"))
        };
        for d in checked.defaults.iter().filter(|d| !replaced(&d.key)) {
            add(format!("{prefix}:{}", d.key), d.value.clone(), d.note);
        }
    }
    if let Some(load) = &file.load {
        load_defaults(load, &mut add);
    }
    out
}

/// What a `[load]` section leaves out (k6's own defaults, mostly).
fn load_defaults(load: &super::load::LoadFile, add: &mut dyn FnMut(String, String, &'static str)) {
    use super::load::ExecutorFile as E;
    if load.summary_trend_stats.is_none() {
        add(
            "load.summary_trend_stats".into(),
            "[\"avg\", \"min\", \"med\", \"max\", \"p(90)\", \"p(95)\"]".into(),
            "k6's summaryTrendStats",
        );
    }
    if load.seed.is_none() {
        add("load.seed".into(), "run.seed".into(), "the chain's seed");
    }
    for (name, s) in &load.scenarios {
        let key = |k: &str| format!("load.scenarios.{}.{k}", crate::defaults::bare_or_quoted(name));
        if s.start_time.is_none() {
            add(key("start_time"), "\"0s\"".into(), "starts with the run (the chain's opening)");
        }
        let open = matches!(s.executor, E::RampingArrivalRate | E::ConstantArrivalRate);
        if open && s.time_unit.is_none() {
            add(key("time_unit"), "\"1s\"".into(), "rates are arrivals per second");
        }
        if s.executor == E::RampingArrivalRate && s.start_rate.is_none() {
            add(key("start_rate"), "0".into(), "the ramp starts from no arrivals");
        }
        if s.executor == E::RampingShoppers && s.start_shoppers.is_none() {
            add(key("start_shoppers"), "0".into(), "the ramp starts from no shoppers");
        }
        if open && s.max_shoppers.is_none() && s.journey != super::load::JourneyFile::OrdinaryShopping {
            add(key("max_shoppers"), "no limit".into(), "no arrival is dropped");
        }
    }
}
