//! The central platform of a chain and the shards a chain runs as.
//!
//! [`spec`] is what a chain is built from.

pub mod spec;
