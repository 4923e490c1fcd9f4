//! The coupon centre: each campaign's batch lifecycle, each coupon's serial and state,
//! limits, budgets and who pays for each discount ([`CouponCentre`]); and the choice
//! checkout makes among the coupons a shopper holds ([`best_combination`]).
//!
//! Plain deterministic state and pure functions: no actor, no message, no clock. The
//! centre's actor owns a [`CouponCentre`] and turns each request into one call; a store
//! (or the order centre) calls [`best_combination`] on its own copy of the campaigns.
//! Every map is a `Vec` indexed by id or a `BTreeMap`; money is [`Cents`], percentages are
//! basis points.
//!
//! The rules, and where they come from (research brief, chain-flash-load.md §3):
//! - **Types**: cash (Stripe `amount_off`), percent with an optional cap (Stripe
//!   `percent_off`, WeChat `DISCOUNT`), threshold "spend X save Y" (WeChat `NORMAL` with
//!   `transaction_minimum`, Shopify `minimumRequirement`), parking and pickup (the seeds).
//!   A percent discount rounds down to the cent. Parking and pickup coupons are in the
//!   `Service` class and take their amount off their scope like cash, parking only in
//!   store, pickup only on pickup orders ([`SaleChannel`]).
//! - **Never below zero**: a coupon takes at most what is left in its scope (Stripe: 200
//!   off a 100 subtotal gives 0), so no line, scope or total goes negative.
//! - **Stacking**: Shopify's `combinesWith` per class: two coupons combine only if each
//!   one's class is in the other's `combines_with` (so two product coupons combine only if
//!   both allow `Product`), and never two of one campaign. Allowed coupons apply in a fixed
//!   order, `order` then campaign index (Magento's `sort_order`), each to the amount the
//!   earlier ones left; a threshold checks `spend` against that amount.
//! - **Limits**: per member (WeChat `max_coupons_per_user`, Shopify
//!   `appliesOncePerCustomer`) and overall (WeChat `max_coupons`, Stripe `max_redemptions`).
//!   A coupon belongs to the member who claimed it, so a member redeems at most as many as
//!   they claimed, at most `per_member_limit`.
//! - **Budgets**: total and daily (WeChat `max_amount`, `max_amount_by_day`), charged with
//!   the discount actually given, at redemption. A redemption that would overspend either
//!   is refused and changes nothing (the order still holds its lock: it may redeem a
//!   smaller discount, see [`CouponCentre::budget_left`], or release). Issuing stops while
//!   no budget is left for today.
//! - **Validity**: a window, or a span after the claim (WeChat, Alibaba), half-open
//!   `[from, to)`.
//! - **Batch lifecycle**: unactivated → running ⇄ paused → stopped (WeChat stock states):
//!   pausing and stopping stop issuing, and issued coupons stay valid.
//! - **Serial lifecycle**: issued → used | expired (WeChat `SENDED`), with a locked state
//!   while an order holds the coupon, released on cancel. An order that is cancelled after
//!   it redeemed (an online order refunded, a till that gave up waiting for the answer)
//!   gives the coupon back ([`CouponCentre::cancel`]): the redemption is reversed, its
//!   discount returned to the budgets of the day it was charged to, and the serial is free
//!   again (or expired, if its validity has ended).
//! - **Cost sharing**: each discount is split between HQ, franchisee and brand by the
//!   campaign's funding, exactly to the cent, by the settlement's own rule
//!   ([`split_discount`]: largest remainder), so the centre's figures by funder are the
//!   settlement's.
//!
//! **Idempotent redemption, one winner per serial.** A serial leaves `Issued` only by
//! expiring or by the first `lock` that finds it valid (`Locked { txn }`); then only that
//! txn moves it, to `Used { txn, discount }` (redeem, final) or back to `Issued`
//! (release). Every other call is answered from the state alone and changes no state: a
//! lock or redeem by another txn is refused; a repeated lock by the holder is `Ok`; a
//! repeated redeem by the winner returns the recorded discount; a release by a txn that
//! holds nothing is `Ok`. So a call repeated any number of times, interleaved with others,
//! has the effect of its first success, and the budget is charged exactly once per
//! redemption, on the one `Locked → Used` step (and given back once, on the one
//! `Used → Issued | Expired` step of [`CouponCentre::cancel`] by the same txn). Messages may overtake each other, so a released serial remembers the txn that
//! released it (or said it holds nothing) and refuses that txn's later lock: a txn that
//! releases a serial never holds it again. An order is named by its [`TxnId`] (a till
//! transaction, or an online order from the order centre's source); the centre needs the
//! ids unique per order, not dense.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use storetwin_engine::{SimDuration, SimTime};

use crate::chain::members::MemberId;
use crate::chain::settlement::{FundingParts, funding_is_whole, split_discount};
use crate::chain::spec::{
    CampaignId, CampaignSpec, CouponKind, CouponScope, Fulfilment, StackClass, StoreIdx, Validity,
};
use crate::chain::txn::TxnId;
use crate::money::Cents;
use crate::store::spec::{CategoryId, SkuId};

/// A budget day: day `n` is `[n × 24 h, (n + 1) × 24 h)` from the run's start.
pub const DAY: SimDuration = SimDuration::from_secs(86_400);

/// Basis points in a whole.
const WHOLE_BPS: i128 = 10_000;

/// The budget day of `now` (see [`DAY`]).
pub fn day_of(now: SimTime) -> u32 {
    u32::try_from(now.as_nanos() / DAY.as_nanos()).expect("584 years of nanoseconds are fewer than 2^32 days")
}

/// A coupon's serial number: dense, in issue order across all campaigns of the centre.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Serial(pub u32);

// ---------------------------------------------------------------------------------------
// The spec types, read by the coupon rules.

/// A campaign's batch status at some time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum BatchStatus {
    /// Before `activate_at`: nothing issued yet.
    Unactivated,
    /// Issuing.
    Running,
    /// In a pause window: not issuing; issued coupons stay valid.
    Paused,
    /// From `stop_at` on, for good: not issuing; issued coupons stay valid.
    Stopped,
}

impl BatchStatus {
    pub const ALL: [BatchStatus; 4] =
        [BatchStatus::Unactivated, BatchStatus::Running, BatchStatus::Paused, BatchStatus::Stopped];

    pub fn name(self) -> &'static str {
        match self {
            BatchStatus::Unactivated => "unactivated",
            BatchStatus::Running => "running",
            BatchStatus::Paused => "paused",
            BatchStatus::Stopped => "stopped",
        }
    }
}

impl CampaignSpec {
    /// The batch status at `now`: stopped from `stop_at` (even before `activate_at`),
    /// else unactivated before `activate_at`, else paused inside any `[from, to)` of
    /// `pauses`, else running. A pure function of the spec and the time.
    pub fn status(&self, now: SimTime) -> BatchStatus {
        if self.stop_at.is_some_and(|stop| now >= stop) {
            BatchStatus::Stopped
        } else if now < self.activate_at {
            BatchStatus::Unactivated
        } else if self.pauses.iter().any(|&(from, to)| from <= now && now < to) {
            BatchStatus::Paused
        } else {
            BatchStatus::Running
        }
    }

    /// The first time after `now` at which [`status`](Self::status) changes (`None`: it
    /// never does): when the centre's actor schedules its next look at the campaign.
    pub fn next_transition(&self, now: SimTime) -> Option<SimTime> {
        let here = self.status(now);
        let mut times: Vec<SimTime> = std::iter::once(self.activate_at)
            .chain(self.stop_at)
            .chain(self.pauses.iter().flat_map(|&(from, to)| [from, to]))
            .filter(|&t| t > now)
            .collect();
        times.sort_unstable();
        times.into_iter().find(|&t| self.status(t) != here)
    }

    /// Whether the campaign runs at `store` (`None`: online, no store), for issuing and
    /// for redeeming.
    pub fn runs_in(&self, store: Option<StoreIdx>) -> bool {
        match (&self.stores, store) {
            (None, _) => true,
            (Some(stores), Some(s)) => stores.contains(&s),
            (Some(_), None) => false,
        }
    }

    /// The validity `[from, to)` of a coupon of this campaign claimed at `claimed_at`.
    pub fn validity_from(&self, claimed_at: SimTime) -> (SimTime, SimTime) {
        match self.validity {
            Validity::Window { from, to } => (from, to),
            Validity::AfterClaim(d) => (claimed_at, claimed_at.saturating_add(d)),
        }
    }
}

impl CouponKind {
    /// The most one coupon of this kind can take off (`None`: an uncapped percentage).
    pub fn max_discount(&self) -> Option<Cents> {
        match *self {
            CouponKind::Cash { off }
            | CouponKind::Threshold { off, .. }
            | CouponKind::Parking { off }
            | CouponKind::Pickup { off } => Some(off),
            CouponKind::Percent { max_off, .. } => max_off,
        }
    }

    /// The discount on an eligible amount (what is left in the coupon's scope when its turn
    /// comes): never more than that amount, never negative. Percentages round down to the
    /// cent, then the cap applies; a threshold needs `eligible >= spend`.
    pub fn discount(&self, eligible: Cents) -> Cents {
        let eligible = eligible.0.max(0);
        let off = match *self {
            CouponKind::Cash { off } | CouponKind::Parking { off } | CouponKind::Pickup { off } => off.0,
            CouponKind::Threshold { spend, off } => {
                if eligible >= spend.0 {
                    off.0
                } else {
                    0
                }
            }
            CouponKind::Percent { bps, max_off } => {
                let raw = (i128::from(eligible) * i128::from(bps) / WHOLE_BPS).min(i128::from(eligible));
                let raw = i64::try_from(raw).expect("at most the eligible amount");
                max_off.map_or(raw, |cap| raw.min(cap.0))
            }
        };
        Cents(off.clamp(0, eligible))
    }
}

