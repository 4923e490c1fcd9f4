//! The floor as shoppers walk it: which cells are walkable, where each target can be
//! reached from, and precomputed distance fields so that a step is a lookup, not a search.
//!
//! A distance field holds, for every cell, the number of steps (4-neighbourhood) to the
//! nearest cell of a target set; `u16::MAX` where the target cannot be reached. Targets are
//! the categories (the walkable cells next to their shelves), each lane's cell, the exits
//! and the kiosks. Fields are built once per world with a breadth-first search.

use std::collections::VecDeque;

use crate::store::spec::{CategoryId, Cell, CellKind, DeviceId, DeviceKind, FloorSpec, LaneId, StoreSpec};

/// Steps to a target; `UNREACHABLE` where it cannot be reached.
pub type Steps = u16;
pub const UNREACHABLE: Steps = Steps::MAX;

/// What a shopper walks towards.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    Category(CategoryId),
    Lane(LaneId),
    Exit,
    Kiosk,
}

pub struct Floor {
    pub width: u16,
    pub height: u16,
    pub cell_m: f64,
    kinds: Vec<CellKind>,
    /// Zone of each cell, `u16::MAX` for none.
    zone_of: Vec<u16>,
    pub zone_names: Vec<String>,
    pub entrances: Vec<Cell>,
    category_fields: Vec<Vec<Steps>>,
    lane_fields: Vec<Vec<Steps>>,
    exit_field: Vec<Steps>,
    kiosk_field: Vec<Steps>,
    /// Walkable cells next to a shelf of each category.
    pub access: Vec<Vec<Cell>>,
    /// Shelf area per category in m² (for sales per m²).
    pub shelf_area_m2: Vec<f64>,
    pub walkable_area_m2: f64,
    /// Door counters and face cameras that see each entrance (same order as `entrances`).
    pub entrance_devices: Vec<Vec<DeviceId>>,
    /// For each cell, a bit per beacon (index into `beacon_ids`) whose range covers it.
    pub beacon_mask: Vec<u32>,
    pub beacon_ids: Vec<DeviceId>,
    /// For each cell, a bit per category (ids below 64) with a shelf right next to it:
    /// what a shopper standing there can see.
    pub shelves_near: Vec<u64>,
    /// Each kiosk's service cell (the floor in front of it) and its device.
    pub kiosks: Vec<(Cell, DeviceId)>,
    /// The cells of each lane (its checkout point).
    pub lane_cells: Vec<Vec<Cell>>,
    /// Indices of each cell's walkable 4-neighbours (`u32::MAX` past the last).
    walkable_near: Vec<[u32; 4]>,
}

/// Most cells a queue's footprint covers (beyond them a queue presses into its last cell).
pub const FOOTPRINT_CELLS: usize = 48;

/// How far a door counter sees from its cell, in metres.
pub const DOOR_COUNTER_RANGE_M: f64 = 2.0;

pub const NO_ZONE: u16 = u16::MAX;

impl Floor {
    /// Whether `a` and `b` build the same floor (the same plan, lanes, devices and
    /// categories), so stores of a chain drawn from one template can share it.
    pub fn same_plan(a: &StoreSpec, b: &StoreSpec) -> bool {
        a.floor == b.floor && a.lanes == b.lanes && a.devices == b.devices && a.categories.len() == b.categories.len()
    }

