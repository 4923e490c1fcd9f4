//! Loading a scenario: read the file and what it extends, check the format section by
//! section, check the semantics, and build the [`Scenario`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use storetwin_actors::store::spec::WorldSpec;

use crate::build::{Built, build};
use crate::check::Checks;
use crate::defaults::{self, AppliedDefault};
use crate::deserializer::{from_node, unknown_key};
use crate::document::{Node, Value};
use crate::error::{Issue, ProblemKind, ScenarioError};
use crate::extends::{self, Via};
use crate::file_kind::FileKind;
use crate::fingerprint::scenario_hash;
use crate::format::{
    Arrivals, Device, Disruption, Lane, LanePolicy, Line, Replenishment, Run, ScenarioFile, Segment, Sku, Store,
};
use crate::path::{KeyPath, at};
use crate::source::Sources;

/// At most this many problems are reported for one scenario.
const MAX_PROBLEMS: usize = 50;

/// A loaded, checked scenario: run settings and the world to build.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file loaded, as given (for [`crate::load_str`], the name given).
    pub path: PathBuf,
    /// Every file read from disk: the loaded one first, then the files it extends.
    pub files: Vec<PathBuf>,
    /// Fingerprint of the merged scenario, 16 hex digits (recipe in `fingerprint.rs`).
    pub hash: String,
    /// Seed of the run (replication `i` uses `Seed(seed).replication(i)`).
    pub seed: u64,
    pub replications: u32,
    pub world: WorldSpec,
    /// Every value the scenario leaves out that loading filled in, in file order (see
    /// [`AppliedDefault`]).
    pub defaults: Vec<AppliedDefault>,
}

/// Loads and checks the scenario file at `path`, with the files it extends.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let mut sources = Sources::default();
    let root = extends::read_path(path, FileKind::Store, Via::User, &mut sources);
    finish(path.to_path_buf(), root, &sources)
}

/// Loads and checks a scenario given as text; `name` is what errors call the file. An
/// `extends` in the text is resolved relative to the working directory.
pub fn load_str(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let mut sources = Sources::default();
    let root = extends::read_text(name, text, FileKind::Store, &mut sources);
    finish(PathBuf::from(name), root, &sources)
}

/// The error of a load that found `issues` (at most [`MAX_PROBLEMS`] of them are kept).
pub(crate) fn failure(name: &Path, mut issues: Vec<Issue>, sources: &Sources) -> ScenarioError {
    if issues.is_empty() {
        issues.push(Issue::new(ProblemKind::BadValue, "the scenario could not be built"));
    }
    // A problem in a group's block is found in each of its items: it is reported once.
    issues.dedup_by(|a, b| a.origin.is_some() && a.origin == b.origin && a.message == b.message);
    let problems = issues.into_iter().take(MAX_PROBLEMS).map(|i| i.resolve(sources)).collect();
    ScenarioError::new(name.display().to_string(), problems)
}

fn finish(path: PathBuf, root: Result<Node, Vec<Issue>>, sources: &Sources) -> Result<Scenario, ScenarioError> {
    let checked = root.and_then(|root| check_store(root, sources)).map_err(|i| failure(&path, i, sources))?;
    Ok(Scenario {
        files: sources.files().iter().filter_map(|f| f.path.clone()).collect(),
        path,
        hash: scenario_hash(&checked.root),
        seed: checked.built.seed,
        replications: checked.built.replications,
        world: checked.built.world,
        defaults: checked.defaults,
    })
}

/// A store scenario read, checked and built, with the merged document it came from.
pub(crate) struct CheckedStore {
    pub(crate) root: Node,
    pub(crate) file: ScenarioFile,
    pub(crate) built: Built,
    pub(crate) defaults: Vec<AppliedDefault>,
}

/// Reads the merged document of a store scenario as the format, checks it and builds its
/// world.
pub(crate) fn check_store(root: Node, sources: &Sources) -> Result<CheckedStore, Vec<Issue>> {
    let file = read_sections::<ScenarioFile>(&root, SECTIONS, SECTION_READERS, "scenario")?;
    let mut checks = Checks::new(&root, sources);
    let built = build(&file, &mut checks);
    let issues = checks.finish();
    match built {
        Some(built) if issues.is_empty() => {
            let defaults = defaults::applied(&root, &file);
            Ok(CheckedStore { root, file, built, defaults })
        }
        _ => Err(issues),
    }
}

