//! From the file format to a checked [`WorldSpec`].
//!
//! Names become ids (categories in alphabetical order, shared lines in alphabetical
//! order, SKUs, segments, lanes and devices in file order), times of day become
//! [`SimTime`] since opening, seconds become [`SimDuration`], and every semantic rule of
//! a store day is checked: shares sum to 1, probabilities lie in [0, 1], stock fits its
//! shelf, every name refers to something declared, disruptions fall in opening hours, at
//! least one lane is open at the start, and the floor is walkable (see [`crate::floor`]).
//! The result exists only if no problem was found.

use std::collections::{BTreeMap, BTreeSet};

use storetwin_actors::Dist;
use storetwin_actors::store::spec::{
    CategoryId, CategorySpec, Cell, CellKind, DeviceId, DeviceKind, DeviceSpec, Disruption, DisruptionKind,
    FailureSpec, LaneId, LaneKind, LanePolicy, LaneSpec, PaymentMix, ReplenishmentSpec, SegmentSpec, SharedLineSpec,
    SkuId, SkuSpec, StoreSpec, WorldSpec,
};
use storetwin_engine::{SimDuration, SimTime};

use crate::check::Checks;
use crate::error::ProblemKind;
use crate::floor::{self, Plan};
use crate::format::{self, Placement, ScenarioFile};
use crate::path::at;
use crate::time_of_day::TimeOfDay;

/// A checked scenario: run settings and the world.
pub(crate) struct Built {
    pub(crate) seed: u64,
    pub(crate) replications: u32,
    pub(crate) world: WorldSpec,
}

/// Names of one kind and their ids.
pub(crate) type Names<T> = BTreeMap<String, T>;

pub(crate) fn build(file: &ScenarioFile, checks: &mut Checks<'_>) -> Option<Built> {
    let (open, close) = (file.run.open, file.run.close);
    if close <= open {
        checks
            .bad(at!["run", "close"], format!("closing time {close} is not after opening time {open}"))
            .label(format!("expected a time after {open}"));
    }
    if file.run.replications == 0 {
        checks.bad(at!["run", "replications"], "at least 1 replication is needed").label("expected 1 or more");
    }
    let open_s = open.seconds();
    let duration_s = close.seconds().saturating_sub(open_s);

    let categories = categories(file, checks);
    let lanes = names(checks, "lane", file.lane.iter().map(|l| l.name.as_str()), |i| u16::try_from(i).ok().map(LaneId));
    let plan = floor::read_plan(checks, &file.store, &categories, &lanes);
    let category_names: Vec<String> = categories.keys().cloned().collect();

    let (devices, device_names, kiosks) = devices(file, checks, plan.as_ref());
    let mut floor_spec = None;
    if let Some(plan) = &plan {
        let zones = floor::zones(checks, plan, &file.store.zone);
        floor::check_walkable(checks, plan, &category_names, &kiosks);
        let mut spec = plan.spec.clone();
        spec.zones = zones;
        floor_spec = Some(spec);
    }

    let shelved: BTreeSet<CategoryId> = floor_spec
        .iter()
        .flat_map(|f| f.cells.iter())
        .filter_map(|k| match k {
            CellKind::Shelf(c) => Some(*c),
            _ => None,
        })
        .collect();
    let floor_read = plan.as_ref().is_some_and(|p| !p.unresolved_shelves);
    let (catalogue, skus) = catalogue(file, checks, &categories, floor_read.then_some(&shelved));
    let segments = segments(file, checks);
    let arrivals = arrivals(file, checks, open, close, duration_s);
    let (lane_specs, lines) = lane_specs(file, checks);
    let lane_policy = lane_policy(file, checks);
    // Without a floor, groups of devices cannot be named: their references go unchecked.
    let device_ids: Option<Names<DeviceId>> = plan
        .is_some()
        .then(|| device_names.iter().enumerate().map(|(i, name)| (name.clone(), DeviceId(i as u16))).collect());
    let disruptions = disruptions(file, checks, (open, close), device_ids.as_ref(), &lanes, &skus);
    checks.non_negative_mean(at!["replenishment", "trip_s"], &file.replenishment.trip_s.0);
    if !(file.store.max_density_per_m2.is_finite() && file.store.max_density_per_m2 > 0.0) {
        checks.bad(at!["store", "max_density_per_m2"], "a density limit is a number of people per m² above 0");
    }
    if file.store.name.trim().is_empty() {
        checks.bad(at!["store", "name"], "the store needs a name");
    }

    let floor = floor_spec?;
    if !checks.issues.is_empty() {
        return None;
    }
    let store = StoreSpec {
        name: file.store.name.clone(),
        floor,
        categories: categories
            .keys()
            .map(|name| CategorySpec { name: name.clone(), popularity: file.categories[name] })
            .collect(),
        catalogue,
        segments,
        arrivals_per_hour: arrivals,
        lanes: lane_specs,
        lines,
        lane_policy,
        devices,
        disruptions,
        replenishment: ReplenishmentSpec {
            staff: file.replenishment.staff,
            trip: file.replenishment.trip_s.0.clone(),
            round: (file.replenishment.round_s > 0)
                .then(|| SimDuration::from_secs(u64::from(file.replenishment.round_s))),
        },
        max_density_per_m2: file.store.max_density_per_m2,
    };
    Some(Built {
        seed: file.run.seed,
        replications: file.run.replications,
        world: WorldSpec { open_at_s: open_s, duration: SimDuration::from_secs(u64::from(duration_s)), store },
    })
}

