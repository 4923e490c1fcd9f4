//! Chain files: the bundled chains load into the `ChainSpec` their headers describe; every
//! store is on the chain's catalogue (same SKUs in the same order at the same prices, its
//! own stock) and clock; template variation is drawn from the seed, the same every time and
//! different across stores; and every mistake points at its file, line and column.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{MINI, line_of, render, temp_dir};
use storetwin_actors::Cents;
use storetwin_actors::chain::spec::{CouponKind, CouponScope, Funding, OfflineCoupons, StackClass, StoreIdx, Validity};
use storetwin_actors::store::spec::{CategoryId, CellKind, DisruptionKind, SkuId};
use storetwin_engine::{SimDuration, SimTime};
use storetwin_scenarios::{Chain, FileKind, Problem, ProblemKind, ScenarioError, file_kind};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn load_ok(path: &Path) -> Chain {
    Chain::load(path).unwrap_or_else(|e| panic!("{} does not load:\n{}", path.display(), render(&e)))
}

/// A chain of four stores on MINI (common::MINI, 08:00 to 12:00): one on its own, and a
/// template of three with drawn arrivals and places.
const CHAIN: &str = r#"[run]
seed = 5
open = "08:00"
close = "12:00"

[chain]
name = "Corner Group"

[[store]]
name = "north"
file = "mini.toml"
location_km = [1, 2]

[[store]]
name = "T{n:02}"
count = 3
file = "mini.toml"
arrivals_scale = { dist = "uniform", low = 0.5, high = 1.5 }
region_km = [10, 10]
pickers = 2

[platform]
latency = { min = "20ms", extra_s = 0.01 }
stock_sync_every = "5min"
pick_base_s = 60
pick_per_line_s = 20
pickup_hold = "24h"
collect_after_s = 3600
pickup_no_show = 0.05
pickup_service_s = 45
courier_s = 1800
ship_s = 86400

[members]
population = 1000
point_value = "0.01"
redeem_share = 0.1
redeem_max = 0.2

[[members.level]]
name = "basic"
share = 1.0
points_per_unit = 1

[[online]]
name = "app"
channel = "app"
orders_per_hour = [2, 4, 4, 2]
basket = 3
fulfilment = { pickup = 0.5, same_city = 0.5 }
member_share = 0.8
payment = { mobile_qr = 1.0 }

[[coupon]]
name = "milk-off"
type = "cash"
off = "0.20"
applies_to = { sku = "Milk" }
issue = "wifi_portal"
claim_share = 0.3
validity = { from = "08:00", to = "12:00" }
funding = { hq = 0.5, franchisee = 0.2, brand = 0.3 }

[[partition]]
store = "north"
from = "09:00"
to = "09:10"
"#;

/// CHAIN with `from` replaced (once) by `to`; panics if `from` is not in CHAIN.
fn edit(from: &str, to: &str) -> String {
    assert!(CHAIN.contains(from), "CHAIN has no {from:?}");
    CHAIN.replacen(from, to, 1)
}

/// Writes MINI as mini.toml and `chain` as chain.toml in a fresh directory.
fn chain_dir(test: &str, chain: &str) -> PathBuf {
    let dir = temp_dir(&format!("chain-{test}"));
    fs::write(dir.join("mini.toml"), MINI).expect("mini.toml is written");
    fs::write(dir.join("chain.toml"), chain).expect("chain.toml is written");
    dir
}

fn load_chain(test: &str, chain: &str) -> (Result<Chain, ScenarioError>, PathBuf) {
    let dir = chain_dir(test, chain);
    (Chain::load(&dir.join("chain.toml")), dir)
}

/// The one problem of a chain that must not load, and the directory it was written in.
fn only_problem(test: &str, chain: &str) -> (Problem, PathBuf) {
    let (result, dir) = load_chain(test, chain);
    let e = result.expect_err("the chain must not load");
    let all = e.problems();
    assert_eq!(all.len(), 1, "expected one problem, got {:#?}", all.iter().map(|p| p.to_string()).collect::<Vec<_>>());
    (all[0].clone(), dir)
}

/// `file:line:column` of a problem in `chain.toml` (or another file) of `dir`.
fn at(dir: &Path, file: &str, line: usize, column: usize) -> String {
    format!("{}:{line}:{column}", dir.join(file).display())
}

fn place(p: &Problem) -> String {
    common::place(p)
}

/// 1-based column of the first occurrence of `needle` in its line of `text`.
fn column_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the text"));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].chars().count() + 1
}

/// Where `needle` is in `text`, as `file:line:column` of `file` in `dir`.
fn where_is(dir: &Path, file: &str, text: &str, needle: &str) -> String {
    at(dir, file, line_of(text, needle), column_of(text, needle))
}

// --- the bundled chains ----------------------------------------------------------------

