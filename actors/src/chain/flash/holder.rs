//! The stock holder: the centres' actor that serves grabs against the chain's quota.
//!
//! It is a hot key: one server (a bucket: one per bucket) taking one call at a time, each
//! for a service time, in arrival order; calls reach it with the store–centre latency
//! and wait in its queue. What it decides depends on the sale's [`Protocol`]:
//! - `atomic`: one check-and-decrement per grab against the [`Ledger`] (global quota,
//!   the pickup store's quota, the member's limit); oversell is impossible by
//!   construction, and the ledger's check after every change proves it.
//! - `buckets`: the quota is split into `n` sub-quotas, each served by its own server; a
//!   member's grab goes to bucket `member % n`, which refuses when it has run out even if
//!   others have units (counted as phantom sold-out; their units are leftovers).
//! - `demarcation`: the stores hold the quota; the holder keeps only the pool not yet
//!   handed out and grants it in batches, lowering the pool before it tells the store.
//! - `unsafe_read_then_write`: grabs read the remaining units from a replica refreshed
//!   every `replica_lag`, and a decrement follows without a check: the ledger's check then
//!   stops the run at the first oversold unit.
//!
//! Reservations expire `ttl` after they are made, by a timer each (`exact`) or when a
//! sweeper finds them; the returned unit goes to the first waitlisted member who may take
//! it.
//!
//! Pre-orders ([`crate::chain::flash::preorder`]): an order call waits in the same queue as
//! the grabs (bucket 0's under `buckets`; under `demarcation` the centre serves it, since
//! the tiers are the chain's) and takes the same service time; the holder places it in the
//! cheapest tier open and not full, books its payment at once, and at each tier's window
//! end confirms or cancels it (refunding every order, each booked as a refund and told to
//! its store), and at its ship date ships a confirmed tier's orders. A keyed retry of an
//! order already placed is answered with it; without a key a retry orders again.
//!
//! Money: a reservation paid ([`Up::FlashPay`], or under demarcation a store's report of a
//! unit it sold from its own quota, [`Up::FlashSold`]) is booked with settlement at once,
//! in the same shard and handler (no message, so the sale's events are the same as
//! before it was booked): the sale's price, paid in the app, with the pickup store. The
//! holder numbers these bookings densely as a transaction source of its own
//! ([`TxnSource::flash`]).

use std::collections::VecDeque;

use hdrhistogram::Histogram;
use rand::RngExt;
use storetwin_engine::{Context, SimDuration, SimTime};

use crate::chain::channel::Channel;
use crate::chain::flash::ledger::{Ledger, Refusal, ResId};
use crate::chain::flash::preorder::{Closed, Preorders};
use crate::chain::flash::spec::{Expiry, FlashSaleSpec, Protocol};
use crate::chain::link::{Down, GrabOutcome, PreorderOutcome, Up};
use crate::chain::platform::{CentreMsg, Downlink};
use crate::chain::settlement::{Sale, Settlement, SettlementError};
use crate::chain::spec::{OnlineChannel, StoreIdx};
use crate::chain::txn::{TxnId, TxnSource};
use crate::money::Cents;
use crate::store::spec::Payment;

/// A call waiting for the holder.
#[derive(Clone, Copy, Debug)]
struct Call {
    kind: CallKind,
    from: StoreIdx,
    client: u32,
    member: u32,
    keyed: bool,
    arrived: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    Grab,
    PreOrder,
}

#[derive(Clone, Debug, Default)]
struct Server {
    queue: VecDeque<Call>,
    busy: bool,
    /// Units left in this bucket (buckets only).
    left: u32,
}

/// The holder's counts.
#[derive(Clone, Debug)]
pub struct HolderKpis {
    pub calls: u64,
    /// Calls that were retries (attempt > 0).
    pub retries_seen: u64,
    pub answers_lost: u64,
    pub replica_reads: u64,
    /// Nanoseconds each call waited in the queue before its service began.
    pub queue_wait_ns: Histogram<u64>,
    pub max_queue: u64,
    /// Server-seconds busy (for utilisation).
    pub busy_s: f64,
    pub quota_granted: u64,
    pub quota_requests: u64,
    /// Units whose payment settlement booked.
    pub payments_booked: u64,
}

impl Default for HolderKpis {
    fn default() -> Self {
        HolderKpis {
            calls: 0,
            retries_seen: 0,
            answers_lost: 0,
            replica_reads: 0,
            queue_wait_ns: Histogram::new_with_bounds(1, 3_600_000_000_000, 2).expect("valid bounds"),
            max_queue: 0,
            busy_s: 0.0,
            quota_granted: 0,
            quota_requests: 0,
            payments_booked: 0,
        }
    }
}