/// Ids for the names of one kind (in the order given), reporting empty and repeated names.
pub(crate) fn names<T: Copy>(
    checks: &mut Checks<'_>,
    what: &str,
    names: impl Iterator<Item = impl AsRef<str>>,
    id: impl Fn(usize) -> Option<T>,
) -> Names<T> {
    let mut out = Names::new();
    for (i, name) in names.enumerate() {
        let name = name.as_ref();
        let path = at![what, i, "name"];
        let Some(id) = id(i) else {
            checks.bad(path, format!("too many of these (the limit is {i})"));
            break;
        };
        if name.trim().is_empty() {
            checks.bad(path, format!("a {what} needs a name")).label("expected a name");
        } else if out.contains_key(name) {
            checks.bad(path, format!("two {what}s are named \"{name}\"")).label("names must be unique");
        } else {
            out.insert(name.to_owned(), id);
        }
    }
    out
}

fn categories(file: &ScenarioFile, checks: &mut Checks<'_>) -> Names<CategoryId> {
    if file.categories.is_empty() {
        checks
            .value(ProblemKind::MissingKey, at!["categories"], "no product category is declared")
            .help("declare categories with their popularity under [categories], e.g. dairy = 1.5");
    }
    let mut out = Names::new();
    for (i, (name, popularity)) in file.categories.iter().enumerate() {
        checks.non_negative(at!["categories", name], *popularity);
        match u16::try_from(i) {
            Ok(i) => {
                out.insert(name.clone(), CategoryId(i));
            }
            Err(_) => {
                checks.key(ProblemKind::BadValue, at!["categories", name], "too many categories (the limit is 65536)");
                break;
            }
        }
    }
    if !file.categories.is_empty() && file.categories.values().all(|p| *p == 0.0) {
        checks.bad(at!["categories"], "every category has popularity 0; shoppers would want nothing");
    }
    out
}

