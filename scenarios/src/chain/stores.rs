//! The stores of a chain: their scenarios loaded, put on the chain's catalogue and clock,
//! and given their overrides.
//!
//! Each store scenario a chain names is loaded once (with its `extends`), as
//! [`crate::load`] would load it, into the chain's own list of files, so that a problem in
//! it points into that file. Then every store's world is rebuilt on the chain:
//!
//! - Catalogue identity: the store's catalogue becomes the chain's, in the chain's order,
//!   with the chain's prices, costs and popularity, and the store's own opening stock of
//!   each SKU its scenario lists (none of the others). Its categories follow the chain's
//!   order too; the floor's shelves are renumbered to match. A chain category the floor
//!   has no shelf for gets popularity 0 in that store, so its shoppers never look for it.
//!   A SKU of the scenario that the chain does not sell, or sells in another category, is
//!   an error in the scenario.
//! - The clock: every store runs the chain's `[run]` hours. Arrivals are taken by time of
//!   day (hours the scenario is closed get none); scheduled disruptions move with them and
//!   must fall inside the chain's hours.
//! - Overrides: arrivals and stock scaled, replenishment staff and the lanes open at
//!   opening replaced. A scale or location given as a distribution is drawn once per store
//!   from the chain's seed and the store's position in the chain.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use storetwin_actors::Dist;
use storetwin_actors::chain::spec::{CatalogueItem, ChainStoreSpec, OfflineCoupons};
use storetwin_actors::store::spec::{
    CategoryId, CategorySpec, CellKind, DEFAULT_UNIT_WEIGHT_G, DisruptionKind, LaneId, SkuId, SkuSpec, WorldSpec,
};
use storetwin_engine::{Seed, SimDuration, SimTime};

use super::format::{ChainFile, ChainStore, Location, OfflineCouponsFile};
use super::share_bps;
use crate::build::{Names, names};
use crate::check::Checks;
use crate::document::Node;
use crate::error::{Issue, ProblemKind};
use crate::extends::{self, Via};
use crate::file_kind::FileKind;
use crate::path::at;
use crate::scenario::{CheckedStore, check_store};
use crate::source::Sources;

/// Domains of the random streams that draw per-store variation (with the store's position
/// as the index): one per quantity, so that varying one never changes another's draws.
const ARRIVALS_SCALE_DOMAIN: u64 = 0x4348_4e41_5252_5343; // "CHNARRSC"
const STOCK_SCALE_DOMAIN: u64 = 0x4348_4e53_544b_5343; // "CHNSTKSC"
const LOCATION_DOMAIN: u64 = 0x4348_4e4c_4f43_4b4d; // "CHNLOCKM"

/// The store scenarios of a chain.
pub(crate) struct StoreFiles {
    /// Each distinct scenario, in order of first use.
    pub(crate) files: Vec<StoreFile>,
    /// For each `[[store]]`, the index of its scenario in `files`.
    pub(crate) of_store: Vec<usize>,
    pub(crate) issues: Vec<Issue>,
}

pub(crate) struct StoreFile {
    /// The path as the chain file wrote it (`weekday.toml`), for the defaults list.
    pub(crate) written: String,
    /// `None` if it did not load (its problems are in [`StoreFiles::issues`]).
    pub(crate) checked: Option<CheckedStore>,
}

/// Loads every store scenario the chain names, each once.
pub(crate) fn load_files(root: &Node, file: &ChainFile, sources: &mut Sources) -> StoreFiles {
    let mut out = StoreFiles { files: Vec::new(), of_store: Vec::with_capacity(file.store.len()), issues: Vec::new() };
    let mut known: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for (i, store) in file.store.iter().enumerate() {
        let origin = root.locate(&at!["store", i, "file"], false);
        // Relative to the file that wrote `file` (a base chain file may be elsewhere).
        let dir = sources.file(origin.file).path.as_ref().and_then(|p| p.parent().map(PathBuf::from));
        let path = dir.map_or_else(|| PathBuf::from(&store.file), |d| d.join(&store.file));
        let key = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(&index) = known.get(&key) {
            out.of_store.push(index);
            continue;
        }
        let checked = extends::read_path(&path, FileKind::Store, Via::StoreFile(origin), sources)
            .and_then(|root| check_store(root, sources));
        let checked = match checked {
            Ok(c) => Some(c),
            Err(issues) => {
                out.issues.extend(issues);
                None
            }
        };
        known.insert(key, out.files.len());
        out.of_store.push(out.files.len());
        out.files.push(StoreFile { written: store.file.clone(), checked });
    }
    out
}

