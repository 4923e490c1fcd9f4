//! The pending-event set: a 4-ary min-heap of inline entries, keyed by [`EventKey`].
//!
//! Why our own heap rather than `std::collections::BinaryHeap`: this is the kernel's hot
//! path. Each entry stores the message inline (no box, no allocation per event) next to
//! its key split in two `u64` words, so an entry for a small message is 24 bytes with
//! 8-byte alignment (a `u128` field would force 16-byte alignment and 32-byte entries).
//! The heap is 4-ary, halving the depth of a binary heap, and its four children share
//! cache lines. `pop` moves the last entry into the root's place and sifts it to the
//! bottom before sifting it up (Floyd's method), which saves a comparison per level
//! because the moved entry almost always belongs near the bottom.
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
}

impl<M> EventQueue<M> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        EventQueue { heap: Vec::with_capacity(capacity) }
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    #[inline]
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| SimTime::from_nanos(e.time))
    }

    #[inline]
    pub(crate) fn push(&mut self, entry: Entry<M>) {
        self.heap.push(entry);
        self.sift_up(self.heap.len() - 1);
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry<M>> {
        let mut top = self.heap.pop()?;
        if !self.heap.is_empty() {
            std::mem::swap(&mut top, &mut self.heap[0]);
            self.sift_down_to_bottom();
        }
        Some(top)
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
            let moving = ptr::read(data);
            loop {
                let first = ARITY * pos + 1;
                if first >= end {
                    break;
                }
                let last = (first + ARITY).min(end);
                let mut best = first;
                let mut best_rank = (*data.add(first)).rank();
                for child in first + 1..last {
                    let r = (*data.add(child)).rank();
                    if r < best_rank {
                        best = child;
                        best_rank = r;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the insertion order and interleaving of pops, the queue yields the
        /// minimum pending key each time, and no message is lost or duplicated.
        #[test]
        fn pops_in_key_order(ops in prop::collection::vec((any::<bool>(), 0u64..50, 0u32..4), 0..400)) {
            let mut q = EventQueue::with_capacity(0);
            let mut model: Vec<EventKey> = Vec::new();
            for (seq, (is_pop, t, origin)) in ops.into_iter().enumerate() {
                if is_pop {
                    model.sort();
                    let want = if model.is_empty() { None } else { Some(model.remove(0)) };
                    prop_assert_eq!(q.pop().map(|e| e.key()), want);
                } else {
                    let key = EventKey::new(SimTime::from_nanos(t), ActorId(origin), seq as u32);
                    q.push(Entry::new(key, ActorId(0), Box::new(seq)));
                    model.push(key);
                }
            }
            model.sort();
            let rest: Vec<EventKey> = std::iter::from_fn(|| q.pop()).map(|e| e.key()).collect();
            prop_assert_eq!(rest, model);
        }
    }
}
