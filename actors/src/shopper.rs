//! The shopper: arrives, walks the floor cell by cell to the shelves on their list, reads
//! the labels, picks from the shelf (or substitutes, orders at a kiosk, or gives up),
//! chooses a checkout queue by expected wait, balks or reneges, pays, and leaves.

use rand::RngExt;
use storetwin_engine::{Context, SimDuration, SimTime};

use crate::floor::{NO_ZONE, Target, UNREACHABLE};
use crate::metrics::{LostCause, Metrics};
use crate::money::Cents;
use crate::spec::{Cell, DeviceKind, LaneKind, Payment, SegmentId, SegmentSpec, SkuId};
use crate::world::{QueueRef, ShopperId, StoreMsg, View};

/// Seconds a kiosk order takes.
pub const KIOSK_S: u64 = 60;

/// How often a shopper waiting at a lane looks at the other queues.
pub const LOOK_AROUND: SimDuration = SimDuration::from_secs(30);

/// A shopper moves to another lane when it has at least this many fewer people ahead.
pub const JOCKEY_GAIN: usize = 2;

/// Impulse buying: a shopper passing a shelf whose label shows a price cut of fraction
/// `d` adds the item with probability `min(IMPULSE_PER_DISCOUNT × d × price sensitivity,
/// IMPULSE_MAX)`, once per promotion.
pub const IMPULSE_PER_DISCOUNT: f64 = 2.0;
pub const IMPULSE_MAX: f64 = 0.5;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ShopperState {
    /// Not arrived yet.
    #[default]
    Outside,
    Walking,
    AtShelf,
    AwaitingPick,
    AtKiosk,
    Queued,
    Reneging,
    InService,
    Left,
}

#[derive(Clone, Debug, Default)]
pub struct Shopper {
    pub arrival: SimTime,
    pub segment: SegmentId,
    pub member: bool,
    pub app: bool,
    pub payment: Payment,
    pub step: SimDuration,
    pub patience: SimDuration,
    /// Items still to fetch.
    pub list: Vec<SkuId>,
    /// Items picked, and what they cost at the shelf.
    pub basket: Vec<SkuId>,
    pub basket_value: Cents,
    pub cell: Cell,
    pub target: Option<Target>,
    pub current: Option<SkuId>,
    pub kiosk_sku: Option<SkuId>,
    pub state: ShopperState,
    pub cell_since: SimTime,
    pub ticket: u32,
    pub queue: Option<QueueRef>,
    /// Has paid for the basket (it is sold and leaves with them).
    pub paid: bool,
    /// Uniform draw deciding whether WiFi probes can see this shopper's phone: a probe
    /// with detection share `p` sees it iff `phone < p` (WiFi off, MAC randomisation).
    pub phone: f64,
    /// Identified as a member (face camera or WiFi portal login).
    pub identified: bool,
    /// Moving to this lane's queue from another (jockeying).
    jockey_to: Option<crate::spec::LaneId>,
    /// When the shopper first joined a checkout queue (patience runs from here).
    queued_since: SimTime,
    /// Promotions already considered, by SKU (a shopper decides once per promotion).
    promos_seen: Vec<SkuId>,
    zones_visited: u64,
    zones_bought: u64,
    beacons: u32,
    choices: u8,
}

impl Shopper {
    pub fn new(arrival: SimTime, segment: SegmentId) -> Self {
        Shopper { arrival, segment, ..Shopper::default() }
    }

    pub fn is_inside(&self) -> bool {
        !matches!(self.state, ShopperState::Outside | ShopperState::Left)
    }

    /// Draws who this shopper is and what they want (from their own stream, first, so the
    /// same shopper wants the same things in every layout), and schedules the arrival.
    pub fn start(&mut self, view: &View<'_>, ctx: &mut Context<'_, StoreMsg>) {
        let store = &view.spec.store;
        let seg = &store.segments[usize::from(self.segment.0)];
        let rng = ctx.rng();
        self.member = rng.random::<f64>() < seg.member_share;
        self.app = rng.random::<f64>() < seg.app_share;
        self.payment = draw_payment(seg, rng.random::<f64>());
        self.phone = rng.random::<f64>();
        let size = seg.basket.sample(rng).round().max(1.0) as usize;
        let mut list = Vec::with_capacity(size);
        for _ in 0..size {
            let category = view.store.draw_category(rng.random::<f64>());
            list.push(view.store.draw_sku(category, rng.random::<f64>()));
        }
        self.list = list;
        self.basket = Vec::with_capacity(size);
        let speed = seg.speed_mps.sample(rng).max(0.2);
        self.step = SimDuration::from_secs_f64(view.floor.cell_m / speed);
        self.patience = SimDuration::from_secs_f64(seg.patience_s.sample(rng).max(0.0));
        ctx.schedule(self.arrival.saturating_since(ctx.now()), StoreMsg::Arrive);
    }
}

