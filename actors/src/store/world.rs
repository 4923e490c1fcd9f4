//! A store world on the kernel: the actors of one store and the messages between them.
//!
//! Actor ids are laid out shoppers first (`0..shoppers`), then the store, the lanes, the
//! shared lines, the devices and the sampler, and, for a store of a chain, its office
//! (see [`crate::store::office`]) last. Shoppers come first so that a shopper keeps
//! its id, and so its random stream, when another part of the scenario changes: the basis
//! of common random numbers between two layouts.
//!
//! Each actor decides from what it can see: the model hands it a read-only [`View`] of the
//! floor (shelf stock and labels, queue lengths, positions), the way a shopper sees the
//! store. Every change to another actor's state goes by message.

use rand::RngExt;
use storetwin_engine::{ActorId, Context, Model, Seed, SimDuration, SimTime};

use crate::chain::link::{Down, OrderId};
use crate::money::Cents;
use crate::store::crowd::{Crowd, Footprint};
use crate::store::device::{self, Device};
use crate::store::floor::Floor;
use crate::store::lane::{self, Lane, SharedLine};
use crate::store::metrics::Metrics;
use crate::store::office::{self, Office};
use crate::store::shopper::{self, Shopper};
use crate::store::spec::{Cell, DeviceId, LaneId, Payment, SegmentId, SkuId, WorldSpec};
use crate::store::stock::{self, Store};

/// Index of a shopper in the world.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ShopperId(pub u32);

/// Which queue a shopper joined.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum QueueRef {
    Lane(LaneId),
    Line(u16),
}

