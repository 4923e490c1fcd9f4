//! Settlement: who gets what of every payment, and how each coupon's cost is shared.
//!
//! [`Settlement`] is the settlement centre's state. Each payment is recorded once
//! ([`Settlement::record`]) as a [`Sale`]: the store (for an online order, the store that
//! fulfils it), the channel, the payment method, the gross amount at list prices, the
//! discounts applied (each with its source, a coupon campaign or member points, and its
//! [`Funding`]) and the amount paid, which must equal gross − discounts exactly. The sale
//! is split into a [`Flow`] in integer cents and added to the books of its store and
//! channel, its payment method, its campaigns and the chain.
//!
//! # The flows
//!
//! The parties are HQ, the franchisee of each franchised store, the payment channel of each
//! method, and the brands that fund coupons (one party, "the brand"). For a sale with gross
//! `G`, paid `P`, at a store whose franchisee keeps the share `k` of net sales (`k = 0` at
//! an HQ-owned store):
//!
//! 1. Receipts, the cash the customer paid: the payment channel keeps the fee
//!    `F = P × fee_bps[method]`; the franchisee receives `R_f = (P − F) × k`; HQ the rest,
//!    `R_h = P − F − R_f`. So `F + R_f + R_h = P`.
//! 2. Coupon settlement, for each discount `d`: the discount is split by its funding into an
//!    HQ, a franchisee and a brand part, `h + f + b = d`. The discount has already lowered
//!    the receipts of the store's sellers (HQ and franchisee) in the ratio of the franchise
//!    share: the franchisee went without `x_f = d × k`, HQ without `x_h = d − x_f`.
//!    Settlement moves money so that each funder bears exactly its part instead: the brand
//!    pays its part `b` (a receivable: the brand owes it to the sellers, reimbursing the
//!    discount), the franchisee receives `x_f − f` and HQ receives `x_h − h` (either may be
//!    negative, a payment to the other). The transfers are the brand's payment:
//!    `(x_f − f) + (x_h − h) = d − f − h = b`. At an HQ-owned store HQ is the owner and
//!    bears the franchisee part too (`x_f = 0`, HQ receives `d − h − f`).
//!
//! **Offline losses.** A coupon a store accepted while it could not reach the coupon
//! centre (policy `accept_and_sync`, or a till that gave up waiting for the centre's
//! answer) and that the centre then refused (its serial redeemed elsewhere meanwhile, a
//! budget spent) was given to the customer, but no campaign pays for it: it is booked as
//! [`DiscountSource::OfflineLoss`], funded all by the store's owner (the franchisee of a
//! franchised store, HQ otherwise; [`offline_loss_funding`]), and kept apart per store
//! ([`Settlement::offline_losses`]). It is a discount like any other in every identity, so
//! the books still sum exactly in cents.
//!
//! Each party's net position is then what it earned:
//! - a franchisee: `R_f + x_f − f`, its share of the sale at list prices after the fee
//!   (`≈ (G − F) × k`), less the part of each discount it funds;
//! - HQ: `R_h + x_h − h`, the rest of the sale at list prices after the fee, less its parts;
//! - a payment channel: `F`; the brand: `−b`, the reimbursements it pays.
//!
//! The positions sum to what the customers paid, and the sellers' two to `G − F − h − f`:
//! a discount costs the sellers what they fund and no more, so a brand-funded coupon costs
//! them nothing (the fee is on what was paid, so the discount lowers the fee as well).
//!
//! # Rounding
//!
//! Rates are basis points and amounts are rounded to whole cents once, when a payment is
//! split: `amount × bps / 10 000` to the nearest cent, halves up ([`bps_of`]; the amounts
//! rounded are never negative). The fee and the franchisee's shares are rounded and the
//! other side takes the remainder (HQ's receipt is `P − F − R_f`, HQ's basis `d − x_f`), so
//! no cent is lost or created. A discount's funding parts are split by largest remainder
//! ([`split_discount`]): each part rounded down, then the cents left (at most two) to the
//! parts with the largest remainders, ties to HQ, then franchisee, then brand; a funder
//! with a zero share never bears a cent.
//!
//! # Online orders and refunds
//!
//! An online order is paid online and fulfilled by a store. It is recorded with that store,
//! so the fulfilling store's owner (franchisee or HQ) gets the share as for a sale at its
//! counter, with the online [`Channel`] it came through and the online payment method,
//! whose fee applies. A cancelled or expired order refunds the payment:
//! [`Settlement::refund`] with the same [`Sale`] reverses it exactly. The split is a pure
//! function of the sale and the settlement's fixed rates, so it is recomputed identically
//! and subtracted from every total it was added to, fee included: the totals of a sale
//! recorded and refunded net to zero, field by field. Refunds are also kept apart per store
//! and channel, so the books show both. A refund may arrive before its sale (messages can
//! overtake each other), so it is not refused; reconciliation states that refunds never
//! exceed sales.
//!
//! # Flash sales and pre-orders
//!
//! A flash-sale unit is paid in the app (mobile QR) and collected at the store it was
//! grabbed for, so it is recorded with that store like an online order, through the app
//! channel for an online grab and the store channel for a grab made in the store (at its
//! QR poster or kiosk), at the sale's price (gross = paid, no discount). A pre-order is
//! paid in full when it is placed, through the app, with the shopper's store; a cancelled
//! tier refunds each order with [`Settlement::refund`]. The stock holder numbers these
//! transactions as a source of its own ([`TxnSource::flash`]), and the books keep every
//! source's sales and refunds apart ([`Settlement::source`]), so a run can check that
//! what the sale took is what settlement booked.
//!
//! # Calling it from an actor
//!
//! [`Settlement::record`] and [`Settlement::refund`] take a borrowed [`Sale`] (its
//! discounts a slice), update fixed-size books (`Vec`s indexed by store and campaign,
//! arrays by channel and method) and allocate nothing. Each carries a [`TxnId`]: a repeat
//! returns [`Outcome::Duplicate`] and changes nothing (see [`crate::chain::txn`] for what
//! this assumes). An invalid sale (paid ≠ gross − discounts, an unknown store or campaign,
//! funding that does not sum to 100 %) changes nothing and is an error naming the broken
//! invariant ([`SettlementError::invariant`]), for `Context::fail`.
//! [`Settlement::reconcile`] states every identity of the books and whether it holds.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use crate::chain::channel::Channel;
use crate::chain::spec::{CampaignId, ChainSpec, Funding, SettlementSpec, StoreIdx};
use crate::chain::txn::{Outcome, TxnError, TxnId, TxnLog, TxnSource};
use crate::money::Cents;
use crate::store::spec::Payment;

