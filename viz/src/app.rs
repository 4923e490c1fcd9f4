//! The Bevy window: the store floor, shoppers, queues (checkout lanes, shared lines and
//! kiosks), lanes, devices and the heat overlay (dwell so far, or density now), with the
//! KPI panel and the ops team's controls (bevy_egui).
//!
//! Everything drawn comes from the latest [`Frame`] (an owned snapshot); everything done
//! goes out through [`Controls`]. The window holds no simulation state.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bevy::asset::RenderAssetUsages;
use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, Viewport};
use bevy::core_pipeline::tonemapping::DebandDither;
use bevy::image::ImageSampler;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll};
use bevy::prelude::*;
use bevy::render::render_resource::{BlendState, Extent3d, PipelineCache, TextureDimension, TextureFormat};
use bevy::render::view::Msaa;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::render::{Render, RenderApp, RenderPlugin, RenderSystems};
use bevy::sprite::Anchor;
use bevy::text::TextBackgroundColor;
use bevy::window::{PrimaryWindow, WindowResolution};
use bevy_egui::input::{egui_wants_any_keyboard_input, egui_wants_any_pointer_input};
use bevy_egui::{EguiContexts, EguiGlobalSettings, EguiPlugin, EguiPrimaryContextPass, PrimaryEguiContext, egui};
use crossbeam_channel::Receiver;
use storetwin_actors::chain::live::{ChainView, FlashCounts};
use storetwin_actors::store::floor::Floor;
use storetwin_actors::store::live::{Controls, Frame, Intervention, Snapshot};
use storetwin_actors::store::shopper::ShopperState;
use storetwin_actors::store::spec::{Cell, CellKind, WorldSpec};
use storetwin_actors::store::wire::WireSale;
use storetwin_engine::SimTime;

use crate::geometry::{CELL, Plan, View};
use crate::palette::{self, Rgb};
use crate::session::clock;
use storetwin_eventlog::atomic::write_atomic;

/// Speed steps of the `-`/`+` controls (sim seconds per wall second).
pub const SPEEDS: [f64; 12] = [1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1000.0, 3000.0, 10000.0];

/// Width of the right-hand panel and the least height of the bottom one, in logical
/// pixels. The bottom panel grows to fit the queue table, up to [`BOTTOM_SHARE`] of the
/// window's height (the table scrolls beyond that).
pub const SIDE_PANEL: f32 = 390.0;
pub const BOTTOM_PANEL: f32 = 240.0;
pub const BOTTOM_SHARE: f32 = 0.42;

/// What the heat overlay shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeatMode {
    #[default]
    Off,
    /// Shopper-seconds spent in each cell since opening (`Snapshot::heat`).
    Dwell,
    /// People in each cell now per m² (`Snapshot::crowd` over the cell's area), on a scale
    /// up to the most a cell holds.
    Density,
}

impl HeatMode {
    /// The `H` key's cycle: off → dwell → density → off.
    pub fn next(self) -> HeatMode {
        match self {
            HeatMode::Off => HeatMode::Dwell,
            HeatMode::Dwell => HeatMode::Density,
            HeatMode::Density => HeatMode::Off,
        }
    }

    /// As `--heat` spells it.
    pub fn name(self) -> &'static str {
        match self {
            HeatMode::Off => "off",
            HeatMode::Dwell => "dwell",
            HeatMode::Density => "density",
        }
    }
}

/// What the window is started with.
pub struct TwinApp {
    pub title: String,
    pub spec: WorldSpec,
    pub open_at_s: u32,
    pub scenario_name: String,
    pub replay: Option<PathBuf>,
    pub controls: Controls,
    pub frames: Receiver<Frame>,
    pub speed: f64,
    pub paused: bool,
    pub heat: HeatMode,
    pub size: (u32, u32),
    /// Save one frame here when the session ends, then exit.
    pub screenshot: Option<PathBuf>,
    /// The chain, when the store drawn is one of a live chain's (the panel's store picker
    /// switches between them).
    pub chain: Option<ChainInfo>,
    /// Side by side: `spec` is side A, this is side B.
    pub pair: Option<PairInfo>,
}

/// Two stores side by side: the scenarios' names and side B's spec.
#[derive(Clone, Debug)]
pub struct PairInfo {
    pub a_name: String,
    pub b_name: String,
    pub b_spec: WorldSpec,
}

/// A live chain's stores as the window draws them.
#[derive(Clone, Debug)]
pub struct ChainInfo {
    pub name: String,
    /// Every store's name and spec, in the chain's order.
    pub stores: Vec<WorldSpec>,
    /// The flash sale: its name and SKU (on the chain's catalogue).
    pub sale: Option<(String, u32)>,
}

#[derive(Resource)]
struct ChainStores(Option<ChainInfo>);

/// Part of one store's floor, on side 0 (the only one, or A) or 1 (B): despawned when the
/// window switches to another store.
#[derive(Component)]
struct FloorPart(u8);

/// Side B's scene, when two stores are drawn side by side.
#[derive(Resource)]
struct SceneB(Option<Scene>);

/// Cells between two floors side by side.
const PAIR_GAP: u16 = 4;

/// A place in the crowd at the flash sale's shelf (`position` counts from the first cell of
/// the sale's zone, each cell up to its capacity).
#[derive(Component)]
struct SaleDot(u32);

#[derive(Component)]
struct SaleLabel;

/// The link to the simulation: frames in, controls out.
#[derive(Resource)]
struct Link {
    controls: Controls,
    frames: Receiver<Frame>,
    replay: Option<PathBuf>,
}

/// The latest frame and what the window keeps of the past ones.
#[derive(Resource, Default)]
struct Latest {
    frame: Option<Frame>,
    frames_received: u64,
    /// The sim stopped sending (the day is over or the session stopped).
    done: bool,
}

impl Latest {
    /// The latest snapshot of side `side` (0 is the only store, or A; 1 is B).
    fn snap(&self, side: u8) -> Option<&Snapshot> {
        let frame = self.frame.as_ref()?;
        match side {
            0 => Some(&frame.snapshot),
            _ => frame.pair.as_ref().map(|p| &p.b),
        }
    }
}

/// The scene of side `side`.
fn scene_of<'a>(a: &'a Scene, b: &'a SceneB, side: u8) -> &'a Scene {
    match (side, &b.0) {
        (1, Some(b)) => b,
        _ => a,
    }
}

/// The scenario as the window draws it (read once at start).
#[derive(Resource)]
struct Scene {
    plan: Plan,
    store: String,
    scenario: String,
    open_at_s: u32,
    /// Sim time at closing.
    day_end: SimTime,
    lane_names: Vec<String>,
    /// The shared line each lane takes its shoppers from, if any.
    lane_lines: Vec<Option<usize>>,
    /// Cell of each lane.
    lane_cells: Vec<Cell>,
    /// For each queue (KPI order: own-queue lanes, then lines): its name and the cell its
    /// line of waiting shoppers grows up from.
    queues: Vec<(String, Cell, Option<usize>)>,
    devices: Vec<(String, usize, Cell)>,
    skus: Vec<(String, i64)>,
    categories: Vec<String>,
    cells: usize,
    /// Text on the floor: (label, centre in cells).
    signs: Vec<(String, (f32, f32))>,
    /// Floor width in cells (a cell's index is `y * width + x`).
    width: u16,
    /// Most people each cell holds (as the simulation computes it: 0 for walls and shelves).
    capacity: Vec<u16>,
    kiosks: Vec<Kiosk>,
    /// The kiosk whose queue stands in each cell, if any.
    kiosk_of_cell: Vec<Option<usize>>,
    /// The footprint each checkout queue (in `queues` order) and then each kiosk's queue
    /// stands in, and its name: where "densest cell" is when a queue fills it.
    footprints: Vec<(String, Vec<u32>)>,
    /// What each cell is otherwise, in words: its zone, lane or the floor.
    places: Vec<String>,
    /// The store's index in its chain (0 for a store on its own).
    index: usize,
    /// The flash sale's zone: the floor in front of its SKU's shelves (cell indices), and
    /// the sale's name.
    sale_cells: Vec<u32>,
    sale_name: Option<String>,
    /// 0, or 1 for side B.
    side: u8,
    /// The entity the floor's parts are children of, placed at the floor's centre.
    root: Entity,
    /// Side by side: "A: weekday.toml" above the floor.
    caption: Option<String>,
    /// World position of the floor's centre (the root's).
    origin: [f32; 2],
    /// What the camera fits (side A's scene): this floor, or both side by side.
    fit: Plan,
    /// The store's spec (names for the interventions listed).
    spec: std::sync::Arc<WorldSpec>,
}

/// A kiosk and its queue's footprint: the cells its queue fills, in order, each up to
/// its capacity (as `storetwin_actors::store::crowd` fills them).
struct Kiosk {
    cell: Cell,
    footprint: Vec<u32>,
}

#[derive(Resource)]
struct Ui {
    heat: HeatMode,
    speed: f64,
    paused: bool,
    sku: usize,
    price: f64,
    device: usize,
    device_kind: Option<usize>,
    /// Interventions sent: (sim time when sent, what).
    sent: Vec<(SimTime, String)>,
    /// Prices set in this session, by SKU.
    prices: HashMap<usize, i64>,
    /// Floor viewport in physical pixels (left, top, width, height), once the panels
    /// have been laid out.
    viewport: [f32; 4],
    viewport_known: bool,
    /// The camera fits the floor to the viewport until the user pans or zooms.
    fitted: bool,
    user_moved: bool,
    /// Height the queue table needs (title and rows), measured as it is laid out; the
    /// bottom panel grows to it.
    queue_table_h: f32,
    /// Side by side: what the controls act on.
    target: Target,
    /// A chain's store picker: the text its list is filtered by.
    store_filter: String,
}

/// Side by side, the side(s) an intervention is made on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    A,
    B,
    Both,
}

impl Target {
    /// The side whose floor the controls list (A's for both).
    fn side(self) -> u8 {
        u8::from(self == Target::B)
    }
}

#[derive(Resource)]
struct Handles {
    circle: Handle<Mesh>,
    shopper: Handle<ColorMaterial>,
    kiosk: Handle<ColorMaterial>,
    leaving: Handle<ColorMaterial>,
    served: Handle<ColorMaterial>,
    /// Each side's heat overlay.
    heat: Vec<Handle<Image>>,
}

#[derive(Component)]
struct Marker {
    target: Vec2,
    seen: u64,
}

#[derive(Component)]
struct LaneTile(usize);

#[derive(Component)]
struct DeviceIcon(usize);

#[derive(Component)]
struct QueueDot {
    queue: usize,
    place: u32,
}

/// A queue's count, kept just above its dots: (queue, world y of the first row).
#[derive(Component)]
struct QueueLabel(usize, f32);

/// One place in a kiosk's queue: `position` counts from the head as the simulation fills
/// the footprint (0 is the shopper at the kiosk).
#[derive(Component)]
struct KioskDot {
    kiosk: usize,
    position: u32,
}

/// The sign under a kiosk, with how many wait for it.
#[derive(Component)]
struct KioskLabel(usize);

#[derive(Component)]
struct HeatLayer;

#[derive(Component)]
struct FloorCamera;

/// Render frames in a row with no render pipeline waiting to be compiled (set by the
/// render world, read by the screenshot run). A slow machine can still be compiling the
/// floor's shaders when a short session ends; a frame drawn then shows the panels over
/// an empty floor, so the screenshot waits for this.
#[derive(Resource, Clone, Default)]
struct PipelinesReady(Arc<AtomicU32>);

/// Render frames in a row for which every pipeline has been compiled before a screenshot.
const READY_FRAMES: u32 = 3;
/// How long a screenshot run waits for the shaders before it gives up with an error.
const READY_TIMEOUT: Duration = Duration::from_secs(180);

fn count_ready_frames(cache: Res<PipelineCache>, ready: Res<PipelinesReady>) {
    if cache.waiting_pipelines().next().is_none() {
        ready.0.fetch_add(1, Ordering::Relaxed);
    } else {
        ready.0.store(0, Ordering::Relaxed);
    }
}

/// The screenshot run: wait for the last frame and the compiled shaders, let it render,
/// save, exit.
#[derive(Resource)]
struct Capture {
    path: PathBuf,
    /// Frames rendered since the last sim frame was applied.
    settle: u32,
    taken: bool,
    started: Instant,
    rendered: u64,
    /// When the first sim frame arrived, and frames rendered by then: the frame rate is
    /// measured from there (window creation and shader compilation excluded).
    first: Option<(Instant, u64)>,
    /// The longest time between two rendered frames after the first sim frame.
    worst_frame: Duration,
    last_frame: Option<Instant>,
    outcome: Option<Result<(), String>>,
}

/// Shoppers by side and id, to move their markers.
#[derive(Resource, Default)]
struct Shoppers(HashMap<(u8, u32), Entity>);

/// Draws at most this many dots per queue (the label gives the count).
const MAX_DOTS: u32 = 18;
/// Rows of dots per cell of a queue's line (two dots a row): 18 dots fill the three rows
/// of floor in front of a lane.
const ROWS_PER_CELL: f32 = 3.0;

fn colour(rgb: Rgb) -> Color {
    Color::srgb_u8(rgb[0], rgb[1], rgb[2])
}

fn egui_colour(rgb: Rgb) -> egui::Color32 {
    egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2])
}

impl TwinApp {
    /// Opens the window and runs until it is closed (or the screenshot is saved).
    pub fn run(self) -> AppExit {
        let floor = Floor::build(&self.spec.store);
        let index = self.controls.shown();
        let sale = self.chain.as_ref().and_then(|c| c.sale.as_ref());
        let mut scene = scene(&self.spec, &floor, self.open_at_s, &self.scenario_name, index, sale);
        let floor_image = floor_image(&floor, &scene);
        let heat_image = blank_image(&scene.plan);
        let scene_b = self.pair.as_ref().map(|p| {
            let floor_b = Floor::build(&p.b_spec.store);
            let mut b = self::scene(&p.b_spec, &floor_b, p.b_spec.open_at_s, &p.b_name, 0, None);
            b.side = 1;
            b.caption = Some(format!("B: {}", p.b_name));
            scene.caption = Some(format!("A: {}", p.a_name));
            let image = self::floor_image(&floor_b, &b);
            (b, image)
        });
        let (scene_b, floor_image_b) = match scene_b {
            Some((b, image)) => (Some(b), Some(image)),
            None => (None, None),
        };
        let mut app = App::new();
        app.insert_resource(ClearColor(colour(palette::BACKGROUND)))
            .add_plugins(
                DefaultPlugins
                    .set(WindowPlugin {
                        primary_window: Some(Window {
                            title: self.title.clone(),
                            resolution: WindowResolution::new(self.size.0, self.size.1).with_scale_factor_override(1.0),
                            ..default()
                        }),
                        ..default()
                    })
                    .set(bevy::log::LogPlugin {
                        filter: "warn,wgpu=error,naga=error,bevy_render=error,bevy_winit=error".into(),
                        ..default()
                    })
                    // A screenshot compiles each pipeline in the frame that needs it (a
                    // live window compiles them in the background, without a stall).
                    .set(RenderPlugin { synchronous_pipeline_compilation: self.screenshot.is_some(), ..default() }),
            )
            .add_plugins(EguiPlugin::default())
            .insert_resource(Link { controls: self.controls, frames: self.frames, replay: self.replay })
            .insert_resource(Latest::default())
            .insert_resource(Shoppers::default())
            .insert_resource(Ui {
                heat: self.heat,
                speed: self.speed,
                paused: self.paused,
                sku: 0,
                price: scene.skus.first().map_or(0.0, |s| s.1 as f64 / 100.0),
                device: 0,
                device_kind: None,
                sent: Vec::new(),
                prices: HashMap::new(),
                viewport: [0.0, 0.0, self.size.0 as f32, self.size.1 as f32],
                viewport_known: false,
                fitted: false,
                user_moved: false,
                queue_table_h: 0.0,
                target: Target::A,
                store_filter: String::new(),
            })
            .insert_resource(scene)
            .insert_resource(SceneB(scene_b))
            .insert_resource(ChainStores(self.chain))
            .insert_resource(FloorImages { floor: Some(floor_image), heat: Some(heat_image), floor_b: floor_image_b })
            .add_systems(Startup, setup)
            .add_systems(
                Update,
                (receive, switch_store, sync_shoppers, sync_lanes, sync_devices, sync_heat, sync_sale).chain(),
            )
            .add_systems(Update, (pan_zoom.run_if(not(egui_wants_any_pointer_input)), fit_camera))
            .add_systems(Update, keys.run_if(not(egui_wants_any_keyboard_input)))
            .add_systems(EguiPrimaryContextPass, panels);
        if let Some(path) = self.screenshot {
            let ready = PipelinesReady::default();
            if let Some(render) = app.get_sub_app_mut(RenderApp) {
                render
                    .insert_resource(ready.clone())
                    .add_systems(Render, count_ready_frames.in_set(RenderSystems::Cleanup));
            }
            app.insert_resource(ready)
                .insert_resource(Capture {
                    path,
                    settle: 0,
                    taken: false,
                    started: Instant::now(),
                    rendered: 0,
                    first: None,
                    worst_frame: Duration::ZERO,
                    last_frame: None,
                    outcome: None,
                })
                .add_systems(Last, capture);
        }
        app.run()
    }
}

