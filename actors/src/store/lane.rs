//! Checkout lanes and shared serpentine lines.
//!
//! A lane is a server (a cashier, a self-checkout machine, a scan-and-go gate) with a
//! FIFO queue of its own, or fed from a [`SharedLine`] together with other lanes. The
//! queue owner (the lane, or the line) is the single authority on who waits: a shopper
//! whose patience runs out asks to leave, and only the owner's answer (`LeftQueue`, or
//! `ServiceStarted` if service began first) decides.

use std::collections::VecDeque;

use storetwin_engine::{Context, SimDuration, SimTime};

use crate::dist::Dist;
use crate::money::Cents;
use crate::store::metrics::{Departure, Metrics};
use crate::store::spec::{LaneId, LaneKind, LaneSpec, Payment, SharedLineSpec};
use crate::store::world::{QueueRef, ShopperId, StoreMsg, View, queue_index};

/// A shopper in a queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Waiting {
    pub shopper: ShopperId,
    pub items: u16,
    pub payment: Payment,
    pub joined: SimTime,
}

#[derive(Clone, Debug)]
pub struct Lane {
    pub id: LaneId,
    pub kind: LaneKind,
    pub line: Option<u16>,
    /// Accepting new shoppers (a closing lane still serves its queue).
    pub open: bool,
    /// POS terminal down: serves nobody.
    pub down: bool,
    /// POS outages in force (they may overlap).
    pos_outages: u32,
    /// Closed by a scheduled disruption: takes nobody until it ends.
    pub closed_by_disruption: bool,
    /// Closures in force (they may overlap).
    closures: u32,
    /// Opened by the lane policy (so the policy may close it again when idle).
    opened_by_policy: bool,
    idle_since: Option<SimTime>,
    pub queue: VecDeque<Waiting>,
    pub serving: Option<Waiting>,
    service_started: SimTime,
    open_since: Option<SimTime>,
    /// `joined` of the last shopper whose service started: FIFO means it never decreases.
    last_started: SimTime,
    base_s: Dist,
    per_item_s: Dist,
    pay_s: [Dist; 4],
}