/// A whole in basis points.
pub const WHOLE_BPS: u32 = 10_000;

/// Names of the invariants settlement states, as a run reports them.
pub mod invariant {
    pub const PAID: &str = "settlement: paid = gross - discounts";
    pub const RECEIPTS: &str = "settlement: fee + franchisee + HQ receipts = paid";
    pub const FUNDING: &str = "settlement: HQ + franchisee + brand parts = discount";
    pub const TRANSFERS: &str = "settlement: coupon transfers to sellers = brand parts";
    pub const BRAND: &str = "settlement: brand reimbursements = brand parts of the campaigns";
    pub const POSITIONS: &str = "settlement: net positions of all parties = paid";
    pub const SELLERS: &str = "settlement: sellers' net = gross - fees - HQ and franchisee parts";
    pub const NO_FRANCHISEE: &str = "settlement: an HQ-owned store pays no franchisee";
    pub const ADD_UP: &str = "settlement: stores, methods, sources and campaigns add up to the chain";
    pub const REFUNDS: &str = "settlement: refunds <= sales";
    pub const RATES: &str = "settlement: rates within 100 %";
    pub const KNOWN_STORE: &str = "settlement: known store";
    pub const KNOWN_CAMPAIGN: &str = "settlement: known campaign";
    pub const NOT_NEGATIVE: &str = "settlement: amounts are not negative";
}

/// `amount × bps / 10 000`, to the nearest cent, halves up. `amount` is not negative and
/// `bps` at most [`WHOLE_BPS`], so the result is between zero and `amount`.
pub fn bps_of(amount: Cents, bps: u32) -> Cents {
    debug_assert!(amount.0 >= 0 && bps <= WHOLE_BPS, "bps_of({amount}, {bps})");
    let x = i128::from(amount.0) * i128::from(bps);
    Cents(i64::try_from((x + 5_000) / 10_000).expect("at most the amount, as bps <= 10 000"))
}

/// A discount's funding parts: they sum to the discount exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FundingParts {
    pub hq: Cents,
    pub franchisee: Cents,
    pub brand: Cents,
}

/// Whether the shares sum to 100 %.
pub fn funding_is_whole(funding: Funding) -> bool {
    u64::from(funding.hq_bps) + u64::from(funding.franchisee_bps) + u64::from(funding.brand_bps) == u64::from(WHOLE_BPS)
}

/// Splits `amount` by `funding`, largest remainder (see the module doc). `None` if the
/// amount is negative or the shares do not sum to 100 %.
pub fn split_discount(amount: Cents, funding: Funding) -> Option<FundingParts> {
    if amount.0 < 0 || !funding_is_whole(funding) {
        return None;
    }
    let bps = [funding.hq_bps, funding.franchisee_bps, funding.brand_bps];
    let mut parts = [0i64; 3];
    let mut remainders = [0i64; 3];
    for i in 0..3 {
        let x = i128::from(amount.0) * i128::from(bps[i]);
        parts[i] = i64::try_from(x / 10_000).expect("at most the amount");
        remainders[i] = (x % 10_000) as i64;
    }
    // The remainders sum to 10 000 × the cents left, each under 10 000: at most two left.
    let mut left = amount.0 - parts.iter().sum::<i64>();
    while left > 0 {
        let mut best = 0;
        for i in 1..3 {
            if remainders[i] > remainders[best] {
                best = i;
            }
        }
        parts[best] += 1;
        remainders[best] = -1;
        left -= 1;
    }
    Some(FundingParts { hq: Cents(parts[0]), franchisee: Cents(parts[1]), brand: Cents(parts[2]) })
}

/// Where a discount comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiscountSource {
    /// A coupon of this campaign.
    Campaign(CampaignId),
    /// Member points redeemed against the order (usually funded by HQ, which runs the
    /// member programme).
    Points,
    /// A coupon of this campaign accepted offline and refused by the centre afterwards:
    /// borne by the store's owner (see the module doc).
    OfflineLoss(CampaignId),
}

/// The funding of an offline loss at a store: all by its franchisee, or all by HQ at a
/// store HQ owns.
pub fn offline_loss_funding(franchised: bool) -> Funding {
    if franchised {
        Funding { hq_bps: 0, franchisee_bps: WHOLE_BPS, brand_bps: 0 }
    } else {
        Funding { hq_bps: WHOLE_BPS, franchisee_bps: 0, brand_bps: 0 }
    }
}

impl fmt::Display for DiscountSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscountSource::Campaign(c) => write!(f, "campaign #{}", c.0),
            DiscountSource::Points => f.write_str("member points"),
            DiscountSource::OfflineLoss(c) => write!(f, "offline loss on campaign #{}", c.0),
        }
    }
}

/// One discount applied to a sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discount {
    pub source: DiscountSource,
    /// Who pays for it (the campaign's [`Funding`]).
    pub funding: Funding,
    pub amount: Cents,
}

/// One payment, as a store or the order centre reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sale<'a> {
    /// The store that sold it, or for an online order the store that fulfils it.
    pub store: StoreIdx,
    pub channel: Channel,
    pub method: Payment,
    /// At list prices.
    pub gross: Cents,
    pub discounts: &'a [Discount],
    /// What the customer paid: exactly `gross` − the discounts.
    pub paid: Cents,
}

/// The money of one payment as settled, or a sum of them (a refund subtracts one). See the
/// module doc for the flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    /// Payments counted (net of refunds).
    pub payments: i64,
    /// At list prices.
    pub gross: Cents,
    pub discounts: Cents,
    /// What the customers paid.
    pub paid: Cents,
    /// The payment channel's fee, `F`.
    pub fee: Cents,
    /// The franchisee's share of the paid amount after the fee, `R_f`.
    pub franchisee_receipts: Cents,
    /// HQ's share, the rest of it, `R_h`.
    pub hq_receipts: Cents,
    /// The discounts' funding parts, `h`, `f` and `b`.
    pub hq_funded: Cents,
    pub franchisee_funded: Cents,
    pub brand_funded: Cents,
    /// Coupon settlement: what the franchisee receives, `x_f − f` (negative: pays).
    pub franchisee_coupon: Cents,
    /// Coupon settlement: what HQ receives, `x_h − h` (negative: pays).
    pub hq_coupon: Cents,
}

