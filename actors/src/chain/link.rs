//! What a store and the centres say to each other, and the link that carries it.
//!
//! Messages between a store and the centres cross shards (see `storetwin_engine::window`),
//! so they are their own small `Copy` type, [`PlatformMsg`]: [`Up`] from a store to a
//! centre, [`Down`] from a centre to a store. Bulky things travel as several messages
//! (an order as its lines, then a closing message), which arrive in send order.
//!
//! The [`Link`] decides when a message sent now arrives: after the platform's least
//! latency plus a random extra drawn from the sender's own stream, or, while the store's
//! link is down (a partition), after the link comes back. Nothing is lost: a message sent
//! during a partition waits at its sender. A link is FIFO, like the TCP connection it
//! stands for: a message never arrives before one sent earlier on the same link (so an
//! order's lines arrive before the message that closes it).

use storetwin_engine::{ActorRng, SimDuration, SimTime};

use crate::chain::spec::{CampaignId, ChainSpec, Fulfilment, OnlineChannel, StoreIdx};
use crate::dist::Dist;
use crate::store::spec::{Payment, SkuId};

/// A platform-wide order number (online orders and kiosk orders alike).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct OrderId(pub u32);

/// A store's transaction at a till, unique with its store.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Txn(pub u32);

/// What a store tells the centres.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Up {
    /// Units of `sku` on hand and free to sell (shelf + back room), at the last sync.
    StockLevel { sku: SkuId, available: u32 },
    /// The store reserved every line of the order and queued it for its pickers.
    OrderAccepted { order: OrderId },
    /// The store cannot serve the order (a line is short): route it elsewhere.
    OrderShort { order: OrderId },
    /// Picked, `pick_ms` after the store accepted it.
    OrderPicked { order: OrderId, pick_ms: u32 },
    /// The customer collected it at the pickup counter, after `wait_ms` in its queue.
    OrderCollected { order: OrderId, wait_ms: u32 },
    /// Handed to a courier or carrier, delivered `after_ms` later (reported at dispatch:
    /// the store knows the promised time).
    OrderDispatched { order: OrderId, after_ms: u32 },
    /// Not collected within the hold: its stock went back to the back room.
    OrderExpired { order: OrderId },
    /// A shopper at a kiosk ordered an item this store does not have, to collect here
    /// (`collect`: ship to store) or to be delivered home.
    KioskOrder { sku: SkuId, member: Option<u32>, collect: bool },
    /// A ship-to-store order left this store (its fulfiller) in transit to the ordering
    /// store, where it arrives `after_ms` later.
    TransferSent { order: OrderId, after_ms: u32 },
    /// The ordering store received a transfer: its units are held at the pickup counter.
    TransferReceived { order: OrderId },
    /// A shopper wants a coupon of `campaign` (`ticket`: the store's shopper, for the answer).
    Claim { campaign: CampaignId, member: u32, ticket: u32 },
    /// The member was identified: send the coupons the member holds (claimed before, e.g.
    /// a second-visit coupon) for the shopper `ticket`.
    Wallet { member: u32, ticket: u32 },
    /// Lock and redeem `serial` of `member` for till transaction `txn`, worth `discount`
    /// cents (idempotent: the same call again gives the same answer).
    Redeem { txn: Txn, serial: u32, discount: u32, member: u32 },
    /// The till gave up waiting for the answer to [`Up::Redeem`] of `serial` for `txn` and
    /// did not apply it: give back whatever `txn` holds of it (a lock, or the redemption).
    Release { txn: Txn, serial: u32 },
    /// The shopper `ticket`, not a member, registers at the store's WiFi portal.
    Register { ticket: u32 },
    /// Points for a payment of `paid` cents.
    Earn { member: u32, txn: Txn, paid: u32 },
    /// A payment at a till: `gross` at list prices, `paid` after discounts.
    Payment { txn: Txn, method: Payment, gross: u32, paid: u32 },
    /// One coupon's discount in payment `txn`.
    Discount { txn: Txn, campaign: CampaignId, amount: u32 },
    /// Flash sale: the store's shopper `client` (member `member`) grabs a unit for pickup
    /// here; `attempt` counts retries, `keyed`: the call carries the first call's
    /// idempotency key.
    Grab { client: u32, member: u32, attempt: u16, keyed: bool },
    /// Flash sale: pay for reservation `reservation` (in the app; `in_store`: the grab was
    /// made in the store, which settlement counts as a store sale).
    FlashPay { client: u32, reservation: u32, in_store: bool },
    /// Flash sale, demarcation: the store sold reservation `reservation` of its own quota
    /// (paid in the app): the centres book the payment.
    FlashSold { client: u32, reservation: u32, in_store: bool },
    /// Pre-order: the store's shopper `client` (member `member`) orders one unit from the
    /// sale's tiers, paying in full; `attempt` and `keyed` as for [`Up::Grab`].
    PreOrder { client: u32, member: u32, attempt: u16, keyed: bool },
    /// Flash sale, unsafe protocol: read the replica's units left.
    ReadReplica { client: u32, attempt: u16 },
    /// Flash sale, demarcation: the store's quota is used up; it asks for `units` more.
    QuotaWanted { units: u32 },
}

