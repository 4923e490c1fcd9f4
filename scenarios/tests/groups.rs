//! Groups: one block for several items (`names = [...]`, or `name = "L{n}"` with
//! `count`), devices of a group on `cells` of their own; groups expand before merging, so
//! a variant changes one item of a grouped base; and the mistakes a group invites are
//! errors at their file, line and column.

mod common;

use common::{edit, line_of, load_mini, only_problem, place, render};
use storetwin_actors::store::spec::{Cell, DeviceKind};
use storetwin_scenarios::ProblemKind;

/// MINI's L1 and L2 blocks (L2 opened at the start, so that the two are identical but
/// for their names).
const L1_L2: &str = "[[lane]]\nname = \"L1\"\nkind = \"staffed\"\nline = \"front\"\nbase_s = 20\nper_item_s = 3\n\
                     pay_s = { mobile_qr = 5, card = 10, cash = 20, prepaid = 5 }\n\n[[lane]]\nname = \"L2\"\n\
                     kind = \"staffed\"\nline = \"front\"\nopen_at_start = false\nbase_s = 20\nper_item_s = 3\n\
                     pay_s = { mobile_qr = 5, card = 10, cash = 20, prepaid = 5 }\n";

const LANE_KEYS: &str = "kind = \"staffed\"\nline = \"front\"\nbase_s = 20\nper_item_s = 3\npay_s = { mobile_qr = 5, card = 10, cash = 20, prepaid = 5 }\n";

fn both_open() -> String {
    edit(L1_L2, &L1_L2.replace("open_at_start = false\n", ""))
}

fn grouped(block: &str) -> String {
    edit(L1_L2, block)
}

#[test]
fn a_group_of_names_is_one_item_per_name() {
    let expected = load_mini(&both_open()).unwrap_or_else(|e| panic!("{}", render(&e)));
    let text = grouped(&format!("[[lane]]\nnames = [\"L1\", \"L2\"]\n{LANE_KEYS}"));
    let s = load_mini(&text).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(s.world, expected.world);
    assert_eq!(s.hash, expected.hash, "the expanded document is the one written out");
}

#[test]
fn a_name_pattern_counts_from_one() {
    let expected = load_mini(&both_open()).unwrap_or_else(|e| panic!("{}", render(&e)));
    let s = load_mini(&grouped(&format!("[[lane]]\nname = \"L{{n}}\"\ncount = 2\n{LANE_KEYS}")))
        .unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(s.world, expected.world);
}

#[test]
fn a_group_of_devices_stands_on_cells_of_its_own() {
    let beacons = "[[device]]\nnames = [\"b-left\", \"b-right\"]\ncells = [[3, 2], [7, 2]]\nkind = \"beacon\"\nrange_m = 5\n\n\
                   [[device]]\nname = \"probe-{n}\"\ncells = [[1, 3], [8, 3], [8, 2]]\nkind = \"wifi_probe\"\nrange_m = 10\n\
                   detect = 0.5\ndetect_app = 0.9\nnoise_m = 2\ninterval_s = 30\n\n[[device]]\nname = \"cam\"";
    let s = load_mini(&edit("[[device]]\nname = \"cam\"", beacons)).unwrap_or_else(|e| panic!("{}", render(&e)));
    let placed: Vec<(&str, Cell)> = s.world.store.devices.iter().map(|d| (d.name.as_str(), d.cell)).collect();
    for (name, x, y) in [("b-left", 3, 2), ("b-right", 7, 2), ("probe-1", 1, 3), ("probe-2", 8, 3), ("probe-3", 8, 2)] {
        assert!(placed.contains(&(name, Cell { x, y })), "{name} at [{x}, {y}]: {placed:?}");
    }
    let b = s.world.store.devices.iter().find(|d| d.name == "b-right").expect("b-right");
    assert_eq!(b.kind, DeviceKind::Beacon { range_m: 5.0 });
}

