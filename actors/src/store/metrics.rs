//! Ground truth and sensed figures of a store day, accumulated as events happen.
//!
//! Actors write here as they act (it is instrumentation, not simulation state: nothing
//! reads it to decide). Waits go into HDR histograms (millisecond resolution, up to 24 h,
//! 3 significant digits), so percentiles are exact to 0.1%.

use hdrhistogram::Histogram;
use storetwin_engine::SimTime;

use crate::money::Cents;
use crate::store::sensors::RealReadings;

/// Why a wanted item was not bought.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LostCause {
    /// The shelf was empty and no substitute or kiosk order followed.
    StockOut,
    /// The price shown was above what the shopper would pay.
    Price,
    /// The shopper left the checkout area without queueing (queues too long, none open).
    Balk,
    /// The shopper left the queue when patience ran out.
    Renege,
    /// The shelf could not be reached.
    Unreachable,
    /// Out of stock, and the shopper gave up on the kiosk that would order it (its queue
    /// too long to join, or patience ran out in it).
    KioskWait,
}

/// How many kinds of [`LostCause`] there are.
pub const LOST_CAUSES: usize = 6;

impl LostCause {
    pub const ALL: [LostCause; LOST_CAUSES] = [
        LostCause::StockOut,
        LostCause::Price,
        LostCause::Balk,
        LostCause::Renege,
        LostCause::Unreachable,
        LostCause::KioskWait,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LostCause::StockOut => "stock_out",
            LostCause::Price => "price",
            LostCause::Balk => "balk",
            LostCause::Renege => "renege",
            LostCause::Unreachable => "unreachable",
            LostCause::KioskWait => "kiosk_wait",
        }
    }
}

/// Milliseconds histogram up to one day.
pub fn wait_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 86_400_000, 3).expect("static histogram bounds are valid")
}

/// How someone left a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Departure {
    /// Into service.
    Served,
    /// Out of patience: leaves the checkout area and puts the basket back.
    Reneged,
    /// To a shorter queue.
    Jockeyed,
}

/// Figures of one queue (a lane's own queue or a shared line).
#[derive(Clone, Debug)]
pub struct QueueStats {
    pub joined: u64,
    /// Left the queue into service. (Served, service ended, is counted by the lane:
    /// `ServerStats::served`.)
    pub started: u64,
    pub reneged: u64,
    pub jockeyed: u64,
    /// Turned away by this queue (see `QueueKpis::balked`).
    pub balked: u64,
    pub waits_ms: Histogram<u64>,
    /// The same waits one by one, in the order service started (milliseconds): a viewer
    /// takes those since it last looked (a served chain's metrics, once a second).
    pub waits_log: Vec<u32>,
    /// Sum of the waits of those whose service started, seconds.
    pub served_wait_s: f64,
    /// Sum of all time spent in the queue (served, reneged, jockeyed, still waiting).
    pub wait_sum_s: f64,
    /// Integral of the queue length over time, in person-seconds.
    pub length_integral: f64,
    pub max_length: u32,
    length: u32,
    since: SimTime,
}

impl Default for QueueStats {
    fn default() -> Self {
        QueueStats {
            joined: 0,
            started: 0,
            reneged: 0,
            jockeyed: 0,
            balked: 0,
            waits_ms: wait_histogram(),
            waits_log: Vec::new(),
            served_wait_s: 0.0,
            wait_sum_s: 0.0,
            length_integral: 0.0,
            max_length: 0,
            length: 0,
            since: SimTime::ZERO,
        }
    }
}

impl QueueStats {
    fn advance(&mut self, now: SimTime) {
        self.length_integral += f64::from(self.length) * now.saturating_since(self.since).as_secs_f64();
        self.since = now;
    }

    pub fn on_join(&mut self, now: SimTime) {
        self.advance(now);
        self.joined += 1;
        self.length += 1;
        self.max_length = self.max_length.max(self.length);
    }

    /// Someone left the queue after waiting `wait_s`.
    pub fn on_leave(&mut self, now: SimTime, wait_s: f64, how: Departure) {
        self.advance(now);
        self.length -= 1;
        self.wait_sum_s += wait_s;
        match how {
            Departure::Served => {
                self.started += 1;
                self.served_wait_s += wait_s;
                let ms = (wait_s * 1000.0).round() as u64;
                self.waits_ms.saturating_record(ms);
                self.waits_log.push(u32::try_from(ms).unwrap_or(u32::MAX));
            }
            Departure::Reneged => self.reneged += 1,
            Departure::Jockeyed => self.jockeyed += 1,
        }
    }

    /// Closes the books at `now`, counting the waits so far of those still queued.
    pub fn close(&mut self, now: SimTime, still_waiting_s: f64) {
        self.advance(now);
        self.wait_sum_s += still_waiting_s;
    }

    pub fn length(&self) -> u32 {
        self.length
    }
}

/// Busy and open time of one lane's server.
#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    /// Shoppers whose service ended here.
    pub served: u64,
    pub busy_s: f64,
    pub open_s: f64,
    pub items: u64,
    pub payments: Cents,
}

