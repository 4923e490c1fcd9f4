//! Running a chain: one shard per store and one for the centres, in conservative time
//! windows as wide as the platform's least latency (`storetwin_engine::window`), on any
//! number of threads with the same result.
//!
//! Shard 0 is the centres ([`Platform`]); shard `s + 1` is store `s`, a store world with
//! an office ([`crate::store::office`]). Each shard has its own seed, derived from the
//! run's seed and the shard's index only, so a store's shoppers are the same whatever
//! else the chain holds at other indices (common random numbers between two variants of a
//! chain that keep the store order).

use std::ops::ControlFlow;
use std::sync::Arc;

use storetwin_engine::{
    ActorId, Envelope, EventHash, Seed, Shard, ShardModel, SimDuration, SimError, SimTime, Simulation, Watch,
    WindowError, Windows, rng::mix,
};

use crate::chain::link::PlatformMsg;
use crate::chain::orders::{OrderCentre, Status};
use crate::chain::platform::Platform;
use crate::chain::spec::{ChainSpec, StoreIdx};
use crate::money::Cents;
use crate::store::day::{DayError, DayRun, finish};
use crate::store::floor::Floor;
use crate::store::office::{Office, OfficeKpis};
use crate::store::world::{StoreMsg, StoreWorld};

impl ShardModel for StoreWorld {
    type Remote = PlatformMsg;

    fn take_outbox(&mut self, out: &mut Vec<Envelope<PlatformMsg>>) {
        if let Some(office) = &mut self.office {
            out.append(&mut office.outbox);
        }
    }

    fn remote_msg(&mut self, msg: PlatformMsg) -> Result<StoreMsg, String> {
        match msg {
            PlatformMsg::Down(d) => Ok(StoreMsg::Platform(d)),
            PlatformMsg::Up { from, msg } => Err(format!("a store got a message from store {}: {msg:?}", from.0)),
        }
    }
}

/// One shard of a chain.
pub enum ChainShard {
    /// The centres, with their expected work (see [`Shard::weight`]).
    Platform(Box<Simulation<Platform>>, u64),
    /// A store, with its expected work.
    Store(Box<Simulation<StoreWorld>>, u64),
}

/// Events a flash-sale journey costs, about, at the store and at the centres (counted on
/// the bundled load tests: a grab is its arrival, timeout, answer and a payment at the
/// store, its call and service at the stock holder).
const FLASH_STORE_EVENTS: f64 = 5.0;
const FLASH_CENTRE_EVENTS: f64 = 2.2;

/// About how many events a store's run will be: each shopper arriving before the end
/// walks about 20 cells per item on the list, and each flash-sale journey a few. Only
/// which thread runs the store depends on it.
fn expected_events(world: &StoreWorld, end: SimTime) -> u64 {
    let segments = &world.spec.store.segments;
    let items: f64 = segments.iter().map(|s| s.share * s.basket.mean().max(1.0)).sum();
    let shoppers = world.shoppers.iter().filter(|s| s.arrival < end).count();
    let flash = world.office.as_ref().and_then(|o| o.flash.as_deref()).map_or(0.0, |d| d.expected_journeys(end));
    (shoppers as f64 * (20.0 * items + 10.0) + flash * FLASH_STORE_EVENTS) as u64
}

impl Shard for ChainShard {
    type Remote = PlatformMsg;

    fn run_window(&mut self, end: SimTime, outbox: &mut Vec<Envelope<PlatformMsg>>) -> Result<(), SimError> {
        match self {
            ChainShard::Platform(s, _) => s.run_window(end, outbox),
            ChainShard::Store(s, _) => s.run_window(end, outbox),
        }
    }

    fn accept(&mut self, origin: ActorId, seq: u32, env: Envelope<PlatformMsg>) -> Result<(), SimError> {
        match self {
            ChainShard::Platform(s, _) => s.accept(origin, seq, env),
            ChainShard::Store(s, _) => s.accept(origin, seq, env),
        }
    }

    fn next_event_time(&self) -> Option<SimTime> {
        match self {
            ChainShard::Platform(s, _) => Shard::next_event_time(s.as_ref()),
            ChainShard::Store(s, _) => Shard::next_event_time(s.as_ref()),
        }
    }

    fn weight(&self) -> u64 {
        match self {
            ChainShard::Platform(_, w) => *w,
            ChainShard::Store(_, w) => *w,
        }
    }
}