/// The parts of a discount by funder ([`split_discount`], the settlement's rule), for a
/// discount the centre accepted: not negative, on a campaign whose funding is whole.
fn funding_parts(spec: &CampaignSpec, discount: Cents) -> FundingParts {
    split_discount(discount, spec.funding).expect("funding checked whole by CouponCentre::new, discount not negative")
}

fn add_parts(sum: &mut FundingParts, parts: FundingParts) {
    sum.hq += parts.hq;
    sum.franchisee += parts.franchisee;
    sum.brand += parts.brand;
}

fn parts_total(parts: &FundingParts) -> Cents {
    parts.hq + parts.franchisee + parts.brand
}

// ---------------------------------------------------------------------------------------
// Serials and refusals.

/// Where a serial is in its lifecycle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SerialState {
    /// Held by its member, free to use.
    Issued,
    /// Held by an order (a checkout or an online order) until it redeems or releases it.
    Locked { txn: TxnId },
    /// Redeemed by `txn` for `discount`: final.
    Used { txn: TxnId, discount: Cents },
    /// Its validity ended before it was used: final.
    Expired,
}

/// One issued coupon.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Coupon {
    pub campaign: CampaignId,
    /// The member who claimed it, and the only one who can use it.
    pub member: MemberId,
    /// Where it was claimed (`None`: online).
    pub store: Option<StoreIdx>,
    pub claimed_at: SimTime,
    /// Usable in `[valid_from, valid_to)`.
    pub valid_from: SimTime,
    pub valid_to: SimTime,
    pub state: SerialState,
    /// The budget day its redemption was charged to (meaningful while `Used`).
    pub redeemed_day: u32,
    /// The last txn that released it (or released it without holding it): its later
    /// lock is refused, so a lock overtaken by its own release cannot hold the serial.
    pub released_by: Option<TxnId>,
}

impl Coupon {
    pub fn is_valid_at(&self, now: SimTime) -> bool {
        self.valid_from <= now && now < self.valid_to
    }
}

/// What a shopper's app holds: enough to choose coupons at checkout without asking the
/// centre.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HeldCoupon {
    pub serial: Serial,
    pub campaign: CampaignId,
    pub valid_from: SimTime,
    pub valid_to: SimTime,
}

/// Fieldless refusal reasons, countable: `ALL`, `COUNT`, `index`, `name`.
macro_rules! reasons {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $label:literal: $message:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, thiserror::Error)]
        pub enum $name {
            $($(#[$vmeta])* #[error($message)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            pub const COUNT: usize = $name::ALL.len();

            /// Position in `ALL`, for counters.
            pub fn index(self) -> usize {
                self as usize
            }

            /// snake_case, for reports.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }
    };
}

reasons! {
    /// Why a claim issued nothing (checked in this order).
    ClaimRefused {
        /// Not counted (no campaign to count it in).
        UnknownCampaign = "unknown_campaign": "no such campaign",
        NotRunning = "not_running": "the campaign is not running (unactivated, paused or stopped)",
        NotInStore = "not_in_store": "the campaign does not run in this store",
        /// A window that has already ended (a coupon that could never be used).
        ValidityEnded = "validity_ended": "the coupons' validity has ended",
        MemberLimit = "member_limit": "the member has claimed as many of these coupons as one may",
        /// Includes the centre's serial space (2^32 coupons).
        TotalLimit = "total_limit": "the campaign has issued all its coupons",
        BudgetExhausted = "budget_exhausted": "the campaign's budget is spent",
        DailyBudgetExhausted = "daily_budget_exhausted": "the campaign's budget for today is spent",
    }
}

reasons! {
    /// Why a lock was refused.
    LockRefused {
        /// Not counted.
        UnknownSerial = "unknown_serial": "no such serial",
        NotHolder = "not_holder": "the coupon belongs to another member",
        NotInStore = "not_in_store": "the campaign does not run in this store",
        NotYetValid = "not_yet_valid": "the coupon is not valid yet",
        Expired = "expired": "the coupon has expired",
        LockedByOther = "locked_by_other": "another order holds the coupon",
        AlreadyUsed = "already_used": "the coupon was redeemed by another order",
        /// This txn released the serial before (a late or repeated lock after a release).
        TxnReleased = "txn_released": "this order has released the coupon",
    }
}

reasons! {
    /// Why a redemption was refused; nothing changed (a lock held by the txn stays).
    RedeemRefused {
        /// Not counted.
        UnknownSerial = "unknown_serial": "no such serial",
        NotLocked = "not_locked": "the coupon is not locked by any order",
        LockedByOther = "locked_by_other": "another order holds the coupon",
        AlreadyUsed = "already_used": "the coupon was redeemed by another order",
        Expired = "expired": "the coupon has expired",
        NegativeDiscount = "negative_discount": "a discount cannot be negative",
        /// More than the coupon's face value or cap ([`CouponKind::max_discount`]).
        AboveFaceValue = "above_face_value": "the discount is more than the coupon gives",
        BudgetExhausted = "budget_exhausted": "the discount is more than the campaign's budget left",
        DailyBudgetExhausted = "daily_budget_exhausted": "the discount is more than today's budget left",
    }
}

/// Why a release was refused.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, thiserror::Error)]
pub enum ReleaseRefused {
    #[error("no such serial")]
    UnknownSerial,
    /// The txn redeemed it: a redemption is final.
    #[error("this order has redeemed the coupon")]
    AlreadyUsed,
}

/// What [`CouponCentre::cancel`] gave back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cancelled {
    /// The order held nothing of the serial (never locked it, or gave it back already).
    Nothing,
    /// Its lock.
    Released,
    /// Its redemption: this discount, funded so, is no longer given.
    Reversed(Redemption),
}

/// A campaign the centre cannot run as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("campaign {index} ({name}): {problem}")]
pub struct CampaignError {
    pub index: usize,
    pub name: String,
    pub problem: String,
}

/// A successful redemption: the discount given and who pays for it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Redemption {
    pub discount: Cents,
    pub funded: FundingParts,
}

/// A campaign's figures for the KPIs. Refusals of unknown ids are not counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CampaignCounters {
    /// Coupons issued, which is coupons claimed: a coupon is issued to the member claiming it.
    pub issued: u32,
    pub redeemed: u32,
    pub expired: u32,
    /// Locks given back by their order (checkout or online order cancelled).
    pub released: u32,
    /// Redemptions reversed by their order ([`CouponCentre::cancel`]: an online order
    /// refunded, a till that gave up waiting); `redeemed` counts the ones that stand.
    pub reversed: u32,
    /// Coupons held by an order now.
    pub locked: u32,
    /// Refused calls by reason ([`ClaimRefused::index`] and so on); a retried refused call
    /// counts again.
    pub claim_refused: [u32; ClaimRefused::COUNT],
    pub lock_refused: [u32; LockRefused::COUNT],
    pub redeem_refused: [u32; RedeemRefused::COUNT],
    /// Discount given so far: the budget spent.
    pub budget_used: Cents,
    /// The same, by funder.
    pub funded: FundingParts,
}

impl CampaignCounters {
    /// Claims that issued a coupon (= `issued`).
    pub fn claimed(&self) -> u32 {
        self.issued
    }
}

// ---------------------------------------------------------------------------------------
// The centre.

/// The state of every campaign and serial of a chain. All methods are deterministic
/// functions of the calls made and the times given; times need not be monotone.
#[derive(Clone, Debug)]
pub struct CouponCentre {
    campaigns: Vec<CampaignSpec>,
    /// By serial.
    coupons: Vec<Coupon>,
    /// By campaign.
    counters: Vec<CampaignCounters>,
    /// By campaign: discount given per budget day.
    daily_used: Vec<BTreeMap<u32, Cents>>,
    /// Coupons claimed per campaign and member.
    claims: BTreeMap<(CampaignId, MemberId), u32>,
    /// Each member's serials, in issue order.
    wallets: BTreeMap<MemberId, Vec<Serial>>,
    /// `(valid_to, serial)` of coupons that may still expire, soonest first (entries of
    /// coupons since used or expired are skipped when they come up).
    expiry: BinaryHeap<Reverse<(SimTime, Serial)>>,
}

impl CouponCentre {
    /// A centre running these campaigns (indexed by [`CampaignId`]), nothing issued yet.
    /// Refuses campaigns the rules cannot apply to: funding shares that do not sum to
    /// 10,000, a negative amount, a percentage above 100 %, a parking or pickup coupon not
    /// in the `Service` class, a window or pause that ends before it starts.
    pub fn new(campaigns: &[CampaignSpec]) -> Result<CouponCentre, CampaignError> {
        if campaigns.len() > usize::from(u16::MAX) + 1 {
            return Err(CampaignError {
                index: usize::from(u16::MAX) + 1,
                name: campaigns[usize::from(u16::MAX) + 1].name.clone(),
                problem: "more than 65,536 campaigns".into(),
            });
        }
        for (index, c) in campaigns.iter().enumerate() {
            if let Some(problem) = campaign_problem(c) {
                return Err(CampaignError { index, name: c.name.clone(), problem });
            }
        }
        Ok(CouponCentre {
            campaigns: campaigns.to_vec(),
            coupons: Vec::new(),
            counters: vec![CampaignCounters::default(); campaigns.len()],
            daily_used: vec![BTreeMap::new(); campaigns.len()],
            claims: BTreeMap::new(),
            wallets: BTreeMap::new(),
            expiry: BinaryHeap::new(),
        })
    }

