//! The scenario file format: what a planner writes, as serde types.
//!
//! These types mirror the TOML one to one and are the source of the JSON Schema (their
//! doc comments become its descriptions). Every table refuses unknown keys. They hold
//! values as written (names, times of day, seconds); loading checks them and turns them
//! into a [`storetwin_actors::store::spec::WorldSpec`].
//!
//! Units are in the key names: `_s` seconds, `_m` metres, `_mps` metres per second.
//! Shares and probabilities are numbers from 0 to 1. Prices are decimals in major units.
//!
//! Named arrays (`[[sku]]`, `[[segment]]`, `[[lane]]`, `[[device]]`, `[[disruption]]`,
//! `[[store.zone]]`) have two more forms, read before the items themselves (their keys are
//! described by [`ItemForms`] and [`DeviceGroup`]):
//!
//! - A group: `names = ["L1", "L2"]`, or `name = "SCO{n}"` with `count = 6` (`{n}` counts
//!   from 1, or from `first`; `{n:02}` writes it with 2 digits), stands for one item per
//!   name with every other key of the block. A group of
//!   devices gives `cells = [[x, y], ...]`, one cell per device, instead of `at`.
//! - In a file that `extends` another: an item whose `name` is in the base changes that
//!   item and gives only the keys it changes; an item with a new name is added after the
//!   base's items (or right after the item `after` names); `name = "L7"` with
//!   `remove = true` and no other key removes L7. Disruptions may have a `name`; one without
//!   is always added.
//!
//! ```toml
//! extends = "weekday.toml"
//!
//! [[lane]]
//! name = "L7"
//! open_at_start = true
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::distribution::Distribution;
use crate::price::Price;
use crate::time_of_day::TimeOfDay;

/// A storetwin scenario: one store's day, written by a store planner.
///
/// With `extends`, this file is a change to another scenario: tables merge key by key
/// (recursively), the items of named arrays (`[[lane]]`, `[[device]]`, ...) merge by
/// `name`, and any other value in this file (other arrays included) replaces the base's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "storetwin scenario")]
pub struct ScenarioFile {
    /// Path of the scenario this file changes, relative to this file. Tables merge key by
    /// key. Items of `[[sku]]`, `[[segment]]`, `[[lane]]`, `[[device]]`, `[[disruption]]`
    /// and `[[store.zone]]` merge by `name`: an item naming one of the base's gives only the
    /// keys it changes; an item with a new name is added after the base's items (or after
    /// the one named by `after`); `name = "..."` with `remove = true` removes one. A
    /// distribution table with another `dist` than the base's replaces it whole. Any other
    /// value (a string, a number, another array such as `per_hour`) replaces the base's.
    #[serde(default)]
    pub extends: Option<String>,
    pub run: Run,
    pub store: Store,
    /// Product categories and their popularity: the relative weight with which an item on a
    /// shopping list falls in the category (`dairy = 1.5`).
    pub categories: BTreeMap<String, f64>,
    /// The catalogue with each SKU's stock at opening.
    pub sku: Vec<Sku>,
    pub arrivals: Arrivals,
    /// Shopper segments; their shares sum to 1.
    pub segment: Vec<Segment>,
    /// Shared serpentine lines by name (`[lines.front]`); lanes join one with `line`.
    #[serde(default)]
    pub lines: BTreeMap<String, Line>,
    /// Checkout lanes, each drawn on the floor with a legend entry `{ lane = "name" }`.
    pub lane: Vec<Lane>,
    #[serde(default)]
    pub lane_policy: LanePolicy,
    /// Sensors and screens on the floor.
    #[serde(default)]
    pub device: Vec<Device>,
    /// Scheduled changes to the day: a device offline, a lane closed, a POS outage, a price
    /// change.
    #[serde(default)]
    pub disruption: Vec<Disruption>,
    pub replenishment: Replenishment,
}

/// Run settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// Seed of every random stream: the same scenario and seed give the same run.
    pub seed: u64,
    /// Independent replications; replication `i` runs with a seed derived from `seed`
    /// and `i` (replication 0 uses `seed` itself).
    #[serde(default = "one")]
    pub replications: u32,
    /// Opening time of day ("08:00"): the simulation starts here.
    pub open: TimeOfDay,
    /// Closing time of day ("20:00"): the simulation ends here. Must be after `open`.
    pub close: TimeOfDay,
}