fn draw_payment(seg: &SegmentSpec, u: f64) -> Payment {
    let p = seg.payment;
    let shares = [p.mobile_qr, p.card, p.cash, p.prepaid];
    let mut acc = 0.0;
    for (method, share) in Payment::ALL.iter().zip(shares) {
        acc += share;
        if u < acc {
            return *method;
        }
    }
    Payment::Card
}

/// Everything a shopper's handler needs besides the shopper.
struct Act<'v, 'a, 'c, 'm> {
    id: ShopperId,
    view: &'v View<'a>,
    metrics: &'m mut Metrics,
    inside: &'m mut Vec<ShopperId>,
    ctx: &'m mut Context<'c, StoreMsg>,
}

pub fn handle(
    s: &mut Shopper,
    id: ShopperId,
    msg: StoreMsg,
    view: &View<'_>,
    metrics: &mut Metrics,
    inside: &mut Vec<ShopperId>,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let mut a = Act { id, view, metrics, inside, ctx };
    match msg {
        StoreMsg::Arrive => s.enter(&mut a),
        StoreMsg::Step => s.walk(&mut a),
        StoreMsg::ShelfDone => s.at_shelf(&mut a),
        StoreMsg::Picked { sku, price } => {
            s.basket.push(sku);
            s.basket_value += price;
            a.metrics.items_picked += 1;
            s.mark_bought_in_zone(&mut a);
            s.current = None;
            s.next_leg(&mut a);
        }
        StoreMsg::OutOfStock { sku } => s.out_of_stock(sku, &mut a),
        StoreMsg::KioskDone => s.kiosk_done(&mut a),
        StoreMsg::ServiceStarted => s.state = ShopperState::InService,
        StoreMsg::Served => {
            a.metrics.buyers += 1;
            a.metrics.record_basket(s.basket.len());
            s.paid = true;
            let store = a.view.layout.store();
            a.ctx.send(store, SimDuration::ZERO, StoreMsg::CheckedOut { shopper: id });
            s.queue = None;
            s.go_to(Target::Exit, &mut a);
        }
        StoreMsg::PatienceOut { ticket } => {
            if s.state == ShopperState::Queued
                && ticket == s.ticket
                && let Some(q) = s.queue
            {
                s.state = ShopperState::Reneging;
                s.jockey_to = None;
                let owner = a.view.layout.queue(q);
                a.ctx.send(owner, SimDuration::ZERO, StoreMsg::Leave { shopper: id, jockey: false });
            }
        }
        StoreMsg::LookAround { ticket } => s.look_around(ticket, &mut a),
        StoreMsg::LeftQueue => match s.jockey_to {
            Some(lane) if s.state == ShopperState::Queued => {
                s.queue = Some(QueueRef::Lane(lane));
                s.go_to(Target::Lane(lane), &mut a);
            }
            _ => {
                a.metrics.reneged_shoppers += 1;
                s.queue = None;
                s.give_back(LostCause::Renege, &mut a);
                s.go_to(Target::Exit, &mut a);
            }
        },
        StoreMsg::Recognised => s.identify(&mut a),
        other => a.ctx.fail("message routing", format!("shopper {} got {other:?}", id.0)),
    }
}

