//! `extends`: a scenario written as a change to another. Tables merge key by key, other
//! values replace; chains work; cycles and missing bases are errors; and a problem in a
//! value points into the file that wrote it.

mod common;

use std::fs;
use std::path::Path;

use common::{MINI, place, render, temp_dir};
use storetwin_scenarios::{ProblemKind, load};

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).expect("the test file can be written");
}

#[test]
fn tables_merge_and_arrays_replace() {
    let dir = temp_dir("merge");
    write(&dir, "a.toml", MINI);
    write(
        &dir,
        "b.toml",
        "extends = \"a.toml\"\n\n[run]\nseed = 99\n\n[arrivals]\nper_hour = [10]\n\n[lane_policy]\nopen_when_queue = 5\n",
    );
    let a = load(&dir.join("a.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    let b = load(&dir.join("b.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(b.seed, 99);
    assert_eq!(b.world.open_at_s, a.world.open_at_s, "run.open comes from a.toml");
    assert_eq!(b.world.store.arrivals_per_hour, vec![10.0], "arrays replace, never append");
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