/// A money field of a [`Flow`]: its name and how to read it.
pub type FlowField = (&'static str, fn(&Flow) -> Cents);

impl Flow {
    /// The money fields by name, in declaration order (for reports and reconciliation).
    pub const FIELDS: [FlowField; 11] = [
        ("gross", |f| f.gross),
        ("discounts", |f| f.discounts),
        ("paid", |f| f.paid),
        ("fee", |f| f.fee),
        ("franchisee receipts", |f| f.franchisee_receipts),
        ("HQ receipts", |f| f.hq_receipts),
        ("HQ-funded", |f| f.hq_funded),
        ("franchisee-funded", |f| f.franchisee_funded),
        ("brand-funded", |f| f.brand_funded),
        ("franchisee coupon settlement", |f| f.franchisee_coupon),
        ("HQ coupon settlement", |f| f.hq_coupon),
    ];

    /// The franchisee's net position: receipts and coupon settlement.
    pub fn franchisee_net(&self) -> Cents {
        self.franchisee_receipts + self.franchisee_coupon
    }

    /// HQ's net position: receipts and coupon settlement.
    pub fn hq_net(&self) -> Cents {
        self.hq_receipts + self.hq_coupon
    }

    /// The payment channel's net position: its fees.
    pub fn channel_net(&self) -> Cents {
        self.fee
    }

    /// The brand's net position: minus the reimbursements it pays.
    pub fn brand_net(&self) -> Cents {
        -self.brand_funded
    }

    /// HQ's and the franchisee's net positions together.
    pub fn sellers_net(&self) -> Cents {
        self.franchisee_net() + self.hq_net()
    }

    fn zip(self, o: Flow, op: fn(i64, i64) -> i64) -> Flow {
        let c = |a: Cents, b: Cents| Cents(op(a.0, b.0));
        Flow {
            payments: op(self.payments, o.payments),
            gross: c(self.gross, o.gross),
            discounts: c(self.discounts, o.discounts),
            paid: c(self.paid, o.paid),
            fee: c(self.fee, o.fee),
            franchisee_receipts: c(self.franchisee_receipts, o.franchisee_receipts),
            hq_receipts: c(self.hq_receipts, o.hq_receipts),
            hq_funded: c(self.hq_funded, o.hq_funded),
            franchisee_funded: c(self.franchisee_funded, o.franchisee_funded),
            brand_funded: c(self.brand_funded, o.brand_funded),
            franchisee_coupon: c(self.franchisee_coupon, o.franchisee_coupon),
            hq_coupon: c(self.hq_coupon, o.hq_coupon),
        }
    }
}

impl Add for Flow {
    type Output = Flow;
    fn add(self, rhs: Flow) -> Flow {
        self.zip(rhs, |a, b| a + b)
    }
}

impl Sub for Flow {
    type Output = Flow;
    fn sub(self, rhs: Flow) -> Flow {
        self.zip(rhs, |a, b| a - b)
    }
}

impl Neg for Flow {
    type Output = Flow;
    fn neg(self) -> Flow {
        Flow::default() - self
    }
}

impl AddAssign for Flow {
    fn add_assign(&mut self, rhs: Flow) {
        *self = *self + rhs;
    }
}

impl SubAssign for Flow {
    fn sub_assign(&mut self, rhs: Flow) {
        *self = *self - rhs;
    }
}

/// The discounts of one campaign (or of member points), net of refunds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiscountTotals {
    /// Discounts applied.
    pub count: i64,
    pub amount: Cents,
    pub hq: Cents,
    pub franchisee: Cents,
    /// What the brand reimburses.
    pub brand: Cents,
}

impl DiscountTotals {
    fn add(&mut self, amount: Cents, parts: FundingParts, sign: i64) {
        self.count += sign;
        self.amount += Cents(sign * amount.0);
        self.hq += Cents(sign * parts.hq.0);
        self.franchisee += Cents(sign * parts.franchisee.0);
        self.brand += Cents(sign * parts.brand.0);
    }
}

/// A payment settlement refuses (and a run stops with, naming [`Self::invariant`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    #[error("{what} is {bps} bps, over 10 000 (100 %)")]
    Rate { what: &'static str, bps: u32 },
    #[error("store #{} is not one of the {stores} stores", store.0)]
    UnknownStore { store: StoreIdx, stores: usize },
    #[error("campaign #{} is not one of the {campaigns} campaigns", campaign.0)]
    UnknownCampaign { campaign: CampaignId, campaigns: usize },
    #[error("{what} is negative: {amount}")]
    Negative { what: &'static str, amount: Cents },
    #[error(
        "the funding of a discount of {of} sums to {} bps, not 10 000 (HQ {}, franchisee {}, brand {})",
        u64::from(funding.hq_bps) + u64::from(funding.franchisee_bps) + u64::from(funding.brand_bps),
        funding.hq_bps, funding.franchisee_bps, funding.brand_bps
    )]
    FundingNotWhole { of: DiscountSource, funding: Funding },
    #[error("paid {paid} != gross {gross} - discounts {discounts}")]
    PaidMismatch { gross: Cents, discounts: Cents, paid: Cents },
    #[error(transparent)]
    Txn(#[from] TxnError),
}

impl SettlementError {
    /// The invariant a run stops with.
    pub fn invariant(&self) -> &'static str {
        match self {
            SettlementError::Rate { .. } => invariant::RATES,
            SettlementError::UnknownStore { .. } => invariant::KNOWN_STORE,
            SettlementError::UnknownCampaign { .. } => invariant::KNOWN_CAMPAIGN,
            SettlementError::Negative { .. } => invariant::NOT_NEGATIVE,
            SettlementError::FundingNotWhole { .. } => invariant::FUNDING,
            SettlementError::PaidMismatch { .. } => invariant::PAID,
            SettlementError::Txn(e) => e.invariant(),
        }
    }
}

/// What reconciliation compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Chain,
    /// One store, all channels.
    Store(StoreIdx),
    StoreChannel(StoreIdx, Channel),
    Method(Payment),
    Campaign(CampaignId),
    Points,
    /// One store's offline losses.
    OfflineLosses(StoreIdx),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Chain => f.write_str("chain"),
            Scope::Store(s) => write!(f, "store #{}", s.0),
            Scope::StoreChannel(s, c) => write!(f, "store #{} {}", s.0, c.name()),
            Scope::Method(m) => write!(f, "method {}", m.name()),
            Scope::Campaign(c) => write!(f, "campaign #{}", c.0),
            Scope::Points => f.write_str("member points"),
            Scope::OfflineLosses(s) => write!(f, "offline losses of store #{}", s.0),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Equal,
    AtMost,
}