    pub fn campaigns(&self) -> &[CampaignSpec] {
        &self.campaigns
    }

    pub fn campaign(&self, campaign: CampaignId) -> Option<&CampaignSpec> {
        self.campaigns.get(usize::from(campaign.0))
    }

    /// The campaign's batch status at `now` (`None`: no such campaign).
    pub fn status(&self, campaign: CampaignId, now: SimTime) -> Option<BatchStatus> {
        self.campaign(campaign).map(|c| c.status(now))
    }

    pub fn counters(&self, campaign: CampaignId) -> Option<&CampaignCounters> {
        self.counters.get(usize::from(campaign.0))
    }

    /// Every coupon issued so far, by serial.
    pub fn coupons(&self) -> &[Coupon] {
        &self.coupons
    }

    pub fn coupon(&self, serial: Serial) -> Option<&Coupon> {
        self.coupons.get(serial.0 as usize)
    }

    /// What the member's app shows for this serial.
    pub fn held(&self, serial: Serial) -> Option<HeldCoupon> {
        self.coupon(serial).map(|c| HeldCoupon {
            serial,
            campaign: c.campaign,
            valid_from: c.valid_from,
            valid_to: c.valid_to,
        })
    }

    /// The member's coupons free to use (issued, not locked, used or expired), in issue
    /// order; some may not be valid yet, or any more (see [`CouponCentre::expire`]).
    pub fn wallet(&self, member: MemberId) -> impl Iterator<Item = HeldCoupon> + '_ {
        self.wallets
            .get(&member)
            .into_iter()
            .flatten()
            .filter(|s| self.coupons[s.0 as usize].state == SerialState::Issued)
            .filter_map(|&s| self.held(s))
    }

    /// Coupons of the campaign the member has claimed.
    pub fn member_claims(&self, campaign: CampaignId, member: MemberId) -> u32 {
        self.claims.get(&(campaign, member)).copied().unwrap_or(0)
    }

    /// Discount given by the campaign on budget day `day`.
    pub fn daily_used(&self, campaign: CampaignId, day: u32) -> Cents {
        self.daily_used.get(usize::from(campaign.0)).and_then(|d| d.get(&day)).copied().unwrap_or(Cents::ZERO)
    }

    /// Most discount the campaign may still give at `now`: the lesser of its total and
    /// today's budget left. `None`: no budget; an unknown campaign has nothing left.
    pub fn budget_left(&self, campaign: CampaignId, now: SimTime) -> Option<Cents> {
        let c = usize::from(campaign.0);
        let Some(spec) = self.campaigns.get(c) else { return Some(Cents::ZERO) };
        let total = spec.budget_total.map(|b| b - self.counters[c].budget_used);
        let today = spec.budget_daily.map(|b| b - self.daily_used(campaign, day_of(now)));
        match (total, today) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A member claims a coupon of the campaign at `store` (`None`: online). Issues the next
    /// serial, valid per the campaign's validity, or says why not.
    pub fn claim(
        &mut self,
        campaign: CampaignId,
        member: MemberId,
        store: Option<StoreIdx>,
        now: SimTime,
    ) -> Result<Serial, ClaimRefused> {
        let c = usize::from(campaign.0);
        if c >= self.campaigns.len() {
            return Err(ClaimRefused::UnknownCampaign);
        }
        let checked = self.check_claim(campaign, member, store, now);
        let (serial, (valid_from, valid_to)) = match checked {
            Ok(issue) => issue,
            Err(reason) => {
                self.counters[c].claim_refused[reason.index()] += 1;
                return Err(reason);
            }
        };
        self.coupons.push(Coupon {
            campaign,
            member,
            store,
            claimed_at: now,
            valid_from,
            valid_to,
            state: SerialState::Issued,
            redeemed_day: 0,
            released_by: None,
        });
        self.counters[c].issued += 1;
        *self.claims.entry((campaign, member)).or_insert(0) += 1;
        self.wallets.entry(member).or_default().push(serial);
        self.expiry.push(Reverse((valid_to, serial)));
        Ok(serial)
    }

    fn check_claim(
        &self,
        campaign: CampaignId,
        member: MemberId,
        store: Option<StoreIdx>,
        now: SimTime,
    ) -> Result<(Serial, (SimTime, SimTime)), ClaimRefused> {
        let c = usize::from(campaign.0);
        let spec = &self.campaigns[c];
        if spec.status(now) != BatchStatus::Running {
            return Err(ClaimRefused::NotRunning);
        }
        if !spec.runs_in(store) {
            return Err(ClaimRefused::NotInStore);
        }
        let validity = spec.validity_from(now);
        if validity.1 <= now {
            return Err(ClaimRefused::ValidityEnded);
        }
        if self.member_claims(campaign, member) >= spec.per_member_limit {
            return Err(ClaimRefused::MemberLimit);
        }
        if spec.total_limit.is_some_and(|limit| self.counters[c].issued >= limit) {
            return Err(ClaimRefused::TotalLimit);
        }
        let serial = u32::try_from(self.coupons.len()).map_err(|_| ClaimRefused::TotalLimit)?;
        if spec.budget_total.is_some_and(|b| self.counters[c].budget_used >= b) {
            return Err(ClaimRefused::BudgetExhausted);
        }
        if spec.budget_daily.is_some_and(|b| self.daily_used(campaign, day_of(now)) >= b) {
            return Err(ClaimRefused::DailyBudgetExhausted);
        }
        Ok((Serial(serial), validity))
    }

    /// Order `txn` of `member` at `store` (`None`: no store) takes the coupon, if it is
    /// the member's, its campaign runs at `store`, and it is valid at `now` and free. `Ok` again if `txn` already holds or redeemed
    /// it. A coupon found past its validity expires here.
    pub fn lock(
        &mut self,
        serial: Serial,
        txn: TxnId,
        member: MemberId,
        store: Option<StoreIdx>,
        now: SimTime,
    ) -> Result<(), LockRefused> {
        let Some(coupon) = self.coupons.get_mut(serial.0 as usize) else { return Err(LockRefused::UnknownSerial) };
        let c = usize::from(coupon.campaign.0);
        let counters = &mut self.counters[c];
        let result = if coupon.member != member {
            Err(LockRefused::NotHolder)
        } else if !self.campaigns[c].runs_in(store) {
            Err(LockRefused::NotInStore)
        } else {
            match coupon.state {
                SerialState::Locked { txn: holder } | SerialState::Used { txn: holder, .. } if holder == txn => Ok(()),
                SerialState::Locked { .. } => Err(LockRefused::LockedByOther),
                SerialState::Used { .. } => Err(LockRefused::AlreadyUsed),
                SerialState::Expired => Err(LockRefused::Expired),
                SerialState::Issued => {
                    if coupon.released_by == Some(txn) {
                        Err(LockRefused::TxnReleased)
                    } else if now < coupon.valid_from {
                        Err(LockRefused::NotYetValid)
                    } else if now >= coupon.valid_to {
                        coupon.state = SerialState::Expired;
                        counters.expired += 1;
                        Err(LockRefused::Expired)
                    } else {
                        coupon.state = SerialState::Locked { txn };
                        counters.locked += 1;
                        Ok(())
                    }
                }
            }
        };
        if let Err(reason) = result {
            counters.lock_refused[reason.index()] += 1;
        }
        result
    }

    /// Order `txn`, holding the coupon's lock, redeems it for `discount` at `now`: charges
    /// the budgets (total, and day [`day_of`]`(now)`) and the funders, and the coupon is
    /// used. A repeated redeem by the same txn returns the first one's redemption and
    /// charges nothing (whatever discount it names). Refused, changing nothing, if the
    /// discount would overspend a budget or exceeds what the coupon gives.
    pub fn redeem(
        &mut self,
        serial: Serial,
        txn: TxnId,
        discount: Cents,
        now: SimTime,
    ) -> Result<Redemption, RedeemRefused> {
        let Some(coupon) = self.coupons.get_mut(serial.0 as usize) else { return Err(RedeemRefused::UnknownSerial) };
        let campaign = coupon.campaign;
        let c = usize::from(campaign.0);
        let spec = &self.campaigns[c];
        let counters = &mut self.counters[c];
        let day = day_of(now);
        let result = match coupon.state {
            SerialState::Used { txn: winner, discount } if winner == txn => {
                Ok(Redemption { discount, funded: funding_parts(spec, discount) })
            }
            SerialState::Used { .. } => Err(RedeemRefused::AlreadyUsed),
            SerialState::Locked { txn: holder } if holder != txn => Err(RedeemRefused::LockedByOther),
            SerialState::Issued => Err(RedeemRefused::NotLocked),
            SerialState::Expired => Err(RedeemRefused::Expired),
            SerialState::Locked { .. } => {
                let today = self.daily_used[c].get(&day).copied().unwrap_or(Cents::ZERO);
                if discount < Cents::ZERO {
                    Err(RedeemRefused::NegativeDiscount)
                } else if spec.kind.max_discount().is_some_and(|most| discount > most) {
                    Err(RedeemRefused::AboveFaceValue)
                } else if spec.budget_total.is_some_and(|b| counters.budget_used + discount > b) {
                    Err(RedeemRefused::BudgetExhausted)
                } else if spec.budget_daily.is_some_and(|b| today + discount > b) {
                    Err(RedeemRefused::DailyBudgetExhausted)
                } else {
                    let funded = funding_parts(spec, discount);
                    coupon.state = SerialState::Used { txn, discount };
                    coupon.redeemed_day = day;
                    counters.locked -= 1;
                    counters.redeemed += 1;
                    counters.budget_used += discount;
                    add_parts(&mut counters.funded, funded);
                    *self.daily_used[c].entry(day).or_insert(Cents::ZERO) += discount;
                    Ok(Redemption { discount, funded })
                }
            }
        };
        if let Err(reason) = result {
            counters.redeem_refused[reason.index()] += 1;
        }
        result
    }

    /// Order `txn` gives the coupon back (cancelled): it is free again, or expired if its
    /// validity ended by `now`. `Ok` too if `txn` does not hold it (a repeated release);
    /// either way the serial refuses `txn`'s later locks. Refused only if `txn` redeemed it.
    pub fn release(&mut self, serial: Serial, txn: TxnId, now: SimTime) -> Result<(), ReleaseRefused> {
        let Some(coupon) = self.coupons.get_mut(serial.0 as usize) else { return Err(ReleaseRefused::UnknownSerial) };
        let counters = &mut self.counters[usize::from(coupon.campaign.0)];
        match coupon.state {
            SerialState::Used { txn: winner, .. } if winner == txn => return Err(ReleaseRefused::AlreadyUsed),
            SerialState::Locked { txn: holder } if holder == txn => {
                counters.locked -= 1;
                counters.released += 1;
                if now >= coupon.valid_to {
                    coupon.state = SerialState::Expired;
                    counters.expired += 1;
                } else {
                    coupon.state = SerialState::Issued;
                    // Its expiry entry may have been dropped while it was locked.
                    self.expiry.push(Reverse((coupon.valid_to, serial)));
                }
            }
            _ => {}
        }
        coupon.released_by = Some(txn);
        Ok(())
    }

    /// Order `txn` is cancelled: whatever it holds of the coupon comes back. A lock is
    /// released (as [`release`](Self::release)); a redemption by `txn` is reversed: the
    /// discount goes back to the total budget and to the day it was charged to, the
    /// funders' parts with it, and the serial is free again, or expired if its validity
    /// ended by `now`. Anything else changes nothing but the serial's memory of `txn`, whose
    /// later locks are refused (so a cancel overtaking its own lock or redeem wins). A
    /// repeated cancel finds nothing to give back. Returns what was given back.
    pub fn cancel(&mut self, serial: Serial, txn: TxnId, now: SimTime) -> Result<Cancelled, ReleaseRefused> {
        let Some(coupon) = self.coupons.get(serial.0 as usize) else { return Err(ReleaseRefused::UnknownSerial) };
        match coupon.state {
            SerialState::Locked { txn: holder } if holder == txn => {
                self.release(serial, txn, now)?;
                Ok(Cancelled::Released)
            }
            SerialState::Used { txn: winner, discount } if winner == txn => {
                let c = usize::from(coupon.campaign.0);
                let funded = funding_parts(&self.campaigns[c], discount);
                let day = coupon.redeemed_day;
                let coupon = &mut self.coupons[serial.0 as usize];
                let counters = &mut self.counters[c];
                counters.redeemed -= 1;
                counters.reversed += 1;
                counters.budget_used -= discount;
                counters.funded.hq -= funded.hq;
                counters.funded.franchisee -= funded.franchisee;
                counters.funded.brand -= funded.brand;
                *self.daily_used[c].get_mut(&day).expect("a redemption charged its day") -= discount;
                if now >= coupon.valid_to {
                    coupon.state = SerialState::Expired;
                    counters.expired += 1;
                } else {
                    coupon.state = SerialState::Issued;
                    self.expiry.push(Reverse((coupon.valid_to, serial)));
                }
                coupon.released_by = Some(txn);
                Ok(Cancelled::Reversed(Redemption { discount, funded }))
            }
            _ => {
                self.coupons[serial.0 as usize].released_by = Some(txn);
                Ok(Cancelled::Nothing)
            }
        }
    }

    /// Checkout at the centre itself (an online order, which needs no message to reach the
    /// coupons): the best allowed combination of the member's free coupons for this basket
    /// ([`best_combination`] with the centre's campaigns), each locked and redeemed for
    /// `txn` at once. A coupon the centre refuses (a budget spent meanwhile) is released and
    /// left out; the others keep the discounts the combination gave them (dropping one
    /// never raises the total above the basket). Returns the coupons redeemed.
    pub fn redeem_best(
        &mut self,
        member: MemberId,
        txn: TxnId,
        lines: &[BasketLine],
        checkout: &Checkout,
    ) -> Vec<AppliedCoupon> {
        let held: Vec<HeldCoupon> = self.wallet(member).collect();
        if held.is_empty() {
            return Vec::new();
        }
        let applied = best_combination(lines, &held, &self.campaigns, checkout);
        let mut granted = Vec::with_capacity(applied.coupons.len());
        for c in applied.coupons {
            let ok = self.lock(c.serial, txn, member, checkout.store, checkout.now).is_ok()
                && self.redeem(c.serial, txn, c.discount, checkout.now).is_ok();
            if ok {
                granted.push(c);
            } else {
                let _ = self.release(c.serial, txn, checkout.now);
            }
        }
        granted
    }

    /// Expires every free coupon whose validity ended by `now`; returns how many. Locked
    /// coupons do not expire (their order took them in time); used ones never do.
    pub fn expire(&mut self, now: SimTime) -> u32 {
        let mut expired = 0;
        while let Some(&Reverse((valid_to, serial))) = self.expiry.peek() {
            if valid_to > now {
                break;
            }
            self.expiry.pop();
            let coupon = &mut self.coupons[serial.0 as usize];
            if coupon.state == SerialState::Issued {
                coupon.state = SerialState::Expired;
                self.counters[usize::from(coupon.campaign.0)].expired += 1;
                expired += 1;
            }
        }
        expired
    }

    /// The centre's invariants, checked from the serials: per campaign, the counters match
    /// the serials' states; the budget used is the sum of the discounts given, within the
    /// total budget and each day's; the funders' parts sum to it; no member claimed more
    /// than the limit, nor were more issued than the total limit. `Err` names the one broken.
    pub fn check_invariants(&self) -> Result<(), (&'static str, String)> {
        let n = self.campaigns.len();
        let mut states = vec![[0u32; 4]; n];
        let mut given = vec![Cents::ZERO; n];
        for (s, coupon) in self.coupons.iter().enumerate() {
            let c = usize::from(coupon.campaign.0);
            let k = match coupon.state {
                SerialState::Issued => 0,
                SerialState::Locked { .. } => 1,
                SerialState::Used { discount, .. } => {
                    given[c] += discount;
                    2
                }
                SerialState::Expired => 3,
            };
            states[c][k] += 1;
            if coupon.valid_to <= coupon.claimed_at && coupon.state != SerialState::Expired {
                return Err(("coupon validity", format!("serial {s} was issued already expired")));
            }
        }
        for (c, spec) in self.campaigns.iter().enumerate() {
            let k = &self.counters[c];
            let [_, locked, used, expired] = states[c];
            let issued: u32 = states[c].iter().sum();
            if (issued, locked, used, expired) != (k.issued, k.locked, k.redeemed, k.expired) {
                return Err((
                    "coupon conservation",
                    format!(
                        "campaign {c}: serials issued/locked/used/expired {issued}/{locked}/{used}/{expired}, \
                         counted {}/{}/{}/{}",
                        k.issued, k.locked, k.redeemed, k.expired
                    ),
                ));
            }
            if given[c] != k.budget_used || parts_total(&k.funded) != k.budget_used {
                return Err((
                    "coupon money",
                    format!(
                        "campaign {c}: discounts given {}, budget used {}, funded {}",
                        given[c],
                        k.budget_used,
                        parts_total(&k.funded)
                    ),
                ));
            }
            let days: Cents = self.daily_used[c].values().copied().fold(Cents::ZERO, |a, b| a + b);
            if days != k.budget_used {
                return Err((
                    "coupon money",
                    format!("campaign {c}: days sum to {days}, budget used {}", k.budget_used),
                ));
            }
            if let Some(b) = spec.budget_total.filter(|&b| k.budget_used > b) {
                return Err(("coupon budget", format!("campaign {c}: used {} of a budget of {b}", k.budget_used)));
            }
            if let Some((day, used)) =
                spec.budget_daily.and_then(|b| self.daily_used[c].iter().find(|(_, used)| **used > b))
            {
                return Err(("coupon budget", format!("campaign {c}: used {used} on day {day}")));
            }
            if spec.total_limit.is_some_and(|limit| k.issued > limit) {
                return Err(("coupon limit", format!("campaign {c}: {} issued", k.issued)));
            }
        }
        if let Some(((c, m), claims)) =
            self.claims.iter().find(|((c, _), claims)| **claims > self.campaigns[usize::from(c.0)].per_member_limit)
        {
            return Err(("coupon limit", format!("member {} claimed {claims} of campaign {}", m.0, c.0)));
        }
        Ok(())
    }
}

