//! The central platform as a kernel model: the centres' actors, their messages, and the
//! downlink to the stores.
//!
//! Actors: the [`INVENTORY`] centre, the [`ORDERS`] centre (which also generates the
//! online shoppers' orders), the [`MEMBERS`] centre (points earned at tills and on
//! completed online orders, redeemed on online orders), the [`COUPONS`] centre and
//! [`SETTLEMENT`] (every payment split between HQ, franchisees, payment channels and coupon
//! funders). They run in their own shard; stores reach them only through messages with
//! latency ([`crate::chain::link`]), and they answer the same way.
//!
//! Money of an online order: it is charged when a store accepts it (settled with that
//! store's owner, with the member's points as a discount funded by HQ), refunded exactly
//! if it expires uncollected, and earns points when it is collected or delivered. An order
//! cancelled before any store accepted it was never charged.

use std::sync::Arc;

use storetwin_engine::{ActorId, Context, Envelope, Model, ShardModel};

use crate::chain::channel::Channel;
use crate::chain::coupons::{CouponCentre, Serial};
use crate::chain::inventory::Inventory;
use crate::chain::link::{Down, Link, OrderId, PLATFORM_SHARD, PlatformMsg, Up, store_shard};
use crate::chain::members::{MemberCentre, MemberId};
use crate::chain::orders::OrderCentre;
use crate::chain::settlement::{Discount, DiscountSource, Sale, Settlement};
use crate::chain::spec::Funding;
use crate::chain::spec::{ChainSpec, StoreIdx};
use crate::chain::txn::{TxnId, TxnSource};
use crate::money::Cents;
use crate::store::spec::SkuId;

/// Stream domain of the members' levels (a stream outside any actor).
const MEMBER_LEVELS_DOMAIN: u64 = 0x4d45_4d42_4c45_5645; // "MEMBLEVE"

/// Points redeemed on an online order, as a discount HQ funds.
fn points_discount(value: Cents) -> [Discount; 1] {
    [Discount {
        source: DiscountSource::Points,
        funding: Funding { hq_bps: 10_000, franchisee_bps: 0, brand_bps: 0 },
        amount: value,
    }]
}

pub const INVENTORY: ActorId = ActorId(0);
pub const ORDERS: ActorId = ActorId(1);
pub const MEMBERS: ActorId = ActorId(2);
pub const COUPONS: ActorId = ActorId(3);
pub const SETTLEMENT: ActorId = ActorId(4);
const ACTORS: u32 = 5;

/// Every message of the platform shard.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum CentreMsg {
    /// A message from a store.
    FromStore {
        from: StoreIdx,
        msg: Up,
    },
    /// The order centre routed one unit of `sku` to `store` (to the inventory centre).
    Allocate {
        store: StoreIdx,
        sku: SkuId,
    },
    /// The next online order of a segment (the order centre's timer).
    OnlineArrival {
        segment: u16,
    },
    /// A dispatched order reaches its customer.
    Delivered {
        order: OrderId,
    },
    /// A ship-to-store order's transfer reaches the ordering store.
    TransferArrives {
        order: OrderId,
    },
    /// A store accepted a member's online order: pay part with points? (to the members
    /// centre), then charge it (to settlement, with the points' value).
    OnlineRedeem {
        order: OrderId,
    },
    OnlineCharge {
        order: OrderId,
        points_value: u32,
    },
    /// An online order expired uncollected: refund it (settlement) and give the points back
    /// (members).
    OnlineRefund {
        order: OrderId,
    },
    OnlineReturnPoints {
        order: OrderId,
    },
    /// An online order reached its customer: the member earns points.
    OnlineEarn {
        order: OrderId,
    },
    /// A member paid at `store`: second-visit campaigns may issue them a coupon.
    Purchased {
        member: u32,
        store: StoreIdx,
    },
}

/// The way from the centres to the stores: the links (latency and partitions) and the
/// address of each store's office.
pub struct Downlink {
    links: Vec<Link>,
    offices: Vec<ActorId>,
    pub outbox: Vec<Envelope<PlatformMsg>>,
    pub sent: u64,
    pub held: u64,
}

impl Downlink {
    /// Sends `msg` to the office of `store`.
    pub fn send(&mut self, store: StoreIdx, msg: Down, ctx: &mut Context<'_, CentreMsg>) {
        let link = &mut self.links[usize::from(store.0)];
        let now = ctx.now();
        if link.down_until(now).is_some() {
            self.held += 1;
        }
        self.sent += 1;
        let at = link.arrival(now, ctx.rng());
        self.outbox.push(Envelope {
            at,
            from: PLATFORM_SHARD,
            to_shard: store_shard(store),
            to: self.offices[usize::from(store.0)],
            msg: PlatformMsg::Down(msg),
        });
    }
}

