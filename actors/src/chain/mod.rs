//! The central platform of a chain and the shards a chain runs as.
//!
//! [`spec`] is what a chain is built from. The centres are one file each
//! ([`inventory`], [`orders`], [`members`], [`settlement`]) and run together as the
//! [`platform`] shard; [`link`] is what stores and centres say to each other and when it
//! arrives; [`run`] runs a chain as shards in conservative time windows, and [`summary`]
//! gives its KPIs.
//!
//! [`settlement`] splits every payment between HQ, franchisees, payment channels and
//! brands, and reconciles the books; [`members`] is the member centre (one member id across
//! channels, levels, points). Both take [`txn`] ids, so a message applied twice counts once,
//! and count per sales [`channel`].

pub mod channel;
pub mod coupons;
pub mod flash;
pub mod inventory;
pub mod link;
pub mod live;
pub mod members;
pub mod orders;
pub mod platform;
pub mod run;
pub mod settlement;
pub mod spec;
pub mod summary;
pub mod txn;