/// The chain's catalogue with its names resolved.
pub(crate) struct Catalogue {
    pub(crate) categories: Vec<String>,
    pub(crate) items: Vec<CatalogueItem>,
    pub(crate) skus: Names<SkuId>,
    pub(crate) category_ids: Names<CategoryId>,
    /// The scenario it was taken from, when the chain file has no `[[sku]]`.
    pub(crate) from_file: Option<usize>,
}

/// The catalogue: the chain's `[[sku]]` (categories in alphabetical order, as a store
/// scenario numbers them), or the first store scenario's. `None` if it cannot be known
/// (that scenario did not load) or is broken (reported).
pub(crate) fn catalogue(file: &ChainFile, stores: &StoreFiles, checks: &mut Checks<'_>) -> Option<Catalogue> {
    if file.sku.is_empty() {
        let index = *stores.of_store.first()?;
        let world = &stores.files[index].checked.as_ref()?.built.world;
        let categories: Vec<String> = world.store.categories.iter().map(|c| c.name.clone()).collect();
        let items: Vec<CatalogueItem> = world
            .store
            .catalogue
            .iter()
            .map(|s| CatalogueItem {
                name: s.name.clone(),
                category: s.category,
                price: s.price,
                cost: s.cost,
                popularity: s.popularity,
            })
            .collect();
        return Some(Catalogue {
            skus: items.iter().enumerate().map(|(i, s)| (s.name.clone(), SkuId(i as u32))).collect(),
            category_ids: categories.iter().enumerate().map(|(i, c)| (c.clone(), CategoryId(i as u16))).collect(),
            categories,
            items,
            from_file: Some(index),
        });
    }
    let before = checks.issues.len();
    let skus = names(checks, "sku", file.sku.iter().map(|s| s.name.as_str()), |i| u32::try_from(i).ok().map(SkuId));
    let category_set: BTreeSet<&str> = file.sku.iter().map(|s| s.category.as_str()).collect();
    let categories: Vec<String> = category_set.iter().map(|c| (*c).to_owned()).collect();
    if categories.len() > usize::from(u16::MAX) + 1 {
        checks.bad(at!["sku"], "too many categories (the limit is 65536)");
        return None;
    }
    let category_ids: Names<CategoryId> =
        categories.iter().enumerate().map(|(i, c)| (c.clone(), CategoryId(i as u16))).collect();
    let mut items = Vec::with_capacity(file.sku.len());
    for (i, sku) in file.sku.iter().enumerate() {
        if sku.category.trim().is_empty() {
            checks.bad(at!["sku", i, "category"], "a SKU needs a category").label("expected a category name");
        }
        checks.non_negative(at!["sku", i, "popularity"], sku.popularity);
        items.push(CatalogueItem {
            name: sku.name.clone(),
            category: category_ids[&sku.category],
            price: sku.price.0,
            cost: sku.cost.0,
            popularity: sku.popularity,
        });
    }
    (checks.issues.len() == before).then_some(Catalogue { categories, items, skus, category_ids, from_file: None })
}

/// Every SKU a store scenario lists is one of the chain's, in the same category.
pub(crate) fn check_skus(checked: &CheckedStore, catalogue: &Catalogue, checks: &mut Checks<'_>) {
    for (i, sku) in checked.file.sku.iter().enumerate() {
        let Some(id) = catalogue.skus.get(&sku.name) else {
            checks.resolve(at!["sku", i, "name"], "SKU of the chain's catalogue", &sku.name, &catalogue.skus);
            continue;
        };
        let chain_category = &catalogue.categories[usize::from(catalogue.items[id.0 as usize].category.0)];
        if *chain_category != sku.category {
            checks
                .value(
                    ProblemKind::Reference,
                    at!["sku", i, "category"],
                    format!(
                        "\"{}\" is a SKU of category \"{chain_category}\" in the chain's catalogue, not \"{}\"",
                        sku.name, sku.category
                    ),
                )
                .label(format!("the chain sells it as \"{chain_category}\""))
                .help("a SKU has one category across the chain; shelve it where the chain's catalogue puts it");
        }
    }
}