#[derive(Resource)]
struct FloorImages {
    floor: Option<Image>,
    heat: Option<Image>,
    floor_b: Option<Image>,
}

fn scene(
    spec: &WorldSpec,
    floor: &Floor,
    open_at_s: u32,
    scenario: &str,
    index: usize,
    sale: Option<&(String, u32)>,
) -> Scene {
    let store = &spec.store;
    let sale_cells: Vec<u32> =
        sale.and_then(|(name, sku)| WireSale::of(spec, name, *sku)).map_or_else(Vec::new, |s| s.cells);
    let plan = Plan { width: floor.width, height: floor.height };
    let mut lane_cells = vec![Cell { x: 0, y: 0 }; store.lanes.len()];
    for cell in floor.cells() {
        if let CellKind::Lane(l) = floor.kind(cell) {
            lane_cells[usize::from(l.0)] = cell;
        }
    }
    let above = |c: Cell| Cell { x: c.x, y: c.y.saturating_sub(1) };
    let mut queues: Vec<(String, Cell, Option<usize>)> = store
        .lanes
        .iter()
        .enumerate()
        .filter(|(_, l)| l.line.is_none())
        .map(|(i, l)| (l.name.clone(), above(lane_cells[i]), Some(i)))
        .collect();
    for (index, _) in store.lines.iter().enumerate() {
        let members: Vec<Cell> = store
            .lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| l.line == Some(index as u16))
            .map(|(i, _)| lane_cells[i])
            .collect();
        let x = members.iter().map(|c| u32::from(c.x)).sum::<u32>() / members.len().max(1) as u32;
        let y = members.iter().map(|c| c.y).min().unwrap_or(1);
        let names: Vec<&str> =
            store.lanes.iter().filter(|l| l.line == Some(index as u16)).map(|l| l.name.as_str()).collect();
        let name = match (names.first(), names.last()) {
            (Some(a), Some(b)) if names.len() > 1 => format!("{a}–{b} line"),
            (Some(a), _) => format!("{a} line"),
            _ => format!("line {}", index + 1),
        };
        queues.push((name, above(Cell { x: x as u16, y }), None));
    }
    // The footprints the simulation's queues stand in (as `StoreWorld` builds them): each
    // own-queue lane, each shared line, each kiosk.
    let lane_sources = |l: usize| floor.lane_cells.get(l).cloned().unwrap_or_default();
    let mut footprints: Vec<(String, Vec<u32>)> = Vec::new();
    for (q, (name, _, lane)) in queues.iter().enumerate() {
        let sources: Vec<Cell> = match lane {
            Some(l) => lane_sources(*l),
            None => {
                let line = q - queues.iter().filter(|x| x.2.is_some()).count();
                (0..store.lanes.len())
                    .filter(|l| store.lanes[*l].line == Some(line as u16))
                    .flat_map(lane_sources)
                    .collect()
            }
        };
        let name = if lane.is_some() { format!("{name} queue") } else { name.clone() };
        footprints.push((name, floor.queue_footprint(&sources)));
    }
    let kiosks: Vec<Kiosk> = floor
        .kiosks
        .iter()
        .map(|(cell, _)| Kiosk { cell: *cell, footprint: floor.queue_footprint(&[*cell]) })
        .collect();
    let mut kiosk_of_cell = vec![None; floor.cell_count()];
    for (k, kiosk) in kiosks.iter().enumerate() {
        for &i in &kiosk.footprint {
            kiosk_of_cell[i as usize].get_or_insert(k);
        }
        let name = match floor.kiosks.get(k).and_then(|(_, d)| store.devices.get(usize::from(d.0))) {
            Some(d) if kiosks.len() > 1 => format!("{} queue", d.name),
            _ => "kiosk queue".to_string(),
        };
        footprints.push((name, kiosk.footprint.clone()));
    }
    let places = (0..floor.cell_count())
        .map(|i| match floor.zone_names.get(usize::from(floor.zone_of_index(i))) {
            Some(zone) => zone.clone(),
            None => match floor.kind(floor.cell_at(i)) {
                CellKind::Lane(l) => store.lanes[usize::from(l.0)].name.clone(),
                CellKind::Entrance => "entrance".to_string(),
                CellKind::Exit => "exit".to_string(),
                _ => "floor".to_string(),
            },
        })
        .collect();
    Scene {
        plan,
        store: store.name.clone(),
        scenario: scenario.to_string(),
        open_at_s,
        day_end: SimTime::ZERO.saturating_add(spec.duration),
        lane_names: store.lanes.iter().map(|l| l.name.clone()).collect(),
        lane_lines: store.lanes.iter().map(|l| l.line.map(usize::from)).collect(),
        lane_cells,
        queues,
        devices: store
            .devices
            .iter()
            .map(|d| {
                let kind = palette::DEVICE_KINDS.iter().position(|k| *k == d.kind.name()).unwrap_or(0);
                (d.name.clone(), kind, d.cell)
            })
            .collect(),
        skus: store.catalogue.iter().map(|s| (s.name.clone(), s.price.0)).collect(),
        categories: store.categories.iter().map(|c| c.name.clone()).collect(),
        cells: floor.cell_count(),
        signs: signs(floor),
        width: floor.width,
        capacity: floor.capacities(store.max_density_per_m2),
        kiosks,
        kiosk_of_cell,
        footprints,
        places,
        index,
        sale_name: sale.filter(|_| !sale_cells.is_empty()).map(|(name, _)| name.clone()),
        sale_cells,
        side: 0,
        // Spawned by `setup` (and kept by `switch_store`) before any part is.
        root: Entity::PLACEHOLDER,
        caption: None,
        origin: [0.0, 0.0],
        fit: plan,
        spec: std::sync::Arc::new(spec.clone()),
    }
}

/// Cell `i` in words: the queue standing in it now (its members fill its footprint from
/// the head, each cell up to its capacity, as the simulation counts them), else its zone.
fn place(scene: &Scene, snap: &Snapshot, i: usize) -> String {
    let kiosks = kiosk_counts(scene, snap);
    for (f, (name, cells)) in scene.footprints.iter().enumerate() {
        let members = match scene.queues.get(f) {
            Some((_, _, lane)) => {
                let serving = match lane {
                    Some(l) => usize::from(snap.lanes.get(*l).is_some_and(|v| v.serving)),
                    None => {
                        let line = f - scene.queues.iter().filter(|q| q.2.is_some()).count();
                        (0..scene.lane_lines.len())
                            .filter(|l| scene.lane_lines[*l] == Some(line))
                            .filter(|l| snap.lanes.get(*l).is_some_and(|v| v.serving))
                            .count()
                    }
                };
                snap.queues.get(f).map_or(0, |q| q.waiting as usize) + serving
            }
            None => kiosks.get(f - scene.queues.len()).map_or(0, |(at, waiting)| (*at + *waiting) as usize),
        };
        let mut left = members;
        for &c in cells {
            if left == 0 {
                break;
            }
            if c as usize == i {
                return name.clone();
            }
            left = left.saturating_sub(usize::from(scene.capacity[c as usize].max(1)));
        }
    }
    scene.places.get(i).cloned().unwrap_or_else(|| "floor".to_string())
}

/// Labels for the doors (one per run of adjacent door cells).
fn signs(floor: &Floor) -> Vec<(String, (f32, f32))> {
    let mut out = Vec::new();
    for (kind, text) in [(CellKind::Entrance, "IN"), (CellKind::Exit, "OUT")] {
        let mut run: Vec<Cell> = Vec::new();
        let mut flush = |run: &mut Vec<Cell>| {
            if let (Some(a), Some(b)) = (run.first(), run.last()) {
                out.push((text.to_string(), ((f32::from(a.x) + f32::from(b.x)) / 2.0, f32::from(a.y))));
            }
            run.clear();
        };
        for cell in floor.cells() {
            if floor.kind(cell) == kind {
                if run.last().is_some_and(|l| l.y != cell.y || l.x + 1 != cell.x) {
                    flush(&mut run);
                }
                run.push(cell);
            }
        }
        flush(&mut run);
    }
    out
}

fn cell_colour(kind: CellKind) -> Rgb {
    match kind {
        CellKind::Wall => palette::WALL,
        CellKind::Floor => palette::FLOOR,
        CellKind::Shelf(c) => palette::category(usize::from(c.0)),
        CellKind::Entrance => palette::ENTRANCE,
        CellKind::Exit => palette::EXIT,
        CellKind::Lane(_) => palette::LANE_BASE,
    }
}

/// The floor as a texture of one pixel per cell (drawn scaled, without smoothing).
fn floor_image(floor: &Floor, scene: &Scene) -> Image {
    let mut data = Vec::with_capacity(scene.cells * 4);
    for cell in floor.cells() {
        let [r, g, b] = cell_colour(floor.kind(cell));
        data.extend_from_slice(&[r, g, b, 255]);
    }
    texture(&scene.plan, data)
}

fn blank_image(plan: &Plan) -> Image {
    texture(plan, vec![0; usize::from(plan.width) * usize::from(plan.height) * 4])
}

fn texture(plan: &Plan, data: Vec<u8>) -> Image {
    let mut image = Image::new(
        Extent3d { width: u32::from(plan.width), height: u32::from(plan.height), depth_or_array_layers: 1 },
        TextureDimension::D2,
        data,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    );
    image.sampler = ImageSampler::nearest();
    image
}

#[allow(clippy::too_many_arguments, reason = "a Bevy system takes its resources as arguments")]
fn setup(
    mut commands: Commands,
    mut egui_settings: ResMut<EguiGlobalSettings>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
    mut images: ResMut<Assets<Image>>,
    mut pending: ResMut<FloorImages>,
    mut scene: ResMut<Scene>,
    mut scene_b: ResMut<SceneB>,
    ui: Res<Ui>,
) {
    // The floor camera draws into the viewport the panels leave; egui has its own camera
    // over the whole window.
    egui_settings.auto_create_primary_context = false;
    commands.spawn((Camera2d, FloorCamera, DebandDither::Disabled, Msaa::Off));
    commands.spawn((
        PrimaryEguiContext,
        Camera2d,
        Msaa::Off,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));

    let (floor_image, heat_image) = (pending.floor.take(), pending.heat.take());
    // Side by side, the floors sit left and right of the world's origin (or one above the
    // other, when that draws them larger), the gap between them.
    let window = (ui.viewport[2] - SIDE_PANEL, ui.viewport[3] - BOTTOM_PANEL);
    let [[x_a, y_a], [x_b, y_b]] = match &scene_b.0 {
        Some(b) => {
            let (origins, fit) = pair_layout(scene.plan, b.plan, window);
            scene.fit = fit;
            origins
        }
        None => [[0.0, 0.0], [0.0, 0.0]],
    };
    scene.root = commands.spawn((Transform::from_xyz(x_a, y_a, 0.0), Visibility::default())).id();
    scene.origin = [x_a, y_a];
    let mut heat = vec![spawn_floor(
        &mut commands,
        &mut meshes,
        &mut materials,
        &mut images,
        &scene,
        ui.heat,
        floor_image,
        heat_image,
    )];
    if let Some(b) = &mut scene_b.0 {
        b.root = commands.spawn((Transform::from_xyz(x_b, y_b, 0.0), Visibility::default())).id();
        b.origin = [x_b, y_b];
        let floor_b = pending.floor_b.take();
        heat.push(spawn_floor(&mut commands, &mut meshes, &mut materials, &mut images, b, ui.heat, floor_b, None));
    }
    commands.insert_resource(Handles {
        circle: meshes.add(Circle::new(CELL * 0.3)),
        shopper: materials.add(colour(palette::SHOPPER)),
        kiosk: materials.add(colour(palette::SHOPPER_KIOSK)),
        leaving: materials.add(colour(palette::SHOPPER_LEAVING)),
        served: materials.add(colour(palette::SHOPPER_SERVED)),
        heat,
    });
}

/// Where two floors `a` and `b` are drawn side by side (their centres, world units) and
/// the plan the camera fits: left and right, or A above B when that draws them larger in
/// a viewport of about `viewport` pixels. The gap leaves room for B's caption; the fit
/// has room for A's above it.
fn pair_layout(a: Plan, b: Plan, viewport: (f32, f32)) -> ([[f32; 2]; 2], Plan) {
    let (w, h) = (viewport.0.max(320.0), viewport.1.max(240.0));
    let beside = Plan { width: a.width + PAIR_GAP + b.width, height: a.height.max(b.height) + PAIR_GAP };
    let stacked = Plan { width: a.width.max(b.width), height: a.height + b.height + 2 * PAIR_GAP };
    let cells = |v: u16| f32::from(v) * CELL;
    if stacked.fit_scale(w, h) < beside.fit_scale(w, h) {
        let top = cells(stacked.height) / 2.0 - cells(PAIR_GAP);
        let ya = top - cells(a.height) / 2.0;
        let yb = top - cells(a.height) - cells(PAIR_GAP) - cells(b.height) / 2.0;
        ([[0.0, ya], [0.0, yb]], stacked)
    } else {
        let total = cells(beside.width);
        let y = -cells(PAIR_GAP) / 2.0;
        ([[(cells(a.width) - total) / 2.0, y], [(total - cells(b.width)) / 2.0, y]], beside)
    }
}

