//! The member centre: one member id across channels, each member's level, and points.
//!
//! A member is a [`MemberId`] in `0..population`, the same in every store and online.
//! Each member's level is drawn once, when the centre is built, from the level shares:
//! member `i`'s level comes from the `i`-th draw of the random stream the centre is built
//! with, so levels depend only on that stream's seed (give it a stream of its own, e.g.
//! `Seed::stream`), and a member keeps its level when the population grows.
//!
//! Points:
//! - Earning: a payment earns the member's level's `points_per_unit` for each whole major
//!   unit paid (yuan, euro): the cents are dropped, so 123.99 paid counts as 123 units.
//! - Redeeming: points pay part of an order at `point_value` cents each, at most
//!   `redeem_max_bps` of the order's value and never more than the balance. The points
//!   granted are the least of what was asked, the balance and the cap
//!   `⌊order value × redeem_max_bps / 10 000 / point_value⌋` (rounded down, so the value
//!   redeemed never exceeds the share): a balance never goes below zero. The value
//!   redeemed is a discount on the order, for settlement as
//!   [`DiscountSource::Points`](crate::chain::settlement::DiscountSource::Points).
//! - Returning: points redeemed on an order that is then cancelled or expires are given
//!   back with [`MemberCentre::return_points`] (as settlement refunds the payment). Points
//!   are earned when an order is completed (collected or delivered), so a cancelled order
//!   has earned none and nothing is clawed back.
//!
//! Registration: a non-member who registers ([`MemberCentre::register`]) becomes the next
//! member id after the population the centre opened with (ids are dense, in order of
//! registration, and no random draw is made), at the first level of
//! [`MemberSpec::levels`] (the entry level), with no points. How they joined is counted
//! ([`Joined`]): at a store's WiFi portal, when ordering online as a guest, or referred by
//! a member. Whether a shopper registers is the caller's draw (`register_share`), from a
//! stream of its own, so registrations shift no other random stream.
//!
//! Counters are kept per level, per [`Channel`] and in total; the books obey
//! `earned − (redeemed − returned) = Σ balances` ([`MemberCentre::check`]).
//!
//! Every earn, redemption and return carries a [`TxnId`]: a repeat (a message retried after
//! a partition) returns [`Outcome::Duplicate`] and changes nothing; see
//! [`crate::chain::txn`] for what this assumes of the senders. Calls allocate nothing;
//! the state is a balance and a level per member, in `Vec`s indexed by member id.

use rand::{Rng, RngExt};

use crate::chain::channel::Channel;
use crate::chain::settlement::WHOLE_BPS;
use crate::chain::spec::{ChainSpec, MemberSpec};
use crate::chain::txn::{Outcome, TxnError, TxnId, TxnLog, TxnSource};
use crate::money::Cents;

/// A member of the chain, `0..population`, the same in every channel.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct MemberId(pub u32);

/// Index of a level in [`MemberSpec::levels`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LevelIdx(pub u8);

/// Names of the invariants the member centre states.
pub mod invariant {
    pub const BALANCES: &str = "members: earned - redeemed + returned = sum of balances";
    pub const ADD_UP: &str = "members: levels and channels add up to the totals";
    pub const LEVELS: &str = "members: every member has one level";
    pub const RETURNS: &str = "members: returned <= redeemed";
    pub const KNOWN_MEMBER: &str = "members: known member";
    pub const NOT_NEGATIVE: &str = "members: amounts are not negative";
    pub const SETTINGS: &str = "members: valid settings";
    pub const REGISTRATIONS: &str = "members: population = members at open + registrations";
}

/// How a new member joined.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Joined {
    /// At the WiFi portal of this store (an app user who was not a member).
    InStore(crate::chain::spec::StoreIdx),
    /// When ordering online as a guest, in this channel.
    Online(crate::chain::spec::OnlineChannel),
    /// Referred by a member (the friend registers in the app).
    Referred,
}