#[test]
fn a_variant_changes_or_removes_one_item_of_a_grouped_base() {
    let dir = common::temp_dir("grouped-base");
    let base = grouped(&format!("[[lane]]\nnames = [\"L1\", \"L2\"]\n{LANE_KEYS}"));
    std::fs::write(dir.join("a.toml"), &base).expect("write");
    let variant = "extends = \"a.toml\"\n\n[[lane]]\nname = \"L2\"\nopen_at_start = false\nbase_s = 30\n";
    std::fs::write(dir.join("b.toml"), variant).expect("write");
    let s = storetwin_scenarios::load(&dir.join("b.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    let lanes = &s.world.store.lanes;
    assert!(lanes[0].open_at_start && !lanes[1].open_at_start);
    assert_eq!(lanes[1].base_s, storetwin_actors::Dist::Constant(30.0));
    assert_eq!(lanes[0].base_s, storetwin_actors::Dist::Constant(20.0));
    // A group in the variant changes several items at once.
    let variant = "extends = \"a.toml\"\n\n[[lane]]\nnames = [\"L1\", \"L2\"]\nper_item_s = 4\n";
    std::fs::write(dir.join("c.toml"), variant).expect("write");
    let s = storetwin_scenarios::load(&dir.join("c.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert!(s.world.store.lanes[..2].iter().all(|l| l.per_item_s == storetwin_actors::Dist::Constant(4.0)));
}

/// The one problem of MINI with its L1 and L2 replaced by `block`, and its place.
fn group_problem(block: &str) -> (storetwin_scenarios::Problem, String) {
    let text = grouped(block);
    let p = only_problem(&text);
    (p, text)
}

#[test]
fn names_and_name_together_are_refused() {
    let block = format!("[[lane]]\nnames = [\"L1\", \"L2\"]\nname = \"L1\"\n{LANE_KEYS}");
    let (p, text) = group_problem(&block);
    assert_eq!(p.message(), "a group gives `names` or `name`, not both");
    assert_eq!(place(&p), format!("mini.toml:{}:1", line_of(&text, "name = \"L1\"\nkind")));
    assert_eq!(p.path(), Some("lane[0].name"));
    let (p, text) = group_problem(&format!("[[lane]]\nnames = [\"L1\", \"L2\"]\ncount = 2\n{LANE_KEYS}"));
    assert_eq!(p.message(), "a group gives `names`, or a `name` pattern with `count`, not both");
    assert_eq!(place(&p), format!("mini.toml:{}:1", line_of(&text, "count = 2")));
}

#[test]
fn an_empty_group_is_refused() {
    let (p, text) = group_problem(&format!("[[lane]]\nnames = []\n{LANE_KEYS}"));
    assert_eq!(p.message(), "an empty group: no lane is named");
    assert_eq!(place(&p), format!("mini.toml:{}:9", line_of(&text, "names = []")));
    let (p, text) = group_problem(&format!("[[lane]]\nname = \"L{{n}}\"\ncount = 0\n{LANE_KEYS}"));
    assert_eq!(p.message(), "an empty group: no lane is named");
    assert_eq!(place(&p), format!("mini.toml:{}:9", line_of(&text, "count = 0")));
    let (p, _) = group_problem(&format!("[[lane]]\nname = \"L{{n}}\"\ncount = -2\n{LANE_KEYS}"));
    assert!(p.message().starts_with("a group has from 1 to 65535 items"), "{}", p.message());
}

#[test]
fn a_name_given_twice_after_expansion_is_refused_at_the_second() {
    // A group and a block.
    let block = format!("[[lane]]\nnames = [\"L1\", \"L2\"]\n{LANE_KEYS}\n[[lane]]\nname = \"L2\"\n{LANE_KEYS}");
    let (p, text) = group_problem(&block);
    assert_eq!(p.message(), "two lanes are named \"L2\"");
    assert_eq!(p.path(), Some("lane[2].name"));
    assert_eq!(place(&p), format!("mini.toml:{}:8", line_of(&text, "name = \"L2\"\nkind")));
    // Twice in one `names`: the second is pointed at, inside the array.
    let (p, text) = group_problem(&format!("[[lane]]\nnames = [\"L1\", \"L2\", \"L1\"]\n{LANE_KEYS}"));
    assert_eq!(p.message(), "two lanes are named \"L1\"");
    assert_eq!(place(&p), format!("mini.toml:{}:22", line_of(&text, "names = [\"L1\", \"L2\", \"L1\"]")));
    // A pattern that makes a name another block has.
    let (p, _) = group_problem(&format!(
        "[[lane]]\nname = \"L{{n}}\"\ncount = 2\n{LANE_KEYS}\n[[lane]]\nname = \"L1\"\n{LANE_KEYS}"
    ));
    assert_eq!(p.message(), "two lanes are named \"L1\"");
}

#[test]
fn patterns_and_counts_go_together() {
    let (p, text) = group_problem(&format!("[[lane]]\nname = \"L\"\ncount = 2\n{LANE_KEYS}"));
    assert_eq!(p.message(), "the name of a group needs `{n}` where each item's number goes, found \"L\"");
    assert_eq!(place(&p), format!("mini.toml:{}:8", line_of(&text, "name = \"L\"")));
    let (p, text) = group_problem(&format!("[[lane]]\nname = \"L{{n}}\"\n{LANE_KEYS}"));
    assert_eq!(p.message(), "\"L{n}\" is a name pattern, but the block has no `count`");
    assert_eq!(place(&p), format!("mini.toml:{}:8", line_of(&text, "name = \"L{n}\"")));
    let (p, _) = group_problem(&format!("[[lane]]\ncount = 2\n{LANE_KEYS}"));
    assert_eq!(p.kind(), ProblemKind::MissingKey);
    assert!(p.message().starts_with("a group with `count` names its items with a pattern"), "{}", p.message());
    let (p, _) = group_problem(&format!("[[lane]]\nnames = \"L1\"\n{LANE_KEYS}"));
    assert_eq!(p.kind(), ProblemKind::WrongType);
    assert_eq!(p.message(), "`names` is an array of names");
}

#[test]
fn a_group_of_devices_gives_one_cell_per_device() {
    let probe = |placement: &str| {
        edit(
            "[[device]]\nname = \"beacon\"\nkind = \"beacon\"\nat = [3, 2]\n",
            &format!("[[device]]\nnames = [\"b1\", \"b2\"]\nkind = \"beacon\"\n{placement}"),
        )
    };
    let text = probe("cells = [[3, 2]]\n");
    let p = only_problem(&text);
    assert_eq!(p.message(), "1 cells for 2 devices");
    assert_eq!(p.label(), Some("expected 2 cells, one per device"));
    assert_eq!(place(&p), format!("mini.toml:{}:9", line_of(&text, "cells = [[3, 2]]")));
    let text = probe("at = [3, 2]\n");
    let p = only_problem(&text);
    assert!(p.message().starts_with("each device of a group stands on its own cell"), "{}", p.message());
    assert_eq!(place(&p), format!("mini.toml:{}:1", line_of(&text, "at = [3, 2]\nrange_m")));
    // Without cells, a new group of devices has no place: the key `at` is missing.
    let p = common::problem_starting(&probe(""), "missing key `at`");
    assert_eq!(p.path(), Some("device[2]"));
}