pub struct Platform {
    pub spec: Arc<ChainSpec>,
    pub inventory: Inventory,
    pub orders: OrderCentre,
    pub members: MemberCentre,
    pub coupons: CouponCentre,
    pub settlement: Settlement,
    pub down: Downlink,
    /// Discounts of till payments whose payment message has not come yet (the discounts
    /// come first on the store's FIFO link).
    pending_discounts: Vec<(StoreIdx, u32, Discount)>,
    /// Points value charged on each online order (for its refund), and points redeemed on
    /// it (to give back).
    online_points: std::collections::BTreeMap<OrderId, (Cents, u64)>,
    /// The order centre's own transaction numbers, one counter per centre it writes to.
    online_settlement_seq: u64,
    online_member_seq: u64,
    /// Transactions the member or settlement centre had already applied (a repeated
    /// message changes nothing; none is expected, since links lose nothing).
    pub duplicates: u64,
    has_second_visit: bool,
}

impl Platform {
    /// The centres of `spec`; `offices[s]` is the office actor of store `s` in its shard.
    ///
    /// `Err` names what in the spec the centres cannot take (a rate above 100%, a member
    /// level share that does not add up).
    pub fn new(spec: Arc<ChainSpec>, offices: Vec<ActorId>, seed: storetwin_engine::Seed) -> Result<Platform, String> {
        let links = (0..spec.stores.len()).map(|s| Link::of(&spec, StoreIdx(s as u16))).collect();
        let mut levels = seed.stream(MEMBER_LEVELS_DOMAIN, 0);
        Ok(Platform {
            inventory: Inventory::new(&spec),
            orders: OrderCentre::new(&spec, seed),
            members: MemberCentre::for_chain(&spec, &mut levels).map_err(|e| e.to_string())?,
            settlement: Settlement::for_chain(&spec).map_err(|e| e.to_string())?,
            coupons: CouponCentre::new(&spec.campaigns).map_err(|e| format!("{e:?}"))?,
            down: Downlink { links, offices, outbox: Vec::new(), sent: 0, held: 0 },
            pending_discounts: Vec::new(),
            online_points: std::collections::BTreeMap::new(),
            online_settlement_seq: 0,
            online_member_seq: 0,
            duplicates: 0,
            has_second_visit: spec.campaigns.iter().any(|c| c.issue == crate::chain::spec::IssueChannel::SecondVisit),
            spec,
        })
    }

    fn online_txn(&mut self, settlement: bool) -> TxnId {
        let source = TxnSource::online(self.spec.stores.len());
        let seq = if settlement { &mut self.online_settlement_seq } else { &mut self.online_member_seq };
        *seq += 1;
        TxnId::new(source, *seq - 1)
    }