/// Registrations by how the member joined.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registrations {
    /// At each store's WiFi portal, by store index.
    pub in_store: Vec<u64>,
    /// Online guests, indexed like [`crate::chain::spec::OnlineChannel::ALL`].
    pub online: [u64; 3],
    pub referred: u64,
}

impl Registrations {
    pub fn total(&self) -> u64 {
        self.in_store.iter().sum::<u64>() + self.online.iter().sum::<u64>() + self.referred
    }
}

/// Points moved, by count of transactions and of points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PointCounters {
    /// Earn transactions applied, and the points they earned.
    pub earns: u64,
    pub earned: u64,
    /// Redemptions that granted at least one point, and the points granted.
    pub redemptions: u64,
    pub redeemed: u64,
    /// Returns of redeemed points, and the points returned.
    pub returns: u64,
    pub returned: u64,
}

impl PointCounters {
    /// Points earned and not spent: `earned − redeemed + returned` (negative for one
    /// channel if its members spend there what they earned elsewhere).
    pub fn outstanding(&self) -> i128 {
        i128::from(self.earned) - i128::from(self.redeemed) + i128::from(self.returned)
    }

    fn add(&mut self, o: &PointCounters) {
        self.earns += o.earns;
        self.earned += o.earned;
        self.redemptions += o.redemptions;
        self.redeemed += o.redeemed;
        self.returns += o.returns;
        self.returned += o.returned;
    }
}

/// Points granted to pay part of an order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Redemption {
    pub points: u64,
    /// `points × point_value`: the discount on the order.
    pub value: Cents,
}

/// A request the member centre refuses (and a run stops with, naming [`Self::invariant`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MemberError {
    #[error("{0}")]
    Settings(String),
    #[error("member #{} is not one of the {population} members", member.0)]
    UnknownMember { member: MemberId, population: u32 },
    #[error("{what} is negative: {amount}")]
    Negative { what: &'static str, amount: Cents },
    #[error("returning {points} points to level {} would return more than its members redeemed ({redeemed} redeemed, {returned} returned)", level.0)]
    ReturnExceedsRedeemed { level: LevelIdx, points: u64, redeemed: u64, returned: u64 },
    #[error(transparent)]
    Txn(#[from] TxnError),
}

impl MemberError {
    /// The invariant a run stops with.
    pub fn invariant(&self) -> &'static str {
        match self {
            MemberError::Settings(_) => invariant::SETTINGS,
            MemberError::UnknownMember { .. } => invariant::KNOWN_MEMBER,
            MemberError::Negative { .. } => invariant::NOT_NEGATIVE,
            MemberError::ReturnExceedsRedeemed { .. } => invariant::RETURNS,
            MemberError::Txn(e) => e.invariant(),
        }
    }
}

/// The member centre's state. See the module doc.
#[derive(Clone, Debug)]
pub struct MemberCentre {
    /// Per member: its level and its balance of points.
    levels: Vec<LevelIdx>,
    balances: Vec<u64>,
    /// Per level.
    points_per_unit: Vec<u32>,
    level_members: Vec<u32>,
    by_level: Vec<PointCounters>,
    by_channel: [PointCounters; Channel::COUNT],
    totals: PointCounters,
    /// Σ balances, kept as they change.
    outstanding: u64,
    point_value: Cents,
    redeem_max_bps: u32,
    /// Members when the centre opened; the ids after them are registrations.
    at_open: u32,
    registrations: Registrations,
    log: TxnLog,
}