/// The catalogue; `shelved` is the set of categories with a shelf on the floor (`None`
/// when the floor could not be read).
fn catalogue(
    file: &ScenarioFile,
    checks: &mut Checks<'_>,
    categories: &Names<CategoryId>,
    shelved: Option<&BTreeSet<CategoryId>>,
) -> (Vec<SkuSpec>, Names<SkuId>) {
    let ids = names(checks, "sku", file.sku.iter().map(|s| s.name.as_str()), |i| u32::try_from(i).ok().map(SkuId));
    let mut out = Vec::with_capacity(file.sku.len());
    let mut unshelved_reported = BTreeSet::new();
    let mut stocked = BTreeSet::new();
    for (i, sku) in file.sku.iter().enumerate() {
        let category = checks.resolve(at!["sku", i, "category"], "category", &sku.category, categories);
        if let Some(c) = category {
            stocked.insert(c);
            if shelved.is_some_and(|s| !s.contains(&c)) && unshelved_reported.insert(c) {
                checks
                    .value(
                        ProblemKind::Floor,
                        at!["sku", i, "category"],
                        format!("category \"{}\" has no shelf on the floor", sku.category),
                    )
                    .label("no shelf of this category")
                    .help(format!(
                        "map a character to {{ shelf = \"{}\" }} in [store.legend] and draw it on the floor",
                        sku.category
                    ));
            }
        }
        if sku.shelf_capacity == 0 {
            checks.bad(at!["sku", i, "shelf_capacity"], "a shelf holds at least 1 unit").label("expected 1 or more");
        }
        if sku.shelf > sku.shelf_capacity {
            checks
                .bad(
                    at!["sku", i, "shelf"],
                    format!("{} units on the shelf, above its capacity of {}", sku.shelf, sku.shelf_capacity),
                )
                .label(format!("expected at most {}", sku.shelf_capacity));
        }
        if sku.reorder_at > sku.shelf_capacity {
            checks
                .bad(
                    at!["sku", i, "reorder_at"],
                    format!("reorder level {} is above the shelf capacity of {}", sku.reorder_at, sku.shelf_capacity),
                )
                .label(format!("expected at most {}", sku.shelf_capacity));
        }
        checks.non_negative(at!["sku", i, "popularity"], sku.popularity);
        if sku.unit_weight_g == 0 {
            checks.bad(at!["sku", i, "unit_weight_g"], "a unit weighs at least 1 g").label("expected 1 or more");
        }
        out.push(SkuSpec {
            name: sku.name.clone(),
            category: category.unwrap_or(CategoryId(0)),
            price: sku.price.0,
            cost: sku.cost.0,
            shelf: sku.shelf,
            shelf_capacity: sku.shelf_capacity,
            back_room: sku.back_room,
            reorder_at: sku.reorder_at,
            popularity: sku.popularity,
            unit_weight_g: sku.unit_weight_g,
        });
    }
    for (name, id) in categories {
        if !stocked.contains(id) {
            checks
                .key(ProblemKind::Reference, at!["categories", name], format!("category \"{name}\" has no SKUs"))
                .label("no [[sku]] has this category")
                .help("add SKUs of this category, or remove the category");
        }
    }
    (out, ids)
}

fn segments(file: &ScenarioFile, checks: &mut Checks<'_>) -> Vec<SegmentSpec> {
    if file.segment.is_empty() {
        checks.value(ProblemKind::MissingKey, at!["segment"], "at least one shopper [[segment]] is needed");
    }
    names(checks, "segment", file.segment.iter().map(|s| s.name.as_str()), |i| u8::try_from(i).ok());
    let mut out = Vec::with_capacity(file.segment.len());
    for (i, s) in file.segment.iter().enumerate() {
        checks.share(at!["segment", i, "share"], s.share);
        for (key, v) in [
            ("member_share", s.member_share),
            ("app_share", s.app_share),
            ("price_sensitivity", s.price_sensitivity),
            ("substitute", s.substitute),
            ("endless_aisle", s.endless_aisle),
        ] {
            checks.share(at!["segment", i, key], v);
        }
        if s.substitute + s.endless_aisle > 1.0 + crate::check::SHARE_TOLERANCE {
            checks
                .bad(
                    at!["segment", i, "endless_aisle"],
                    format!(
                        "substitute ({}) + endless_aisle ({}) is above 1; they share one stock-out",
                        s.substitute, s.endless_aisle
                    ),
                )
                .label("substitute + endless_aisle must be at most 1");
        }
        let p = &s.payment;
        let shares = [("mobile_qr", p.mobile_qr), ("card", p.card), ("cash", p.cash), ("prepaid", p.prepaid)];
        let mut valid = true;
        for (key, v) in shares {
            valid &= checks.share(at!["segment", i, "payment", key], v);
        }
        if valid {
            let list: Vec<(String, f64)> = shares.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
            checks.sums_to_one(at!["segment", i, "payment"], "payment shares", &list);
        }
        for (key, d) in [("basket", &s.basket), ("dwell_s", &s.dwell_s), ("patience_s", &s.patience_s)] {
            checks.non_negative_mean(at!["segment", i, key], &d.0);
        }
        let speed = s.speed_mps.0.mean();
        if !(speed.is_finite() && speed > 0.0) {
            checks
                .bad(at!["segment", i, "speed_mps"], format!("the mean walking speed is {speed}; it must be above 0"));
        }
        if s.balk_at == 0 {
            checks
                .bad(at!["segment", i, "balk_at"], "balk_at = 0 would make every shopper balk")
                .label("expected 1 or more");
        }
        out.push(SegmentSpec {
            name: s.name.clone(),
            share: s.share,
            basket: s.basket.0.clone(),
            dwell_s: s.dwell_s.0.clone(),
            speed_mps: s.speed_mps.0.clone(),
            member_share: s.member_share,
            app_share: s.app_share,
            price_sensitivity: s.price_sensitivity,
            patience_s: s.patience_s.0.clone(),
            balk_at: s.balk_at,
            substitute: s.substitute,
            endless_aisle: s.endless_aisle,
            payment: PaymentMix { mobile_qr: p.mobile_qr, card: p.card, cash: p.cash, prepaid: p.prepaid },
        });
    }
    if !file.segment.is_empty() && file.segment.iter().all(|s| s.share.is_finite() && (0.0..=1.0).contains(&s.share)) {
        let list: Vec<(String, f64)> = file.segment.iter().map(|s| (s.name.clone(), s.share)).collect();
        checks.sums_to_one(at!["segment"], "segment shares", &list);
    }
    out
}

