//! Pre-orders ("book ahead"): besides buying a flash-sale unit now at the sale's price, a
//! shopper may order one from a tier, each with its own order window, ship date, price
//! and minimum and maximum quantity. It lets a store sell before it stocks: a pre-order
//! takes none of the stores' stock today; a confirmed tier ships at its ship date.
//!
//! A tier's lifecycle ([`TierState`]):
//!
//! ```text
//! Upcoming --opens--> Open --closes, orders >= min--> Confirmed --ships--> Shipped
//!                          \--closes, orders <  min--> Cancelled (every order refunded)
//! ```
//!
//! An open tier takes orders until it holds its maximum ([`Preorders::choose`] skips a
//! full one). The stock holder keeps the books ([`Preorders`]): each order is paid in full
//! when it is placed, and a cancelled tier refunds every order exactly. After every change
//! [`Preorders::check`] states the invariants, and a break stops the run like an oversell:
//! a tier never holds more than its maximum; a cancelled tier refunded exactly what it
//! took; and the money, `paid − refunded = the confirmed (and shipped) tiers' revenue +
//! what the tiers still open hold`.

use std::collections::BTreeMap;

use storetwin_engine::SimTime;

use crate::chain::spec::StoreIdx;
use crate::money::Cents;

/// Names of the invariants the pre-order books state.
pub mod invariant {
    pub const MAX: &str = "pre-order: a tier never holds more than its maximum";
    pub const REFUND: &str = "pre-order: a cancelled tier refunds exactly what it took";
    pub const MONEY: &str = "pre-order: paid - refunded = confirmed tiers' revenue + open tiers' takings";
}

/// One pre-order tier, as the sale's spec gives it (times since the run's start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreorderTier {
    pub name: String,
    /// The order window: orders are taken from `opens` until `closes`.
    pub opens: SimTime,
    pub closes: SimTime,
    /// When a confirmed tier's orders ship (at or after `closes`).
    pub ships: SimTime,
    /// The price of one unit, paid in full when the order is placed.
    pub price: Cents,
    /// Orders the tier needs by `closes` to go ahead (`0 < min <= max`), and the most it
    /// takes.
    pub min: u32,
    pub max: u32,
}

/// Where a tier is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierState {
    /// Its window has not opened yet.
    Upcoming,
    /// Taking orders (while not full).
    Open,
    /// Its window closed with at least `min` orders: it ships at its ship date.
    Confirmed,
    /// Its window closed below `min`: every order was refunded.
    Cancelled,
    /// Confirmed, and its orders shipped.
    Shipped,
}

impl TierState {
    pub fn name(self) -> &'static str {
        match self {
            TierState::Upcoming => "upcoming",
            TierState::Open => "open",
            TierState::Confirmed => "confirmed",
            TierState::Cancelled => "cancelled",
            TierState::Shipped => "shipped",
        }
    }
}

/// One order of one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreOrder {
    /// The shopper's store (where it is collected) and its client there.
    pub store: StoreIdx,
    pub client: u32,
    pub member: u32,
    pub placed_at: SimTime,
}

/// The books of one tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierBook {
    pub state: TierState,
    pub orders: Vec<PreOrder>,
    /// What its orders paid, and what was refunded (and how many refunds).
    pub paid: Cents,
    pub refunded: Cents,
    pub refunds: u32,
    /// Orders shipped.
    pub shipped: u32,
    /// When it became full, if it did.
    pub full_at: Option<SimTime>,
}

/// What a tier's window closing did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Closed {
    Confirmed,
    /// Every order of the tier is to be refunded (the orders, in order placed).
    Cancelled(Vec<PreOrder>),
}

/// The pre-order counts beyond the tiers' books.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreorderKpis {
    /// Calls served (first calls and retries).
    pub calls: u64,
    /// Calls answered with no tier open and not full (the shopper may buy now instead).
    pub no_tier: u64,
    /// Keyed retries of an order already placed, answered with it (no second order).
    pub deduplicated: u64,
}

/// The pre-order books of a sale: its tiers, their orders and money.
#[derive(Clone, Debug, PartialEq)]
pub struct Preorders {
    pub tiers: Vec<PreorderTier>,
    pub books: Vec<TierBook>,
    /// The order a keyed call of `(store, client)` placed: `(tier, order)`.
    keys: BTreeMap<(StoreIdx, u32), (u8, u32)>,
    pub kpis: PreorderKpis,
}

