//! What the real store's devices report to its live twin, and how far the twin has drifted
//! from the real store.
//!
//! The live server receives readings from the real devices, normalises them (cumulative
//! counters differenced), checks each one against the world's spec ([`Reading::check`]) and
//! injects it at the sim time it arrives, as an intervention is: [`Reading::to_injection`]
//! gives the actor and message, and [`Reading::from_injection`] turns the kernel's
//! injection record back into readings, so a session with readings replays to the
//! identical run. A reading's message is its own `StoreMsg` variant, so a reading is never
//! taken for an intervention nor the reverse. Each reading moves the model toward the real
//! store:
//!
//! - a door count adds to the real footfall ([`RealReadings::door_count`]);
//! - a shelf weight sets the model's shelf of that SKU to round(grams / unit weight) units
//!   (baskets, back room and orders untouched), booking the difference as a sensed gain or
//!   loss in the stock books (so stock is still conserved), and what the store does next
//!   follows from the new count (its smart shelf alerts, staff restock, shoppers find it
//!   empty or full);
//! - a reported fault takes the device down until a heartbeat brings it back; the model's
//!   own outages (random failures, scheduled ones, the ops team's) are not the real
//!   device's to end, so they stay;
//! - a POS sale adds to the real POS books; the model's own sales stay the model's;
//! - an ESL's acknowledgement sets the price the model thinks that label shows.
//!
//! A reading that does not fit the world when applied (an SKU the shelf does not weigh, a
//! door count from a camera) changes nothing and is counted in [`RealReadings::ignored`].
//! [`StoreWorld::drift`] compares the model with what the readings say, KPI by KPI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use storetwin_engine::{ActorId, SimTime};

use crate::money::Cents;
use crate::store::device::skus_next_to;
use crate::store::metrics::Metrics;
use crate::store::spec::{DeviceId, DeviceSpec, LaneId, SkuId, SkuSpec, WorldSpec};
use crate::store::stock::Store;
use crate::store::world::{Layout, StoreMsg, StoreWorld, View};

/// Most people one door-count reading may count ([`Reading::check`]): a reading covers the
/// interval since the device's last one, minutes, not days.
pub const MAX_PEOPLE_PER_READING: u32 = 10_000;

/// A device reading, normalised by the server's ingest (cumulative counters already differenced).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reading", rename_all = "snake_case")]
pub enum Reading {
    /// People the real door counter `device` counted in since its last reading.
    DoorCount { device: u16, people: u32 },
    /// The real smart shelf `device` weighed `grams` on the shelf of SKU `sku` (one of the SKUs it watches).
    ShelfWeight { device: u16, sku: u32, grams: u32 },
    /// A device's heartbeat (up = true) or reported fault (up = false).
    DeviceState { device: u16, up: bool },
    /// A real POS transaction at lane `lane`: `cents` paid for `items` items.
    PosSale { lane: u16, cents: i64, items: u16 },
    /// An electronic shelf label `device` acknowledged it now displays `cents` for SKU `sku`.
    EslAck { device: u16, sku: u32, cents: i64 },
}

/// Why a reading does not fit the world: the field, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ReadingError {
    /// The reading's field at fault, as it is written (`device`, `sku`, `grams`, ...).
    pub field: &'static str,
    pub message: String,
}

impl ReadingError {
    fn new(field: &'static str, message: String) -> Self {
        ReadingError { field, message }
    }
}

impl Reading {
    /// The actor and message that carry this reading into the simulation: a door count,
    /// device state or ESL acknowledgement to its device, a POS sale to its lane, a shelf
    /// weight to the store (whose stock it corrects).
    pub fn to_injection(self, layout: Layout) -> (ActorId, StoreMsg) {
        match self {
            Reading::DoorCount { device, people } => {
                (layout.device(DeviceId(device)), StoreMsg::DoorCounted { people })
            }
            Reading::ShelfWeight { device, sku, grams } => {
                (layout.store(), StoreMsg::ShelfWeighed { device: DeviceId(device), sku: SkuId(sku), grams })
            }
            Reading::DeviceState { device, up } => (layout.device(DeviceId(device)), StoreMsg::DeviceReported { up }),
            Reading::PosSale { lane, cents, items } => {
                (layout.lane(LaneId(lane)), StoreMsg::PosSold { items, paid: Cents(cents) })
            }
            Reading::EslAck { device, sku, cents } => {
                (layout.device(DeviceId(device)), StoreMsg::EslAcked { sku: SkuId(sku), price: Cents(cents) })
            }
        }
    }