fn arrivals(
    file: &ScenarioFile,
    checks: &mut Checks<'_>,
    open: TimeOfDay,
    close: TimeOfDay,
    duration_s: u32,
) -> Vec<f64> {
    let rates = &file.arrivals.per_hour;
    let hours = duration_s.div_ceil(3600) as usize;
    if rates.len() != hours && close > open {
        let (n, hours_open) = (rates.len(), if hours == 1 { "1 hour".to_owned() } else { format!("{hours} hours") });
        let rates_word = if n == 1 { "hourly rate" } else { "hourly rates" };
        checks
            .bad(
                at!["arrivals", "per_hour"],
                format!("{n} {rates_word}, but the store is open {hours_open} ({open} to {close})"),
            )
            .label(format!("expected {hours} rates, one per opening hour"))
            .help(if n < hours {
                "give a rate for every hour the store is open (0 for an hour without arrivals)"
            } else {
                "give one rate per opening hour, from opening on"
            });
    }
    for (i, rate) in rates.iter().enumerate() {
        checks.non_negative(at!["arrivals", "per_hour", i], *rate);
    }
    rates.clone()
}

fn lane_specs(file: &ScenarioFile, checks: &mut Checks<'_>) -> (Vec<LaneSpec>, Vec<SharedLineSpec>) {
    let mut line_ids: Names<u16> = Names::new();
    let mut lines = Vec::with_capacity(file.lines.len());
    for (i, (name, line)) in file.lines.iter().enumerate() {
        if line.capacity == Some(0) {
            checks.bad(at!["lines", name, "capacity"], "a line holds at least 1 person").label("expected 1 or more");
        }
        if let Ok(i) = u16::try_from(i) {
            line_ids.insert(name.clone(), i);
        }
        lines.push(SharedLineSpec { name: name.clone(), capacity: line.capacity });
    }
    if file.lane.is_empty() {
        checks.value(ProblemKind::MissingKey, at!["lane"], "at least one checkout [[lane]] is needed");
    } else if !file.lane.iter().any(|l| l.open_at_start) {
        checks
            .value(ProblemKind::BadValue, at!["lane"], "no lane is open when the store opens")
            .label("every lane has open_at_start = false")
            .help("set open_at_start = true on at least one lane");
    }
    let mut used = BTreeSet::new();
    let mut out = Vec::with_capacity(file.lane.len());
    for (i, lane) in file.lane.iter().enumerate() {
        let line = lane.line.as_ref().and_then(|name| checks.resolve(at!["lane", i, "line"], "line", name, &line_ids));
        used.extend(line);
        for (key, d) in [("base_s", &lane.base_s), ("per_item_s", &lane.per_item_s)] {
            checks.non_negative_mean(at!["lane", i, key], &d.0);
        }
        let mut pay_s: [Dist; 4] = format::PAY_S_DEFAULTS.map(|(_, s)| Dist::Constant(s));
        for ((slot, (key, _)), given) in pay_s.iter_mut().zip(format::PAY_S_DEFAULTS).zip(lane.pay_s.methods()) {
            if let Some(d) = given {
                checks.non_negative_mean(at!["lane", i, "pay_s", key], &d.0);
                *slot = d.0.clone();
            }
        }
        out.push(LaneSpec {
            name: lane.name.clone(),
            kind: match lane.kind {
                format::LaneKind::Staffed => LaneKind::Staffed,
                format::LaneKind::SelfCheckout => LaneKind::SelfCheckout,
                format::LaneKind::ScanAndGo => LaneKind::ScanAndGo,
            },
            line,
            open_at_start: lane.open_at_start,
            base_s: lane.base_s.0.clone(),
            per_item_s: lane.per_item_s.0.clone(),
            pay_s,
        });
    }
    for (name, id) in &line_ids {
        if !used.contains(id) {
            checks
                .key(ProblemKind::Reference, at!["lines", name], format!("line \"{name}\" feeds no lane"))
                .label("no lane has this line")
                .help(format!("set line = \"{name}\" on the lanes it feeds, or remove it"));
        }
    }
    (out, lines)
}

