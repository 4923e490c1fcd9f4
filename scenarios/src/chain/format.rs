//! The chain file format: what a planner writes, as serde types (and the source of the
//! chain's JSON Schema).
//!
//! A chain file runs several store scenarios on one clock, one catalogue and one central
//! platform. Conventions are the store scenario's: times of day `"08:00"`, prices `"2.49"`,
//! shares from 0 to 1, random seconds as a number or a distribution under keys ending in
//! `_s`; fixed lengths of time carry their unit (`pick_target = "15min"`, see
//! [`crate::duration`]). Every table refuses unknown keys.
//!
//! ```toml
//! [run]
//! seed = 42
//! open = "08:00"
//! close = "20:00"
//!
//! [chain]
//! name = "Riverside Group"
//!
//! [[store]]
//! name = "riverside"
//! file = "weekday.toml"        # a store scenario, relative to this file
//! location_km = [2.0, 1.5]
//! pickers = 2
//!
//! [[store]]                    # a template: S001 ... S040
//! name = "S{n:03}"
//! count = 40
//! file = "weekday.toml"
//! arrivals_scale = { dist = "uniform", low = 0.8, high = 1.2 }
//! region_km = [30, 20]
//!
//! [platform]
//! latency = { min = "20ms", extra_s = { dist = "exponential", mean = 0.03 } }
//! # ...
//! ```
//!
//! Named arrays (`[[store]]`, `[[sku]]`, `[[online]]`, `[[coupon]]`, `[[members.level]]`,
//! `[[partition]]`, `[[courier_delay]]`) take groups (`names = [...]`, or a `name` pattern
//! with `count` and `first`) and, in a file that `extends` another chain file, merge by
//! `name` as a store scenario's do: `[[store]] name = "riverside"` with `pickers = 3`
//! changes that store's pickers only.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::distribution::Distribution;
use crate::duration::Duration;
use crate::format::{PaymentShares, Run};
use crate::price::Price;
use crate::time_of_day::TimeOfDay;

/// A storetwin chain file: stores on one clock, one catalogue and a central platform.
///
/// With `extends`, this file is a change to another chain file: tables merge key by key,
/// the items of named arrays (`[[store]]`, `[[coupon]]`, ...) merge by `name`, and any
/// other value (other arrays included) replaces the base's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "storetwin chain")]
pub struct ChainFile {
    /// Path of the chain file this file changes, relative to this file (never a store
    /// scenario). Items of `[[store]]`, `[[sku]]`, `[[online]]`, `[[coupon]]`,
    /// `[[members.level]]`, `[[partition]]` and `[[courier_delay]]` merge by `name`.
    #[serde(default)]
    pub extends: Option<String>,
    /// The chain's run: its seed and replications, and the opening and closing times every
    /// store runs on (each store scenario's own `[run]` is replaced by this one).
    pub run: Run,
    pub chain: ChainInfo,
    /// The stores, each a store scenario with per-store overrides; a template
    /// (`name = "S{n:03}"` with `count`) stands for several.
    pub store: Vec<ChainStore>,
    /// The one catalogue and price list of the chain, in this order. Left out: the
    /// catalogue of the first store's scenario. Each store keeps its own stock of the SKUs
    /// its scenario lists; it has none of the others.
    #[serde(default)]
    pub sku: Vec<ChainSku>,
    pub platform: Platform,
    pub members: Members,
    /// Online shoppers ordering from the chain (app, mini-program, web).
    #[serde(default)]
    pub online: Vec<Online>,
    /// Coupon campaigns (batches).
    #[serde(default)]
    pub coupon: Vec<Coupon>,
    /// Store ↔ centre links down for a while (messages wait and go when the link is back).
    #[serde(default)]
    pub partition: Vec<PartitionFile>,
    /// Courier deliveries dispatched in a window take longer.
    #[serde(default)]
    pub courier_delay: Vec<CourierDelayFile>,
    /// One flash sale across the chain (see [`super::flash`]); its shoppers come from a
    /// load test's `[load]` scenarios (`storetwin load`).
    pub flash_sale: Option<super::flash::FlashSaleFile>,
    /// A k6-like load test of the chain (`storetwin load`): load scenarios and thresholds.
    pub load: Option<super::load::LoadFile>,
}

/// The chain itself.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainInfo {
    pub name: String,
}

