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
//! store's owner), refunded exactly if it expires uncollected, and earns points when it is
//! collected or delivered. An order cancelled before any store accepted it was never
//! charged. A member's order first takes the member's coupons: the coupon centre, in this
//! shard, chooses the best allowed combination of the member's wallet for the order's
//! basket, fulfilment and fulfilling store (a pickup coupon on a pickup order only) and
//! locks and redeems it at once, with no latency; then points pay part of what is left.
//! Both are discounts in settlement, the coupons funded by their campaigns' funders, the
//! points by HQ. A refund gives the coupons back ([`CouponCentre::cancel`]: budgets
//! returned, serials free again) and the points.
//!
//! Members join ([`crate::chain::members::Joined`]): a store's WiFi portal registers a
//! non-member app user ([`Up::Register`], answered with [`Down::Registered`]); a guest
//! ordering online registers with probability `register_share` (drawn from the platform's
//! own registration stream, so the orders' and centres' streams are unchanged); each
//! new member is offered the `register_to_get` campaigns' coupons (claimed at the store,
//! or for an online guest at the customer's home store). Referrals: after a member's
//! purchase (a till payment, an online order completed), the member refers a friend with
//! probability `referral_share` (the referral stream, another of the platform's own); the
//! friend is offered membership `referral_join_after_s` later and registers with
//! probability `register_share`, and only then does the referrer get the `referral`
//! campaigns' coupons (the usual "invite a friend: you both get a coupon when they join").
//!
//! Offline losses: a till payment's coupon the centre refused ([`Up::Redeem`] answered
//! `ok: false`) normally never reaches settlement (the till leaves it out); if its
//! [`Up::Discount`] comes anyway, the store applied it offline (or after giving up
//! waiting), and it is booked as an offline loss borne by the store's owner. The
//! redemption's answer is always handled before the discount, which the store sends later
//! on the same FIFO link.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::RngExt;
use storetwin_engine::{ActorId, ActorRng, Context, Envelope, Model, ShardModel, SimDuration};

use crate::chain::channel::Channel;
use crate::chain::coupons::{AppliedCoupon, BasketLine, Cancelled, Checkout, CouponCentre, SaleChannel, Serial};
use crate::chain::inventory::Inventory;
use crate::chain::link::{Down, Link, OrderId, PLATFORM_SHARD, PlatformMsg, Up, store_shard};
use crate::chain::members::{Joined, MemberCentre, MemberId};
use crate::chain::orders::{OrderCentre, Source};
use crate::chain::settlement::{Discount, DiscountSource, Sale, Settlement, offline_loss_funding};
use crate::chain::spec::{CampaignId, ChainSpec, Funding, IssueChannel, StoreIdx};
use crate::chain::txn::{TxnId, TxnSource};
use crate::money::Cents;
use crate::store::spec::SkuId;

/// Stream domain of the members' levels (a stream outside any actor).
const MEMBER_LEVELS_DOMAIN: u64 = 0x4d45_4d42_4c45_5645; // "MEMBLEVE"
/// Stream domains of the platform's registration and referral draws (streams outside any
/// actor, so registrations and referrals shift no actor's stream).
const JOIN_DOMAIN: u64 = 0x4a4f_494e_4f4e_4c4e; // "JOINONLN"
const REFERRAL_DOMAIN: u64 = 0x5245_4645_5252_414c; // "REFERRAL"

