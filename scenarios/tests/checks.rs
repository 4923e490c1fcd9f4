//! Every check a scenario goes through, each shown failing: the problem has the right
//! kind, names the right file, line and column, and renders (as miette shows it) with
//! the offending text underlined and what was expected.

mod common;

use common::{MINI, edit, line_of, load_mini, only_problem, place, problem_starting, problems, render};
use storetwin_actors::Cents;
use storetwin_scenarios::ProblemKind;

#[test]
fn the_small_scenario_loads() {
    let s = load_mini(MINI).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(s.seed, 7);
    assert_eq!(s.replications, 1);
    assert_eq!(s.world.open_at_s, 8 * 3600);
    assert_eq!(s.world.duration.as_nanos(), 4 * 3600 * 1_000_000_000);
    assert_eq!((s.world.store.floor.width, s.world.store.floor.height), (10, 6));
}

// --- syntax and format ---------------------------------------------------------------

#[test]
fn a_syntax_error_points_at_the_broken_text() {
    let text = edit("[lane_policy]", "[lane_policy");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::Syntax);
    let line = line_of(&text, "[lane_policy");
    assert_eq!(place(&p), format!("mini.toml:{line}:13"));
    let shown = render(&p);
    assert!(shown.contains("[mini.toml:") && shown.contains("[lane_policy"), "{shown}");
    assert!(p.message().contains("expected `]`"), "{}", p.message());
}

#[test]
fn an_unknown_key_is_underlined_with_the_keys_expected() {
    let text = edit("balk_at = 6", "balk_at = 6\nbalk_after = 3");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::UnknownKey);
    assert_eq!(p.path(), Some("segment[0].balk_after"));
    assert_eq!(place(&p), format!("mini.toml:{}:1", line_of(&text, "balk_after")));
    let shown = render(&p);
    assert!(shown.contains("unknown key `balk_after`"), "{shown}");
    assert!(shown.contains("did you mean `balk_at`?"), "{shown}");
    assert!(shown.contains("─┬─") || shown.contains("───"), "the key is underlined: {shown}");
}

#[test]
fn an_unknown_top_level_section_is_an_unknown_key() {
    let text = format!("{MINI}\n[lanes_policy]\nopen_when_queue = 2\n");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::UnknownKey);
    assert!(p.help_text().is_some_and(|h| h.contains("did you mean `lane_policy`?")), "{:?}", p.help_text());
}

#[test]
fn a_wrong_type_says_what_was_expected() {
    let text = edit("staff = 1", "staff = \"two\"");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::WrongType);
    assert_eq!(p.path(), Some("replenishment.staff"));
    assert_eq!(place(&p), format!("mini.toml:{}:9", line_of(&text, "staff = \"two\"")));
    assert_eq!(p.message(), "expected a whole number from 0 to 4294967295, found the string \"two\"");
    assert!(render(&p).contains("expected a whole number from 0 to 4294967295"));
}

#[test]
fn a_missing_key_points_at_its_table() {
    let text = edit("name = \"SCO\"\nkind = \"self_checkout\"\n", "name = \"SCO\"\n");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::MissingKey);
    assert_eq!(p.message(), "missing key `kind`");
    assert_eq!(p.path(), Some("lane[2]"));
    // The third [[lane]] header.
    let third = text.match_indices("[[lane]]").nth(2).map(|(i, _)| text[..i].matches('\n').count() + 1);
    assert_eq!(place(&p), format!("mini.toml:{}:1", third.unwrap_or(0)));
}

#[test]
fn a_missing_section_is_named() {
    let text = edit("[replenishment]\nstaff = 1\ntrip_s = { dist = \"lognormal\", mean = 240, sd = 60 }\n", "");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::MissingKey);
    assert!(p.message().contains("replenishment"), "{}", p.message());
}

#[test]
fn a_bad_time_of_day_is_refused() {
    let p = only_problem(&edit("open = \"08:00\"", "open = \"8am\""));
    assert_eq!(p.kind(), ProblemKind::BadValue);
    assert_eq!(p.message(), "expected a time of day like \"08:00\", found the string \"8am\"");
    // A TOML local time works as well as a string.
    let s = load_mini(&edit("open = \"08:00\"", "open = 08:30:00")).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(s.world.open_at_s, 8 * 3600 + 1800);
}

