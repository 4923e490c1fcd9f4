//! The report's charts, drawn by plotters into SVG strings: the day's time series
//! (occupancy, queue lengths and waits, sales, arrivals true and sensed) and the summary
//! bars (funnel, lost sales, sensed vs true, lane utilisation).
//!
//! Every chart is a fixed size in pixels; the page scales it to the column it sits in.
//! Text is written as SVG `<text>` and laid out by the browser, so no font is needed here.
//! Titles are the page's (HTML `<figcaption>`), not drawn into the charts.

use std::ops::Range;

use crate::Result;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{SegmentValue, SegmentedCoord};
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use storetwin_actors::store::world::Sample;
use storetwin_engine::SimTime;

use crate::kpi::queue_label;

pub type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;
type TimeChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Text and lines.
pub const INK: RGBColor = RGBColor(0x1f, 0x29, 0x37);
pub const MUTED: RGBColor = RGBColor(0x6b, 0x72, 0x80);
pub const AXIS: RGBColor = RGBColor(0xc4, 0xc9, 0xd0);
pub const GRID: RGBColor = RGBColor(0xec, 0xee, 0xf1);
/// The one colour of single-series charts.
pub const ACCENT: RGBColor = RGBColor(0x25, 0x63, 0xeb);
/// What sensors report, next to the truth in [`ACCENT`].
pub const SENSED: RGBColor = RGBColor(0xf5, 0x9e, 0x0b);
pub const GOOD: RGBColor = RGBColor(0x16, 0xa3, 0x4a);
pub const BAD: RGBColor = RGBColor(0xdc, 0x26, 0x26);

/// Colours of queues (and of the lanes they feed), in queue order; repeats after the end.
const QUEUE_COLOURS: [RGBColor; 20] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0x79, 0x70, 0x6e),
    RGBColor(0x1f, 0x3a, 0x93),
    RGBColor(0x0e, 0x9f, 0x6e),
    RGBColor(0x7c, 0x3a, 0xed),
    RGBColor(0xa0, 0xcb, 0xe8),
    RGBColor(0xff, 0xbe, 0x7d),
    RGBColor(0x8c, 0xd1, 0x7d),
    RGBColor(0xb6, 0x99, 0x2d),
    RGBColor(0xd4, 0xa6, 0xc8),
    RGBColor(0x86, 0xbc, 0xb6),
    RGBColor(0xd7, 0xb5, 0xa6),
];

/// The colour of queue `i` (see [`QUEUE_COLOURS`]).
pub fn queue_colour(i: usize) -> RGBColor {
    QUEUE_COLOURS[i % QUEUE_COLOURS.len()]
}

pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// A font of `px` CSS pixels (plotters' SVG backend writes `size / 1.24`).
pub fn font(px: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::SansSerif, px * 1.24, FontStyle::Normal)
}

pub fn text(px: f64, colour: &RGBColor) -> TextStyle<'static> {
    font(px).color(colour)
}

/// Renders a chart of `size` pixels into an SVG document held in a string.
pub fn svg(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Result<()>) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

/// The span of the simulated day as hours of the clock (may pass 24 for a day that
/// crosses midnight).
#[derive(Clone, Copy, Debug)]
pub struct Day {
    pub open_h: f64,
    pub close_h: f64,
    /// The end of the run, from its start.
    end: SimTime,
}

impl Day {
    pub fn new(open_at_s: u32, end: SimTime) -> Day {
        let open_h = f64::from(open_at_s) / 3600.0;
        Day { open_h, close_h: open_h + end.as_secs_f64() / 3600.0, end }
    }

    pub fn hour_of(&self, t: SimTime) -> f64 {
        self.open_h + t.as_secs_f64() / 3600.0
    }
}

/// `h` hours after midnight as "HH:MM" (wrapping at 24).
pub fn clock(h: f64) -> String {
    let minutes = (h * 60.0).round() as i64;
    format!("{:02}:{:02}", minutes.div_euclid(60).rem_euclid(24), minutes.rem_euclid(60))
}

/// `v` with thousands separators and `decimals` digits after the point; a true minus sign.
pub fn grouped(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    let negative = v < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative { format!("\u{2212}{out}") } else { out }
}

/// A round upper bound for an axis showing values up to `v`.
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let v = v * 1.08;
    let step = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0].iter().map(|m| m * step).find(|m| *m >= v).unwrap_or(v)
}

/// The smallest of 1, 2, 2.5, 4, 5 or 8 times a power of ten at or above `v` (for a
/// scale whose quarters are round numbers).
fn nice_ceil(v: f64) -> f64 {
    let step = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 4.0, 8.0, 10.0].iter().map(|m| m * step).find(|m| *m >= v * 0.999).unwrap_or(v)
}

/// The last sample at or before `t` (samples are in time order).
fn sample_at(samples: &[Sample], t: SimTime) -> Option<&Sample> {
    let i = samples.partition_point(|s| s.at <= t);
    i.checked_sub(1).map(|i| &samples[i])
}

