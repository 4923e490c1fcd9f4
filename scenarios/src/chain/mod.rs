//! Chain files: several store scenarios run as one chain, loaded into a checked
//! [`ChainSpec`].
//!
//! Loading follows the store pipeline: the chain file is parsed into the spanned document,
//! its groups expanded (a `[[store]]` template with `count` is expanded here, before
//! merging, so a variant can change store S017 by name), merged on top of the chain file it
//! `extends`, and read into [`format::ChainFile`]. Each store scenario it names is then
//! loaded once with [`crate::load`]'s pipeline, into the same list of files, so that every
//! problem (in the chain file, in a store scenario, in a base of either) points at its
//! file, line and column. [`stores`] puts the stores on the chain's catalogue and clock;
//! [`build`] and [`campaigns`] check the platform, members, online shoppers, coupons and
//! link disruptions; [`load`] checks the `[load]` section (a k6-like load test) into a
//! [`LoadSpec`](storetwin_actors::load::LoadSpec); [`defaults`] lists what was filled in.
//!
//! The chain's scenario hash is the FNV-1a hash (as in `fingerprint.rs`) of the canonical
//! JSON of `[chain document, store scenario 1, store scenario 2, ...]`: the merged chain
//! document and each distinct store scenario's merged document in order of first use.

mod build;
mod campaigns;
mod defaults;
pub mod flash;
pub mod format;
pub mod load;
mod stores;

use std::path::{Path, PathBuf};

use storetwin_actors::chain::spec::{ChainSpec, StoreIdx};
use storetwin_actors::load::LoadSpec;
use storetwin_engine::{SimDuration, SimTime};

use self::format::{
    ChainFile, ChainInfo, ChainSku, ChainStore, Coupon, CourierDelayFile, Members, Online, PartitionFile, Platform,
};
use self::load::LoadFile;
use self::stores::Hours;
use crate::check::Checks;
use crate::defaults::AppliedDefault;
use crate::document::Node;
use crate::error::{Issue, ProblemKind, ScenarioError};
use crate::extends::{self, Via};
use crate::file_kind::FileKind;
use crate::fingerprint::canonical_json;
use crate::format::Run;
use crate::path::{KeyPath, at};
use crate::scenario::{SectionReader, failure, read_sections, reader};
use crate::source::Sources;
use crate::time_of_day::TimeOfDay;

pub use self::build::DEFAULT_KIOSK_COLLECT_SHARE;
pub use self::build::{DEFAULT_COUPON_TIMEOUT, DEFAULT_PICK_TARGET, DEFAULT_REFERRAL_JOIN_AFTER_S};
pub use self::stores::{DEFAULT_PICKERS, DEFAULT_PICKUP_STAFF};

/// A loaded, checked chain: run settings and the chain to build.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    /// The chain file loaded, as given.
    pub path: PathBuf,
    /// Every file read from disk, once: the chain file, the chain files it extends, then
    /// the store scenarios (and what they extend) in order of first use.
    pub files: Vec<PathBuf>,
    /// Fingerprint of the merged chain file and its store scenarios, 16 hex digits (recipe
    /// in the module docs).
    pub hash: String,
    /// Seed of the run (replication `i` uses `Seed(seed).replication(i)`); the per-store
    /// variation of templates is drawn from it too, the same in every replication.
    pub seed: u64,
    pub replications: u32,
    pub spec: ChainSpec,
    /// Every value the chain file and its store scenarios leave out that loading filled
    /// in, and what the chain replaces in its store scenarios (their `[run]`), in file
    /// order. Keys of a store scenario's own defaults start with its path as the chain file
    /// writes it: `weekday.toml:lane[L7].pay_s.cash`.
    pub defaults: Vec<AppliedDefault>,
    /// The checked `[load]` section, if the file has one (what `storetwin load` runs).
    pub load: Option<LoadSpec>,
}

impl Chain {
    /// Loads and checks the chain file at `path`, the chain files it extends and the store
    /// scenarios it names (relative to the file that names them).
    pub fn load(path: &Path) -> Result<Chain, ScenarioError> {
        let mut sources = Sources::default();
        let root = extends::read_path(path, FileKind::Chain, Via::User, &mut sources);
        finish(path.to_path_buf(), root, &mut sources)
    }

    /// Loads and checks a chain given as text; `name` is what errors call the file. Its
    /// `extends` and store `file`s are relative to the working directory.
    pub fn load_str(name: &str, text: &str) -> Result<Chain, ScenarioError> {
        let mut sources = Sources::default();
        let root = extends::read_text(name, text, FileKind::Chain, &mut sources);
        finish(PathBuf::from(name), root, &mut sources)
    }
}

