//! One store's floor on the kernel: what exists inside the four walls.
//!
//! [`spec`] is what a store is built from; [`world::StoreWorld`] is the kernel model made
//! of [`shopper`]s, [`lane`]s and shared lines, the store's back office ([`stock`]: stock,
//! prices, restocking, disruptions) and its [`device`]s, walking and reading a [`floor`]
//! whose occupancy is the [`crowd`]. [`metrics`] gathers the truth and the sensed figures,
//! [`summary`] turns them into the KPIs a planner reads, [`day`] runs a day and [`live`] is
//! what a paced, watched and steered session builds on ([`pair`]: two stores side by side on
//! one clock and the same shoppers); [`sensors`] is what the real
//! store's devices report to a live twin, and how far the twin has drifted from it.

pub mod crowd;
pub mod day;
pub mod device;
pub mod floor;
pub mod lane;
pub mod live;
pub mod metrics;
pub mod office;
pub mod pair;
pub mod sensors;
pub mod shopper;
pub mod spec;
pub mod stock;
pub mod summary;
pub mod wire;
pub mod world;
