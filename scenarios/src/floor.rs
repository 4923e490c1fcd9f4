//! The floor plan: ASCII art and its legend turned into a grid of cells, zones, and the
//! walkability checks.
//!
//! Rows run top to bottom, one character per cell; cell `[x, y]` is column `x` of row
//! `y`, both from 0. A problem with a cell points at that character inside the `floor`
//! string of the file that drew it (exactly for `'''` literal strings, which is how floor
//! art is written; the whole string for strings with escapes).
//!
//! Walkability is a breadth-first search over walkable cells (4-neighbourhood) from the
//! first entrance: every other entrance, every exit, every lane, a walkable cell next to
//! every shelf, and every kiosk must be reached, or no shopper could use them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use storetwin_actors::store::spec::{CategoryId, Cell, CellKind, FloorSpec, LaneId, ZoneSpec};

use crate::check::Checks;
use crate::document::{Node, Value};
use crate::error::ProblemKind;
use crate::format::{LegendEntry, Store, Zone};
use crate::path::{KeyPath, at};
use crate::source::{Origin, Sources};

/// At most this many unreachable cells are reported one by one.
const MAX_CELL_PROBLEMS: usize = 12;

/// The floor as drawn and as built.
pub(crate) struct Plan {
    pub(crate) spec: FloorSpec,
    chars: Vec<char>,
    /// Byte offset of each cell's character in the `floor` string.
    offsets: Vec<usize>,
    /// Some legend shelf names no declared category (its cells are shelves of
    /// [`UNKNOWN_CATEGORY`]); checks of which categories have shelves are skipped.
    pub(crate) unresolved_shelves: bool,
}

/// The category of shelves whose legend entry names no declared category.
const UNKNOWN_CATEGORY: CategoryId = CategoryId(u16::MAX);

impl Plan {
    fn index(&self, cell: Cell) -> usize {
        usize::from(cell.y) * usize::from(self.spec.width) + usize::from(cell.x)
    }

    fn cell(&self, index: usize) -> Cell {
        let w = usize::from(self.spec.width);
        Cell { x: (index % w) as u16, y: (index / w) as u16 }
    }

    pub(crate) fn contains(&self, x: u16, y: u16) -> bool {
        x < self.spec.width && y < self.spec.height
    }

    pub(crate) fn kind(&self, cell: Cell) -> CellKind {
        self.spec.cells[self.index(cell)]
    }

    /// The cells drawn with `c`, in reading order.
    pub(crate) fn cells_drawn_with(&self, c: char) -> Vec<Cell> {
        self.chars.iter().enumerate().filter(|(_, d)| **d == c).map(|(i, _)| self.cell(i)).collect()
    }

    /// Where the character of `cell` was written.
    pub(crate) fn origin(&self, checks: &Checks<'_>, cell: Cell) -> Origin {
        let i = self.index(cell);
        let start = self.offsets[i];
        let floor = at!["store", "floor"];
        match checks.root.get(&floor) {
            Some(node) => string_origin(checks.sources, node, start, start + self.chars[i].len_utf8()),
            None => checks.root.locate(&floor, false),
        }
    }

    pub(crate) fn neighbours(&self, c: Cell) -> impl Iterator<Item = Cell> + use<> {
        let (w, h) = (self.spec.width, self.spec.height);
        let up = (c.y > 0).then(|| Cell { x: c.x, y: c.y - 1 });
        let left = (c.x > 0).then(|| Cell { x: c.x - 1, y: c.y });
        let right = (c.x + 1 < w).then(|| Cell { x: c.x + 1, y: c.y });
        let down = (c.y + 1 < h).then(|| Cell { x: c.x, y: c.y + 1 });
        [up, left, right, down].into_iter().flatten()
    }
}

