//! Interventions as the API takes them: by the scenario's names, checked against the store.

use serde::{Deserialize, Serialize};
use storetwin_actors::store::live::Intervention;
use storetwin_actors::store::spec::WorldSpec;

/// An intervention in the API: `{"action": "open_lane", "lane": "L7"}`,
/// `{"action": "close_lane", "lane": "L1"}`, `{"action": "set_price", "sku": "Bananas 1 kg",
/// "price": 0.99}`, `{"action": "device_offline", "device": "door-1"}`,
/// `{"action": "device_online", "device": "door-1"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    OpenLane { lane: String },
    CloseLane { lane: String },
    SetPrice { sku: String, price: f64 },
    DeviceOffline { device: String },
    DeviceOnline { device: String },
}

/// A request's field that is wrong, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }

    /// The same error under `prefix` (`interventions[2].lane`).
    pub fn within(self, prefix: &str) -> FieldError {
        FieldError { field: format!("{prefix}.{}", self.field), message: self.message }
    }
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = items.collect();
    if all.len() > 12 { format!("{}, ... ({} in all)", all[..12].join(", "), all.len()) } else { all.join(", ") }
}

/// The lane named `name`.
pub fn lane(spec: &WorldSpec, name: &str) -> Result<u16, FieldError> {
    let lanes = &spec.store.lanes;
    lanes.iter().position(|l| l.name == name).map(|i| i as u16).ok_or_else(|| {
        FieldError::new(
            "lane",
            format!("no lane {name:?}; the lanes are {}", names(lanes.iter().map(|l| l.name.as_str()))),
        )
    })
}

/// The device named `name`.
pub fn device(spec: &WorldSpec, name: &str) -> Result<u16, FieldError> {
    let devices = &spec.store.devices;
    devices.iter().position(|d| d.name == name).map(|i| i as u16).ok_or_else(|| {
        FieldError::new(
            "device",
            format!("no device {name:?}; the devices are {}", names(devices.iter().map(|d| d.name.as_str()))),
        )
    })
}

/// The SKU named `name`.
pub fn sku(spec: &WorldSpec, name: &str) -> Result<u32, FieldError> {
    let catalogue = &spec.store.catalogue;
    catalogue
        .iter()
        .position(|s| s.name == name)
        .map(|i| i as u32)
        .ok_or_else(|| FieldError::new("sku", format!("no SKU named {name:?} in the catalogue")))
}

/// An amount of money in currency units, as minor units.
pub fn cents(field: &str, value: f64) -> Result<i64, FieldError> {
    if value.is_finite() && (0.0..1e12).contains(&value) {
        Ok((value * 100.0).round() as i64)
    } else {
        Err(FieldError::new(field, format!("{value} is not a price (expected a non-negative amount like 1.99)")))
    }
}

impl Action {
    /// The intervention this action is in `spec`'s store.
    pub fn resolve(&self, spec: &WorldSpec) -> Result<Intervention, FieldError> {
        Ok(match self {
            Action::OpenLane { lane: l } => Intervention::SetLaneOpen { lane: lane(spec, l)?, open: true },
            Action::CloseLane { lane: l } => Intervention::SetLaneOpen { lane: lane(spec, l)?, open: false },
            Action::SetPrice { sku: s, price } => {
                Intervention::SetPrice { sku: sku(spec, s)?, cents: cents("price", *price)? }
            }
            Action::DeviceOffline { device: d } => Intervention::SetDeviceUp { device: device(spec, d)?, up: false },
            Action::DeviceOnline { device: d } => Intervention::SetDeviceUp { device: device(spec, d)?, up: true },
        })
    }

    /// The action an intervention is, in `spec`'s names.
    pub fn of(what: Intervention, spec: &WorldSpec) -> Action {
        let store = &spec.store;
        let lane = |i: u16| store.lanes.get(usize::from(i)).map_or_else(|| format!("#{i}"), |l| l.name.clone());
        let device = |i: u16| store.devices.get(usize::from(i)).map_or_else(|| format!("#{i}"), |d| d.name.clone());
        match what {
            Intervention::SetLaneOpen { lane: l, open: true } => Action::OpenLane { lane: lane(l) },
            Intervention::SetLaneOpen { lane: l, open: false } => Action::CloseLane { lane: lane(l) },
            Intervention::SetPrice { sku, cents } => Action::SetPrice {
                sku: store.catalogue.get(sku as usize).map_or_else(|| format!("#{sku}"), |s| s.name.clone()),
                price: cents as f64 / 100.0,
            },
            Intervention::SetDeviceUp { device: d, up: false } => Action::DeviceOffline { device: device(d) },
            Intervention::SetDeviceUp { device: d, up: true } => Action::DeviceOnline { device: device(d) },
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Action::OpenLane { .. } => "open_lane",
            Action::CloseLane { .. } => "close_lane",
            Action::SetPrice { .. } => "set_price",
            Action::DeviceOffline { .. } => "device_offline",
            Action::DeviceOnline { .. } => "device_online",
        }
    }
}

/// Resolves a list of actions, naming the first wrong one's field (`interventions[1].lane`).
pub fn resolve_all(actions: &[Action], spec: &WorldSpec, list: &str) -> Result<Vec<Intervention>, FieldError> {
    actions.iter().enumerate().map(|(i, a)| a.resolve(spec).map_err(|e| e.within(&format!("{list}[{i}]")))).collect()
}