impl Shopper {
    fn enter(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        if floor.entrances.is_empty() {
            a.ctx.fail("floor plan", "the store has no entrance");
            return;
        }
        let e = if floor.entrances.len() > 1 { a.ctx.rng().random_range(0..floor.entrances.len()) } else { 0 };
        self.cell = floor.entrances[e];
        self.state = ShopperState::Walking;
        self.cell_since = a.ctx.now();
        a.inside.push(a.id);
        a.metrics.entered += 1;
        a.metrics.items_wanted += self.list.len() as u64;
        a.metrics.members += u64::from(self.member);
        a.metrics.app_users += u64::from(self.app);
        self.enter_cell(a);
        for d in &floor.entrance_devices[e] {
            a.ctx.send(a.view.layout.device(*d), SimDuration::ZERO, StoreMsg::Passed { shopper: a.id });
        }
        // Members with the app log into the free-WiFi portal while the store's WiFi works.
        let wifi_up = a.view.devices.iter().any(|d| matches!(d.kind, DeviceKind::WifiProbe { .. }) && d.is_up());
        if self.member && self.app && wifi_up {
            a.metrics.portal_logins += 1;
            self.identify(a);
        }
        self.next_leg(a);
    }

    /// Picks the nearest item still wanted and walks to its shelf; when the list is done,
    /// goes to a checkout queue (or out, with an empty basket).
    fn next_leg(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        while !self.list.is_empty() {
            let (i, steps) = self
                .list
                .iter()
                .enumerate()
                .map(|(i, sku)| (i, floor.steps(self.cell, Target::Category(a.view.store.category_of(*sku)))))
                .min_by_key(|(i, steps)| (*steps, *i))
                .expect("list is not empty");
            let sku = self.list.swap_remove(i);
            if steps == UNREACHABLE {
                a.metrics.lost(LostCause::Unreachable, a.view.store.list_price(sku));
                continue;
            }
            self.current = Some(sku);
            self.go_to(Target::Category(a.view.store.category_of(sku)), a);
            return;
        }
        if self.basket.is_empty() {
            self.go_to(Target::Exit, a);
        } else {
            self.go_to_checkout(a);
        }
    }

    fn go_to(&mut self, target: Target, a: &mut Act<'_, '_, '_, '_>) {
        self.target = Some(target);
        self.state = ShopperState::Walking;
        if a.view.floor.steps(self.cell, target) == 0 {
            self.arrived(a);
        } else {
            a.ctx.schedule(self.step, StoreMsg::Step);
        }
    }

    fn walk(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let Some(target) = self.target else { return };
        let floor = a.view.floor;
        let (candidates, n) = floor.downhill(self.cell, target);
        if n == 0 {
            // Cannot get closer: only possible for a target that became unreachable.
            match target {
                Target::Exit => self.leave(a),
                _ => {
                    if let Some(sku) = self.current.take() {
                        a.metrics.lost(LostCause::Unreachable, a.view.store.list_price(sku));
                    }
                    self.next_leg(a);
                }
            }
            return;
        }
        let next = if n > 1 { candidates[a.ctx.rng().random_range(0..n)] } else { candidates[0] };
        self.leave_cell(a);
        self.cell = next;
        self.enter_cell(a);
        if floor.steps(self.cell, target) == 0 {
            self.arrived(a);
        } else {
            a.ctx.schedule(self.step, StoreMsg::Step);
        }
    }

    fn arrived(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        match self.target {
            Some(Target::Category(_)) => {
                self.state = ShopperState::AtShelf;
                let seg = &a.view.spec.store.segments[usize::from(self.segment.0)];
                let dwell = SimDuration::from_secs_f64(seg.dwell_s.sample(a.ctx.rng()).max(0.0));
                a.ctx.schedule(dwell, StoreMsg::ShelfDone);
            }
            Some(Target::Kiosk) => {
                self.state = ShopperState::AtKiosk;
                a.ctx.schedule(SimDuration::from_secs(KIOSK_S), StoreMsg::KioskDone);
            }
            Some(Target::Lane(_)) => self.join_queue(a),
            Some(Target::Exit) => self.leave(a),
            None => {}
        }
    }

    /// Reads the label, maybe drops the item for its price, else asks the shelf for it.
    fn at_shelf(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let Some(sku) = self.current else { return self.next_leg(a) };
        let shown = a.view.store.shown_price(sku, self.cell, a.view);
        let list = a.view.store.list_price(sku);
        if shown > list {
            let seg = &a.view.spec.store.segments[usize::from(self.segment.0)];
            let rise = (shown.0 - list.0) as f64 / list.0.max(1) as f64;
            let p_drop = seg.price_sensitivity * (5.0 * rise).min(1.0);
            if a.ctx.rng().random::<f64>() < p_drop {
                a.metrics.lost(LostCause::Price, list);
                self.current = None;
                return self.next_leg(a);
            }
        }
        self.state = ShopperState::AwaitingPick;
        a.ctx.send(a.view.layout.store(), SimDuration::ZERO, StoreMsg::Pick { shopper: a.id, sku });
    }

