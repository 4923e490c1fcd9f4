//! `extends`: a scenario written as a change to another one.
//!
//! A file with `extends = "weekday.toml"` is read on top of that file (found relative to
//! the extending file). Each file's groups are expanded first (see [`crate::group`]); then
//! the extending file is merged into the base:
//!
//! - Tables merge key by key, recursively: `[run]` with only `seed = 3` changes the seed.
//! - Named arrays (`[[sku]]`, `[[segment]]`, `[[lane]]`, `[[device]]`, `[[disruption]]`,
//!   `[[store.zone]]`) merge by `name`. An item whose name is in the base changes that
//!   item: it gives only the keys it changes, merged into the base's item like a table.
//!   An item with a new name (or, for disruptions, no name) is added after the base's
//!   items, in the file's order, or, with `after = "SCO6"`, right after that item of the
//!   base (several items after the same one keep the file's order). `name = "L7"` with
//!   `remove = true` and no other key removes the base's L7.
//! - A distribution given as a table whose `dist` differs from the base's replaces it whole
//!   (`trip_s = { dist = "exponential", mean = 240 }` over a lognormal); with the same
//!   `dist`, or none, its parameters merge (`trip_s = { mean = 300 }`).
//! - A legend entry replaces the base's.
//! - Any other value, other arrays included (`per_hour`), replaces the base's whole.
//!
//! Chain files merge the same way, with their own named arrays (`[[store]]`, `[[coupon]]`,
//! ... by `name`; see [`crate::group`]). A file extends only a file of its own kind (a
//! chain file another chain file, a store scenario another store scenario; see
//! [`crate::file_kind`]).
//!
//! `remove` and `after` need a base: in a file that extends nothing they are errors. Chains
//! of files are allowed (C extends B extends A); a cycle is an error that names the files. Every
//! value keeps the origin of the file that wrote it, so problems point into the right file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::check::name_list;
use crate::deserializer::closest;
use crate::document::{self, Entry, Node, Table, Value};
use crate::error::{Issue, ProblemKind};
use crate::file_kind::{self, FileKind};
use crate::group::{self, item_path, name_of, named_array};
use crate::path::KeyPath;
use crate::source::{FileId, Origin, Sources};

/// How a file came to be read: what a problem reading it points at.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Via {
    /// Named by the user.
    User,
    /// The `extends` of another file, at this value.
    Extends(Origin),
    /// The `file` of a chain's `[[store]]`, at this value.
    StoreFile(Origin),
}

impl Via {
    fn origin(self) -> Option<Origin> {
        match self {
            Via::User => None,
            Via::Extends(o) | Via::StoreFile(o) => Some(o),
        }
    }
}

/// Reads the file at `path`, which must be of kind `expected`, and everything it extends,
/// merged.
pub(crate) fn read_path(path: &Path, expected: FileKind, via: Via, sources: &mut Sources) -> Result<Node, Vec<Issue>> {
    let (root, kind) = read_file(path, via, &mut Vec::new(), sources)?;
    expect_kind(&path.display().to_string(), &root, kind, expected, via)?;
    Ok(root)
}

/// Reads a file given as text; an `extends` in it is relative to the working directory.
pub(crate) fn read_text(name: &str, text: &str, expected: FileKind, sources: &mut Sources) -> Result<Node, Vec<Issue>> {
    let file = sources.add(name.to_owned(), None, text);
    let root = read_document(name, file, text, None)?;
    let (root, kind) = with_base(root, None, &mut Vec::new(), sources)?;
    expect_kind(name, &root, kind, expected, Via::User)?;
    Ok(root)
}

/// A chain file where a store scenario belongs, or the other way round, is one problem
/// saying so (rather than one per key the other format does not know).
fn expect_kind(name: &str, root: &Node, kind: FileKind, expected: FileKind, via: Via) -> Result<(), Vec<Issue>> {
    if kind == expected {
        return Ok(());
    }
    let (message, label, help) = match (via, kind) {
        (Via::StoreFile(_), _) => (
            format!("{name} is a {}, but a [[store]] `file` is a store scenario", kind.noun()),
            "not a store scenario",
            "a chain's stores are store scenarios (weekday.toml, ...); a chain cannot hold another chain",
        ),
        (_, FileKind::Chain) => (
            format!("{name} is a chain file, not a store scenario"),
            "a chain file",
            "a chain is loaded as a chain: its [[store]] entries name the store scenarios it runs",
        ),
        (_, FileKind::Store) => (
            format!("{name} is a store scenario, not a chain file"),
            "a store scenario",
            "a chain file has a [chain] table and [[store]] entries whose `file` names store scenarios like this one",
        ),
    };
    let deciding = root.as_table().and_then(|t| t.get("chain").or_else(|| t.get("store"))).map(|e| e.key);
    let origin = via.origin().or(deciding).unwrap_or(root.origin);
    Err(vec![Issue::new(ProblemKind::NotAScenario, message).at(origin).with_label(label).with_help(help)])
}

