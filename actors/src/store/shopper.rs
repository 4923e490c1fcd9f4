//! The shopper: arrives, walks the floor cell by cell to the shelves on their list, reads
//! the labels, picks from the shelf (or substitutes, orders at a kiosk, or gives up),
//! chooses a checkout queue by expected wait, balks or reneges, pays, and leaves.
//!
//! Walking is crowd-aware (see [`crate::store::crowd`]): the time to cross a cell follows the
//! density around it, a full cell cannot be entered (the shopper waits, takes a route round
//! the crowd, or after [`MAX_BLOCKED`] squeezes past other walkers), a full entrance keeps
//! arrivals waiting outside, and a shopper who reaches the tail of the queue they are
//! heading for joins it there.

use rand::RngExt;
use storetwin_engine::{Context, SimDuration, SimTime};

use crate::chain::spec::IssueChannel;
use crate::money::Cents;
use crate::store::crowd::{self, BLOCKED_RETRY, Crowd, MAX_BLOCKED};
use crate::store::floor::{NO_ZONE, Target, UNREACHABLE};
use crate::store::metrics::{LostCause, Metrics};
use crate::store::spec::{Cell, DeviceKind, LaneKind, Payment, SegmentId, SegmentSpec, SkuId};
use crate::store::world::{QueueRef, ShopperId, StoreMsg, View, kiosk_footprint, queue_index};

/// Seconds a kiosk order takes.
pub const KIOSK_S: u64 = 60;

/// Most cells a search for a route round a crowd looks at.
pub const DETOUR_SEARCH_CELLS: usize = 96;

/// A blocked shopper who found no way round looks again after this long.
pub const DETOUR_AGAIN: SimDuration = SimDuration::from_secs(3);

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
    /// Waiting for a kiosk.
    KioskQueued,
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
    jockey_to: Option<crate::store::spec::LaneId>,
    /// When the shopper first joined a checkout queue (patience runs from here).
    queued_since: SimTime,
    /// Promotions already considered, by SKU (a shopper decides once per promotion).
    promos_seen: Vec<SkuId>,
    /// Since when the shopper could not move (the next cell full); cleared on progress.
    blocked_since: Option<SimTime>,
    /// The kiosk (index into `Floor::kiosks`) whose queue the shopper is in or using.
    kiosk: Option<u16>,
    reached_shelf: bool,
    /// Standing at a shelf (counted in `Crowd::standing`).
    standing: bool,
    /// A route round a crowd being followed, next step last.
    detour: Vec<Cell>,
    /// Registered in `Crowd::blocked_towards` of the current cell for these directions.
    blocked_mask: u8,
    /// A search for a way round found none: do not search again before this.
    no_detour_until: Option<SimTime>,
    zones_visited: u64,
    zones_bought: u64,
    beacons: u32,
    choices: u8,
}

impl Shopper {
    pub fn new(arrival: SimTime, segment: SegmentId) -> Self {
        Shopper { arrival, segment, ..Shopper::default() }
    }