/// `run.replications` when left out.
pub const DEFAULT_REPLICATIONS: u32 = 1;
/// `sku.popularity` when left out.
pub const DEFAULT_POPULARITY: f64 = 1.0;
/// `sku.unit_weight_g` when left out.
pub const DEFAULT_UNIT_WEIGHT_G: u32 = storetwin_actors::store::spec::DEFAULT_UNIT_WEIGHT_G;
/// `lane.open_at_start` when left out.
pub const DEFAULT_OPEN_AT_START: bool = true;
/// `replenishment.round_s` when left out: one round an hour.
pub const DEFAULT_ROUND_S: u32 = 3600;

fn one() -> u32 {
    DEFAULT_REPLICATIONS
}

fn one_f64() -> f64 {
    DEFAULT_POPULARITY
}

fn unit_weight_g() -> u32 {
    DEFAULT_UNIT_WEIGHT_G
}

fn yes() -> bool {
    DEFAULT_OPEN_AT_START
}

/// The store and its floor plan.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub name: String,
    /// Side of one floor cell in metres.
    pub cell_m: f64,
    /// The floor plan as ASCII art: one character per cell, rows from the top (the back of
    /// the store) down, all rows the same length. Write it as a TOML literal string between
    /// `'''` lines. Every character must be in `legend`. Cells are addressed as `[x, y]`
    /// from the top-left corner, both counted from 0.
    pub floor: String,
    /// What each character of the floor art is: "wall", "floor", "entrance", "exit",
    /// `{ shelf = "category" }` or `{ lane = "lane name" }`. Any character can also mark
    /// where devices stand (see `device.at`).
    pub legend: BTreeMap<String, LegendEntry>,
    /// Named rectangles of the floor, for dwell and conversion per zone. A cell belongs to
    /// at most one zone.
    #[serde(default)]
    pub zone: Vec<Zone>,
    /// Most people per m² of floor. A cell holds `⌊max_density_per_m2 × cell area⌋` people
    /// (at least one); a queue longer than its lane's cell spills into the aisle behind it;
    /// walkers slow down with the density around them (Weidmann's fundamental diagram) and
    /// wait or step aside at a full cell. Default 4.0 (a dense crowd that still shuffles
    /// forward; walking stops at 5.4).
    #[serde(default = "default_max_density")]
    pub max_density_per_m2: f64,
}

fn default_max_density() -> f64 {
    storetwin_actors::store::crowd::DEFAULT_MAX_DENSITY
}

/// What a character of the floor art stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegendEntry {
    Wall,
    Floor,
    Entrance,
    Exit,
    /// A shelf holding the named category (not walkable; reached from a neighbouring cell).
    Shelf(String),
    /// The checkout point of the named lane (walkable; its queue forms here).
    Lane(String),
}

const LEGEND_WORDS: &[&str] = &["wall", "floor", "entrance", "exit"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegendTable {
    shelf: Option<String>,
    lane: Option<String>,
}

impl<'de> Deserialize<'de> for LegendEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LegendEntry, D::Error> {
        deserializer.deserialize_any(LegendVisitor)
    }
}

struct LegendVisitor;

