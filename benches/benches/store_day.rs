//! The store-day budget: `scenarios/weekday.toml` (about 10,000 shoppers over 12 hours,
//! walking cell by cell) must simulate in under 5 s of wall time.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use storetwin_actors::store::day::run_day;
use storetwin_engine::Seed;

fn weekday(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/weekday.toml");
    let scenario = storetwin_scenarios::load(&path).expect("weekday.toml loads");
    let events = run_day(&scenario.world, Seed(scenario.seed)).expect("runs").events;
    let mut group = c.benchmark_group("store_day");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("weekday", |b| {
        b.iter(|| run_day(&scenario.world, Seed(scenario.seed)).expect("runs").event_hash)
    });
    group.finish();
}

criterion_group!(benches, weekday);
criterion_main!(benches);
