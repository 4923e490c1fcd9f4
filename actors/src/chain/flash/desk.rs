//! A store's side of a flash sale: the shoppers who grab for pickup here (online in the
//! app, or in the store at a QR poster or kiosk), the units the store packs for their
//! reservations, the collections at its pickup counter, and, under `demarcation`, the
//! store's own quota and holder.
//!
//! A grab is a call with a timeout: no answer in time, and the client retries after a
//! backoff (with the first call's idempotency key, or without: then the retry is a new
//! grab and may deduct again), up to its retries; then the grab has failed. An answer that
//! comes after the client stopped waiting is late; a reservation it brings is an orphan,
//! packed by the store and held until it expires (an undersell, never an oversell).
//!
//! The store packs a unit as soon as it learns of a reservation for it, and unpacks it
//! when the holder returns it; per store, `packed + sold <= store quota <= stock` is
//! checked at every change.
//!
//! A pre-order shopper (journey `pre_order`, online in the app) calls the stock holder the
//! same way, with the same timeout, retries and idempotency key: the holder places the
//! order in the cheapest tier open and not full, paid in full at once. With no such tier
//! the shopper buys now instead: a grab online at the sale's price, counted as a
//! pre-order shopper who bought now. Later the store hears that the order was refunded
//! (its tier cancelled) or shipped; a pre-order packs nothing and takes none of the
//! store's stock.

use std::collections::VecDeque;
use std::sync::Arc;

use hdrhistogram::Histogram;
use rand::RngExt;
use storetwin_engine::{Context, SimDuration, SimTime};

use crate::chain::flash::Journey;
use crate::chain::flash::ledger::{self, Ledger, Refusal, ResId};
use crate::chain::flash::spec::{FlashSaleSpec, InStoreGrab, Protocol};
use crate::chain::flash::{Demand, FlashMsg, Source, part_of};
use crate::chain::link::{Down, GrabOutcome, PreorderOutcome, Up};
use crate::chain::spec::StoreIdx;
use crate::load::{MetricId, MetricKind, Registry, Tags};
use crate::store::world::StoreMsg;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Scanning the poster, queueing at a kiosk or waiting for a backoff.
    Starting,
    /// Waiting for an answer.
    Waiting,
    Waitlisted,
    Holding,
    Paid,
    Collected,
    Failed,
    /// Held a reservation that expired unpaid.
    Lapsed,
    /// Pre-ordered (paid), then refunded or shipped.
    PreOrdered,
    Refunded,
    Shipped,
}

#[derive(Clone, Copy, Debug)]
struct Client {
    member: u32,
    demand: u8,
    state: State,
    attempt: u16,
    /// The attempt the current call began at (0; after a pre-order found no tier, the
    /// buy-now grab goes on counting, so the pre-order's timers cannot time it out).
    base: u16,
    first_sent: SimTime,
    reservation: u32,
    /// Demarcation: the store's answer on its way to an online shopper.
    pending: Option<GrabOutcome>,
    /// A pre-order shopper whose call in flight is the pre-order (not yet a grab).
    preorder: bool,
}

/// A store's flash-sale counts.
#[derive(Clone, Debug)]
pub struct DeskKpis {
    /// Shoppers who started a journey, per demand (the load scenarios), and those dropped
    /// because `max_shoppers` were in flight.
    pub arrived: Vec<u64>,
    pub dropped: Vec<u64>,
    /// The most shoppers of each demand in flight at once.
    pub peak_in_flight: Vec<u32>,
    pub grabs: u64,
    pub got: u64,
    pub waitlisted: u64,
    pub offered: u64,
    pub refused: u64,
    /// Grabs that got no answer after every retry.
    pub failed: u64,
    pub timeouts: u64,
    pub retries: u64,
    pub answers_lost: u64,
    /// Answers that came after the client stopped waiting, and reservations among them
    /// that the client never used (a retry without key deducted twice, or it gave up).
    pub late_answers: u64,
    pub orphaned: u64,
    pub paid: u64,
    pub pay_too_late: u64,
    pub lapsed: u64,
    pub collected: u64,
    pub nothing_to_collect: u64,
    /// Units packed for reservations now, sold (paid) and collected.
    pub packed: u32,
    pub sold: u32,
    /// Under demarcation: quota asked for, granted, and grabs refused while the store's
    /// quota was used up but the chain's was not (a local sold-out).
    pub quota_asked: u64,
    pub quota_granted: u64,
    pub local_sold_out: u64,
    /// Under demarcation: units sold here whose report to the centres (which book the
    /// payment) arrives only after the run ends.
    pub sold_reported_after_close: u64,
    /// Pre-orders: shoppers who called to place one (not counted in `grabs`), who placed one
    /// (the answer reached them), who found no tier and
    /// bought now instead (a grab), orders the shopper never heard of (a late answer);
    /// refunds heard of and what they gave back; orders shipped.
    pub preorder_calls: u64,
    pub preordered: u64,
    pub preorder_no_tier: u64,
    pub preorder_orphaned: u64,
    pub preorder_refunds: u64,
    pub preorder_refunded: crate::money::Cents,
    pub preorder_shipped: u64,
}

/// The stream of a store's ordinary shoppers' arrivals (one per demand).
const ORDINARY_DOMAIN: u64 = 0x4c4f_4144_4f52_4449; // "LOADORDI"

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 2).expect("valid bounds")
}

/// The store's own quota under demarcation.
#[derive(Clone, Debug)]
pub struct LocalHolder {
    pub ledger: Ledger,
    queue: VecDeque<(u32, SimTime)>,
    busy: bool,
    asking: bool,
    pool_empty: bool,
    pub queue_wait_ns: Histogram<u64>,
    pub busy_s: f64,
}