/// Every message of a store world. Small and `Copy`: it is stored inline in the queue.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum StoreMsg {
    // To a shopper.
    Arrive,
    Step,
    ShelfDone,
    Picked {
        sku: SkuId,
        price: Cents,
    },
    OutOfStock {
        sku: SkuId,
    },
    /// Your turn at the kiosk.
    KioskStart,
    /// The kiosk order is done (`ordered`: the kiosk worked and took the order).
    KioskDone {
        ordered: bool,
    },
    /// Service began at this lane (the shopper steps up to its till).
    ServiceStarted {
        lane: LaneId,
    },
    Served,
    PatienceOut {
        ticket: u32,
    },
    LeftQueue,
    /// While queued at a lane: look whether another queue is clearly shorter.
    LookAround {
        ticket: u32,
    },
    /// A face camera recognised this member.
    Recognised,
    /// A walker facing this blocked shopper stepped into its cell: step into theirs
    /// (the two swap places).
    SwapInto {
        cell: crate::store::spec::Cell,
    },
    // To the store.
    /// The ops team changes a price (the till at once, the ESLs after their latency).
    SetPrice {
        sku: SkuId,
        price: Cents,
    },
    Pick {
        shopper: ShopperId,
        sku: SkuId,
    },
    Return {
        sku: SkuId,
    },
    CheckedOut {
        shopper: ShopperId,
    },
    LowStock {
        sku: SkuId,
    },
    RestockDone {
        sku: SkuId,
    },
    StaffRound,
    /// A queue of this lane reached the policy's length: open another lane of its kind.
    QueueLong {
        lane: LaneId,
    },
    Disruption {
        index: u16,
        start: bool,
    },
    // To a lane, a shared line or a kiosk.
    Join {
        shopper: ShopperId,
        items: u16,
        payment: Payment,
    },
    /// Leave the queue: reneging, or (`jockey`) moving to a shorter one.
    Leave {
        shopper: ShopperId,
        jockey: bool,
    },
    Serve {
        shopper: ShopperId,
        items: u16,
        payment: Payment,
    },
    ServiceDone,
    LaneIdle {
        lane: LaneId,
    },
    /// Open or close a lane: by the lane policy, or (`by_policy: false`) by the ops team.
    SetLaneOpen {
        open: bool,
        by_policy: bool,
    },
    /// A scheduled closure starts (`true`) or ends: the lane takes no shoppers meanwhile.
    SetLaneClosedByDisruption {
        closed: bool,
    },
    SetPosDown {
        down: bool,
    },
    /// The policy's idle timer of a lane it opened.
    IdleCheck {
        since: SimTime,
    },
    // To a device.
    Passed {
        shopper: ShopperId,
    },
    DeviceTick,
    SetDeviceUp {
        up: bool,
    },
    /// Accuracy in thousandths of normal (1000 = as specified).
    SetAccuracy {
        per_mille: u16,
    },
    RandomFailure,
    RandomRepair,
    PriceUpdate {
        sku: SkuId,
        price: Cents,
    },
    // To the sampler.
    Sample,
    // Chain stores only (see `office`): from the centres to the office, and between the
    // office and the store's stock.
    /// A message from the centres.
    Platform(Down),
    /// The office's stock-sync timer.
    SyncStock,
    /// Reserve every line of this order (to the store), and the answer (to the office).
    ReserveOrder {
        order: OrderId,
    },
    OrderReserved {
        order: OrderId,
        ok: bool,
    },
    /// A reserved unit leaves the store with its order (collected or dispatched).
    HandOver {
        sku: SkuId,
    },
    /// A reserved unit of an expired order goes back to the back room.
    ReturnUnit {
        sku: SkuId,
    },
    /// A reserved unit of a ship-to-store order leaves in transit to the ordering store.
    SendUnit {
        sku: SkuId,
    },
    /// A unit of a ship-to-store order arrives from the fulfilling store, held for the
    /// order at the pickup counter.
    ReceiveUnit {
        sku: SkuId,
    },
    PickDone {
        order: OrderId,
    },
    CustomerArrives {
        order: OrderId,
    },
    CounterDone {
        order: OrderId,
    },
    HoldExpires {
        order: OrderId,
    },
    /// A kiosk took an "endless aisle" order for `sku` (member id, or `u32::MAX`); the
    /// office asks the shopper whether to collect it here or have it delivered.
    KioskOrdered {
        sku: SkuId,
        member: u32,
    },
    /// A chain store's till asks the office to settle the shopper's payment (coupons,
    /// points, the payment record), and the office's answer: the discount given, in cents.
    TillPayment {
        shopper: ShopperId,
        lane: LaneId,
    },
    PaymentDone {
        discount: u32,
    },
    /// A member shopper is offered the coupons of campaigns issued through `channel`
    /// (`IssueChannel as u8`: QR posters at the door, the WiFi portal, a beacon's push).
    OfferCoupons {
        shopper: ShopperId,
        channel: u8,
    },
    /// A member shopper was identified: fetch the coupons the member already holds.
    FetchWallet {
        shopper: ShopperId,
    },
    /// A flash-sale step at the office's desk.
    Flash(crate::chain::flash::FlashMsg),
    /// A shopper who is not a member logged in to the WiFi portal with the app: the portal
    /// offers membership (register to get the welcome coupons).
    OfferMembership {
        shopper: ShopperId,
    },
    /// The till of transaction `txn` has waited `coupon_timeout` for the coupon centre.
    CouponTimeout {
        txn: crate::chain::link::Txn,
    },
    // What the real store's devices reported (see `sensors`): injected from outside, never
    // sent by an actor, and distinct from the ops team's interventions.
    /// To a door counter: the real one counted `people` in since its last reading.
    DoorCounted {
        people: u32,
    },
    /// To the store: the real smart shelf `device` weighed `grams` of `sku` on its shelf.
    ShelfWeighed {
        device: DeviceId,
        sku: SkuId,
        grams: u32,
    },
    /// To a device: the real one's heartbeat (`up`) or reported fault.
    DeviceReported {
        up: bool,
    },
    /// To a lane: a real POS transaction of `items` items, `paid` taken.
    PosSold {
        items: u16,
        paid: Cents,
    },
    /// To an ESL: the real label acknowledged it shows `price` for `sku`.
    EslAcked {
        sku: SkuId,
        price: Cents,
    },
}