/// The origin of bytes `start..end` of a string value's content. Exact when the content
/// is written as is (literal strings, strings without escapes; CRLF line ends are
/// allowed); the whole string otherwise.
fn string_origin(sources: &Sources, node: &Node, start: usize, end: usize) -> Origin {
    let Value::String(decoded) = &node.value else {
        return node.origin;
    };
    let raw = sources.text_at(node.origin);
    let open = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        3 + if raw[3..].starts_with("\r\n") { 2 } else { usize::from(raw[3..].starts_with('\n')) }
    } else if raw.starts_with('\'') || raw.starts_with('"') {
        1
    } else {
        return node.origin;
    };
    let (raw_inner, decoded) = (&raw.as_bytes()[open..], decoded.as_bytes());
    // Walk both texts together; the raw text may have a '\r' before each '\n'.
    let raw_offset = |target: usize| -> Option<usize> {
        let (mut r, mut d) = (0, 0);
        while d < target {
            if r < raw_inner.len() && d < decoded.len() && raw_inner[r] == decoded[d] {
                r += 1;
                d += 1;
            } else if r < raw_inner.len() && raw_inner[r] == b'\r' {
                r += 1;
            } else {
                return None;
            }
        }
        Some(r)
    };
    match (raw_offset(start), raw_offset(end)) {
        (Some(s), Some(e)) => {
            let base = node.origin.start + open;
            Origin { file: node.origin.file, start: base + s, end: base + e }
        }
        _ => node.origin,
    }
}

struct Art {
    width: usize,
    height: usize,
    chars: Vec<char>,
    offsets: Vec<usize>,
}

/// Splits the art into rows of equal length, reporting rows of another length.
fn read_art(checks: &mut Checks<'_>, text: &str) -> Option<Art> {
    let floor = at!["store", "floor"];
    let mut rows: Vec<(usize, Vec<(usize, char)>)> = Vec::new();
    let mut offset = 0;
    for line in text.split('\n') {
        let row = line.strip_suffix('\r').unwrap_or(line);
        rows.push((offset, row.char_indices().map(|(i, c)| (offset + i, c)).collect()));
        offset += line.len() + 1;
    }
    if text.ends_with('\n') {
        rows.pop();
    }
    let width = rows.first().map_or(0, |(_, r)| r.len());
    if width == 0 {
        checks
            .value(ProblemKind::Floor, floor, "the floor plan is empty or starts with an empty row")
            .label("expected rows of floor art")
            .help("write the floor between ''' lines, one character per cell, all rows the same length");
        return None;
    }
    if rows.len() > usize::from(u16::MAX) || width > usize::from(u16::MAX) {
        checks.value(ProblemKind::Floor, floor, format!("the floor plan is too large ({width} × {})", rows.len()));
        return None;
    }
    let node = checks.root.get(&floor).cloned();
    let mut ragged = 0;
    for (y, (start, row)) in rows.iter().enumerate().skip(1) {
        if row.len() != width {
            ragged += 1;
            if ragged > MAX_CELL_PROBLEMS {
                continue;
            }
            let origin = match &node {
                Some(n) => {
                    let end = row.last().map_or(*start, |(o, c)| o + c.len_utf8());
                    string_origin(checks.sources, n, *start, end.max(*start))
                }
                None => checks.root.locate(&floor, false),
            };
            checks
                .at(
                    ProblemKind::Floor,
                    origin,
                    floor.clone(),
                    format!("row {y} of the floor has {} cells, but row 0 has {width}", row.len()),
                )
                .label(format!("expected {width} cells"))
                .help(if row.last().is_some_and(|(_, c)| c.is_whitespace()) {
                    "all rows of the floor art must be the same length; this row ends in a space"
                } else {
                    "all rows of the floor art must be the same length"
                });
        }
    }
    if ragged > 0 {
        return None;
    }
    let height = rows.len();
    let mut chars = Vec::with_capacity(width * height);
    let mut offsets = Vec::with_capacity(width * height);
    for (_, row) in rows {
        for (o, c) in row {
            offsets.push(o);
            chars.push(c);
        }
    }
    Some(Art { width, height, chars, offsets })
}