#[derive(Clone, Debug)]
pub struct FlashDesk {
    pub sale: Arc<FlashSaleSpec>,
    store: StoreIdx,
    /// Stores in the chain (a closed demand's target is split over them).
    stores: u16,
    population: u32,
    demand: Vec<Demand>,
    /// This store's share of each demand's arrivals and its cap on shoppers in flight.
    share: f64,
    caps: Vec<u32>,
    in_flight: Vec<u32>,
    clients: Vec<Client>,
    kiosk_free: u32,
    kiosk_queue: VecDeque<(u32, SimTime)>,
    counter_free: u32,
    /// Paid reservations waiting for their shopper, oldest first.
    to_collect: VecDeque<u32>,
    collect_queue: VecDeque<u32>,
    pickup_service_s: crate::dist::Dist,
    /// One-way network time of an online shopper's call to the store's own holder
    /// (demarcation): the platform's least latency plus its extra.
    latency_min: SimDuration,
    latency_extra_s: crate::dist::Dist,
    /// When the run ends (a report arriving later is still on its way then).
    run_end: SimTime,
    pub local: Option<LocalHolder>,
    /// When this store's shoppers of the `ordinary_shopping` demands arrive (the world
    /// adds them to its own).
    pub ordinary_arrivals: Vec<SimTime>,
    pub kpis: DeskKpis,
    /// The load test's metrics of this store, tagged `store` and `scenario` (merged over
    /// the stores at the end).
    pub registry: Registry,
    ids: Vec<DemandIds>,
    reservation_expired: MetricId,
    reservations_made: MetricId,
    kiosk_wait: MetricId,
    /// Every grab's latency again, in one series per store kept second by second (the
    /// per-second buckets are histograms: one series, not one per demand).
    latency_by_second: MetricId,
}

/// The metric series of one demand at one store.
#[derive(Clone, Copy, Debug)]
struct DemandIds {
    grab_latency: MetricId,
    grab_failed: MetricId,
    grab_sold_out: MetricId,
    shoppers: MetricId,
    dropped: MetricId,
    retries: MetricId,
    timeouts: MetricId,
}

/// Metric names of a flash-sale load test (thresholds name them).
pub mod metric {
    /// Simulated time from a grab's first call to its final answer (or to giving up).
    pub const GRAB_LATENCY: &str = "grab_latency";
    /// The same values, in one series per store kept per second (for `timeseries.csv`).
    pub const GRAB_LATENCY_BY_SECOND: &str = "grab_latency_by_second";
    /// Share of grabs that got no answer after every retry.
    pub const GRAB_FAILED: &str = "grab_failed";
    /// Share of answered grabs told "sold out" (or "over the limit").
    pub const GRAB_SOLD_OUT: &str = "grab_sold_out";
    /// Share of reservations that expired unpaid (passes) rather than being paid; kept
    /// per second too, so a second's passes are the reservations that expired in it and
    /// the rest those paid in it.
    pub const RESERVATION_EXPIRED: &str = "reservation_expired";
    /// Units a store packed for a reservation (at the grab, offered from the waitlist, or
    /// brought by a late answer), per store, kept per second.
    pub const RESERVATIONS_MADE: &str = "reservations_made";
    /// Shoppers who started a journey, kept per second.
    pub const SHOPPERS: &str = "shoppers";
    /// Arrivals dropped because `max_shoppers` were in flight, kept per second.
    pub const SHOPPERS_DROPPED: &str = "shoppers_dropped";
    /// Calls of a grab that got no answer within the client's timeout, kept per second.
    pub const GRAB_TIMEOUTS: &str = "grab_timeouts";
    /// Calls of a grab sent again after a timeout, kept per second.
    pub const GRAB_RETRIES: &str = "grab_retries";
    pub const KIOSK_WAIT: &str = "kiosk_wait";
    /// Simulated time a call waited in the stock holder's queue.
    pub const STOCK_QUEUE_WAIT: &str = "stock_queue_wait";
    /// Simulated time from the sale's start to the last unit taken.
    pub const SELLOUT_TIME: &str = "sellout_time";
}