/// Spawns one store's floor (every entity a [`FloorPart`], a child of the scene's root)
/// and returns its heat overlay's image.
#[allow(clippy::too_many_arguments, reason = "the assets a floor is drawn with")]
fn spawn_floor(
    commands: &mut Commands,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<ColorMaterial>,
    images: &mut Assets<Image>,
    scene: &Scene,
    heat_mode: HeatMode,
    floor_image: Option<Image>,
    heat_image: Option<Image>,
) -> Handle<Image> {
    let plan = scene.plan;
    let size = Vec2::new(f32::from(plan.width), f32::from(plan.height)) * CELL;
    if let Some(image) = floor_image {
        let floor = images.add(image);
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            Sprite { image: floor, custom_size: Some(size), ..default() },
            Transform::default(),
        ));
    }
    let heat = images.add(heat_image.unwrap_or_else(|| blank_image(&plan)));
    commands.spawn((
        FloorPart(scene.side),
        ChildOf(scene.root),
        Sprite { image: heat.clone(), custom_size: Some(size), ..default() },
        Transform::from_xyz(0.0, 0.0, 1.0),
        HeatLayer,
        if heat_mode == HeatMode::Off { Visibility::Hidden } else { Visibility::Visible },
    ));

    let at = |c: Cell, z: f32| {
        let (x, y) = plan.world(f32::from(c.x), f32::from(c.y));
        Transform::from_xyz(x, y, z)
    };
    let label =
        |text: String, size: f32, rgb: Rgb| (Text2d::new(text), TextFont::from_font_size(size), TextColor(colour(rgb)));

    for (i, (name, cell)) in scene.lane_names.iter().zip(&scene.lane_cells).enumerate() {
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            Sprite::from_color(colour(palette::LANE_CLOSED), Vec2::splat(CELL * 0.9)),
            at(*cell, 2.0),
            LaneTile(i),
        ));
        let mut t = at(Cell { x: cell.x, y: cell.y + 1 }, 3.0);
        t.translation.y += CELL * 0.25;
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            label(name.clone(), 10.0, [0x57, 0x60, 0x6a]),
            t,
            Anchor::TOP_CENTER,
        ));
    }

    for (text, (x, y)) in &scene.signs {
        let (wx, wy) = plan.world(*x, *y);
        // Doors sit in the outer wall: their sign goes outside, light on the background.
        let (dy, anchor) =
            if *y < 1.0 { (CELL * 0.55, Anchor::BOTTOM_CENTER) } else { (-CELL * 0.55, Anchor::TOP_CENTER) };
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            label(text.clone(), 11.0, [0xe6, 0xed, 0xf3]),
            Transform::from_xyz(wx, wy + dy, 3.0),
            anchor,
        ));
    }
    // Counts and kiosk signs sit on a light plate above everything else on the floor, so a
    // shopper's dot never hides them.
    let plate = TextBackgroundColor(Color::srgba(1.0, 1.0, 1.0, 0.85));
    for (k, kiosk) in scene.kiosks.iter().enumerate() {
        let mut t = at(kiosk.cell, LABEL_Z);
        t.translation.y -= CELL * 0.55;
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            label(" kiosk ".into(), 11.0, [0x24, 0x29, 0x2f]),
            plate,
            t,
            Anchor::TOP_CENTER,
            KioskLabel(k),
        ));
    }

    let dot = meshes.add(Circle::new(CELL * 0.15));
    let queue = materials.add(colour(palette::QUEUE_DOT));
    for (q, (_, cell, _)) in scene.queues.iter().enumerate() {
        for place in 0..MAX_DOTS {
            let mut t = at(*cell, 4.0);
            t.translation.x += (place % 2) as f32 * CELL * 0.4 - CELL * 0.2;
            t.translation.y += (place / 2) as f32 * CELL / ROWS_PER_CELL - CELL * 0.3;
            commands.spawn((
                FloorPart(scene.side),
                ChildOf(scene.root),
                Mesh2d(dot.clone()),
                MeshMaterial2d(queue.clone()),
                t,
                Visibility::Hidden,
                QueueDot { queue: q, place },
            ));
        }
        let t = at(*cell, LABEL_Z);
        let base = t.translation.y;
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            label(String::new(), 12.0, [0x24, 0x29, 0x2f]),
            plate,
            t,
            Anchor::BOTTOM_CENTER,
            Visibility::Hidden,
            QueueLabel(q, base),
        ));
    }
    // A kiosk's queue: a small dot per place of its footprint, up to a 3 x 3 grid a cell,
    // shown for the places its waiting shoppers fill.
    let kiosk_queue = materials.add(colour(palette::KIOSK_QUEUE_DOT));
    let mut kiosk_dots: HashMap<u32, Handle<Mesh>> = HashMap::new();
    for (k, kiosk) in scene.kiosks.iter().enumerate() {
        let mut position = 0u32;
        for &i in &kiosk.footprint {
            let capacity = u32::from(scene.capacity[i as usize].max(1));
            let cell = Cell { x: (i % u32::from(scene.width)) as u16, y: (i / u32::from(scene.width)) as u16 };
            let (side, places) = cell_places(at(cell, 4.0), capacity);
            let mesh =
                kiosk_dots.entry(side).or_insert_with(|| meshes.add(Circle::new(kiosk_dot_radius(side)))).clone();
            for (slot, t) in (0..).zip(places) {
                commands.spawn((
                    FloorPart(scene.side),
                    ChildOf(scene.root),
                    Mesh2d(mesh.clone()),
                    MeshMaterial2d(kiosk_queue.clone()),
                    t,
                    Visibility::Hidden,
                    KioskDot { kiosk: k, position: position + slot },
                ));
            }
            position += capacity;
        }
    }

    for (i, (_, kind, cell)) in scene.devices.iter().enumerate() {
        // In the cell's top-right corner, leaving its centre to the shelf's colour.
        let mut t = at(*cell, 5.0);
        t.translation.x += CELL * 0.3;
        t.translation.y += CELL * 0.3;
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            Sprite::from_color(colour(palette::DEVICES[*kind]), Vec2::splat(CELL * 0.3)),
            t,
            DeviceIcon(i),
        ));
    }

    // The flash sale's zone: tinted, with a dot for each in-store shopper at the sale (up
    // to a 3 x 3 grid a cell), filled in the zone's order, and its sign.
    if !scene.sale_cells.is_empty() {
        let tint = Color::srgba(1.0, 0.55, 0.0, 0.35);
        let sale_dot = materials.add(colour(palette::SALE_DOT));
        let mut position = 0u32;
        let mut dots: HashMap<u32, Handle<Mesh>> = HashMap::new();
        for &i in &scene.sale_cells {
            let cell = Cell { x: (i % u32::from(scene.width)) as u16, y: (i / u32::from(scene.width)) as u16 };
            commands.spawn((
                FloorPart(scene.side),
                ChildOf(scene.root),
                Sprite::from_color(tint, Vec2::splat(CELL)),
                at(cell, 1.5),
            ));
            let capacity = u32::from(scene.capacity[i as usize].max(1));
            let (side, places) = cell_places(at(cell, 6.0), capacity);
            let mesh = dots.entry(side).or_insert_with(|| meshes.add(Circle::new(kiosk_dot_radius(side)))).clone();
            for (slot, t) in (0..).zip(places) {
                commands.spawn((
                    FloorPart(scene.side),
                    ChildOf(scene.root),
                    Mesh2d(mesh.clone()),
                    MeshMaterial2d(sale_dot.clone()),
                    t,
                    Visibility::Hidden,
                    SaleDot(position + slot),
                ));
            }
            position += capacity;
        }
        let top = scene.sale_cells.iter().map(|i| i / u32::from(scene.width)).min().unwrap_or(0);
        let row: Vec<u32> = scene
            .sale_cells
            .iter()
            .filter(|i| *i / u32::from(scene.width) == top)
            .map(|i| i % u32::from(scene.width))
            .collect();
        let x = row.iter().sum::<u32>() as f32 / row.len().max(1) as f32;
        let (wx, wy) = plan.world(x, top as f32);
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            label(String::new(), 12.0, [0x24, 0x29, 0x2f]),
            TextBackgroundColor(Color::srgba(1.0, 0.93, 0.80, 0.92)),
            Transform::from_xyz(wx, wy + CELL * 0.55, LABEL_Z),
            Anchor::BOTTOM_CENTER,
            SaleLabel,
        ));
    }

    // Side by side: which side this floor is, above it.
    if let Some(caption) = &scene.caption {
        commands.spawn((
            FloorPart(scene.side),
            ChildOf(scene.root),
            label(caption.clone(), CELL * 1.6, [0xe6, 0xed, 0xf3]),
            Transform::from_xyz(0.0, size.y / 2.0 + CELL * 1.2, LABEL_Z),
            Anchor::BOTTOM_CENTER,
        ));
    }
    heat
}

/// Above the shoppers (z 7): queue counts and kiosk signs.
const LABEL_Z: f32 = 9.0;

/// How a cell of a kiosk's queue draws its places: (dots drawn, grid side). Up to 3 x 3
/// dots; the places of a roomier cell beyond those are counted by the sign.
fn kiosk_grid(capacity: u32) -> (u32, u32) {
    let drawn = capacity.clamp(1, 9);
    let side = (1..=3).find(|s| s * s >= drawn).unwrap_or(3);
    (drawn, side)
}

/// Where a cell of `capacity` places draws its dots (up to a 3 x 3 grid: [`kiosk_grid`]),
/// from its centre `at`, and the grid's side.
fn cell_places(at: Transform, capacity: u32) -> (u32, Vec<Transform>) {
    let (drawn, side) = kiosk_grid(capacity);
    let places = (0..drawn)
        .map(|slot| {
            let (dx, dy) = kiosk_slot_offset(slot, side);
            let mut t = at;
            t.translation.x += dx;
            t.translation.y += dy;
            t
        })
        .collect();
    (side, places)
}

/// Where place `slot` of a `side` x `side` grid sits from its cell's centre (world units):
/// the centres of the cell's quarters (of a 2 x 2 grid), so a dot of [`kiosk_dot_radius`]
/// peeks out from under a walker's dot in the cell's centre, and leaves the centre and the
/// middle of the cell's edges free (where the density view's colour shows).
fn kiosk_slot_offset(slot: u32, side: u32) -> (f32, f32) {
    let step = 1.0 / side as f32;
    let at = |k: u32| (k as f32 + 0.5) * step - 0.5;
    (at(slot % side) * CELL, at(slot / side) * CELL)
}

/// Radius of the dots of a `side` x `side` grid of kiosk queue places, world units.
fn kiosk_dot_radius(side: u32) -> f32 {
    CELL * 0.26 / side.max(2) as f32
}

/// Takes every frame the simulation sent; keeps the newest.
fn receive(link: Res<Link>, mut latest: ResMut<Latest>) {
    let mut newest = None;
    loop {
        match link.frames.try_recv() {
            Ok(frame) => newest = Some(frame),
            Err(crossbeam_channel::TryRecvError::Empty) => break,
            // The simulation thread has ended (its outcome is reported on exit).
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                latest.done = true;
                break;
            }
        }
    }
    let Some(frame) = newest else { return };
    latest.frames_received += 1;
    if frame.status.done {
        latest.done = true;
    }
    latest.frame = Some(frame);
}

/// Draws the store the latest frame is of: when a live chain's frame is of another store
/// than the one drawn (the picker switched), that store's floor replaces this one.
#[allow(clippy::too_many_arguments, reason = "a Bevy system takes its resources as arguments")]
fn switch_store(
    mut commands: Commands,
    latest: Res<Latest>,
    chain: Res<ChainStores>,
    mut scene: ResMut<Scene>,
    mut ui: ResMut<Ui>,
    mut known: ResMut<Shoppers>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<ColorMaterial>>,
    mut images: ResMut<Assets<Image>>,
    mut handles: ResMut<Handles>,
    parts: Query<Entity, With<FloorPart>>,
) {
    let Some(chain) = &chain.0 else { return };
    let Some(view) = latest.frame.as_ref().and_then(|f| f.chain.as_ref()) else { return };
    let index = usize::from(view.store);
    if index == scene.index {
        return;
    }
    let Some(spec) = chain.stores.get(index) else { return };
    for e in &parts {
        commands.entity(e).despawn();
    }
    for (_, e) in known.0.drain() {
        commands.entity(e).despawn();
    }
    let floor = Floor::build(&spec.store);
    let mut next = self::scene(spec, &floor, spec.open_at_s, &scene.scenario, index, chain.sale.as_ref());
    next.root = scene.root;
    next.origin = scene.origin;
    let floor_image = floor_image(&floor, &next);
    *scene = next;
    let heat =
        spawn_floor(&mut commands, &mut meshes, &mut materials, &mut images, &scene, ui.heat, Some(floor_image), None);
    handles.heat[0] = heat;
    // The pickers' choices were the last store's.
    ui.sku = 0;
    ui.device = 0;
    ui.device_kind = None;
    ui.price = scene.skus.first().map_or(0.0, |s| s.1 as f64 / 100.0);
    ui.prices.clear();
    ui.fitted = false;
    ui.user_moved = false;
}

/// The crowd at the flash sale's shelf: a dot for each in-store shopper at the sale, and
/// its sign.
fn sync_sale(
    latest: Res<Latest>,
    scene: Res<Scene>,
    mut dots: Query<(&SaleDot, &mut Visibility)>,
    mut label: Query<&mut Text2d, With<SaleLabel>>,
) {
    if !latest.is_changed() {
        return;
    }
    let flash = latest.frame.as_ref().and_then(|f| f.chain.as_ref()).and_then(|c| c.flash.as_ref());
    let at_sale = flash.map_or(0, |f| f.desk.in_store);
    for (dot, mut vis) in &mut dots {
        vis.set_if_neq(if dot.0 < at_sale { Visibility::Visible } else { Visibility::Hidden });
    }
    if let (Ok(mut text), Some(name)) = (label.single_mut(), scene.sale_name.as_ref()) {
        let words = match flash {
            Some(f) if f.store.quota > 0 => format!(
                " FLASH {name}: {at_sale} shoppers here, {} of {} taken ",
                f.store.sold + f.store.reserved,
                f.store.quota
            ),
            _ => format!(" FLASH {name} "),
        };
        if text.0 != words {
            text.0 = words;
        }
    }
}

fn shopper_cell(scene: &Scene, cell: Cell) -> Vec2 {
    let (x, y) = scene.plan.world(f32::from(cell.x), f32::from(cell.y));
    Vec2::new(x, y)
}