impl Chain {
    /// The chain as its command runs it, and the seed: for a file with `[load]` the load
    /// test (`storetwin load`: the load scenarios' shoppers, to the load's end, its seed),
    /// else the chain's day (`storetwin run`, replication 0). `Err` says why a load
    /// section cannot run.
    pub fn run_spec(&self) -> Result<(ChainSpec, u64), String> {
        match &self.load {
            Some(load) => {
                let demand = storetwin_actors::load::demand(load)?;
                Ok((storetwin_actors::load::load_spec(&self.spec, load, demand), load.seed.unwrap_or(self.seed)))
            }
            None => Ok((self.spec.clone(), self.seed)),
        }
    }
}

/// [`Chain::load`].
pub fn load_chain(path: &Path) -> Result<Chain, ScenarioError> {
    Chain::load(path)
}

/// The top-level keys of a chain file, as in [`ChainFile`].
pub(crate) const SECTIONS: &[&str] = &[
    "extends",
    "run",
    "chain",
    "store",
    "sku",
    "platform",
    "members",
    "online",
    "coupon",
    "partition",
    "courier_delay",
    "flash_sale",
    "load",
];

const SECTION_READERS: &[SectionReader] = &[
    ("run", true, false, reader::<Run>),
    ("chain", true, false, reader::<ChainInfo>),
    ("store", true, true, reader::<ChainStore>),
    ("sku", false, true, reader::<ChainSku>),
    ("platform", true, false, reader::<Platform>),
    ("members", true, false, reader::<Members>),
    ("online", false, true, reader::<Online>),
    ("coupon", false, true, reader::<Coupon>),
    ("partition", false, true, reader::<PartitionFile>),
    ("courier_delay", false, true, reader::<CourierDelayFile>),
    ("flash_sale", false, false, reader::<flash::FlashSaleFile>),
    ("load", false, false, reader::<LoadFile>),
];

