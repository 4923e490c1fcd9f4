//! The store: shelf and back-room stock, prices, restocking staff, and scheduled
//! disruptions. Stock moves only here, one message at a time, so it is conserved by
//! construction and checked at the end: for every SKU,
//! `starting stock + received + sensed gain = shelf + back room + in baskets + sold +
//! reserved + handed over + sent + sensed loss`. A store on its own reserves, hands over,
//! sends and receives nothing; a store of a chain reserves units for orders, hands them
//! over to their customers, and sends and receives the units of ship-to-store orders (in
//! transit between two stores). A live twin's shelf is set from the real smart shelf's
//! weight (see [`crate::store::sensors`]): the units it finds above the model's are a
//! sensed gain (stock found), those below a sensed loss (shrinkage found).

use std::collections::VecDeque;

use storetwin_engine::{Context, SimDuration, SimTime};

use crate::money::Cents;
use crate::store::floor::Floor;
use crate::store::metrics::Metrics;
use crate::store::spec::{CategoryId, Cell, DeviceId, DeviceKind, DisruptionKind, SkuId, StoreSpec, WorldSpec};
use crate::store::world::{Layout, StoreMsg, View};

#[derive(Clone, Debug, Default)]
pub struct Store {
    pub shelf: Vec<u32>,
    pub back_room: Vec<u32>,
    pub in_baskets: Vec<u32>,
    pub sold: Vec<u32>,
    /// Units held for online orders (no shopper can take them), and units of orders that
    /// have left the store (collected, or handed to a courier or carrier).
    pub reserved: Vec<u32>,
    pub handed_over: Vec<u32>,
    /// Units of ship-to-store orders this store fulfilled that left it in transit to the
    /// ordering store, and units that arrived here from the fulfilling store (held for
    /// their order, then collected or put in the back room: this store's stock).
    pub sent: Vec<u32>,
    pub received: Vec<u32>,
    /// Units a real smart shelf's weight added to the model's shelf (found), and removed
    /// from it (missing): see [`Store::correct_shelf`].
    pub sensed_gain: Vec<u32>,
    pub sensed_loss: Vec<u32>,
    pub initial: Vec<u32>,
    /// The price the till charges now.
    pub price: Vec<Cents>,
    list_price: Vec<Cents>,
    capacity: Vec<u32>,
    category: Vec<CategoryId>,
    skus_of_category: Vec<Vec<SkuId>>,
    /// Cumulative popularity of the categories, and of the SKUs within each category.
    category_weights: Vec<f64>,
    sku_weights: Vec<Vec<f64>>,
    /// The ESLs showing each category's prices (none: paper labels, always right).
    pub esls_of_category: Vec<Vec<DeviceId>>,
    /// The smart shelves weighing each category.
    pub smart_shelf_of_category: Vec<Vec<DeviceId>>,
    /// SKUs priced below their list price now (promotions), and a bit per category
    /// (ids below 64) that has one.
    pub promos: Vec<SkuId>,
    pub promo_categories: u64,
    staff_free: u32,
    restock_queue: VecDeque<SkuId>,
    restock_pending: Vec<bool>,
}

/// Running sums of `weights` (negative ones count as zero), for [`pick`].
pub(crate) fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .map(|w| {
            total += w.max(0.0);
            total
        })
        .collect()
}

/// The index a uniform draw `u` falls on in running sums from [`cumulative`].
pub(crate) fn pick(cumulative: &[f64], u: f64) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    cumulative.partition_point(|c| *c <= u * total).min(cumulative.len().saturating_sub(1))
}

impl Store {
    /// An empty store, for views in which the store is the actor acting.
    pub const EMPTY: Store = Store {
        shelf: Vec::new(),
        back_room: Vec::new(),
        in_baskets: Vec::new(),
        sold: Vec::new(),
        reserved: Vec::new(),
        handed_over: Vec::new(),
        sent: Vec::new(),
        received: Vec::new(),
        sensed_gain: Vec::new(),
        sensed_loss: Vec::new(),
        initial: Vec::new(),
        price: Vec::new(),
        list_price: Vec::new(),
        capacity: Vec::new(),
        category: Vec::new(),
        skus_of_category: Vec::new(),
        category_weights: Vec::new(),
        sku_weights: Vec::new(),
        esls_of_category: Vec::new(),
        smart_shelf_of_category: Vec::new(),
        promos: Vec::new(),
        promo_categories: 0,
        staff_free: 0,
        restock_queue: VecDeque::new(),
        restock_pending: Vec::new(),
    };

