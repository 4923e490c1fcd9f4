//! In-store devices. Each is an actor that can fail (at random, with exponential times
//! between failures and to repair, or on a schedule) and emits what a real one would:
//! counts, detections with position noise, proximity pushes, label prices, stock weights.
//! Their readings are the "sensed" side of every KPI that has one.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};
use storetwin_engine::{Context, SimDuration, SimTime};

use crate::money::Cents;
use crate::store::floor::Floor;
use crate::store::lane::Waiting;
use crate::store::metrics::{Departure, Metrics};
use crate::store::shopper::KIOSK_S;
use crate::store::spec::{
    CategoryId, Cell, CellKind, DeviceId, DeviceKind, DeviceSpec, FailureSpec, FloorSpec, SkuId, StoreSpec,
};
use crate::store::world::{ShopperId, StoreMsg, View};

/// How often a smart shelf weighs its stock.
pub const SMART_SHELF_INTERVAL: SimDuration = SimDuration::from_secs(60);

/// Categories on shelves next to `cell` (a device mounted on a shelf edge).
pub fn categories_next_to(cell: Cell, floor: &FloorSpec) -> Vec<CategoryId> {
    let mut out = Vec::new();
    let (w, h) = (floor.width, floor.height);
    let mut look = |x: i32, y: i32| {
        if x >= 0
            && y >= 0
            && x < i32::from(w)
            && y < i32::from(h)
            && let CellKind::Shelf(c) = floor.kind(Cell { x: x as u16, y: y as u16 })
            && !out.contains(&c)
        {
            out.push(c);
        }
    };
    let (x, y) = (i32::from(cell.x), i32::from(cell.y));
    for (dx, dy) in [(0, 0), (0, -1), (-1, 0), (1, 0), (0, 1)] {
        look(x + dx, y + dy);
    }
    out
}

/// The SKUs of the categories on shelves next to `cell`: what an ESL there labels and a
/// smart shelf there weighs, in catalogue order.
pub fn skus_next_to(cell: Cell, store: &StoreSpec) -> Vec<SkuId> {
    let cats = categories_next_to(cell, &store.floor);
    (0..store.catalogue.len() as u32)
        .map(SkuId)
        .filter(|s| cats.contains(&store.catalogue[s.0 as usize].category))
        .collect()
}

#[derive(Clone, Debug)]
pub struct Device {
    pub id: DeviceId,
    pub kind: DeviceKind,
    pub cell: Cell,
    failures: Option<FailureSpec>,
    /// Scheduled outages in force (they may overlap).
    scheduled_down: u32,
    random_down: bool,
    /// The real device reported a fault and no heartbeat since (see
    /// [`crate::store::sensors`]).
    reported_down: bool,
    /// Share of normal accuracy (1 unless degraded).
    pub accuracy: f64,
    /// Time the device spent down, seconds.
    pub down_s: f64,
    down_since: Option<SimTime>,
    pub readings: Readings,
    /// A kiosk serves one shopper at a time from its own FIFO queue.
    pub kiosk: Option<KioskServer>,
}

/// A kiosk's queue and who is using it.
#[derive(Clone, Debug)]
pub struct KioskServer {
    /// Index among the kiosks (`Floor::kiosks`, the kiosk queues' statistics).
    pub index: u16,
    pub queue: std::collections::VecDeque<Waiting>,
    pub serving: Option<ShopperId>,
    service_started: SimTime,
    last_started: SimTime,
}

/// What a device has sensed.
#[derive(Clone, Debug)]
pub enum Readings {
    None,
    Count(u64),
    /// WiFi probe: first and last second each phone was seen (`u32::MAX` = never), and
    /// detections per cell of the reported (noisy) position.
    Wifi {
        seen: Vec<(u32, u32)>,
        hits: Vec<u32>,
    },
    /// ESL: the price shown for each SKU it labels, and the newest price it missed while
    /// down (applied on repair).
    Labels {
        skus: Vec<SkuId>,
        shown: Vec<Cents>,
        missed: Vec<Option<Cents>>,
    },
    /// Smart shelf: the SKUs it weighs, the last reading of each, and whether it has an
    /// open low-stock alert.
    Stock {
        skus: Vec<SkuId>,
        last: Vec<u32>,
        alerted: Vec<bool>,
    },
}

