//! Crowding on the floor: how many people stand in each cell, how many a cell holds, and
//! how fast people walk through a crowd.
//!
//! **Capacity.** A walkable cell holds at most `⌊max_density × area⌋` people (at least
//! one); `max_density` is the scenario's `store.max_density_per_m2` (default
//! [`DEFAULT_MAX_DENSITY`]). People standing still leave room to pass: for walkers, the
//! shoppers choosing at a shelf in a cell, and the members of a queue standing there, each
//! take at most half its capacity (they still count in full for the density, so passing
//! them is slow). A cell therefore holds at most its capacity of walkers, and never more
//! than one and a half times its capacity in all. A walker whose next cell is full waits,
//! steps aside, or takes another route round the crowd (see `shopper.rs`). People standing still (at a shelf, in a queue) always move on in finite
//! time; walkers blocked by walkers could block each other in a cycle. Two walkers facing
//! each other between two full cells (the common case: two crowds pushing against each other
//! in a narrow aisle) swap places at once; a longer cycle is broken by a walker blocked for
//! [`MAX_BLOCKED`] by a cell holding someone walking and no more than its capacity, who
//! squeezes in anyway (a cycle of walkers at capacity always has such a cell). Hence no
//! deadlock: every chain of blocking ends at someone standing, who leaves, or is a cycle of
//! walkers, which a swap or a squeeze breaks.
//!
//! **Speed.** Walking speed follows Weidmann's fundamental diagram for pedestrians,
//!
//! ```text
//! v(ρ) = v_free · (1 − exp(−γ · (1/ρ − 1/ρ_max))),   γ = 1.913 P/m², ρ_max = 5.4 P/m²
//! ```
//!
//! (U. Weidmann, *Transporttechnik der Fussgänger*, Schriftenreihe des IVT Nr. 90, ETH
//! Zürich, 1993, p. 48; the "Kladek formula" fitted to 25 published data sets). The local
//! density ρ is the number of people in a cell and its walkable 4-neighbours divided by their
//! area, counted when a walker enters the cell; it fixes the time to cross that cell.
//! `v_free` is the shopper's own desired speed (the segment's `speed_mps`). Measured in a
//! corridor (Edie's definitions, `actors/tests/crowding.rs`) the model's free-flow branch
//! lies within 5% of the diagram. Behind a bottleneck the cells fill to their capacity and
//! full cells block walkers, so there the model walks slower than the diagram's speed at
//! that density: its congested branch sits at the density limit.
//!
//! **Queues on the floor.** A checkout queue (a lane's own, or a shared line with its
//! lanes), and a kiosk's queue, has a *footprint*: its service cells, then the aisle cells
//! straight behind them, then the nearest cells beyond. The n people of a queue (waiting and
//! in service) fill the footprint in order, each cell up to its capacity, so a long queue
//! spills into the aisle behind the lane and walkers there are slowed or blocked.
//!
//! Everything here is simulation state shared by the shoppers of one store (one shard); it
//! changes only inside a shopper's handler, so the order of changes is the kernel's.

use storetwin_engine::{SimDuration, SimTime};

/// Weidmann's jam density: speed falls to zero here (P/m²).
pub const JAM_DENSITY: f64 = 5.4;
/// Weidmann's shape parameter γ (P/m²).
pub const WEIDMANN_GAMMA: f64 = 1.913;
/// Default capacity of floor space: a dense crowd in which people still shuffle forward.
pub const DEFAULT_MAX_DENSITY: f64 = 4.0;
/// Slowest walk through a crowd, as a share of the free speed: the diagram's speed at the
/// largest density a cell can hold ([`DEFAULT_MAX_DENSITY`]) is about 11%; this floor keeps
/// a step finite if a scenario sets the limit at or above the jam density.
pub const MIN_SPEED_SHARE: f64 = 0.02;
/// A blocked walker looks again after this long.
pub const BLOCKED_RETRY: SimDuration = SimDuration::from_millis(500);
/// A walker blocked this long by other walkers squeezes into the next cell regardless of
/// its capacity (breaks cycles of blocked walkers longer than two).
pub const MAX_BLOCKED: SimDuration = SimDuration::from_secs(60);