/// Why the centre cannot run the campaign, if it cannot.
fn campaign_problem(c: &CampaignSpec) -> Option<String> {
    if !funding_is_whole(c.funding) {
        let f = c.funding;
        let sum = u64::from(f.hq_bps) + u64::from(f.franchisee_bps) + u64::from(f.brand_bps);
        return Some(format!("funding shares sum to {sum} basis points, not 10,000"));
    }
    let amounts = match c.kind {
        CouponKind::Cash { off } | CouponKind::Parking { off } | CouponKind::Pickup { off } => [off, Cents::ZERO],
        CouponKind::Threshold { spend, off } => [spend, off],
        CouponKind::Percent { max_off, .. } => [max_off.unwrap_or(Cents::ZERO), Cents::ZERO],
    };
    if amounts.iter().any(|a| *a < Cents::ZERO) {
        return Some("a coupon amount is negative".into());
    }
    if let CouponKind::Percent { bps, .. } = c.kind
        && bps > 10_000
    {
        return Some(format!("{bps} basis points is more than 100 %"));
    }
    if matches!(c.kind, CouponKind::Parking { .. } | CouponKind::Pickup { .. }) && c.class != StackClass::Service {
        return Some("parking and pickup coupons are in the service class".into());
    }
    if let Validity::Window { from, to } = c.validity
        && to < from
    {
        return Some("the validity window ends before it starts".into());
    }
    if c.pauses.iter().any(|&(from, to)| to < from) {
        return Some("a pause ends before it starts".into());
    }
    for budget in [c.budget_total, c.budget_daily].into_iter().flatten() {
        if budget < Cents::ZERO {
            return Some("a budget is negative".into());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Checkout: the best combination.

/// One line of a basket: `qty` units of a SKU at `unit_price`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BasketLine {
    pub sku: SkuId,
    pub category: CategoryId,
    pub unit_price: Cents,
    pub qty: u32,
}

impl BasketLine {
    /// `unit_price × qty`; a negative price counts as zero.
    pub fn amount(&self) -> Cents {
        Cents(self.unit_price.0.saturating_mul(i64::from(self.qty)).max(0))
    }
}

/// How the goods are bought: parking coupons apply in store, pickup coupons to pickup
/// orders only.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SaleChannel {
    /// At a till or self-checkout, on a visit to the store.
    InStore,
    /// An online order, fulfilled so.
    Online(Fulfilment),
}

/// Where and when a basket is paid for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Checkout {
    /// The store selling (for an online order, the store fulfilling it); `None`: none.
    pub store: Option<StoreIdx>,
    pub channel: SaleChannel,
    pub now: SimTime,
}