/// A store of the chain, or a template standing for several (`count`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainStore {
    /// Unique in the chain. In a template, a pattern: `{n}` is the store's number,
    /// `{n:03}` the number with 3 digits (`"S{n:03}"` with `count = 40` is S001 ... S040).
    pub name: String,
    /// The store scenario of this store (floor, lanes, devices, stock, shoppers), relative
    /// to this file. Its `[run]` is replaced by the chain's.
    pub file: String,
    /// Multiplies the scenario's arrivals per hour: a number, or a distribution drawn once
    /// per store from the chain's seed and the store's position (so a template's stores
    /// differ, the same way every run). Default 1.
    pub arrivals_scale: Option<Distribution>,
    /// Multiplies the scenario's opening stock of every SKU (shelf and back room, rounded;
    /// what a shelf cannot hold goes to the back room): a number or a distribution, drawn
    /// like `arrivals_scale`. Default 1.
    pub stock_scale: Option<Distribution>,
    /// Replenishment staff (replaces the scenario's `replenishment.staff`).
    pub staff: Option<u32>,
    /// The lanes open when the store opens (replaces every lane's `open_at_start`: these
    /// are open, the others closed until the lane policy opens them).
    pub open_lanes: Option<Vec<String>>,
    /// Staff who pick online orders. Default 1.
    pub pickers: Option<u32>,
    /// Staff at the pickup counter. Default 1.
    pub pickup_staff: Option<u32>,
    /// Where the store is, in km on a flat map of the region: `[x, y]`, or
    /// `{ x = ..., y = ... }` with a number or a distribution for each (drawn like
    /// `arrivals_scale`). "Nearest store" is by straight-line distance. Default [0, 0].
    pub location_km: Option<Location>,
    /// Instead of `location_km`: a region `[width, height]` in km where the store is placed
    /// uniformly at random (drawn like `arrivals_scale`), from [0, 0] to [width, height].
    pub region_km: Option<[f64; 2]>,
    /// Run by a franchisee who keeps this share of the store's net sales (0 to 1, at most
    /// 4 decimals). Left out: owned by HQ.
    pub franchise: Option<f64>,
    /// Coupons while the store cannot reach the coupon centre: "refuse" (default) or
    /// "accept_and_sync".
    pub offline_coupons: Option<OfflineCouponsFile>,
}

/// A store's coupon policy while offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfflineCouponsFile {
    /// No coupon is applied while offline.
    Refuse,
    /// Coupons are applied and the redemptions sent when the link is back.
    AcceptAndSync,
}

