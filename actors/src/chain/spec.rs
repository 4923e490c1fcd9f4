//! What a chain is built from: its stores (each a store [`WorldSpec`]), one catalogue and
//! price list, the central platform's settings, online shoppers, coupon campaigns and the
//! scheduled disruptions of the links between stores and centres.
//!
//! Plain, validated data with typed units, as [`crate::store::spec`]; the `scenarios` crate
//! builds it from a chain file. Nothing here knows about files or TOML.
//!
//! Identity across the chain: every store's catalogue *is* the chain's catalogue, in the
//! same order, so a [`SkuId`] (and a [`CategoryId`]) names the same product in every store
//! and in every message between a store and the centres. Each store has its own stock of
//! each SKU (zero where it does not carry it). Times are since the chain's run starts, at
//! `open_at_s`; every store runs on that clock.

use storetwin_engine::{SimDuration, SimTime};

use crate::dist::Dist;
use crate::money::Cents;
use crate::store::spec::{CategoryId, PaymentMix, SkuId, WorldSpec};

/// Index of a store in [`ChainSpec::stores`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct StoreIdx(pub u16);

/// Index of a campaign in [`ChainSpec::campaigns`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct CampaignId(pub u16);

/// A chain: stores, the central platform and everything that flows between them.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSpec {
    pub name: String,
    /// Time of day at which the run starts (seconds since midnight), for reports.
    pub open_at_s: u32,
    /// Length of the run. Every store's day (`WorldSpec::duration`) equals it, or is
    /// shorter when the run goes on after closing ([`ChainSpec::end_at`]).
    pub duration: SimDuration,
    /// Chain-wide category names, in the order of every store's `categories`.
    pub categories: Vec<String>,
    /// The one catalogue and price list, in the order of every store's `catalogue` (the
    /// prices there equal these).
    pub catalogue: Vec<CatalogueItem>,
    pub stores: Vec<ChainStoreSpec>,
    pub platform: PlatformSpec,
    pub members: MemberSpec,
    /// Online shoppers (app, mini-program, web), ordering across the chain.
    pub online: Vec<OnlineSegmentSpec>,
    /// Coupon campaigns, in their evaluation order (see [`CampaignSpec::order`]).
    pub campaigns: Vec<CampaignSpec>,
    /// Store ↔ centre links down from..to.
    pub partitions: Vec<Partition>,
    /// Courier delays: deliveries dispatched in the window take `extra` longer.
    pub courier_delays: Vec<CourierDelay>,
    /// A flash sale across the chain, and who grabs for it (a load test's scenarios).
    pub flash: Option<crate::chain::flash::FlashSaleSpec>,
    pub demand: Vec<crate::chain::flash::Demand>,
}

impl ChainSpec {
    /// Ends the run `at` after the opening. Before closing, every store's day ends there
    /// too: a load test runs until its last scenario is over. After closing, the stores
    /// close at their time (no shopper arrives after it; those inside finish their visit)
    /// and the centres and the flash sale's app shoppers go on until `at`: pre-orders whose
    /// windows and ship dates lie days ahead.
    pub fn end_at(&mut self, at: SimDuration) {
        for store in &mut self.stores {
            store.world.duration = store.world.duration.min(at);
        }
        self.duration = at;
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CatalogueItem {
    pub name: String,
    pub category: CategoryId,
    /// The one price across channels (store shelves, app, web).
    pub price: Cents,
    pub cost: Cents,
    /// Relative weight among the SKUs of its category (for online baskets too).
    pub popularity: f64,
}

/// One store of the chain: its floor day as a store scenario gives it (with the chain
/// file's per-store overrides applied) and its part in the platform.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainStoreSpec {
    /// Unique in the chain (`S001`, `riverside`); also `world.store.name`.
    pub name: String,
    pub world: WorldSpec,
    /// Where the store is, in km on a flat map of the region: "nearest store" is by
    /// straight-line distance.
    pub location_km: (f64, f64),
    /// Staff who pick online orders in this store.
    pub pickers: u32,
    /// Staff serving the pickup counter (collections of buy-online-pick-up orders).
    pub pickup_staff: u32,
    /// `None`: owned by HQ. `Some`: run by a franchisee, who keeps this share of the net
    /// sales of the store (basis points of the amount after the payment fee).
    pub franchise_bps: Option<u32>,
    /// What checkout does with coupons while the store's link to the centres is down.
    pub offline_coupons: OfflineCoupons,
}

/// A store's coupon policy while it cannot reach the coupon centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfflineCoupons {
    /// No coupon is applied while offline (the shopper pays full price): never a double
    /// redemption, some unhappy shoppers.
    Refuse,
    /// Coupons are applied from the shopper's app and the redemptions are sent when the
    /// link is back; a serial already redeemed elsewhere is then refused by the centre and
    /// its discount is counted as an offline loss borne by the store's owner.
    AcceptAndSync,
}

