//! `storetwin load CHAIN.toml`: a k6-like load test of the chain's flash sale. The file's
//! `[load]` scenarios bring the shoppers (split equally over the stores), its
//! `[load.thresholds]` decide the exit code, and the invariants (no oversell, stock and
//! money conserved) are checked whatever the thresholds say.
//!
//! Exit codes: 0 every threshold passed; 99 a threshold was crossed; 104 the file is not a
//! valid load test; 111 an invariant broke (the run stopped; it names the invariant and
//! the seed); 1 anything else (an output file could not be written).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use storetwin_actors::chain::flash::desk::metric;
use storetwin_actors::chain::flash::{Demand, Journey};
use storetwin_actors::chain::run::{ChainError, ChainRun, run_chain};
use storetwin_actors::load::executor::Schedule;
use storetwin_actors::load::{
    EXIT_INVALID_SCENARIO, EXIT_INVARIANT_BROKEN, LoadSpec, Registry, Tags, ThresholdResult, exit_code,
};
use storetwin_engine::{Seed, SimDuration};
use storetwin_report::html::{LoadTest, SaleFigures, StoreTake, write_load_report};
use storetwin_report::load::{InvariantLine, LoadSummary, PerSecond, Row, Section, render, units_taken};
use storetwin_scenarios::Chain;

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// The load test: a chain file with a [flash_sale] and a [load] section.
    pub scenario: PathBuf,
    /// Directory for summary.json, timeseries.csv and report.html (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the run; default: [load] seed, else the chain's run.seed.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Threads for the chain's shards (default: one per core). Results are identical for
    /// any count.
    #[arg(long, value_name = "T", value_parser = crate::run::threads)]
    pub threads: Option<usize>,
}

/// k6's `gracefulStop`: shoppers still in flight get this long after the last scenario.
const GRACEFUL_STOP: SimDuration = SimDuration::from_secs(30);

fn invalid(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID_SCENARIO)
}

/// The demand of each load scenario, or why the file is not a load test this can run.
fn demand(load: &LoadSpec) -> Result<Vec<Demand>, String> {
    let mut out = Vec::new();
    for (name, scenario) in &load.scenarios {
        if scenario.journey == Journey::OrdinaryShopping {
            return Err(format!(
                "load scenario {name}: journey \"ordinary_shopping\" is not built yet (the stores' own shoppers \
                 come from their scenario files and run during the load test anyway)"
            ));
        }
        let arrivals = match scenario.schedule() {
            Schedule::Open(arrivals) => arrivals,
            Schedule::Closed(_) => {
                return Err(format!(
                    "load scenario {name}: executor \"{}\" (a closed model) is not built yet for flash-sale \
                     journeys; use ramping-arrival-rate or constant-arrival-rate",
                    scenario.executor.name()
                ));
            }
        };
        out.push(Demand {
            name: name.clone(),
            journey: scenario.journey,
            arrivals: Arc::new(arrivals),
            max_shoppers: scenario.max_shoppers.unwrap_or(u32::MAX),
            tags: scenario.tags.clone(),
        });
    }
    if out.is_empty() {
        return Err("[load] has no scenarios: add one under [load.scenarios.NAME]".into());
    }
    Ok(out)
}

