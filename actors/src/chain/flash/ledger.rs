//! The books of a flash sale's quota: reservations, sales, per-store and per-member counts,
//! idempotency keys, expiry and the waitlist. The stock holder keeps one for the chain
//! (protocols `atomic`, `buckets`, `unsafe_read_then_write`); under `demarcation` each
//! store keeps one for its local quota.
//!
//! Every change is checked at once ([`Ledger::check`]): `sold + reserved <= limit` for the
//! chain (or the store's local limit) and, per store, `<= store quota` and `<= stock`. A
//! break is a correctness bug that stops the run, never a statistic.

use std::collections::{BTreeMap, VecDeque};

use storetwin_engine::{SimDuration, SimTime};

use crate::chain::spec::StoreIdx;

/// Names of the invariants a ledger states.
pub mod invariant {
    pub const QUOTA: &str = "flash sale: sold + reserved <= quota";
    pub const STORE_QUOTA: &str = "flash sale: sold + reserved <= store quota and <= store stock";
    pub const MEMBER_LIMIT: &str = "flash sale: no member over the per-member limit";
}

/// A reservation number, unique in its ledger.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ResId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResState {
    Reserved,
    Paid,
    Expired,
}

#[derive(Clone, Copy, Debug)]
pub struct Reservation {
    pub store: StoreIdx,
    pub client: u32,
    pub member: u32,
    pub bucket: u16,
    pub state: ResState,
    pub expires_at: SimTime,
}

/// Why a grab got no unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    NotOpen,
    SoldOut,
    StoreSoldOut,
    MemberLimit,
}

/// Units per member: dense for the chain's holder (every member id), sparse for a store's.
#[derive(Clone, Debug)]
enum MemberUnits {
    Dense(Vec<u8>),
    Sparse(BTreeMap<u32, u8>),
}

impl MemberUnits {
    fn get(&self, m: u32) -> u8 {
        match self {
            MemberUnits::Dense(v) => v.get(m as usize).copied().unwrap_or(0),
            MemberUnits::Sparse(b) => b.get(&m).copied().unwrap_or(0),
        }
    }

    fn add(&mut self, m: u32, delta: i8) {
        let slot = match self {
            MemberUnits::Dense(v) => {
                if v.len() <= m as usize {
                    v.resize(m as usize + 1, 0);
                }
                &mut v[m as usize]
            }
            MemberUnits::Sparse(b) => b.entry(m).or_insert(0),
        };
        *slot = slot.saturating_add_signed(delta);
    }
}

/// Counts for the KPIs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LedgerKpis {
    pub reserved_total: u64,
    pub paid: u64,
    pub expired: u64,
    pub refused_not_open: u64,
    pub refused_sold_out: u64,
    pub refused_store_sold_out: u64,
    pub refused_member_limit: u64,
    /// Refused by a bucket that had run out while other buckets still had units.
    pub phantom_sold_out: u64,
    /// Retries answered from their idempotency key (no second deduction).
    pub deduplicated: u64,
    pub waitlisted: u64,
    pub offered_from_waitlist: u64,
    /// Unit-seconds between a reservation's expiry and its unit's return (sweeper lag).
    pub undersell_unit_s: f64,
    pub max_expiry_lag_s: f64,
    /// When `sold + reserved` first reached the limit (sold out for everyone).
    pub sold_out_at: Option<SimTime>,
    /// The greatest `sold + reserved` seen.
    pub peak_taken: u32,
}

/// The books of one quota.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// What may be sold or held in total (the chain's quota, or a store's local limit).
    pub limit: u32,
    pub sold: u32,
    pub reserved: u32,
    /// Per store (one entry for a store's own ledger): quota, stock, sold, reserved.
    pub store_quota: Vec<u32>,
    pub store_stock: Vec<u32>,
    pub store_sold: Vec<u32>,
    pub store_reserved: Vec<u32>,
    member_limit: u8,
    members: MemberUnits,
    /// Per store, per client: its reservation + 1 (0: none), for idempotency keys.
    keys: Vec<Vec<u32>>,
    pub reservations: Vec<Reservation>,
    /// Reservations in expiry order (the TTL is one for the sale).
    expiry: VecDeque<ResId>,
    ttl: SimDuration,
    /// Members waiting for a returned unit: (store, client, member).
    pub waitlist: VecDeque<(StoreIdx, u32, u32)>,
    waitlist_cap: u32,
    pub kpis: LedgerKpis,
}

impl Ledger {
    /// `dense_members`: keep per-member counts in a vector as long as the member
    /// population (the chain's holder) or sparsely (a store's local ledger).
    pub fn new(
        limit: u32,
        store_quota: Vec<u32>,
        store_stock: Vec<u32>,
        member_limit: u32,
        ttl: SimDuration,
        waitlist: u32,
        dense_members: Option<u32>,
    ) -> Ledger {
        let n = store_quota.len();
        Ledger {
            limit,
            sold: 0,
            reserved: 0,
            store_quota,
            store_stock,
            store_sold: vec![0; n],
            store_reserved: vec![0; n],
            member_limit: member_limit.min(u32::from(u8::MAX)) as u8,
            members: match dense_members {
                Some(pop) => MemberUnits::Dense(vec![0; pop as usize]),
                None => MemberUnits::Sparse(BTreeMap::new()),
            },
            keys: vec![Vec::new(); n],
            reservations: Vec::new(),
            expiry: VecDeque::new(),
            ttl,
            waitlist: VecDeque::new(),
            waitlist_cap: waitlist,
            kpis: LedgerKpis::default(),
        }
    }

