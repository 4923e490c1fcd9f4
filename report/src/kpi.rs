//! What each KPI of a comparison is, for the people who read it: the group it is listed
//! under, its name and unit, which way is better, and where it comes in its group.
//!
//! The names are the keys of [`flat`]: `StoreKpis::flat`'s (`footfall`, `sales`,
//! `queue[L1].wait_mean_s`, `lane[L1].utilisation`, `kiosk[kiosk].reneged`,
//! `crowd.slowed_s_per_shopper`, `zone[front aisle].peak_density`, ...) and each zone's dwell
//! and conversion (`zone[aisles 1-2].dwell_s`, `zone[aisles 1-2].conversion`). The console
//! table of `storetwin compare`, its JSON and `compare.html` all describe and order KPIs
//! from here, so they read alike. A key this file does not know (a KPI added later) is
//! still listed, under "other", with its key as its name.
//!
//! A chain's KPIs are [`chain_flat`]'s: the chain's totals (`chain.sales`), all its orders
//! (`orders.pick_p90_s`) and each channel's (`channel[app].within_target`), each coupon
//! campaign's funnel (`coupon[dairy-wifi].redeemed`), settlement
//! (`settlement.hq_net`), members' points (`members.earned`, `level[gold].earned`) and each
//! store's store-wide KPIs, online work and books under its name (`store[riverside].sales`,
//! `store[riverside].online.mean_pick_s`), listed as "riverside: sales".

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use storetwin_actors::chain::summary::{ChainKpis, ChannelOrders};
use storetwin_actors::store::summary::StoreKpis;

use crate::stats::{self, Estimate};

/// The unit of money. The scenario format names no currency: prices are written in the
/// major units of the store's own currency, and so are all money KPIs.
pub const CURRENCY: &str = "currency units";

/// The KPIs of one run by name: [`StoreKpis::flat`] and each zone's dwell per visitor and
/// conversion.
pub fn flat(kpis: &StoreKpis) -> BTreeMap<String, f64> {
    let mut out = kpis.flat();
    for z in &kpis.zones {
        out.insert(format!("zone[{}].dwell_s", z.name), z.dwell_s_per_visitor);
        out.insert(format!("zone[{}].conversion", z.name), z.conversion);
    }
    out
}

/// The KPIs of one chain run by name (see the module doc): the chain's totals, its orders
/// and each channel's, each coupon campaign's funnel and budget used, settlement, members' points, and each store's store-wide KPIs
/// ([`flat`]'s without a queue, lane, zone or kiosk of their own), online work and books.
pub fn chain_flat(k: &ChainKpis) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut put = |key: String, v: f64| {
        out.insert(key, v);
    };
    let c = &k.chain;
    put("chain.shoppers".into(), c.shoppers_in_store as f64);
    put("chain.buyers".into(), c.buyers as f64);
    put("chain.conversion".into(), ratio(c.buyers as f64, c.shoppers_in_store as f64));
    put("chain.sales".into(), c.sales);
    put("chain.payments".into(), c.payments);
    put("chain.discounts".into(), c.discounts);
    put("chain.items_sold".into(), c.items_sold as f64);
    put("chain.lost_value".into(), c.lost_sales_value);
    put("chain.online_orders".into(), c.online_orders as f64);
    put("chain.online_value".into(), c.online_value);
    put("chain.kiosk_orders".into(), c.kiosk_orders as f64);
    let orders = |prefix: &str, o: &ChannelOrders, put: &mut dyn FnMut(String, f64)| {
        put(format!("{prefix}orders"), o.orders as f64);
        put(format!("{prefix}picked"), o.picked as f64);
        put(format!("{prefix}within_target"), o.share_picked_within_target);
        put(format!("{prefix}pick_p50_s"), o.pick_p50_s);
        put(format!("{prefix}pick_p90_s"), o.pick_p90_s);
        put(format!("{prefix}pick_p99_s"), o.pick_p99_s);
        put(format!("{prefix}collected"), o.collected as f64);
        put(format!("{prefix}delivered"), o.delivered as f64);
        put(format!("{prefix}expired"), o.expired as f64);
        put(format!("{prefix}cancelled"), o.cancelled as f64);
        put(format!("{prefix}rerouted"), o.rerouted as f64);
        put(
            format!("{prefix}open"),
            (o.open_routed + o.open_picking + o.open_ready + o.open_dispatched + o.open_in_transit) as f64,
        );
    };
    orders("orders.", &k.orders.all, &mut put);
    for ch in &k.orders.by_channel {
        orders(&format!("channel[{}].", ch.channel), ch, &mut put);
    }
    let t = &k.transfers;
    put("transfers.sent".into(), t.sent as f64);
    put("transfers.received".into(), t.received as f64);
    put("transfers.units_in_transit".into(), t.units_in_transit_at_close as f64);
    put("transfers.p50_s".into(), t.transfer_p50_s);
    put("transfers.p90_s".into(), t.transfer_p90_s);
    put("transfers.collected".into(), t.collected as f64);
    put("transfers.expired".into(), t.expired_into_back_room as f64);
    let s = &k.settlement;
    put("settlement.gross".into(), s.gross);
    put("settlement.discounts".into(), s.discounts);
    put("settlement.paid".into(), s.paid);
    put("settlement.fees".into(), s.fees);
    put("settlement.hq_net".into(), s.hq_net);
    put("settlement.franchisees_net".into(), s.franchisees_net);
    put("settlement.brands_net".into(), s.brands_net);
    put("settlement.funded_by_hq".into(), s.funded_by_hq);
    put("settlement.funded_by_franchisees".into(), s.funded_by_franchisees);
    put("settlement.funded_by_brands".into(), s.funded_by_brands);
    put("settlement.points_discounts".into(), s.points_discounts);
    put("settlement.offline_losses".into(), s.offline_losses.total);
    put("settlement.offline_losses_hq".into(), s.offline_losses.borne_by_hq);
    put("settlement.offline_losses_franchisees".into(), s.offline_losses.borne_by_franchisees);
    put("settlement.broken_identities".into(), s.reconciliation.broken.len() as f64);
    for c in &k.coupons {
        let prefix = format!("coupon[{}].", c.name);
        put(format!("{prefix}issued"), f64::from(c.issued));
        put(format!("{prefix}redeemed"), f64::from(c.redeemed));
        put(format!("{prefix}redeemed_online"), f64::from(c.redeemed_online));
        put(format!("{prefix}expired"), f64::from(c.expired));
        put(format!("{prefix}refused"), f64::from(c.claims_refused + c.redemptions_refused));
        put(format!("{prefix}budget_used"), c.budget_used);
    }
    let m = &k.members;
    put("members.earned".into(), m.earned as f64);
    put("members.redeemed".into(), m.redeemed as f64);
    put("members.returned".into(), m.returned as f64);
    put("members.outstanding".into(), m.outstanding as f64);
    put("members.registrations".into(), m.registrations.total as f64);
    put("members.registrations_in_store".into(), m.registrations.in_store as f64);
    put("members.registrations_online".into(), m.registrations.online as f64);
    put("members.referrals".into(), m.referrals.referred as f64);
    put("members.referrals_joined".into(), m.referrals.joined as f64);
    for l in &m.by_level {
        put(format!("level[{}].earned", l.name), l.earned as f64);
        put(format!("level[{}].redeemed", l.name), l.redeemed as f64);
    }
    for st in &k.stores {
        let prefix = format!("store[{}].", st.name);
        for (key, v) in st.kpis.flat() {
            if STORE.iter().any(|s| s.0 == key) {
                put(format!("{prefix}{key}"), v);
            }
        }
        let o = &st.online;
        put(format!("{prefix}online.orders_picked"), o.orders_picked as f64);
        put(format!("{prefix}online.within_target"), o.share_picked_within_target);
        put(format!("{prefix}online.mean_pick_s"), o.mean_pick_s);
        put(format!("{prefix}online.picker_utilisation"), o.picker_utilisation);
        put(format!("{prefix}online.counter_wait_s"), o.mean_counter_wait_s);
        put(format!("{prefix}online.expired"), o.expired as f64);
        put(format!("{prefix}online.open_at_close"), o.open_at_close as f64);
    }
    for b in &s.by_store {
        let prefix = format!("store[{}].", b.store);
        put(format!("{prefix}paid"), b.paid);
        put(format!("{prefix}hq_net"), b.hq_net);
        if let Some(f) = b.franchisee_net {
            put(format!("{prefix}franchisee_net"), f);
        }
    }
    out
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The groups KPIs are listed under, in the order they are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Footfall,
    Sales,
    Queues,
    Lanes,
    Zones,
    /// How crowded the floor was: time lost to crowds, density per zone.
    Crowding,
    Sensors,
    /// A chain's totals.
    Chain,
    /// A chain's online and kiosk orders, all together and by channel.
    Orders,
    /// Each coupon campaign's funnel and budget.
    Coupons,
    Settlement,
    /// Member points, all together and by level.
    Members,
    /// Each store of a chain, under its name.
    Stores,
    Other,
}

