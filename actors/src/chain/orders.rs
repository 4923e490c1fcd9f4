//! The order centre: online orders from the chain's app, mini-program and web shoppers,
//! and "endless aisle" orders from store kiosks, routed to the store that fulfils them.
//!
//! Online orders arrive as a non-homogeneous Poisson process per segment (orders per hour,
//! constant within each hour), drawn with everything about each order from the segment's
//! own random stream: so two variants of a chain (more pickers, another transfer time) see
//! the same online orders, whatever else the centres draw meanwhile (common random numbers). Each has a customer near a home store (drawn by the
//! stores' footfall), a basket of SKUs (by category and SKU popularity), a fulfilment
//! choice and maybe a member. Routing: the nearest store to the customer, by straight-line
//! distance, whose stock (as the inventory centre sees it, see [`super::inventory`]) covers
//! every line; a kiosk order skips the store it was placed in. The order goes to that
//! store as its lines and a closing message. The store reserves the stock or says it is
//! short (the view lagged), in which case the order is routed to the next store; after
//! [`MAX_TRIES`] stores, or when no store shows the stock, it is cancelled.
//!
//! A kiosk order is either delivered to the shopper's home from the store that has the
//! item (ship from store) or, for a share [`PlatformSpec::kiosk_collect_share`] of them,
//! shipped to the store it was placed in and collected there (ship to store): the
//! fulfilling store picks it, its units leave in transit ([`Up::TransferSent`]), the centre
//! relays their arrival to the ordering store after the transfer time
//! ([`Down::TransferArrived`]), and that store holds them at its pickup counter
//! ([`Up::TransferReceived`]) until the customer collects them or the hold expires (then
//! they go into its back room: they now belong to it).
//!
//! An order ends collected, delivered, expired or cancelled; one still under way when the
//! run ends is counted as open, by its state, so the books close exactly. The states and
//! who moves an order from one to the next:
//!
//! ```text
//! Routed ──OrderAccepted──▶ Accepted ──OrderPicked (pickup)──▶ Ready ──▶ Collected | Expired
//!   │ ▲                        ├──OrderDispatched──▶ Dispatched ──(delivery time)──▶ Delivered
//!   │ └─OrderShort (reroute)   └──TransferSent (ship to store)──▶ InTransit
//!   └─(no store)─▶ Cancelled        InTransit ──TransferReceived (ordering store)──▶ Ready
//! ```
//!
//! [`PlatformSpec::kiosk_collect_share`]: crate::chain::spec::PlatformSpec::kiosk_collect_share

use hdrhistogram::Histogram;
use rand::RngExt;
use storetwin_engine::{ActorRng, Context, Seed, SimDuration, SimTime};

use crate::chain::channel::Channel;
use crate::chain::inventory::Inventory;
use crate::chain::link::{Down, OrderId, Up};
use crate::chain::platform::{COUPONS, MEMBERS, SETTLEMENT};
use crate::chain::platform::{CentreMsg, Downlink};
use crate::chain::spec::{ChainSpec, Fulfilment, OnlineChannel, StoreIdx};
use crate::money::Cents;
use crate::store::spec::{Payment, PaymentMix, SkuId};
use crate::store::stock::{cumulative, pick};

/// Stream domain of the online segments' orders (one stream per segment, outside any actor).
const ONLINE_ORDERS_DOMAIN: u64 = 0x4f4e_4c49_4e45_4f52; // "ONLINEOR"

/// Stores an order is offered to before it is cancelled.
pub const MAX_TRIES: usize = 3;

/// Where an order came from: an online channel, or a store's kiosk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Online(OnlineChannel),
    Kiosk,
}

impl Source {
    /// Index into per-source statistics: the online channels, then kiosks.
    pub fn index(self) -> usize {
        match self {
            Source::Online(c) => c as usize,
            Source::Kiosk => 3,
        }
    }

    pub const ALL: [Source; 4] = [
        Source::Online(OnlineChannel::App),
        Source::Online(OnlineChannel::MiniProgram),
        Source::Online(OnlineChannel::Web),
        Source::Kiosk,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::Online(c) => c.name(),
            Source::Kiosk => "kiosk",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Sent to a store, waiting for its answer.
    Routed,
    /// The store reserved the stock; being picked.
    Accepted,
    /// Picked, waiting for its customer at the pickup counter.
    Ready,
    /// With a courier or carrier.
    Dispatched,
    /// Ship to store: picked and sent by the fulfilling store, not yet received by the
    /// ordering store (then [`Status::Ready`] at its pickup counter).
    InTransit,
    Collected,
    Delivered,
    Expired,
    Cancelled,
}

impl Status {
    /// Number of states (the length of [`OrderCentre::by_status`]).
    pub const COUNT: usize = 9;

