//! `storetwin load CHAIN.toml`: a k6-like load test of the chain's flash sale. The file's
//! `[load]` scenarios bring the shoppers (split equally over the stores), its
//! `[load.thresholds]` decide the exit code, and the invariants (no oversell, stock and
//! money conserved) are checked whatever the thresholds say.
//!
//! The run ends 30 s (k6's graceful stop) after the last load scenario, or after the last
//! pre-order tier's ship date if that is later, so that every tier's window closes (and a
//! tier below its minimum is cancelled and refunded) and every confirmed tier ships within
//! the run. The stores close at their time; the centres and the app's shoppers go on.
//!
//! Exit codes: 0 every threshold passed; 99 a threshold was crossed; 104 the file is not a
//! valid load test; 111 an invariant broke (the run stopped; it names the invariant and
//! the seed); 1 anything else (an output file could not be written).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use storetwin_actors::chain::flash::Demand;
use storetwin_actors::chain::flash::desk::metric;
use storetwin_actors::chain::run::{ChainError, ChainRun, Checkpoint, Observer, run_chain_observed};
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

/// The run is looked at every simulated second (the progress line), and the
/// `abort_on_fail` thresholds are judged every 2 s, as k6 judges them.
const CHECKPOINT: SimDuration = SimDuration::from_secs(1);
const ABORT_EVERY: SimDuration = SimDuration::from_secs(2);

/// What the load test watches while the chain runs: the progress line on a terminal, and
/// the `abort_on_fail` thresholds. It reads the shards between windows and never changes
/// them, so a watched run is the same run (the same `event_hash`).
struct Watch<'a> {
    load: &'a LoadSpec,
    quota: u32,
    /// Time of day of the run's start (the chain's opening), in seconds.
    open_at_s: u32,
    abort_metrics: std::collections::BTreeSet<String>,
    started: Instant,
    /// Wall time of the last progress line (`None`: not on a terminal, no line).
    shown: Option<f64>,
    /// The thresholds that stopped the run.
    aborted: Vec<ThresholdResult>,
}

impl<'a> Watch<'a> {
    fn new(load: &'a LoadSpec, spec: &storetwin_actors::chain::spec::ChainSpec, started: Instant) -> Self {
        use std::io::IsTerminal as _;
        Watch {
            load,
            quota: spec.flash.as_ref().map_or(0, |s| s.quota),
            open_at_s: spec.open_at_s,
            abort_metrics: load.abort_metrics(),
            started,
            shown: std::io::stderr().is_terminal().then_some(f64::NEG_INFINITY),
            aborted: Vec::new(),
        }
    }

    fn look(&mut self, cp: &Checkpoint) -> std::ops::ControlFlow<()> {
        if let Some(last) = self.shown {
            let wall = self.started.elapsed().as_secs_f64();
            if wall - last >= 0.25 {
                self.shown = Some(wall);
                let (sold, reserved) = cp.taken();
                eprint!(
                    "\r  sim {}  wall {wall:.1} s  shoppers {}  sold {} / {} (+{} reserved)  events {}   ",
                    clock(self.open_at_s, cp.now),
                    thousands(cp.shoppers()),
                    thousands(sold),
                    thousands(u64::from(self.quota)),
                    thousands(reserved),
                    thousands(cp.events())
                );
            }
        }
        // The totals come at the checkpoints that are whole multiples of ABORT_EVERY.
        if self.abort_metrics.is_empty() || cp.looks.iter().all(|l| l.totals.is_none()) {
            return std::ops::ControlFlow::Continue(());
        }
        // A metric name of two kinds: the end-of-run evaluation reports it.
        let Ok(registry) = cp.totals() else { return std::ops::ControlFlow::Continue(()) };
        self.aborted = self.load.aborting(&registry, cp.now.saturating_since(storetwin_engine::SimTime::ZERO));
        if self.aborted.is_empty() { std::ops::ControlFlow::Continue(()) } else { std::ops::ControlFlow::Break(()) }
    }

    /// Clears the progress line, if one was shown.
    fn clear_line(&self) {
        if self.shown.is_some_and(f64::is_finite) {
            eprint!("\r{:100}\r", "");
        }
    }
}