/// No shopper to answer (a `ticket` of an online or referred registration).
const NO_TICKET: u32 = u32::MAX;

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
/// The flash sale's stock holder (an actor only in a chain with a flash sale).
pub const FLASH: ActorId = ActorId(5);
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
    /// The stock holder's server (bucket) finished a call; a reservation's timer; the
    /// sweeper; the replica's refresh.
    FlashServed {
        server: u16,
    },
    FlashExpire,
    FlashSweep,
    FlashReplica,
    /// A pre-order tier's window opens, closes; its ship date (the stock holder's timers).
    PreorderOpens {
        tier: u8,
    },
    PreorderCloses {
        tier: u8,
    },
    PreorderShips {
        tier: u8,
    },
    /// A store accepted a member's online order: redeem the member's best coupons on it
    /// (to the coupon centre), then points (members), then charge it (settlement).
    OnlineCoupons {
        order: OrderId,
    },
    /// An online order was refunded: give its coupons back (to the coupon centre).
    OnlineCouponsBack {
        order: OrderId,
    },
    /// A guest placed an online order: offered membership (to the member centre).
    OfferMembership {
        order: OrderId,
    },
    /// A new member is offered the register-to-get coupons, claimed at `store` (`ticket`:
    /// the store's shopper to tell, or none).
    Welcome {
        member: u32,
        store: StoreIdx,
        ticket: u32,
    },
    /// A friend `referrer` referred after a purchase at (or from) `store` is offered
    /// membership now (the member centre's timer).
    FriendJoins {
        referrer: u32,
        store: StoreIdx,
    },
    /// The friend `referrer` referred registered: the referral campaigns' coupons.
    ReferralReward {
        referrer: u32,
        store: StoreIdx,
    },
}

/// The platform's own counts of the coupon and member flows between its centres.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformCounts {
    /// Friends referred after a purchase, and those of them who registered.
    pub referrals: u64,
    pub referrals_joined: u64,
    /// Online orders that redeemed at least one coupon, the coupons, and their discount.
    pub online_orders_with_coupons: u64,
    pub online_coupons_redeemed: u64,
    pub online_coupon_discount: Cents,
    /// Coupons of refunded online orders given back.
    pub online_coupons_given_back: u64,
    /// Redemptions reversed for a till that gave up waiting ([`Up::Release`]).
    pub till_redemptions_reversed: u64,
    /// Coupons booked as offline losses.
    pub offline_losses: u64,
}

/// The way from the centres to the stores: the links (latency and partitions) and the
/// address of each store's office.
#[derive(Clone)]
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

#[derive(Clone)]
pub struct Platform {
    pub spec: Arc<ChainSpec>,
    pub inventory: Inventory,
    pub orders: OrderCentre,
    pub members: MemberCentre,
    pub coupons: CouponCentre,
    pub settlement: Settlement,
    pub down: Downlink,
    /// The flash sale's stock holder, if the chain runs one.
    pub flash: Option<crate::chain::flash::holder::StockHolder>,
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
    /// The coupons each member's online order redeemed (given back if it is refunded).
    online_coupons: BTreeMap<OrderId, Vec<AppliedCoupon>>,
    /// Till coupons the centre refused, `(store, till txn, campaign)`, until the txn's
    /// payment comes: a discount for one of them is an offline loss.
    refused: Vec<(StoreIdx, u32, CampaignId)>,
    /// Per store: what its till payments paid, as booked by settlement.
    pub till_paid: Vec<Cents>,
    /// Registration (online guests, referred friends) and referral draws.
    join_rng: ActorRng,
    referral_rng: ActorRng,
    pub counts: PlatformCounts,
}

