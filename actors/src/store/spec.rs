//! What a store world is built from: plain, validated data with typed units.
//!
//! The `scenarios` crate turns a scenario file into a [`WorldSpec`] (after checking it);
//! [`crate::store::world::StoreWorld::build`] turns the spec into actors. Nothing here knows
//! about files or TOML. Times are [`SimDuration`]/[`SimTime`] since the scenario starts
//! (which is the store's opening time of day `open_at`), money is [`Cents`], and every
//! random quantity is a [`Dist`].

use storetwin_engine::{SimDuration, SimTime};

use crate::dist::Dist;
use crate::money::Cents;

/// Index of a product category in [`StoreSpec::categories`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct CategoryId(pub u16);

/// Index of a SKU in [`StoreSpec::catalogue`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SkuId(pub u32);

/// Index of a lane in [`StoreSpec::lanes`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LaneId(pub u16);

/// Index of a shopper segment in [`StoreSpec::segments`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct SegmentId(pub u8);

/// Index of a device in [`StoreSpec::devices`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct DeviceId(pub u16);

/// A cell of the floor grid: `x` to the right, `y` down, from the top-left corner.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Cell {
    pub x: u16,
    pub y: u16,
}

/// One simulated day (or any span) of one store.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldSpec {
    /// Time of day at which the simulation starts (seconds since midnight), for reports.
    pub open_at_s: u32,
    /// Length of the run; shoppers arrive until `arrivals_end`, and those still inside at
    /// `duration` are counted as "inside at close".
    pub duration: SimDuration,
    pub store: StoreSpec,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoreSpec {
    pub name: String,
    pub floor: FloorSpec,
    pub categories: Vec<CategorySpec>,
    pub catalogue: Vec<SkuSpec>,
    pub segments: Vec<SegmentSpec>,
    /// Arrivals per hour for each hour from the start (a non-homogeneous Poisson process,
    /// constant within each hour). No arrivals after the last entry.
    pub arrivals_per_hour: Vec<f64>,
    pub lanes: Vec<LaneSpec>,
    /// Shared serpentine lines, referenced by [`LaneSpec::line`].
    pub lines: Vec<SharedLineSpec>,
    pub lane_policy: LanePolicy,
    pub devices: Vec<DeviceSpec>,
    pub disruptions: Vec<Disruption>,
    pub replenishment: ReplenishmentSpec,
    /// Most people per m² of floor (see [`crate::store::crowd`]): a cell holds
    /// `⌊max_density × area⌋` people, at least one.
    pub max_density_per_m2: f64,
}

/// The floor plan: a grid of cells with a size in metres.
#[derive(Clone, Debug, PartialEq)]
pub struct FloorSpec {
    pub width: u16,
    pub height: u16,
    /// Side of one cell in metres.
    pub cell_m: f64,
    /// Row-major, `width * height` cells.
    pub cells: Vec<CellKind>,
    /// Named zones (for dwell and conversion per zone); each cell belongs to at most one.
    pub zones: Vec<ZoneSpec>,
}

