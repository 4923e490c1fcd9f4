//! The back office of a store in a chain: its link to the centres, its pickers and its
//! pickup counter. A store on its own has no office (and no extra actor), so a one-store
//! scenario runs exactly as before.
//!
//! Everything the store says to the centres leaves through the office, which stamps it
//! with its arrival time (the [`Link`]: least latency plus a random extra, or after a
//! partition ends) and keeps it in the outbox the shard runner collects at the end of
//! each window. What the centres say arrives as [`StoreMsg::Platform`].
//!
//! An online order's life in the store: its lines arrive, then [`Down::OrderPlaced`]; the
//! office asks the store (the owner of the stock) to reserve every line at once
//! ([`StoreMsg::ReserveOrder`]): units leave the back room first, then the shelf, and are
//! held for the order (no shopper can take them). If a line is short the order goes back
//! to the order centre ([`Up::OrderShort`]); otherwise it queues for a picker (FIFO,
//! `pickers` of them, pick time by lines). A picked order is then handed over: to a
//! courier (same-city) or a carrier (ship from store), or it waits for its customer at the
//! pickup counter. A customer comes after a random time (or never: a no-show), queues at
//! the counter (FIFO, `pickup_staff` servers) and collects; an order not collected within
//! the hold expires and its units go back to the back room.
//!
//! Ship to store (a kiosk order to collect at the store it was placed in): the fulfilling
//! store picks it as above, then its units leave in transit ([`StoreMsg::SendUnit`],
//! [`Up::TransferSent`], after a transfer time drawn from `transfer_s`). The ordering
//! store's office gets their lines and [`Down::TransferArrived`] from the order centre,
//! takes the units in ([`StoreMsg::ReceiveUnit`]: received and reserved for the order) and
//! holds them at its pickup counter exactly as a picked pickup order: the customer comes
//! (or not), collects, or the hold expires and the units go into this store's back room.
//!
//! The office also syncs the store's stock with the inventory centre: every
//! `stock_sync_every`, the SKUs whose free stock changed since the last sync.
//!
//! Coupons at the till: the office holds each shopper's coupons (claimed on this visit, or
//! fetched from the centre when a member is identified), chooses the best allowed
//! combination and asks the coupon centre to redeem it ([`Up::Redeem`]); the till waits
//! for the answers, at most `coupon_timeout`. While the link is down, or when the wait
//! times out (a partition that began between request and reply), the store's offline
//! policy decides: `refuse` applies only the coupons the centre already granted and gives
//! the others back ([`Up::Release`]: the centre releases the lock or reverses the
//! redemption, whichever it did), `accept_and_sync` applies them all and lets the centre's
//! late answers settle it (a refusal is then an offline loss, borne by the store's owner).
//! Every answer is expected once and matched to its (transaction, serial): a late answer is
//! counted, never applied twice, and no serial is left locked.
//!
//! Registration: an app user who is not a member and logs in to the WiFi portal is offered
//! membership and registers with probability `register_share`, drawn from the office's
//! own stream (so no other draw of the store moves); the member centre answers with the new
//! member id ([`Down::Registered`]) and the welcome coupons, and the shopper pays as that
//! member.

use std::collections::{BTreeMap, VecDeque};

use storetwin_engine::{ActorRng, Context, Envelope, Seed, SimDuration, SimTime};

use crate::chain::coupons::{AppliedCoupon, BasketLine, Checkout, HeldCoupon, SaleChannel, Serial, best_combination};
use crate::chain::link::{Down, Link, OrderId, PLATFORM_SHARD, PlatformMsg, Txn, Up, store_shard};
use crate::chain::platform;
use crate::chain::spec::{
    CampaignId, CampaignSpec, ChainSpec, Fulfilment, IssueChannel, OfflineCoupons, PlatformSpec, StoreIdx,
};
use crate::store::spec::SkuId;
use crate::store::world::{ShopperId, StoreMsg, View};

/// An order in this store, from its first line to its hand-over.
#[derive(Clone, Debug)]
pub struct StoreOrder {
    pub lines: Vec<SkuId>,
    pub fulfilment: Fulfilment,
    pub state: OrderState,
    /// When the store accepted it (reserved its stock).
    pub accepted_at: SimTime,
    /// When the customer joined the pickup counter's queue, and how long they waited in
    /// it before being served.
    pub queued_at: SimTime,
    pub counter_wait: SimDuration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    /// Lines arriving.
    Receiving,
    /// Waiting for the store to reserve its stock.
    Reserving,
    /// Waiting for a picker, or being picked.
    Picking,
    /// Picked; waiting for its customer (pickup orders).
    Ready,
    /// Its customer is at the counter (queued or being served).
    AtCounter,
}

