//! Flash sales on a chain: the stock holder's protocols, reservations, retries, the
//! waitlist, and the invariant that stops an oversell.

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use storetwin_actors::chain::flash::ledger::invariant;
use storetwin_actors::chain::flash::{
    ClientSpec, ConstantRate, Demand, Expiry, FlashSaleSpec, InStoreGrab, Journey, PreorderTier, Protocol, Source,
    TierState,
};
use storetwin_actors::chain::run::{ChainError, ChainRun, Checkpoint, Observer, run_chain, run_chain_observed};
use storetwin_actors::chain::spec::{ChainSpec, Partition, StoreIdx};
use storetwin_actors::dist::Dist;
use storetwin_actors::money::Cents;
use storetwin_actors::store::spec::SkuId;
use storetwin_engine::{Seed, SimDuration, SimTime};

const QUOTA: u32 = 300;

fn sale(protocol: Protocol) -> FlashSaleSpec {
    FlashSaleSpec {
        name: "phone".into(),
        sku: SkuId(0),
        price: Cents(19_900),
        start: SimTime::from_secs(600),
        quota: QUOTA,
        store_quota: vec![120; 3],
        stock: vec![150; 3],
        member_limit: 5,
        ttl: SimDuration::from_secs(300),
        expiry: Expiry::Exact,
        pickup_window: SimDuration::from_secs(48 * 3600),
        waitlist: 1_000,
        protocol,
        service_s: Dist::Constant(0.005),
        client: ClientSpec {
            timeout: SimDuration::from_secs(2),
            retries: 2,
            backoff_s: Dist::uniform(0.2, 1.0).unwrap(),
            idempotency_key: true,
            answer_loss: 0.0,
        },
        pay_share: 0.8,
        pay_after_s: Dist::uniform(20.0, 200.0).unwrap(),
        in_store: InStoreGrab::QrPoster { scan_s: Dist::uniform(5.0, 20.0).unwrap() },
        preorder: Vec::new(),
    }
}

/// The small chain with `sale` and `per_s` grabs a second (two thirds online, a third in
/// the stores) from 590 s to 1,200 s, and collections after.
fn chain(sale: FlashSaleSpec, per_s: f64) -> ChainSpec {
    let mut spec = support::small_chain();
    spec.partitions.clear();
    let surge =
        |share: f64| ConstantRate { per_s: per_s * share, from: SimTime::from_secs(590), to: SimTime::from_secs(1200) };
    spec.demand = vec![
        Demand {
            name: "online".into(),
            journey: Journey::GrabOnline,
            arrivals: Source::Open(Arc::new(surge(2.0 / 3.0))),
            max_shoppers: 100_000,
            tags: Default::default(),
        },
        Demand {
            name: "in-store".into(),
            journey: Journey::GrabInStore,
            arrivals: Source::Open(Arc::new(surge(1.0 / 3.0))),
            max_shoppers: 100_000,
            tags: Default::default(),
        },
        Demand {
            name: "collect".into(),
            journey: Journey::CollectReservation,
            arrivals: Source::Open(Arc::new(ConstantRate {
                per_s: 0.5,
                from: SimTime::from_secs(1300),
                to: SimTime::from_secs(3000),
            })),
            max_shoppers: 1_000,
            tags: Default::default(),
        },
    ];
    spec.flash = Some(sale);
    spec
}

fn holder(run: &ChainRun) -> &storetwin_actors::chain::flash::holder::StockHolder {
    run.platform.flash.as_ref().expect("a flash sale")
}

fn desks(run: &ChainRun) -> impl Iterator<Item = &storetwin_actors::chain::flash::desk::FlashDesk> {
    run.stores.iter().map(|s| s.flash.as_deref().expect("a desk"))
}

fn broken_invariant(e: &ChainError) -> Option<&'static str> {
    match e {
        ChainError::Invariant { invariant, .. } => Some(invariant),
        ChainError::Platform(error) => error.invariant(),
        ChainError::Store { error: storetwin_actors::store::day::DayError::Sim(error), .. } => error.invariant(),
        _ => None,
    }
}