#[test]
fn three_stores_in_a_town() {
    let chain = load_ok(&bundled("chain-3-stores.toml"));
    let spec = &chain.spec;
    let names: Vec<&str> = spec.stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["riverside", "old-town", "station"]);
    assert_eq!(file_kind(&bundled("chain-3-stores.toml")).ok(), Some(FileKind::Chain));
    assert_eq!(chain.seed, 20240611);
    assert_eq!((spec.open_at_s, spec.duration), (8 * 3600, SimDuration::from_secs(12 * 3600)));
    let weekday = storetwin_scenarios::load(&bundled("weekday.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    let lean = storetwin_scenarios::load(&bundled("staffing-lean.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));

    // One catalogue: every store's is the chain's, in the same order at the same prices.
    assert_eq!(spec.catalogue.len(), weekday.world.store.catalogue.len());
    for store in &spec.stores {
        let world = &store.world;
        assert_eq!(world.store.name, store.name);
        assert_eq!((world.open_at_s, world.duration), (spec.open_at_s, spec.duration));
        let cats: Vec<&str> = world.store.categories.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cats, spec.categories.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(world.store.catalogue.len(), spec.catalogue.len());
        for (own, chain) in world.store.catalogue.iter().zip(&spec.catalogue) {
            assert_eq!(
                (&own.name, own.category, own.price, own.cost),
                (&chain.name, chain.category, chain.price, chain.cost)
            );
            assert_eq!(own.popularity, chain.popularity);
        }
    }
    // riverside is weekday.toml on the chain's clock (the same hours): unchanged.
    let riverside = &spec.stores[0];
    assert_eq!(riverside.world.store.arrivals_per_hour, weekday.world.store.arrivals_per_hour);
    assert_eq!(riverside.world.store.catalogue, weekday.world.store.catalogue);
    assert_eq!(riverside.world.store.floor, weekday.world.store.floor);
    assert_eq!((riverside.pickers, riverside.franchise_bps), (3, None));
    assert_eq!(riverside.offline_coupons, OfflineCoupons::Refuse);
    let old_town = &spec.stores[1];
    assert_eq!(old_town.franchise_bps, Some(7000));
    assert_eq!(old_town.offline_coupons, OfflineCoupons::AcceptAndSync);
    // station: 80% of staffing-lean's shoppers and stock, four staffed lanes at opening.
    let station = &spec.stores[2].world.store;
    for (s, l) in station.arrivals_per_hour.iter().zip(&lean.world.store.arrivals_per_hour) {
        assert!((s - 0.8 * l).abs() < 1e-9, "{s} vs {l}");
    }
    let bananas = (&station.catalogue[0], &lean.world.store.catalogue[0]);
    assert_eq!(bananas.0.back_room, (f64::from(bananas.1.back_room) * 0.8).round() as u32);
    assert_eq!(station.replenishment.staff, 4);
    let open: Vec<&str> = station.lanes.iter().filter(|l| l.open_at_start).map(|l| l.name.as_str()).collect();
    assert_eq!(open[..4], ["L1", "L2", "L3", "L4"]);
    assert_eq!(open.len(), 12);
    assert_eq!(station.disruptions.len(), lean.world.store.disruptions.len());

    // The platform, members, online shoppers, campaigns and disruptions of the header.
    assert_eq!(spec.platform.latency_min, SimDuration::from_millis(20));
    assert_eq!(spec.platform.pick_target, SimDuration::from_secs(900));
    assert_eq!(spec.platform.pickup_hold, SimDuration::from_secs(72 * 3600));
    assert_eq!(spec.platform.kiosk_collect_share, 0.5);
    assert_eq!(spec.platform.transfer_s, storetwin_actors::Dist::lognormal(10800.0, 3600.0).unwrap());
    assert_eq!(spec.platform.settlement.fee_bps, [60, 120, 0, 0]);
    assert_eq!(spec.members.levels.len(), 3);
    assert_eq!(spec.members.redeem_max_bps, 2000);
    // Guests and WiFi-portal users register; no referrals; the till's default timeout.
    assert_eq!(spec.members.register_share, 0.2);
    assert_eq!(spec.members.referral_share, 0.0);
    assert_eq!(spec.platform.coupon_timeout, SimDuration::from_secs(5));
    assert_eq!(spec.online.len(), 3);
    let online: f64 = spec.online.iter().flat_map(|o| &o.orders_per_hour).sum();
    let in_store: f64 = spec.stores.iter().flat_map(|s| &s.world.store.arrivals_per_hour).sum();
    assert!(online / in_store < 0.05 && online > 100.0, "{online} online, {in_store} in store");
    let lunch: f64 = spec.online.iter().map(|o| o.orders_per_hour[4]).sum();
    assert!(lunch / 3.0 <= 30.0, "tens of orders per store and hour: {lunch}");
    let names: Vec<&str> = spec.campaigns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["dairy-wifi", "spend-30-save-3", "pickup-welcome"]);
    let dairy = spec.categories.iter().position(|c| c == "dairy").expect("dairy") as u16;
    let wifi = &spec.campaigns[0];
    assert_eq!(wifi.kind, CouponKind::Cash { off: Cents(40) });
    assert_eq!(wifi.scope, CouponScope::Category(CategoryId(dairy)));
    assert_eq!(wifi.funding, Funding { hq_bps: 0, franchisee_bps: 0, brand_bps: 10_000 });
    assert_eq!(wifi.budget_total, Some(Cents(100_000)));
    let threshold = &spec.campaigns[1];
    assert_eq!(threshold.kind, CouponKind::Threshold { spend: Cents(3000), off: Cents(300) });
    assert_eq!(threshold.validity, Validity::AfterClaim(SimDuration::from_secs(7 * 86_400)));
    assert_eq!(threshold.activate_at, SimTime::from_secs(3600));
    assert_eq!(threshold.pauses, vec![(SimTime::from_secs(4 * 3600), SimTime::from_secs(6 * 3600))]);
    assert_eq!(threshold.stop_at, Some(SimTime::from_secs(11 * 3600)));
    assert_eq!(threshold.combines_with, vec![StackClass::Product, StackClass::Service]);
    assert_eq!(spec.campaigns[2].stores, Some(vec![StoreIdx(0), StoreIdx(1), StoreIdx(2)]));
    // Issue channels and types differ between the campaigns.
    let issues: std::collections::BTreeSet<_> = spec.campaigns.iter().map(|c| c.issue).collect();
    assert_eq!(issues.len(), 3);
    assert_eq!(spec.partitions.len(), 1);
    let p = spec.partitions[0];
    assert_eq!(p.store, Some(StoreIdx(2)));
    assert_eq!(p.to.as_nanos() - p.from.as_nanos(), 15 * 60 * 1_000_000_000);
    assert_eq!(spec.courier_delays[0].extra, SimDuration::from_secs(1200));

    // The files: the chain, then each scenario and what it extends, once.
    assert_eq!(chain.files[0], bundled("chain-3-stores.toml"));
    assert_eq!(chain.files.len(), 4, "{:?}", chain.files);
    assert_eq!(chain.hash.len(), 16);
    assert_eq!(chain.hash, load_ok(&bundled("chain-3-stores.toml")).hash);
}

