//! A flash sale's pre-order tiers (`[[flash_sale.preorder]]`): they read into the sale's
//! spec with their times after the sale's start, the default opening is listed, and every
//! bad field (a window that closes before it opens, a ship date before the close, a
//! minimum of 0 or above the maximum, a price of 0, a name twice, a pre_order journey with
//! no tiers) points at its file, line and column.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{MINI, line_of, render, temp_dir};
use storetwin_actors::Cents;
use storetwin_actors::load::executor::Journey;
use storetwin_engine::SimTime;
use storetwin_scenarios::{Chain, Problem, ScenarioError};

/// A chain of two stores on MINI (open 08:00) with a flash sale at 08:10 and two tiers.
const TEXT: &str = concat!(
    common::two_store_chain!(),
    r#"
[flash_sale]
name = "drop"
sku = "Milk"
price = "50.00"
start = "08:10"
quota = 100
store_quota = 50
ttl = "15min"
service_s = 0.002
pay_share = 0.9
pay_after_s = 60

[flash_sale.client]
timeout = "2s"

[[flash_sale.preorder]]
name = "ship-jan-25"
closes = "20d"
ships = "24d"
price = "20.00"
min = 50
max = 100

[[flash_sale.preorder]]
name = "ship-jan-15"
opens = "1h"
closes = "10d"
ships = "14d"
price = "25.00"
min = 30
max = 60

[load.scenarios.pre_orders]
executor = "constant-arrival-rate"
journey = "pre_order"
start_time = "10m"
rate = 12
time_unit = "1d"
duration = "20d"
"#
);

fn load(test: &str, text: &str) -> (Result<Chain, ScenarioError>, PathBuf) {
    let dir = temp_dir(&format!("preorder-{test}"));
    fs::write(dir.join("mini.toml"), MINI).expect("mini.toml is written");
    fs::write(dir.join("chain.toml"), text).expect("chain.toml is written");
    (Chain::load(&dir.join("chain.toml")), dir)
}

/// TEXT with `from` replaced (once) by `to`.
fn edit(from: &str, to: &str) -> String {
    assert!(TEXT.contains(from), "TEXT has no {from:?}");
    TEXT.replacen(from, to, 1)
}

fn only_problem(test: &str, text: &str) -> (Problem, PathBuf) {
    let (result, dir) = load(test, text);
    let e = result.expect_err("the chain must not load");
    let all = e.problems();
    assert_eq!(all.len(), 1, "expected one problem, got {}", render(&e));
    (all[0].clone(), dir)
}

/// Where `needle` is in `text`, as `file:line:column`.
fn where_is(dir: &Path, text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the text"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..at].chars().count() + 1;
    format!("{}:{}:{column}", dir.join("chain.toml").display(), line_of(text, needle))
}

#[test]
fn tiers_read_into_the_sale_with_times_after_its_start() {
    let (chain, _) = load("reads", TEXT);
    let chain = chain.unwrap_or_else(|e| panic!("{}", render(&e)));
    let sale = chain.spec.flash.as_ref().expect("a flash sale");
    let start = SimTime::from_secs(600);
    assert_eq!(sale.start, start);
    let day = |d: u64| SimTime::from_secs(600 + d * 86_400);
    let [a, b] = &sale.preorder[..] else { panic!("two tiers: {:?}", sale.preorder) };
    assert_eq!((a.name.as_str(), a.opens, a.closes, a.ships), ("ship-jan-25", start, day(20), day(24)));
    assert_eq!((a.price, a.min, a.max), (Cents(20_00), 50, 100));
    assert_eq!((b.opens, b.closes, b.ships, b.price), (SimTime::from_secs(600 + 3600), day(10), day(14), Cents(25_00)));
    let load = chain.load.as_ref().expect("a [load]");
    assert_eq!(load.scenarios["pre_orders"].journey, Journey::PreOrder);
    let opens: Vec<_> = chain.defaults.iter().filter(|d| d.key.starts_with("flash_sale.preorder")).collect();
    assert_eq!(opens.len(), 1, "{opens:?}");
    assert_eq!((opens[0].key.as_str(), opens[0].value.as_str()), ("flash_sale.preorder[ship-jan-25].opens", "\"0s\""));
}