/// Reads the floor art with its legend. `categories` and `lanes` give the ids of the
/// declared names (lane `i` is the `i`-th `[[lane]]`).
pub(crate) fn read_plan(
    checks: &mut Checks<'_>,
    store: &Store,
    categories: &BTreeMap<String, CategoryId>,
    lanes: &BTreeMap<String, LaneId>,
) -> Option<Plan> {
    if !(store.cell_m.is_finite() && store.cell_m > 0.0) {
        checks.positive(at!["store", "cell_m"], store.cell_m);
    }
    // The legend: one character each, naming declared categories and lanes.
    let mut legend: BTreeMap<char, CellKind> = BTreeMap::new();
    let mut lane_chars: BTreeMap<LaneId, Vec<char>> = BTreeMap::new();
    let mut unresolved_shelves = false;
    for (key, entry) in &store.legend {
        let path = at!["store", "legend", key];
        let mut chars = key.chars();
        let c = match (chars.next(), chars.next()) {
            (Some(c), None) => c,
            _ => {
                checks
                    .key(ProblemKind::BadValue, path, format!("a legend key is one character, found \"{key}\""))
                    .label("expected one character");
                continue;
            }
        };
        let kind = match entry {
            LegendEntry::Wall => CellKind::Wall,
            LegendEntry::Floor => CellKind::Floor,
            LegendEntry::Entrance => CellKind::Entrance,
            LegendEntry::Exit => CellKind::Exit,
            LegendEntry::Shelf(name) => {
                match checks.resolve(at!["store", "legend", key, "shelf"], "category", name, categories) {
                    Some(id) => CellKind::Shelf(id),
                    None => {
                        unresolved_shelves = true;
                        CellKind::Shelf(UNKNOWN_CATEGORY)
                    }
                }
            }
            LegendEntry::Lane(name) => match checks.resolve(at!["store", "legend", key, "lane"], "lane", name, lanes) {
                Some(id) => {
                    lane_chars.entry(id).or_default().push(c);
                    CellKind::Lane(id)
                }
                None => CellKind::Floor,
            },
        };
        legend.insert(c, kind);
    }

    let art = read_art(checks, &store.floor)?;
    let mut cells = Vec::with_capacity(art.chars.len());
    let mut unknown: BTreeMap<char, (usize, usize)> = BTreeMap::new();
    for (i, c) in art.chars.iter().enumerate() {
        match legend.get(c) {
            Some(kind) => cells.push(*kind),
            None => {
                unknown.entry(*c).or_insert((i, 0)).1 += 1;
                cells.push(CellKind::Wall);
            }
        }
    }
    let plan = Plan {
        spec: FloorSpec {
            width: art.width as u16,
            height: art.height as u16,
            cell_m: store.cell_m,
            cells,
            zones: Vec::new(),
        },
        chars: art.chars,
        offsets: art.offsets,
        unresolved_shelves,
    };
    let defined = legend.keys().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(" ");
    for (c, (i, count)) in unknown {
        let cell = plan.cell(i);
        let origin = plan.origin(checks, cell);
        let times = if count > 1 { format!(" ({count} cells)") } else { String::new() };
        checks
            .at(
                ProblemKind::Floor,
                origin,
                at!["store", "floor"],
                format!("character {c:?} at [{}, {}] is not in the legend{times}", cell.x, cell.y),
            )
            .label("not in [store.legend]")
            .help(format!("the legend defines {defined}; add an entry such as \"{c}\" = \"floor\""));
    }

    // Every lane is drawn, and every lane of the legend appears on the floor.
    for (name, id) in lanes {
        let drawn = plan.spec.cells.contains(&CellKind::Lane(*id));
        if drawn {
            continue;
        }
        match lane_chars.get(id) {
            Some(chars) => {
                for c in chars {
                    checks
                        .key(
                            ProblemKind::Floor,
                            at!["store", "legend", &c.to_string()],
                            format!("lane \"{name}\" has the legend character {c:?}, but it is not drawn on the floor"),
                        )
                        .label("not drawn on the floor")
                        .help(format!("draw {c:?} where the lane's checkout point is"));
                }
            }
            None => {
                checks
                    .value(
                        ProblemKind::Floor,
                        at!["lane", usize::from(id.0), "name"],
                        format!("lane \"{name}\" is not drawn on the floor"),
                    )
                    .label("no legend entry draws this lane")
                    .help(match unused_legend_key(&legend) {
                        Some(c) => format!(
                            "add a legend entry such as \"{c}\" = {{ lane = \"{name}\" }} and draw {c:?} at the \
                             checkout point (a legend key is one character)"
                        ),
                        None => format!("map a character to {{ lane = \"{name}\" }} in [store.legend] and draw it"),
                    });
            }
        }
    }
    Some(plan)
}