    /// The reading an injected message carried, if it was one (never an intervention).
    pub fn from_injection(to: ActorId, msg: &StoreMsg, layout: Layout) -> Option<Reading> {
        let device = || {
            let first = layout.device(DeviceId(0)).0;
            (first..layout.sampler().0).contains(&to.0).then(|| (to.0 - first) as u16)
        };
        let lane = || {
            let first = layout.lane(LaneId(0)).0;
            (first..layout.line(0).0).contains(&to.0).then(|| (to.0 - first) as u16)
        };
        match *msg {
            StoreMsg::DoorCounted { people } => device().map(|device| Reading::DoorCount { device, people }),
            StoreMsg::ShelfWeighed { device, sku, grams } if to == layout.store() => {
                Some(Reading::ShelfWeight { device: device.0, sku: sku.0, grams })
            }
            StoreMsg::DeviceReported { up } => device().map(|device| Reading::DeviceState { device, up }),
            StoreMsg::PosSold { items, paid } => lane().map(|lane| Reading::PosSale { lane, cents: paid.0, items }),
            StoreMsg::EslAcked { sku, price } => {
                device().map(|device| Reading::EslAck { device, sku: sku.0, cents: price.0 })
            }
            _ => None,
        }
    }

    /// Checks the reading against the world's spec: the device exists and is of the right
    /// kind, the SKU exists and is watched by that shelf / labelled by that ESL, the lane
    /// exists, values are sane. Err names the field and what was expected, e.g.
    /// "device: 7 (wifi-2) is a wifi_probe, expected a door_counter".
    ///
    /// Sane values: at most [`MAX_PEOPLE_PER_READING`] people; a weight of at most the
    /// shelf's capacity in units (after rounding); a POS sale of at least one item and
    /// no negative amount (a refund is not a sale); no negative label price.
    pub fn check(&self, spec: &WorldSpec) -> Result<(), ReadingError> {
        match *self {
            Reading::DoorCount { device, people } => {
                device_of_kind(spec, device, "door_counter")?;
                if people > MAX_PEOPLE_PER_READING {
                    return Err(ReadingError::new(
                        "people",
                        format!("{people} people in one reading, expected at most {MAX_PEOPLE_PER_READING}"),
                    ));
                }
            }
            Reading::ShelfWeight { device, sku, grams } => {
                let d = device_of_kind(spec, device, "smart_shelf")?;
                let item = watched_sku(spec, device, d, sku, "weighs")?;
                let units = units_weighed(grams, item.unit_weight_g);
                if units > item.shelf_capacity {
                    let w = u64::from(item.unit_weight_g.max(1));
                    let most = (u64::from(item.shelf_capacity) + 1) * w - w / 2 - 1;
                    return Err(ReadingError::new(
                        "grams",
                        format!(
                            "{grams} g is {units} units of {w} g, above the shelf's capacity of {}; \
                             expected at most {most} g",
                            item.shelf_capacity
                        ),
                    ));
                }
            }
            Reading::DeviceState { device, .. } => {
                device_spec(spec, device)?;
            }
            Reading::PosSale { lane, cents, items } => {
                let lanes = spec.store.lanes.len();
                if usize::from(lane) >= lanes {
                    return Err(ReadingError::new(
                        "lane",
                        format!("{lane} does not exist: the store has {lanes} lanes"),
                    ));
                }
                if cents < 0 {
                    return Err(ReadingError::new(
                        "cents",
                        format!("{cents} is negative, expected 0 or more (a refund is not a sale)"),
                    ));
                }
                if items == 0 {
                    return Err(ReadingError::new("items", "0 items, expected 1 or more".into()));
                }
            }
            Reading::EslAck { device, sku, cents } => {
                let d = device_of_kind(spec, device, "esl")?;
                watched_sku(spec, device, d, sku, "labels")?;
                if cents < 0 {
                    return Err(ReadingError::new("cents", format!("{cents} is negative, expected 0 or more")));
                }
            }
        }
        Ok(())
    }
}

