//! The twin's session side, without a window: a live session with interventions records
//! an event log that replays to the identical run; a tampered log or a changed scenario
//! is caught; watching a session never changes it.

use std::path::{Path, PathBuf};

use storetwin_actors::StoreWorld;
use storetwin_actors::store::live::{Frame, Intervention, simulation_with};
use storetwin_engine::{ManualWall, RunLimit, Seed, SimTime, Simulation};
use storetwin_viz::session::{self, Mode, Options, Outcome, Twin};

fn weekday() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/weekday.toml")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storetwin-viz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn hours(h: u64) -> SimTime {
    SimTime::from_secs(h * 3600)
}

/// Plays a session to its end, calling `on_frame` with each frame as the window would.
fn play(mut twin: Twin, mut on_frame: impl FnMut(&Twin, &mut Frame)) -> Outcome {
    loop {
        match twin.frames.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(mut frame) => {
                on_frame(&twin, &mut frame);
                if frame.status.done {
                    break;
                }
            }
            Err(e) => panic!("no frame from the simulation thread: {e}"),
        }
    }
    twin.finish().expect("the session ends cleanly")
}

/// A live session on the weekday store from 08:00 to 14:00 at 600x (on a fake wall clock,
/// so the test never sleeps), with the ops team's four kinds of intervention at about 10:00.
fn live_session(log: &Path) -> Outcome {
    let scenario = session::load_scenario(&weekday()).expect("weekday loads");
    let seed = Seed(scenario.seed);
    let options =
        Options { speed: 600.0, until: Some(hours(6)), events: Some(log.to_path_buf()), ..Options::default() };
    let twin = Twin::start(scenario, seed, Mode::Live, &options, ManualWall::default()).expect("starts");
    let mut sent = false;
    play(twin, |twin, frame| {
        if !sent && frame.snapshot.at >= hours(2) {
            sent = true;
            assert!(twin.controls.intervene(Intervention::SetLaneOpen { lane: 0, open: false }));
            assert!(twin.controls.intervene(Intervention::SetLaneOpen { lane: 8, open: true }));
            assert!(twin.controls.intervene(Intervention::SetPrice { sku: 3, cents: 99 }));
            assert!(twin.controls.intervene(Intervention::SetDeviceUp { device: 0, up: false }));
            assert!(twin.controls.set_speed(1200.0));
        }
    })
}

