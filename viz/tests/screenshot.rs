//! The twin's window, rendered for real under Xvfb (software Vulkan from Mesa): a
//! screenshot of the weekday store at 11:00 shows the plan's shelves in their colours,
//! the shoppers where the simulation has them, and a filled KPI panel; at noon the
//! density view draws the crowded cells in its scale's high colours and the kiosk's queue
//! where the simulation counts it; a `storetwin run` event log plays back in the window
//! to the identical run.
//!
//! Needs Xvfb and Mesa's Vulkan driver (`apt-get install xvfb mesa-vulkan-drivers`; CI's
//! `.ci/run` installs them). Each test starts its own X server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

mod common;

use common::{Xvfb, twin};

use storetwin_actors::StoreWorld;
use storetwin_actors::store::floor::Floor;
use storetwin_actors::store::shopper::ShopperState;
use storetwin_actors::store::spec::CellKind;
use storetwin_engine::{RunLimit, Seed, SimTime, Simulation};
use storetwin_eventlog::{EndState, EventLog, Header, Trailer};
use storetwin_viz::geometry::{Plan, View};
use storetwin_viz::palette::{self, Rgb};
use storetwin_viz::session;

/// One window at a time: the machine has two cores and renders in software.
static SERIAL: Mutex<()> = Mutex::new(());

fn weekday() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/weekday.toml")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storetwin-shot-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

struct Shot {
    image: image::RgbImage,
    view: View,
    meta: serde_json::Value,
}

impl Shot {
    fn load(png: &Path) -> Shot {
        let image = image::open(png).expect("a PNG").to_rgb8();
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(png.with_extension("json")).expect("sidecar")).expect("JSON");
        let view: View = serde_json::from_value(meta["view"].clone()).expect("the floor camera's view");
        Shot { image, view, meta }
    }

    fn at(&self, plan: &Plan, x: u16, y: u16) -> Rgb {
        self.off(plan, x, y, 0.0, 0.0)
    }

    /// The pixel `(dx, dy)` cells from the centre of cell (x, y) (plan directions: y down).
    fn off(&self, plan: &Plan, x: u16, y: u16, dx: f32, dy: f32) -> Rgb {
        let (px, py) = self.view.pixel(plan.world(f32::from(x) + dx, f32::from(y) + dy));
        self.image.get_pixel(px.round() as u32, py.round() as u32).0
    }
}

/// The weekday store's state at `hours` after opening, simulated here, unpaced.
fn simulate(hours: u64) -> (storetwin_scenarios::Scenario, storetwin_actors::store::live::Snapshot) {
    let loaded = session::load_scenario(&weekday()).expect("loads");
    let seed = Seed(loaded.seed);
    let at = SimTime::from_secs(hours * 3600);
    let mut sim = Simulation::new(StoreWorld::build(loaded.world.clone(), seed), seed);
    sim.run(RunLimit::until(at)).expect("runs");
    let snapshot = sim.model().snapshot(at);
    (loaded, snapshot)
}

/// The twin on weekday.toml, screenshotted into `png` at store time `at`.
fn weekday_shot(x: &Xvfb, png: &std::path::Path, at: &str, extra: &[&str]) -> Output {
    let scenario = weekday();
    let mut args = vec![scenario.to_str().expect("utf-8"), "--screenshot", png.to_str().expect("utf-8"), "--at", at];
    args.extend_from_slice(extra);
    twin(x, &args)
}

fn near(a: Rgb, b: Rgb) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 6)
}