#[test]
fn bad_distributions_name_the_parameter() {
    let p = only_problem(&edit("dwell_s = 10", "dwell_s = { dist = \"exponential\", mean = 10, sd = 2 }"));
    assert_eq!(p.path(), Some("segment[0].dwell_s"));
    assert!(p.message().contains("`sd` is not a parameter of the exponential distribution"), "{}", p.message());
    let p = only_problem(&edit("dwell_s = 10", "dwell_s = { dist = \"gamma\", mean = 10 }"));
    assert_eq!(p.path(), Some("segment[0].dwell_s.dist"));
    assert!(p.message().contains("unknown value \"gamma\""), "{}", p.message());
    let p = only_problem(&edit("dwell_s = 10", "dwell_s = { dist = \"uniform\", low = 5 }"));
    assert!(p.message().contains("the uniform distribution needs `high`"), "{}", p.message());
}

// --- money ----------------------------------------------------------------------------

#[test]
fn prices_are_exact_cents_whether_strings_or_numbers() {
    let s = load_mini(MINI).unwrap_or_else(|e| panic!("{}", render(&e)));
    let catalogue = &s.world.store.catalogue;
    assert_eq!((catalogue[0].price, catalogue[0].cost), (Cents(119), Cents(80)));
    // `price = 2.49` is a TOML float; its text is read, not its binary value.
    assert_eq!((catalogue[1].price, catalogue[1].cost), (Cents(249), Cents(100)));
    for (written, cents) in [("0.29", 29), ("\"0.29\"", 29), ("1.1", 110), ("\"1234.05\"", 123_405), ("0.07", 7)] {
        let s = load_mini(&edit("price = 2.49", &format!("price = {written}")))
            .unwrap_or_else(|e| panic!("{}", render(&e)));
        assert_eq!(s.world.store.catalogue[1].price, Cents(cents), "price = {written}");
    }
}

#[test]
fn a_price_with_three_decimals_is_refused() {
    for written in ["2.499", "\"2.499\""] {
        let text = edit("price = 2.49", &format!("price = {written}"));
        let p = only_problem(&text);
        assert_eq!(p.kind(), ProblemKind::BadValue);
        assert_eq!(p.path(), Some("sku[1].price"));
        assert_eq!(place(&p), format!("mini.toml:{}:9", line_of(&text, &format!("price = {written}"))));
        assert!(p.message().contains("at most 2 decimals"), "{}", p.message());
    }
    let p = only_problem(&edit("price = 2.49", "price = -2.49"));
    assert!(p.message().contains("cannot be negative"), "{}", p.message());
    let p = only_problem(&edit("price = 2.49", "price = \"€2.49\""));
    assert!(p.message().contains("decimal number"), "{}", p.message());
}

// --- floor -----------------------------------------------------------------------------

#[test]
fn rows_of_unequal_length_are_pointed_at() {
    // Without a floor, the devices placed on it cannot be named: the disruption naming
    // one is not reported.
    let text = edit("#........#\n#.1.2", "#.........#\n#.1.2");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::Floor);
    assert_eq!(p.message(), "row 2 of the floor has 11 cells, but row 0 has 10");
    assert_eq!(place(&p), format!("mini.toml:{}:1", line_of(&text, "#.........#")));
    assert!(render(&p).contains("expected 10 cells"));
}

#[test]
fn a_character_missing_from_the_legend_is_pointed_at_in_the_art() {
    let text = edit("#....K...#", "#....K..?#");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::Floor);
    assert_eq!(p.message(), "character '?' at [8, 4] is not in the legend");
    assert_eq!(place(&p), format!("mini.toml:{}:9", line_of(&text, "#....K..?#")));
    let shown = render(&p);
    assert!(shown.contains("not in [store.legend]"), "{shown}");
    assert!(shown.contains("add an entry such as \"?\" = \"floor\""), "{shown}");
}

