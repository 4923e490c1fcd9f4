//! The floor plans of the report, drawn by plotters: walls, floor, shelves labelled by
//! category, entrances and exits, lane cells named and outlined in their queue's colour,
//! and a heat layer over the walkable cells with its colour scale and legends below the
//! plan. Two layers: the dwell heat map ([`floor_plan`]: shelves coloured by category, the
//! devices as one glyph per kind, ringed in red if one was down during the day) and the
//! mean density ([`density_plan`]: people per m², shelves in one neutral tone so that only
//! the crowd has colour, the ten densest cells numbered).

use std::collections::BTreeMap;

use crate::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use storetwin_actors::store::spec::{Cell, CellKind, DeviceKind, FloorSpec};
use storetwin_actors::store::summary::StoreKpis;
use storetwin_scenarios::Scenario;

use super::charts::{Area, INK, MUTED, ORANGES, font, grouped, queue_colour, svg, text, text_width};

type Plane<'b> = DrawingArea<SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

const WALL: RGBColor = RGBColor(0x47, 0x52, 0x63);
const FLOOR: RGBColor = RGBColor(0xf4, 0xf5, 0xf7);
const ENTRANCE: RGBColor = RGBColor(0x05, 0x96, 0x69);
const EXIT: RGBColor = RGBColor(0x43, 0x38, 0xca);
const DOWN: RGBColor = RGBColor(0xdc, 0x26, 0x26);

/// Shelf colours by category: soft, mostly cool tones that stay apart from the warm heat
/// scale; repeats after the end.
const SHELF_COLOURS: [RGBColor; 12] = [
    RGBColor(0x8d, 0xd3, 0xc7),
    RGBColor(0xbe, 0xba, 0xda),
    RGBColor(0x80, 0xb1, 0xd3),
    RGBColor(0xb3, 0xde, 0x69),
    RGBColor(0xa6, 0xce, 0xe3),
    RGBColor(0xbc, 0x80, 0xbd),
    RGBColor(0xfc, 0xcd, 0xe5),
    RGBColor(0xd9, 0xd9, 0xd9),
    RGBColor(0xcc, 0xeb, 0xc5),
    RGBColor(0x66, 0xc2, 0xa5),
    RGBColor(0xe5, 0xc4, 0x94),
    RGBColor(0x9a, 0xb0, 0xd8),
];

/// The smallest text on the plan, in pixels: smaller is hard to read.
const MIN_TEXT_PX: f64 = 11.0;

/// Cells with less than this many shopper-minutes of dwell are drawn as plain floor.
const DWELL_FLOOR_MIN: f64 = 1.0;

/// Cells with a mean density below this (people per m²) are drawn as plain floor.
const DENSITY_FLOOR_MIN: f64 = 0.01;

/// Shelves on the density plan: one neutral tone, so that only the crowd has colour.
const SHELF_NEUTRAL: RGBColor = RGBColor(0xd5, 0xd9, 0xdf);

/// White to deep purple (ColorBrewer RdPu), for people per m²: apart from the dwell map's
/// oranges, the entrance's green and the shelves' grey.
const PURPLES: [RGBColor; 9] = [
    RGBColor(0xff, 0xf7, 0xf3),
    RGBColor(0xfd, 0xe0, 0xdd),
    RGBColor(0xfc, 0xc5, 0xc0),
    RGBColor(0xfa, 0x9f, 0xb5),
    RGBColor(0xf7, 0x68, 0xa1),
    RGBColor(0xdd, 0x34, 0x97),
    RGBColor(0xae, 0x01, 0x7e),
    RGBColor(0x7a, 0x01, 0x77),
    RGBColor(0x49, 0x00, 0x6a),
];

fn shelf_colour(category: usize) -> RGBColor {
    SHELF_COLOURS[category % SHELF_COLOURS.len()]
}

/// How a device kind is drawn.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Glyph {
    DoorCounter,
    WifiProbe,
    Beacon,
    FaceCamera,
    Esl,
    SmartShelf,
    Kiosk,
}

impl Glyph {
    fn of(kind: &DeviceKind) -> Glyph {
        match kind {
            DeviceKind::DoorCounter { .. } => Glyph::DoorCounter,
            DeviceKind::WifiProbe { .. } => Glyph::WifiProbe,
            DeviceKind::Beacon { .. } => Glyph::Beacon,
            DeviceKind::FaceCamera { .. } => Glyph::FaceCamera,
            DeviceKind::Esl { .. } => Glyph::Esl,
            DeviceKind::SmartShelf { .. } => Glyph::SmartShelf,
            DeviceKind::Kiosk => Glyph::Kiosk,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Glyph::DoorCounter => "door counter",
            Glyph::WifiProbe => "WiFi probe",
            Glyph::Beacon => "BLE beacon",
            Glyph::FaceCamera => "face camera",
            Glyph::Esl => "shelf label (ESL)",
            Glyph::SmartShelf => "smart shelf",
            Glyph::Kiosk => "kiosk",
        }
    }

    /// Where in its cell the glyph sits, in pixels from the centre (labels and smart
    /// shelves share shelf cells).
    fn offset(self, cell_px: f64) -> (i32, i32) {
        let q = (cell_px / 4.0).round() as i32;
        match self {
            Glyph::Esl => (0, -q),
            Glyph::SmartShelf => (0, q),
            _ => (0, 0),
        }
    }

