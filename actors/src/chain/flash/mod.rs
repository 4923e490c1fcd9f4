//! Flash sales: a SKU at a sale price from a start time, with a global quota and one per
//! store, a per-member limit, reservations that expire, a waitlist, and shoppers racing
//! for units online and in the stores.
//!
//! [`spec`] is what a sale is built from; [`ledger`] keeps the books of a quota and checks
//! them at every change (sold + reserved never above the quota or a store's stock: an
//! oversell stops the run); [`holder`] is the centres' stock holder (a hot key with a
//! queue, answering grabs by the sale's protocol); [`desk`] is a store's side (the grab
//! clients with timeouts and retries, packing, collection, and the store's own quota under
//! demarcation); [`preorder`] is the sale's pre-order tiers ("book ahead": an order
//! window, a ship date, a price, a minimum and a maximum each) and their books.
//!
//! Who grabs, and when, is [`Demand`]: arrival processes or targets of active shoppers
//! (the load test's scenarios) that each store's desk runs for its share of the shoppers.

pub mod desk;
pub mod holder;
pub mod ledger;
pub mod preorder;
pub mod spec;

use std::sync::Arc;

use storetwin_engine::SimTime;

pub use crate::load::executor::Journey;
pub use preorder::{PreorderTier, TierState};
pub use spec::{ClientSpec, Expiry, FlashSaleSpec, InStoreGrab, Protocol};

/// A flash-sale step at a store (inside [`crate::store::world::StoreMsg::Flash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashMsg {
    /// The next shopper of demand `demand` arrives (its timer).
    Arrive {
        demand: u8,
    },
    /// The client sends its grab (after a scan or a backoff).
    Send {
        client: u32,
    },
    KioskDone {
        client: u32,
    },
    Timeout {
        client: u32,
        attempt: u16,
    },
    PayNow {
        client: u32,
    },
    CounterDone {
        client: u32,
    },
    /// Demarcation: the store's holder finished a call; a reservation's timer; the sweeper.
    LocalServed,
    /// Demarcation: an online shopper's call reaches the store's holder; its answer
    /// reaches the shopper.
    LocalArrive {
        client: u32,
    },
    LocalAnswer {
        client: u32,
    },
    LocalExpire,
    LocalSweep,
    /// A closed demand's target of active shoppers at this store changes.
    Target {
        demand: u8,
    },
}

/// When shoppers arrive: an open arrival process over the run.
pub trait Arrivals: Send + Sync + std::fmt::Debug {
    /// The first arrival after `now` of this process with its rate scaled by `scale`
    /// (a store's share), from the uniform draw `u` in `[0, 1)`; `None`: no more.
    fn next_arrival(&self, now: SimTime, scale: f64, u: f64) -> Option<SimTime>;

    /// The expected arrivals in `[from, to)` at the unscaled rate (only how the work is
    /// spread over threads depends on it).
    fn expected(&self, from: SimTime, to: SimTime) -> f64;
}

/// Where a demand's shoppers come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Arrivals (k6's open model: the arrival-rate executors); each store takes its share
    /// of the rate.
    Open(Arc<dyn Arrivals>),
    /// A target of active shoppers over time (k6's closed model: `ramping-shoppers`,
    /// `constant-shoppers`), split over the stores; each shopper starts a new journey as
    /// soon as the last one ends, while the target lasts.
    Closed(Arc<crate::load::executor::ClosedShoppers>),
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        match (self, other) {
            (Source::Open(a), Source::Open(b)) => Arc::ptr_eq(a, b),
            (Source::Closed(a), Source::Closed(b)) => a == b,
            _ => false,
        }
    }
}

/// One stream of flash-sale shoppers (a load test's scenario), split over the stores.
#[derive(Clone, Debug, PartialEq)]
pub struct Demand {
    pub name: String,
    pub journey: Journey,
    pub arrivals: Source,
    /// Shoppers of an open demand in flight at once, chain-wide (each store gets its
    /// share); an arrival beyond it is dropped and counted. A closed demand's target is
    /// its own bound.
    pub max_shoppers: u32,
    /// Tags on this demand's metrics besides `store` and `scenario` (the scenario's own).
    pub tags: crate::load::Tags,
}

/// Store `store`'s part of `n` shoppers split over `stores` stores: `⌊n(s+1)/S⌋ − ⌊ns/S⌋`,
/// so the parts add up to `n` and the odd ones out are spread along the store order.
pub fn part_of(n: u32, store: u16, stores: u16) -> u32 {
    let (n, s, total) = (u64::from(n), u64::from(store), u64::from(stores.max(1)));
    (n * (s + 1) / total - n * s / total) as u32
}