/// The office's counts, for the store's KPIs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OfficeKpis {
    pub orders_accepted: u64,
    pub orders_short: u64,
    pub orders_picked: u64,
    pub picked_within_target: u64,
    /// Seconds from accepted to picked, summed (for the mean).
    pub pick_s_total: f64,
    pub collected: u64,
    pub counter_wait_s_total: f64,
    pub expired: u64,
    pub dispatched: u64,
    pub no_shows: u64,
    /// Picker-seconds spent picking (for utilisation).
    pub picker_busy_s: f64,
    pub messages_sent: u64,
    /// Messages that had to wait for a partition to end.
    pub messages_held: u64,
    pub stock_syncs: u64,
    pub kiosk_orders_sent: u64,
    /// Kiosk orders whose shopper chose to collect them here (ship to store).
    pub kiosk_collect_orders: u64,
    /// Ship-to-store transfers this store fulfilled and sent, and received for its own
    /// kiosk orders (orders and units).
    pub transfers_sent: u64,
    pub transfer_units_sent: u64,
    pub transfers_received: u64,
    pub transfer_units_received: u64,
    /// Coupons: claims sent and answered, coupons held at checkout, redemptions asked for
    /// and granted, and what the offline policy did while the link was down.
    pub claims_sent: u64,
    pub coupons_issued: u64,
    pub claims_refused: u64,
    pub wallet_fetches: u64,
    pub redemptions_asked: u64,
    pub redemptions_granted: u64,
    pub redemptions_refused: u64,
    pub coupons_refused_offline: u64,
    pub coupons_accepted_offline: u64,
    /// Coupons accepted offline that the centre then refused (redeemed elsewhere, over a
    /// limit or budget): the discount was given anyway (an offline loss).
    pub offline_conflicts: u64,
    /// Till payments that stopped waiting for the coupon centre after `coupon_timeout`;
    /// their coupons not yet answered, given back (policy `refuse`) or applied anyway
    /// (`accept_and_sync`, counted in `coupons_accepted_offline` too).
    pub coupon_timeouts: u64,
    pub coupons_given_up: u64,
    pub coupons_accepted_on_timeout: u64,
    /// Answers that came after their till gave up on them: granted (the redemption is
    /// reversed by the release that follows it) or refused.
    pub late_granted_released: u64,
    pub late_refused_released: u64,
    /// Non-members offered membership at the WiFi portal, those who registered, and the
    /// member ids the centre gave them.
    pub membership_offers: u64,
    pub registrations_sent: u64,
    pub registrations: u64,
    /// Till payments (cents) sent to settlement: what the lanes took.
    pub paid_sent: i64,
    /// Coupon answers still due when the run ended (requests or answers in flight).
    pub coupon_answers_due_at_close: u64,
    /// Discount given at the tills, in cents.
    pub discount_given: i64,
    /// Till payments (cents) whose record reaches settlement only after the run ends
    /// (sent in the last moments, or held by a partition that outlasts the day).
    pub paid_in_flight_at_close: i64,
}

#[derive(Clone)]
pub struct Office {
    pub store: StoreIdx,
    link: Link,
    platform: PlatformSpec,
    pickers: u32,
    pickup_staff: u32,
    population: u32,
    day_end: SimTime,
    /// Messages to the centres sent in the current window, with their arrival time.
    pub outbox: Vec<Envelope<PlatformMsg>>,
    /// Orders in the store now, by id (removed when handed over or expired).
    pub orders: BTreeMap<OrderId, StoreOrder>,
    /// Units sent in transit, and units received, whose report to the order centre
    /// ([`Up::TransferSent`], [`Up::TransferReceived`]) arrives only after the run ends:
    /// the chain's transfer books at close count them as on the wire.
    pub sent_reported_after_close: Vec<SkuId>,
    pub received_reported_after_close: Vec<SkuId>,
    pickers_free: u32,
    pick_queue: VecDeque<OrderId>,
    counter_free: u32,
    counter_queue: VecDeque<OrderId>,
    /// Free stock per SKU at the last sync (what the inventory centre was told).
    synced: Vec<u32>,
    /// This store's transaction numbers, one counter per centre it writes to (each centre
    /// keeps every source's numbers to apply each message once).
    settlement_seq: u32,
    members_seq: u32,
    campaigns: Vec<CampaignSpec>,
    offline_coupons: OfflineCoupons,
    /// The coupons each shopper holds in their app, by shopper id.
    wallets: BTreeMap<u32, Vec<HeldCoupon>>,
    /// Till payments waiting for the coupon centre's answers, by transaction.
    redeeming: BTreeMap<u32, Redeeming>,
    /// Answers still due for coupons whose till did not wait for them, by (transaction,
    /// serial): accepted offline, or given up after a timeout.
    late: BTreeMap<(u32, u32), Late>,
    coupon_timeout: SimDuration,
    /// Shoppers who registered on this visit: their new member ids.
    registered: BTreeMap<u32, u32>,
    register_share: f64,
    /// The registration draws (a stream of the office's own).
    join_rng: ActorRng,
    pub kpis: OfficeKpis,
    /// The store's side of the chain's flash sale, if there is one.
    pub flash: Option<Box<crate::chain::flash::desk::FlashDesk>>,
}