/// The central platform's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformSpec {
    /// Least one-way message latency between a store and the centres. Every message
    /// between shards takes at least this long, so it is the width of the conservative
    /// time window the shards run in (a wider minimum runs faster).
    pub latency_min: SimDuration,
    /// Seconds added to `latency_min` for each message (non-negative).
    pub latency_extra_s: Dist,
    /// A store sends its changed stock levels to the inventory centre this often (so the
    /// centre's omnichannel view lags the shelves by up to this much plus latency).
    pub stock_sync_every: SimDuration,
    /// Seconds for a picker to pick one order: `pick_base_s` + `pick_per_line_s` per line.
    pub pick_base_s: Dist,
    pub pick_per_line_s: Dist,
    /// The response target: an order should be picked within this time of reaching the
    /// store (15 minutes in the brief); the share within it is a KPI.
    pub pick_target: SimDuration,
    /// A picked pickup order (or a ship-to-store order, from its arrival at the ordering
    /// store) waits this long for its customer, then expires and its stock goes into the
    /// back room of the store that holds it.
    pub pickup_hold: SimDuration,
    /// Seconds from "ready for pickup" to the customer's arrival at the counter, for those
    /// who come; `pickup_no_show` of them never come (their order expires).
    pub collect_after_s: Dist,
    pub pickup_no_show: f64,
    /// Seconds for the counter to hand over one order.
    pub pickup_service_s: Dist,
    /// Seconds from picked to delivered, same-city delivery by courier.
    pub courier_s: Dist,
    /// Seconds from picked to delivered, shipped from the store to the customer.
    pub ship_s: Dist,
    /// How long a till waits for the coupon centre's answer to a redemption before it
    /// gives up and applies the store's offline policy ([`OfflineCoupons`]); a late answer
    /// is then reconciled (see `crate::store::office`).
    pub coupon_timeout: SimDuration,
    /// Share of kiosk ("endless aisle") orders the shopper collects at the store where they
    /// ordered ([`Fulfilment::ShipToStore`]); the rest are delivered to their home from the
    /// fulfilling store ([`Fulfilment::ShipFromStore`]).
    pub kiosk_collect_share: f64,
    /// Seconds from picked at the fulfilling store to arrival at the ordering store, for a
    /// ship-to-store order: the units are in transit between the two stores meanwhile.
    pub transfer_s: Dist,
    pub settlement: SettlementSpec,
}

/// Money split of each payment.
#[derive(Clone, Debug, PartialEq)]
pub struct SettlementSpec {
    /// Payment-channel fee per method, basis points of the amount paid, indexed like
    /// [`crate::store::spec::Payment::ALL`] (mobile QR, card, cash, prepaid).
    pub fee_bps: [u32; 4],
}

/// The chain's members: one member id across channels.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberSpec {
    /// Number of members in the region; a member shopper (in store or online) is one of
    /// them, drawn at random, so the same member can appear in several stores and online.
    pub population: u32,
    /// Levels by share of the population (shares sum to 1), each with its points rate.
    pub levels: Vec<MemberLevel>,
    /// Value of one point when redeemed, in cents.
    pub point_value: Cents,
    /// Share of member online orders that pay part with points, and at most this share of
    /// the order's value (basis points).
    pub redeem_share: f64,
    pub redeem_max_bps: u32,
    /// Share of the non-members offered membership who register: app users who are not
    /// members at a store's WiFi portal, online shoppers ordering as guests, and friends a
    /// member referred. A new member gets the next member id after the population, the
    /// first level, and the coupons of the `register_to_get` campaigns.
    pub register_share: f64,
    /// Share of member purchases (a till payment, an online order completed) after which
    /// the member refers a friend; the friend is offered membership
    /// `referral_join_after_s` seconds later and, on registering, earns the referrer the
    /// coupons of the `referral` campaigns.
    pub referral_share: f64,
    pub referral_join_after_s: Dist,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MemberLevel {
    pub name: String,
    pub share: f64,
    /// Points per major unit (yuan, euro) paid.
    pub points_per_unit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OnlineChannel {
    App,
    MiniProgram,
    Web,
}

impl OnlineChannel {
    pub const ALL: [OnlineChannel; 3] = [OnlineChannel::App, OnlineChannel::MiniProgram, OnlineChannel::Web];

    pub fn name(self) -> &'static str {
        match self {
            OnlineChannel::App => "app",
            OnlineChannel::MiniProgram => "mini_program",
            OnlineChannel::Web => "web",
        }
    }
}

/// How an order reaches its customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fulfilment {
    /// Buy online, pick up in store: picked at the chosen store (the customer's nearest),
    /// collected at its pickup counter.
    Pickup,
    /// Same-city delivery by courier from the nearest store with the stock.
    SameCity,
    /// Shipped from a store with the stock (the nearest that has it).
    ShipFromStore,
    /// Kiosk orders only: picked at a store with the stock (the nearest other than the
    /// ordering store), sent in transit to the ordering store, and collected at its pickup
    /// counter.
    ShipToStore,
}

impl Fulfilment {
    /// The ways an online order can take, the order of an online segment's shares
    /// (ship-to-store is a kiosk order's "collect here").
    pub const ONLINE: [Fulfilment; 3] = [Fulfilment::Pickup, Fulfilment::SameCity, Fulfilment::ShipFromStore];