#[test]
fn a_legend_key_is_one_character() {
    let p = only_problem(&edit("\"W\" = \"floor\"", "\"W\" = \"floor\"\n\"ab\" = \"floor\""));
    assert_eq!(p.message(), "a legend key is one character, found \"ab\"");
}

#[test]
fn a_shelf_nobody_can_reach_is_pointed_at() {
    // Wall off the bakery shelves: "bb" is surrounded by walls and other shelves.
    let text = edit("#aa.bb..W#\n#........#", "#aa#bb#.W#\n#...##...#");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::Floor);
    assert_eq!(
        p.message(),
        "the bakery shelf at [4, 1] cannot be reached (2 bakery shelf cells in all): no walkable cell next to it \
         connects to the entrance at [2, 5]"
    );
    assert_eq!(place(&p), format!("mini.toml:{}:5", line_of(&text, "#aa#bb#")));
}

#[test]
fn an_unreachable_lane_and_exit_are_pointed_at() {
    // Walls around the exit at [7, 5].
    let text = edit("#....K...#", "#....K.#.#");
    let p = only_problem(&text);
    assert_eq!(p.message(), "the exit at [7, 5] cannot be reached from the entrance at [2, 5]");
    assert_eq!(place(&p), format!("mini.toml:{}:8", line_of(&text, "##E####X##")));
    // Walls around the lane at [8, 3].
    let text = edit("#........#\n#.1.2.3..#\n#....K...#", "#.......##\n#.1.2..#3#\n#....K..##");
    let p = only_problem(&text);
    assert_eq!(p.message(), "the lane at [8, 3] cannot be reached from the entrance at [2, 5]");
    assert_eq!(place(&p), format!("mini.toml:{}:9", line_of(&text, "#.1.2..#3#")));
    assert!(render(&p).contains("unreachable lane"));
}

#[test]
fn a_floor_without_entrance_or_exit_is_refused() {
    // (The door counter placed on "E" cells has nowhere to stand either.)
    let p = problem_starting(&edit("##E####X##", "#######X##"), "the floor has no entrance");
    assert_eq!(p.path(), Some("store.floor"));
    let p = only_problem(&edit("##E####X##", "##E#######"));
    assert_eq!(p.message(), "the floor has no exit");
}

#[test]
fn a_sku_whose_category_has_no_shelf_is_refused() {
    let text = edit("#aa.bb..W#", "#aa....W.#").replace("at = [4, 1]", "at = [2, 1]");
    let p = only_problem(&text);
    assert_eq!(p.kind(), ProblemKind::Floor);
    assert_eq!(p.message(), "category \"bakery\" has no shelf on the floor");
    assert_eq!(p.path(), Some("sku[1].category"));
    assert_eq!(place(&p), format!("mini.toml:{}:12", line_of(&text, "category = \"bakery\"")));
}

#[test]
fn a_category_without_skus_is_refused() {
    let p = only_problem(&edit("bakery = 1.0", "bakery = 1.0\nfrozen = 0.5"));
    assert_eq!(p.message(), "category \"frozen\" has no SKUs");
}

#[test]
fn a_shelf_of_an_undeclared_category_is_a_reference_problem() {
    let p = only_problem(&edit("\"b\" = { shelf = \"bakery\" }", "\"b\" = { shelf = \"bakrey\" }"));
    assert_eq!(p.kind(), ProblemKind::Reference);
    assert_eq!(p.path(), Some("store.legend.b.shelf"));
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean \"bakery\"?")), "{:?}", p.help_text());
}

#[test]
fn zones_stay_on_the_floor_and_apart() {
    let p = only_problem(&edit("to = [8, 2]", "to = [10, 2]"));
    assert!(p.message().starts_with("[10, 2] is outside the floor"), "{}", p.message());
    let text = edit("to = [8, 2]\n", "to = [8, 2]\n\n[[store.zone]]\nname = \"lanes\"\nfrom = [1, 2]\nto = [8, 3]\n");
    let p = only_problem(&text);
    assert!(p.message().contains("overlaps zone \"shelves\""), "{}", p.message());
}

// --- stock --------------------------------------------------------------------------

