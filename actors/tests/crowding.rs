//! Crowding on the floor against the pedestrian fundamental diagram it implements
//! (Weidmann 1993, see `actors/src/crowd.rs`), and crowds at the entrance.
//!
//! Speed and density are measured the way traffic engineers measure them from trajectories
//! (Edie's definitions over a space-time region): density = person-seconds spent in the
//! region / (area × time), space-mean speed = distance walked in the region / person-seconds
//! spent in it. Both come from the run's per-cell dwell and entry counts.

mod support;

use storetwin_actors::store::crowd::speed_share;
use storetwin_actors::store::day::run_day;
use storetwin_actors::store::spec::*;
use storetwin_actors::store::world::StoreWorld;
use storetwin_engine::{RunLimit, Seed, SimDuration, SimTime, Simulation};
use support::{c, floor, lane, segment, sku};

/// Free walking speed of every shopper in these tests, m/s (Weidmann's mean free speed).
const FREE_MPS: f64 = 1.34;

/// A corridor three cells wide and 40 long: shoppers come in at the left and walk out at
/// the right (the one shelf is walled off, so each gives up its item and heads for the
/// exit: pure walking). `narrow` puts a one-cell-wide bottleneck near the right end, so a
/// crowd builds up behind it.
fn corridor(per_hour: f64, narrow: bool, max_density: f64) -> WorldSpec {
    const W: usize = 48;
    let mut rows = vec![format!("{}a#", "#".repeat(W - 2)), "#".repeat(W)];
    for y in 1..=3 {
        let mut row: Vec<u8> = format!("E{}X", ".".repeat(W - 2)).into_bytes();
        if narrow && y != 2 {
            for b in &mut row[36..40] {
                *b = b'#';
            }
        }
        rows.push(String::from_utf8(row).expect("ascii"));
    }
    rows.push("#".repeat(W));
    hour_of_walkers("corridor", &rows.join("\n"), per_hour, Vec::new(), max_density)
}

/// One hour of shoppers walking at [`FREE_MPS`] on `art` (one category `a`, one SKU that never
/// runs out), arriving at `per_hour`, paying at `lanes`.
fn hour_of_walkers(name: &str, art: &str, per_hour: f64, lanes: Vec<LaneSpec>, max_density: f64) -> WorldSpec {
    let mut seg = segment(c(1.0), c(1e9), u32::MAX);
    seg.speed_mps = c(FREE_MPS);
    WorldSpec {
        open_at_s: 8 * 3600,
        duration: SimDuration::from_secs(3600),
        store: StoreSpec {
            name: name.into(),
            floor: floor(art, 1.0),
            categories: vec![CategorySpec { name: "a".into(), popularity: 1.0 }],
            catalogue: vec![sku("thing", 0, 100, 4_000_000_000)],
            segments: vec![seg],
            arrivals_per_hour: vec![per_hour],
            lanes,
            lines: Vec::new(),
            lane_policy: LanePolicy { open_when_queue: None, close_when_idle: None },
            devices: Vec::new(),
            disruptions: Vec::new(),
            replenishment: ReplenishmentSpec { staff: 1, trip: c(300.0), round: None },
            max_density_per_m2: max_density,
        },
    }
}

/// (density P/m², space-mean speed m/s) over the corridor cells x in `xs` (its rows 2..=4).
fn edie(spec: &WorldSpec, seed: u64, xs: std::ops::Range<u16>) -> (f64, f64) {
    let world = StoreWorld::build(spec.clone(), Seed(seed));
    let mut sim = Simulation::new(world, Seed(seed));
    let end = SimTime::ZERO.saturating_add(spec.duration);
    sim.run(RunLimit::until(end)).expect("the corridor runs");
    let mut w = sim.into_model();
    w.close_books(end);
    w.check_invariants().expect("the corridor keeps its invariants");
    let (mut person_s, mut entries, mut cells) = (0.0, 0u64, 0.0);
    for y in 2..=4u16 {
        for x in xs.clone() {
            let i = w.floor.index(Cell { x, y });
            if !w.floor.is_walkable_index(i) {
                continue;
            }
            person_s += w.metrics.cell_dwell_s[i];
            entries += u64::from(w.metrics.cell_visits[i]);
            cells += 1.0;
        }
    }
    let area = cells * w.floor.cell_m * w.floor.cell_m;
    // Every entry into a cell of the region is one cell's length walked in it.
    (person_s / (area * spec.duration.as_secs_f64()), entries as f64 * w.floor.cell_m / person_s)
}

