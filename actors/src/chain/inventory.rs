//! The inventory centre: the chain's omnichannel view of stock, store by store.
//!
//! It knows each store's free stock (shelf + back room) only from the store's syncs, so it
//! lags the shelves by up to a sync interval plus the link's latency, and more during a
//! partition. The order centre routes on this view and takes the units it routes off it
//! at once (`CentreMsg::Allocate`), so two orders routed between syncs do not count on
//! the same unit; the store itself is the authority and refuses an order it cannot serve.

use crate::chain::spec::{ChainSpec, StoreIdx};
use crate::store::spec::SkuId;

#[derive(Clone, Debug)]
pub struct Inventory {
    skus: usize,
    /// `available[store * skus + sku]`: free units as last known.
    available: Vec<u32>,
    pub syncs_received: u64,
    pub allocations: u64,
}

impl Inventory {
    /// The view at the start of the day: every store's opening stock.
    pub fn new(spec: &ChainSpec) -> Inventory {
        let skus = spec.catalogue.len();
        let mut available = Vec::with_capacity(spec.stores.len() * skus);
        for store in &spec.stores {
            available.extend(store.world.store.catalogue.iter().map(|s| s.shelf + s.back_room));
        }
        Inventory { skus, available, syncs_received: 0, allocations: 0 }
    }

    /// Free units of `sku` at `store`, as the centre knows them.
    pub fn available(&self, store: StoreIdx, sku: SkuId) -> u32 {
        self.available[usize::from(store.0) * self.skus + sku.0 as usize]
    }

    /// Whether the view shows every line of `lines` at `store` (repeated SKUs counted).
    pub fn has_all(&self, store: StoreIdx, lines: &[SkuId]) -> bool {
        lines.iter().enumerate().all(|(i, sku)| {
            let wanted = lines[..=i].iter().filter(|s| *s == sku).count() as u32;
            self.available(store, *sku) >= wanted
        })
    }

    /// A store's sync: `available` units of `sku` free at `store`.
    pub fn set(&mut self, store: StoreIdx, sku: SkuId, available: u32) {
        self.syncs_received += 1;
        self.available[usize::from(store.0) * self.skus + sku.0 as usize] = available;
    }

    /// The order centre routed one unit of `sku` to `store`.
    pub fn allocate(&mut self, store: StoreIdx, sku: SkuId) {
        self.allocations += 1;
        let slot = &mut self.available[usize::from(store.0) * self.skus + sku.0 as usize];
        *slot = slot.saturating_sub(1);
    }
}