    pub fn is_final(self) -> bool {
        matches!(self, Status::Collected | Status::Delivered | Status::Expired | Status::Cancelled)
    }
}

#[derive(Clone, Debug)]
pub struct Order {
    pub source: Source,
    pub fulfilment: Fulfilment,
    /// The customer's nearest store (for a kiosk order: the store it was placed in).
    pub home: StoreIdx,
    pub lines: Vec<SkuId>,
    pub value: Cents,
    pub member: Option<u32>,
    /// The store that fulfils it (picks it; settles its sale).
    pub store: Option<StoreIdx>,
    pub tries: u8,
    pub status: Status,
    pub placed_at: SimTime,
    pub method: Payment,
    /// Ship to store: when the centre heard the units had left the fulfilling store.
    pub transfer_sent_at: Option<SimTime>,
}

impl Order {
    /// The sales channel it is settled in: its online channel, or the store's for a
    /// kiosk order.
    pub fn channel(&self) -> Channel {
        match self.source {
            Source::Online(c) => Channel::Online(c),
            Source::Kiosk => Channel::Store,
        }
    }

    /// The store whose report the order waits for in its state: the ordering store
    /// (`home`) for a ship-to-store order in transit or at its pickup counter, else the
    /// fulfilling store.
    pub fn reporting_store(&self) -> Option<StoreIdx> {
        match (self.fulfilment, self.status) {
            (Fulfilment::ShipToStore, Status::InTransit | Status::Ready) => Some(self.home),
            _ => self.store,
        }
    }
}

/// Per-source counts and pick times.
#[derive(Clone, Debug)]
pub struct SourceStats {
    pub placed: u64,
    pub value: Cents,
    pub rerouted: u64,
    pub cancelled: u64,
    pub accepted: u64,
    pub picked: u64,
    pub picked_within_target: u64,
    /// Milliseconds from accepted at the store to picked.
    pub pick_ms: Histogram<u64>,
    pub collected: u64,
    pub delivered: u64,
    pub expired: u64,
    /// Ship to store: transfers the fulfilling stores sent, and the ordering stores
    /// received; milliseconds from sent to received (as the centre heard of each).
    pub transfers_sent: u64,
    pub transfers_received: u64,
    pub transfer_ms: Histogram<u64>,
}

impl SourceStats {
    fn new() -> SourceStats {
        SourceStats {
            placed: 0,
            value: Cents::ZERO,
            rerouted: 0,
            cancelled: 0,
            accepted: 0,
            picked: 0,
            picked_within_target: 0,
            pick_ms: crate::store::metrics::wait_histogram(),
            collected: 0,
            delivered: 0,
            expired: 0,
            transfers_sent: 0,
            transfers_received: 0,
            transfer_ms: crate::store::metrics::wait_histogram(),
        }
    }
}

#[derive(Clone)]
pub struct OrderCentre {
    pub orders: Vec<Order>,
    /// For each store, every store by distance from it (itself first; ties by index).
    nearest: Vec<Vec<StoreIdx>>,
    /// Cumulative weights of the stores as a customer's home (their expected footfall).
    home_weights: Vec<f64>,
    /// Cumulative weights of the SKUs in online baskets.
    sku_weights: Vec<f64>,
    prices: Vec<Cents>,
    pick_target: SimDuration,
    population: u32,
    /// Each online segment's stream: its arrival times and its orders.
    segment_rng: Vec<ActorRng>,
    pub stats: Vec<SourceStats>,
}

impl OrderCentre {
    /// The order centre of `spec`; `seed` (the centres' shard seed) gives each online
    /// segment's stream.
    pub fn new(spec: &ChainSpec, seed: Seed) -> OrderCentre {
        let n = spec.stores.len();
        let nearest = (0..n)
            .map(|from| {
                let (fx, fy) = spec.stores[from].location_km;
                let mut by: Vec<(f64, usize)> = (0..n)
                    .map(|to| {
                        let (tx, ty) = spec.stores[to].location_km;
                        ((fx - tx).hypot(fy - ty), to)
                    })
                    .collect();
                by.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                by.into_iter().map(|(_, i)| StoreIdx(i as u16)).collect()
            })
            .collect();
        let home_weights = cumulative(spec.stores.iter().map(|s| s.world.store.arrivals_per_hour.iter().sum::<f64>()));
        let category_popularity: Vec<f64> = spec
            .stores
            .first()
            .map(|s| s.world.store.categories.iter().map(|c| c.popularity).collect())
            .unwrap_or_default();
        let sku_weights = cumulative(spec.catalogue.iter().map(|item| {
            item.popularity * category_popularity.get(usize::from(item.category.0)).copied().unwrap_or(1.0)
        }));
        OrderCentre {
            orders: Vec::new(),
            nearest,
            home_weights,
            sku_weights,
            prices: spec.catalogue.iter().map(|i| i.price).collect(),
            pick_target: spec.platform.pick_target,
            population: spec.members.population,
            segment_rng: (0..spec.online.len()).map(|i| seed.stream(ONLINE_ORDERS_DOMAIN, i as u64)).collect(),
            stats: Source::ALL.iter().map(|_| SourceStats::new()).collect(),
        }
    }