/// The chain's opening hours, as times of day in seconds.
#[derive(Clone, Copy)]
pub(crate) struct Hours {
    pub(crate) open_s: u32,
    pub(crate) close_s: u32,
}

impl Hours {
    fn duration(self) -> SimDuration {
        SimDuration::from_secs(u64::from(self.close_s.saturating_sub(self.open_s)))
    }
}

/// One store of the chain: its scenario's world on the chain's catalogue and clock, with
/// its overrides. `None` if something is wrong (reported).
#[allow(clippy::too_many_arguments)]
pub(crate) fn store_spec(
    index: usize,
    store: &ChainStore,
    checked: &CheckedStore,
    catalogue: &Catalogue,
    hours: Hours,
    seed: u64,
    checks: &mut Checks<'_>,
    store_checks: &mut Checks<'_>,
) -> Option<ChainStoreSpec> {
    let before = (checks.issues.len(), store_checks.issues.len());
    let path = |key: &str| at!["store", index, key];
    if store.name.trim().is_empty() {
        checks.bad(path("name"), "a store needs a name").label("expected a name");
    }
    let draw = |dist: &Dist, domain: u64| {
        let mut rng = Seed(seed).stream(domain, index as u64);
        dist.sample(&mut rng)
    };
    let mut scale = |key: &str, d: Option<&crate::distribution::Distribution>, domain: u64| match d {
        None => 1.0,
        Some(d) => {
            checks.non_negative_mean(path(key), &d.0);
            draw(&d.0, domain).max(0.0)
        }
    };
    let arrivals_scale = scale("arrivals_scale", store.arrivals_scale.as_ref(), ARRIVALS_SCALE_DOMAIN);
    let stock_scale = scale("stock_scale", store.stock_scale.as_ref(), STOCK_SCALE_DOMAIN);
    let location_km = location(index, store, seed, checks);
    let franchise_bps = store.franchise.and_then(|f| share_bps(checks, path("franchise"), f));

    let base = &checked.built.world;
    let lanes: Names<LaneId> =
        base.store.lanes.iter().enumerate().map(|(i, l)| (l.name.clone(), LaneId(i as u16))).collect();
    let open_lanes: Option<BTreeSet<LaneId>> = store.open_lanes.as_ref().map(|list| {
        if list.is_empty() {
            checks
                .bad(path("open_lanes"), "no lane is open when the store opens")
                .label("expected at least one lane")
                .help("name the lanes open at opening, like open_lanes = [\"L1\", \"L2\"]");
        }
        list.iter()
            .enumerate()
            .filter_map(|(k, name)| checks.resolve(at!["store", index, "open_lanes", k], "lane", name, &lanes))
            .collect()
    });

    let mut world = chain_world(base, catalogue, hours, store_checks);
    if (checks.issues.len(), store_checks.issues.len()) != before {
        return None;
    }
    let world_ref = world.as_mut()?;
    world_ref.store.name = store.name.clone();
    for rate in &mut world_ref.store.arrivals_per_hour {
        *rate *= arrivals_scale;
    }
    if stock_scale != 1.0 {
        for sku in &mut world_ref.store.catalogue {
            scale_stock(sku, stock_scale);
        }
    }
    if let Some(staff) = store.staff {
        world_ref.store.replenishment.staff = staff;
    }
    if let Some(open) = &open_lanes {
        for (i, lane) in world_ref.store.lanes.iter_mut().enumerate() {
            lane.open_at_start = open.contains(&LaneId(i as u16));
        }
    }
    let spec = ChainStoreSpec {
        name: store.name.clone(),
        world: world?,
        location_km,
        pickers: store.pickers.unwrap_or(DEFAULT_PICKERS),
        pickup_staff: store.pickup_staff.unwrap_or(DEFAULT_PICKUP_STAFF),
        franchise_bps,
        offline_coupons: match store.offline_coupons.unwrap_or(OfflineCouponsFile::Refuse) {
            OfflineCouponsFile::Refuse => OfflineCoupons::Refuse,
            OfflineCouponsFile::AcceptAndSync => OfflineCoupons::AcceptAndSync,
        },
    };
    Some(spec)
}