#[test]
fn an_atomic_sale_sells_out_without_overselling_on_any_number_of_threads() {
    let spec = chain(sale(Protocol::Atomic), 20.0);
    let one = run_chain(&spec, Seed(3), 1).expect("atomic never oversells");
    let h = holder(&one);
    assert!(h.ledger.kpis.sold_out_at.is_some(), "12,000 grabs for 300 units sell out");
    assert!(h.ledger.taken() <= QUOTA);
    assert!(h.ledger.sold > 200, "most reservations are paid ({} sold)", h.ledger.sold);
    for s in 0..3 {
        assert!(h.ledger.store_sold[s] + h.ledger.store_reserved[s] <= 120);
    }
    let got: u64 = desks(&one).map(|d| d.kpis.got + d.kpis.offered).sum();
    assert_eq!(got, h.ledger.kpis.reserved_total, "every reservation reached its shopper");
    let sold: u32 = desks(&one).map(|d| d.kpis.sold).sum();
    assert_eq!(sold, h.ledger.sold, "stores and holder agree on what was sold");
    let collected: u64 = desks(&one).map(|d| d.kpis.collected).sum();
    assert!(collected > 100, "paid units are collected ({collected})");
    for threads in [2, 4] {
        let other = run_chain(&spec, Seed(3), threads).expect("chain run");
        assert_eq!(one.event_hash, other.event_hash, "{threads} threads");
        assert_eq!(holder(&other).ledger.sold, h.ledger.sold);
    }
}