/// Consecutive spans of `step_s` seconds from the start of the day to its end.
fn spans(day: &Day, step_s: u64) -> Vec<(SimTime, SimTime)> {
    let end = day.end.as_nanos();
    let step = step_s * 1_000_000_000;
    (0..end.div_ceil(step))
        .map(|k| (SimTime::from_nanos(k * step), SimTime::from_nanos(((k + 1) * step).min(end))))
        .collect()
}

/// Differences of a cumulative count over each span (`None` where the samples do not reach).
fn per_span(samples: &[Sample], spans: &[(SimTime, SimTime)], value: impl Fn(&Sample) -> f64) -> Vec<Option<f64>> {
    spans
        .iter()
        .map(|(a, b)| match (sample_at(samples, *a), sample_at(samples, *b)) {
            (Some(x), Some(y)) if y.at > x.at || a == b => Some(value(y) - value(x)),
            _ => None,
        })
        .collect()
}

/// One entry of a legend drawn above a chart.
pub struct Key {
    pub label: String,
    pub colour: RGBColor,
}

/// Approximate width of `s` in a `px` font (the browser lays text out; this only spaces
/// legend entries).
pub fn text_width(s: &str, px: f64) -> i32 {
    (s.chars().count() as f64 * px * 0.56).ceil() as i32
}

/// Lays legend entries out left to right, wrapping at the width of `area`, starting at
/// `(x0, y0)`; returns the height used.
pub fn draw_keys(area: &Area<'_>, keys: &[Key], (x0, y0): (i32, i32)) -> Result<i32> {
    let width = area.dim_in_pixel().0 as i32;
    let row_h = 20;
    let (mut x, mut y) = (x0, y0 + row_h / 2);
    let style = text(12.0, &INK).pos(Pos::new(HPos::Left, VPos::Center));
    for key in keys {
        let w = 18 + text_width(&key.label, 12.0) + 18;
        if x > x0 && x + w > width {
            x = x0;
            y += row_h;
        }
        area.draw(&Rectangle::new([(x + 2, y - 5), (x + 12, y + 5)], key.colour.filled()))?;
        area.draw(&Text::new(key.label.clone(), (x + 18, y), style.clone()))?;
        x += w;
    }
    Ok(y + row_h / 2 - y0)
}

/// Axes over the day: time of day across, `y` up.
fn time_axes<'a, 'b>(
    area: &'a Area<'b>,
    day: &Day,
    y: Range<f64>,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<TimeChart<'a, 'b>> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(8)
        .margin_right(18)
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(day.open_h..day.close_h, y)?;
    let hours = (day.close_h - day.open_h).max(1.0);
    let labels = if area.dim_in_pixel().0 >= 900 { hours + 1.0 } else { hours / 2.0 + 1.0 };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .x_labels(labels.clamp(2.0, 25.0) as usize)
        .y_labels(6)
        .x_label_formatter(&|h| clock(*h))
        .y_label_formatter(y_fmt)
        .label_style(text(12.0, &MUTED))
        .axis_desc_style(text(12.0, &MUTED))
        .y_desc(y_desc)
        .draw()?;
    Ok(chart)
}

/// People inside the store, minute by minute, with the peak marked.
pub fn occupancy(day: &Day, samples: &[Sample], size: (u32, u32)) -> Result<String> {
    let points: Vec<(f64, f64)> = samples.iter().map(|s| (day.hour_of(s.at), f64::from(s.occupancy))).collect();
    let peak = points.iter().copied().fold((day.open_h, 0.0), |m, p| if p.1 > m.1 { p } else { m });
    svg(size, |root| {
        root.fill(&WHITE)?;
        let mut chart = time_axes(root, day, 0.0..nice_max(peak.1), "shoppers inside", &|v| grouped(*v, 0))?;
        chart.draw_series(
            AreaSeries::new(points.iter().copied(), 0.0, ACCENT.mix(0.14)).border_style(ACCENT.stroke_width(2)),
        )?;
        if peak.1 > 0.0 {
            let right = peak.0 > day.open_h + 0.75 * (day.close_h - day.open_h);
            let anchor = Pos::new(if right { HPos::Right } else { HPos::Left }, VPos::Bottom);
            let dx = if right { -8 } else { 8 };
            let label = format!("peak {} at {}", grouped(peak.1, 0), clock(peak.0));
            chart.plotting_area().draw(
                &(EmptyElement::at(peak)
                    + Circle::new((0, 0), 4, ACCENT.filled())
                    + Circle::new((0, 0), 4, WHITE.stroke_width(1))
                    + Text::new(label, (dx, -4), text(12.0, &INK).pos(anchor))),
            )?;
        }
        Ok(())
    })
}