    /// The sale record of online order `order` (with `points_value` off).
    fn online_sale<'a>(&self, order: OrderId, points: &'a [Discount]) -> Option<Sale<'a>> {
        let o = self.orders.orders.get(order.0 as usize)?;
        let discount = points.iter().fold(Cents::ZERO, |d, p| d + p.amount);
        Some(Sale {
            store: o.store?,
            channel: o.channel(),
            method: o.method,
            gross: o.value,
            discounts: points,
            paid: o.value - discount,
        })
    }

    /// The coupon centre's messages: claims, wallets, redemptions, second-visit issues.
    fn coupon(&mut self, msg: CentreMsg, ctx: &mut Context<'_, CentreMsg>) -> Result<(), String> {
        let now = ctx.now();
        match msg {
            CentreMsg::FromStore { from, msg: Up::Claim { campaign, member, ticket } } => {
                let answer = match self.coupons.claim(campaign, MemberId(member), Some(from), now) {
                    Ok(serial) => Down::Issued { ticket, serial: serial.0, campaign },
                    Err(_) => Down::ClaimRefused { ticket, campaign },
                };
                self.down.send(from, answer, ctx);
            }
            CentreMsg::FromStore { from, msg: Up::Wallet { member, ticket } } => {
                // At most a handful: what an app shows at the till.
                let held: Vec<_> = self.coupons.wallet(MemberId(member)).take(8).collect();
                for h in held {
                    self.down.send(from, Down::Issued { ticket, serial: h.serial.0, campaign: h.campaign }, ctx);
                }
            }
            CentreMsg::FromStore { from, msg: Up::Redeem { txn, serial, discount, member } } => {
                let id = TxnId::new(TxnSource::store(from), u64::from(txn.0));
                let serial_id = Serial(serial);
                let ok = self.coupons.lock(serial_id, id, MemberId(member), Some(from), now).is_ok()
                    && self.coupons.redeem(serial_id, id, Cents(i64::from(discount)), now).is_ok();
                if !ok {
                    // A lock that could not be redeemed (a budget ran out) is given back.
                    let _ = self.coupons.release(serial_id, id, now);
                }
                self.down.send(from, Down::Redeemed { txn, serial, ok }, ctx);
            }
            CentreMsg::Purchased { member, store } => {
                for c in 0..self.spec.campaigns.len() {
                    let spec = &self.spec.campaigns[c];
                    if spec.issue == crate::chain::spec::IssueChannel::SecondVisit
                        && rand::RngExt::random::<f64>(ctx.rng()) < spec.claim_share
                    {
                        let campaign = crate::chain::spec::CampaignId(c as u16);
                        let _ = self.coupons.claim(campaign, MemberId(member), Some(store), now);
                    }
                }
            }
            other => return Err(format!("coupon centre got {other:?}")),
        }
        Ok(())
    }

    /// The settlement and member centres' messages.
    fn money(&mut self, msg: CentreMsg, ctx: &mut Context<'_, CentreMsg>) -> Result<(), String> {
        let err = |e: &dyn std::fmt::Display| e.to_string();
        match msg {
            CentreMsg::FromStore { from, msg: Up::Discount { txn, campaign, amount } } => {
                let funding = self
                    .spec
                    .campaigns
                    .get(usize::from(campaign.0))
                    .ok_or_else(|| format!("store {} applied unknown campaign {}", from.0, campaign.0))?
                    .funding;
                let d =
                    Discount { source: DiscountSource::Campaign(campaign), funding, amount: Cents(i64::from(amount)) };
                self.pending_discounts.push((from, txn.0, d));
            }
            CentreMsg::FromStore { from, msg: Up::Payment { txn, method, gross, paid } } => {
                let mine: Vec<Discount> = self
                    .pending_discounts
                    .iter()
                    .filter(|(s, t, _)| *s == from && *t == txn.0)
                    .map(|(_, _, d)| *d)
                    .collect();
                self.pending_discounts.retain(|(s, t, _)| !(*s == from && *t == txn.0));
                let sale = Sale {
                    store: from,
                    channel: Channel::Store,
                    method,
                    gross: Cents(i64::from(gross)),
                    discounts: &mine,
                    paid: Cents(i64::from(paid)),
                };
                let id = TxnId::new(TxnSource::store(from), u64::from(txn.0));
                let outcome = self.settlement.record(id, &sale).map_err(|e| err(&e))?;
                self.duplicates += u64::from(outcome.is_duplicate());
            }
            CentreMsg::FromStore { from, msg: Up::Earn { member, txn, paid } } => {
                let id = TxnId::new(TxnSource::store(from), u64::from(txn.0));
                let outcome = self
                    .members
                    .earn(id, MemberId(member), Channel::Store, Cents(i64::from(paid)))
                    .map_err(|e| err(&e))?;
                self.duplicates += u64::from(outcome.is_duplicate());
                if self.has_second_visit {
                    ctx.send(
                        COUPONS,
                        storetwin_engine::SimDuration::ZERO,
                        CentreMsg::Purchased { member, store: from },
                    );
                }
            }
            CentreMsg::OnlineRedeem { order } => {
                let (member, value, channel) = {
                    let o = &self.orders.orders[order.0 as usize];
                    (o.member, o.value, o.channel())
                };
                let mut points_value = Cents::ZERO;
                if let Some(m) = member
                    && rand::RngExt::random::<f64>(ctx.rng()) < self.spec.members.redeem_share
                {
                    let id = self.online_txn(false);
                    if let Some(r) =
                        self.members.redeem(id, MemberId(m), channel, value, u64::MAX).map_err(|e| err(&e))?.applied()
                    {
                        points_value = r.value;
                        self.online_points.insert(order, (r.value, r.points));
                    }
                }
                let points_value = u32::try_from(points_value.0).unwrap_or(u32::MAX);
                ctx.send(
                    SETTLEMENT,
                    storetwin_engine::SimDuration::ZERO,
                    CentreMsg::OnlineCharge { order, points_value },
                );
            }
            CentreMsg::OnlineCharge { order, points_value } => {
                let value = Cents(i64::from(points_value));
                let discounts = points_discount(value)[..usize::from(value > Cents::ZERO)].to_vec();
                let sale = self.online_sale(order, &discounts).ok_or("charging an unknown order")?;
                let id = self.online_txn(true);
                let outcome = self.settlement.record(id, &sale).map_err(|e| err(&e))?;
                self.duplicates += u64::from(outcome.is_duplicate());
            }
            CentreMsg::OnlineRefund { order } => {
                let value = self.online_points.get(&order).map_or(Cents::ZERO, |p| p.0);
                let points = points_discount(value);
                let discounts = points[..usize::from(value > Cents::ZERO)].to_vec();
                let sale = self.online_sale(order, &discounts).ok_or("refunding an unknown order")?;
                let id = self.online_txn(true);
                let outcome = self.settlement.refund(id, &sale).map_err(|e| err(&e))?;
                self.duplicates += u64::from(outcome.is_duplicate());
            }
            CentreMsg::OnlineReturnPoints { order } => {
                if let Some(&(_, points)) = self.online_points.get(&order) {
                    let o = &self.orders.orders[order.0 as usize];
                    let (member, channel) = (o.member, o.channel());
                    if let Some(m) = member {
                        let id = self.online_txn(false);
                        let outcome =
                            self.members.return_points(id, MemberId(m), channel, points).map_err(|e| err(&e))?;
                        self.duplicates += u64::from(outcome.is_duplicate());
                    }
                }
            }
            CentreMsg::OnlineEarn { order } => {
                let o = &self.orders.orders[order.0 as usize];
                let (member, channel, value) = (o.member, o.channel(), o.value);
                if let Some(m) = member {
                    let paid = value - self.online_points.get(&order).map_or(Cents::ZERO, |p| p.0);
                    let id = self.online_txn(false);
                    let outcome = self.members.earn(id, MemberId(m), channel, paid).map_err(|e| err(&e))?;
                    self.duplicates += u64::from(outcome.is_duplicate());
                }
            }
            other => return Err(format!("settlement or members got {other:?}")),
        }
        Ok(())
    }
}

