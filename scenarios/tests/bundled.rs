//! The bundled scenarios load and are what their headers say they are.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::render;
use storetwin_actors::store::spec::{CategoryId, CellKind, DeviceKind, DisruptionKind, LaneKind, StoreSpec};
use storetwin_scenarios::{Scenario, load, load_str};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn load_ok(name: &str) -> Scenario {
    load(&bundled(name)).unwrap_or_else(|e| panic!("{name} does not load:\n{}", render(&e)))
}

fn shelved_categories(store: &StoreSpec) -> BTreeSet<u16> {
    store
        .floor
        .cells
        .iter()
        .filter_map(|k| match k {
            CellKind::Shelf(c) => Some(c.0),
            _ => None,
        })
        .collect()
}

#[test]
fn weekday_is_a_mid_size_supermarket_day() {
    let s = load_ok("weekday.toml");
    let store = &s.world.store;
    let floor = &store.floor;
    let area = f64::from(floor.width) * f64::from(floor.height) * floor.cell_m * floor.cell_m;
    assert!(area >= 400.0, "{area} m²");
    assert!(shelved_categories(store).len() >= 10, "categories with shelves");
    assert_eq!(shelved_categories(store).len(), store.categories.len(), "every category has a shelf");
    assert!(floor.cells.contains(&CellKind::Entrance) && floor.cells.contains(&CellKind::Exit));
    // At least 8 aisles: count the runs of walkable cells across a row through the gondolas.
    let row = 8 * usize::from(floor.width);
    let aisles = floor.cells[row..row + usize::from(floor.width)]
        .windows(2)
        .filter(|w| !w[0].walkable() && w[1].walkable())
        .count();
    assert!(aisles >= 8, "{aisles} aisles");

    // The day: 08:00 to 20:00, about 10,000 shoppers with a lunch and an evening peak.
    assert_eq!(s.world.open_at_s, 8 * 3600);
    assert_eq!(s.world.duration.as_nanos(), 12 * 3600 * 1_000_000_000);
    let rates = &store.arrivals_per_hour;
    assert_eq!(rates.len(), 12);
    let total: f64 = rates.iter().sum();
    assert!((total - 10_000.0).abs() <= 100.0, "{total} shoppers");
    let peak = |from: usize, to: usize| rates[from..to].iter().copied().fold(0.0, f64::max);
    assert!(peak(3, 6) > rates[0] * 2.0 && peak(8, 11) > rates[6], "lunch and evening peaks: {rates:?}");
    assert!((2..=3).contains(&store.segments.len()));
    assert!((40..=80).contains(&store.catalogue.len()), "{} SKUs", store.catalogue.len());

    // Lanes of every kind, some sharing a line.
    assert!(store.lanes.len() >= 6);
    for kind in [LaneKind::Staffed, LaneKind::SelfCheckout, LaneKind::ScanAndGo] {
        assert!(store.lanes.iter().any(|l| l.kind == kind), "a {kind:?} lane");
    }
    assert!(store.lanes.iter().filter(|l| l.line.is_some()).count() >= 2);
    assert!(store.lane_policy.open_when_queue.is_some());

    // Every device kind.
    let kinds: BTreeSet<&str> = store.devices.iter().map(|d| d.kind.name()).collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    let wifi = store.devices.iter().filter(|d| matches!(d.kind, DeviceKind::WifiProbe { .. })).count();
    assert!(wifi >= 3, "{wifi} WiFi probes");

    // The scheduled disruptions of the header.
    assert!(store.disruptions.iter().any(|d| matches!(d.what, DisruptionKind::DeviceOffline(_))));
    assert!(store.disruptions.iter().any(|d| matches!(d.what, DisruptionKind::PosOutage(_))));
}

#[test]
fn layout_b_changes_only_the_floor_and_moves_dairy_to_the_back_wall() {
    let a = load_ok("weekday.toml");
    let b = load_ok("layout-b.toml");
    assert_eq!(b.files, vec![bundled("layout-b.toml"), bundled("weekday.toml")]);
    assert_ne!(a.hash, b.hash);
    assert_eq!(a.seed, b.seed);
    let (sa, sb) = (&a.world.store, &b.world.store);
    assert_ne!(sa.floor.cells, sb.floor.cells);
    assert_eq!((sa.floor.width, sa.floor.height), (sb.floor.width, sb.floor.height));
    assert_eq!(sa.catalogue, sb.catalogue);
    assert_eq!(sa.segments, sb.segments);
    assert_eq!(sa.lanes, sb.lanes);
    assert_eq!(sa.disruptions.len(), sb.disruptions.len());
    let dairy = sa.categories.iter().position(|c| c.name == "dairy").expect("a dairy category") as u16;
    let on_back_wall = |s: &StoreSpec| {
        let w = usize::from(s.floor.width);
        s.floor.cells[w..2 * w].contains(&CellKind::Shelf(CategoryId(dairy)))
    };
    assert!(!on_back_wall(sa) && on_back_wall(sb));
    // The front aisle is wider: more walkable cells in B.
    let walkable = |s: &StoreSpec| s.floor.cells.iter().filter(|k| k.walkable()).count();
    assert!(walkable(sb) > walkable(sa));
}

#[test]
fn the_hash_is_stable_and_ignores_comments_and_layout() {
    let a = load_ok("weekday.toml");
    assert_eq!(a.hash, load_ok("weekday.toml").hash);
    assert_eq!(a.hash.len(), 16);
    let text = std::fs::read_to_string(bundled("weekday.toml")).expect("weekday.toml is readable");
    let without_comments: String = text
        .lines()
        .filter(|l| {
            // Comment lines; floor rows start with '#' too, but never with "# ".
            let t = l.trim_start();
            !(t == "#" || t.starts_with("# "))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let stripped = load_str("stripped.toml", &without_comments).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(stripped.hash, a.hash);
    let changed = load_str("changed.toml", &text.replacen("seed = 20240611", "seed = 20240612", 1))
        .unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_ne!(changed.hash, a.hash);
}