#[derive(Clone)]
pub struct StockHolder {
    pub sale: FlashSaleSpec,
    pub ledger: Ledger,
    servers: Vec<Server>,
    /// What the replica says is left (unsafe protocol).
    replica_left: u32,
    /// Units not handed to any store yet (demarcation).
    pub pool: u32,
    /// The sale's pre-order tiers and their books.
    pub preorders: Preorders,
    pub kpis: HolderKpis,
    /// The load test's metrics of the holder (`stock_queue_wait`, `sellout_time`).
    pub registry: crate::load::Registry,
    queue_wait: crate::load::MetricId,
    sellout: crate::load::MetricId,
    /// The holder's transactions with settlement: its source and the next number.
    source: TxnSource,
    next_txn: u64,
}

impl StockHolder {
    /// Calls waiting in the holder's queues now (every bucket's).
    pub fn queued(&self) -> usize {
        self.servers.iter().map(|s| s.queue.len()).sum()
    }

    /// The holder of `sale` in a chain of `stores` stores and `population` members, whose
    /// run lasts `duration`.
    pub fn new(sale: FlashSaleSpec, stores: usize, population: u32, duration: SimDuration) -> StockHolder {
        use crate::chain::flash::desk::metric;
        use crate::load::MetricKind;
        let mut registry = crate::load::Registry::new(duration);
        let none = crate::load::Tags::new();
        let queue_wait = registry.register(metric::STOCK_QUEUE_WAIT, MetricKind::Trend, &none).expect("new name");
        let sellout = registry.register(metric::SELLOUT_TIME, MetricKind::Trend, &none).expect("new name");
        registry.track_over_time(queue_wait);
        let n = match sale.protocol {
            Protocol::Buckets { n } => n.max(1),
            _ => 1,
        };
        let mut servers: Vec<Server> = (0..n).map(|_| Server::default()).collect();
        for (b, s) in servers.iter_mut().enumerate() {
            s.left = sale.quota / n + u32::from((b as u32) < sale.quota % n);
        }
        let pool = match sale.protocol {
            Protocol::Demarcation { .. } => {
                sale.quota.saturating_sub(crate::chain::flash::initial_local(&sale).iter().sum::<u32>())
            }
            _ => 0,
        };
        let ledger = Ledger::new(
            sale.quota,
            sale.store_quota.clone(),
            sale.stock.clone(),
            sale.member_limit,
            sale.ttl,
            sale.waitlist,
            Some(population),
        );
        StockHolder {
            preorders: Preorders::new(sale.preorder.clone()),
            replica_left: sale.quota,
            ledger,
            servers,
            pool,
            kpis: HolderKpis::default(),
            sale,
            registry,
            queue_wait,
            sellout,
            source: TxnSource::flash(stores),
            next_txn: 0,
        }
    }

    /// Books a unit of the sale paid at `store`'s pickup (in the app; `in_store`: grabbed in
    /// the store) with settlement.
    fn book_sale(
        &mut self,
        settlement: &mut Settlement,
        store: StoreIdx,
        in_store: bool,
    ) -> Result<(), SettlementError> {
        let channel = if in_store { Channel::Store } else { Channel::Online(OnlineChannel::App) };
        let price = self.sale.price;
        self.post(settlement, store, channel, price, false)?;
        self.kpis.payments_booked += 1;
        Ok(())
    }

    /// Records (or, `refund`, refunds) a payment of `amount` in the app with `store`.
    fn post(
        &mut self,
        settlement: &mut Settlement,
        store: StoreIdx,
        channel: Channel,
        amount: Cents,
        refund: bool,
    ) -> Result<(), SettlementError> {
        let sale = Sale { store, channel, method: Payment::MobileQr, gross: amount, discounts: &[], paid: amount };
        let txn = TxnId::new(self.source, self.next_txn);
        self.next_txn += 1;
        let outcome = if refund { settlement.refund(txn, &sale)? } else { settlement.record(txn, &sale)? };
        debug_assert!(!outcome.is_duplicate(), "the holder numbers its transactions once each");
        Ok(())
    }

