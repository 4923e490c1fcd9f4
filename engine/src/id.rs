//! Actor identities.

use std::fmt;

/// The stable identity of an actor within one simulation: its index, `0..actor_count`.
///
/// Stable means that the same scenario gives every actor the same id on every run, so that
/// ids can order events and seed random streams.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ActorId(pub u32);

impl ActorId {
    /// The origin of events injected from outside the simulation (an operator's action, a
    /// live feed). No actor has this id, so a model has at most `u32::MAX` actors.
    pub const EXTERNAL: ActorId = ActorId(u32::MAX);

    /// The origin of messages from shard `s` of a sharded run (see [`crate::window`]):
    /// counted down from just below [`ActorId::EXTERNAL`], so a model with shards has
    /// fewer actors than `u32::MAX - shards`.
    pub const fn shard(s: u32) -> ActorId {
        ActorId(u32::MAX - 1 - s)
    }

    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == ActorId::EXTERNAL { f.write_str("external") } else { write!(f, "#{}", self.0) }
    }
}