pub fn run(args: &LoadArgs) -> ExitCode {
    let chain = match Chain::load(&args.scenario) {
        Ok(c) => c,
        Err(e) => return invalid(format!("{:?}", miette::Report::new(e))),
    };
    let Some(load) = chain.load.clone() else {
        return invalid(format!("{} has no [load] section: it is not a load test", args.scenario.display()));
    };
    if chain.spec.flash.is_none() {
        return invalid(format!(
            "{} has no [flash_sale]: a load test runs shoppers against a flash sale",
            args.scenario.display()
        ));
    }
    let demand = match demand(&load) {
        Ok(d) => d,
        Err(e) => return invalid(e),
    };
    match run_load(args, &chain, &load, demand) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_load(args: &LoadArgs, chain: &Chain, load: &LoadSpec, demand: Vec<Demand>) -> anyhow::Result<u8> {
    let mut spec = chain.spec.clone();
    spec.demand = demand;
    let end = load.end().saturating_add(GRACEFUL_STOP);
    spec.end_at(end.saturating_since(storetwin_engine::SimTime::ZERO));
    let seed = Seed(args.seed.or(load.seed).unwrap_or(chain.seed));
    let threads = args.threads.unwrap_or_else(crate::run::default_threads);
    let sale = spec.flash.clone().expect("checked");
    say!(
        "{}: flash sale {} ({} units, {} protocol) on {} stores, {} load scenario(s), seed {}, {} thread(s)",
        chain.path.display(),
        sale.name,
        sale.quota,
        sale.protocol.name(),
        spec.stores.len(),
        load.scenarios.len(),
        seed,
        threads
    )?;
    say!(
        "  latencies are simulated time; the run covers the chain's first {:.1} min",
        spec.duration.as_secs_f64() / 60.0
    )?;
    let started = Instant::now();
    let result = run_chain(&spec, seed, threads);
    let wall = started.elapsed().as_secs_f64();
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            if let Some(invariant) = broken(&e) {
                let summary = LoadSummary {
                    thresholds: Vec::new(),
                    invariants: vec![InvariantLine {
                        name: invariant.to_string(),
                        held: false,
                        detail: Some(e.to_string()),
                    }],
                    sections: vec![Section {
                        title: "ENGINE".into(),
                        rows: vec![Row::text("wall", format!("{wall:.2} s (the run stopped)"))],
                    }],
                };
                say!("\n{}", render(&summary))?;
                eprintln!("error: {e}");
                return Ok(EXIT_INVARIANT_BROKEN);
            }
            return Err(anyhow::Error::new(e));
        }
    };
    let mut registry = run.platform.flash.as_ref().expect("a flash sale").registry.clone();
    for store in &run.stores {
        if let Some(desk) = &store.flash {
            registry.merge(&desk.registry).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
    }
    let elapsed = run.end.saturating_since(storetwin_engine::SimTime::ZERO);
    let thresholds = load.evaluate(&registry, elapsed);
    let summary = summary(&run, &registry, load, &thresholds, wall, threads);
    say!("\n{}", render(&summary))?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let path = out.join("summary.json");
        storetwin_report::summary::write_summary(
            &path,
            &summary_json(&run, &registry, &thresholds, seed, wall, threads),
        )?;
        let seconds = PerSecond::new(&registry, load);
        let ts = out.join("timeseries.csv");
        storetwin_report::load::write_timeseries(&ts, &seconds)?;
        let page = out.join("report.html");
        let scenario = chain.path.display().to_string();
        let test = LoadTest {
            scenario: &scenario,
            scenario_hash: &chain.hash,
            seed: seed.0,
            threads,
            open_at_s: spec.open_at_s,
            end: run.end,
            events: run.events,
            event_hash: run.event_hash.to_string(),
            wall_s: wall,
            load,
        };
        write_load_report(&page, &test, &sale_figures(&run), &store_takes(&run), &summary, &registry, &seconds)?;
        say!("  wrote {}, {} and {}", path.display(), ts.display(), page.display())?;
    }
    let code = exit_code(true, &thresholds);
    if code != 0 {
        eprintln!("some thresholds were crossed (exit code {code})");
    }
    Ok(code)
}

fn broken(e: &ChainError) -> Option<&'static str> {
    match e {
        ChainError::Invariant { invariant, .. } => Some(invariant),
        ChainError::Platform(error) => error.invariant(),
        ChainError::Store { error: storetwin_actors::store::day::DayError::Sim(error), .. } => error.invariant(),
        ChainError::Store { error: storetwin_actors::store::day::DayError::Invariant { invariant, .. }, .. } => {
            Some(invariant)
        }
        _ => None,
    }
}