    fn out_of_stock(&mut self, sku: SkuId, a: &mut Act<'_, '_, '_, '_>) {
        let seg = &a.view.spec.store.segments[usize::from(self.segment.0)];
        let u = a.ctx.rng().random::<f64>();
        if u < seg.substitute {
            if let Some(sub) = a.view.store.substitute(sku) {
                a.metrics.substitutions += 1;
                self.current = Some(sub);
                a.ctx.send(a.view.layout.store(), SimDuration::ZERO, StoreMsg::Pick { shopper: a.id, sku: sub });
                return;
            }
        } else if u < seg.substitute + seg.endless_aisle && a.view.floor.steps(self.cell, Target::Kiosk) != UNREACHABLE
        {
            self.kiosk_sku = Some(sku);
            self.current = None;
            return self.go_to(Target::Kiosk, a);
        }
        a.metrics.lost(LostCause::StockOut, a.view.store.list_price(sku));
        self.current = None;
        self.next_leg(a);
    }

    fn kiosk_done(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        if let Some(sku) = self.kiosk_sku.take() {
            let kiosk_up = a.view.devices.iter().any(|d| matches!(d.kind, DeviceKind::Kiosk) && d.is_up());
            if kiosk_up {
                a.metrics.kiosk_orders += 1;
                a.metrics.kiosk_value += a.view.store.list_price(sku);
            } else {
                a.metrics.lost(LostCause::StockOut, a.view.store.list_price(sku));
            }
        }
        self.next_leg(a);
    }

    /// Chooses the queue with the least expected wait among those this shopper may use.
    fn go_to_checkout(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        match self.choose_queue(a.view) {
            Some((queue, lane_cell_of)) => {
                self.queue = Some(queue);
                self.go_to(Target::Lane(lane_cell_of), a);
            }
            None => self.balk(a),
        }
    }

    fn may_use(&self, kind: LaneKind) -> bool {
        kind != LaneKind::ScanAndGo || self.app
    }

    /// The queue with the least expected time to service: the walk there plus the wait,
    /// (people ahead) × (mean service) / (open servers). The walk spreads shoppers over
    /// lanes whose waits tie (all idle, say) instead of sending everyone to the first.
    fn choose_queue(&self, view: &View<'_>) -> Option<(QueueRef, crate::spec::LaneId)> {
        let items = self.basket.len() as f64;
        let step_s = self.step.as_secs_f64();
        let mut best: Option<(f64, QueueRef, crate::spec::LaneId)> = None;
        let mut consider = |wait: f64, q: QueueRef, lane| {
            let walk = f64::from(view.floor.steps(self.cell, Target::Lane(lane))) * step_s;
            let est = wait + walk;
            if best.is_none_or(|(b, ..)| est < b) {
                best = Some((est, q, lane));
            }
        };
        for lane in view.lanes {
            if lane.line.is_none() && lane.accepts() && self.may_use(lane.kind) {
                let ahead = lane.queue.len() + usize::from(lane.serving.is_some());
                consider(
                    ahead as f64 * lane.mean_service_s(view, items, self.payment),
                    QueueRef::Lane(lane.id),
                    lane.id,
                );
            }
        }
        for line in view.lines {
            let mut open = line.lanes.iter().map(|l| &view.lanes[usize::from(l.0)]).filter(|l| l.accepts());
            let Some(first) = open.next() else { continue };
            if !self.may_use(first.kind) || line.is_full() {
                continue;
            }
            let (servers, busy) = open.fold((1, usize::from(first.serving.is_some())), |(n, b), l| {
                (n + 1, b + usize::from(l.serving.is_some()))
            });
            let ahead = (line.queue.len() + busy) as f64;
            let est = ahead * first.mean_service_s(view, items, self.payment) / servers as f64;
            consider(est, QueueRef::Line(line.index), first.id);
        }
        best.map(|(_, q, lane)| (q, lane))
    }

    fn identify(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        if !self.identified {
            self.identified = true;
            a.metrics.members_identified += 1;
        }
    }

