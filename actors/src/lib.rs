//! `storetwin-actors`: the actors of a store day on the storetwin kernel.
//!
//! [`spec`] is what a world is built from; [`world::StoreWorld`] is the kernel model made
//! of [`shopper`]s, [`lane`]s and shared lines, the [`store`] and its [`device`]s walking
//! and reading a [`floor`]; [`metrics`] gathers the truth and the sensed figures, and
//! [`summary`] turns them into the KPIs a planner reads.

pub mod crowd;
pub mod day;
pub mod device;
pub mod dist;
pub mod floor;
pub mod lane;
pub mod live;
pub mod metrics;
pub mod money;
pub mod shopper;
pub mod spec;
pub mod store;
pub mod summary;
pub mod world;

pub use dist::{Dist, DistError};
pub use money::Cents;
pub use world::{ShopperId, StoreMsg, StoreWorld};
