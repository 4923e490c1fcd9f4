//! Criterion benches of the kernel's hot path: PHOLD events through the full kernel
//! (queue, per-actor streams, order keys, event hash) next to the bare-heap floor.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use storetwin_benches::{BareKey, run_bare};
use storetwin_engine::phold::{Phold, PholdConfig};
use storetwin_engine::{RunLimit, Seed, Simulation};

const EVENTS: u64 = 200_000;

fn phold(c: &mut Criterion) {
    let mut group = c.benchmark_group("phold");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(20);
    for lps in [1024u32, 65_536] {
        group.bench_with_input(BenchmarkId::new("storetwin", lps), &lps, |b, &lps| {
            b.iter(|| {
                let mut sim = Simulation::new(Phold::new(PholdConfig::ross(lps)), Seed(1));
                sim.run(RunLimit::events(EVENTS)).expect("PHOLD runs");
                sim.event_hash()
            })
        });
        group.bench_with_input(BenchmarkId::new("bare-heap", lps), &lps, |b, &lps| {
            b.iter(|| run_bare(BareKey::Tuple, lps, EVENTS, 0.25, 1))
        });
    }
    group.finish();
}

criterion_group!(benches, phold);
criterion_main!(benches);