/// The flash sale's books at the end: the stores never hold or sell more than the chain's
/// quota, under demarcation the local quotas and the pool add up to it, and the pre-order
/// tiers' books hold (at most the maximum each, cancelled tiers refunded exactly, the money).
fn check_flash(
    holder: &Option<crate::chain::flash::holder::StockHolder>,
    runs: &[StoreRun],
) -> Result<(), (&'static str, String)> {
    let Some(holder) = holder else { return Ok(()) };
    holder.preorders.check()?;
    let quota = holder.sale.quota;
    let taken: u64 = runs.iter().filter_map(|r| r.flash.as_ref()).map(|d| u64::from(d.kpis.packed + d.kpis.sold)).sum();
    if taken > u64::from(quota) {
        return Err((
            crate::chain::flash::ledger::invariant::QUOTA,
            format!("the stores hold or sold {taken} units of a quota of {quota}"),
        ));
    }
    if let crate::chain::flash::Protocol::Demarcation { .. } = holder.sale.protocol {
        let local: u64 =
            runs.iter().filter_map(|r| r.flash.as_ref()?.local.as_ref()).map(|l| u64::from(l.ledger.limit)).sum();
        // Granted by the centre but not yet arrived at its store (a grant on its way).
        let received: u64 = runs.iter().filter_map(|r| r.flash.as_ref()).map(|d| d.kpis.quota_granted).sum();
        let granted_in_flight = holder.kpis.quota_granted.saturating_sub(received);
        if received > holder.kpis.quota_granted
            || local + u64::from(holder.pool) + granted_in_flight != u64::from(quota)
        {
            return Err((
                "flash sale: local quotas + pool + quota in flight = quota",
                format!("local {local} + pool {} + in flight {granted_in_flight} != quota {quota}", holder.pool),
            ));
        }
    }
    Ok(())
}

/// The invariant that every till payment is booked once: what a store's lanes took =
/// what its office sent to settlement = what settlement booked + what was still on its way.
pub const TILL_MONEY: &str = "chain: till takings = settlement booked + in flight at close";

/// The invariant that the flash sale's takings are booked: what settlement booked from the
/// stock holder = the price × the units the sale's books say were paid (less those whose
/// report was still on its way at close) + the pre-orders paid, and its refunds = the
/// pre-orders refunded.
pub const FLASH_MONEY: &str = "flash sale: settlement booked = price x units paid + pre-orders paid - refunded";

/// What a flash sale took, by its own books, and what settlement booked from it, at the
/// end of a run ([`FlashMoney::check`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashMoney {
    pub price: Cents,
    /// Units paid by the sale's books: the holder's ledger, or under demarcation the
    /// stores' own ledgers.
    pub units_paid: u64,
    /// Of them, units whose report reaches the centres only after the run ends
    /// (demarcation: the store sold it; the centres book it when they hear).
    pub units_in_flight: u64,
    /// Pre-orders placed and what they paid; refunds and what they gave back (the tiers'
    /// books).
    pub preorders: u64,
    pub preorders_paid: Cents,
    pub refunds: u64,
    pub preorders_refunded: Cents,
    /// What settlement booked from the stock holder ([`crate::chain::txn::TxnSource::flash`]).
    pub booked: crate::chain::settlement::SourceBook,
}

impl FlashMoney {
    /// Units whose payment settlement should have booked.
    pub fn units_booked(&self) -> u64 {
        self.units_paid.saturating_sub(self.units_in_flight)
    }

    /// What settlement should have booked for the units bought now.
    pub fn expected(&self) -> Cents {
        Cents(self.price.0.saturating_mul(i64::try_from(self.units_booked()).unwrap_or(i64::MAX)))
    }

    /// `Err((FLASH_MONEY, detail))` if settlement booked other than the sale took: a payment
    /// or refund not booked, booked twice, or of another amount.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let (sales, refunds) = (&self.booked.sales, &self.booked.refunds);
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let expected = self.expected() + self.preorders_paid;
        if self.units_in_flight > self.units_paid
            || sales.payments != count(self.units_booked()) + count(self.preorders)
            || sales.paid != expected
            || sales.gross != expected
            || refunds.payments != count(self.refunds)
            || refunds.paid != self.preorders_refunded
        {
            return Err((
                FLASH_MONEY,
                format!(
                    "settlement booked {} payments for {} and {} refunds for {}; the sale's books have {} units paid \
                     at {} ({} of them reported after close), {} pre-orders paid {} and {} refunds of {}",
                    sales.payments,
                    sales.paid,
                    refunds.payments,
                    refunds.paid,
                    self.units_paid,
                    self.price,
                    self.units_in_flight,
                    self.preorders,
                    self.preorders_paid,
                    self.refunds,
                    self.preorders_refunded
                ),
            ));
        }
        Ok(())
    }
}