/// Spawns, moves and removes shopper markers. Shoppers waiting in a checkout queue or a
/// kiosk's queue are drawn by their queue's dots instead.
#[allow(clippy::too_many_arguments, reason = "a Bevy system takes its resources as arguments")]
fn sync_shoppers(
    mut commands: Commands,
    latest: Res<Latest>,
    scene: Res<Scene>,
    scene_b: Res<SceneB>,
    handles: Res<Handles>,
    time: Res<Time>,
    capture: Option<Res<Capture>>,
    mut known: ResMut<Shoppers>,
    mut markers: Query<(&mut Marker, &mut Transform, &mut MeshMaterial2d<ColorMaterial>, &mut Visibility)>,
) {
    let stamp = latest.frames_received;
    let sides = if scene_b.0.is_some() { 2 } else { 1 };
    for side in 0..sides {
        if !latest.is_changed() {
            break;
        }
        let Some(snap) = latest.snap(side) else { continue };
        let scene = scene_of(&scene, &scene_b, side);
        for s in &snap.shoppers {
            // A shopper at a kiosk is drawn at it, the head of its queue, where the
            // simulation's crowd counts them (their own cell stays where they joined it).
            let cell = match s.state {
                ShopperState::AtKiosk => scene
                    .kiosk_of_cell
                    .get(usize::from(s.cell.y) * usize::from(scene.width) + usize::from(s.cell.x))
                    .copied()
                    .flatten()
                    .and_then(|k| scene.kiosks.get(k))
                    .map_or(s.cell, |k| k.cell),
                _ => s.cell,
            };
            let target = shopper_cell(scene, cell);
            let material = match s.state {
                ShopperState::AtKiosk | ShopperState::AwaitingPick => &handles.kiosk,
                ShopperState::Reneging => &handles.leaving,
                ShopperState::InService => &handles.served,
                _ => &handles.shopper,
            };
            let hidden = matches!(s.state, ShopperState::Queued | ShopperState::KioskQueued);
            match known.0.get(&(side, s.id.0)).and_then(|e| markers.get_mut(*e).ok()) {
                Some((mut m, _, mut mat, mut vis)) => {
                    m.target = target;
                    m.seen = stamp;
                    if mat.0 != *material {
                        mat.0 = material.clone();
                    }
                    vis.set_if_neq(if hidden { Visibility::Hidden } else { Visibility::Visible });
                }
                None => {
                    let e = commands
                        .spawn((
                            Mesh2d(handles.circle.clone()),
                            MeshMaterial2d(material.clone()),
                            Transform::from_xyz(target.x, target.y, 7.0),
                            Marker { target, seen: stamp },
                            if hidden { Visibility::Hidden } else { Visibility::Visible },
                            ChildOf(scene.root),
                        ))
                        .id();
                    known.0.insert((side, s.id.0), e);
                }
            }
        }
    }
    if latest.is_changed() && latest.frame.is_some() {
        known.0.retain(|_, e| match markers.get(*e) {
            Ok((m, ..)) if m.seen != stamp => {
                commands.entity(*e).despawn();
                false
            }
            _ => true,
        });
    }
    // Glide towards the target cell; a screenshot shows the exact cells.
    let snap = capture.is_some();
    let k = 1.0 - (-time.delta_secs() * 12.0).exp();
    for (m, mut t, ..) in &mut markers {
        let p = t.translation.truncate();
        let d = m.target - p;
        let next = if snap || d.length() > CELL * 6.0 { m.target } else { p + d * k };
        t.translation.x = next.x;
        t.translation.y = next.y;
    }
}

fn lane_colour(open: bool, down: bool) -> Rgb {
    if down {
        palette::LANE_DOWN
    } else if open {
        palette::LANE_OPEN
    } else {
        palette::LANE_CLOSED
    }
}

/// For each kiosk: shoppers at it (the head of its queue) and waiting for it. A shopper
/// belongs to the kiosk whose queue footprint holds their cell (else the first kiosk).
fn kiosk_counts(scene: &Scene, snap: &Snapshot) -> Vec<(u32, u32)> {
    let mut counts = vec![(0u32, 0u32); scene.kiosks.len()];
    if counts.is_empty() {
        return counts;
    }
    for s in &snap.shoppers {
        if !matches!(s.state, ShopperState::AtKiosk | ShopperState::KioskQueued) {
            continue;
        }
        let i = usize::from(s.cell.y) * usize::from(scene.width) + usize::from(s.cell.x);
        let k = scene.kiosk_of_cell.get(i).copied().flatten().unwrap_or(0);
        if s.state == ShopperState::AtKiosk {
            counts[k].0 += 1;
        } else {
            counts[k].1 += 1;
        }
    }
    counts
}

#[allow(clippy::type_complexity, reason = "a Bevy system's queries")]
#[allow(clippy::too_many_arguments, reason = "a Bevy system takes its resources as arguments")]
fn sync_lanes(
    latest: Res<Latest>,
    scene: Res<Scene>,
    scene_b: Res<SceneB>,
    mut tiles: Query<(&LaneTile, &FloorPart, &mut Sprite)>,
    mut dots: Query<(&QueueDot, &FloorPart, &mut Visibility), Without<KioskDot>>,
    mut labels: Query<
        (&QueueLabel, &FloorPart, &mut Text2d, &mut Transform, &mut Visibility),
        (Without<QueueDot>, Without<KioskDot>),
    >,
    mut kiosk_dots: Query<(&KioskDot, &FloorPart, &mut Visibility), (Without<QueueDot>, Without<QueueLabel>)>,
    mut kiosk_labels: Query<(&KioskLabel, &FloorPart, &mut Text2d), Without<QueueLabel>>,
) {
    if !latest.is_changed() || latest.frame.is_none() {
        return;
    }
    let snaps = [latest.snap(0), latest.snap(1)];
    for (tile, part, mut sprite) in &mut tiles {
        if let Some(l) = snaps[usize::from(part.0)].and_then(|s| s.lanes.get(tile.0)) {
            sprite.color = colour(lane_colour(l.open, l.down));
        }
    }
    for (dot, part, mut vis) in &mut dots {
        let waiting = snaps[usize::from(part.0)].and_then(|s| s.queues.get(dot.queue)).map_or(0, |q| q.waiting);
        vis.set_if_neq(if dot.place < waiting { Visibility::Visible } else { Visibility::Hidden });
    }
    for (label, part, mut text, mut t, mut vis) in &mut labels {
        let waiting = snaps[usize::from(part.0)].and_then(|s| s.queues.get(label.0)).map_or(0, |q| q.waiting);
        let s = if waiting > 0 { format!(" {waiting} ") } else { String::new() };
        if text.0 != s {
            text.0 = s;
        }
        vis.set_if_neq(if waiting > 0 { Visibility::Visible } else { Visibility::Hidden });
        let rows = waiting.min(MAX_DOTS).div_ceil(2) as f32;
        let y = label.1 + rows * CELL / ROWS_PER_CELL - CELL * 0.3 - CELL * 0.05;
        if t.translation.y != y {
            t.translation.y = y;
        }
    }
    // A kiosk's queue fills its footprint from the head, as the simulation counts it: the
    // shoppers at the kiosk first, then those waiting.
    let counts: Vec<Vec<(u32, u32)>> = (0..2u8)
        .map(|side| {
            snaps[usize::from(side)].map_or_else(Vec::new, |s| kiosk_counts(scene_of(&scene, &scene_b, side), s))
        })
        .collect();
    for (dot, part, mut vis) in &mut kiosk_dots {
        let (at, waiting) = counts[usize::from(part.0)].get(dot.kiosk).copied().unwrap_or((0, 0));
        let shown = dot.position >= at && dot.position < at + waiting;
        vis.set_if_neq(if shown { Visibility::Visible } else { Visibility::Hidden });
    }
    for (id, part, mut text) in &mut kiosk_labels {
        let waiting = counts[usize::from(part.0)].get(id.0).map_or(0, |c| c.1);
        let s = if waiting > 0 { format!(" kiosk: {waiting} waiting ") } else { " kiosk ".to_string() };
        if text.0 != s {
            text.0 = s;
        }
    }
}

fn sync_devices(
    latest: Res<Latest>,
    scene: Res<Scene>,
    scene_b: Res<SceneB>,
    mut icons: Query<(&DeviceIcon, &FloorPart, &mut Sprite)>,
) {
    if !latest.is_changed() {
        return;
    }
    for (icon, part, mut sprite) in &mut icons {
        let Some(snap) = latest.snap(part.0) else { continue };
        let up = snap.devices_up.get(icon.0).copied().unwrap_or(true);
        let kind = scene_of(&scene, &scene_b, part.0).devices[icon.0].1;
        let (rgb, size) = if up { (palette::DEVICES[kind], 0.3) } else { (palette::DEVICE_DOWN, 0.5) };
        sprite.color = colour(rgb);
        sprite.custom_size = Some(Vec2::splat(CELL * size));
    }
}

/// The dwell map's level of `v` shopper-seconds when the busiest cell has `max`: the
/// square root spreads the quiet cells (its scale says so).
fn dwell_level(v: f64, max: f64) -> f32 {
    if max > 0.0 { (v / max).clamp(0.0, 1.0).sqrt() as f32 } else { 0.0 }
}

/// The density view's level of a cell with `people` of `capacity`.
fn density_level(people: u16, capacity: u16) -> f32 {
    f32::from(people) / f32::from(capacity.max(1))
}

/// Redraws the heat overlay's texture from the latest frame: the dwell map at most four
/// times a second (it changes slowly), the density view with every frame; at once when
/// the mode changes or the session's last frame arrives (a screenshot shows that one).
fn sync_heat(
    latest: Res<Latest>,
    ui: Res<Ui>,
    handles: Res<Handles>,
    mut images: ResMut<Assets<Image>>,
    mut layer: Query<&mut Visibility, With<HeatLayer>>,
    mut drawn: Local<Option<(HeatMode, u64, Instant)>>,
) {
    for mut vis in &mut layer {
        vis.set_if_neq(if ui.heat == HeatMode::Off { Visibility::Hidden } else { Visibility::Visible });
    }
    if latest.frame.is_none() {
        return;
    }
    let stamp = latest.frames_received;
    let due = match *drawn {
        None => true,
        Some((mode, _, _)) if mode != ui.heat => true,
        Some((_, at, _)) if at == stamp => false,
        Some((_, _, when)) => {
            latest.done || ui.heat == HeatMode::Density || when.elapsed() >= Duration::from_millis(250)
        }
    };
    if ui.heat == HeatMode::Off || !due {
        return;
    }
    *drawn = Some((ui.heat, stamp, Instant::now()));
    // Side by side, both floors on one scale: the busiest cell of either.
    let max = heat_max(&latest);
    for (side, heat) in handles.heat.iter().enumerate() {
        let Some(snap) = latest.snap(side as u8) else { continue };
        let Some(mut image) = images.get_mut(heat) else { continue };
        let Some(data) = image.data.as_mut() else { continue };
        match ui.heat {
            HeatMode::Dwell => {
                for (i, v) in snap.heat.iter().enumerate().take(data.len() / 4) {
                    data[i * 4..i * 4 + 4].copy_from_slice(&palette::heat(dwell_level(*v, max)));
                }
            }
            HeatMode::Density => {
                let top = density_top(&latest);
                let area = snap.cell_area_m2.max(f64::MIN_POSITIVE);
                for (i, people) in snap.crowd.iter().enumerate().take(data.len() / 4) {
                    let level = match top {
                        Some(top) => (f64::from(*people) / area / top) as f32,
                        None => density_level(*people, snap.cell_capacity),
                    };
                    data[i * 4..i * 4 + 4].copy_from_slice(&palette::density(level));
                }
            }
            HeatMode::Off => {}
        }
    }
}

/// Side by side, when the floors' cells differ in size or in how many they hold: the
/// density view's top in people per m², the fuller of the two, so one colour is one
/// density on both floors. `None` when one scale per head count serves both.
fn density_top(latest: &Latest) -> Option<f64> {
    let (a, b) = (latest.snap(0)?, latest.frame.as_ref()?.pair.as_ref().map(|p| &p.b)?);
    let full = |s: &Snapshot| f64::from(s.cell_capacity.max(1)) / s.cell_area_m2.max(f64::MIN_POSITIVE);
    let same = a.cell_capacity == b.cell_capacity && (a.cell_area_m2 - b.cell_area_m2).abs() < 1e-9;
    (!same).then(|| full(a).max(full(b)))
}

/// The dwell map's top: the busiest cell's shopper-seconds, of both floors side by side.
fn heat_max(latest: &Latest) -> f64 {
    [latest.snap(0), latest.snap(1)].into_iter().flatten().flat_map(|s| s.heat.iter().copied()).fold(0.0, f64::max)
}

/// Fits the floor into its viewport until the user pans or zooms.
fn fit_camera(
    mut ui: ResMut<Ui>,
    scene: Res<Scene>,
    mut camera: Query<(&mut Camera, &mut Transform, &mut Projection), With<FloorCamera>>,
) {
    let Ok((mut camera, mut transform, mut projection)) = camera.single_mut() else { return };
    let [x, y, w, h] = ui.viewport;
    let viewport = Viewport {
        physical_position: UVec2::new(x as u32, y as u32),
        physical_size: UVec2::new(w.max(1.0) as u32, h.max(1.0) as u32),
        ..default()
    };
    if camera
        .viewport
        .as_ref()
        .is_none_or(|v| v.physical_position != viewport.physical_position || v.physical_size != viewport.physical_size)
    {
        camera.viewport = Some(viewport);
    }
    if ui.viewport_known && (!ui.fitted || !ui.user_moved) {
        if let Projection::Orthographic(o) = &mut *projection {
            o.scale = scene.fit.fit_scale(w, h);
        }
        transform.translation.x = 0.0;
        transform.translation.y = 0.0;
        ui.fitted = true;
        ui.user_moved = false;
    }
}

fn pan_zoom(
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    window: Query<&Window, With<PrimaryWindow>>,
    mut ui: ResMut<Ui>,
    mut camera: Query<(&mut Transform, &mut Projection), With<FloorCamera>>,
) {
    let Ok((mut transform, mut projection)) = camera.single_mut() else { return };
    let Projection::Orthographic(o) = &mut *projection else { return };
    let dragging = buttons.pressed(MouseButton::Left)
        || buttons.pressed(MouseButton::Right)
        || buttons.pressed(MouseButton::Middle);
    if dragging && motion.delta != Vec2::ZERO {
        transform.translation.x -= motion.delta.x * o.scale;
        transform.translation.y += motion.delta.y * o.scale;
        ui.user_moved = true;
    }
    if scroll.delta.y != 0.0 {
        ui.user_moved = true;
        let factor = (1.0 - scroll.delta.y.clamp(-5.0, 5.0) * 0.1).clamp(0.5, 2.0);
        // Zoom about the cursor: the world point under it stays put.
        if let Ok(w) = window.single()
            && let Some(cursor) = w.cursor_position()
        {
            let [vx, vy, vw, vh] = ui.viewport;
            let offset = Vec2::new(cursor.x - vx - vw / 2.0, -(cursor.y - vy - vh / 2.0));
            let before = transform.translation.truncate() + offset * o.scale;
            o.scale = (o.scale * factor).clamp(0.05, 20.0);
            let after = transform.translation.truncate() + offset * o.scale;
            transform.translation.x += before.x - after.x;
            transform.translation.y += before.y - after.y;
        } else {
            o.scale = (o.scale * factor).clamp(0.05, 20.0);
        }
    }
}

fn speed_step(current: f64, up: bool) -> f64 {
    if up {
        SPEEDS.iter().copied().find(|s| *s > current * 1.001).unwrap_or(SPEEDS[SPEEDS.len() - 1])
    } else {
        SPEEDS.iter().rev().copied().find(|s| *s < current * 0.999).unwrap_or(SPEEDS[0])
    }
}