impl crate::chain::flash::desk::Uplink for Office {
    fn up(&mut self, msg: Up, ctx: &mut Context<'_, StoreMsg>) -> SimTime {
        self.send_up(platform::FLASH, msg, ctx)
    }
}

/// What became of a coupon whose answer the till did not wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Late {
    /// Applied at the till; the centre's answer says whether it was an offline loss.
    Applied,
    /// Not applied; [`Up::Release`] follows the request, so the centre gives back whatever
    /// it did.
    GivenUp,
}

/// Stream domain of an office's registration draws.
const JOIN_DOMAIN: u64 = 0x4a4f_494e_5354_4f52; // "JOINSTOR"

/// A till payment whose coupons the coupon centre is redeeming.
#[derive(Clone, Debug)]
struct Redeeming {
    shopper: ShopperId,
    lane: crate::store::spec::LaneId,
    coupons: Vec<AppliedCoupon>,
    answered: Vec<bool>,
    ok: Vec<bool>,
}

impl Office {
    /// The office of `store`; `seed` is its store's (registration draws come from a stream
    /// of it of their own).
    pub fn new(chain: &ChainSpec, store: StoreIdx, seed: Seed) -> Office {
        let spec = &chain.stores[usize::from(store.0)];
        let synced = spec.world.store.catalogue.iter().map(|s| s.shelf + s.back_room).collect();
        Office {
            store,
            link: Link::of(chain, store),
            platform: chain.platform.clone(),
            pickers: spec.pickers,
            pickup_staff: spec.pickup_staff,
            population: chain.members.population,
            day_end: SimTime::ZERO.saturating_add(chain.duration),
            outbox: Vec::new(),
            orders: BTreeMap::new(),
            sent_reported_after_close: Vec::new(),
            received_reported_after_close: Vec::new(),
            pickers_free: spec.pickers,
            pick_queue: VecDeque::new(),
            counter_free: spec.pickup_staff,
            counter_queue: VecDeque::new(),
            synced,
            settlement_seq: 0,
            members_seq: 0,
            campaigns: chain.campaigns.clone(),
            offline_coupons: spec.offline_coupons,
            wallets: BTreeMap::new(),
            redeeming: BTreeMap::new(),
            late: BTreeMap::new(),
            coupon_timeout: chain.platform.coupon_timeout,
            registered: BTreeMap::new(),
            register_share: chain.members.register_share,
            join_rng: seed.stream(JOIN_DOMAIN, u64::from(store.0)),
            kpis: OfficeKpis::default(),
            flash: crate::chain::flash::desk::FlashDesk::for_store(chain, store, seed).map(Box::new),
        }
    }

    /// The chain-wide member id of a member shopper of this store: a fixed function of the
    /// store and the shopper (no random draw, so the store's day is unchanged), spread
    /// over the member population.
    pub fn member_id(&self, shopper: crate::store::world::ShopperId) -> u32 {
        let key = (u64::from(self.store.0) << 32) | u64::from(shopper.0);
        (storetwin_engine::rng::mix(key) % u64::from(self.population.max(1))) as u32
    }

    /// The member id the shopper pays as: a member's, or the one the shopper registered
    /// for on this visit; `None` for a non-member.
    pub fn member_of(&self, shopper: ShopperId, view: &View<'_>) -> Option<u32> {
        if view.shoppers[shopper.0 as usize].member {
            Some(self.member_id(shopper))
        } else {
            self.registered.get(&shopper.0).copied()
        }
    }

    /// Coupon answers still due at the till (waiting, or after it gave up): none should be
    /// left once the links are quiet.
    pub fn coupon_answers_due(&self) -> u64 {
        let waiting: usize = self.redeeming.values().map(|r| r.answered.iter().filter(|a| !**a).count()).sum();
        (waiting + self.late.len()) as u64
    }

    pub fn pickers(&self) -> u32 {
        self.pickers
    }

    /// Pickers busy picking an order now.
    pub fn pickers_busy(&self) -> u32 {
        self.pickers.saturating_sub(self.pickers_free)
    }

    pub fn pickup_staff(&self) -> u32 {
        self.pickup_staff
    }