impl MemberCentre {
    /// The members of `spec`, each with a level drawn from `rng` (one draw per member, in
    /// id order), no points, and transactions from sources `0..sources`.
    pub fn new<R: Rng + ?Sized>(spec: &MemberSpec, rng: &mut R, sources: usize) -> Result<MemberCentre, MemberError> {
        let n = spec.levels.len();
        if n == 0 || n > 256 {
            return Err(MemberError::Settings(format!("there must be 1 to 256 member levels, not {n}")));
        }
        let mut cumulative = Vec::with_capacity(n);
        let mut total = 0.0;
        for level in &spec.levels {
            if !(level.share.is_finite() && level.share >= 0.0) {
                return Err(MemberError::Settings(format!(
                    "level {}: the share must be zero or more, not {}",
                    level.name, level.share
                )));
            }
            total += level.share;
            cumulative.push(total);
        }
        if (total - 1.0).abs() > 1e-6 {
            return Err(MemberError::Settings(format!("the level shares sum to {total}, not 1")));
        }
        if spec.point_value.0 <= 0 {
            return Err(MemberError::Settings(format!("a point must be worth more than 0, not {}", spec.point_value)));
        }
        if spec.redeem_max_bps > WHOLE_BPS {
            return Err(MemberError::Settings(format!(
                "points may pay at most 10 000 bps of an order, not {}",
                spec.redeem_max_bps
            )));
        }
        let last = spec.levels.iter().rposition(|l| l.share > 0.0).expect("the shares sum to 1");
        let mut level_members = vec![0u32; n];
        let levels = (0..spec.population)
            .map(|_| {
                let u = rng.random::<f64>() * total;
                let i = cumulative.partition_point(|c| *c <= u).min(last);
                level_members[i] += 1;
                LevelIdx(u8::try_from(i).expect("at most 256 levels"))
            })
            .collect();
        Ok(MemberCentre {
            levels,
            balances: vec![0; spec.population as usize],
            points_per_unit: spec.levels.iter().map(|l| l.points_per_unit).collect(),
            level_members,
            by_level: vec![PointCounters::default(); n],
            by_channel: [PointCounters::default(); Channel::COUNT],
            totals: PointCounters::default(),
            outstanding: 0,
            point_value: spec.point_value,
            redeem_max_bps: spec.redeem_max_bps,
            at_open: spec.population,
            registrations: Registrations::default(),
            log: TxnLog::new(sources),
        })
    }

    /// The members of a chain, transactions from its stores and the order centre
    /// ([`TxnSource::chain_sources`]).
    pub fn for_chain<R: Rng + ?Sized>(chain: &ChainSpec, rng: &mut R) -> Result<MemberCentre, MemberError> {
        MemberCentre::new(&chain.members, rng, TxnSource::chain_sources(chain.stores.len()))
    }

    /// Members now: those at open and every registration since.
    pub fn population(&self) -> u32 {
        self.levels.len() as u32
    }

    /// Members when the centre opened.
    pub fn population_at_open(&self) -> u32 {
        self.at_open
    }

    pub fn registrations(&self) -> &Registrations {
        &self.registrations
    }

    /// A non-member registers: the next member id, at the entry level (the first), with no
    /// points. Allocates (the member tables grow by one).
    pub fn register(&mut self, joined: Joined) -> Result<MemberId, MemberError> {
        let id = u32::try_from(self.levels.len())
            .ok()
            .filter(|id| *id < u32::MAX)
            .ok_or_else(|| MemberError::Settings("more than 2^32 - 1 members".into()))?;
        self.levels.push(LevelIdx(0));
        self.balances.push(0);
        self.level_members[0] += 1;
        let r = &mut self.registrations;
        match joined {
            Joined::InStore(store) => {
                let s = usize::from(store.0);
                if r.in_store.len() <= s {
                    r.in_store.resize(s + 1, 0);
                }
                r.in_store[s] += 1;
            }
            Joined::Online(channel) => r.online[channel as usize] += 1,
            Joined::Referred => r.referred += 1,
        }
        Ok(MemberId(id))
    }

    fn index(&self, member: MemberId) -> Result<usize, MemberError> {
        let i = member.0 as usize;
        if i < self.levels.len() {
            Ok(i)
        } else {
            Err(MemberError::UnknownMember { member, population: self.population() })
        }
    }

    /// The member's level.
    pub fn level(&self, member: MemberId) -> Result<LevelIdx, MemberError> {
        Ok(self.levels[self.index(member)?])
    }

    /// The member's points.
    pub fn balance(&self, member: MemberId) -> Result<u64, MemberError> {
        Ok(self.balances[self.index(member)?])
    }