    /// Taken units: sold and held.
    pub fn taken(&self) -> u32 {
        self.sold + self.reserved
    }

    fn slot(&self, store: StoreIdx) -> usize {
        if self.store_quota.len() == 1 { 0 } else { usize::from(store.0) }
    }

    /// The reservation a keyed retry of `client` of `store` already holds.
    pub fn keyed(&self, store: StoreIdx, client: u32) -> Option<ResId> {
        let k = self.keys.get(self.slot(store))?.get(client as usize).copied().unwrap_or(0);
        (k > 0).then(|| ResId(k - 1))
    }

    /// Why a grab by `member` at `store` would be refused now, if it would.
    pub fn refusal(&self, store: StoreIdx, member: u32) -> Option<Refusal> {
        let s = self.slot(store);
        if self.taken() >= self.limit {
            Some(Refusal::SoldOut)
        } else if self.store_sold[s] + self.store_reserved[s] >= self.store_quota[s].min(self.store_stock[s]) {
            Some(Refusal::StoreSoldOut)
        } else if self.members.get(member) >= self.member_limit {
            Some(Refusal::MemberLimit)
        } else {
            None
        }
    }

    /// Counts a refusal.
    pub fn refused(&mut self, why: Refusal) {
        let k = &mut self.kpis;
        match why {
            Refusal::NotOpen => k.refused_not_open += 1,
            Refusal::SoldOut => k.refused_sold_out += 1,
            Refusal::StoreSoldOut => k.refused_store_sold_out += 1,
            Refusal::MemberLimit => k.refused_member_limit += 1,
        }
    }

    /// Reserves one unit for `client` of `store` without checking (the caller checked, or
    /// is the unsafe protocol); then [`Ledger::check`] says whether the books still hold.
    pub fn reserve(&mut self, store: StoreIdx, client: u32, member: u32, bucket: u16, now: SimTime) -> ResId {
        let s = self.slot(store);
        let id = ResId(self.reservations.len() as u32);
        self.reservations.push(Reservation {
            store,
            client,
            member,
            bucket,
            state: ResState::Reserved,
            expires_at: now.saturating_add(self.ttl),
        });
        self.expiry.push_back(id);
        self.reserved += 1;
        self.store_reserved[s] += 1;
        self.members.add(member, 1);
        let keys = &mut self.keys[s];
        if keys.len() <= client as usize {
            keys.resize(client as usize + 1, 0);
        }
        keys[client as usize] = id.0 + 1;
        self.kpis.reserved_total += 1;
        if self.taken() > self.kpis.peak_taken {
            self.kpis.peak_taken = self.taken();
        }
        if self.taken() >= self.limit && self.kpis.sold_out_at.is_none() {
            self.kpis.sold_out_at = Some(now);
        }
        id
    }

    /// `Err((invariant, detail))` if the books are broken.
    pub fn check(&self, store: StoreIdx) -> Result<(), (&'static str, String)> {
        if self.taken() > self.limit {
            return Err((
                invariant::QUOTA,
                format!("sold {} + reserved {} > quota {}", self.sold, self.reserved, self.limit),
            ));
        }
        let s = self.slot(store);
        let taken = self.store_sold[s] + self.store_reserved[s];
        if taken > self.store_quota[s] || taken > self.store_stock[s] {
            return Err((
                invariant::STORE_QUOTA,
                format!(
                    "store {}: sold {} + reserved {} > quota {} or stock {}",
                    store.0, self.store_sold[s], self.store_reserved[s], self.store_quota[s], self.store_stock[s]
                ),
            ));
        }
        Ok(())
    }

    /// A payment for reservation `id`: `true` if it was still held (now sold).
    pub fn pay(&mut self, id: ResId) -> bool {
        let Some(r) = self.reservations.get_mut(id.0 as usize) else { return false };
        if r.state != ResState::Reserved {
            return false;
        }
        r.state = ResState::Paid;
        let s = if self.store_quota.len() == 1 { 0 } else { usize::from(r.store.0) };
        self.reserved -= 1;
        self.sold += 1;
        self.store_reserved[s] -= 1;
        self.store_sold[s] += 1;
        self.kpis.paid += 1;
        true
    }

    /// The next reservation to expire at or before `now`, if its time has come (paid ones
    /// are skipped): its unit returns (member count, store and total). The expiry lag
    /// `now - expires_at` is counted as undersell.
    pub fn expire_due(&mut self, now: SimTime) -> Option<ResId> {
        while let Some(&id) = self.expiry.front() {
            let r = self.reservations[id.0 as usize];
            if r.state != ResState::Reserved {
                self.expiry.pop_front();
                continue;
            }
            if r.expires_at > now {
                return None;
            }
            self.expiry.pop_front();
            self.expire(id, now);
            return Some(id);
        }
        None
    }