/// Relative tolerance of the measured speed against the diagram on its free-flow branch.
/// The model sets each cell's crossing time from the density around it when the walker
/// enters it; the measure is an average over a region and an hour, and density
/// fluctuates (Poisson arrivals), so the two agree closely but not exactly.
const TOLERANCE: f64 = 0.08;

#[test]
fn corridor_speed_follows_weidmann_on_the_free_flow_branch() {
    let mut last = (0.0, f64::MAX);
    let mut points = Vec::new();
    // Demand from a trickle to more than the three-cell doorway lets in.
    for (i, per_hour) in [600.0, 3000.0, 6000.0, 9000.0, 12000.0, 20000.0].into_iter().enumerate() {
        let (density, speed) = edie(&corridor(per_hour, false, 4.0), 10 + i as u64, 8..30);
        let expected = FREE_MPS * speed_share(density);
        let error = (speed - expected) / expected;
        eprintln!(
            "density {density:.3} P/m²: speed {speed:.3} m/s, Weidmann {expected:.3} m/s ({:+.1}%)",
            error * 100.0
        );
        assert!(
            error.abs() <= TOLERANCE,
            "at {density:.3} P/m² the corridor walks at {speed:.3} m/s; the diagram says {expected:.3} (±{}%)",
            TOLERANCE * 100.0
        );
        assert!(density >= last.0 * 0.97 && speed <= last.1 * 1.03, "more demand, denser and slower: {points:?}");
        last = (density, speed);
        points.push(last);
    }
    assert!(points[0].0 < 0.1 && last.0 > 0.8, "the points span a trickle to a dense stream: {points:?}");
    assert!(last.1 < 0.9 * FREE_MPS, "a dense stream walks clearly slower than a lone shopper: {points:?}");
}

#[test]
fn a_bottleneck_fills_the_corridor_to_its_capacity_and_no_further() {
    // More demand than a one-cell gap passes: behind it the corridor fills up to the
    // density limit. Full cells block walkers, so there they are slower than the diagram's
    // speed at that density (the model's congested branch); never faster.
    let (density, speed) = edie(&corridor(6000.0, true, 4.0), 20, 20..36);
    let expected = FREE_MPS * speed_share(density);
    eprintln!("behind the bottleneck: {density:.3} P/m², {speed:.3} m/s (Weidmann {expected:.3} m/s)");
    assert!(density > 3.5, "the crowd fills the cells behind the gap: {density}");
    assert!(density <= 4.0 * 1.02, "the density limit holds (squeezes aside): {density}");
    assert!(speed <= expected * 1.05 && speed < 0.15 * FREE_MPS, "a jam crawls: {speed} m/s");
    // With a higher limit the same crowd packs denser.
    let (denser, _) = edie(&corridor(6000.0, true, 5.4), 20, 20..36);
    assert!(denser > density + 0.3, "the limit is what caps the density: {denser} vs {density}");
}

/// One entrance cell and a shelf 20 m in: the time from arriving to the first shelf.
fn doorway(per_hour: f64, max_density: f64) -> storetwin_actors::store::summary::CrowdKpis {
    let art = "
        ##########################
        E.......................a#
        #......................1X#
        ##########################";
    let lanes = vec![lane("L1", LaneKind::Staffed, None, c(0.05))];
    let spec = hour_of_walkers("doorway", art, per_hour, lanes, max_density);
    run_day(&spec, Seed(3)).expect("the doorway hour keeps its invariants").kpis.crowding
}

#[test]
fn a_crowd_at_the_entrance_slows_arrivals_to_the_shelves() {
    let quiet = doorway(120.0, 4.0);
    let rush = doorway(12_000.0, 4.0);
    eprintln!(
        "to first shelf: quiet {:.1} s, rush {:.1} s ({} waited outside, mean {:.1} s)",
        quiet.to_first_shelf_s, rush.to_first_shelf_s, rush.entry_waits, rush.entry_wait_s_mean
    );
    // Alone, 23 m at 1.34 m/s is about 17 s.
    assert!((quiet.to_first_shelf_s - 23.0 / FREE_MPS).abs() < 2.0, "quiet walk {}", quiet.to_first_shelf_s);
    assert_eq!(quiet.entry_waits, 0, "nobody waits at a quiet door");
    assert!(rush.entry_waits > 0, "a rush fills the doorway: arrivals wait outside");
    assert!(
        rush.to_first_shelf_s > 1.5 * quiet.to_first_shelf_s,
        "the crowd slows arrivals to the shelves: {} s vs {} s",
        rush.to_first_shelf_s,
        quiet.to_first_shelf_s
    );
    assert!(rush.slowed_hours > 0.0);
}