    /// What a payment of `paid` would earn the member (see the module doc for rounding).
    pub fn points_for(&self, member: MemberId, paid: Cents) -> Result<u64, MemberError> {
        let level = self.level(member)?;
        if paid.0 < 0 {
            return Err(MemberError::Negative { what: "the amount paid", amount: paid });
        }
        let units = paid.0.unsigned_abs() / 100;
        Ok(units * u64::from(self.points_per_unit[usize::from(level.0)]))
    }

    /// The most points an order of `order_value` may be paid with (before the balance).
    pub fn redeem_cap(&self, order_value: Cents) -> Result<u64, MemberError> {
        if order_value.0 < 0 {
            return Err(MemberError::Negative { what: "the order value", amount: order_value });
        }
        let share = i128::from(order_value.0) * i128::from(self.redeem_max_bps);
        let cap = share / (i128::from(WHOLE_BPS) * i128::from(self.point_value.0));
        Ok(u64::try_from(cap).expect("not negative, at most the order value in cents"))
    }

    /// The most points the member may pay an order of `order_value` with now.
    pub fn redeemable(&self, member: MemberId, order_value: Cents) -> Result<u64, MemberError> {
        Ok(self.redeem_cap(order_value)?.min(self.balance(member)?))
    }

    /// The value of `points` when redeemed.
    pub fn value_of(&self, points: u64) -> Cents {
        let value = i128::from(points) * i128::from(self.point_value.0);
        Cents(i64::try_from(value).expect("points redeemed are worth at most an order"))
    }

    fn counters(&mut self, member: usize, channel: Channel, update: impl Fn(&mut PointCounters)) {
        update(&mut self.by_level[usize::from(self.levels[member].0)]);
        update(&mut self.by_channel[channel.index()]);
        update(&mut self.totals);
    }

    /// Credits the points a payment of `paid` earns; returns them.
    pub fn earn(
        &mut self,
        txn: TxnId,
        member: MemberId,
        channel: Channel,
        paid: Cents,
    ) -> Result<Outcome<u64>, MemberError> {
        let points = self.points_for(member, paid)?;
        if self.log.is_applied(txn)? {
            return Ok(Outcome::Duplicate);
        }
        let i = member.0 as usize;
        self.balances[i] += points;
        self.outstanding += points;
        self.counters(i, channel, |c| {
            c.earns += 1;
            c.earned += points;
        });
        self.log.mark_applied(txn)?;
        Ok(Outcome::Applied(points))
    }

    /// Pays part of an order of `order_value` with up to `wanted` points (`u64::MAX`: as
    /// many as allowed); grants the least of `wanted`, the balance and the cap.
    pub fn redeem(
        &mut self,
        txn: TxnId,
        member: MemberId,
        channel: Channel,
        order_value: Cents,
        wanted: u64,
    ) -> Result<Outcome<Redemption>, MemberError> {
        let points = self.redeemable(member, order_value)?.min(wanted);
        if self.log.is_applied(txn)? {
            return Ok(Outcome::Duplicate);
        }
        let i = member.0 as usize;
        self.balances[i] -= points;
        self.outstanding -= points;
        if points > 0 {
            self.counters(i, channel, |c| {
                c.redemptions += 1;
                c.redeemed += points;
            });
        }
        self.log.mark_applied(txn)?;
        Ok(Outcome::Applied(Redemption { points, value: self.value_of(points) }))
    }

    /// Gives back `points` the member redeemed on an order that was cancelled. Refused if
    /// the members of its level would have had more returned than they redeemed.
    pub fn return_points(
        &mut self,
        txn: TxnId,
        member: MemberId,
        channel: Channel,
        points: u64,
    ) -> Result<Outcome<()>, MemberError> {
        let level = self.level(member)?;
        if self.log.is_applied(txn)? {
            return Ok(Outcome::Duplicate);
        }
        let c = &self.by_level[usize::from(level.0)];
        if c.returned + points > c.redeemed {
            return Err(MemberError::ReturnExceedsRedeemed {
                level,
                points,
                redeemed: c.redeemed,
                returned: c.returned,
            });
        }
        let i = member.0 as usize;
        self.balances[i] += points;
        self.outstanding += points;
        if points > 0 {
            self.counters(i, channel, |c| {
                c.returns += 1;
                c.returned += points;
            });
        }
        self.log.mark_applied(txn)?;
        Ok(Outcome::Applied(()))
    }