    fn expire(&mut self, id: ResId, now: SimTime) {
        let r = &mut self.reservations[id.0 as usize];
        r.state = ResState::Expired;
        let (store, member, expires_at) = (r.store, r.member, r.expires_at);
        let s = self.slot(store);
        self.reserved -= 1;
        self.store_reserved[s] -= 1;
        self.members.add(member, -1);
        let lag = now.saturating_since(expires_at).as_secs_f64();
        self.kpis.expired += 1;
        self.kpis.undersell_unit_s += lag;
        self.kpis.max_expiry_lag_s = self.kpis.max_expiry_lag_s.max(lag);
    }

    /// Puts a refused member on the waitlist if there is room; `true` if it did.
    pub fn wait(&mut self, store: StoreIdx, client: u32, member: u32) -> bool {
        if (self.waitlist.len() as u32) < self.waitlist_cap {
            self.waitlist.push_back((store, client, member));
            self.kpis.waitlisted += 1;
            true
        } else {
            false
        }
    }

    /// Offers the returned unit to the first waitlisted member who may take it.
    pub fn offer(&mut self, now: SimTime) -> Option<(ResId, StoreIdx, u32)> {
        while let Some((store, client, member)) = self.waitlist.pop_front() {
            if self.refusal(store, member).is_none() {
                let id = self.reserve(store, client, member, 0, now);
                self.kpis.offered_from_waitlist += 1;
                return Some((id, store, client));
            }
            if self.taken() >= self.limit {
                self.waitlist.push_front((store, client, member));
                return None;
            }
        }
        None
    }

    /// Units not sold at the end (reserved ones count as taken).
    /// Reservations held now per store (indexed by the store's index; a store's own ledger
    /// has one entry), and of them those expiring before `by`: one pass over the books.
    pub fn held(&self, by: SimTime) -> Vec<(u32, u32)> {
        let mut held = vec![(0, 0); self.store_quota.len().max(1)];
        for r in self.reservations.iter().filter(|r| r.state == ResState::Reserved) {
            let slot = usize::from(r.store.0).min(held.len() - 1);
            held[slot].0 += 1;
            held[slot].1 += u32::from(r.expires_at < by);
        }
        held
    }

    pub fn left(&self) -> u32 {
        self.limit.saturating_sub(self.taken())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(limit: u32, member_limit: u32, waitlist: u32) -> Ledger {
        Ledger::new(limit, vec![3, 3], vec![3, 2], member_limit, SimDuration::from_secs(60), waitlist, Some(10))
    }

    #[test]
    fn the_store_quota_is_the_lesser_of_quota_and_stock() {
        let mut l = ledger(10, 5, 0);
        let s1 = StoreIdx(1);
        for c in 0..2 {
            assert_eq!(l.refusal(s1, c), None);
            l.reserve(s1, c, c, 0, SimTime::ZERO);
        }
        assert_eq!(l.refusal(s1, 9), Some(Refusal::StoreSoldOut));
        assert!(l.check(s1).is_ok());
        l.reserve(s1, 3, 3, 0, SimTime::ZERO);
        assert_eq!(l.check(s1).unwrap_err().0, invariant::STORE_QUOTA);
    }

    #[test]
    fn expiry_returns_the_unit_and_the_waitlist_gets_it() {
        let mut l = ledger(1, 1, 5);
        let s0 = StoreIdx(0);
        let r = l.reserve(s0, 0, 0, 0, SimTime::ZERO);
        assert_eq!(l.refusal(s0, 1), Some(Refusal::SoldOut));
        assert!(l.wait(s0, 1, 1));
        assert_eq!(l.expire_due(SimTime::from_secs(59)), None);
        assert_eq!(l.expire_due(SimTime::from_secs(70)), Some(r));
        assert_eq!(l.kpis.undersell_unit_s, 10.0);
        let (offered, store, client) = l.offer(SimTime::from_secs(70)).unwrap();
        assert_eq!((store, client), (s0, 1));
        assert!(l.pay(offered));
        assert!(!l.pay(r), "an expired reservation cannot be paid");
        assert_eq!((l.sold, l.reserved), (1, 0));
    }

    #[test]
    fn a_member_at_the_limit_is_refused_until_a_unit_returns() {
        let mut l = ledger(10, 1, 0);
        l.reserve(StoreIdx(0), 0, 4, 0, SimTime::ZERO);
        assert_eq!(l.refusal(StoreIdx(1), 4), Some(Refusal::MemberLimit));
        l.expire_due(SimTime::from_secs(60));
        assert_eq!(l.refusal(StoreIdx(1), 4), None);
        assert_eq!(l.keyed(StoreIdx(0), 0), Some(ResId(0)));
        assert_eq!(l.keyed(StoreIdx(0), 1), None);
    }
}