    pub fn build(store: &StoreSpec) -> Floor {
        let spec = &store.floor;
        let n = usize::from(spec.width) * usize::from(spec.height);
        let mut floor = Floor {
            width: spec.width,
            height: spec.height,
            cell_m: spec.cell_m,
            kinds: spec.cells.clone(),
            zone_of: vec![NO_ZONE; n],
            zone_names: spec.zones.iter().map(|z| z.name.clone()).collect(),
            entrances: Vec::new(),
            category_fields: Vec::new(),
            lane_fields: Vec::new(),
            exit_field: Vec::new(),
            kiosk_field: Vec::new(),
            access: vec![Vec::new(); store.categories.len()],
            shelf_area_m2: vec![0.0; store.categories.len()],
            walkable_area_m2: 0.0,
            entrance_devices: Vec::new(),
            beacon_mask: vec![0; n],
            beacon_ids: Vec::new(),
            shelves_near: vec![0; n],
            kiosks: Vec::new(),
            lane_cells: Vec::new(),
            walkable_near: Vec::new(),
        };
        for (z, zone) in spec.zones.iter().enumerate() {
            for c in &zone.cells {
                let i = floor.index(*c);
                floor.zone_of[i] = z as u16;
            }
        }
        let cell_area = spec.cell_m * spec.cell_m;
        let mut lane_cells = vec![Vec::new(); store.lanes.len()];
        let mut exits = Vec::new();
        for cell in floor.cells() {
            match floor.kind(cell) {
                CellKind::Entrance => floor.entrances.push(cell),
                CellKind::Exit => exits.push(cell),
                CellKind::Lane(l) => lane_cells[usize::from(l.0)].push(cell),
                CellKind::Shelf(c) => {
                    floor.shelf_area_m2[usize::from(c.0)] += cell_area;
                    for nb in floor.neighbours(cell) {
                        if floor.kind(nb).walkable() {
                            if c.0 < 64 {
                                let i = floor.index(nb);
                                floor.shelves_near[i] |= 1 << c.0;
                            }
                            if !floor.access[usize::from(c.0)].contains(&nb) {
                                floor.access[usize::from(c.0)].push(nb);
                            }
                        }
                    }
                }
                CellKind::Wall | CellKind::Floor => {}
            }
            if floor.kind(cell).walkable() {
                floor.walkable_area_m2 += cell_area;
            }
        }
        floor.kiosks = store
            .devices
            .iter()
            .enumerate()
            .filter(|(_, d)| matches!(d.kind, DeviceKind::Kiosk))
            .map(|(i, d)| (floor.nearest_walkable(d.cell), DeviceId(i as u16)))
            .collect();
        let kiosks: Vec<Cell> = floor.kiosks.iter().map(|(c, _)| *c).collect();
        // Each entrance cell is watched by its nearest door counter and nearest face camera
        // in range (one doorway, one counter: a shopper is counted once).
        floor.entrance_devices = floor
            .entrances
            .iter()
            .map(|e| {
                let nearest = |is_kind: &dyn Fn(&DeviceKind) -> Option<f64>| {
                    store
                        .devices
                        .iter()
                        .enumerate()
                        .filter_map(|(i, d)| {
                            let range = is_kind(&d.kind)?;
                            let m = floor.metres(*e, d.cell);
                            (m <= range).then_some((m, i))
                        })
                        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                        .map(|(_, i)| DeviceId(i as u16))
                };
                let counter = nearest(&|k| matches!(k, DeviceKind::DoorCounter { .. }).then_some(DOOR_COUNTER_RANGE_M));
                let camera = nearest(&|k| match k {
                    DeviceKind::FaceCamera { range_m, .. } => Some(*range_m),
                    _ => None,
                });
                counter.into_iter().chain(camera).collect()
            })
            .collect();
        for (i, d) in store.devices.iter().enumerate() {
            if let DeviceKind::Beacon { range_m } = d.kind {
                let bit = floor.beacon_ids.len();
                if bit >= 32 {
                    continue; // at most 32 beacons are tracked per shopper
                }
                floor.beacon_ids.push(DeviceId(i as u16));
                for cell in floor.cells() {
                    if floor.metres(cell, d.cell) <= range_m {
                        let idx = floor.index(cell);
                        floor.beacon_mask[idx] |= 1 << bit;
                    }
                }
            }
        }
        floor.category_fields = floor.access.iter().map(|sources| floor.distance_field(sources)).collect();
        floor.lane_fields = lane_cells.iter().map(|sources| floor.distance_field(sources)).collect();
        floor.lane_cells = lane_cells;
        floor.walkable_near = floor
            .cells()
            .map(|c| {
                let mut near = [u32::MAX; 4];
                for (k, nb) in floor.neighbours(c).filter(|nb| floor.kind(*nb).walkable()).enumerate() {
                    near[k] = floor.index(nb) as u32;
                }
                near
            })
            .collect();
        floor.exit_field = floor.distance_field(&exits);
        floor.kiosk_field = floor.distance_field(&kiosks);
        floor
    }

    pub fn cells(&self) -> impl Iterator<Item = Cell> + use<> {
        let (w, h) = (self.width, self.height);
        (0..h).flat_map(move |y| (0..w).map(move |x| Cell { x, y }))
    }

    #[inline]
    pub fn index(&self, cell: Cell) -> usize {
        usize::from(cell.y) * usize::from(self.width) + usize::from(cell.x)
    }

