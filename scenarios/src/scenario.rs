//! Loading a scenario: read the file and what it extends, check the format section by
//! section, check the semantics, and build the [`Scenario`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use storetwin_actors::store::spec::WorldSpec;

use crate::build::build;
use crate::check::Checks;
use crate::defaults::{self, AppliedDefault};
use crate::deserializer::{from_node, unknown_key};
use crate::document::{Node, Value};
use crate::error::{Issue, ProblemKind, ScenarioError};
use crate::extends;
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
    let root = extends::read_path(path, &mut sources);
    finish(path.to_path_buf(), root, &sources)
}

/// Loads and checks a scenario given as text; `name` is what errors call the file. An
/// `extends` in the text is resolved relative to the working directory.
pub fn load_str(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let mut sources = Sources::default();
    let root = extends::read_text(name, text, &mut sources);
    finish(PathBuf::from(name), root, &sources)
}

fn finish(path: PathBuf, root: Result<Node, Vec<Issue>>, sources: &Sources) -> Result<Scenario, ScenarioError> {
    let fail = |mut issues: Vec<Issue>| {
        if issues.is_empty() {
            issues.push(Issue::new(ProblemKind::BadValue, "the scenario could not be built"));
        }
        let problems = issues.into_iter().take(MAX_PROBLEMS).map(|i| i.resolve(sources)).collect();
        ScenarioError::new(path.display().to_string(), problems)
    };
    let root = root.map_err(fail)?;
    let file = read_format(&root).map_err(fail)?;
    let mut checks = Checks::new(&root, sources);
    let built = build(&file, &mut checks);
    let issues = checks.finish();
    match built {
        Some(built) if issues.is_empty() => Ok(Scenario {
            files: sources.files().iter().filter_map(|f| f.path.clone()).collect(),
            path,
            hash: scenario_hash(&root),
            seed: built.seed,
            replications: built.replications,
            world: built.world,
            defaults: defaults::applied(&root, &file),
        }),
        _ => Err(fail(issues)),
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
type Reader = fn(&Node, &KeyPath) -> Result<(), Box<Issue>>;

fn reader<T: serde::de::DeserializeOwned>(node: &Node, path: &KeyPath) -> Result<(), Box<Issue>> {
    from_node::<T>(node, path).map(drop)
}

/// A section of a scenario: its key, whether it is required, whether it is an array of
/// tables (read table by table), and how to read one table of it.
const SECTION_READERS: &[(&str, bool, bool, Reader)] = &[
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

/// Reads the merged document as a [`ScenarioFile`]. Each section (and each table of an
/// array of tables) is read on its own first, so that problems in several sections are
/// all reported.
fn read_format(root: &Node) -> Result<ScenarioFile, Vec<Issue>> {
    let Some(table) = root.as_table() else {
        return Err(vec![Issue::new(ProblemKind::WrongType, "a scenario is a TOML table").at(root.origin)]);
    };
    let mut issues = Vec::new();
    for (key, entry) in table {
        if !SECTIONS.contains(&key.as_str()) {
            issues.push(unknown_key(key, entry.key, at![key], SECTIONS));
        }
    }
    for &(key, required, array, read) in SECTION_READERS {
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
                        .with_label(format!("this scenario needs {needs}"))
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
    from_node::<ScenarioFile>(root, &KeyPath::default()).map_err(|issue| vec![*issue])
}