/// The top-level keys of a scenario, as in [`ScenarioFile`].
pub(crate) const SECTIONS: &[&str] = &[
    "extends",
    "run",
    "store",
    "categories",
    "sku",
    "arrivals",
    "segment",
    "lines",
    "lane",
    "lane_policy",
    "device",
    "disruption",
    "replenishment",
];

/// Reads a value as `T`, only to find its problems.
pub(crate) type Reader = fn(&Node, &KeyPath) -> Result<(), Box<Issue>>;

/// A section of a file: its key, whether it is required, whether it is an array of
/// tables (read table by table), and how to read one table of it.
pub(crate) type SectionReader = (&'static str, bool, bool, Reader);

pub(crate) fn reader<T: serde::de::DeserializeOwned>(node: &Node, path: &KeyPath) -> Result<(), Box<Issue>> {
    from_node::<T>(node, path).map(drop)
}

/// The sections of a scenario.
const SECTION_READERS: &[SectionReader] = &[
    ("run", true, false, reader::<Run>),
    ("store", true, false, reader::<Store>),
    ("categories", true, false, reader::<BTreeMap<String, f64>>),
    ("sku", true, true, reader::<Sku>),
    ("arrivals", true, false, reader::<Arrivals>),
    ("segment", true, true, reader::<Segment>),
    ("lines", false, false, reader::<BTreeMap<String, Line>>),
    ("lane", true, true, reader::<Lane>),
    ("lane_policy", false, false, reader::<LanePolicy>),
    ("device", false, true, reader::<Device>),
    ("disruption", false, true, reader::<Disruption>),
    ("replenishment", true, false, reader::<Replenishment>),
];

/// Reads the merged document as `T` (a [`ScenarioFile`], a chain file) whose top-level
/// keys are `sections`, read by `readers`. Each section (and each table of an array of
/// tables) is read on its own first, so that problems in several sections are all
/// reported; `what` names the file in messages ("scenario", "chain").
pub(crate) fn read_sections<T: serde::de::DeserializeOwned>(
    root: &Node,
    sections: &'static [&'static str],
    readers: &[SectionReader],
    what: &str,
) -> Result<T, Vec<Issue>> {
    let Some(table) = root.as_table() else {
        return Err(vec![Issue::new(ProblemKind::WrongType, format!("a {what} is a TOML table")).at(root.origin)]);
    };
    let mut issues = Vec::new();
    for (key, entry) in table {
        if !sections.contains(&key.as_str()) {
            issues.push(unknown_key(key, entry.key, at![key], sections));
        }
    }
    for &(key, required, array, read) in readers {
        match table.get(key).map(|e| &e.node) {
            Some(Node { value: Value::Array(items), .. }) if array => {
                issues.extend(
                    items.iter().enumerate().filter_map(|(i, item)| read(item, &at![key, i]).err()).map(|i| *i),
                );
            }
            // An array of tables that is not an array: reading it whole reports the type.
            Some(node) if array => issues.extend(reader::<Vec<IgnoredAny>>(node, &at![key]).err().map(|i| *i)),
            Some(node) => issues.extend(read(node, &at![key]).err().map(|i| *i)),
            None if required => {
                let (what, needs) = if array {
                    (format!("[[{key}]]"), format!("at least one [[{key}]]"))
                } else {
                    (format!("[{key}]"), format!("[{key}]"))
                };
                issues.push(
                    Issue::new(ProblemKind::MissingKey, format!("missing `{what}`"))
                        .at(root.origin)
                        .with_label(format!("this {what} needs {needs}"))
                        .with_path(KeyPath::default()),
                );
            }
            None => {}
        }
    }
    if !issues.is_empty() {
        issues.sort_by_key(|i| i.origin.map(|o| (o.file, o.start)));
        return Err(issues);
    }
    from_node::<T>(root, &KeyPath::default()).map_err(|issue| vec![*issue])
}