/// The stock holder's answer to a grab.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GrabOutcome {
    Reserved,
    /// A keyed retry of a grab already served: the same reservation again.
    Duplicate,
    /// A unit returned and offered to this waitlisted shopper.
    Offered,
    Waitlisted,
    Refused(crate::chain::flash::ledger::Refusal),
}

/// The stock holder's answer to a pre-order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PreorderOutcome {
    /// Placed (and paid) in the tier.
    Placed,
    /// A keyed retry of an order already placed: the same order again.
    Duplicate,
    /// No tier is open and not full: nothing was ordered (the shopper may buy now).
    NoTier,
}

/// What the centres tell a store.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Down {
    /// One line (one unit) of an order the order centre routes to the store; the lines
    /// come first, then [`Down::OrderPlaced`].
    OrderLine {
        order: OrderId,
        sku: SkuId,
    },
    OrderPlaced {
        order: OrderId,
        lines: u16,
        fulfilment: Fulfilment,
        channel: OnlineChannel,
    },
    /// The units of ship-to-store order `order` (its lines came first, as
    /// [`Down::OrderLine`]s) reach the ordering store, to be held for the customer.
    TransferArrived {
        order: OrderId,
        lines: u16,
    },
    /// A coupon for the shopper `ticket`.
    Issued {
        ticket: u32,
        serial: u32,
        campaign: CampaignId,
    },
    ClaimRefused {
        ticket: u32,
        campaign: CampaignId,
    },
    /// The answer to [`Up::Register`]: the shopper `ticket` is member `member` now.
    Registered {
        ticket: u32,
        member: u32,
    },
    /// The answer to [`Up::Redeem`].
    Redeemed {
        txn: Txn,
        serial: u32,
        ok: bool,
    },
    /// Flash sale: the answer to a grab (`reservation` is `u32::MAX` without one). The
    /// store packs a unit for a new reservation even when `lost` (the answer never reaches
    /// the shopper).
    GrabAnswer {
        client: u32,
        reservation: u32,
        outcome: GrabOutcome,
        lost: bool,
    },
    ReplicaLeft {
        client: u32,
        attempt: u16,
        left: u32,
        lost: bool,
    },
    FlashPaid {
        client: u32,
        reservation: u32,
        ok: bool,
    },
    /// A reservation expired unpaid: unpack its unit.
    FlashReturned {
        client: u32,
        reservation: u32,
    },
    /// Demarcation: quota handed to the store (0: the pool is empty).
    QuotaGrant {
        units: u32,
    },
    /// The answer to [`Up::PreOrder`] (`tier` is `u8::MAX` with no order).
    PreOrderAnswer {
        client: u32,
        tier: u8,
        outcome: PreorderOutcome,
        lost: bool,
    },
    /// The shopper's order in `tier` was refunded: the tier was cancelled below its minimum.
    PreOrderRefunded {
        client: u32,
        tier: u8,
    },
    /// The shopper's order in `tier` shipped (to the store, for collection).
    PreOrderShipped {
        client: u32,
        tier: u8,
    },
}

/// A message between a store and the centres.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum PlatformMsg {
    Up { from: StoreIdx, msg: Up },
    Down(Down),
}