impl StoreMsg {
    /// A stable one-byte code for the kind of message, and its main argument (a shopper,
    /// SKU, lane or ticket; 0 if none): what an event log records of it.
    pub fn code(&self) -> (u8, u32) {
        use StoreMsg::*;
        match *self {
            Arrive => (1, 0),
            Step => (2, 0),
            ShelfDone => (3, 0),
            Picked { sku, .. } => (4, sku.0),
            OutOfStock { sku } => (5, sku.0),
            KioskDone { ordered } => (6, u32::from(ordered)),
            ServiceStarted { lane } => (7, u32::from(lane.0)),
            KioskStart => (39, 0),
            Served => (8, 0),
            PatienceOut { ticket } => (9, ticket),
            LeftQueue => (10, 0),
            Pick { shopper, .. } => (11, shopper.0),
            Return { sku } => (12, sku.0),
            CheckedOut { shopper } => (13, shopper.0),
            LowStock { sku } => (14, sku.0),
            RestockDone { sku } => (15, sku.0),
            Disruption { index, .. } => (16, u32::from(index)),
            Join { shopper, .. } => (17, shopper.0),
            Leave { shopper, .. } => (18, shopper.0),
            Serve { shopper, .. } => (19, shopper.0),
            ServiceDone => (20, 0),
            LaneIdle { lane } => (21, u32::from(lane.0)),
            SetLaneOpen { open, .. } => (22, u32::from(open)),
            SetPosDown { down } => (23, u32::from(down)),
            SetLaneClosedByDisruption { closed } => (34, u32::from(closed)),
            Passed { shopper } => (24, shopper.0),
            DeviceTick => (25, 0),
            SetDeviceUp { up } => (26, u32::from(up)),
            RandomFailure => (27, 0),
            RandomRepair => (28, 0),
            PriceUpdate { sku, .. } => (29, sku.0),
            Sample => (30, 0),
            StaffRound => (31, 0),
            QueueLong { lane } => (32, u32::from(lane.0)),
            IdleCheck { .. } => (33, 0),
            LookAround { ticket } => (35, ticket),
            Recognised => (36, 0),
            SwapInto { cell } => (40, u32::from(cell.x) << 16 | u32::from(cell.y)),
            SetAccuracy { per_mille } => (37, u32::from(per_mille)),
            SetPrice { sku, .. } => (38, sku.0),
            Platform(down) => (39, platform_code(&down)),
            SyncStock => (40, 0),
            ReserveOrder { order } => (41, order.0),
            OrderReserved { order, .. } => (42, order.0),
            HandOver { sku } => (43, sku.0),
            ReturnUnit { sku } => (44, sku.0),
            SendUnit { sku } => (54, sku.0),
            ReceiveUnit { sku } => (55, sku.0),
            PickDone { order } => (45, order.0),
            CustomerArrives { order } => (46, order.0),
            CounterDone { order } => (47, order.0),
            HoldExpires { order } => (48, order.0),
            KioskOrdered { sku, .. } => (49, sku.0),
            TillPayment { shopper, .. } => (50, shopper.0),
            PaymentDone { discount } => (51, discount),
            OfferCoupons { shopper, .. } => (52, shopper.0),
            FetchWallet { shopper } => (53, shopper.0),
            Flash(m) => (56, flash_code(&m)),
            OfferMembership { shopper } => (54, shopper.0),
            CouponTimeout { txn } => (55, txn.0),
            DoorCounted { people } => (57, people),
            ShelfWeighed { sku, .. } => (58, sku.0),
            DeviceReported { up } => (59, u32::from(up)),
            PosSold { items, .. } => (60, u32::from(items)),
            EslAcked { sku, .. } => (61, sku.0),
        }
    }
}

/// The main argument of a message from the centres, for the event log.
fn platform_code(down: &Down) -> u32 {
    match *down {
        Down::OrderLine { order, .. } | Down::OrderPlaced { order, .. } | Down::TransferArrived { order, .. } => {
            order.0
        }
        Down::Issued { ticket, .. } | Down::ClaimRefused { ticket, .. } | Down::Registered { ticket, .. } => ticket,
        Down::Redeemed { txn, .. } => txn.0,
        Down::GrabAnswer { client, .. }
        | Down::ReplicaLeft { client, .. }
        | Down::FlashPaid { client, .. }
        | Down::FlashReturned { client, .. }
        | Down::PreOrderAnswer { client, .. }
        | Down::PreOrderRefunded { client, .. }
        | Down::PreOrderShipped { client, .. } => client,
        Down::QuotaGrant { units } => units,
    }
}

/// The main argument of a flash-sale step, for the event log.
fn flash_code(m: &crate::chain::flash::FlashMsg) -> u32 {
    use crate::chain::flash::FlashMsg::*;
    match *m {
        Arrive { demand } | Target { demand } => u32::from(demand),
        Send { client }
        | KioskDone { client }
        | Timeout { client, .. }
        | PayNow { client }
        | CounterDone { client }
        | LocalArrive { client }
        | LocalAnswer { client } => client,
        LocalServed | LocalExpire | LocalSweep => 0,
    }
}