#[test]
fn a_hundred_stores_and_a_million_shoppers() {
    let path = bundled("chain-100-stores.toml");
    let text = fs::read_to_string(&path).expect("readable");
    assert!(text.lines().count() < 250, "a short file: {} lines", text.lines().count());
    let chain = load_ok(&path);
    let spec = &chain.spec;
    assert_eq!(spec.stores.len(), 100);
    let names: Vec<&str> = spec.stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        (names[0], names[39], names[40], names[84], names[85], names[99]),
        ("S001", "S040", "N001", "N045", "F001", "F015")
    );
    let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), 100);

    // About a million shoppers: in store (the hourly rates of a 12-hour day) and online.
    let in_store: f64 = spec.stores.iter().flat_map(|s| &s.world.store.arrivals_per_hour).sum();
    let online: f64 = spec.online.iter().flat_map(|o| &o.orders_per_hour).sum();
    let total = in_store + online;
    assert!((total - 1_000_000.0).abs() < 50_000.0, "{in_store} in store + {online} online = {total}");
    assert!(online < 0.1 * total);
    let per_store_hour = online / 100.0 / 12.0;
    assert!((10.0..=60.0).contains(&per_store_hour), "{per_store_hour} online orders per store and hour");

    // Identity across stores: one catalogue.
    for store in &spec.stores {
        let own: Vec<(&str, Cents)> = store.world.store.catalogue.iter().map(|s| (s.name.as_str(), s.price)).collect();
        let chain: Vec<(&str, Cents)> = spec.catalogue.iter().map(|s| (s.name.as_str(), s.price)).collect();
        assert_eq!(own, chain, "{}", store.name);
    }

    // Variation: every template store differs from the others, within its bounds.
    let weekday = storetwin_scenarios::load(&bundled("weekday.toml")).unwrap_or_else(|e| panic!("{}", render(&e)));
    let base: f64 = weekday.world.store.arrivals_per_hour.iter().sum();
    let scales: Vec<f64> =
        spec.stores[..40].iter().map(|s| s.world.store.arrivals_per_hour.iter().sum::<f64>() / base).collect();
    assert!(scales.iter().all(|s| (0.85..=1.25).contains(s)), "{scales:?}");
    let distinct: std::collections::BTreeSet<u64> = scales.iter().map(|s| s.to_bits()).collect();
    assert_eq!(distinct.len(), 40, "every store draws its own scale");
    let places: std::collections::BTreeSet<(u64, u64)> =
        spec.stores.iter().map(|s| (s.location_km.0.to_bits(), s.location_km.1.to_bits())).collect();
    assert_eq!(places.len(), 100);
    for s in &spec.stores {
        let (x, y) = s.location_km;
        assert!((0.0..=40.0).contains(&x) && (0.0..=25.0).contains(&y), "{}: {x}, {y}", s.name);
    }
    for s in &spec.stores[85..] {
        let (x, y) = s.location_km;
        assert!((15.0..=25.0).contains(&x) && (8.0..=17.0).contains(&y), "flagship {}: {x}, {y}", s.name);
        assert_eq!(s.pickers, 5);
    }
    assert!(
        spec.stores[40..85].iter().all(|s| s.franchise_bps == Some(7000) && s.world.store.replenishment.staff == 3)
    );

    // Deterministic per seed: the same file gives the same chain; another seed other draws
    // (the store scenarios are found relative to the working directory: this crate's).
    assert_eq!(load_ok(&path).spec, chain.spec);
    let reseeded = Chain::load_str("reseeded.toml", &text.replacen("seed = 20240611", "seed = 7", 1))
        .unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_ne!(reseeded.spec.stores[0].location_km, spec.stores[0].location_km);
    assert_ne!(reseeded.spec.stores[0].world.store.arrivals_per_hour, spec.stores[0].world.store.arrivals_per_hour);
    assert_ne!(reseeded.hash, chain.hash);
}

#[test]
fn the_bundled_chains_are_chains_and_the_stores_are_not() {
    for (name, kind) in [
        ("chain-3-stores.toml", FileKind::Chain),
        ("chain-100-stores.toml", FileKind::Chain),
        ("weekday.toml", FileKind::Store),
        ("layout-b.toml", FileKind::Store),
    ] {
        assert_eq!(file_kind(&bundled(name)).ok(), Some(kind), "{name}");
    }
    // A chain file given to the store loader is one problem saying what it is.
    let e = storetwin_scenarios::load(&bundled("chain-3-stores.toml")).expect_err("a chain is no store scenario");
    assert_eq!(e.problems().len(), 1, "{}", render(&e));
    assert_eq!(e.problems()[0].kind(), ProblemKind::NotAScenario);
    assert!(e.to_string().ends_with("chain-3-stores.toml is a chain file, not a store scenario"), "{e}");
    let e = Chain::load(&bundled("weekday.toml")).expect_err("a store scenario is no chain");
    assert!(e.to_string().ends_with("weekday.toml is a store scenario, not a chain file"), "{e}");
}