/// One identity of the books: `lhs` relates to `rhs` in `scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The invariant (one of [`invariant`]).
    pub name: &'static str,
    pub scope: Scope,
    /// What `lhs` is.
    pub quantity: &'static str,
    pub lhs: Cents,
    pub rhs: Cents,
    pub relation: Relation,
}

impl Identity {
    pub fn holds(&self) -> bool {
        match self.relation {
            Relation::Equal => self.lhs == self.rhs,
            Relation::AtMost => self.lhs <= self.rhs,
        }
    }

    /// What was found, for a report: `store #2 app: paid is 90.01, should be 90.00`.
    pub fn detail(&self) -> String {
        let relation = match self.relation {
            Relation::Equal => "should be",
            Relation::AtMost => "should be at most",
        };
        format!("{}: {} is {}, {relation} {}", self.scope, self.quantity, self.lhs, self.rhs)
    }
}

/// Every identity of the books, each with whether it holds exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconciliation {
    pub identities: Vec<Identity>,
}

impl Reconciliation {
    pub fn holds(&self) -> bool {
        self.identities.iter().all(Identity::holds)
    }

    pub fn broken(&self) -> impl Iterator<Item = &Identity> {
        self.identities.iter().filter(|i| !i.holds())
    }

    /// The first broken identity, as a run reports it: its invariant's name and a detail.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        match self.broken().next() {
            Some(i) => Err((i.name, i.detail())),
            None => Ok(()),
        }
    }
}

/// The identities reconciliation collects.
struct Identities(Vec<Identity>);

impl Identities {
    fn equal(&mut self, name: &'static str, scope: Scope, quantity: &'static str, lhs: Cents, rhs: Cents) {
        self.0.push(Identity { name, scope, quantity, lhs, rhs, relation: Relation::Equal });
    }

    fn at_most(&mut self, name: &'static str, scope: Scope, quantity: &'static str, lhs: Cents, rhs: Cents) {
        self.0.push(Identity { name, scope, quantity, lhs, rhs, relation: Relation::AtMost });
    }

    /// The identities every flow (one store channel, a store, a method, the chain) obeys.
    fn flow(&mut self, scope: Scope, f: &Flow) {
        use invariant::*;
        self.equal(PAID, scope, "paid", f.paid, f.gross - f.discounts);
        let receipts = f.fee + f.franchisee_receipts + f.hq_receipts;
        self.equal(RECEIPTS, scope, "fee + franchisee + HQ receipts", receipts, f.paid);
        let parts = f.hq_funded + f.franchisee_funded + f.brand_funded;
        self.equal(FUNDING, scope, "HQ + franchisee + brand parts", parts, f.discounts);
        let transfers = f.franchisee_coupon + f.hq_coupon;
        self.equal(TRANSFERS, scope, "franchisee + HQ coupon settlement", transfers, f.brand_funded);
        let sellers = f.gross - f.fee - f.hq_funded - f.franchisee_funded;
        self.equal(SELLERS, scope, "franchisee + HQ net", f.sellers_net(), sellers);
    }
}

/// One store's sales and refunds, per channel.
#[derive(Clone, Copy, Debug, Default)]
struct StoreBook {
    sales: [Flow; Channel::COUNT],
    refunds: [Flow; Channel::COUNT],
}

fn method_index(m: Payment) -> usize {
    match m {
        Payment::MobileQr => 0,
        Payment::Card => 1,
        Payment::Cash => 2,
        Payment::Prepaid => 3,
    }
}

fn non_negative(what: &'static str, amount: Cents) -> Result<(), SettlementError> {
    if amount.0 < 0 { Err(SettlementError::Negative { what, amount }) } else { Ok(()) }
}

/// The settlement centre's books. See the module doc.
#[derive(Clone, Debug)]
pub struct Settlement {
    fee_bps: [u32; 4],
    /// Per store: `None` owned by HQ, `Some(k)` the franchisee's share of net sales.
    franchise_bps: Vec<Option<u32>>,
    books: Vec<StoreBook>,
    /// Per method, net of refunds.
    methods: [Flow; 4],
    campaigns: Vec<DiscountTotals>,
    points: DiscountTotals,
    /// Per store: the offline losses its owner bore.
    offline: Vec<DiscountTotals>,
    /// The chain, net of refunds.
    chain: Flow,
    /// Per transaction source (each store's tills, the order centre, the flash sale's
    /// stock holder): sales and refunds, so each source's money can be checked against
    /// what it says it took.
    sources: Vec<SourceBook>,
    log: TxnLog,
}

/// What one source of transactions booked: its sales and its refunds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceBook {
    pub sales: Flow,
    pub refunds: Flow,
}

impl Settlement {
    /// Empty books for stores with these franchise shares (`None`: owned by HQ),
    /// `campaigns` campaigns and transactions from sources `0..sources`.
    pub fn new(
        spec: &SettlementSpec,
        franchise_bps: &[Option<u32>],
        campaigns: usize,
        sources: usize,
    ) -> Result<Settlement, SettlementError> {
        for bps in spec.fee_bps {
            if bps > WHOLE_BPS {
                return Err(SettlementError::Rate { what: "a payment fee", bps });
            }
        }
        for bps in franchise_bps.iter().flatten() {
            if *bps > WHOLE_BPS {
                return Err(SettlementError::Rate { what: "a franchise share", bps: *bps });
            }
        }
        Ok(Settlement {
            fee_bps: spec.fee_bps,
            franchise_bps: franchise_bps.to_vec(),
            books: vec![StoreBook::default(); franchise_bps.len()],
            methods: [Flow::default(); 4],
            campaigns: vec![DiscountTotals::default(); campaigns],
            points: DiscountTotals::default(),
            offline: vec![DiscountTotals::default(); franchise_bps.len()],
            chain: Flow::default(),
            sources: vec![SourceBook::default(); sources],
            log: TxnLog::new(sources),
        })
    }

    /// Empty books for a chain: its stores and campaigns, transactions from the stores, the
    /// order centre and the flash sale's stock holder ([`TxnSource::chain_sources`]).
    pub fn for_chain(chain: &ChainSpec) -> Result<Settlement, SettlementError> {
        let shares: Vec<Option<u32>> = chain.stores.iter().map(|s| s.franchise_bps).collect();
        Settlement::new(
            &chain.platform.settlement,
            &shares,
            chain.campaigns.len(),
            TxnSource::chain_sources(chain.stores.len()),
        )
    }