    /// Orders by status: how the day ended for each.
    pub fn by_status(&self, source: Option<Source>) -> [u64; Status::COUNT] {
        let mut counts = [0u64; Status::COUNT];
        for o in self.orders.iter().filter(|o| source.is_none_or(|s| s == o.source)) {
            counts[o.status as usize] += 1;
        }
        counts
    }

    /// Routes `order` to the nearest store (not tried yet) whose stock covers it, or
    /// cancels it.
    fn route(&mut self, id: OrderId, inventory: &Inventory, down: &mut Downlink, ctx: &mut Context<'_, CentreMsg>) {
        let o = &self.orders[id.0 as usize];
        let tried = usize::from(o.tries);
        let skip_home = o.source == Source::Kiosk;
        // The store that just refused it (if any) is not asked again straight away.
        let refused = o.store;
        let target = if tried >= MAX_TRIES {
            None
        } else {
            self.nearest[usize::from(o.home.0)]
                .iter()
                .copied()
                .find(|&s| !(skip_home && s == o.home) && Some(s) != refused && inventory.has_all(s, &o.lines))
        };
        let o = &mut self.orders[id.0 as usize];
        let Some(store) = target else {
            o.status = Status::Cancelled;
            self.stats[o.source.index()].cancelled += 1;
            return;
        };
        if o.tries > 0 {
            self.stats[o.source.index()].rerouted += 1;
        }
        o.tries += 1;
        o.store = Some(store);
        o.status = Status::Routed;
        let channel = match o.source {
            Source::Online(c) => c,
            Source::Kiosk => OnlineChannel::App,
        };
        for &sku in &o.lines {
            down.send(store, Down::OrderLine { order: id, sku }, ctx);
            ctx.send(crate::chain::platform::INVENTORY, SimDuration::ZERO, CentreMsg::Allocate { store, sku });
        }
        let lines = o.lines.len() as u16;
        down.send(store, Down::OrderPlaced { order: id, lines, fulfilment: o.fulfilment, channel }, ctx);
    }

    fn new_order(&mut self, order: Order) -> OrderId {
        let id = OrderId(self.orders.len() as u32);
        let s = &mut self.stats[order.source.index()];
        s.placed += 1;
        s.value += order.value;
        self.orders.push(order);
        id
    }