/// Looking at a run between windows changes nothing, and an observer stops it at the same
/// checkpoint on any number of threads.
#[test]
fn a_watched_run_is_the_same_run_and_stops_at_the_same_checkpoint() {
    let spec = chain(sale(Protocol::Atomic), 20.0);
    let plain = run_chain(&spec, Seed(5), 2).expect("chain run");
    let mut seen = Vec::new();
    let mut look = |cp: &Checkpoint| {
        let (sold, reserved) = cp.taken();
        seen.push((cp.now, sold + reserved, cp.events()));
        std::ops::ControlFlow::Continue(())
    };
    let every = SimDuration::from_secs(1);
    let observer = Observer { every, metrics: Default::default(), totals_every: every, observe: &mut look };
    let watched = run_chain_observed(&spec, Seed(5), 2, Some(observer)).unwrap();
    assert_eq!(watched.event_hash, plain.event_hash, "watching changed the run");
    assert_eq!(watched.stopped_at, None);
    assert!(seen.len() > 1000, "{} checkpoints", seen.len());
    assert!(seen.windows(2).all(|w| w[1].0 > w[0].0 && w[1].2 >= w[0].2));
    assert!(seen.iter().all(|&(at, _, _)| at.as_nanos().is_multiple_of(every.as_nanos())));
    assert!(seen.iter().all(|&(_, taken, _)| taken <= u64::from(QUOTA)));
    let stops: Vec<_> = [1, 2]
        .into_iter()
        .map(|threads| {
            let mut stop_at_100 = |cp: &Checkpoint| {
                let (sold, reserved) = cp.taken();
                if sold + reserved >= 100 {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            };
            let observer =
                Observer { every, metrics: Default::default(), totals_every: every, observe: &mut stop_at_100 };
            let run = run_chain_observed(&spec, Seed(5), threads, Some(observer))
                .expect("a stopped run still balances its flash-sale books");
            (run.stopped_at.expect("stopped"), run.end, run.event_hash)
        })
        .collect();
    assert_eq!(stops[0], stops[1], "1 and 2 threads stop at the same checkpoint with the same events");
    assert_eq!(stops[0].0, stops[0].1, "the run ends where it stopped");
    assert!(stops[0].0 > spec.flash.as_ref().unwrap().start && stops[0].0 < plain.end);
}

/// A closed model (`ramping-shoppers`): each store keeps its part of the target active, a
/// shopper starting the next journey as the last one ends, and none after the target
/// falls to zero.
#[test]
fn closed_shoppers_keep_the_target_active_and_stop_with_it() {
    use storetwin_actors::load::executor::ClosedShoppers;
    let mut spec = chain(sale(Protocol::Atomic), 0.0);
    let start = SimTime::from_secs(590);
    let plan = ClosedShoppers::new(
        start,
        0,
        &[(SimDuration::from_secs(30), 61), (SimDuration::from_secs(120), 61), (SimDuration::from_secs(30), 0)],
    );
    let end = plan.end();
    spec.demand = vec![Demand {
        name: "loop".into(),
        journey: Journey::GrabOnline,
        arrivals: Source::Closed(Arc::new(plan)),
        max_shoppers: u32::MAX,
        tags: Default::default(),
    }];
    let one = run_chain(&spec, Seed(9), 1).expect("chain run");
    let peaks: Vec<u32> = desks(&one).map(|d| d.kpis.peak_in_flight[0]).collect();
    assert_eq!(peaks, [20, 20, 21], "61 shoppers split over three stores, each part reached and never passed");
    let started: u64 = desks(&one).map(|d| d.kpis.arrived[0]).sum();
    // 61 shoppers for about 2.5 min, each journey a grab of a few hundred ms (or a
    // reservation held until paid): far more journeys than shoppers.
    assert!(started > 1_000, "{started} journeys");
    let h = holder(&one);
    assert!(h.ledger.taken() <= QUOTA);
    let registry = &desks(&one).next().unwrap().registry;
    let shoppers = registry.series().iter().find(|s| s.name == "shoppers").expect("the shoppers series");
    let after: u64 = shoppers
        .timeline
        .as_ref()
        .expect("tracked over time")
        .recorded()
        .filter(|(_, t, _)| *t >= end)
        .map(|(_, _, b)| b.count())
        .sum();
    assert_eq!(after, 0, "no journey starts once the target is zero");
    let two = run_chain(&spec, Seed(9), 2).expect("chain run");
    assert_eq!(one.event_hash, two.event_hash);
}

#[test]
fn the_unsafe_protocol_oversells_and_the_invariant_stops_the_run() {
    let unsafe_sale = sale(Protocol::UnsafeReadThenWrite { replica_lag: SimDuration::from_secs(2) });
    let e = run_chain(&chain(unsafe_sale, 40.0), Seed(3), 2).err().expect("the run must stop");
    assert_eq!(broken_invariant(&e), Some(invariant::QUOTA), "{e}");
    assert!(e.to_string().contains("seed"), "the error names the seed: {e}");
}

/// Shoppers who hold more than one reservation (a retry deducted again).
fn double_deducted(run: &ChainRun) -> usize {
    let mut per_client = std::collections::BTreeMap::new();
    for r in &holder(run).ledger.reservations {
        *per_client.entry((r.store, r.client)).or_insert(0u32) += 1;
    }
    per_client.values().filter(|&&n| n > 1).count()
}

#[test]
fn retries_without_idempotency_keys_deduct_twice_and_with_them_never() {
    // A slow holder (50 ms a call against 30 grabs a second) and lost answers: clients
    // time out and retry.
    let mut slow = sale(Protocol::Atomic);
    slow.service_s = Dist::Constant(0.05);
    slow.client.answer_loss = 0.1;
    slow.client.timeout = SimDuration::from_millis(800);
    slow.quota = 3_000;
    slow.store_quota = vec![1_000; 3];
    slow.stock = vec![1_000; 3];
    let keyed = run_chain(&chain(slow.clone(), 30.0), Seed(5), 2).expect("keyed run");
    assert!(holder(&keyed).kpis.retries_seen > 50, "clients retried ({})", holder(&keyed).kpis.retries_seen);
    assert!(holder(&keyed).ledger.kpis.deduplicated > 0, "retries were answered from their key");
    assert_eq!(double_deducted(&keyed), 0, "a key never deducts twice");

    slow.client.idempotency_key = false;
    let unkeyed = run_chain(&chain(slow, 30.0), Seed(5), 2).expect("unkeyed run");
    assert!(double_deducted(&unkeyed) > 0, "without keys some retries deduct again");
    let orphans: u64 = desks(&unkeyed).map(|d| d.kpis.orphaned).sum();
    assert!(orphans > 0, "the extra reservations are orphans that expire");
}

#[test]
fn expired_reservations_go_to_the_waitlist_and_a_sweeper_lags() {
    let mut lax = sale(Protocol::Atomic);
    lax.pay_share = 0.3;
    let exact = run_chain(&chain(lax.clone(), 20.0), Seed(9), 2).expect("exact expiry");
    let k = &holder(&exact).ledger.kpis;
    assert!(k.expired > 50, "unpaid reservations expire ({})", k.expired);
    assert!(k.offered_from_waitlist > 50, "returned units go to the waitlist ({})", k.offered_from_waitlist);
    assert_eq!(k.undersell_unit_s, 0.0, "an exact timer returns a unit at once");
    lax.expiry = Expiry::Sweeper { every: SimDuration::from_secs(30) };
    let swept = run_chain(&chain(lax, 20.0), Seed(9), 2).expect("sweeper expiry");
    let k = &holder(&swept).ledger.kpis;
    assert!(k.undersell_unit_s > 0.0 && k.max_expiry_lag_s <= 30.0 + 1e-9, "{k:?}");
}

#[test]
fn buckets_refuse_while_other_buckets_have_units() {
    let run = run_chain(&chain(sale(Protocol::Buckets { n: 8 }), 20.0), Seed(4), 2).expect("buckets");
    let h = holder(&run);
    assert!(h.ledger.taken() <= QUOTA);
    assert!(h.ledger.kpis.phantom_sold_out > 0, "a bucket ran out before the others");
}

#[test]
fn demarcation_undersells_during_a_partition_and_never_oversells() {
    let mut spec = chain(sale(Protocol::Demarcation { initial: 40, batch: 20 }), 20.0);
    spec.partitions =
        vec![Partition { store: Some(StoreIdx(1)), from: SimTime::from_secs(500), to: SimTime::from_secs(2000) }];
    let run = run_chain(&spec, Seed(2), 2).expect("demarcation");
    let cut = run.stores[1].flash.as_deref().unwrap();
    assert!(cut.kpis.local_sold_out > 0, "the cut-off store ran out of its own quota");
    let local = cut.local.as_ref().unwrap();
    assert_eq!(local.ledger.limit, 40 + cut.kpis.quota_granted as u32);
    let sold: u32 = desks(&run).map(|d| d.kpis.sold + d.kpis.packed).sum();
    assert!(sold <= QUOTA);
}

/// What settlement booked from the stock holder.
fn flash_booked(run: &ChainRun) -> storetwin_actors::chain::settlement::SourceBook {
    let source = storetwin_actors::chain::txn::TxnSource::flash(run.stores.len());
    *run.platform.settlement.source(source).expect("the holder is a source of settlement")
}

#[test]
fn every_paid_flash_unit_is_booked_with_settlement_at_its_pickup_store() {
    let run = run_chain(&chain(sale(Protocol::Atomic), 20.0), Seed(3), 2).expect("atomic");
    let h = holder(&run);
    let booked = flash_booked(&run);
    assert!(h.ledger.sold > 200, "units were paid ({})", h.ledger.sold);
    assert_eq!(booked.sales.payments, i64::from(h.ledger.sold), "one payment booked per unit paid");
    assert_eq!(booked.sales.paid, Cents(19_900 * i64::from(h.ledger.sold)), "at the sale's price");
    assert_eq!(booked.refunds.paid, Cents::ZERO);
    // Each pickup store's owner gets its share: per store, what it sold at the sale's price
    // is in its books, in the app channel or the store channel.
    let settlement = &run.platform.settlement;
    for s in 0..3u16 {
        let store = StoreIdx(s);
        let app = storetwin_actors::chain::channel::Channel::Online(storetwin_actors::chain::spec::OnlineChannel::App);
        let in_app = settlement.sales(store, app).paid;
        let in_store = settlement.sales(store, storetwin_actors::chain::channel::Channel::Store).paid;
        let sold = Cents(19_900 * i64::from(h.ledger.store_sold[usize::from(s)]));
        assert!(in_app + in_store >= sold, "store {s}: {in_app} + {in_store} < {sold}");
    }
    let money = run.flash_money.as_ref().expect("a flash sale");
    assert_eq!(money.check(), Ok(()));
    assert!(run.check_money().expect("the books hold").contains("units paid at 199.00"));
}

#[test]
fn under_demarcation_the_stores_report_what_they_sold_and_the_centres_book_it() {
    let run = run_chain(&chain(sale(Protocol::Demarcation { initial: 40, batch: 20 }), 20.0), Seed(2), 2)
        .expect("demarcation");
    let sold: u64 = desks(&run).map(|d| u64::from(d.local.as_ref().unwrap().ledger.sold)).sum();
    let in_flight: u64 = desks(&run).map(|d| d.kpis.sold_reported_after_close).sum();
    assert!(sold > 100, "the stores sold from their quotas ({sold})");
    let booked = flash_booked(&run);
    assert_eq!(booked.sales.payments as u64 + in_flight, sold);
    assert_eq!(booked.sales.paid, Cents(19_900 * booked.sales.payments));
}

/// A tier of the sale: orders from `opens` to `closes` seconds, ships at `ships`.
fn tier(name: &str, (opens, closes, ships): (u64, u64, u64), price: i64, min: u32, max: u32) -> PreorderTier {
    PreorderTier {
        name: name.into(),
        opens: SimTime::from_secs(opens),
        closes: SimTime::from_secs(closes),
        ships: SimTime::from_secs(ships),
        price: Cents(price),
        min,
        max,
    }
}

/// The small chain with `tiers` and `per_s` pre-order shoppers a second (in the app) from
/// 600 s to 3,000 s, and no other flash-sale shoppers.
fn preorder_chain(tiers: Vec<PreorderTier>, per_s: f64) -> ChainSpec {
    let mut s = sale(Protocol::Atomic);
    s.preorder = tiers;
    let mut spec = chain(s, 0.0);
    spec.demand = vec![Demand {
        name: "pre-orders".into(),
        journey: Journey::PreOrder,
        arrivals: Source::Open(Arc::new(ConstantRate {
            per_s,
            from: SimTime::from_secs(600),
            to: SimTime::from_secs(3000),
        })),
        max_shoppers: 100_000,
        tags: Default::default(),
    }];
    spec
}

#[test]
fn a_tier_stops_taking_orders_at_its_maximum_and_the_next_cheapest_takes_them() {
    // 0.2 a second for 40 min: about 480 shoppers for 40 + 60 pre-order places.
    let tiers = vec![tier("cheap", (600, 3600, 4000), 5_000, 10, 40), tier("dear", (600, 3600, 4000), 8_000, 10, 60)];
    let run = run_chain(&preorder_chain(tiers, 0.2), Seed(11), 2).expect("pre-orders");
    let p = &holder(&run).preorders;
    assert_eq!(p.books[0].orders.len(), 40, "the cheaper tier stops at its maximum");
    assert_eq!(p.books[1].orders.len(), 60, "then the dearer one, to its maximum");
    assert!(p.books[0].full_at < p.books[1].full_at, "the cheaper tier filled first");
    assert!(p.books[1].orders.iter().all(|o| Some(o.placed_at) >= p.books[0].full_at));
    let bought_now: u64 = desks(&run).map(|d| d.kpis.preorder_no_tier).sum();
    assert!(bought_now > 200, "the rest found no tier and bought now ({bought_now})");
}

#[test]
fn a_tier_below_its_minimum_is_cancelled_and_every_order_refunded() {
    // About 180 shoppers in the windows: the cheaper tier fills at 100, the dearer one gets
    // the rest, short of its 500.
    let tiers =
        vec![tier("enough", (600, 2400, 3000), 5_000, 5, 100), tier("too-few", (600, 2400, 3000), 9_000, 500, 1_000)];
    let run = run_chain(&preorder_chain(tiers, 0.1), Seed(12), 2).expect("pre-orders");
    let p = &holder(&run).preorders;
    let cancelled = &p.books[1];
    assert_eq!(cancelled.state, TierState::Cancelled);
    let orders = cancelled.orders.len() as u32;
    assert!(orders > 20, "the dearer tier took the overflow ({orders}) and still missed 500");
    assert_eq!((cancelled.refunds, cancelled.refunded), (orders, Cents(9_000 * i64::from(orders))));
    assert_eq!(cancelled.refunded, cancelled.paid, "it refunds exactly what it took");
    assert_eq!(p.books[0].state, TierState::Shipped, "the full tier went ahead");
    // Every refund reached its shopper's store, and settlement refunded what the tier took.
    let heard: u64 = desks(&run).map(|d| d.kpis.preorder_refunds).sum();
    let given_back: Cents = desks(&run).fold(Cents::ZERO, |a, d| a + d.kpis.preorder_refunded);
    assert_eq!((heard, given_back), (u64::from(orders), cancelled.refunded));
    let booked = flash_booked(&run);
    assert_eq!(booked.refunds.paid, cancelled.refunded);
    assert_eq!(booked.refunds.payments, i64::from(orders));
    // Money conserved: what settlement keeps from the holder is the units bought now and
    // the confirmed tier's revenue.
    let confirmed = Cents(5_000 * p.books[0].orders.len() as i64);
    let now = Cents(19_900 * i64::from(holder(&run).ledger.sold));
    assert_eq!(booked.sales.paid - booked.refunds.paid, now + confirmed);
}

#[test]
fn a_tier_reaching_its_minimum_is_confirmed_and_ships_at_its_ship_date() {
    let tiers = vec![tier("ships", (600, 3000, 6000), 5_000, 20, 10_000)];
    let spec = preorder_chain(tiers, 0.05);
    let mut before = spec.clone();
    before.end_at(SimDuration::from_secs(5999));
    let mut after = spec;
    after.end_at(SimDuration::from_secs(6001));
    let before = run_chain(&before, Seed(13), 2).expect("before the ship date");
    let after = run_chain(&after, Seed(13), 2).expect("after the ship date");
    let (b, a) = (&holder(&before).preorders.books[0], &holder(&after).preorders.books[0]);
    assert!(b.orders.len() >= 20, "{} orders reach the minimum of 20", b.orders.len());
    assert_eq!((b.state, b.shipped), (TierState::Confirmed, 0), "confirmed at its window's end, not shipped yet");
    assert_eq!((a.state, a.shipped as usize), (TierState::Shipped, a.orders.len()), "shipped at its ship date");
    assert_eq!(a.orders, b.orders, "the same orders: the ship date changes nothing else");
    let heard: u64 = desks(&after).map(|d| d.kpis.preorder_shipped).sum();
    assert_eq!(heard as usize, a.orders.len(), "every store heard its orders shipped");
    assert_eq!(a.refunds, 0);
    // A shipped pre-order takes none of the stores' stock for the sale.
    let packed: u32 = desks(&after).map(|d| d.kpis.packed + d.kpis.sold).sum();
    assert_eq!(u64::from(packed), holder(&after).ledger.taken() as u64);
}

#[test]
fn keyed_pre_order_retries_never_order_twice() {
    let mut spec = preorder_chain(vec![tier("t", (600, 3600, 4000), 5_000, 1, 100_000)], 0.3);
    let sale = spec.flash.as_mut().unwrap();
    sale.service_s = Dist::Constant(0.05);
    sale.client.answer_loss = 0.1;
    sale.client.timeout = SimDuration::from_millis(400);
    let per_client = |run: &ChainRun| {
        let mut n = std::collections::BTreeMap::new();
        for o in &holder(run).preorders.books[0].orders {
            *n.entry((o.store, o.client)).or_insert(0u32) += 1;
        }
        n.values().filter(|&&k| k > 1).count()
    };
    let keyed = run_chain(&spec, Seed(14), 2).expect("keyed");
    assert!(holder(&keyed).preorders.kpis.deduplicated > 0, "retries were answered from their key");
    assert_eq!(per_client(&keyed), 0, "a key never orders twice");
    spec.flash.as_mut().unwrap().client.idempotency_key = false;
    let unkeyed = run_chain(&spec, Seed(14), 2).expect("unkeyed");
    assert!(per_client(&unkeyed) > 0, "without keys a retry orders (and pays) again");
}

#[test]
fn a_run_spanning_days_costs_about_its_day() {
    let tiers = vec![tier("late", (600, 86_400, 3 * 86_400), 5_000, 1, 1_000)];
    let day = preorder_chain(tiers.clone(), 0.05);
    let mut days = preorder_chain(tiers, 0.05);
    days.end_at(SimDuration::from_secs(3 * 86_400 + 30));
    let day = run_chain(&day, Seed(15), 2).expect("the day");
    let one = run_chain(&days, Seed(15), 1).expect("three days");
    let two = run_chain(&days, Seed(15), 2).expect("three days");
    assert_eq!(one.event_hash, two.event_hash, "the same on 1 and 2 threads");
    assert_eq!(holder(&one).preorders.books[0].state, TierState::Shipped);
    // The stores close at their time: their devices and staff stop, and three days hold
    // only a little more than the day (the shoppers inside at closing, the pre-orders).
    assert!(one.events < day.events + day.events / 50, "{} events against {} for the day", one.events, day.events);
    assert!(one.windows < day.windows + day.windows / 20, "{} windows against {}", one.windows, day.windows);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Protocols that claim safety never oversell, whatever the latencies, timeouts,
    /// retries, lost answers and partitions.
    #[test]
    fn safe_protocols_never_oversell(
        protocol in prop_oneof![
            Just(Protocol::Atomic),
            (2u32..6).prop_map(|n| Protocol::Buckets { n }),
            (0u32..60, 1u32..30).prop_map(|(initial, batch)| Protocol::Demarcation { initial, batch }),
        ],
        service_ms in 1u64..60,
        timeout_ms in 200u64..3000,
        retries in 0u32..4,
        keyed in any::<bool>(),
        loss in 0.0f64..0.3,
        partition in proptest::option::of((0u16..3, 550u64..1100, 10u64..600)),
        seed in 0u64..1000,
    ) {
        let mut s = sale(protocol);
        s.service_s = Dist::Constant(service_ms as f64 / 1000.0);
        s.client.timeout = SimDuration::from_millis(timeout_ms);
        s.client.retries = retries;
        s.client.idempotency_key = keyed;
        s.client.answer_loss = loss;
        if let Protocol::Buckets { .. } | Protocol::Demarcation { .. } = protocol {
            s.waitlist = 0;
        }
        let mut spec = chain(s, 15.0);
        if let Some((store, from, len)) = partition {
            spec.partitions = vec![Partition {
                store: Some(StoreIdx(store)),
                from: SimTime::from_secs(from),
                to: SimTime::from_secs(from + len),
            }];
        }
        let run = run_chain(&spec, Seed(seed), 2);
        prop_assert!(run.is_ok(), "{:?}", run.err());
        let run = run.unwrap();
        let taken: u32 = desks(&run).map(|d| d.kpis.sold + d.kpis.packed).sum();
        prop_assert!(taken <= QUOTA);
        prop_assert!(holder(&run).ledger.taken() <= QUOTA);
    }
}