    /// How `sale` splits, without recording it.
    pub fn split(&self, sale: &Sale<'_>) -> Result<Flow, SettlementError> {
        let franchise = *self
            .franchise_bps
            .get(usize::from(sale.store.0))
            .ok_or(SettlementError::UnknownStore { store: sale.store, stores: self.franchise_bps.len() })?;
        non_negative("the gross amount", sale.gross)?;
        non_negative("the amount paid", sale.paid)?;
        let mut discounts = 0i128;
        for d in sale.discounts {
            non_negative("a discount", d.amount)?;
            if let DiscountSource::Campaign(c) | DiscountSource::OfflineLoss(c) = d.source
                && usize::from(c.0) >= self.campaigns.len()
            {
                return Err(SettlementError::UnknownCampaign { campaign: c, campaigns: self.campaigns.len() });
            }
            if !funding_is_whole(d.funding) {
                return Err(SettlementError::FundingNotWhole { of: d.source, funding: d.funding });
            }
            discounts += i128::from(d.amount.0);
        }
        if i128::from(sale.paid.0) + discounts != i128::from(sale.gross.0) {
            let discounts = Cents(i64::try_from(discounts).unwrap_or(i64::MAX));
            return Err(SettlementError::PaidMismatch { gross: sale.gross, discounts, paid: sale.paid });
        }
        // Paid + discounts = gross, all non-negative: every sum below fits.
        let fee = bps_of(sale.paid, self.fee_bps[method_index(sale.method)]);
        let net = sale.paid - fee;
        let franchisee_receipts = franchise.map_or(Cents::ZERO, |k| bps_of(net, k));
        let mut flow = Flow {
            payments: 1,
            gross: sale.gross,
            discounts: sale.gross - sale.paid,
            paid: sale.paid,
            fee,
            franchisee_receipts,
            hq_receipts: net - franchisee_receipts,
            ..Flow::default()
        };
        for d in sale.discounts {
            let parts = split_discount(d.amount, d.funding).expect("checked above");
            flow.hq_funded += parts.hq;
            flow.franchisee_funded += parts.franchisee;
            flow.brand_funded += parts.brand;
            match franchise {
                Some(k) => {
                    let x_f = bps_of(d.amount, k);
                    flow.franchisee_coupon += x_f - parts.franchisee;
                    flow.hq_coupon += d.amount - x_f - parts.hq;
                }
                None => flow.hq_coupon += d.amount - parts.hq - parts.franchisee,
            }
        }
        Ok(flow)
    }

    /// Records a payment; returns its split. A repeated `txn` changes nothing; an invalid
    /// sale changes nothing and is an error.
    pub fn record(&mut self, txn: TxnId, sale: &Sale<'_>) -> Result<Outcome<Flow>, SettlementError> {
        self.post(txn, sale, 1)
    }

    /// Refunds a payment recorded with [`Self::record`] (a cancelled or expired order):
    /// subtracts exactly what recording `sale` added, and returns that split. A repeated
    /// `txn` changes nothing.
    pub fn refund(&mut self, txn: TxnId, sale: &Sale<'_>) -> Result<Outcome<Flow>, SettlementError> {
        self.post(txn, sale, -1)
    }

    fn post(&mut self, txn: TxnId, sale: &Sale<'_>, sign: i64) -> Result<Outcome<Flow>, SettlementError> {
        if self.log.is_applied(txn)? {
            return Ok(Outcome::Duplicate);
        }
        let flow = self.split(sale)?;
        let book = &mut self.books[usize::from(sale.store.0)];
        let method = &mut self.methods[method_index(sale.method)];
        // The log knows the source (checked above), so it has a book.
        let source = &mut self.sources[txn.source.0 as usize];
        if sign > 0 {
            book.sales[sale.channel.index()] += flow;
            source.sales += flow;
            *method += flow;
            self.chain += flow;
        } else {
            book.refunds[sale.channel.index()] += flow;
            source.refunds += flow;
            *method -= flow;
            self.chain -= flow;
        }
        for d in sale.discounts {
            let parts = split_discount(d.amount, d.funding).expect("checked by split");
            let totals = match d.source {
                DiscountSource::Campaign(c) => &mut self.campaigns[usize::from(c.0)],
                DiscountSource::Points => &mut self.points,
                DiscountSource::OfflineLoss(_) => &mut self.offline[usize::from(sale.store.0)],
            };
            totals.add(d.amount, parts, sign);
        }
        self.log.mark_applied(txn)?;
        Ok(Outcome::Applied(flow))
    }

    pub fn store_count(&self) -> usize {
        self.books.len()
    }

    pub fn campaign_count(&self) -> usize {
        self.campaigns.len()
    }

    /// `None` for a store owned by HQ, else the franchisee's share of net sales (bps).
    ///
    /// # Panics
    /// If `store` is not one of the stores (so for every query by store).
    pub fn franchise_bps(&self, store: StoreIdx) -> Option<u32> {
        self.franchise_bps[usize::from(store.0)]
    }

    /// What transactions of `source` booked (sales and refunds); `None` for a source the
    /// books do not know.
    pub fn source(&self, source: TxnSource) -> Option<&SourceBook> {
        self.sources.get(source.0 as usize)
    }

    /// The chain's totals, net of refunds.
    pub fn chain(&self) -> &Flow {
        &self.chain
    }

    /// One store's totals over every channel, net of refunds.
    pub fn store(&self, store: StoreIdx) -> Flow {
        let book = &self.books[usize::from(store.0)];
        (0..Channel::COUNT).fold(Flow::default(), |acc, c| acc + book.sales[c] - book.refunds[c])
    }

    /// One store's totals in one channel, net of refunds.
    pub fn store_channel(&self, store: StoreIdx, channel: Channel) -> Flow {
        *self.sales(store, channel) - *self.refunds(store, channel)
    }

    /// One store's sales in one channel, before refunds.
    pub fn sales(&self, store: StoreIdx, channel: Channel) -> &Flow {
        &self.books[usize::from(store.0)].sales[channel.index()]
    }

    /// One store's refunds in one channel.
    pub fn refunds(&self, store: StoreIdx, channel: Channel) -> &Flow {
        &self.books[usize::from(store.0)].refunds[channel.index()]
    }

    /// The totals of one payment method, net of refunds.
    pub fn method(&self, method: Payment) -> &Flow {
        &self.methods[method_index(method)]
    }

    /// The discounts of one campaign, net of refunds.
    ///
    /// # Panics
    /// If `campaign` is not one of the campaigns.
    pub fn campaign(&self, campaign: CampaignId) -> &DiscountTotals {
        &self.campaigns[usize::from(campaign.0)]
    }