    /// The holder's first timers (the sweeper, the replica refresh, the pre-order tiers'
    /// window opening and closing and ship date, in that order for each tier).
    pub fn start(&mut self, ctx: &mut Context<'_, CentreMsg>) {
        let now = ctx.now();
        for (i, t) in self.preorders.tiers.iter().enumerate() {
            let tier = u8::try_from(i).expect("at most 255 tiers (checked when the scenario is read)");
            ctx.schedule(t.opens.saturating_since(now), CentreMsg::PreorderOpens { tier });
            ctx.schedule(t.closes.saturating_since(now), CentreMsg::PreorderCloses { tier });
            ctx.schedule(t.ships.saturating_since(now), CentreMsg::PreorderShips { tier });
        }
        if let Expiry::Sweeper { every } = self.sale.expiry {
            ctx.schedule(every, CentreMsg::FlashSweep);
        }
        if let Protocol::UnsafeReadThenWrite { replica_lag } = self.sale.protocol {
            ctx.schedule(replica_lag, CentreMsg::FlashReplica);
        }
    }

    /// A message for the holder. `Err` is a protocol error; a broken ledger stops the run
    /// through `ctx.fail`, naming the invariant.
    pub fn handle(
        &mut self,
        msg: CentreMsg,
        down: &mut Downlink,
        settlement: &mut Settlement,
        ctx: &mut Context<'_, CentreMsg>,
    ) -> Result<(), String> {
        let now = ctx.now();
        match msg {
            CentreMsg::FromStore { from, msg: Up::Grab { client, member, attempt, keyed } } => {
                let server = match self.sale.protocol {
                    Protocol::Buckets { n } => (member % n.max(1)) as usize,
                    Protocol::Atomic | Protocol::UnsafeReadThenWrite { .. } => 0,
                    Protocol::Demarcation { .. } => {
                        return Err(format!("store {} sent a grab to the centre under demarcation", from.0));
                    }
                };
                self.kpis.calls += 1;
                if attempt > 0 {
                    self.kpis.retries_seen += 1;
                }
                let call = Call { kind: CallKind::Grab, from, client, member, keyed, arrived: now };
                self.enqueue(server, call, ctx);
            }
            CentreMsg::FromStore { from, msg: Up::PreOrder { client, member, attempt, keyed } } => {
                if self.preorders.is_empty() {
                    return Err(format!("store {} sent a pre-order to a sale with no tiers", from.0));
                }
                self.kpis.calls += 1;
                if attempt > 0 {
                    self.kpis.retries_seen += 1;
                }
                let call = Call { kind: CallKind::PreOrder, from, client, member, keyed, arrived: now };
                self.enqueue(0, call, ctx);
            }
            CentreMsg::PreorderOpens { tier } => self.preorders.open(usize::from(tier)),
            CentreMsg::PreorderCloses { tier } => self.close_tier(usize::from(tier), down, settlement, ctx),
            CentreMsg::PreorderShips { tier } => {
                for o in self.preorders.ship(usize::from(tier)) {
                    down.send(o.store, Down::PreOrderShipped { client: o.client, tier }, ctx);
                }
            }
            CentreMsg::FromStore { from, msg: Up::ReadReplica { client, attempt } } => {
                self.kpis.replica_reads += 1;
                let lost = self.lost(ctx);
                down.send(from, Down::ReplicaLeft { client, attempt, left: self.replica_left, lost }, ctx);
            }
            CentreMsg::FromStore { from, msg: Up::FlashPay { client, reservation, in_store } } => {
                let ok = self.ledger.pay(ResId(reservation));
                if ok {
                    let store = self.ledger.reservations[reservation as usize].store;
                    if let Err(e) = self.book_sale(settlement, store, in_store) {
                        ctx.fail(e.invariant(), e.to_string());
                    }
                }
                down.send(from, Down::FlashPaid { client, reservation, ok }, ctx);
            }
            CentreMsg::FromStore { from, msg: Up::FlashSold { in_store, .. } } => {
                if !matches!(self.sale.protocol, Protocol::Demarcation { .. }) {
                    return Err(format!("store {} sold from a quota of its own without demarcation", from.0));
                }
                if let Err(e) = self.book_sale(settlement, from, in_store) {
                    ctx.fail(e.invariant(), e.to_string());
                }
            }
            CentreMsg::FromStore { from, msg: Up::QuotaWanted { units } } => {
                // The giver lowers its own quota first, then tells the receiver.
                let grant = units.min(self.pool);
                self.pool -= grant;
                self.kpis.quota_requests += 1;
                self.kpis.quota_granted += u64::from(grant);
                down.send(from, Down::QuotaGrant { units: grant }, ctx);
            }
            CentreMsg::FlashServed { server } => self.served(server as usize, down, settlement, ctx),
            CentreMsg::FlashExpire => self.expire(down, ctx),
            CentreMsg::FlashSweep => {
                self.expire(down, ctx);
                if let Expiry::Sweeper { every } = self.sale.expiry {
                    ctx.schedule(every, CentreMsg::FlashSweep);
                }
            }
            CentreMsg::FlashReplica => {
                self.replica_left = self.ledger.left();
                if let Protocol::UnsafeReadThenWrite { replica_lag } = self.sale.protocol {
                    ctx.schedule(replica_lag, CentreMsg::FlashReplica);
                }
            }
            other => return Err(format!("the stock holder got {other:?}")),
        }
        Ok(())
    }