fn keys(
    keys: Res<ButtonInput<KeyCode>>,
    mut link: ResMut<Link>,
    chain: Res<ChainStores>,
    scene: Res<Scene>,
    mut ui: ResMut<Ui>,
    mut camera: Query<&mut Transform, With<FloorCamera>>,
    mut exit: MessageWriter<AppExit>,
) {
    let ctrl = keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]);
    if ctrl && keys.just_pressed(KeyCode::KeyQ) {
        // Ends the session like closing the window: the log is written on the way out.
        exit.write(AppExit::Success);
    }
    if keys.just_pressed(KeyCode::Space) {
        toggle_pause(&link, &mut ui);
    }
    if keys.just_pressed(KeyCode::BracketRight) || keys.just_pressed(KeyCode::Equal) {
        let speed = speed_step(ui.speed, true);
        set_speed(&link, &mut ui, speed);
    }
    if keys.just_pressed(KeyCode::BracketLeft) || keys.just_pressed(KeyCode::Minus) {
        let speed = speed_step(ui.speed, false);
        set_speed(&link, &mut ui, speed);
    }
    if keys.just_pressed(KeyCode::KeyH) {
        ui.heat = ui.heat.next();
    }
    if let Some(n) = chain.0.as_ref().map(|c| c.stores.len()).filter(|n| *n > 0) {
        if keys.just_pressed(KeyCode::Period) {
            link.controls.show((scene.index + 1) % n);
        }
        if keys.just_pressed(KeyCode::Comma) {
            link.controls.show((scene.index + n - 1) % n);
        }
    }
    if keys.just_pressed(KeyCode::KeyD) {
        ui.heat = if ui.heat == HeatMode::Density { HeatMode::Off } else { HeatMode::Density };
    }
    if keys.just_pressed(KeyCode::Home) || keys.just_pressed(KeyCode::KeyF) {
        ui.fitted = false;
    }
    if let Ok(mut t) = camera.single_mut() {
        let step = CELL * 0.5;
        for (key, dx, dy) in [
            (KeyCode::ArrowLeft, -step, 0.0),
            (KeyCode::ArrowRight, step, 0.0),
            (KeyCode::ArrowUp, 0.0, step),
            (KeyCode::ArrowDown, 0.0, -step),
        ] {
            if keys.pressed(key) {
                ui.user_moved = true;
                t.translation.x += dx;
                t.translation.y += dy;
            }
        }
    }
}

fn toggle_pause(link: &Link, ui: &mut Ui) {
    ui.paused = !ui.paused;
    if ui.paused {
        link.controls.pause();
    } else {
        link.controls.resume();
    }
}

fn set_speed(link: &Link, ui: &mut Ui, speed: f64) {
    ui.speed = speed;
    link.controls.set_speed(speed);
}

/// Makes `what` (on the floor the controls list) and records it in the panel. Side by
/// side it is made on the side(s) picked; on both, B's lane, SKU or device is the one of
/// the same name, at the same sim time (B may have none: then A's alone).
fn intervene(link: &Link, ui: &mut Ui, latest: &Latest, sides: Sides<'_>, what: Intervention, text: String) {
    if link.replay.is_some() {
        return;
    }
    let at = latest.frame.as_ref().map_or(SimTime::ZERO, |f| f.snapshot.at);
    let Some(b) = sides.b else {
        if link.controls.intervene(what) {
            ui.sent.push((at, text));
        }
        return;
    };
    let (whats, side) = match ui.target {
        Target::A => (vec![(0, what)], "A".to_string()),
        Target::B => (vec![(1, what)], "B".to_string()),
        Target::Both => match translate(what, sides.a, b) {
            Some(on_b) => (vec![(0, what), (1, on_b)], "A+B".to_string()),
            None => (vec![(0, what)], "A (B has none)".to_string()),
        },
    };
    if link.controls.intervene_on(&whats) {
        ui.sent.push((at, format!("{side}: {text}")));
    }
}

/// The floors the window draws: the only one (or A), and B side by side.
#[derive(Clone, Copy)]
struct Sides<'a> {
    a: &'a Scene,
    b: Option<&'a Scene>,
}

impl<'a> Sides<'a> {
    fn of(a: &'a Scene, b: &'a SceneB) -> Sides<'a> {
        Sides { a, b: b.0.as_ref() }
    }

    /// The floor the controls list: B's when they act on B alone.
    fn control(&self, target: Target) -> &'a Scene {
        match (target, self.b) {
            (Target::B, Some(b)) => b,
            _ => self.a,
        }
    }
}

/// `what`, made on floor `from`, as the same change on floor `to`: its lane, SKU or
/// device of the same name.
fn translate(what: Intervention, from: &Scene, to: &Scene) -> Option<Intervention> {
    Some(match what {
        Intervention::SetLaneOpen { lane, open } => {
            let name = from.lane_names.get(usize::from(lane))?;
            let lane = to.lane_names.iter().position(|n| n == name)? as u16;
            Intervention::SetLaneOpen { lane, open }
        }
        Intervention::SetPrice { sku, cents } => {
            let name = &from.skus.get(sku as usize)?.0;
            let sku = to.skus.iter().position(|s| &s.0 == name)? as u32;
            Intervention::SetPrice { sku, cents }
        }
        Intervention::SetDeviceUp { device, up } => {
            let name = &from.devices.get(usize::from(device))?.0;
            let device = to.devices.iter().position(|d| &d.0 == name)? as u16;
            Intervention::SetDeviceUp { device, up }
        }
    })
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let whole = c / 100;
    let mut digits = whole.to_string();
    let mut i = digits.len() as isize - 3;
    while i > 0 {
        digits.insert(i as usize, ',');
        i -= 3;
    }
    format!("{sign}{digits}.{:02}", c % 100)
}

/// The KPI panel (right), the chart and queue table (bottom), and the controls.
#[allow(clippy::too_many_arguments, reason = "a Bevy system takes its resources as arguments")]
fn panels(
    mut contexts: EguiContexts,
    mut link: ResMut<Link>,
    chain: Res<ChainStores>,
    latest: Res<Latest>,
    scene: Res<Scene>,
    scene_b: Res<SceneB>,
    mut ui_state: ResMut<Ui>,
    capture: Option<Res<Capture>>,
    window: Query<&Window, With<PrimaryWindow>>,
) -> Result {
    let sides = Sides::of(&scene, &scene_b);
    let ctx = contexts.ctx_mut()?.clone();
    if ctx.theme() != egui::Theme::Light {
        ctx.set_theme(egui::Theme::Light);
    }
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.viewport_rect()),
    );
    let ui_state = &mut *ui_state;
    let panel_fill = egui::Color32::from_rgb(0xf6, 0xf8, 0xfa);
    let side = egui::Panel::right("kpis")
        .exact_size(SIDE_PANEL)
        .resizable(false)
        // The panels' fills part them from the floor; egui's separator line would also
        // run along the bottom panel's top into this one.
        .show_separator_line(false)
        .frame(egui::Frame::new().fill(panel_fill).inner_margin(12.0))
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                side_panel(ui, &mut link, chain.0.as_ref(), &latest, sides, ui_state, capture.as_deref())
            });
        })
        .response
        .rect;
    // Tall enough for every queue's row (measured last frame), within its share of the
    // window; the table scrolls beyond that.
    let window_h = window.single().map_or(900.0, |w| w.height());
    let bottom_h =
        (ui_state.queue_table_h + 2.0 * 10.0 + 4.0).clamp(BOTTOM_PANEL, (window_h * BOTTOM_SHARE).max(BOTTOM_PANEL));
    let bottom = egui::Panel::bottom("history")
        .exact_size(bottom_h)
        .resizable(false)
        .show_separator_line(false)
        .frame(egui::Frame::new().fill(panel_fill).inner_margin(10.0))
        .show(&mut root, |ui| {
            let height = ui.available_height();
            let side = if sides.b.is_some() { ui_state.target.side() } else { 0 };
            let shown = sides.control(ui_state.target);
            let snap = latest.snap(side);
            let title = match (&sides.b, &shown.caption) {
                (Some(_), Some(caption)) => format!("Last hour · {caption}"),
                _ => "Last hour".to_string(),
            };
            ui.horizontal_top(|ui| {
                if sides.b.is_some() {
                    zone_table(ui, &latest, height);
                } else {
                    chart(ui, snap, shown, &title, height);
                }
                ui.separator();
                queue_table(ui, &link, &latest, sides, ui_state, snap);
            });
        })
        .response
        .rect;
    let scale = window.single().map_or(1.0, |w| w.scale_factor());
    let width = window.single().map_or(0.0, |w| w.width());
    ui_state.viewport = [0.0, 0.0, (width - side.width()).max(1.0) * scale, (bottom.top()).max(1.0) * scale];
    ui_state.viewport_known = true;
    Ok(())
}

fn side_panel(
    ui: &mut egui::Ui,
    link: &mut Link,
    chain: Option<&ChainInfo>,
    latest: &Latest,
    sides: Sides<'_>,
    st: &mut Ui,
    capture: Option<&Capture>,
) {
    let scene = sides.a;
    let frame = latest.frame.as_ref();
    let view = frame.and_then(|f| f.chain.as_deref());
    let title = match (chain, sides.b) {
        (Some(c), _) => format!("{} — {}", scene.store, c.name),
        (None, Some(b)) => format!("{} vs {} — side by side", scene.scenario, b.scenario),
        (None, None) => format!("{} — store twin", scene.store),
    };
    ui.heading(egui::RichText::new(title).strong());
    let mode = match &link.replay {
        Some(p) => format!("REPLAY of {}", p.display()),
        None => "LIVE".to_string(),
    };
    match sides.b {
        Some(_) => ui.label(egui::RichText::new(format!("{mode} · the same shoppers on both floors")).small()),
        None => ui.label(egui::RichText::new(format!("{mode} · {}", scene.scenario)).small()),
    };
    if let Some(chain) = chain {
        store_picker(ui, link, chain, scene, &mut st.store_filter);
    }
    if let Some(broken) = view.and_then(|v| v.broken.as_ref()) {
        egui::Frame::new().fill(egui::Color32::from_rgb(0xff, 0xeb, 0xe9)).inner_margin(6.0).show(ui, |ui| {
            ui.colored_label(
                egui::Color32::from_rgb(0xcf, 0x22, 0x2e),
                egui::RichText::new("INVARIANT BROKEN — run stopped").strong(),
            );
            ui.label(egui::RichText::new(broken).small());
        });
    }
    ui.add_space(6.0);
    let at = frame.map_or(SimTime::ZERO, |f| f.snapshot.at);
    ui.label(egui::RichText::new(clock(scene.open_at_s, at)).size(34.0).monospace().strong());
    if let Some(f) = frame {
        let s = &f.status;
        let state = if latest.done && f.snapshot.at >= scene.day_end {
            "day over".to_string()
        } else if latest.done {
            "session ended".to_string()
        } else if s.paused {
            "paused".to_string()
        } else {
            format!("{}× real time", s.speed)
        };
        let lag = s.lag.as_secs_f64();
        let lag_text = if lag > 1.0 { format!("behind by {lag:.0} s sim") } else { "keeping up".to_string() };
        let lag_colour = if lag > 1.0 {
            egui::Color32::from_rgb(0xcf, 0x22, 0x2e)
        } else {
            egui::Color32::from_rgb(0x1a, 0x7f, 0x37)
        };
        ui.horizontal(|ui| {
            ui.label(state);
            ui.label("·");
            ui.colored_label(lag_colour, lag_text);
        });
        if let Some(c) = capture
            && let Some((since, before)) = c.first
        {
            let wall = since.elapsed().as_secs_f64();
            let fps = (c.rendered - before) as f64 / wall.max(1e-9);
            ui.label(egui::RichText::new(format!("screenshot run: {fps:.1} frames/s over {wall:.1} s")).small());
        }
    }
    ui.horizontal(|ui| {
        let label = if st.paused { "▶ Resume" } else { "⏸ Pause" };
        if ui.button(label).clicked() {
            toggle_pause(link, st);
        }
        if ui.button("−").on_hover_text("slower ([ or -)").clicked() {
            set_speed(link, st, speed_step(st.speed, false));
        }
        ui.label(format!("{}×", st.speed));
        if ui.button("+").on_hover_text("faster (] or +)").clicked() {
            set_speed(link, st, speed_step(st.speed, true));
        }
        for s in [1.0, 60.0, 1000.0] {
            if ui.selectable_label((st.speed - s).abs() < 1e-9, format!("{s}×")).clicked() {
                set_speed(link, st, s);
            }
        }
    });
    ui.horizontal(|ui| {
        ui.label("Overlay");
        for (mode, text, hint) in [
            (HeatMode::Off, "off", "no overlay (H cycles off, dwell, density)"),
            (HeatMode::Dwell, "dwell (H)", "shopper-seconds spent in each cell since opening"),
            (HeatMode::Density, "density (D)", "people per m² in each cell now"),
        ] {
            if ui.selectable_label(st.heat == mode, text).on_hover_text(hint).clicked() {
                st.heat = mode;
            }
        }
        if ui.button("Fit floor (F)").clicked() {
            st.fitted = false;
        }
    });
    if st.heat != HeatMode::Off {
        heat_scale(ui, st.heat, frame.map(|f| &f.snapshot), heat_max(latest), density_top(latest));
    }
    ui.separator();
    if let Some(view) = view {
        chain_sections(ui, scene, view);
        ui.separator();
    }
    if let Some(b) = sides.b {
        pair_sections(ui, latest, scene, b, st, link.replay.is_none());
    } else if let Some(f) = frame {
        let s = &f.snapshot;
        let waiting: u32 = s.queues.iter().map(|q| q.waiting).sum();
        let down = s.devices_up.iter().filter(|u| !**u).count();
        let conversion = if s.footfall > 0 { 100.0 * s.buyers as f64 / s.footfall as f64 } else { 0.0 };
        egui::Grid::new("kpis").num_columns(2).spacing([18.0, 4.0]).show(ui, |ui| {
            let row = |ui: &mut egui::Ui, name: &str, value: String, detail: Option<String>| {
                ui.label(name);
                ui.vertical(|ui| {
                    ui.label(egui::RichText::new(value).strong().size(16.0));
                    if let Some(d) = detail {
                        ui.label(egui::RichText::new(d).small());
                    }
                });
                ui.end_row();
            };
            row(ui, "Shoppers inside", s.shoppers.len().to_string(), None);
            row(ui, "Footfall (true)", s.footfall.to_string(), None);
            row(ui, "Footfall (door counters)", s.footfall_sensed.to_string(), None);
            row(ui, "Buyers · conversion", format!("{} · {conversion:.1}%", s.buyers), None);
            row(ui, "Sales", money(s.sales.0), None);
            row(ui, "Waiting to pay", waiting.to_string(), None);
            if !scene.kiosks.is_empty() {
                let at_kiosks: u32 = kiosk_counts(scene, s).iter().map(|c| c.1).sum();
                row(ui, "Waiting at kiosks", at_kiosks.to_string(), None);
            }
            // Crowding: the densest cell (the first of equals) and how many cells are full.
            let area = s.cell_area_m2.max(f64::MIN_POSITIVE);
            let densest = s.crowd.iter().enumerate().max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)));
            let people = densest.map_or(0, |(_, n)| *n);
            let place = densest.filter(|(_, n)| **n > 0).map(|(i, _)| {
                let (x, y) = (i % usize::from(scene.width), i / usize::from(scene.width));
                format!("{}, cell {x},{y}", place(scene, s, i))
            });
            row(ui, "Densest cell now", format!("{} people/m²", decimal(f64::from(people) / area)), place);
            let full = s.crowd.iter().filter(|n| **n > 0 && **n >= s.cell_capacity).count();
            let limit = f64::from(s.cell_capacity) / area;
            row(ui, "Cells full", full.to_string(), Some(format!("holding {} people/m²", decimal(limit))));
            row(ui, "Devices down", format!("{down} of {}", s.devices_up.len()), None);
        });
    } else {
        ui.label("waiting for the simulation…");
    }
    legend(ui, scene);
    ui.separator();

    if link.replay.is_some() {
        ui.label("Replay: the interventions are the log's; controls other than pause and speed are off.");
        return;
    }
    // The lists below are of the floor the controls act on.
    let scene = sides.control(st.target);
    ui.label(egui::RichText::new("Change a price").strong());
    ui.label(egui::RichText::new("The till at once; shelf labels through the ESLs, with their latency.").small());
    let sku_name = |i: usize| scene.skus.get(i).map_or(String::new(), |s| s.0.clone());
    egui::ComboBox::from_id_salt("sku").width(SIDE_PANEL - 40.0).selected_text(sku_name(st.sku)).show_ui(ui, |ui| {
        for (i, (name, cents)) in scene.skus.iter().enumerate() {
            let now = st.prices.get(&i).copied().unwrap_or(*cents);
            if ui.selectable_label(st.sku == i, format!("{name} ({})", money(now))).clicked() {
                st.sku = i;
                st.price = now as f64 / 100.0;
            }
        }
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::DragValue::new(&mut st.price)
                .speed(0.05)
                .range(0.0..=100_000.0)
                .fixed_decimals(2)
                .prefix("new price "),
        );
        if ui.button("Apply").clicked()
            && let Some((name, _)) = scene.skus.get(st.sku)
        {
            let cents = (st.price * 100.0).round() as i64;
            let what = Intervention::SetPrice { sku: st.sku as u32, cents };
            st.prices.insert(st.sku, cents);
            intervene(link, st, latest, sides, what, format!("price of {name} → {}", money(cents)));
        }
    });
    ui.add_space(6.0);
    ui.label(egui::RichText::new("Take a device offline").strong());
    let kinds = palette::DEVICE_KINDS;
    ui.horizontal_wrapped(|ui| {
        if ui.selectable_label(st.device_kind.is_none(), "all").clicked() {
            st.device_kind = None;
        }
        for (k, name) in kinds.iter().enumerate() {
            if scene.devices.iter().any(|d| d.1 == k) && ui.selectable_label(st.device_kind == Some(k), *name).clicked()
            {
                st.device_kind = Some(k);
                if let Some(first) = scene.devices.iter().position(|d| d.1 == k) {
                    st.device = first;
                }
            }
        }
    });
    let up = |i: usize| latest.frame.as_ref().and_then(|f| f.snapshot.devices_up.get(i).copied()).unwrap_or(true);
    let device_label = |i: usize| {
        scene
            .devices
            .get(i)
            .map_or(String::new(), |d| format!("{} ({}) {}", d.0, kinds[d.1], if up(i) { "up" } else { "DOWN" }))
    };
    egui::ComboBox::from_id_salt("device").width(SIDE_PANEL - 40.0).selected_text(device_label(st.device)).show_ui(
        ui,
        |ui| {
            for (i, d) in scene.devices.iter().enumerate() {
                if st.device_kind.is_none_or(|k| k == d.1)
                    && ui.selectable_label(st.device == i, device_label(i)).clicked()
                {
                    st.device = i;
                }
            }
        },
    );
    ui.horizontal(|ui| {
        let name = scene.devices.get(st.device).map_or(String::new(), |d| d.0.clone());
        if ui.button("Take offline").clicked() {
            let what = Intervention::SetDeviceUp { device: st.device as u16, up: false };
            intervene(link, st, latest, sides, what, format!("{name} offline"));
        }
        if ui.button("Bring online").clicked() {
            let what = Intervention::SetDeviceUp { device: st.device as u16, up: true };
            intervene(link, st, latest, sides, what, format!("{name} online"));
        }
    });
    if !st.sent.is_empty() && sides.b.is_none() {
        ui.add_space(6.0);
        ui.label(egui::RichText::new("Interventions (recorded)").strong());
        for (at, text) in st.sent.iter().rev().take(8) {
            ui.label(egui::RichText::new(format!("{}  {text}", clock(scene.open_at_s, *at))).small().monospace());
        }
    }
}

