//! The floor a sequential kernel is measured against: PHOLD as a bare event loop over
//! `std::collections::BinaryHeap`, with none of a kernel's guarantees (no per-actor random
//! streams, no documented tie order, no event hash, no messages).
//!
//! Same PHOLD as `storetwin_engine::phold` (ROSS defaults, integer nanosecond time, the
//! same Exp(1) + 1 delays), so events per second compare directly.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64Mcg;
use storetwin_engine::SimDuration;

/// How the bare loop keys its heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BareKey {
    /// `Reverse((time_ns, lp))`: the obvious loop.
    Tuple,
    /// `Reverse(time_ns << 64 | lp)` in one `u128`: the same loop with a cheaper compare.
    Packed,
}

/// What a bare run did: events processed and the time of the last one (ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BareRun {
    pub events: u64,
    pub end_ns: u64,
}

#[inline(always)]
fn delay_ns(rng: &mut Pcg64Mcg) -> u64 {
    let exp: f64 = Exp1.sample(rng);
    // The kernel's own conversion, so both loops do the same model arithmetic.
    SimDuration::from_secs_f64(exp + 1.0).as_nanos()
}

#[inline(always)]
fn destination(rng: &mut Pcg64Mcg, lp: u32, lps: u32, remote: f64) -> u32 {
    if rng.random::<f64>() < remote { rng.random_range(0..lps) } else { lp }
}

/// Runs `events` PHOLD events over `lps` LPs.
pub fn run_bare(key: BareKey, lps: u32, events: u64, remote: f64, seed: u64) -> BareRun {
    let mut rng = Pcg64Mcg::new(u128::from(seed));
    match key {
        BareKey::Tuple => {
            let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::with_capacity(lps as usize);
            for lp in 0..lps {
                heap.push(Reverse((delay_ns(&mut rng), lp)));
            }
            let mut end_ns = 0;
            for _ in 0..events {
                let Some(Reverse((t, lp))) = heap.pop() else { break };
                end_ns = t;
                let to = destination(&mut rng, lp, lps, remote);
                heap.push(Reverse((t + delay_ns(&mut rng), to)));
            }
            BareRun { events, end_ns }
        }
        BareKey::Packed => {
            let mut heap: BinaryHeap<Reverse<u128>> = BinaryHeap::with_capacity(lps as usize);
            for lp in 0..lps {
                heap.push(Reverse((u128::from(delay_ns(&mut rng)) << 64) | u128::from(lp)));
            }
            let mut end_ns = 0;
            for _ in 0..events {
                let Some(Reverse(key)) = heap.pop() else { break };
                let (t, lp) = ((key >> 64) as u64, key as u32);
                end_ns = t;
                let to = destination(&mut rng, lp, lps, remote);
                heap.push(Reverse((u128::from(t + delay_ns(&mut rng)) << 64) | u128::from(to)));
            }
            BareRun { events, end_ns }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_keys_run_the_same_model() {
        // Same RNG sequence and a total order in both (ties in time broken by lp), so the
        // two heaps process the same events.
        let a = run_bare(BareKey::Tuple, 100, 20_000, 0.25, 3);
        let b = run_bare(BareKey::Packed, 100, 20_000, 0.25, 3);
        assert_eq!(a, b);
        // Mean delay 2 units: time advances about 2 units per event per LP.
        let per_lp = a.end_ns as f64 / 1e9 / (20_000.0 / 100.0);
        assert!((per_lp - 2.0).abs() < 0.15, "{per_lp}");
    }
}