impl Group {
    /// The heading of the group.
    pub fn title(self) -> &'static str {
        match self {
            Group::Footfall => "footfall & conversion",
            Group::Sales => "sales",
            Group::Queues => "queues",
            Group::Lanes => "lanes",
            Group::Zones => "zones",
            Group::Crowding => "crowding",
            Group::Sensors => "sensors",
            Group::Chain => "chain",
            Group::Orders => "orders",
            Group::Coupons => "coupons",
            Group::Settlement => "settlement",
            Group::Members => "member points",
            Group::Stores => "stores",
            Group::Other => "other",
        }
    }
}

/// What a KPI's value is, which decides how it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// People, items or orders (a mean across replications may have decimals).
    Count,
    /// Major units of the store's currency ([`CURRENCY`]).
    Money,
    /// A share between 0 and 1, written in percent (differences in percentage points).
    Fraction,
    Seconds,
    /// Any other number.
    Number,
}

impl Unit {
    /// What a value is multiplied by to be written (fractions as percentages).
    pub fn scale(self) -> f64 {
        if self == Unit::Fraction { 100.0 } else { 1.0 }
    }

    /// Decimals when there is no interval to size them by (one replication, or a
    /// difference that is exactly the same in every replication).
    pub fn default_decimals(self) -> usize {
        match self {
            Unit::Count => 0,
            Unit::Fraction | Unit::Seconds => 1,
            Unit::Money | Unit::Number => 2,
        }
    }

    /// Written after a value on the page ("12.5 s", "97.9%").
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Seconds => " s",
            Unit::Fraction => "%",
            _ => "",
        }
    }

    /// A mean across replications as written: with "± half-width" of its 95% confidence
    /// interval when there are several ("12.3 ± 0.41"), decimals sized by the interval.
    pub fn plus_minus(self, e: &Estimate) -> String {
        let e = e.scaled(self.scale());
        let d = stats::decimals(&e, self.default_decimals(), false);
        if e.n > 1 {
            format!("{} ± {}", stats::fixed(e.mean, d), stats::fixed(e.ci95, d))
        } else {
            stats::fixed(e.mean, d)
        }
    }

    /// Written after a difference on the page: fractions differ in percentage points.
    pub fn diff_suffix(self) -> &'static str {
        if self == Unit::Fraction { " pp" } else { self.suffix() }
    }
}

/// Which way a KPI is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Neither way is good or bad in itself (visit length, utilisation, sensed counts).
    Neither,
}