    /// An online shopper of `segment` orders now; returns when the segment's next order
    /// comes (if any).
    pub fn online_arrival(
        &mut self,
        spec: &ChainSpec,
        segment: usize,
        inventory: &Inventory,
        down: &mut Downlink,
        ctx: &mut Context<'_, CentreMsg>,
    ) {
        let seg = &spec.online[segment];
        let rng = &mut self.segment_rng[segment];
        let home = StoreIdx(pick(&self.home_weights, rng.random::<f64>()) as u16);
        let lines_n = seg.basket.sample(rng).round().max(1.0) as usize;
        let lines: Vec<SkuId> =
            (0..lines_n).map(|_| SkuId(pick(&self.sku_weights, rng.random::<f64>()) as u32)).collect();
        let u: f64 = rng.random();
        let fulfilment = if u < seg.fulfilment[0] {
            Fulfilment::Pickup
        } else if u < seg.fulfilment[0] + seg.fulfilment[1] {
            Fulfilment::SameCity
        } else {
            Fulfilment::ShipFromStore
        };
        let member = (rng.random::<f64>() < seg.member_share).then(|| rng.random_range(0..self.population.max(1)));
        let value = lines.iter().fold(Cents::ZERO, |v, s| v + self.prices[s.0 as usize]);
        let method = draw_payment(&seg.payment, rng.random::<f64>());
        let u_next = rng.random::<f64>();
        let id = self.new_order(Order {
            method,
            source: Source::Online(seg.channel),
            fulfilment,
            home,
            lines,
            value,
            member,
            store: None,
            tries: 0,
            status: Status::Routed,
            placed_at: ctx.now(),
            transfer_sent_at: None,
        });
        self.route(id, inventory, down, ctx);
        if let Some(next) = next_arrival(ctx.now(), &seg.orders_per_hour, u_next, spec.duration) {
            ctx.schedule(next.saturating_since(ctx.now()), CentreMsg::OnlineArrival { segment: segment as u16 });
        }
    }

    /// A message from a store about an order, or a delivery's end.
    pub fn handle(
        &mut self,
        msg: CentreMsg,
        spec: &ChainSpec,
        inventory: &Inventory,
        down: &mut Downlink,
        ctx: &mut Context<'_, CentreMsg>,
    ) -> Result<(), String> {
        match msg {
            CentreMsg::FromStore { from, msg } => match msg {
                Up::KioskOrder { sku, member, collect } => {
                    let id = self.new_order(Order {
                        method: Payment::MobileQr,
                        source: Source::Kiosk,
                        fulfilment: if collect { Fulfilment::ShipToStore } else { Fulfilment::ShipFromStore },
                        home: from,
                        lines: vec![sku],
                        value: self.prices[sku.0 as usize],
                        member,
                        store: None,
                        tries: 0,
                        status: Status::Routed,
                        placed_at: ctx.now(),
                        transfer_sent_at: None,
                    });
                    self.route(id, inventory, down, ctx);
                }
                Up::OrderAccepted { order } => {
                    let o = self.order_at(order, from, Status::Routed)?;
                    o.status = Status::Accepted;
                    let source = o.source.index();
                    // Charged now, with the member's coupons and points if they use them.
                    let charge = if o.member.is_some() && !spec.campaigns.is_empty() {
                        (COUPONS, CentreMsg::OnlineCoupons { order })
                    } else if o.member.is_some() {
                        (MEMBERS, CentreMsg::OnlineRedeem { order })
                    } else {
                        (SETTLEMENT, CentreMsg::OnlineCharge { order, points_value: 0 })
                    };
                    ctx.send(charge.0, SimDuration::ZERO, charge.1);
                    self.stats[source].accepted += 1;
                }
                Up::OrderShort { order } => {
                    self.order_at(order, from, Status::Routed)?;
                    self.route(order, inventory, down, ctx);
                }
                Up::OrderPicked { order, pick_ms } => {
                    let target_ms = self.pick_target.as_nanos() / 1_000_000;
                    let o = self.order_at(order, from, Status::Accepted)?;
                    if o.fulfilment == Fulfilment::Pickup {
                        o.status = Status::Ready;
                    }
                    let source = o.source.index();
                    let s = &mut self.stats[source];
                    s.picked += 1;
                    if u64::from(pick_ms) <= target_ms {
                        s.picked_within_target += 1;
                    }
                    s.pick_ms.saturating_record(u64::from(pick_ms).max(1));
                }
                Up::OrderDispatched { order, after_ms } => {
                    let o = self.order_at(order, from, Status::Accepted)?;
                    o.status = Status::Dispatched;
                    let mut after = SimDuration::from_millis(u64::from(after_ms));
                    if o.fulfilment == Fulfilment::SameCity {
                        let now = ctx.now();
                        for d in spec.courier_delays.iter().filter(|d| d.from <= now && now < d.to) {
                            after = SimDuration::from_nanos(after.as_nanos().saturating_add(d.extra.as_nanos()));
                        }
                    }
                    ctx.schedule(after, CentreMsg::Delivered { order });
                }
                Up::TransferSent { order, after_ms } => {
                    let o = self.order_at(order, from, Status::Accepted)?;
                    if o.fulfilment != Fulfilment::ShipToStore {
                        return Err(format!("order {} ({:?}) sent to a store", order.0, o.fulfilment));
                    }
                    o.status = Status::InTransit;
                    o.transfer_sent_at = Some(ctx.now());
                    let source = o.source.index();
                    self.stats[source].transfers_sent += 1;
                    ctx.schedule(SimDuration::from_millis(u64::from(after_ms)), CentreMsg::TransferArrives { order });
                }
                Up::TransferReceived { order } => {
                    let now = ctx.now();
                    let o = self.order_at(order, from, Status::InTransit)?;
                    o.status = Status::Ready;
                    let took = now.saturating_since(o.transfer_sent_at.unwrap_or(now));
                    let source = o.source.index();
                    let s = &mut self.stats[source];
                    s.transfers_received += 1;
                    s.transfer_ms.saturating_record((took.as_nanos() / 1_000_000).max(1));
                }
                Up::OrderCollected { order, .. } => {
                    let o = self.order_at(order, from, Status::Ready)?;
                    o.status = Status::Collected;
                    let source = o.source.index();
                    self.stats[source].collected += 1;
                    ctx.send(MEMBERS, SimDuration::ZERO, CentreMsg::OnlineEarn { order });
                }
                Up::OrderExpired { order } => {
                    let o = self.order_at(order, from, Status::Ready)?;
                    o.status = Status::Expired;
                    let source = o.source.index();
                    self.stats[source].expired += 1;
                    ctx.send(SETTLEMENT, SimDuration::ZERO, CentreMsg::OnlineRefund { order });
                    ctx.send(MEMBERS, SimDuration::ZERO, CentreMsg::OnlineReturnPoints { order });
                    if !spec.campaigns.is_empty() {
                        ctx.send(COUPONS, SimDuration::ZERO, CentreMsg::OnlineCouponsBack { order });
                    }
                }
                other => return Err(format!("order centre got {other:?} from store {}", from.0)),
            },
            CentreMsg::TransferArrives { order } => {
                // The units reach the ordering store: its office gets the lines, then the
                // arrival, and holds them for the customer.
                let o = self.orders.get(order.0 as usize).ok_or_else(|| format!("unknown order {}", order.0))?;
                if o.status != Status::InTransit {
                    return Err(format!("order {} arrived in state {:?}", order.0, o.status));
                }
                for &sku in &o.lines {
                    down.send(o.home, Down::OrderLine { order, sku }, ctx);
                }
                let lines = o.lines.len() as u16;
                down.send(o.home, Down::TransferArrived { order, lines }, ctx);
            }
            CentreMsg::Delivered { order } => {
                let o = self.orders.get_mut(order.0 as usize).ok_or_else(|| format!("unknown order {}", order.0))?;
                if o.status != Status::Dispatched {
                    return Err(format!("order {} delivered in state {:?}", order.0, o.status));
                }
                o.status = Status::Delivered;
                self.stats[o.source.index()].delivered += 1;
                ctx.send(MEMBERS, SimDuration::ZERO, CentreMsg::OnlineEarn { order });
            }
            other => return Err(format!("order centre got {other:?}")),
        }
        Ok(())
    }

