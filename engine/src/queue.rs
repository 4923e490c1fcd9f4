//! The pending-event set: a 4-ary min-heap of inline entries, keyed by [`EventKey`].
//!
//! Why our own heap rather than `std::collections::BinaryHeap`: this is the kernel's hot
//! path, and three things measured worth 1.2× over the std heap on PHOLD (see
//! `benches/README.md`):
//! - Entries store the message inline (no box, no allocation per event) next to the key
//!   split in two `u64` words, so an entry for a small message is 24 bytes with 8-byte
//!   alignment (a `u128` field would force 16-byte alignment and 32-byte entries).
//! - The heap is 4-ary: half the depth of a binary heap, so half the entry moves per
//!   pop, and the smallest of four children is found by a branch-free tournament
//!   (which child wins is unpredictable, so branches would mispredict).
//! - Delivery takes the root out and leaves it vacant; the first event the handler sends
//!   fills the vacancy and sifts down once (Floyd's method: along the smallest children to
//!   the bottom, then up), instead of a pop's sift and then a push's.
//!
//! Entries compare by their `u128` rank alone, which is unique per event (see
//! [`crate::order`]), so the heap's result does not depend on insertion order.

use std::ptr;

use crate::{ActorId, EventKey, SimTime};

const ARITY: usize = 4;

/// A pending event: when, in what order, to whom, and the message itself.
pub(crate) struct Entry<M> {
    time: u64,
    tie: u64,
    pub(crate) to: ActorId,
    pub(crate) msg: M,
}

impl<M> Entry<M> {
    pub(crate) fn new(key: EventKey, to: ActorId, msg: M) -> Self {
        Entry { time: key.time().as_nanos(), tie: key.tie_breaker(), to, msg }
    }

    #[inline(always)]
    fn rank(&self) -> u128 {
        ((self.time as u128) << 64) | self.tie as u128
    }

    #[inline(always)]
    pub(crate) fn key(&self) -> EventKey {
        let tie = self.tie;
        EventKey::new(SimTime::from_nanos(self.time), ActorId((tie >> 32) as u32), tie as u32)
    }
}

pub(crate) struct EventQueue<M> {
    heap: Vec<Entry<M>>,
    /// The root has been moved out by `take_min` and not yet refilled: `heap[0]` holds
    /// stale bytes that must be overwritten, never read as an entry or dropped.
    vacant: bool,
}

impl<M: Clone> EventQueue<M> {
    /// A copy of the pending events (a fork of the simulation between run calls).
    ///
    /// # Panics
    /// While the root is vacant (during a delivery), which no caller outside a handler sees.
    pub(crate) fn duplicate(&self) -> Self {
        assert!(!self.vacant, "a queue is copied only between deliveries");
        let heap = self.heap.iter().map(|e| Entry { time: e.time, tie: e.tie, to: e.to, msg: e.msg.clone() }).collect();
        EventQueue { heap, vacant: false }
    }
}

