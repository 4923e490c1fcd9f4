//! The live stream's JSON: what a remote viewer (the server's WebSocket clients: the
//! browser view, the Bevy twin in `--connect` mode) receives of a live store.
//!
//! [`WireFrame`] is one [`Snapshot`] with the session's [`Status`], carrying a `version`
//! ([`WIRE_VERSION`]), and turns back into the same snapshot ([`WireFrame::to_frame`]), so a
//! remote viewer draws exactly what a local one would. [`WireFloor`] is the part that never
//! changes during a session (the plan, lanes, devices, queues' names), fetched once.
//! Everything is plain data in the scenario's names; no field refers to kernel internals.
//!
//! A store of a served chain adds [`WireChain`] to its frames (the flash sale as it
//! happens, this store's and the chain's, and the chain's orders, pickers and coupons)
//! and [`WireSale`] to its floor (the sale's zone). Both are optional fields: a client
//! that does not know them reads the rest unchanged.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use storetwin_engine::{SimDuration, SimTime};

use crate::chain::channel::Channel;
use crate::chain::flash::desk::DeskNow;
use crate::chain::live::{ChainView, FlashCounts, FlashView};
use crate::money::Cents;
use crate::store::floor::Floor;
use crate::store::live::{Frame, LaneView, QueueView, ShopperView, Snapshot, Status};
use crate::store::sensors::{DRIFT_KPIS, DriftKpi};
use crate::store::shopper::ShopperState;
use crate::store::spec::{Cell, CellKind, WorldSpec};
use crate::store::world::ShopperId;

/// The stream's format version; a client refuses a frame of another version.
pub const WIRE_VERSION: u32 = 1;

/// The shopper states in the order of their wire codes (`shoppers[i][3]`).
pub const SHOPPER_STATES: [&str; 11] = [
    "outside",
    "walking",
    "at_shelf",
    "awaiting_pick",
    "kiosk_queued",
    "at_kiosk",
    "queued",
    "reneging",
    "in_service",
    "left",
    "unknown",
];

fn state_code(state: ShopperState) -> u32 {
    match state {
        ShopperState::Outside => 0,
        ShopperState::Walking => 1,
        ShopperState::AtShelf => 2,
        ShopperState::AwaitingPick => 3,
        ShopperState::KioskQueued => 4,
        ShopperState::AtKiosk => 5,
        ShopperState::Queued => 6,
        ShopperState::Reneging => 7,
        ShopperState::InService => 8,
        ShopperState::Left => 9,
    }
}

fn state_of(code: u32) -> ShopperState {
    match code {
        1 => ShopperState::Walking,
        2 => ShopperState::AtShelf,
        3 => ShopperState::AwaitingPick,
        4 => ShopperState::KioskQueued,
        5 => ShopperState::AtKiosk,
        6 => ShopperState::Queued,
        7 => ShopperState::Reneging,
        8 => ShopperState::InService,
        9 => ShopperState::Left,
        _ => ShopperState::Outside,
    }
}

/// How the session runs (the [`Status`] of a frame).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireStatus {
    pub speed: f64,
    pub paused: bool,
    pub lag_s: f64,
    pub max_lag_s: f64,
    pub events: u64,
    /// The session has reached the scenario's end (the last frame).
    pub done: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireLane {
    pub name: String,
    pub open: bool,
    pub down: bool,
    pub waiting: u32,
    pub serving: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireQueue {
    pub name: String,
    pub waiting: u32,
    pub oldest_wait_s: f64,
    pub served: u64,
    pub mean_wait_s: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireDevice {
    pub name: String,
    pub kind: String,
    pub up: bool,
}

/// The headline figures of the store so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireKpis {
    pub footfall: u64,
    /// What the (simulated) door counters counted.
    pub footfall_sensed: u64,
    pub buyers: u64,
    /// Sales in currency units.
    pub sales: f64,
    pub inside: u32,
    pub waiting: u32,
}

/// One KPI of the twin against the store's sensors (see `StoreWorld::drift`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireDrift {
    pub kpi: String,
    pub model: f64,
    pub sensed: f64,
    /// `model - sensed`.
    pub difference: f64,
    /// Readings it rests on (0: no data yet).
    pub readings: u64,
}