/// Light to dark blue (ColorBrewer Blues), for counts of people.
const BLUES: [RGBColor; 8] = [
    RGBColor(0xf4, 0xf8, 0xfd),
    RGBColor(0xde, 0xeb, 0xf7),
    RGBColor(0xc6, 0xdb, 0xef),
    RGBColor(0x9e, 0xca, 0xe1),
    RGBColor(0x6b, 0xae, 0xd6),
    RGBColor(0x42, 0x92, 0xc6),
    RGBColor(0x21, 0x71, 0xb5),
    RGBColor(0x08, 0x45, 0x94),
];

/// Cream to dark red (ColorBrewer OrRd), for time: waits here, dwell on the floor plan.
pub const ORANGES: [RGBColor; 9] = [
    RGBColor(0xff, 0xf7, 0xec),
    RGBColor(0xfe, 0xe8, 0xc8),
    RGBColor(0xfd, 0xd4, 0x9e),
    RGBColor(0xfd, 0xbb, 0x84),
    RGBColor(0xfc, 0x8d, 0x59),
    RGBColor(0xef, 0x65, 0x48),
    RGBColor(0xd7, 0x30, 0x1f),
    RGBColor(0xb3, 0x00, 0x00),
    RGBColor(0x7f, 0x00, 0x00),
];

/// Relative luminance of a colour (WCAG 2).
fn luminance(c: RGBColor) -> f64 {
    let channel = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.040_45 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * channel(c.0) + 0.7152 * channel(c.1) + 0.0722 * channel(c.2)
}

/// Contrast ratio of two colours (WCAG 2): 1 to 21.
fn contrast(a: RGBColor, b: RGBColor) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Text colour for writing on `fill`: white or black, whichever contrasts more (never less
/// than 4.5:1, the WCAG minimum for text).
pub fn ink_on(fill: RGBColor) -> RGBColor {
    if contrast(fill, WHITE) >= contrast(fill, BLACK) { WHITE } else { BLACK }
}

/// A cell with no value (no one served in that span).
const EMPTY: RGBColor = RGBColor(0xf3, 0xf4, 0xf6);

/// A grid of queues (rows) by spans of the day (columns), each cell coloured by its value.
struct Matrix<'a> {
    rows: Vec<String>,
    /// Column extents in hours of the clock.
    columns: Vec<(f64, f64)>,
    /// `values[row][column]`; `None` draws an empty cell.
    values: Vec<Vec<Option<f64>>>,
    palette: &'a [RGBColor],
    /// Writes each value in its cell.
    annotate: Option<&'a dyn Fn(f64) -> String>,
    /// Title and tick format of the colour scale drawn above the grid (when not annotated).
    scale: Option<(&'a str, &'a dyn Fn(f64) -> String)>,
}

/// Height of a matrix chart with `rows` rows.
pub fn matrix_height(rows: usize, scale: bool) -> u32 {
    (if scale { 44 } else { 8 }) + 34 + 24 * rows as u32
}