/// Weidmann's speed at density `rho` (P/m²) as a share of the free speed, in
/// `[MIN_SPEED_SHARE, 1]`.
pub fn speed_share(rho: f64) -> f64 {
    if rho <= 0.0 {
        return 1.0;
    }
    let share = 1.0 - (-WEIDMANN_GAMMA * (1.0 / rho - 1.0 / JAM_DENSITY)).exp();
    share.clamp(MIN_SPEED_SHARE, 1.0)
}

/// Cells a queue stands in, in the order it fills them, and how many it holds now.
#[derive(Clone, Debug, Default)]
pub struct Footprint {
    pub cells: Vec<u32>,
    pub members: u32,
}

/// Occupancy of the floor and its running statistics.
#[derive(Clone, Debug)]
pub struct Crowd {
    /// Most people per cell (0 for walls and shelves).
    pub capacity: Vec<u16>,
    /// People in each cell on their own (walking, at a shelf, at a till after paying).
    pub walkers: Vec<u16>,
    /// Of `walkers`, those standing still (at a shelf).
    pub standing: Vec<u16>,
    /// For each cell, a walker there blocked wanting to move up, left, right, down (the
    /// floor's neighbour order): shopper id + 1, 0 for none (the latest to block).
    pub blocked_towards: Vec<[u32; 4]>,
    /// Queue members standing in each cell (from the footprints).
    pub queued: Vec<u16>,
    /// Queue footprints: one per KPI queue index (lanes, then shared lines), then one per
    /// kiosk.
    pub footprints: Vec<Footprint>,
    cell_area_m2: f64,
    /// Person-seconds per cell, up to `since`.
    person_s: Vec<f64>,
    since: Vec<SimTime>,
    /// Most people in each cell at once.
    pub peak: Vec<u16>,
    zone_of: Vec<u16>,
    zone_now: Vec<u32>,
    pub zone_peak: Vec<u32>,
    zone_person_s: Vec<f64>,
    zone_since: Vec<SimTime>,
    /// Extra walking time caused by density (actual − free), seconds, per zone (last entry:
    /// outside any zone).
    pub slowed_s: Vec<f64>,
    /// Time spent unable to move because the next cell was full, per zone (last: none).
    pub blocked_s: Vec<f64>,
    /// Steps taken into a full cell after waiting [`MAX_BLOCKED`].
    pub squeezes: u64,
    /// Two walkers facing each other between full cells who swapped places.
    pub swaps: u64,
    /// Routes taken round a crowd (a detour found by a search over cells that are not full).
    pub detours: u64,
    /// Shoppers who had to wait outside because the entrance was full, and how long.
    pub entry_waits: u64,
    pub entry_wait_s: f64,
    /// Scratch space of the detour search (reused: no allocation per search).
    pub search: Search,
    /// [`speed_share`] for `people` in `cells` cells (1..=5): `share[(cells - 1) * SHARE_PEOPLE + people]`.
    share: Vec<f64>,
}

/// People counts tabulated in `Crowd::share` (more are computed).
const SHARE_PEOPLE: usize = 64;

/// Reusable buffers of a breadth-first search over the floor.
#[derive(Clone, Debug)]
pub struct Search {
    pub parent: Vec<u32>,
    /// Cells seen in the current search carry its generation.
    pub mark: Vec<u32>,
    pub generation: u32,
    pub frontier: Vec<u32>,
}

impl Search {
    pub const EMPTY: Search = Search { parent: Vec::new(), mark: Vec::new(), generation: 0, frontier: Vec::new() };
}

impl Crowd {
    /// No floor at all (what a [`crate::store::world::View`] shows an actor that may not look).
    pub const EMPTY: Crowd = Crowd {
        capacity: Vec::new(),
        walkers: Vec::new(),
        standing: Vec::new(),
        blocked_towards: Vec::new(),
        queued: Vec::new(),
        footprints: Vec::new(),
        cell_area_m2: 1.0,
        person_s: Vec::new(),
        since: Vec::new(),
        peak: Vec::new(),
        zone_of: Vec::new(),
        zone_now: Vec::new(),
        zone_peak: Vec::new(),
        zone_person_s: Vec::new(),
        zone_since: Vec::new(),
        slowed_s: Vec::new(),
        blocked_s: Vec::new(),
        squeezes: 0,
        swaps: 0,
        detours: 0,
        entry_waits: 0,
        entry_wait_s: 0.0,
        search: Search::EMPTY,
        share: Vec::new(),
    };