#[test]
fn a_live_session_with_interventions_replays_to_the_same_event_hash() {
    let dir = temp_dir("replay");
    let log = dir.join("session.events");
    let live = live_session(&log);
    let end = &live.end;
    assert_eq!(end.end, hours(6));
    assert_eq!(end.interventions.len(), 4, "every intervention is recorded: {:?}", end.interventions);
    assert!(end.interventions.iter().all(|i| i.at() >= hours(2)), "stamped at the sim time they arrived");
    let (path, records) = live.log.as_ref().expect("the session wrote its log");
    assert_eq!(*records, end.events);

    // Replayed by the twin: every event checked against the log, the same end.
    let (scenario, mode) = session::open_replay(path, None).expect("the log opens");
    let replay = Twin::start(
        scenario.clone(),
        Seed(0),
        mode,
        &Options { speed: 5000.0, ..Options::default() },
        ManualWall::default(),
    )
    .expect("starts");
    let replayed = play(replay, |_, _| {});
    let verdict = replayed.verdict.expect("a replay has a verdict");
    assert!(verdict.identical(), "{}", verdict.describe());
    assert_eq!(replayed.end.event_hash, end.event_hash);
    assert_eq!(replayed.end.events, end.events);
    assert_eq!(replayed.end.run.kpis, end.run.kpis, "the same KPIs to the end time");

    // The same run as the interventions injected into an unpaced run, and not the plain day.
    let seed = Seed(scenario.seed);
    let unpaced = |with_interventions: bool| {
        let planned = if with_interventions { end.interventions.as_slice() } else { &[] };
        let mut sim = simulation_with(&scenario.world, seed, planned).expect("schedules");
        sim.run(RunLimit::until(hours(6))).expect("runs");
        sim.event_hash()
    };
    assert_eq!(unpaced(true), end.event_hash);
    assert_ne!(unpaced(false), end.event_hash, "the interventions changed the day");
    // (The lane policy may reopen L1 when its queues grow; the door counter stays off.)
    assert!(!end.run.last.devices_up[0], "the first door counter is offline");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_tampered_log_or_a_changed_scenario_is_caught() {
    let dir = temp_dir("tamper");
    let scenario_path = dir.join("store.toml");
    std::fs::copy(weekday(), &scenario_path).expect("copies");
    let scenario = session::load_scenario(&scenario_path).expect("loads");
    let log = dir.join("day.events");
    let options = Options { speed: 1e6, until: Some(hours(3)), events: Some(log.clone()), ..Options::default() };
    let twin = Twin::start(scenario, Seed(7), Mode::Live, &options, ManualWall::default()).expect("starts");
    let recorded = play(twin, |_, _| {});
    assert_eq!(recorded.end.interventions.len(), 0);

    // Change one event's message code in the middle of the log.
    let mut bytes = std::fs::read(&log).expect("log");
    let header = bytes.iter().position(|b| *b == b'\n').expect("header") + 1;
    let middle = header + 16 * (recorded.end.events as usize / 2);
    bytes[middle + 12] ^= 0x40;
    let tampered = dir.join("tampered.events");
    std::fs::write(&tampered, &bytes).expect("writes");
    let (scenario, mode) = session::open_replay(&tampered, None).expect("opens");
    let options = Options { speed: 1e6, ..Options::default() };
    let replayed =
        play(Twin::start(scenario, Seed(0), mode, &options, ManualWall::default()).expect("starts"), |_, _| {});
    let verdict = replayed.verdict.expect("verdict");
    assert!(!verdict.identical());
    let divergence = verdict.divergence.as_deref().expect("the changed event is found");
    assert!(divergence.contains(&format!("event {}", recorded.end.events / 2 + 1)), "{divergence}");

    // A log cut short is refused, with the file named.
    let cut = dir.join("cut.events");
    std::fs::write(&cut, &bytes[..middle + 7]).expect("writes");
    let err = session::open_replay(&cut, None).expect_err("cut short").to_string();
    assert!(err.contains("cut.events") && err.contains("end marker"), "{err}");

    // The scenario changed after recording: the replay would not be the same run.
    let text = std::fs::read_to_string(&scenario_path).expect("reads");
    std::fs::write(&scenario_path, text.replace("seed = 20240611", "seed = 20240612")).expect("writes");
    let err = session::open_replay(&log, None).expect_err("changed scenario").to_string();
    assert!(err.contains("the file changed"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn watching_a_session_never_changes_the_run() {
    // The window's only links are a receiver of owned frames and a sender of controls. A
    // viewer that scribbles over every frame it gets leaves the run exactly as an
    // unwatched, unpaced run.
    let scenario = session::load_scenario(&weekday()).expect("loads");
    let seed = Seed(scenario.seed);
    let options = Options { speed: 900.0, until: Some(hours(3)), ..Options::default() };
    let twin = Twin::start(scenario.clone(), seed, Mode::Live, &options, ManualWall::default()).expect("starts");
    let mut frames = 0;
    let watched = play(twin, |_, frame| {
        frames += 1;
        frame.snapshot.shoppers.clear();
        frame.snapshot.heat.iter_mut().for_each(|h| *h = -1.0);
        if let Some(lane) = frame.snapshot.lanes.first_mut() {
            lane.open = !lane.open;
        }
    });
    assert!(frames > 10, "frames were sent: {frames}");

    let mut sim = Simulation::new(StoreWorld::build(scenario.world.clone(), seed), seed);
    sim.run(RunLimit::until(hours(3))).expect("runs");
    assert_eq!(watched.end.event_hash, sim.event_hash());
    assert_eq!(watched.end.run.last, sim.model().snapshot(hours(3)), "the same store at the end");
}

#[test]
fn planned_interventions_parse_by_name_are_recorded_and_replay() {
    let scenario = session::load_scenario(&weekday()).expect("loads");
    let spec = &scenario.world;
    let open = session::parse_intervention("10:00 open L9", spec).expect("parses");
    assert_eq!(open.at(), hours(2));
    assert_eq!(open.what, Intervention::SetLaneOpen { lane: 8, open: true });
    let price = session::parse_intervention("10:30:15 price Bananas 1 kg = 0.99", spec).expect("parses");
    assert_eq!(price.at(), SimTime::from_secs(2 * 3600 + 30 * 60 + 15));
    assert_eq!(price.what, Intervention::SetPrice { sku: 0, cents: 99 });
    let off = session::parse_intervention("09:00 offline door-1", spec).expect("parses");
    assert_eq!(off.what, Intervention::SetDeviceUp { device: 0, up: false });
    for (bad, says) in [
        ("10:00 open L99", "no lane \"L99\"; the lanes are L1, L2"),
        ("07:00 open L1", "not within the store's opening hours"),
        ("noon open L1", "is not a store clock time"),
        ("10:00 reboot door-1", "unknown action \"reboot\""),
        ("10:00 price Bananas 1 kg = cheap", "\"cheap\" is not a price"),
        ("10:00 offline door-99", "no device \"door-99\""),
    ] {
        let err = session::parse_intervention(bad, spec).expect_err(bad);
        assert!(err.contains(says), "{bad}: {err}");
    }

    let dir = temp_dir("planned");
    let log = dir.join("planned.events");
    let options = Options {
        speed: 1e5,
        until: Some(hours(4)),
        events: Some(log.clone()),
        planned: vec![open, price, off],
        ..Options::default()
    };
    let live = play(
        Twin::start(scenario.clone(), Seed(3), Mode::Live, &options, ManualWall::default()).expect("starts"),
        |_, _| {},
    );
    assert_eq!(live.end.interventions, vec![off, open, price], "recorded in time order");
    assert!(live.end.run.last.lanes[8].open);
    let (scenario, mode) = session::open_replay(&log, None).expect("opens");
    let options = Options { speed: 1e5, ..Options::default() };
    let replayed =
        play(Twin::start(scenario, Seed(0), mode, &options, ManualWall::default()).expect("starts"), |_, _| {});
    let verdict = replayed.verdict.expect("verdict");
    assert!(verdict.identical(), "{}", verdict.describe());
    let _ = std::fs::remove_dir_all(dir);
}