    /// Queued at a lane with its own queue: move to another lane of a usable kind if it
    /// has at least [`JOCKEY_GAIN`] fewer people ahead (any working lane, if this one's POS
    /// is down); else look again later.
    fn look_around(&mut self, ticket: u32, a: &mut Act<'_, '_, '_, '_>) {
        let (ShopperState::Queued, Some(QueueRef::Lane(here))) = (self.state, self.queue) else { return };
        if ticket != self.ticket {
            return;
        }
        let lanes = a.view.lanes;
        let lane = &lanes[usize::from(here.0)];
        let Some(position) = lane.queue.iter().position(|w| w.shopper == a.id) else { return };
        // A lane whose POS is down moves nobody forward: any working queue is shorter.
        let ahead = if lane.down { usize::MAX / 2 } else { position + usize::from(lane.serving.is_some()) };
        let better = lanes
            .iter()
            .filter(|l| l.id != here && l.line.is_none() && l.accepts() && self.may_use(l.kind))
            .map(|l| (l.queue.len() + usize::from(l.serving.is_some()), l.id))
            .min();
        match better {
            Some((there, to)) if there + JOCKEY_GAIN <= ahead => {
                self.jockey_to = Some(to);
                a.ctx.send(
                    a.view.layout.lane(here),
                    SimDuration::ZERO,
                    StoreMsg::Leave { shopper: a.id, jockey: true },
                );
            }
            _ => a.ctx.schedule(LOOK_AROUND, StoreMsg::LookAround { ticket }),
        }
    }

    /// The fewest people waiting in any queue this shopper may join now.
    fn shortest_usable_queue(&self, view: &View<'_>) -> Option<usize> {
        let lanes = view.lanes.iter().filter(|l| l.line.is_none() && l.accepts() && self.may_use(l.kind));
        let lines = view.lines.iter().filter(|line| {
            !line.is_full()
                && line.lanes.iter().map(|l| &view.lanes[usize::from(l.0)]).any(|l| l.accepts() && self.may_use(l.kind))
        });
        lanes.map(|l| l.queue.len()).chain(lines.map(|line| line.queue.len())).min()
    }

    /// At the chosen queue: join it; if it has grown to the balking length, choose again,
    /// and balk only if every queue this shopper may use is that long (or none is open).
    fn join_queue(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let Some(q) = self.queue else { return self.go_to_checkout(a) };
        let seg = &a.view.spec.store.segments[usize::from(self.segment.0)];
        let (usable, length) = match q {
            QueueRef::Lane(l) => {
                let lane = &a.view.lanes[usize::from(l.0)];
                (lane.accepts(), lane.queue.len())
            }
            QueueRef::Line(i) => {
                let line = &a.view.lines[usize::from(i)];
                let open = line.lanes.iter().any(|l| a.view.lanes[usize::from(l.0)].accepts());
                (open && !line.is_full(), line.queue.len())
            }
        };
        if !usable {
            self.choices += 1;
            if self.choices < 3 {
                return self.go_to_checkout(a);
            }
            return self.balk(a);
        }
        let jockeying = self.jockey_to.take().is_some();
        if !jockeying && length as u32 >= seg.balk_at {
            let all_long = self.shortest_usable_queue(a.view).is_none_or(|n| n as u32 >= seg.balk_at);
            self.choices += 1;
            if all_long || self.choices >= 3 {
                let qi = crate::world::queue_index(a.view.lanes.len(), q);
                a.metrics.queues[qi].balked += 1;
                return self.balk(a);
            }
            return self.go_to_checkout(a);
        }
        if !jockeying {
            self.queued_since = a.ctx.now();
        }
        self.state = ShopperState::Queued;
        self.ticket += 1;
        let owner = a.view.layout.queue(q);
        let join = StoreMsg::Join { shopper: a.id, items: self.basket.len() as u16, payment: self.payment };
        a.ctx.send(owner, SimDuration::ZERO, join);
        // Patience runs from the first queue joined, across moves between queues.
        let out_of_patience = self.queued_since.saturating_add(self.patience).saturating_since(a.ctx.now());
        a.ctx.schedule(out_of_patience, StoreMsg::PatienceOut { ticket: self.ticket });
        if matches!(q, QueueRef::Lane(_)) {
            a.ctx.schedule(LOOK_AROUND, StoreMsg::LookAround { ticket: self.ticket });
        }
    }