    /// Orders still in the store, by state: what is open when the run ends.
    pub fn open_orders(&self) -> impl Iterator<Item = (&OrderId, &StoreOrder)> {
        self.orders.iter()
    }

    /// Sends `msg` to centre actor `to` over the link; returns when it arrives.
    pub fn send_up(&mut self, to: storetwin_engine::ActorId, msg: Up, ctx: &mut Context<'_, StoreMsg>) -> SimTime {
        let now = ctx.now();
        let at = self.link.arrival(now, ctx.rng());
        if self.link.down_until(now).is_some() {
            self.kpis.messages_held += 1;
        }
        self.kpis.messages_sent += 1;
        if let Up::Payment { paid, .. } = msg {
            self.kpis.paid_sent += i64::from(paid);
            if at > self.day_end {
                self.kpis.paid_in_flight_at_close += i64::from(paid);
            }
        }
        self.outbox.push(Envelope {
            at,
            from: store_shard(self.store),
            to_shard: PLATFORM_SHARD,
            to,
            msg: PlatformMsg::Up { from: self.store, msg },
        });
        at
    }
}

pub fn start(office: &mut Office, ctx: &mut Context<'_, StoreMsg>) {
    ctx.schedule(office.platform.stock_sync_every, StoreMsg::SyncStock);
    if let Some(desk) = office.flash.as_mut() {
        crate::chain::flash::desk::start(desk, ctx);
    }
}

