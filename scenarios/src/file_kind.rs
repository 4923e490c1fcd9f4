//! Store scenarios and chain files: which is which.
//!
//! Both are TOML with a `[run]`. A chain file has a top-level `[chain]` table and its stores
//! as `[[store]]` entries; a store scenario has one `[store]` table with its floor. A file
//! that `extends` another may give neither (a chain variant changing one store's staffing
//! writes only `[[store]]` items, or only `[platform]`): its own keys decide where they can
//! (`[[store]]` as an array, `[platform]`, `[[coupon]]`, ... are a chain's; `[store]` as a
//! table, `[[lane]]`, `[arrivals]`, ... a store's), and otherwise the kind of the file it
//! extends. A file of one kind never extends a file of the other.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::document::{self, Node, Value};
use crate::error::{Issue, ProblemKind, ScenarioError};
use crate::source::{FileId, Sources};

/// What a scenario file describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// One store's day (`[store]` with its floor, `[[lane]]`, ...): [`crate::load`].
    Store,
    /// A chain of stores (`[chain]`, `[[store]]` entries naming store scenarios):
    /// [`crate::Chain::load`].
    Chain,
}

impl FileKind {
    /// "store scenario" or "chain file", as messages say it.
    pub fn noun(self) -> &'static str {
        match self {
            FileKind::Store => "store scenario",
            FileKind::Chain => "chain file",
        }
    }
}

/// Top-level keys only a store scenario has.
const STORE_ONLY: &[&str] =
    &["categories", "arrivals", "segment", "lines", "lane", "lane_policy", "device", "disruption", "replenishment"];

/// Top-level keys only a chain file has.
const CHAIN_ONLY: &[&str] =
    &["chain", "platform", "members", "online", "coupon", "partition", "courier_delay", "flash_sale", "load"];

/// The kind a document's own keys give, if they give one.
pub(crate) fn of_document(root: &Node) -> Option<FileKind> {
    let table = root.as_table()?;
    if table.contains_key("chain") {
        return Some(FileKind::Chain);
    }
    match table.get("store").map(|e| &e.node.value) {
        Some(Value::Array(_)) => return Some(FileKind::Chain),
        Some(Value::Table(_)) => return Some(FileKind::Store),
        _ => {}
    }
    if table.keys().any(|k| STORE_ONLY.contains(&k.as_str())) {
        Some(FileKind::Store)
    } else if table.keys().any(|k| CHAIN_ONLY.contains(&k.as_str())) {
        Some(FileKind::Chain)
    } else {
        None
    }
}

/// Whether the file at `path` is a store scenario or a chain file, from its own keys or,
/// for a file that gives neither, from the files it extends. Only reads and parses; a
/// file that is neither (a Cargo manifest) is called a store scenario here and refused
/// when it is loaded. `storetwin run X.toml` dispatches on this.
pub fn file_kind(path: &Path) -> Result<FileKind, ScenarioError> {
    let mut sources = Sources::default();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut path = path.to_path_buf();
    loop {
        let name = path.display().to_string();
        let fail = |sources: &Sources, issue: Issue| ScenarioError::new(name.clone(), vec![issue.resolve(sources)]);
        let text = match fs::read(&path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => return Err(fail(&sources, Issue::new(ProblemKind::Io, format!("{name} is not UTF-8 text")))),
            Err(e) => return Err(fail(&sources, Issue::new(ProblemKind::Io, format!("cannot read {name}: {e}")))),
        };
        let file: FileId = sources.add(name.clone(), Some(path.clone()), &text);
        let root = match document::parse(file, &text) {
            Ok(root) => root,
            Err(mut issues) => return Err(fail(&sources, issues.remove(0))),
        };
        if let Some(kind) = of_document(&root) {
            return Ok(kind);
        }
        let base = root.as_table().and_then(|t| t.get("extends")).and_then(|e| match &e.node.value {
            Value::String(s) => Some(s.clone()),
            _ => None,
        });
        let canonical = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        match base {
            Some(base) if seen.insert(canonical) => {
                path = path.parent().map_or_else(|| PathBuf::from(&base), |dir| dir.join(&base));
            }
            _ => return Ok(FileKind::Store),
        }
    }
}