    fn balk(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        a.metrics.balked_shoppers += 1;
        self.queue = None;
        self.give_back(LostCause::Balk, a);
        self.go_to(Target::Exit, a);
    }

    /// Puts the basket back on the shelves: each item is a sale lost to `cause`.
    fn give_back(&mut self, cause: LostCause, a: &mut Act<'_, '_, '_, '_>) {
        let store = a.view.layout.store();
        for sku in self.basket.drain(..) {
            a.metrics.lost(cause, a.view.store.list_price(sku));
            a.ctx.send(store, SimDuration::ZERO, StoreMsg::Return { sku });
        }
        self.basket_value = Cents::ZERO;
    }

    fn leave(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        self.leave_cell(a);
        self.state = ShopperState::Left;
        self.target = None;
        a.metrics.left += 1;
        let visit = a.ctx.now().saturating_since(self.arrival);
        a.metrics.visit_ms.saturating_record(visit.as_nanos() / 1_000_000);
        if let Some(pos) = a.inside.iter().position(|s| *s == a.id) {
            a.inside.swap_remove(pos);
        }
    }

    fn enter_cell(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        let i = floor.index(self.cell);
        a.metrics.cell_visits[i] += 1;
        self.cell_since = a.ctx.now();
        let zone = floor.zone(self.cell);
        if zone != NO_ZONE && zone < 64 && self.zones_visited & (1 << zone) == 0 {
            self.zones_visited |= 1 << zone;
            a.metrics.zone_visitors[usize::from(zone)] += 1;
        }
        if floor.shelves_near[i] & a.view.store.promo_categories != 0 && !self.paid && self.queue.is_none() {
            self.consider_promos(i, a);
        }
        let beacons = floor.beacon_mask[i] & !self.beacons;
        if self.app && beacons != 0 {
            self.beacons |= beacons;
            for bit in 0..floor.beacon_ids.len() {
                if beacons & (1 << bit) != 0 {
                    let device = a.view.layout.device(floor.beacon_ids[bit]);
                    a.ctx.send(device, SimDuration::ZERO, StoreMsg::Passed { shopper: a.id });
                }
            }
        }
    }

    /// Next to a shelf with a promotion: maybe add the item to the list (an impulse buy),
    /// judged by the price the label shows (an ESL may not show the cut yet).
    fn consider_promos(&mut self, cell: usize, a: &mut Act<'_, '_, '_, '_>) {
        let store = a.view.store;
        let near = a.view.floor.shelves_near[cell];
        let sensitivity = a.view.spec.store.segments[usize::from(self.segment.0)].price_sensitivity;
        for &sku in &store.promos {
            let c = store.category_of(sku).0;
            if c >= 64 || near & (1 << c) == 0 || self.promos_seen.contains(&sku) {
                continue;
            }
            let (list, shown) = (store.list_price(sku), store.shown_price(sku, self.cell, a.view));
            if shown >= list {
                continue; // the label does not show the cut yet
            }
            self.promos_seen.push(sku);
            let discount = (list.0 - shown.0) as f64 / list.0.max(1) as f64;
            let p = (IMPULSE_PER_DISCOUNT * discount * sensitivity).min(IMPULSE_MAX);
            if a.ctx.rng().random::<f64>() < p {
                self.list.push(sku);
                a.metrics.items_wanted += 1;
                a.metrics.impulse_adds += 1;
            }
        }
    }

    fn leave_cell(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        let dwell = a.ctx.now().saturating_since(self.cell_since).as_secs_f64();
        a.metrics.cell_dwell_s[floor.index(self.cell)] += dwell;
        let zone = floor.zone(self.cell);
        if zone != NO_ZONE {
            a.metrics.zone_dwell_s[usize::from(zone)] += dwell;
        }
    }

    fn mark_bought_in_zone(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        if self.basket.len() == 1 {
            a.metrics.picked_something += 1;
        }
        let zone = a.view.floor.zone(self.cell);
        if zone != NO_ZONE && zone < 64 && self.zones_bought & (1 << zone) == 0 {
            self.zones_bought |= 1 << zone;
            a.metrics.zone_buyers[usize::from(zone)] += 1;
        }
    }
}
