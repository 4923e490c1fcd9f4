//! PHOLD, the standard synthetic benchmark of discrete-event kernels, with the defaults of
//! ROSS (the Rensselaer Optimistic Simulation System): `lps` logical processes, each
//! starting with one event to itself at Exp(mean) + lookahead; on every event an LP picks
//! a destination (uniform over all LPs with probability `remote`, else itself) and sends
//! it one event, Exp(mean) + lookahead later. So the event population stays constant.
//!
//! Time unit: one PHOLD time unit is one simulated second.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use crate::{ActorId, Context, Model, SimDuration};

/// PHOLD's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PholdConfig {
    pub lps: u32,
    /// Probability that an event goes to a uniformly chosen LP rather than to itself.
    pub remote: f64,
    /// Mean of the exponential part of each delay, in time units.
    pub mean: f64,
    /// Constant part of each delay, in time units.
    pub lookahead: f64,
    /// Events each LP sends itself at the start.
    pub start_events: u32,
}

impl PholdConfig {
    /// ROSS's defaults: remote 0.25, mean 1, lookahead 1, one start event per LP.
    pub fn ross(lps: u32) -> Self {
        PholdConfig { lps, remote: 0.25, mean: 1.0, lookahead: 1.0, start_events: 1 }
    }
}

/// The PHOLD model. LPs have no state besides what the kernel keeps for every actor
/// (random stream, send counter), so the model is just its parameters.
#[derive(Clone, Debug)]
pub struct Phold {
    config: PholdConfig,
}

impl Phold {
    pub fn new(config: PholdConfig) -> Self {
        Phold { config }
    }

    #[inline(always)]
    fn delay(&self, ctx: &mut Context<'_, ()>) -> SimDuration {
        let exp: f64 = Exp1.sample(ctx.rng());
        SimDuration::from_secs_f64(exp * self.config.mean + self.config.lookahead)
    }
}

impl Model for Phold {
    type Msg = ();

    fn actor_count(&self) -> u32 {
        self.config.lps
    }

    fn start(&mut self, ctx: &mut Context<'_, ()>) {
        for _ in 0..self.config.start_events {
            let delay = self.delay(ctx);
            ctx.schedule(delay, ());
        }
    }

    #[inline(always)]
    fn handle(&mut self, (): (), ctx: &mut Context<'_, ()>) {
        let lps = ctx.actor_count();
        let rng = ctx.rng();
        let to = if rng.random::<f64>() < self.config.remote { ActorId(rng.random_range(0..lps)) } else { ctx.me() };
        let delay = self.delay(ctx);
        ctx.send(to, delay, ());
    }
}
