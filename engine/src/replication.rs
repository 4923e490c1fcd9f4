//! Independent replications of a run, spread over threads.
//!
//! Replication `i` runs with seed `base.replication(i)` (replication 0 is `base` itself).
//! Which thread runs which replication is decided by whoever is free first, but a
//! replication's result depends only on its index and seed, and results are returned in
//! index order: so any thread count gives identical results.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::Seed;

/// Runs `count` replications on up to `threads` threads and returns their results in
/// replication order. `run` gets the replication index and its seed.
///
/// A panic in `run` is propagated to the caller once all threads have stopped.
pub fn run_replications<R, F>(count: u32, threads: usize, base: Seed, run: F) -> Vec<R>
where
    R: Send,
    F: Fn(u32, Seed) -> R + Sync,
{
    let threads = threads.clamp(1, count.max(1) as usize);
    if threads == 1 {
        return (0..count).map(|i| run(i, base.replication(i))).collect();
    }
    let next = AtomicU32::new(0);
    let mut indexed: Vec<(u32, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return done;
                        }
                        done.push((i, run(i, base.replication(i))));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    indexed.sort_unstable_by_key(|(i, _)| *i);
    indexed.into_iter().map(|(_, r)| r).collect()
}