/// The actor-id layout of a world.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub shoppers: u32,
    pub lanes: u32,
    pub lines: u32,
    pub devices: u32,
    /// 1 for a store of a chain (its office is the last actor), else 0.
    pub offices: u32,
}

impl Layout {
    /// No actors (what the controls of a chain without stores address).
    pub const EMPTY: Layout = Layout { shoppers: 0, lanes: 0, lines: 0, devices: 0, offices: 0 };

    pub fn shopper(&self, s: ShopperId) -> ActorId {
        ActorId(s.0)
    }
    pub fn store(&self) -> ActorId {
        ActorId(self.shoppers)
    }
    pub fn lane(&self, l: LaneId) -> ActorId {
        ActorId(self.shoppers + 1 + u32::from(l.0))
    }
    pub fn line(&self, i: u16) -> ActorId {
        ActorId(self.shoppers + 1 + self.lanes + u32::from(i))
    }
    pub fn queue(&self, q: QueueRef) -> ActorId {
        match q {
            QueueRef::Lane(l) => self.lane(l),
            QueueRef::Line(i) => self.line(i),
        }
    }
    pub fn device(&self, d: DeviceId) -> ActorId {
        ActorId(self.shoppers + 1 + self.lanes + self.lines + u32::from(d.0))
    }
    pub fn sampler(&self) -> ActorId {
        ActorId(self.shoppers + 1 + self.lanes + self.lines + self.devices)
    }
    /// The store's office, if it is a store of a chain.
    pub fn office(&self) -> Option<ActorId> {
        (self.offices > 0).then(|| ActorId(self.shoppers + 2 + self.lanes + self.lines + self.devices))
    }
    pub fn count(&self) -> u32 {
        self.shoppers + 2 + self.lanes + self.lines + self.devices + self.offices
    }
}

/// What an actor may look at while deciding (never change).
pub struct View<'a> {
    pub spec: &'a WorldSpec,
    pub floor: &'a Floor,
    pub layout: Layout,
    pub store: &'a Store,
    pub lanes: &'a [Lane],
    pub lines: &'a [SharedLine],
    pub devices: &'a [Device],
    pub shoppers: &'a [Shopper],
    pub crowd: &'a Crowd,
    /// The office of a chain store (`None` alone, or while the office is acting).
    pub office: &'a Option<Box<Office>>,
}

/// One row of the per-minute time series.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub at: SimTime,
    pub occupancy: u32,
    pub entered: u64,
    pub left: u64,
    pub buyers: u64,
    pub sales: Cents,
    pub queue_total: u32,
    pub open_lanes: u32,
    pub door_count: u64,
    pub lost_items: u64,
    /// Per queue (same order as the KPIs' queues): people waiting now, and, so far, how
    /// many started service and their total wait in seconds (differences between two
    /// samples give the mean wait over that span).
    pub queue_lengths: Vec<u32>,
    pub queue_started: Vec<u64>,
    pub queue_wait_s: Vec<f64>,
    pub picked_something: u64,
    pub members_identified: u64,
}

/// Stream domain of the arrival process (a stream outside any actor).
const ARRIVALS_DOMAIN: u64 = 0x5354_4f52_4541_5252; // "STOREARR"

#[derive(Clone)]
pub struct StoreWorld {
    pub spec: WorldSpec,
    /// Shared by the stores of a chain built on the same floor plan (read-only).
    pub floor: std::sync::Arc<Floor>,
    pub layout: Layout,
    pub store: Store,
    pub lanes: Vec<Lane>,
    pub lines: Vec<SharedLine>,
    pub devices: Vec<Device>,
    pub shoppers: Vec<Shopper>,
    pub metrics: Metrics,
    /// Who stands where: cell occupancy, queue footprints, crowding statistics.
    pub crowd: Crowd,
    pub samples: Vec<Sample>,
    /// Shoppers inside the store, in no particular order (swap-removed on leaving).
    pub inside: Vec<ShopperId>,
    pub sample_every: SimDuration,
    /// A chain store's office (its link to the centres, pickers, pickup counter).
    pub office: Option<Box<Office>>,
}

