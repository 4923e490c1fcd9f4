//! The central platform of a chain and the shards a chain runs as.
//!
//! [`spec`] is what a chain is built from.
//!
//! [`settlement`] splits every payment between HQ, franchisees, payment channels and
//! brands, and reconciles the books; [`members`] is the member centre (one member id across
//! channels, levels, points). Both take [`txn`] ids, so a message applied twice counts once,
//! and count per sales [`channel`].

pub mod spec;

pub mod channel;
pub mod members;
pub mod settlement;
pub mod txn;