/// `store.pickers` when left out.
pub const DEFAULT_PICKERS: u32 = 1;
/// `store.pickup_staff` when left out.
pub const DEFAULT_PICKUP_STAFF: u32 = 1;

/// Opening stock times `scale`, rounded; what the shelf cannot hold goes to the back room.
fn scale_stock(sku: &mut SkuSpec, scale: f64) {
    let times = |units: u32| (f64::from(units) * scale).round().min(f64::from(u32::MAX)) as u32;
    let (shelf, back_room) = (times(sku.shelf), times(sku.back_room));
    sku.shelf = shelf.min(sku.shelf_capacity);
    sku.back_room = back_room.saturating_add(shelf - sku.shelf);
}

fn location(index: usize, store: &ChainStore, seed: u64, checks: &mut Checks<'_>) -> (f64, f64) {
    let path = |key: &str| at!["store", index, key];
    let mut rng = Seed(seed).stream(LOCATION_DOMAIN, index as u64);
    match (&store.location_km, store.region_km) {
        (Some(_), Some(_)) => {
            checks
                .bad(path("region_km"), "a store is placed at `location_km` or in `region_km`, not both")
                .label("not with `location_km`");
            (0.0, 0.0)
        }
        (Some(Location::At(x, y)), None) => {
            if !(x.is_finite() && y.is_finite()) {
                checks.bad(path("location_km"), "a place is two finite numbers of km");
            }
            (*x, *y)
        }
        (Some(Location::Drawn { x, y }), None) => {
            for (axis, d) in [("x", x), ("y", y)] {
                if !d.0.mean().is_finite() {
                    checks.bad(at!["store", index, "location_km", axis], "a place is a finite number of km");
                }
            }
            (x.0.sample(&mut rng), y.0.sample(&mut rng))
        }
        (None, Some([w, h])) => {
            let mut ok = true;
            for (k, v) in [w, h].into_iter().enumerate() {
                ok &= checks.positive(at!["store", index, "region_km", k], v);
            }
            if !ok {
                return (0.0, 0.0);
            }
            let u = Dist::Uniform { low: 0.0, high: 1.0 };
            (w * u.sample(&mut rng), h * u.sample(&mut rng))
        }
        (None, None) => (0.0, 0.0),
    }
}

/// The scenario's world on the chain's catalogue and clock (before the overrides).
fn chain_world(
    base: &WorldSpec,
    catalogue: &Catalogue,
    hours: Hours,
    store_checks: &mut Checks<'_>,
) -> Option<WorldSpec> {
    let store = &base.store;
    // Store category id -> chain category id.
    let category_map: Vec<Option<CategoryId>> =
        store.categories.iter().map(|c| catalogue.category_ids.get(&c.name).copied()).collect();
    let shelved: BTreeSet<CategoryId> = store
        .floor
        .cells
        .iter()
        .filter_map(|k| match k {
            CellKind::Shelf(c) => category_map[usize::from(c.0)],
            _ => None,
        })
        .collect();
    let mut world = base.clone();
    let floor = &mut world.store.floor;
    for cell in &mut floor.cells {
        if let CellKind::Shelf(c) = cell {
            // Every category of a scenario has SKUs, and they are the chain's (checked).
            *c = category_map[usize::from(c.0)]?;
        }
    }
    world.store.categories = catalogue
        .categories
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let own = store.categories.iter().find(|c| c.name == *name);
            let popularity = match own {
                Some(c) if shelved.contains(&CategoryId(i as u16)) => c.popularity,
                _ => 0.0,
            };
            CategorySpec { name: name.clone(), popularity }
        })
        .collect();
    let own: BTreeMap<&str, &SkuSpec> = store.catalogue.iter().map(|s| (s.name.as_str(), s)).collect();
    world.store.catalogue = catalogue
        .items
        .iter()
        .map(|item| {
            let stock = own.get(item.name.as_str());
            SkuSpec {
                name: item.name.clone(),
                category: item.category,
                price: item.price,
                cost: item.cost,
                shelf: stock.map_or(0, |s| s.shelf),
                shelf_capacity: stock.map_or(0, |s| s.shelf_capacity),
                back_room: stock.map_or(0, |s| s.back_room),
                reorder_at: stock.map_or(0, |s| s.reorder_at),
                popularity: item.popularity,
                // A physical property of the store's shelves: the store scenario's own.
                unit_weight_g: stock.map_or(DEFAULT_UNIT_WEIGHT_G, |s| s.unit_weight_g),
            }
        })
        .collect();
    let file_open = base.open_at_s;
    let file_close = base.open_at_s.saturating_add(base.duration.as_nanos().div_ceil(1_000_000_000) as u32);
    world.open_at_s = hours.open_s;
    world.duration = hours.duration();
    world.store.arrivals_per_hour =
        aligned_arrivals(&store.arrivals_per_hour, (file_open, file_close), (hours.open_s, hours.close_s));
    let end = SimTime::ZERO.saturating_add(world.duration);
    let shift = |t: SimTime| -> Option<SimTime> {
        let at = i128::from(t.as_nanos()) + (i128::from(file_open) - i128::from(hours.open_s)) * 1_000_000_000;
        u64::try_from(at).ok().map(SimTime::from_nanos).filter(|t| *t <= end)
    };
    for (i, d) in world.store.disruptions.iter_mut().enumerate() {
        if let DisruptionKind::PriceChange { sku, .. } = &mut d.what {
            *sku = catalogue.skus[&store.catalogue[sku.0 as usize].name];
        }
        match (shift(d.at).filter(|t| *t < end), d.until.map(shift)) {
            (Some(at), None) => d.at = at,
            (Some(at), Some(Some(until))) => (d.at, d.until) = (at, Some(until)),
            (at, _) => {
                let key = if at.is_none() { "at" } else { "until" };
                store_checks
                    .bad(at!["disruption", i, key], "this disruption falls outside the chain's opening hours")
                    .label("outside the chain's [run] hours")
                    .help("every store of a chain runs the chain's hours; move the disruption inside them");
            }
        }
    }
    Some(world)
}