    /// The queue footprint (see [`crate::store::crowd`]) this shopper stands in, if queued or in
    /// service (at a checkout or a kiosk) in a world of `spec`.
    pub fn footprint(&self, spec: &crate::store::spec::WorldSpec) -> Option<usize> {
        match self.state {
            ShopperState::Queued | ShopperState::Reneging | ShopperState::InService => {
                self.queue.map(|q| queue_index(spec.store.lanes.len(), q))
            }
            ShopperState::KioskQueued | ShopperState::AtKiosk => {
                self.kiosk.map(|k| kiosk_footprint(spec, usize::from(k)))
            }
            _ => None,
        }
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

/// Direction of the neighbour `to` seen from `from`, in the floor's neighbour order: 0 up,
/// 1 left, 2 right, 3 down (so `3 - d` is the opposite).
fn direction(from: Cell, to: Cell) -> usize {
    match (to.x.cmp(&from.x), to.y.cmp(&from.y)) {
        (_, std::cmp::Ordering::Less) => 0,
        (std::cmp::Ordering::Less, _) => 1,
        (std::cmp::Ordering::Greater, _) => 2,
        _ => 3,
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

/// Where shoppers are, which shoppers change as they move: who is inside, and the floor's
/// occupancy.
pub struct Place<'m> {
    pub inside: &'m mut Vec<ShopperId>,
    pub crowd: &'m mut Crowd,
}

/// Everything a shopper's handler needs besides the shopper.
struct Act<'v, 'a, 'c, 'm> {
    id: ShopperId,
    view: &'v View<'a>,
    metrics: &'m mut Metrics,
    inside: &'m mut Vec<ShopperId>,
    crowd: &'m mut Crowd,
    ctx: &'m mut Context<'c, StoreMsg>,
}

pub fn handle(
    s: &mut Shopper,
    id: ShopperId,
    msg: StoreMsg,
    view: &View<'_>,
    metrics: &mut Metrics,
    place: Place<'_>,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let mut a = Act { id, view, metrics, inside: place.inside, crowd: place.crowd, ctx };
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
        StoreMsg::KioskStart => s.state = ShopperState::AtKiosk,
        StoreMsg::KioskDone { ordered } => s.kiosk_done(ordered, &mut a),
        StoreMsg::ServiceStarted { lane } => {
            s.state = ShopperState::InService;
            // Step up to the till (the queue's footprint still counts this shopper).
            if let Some(till) = a.view.floor.lane_cells.get(usize::from(lane.0)).and_then(|c| c.first())
                && *till != s.cell
            {
                s.leave_cell(&mut a);
                s.cell = *till;
                s.enter_cell(&mut a);
            }
        }
        StoreMsg::Served => {
            if let Some(q) = s.queue {
                s.step_out_of_queue(queue_index(a.view.lanes.len(), q), &mut a);
            }
            a.metrics.buyers += 1;
            a.metrics.record_basket(s.basket.len());
            s.paid = true;
            let store = a.view.layout.store();
            a.ctx.send(store, SimDuration::ZERO, StoreMsg::CheckedOut { shopper: id });
            s.queue = None;
            s.go_to(Target::Exit, &mut a);
        }
        StoreMsg::PatienceOut { ticket } if s.state == ShopperState::KioskQueued => {
            if ticket == s.ticket
                && let Some(k) = s.kiosk
            {
                let device = a.view.layout.device(a.view.floor.kiosks[usize::from(k)].1);
                a.ctx.send(device, SimDuration::ZERO, StoreMsg::Leave { shopper: id, jockey: false });
            }
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
        StoreMsg::LeftQueue if s.state == ShopperState::KioskQueued => {
            // Out of patience at the kiosk: the item stays unbought.
            if let Some(k) = s.kiosk.take() {
                s.step_out_of_queue(kiosk_footprint(a.view.spec, usize::from(k)), &mut a);
            }
            if let Some(sku) = s.kiosk_sku.take() {
                a.metrics.lost(LostCause::KioskWait, sku, a.view.store.list_price(sku));
            }
            s.next_leg(&mut a);
        }
        StoreMsg::LeftQueue => {
            if let Some(q) = s.queue {
                s.step_out_of_queue(queue_index(a.view.lanes.len(), q), &mut a);
            }
            s.left_queue(&mut a);
        }
        StoreMsg::Recognised => s.identify(&mut a),
        StoreMsg::SwapInto { cell } => s.swap_into(cell, &mut a),
        other => a.ctx.fail("message routing", format!("shopper {} got {other:?}", id.0)),
    }
}

impl Shopper {
    fn left_queue(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let s = self;
        match s.jockey_to {
            Some(lane) if s.state == ShopperState::Queued => {
                s.queue = Some(QueueRef::Lane(lane));
                s.go_to(Target::Lane(lane), a);
            }
            _ => {
                a.metrics.reneged_shoppers += 1;
                s.queue = None;
                s.give_back(LostCause::Renege, a);
                s.go_to(Target::Exit, a);
            }
        }
    }

    fn enter(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        if floor.entrances.is_empty() {
            a.ctx.fail("floor plan", "the store has no entrance");
            return;
        }
        let e = if floor.entrances.len() > 1 { a.ctx.rng().random_range(0..floor.entrances.len()) } else { 0 };
        let door = floor.entrances[e];
        let now = a.ctx.now();
        if a.crowd.is_full(floor.index(door)) {
            // The doorway is full: wait outside (there is room out there; no squeezing).
            if self.blocked_since.is_none() {
                self.blocked_since = Some(now);
                a.crowd.entry_waits += 1;
            }
            a.crowd.entry_wait_s += BLOCKED_RETRY.as_secs_f64();
            a.ctx.schedule(BLOCKED_RETRY, StoreMsg::Arrive);
            return;
        }
        self.blocked_since = None;
        self.cell = door;
        self.state = ShopperState::Walking;
        self.cell_since = now;
        a.crowd.enter(floor.index(door), now);
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
            self.offer_coupons(IssueChannel::WifiPortal, a);
        }
        // In a chain, the portal offers app users who are not members to register.
        if !self.member
            && self.app
            && wifi_up
            && let Some(office) = a.view.layout.office()
        {
            a.ctx.send(office, SimDuration::ZERO, StoreMsg::OfferMembership { shopper: a.id });
        }
        // App users scan the QR posters at the door.
        if self.member && self.app {
            self.offer_coupons(IssueChannel::QrPoster, a);
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
                a.metrics.lost(LostCause::Unreachable, sku, a.view.store.list_price(sku));
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

    /// Stops standing at a shelf, if standing.
    fn walk_on(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        if self.standing {
            self.standing = false;
            a.crowd.stand(a.view.floor.index(self.cell), false);
        }
    }

    fn go_to(&mut self, target: Target, a: &mut Act<'_, '_, '_, '_>) {
        self.walk_on(a);
        self.detour.clear();
        self.target = Some(target);
        self.state = ShopperState::Walking;
        self.blocked_since = None;
        self.no_detour_until = None;
        if a.view.floor.steps(self.cell, target) == 0 {
            self.arrived(a);
        } else {
            let t = self.crossing(a);
            a.ctx.schedule(t, StoreMsg::Step);
        }
    }

    /// Time to cross the current cell at the density around it now (Weidmann), and the
    /// extra time over the free walk counted as slowed.
    fn crossing(&self, a: &mut Act<'_, '_, '_, '_>) -> SimDuration {
        let floor = a.view.floor;
        let i = floor.index(self.cell);
        let (mut people, mut cells) = (a.crowd.occupancy(i), 1u32);
        for j in floor.walkable_near(i) {
            people += a.crowd.occupancy(j);
            cells += 1;
        }
        let share = a.crowd.speed_share_of(people, cells);
        if share >= 1.0 {
            return self.step;
        }
        let t = SimDuration::from_secs_f64(self.step.as_secs_f64() / share);
        let slot = a.crowd.zone_slot(floor.zone(self.cell));
        a.crowd.slowed_s[slot] += t.as_secs_f64() - self.step.as_secs_f64();
        t
    }

    fn walk(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        self.unblock(a);
        let Some(target) = self.target else { return };
        if floor.steps(self.cell, target) == 0 {
            // Here already (a swap brought this shopper to the target).
            self.detour.clear();
            return self.arrived(a);
        }
        let (candidates, n) = floor.downhill(self.cell, target);
        if n == 0 {
            // Cannot get closer: only possible for a target that became unreachable.
            match target {
                Target::Exit => self.leave(a),
                _ => {
                    if let Some(sku) = self.current.take() {
                        a.metrics.lost(LostCause::Unreachable, sku, a.view.store.list_price(sku));
                    }
                    self.next_leg(a);
                }
            }
            return;
        }
        // At the tail of the queue this shopper is heading for: join it here.
        if self.reached_tail(&candidates[..n], a) {
            return;
        }
        let now = a.ctx.now();
        // On a route round a crowd: take its next step while it is free.
        if let Some(next) = self.detour.pop() {
            if !a.crowd.is_full(floor.index(next)) && floor.steps(next, target) != UNREACHABLE {
                self.blocked_since = None;
                return self.step_into(next, target, a);
            }
            self.detour.clear();
        }
        let mut free = [self.cell; 4];
        let mut n_free = 0;
        for c in &candidates[..n] {
            if !a.crowd.is_full(floor.index(*c)) {
                free[n_free] = *c;
                n_free += 1;
            }
        }
        if n_free > 0 {
            self.blocked_since = None;
            let next = if n_free > 1 { free[a.ctx.rng().random_range(0..n_free)] } else { free[0] };
            return self.step_into(next, target, a);
        }
        // Every cell closer is full. Someone there blocked wanting to come here: swap places.
        let here = floor.index(self.cell);
        let facing = candidates[..n]
            .iter()
            .find_map(|c| a.crowd.blocked_towards(floor.index(*c), 3 - direction(self.cell, *c)).map(|who| (*c, who)));
        if let Some((there, who)) = facing {
            a.crowd.swaps += 1;
            self.blocked_since = None;
            a.crowd.set_blocked(floor.index(there), 0b1111, who, false);
            let swap = StoreMsg::SwapInto { cell: self.cell };
            a.ctx.send(a.view.layout.shopper(ShopperId(who)), SimDuration::ZERO, swap);
            return self.step_into(there, target, a);
        }
        let since = *self.blocked_since.get_or_insert(now);
        // Squeeze only past someone walking (who may be blocked in turn); people standing at
        // a shelf or in a queue move on by themselves.
        let past = candidates[..n].iter().find(|c| a.crowd.may_squeeze(floor.index(**c))).copied();
        if let Some(past) = past.filter(|_| now.saturating_since(since) >= MAX_BLOCKED) {
            a.crowd.squeezes += 1;
            self.blocked_since = None;
            return self.step_into(past, target, a);
        }
        // After a moment's wait, look for a way round (again only after a while, if there
        // was none).
        let look = now > since && self.no_detour_until.is_none_or(|t| now >= t);
        if look && self.find_detour(target, a) {
            a.crowd.detours += 1;
            if let Some(next) = self.detour.pop() {
                return self.step_into(next, target, a);
            }
        }
        if look {
            self.no_detour_until = Some(now.saturating_add(DETOUR_AGAIN));
        }
        let slot = a.crowd.zone_slot(floor.zone(self.cell));
        a.crowd.blocked_s[slot] += BLOCKED_RETRY.as_secs_f64();
        self.blocked_mask = candidates[..n].iter().fold(0, |m, c| m | 1 << direction(self.cell, *c));
        a.crowd.set_blocked(here, self.blocked_mask, a.id.0, true);
        a.ctx.schedule(BLOCKED_RETRY, StoreMsg::Step);
    }

    /// Clears this shopper's registration as blocked.
    fn unblock(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        if self.blocked_mask != 0 {
            a.crowd.set_blocked(a.view.floor.index(self.cell), self.blocked_mask, a.id.0, false);
            self.blocked_mask = 0;
        }
    }

    /// A walker facing this one took its place: step into the cell they left (the two swap),
    /// if still walking next to it; the pending step then walks on from there.
    fn swap_into(&mut self, cell: Cell, a: &mut Act<'_, '_, '_, '_>) {
        self.unblock(a);
        let adjacent = a.view.floor.neighbours(self.cell).any(|nb| nb == cell);
        if self.state == ShopperState::Walking && adjacent && !self.standing {
            self.blocked_since = None;
            self.detour.clear();
            self.move_to(cell, a);
        }
    }

    /// Moves into `next` and walks on towards `target` (or has arrived).
    fn step_into(&mut self, next: Cell, target: Target, a: &mut Act<'_, '_, '_, '_>) {
        self.move_to(next, a);
        if a.view.floor.steps(self.cell, target) == 0 {
            self.detour.clear();
            self.arrived(a);
        } else {
            let t = self.crossing(a);
            a.ctx.schedule(t, StoreMsg::Step);
        }
    }

    /// The shortest walk over cells that are not full to a cell closer to `target` than
    /// this one (a breadth-first search of at most [`DETOUR_SEARCH_CELLS`] cells, in the
    /// floor's fixed neighbour order). Stored in `detour`, next step last.
    fn find_detour(&mut self, target: Target, a: &mut Act<'_, '_, '_, '_>) -> bool {
        let floor = a.view.floor;
        let start = floor.index(self.cell);
        let here = floor.steps(self.cell, target);
        let mut search = std::mem::replace(&mut a.crowd.search, crowd::Search::EMPTY);
        search.generation = search.generation.wrapping_add(1);
        if search.generation == 0 {
            search.mark.fill(0);
            search.generation = 1;
        }
        let generation = search.generation;
        search.frontier.clear();
        search.frontier.push(start as u32);
        search.mark[start] = generation;
        let mut goal = None;
        let mut head = 0;
        'search: while head < search.frontier.len() && head < DETOUR_SEARCH_CELLS {
            let i = search.frontier[head] as usize;
            head += 1;
            for nb in floor.neighbours(floor.cell_at(i)) {
                let j = floor.index(nb);
                if search.mark[j] == generation || a.crowd.is_full(j) {
                    continue;
                }
                let d = floor.steps(nb, target);
                if d == UNREACHABLE {
                    continue;
                }
                search.mark[j] = generation;
                search.parent[j] = i as u32;
                if d < here {
                    goal = Some(j);
                    break 'search;
                }
                search.frontier.push(j as u32);
            }
        }
        self.detour.clear();
        if let Some(mut j) = goal {
            while j != start {
                self.detour.push(floor.cell_at(j));
                j = search.parent[j] as usize;
            }
        }
        a.crowd.search = search;
        !self.detour.is_empty()
    }

    /// Walking to a queue (a lane's or a kiosk's) whose members already stand just ahead
    /// (or here): join it at its tail.
    fn reached_tail(&mut self, ahead: &[Cell], a: &mut Act<'_, '_, '_, '_>) -> bool {
        let floor = a.view.floor;
        let here = floor.index(self.cell);
        let tail = |f: usize, crowd: &Crowd| {
            let reaches = |i: usize| crowd.queued[i] > 0 && crowd.in_footprint(f, i);
            reaches(here) || ahead.iter().any(|c| reaches(floor.index(*c)))
        };
        match (self.target, self.queue) {
            (Some(Target::Lane(_)), Some(q)) if tail(queue_index(a.view.lanes.len(), q), a.crowd) => {
                self.join_queue(a);
                true
            }
            (Some(Target::Kiosk), _) => {
                match (0..floor.kiosks.len()).find(|k| tail(kiosk_footprint(a.view.spec, *k), a.crowd)) {
                    Some(k) => {
                        self.join_kiosk(k, a);
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        }
    }

    /// Walks into the neighbouring cell `next`.
    fn move_to(&mut self, next: Cell, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        let now = a.ctx.now();
        self.leave_cell(a);
        a.crowd.exit(floor.index(self.cell), now);
        self.cell = next;
        a.crowd.enter(floor.index(next), now);
        self.enter_cell(a);
    }

    /// Becomes a member of queue footprint `f`: stops counting as a walker and stands at
    /// the queue's tail.
    fn stand_in_queue(&mut self, f: usize, a: &mut Act<'_, '_, '_, '_>) {
        let floor = a.view.floor;
        let now = a.ctx.now();
        a.crowd.exit(floor.index(self.cell), now);
        if let Some(slot) = a.crowd.join_queue(f, now) {
            let at = floor.cell_at(slot);
            if at != self.cell {
                self.leave_cell(a);
                self.cell = at;
                self.enter_cell(a);
            }
        }
    }

    /// Leaves queue footprint `f` and walks on from where the shopper stands.
    fn step_out_of_queue(&mut self, f: usize, a: &mut Act<'_, '_, '_, '_>) {
        let now = a.ctx.now();
        a.crowd.leave_queue(f, now);
        a.crowd.enter(a.view.floor.index(self.cell), now);
    }

    /// At kiosk `k`'s queue: join it (or give up at once if the kiosk is down or its queue
    /// is as long as this shopper's balking length).
    fn join_kiosk(&mut self, k: usize, a: &mut Act<'_, '_, '_, '_>) {
        let device = a.view.floor.kiosks[k].1;
        if !a.view.devices.get(usize::from(device.0)).is_some_and(|d| d.is_up()) {
            if let Some(sku) = self.kiosk_sku.take() {
                a.metrics.lost(LostCause::StockOut, sku, a.view.store.list_price(sku));
            }
            return self.next_leg(a);
        }
        // A kiosk queue as long as the shopper's balking length: give up at once.
        let waiting = a.view.devices[usize::from(device.0)].kiosk.as_ref().map_or(0, |q| q.queue.len());
        if waiting as u32 >= a.view.spec.store.segments[usize::from(self.segment.0)].balk_at {
            a.metrics.kiosk_queues[k].balked += 1;
            if let Some(sku) = self.kiosk_sku.take() {
                a.metrics.lost(LostCause::KioskWait, sku, a.view.store.list_price(sku));
            }
            return self.next_leg(a);
        }
        self.state = ShopperState::KioskQueued;
        self.kiosk = Some(k as u16);
        self.stand_in_queue(kiosk_footprint(a.view.spec, k), a);
        self.ticket += 1;
        let join = StoreMsg::Join { shopper: a.id, items: 0, payment: self.payment };
        a.ctx.send(a.view.layout.device(device), SimDuration::ZERO, join);
        a.ctx.schedule(self.patience, StoreMsg::PatienceOut { ticket: self.ticket });
    }

    fn arrived(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        match self.target {
            Some(Target::Category(_)) => {
                if !self.reached_shelf {
                    self.reached_shelf = true;
                    a.metrics.reached_shelf += 1;
                    a.metrics.to_first_shelf_s += a.ctx.now().saturating_since(self.arrival).as_secs_f64();
                }
                self.state = ShopperState::AtShelf;
                self.standing = true;
                a.crowd.stand(a.view.floor.index(self.cell), true);
                let seg = &a.view.spec.store.segments[usize::from(self.segment.0)];
                let dwell = SimDuration::from_secs_f64(seg.dwell_s.sample(a.ctx.rng()).max(0.0));
                a.ctx.schedule(dwell, StoreMsg::ShelfDone);
            }
            Some(Target::Kiosk) => match a.view.floor.kiosks.iter().position(|(c, _)| *c == self.cell) {
                Some(k) => self.join_kiosk(k, a),
                None => self.next_leg(a),
            },
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
                a.metrics.lost(LostCause::Price, sku, list);
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
        a.metrics.lost(LostCause::StockOut, sku, a.view.store.list_price(sku));
        self.current = None;
        self.next_leg(a);
    }

    /// The kiosk served this shopper: the order went through (`ordered`), or the kiosk
    /// failed meanwhile and the item is lost.
    fn kiosk_done(&mut self, ordered: bool, a: &mut Act<'_, '_, '_, '_>) {
        if let Some(k) = self.kiosk.take() {
            self.step_out_of_queue(kiosk_footprint(a.view.spec, usize::from(k)), a);
        }
        if let Some(sku) = self.kiosk_sku.take() {
            if ordered {
                a.metrics.kiosk_orders += 1;
                a.metrics.kiosk_value += a.view.store.list_price(sku);
                // In a chain the order goes to the order centre, which finds another
                // store with the item.
                if let (Some(office), Some(to)) = (a.view.office.as_deref(), a.view.layout.office()) {
                    let member = if self.member { office.member_id(a.id) } else { u32::MAX };
                    a.ctx.send(to, SimDuration::ZERO, StoreMsg::KioskOrdered { sku, member });
                }
            } else {
                a.metrics.lost(LostCause::StockOut, sku, a.view.store.list_price(sku));
            }
        }
        self.next_leg(a);
    }

    /// Chooses the queue with the least expected wait among those this shopper may use;
    /// balks if none has room (at the full shared line that turned them away, if any).
    fn go_to_checkout(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        match self.choose_queue(a.view) {
            Ok((queue, lane_cell_of)) => {
                self.queue = Some(queue);
                self.go_to(Target::Lane(lane_cell_of), a);
            }
            Err(full) => self.balk(full, a),
        }
    }

    fn may_use(&self, kind: LaneKind) -> bool {
        kind != LaneKind::ScanAndGo || self.app
    }

    /// The queue with the least expected time to service: the walk there plus the wait,
    /// (people ahead) × (mean service) / (open servers). The walk spreads shoppers over
    /// lanes whose waits tie (all idle, say) instead of sending everyone to the first.
    /// `Err` if no queue this shopper may use has room: with the full shared line they
    /// would have chosen by the same rule (the one that turned them away), if there is one.
    fn choose_queue(&self, view: &View<'_>) -> Result<(QueueRef, crate::store::spec::LaneId), Option<QueueRef>> {
        type Choice = Option<(f64, QueueRef, crate::store::spec::LaneId)>;
        let items = self.basket.len() as f64;
        let step_s = self.step.as_secs_f64();
        let (mut best, mut best_full): (Choice, Choice) = (None, None);
        let consider = |best: &mut Choice, wait: f64, q: QueueRef, lane| {
            let walk = f64::from(view.floor.steps(self.cell, Target::Lane(lane))) * step_s;
            let est = wait + walk;
            if best.is_none_or(|(b, ..)| est < b) {
                *best = Some((est, q, lane));
            }
        };
        for lane in view.lanes {
            if lane.line.is_none() && lane.accepts() && self.may_use(lane.kind) {
                let ahead = lane.queue.len() + usize::from(lane.serving.is_some());
                consider(
                    &mut best,
                    ahead as f64 * lane.mean_service_s(view, items, self.payment),
                    QueueRef::Lane(lane.id),
                    lane.id,
                );
            }
        }
        for line in view.lines {
            let mut open = line.lanes.iter().map(|l| &view.lanes[usize::from(l.0)]).filter(|l| l.accepts());
            let Some(first) = open.next() else { continue };
            if !self.may_use(first.kind) {
                continue;
            }
            let (servers, busy) = open.fold((1, usize::from(first.serving.is_some())), |(n, b), l| {
                (n + 1, b + usize::from(l.serving.is_some()))
            });
            let ahead = (line.queue.len() + busy) as f64;
            let est = ahead * first.mean_service_s(view, items, self.payment) / servers as f64;
            let choice = if line.is_full() { &mut best_full } else { &mut best };
            consider(choice, est, QueueRef::Line(line.index), first.id);
        }
        best.map(|(_, q, lane)| (q, lane)).ok_or(best_full.map(|(_, q, _)| q))
    }

    fn identify(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        if !self.identified {
            self.identified = true;
            a.metrics.members_identified += 1;
            // In a chain, the member's coupons follow them into the store.
            if let Some(office) = a.view.layout.office() {
                a.ctx.send(office, SimDuration::ZERO, StoreMsg::FetchWallet { shopper: a.id });
            }
        }
    }

    /// In a chain: the office offers this member the coupons issued through `channel`.
    fn offer_coupons(&self, channel: IssueChannel, a: &mut Act<'_, '_, '_, '_>) {
        if let Some(office) = a.view.layout.office() {
            a.ctx.send(office, SimDuration::ZERO, StoreMsg::OfferCoupons { shopper: a.id, channel: channel as u8 });
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
        let (usable, full, length) = match q {
            QueueRef::Lane(l) => {
                let lane = &a.view.lanes[usize::from(l.0)];
                (lane.accepts(), false, lane.queue.len())
            }
            QueueRef::Line(i) => {
                let line = &a.view.lines[usize::from(i)];
                let open = line.lanes.iter().any(|l| a.view.lanes[usize::from(l.0)].accepts());
                (open && !line.is_full(), open && line.is_full(), line.queue.len())
            }
        };
        if !usable {
            self.choices += 1;
            if self.choices < 3 {
                return self.go_to_checkout(a);
            }
            return self.balk(full.then_some(q), a);
        }
        let jockeying = self.jockey_to.take().is_some();
        if !jockeying && length as u32 >= seg.balk_at {
            let all_long = self.shortest_usable_queue(a.view).is_none_or(|n| n as u32 >= seg.balk_at);
            self.choices += 1;
            if all_long || self.choices >= 3 {
                return self.balk(Some(q), a);
            }
            return self.go_to_checkout(a);
        }
        if !jockeying {
            self.queued_since = a.ctx.now();
        }
        self.stand_in_queue(queue_index(a.view.lanes.len(), q), a);
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

    /// Leaves without buying: counted in the store's `balked`, and in the `balked` of the
    /// queue that turned this shopper away (`at`: as long as their balking length, or a
    /// full shared line), if one did.
    fn balk(&mut self, at: Option<QueueRef>, a: &mut Act<'_, '_, '_, '_>) {
        a.metrics.balked_shoppers += 1;
        if let Some(q) = at {
            a.metrics.queues[queue_index(a.view.lanes.len(), q)].balked += 1;
        }
        self.queue = None;
        self.give_back(LostCause::Balk, a);
        self.go_to(Target::Exit, a);
    }

    /// Puts the basket back on the shelves: each item is a sale lost to `cause`.
    fn give_back(&mut self, cause: LostCause, a: &mut Act<'_, '_, '_, '_>) {
        let store = a.view.layout.store();
        for sku in self.basket.drain(..) {
            a.metrics.lost(cause, sku, a.view.store.list_price(sku));
            a.ctx.send(store, SimDuration::ZERO, StoreMsg::Return { sku });
        }
        self.basket_value = Cents::ZERO;
    }

    fn leave(&mut self, a: &mut Act<'_, '_, '_, '_>) {
        self.walk_on(a);
        self.leave_cell(a);
        a.crowd.exit(a.view.floor.index(self.cell), a.ctx.now());
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