#[test]
fn stock_must_fit_its_shelf_and_cannot_be_negative() {
    let p = only_problem(&edit("shelf = 30", "shelf = 50"));
    assert_eq!(p.message(), "50 units on the shelf, above its capacity of 40");
    assert_eq!(p.path(), Some("sku[0].shelf"));
    let p = only_problem(&edit("back_room = 100", "back_room = -5"));
    assert_eq!(p.kind(), ProblemKind::BadValue);
    assert_eq!(p.message(), "expected a whole number from 0 to 4294967295, found the whole number -5");
    let p = only_problem(&edit("reorder_at = 10", "reorder_at = 41"));
    assert!(p.message().starts_with("reorder level 41 is above the shelf capacity"), "{}", p.message());
}

// --- shoppers ---------------------------------------------------------------------------

#[test]
fn segment_shares_must_sum_to_one() {
    let p = only_problem(&edit("share = 0.75", "share = 0.8"));
    assert_eq!(p.path(), Some("segment"));
    assert_eq!(p.message(), "segment shares sum to 1.05, not 1 (quick 0.8 + big 0.25)");
    // Within 1e-6 is fine.
    assert!(load_mini(&edit("share = 0.75", "share = 0.7500000001")).is_ok());
}

#[test]
fn payment_shares_must_sum_to_one() {
    let text = edit("payment = { mobile_qr = 0.5, card = 0.5 }", "payment = { mobile_qr = 0.5, card = 0.4 }");
    let p = only_problem(&text);
    assert_eq!(p.path(), Some("segment[0].payment"));
    assert!(p.message().starts_with("payment shares sum to 0.9, not 1"), "{}", p.message());
    assert_eq!(place(&p), format!("mini.toml:{}:11", line_of(&text, "payment = { mobile_qr = 0.5, card = 0.4 }")));
}

#[test]
fn probabilities_lie_between_zero_and_one() {
    let p = only_problem(&edit("member_share = 0.4", "member_share = 1.4"));
    assert_eq!(p.path(), Some("segment[0].member_share"));
    assert_eq!(p.message(), "a share or probability is from 0 to 1, found 1.4");
    assert_eq!(p.label(), Some("expected a number from 0 to 1"));
    let p = only_problem(&edit("recognise = 0.8", "recognise = -0.1"));
    assert_eq!(p.path(), Some("device[3].recognise"));
    let p = only_problem(&edit("substitute = 0.5", "substitute = 0.95"));
    assert!(p.message().contains("substitute (0.95) + endless_aisle (0.1) is above 1"), "{}", p.message());
}

#[test]
fn arrival_rates_fit_the_opening_hours_and_are_not_negative() {
    let p = only_problem(&edit("per_hour = [30, 60, 40, 20]", "per_hour = [30, -60, 40, 20]"));
    assert_eq!(p.path(), Some("arrivals.per_hour[1]"));
    assert_eq!(p.message(), "must be 0 or more, found -60");
    let text = edit("per_hour = [30, 60, 40, 20]", "per_hour = [30, 60, 40, 20, 10]");
    let p = only_problem(&text);
    assert_eq!(p.message(), "5 hourly rates, but the store is open 4 hours (08:00 to 12:00)");
    assert_eq!(place(&p), format!("mini.toml:{}:12", line_of(&text, "per_hour = [30, 60, 40, 20, 10]")));
    assert_eq!(p.label(), Some("expected 4 rates, one per opening hour"));
    // Fewer rates than hours is as wrong: the last hours would silently have no arrivals.
    let text = edit("per_hour = [30, 60, 40, 20]", "per_hour = [30, 60, 40]");
    let p = only_problem(&text);
    assert_eq!(p.message(), "3 hourly rates, but the store is open 4 hours (08:00 to 12:00)");
    assert_eq!(p.path(), Some("arrivals.per_hour"));
    assert_eq!(place(&p), format!("mini.toml:{}:12", line_of(&text, "per_hour = [30, 60, 40]")));
    assert!(p.help_text().is_some_and(|h| h.contains("0 for an hour without arrivals")), "{:?}", p.help_text());
    // A last, partial hour needs its rate too: 08:00 to 12:30 is 5 hours of rates.
    let p = only_problem(&edit("close = \"12:00\"", "close = \"12:30\""));
    assert_eq!(p.message(), "4 hourly rates, but the store is open 5 hours (08:00 to 12:30)");
    assert!(load_mini(&edit("close = \"12:00\"", "close = \"12:30\"").replace("40, 20]", "40, 20, 5]")).is_ok());
}