// --- the small chain -------------------------------------------------------------------

#[test]
fn the_small_chain_loads_with_its_template() {
    let (result, _) = load_chain("small", CHAIN);
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let spec = &chain.spec;
    let names: Vec<&str> = spec.stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["north", "T01", "T02", "T03"]);
    assert_eq!(spec.stores[0].location_km, (1.0, 2.0));
    assert_eq!((spec.stores[0].pickers, spec.stores[1].pickers), (1, 2));
    let coupon = &spec.campaigns[0];
    assert_eq!(coupon.scope, CouponScope::Sku(SkuId(0)));
    assert_eq!(coupon.funding, Funding { hq_bps: 5000, franchisee_bps: 2000, brand_bps: 3000 });
    assert_eq!(coupon.class, StackClass::Product, "the default class of a SKU coupon");
    assert_eq!(coupon.per_member_limit, 1);
    // MINI's price change at 11:00 names its SKU by the chain's id.
    let change = spec.stores[0].world.store.disruptions.iter().find_map(|d| match d.what {
        DisruptionKind::PriceChange { sku, price } => Some((sku, price, d.at)),
        _ => None,
    });
    assert_eq!(change, Some((SkuId(0), Cents(99), SimTime::from_secs(3 * 3600))));
    // The template's three stores draw three different scales, within the bounds.
    let base: f64 = spec.stores[0].world.store.arrivals_per_hour.iter().sum();
    let scales: Vec<f64> =
        spec.stores[1..].iter().map(|s| s.world.store.arrivals_per_hour.iter().sum::<f64>() / base).collect();
    assert!(scales.iter().all(|s| (0.5..=1.5).contains(s)), "{scales:?}");
    assert!(scales[0] != scales[1] && scales[1] != scales[2], "{scales:?}");
}

#[test]
fn the_defaults_list_what_the_chain_filled_in() {
    let (result, _) = load_chain("defaults", CHAIN);
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let find = |key: &str| chain.defaults.iter().find(|d| d.key == key).map(|d| d.value.as_str());
    assert_eq!(find("run.replications"), Some("1"));
    assert_eq!(find("store[north].pickers"), Some("1"));
    assert_eq!(find("store[T02].pickers"), None, "the template gives its pickers");
    assert_eq!(find("store[T02].arrivals_scale"), None);
    assert_eq!(find("store[north].arrivals_scale"), Some("1"));
    assert_eq!(find("store[north].franchise"), Some("none"));
    assert_eq!(find("store[north].location_km"), None);
    assert_eq!(find("platform.pick_target"), Some("\"15min\""));
    assert_eq!(find("platform.settlement"), Some("none"));
    assert_eq!(find("platform.coupon_timeout"), Some("\"5s\""));
    assert_eq!(find("members.register_share"), Some("0"));
    assert_eq!(find("members.referral_share"), Some("0"));
    assert_eq!(find("members.referral_join_after_s"), Some("{ dist = \"exponential\", mean = 3600 }"));
    assert_eq!(find("platform.kiosk_collect_share"), Some("0.5"));
    assert_eq!(find("platform.transfer_s"), Some("platform.ship_s"));
    assert_eq!(chain.spec.platform.kiosk_collect_share, 0.5);
    assert_eq!(chain.spec.platform.transfer_s, chain.spec.platform.ship_s);
    assert_eq!(find("coupon[milk-off].per_member_limit"), Some("1"));
    assert_eq!(find("coupon[milk-off].class"), Some("\"product\""));
    assert_eq!(find("online[app].fulfilment.ship_from_store"), Some("0"));
    assert_eq!(find("sku"), Some("the catalogue of mini.toml (2 SKUs)"));
    // What the chain replaces in its store scenario, and the scenario's own defaults, once.
    assert_eq!(find("mini.toml:run"), Some("the chain's [run]"));
    assert_eq!(find("mini.toml:replenishment.round_s"), Some("3600"));
    assert_eq!(chain.defaults.iter().filter(|d| d.key == "mini.toml:replenishment.round_s").count(), 1);
    assert!(chain.defaults.iter().all(|d| !d.key.starts_with("mini.toml:run.")));
    assert!(chain.defaults.iter().all(|d| !d.note.is_empty()));
}

#[test]
fn the_defaults_list_what_a_load_test_leaves_out() {
    let text = format!(
        "{CHAIN}\n[load.scenarios.surge]\nexecutor = \"ramping-arrival-rate\"\njourney = \"grab_online\"\n\
         stages = [{{ duration = \"1m\", target = 10 }}]\n\n[load.scenarios.loop]\nexecutor = \"ramping-shoppers\"\n\
         journey = \"grab_in_store\"\nstart_time = \"1m\"\nstages = [{{ duration = \"1m\", target = 10 }}]\n"
    );
    let (result, _) = load_chain("load-defaults", &text);
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let find = |key: &str| chain.defaults.iter().find(|d| d.key == key).map(|d| d.value.as_str());
    assert_eq!(find("load.scenarios.surge.start_time"), Some("\"0s\""));
    assert_eq!(find("load.scenarios.surge.time_unit"), Some("\"1s\""));
    assert_eq!(find("load.scenarios.surge.start_rate"), Some("0"));
    assert_eq!(find("load.scenarios.surge.max_shoppers"), Some("no limit"));
    assert_eq!(find("load.scenarios.loop.start_time"), None, "given");
    assert_eq!(find("load.scenarios.loop.start_shoppers"), Some("0"));
    assert_eq!(find("load.scenarios.loop.time_unit"), None, "a closed executor has no rate");
    assert_eq!(find("load.seed"), Some("run.seed"));
    assert!(find("load.summary_trend_stats").is_some_and(|v| v.contains("p(95)")));
}