impl Device {
    pub fn new(id: DeviceId, spec: &DeviceSpec, store: &StoreSpec, floor: &Floor) -> Self {
        let labelled = || skus_next_to(spec.cell, store);
        let readings = match spec.kind {
            DeviceKind::DoorCounter { .. } | DeviceKind::FaceCamera { .. } | DeviceKind::Beacon { .. } => {
                Readings::Count(0)
            }
            DeviceKind::WifiProbe { .. } => Readings::Wifi { seen: Vec::new(), hits: vec![0; floor.cell_count()] },
            DeviceKind::Esl { .. } => {
                let skus = labelled();
                let shown = skus.iter().map(|s| store.catalogue[s.0 as usize].price).collect();
                let missed = vec![None; skus.len()];
                Readings::Labels { skus, shown, missed }
            }
            DeviceKind::SmartShelf { .. } => {
                let skus = labelled();
                let last = skus.iter().map(|s| store.catalogue[s.0 as usize].shelf).collect();
                let alerted = vec![false; skus.len()];
                Readings::Stock { skus, last, alerted }
            }
            DeviceKind::Kiosk => Readings::None,
        };
        Device {
            id,
            kind: spec.kind.clone(),
            cell: spec.cell,
            failures: spec.failures,
            scheduled_down: 0,
            random_down: false,
            reported_down: false,
            accuracy: 1.0,
            down_s: 0.0,
            down_since: None,
            readings,
            kiosk: floor.kiosks.iter().position(|(_, d)| *d == id).map(|k| KioskServer {
                index: k as u16,
                queue: std::collections::VecDeque::new(),
                serving: None,
                service_started: SimTime::ZERO,
                last_started: SimTime::ZERO,
            }),
        }
    }

    pub fn is_up(&self) -> bool {
        self.scheduled_down == 0 && !self.random_down && !self.reported_down
    }

