//! The bundled scenarios build exactly the worlds they built before they were shortened
//! with groups and by-name changes.
//!
//! The fingerprints below were taken from the original files (commit d7cba93, where
//! weekday.toml listed its 18 lanes one by one and every variant restated each array it
//! touched): a 64-bit FNV-1a hash of the `Debug` text of the built `WorldSpec` and of each
//! of its parts, so that a mismatch says which part changed. The scenario hashes (of the
//! merged document) were taken from the same files: the rewritten files merge to the same
//! document, key for key.

use std::path::Path;

use storetwin_scenarios::{Scenario, load};

fn fnv(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Fingerprints of a scenario's world: the whole, then each part.
fn fingerprints(s: &Scenario) -> Vec<(&'static str, u64)> {
    let store = &s.world.store;
    vec![
        ("world", fnv(&format!("{:?}", s.world))),
        ("run", fnv(&format!("{:?}", (s.seed, s.replications, s.world.open_at_s, s.world.duration)))),
        ("store.name", fnv(&format!("{:?}", store.name))),
        ("store.floor", fnv(&format!("{:?}", store.floor))),
        ("store.categories", fnv(&format!("{:?}", store.categories))),
        ("store.catalogue", fnv(&format!("{:?}", store.catalogue))),
        ("store.segments", fnv(&format!("{:?}", store.segments))),
        ("store.arrivals_per_hour", fnv(&format!("{:?}", store.arrivals_per_hour))),
        ("store.lanes", fnv(&format!("{:?}", store.lanes))),
        ("store.lines", fnv(&format!("{:?}", store.lines))),
        ("store.lane_policy", fnv(&format!("{:?}", store.lane_policy))),
        ("store.devices", fnv(&format!("{:?}", store.devices))),
        ("store.disruptions", fnv(&format!("{:?}", store.disruptions))),
        ("store.replenishment", fnv(&format!("{:?}", store.replenishment))),
    ]
}

/// Weekday's parts, which most variants share.
const WEEKDAY: [(&str, u64); 14] = [
    ("world", 0x3ea638f2ab7580db),
    ("run", 0xf45a1d927e6caf18),
    ("store.name", 0xc5a614f01add4888),
    ("store.floor", 0x949f3cccdadd7423),
    ("store.categories", 0xf8bdd34cf7ea321f),
    ("store.catalogue", 0x91f982cbd3f423e8),
    ("store.segments", 0x2878bcccd27e0e4c),
    ("store.arrivals_per_hour", 0x3d3b028d680b4c30),
    ("store.lanes", 0x5803154e81c1b1eb),
    ("store.lines", 0x2c3893ed4ce3d569),
    ("store.lane_policy", 0x351d66997c8dfe26),
    ("store.devices", 0x379d041a33854841),
    ("store.disruptions", 0x6d8cc65b56149d4a),
    ("store.replenishment", 0x102c3e44fac1f757),
];

/// Fingerprints of some parts of a world.
type Parts = &'static [(&'static str, u64)];

/// Each bundled scenario: its scenario hash and the parts of its world that differ from
/// weekday's.
const ORIGINAL: &[(&str, &str, Parts)] = &[
    ("weekday.toml", "8701532834c48e9d", &[]),
    (
        "layout-b.toml",
        "03a76ef925dc1620",
        &[("world", 0xf488b1da03c88358), ("store.floor", 0xc7c1dd4c2f7c59e0), ("store.devices", 0x57934fef9387d229)],
    ),
    (
        "staffing-lean.toml",
        "de407a1905040051",
        &[("world", 0x09f02df7ca88ebb7), ("store.disruptions", 0xc39f2226aef5df9a)],
    ),
    (
        "promo-endcap.toml",
        "30dbe1a4a4dc9eee",
        &[
            ("world", 0xab12b0a9661373c1),
            ("store.devices", 0xee3ce110eb94de79),
            ("store.disruptions", 0xe4b1c61f71249908),
        ],
    ),
    (
        "holiday-peak.toml",
        "0489d680c9898749",
        &[
            ("world", 0x4a31bb448861f08a),
            ("store.floor", 0x12227a698e9f88cf),
            ("store.arrivals_per_hour", 0x5a33f4d2eefcae26),
            ("store.lanes", 0xd126ad60a08e4f84),
        ],
    ),
    (
        "device-failures.toml",
        "85cef80db8e708ed",
        &[("world", 0x330e589f293c5811), ("store.disruptions", 0xd816c773d09e7cc0)],
    ),
    ("ops-lunch.toml", "05357e21f5b13db6", &[("world", 0x84975d61b08d59de), ("store.lane_policy", 0x0464f4785e9ecc25)]),
];

fn bundled(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    load(&path).unwrap_or_else(|e| panic!("{name} does not load: {:?}", miette::Report::new(e)))
}

#[test]
fn every_bundled_scenario_builds_the_world_its_original_file_built() {
    let mut wrong = Vec::new();
    for (name, _, changed) in ORIGINAL {
        let scenario = bundled(name);
        for (part, got) in fingerprints(&scenario) {
            let expected =
                changed.iter().chain(WEEKDAY.iter()).find(|(p, _)| *p == part).map(|(_, h)| *h).expect("every part");
            if got != expected {
                wrong.push(format!("{name}: {part} is {got:#018x}, was {expected:#018x}"));
            }
        }
    }
    assert!(wrong.is_empty(), "worlds changed:\n{}", wrong.join("\n"));
}

#[test]
fn every_bundled_scenario_merges_to_the_document_of_its_original_file() {
    for (name, hash, _) in ORIGINAL {
        assert_eq!(bundled(name).hash, *hash, "{name}: the merged document changed");
    }
}

#[test]
fn the_fingerprints_see_a_change() {
    // A changed world changes the fingerprint of the part changed, and of the whole.
    let mut s = bundled("weekday.toml");
    let before = fingerprints(&s);
    s.world.store.lanes[6].open_at_start = true;
    let after = fingerprints(&s);
    let differ: Vec<&str> = before.iter().zip(&after).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0).collect();
    assert_eq!(differ, ["world", "store.lanes"]);
}