/// Where a store is.
#[derive(Clone, Debug, PartialEq)]
pub enum Location {
    /// `[x, y]` in km.
    At(f64, f64),
    /// `{ x = ..., y = ... }`, each a number or a distribution.
    Drawn { x: Distribution, y: Distribution },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationTable {
    x: Distribution,
    y: Distribution,
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Location, D::Error> {
        deserializer.deserialize_any(LocationVisitor)
    }
}

struct LocationVisitor;

impl<'de> Visitor<'de> for LocationVisitor {
    type Value = Location;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a place [x, y] in km, or { x = ..., y = ... } with numbers or distributions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Location, A::Error> {
        let x: f64 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let y: f64 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(Location::At(x, y))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Location, A::Error> {
        let table = LocationTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Location::Drawn { x: table.x, y: table.y })
    }
}

impl JsonSchema for Location {
    fn schema_name() -> Cow<'static, str> {
        "Location".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let dist = generator.subschema_for::<Distribution>();
        json_schema!({
            "description": "A place in km: [x, y], or { x = ..., y = ... } with a number or a distribution for each.",
            "anyOf": [
                { "type": "array", "items": { "type": "number" }, "minItems": 2, "maxItems": 2 },
                {
                    "type": "object",
                    "properties": { "x": dist, "y": dist },
                    "required": ["x", "y"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// One SKU of the chain's catalogue and price list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainSku {
    pub name: String,
    /// Its category; a store puts it on its shelves of this category.
    pub category: String,
    /// The one price across channels, in major units: "2.49".
    pub price: Price,
    /// Unit cost in major units.
    pub cost: Price,
    /// Relative weight among the SKUs of its category (in store and online). Default 1.
    #[serde(default = "one")]
    pub popularity: f64,
}

fn one() -> f64 {
    crate::format::DEFAULT_POPULARITY
}

/// The central platform: latency, stock sync, picking, pickup, delivery, settlement.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// One-way message latency between a store and the centres.
    pub latency: Latency,
    /// A store sends its changed stock levels to the inventory centre this often ("5min").
    pub stock_sync_every: Duration,
    /// Seconds for a picker to pick one order: `pick_base_s` plus `pick_per_line_s` per
    /// line.
    pub pick_base_s: Distribution,
    pub pick_per_line_s: Distribution,
    /// An order should be picked within this time of reaching the store. Default "15min".
    pub pick_target: Option<Duration>,
    /// A picked pickup order waits this long for its customer ("72h"), then expires.
    pub pickup_hold: Duration,
    /// Seconds from "ready for pickup" to the customer's arrival at the counter.
    pub collect_after_s: Distribution,
    /// Share of pickup customers who never come.
    pub pickup_no_show: f64,
    /// Seconds for the counter to hand over one order.
    pub pickup_service_s: Distribution,
    /// Seconds from picked to delivered by a same-city courier.
    pub courier_s: Distribution,
    /// Seconds from picked to delivered when shipped from a store.
    pub ship_s: Distribution,
    /// How long a till waits for the coupon centre's answer to a redemption before it
    /// applies the store's offline policy ("5s"); a late answer is then reconciled.
    /// Default "5s".
    pub coupon_timeout: Option<Duration>,
    /// Share of kiosk ("endless aisle") orders the shopper collects at the store where
    /// they ordered: shipped to that store from the one that has the item, in transit
    /// between them meanwhile, then held at its pickup counter. The rest are delivered to
    /// the shopper's home from the store that has the item. From 0 to 1; default 0.5.
    pub kiosk_collect_share: Option<f64>,
    /// Seconds from picked at the fulfilling store to arrival at the ordering store, for a
    /// kiosk order to collect (a transfer between stores). Default: `ship_s`.
    pub transfer_s: Option<Distribution>,
    /// Money split of payments. Left out: no payment fees.
    pub settlement: Option<Settlement>,
}

/// Message latency between a store and the centres.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// The least one-way latency ("20ms"), above 0: every message takes at least this
    /// long, and it is the width of the time window stores run in side by side.
    pub min: Duration,
    /// Seconds added to `min` for each message: a number or a distribution that cannot
    /// be negative (not a normal).
    pub extra_s: Distribution,
}

/// How payments are split.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settlement {
    /// The payment channel's fee per method, a fraction of the amount paid with at most 4
    /// decimals (0.006 is 0.6%). Methods left out have no fee.
    pub fee: Fees,
}

/// A fraction per payment method.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fees {
    pub mobile_qr: Option<f64>,
    pub card: Option<f64>,
    pub cash: Option<f64>,
    pub prepaid: Option<f64>,
}

impl Fees {
    /// The four methods as given, in the order of `Payment::ALL`.
    pub fn methods(&self) -> [Option<f64>; 4] {
        [self.mobile_qr, self.card, self.cash, self.prepaid]
    }
}

/// The chain's members: one member id in every store and online.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// Members in the region; a member shopper anywhere is one of them, drawn at random.
    pub population: u32,
    /// Member levels; their shares of the population sum to 1.
    pub level: Vec<MemberLevelFile>,
    /// Value of one point when redeemed, in major units ("0.01").
    pub point_value: Price,
    /// Share of member online orders that pay part with points.
    pub redeem_share: f64,
    /// At most this share of an order's value is paid with points (at most 4 decimals).
    pub redeem_max: f64,
    /// Share of the non-members offered membership who register: app users at a store's
    /// WiFi portal, guests ordering online, friends a member referred. Each new member gets
    /// the `register_to_get` campaigns' coupons. Default 0 (nobody registers).
    pub register_share: Option<f64>,
    /// Share of member purchases (in store, or an online order completed) after which the
    /// member refers a friend; a friend who registers earns the referrer the `referral`
    /// campaigns' coupons. Default 0.
    pub referral_share: Option<f64>,
    /// Seconds from the referral to the friend's answer. Default an exponential of mean
    /// 3600.
    pub referral_join_after_s: Option<Distribution>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberLevelFile {
    pub name: String,
    /// Share of the members at this level.
    pub share: f64,
    /// Points per major unit (yuan, euro) paid.
    pub points_per_unit: u32,
}

/// An online channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    App,
    MiniProgram,
    Web,
}

/// Online shoppers of one channel.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Online {
    pub name: String,
    pub channel: Channel,
    /// Orders per hour across the chain, one entry per opening hour of the chain (a
    /// Poisson process, constant within each hour), 0 for an hour without orders.
    pub orders_per_hour: Vec<f64>,
    /// Lines per order (rounded, at least 1).
    pub basket: Distribution,
    /// Shares of pickup in store, same-city delivery and ship-from-store; they sum to 1.
    /// Ways left out have share 0.
    pub fulfilment: FulfilmentShares,
    /// Share of orders placed by members.
    pub member_share: f64,
    /// Shares of payment methods; they sum to 1. Methods left out have share 0.
    pub payment: PaymentShares,
}