    /// An empty floor. `capacity` per cell, `zone_of` per cell (`u16::MAX` for none).
    pub fn new(capacity: Vec<u16>, cell_area_m2: f64, zone_of: Vec<u16>, zones: usize) -> Crowd {
        let n = capacity.len();
        Crowd {
            capacity,
            walkers: vec![0; n],
            standing: vec![0; n],
            blocked_towards: vec![[0; 4]; n],
            queued: vec![0; n],
            footprints: Vec::new(),
            cell_area_m2,
            person_s: vec![0.0; n],
            since: vec![SimTime::ZERO; n],
            peak: vec![0; n],
            zone_of,
            zone_now: vec![0; zones],
            zone_peak: vec![0; zones],
            zone_person_s: vec![0.0; zones],
            zone_since: vec![SimTime::ZERO; zones],
            slowed_s: vec![0.0; zones + 1],
            blocked_s: vec![0.0; zones + 1],
            squeezes: 0,
            swaps: 0,
            detours: 0,
            entry_waits: 0,
            entry_wait_s: 0.0,
            search: Search { parent: vec![0; n], mark: vec![0; n], generation: 0, frontier: Vec::new() },
            share: (1..=5u32)
                .flat_map(|cells| {
                    (0..SHARE_PEOPLE as u32)
                        .map(move |people| speed_share(f64::from(people) / (f64::from(cells) * cell_area_m2)))
                })
                .collect(),
        }
    }

    /// Weidmann's speed share for `people` in a neighbourhood of `cells` cells (1 to 5).
    #[inline]
    pub fn speed_share_of(&self, people: u32, cells: u32) -> f64 {
        let (p, c) = (people as usize, cells.clamp(1, 5) as usize);
        match self.share.get((c - 1) * SHARE_PEOPLE + p) {
            Some(v) if p < SHARE_PEOPLE => *v,
            _ => speed_share(f64::from(people) / (f64::from(cells) * self.cell_area_m2)),
        }
    }

    pub fn cell_area_m2(&self) -> f64 {
        self.cell_area_m2
    }

    /// People in cell `i` now.
    #[inline]
    pub fn occupancy(&self, i: usize) -> u32 {
        u32::from(self.walkers[i]) + u32::from(self.queued[i])
    }

    /// Cell `i` cannot take one more person walking in. People standing still there (at a
    /// shelf, in a queue) take at most half its room each: one can pass behind someone
    /// choosing from a shelf, or through a queue, slowly.
    #[inline]
    pub fn is_full(&self, i: usize) -> bool {
        let cap = self.capacity[i];
        let moving = self.walkers[i].saturating_sub(self.standing[i]);
        let for_walkers =
            moving.saturating_add(self.standing[i].min(cap / 2)).saturating_add(self.queued[i].min(cap / 2));
        for_walkers >= cap || self.occupancy(i) >= u32::from(cap) + u32::from(cap / 2)
    }

    /// A walker blocked for [`MAX_BLOCKED`] may squeeze into cell `i`: someone there is
    /// walking (and may be blocked in turn) and the cell holds no more than its capacity, so
    /// squeezes never pile people up.
    #[inline]
    pub fn may_squeeze(&self, i: usize) -> bool {
        self.has_walkers(i) && self.occupancy(i) <= u32::from(self.capacity[i])
    }

    /// Index into the per-zone statistics for a zone id (the last entry is "no zone").
    pub fn zone_slot(&self, zone: u16) -> usize {
        if usize::from(zone) < self.zone_now.len() { usize::from(zone) } else { self.zone_now.len() }
    }

    fn advance(&mut self, i: usize, now: SimTime) {
        let occ = self.occupancy(i);
        self.person_s[i] += f64::from(occ) * now.saturating_since(self.since[i]).as_secs_f64();
        self.since[i] = now;
        let z = usize::from(self.zone_of[i]);
        if z < self.zone_now.len() {
            self.zone_person_s[z] +=
                f64::from(self.zone_now[z]) * now.saturating_since(self.zone_since[z]).as_secs_f64();
            self.zone_since[z] = now;
        }
    }