/// Runs `f` on the office's flash desk, with the office as its way to the centres.
fn with_desk(
    office: &mut Office,
    ctx: &mut Context<'_, StoreMsg>,
    f: impl FnOnce(&mut crate::chain::flash::desk::FlashDesk, &mut Office, &mut Context<'_, StoreMsg>),
) {
    match office.flash.take() {
        Some(mut desk) => {
            f(&mut desk, office, ctx);
            office.flash = Some(desk);
        }
        None => ctx.fail("message routing", "a flash-sale message at a store with no flash sale".to_string()),
    }
}

/// A message to the office.
pub fn handle(office: &mut Office, msg: StoreMsg, view: &View<'_>, ctx: &mut Context<'_, StoreMsg>) {
    let now = ctx.now();
    match msg {
        StoreMsg::Flash(m) => {
            with_desk(office, ctx, |desk, up, ctx| crate::chain::flash::desk::handle(desk, m, up, ctx))
        }
        StoreMsg::Platform(
            down @ (Down::GrabAnswer { .. }
            | Down::ReplicaLeft { .. }
            | Down::FlashPaid { .. }
            | Down::FlashReturned { .. }
            | Down::QuotaGrant { .. }
            | Down::PreOrderAnswer { .. }
            | Down::PreOrderRefunded { .. }
            | Down::PreOrderShipped { .. }),
        ) => with_desk(office, ctx, |desk, up, ctx| crate::chain::flash::desk::answer(desk, down, up, ctx)),
        StoreMsg::Platform(down) => match down {
            Down::OrderLine { order, sku } => {
                let entry = office.orders.entry(order).or_insert_with(|| StoreOrder {
                    lines: Vec::new(),
                    fulfilment: Fulfilment::Pickup,
                    state: OrderState::Receiving,
                    accepted_at: now,
                    queued_at: now,
                    counter_wait: SimDuration::ZERO,
                });
                entry.lines.push(sku);
            }
            Down::OrderPlaced { order, lines, fulfilment, .. } => {
                let Some(o) = office.orders.get_mut(&order) else {
                    ctx.fail(
                        "order lifecycle",
                        format!("order {} placed with no lines at store {}", order.0, office.store.0),
                    );
                    return;
                };
                if o.lines.len() != usize::from(lines) || o.state != OrderState::Receiving {
                    ctx.fail(
                        "order lifecycle",
                        format!(
                            "order {} arrived with {} of {lines} lines in state {:?}",
                            order.0,
                            o.lines.len(),
                            o.state
                        ),
                    );
                    return;
                }
                o.fulfilment = fulfilment;
                o.state = OrderState::Reserving;
                ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::ReserveOrder { order });
            }
            Down::TransferArrived { order, lines } => {
                let arrived = office
                    .orders
                    .get_mut(&order)
                    .filter(|o| o.lines.len() == usize::from(lines) && o.state == OrderState::Receiving);
                let Some(o) = arrived else {
                    ctx.fail(
                        "order lifecycle",
                        format!(
                            "transfer of order {} arrived at store {} without its {lines} lines",
                            order.0, office.store.0
                        ),
                    );
                    return;
                };
                o.fulfilment = Fulfilment::ShipToStore;
                let units = o.lines.clone();
                for &sku in &units {
                    ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::ReceiveUnit { sku });
                }
                office.kpis.transfers_received += 1;
                office.kpis.transfer_units_received += units.len() as u64;
                let at = office.send_up(platform::ORDERS, Up::TransferReceived { order }, ctx);
                if at > office.day_end {
                    office.received_reported_after_close.extend_from_slice(&units);
                }
                await_customer(office, order, ctx);
            }
            Down::Issued { ticket, serial, campaign } => {
                office.kpis.coupons_issued += 1;
                // A shopper who has already paid keeps it for a later visit (the centre
                // still holds it for the member).
                if !view.shoppers.get(ticket as usize).is_some_and(|s| s.paid) {
                    let held = HeldCoupon {
                        serial: Serial(serial),
                        campaign,
                        valid_from: SimTime::ZERO,
                        valid_to: SimTime::MAX,
                    };
                    let wallet = office.wallets.entry(ticket).or_default();
                    if !wallet.iter().any(|h| h.serial == held.serial) {
                        wallet.push(held);
                    }
                }
            }
            Down::ClaimRefused { .. } => office.kpis.claims_refused += 1,
            Down::Registered { ticket, member } => {
                office.kpis.registrations += 1;
                office.registered.insert(ticket, member);
            }
            Down::Redeemed { txn, serial, ok } if office.late.contains_key(&(txn.0, serial)) => {
                match (office.late.remove(&(txn.0, serial)).expect("checked"), ok) {
                    (Late::Applied, true) => office.kpis.redemptions_granted += 1,
                    (Late::Applied, false) => office.kpis.offline_conflicts += 1,
                    (Late::GivenUp, true) => office.kpis.late_granted_released += 1,
                    (Late::GivenUp, false) => office.kpis.late_refused_released += 1,
                }
            }
            Down::Redeemed { txn, serial, ok } => {
                let Some(r) = office.redeeming.get_mut(&txn.0) else {
                    ctx.fail("coupon protocol", format!("an answer for unknown till transaction {}", txn.0));
                    return;
                };
                if let Some(i) = (0..r.coupons.len()).find(|&i| r.coupons[i].serial.0 == serial && !r.answered[i]) {
                    r.answered[i] = true;
                    r.ok[i] = ok;
                }
                if r.answered.iter().all(|a| *a) {
                    let r = office.redeeming.remove(&txn.0).expect("present");
                    let granted: Vec<AppliedCoupon> =
                        r.coupons.iter().zip(&r.ok).filter(|(_, ok)| **ok).map(|(c, _)| *c).collect();
                    office.kpis.redemptions_granted += granted.len() as u64;
                    office.kpis.redemptions_refused += (r.coupons.len() - granted.len()) as u64;
                    settle_payment(office, r.shopper, r.lane, txn, &granted, view, ctx);
                }
            }
            flash => ctx.fail("message routing", format!("flash-sale message {flash:?} not routed to the desk")),
        },
        StoreMsg::OrderReserved { order, ok } => {
            if ok {
                let o = office.orders.get_mut(&order).expect("reserved orders are known");
                o.state = OrderState::Picking;
                o.accepted_at = now;
                office.kpis.orders_accepted += 1;
                office.pick_queue.push_back(order);
                office.send_up(platform::ORDERS, Up::OrderAccepted { order }, ctx);
                dispatch_pickers(office, ctx);
            } else {
                office.orders.remove(&order);
                office.kpis.orders_short += 1;
                office.send_up(platform::ORDERS, Up::OrderShort { order }, ctx);
            }
        }
        StoreMsg::PickDone { order } => {
            office.pickers_free += 1;
            let o = office.orders.get_mut(&order).expect("picked orders are known");
            let pick = now.saturating_since(o.accepted_at);
            office.kpis.orders_picked += 1;
            office.kpis.pick_s_total += pick.as_secs_f64();
            if pick <= office.platform.pick_target {
                office.kpis.picked_within_target += 1;
            }
            let pick_ms = u32::try_from(pick.as_nanos() / 1_000_000).unwrap_or(u32::MAX);
            let fulfilment = o.fulfilment;
            office.send_up(platform::ORDERS, Up::OrderPicked { order, pick_ms }, ctx);
            match fulfilment {
                Fulfilment::Pickup => await_customer(office, order, ctx),
                Fulfilment::ShipToStore => {
                    let after = SimDuration::from_secs_f64(office.platform.transfer_s.sample(ctx.rng()).max(0.0));
                    let after_ms = u32::try_from(after.as_nanos() / 1_000_000).unwrap_or(u32::MAX);
                    let o = office.orders.remove(&order).expect("known");
                    office.kpis.transfers_sent += 1;
                    office.kpis.transfer_units_sent += o.lines.len() as u64;
                    for &sku in &o.lines {
                        ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::SendUnit { sku });
                    }
                    let at = office.send_up(platform::ORDERS, Up::TransferSent { order, after_ms }, ctx);
                    if at > office.day_end {
                        office.sent_reported_after_close.extend_from_slice(&o.lines);
                    }
                }
                Fulfilment::SameCity | Fulfilment::ShipFromStore => {
                    let dist = if fulfilment == Fulfilment::SameCity {
                        &office.platform.courier_s
                    } else {
                        &office.platform.ship_s
                    };
                    let after = SimDuration::from_secs_f64(dist.sample(ctx.rng()).max(0.0));
                    let after_ms = u32::try_from(after.as_nanos() / 1_000_000).unwrap_or(u32::MAX);
                    let o = office.orders.remove(&order).expect("known");
                    office.kpis.dispatched += 1;
                    for sku in o.lines {
                        ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::HandOver { sku });
                    }
                    office.send_up(platform::ORDERS, Up::OrderDispatched { order, after_ms }, ctx);
                }
            }
            dispatch_pickers(office, ctx);
        }
        StoreMsg::CustomerArrives { order } => {
            // The hold may have run out first: then the customer finds nothing to collect.
            if let Some(o) = office.orders.get_mut(&order)
                && o.state == OrderState::Ready
            {
                o.state = OrderState::AtCounter;
                o.queued_at = now;
                office.counter_queue.push_back(order);
                serve_counter(office, ctx);
            }
        }
        StoreMsg::CounterDone { order } => {
            office.counter_free += 1;
            let o = office.orders.remove(&order).expect("orders at the counter are known");
            office.kpis.collected += 1;
            for &sku in &o.lines {
                ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::HandOver { sku });
            }
            let wait_ms = u32::try_from(o.counter_wait.as_nanos() / 1_000_000).unwrap_or(u32::MAX);
            office.send_up(platform::ORDERS, Up::OrderCollected { order, wait_ms }, ctx);
            serve_counter(office, ctx);
        }
        StoreMsg::HoldExpires { order } => {
            if office.orders.get(&order).is_some_and(|o| o.state == OrderState::Ready) {
                let o = office.orders.remove(&order).expect("known");
                office.kpis.expired += 1;
                for sku in o.lines {
                    ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::ReturnUnit { sku });
                }
                office.send_up(platform::ORDERS, Up::OrderExpired { order }, ctx);
            }
        }
        StoreMsg::KioskOrdered { sku, member } => {
            office.kpis.kiosk_orders_sent += 1;
            // The shopper's choice: collect it here, or have it delivered home (one draw
            // either way, so the office's stream does not depend on the share).
            let collect = rand::RngExt::random::<f64>(ctx.rng()) < office.platform.kiosk_collect_share;
            office.kpis.kiosk_collect_orders += u64::from(collect);
            let member = (member != u32::MAX).then_some(member);
            office.send_up(platform::ORDERS, Up::KioskOrder { sku, member, collect }, ctx);
        }
        StoreMsg::TillPayment { shopper, lane } => till_payment(office, shopper, lane, view, ctx),
        StoreMsg::CouponTimeout { txn } => {
            // Answered in time: nothing to do.
            let Some(r) = office.redeeming.remove(&txn.0) else { return };
            office.kpis.coupon_timeouts += 1;
            let accept = office.offline_coupons == OfflineCoupons::AcceptAndSync;
            let mut applied = Vec::with_capacity(r.coupons.len());
            for (i, c) in r.coupons.iter().enumerate() {
                if r.answered[i] {
                    if r.ok[i] {
                        office.kpis.redemptions_granted += 1;
                        applied.push(*c);
                    } else {
                        office.kpis.redemptions_refused += 1;
                    }
                } else if accept {
                    office.kpis.coupons_accepted_on_timeout += 1;
                    office.kpis.coupons_accepted_offline += 1;
                    office.late.insert((txn.0, c.serial.0), Late::Applied);
                    applied.push(*c);
                } else {
                    office.kpis.coupons_given_up += 1;
                    office.late.insert((txn.0, c.serial.0), Late::GivenUp);
                    office.send_up(platform::COUPONS, Up::Release { txn, serial: c.serial.0 }, ctx);
                }
            }
            settle_payment(office, r.shopper, r.lane, txn, &applied, view, ctx);
        }
        StoreMsg::OfferMembership { shopper } => {
            // The portal registers through the member centre: not while the link is down.
            if office.register_share > 0.0 && office.link.down_until(now).is_none() {
                office.kpis.membership_offers += 1;
                if rand::RngExt::random::<f64>(&mut office.join_rng) < office.register_share {
                    office.kpis.registrations_sent += 1;
                    office.send_up(platform::MEMBERS, Up::Register { ticket: shopper.0 }, ctx);
                }
            }
        }
        StoreMsg::OfferCoupons { shopper, channel } => {
            let Some(channel) = issue_channel(channel) else { return };
            if !view.shoppers[shopper.0 as usize].member || office.link.down_until(now).is_some() {
                return;
            }
            let member = office.member_id(shopper);
            for c in 0..office.campaigns.len() {
                let spec = &office.campaigns[c];
                if spec.issue != channel
                    || !spec.runs_in(Some(office.store))
                    || spec.status(now) != crate::chain::coupons::BatchStatus::Running
                {
                    continue;
                }
                if rand::RngExt::random::<f64>(ctx.rng()) < spec.claim_share {
                    office.kpis.claims_sent += 1;
                    let campaign = CampaignId(c as u16);
                    office.send_up(platform::COUPONS, Up::Claim { campaign, member, ticket: shopper.0 }, ctx);
                }
            }
        }
        StoreMsg::FetchWallet { shopper } => {
            if !office.campaigns.is_empty() && office.link.down_until(now).is_none() {
                office.kpis.wallet_fetches += 1;
                let member = office.member_id(shopper);
                office.send_up(platform::COUPONS, Up::Wallet { member, ticket: shopper.0 }, ctx);
            }
        }
        StoreMsg::SyncStock => {
            office.kpis.stock_syncs += 1;
            for i in 0..office.synced.len() {
                let available = view.store.shelf[i] + view.store.back_room[i];
                if available != office.synced[i] {
                    office.synced[i] = available;
                    office.send_up(platform::INVENTORY, Up::StockLevel { sku: SkuId(i as u32), available }, ctx);
                }
            }
            if now.saturating_add(office.platform.stock_sync_every) <= SimTime::ZERO.saturating_add(view.spec.duration)
            {
                ctx.schedule(office.platform.stock_sync_every, StoreMsg::SyncStock);
            }
        }
        other => ctx.fail("message routing", format!("office got {other:?}")),
    }
}