impl FloorSpec {
    pub fn kind(&self, cell: Cell) -> CellKind {
        self.cells[usize::from(cell.y) * usize::from(self.width) + usize::from(cell.x)]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Wall,
    /// Walkable floor (aisles, open space).
    Floor,
    /// A shelf holding a category; not walkable, reached from a neighbouring floor cell.
    Shelf(CategoryId),
    /// Shoppers come in here (walkable).
    Entrance,
    /// Shoppers leave here (walkable).
    Exit,
    /// The checkout point of a lane (walkable); its queue forms here.
    Lane(LaneId),
}

impl CellKind {
    pub fn walkable(self) -> bool {
        !matches!(self, CellKind::Wall | CellKind::Shelf(_))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ZoneSpec {
    pub name: String,
    pub cells: Vec<Cell>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CategorySpec {
    pub name: String,
    /// Relative weight with which a shopping-list item falls in this category.
    pub popularity: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SkuSpec {
    pub name: String,
    pub category: CategoryId,
    pub price: Cents,
    pub cost: Cents,
    /// Units on the shelf at the start.
    pub shelf: u32,
    /// Most units the shelf holds.
    pub shelf_capacity: u32,
    /// Units in the back room at the start.
    pub back_room: u32,
    /// A smart shelf raises a low-stock alert when the shelf falls to this level.
    pub reorder_at: u32,
    /// Relative weight among the SKUs of its category.
    pub popularity: f64,
    /// Weight of one unit in grams (at least 1): a smart shelf's weight reading of the
    /// real store is turned into units with it (see [`crate::store::sensors`]).
    pub unit_weight_g: u32,
}

/// A SKU's unit weight when its scenario does not give one.
pub const DEFAULT_UNIT_WEIGHT_G: u32 = 500;

#[derive(Clone, Debug, PartialEq)]
pub struct SegmentSpec {
    pub name: String,
    /// Share of arrivals; the shares of all segments sum to 1.
    pub share: f64,
    /// Number of items on the shopping list (rounded, at least 1).
    pub basket: Dist,
    /// Seconds spent at a shelf for one item.
    pub dwell_s: Dist,
    /// Walking speed, metres per second.
    pub speed_mps: Dist,
    /// Share who are members (recognised by the face camera or the WiFi portal).
    pub member_share: f64,
    /// Share who use the app (scan-and-go lanes; WiFi probes see their phones more often).
    pub app_share: f64,
    /// 0 = ignores price, 1 = drops any item priced above its list price.
    pub price_sensitivity: f64,
    /// Seconds a shopper waits in a queue before reneging.
    pub patience_s: Dist,
    /// A shopper balks (leaves without buying) if every usable queue has at least this
    /// many people waiting.
    pub balk_at: u32,
    /// On a stock-out: probability of taking a substitute from the same category, and of
    /// ordering it at a kiosk for delivery; otherwise the sale is lost.
    pub substitute: f64,
    pub endless_aisle: f64,
    pub payment: PaymentMix,
}

/// Shares of payment methods (sum to 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PaymentMix {
    pub mobile_qr: f64,
    pub card: f64,
    pub cash: f64,
    pub prepaid: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Payment {
    MobileQr,
    #[default]
    Card,
    Cash,
    Prepaid,
}

impl Payment {
    pub const ALL: [Payment; 4] = [Payment::MobileQr, Payment::Card, Payment::Cash, Payment::Prepaid];

    pub fn name(self) -> &'static str {
        match self {
            Payment::MobileQr => "mobile_qr",
            Payment::Card => "card",
            Payment::Cash => "cash",
            Payment::Prepaid => "prepaid",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LaneKind {
    /// A cashier scans and takes payment.
    Staffed,
    /// The shopper scans at a machine.
    SelfCheckout,
    /// App users scanned while shopping; they only pay and leave.
    ScanAndGo,
}

impl LaneKind {
    pub fn name(self) -> &'static str {
        match self {
            LaneKind::Staffed => "staffed",
            LaneKind::SelfCheckout => "self_checkout",
            LaneKind::ScanAndGo => "scan_and_go",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LaneSpec {
    pub name: String,
    pub kind: LaneKind,
    /// Lanes sharing a line: all lanes with the same `line` are fed from one serpentine
    /// queue (`SharedLine`); `None` means the lane has its own queue.
    pub line: Option<u16>,
    /// Open when the store opens.
    pub open_at_start: bool,
    /// Seconds of service that do not depend on the basket (greeting, bagging).
    pub base_s: Dist,
    /// Seconds per item scanned.
    pub per_item_s: Dist,
    /// Seconds to pay, by method.
    pub pay_s: [Dist; 4],
}

/// How lanes open and close during the day.
#[derive(Clone, Debug, PartialEq)]
pub struct LanePolicy {
    /// Open another closed lane of the same kind when a queue reaches this length.
    pub open_when_queue: Option<u32>,
    /// Close a lane opened by the policy when its queue has been empty for this long.
    pub close_when_idle: Option<SimDuration>,
}

/// Shared serpentine lines and their capacity: `lines[i]` is line `i`.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedLineSpec {
    /// The line's name in the scenario (`[lines.front]`): its KPIs are "line front", a
    /// name that stays when lanes join or leave it.
    pub name: String,
    /// Most people waiting; a shopper who finds it full balks. `None` = unbounded.
    pub capacity: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeviceSpec {
    pub name: String,
    pub kind: DeviceKind,
    pub cell: Cell,
    /// Random failures: mean time between failures and mean time to repair.
    pub failures: Option<FailureSpec>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FailureSpec {
    pub mtbf: SimDuration,
    pub mttr: SimDuration,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeviceKind {
    /// Counts people passing an entrance; misses some and double-counts some.
    DoorCounter {
        miss: f64,
        double: f64,
    },
    /// Detects phones within `range_m` every `interval`; can see a share `detect` of phones
    /// (app users: `detect_app`; the rest have WiFi off or randomise their address),
    /// reporting positions with normal noise of `noise_m` metres.
    WifiProbe {
        range_m: f64,
        detect: f64,
        detect_app: f64,
        noise_m: f64,
        interval: SimDuration,
    },
    /// Proximity events for app users within `range_m`.
    Beacon {
        range_m: f64,
    },
    /// Recognises members passing within `range_m` with probability `recognise`.
    FaceCamera {
        range_m: f64,
        recognise: f64,
    },
    /// Shows the price of the SKUs on the neighbouring shelf; a price change reaches it
    /// after `latency`; a failed label keeps showing the old price.
    Esl {
        latency: SimDuration,
    },
    /// Weighs the stock of the neighbouring shelf; error in units (normal sd).
    SmartShelf {
        noise_units: f64,
    },
    Kiosk,
}

impl DeviceKind {
    /// The kind's name as scenario files and reports write it.
    pub fn name(&self) -> &'static str {
        match self {
            DeviceKind::DoorCounter { .. } => "door_counter",
            DeviceKind::WifiProbe { .. } => "wifi_probe",
            DeviceKind::Beacon { .. } => "beacon",
            DeviceKind::FaceCamera { .. } => "face_camera",
            DeviceKind::Esl { .. } => "esl",
            DeviceKind::SmartShelf { .. } => "smart_shelf",
            DeviceKind::Kiosk => "kiosk",
        }
    }
}

/// A scheduled change to the world.
#[derive(Clone, Debug, PartialEq)]
pub struct Disruption {
    pub at: SimTime,
    pub until: Option<SimTime>,
    pub what: DisruptionKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DisruptionKind {
    DeviceOffline(DeviceId),
    /// The device works at `accuracy` (0, 1] of its normal accuracy.
    DeviceDegraded {
        device: DeviceId,
        accuracy: f64,
    },
    LaneClosed(LaneId),
    /// The lane's POS terminal is down: it serves nobody, its queue waits or reneges.
    PosOutage(LaneId),
    PriceChange {
        sku: SkuId,
        price: Cents,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplenishmentSpec {
    /// Staff who restock shelves from the back room on low-stock alerts.
    pub staff: u32,
    /// Time for one restock trip (fetch from the back room and fill the shelf).
    pub trip: Dist,
    /// Staff walk the floor this often and restock every shelf at or below its reorder
    /// level that no working smart shelf watches (they see what sensors do not report).
    pub round: Option<SimDuration>,
}