    /// Draws the glyph centred `offset` pixels from `at`; `scale` is 1 at 20-pixel cells.
    fn draw(self, area: &Plane<'_>, at: (f64, f64), offset: (i32, i32), scale: f64, down: bool) -> Result<()> {
        let s = |v: f64| (v * scale).round() as i32;
        let (dx, dy) = offset;
        let point = at;
        let at = EmptyElement::at(point);
        let white = WHITE.stroke_width(1);
        let dark = RGBColor(0x11, 0x18, 0x27);
        match self {
            Glyph::DoorCounter => area.draw(
                &(at + Polygon::new(
                    vec![(dx, dy - s(6.0)), (dx + s(6.0), dy + s(5.0)), (dx - s(6.0), dy + s(5.0))],
                    dark,
                )),
            )?,
            Glyph::WifiProbe => area.draw(
                &(at + Circle::new((dx, dy), s(5.5), RGBColor(0x7c, 0x3a, 0xed).filled())
                    + Circle::new((dx, dy), s(5.5), white)
                    + Circle::new((dx, dy), s(2.0), WHITE.filled())),
            )?,
            Glyph::Beacon => area.draw(
                &(at + Polygon::new(
                    vec![(dx, dy - s(6.0)), (dx + s(6.0), dy), (dx, dy + s(6.0)), (dx - s(6.0), dy)],
                    RGBColor(0x02, 0x84, 0xc7),
                )),
            )?,
            Glyph::FaceCamera => area.draw(
                &(at + Rectangle::new([(dx - s(5.5), dy - s(4.5)), (dx + s(5.5), dy + s(4.5))], dark.filled())
                    + Circle::new((dx, dy), s(2.5), WHITE.filled())),
            )?,
            Glyph::Esl => area.draw(
                &(at + Rectangle::new(
                    [(dx - s(4.0), dy - s(2.5)), (dx + s(4.0), dy + s(2.5))],
                    RGBColor(0x33, 0x41, 0x55).filled(),
                ) + Rectangle::new([(dx - s(4.0), dy - s(2.5)), (dx + s(4.0), dy + s(2.5))], white)),
            )?,
            Glyph::SmartShelf => area.draw(
                &(at + Circle::new((dx, dy), s(3.0), RGBColor(0x0f, 0x76, 0x6e).filled())
                    + Circle::new((dx, dy), s(3.0), white)),
            )?,
            // A "K" where the glyph is big enough for a readable letter, else a screen.
            Glyph::Kiosk if s(6.5) >= 6 => area.draw(
                &(at + Rectangle::new([(dx - s(6.5), dy - s(6.5)), (dx + s(6.5), dy + s(6.5))], dark.filled())
                    + Text::new(
                        "K",
                        (dx, dy + 1),
                        text(MIN_TEXT_PX, &WHITE).pos(Pos::new(HPos::Center, VPos::Center)),
                    )),
            )?,
            Glyph::Kiosk => area.draw(
                &(at + Rectangle::new([(dx - s(6.5), dy - s(6.5)), (dx + s(6.5), dy + s(6.5))], dark.filled())
                    + Rectangle::new([(dx - s(3.5), dy - s(3.5)), (dx + s(3.5), dy + s(1.5))], WHITE.filled())),
            )?,
        }
        if down {
            area.draw(&(EmptyElement::at(point) + Circle::new((dx, dy), s(9.0), DOWN.stroke_width(2))))?;
        }
        Ok(())
    }
}

/// A scale from `low` to `high` shopper-minutes, logarithmic.
struct DwellScale {
    low: f64,
    high: f64,
    map: DerivedColorMap<RGBColor>,
}

impl DwellScale {
    /// A scale up to the most of `minutes`, or to `high` when given (to draw several plans
    /// on one scale).
    fn new(minutes: &[f64], high: Option<f64>) -> DwellScale {
        let high = high.unwrap_or(0.0).max(minutes.iter().copied().fold(DWELL_FLOOR_MIN * 10.0, f64::max));
        DwellScale { low: DWELL_FLOOR_MIN, high, map: DerivedColorMap::new(&ORANGES) }
    }

    fn colour(&self, minutes: f64) -> Option<RGBColor> {
        (minutes >= self.low).then(|| {
            let t = (minutes / self.low).ln() / (self.high / self.low).ln();
            self.map.get_color(t.clamp(0.0, 1.0))
        })
    }
}

/// A square-root scale from 0 to `top` people per m² (so that the thin crowd of most of
/// the floor shows as well as the queues): `top` is the round number at or above the
/// densest cell, at most the density limit; denser cells take the darkest colour.
struct DensityScale {
    top: f64,
    /// The densest cell.
    max: f64,
    map: DerivedColorMap<RGBColor>,
}

impl DensityScale {
    fn new(density: &[f64], limit: f64) -> DensityScale {
        let max = density.iter().copied().fold(0.0, f64::max);
        let steps = [0.1, 0.2, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];
        let round = steps.iter().copied().find(|s| *s >= max).unwrap_or(max);
        let top = if limit > 0.0 { round.min(limit) } else { round };
        DensityScale { top: top.max(0.1), max, map: DerivedColorMap::new(&PURPLES) }
    }

    /// Where `density` lies on the scale, 0 to 1.
    fn position(&self, density: f64) -> f64 {
        (density / self.top).clamp(0.0, 1.0).sqrt()
    }

    fn colour(&self, density: f64) -> Option<RGBColor> {
        (density >= DENSITY_FLOOR_MIN).then(|| self.map.get_color(self.position(density)))
    }