    /// Points earned and not spent, over all members (Σ balances).
    pub fn outstanding(&self) -> u64 {
        self.outstanding
    }

    pub fn totals(&self) -> &PointCounters {
        &self.totals
    }

    /// Number of levels.
    pub fn level_count(&self) -> usize {
        self.by_level.len()
    }

    /// # Panics
    /// If `level` is not one of the levels.
    pub fn by_level(&self, level: LevelIdx) -> &PointCounters {
        &self.by_level[usize::from(level.0)]
    }

    /// How many members have the level.
    ///
    /// # Panics
    /// If `level` is not one of the levels.
    pub fn level_members(&self, level: LevelIdx) -> u32 {
        self.level_members[usize::from(level.0)]
    }

    pub fn by_channel(&self, channel: Channel) -> &PointCounters {
        &self.by_channel[channel.index()]
    }

    /// The member centre's invariants; `Err` names the first broken one. Goes over every
    /// member: call it at the end of a run or at a checkpoint, not per message.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        use invariant::*;
        let mut per_level = vec![(0u64, 0u32); self.by_level.len()];
        for (level, balance) in self.levels.iter().zip(&self.balances) {
            let l = &mut per_level[usize::from(level.0)];
            l.0 += balance;
            l.1 += 1;
        }
        let sum: u64 = per_level.iter().map(|l| l.0).sum();
        let t = &self.totals;
        if t.outstanding() != i128::from(sum) || self.outstanding != sum {
            return Err((
                BALANCES,
                format!(
                    "earned {} - redeemed {} + returned {} = {}, outstanding {}, balances sum to {sum}",
                    t.earned,
                    t.redeemed,
                    t.returned,
                    t.outstanding(),
                    self.outstanding
                ),
            ));
        }
        for (i, (c, (balances, members))) in self.by_level.iter().zip(&per_level).enumerate() {
            if c.outstanding() != i128::from(*balances) {
                return Err((
                    BALANCES,
                    format!(
                        "level {i}: earned - redeemed + returned = {}, its balances sum to {balances}",
                        c.outstanding()
                    ),
                ));
            }
            if *members != self.level_members[i] {
                return Err((
                    LEVELS,
                    format!("level {i}: {members} members have it, {} counted", self.level_members[i]),
                ));
            }
            if c.returned > c.redeemed {
                return Err((RETURNS, format!("level {i}: returned {} > redeemed {}", c.returned, c.redeemed)));
            }
        }
        let (mut levels, mut channels) = (PointCounters::default(), PointCounters::default());
        self.by_level.iter().for_each(|c| levels.add(c));
        self.by_channel.iter().for_each(|c| channels.add(c));
        if levels != *t || channels != *t {
            return Err((ADD_UP, format!("levels {levels:?}, channels {channels:?}, totals {t:?}")));
        }
        if u64::from(self.population()) != u64::from(self.at_open) + self.registrations.total() {
            return Err((
                REGISTRATIONS,
                format!(
                    "{} members, {} at open and {} registrations",
                    self.population(),
                    self.at_open,
                    self.registrations.total()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
// Amounts are written major_minor: `100_00` is 100.00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use storetwin_engine::Seed;

    use super::*;
    use crate::chain::spec::{MemberLevel, OnlineChannel};

    const APP: Channel = Channel::Online(OnlineChannel::App);

    fn spec(population: u32) -> MemberSpec {
        let level = |name: &str, share, points_per_unit| MemberLevel { name: name.into(), share, points_per_unit };
        MemberSpec {
            population,
            levels: vec![level("silver", 0.7, 1), level("gold", 0.25, 2), level("platinum", 0.05, 3)],
            point_value: Cents(1),
            redeem_share: 0.3,
            redeem_max_bps: 5_000,
            register_share: 0.0,
            referral_share: 0.0,
            referral_join_after_s: crate::dist::Dist::Constant(0.0),
        }
    }

    fn centre(population: u32, seed: u64) -> MemberCentre {
        MemberCentre::new(&spec(population), &mut Seed(seed).stream(7, 0), 2).unwrap()
    }

    fn txn(seq: u64) -> TxnId {
        TxnId::new(TxnSource(0), seq)
    }

    fn first_of(m: &MemberCentre, level: u8) -> MemberId {
        (0..m.population()).map(MemberId).find(|id| m.level(*id) == Ok(LevelIdx(level))).unwrap()
    }

    #[test]
    fn levels_depend_only_on_the_seed() {
        let levels = |m: &MemberCentre| (0..m.population()).map(|i| m.level(MemberId(i)).unwrap()).collect::<Vec<_>>();
        let (a, b) = (centre(2_000, 1), centre(2_000, 1));
        assert_eq!(levels(&a), levels(&b));
        assert_ne!(levels(&a), levels(&centre(2_000, 2)));
        // A member keeps its level when the population grows.
        assert_eq!(levels(&centre(1_000, 1))[..], levels(&a)[..1_000]);
    }

    #[test]
    fn levels_follow_the_shares() {
        let m = centre(100_000, 3);
        for (i, share) in [0.7, 0.25, 0.05].into_iter().enumerate() {
            let got = f64::from(m.level_members(LevelIdx(i as u8))) / 100_000.0;
            // Binomial sd at most 0.15 %: 1 % is over six of them.
            assert!((got - share).abs() < 0.01, "level {i}: share {got}, expected {share}");
        }
        assert_eq!(m.check(), Ok(()));
    }

    /// The worked example: a gold member (2 points per unit) pays 123.45 in a store and earns
    /// 246 points, then pays part of an 80.00 online order with them.
    #[test]
    fn earn_then_redeem() {
        let mut m = centre(100, 5);
        let gold = first_of(&m, 1);
        assert_eq!(m.earn(txn(0), gold, Channel::Store, Cents(123_45)), Ok(Outcome::Applied(246)));
        // At most 50 % of 80.00 = 4,000 points of 1 cent: the balance (246) is the limit.
        assert_eq!(m.redeem_cap(Cents(80_00)), Ok(4_000));
        let r = m.redeem(txn(1), gold, APP, Cents(80_00), u64::MAX).unwrap().applied().unwrap();
        assert_eq!(r, Redemption { points: 246, value: Cents(2_46) });
        assert_eq!(m.balance(gold), Ok(0));
        // Nothing left: a redemption grants nothing and the balance stays at zero.
        assert_eq!(m.redeem(txn(2), gold, APP, Cents(80_00), 10), Ok(Outcome::Applied(Redemption::default())));
        assert_eq!(m.by_level(LevelIdx(1)).earned, 246);
        assert_eq!(m.by_channel(Channel::Store).earned, 246);
        assert_eq!(m.by_channel(APP).redeemed, 246);
        assert_eq!(m.by_channel(APP).redemptions, 1);
        assert_eq!(m.outstanding(), 0);
        assert_eq!(m.check(), Ok(()));
    }

    #[test]
    fn the_cap_rounds_down_to_whole_points() {
        let mut s = spec(10);
        s.point_value = Cents(10);
        s.redeem_max_bps = 3_333;
        let m = MemberCentre::new(&s, &mut Seed(1).stream(7, 0), 1).unwrap();
        // 33.33 % of 10.00 is 3.333: 33 points of 0.10 (3.30), never 34 (3.40).
        assert_eq!(m.redeem_cap(Cents(10_00)), Ok(33));
        assert_eq!(m.points_for(MemberId(0), Cents(99)), Ok(0));
    }

    #[test]
    fn a_repeated_transaction_counts_once() {
        let mut m = centre(10, 5);
        let silver = first_of(&m, 0);
        assert_eq!(m.earn(txn(0), silver, Channel::Store, Cents(10_00)), Ok(Outcome::Applied(10)));
        assert_eq!(m.earn(txn(0), silver, Channel::Store, Cents(10_00)), Ok(Outcome::Duplicate));
        assert_eq!(m.redeem(txn(0), silver, APP, Cents(10_00), 5), Ok(Outcome::Duplicate));
        assert_eq!(m.return_points(txn(0), silver, APP, 5), Ok(Outcome::Duplicate));
        assert_eq!((m.balance(silver), m.totals().earns), (Ok(10), 1));
        assert_eq!(m.check(), Ok(()));
    }

    #[test]
    fn returned_points_never_exceed_the_redeemed() {
        let mut m = centre(10, 5);
        let silver = first_of(&m, 0);
        m.earn(txn(0), silver, Channel::Store, Cents(20_00)).unwrap().applied().unwrap();
        m.redeem(txn(1), silver, APP, Cents(20_00), 15).unwrap().applied().unwrap();
        assert_eq!(m.balance(silver), Ok(5));
        assert_eq!(m.return_points(txn(2), silver, APP, 15), Ok(Outcome::Applied(())));
        assert_eq!(m.balance(silver), Ok(20));
        let err = m.return_points(txn(3), silver, APP, 1).unwrap_err();
        assert_eq!(err.invariant(), invariant::RETURNS);
        assert_eq!(m.check(), Ok(()));
    }

    #[test]
    fn bad_requests_and_settings_are_named_errors() {
        let mut m = centre(10, 5);
        let err = m.earn(txn(0), MemberId(10), Channel::Store, Cents(1_00)).unwrap_err();
        assert_eq!(err.invariant(), invariant::KNOWN_MEMBER);
        let err = m.earn(txn(0), MemberId(0), Channel::Store, Cents(-1)).unwrap_err();
        assert_eq!(err.invariant(), invariant::NOT_NEGATIVE);
        assert_eq!(m.totals(), &PointCounters::default());
        let mut s = spec(10);
        s.levels[0].share = 0.5;
        let err = MemberCentre::new(&s, &mut Seed(1).stream(7, 0), 1).unwrap_err();
        assert_eq!(
            (err.invariant(), err.to_string().as_str()),
            (invariant::SETTINGS, "the level shares sum to 0.8, not 1")
        );
    }

    /// Registrations take the next ids in order, at the entry level, earn like any member,
    /// and are counted by how they joined.
    #[test]
    fn a_registration_is_the_next_member_id_at_the_entry_level() {
        let mut m = centre(10, 5);
        let a = m.register(Joined::InStore(crate::chain::spec::StoreIdx(2))).unwrap();
        let b = m.register(Joined::Online(OnlineChannel::Web)).unwrap();
        let c = m.register(Joined::Referred).unwrap();
        assert_eq!((a, b, c), (MemberId(10), MemberId(11), MemberId(12)));
        assert_eq!((m.population(), m.population_at_open()), (13, 10));
        assert_eq!(m.level(b), Ok(LevelIdx(0)));
        assert_eq!(m.balance(c), Ok(0));
        assert_eq!(m.earn(txn(0), b, APP, Cents(3_00)), Ok(Outcome::Applied(3)));
        let r = m.registrations();
        assert_eq!((r.in_store.as_slice(), r.online, r.referred, r.total()), (&[0, 0, 1][..], [0, 0, 1], 1, 3));
        assert_eq!(m.check(), Ok(()));
        // A registration the books do not account for breaks the population identity.
        m.registrations.referred += 1;
        assert_eq!(m.check().unwrap_err().0, invariant::REGISTRATIONS);
    }

    #[test]
    fn a_broken_balance_is_reported_by_name() {
        let mut m = centre(10, 5);
        m.earn(txn(0), MemberId(0), Channel::Store, Cents(5_00)).unwrap().applied().unwrap();
        m.balances[0] += 1;
        assert_eq!(m.check().unwrap_err().0, invariant::BALANCES);
    }
}