impl FlashDesk {
    /// The desk of `store` in `chain`, if the chain runs a flash sale: it takes an equal
    /// share of every demand's arrivals. `seed` is the store's (its ordinary shoppers'
    /// arrivals are drawn from it).
    pub fn for_store(
        chain: &crate::chain::spec::ChainSpec,
        store: StoreIdx,
        seed: storetwin_engine::Seed,
    ) -> Option<FlashDesk> {
        let sale = Arc::new(chain.flash.clone()?);
        let spec = &chain.stores[usize::from(store.0)];
        let kiosks =
            spec.world.store.devices.iter().filter(|d| d.kind == crate::store::spec::DeviceKind::Kiosk).count() as u32;
        let demand = chain.demand.clone();
        let share = 1.0 / chain.stores.len().max(1) as f64;
        let population = chain.members.population;
        let pickup_staff = spec.pickup_staff;
        let pickup_service_s = chain.platform.pickup_service_s.clone();
        let latency = (chain.platform.latency_min, chain.platform.latency_extra_s.clone());
        let mut registry = Registry::new(chain.duration);
        let store_tags = Tags::from([("store".to_string(), spec.name.clone())]);
        let mut reg = |name: &str, kind: MetricKind, tags: &Tags| {
            registry.register(name, kind, tags).expect("one kind per metric name")
        };
        let ids = demand
            .iter()
            .map(|d| {
                let mut tags = d.tags.clone();
                tags.extend(store_tags.clone());
                tags.insert("scenario".into(), d.name.clone());
                tags.insert("journey".into(), d.journey.name().into());
                DemandIds {
                    grab_latency: reg(metric::GRAB_LATENCY, MetricKind::Trend, &tags),
                    grab_failed: reg(metric::GRAB_FAILED, MetricKind::Rate, &tags),
                    grab_sold_out: reg(metric::GRAB_SOLD_OUT, MetricKind::Rate, &tags),
                    shoppers: reg(metric::SHOPPERS, MetricKind::Counter, &tags),
                    dropped: reg(metric::SHOPPERS_DROPPED, MetricKind::Counter, &tags),
                    retries: reg(metric::GRAB_RETRIES, MetricKind::Counter, &tags),
                    timeouts: reg(metric::GRAB_TIMEOUTS, MetricKind::Counter, &tags),
                }
            })
            .collect::<Vec<_>>();
        let reservation_expired = reg(metric::RESERVATION_EXPIRED, MetricKind::Rate, &store_tags);
        let reservations_made = reg(metric::RESERVATIONS_MADE, MetricKind::Counter, &store_tags);
        let kiosk_wait = reg(metric::KIOSK_WAIT, MetricKind::Trend, &store_tags);
        let latency_by_second = reg(metric::GRAB_LATENCY_BY_SECOND, MetricKind::Trend, &store_tags);
        // Second by second for the report: a counter or rate costs 8 or 16 bytes a second.
        for id in [latency_by_second, reservation_expired, reservations_made] {
            registry.track_over_time(id);
        }
        for ids in &ids {
            for id in [ids.shoppers, ids.dropped, ids.retries, ids.timeouts] {
                registry.track_over_time(id);
            }
        }
        let n = demand.len();
        let caps = demand.iter().map(|d| ((f64::from(d.max_shoppers) * share).ceil() as u32).max(1)).collect();
        let local = match sale.protocol {
            Protocol::Demarcation { .. } => {
                let s = usize::from(store.0);
                let initial = crate::chain::flash::initial_local(&sale)[s];
                Some(LocalHolder {
                    ledger: Ledger::new(
                        initial,
                        vec![sale.store_quota[s]],
                        vec![sale.stock[s]],
                        sale.member_limit,
                        sale.ttl,
                        0,
                        None,
                    ),
                    queue: VecDeque::new(),
                    busy: false,
                    asking: false,
                    pool_empty: false,
                    queue_wait_ns: histogram(),
                    busy_s: 0.0,
                })
            }
            _ => None,
        };
        let mut kpis = DeskKpis {
            arrived: vec![0; n],
            dropped: vec![0; n],
            peak_in_flight: vec![0; n],
            grabs: 0,
            got: 0,
            waitlisted: 0,
            offered: 0,
            refused: 0,
            failed: 0,
            timeouts: 0,
            retries: 0,
            answers_lost: 0,
            late_answers: 0,
            orphaned: 0,
            paid: 0,
            pay_too_late: 0,
            lapsed: 0,
            collected: 0,
            nothing_to_collect: 0,
            packed: 0,
            sold: 0,
            quota_asked: 0,
            quota_granted: 0,
            local_sold_out: 0,
            sold_reported_after_close: 0,
            preorder_calls: 0,
            preordered: 0,
            preorder_no_tier: 0,
            preorder_orphaned: 0,
            preorder_refunds: 0,
            preorder_refunded: crate::money::Cents::ZERO,
            preorder_shipped: 0,
        };
        // Ordinary shoppers are the store's own (they walk, shop and queue as its day's
        // shoppers do): drawn here, they join the world's shoppers.
        let end = SimTime::ZERO.saturating_add(chain.duration);
        let mut ordinary_arrivals = Vec::new();
        for (d, demand) in demand.iter().enumerate() {
            let Source::Open(arrivals) = &demand.arrivals else { continue };
            if demand.journey != Journey::OrdinaryShopping {
                continue;
            }
            let mut rng = seed.stream(ORDINARY_DOMAIN, d as u64);
            let mut now = SimTime::ZERO;
            while let Some(at) = arrivals.next_arrival(now, share, rng.random()).filter(|&at| at < end) {
                ordinary_arrivals.push(at);
                kpis.arrived[d] += 1;
                registry.add_counter(ids[d].shoppers, at, 1);
                now = at;
            }
        }
        Some(FlashDesk {
            sale,
            store,
            ordinary_arrivals,
            stores: chain.stores.len() as u16,
            population: population.max(1),
            share,
            caps,
            in_flight: vec![0; n],
            demand,
            clients: Vec::new(),
            kiosk_free: kiosks.max(1),
            kiosk_queue: VecDeque::new(),
            counter_free: pickup_staff.max(1),
            to_collect: VecDeque::new(),
            collect_queue: VecDeque::new(),
            pickup_service_s,
            latency_min: latency.0,
            latency_extra_s: latency.1,
            run_end: SimTime::ZERO.saturating_add(chain.duration),
            local,
            kpis,
            registry,
            ids,
            reservation_expired,
            reservations_made,
            kiosk_wait,
            latency_by_second,
        })
    }
}

impl FlashDesk {
    /// About how many flash-sale journeys this store's desk starts before `end`.
    pub fn expected_journeys(&self, end: SimTime) -> f64 {
        self.demand
            .iter()
            .filter(|d| d.journey != Journey::OrdinaryShopping)
            .map(|d| d.expected_journeys(SimTime::ZERO, end))
            .sum::<f64>()
            * self.share
    }
}