/// A character no legend entry uses yet, for a suggestion: a digit, then a letter.
fn unused_legend_key(legend: &BTreeMap<char, CellKind>) -> Option<char> {
    ('1'..='9').chain(['0']).chain('a'..='z').chain('A'..='Z').find(|c| !legend.contains_key(c))
}

/// The zones as sets of cells; a cell belongs to at most one.
pub(crate) fn zones(checks: &mut Checks<'_>, plan: &Plan, zones: &[Zone]) -> Vec<ZoneSpec> {
    let mut owner: Vec<Option<usize>> = vec![None; plan.spec.cells.len()];
    let mut names: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(zones.len());
    for (z, zone) in zones.iter().enumerate() {
        if zone.name.trim().is_empty() {
            checks.bad(at!["store", "zone", z, "name"], "a zone needs a name");
        } else if !names.insert(&zone.name) {
            checks.bad(at!["store", "zone", z, "name"], format!("two zones are named \"{}\"", zone.name));
        }
        let mut inside = true;
        for (key, [x, y]) in [("from", zone.from), ("to", zone.to)] {
            if !plan.contains(x, y) {
                inside = false;
                checks
                    .bad(
                        at!["store", "zone", z, key],
                        format!(
                            "[{x}, {y}] is outside the floor, whose cells run from [0, 0] to [{}, {}]",
                            plan.spec.width - 1,
                            plan.spec.height - 1
                        ),
                    )
                    .label("outside the floor");
            }
        }
        if !inside {
            continue;
        }
        let ([x0, y0], [x1, y1]) = (zone.from, zone.to);
        if x0 > x1 || y0 > y1 {
            checks
                .bad(
                    at!["store", "zone", z, "to"],
                    format!("`to` [{x1}, {y1}] is above or left of `from` [{x0}, {y0}]"),
                )
                .label("expected the bottom-right corner");
            continue;
        }
        let mut cells = Vec::new();
        let mut overlap = None;
        for y in y0..=y1 {
            for x in x0..=x1 {
                let cell = Cell { x, y };
                let i = plan.index(cell);
                match owner[i] {
                    Some(other) => overlap = overlap.or(Some((other, cell))),
                    None => {
                        owner[i] = Some(z);
                        cells.push(cell);
                    }
                }
            }
        }
        if let Some((other, cell)) = overlap {
            checks
                .bad(
                    at!["store", "zone", z],
                    format!(
                        "zone \"{}\" overlaps zone \"{}\" (at [{}, {}]); a cell belongs to at most one zone",
                        zone.name, zones[other].name, cell.x, cell.y
                    ),
                )
                .label("overlaps another zone");
        }
        out.push(ZoneSpec { name: zone.name.clone(), cells });
    }
    out
}