fn lane_policy(file: &ScenarioFile, checks: &mut Checks<'_>) -> LanePolicy {
    let policy = &file.lane_policy;
    if policy.open_when_queue == Some(0) {
        checks.bad(at!["lane_policy", "open_when_queue"], "a queue length of 0 would open every lane at once");
    }
    if let Some(idle) = policy.close_when_idle_s {
        checks.positive(at!["lane_policy", "close_when_idle_s"], idle);
    }
    LanePolicy {
        open_when_queue: policy.open_when_queue,
        close_when_idle: policy.close_when_idle_s.map(SimDuration::from_secs_f64),
    }
}

/// The devices (groups placed by a character expanded to one device per cell), the names
/// of all devices (also those whose settings are wrong), and the kiosks' cells with their
/// key paths.
fn devices(
    file: &ScenarioFile,
    checks: &mut Checks<'_>,
    plan: Option<&Plan>,
) -> (Vec<DeviceSpec>, Vec<String>, Vec<(Cell, crate::path::KeyPath)>) {
    let mut out: Vec<DeviceSpec> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut kiosks = Vec::new();
    for (i, d) in file.device.iter().enumerate() {
        let kind = device_kind(checks, i, d);
        let failures = d.failures.as_ref().map(|f| {
            checks.positive(at!["device", i, "failures", "mtbf_s"], f.mtbf_s);
            checks.positive(at!["device", i, "failures", "mttr_s"], f.mttr_s);
            FailureSpec { mtbf: SimDuration::from_secs_f64(f.mtbf_s), mttr: SimDuration::from_secs_f64(f.mttr_s) }
        });
        if d.name.trim().is_empty() {
            checks.bad(at!["device", i, "name"], "a device needs a name");
        }
        let Some(plan) = plan else { continue };
        let cells = match d.at {
            Placement::Cell(x, y) => {
                if !plan.contains(x, y) {
                    checks
                        .bad(
                            at!["device", i, "at"],
                            format!(
                                "[{x}, {y}] is outside the floor, whose cells run from [0, 0] to [{}, {}]",
                                plan.spec.width - 1,
                                plan.spec.height - 1
                            ),
                        )
                        .label("outside the floor");
                    continue;
                }
                vec![Cell { x, y }]
            }
            Placement::Marker(c) => {
                let cells = plan.cells_drawn_with(c);
                if cells.is_empty() {
                    checks
                        .bad(at!["device", i, "at"], format!("no cell of the floor is drawn with {c:?}"))
                        .label("not on the floor")
                        .help("draw the character where the devices stand, or give a cell as [x, y]");
                }
                cells
            }
        };
        let on_wall = cells.iter().find(|c| plan.kind(**c) == CellKind::Wall).copied();
        if let Some(wall) = on_wall {
            let label = match d.at {
                Placement::Marker(c) => format!("{c:?} is drawn on wall cells"),
                Placement::Cell(..) => "a wall cell".to_owned(),
            };
            checks
                .bad(at!["device", i, "at"], format!("{} [{}, {}] is on a wall", d.kind.name(), wall.x, wall.y))
                .label(label)
                .help(
                    "devices stand on floor, entrance, exit, lane and shelf cells, never on a wall; \
                     put it on the cell in front of the wall",
                );
        } else if matches!(d.kind, format::DeviceKind::Esl | format::DeviceKind::SmartShelf) {
            let shelf = |c: Cell| matches!(plan.kind(c), CellKind::Shelf(_));
            if let Some(bad) = cells.iter().find(|c| !shelf(**c) && !plan.neighbours(**c).any(shelf)) {
                checks
                    .bad(
                        at!["device", i, "at"],
                        format!("{} [{}, {}] is neither on nor next to a shelf", d.kind.name(), bad.x, bad.y),
                    )
                    .label("expected a shelf cell or a cell next to one");
            }
        }
        let numbered = cells.len() > 1;
        for (k, cell) in cells.into_iter().enumerate() {
            let name = if numbered { format!("{}-{}", d.name, k + 1) } else { d.name.clone() };
            if !seen.insert(name.clone()) {
                checks
                    .bad(at!["device", i, "name"], format!("two devices are named \"{name}\""))
                    .label("names must be unique");
            }
            if names.len() >= usize::from(u16::MAX) {
                checks.bad(at!["device", i], "too many devices (the limit is 65535)");
                return (out, names, kiosks);
            }
            names.push(name.clone());
            // (A kiosk on a wall is reported once, not also as out of reach.)
            if d.kind == format::DeviceKind::Kiosk && on_wall.is_none() {
                kiosks.push((cell, at!["device", i, "at"]));
            }
            if let Some(kind) = &kind {
                out.push(DeviceSpec { name, kind: kind.clone(), cell, failures });
            }
        }
    }
    (out, names, kiosks)
}