impl StoreWorld {
    /// Builds the world: the arrival times of the day's shoppers are drawn here, from the
    /// seed's arrival stream (a non-homogeneous Poisson process, constant per hour).
    pub fn build(spec: WorldSpec, seed: Seed) -> StoreWorld {
        let floor = std::sync::Arc::new(Floor::build(&spec.store));
        StoreWorld::build_on(spec, seed, floor)
    }

    /// As [`Self::build`], on a floor already built from an equal plan (see
    /// [`Floor::same_plan`]).
    pub fn build_on(spec: WorldSpec, seed: Seed, floor: std::sync::Arc<Floor>) -> StoreWorld {
        StoreWorld::build_with(spec, seed, floor, &[])
    }

    /// As [`Self::build_on`], with more shoppers arriving at `extra` (a load test's
    /// ordinary shoppers) after the day's own: they come last, so the day's shoppers keep
    /// their ids and streams, and each one's segment is drawn from a stream of its own.
    fn build_with(spec: WorldSpec, seed: Seed, floor: std::sync::Arc<Floor>, extra: &[SimTime]) -> StoreWorld {
        let mut arrivals = draw_arrivals(&spec, seed);
        let mut rng = seed.stream(ARRIVALS_DOMAIN, 1);
        let end = SimTime::ZERO.saturating_add(spec.duration);
        for &at in extra.iter().filter(|&&at| at < end) {
            arrivals.push((at, draw_segment(&spec.store.segments, rng.random())));
        }
        let layout = Layout {
            shoppers: arrivals.len() as u32,
            lanes: spec.store.lanes.len() as u32,
            lines: spec.store.lines.len() as u32,
            devices: spec.store.devices.len() as u32,
            offices: 0,
        };
        let shoppers = arrivals.into_iter().map(|(at, segment)| Shopper::new(at, segment)).collect();
        let store = Store::new(&spec.store, &floor);
        let lanes = spec.store.lanes.iter().enumerate().map(|(i, l)| Lane::new(LaneId(i as u16), l)).collect();
        let lines = spec
            .store
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| SharedLine::new(i as u16, line, &spec.store.lanes))
            .collect();
        let devices = spec
            .store
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| Device::new(DeviceId(i as u16), d, &spec.store, &floor))
            .collect();
        let queues = spec.store.lanes.len() + spec.store.lines.len();
        let metrics = Metrics::new(
            floor.cell_count(),
            floor.zone_names.len(),
            queues,
            spec.store.lanes.len(),
            floor.kiosks.len(),
        );
        let crowd = build_crowd(&spec, &floor);
        StoreWorld {
            floor,
            layout,
            store,
            lanes,
            lines,
            devices,
            shoppers,
            metrics,
            crowd,
            samples: Vec::new(),
            inside: Vec::new(),
            sample_every: SimDuration::from_secs(60),
            office: None,
            spec,
        }
    }

    /// The world of a store of a chain: as [`Self::build`], plus the office as the last
    /// actor (so every other actor keeps its id and random stream).
    pub fn build_in_chain(spec: WorldSpec, seed: Seed, office: Office, floor: std::sync::Arc<Floor>) -> StoreWorld {
        let extra = office.flash.as_deref().map(|d| d.ordinary_arrivals.clone()).unwrap_or_default();
        let mut world = StoreWorld::build_with(spec, seed, floor, &extra);
        world.layout.offices = 1;
        world.office = Some(Box::new(office));
        world
    }

    /// Index of a queue in `metrics.queues`: lanes first, then shared lines.
    pub fn queue_index(&self, q: QueueRef) -> usize {
        queue_index(self.spec.store.lanes.len(), q)
    }
}

pub fn queue_index(lanes: usize, q: QueueRef) -> usize {
    match q {
        QueueRef::Lane(l) => usize::from(l.0),
        QueueRef::Line(i) => lanes + usize::from(i),
    }
}