/// One frame of the stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireFrame {
    pub version: u32,
    /// Sim time since the scenario's start, nanoseconds.
    pub at_ns: u64,
    /// Store clock, HH:MM:SS.
    pub clock: String,
    /// The store's name (a served chain serves several).
    #[serde(default)]
    pub store: String,
    pub status: WireStatus,
    pub kpis: WireKpis,
    /// `[id, x, y, state code]` per shopper inside (codes: [`SHOPPER_STATES`]).
    pub shoppers: Vec<[u32; 4]>,
    pub lanes: Vec<WireLane>,
    /// Own-queue lanes, then shared lines (the KPIs' order).
    pub queues: Vec<WireQueue>,
    pub devices: Vec<WireDevice>,
    /// `[cell index, people]` for every cell with someone in it (row-major index).
    pub crowd: Vec<[u32; 2]>,
    pub cell_capacity: u16,
    pub cell_area_m2: f64,
    /// Shopper-seconds per cell since opening (row-major), when the client asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heat: Option<Vec<f32>>,
    /// The last hour, a point a minute: `[sim seconds, inside, waiting]`.
    pub last_hour: Vec<[f64; 3]>,
    /// The twin against the store's sensors, per KPI.
    pub drift: Vec<WireDrift>,
    /// A store of a chain: the flash sale and the chain's work (absent for one store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<WireChain>,
    /// When the server published the frame, wall microseconds since the Unix epoch (a
    /// client on the same clock measures its delivery from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_us: Option<u64>,
}

/// What a store of a chain shows besides its floor ([`ChainView`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireChain {
    /// The store's place in the chain's order (0 is the first).
    pub store_index: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash: Option<WireFlash>,
    /// Online and kiosk orders placed so far, by sales channel, and those not ended yet.
    pub orders_by_channel: Vec<WireChannelOrders>,
    pub orders_open: u64,
    /// `[busy, of]` pickers: this store's and the chain's.
    pub pickers_busy: [u32; 2],
    pub chain_pickers_busy: [u32; 2],
    pub coupons_redeemed: u64,
    /// The invariant that stopped the run, named, with its detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireChannelOrders {
    pub channel: String,
    pub orders: u64,
}

/// The flash sale as it happens ([`FlashView`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireFlash {
    pub name: String,
    pub sku: String,
    /// The sale price in currency units.
    pub price: f64,
    /// When the sale opens: sim nanoseconds, and on the store clock.
    pub start_ns: u64,
    pub start: String,
    /// This store's figures, and the chain's (sold, reserved, quota, grabs, grabs in the
    /// last whole second, held and expiring within a minute, expired, collected, to
    /// collect).
    pub store: FlashCounts,
    pub chain: FlashCounts,
    /// This store's shoppers of the sale by where they are: `in_store` is the crowd at the
    /// sale's shelf.
    pub desk: DeskNow,
    /// Calls waiting at the chain's stock holder now, and members on its waitlist.
    pub holder_queue: u32,
    pub waitlist: u32,
    /// When the chain's quota was first all taken, if it has been.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_out_at_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_out_at: Option<String>,
}

impl WireChain {
    pub fn of(view: &ChainView, open_at_s: u32) -> WireChain {
        WireChain {
            store_index: view.store,
            flash: view.flash.as_ref().map(|f| WireFlash {
                name: f.name.clone(),
                sku: f.sku.clone(),
                price: f.price.as_major(),
                start_ns: f.start.as_nanos(),
                start: clock(open_at_s, f.start),
                store: f.store,
                chain: f.chain,
                desk: f.desk,
                holder_queue: f.holder_queue,
                waitlist: f.waitlist,
                sold_out_at_ns: f.sold_out_at.map(SimTime::as_nanos),
                sold_out_at: f.sold_out_at.map(|t| clock(open_at_s, t)),
            }),
            orders_by_channel: view
                .orders_by_channel
                .iter()
                .map(|(c, n)| WireChannelOrders { channel: (*c).to_owned(), orders: *n })
                .collect(),
            orders_open: view.orders_open,
            pickers_busy: [view.pickers_busy.0, view.pickers_busy.1],
            chain_pickers_busy: [view.chain_pickers_busy.0, view.chain_pickers_busy.1],
            coupons_redeemed: view.coupons_redeemed,
            broken: view.broken.clone(),
        }
    }

