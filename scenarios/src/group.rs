//! Groups: one block of a named array that stands for several items.
//!
//! Every named array (`[[sku]]`, `[[segment]]`, `[[lane]]`, `[[device]]`,
//! `[[disruption]]`, `[[store.zone]]`) takes two forms of group; every other key of the
//! block applies to each item:
//!
//! ```toml
//! [[lane]]
//! names = ["L7", "L8", "L9", "L10"]   # one lane per name
//! kind = "staffed"
//! open_at_start = false
//! # ...
//!
//! [[lane]]
//! name = "SCO{n}"                      # SCO1 ... SCO6: `{n}` counts from 1
//! count = 6
//! kind = "self_checkout"
//! # ...
//!
//! [[device]]
//! names = ["probe-door", "probe-back"] # a group of devices places one per cell:
//! cells = [[2, 20], [30, 2]]           # `cells`, one [x, y] per name, instead of `at`
//! kind = "wifi_probe"
//! # ...
//! ```
//!
//! With a name pattern, a group of devices may leave out `count`: it has one device per
//! cell. A group that changes or removes items of the scenario a file extends needs no
//! `cells` (its devices already stand somewhere).
//!
//! Groups are expanded in each file before the file is merged with the one it extends, so
//! a variant can change or remove "L7" of a grouped base. After expansion the names in an
//! array of one file are unique; a name given twice (by two blocks, by a group and a block,
//! or twice in one `names`) is an error at the second.

use std::collections::BTreeSet;

use crate::document::{Entry, Node, Table, Value};
use crate::error::{Issue, ProblemKind};
use crate::path::{KeyPath, Segment};
use crate::source::Origin;

/// The arrays whose items have a `name` (at these key paths), and what an item is called.
pub(crate) const NAMED_ARRAYS: &[(&[&str], &str)] = &[
    (&["sku"], "SKU"),
    (&["segment"], "segment"),
    (&["lane"], "lane"),
    (&["device"], "device"),
    (&["disruption"], "disruption"),
    (&["store", "zone"], "zone"),
];

/// The most items one group may stand for (lane and device ids are 16-bit).
pub(crate) const MAX_GROUP: i64 = 65_535;

/// What an item of the named array at `path` is called, if it is one.
pub(crate) fn named_array(path: &[String]) -> Option<&'static str> {
    NAMED_ARRAYS.iter().find(|(p, _)| p.len() == path.len() && p.iter().zip(path).all(|(a, b)| a == b)).map(|(_, w)| *w)
}

/// The name of an item, if it has a string `name`.
pub(crate) fn name_of(item: &Node) -> Option<&str> {
    match &item.as_table()?.get("name")?.node.value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The key path of `key` in item `index` of the array at `array`.
pub(crate) fn item_path(array: &[impl AsRef<str>], index: usize, key: Option<&str>) -> KeyPath {
    let mut segments: Vec<Segment> = array.iter().map(|k| Segment::Key(k.as_ref().to_owned())).collect();
    segments.push(Segment::Index(index));
    if let Some(key) = key {
        segments.push(Segment::Key(key.to_owned()));
    }
    KeyPath(segments)
}

/// Expands the groups of every named array of one file and checks that its names are
/// unique.
pub(crate) fn expand(root: &mut Node) -> Result<(), Vec<Issue>> {
    let mut issues = Vec::new();
    for &(path, what) in NAMED_ARRAYS {
        let Some(Node { value: Value::Array(items), .. }) = get_mut(root, path) else {
            continue;
        };
        let written = std::mem::take(items);
        let mut expanded = Vec::with_capacity(written.len());
        for (i, item) in written.into_iter().enumerate() {
            let mut group = Group { array: path, index: i, what, issues: &mut issues };
            match group.expand(&item) {
                Some(items) => expanded.extend(items),
                None => expanded.push(item),
            }
        }
        unique_names(&expanded, path, what, &mut issues);
        *items = expanded;
    }
    if issues.is_empty() { Ok(()) } else { Err(issues) }
}

fn get_mut<'a>(root: &'a mut Node, path: &[&str]) -> Option<&'a mut Node> {
    let mut node = root;
    for key in path {
        node = match &mut node.value {
            Value::Table(t) => &mut t.get_mut(*key)?.node,
            _ => return None,
        };
    }
    Some(node)
}