impl<M> EventQueue<M> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        EventQueue { heap: Vec::with_capacity(capacity), vacant: false }
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len() - usize::from(self.vacant)
    }

    /// The time of the smallest entry. Not to be called while the root is vacant.
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        debug_assert!(!self.vacant, "peek while the root is vacant");
        self.heap.first().map(|e| SimTime::from_nanos(e.time))
    }

    /// Adds an entry. If the root is vacant (an event is being delivered), the entry takes
    /// its place and sifts down: one sift instead of a pop's and a push's.
    #[inline]
    pub(crate) fn push(&mut self, entry: Entry<M>) {
        if self.vacant {
            self.vacant = false;
            // SAFETY: the root slot is in bounds and vacant: its old entry was moved out by
            // `take_min`, so it is overwritten without being dropped.
            unsafe { ptr::write(self.heap.as_mut_ptr(), entry) };
            self.sift_down_to_bottom();
        } else {
            self.heap.push(entry);
            self.sift_up(self.heap.len() - 1);
        }
    }

    /// Moves the smallest entry out and leaves the root vacant until the next `push` or
    /// `settle`. The caller must call `settle` before the next `peek_time` or `take_min`.
    #[inline]
    pub(crate) fn take_min(&mut self) -> Option<Entry<M>> {
        self.settle();
        if self.heap.is_empty() {
            return None;
        }
        // SAFETY: index 0 is in bounds. Marking it vacant makes this read a move: the slot
        // is not read as an entry or dropped again before it is overwritten.
        let top = unsafe { ptr::read(self.heap.as_ptr()) };
        self.vacant = true;
        Some(top)
    }

    /// Refills a vacant root with the last entry (the second half of a classic pop).
    #[inline]
    pub(crate) fn settle(&mut self) {
        if !self.vacant {
            return;
        }
        self.vacant = false;
        let last = self.heap.len() - 1;
        // SAFETY: `last` is in bounds. Shrinking the length first means the last slot is
        // neither dropped nor read again; when it is not the root, its entry moves into the
        // vacant root, which is overwritten without being dropped.
        unsafe {
            self.heap.set_len(last);
            if last > 0 {
                let data = self.heap.as_mut_ptr();
                ptr::copy_nonoverlapping(data.add(last), data, 1);
                self.sift_down_to_bottom();
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn pop(&mut self) -> Option<Entry<M>> {
        let top = self.take_min();
        self.settle();
        top
    }

    /// Moves the entry at `pos` up until its parent ranks lower.
    #[inline(always)]
    fn sift_up(&mut self, mut pos: usize) {
        debug_assert!(pos < self.heap.len());
        // SAFETY: `pos` and every parent index are in bounds. The entry at `pos` is read
        // out once and written back once; in between, entries are moved with
        // `copy_nonoverlapping` into the one vacant slot, and nothing in the loop can
        // panic (integer comparisons only), so no entry is dropped twice or leaked.
        unsafe {
            let data = self.heap.as_mut_ptr();
            let moving = ptr::read(data.add(pos));
            let rank = moving.rank();
            while pos > 0 {
                let parent = (pos - 1) / ARITY;
                if (*data.add(parent)).rank() <= rank {
                    break;
                }
                ptr::copy_nonoverlapping(data.add(parent), data.add(pos), 1);
                pos = parent;
            }
            ptr::write(data.add(pos), moving);
        }
    }

    /// Floyd's sift: moves the root down along the smallest children to a leaf, then up.
    #[inline(always)]
    fn sift_down_to_bottom(&mut self) {
        let end = self.heap.len();
        let mut pos = 0;
        // SAFETY: as in `sift_up`: every index read is `< end`, the moving entry is read
        // once and written once, and the loop cannot panic.
        unsafe {
            let data = self.heap.as_mut_ptr();
            let rank = |i: usize| (*data.add(i)).rank();
            let moving = ptr::read(data);
            // Walk down the smallest of each full family of four children: a branch-free
            // tournament, since which child wins is unpredictable.
            let mut first = 1;
            while first + 3 < end {
                let (r0, r1, r2, r3) = (rank(first), rank(first + 1), rank(first + 2), rank(first + 3));
                let (a, ra) = if r1 < r0 { (first + 1, r1) } else { (first, r0) };
                let (b, rb) = if r3 < r2 { (first + 3, r3) } else { (first + 2, r2) };
                let best = if rb < ra { b } else { a };
                ptr::copy_nonoverlapping(data.add(best), data.add(pos), 1);
                pos = best;
                first = ARITY * pos + 1;
            }
            // A last, partial family.
            if first < end {
                let mut best = first;
                for child in first + 1..end {
                    if rank(child) < rank(best) {
                        best = child;
                    }
                }
                ptr::copy_nonoverlapping(data.add(best), data.add(pos), 1);
                pos = best;
            }
            ptr::write(data.add(pos), moving);
        }
        self.sift_up(pos);
    }
}

impl<M> Drop for EventQueue<M> {
    /// A queue dropped while its root is vacant (a handler panicked) must not drop the
    /// moved-out root; settling refills it first.
    fn drop(&mut self) {
        self.settle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the insertion order and interleaving of pops and deliveries (take the
        /// minimum, push while the root is vacant, settle), the queue yields the minimum
        /// pending key each time, and no message is lost or duplicated.
        #[test]
        fn yields_keys_in_order(ops in prop::collection::vec((0u8..4, 0u64..50, 0u32..4), 0..400)) {
            let mut q: EventQueue<Box<u32>> = EventQueue::with_capacity(0);
            let mut model: Vec<EventKey> = Vec::new();
            for (seq, (op, t, origin)) in ops.into_iter().enumerate() {
                let key = EventKey::new(SimTime::from_nanos(t), ActorId(origin), seq as u32);
                model.sort();
                let want = if model.is_empty() { None } else { Some(model[0]) };
                match op {
                    0 => {
                        prop_assert_eq!(q.pop().map(|e| (e.key(), *e.msg)), want.map(|k| (k, k.seq())));
                        if want.is_some() { model.remove(0); }
                    }
                    1 => {
                        // A delivery whose handler sends one event (the fused path).
                        prop_assert_eq!(q.take_min().map(|e| e.key()), want);
                        if want.is_some() { model.remove(0); }
                        q.push(Entry::new(key, ActorId(0), Box::new(seq as u32)));
                        model.push(key);
                        q.settle();
                    }
                    _ => {
                        q.push(Entry::new(key, ActorId(0), Box::new(seq as u32)));
                        model.push(key);
                    }
                }
                prop_assert_eq!(q.len(), model.len());
            }
            model.sort();
            let rest: Vec<EventKey> = std::iter::from_fn(|| q.pop()).map(|e| e.key()).collect();
            prop_assert_eq!(rest, model);
        }
    }

    #[test]
    fn dropping_with_a_vacant_root_drops_each_message_once() {
        let alive = std::rc::Rc::new(());
        let mut q = EventQueue::with_capacity(0);
        for t in 0..5 {
            q.push(Entry::new(EventKey::new(SimTime::from_nanos(t), ActorId(0), 0), ActorId(0), alive.clone()));
        }
        let taken = q.take_min().expect("five entries");
        assert_eq!(q.len(), 4);
        drop(q);
        assert_eq!(std::rc::Rc::strong_count(&alive), 2, "the taken message and this handle");
        drop(taken);
        assert_eq!(std::rc::Rc::strong_count(&alive), 1);
    }
}