#[test]
fn the_chain_catalogue_renumbers_each_store_and_gives_it_no_stock_of_what_it_lacks() {
    // The chain sells Bread and Milk in another order, plus a category MINI has no shelf
    // for (beverages, which sorts between bakery and dairy) and a SKU MINI does not list.
    let skus = r#"
[[sku]]
name = "Cola"
category = "beverages"
price = "1.50"
cost = "0.60"

[[sku]]
name = "Milk"
category = "dairy"
price = "1.09"
cost = "0.80"
popularity = 3

[[sku]]
name = "Cheese"
category = "dairy"
price = "3.00"
cost = "2.00"

[[sku]]
name = "Bread"
category = "bakery"
price = "2.49"
cost = "1.00"
"#;
    let (result, _) = load_chain("renumber", &format!("{CHAIN}{skus}"));
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let spec = &chain.spec;
    assert_eq!(spec.categories, ["bakery", "beverages", "dairy"]);
    let store = &spec.stores[0].world.store;
    let names: Vec<&str> = store.catalogue.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Cola", "Milk", "Cheese", "Bread"]);
    let milk = &store.catalogue[1];
    // The chain's price and popularity, MINI's stock.
    assert_eq!((milk.price, milk.popularity, milk.category), (Cents(109), 3.0, CategoryId(2)));
    assert_eq!((milk.shelf, milk.shelf_capacity, milk.back_room, milk.reorder_at), (30, 40, 100, 10));
    for unlisted in [&store.catalogue[0], &store.catalogue[2]] {
        assert_eq!((unlisted.shelf, unlisted.back_room, unlisted.shelf_capacity), (0, 0, 0), "{}", unlisted.name);
    }
    // Dairy's shelves ('a' at [1, 1]) are the chain's dairy now; beverages, without a
    // shelf in MINI's floor, are wanted by nobody there.
    let floor = &store.floor;
    assert_eq!(floor.kind(storetwin_actors::store::spec::Cell { x: 1, y: 1 }), CellKind::Shelf(CategoryId(2)));
    assert_eq!(floor.kind(storetwin_actors::store::spec::Cell { x: 4, y: 1 }), CellKind::Shelf(CategoryId(0)));
    let popularity: Vec<f64> = store.categories.iter().map(|c| c.popularity).collect();
    assert_eq!(popularity, [1.0, 0.0, 1.5]);
    // The coupon on Milk names the chain's id of Milk.
    assert_eq!(spec.campaigns[0].scope, CouponScope::Sku(SkuId(1)));
    let find = |key: &str| chain.defaults.iter().find(|d| d.key == key).map(|d| d.value.clone());
    assert_eq!(find("store[north].categories.beverages"), Some("0".into()));
    assert_eq!(find("store[north].stock"), Some("none of 1 of the chain's SKUs (not in mini.toml)".into()));
    assert_eq!(find("sku[Cola].popularity"), Some("1".into()));
    assert_eq!(find("mini.toml:sku"), Some("the chain's price, cost and popularity for 2 SKUs".into()));
}

#[test]
fn the_chain_hours_replace_the_store_hours() {
    // The chain opens an hour before MINI and closes an hour after: MINI's arrivals and
    // disruptions keep their times of day.
    let text = edit("open = \"08:00\"\nclose = \"12:00\"", "open = \"07:00\"\nclose = \"13:00\"")
        .replace("orders_per_hour = [2, 4, 4, 2]", "orders_per_hour = [0, 2, 4, 4, 2, 0]");
    let (result, _) = load_chain("hours", &text);
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let store = &chain.spec.stores[0].world;
    assert_eq!((store.open_at_s, store.duration), (7 * 3600, SimDuration::from_secs(6 * 3600)));
    assert_eq!(store.store.arrivals_per_hour, [0.0, 30.0, 60.0, 40.0, 20.0, 0.0]);
    assert_eq!(store.store.disruptions[0].at, SimTime::from_secs(2 * 3600), "MINI's 09:00 is 2 h after 07:00");
    let note = chain.defaults.iter().find(|d| d.key == "mini.toml:run").map(|d| d.value.as_str());
    assert_eq!(note, Some("the chain's [run], 07:00 to 13:00 (the scenario's: 08:00 to 12:00)"));

    // A chain that closes before MINI's 11:00 price change cannot run it.
    let text = edit("close = \"12:00\"", "close = \"10:30\"").replace("[2, 4, 4, 2]", "[2, 4, 4]");
    let (p, dir) = only_problem("hours-short", &text);
    assert_eq!(p.path(), Some("disruption[2].at"));
    assert_eq!(place(&p), where_is(&dir, "mini.toml", MINI, "\"11:00\""));
    assert!(p.message().contains("outside the chain's opening hours"), "{}", p.message());
}

// --- problems, each at its file, line and column ----------------------------------------