impl<'de> Visitor<'de> for LegendVisitor {
    type Value = LegendEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"wall\", \"floor\", \"entrance\", \"exit\", { shelf = \"category\" } or { lane = \"name\" }")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LegendEntry, E> {
        match v {
            "wall" => Ok(LegendEntry::Wall),
            "floor" => Ok(LegendEntry::Floor),
            "entrance" => Ok(LegendEntry::Entrance),
            "exit" => Ok(LegendEntry::Exit),
            other => Err(E::unknown_variant(other, LEGEND_WORDS)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LegendEntry, A::Error> {
        let table = LegendTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
        match (table.shelf, table.lane) {
            (Some(category), None) => Ok(LegendEntry::Shelf(category)),
            (None, Some(lane)) => Ok(LegendEntry::Lane(lane)),
            (Some(_), Some(_)) => Err(de::Error::custom("a cell is a shelf or a lane, not both")),
            (None, None) => Err(de::Error::custom("expected { shelf = \"category\" } or { lane = \"name\" }")),
        }
    }
}

impl JsonSchema for LegendEntry {
    fn schema_name() -> Cow<'static, str> {
        "LegendEntry".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "What a character of the floor art stands for.",
            "anyOf": [
                { "enum": ["wall", "floor", "entrance", "exit"] },
                {
                    "type": "object",
                    "description": "A shelf of the named category (not walkable).",
                    "properties": { "shelf": { "type": "string" } },
                    "required": ["shelf"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "description": "The checkout point of the named lane (walkable).",
                    "properties": { "lane": { "type": "string" } },
                    "required": ["lane"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// Keys that make a block of a named array (`[[sku]]`, `[[segment]]`, `[[lane]]`,
/// `[[device]]`, `[[disruption]]`, `[[store.zone]]`) a group, a removal or a placed new
/// item. They are read, and taken out, before the items themselves are.
#[derive(Debug, JsonSchema)]
pub struct ItemForms {
    /// A group: one item for each of these names (instead of `name`), each with every
    /// other key of the block.
    pub names: Option<Vec<String>>,
    /// A group of this many items, named by a pattern in `name` where `{n}` is the item's
    /// number counted from 1: `name = "SCO{n}"` with `count = 6` is SCO1 ... SCO6.
    #[schemars(range(min = 1, max = 65535))]
    pub count: Option<u32>,
    /// With `count`: the number of the group's first item (default 1). `{n:03}` in the
    /// pattern writes the number with 3 digits: `name = "S{n:03}"`, `count = 40`,
    /// `first = 61` is S061 ... S100.
    #[schemars(range(min = 0, max = 65535))]
    pub first: Option<u32>,
    /// Only in a file that extends another: `true` removes the base's item of this `name`
    /// (every item, for a group). A removal gives no other key.
    pub remove: Option<bool>,
    /// Only in a file that extends another, for a new item: place it right after the base's
    /// item of this name instead of after all of the base's items. Several items placed
    /// after the same one keep this file's order.
    pub after: Option<String>,
}

/// The key a group of devices is placed with.
#[derive(Debug, JsonSchema)]
pub struct DeviceGroup {
    /// One cell `[x, y]` per device of a group, in the order of its names (with a name
    /// pattern, `count` may be left out: one device per cell). Instead of `at`.
    pub cells: Option<Vec<[u16; 2]>>,
}

/// A named rectangle of cells, corners included.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub name: String,
    /// Top-left corner `[x, y]`.
    pub from: [u16; 2],
    /// Bottom-right corner `[x, y]`, included.
    pub to: [u16; 2],
}

/// One SKU of the catalogue and its stock at opening.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sku {
    pub name: String,
    /// A category of `[categories]` that has a shelf on the floor.
    pub category: String,
    /// List price in major units: "2.49" (at most 2 decimals).
    pub price: Price,
    /// Unit cost in major units.
    pub cost: Price,
    /// Units on the shelf at opening (at most `shelf_capacity`).
    pub shelf: u32,
    /// Most units the shelf holds.
    pub shelf_capacity: u32,
    /// Units in the back room at opening.
    pub back_room: u32,
    /// A smart shelf raises a low-stock alert when the shelf falls to this level.
    pub reorder_at: u32,
    /// Relative weight among the SKUs of its category.
    #[serde(default = "one_f64")]
    pub popularity: f64,
    /// Weight of one unit in grams (at least 1): a real smart shelf's weight reading is
    /// turned into units with it. Default 500.
    #[serde(default = "unit_weight_g")]
    pub unit_weight_g: u32,
}

/// When shoppers arrive.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    /// Arrivals per hour for each hour from opening (a Poisson process, constant within
    /// each hour): exactly one entry per opening hour (a last, partial hour counts), 0 for
    /// an hour without arrivals.
    pub per_hour: Vec<f64>,
}

/// A kind of shopper.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub name: String,
    /// Share of arrivals (the shares of all segments sum to 1).
    pub share: f64,
    /// Items on the shopping list (rounded, at least 1).
    pub basket: Distribution,
    /// Seconds at a shelf per item.
    pub dwell_s: Distribution,
    /// Walking speed in metres per second.
    pub speed_mps: Distribution,
    /// Share who are members.
    pub member_share: f64,
    /// Share who use the app (they may use scan-and-go lanes).
    pub app_share: f64,
    /// 0 ignores price; 1 drops any item priced above its list price.
    pub price_sensitivity: f64,
    /// Seconds a shopper waits in a queue before reneging.
    pub patience_s: Distribution,
    /// Balk (leave without buying) when every usable queue has at least this many waiting.
    pub balk_at: u32,
    /// On a stock-out, probability of taking a substitute from the same category.
    pub substitute: f64,
    /// On a stock-out, probability of ordering the item at a kiosk for delivery
    /// (`substitute + endless_aisle` is at most 1; the rest is a lost sale).
    pub endless_aisle: f64,
    /// Shares of payment methods; they sum to 1. Methods left out have share 0.
    pub payment: PaymentShares,
}

/// Shares of payment methods.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentShares {
    #[serde(default)]
    pub mobile_qr: f64,
    #[serde(default)]
    pub card: f64,
    #[serde(default)]
    pub cash: f64,
    #[serde(default)]
    pub prepaid: f64,
}

/// A shared serpentine line feeding several lanes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Most people waiting; a shopper who finds it full balks. Unbounded if left out.
    pub capacity: Option<u32>,
}

/// How a lane serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LaneKind {
    /// A cashier scans and takes payment.
    Staffed,
    /// The shopper scans at a machine.
    SelfCheckout,
    /// App users scanned while shopping; they only pay.
    ScanAndGo,
}