    fn after_change(&mut self, i: usize, up: bool) {
        let occ = self.occupancy(i);
        self.peak[i] = self.peak[i].max(occ.min(u32::from(u16::MAX)) as u16);
        let z = usize::from(self.zone_of[i]);
        if z < self.zone_now.len() {
            if up {
                self.zone_now[z] += 1;
            } else {
                self.zone_now[z] = self.zone_now[z].saturating_sub(1);
            }
            self.zone_peak[z] = self.zone_peak[z].max(self.zone_now[z]);
        }
    }

    /// A walker enters cell `i`.
    pub fn enter(&mut self, i: usize, now: SimTime) {
        self.advance(i, now);
        self.walkers[i] = self.walkers[i].saturating_add(1);
        self.after_change(i, true);
    }

    /// A walker leaves cell `i`.
    pub fn exit(&mut self, i: usize, now: SimTime) {
        self.advance(i, now);
        self.walkers[i] = self.walkers[i].saturating_sub(1);
        self.after_change(i, false);
    }

    /// Someone in cell `i` stops walking (reaches a shelf), or walks on.
    pub fn stand(&mut self, i: usize, standing: bool) {
        self.standing[i] =
            if standing { self.standing[i].saturating_add(1) } else { self.standing[i].saturating_sub(1) };
    }

    /// Cell `i` holds someone walking (who may be blocked in turn): squeezing past is allowed.
    #[inline]
    pub fn has_walkers(&self, i: usize) -> bool {
        self.walkers[i] > self.standing[i]
    }

    /// Registers (or clears) shopper `who` in cell `i` as blocked towards the directions in
    /// `mask` (bit `d` = neighbour direction `d`: up, left, right, down).
    pub fn set_blocked(&mut self, i: usize, mask: u8, who: u32, on: bool) {
        for d in 0..4 {
            if mask & (1 << d) != 0 {
                let slot = &mut self.blocked_towards[i][d];
                if on {
                    *slot = who + 1;
                } else if *slot == who + 1 {
                    *slot = 0;
                }
            }
        }
    }

    /// A walker in cell `i` blocked wanting to move in direction `d`, if any.
    #[inline]
    pub fn blocked_towards(&self, i: usize, d: usize) -> Option<u32> {
        self.blocked_towards[i][d].checked_sub(1)
    }

    /// The cell in which position `n` (0 = the head) of footprint `f` stands.
    fn slot_cell(&self, f: usize, n: u32) -> Option<usize> {
        let fp = &self.footprints[f];
        let mut left = n;
        for &c in &fp.cells {
            let cap = u32::from(self.capacity[c as usize]).max(1);
            if left < cap {
                return Some(c as usize);
            }
            left -= cap;
        }
        // Longer than its footprint: the rest press into the last cell.
        fp.cells.last().map(|c| *c as usize)
    }

    /// One more member of queue footprint `f`; returns the cell they stand in.
    pub fn join_queue(&mut self, f: usize, now: SimTime) -> Option<usize> {
        let n = self.footprints.get(f)?.members;
        let cell = self.slot_cell(f, n);
        self.footprints[f].members += 1;
        if let Some(i) = cell {
            self.advance(i, now);
            self.queued[i] = self.queued[i].saturating_add(1);
            self.after_change(i, true);
        }
        cell
    }

    /// One fewer member of queue footprint `f` (the queue moves up: its tail cell frees).
    pub fn leave_queue(&mut self, f: usize, now: SimTime) {
        let Some(fp) = self.footprints.get(f) else { return };
        if fp.members == 0 {
            return;
        }
        let n = fp.members - 1;
        let cell = self.slot_cell(f, n);
        self.footprints[f].members = n;
        if let Some(i) = cell {
            self.advance(i, now);
            self.queued[i] = self.queued[i].saturating_sub(1);
            self.after_change(i, false);
        }
    }

    /// Whether cell `i` is part of footprint `f`.
    pub fn in_footprint(&self, f: usize, i: usize) -> bool {
        self.footprints.get(f).is_some_and(|fp| fp.cells.contains(&(i as u32)))
    }