/// The flash sale's takings at the end, from the sale's books and settlement's.
fn flash_money(platform: &Platform, runs: &[StoreRun]) -> Option<FlashMoney> {
    let holder = platform.flash.as_ref()?;
    let desks = || runs.iter().filter_map(|r| r.flash.as_deref());
    let units_paid = match holder.sale.protocol {
        crate::chain::flash::Protocol::Demarcation { .. } => {
            desks().filter_map(|d| d.local.as_ref()).map(|l| u64::from(l.ledger.sold)).sum()
        }
        _ => u64::from(holder.ledger.sold),
    };
    let source = crate::chain::txn::TxnSource::flash(platform.spec.stores.len());
    let p = &holder.preorders;
    Some(FlashMoney {
        price: holder.sale.price,
        units_paid,
        units_in_flight: desks().map(|d| d.kpis.sold_reported_after_close).sum(),
        preorders: p.orders(),
        preorders_paid: p.paid(),
        refunds: p.refunds(),
        preorders_refunded: p.refunded(),
        booked: platform.settlement.source(source).copied().unwrap_or_default(),
    })
}

/// The seed of shard `shard` of a run with `seed`.
pub fn shard_seed(seed: Seed, shard: u32) -> Seed {
    Seed(mix(seed.0 ^ mix(0x4348_4149_4e00_0000 | u64::from(shard))))
}

/// One store's day in the chain.
#[derive(Clone, Debug)]
pub struct StoreRun {
    pub name: String,
    pub day: DayRun,
    pub office: OfficeKpis,
    pub pickers: u32,
    pub pickup_staff: u32,
    /// Orders still in the store when the run ended (being picked or waiting for pickup).
    pub open_orders: u64,
    /// Units held for those orders.
    pub reserved_units: u64,
    /// The store's side of the flash sale, if the chain ran one.
    pub flash: Option<Box<crate::chain::flash::desk::FlashDesk>>,
    /// The store's stock per SKU at the close.
    pub stock: StockAtClose,
}

/// One store's stock per SKU at the close, as its books have it (see
/// [`crate::store::stock::Store`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StockAtClose {
    pub initial: Vec<u32>,
    pub shelf: Vec<u32>,
    pub back_room: Vec<u32>,
    pub in_baskets: Vec<u32>,
    pub sold: Vec<u32>,
    pub reserved: Vec<u32>,
    pub handed_over: Vec<u32>,
    pub sent: Vec<u32>,
    pub received: Vec<u32>,
    /// Units a real smart shelf's weight found above, and below, the model's shelf (a live
    /// twin's corrections; none in a chain run).
    pub sensed_gain: Vec<u32>,
    pub sensed_loss: Vec<u32>,
}

impl StockAtClose {
    /// Stock conservation per SKU, as the store's books state it: shelf + back room + in
    /// baskets + sold + reserved + handed over + sent + sensed loss = opening stock +
    /// received + sensed gain. `Err` names the SKU.
    pub fn check(&self) -> Result<(), String> {
        for i in 0..self.initial.len() {
            let at = |v: &[u32]| u64::from(v.get(i).copied().unwrap_or(0));
            let held = at(&self.shelf) + at(&self.back_room) + at(&self.in_baskets);
            let gone = at(&self.sold) + at(&self.reserved) + at(&self.handed_over) + at(&self.sent);
            let (gain, loss) = (at(&self.sensed_gain), at(&self.sensed_loss));
            if held + gone + loss != at(&self.initial) + at(&self.received) + gain {
                return Err(format!(
                    "SKU {i}: on hand {held} + sold, reserved, handed over and sent {gone} + sensed loss {loss} != \
                     opening {} + received {} + sensed gain {gain}",
                    at(&self.initial),
                    at(&self.received)
                ));
            }
        }
        Ok(())
    }
}

/// The chain's books of units in transit between stores (ship-to-store orders), per SKU,
/// at close.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransferBooks {
    /// Units the fulfilling stores sent, and the ordering stores received.
    pub sent: Vec<u64>,
    pub received: Vec<u64>,
    /// Units of the orders the order centre has in transit (it heard they were sent, not
    /// yet that they were received).
    pub centre_in_transit: Vec<u64>,
    /// Units sent, and received, whose report reaches the order centre only after close.
    pub sent_reported_after_close: Vec<u64>,
    pub received_reported_after_close: Vec<u64>,
}

impl TransferBooks {
    fn new(skus: usize) -> TransferBooks {
        TransferBooks {
            sent: vec![0; skus],
            received: vec![0; skus],
            centre_in_transit: vec![0; skus],
            sent_reported_after_close: vec![0; skus],
            received_reported_after_close: vec![0; skus],
        }
    }

    /// Units in transit at close (sent and not received), all SKUs.
    pub fn in_transit(&self) -> u64 {
        self.sent.iter().sum::<u64>().saturating_sub(self.received.iter().sum())
    }