/// What a viewer is shown of a store's flash-sale desk now: its shoppers by where they
/// are in their journey.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeskNow {
    /// In-store shoppers at the sale (scanning the poster, queueing at a kiosk, waiting
    /// for an answer or a retry): the crowd at the sale's shelf.
    pub in_store: u32,
    /// Shoppers (online or in the store) waiting for the stock holder's answer.
    pub waiting: u32,
    pub waitlisted: u32,
    /// Shoppers holding a reservation they have not paid yet.
    pub holding: u32,
    /// Paid reservations waiting for their shopper, and shoppers queueing at the counter.
    pub to_collect: u32,
    pub at_counter: u32,
}

impl FlashDesk {
    /// Paid reservations waiting for their shopper at the pickup counter.
    pub fn to_collect(&self) -> u32 {
        self.to_collect.len() as u32
    }

    /// The desk's shoppers now (a scan of its clients: for the one store a viewer shows).
    pub fn now(&self) -> DeskNow {
        let mut d = DeskNow {
            to_collect: self.to_collect(),
            at_counter: self.collect_queue.len() as u32,
            ..DeskNow::default()
        };
        for c in &self.clients {
            let in_store = self.demand.get(usize::from(c.demand)).is_some_and(|d| d.journey == Journey::GrabInStore);
            match c.state {
                State::Starting | State::Waiting if in_store => d.in_store += 1,
                _ => {}
            }
            match c.state {
                State::Waiting => d.waiting += 1,
                State::Waitlisted => d.waitlisted += 1,
                State::Holding => d.holding += 1,
                _ => {}
            }
        }
        d
    }

    /// Grabs answered (or given up) in second `second` of the run, at this store.
    pub fn answered_in_second(&self, second: usize) -> u64 {
        self.registry
            .series()
            .iter()
            .filter(|s| s.name == metric::GRAB_LATENCY_BY_SECOND)
            .filter_map(|s| s.timeline.as_ref()?.get(second))
            .map(|b| b.count())
            .sum()
    }
}