/// One coupon of a combination and the discount it gives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AppliedCoupon {
    pub serial: Serial,
    pub campaign: CampaignId,
    pub discount: Cents,
}

/// A combination of coupons applied to a basket.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Applied {
    /// In evaluation order.
    pub coupons: Vec<AppliedCoupon>,
    /// The basket's amount before coupons.
    pub subtotal: Cents,
    /// The coupons' discounts summed.
    pub discount: Cents,
    /// `subtotal - discount`, never negative.
    pub to_pay: Cents,
    /// What is left to pay on each line of the basket, in its order (never negative; sums
    /// to `to_pay`): how the discounts fall on the lines, for receipts and sales by SKU.
    pub left: Vec<Cents>,
}

/// Why a set of coupons cannot be applied together.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum NotCombinable {
    #[error("coupon {0:?} cannot be used in this checkout")]
    Unusable(Serial),
    #[error("two coupons of campaign {0:?}")]
    SameCampaign(CampaignId),
    #[error("coupons {0:?} and {1:?} do not combine")]
    Classes(Serial, Serial),
}

/// Most coupons [`best_combination`] searches over (distinct campaigns, after dropping
/// unusable coupons): `2^12` combinations at most.
pub const MAX_SEARCHED: usize = 12;

/// Whether a held coupon can be used in this checkout at all: its campaign exists and
/// runs at the checkout's store, it is valid at `now`, and a parking coupon is used in
/// store, a pickup coupon on a pickup order. (Whether the centre still has it free is the
/// centre's to say, at lock.)
pub fn usable(coupon: &HeldCoupon, campaigns: &[CampaignSpec], checkout: &Checkout) -> bool {
    let Some(spec) = campaigns.get(usize::from(coupon.campaign.0)) else { return false };
    let channel = match spec.kind {
        CouponKind::Parking { .. } => checkout.channel == SaleChannel::InStore,
        CouponKind::Pickup { .. } => checkout.channel == SaleChannel::Online(Fulfilment::Pickup),
        _ => true,
    };
    channel && spec.runs_in(checkout.store) && coupon.valid_from <= checkout.now && checkout.now < coupon.valid_to
}

/// Whether coupons of two different campaigns may be applied together: each one's class
/// is in the other's `combines_with` (two of one campaign never are: callers check that).
pub fn combine(a: &CampaignSpec, b: &CampaignSpec) -> bool {
    a.combines_with.contains(&b.class) && b.combines_with.contains(&a.class)
}

fn in_scope(scope: CouponScope, line: &BasketLine) -> bool {
    match scope {
        CouponScope::All => true,
        CouponScope::Category(c) => line.category == c,
        CouponScope::Sku(s) => line.sku == s,
    }
}

/// The coupon's discount on the amounts left per line (`left`), written to `after`:
/// `after` is `left` minus the discount spread over the lines in scope in proportion to
/// what is left on each (each line's floor share, then the cents over, one each, to the
/// lines with a fractional share in basket order; no line goes below zero).
fn apply_one(spec: &CampaignSpec, lines: &[BasketLine], left: &[i64], after: &mut [i64]) -> i64 {
    after.copy_from_slice(left);
    let eligible: i64 = lines.iter().zip(left).filter(|(l, _)| in_scope(spec.scope, l)).map(|(_, a)| *a).sum();
    let d = spec.kind.discount(Cents(eligible)).0;
    if d == 0 {
        return 0;
    }
    let (d128, e128) = (i128::from(d), i128::from(eligible));
    let mut over = d;
    for ((line, &a), out) in lines.iter().zip(left).zip(after.iter_mut()) {
        if in_scope(spec.scope, line) {
            let share = i64::try_from(d128 * i128::from(a) / e128).expect("at most the line's amount");
            *out -= share;
            over -= share;
        }
    }
    for ((line, &a), out) in lines.iter().zip(left).zip(after.iter_mut()) {
        if over == 0 {
            break;
        }
        if in_scope(spec.scope, line) && d128 * i128::from(a) % e128 != 0 {
            *out -= 1;
            over -= 1;
        }
    }
    debug_assert_eq!(over, 0, "the cents over fit in the lines with a fractional share");
    debug_assert!(after.iter().all(|a| *a >= 0), "no line below zero");
    d
}

fn eval_key(campaigns: &[CampaignSpec], c: CampaignId) -> (u32, u16) {
    (campaigns[usize::from(c.0)].order, c.0)
}

/// Applies exactly these coupons to the basket, in evaluation order (`order`, then campaign
/// index; the order given does not matter), each to what the earlier ones left. Refused if
/// one is not [`usable`], two are of one campaign, or two do not [`combine`]. A coupon that
/// gives nothing is listed with a zero discount.
pub fn apply_in_order(
    lines: &[BasketLine],
    coupons: &[HeldCoupon],
    campaigns: &[CampaignSpec],
    checkout: &Checkout,
) -> Result<Applied, NotCombinable> {
    for (i, a) in coupons.iter().enumerate() {
        if !usable(a, campaigns, checkout) {
            return Err(NotCombinable::Unusable(a.serial));
        }
        for b in &coupons[..i] {
            if a.campaign == b.campaign {
                return Err(NotCombinable::SameCampaign(a.campaign));
            }
            if !combine(&campaigns[usize::from(a.campaign.0)], &campaigns[usize::from(b.campaign.0)]) {
                return Err(NotCombinable::Classes(b.serial, a.serial));
            }
        }
    }
    let mut sorted = coupons.to_vec();
    sorted.sort_by_key(|h| eval_key(campaigns, h.campaign));
    let mut left: Vec<i64> = lines.iter().map(|l| l.amount().0).collect();
    let mut after = left.clone();
    let mut applied = Vec::with_capacity(sorted.len());
    for h in &sorted {
        let d = apply_one(&campaigns[usize::from(h.campaign.0)], lines, &left, &mut after);
        std::mem::swap(&mut left, &mut after);
        applied.push(AppliedCoupon { serial: h.serial, campaign: h.campaign, discount: Cents(d) });
    }
    Ok(finish(lines, applied, &left))
}

fn finish(lines: &[BasketLine], coupons: Vec<AppliedCoupon>, left: &[i64]) -> Applied {
    let subtotal = lines.iter().map(|l| l.amount()).fold(Cents::ZERO, |a, b| a + b);
    let discount = coupons.iter().map(|c| c.discount).fold(Cents::ZERO, |a, b| a + b);
    let to_pay = subtotal - discount;
    debug_assert_eq!(to_pay.0, left.iter().sum::<i64>(), "the lines' amounts left sum to the amount to pay");
    Applied { coupons, subtotal, discount, to_pay, left: left.iter().map(|&a| Cents(a)).collect() }
}