/// Shares of the ways an order reaches its customer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilmentShares {
    pub pickup: Option<f64>,
    pub same_city: Option<f64>,
    pub ship_from_store: Option<f64>,
}

impl FulfilmentShares {
    /// The three ways as given, in the order of `Fulfilment::ONLINE`.
    pub fn ways(&self) -> [Option<f64>; 3] {
        [self.pickup, self.same_city, self.ship_from_store]
    }
}

/// A coupon type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouponType {
    /// A fixed amount off: takes `off`.
    Cash,
    /// A percentage off: takes `percent` and, optionally, `max_off`.
    Percent,
    /// "Spend X, save Y": takes `spend` and `off`.
    Threshold,
    /// Free parking for an in-store visit: takes `off`.
    Parking,
    /// Off a pickup order when collected: takes `off`.
    Pickup,
}

impl CouponType {
    pub fn name(self) -> &'static str {
        match self {
            CouponType::Cash => "cash",
            CouponType::Percent => "percent",
            CouponType::Threshold => "threshold",
            CouponType::Parking => "parking",
            CouponType::Pickup => "pickup",
        }
    }

    /// The values this type takes: required ones, then optional ones.
    pub fn values(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            CouponType::Cash | CouponType::Parking | CouponType::Pickup => (&["off"], &[]),
            CouponType::Percent => (&["percent"], &["max_off"]),
            CouponType::Threshold => (&["spend", "off"], &[]),
        }
    }
}

/// How shoppers get a coupon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssueFile {
    /// On logging in to a store's free WiFi portal.
    WifiPortal,
    /// Scanning a QR poster at a store's entrance.
    QrPoster,
    /// "Shake" near a store's beacon (app users).
    BeaconShake,
    /// On registering as a member.
    RegisterToGet,
    /// After a purchase, for the next visit.
    SecondVisit,
    /// To a member who refers another.
    Referral,
}

/// A stacking class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassFile {
    /// A discount on products.
    Product,
    /// A discount on the order.
    Order,
    /// A discount on delivery and services (parking, pickup).
    Service,
}