    /// Every unit sent is in transit or received, per SKU, and what is in transit by the
    /// stores' books is what the order centre has in transit, give or take the reports on
    /// the wire at close: `sent = received + in transit`, with `in transit = the centre's +
    /// sent but not yet reported - received but not yet reported`. `Err` names the SKU.
    pub fn check(&self) -> Result<(), String> {
        for i in 0..self.sent.len() {
            let (sent, received) = (self.sent[i], self.received[i]);
            let (centre, late_sent, late_received) =
                (self.centre_in_transit[i], self.sent_reported_after_close[i], self.received_reported_after_close[i]);
            if received > sent || sent + late_received != received + centre + late_sent {
                return Err(format!(
                    "SKU {i}: sent {sent} != received {received} + in transit (the order centre's {centre} + \
                     {late_sent} sent and {late_received} received, reported after close)"
                ));
            }
        }
        Ok(())
    }

    /// The centre's side: the lines of its orders in transit.
    fn centre(&mut self, orders: &OrderCentre) {
        for o in orders.orders.iter().filter(|o| o.status == Status::InTransit) {
            for sku in &o.lines {
                self.centre_in_transit[sku.0 as usize] += 1;
            }
        }
    }
}

/// The result of a chain run.
pub struct ChainRun {
    pub seed: Seed,
    pub stores: Vec<StoreRun>,
    pub platform: Platform,
    /// Events of every shard, and the chain's fingerprint: the shards' `event_hash`es
    /// folded in shard order (centres first).
    pub events: u64,
    pub event_hash: EventHash,
    pub shard_hashes: Vec<EventHash>,
    /// Events of each shard, in shard order (centres first).
    pub shard_events: Vec<u64>,
    /// Units between stores, per SKU, at close (checked: see [`TransferBooks::check`]).
    pub transfers: TransferBooks,
    pub windows: u64,
    pub messages: u64,
    pub end: SimTime,
    /// The observer stopped the run at this checkpoint (then `end` is this time, and the
    /// books that only balance at the close are not checked).
    pub stopped_at: Option<SimTime>,
    /// The flash sale's takings and what settlement booked of them (checked at the end).
    pub flash_money: Option<FlashMoney>,
}

impl ChainRun {
    /// The money invariants of the run, checked on its books as they closed: settlement's
    /// identities, each store's till takings = booked + in flight at close, and the flash
    /// sale's takings = what settlement booked of them. `Ok` says what was checked.
    pub fn check_money(&self) -> Result<String, (&'static str, String)> {
        let reconciliation = self.platform.settlement.reconcile();
        reconciliation.check()?;
        for (s, store) in self.stores.iter().enumerate() {
            let (sent, in_flight) = (Cents(store.office.paid_sent), Cents(store.office.paid_in_flight_at_close));
            let booked = self.platform.till_paid[s];
            if sent != booked + in_flight {
                return Err((
                    TILL_MONEY,
                    format!(
                        "store {}: the tills took {sent}, settlement booked {booked} and {in_flight} was on its way",
                        store.name
                    ),
                ));
            }
        }
        let mut detail = format!(
            "{} identities of settlement hold; every store's till takings are booked",
            reconciliation.identities.len()
        );
        if let Some(m) = &self.flash_money {
            m.check()?;
            detail.push_str(&format!(
                "; the flash sale's {} units paid at {} = {}",
                m.units_booked(),
                m.price,
                m.expected()
            ));
            if m.units_in_flight > 0 {
                detail.push_str(&format!(" ({} more reported after close)", m.units_in_flight));
            }
            if let Some(holder) = &self.platform.flash
                && !holder.preorders.is_empty()
            {
                holder.preorders.check()?;
                let open = holder.preorders.books.iter().any(|b| {
                    matches!(b.state, crate::chain::flash::TierState::Upcoming | crate::chain::flash::TierState::Open)
                });
                detail.push_str(&format!(
                    ", pre-orders paid {} - refunded {} = {} ({})",
                    m.preorders_paid,
                    m.preorders_refunded,
                    m.preorders_paid - m.preorders_refunded,
                    if open {
                        "the confirmed tiers' revenue + what open tiers hold"
                    } else {
                        "the confirmed tiers' revenue"
                    }
                ));
            }
            detail.push_str(&format!(": {} booked, {} refunded", m.booked.sales.paid, m.booked.refunds.paid));
        }
        Ok(detail)
    }