fn device_spec(spec: &WorldSpec, device: u16) -> Result<&DeviceSpec, ReadingError> {
    let devices = spec.store.devices.len();
    spec.store
        .devices
        .get(usize::from(device))
        .ok_or_else(|| ReadingError::new("device", format!("{device} does not exist: the store has {devices} devices")))
}

fn device_of_kind<'a>(spec: &'a WorldSpec, device: u16, expected: &str) -> Result<&'a DeviceSpec, ReadingError> {
    let d = device_spec(spec, device)?;
    let kind = d.kind.name();
    if kind != expected {
        let a = |name: &str| if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        return Err(ReadingError::new(
            "device",
            format!("{device} ({}) is {} {kind}, expected {} {expected}", d.name, a(kind), a(expected)),
        ));
    }
    Ok(d)
}

/// The SKU `sku` if it exists and `d` (device `device`) weighs or labels it (`what`).
fn watched_sku<'a>(
    spec: &'a WorldSpec,
    device: u16,
    d: &DeviceSpec,
    sku: u32,
    what: &str,
) -> Result<&'a SkuSpec, ReadingError> {
    let catalogue = &spec.store.catalogue;
    let item = catalogue.get(sku as usize).ok_or_else(|| {
        ReadingError::new("sku", format!("{sku} does not exist: the catalogue has {} SKUs", catalogue.len()))
    })?;
    let watched = skus_next_to(d.cell, &spec.store);
    if !watched.contains(&SkuId(sku)) {
        let ids: Vec<u32> = watched.iter().map(|s| s.0).collect();
        return Err(ReadingError::new(
            "sku",
            format!("{sku} ({}) is not one device {device} ({}) {what}: it {what} SKUs {ids:?}", item.name, d.name),
        ));
    }
    Ok(item)
}

/// The units a weight stands for: `grams / unit_weight_g` rounded to the nearest unit
/// (halves up), never below zero; a unit weight of 0 counts as 1 g.
pub fn units_weighed(grams: u32, unit_weight_g: u32) -> u32 {
    let w = u64::from(unit_weight_g.max(1));
    u32::try_from((u64::from(grams) + w / 2) / w).unwrap_or(u32::MAX)
}

/// The index of the device named `name` in the spec (the server accepts `"device": "door-1"`).
pub fn device_index(spec: &WorldSpec, name: &str) -> Option<u16> {
    spec.store.devices.iter().position(|d| d.name == name).and_then(|i| u16::try_from(i).ok())
}

/// The index of the lane named `name` in the spec.
pub fn lane_index(spec: &WorldSpec, name: &str) -> Option<u16> {
    spec.store.lanes.iter().position(|l| l.name == name).and_then(|i| u16::try_from(i).ok())
}

/// The index of the SKU named `name` in the spec's catalogue.
pub fn sku_index(spec: &WorldSpec, name: &str) -> Option<u32> {
    spec.store.catalogue.iter().position(|s| s.name == name).and_then(|i| u32::try_from(i).ok())
}

/// A real smart shelf's weight of `sku` reached the store: its shelf is set from it.
pub(crate) fn shelf_weighed(
    store: &mut Store,
    device: DeviceId,
    sku: SkuId,
    grams: u32,
    view: &View<'_>,
    metrics: &mut Metrics,
    now: SimTime,
) {
    let Some(item) = view.spec.store.catalogue.get(sku.0 as usize) else {
        metrics.real.ignored += 1;
        return;
    };
    let weighs = store.smart_shelf_of_category.get(usize::from(item.category.0)).is_some_and(|d| d.contains(&device));
    if !weighs {
        metrics.real.ignored += 1;
        return;
    }
    let sensed = units_weighed(grams, item.unit_weight_g);
    let model = store.correct_shelf(sku, sensed);
    metrics.real.shelf_weighed(device, sku, now, model, sensed);
}

/// Totals of real POS transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PosTotals {
    pub transactions: u64,
    pub items: u64,
    pub paid: Cents,
}