impl Platform {
    /// The centres of `spec`; `offices[s]` is the office actor of store `s` in its shard.
    ///
    /// `Err` names what in the spec the centres cannot take (a rate above 100%, a member
    /// level share that does not add up).
    pub fn new(spec: Arc<ChainSpec>, offices: Vec<ActorId>, seed: storetwin_engine::Seed) -> Result<Platform, String> {
        let links = (0..spec.stores.len()).map(|s| Link::of(&spec, StoreIdx(s as u16))).collect();
        let mut levels = seed.stream(MEMBER_LEVELS_DOMAIN, 0);
        let stores = spec.stores.len();
        Ok(Platform {
            online_coupons: BTreeMap::new(),
            refused: Vec::new(),
            till_paid: vec![Cents::ZERO; stores],
            join_rng: seed.stream(JOIN_DOMAIN, 0),
            referral_rng: seed.stream(REFERRAL_DOMAIN, 0),
            counts: PlatformCounts::default(),
            inventory: Inventory::new(&spec),
            orders: OrderCentre::new(&spec, seed),
            members: MemberCentre::for_chain(&spec, &mut levels).map_err(|e| e.to_string())?,
            settlement: Settlement::for_chain(&spec).map_err(|e| e.to_string())?,
            coupons: CouponCentre::new(&spec.campaigns).map_err(|e| format!("{e:?}"))?,
            down: Downlink { links, offices, outbox: Vec::new(), sent: 0, held: 0 },
            flash: spec.flash.as_ref().map(|sale| {
                crate::chain::flash::holder::StockHolder::new(
                    sale.clone(),
                    spec.stores.len(),
                    spec.members.population,
                    spec.duration,
                )
            }),
            pending_discounts: Vec::new(),
            online_points: std::collections::BTreeMap::new(),
            online_settlement_seq: 0,
            online_member_seq: 0,
            duplicates: 0,
            has_second_visit: spec.campaigns.iter().any(|c| c.issue == IssueChannel::SecondVisit),
            spec,
        })
    }

    fn online_txn(&mut self, settlement: bool) -> TxnId {
        let source = TxnSource::online(self.spec.stores.len());
        let seq = if settlement { &mut self.online_settlement_seq } else { &mut self.online_member_seq };
        *seq += 1;
        TxnId::new(source, *seq - 1)
    }

    /// The discounts of online order `order`: its coupons (funded by their campaigns), then
    /// `points` off (funded by HQ) if any.
    fn online_discounts(&self, order: OrderId, points: Cents) -> Vec<Discount> {
        let mut out: Vec<Discount> = self
            .online_coupons
            .get(&order)
            .into_iter()
            .flatten()
            .map(|c| Discount {
                source: DiscountSource::Campaign(c.campaign),
                funding: self.spec.campaigns[usize::from(c.campaign.0)].funding,
                amount: c.discount,
            })
            .collect();
        if points > Cents::ZERO {
            out.extend(points_discount(points));
        }
        out
    }

    /// What the order's coupons took off.
    fn online_coupon_discount(&self, order: OrderId) -> Cents {
        self.online_coupons.get(&order).into_iter().flatten().fold(Cents::ZERO, |d, c| d + c.discount)
    }

    /// The member centre registers a new member who joined so; `Err` if it cannot.
    fn register(&mut self, joined: Joined) -> Result<u32, String> {
        self.members.register(joined).map(|m| m.0).map_err(|e| e.to_string())
    }

    /// After a member's purchase at (or fulfilled by) `store`: maybe a referral.
    fn maybe_refer(&mut self, referrer: u32, store: StoreIdx, ctx: &mut Context<'_, CentreMsg>) {
        let members = &self.spec.members;
        if members.referral_share > 0.0 && self.referral_rng.random::<f64>() < members.referral_share {
            self.counts.referrals += 1;
            let after = members.referral_join_after_s.sample(&mut self.referral_rng).max(0.0);
            ctx.schedule(SimDuration::from_secs_f64(after), CentreMsg::FriendJoins { referrer, store });
        }
    }