#[test]
fn closing_must_come_after_opening() {
    let text = edit("close = \"12:00\"", "close = \"08:00\"");
    let all = problems(&text);
    assert_eq!(all[0].message(), "closing time 08:00 is not after opening time 08:00");
    assert_eq!(place(&all[0]), format!("mini.toml:{}:9", line_of(&text, "close = \"08:00\"")));
}

// --- lanes ----------------------------------------------------------------------------

#[test]
fn some_lane_must_be_open_at_the_start() {
    let text = MINI
        .replace(
            "kind = \"staffed\"\nline = \"front\"\nbase_s",
            "kind = \"staffed\"\nline = \"front\"\nopen_at_start = false\nbase_s",
        )
        .replace("kind = \"self_checkout\"\n", "kind = \"self_checkout\"\nopen_at_start = false\n");
    let p = only_problem(&text);
    assert_eq!(p.message(), "no lane is open when the store opens");
    assert_eq!(p.path(), Some("lane"));
}

#[test]
fn lanes_in_the_legend_and_lanes_declared_must_match() {
    // In the legend, not declared.
    let p = only_problem(&edit("\"3\" = { lane = \"SCO\" }", "\"3\" = { lane = \"SCO\" }\n\"4\" = { lane = \"L4\" }"));
    assert_eq!(p.kind(), ProblemKind::Reference);
    assert_eq!(p.message(), "no lane is named \"L4\"");
    assert_eq!(p.path(), Some("store.legend.4.lane"));
    // Declared, not in the legend.
    let text = edit("\"3\" = { lane = \"SCO\" }\n", "").replace("#.1.2.3..#", "#.1.2....#");
    let p = only_problem(&text);
    assert_eq!(p.message(), "lane \"SCO\" is not drawn on the floor");
    assert_eq!(p.path(), Some("lane[2].name"));
    // The suggested legend key is one character the legend does not use yet (lane index 2
    // would have been "3", which the legend no longer has here, but the suggestion must not
    // depend on the lane's position: lane 10 would have been "11").
    let help = p.help_text().unwrap_or_default();
    assert!(help.starts_with("add a legend entry such as \"3\" = { lane = \"SCO\" }"), "{help}");
    let lanes: String = (3..=12)
        .map(|n| format!("[[lane]]\nname = \"L{n}\"\nkind = \"staffed\"\nbase_s = 1\nper_item_s = 1\npay_s = {{}}\n\n"))
        .collect();
    let all = problems(&edit("[lane_policy]", &format!("{lanes}[lane_policy]")));
    let l12 = all.iter().find(|p| p.message() == "lane \"L12\" is not drawn on the floor").expect("L12 is reported");
    let help = l12.help_text().unwrap_or_default();
    assert!(help.starts_with("add a legend entry such as \"4\" = { lane = \"L12\" }"), "{help}");
    // In the legend but never drawn.
    let p = only_problem(&edit("#.1.2.3..#", "#.1.2....#"));
    assert_eq!(p.message(), "lane \"SCO\" has the legend character '3', but it is not drawn on the floor");
}

#[test]
fn shared_lines_must_exist_and_be_used() {
    let p = only_problem(&edit("line = \"front\"\nbase_s", "line = \"frnot\"\nbase_s"));
    assert_eq!(p.message(), "no line is named \"frnot\"");
    let p = only_problem(&edit("[lines.front]", "[lines.back]\n\n[lines.front]"));
    assert_eq!(p.message(), "line \"back\" feeds no lane");
}

#[test]
fn lane_names_are_unique() {
    let text = edit("name = \"L2\"", "name = \"L1\"").replace("\"2\" = { lane = \"L2\" }", "\"2\" = { lane = \"L1\" }");
    let p = only_problem(&text);
    assert_eq!(p.message(), "two lanes are named \"L1\"");
    assert_eq!(p.path(), Some("lane[1].name"));
}