/// What a KPI with a subject is of; also the order of subjects within a group (a lane's
/// own queue, then shared lines, then kiosks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SubjectKind {
    Queue,
    /// A line shared by several lanes.
    Line,
    Kiosk,
    Lane,
    Zone,
    /// A sales channel of a chain's orders.
    Channel,
    /// A coupon campaign.
    Campaign,
    /// A member level.
    Level,
    /// A store of a chain.
    Store,
}

impl SubjectKind {
    fn of(prefix: &str, subject: &str, shared_lines: &BTreeSet<String>) -> SubjectKind {
        match prefix {
            "queue" if shared_lines.contains(subject) => SubjectKind::Line,
            "queue" => SubjectKind::Queue,
            "kiosk" => SubjectKind::Kiosk,
            "lane" => SubjectKind::Lane,
            "channel" => SubjectKind::Channel,
            "level" => SubjectKind::Level,
            "coupon" => SubjectKind::Campaign,
            "store" => SubjectKind::Store,
            _ => SubjectKind::Zone,
        }
    }

    /// The noun a title puts before the subject's name ("queue L1", "zone checkout").
    fn noun(self) -> &'static str {
        match self {
            SubjectKind::Queue | SubjectKind::Line => "queue ",
            SubjectKind::Lane => "lane ",
            SubjectKind::Zone => "zone ",
            SubjectKind::Channel => "channel ",
            SubjectKind::Level => "level ",
            SubjectKind::Campaign => "coupon ",
            SubjectKind::Store => "store ",
            // Kiosks carry the word in their short name already.
            SubjectKind::Kiosk => "",
        }
    }
}

/// One KPI, described.
#[derive(Clone, Debug, PartialEq)]
pub struct Kpi {
    /// Its name in [`flat`].
    pub key: String,
    pub group: Group,
    /// The queue, lane or zone it is of, if it is of one.
    pub subject: Option<String>,
    /// What is measured, without its subject or unit: "footfall", "mean wait".
    pub measure: String,
    pub unit: Unit,
    /// The unit as written after a name: "s", "%", "shoppers", "currency units".
    pub unit_text: String,
    pub better: Better,
    /// What the subject is (a kiosk's queue is listed after the checkout queues).
    kind: Option<SubjectKind>,
    /// Where the KPI comes among the store-wide KPIs of its group, or among its
    /// subject's KPIs.
    rank: usize,
}

/// The store-wide KPIs: key, group, measure, unit, unit text ("¤" is the currency) and
/// which way is better, in the order they are listed within their group.
const STORE: [(&str, Group, &str, Unit, &str, Better); 25] = [
    ("footfall", Group::Footfall, "footfall", Unit::Count, "shoppers", Better::Higher),
    ("buyers", Group::Footfall, "buyers", Unit::Count, "shoppers", Better::Higher),
    ("conversion", Group::Footfall, "conversion", Unit::Fraction, "%", Better::Higher),
    ("basket_mean_items", Group::Footfall, "basket", Unit::Number, "items per buyer", Better::Higher),
    ("mean_visit_s", Group::Footfall, "mean visit", Unit::Seconds, "s", Better::Neither),
    ("sales", Group::Sales, "sales", Unit::Money, "¤", Better::Higher),
    ("sales_per_m2", Group::Sales, "sales per m²", Unit::Money, "¤/m²", Better::Higher),
    ("lost_value", Group::Sales, "lost sales", Unit::Money, "¤", Better::Lower),
    ("lost_items", Group::Sales, "lost sales", Unit::Count, "items", Better::Lower),
    ("impulse_adds", Group::Sales, "impulse buys", Unit::Count, "items", Better::Higher),
    ("kiosk_orders", Group::Sales, "kiosk orders", Unit::Count, "orders", Better::Neither),
    ("wait_mean_s", Group::Queues, "all queues: mean wait", Unit::Seconds, "s", Better::Lower),
    ("wait_p90_s", Group::Queues, "all queues: p90 wait", Unit::Seconds, "s", Better::Lower),
    ("wait_max_s", Group::Queues, "all queues: longest wait", Unit::Seconds, "s", Better::Lower),
    ("balked", Group::Queues, "balked", Unit::Count, "shoppers", Better::Lower),
    ("reneged", Group::Queues, "reneged", Unit::Count, "shoppers", Better::Lower),
    ("balk_rate", Group::Queues, "balk rate", Unit::Fraction, "% of footfall", Better::Lower),
    ("renege_rate", Group::Queues, "renege rate", Unit::Fraction, "% of footfall", Better::Lower),
    ("crowd.slowed_s_per_shopper", Group::Crowding, "slowed by crowds, per shopper", Unit::Seconds, "s", Better::Lower),
    (
        "crowd.blocked_s_per_shopper",
        Group::Crowding,
        "blocked by full cells, per shopper",
        Unit::Seconds,
        "s",
        Better::Lower,
    ),
    ("crowd.to_first_shelf_s", Group::Crowding, "door to first shelf", Unit::Seconds, "s", Better::Lower),
    ("crowd.entry_waits", Group::Crowding, "waited outside a full entrance", Unit::Count, "shoppers", Better::Lower),
    ("footfall_sensed", Group::Sensors, "footfall, door counters", Unit::Count, "shoppers", Better::Neither),
    ("wifi_visitors_sensed", Group::Sensors, "visitors, WiFi probes", Unit::Count, "shoppers", Better::Neither),
    ("mean_visit_s_sensed", Group::Sensors, "mean visit, WiFi probes", Unit::Seconds, "s", Better::Neither),
];