/// Shard index of store `s` (the centres are shard 0).
pub fn store_shard(s: StoreIdx) -> u32 {
    u32::from(s.0) + 1
}

/// The centres' shard.
pub const PLATFORM_SHARD: u32 = 0;

/// When messages between one store and the centres arrive.
#[derive(Clone, Debug)]
pub struct Link {
    min: SimDuration,
    extra_s: Dist,
    /// The windows in which this store's link is down, in time order.
    down: Vec<(SimTime, SimTime)>,
    /// Arrival time of the last message sent on this link (one direction).
    last: SimTime,
}

impl Link {
    /// The link of `store` (`None`: the platform's view of all links; partitions are then
    /// asked per store with [`Link::down_for`]).
    pub fn of(spec: &ChainSpec, store: StoreIdx) -> Link {
        let mut down: Vec<(SimTime, SimTime)> =
            spec.partitions.iter().filter(|p| p.store.is_none_or(|s| s == store)).map(|p| (p.from, p.to)).collect();
        down.sort();
        Link {
            min: spec.platform.latency_min,
            extra_s: spec.platform.latency_extra_s.clone(),
            down,
            last: SimTime::ZERO,
        }
    }

    /// Whether the link is down at `now`, and until when.
    pub fn down_until(&self, now: SimTime) -> Option<SimTime> {
        // Overlapping windows chain: the link is back at the end of the last one that
        // covers `now` or starts before that end.
        let mut until: Option<SimTime> = None;
        for &(from, to) in &self.down {
            let covered = until.map_or(now, |u| u.max(now));
            if from <= covered && to > covered {
                until = Some(to);
            }
        }
        until
    }

    /// When a message sent at `now` arrives, drawing the extra latency from `rng`: not
    /// before the previous message on the link.
    pub fn arrival(&mut self, now: SimTime, rng: &mut ActorRng) -> SimTime {
        let extra = SimDuration::from_secs_f64(self.extra_s.sample(rng).max(0.0));
        let leaves = self.down_until(now).unwrap_or(now);
        self.last = leaves.saturating_add(self.min).saturating_add(extra).max(self.last);
        self.last
    }

    pub fn min(&self) -> SimDuration {
        self.min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(down: &[(u64, u64)]) -> Link {
        Link {
            min: SimDuration::from_millis(20),
            extra_s: Dist::Constant(0.01),
            down: down.iter().map(|&(a, b)| (SimTime::from_secs(a), SimTime::from_secs(b))).collect(),
            last: SimTime::ZERO,
        }
    }

    #[test]
    fn a_message_takes_the_least_latency_plus_the_extra() {
        let mut rng = storetwin_engine::Seed(1).actor_stream(storetwin_engine::ActorId(0));
        let at = link(&[]).arrival(SimTime::from_secs(5), &mut rng);
        assert_eq!(at, SimTime::from_nanos(5_030_000_000));
    }

    #[test]
    fn a_link_is_first_in_first_out() {
        let mut l = Link { extra_s: Dist::uniform(0.0, 1.0).unwrap(), ..link(&[]) };
        let mut rng = storetwin_engine::Seed(1).actor_stream(storetwin_engine::ActorId(0));
        let mut last = SimTime::ZERO;
        for _ in 0..100 {
            let at = l.arrival(SimTime::from_secs(5), &mut rng);
            assert!(at >= last);
            last = at;
        }
    }

    #[test]
    fn during_a_partition_a_message_waits_for_the_link() {
        let mut l = link(&[(10, 20), (15, 30), (40, 50)]);
        assert_eq!(l.down_until(SimTime::from_secs(9)), None);
        assert_eq!(l.down_until(SimTime::from_secs(12)), Some(SimTime::from_secs(30)));
        assert_eq!(l.down_until(SimTime::from_secs(30)), None);
        assert_eq!(l.down_until(SimTime::from_secs(45)), Some(SimTime::from_secs(50)));
        let mut rng = storetwin_engine::Seed(1).actor_stream(storetwin_engine::ActorId(0));
        assert_eq!(l.arrival(SimTime::from_secs(12), &mut rng), SimTime::from_nanos(30_030_000_000));
    }
}