fn finish(path: PathBuf, root: Result<Node, Vec<Issue>>, sources: &mut Sources) -> Result<Chain, ScenarioError> {
    let root = root.map_err(|i| failure(&path, i, sources))?;
    let file: ChainFile =
        read_sections(&root, SECTIONS, SECTION_READERS, "chain").map_err(|i| failure(&path, i, sources))?;
    let store_files = stores::load_files(&root, &file, sources);
    let sources: &Sources = sources;
    let mut issues = store_files.issues.clone();

    let mut checks = Checks::new(&root, sources);
    let (open, close) = (file.run.open, file.run.close);
    if close <= open {
        checks
            .bad(at!["run", "close"], format!("closing time {close} is not after opening time {open}"))
            .label(format!("expected a time after {open}"));
    }
    if file.run.replications == 0 {
        checks.bad(at!["run", "replications"], "at least 1 replication is needed").label("expected 1 or more");
    }
    if file.chain.name.trim().is_empty() {
        checks.bad(at!["chain", "name"], "the chain needs a name").label("expected a name");
    }
    let hours = Hours { open_s: open.seconds(), close_s: close.seconds().max(open.seconds()) };
    let seed = file.run.seed;

    let store_names = crate::build::names(&mut checks, "store", file.store.iter().map(|s| s.name.as_str()), |i| {
        u16::try_from(i).ok().map(StoreIdx)
    });
    if file.store.is_empty() {
        checks.value(ProblemKind::MissingKey, at!["store"], "a chain needs at least one [[store]]");
    }
    let catalogue = stores::catalogue(&file, &store_files, &mut checks);
    // Each store scenario's SKUs against the chain's catalogue, once per scenario.
    if let Some(catalogue) = &catalogue {
        for (index, entry) in store_files.files.iter().enumerate() {
            let Some(checked) = &entry.checked else { continue };
            if catalogue.from_file == Some(index) {
                continue;
            }
            let mut store_checks = Checks::new(&checked.root, sources);
            stores::check_skus(checked, catalogue, &mut store_checks);
            issues.extend(store_checks.finish());
        }
    }
    let mut built_stores = Vec::with_capacity(file.store.len());
    if let Some(catalogue) = catalogue.as_ref().filter(|_| issues.is_empty()) {
        for (i, store) in file.store.iter().enumerate() {
            let entry = &store_files.files[store_files.of_store[i]];
            let Some(checked) = &entry.checked else { continue };
            let mut store_checks = Checks::new(&checked.root, sources);
            let built = stores::store_spec(i, store, checked, catalogue, hours, seed, &mut checks, &mut store_checks);
            issues.extend(store_checks.finish());
            built_stores.extend(built);
        }
    }
    let platform = build::platform(&file, &mut checks);
    let members = build::members(&file, &mut checks);
    let online = build::online(&file, hours, &mut checks);
    let campaigns = campaigns::campaigns(&file.coupon, catalogue.as_ref(), &store_names, hours, &mut checks);
    let partitions = build::partitions(&file, &store_names, hours, &mut checks);
    let courier_delays = build::courier_delays(&file, hours, &mut checks);
    let flash = file
        .flash_sale
        .as_ref()
        .and_then(|f| flash::flash_sale(f, catalogue.as_ref(), &store_names, &built_stores, hours, &mut checks));
    let load = load::load_spec(file.load.as_ref(), &store_names, &mut checks);
    // A pre-order shopper needs tiers to order from.
    let tiers = file.flash_sale.as_ref().is_some_and(|f| !f.preorder.is_empty());
    for (name, s) in file.load.iter().flat_map(|l| &l.scenarios) {
        if s.journey == load::JourneyFile::PreOrder && !tiers {
            checks
                .bad(
                    at!["load", "scenarios", name, "journey"],
                    "a pre_order journey orders from the flash sale's pre-order tiers, and there are none",
                )
                .label("expected a [[flash_sale.preorder]] tier, or another journey");
        }
    }
    issues.extend(checks.finish());
    issues.sort_by_key(|i| i.origin.map(|o| (o.file, o.start, o.end)));
    // A problem in a template or a store scenario shared by several stores is reported once,
    // not once per store.
    issues.dedup_by(|a, b| a.origin == b.origin && a.message == b.message);

    let catalogue = match catalogue {
        Some(c) if issues.is_empty() && built_stores.len() == file.store.len() => c,
        _ => return Err(failure(&path, issues, sources)),
    };
    let defaults = defaults::applied(&root, &file, &store_files, &catalogue, &built_stores);
    let hash = chain_hash(&root, &store_files);
    let spec = ChainSpec {
        name: file.chain.name.clone(),
        open_at_s: hours.open_s,
        duration: SimDuration::from_secs(u64::from(hours.close_s - hours.open_s)),
        categories: catalogue.categories,
        catalogue: catalogue.items,
        stores: built_stores,
        platform,
        members,
        online,
        campaigns,
        partitions,
        courier_delays,
        flash,
        demand: Vec::new(),
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for path in sources.files().iter().filter_map(|f| f.path.clone()) {
        if !files.contains(&path) {
            files.push(path);
        }
    }
    Ok(Chain { files, path, hash, seed, replications: file.run.replications, spec, defaults, load })
}

/// The hash of the chain document and its store scenarios (recipe in the module docs).
fn chain_hash(root: &Node, stores: &stores::StoreFiles) -> String {
    let mut text = String::from("[");
    text.push_str(&canonical_json(root));
    for file in &stores.files {
        if let Some(checked) = &file.checked {
            text.push(',');
            text.push_str(&canonical_json(&checked.root));
        }
    }
    text.push(']');
    crate::fingerprint::fnv1a_hex(&text)
}

/// A share written as a fraction (0.6) in basis points (6000): from 0 to 1 with at most 4
/// decimals, so that shares meant to sum to 1 sum to exactly 10,000.
pub(crate) fn share_bps(checks: &mut Checks<'_>, path: KeyPath, share: f64) -> Option<u32> {
    if !checks.share(path.clone(), share) {
        return None;
    }
    let bps = share * 10_000.0;
    if (bps - bps.round()).abs() > 1e-6 {
        checks
            .bad(path, format!("a share here is whole basis points (at most 4 decimals), found {share}"))
            .label("expected a share like 0.0125");
        return None;
    }
    Some(bps.round() as u32)
}

/// A time of day as sim time since the chain opens (0 for an earlier time).
pub(crate) fn since_open(t: TimeOfDay, hours: Hours) -> SimTime {
    SimTime::from_secs(u64::from(t.seconds().saturating_sub(hours.open_s)))
}

/// A scheduled time lies in the chain's hours: from opening to before closing, or to
/// closing itself if `end` (the end of a window).
pub(crate) fn in_hours(checks: &mut Checks<'_>, path: KeyPath, t: TimeOfDay, hours: Hours, end: bool) -> bool {
    let (open, close) = (TimeOfDay(hours.open_s), TimeOfDay(hours.close_s));
    let inside = t >= open && if end { t <= close } else { t < close };
    if !inside && close > open {
        let expected = if end {
            format!("expected a time from {open} to {close}")
        } else {
            format!("expected a time from {open} to before {close}")
        };
        checks.bad(path, format!("{t} is outside the chain's hours ({open} to {close})")).label(expected);
    }
    inside || close <= open
}