#[test]
fn a_window_closes_after_it_opens_and_ships_at_or_after_it_closes() {
    let text = edit("closes = \"10d\"", "closes = \"30min\"");
    let (p, dir) = only_problem("closes", &text);
    assert_eq!(p.path(), Some("flash_sale.preorder[1].closes"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"30min\""));
    assert_eq!(p.message(), "a tier's order window must close after it opens");
    let text = edit("ships = \"24d\"", "ships = \"19d\"");
    let (p, dir) = only_problem("ships", &text);
    assert_eq!(p.path(), Some("flash_sale.preorder[0].ships"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"19d\""));
    assert_eq!(p.message(), "a tier ships at or after its order window closes");
    // Shipping when the window closes is allowed.
    let (ok, _) = load("ships-at-close", &edit("ships = \"24d\"", "ships = \"20d\""));
    ok.unwrap_or_else(|e| panic!("{}", render(&e)));
}

#[test]
fn a_minimum_is_above_zero_and_at_most_the_maximum_and_a_price_above_zero() {
    let text = edit("min = 30", "min = 61");
    let (p, dir) = only_problem("min-max", &text);
    assert_eq!(p.path(), Some("flash_sale.preorder[1].min"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "61"));
    assert_eq!(p.message(), "a minimum of 61 is above the tier's maximum of 60");
    let text = edit("min = 50", "min = 0");
    let (p, _) = only_problem("min-zero", &text);
    assert_eq!(p.path(), Some("flash_sale.preorder[0].min"));
    assert_eq!(p.message(), "a tier's minimum is 1 order or more");
    let text = edit("price = \"25.00\"", "price = \"0.00\"");
    let (p, dir) = only_problem("price", &text);
    assert_eq!(p.path(), Some("flash_sale.preorder[1].price"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"0.00\""));
    let text = edit("name = \"ship-jan-15\"", "name = \"ship-jan-25\"");
    let (result, _) = load("twice", &text);
    let e = result.expect_err("a name twice");
    assert!(render(&e).contains("two pre-order tiers are named \"ship-jan-25\""), "{}", render(&e));
    let text = edit("max = 60", "max = 60\nmaximum = 61");
    let (p, _) = only_problem("unknown-key", &text);
    assert!(p.message().contains("maximum"), "{}", p.message());
}

#[test]
fn a_pre_order_journey_needs_tiers() {
    let start = TEXT.find("[[flash_sale.preorder]]").unwrap();
    let end = TEXT.find("[load.scenarios.pre_orders]").unwrap();
    let text = format!("{}{}", &TEXT[..start], &TEXT[end..]);
    let (p, dir) = only_problem("no-tiers", &text);
    assert_eq!(p.path(), Some("load.scenarios.pre_orders.journey"));
    assert_eq!(common::place(&p), where_is(&dir, &text, "\"pre_order\""));
}

#[test]
fn a_variant_changes_one_tier_by_name() {
    let (_, dir) = load("variant", TEXT);
    let variant = "extends = \"chain.toml\"\n\n[[flash_sale.preorder]]\nname = \"ship-jan-15\"\nmin = 10\n";
    fs::write(dir.join("variant.toml"), variant).expect("variant.toml is written");
    let chain = Chain::load(&dir.join("variant.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    let tiers = &chain.spec.flash.as_ref().expect("a sale").preorder;
    assert_eq!(tiers.len(), 2, "changed in place, not added: {tiers:?}");
    assert_eq!((tiers[1].name.as_str(), tiers[1].min, tiers[1].max), ("ship-jan-15", 10, 60));
    assert_eq!(tiers[0].min, 50);
}