    pub fn new(spec: &StoreSpec, floor: &Floor) -> Self {
        let n = spec.catalogue.len();
        let mut skus_of_category = vec![Vec::new(); spec.categories.len()];
        for (i, sku) in spec.catalogue.iter().enumerate() {
            skus_of_category[usize::from(sku.category.0)].push(SkuId(i as u32));
        }
        let sku_weights = skus_of_category
            .iter()
            .map(|skus| cumulative(skus.iter().map(|s| spec.catalogue[s.0 as usize].popularity)))
            .collect();
        // Only categories that have SKUs and a reachable shelf can be wanted.
        let category_weights = cumulative(spec.categories.iter().enumerate().map(|(c, cat)| {
            if skus_of_category[c].is_empty() || floor.access[c].is_empty() { 0.0 } else { cat.popularity }
        }));
        let mut esls_of_category = vec![Vec::new(); spec.categories.len()];
        let mut smart_shelf_of_category = vec![Vec::new(); spec.categories.len()];
        for (i, d) in spec.devices.iter().enumerate() {
            for c in crate::store::device::categories_next_to(d.cell, &spec.floor) {
                match d.kind {
                    DeviceKind::Esl { .. } => esls_of_category[usize::from(c.0)].push(DeviceId(i as u16)),
                    DeviceKind::SmartShelf { .. } => smart_shelf_of_category[usize::from(c.0)].push(DeviceId(i as u16)),
                    _ => {}
                }
            }
        }
        Store {
            shelf: spec.catalogue.iter().map(|s| s.shelf).collect(),
            back_room: spec.catalogue.iter().map(|s| s.back_room).collect(),
            in_baskets: vec![0; n],
            sold: vec![0; n],
            reserved: vec![0; n],
            handed_over: vec![0; n],
            sent: vec![0; n],
            received: vec![0; n],
            sensed_gain: vec![0; n],
            sensed_loss: vec![0; n],
            initial: spec.catalogue.iter().map(|s| s.shelf + s.back_room).collect(),
            price: spec.catalogue.iter().map(|s| s.price).collect(),
            list_price: spec.catalogue.iter().map(|s| s.price).collect(),
            capacity: spec.catalogue.iter().map(|s| s.shelf_capacity).collect(),
            category: spec.catalogue.iter().map(|s| s.category).collect(),
            skus_of_category,
            category_weights,
            sku_weights,
            esls_of_category,
            smart_shelf_of_category,
            promos: Vec::new(),
            promo_categories: 0,
            staff_free: spec.replenishment.staff,
            restock_queue: VecDeque::new(),
            restock_pending: vec![false; n],
        }
    }

    pub fn category_of(&self, sku: SkuId) -> CategoryId {
        self.category[sku.0 as usize]
    }

    /// The price on the catalogue at the start of the day: what shoppers expect to pay.
    pub fn list_price(&self, sku: SkuId) -> Cents {
        self.list_price[sku.0 as usize]
    }

    /// The price on the label a shopper standing at `cell` reads: that of the nearest ESL
    /// of the SKU's category (which may lag or be stale), or the till price where labels
    /// are paper.
    pub fn shown_price(&self, sku: SkuId, cell: Cell, view: &View<'_>) -> Cents {
        let till = self.price[sku.0 as usize];
        let esls = &self.esls_of_category[usize::from(self.category_of(sku).0)];
        let nearest = esls.iter().map(|d| &view.devices[usize::from(d.0)]).min_by(|a, b| {
            view.floor.metres(a.cell, cell).total_cmp(&view.floor.metres(b.cell, cell)).then(a.id.cmp(&b.id))
        });
        nearest.and_then(|d| d.shown_price(sku)).unwrap_or(till)
    }

    pub fn draw_category(&self, u: f64) -> CategoryId {
        CategoryId(pick(&self.category_weights, u) as u16)
    }