#[test]
fn a_coupon_for_an_unknown_sku_or_category_points_at_the_name() {
    let text = edit("applies_to = { sku = \"Milk\" }", "applies_to = { sku = \"Mlik\" }");
    let (p, dir) = only_problem("unknown-sku", &text);
    assert_eq!(p.kind(), ProblemKind::Reference);
    assert_eq!(p.path(), Some("coupon[0].applies_to.sku"));
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"Mlik\""));
    assert_eq!(p.message(), "no SKU is named \"Mlik\"");
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean \"Milk\"?")), "{:?}", p.help_text());
    let text = edit("applies_to = { sku = \"Milk\" }", "applies_to = { category = \"diary\" }");
    let (p, dir) = only_problem("unknown-category", &text);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"diary\""));
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean \"dairy\"?")), "{:?}", p.help_text());
}

#[test]
fn funding_shares_that_do_not_sum_to_one_are_refused() {
    let text = edit("brand = 0.3 }", "brand = 0.2 }");
    let (p, dir) = only_problem("funding", &text);
    assert_eq!(p.kind(), ProblemKind::BadValue);
    assert_eq!(p.path(), Some("coupon[0].funding"));
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "{ hq = 0.5"));
    assert_eq!(p.message(), "funding shares sum to 0.9, not 1 (hq 0.5 + franchisee 0.2 + brand 0.2)");
    // A share finer than a basis point cannot sum to exactly 10,000.
    let text = edit("hq = 0.5, franchisee = 0.2, brand = 0.3", "hq = 0.33333, franchisee = 0.33333, brand = 0.33334");
    let e = load_chain("funding-bps", &text).0.expect_err("shares finer than basis points");
    assert!(e.problems().iter().all(|p| p.message().contains("at most 4 decimals")), "{}", render(&e));
}

#[test]
fn a_negative_or_zero_latency_is_refused() {
    let text = edit("min = \"20ms\"", "min = \"-20ms\"");
    let (p, dir) = only_problem("latency", &text);
    assert_eq!(p.kind(), ProblemKind::BadValue);
    assert_eq!(p.path(), Some("platform.latency.min"));
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"-20ms\""));
    assert_eq!(p.message(), "a duration cannot be negative, found \"-20ms\"");
    let text = edit("min = \"20ms\"", "min = \"0ms\"");
    let (p, dir) = only_problem("latency-zero", &text);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"0ms\""));
    assert_eq!(p.message(), "the least latency must be above 0");
    let text = edit("extra_s = 0.01", "extra_s = { dist = \"normal\", mean = 0.01, sd = 0.01 }");
    let (p, _) = only_problem("latency-normal", &text);
    assert!(p.message().starts_with("the extra latency can be negative"), "{}", p.message());
    let text = edit("min = \"20ms\"", "min = 20");
    let (p, _) = only_problem("latency-unit", &text);
    assert!(p.message().starts_with("a duration needs its unit"), "{}", p.message());
}

#[test]
fn a_register_share_above_one_and_a_zero_coupon_timeout_are_refused() {
    let text = edit("redeem_max = 0.2", "redeem_max = 0.2\nregister_share = 1.25");
    let (p, dir) = only_problem("register-share", &text);
    assert_eq!(p.path(), Some("members.register_share"));
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "1.25"));
    let text = edit("ship_s = 86400", "ship_s = 86400\ncoupon_timeout = \"0s\"");
    let (p, _) = only_problem("coupon-timeout", &text);
    assert_eq!(p.path(), Some("platform.coupon_timeout"));
    assert_eq!(p.message(), "the coupon timeout must be above 0");
}

#[test]
fn a_template_of_no_stores_is_refused() {
    let text = edit("count = 3", "count = 0");
    let (p, dir) = only_problem("count-0", &text);
    assert_eq!(p.path(), Some("store[1].count"));
    assert_eq!(place(&p), at(&dir, "chain.toml", line_of(&text, "count = 0"), 9));
    assert_eq!(p.message(), "an empty group: no store is named");
    let text = edit("name = \"T{n:02}\"", "name = \"T{n:2}\"");
    let (p, _) = only_problem("bad-pattern", &text);
    assert!(p.message().contains("is not a number's place"), "{}", p.message());
    // Numbers count from `first`.
    let (result, _) = load_chain("first", &edit("count = 3", "count = 3\nfirst = 98"));
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let names: Vec<&str> = chain.spec.stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["north", "T98", "T99", "T100"]);
}

#[test]
fn an_unknown_key_is_underlined_with_the_keys_expected() {
    let text = edit("pickers = 2", "pickers = 2\npickrs = 2");
    let (p, dir) = only_problem("unknown-key", &text);
    assert_eq!(p.kind(), ProblemKind::UnknownKey);
    assert_eq!(p.path(), Some("store[1].pickrs"));
    assert_eq!(place(&p), at(&dir, "chain.toml", line_of(&text, "pickrs"), 1));
    assert!(p.help_text().is_some_and(|h| h.contains("did you mean `pickers`?")), "{:?}", p.help_text());
    let text = format!("{CHAIN}\n[platfrom]\nx = 1\n");
    let (p, _) = only_problem("unknown-section", &text);
    assert!(p.help_text().is_some_and(|h| h.contains("did you mean `platform`?")), "{:?}", p.help_text());
}

#[test]
fn an_unknown_store_file_points_at_its_name() {
    let text = edit("file = \"mini.toml\"\nlocation_km", "file = \"mnii.toml\"\nlocation_km");
    let (p, dir) = only_problem("unknown-file", &text);
    assert_eq!(p.kind(), ProblemKind::Io);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"mnii.toml\""));
    assert!(p.message().starts_with(&format!("cannot read {}", dir.join("mnii.toml").display())), "{}", p.message());
}