/// The allowed combination of the held coupons with the largest total discount, for
/// checkout. Unusable coupons are dropped; of several of one campaign, the one that
/// expires first (then the lowest serial) is the candidate. Every subset of the candidates
/// whose coupons pairwise [`combine`] is evaluated as [`apply_in_order`] would. Ties go to
/// the combination with fewer coupons (so a coupon that gives nothing is never chosen),
/// then to the one whose coupons come first in evaluation order, compared coupon by
/// coupon. With more than [`MAX_SEARCHED`] candidates, the ones giving the most on their
/// own (ties: evaluation order) are searched.
///
/// A depth-first search in evaluation order, so combinations sharing a prefix share its
/// work; one scratch buffer of amounts per level.
pub fn best_combination(
    lines: &[BasketLine],
    held: &[HeldCoupon],
    campaigns: &[CampaignSpec],
    checkout: &Checkout,
) -> Applied {
    let mut cands: Vec<HeldCoupon> = Vec::with_capacity(held.len());
    for h in held.iter().filter(|h| usable(h, campaigns, checkout)) {
        match cands.iter_mut().find(|c| c.campaign == h.campaign) {
            Some(c) => {
                if (h.valid_to, h.serial) < (c.valid_to, c.serial) {
                    *c = *h;
                }
            }
            None => cands.push(*h),
        }
    }
    cands.sort_by_key(|h| eval_key(campaigns, h.campaign));
    let full: Vec<i64> = lines.iter().map(|l| l.amount().0).collect();
    if cands.len() > MAX_SEARCHED {
        let mut scratch = full.clone();
        let mut alone: Vec<(Reverse<i64>, usize)> = cands
            .iter()
            .enumerate()
            .map(|(i, h)| (Reverse(apply_one(&campaigns[usize::from(h.campaign.0)], lines, &full, &mut scratch)), i))
            .collect();
        alone.sort_unstable();
        let mut keep: Vec<usize> = alone[..MAX_SEARCHED].iter().map(|&(_, i)| i).collect();
        keep.sort_unstable();
        cands = keep.into_iter().map(|i| cands[i]).collect();
    }
    let specs: Vec<&CampaignSpec> = cands.iter().map(|h| &campaigns[usize::from(h.campaign.0)]).collect();
    let mut compat = [0u16; MAX_SEARCHED];
    for i in 0..specs.len() {
        for j in 0..specs.len() {
            if i != j && combine(specs[i], specs[j]) {
                compat[i] |= 1 << j;
            }
        }
    }
    let width = lines.len();
    let mut stack = vec![0i64; width * (specs.len() + 1)];
    stack[..width].copy_from_slice(&full);
    let mut search = Search {
        best_left: full,
        lines,
        specs: &specs,
        compat,
        width,
        stack,
        discounts: [0; MAX_SEARCHED],
        best_mask: 0,
        best_total: 0,
        best_discounts: [0; MAX_SEARCHED],
    };
    search.visit(0, 0, 0, 0);
    let chosen = (0..specs.len())
        .filter(|i| search.best_mask & (1 << i) != 0)
        .map(|i| AppliedCoupon {
            serial: cands[i].serial,
            campaign: cands[i].campaign,
            discount: Cents(search.best_discounts[i]),
        })
        .collect();
    finish(lines, chosen, &search.best_left)
}

/// The depth-first search of [`best_combination`]: candidates in evaluation order, bit `i`
/// of a mask for candidate `i`.
struct Search<'a> {
    lines: &'a [BasketLine],
    specs: &'a [&'a CampaignSpec],
    /// Bit `j` of `compat[i]`: candidates `i` and `j` combine.
    compat: [u16; MAX_SEARCHED],
    width: usize,
    /// Level `k` (`width` amounts): what is left per line after the `k` coupons included
    /// on the current path.
    stack: Vec<i64>,
    /// The discount of each candidate included on the current path.
    discounts: [i64; MAX_SEARCHED],
    best_mask: u16,
    best_total: i64,
    best_discounts: [i64; MAX_SEARCHED],
    /// What is left per line after the best combination.
    best_left: Vec<i64>,
}

impl Search<'_> {
    fn visit(&mut self, i: usize, level: usize, mask: u16, total: i64) {
        if i == self.specs.len() {
            self.offer(mask, total);
            return;
        }
        if self.compat[i] & mask == mask {
            let (done, rest) = self.stack.split_at_mut((level + 1) * self.width);
            let left = &done[level * self.width..];
            let d = apply_one(self.specs[i], self.lines, left, &mut rest[..self.width]);
            // Taking a coupon that gives nothing changes no amount and only narrows what
            // may join: leaving it out is at least as good, with fewer coupons.
            if d > 0 {
                self.discounts[i] = d;
                self.visit(i + 1, level + 1, mask | 1 << i, total + d);
            }
        }
        self.visit(i + 1, level, mask, total);
    }

    fn offer(&mut self, mask: u16, total: i64) {
        let better = match total.cmp(&self.best_total) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => match mask.count_ones().cmp(&self.best_mask.count_ones()) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                // Same size: the first coupon where they differ decides.
                std::cmp::Ordering::Equal => {
                    let differ = mask ^ self.best_mask;
                    differ != 0 && mask & (differ & differ.wrapping_neg()) != 0
                }
            },
        };
        if better {
            self.best_mask = mask;
            self.best_total = total;
            self.best_discounts = self.discounts;
            let level = mask.count_ones() as usize * self.width;
            self.best_left.copy_from_slice(&self.stack[level..level + self.width]);
        }
    }
}