/// The kind-specific settings of device `i`: exactly those of its kind, each in range.
fn device_kind(checks: &mut Checks<'_>, i: usize, d: &format::Device) -> Option<DeviceKind> {
    let given = [
        ("miss", d.miss),
        ("double", d.double),
        ("range_m", d.range_m),
        ("detect", d.detect),
        ("detect_app", d.detect_app),
        ("noise_m", d.noise_m),
        ("interval_s", d.interval_s),
        ("recognise", d.recognise),
        ("latency_s", d.latency_s),
        ("noise_units", d.noise_units),
    ];
    let takes = d.kind.settings();
    let list = if takes.is_empty() {
        "no settings".to_owned()
    } else {
        takes.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
    };
    let mut ok = true;
    for (key, value) in given {
        let path = at!["device", i, key];
        match (value, takes.contains(&key)) {
            (Some(_), false) => {
                ok = false;
                checks
                    .key(ProblemKind::UnknownKey, path, format!("`{key}` is not a setting of a {}", d.kind.name()))
                    .label(format!("a {} takes {list}", d.kind.name()));
            }
            (None, true) => {
                ok = false;
                checks
                    .value(ProblemKind::MissingKey, at!["device", i], format!("a {} needs `{key}`", d.kind.name()))
                    .label(format!("this device needs `{key}`"));
            }
            (Some(v), true) => {
                ok &= match key {
                    "miss" | "double" | "detect" | "detect_app" | "recognise" => checks.share(path, v),
                    "range_m" | "interval_s" => checks.positive(path, v),
                    _ => checks.non_negative(path, v),
                };
            }
            (None, false) => {}
        }
    }
    if !ok {
        return None;
    }
    let v = |x: Option<f64>| x.unwrap_or(0.0);
    Some(match d.kind {
        format::DeviceKind::DoorCounter => DeviceKind::DoorCounter { miss: v(d.miss), double: v(d.double) },
        format::DeviceKind::WifiProbe => DeviceKind::WifiProbe {
            range_m: v(d.range_m),
            detect: v(d.detect),
            detect_app: v(d.detect_app),
            noise_m: v(d.noise_m),
            interval: SimDuration::from_secs_f64(v(d.interval_s)),
        },
        format::DeviceKind::Beacon => DeviceKind::Beacon { range_m: v(d.range_m) },
        format::DeviceKind::FaceCamera => DeviceKind::FaceCamera { range_m: v(d.range_m), recognise: v(d.recognise) },
        format::DeviceKind::Esl => DeviceKind::Esl { latency: SimDuration::from_secs_f64(v(d.latency_s)) },
        format::DeviceKind::SmartShelf => DeviceKind::SmartShelf { noise_units: v(d.noise_units) },
        format::DeviceKind::Kiosk => DeviceKind::Kiosk,
    })
}