/// A checkout lane.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    /// The lane's name, drawn on the floor by a legend entry `{ lane = "name" }`.
    pub name: String,
    pub kind: LaneKind,
    /// Name of a shared line in `[lines]`; the lane has its own queue if left out.
    pub line: Option<String>,
    /// Open when the store opens.
    #[serde(default = "yes")]
    pub open_at_start: bool,
    /// Seconds of service independent of the basket (greeting, bagging).
    pub base_s: Distribution,
    /// Seconds per item scanned.
    pub per_item_s: Distribution,
    /// Seconds to pay, by method: give the methods this lane's shoppers use; the others
    /// take their defaults (mobile_qr 5, card 10, cash 20, prepaid 5).
    pub pay_s: PaySeconds,
}

/// Seconds to pay, by payment method. A method left out takes its default (a constant:
/// mobile_qr 5, card 10, cash 20, prepaid 5 seconds), which `storetwin validate` lists.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaySeconds {
    /// Paying by mobile QR code. Default 5.
    pub mobile_qr: Option<Distribution>,
    /// Paying by card. Default 10.
    pub card: Option<Distribution>,
    /// Paying cash. Default 20.
    pub cash: Option<Distribution>,
    /// Paying from a prepaid balance. Default 5.
    pub prepaid: Option<Distribution>,
}

/// The payment methods in the order of [`storetwin_actors::store::spec::LaneSpec::pay_s`], with
/// the seconds a method left out of `pay_s` takes.
pub const PAY_S_DEFAULTS: [(&str, f64); 4] = [("mobile_qr", 5.0), ("card", 10.0), ("cash", 20.0), ("prepaid", 5.0)];

impl PaySeconds {
    /// The four methods as given, in the order of [`PAY_S_DEFAULTS`].
    pub fn methods(&self) -> [Option<&Distribution>; 4] {
        [self.mobile_qr.as_ref(), self.card.as_ref(), self.cash.as_ref(), self.prepaid.as_ref()]
    }
}

/// How lanes open and close during the day. Leave out for lanes that stay as they are.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LanePolicy {
    /// Open another closed lane of the same kind when a queue reaches this length.
    pub open_when_queue: Option<u32>,
    /// Close a lane the policy opened once its queue has been empty this many seconds.
    pub close_when_idle_s: Option<f64>,
}

/// What a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// Counts people at an entrance. Takes `miss` and `double`.
    DoorCounter,
    /// Detects phones. Takes `range_m`, `detect`, `detect_app`, `noise_m`, `interval_s`.
    WifiProbe,
    /// Proximity events for app users. Takes `range_m`.
    Beacon,
    /// Recognises members. Takes `range_m` and `recognise`.
    FaceCamera,
    /// Electronic shelf label for the neighbouring shelf. Takes `latency_s`.
    Esl,
    /// Weight sensor of the neighbouring shelf. Takes `noise_units`.
    SmartShelf,
    /// Interactive screen for endless-aisle orders. Takes no settings.
    Kiosk,
}

impl DeviceKind {
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::DoorCounter => "door_counter",
            DeviceKind::WifiProbe => "wifi_probe",
            DeviceKind::Beacon => "beacon",
            DeviceKind::FaceCamera => "face_camera",
            DeviceKind::Esl => "esl",
            DeviceKind::SmartShelf => "smart_shelf",
            DeviceKind::Kiosk => "kiosk",
        }
    }

    /// The settings this kind takes (all required).
    pub fn settings(self) -> &'static [&'static str] {
        match self {
            DeviceKind::DoorCounter => &["miss", "double"],
            DeviceKind::WifiProbe => &["range_m", "detect", "detect_app", "noise_m", "interval_s"],
            DeviceKind::Beacon => &["range_m"],
            DeviceKind::FaceCamera => &["range_m", "recognise"],
            DeviceKind::Esl => &["latency_s"],
            DeviceKind::SmartShelf => &["noise_units"],
            DeviceKind::Kiosk => &[],
        }
    }
}

