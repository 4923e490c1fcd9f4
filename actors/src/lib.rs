//! `storetwin-actors`: the actors of a store day on the storetwin kernel.

pub mod dist;
pub mod money;
pub mod spec;

pub use dist::{Dist, DistError};
pub use money::Cents;