    pub fn name(self) -> &'static str {
        match self {
            Fulfilment::Pickup => "pickup",
            Fulfilment::SameCity => "same_city",
            Fulfilment::ShipFromStore => "ship_from_store",
            Fulfilment::ShipToStore => "ship_to_store",
        }
    }
}

/// Online shoppers of one channel.
#[derive(Clone, Debug, PartialEq)]
pub struct OnlineSegmentSpec {
    pub name: String,
    pub channel: OnlineChannel,
    /// Orders per hour across the chain, for each hour from the start (non-homogeneous
    /// Poisson, constant within each hour; none after the last entry).
    pub orders_per_hour: Vec<f64>,
    /// Lines per order (rounded, at least 1); each line one unit of a SKU drawn by category
    /// and SKU popularity.
    pub basket: Dist,
    /// Shares of pickup, same-city and ship-from-store, indexed like [`Fulfilment::ONLINE`]
    /// (sum to 1).
    pub fulfilment: [f64; 3],
    /// Share of orders placed by members.
    pub member_share: f64,
    pub payment: PaymentMix,
}

/// Coupon type and face value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CouponKind {
    /// A fixed amount off.
    Cash { off: Cents },
    /// A percentage off (basis points), at most `max_off` if given.
    Percent { bps: u32, max_off: Option<Cents> },
    /// "Spend X, save Y": `off` once the eligible amount reaches `spend`.
    Threshold { spend: Cents, off: Cents },
    /// Free parking worth `off` (applies to in-store visits; does not reduce the goods'
    /// price below zero, like the others).
    Parking { off: Cents },
    /// `off` the order when collected at a pickup counter (pickup orders only).
    Pickup { off: Cents },
}

/// What the coupon's discount applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CouponScope {
    All,
    Category(CategoryId),
    Sku(SkuId),
}

/// How shoppers get the coupon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IssueChannel {
    /// On logging in to the store's free WiFi portal.
    WifiPortal,
    /// Scanning a QR poster in the store (at the entrance).
    QrPoster,
    /// "Shake" near a beacon in the store (app users passing a beacon).
    BeaconShake,
    /// On registering as a member (online shoppers and new members).
    RegisterToGet,
    /// After a purchase, for the next visit.
    SecondVisit,
    /// Given to a member who refers another.
    Referral,
}

impl IssueChannel {
    pub fn name(self) -> &'static str {
        match self {
            IssueChannel::WifiPortal => "wifi_portal",
            IssueChannel::QrPoster => "qr_poster",
            IssueChannel::BeaconShake => "beacon_shake",
            IssueChannel::RegisterToGet => "register_to_get",
            IssueChannel::SecondVisit => "second_visit",
            IssueChannel::Referral => "referral",
        }
    }
}

/// How long a claimed coupon may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// From `from` to `to` (sim time), whenever it was claimed.
    Window { from: SimTime, to: SimTime },
    /// For this long after the claim.
    AfterClaim(SimDuration),
}

/// Stacking classes, Shopify-style: a discount on products, on the order, or on delivery
/// and services (parking, pickup).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackClass {
    Product,
    Order,
    Service,
}

/// Who pays for a coupon's discount, as shares in basis points that sum to 10,000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Funding {
    pub hq_bps: u32,
    pub franchisee_bps: u32,
    pub brand_bps: u32,
}

/// A coupon campaign (a batch, in the coupon centre's words).
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignSpec {
    pub name: String,
    pub kind: CouponKind,
    pub scope: CouponScope,
    pub issue: IssueChannel,
    /// Probability that a shopper offered the coupon through `issue` claims it.
    pub claim_share: f64,
    pub validity: Validity,
    pub class: StackClass,
    /// The classes this coupon combines with (always allowed: none; a coupon never
    /// combines with another of its own campaign).
    pub combines_with: Vec<StackClass>,
    /// Evaluation order: coupons are applied in increasing `order` (ties by campaign
    /// index), each to the amount left by the ones before.
    pub order: u32,
    /// Most coupons of this campaign one member may claim, and redeem.
    pub per_member_limit: u32,
    /// Most coupons issued overall (`None` = no limit).
    pub total_limit: Option<u32>,
    /// Most discount given overall, and per day (`None` = no budget).
    pub budget_total: Option<Cents>,
    pub budget_daily: Option<Cents>,
    pub funding: Funding,
    /// Batch lifecycle: created unactivated, running from `activate_at`, paused in each
    /// `pauses` window (no issuing; issued coupons stay valid), stopped at `stop_at`.
    pub activate_at: SimTime,
    pub pauses: Vec<(SimTime, SimTime)>,
    pub stop_at: Option<SimTime>,
    /// Stores where the campaign runs (`None` = all).
    pub stores: Option<Vec<StoreIdx>>,
}

/// A store ↔ centre link down from `from` to `to`: messages wait at the sender and go when
/// the link is back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// `None`: every store is cut off from the centres.
    pub store: Option<StoreIdx>,
    pub from: SimTime,
    pub to: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CourierDelay {
    pub from: SimTime,
    pub to: SimTime,
    pub extra: SimDuration,
}