/// A device, or a group of identical devices placed by a floor character.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The device's name. When `at` is a character found in several cells, the devices
    /// are named `name-1`, `name-2`, ... in reading order (left to right, top to bottom).
    pub name: String,
    pub kind: DeviceKind,
    /// Where: a cell `[x, y]`, or a character of the floor art (one device on each cell
    /// drawn with it).
    pub at: Placement,
    /// Random failures; the device never fails at random if left out.
    pub failures: Option<Failures>,
    /// Door counter: share of passers-by it misses.
    pub miss: Option<f64>,
    /// Door counter: share of passers-by it counts twice.
    pub double: Option<f64>,
    /// WiFi probe, beacon, face camera: range in metres.
    pub range_m: Option<f64>,
    /// WiFi probe: share of phones it detects.
    pub detect: Option<f64>,
    /// WiFi probe: share of app users' phones it detects.
    pub detect_app: Option<f64>,
    /// WiFi probe: standard deviation of the reported position, metres.
    pub noise_m: Option<f64>,
    /// WiFi probe: seconds between scans.
    pub interval_s: Option<f64>,
    /// Face camera: probability of recognising a member in range.
    pub recognise: Option<f64>,
    /// ESL: seconds for a price change to reach the label.
    pub latency_s: Option<f64>,
    /// Smart shelf: standard deviation of the measured stock, in units.
    pub noise_units: Option<f64>,
}

/// Random failures of a device.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Failures {
    /// Mean seconds between failures.
    pub mtbf_s: f64,
    /// Mean seconds to repair.
    pub mttr_s: f64,
}

/// Where a device stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// One cell, `[x, y]` from the top-left corner.
    Cell(u16, u16),
    /// Every cell drawn with this character.
    Marker(char),
}

impl<'de> Deserialize<'de> for Placement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Placement, D::Error> {
        deserializer.deserialize_any(PlacementVisitor)
    }
}

struct PlacementVisitor;

impl<'de> Visitor<'de> for PlacementVisitor {
    type Value = Placement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cell [x, y] or one character of the floor art like \"W\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Placement, E> {
        let mut chars = v.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(Placement::Marker(c)),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Placement, A::Error> {
        let x: u16 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let y: u16 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        Ok(Placement::Cell(x, y))
    }
}

impl JsonSchema for Placement {
    fn schema_name() -> Cow<'static, str> {
        "Placement".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A cell [x, y] from the top-left corner, or one character of the floor art.",
            "anyOf": [
                { "type": "array", "items": { "type": "integer", "minimum": 0, "maximum": 65535 }, "minItems": 2, "maxItems": 2 },
                { "type": "string", "minLength": 1, "maxLength": 1 }
            ]
        })
    }
}

/// A scheduled change: exactly one of `device_offline`, `device_degraded`, `lane_closed`,
/// `pos_outage` and `price_change`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disruption {
    /// A name for the disruption (optional, unique): a file that extends this one can
    /// change or remove a named disruption by its name. A disruption without a name is
    /// always added to the base's.
    pub name: Option<String>,
    /// Time of day it starts.
    pub at: TimeOfDay,
    /// Time of day it ends (the device comes back, the lane reopens, the POS works
    /// again); it lasts until closing if left out. A price change is permanent and takes
    /// no `until`.
    pub until: Option<TimeOfDay>,
    /// Name of a device that goes offline.
    pub device_offline: Option<String>,
    /// A device that keeps working but worse (dirty lens, interference, low battery).
    pub device_degraded: Option<Degraded>,
    /// Name of a lane that closes.
    pub lane_closed: Option<String>,
    /// Name of a lane whose POS terminal is down (it serves nobody; its queue waits).
    pub pos_outage: Option<String>,
    /// A new price for one SKU, from `at` on.
    pub price_change: Option<PriceChange>,
}

/// A device working below its accuracy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Degraded {
    /// The device's name.
    pub device: String,
    /// Share of its normal accuracy left, in (0, 1]: detection and recognition
    /// probabilities are multiplied by it, a door counter misses more, noise (WiFi
    /// position, smart-shelf weight) is divided by it, and an ESL updates only this share
    /// of its labels on a price change.
    pub accuracy: f64,
}

/// A new price for one SKU.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceChange {
    /// The SKU's name.
    pub sku: String,
    /// The new price in major units.
    pub price: Price,
}

/// Shelf restocking from the back room.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replenishment {
    /// Staff who restock shelves on low-stock alerts.
    pub staff: u32,
    /// Seconds for one restock trip (fetch from the back room and fill the shelf).
    pub trip_s: Distribution,
    /// Seconds between staff rounds of the floor; a round restocks every shelf at or
    /// below its reorder level that no working smart shelf watches. Default 3600; 0 turns
    /// rounds off (then only smart-shelf alerts trigger restocking).
    #[serde(default = "hourly")]
    pub round_s: u32,
}

fn hourly() -> u32 {
    DEFAULT_ROUND_S
}