/// The last weighing of one SKU by one smart shelf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShelfCorrection {
    pub at: SimTime,
    /// The shelf reading's number among all shelf readings (1 = the first): the latest of
    /// two readings of a SKU at the same time is the one with the higher number.
    pub reading: u64,
    /// The model's units on the shelf just before the correction, and the units sensed.
    pub model_units: u32,
    pub sensed_units: u32,
}

impl ShelfCorrection {
    /// The model's units minus the sensed ones: positive when the model had more.
    pub fn drift(&self) -> i64 {
        i64::from(self.model_units) - i64::from(self.sensed_units)
    }
}

/// The last acknowledgement of one label (an ESL and one SKU it labels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelAck {
    pub at: SimTime,
    /// The price the label acknowledged, the till's price then, and the price the model
    /// thought the label showed just before.
    pub shown: Cents,
    pub till: Cents,
    pub model_shown: Cents,
}

/// What the real store's devices reported (instrumentation, like the rest of
/// [`Metrics`]: no actor decides from it). Vectors by device or lane grow to the highest
/// index that reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RealReadings {
    /// People the real door counters counted in, readings, and people per device.
    pub door_count: u64,
    pub door_readings: u64,
    pub door_by_device: Vec<u64>,
    /// Real POS transactions (one reading each), in all and per lane.
    pub pos: PosTotals,
    pub pos_by_lane: Vec<PosTotals>,
    /// Smart-shelf readings applied, the last one per (device, SKU), and the running sum
    /// of the corrections' sizes in units (|model − sensed|).
    pub shelf_readings: u64,
    pub shelves: BTreeMap<(DeviceId, SkuId), ShelfCorrection>,
    pub shelf_corrected_units: u64,
    /// Device-state readings, faults reported (a fault report while the device already
    /// stands reported down is the same fault), and each device's last report (`None`:
    /// never reported; `Some(true)`: up).
    pub device_readings: u64,
    pub faults_reported: u64,
    pub device_states: Vec<Option<bool>>,
    /// ESL acknowledgements, those showing a price other than the till's, and the last
    /// one per label.
    pub esl_acks: u64,
    pub esl_acks_wrong: u64,
    pub labels: BTreeMap<(DeviceId, SkuId), LabelAck>,
    /// Readings that did not fit the world when applied, so changed nothing.
    pub ignored: u64,
}

fn slot<T: Default + Clone>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize(i + 1, T::default());
    }
    &mut v[i]
}

impl RealReadings {
    pub(crate) fn door_counted(&mut self, device: DeviceId, people: u32) {
        self.door_count += u64::from(people);
        self.door_readings += 1;
        *slot(&mut self.door_by_device, usize::from(device.0)) += u64::from(people);
    }

    pub(crate) fn pos_sold(&mut self, lane: LaneId, items: u16, paid: Cents) {
        for totals in [&mut self.pos, slot(&mut self.pos_by_lane, usize::from(lane.0))] {
            totals.transactions += 1;
            totals.items += u64::from(items);
            totals.paid += paid;
        }
    }

    fn shelf_weighed(&mut self, device: DeviceId, sku: SkuId, at: SimTime, model_units: u32, sensed_units: u32) {
        self.shelf_readings += 1;
        let correction = ShelfCorrection { at, reading: self.shelf_readings, model_units, sensed_units };
        self.shelf_corrected_units += correction.drift().unsigned_abs();
        self.shelves.insert((device, sku), correction);
    }

    pub(crate) fn device_reported(&mut self, device: DeviceId, up: bool, new_fault: bool) {
        self.device_readings += 1;
        self.faults_reported += u64::from(new_fault);
        *slot(&mut self.device_states, usize::from(device.0)) = Some(up);
    }

    pub(crate) fn esl_acked(
        &mut self,
        device: DeviceId,
        sku: SkuId,
        at: SimTime,
        shown: Cents,
        till: Cents,
        model: Cents,
    ) {
        self.esl_acks += 1;
        self.esl_acks_wrong += u64::from(shown != till);
        self.labels.insert((device, sku), LabelAck { at, shown, till, model_shown: model });
    }
}