/// Checks that shoppers entering can reach every shelf, lane, exit and kiosk.
/// `kiosks` are the kiosks' cells with the key path of their device.
pub(crate) fn check_walkable(
    checks: &mut Checks<'_>,
    plan: &Plan,
    category_names: &[String],
    kiosks: &[(Cell, KeyPath)],
) {
    let floor = at!["store", "floor"];
    let cells = &plan.spec.cells;
    let all: Vec<Cell> = (0..cells.len()).map(|i| plan.cell(i)).collect();
    let entrances: Vec<Cell> = all.iter().copied().filter(|c| plan.kind(*c) == CellKind::Entrance).collect();
    let exits: Vec<Cell> = all.iter().copied().filter(|c| plan.kind(*c) == CellKind::Exit).collect();
    let Some(first) = entrances.first().copied() else {
        checks
            .value(ProblemKind::Floor, floor, "the floor has no entrance")
            .label("no cell here is an entrance")
            .help("map a character to \"entrance\" in [store.legend] and draw it in the outer wall");
        return;
    };
    if exits.is_empty() {
        checks
            .value(ProblemKind::Floor, floor.clone(), "the floor has no exit")
            .label("no cell here is an exit")
            .help("map a character to \"exit\" in [store.legend] and draw it in the outer wall");
    }
    let reached = reach(plan, first);
    let mut reported = 0;
    let mut report = |checks: &mut Checks<'_>, cell: Cell, message: String, label: &str| {
        reported += 1;
        if reported <= MAX_CELL_PROBLEMS {
            let origin = plan.origin(checks, cell);
            checks.at(ProblemKind::Floor, origin, floor.clone(), message).label(label.to_owned()).help(
                "shoppers walk on floor, entrance, exit and lane cells, up, down, left and right; \
                 walls and shelves block them",
            );
        }
    };
    let at_first = format!("the entrance at [{}, {}]", first.x, first.y);
    let mut cut_off_shelves: BTreeMap<CategoryId, (Cell, usize)> = BTreeMap::new();
    for c in entrances.iter().skip(1).filter(|c| !reached[plan.index(**c)]) {
        report(checks, *c, format!("the entrance at [{}, {}] is cut off from {at_first}", c.x, c.y), "cut off");
    }
    for c in exits.iter().filter(|c| !reached[plan.index(**c)]) {
        report(
            checks,
            *c,
            format!("the exit at [{}, {}] cannot be reached from {at_first}", c.x, c.y),
            "unreachable exit",
        );
    }
    for (i, kind) in cells.iter().enumerate() {
        let cell = plan.cell(i);
        match kind {
            CellKind::Lane(_) if !reached[i] => report(
                checks,
                cell,
                format!("the lane at [{}, {}] cannot be reached from {at_first}", cell.x, cell.y),
                "unreachable lane",
            ),
            CellKind::Shelf(category) if !plan.neighbours(cell).any(|n| reached[plan.index(n)]) => {
                cut_off_shelves.entry(*category).or_insert((cell, 0)).1 += 1;
            }
            _ => {}
        }
    }
    // One problem per category, at its first cut-off shelf cell.
    for (category, (cell, count)) in cut_off_shelves {
        let name = category_names.get(usize::from(category.0)).map_or("unknown", String::as_str);
        let more = if count > 1 { format!(" ({count} {name} shelf cells in all)") } else { String::new() };
        report(
            checks,
            cell,
            format!(
                "the {name} shelf at [{}, {}] cannot be reached{more}: no walkable cell next to it connects to {at_first}",
                cell.x, cell.y
            ),
            "no shopper can reach this shelf",
        );
    }
    if reported > MAX_CELL_PROBLEMS {
        checks.value(
            ProblemKind::Floor,
            floor.clone(),
            format!("{} more cells cannot be reached", reported - MAX_CELL_PROBLEMS),
        );
    }
    for (cell, path) in kiosks {
        let stand = if plan.kind(*cell).walkable() {
            Some(*cell)
        } else {
            plan.neighbours(*cell).find(|n| plan.kind(*n).walkable())
        };
        if !stand.is_some_and(|s| reached[plan.index(s)]) {
            checks
                .value(
                    ProblemKind::Floor,
                    path.clone(),
                    format!("no shopper can reach the kiosk at [{}, {}]", cell.x, cell.y),
                )
                .label("unreachable kiosk");
        }
    }
}

/// Walkable cells reachable from `start`.
fn reach(plan: &Plan, start: Cell) -> Vec<bool> {
    let mut seen = vec![false; plan.spec.cells.len()];
    let mut queue = VecDeque::from([start]);
    seen[plan.index(start)] = true;
    while let Some(c) = queue.pop_front() {
        for n in plan.neighbours(c) {
            let i = plan.index(n);
            if !seen[i] && plan.spec.cells[i].walkable() {
                seen[i] = true;
                queue.push_back(n);
            }
        }
    }
    seen
}
