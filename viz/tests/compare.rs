//! Two layouts side by side under Xvfb: `storetwin-twin --compare weekday layout-b` draws
//! both floors, each with its own shelf colours, and its difference panel holds the
//! figures `storetwin compare --until` gives for the same replication at that time; an
//! intervention made on one side is recorded on that side only, the other side is the
//! plain run of its scenario, and the session's log replays identically on both sides.
//!
//! Runs the `storetwin` binary beside `storetwin-twin` (built by `cargo test --workspace`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

mod common;

use common::{Xvfb, twin};

use storetwin_actors::store::floor::Floor;
use storetwin_actors::store::spec::CellKind;
use storetwin_viz::geometry::{Plan, View};
use storetwin_viz::palette;
use storetwin_viz::session;

/// One window at a time: the machine has two cores and renders in software.
static SERIAL: Mutex<()> = Mutex::new(());

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storetwin-compare-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn storetwin() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_storetwin-twin")).with_file_name("storetwin");
    assert!(bin.exists(), "{} is missing: run the workspace's tests (cargo test --workspace)", bin.display());
    bin
}

fn sidecar(png: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(png.with_extension("json")).expect("sidecar")).expect("JSON")
}

#[test]
fn layouts_side_by_side_show_both_floors_and_the_differences_compare_reports() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let x = Xvfb::start();
    let dir = temp_dir("beside");
    let png = dir.join("beside.png");
    let (a, b) = (scenario("weekday.toml"), scenario("layout-b.toml"));
    let (a_s, b_s, png_s) = (a.to_str().unwrap(), b.to_str().unwrap(), png.to_str().unwrap());
    let out = twin(&x, &["--compare", a_s, b_s, "--screenshot", png_s, "--at", "10:30", "--speed", "1000", "--heat"]);
    assert!(out.status.success(), "the twin failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("to 10:30:00"), "{stdout}");

    // The panel's figures are `storetwin compare`'s for replication 1 (the seed itself),
    // up to 10:30.
    let meta = sidecar(&png);
    let rows = meta["pair"]["rows"].as_array().expect("the difference panel's rows");
    let compared = Command::new(storetwin())
        .args(["compare", a_s, b_s, "--replications", "2", "--until", "10:30", "--json"])
        .output()
        .expect("storetwin compare runs");
    assert!(compared.status.success(), "{}", String::from_utf8_lossy(&compared.stderr));
    let json: serde_json::Value = serde_json::from_slice(&compared.stdout).expect("compare's JSON");
    assert_eq!(json["until_s"], 9000, "10:30 is 2.5 h after opening");
    let kpis = json["kpis"].as_array().expect("kpis");
    let mut seen = Vec::new();
    for row in rows {
        let key = row["kpi"].as_str().expect("a key");
        let found = kpis.iter().find(|k| k["kpi"] == key).unwrap_or_else(|| panic!("compare has no {key}"));
        let first = &found["replications"][0];
        assert_eq!(row["a"], first["a"], "{key}: A");
        assert_eq!(row["b"], first["b"], "{key}: B");
        assert_eq!(row["label"], found["label"], "{key}: the same name");
        seen.push(key.to_string());
    }
    for key in ["sales", "wait_mean_s", "footfall", "zone[front aisle].dwell_s", "zone[aisles 1-2].mean_density"] {
        assert!(seen.iter().any(|k| k == key), "the panel shows {key}: {seen:?}");
    }
    assert!(
        rows.iter().any(|r| r["diff"].as_f64().is_some_and(|d| d.abs() > 1e-9)),
        "the layouts differ somewhere by 10:30"
    );
    assert_eq!(meta["pair"]["kpis_at_ns"], 9000u64 * 1_000_000_000);

    // The heat maps share one scale: the busiest cell of either floor so far.
    let seed = storetwin_engine::Seed(session::load_scenario(&a).unwrap().seed);
    let at = storetwin_engine::SimTime::from_secs(9000);
    let busiest: Vec<f64> = [&a, &b]
        .iter()
        .map(|p| {
            let spec = session::load_scenario(p).unwrap().world;
            let day = storetwin_actors::store::pair::run_day_until(&spec, seed, at).expect("runs");
            day.last.heat.iter().copied().fold(0.0, f64::max)
        })
        .collect();
    assert_ne!(busiest[0], busiest[1], "the layouts' busiest cells differ");
    assert_eq!(meta["dwell_max"].as_f64(), Some(busiest[0].max(busiest[1])), "one scale for both: {busiest:?}");

    // Both floors, each with its own layout's shelf colours: cells whose shelf category
    // differs between the two layouts show each floor's own colour.
    let image = image::open(&png).expect("a PNG").to_rgb8();
    let view: View = serde_json::from_value(meta["view"].clone()).expect("the camera's view");
    let floors = meta["floors"].as_array().expect("floors");
    assert_eq!(floors.len(), 2);
    let specs = [session::load_scenario(&a).unwrap().world, session::load_scenario(&b).unwrap().world];
    let built = [Floor::build(&specs[0].store), Floor::build(&specs[1].store)];
    let pixel = |side: usize, x: u16, y: u16| {
        let f = &floors[side];
        let plan = Plan { width: f["width"].as_u64().unwrap() as u16, height: f["height"].as_u64().unwrap() as u16 };
        let (wx, wy) = plan.world(f32::from(x), f32::from(y));
        let origin = [f["origin"][0].as_f64().unwrap() as f32, f["origin"][1].as_f64().unwrap() as f32];
        let (px, py) = view.pixel((wx + origin[0], wy + origin[1]));
        image.get_pixel(px.round() as u32, py.round() as u32).0
    };
    let near = |p: palette::Rgb, q: palette::Rgb| p.iter().zip(q).all(|(a, b)| a.abs_diff(b) <= 6);
    let (mut differing, mut matched) = (0, [0, 0]);
    for cell in built[0].cells() {
        let (CellKind::Shelf(ca), CellKind::Shelf(cb)) = (built[0].kind(cell), built[1].kind(cell)) else { continue };
        if ca == cb {
            continue;
        }
        differing += 1;
        for (side, c) in [(0, ca), (1, cb)] {
            if near(pixel(side, cell.x, cell.y), palette::category(usize::from(c.0))) {
                matched[side] += 1;
            }
        }
    }
    println!("{differing} shelf cells differ between the layouts; drawn in their own colour: {matched:?}");
    assert!(differing > 20, "the layouts differ in their shelves");
    // A shopper or a device icon may cover a few cells.
    for m in matched {
        assert!(m * 10 >= differing * 9, "{m} of {differing} shelf cells in their own colour");
    }
}