    /// The discounts paid with member points, net of refunds.
    pub fn points(&self) -> &DiscountTotals {
        &self.points
    }

    /// The offline losses a store's owner bore (see the module doc), net of refunds: `hq`
    /// at a store HQ owns, `franchisee` at a franchised one.
    ///
    /// # Panics
    /// If `store` is not one of the stores.
    pub fn offline_losses(&self, store: StoreIdx) -> &DiscountTotals {
        &self.offline[usize::from(store.0)]
    }

    /// HQ's net position over the chain.
    pub fn hq_net(&self) -> Cents {
        self.chain.hq_net()
    }

    /// The net position of a store's franchisee; `None` for a store owned by HQ.
    pub fn franchisee_net(&self, store: StoreIdx) -> Option<Cents> {
        self.franchise_bps(store).map(|_| self.store(store).franchisee_net())
    }

    /// A payment channel's net position: the fees of its method.
    pub fn channel_net(&self, method: Payment) -> Cents {
        self.method(method).channel_net()
    }

    /// The brand's net position: minus what it reimburses.
    pub fn brand_net(&self) -> Cents {
        self.chain.brand_net()
    }

    /// What the brand owes the sellers: its parts of every discount.
    pub fn brand_receivable(&self) -> Cents {
        self.chain.brand_funded
    }

    /// Every identity of the books and whether it holds exactly. Allocates: call it at the
    /// end of a run or at a checkpoint, not per message.
    pub fn reconcile(&self) -> Reconciliation {
        use invariant::*;
        let mut r = Identities(Vec::new());
        let mut stores_total = Flow::default();
        let mut franchisees = Cents::ZERO;
        let mut seller_transfers = Cents::ZERO;
        for (i, book) in self.books.iter().enumerate() {
            let store = StoreIdx(u16::try_from(i).expect("stores are indexed by u16"));
            let mut total = Flow::default();
            for channel in Channel::ALL {
                let (sales, refunds) = (&book.sales[channel.index()], &book.refunds[channel.index()]);
                let scope = Scope::StoreChannel(store, channel);
                r.flow(scope, &(*sales - *refunds));
                r.at_most(REFUNDS, scope, "refunded paid", refunds.paid, sales.paid);
                r.at_most(REFUNDS, scope, "refunded gross", refunds.gross, sales.gross);
                total += *sales - *refunds;
            }
            let scope = Scope::Store(store);
            r.flow(scope, &total);
            match self.franchise_bps[i] {
                None => {
                    r.equal(NO_FRANCHISEE, scope, "franchisee receipts", total.franchisee_receipts, Cents::ZERO);
                    r.equal(NO_FRANCHISEE, scope, "franchisee coupon settlement", total.franchisee_coupon, Cents::ZERO);
                }
                Some(_) => franchisees += total.franchisee_net(),
            }
            seller_transfers += total.franchisee_coupon + total.hq_coupon;
            stores_total += total;
        }

        let mut methods_total = Flow::default();
        let mut fees = Cents::ZERO;
        for method in Payment::ALL {
            let f = self.method(method);
            r.flow(Scope::Method(method), f);
            fees += f.channel_net();
            methods_total += *f;
        }

        let mut parts = DiscountTotals::default();
        let campaigns =
            self.campaigns.iter().enumerate().map(|(i, t)| {
                (Scope::Campaign(CampaignId(u16::try_from(i).expect("campaigns are indexed by u16"))), t)
            });
        let offline =
            self.offline.iter().enumerate().map(|(i, t)| {
                (Scope::OfflineLosses(StoreIdx(u16::try_from(i).expect("stores are indexed by u16"))), t)
            });
        for (scope, t) in campaigns.chain(std::iter::once((Scope::Points, &self.points))).chain(offline) {
            r.equal(FUNDING, scope, "HQ + franchisee + brand parts", t.hq + t.franchisee + t.brand, t.amount);
            parts.amount += t.amount;
            parts.hq += t.hq;
            parts.franchisee += t.franchisee;
            parts.brand += t.brand;
        }

        let chain = &self.chain;
        r.flow(Scope::Chain, chain);
        let positions = fees + franchisees + self.hq_net() + self.brand_net();
        r.equal(POSITIONS, Scope::Chain, "channels + franchisees + HQ + brand net", positions, chain.paid);
        r.equal(BRAND, Scope::Chain, "coupon settlement received by the sellers", seller_transfers, parts.brand);
        let sources_total = self.sources.iter().fold(Flow::default(), |acc, b| acc + b.sales - b.refunds);
        for (quantity, field) in Flow::FIELDS {
            r.equal(ADD_UP, Scope::Chain, quantity, field(&stores_total), field(chain));
            r.equal(ADD_UP, Scope::Chain, quantity, field(&methods_total), field(chain));
            r.equal(ADD_UP, Scope::Chain, quantity, field(&sources_total), field(chain));
        }
        r.equal(
            ADD_UP,
            Scope::Chain,
            "discounts of campaigns, points and offline losses",
            parts.amount,
            chain.discounts,
        );
        r.equal(ADD_UP, Scope::Chain, "HQ parts of campaigns, points and offline losses", parts.hq, chain.hq_funded);
        r.equal(
            ADD_UP,
            Scope::Chain,
            "franchisee parts of campaigns, points and offline losses",
            parts.franchisee,
            chain.franchisee_funded,
        );
        r.equal(
            ADD_UP,
            Scope::Chain,
            "brand parts of campaigns, points and offline losses",
            parts.brand,
            chain.brand_funded,
        );
        Reconciliation { identities: r.0 }
    }

    /// [`Self::reconcile`], reduced to the first broken identity.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        self.reconcile().check()
    }
}