    /// Back as the [`ChainView`] it was made from (a channel of another name is left out).
    pub fn to_view(&self) -> ChainView {
        ChainView {
            store: self.store_index,
            flash: self.flash.as_ref().map(|f| FlashView {
                name: f.name.clone(),
                sku: f.sku.clone(),
                price: Cents((f.price * 100.0).round() as i64),
                start: SimTime::from_nanos(f.start_ns),
                store: f.store,
                chain: f.chain,
                desk: f.desk,
                holder_queue: f.holder_queue,
                waitlist: f.waitlist,
                sold_out_at: f.sold_out_at_ns.map(SimTime::from_nanos),
            }),
            orders_by_channel: self
                .orders_by_channel
                .iter()
                .filter_map(|o| Channel::ALL.iter().find(|c| c.name() == o.channel).map(|c| (c.name(), o.orders)))
                .collect(),
            orders_open: self.orders_open,
            pickers_busy: (self.pickers_busy[0], self.pickers_busy[1]),
            chain_pickers_busy: (self.chain_pickers_busy[0], self.chain_pickers_busy[1]),
            coupons_redeemed: self.coupons_redeemed,
            broken: self.broken.clone(),
        }
    }
}

/// The store's plan and names, which do not change during a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireFloor {
    pub version: u32,
    pub store: String,
    /// The scenario file the session runs (as the server was given it), its hash and the
    /// session's seed: a remote twin loads the same file and checks it is the same.
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub scenario_hash: String,
    #[serde(default)]
    pub seed: u64,
    pub width: u16,
    pub height: u16,
    pub cell_m: f64,
    /// One string per row, a character per cell: `#` wall, `.` floor, `S` shelf,
    /// `E` entrance, `X` exit, `L` a lane's checkout point.
    pub rows: Vec<String>,
    /// Time of day at which the scenario starts, seconds since midnight.
    pub open_at_s: u32,
    /// The scenario's length, seconds.
    pub duration_s: f64,
    pub lanes: Vec<WireLaneInfo>,
    pub queues: Vec<String>,
    pub devices: Vec<WireDeviceInfo>,
    pub skus: Vec<WireSku>,
    pub shopper_states: Vec<String>,
    /// A store of a chain with a flash sale: the sale's zone on this floor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale: Option<WireSale>,
}

/// A flash sale's zone on a store's floor: where its shoppers crowd.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireSale {
    pub name: String,
    pub sku: String,
    /// Row-major indices of the floor cells from which the sale's shelf is reached, in
    /// the order its crowd fills them.
    pub cells: Vec<u32>,
}