#[derive(Default)]
struct Totals {
    grabs: u64,
    got: u64,
    offered: u64,
    waitlisted: u64,
    refused: u64,
    failed: u64,
    retries: u64,
    timeouts: u64,
    orphaned: u64,
    paid: u64,
    lapsed: u64,
    collected: u64,
    arrived: u64,
    dropped: u64,
    sold: u64,
    packed: u64,
    local_sold_out: u64,
}

fn totals(run: &ChainRun) -> Totals {
    let mut t = Totals::default();
    for d in run.stores.iter().filter_map(|s| s.flash.as_deref()) {
        let k = &d.kpis;
        t.grabs += k.grabs;
        t.got += k.got;
        t.offered += k.offered;
        t.waitlisted += k.waitlisted;
        t.refused += k.refused;
        t.failed += k.failed;
        t.retries += k.retries;
        t.timeouts += k.timeouts;
        t.orphaned += k.orphaned;
        t.paid += k.paid;
        t.lapsed += k.lapsed;
        t.collected += k.collected;
        t.arrived += k.arrived.iter().sum::<u64>();
        t.dropped += k.dropped.iter().sum::<u64>();
        t.sold += u64::from(k.sold);
        t.packed += u64::from(k.packed);
        t.local_sold_out += k.local_sold_out;
    }
    t
}

/// The sale's figures for the page, chain-wide.
fn sale_figures(run: &ChainRun) -> SaleFigures {
    let h = run.platform.flash.as_ref().expect("a flash sale");
    let t = totals(run);
    let elapsed = run.end.saturating_since(storetwin_engine::SimTime::ZERO);
    SaleFigures {
        name: h.sale.name.clone(),
        protocol: h.sale.protocol.name().to_string(),
        start: h.sale.start,
        quota: h.sale.quota,
        sellout: h.ledger.kpis.sold_out_at.map(|at| at.saturating_since(h.sale.start)),
        arrived: t.arrived,
        dropped: t.dropped,
        grabs: t.grabs,
        got: t.got,
        offered: t.offered,
        waitlisted: t.waitlisted,
        retries: t.retries,
        timeouts: t.timeouts,
        failed: t.failed,
        sold: t.sold,
        reserved: t.packed,
        expired: t.lapsed,
        peak_taken: u64::from(h.ledger.kpis.peak_taken).max(t.sold + t.packed),
        holder_utilisation: h.utilisation(elapsed),
        holder_max_queue: h.kpis.max_queue,
    }
}

/// Each store's units sold and still reserved at the end, against its store quota.
fn store_takes(run: &ChainRun) -> Vec<StoreTake> {
    let h = run.platform.flash.as_ref().expect("a flash sale");
    run.stores
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let d = s.flash.as_deref()?;
            Some(StoreTake {
                name: s.name.clone(),
                sold: d.kpis.sold,
                reserved: d.kpis.packed,
                quota: h.sale.store_quota.get(i).copied().unwrap_or(0),
            })
        })
        .collect()
}