// Amounts are written as units_cents: `100_00` is 100.00.
#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::chain::spec::{Funding, IssueChannel};
    use crate::chain::txn::TxnSource;

    const ALL_CLASSES: &[StackClass] = &[StackClass::Product, StackClass::Order, StackClass::Service];

    fn campaign(kind: CouponKind, class: StackClass, combines_with: &[StackClass], order: u32) -> CampaignSpec {
        CampaignSpec {
            name: format!("c{order}"),
            kind,
            scope: CouponScope::All,
            issue: IssueChannel::QrPoster,
            claim_share: 1.0,
            validity: Validity::AfterClaim(DAY),
            class,
            combines_with: combines_with.to_vec(),
            order,
            per_member_limit: 1,
            total_limit: None,
            budget_total: None,
            budget_daily: None,
            funding: Funding { hq_bps: 10_000, franchisee_bps: 0, brand_bps: 0 },
            activate_at: SimTime::ZERO,
            pauses: Vec::new(),
            stop_at: None,
            stores: None,
        }
    }

    fn line(sku: u32, category: u16, unit_price: i64, qty: u32) -> BasketLine {
        BasketLine { sku: SkuId(sku), category: CategoryId(category), unit_price: Cents(unit_price), qty }
    }

    fn held(serial: u32, campaign: u16) -> HeldCoupon {
        HeldCoupon {
            serial: Serial(serial),
            campaign: CampaignId(campaign),
            valid_from: SimTime::ZERO,
            valid_to: SimTime::from_secs(3600),
        }
    }

    fn in_store() -> Checkout {
        Checkout { store: Some(StoreIdx(0)), channel: SaleChannel::InStore, now: SimTime::from_secs(60) }
    }

    fn discounts(a: &Applied) -> Vec<(u32, i64)> {
        a.coupons.iter().map(|c| (c.serial.0, c.discount.0)).collect()
    }

    fn secs(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    /// Till transaction `seq` of store 0.
    fn txn(seq: u64) -> TxnId {
        TxnId::new(TxnSource(0), seq)
    }

    /// Spend 100 save 20 (an order coupon) and 10 % off (a product coupon) on a basket of
    /// 100.00, each allowing the other's class. Threshold first: 20 off leaves 80, and
    /// 10 % of that is 8: 28 off. Percent first: 10 off leaves 90, below the threshold's
    /// 100, so together they give only 10, and the threshold alone (20) is best.
    #[test]
    fn spend_100_save_20_with_10_percent_in_both_orders() {
        let threshold = CouponKind::Threshold { spend: Cents(100_00), off: Cents(20_00) };
        let percent = CouponKind::Percent { bps: 1000, max_off: None };
        let basket = [line(0, 0, 60_00, 1), line(1, 1, 20_00, 2)];
        let coupons = [held(0, 0), held(1, 1)];

        let threshold_first = [
            campaign(threshold, StackClass::Order, &[StackClass::Product], 0),
            campaign(percent, StackClass::Product, &[StackClass::Order], 1),
        ];
        let best = best_combination(&basket, &coupons, &threshold_first, &in_store());
        assert_eq!(discounts(&best), [(0, 20_00), (1, 8_00)]);
        assert_eq!((best.subtotal, best.discount, best.to_pay), (Cents(100_00), Cents(28_00), Cents(72_00)));
        // The lines carry the discounts in proportion: 60/100 and 40/100 of each.
        assert_eq!(best.left, [Cents(43_20), Cents(28_80)]);

        let percent_first = [
            campaign(threshold, StackClass::Order, &[StackClass::Product], 1),
            campaign(percent, StackClass::Product, &[StackClass::Order], 0),
        ];
        let both = apply_in_order(&basket, &coupons, &percent_first, &in_store()).unwrap();
        assert_eq!(discounts(&both), [(1, 10_00), (0, 0)]);
        let best = best_combination(&basket, &coupons, &percent_first, &in_store());
        assert_eq!(discounts(&best), [(0, 20_00)]);
        assert_eq!(best.to_pay, Cents(80_00));
    }

    /// Stripe: 200 off a 100 subtotal gives 0, not -100.
    #[test]
    fn a_coupon_never_takes_the_amount_below_zero() {
        let campaigns = [campaign(CouponKind::Cash { off: Cents(200_00) }, StackClass::Order, &[], 0)];
        let best = best_combination(&[line(0, 0, 100_00, 1)], &[held(0, 0)], &campaigns, &in_store());
        assert_eq!((best.discount, best.to_pay), (Cents(100_00), Cents::ZERO));
    }

    /// Two product coupons combine only if both allow product coupons (Shopify).
    #[test]
    fn two_product_coupons_combine_only_if_both_allow_it() {
        let cash = CouponKind::Cash { off: Cents(5_00) };
        let basket = [line(0, 0, 50_00, 1)];
        let coupons = [held(0, 0), held(1, 1)];
        let one_way = [
            campaign(cash, StackClass::Product, &[StackClass::Product], 0),
            campaign(cash, StackClass::Product, &[StackClass::Order], 1),
        ];
        assert_eq!(discounts(&best_combination(&basket, &coupons, &one_way, &in_store())), [(0, 5_00)]);
        assert_eq!(
            apply_in_order(&basket, &coupons, &one_way, &in_store()),
            Err(NotCombinable::Classes(Serial(0), Serial(1)))
        );
        let both_ways = [
            campaign(cash, StackClass::Product, &[StackClass::Product], 0),
            campaign(cash, StackClass::Product, &[StackClass::Product], 1),
        ];
        let best = best_combination(&basket, &coupons, &both_ways, &in_store());
        assert_eq!(discounts(&best), [(0, 5_00), (1, 5_00)]);
    }

    /// 10 % of 9.99 is 0.999, which rounds down to 0.99; a cap of 0.50 holds it there.
    #[test]
    fn percentages_round_down_then_cap() {
        let basket = [line(0, 0, 9_99, 1)];
        for (max_off, off) in [(None, 99), (Some(Cents(50)), 50)] {
            let campaigns = [campaign(CouponKind::Percent { bps: 1000, max_off }, StackClass::Product, &[], 0)];
            let best = best_combination(&basket, &[held(0, 0)], &campaigns, &in_store());
            assert_eq!(best.discount, Cents(off));
        }
    }

    /// Half off category 1 applies to its lines only; a SKU coupon after it sees what the
    /// category coupon left on that SKU.
    #[test]
    fn scopes_take_from_their_own_lines() {
        let mut half = campaign(CouponKind::Percent { bps: 5000, max_off: None }, StackClass::Product, ALL_CLASSES, 0);
        half.scope = CouponScope::Category(CategoryId(1));
        let mut sku = campaign(CouponKind::Cash { off: Cents(10_00) }, StackClass::Order, ALL_CLASSES, 1);
        sku.scope = CouponScope::Sku(SkuId(2));
        let basket = [line(0, 0, 30_00, 1), line(1, 1, 10_00, 2), line(2, 1, 6_00, 1)];
        let best = best_combination(&basket, &[held(0, 0), held(1, 1)], &[half, sku], &in_store());
        // Category 1 is 26.00: 13.00 off, spread 10.00 : 3.00. SKU 2 has 3.00 left: 3.00 off.
        assert_eq!(discounts(&best), [(0, 13_00), (1, 3_00)]);
        assert_eq!(best.left, [Cents(30_00), Cents(10_00), Cents::ZERO]);
    }

    /// Parking coupons apply in store only; pickup coupons to pickup orders only.
    #[test]
    fn parking_in_store_and_pickup_on_pickup_orders() {
        let campaigns = [
            campaign(CouponKind::Parking { off: Cents(3_00) }, StackClass::Service, ALL_CLASSES, 0),
            campaign(CouponKind::Pickup { off: Cents(2_00) }, StackClass::Service, ALL_CLASSES, 1),
        ];
        let basket = [line(0, 0, 20_00, 1)];
        let coupons = [held(0, 0), held(1, 1)];
        let cases = [
            (SaleChannel::InStore, vec![(0, 3_00)]),
            (SaleChannel::Online(Fulfilment::Pickup), vec![(1, 2_00)]),
            (SaleChannel::Online(Fulfilment::SameCity), vec![]),
        ];
        for (channel, expected) in cases {
            let checkout = Checkout { channel, ..in_store() };
            assert_eq!(discounts(&best_combination(&basket, &coupons, &campaigns, &checkout)), expected);
        }
    }

    /// Of two coupons of one campaign, the one expiring first is used; an equal total goes
    /// to fewer coupons.
    #[test]
    fn one_coupon_per_campaign_and_ties_to_fewer_coupons() {
        let cash = CouponKind::Cash { off: Cents(5_00) };
        let campaigns = [
            campaign(cash, StackClass::Order, ALL_CLASSES, 0),
            campaign(CouponKind::Cash { off: Cents(9_00) }, StackClass::Order, ALL_CLASSES, 1),
        ];
        let basket = [line(0, 0, 9_00, 1)];
        let later = HeldCoupon { valid_to: secs(7200), ..held(0, 0) };
        let sooner = held(1, 0);
        let best = best_combination(&basket, &[later, sooner], &campaigns[..1], &in_store());
        assert_eq!(discounts(&best), [(1, 5_00)]);
        // 9.00 alone or 5.00 + 4.00: the single coupon.
        let best = best_combination(&basket, &[later, held(2, 1)], &campaigns, &in_store());
        assert_eq!(discounts(&best), [(2, 9_00)]);
    }

    /// Active from 10 s, paused 20–30 s, stopped at 40 s: it issues only while running.
    #[test]
    fn the_batch_issues_only_while_running() {
        let mut spec = campaign(CouponKind::Cash { off: Cents(1_00) }, StackClass::Order, &[], 0);
        spec.activate_at = secs(10);
        spec.pauses = vec![(secs(20), secs(30))];
        spec.stop_at = Some(secs(40));
        spec.per_member_limit = 10;
        let expected = [
            (0, BatchStatus::Unactivated, Some(10)),
            (10, BatchStatus::Running, Some(20)),
            (25, BatchStatus::Paused, Some(30)),
            (30, BatchStatus::Running, Some(40)),
            (45, BatchStatus::Stopped, None),
        ];
        let mut centre = CouponCentre::new(std::slice::from_ref(&spec)).unwrap();
        for (t, status, next) in expected {
            assert_eq!(spec.status(secs(t)), status);
            assert_eq!(spec.next_transition(secs(t)), next.map(secs));
            let claimed = centre.claim(CampaignId(0), MemberId(1), None, secs(t));
            assert_eq!(claimed.is_ok(), status == BatchStatus::Running, "at {t} s");
        }
        let k = centre.counters(CampaignId(0)).unwrap();
        assert_eq!((k.issued, k.claim_refused[ClaimRefused::NotRunning.index()]), (2, 3));
        // Coupons issued before the stop stay usable after it.
        assert_eq!(centre.lock(Serial(0), txn(1), MemberId(1), None, secs(50)), Ok(()));
    }

    /// One winner per serial; retries answer as the first time and charge the budget once.
    #[test]
    fn redemption_is_idempotent_with_one_winner() {
        let mut spec = campaign(CouponKind::Cash { off: Cents(5_00) }, StackClass::Order, &[], 0);
        spec.budget_total = Some(Cents(100_00));
        spec.funding = Funding { hq_bps: 5000, franchisee_bps: 3000, brand_bps: 2000 };
        let mut centre = CouponCentre::new(&[spec]).unwrap();
        let (m, t1, t2) = (MemberId(7), txn(1), txn(2));
        let s = centre.claim(CampaignId(0), m, Some(StoreIdx(0)), secs(0)).unwrap();
        assert_eq!(centre.claim(CampaignId(0), m, None, secs(1)), Err(ClaimRefused::MemberLimit));
        assert_eq!(centre.lock(s, t1, MemberId(8), None, secs(2)), Err(LockRefused::NotHolder));
        assert_eq!(centre.lock(s, t1, m, None, secs(2)), Ok(()));
        assert_eq!(centre.lock(s, t1, m, None, secs(2)), Ok(()));
        assert_eq!(centre.lock(s, t2, m, None, secs(2)), Err(LockRefused::LockedByOther));
        assert_eq!(centre.redeem(s, t2, Cents(5_00), secs(3)), Err(RedeemRefused::LockedByOther));
        let first = centre.redeem(s, t1, Cents(4_00), secs(3)).unwrap();
        assert_eq!(first.funded, FundingParts { hq: Cents(2_00), franchisee: Cents(1_20), brand: Cents(80) });
        assert_eq!(centre.redeem(s, t1, Cents(5_00), secs(4)), Ok(first));
        assert_eq!(centre.redeem(s, t2, Cents(5_00), secs(4)), Err(RedeemRefused::AlreadyUsed));
        assert_eq!(centre.release(s, t1, secs(5)), Err(ReleaseRefused::AlreadyUsed));
        assert_eq!(centre.release(s, t2, secs(5)), Ok(()));
        let k = centre.counters(CampaignId(0)).unwrap();
        assert_eq!((k.redeemed, k.budget_used, parts_total(&k.funded)), (1, Cents(4_00), Cents(4_00)));
        centre.check_invariants().unwrap();
    }

    /// A budget of 5.00 and two 3.00 coupons: the second redemption is refused and keeps
    /// its lock, and may redeem what is left. The daily budget starts again the next day.
    #[test]
    fn budgets_refuse_what_would_overspend() {
        let mut spec = campaign(CouponKind::Cash { off: Cents(3_00) }, StackClass::Order, &[], 0);
        spec.per_member_limit = 3;
        spec.budget_total = Some(Cents(8_00));
        spec.budget_daily = Some(Cents(5_00));
        spec.validity = Validity::AfterClaim(SimDuration::from_secs(3 * 86_400));
        let mut centre = CouponCentre::new(&[spec]).unwrap();
        let m = MemberId(1);
        let serials: Vec<Serial> = (0..3).map(|_| centre.claim(CampaignId(0), m, None, secs(0)).unwrap()).collect();
        for (i, s) in serials.iter().enumerate() {
            centre.lock(*s, txn(i as u64), m, None, secs(1)).unwrap();
        }
        assert!(centre.redeem(serials[0], txn(0), Cents(3_00), secs(2)).is_ok());
        assert_eq!(centre.redeem(serials[1], txn(1), Cents(3_00), secs(2)), Err(RedeemRefused::DailyBudgetExhausted));
        assert_eq!(centre.budget_left(CampaignId(0), secs(2)), Some(Cents(2_00)));
        assert!(centre.redeem(serials[1], txn(1), Cents(2_00), secs(2)).is_ok());
        // Today's budget is spent: no more issuing today.
        assert_eq!(centre.claim(CampaignId(0), MemberId(2), None, secs(3)), Err(ClaimRefused::DailyBudgetExhausted));
        let tomorrow = secs(86_400 + 1);
        assert_eq!(centre.budget_left(CampaignId(0), tomorrow), Some(Cents(3_00)));
        assert_eq!(centre.redeem(serials[2], txn(2), Cents(3_00), tomorrow).map(|r| r.discount), Ok(Cents(3_00)));
        assert_eq!(centre.claim(CampaignId(0), MemberId(2), None, tomorrow), Err(ClaimRefused::BudgetExhausted));
        assert_eq!(centre.daily_used(CampaignId(0), 0), Cents(5_00));
        centre.check_invariants().unwrap();
    }

    /// Coupons valid an hour after their claim: the sweep expires the free ones; a locked
    /// one waits for its order, and expires when released late.
    #[test]
    fn coupons_expire_unless_an_order_holds_them() {
        let mut spec = campaign(CouponKind::Cash { off: Cents(1_00) }, StackClass::Order, &[], 0);
        spec.validity = Validity::AfterClaim(SimDuration::from_secs(3600));
        spec.per_member_limit = 3;
        let mut centre = CouponCentre::new(&[spec]).unwrap();
        let m = MemberId(3);
        let [a, b, c] = [0, 60, 120].map(|t| centre.claim(CampaignId(0), m, None, secs(t)).unwrap());
        centre.lock(b, txn(9), m, None, secs(3000)).unwrap();
        assert_eq!(centre.expire(secs(3660)), 1);
        assert_eq!(centre.lock(c, txn(10), m, None, secs(3720)), Err(LockRefused::Expired));
        assert_eq!(centre.coupon(a).unwrap().state, SerialState::Expired);
        centre.release(b, txn(9), secs(4000)).unwrap();
        let k = centre.counters(CampaignId(0)).unwrap();
        assert_eq!((k.expired, k.released, k.locked), (3, 1, 0));
        assert_eq!(centre.expire(secs(10_000)), 0);
        assert_eq!(centre.wallet(m).count(), 0);
        centre.check_invariants().unwrap();
    }

    /// A release that overtakes its own lock on the way to the centre leaves the coupon
    /// free: the late lock is refused.
    #[test]
    fn a_lock_overtaken_by_its_release_is_refused() {
        let spec = campaign(CouponKind::Cash { off: Cents(1_00) }, StackClass::Order, &[], 0);
        let mut centre = CouponCentre::new(&[spec]).unwrap();
        let m = MemberId(3);
        let s = centre.claim(CampaignId(0), m, None, secs(0)).unwrap();
        assert_eq!(centre.release(s, txn(1), secs(1)), Ok(()));
        assert_eq!(centre.lock(s, txn(1), m, None, secs(2)), Err(LockRefused::TxnReleased));
        assert_eq!(centre.lock(s, txn(2), m, None, secs(2)), Ok(()));
        assert_eq!(centre.wallet(m).count(), 0);
    }

    /// A redemption cancelled by its order is reversed exactly once: the budget of the day
    /// it was charged to gets the discount back, the serial is free again for another
    /// order (not for the one that cancelled), and a coupon whose validity ended expires.
    #[test]
    fn a_cancelled_redemption_gives_the_coupon_and_the_budget_back() {
        let mut spec = campaign(CouponKind::Cash { off: Cents(3_00) }, StackClass::Order, &[], 0);
        spec.per_member_limit = 2;
        spec.budget_total = Some(Cents(10_00));
        spec.budget_daily = Some(Cents(5_00));
        spec.funding = Funding { hq_bps: 5000, franchisee_bps: 0, brand_bps: 5000 };
        spec.validity = Validity::AfterClaim(SimDuration::from_secs(3 * 86_400));
        let mut centre = CouponCentre::new(&[spec]).unwrap();
        let m = MemberId(4);
        let (a, b) = (
            centre.claim(CampaignId(0), m, None, secs(0)).unwrap(),
            centre.claim(CampaignId(0), m, None, secs(0)).unwrap(),
        );
        centre.lock(a, txn(1), m, None, secs(10)).unwrap();
        centre.redeem(a, txn(1), Cents(3_00), secs(10)).unwrap();
        // Cancelled the next day: day 0 gets its 3.00 back.
        let tomorrow = secs(86_400 + 5);
        let back = centre.cancel(a, txn(1), tomorrow).unwrap();
        assert_eq!(
            back,
            Cancelled::Reversed(Redemption {
                discount: Cents(3_00),
                funded: FundingParts { hq: Cents(1_50), franchisee: Cents::ZERO, brand: Cents(1_50) }
            })
        );
        assert_eq!(centre.cancel(a, txn(1), tomorrow), Ok(Cancelled::Nothing));
        assert_eq!(centre.daily_used(CampaignId(0), 0), Cents::ZERO);
        assert_eq!(centre.budget_left(CampaignId(0), secs(20)), Some(Cents(5_00)));
        let k = centre.counters(CampaignId(0)).unwrap();
        assert_eq!((k.redeemed, k.reversed, k.budget_used, k.funded), (0, 1, Cents::ZERO, FundingParts::default()));
        // Free again, but never for the order that cancelled.
        assert_eq!(centre.lock(a, txn(1), m, None, tomorrow), Err(LockRefused::TxnReleased));
        assert_eq!(centre.redeem(a, txn(1), Cents(3_00), tomorrow), Err(RedeemRefused::NotLocked));
        centre.lock(a, txn(2), m, None, tomorrow).unwrap();
        assert_eq!(centre.redeem(a, txn(2), Cents(3_00), tomorrow).map(|r| r.discount), Ok(Cents(3_00)));
        // A lock is released by a cancel; a cancel before its lock refuses the lock.
        centre.lock(b, txn(3), m, None, tomorrow).unwrap();
        assert_eq!(centre.cancel(b, txn(3), tomorrow), Ok(Cancelled::Released));
        assert_eq!(centre.cancel(b, txn(4), tomorrow), Ok(Cancelled::Nothing));
        assert_eq!(centre.lock(b, txn(4), m, None, tomorrow), Err(LockRefused::TxnReleased));
        // Reversed after its validity ended: expired, not free.
        centre.lock(b, txn(5), m, None, tomorrow).unwrap();
        centre.redeem(b, txn(5), Cents(2_00), tomorrow).unwrap();
        assert!(matches!(centre.cancel(b, txn(5), secs(4 * 86_400)), Ok(Cancelled::Reversed(_))));
        assert_eq!(centre.coupon(b).unwrap().state, SerialState::Expired);
        let k = centre.counters(CampaignId(0)).unwrap();
        assert_eq!((k.redeemed, k.reversed, k.expired, k.budget_used), (1, 2, 1, Cents(3_00)));
        centre.check_invariants().unwrap();
    }

    /// The centre's own checkout: the best combination of the member's wallet, redeemed;
    /// a pickup coupon only on a pickup order.
    #[test]
    fn an_online_checkout_redeems_the_best_combination() {
        let campaigns = [
            campaign(CouponKind::Pickup { off: Cents(1_00) }, StackClass::Service, ALL_CLASSES, 0),
            campaign(CouponKind::Cash { off: Cents(2_00) }, StackClass::Order, ALL_CLASSES, 1),
        ];
        let mut centre = CouponCentre::new(&campaigns).unwrap();
        let m = MemberId(9);
        let p = centre.claim(CampaignId(0), m, None, secs(0)).unwrap();
        let c = centre.claim(CampaignId(1), m, None, secs(0)).unwrap();
        let basket = [line(0, 0, 10_00, 1)];
        let order = |f| Checkout { store: Some(StoreIdx(1)), channel: SaleChannel::Online(f), now: secs(30) };
        let online = TxnId::new(TxnSource(3), 0);
        let got = centre.redeem_best(m, online, &basket, &order(Fulfilment::SameCity));
        assert_eq!(got.iter().map(|a| a.serial).collect::<Vec<_>>(), [c]);
        let got = centre.redeem_best(m, TxnId::new(TxnSource(3), 1), &basket, &order(Fulfilment::Pickup));
        assert_eq!(got.iter().map(|a| (a.serial, a.discount)).collect::<Vec<_>>(), [(p, Cents(1_00))]);
        assert_eq!(centre.counters(CampaignId(0)).unwrap().redeemed, 1);
        assert!(centre.redeem_best(MemberId(10), online, &basket, &order(Fulfilment::Pickup)).is_empty());
        centre.check_invariants().unwrap();
    }

    #[test]
    fn campaigns_the_rules_cannot_apply_to_are_refused() {
        let mut bad = campaign(CouponKind::Parking { off: Cents(1_00) }, StackClass::Order, &[], 0);
        let err = CouponCentre::new(std::slice::from_ref(&bad)).unwrap_err();
        assert_eq!(err.problem, "parking and pickup coupons are in the service class");
        bad.class = StackClass::Service;
        bad.funding.brand_bps = 1;
        assert!(CouponCentre::new(&[bad]).unwrap_err().problem.contains("10001"));
    }
}