#[test]
fn an_intervention_on_one_side_is_recorded_on_that_side_only() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let x = Xvfb::start();
    let dir = temp_dir("one-side");
    let png = dir.join("one-side.png");
    let log = dir.join("one-side.session");
    let a = scenario("weekday.toml");
    let a_s = a.to_str().unwrap();
    let out = twin(
        &x,
        &[
            "--compare",
            a_s,
            a_s,
            "--intervene",
            "B 09:00 close L1",
            "--events",
            log.to_str().unwrap(),
            "--screenshot",
            png.to_str().unwrap(),
            "--at",
            "10:00",
        ],
    );
    assert!(out.status.success(), "the twin failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let side_a = lines.iter().position(|l| l.trim_start().starts_with("A ")).expect("side A's line");
    let side_b = lines.iter().position(|l| l.trim_start().starts_with("B ")).expect("side B's line");
    assert!(side_a < side_b, "{stdout}");
    let recorded: Vec<&&str> = lines.iter().filter(|l| l.contains("intervention")).collect();
    assert_eq!(recorded.len(), 1, "{stdout}");
    let at = lines.iter().position(|l| l.contains("intervention")).unwrap();
    assert!(at > side_b && lines[at].contains("09:00:00") && lines[at].contains("L1"), "{stdout}");

    // Side A is the plain weekday run to 10:00; B, with L1 closed, is not.
    let hash = |line: &str| line.rsplit("event_hash ").next().map(str::to_string);
    let meta = sidecar(&png);
    let rows = meta["pair"]["rows"].as_array().expect("rows");
    let l1 = rows.iter().find(|r| r["kpi"] == "queue[L1].wait_mean_s");
    assert!(l1.is_none(), "per-queue waits are not in the panel, the store's are");
    let waits = rows.iter().find(|r| r["kpi"] == "wait_mean_s").expect("the store's mean wait");
    assert!(waits["diff"].as_f64().unwrap() > 0.0, "closing a lane on B lengthens B's waits: {waits}");
    let plain = Command::new(storetwin())
        .args(["compare", a_s, a_s, "--replications", "2", "--until", "10:00", "--json"])
        .output()
        .expect("storetwin compare runs");
    let json: serde_json::Value = serde_json::from_slice(&plain.stdout).expect("compare's JSON");
    let first =
        &json["kpis"].as_array().unwrap().iter().find(|k| k["kpi"] == "wait_mean_s").unwrap()["replications"][0];
    assert_eq!(waits["a"], first["a"], "side A is weekday with no intervention");
    assert_ne!(hash(lines[side_a]), hash(lines[side_b]), "{stdout}");

    // The session's log replays side by side to the identical run on both sides.
    let record = storetwin_eventlog::pair::PairLog::read(&log).expect("a side-by-side log");
    assert!(record.sides[0].interventions.is_empty());
    assert_eq!(record.sides[1].interventions.len(), 1);
    let again = dir.join("again.png");
    let out = twin(&x, &["--replay", log.to_str().unwrap(), "--screenshot", again.to_str().unwrap()]);
    assert!(out.status.success(), "the replay failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("replay identical on both sides"), "{stdout}");
    assert!(stdout.contains(&record.sides[1].event_hash), "{stdout}");
}