fn summary(
    run: &ChainRun,
    registry: &Registry,
    load: &LoadSpec,
    thresholds: &[ThresholdResult],
    wall: f64,
    threads: usize,
) -> LoadSummary {
    let h = run.platform.flash.as_ref().expect("a flash sale");
    let t = totals(run);
    let stats = &load.summary_trend_stats;
    let elapsed = run.end.saturating_since(storetwin_engine::SimTime::ZERO);
    let all = Tags::new();
    let metric_row = |name: &str| registry.aggregate(name, &all).map(|m| Row::from_metric(name, &m, stats, elapsed));
    let quota = h.sale.quota;
    let taken = t.sold + t.packed;
    let sellout = h.ledger.kpis.sold_out_at.map_or("not sold out".to_string(), |at| {
        format!("{:.1} s after the start", at.saturating_since(h.sale.start).as_secs_f64())
    });
    let flash = vec![
        Row::text("grabs", format!("{} ({} retries, {} timeouts)", t.grabs, t.retries, t.timeouts)),
        Row::text(
            "got a unit",
            format!("{} at the grab, {} from the waitlist ({} waitlisted)", t.got, t.offered, t.waitlisted),
        ),
        Row::text(
            "refused",
            format!(
                "{} (sold out {}, store sold out {}, member limit {}, not open yet {})",
                t.refused,
                h.ledger.kpis.refused_sold_out,
                h.ledger.kpis.refused_store_sold_out,
                h.ledger.kpis.refused_member_limit,
                h.ledger.kpis.refused_not_open
            ),
        ),
        Row::text("sold", format!("{} of a quota of {quota} ({} reserved at the end)", t.sold, t.packed)),
        Row::text("expired unpaid", format!("{} (orphaned by retries: {})", t.lapsed, t.orphaned)),
        Row::text("collected", t.collected.to_string()),
        Row::text("sell-out", sellout),
        Row::text(
            "phantom sold-out",
            format!("{} (bucket leftovers {})", h.ledger.kpis.phantom_sold_out, h.bucket_leftovers()),
        ),
        Row::text(
            "undersell window",
            format!(
                "{:.0} unit-s (longest expiry lag {:.1} s)",
                h.ledger.kpis.undersell_unit_s, h.ledger.kpis.max_expiry_lag_s
            ),
        ),
    ];
    let mut shoppers = vec![
        Row::text("arrived", t.arrived.to_string()),
        Row::text("dropped", format!("{} (max_shoppers in flight)", t.dropped)),
    ];
    shoppers.extend(
        [metric::GRAB_LATENCY, metric::GRAB_FAILED, metric::GRAB_SOLD_OUT, metric::RESERVATION_EXPIRED]
            .iter()
            .filter_map(|m| metric_row(m)),
    );
    let mut holder = Vec::new();
    holder.extend(metric_row(metric::STOCK_QUEUE_WAIT));
    holder.push(Row::text(
        "utilisation",
        format!(
            "{:.1}% over the run ({} calls, longest queue {})",
            100.0 * h.utilisation(elapsed),
            h.kpis.calls,
            h.kpis.max_queue
        ),
    ));
    holder.push(Row::text(
        "retries seen",
        format!(
            "{} ({} answers lost, {} deduplicated by key)",
            h.kpis.retries_seen, h.kpis.answers_lost, h.ledger.kpis.deduplicated
        ),
    ));
    if t.local_sold_out > 0 || h.kpis.quota_requests > 0 {
        holder.push(Row::text(
            "store quotas",
            format!(
                "{} requests, {} units granted, {} local sold-outs, pool left {}",
                h.kpis.quota_requests, h.kpis.quota_granted, t.local_sold_out, h.pool
            ),
        ));
    }
    let engine = vec![
        Row::text("events", run.events.to_string()),
        Row::text("wall", format!("{wall:.2} s on {threads} thread(s)")),
        Row::text(
            "simulated",
            format!(
                "{:.1} min ({:.0}x real time)",
                elapsed.as_secs_f64() / 60.0,
                elapsed.as_secs_f64() / wall.max(1e-9)
            ),
        ),
        Row::text("event_hash", run.event_hash.to_string()),
    ];
    LoadSummary {
        thresholds: thresholds.to_vec(),
        invariants: vec![
            InvariantLine {
                name: "no oversell: sold + reserved <= quota, per store <= store quota and stock".into(),
                held: taken <= u64::from(quota),
                // The holder's count, or the stores' books second by second where they
                // hold the quota (demarcation).
                detail: Some(format!(
                    "at most {} of {quota} taken at once",
                    units_taken(registry)
                        .into_iter()
                        .fold(u64::from(h.ledger.kpis.peak_taken).max(taken), |m, t| m.max(t.max(0) as u64))
                )),
            },
            InvariantLine { name: "stock conserved per SKU and store".into(), held: true, detail: None },
            InvariantLine {
                name: "money: payments = sales - discounts; settlement reconciles".into(),
                held: true,
                detail: None,
            },
        ],
        sections: vec![
            Section { title: "FLASH SALE".into(), rows: flash },
            Section { title: "SHOPPERS".into(), rows: shoppers },
            Section { title: "STOCK HOLDER".into(), rows: holder },
            Section { title: "ENGINE".into(), rows: engine },
        ],
    }
}