/// Side by side: what the controls act on, and B − A so far.
fn pair_sections(ui: &mut egui::Ui, latest: &Latest, a: &Scene, b: &Scene, st: &mut Ui, live: bool) {
    if live {
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("Act on").strong());
            for (target, text, hint) in [
                (Target::A, "A", a.caption.clone().unwrap_or_default()),
                (Target::B, "B", b.caption.clone().unwrap_or_default()),
                (Target::Both, "both", "both floors at once (B's lane, SKU or device of the same name)".to_string()),
            ] {
                if ui.selectable_label(st.target == target, text).on_hover_text(hint).clicked() && st.target != target {
                    st.target = target;
                    // The pickers list the other floor's lanes, SKUs and devices now.
                    let scene = if target == Target::B { b } else { a };
                    st.sku = 0;
                    st.device = 0;
                    st.device_kind = None;
                    st.price = scene.skus.first().map_or(0.0, |s| s.1 as f64 / 100.0);
                }
            }
        });
    }
    ui.add_space(4.0);
    let pair = latest.frame.as_ref().and_then(|f| f.pair.as_deref());
    let Some((kpis, at)) = pair.and_then(|p| p.kpis.as_deref().map(|k| (k, p.kpis_at))) else {
        ui.label("waiting for the simulation…");
        return;
    };
    ui.label(egui::RichText::new("B − A so far").strong().size(16.0));
    ui.label(
        egui::RichText::new(format!(
            "the day to {}: the KPIs storetwin compare compares, of this one replication",
            clock(a.open_at_s, at)
        ))
        .small(),
    );
    let inside = [latest.snap(0), latest.snap(1)].map(|s| s.map_or(0, |s| s.shoppers.len()) as f64);
    egui::Grid::new("pair").num_columns(4).spacing([10.0, 2.0]).striped(true).show(ui, |ui| {
        for h in ["", "A", "B", "B − A"] {
            ui.label(egui::RichText::new(h).small().strong());
        }
        ui.end_row();
        let cells = |ui: &mut egui::Ui, label: &str, a: String, b: String, d: String, tone: Option<bool>| {
            ui.label(egui::RichText::new(label).small());
            ui.label(egui::RichText::new(a).small().monospace());
            ui.label(egui::RichText::new(b).small().monospace());
            let colour = tone_colour(ui, tone);
            ui.label(egui::RichText::new(d).small().monospace().strong().color(colour));
            ui.end_row();
        };
        let d = inside[1] - inside[0];
        cells(ui, "shoppers inside now", decimal(inside[0]), decimal(inside[1]), signed(d, 0), None);
        for row in pair_rows(kpis).iter().filter(|r| r.info.subject.is_none()) {
            let [a, b, d] = row.written();
            cells(ui, &row.label, a, b, d, row.better());
        }
    });
    ui.label(egui::RichText::new("Each zone's dwell and density: the table below the floors.").small());
    let made = pair.map(|p| &p.interventions);
    if let Some(made) = made.filter(|m| m.iter().any(|side| !side.is_empty())) {
        ui.add_space(6.0);
        ui.label(egui::RichText::new("Interventions (recorded per side)").strong());
        for (label, (list, scene)) in ["A", "B"].iter().zip(made.iter().zip([a, b])) {
            for t in list.iter().rev().take(6) {
                let text = crate::session::describe_intervention(t, &scene.spec);
                ui.label(egui::RichText::new(format!("{label}  {text}")).small().monospace());
            }
        }
    }
}

/// Side by side, below the floors: each zone both floors have, its dwell per visitor and
/// its mean density (occupancy) so far, A, B and B − A.
fn zone_table(ui: &mut egui::Ui, latest: &Latest, height: f32) {
    let kpis = latest.frame.as_ref().and_then(|f| f.pair.as_deref()).and_then(|p| p.kpis.as_deref());
    ui.vertical(|ui| {
        ui.set_max_height(height);
        ui.label(egui::RichText::new("Zones so far: B − A").strong());
        let Some(kpis) = kpis else {
            ui.label("waiting for the simulation…");
            return;
        };
        let rows = pair_rows(kpis);
        let mut zones: Vec<&str> = Vec::new();
        for r in &rows {
            if let Some(z) = r.info.subject.as_deref()
                && !zones.contains(&z)
            {
                zones.push(z);
            }
        }
        egui::ScrollArea::vertical().id_salt("zones").auto_shrink([true, true]).show(ui, |ui| {
            egui::Grid::new("zone-table").num_columns(7).spacing([12.0, 3.0]).striped(true).show(ui, |ui| {
                for h in ["zone", "dwell per visitor (s): A", "B", "B − A", "mean density (people/m²): A", "B", "B − A"]
                {
                    ui.label(egui::RichText::new(h).small().strong());
                }
                ui.end_row();
                for zone in zones {
                    ui.label(zone);
                    for measure in ["].dwell_s", "].mean_density"] {
                        let row = rows.iter().find(|r| r.kpi == format!("zone[{zone}{measure}"));
                        match row {
                            Some(row) => {
                                let [a, b, d] = row.written();
                                ui.label(egui::RichText::new(a).monospace());
                                ui.label(egui::RichText::new(b).monospace());
                                ui.label(
                                    egui::RichText::new(d).monospace().strong().color(tone_colour(ui, row.better())),
                                );
                            }
                            None => {
                                for _ in 0..3 {
                                    ui.label("–");
                                }
                            }
                        }
                    }
                    ui.end_row();
                }
            });
        });
    });
}

/// Green for better, red for worse, the text's colour when neither.
fn tone_colour(ui: &egui::Ui, better: Option<bool>) -> egui::Color32 {
    match better {
        Some(true) => egui::Color32::from_rgb(0x1a, 0x7f, 0x37),
        Some(false) => egui::Color32::from_rgb(0xcf, 0x22, 0x2e),
        None => ui.visuals().text_color(),
    }
}

/// One KPI side by side: `storetwin compare`'s name for it, its unit, and the two values
/// (as `StoreKpis::flat` and the zones' dwell give them).
struct PairRow {
    kpi: String,
    label: String,
    info: storetwin_report::kpi::Kpi,
    a: f64,
    b: f64,
}

impl PairRow {
    /// A, B and B − A as the panel writes them (percent for fractions).
    fn written(&self) -> [String; 3] {
        let (s, d) = (self.info.unit.scale(), self.info.unit.default_decimals());
        // Big figures (a day's sales) without their fraction: the panel is narrow.
        let d = if self.a.abs().max(self.b.abs()) * s >= 10_000.0 { 0 } else { d };
        [
            storetwin_report::stats::fixed(self.a * s, d),
            storetwin_report::stats::fixed(self.b * s, d),
            signed((self.b - self.a) * s, d),
        ]
    }

    /// Whether B − A is better (`Some(true)`), worse, or neither way is good or bad.
    fn better(&self) -> Option<bool> {
        use storetwin_report::kpi::Better;
        let d = self.b - self.a;
        let (s, dec) = (self.info.unit.scale(), self.info.unit.default_decimals());
        if storetwin_report::stats::is_zero(&storetwin_report::stats::fixed(d * s, dec)) {
            return None;
        }
        match self.info.better {
            Better::Higher => Some(d > 0.0),
            Better::Lower => Some(d < 0.0),
            Better::Neither => None,
        }
    }
}

/// The KPIs the difference panel shows: footfall, buyers, sales, visit, waits and
/// abandonment, then each zone both floors have: dwell per visitor and mean density (its
/// occupancy), in `storetwin compare`'s order.
const PAIR_KEYS: [&str; 8] = [
    "footfall",
    "buyers",
    "sales",
    "mean_visit_s",
    "wait_mean_s",
    "wait_p90_s",
    "reneged",
    "crowd.slowed_s_per_shopper",
];

fn pair_rows(kpis: &[storetwin_actors::store::summary::StoreKpis; 2]) -> Vec<PairRow> {
    let shared = storetwin_report::kpi::shared_lines([&kpis[0], &kpis[1]]);
    let (fa, fb) = (storetwin_report::kpi::flat(&kpis[0]), storetwin_report::kpi::flat(&kpis[1]));
    let zone = |k: &str| k.starts_with("zone[") && (k.ends_with("].dwell_s") || k.ends_with("].mean_density"));
    let mut rows: Vec<PairRow> = fa
        .iter()
        .filter(|(k, _)| PAIR_KEYS.contains(&k.as_str()) || zone(k))
        .filter_map(|(k, a)| {
            let b = *fb.get(k)?;
            let info = storetwin_report::kpi::Kpi::of(k, &shared);
            Some(PairRow { kpi: k.clone(), label: info.label(), info, a: *a, b })
        })
        .collect();
    rows.sort_by(|x, y| x.info.listing_order(&y.info));
    rows
}

/// `v` with `d` decimals and its sign ("+3", "−2", "0").
fn signed(v: f64, d: usize) -> String {
    storetwin_report::stats::signed(v, d)
}

/// The chain's store picker: the store drawn (the run goes on; the next frame is of the
/// store picked). `,` and `.` step through the stores.
fn store_picker(ui: &mut egui::Ui, link: &mut Link, chain: &ChainInfo, scene: &Scene, filter: &mut String) {
    let n = chain.stores.len();
    let name = |i: usize| chain.stores.get(i).map_or(String::new(), |s| s.store.name.clone());
    let mut pick = None;
    ui.horizontal(|ui| {
        ui.label("Store");
        if ui.button("◀").on_hover_text("previous store (,)").clicked() {
            pick = Some((scene.index + n - 1) % n);
        }
        egui::ComboBox::from_id_salt("store")
            .width(SIDE_PANEL - 170.0)
            .selected_text(format!("{} ({} of {n})", name(scene.index), scene.index + 1))
            .show_ui(ui, |ui| {
                // A chain of a hundred stores: type part of a name to narrow the list.
                if n > 12 {
                    ui.add(egui::TextEdit::singleline(filter).hint_text("find a store").desired_width(f32::INFINITY));
                }
                let wanted = filter.trim().to_lowercase();
                for i in (0..n).filter(|i| wanted.is_empty() || name(*i).to_lowercase().contains(&wanted)) {
                    if ui.selectable_label(i == scene.index, name(i)).clicked() {
                        pick = Some(i);
                    }
                }
            });
        if ui.button("▶").on_hover_text("next store (.)").clicked() {
            pick = Some((scene.index + 1) % n);
        }
    });
    if let Some(i) = pick {
        link.controls.show(i);
    }
}

/// A progress bar of `taken` (sold + reserved) of `quota`, with the counts.
fn sell_through(ui: &mut egui::Ui, c: &FlashCounts) {
    let taken = c.sold + c.reserved;
    let share = if c.quota > 0 { taken as f32 / c.quota as f32 } else { 0.0 };
    let text = format!("{} sold + {} reserved = {taken} of {}", c.sold, c.reserved, c.quota);
    ui.add(
        egui::ProgressBar::new(share.clamp(0.0, 1.0))
            .desired_width(SIDE_PANEL - 175.0)
            .fill(egui_colour(palette::SALE_BAR))
            .text(egui::RichText::new(text).color(egui::Color32::BLACK).small()),
    );
}