/// What the desk needs of the office: sending to the centres.
pub trait Uplink {
    /// Sends `msg` to the stock holder; returns when it arrives.
    fn up(&mut self, msg: Up, ctx: &mut Context<'_, StoreMsg>) -> SimTime;
}

/// The desk's first timers: each open demand's first arrival, each closed demand's first
/// shoppers, the local sweeper.
pub fn start(desk: &mut FlashDesk, ctx: &mut Context<'_, StoreMsg>) {
    for d in 0..desk.demand.len() {
        if desk.demand[d].journey == Journey::OrdinaryShopping {
            continue;
        }
        match desk.demand[d].arrivals {
            Source::Open(_) => schedule_arrival(desk, d, ctx),
            Source::Closed(_) => retarget(desk, d, ctx),
        }
    }
    if desk.local.is_some()
        && let crate::chain::flash::spec::Expiry::Sweeper { every } = desk.sale.expiry
    {
        ctx.schedule(every, StoreMsg::Flash(FlashMsg::LocalSweep));
    }
}

fn schedule_arrival(desk: &FlashDesk, d: usize, ctx: &mut Context<'_, StoreMsg>) {
    let Source::Open(arrivals) = &desk.demand[d].arrivals else { return };
    let now = ctx.now();
    let u: f64 = ctx.rng().random();
    if let Some(at) = arrivals.next_arrival(now, desk.share, u) {
        ctx.schedule(at.saturating_since(now), StoreMsg::Flash(FlashMsg::Arrive { demand: d as u8 }));
    }
}

/// This store's part of closed demand `d`'s target at `t` (0 for an open demand).
fn target(desk: &FlashDesk, d: usize, t: SimTime) -> u32 {
    match &desk.demand[d].arrivals {
        Source::Closed(plan) => part_of(plan.target_at(t), desk.store.0, desk.stores),
        Source::Open(_) => 0,
    }
}

/// A closed demand's target changed (or the run starts): start shoppers up to it (those
/// above it stop when their journey ends), and wake at the next change of this store's
/// part.
fn retarget(desk: &mut FlashDesk, d: usize, ctx: &mut Context<'_, StoreMsg>) {
    let Source::Closed(plan) = &desk.demand[d].arrivals else { return };
    let plan = Arc::clone(plan);
    let now = ctx.now();
    let mine = target(desk, d, now);
    // The chain's target steps one shopper at a time; this store's part changes at a
    // few of those steps only.
    let mut at = now;
    while let Some(next) = plan.next_change(at) {
        if target(desk, d, next) != mine {
            ctx.schedule(next.saturating_since(now), StoreMsg::Flash(FlashMsg::Target { demand: d as u8 }));
            break;
        }
        at = next;
    }
    // Each start checks the target again when it comes (a shopper ending a journey may
    // have asked for one meanwhile).
    for _ in desk.in_flight[d]..mine {
        ctx.schedule(SimDuration::ZERO, StoreMsg::Flash(FlashMsg::Arrive { demand: d as u8 }));
    }
}

/// A shopper of demand `d` starts a journey.
fn start_journey(desk: &mut FlashDesk, d: usize, up: &mut dyn Uplink, ctx: &mut Context<'_, StoreMsg>) {
    let now = ctx.now();
    let demand = d as u8;
    desk.kpis.arrived[d] += 1;
    desk.registry.add_counter(desk.ids[d].shoppers, now, 1);
    desk.in_flight[d] += 1;
    desk.kpis.peak_in_flight[d] = desk.kpis.peak_in_flight[d].max(desk.in_flight[d]);
    let id = desk.clients.len() as u32;
    let member = member_of(desk.store, id, desk.population);
    desk.clients.push(Client {
        member,
        demand,
        state: State::Starting,
        attempt: 0,
        base: 0,
        first_sent: now,
        reservation: u32::MAX,
        pending: None,
        preorder: desk.demand[d].journey == Journey::PreOrder,
    });
    match desk.demand[d].journey {
        Journey::GrabOnline | Journey::PreOrder => send_grab(desk, id, up, ctx),
        Journey::GrabInStore => match &desk.sale.in_store {
            InStoreGrab::QrPoster { scan_s } => {
                let after = SimDuration::from_secs_f64(scan_s.sample(ctx.rng()).max(0.0));
                ctx.schedule(after, StoreMsg::Flash(FlashMsg::Send { client: id }));
            }
            InStoreGrab::Kiosk { .. } => {
                desk.kiosk_queue.push_back((id, now));
                serve_kiosk(desk, ctx);
            }
        },
        Journey::OrdinaryShopping => finish(desk, id, ctx),
        Journey::CollectReservation => match desk.to_collect.pop_front() {
            Some(owner) => {
                desk.clients[id as usize].state = State::Collected;
                desk.clients[id as usize].reservation = owner;
                desk.collect_queue.push_back(id);
                serve_counter(desk, ctx);
            }
            None => {
                desk.kpis.nothing_to_collect += 1;
                desk.clients[id as usize].state = State::Failed;
                finish(desk, id, ctx);
            }
        },
    }
}

fn member_of(store: StoreIdx, client: u32, population: u32) -> u32 {
    let key = (1u64 << 63) | (u64::from(store.0) << 32) | u64::from(client);
    (storetwin_engine::rng::mix(key) % u64::from(population)) as u32
}

fn latency(c: &Client, now: SimTime) -> SimDuration {
    now.saturating_since(c.first_sent)
}

/// A closed demand's shopper starts at most one journey per this time, so that a journey
/// that ends at once (nothing to collect) cannot spin.
const MIN_ITERATION: SimDuration = SimDuration::from_millis(100);

/// A shopper's journey ended: a closed demand's shopper starts the next one at once (at
/// most one a [`MIN_ITERATION`]), if the target still has room.
fn finish(desk: &mut FlashDesk, client: u32, ctx: &mut Context<'_, StoreMsg>) {
    let c = desk.clients[client as usize];
    let d = usize::from(c.demand);
    desk.in_flight[d] = desk.in_flight[d].saturating_sub(1);
    let now = ctx.now();
    if desk.in_flight[d] < target(desk, d, now) {
        let after = c.first_sent.saturating_add(MIN_ITERATION).saturating_since(now);
        ctx.schedule(after, StoreMsg::Flash(FlashMsg::Arrive { demand: d as u8 }));
    }
}

/// A flash-sale timer or step at the store.
pub fn handle(desk: &mut FlashDesk, msg: FlashMsg, up: &mut dyn Uplink, ctx: &mut Context<'_, StoreMsg>) {
    let now = ctx.now();
    match msg {
        FlashMsg::Arrive { demand } => {
            let d = usize::from(demand);
            match desk.demand[d].arrivals {
                Source::Open(_) => {
                    schedule_arrival(desk, d, ctx);
                    if desk.in_flight[d] >= desk.caps[d] {
                        desk.kpis.dropped[d] += 1;
                        desk.registry.add_counter(desk.ids[d].dropped, now, 1);
                        return;
                    }
                }
                // The next journey of a closed demand's shopper, if the target still
                // has room for it.
                Source::Closed(_) => {
                    if desk.in_flight[d] >= target(desk, d, now) {
                        return;
                    }
                }
            }
            start_journey(desk, d, up, ctx);
        }
        FlashMsg::Target { demand } => retarget(desk, usize::from(demand), ctx),
        FlashMsg::Send { client } => send_grab(desk, client, up, ctx),
        FlashMsg::KioskDone { client } => {
            desk.kiosk_free += 1;
            send_grab(desk, client, up, ctx);
            serve_kiosk(desk, ctx);
        }
        FlashMsg::Timeout { client, attempt } => {
            let c = desk.clients[client as usize];
            if c.state != State::Waiting || c.attempt != attempt {
                return;
            }
            desk.kpis.timeouts += 1;
            let ids = desk.ids[usize::from(c.demand)];
            desk.registry.add_counter(ids.timeouts, now, 1);
            if u32::from(attempt - c.base) < desk.sale.client.retries {
                desk.kpis.retries += 1;
                desk.registry.add_counter(ids.retries, now, 1);
                desk.clients[client as usize].attempt += 1;
                desk.clients[client as usize].state = State::Starting;
                let after = SimDuration::from_secs_f64(desk.sale.client.backoff_s.sample(ctx.rng()).max(0.0));
                ctx.schedule(after, StoreMsg::Flash(FlashMsg::Send { client }));
            } else {
                desk.kpis.failed += 1;
                desk.clients[client as usize].state = State::Failed;
                let l = latency(&c, now);
                desk.registry.record_trend(ids.grab_latency, now, l);
                desk.registry.record_trend(desk.latency_by_second, now, l);
                desk.registry.record_rate(ids.grab_failed, now, true);
                finish(desk, client, ctx);
            }
        }
        FlashMsg::PayNow { client } => {
            let c = desk.clients[client as usize];
            if c.state == State::Holding {
                let in_store = desk.demand[usize::from(c.demand)].journey == Journey::GrabInStore;
                let reservation = c.reservation;
                match desk.local.as_mut() {
                    Some(local) => {
                        let ok = local.ledger.pay(ResId(reservation));
                        if ok {
                            // The centres book the payment when the store's report arrives.
                            let at = up.up(Up::FlashSold { client, reservation, in_store }, ctx);
                            if at > desk.run_end {
                                desk.kpis.sold_reported_after_close += 1;
                            }
                        }
                        paid(desk, client, ok, ctx);
                    }
                    None => {
                        up.up(Up::FlashPay { client, reservation, in_store }, ctx);
                    }
                }
            }
        }
        FlashMsg::CounterDone { client } => {
            desk.counter_free += 1;
            desk.kpis.collected += 1;
            finish(desk, client, ctx);
            serve_counter(desk, ctx);
        }
        FlashMsg::LocalServed => local_served(desk, up, ctx),
        FlashMsg::LocalArrive { client } => {
            if let Some(local) = desk.local.as_mut() {
                local.queue.push_back((client, now));
                if !local.busy {
                    local_begin(desk, ctx);
                }
            }
        }
        FlashMsg::LocalAnswer { client } => {
            let c = &mut desk.clients[client as usize];
            if let Some(outcome) = c.pending.take() {
                let reservation = c.reservation;
                decided(desk, client, outcome, reservation, ctx);
            }
        }
        FlashMsg::LocalExpire | FlashMsg::LocalSweep => {
            local_expire(desk, ctx);
            if msg == FlashMsg::LocalSweep
                && let crate::chain::flash::spec::Expiry::Sweeper { every } = desk.sale.expiry
            {
                ctx.schedule(every, StoreMsg::Flash(FlashMsg::LocalSweep));
            }
        }
    }
}

fn serve_kiosk(desk: &mut FlashDesk, ctx: &mut Context<'_, StoreMsg>) {
    while desk.kiosk_free > 0 {
        let Some((client, since)) = desk.kiosk_queue.pop_front() else { return };
        desk.kiosk_free -= 1;
        let now = ctx.now();
        desk.registry.record_trend(desk.kiosk_wait, now, now.saturating_since(since));
        let InStoreGrab::Kiosk { kiosk_s } = &desk.sale.in_store else { return };
        let after = SimDuration::from_secs_f64(kiosk_s.sample(ctx.rng()).max(0.0));
        ctx.schedule(after, StoreMsg::Flash(FlashMsg::KioskDone { client }));
    }
}

fn serve_counter(desk: &mut FlashDesk, ctx: &mut Context<'_, StoreMsg>) {
    while desk.counter_free > 0 {
        let Some(client) = desk.collect_queue.pop_front() else { return };
        desk.counter_free -= 1;
        let after = SimDuration::from_secs_f64(desk.pickup_service_s.sample(ctx.rng()).max(0.0));
        ctx.schedule(after, StoreMsg::Flash(FlashMsg::CounterDone { client }));
    }
}

fn send_grab(desk: &mut FlashDesk, client: u32, up: &mut dyn Uplink, ctx: &mut Context<'_, StoreMsg>) {
    let now = ctx.now();
    let c = &mut desk.clients[client as usize];
    if c.attempt == c.base {
        c.first_sent = now;
        if c.preorder {
            desk.kpis.preorder_calls += 1;
        } else {
            desk.kpis.grabs += 1;
        }
    }
    c.state = State::Waiting;
    let (member, attempt, preorder) = (c.member, c.attempt, c.preorder);
    // What the holder is told: retries of this call (its timers and the replica's answer
    // carry the client's own count).
    let retry = attempt - c.base;
    let keyed = desk.sale.client.idempotency_key;
    ctx.schedule(desk.sale.client.timeout, StoreMsg::Flash(FlashMsg::Timeout { client, attempt }));
    if preorder {
        // The tiers are the chain's: whatever the protocol, the centres' holder.
        up.up(Up::PreOrder { client, member, attempt: retry, keyed }, ctx);
        return;
    }
    match (&desk.sale.protocol, desk.local.as_mut()) {
        (Protocol::UnsafeReadThenWrite { .. }, _) => {
            up.up(Up::ReadReplica { client, attempt }, ctx);
        }
        (_, Some(_)) => {
            // The store's own holder: an online shopper's call crosses the network to it;
            // an in-store one is on the store's own network.
            let after = network(desk, client, ctx);
            ctx.schedule(after, StoreMsg::Flash(FlashMsg::LocalArrive { client }));
        }
        _ => {
            up.up(Up::Grab { client, member, attempt: retry, keyed }, ctx);
        }
    }
}

/// An answer from the centres about the flash sale.
pub fn answer(desk: &mut FlashDesk, down: Down, up: &mut dyn Uplink, ctx: &mut Context<'_, StoreMsg>) {
    match down {
        Down::GrabAnswer { client, reservation, outcome, lost } => {
            if matches!(outcome, GrabOutcome::Reserved | GrabOutcome::Offered) {
                pack(desk, ctx);
            }
            if lost {
                desk.kpis.answers_lost += 1;
                return;
            }
            decided(desk, client, outcome, reservation, ctx);
        }
        Down::ReplicaLeft { client, attempt, left, lost } => {
            if lost {
                desk.kpis.answers_lost += 1;
                return;
            }
            let c = desk.clients[client as usize];
            if c.state != State::Waiting || c.attempt != attempt {
                desk.kpis.late_answers += 1;
                return;
            }
            if left == 0 {
                decided(desk, client, GrabOutcome::Refused(Refusal::SoldOut), u32::MAX, ctx);
            } else {
                let keyed = desk.sale.client.idempotency_key;
                up.up(Up::Grab { client, member: c.member, attempt: attempt - c.base, keyed }, ctx);
            }
        }
        Down::FlashPaid { client, reservation, ok } => {
            if desk.clients[client as usize].reservation == reservation {
                paid(desk, client, ok, ctx);
            }
        }
        Down::FlashReturned { client, .. } => {
            desk.kpis.packed = desk.kpis.packed.saturating_sub(1);
            let c = &mut desk.clients[client as usize];
            if c.state == State::Holding {
                c.state = State::Lapsed;
                desk.kpis.lapsed += 1;
                finish(desk, client, ctx);
            }
            desk.registry.record_rate(desk.reservation_expired, ctx.now(), true);
        }
        Down::PreOrderAnswer { client, tier, outcome, lost } => {
            if lost {
                desk.kpis.answers_lost += 1;
                return;
            }
            preorder_answered(desk, client, tier, outcome, up, ctx);
        }
        Down::PreOrderRefunded { client, tier } => {
            desk.kpis.preorder_refunds += 1;
            if let Some(t) = desk.sale.preorder.get(usize::from(tier)) {
                desk.kpis.preorder_refunded += t.price;
            }
            let c = &mut desk.clients[client as usize];
            if c.state == State::PreOrdered {
                c.state = State::Refunded;
            }
        }
        Down::PreOrderShipped { client, .. } => {
            desk.kpis.preorder_shipped += 1;
            let c = &mut desk.clients[client as usize];
            if c.state == State::PreOrdered {
                c.state = State::Shipped;
            }
        }
        Down::QuotaGrant { units } => {
            if let Some(local) = desk.local.as_mut() {
                local.asking = false;
                local.ledger.limit += units;
                local.pool_empty = units == 0;
                desk.kpis.quota_granted += u64::from(units);
            }
        }
        other => ctx.fail("message routing", format!("the flash desk got {other:?}")),
    }
}

/// The holder's answer to a pre-order call (if the shopper still waits for one): placed,
/// or no tier, and the shopper buys now (a new grab, with its own latency and retries).
fn preorder_answered(
    desk: &mut FlashDesk,
    client: u32,
    tier: u8,
    outcome: PreorderOutcome,
    up: &mut dyn Uplink,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let now = ctx.now();
    let c = desk.clients[client as usize];
    if c.state != State::Waiting || !c.preorder {
        desk.kpis.late_answers += 1;
        if outcome == PreorderOutcome::Placed {
            desk.kpis.preorder_orphaned += 1;
        }
        return;
    }
    let l = latency(&c, now);
    let ids = desk.ids[usize::from(c.demand)];
    desk.registry.record_trend(ids.grab_latency, now, l);
    desk.registry.record_trend(desk.latency_by_second, now, l);
    desk.registry.record_rate(ids.grab_failed, now, false);
    desk.registry.record_rate(ids.grab_sold_out, now, false);
    let cl = &mut desk.clients[client as usize];
    match outcome {
        PreorderOutcome::Placed | PreorderOutcome::Duplicate => {
            desk.kpis.preordered += 1;
            cl.state = State::PreOrdered;
            cl.reservation = u32::from(tier);
            finish(desk, client, ctx);
        }
        PreorderOutcome::NoTier => {
            desk.kpis.preorder_no_tier += 1;
            cl.preorder = false;
            cl.attempt += 1;
            cl.base = cl.attempt;
            send_grab(desk, client, up, ctx);
        }
    }
}

fn pack(desk: &mut FlashDesk, ctx: &mut Context<'_, StoreMsg>) {
    desk.kpis.packed += 1;
    desk.registry.add_counter(desk.reservations_made, ctx.now(), 1);
    let s = usize::from(desk.store.0);
    let taken = desk.kpis.packed + desk.kpis.sold;
    if taken > desk.sale.store_quota[s] || taken > desk.sale.stock[s] {
        ctx.fail(
            ledger::invariant::STORE_QUOTA,
            format!(
                "store {}: packed {} + sold {} > quota {} or stock {}",
                desk.store.0, desk.kpis.packed, desk.kpis.sold, desk.sale.store_quota[s], desk.sale.stock[s]
            ),
        );
    }
}

/// The final answer to a grab (if the client still waits for one).
fn decided(desk: &mut FlashDesk, client: u32, outcome: GrabOutcome, reservation: u32, ctx: &mut Context<'_, StoreMsg>) {
    let now = ctx.now();
    let c = desk.clients[client as usize];
    let waiting = c.state == State::Waiting || (outcome == GrabOutcome::Offered && c.state == State::Waitlisted);
    if !waiting {
        desk.kpis.late_answers += 1;
        if outcome == GrabOutcome::Reserved {
            desk.kpis.orphaned += 1;
        }
        return;
    }
    if c.state == State::Waiting {
        let l = latency(&c, now);
        let ids = desk.ids[usize::from(c.demand)];
        desk.registry.record_trend(ids.grab_latency, now, l);
        desk.registry.record_trend(desk.latency_by_second, now, l);
        desk.registry.record_rate(ids.grab_failed, now, false);
        desk.registry.record_rate(ids.grab_sold_out, now, matches!(outcome, GrabOutcome::Refused(_)));
    }
    match outcome {
        GrabOutcome::Reserved | GrabOutcome::Duplicate | GrabOutcome::Offered => {
            if outcome == GrabOutcome::Offered {
                desk.kpis.offered += 1;
            } else {
                desk.kpis.got += 1;
            }
            let cl = &mut desk.clients[client as usize];
            cl.state = State::Holding;
            cl.reservation = reservation;
            if ctx.rng().random::<f64>() < desk.sale.pay_share {
                let after = SimDuration::from_secs_f64(desk.sale.pay_after_s.sample(ctx.rng()).max(0.0));
                ctx.schedule(after, StoreMsg::Flash(FlashMsg::PayNow { client }));
            }
        }
        GrabOutcome::Waitlisted => {
            desk.kpis.waitlisted += 1;
            desk.clients[client as usize].state = State::Waitlisted;
        }
        GrabOutcome::Refused(_) => {
            desk.kpis.refused += 1;
            desk.clients[client as usize].state = State::Failed;
            finish(desk, client, ctx);
        }
    }
}

fn paid(desk: &mut FlashDesk, client: u32, ok: bool, ctx: &mut Context<'_, StoreMsg>) {
    if ok {
        desk.registry.record_rate(desk.reservation_expired, ctx.now(), false);
        desk.kpis.paid += 1;
        desk.kpis.packed = desk.kpis.packed.saturating_sub(1);
        desk.kpis.sold += 1;
        desk.clients[client as usize].state = State::Paid;
        desk.to_collect.push_back(client);
        finish(desk, client, ctx);
    } else {
        desk.kpis.pay_too_late += 1;
    }
}

/// One-way time of a call between the shopper `client` and the store's holder.
fn network(desk: &FlashDesk, client: u32, ctx: &mut Context<'_, StoreMsg>) -> SimDuration {
    let d = usize::from(desk.clients[client as usize].demand);
    if desk.demand[d].journey != Journey::GrabInStore {
        let extra = desk.latency_extra_s.sample(ctx.rng()).max(0.0);
        SimDuration::from_nanos(
            desk.latency_min.as_nanos().saturating_add(SimDuration::from_secs_f64(extra).as_nanos()),
        )
    } else {
        SimDuration::ZERO
    }
}

fn local_begin(desk: &mut FlashDesk, ctx: &mut Context<'_, StoreMsg>) {
    let Some(local) = desk.local.as_mut() else { return };
    let Some(&(_, since)) = local.queue.front() else {
        local.busy = false;
        return;
    };
    local.busy = true;
    local.queue_wait_ns.saturating_record(ctx.now().saturating_since(since).as_nanos().max(1));
    let service = SimDuration::from_secs_f64(desk.sale.service_s.sample(ctx.rng()).max(0.0));
    local.busy_s += service.as_secs_f64();
    ctx.schedule(service, StoreMsg::Flash(FlashMsg::LocalServed));
}

fn local_served(desk: &mut FlashDesk, up: &mut dyn Uplink, ctx: &mut Context<'_, StoreMsg>) {
    let now = ctx.now();
    let Some(local) = desk.local.as_mut() else { return };
    let Some((client, _)) = local.queue.pop_front() else { return };
    let c = desk.clients[client as usize];
    let store = desk.store;
    let outcome = if desk.sale.client.idempotency_key
        && let Some(r) = local.ledger.keyed(store, client)
    {
        local.ledger.kpis.deduplicated += 1;
        (GrabOutcome::Duplicate, r.0)
    } else if now < desk.sale.start {
        local.ledger.refused(Refusal::NotOpen);
        (GrabOutcome::Refused(Refusal::NotOpen), u32::MAX)
    } else {
        match local.ledger.refusal(store, c.member) {
            None => {
                let r = local.ledger.reserve(store, client, c.member, 0, now);
                if let Err((invariant, detail)) = local.ledger.check(store) {
                    ctx.fail(invariant, detail);
                }
                if desk.sale.expiry == crate::chain::flash::spec::Expiry::Exact {
                    ctx.schedule(desk.sale.ttl, StoreMsg::Flash(FlashMsg::LocalExpire));
                }
                (GrabOutcome::Reserved, r.0)
            }
            Some(why) => {
                local.ledger.refused(why);
                if why == Refusal::SoldOut {
                    desk.kpis.local_sold_out += 1;
                }
                (GrabOutcome::Refused(why), u32::MAX)
            }
        }
    };
    // A store whose quota ran out asks the centre's pool for more, one request at a time.
    if let Some(local) = desk.local.as_mut()
        && !local.asking
        && !local.pool_empty
        && local.ledger.left() == 0
        && let Protocol::Demarcation { batch, .. } = desk.sale.protocol
    {
        local.asking = true;
        desk.kpis.quota_asked += 1;
        up.up(Up::QuotaWanted { units: batch }, ctx);
    }
    if outcome.0 == GrabOutcome::Reserved {
        pack(desk, ctx);
    }
    let lost = desk.sale.client.answer_loss > 0.0 && ctx.rng().random::<f64>() < desk.sale.client.answer_loss;
    if lost {
        desk.kpis.answers_lost += 1;
    } else {
        let after = network(desk, client, ctx);
        let cl = &mut desk.clients[client as usize];
        if after == SimDuration::ZERO || cl.pending.is_some() {
            decided(desk, client, outcome.0, outcome.1, ctx);
        } else {
            cl.pending = Some(outcome.0);
            if outcome.1 != u32::MAX {
                cl.reservation = outcome.1;
            }
            ctx.schedule(after, StoreMsg::Flash(FlashMsg::LocalAnswer { client }));
        }
    }
    local_begin(desk, ctx);
}

fn local_expire(desk: &mut FlashDesk, ctx: &mut Context<'_, StoreMsg>) {
    let now = ctx.now();
    loop {
        let Some(local) = desk.local.as_mut() else { return };
        let Some(id) = local.ledger.expire_due(now) else { return };
        let r = local.ledger.reservations[id.0 as usize];
        desk.kpis.packed = desk.kpis.packed.saturating_sub(1);
        let c = &mut desk.clients[r.client as usize];
        if c.state == State::Holding && c.reservation == id.0 {
            c.state = State::Lapsed;
            desk.kpis.lapsed += 1;
            finish(desk, r.client, ctx);
        }
        desk.registry.record_rate(desk.reservation_expired, now, true);
    }
}