fn issue_channel(code: u8) -> Option<IssueChannel> {
    [
        IssueChannel::WifiPortal,
        IssueChannel::QrPoster,
        IssueChannel::BeaconShake,
        IssueChannel::RegisterToGet,
        IssueChannel::SecondVisit,
        IssueChannel::Referral,
    ]
    .into_iter()
    .find(|c| *c as u8 == code)
}

/// A till asks to settle a shopper's payment: the best allowed combination of the
/// shopper's coupons, redeemed at the coupon centre (the till waits for the answers), or,
/// while the link is down, the store's offline policy.
fn till_payment(
    office: &mut Office,
    shopper: ShopperId,
    lane: crate::store::spec::LaneId,
    view: &View<'_>,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let txn = Txn(office.settlement_seq);
    office.settlement_seq += 1;
    let wallet = office.wallets.remove(&shopper.0).unwrap_or_default();
    let s = &view.shoppers[shopper.0 as usize];
    if wallet.is_empty() || s.basket.is_empty() {
        return settle_payment(office, shopper, lane, txn, &[], view, ctx);
    }
    let mut lines: Vec<BasketLine> = Vec::new();
    for &sku in &s.basket {
        match lines.iter_mut().find(|l| l.sku == sku) {
            Some(l) => l.qty += 1,
            None => lines.push(BasketLine {
                sku,
                category: view.store.category_of(sku),
                unit_price: view.store.price[sku.0 as usize],
                qty: 1,
            }),
        }
    }
    let checkout = Checkout { store: Some(office.store), channel: SaleChannel::InStore, now: ctx.now() };
    let applied = best_combination(&lines, &wallet, &office.campaigns, &checkout);
    if applied.coupons.is_empty() {
        return settle_payment(office, shopper, lane, txn, &[], view, ctx);
    }
    let Some(member) = office.member_of(shopper, view) else {
        return settle_payment(office, shopper, lane, txn, &[], view, ctx);
    };
    let offline = office.link.down_until(ctx.now()).is_some();
    match (offline, office.offline_coupons) {
        (true, OfflineCoupons::Refuse) => {
            office.kpis.coupons_refused_offline += applied.coupons.len() as u64;
            settle_payment(office, shopper, lane, txn, &[], view, ctx)
        }
        (true, OfflineCoupons::AcceptAndSync) => {
            // Given now; the redemptions wait for the link, and the centre's answer comes
            // when it is back (a serial redeemed elsewhere meanwhile is refused there).
            office.kpis.coupons_accepted_offline += applied.coupons.len() as u64;
            for c in &applied.coupons {
                let discount = u32::try_from(c.discount.0).unwrap_or(0);
                office.send_up(platform::COUPONS, Up::Redeem { txn, serial: c.serial.0, discount, member }, ctx);
            }
            office.kpis.redemptions_asked += applied.coupons.len() as u64;
            for c in &applied.coupons {
                office.late.insert((txn.0, c.serial.0), Late::Applied);
            }
            settle_payment(office, shopper, lane, txn, &applied.coupons, view, ctx)
        }
        (false, _) => {
            for c in &applied.coupons {
                let discount = u32::try_from(c.discount.0).unwrap_or(0);
                office.send_up(platform::COUPONS, Up::Redeem { txn, serial: c.serial.0, discount, member }, ctx);
            }
            office.kpis.redemptions_asked += applied.coupons.len() as u64;
            let n = applied.coupons.len();
            office.redeeming.insert(
                txn.0,
                Redeeming { shopper, lane, coupons: applied.coupons, answered: vec![false; n], ok: vec![false; n] },
            );
            ctx.schedule(office.coupon_timeout, StoreMsg::CouponTimeout { txn });
        }
    }
}

