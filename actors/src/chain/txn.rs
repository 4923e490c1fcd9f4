//! Transaction ids, and the log that makes a centre's updates idempotent.
//!
//! Every message that changes a centre's books (a payment or refund to settlement, an earn
//! or a redemption to the member centre) carries a [`TxnId`]: the [`TxnSource`] that sent
//! it and that source's sequence number. A message sent again (retried after a partition,
//! or delivered twice) carries the same id, and the centre applies it once: the
//! [`TxnLog`] says whether an id has been applied, and a repeat is answered with
//! [`Outcome::Duplicate`] and changes nothing.
//!
//! The assumption, stated once: each source numbers the messages it sends to one centre
//! densely, 0, 1, 2, … (one counter per source and centre), and every number is delivered
//! at least once. Messages may arrive out of order (latencies differ), by less than
//! [`TxnLog::WINDOW`] numbers: while number `n` is missing, numbers up to
//! `n + WINDOW − 1` are accepted. Per source the log keeps the lowest number not yet
//! applied (all below it have been) and a ring of `WINDOW` bits above it: 512 bytes per
//! source, constant time per message, no allocation after construction. A number beyond
//! the window is refused as a broken invariant ([`TxnError::invariant`]) rather than
//! guessed at: it means a message was lost or a source skipped numbers, and going on
//! would drop or double-count silently.

use std::fmt;

use crate::chain::spec::StoreIdx;

/// Who numbered a transaction. In a chain: store `s` is source `s`, the order centre
/// (online orders) comes after the stores ([`TxnSource::online`]), and the flash sale's
/// stock holder (the sale's payments, pre-orders paid and refunded) after it
/// ([`TxnSource::flash`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TxnSource(pub u32);

impl TxnSource {
    /// The source of the messages store `store` sends.
    pub fn store(store: StoreIdx) -> TxnSource {
        TxnSource(u32::from(store.0))
    }

    /// The source of online orders (the order centre) in a chain of `store_count` stores.
    pub fn online(store_count: usize) -> TxnSource {
        TxnSource(u32::try_from(store_count).expect("StoreIdx is a u16, so a chain has at most 65,536 stores"))
    }

    /// The source of the flash sale's payments and refunds (the stock holder) in a chain
    /// of `store_count` stores.
    pub fn flash(store_count: usize) -> TxnSource {
        TxnSource(Self::online(store_count).0 + 1)
    }

    /// The number of sources of a chain of `store_count` stores: the stores, the order
    /// centre and the flash sale's stock holder.
    pub fn chain_sources(store_count: usize) -> usize {
        store_count + 2
    }
}

/// One transaction: the source's `seq`-th message to a centre.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TxnId {
    pub source: TxnSource,
    pub seq: u64,
}

impl TxnId {
    pub fn new(source: TxnSource, seq: u64) -> TxnId {
        TxnId { source, seq }
    }
}

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source.0, self.seq)
    }
}

/// What a centre did with a transaction.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// Applied now, with this result.
    Applied(T),
    /// Applied before: nothing changed.
    Duplicate,
}

impl<T> Outcome<T> {
    /// The result, if the transaction was applied now.
    pub fn applied(self) -> Option<T> {
        match self {
            Outcome::Applied(t) => Some(t),
            Outcome::Duplicate => None,
        }
    }

    pub fn is_duplicate(&self) -> bool {
        matches!(self, Outcome::Duplicate)
    }
}

/// A transaction the log cannot judge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    #[error("transaction {txn} is from source {}, but the centre knows {sources} sources", txn.source.0)]
    UnknownSource { txn: TxnId, sources: usize },
    #[error(
        "transaction {txn} is {} numbers ahead of the oldest one not yet applied ({floor}); the window is {}",
        txn.seq - floor,
        TxnLog::WINDOW
    )]
    OutOfWindow { txn: TxnId, floor: u64 },
}

impl TxnError {
    /// The invariant a run stops with.
    pub fn invariant(&self) -> &'static str {
        match self {
            TxnError::UnknownSource { .. } => "transactions: known source",
            TxnError::OutOfWindow { .. } => "transactions: within the reorder window",
        }
    }
}

const WORDS: usize = 64;

/// One source's applied numbers: all below `floor`, and those set in the ring above it.
#[derive(Clone, Debug)]
struct Window {
    floor: u64,
    bits: [u64; WORDS],
}

impl Window {
    fn bit(seq: u64) -> (usize, u64) {
        let i = (seq % TxnLog::WINDOW) as usize;
        (i / 64, 1 << (i % 64))
    }