/// An empty floor with its capacities and the queues' footprints: one per KPI queue index
/// (a lane's own queue: its cell; a shared line: its lanes' cells), then one per kiosk.
fn build_crowd(spec: &WorldSpec, floor: &Floor) -> Crowd {
    let store = &spec.store;
    let zone_of = (0..floor.cell_count()).map(|i| floor.zone_of_index(i)).collect();
    let mut crowd = Crowd::new(
        floor.capacities(store.max_density_per_m2),
        floor.cell_m * floor.cell_m,
        zone_of,
        floor.zone_names.len(),
    );
    let lane_cells = |l: usize| floor.lane_cells.get(l).cloned().unwrap_or_default();
    for (l, lane) in store.lanes.iter().enumerate() {
        let cells = if lane.line.is_none() { floor.queue_footprint(&lane_cells(l)) } else { Vec::new() };
        crowd.footprints.push(Footprint { cells, members: 0 });
    }
    for i in 0..store.lines.len() {
        let sources: Vec<Cell> = store
            .lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| l.line == Some(i as u16))
            .flat_map(|(l, _)| lane_cells(l))
            .collect();
        crowd.footprints.push(Footprint { cells: floor.queue_footprint(&sources), members: 0 });
    }
    for (cell, _) in &floor.kiosks {
        crowd.footprints.push(Footprint { cells: floor.queue_footprint(&[*cell]), members: 0 });
    }
    crowd
}

/// Index of kiosk `k` (its place in `Floor::kiosks`) among the crowd's footprints.
pub fn kiosk_footprint(spec: &WorldSpec, k: usize) -> usize {
    spec.store.lanes.len() + spec.store.lines.len() + k
}

/// Arrival times and segments of the day, in time order.
fn draw_arrivals(spec: &WorldSpec, seed: Seed) -> Vec<(SimTime, SegmentId)> {
    let mut rng = seed.stream(ARRIVALS_DOMAIN, 0);
    let segments = &spec.store.segments;
    let mut out = Vec::new();
    let end = spec.duration.as_secs_f64();
    for (hour, rate) in spec.store.arrivals_per_hour.iter().enumerate() {
        if *rate <= 0.0 {
            continue;
        }
        let (from, to) = (hour as f64 * 3600.0, ((hour + 1) as f64 * 3600.0).min(end));
        let mut t = from;
        loop {
            let gap: f64 = rand_distr::Distribution::sample(&rand_distr::Exp1, &mut rng);
            t += gap * 3600.0 / rate;
            if t >= to {
                break;
            }
            out.push((SimTime::from_secs_f64(t), draw_segment(segments, rng.random())));
        }
    }
    out
}

/// The segment a shopper belongs to, by the segments' shares, from the draw `u`.
fn draw_segment(segments: &[crate::store::spec::SegmentSpec], u: f64) -> SegmentId {
    let mut acc = 0.0;
    for (i, s) in segments.iter().enumerate() {
        acc += s.share;
        if u < acc {
            return SegmentId(i as u8);
        }
    }
    SegmentId(segments.len().saturating_sub(1) as u8)
}

/// The [`View`] of world `$w` showing the named collections; the others (always the
/// acting actor's own kind, which is borrowed mutably meanwhile) read as empty.
macro_rules! view {
    ($w:ident; $($field:ident),*) => {
        View { $($field: &$w.$field,)* ..View::empty(&$w.spec, &$w.floor, $w.layout) }
    };
}

/// The store as seen by the store itself (its own state is borrowed mutably meanwhile).
static NO_STORE: Store = Store::EMPTY;
static NO_CROWD: Crowd = Crowd::EMPTY;

impl<'a> View<'a> {
    /// A view with the floor and nothing on it.
    pub fn empty(spec: &'a WorldSpec, floor: &'a Floor, layout: Layout) -> Self {
        View {
            spec,
            floor,
            layout,
            store: &NO_STORE,
            lanes: &[],
            lines: &[],
            devices: &[],
            shoppers: &[],
            crowd: &NO_CROWD,
            office: &None,
        }
    }
}

impl Model for StoreWorld {
    type Msg = StoreMsg;

    fn actor_count(&self) -> u32 {
        self.layout.count()
    }

    fn start(&mut self, ctx: &mut Context<'_, StoreMsg>) {
        let id = ctx.me().0;
        let l = self.layout;
        if id < l.shoppers {
            let view = view!(self; store, devices);
            self.shoppers[id as usize].start(&view, ctx);
        } else if id == l.store().0 {
            stock::start(&self.spec, l, ctx);
        } else if id == l.sampler().0 {
            ctx.schedule(SimDuration::ZERO, StoreMsg::Sample);
        } else if Some(ctx.me()) == l.office() {
            if let Some(o) = &mut self.office {
                office::start(o, ctx);
            }
        } else if id >= l.device(DeviceId(0)).0 {
            let d = (id - l.device(DeviceId(0)).0) as usize;
            self.devices[d].start(ctx);
        }
    }