impl Lane {
    pub fn new(id: LaneId, spec: &LaneSpec) -> Self {
        Lane {
            id,
            kind: spec.kind,
            line: spec.line,
            open: spec.open_at_start,
            down: false,
            pos_outages: 0,
            closed_by_disruption: false,
            closures: 0,
            opened_by_policy: false,
            idle_since: Some(SimTime::ZERO),
            queue: VecDeque::with_capacity(32),
            serving: None,
            service_started: SimTime::ZERO,
            open_since: spec.open_at_start.then_some(SimTime::ZERO),
            last_started: SimTime::ZERO,
            base_s: spec.base_s.clone(),
            per_item_s: spec.per_item_s.clone(),
            pay_s: spec.pay_s.clone(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Open and working: a shopper may join.
    pub fn accepts(&self) -> bool {
        self.open && !self.down && !self.closed_by_disruption
    }

    /// Mean service time for a basket, as a shopper would estimate it.
    pub fn mean_service_s(&self, _view: &View<'_>, items: f64, payment: Payment) -> f64 {
        self.base_s.mean() + self.per_item_s.mean() * items + self.pay_s[payment as usize].mean()
    }

    /// Starts serving the head of its own queue if it can.
    fn try_start(&mut self, view: &View<'_>, metrics: &mut Metrics, ctx: &mut Context<'_, StoreMsg>) {
        if self.serving.is_some() || self.down || self.line.is_some() {
            return;
        }
        let Some(w) = self.queue.pop_front() else { return };
        let wait = ctx.now().saturating_since(w.joined).as_secs_f64();
        metrics.queues[usize::from(self.id.0)].on_leave(ctx.now(), wait, Departure::Served);
        ctx.send(view.layout.shopper(w.shopper), SimDuration::ZERO, StoreMsg::ServiceStarted { lane: self.id });
        self.begin(w, ctx);
    }

    fn begin(&mut self, w: Waiting, ctx: &mut Context<'_, StoreMsg>) {
        if w.joined < self.last_started {
            ctx.fail("FIFO per queue", format!("lane {} served a later arrival before an earlier one", self.id.0));
        }
        self.last_started = w.joined;
        let rng = ctx.rng();
        let per_item: f64 = (0..w.items).map(|_| self.per_item_s.sample(rng).max(0.0)).sum();
        let secs = self.base_s.sample(rng).max(0.0) + per_item + self.pay_s[w.payment as usize].sample(rng).max(0.0);
        self.serving = Some(w);
        self.idle_since = None;
        self.service_started = ctx.now();
        ctx.schedule(SimDuration::from_secs_f64(secs), StoreMsg::ServiceDone);
    }

    /// The shopper being served has paid, `discount` off the basket's value: the lane is
    /// free for the next.
    fn finish_payment(
        &mut self,
        discount: Cents,
        view: &View<'_>,
        metrics: &mut Metrics,
        ctx: &mut Context<'_, StoreMsg>,
    ) {
        let Some(w) = self.serving.take() else { return };
        let now = ctx.now();
        let paid = view.shoppers[w.shopper.0 as usize].basket_value - discount;
        let stats = &mut metrics.servers[usize::from(self.id.0)];
        stats.served += 1;
        stats.items += u64::from(w.items);
        stats.busy_s += now.saturating_since(self.service_started).as_secs_f64();
        stats.payments += paid;
        metrics.payments += paid;
        metrics.discounts += discount;
        ctx.send(view.layout.shopper(w.shopper), SimDuration::ZERO, StoreMsg::Served);
        match self.line {
            Some(line) => ctx.send(view.layout.line(line), SimDuration::ZERO, StoreMsg::LaneIdle { lane: self.id }),
            None => self.try_start(view, metrics, ctx),
        }
        self.maybe_idle(view, ctx);
    }

    fn set_open(&mut self, open: bool, metrics: &mut Metrics, now: SimTime) {
        if open == self.open {
            return;
        }
        self.open = open;
        let stats = &mut metrics.servers[usize::from(self.id.0)];
        match (open, self.open_since.take()) {
            (true, _) => self.open_since = Some(now),
            (false, Some(since)) => stats.open_s += now.saturating_since(since).as_secs_f64(),
            (false, None) => {}
        }
    }

    /// Closes the books at the end of the run.
    pub fn close_books(&mut self, metrics: &mut Metrics, now: SimTime) {
        if let Some(since) = self.open_since {
            metrics.servers[usize::from(self.id.0)].open_s += now.saturating_since(since).as_secs_f64();
            self.open_since = Some(now);
        }
        if self.serving.is_some() {
            metrics.servers[usize::from(self.id.0)].busy_s += now.saturating_since(self.service_started).as_secs_f64();
            self.service_started = now;
        }
    }
}

pub fn handle_lane(
    lane: &mut Lane,
    msg: StoreMsg,
    view: &View<'_>,
    metrics: &mut Metrics,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let now = ctx.now();
    match msg {
        StoreMsg::Join { shopper, items, payment } => {
            lane.queue.push_back(Waiting { shopper, items, payment, joined: now });
            metrics.queues[usize::from(lane.id.0)].on_join(now);
            lane.try_start(view, metrics, ctx);
            if view.spec.store.lane_policy.open_when_queue == Some(lane.queue.len() as u32) {
                ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::QueueLong { lane: lane.id });
            }
        }
        StoreMsg::Leave { shopper, jockey } => {
            if let Some(pos) = lane.queue.iter().position(|w| w.shopper == shopper) {
                let w = lane.queue.remove(pos).expect("position is in range");
                let how = if jockey { Departure::Jockeyed } else { Departure::Reneged };
                metrics.queues[usize::from(lane.id.0)].on_leave(now, now.saturating_since(w.joined).as_secs_f64(), how);
                ctx.send(view.layout.shopper(shopper), SimDuration::ZERO, StoreMsg::LeftQueue);
            }
        }
        StoreMsg::Serve { shopper, items, payment } => {
            if lane.serving.is_some() {
                ctx.fail("one shopper per server", format!("lane {} was sent a shopper while busy", lane.id.0));
                return;
            }
            lane.begin(Waiting { shopper, items, payment, joined: now }, ctx);
        }
        StoreMsg::ServiceDone => {
            // In a chain, the payment goes through the office (coupons, points, the payment
            // record), and the lane waits for its answer.
            if let (Some(office), Some(w)) = (view.layout.office(), &lane.serving) {
                let pay = StoreMsg::TillPayment { shopper: w.shopper, lane: lane.id };
                ctx.send(office, SimDuration::ZERO, pay);
                return;
            }
            lane.finish_payment(Cents::ZERO, view, metrics, ctx);
        }
        StoreMsg::PaymentDone { discount } => lane.finish_payment(Cents(i64::from(discount)), view, metrics, ctx),
        StoreMsg::SetLaneOpen { open, by_policy } => {
            // The policy may later close what it opened; a lane the ops team opened stays.
            if open && !lane.open {
                lane.opened_by_policy = by_policy;
            } else if !open {
                lane.opened_by_policy = false;
            }
            lane.set_open(open, metrics, now);
            lane.wake(view, metrics, ctx);
            lane.maybe_idle(view, ctx);
        }
        StoreMsg::SetLaneClosedByDisruption { closed } => {
            lane.closures = if closed { lane.closures + 1 } else { lane.closures.saturating_sub(1) };
            lane.closed_by_disruption = lane.closures > 0;
            lane.wake(view, metrics, ctx);
        }
        StoreMsg::IdleCheck { since } => {
            if lane.idle_since == Some(since)
                && lane.queue.is_empty()
                && lane.serving.is_none()
                && lane.opened_by_policy
            {
                lane.opened_by_policy = false;
                lane.set_open(false, metrics, now);
            }
        }
        StoreMsg::SetPosDown { down } => {
            lane.pos_outages = if down { lane.pos_outages + 1 } else { lane.pos_outages.saturating_sub(1) };
            lane.down = lane.pos_outages > 0;
            lane.wake(view, metrics, ctx);
        }
        // A real POS transaction (see `sensors`): the real store's books, not the model's.
        StoreMsg::PosSold { items, paid } => metrics.real.pos_sold(lane.id, items, paid),
        other => ctx.fail("message routing", format!("lane {} got {other:?}", lane.id.0)),
    }
}

impl Lane {
    /// After a change of state: serve the own queue, or tell the line this lane is free.
    fn wake(&mut self, view: &View<'_>, metrics: &mut Metrics, ctx: &mut Context<'_, StoreMsg>) {
        match self.line {
            Some(line) if self.serving.is_none() => {
                ctx.send(view.layout.line(line), SimDuration::ZERO, StoreMsg::LaneIdle { lane: self.id })
            }
            Some(_) => {}
            None => self.try_start(view, metrics, ctx),
        }
    }

    /// After a service or an opening: if idle with nobody waiting, start the policy's
    /// idle timer for a lane the policy opened.
    fn maybe_idle(&mut self, view: &View<'_>, ctx: &mut Context<'_, StoreMsg>) {
        if self.serving.is_some() || !self.queue.is_empty() {
            return;
        }
        let since = ctx.now();
        self.idle_since = Some(since);
        if let (true, Some(after)) = (self.opened_by_policy, view.spec.store.lane_policy.close_when_idle) {
            ctx.schedule(after, StoreMsg::IdleCheck { since });
        }
    }
}

/// One queue feeding several lanes: the next free lane takes the head of the line.
#[derive(Clone, Debug)]
pub struct SharedLine {
    pub index: u16,
    pub capacity: Option<u32>,
    pub lanes: Vec<LaneId>,
    pub queue: VecDeque<Waiting>,
    /// A shopper has been sent to this lane (same order as `lanes`) and it has not yet
    /// reported back idle.
    assigned: Vec<bool>,
    last_started: SimTime,
}

impl SharedLine {
    pub fn new(index: u16, spec: &SharedLineSpec, lanes: &[LaneSpec]) -> Self {
        let members: Vec<LaneId> =
            lanes.iter().enumerate().filter(|(_, l)| l.line == Some(index)).map(|(i, _)| LaneId(i as u16)).collect();
        SharedLine {
            index,
            capacity: spec.capacity,
            assigned: vec![false; members.len()],
            lanes: members,
            queue: VecDeque::with_capacity(64),
            last_started: SimTime::ZERO,
        }
    }

    pub fn is_full(&self) -> bool {
        self.capacity.is_some_and(|c| self.queue.len() as u32 >= c)
    }

    fn dispatch(&mut self, view: &View<'_>, metrics: &mut Metrics, ctx: &mut Context<'_, StoreMsg>) {
        let qi = queue_index(view.lanes.len(), QueueRef::Line(self.index));
        for (slot, lane_id) in self.lanes.iter().enumerate() {
            if self.queue.is_empty() {
                return;
            }
            let lane = &view.lanes[usize::from(lane_id.0)];
            if self.assigned[slot] || !lane.accepts() || lane.serving.is_some() {
                continue;
            }
            let w = self.queue.pop_front().expect("checked non-empty");
            if w.joined < self.last_started {
                ctx.fail("FIFO per queue", format!("line {} served a later arrival first", self.index));
            }
            self.last_started = w.joined;
            metrics.queues[qi].on_leave(
                ctx.now(),
                ctx.now().saturating_since(w.joined).as_secs_f64(),
                Departure::Served,
            );
            self.assigned[slot] = true;
            ctx.send(view.layout.shopper(w.shopper), SimDuration::ZERO, StoreMsg::ServiceStarted { lane: *lane_id });
            let serve = StoreMsg::Serve { shopper: w.shopper, items: w.items, payment: w.payment };
            ctx.send(view.layout.lane(*lane_id), SimDuration::ZERO, serve);
        }
    }
}

pub fn handle_line(
    line: &mut SharedLine,
    msg: StoreMsg,
    view: &View<'_>,
    metrics: &mut Metrics,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let now = ctx.now();
    let qi = queue_index(view.lanes.len(), QueueRef::Line(line.index));
    match msg {
        StoreMsg::Join { shopper, items, payment } => {
            line.queue.push_back(Waiting { shopper, items, payment, joined: now });
            metrics.queues[qi].on_join(now);
            line.dispatch(view, metrics, ctx);
            let policy = view.spec.store.lane_policy.open_when_queue;
            if let (Some(n), Some(first)) = (policy, line.lanes.first())
                && line.queue.len() as u32 == n
            {
                ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::QueueLong { lane: *first });
            }
        }
        StoreMsg::Leave { shopper, jockey } => {
            if let Some(pos) = line.queue.iter().position(|w| w.shopper == shopper) {
                let w = line.queue.remove(pos).expect("position is in range");
                let how = if jockey { Departure::Jockeyed } else { Departure::Reneged };
                metrics.queues[qi].on_leave(now, now.saturating_since(w.joined).as_secs_f64(), how);
                ctx.send(view.layout.shopper(shopper), SimDuration::ZERO, StoreMsg::LeftQueue);
            }
        }
        StoreMsg::LaneIdle { lane } => {
            if let Some(slot) = line.lanes.iter().position(|l| *l == lane) {
                line.assigned[slot] = false;
            }
            line.dispatch(view, metrics, ctx);
        }
        other => ctx.fail("message routing", format!("line {} got {other:?}", line.index)),
    }
}