impl Matrix<'_> {
    fn draw(&self, day: &Day, width: u32) -> Result<String> {
        let n = self.rows.len() as i32;
        let max = self.values.iter().flatten().flatten().fold(0.0, |m: f64, v| m.max(*v));
        // A scale drawn with ticks ends at a round number; written values use the data's range.
        let top = match (self.scale.is_some(), max > 0.0) {
            (_, false) => 1.0,
            (true, true) => nice_ceil(max),
            (false, true) => max,
        };
        let map = DerivedColorMap::new(self.palette);
        let colour = |v: f64| -> RGBColor { map.get_color((v / top).clamp(0.0, 1.0)) };
        let size = (width, matrix_height(self.rows.len(), self.scale.is_some()));
        let label_px = 20 + self.rows.iter().map(|r| text_width(r, 12.0)).max().unwrap_or(40) as u32;
        svg(size, |root| {
            root.fill(&WHITE)?;
            let area = match self.scale {
                Some((title, fmt)) => {
                    let (strip, rest) = root.split_vertically(44);
                    colour_bar(&strip, title, self.palette, top, fmt, label_px as i32 + 4)?;
                    rest
                }
                None => root.split_vertically(8).1,
            };
            let mut chart = ChartBuilder::on(&area)
                .margin_right(18)
                .x_label_area_size(30)
                .y_label_area_size(label_px)
                .build_cartesian_2d(day.open_h..day.close_h, (0..(n - 1).max(1)).into_segmented())?;
            let hours = (day.close_h - day.open_h).max(1.0);
            let rows = &self.rows;
            let row_label = |v: &SegmentValue<i32>| match v {
                SegmentValue::CenterOf(i) => rows.get((n - 1 - i) as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .axis_style(AXIS)
                .x_labels((hours + 1.0).clamp(2.0, 25.0) as usize)
                .y_labels(self.rows.len())
                .x_label_formatter(&|h| clock(*h))
                .y_label_formatter(&row_label)
                .x_label_style(text(12.0, &MUTED))
                .y_label_style(text(12.0, &INK))
                .draw()?;
            for (r, row) in self.values.iter().enumerate() {
                let y = n - 1 - r as i32;
                chart.draw_series(self.columns.iter().zip(row).map(|((x0, x1), v)| {
                    let fill = v.map_or(EMPTY, colour);
                    let mut cell = Rectangle::new(
                        [(*x0, SegmentValue::Exact(y)), (*x1, SegmentValue::Exact(y + 1))],
                        fill.filled(),
                    );
                    cell.set_margin(1, 1, 1, 1);
                    cell
                }))?;
                if let Some(annotate) = self.annotate {
                    for ((x0, x1), v) in self.columns.iter().zip(row) {
                        let Some(v) = v else { continue };
                        let style = text(11.0, &ink_on(colour(*v))).pos(Pos::new(HPos::Center, VPos::Center));
                        chart.plotting_area().draw(&Text::new(
                            annotate(*v),
                            ((x0 + x1) / 2.0, SegmentValue::CenterOf(y)),
                            style,
                        ))?;
                    }
                }
            }
            Ok(())
        })
    }
}

/// A linear colour scale from 0 to `max` in a strip above a chart, starting at `x0`.
fn colour_bar(
    strip: &Area<'_>,
    title: &str,
    palette: &[RGBColor],
    max: f64,
    fmt: &dyn Fn(f64) -> String,
    x0: i32,
) -> Result<()> {
    let map = DerivedColorMap::new(palette);
    let (w, steps) = (240, 48);
    strip.draw(&Text::new(title.to_string(), (x0, 12), text(12.0, &INK).pos(Pos::new(HPos::Left, VPos::Center))))?;
    let bar_x = x0 + text_width(title, 12.0) + 16;
    for k in 0..steps {
        let a = bar_x + w * k / steps;
        let b = bar_x + w * (k + 1) / steps;
        let c: RGBColor = map.get_color((f64::from(k) + 0.5) / f64::from(steps));
        strip.draw(&Rectangle::new([(a, 4), (b, 20)], c.filled()))?;
    }
    let tick = text(11.0, &MUTED).pos(Pos::new(HPos::Center, VPos::Top));
    for k in 0..=4 {
        let x = bar_x + w * k / 4;
        strip.draw(&PathElement::new(vec![(x, 20), (x, 24)], AXIS))?;
        strip.draw(&Text::new(fmt(max * f64::from(k) / 4.0), (x, 26), tick.clone()))?;
    }
    Ok(())
}

/// Mean number waiting in each queue per 10 minutes, as a grid of queues by time.
pub fn queue_lengths(day: &Day, samples: &[Sample], queues: &[String], width: u32) -> Result<String> {
    let spans = spans(day, 600);
    let values: Vec<Vec<Option<f64>>> = (0..queues.len())
        .map(|q| {
            spans
                .iter()
                .map(|(a, b)| {
                    let inside: Vec<f64> = samples
                        .iter()
                        .filter(|s| s.at > *a && s.at <= *b)
                        .filter_map(|s| s.queue_lengths.get(q).map(|l| f64::from(*l)))
                        .collect();
                    (!inside.is_empty()).then(|| inside.iter().sum::<f64>() / inside.len() as f64)
                })
                .collect()
        })
        .collect();
    let fmt = |v: f64| if v == 0.0 || v >= 10.0 { grouped(v, 0) } else { format!("{v:.1}") };
    Matrix {
        rows: queues.iter().map(|q| queue_label(q)).collect(),
        columns: spans.iter().map(|(a, b)| (day.hour_of(*a), day.hour_of(*b))).collect(),
        values,
        palette: &BLUES,
        annotate: None,
        scale: Some(("mean number waiting", &fmt)),
    }
    .draw(day, width)
}

/// Mean wait in queue `q` of those whose service started in each span: the growth of the
/// cumulative wait over the growth of the count served (`None` where nobody was served).
fn mean_waits(samples: &[Sample], spans: &[(SimTime, SimTime)], q: usize) -> Vec<Option<f64>> {
    let started = per_span(samples, spans, |s| s.queue_started.get(q).map_or(0.0, |v| *v as f64));
    let waited = per_span(samples, spans, |s| s.queue_wait_s.get(q).copied().unwrap_or(0.0));
    started
        .iter()
        .zip(&waited)
        .map(|(n, w)| match (n, w) {
            (Some(n), Some(w)) if *n > 0.0 => Some(w / n),
            _ => None,
        })
        .collect()
}

/// Mean wait of those whose service started in each span of `step_s`, per queue, written
/// in the cells (seconds).
pub fn queue_waits(day: &Day, samples: &[Sample], queues: &[String], step_s: u64, width: u32) -> Result<String> {
    let spans = spans(day, step_s);
    let values: Vec<Vec<Option<f64>>> = (0..queues.len()).map(|q| mean_waits(samples, &spans, q)).collect();
    Matrix {
        rows: queues.iter().map(|q| queue_label(q)).collect(),
        columns: spans.iter().map(|(a, b)| (day.hour_of(*a), day.hour_of(*b))).collect(),
        values,
        palette: &ORANGES,
        annotate: Some(&|v| format!("{v:.0}")),
        scale: None,
    }
    .draw(day, width)
}

/// Sales (major units) per hour as bars.
pub fn sales_per_hour(day: &Day, samples: &[Sample], size: (u32, u32)) -> Result<String> {
    let spans = spans(day, 3600);
    let sales = per_span(samples, &spans, |s| s.sales.as_major());
    let max = sales.iter().flatten().fold(0.0, |m: f64, v| m.max(*v));
    svg(size, |root| {
        root.fill(&WHITE)?;
        let mut chart = time_axes(root, day, 0.0..nice_max(max), "sales per hour", &|v| grouped(*v, 0))?;
        chart.draw_series(spans.iter().zip(&sales).filter_map(|((a, b), v)| {
            let (x0, x1) = (day.hour_of(*a), day.hour_of(*b));
            let pad = (x1 - x0) * 0.12;
            v.map(|v| Rectangle::new([(x0 + pad, 0.0), (x1 - pad, v)], ACCENT.mix(0.85).filled()))
        }))?;
        Ok(())
    })
}

/// Arrivals per hour: those who entered (truth) next to what the door counters counted,
/// when the store has door counters (`sensed`).
pub fn arrivals_per_hour(day: &Day, samples: &[Sample], sensed: bool, size: (u32, u32)) -> Result<String> {
    let spans = spans(day, 3600);
    let truth = per_span(samples, &spans, |s| s.entered as f64);
    let counted = per_span(samples, &spans, |s| s.door_count as f64);
    let mut series = vec![(&truth, ACCENT, "entered (true)")];
    if sensed {
        series.push((&counted, SENSED, "door counters (sensed)"));
    }
    let max = series.iter().flat_map(|s| s.0.iter()).flatten().fold(0.0, |m: f64, v| m.max(*v));
    let keys: Vec<Key> =
        series.iter().map(|(_, colour, label)| Key { label: (*label).into(), colour: *colour }).collect();
    let share = 0.76 / series.len() as f64;
    svg(size, |root| {
        root.fill(&WHITE)?;
        draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let mut chart = time_axes(&area, day, 0.0..nice_max(max), "shoppers per hour", &|v| grouped(*v, 0))?;
        for (side, (values, colour, _)) in series.iter().enumerate() {
            chart.draw_series(spans.iter().zip(values.iter()).filter_map(|((a, b), v)| {
                let (x0, x1) = (day.hour_of(*a), day.hour_of(*b));
                let w = (x1 - x0) * share;
                let left = x0 + (x1 - x0) * 0.12 + side as f64 * w;
                v.map(|v| Rectangle::new([(left, 0.0), (left + w, v)], colour.filled()))
            }))?;
        }
        Ok(())
    })
}

/// A chart whose rows are labelled categories, top to bottom in order, over a numeric x.
type RowChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordi32>>>;

/// The x axis of a row chart.
struct Axis<'f> {
    range: Range<f64>,
    desc: &'f str,
    ticks: usize,
    fmt: &'f dyn Fn(&f64) -> String,
}