/// The payment is settled with the coupons `granted`: its records go to settlement (each
/// discount, then the payment) and the member centre (points), and the till is told the
/// discount.
fn settle_payment(
    office: &mut Office,
    shopper: ShopperId,
    lane: crate::store::spec::LaneId,
    txn: Txn,
    granted: &[AppliedCoupon],
    view: &View<'_>,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let s = &view.shoppers[shopper.0 as usize];
    let gross = u32::try_from(s.basket_value.0).unwrap_or(u32::MAX);
    let mut discount = 0u32;
    for c in granted {
        // Never below zero: the discounts of one basket never exceed it.
        let amount = u32::try_from(c.discount.0).unwrap_or(0).min(gross - discount);
        if amount > 0 {
            discount += amount;
            office.send_up(platform::SETTLEMENT, Up::Discount { txn, campaign: c.campaign, amount }, ctx);
        }
    }
    office.kpis.discount_given += i64::from(discount);
    let paid = gross - discount;
    office.send_up(platform::SETTLEMENT, Up::Payment { txn, method: s.payment, gross, paid }, ctx);
    if let Some(member) = office.member_of(shopper, view) {
        let earn = Txn(office.members_seq);
        office.members_seq += 1;
        office.send_up(platform::MEMBERS, Up::Earn { member, txn: earn, paid }, ctx);
    }
    ctx.send(view.layout.lane(lane), SimDuration::ZERO, StoreMsg::PaymentDone { discount });
}