    /// The order `id`, which store `from` reports on, checked to be in `status` there.
    fn order_at(&mut self, id: OrderId, from: StoreIdx, status: Status) -> Result<&mut Order, String> {
        let o = self.orders.get_mut(id.0 as usize).ok_or_else(|| format!("unknown order {}", id.0))?;
        if o.reporting_store() != Some(from) || o.status != status {
            return Err(format!(
                "order {} reported by store {} in state {:?} at store {:?} (expected {status:?})",
                id.0,
                from.0,
                o.status,
                o.reporting_store()
            ));
        }
        Ok(o)
    }

    /// Every order is in exactly one state, and every transfer sent is in transit or was
    /// received; `Err` says which count does not add up.
    pub fn check(&self) -> Result<(), String> {
        // Per source: ship-to-store orders the ordering store has received (at its counter
        // or ended there).
        let mut arrived = [0u64; Source::ALL.len()];
        for o in &self.orders {
            let transferred = o.fulfilment == Fulfilment::ShipToStore && o.transfer_sent_at.is_some();
            let past_transit =
                matches!(o.status, Status::InTransit | Status::Ready | Status::Collected | Status::Expired);
            if o.fulfilment == Fulfilment::ShipToStore && o.source != Source::Kiosk {
                return Err(format!("{} order shipped to a store", o.source.name()));
            }
            if o.fulfilment == Fulfilment::ShipToStore && transferred != past_transit {
                return Err(format!(
                    "a ship-to-store order {:?} with transfer sent at {:?}",
                    o.status, o.transfer_sent_at
                ));
            }
            if o.fulfilment == Fulfilment::ShipToStore && past_transit && o.status != Status::InTransit {
                arrived[o.source.index()] += 1;
            }
        }
        for source in Source::ALL {
            let s = &self.stats[source.index()];
            let by = self.by_status(Some(source));
            if s.transfers_sent != s.transfers_received + by[Status::InTransit as usize] {
                return Err(format!(
                    "{}: {} transfers sent, {} received + {} in transit",
                    source.name(),
                    s.transfers_sent,
                    s.transfers_received,
                    by[Status::InTransit as usize]
                ));
            }
            if s.transfers_received != arrived[source.index()] {
                return Err(format!(
                    "{}: {} transfers received, {} ship-to-store orders at or past the ordering store's counter",
                    source.name(),
                    s.transfers_received,
                    arrived[source.index()]
                ));
            }
            let counted = by.iter().sum::<u64>();
            if counted != s.placed {
                return Err(format!("{}: {} orders placed, {counted} accounted for", source.name(), s.placed));
            }
            let ended = [
                (Status::Collected, s.collected),
                (Status::Delivered, s.delivered),
                (Status::Expired, s.expired),
                (Status::Cancelled, s.cancelled),
            ];
            for (status, n) in ended {
                if by[status as usize] != n {
                    return Err(format!(
                        "{}: {n} {status:?} counted, {} in that state",
                        source.name(),
                        by[status as usize]
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The payment method of a draw `u` from `mix`.
fn draw_payment(mix: &PaymentMix, u: f64) -> Payment {
    let shares = [mix.mobile_qr, mix.card, mix.cash, mix.prepaid];
    let mut acc = 0.0;
    for (share, method) in shares.iter().zip(Payment::ALL) {
        acc += share;
        if u < acc {
            return method;
        }
    }
    Payment::Card
}

/// The first arrival after `now` of a Poisson process with `per_hour[h]` arrivals per hour
/// in hour `h` from the start (none after the last entry or after `end`), from a uniform
/// draw `u`: walks the hours consuming an exponential amount of "rate × time".
pub fn next_arrival(now: SimTime, per_hour: &[f64], u: f64, end: SimDuration) -> Option<SimTime> {
    let mut work = -(1.0 - u).ln();
    let mut t = now.as_secs_f64();
    let end = end.as_secs_f64();
    loop {
        let hour = (t / 3600.0).floor() as usize;
        let rate = *per_hour.get(hour)?;
        let hour_end = ((hour + 1) as f64 * 3600.0).min(end);
        if t >= end {
            return None;
        }
        let rate_s = rate.max(0.0) / 3600.0;
        let room = (hour_end - t) * rate_s;
        if rate_s > 0.0 && work <= room {
            return Some(SimTime::from_secs_f64(t + work / rate_s));
        }
        work -= room;
        t = hour_end;
    }
}

impl OrderCentre {
    /// When the first order of `segment` comes (from the segment's stream).
    pub fn first_arrival(&mut self, spec: &ChainSpec, segment: usize) -> Option<SimTime> {
        let u = self.segment_rng[segment].random::<f64>();
        next_arrival(SimTime::ZERO, &spec.online[segment].orders_per_hour, u, spec.duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_follow_the_hourly_rates() {
        // 0 per hour, then 3600 per hour: the first arrival is in the second hour.
        let end = SimDuration::from_secs(7200);
        let t = next_arrival(SimTime::ZERO, &[0.0, 3600.0], 0.5, end).unwrap();
        assert!(t.as_secs_f64() > 3600.0 && t.as_secs_f64() < 3602.0, "{t}");
        assert_eq!(next_arrival(SimTime::from_secs(7199), &[0.0, 1.0], 0.999, end), None);
        // Mean gap over many draws matches 1 / rate.
        let mut now = SimTime::ZERO;
        let mut n = 0;
        let mut u = 0.123;
        while let Some(t) = next_arrival(now, &[360.0], u, SimDuration::from_secs(3600)) {
            now = t;
            n += 1;
            u = (u * 9301.0 + 0.49297) % 1.0;
        }
        assert!((300..420).contains(&n), "{n} arrivals in an hour at 360 per hour");
    }
}