/// Reports every name given a second time in one file's array.
fn unique_names(items: &[Node], array: &[&str], what: &str, issues: &mut Vec<Issue>) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let Some(name) = name_of(item) else { continue };
        if !seen.insert(name) {
            let origin = item.as_table().and_then(|t| t.get("name")).map_or(item.origin, |e| e.node.origin);
            issues.push(
                Issue::new(ProblemKind::BadValue, format!("two {what}s are named \"{name}\""))
                    .at(origin)
                    .with_path(item_path(array, i, Some("name")))
                    .with_label("names must be unique"),
            );
        }
    }
}

/// One block of a named array, being expanded.
struct Group<'a> {
    array: &'a [&'a str],
    index: usize,
    what: &'a str,
    issues: &'a mut Vec<Issue>,
}

impl Group<'_> {
    fn problem(&mut self, kind: ProblemKind, origin: Origin, key: &str, message: String, label: &str) {
        self.issues.push(
            Issue::new(kind, message)
                .at(origin)
                .with_path(item_path(self.array, self.index, Some(key)))
                .with_label(label.to_owned()),
        );
    }

    /// The items a block stands for, or `None` if it is a single item (or a group too
    /// broken to expand, whose problems are reported: the file is not loaded).
    fn expand(&mut self, item: &Node) -> Option<Vec<Node>> {
        let table = item.as_table()?;
        let devices = self.array == ["device"];
        let names = table.get("names");
        let count = table.get("count");
        let cells = if devices { table.get("cells") } else { None };
        let name = table.get("name");
        let pattern = name.and_then(|e| match &e.node.value {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        });
        if names.is_none() && count.is_none() && cells.is_none() {
            if let (Some(entry), Some(p)) = (name, pattern)
                && p.contains("{n}")
            {
                self.problem(
                    ProblemKind::BadValue,
                    entry.node.origin,
                    "name",
                    format!("\"{p}\" is a name pattern, but the block has no `count`"),
                    "`{n}` stands for the number of an item of a group",
                );
                self.issues.last_mut().expect("just pushed").help(format!(
                    "give `count = ...` to make one {} per number, or a name without `{{n}}`",
                    self.what
                ));
            }
            return None;
        }
        let (items, name_key) = match (names, count) {
            (Some(_), Some(c)) => {
                self.problem(
                    ProblemKind::BadValue,
                    c.key,
                    "count",
                    "a group gives `names`, or a `name` pattern with `count`, not both".to_owned(),
                    "not with `names`",
                );
                return None;
            }
            (Some(n), None) => {
                if let Some(entry) = name {
                    self.problem(
                        ProblemKind::BadValue,
                        entry.key,
                        "name",
                        "a group gives `names` or `name`, not both".to_owned(),
                        "the group's items are named by `names`",
                    );
                    return None;
                }
                (self.listed_names(n)?, n.key)
            }
            (None, c) => {
                let Some(entry) = name else {
                    let at = c.or(cells).expect("count or cells is given");
                    let key = if c.is_some() { "count" } else { "cells" };
                    self.problem(
                        ProblemKind::MissingKey,
                        at.key,
                        key,
                        format!(
                            "a group with `{key}` names its items with a pattern like name = \"{}{{n}}\"",
                            if devices { "probe-" } else { "L" }
                        ),
                        "this group has no `name`",
                    );
                    return None;
                };
                // A name of the wrong type is reported when the items are read.
                let Value::String(p) = &entry.node.value else { return None };
                if !p.contains("{n}") {
                    self.problem(
                        ProblemKind::BadValue,
                        entry.node.origin,
                        "name",
                        format!("the name of a group needs `{{n}}` where each item's number goes, found \"{p}\""),
                        "expected a pattern like \"L{n}\"",
                    );
                    return None;
                }
                let n = match c {
                    Some(c) => self.count(c)?,
                    None => {
                        let cells = cells.expect("count or cells is given");
                        let Value::Array(list) = &cells.node.value else {
                            self.cells_type(cells);
                            return None;
                        };
                        list.len() as i64
                    }
                };
                let origin = entry.node.origin;
                ((1..=n).map(|k| (p.replace("{n}", &k.to_string()), origin)).collect(), entry.key)
            }
        };
        if items.is_empty() {
            let (at, key) = match (names, count, cells) {
                (Some(n), _, _) => (n.node.origin, "names"),
                (_, Some(c), _) => (c.node.origin, "count"),
                (_, _, Some(c)) => (c.node.origin, "cells"),
                _ => unreachable!("a group has names, count or cells"),
            };
            self.problem(
                ProblemKind::BadValue,
                at,
                key,
                format!("an empty group: no {} is named", self.what),
                "expected at least one item",
            );
            return None;
        }
        let places = if devices { self.cells(table, cells, items.len())? } else { Vec::new() };
        let mut out = Vec::with_capacity(items.len());
        for (k, (name, origin)) in items.into_iter().enumerate() {
            let mut t: Table = table.clone();
            for key in ["names", "count", "cells"] {
                if key != "cells" || devices {
                    t.remove(key);
                }
            }
            t.insert("name".to_owned(), Entry { key: name_key, node: Node { value: Value::String(name), origin } });
            if let Some(place) = places.get(k) {
                t.insert("at".to_owned(), place.clone());
            }
            out.push(Node { value: Value::Table(t), origin: item.origin });
        }
        Some(out)
    }

    /// The names of `names = [...]`, with where each was written.
    fn listed_names(&mut self, entry: &Entry) -> Option<Vec<(String, Origin)>> {
        let Value::Array(list) = &entry.node.value else {
            self.problem(
                ProblemKind::WrongType,
                entry.node.origin,
                "names",
                "`names` is an array of names".to_owned(),
                "expected an array like [\"L1\", \"L2\"]",
            );
            return None;
        };
        let mut out = Vec::with_capacity(list.len());
        for node in list {
            match &node.value {
                Value::String(s) => out.push((s.clone(), node.origin)),
                _ => {
                    self.problem(
                        ProblemKind::WrongType,
                        node.origin,
                        "names",
                        "each of `names` is a name (a string)".to_owned(),
                        "expected a string",
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// The value of `count`: a whole number from 0 to [`MAX_GROUP`] (0 is reported as an
    /// empty group).
    fn count(&mut self, entry: &Entry) -> Option<i64> {
        match entry.node.value {
            Value::Integer(n) if (0..=MAX_GROUP).contains(&n) => Some(n),
            Value::Integer(n) => {
                self.problem(
                    ProblemKind::BadValue,
                    entry.node.origin,
                    "count",
                    format!("a group has from 1 to {MAX_GROUP} items, found count = {n}"),
                    "expected a whole number from 1 to 65535",
                );
                None
            }
            _ => {
                self.problem(
                    ProblemKind::WrongType,
                    entry.node.origin,
                    "count",
                    "`count` is the number of items of the group".to_owned(),
                    "expected a whole number from 1 to 65535",
                );
                None
            }
        }
    }

    fn cells_type(&mut self, cells: &Entry) {
        self.problem(
            ProblemKind::WrongType,
            cells.node.origin,
            "cells",
            "`cells` is an array of cells, one [x, y] per device".to_owned(),
            "expected an array like [[2, 3], [10, 3]]",
        );
    }

    /// The `at` of each device of a group: one entry per cell of `cells`, which must give
    /// one cell per device (or be left out, by a group changing devices of the base).
    fn cells(&mut self, table: &Table, cells: Option<&Entry>, devices: usize) -> Option<Vec<Entry>> {
        if let Some(at) = table.get("at") {
            self.problem(
                ProblemKind::BadValue,
                at.key,
                "at",
                "each device of a group stands on its own cell: give `cells = [[x, y], ...]`, one per device, instead of `at`".to_owned(),
                "not in a group",
            );
            return None;
        }
        let Some(cells) = cells else { return Some(Vec::new()) };
        let Value::Array(list) = &cells.node.value else {
            self.cells_type(cells);
            return None;
        };
        if list.len() != devices {
            self.problem(
                ProblemKind::BadValue,
                cells.node.origin,
                "cells",
                format!("{} cells for {devices} devices", list.len()),
                &format!("expected {devices} cells, one per device"),
            );
            return None;
        }
        Some(list.iter().map(|node| Entry { key: cells.key, node: node.clone() }).collect())
    }
}
