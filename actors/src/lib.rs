//! `storetwin-actors`: the actors of a store chain on the storetwin kernel.
//!
//! Two worlds, one folder each:
//! - [`store`]: one store's floor (shoppers, lanes, devices, the store's stock), a kernel
//!   model of its own;
//! - [`chain`]: the central platform (catalogue, inventory, orders, members, coupons,
//!   settlement), one file per centre, and the shards a chain runs as.
//!
//! [`money`] and [`dist`] are the units both share. [`load`] is the load-test machinery
//! (k6's executors, metrics and thresholds) that `storetwin load` drives a chain with.

pub mod chain;
pub mod dist;
pub mod load;
pub mod money;
pub mod store;

pub use dist::{Dist, DistError};
pub use money::Cents;
pub use store::world::{ShopperId, StoreMsg, StoreWorld};