/// Builds a row chart (one band per label, the first at the top) and draws its axes.
fn row_chart<'a, 'b>(
    root: &'a Area<'b>,
    labels: &[&str],
    x: Axis<'_>,
    x_area: u32,
    label_px: u32,
) -> Result<RowChart<'a, 'b>> {
    let n = labels.len() as i32;
    let mut chart = ChartBuilder::on(root)
        .margin_top(6)
        .margin_right(16)
        .x_label_area_size(x_area)
        .y_label_area_size(label_px)
        .build_cartesian_2d(x.range, (0..(n - 1).max(1)).into_segmented())?;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => labels.get((n - 1 - i) as usize).map(|l| (*l).to_string()).unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .x_labels(x.ticks)
        .y_labels(labels.len())
        .x_label_formatter(x.fmt)
        .y_label_formatter(&label_of)
        .x_label_style(text(12.0, &MUTED))
        .y_label_style(text(13.0, &INK))
        .axis_desc_style(text(12.0, &MUTED))
        .x_desc(x.desc)
        .draw()?;
    Ok(chart)
}

/// One bar of a horizontal bar chart.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub colour: RGBColor,
    /// Written at the end of the bar.
    pub note: String,
}

/// Horizontal bars, top to bottom in the order given, over `x` (which may span zero: bars
/// then grow left or right from a zero line).
pub fn bars(
    bars: &[Bar],
    x: Range<f64>,
    x_desc: &str,
    x_fmt: &dyn Fn(&f64) -> String,
    label_px: u32,
    size: (u32, u32),
) -> Result<String> {
    let n = bars.len() as i32;
    let diverging = x.start < 0.0;
    svg(size, |root| {
        root.fill(&WHITE)?;
        let labels: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
        let x_area = if x_desc.is_empty() { 24 } else { 40 };
        let axis = Axis { range: x.clone(), desc: x_desc, ticks: 6, fmt: x_fmt };
        let mut chart = row_chart(root, &labels, axis, x_area, label_px)?;
        let band = (size.1 as f64 - 46.0) / f64::from(n.max(1));
        let pad = ((band * 0.24).round() as u32).clamp(3, 22);
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let row = n - 1 - i as i32;
            let mut r = Rectangle::new(
                [(0.0, SegmentValue::Exact(row)), (b.value, SegmentValue::Exact(row + 1))],
                b.colour.filled(),
            );
            r.set_margin(pad, pad, 0, 0);
            r
        }))?;
        if diverging {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Exact(n))],
                MUTED.stroke_width(1),
            )))?;
        }
        for (i, b) in bars.iter().enumerate() {
            let row = n - 1 - i as i32;
            // Diverging bars have their note on the free side of the zero line.
            let (at, left) = if diverging { (0.0, b.value > 0.0) } else { (b.value, false) };
            let anchor = Pos::new(if left { HPos::Right } else { HPos::Left }, VPos::Center);
            chart.plotting_area().draw(
                &(EmptyElement::at((at, SegmentValue::CenterOf(row)))
                    + Text::new(b.note.clone(), (if left { -6 } else { 6 }, 0), text(12.0, &INK).pos(anchor))),
            )?;
        }
        Ok(())
    })
}

