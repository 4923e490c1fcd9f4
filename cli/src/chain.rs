//! `storetwin run CHAIN.toml`: a chain of stores and its central platform, run as shards
//! on `--threads` threads (the result does not depend on them), and its files
//! (`summary.json`, `timeseries.csv`, `report.html`), written by `storetwin_report`.

use std::time::Instant;

use anyhow::Context as _;
use storetwin_actors::chain::run::{ChainRun, run_chain};
use storetwin_engine::Seed;
use storetwin_report::summary::Measured;
use storetwin_scenarios::Chain;

use crate::run::RunArgs;

/// Loads a chain file, turning its diagnostics into the compiler-like report.
pub fn load_chain(path: &std::path::Path) -> anyhow::Result<Chain> {
    Chain::load(path).map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    if args.events.is_some() {
        anyhow::bail!(
            "--events is not available for chain files yet: the event log holds one store's events \
             (run one store's scenario file to log it)"
        );
    }
    let chain = load_chain(&args.scenario)?;
    let seed = Seed(args.seed.unwrap_or(chain.seed));
    let replications = args.replications.unwrap_or(chain.replications).max(1);
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;

    let threads = args.threads.unwrap_or_else(crate::run::default_threads);
    let started = Instant::now();
    let mut runs: Vec<ChainRun> = Vec::with_capacity(replications as usize);
    for i in 0..replications {
        let run = run_chain(&chain.spec, seed.replication(i), threads).map_err(anyhow::Error::new)?;
        runs.push(run);
    }
    let wall = started.elapsed().as_secs_f64();
    let measured = Measured { threads, wall_s: wall, heap_allocations: None };
    let summary = storetwin_report::chain::chain_summary(&chain, seed, &runs, &measured);
    let summary_path = args.out.join("summary.json");
    storetwin_report::summary::write_summary(&summary_path, &summary)?;
    let timeseries_path = args.out.join("timeseries.csv");
    storetwin_report::chain::write_chain_timeseries(&timeseries_path, &chain, &runs[0])?;
    let report_path = args.out.join("report.html");
    storetwin_report::html::write_chain_report(&report_path, &chain, &runs, &summary)?;

    let first = &runs[0];
    let k = first.kpis();
    let c = &k.chain;
    say!(
        "{}: {} stores, {} replication(s) of {:.1} h, seed {}",
        chain.path.display(),
        c.stores,
        replications,
        first.end.as_secs_f64() / 3600.0,
        seed
    )?;
    say!(
        "  in store: {} shoppers, {} buyers, sales {:.2}, paid {:.2} after {:.2} of coupons",
        c.shoppers_in_store,
        c.buyers,
        c.sales,
        c.payments,
        c.discounts
    )?;
    let o = &k.orders.all;
    say!(
        "  orders: {} online ({:.2}) + {} from kiosks; picked {} ({:.0}% within {} min), p90 pick {:.0} s; \
         collected {}, delivered {}, expired {}, cancelled {}",
        c.online_orders,
        c.online_value,
        c.kiosk_orders,
        o.picked,
        100.0 * o.share_picked_within_target,
        chain.spec.platform.pick_target.as_secs_f64() / 60.0,
        o.pick_p90_s,
        o.collected,
        o.delivered,
        o.expired,
        o.cancelled
    )?;
    let t = &k.transfers;
    if t.kiosk_collect_orders > 0 {
        say!(
            "  ship to store: {} kiosk orders to collect; {} transfers sent, {} received (p50 {:.1} h), \
             {} units in transit at close; collected {}, expired into the back room {}",
            t.kiosk_collect_orders,
            t.sent,
            t.received,
            t.transfer_p50_s / 3600.0,
            t.units_in_transit_at_close,
            t.collected,
            t.expired_into_back_room
        )?;
    }
    let s = &k.settlement;
    say!(
        "  settlement: {} payments, paid {:.2}; HQ {:.2}, franchisees {:.2}, payment channels {:.2}, brands {:.2}; \
         reconciliation {} ({} identities)",
        s.payments,
        s.paid,
        s.hq_net,
        s.franchisees_net,
        s.payment_channels_net,
        s.brands_net,
        if s.reconciliation.holds { "holds to the cent" } else { "BROKEN" },
        s.reconciliation.identities
    )?;
    let l = &s.offline_losses;
    if l.coupons > 0 {
        say!(
            "  offline losses: {} coupons refused after a store gave them, {:.2} (HQ {:.2}, franchisees {:.2})",
            l.coupons,
            l.total,
            l.borne_by_hq,
            l.borne_by_franchisees
        )?;
    }
    for c in &k.coupons {
        say!(
            "  coupon {}: {} issued, {} redeemed ({} online), {:.2} of {} budget used (HQ {:.2}, franchisees {:.2}, brands {:.2})",
            c.name,
            c.issued,
            c.redeemed,
            c.redeemed_online,
            c.budget_used,
            c.budget_total.map_or("no".to_string(), |b| format!("{b:.2}")),
            c.funded_by_hq,
            c.funded_by_franchisees,
            c.funded_by_brands
        )?;
    }
    let r = &k.members.registrations;
    say!(
        "  members: {} registered ({} in store, {} online, {} referred; {} referrals), {} points earned, {} redeemed, {} outstanding",
        r.total,
        r.in_store,
        r.online,
        r.referred,
        k.members.referrals.referred,
        k.members.earned,
        k.members.redeemed,
        k.members.outstanding
    )?;
    let events: u64 = runs.iter().map(|r| r.events).sum();
    say!(
        "  {} events in {:.2} s wall on {} thread(s), {} windows of {:.0} ms, {} messages between shards, {}event_hash {}",
        events,
        wall,
        threads,
        first.windows,
        chain.spec.platform.latency_min.as_secs_f64() * 1000.0,
        first.messages,
        if runs.len() > 1 { "replication 1's " } else { "" },
        first.event_hash
    )?;
    say!("  wrote {} and {}", summary_path.display(), timeseries_path.display())?;
    say!("  report: {}", report_path.display())?;
    Ok(())
}