    /// Round values to mark on the scale, at least `gap` pixels apart on a bar `width` wide.
    fn ticks(&self, width: f64, gap: f64) -> Vec<f64> {
        let mut out: Vec<f64> = Vec::new();
        let candidates = [0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];
        for v in candidates.iter().copied().filter(|v| *v <= self.top + 1e-9).chain(std::iter::once(self.top)) {
            let x = self.position(v) * width;
            let far = out.last().is_none_or(|last| x - self.position(*last) * width >= gap);
            if far && out.last().is_none_or(|last| (v - last).abs() > 1e-9) {
                out.push(v);
            }
        }
        // The top is always marked: drop a tick too close before it.
        if let Some(&last) = out.last()
            && (last - self.top).abs() > 1e-9
        {
            if (self.position(self.top) - self.position(last)) * width < gap {
                out.pop();
            }
            out.push(self.top);
        }
        out
    }
}

/// `v` with at most two decimals and no trailing zeros ("0.25", "0.5", "4").
pub(super) fn short(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What a plan's walkable cells are coloured by.
enum Heat {
    /// Shopper-minutes per cell.
    Dwell(DwellScale),
    /// Mean people per m² per cell.
    Density(DensityScale),
}

impl Heat {
    /// The colour of cell `i`, or `None` for plain floor.
    fn colour(&self, kpis: &StoreKpis, i: usize) -> Option<RGBColor> {
        match self {
            Heat::Dwell(scale) => scale.colour(kpis.heat_map.dwell_s.get(i).copied().unwrap_or(0.0) / 60.0),
            Heat::Density(scale) => scale.colour(kpis.heat_map.density.get(i).copied().unwrap_or(0.0)),
        }
    }

    fn is_density(&self) -> bool {
        matches!(self, Heat::Density(_))
    }
}

/// Connected groups of shelf cells of one category, for direct labels.
fn shelf_blocks(floor: &FloorSpec) -> Vec<(usize, Vec<Cell>)> {
    let (w, h) = (usize::from(floor.width), usize::from(floor.height));
    let mut seen = vec![false; w * h];
    let mut blocks = Vec::new();
    for start in 0..w * h {
        let CellKind::Shelf(cat) = floor.cells[start] else { continue };
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let mut cells = Vec::new();
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            cells.push(Cell { x: x as u16, y: y as u16 });
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then_some(i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then_some(i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if !seen[j] && floor.cells[j] == CellKind::Shelf(cat) {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        blocks.push((usize::from(cat.0), cells));
    }
    blocks
}

/// Runs of horizontally adjacent cells of `kind` (for the IN and OUT labels).
fn runs(floor: &FloorSpec, kind: CellKind) -> Vec<(u16, u16, u16)> {
    let mut out = Vec::new();
    for y in 0..floor.height {
        let mut x = 0;
        while x < floor.width {
            if floor.kind(Cell { x, y }) == kind {
                let start = x;
                while x < floor.width && floor.kind(Cell { x, y }) == kind {
                    x += 1;
                }
                out.push((y, start, x));
            } else {
                x += 1;
            }
        }
    }
    out
}

/// The most shopper-minutes spent in one cell of the floor over the day.
pub fn dwell_max_minutes(kpis: &StoreKpis) -> f64 {
    kpis.heat_map.dwell_s.iter().fold(0.0, |m: f64, s| m.max(s / 60.0))
}

/// The floor plan with the heat map, `width` pixels wide. `lane_queue[i]` is the queue
/// that feeds lane `i` (for its colour). The heat scale ends at the plan's hottest cell, or
/// at `dwell_high` shopper-minutes if that is more (to compare two plans on one scale).
pub fn floor_plan(
    scenario: &Scenario,
    kpis: &StoreKpis,
    lane_queue: &[usize],
    width: u32,
    dwell_high: Option<f64>,
) -> Result<String> {
    let minutes: Vec<f64> = kpis.heat_map.dwell_s.iter().map(|s| s / 60.0).collect();
    plan(scenario, kpis, lane_queue, width, Heat::Dwell(DwellScale::new(&minutes, dwell_high)))
}

/// The floor plan coloured by mean density (people per m² over the day), `width` pixels
/// wide, with the ten densest cells numbered in the order of `kpis.crowding.densest`.
pub fn density_plan(scenario: &Scenario, kpis: &StoreKpis, lane_queue: &[usize], width: u32) -> Result<String> {
    let scale = DensityScale::new(&kpis.heat_map.density, kpis.crowding.max_density_per_m2);
    plan(scenario, kpis, lane_queue, width, Heat::Density(scale))
}

fn plan(scenario: &Scenario, kpis: &StoreKpis, lane_queue: &[usize], width: u32, heat: Heat) -> Result<String> {
    let store = &scenario.world.store;
    let floor = &store.floor;
    let (w, h) = (f64::from(floor.width), f64::from(floor.height));
    let cell_px = (f64::from(width - 8) / w).floor().clamp(6.0, 28.0);
    let scale = (cell_px / 20.0).clamp(0.5, 1.2);
    let (plan_w, plan_h) = ((w * cell_px) as u32, (h * cell_px) as u32);
    let down: Vec<bool> = kpis.devices.iter().map(|d| d.down_minutes > 0.0).collect();
    let density = heat.is_density();

    let legend = Legend::new(scenario, kpis, width, &heat);
    let size = (width, plan_h + 30 + legend.height);
    svg(size, |root| {
        root.fill(&WHITE)?;
        let (top, bottom) = root.split_vertically(plan_h + 30);
        let left = (width.saturating_sub(plan_w) / 2) as i32;
        let plan_area = top.clone().shrink((left, 0), (plan_w, plan_h));
        let top_left = top.get_base_pixel();
        let plan = ChartBuilder::on(&plan_area).build_cartesian_2d(0.0..w, h..0.0)?;
        let area = plan.plotting_area();

        // Cells.
        for y in 0..floor.height {
            for x in 0..floor.width {
                let cell = Cell { x, y };
                let i = usize::from(y) * usize::from(floor.width) + usize::from(x);
                let heat_or_floor = heat.colour(kpis, i).unwrap_or(FLOOR);
                let colour = match floor.kind(cell) {
                    CellKind::Wall => WALL,
                    CellKind::Floor | CellKind::Lane(_) => heat_or_floor,
                    CellKind::Shelf(_) if density => SHELF_NEUTRAL,
                    CellKind::Shelf(cat) => shelf_colour(usize::from(cat.0)),
                    CellKind::Entrance => ENTRANCE,
                    CellKind::Exit => EXIT,
                };
                let (fx, fy) = (f64::from(x), f64::from(y));
                area.draw(&Rectangle::new([(fx, fy), (fx + 1.0, fy + 1.0)], colour.filled()))?;
            }
        }
        // Thin separators between shelf blocks and the floor read better than a grid.
        for (cat, cells) in shelf_blocks(floor) {
            let (x0, x1) = (cells.iter().map(|c| c.x).min().unwrap_or(0), cells.iter().map(|c| c.x).max().unwrap_or(0));
            let (y0, y1) = (cells.iter().map(|c| c.y).min().unwrap_or(0), cells.iter().map(|c| c.y).max().unwrap_or(0));
            let rect = cells.len() == usize::from(x1 - x0 + 1) * usize::from(y1 - y0 + 1);
            let (fx0, fy0, fx1, fy1) = (f64::from(x0), f64::from(y0), f64::from(x1) + 1.0, f64::from(y1) + 1.0);
            if rect {
                area.draw(&Rectangle::new([(fx0, fy0), (fx1, fy1)], WHITE.stroke_width(1)))?;
            }
            let name = store.categories.get(cat).map_or("", |c| c.name.as_str()).replace('_', " ");
            let long_px = (fx1 - fx0).max(fy1 - fy0) * cell_px;
            let short_px = (fx1 - fx0).min(fy1 - fy0) * cell_px;
            let font_px = (10.0 * scale).max(MIN_TEXT_PX);
            // Named where the name fits along the block and the block is about as thick as
            // a lower-case line of it.
            if rect && f64::from(text_width(&name, font_px)) + 8.0 < long_px && short_px >= 0.75 * font_px {
                let vertical = fy1 - fy0 > fx1 - fx0;
                let mut style = text(font_px, &INK).pos(Pos::new(HPos::Center, VPos::Center));
                if vertical {
                    style = style.transform(FontTransform::Rotate270);
                }
                area.draw(&Text::new(name, ((fx0 + fx1) / 2.0, (fy0 + fy1) / 2.0), style))?;
            }
        }
        // Doors: named just outside the plan when they are in its outer row, else on them.
        for (kind, label, colour) in [(CellKind::Entrance, "entrance", ENTRANCE), (CellKind::Exit, "exit", EXIT)] {
            for (y, x0, x1) in runs(floor, kind) {
                let x = (f64::from(x0) + f64::from(x1)) / 2.0;
                let (at, pos, offset) = if y + 1 == floor.height {
                    ((x, h), Pos::new(HPos::Center, VPos::Top), 3)
                } else if y == 0 {
                    ((x, 0.0), Pos::new(HPos::Center, VPos::Bottom), -3)
                } else {
                    ((x, f64::from(y) + 0.5), Pos::new(HPos::Center, VPos::Center), 0)
                };
                let style = font(11.0).style(FontStyle::Bold).color(&colour).pos(pos);
                let at = area.map_coordinate(&at);
                top.draw(&Text::new(label, (at.0 - top_left.0, at.1 - top_left.1 + offset), style))?;
            }
        }
        // Lanes: outlined in their queue's colour, named below (or beside when crowded).
        let lane_cells: Vec<(Cell, usize)> = (0..floor.height)
            .flat_map(|y| (0..floor.width).map(move |x| Cell { x, y }))
            .filter_map(|c| match floor.kind(c) {
                CellKind::Lane(l) => Some((c, usize::from(l.0))),
                _ => None,
            })
            .collect();
        let lane_px = (10.0 * scale).max(MIN_TEXT_PX);
        let lane_name = |lane: usize| store.lanes.get(lane).map_or("?", |l| l.name.as_str());
        // Names side by side need their width between lanes; else they turn on their side.
        let crowded = lane_cells.windows(2).any(|p| {
            let gap_px = f64::from(p[1].0.x - p[0].0.x) * cell_px;
            let need = f64::from(text_width(lane_name(p[0].1), lane_px) + text_width(lane_name(p[1].1), lane_px)) / 2.0;
            p[0].0.y == p[1].0.y && (p[1].0.x - p[0].0.x < 2 || gap_px < need + 4.0)
        });
        for (cell, lane) in &lane_cells {
            let (fx, fy) = (f64::from(cell.x), f64::from(cell.y));
            let colour = queue_colour(lane_queue.get(*lane).copied().unwrap_or(*lane));
            let mut outline = Rectangle::new([(fx, fy), (fx + 1.0, fy + 1.0)], colour.stroke_width(2));
            outline.set_margin(1, 1, 1, 1);
            area.draw(&outline)?;
            let name = lane_name(*lane);
            let below = f64::from(cell.y) + 1.0 < h && floor.kind(Cell { x: cell.x, y: cell.y + 1 }).walkable();
            let y = if below { fy + 1.15 } else { fy - 0.15 };
            let mut style = text(lane_px, &INK);
            style = if crowded {
                style.transform(FontTransform::Rotate90).pos(Pos::new(HPos::Left, VPos::Center))
            } else {
                style.pos(Pos::new(HPos::Center, if below { VPos::Top } else { VPos::Bottom }))
            };
            area.draw(&Text::new(name.to_string(), (fx + 0.5, y), style))?;
        }
        if density {
            // The densest cells, outlined, with their number in a white tag (readable on any
            // colour) on a neighbouring cell, so that the cell's own colour shows.
            let marked: Vec<(i32, i32)> =
                kpis.crowding.densest.iter().map(|c| (i32::from(c.x), i32::from(c.y))).collect();
            let mut tags: Vec<(i32, i32)> = Vec::new();
            for (rank, &(x, y)) in marked.iter().enumerate() {
                let (fx, fy) = (f64::from(x), f64::from(y));
                area.draw(&Rectangle::new([(fx, fy), (fx + 1.0, fy + 1.0)], INK.stroke_width(2)))?;
                let inside =
                    |(x, y): (i32, i32)| x >= 0 && y >= 0 && x < i32::from(floor.width) && y < i32::from(floor.height);
                let tag = [(-1, 0), (1, 0), (0, -1), (0, 1)]
                    .iter()
                    .map(|(dx, dy)| (x + dx, y + dy))
                    .find(|t| inside(*t) && !marked.contains(t) && !tags.contains(t))
                    .unwrap_or((x, y));
                tags.push(tag);
                draw_mark(area, (f64::from(tag.0) + 0.5, f64::from(tag.1) + 0.5), rank + 1, cell_px)?;
            }
        } else {
            for (i, d) in store.devices.iter().enumerate() {
                let glyph = Glyph::of(&d.kind);
                let at = (f64::from(d.cell.x) + 0.5, f64::from(d.cell.y) + 0.5);
                glyph.draw(area, at, glyph.offset(cell_px), scale, down.get(i).copied().unwrap_or(false))?;
            }
        }

        legend.draw(&bottom, &heat)?;
        Ok(())
    })
}

/// A white tag with `number` in it, centred at `at`, nearly a cell of `cell_px` wide.
fn draw_mark(area: &Plane<'_>, at: (f64, f64), number: usize, cell_px: f64) -> Result<()> {
    let half = ((cell_px - 3.0) / 2.0).clamp(6.0, 10.0).round() as i32;
    let half_w = if number >= 10 { half + 2 } else { half };
    area.draw(
        &(EmptyElement::at(at)
            + Rectangle::new([(-half_w, -half), (half_w, half)], WHITE.filled())
            + Rectangle::new([(-half_w, -half), (half_w, half)], INK.stroke_width(1))
            + Text::new(
                number.to_string(),
                (0, 1),
                font(MIN_TEXT_PX).style(FontStyle::Bold).color(&INK).pos(Pos::new(HPos::Center, VPos::Center)),
            )),
    )?;
    Ok(())
}

/// The legends under the plan: the heat layer's scale, then rows of entries (devices,
/// shelves' categories, marks, kinds of cell), each row after its heading.
struct Legend {
    width: u32,
    height: u32,
    categories: Vec<(String, RGBColor)>,
    glyphs: Vec<(Glyph, usize)>,
    any_down: bool,
    /// The kinds of cell and their colours.
    kinds: Vec<(String, RGBColor)>,
    /// The densest cells are numbered on the plan.
    marks: usize,
    /// The kinds of cell have a row of their own below the scale (a narrow plan), rather
    /// than sitting right of it.
    cells_row: bool,
}

/// Room kept free at the right of the legend: the browser's text runs a little wider than
/// [`text_width`] estimates.
const RIGHT_PAD: i32 = 24;

const SCALE_H: u32 = 58;
const ROW_H: u32 = 22;
/// Where the entries of a row start, after its heading.
const ENTRIES_X: i32 = 100;

/// The width of one legend entry: a swatch and its name.
fn entry_width(name: &str) -> i32 {
    20 + text_width(name, 12.0) + 16
}

impl Legend {
    fn new(scenario: &Scenario, kpis: &StoreKpis, width: u32, heat: &Heat) -> Legend {
        let store = &scenario.world.store;
        let density = heat.is_density();
        let categories: Vec<(String, RGBColor)> = if density {
            Vec::new()
        } else {
            store.categories.iter().enumerate().map(|(i, c)| (c.name.replace('_', " "), shelf_colour(i))).collect()
        };
        let mut counts: BTreeMap<Glyph, usize> = BTreeMap::new();
        if !density {
            for d in &store.devices {
                *counts.entry(Glyph::of(&d.kind)).or_default() += 1;
            }
        }
        let glyphs: Vec<(Glyph, usize)> = counts.into_iter().collect();
        let any_down = !density && kpis.devices.iter().any(|d| d.down_minutes > 0.0);
        let mut kinds = vec![("wall".to_string(), WALL)];
        if density {
            kinds.push(("shelf".to_string(), SHELF_NEUTRAL));
            kinds.push((format!("under {}/m\u{b2}", DENSITY_FLOOR_MIN), FLOOR));
        } else {
            kinds.push(("under 1 min".to_string(), FLOOR));
        }
        kinds.push(("entrance".to_string(), ENTRANCE));
        kinds.push(("exit".to_string(), EXIT));
        let kinds_w: i32 = kinds.iter().map(|(n, _)| entry_width(n)).sum();
        let cells_row = Legend::kinds_x(width) + kinds_w > width as i32 - RIGHT_PAD + 16;
        let marks = if density { kpis.crowding.densest.len() } else { 0 };
        let mut legend = Legend { width, height: 0, categories, glyphs, any_down, kinds, marks, cells_row };
        let rows = legend.device_rows()
            + legend.shelf_rows()
            + u32::from(legend.marks > 0)
            + if cells_row { legend.entries_rows(legend.kind_widths()) } else { 0 };
        legend.height = SCALE_H + 10 + rows * ROW_H + 8;
        legend
    }

    fn bar_width(width: u32) -> u32 {
        (width as f64 * 0.42).min(440.0) as u32
    }

    /// Where the kinds of cell start when they sit right of the scale.
    fn kinds_x(width: u32) -> i32 {
        250 + Legend::bar_width(width) as i32 + 24
    }

    fn kind_widths(&self) -> Vec<i32> {
        self.kinds.iter().map(|(n, _)| entry_width(n)).collect()
    }

    /// Where a row of entries wraps.
    fn right(&self) -> i32 {
        self.width as i32 - RIGHT_PAD + 16
    }

    /// Rows taken by entries of `widths` (none without entries).
    fn entries_rows(&self, widths: Vec<i32>) -> u32 {
        if widths.is_empty() {
            return 0;
        }
        let mut rows = 1;
        let mut x = ENTRIES_X;
        for w in widths {
            if x > ENTRIES_X && x + w > self.right() {
                rows += 1;
                x = ENTRIES_X;
            }
            x += w;
        }
        rows
    }

    fn shelf_rows(&self) -> u32 {
        self.entries_rows(self.categories.iter().map(|(n, _)| entry_width(n)).collect())
    }

    fn device_rows(&self) -> u32 {
        let down = self.any_down.then(|| entry_width("down during the day"));
        self.entries_rows(self.glyph_labels().iter().map(|l| entry_width(l)).chain(down).collect())
    }

    fn glyph_labels(&self) -> Vec<String> {
        self.glyphs
            .iter()
            .map(|(g, n)| if *n > 1 { format!("{} ({n})", g.name()) } else { g.name().to_string() })
            .collect()
    }

    /// The scale of the heat layer: its title, what it measures and a colour bar with an
    /// axis drawn by plotters (logarithmic for dwell, linear for density).
    fn draw_scale(&self, area: &Area<'_>, heat: &Heat) -> Result<()> {
        let label = text(12.0, &MUTED).pos(Pos::new(HPos::Left, VPos::Center));
        let ink = text(12.0, &INK).pos(Pos::new(HPos::Left, VPos::Center));
        let (title, what) = match heat {
            Heat::Dwell(_) => {
                ("Time spent in each cell".to_string(), "shopper-minutes over the day, log scale".to_string())
            }
            Heat::Density(_) => ("People per m\u{b2} in each cell".to_string(), "mean over the day,".to_string()),
        };
        area.draw(&Text::new(title, (0, 10), ink))?;
        area.draw(&Text::new(what, (0, 26), label.clone()))?;
        if heat.is_density() {
            area.draw(&Text::new("on a square-root scale", (0, 42), label))?;
        }
        let bar_area = area.clone().shrink((250, 0), (Legend::bar_width(self.width), SCALE_H - 10));
        let steps = 64;
        match heat {
            Heat::Dwell(dwell) => {
                let mut bar = ChartBuilder::on(&bar_area)
                    .margin_left(6)
                    .margin_right(18)
                    .x_label_area_size(20)
                    .build_cartesian_2d((dwell.low..dwell.high).log_scale(), 0.0..1.0)?;
                bar.configure_mesh()
                    .disable_mesh()
                    .disable_y_axis()
                    .x_labels(8)
                    .x_label_formatter(&|v| grouped(*v, 0))
                    .label_style(text(11.0, &MUTED))
                    .axis_style(RGBColor(0xc4, 0xc9, 0xd0))
                    .draw()?;
                let ratio = dwell.high / dwell.low;
                bar.draw_series((0..steps).map(|k| {
                    let a = dwell.low * ratio.powf(k as f64 / steps as f64);
                    let b = dwell.low * ratio.powf((k + 1) as f64 / steps as f64);
                    let colour = dwell.colour((a * b).sqrt()).unwrap_or(FLOOR);
                    Rectangle::new([(a, 0.0), (b, 1.0)], colour.filled())
                }))?;
            }
            Heat::Density(d) => {
                // Drawn by hand: plotters has no square-root axis.
                let (x0, width) = (256, Legend::bar_width(self.width) as i32 - 24);
                for k in 0..steps {
                    let a = x0 + width * k / steps;
                    let b = x0 + width * (k + 1) / steps;
                    let t = (f64::from(k) + 0.5) / f64::from(steps);
                    area.draw(&Rectangle::new([(a, 4), (b, 20)], d.map.get_color(t).filled()))?;
                }
                let axis = RGBColor(0xc4, 0xc9, 0xd0);
                area.draw(&PathElement::new(vec![(x0, 20), (x0 + width, 20)], axis))?;
                let tick = text(11.0, &MUTED).pos(Pos::new(HPos::Center, VPos::Top));
                let ticks = d.ticks(f64::from(width), 38.0);
                for v in &ticks {
                    let x = x0 + (d.position(*v) * f64::from(width)).round() as i32;
                    area.draw(&PathElement::new(vec![(x, 20), (x, 24)], axis))?;
                    let top = (*v - d.top).abs() < 1e-9;
                    let label = if top && d.max > d.top { format!("\u{2265}{}", short(*v)) } else { short(*v) };
                    area.draw(&Text::new(label, (x, 27), tick.clone()))?;
                }
            }
        }
        Ok(())
    }

    fn draw(&self, area: &Area<'_>, heat: &Heat) -> Result<()> {
        let ink = text(12.0, &INK).pos(Pos::new(HPos::Left, VPos::Center));
        self.draw_scale(area, heat)?;
        let kind_box = |area: &Area<'_>, x: i32, y: i32, colour: RGBColor| -> Result<()> {
            area.draw(&Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()))?;
            area.draw(&Rectangle::new([(x, y - 6), (x + 12, y + 6)], RGBColor(0xc4, 0xc9, 0xd0).stroke_width(1)))?;
            Ok(())
        };
        // Cell kinds, right of the scale when there is room.
        if !self.cells_row {
            let kinds_x = Legend::kinds_x(self.width);
            let mut x = kinds_x;
            let mut y = 14;
            for ((name, colour), w) in self.kinds.iter().zip(self.kind_widths()) {
                if x + w > self.width as i32 {
                    x = kinds_x;
                    y += ROW_H as i32;
                }
                kind_box(area, x, y, *colour)?;
                area.draw(&Text::new(name.clone(), (x + 18, y), ink.clone()))?;
                x += w;
            }
        }

        // Rows of entries after a heading, on a pixel plane so device glyphs are drawn by
        // the same code as on the plan.
        let (_, rest) = area.split_vertically(SCALE_H + 10);
        let (rw, rh) = rest.dim_in_pixel();
        let plane = ChartBuilder::on(&rest).build_cartesian_2d(0.0..f64::from(rw), f64::from(rh)..0.0)?;
        let plane = plane.plotting_area();
        let mut row_y = f64::from(ROW_H) / 2.0;
        let put_heading = |heading: &str, y: f64| -> Result<()> {
            plane.draw(&Text::new(
                heading.to_string(),
                (0.0, y),
                text(12.0, &INK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            Ok(())
        };
        let left = f64::from(ENTRIES_X);
        if !self.glyphs.is_empty() {
            put_heading("Devices", row_y)?;
            let mut x = left;
            let labels = self.glyph_labels();
            let mut entries: Vec<(Option<Glyph>, String)> =
                self.glyphs.iter().zip(labels).map(|((g, _), l)| (Some(*g), l)).collect();
            if self.any_down {
                entries.push((None, "down during the day".to_string()));
            }
            for (glyph, name) in entries {
                let w = f64::from(entry_width(&name));
                if x > left && x + w > f64::from(self.right()) {
                    x = left;
                    row_y += f64::from(ROW_H);
                }
                match glyph {
                    Some(g) => g.draw(plane, (x + 6.0, row_y), (0, 0), 1.0, false)?,
                    None => plane.draw(&Circle::new((x + 6.0, row_y), 7, DOWN.stroke_width(2)))?,
                }
                plane.draw(&Text::new(name, (x + 18.0, row_y), ink.clone()))?;
                x += w;
            }
            row_y += f64::from(ROW_H);
        }
        if !self.categories.is_empty() {
            put_heading("Shelves", row_y)?;
            let mut x = left;
            for (name, colour) in &self.categories {
                let w = f64::from(entry_width(name));
                if x > left && x + w > f64::from(self.right()) {
                    x = left;
                    row_y += f64::from(ROW_H);
                }
                plane.draw(&Rectangle::new([(x, row_y - 6.0), (x + 12.0, row_y + 6.0)], colour.filled()))?;
                plane.draw(&Text::new(name.clone(), (x + 18.0, row_y), ink.clone()))?;
                x += w;
            }
            row_y += f64::from(ROW_H);
        }
        if self.marks > 0 {
            put_heading("Marks", row_y)?;
            draw_mark(plane, (left + 8.0, row_y), 1, 20.0)?;
            plane
                .draw(&Rectangle::new([(left + 18.0, row_y - 8.0), (left + 34.0, row_y + 8.0)], INK.stroke_width(2)))?;
            let what = format!("the {} densest cells, outlined and numbered beside them, 1 the densest", self.marks);
            plane.draw(&Text::new(what, (left + 42.0, row_y), ink.clone()))?;
            row_y += f64::from(ROW_H);
        }
        if self.cells_row {
            put_heading("Cells", row_y)?;
            let mut x = ENTRIES_X;
            let mut y = row_y.round() as i32;
            for ((name, colour), w) in self.kinds.iter().zip(self.kind_widths()) {
                if x > ENTRIES_X && x + w > self.right() {
                    x = ENTRIES_X;
                    y += ROW_H as i32;
                }
                kind_box(&rest, x, y, *colour)?;
                rest.draw(&Text::new(name.clone(), (x + 18, y), ink.clone()))?;
                x += w;
            }
        }
        Ok(())
    }
}

/// The zone of each cell of the floor (row-major), by index into the scenario's zones.
pub fn cell_zones(floor: &FloorSpec) -> Vec<Option<usize>> {
    let mut zones = vec![None; floor.cells.len()];
    for (z, zone) in floor.zones.iter().enumerate() {
        for c in &zone.cells {
            let i = usize::from(c.y) * usize::from(floor.width) + usize::from(c.x);
            if let Some(slot) = zones.get_mut(i) {
                *slot = Some(z);
            }
        }
    }
    zones
}

/// "[x, y] in ZONE", or "[x, y]" for a cell outside every zone.
pub fn cell_in_zone(x: u16, y: u16, zone: Option<&str>) -> String {
    match zone {
        Some(z) => format!("[{x}, {y}] in {z}"),
        None => format!("[{x}, {y}]"),
    }
}

/// What the dwell heat map shows, from its data: the hottest cells with their zones, the
/// zone where shoppers spent the most time per m², and how many of the hottest are lanes.
pub fn hottest_caption(scenario: &Scenario, kpis: &StoreKpis) -> String {
    let floor = &scenario.world.store.floor;
    let zones = cell_zones(floor);
    let zone_name = |i: usize| zones[i].and_then(|z| floor.zones.get(z)).map(|z| z.name.as_str());
    let dwell = &kpis.heat_map.dwell_s;
    let mut hot: Vec<usize> = (0..dwell.len().min(floor.cells.len())).filter(|i| dwell[*i] > 0.0).collect();
    hot.sort_by(|a, b| dwell[*b].total_cmp(&dwell[*a]).then(a.cmp(b)));
    let Some(&top) = hot.first() else { return "Nobody spent time on the floor.".to_string() };
    let w = usize::from(floor.width);
    let at = |i: usize| cell_in_zone((i % w) as u16, (i / w) as u16, zone_name(i));
    let minutes = |i: usize| grouped(dwell[i] / 60.0, 0);
    let mut out = format!("The hottest cell is {} ({} shopper-minutes)", at(top), minutes(top));
    let next: Vec<String> = hot.iter().skip(1).take(2).map(|i| format!("{} ({})", at(*i), minutes(*i))).collect();
    if !next.is_empty() {
        out.push_str(&format!(", then {}", next.join(" and ")));
    }
    out.push('.');
    let lanes = hot.iter().take(10).filter(|i| matches!(floor.cells[**i], CellKind::Lane(_))).count();
    match lanes {
        0 => out.push_str(" None of the ten hottest cells is a lane."),
        1 => out.push_str(" One of the ten hottest cells is a lane."),
        n => out.push_str(&format!(" {n} of the ten hottest cells are lanes.")),
    }
    let area = floor.cell_m * floor.cell_m;
    let per_m2 = floor
        .zones
        .iter()
        .enumerate()
        .filter_map(|(z, zone)| {
            let cells: Vec<usize> =
                (0..floor.cells.len()).filter(|i| zones[*i] == Some(z) && floor.cells[*i].walkable()).collect();
            let m2 = cells.len() as f64 * area;
            let minutes: f64 = cells.iter().map(|i| dwell.get(*i).copied().unwrap_or(0.0) / 60.0).sum();
            (m2 > 0.0).then(|| (zone.name.as_str(), minutes / m2))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((zone, v)) = per_m2 {
        out.push_str(&format!(
            " Per m\u{b2} of floor, shoppers spent the most time in {zone}: {} shopper-minutes.",
            grouped(v, 0)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_scale_ends_at_a_round_number_no_higher_than_the_limit() {
        let scale = DensityScale::new(&[0.0, 0.4, 3.2], 4.0);
        assert_eq!(scale.top, 4.0);
        let scale = DensityScale::new(&[0.3, 0.8], 4.0);
        assert_eq!(scale.top, 1.0, "a quiet floor gets a scale of its own");
        let scale = DensityScale::new(&[29.9], 4.0);
        assert_eq!((scale.top, scale.max), (4.0, 29.9), "denser than the limit: the scale stops at the limit");
        assert_eq!(scale.colour(29.9), scale.colour(4.0), "and such cells take the darkest colour");
        assert_eq!(scale.colour(0.005), None, "next to nobody: plain floor");
    }

    #[test]
    fn density_is_coloured_on_a_square_root_scale_with_round_ticks_apart() {
        let scale = DensityScale::new(&[3.2], 4.0);
        assert_eq!(scale.position(1.0), 0.5);
        assert_eq!(scale.position(4.0), 1.0);
        let ticks = scale.ticks(416.0, 38.0);
        assert_eq!(ticks.first(), Some(&0.0));
        assert_eq!(ticks.last(), Some(&4.0));
        assert!(ticks.contains(&1.0) && ticks.contains(&2.0), "{ticks:?}");
        for pair in ticks.windows(2) {
            let gap = (scale.position(pair[1]) - scale.position(pair[0])) * 416.0;
            assert!(gap >= 38.0, "{pair:?} only {gap:.0} px apart");
        }
        assert_eq!(ticks.iter().map(|v| short(*v)).collect::<Vec<_>>().join(" "), "0 0.05 0.25 0.5 1 2 3 4");
    }
}