    fn is_set(&self, seq: u64) -> bool {
        let (word, mask) = Window::bit(seq);
        self.bits[word] & mask != 0
    }
}

/// The transactions a centre has applied, per source. See the module doc for what it
/// assumes of the sources.
#[derive(Clone, Debug)]
pub struct TxnLog {
    windows: Vec<Window>,
}

impl TxnLog {
    /// How far out of order a source's messages may arrive.
    pub const WINDOW: u64 = 64 * WORDS as u64;

    /// A log for sources `0..sources`, nothing applied.
    pub fn new(sources: usize) -> TxnLog {
        TxnLog { windows: vec![Window { floor: 0, bits: [0; WORDS] }; sources] }
    }

    pub fn sources(&self) -> usize {
        self.windows.len()
    }

    /// The lowest number of `source` not yet applied (every lower one has been).
    pub fn floor(&self, source: TxnSource) -> Option<u64> {
        self.windows.get(source.0 as usize).map(|w| w.floor)
    }

    fn window(&self, txn: TxnId) -> Result<&Window, TxnError> {
        let w = self
            .windows
            .get(txn.source.0 as usize)
            .ok_or(TxnError::UnknownSource { txn, sources: self.windows.len() })?;
        if txn.seq >= w.floor && txn.seq - w.floor >= TxnLog::WINDOW {
            return Err(TxnError::OutOfWindow { txn, floor: w.floor });
        }
        Ok(w)
    }

    /// Whether `txn` has been applied. An unknown source or a number beyond the window is
    /// an error (see the module doc).
    pub fn is_applied(&self, txn: TxnId) -> Result<bool, TxnError> {
        let w = self.window(txn)?;
        Ok(txn.seq < w.floor || w.is_set(txn.seq))
    }

    /// Records `txn` as applied; `Ok(false)` if it already was (then nothing changes).
    pub fn mark_applied(&mut self, txn: TxnId) -> Result<bool, TxnError> {
        if self.is_applied(txn)? {
            return Ok(false);
        }
        let w = &mut self.windows[txn.source.0 as usize];
        let (word, mask) = Window::bit(txn.seq);
        w.bits[word] |= mask;
        while w.is_set(w.floor) {
            let (word, mask) = Window::bit(w.floor);
            w.bits[word] &= !mask;
            w.floor += 1;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(source: u32, seq: u64) -> TxnId {
        TxnId::new(TxnSource(source), seq)
    }

    #[test]
    fn each_number_is_applied_once_in_any_order_within_the_window() {
        let mut log = TxnLog::new(2);
        for seq in [3, 0, 2, 1, 5] {
            assert_eq!(log.mark_applied(txn(0, seq)), Ok(true), "seq {seq}");
        }
        for seq in 0..=3 {
            assert_eq!(log.is_applied(txn(0, seq)), Ok(true));
            assert_eq!(log.mark_applied(txn(0, seq)), Ok(false));
        }
        assert_eq!(log.floor(TxnSource(0)), Some(4));
        assert_eq!(log.is_applied(txn(0, 4)), Ok(false));
        assert_eq!(log.is_applied(txn(0, 5)), Ok(true));
        // The other source is untouched.
        assert_eq!(log.is_applied(txn(1, 0)), Ok(false));
    }

    #[test]
    fn the_ring_is_reused_as_the_floor_advances() {
        let mut log = TxnLog::new(1);
        for seq in 0..3 * TxnLog::WINDOW {
            assert_eq!(log.mark_applied(txn(0, seq)), Ok(true));
        }
        assert_eq!(log.floor(TxnSource(0)), Some(3 * TxnLog::WINDOW));
        assert_eq!(log.is_applied(txn(0, 3 * TxnLog::WINDOW)), Ok(false));
        assert_eq!(log.is_applied(txn(0, 0)), Ok(true));
    }

    #[test]
    fn beyond_the_window_and_unknown_sources_are_named_errors() {
        let mut log = TxnLog::new(1);
        let far = txn(0, TxnLog::WINDOW);
        let err = log.mark_applied(far).unwrap_err();
        assert_eq!(err, TxnError::OutOfWindow { txn: far, floor: 0 });
        assert_eq!(err.invariant(), "transactions: within the reorder window");
        assert_eq!(log.mark_applied(txn(0, TxnLog::WINDOW - 1)), Ok(true));
        let err = log.is_applied(txn(1, 0)).unwrap_err();
        assert_eq!(err.invariant(), "transactions: known source");
    }
}