/// The time of day `t` into a run that starts at `open_at_s`, `hh:mm:ss`.
fn clock(open_at_s: u32, t: storetwin_engine::SimTime) -> String {
    let s = u64::from(open_at_s) + t.as_nanos() / 1_000_000_000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn invalid(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID_SCENARIO)
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
    let demand = match storetwin_actors::load::demand(&load) {
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
    let spec = storetwin_actors::load::load_spec(&chain.spec, load, demand);
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
    let day = spec.stores.iter().map(|s| s.world.duration).max().unwrap_or(spec.duration);
    if spec.duration > day {
        say!(
            "  latencies are simulated time; the stores trade for {} and the run goes on to {} (pre-order windows \
             and ship dates)",
            span(day),
            span(spec.duration)
        )?;
    } else {
        say!("  latencies are simulated time; the run covers the chain's first {}", span(spec.duration))?;
    }
    let started = Instant::now();
    let mut watch = Watch::new(load, &spec, started);
    let metrics = watch.abort_metrics.clone();
    let mut observe = |cp: &Checkpoint| watch.look(cp);
    let observer = Observer { every: CHECKPOINT, metrics, totals_every: ABORT_EVERY, observe: &mut observe };
    let result = run_chain_observed(&spec, seed, threads, Some(observer));
    let wall = started.elapsed().as_secs_f64();
    let aborted = std::mem::take(&mut watch.aborted);
    watch.clear_line();
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
    if let Some(at) = run.stopped_at {
        let names: Vec<String> = aborted.iter().map(|r| format!("{} {}", r.metric, r.threshold)).collect();
        say!(
            "  stopped {:.0} s into the run (simulated): abort_on_fail threshold(s) crossed: {}",
            at.saturating_since(storetwin_engine::SimTime::ZERO).as_secs_f64(),
            names.join(", ")
        )?;
    }
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let path = out.join("summary.json");
        storetwin_report::summary::write_summary(
            &path,
            &summary_json(&run, &registry, load, (&thresholds, &aborted, &summary.invariants), (seed, wall, threads)),
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

/// A length of simulated time for a person: `10.5 min`, `12.0 h`, `24.0 days`.
fn span(d: SimDuration) -> String {
    let s = d.as_secs_f64();
    if s >= 2.0 * 86_400.0 {
        format!("{:.1} days", s / 86_400.0)
    } else if s >= 2.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

/// A time after the sale's start: as a chain file writes it if it is a whole number of a
/// unit (`+20d`, `+36h`, `+0s`), else in days, hours or minutes (`+8.31d`).
fn after_start(at: storetwin_engine::SimTime, start: storetwin_engine::SimTime) -> String {
    let d = at.saturating_since(start);
    let text = storetwin_scenarios::duration::format_duration(d);
    if !text.contains('.') {
        return format!("+{text}");
    }
    let s = d.as_secs_f64();
    if s >= 86_400.0 {
        format!("+{:.2}d", s / 86_400.0)
    } else if s >= 3600.0 {
        format!("+{:.2}h", s / 3600.0)
    } else {
        format!("+{:.1}min", s / 60.0)
    }
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
    preorder_calls: u64,
    preordered: u64,
    preorder_no_tier: u64,
    preorder_orphaned: u64,
    preorder_refunds: u64,
    preorder_refunded: storetwin_actors::money::Cents,
    preorder_shipped: u64,
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
        t.preorder_calls += k.preorder_calls;
        t.preordered += k.preordered;
        t.preorder_no_tier += k.preorder_no_tier;
        t.preorder_orphaned += k.preorder_orphaned;
        t.preorder_refunds += k.preorder_refunds;
        t.preorder_refunded += k.preorder_refunded;
        t.preorder_shipped += k.preorder_shipped;
    }
    t
}

/// The PRE-ORDERS section: each tier (window, ship date, price, orders against its minimum
/// and maximum, its state, refunds), then the shoppers and the money.
fn preorder_rows(h: &storetwin_actors::chain::flash::holder::StockHolder, t: &Totals) -> Vec<Row> {
    let p = &h.preorders;
    let start = h.sale.start;
    let mut rows: Vec<Row> = p
        .tiers
        .iter()
        .zip(&p.books)
        .map(|(tier, book)| {
            let full = book.full_at.map_or(String::new(), |at| format!(", full at {}", after_start(at, start)));
            Row::text(
                &format!("tier {}", tier.name),
                format!(
                    "orders {} to {}, ships {}, {} each: {} orders (min {}, max {}{full}), {}, {} refunds ({})",
                    after_start(tier.opens, start),
                    after_start(tier.closes, start),
                    after_start(tier.ships, start),
                    tier.price,
                    book.orders.len(),
                    tier.min,
                    tier.max,
                    book.state.name(),
                    book.refunds,
                    book.refunded
                ),
            )
        })
        .collect();
    rows.push(Row::text(
        "pre-order shoppers",
        format!(
            "{} called ({} retries seen by the holder), {} ordered, {} found no tier open and not full and \
             bought now instead (in the grabs above), {} orders never heard of (late answers)",
            t.preorder_calls,
            p.kpis.calls.saturating_sub(t.preorder_calls),
            t.preordered,
            t.preorder_no_tier,
            t.preorder_orphaned
        ),
    ));
    rows.push(Row::text(
        "pre-order money",
        format!(
            "{} orders paid {}, {} refunded ({} refunds reached their stores), {} shipped",
            p.orders(),
            p.paid(),
            p.refunded(),
            t.preorder_refunds,
            t.preorder_shipped
        ),
    ));
    rows
}

/// When the sale sold out, in seconds after its start, and whether to the nanosecond (the
/// holder saw its last unit go) or to the second (under demarcation the stores hold the
/// quota: the first second at whose end the stores' units taken reach it).
fn sellout(run: &ChainRun, registry: &Registry) -> Option<(f64, bool)> {
    let h = run.platform.flash.as_ref()?;
    if let Some(at) = h.ledger.kpis.sold_out_at {
        return Some((at.saturating_since(h.sale.start).as_secs_f64(), true));
    }
    let quota = i64::from(h.sale.quota);
    let second = storetwin_report::load::units_taken(registry).iter().position(|&t| quota > 0 && t >= quota)?;
    let end = storetwin_engine::SimTime::from_secs(second as u64 + 1);
    Some((end.saturating_since(h.sale.start).as_secs_f64(), false))
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
    let sellout = match sellout(run, registry) {
        Some((after, true)) => format!("{after:.1} s after the start"),
        Some((after, false)) => format!("within {after:.0} s after the start (the stores' books, to the second)"),
        None => "not sold out".to_string(),
    };
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
    let mut shoppers = vec![Row::text("arrived", t.arrived.to_string())];
    for (d, (name, scenario)) in load.scenarios.iter().enumerate() {
        let n: u64 = run.stores.iter().filter_map(|s| s.flash.as_deref()).map(|f| f.kpis.arrived[d]).sum();
        shoppers.push(Row::text(
            &format!("  {name}"),
            format!("{n} ({}, {})", scenario.journey.name(), scenario.executor.name()),
        ));
    }
    shoppers.push(Row::text("dropped", format!("{} (max_shoppers in flight)", t.dropped)));
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
    let preorders = (!h.preorders.is_empty()).then(|| preorder_rows(h, &t));
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
    let days = || run.stores.iter().map(|s| &s.day.kpis);
    let footfall: f64 = days().map(|k| k.footfall.truth).sum();
    let worst_wait = days().map(|k| k.wait_s.p90).fold(0.0, f64::max);
    let stores = vec![
        Row::text(
            "through the doors",
            format!(
                "{footfall:.0} (the stores' own shoppers and any ordinary_shopping load; {} bought)",
                days().map(|k| k.buyers).sum::<u64>()
            ),
        ),
        Row::text(
            "lost at the checkouts",
            format!(
                "{} balked, {} reneged; worst store's p90 checkout wait {worst_wait:.0} s",
                days().map(|k| k.balked).sum::<u64>(),
                days().map(|k| k.reneged).sum::<u64>()
            ),
        ),
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
            checked("stock conserved per SKU and store", run.check_stock()),
            checked("money: payments = sales - discounts; settlement reconciles", run.check_money()),
        ],
        sections: [
            Some(Section { title: "FLASH SALE".into(), rows: flash }),
            preorders.map(|rows| Section { title: "PRE-ORDERS".into(), rows }),
            Some(Section { title: "SHOPPERS".into(), rows: shoppers }),
            Some(Section { title: "STOCK HOLDER".into(), rows: holder }),
            Some(Section { title: "STORES".into(), rows: stores }),
            Some(Section { title: "ENGINE".into(), rows: engine }),
        ]
        .into_iter()
        .flatten()
        .collect(),
    }
}

/// An invariant's line from its check on the run's books.
fn checked(name: &str, check: Result<String, (&'static str, String)>) -> InvariantLine {
    match check {
        Ok(detail) => InvariantLine { name: name.into(), held: true, detail: Some(detail) },
        Err((invariant, detail)) => {
            InvariantLine { name: name.into(), held: false, detail: Some(format!("{invariant}: {detail}")) }
        }
    }
}

fn summary_json(
    run: &ChainRun,
    registry: &Registry,
    load: &LoadSpec,
    (thresholds, aborted, invariants): (&[ThresholdResult], &[ThresholdResult], &[InvariantLine]),
    (seed, wall, threads): (Seed, f64, usize),
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
        "aborted": run.stopped_at.map(|at| serde_json::json!({
            "at_s": at.saturating_since(storetwin_engine::SimTime::ZERO).as_secs_f64(),
            "by": aborted.iter().map(|r| format!("{} {}", r.metric, r.threshold)).collect::<Vec<_>>(),
        })),
        "invariants": invariants.iter().map(|i| serde_json::json!({
            "name": i.name, "held": i.held, "detail": i.detail,
        })).collect::<Vec<_>>(),
        "flash_sale": {
            "name": h.sale.name, "protocol": h.sale.protocol.name(), "quota": h.sale.quota,
            "grabs": t.grabs, "got_at_grab": t.got, "got_from_waitlist": t.offered, "waitlisted": t.waitlisted,
            "refused": t.refused, "sold": t.sold, "reserved_at_end": t.packed, "expired": t.lapsed,
            "orphaned": t.orphaned, "collected": t.collected,
            "sellout_s": sellout(run, registry).map(|(after, _)| after),
            "sellout_exact": sellout(run, registry).map(|(_, exact)| exact),
            "phantom_sold_out": h.ledger.kpis.phantom_sold_out, "bucket_leftovers": h.bucket_leftovers(),
            "undersell_unit_s": h.ledger.kpis.undersell_unit_s, "oversold": (t.sold + t.packed).saturating_sub(u64::from(h.sale.quota)),
            "payments_booked": run.flash_money.as_ref().map(|m| m.booked.sales.payments),
            "money_booked": run.flash_money.as_ref().map(|m| m.booked.sales.paid.as_major()),
            "stores": per_store,
        },
        "preorders": (!h.preorders.is_empty()).then(|| {
            let p = &h.preorders;
            let secs = |at: storetwin_engine::SimTime| at.saturating_since(h.sale.start).as_secs_f64();
            serde_json::json!({
                "tiers": p.tiers.iter().zip(&p.books).map(|(tier, book)| serde_json::json!({
                    "name": tier.name, "opens_s": secs(tier.opens), "closes_s": secs(tier.closes),
                    "ships_s": secs(tier.ships), "price": tier.price.as_major(), "min": tier.min, "max": tier.max,
                    "orders": book.orders.len(), "state": book.state.name(), "full_at_s": book.full_at.map(secs),
                    "paid": book.paid.as_major(), "refunds": book.refunds, "refunded": book.refunded.as_major(),
                    "shipped": book.shipped,
                })).collect::<Vec<_>>(),
                "times_are": "seconds after the sale's start",
                "orders": p.orders(), "paid": p.paid().as_major(), "refunded": p.refunded().as_major(),
                "refunds": p.refunds(), "calls": p.kpis.calls, "no_tier": p.kpis.no_tier,
                "deduplicated": p.kpis.deduplicated,
                "shoppers_called": t.preorder_calls, "shoppers_ordered": t.preordered, "shoppers_bought_now_instead": t.preorder_no_tier,
                "orders_never_heard_of": t.preorder_orphaned, "refunds_received": t.preorder_refunds,
                "refunded_received": t.preorder_refunded.as_major(), "shipped_received": t.preorder_shipped,
            })
        }),
        "shoppers": { "arrived": t.arrived, "dropped": t.dropped,
            "by_scenario": load.scenarios.keys().enumerate().map(|(d, name)| (name.clone(), serde_json::json!(
                run.stores.iter().filter_map(|s| s.flash.as_deref()).map(|f| f.kpis.arrived[d]).sum::<u64>()
            ))).collect::<serde_json::Map<_, _>>(),
            "peak_in_flight": load.scenarios.keys().enumerate().map(|(d, name)| (name.clone(), serde_json::json!(
                run.stores.iter().filter_map(|s| s.flash.as_deref()).map(|f| u64::from(f.kpis.peak_in_flight[d])).sum::<u64>()
            ))).collect::<serde_json::Map<_, _>>(), "grab_latency": trend(metric::GRAB_LATENCY),
            "grab_failed_rate": rate(metric::GRAB_FAILED), "grab_sold_out_rate": rate(metric::GRAB_SOLD_OUT),
            "reservation_expired_rate": rate(metric::RESERVATION_EXPIRED) },
        "in_store": { "footfall": run.stores.iter().map(|s| s.day.kpis.footfall.truth).sum::<f64>(),
            "buyers": run.stores.iter().map(|s| s.day.kpis.buyers).sum::<u64>() },
        "stock_holder": { "queue_wait": trend(metric::STOCK_QUEUE_WAIT), "calls": h.kpis.calls,
            "retries_seen": h.kpis.retries_seen, "answers_lost": h.kpis.answers_lost,
            "deduplicated": h.ledger.kpis.deduplicated, "max_queue": h.kpis.max_queue,
            "utilisation": h.utilisation(run.end.saturating_since(storetwin_engine::SimTime::ZERO)) },
        "engine": { "events": run.events, "event_hash": run.event_hash.to_string(), "seed": seed.0,
            "threads": threads, "wall_s": wall, "windows": run.windows, "cross_shard_messages": run.messages,
            "platform_events": run.shard_events[0],
            "store_events": run.shard_events[1..].iter().sum::<u64>() },
    })
}