/// The KPIs of a queue, lane or zone: group, the key's prefix, the measure's key, its
/// name, unit, unit text and which way is better, in their order.
const PER_SUBJECT: [(Group, &str, &str, &str, Unit, &str, Better); 9] = [
    (Group::Queues, "queue", "wait_mean_s", "mean wait", Unit::Seconds, "s", Better::Lower),
    (Group::Queues, "queue", "wait_p90_s", "p90 wait", Unit::Seconds, "s", Better::Lower),
    (Group::Queues, "kiosk", "wait_mean_s", "mean wait", Unit::Seconds, "s", Better::Lower),
    (Group::Queues, "kiosk", "reneged", "gave up waiting", Unit::Count, "shoppers", Better::Lower),
    (Group::Lanes, "lane", "utilisation", "utilisation", Unit::Fraction, "%", Better::Neither),
    (Group::Zones, "zone", "dwell_s", "dwell per visitor", Unit::Seconds, "s", Better::Neither),
    (Group::Zones, "zone", "conversion", "conversion", Unit::Fraction, "%", Better::Higher),
    (Group::Crowding, "zone", "mean_density", "mean density", Unit::Number, "people/m²", Better::Lower),
    (Group::Crowding, "zone", "peak_density", "peak density", Unit::Number, "people/m²", Better::Lower),
];

/// A chain's KPIs: key, group, measure, unit, unit text and which way is better, in the
/// order they are listed within their group.
const CHAIN: [(&str, Group, &str, Unit, &str, Better); 54] = [
    ("chain.shoppers", Group::Chain, "shoppers in store", Unit::Count, "shoppers", Better::Higher),
    ("chain.buyers", Group::Chain, "buyers", Unit::Count, "shoppers", Better::Higher),
    ("chain.conversion", Group::Chain, "conversion", Unit::Fraction, "%", Better::Higher),
    ("chain.sales", Group::Chain, "sales in store", Unit::Money, "¤", Better::Higher),
    ("chain.payments", Group::Chain, "paid at the tills", Unit::Money, "¤", Better::Higher),
    ("chain.discounts", Group::Chain, "discounts at the tills", Unit::Money, "¤", Better::Neither),
    ("chain.items_sold", Group::Chain, "items sold in store", Unit::Count, "items", Better::Higher),
    ("chain.lost_value", Group::Chain, "lost sales", Unit::Money, "¤", Better::Lower),
    ("chain.online_orders", Group::Chain, "online orders", Unit::Count, "orders", Better::Higher),
    ("chain.online_value", Group::Chain, "online sales", Unit::Money, "¤", Better::Higher),
    ("chain.kiosk_orders", Group::Chain, "kiosk orders", Unit::Count, "orders", Better::Neither),
    ("orders.orders", Group::Orders, "all orders", Unit::Count, "orders", Better::Neither),
    ("orders.picked", Group::Orders, "picked", Unit::Count, "orders", Better::Higher),
    ("orders.within_target", Group::Orders, "picked within target", Unit::Fraction, "%", Better::Higher),
    ("orders.pick_p50_s", Group::Orders, "p50 pick time", Unit::Seconds, "s", Better::Lower),
    ("orders.pick_p90_s", Group::Orders, "p90 pick time", Unit::Seconds, "s", Better::Lower),
    ("orders.pick_p99_s", Group::Orders, "p99 pick time", Unit::Seconds, "s", Better::Lower),
    ("orders.collected", Group::Orders, "collected", Unit::Count, "orders", Better::Higher),
    ("orders.delivered", Group::Orders, "delivered", Unit::Count, "orders", Better::Higher),
    ("orders.expired", Group::Orders, "expired", Unit::Count, "orders", Better::Lower),
    ("orders.cancelled", Group::Orders, "cancelled", Unit::Count, "orders", Better::Lower),
    ("orders.rerouted", Group::Orders, "rerouted", Unit::Count, "orders", Better::Lower),
    ("orders.open", Group::Orders, "open at the close", Unit::Count, "orders", Better::Lower),
    ("transfers.sent", Group::Orders, "ship-to-store transfers sent", Unit::Count, "orders", Better::Neither),
    ("transfers.received", Group::Orders, "transfers received", Unit::Count, "orders", Better::Higher),
    (
        "transfers.units_in_transit",
        Group::Orders,
        "units in transit at the close",
        Unit::Count,
        "units",
        Better::Neither,
    ),
    ("transfers.p50_s", Group::Orders, "p50 transfer time", Unit::Seconds, "s", Better::Lower),
    ("transfers.p90_s", Group::Orders, "p90 transfer time", Unit::Seconds, "s", Better::Lower),
    ("transfers.collected", Group::Orders, "transfers collected", Unit::Count, "orders", Better::Higher),
    ("transfers.expired", Group::Orders, "transfers expired into the back room", Unit::Count, "orders", Better::Lower),
    ("settlement.gross", Group::Settlement, "gross", Unit::Money, "¤", Better::Higher),
    ("settlement.discounts", Group::Settlement, "discounts", Unit::Money, "¤", Better::Neither),
    ("settlement.paid", Group::Settlement, "paid", Unit::Money, "¤", Better::Higher),
    ("settlement.fees", Group::Settlement, "payment channels' fees", Unit::Money, "¤", Better::Lower),
    ("settlement.hq_net", Group::Settlement, "HQ net", Unit::Money, "¤", Better::Higher),
    ("settlement.franchisees_net", Group::Settlement, "franchisees' net", Unit::Money, "¤", Better::Higher),
    ("settlement.brands_net", Group::Settlement, "brands' net", Unit::Money, "¤", Better::Neither),
    ("settlement.funded_by_hq", Group::Settlement, "discounts funded by HQ", Unit::Money, "¤", Better::Neither),
    (
        "settlement.funded_by_franchisees",
        Group::Settlement,
        "discounts funded by franchisees",
        Unit::Money,
        "¤",
        Better::Neither,
    ),
    ("settlement.funded_by_brands", Group::Settlement, "discounts funded by brands", Unit::Money, "¤", Better::Neither),
    ("settlement.points_discounts", Group::Settlement, "paid with points", Unit::Money, "¤", Better::Neither),
    ("settlement.offline_losses", Group::Settlement, "offline losses", Unit::Money, "¤", Better::Lower),
    ("settlement.offline_losses_hq", Group::Settlement, "offline losses borne by HQ", Unit::Money, "¤", Better::Lower),
    (
        "settlement.offline_losses_franchisees",
        Group::Settlement,
        "offline losses borne by franchisees",
        Unit::Money,
        "¤",
        Better::Lower,
    ),
    ("settlement.broken_identities", Group::Settlement, "identities broken", Unit::Count, "identities", Better::Lower),
    ("members.earned", Group::Members, "earned", Unit::Count, "points", Better::Neither),
    ("members.redeemed", Group::Members, "redeemed", Unit::Count, "points", Better::Neither),
    ("members.returned", Group::Members, "returned with refunds", Unit::Count, "points", Better::Neither),
    ("members.outstanding", Group::Members, "outstanding", Unit::Count, "points", Better::Neither),
    ("members.registrations", Group::Members, "registrations", Unit::Count, "members", Better::Higher),
    (
        "members.registrations_in_store",
        Group::Members,
        "registered at a WiFi portal",
        Unit::Count,
        "members",
        Better::Higher,
    ),
    (
        "members.registrations_online",
        Group::Members,
        "registered ordering online",
        Unit::Count,
        "members",
        Better::Higher,
    ),
    ("members.referrals", Group::Members, "friends referred", Unit::Count, "friends", Better::Higher),
    ("members.referrals_joined", Group::Members, "referred friends who joined", Unit::Count, "members", Better::Higher),
];