#[test]
fn store_names_are_unique_across_the_chain() {
    let text = edit("name = \"north\"", "name = \"T02\"");
    let (p, dir) = only_problem("duplicate", &text);
    assert_eq!(p.message(), "two stores are named \"T02\"");
    // The second is the template's, named by its pattern.
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"T{n:02}\""));
}

#[test]
fn a_store_sku_the_chain_does_not_sell_is_an_error_in_the_store_file() {
    let skus = "\n[[sku]]\nname = \"Milk\"\ncategory = \"dairy\"\nprice = \"1.19\"\ncost = \"0.80\"\n";
    let (p, dir) = only_problem("foreign-sku", &format!("{CHAIN}{skus}"));
    assert_eq!(p.kind(), ProblemKind::Reference);
    assert_eq!(p.path(), Some("sku[1].name"));
    assert_eq!(place(&p), where_is(&dir, "mini.toml", MINI, "\"Bread\""));
    assert_eq!(p.message(), "no SKU of the chain's catalogue is named \"Bread\"");
    // Sold by the chain in another category: the store file's category is wrong.
    let skus = format!("{skus}\n[[sku]]\nname = \"Bread\"\ncategory = \"dairy\"\nprice = \"2.49\"\ncost = \"1\"\n");
    let (p, dir) = only_problem("moved-sku", &format!("{CHAIN}{skus}"));
    assert_eq!(p.path(), Some("sku[1].category"));
    assert_eq!(place(&p), where_is(&dir, "mini.toml", MINI, "\"bakery\"\nprice = 2.49"));
}

#[test]
fn a_problem_inside_a_store_scenario_points_into_it() {
    let dir = chain_dir("store-problem", CHAIN);
    let broken = MINI.replacen("price = 2.49", "price = 2.499", 1);
    fs::write(dir.join("mini.toml"), &broken).expect("written");
    let e = Chain::load(&dir.join("chain.toml")).expect_err("a bad price");
    assert_eq!(e.problems().len(), 1, "reported once, not once per store: {}", render(&e));
    let p = &e.problems()[0];
    assert_eq!(place(p), where_is(&dir, "mini.toml", &broken, "2.499"));
}

#[test]
fn overrides_name_what_the_store_has() {
    let text = edit("location_km = [1, 2]", "location_km = [1, 2]\nopen_lanes = [\"L1\", \"L9\"]");
    let (p, dir) = only_problem("open-lanes", &text);
    assert_eq!(p.path(), Some("store[0].open_lanes[1]"));
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"L9\""));
    let text = edit("location_km = [1, 2]", "location_km = [1, 2]\nregion_km = [3, 3]");
    let (p, _) = only_problem("two-places", &text);
    assert!(p.message().contains("not both"), "{}", p.message());
    let text = edit("location_km = [1, 2]", "location_km = [1, 2]\nfranchise = 1.2");
    let (p, _) = only_problem("franchise", &text);
    assert_eq!(p.path(), Some("store[0].franchise"));
    // open_lanes replaces open_at_start: L2 opens, SCO does not.
    let text = edit("location_km = [1, 2]", "location_km = [1, 2]\nopen_lanes = [\"L2\"]\nstaff = 7");
    let (result, _) = load_chain("open-lanes-ok", &text);
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    let store = &chain.spec.stores[0].world.store;
    let open: Vec<(&str, bool)> = store.lanes.iter().map(|l| (l.name.as_str(), l.open_at_start)).collect();
    assert_eq!(open, [("L1", false), ("L2", true), ("SCO", false)]);
    assert_eq!(store.replenishment.staff, 7);
}

#[test]
fn coupon_values_fit_their_type() {
    let text = edit("off = \"0.20\"", "off = \"0.20\"\npercent = 10");
    let (p, dir) = only_problem("coupon-type", &text);
    assert_eq!(p.kind(), ProblemKind::UnknownKey);
    assert_eq!(p.message(), "`percent` is not a value of a cash coupon");
    assert_eq!(place(&p), at(&dir, "chain.toml", line_of(&text, "percent = 10"), 1));
    let text = edit("type = \"cash\"\noff = \"0.20\"", "type = \"threshold\"\noff = \"0.20\"");
    let (p, _) = only_problem("coupon-missing", &text);
    assert_eq!((p.kind(), p.message()), (ProblemKind::MissingKey, "a threshold coupon needs `spend`"));
    let text = edit("type = \"cash\"\noff = \"0.20\"", "type = \"percent\"\npercent = 12.5\nmax_off = \"2\"");
    let (result, _) = load_chain("coupon-percent", &text);
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(chain.spec.campaigns[0].kind, CouponKind::Percent { bps: 1250, max_off: Some(Cents(200)) });
    let text = edit(
        "validity = { from = \"08:00\", to = \"12:00\" }",
        "validity = { from = \"08:00\", days_after_claim = 3 }",
    );
    let (p, _) = only_problem("validity", &text);
    assert_eq!(p.path(), Some("coupon[0].validity"));
    let text = edit("funding =", "activate_at = \"07:00\"\nfunding =");
    let (p, dir) = only_problem("activate", &text);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"07:00\""));
    assert_eq!(p.message(), "07:00 is outside the chain's hours (08:00 to 12:00)");
}

