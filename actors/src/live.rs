//! The live side of a store: what the ops team can do to a running store (interventions),
//! and what a viewer is shown of it (snapshots).
//!
//! An intervention becomes a message injected into the simulation at the sim time it was
//! made (see the kernel's `clock` module); the kernel records every injection, and
//! [`Intervention::from_injection`] turns the record back into interventions, so a live
//! session saved as `(time, intervention)` pairs replays to the identical run
//! ([`crate::day::run_day_replaying`]). A [`Snapshot`] is an owned copy: a viewer holding
//! one cannot reach, let alone change, the simulation.

use serde::{Deserialize, Serialize};
use storetwin_engine::{ActorId, SimTime};

use crate::money::Cents;
use crate::shopper::ShopperState;
use crate::spec::{Cell, DeviceId, LaneId, SkuId};
use crate::world::{Layout, StoreMsg, StoreWorld};

/// Something the ops team does to the running store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Intervention {
    /// Open or close a lane (a closing lane serves the shoppers already in its queue).
    SetLaneOpen { lane: u16, open: bool },
    /// Change a SKU's price (minor units): the till at once, the labels through the ESLs.
    SetPrice { sku: u32, cents: i64 },
    /// Take a device offline or bring it back.
    SetDeviceUp { device: u16, up: bool },
}

impl Intervention {
    /// The actor and message that carry this intervention into the simulation.
    pub fn to_injection(self, layout: Layout) -> (ActorId, StoreMsg) {
        match self {
            Intervention::SetLaneOpen { lane, open } => {
                (layout.lane(LaneId(lane)), StoreMsg::SetLaneOpen { open, by_policy: false })
            }
            Intervention::SetPrice { sku, cents } => {
                (layout.store(), StoreMsg::SetPrice { sku: SkuId(sku), price: Cents(cents) })
            }
            Intervention::SetDeviceUp { device, up } => (layout.device(DeviceId(device)), StoreMsg::SetDeviceUp { up }),
        }
    }

    /// The intervention an injected message carried, if it was one.
    pub fn from_injection(to: ActorId, msg: &StoreMsg, layout: Layout) -> Option<Intervention> {
        match *msg {
            StoreMsg::SetLaneOpen { open, by_policy: false } if to.0 >= layout.lane(LaneId(0)).0 => {
                Some(Intervention::SetLaneOpen { lane: (to.0 - layout.lane(LaneId(0)).0) as u16, open })
            }
            StoreMsg::SetPrice { sku, price } if to == layout.store() => {
                Some(Intervention::SetPrice { sku: sku.0, cents: price.0 })
            }
            StoreMsg::SetDeviceUp { up } if to.0 >= layout.device(DeviceId(0)).0 => {
                Some(Intervention::SetDeviceUp { device: (to.0 - layout.device(DeviceId(0)).0) as u16, up })
            }
            _ => None,
        }
    }
}

/// A live session as a file: the scenario it ran, its seed, and every intervention with
/// the sim time it took effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub scenario_hash: String,
    pub seed: u64,
    pub interventions: Vec<TimedIntervention>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedIntervention {
    /// Sim time in nanoseconds since the scenario start.
    pub at_ns: u64,
    #[serde(flatten)]
    pub what: Intervention,
}

impl TimedIntervention {
    pub fn at(&self) -> SimTime {
        SimTime::from_nanos(self.at_ns)
    }
}

/// A shopper as a viewer draws it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShopperView {
    pub cell: Cell,
    pub state: ShopperState,
}

/// A lane as a viewer draws it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneView {
    pub open: bool,
    /// POS down or closed by a disruption.
    pub down: bool,
    pub waiting: u32,
    pub serving: bool,
}

/// What a viewer is shown of the store at one sim time.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub at: SimTime,
    pub shoppers: Vec<ShopperView>,
    pub lanes: Vec<LaneView>,
    /// Waiting in each shared line.
    pub lines: Vec<u32>,
    pub devices_up: Vec<bool>,
    pub footfall: u64,
    pub footfall_sensed: u64,
    pub buyers: u64,
    pub sales: Cents,
    /// Shopper-seconds per cell so far (the heat map).
    pub heat: Vec<f64>,
}

impl StoreWorld {
    /// A copy of what a viewer needs at `now`.
    pub fn snapshot(&self, now: SimTime) -> Snapshot {
        Snapshot {
            at: now,
            shoppers: self
                .inside
                .iter()
                .map(|s| {
                    let shopper = &self.shoppers[s.0 as usize];
                    ShopperView { cell: shopper.cell, state: shopper.state }
                })
                .collect(),
            lanes: self
                .lanes
                .iter()
                .map(|l| LaneView {
                    open: l.open,
                    down: l.down || l.closed_by_disruption,
                    waiting: l.queue.len() as u32,
                    serving: l.serving.is_some(),
                })
                .collect(),
            lines: self.lines.iter().map(|l| l.queue.len() as u32).collect(),
            devices_up: self.devices.iter().map(|d| d.is_up()).collect(),
            footfall: self.metrics.entered,
            footfall_sensed: self.metrics.door_count,
            buyers: self.metrics.buyers,
            sales: self.metrics.sales,
            heat: self.metrics.cell_dwell_s.clone(),
        }
    }
}
