//! `phold-bare --lps N --events E [--seed S] [--remote P] [--key tuple|packed]`: the bare
//! `BinaryHeap` PHOLD loop, printing one JSON line like the other peers.

use std::time::Instant;

use storetwin_benches::{BareKey, run_bare};

fn main() {
    let mut lps = 1024u32;
    let mut events = 10_000_000u64;
    let mut seed = 1u64;
    let mut remote = 0.25f64;
    let mut key = BareKey::Tuple;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        let bad = || -> ! {
            eprintln!("phold-bare: bad value {value:?} for {}", pair[0]);
            std::process::exit(2)
        };
        match pair[0].as_str() {
            "--lps" => lps = value.parse().unwrap_or_else(|_| bad()),
            "--events" => events = value.parse().unwrap_or_else(|_| bad()),
            "--seed" => seed = value.parse().unwrap_or_else(|_| bad()),
            "--remote" => remote = value.parse().unwrap_or_else(|_| bad()),
            "--key" => {
                key = match value {
                    "tuple" => BareKey::Tuple,
                    "packed" => BareKey::Packed,
                    _ => bad(),
                }
            }
            other => {
                eprintln!("phold-bare: unknown argument {other}; use --lps --events --seed --remote --key");
                std::process::exit(2)
            }
        }
    }
    let started = Instant::now();
    let run = run_bare(key, lps, events, remote, seed);
    let wall = started.elapsed().as_secs_f64();
    let peer = match key {
        BareKey::Tuple => "bare-heap",
        BareKey::Packed => "bare-heap-u128",
    };
    println!(
        "{{\"peer\":\"{peer}\",\"lps\":{lps},\"events\":{},\"wall_s\":{wall},\"events_per_sec\":{}}}",
        run.events,
        run.events as f64 / wall.max(1e-9)
    );
}