    /// The cell at row-major index `i`.
    #[inline]
    pub fn cell_at(&self, i: usize) -> Cell {
        Cell { x: (i % usize::from(self.width)) as u16, y: (i / usize::from(self.width)) as u16 }
    }

    pub fn cell_count(&self) -> usize {
        self.kinds.len()
    }

    #[inline]
    pub fn kind(&self, cell: Cell) -> CellKind {
        self.kinds[self.index(cell)]
    }

    #[inline]
    pub fn zone(&self, cell: Cell) -> u16 {
        self.zone_of[self.index(cell)]
    }

    /// The 4-neighbourhood, in a fixed order (up, left, right, down), clipped to the grid.
    #[inline]
    pub fn neighbours(&self, c: Cell) -> impl Iterator<Item = Cell> + use<> {
        let (w, h) = (self.width, self.height);
        let up = (c.y > 0).then(|| Cell { x: c.x, y: c.y - 1 });
        let left = (c.x > 0).then(|| Cell { x: c.x - 1, y: c.y });
        let right = (c.x + 1 < w).then(|| Cell { x: c.x + 1, y: c.y });
        let down = (c.y + 1 < h).then(|| Cell { x: c.x, y: c.y + 1 });
        [up, left, right, down].into_iter().flatten()
    }

    fn field(&self, target: Target) -> &[Steps] {
        match target {
            Target::Category(c) => &self.category_fields[usize::from(c.0)],
            Target::Lane(l) => &self.lane_fields[usize::from(l.0)],
            Target::Exit => &self.exit_field,
            Target::Kiosk => &self.kiosk_field,
        }
    }

    /// Steps from `cell` to `target`.
    #[inline]
    pub fn steps(&self, cell: Cell, target: Target) -> Steps {
        self.field(target)[self.index(cell)]
    }

    /// The neighbours one step closer to `target`, at most four.
    #[inline]
    pub fn downhill(&self, cell: Cell, target: Target) -> ([Cell; 4], usize) {
        let field = self.field(target);
        let here = field[self.index(cell)];
        let mut out = [cell; 4];
        let mut n = 0;
        if here == UNREACHABLE || here == 0 {
            return (out, 0);
        }
        for nb in self.neighbours(cell) {
            if field[self.index(nb)] == here - 1 {
                out[n] = nb;
                n += 1;
            }
        }
        (out, n)
    }

    /// Multi-source breadth-first search over walkable cells.
    fn distance_field(&self, sources: &[Cell]) -> Vec<Steps> {
        let mut field = vec![UNREACHABLE; self.cell_count()];
        let mut queue = VecDeque::new();
        for s in sources {
            let i = self.index(*s);
            if field[i] != 0 {
                field[i] = 0;
                queue.push_back(*s);
            }
        }
        while let Some(c) = queue.pop_front() {
            let d = field[self.index(c)];
            for nb in self.neighbours(c) {
                let i = self.index(nb);
                if field[i] == UNREACHABLE && self.kind(nb).walkable() {
                    field[i] = d.saturating_add(1).min(UNREACHABLE - 1);
                    queue.push_back(nb);
                }
            }
        }
        field
    }

    /// `cell` itself if walkable, else the first walkable neighbour (devices mounted on
    /// shelves or walls are reached from the floor in front of them).
    pub fn nearest_walkable(&self, cell: Cell) -> Cell {
        if self.kind(cell).walkable() {
            return cell;
        }
        self.neighbours(cell).find(|nb| self.kind(*nb).walkable()).unwrap_or(cell)
    }

    /// Zone of cell index `i` (`NO_ZONE` for none).
    pub fn zone_of_index(&self, i: usize) -> u16 {
        self.zone_of[i]
    }

    /// The walkable 4-neighbours of cell index `i`.
    #[inline]
    pub fn walkable_near(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.walkable_near[i].iter().take_while(|j| **j != u32::MAX).map(|j| *j as usize)
    }

    #[inline]
    pub fn is_walkable_index(&self, i: usize) -> bool {
        self.kinds[i].walkable()
    }

    /// Most people each cell holds at `max_density` people per m²: at least one in every
    /// walkable cell, none in walls and shelves.
    pub fn capacities(&self, max_density: f64) -> Vec<u16> {
        let per_cell = (max_density * self.cell_m * self.cell_m).floor().clamp(1.0, f64::from(u16::MAX)) as u16;
        self.kinds.iter().map(|k| if k.walkable() { per_cell } else { 0 }).collect()
    }