/// A picked pickup order, or a ship-to-store order just arrived, waits at the pickup
/// counter for its customer: who comes after `collect_after_s` (or never: a no-show), until
/// the hold expires.
fn await_customer(office: &mut Office, order: OrderId, ctx: &mut Context<'_, StoreMsg>) {
    let o = office.orders.get_mut(&order).expect("an order waiting for its customer is known");
    o.state = OrderState::Ready;
    ctx.schedule(office.platform.pickup_hold, StoreMsg::HoldExpires { order });
    let rng = ctx.rng();
    if rand::RngExt::random::<f64>(rng) < office.platform.pickup_no_show {
        office.kpis.no_shows += 1;
    } else {
        let after = office.platform.collect_after_s.sample(rng).max(0.0);
        ctx.schedule(SimDuration::from_secs_f64(after), StoreMsg::CustomerArrives { order });
    }
}

/// Free pickers take the oldest orders waiting.
fn dispatch_pickers(office: &mut Office, ctx: &mut Context<'_, StoreMsg>) {
    while office.pickers_free > 0 {
        let Some(order) = office.pick_queue.pop_front() else { return };
        office.pickers_free -= 1;
        let lines = office.orders.get(&order).map_or(0, |o| o.lines.len());
        let rng = ctx.rng();
        let base = office.platform.pick_base_s.sample(rng).max(0.0);
        let per_line: f64 = (0..lines).map(|_| office.platform.pick_per_line_s.sample(rng).max(0.0)).sum();
        office.kpis.picker_busy_s += base + per_line;
        ctx.schedule(SimDuration::from_secs_f64(base + per_line), StoreMsg::PickDone { order });
    }
}

/// Free counter staff serve the first customers in the counter's queue.
fn serve_counter(office: &mut Office, ctx: &mut Context<'_, StoreMsg>) {
    while office.counter_free > 0 {
        let Some(order) = office.counter_queue.pop_front() else { return };
        office.counter_free -= 1;
        let now = ctx.now();
        if let Some(o) = office.orders.get_mut(&order) {
            o.counter_wait = now.saturating_since(o.queued_at);
            office.kpis.counter_wait_s_total += o.counter_wait.as_secs_f64();
        }
        let service = office.platform.pickup_service_s.sample(ctx.rng()).max(0.0);
        ctx.schedule(SimDuration::from_secs_f64(service), StoreMsg::CounterDone { order });
    }
}