/// The files being read, outermost first: their canonical paths and names.
type Chain = Vec<(PathBuf, String)>;

fn read_file(path: &Path, via: Via, chain: &mut Chain, sources: &mut Sources) -> Result<(Node, FileKind), Vec<Issue>> {
    let name = path.display().to_string();
    let cannot_read = |why: String| {
        let kind = if matches!(via, Via::Extends(_)) { ProblemKind::Extends } else { ProblemKind::Io };
        let mut issue = Issue::new(kind, why);
        if let Some(origin) = via.origin() {
            issue = issue.at(origin).with_label("this file cannot be read");
        }
        vec![issue]
    };
    let canonical = fs::canonicalize(path).map_err(|e| cannot_read(format!("cannot read {name}: {e}")))?;
    if let Some(first) = chain.iter().position(|(c, _)| *c == canonical) {
        let cycle: Vec<&str> =
            chain[first..].iter().map(|(_, n)| n.as_str()).chain(std::iter::once(name.as_str())).collect();
        let mut issue = Issue::new(ProblemKind::Extends, format!("extends cycle: {}", cycle.join(" extends ")));
        if let Some(origin) = via.origin() {
            issue = issue.at(origin).with_label("this file extends, through the chain, the file that extends it");
        }
        return Err(vec![issue.with_help("a scenario cannot extend itself; break the cycle")]);
    }
    let bytes = fs::read(&canonical).map_err(|e| cannot_read(format!("cannot read {name}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| cannot_read(format!("{name} is not UTF-8 text")))?;
    let file = sources.add(name.clone(), Some(path.to_path_buf()), &text);
    let root = read_document(&name, file, &text, via.origin())?;
    chain.push((canonical, name));
    let merged = with_base(root, path.parent(), chain, sources);
    chain.pop();
    merged
}

/// One file parsed and recognised as a scenario.
fn read_document(name: &str, file: FileId, text: &str, via: Option<Origin>) -> Result<Node, Vec<Issue>> {
    let root = document::parse(file, text)?;
    if let Some(mut issue) = not_a_scenario(name, &root) {
        if let Some(origin) = via {
            issue = Issue { origin: Some(origin), label: Some("not a scenario".to_owned()), ..issue };
        }
        return Err(vec![issue]);
    }
    Ok(root)
}

/// A file that is plainly something else (a Cargo manifest, a TOML file with none of a
/// scenario's sections) is refused with one problem saying so, instead of one problem per
/// key.
fn not_a_scenario(name: &str, root: &Node) -> Option<Issue> {
    let table = root.as_table()?;
    if table.contains_key("run") || table.contains_key("extends") {
        return None;
    }
    let cargo = ["package", "workspace"].into_iter().find_map(|k| table.get(k));
    let scenario_keys = table
        .keys()
        .any(|k| crate::scenario::SECTIONS.contains(&k.as_str()) || crate::chain::SECTIONS.contains(&k.as_str()));
    let (why, at) = match cargo {
        Some(entry) => (" (it looks like a Cargo manifest)", entry.key),
        None if !scenario_keys => ("", table.values().next().map_or(root.origin, |e| e.key)),
        None => return None,
    };
    Some(
        Issue::new(ProblemKind::NotAScenario, format!("{name} is not a storetwin scenario{why}"))
            .at(at)
            .with_label("a scenario starts with [run], [store], ...")
            .with_help(
                "a scenario has the sections [run], [store], [categories], [[sku]], [arrivals], [[segment]], \
                 [[lane]] and [replenishment] (see `storetwin schema`), or `extends` another scenario",
            ),
    )
}

/// `root` with its groups expanded, merged on top of the file its `extends` names
/// (relative to `dir`), if any; and the kind of file it is.
fn with_base(
    mut root: Node,
    dir: Option<&Path>,
    chain: &mut Chain,
    sources: &mut Sources,
) -> Result<(Node, FileKind), Vec<Issue>> {
    let own = file_kind::of_document(&root);
    let Value::Table(table) = &mut root.value else {
        return Ok((root, own.unwrap_or(FileKind::Store)));
    };
    let Some(entry) = table.remove("extends") else {
        let kind = own.unwrap_or(FileKind::Store);
        group::expand(&mut root, kind)?;
        check_without_base(&root, kind)?;
        return Ok((root, kind));
    };
    let Value::String(base) = &entry.node.value else {
        return Err(vec![
            Issue::new(ProblemKind::WrongType, "`extends` is the path of another scenario file")
                .at(entry.node.origin)
                .with_label("expected a string like \"weekday.toml\""),
        ]);
    };
    let base_path = match dir {
        Some(dir) => dir.join(base),
        None => PathBuf::from(base),
    };
    let (base, kind) = read_file(&base_path, Via::Extends(entry.node.origin), chain, sources)?;
    if let Some(own) = own
        && own != kind
    {
        let help = match own {
            FileKind::Chain => {
                "a chain file extends another chain file; the store scenarios it runs are named by its \
                 [[store]] entries (`file = \"weekday.toml\"`)"
            }
            FileKind::Store => {
                "a store scenario extends another store scenario; a chain file names store scenarios in its \
                 [[store]] entries, not the other way round"
            }
        };
        return Err(vec![
            Issue::new(
                ProblemKind::Extends,
                format!(
                    "a {} cannot extend a {}: {} is a {}",
                    own.noun(),
                    kind.noun(),
                    base_path.display(),
                    kind.noun()
                ),
            )
            .at(entry.node.origin)
            .with_label(format!("a {}", kind.noun()))
            .with_help(help),
        ]);
    }
    group::expand(&mut root, kind)?;
    Ok((merge(kind, base, root)?, kind))
}

/// `remove` and `after` refer to the base; a file that extends nothing has none.
fn check_without_base(root: &Node, kind: FileKind) -> Result<(), Vec<Issue>> {
    let mut issues = Vec::new();
    for &(path, what) in group::named_arrays(kind) {
        let Some(Value::Array(items)) = path_node(root, path).map(|n| &n.value) else { continue };
        for (i, item) in items.iter().enumerate() {
            let Some(table) = item.as_table() else { continue };
            for (key, does) in [("remove", "removes an item of"), ("after", "places a new item among the items of")] {
                if let Some(entry) = table.get(key) {
                    issues.push(
                        Issue::new(
                            ProblemKind::BadValue,
                            format!("`{key}` {does} the scenario this file extends, but it extends none"),
                        )
                        .at(entry.key)
                        .with_path(item_path(path, i, Some(key)))
                        .with_label(format!("a {what} of a file without `extends`"))
                        .with_help(format!(
                            "leave out `{key}`, or write this file as `extends = \"base.toml\"` plus changes"
                        )),
                    );
                }
            }
        }
    }
    if issues.is_empty() { Ok(()) } else { Err(issues) }
}

fn path_node<'a>(root: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let mut node = root;
    for key in path {
        node = &node.as_table()?.get(*key)?.node;
    }
    Some(node)
}

/// `over` (a file that extends another) applied on top of `base` (what it extends,
/// already merged), by the rules of the module docs.
pub(crate) fn merge(kind: FileKind, base: Node, over: Node) -> Result<Node, Vec<Issue>> {
    let mut issues = Vec::new();
    let merged = merge_node(kind, base, over, &mut Vec::new(), &mut issues);
    if issues.is_empty() { Ok(merged) } else { Err(issues) }
}

/// A merged table keeps the base's origin; every value keeps the origin of the file that
/// wrote it.
fn merge_node(kind: FileKind, base: Node, over: Node, path: &mut Vec<String>, issues: &mut Vec<Issue>) -> Node {
    let Node { value: base_value, origin: base_origin } = base;
    let Node { value: over_value, origin: over_origin } = over;
    match (base_value, over_value) {
        (Value::Table(mut table), Value::Table(changes)) => {
            if replaces_whole(path, &table, &changes) {
                return Node { value: Value::Table(changes), origin: over_origin };
            }
            for (key, entry) in changes {
                let merged = match table.remove(&key) {
                    Some(old) => {
                        path.push(key.clone());
                        let node = merge_node(kind, old.node, entry.node, path, issues);
                        path.pop();
                        Entry { key: entry.key, node }
                    }
                    None => entry,
                };
                table.insert(key, merged);
            }
            Node { value: Value::Table(table), origin: base_origin }
        }
        (Value::Array(items), Value::Array(changes)) if named_array(kind, path).is_some() => {
            let what = named_array(kind, path).expect("checked in the guard");
            Node { value: Value::Array(merge_items(kind, items, changes, path, what, issues)), origin: base_origin }
        }
        (_, value) => Node { value, origin: over_origin },
    }
}

/// A table that replaces the base's instead of merging with it: a legend entry, and a
/// distribution of another kind than the base's.
fn replaces_whole(path: &[String], base: &Table, over: &Table) -> bool {
    let legend_entry = path.len() == 3 && path[0] == "store" && path[1] == "legend";
    let kind = |t: &Table| match t.get("dist").map(|e| &e.node.value) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    legend_entry || (over.contains_key("dist") && kind(over) != kind(base))
}

/// The items of a named array of the base with the changes of one file applied.
fn merge_items(
    kind: FileKind,
    base: Vec<Node>,
    changes: Vec<Node>,
    path: &mut Vec<String>,
    what: &str,
    issues: &mut Vec<Issue>,
) -> Vec<Node> {
    let index: BTreeMap<String, usize> =
        base.iter().enumerate().filter_map(|(i, item)| name_of(item).map(|n| (n.to_owned(), i))).collect();
    let mut slots: Vec<Option<Node>> = base.into_iter().map(Some).collect();
    // New items placed after an item of the base, by its index, with where `after` was.
    let mut placed: BTreeMap<usize, Vec<(Node, Origin)>> = BTreeMap::new();
    let mut appended = Vec::new();
    for (i, change) in changes.into_iter().enumerate() {
        let Node { value: Value::Table(mut table), origin } = change else {
            appended.push(change);
            continue;
        };
        let at = |key: &str| item_path(path, i, Some(key));
        let name = table.get("name").and_then(|e| match &e.node.value {
            Value::String(s) => Some((s.clone(), e.node.origin)),
            _ => None,
        });
        if let Some(remove) = table.remove("remove") {
            if let Some(target) = removal(&remove, &table, name.as_ref(), &index, what, &at, issues) {
                slots[target] = None;
            }
            continue;
        }
        let after = table.remove("after");
        match name.as_ref().and_then(|(n, _)| index.get(n)) {
            Some(&target) => {
                if let Some(after) = after {
                    let name = name.as_ref().map_or("", |(n, _)| n.as_str());
                    issues.push(
                        Issue::new(
                            ProblemKind::BadValue,
                            format!("`after` places a new {what}, but \"{name}\" is one of the base's (a change keeps its place)"),
                        )
                        .at(after.key)
                        .with_path(at("after"))
                        .with_label("not for a change"),
                    );
                }
                let Some(old) = slots[target].take() else { continue };
                path.push(format!("[{target}]"));
                slots[target] = Some(merge_node(kind, old, Node { value: Value::Table(table), origin }, path, issues));
                path.pop();
            }
            None => {
                let item = Node { value: Value::Table(table), origin };
                let Some(after) = after else {
                    appended.push(item);
                    continue;
                };
                let Value::String(anchor) = &after.node.value else {
                    issues.push(
                        Issue::new(ProblemKind::WrongType, format!("`after` is the name of a {what} of the base"))
                            .at(after.node.origin)
                            .with_path(at("after"))
                            .with_label("expected a name like \"SCO6\""),
                    );
                    continue;
                };
                match index.get(anchor) {
                    Some(&j) => placed.entry(j).or_default().push((item, after.node.origin)),
                    None => issues.push(unknown_name(
                        what,
                        anchor,
                        after.node.origin,
                        at("after"),
                        &index,
                        "to place this one after",
                    )),
                }
            }
        }
    }
    let mut out = Vec::with_capacity(slots.len() + appended.len());
    for (i, slot) in slots.into_iter().enumerate() {
        let after_this = placed.remove(&i).unwrap_or_default();
        match slot {
            Some(item) => out.push(item),
            None => {
                for (_, origin) in &after_this {
                    issues.push(
                        Issue::new(
                            ProblemKind::BadValue,
                            format!("this {what} is placed after one that this file removes"),
                        )
                        .at(*origin)
                        .with_label("removed by this file"),
                    );
                }
            }
        }
        out.extend(after_this.into_iter().map(|(item, _)| item));
    }
    out.extend(appended);
    out
}

/// Checks a removal (`name` and `remove = true`, nothing else) and finds the item of the
/// base it removes.
fn removal(
    remove: &Entry,
    table: &Table,
    name: Option<&(String, Origin)>,
    index: &BTreeMap<String, usize>,
    what: &str,
    at: &dyn Fn(&str) -> KeyPath,
    issues: &mut Vec<Issue>,
) -> Option<usize> {
    match remove.node.value {
        Value::Boolean(true) => {}
        Value::Boolean(false) => {
            issues.push(
                Issue::new(ProblemKind::BadValue, "`remove = false` removes nothing")
                    .at(remove.node.origin)
                    .with_path(at("remove"))
                    .with_label("expected true")
                    .with_help(format!("leave `remove` out to change the {what} instead")),
            );
            return None;
        }
        _ => {
            issues.push(
                Issue::new(ProblemKind::WrongType, "`remove` is `true`")
                    .at(remove.node.origin)
                    .with_path(at("remove"))
                    .with_label("expected true"),
            );
            return None;
        }
    }
    if let Some((key, entry)) = table.iter().find(|(k, _)| k.as_str() != "name") {
        issues.push(
            Issue::new(ProblemKind::BadValue, format!("a removal takes only `name` and `remove = true`, not `{key}`"))
                .at(entry.key)
                .with_path(at(key))
                .with_label("not with `remove`")
                .with_help(format!("to change the {what} instead, leave out `remove`")),
        );
        return None;
    }
    let Some((name, origin)) = name else {
        issues.push(
            Issue::new(ProblemKind::MissingKey, format!("`remove` needs the `name` of the {what} to remove"))
                .at(remove.key)
                .with_path(at("remove"))
                .with_label("which one?"),
        );
        return None;
    };
    match index.get(name) {
        Some(&i) => Some(i),
        None => {
            issues.push(unknown_name(what, name, *origin, at("name"), index, "to remove"));
            None
        }
    }
}

fn unknown_name(
    what: &str,
    name: &str,
    origin: Origin,
    path: KeyPath,
    index: &BTreeMap<String, usize>,
    purpose: &str,
) -> Issue {
    let mut issue = Issue::new(
        ProblemKind::Reference,
        format!("the scenario this file extends has no {what} named \"{name}\" {purpose}"),
    )
    .at(origin)
    .with_path(path)
    .with_label(format!("not a {what} of the base"));
    let known = name_list(index.keys());
    issue.help(match closest(name, index.keys().map(String::as_str)) {
        Some(c) => format!("did you mean \"{c}\"? The base has {known}"),
        None if index.is_empty() => format!("the base has no named {what}"),
        None => format!("the base has {known}"),
    });
    issue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::at;

    fn doc(file: usize, text: &str) -> Node {
        let mut root = document::parse(FileId(file), text).expect("test documents are valid TOML");
        group::expand(&mut root, FileKind::Store).expect("test groups expand");
        root
    }

    fn merged(base: &str, over: &str) -> Node {
        merge(FileKind::Store, doc(0, base), doc(1, over)).expect("the documents merge")
    }

    fn names(root: &Node, array: &str) -> Vec<String> {
        match root.get(&at![array]).map(|n| &n.value) {
            Some(Value::Array(items)) => items.iter().filter_map(|i| name_of(i).map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn tables_merge_and_other_values_replace() {
        let merged = merged(
            "a = 1\nlist = [1, 2, 3]\n[t]\nx = 1\ny = 2\n[t.inner]\nz = 3\n",
            "list = [9]\n[t]\ny = 20\n[t.inner]\nw = 4\n",
        );
        let get = |p: KeyPath| merged.get(&p).map(|n| n.value.clone());
        assert!(matches!(get(at!["a"]), Some(Value::Integer(1))));
        assert!(matches!(get(at!["t", "x"]), Some(Value::Integer(1))));
        assert!(matches!(get(at!["t", "y"]), Some(Value::Integer(20))));
        assert!(matches!(get(at!["t", "inner", "z"]), Some(Value::Integer(3))));
        assert!(matches!(get(at!["t", "inner", "w"]), Some(Value::Integer(4))));
        match get(at!["list"]) {
            Some(Value::Array(items)) => assert_eq!(items.len(), 1, "other arrays replace, never append"),
            other => panic!("list is {other:?}"),
        }
        // Each value remembers the file that wrote it.
        assert_eq!(merged.locate(&at!["t", "x"], false).file, FileId(0));
        assert_eq!(merged.locate(&at!["t", "y"], false).file, FileId(1));
    }

    #[test]
    fn named_items_merge_by_name_and_new_ones_are_placed() {
        let base = "[[lane]]\nname = 'A'\nx = 1\n[[lane]]\nname = 'B'\nx = 2\n[[lane]]\nname = 'C'\nx = 3\n";
        let over = "[[lane]]\nname = 'N'\nx = 9\n[[lane]]\nname = 'B'\ny = 5\n[[lane]]\nname = 'P'\nafter = 'A'\n\
                    [[lane]]\nname = 'Q'\nafter = 'A'\n[[lane]]\nname = 'C'\nremove = true\n";
        let m = merged(base, over);
        assert_eq!(names(&m, "lane"), ["A", "P", "Q", "B", "N"]);
        assert!(matches!(m.get(&at!["lane", 3, "x"]).map(|n| &n.value), Some(Value::Integer(2))));
        assert!(matches!(m.get(&at!["lane", 3, "y"]).map(|n| &n.value), Some(Value::Integer(5))));
        assert!(m.get(&at!["lane", 1, "after"]).is_none(), "`after` is consumed");
        assert_eq!(m.locate(&at!["lane", 3, "y"], false).file, FileId(1));
        assert_eq!(m.locate(&at!["lane", 3, "x"], false).file, FileId(0));
    }

    #[test]
    fn a_distribution_of_another_kind_replaces_the_base() {
        let base = "[r]\ntrip_s = { dist = 'lognormal', mean = 240, sd = 90 }\n";
        let m = merged(base, "[r]\ntrip_s = { dist = 'exponential', mean = 300 }\n");
        assert!(m.get(&at!["r", "trip_s", "sd"]).is_none());
        let m = merged(base, "[r]\ntrip_s = { mean = 300 }\n");
        assert!(matches!(m.get(&at!["r", "trip_s", "sd"]).map(|n| &n.value), Some(Value::Integer(90))));
        assert!(matches!(m.get(&at!["r", "trip_s", "mean"]).map(|n| &n.value), Some(Value::Integer(300))));
        // A legend entry replaces the base's.
        let m = merged("[store.legend]\na = { shelf = 'dairy' }\n", "[store.legend]\na = { lane = 'L1' }\n");
        assert!(m.get(&at!["store", "legend", "a", "shelf"]).is_none());
    }

    #[test]
    fn a_disruption_without_a_name_is_always_new() {
        let m = merged("[[disruption]]\nat = '09:00'\n", "[[disruption]]\nat = '10:00'\n");
        match m.get(&at!["disruption"]).map(|n| &n.value) {
            Some(Value::Array(items)) => assert_eq!(items.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn removals_and_placements_are_checked() {
        let base = doc(0, "[[lane]]\nname = 'A'\n[[lane]]\nname = 'B'\n");
        let fails = |over: &str| merge(FileKind::Store, base.clone(), doc(1, over)).expect_err("a bad change");
        let issue = &fails("[[lane]]\nname = 'A'\nremove = true\nkind = 'staffed'\n")[0];
        assert_eq!(issue.message, "a removal takes only `name` and `remove = true`, not `kind`");
        let issue = &fails("[[lane]]\nname = 'Z'\nremove = true\n")[0];
        assert_eq!(issue.message, "the scenario this file extends has no lane named \"Z\" to remove");
        let issue = &fails("[[lane]]\nname = 'N'\nafter = 'Y'\n")[0];
        assert!(issue.message.contains("no lane named \"Y\" to place this one after"), "{}", issue.message);
        let issue = &fails("[[lane]]\nname = 'A'\nafter = 'B'\n")[0];
        assert!(issue.message.starts_with("`after` places a new lane"), "{}", issue.message);
        let issue = &fails("[[lane]]\nname = 'A'\nremove = false\n")[0];
        assert_eq!(issue.message, "`remove = false` removes nothing");
        let issue = &fails("[[lane]]\nname = 'B'\nremove = true\n[[lane]]\nname = 'N'\nafter = 'B'\n")[0];
        assert!(issue.message.contains("placed after one that this file removes"), "{}", issue.message);
        let issues =
            check_without_base(&doc(0, "[[lane]]\nname = 'A'\nremove = true\n"), FileKind::Store).expect_err("no base");
        assert!(issues[0].message.contains("but it extends none"), "{}", issues[0].message);
    }
}