/// One KPI of the twin against the real store: the model's figure, the readings' figure,
/// and how many readings it rests on (0: no data yet, and the sensed figure is 0).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DriftKpi {
    pub kpi: &'static str,
    pub model: f64,
    pub sensed: f64,
    pub readings: u64,
}

/// The KPIs of [`StoreWorld::drift`], in its order.
pub const DRIFT_KPIS: [&str; 6] = ["footfall", "sales", "transactions", "shelf_units", "devices_up", "esl_wrong_price"];

impl StoreWorld {
    /// The model against the readings, in the order of [`DRIFT_KPIS`]; every KPI is listed,
    /// with `readings: 0` while none of its kind has come:
    ///
    /// - `footfall`: people who entered since opening against people the real door
    ///   counters counted (the real side counts from the first reading: a twin fed from
    ///   opening compares like with like);
    /// - `sales`: what the model's tills took against what the real POS took, in major
    ///   currency units;
    /// - `transactions`: the model's buyers against the real POS transactions;
    /// - `shelf_units`: the model's units now on the shelves of the SKUs that have been
    ///   weighed against their last weight in units (the latest reading of each SKU, by any
    ///   smart shelf);
    /// - `devices_up`: among the devices that have reported, how many the model has up
    ///   against how many last reported up;
    /// - `esl_wrong_price`: among the labels acknowledged, how many the model thought showed
    ///   a price other than the till's just before their last acknowledgement (the model's
    ///   expectation, normally 0) against how many acknowledged such a price.
    pub fn drift(&self) -> Vec<DriftKpi> {
        let m = &self.metrics;
        let r = &m.real;
        let kpi = |kpi, model, sensed, readings| DriftKpi { kpi, model, sensed, readings };
        let mut last: BTreeMap<SkuId, (u64, u32)> = BTreeMap::new();
        for ((_, sku), c) in &r.shelves {
            let e = last.entry(*sku).or_insert((c.reading, c.sensed_units));
            if c.reading > e.0 {
                *e = (c.reading, c.sensed_units);
            }
        }
        let shelf_model: u64 = last.keys().map(|s| u64::from(self.store.shelf[s.0 as usize])).sum();
        let shelf_sensed: u64 = last.values().map(|(_, units)| u64::from(*units)).sum();
        let reported = r.device_states.iter().enumerate().filter_map(|(d, s)| s.map(|up| (d, up)));
        let (model_up, sensed_up) = reported.fold((0u64, 0u64), |(model, sensed), (d, up)| {
            (model + u64::from(self.devices.get(d).is_some_and(|dev| dev.is_up())), sensed + u64::from(up))
        });
        let wrong = |f: fn(&LabelAck) -> bool| r.labels.values().filter(|l| f(l)).count() as f64;
        let model_wrong = wrong(|l| l.model_shown != l.till);
        let sensed_wrong = wrong(|l| l.shown != l.till);
        vec![
            kpi("footfall", m.entered as f64, r.door_count as f64, r.door_readings),
            kpi("sales", m.payments.as_major(), r.pos.paid.as_major(), r.pos.transactions),
            kpi("transactions", m.buyers as f64, r.pos.transactions as f64, r.pos.transactions),
            kpi("shelf_units", shelf_model as f64, shelf_sensed as f64, r.shelf_readings),
            kpi("devices_up", model_up as f64, sensed_up as f64, r.device_readings),
            kpi("esl_wrong_price", model_wrong, sensed_wrong, r.esl_acks),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weight_rounds_to_the_nearest_unit() {
        assert_eq!(units_weighed(0, 500), 0);
        assert_eq!(units_weighed(249, 500), 0);
        assert_eq!(units_weighed(250, 500), 1);
        assert_eq!(units_weighed(10_249, 500), 20);
        assert_eq!(units_weighed(10_250, 500), 21);
        // Odd unit weights: 4/3 rounds down, 5/3 up.
        assert_eq!((units_weighed(4, 3), units_weighed(5, 3)), (1, 2));
        assert_eq!(units_weighed(7, 0), 7);
        assert_eq!(units_weighed(u32::MAX, 1), u32::MAX);
    }
}