/// Vertical bars, left to right in the order given, over `y` from 0; notes above the bars.
pub fn columns(
    bars: &[Bar],
    y_max: f64,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
    size: (u32, u32),
) -> Result<String> {
    let n = bars.len() as i32;
    svg(size, |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin_top(10)
            .margin_right(18)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d((0..(n - 1).max(1)).into_segmented(), 0.0..y_max)?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => bars.get(*i as usize).map(|b| b.label.clone()).unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .x_labels(bars.len())
            .y_labels(6)
            .x_label_formatter(&label_of)
            .y_label_formatter(y_fmt)
            .x_label_style(text(12.0, &INK))
            .y_label_style(text(12.0, &MUTED))
            .axis_desc_style(text(12.0, &MUTED))
            .y_desc(y_desc)
            .draw()?;
        let band = (f64::from(size.0) - 82.0) / f64::from(n.max(1));
        let pad = ((band * 0.18).round() as u32).clamp(2, 16);
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let i = i as i32;
            let mut r = Rectangle::new(
                [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), b.value)],
                b.colour.filled(),
            );
            r.set_margin(0, 0, pad, pad);
            r
        }))?;
        for (i, b) in bars.iter().enumerate() {
            chart.plotting_area().draw(
                &(EmptyElement::at((SegmentValue::CenterOf(i as i32), b.value))
                    + Text::new(b.note.clone(), (0, -4), text(11.0, &INK).pos(Pos::new(HPos::Center, VPos::Bottom)))),
            )?;
        }
        Ok(())
    })
}

/// One line of a chart over the day: its legend entry and its points (hour of the clock,
/// value).
pub struct Line {
    pub key: Key,
    pub points: Vec<(f64, f64)>,
}

/// Lines over the day on one pair of axes, with a legend above.
pub fn lines(day: &Day, lines: &[Line], y_desc: &str, size: (u32, u32)) -> Result<String> {
    let max = lines.iter().flat_map(|l| &l.points).fold(0.0, |m: f64, p| m.max(p.1));
    let keys: Vec<Key> = lines.iter().map(|l| Key { label: l.key.label.clone(), colour: l.key.colour }).collect();
    svg(size, |root| {
        root.fill(&WHITE)?;
        draw_keys(root, &keys, (64, 0))?;
        let (_, area) = root.split_vertically(26);
        let mut chart = time_axes(&area, day, 0.0..nice_max(max), y_desc, &|v| grouped(*v, 0))?;
        for line in lines {
            chart.draw_series(LineSeries::new(line.points.iter().copied(), line.key.colour.stroke_width(2)))?;
        }
        Ok(())
    })
}

/// One row of an interval chart: an estimate and its 95% confidence interval.
pub struct Interval {
    pub label: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub colour: RGBColor,
    /// Written beyond the end of the interval away from zero.
    pub note: String,
}