#[test]
fn the_weekday_store_at_eleven_shows_shelves_shoppers_and_kpis() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let x = Xvfb::start();
    let dir = temp_dir("eleven");
    let png = dir.join("eleven.png");
    let out = weekday_shot(&x, &png, "11:00", &["--speed", "1000"]);
    assert!(out.status.success(), "the twin failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("to 11:00:00"), "{stdout}");
    let shot = Shot::load(&png);
    assert_eq!(shot.image.dimensions(), (1600, 900));
    assert!(shot.meta["fps"].as_f64().expect("fps") > 0.0);
    assert!(shot.meta["max_lag_s"].as_f64().is_some());

    let loaded = session::load_scenario(&weekday()).expect("loads");
    let spec = &loaded.world;
    let floor = Floor::build(&spec.store);
    let plan = Plan { width: floor.width, height: floor.height };

    // Every shelf cell of the plan in its category's colour (devices sit in the cells'
    // corners; nothing covers a shelf's centre).
    let mut shelves = 0;
    let mut wrong = Vec::new();
    for cell in floor.cells() {
        if let CellKind::Shelf(c) = floor.kind(cell) {
            shelves += 1;
            let got = shot.at(&plan, cell.x, cell.y);
            if !near(got, palette::category(usize::from(c.0))) {
                wrong.push((cell, got));
            }
        }
    }
    assert!(shelves > 300, "the weekday plan has its shelves: {shelves}");
    assert!(
        wrong.len() * 100 <= shelves,
        "{} of {shelves} shelf cells off colour, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    // Walls and floor in theirs (a shopper or queue may stand on some floor cells).
    for (kind, rgb, share) in [(CellKind::Wall, palette::WALL, 0.95), (CellKind::Floor, palette::FLOOR, 0.85)] {
        let cells: Vec<_> = floor.cells().filter(|c| floor.kind(*c) == kind).collect();
        let right = cells.iter().filter(|c| near(shot.at(&plan, c.x, c.y), rgb)).count();
        assert!(right as f64 >= share * cells.len() as f64, "{kind:?}: {right} of {} cells in colour", cells.len());
    }

    // The shoppers where the simulation has them at 11:00 (computed here, unpaced).
    let (_, snapshot) = simulate(3);
    let shopping: Vec<_> =
        snapshot.shoppers.iter().filter(|s| matches!(s.state, ShopperState::Walking | ShopperState::AtShelf)).collect();
    assert!(shopping.len() >= 30, "shoppers about at 11:00: {}", shopping.len());
    let drawn = shopping.iter().filter(|s| near(shot.at(&plan, s.cell.x, s.cell.y), palette::SHOPPER)).count();
    assert!(drawn * 10 >= shopping.len() * 9, "{drawn} of {} shoppers drawn at their cells", shopping.len());

    // The KPI panel (right of the floor's viewport) is not blank: text in several shades.
    let [vx, _, vw, _] = shot.view.viewport;
    let left = (vx + vw) as u32 + 10;
    let mut dark = 0u64;
    let mut total = 0u64;
    let mut shades = std::collections::BTreeSet::new();
    for y in 0..400 {
        for x in left..1600 {
            let p = shot.image.get_pixel(x, y).0;
            total += 1;
            if p.iter().all(|c| *c < 120) {
                dark += 1;
            }
            shades.insert(p);
        }
    }
    assert!(dark * 200 > total, "the KPI panel shows text: {dark} dark pixels of {total}");
    assert!(shades.len() > 30, "the KPI panel has {} distinct colours", shades.len());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_density_view_at_noon_draws_crowded_cells_in_the_scales_high_colours() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let x = Xvfb::start();
    let dir = temp_dir("density");
    let png = dir.join("noon-density.png");
    let out = weekday_shot(&x, &png, "12:00", &["--heat", "density"]);
    assert!(out.status.success(), "the twin failed");
    let shot = Shot::load(&png);
    assert_eq!(shot.meta["heat"], "density");

    // Who stands where at noon, from the simulation run here: people per cell (walkers and
    // queue members) and the most a cell holds.
    let (loaded, snapshot) = simulate(4);
    let floor = Floor::build(&loaded.world.store);
    let plan = Plan { width: floor.width, height: floor.height };
    let capacity = snapshot.cell_capacity;
    assert!(capacity >= 2, "a cell holds {capacity}");
    let level = |people: u16| f32::from(people) / f32::from(capacity);
    let expected = |people: u16| {
        let [r, g, b, _] = palette::density(level(people));
        [r, g, b]
    };
    // A cell shows its colour where no dot covers it: its centre or the middle of its
    // edges (a walker's dot covers the centre, a queue's dots sit in its quarters).
    let samples = [(0.0, 0.0), (0.42, 0.0), (-0.42, 0.0), (0.0, 0.42), (0.0, -0.42)];
    let shows = |cell: storetwin_actors::store::spec::Cell, rgb: Rgb| {
        samples.iter().filter(|(dx, dy)| near(shot.off(&plan, cell.x, cell.y, *dx, *dy), rgb)).count() >= 3
    };
    // Lane cells are under their lane's tile; the rest of the floor shows its crowd.
    let open_floor = |c: &storetwin_actors::store::spec::Cell| {
        matches!(floor.kind(*c), CellKind::Floor | CellKind::Entrance | CellKind::Exit)
    };
    let crowded: Vec<_> =
        floor.cells().filter(open_floor).filter(|c| level(snapshot.crowd[floor.index(*c)]) >= 0.75).collect();
    assert!(crowded.len() >= 5, "noon is busy: {} cells at 3/4 of capacity or more", crowded.len());
    // The scale's high colours (3/4 of a full cell and up) are far from its low one and
    // from the floor.
    for h in (1..=capacity).filter(|n| level(*n) >= 0.75).map(expected) {
        assert!(!near(h, expected(1)) && !near(h, palette::FLOOR), "{h:?}");
    }
    let wrong: Vec<_> = crowded
        .iter()
        .filter(|c| !shows(**c, expected(snapshot.crowd[floor.index(**c)].min(capacity))))
        .map(|c| (c, snapshot.crowd[floor.index(*c)], shot.off(&plan, c.x, c.y, 0.42, 0.0)))
        .collect();
    println!("crowded cells: {} of {} in their density colour", crowded.len() - wrong.len(), crowded.len());
    assert!(
        wrong.len() * 10 <= crowded.len(),
        "{} of {} crowded cells not in their density colour, e.g. {:?}",
        wrong.len(),
        crowded.len(),
        &wrong[..wrong.len().min(5)]
    );
    // One person in a cell is in the scale's low colour; an empty cell shows the floor.
    for (people, share) in [(1u16, 0.8), (0, 0.9)] {
        let cells: Vec<_> =
            floor.cells().filter(open_floor).filter(|c| snapshot.crowd[floor.index(*c)] == people).collect();
        let rgb = if people == 0 { palette::FLOOR } else { expected(people) };
        let right = cells.iter().filter(|c| shows(**c, rgb)).count();
        println!("{people} people: {right} of {} cells in their colour", cells.len());
        assert!(right as f64 >= share * cells.len() as f64, "{people} people: {right} of {} cells", cells.len());
    }

    // The scale in the panel shows the full cell's colour.
    let [vx, _, vw, _] = shot.view.viewport;
    let full = expected(capacity);
    let in_panel = (0..400u32)
        .flat_map(|y| ((vx + vw) as u32..1600).map(move |x| (x, y)))
        .filter(|(x, y)| near(shot.image.get_pixel(*x, *y).0, full))
        .count();
    println!("density scale: {in_panel} pixels of its top colour in the panel");
    assert!(in_panel >= 200, "the density scale in the panel: {in_panel} pixels of its top colour");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_storetwin_run_event_log_plays_back_to_the_identical_run() {
    // A log as `storetwin run --events` writes it (the same writer and trailer), of a
    // short day, played in the window at 100,000x.
    let dir = temp_dir("playback");
    let scenario_path = weekday();
    let loaded = session::load_scenario(&scenario_path).expect("loads");
    let seed = Seed(loaded.seed);
    let log_path = dir.join("run.events");
    let mut log = EventLog::create(&log_path, &Header::new(&loaded.path, &loaded.hash, seed.0, "storetwin run"))
        .expect("creates");
    let mut sim = Simulation::new(StoreWorld::build(loaded.world.clone(), seed), seed);
    let end = SimTime::from_secs(4 * 3600);
    sim.run_observed(RunLimit::until(end), &mut log).expect("runs");
    let hash = sim.event_hash();
    let events = sim.events_delivered();
    let trailer = Trailer {
        events,
        event_hash: hash.to_string(),
        end_ns: end.as_nanos(),
        interventions: Vec::new(),
        end_state: EndState::of(&sim.model().snapshot(end)),
    };
    log.finish(&trailer).expect("writes");

    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let x = Xvfb::start();
    let png = dir.join("end.png");
    let out = twin(
        &x,
        &[
            "--replay",
            log_path.to_str().expect("utf-8"),
            "--screenshot",
            png.to_str().expect("utf-8"),
            "--speed",
            "100000",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains(&format!("replay identical to {}", log_path.display())), "{stdout}");
    assert!(stdout.contains(&format!("{events} events")) && stdout.contains(&hash.to_string()), "{stdout}");
    assert!(png.exists());

    // The same log with its trailer's hash changed: the twin says so and fails.
    let mut bad = std::fs::read(&log_path).expect("reads");
    let wrong_hash = format!("{:016x}", hash.0 ^ 1);
    let from = bad.len() - 1000;
    let found =
        bad[from..].windows(16).position(|w| w == hash.to_string().as_bytes()).expect("the trailer holds the hash");
    bad[from + found..from + found + 16].copy_from_slice(wrong_hash.as_bytes());
    let bad_path = dir.join("bad.events");
    std::fs::write(&bad_path, bad).expect("writes");
    let out = twin(
        &x,
        &[
            "--replay",
            bad_path.to_str().expect("utf-8"),
            "--screenshot",
            png.to_str().expect("utf-8"),
            "--speed",
            "100000",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a replay that differs fails: {stdout}");
    assert!(stdout.contains("replay DIFFERS") && stdout.contains(&wrong_hash), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_and_no_display_are_clear_errors() {
    let twin = |args: &[&str], display: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_storetwin-twin"))
            .args(args)
            .env("DISPLAY", display)
            .output()
            .expect("runs");
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let scenario = weekday();
    let scenario = scenario.to_str().expect("utf-8");
    let err = twin(&[scenario], "");
    assert!(err.contains("DISPLAY is not set") && err.contains("xvfb-run"), "{err}");
    let err = twin(&[scenario], ":4097");
    assert!(err.contains("no X server on DISPLAY=:4097"), "{err}");
    let err = twin(&[scenario, "--screenshot", "x.png", "--at", "21:30"], ":4097");
    assert!(err.contains("the store is open from 08:00:00 to 20:00:00"), "{err}");
    let err = twin(&[scenario, "--speed", "fast"], ":4097");
    assert!(err.contains("expected a positive number of sim seconds per wall second"), "{err}");
    let err = twin(&[scenario, "--intervene", "12:00 open L77"], ":4097");
    assert!(err.contains("no lane \"L77\""), "{err}");
    let err = twin(&[scenario, "--heat", "lava"], ":4097");
    assert!(err.contains("expected `dwell` or `density`"), "{err}");
    let err = twin(&["--replay", "/nonexistent/x.events"], ":4097");
    assert!(err.contains("/nonexistent/x.events"), "{err}");
}

#[test]
fn connected_to_a_live_server_the_twin_draws_the_servers_session() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let x = Xvfb::start();
    let dir = temp_dir("connect");
    // A live server on the weekday store, paused at the opening until the twin is on its
    // stream, then run to 11:00 at the local test's 1000x (the window must be up before the
    // session ends, as it is locally: the twin connects before its window opens).
    let mut options = storetwin_server::Options::new(weekday(), dir.join("session.log"));
    options.listen = "127.0.0.1:0".parse().unwrap();
    options.paused = true;
    options.speed = 1000.0;
    options.until = Some(SimTime::from_secs(3 * 3600));
    options.tokens.add(storetwin_server::auth::Role::Viewer, "viewer-token-for-the-twin-01").unwrap();
    let server = storetwin_server::start(options).expect("the server starts");
    let addr = server.addr;
    let session = server.session.clone();
    let resume = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while session.heat_clients.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            assert!(start.elapsed() < std::time::Duration::from_secs(120), "the twin never connected");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        session.send(storetwin_engine::LiveInput::Resume).expect("the session takes it");
    });
    let png = dir.join("connected.png");
    let url = format!("ws://{addr}");
    let out = twin(
        &x,
        &["--connect", &url, "--token", "viewer-token-for-the-twin-01", "--screenshot", png.to_str().unwrap()],
    );
    resume.join().unwrap();
    assert!(out.status.success(), "the twin failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("connected to {addr}")) && stdout.contains("(to 11:00:00)"), "{stdout}");
    let shot = Shot::load(&png);
    assert_eq!(shot.image.dimensions(), (1600, 900));
    let loaded = session::load_scenario(&weekday()).expect("loads");
    let floor = Floor::build(&loaded.world.store);
    let plan = Plan { width: floor.width, height: floor.height };
    let shelves: Vec<_> = floor.cells().filter(|c| matches!(floor.kind(*c), CellKind::Shelf(_))).collect();
    let right = shelves
        .iter()
        .filter(|c| {
            let CellKind::Shelf(cat) = floor.kind(**c) else { unreachable!() };
            near(shot.at(&plan, c.x, c.y), palette::category(usize::from(cat.0)))
        })
        .count();
    assert!(right * 100 >= shelves.len() * 99, "{right} of {} shelf cells in colour", shelves.len());
    // The server ran the same day as a local run: its shoppers at 11:00 are drawn where
    // the simulation (computed here) has them.
    let (_, snapshot) = simulate(3);
    let shopping: Vec<_> =
        snapshot.shoppers.iter().filter(|s| matches!(s.state, ShopperState::Walking | ShopperState::AtShelf)).collect();
    let drawn = shopping.iter().filter(|s| near(shot.at(&plan, s.cell.x, s.cell.y), palette::SHOPPER)).count();
    assert!(drawn * 10 >= shopping.len() * 9, "{drawn} of {} shoppers drawn at their cells", shopping.len());
    // A wrong token is refused plainly, before any window opens.
    let out = twin(&x, &["--connect", &url, "--token", "not-the-token-of-anyone"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{}", String::from_utf8_lossy(&out.stderr));
    server.stop().unwrap();
}
