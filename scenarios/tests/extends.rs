//! `extends`: a scenario written as a change to another. Tables merge key by key, named
//! arrays by name (change, add, place, remove), a distribution of another kind replaces
//! the base's, other values replace; chains work; cycles and missing bases are errors; and
//! a problem in a value points into the file that wrote it.

mod common;

use std::fs;
use std::path::Path;

use common::{MINI, line_of, place, render, temp_dir};
use storetwin_actors::Dist;
use storetwin_scenarios::{ProblemKind, Scenario, ScenarioError, load};

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).expect("the test file can be written");
}

/// Loads `variant` written as b.toml over `base` written as a.toml.
fn over(test: &str, base: &str, variant: &str) -> (Result<Scenario, ScenarioError>, std::path::PathBuf) {
    let dir = temp_dir(test);
    write(&dir, "a.toml", base);
    write(&dir, "b.toml", variant);
    (load(&dir.join("b.toml")), dir)
}

fn loaded(result: Result<Scenario, ScenarioError>) -> Scenario {
    result.unwrap_or_else(|e| panic!("{}", render(&e)))
}

fn bundled(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name).display().to_string()
}

#[test]
fn tables_merge_and_other_arrays_replace() {
    let dir = temp_dir("merge");
    write(&dir, "a.toml", MINI);
    write(
        &dir,
        "b.toml",
        "extends = \"a.toml\"\n\n[run]\nseed = 99\n\n[arrivals]\nper_hour = [10, 20, 30, 40]\n\n[lane_policy]\nopen_when_queue = 5\n",
    );
    let a = load(&dir.join("a.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    let b = load(&dir.join("b.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(b.seed, 99);
    assert_eq!(b.world.open_at_s, a.world.open_at_s, "run.open comes from a.toml");
    assert_eq!(b.world.store.arrivals_per_hour, vec![10.0, 20.0, 30.0, 40.0], "arrays replace, never append");
    assert_eq!(b.world.store.lane_policy.open_when_queue, Some(5));
    assert_eq!(b.world.store.lane_policy.close_when_idle, a.world.store.lane_policy.close_when_idle);
    assert_eq!(b.world.store.catalogue, a.world.store.catalogue);
    assert_eq!(b.files, vec![dir.join("b.toml"), dir.join("a.toml")]);
    assert_ne!(a.hash, b.hash);
}

#[test]
fn chains_of_extends_apply_in_order() {
    let dir = temp_dir("chain");
    fs::create_dir_all(dir.join("base")).expect("subdirectory");
    write(&dir.join("base"), "a.toml", MINI);
    write(&dir, "b.toml", "extends = \"base/a.toml\"\n[run]\nseed = 1\nreplications = 3\n");
    write(&dir, "c.toml", "extends = \"b.toml\"\n[run]\nseed = 2\n");
    let c = load(&dir.join("c.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!((c.seed, c.replications), (2, 3));
    assert_eq!(c.files.len(), 3);
}

#[test]
fn a_problem_in_an_inherited_value_points_into_the_base_file() {
    let dir = temp_dir("inherited");
    // A value only a.toml wrote (a bad price) is reported in a.toml; a value b.toml
    // wrote (a bad opening time) in b.toml.
    write(&dir, "a.toml", &MINI.replacen("price = 2.49", "price = 2.499", 1));
    write(
        &dir,
        "b.toml",
        "extends = \"a.toml\"\n\n[store]\nname = \"Corner shop B\"\n\n[run]\nseed = 3\nopen = \"7am\"\n",
    );
    let error = load(&dir.join("b.toml")).expect_err("two problems");
    let problems = error.problems();
    let shown = render(&error);
    let in_a = problems.iter().find(|p| p.path() == Some("sku[1].price")).unwrap_or_else(|| panic!("{shown}"));
    let line_a = MINI.lines().position(|l| l == "price = 2.49").map(|i| i + 1).unwrap_or(0);
    assert_eq!(place(in_a), format!("{}:{line_a}:9", dir.join("a.toml").display()));
    let in_b = problems.iter().find(|p| p.path() == Some("run.open")).unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(place(in_b), format!("{}:8:8", dir.join("b.toml").display()));
    assert!(shown.contains("a.toml:") && shown.contains("b.toml:"), "{shown}");
}

#[test]
fn a_floor_replaced_by_the_extending_file_is_checked_there() {
    let dir = temp_dir("floor");
    write(&dir, "a.toml", MINI);
    let b = "extends = \"a.toml\"\n\n[store]\nfloor = '''\n##########\n#aa.bb..W#\n#........#\n#.1.2.3..#\n#....K..?#\n##E####X##\n'''\n";
    write(&dir, "b.toml", b);
    let error = load(&dir.join("b.toml")).expect_err("an unknown character");
    let p = &error.problems()[0];
    assert_eq!(p.kind(), ProblemKind::Floor);
    assert_eq!(place(p), format!("{}:9:9", dir.join("b.toml").display()));
    assert!(render(&error).contains("#....K..?#"));
}

#[test]
fn a_cycle_names_the_files() {
    let dir = temp_dir("cycle");
    write(&dir, "a.toml", &format!("extends = \"b.toml\"\n{MINI}"));
    write(&dir, "b.toml", "extends = \"a.toml\"\n[run]\nseed = 1\n");
    let error = load(&dir.join("a.toml")).expect_err("a cycle");
    let p = &error.problems()[0];
    assert_eq!(p.kind(), ProblemKind::Extends);
    let a = dir.join("a.toml").display().to_string();
    let b = dir.join("b.toml").display().to_string();
    assert_eq!(p.message(), format!("extends cycle: {a} extends {b} extends {a}"));
    assert_eq!(place(p), format!("{b}:1:11"));
    // A file extending itself is the shortest cycle.
    write(&dir, "self.toml", "extends = \"self.toml\"\n");
    let error = load(&dir.join("self.toml")).expect_err("a cycle");
    assert_eq!(error.problems()[0].kind(), ProblemKind::Extends);
}

#[test]
fn a_missing_base_points_at_the_extends_value() {
    let dir = temp_dir("missing");
    write(&dir, "b.toml", "# layout B\nextends = \"nowhere.toml\"\n");
    let error = load(&dir.join("b.toml")).expect_err("no base");
    let p = &error.problems()[0];
    assert_eq!(p.kind(), ProblemKind::Extends);
    assert!(p.message().starts_with(&format!("cannot read {}", dir.join("nowhere.toml").display())), "{}", p.message());
    assert_eq!(place(p), format!("{}:2:11", dir.join("b.toml").display()));
    // A missing file given directly has no place to point at.
    let error = load(&dir.join("absent.toml")).expect_err("no file");
    assert_eq!(error.problems()[0].kind(), ProblemKind::Io);
    assert!(error.problems()[0].location().is_none());
    // `extends` must be a path.
    write(&dir, "c.toml", "extends = 3\n");
    let error = load(&dir.join("c.toml")).expect_err("not a path");
    assert_eq!(error.problems()[0].kind(), ProblemKind::WrongType);
}

// --- named arrays merge by name -------------------------------------------------------

#[test]
fn a_three_line_variant_changes_one_lane_of_the_grouped_weekday() {
    // The README's example: weekday.toml writes L7-L10 as one group; a variant names L7.
    let variant = format!("extends = {:?}\n[[lane]]\nname = \"L7\"\nopen_at_start = true\n", bundled("weekday.toml"));
    let (b, _) = over("readme", "", &variant);
    let b = loaded(b);
    let a = loaded(load(Path::new(&bundled("weekday.toml"))));
    let (la, lb) = (&a.world.store.lanes, &b.world.store.lanes);
    assert_eq!(la.len(), lb.len(), "a change adds no lane");
    for (i, (x, y)) in la.iter().zip(lb).enumerate() {
        if x.name == "L7" {
            assert!(!x.open_at_start && y.open_at_start, "L7 opens at the start in the variant");
            assert_eq!((&x.base_s, &x.pay_s, x.kind), (&y.base_s, &y.pay_s, y.kind), "only open_at_start changes");
        } else {
            assert_eq!(x, y, "lane {i} ({}) is unchanged", x.name);
        }
    }
    let mut same = b.world.clone();
    same.store.lanes = a.world.store.lanes.clone();
    assert_eq!(same, a.world, "nothing else changes");
}

#[test]
fn a_change_gives_only_the_keys_it_changes() {
    let (b, _) = over(
        "change",
        MINI,
        "extends = \"a.toml\"\n\n[[sku]]\nname = \"Bread\"\nshelf = 10\n\n[[segment]]\nname = \"big\"\n\
         payment = { cash = 0.5, prepaid = 0 }\n",
    );
    let b = loaded(b);
    let a = loaded(common::load_mini(MINI));
    let (sa, sb) = (&a.world.store, &b.world.store);
    assert_eq!(sb.catalogue[1].shelf, 10);
    let mut bread = sa.catalogue[1].clone();
    bread.shelf = 10;
    assert_eq!(sb.catalogue[1], bread, "the other keys of Bread are the base's");
    assert_eq!(sb.catalogue[0], sa.catalogue[0]);
    // Tables inside an item merge too: mobile_qr and card stay 0.25.
    let pay = &sb.segments[1].payment;
    assert_eq!((pay.mobile_qr, pay.card, pay.cash, pay.prepaid), (0.25, 0.25, 0.5, 0.0));
}

#[test]
fn new_items_come_after_the_base_s_or_after_the_one_named() {
    let sku = |name: &str, extra: &str| {
        format!(
            "[[sku]]\nname = \"{name}\"\n{extra}category = \"dairy\"\nprice = 1\ncost = 0.5\nshelf = 5\n\
             shelf_capacity = 10\nback_room = 0\nreorder_at = 1\n\n"
        )
    };
    let variant = format!(
        "extends = \"a.toml\"\n\n{}{}{}{}",
        sku("Yoghurt", ""),
        sku("Cream", "after = \"Milk\"\n"),
        sku("Butter", "after = \"Milk\"\n"),
        sku("Kefir", "")
    );
    let (b, _) = over("placed", MINI, &variant);
    let b = loaded(b);
    let names: Vec<&str> = b.world.store.catalogue.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Milk", "Cream", "Butter", "Bread", "Yoghurt", "Kefir"]);
}

#[test]
fn an_item_is_removed_by_name() {
    let (b, _) = over(
        "remove",
        MINI,
        "extends = \"a.toml\"\n\n[[device]]\nname = \"beacon\"\nremove = true\n\n[[store.zone]]\n\
         name = \"shelves\"\nremove = true\n",
    );
    let b = loaded(b);
    let a = loaded(common::load_mini(MINI));
    let names = |s: &Scenario| s.world.store.devices.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
    let mut expected = names(&a);
    expected.retain(|n| n != "beacon");
    assert_eq!(names(&b), expected);
    assert!(b.world.store.floor.zones.is_empty());
    // The disruption naming the removed WiFi probe would now name nothing.
    let (b, dir) = over("remove-used", MINI, "extends = \"a.toml\"\n\n[[device]]\nname = \"wifi\"\nremove = true\n");
    let e = b.expect_err("the disruption names a removed device");
    assert_eq!(e.problems()[0].message(), "no device is named \"wifi\"");
    assert!(place(&e.problems()[0]).starts_with(&dir.join("a.toml").display().to_string()));
}

#[test]
fn a_removal_takes_only_its_name_and_points_at_the_variant() {
    let variant = "extends = \"a.toml\"\n\n[[device]]\nname = \"beacon\"\nremove = true\nrange_m = 3\n";
    let (b, dir) = over("remove-keys", MINI, variant);
    let e = b.expect_err("remove with another key");
    let p = &e.problems()[0];
    assert_eq!(e.problems().len(), 1);
    assert_eq!(p.message(), "a removal takes only `name` and `remove = true`, not `range_m`");
    assert_eq!(place(p), format!("{}:{}:1", dir.join("b.toml").display(), line_of(variant, "range_m")));
    // A name the base does not have.
    let variant = "extends = \"a.toml\"\n\n[[device]]\nname = \"beakon\"\nremove = true\n";
    let (b, dir) = over("remove-unknown", MINI, variant);
    let p = b.expect_err("no such device").problems()[0].clone();
    assert_eq!(p.kind(), ProblemKind::Reference);
    assert_eq!(p.message(), "the scenario this file extends has no device named \"beakon\" to remove");
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean \"beacon\"?")), "{:?}", p.help_text());
    assert_eq!(place(&p), format!("{}:4:8", dir.join("b.toml").display()));
}

#[test]
fn remove_and_after_need_a_base() {
    let text = common::edit("name = \"beacon\"\n", "name = \"beacon\"\nremove = true\n");
    let p = common::only_problem(&text);
    assert_eq!(p.message(), "`remove` removes an item of the scenario this file extends, but it extends none");
    assert_eq!(place(&p), format!("mini.toml:{}:1", line_of(&text, "remove = true")));
    let text = common::edit("name = \"beacon\"\n", "name = \"beacon\"\nafter = \"door\"\n");
    let p = common::only_problem(&text);
    assert!(p.message().starts_with("`after` places a new item"), "{}", p.message());
}

#[test]
fn disruptions_without_a_name_are_added_and_named_ones_change_by_name() {
    let base =
        common::edit("[[disruption]]\nat = \"10:00\"", "[[disruption]]\nname = \"lunch outage\"\nat = \"10:00\"");
    let variant = "extends = \"a.toml\"\n\n[[disruption]]\nname = \"lunch outage\"\nuntil = \"10:40\"\n\n\
                   [[disruption]]\nat = \"11:30\"\nlane_closed = \"L2\"\n";
    let (b, _) = over("disruptions", &base, variant);
    let b = loaded(b);
    let a = loaded(common::load_mini(MINI));
    let (da, db) = (&a.world.store.disruptions, &b.world.store.disruptions);
    assert_eq!(db.len(), da.len() + 1, "the unnamed disruption is added");
    assert_eq!(db[1].at, da[1].at);
    assert_eq!(db[1].until.map(|t| t.as_nanos()), Some(2 * 3600 * 1_000_000_000 + 40 * 60 * 1_000_000_000));
    assert_eq!(db[..1], da[..1]);
    assert_eq!(db[2], da[2]);
}

#[test]
fn a_distribution_of_another_kind_replaces_the_base_s() {
    // Over a lognormal, a table with `dist = "exponential"` replaces the whole table (a
    // merge would keep the lognormal's `sd`, which the exponential does not take).
    let (b, _) = over(
        "dist-kind",
        MINI,
        "extends = \"a.toml\"\n[replenishment]\ntrip_s = { dist = \"exponential\", mean = 240 }\n",
    );
    assert_eq!(loaded(b).world.store.replenishment.trip, Dist::Exponential { mean: 240.0 });
    // The same kind, or parameters alone, merge.
    let (b, _) = over("dist-same", MINI, "extends = \"a.toml\"\n[replenishment]\ntrip_s = { mean = 300 }\n");
    assert_eq!(loaded(b).world.store.replenishment.trip, Dist::lognormal(300.0, 60.0).expect("valid"));
    let (b, _) = over(
        "dist-lane",
        MINI,
        "extends = \"a.toml\"\n[[lane]]\nname = \"L1\"\nbase_s = { dist = \"uniform\", low = 10, high = 30 }\n",
    );
    assert_eq!(loaded(b).world.store.lanes[0].base_s, Dist::Uniform { low: 10.0, high: 30.0 });
}

#[test]
fn a_problem_in_a_merged_value_points_into_the_variant() {
    let variant = "extends = \"a.toml\"\n\n[[lane]]\nname = \"SCO\"\nper_item_s = { dist = \"normal\", mean = -4, sd = 1 }\n\n\
                   [[sku]]\nname = \"Bread\"\nshelf = 25\n";
    let (b, dir) = over("merged-problem", MINI, variant);
    let e = b.expect_err("two problems");
    let b_toml = dir.join("b.toml").display().to_string();
    let lane = e
        .problems()
        .iter()
        .find(|p| p.path() == Some("lane[2].per_item_s"))
        .unwrap_or_else(|| panic!("{}", render(&e)));
    assert_eq!(place(lane), format!("{b_toml}:{}:14", line_of(variant, "per_item_s")));
    let shelf =
        e.problems().iter().find(|p| p.path() == Some("sku[1].shelf")).unwrap_or_else(|| panic!("{}", render(&e)));
    assert_eq!(shelf.message(), "25 units on the shelf, above its capacity of 20");
    assert_eq!(place(shelf), format!("{b_toml}:{}:9", line_of(variant, "shelf = 25")));
    // A type error in a changed item, found when the merged scenario is read.
    let (b, dir) =
        over("merged-type", MINI, "extends = \"a.toml\"\n[[lane]]\nname = \"L2\"\nopen_at_start = \"yes\"\n");
    let p = b.expect_err("not a boolean").problems()[0].clone();
    assert_eq!(p.kind(), ProblemKind::WrongType);
    assert_eq!(place(&p), format!("{}:4:17", dir.join("b.toml").display()));
}