    /// Where a queue served at `sources` stands, in the order it fills: the service cells,
    /// then the floor straight behind each (away from the exits: the side shoppers come
    /// from), row by row, then the nearest floor cells beyond, up to [`FOOTPRINT_CELLS`].
    /// Only plain floor cells are used beyond the sources (no lanes, entrances or exits).
    pub fn queue_footprint(&self, sources: &[Cell]) -> Vec<u32> {
        let mut cells: Vec<u32> = Vec::new();
        for s in sources {
            let i = self.index(*s) as u32;
            if !cells.contains(&i) {
                cells.push(i);
            }
        }
        let plain = |c: Cell| self.kind(c) == CellKind::Floor;
        // The direction straight back from each source: its plain neighbour farthest from the
        // exits (ties in neighbour order).
        let backs: Vec<Option<(i32, i32)>> = sources
            .iter()
            .map(|s| {
                self.neighbours(*s)
                    .filter(|nb| plain(*nb))
                    .map(|nb| {
                        let d = self.exit_field[self.index(nb)];
                        let far = if d == UNREACHABLE { 0 } else { u32::from(d) + 1 };
                        (far, nb)
                    })
                    .fold(None, |best: Option<(u32, Cell)>, (far, nb)| match best {
                        Some((b, _)) if b >= far => best,
                        _ => Some((far, nb)),
                    })
                    .map(|(_, nb)| (i32::from(nb.x) - i32::from(s.x), i32::from(nb.y) - i32::from(s.y)))
            })
            .collect();
        let mut running: Vec<bool> = backs.iter().map(Option::is_some).collect();
        for k in 1..=FOOTPRINT_CELLS as i32 {
            if cells.len() >= FOOTPRINT_CELLS || !running.iter().any(|r| *r) {
                break;
            }
            for (j, s) in sources.iter().enumerate() {
                let Some((dx, dy)) = backs[j] else { continue };
                if !running[j] {
                    continue;
                }
                let (x, y) = (i32::from(s.x) + dx * k, i32::from(s.y) + dy * k);
                if x < 0 || y < 0 || x >= i32::from(self.width) || y >= i32::from(self.height) {
                    running[j] = false;
                    continue;
                }
                let c = Cell { x: x as u16, y: y as u16 };
                let i = self.index(c) as u32;
                if !plain(c) || cells.contains(&i) {
                    running[j] = false;
                    continue;
                }
                if cells.len() < FOOTPRINT_CELLS {
                    cells.push(i);
                }
            }
        }
        // Then breadth-first from everything so far, over plain floor.
        let mut next = 0;
        while next < cells.len() && cells.len() < FOOTPRINT_CELLS {
            let i = cells[next] as usize;
            next += 1;
            let c = Cell { x: (i % usize::from(self.width)) as u16, y: (i / usize::from(self.width)) as u16 };
            for nb in self.neighbours(c) {
                let j = self.index(nb) as u32;
                if plain(nb) && !cells.contains(&j) && cells.len() < FOOTPRINT_CELLS {
                    cells.push(j);
                }
            }
        }
        cells
    }

    /// Distance between cell centres in metres.
    pub fn metres(&self, a: Cell, b: Cell) -> f64 {
        let dx = f64::from(a.x) - f64::from(b.x);
        let dy = f64::from(a.y) - f64::from(b.y);
        (dx * dx + dy * dy).sqrt() * self.cell_m
    }
}

/// Helper for tests and scenario checks: the walkable cells reachable from the entrances.
pub fn reachable_from_entrances(spec: &FloorSpec) -> Vec<bool> {
    let w = usize::from(spec.width);
    let mut seen = vec![false; spec.cells.len()];
    let mut queue: VecDeque<usize> =
        spec.cells.iter().enumerate().filter(|(_, k)| matches!(k, CellKind::Entrance)).map(|(i, _)| i).collect();
    for &i in &queue {
        seen[i] = true;
    }
    while let Some(i) = queue.pop_front() {
        let (x, y) = (i % w, i / w);
        let mut push = |j: usize| {
            if !seen[j] && spec.cells[j].walkable() {
                seen[j] = true;
                queue.push_back(j);
            }
        };
        if y > 0 {
            push(i - w);
        }
        if x > 0 {
            push(i - 1);
        }
        if x + 1 < w {
            push(i + 1);
        }
        if i + w < spec.cells.len() {
            push(i + w);
        }
    }
    seen
}
