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

    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == ActorId::EXTERNAL { f.write_str("external") } else { write!(f, "#{}", self.0) }
    }
}