/// Arrivals per hour of the chain's hours, from a scenario's arrivals per hour of its own
/// hours, by time of day: each chain hour gets the scenario's mean rate over it (none while
/// the scenario is closed). Equal hours give the rates unchanged.
fn aligned_arrivals(rates: &[f64], (file_open, file_close): (u32, u32), (open, close): (u32, u32)) -> Vec<f64> {
    let hours = close.saturating_sub(open).div_ceil(3600) as usize;
    if file_open == open && rates.len() == hours {
        return rates.to_vec();
    }
    (0..hours)
        .map(|h| {
            let from = open + 3600 * h as u32;
            let to = (from + 3600).min(close);
            let mut arrivals = 0.0;
            for (k, rate) in rates.iter().enumerate() {
                let (a, b) = (file_open + 3600 * k as u32, (file_open + 3600 * (k as u32 + 1)).min(file_close));
                let overlap = f64::from(b.min(to).saturating_sub(a.max(from)));
                arrivals += rate * overlap / 3600.0;
            }
            arrivals * 3600.0 / f64::from(to - from)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_follow_the_time_of_day() {
        let rates = [100.0, 200.0, 300.0];
        assert_eq!(aligned_arrivals(&rates, (8 * 3600, 11 * 3600), (8 * 3600, 11 * 3600)), rates.to_vec());
        // The chain opens an hour earlier and closes an hour later: closed hours get none.
        assert_eq!(
            aligned_arrivals(&rates, (8 * 3600, 11 * 3600), (7 * 3600, 12 * 3600)),
            vec![0.0, 100.0, 200.0, 300.0, 0.0]
        );
        // Half an hour later: each chain hour is half of two scenario hours.
        assert_eq!(
            aligned_arrivals(&rates, (8 * 3600, 11 * 3600), (8 * 3600 + 1800, 10 * 3600 + 1800)),
            vec![150.0, 250.0]
        );
    }

    #[test]
    fn scaled_stock_keeps_shelves_within_capacity() {
        let mut sku = SkuSpec {
            name: "x".into(),
            category: CategoryId(0),
            price: storetwin_actors::Cents(100),
            cost: storetwin_actors::Cents(50),
            shelf: 30,
            shelf_capacity: 40,
            back_room: 101,
            reorder_at: 10,
            popularity: 1.0,
            unit_weight_g: 500,
        };
        scale_stock(&mut sku, 1.5);
        assert_eq!((sku.shelf, sku.back_room), (40, 152 + 5));
        scale_stock(&mut sku, 0.5);
        assert_eq!((sku.shelf, sku.back_room), (20, 79));
    }
}