    /// The stock invariants of the run, checked on its books as they closed: every store's
    /// stock per SKU, the units between stores, and the flash sale's units per store
    /// (packed + sold <= the store's quota and its stock for the sale). `Ok` says what was
    /// checked.
    pub fn check_stock(&self) -> Result<String, (&'static str, String)> {
        for store in &self.stores {
            store.stock.check().map_err(|detail| ("stock conservation", format!("store {}: {detail}", store.name)))?;
        }
        self.transfers.check().map_err(|detail| ("transfer conservation", detail))?;
        let mut flash = 0u64;
        if let Some(holder) = &self.platform.flash {
            for (s, store) in self.stores.iter().enumerate() {
                let Some(d) = store.flash.as_deref() else { continue };
                let taken = d.kpis.packed + d.kpis.sold;
                let (quota, stock) = (holder.sale.store_quota[s], holder.sale.stock[s]);
                if taken > quota || taken > stock {
                    return Err((
                        crate::chain::flash::ledger::invariant::STORE_QUOTA,
                        format!(
                            "store {}: packed {} + sold {} > quota {quota} or stock {stock}",
                            store.name, d.kpis.packed, d.kpis.sold
                        ),
                    ));
                }
                flash += u64::from(taken);
            }
        }
        let skus = self.stores.first().map_or(0, |s| s.stock.initial.len());
        let mut detail = format!(
            "{} stores x {skus} SKUs conserved; {} units between stores accounted for",
            self.stores.len(),
            self.transfers.sent.iter().sum::<u64>()
        );
        if self.platform.flash.is_some() {
            detail.push_str(&format!("; {flash} flash-sale units packed or sold within the stores' quotas and stock"));
        }
        Ok(detail)
    }
}

/// What one shard shows at a checkpoint (looked at on the thread that runs it).
#[derive(Clone, Debug, Default)]
pub struct ShardLook {
    pub events: u64,
    /// A store's flash-sale desk: journeys started, units sold and units reserved.
    pub shoppers: u64,
    pub sold: u64,
    pub reserved: u64,
    /// The totals of the observer's metrics in this shard's load registry (a desk's or
    /// the stock holder's).
    pub totals: Option<crate::load::Registry>,
}

/// The chain at a checkpoint, as an observer of the run sees it.
pub struct Checkpoint {
    /// Every event before this time has been delivered, none at or after it.
    pub now: SimTime,
    /// Every shard's look, in shard order (centres first).
    pub looks: Vec<ShardLook>,
}

impl Checkpoint {
    pub fn events(&self) -> u64 {
        self.looks.iter().map(|l| l.events).sum()
    }

    pub fn shoppers(&self) -> u64 {
        self.looks.iter().map(|l| l.shoppers).sum()
    }

    /// Units sold and units reserved, over the stores.
    pub fn taken(&self) -> (u64, u64) {
        (self.looks.iter().map(|l| l.sold).sum(), self.looks.iter().map(|l| l.reserved).sum())
    }

    /// The observer's metrics over every shard.
    pub fn totals(&self) -> Result<crate::load::Registry, crate::load::metrics::KindMismatch> {
        let mut all = crate::load::Registry::new(SimDuration::ZERO);
        for t in self.looks.iter().filter_map(|l| l.totals.as_ref()) {
            all.merge(t)?;
        }
        Ok(all)
    }
}

/// Looks at the run every `every` of simulated time; `Break` stops it there. The
/// checkpoints fall at the same simulated times whatever the thread count, and looking
/// changes nothing: an observed run delivers the same events as an unobserved one.
pub struct Observer<'a> {
    pub every: SimDuration,
    /// The load metrics whose totals each shard shows (the thresholds to judge during the
    /// run), at the checkpoints that are whole multiples of `totals_every` (adding up
    /// histograms over a hundred stores is the costly part of a look).
    pub metrics: std::collections::BTreeSet<String>,
    pub totals_every: SimDuration,
    pub observe: &'a mut (dyn FnMut(&Checkpoint) -> ControlFlow<()> + Send),
}