/// The flash sale as it happens (this store and the chain) and the chain's work.
fn chain_sections(ui: &mut egui::Ui, scene: &Scene, view: &ChainView) {
    let row = |ui: &mut egui::Ui, name: &str, value: String| {
        ui.label(name);
        ui.label(egui::RichText::new(value).strong());
        ui.end_row();
    };
    if let Some(f) = &view.flash {
        ui.label(egui::RichText::new(format!("Flash sale {}", f.name)).strong().size(16.0));
        let start = clock(scene.open_at_s, f.start);
        ui.label(egui::RichText::new(format!("{} at {} from {}", f.sku, money(f.price.0), &start[..5])).small());
        egui::Grid::new("flash").num_columns(2).spacing([12.0, 3.0]).show(ui, |ui| {
            ui.label("This store");
            sell_through(ui, &f.store);
            ui.end_row();
            ui.label("Chain");
            sell_through(ui, &f.chain);
            ui.end_row();
            row(ui, "Grabs/s (last s)", format!("{} here · {} chain", f.store.grabs_last_s, f.chain.grabs_last_s));
            row(ui, "Stock holder", format!("{} calls queued · {} waitlisted", f.holder_queue, f.waitlist));
            row(ui, "Held here", format!("{} ({} expire in 1 min)", f.store.held, f.store.expiring));
            row(ui, "Held, chain", format!("{} ({} expire in 1 min)", f.chain.held, f.chain.expiring));
            row(ui, "Expired unpaid", format!("{} here · {} chain", f.store.expired, f.chain.expired));
            row(ui, "At the sale now", format!("{} in store · {} awaiting", f.desk.in_store, f.desk.waiting));
            row(
                ui,
                "Pickups here",
                format!("{} done · {} due · {} queueing", f.store.collected, f.store.to_collect, f.desk.at_counter),
            );
            if let Some(at) = f.sold_out_at {
                row(ui, "Sold out (chain)", clock(scene.open_at_s, at));
            }
        });
        ui.add_space(4.0);
    }
    ui.label(egui::RichText::new("Chain").strong());
    egui::Grid::new("chain").num_columns(2).spacing([12.0, 3.0]).show(ui, |ui| {
        let total: u64 = view.orders_by_channel.iter().map(|(_, n)| n).sum();
        row(ui, "Orders placed", format!("{total} ({} open)", view.orders_open));
        for (channel, n) in view.orders_by_channel.iter().filter(|(_, n)| *n > 0) {
            row(ui, &format!("   {}", channel.replace('_', " ")), n.to_string());
        }
        row(
            ui,
            "Pickers busy",
            format!(
                "{}/{} here · {}/{} chain",
                view.pickers_busy.0, view.pickers_busy.1, view.chain_pickers_busy.0, view.chain_pickers_busy.1
            ),
        );
        row(ui, "Coupons redeemed", view.coupons_redeemed.to_string());
    });
}

/// `v` with one decimal, or none when it is whole.
fn decimal(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// A count in a few characters: 950, 2k, 9.5k, 95k, 1.2M.
fn compact(v: f64) -> String {
    if v < 1000.0 {
        format!("{v:.0}")
    } else if v < 10_000.0 {
        format!("{}k", decimal((v / 100.0).round() / 10.0))
    } else if v < 1_000_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else {
        format!("{}M", decimal((v / 1e5).round() / 10.0))
    }
}

/// Ticks of the dwell scale up to the busiest cell's `max` shopper-seconds: 0, `max`, and
/// round values (1, 2, 5 times a power of ten) between, at their square-root places and
/// never closer than an eighth of the bar.
fn dwell_ticks(max: f64) -> Vec<(f32, f64)> {
    let mut ticks = vec![(0.0, 0.0)];
    if max.is_nan() || max <= 0.0 {
        return ticks;
    }
    let mut round = Vec::new();
    let mut power = 10f64.powf(max.log10().floor());
    while power >= 1.0 && round.len() < 12 {
        for m in [5.0, 2.0, 1.0] {
            if m * power < max {
                round.push(m * power);
            }
        }
        power /= 10.0;
    }
    let mut last = 1.0f32;
    let mut between = Vec::new();
    for v in round {
        let at = dwell_level(v, max);
        if last - at >= 0.125 && at >= 0.125 {
            between.push((at, v));
            last = at;
        }
    }
    ticks.extend(between.into_iter().rev());
    ticks.push((1.0, max));
    ticks
}

/// The heat overlay's colour scale with its units: the dwell map's square-root ramp up to
/// the busiest cell, or the density view's colour per head count up to a full cell.
fn heat_scale(ui: &mut egui::Ui, mode: HeatMode, snap: Option<&Snapshot>, dwell_max: f64, density_top: Option<f64>) {
    let text_colour = egui::Color32::from_rgb(0x57, 0x60, 0x6a);
    let font = egui::FontId::proportional(11.0);
    let width = ui.available_width().min(SIDE_PANEL - 30.0);
    let title = match mode {
        HeatMode::Dwell => "Dwell since opening: shopper-seconds per cell (square-root scale)".to_string(),
        HeatMode::Density => match snap {
            _ if density_top.is_some() => "Density now: people per m², both floors on one scale".to_string(),
            Some(s) => format!(
                "Density now: people per m² (a cell is {} m² and holds {})",
                decimal(s.cell_area_m2),
                s.cell_capacity
            ),
            None => "Density now: people per m²".to_string(),
        },
        HeatMode::Off => return,
    };
    ui.label(egui::RichText::new(title).small());
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 30.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let bar = egui::Rect::from_min_size(rect.left_top() + egui::vec2(6.0, 0.0), egui::vec2(width - 12.0, 12.0));
    let tick = |v: f32, label: String| {
        let x = bar.left() + v * bar.width();
        painter.line_segment([egui::pos2(x, bar.bottom()), egui::pos2(x, bar.bottom() + 3.0)], (1.0, text_colour));
        let galley = painter.layout_no_wrap(label, font.clone(), text_colour);
        let half = galley.size().x / 2.0;
        let centre = x.clamp(rect.left() + half, rect.right() - half);
        painter.galley(egui::pos2(centre - half, bar.bottom() + 4.0), galley, text_colour);
    };
    match mode {
        HeatMode::Dwell => {
            // The colour seen over the floor at each level; labels in shopper-seconds.
            let max = dwell_max;
            let steps = 64;
            for k in 0..steps {
                let (a, b) = (k as f32 / steps as f32, (k + 1) as f32 / steps as f32);
                let rgb = palette::over(palette::heat((a + b) / 2.0), palette::FLOOR);
                let r = egui::Rect::from_x_y_ranges(
                    bar.left() + a * bar.width()..=bar.left() + b * bar.width() + 0.5,
                    bar.y_range(),
                );
                painter.rect_filled(r, 0.0, egui_colour(rgb));
            }
            for (level, value) in dwell_ticks(max) {
                tick(level, compact(value));
            }
        }
        HeatMode::Density => {
            let (capacity, area) = snap.map_or((4, 1.0), |s| (s.cell_capacity.max(1), s.cell_area_m2));
            if capacity <= 10 && density_top.is_none() {
                // One swatch per head count, as the cells show them: 0 (the floor) to full.
                let n = usize::from(capacity) + 1;
                let w = bar.width() / n as f32;
                for people in 0..=capacity {
                    let left = bar.left() + f32::from(people) * w;
                    let r = egui::Rect::from_x_y_ranges(left + 1.0..=left + w - 1.0, bar.y_range());
                    let rgba = palette::density(density_level(people, capacity));
                    painter.rect_filled(r, 2.0, egui_colour(palette::over(rgba, palette::FLOOR)));
                    if people == 0 {
                        painter.rect_stroke(r, 2.0, (1.0, egui::Color32::from_gray(200)), egui::StrokeKind::Inside);
                    }
                    let label = decimal(f64::from(people) / area.max(f64::MIN_POSITIVE));
                    tick((f32::from(people) + 0.5) / n as f32, label);
                }
            } else {
                let steps = 64;
                for k in 0..steps {
                    let (a, b) = (k as f32 / steps as f32, (k + 1) as f32 / steps as f32);
                    let rgb = palette::over(palette::density((a + b) / 2.0), palette::FLOOR);
                    let r = egui::Rect::from_x_y_ranges(
                        bar.left() + a * bar.width()..=bar.left() + b * bar.width() + 0.5,
                        bar.y_range(),
                    );
                    painter.rect_filled(r, 0.0, egui_colour(rgb));
                }
                let top = density_top.unwrap_or(f64::from(capacity) / area.max(f64::MIN_POSITIVE));
                for level in [0.0f32, 0.25, 0.5, 0.75, 1.0] {
                    tick(level, decimal((f64::from(level) * top * 10.0).round() / 10.0));
                }
            }
        }
        HeatMode::Off => {}
    }
}

/// What the floor's colours mean.
fn legend(ui: &mut egui::Ui, scene: &Scene) {
    ui.add_space(4.0);
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 10.0;
        swatch(ui, palette::SHOPPER, Swatch::Dot, "shopping");
        swatch(ui, palette::SHOPPER_SERVED, Swatch::Dot, "paying");
        swatch(ui, palette::QUEUE_DOT, Swatch::SmallDot, "in a queue");
        swatch(ui, palette::SHOPPER_KIOSK, Swatch::Dot, "at a kiosk");
        if !scene.kiosks.is_empty() {
            swatch(ui, palette::KIOSK_QUEUE_DOT, Swatch::SmallDot, "waiting for a kiosk");
        }
        swatch(ui, palette::SHOPPER_LEAVING, Swatch::Dot, "giving up");
        swatch(ui, palette::LANE_OPEN, Swatch::Square, "lane open");
        swatch(ui, palette::LANE_CLOSED, Swatch::Square, "closed");
        swatch(ui, palette::LANE_DOWN, Swatch::Square, "down");
        swatch(ui, palette::DEVICE_DOWN, Swatch::Square, "device failed");
    });
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 10.0;
        for (i, name) in scene.categories.iter().enumerate() {
            swatch(ui, palette::category(i), Swatch::Square, &name.replace('_', " "));
        }
    });
}

#[derive(Clone, Copy)]
enum Swatch {
    /// A shopper's dot.
    Dot,
    /// A queue's dot.
    SmallDot,
    Square,
}

/// A legend entry: the swatch and its label as one widget, so a wrapping row never
/// separates them.
fn swatch(ui: &mut egui::Ui, rgb: Rgb, kind: Swatch, text: &str) {
    let font = egui::TextStyle::Small.resolve(ui.style());
    let galley = ui.painter().layout_no_wrap(text.to_string(), font, ui.visuals().text_color());
    let size = egui::vec2(11.0 + 4.0 + galley.size().x, galley.size().y.max(11.0));
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let centre = egui::pos2(rect.left() + 5.5, rect.center().y);
    let painter = ui.painter();
    match kind {
        Swatch::Dot | Swatch::SmallDot => {
            let r = if matches!(kind, Swatch::Dot) { 5.0 } else { 3.5 };
            painter.circle_filled(centre, r, egui_colour(rgb));
            painter.circle_stroke(centre, r, egui::Stroke::new(0.5, egui::Color32::GRAY));
        }
        Swatch::Square => {
            painter.rect_filled(egui::Rect::from_center_size(centre, egui::vec2(11.0, 11.0)), 2.0, egui_colour(rgb));
        }
    }
    let text_colour = ui.visuals().text_color();
    painter.galley(egui::pos2(rect.left() + 15.0, rect.center().y - galley.size().y / 2.0), galley, text_colour);
}

/// Shoppers inside and waiting to pay over the last hour.
fn chart(ui: &mut egui::Ui, snap: Option<&Snapshot>, scene: &Scene, title: &str, height: f32) {
    // At most 560 wide; in a narrow window, room for the queue table too.
    let width = (ui.available_width() * 0.45).clamp(320.0, 560.0);
    let size = egui::vec2(width, height - 4.0);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, egui::Color32::WHITE);
    let font = egui::FontId::proportional(12.0);
    let text_colour = egui::Color32::from_rgb(0x57, 0x60, 0x6a);
    painter.text(
        rect.left_top() + egui::vec2(8.0, 6.0),
        egui::Align2::LEFT_TOP,
        title,
        egui::FontId::proportional(14.0),
        egui::Color32::BLACK,
    );
    let inside_colour = egui_colour(palette::SHOPPER);
    let waiting_colour = egui_colour(palette::QUEUE_DOT);
    let key = painter.text(
        rect.right_top() + egui::vec2(-8.0, 6.0),
        egui::Align2::RIGHT_TOP,
        "— waiting to pay",
        font.clone(),
        waiting_colour,
    );
    painter.text(
        egui::pos2(key.left() - 14.0, key.top()),
        egui::Align2::RIGHT_TOP,
        "— shoppers inside",
        font.clone(),
        inside_colour,
    );
    // Room on the right for half of the last time label, centred on its tick.
    let plot = egui::Rect::from_min_max(
        rect.left_top() + egui::vec2(44.0, 28.0),
        rect.right_bottom() - egui::vec2(24.0, 22.0),
    );
    let Some(snap) = snap else { return };
    // The simulation's per-minute samples, and now.
    let waiting: u32 = snap.queues.iter().map(|q| q.waiting).sum();
    let now = (snap.at.as_secs_f64(), snap.shoppers.len() as f64, f64::from(waiting));
    let points: Vec<(f64, f64, f64)> = snap
        .last_hour
        .iter()
        .map(|(t, inside, waiting)| (t.as_secs_f64(), f64::from(*inside), f64::from(*waiting)))
        .filter(|p| p.0 < now.0)
        .chain(std::iter::once(now))
        .collect();
    let t1 = now.0.max(3600.0);
    let t0 = t1 - 3600.0;
    let max = points.iter().map(|p| p.1.max(p.2)).fold(10.0, f64::max);
    let nice = nice_ceiling(max);
    let x = |t: f64| plot.left() + ((t - t0) / 3600.0) as f32 * plot.width();
    let y = |v: f64| plot.bottom() - (v / nice) as f32 * plot.height();
    let grid = egui::Stroke::new(1.0, egui::Color32::from_gray(225));
    for i in 0..=4 {
        let v = nice * f64::from(i) / 4.0;
        painter.line_segment([egui::pos2(plot.left(), y(v)), egui::pos2(plot.right(), y(v))], grid);
        painter.text(
            egui::pos2(plot.left() - 6.0, y(v)),
            egui::Align2::RIGHT_CENTER,
            format!("{v:.0}"),
            font.clone(),
            text_colour,
        );
    }
    // Ticks on the store clock's quarter hours.
    let open = f64::from(scene.open_at_s);
    let first = ((t0 + open) / 900.0).ceil() * 900.0 - open;
    for i in 0..=4 {
        let t = first + 900.0 * f64::from(i);
        if t > t1 {
            break;
        }
        let label = clock(scene.open_at_s, SimTime::from_nanos((t.max(0.0) * 1e9) as u64));
        let galley = painter.layout_no_wrap(label[..5].to_string(), font.clone(), text_colour);
        // Centred on its tick, but never past the chart's edges.
        let half = galley.size().x / 2.0;
        let centre = x(t).clamp(rect.left() + half + 2.0, rect.right() - half - 2.0);
        painter.galley(egui::pos2(centre - half, plot.bottom() + 4.0), galley, text_colour);
    }
    let line = |pick: fn(&(f64, f64, f64)) -> f64, colour: egui::Color32| {
        let pts: Vec<egui::Pos2> = points.iter().map(|p| egui::pos2(x(p.0), y(pick(p)))).collect();
        painter.add(egui::Shape::line(pts, egui::Stroke::new(2.0, colour)));
    };
    line(|p| p.1, inside_colour);
    line(|p| p.2, waiting_colour);
}