// --- devices ----------------------------------------------------------------------------

#[test]
fn devices_take_exactly_the_settings_of_their_kind() {
    let p = only_problem(&edit("range_m = 5", "range_m = 5\ndetect = 0.5"));
    assert_eq!(p.kind(), ProblemKind::UnknownKey);
    assert_eq!(p.message(), "`detect` is not a setting of a beacon");
    assert_eq!(p.label(), Some("a beacon takes `range_m`"));
    // The probe is still known by name: the disruption naming it is not a problem.
    let p = only_problem(&edit("noise_m = 3\n", ""));
    assert_eq!(p.kind(), ProblemKind::MissingKey);
    assert_eq!(p.message(), "a wifi_probe needs `noise_m`");
}

#[test]
fn devices_stand_on_the_floor() {
    let p = only_problem(&edit("at = [3, 2]", "at = [30, 2]"));
    assert!(p.message().starts_with("[30, 2] is outside the floor"), "{}", p.message());
    let p = only_problem(&edit("at = \"K\"", "at = \"Q\""));
    assert_eq!(p.message(), "no cell of the floor is drawn with 'Q'");
    let p = only_problem(&edit("at = [4, 1]", "at = [6, 4]"));
    assert_eq!(p.message(), "smart_shelf [6, 4] is neither on nor next to a shelf");
}

#[test]
fn no_device_stands_on_a_wall() {
    // A cell given as [x, y]: the beacon at [0, 2] is in the left wall.
    let text = edit("at = [3, 2]", "at = [0, 2]");
    let p = only_problem(&text);
    assert_eq!(p.message(), "beacon [0, 2] is on a wall");
    assert_eq!(p.path(), Some("device[2].at"));
    assert_eq!(place(&p), format!("mini.toml:{}:6", line_of(&text, "at = [0, 2]")));
    assert_eq!(p.label(), Some("a wall cell"));
    // An ESL next to a shelf, but in the wall: a wall is wrong for every kind.
    let p = only_problem(&edit("at = \"a\"", "at = [0, 1]"));
    assert_eq!(p.message(), "esl [0, 1] is on a wall");
    // A character drawn on walls.
    let text = edit("at = \"K\"", "at = \"#\"");
    let p = only_problem(&text);
    assert_eq!(p.message(), "kiosk [0, 0] is on a wall");
    assert_eq!(p.label(), Some("'#' is drawn on wall cells"));
    assert_eq!(place(&p), format!("mini.toml:{}:6", line_of(&text, "at = \"#\"")));
    // Mounted on a shelf is fine for a sensor, and a door counter stands on the entrance.
    let s = load_mini(&edit("at = [3, 2]", "at = [1, 1]")).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert!(s.world.store.devices.iter().any(|d| d.name == "beacon" && (d.cell.x, d.cell.y) == (1, 1)));
}

// --- disruptions --------------------------------------------------------------------------

#[test]
fn disruptions_name_things_that_exist() {
    let p = only_problem(&edit("device_offline = \"wifi\"", "device_offline = \"wify\""));
    assert_eq!(p.kind(), ProblemKind::Reference);
    assert_eq!(p.message(), "no device is named \"wify\"");
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean \"wifi\"?")), "{:?}", p.help_text());
    let p = only_problem(&edit("pos_outage = \"L1\"", "pos_outage = \"L9\""));
    assert_eq!(p.message(), "no lane is named \"L9\"");
    let p = only_problem(&edit("sku = \"Milk\"", "sku = \"Cream\""));
    assert_eq!(p.message(), "no SKU is named \"Cream\"");
    assert_eq!(p.path(), Some("disruption[2].price_change.sku"));
}