fn look(shard: &ChainShard, metrics: Option<&std::collections::BTreeSet<String>>) -> ShardLook {
    let totals = |registry: &crate::load::Registry| {
        let metrics = metrics.filter(|m| !m.is_empty())?;
        let mut t = crate::load::Registry::new(SimDuration::ZERO);
        // A name of two kinds is reported by the end-of-run evaluation.
        t.merge_totals(registry, metrics).is_ok().then_some(t)
    };
    match shard {
        ChainShard::Platform(sim, _) => ShardLook {
            events: sim.events_delivered(),
            totals: sim.model().flash.as_ref().and_then(|h| totals(&h.registry)),
            ..ShardLook::default()
        },
        ChainShard::Store(sim, _) => {
            let desk = sim.model().office.as_ref().and_then(|o| o.flash.as_deref());
            ShardLook {
                events: sim.events_delivered(),
                shoppers: desk.map_or(0, |d| d.kpis.arrived.iter().sum()),
                sold: desk.map_or(0, |d| u64::from(d.kpis.sold)),
                reserved: desk.map_or(0, |d| u64::from(d.kpis.packed)),
                totals: desk.and_then(|d| totals(&d.registry)),
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ChainError {
    #[error("store {store}: {error}")]
    Store { store: String, error: DayError },
    #[error("centres: {0}")]
    Platform(SimError),
    #[error(transparent)]
    Window(WindowError),
    #[error(
        "invariant broken at the end of the run: {invariant}: {detail} (seed {seed}; rerun with this seed to reproduce)"
    )]
    Invariant { invariant: &'static str, detail: String, seed: Seed },
}

/// Runs the chain `spec` with `seed` on `threads` threads (the result does not depend on
/// them).
pub fn run_chain(spec: &ChainSpec, seed: Seed, threads: usize) -> Result<ChainRun, ChainError> {
    run_chain_observed(spec, seed, threads, None)
}

/// As [`run_chain`], shown to `observer` at its checkpoints.
pub fn run_chain_observed(
    spec: &ChainSpec,
    seed: Seed,
    threads: usize,
    observer: Option<Observer<'_>>,
) -> Result<ChainRun, ChainError> {
    let mut built = build_chain(spec, seed)?;
    let (stop, lookahead) = (built.stop(), built.lookahead());
    let stats = match observer {
        Some(o) => {
            let (metrics, every) = (o.metrics, o.totals_every.as_nanos().max(1));
            let look =
                |at: SimTime, shard: &ChainShard| look(shard, at.as_nanos().is_multiple_of(every).then_some(&metrics));
            let observe = o.observe;
            let mut decide = |now: SimTime, looks: Vec<ShardLook>| observe(&Checkpoint { now, looks });
            let watch = Watch { every: o.every, look: &look, decide: &mut decide };
            built.windows.run_watched(&mut built.shards, lookahead, stop, threads, Some(watch))
        }
        None => built.windows.run(&mut built.shards, lookahead, stop, threads),
    }
    .map_err(|e| built.failed(e))?;
    built.close(stats.stopped)
}

/// A chain built and ready to run in windows: shard 0 the centres, shard `s + 1` store
/// `s`. [`run_chain`] runs it as fast as it can; a live session ([`crate::chain::live`])
/// runs it paced, a step at a time, and both close it with [`BuiltChain::close`].
pub struct BuiltChain {
    pub spec: Arc<ChainSpec>,
    pub seed: Seed,
    pub shards: Vec<ChainShard>,
    /// The run's per-link counters (so running to t1 and then t2 is one run to t2).
    pub windows: Windows,
    /// The end of the day: events at it are part of the day.
    pub end: SimTime,
}

impl BuiltChain {
    /// Windows are as wide as the least latency between a store and the centres.
    pub fn lookahead(&self) -> SimDuration {
        self.spec.platform.latency_min
    }

    /// The time before which every event of the run is delivered.
    pub fn stop(&self) -> SimTime {
        self.end.saturating_add(SimDuration::from_nanos(1))
    }

    /// A windowed run's error as the chain's, naming the store and the chain's seed (each
    /// shard's own derives from it, so rerunning with the seed it prints reproduces it).
    pub fn failed(&self, e: WindowError) -> ChainError {
        let seed = self.seed;
        match e {
            WindowError::Shard { shard: 0, error } => ChainError::Platform(SimError { seed, ..error }),
            WindowError::Shard { shard, error } => ChainError::Store {
                store: self.spec.stores[shard as usize - 1].name.clone(),
                error: DayError::Sim(SimError { seed, ..error }),
            },
            other => ChainError::Window(other),
        }
    }

    /// The store world of store `s`.
    pub fn store(&self, s: usize) -> Option<&Simulation<StoreWorld>> {
        match self.shards.get(s + 1)? {
            ChainShard::Store(sim, _) => Some(sim),
            ChainShard::Platform(..) => None,
        }
    }

    /// Closes the books of a run that ran to the end (or was stopped at `stopped_at`) and
    /// checks the chain's invariants.
    pub fn close(self, stopped_at: Option<SimTime>) -> Result<ChainRun, ChainError> {
        let BuiltChain { spec, seed, shards, windows, end } = self;
        let stats = windows.stats();
        let end = stopped_at.unwrap_or(end);
        let mut shards = shards.into_iter();
        let Some(ChainShard::Platform(platform, _)) = shards.next() else { unreachable!("shard 0 is the centres") };
        let mut shard_hashes = vec![platform.event_hash()];
        let mut shard_events = vec![platform.events_delivered()];
        let mut events = platform.events_delivered();
        let mut runs = Vec::with_capacity(spec.stores.len());
        let mut transfers = TransferBooks::new(spec.catalogue.len());
        for (i, shard) in shards.enumerate() {
            let ChainShard::Store(mut sim, _) = shard else { unreachable!("shards after the first are stores") };
            shard_hashes.push(sim.event_hash());
            shard_events.push(sim.events_delivered());
            events += sim.events_delivered();
            let mut office = sim.model_mut().office.take().expect("a chain store has an office");
            let flash = office.flash.take();
            office.kpis.coupon_answers_due_at_close = office.coupon_answers_due();
            let name = spec.stores[i].name.clone();
            let lanes_took = sim.model().metrics.payments;
            if lanes_took != Cents(office.kpis.paid_sent) {
                return Err(ChainError::Invariant {
                    invariant: TILL_MONEY,
                    detail: format!(
                        "store {name}: the lanes took {lanes_took}, the office sent {}",
                        Cents(office.kpis.paid_sent)
                    ),
                    seed,
                });
            }
            let store = &sim.model().store;
            let reserved_units = store.reserved.iter().map(|&u| u64::from(u)).sum();
            let stock = StockAtClose {
                initial: store.initial.clone(),
                shelf: store.shelf.clone(),
                back_room: store.back_room.clone(),
                in_baskets: store.in_baskets.clone(),
                sold: store.sold.clone(),
                reserved: store.reserved.clone(),
                handed_over: store.handed_over.clone(),
                sent: store.sent.clone(),
                received: store.received.clone(),
                sensed_gain: store.sensed_gain.clone(),
                sensed_loss: store.sensed_loss.clone(),
            };
            for (sku, (&sent, &received)) in store.sent.iter().zip(&store.received).enumerate() {
                transfers.sent[sku] += u64::from(sent);
                transfers.received[sku] += u64::from(received);
            }
            for sku in &office.sent_reported_after_close {
                transfers.sent_reported_after_close[sku.0 as usize] += 1;
            }
            for sku in &office.received_reported_after_close {
                transfers.received_reported_after_close[sku.0 as usize] += 1;
            }
            let day = finish(*sim, end).map_err(|error| ChainError::Store { store: name.clone(), error })?;
            runs.push(StoreRun {
                name,
                day,
                open_orders: office.orders.len() as u64,
                reserved_units,
                stock,
                pickers: office.pickers(),
                pickup_staff: office.pickup_staff(),
                office: office.kpis,
                flash,
            });
        }
        check_flash(&platform.model().flash, &runs).map_err(|(invariant, detail)| ChainError::Invariant {
            invariant,
            detail,
            seed,
        })?;
        let mut platform = platform.into_model();
        platform.coupons.expire(end);
        platform.coupons.check_invariants().map_err(|(invariant, detail)| ChainError::Invariant {
            invariant,
            detail,
            seed,
        })?;
        platform.orders.check().map_err(|detail| ChainError::Invariant {
            invariant: "order lifecycle",
            detail,
            seed,
        })?;
        let broken = |(invariant, detail): (&'static str, String)| ChainError::Invariant { invariant, detail, seed };
        platform.settlement.check().map_err(broken)?;
        platform.members.check().map_err(broken)?;
        transfers.centre(&platform.orders);
        transfers.check().map_err(|detail| ChainError::Invariant {
            invariant: "transfer conservation",
            detail,
            seed,
        })?;
        let flash_money = flash_money(&platform, &runs);
        let run = ChainRun {
            seed,
            stores: runs,
            platform,
            events,
            event_hash: EventHash::combine(shard_hashes.iter().copied()),
            shard_hashes,
            shard_events,
            transfers,
            windows: stats.windows,
            messages: stats.messages,
            end,
            stopped_at,
            flash_money,
        };
        run.check_money().map_err(broken)?;
        run.check_stock().map_err(broken)?;
        Ok(run)
    }
}

/// Builds the chain `spec` with `seed`: every store's world (stores drawn from one
/// template share their floor's tables) and the centres, each shard seeded from the run's
/// seed and its index only.
pub fn build_chain(spec: &ChainSpec, seed: Seed) -> Result<BuiltChain, ChainError> {
    let spec = Arc::new(spec.clone());
    let mut shards = Vec::with_capacity(spec.stores.len() + 1);
    let mut offices = Vec::with_capacity(spec.stores.len());
    let mut stores = Vec::with_capacity(spec.stores.len());
    // Stores drawn from one template share their floor's precomputed tables.
    let mut floors: Vec<(usize, Arc<Floor>)> = Vec::new();
    for (i, store) in spec.stores.iter().enumerate() {
        let idx = StoreIdx(i as u16);
        let world_seed = shard_seed(seed, i as u32 + 1);
        let office = Office::new(&spec, idx, world_seed);
        let floor =
            match floors.iter().find(|(j, _)| Floor::same_plan(&spec.stores[*j].world.store, &store.world.store)) {
                Some((_, f)) => Arc::clone(f),
                None => {
                    let f = Arc::new(Floor::build(&store.world.store));
                    floors.push((i, Arc::clone(&f)));
                    f
                }
            };
        let world = StoreWorld::build_in_chain(store.world.clone(), world_seed, office, floor);
        offices.push(world.layout.office().expect("a chain store has an office"));
        stores.push(Box::new(Simulation::new(world, world_seed)));
    }
    let platform = Platform::new(Arc::clone(&spec), offices, shard_seed(seed, 0))
        .map_err(|detail| ChainError::Invariant { invariant: "platform settings", detail, seed })?;
    // The centres handle a few messages per store shopper (claims, payments, stock levels)
    // and every flash-sale call.
    let end = SimTime::ZERO.saturating_add(spec.duration);
    let flash: f64 = spec.demand.iter().map(|d| d.expected_journeys(SimTime::ZERO, end)).sum();
    let platform_work =
        stores.iter().map(|s| s.model().shoppers.iter().filter(|s| s.arrival < end).count() as u64 * 5).sum::<u64>()
            + (flash * FLASH_CENTRE_EVENTS) as u64;
    shards.push(ChainShard::Platform(Box::new(Simulation::new(platform, shard_seed(seed, 0))), platform_work));
    shards.extend(stores.into_iter().map(|s| {
        let work = expected_events(s.model(), end);
        ChainShard::Store(s, work)
    }));

    let windows = Windows::new(shards.len());
    Ok(BuiltChain { spec, seed, shards, windows, end })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::settlement::{Flow, SourceBook};

    fn booked(payments: i64, paid: i64) -> SourceBook {
        let sales = Flow { payments, gross: Cents(paid), paid: Cents(paid), ..Flow::default() };
        SourceBook { sales, refunds: Flow::default() }
    }

    fn money(units_paid: u64, units_in_flight: u64, booked: SourceBook) -> FlashMoney {
        FlashMoney {
            price: Cents(199),
            units_paid,
            units_in_flight,
            preorders: 0,
            preorders_paid: Cents::ZERO,
            refunds: 0,
            preorders_refunded: Cents::ZERO,
            booked,
        }
    }

    #[test]
    fn a_flash_payment_not_booked_or_booked_twice_breaks_the_money_check() {
        assert_eq!(money(3, 0, booked(3, 597)).check(), Ok(()));
        // Under demarcation a store's report of its last sale is on its way at close.
        assert_eq!(money(3, 1, booked(2, 398)).check(), Ok(()));
        let (invariant, detail) = money(3, 0, booked(2, 398)).check().unwrap_err();
        assert_eq!(invariant, FLASH_MONEY);
        assert!(detail.contains("booked 2 payments for 3.98"), "{detail}");
        assert!(money(3, 0, booked(4, 796)).check().is_err(), "booked twice");
        assert!(money(3, 0, booked(3, 600)).check().is_err(), "at another price");
        let mut refunded = booked(3, 597);
        refunded.refunds.paid = Cents(199);
        assert!(money(3, 0, refunded).check().is_err(), "a grab's payment is never refunded");
    }

    #[test]
    fn pre_orders_paid_and_refunded_are_in_the_money_check() {
        // 3 units bought now, 2 pre-orders at 20.00, one of them refunded.
        let mut m = money(3, 0, booked(5, 597 + 4000));
        (m.preorders, m.preorders_paid, m.refunds, m.preorders_refunded) = (2, Cents(4000), 1, Cents(2000));
        m.booked.refunds = Flow { payments: 1, gross: Cents(2000), paid: Cents(2000), ..Flow::default() };
        assert_eq!(m.check(), Ok(()));
        let mut not_refunded = m.clone();
        not_refunded.booked.refunds = Flow::default();
        assert_eq!(not_refunded.check().unwrap_err().0, FLASH_MONEY, "a refund not booked");
        let mut not_booked = m;
        not_booked.booked.sales = booked(4, 597 + 2000).sales;
        assert!(not_booked.check().is_err(), "a pre-order's payment not booked");
    }

    #[test]
    fn a_unit_sent_is_in_transit_or_received() {
        let mut books = TransferBooks::new(2);
        books.sent = vec![3, 1];
        books.received = vec![2, 0];
        books.centre_in_transit = vec![1, 1];
        assert_eq!(books.check(), Ok(()));
        assert_eq!(books.in_transit(), 2);
        // The report of a unit sent just before the close reaches the centre after it.
        books.sent[1] = 2;
        books.sent_reported_after_close[1] = 1;
        assert_eq!(books.check(), Ok(()));
        // A unit received whose report is still on the wire: the centre has it in transit.
        books.received[0] = 3;
        books.received_reported_after_close[0] = 1;
        assert_eq!(books.check(), Ok(()));
        // A unit lost between the stores.
        books.centre_in_transit[1] = 0;
        let err = books.check().unwrap_err();
        assert!(err.starts_with("SKU 1: sent 2 != received 0 + in transit"), "{err}");
        // More received than sent.
        let mut books = TransferBooks::new(1);
        books.received[0] = 1;
        books.received_reported_after_close[0] = 1;
        assert!(books.check().is_err());
    }
}