/// The KPIs of a chain's channel or member level: group, the key's prefix, the measure's
/// key, its name, unit, unit text and which way is better, in their order.
const CHAIN_SUBJECT: [(Group, &str, &str, &str, Unit, &str, Better); 20] = [
    (Group::Orders, "channel", "orders", "orders", Unit::Count, "orders", Better::Neither),
    (Group::Orders, "channel", "picked", "picked", Unit::Count, "orders", Better::Higher),
    (Group::Orders, "channel", "within_target", "picked within target", Unit::Fraction, "%", Better::Higher),
    (Group::Orders, "channel", "pick_p50_s", "p50 pick time", Unit::Seconds, "s", Better::Lower),
    (Group::Orders, "channel", "pick_p90_s", "p90 pick time", Unit::Seconds, "s", Better::Lower),
    (Group::Orders, "channel", "pick_p99_s", "p99 pick time", Unit::Seconds, "s", Better::Lower),
    (Group::Orders, "channel", "collected", "collected", Unit::Count, "orders", Better::Higher),
    (Group::Orders, "channel", "delivered", "delivered", Unit::Count, "orders", Better::Higher),
    (Group::Orders, "channel", "expired", "expired", Unit::Count, "orders", Better::Lower),
    (Group::Orders, "channel", "cancelled", "cancelled", Unit::Count, "orders", Better::Lower),
    (Group::Orders, "channel", "rerouted", "rerouted", Unit::Count, "orders", Better::Lower),
    (Group::Orders, "channel", "open", "open at the close", Unit::Count, "orders", Better::Lower),
    (Group::Coupons, "coupon", "issued", "issued", Unit::Count, "coupons", Better::Neither),
    (Group::Coupons, "coupon", "redeemed", "redeemed", Unit::Count, "coupons", Better::Neither),
    (Group::Coupons, "coupon", "redeemed_online", "redeemed online", Unit::Count, "coupons", Better::Neither),
    (Group::Coupons, "coupon", "expired", "expired", Unit::Count, "coupons", Better::Neither),
    (Group::Coupons, "coupon", "refused", "claims and redemptions refused", Unit::Count, "calls", Better::Lower),
    (Group::Coupons, "coupon", "budget_used", "budget used", Unit::Money, "¤", Better::Neither),
    (Group::Members, "level", "earned", "earned", Unit::Count, "points", Better::Neither),
    (Group::Members, "level", "redeemed", "redeemed", Unit::Count, "points", Better::Neither),
];

/// A chain store's KPIs beyond its store-wide ones: its online work and its books (key
/// after the store's prefix, measure, unit, unit text, which way is better), in order.
const STORE_IN_CHAIN: [(&str, &str, Unit, &str, Better); 10] = [
    ("online.orders_picked", "orders picked", Unit::Count, "orders", Better::Neither),
    ("online.within_target", "picked within target", Unit::Fraction, "%", Better::Higher),
    ("online.mean_pick_s", "mean pick time", Unit::Seconds, "s", Better::Lower),
    ("online.picker_utilisation", "picker utilisation", Unit::Fraction, "%", Better::Neither),
    ("online.counter_wait_s", "pickup counter wait", Unit::Seconds, "s", Better::Lower),
    ("online.expired", "orders expired", Unit::Count, "orders", Better::Lower),
    ("online.open_at_close", "orders open at the close", Unit::Count, "orders", Better::Lower),
    ("paid", "settled payments", Unit::Money, "¤", Better::Higher),
    ("hq_net", "HQ net", Unit::Money, "¤", Better::Higher),
    ("franchisee_net", "franchisee net", Unit::Money, "¤", Better::Higher),
];

/// Subject names longer than this are shortened (with "…") in labels.
pub const SUBJECT_CHARS: usize = 22;