    fn enqueue(&mut self, server: usize, call: Call, ctx: &mut Context<'_, CentreMsg>) {
        let s = &mut self.servers[server];
        s.queue.push_back(call);
        self.kpis.max_queue = self.kpis.max_queue.max(s.queue.len() as u64);
        if !s.busy {
            self.begin(server, ctx);
        }
    }

    /// A tier's window closes: confirmed, or cancelled with every order refunded (booked
    /// with settlement and told to the shopper's store).
    fn close_tier(
        &mut self,
        tier: usize,
        down: &mut Downlink,
        settlement: &mut Settlement,
        ctx: &mut Context<'_, CentreMsg>,
    ) {
        if let Closed::Cancelled(orders) = self.preorders.close(tier) {
            let price = self.preorders.tiers[tier].price;
            for o in orders {
                if let Err(e) = self.post(settlement, o.store, Channel::Online(OnlineChannel::App), price, true) {
                    ctx.fail(e.invariant(), e.to_string());
                }
                down.send(o.store, Down::PreOrderRefunded { client: o.client, tier: tier as u8 }, ctx);
            }
        }
        if let Err((invariant, detail)) = self.preorders.check() {
            ctx.fail(invariant, detail);
        }
    }

    /// A pre-order call served: a keyed retry finds its order; else the cheapest tier open
    /// and not full takes it, paid now; else no tier.
    fn serve_preorder(
        &mut self,
        call: Call,
        down: &mut Downlink,
        settlement: &mut Settlement,
        ctx: &mut Context<'_, CentreMsg>,
    ) {
        let now = ctx.now();
        let p = &mut self.preorders;
        p.kpis.calls += 1;
        let (outcome, tier) = if let Some((tier, _)) = call.keyed.then(|| p.keyed(call.from, call.client)).flatten() {
            p.kpis.deduplicated += 1;
            (PreorderOutcome::Duplicate, tier)
        } else if let Some(tier) = p.choose() {
            p.order(tier, call.from, call.client, call.member, now);
            let price = p.tiers[tier].price;
            if let Err((invariant, detail)) = p.check() {
                ctx.fail(invariant, detail);
            }
            if let Err(e) = self.post(settlement, call.from, Channel::Online(OnlineChannel::App), price, false) {
                ctx.fail(e.invariant(), e.to_string());
            }
            (PreorderOutcome::Placed, tier as u8)
        } else {
            p.kpis.no_tier += 1;
            (PreorderOutcome::NoTier, u8::MAX)
        };
        let lost = self.lost(ctx);
        down.send(call.from, Down::PreOrderAnswer { client: call.client, tier, outcome, lost }, ctx);
    }

    fn lost(&mut self, ctx: &mut Context<'_, CentreMsg>) -> bool {
        let p = self.sale.client.answer_loss;
        let lost = p > 0.0 && ctx.rng().random::<f64>() < p;
        if lost {
            self.kpis.answers_lost += 1;
        }
        lost
    }

    fn begin(&mut self, server: usize, ctx: &mut Context<'_, CentreMsg>) {
        let s = &mut self.servers[server];
        let Some(call) = s.queue.front() else {
            s.busy = false;
            return;
        };
        s.busy = true;
        let wait = ctx.now().saturating_since(call.arrived);
        self.kpis.queue_wait_ns.saturating_record(wait.as_nanos().max(1));
        self.registry.record_trend(self.queue_wait, ctx.now(), wait);
        let service = SimDuration::from_secs_f64(self.sale.service_s.sample(ctx.rng()).max(0.0));
        self.kpis.busy_s += service.as_secs_f64();
        ctx.schedule(service, CentreMsg::FlashServed { server: server as u16 });
    }

