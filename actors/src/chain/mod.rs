//! The central platform of a chain and the shards a chain runs as.
//!
//! [`spec`] is what a chain is built from. The centres are one file each
//! ([`inventory`], [`orders`]) and run together as the [`platform`] shard; [`link`] is
//! what stores and centres say to each other and when it arrives; [`run`] runs a chain
//! as shards in conservative time windows, and [`summary`] gives its KPIs.

pub mod inventory;
pub mod link;
pub mod orders;
pub mod platform;
pub mod run;
pub mod spec;
pub mod summary;