fn summary_json(
    run: &ChainRun,
    registry: &Registry,
    thresholds: &[ThresholdResult],
    seed: Seed,
    wall: f64,
    threads: usize,
) -> serde_json::Value {
    let h = run.platform.flash.as_ref().expect("a flash sale");
    let t = totals(run);
    let all = Tags::new();
    let trend = |name: &str| {
        registry.aggregate(name, &all).and_then(|m| match m {
            storetwin_actors::load::Metric::Trend(tr) => {
                let ms = |s| tr.stat(s).map(|ns| ns / 1e6);
                use storetwin_actors::load::TrendStat as S;
                use storetwin_actors::load::metrics::Percentile as P;
                Some(serde_json::json!({
                    "count": tr.count(), "avg_ms": ms(S::Avg), "min_ms": ms(S::Min), "med_ms": ms(S::Med),
                    "p90_ms": ms(S::P(P::whole(90))), "p95_ms": ms(S::P(P::whole(95))), "p99_ms": ms(S::P(P::whole(99))),
                    "max_ms": ms(S::Max),
                }))
            }
            _ => None,
        })
    };
    let rate = |name: &str| registry.aggregate(name, &all).and_then(|m| m.rate());
    let per_store: Vec<serde_json::Value> = run
        .stores
        .iter()
        .filter_map(|s| {
            let d = s.flash.as_deref()?;
            Some(serde_json::json!({
                "store": s.name, "grabs": d.kpis.grabs, "got": d.kpis.got + d.kpis.offered, "sold": d.kpis.sold,
                "reserved_at_end": d.kpis.packed, "collected": d.kpis.collected, "failed": d.kpis.failed,
            }))
        })
        .collect();
    serde_json::json!({
        "thresholds": thresholds.iter().map(|r| serde_json::json!({
            "metric": r.metric, "threshold": r.threshold, "passed": r.passed,
            "observed": storetwin_report::load::observed_text(r), "abort_on_fail": r.abort_on_fail,
        })).collect::<Vec<_>>(),
        "passed": thresholds.iter().all(|r| r.passed),
        "flash_sale": {
            "name": h.sale.name, "protocol": h.sale.protocol.name(), "quota": h.sale.quota,
            "grabs": t.grabs, "got_at_grab": t.got, "got_from_waitlist": t.offered, "waitlisted": t.waitlisted,
            "refused": t.refused, "sold": t.sold, "reserved_at_end": t.packed, "expired": t.lapsed,
            "orphaned": t.orphaned, "collected": t.collected,
            "sellout_s": h.ledger.kpis.sold_out_at.map(|at| at.saturating_since(h.sale.start).as_secs_f64()),
            "phantom_sold_out": h.ledger.kpis.phantom_sold_out, "bucket_leftovers": h.bucket_leftovers(),
            "undersell_unit_s": h.ledger.kpis.undersell_unit_s, "oversold": 0,
            "stores": per_store,
        },
        "shoppers": { "arrived": t.arrived, "dropped": t.dropped, "grab_latency": trend(metric::GRAB_LATENCY),
            "grab_failed_rate": rate(metric::GRAB_FAILED), "grab_sold_out_rate": rate(metric::GRAB_SOLD_OUT),
            "reservation_expired_rate": rate(metric::RESERVATION_EXPIRED) },
        "stock_holder": { "queue_wait": trend(metric::STOCK_QUEUE_WAIT), "calls": h.kpis.calls,
            "retries_seen": h.kpis.retries_seen, "answers_lost": h.kpis.answers_lost,
            "deduplicated": h.ledger.kpis.deduplicated, "max_queue": h.kpis.max_queue,
            "utilisation": h.utilisation(run.end.saturating_since(storetwin_engine::SimTime::ZERO)) },
        "engine": { "events": run.events, "event_hash": run.event_hash.to_string(), "seed": seed.0,
            "threads": threads, "wall_s": wall, "windows": run.windows, "cross_shard_messages": run.messages },
    })
}