    /// The server finished its front call: decide it and answer.
    fn served(
        &mut self,
        server: usize,
        down: &mut Downlink,
        settlement: &mut Settlement,
        ctx: &mut Context<'_, CentreMsg>,
    ) {
        let now = ctx.now();
        let Some(call) = self.servers[server].queue.pop_front() else { return };
        if call.kind == CallKind::PreOrder {
            self.serve_preorder(call, down, settlement, ctx);
            self.begin(server, ctx);
            return;
        }
        let sold_out_before = self.ledger.kpis.sold_out_at.is_some();
        let outcome = self.decide(server, call, now);
        if !sold_out_before && let Some(at) = self.ledger.kpis.sold_out_at {
            self.registry.record_trend(self.sellout, now, at.saturating_since(self.sale.start));
        }
        let reservation = match outcome {
            (GrabOutcome::Reserved | GrabOutcome::Duplicate, Some(r)) => r.0,
            _ => u32::MAX,
        };
        if outcome.0 == GrabOutcome::Reserved
            && let Err((invariant, detail)) = self.ledger.check(call.from)
        {
            ctx.fail(invariant, detail);
        }
        let lost = self.lost(ctx);
        down.send(call.from, Down::GrabAnswer { client: call.client, reservation, outcome: outcome.0, lost }, ctx);
        if outcome.0 == GrabOutcome::Reserved && self.sale.expiry == Expiry::Exact {
            ctx.schedule(self.sale.ttl, CentreMsg::FlashExpire);
        }
        self.begin(server, ctx);
    }

    fn decide(&mut self, server: usize, call: Call, now: SimTime) -> (GrabOutcome, Option<ResId>) {
        let l = &mut self.ledger;
        if call.keyed
            && let Some(r) = l.keyed(call.from, call.client)
        {
            l.kpis.deduplicated += 1;
            return (GrabOutcome::Duplicate, Some(r));
        }
        if now < self.sale.start {
            l.refused(Refusal::NotOpen);
            return (GrabOutcome::Refused(Refusal::NotOpen), None);
        }
        match self.sale.protocol {
            Protocol::UnsafeReadThenWrite { .. } => {
                // The client saw units on the replica: the decrement does not check.
                let r = l.reserve(call.from, call.client, call.member, 0, now);
                (GrabOutcome::Reserved, Some(r))
            }
            Protocol::Buckets { .. } => {
                let left_elsewhere = self.servers.iter().enumerate().any(|(b, s)| b != server && s.left > 0);
                if self.servers[server].left == 0 {
                    l.refused(Refusal::SoldOut);
                    if left_elsewhere {
                        l.kpis.phantom_sold_out += 1;
                    }
                    return (GrabOutcome::Refused(Refusal::SoldOut), None);
                }
                if let Some(why) = l.refusal(call.from, call.member) {
                    l.refused(why);
                    return (GrabOutcome::Refused(why), None);
                }
                self.servers[server].left -= 1;
                let r = l.reserve(call.from, call.client, call.member, server as u16, now);
                (GrabOutcome::Reserved, Some(r))
            }
            Protocol::Atomic | Protocol::Demarcation { .. } => match l.refusal(call.from, call.member) {
                Some(why) => {
                    l.refused(why);
                    if why == Refusal::SoldOut && l.wait(call.from, call.client, call.member) {
                        return (GrabOutcome::Waitlisted, None);
                    }
                    (GrabOutcome::Refused(why), None)
                }
                None => {
                    let r = l.reserve(call.from, call.client, call.member, 0, now);
                    (GrabOutcome::Reserved, Some(r))
                }
            },
        }
    }

    /// Returns every reservation due, each to the waitlist's first member or its bucket.
    fn expire(&mut self, down: &mut Downlink, ctx: &mut Context<'_, CentreMsg>) {
        let now = ctx.now();
        while let Some(id) = self.ledger.expire_due(now) {
            let r = self.ledger.reservations[id.0 as usize];
            if let Protocol::Buckets { .. } = self.sale.protocol {
                self.servers[usize::from(r.bucket)].left += 1;
            }
            down.send(r.store, Down::FlashReturned { client: r.client, reservation: id.0 }, ctx);
            if let Some((offer, store, client)) = self.ledger.offer(now) {
                if let Err((invariant, detail)) = self.ledger.check(store) {
                    ctx.fail(invariant, detail);
                }
                down.send(
                    store,
                    Down::GrabAnswer { client, reservation: offer.0, outcome: GrabOutcome::Offered, lost: false },
                    ctx,
                );
                if self.sale.expiry == Expiry::Exact {
                    ctx.schedule(self.sale.ttl, CentreMsg::FlashExpire);
                }
            }
        }
    }

    /// Server utilisation over `span`.
    pub fn utilisation(&self, span: SimDuration) -> f64 {
        let s = span.as_secs_f64() * self.servers.len() as f64;
        if s > 0.0 { self.kpis.busy_s / s } else { 0.0 }
    }

    /// Units left in buckets while at least one bucket ran out (buckets only).
    pub fn bucket_leftovers(&self) -> u32 {
        if self.servers.iter().any(|s| s.left == 0) { self.servers.iter().map(|s| s.left).sum() } else { 0 }
    }
}