    /// Brings every integral up to `now` (end of run, or before a snapshot of statistics).
    pub fn close_books(&mut self, now: SimTime) {
        for i in 0..self.capacity.len() {
            self.advance(i, now);
        }
        for z in 0..self.zone_now.len() {
            self.zone_person_s[z] +=
                f64::from(self.zone_now[z]) * now.saturating_since(self.zone_since[z]).as_secs_f64();
            self.zone_since[z] = now;
        }
    }

    /// Person-seconds per cell (after [`Crowd::close_books`]).
    pub fn person_s(&self) -> &[f64] {
        &self.person_s
    }

    /// Person-seconds per zone (after [`Crowd::close_books`]).
    pub fn zone_person_s(&self) -> &[f64] {
        &self.zone_person_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weidmann_at_published_points() {
        // Free flow: almost no slowdown at 0.5 P/m²; zero at jam density.
        assert!((speed_share(0.5) - 0.969).abs() < 0.002);
        assert!((speed_share(1.0) - 0.790).abs() < 0.002);
        assert!((speed_share(2.0) - 0.453).abs() < 0.002);
        assert_eq!(speed_share(JAM_DENSITY), MIN_SPEED_SHARE);
        assert_eq!(speed_share(0.0), 1.0);
        // Monotone decreasing.
        let mut last = 1.0;
        for k in 1..60 {
            let v = speed_share(f64::from(k) * 0.1);
            assert!(v <= last);
            last = v;
        }
    }

    #[test]
    fn footprint_fills_cells_in_order_and_frees_from_the_tail() {
        let mut c = Crowd::new(vec![2, 3, 1, 0], 1.0, vec![u16::MAX; 4], 0);
        c.footprints.push(Footprint { cells: vec![0, 1, 2], members: 0 });
        let t = SimTime::ZERO;
        let cells: Vec<_> = (0..7).map(|_| c.join_queue(0, t).unwrap()).collect();
        assert_eq!(cells, vec![0, 0, 1, 1, 1, 2, 2]);
        assert_eq!((c.queued[0], c.queued[1], c.queued[2]), (2, 3, 2));
        c.leave_queue(0, t);
        c.leave_queue(0, t);
        assert_eq!((c.queued[0], c.queued[1], c.queued[2]), (2, 3, 0));
        // A queue leaves room to pass, up to one and a half times a cell's capacity: cell 1
        // (capacity 3, 3 queued) takes one walker, cell 0 (capacity 2, 2 queued) one.
        assert!(!c.is_full(0) && !c.is_full(1));
        c.enter(0, t);
        c.enter(1, t);
        assert!(c.is_full(0) && c.is_full(1));
        assert_eq!((c.occupancy(0), c.occupancy(1)), (3, 4));
        // Standing shoppers leave room the same way; walkers alone fill a cell.
        let mut d = Crowd::new(vec![4], 1.0, vec![u16::MAX], 0);
        for _ in 0..4 {
            d.enter(0, t);
            d.stand(0, true);
        }
        assert!(!d.is_full(0), "four choosing at a shelf, one can pass");
        d.enter(0, t);
        d.enter(0, t);
        assert!(d.is_full(0) && d.occupancy(0) == 6);
        let mut e = Crowd::new(vec![4], 1.0, vec![u16::MAX], 0);
        for _ in 0..4 {
            e.enter(0, t);
        }
        assert!(e.is_full(0));
    }

    #[test]
    fn person_seconds_integrate_occupancy() {
        let mut c = Crowd::new(vec![4], 1.0, vec![0], 1);
        c.enter(0, SimTime::from_secs(10));
        c.enter(0, SimTime::from_secs(20));
        c.exit(0, SimTime::from_secs(30));
        c.close_books(SimTime::from_secs(40));
        // 1 person 10..20, 2 people 20..30, 1 person 30..40.
        assert!((c.person_s()[0] - 40.0).abs() < 1e-9);
        assert_eq!(c.peak[0], 2);
        assert_eq!(c.zone_peak[0], 2);
        assert!((c.zone_person_s()[0] - 40.0).abs() < 1e-9);
    }
}