#[derive(Clone, Debug)]
pub struct Metrics {
    pub entered: u64,
    pub left: u64,
    pub buyers: u64,
    pub picked_something: u64,
    pub members: u64,
    pub app_users: u64,
    pub items_wanted: u64,
    pub items_picked: u64,
    pub items_sold: u64,
    pub substitutions: u64,
    /// Items added to lists on seeing a promotion.
    pub impulse_adds: u64,
    pub kiosk_orders: u64,
    pub kiosk_value: Cents,
    pub sales: Cents,
    pub payments: Cents,
    pub discounts: Cents,
    pub lost_items: [u64; LOST_CAUSES],
    pub lost_value: [Cents; LOST_CAUSES],
    /// Lost items per SKU and cause, and their value.
    pub lost_by_sku: Vec<([u32; LOST_CAUSES], Cents)>,
    pub balked_shoppers: u64,
    pub reneged_shoppers: u64,
    /// Time in store of those who left, ms.
    pub visit_ms: Histogram<u64>,
    pub basket_sizes: Vec<u64>,
    /// Seconds spent in each cell (the heat map), and entries into each cell.
    pub cell_dwell_s: Vec<f64>,
    pub cell_visits: Vec<u32>,
    /// Per zone: shopper-seconds, shoppers who entered it, shoppers who picked in it.
    pub zone_dwell_s: Vec<f64>,
    pub zone_visitors: Vec<u64>,
    pub zone_buyers: Vec<u64>,
    pub queues: Vec<QueueStats>,
    pub servers: Vec<ServerStats>,
    /// Each kiosk's queue (same order as `Floor::kiosks`), and its busy time.
    pub kiosk_queues: Vec<QueueStats>,
    pub kiosk_busy_s: Vec<f64>,
    /// Shoppers who reached a first shelf, and the sum of their times from arrival there.
    pub reached_shelf: u64,
    pub to_first_shelf_s: f64,
    /// Staff rounds walked.
    pub staff_rounds: u64,
    /// Units restocked from the back room, and restock trips.
    pub restocked_units: u64,
    pub restock_trips: u64,
    pub low_stock_alerts: u64,
    pub price_changes: u64,
    // Sensed.
    pub door_count: u64,
    pub face_recognised: u64,
    pub portal_logins: u64,
    /// Members identified by any channel (face camera or WiFi portal), each once.
    pub members_identified: u64,
    pub wifi_visitors: u64,
    pub wifi_dwell_s: f64,
    pub beacon_pushes: u64,
    pub esl_stale_reads: u64,
    /// What the real store's devices reported, for the live twin (see
    /// [`crate::store::sensors`]).
    pub real: RealReadings,
}

impl Metrics {
    pub fn new(cells: usize, zones: usize, queues: usize, lanes: usize, kiosks: usize) -> Self {
        Metrics {
            entered: 0,
            left: 0,
            buyers: 0,
            picked_something: 0,
            members: 0,
            app_users: 0,
            items_wanted: 0,
            items_picked: 0,
            items_sold: 0,
            substitutions: 0,
            impulse_adds: 0,
            kiosk_orders: 0,
            kiosk_value: Cents::ZERO,
            sales: Cents::ZERO,
            payments: Cents::ZERO,
            discounts: Cents::ZERO,
            lost_items: [0; LOST_CAUSES],
            lost_value: [Cents::ZERO; LOST_CAUSES],
            lost_by_sku: Vec::new(),
            balked_shoppers: 0,
            reneged_shoppers: 0,
            visit_ms: wait_histogram(),
            basket_sizes: Vec::new(),
            cell_dwell_s: vec![0.0; cells],
            cell_visits: vec![0; cells],
            zone_dwell_s: vec![0.0; zones],
            zone_visitors: vec![0; zones],
            zone_buyers: vec![0; zones],
            queues: vec![QueueStats::default(); queues],
            servers: vec![ServerStats::default(); lanes],
            kiosk_queues: vec![QueueStats::default(); kiosks],
            kiosk_busy_s: vec![0.0; kiosks],
            reached_shelf: 0,
            to_first_shelf_s: 0.0,
            staff_rounds: 0,
            restocked_units: 0,
            restock_trips: 0,
            low_stock_alerts: 0,
            price_changes: 0,
            door_count: 0,
            face_recognised: 0,
            portal_logins: 0,
            members_identified: 0,
            wifi_visitors: 0,
            wifi_dwell_s: 0.0,
            beacon_pushes: 0,
            esl_stale_reads: 0,
            real: RealReadings::default(),
        }
    }

    /// One unit of `sku`, worth `value`, not sold because of `cause`.
    pub fn lost(&mut self, cause: LostCause, sku: crate::store::spec::SkuId, value: Cents) {
        self.lost_items[cause as usize] += 1;
        self.lost_value[cause as usize] += value;
        let i = sku.0 as usize;
        if self.lost_by_sku.len() <= i {
            self.lost_by_sku.resize(i + 1, ([0; LOST_CAUSES], Cents::ZERO));
        }
        self.lost_by_sku[i].0[cause as usize] += 1;
        self.lost_by_sku[i].1 += value;
    }

    pub fn record_basket(&mut self, items: usize) {
        if self.basket_sizes.len() <= items {
            self.basket_sizes.resize(items + 1, 0);
        }
        self.basket_sizes[items] += 1;
    }
}