#[test]
fn a_disruption_is_one_thing_inside_opening_hours() {
    let p = only_problem(&edit("pos_outage = \"L1\"", "pos_outage = \"L1\"\nlane_closed = \"L2\""));
    assert!(p.message().ends_with("found `lane_closed` and `pos_outage`"), "{}", p.message());
    let p = only_problem(&edit("at = \"09:00\"", "at = \"07:00\""));
    assert_eq!(p.message(), "07:00 is outside opening hours (08:00 to 12:00)");
    let p = only_problem(&edit("until = \"09:30\"", "until = \"08:30\""));
    assert_eq!(p.message(), "the disruption ends (08:30) before it starts (09:00)");
    let p = only_problem(&edit("at = \"11:00\"", "at = \"11:00\"\nuntil = \"11:30\""));
    assert_eq!(p.message(), "a price change is permanent and takes no `until`");
}

#[test]
fn disruption_times_are_since_opening() {
    let s = load_mini(MINI).unwrap_or_else(|e| panic!("{}", render(&e)));
    let d = &s.world.store.disruptions[0];
    assert_eq!(d.at.as_nanos(), 3600 * 1_000_000_000);
    assert_eq!(d.until.map(|t| t.as_nanos()), Some(5400 * 1_000_000_000));
}

// --- files that are not scenarios ---------------------------------------------------------

#[test]
fn a_cargo_manifest_is_not_a_scenario_and_says_so() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let e = storetwin_scenarios::load(&manifest).expect_err("Cargo.toml is no scenario");
    let [p] = e.problems() else { panic!("one problem: {}", render(&e)) };
    assert_eq!(p.kind(), ProblemKind::NotAScenario);
    assert_eq!(
        p.message(),
        format!("{} is not a storetwin scenario (it looks like a Cargo manifest)", manifest.display())
    );
    assert_eq!(place(p), format!("{}:1:2", manifest.display()));
    // As the name is given: `storetwin validate scenarios/*.toml` reports it so.
    let text = std::fs::read_to_string(&manifest).expect("readable");
    let e = storetwin_scenarios::load_str("scenarios/Cargo.toml", &text).expect_err("no scenario");
    assert_eq!(e.to_string(), "scenarios/Cargo.toml is not a storetwin scenario (it looks like a Cargo manifest)");
    // Any TOML file without a single scenario section.
    let e = storetwin_scenarios::load_str("tool.toml", "[tool.black]\nline-length = 100\n").expect_err("no scenario");
    assert_eq!(e.to_string(), "tool.toml is not a storetwin scenario");
    // A scenario missing its [run] is still a scenario with a missing section.
    let p = only_problem(&edit("[run]\nseed = 7\nopen = \"08:00\"\nclose = \"12:00\"\n", ""));
    assert_eq!(p.kind(), ProblemKind::MissingKey);
}

#[test]
fn extending_a_file_that_is_not_a_scenario_points_at_the_extends() {
    let dir = common::temp_dir("extends-cargo");
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let b = format!("extends = {:?}\n[run]\nseed = 2\n", manifest.display().to_string());
    std::fs::write(dir.join("b.toml"), &b).expect("write");
    let e = storetwin_scenarios::load(&dir.join("b.toml")).expect_err("no scenario");
    let p = &e.problems()[0];
    assert_eq!(p.kind(), ProblemKind::NotAScenario);
    assert_eq!(place(p), format!("{}:1:11", dir.join("b.toml").display()));
}

// --- several problems --------------------------------------------------------------------

#[test]
fn several_problems_are_reported_together_in_file_order() {
    let text =
        edit("seed = 7", "seed = -7").replace("balk_at = 8", "balk_at = \"many\"").replace("staff = 1", "staf = 1");
    let error = load_mini(&text).expect_err("three problems");
    let all = error.problems();
    assert_eq!(all.len(), 3, "{:#?}", all.iter().map(|p| p.to_string()).collect::<Vec<_>>());
    let lines: Vec<usize> = all.iter().map(|p| p.location().map_or(0, |l| l.line)).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "in file order: {lines:?}");
    let shown = render(&error);
    assert!(shown.contains("scenario mini.toml has 3 problems"), "{shown}");
    for p in all {
        assert!(shown.contains(p.message()), "{shown}");
    }
    // Semantic problems are also gathered.
    let text = edit("member_share = 0.4", "member_share = 4").replace("shelf = 30", "shelf = 41");
    assert_eq!(problems(&text).len(), 2);
}
