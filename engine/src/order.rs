//! The total order of events.
//!
//! Every event carries an [`EventKey`]: `(time, origin, seq)`, where `origin` is the actor
//! that sent it ([`ActorId::EXTERNAL`] for injected events) and `seq` is the origin's own
//! send counter, which counts every send the origin has made since the run began (for
//! injections: the number of earlier injections). The pair `(origin, seq)` is unique, so
//! the order is total: no two events ever compare equal.
//!
//! The kernel always delivers the pending event with the smallest key. Nothing else
//! influences the order: not the order in which events were inserted, not which thread ran
//! what, not a pointer or a hash. Consequences worth knowing:
//! - events at the same time are delivered by origin id, then by the origin's send order;
//!   so messages from one sender to one receiver are delivered in the order they were sent
//!   when their times tie;
//! - an event sent with zero delay is delivered at the current time, after any pending
//!   event at that time with a smaller key;
//! - injected events come after every actor's event at the same time.
//!
//! The key is packed into one `u128` (time in the high 64 bits, origin in the next 32,
//! seq in the low 32) so that comparing two events is one wide integer comparison.

use crate::{ActorId, SimTime};

/// An event's position in the total order. Smaller keys are delivered first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct EventKey(u128);

impl EventKey {
    pub const fn new(time: SimTime, origin: ActorId, seq: u32) -> Self {
        EventKey(((time.as_nanos() as u128) << 64) | ((origin.0 as u128) << 32) | seq as u128)
    }

    pub const fn time(self) -> SimTime {
        SimTime::from_nanos((self.0 >> 64) as u64)
    }

    pub const fn origin(self) -> ActorId {
        ActorId((self.0 >> 32) as u32)
    }

    pub const fn seq(self) -> u32 {
        self.0 as u32
    }

    /// The low 64 bits: `origin << 32 | seq`.
    pub(crate) const fn tie_breaker(self) -> u64 {
        self.0 as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_orders_by_time_then_origin_then_seq() {
        let k = |t, o, s| EventKey::new(SimTime::from_nanos(t), ActorId(o), s);
        assert!(k(1, 9, 9) < k(2, 0, 0));
        assert!(k(2, 1, 9) < k(2, 2, 0));
        assert!(k(2, 2, 0) < k(2, 2, 1));
        assert!(k(2, 7, 3) < k(2, ActorId::EXTERNAL.0, 0));
        let key = k(u64::MAX, 77, u32::MAX);
        assert_eq!((key.time().as_nanos(), key.origin(), key.seq()), (u64::MAX, ActorId(77), u32::MAX));
    }
}