/// Under demarcation, each store's starting local quota: `initial` each, at most its
/// store quota and stock, handed out in store order while the chain's quota lasts.
pub fn initial_local(sale: &FlashSaleSpec) -> Vec<u32> {
    let Protocol::Demarcation { initial, .. } = sale.protocol else { return vec![0; sale.store_quota.len()] };
    let mut left = sale.quota;
    sale.store_quota
        .iter()
        .zip(&sale.stock)
        .map(|(&q, &st)| {
            let give = initial.min(q).min(st).min(left);
            left -= give;
            give
        })
        .collect()
}

impl Arrivals for crate::load::executor::OpenArrivals {
    fn next_arrival(&self, now: SimTime, scale: f64, u: f64) -> Option<SimTime> {
        if scale <= 0.0 {
            return None;
        }
        // The process at `scale` times the rate reaches the draw's expected count
        // −ln(1 − u) where the unscaled one reaches −ln(1 − u) / scale.
        if !(0.0..1.0).contains(&u) {
            return None;
        }
        self.after_expected(now, -(1.0 - u).ln() / scale)
    }

    fn expected(&self, from: SimTime, to: SimTime) -> f64 {
        self.expected_arrivals(from, to)
    }
}

/// A constant-rate Poisson process from `from` to `to` (`per_s` shoppers a second).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstantRate {
    pub per_s: f64,
    pub from: SimTime,
    pub to: SimTime,
}

impl Arrivals for ConstantRate {
    fn next_arrival(&self, now: SimTime, scale: f64, u: f64) -> Option<SimTime> {
        let rate = self.per_s * scale;
        if rate <= 0.0 {
            return None;
        }
        let start = now.max(self.from);
        let gap = -(1.0 - u).ln() / rate;
        let at = start.saturating_add(storetwin_engine::SimDuration::from_secs_f64(gap));
        (at < self.to).then_some(at)
    }

    fn expected(&self, from: SimTime, to: SimTime) -> f64 {
        let (a, b) = (from.max(self.from), to.min(self.to));
        if b > a { self.per_s * b.saturating_since(a).as_secs_f64() } else { 0.0 }
    }
}

impl Demand {
    /// About how many journeys this demand starts chain-wide in `[from, to)`: its expected
    /// arrivals, or a closed target's shopper-seconds at about a journey a second.
    pub fn expected_journeys(&self, from: SimTime, to: SimTime) -> f64 {
        match &self.arrivals {
            Source::Open(a) => a.expected(from, to),
            Source::Closed(plan) => {
                let (mut t, mut sum) = (from, 0.0);
                while t < to {
                    let next = plan.next_change(t).map_or(to, |n| n.min(to));
                    sum += f64::from(plan.target_at(t)) * next.saturating_since(t).as_secs_f64();
                    t = next;
                }
                sum
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::executor::OpenArrivals;
    use rand::RngExt;
    use storetwin_engine::SimDuration;

    #[test]
    fn the_parts_of_a_split_add_up_and_differ_by_at_most_one() {
        for n in [0, 1, 7, 99, 100, 101, 5_003] {
            let parts: Vec<u32> = (0..100).map(|s| part_of(n, s, 100)).collect();
            assert_eq!(parts.iter().sum::<u32>(), n);
            let (lo, hi) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
            assert!(hi - lo <= 1, "{n}: {lo}..{hi}");
        }
        assert_eq!(part_of(3, 0, 1), 3);
    }

    /// A hundredth of a ramp (one store of a hundred) gets a hundredth of its arrivals.
    #[test]
    fn a_share_of_an_arrival_process_gets_that_share_of_the_arrivals() {
        let ramp = OpenArrivals::new(SimTime::ZERO, 0.0, &[(SimDuration::from_secs(60), 6000.0)]);
        let expected = ramp.total() / 100.0;
        let mut rng = storetwin_engine::Seed(7).actor_stream(storetwin_engine::ActorId(0));
        let mut n = 0u32;
        let mut now = SimTime::ZERO;
        while let Some(t) = Arrivals::next_arrival(&ramp, now, 0.01, rng.random::<f64>()) {
            n += 1;
            now = t;
        }
        let sd = expected.sqrt();
        assert!((f64::from(n) - expected).abs() < 4.0 * sd, "{n} arrivals, expected {expected:.0}");
    }
}