fn nice_ceiling(v: f64) -> f64 {
    let magnitude = 10f64.powf(v.log10().floor());
    // Ceilings whose quarters are whole numbers (values start at 10).
    for step in [1.2, 2.0, 4.0, 6.0, 8.0, 10.0] {
        if step * magnitude >= v {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// Each queue: state, waiting now, the head's wait so far, the day's mean wait, and the
/// open/close control of its lanes.
fn queue_table(
    ui: &mut egui::Ui,
    link: &Link,
    latest: &Latest,
    sides: Sides<'_>,
    st: &mut Ui,
    snap: Option<&Snapshot>,
) {
    let scene = sides.control(st.target);
    ui.vertical(|ui| {
        let title = match (sides.b, &scene.caption) {
            (Some(_), Some(caption)) => format!("Checkout queues · {caption}"),
            _ => "Checkout queues".to_string(),
        };
        let title = ui.label(egui::RichText::new(title).strong()).rect.height();
        // A visible scroll bar when the window is too low for every row.
        ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
        let table = egui::ScrollArea::both().id_salt("queues").auto_shrink([false, true]).show(ui, |ui| {
            egui::Grid::new("queue-table").num_columns(6).spacing([14.0, 3.0]).striped(true).show(ui, |ui| {
                for h in ["queue", "lane", "waiting", "head waited", "mean wait today", ""] {
                    ui.label(egui::RichText::new(h).small().strong());
                }
                ui.end_row();
                for (q, (name, _, lane)) in scene.queues.iter().enumerate() {
                    let view = snap.and_then(|s| s.queues.get(q));
                    let lanes: Vec<usize> = match lane {
                        Some(l) => vec![*l],
                        None => {
                            let line = q - scene.queues.iter().filter(|x| x.2.is_some()).count();
                            (0..scene.lane_names.len()).filter(|i| scene.lane_lines[*i] == Some(line)).collect()
                        }
                    };
                    ui.label(name);
                    let states: Vec<(bool, bool)> = lanes
                        .iter()
                        .map(|l| snap.and_then(|s| s.lanes.get(*l)).map_or((false, false), |v| (v.open, v.down)))
                        .collect();
                    let open = states.iter().filter(|s| s.0 && !s.1).count();
                    let down = states.iter().filter(|s| s.1).count();
                    let (text, rgb) = match lane {
                        Some(_) if down > 0 => ("down".to_string(), palette::LANE_DOWN),
                        Some(_) if open > 0 => ("open".to_string(), palette::LANE_OPEN),
                        Some(_) => ("closed".to_string(), palette::LANE_CLOSED),
                        None => (
                            format!("{open} of {} open", lanes.len()),
                            if open > 0 { palette::LANE_OPEN } else { palette::LANE_CLOSED },
                        ),
                    };
                    ui.colored_label(egui_colour(rgb), text);
                    ui.label(view.map_or("–".into(), |v| v.waiting.to_string()));
                    ui.label(view.map_or("–".into(), |v| format!("{:.0} s", v.oldest_wait_s)));
                    ui.label(view.map_or("–".into(), |v| {
                        if v.served > 0 { format!("{:.0} s", v.mean_wait_s) } else { "–".into() }
                    }));
                    if link.replay.is_none() {
                        // A lane of its own: "open"/"close". A shared line's lanes: one chip
                        // each, in its lane's colour, that opens or closes it.
                        ui.horizontal_wrapped(|ui| {
                            ui.spacing_mut().item_spacing = egui::vec2(3.0, 2.0);
                            for l in &lanes {
                                let view = snap.and_then(|s| s.lanes.get(*l));
                                let is_open = view.is_some_and(|v| v.open);
                                let lane_name = &scene.lane_names[*l];
                                let verb = if is_open { "close" } else { "open" };
                                let clicked = if lanes.len() > 1 {
                                    let rgb = view.map_or(palette::LANE_CLOSED, |v| lane_colour(v.open, v.down));
                                    let chip = egui::Button::new(
                                        egui::RichText::new(lane_name).small().color(egui::Color32::WHITE),
                                    )
                                    .small()
                                    .fill(egui_colour(rgb));
                                    ui.add(chip).on_hover_text(format!("{verb} {lane_name}")).clicked()
                                } else {
                                    ui.small_button(verb).clicked()
                                };
                                if clicked {
                                    let what = Intervention::SetLaneOpen { lane: *l as u16, open: !is_open };
                                    intervene(link, st, latest, sides, what, format!("{verb} lane {lane_name}"));
                                }
                            }
                        });
                    } else {
                        ui.label("");
                    }
                    ui.end_row();
                }
            });
        });
        st.queue_table_h = title + ui.spacing().item_spacing.y + table.content_size.y;
    });
}

/// Waits for the session's last frame, lets it render, saves the window, then exits.
#[allow(clippy::too_many_arguments, reason = "a Bevy system takes its resources as arguments")]
fn capture(
    mut commands: Commands,
    mut state: ResMut<Capture>,
    latest: Res<Latest>,
    ui: Res<Ui>,
    scene: Res<Scene>,
    scene_b: Res<SceneB>,
    ready: Res<PipelinesReady>,
    mut exit: MessageWriter<AppExit>,
    camera: Query<(&Transform, &Projection), With<FloorCamera>>,
) {
    state.rendered += 1;
    let now = Instant::now();
    if state.first.is_none() && latest.frame.is_some() {
        state.first = Some((now, state.rendered));
    }
    if state.first.is_some() && !state.taken {
        if let Some(last) = state.last_frame {
            state.worst_frame = state.worst_frame.max(now - last);
        }
        state.last_frame = Some(now);
    }
    if let Some(outcome) = state.outcome.take() {
        match outcome {
            Ok(()) => exit.write(AppExit::Success),
            Err(e) => {
                eprintln!("error: {e}");
                exit.write(AppExit::error())
            }
        };
        return;
    }
    if !state.taken && latest.done && latest.frame.is_none() {
        state.outcome = Some(Err("the simulation ended before it sent a frame".to_string()));
        return;
    }
    if state.taken || !latest.done {
        return;
    }
    // A few frames for the last snapshot to reach the GPU and the panels to lay out (and
    // the floor camera to fit the viewport they leave), counted once the panels have been
    // laid out and every shader compiled: a session that ends while the window is still
    // starting waits for them.
    // (A pipeline first needed meanwhile starts the count again.)
    if ready.0.load(Ordering::Relaxed) < READY_FRAMES {
        state.settle = 0;
        if state.started.elapsed() > READY_TIMEOUT {
            state.outcome = Some(Err(format!(
                "the floor's shaders were still compiling after {} s; no screenshot taken",
                READY_TIMEOUT.as_secs()
            )));
        }
        return;
    }
    if ui.viewport_known && ui.fitted {
        state.settle += 1;
    }
    if state.settle < 6 {
        return;
    }
    state.taken = true;
    let view = camera.single().ok().and_then(|(t, p)| match p {
        Projection::Orthographic(o) => {
            Some(View { viewport: ui.viewport, centre: [t.translation.x, t.translation.y], scale: o.scale })
        }
        _ => None,
    });
    let path = state.path.clone();
    let (since, frames_before) = state.first.unwrap_or((state.started, 0));
    let wall = since.elapsed().as_secs_f64();
    let rendered = state.rendered - frames_before;
    let worst_ms = state.worst_frame.as_secs_f64() * 1000.0;
    let status = latest.frame.as_ref().map(|f| f.status);
    let heat = ui.heat.name();
    let chain = latest.frame.as_ref().and_then(|f| f.chain.as_deref()).map(|c| {
        let counts = |f: &FlashCounts| {
            serde_json::json!({
                "sold": f.sold, "reserved": f.reserved, "quota": f.quota, "grabs": f.grabs,
                "grabs_last_s": f.grabs_last_s, "held": f.held, "expiring": f.expiring,
                "expired": f.expired, "collected": f.collected,
            })
        };
        serde_json::json!({
            "store": c.store,
            "broken": c.broken,
            "flash": c.flash.as_ref().map(|f| serde_json::json!({
                "name": f.name,
                "store": counts(&f.store),
                "chain": counts(&f.chain),
                "in_store": f.desk.in_store,
                "holder_queue": f.holder_queue,
            })),
        })
    });
    let at_ns = latest.frame.as_ref().map(|f| f.snapshot.at.as_nanos());
    // The dwell overlay's top (side by side: of both floors).
    let dwell_max = heat_max(&latest);
    // Where each floor is drawn (its centre in world units and its size in cells), and
    // side by side the difference panel's figures, unrounded.
    let floors: Vec<serde_json::Value> = std::iter::once(&*scene)
        .chain(scene_b.0.as_ref())
        .map(|s| serde_json::json!({ "origin": s.origin, "width": s.plan.width, "height": s.plan.height }))
        .collect();
    let pair = latest.frame.as_ref().and_then(|f| f.pair.as_deref()).and_then(|p| {
        let kpis = p.kpis.as_deref()?;
        let rows: Vec<serde_json::Value> = pair_rows(kpis)
            .iter()
            .map(|r| serde_json::json!({ "kpi": r.kpi, "label": r.label, "a": r.a, "b": r.b, "diff": r.b - r.a }))
            .collect();
        Some(serde_json::json!({ "kpis_at_ns": p.kpis_at.as_nanos(), "rows": rows }))
    });
    commands.spawn(Screenshot::primary_window()).observe(
        move |shot: On<ScreenshotCaptured>, mut state: ResMut<Capture>| {
            let result = save_png(&shot.image, &path).and_then(|()| {
                let meta = serde_json::json!({
                    "view": view,
                    "heat": heat,
                    "frames_rendered": rendered,
                    "wall_s": wall,
                    "fps": rendered as f64 / wall.max(1e-9),
                    "worst_frame_ms": worst_ms,
                    "speed": status.map(|s| s.speed),
                    "max_lag_s": status.map(|s| s.max_lag.as_secs_f64()),
                    "events": status.map(|s| s.events),
                    "at_ns": at_ns,
                    "chain": chain,
                    "floors": floors,
                    "pair": pair,
                    "dwell_max": dwell_max,
                });
                let json = serde_json::to_vec_pretty(&meta).map_err(|e| e.to_string())?;
                write_atomic(&path.with_extension("json"), |w| w.write_all(&json)).map_err(|e| e.to_string())
            });
            state.outcome = Some(result);
        },
    );
}

fn save_png(image: &Image, path: &std::path::Path) -> Result<(), String> {
    let dynamic = image.clone().try_into_dynamic().map_err(|e| format!("cannot read the frame: {e}"))?;
    let rgb = dynamic.to_rgb8();
    let mut bytes = Vec::new();
    rgb.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the PNG: {e}"))?;
    write_atomic(path, |w| w.write_all(&bytes)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dwell_ticks_are_round_ordered_and_apart() {
        let ticks = dwell_ticks(40_123.0);
        let values: Vec<f64> = ticks.iter().map(|t| t.1).collect();
        assert_eq!(values, [0.0, 2000.0, 5000.0, 10_000.0, 20_000.0, 40_123.0]);
        assert!(ticks.windows(2).all(|w| w[1].0 - w[0].0 >= 0.125), "{ticks:?}");
        assert!(ticks.iter().all(|(at, v)| (at - dwell_level(*v, 40_123.0)).abs() < 1e-6));
        assert_eq!(dwell_ticks(0.0), [(0.0, 0.0)]);
        assert_eq!(dwell_ticks(3.0).last(), Some(&(1.0, 3.0)));
    }

    #[test]
    fn kiosk_places_fill_a_grid_that_leaves_the_centre_free() {
        assert_eq!(kiosk_grid(4), (4, 2));
        assert_eq!(kiosk_grid(1), (1, 1));
        assert_eq!(kiosk_grid(16), (9, 3));
        // A cell of four: a dot in the middle of each quarter. Its centre is outside a
        // walker's dot (radius 0.3 cell) and it keeps clear of the cell's centre and of the
        // middle of its edges.
        let r = kiosk_dot_radius(2);
        for slot in 0..4 {
            let (dx, dy) = kiosk_slot_offset(slot, 2);
            assert!((dx.abs() - 0.25 * CELL).abs() < 1e-4 && (dy.abs() - 0.25 * CELL).abs() < 1e-4);
            assert!(dx.hypot(dy) > 0.3 * CELL);
            assert!(dx.hypot(dy) - r > 0.0 && (dx.abs() - 0.42 * CELL).hypot(dy) > r);
        }
        let offsets: std::collections::BTreeSet<(i32, i32)> = (0..4)
            .map(|s| kiosk_slot_offset(s, 2))
            .map(|(x, y)| ((x * 10.0).round() as i32, (y * 10.0).round() as i32))
            .collect();
        assert_eq!(offsets.len(), 4);
    }

    #[test]
    fn both_sides_act_on_the_lane_sku_or_device_of_the_same_name() {
        let load = |name: &str| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
            let spec = crate::session::load_scenario(&path).expect("a bundled scenario").world;
            let floor = Floor::build(&spec.store);
            scene(&spec, &floor, spec.open_at_s, name, 0, None)
        };
        let (a, b) = (load("weekday.toml"), load("holiday-peak.toml"));
        for (l, name) in a.lane_names.iter().enumerate() {
            let on_b = translate(Intervention::SetLaneOpen { lane: l as u16, open: true }, &a, &b);
            let expected = b.lane_names.iter().position(|n| n == name).map(|i| i as u16);
            assert_eq!(on_b, expected.map(|lane| Intervention::SetLaneOpen { lane, open: true }), "{name}");
        }
        // holiday-peak has lanes weekday has not: those are A's alone the other way round.
        let only_b = b.lane_names.iter().position(|n| !a.lane_names.contains(n)).expect("a lane only B has");
        assert_eq!(translate(Intervention::SetLaneOpen { lane: only_b as u16, open: true }, &b, &a), None);
        let sku = a.skus.len() as u32 - 1;
        let on_b = translate(Intervention::SetPrice { sku, cents: 5 }, &a, &b);
        let name = &a.skus[sku as usize].0;
        assert_eq!(
            on_b.map(|w| match w {
                Intervention::SetPrice { sku, .. } => b.skus[sku as usize].0.clone(),
                _ => String::new(),
            }),
            Some(name.clone())
        );
        let device = Intervention::SetDeviceUp { device: 0, up: false };
        assert_eq!(translate(device, &a, &a), Some(device));
    }

    #[test]
    fn heat_mode_cycles_off_dwell_density() {
        assert_eq!(HeatMode::Off.next(), HeatMode::Dwell);
        assert_eq!(HeatMode::Dwell.next(), HeatMode::Density);
        assert_eq!(HeatMode::Density.next(), HeatMode::Off);
        assert_eq!(density_level(3, 4), 0.75);
        assert_eq!(density_level(1, 0), 1.0);
    }

    #[test]
    fn numbers_on_the_scales_are_short() {
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(2000.0), "2k");
        assert_eq!(compact(9_540.0), "9.5k");
        assert_eq!(compact(40_123.0), "40k");
        assert_eq!(compact(1_234_567.0), "1.2M");
        assert_eq!(decimal(4.0), "4");
        assert_eq!(decimal(2.777), "2.8");
    }
}