    /// The real device's last report was a fault (no heartbeat since).
    pub fn is_reported_down(&self) -> bool {
        self.reported_down
    }

    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }

    /// The price an ESL shows for `sku`, if it labels it.
    pub fn shown_price(&self, sku: SkuId) -> Option<Cents> {
        match &self.readings {
            Readings::Labels { skus, shown, .. } => skus.iter().position(|s| *s == sku).map(|i| shown[i]),
            _ => None,
        }
    }

    pub fn start(&mut self, ctx: &mut Context<'_, StoreMsg>) {
        if let Some(f) = self.failures {
            let gap: f64 = Exp1.sample(ctx.rng());
            ctx.schedule(SimDuration::from_secs_f64(gap * f.mtbf.as_secs_f64()), StoreMsg::RandomFailure);
        }
        match self.kind {
            DeviceKind::WifiProbe { interval, .. } => ctx.schedule(interval, StoreMsg::DeviceTick),
            DeviceKind::SmartShelf { .. } => ctx.schedule(SMART_SHELF_INTERVAL, StoreMsg::DeviceTick),
            _ => {}
        }
    }

    /// A cause of being down starts (`Some(true)`) or ends (`Some(false)`): a scheduled
    /// outage or the ops team, a random failure, or a fault the real device reported.
    fn set_down(&mut self, scheduled: Option<bool>, random: Option<bool>, reported: Option<bool>, now: SimTime) {
        let was_up = self.is_up();
        // A scheduled outage starts (`Some(true)`) or ends; overlapping ones count.
        match scheduled {
            Some(true) => self.scheduled_down += 1,
            Some(false) => self.scheduled_down = self.scheduled_down.saturating_sub(1),
            None => {}
        }
        if let Some(r) = random {
            self.random_down = r;
        }
        if let Some(r) = reported {
            self.reported_down = r;
        }
        match (was_up, self.is_up()) {
            (true, false) => self.down_since = Some(now),
            (false, true) => {
                if let Some(since) = self.down_since.take() {
                    self.down_s += now.saturating_since(since).as_secs_f64();
                }
                // A label that comes back resynchronises with the price server.
                if let Readings::Labels { shown, missed, .. } = &mut self.readings {
                    for (s, m) in shown.iter_mut().zip(missed.iter_mut()) {
                        if let Some(p) = m.take() {
                            *s = p;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    pub fn close_books(&mut self, metrics: &mut Metrics, now: SimTime) {
        if let Some(since) = self.down_since {
            self.down_s += now.saturating_since(since).as_secs_f64();
            self.down_since = Some(now);
        }
        if let Some(k) = &mut self.kiosk {
            let i = usize::from(k.index);
            let waiting: f64 = k.queue.iter().map(|w| now.saturating_since(w.joined).as_secs_f64()).sum();
            metrics.kiosk_queues[i].close(now, waiting);
            if k.serving.is_some() {
                metrics.kiosk_busy_s[i] += now.saturating_since(k.service_started).as_secs_f64();
                k.service_started = now;
            }
        }
    }

    /// A working, idle kiosk takes the head of its queue.
    fn kiosk_try_start(&mut self, view: &View<'_>, metrics: &mut Metrics, ctx: &mut Context<'_, StoreMsg>) {
        let up = self.is_up();
        let Some(k) = &mut self.kiosk else { return };
        if !up || k.serving.is_some() {
            return;
        }
        let Some(w) = k.queue.pop_front() else { return };
        let now = ctx.now();
        if w.joined < k.last_started {
            ctx.fail("FIFO per queue", format!("kiosk {} served a later arrival first", self.id.0));
        }
        k.last_started = w.joined;
        metrics.kiosk_queues[usize::from(k.index)].on_leave(
            now,
            now.saturating_since(w.joined).as_secs_f64(),
            Departure::Served,
        );
        k.serving = Some(w.shopper);
        k.service_started = now;
        ctx.send(view.layout.shopper(w.shopper), SimDuration::ZERO, StoreMsg::KioskStart);
        ctx.schedule(SimDuration::from_secs(KIOSK_S), StoreMsg::ServiceDone);
    }
}

pub fn handle(
    dev: &mut Device,
    msg: StoreMsg,
    view: &View<'_>,
    inside: &[ShopperId],
    metrics: &mut Metrics,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let now = ctx.now();
    match msg {
        StoreMsg::SetDeviceUp { up } => {
            dev.set_down(Some(!up), None, None, now);
            dev.kiosk_try_start(view, metrics, ctx);
        }
        StoreMsg::Join { shopper, items, payment } if dev.kiosk.is_some() => {
            if let Some(k) = &mut dev.kiosk {
                k.queue.push_back(Waiting { shopper, items, payment, joined: now });
                metrics.kiosk_queues[usize::from(k.index)].on_join(now);
            }
            dev.kiosk_try_start(view, metrics, ctx);
        }
        StoreMsg::Leave { shopper, .. } if dev.kiosk.is_some() => {
            if let Some(k) = &mut dev.kiosk
                && let Some(pos) = k.queue.iter().position(|w| w.shopper == shopper)
            {
                let w = k.queue.remove(pos).expect("position is in range");
                let wait = now.saturating_since(w.joined).as_secs_f64();
                metrics.kiosk_queues[usize::from(k.index)].on_leave(now, wait, Departure::Reneged);
                ctx.send(view.layout.shopper(shopper), SimDuration::ZERO, StoreMsg::LeftQueue);
            }
        }
        StoreMsg::ServiceDone if dev.kiosk.is_some() => {
            let up = dev.is_up();
            if let Some(k) = &mut dev.kiosk
                && let Some(shopper) = k.serving.take()
            {
                metrics.kiosk_busy_s[usize::from(k.index)] += now.saturating_since(k.service_started).as_secs_f64();
                ctx.send(view.layout.shopper(shopper), SimDuration::ZERO, StoreMsg::KioskDone { ordered: up });
            }
            dev.kiosk_try_start(view, metrics, ctx);
        }
        StoreMsg::SetAccuracy { per_mille } => dev.accuracy = f64::from(per_mille) / 1000.0,
        // After closing (a chain's run that goes on for its centres), devices stop failing
        // and ticking: nothing of theirs is delivered after the close in a run that ends
        // there, so such runs are unchanged.
        StoreMsg::RandomFailure | StoreMsg::DeviceTick if now > SimTime::ZERO.saturating_add(view.spec.duration) => {}
        StoreMsg::RandomFailure => {
            dev.set_down(None, Some(true), None, now);
            if let Some(f) = dev.failures {
                let gap: f64 = Exp1.sample(ctx.rng());
                ctx.schedule(SimDuration::from_secs_f64(gap * f.mttr.as_secs_f64()), StoreMsg::RandomRepair);
            }
        }
        StoreMsg::RandomRepair => {
            dev.set_down(None, Some(false), None, now);
            dev.kiosk_try_start(view, metrics, ctx);
            if let Some(f) = dev.failures
                && now <= SimTime::ZERO.saturating_add(view.spec.duration)
            {
                let gap: f64 = Exp1.sample(ctx.rng());
                ctx.schedule(SimDuration::from_secs_f64(gap * f.mtbf.as_secs_f64()), StoreMsg::RandomFailure);
            }
        }
        StoreMsg::Passed { shopper } => passed(dev, shopper, view, metrics, ctx),
        StoreMsg::PriceUpdate { sku, price } => {
            let up = dev.is_up();
            // A degraded ESL system fails to update some of its labels.
            let updated = up && (dev.accuracy >= 1.0 || ctx.rng().random::<f64>() < dev.accuracy);
            if let Readings::Labels { skus, shown, missed } = &mut dev.readings
                && let Some(i) = skus.iter().position(|s| *s == sku)
            {
                if updated {
                    shown[i] = price;
                } else {
                    missed[i] = Some(price);
                }
            }
        }
        StoreMsg::DeviceTick => tick(dev, view, inside, metrics, ctx),
        // What the real device reported (see `sensors`).
        StoreMsg::DeviceReported { up } => {
            let fault = !up && !dev.reported_down;
            dev.set_down(None, None, Some(!up), now);
            metrics.real.device_reported(dev.id, up, fault);
            dev.kiosk_try_start(view, metrics, ctx);
        }
        StoreMsg::DoorCounted { people } => match dev.kind {
            DeviceKind::DoorCounter { .. } => metrics.real.door_counted(dev.id, people),
            _ => metrics.real.ignored += 1,
        },
        StoreMsg::EslAcked { sku, price } => {
            let till = view.store.price.get(sku.0 as usize).copied();
            let label = match &mut dev.readings {
                Readings::Labels { skus, shown, missed } => {
                    skus.iter().position(|s| *s == sku).map(|i| (&mut shown[i], &mut missed[i]))
                }
                _ => None,
            };
            match (label, till) {
                (Some((shown, missed)), Some(till)) => {
                    let model = *shown;
                    *shown = price;
                    // It shows the price the model thought it had missed: nothing is left
                    // to apply when it comes back from a failure.
                    if *missed == Some(price) {
                        *missed = None;
                    }
                    metrics.real.esl_acked(dev.id, sku, now, price, till, model);
                }
                _ => metrics.real.ignored += 1,
            }
        }
        other => ctx.fail("message routing", format!("device {} got {other:?}", dev.id.0)),
    }
}

fn passed(
    dev: &mut Device,
    shopper: ShopperId,
    view: &View<'_>,
    metrics: &mut Metrics,
    ctx: &mut Context<'_, StoreMsg>,
) {
    if !dev.is_up() {
        return;
    }
    let accuracy = dev.accuracy;
    let Readings::Count(count) = &mut dev.readings else { return };
    match dev.kind {
        DeviceKind::DoorCounter { miss, double } => {
            let rng = ctx.rng();
            if rng.random::<f64>() >= 1.0 - (1.0 - miss) * accuracy {
                let n = 1 + u64::from(rng.random::<f64>() < double);
                *count += n;
                metrics.door_count += n;
            }
        }
        DeviceKind::FaceCamera { recognise, .. }
            if view.shoppers[shopper.0 as usize].member && ctx.rng().random::<f64>() < recognise * accuracy =>
        {
            *count += 1;
            metrics.face_recognised += 1;
            ctx.send(view.layout.shopper(shopper), SimDuration::ZERO, StoreMsg::Recognised);
        }
        DeviceKind::Beacon { .. } if accuracy >= 1.0 || ctx.rng().random::<f64>() < accuracy => {
            *count += 1;
            metrics.beacon_pushes += 1;
            // In a chain, a member who "shakes" at the push is offered the beacon's coupons.
            if let Some(office) = view.layout.office()
                && view.shoppers[shopper.0 as usize].member
            {
                let channel = crate::chain::spec::IssueChannel::BeaconShake as u8;
                ctx.send(office, SimDuration::ZERO, StoreMsg::OfferCoupons { shopper, channel });
            }
        }
        _ => {}
    }
}

fn tick(
    dev: &mut Device,
    view: &View<'_>,
    inside: &[ShopperId],
    _metrics: &mut Metrics,
    ctx: &mut Context<'_, StoreMsg>,
) {
    let up = dev.is_up();
    let accuracy = dev.accuracy;
    match (&dev.kind, &mut dev.readings) {
        (DeviceKind::WifiProbe { range_m, detect, detect_app, noise_m, interval }, Readings::Wifi { seen, hits }) => {
            ctx.schedule(*interval, StoreMsg::DeviceTick);
            if !up {
                return;
            }
            let floor = view.floor;
            let second = (ctx.now().as_nanos() / 1_000_000_000) as u32;
            for s in inside {
                let shopper = &view.shoppers[s.0 as usize];
                if floor.metres(shopper.cell, dev.cell) > *range_m {
                    continue;
                }
                let p = accuracy * if shopper.app { *detect_app } else { *detect };
                if shopper.phone >= p {
                    continue;
                }
                let rng = ctx.rng();
                let i = s.0 as usize;
                if seen.len() <= i {
                    seen.resize(i + 1, (u32::MAX, u32::MAX));
                }
                let entry = &mut seen[i];
                if entry.0 == u32::MAX {
                    entry.0 = second;
                }
                entry.1 = second;
                // Reported position: the true one plus normal noise, snapped to a cell.
                let nx: f64 = StandardNormal.sample(rng);
                let ny: f64 = StandardNormal.sample(rng);
                let noise = noise_m / accuracy / floor.cell_m;
                let x = (f64::from(shopper.cell.x) + nx * noise).round();
                let y = (f64::from(shopper.cell.y) + ny * noise).round();
                if x >= 0.0 && y >= 0.0 && x < f64::from(floor.width) && y < f64::from(floor.height) {
                    hits[floor.index(Cell { x: x as u16, y: y as u16 })] += 1;
                }
            }
        }
        (DeviceKind::SmartShelf { noise_units }, Readings::Stock { skus, last, alerted }) => {
            ctx.schedule(SMART_SHELF_INTERVAL, StoreMsg::DeviceTick);
            if !up {
                return;
            }
            for (i, sku) in skus.iter().enumerate() {
                let truth = f64::from(view.store.shelf[sku.0 as usize]);
                let z: f64 = StandardNormal.sample(ctx.rng());
                let reading = (truth + z * noise_units / accuracy).round().max(0.0) as u32;
                last[i] = reading;
                let reorder_at = view.spec.store.catalogue[sku.0 as usize].reorder_at;
                if reading <= reorder_at && !alerted[i] {
                    alerted[i] = true;
                    ctx.send(view.layout.store(), SimDuration::ZERO, StoreMsg::LowStock { sku: *sku });
                } else if reading > reorder_at {
                    alerted[i] = false;
                }
            }
        }
        _ => {}
    }
}