    pub fn draw_sku(&self, category: CategoryId, u: f64) -> SkuId {
        let c = usize::from(category.0);
        self.skus_of_category[c][pick(&self.sku_weights[c], u)]
    }

    /// Another SKU of the same category that is on the shelf.
    pub fn substitute(&self, sku: SkuId) -> Option<SkuId> {
        self.skus_of_category[usize::from(self.category_of(sku).0)]
            .iter()
            .copied()
            .find(|s| *s != sku && self.shelf[s.0 as usize] > 0)
    }

    pub fn skus_in(&self, category: CategoryId) -> &[SkuId] {
        &self.skus_of_category[usize::from(category.0)]
    }

    /// `Err` names the first SKU whose stock does not add up.
    pub fn check_conservation(&self) -> Result<(), String> {
        for i in 0..self.shelf.len() {
            let now = u64::from(self.shelf[i]) + u64::from(self.back_room[i]) + u64::from(self.in_baskets[i]);
            let orders = u64::from(self.reserved[i]) + u64::from(self.handed_over[i]) + u64::from(self.sent[i]);
            let total = now + u64::from(self.sold[i]) + orders + u64::from(self.sensed_loss[i]);
            let came = u64::from(self.initial[i]) + u64::from(self.received[i]) + u64::from(self.sensed_gain[i]);
            if total != came {
                return Err(format!(
                    "SKU {i}: shelf {} + back room {} + in baskets {} + sold {} + reserved {} + handed over {} \
                     + sent {} + sensed loss {} != starting {} + received {} + sensed gain {}",
                    self.shelf[i],
                    self.back_room[i],
                    self.in_baskets[i],
                    self.sold[i],
                    self.reserved[i],
                    self.handed_over[i],
                    self.sent[i],
                    self.sensed_loss[i],
                    self.initial[i],
                    self.received[i],
                    self.sensed_gain[i]
                ));
            }
        }
        Ok(())
    }

    /// Sets the shelf of `sku` to the `units` a real smart shelf weighed, booking the
    /// difference as a sensed gain or loss; baskets, back room and orders are untouched.
    /// Returns the model's units just before.
    pub fn correct_shelf(&mut self, sku: SkuId, units: u32) -> u32 {
        let i = sku.0 as usize;
        let before = self.shelf[i];
        if units >= before {
            self.sensed_gain[i] += units - before;
        } else {
            self.sensed_loss[i] += before - units;
        }
        self.shelf[i] = units;
        before
    }

    /// The till charges `price` for `sku` from now on; every ESL of its category is sent
    /// the price, which it shows after its latency (if it works).
    fn change_price(
        &mut self,
        sku: SkuId,
        price: Cents,
        view: &View<'_>,
        metrics: &mut Metrics,
        ctx: &mut Context<'_, StoreMsg>,
    ) {
        self.price[sku.0 as usize] = price;
        metrics.price_changes += 1;
        self.promos.retain(|s| *s != sku);
        if price < self.list_price(sku) {
            self.promos.push(sku);
        }
        self.promo_categories =
            self.promos.iter().map(|s| self.category_of(*s).0).filter(|c| *c < 64).fold(0, |mask, c| mask | 1 << c);
        for &esl in &self.esls_of_category[usize::from(self.category_of(sku).0)] {
            let latency = match view.devices[usize::from(esl.0)].kind {
                DeviceKind::Esl { latency } => latency,
                _ => SimDuration::ZERO,
            };
            ctx.send(view.layout.device(esl), latency, StoreMsg::PriceUpdate { sku, price });
        }
    }

    /// Reserves one unit of each line (the back room first, then the shelf), all or none.
    fn reserve(&mut self, lines: &[SkuId]) -> bool {
        if lines.is_empty() {
            return false;
        }
        let mut need: Vec<(SkuId, u32)> = Vec::new();
        for sku in lines {
            match need.iter_mut().find(|(s, _)| s == sku) {
                Some((_, n)) => *n += 1,
                None => need.push((*sku, 1)),
            }
        }
        if need.iter().any(|(s, n)| self.shelf[s.0 as usize] + self.back_room[s.0 as usize] < *n) {
            return false;
        }
        for (sku, n) in need {
            let i = sku.0 as usize;
            let from_back = n.min(self.back_room[i]);
            self.back_room[i] -= from_back;
            self.shelf[i] -= n - from_back;
            self.reserved[i] += n;
        }
        true
    }