impl Preorders {
    pub fn new(tiers: Vec<PreorderTier>) -> Preorders {
        let books = tiers
            .iter()
            .map(|_| TierBook {
                state: TierState::Upcoming,
                orders: Vec::new(),
                paid: Cents::ZERO,
                refunded: Cents::ZERO,
                refunds: 0,
                shipped: 0,
                full_at: None,
            })
            .collect();
        Preorders { tiers, books, keys: BTreeMap::new(), kpis: PreorderKpis::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// When the last tier ships (the last thing the books wait for), if there are tiers.
    pub fn last_event(&self) -> Option<SimTime> {
        self.tiers.iter().map(|t| t.ships).max()
    }

    /// The tier an order placed now goes to: the cheapest tier that is open and not full
    /// (ties: the one listed first); `None` if every tier is upcoming, full or closed.
    pub fn choose(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, (tier, book)) in self.tiers.iter().zip(&self.books).enumerate() {
            let takes = book.state == TierState::Open && (book.orders.len() as u64) < u64::from(tier.max);
            if takes && best.is_none_or(|b| tier.price < self.tiers[b].price) {
                best = Some(i);
            }
        }
        best
    }

    /// The order a keyed retry of `client` of `store` already placed: `(tier, order)`.
    pub fn keyed(&self, store: StoreIdx, client: u32) -> Option<(u8, u32)> {
        self.keys.get(&(store, client)).copied()
    }

    /// Places one order in `tier` (the caller chose it with [`Self::choose`], or is a test
    /// of the invariants); it is paid in full now. Returns the order's number in its tier.
    pub fn order(&mut self, tier: usize, store: StoreIdx, client: u32, member: u32, now: SimTime) -> u32 {
        let price = self.tiers[tier].price;
        let max = self.tiers[tier].max;
        let book = &mut self.books[tier];
        let n = book.orders.len() as u32;
        book.orders.push(PreOrder { store, client, member, placed_at: now });
        book.paid += price;
        if book.orders.len() as u64 >= u64::from(max) && book.full_at.is_none() {
            book.full_at = Some(now);
        }
        self.keys.insert((store, client), (tier as u8, n));
        n
    }

    /// `tier`'s window opens.
    pub fn open(&mut self, tier: usize) {
        let book = &mut self.books[tier];
        if book.state == TierState::Upcoming {
            book.state = TierState::Open;
        }
    }

    /// `tier`'s window closes: confirmed at or above its minimum, else cancelled with every
    /// order refunded (the refunds are booked here; the caller pays them back).
    pub fn close(&mut self, tier: usize) -> Closed {
        let (min, price) = (self.tiers[tier].min, self.tiers[tier].price);
        let book = &mut self.books[tier];
        if (book.orders.len() as u64) >= u64::from(min) {
            book.state = TierState::Confirmed;
            return Closed::Confirmed;
        }
        book.state = TierState::Cancelled;
        for _ in &book.orders {
            book.refunded += price;
            book.refunds += 1;
        }
        Closed::Cancelled(book.orders.clone())
    }

    /// `tier`'s ship date: a confirmed tier ships every order; returns them (none for a
    /// tier that was cancelled).
    pub fn ship(&mut self, tier: usize) -> &[PreOrder] {
        let book = &mut self.books[tier];
        if book.state != TierState::Confirmed {
            return &[];
        }
        book.state = TierState::Shipped;
        book.shipped = book.orders.len() as u32;
        &book.orders
    }

    /// Orders placed, over every tier.
    pub fn orders(&self) -> u64 {
        self.books.iter().map(|b| b.orders.len() as u64).sum()
    }

    /// Paid and refunded over every tier, and the number of refunds.
    pub fn paid(&self) -> Cents {
        self.books.iter().fold(Cents::ZERO, |a, b| a + b.paid)
    }

    pub fn refunded(&self) -> Cents {
        self.books.iter().fold(Cents::ZERO, |a, b| a + b.refunded)
    }

    pub fn refunds(&self) -> u64 {
        self.books.iter().map(|b| u64::from(b.refunds)).sum()
    }

    /// `Err((invariant, detail))` if the books are broken (see the module doc).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let mut confirmed = Cents::ZERO;
        let mut held = Cents::ZERO;
        for (tier, book) in self.tiers.iter().zip(&self.books) {
            let orders = book.orders.len() as u64;
            if orders > u64::from(tier.max) {
                return Err((invariant::MAX, format!("tier {}: {orders} orders > maximum {}", tier.name, tier.max)));
            }
            let took = Cents(tier.price.0.saturating_mul(i64::try_from(orders).unwrap_or(i64::MAX)));
            let refunds_right = match book.state {
                TierState::Cancelled => {
                    book.refunded == book.paid && book.paid == took && u64::from(book.refunds) == orders
                }
                _ => book.refunded == Cents::ZERO && book.refunds == 0,
            };
            if !refunds_right {
                return Err((
                    invariant::REFUND,
                    format!(
                        "tier {} ({}): took {} for {orders} orders, refunded {} in {} refunds",
                        tier.name,
                        book.state.name(),
                        book.paid,
                        book.refunded,
                        book.refunds
                    ),
                ));
            }
            match book.state {
                TierState::Confirmed | TierState::Shipped => confirmed += took,
                TierState::Upcoming | TierState::Open => held += took,
                TierState::Cancelled => {}
            }
        }
        let (paid, refunded) = (self.paid(), self.refunded());
        if paid - refunded != confirmed + held {
            return Err((
                invariant::MONEY,
                format!(
                    "paid {paid} - refunded {refunded} != confirmed tiers' revenue {confirmed} + open tiers' takings {held}"
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
// Amounts are written major_minor: `20_00` is 20.00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    /// The seed example's two tiers (times in days since the sale's start).
    fn seed_tiers() -> Preorders {
        let day = |d: u64| SimTime::from_secs(d * 86_400);
        Preorders::new(vec![
            PreorderTier {
                name: "ship-25".into(),
                opens: day(0),
                closes: day(20),
                ships: day(24),
                price: Cents(20_00),
                min: 50,
                max: 100,
            },
            PreorderTier {
                name: "ship-15".into(),
                opens: day(0),
                closes: day(10),
                ships: day(14),
                price: Cents(25_00),
                min: 30,
                max: 60,
            },
        ])
    }

    fn place(p: &mut Preorders, n: u32) {
        for c in 0..n {
            let tier = p.choose().expect("a tier takes orders");
            p.order(tier, StoreIdx(0), c, c, SimTime::ZERO);
            assert_eq!(p.check(), Ok(()));
        }
    }

    #[test]
    fn the_cheapest_open_tier_takes_orders_until_it_is_full() {
        let mut p = seed_tiers();
        assert_eq!(p.choose(), None, "no window is open yet");
        p.open(0);
        p.open(1);
        place(&mut p, 100);
        assert_eq!(p.books[0].orders.len(), 100, "the cheaper tier fills first");
        assert!(p.books[0].full_at.is_some());
        assert_eq!(p.choose(), Some(1), "then the next cheapest");
        place(&mut p, 60);
        assert_eq!(p.choose(), None, "both full: nothing to pre-order, buy now");
        assert_eq!(p.orders(), 160);
    }

    #[test]
    fn a_tier_below_its_minimum_is_cancelled_and_refunded_exactly() {
        let mut p = seed_tiers();
        p.open(0);
        p.open(1);
        place(&mut p, 120);
        assert_eq!(p.close(1), Closed::Cancelled(p.books[1].orders.clone()), "20 of a minimum of 30");
        assert_eq!((p.books[1].refunded, p.books[1].refunds), (Cents(500_00), 20));
        assert_eq!(p.check(), Ok(()));
        assert!(p.ship(1).is_empty(), "a cancelled tier ships nothing");
        assert_eq!(p.close(0), Closed::Confirmed, "100 of a minimum of 50");
        assert_eq!(p.ship(0).len(), 100);
        assert_eq!(p.books[0].state, TierState::Shipped);
        assert_eq!(p.paid() - p.refunded(), Cents(2_000_00));
        assert_eq!(p.check(), Ok(()));
    }

    #[test]
    fn broken_books_name_their_invariant() {
        let mut p = seed_tiers();
        p.open(1);
        for c in 0..61 {
            p.order(1, StoreIdx(0), c, c, SimTime::ZERO);
        }
        assert_eq!(p.check().unwrap_err().0, invariant::MAX);
        let mut p = seed_tiers();
        p.open(1);
        place(&mut p, 5);
        p.close(1);
        p.books[1].refunded -= Cents(1);
        assert_eq!(p.check().unwrap_err().0, invariant::REFUND, "a cent not refunded");
        let mut p = seed_tiers();
        p.open(0);
        place(&mut p, 5);
        p.books[0].paid += Cents(1);
        assert_eq!(p.check().unwrap_err().0, invariant::MONEY);
    }

    #[test]
    fn a_keyed_retry_finds_its_order() {
        let mut p = seed_tiers();
        p.open(1);
        let n = p.order(1, StoreIdx(2), 7, 70, SimTime::ZERO);
        assert_eq!(p.keyed(StoreIdx(2), 7), Some((1, n)));
        assert_eq!(p.keyed(StoreIdx(1), 7), None);
    }
}
