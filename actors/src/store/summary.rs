//! The KPIs of one run, as a planner reads them, built from the world at the end of a run.
//!
//! Where sensors are involved a KPI appears twice: the ground truth and what the devices
//! reported, with the error between them.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;
use storetwin_engine::SimTime;

use crate::store::device::Readings;
use crate::store::metrics::{LostCause, QueueStats};
use crate::store::shopper::ShopperState;
use crate::store::spec::DeviceKind;
use crate::store::world::{QueueRef, StoreWorld};

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Sensed {
    pub truth: f64,
    pub sensed: f64,
    /// `(sensed - truth) / truth`, as a percentage; 0 when the truth is 0.
    pub error_pct: f64,
}

impl Sensed {
    fn new(truth: f64, sensed: f64) -> Self {
        let error_pct = if truth == 0.0 { 0.0 } else { 100.0 * (sensed - truth) / truth };
        Sensed { truth, sensed, error_pct }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

fn percentiles_s(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles { mean: 0.0, p50: 0.0, p90: 0.0, p99: 0.0, max: 0.0 };
    }
    let s = |ms: u64| ms as f64 / 1000.0;
    Percentiles {
        mean: h.mean() / 1000.0,
        p50: s(h.value_at_quantile(0.5)),
        p90: s(h.value_at_quantile(0.9)),
        p99: s(h.value_at_quantile(0.99)),
        max: s(h.max()),
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QueueKpis {
    pub name: String,
    /// "lane" (its own queue) or "line" (shared by several lanes).
    pub kind: &'static str,
    pub joined: u64,
    /// Shoppers whose service ended (who paid) at the lanes this queue feeds, as the lanes
    /// count them: an own queue's is its lane's `LaneKpis::served`, a shared line's the sum
    /// over its lanes. Someone still in service when the run ends is counted in neither
    /// (but their wait is in `wait_s`, which is of everyone whose service started).
    pub served: u64,
    pub reneged: u64,
    /// Moved to a shorter queue.
    pub jockeyed: u64,
    /// Turned away by this queue: found it as long as their balking length and gave up
    /// rather than choose again, or found this shared line full with no other queue they
    /// could use having room. Each is also in the store's `balked`, which has besides
    /// those who found no queue open to them at all.
    pub balked: u64,
    /// Waits of those whose service started, seconds.
    pub wait_s: Percentiles,
    pub max_length: u32,
    /// Little's law: mean length L over the run, arrival rate λ (per second), and mean
    /// time in queue W of everyone who joined (served, reneged or still waiting).
    pub mean_length: f64,
    pub arrival_rate_per_s: f64,
    pub mean_time_in_queue_s: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LaneKpis {
    pub name: String,
    pub kind: &'static str,
    /// Shoppers whose service here ended (who paid); one in service when the run ends is
    /// not counted. The queue feeding the lane counts the same (`QueueKpis::served`).
    pub served: u64,
    pub items: u64,
    pub payments: f64,
    pub open_hours: f64,
    /// Busy time / open time.
    pub utilisation: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ZoneKpis {
    pub name: String,
    pub visitors: u64,
    pub buyers: u64,
    pub conversion: f64,
    pub dwell_s_per_visitor: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Lost {
    pub items: u64,
    pub value: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DeviceKpis {
    pub name: String,
    pub kind: &'static str,
    pub down_minutes: f64,
}

/// One kiosk's queue and use.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KioskKpis {
    pub name: String,
    pub joined: u64,
    pub served: u64,
    /// Gave up waiting (patience ran out): the item stays unbought.
    pub reneged: u64,
    /// Found the queue as long as their balking length and gave up at once.
    pub balked: u64,
    /// Waits of those served, seconds.
    pub wait_s: Percentiles,
    pub max_length: u32,
    pub mean_length: f64,
    /// Busy time / run time.
    pub utilisation: f64,
}

/// Crowding in one zone.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ZoneCrowd {
    pub name: String,
    pub area_m2: f64,
    /// People per m², averaged over the run.
    pub mean_density: f64,
    /// Most people in the zone at once, and that as people per m².
    pub peak_people: u32,
    pub peak_density: f64,
    /// Shopper-hours lost to slow walking in a crowd, and to waiting at a full cell.
    pub slowed_hours: f64,
    pub blocked_hours: f64,
}

/// One of the densest cells.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DenseCell {
    pub x: u16,
    pub y: u16,
    pub zone: Option<String>,
    /// People per m², averaged over the run.
    pub mean_density: f64,
    /// Most people in the cell at once.
    pub peak_people: u16,
}

/// How crowded the floor was and what it cost shoppers.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CrowdKpis {
    /// The density limit and the most people one cell holds.
    pub max_density_per_m2: f64,
    pub cell_capacity: u16,
    pub zones: Vec<ZoneCrowd>,
    /// Over every shopper who came in: mean seconds slowed by density and blocked.
    pub slowed_s_per_shopper: f64,
    pub blocked_s_per_shopper: f64,
    pub slowed_hours: f64,
    pub blocked_hours: f64,
    /// Steps into a full cell after waiting the longest a walker waits, and routes taken
    /// round a crowd.
    pub squeezes: u64,
    pub detours: u64,
    /// Two walkers facing each other between full cells who swapped places.
    pub swaps: u64,
    /// Shoppers who waited outside a full entrance, and their mean wait, seconds.
    pub entry_waits: u64,
    pub entry_wait_s_mean: f64,
    /// Mean seconds from arriving at the door to reaching the first shelf.
    pub to_first_shelf_s: f64,
    /// The ten cells with the highest mean density.
    pub densest: Vec<DenseCell>,
}

/// Lost sales of one category or SKU.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LostBy {
    pub name: String,
    pub items: u64,
    pub value: f64,
    /// Items by cause (`stock_out`, `price`, …; causes with none left out).
    pub by_cause: BTreeMap<&'static str, u64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HeatMap {
    pub width: u16,
    pub height: u16,
    pub cell_m: f64,
    /// Shopper-seconds spent in each cell, row-major from the top-left.
    pub dwell_s: Vec<f64>,
    /// WiFi-probe detections per cell of the reported (noisy) position.
    pub sensed_hits: Vec<u32>,
    /// People per m² in each cell, averaged over the run (walkers and queues).
    pub density: Vec<f64>,
    /// Most people in each cell at once.
    pub peak_people: Vec<u16>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoreKpis {
    pub store: String,
    pub footfall: Sensed,
    pub wifi_visitors: Sensed,
    pub mean_visit_s: Sensed,
    /// Members: how many came, and how many were identified (face camera or WiFi portal).
    pub members_identified: Sensed,
    pub face_recognised: u64,
    pub portal_logins: u64,
    pub buyers: u64,
    pub picked_something: u64,
    pub conversion: f64,
    pub basket_mean_items: f64,
    pub items_sold: u64,
    pub sales: f64,
    pub payments: f64,
    pub discounts: f64,
    pub sales_per_m2: f64,
    pub lost_sales: BTreeMap<&'static str, Lost>,
    /// Lost sales per category and per SKU, largest value first (only those with a loss).
    pub lost_by_category: Vec<LostBy>,
    pub lost_by_sku: Vec<LostBy>,
    pub substitutions: u64,
    /// Items added on seeing a promotion's label.
    pub impulse_adds: u64,
    pub kiosk_orders: u64,
    pub kiosk_value: f64,
    pub kiosks: Vec<KioskKpis>,
    /// Shoppers who left without buying because no checkout queue would take them: those
    /// a queue turned away (each also in that queue's `QueueKpis::balked`) and those who
    /// found no queue open to them.
    pub balked: u64,
    pub reneged: u64,
    pub inside_at_close: u64,
    pub visit_s: Percentiles,
    /// Waits of everyone whose service started, over all queues, seconds.
    pub wait_s: Percentiles,
    pub queues: Vec<QueueKpis>,
    pub lanes: Vec<LaneKpis>,
    pub zones: Vec<ZoneKpis>,
    pub shelf_stock_units: Sensed,
    pub low_stock_alerts: u64,
    pub restocked_units: u64,
    pub restock_trips: u64,
    pub staff_rounds: u64,
    pub price_changes: u64,
    pub beacon_pushes: u64,
    pub devices: Vec<DeviceKpis>,
    pub crowding: CrowdKpis,
    pub heat_map: HeatMap,
}

fn little(q: &QueueStats, span_s: f64) -> (f64, f64, f64) {
    let l = if span_s > 0.0 { q.length_integral / span_s } else { 0.0 };
    let lambda = if span_s > 0.0 { q.joined as f64 / span_s } else { 0.0 };
    let w = if q.joined > 0 { q.wait_sum_s / q.joined as f64 } else { 0.0 };
    (l, lambda, w)
}

impl StoreWorld {
    /// Ends the run at `now`: closes time integrals (queues, lanes, devices, cells) so the
    /// figures cover `[0, now]`. Call once, after the last event.
    pub fn close_books(&mut self, now: SimTime) {
        let lanes = self.lanes.len();
        for lane in &mut self.lanes {
            lane.close_books(&mut self.metrics, now);
            if lane.line.is_none() {
                let waiting: f64 = lane.queue.iter().map(|w| now.saturating_since(w.joined).as_secs_f64()).sum();
                self.metrics.queues[usize::from(lane.id.0)].close(now, waiting);
            }
        }
        for line in &self.lines {
            let waiting: f64 = line.queue.iter().map(|w| now.saturating_since(w.joined).as_secs_f64()).sum();
            self.metrics.queues[crate::store::world::queue_index(lanes, QueueRef::Line(line.index))]
                .close(now, waiting);
        }
        for d in &mut self.devices {
            d.close_books(&mut self.metrics, now);
        }
        self.crowd.close_books(now);
        for s in &self.inside {
            let shopper = &mut self.shoppers[s.0 as usize];
            let dwell = now.saturating_since(shopper.cell_since).as_secs_f64();
            self.metrics.cell_dwell_s[self.floor.index(shopper.cell)] += dwell;
            shopper.cell_since = now;
        }
    }

    /// Invariants that must hold at the end of every run. `Err` names the one broken.
    pub fn check_invariants(&self) -> Result<(), (&'static str, String)> {
        self.store.check_conservation().map_err(|e| ("stock conservation", e))?;
        let m = &self.metrics;
        if m.payments != m.sales - m.discounts {
            return Err((
                "money conservation",
                format!("payments {} != sales {} - discounts {}", m.payments, m.sales, m.discounts),
            ));
        }
        let inside = self.shoppers.iter().filter(|s| s.is_inside()).count() as u64;
        if m.entered != m.left + inside || inside != self.inside.len() as u64 {
            return Err((
                "shopper conservation",
                format!("entered {} != left {} + inside {} (tracked {})", m.entered, m.left, inside, self.inside.len()),
            ));
        }
        self.check_floor_occupancy().map_err(|e| ("shopper conservation", e))?;
        let in_baskets: u64 = self.store.in_baskets.iter().map(|u| u64::from(*u)).sum();
        let carried: u64 =
            self.shoppers.iter().filter(|s| s.is_inside() && !s.paid).map(|s| s.basket.len() as u64).sum();
        if in_baskets != carried {
            return Err(("stock conservation", format!("{in_baskets} units in baskets, shoppers carry {carried}")));
        }
        Ok(())
    }

    /// The floor's counts agree with the shoppers: each cell's walkers are the shoppers
    /// standing there on their own, and each queue's footprint holds its members.
    pub fn check_floor_occupancy(&self) -> Result<(), String> {
        let mut walkers = vec![0u32; self.floor.cell_count()];
        let mut members = vec![0u32; self.crowd.footprints.len()];
        for s in &self.inside {
            let shopper = &self.shoppers[s.0 as usize];
            match shopper.footprint(&self.spec) {
                Some(f) => members[f] += 1,
                None => walkers[self.floor.index(shopper.cell)] += 1,
            }
        }
        for (i, (n, counted)) in walkers.iter().zip(&self.crowd.walkers).enumerate() {
            if *n != u32::from(*counted) {
                let c = self.floor.cell_at(i);
                return Err(format!("cell [{}, {}] counts {counted} walkers, {n} shoppers stand there", c.x, c.y));
            }
        }
        for (f, (n, fp)) in members.iter().zip(&self.crowd.footprints).enumerate() {
            if *n != fp.members {
                return Err(format!("queue footprint {f} counts {} people, {n} shoppers are in it", fp.members));
            }
        }
        Ok(())
    }

    pub fn kpis(&self, now: SimTime) -> StoreKpis {
        let m = &self.metrics;
        let spec = &self.spec.store;
        let span_s = now.as_secs_f64();
        let mut queues = Vec::new();
        for (i, lane) in self.lanes.iter().enumerate() {
            if lane.line.is_none() {
                queues.push(queue_kpis(&spec.lanes[i].name, "lane", &m.queues[i], m.servers[i].served, span_s));
            }
        }
        for line in &self.lines {
            let name = &spec.lines[usize::from(line.index)].name;
            let qi = crate::store::world::queue_index(self.lanes.len(), QueueRef::Line(line.index));
            // Served is counted where service ends: at the line's lanes.
            let served = line.lanes.iter().map(|l| m.servers[usize::from(l.0)].served).sum();
            queues.push(queue_kpis(&format!("line {name}"), "line", &m.queues[qi], served, span_s));
        }
        let lanes = self
            .lanes
            .iter()
            .enumerate()
            .map(|(i, lane)| {
                let s = &m.servers[i];
                LaneKpis {
                    name: spec.lanes[i].name.clone(),
                    kind: lane.kind.name(),
                    served: s.served,
                    items: s.items,
                    payments: s.payments.as_major(),
                    open_hours: s.open_s / 3600.0,
                    utilisation: if s.open_s > 0.0 { (s.busy_s / s.open_s).min(1.0) } else { 0.0 },
                }
            })
            .collect();
        let zones = self
            .floor
            .zone_names
            .iter()
            .enumerate()
            .map(|(z, name)| ZoneKpis {
                name: name.clone(),
                visitors: m.zone_visitors[z],
                buyers: m.zone_buyers[z],
                conversion: ratio(m.zone_buyers[z] as f64, m.zone_visitors[z] as f64),
                dwell_s_per_visitor: ratio(m.zone_dwell_s[z], m.zone_visitors[z] as f64),
            })
            .collect();
        let (lost_by_category, lost_by_sku) = self.lost_by();
        let area = self.crowd.cell_area_m2();
        let lost_sales = LostCause::ALL
            .iter()
            .map(|c| (c.name(), Lost { items: m.lost_items[*c as usize], value: m.lost_value[*c as usize].as_major() }))
            .collect();

        // Sensed figures.
        let mut wifi_first_last: Vec<(u32, u32)> = Vec::new();
        let mut sensed_hits = vec![0u32; self.floor.cell_count()];
        let mut stock_truth = 0.0;
        let mut stock_sensed = 0.0;
        let mut devices = Vec::new();
        for (i, d) in self.devices.iter().enumerate() {
            devices.push(DeviceKpis {
                name: spec.devices[i].name.clone(),
                kind: d.kind_name(),
                down_minutes: d.down_s / 60.0,
            });
            match &d.readings {
                Readings::Wifi { seen, hits } => {
                    if wifi_first_last.len() < seen.len() {
                        wifi_first_last.resize(seen.len(), (u32::MAX, 0));
                    }
                    for (agg, (first, last)) in wifi_first_last.iter_mut().zip(seen) {
                        if *first != u32::MAX {
                            agg.0 = agg.0.min(*first);
                            agg.1 = agg.1.max(*last);
                        }
                    }
                    for (a, h) in sensed_hits.iter_mut().zip(hits) {
                        *a += h;
                    }
                }
                Readings::Stock { skus, last, .. } if matches!(d.kind, DeviceKind::SmartShelf { .. }) => {
                    for (sku, reading) in skus.iter().zip(last) {
                        stock_truth += f64::from(self.store.shelf[sku.0 as usize]);
                        stock_sensed += f64::from(*reading);
                    }
                }
                _ => {}
            }
        }
        let wifi_seen: Vec<_> = wifi_first_last.iter().filter(|(f, _)| *f != u32::MAX).collect();
        let wifi_dwell = ratio(wifi_seen.iter().map(|(f, l)| f64::from(l - f)).sum(), wifi_seen.len() as f64);
        let visits = percentiles_s(&m.visit_ms);
        let mut all_waits = crate::store::metrics::wait_histogram();
        for q in &m.queues {
            // Same bounds and precision, so adding cannot fail.
            all_waits.add(&q.waits_ms).expect("wait histograms share their bounds");
        }
        let wifi_truth = self.shoppers.iter().filter(|s| s.state != ShopperState::Outside).count() as f64;
        let baskets: u64 = m.basket_sizes.iter().enumerate().map(|(n, c)| n as u64 * c).sum();
        let shelf_area: f64 = self.floor.shelf_area_m2.iter().sum();

        StoreKpis {
            store: spec.name.clone(),
            footfall: Sensed::new(m.entered as f64, m.door_count as f64),
            wifi_visitors: Sensed::new(wifi_truth, wifi_seen.len() as f64),
            mean_visit_s: Sensed::new(visits.mean, wifi_dwell),
            members_identified: Sensed::new(m.members as f64, m.members_identified as f64),
            face_recognised: m.face_recognised,
            portal_logins: m.portal_logins,
            buyers: m.buyers,
            picked_something: m.picked_something,
            conversion: ratio(m.buyers as f64, m.entered as f64),
            basket_mean_items: ratio(baskets as f64, m.buyers as f64),
            items_sold: m.items_sold,
            sales: m.sales.as_major(),
            payments: m.payments.as_major(),
            discounts: m.discounts.as_major(),
            sales_per_m2: ratio(m.sales.as_major(), self.floor.walkable_area_m2 + shelf_area),
            lost_sales,
            lost_by_category,
            lost_by_sku,
            substitutions: m.substitutions,
            impulse_adds: m.impulse_adds,
            kiosk_orders: m.kiosk_orders,
            kiosk_value: m.kiosk_value.as_major(),
            kiosks: self.kiosk_kpis(span_s),
            balked: m.balked_shoppers,
            reneged: m.reneged_shoppers,
            inside_at_close: self.inside.len() as u64,
            visit_s: visits,
            wait_s: percentiles_s(&all_waits),
            queues,
            lanes,
            zones,
            shelf_stock_units: Sensed::new(stock_truth, stock_sensed),
            low_stock_alerts: m.low_stock_alerts,
            restocked_units: m.restocked_units,
            restock_trips: m.restock_trips,
            staff_rounds: m.staff_rounds,
            price_changes: m.price_changes,
            beacon_pushes: m.beacon_pushes,
            devices,
            crowding: self.crowd_kpis(span_s),
            heat_map: HeatMap {
                width: self.floor.width,
                height: self.floor.height,
                cell_m: self.floor.cell_m,
                dwell_s: m.cell_dwell_s.iter().map(|d| (d * 10.0).round() / 10.0).collect(),
                sensed_hits,
                density: self.crowd.person_s().iter().map(|p| round3(ratio(*p, span_s * area))).collect(),
                peak_people: self.crowd.peak.clone(),
            },
        }
    }

    fn kiosk_kpis(&self, span_s: f64) -> Vec<KioskKpis> {
        let m = &self.metrics;
        self.floor
            .kiosks
            .iter()
            .enumerate()
            .map(|(k, (_, device))| {
                let q = &m.kiosk_queues[k];
                KioskKpis {
                    name: self.spec.store.devices[usize::from(device.0)].name.clone(),
                    joined: q.joined,
                    served: q.started,
                    reneged: q.reneged,
                    balked: q.balked,
                    wait_s: percentiles_s(&q.waits_ms),
                    max_length: q.max_length,
                    mean_length: ratio(q.length_integral, span_s),
                    utilisation: ratio(m.kiosk_busy_s[k], span_s).min(1.0),
                }
            })
            .collect()
    }

    fn crowd_kpis(&self, span_s: f64) -> CrowdKpis {
        let c = &self.crowd;
        let floor = &self.floor;
        let area = c.cell_area_m2();
        let zone_area: Vec<f64> = (0..floor.zone_names.len())
            .map(|z| {
                let cells = (0..floor.cell_count())
                    .filter(|i| usize::from(floor.zone_of_index(*i)) == z && floor.is_walkable_index(*i))
                    .count();
                cells as f64 * area
            })
            .collect();
        let zones = floor
            .zone_names
            .iter()
            .enumerate()
            .map(|(z, name)| ZoneCrowd {
                name: name.clone(),
                area_m2: zone_area[z],
                mean_density: round3(ratio(c.zone_person_s()[z], span_s * zone_area[z])),
                peak_people: c.zone_peak[z],
                peak_density: round3(ratio(f64::from(c.zone_peak[z]), zone_area[z])),
                slowed_hours: c.slowed_s[z] / 3600.0,
                blocked_hours: c.blocked_s[z] / 3600.0,
            })
            .collect();
        let mut cells: Vec<usize> = (0..floor.cell_count()).filter(|i| c.person_s()[*i] > 0.0).collect();
        cells.sort_by(|a, b| c.person_s()[*b].total_cmp(&c.person_s()[*a]).then(a.cmp(b)));
        let densest = cells
            .iter()
            .take(10)
            .map(|i| {
                let cell = floor.cell_at(*i);
                let zone = floor.zone_of_index(*i);
                DenseCell {
                    x: cell.x,
                    y: cell.y,
                    zone: floor.zone_names.get(usize::from(zone)).cloned(),
                    mean_density: round3(ratio(c.person_s()[*i], span_s * area)),
                    peak_people: c.peak[*i],
                }
            })
            .collect();
        let entered = self.metrics.entered as f64;
        let (slowed, blocked): (f64, f64) = (c.slowed_s.iter().sum(), c.blocked_s.iter().sum());
        CrowdKpis {
            max_density_per_m2: self.spec.store.max_density_per_m2,
            cell_capacity: c.capacity.iter().copied().max().unwrap_or(0),
            zones,
            slowed_s_per_shopper: ratio(slowed, entered),
            blocked_s_per_shopper: ratio(blocked, entered),
            slowed_hours: slowed / 3600.0,
            blocked_hours: blocked / 3600.0,
            squeezes: c.squeezes,
            detours: c.detours,
            swaps: c.swaps,
            entry_waits: c.entry_waits,
            entry_wait_s_mean: ratio(c.entry_wait_s, c.entry_waits as f64),
            to_first_shelf_s: ratio(self.metrics.to_first_shelf_s, self.metrics.reached_shelf as f64),
            densest,
        }
    }

    fn lost_by(&self) -> (Vec<LostBy>, Vec<LostBy>) {
        let spec = &self.spec.store;
        let m = &self.metrics;
        let mut by_category: Vec<LostBy> = spec
            .categories
            .iter()
            .map(|c| LostBy { name: c.name.clone(), items: 0, value: 0.0, by_cause: BTreeMap::new() })
            .collect();
        let mut by_sku = Vec::new();
        for (i, (causes, lost_value)) in m.lost_by_sku.iter().enumerate() {
            let items: u64 = causes.iter().map(|n| u64::from(*n)).sum();
            if items == 0 {
                continue;
            }
            let sku = &spec.catalogue[i];
            let value = lost_value.as_major();
            let by_cause: BTreeMap<&'static str, u64> = LostCause::ALL
                .iter()
                .filter(|c| causes[**c as usize] > 0)
                .map(|c| (c.name(), u64::from(causes[*c as usize])))
                .collect();
            let cat = &mut by_category[usize::from(sku.category.0)];
            cat.items += items;
            cat.value += value;
            for (k, n) in &by_cause {
                *cat.by_cause.entry(k).or_insert(0) += n;
            }
            by_sku.push(LostBy { name: sku.name.clone(), items, value, by_cause });
        }
        by_category.retain(|c| c.items > 0);
        for c in &mut by_category {
            c.value = (c.value * 100.0).round() / 100.0;
        }
        let order = |a: &LostBy, b: &LostBy| b.value.total_cmp(&a.value).then_with(|| a.name.cmp(&b.name));
        by_category.sort_by(order);
        by_sku.sort_by(order);
        (by_category, by_sku)
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The KPIs of queue `q`, whose lanes finished serving `served` shoppers.
fn queue_kpis(name: &str, kind: &'static str, q: &QueueStats, served: u64, span_s: f64) -> QueueKpis {
    let (l, lambda, w) = little(q, span_s);
    QueueKpis {
        name: name.to_string(),
        kind,
        joined: q.joined,
        served,
        reneged: q.reneged,
        jockeyed: q.jockeyed,
        balked: q.balked,
        wait_s: percentiles_s(&q.waits_ms),
        max_length: q.max_length,
        mean_length: l,
        arrival_rate_per_s: lambda,
        mean_time_in_queue_s: w,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

impl StoreKpis {
    /// The headline KPIs as `name -> value`, for means and confidence intervals across
    /// replications and for comparisons.
    pub fn flat(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        let mut put = |k: &str, v: f64| {
            out.insert(k.to_string(), v);
        };
        put("footfall", self.footfall.truth);
        put("footfall_sensed", self.footfall.sensed);
        put("wifi_visitors_sensed", self.wifi_visitors.sensed);
        put("mean_visit_s", self.mean_visit_s.truth);
        put("wait_mean_s", self.wait_s.mean);
        put("wait_p90_s", self.wait_s.p90);
        put("wait_max_s", self.wait_s.max);
        put("mean_visit_s_sensed", self.mean_visit_s.sensed);
        put("buyers", self.buyers as f64);
        put("conversion", self.conversion);
        put("basket_mean_items", self.basket_mean_items);
        put("sales", self.sales);
        put("sales_per_m2", self.sales_per_m2);
        put("balked", self.balked as f64);
        put("reneged", self.reneged as f64);
        put("balk_rate", ratio(self.balked as f64, self.footfall.truth));
        put("renege_rate", ratio(self.reneged as f64, self.footfall.truth));
        put("lost_items", self.lost_sales.values().map(|l| l.items as f64).sum());
        put("lost_value", self.lost_sales.values().map(|l| l.value).sum());
        put("kiosk_orders", self.kiosk_orders as f64);
        put("impulse_adds", self.impulse_adds as f64);
        for q in &self.queues {
            put(&format!("queue[{}].wait_mean_s", q.name), q.wait_s.mean);
            put(&format!("queue[{}].wait_p90_s", q.name), q.wait_s.p90);
        }
        for l in &self.lanes {
            put(&format!("lane[{}].utilisation", l.name), l.utilisation);
        }
        let c = &self.crowding;
        put("crowd.slowed_s_per_shopper", c.slowed_s_per_shopper);
        put("crowd.blocked_s_per_shopper", c.blocked_s_per_shopper);
        put("crowd.to_first_shelf_s", c.to_first_shelf_s);
        put("crowd.entry_waits", c.entry_waits as f64);
        for z in &c.zones {
            put(&format!("zone[{}].peak_density", z.name), z.peak_density);
            put(&format!("zone[{}].mean_density", z.name), z.mean_density);
        }
        for k in &self.kiosks {
            put(&format!("kiosk[{}].wait_mean_s", k.name), k.wait_s.mean);
            put(&format!("kiosk[{}].reneged", k.name), k.reneged as f64);
        }
        out
    }
}