    fn request_restock(&mut self, sku: SkuId) {
        let i = sku.0 as usize;
        if !self.restock_pending[i] && self.back_room[i] > 0 {
            self.restock_pending[i] = true;
            self.restock_queue.push_back(sku);
        }
    }

    fn dispatch_staff(&mut self, spec: &StoreSpec, ctx: &mut Context<'_, StoreMsg>) {
        while self.staff_free > 0 {
            let Some(sku) = self.restock_queue.pop_front() else { return };
            self.staff_free -= 1;
            let trip = SimDuration::from_secs_f64(spec.replenishment.trip.sample(ctx.rng()).max(0.0));
            ctx.schedule(trip, StoreMsg::RestockDone { sku });
        }
    }
}

/// Schedules the scenario's disruptions (start and end).
pub fn start(spec: &WorldSpec, _layout: Layout, ctx: &mut Context<'_, StoreMsg>) {
    if let Some(round) = spec.store.replenishment.round {
        ctx.schedule(round, StoreMsg::StaffRound);
    }
    for (i, d) in spec.store.disruptions.iter().enumerate() {
        let index = i as u16;
        ctx.schedule(d.at.saturating_since(SimTime::ZERO), StoreMsg::Disruption { index, start: true });
        if let Some(until) = d.until {
            ctx.schedule(until.saturating_since(SimTime::ZERO), StoreMsg::Disruption { index, start: false });
        }
    }
}

