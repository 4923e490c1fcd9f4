//! Runs one day of a chain file as fast as possible and prints what it did: the figure
//! behind the chain-day budget without the CLI's reports (for profiling).
//!
//! `chain-day FILE.toml [THREADS]`

use std::time::Instant;

use storetwin_actors::chain::run::run_chain;
use storetwin_engine::Seed;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: chain-day FILE.toml [THREADS]");
        std::process::exit(2);
    };
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(1);
    let chain = match storetwin_scenarios::Chain::load(std::path::Path::new(&path)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            std::process::exit(104);
        }
    };
    let started = Instant::now();
    match run_chain(&chain.spec, Seed(chain.seed), threads) {
        Ok(run) => {
            let k = run.kpis();
            println!(
                "{} stores, {} shoppers in store, {} online orders, {} events, {} windows, {} messages, \
                 event_hash {}, {:.2} s wall on {threads} threads",
                k.chain.stores,
                k.chain.shoppers_in_store,
                k.chain.online_orders,
                run.events,
                run.windows,
                run.messages,
                run.event_hash,
                started.elapsed().as_secs_f64()
            );
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