/// What a coupon's discount applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppliesTo {
    All,
    Category(String),
    Sku(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppliesToTable {
    category: Option<String>,
    sku: Option<String>,
}

impl<'de> Deserialize<'de> for AppliesTo {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AppliesTo, D::Error> {
        deserializer.deserialize_any(AppliesToVisitor)
    }
}

struct AppliesToVisitor;

impl<'de> Visitor<'de> for AppliesToVisitor {
    type Value = AppliesTo;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"all\", { category = \"dairy\" } or { sku = \"Whole milk 1 l\" }")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AppliesTo, E> {
        match v {
            "all" => Ok(AppliesTo::All),
            other => Err(E::unknown_variant(other, &["all"])),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AppliesTo, A::Error> {
        let table = AppliesToTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
        match (table.category, table.sku) {
            (Some(c), None) => Ok(AppliesTo::Category(c)),
            (None, Some(s)) => Ok(AppliesTo::Sku(s)),
            (Some(_), Some(_)) => Err(de::Error::custom("a coupon applies to a category or a SKU, not both")),
            (None, None) => Err(de::Error::custom("expected { category = \"...\" } or { sku = \"...\" }")),
        }
    }
}

impl JsonSchema for AppliesTo {
    fn schema_name() -> Cow<'static, str> {
        "AppliesTo".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "What the discount applies to: \"all\", one category or one SKU of the chain's catalogue.",
            "anyOf": [
                { "const": "all" },
                {
                    "type": "object",
                    "properties": { "category": { "type": "string" } },
                    "required": ["category"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": { "sku": { "type": "string" } },
                    "required": ["sku"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// A window of the day, from one time of day to a later one.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: TimeOfDay,
    pub to: TimeOfDay,
}

/// How long a claimed coupon may be used: `{ from = "09:00", to = "21:00" }` (whenever it
/// was claimed) or `{ days_after_claim = 7 }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidityFile {
    /// Valid from this time of day (an earlier time than the opening counts from opening).
    pub from: Option<TimeOfDay>,
    /// Valid until this time of day (it may be after closing).
    pub to: Option<TimeOfDay>,
    /// Instead of `from` and `to`: valid for this many days after the claim.
    pub days_after_claim: Option<u32>,
}

/// Who pays for a coupon's discount: shares (at most 4 decimals) that sum to 1. Payers left
/// out pay nothing.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingFile {
    /// The chain's headquarters.
    pub hq: Option<f64>,
    /// The franchisee of the store where the coupon is redeemed.
    pub franchisee: Option<f64>,
    /// The brand whose product it promotes.
    pub brand: Option<f64>,
}

impl FundingFile {
    pub fn payers(&self) -> [(&'static str, Option<f64>); 3] {
        [("hq", self.hq), ("franchisee", self.franchisee), ("brand", self.brand)]
    }
}

/// A coupon campaign (a batch).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Coupon {
    pub name: String,
    /// "cash" (takes `off`), "percent" (`percent`, optional `max_off`), "threshold"
    /// (`spend`, `off`), "parking" (`off`) or "pickup" (`off`).
    #[serde(rename = "type")]
    pub kind: CouponType,
    /// Amount off in major units ("5.00").
    pub off: Option<Price>,
    /// Percentage off, above 0 and at most 100 (at most 2 decimals).
    pub percent: Option<f64>,
    /// Most a percent coupon takes off, in major units.
    pub max_off: Option<Price>,
    /// A threshold coupon applies once the eligible amount reaches this, in major units.
    pub spend: Option<Price>,
    /// What the discount applies to: "all" (default), `{ category = "dairy" }` or
    /// `{ sku = "Whole milk 1 l" }`.
    pub applies_to: Option<AppliesTo>,
    /// How shoppers get it.
    pub issue: IssueFile,
    /// Probability that a shopper offered the coupon claims it.
    pub claim_share: f64,
    /// How long a claimed coupon may be used.
    pub validity: ValidityFile,
    /// Stacking class. Default: "service" for parking and pickup coupons, "product" for a
    /// coupon on a category or SKU, "order" otherwise.
    pub class: Option<ClassFile>,
    /// Classes this coupon combines with. Default: none.
    pub combines_with: Option<Vec<ClassFile>>,
    /// Evaluation order: coupons apply in increasing `order`, ties in file order. Default 0.
    pub order: Option<u32>,
    /// Most coupons of this campaign one member may claim. Default 1.
    pub per_member_limit: Option<u32>,
    /// Most coupons issued overall. Default: no limit.
    pub total_limit: Option<u32>,
    /// Most discount given overall, in major units. Default: no budget.
    pub budget: Option<Price>,
    /// Most discount given per day, in major units. Default: no daily budget.
    pub daily_budget: Option<Price>,
    /// Who pays for the discount.
    pub funding: FundingFile,
    /// Time of day the campaign starts issuing. Default: the chain's opening.
    pub activate_at: Option<TimeOfDay>,
    /// Windows in which the campaign issues no coupons (issued ones stay valid).
    #[serde(default)]
    pub pauses: Vec<Window>,
    /// Time of day the campaign stops issuing. Default: it runs to closing.
    pub stop_at: Option<TimeOfDay>,
    /// Names of the stores where it runs. Default: every store.
    pub stores: Option<Vec<String>>,
}

/// A store ↔ centre link down.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionFile {
    /// A name (optional, unique): a file that extends this one can change or remove a
    /// named partition.
    pub name: Option<String>,
    /// The store cut off; left out, every store.
    pub store: Option<String>,
    /// Time of day the link goes down.
    pub from: TimeOfDay,
    /// Time of day it is back.
    pub to: TimeOfDay,
}

/// Courier deliveries dispatched from `from` to `to` take `extra` longer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CourierDelayFile {
    /// A name (optional, unique), as for partitions.
    pub name: Option<String>,
    pub from: TimeOfDay,
    pub to: TimeOfDay,
    /// How much longer ("30min").
    pub extra: Duration,
}