#[test]
fn the_kiosk_collect_share_and_the_transfer_time_are_checked_where_they_are_written() {
    let text = edit("ship_s = 86400\n", "ship_s = 86400\nkiosk_collect_share = 0.25\ntransfer_s = 7200\n");
    let (result, _) = load_chain("kiosk-collect", &text);
    let chain = result.unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(chain.spec.platform.kiosk_collect_share, 0.25);
    assert_eq!(chain.spec.platform.transfer_s, storetwin_actors::Dist::constant(7200.0).unwrap());
    assert!(chain.defaults.iter().all(|d| !d.key.starts_with("platform.kiosk") && d.key != "platform.transfer_s"));

    let text = edit("ship_s = 86400\n", "ship_s = 86400\nkiosk_collect_share = 1.7\n");
    let (p, dir) = only_problem("kiosk-collect-share", &text);
    assert_eq!(p.kind(), ProblemKind::BadValue);
    assert_eq!(p.path(), Some("platform.kiosk_collect_share"));
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "1.7"));
    assert_eq!(p.message(), "a share or probability is from 0 to 1, found 1.7");

    let text = edit("ship_s = 86400\n", "ship_s = 86400\ntransfer_s = { dist = \"normal\", mean = -600, sd = 60 }\n");
    let (p, dir) = only_problem("transfer-negative", &text);
    assert_eq!(p.path(), Some("platform.transfer_s"));
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "{ dist = \"normal\", mean = -600"));
    assert!(p.message().starts_with("the mean of this distribution is -600"), "{}", p.message());

    let text = edit("ship_s = 86400\n", "ship_s = 86400\nkiosk_collect_share = \"half\"\n");
    let (p, dir) = only_problem("kiosk-collect-type", &text);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"half\""));
}

#[test]
fn online_orders_match_the_opening_hours() {
    let text = edit("orders_per_hour = [2, 4, 4, 2]", "orders_per_hour = [2, 4, 4]");
    let (p, dir) = only_problem("orders", &text);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "[2, 4, 4]"));
    assert_eq!(p.message(), "3 hourly rates, but the chain is open 4 hours (08:00 to 12:00)");
    let text = edit("fulfilment = { pickup = 0.5, same_city = 0.5 }", "fulfilment = { pickup = 0.5, same_city = 0.6 }");
    let (p, _) = only_problem("fulfilment", &text);
    assert!(p.message().starts_with("fulfilment shares sum to 1.1, not 1"), "{}", p.message());
}

#[test]
fn a_partition_names_a_store_of_the_chain() {
    let text = edit("store = \"north\"", "store = \"nrth\"");
    let (p, dir) = only_problem("partition", &text);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"nrth\""));
    assert!(p.help_text().is_some_and(|h| h.starts_with("did you mean \"north\"?")), "{:?}", p.help_text());
}

// --- extends --------------------------------------------------------------------------

#[test]
fn a_chain_variant_changes_one_store_by_name() {
    let dir = chain_dir("variant", CHAIN);
    // No [chain] and no [[store]] table of its own keys but `[[store]]` items: a chain
    // variant. It changes T02 (of the base's template) and north, and adds a store.
    let variant = "extends = \"chain.toml\"\n\n[[store]]\nname = \"T02\"\npickers = 5\n\n[[store]]\nname = \"north\"\nstaff = 4\n\n[[store]]\nname = \"south\"\nfile = \"mini.toml\"\n";
    fs::write(dir.join("variant.toml"), variant).expect("written");
    assert_eq!(file_kind(&dir.join("variant.toml")).ok(), Some(FileKind::Chain));
    let base = load_ok(&dir.join("chain.toml"));
    let b = load_ok(&dir.join("variant.toml"));
    let names: Vec<&str> = b.spec.stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["north", "T01", "T02", "T03", "south"]);
    assert_eq!(b.spec.stores[2].pickers, 5);
    assert_eq!(b.spec.stores[0].world.store.replenishment.staff, 4);
    // What is not changed is the base's, draws included (the stores keep their places).
    assert_eq!(b.spec.stores[1], base.spec.stores[1]);
    assert_eq!(b.spec.stores[2].world, base.spec.stores[2].world);
    assert_ne!(b.hash, base.hash);
    // A variant that only changes the platform is a chain by what it extends.
    fs::write(dir.join("platform.toml"), "extends = \"chain.toml\"\n[run]\nseed = 6\n").expect("written");
    assert_eq!(file_kind(&dir.join("platform.toml")).ok(), Some(FileKind::Chain));
    assert_eq!(load_ok(&dir.join("platform.toml")).seed, 6);
}

#[test]
fn a_chain_and_a_store_scenario_never_extend_each_other() {
    let dir = chain_dir("cross", CHAIN);
    fs::write(dir.join("bad-chain.toml"), "extends = \"mini.toml\"\n\n[chain]\nname = \"x\"\n").expect("written");
    let e = Chain::load(&dir.join("bad-chain.toml")).expect_err("a chain extending a store scenario");
    let p = &e.problems()[0];
    assert_eq!(p.kind(), ProblemKind::Extends);
    assert_eq!(place(p), at(&dir, "bad-chain.toml", 1, 11));
    assert!(p.message().starts_with("a chain file cannot extend a store scenario"), "{}", p.message());
    fs::write(dir.join("bad-store.toml"), "extends = \"chain.toml\"\n\n[store]\nname = \"x\"\n").expect("written");
    let e = storetwin_scenarios::load(&dir.join("bad-store.toml")).expect_err("a store scenario extending a chain");
    assert!(e.problems()[0].message().starts_with("a store scenario cannot extend a chain file"), "{e}");
    // A chain as a store's file.
    let text = edit("file = \"mini.toml\"\nlocation_km", "file = \"chain.toml\"\nlocation_km");
    let (p, dir) = only_problem("chain-in-chain", &text);
    assert_eq!(p.kind(), ProblemKind::NotAScenario);
    assert_eq!(place(&p), where_is(&dir, "chain.toml", &text, "\"chain.toml\""));
}
