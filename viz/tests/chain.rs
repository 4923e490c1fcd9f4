//! The twin of one store of a live chain, rendered under Xvfb: a screenshot of a store of
//! the bundled flash sale during its surge shows the sale's counter with the figures the
//! load test reports for that second (`timeseries.csv`, written by the same code as
//! `storetwin load`) and the crowd at the sale's shelf; the session's log replays to the
//! identical run; a broken invariant stops the run and is named in the window.
//!
//! Needs Xvfb and Mesa's Vulkan driver, as the other window tests.

use std::path::{Path, PathBuf};

mod common;

use common::{Xvfb, twin};

use storetwin_actors::chain::run::run_chain;
use storetwin_actors::store::floor::Floor;
use storetwin_engine::Seed;
use storetwin_report::load::{PerSecond, write_timeseries};
use storetwin_viz::geometry::{Plan, View};
use storetwin_viz::palette;

fn flash() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/flash-3-stores-atomic.toml")
}

/// The load test's `timeseries.csv` for the bundled file, as `storetwin load` writes it,
/// as rows of named columns.
fn load_timeseries(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let (chain, spec, seed) = storetwin_viz::session::load_chain(&flash()).expect("the load test loads");
    let run = run_chain(&spec, Seed(seed), 2).expect("the load test holds its invariants");
    let mut registry = run.platform.flash.as_ref().expect("a flash sale").registry.clone();
    for store in &run.stores {
        registry.merge(&store.flash.as_ref().expect("a desk").registry).expect("one kind per name");
    }
    let path = dir.join("timeseries.csv");
    write_timeseries(&path, &PerSecond::new(&registry, chain.load.as_ref().expect("[load]"))).expect("written");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().expect("a header").split(',').map(str::to_string).collect();
    lines.map(|l| names.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect()
}

/// Cells of the flash sale's zone on store `name`'s floor with a sale dot drawn on them
/// (a cell's places sit at the centres of its quarters, or its centre), and the zone's size.
fn sale_dots(image: &image::RgbImage, view: &View, name: &str) -> (usize, usize) {
    let (_, spec, _) = storetwin_viz::session::load_chain(&flash()).expect("loads");
    let store = &spec.stores.iter().find(|s| s.name == name).expect("the store").world.store;
    let floor = Floor::build(store);
    let plan = Plan { width: floor.width, height: floor.height };
    let sku = spec.flash.as_ref().expect("a sale").sku;
    let zone = &floor.access[usize::from(store.catalogue[sku.0 as usize].category.0)];
    let near = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 10);
    let dotted = zone
        .iter()
        .filter(|c| {
            [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25), (0.0, 0.0)].iter().any(|(dx, dy)| {
                let (px, py) = view.pixel(plan.world(f32::from(c.x) + dx, f32::from(c.y) + dy));
                near(image.get_pixel(px.round() as u32, py.round() as u32).0, palette::SALE_DOT)
            })
        })
        .count();
    (dotted, zone.len())
}

/// Pixels of the sell-through bars' colour in the panel (right of the floor).
fn bar_pixels(image: &image::RgbImage) -> usize {
    let near = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 10);
    image.enumerate_pixels().filter(|(px, _, p)| *px > 1200 && near(p.0, palette::SALE_BAR)).count()
}