fn disruptions(
    file: &ScenarioFile,
    checks: &mut Checks<'_>,
    (open, close): (TimeOfDay, TimeOfDay),
    devices: Option<&Names<DeviceId>>,
    lanes: &Names<LaneId>,
    skus: &Names<SkuId>,
) -> Vec<Disruption> {
    let since_open = |t: TimeOfDay| SimTime::from_secs(u64::from(t.seconds().saturating_sub(open.seconds())));
    let mut out = Vec::with_capacity(file.disruption.len());
    let hours_valid = close > open;
    for (i, d) in file.disruption.iter().enumerate() {
        if hours_valid && (d.at < open || d.at >= close) {
            checks
                .bad(at!["disruption", i, "at"], format!("{} is outside opening hours ({open} to {close})", d.at))
                .label(format!("expected a time from {open} to before {close}"));
        }
        if let Some(until) = d.until {
            if until <= d.at {
                checks
                    .bad(
                        at!["disruption", i, "until"],
                        format!("the disruption ends ({until}) before it starts ({})", d.at),
                    )
                    .label(format!("expected a time after {}", d.at));
            } else if hours_valid && until > close {
                checks
                    .bad(at!["disruption", i, "until"], format!("{until} is after closing time {close}"))
                    .label("leave `until` out to last until closing");
            }
        }
        let given: Vec<&str> = [
            ("device_offline", d.device_offline.is_some()),
            ("device_degraded", d.device_degraded.is_some()),
            ("lane_closed", d.lane_closed.is_some()),
            ("pos_outage", d.pos_outage.is_some()),
            ("price_change", d.price_change.is_some()),
        ]
        .iter()
        .filter(|(_, present)| *present)
        .map(|(k, _)| *k)
        .collect();
        if given.len() != 1 {
            let found = if given.is_empty() {
                "none".to_owned()
            } else {
                given.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
            };
            checks
                .bad(
                    at!["disruption", i],
                    format!(
                        "a disruption has exactly one of `device_offline`, `device_degraded`, `lane_closed`, \
                         `pos_outage` and `price_change`; found {found}"
                    ),
                )
                .label("one disruption per [[disruption]]");
            continue;
        }
        let what = if let Some(name) = &d.device_offline {
            devices
                .and_then(|known| checks.resolve(at!["disruption", i, "device_offline"], "device", name, known))
                .map(DisruptionKind::DeviceOffline)
        } else if let Some(degraded) = &d.device_degraded {
            if !(degraded.accuracy > 0.0 && degraded.accuracy <= 1.0) {
                checks
                    .bad(
                        at!["disruption", i, "device_degraded", "accuracy"],
                        format!("accuracy must be in (0, 1], got {}", degraded.accuracy),
                    )
                    .label("a share of the normal accuracy");
            }
            devices
                .and_then(|known| {
                    checks.resolve(at!["disruption", i, "device_degraded", "device"], "device", &degraded.device, known)
                })
                .map(|device| DisruptionKind::DeviceDegraded { device, accuracy: degraded.accuracy.clamp(1e-3, 1.0) })
        } else if let Some(name) = &d.lane_closed {
            checks.resolve(at!["disruption", i, "lane_closed"], "lane", name, lanes).map(DisruptionKind::LaneClosed)
        } else if let Some(name) = &d.pos_outage {
            checks.resolve(at!["disruption", i, "pos_outage"], "lane", name, lanes).map(DisruptionKind::PosOutage)
        } else if let Some(change) = &d.price_change {
            if d.until.is_some() {
                checks
                    .bad(at!["disruption", i, "until"], "a price change is permanent and takes no `until`")
                    .label("not for a price change")
                    .help("schedule a second price change to restore the price");
            }
            checks
                .resolve(at!["disruption", i, "price_change", "sku"], "SKU", &change.sku, skus)
                .map(|sku| DisruptionKind::PriceChange { sku, price: change.price.0 })
        } else {
            None
        };
        if let Some(what) = what {
            out.push(Disruption { at: since_open(d.at), until: d.until.map(since_open), what });
        }
    }
    out
}