impl Kpi {
    /// Describes `key`. `shared_lines` are the names of the queues that are lines shared by
    /// several lanes.
    pub fn of(key: &str, shared_lines: &BTreeSet<String>) -> Kpi {
        let kpi = |group, subject: Option<(&str, &str)>, measure: &str, unit, unit_text: &str, better, rank| Kpi {
            key: key.to_string(),
            group,
            kind: subject.map(|(prefix, s)| SubjectKind::of(prefix, s, shared_lines)),
            subject: subject.map(|(_, s)| s.to_string()),
            measure: measure.to_string(),
            unit,
            unit_text: unit_text.replace('¤', CURRENCY),
            better,
            rank,
        };
        if let Some(rank) = STORE.iter().position(|s| s.0 == key) {
            let (_, group, measure, unit, unit_text, better) = STORE[rank];
            return kpi(group, None, measure, unit, unit_text, better, rank);
        }
        if let Some(rank) = CHAIN.iter().position(|s| s.0 == key) {
            let (_, group, measure, unit, unit_text, better) = CHAIN[rank];
            return kpi(group, None, measure, unit, unit_text, better, rank);
        }
        // A chain's store: its store-wide KPI, online work or books, listed in that order.
        if let Some(rest) = key.strip_prefix("store[")
            && let Some((store, inner)) = rest.split_once("].")
        {
            let subject = Some(("store", store));
            if let Some(rank) = STORE.iter().position(|s| s.0 == inner) {
                let (_, group, measure, unit, unit_text, better) = STORE[rank];
                return kpi(Group::Stores, subject, measure, unit, unit_text, better, 100 * group as usize + rank);
            }
            if let Some(rank) = STORE_IN_CHAIN.iter().position(|s| s.0 == inner) {
                let (_, measure, unit, unit_text, better) = STORE_IN_CHAIN[rank];
                return kpi(
                    Group::Stores,
                    subject,
                    measure,
                    unit,
                    unit_text,
                    better,
                    100 * Group::Other as usize + rank,
                );
            }
        }
        if let Some((prefix, rest)) = key.split_once('[')
            && let Some((subject, what)) = rest.rsplit_once("].")
            && let Some(rank) = CHAIN_SUBJECT.iter().position(|m| m.1 == prefix && m.2 == what)
        {
            let (group, _, _, measure, unit, unit_text, better) = CHAIN_SUBJECT[rank];
            return kpi(group, Some((prefix, subject)), measure, unit, unit_text, better, rank);
        }
        if let Some((prefix, rest)) = key.split_once('[')
            && let Some((subject, what)) = rest.rsplit_once("].")
            && let Some(rank) = PER_SUBJECT.iter().position(|m| m.1 == prefix && m.2 == what)
        {
            let (group, _, _, measure, unit, unit_text, better) = PER_SUBJECT[rank];
            return kpi(group, Some((prefix, subject)), measure, unit, unit_text, better, rank);
        }
        // A KPI added to `StoreKpis::flat` after this file was written.
        let (unit, unit_text) = if key.ends_with("_s") { (Unit::Seconds, "s") } else { (Unit::Number, "") };
        kpi(Group::Other, None, key, unit, unit_text, Better::Neither, 0)
    }

    /// The subject's name as listed: a shared line of many lanes as "line A–Z", a kiosk
    /// with the word "kiosk" (unless its name has it), and a long name cut to
    /// [`SUBJECT_CHARS`].
    pub fn short_subject(&self) -> Option<String> {
        let kiosk = self.kind == Some(SubjectKind::Kiosk);
        let channel = self.kind == Some(SubjectKind::Channel);
        self.subject.as_deref().map(|s| {
            let s = if channel { channel_label(s) } else { queue_label(s) };
            let s = if kiosk && !s.to_lowercase().contains("kiosk") { format!("kiosk {s}") } else { s };
            shorten(&s, SUBJECT_CHARS)
        })
    }

    /// The name within its group, without unit: "footfall", "L1: mean wait".
    pub fn name(&self) -> String {
        match self.short_subject() {
            Some(s) => format!("{s}: {}", self.measure),
            None => self.measure.clone(),
        }
    }

    /// The name within its group with its unit: "footfall (shoppers)", "L1: mean wait (s)".
    pub fn label(&self) -> String {
        with_unit(self.name(), &self.unit_text)
    }

    /// The name as a page writes it, whose figures carry " s" and "%" themselves: with
    /// its unit only when the figures do not say it ("sales (currency units)", "balk rate
    /// (% of footfall)", but "mean wait").
    pub fn page_label(&self) -> String {
        if self.unit_text == self.unit.suffix().trim() { self.name() } else { self.label() }
    }

    /// The name with its unit where no group heading says what its subject is:
    /// "queue L11: mean wait (s)", "zone checkout: conversion (%)", "kiosk: gave up waiting
    /// (shoppers)".
    pub fn title(&self) -> String {
        let noun = self.kind.map_or("", SubjectKind::noun);
        match self.short_subject() {
            Some(s) => with_unit(format!("{noun}{s}: {}", self.measure), &self.unit_text),
            None => self.label(),
        }
    }

    /// The order KPIs are listed in: by group; within it the store-wide KPIs first, then
    /// by subject (a lane's own queue before shared lines, kiosks last, then names in
    /// natural order: L2 before L10), then the subject's KPIs in their order.
    pub fn listing_order(&self, other: &Kpi) -> Ordering {
        // Channels in the order the chain counts them (app, mini-program, web, kiosks).
        let channel_rank = |k: &Kpi, s: &str| {
            if k.kind == Some(SubjectKind::Channel) { CHANNELS.iter().position(|c| *c == s) } else { None }
        };
        let subject = |k: &Kpi| k.subject.as_ref().map(|s| (k.kind, channel_rank(k, s), s.clone()));
        self.group
            .cmp(&other.group)
            .then_with(|| match (subject(self), subject(other)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some((la, ra, a)), Some((lb, rb, b))) => {
                    la.cmp(&lb).then(ra.cmp(&rb)).then_with(|| natural_cmp(&a, &b))
                }
            })
            .then(self.rank.cmp(&other.rank))
            .then_with(|| natural_cmp(&self.key, &other.key))
    }
}

/// The channels of a chain's orders, in the order they are listed.
const CHANNELS: [&str; 4] = ["app", "mini_program", "web", "kiosk"];

/// A channel's name as listed: "mini-program", "kiosks".
pub fn channel_label(channel: &str) -> String {
    match channel {
        "kiosk" => "kiosks".to_string(),
        other => other.replace('_', "-"),
    }
}