impl WireSale {
    /// The zone of a sale named `name` of the store's SKU `sku` (its index in the
    /// catalogue); `None` if the store has no such SKU.
    pub fn of(spec: &WorldSpec, name: &str, sku: u32) -> Option<WireSale> {
        let store = &spec.store;
        let item = store.catalogue.get(sku as usize)?;
        let floor = Floor::build(store);
        let cells = floor
            .access
            .get(usize::from(item.category.0))
            .map_or_else(Vec::new, |cells| cells.iter().map(|c| floor.index(*c) as u32).collect());
        Some(WireSale { name: name.to_owned(), sku: item.name.clone(), cells })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireLaneInfo {
    pub name: String,
    pub kind: String,
    /// The lane's checkout cells, `[x, y]`.
    pub cells: Vec<[u16; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireDeviceInfo {
    pub name: String,
    pub kind: String,
    pub cell: [u16; 2],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireSku {
    pub name: String,
    pub price: f64,
}

/// The queues' names in the KPIs' order: own-queue lanes by name, then shared lines as
/// `line NAME`.
pub fn queue_names(spec: &WorldSpec) -> Vec<String> {
    let store = &spec.store;
    store
        .lanes
        .iter()
        .filter(|l| l.line.is_none())
        .map(|l| l.name.clone())
        .chain(store.lines.iter().map(|l| format!("line {}", l.name)))
        .collect()
}

/// `HH:MM:SS` on the store's clock of sim time `at` in a day opening at `open_at_s`.
pub fn clock(open_at_s: u32, at: SimTime) -> String {
    let s = u64::from(open_at_s) + at.as_nanos() / 1_000_000_000;
    format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

/// A store clock time, `HH:MM` or `HH:MM:SS`, as seconds after midnight (what `--at` and
/// `--until` take).
pub fn parse_clock(s: &str) -> Result<u32, String> {
    let bad = || format!("expected a store clock time HH:MM or HH:MM:SS, like 12:00 or 08:11:30; got {s:?}");
    let parts: Vec<u32> = s.split(':').map(|p| p.parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    let (h, m, sec) = match parts[..] {
        [h, m] => (h, m, 0),
        [h, m, sec] => (h, m, sec),
        _ => return Err(bad()),
    };
    if h > 23 || m > 59 || sec > 59 {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60 + sec)
}

impl WireFloor {
    pub fn of(spec: &WorldSpec) -> WireFloor {
        let store = &spec.store;
        let floor = &store.floor;
        let mut lanes: Vec<WireLaneInfo> = store
            .lanes
            .iter()
            .map(|l| WireLaneInfo { name: l.name.clone(), kind: format!("{:?}", l.kind).to_lowercase(), cells: vec![] })
            .collect();
        let rows = (0..floor.height)
            .map(|y| {
                (0..floor.width)
                    .map(|x| match floor.kind(Cell { x, y }) {
                        CellKind::Wall => '#',
                        CellKind::Floor => '.',
                        CellKind::Shelf(_) => 'S',
                        CellKind::Entrance => 'E',
                        CellKind::Exit => 'X',
                        CellKind::Lane(lane) => {
                            if let Some(l) = lanes.get_mut(usize::from(lane.0)) {
                                l.cells.push([x, y]);
                            }
                            'L'
                        }
                    })
                    .collect()
            })
            .collect();
        WireFloor {
            version: WIRE_VERSION,
            store: store.name.clone(),
            scenario: String::new(),
            scenario_hash: String::new(),
            seed: 0,
            width: floor.width,
            height: floor.height,
            cell_m: floor.cell_m,
            rows,
            open_at_s: spec.open_at_s,
            duration_s: spec.duration.as_secs_f64(),
            lanes,
            queues: queue_names(spec),
            devices: store
                .devices
                .iter()
                .map(|d| WireDeviceInfo {
                    name: d.name.clone(),
                    kind: d.kind.name().to_owned(),
                    cell: [d.cell.x, d.cell.y],
                })
                .collect(),
            skus: store.catalogue.iter().map(|s| WireSku { name: s.name.clone(), price: s.price.as_major() }).collect(),
            shopper_states: SHOPPER_STATES.iter().map(|s| (*s).to_owned()).collect(),
            sale: None,
        }
    }
}

impl WireFrame {
    /// The frame of `frame` in a store of `spec`; `heat` adds the dwell map.
    pub fn of(frame: &Frame, spec: &WorldSpec, queue_names: &[String], heat: bool) -> WireFrame {
        let s = &frame.snapshot;
        let store = &spec.store;
        let status = &frame.status;
        let waiting = s.queues.iter().map(|q| q.waiting).sum();
        WireFrame {
            version: WIRE_VERSION,
            at_ns: s.at.as_nanos(),
            clock: clock(spec.open_at_s, s.at),
            store: store.name.clone(),
            status: WireStatus {
                speed: status.speed,
                paused: status.paused,
                lag_s: status.lag.as_secs_f64(),
                max_lag_s: status.max_lag.as_secs_f64(),
                events: status.events,
                done: status.done,
            },
            kpis: WireKpis {
                footfall: s.footfall,
                footfall_sensed: s.footfall_sensed,
                buyers: s.buyers,
                sales: s.sales.as_major(),
                inside: s.shoppers.len() as u32,
                waiting,
            },
            shoppers: s
                .shoppers
                .iter()
                .map(|v| [v.id.0, u32::from(v.cell.x), u32::from(v.cell.y), state_code(v.state)])
                .collect(),
            lanes: s
                .lanes
                .iter()
                .zip(&store.lanes)
                .map(|(l, spec)| WireLane {
                    name: spec.name.clone(),
                    open: l.open,
                    down: l.down,
                    waiting: l.waiting,
                    serving: l.serving,
                })
                .collect(),
            queues: s
                .queues
                .iter()
                .zip(queue_names)
                .map(|(q, name)| WireQueue {
                    name: name.clone(),
                    waiting: q.waiting,
                    oldest_wait_s: q.oldest_wait_s,
                    served: q.served,
                    mean_wait_s: q.mean_wait_s,
                })
                .collect(),
            devices: s
                .devices_up
                .iter()
                .zip(&store.devices)
                .map(|(&up, d)| WireDevice { name: d.name.clone(), kind: d.kind.name().to_owned(), up })
                .collect(),
            crowd: s
                .crowd
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| [i as u32, u32::from(*n)])
                .collect(),
            cell_capacity: s.cell_capacity,
            cell_area_m2: s.cell_area_m2,
            heat: heat.then(|| s.heat.iter().map(|h| *h as f32).collect()),
            last_hour: s
                .last_hour
                .iter()
                .map(|(t, inside, waiting)| [t.as_secs_f64(), f64::from(*inside), f64::from(*waiting)])
                .collect(),
            drift: s
                .drift
                .iter()
                .map(|d| WireDrift {
                    kpi: d.kpi.to_owned(),
                    model: d.model,
                    sensed: d.sensed,
                    difference: d.model - d.sensed,
                    readings: d.readings,
                })
                .collect(),
            chain: frame.chain.as_deref().map(|c| WireChain::of(c, spec.open_at_s)),
            sent_us: None,
        }
    }

    /// The frame back as a viewer's [`Frame`], on a floor of `cells` cells (the plan's
    /// `width × height`). A frame without `heat` gives an all-zero heat map.
    pub fn to_frame(&self, cells: usize) -> Frame {
        let mut crowd = vec![0u16; cells];
        for [i, n] in &self.crowd {
            if let Some(c) = crowd.get_mut(*i as usize) {
                *c = (*n).min(u32::from(u16::MAX)) as u16;
            }
        }
        let mut heat = self.heat.as_ref().map_or_else(Vec::new, |h| h.iter().map(|v| f64::from(*v)).collect());
        heat.resize(cells, 0.0);
        let secs = |s: f64| SimDuration::from_nanos((s.max(0.0) * 1e9) as u64);
        Frame {
            snapshot: Snapshot {
                at: SimTime::from_nanos(self.at_ns),
                shoppers: self
                    .shoppers
                    .iter()
                    .map(|[id, x, y, state]| ShopperView {
                        id: ShopperId(*id),
                        cell: Cell { x: *x as u16, y: *y as u16 },
                        state: state_of(*state),
                    })
                    .collect(),
                lanes: self
                    .lanes
                    .iter()
                    .map(|l| LaneView { open: l.open, down: l.down, waiting: l.waiting, serving: l.serving })
                    .collect(),
                queues: self
                    .queues
                    .iter()
                    .map(|q| QueueView {
                        waiting: q.waiting,
                        oldest_wait_s: q.oldest_wait_s,
                        served: q.served,
                        mean_wait_s: q.mean_wait_s,
                    })
                    .collect(),
                devices_up: self.devices.iter().map(|d| d.up).collect(),
                footfall: self.kpis.footfall,
                footfall_sensed: self.kpis.footfall_sensed,
                buyers: self.kpis.buyers,
                sales: Cents((self.kpis.sales * 100.0).round() as i64),
                heat,
                crowd,
                cell_capacity: self.cell_capacity,
                cell_area_m2: self.cell_area_m2,
                last_hour: self
                    .last_hour
                    .iter()
                    .map(|[t, inside, waiting]| {
                        (SimTime::ZERO.saturating_add(secs(*t)), *inside as u32, *waiting as u32)
                    })
                    .collect(),
                drift: self
                    .drift
                    .iter()
                    .filter_map(|d| {
                        DRIFT_KPIS.iter().find(|k| **k == d.kpi).map(|kpi| DriftKpi {
                            kpi,
                            model: d.model,
                            sensed: d.sensed,
                            readings: d.readings,
                        })
                    })
                    .collect(),
            },
            status: Status {
                speed: self.status.speed,
                paused: self.status.paused,
                lag: secs(self.status.lag_s),
                max_lag: secs(self.status.max_lag_s),
                events: self.status.events,
                done: self.status.done,
            },
            chain: self.chain.as_ref().map(|c| Arc::new(c.to_view())),
            pair: None,
        }
    }
}
