//! What a simulated world looks like to the kernel: actors addressed by id, handling typed
//! messages through a [`Context`].

use crate::sim::{Halt, SimErrorKind};
use crate::{
    ActorId, ActorRng, EventKey, SimDuration, SimTime,
    queue::{Entry, EventQueue},
};

/// A simulated world: `actor_count()` actors with ids `0..actor_count()`, exchanging
/// messages of one type (usually an enum). The model routes a message to the receiving
/// actor (`ctx.me()`), typically by indexing a `Vec` of plain structs per actor kind.
/// Messages are stored inline in the event queue, so keep them small and free of heap
/// allocations.
pub trait Model {
    type Msg;

    /// Number of actors. Fixed for the life of a simulation.
    fn actor_count(&self) -> u32;

    /// Called once per actor at time zero, in id order, before any event is delivered.
    fn start(&mut self, ctx: &mut Context<'_, Self::Msg>) {
        let _ = ctx;
    }

    /// Delivers `msg` to actor `ctx.me()`.
    fn handle(&mut self, msg: Self::Msg, ctx: &mut Context<'_, Self::Msg>);
}

/// One actor as a plain struct. A `Vec<A>` of them is a [`Model`] whose actor `i` is `vec[i]`.
pub trait Actor {
    type Msg;

    fn start(&mut self, ctx: &mut Context<'_, Self::Msg>) {
        let _ = ctx;
    }

    fn handle(&mut self, msg: Self::Msg, ctx: &mut Context<'_, Self::Msg>);
}

impl<A: Actor> Model for Vec<A> {
    type Msg = A::Msg;

    fn actor_count(&self) -> u32 {
        u32::try_from(self.len()).unwrap_or(u32::MAX)
    }

    fn start(&mut self, ctx: &mut Context<'_, A::Msg>) {
        self[ctx.me().index()].start(ctx);
    }

    fn handle(&mut self, msg: A::Msg, ctx: &mut Context<'_, A::Msg>) {
        self[ctx.me().index()].handle(msg, ctx);
    }
}

/// What an actor may do while it handles a message: read the time and its own id, draw
/// from its own random stream, send messages (to others or itself) with a delay, and stop
/// the run or fail it with a broken invariant.
pub struct Context<'a, M> {
    pub(crate) now: SimTime,
    pub(crate) me: ActorId,
    pub(crate) actors: u32,
    pub(crate) rng: &'a mut ActorRng,
    pub(crate) sends: &'a mut u32,
    pub(crate) queue: &'a mut EventQueue<M>,
    pub(crate) halt: &'a mut Option<Halt>,
}

impl<M> Context<'_, M> {
    /// The current simulated time: the time of the event being handled.
    #[inline(always)]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The actor handling the event.
    #[inline(always)]
    pub fn me(&self) -> ActorId {
        self.me
    }

    /// Number of actors in the model.
    #[inline(always)]
    pub fn actor_count(&self) -> u32 {
        self.actors
    }

    /// This actor's own random stream (see [`crate::rng`]).
    #[inline(always)]
    pub fn rng(&mut self) -> &mut ActorRng {
        self.rng
    }

    /// Sends `msg` to `to`, delivered `delay` after now. A delay past the end of time is
    /// clamped to `SimTime::MAX` (such an event is never delivered by a bounded run).
    #[inline(always)]
    pub fn send(&mut self, to: ActorId, delay: SimDuration, msg: M) {
        if to.0 >= self.actors {
            self.fail_with(SimErrorKind::UnknownActor { from: self.me, to });
            return;
        }
        let seq = *self.sends;
        if seq == u32::MAX {
            self.fail_with(SimErrorKind::SendCounterExhausted { actor: self.me });
            return;
        }
        *self.sends = seq + 1;
        let key = EventKey::new(self.now.saturating_add(delay), self.me, seq);
        self.queue.push(Entry::new(key, to, msg));
    }

    /// Sends `msg` to this actor itself, `delay` after now.
    #[inline(always)]
    pub fn schedule(&mut self, delay: SimDuration, msg: M) {
        self.send(self.me, delay, msg);
    }

    /// Ends the run after this event.
    pub fn stop(&mut self) {
        if self.halt.is_none() {
            *self.halt = Some(Halt::Stopped);
        }
    }

    /// Ends the run with a broken invariant: `invariant` names it, `detail` says what was
    /// seen. The run's error carries the seed and time so it can be reproduced.
    pub fn fail(&mut self, invariant: &'static str, detail: impl Into<String>) {
        self.fail_with(SimErrorKind::Invariant { invariant, detail: detail.into() });
    }

    fn fail_with(&mut self, kind: SimErrorKind) {
        if !matches!(self.halt, Some(Halt::Failed(..))) {
            *self.halt = Some(Halt::Failed(kind, self.now));
        }
    }
}