#[cfg(test)]
// Amounts are written major_minor: `100_00` is 100.00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::chain::spec::OnlineChannel;

    const CARD_60_BPS: SettlementSpec = SettlementSpec { fee_bps: [38, 60, 0, 0] };
    const BRAND: Funding = Funding { hq_bps: 0, franchisee_bps: 0, brand_bps: 10_000 };
    const HALVES: Funding = Funding { hq_bps: 5_000, franchisee_bps: 5_000, brand_bps: 0 };
    const FRANCHISEE: Funding = Funding { hq_bps: 0, franchisee_bps: 10_000, brand_bps: 0 };

    /// Store 0 franchised (the franchisee keeps 70 %), store 1 owned by HQ; two campaigns.
    fn books() -> Settlement {
        Settlement::new(&CARD_60_BPS, &[Some(7_000), None], 2, 2).unwrap()
    }

    fn txn(seq: u64) -> TxnId {
        TxnId::new(TxnSource(0), seq)
    }

    fn coupon(campaign: u16, funding: Funding, amount: i64) -> Discount {
        Discount { source: DiscountSource::Campaign(CampaignId(campaign)), funding, amount: Cents(amount) }
    }

    fn sale(store: u16, discounts: &[Discount], gross: i64) -> Sale<'_> {
        let off: i64 = discounts.iter().map(|d| d.amount.0).sum();
        Sale {
            store: StoreIdx(store),
            channel: Channel::Store,
            method: Payment::Card,
            gross: Cents(gross),
            discounts,
            paid: Cents(gross - off),
        }
    }

    #[test]
    fn rounding_is_to_the_nearest_cent_halves_up() {
        assert_eq!(bps_of(Cents(50), 100), Cents(1)); // 0.5 cent
        assert_eq!(bps_of(Cents(49), 100), Cents(0));
        assert_eq!(bps_of(Cents(9_000), 60), Cents(54));
        assert_eq!(bps_of(Cents(123), WHOLE_BPS), Cents(123));
        assert_eq!(bps_of(Cents(123), 0), Cents(0));
    }

    #[test]
    fn funding_parts_go_by_largest_remainder() {
        let thirds = Funding { hq_bps: 3_333, franchisee_bps: 3_333, brand_bps: 3_334 };
        // 3.333, 3.333 and 3.334 cents: the cent left goes to the brand's larger remainder.
        let p = split_discount(Cents(10), thirds).unwrap();
        assert_eq!((p.hq, p.franchisee, p.brand), (Cents(3), Cents(3), Cents(4)));
        // A tie goes to HQ first.
        let p = split_discount(Cents(1), HALVES).unwrap();
        assert_eq!((p.hq, p.franchisee, p.brand), (Cents(1), Cents(0), Cents(0)));
        // Two cents left: the two largest remainders get one each.
        let p = split_discount(Cents(2), thirds).unwrap();
        assert_eq!((p.hq, p.franchisee, p.brand), (Cents(1), Cents(0), Cents(1)));
        assert_eq!(split_discount(Cents(1), Funding::default()), None);
        assert_eq!(split_discount(Cents(-1), BRAND), None);
    }

    /// Each source's sales and refunds are kept apart, and the sources add up to the chain:
    /// a refund from another source than the sale's is still the chain's refund.
    #[test]
    fn every_source_keeps_its_own_sales_and_refunds() {
        let mut s = books();
        let other = |seq| TxnId::new(TxnSource(1), seq);
        assert!(s.record(txn(0), &sale(0, &[], 10_00)).unwrap().applied().is_some());
        assert!(s.record(other(0), &sale(1, &[], 25_00)).unwrap().applied().is_some());
        assert!(s.record(other(1), &sale(0, &[], 4_00)).unwrap().applied().is_some());
        assert!(s.refund(other(2), &sale(1, &[], 25_00)).unwrap().applied().is_some());
        let (a, b) = (s.source(TxnSource(0)).unwrap(), s.source(TxnSource(1)).unwrap());
        assert_eq!((a.sales.payments, a.sales.paid, a.refunds.paid), (1, Cents(10_00), Cents::ZERO));
        assert_eq!((b.sales.payments, b.sales.paid, b.refunds.paid), (2, Cents(29_00), Cents(25_00)));
        assert_eq!(s.chain().paid, Cents(14_00));
        assert!(s.source(TxnSource(2)).is_none());
        assert!(s.reconcile().holds());
    }

    /// The worked example: a 100.00 sale with a 10.00 brand-funded coupon at a franchised
    /// store (70 %), paid 90.00 by card (fee 0.60 %).
    #[test]
    fn a_brand_coupon_at_a_franchised_store() {
        let mut s = books();
        let discounts = [coupon(0, BRAND, 10_00)];
        let flow = s.record(txn(0), &sale(0, &discounts, 100_00)).unwrap().applied().unwrap();
        // Receipts: fee 0.54 of 90.00; the franchisee 70 % of 89.46 = 62.622 -> 62.62.
        assert_eq!(flow.fee, Cents(54));
        assert_eq!(flow.franchisee_receipts, Cents(62_62));
        assert_eq!(flow.hq_receipts, Cents(26_84));
        // Coupon: the brand pays 10.00; the franchisee went without 7.00 of it, HQ 3.00.
        assert_eq!(flow.brand_funded, Cents(10_00));
        assert_eq!(flow.franchisee_coupon, Cents(7_00));
        assert_eq!(flow.hq_coupon, Cents(3_00));
        // Net: as if the sale were 100.00, less the fee on 90.00: 70 % of 99.46 ≈ 69.62.
        assert_eq!(s.franchisee_net(StoreIdx(0)), Some(Cents(69_62)));
        assert_eq!(s.hq_net(), Cents(29_84));
        assert_eq!(s.channel_net(Payment::Card), Cents(54));
        assert_eq!(s.brand_net(), Cents(-10_00));
        assert_eq!(s.brand_receivable(), Cents(10_00));
        assert_eq!(s.campaign(CampaignId(0)).brand, Cents(10_00));
        assert_eq!(s.check(), Ok(()));
    }

    /// The same sale with the coupon funded half by HQ, half by the franchisee: each bears
    /// 5.00, so the franchisee pays HQ 2.00 back of the 7.00 it went without.
    #[test]
    fn a_shared_coupon_moves_money_between_the_sellers() {
        let mut s = books();
        let discounts = [coupon(1, HALVES, 10_00)];
        let flow = s.record(txn(0), &sale(0, &discounts, 100_00)).unwrap().applied().unwrap();
        assert_eq!(flow.franchisee_coupon, Cents(2_00));
        assert_eq!(flow.hq_coupon, Cents(-2_00));
        assert_eq!(s.franchisee_net(StoreIdx(0)), Some(Cents(69_62 - 5_00)));
        assert_eq!(s.hq_net(), Cents(29_84 - 5_00));
        assert_eq!(s.brand_net(), Cents::ZERO);
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn an_hq_owned_store_bears_the_franchisee_part() {
        let mut s = books();
        let discounts = [coupon(0, FRANCHISEE, 10_00)];
        let flow = s.record(txn(0), &sale(1, &discounts, 100_00)).unwrap().applied().unwrap();
        assert_eq!((flow.franchisee_receipts, flow.franchisee_coupon), (Cents::ZERO, Cents::ZERO));
        assert_eq!(flow.hq_net(), Cents(100_00 - 54 - 10_00));
        assert_eq!(s.franchisee_net(StoreIdx(1)), None);
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn an_online_order_refunded_nets_to_zero() {
        let mut s = books();
        let points = Funding { hq_bps: WHOLE_BPS, ..Funding::default() };
        let discounts =
            [coupon(0, BRAND, 3_33), Discount { source: DiscountSource::Points, funding: points, amount: Cents(1_50) }];
        let order = Sale {
            store: StoreIdx(0),
            channel: Channel::Online(OnlineChannel::App),
            method: Payment::MobileQr,
            gross: Cents(50_00),
            discounts: &discounts,
            paid: Cents(50_00 - 3_33 - 1_50),
        };
        let flow = s.record(txn(0), &order).unwrap().applied().unwrap();
        assert_eq!(flow.fee, bps_of(Cents(45_17), 38));
        assert_eq!(s.store_channel(StoreIdx(0), Channel::Online(OnlineChannel::App)), flow);
        assert_eq!(s.refund(txn(1), &order).unwrap().applied(), Some(flow));
        assert_eq!(*s.chain(), Flow::default());
        assert_eq!(s.store(StoreIdx(0)), Flow::default());
        assert_eq!(*s.points(), DiscountTotals::default());
        assert_eq!(*s.refunds(StoreIdx(0), Channel::Online(OnlineChannel::App)), flow);
        assert_eq!(s.check(), Ok(()));
    }

    /// A 2.00 coupon accepted offline and refused later: at the franchised store (70 %)
    /// the franchisee bears all of it (it pays HQ back the 0.60 HQ went without), at the
    /// HQ-owned store HQ does; no campaign is charged and the books reconcile.
    #[test]
    fn an_offline_loss_is_borne_by_the_stores_owner() {
        let mut s = books();
        let loss = |store: u16| Discount {
            source: DiscountSource::OfflineLoss(CampaignId(1)),
            funding: offline_loss_funding(store == 0),
            amount: Cents(2_00),
        };
        let at_franchise = [loss(0)];
        let f = s.record(txn(0), &sale(0, &at_franchise, 20_00)).unwrap().applied().unwrap();
        assert_eq!((f.franchisee_funded, f.hq_funded, f.brand_funded), (Cents(2_00), Cents::ZERO, Cents::ZERO));
        assert_eq!((f.franchisee_coupon, f.hq_coupon), (Cents(1_40 - 2_00), Cents(60)));
        let at_hq = [loss(1)];
        let h = s.record(txn(1), &sale(1, &at_hq, 20_00)).unwrap().applied().unwrap();
        assert_eq!((h.hq_funded, h.franchisee_funded, h.hq_coupon), (Cents(2_00), Cents::ZERO, Cents::ZERO));
        assert_eq!(s.offline_losses(StoreIdx(0)).franchisee, Cents(2_00));
        assert_eq!(s.offline_losses(StoreIdx(1)).hq, Cents(2_00));
        assert_eq!(*s.campaign(CampaignId(1)), DiscountTotals::default());
        assert_eq!(s.chain().discounts, Cents(4_00));
        assert_eq!(s.check(), Ok(()));
        // The franchisee ends with its share of the sale at list prices less the whole loss.
        let fee = bps_of(Cents(18_00), 60);
        assert_eq!(s.franchisee_net(StoreIdx(0)), Some(bps_of(Cents(18_00) - fee, 7_000) + Cents(1_40 - 2_00)));
    }

    #[test]
    fn a_repeated_transaction_counts_once() {
        let mut s = books();
        let discounts = [coupon(0, BRAND, 1_00)];
        assert!(s.record(txn(0), &sale(0, &discounts, 5_00)).unwrap().applied().is_some());
        let once = *s.chain();
        assert_eq!(s.record(txn(0), &sale(0, &discounts, 5_00)), Ok(Outcome::Duplicate));
        assert_eq!(s.refund(txn(0), &sale(0, &discounts, 5_00)), Ok(Outcome::Duplicate));
        assert_eq!(*s.chain(), once);
        assert_eq!(s.chain().payments, 1);
    }

    #[test]
    fn an_invalid_sale_changes_nothing_and_names_its_invariant() {
        let mut s = books();
        let discounts = [coupon(0, BRAND, 1_00)];
        let mut bad = sale(0, &discounts, 5_00);
        bad.paid = Cents(4_01);
        let err = s.record(txn(0), &bad).unwrap_err();
        assert_eq!(err.invariant(), invariant::PAID);
        assert_eq!(err.to_string(), "paid 4.01 != gross 5.00 - discounts 1.00");
        let unfunded = [coupon(0, Funding { hq_bps: 5_000, ..Funding::default() }, 1_00)];
        assert_eq!(s.record(txn(0), &sale(0, &unfunded, 5_00)).unwrap_err().invariant(), invariant::FUNDING);
        let unknown = [coupon(2, BRAND, 1_00)];
        assert_eq!(s.record(txn(0), &sale(0, &unknown, 5_00)).unwrap_err().invariant(), invariant::KNOWN_CAMPAIGN);
        assert_eq!(s.record(txn(0), &sale(2, &[], 5_00)).unwrap_err().invariant(), invariant::KNOWN_STORE);
        assert_eq!(*s.chain(), Flow::default());
        // The refused transaction was not marked: the corrected sale goes through.
        assert!(s.record(txn(0), &sale(0, &discounts, 5_00)).unwrap().applied().is_some());
    }

    #[test]
    fn rates_over_100_percent_are_refused() {
        let spec = SettlementSpec { fee_bps: [0, 10_001, 0, 0] };
        assert_eq!(Settlement::new(&spec, &[], 0, 1).unwrap_err().invariant(), invariant::RATES);
        assert!(Settlement::new(&CARD_60_BPS, &[Some(10_001)], 0, 1).is_err());
    }

    #[test]
    fn a_broken_identity_is_reported_by_name() {
        let mut s = books();
        assert!(s.record(txn(0), &sale(0, &[], 5_00)).unwrap().applied().is_some());
        // Books written around `record` (never done by the centre) break reconciliation.
        s.chain.fee += Cents(1);
        let (name, detail) = s.check().unwrap_err();
        assert_eq!(name, invariant::RECEIPTS);
        assert_eq!(detail, "chain: fee + franchisee + HQ receipts is 5.01, should be 5.00");
        assert!(!s.reconcile().holds());
    }
}