#[test]
fn a_store_of_the_flash_sale_during_its_surge_shows_the_counter_load_reports_and_the_crowd() {
    let dir = std::env::temp_dir().join(format!("storetwin-chain-shot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rows = load_timeseries(&dir);
    let x = Xvfb::start();
    let png = dir.join("surge.png");
    let log = dir.join("surge.session");
    let out = twin(
        &x,
        &[
            flash().to_str().expect("utf-8"),
            "--store",
            "old-town",
            "--screenshot",
            png.to_str().expect("utf-8"),
            "--at",
            "08:11:00",
            "--events",
            log.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "the twin exits cleanly");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("chain session: 3 stores") && stdout.contains("to 08:11:00"), "{stdout}");

    // 08:11:00 is 660 s after opening: every event before it, which is second 659's row.
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(png.with_extension("json")).expect("sidecar")).expect("JSON");
    assert_eq!(meta["at_ns"], 660_000_000_000u64);
    let row = rows.iter().find(|r| r["second"] == "659").expect("second 659 of the surge is in the load's series");
    let n = |k: &str| row[k].parse::<u64>().unwrap_or_else(|_| panic!("{k}: {:?}", row[k]));
    let chain = &meta["chain"]["flash"]["chain"];
    assert_eq!(meta["chain"]["store"], 1, "old-town is the chain's second store");
    assert_eq!(chain["sold"], n("units_sold"), "{meta}");
    assert_eq!(chain["sold"].as_u64().unwrap() + chain["reserved"].as_u64().unwrap(), n("units_taken"));
    assert_eq!(chain["reserved"], n("reservations_outstanding"));
    assert_eq!(chain["grabs_last_s"], n("grabs_answered"));
    assert!(n("grabs_answered") > 0, "the surge is on");
    let store = &meta["chain"]["flash"]["store"];
    assert_eq!(store["quota"], 200);
    assert!(store["sold"].as_u64().unwrap() + store["reserved"].as_u64().unwrap() > 0);

    // The crowd at the sale's shelf: its in-store shoppers' dots on the zone's floor.
    let in_store = meta["chain"]["flash"]["in_store"].as_u64().expect("a count");
    assert!(in_store > 0, "QR-poster shoppers are at the sale a minute into the surge");
    let image = image::open(&png).expect("a PNG").to_rgb8();
    let view: View = serde_json::from_value(meta["view"].clone()).expect("the view");
    let (dotted, zone) = sale_dots(&image, &view, "old-town");
    assert!(dotted > 0, "no sale dot on the {zone} cells of the sale's zone");

    // The panel's sell-through bars.
    let bar = bar_pixels(&image);
    assert!(bar > 500, "the sell-through bars are drawn in the panel ({bar} px)");

    // The session's log replays in the window to the identical run.
    let replay_png = dir.join("replay.png");
    let out =
        twin(&x, &["--replay", log.to_str().expect("utf-8"), "--screenshot", replay_png.to_str().expect("utf-8")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("replay identical to"), "{stdout}");

    // A broken invariant stops the run; the window names it, and the twin fails.
    let unsafe_file = flash().with_file_name("flash-3-stores-unsafe.toml");
    let broken_png = dir.join("broken.png");
    let out = twin(
        &x,
        &[
            unsafe_file.to_str().expect("utf-8"),
            "--screenshot",
            broken_png.to_str().expect("utf-8"),
            "--at",
            "08:12:00",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("chain session STOPPED") && stdout.contains("sold + reserved <= quota"), "{stdout}");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(broken_png.with_extension("json")).expect("sidecar")).expect("JSON");
    let broken = meta["chain"]["broken"].as_str().expect("the frame names the broken invariant");
    assert!(broken.contains("invariant broken: flash sale: sold + reserved <= quota"), "{broken}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The twin as a client of a served chain (`--connect … --store NAME`): it draws the store
/// asked for, its shoppers where a local run of the chain to that time has them, and the
/// flash sale's counters and crowd as the server sends them.
#[test]
fn connected_to_a_served_chain_the_twin_draws_the_store_asked_for() {
    let dir = std::env::temp_dir().join(format!("storetwin-chain-connect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let x = Xvfb::start();
    let mut options = storetwin_server::Options::new(flash(), dir.join("chain.session"));
    options.listen = "127.0.0.1:0".parse().unwrap();
    options.paused = true;
    options.speed = 1000.0;
    // 08:11:00, a minute into the flash sale's surge.
    let until = storetwin_engine::SimTime::from_secs(11 * 60);
    options.until = Some(until);
    let server = storetwin_server::start_chain(options).expect("the chain server starts");
    let addr = server.addr;
    let session = server.session.clone();
    // Paused until the twin is on the station's stream (it asks for the heat map).
    let resume = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let station = session.stores.iter().position(|s| s.name == "station").expect("a store named station");
        while session.stores[station].heat_clients.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            assert!(start.elapsed() < std::time::Duration::from_secs(120), "the twin never connected");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        session.controls().resume();
    });
    let png = dir.join("station.png");
    let url = format!("ws://{addr}");
    let out = twin(&x, &["--connect", &url, "--store", "station", "--screenshot", png.to_str().unwrap()]);
    resume.join().unwrap();
    assert!(out.status.success(), "the twin failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(to 08:11:00)"), "{stdout}");
    // The station's shoppers at 08:11, from a local run of the chain to then.
    let (_, spec, seed) = storetwin_viz::session::load_chain(&flash()).expect("loads");
    let run = storetwin_actors::chain::live::replay_chain(&spec, Seed(seed), &[], &[], until, 2).expect("runs");
    let station = run.stores.iter().find(|s| s.name == "station").expect("station");
    let image = image::open(&png).expect("a PNG").to_rgb8();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(png.with_extension("json")).expect("sidecar")).expect("JSON");
    let view: View = serde_json::from_value(meta["view"].clone()).expect("the camera's view");
    let floor = Floor::build(&spec.stores.iter().find(|s| s.name == "station").unwrap().world.store);
    let plan = Plan { width: floor.width, height: floor.height };
    let shopping: Vec<_> = station
        .day
        .last
        .shoppers
        .iter()
        .filter(|s| {
            matches!(
                s.state,
                storetwin_actors::store::shopper::ShopperState::Walking
                    | storetwin_actors::store::shopper::ShopperState::AtShelf
            )
        })
        .collect();
    assert!(!shopping.is_empty(), "shoppers in the station at 08:11");
    let near = |p: palette::Rgb, q: palette::Rgb| p.iter().zip(q).all(|(a, b)| a.abs_diff(b) <= 6);
    let drawn = shopping
        .iter()
        .filter(|s| {
            let (px, py) = view.pixel(plan.world(f32::from(s.cell.x), f32::from(s.cell.y)));
            near(image.get_pixel(px.round() as u32, py.round() as u32).0, palette::SHOPPER)
        })
        .count();
    assert!(drawn * 10 >= shopping.len() * 9, "{drawn} of {} shoppers drawn at their cells", shopping.len());

    // The flash sale came over the wire: the station's counter and the chain's are the
    // load test's at that second, and the crowd at the sale is drawn on its zone.
    let rows = load_timeseries(&dir);
    let row = rows.iter().find(|r| r["second"] == "659").expect("second 659 of the surge");
    let n = |k: &str| row[k].parse::<u64>().unwrap_or_else(|_| panic!("{k}: {:?}", row[k]));
    let flash = &meta["chain"]["flash"];
    assert_eq!(flash["name"], "coffee-drop", "{meta}");
    assert_eq!(flash["chain"]["sold"], n("units_sold"));
    assert_eq!(flash["chain"]["reserved"], n("reservations_outstanding"));
    assert_eq!(flash["chain"]["grabs_last_s"], n("grabs_answered"));
    assert_eq!(flash["store"]["quota"], 200);
    assert!(flash["in_store"].as_u64().is_some_and(|n| n > 0), "{flash}");
    let (dotted, zone) = sale_dots(&image, &view, "station");
    assert!(dotted > 0, "no sale dot on the {zone} cells of the station's sale zone");
    let bar = bar_pixels(&image);
    assert!(bar > 500, "the sell-through bars are drawn in the panel ({bar} px)");
    server.stop().unwrap();
}

/// Connected to a served chain, the store picker switches the stream to another store
/// (the frames then are of that store, with its flash sale figures) and an intervention
/// made then is recorded at that store.
#[test]
fn connected_to_a_served_chain_the_picker_switches_the_store_and_acts_on_it() {
    use storetwin_actors::store::live::Intervention;
    let dir = std::env::temp_dir().join(format!("storetwin-chain-pick-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = dir.join("chain.session");
    let mut options = storetwin_server::Options::new(flash(), &log);
    options.listen = "127.0.0.1:0".parse().unwrap();
    options.speed = 60.0;
    let server = storetwin_server::start_chain(options).expect("the chain server starts");
    let url = format!("ws://{}", server.addr);
    let mut remote = storetwin_viz::remote::Remote::connect_store(&url, None, None, Some("station"))
        .expect("the twin connects to the station");
    let chain = remote.chain.clone().expect("a served chain's stores");
    let names: Vec<&str> = chain.stores.iter().map(|s| s.store.name.as_str()).collect();
    assert_eq!(names, ["riverside", "old-town", "station"]);
    assert_eq!(chain.sale.as_ref().map(|s| s.0.as_str()), Some("coffee-drop"));
    let store_of = |frame: &storetwin_actors::store::live::Frame| frame.chain.as_ref().map(|c| c.store);
    let next = |remote: &storetwin_viz::remote::Remote| {
        remote.frames.recv_timeout(std::time::Duration::from_secs(30)).expect("a frame from the server")
    };
    assert_eq!(store_of(&next(&remote)), Some(2), "the station's frames");

    // The picker: old-town's frames from then on.
    assert!(remote.controls.show(1));
    let start = std::time::Instant::now();
    loop {
        let frame = next(&remote);
        if store_of(&frame) == Some(1) {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the stream never switched to old-town");
    }
    // An intervention now is old-town's: L7 opens there.
    assert!(remote.controls.intervene(Intervention::SetLaneOpen { lane: 6, open: true }));
    let start = std::time::Instant::now();
    loop {
        let logged = storetwin_eventlog::chain::ChainLog::read(&log).map(|l| l.interventions).unwrap_or_default();
        if let Some(first) = logged.first() {
            assert_eq!(first.store, 1, "recorded at old-town: {first:?}");
            assert_eq!(first.what, Intervention::SetLaneOpen { lane: 6, open: true });
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the intervention was not recorded");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(remote.stats.sent.load(std::sync::atomic::Ordering::Relaxed), 1);
    remote.finish();
    server.stop().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