impl Model for Platform {
    type Msg = CentreMsg;

    fn actor_count(&self) -> u32 {
        ACTORS
    }

    fn start(&mut self, ctx: &mut Context<'_, CentreMsg>) {
        if ctx.me() == ORDERS {
            for segment in 0..self.spec.online.len() {
                if let Some(first) = self.orders.first_arrival(&self.spec, segment) {
                    ctx.schedule(
                        first.saturating_since(ctx.now()),
                        CentreMsg::OnlineArrival { segment: segment as u16 },
                    );
                }
            }
        }
    }

    fn handle(&mut self, msg: CentreMsg, ctx: &mut Context<'_, CentreMsg>) {
        let result = match ctx.me() {
            INVENTORY => match msg {
                CentreMsg::FromStore { from, msg: Up::StockLevel { sku, available } } => {
                    self.inventory.set(from, sku, available);
                    Ok(())
                }
                CentreMsg::Allocate { store, sku } => {
                    self.inventory.allocate(store, sku);
                    Ok(())
                }
                other => Err(format!("inventory centre got {other:?}")),
            },
            ORDERS => match msg {
                CentreMsg::OnlineArrival { segment } => {
                    self.orders.online_arrival(&self.spec, usize::from(segment), &self.inventory, &mut self.down, ctx);
                    Ok(())
                }
                other => self.orders.handle(other, &self.spec, &self.inventory, &mut self.down, ctx),
            },
            MEMBERS | SETTLEMENT => self.money(msg, ctx),
            COUPONS => self.coupon(msg, ctx),
            other => Err(format!("centre {other} got {msg:?}, which it does not handle yet")),
        };
        if let Err(detail) = result {
            ctx.fail("platform protocol", detail);
        }
    }
}

impl ShardModel for Platform {
    type Remote = PlatformMsg;

    fn take_outbox(&mut self, out: &mut Vec<Envelope<PlatformMsg>>) {
        out.append(&mut self.down.outbox);
    }

    fn remote_msg(&mut self, msg: PlatformMsg) -> Result<CentreMsg, String> {
        match msg {
            PlatformMsg::Up { from, msg } => Ok(CentreMsg::FromStore { from, msg }),
            PlatformMsg::Down(d) => Err(format!("the centres got a message for a store: {d:?}")),
        }
    }
}
