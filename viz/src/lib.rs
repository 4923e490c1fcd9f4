//! storetwin-twin: the ops team's live store-floor twin.
//!
//! - [`session`]: the simulation on its own thread (live or replaying an event log),
//!   paced, sending frames and taking controls. No Bevy.
//! - [`remote`]: the same, fed by a live server's stream (`--connect`); the controls
//!   become the server's REST calls. No Bevy.
//! - [`geometry`] and [`palette`]: where a cell is drawn and in what colour (the
//!   screenshot test uses the same).
//! - [`app`]: the Bevy window. It renders frames and sends controls; it holds no
//!   simulation state.

pub mod app;
pub mod geometry;
pub mod palette;
pub mod remote;
pub mod session;
