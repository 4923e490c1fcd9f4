//! `event_hash`: a fingerprint of the delivered event sequence.
//!
//! For every delivered event, in delivery order, three words are folded into a 64-bit
//! state: the time in nanoseconds, `origin << 32 | seq` (the tie-breaker of its
//! [`EventKey`](crate::EventKey)), and the receiving actor's id. One fold is
//! `h = (h.rotate_left(5) ^ word) * 0x517C_C1B7_2722_0A95` (wrapping), starting from
//! `h = 0xCBF2_9CE4_8422_2325`; the reported hash is the SplitMix64 finaliser of `h`,
//! printed as 16 hex digits. Each fold is a bijection of the state for a fixed word, and
//! of the word for a fixed state, so changing any single event changes the hash.
//!
//! Message contents are not hashed (they are the model's types), but a message that
//! differs changes what its receiver does next, and so the events that follow.

use std::fmt;

use crate::{ActorId, EventKey, rng::mix};

const SEED: u64 = 0xCBF2_9CE4_8422_2325;
const K: u64 = 0x517C_C1B7_2722_0A95;

#[derive(Clone, Copy, Debug)]
pub(crate) struct EventHasher(u64);

impl Default for EventHasher {
    fn default() -> Self {
        EventHasher(SEED)
    }
}

impl EventHasher {
    #[inline(always)]
    fn fold(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }

    #[inline(always)]
    pub(crate) fn event(&mut self, key: EventKey, to: ActorId) {
        self.fold(key.time().as_nanos());
        self.fold(key.tie_breaker());
        self.fold(u64::from(to.0));
    }

    pub(crate) fn finish(&self) -> EventHash {
        EventHash(mix(self.0))
    }
}

/// The fingerprint of a run's event sequence: equal for equal (scenario, seed).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EventHash(pub u64);

impl EventHash {
    /// The fingerprint of a sharded run: the shards' own hashes folded in shard order
    /// (same fold as events), so it changes if any shard's event sequence changes.
    pub fn combine(shards: impl IntoIterator<Item = EventHash>) -> EventHash {
        let mut h = EventHasher::default();
        for shard in shards {
            h.fold(shard.0);
        }
        h.finish()
    }
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