pub fn handle(
    store: &mut Store,
    msg: StoreMsg,
    view: &View<'_>,
    metrics: &mut Metrics,
    ctx: &mut Context<'_, StoreMsg>,
) {
    match msg {
        StoreMsg::Pick { shopper, sku } => {
            let i = sku.0 as usize;
            let reply = if store.shelf[i] > 0 {
                store.shelf[i] -= 1;
                store.in_baskets[i] += 1;
                StoreMsg::Picked { sku, price: store.price[i] }
            } else {
                StoreMsg::OutOfStock { sku }
            };
            ctx.send(view.layout.shopper(shopper), SimDuration::ZERO, reply);
        }
        StoreMsg::Return { sku } => {
            let i = sku.0 as usize;
            if store.in_baskets[i] == 0 {
                ctx.fail("stock conservation", format!("SKU {i} returned but none was in a basket"));
                return;
            }
            store.in_baskets[i] -= 1;
            store.shelf[i] += 1;
        }
        StoreMsg::CheckedOut { shopper } => {
            let s = &view.shoppers[shopper.0 as usize];
            for sku in &s.basket {
                let i = sku.0 as usize;
                if store.in_baskets[i] == 0 {
                    ctx.fail("stock conservation", format!("SKU {i} sold but none was in a basket"));
                    return;
                }
                store.in_baskets[i] -= 1;
                store.sold[i] += 1;
            }
            metrics.items_sold += s.basket.len() as u64;
            metrics.sales += s.basket_value;
        }
        StoreMsg::LowStock { sku } => {
            metrics.low_stock_alerts += 1;
            store.request_restock(sku);
            store.dispatch_staff(&view.spec.store, ctx);
        }
        StoreMsg::RestockDone { sku } => {
            let i = sku.0 as usize;
            let units = store.capacity[i].saturating_sub(store.shelf[i]).min(store.back_room[i]);
            store.shelf[i] += units;
            store.back_room[i] -= units;
            metrics.restocked_units += u64::from(units);
            metrics.restock_trips += 1;
            store.staff_free += 1;
            store.restock_pending[i] = false;
            store.dispatch_staff(&view.spec.store, ctx);
        }
        // Staff rounds end at closing (a chain's run may go on for its centres).
        StoreMsg::StaffRound if ctx.now() > SimTime::ZERO.saturating_add(view.spec.duration) => {}
        StoreMsg::StaffRound => {
            metrics.staff_rounds += 1;
            let spec = &view.spec.store;
            for i in 0..store.shelf.len() {
                let watched = store.smart_shelf_of_category[usize::from(store.category[i].0)]
                    .iter()
                    .any(|d| view.devices[usize::from(d.0)].is_up());
                if !watched && store.shelf[i] <= spec.catalogue[i].reorder_at {
                    store.request_restock(SkuId(i as u32));
                }
            }
            store.dispatch_staff(spec, ctx);
            if let Some(round) = spec.replenishment.round {
                ctx.schedule(round, StoreMsg::StaffRound);
            }
        }
        StoreMsg::QueueLong { lane } => {
            // Lane policy: open a closed lane of the same kind that nothing disrupts.
            let long = &view.lanes[usize::from(lane.0)];
            let can_open =
                |l: &&crate::store::lane::Lane| l.kind == long.kind && !l.open && !l.down && !l.closed_by_disruption;
            // A closed lane of the same line first (it serves that queue), else any of the kind.
            let closed = view.lanes.iter().filter(can_open).find(|l| l.line == long.line);
            let closed = closed.or_else(|| view.lanes.iter().find(can_open));
            if let Some(l) = closed {
                ctx.send(
                    view.layout.lane(l.id),
                    SimDuration::ZERO,
                    StoreMsg::SetLaneOpen { open: true, by_policy: true },
                );
            }
        }
        StoreMsg::Disruption { index, start } => {
            let Some(d) = view.spec.store.disruptions.get(usize::from(index)) else { return };
            let layout = view.layout;
            match d.what {
                DisruptionKind::DeviceOffline(dev) => {
                    ctx.send(layout.device(dev), SimDuration::ZERO, StoreMsg::SetDeviceUp { up: !start })
                }
                DisruptionKind::DeviceDegraded { device, accuracy } => {
                    let per_mille = if start { (accuracy * 1000.0).round().clamp(1.0, 1000.0) as u16 } else { 1000 };
                    ctx.send(layout.device(device), SimDuration::ZERO, StoreMsg::SetAccuracy { per_mille })
                }
                DisruptionKind::LaneClosed(lane) => ctx.send(
                    layout.lane(lane),
                    SimDuration::ZERO,
                    StoreMsg::SetLaneClosedByDisruption { closed: start },
                ),
                DisruptionKind::PosOutage(lane) => {
                    ctx.send(layout.lane(lane), SimDuration::ZERO, StoreMsg::SetPosDown { down: start })
                }
                DisruptionKind::PriceChange { sku, price } if start => {
                    store.change_price(sku, price, view, metrics, ctx)
                }
                DisruptionKind::PriceChange { .. } => {}
            }
        }
        StoreMsg::SetPrice { sku, price } => store.change_price(sku, price, view, metrics, ctx),
        StoreMsg::ReserveOrder { order } => {
            let Some(office) = view.office.as_deref() else {
                ctx.fail("message routing", "a store without an office got an order");
                return;
            };
            let lines = office.orders.get(&order).map_or(&[][..], |o| &o.lines[..]);
            let ok = store.reserve(lines);
            if let Some(to) = view.layout.office() {
                ctx.send(to, SimDuration::ZERO, StoreMsg::OrderReserved { order, ok });
            }
        }
        StoreMsg::HandOver { sku } | StoreMsg::ReturnUnit { sku } | StoreMsg::SendUnit { sku } => {
            let i = sku.0 as usize;
            if store.reserved[i] == 0 {
                ctx.fail("stock conservation", format!("SKU {i} left an order but none was reserved"));
                return;
            }
            store.reserved[i] -= 1;
            match msg {
                StoreMsg::HandOver { .. } => store.handed_over[i] += 1,
                StoreMsg::SendUnit { .. } => store.sent[i] += 1,
                _ => store.back_room[i] += 1,
            }
        }
        StoreMsg::ReceiveUnit { sku } => {
            let i = sku.0 as usize;
            store.received[i] += 1;
            store.reserved[i] += 1;
        }
        StoreMsg::ShelfWeighed { device, sku, grams } => {
            crate::store::sensors::shelf_weighed(store, device, sku, grams, view, metrics, ctx.now())
        }
        other => ctx.fail("message routing", format!("store got {other:?}")),
    }
}