    fn handle(&mut self, msg: StoreMsg, ctx: &mut Context<'_, StoreMsg>) {
        let id = ctx.me().0;
        let l = self.layout;
        if id < l.shoppers {
            let view = view!(self; store, lanes, lines, devices, office);
            let shopper = &mut self.shoppers[id as usize];
            let place = shopper::Place { inside: &mut self.inside, crowd: &mut self.crowd };
            shopper::handle(shopper, ShopperId(id), msg, &view, &mut self.metrics, place, ctx);
        } else if id == l.store().0 {
            let view = view!(self; lanes, lines, devices, shoppers, crowd, office);
            stock::handle(&mut self.store, msg, &view, &mut self.metrics, ctx);
        } else if id < l.line(0).0 {
            let view = view!(self; store, lines, devices, shoppers, crowd);
            let lane = &mut self.lanes[(id - l.lane(LaneId(0)).0) as usize];
            lane::handle_lane(lane, msg, &view, &mut self.metrics, ctx);
        } else if id < l.device(DeviceId(0)).0 {
            let view = view!(self; store, lanes, devices, shoppers, crowd);
            let line = &mut self.lines[(id - l.line(0).0) as usize];
            lane::handle_line(line, msg, &view, &mut self.metrics, ctx);
        } else if id < l.sampler().0 {
            let view = view!(self; store, lanes, lines, shoppers, crowd);
            let device = &mut self.devices[(id - l.device(DeviceId(0)).0) as usize];
            device::handle(device, msg, &view, &self.inside, &mut self.metrics, ctx);
        } else if id == l.sampler().0 {
            self.sample(ctx);
        } else if let Some(mut o) = self.office.take() {
            let view = view!(self; store, lanes, lines, devices, shoppers, crowd);
            office::handle(&mut o, msg, &view, ctx);
            self.office = Some(o);
        }
    }
}

impl StoreWorld {
    /// The queues in the KPIs' order (own-queue lanes, then shared lines): each one's
    /// statistics and who waits in it now.
    pub fn kpi_queues(
        &self,
    ) -> impl Iterator<
        Item = (&crate::store::metrics::QueueStats, &std::collections::VecDeque<crate::store::lane::Waiting>),
    > + '_ {
        let lanes = self.lanes.len();
        let own = self
            .lanes
            .iter()
            .filter(|l| l.line.is_none())
            .map(|l| (&self.metrics.queues[usize::from(l.id.0)], &l.queue));
        let shared = self
            .lines
            .iter()
            .map(move |line| (&self.metrics.queues[queue_index(lanes, QueueRef::Line(line.index))], &line.queue));
        own.chain(shared)
    }

    fn sample(&mut self, ctx: &mut Context<'_, StoreMsg>) {
        let queues: Vec<&crate::store::metrics::QueueStats> = self.kpi_queues().map(|(stats, _)| stats).collect();
        let queue_lengths: Vec<u32> = queues.iter().map(|q| q.length()).collect();
        let queue_started = queues.iter().map(|q| q.started).collect();
        let queue_wait_s = queues.iter().map(|q| q.served_wait_s).collect();
        let m = &self.metrics;
        self.samples.push(Sample {
            at: ctx.now(),
            occupancy: self.inside.len() as u32,
            entered: m.entered,
            left: m.left,
            buyers: m.buyers,
            sales: m.sales,
            queue_total: queue_lengths.iter().sum(),
            open_lanes: self.lanes.iter().filter(|l| l.is_open()).count() as u32,
            door_count: m.door_count,
            lost_items: m.lost_items.iter().sum(),
            queue_lengths,
            queue_started,
            queue_wait_s,
            picked_something: m.picked_something,
            members_identified: m.members_identified,
        });
        if ctx.now().saturating_add(self.sample_every) <= SimTime::ZERO.saturating_add(self.spec.duration) {
            ctx.schedule(self.sample_every, StoreMsg::Sample);
        }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// Messages live inline in the event queue: chain concerns must not make the store's
    /// message bigger (cross-shard messages are their own type, see `chain::link`).
    #[test]
    fn a_store_message_stays_small() {
        assert!(std::mem::size_of::<StoreMsg>() <= 16, "StoreMsg is {} bytes", std::mem::size_of::<StoreMsg>());
    }
}