    /// The coupons of every running campaign issued through `issue`, each claimed by
    /// `member` at `store` with its `claim_share`; `ticket`'s store is told of each issued.
    fn issue_through(
        &mut self,
        issue: IssueChannel,
        member: u32,
        store: StoreIdx,
        ticket: u32,
        ctx: &mut Context<'_, CentreMsg>,
    ) {
        let now = ctx.now();
        for c in 0..self.spec.campaigns.len() {
            let spec = &self.spec.campaigns[c];
            if spec.issue == issue && ctx.rng().random::<f64>() < spec.claim_share {
                let campaign = CampaignId(c as u16);
                if let Ok(serial) = self.coupons.claim(campaign, MemberId(member), Some(store), now)
                    && ticket != NO_TICKET
                {
                    self.down.send(store, Down::Issued { ticket, serial: serial.0, campaign }, ctx);
                }
            }
        }
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
                    if let Some(c) = self.coupons.coupon(serial_id) {
                        self.refused.push((from, txn.0, c.campaign));
                    }
                }
                self.down.send(from, Down::Redeemed { txn, serial, ok }, ctx);
            }
            CentreMsg::FromStore { from, msg: Up::Release { txn, serial } } => {
                let id = TxnId::new(TxnSource::store(from), u64::from(txn.0));
                if let Ok(Cancelled::Reversed(_)) = self.coupons.cancel(Serial(serial), id, now) {
                    self.counts.till_redemptions_reversed += 1;
                }
            }
            CentreMsg::Purchased { member, store } => {
                self.issue_through(IssueChannel::SecondVisit, member, store, NO_TICKET, ctx);
            }
            CentreMsg::Welcome { member, store, ticket } => {
                self.issue_through(IssueChannel::RegisterToGet, member, store, ticket, ctx);
            }
            CentreMsg::ReferralReward { referrer, store } => {
                self.issue_through(IssueChannel::Referral, referrer, store, NO_TICKET, ctx);
            }
            CentreMsg::OnlineCoupons { order } => {
                let o = &self.orders.orders[order.0 as usize];
                let (Some(member), Some(store)) = (o.member, o.store) else {
                    return Err(format!("online order {} takes coupons with no member or store", order.0));
                };
                let mut lines: Vec<BasketLine> = Vec::with_capacity(o.lines.len());
                for &sku in &o.lines {
                    match lines.iter_mut().find(|l| l.sku == sku) {
                        Some(l) => l.qty += 1,
                        None => {
                            let item = &self.spec.catalogue[sku.0 as usize];
                            lines.push(BasketLine { sku, category: item.category, unit_price: item.price, qty: 1 });
                        }
                    }
                }
                let checkout = Checkout { store: Some(store), channel: SaleChannel::Online(o.fulfilment), now };
                let txn = TxnId::new(TxnSource::online(self.spec.stores.len()), u64::from(order.0));
                let granted = self.coupons.redeem_best(MemberId(member), txn, &lines, &checkout);
                if !granted.is_empty() {
                    self.counts.online_orders_with_coupons += 1;
                    self.counts.online_coupons_redeemed += granted.len() as u64;
                    for c in &granted {
                        self.counts.online_coupon_discount += c.discount;
                    }
                    self.online_coupons.insert(order, granted);
                }
                ctx.send(MEMBERS, SimDuration::ZERO, CentreMsg::OnlineRedeem { order });
            }
            CentreMsg::OnlineCouponsBack { order } => {
                let txn = TxnId::new(TxnSource::online(self.spec.stores.len()), u64::from(order.0));
                let serials: Vec<Serial> =
                    self.online_coupons.get(&order).into_iter().flatten().map(|c| c.serial).collect();
                for serial in serials {
                    if let Ok(Cancelled::Reversed(_)) = self.coupons.cancel(serial, txn, now) {
                        self.counts.online_coupons_given_back += 1;
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
                let amount = Cents(i64::from(amount));
                let d = match self.refused.iter().position(|r| *r == (from, txn.0, campaign)) {
                    // The centre refused this coupon, and the store gave it anyway.
                    Some(i) => {
                        self.refused.swap_remove(i);
                        self.counts.offline_losses += 1;
                        let franchised = self.spec.stores[usize::from(from.0)].franchise_bps.is_some();
                        Discount {
                            source: DiscountSource::OfflineLoss(campaign),
                            funding: offline_loss_funding(franchised),
                            amount,
                        }
                    }
                    None => Discount { source: DiscountSource::Campaign(campaign), funding, amount },
                };
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
                // Coupons refused for this payment and not applied: nothing more to match.
                self.refused.retain(|(s, t, _)| !(*s == from && *t == txn.0));
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
                if !outcome.is_duplicate() {
                    self.till_paid[usize::from(from.0)] += sale.paid;
                }
                self.duplicates += u64::from(outcome.is_duplicate());
            }
            CentreMsg::FromStore { from, msg: Up::Register { ticket } } => {
                let member = self.register(Joined::InStore(from))?;
                self.down.send(from, Down::Registered { ticket, member }, ctx);
                ctx.send(COUPONS, SimDuration::ZERO, CentreMsg::Welcome { member, store: from, ticket });
            }
            CentreMsg::OfferMembership { order } => {
                if self.join_rng.random::<f64>() < self.spec.members.register_share {
                    let o = &self.orders.orders[order.0 as usize];
                    let (home, joined) = match o.source {
                        Source::Online(c) => (o.home, Joined::Online(c)),
                        Source::Kiosk => return Err(format!("kiosk order {} offered membership", order.0)),
                    };
                    let member = self.register(joined)?;
                    self.orders.orders[order.0 as usize].member = Some(member);
                    ctx.send(COUPONS, SimDuration::ZERO, CentreMsg::Welcome { member, store: home, ticket: NO_TICKET });
                }
            }
            CentreMsg::FriendJoins { referrer, store } => {
                if self.join_rng.random::<f64>() < self.spec.members.register_share {
                    self.counts.referrals_joined += 1;
                    let member = self.register(Joined::Referred)?;
                    ctx.send(COUPONS, SimDuration::ZERO, CentreMsg::Welcome { member, store, ticket: NO_TICKET });
                    ctx.send(COUPONS, SimDuration::ZERO, CentreMsg::ReferralReward { referrer, store });
                }
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
                self.maybe_refer(member, from, ctx);
            }
            CentreMsg::OnlineRedeem { order } => {
                let (member, value, channel) = {
                    let o = &self.orders.orders[order.0 as usize];
                    (o.member, o.value, o.channel())
                };
                // Points pay part of what the coupons left.
                let value = value - self.online_coupon_discount(order);
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
                let discounts = self.online_discounts(order, Cents(i64::from(points_value)));
                let sale = self.online_sale(order, &discounts).ok_or("charging an unknown order")?;
                let id = self.online_txn(true);
                let outcome = self.settlement.record(id, &sale).map_err(|e| err(&e))?;
                self.duplicates += u64::from(outcome.is_duplicate());
            }
            CentreMsg::OnlineRefund { order } => {
                let value = self.online_points.get(&order).map_or(Cents::ZERO, |p| p.0);
                let discounts = self.online_discounts(order, value);
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
                    let paid = value
                        - self.online_points.get(&order).map_or(Cents::ZERO, |p| p.0)
                        - self.online_coupon_discount(order);
                    let id = self.online_txn(false);
                    let outcome = self.members.earn(id, MemberId(m), channel, paid).map_err(|e| err(&e))?;
                    self.duplicates += u64::from(outcome.is_duplicate());
                    let store = self.orders.orders[order.0 as usize].home;
                    self.maybe_refer(m, store, ctx);
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
        ACTORS + u32::from(self.flash.is_some())
    }

    fn start(&mut self, ctx: &mut Context<'_, CentreMsg>) {
        if ctx.me() == FLASH
            && let Some(holder) = self.flash.as_mut()
        {
            holder.start(ctx);
        }
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
                    let order = OrderId(self.orders.orders.len() as u32 - 1);
                    if self.spec.members.register_share > 0.0 && self.orders.orders[order.0 as usize].member.is_none() {
                        ctx.send(MEMBERS, SimDuration::ZERO, CentreMsg::OfferMembership { order });
                    }
                    Ok(())
                }
                other => self.orders.handle(other, &self.spec, &self.inventory, &mut self.down, ctx),
            },
            MEMBERS | SETTLEMENT => self.money(msg, ctx),
            COUPONS => self.coupon(msg, ctx),
            FLASH => match self.flash.as_mut() {
                Some(holder) => holder.handle(msg, &mut self.down, &mut self.settlement, ctx),
                None => Err(format!("no flash sale, but the stock holder got {msg:?}")),
            },
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
