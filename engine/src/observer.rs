//! Observers: the narrow way events leave the kernel.
//!
//! A run is generic over its observer, so the unit observer `()` compiles to nothing:
//! with nobody observing, observation costs nothing.

use crate::{ActorId, EventKey};

/// Sees every event just before it is delivered. It cannot change the simulation: it gets
/// shared references only and has no access to the model or the queue.
pub trait Observer<M> {
    fn on_event(&mut self, key: EventKey, to: ActorId, msg: &M);
}

/// Nobody observes.
impl<M> Observer<M> for () {
    #[inline(always)]
    fn on_event(&mut self, _key: EventKey, _to: ActorId, _msg: &M) {}
}

/// Keeps the delivered sequence, for tests and small runs.
impl<M> Observer<M> for Vec<(EventKey, ActorId)> {
    fn on_event(&mut self, key: EventKey, to: ActorId, _msg: &M) {
        self.push((key, to));
    }
}