/// Short display name of a queue: a shared line of many lanes as "line A…Z".
pub fn queue_label(name: &str) -> String {
    match name.strip_prefix("line ") {
        Some(lanes) if lanes.matches('+').count() >= 2 => {
            let first = lanes.split('+').next().unwrap_or(lanes);
            let last = lanes.rsplit('+').next().unwrap_or(lanes);
            format!("line {first}\u{2013}{last}")
        }
        _ => name.to_string(),
    }
}

/// `name (unit)`, or just the name when there is no unit.
fn with_unit(name: String, unit: &str) -> String {
    if unit.is_empty() { name } else { format!("{name} ({unit})") }
}

/// `s` cut to at most `max` characters, ending in "…" when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The names of the queues of `kpis` that are lines shared by several lanes.
pub fn shared_lines<'a>(kpis: impl IntoIterator<Item = &'a StoreKpis>) -> BTreeSet<String> {
    kpis.into_iter().flat_map(|k| &k.queues).filter(|q| q.kind == "line").map(|q| q.name.clone()).collect()
}

/// Compares names as people do: runs of digits by their value, the rest by letters
/// regardless of case ("L2" < "L10" < "line front" < "SCO1").
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (chunks(a), chunks(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let order = match (p.bytes().all(|c| c.is_ascii_digit()), q.bytes().all(|c| c.is_ascii_digit())) {
                    (true, true) => {
                        let (p, q) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
                        p.len().cmp(&q.len()).then_with(|| p.cmp(q))
                    }
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.to_lowercase().cmp(&q.to_lowercase()),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// `s` split into runs of ASCII digits and runs of anything else.
fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = rest.find(|c: char| c.is_ascii_digit() != digit).unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str], lines: &[&str]) -> Vec<String> {
        let lines: BTreeSet<String> = lines.iter().map(|s| s.to_string()).collect();
        let mut kpis: Vec<Kpi> = keys.iter().map(|k| Kpi::of(k, &lines)).collect();
        kpis.sort_by(|a, b| a.listing_order(b));
        kpis.into_iter().map(|k| k.key).collect()
    }

    #[test]
    fn names_sort_as_people_count() {
        let mut names = vec!["L10", "SCO2", "L2", "line front", "L1", "SCO10", "GO1", "aisles 10-12", "aisles 3-6"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["aisles 3-6", "aisles 10-12", "GO1", "L1", "L2", "L10", "line front", "SCO2", "SCO10"]);
        assert_ne!(natural_cmp("L007", "L7"), Ordering::Equal, "equal values, different names: still a total order");
        assert_eq!(natural_cmp("L99999999999999999999999", "L100000000000000000000000"), Ordering::Less);
        assert_eq!(natural_cmp("", "L1"), Ordering::Less);
    }

    #[test]
    fn kpis_are_listed_by_group_then_store_wide_then_subject_in_natural_order() {
        let keys = [
            "lane[L10].utilisation",
            "queue[line front].wait_mean_s",
            "queue[L10].wait_p90_s",
            "queue[L10].wait_mean_s",
            "queue[L2].wait_mean_s",
            "wait_mean_s",
            "zone[aisles 10-12].dwell_s",
            "zone[aisles 1-2].conversion",
            "zone[aisles 1-2].dwell_s",
            "footfall_sensed",
            "sales",
            "footfall",
            "lane[L2].utilisation",
            "crowding_index",
            "zone[aisles 10-12].mean_density",
            "kiosk[kiosk].reneged",
            "crowd.slowed_s_per_shopper",
            "zone[aisles 1-2].peak_density",
            "kiosk[kiosk].wait_mean_s",
        ];
        assert_eq!(
            sorted(&keys, &["line front"]),
            [
                "footfall",
                "sales",
                "wait_mean_s",
                "queue[L2].wait_mean_s",
                "queue[L10].wait_mean_s",
                "queue[L10].wait_p90_s",
                "queue[line front].wait_mean_s",
                "kiosk[kiosk].wait_mean_s",
                "kiosk[kiosk].reneged",
                "lane[L2].utilisation",
                "lane[L10].utilisation",
                "zone[aisles 1-2].dwell_s",
                "zone[aisles 1-2].conversion",
                "zone[aisles 10-12].dwell_s",
                "crowd.slowed_s_per_shopper",
                "zone[aisles 1-2].peak_density",
                "zone[aisles 10-12].mean_density",
                "footfall_sensed",
                "crowding_index",
            ]
        );
        // A shared line sorts after every lane's own queue, whatever its name.
        assert_eq!(
            sorted(&["queue[SCO line].wait_mean_s", "queue[T9].wait_mean_s"], &["SCO line"]),
            ["queue[T9].wait_mean_s", "queue[SCO line].wait_mean_s"]
        );
    }

    #[test]
    fn a_shared_line_of_many_lanes_is_named_by_its_first_and_last_lane() {
        assert_eq!(queue_label("line SCO1+SCO2+SCO3"), "line SCO1\u{2013}SCO3");
        assert_eq!(queue_label("line A+B"), "line A+B");
        assert_eq!(queue_label("L1"), "L1");
    }

    #[test]
    fn labels_carry_units_and_short_subjects() {
        let none = BTreeSet::new();
        let k = Kpi::of("queue[line SCO1+SCO2+SCO3+SCO4+SCO5+SCO6].wait_p90_s", &none);
        assert_eq!((k.group, k.unit, k.better), (Group::Queues, Unit::Seconds, Better::Lower));
        assert_eq!(k.label(), "line SCO1\u{2013}SCO6: p90 wait (s)");
        assert_eq!(k.title(), "queue line SCO1\u{2013}SCO6: p90 wait (s)");
        assert_eq!(Kpi::of("sales", &none).label(), "sales (currency units)");
        assert_eq!(Kpi::of("sales_per_m2", &none).label(), "sales per m² (currency units/m²)");
        assert_eq!(Kpi::of("conversion", &none).label(), "conversion (%)");
        let zone = Kpi::of("zone[the very long name of a zone by the door].conversion", &none);
        assert_eq!(zone.title(), "zone the very long name of…: conversion (%)");
        assert_eq!(zone.short_subject().map(|s| s.chars().count()), Some(SUBJECT_CHARS));
        let lane = Kpi::of("lane[front].utilisation", &none);
        assert_eq!((lane.group, lane.title()), (Group::Lanes, "lane front: utilisation (%)".to_string()));
        let kiosk = Kpi::of("kiosk[kiosk].reneged", &none);
        assert_eq!((kiosk.group, kiosk.unit, kiosk.better), (Group::Queues, Unit::Count, Better::Lower));
        assert_eq!(kiosk.label(), "kiosk: gave up waiting (shoppers)");
        assert_eq!(kiosk.title(), "kiosk: gave up waiting (shoppers)", "not \"kiosk kiosk\"");
        assert_eq!(Kpi::of("kiosk[K1].wait_mean_s", &none).title(), "kiosk K1: mean wait (s)");
        let density = Kpi::of("zone[front aisle].peak_density", &none);
        assert_eq!((density.group, density.unit, density.better), (Group::Crowding, Unit::Number, Better::Lower));
        assert_eq!(density.label(), "front aisle: peak density (people/m²)");
        assert_eq!(density.title(), "zone front aisle: peak density (people/m²)");
        assert_eq!(density.page_label(), density.label(), "the figures do not say people/m²");
        let slowed = Kpi::of("crowd.slowed_s_per_shopper", &none);
        assert_eq!((slowed.group, slowed.label()), (Group::Crowding, "slowed by crowds, per shopper (s)".to_string()));
        assert_eq!(slowed.page_label(), "slowed by crowds, per shopper", "seconds are written with the figures");
        assert_eq!(Kpi::of("crowd.entry_waits", &none).label(), "waited outside a full entrance (shoppers)");
        assert_eq!(Kpi::of("crowd.to_first_shelf_s", &none).unit, Unit::Seconds);
        let new = Kpi::of("crowding_s", &none);
        assert_eq!((new.group, new.label()), (Group::Other, "crowding_s (s)".to_string()));
    }

    #[test]
    fn a_chains_kpis_are_described_grouped_and_a_store_of_one_chain_only_is_listed_apart() {
        let chain = crate::chain::chain_opening(1);
        let run = storetwin_actors::chain::run::run_chain(&chain.spec, storetwin_engine::Seed(3), 1).expect("runs");
        let kpis = run.kpis();
        let flat = chain_flat(&kpis);
        let none = BTreeSet::new();
        for key in flat.keys() {
            assert_ne!(Kpi::of(key, &none).group, Group::Other, "{key} is described");
        }
        assert_eq!(flat["chain.sales"], kpis.chain.sales);
        assert_eq!(flat["store[old-town].sales"], kpis.stores[1].kpis.sales);
        assert!(flat.contains_key("store[old-town].franchisee_net"), "a franchised store's franchisee");
        assert!(!flat.contains_key("store[riverside].franchisee_net"), "an HQ-owned store has none");
        let k = Kpi::of("channel[mini_program].pick_p90_s", &none);
        assert_eq!(
            (k.group, k.label(), k.better),
            (Group::Orders, "mini-program: p90 pick time (s)".into(), Better::Lower)
        );
        let k = Kpi::of("store[S001].online.mean_pick_s", &none);
        assert_eq!(
            (k.group, k.label(), k.title()),
            (Group::Stores, "S001: mean pick time (s)".into(), "store S001: mean pick time (s)".into())
        );
        assert_eq!(Kpi::of("level[gold].earned", &none).title(), "level gold: earned (points)");
        let k = Kpi::of("coupon[dairy-wifi].budget_used", &none);
        assert_eq!((k.group, k.label()), (Group::Coupons, "dairy-wifi: budget used (currency units)".into()));
        assert_eq!(flat["coupon[dairy-wifi].issued"], f64::from(kpis.coupons[0].issued));
        assert_eq!(Kpi::of("orders.within_target", &none).unit, Unit::Fraction);

        // Listed: the chain, its orders (all, then app, mini-program, web, kiosks), ...,
        // then each store with its store-wide KPIs before its online work.
        assert_eq!(
            sorted(
                &[
                    "store[S10].sales",
                    "store[S2].online.mean_pick_s",
                    "store[S2].sales",
                    "channel[kiosk].orders",
                    "channel[app].orders",
                    "channel[web].orders",
                    "members.earned",
                    "settlement.hq_net",
                    "orders.pick_p90_s",
                    "chain.sales",
                ],
                &[]
            ),
            [
                "chain.sales",
                "orders.pick_p90_s",
                "channel[app].orders",
                "channel[web].orders",
                "channel[kiosk].orders",
                "settlement.hq_net",
                "members.earned",
                "store[S2].sales",
                "store[S2].online.mean_pick_s",
                "store[S10].sales",
            ]
        );

        // B renames the station store: its KPIs are listed apart on each side.
        let mut renamed = kpis.clone();
        renamed.stores[2].name = "airport".into();
        renamed.settlement.by_store[2].store = "airport".into();
        let found = crate::compare::differences(std::slice::from_ref(&flat), &[chain_flat(&renamed)], false, &none);
        let only = |o: &[crate::compare::OnlyIn]| o.iter().map(|o| o.kpi.clone()).collect::<Vec<_>>();
        assert!(
            !only(&found.only_a).is_empty() && only(&found.only_a).iter().all(|k| k.starts_with("store[station]."))
        );
        assert!(only(&found.only_b).iter().all(|k| k.starts_with("store[airport].")));
        assert_eq!(found.only_a.len(), found.only_b.len());
        assert!(found.only_b.iter().any(|o| o.label == "store airport: sales (currency units)"));
        assert!(found.rows.iter().all(|r| r.diff.mean == 0.0), "the rest is the same run");
    }
}
