//! `storetwin-engine`: the deterministic discrete-event actor kernel under storetwin.
//!
//! A [`Model`] is a set of actors with ids `0..n` that exchange typed messages. A
//! [`Simulation`] holds the model, the pending events (messages stored inline, see
//! `queue`), one random stream and one send counter per actor, and delivers events one at
//! a time in the total order documented in [`order`]: `(time, origin actor, origin's send
//! counter)`. Actors act only through their [`Context`].
//!
//! Guarantees, in one place:
//! - **Order.** Events are delivered in increasing [`EventKey`] order; the key is unique
//!   per event, so the order is total and does not depend on insertion order, threads,
//!   pointers or hashing. Time never goes backwards (checked on every event).
//! - **Randomness.** Each actor draws from its own PCG-64 stream derived from
//!   `(seed, actor id)` ([`rng`]); there is no other source of randomness.
//! - **Determinism.** Same model and seed ⇒ same event sequence ⇒ same [`EventHash`]
//!   ([`hash`]). Replications ([`run_replications`]) give identical results on any
//!   number of threads.
//! - **Time.** [`SimTime`] is integer nanoseconds. The wall clock is read only through a
//!   [`WallClock`] handed to a paced run ([`clock`]).
//! - **Replay.** Events injected from outside are stamped with the sim time they arrived
//!   at and recorded; replaying the record reproduces the run exactly.
//! - **Shards.** A large world runs as shards in conservative time windows ([`window`]):
//!   each shard's events, and so the whole run, are the same for any number of threads.
//! - **Cost.** Delivering an event allocates nothing once the queue has grown to its
//!   working size; an absent observer (`()`) compiles to nothing.

pub mod clock;
pub mod hash;

mod id;
mod model;
pub mod order;
pub mod phold;
mod queue;
mod replication;
pub mod rng;
mod sim;
mod time;
pub mod window;

pub use clock::{LiveInput, ManualWall, Pacer, SystemWall, WallClock};
pub use hash::EventHash;
pub use id::ActorId;
pub use model::{Actor, Context, Model};
pub use observer::Observer;
pub use order::EventKey;
pub use replication::run_replications;
pub use rng::{ActorRng, Seed};
pub use sim::{Injection, RunLimit, SimError, SimErrorKind, Simulation, StopReason};
pub use time::{SimDuration, SimTime};
pub use window::{Envelope, Shard, ShardIdx, ShardModel, Watch, WindowError, WindowStats, Windows, run_windows};

mod observer;