/// A symmetric axis around zero reaching a little beyond `reach` (at least 10% beyond),
/// ending at `m × step` with `step` 1, 2 or 5 times a power of ten and `m` from 2 to 5,
/// the smallest such end (and of those, the most ticks). Plotters puts its ticks at such
/// steps, so there is one at zero and one at each end. Returns the end, the number of
/// ticks and the decimals a tick label needs.
pub fn symmetric_axis(reach: f64) -> (f64, usize, usize) {
    let target = if reach > 0.0 && reach.is_finite() { reach * 1.1 } else { 1.0 };
    let e = target.log10().floor() as i32;
    let mut best = (f64::INFINITY, 0, 0);
    for k in e - 2..=e + 1 {
        for c in [1.0, 2.0, 5.0] {
            let step = c * 10f64.powi(k);
            for m in 2..=5 {
                let end = step * f64::from(m);
                let same = (end - best.0).abs() <= end * 1e-9;
                if end >= target * (1.0 - 1e-9) && (end < best.0 && !same || same && m > best.1) {
                    best = (end, m, k);
                }
            }
        }
    }
    let (end, m, k) = best;
    (end, 2 * m as usize + 1, (-k).max(0) as usize)
}

/// Estimates as horizontal bars from a zero line with their intervals as error bars, top to
/// bottom in the order given, on a [`symmetric_axis`] reaching beyond every interval; each
/// row's note is written in a column right of the chart, `note_px` wide. Ticks are labelled
/// by `x_fmt(value, decimals)`.
pub fn intervals(
    rows: &[Interval],
    x_desc: &str,
    x_fmt: &dyn Fn(f64, usize) -> String,
    label_px: u32,
    note_px: u32,
    width: u32,
) -> Result<String> {
    let n = rows.len();
    let reach = rows.iter().map(|r| r.low.abs().max(r.high.abs())).fold(0.0, f64::max);
    let (end, ticks, decimals) = symmetric_axis(reach);
    let size = (width, 60 + 40 * n as u32);
    // Rows on a numeric y axis (row i centred at n - i - 0.5), so that one row fills the
    // chart as well as many do; their labels are written beside it.
    let centre = |i: usize| (n - i) as f64 - 0.5;
    svg(size, |root| {
        root.fill(&WHITE)?;
        let fmt = |v: &f64| x_fmt(*v, decimals);
        let mut chart = ChartBuilder::on(root)
            .margin_top(6)
            .margin_right(note_px)
            .x_label_area_size(40)
            .y_label_area_size(label_px)
            .build_cartesian_2d(-end..end, 0.0..n.max(1) as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .x_labels(ticks)
            .y_labels(0)
            .x_label_formatter(&fmt)
            .x_label_style(text(12.0, &MUTED))
            .axis_desc_style(text(12.0, &MUTED))
            .x_desc(x_desc)
            .draw()?;
        let band = (f64::from(size.1) - 46.0) / n.max(1) as f64;
        let pad = ((band * 0.3).round() as u32).clamp(3, 22);
        chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
            let y = centre(i);
            let mut bar = Rectangle::new([(0.0, y - 0.5), (r.value, y + 0.5)], r.colour.mix(0.28).filled());
            bar.set_margin(pad, pad, 0, 0);
            bar
        }))?;
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(0.0, 0.0), (0.0, n as f64)], MUTED.stroke_width(1))))?;
        let cap = (band * 0.22).round().clamp(3.0, 8.0) as i32;
        for (i, r) in rows.iter().enumerate() {
            let y = centre(i);
            let whisker = r.colour.stroke_width(2);
            let area = chart.plotting_area();
            area.draw(&PathElement::new(vec![(r.low, y), (r.high, y)], whisker))?;
            for end in [r.low, r.high] {
                area.draw(&(EmptyElement::at((end, y)) + PathElement::new(vec![(0, -cap), (0, cap)], whisker)))?;
            }
            area.draw(
                &(EmptyElement::at((r.value, y))
                    + Circle::new((0, 0), 4, r.colour.filled())
                    + Circle::new((0, 0), 4, WHITE.stroke_width(1))),
            )?;
            let (left, at) = (chart.backend_coord(&(-end, y)), chart.backend_coord(&(end, y)));
            let label = text(13.0, &INK).pos(Pos::new(HPos::Right, VPos::Center));
            root.draw(&Text::new(r.label.clone(), (left.0 - 8, left.1), label))?;
            let note = text(12.0, &INK).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(r.note.clone(), (at.0 + 14, at.1), note))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use storetwin_actors::Cents;

    use super::*;

    #[test]
    fn numbers_and_times_read_as_a_planner_writes_them() {
        assert_eq!(grouped(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(-1.94, 1), "\u{2212}1.9");
        assert_eq!(grouped(-0.01, 1), "0.0", "no minus sign on a rounded zero");
        assert_eq!(clock(8.0), "08:00");
        assert_eq!(clock(19.999), "20:00");
        assert_eq!(clock(25.5), "01:30", "a day past midnight wraps");
        assert_eq!(nice_ceil(1.9), 2.0);
        assert_eq!(nice_ceil(4.0), 4.0);
        assert_eq!(nice_ceil(41.0), 80.0);
    }

    #[test]
    fn a_difference_axis_reaches_just_beyond_the_widest_interval_with_round_ticks() {
        assert_eq!(symmetric_axis(2.5), (3.0, 7, 0));
        assert_eq!(symmetric_axis(3.2), (4.0, 9, 0));
        assert_eq!(symmetric_axis(23.6), (30.0, 7, 0));
        let (end, ticks, decimals) = symmetric_axis(0.5);
        assert!((end - 0.6).abs() < 1e-12 && (ticks, decimals) == (7, 1), "{end} {ticks} {decimals}");
        assert_eq!(symmetric_axis(0.0), (1.0, 11, 1), "no interval at all: ±1");
        for reach in [0.013, 0.2, 0.9, 1.0, 4.7, 9.5, 17.0, 45.0, 130.0, 999.0] {
            let (end, ticks, _) = symmetric_axis(reach);
            assert!(end >= 1.1 * reach * (1.0 - 1e-9) && end <= 1.65 * reach, "{reach}: ±{end}");
            assert!((5..=11).contains(&ticks), "{reach}: {ticks} ticks");
        }
    }

    #[test]
    fn one_interval_fills_its_chart() {
        let row = Interval {
            label: "Reneged".into(),
            value: -12.0,
            low: -24.0,
            high: 1.0,
            colour: MUTED,
            note: "\u{2212}12% [\u{2212}24%, +1%]".into(),
        };
        let svg = intervals(&[row], "B \u{2212} A, % of A", &|v, d| format!("{v:.d$}%"), 160, 200, 1100).expect("svg");
        let attr = |element: &str, name: &str| -> f64 {
            let v = element.split(&format!(" {name}=\"")).nth(1).and_then(|r| r.split('"').next());
            v.and_then(|v| v.parse().ok()).expect("a number")
        };
        let label = svg.split("<text").find(|t| t.contains("Reneged")).expect("the row's label");
        // The plot's height: the vertical axis line at its left.
        let points = |l: &str| -> Vec<(f64, f64)> {
            let points = l.split("points=\"").nth(1).and_then(|p| p.split('"').next()).unwrap_or("");
            points
                .split_whitespace()
                .filter_map(|p| Some((p.split(',').next()?.parse().ok()?, p.split(',').nth(1)?.parse().ok()?)))
                .collect()
        };
        let axis = svg
            .split("<polyline")
            .map(points)
            .find(|p| p.len() == 2 && p[0].0 == p[1].0 && (p[0].1 - p[1].1).abs() > 30.0)
            .expect("the vertical axis");
        let (ys, middle) = (axis.clone(), (axis[0].1 + axis[1].1) / 2.0);
        assert!((attr(label, "y") - middle).abs() <= 2.0, "label at {} in a plot {ys:?}", attr(label, "y"));
        assert_eq!(svg.matches("<text").count(), 1 + 1 + 7 + 1, "label, note, 7 ticks, axis title: no stray text");
    }

    #[test]
    fn numbers_on_coloured_cells_contrast_with_them() {
        for palette in [&ORANGES[..], &BLUES[..]] {
            let map = DerivedColorMap::new(palette);
            for k in 0..=100 {
                let fill: RGBColor = map.get_color(f64::from(k) / 100.0);
                let ratio = contrast(fill, ink_on(fill));
                assert!(ratio >= 4.5, "{fill:?}: contrast {ratio:.2}");
            }
        }
        assert_eq!(ink_on(ORANGES[0]), BLACK);
        assert_eq!(ink_on(ORANGES[8]), WHITE);
        assert_eq!(ink_on(ORANGES[4]), BLACK, "mid orange is light: black reads better than white");
    }

    fn sample(at_s: u64, started: u64, wait_s: f64) -> Sample {
        Sample {
            at: SimTime::from_secs(at_s),
            occupancy: 0,
            entered: 0,
            left: 0,
            buyers: 0,
            sales: Cents::ZERO,
            queue_total: 0,
            open_lanes: 1,
            door_count: 0,
            lost_items: 0,
            queue_lengths: vec![0],
            queue_started: vec![started],
            queue_wait_s: vec![wait_s],
            picked_something: 0,
            members_identified: 0,
        }
    }

    #[test]
    fn mean_wait_over_a_span_is_the_wait_added_over_those_served() {
        let day = Day::new(8 * 3600, SimTime::from_secs(5400));
        let samples = [sample(0, 0, 0.0), sample(1800, 10, 100.0), sample(3600, 30, 500.0), sample(5400, 30, 500.0)];
        let spans = spans(&day, 1800);
        assert_eq!(spans.len(), 3);
        assert_eq!(mean_waits(&samples, &spans, 0), vec![Some(10.0), Some(20.0), None]);
        assert_eq!(day.hour_of(SimTime::from_secs(5400)), 9.5);
    }
}
