//! TEMPORARY compile scaffold, replaced by the sensors branch.
use serde::{Deserialize, Serialize};
use storetwin_engine::ActorId;
use crate::store::spec::WorldSpec;
use crate::store::world::{Layout, StoreMsg};
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reading", rename_all = "snake_case")]
pub enum Reading {
    DoorCount { device: u16, people: u32 },
    ShelfWeight { device: u16, sku: u32, grams: u32 },
    DeviceState { device: u16, up: bool },
    PosSale { lane: u16, cents: i64, items: u16 },
    EslAck { device: u16, sku: u32, cents: i64 },
}
pub struct ReadingError { pub field: &'static str, pub message: String }
impl Reading {
    /// Scaffold only (the sensors branch replaces this file): a device's state becomes the
    /// same injection as the `SetDeviceUp` intervention; any other reading marks its
    /// device (a sale: device 0) up, which leaves a running store as it was.
    pub fn to_injection(self, layout: Layout) -> (ActorId, StoreMsg) {
        use crate::store::live::Intervention;
        let (device, up) = match self {
            Reading::DeviceState { device, up } => (device, up),
            Reading::DoorCount { device, .. }
            | Reading::ShelfWeight { device, .. }
            | Reading::EslAck { device, .. } => (device, true),
            Reading::PosSale { .. } => (0, true),
        };
        Intervention::SetDeviceUp { device, up }.to_injection(layout)
    }
    pub fn from_injection(_to: ActorId, _msg: &StoreMsg, _layout: Layout) -> Option<Reading> { None }
    pub fn check(&self, _spec: &WorldSpec) -> Result<(), ReadingError> { Ok(()) }
}
