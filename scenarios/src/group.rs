//! Groups: one block of a named array that stands for several items.
//!
//! Every named array (in a store scenario `[[sku]]`, `[[segment]]`, `[[lane]]`,
//! `[[device]]`, `[[disruption]]`, `[[store.zone]]`; in a chain file `[[store]]`, `[[sku]]`,
//! `[[online]]`, `[[coupon]]`, `[[members.level]]`, `[[partition]]`, `[[courier_delay]]`)
//! takes two forms of group; every other key of the block applies to each item:
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
//! `{n}` is the item's number, `{n:03}` the number written with at least 3 digits (001,
//! 002, ...); numbers count from `first` (default 1): `name = "S{n:03}"` with `count = 40`
//! and `first = 61` is S061 ... S100. With a name pattern, a group of devices may leave out
//! `count`: it has one device per cell. A group that changes or removes items of the scenario a file extends needs no
//! `cells` (its devices already stand somewhere).
//!
//! Groups are expanded in each file before the file is merged with the one it extends, so
//! a variant can change or remove "L7" of a grouped base. After expansion the names in an
//! array of one file are unique; a name given twice (by two blocks, by a group and a block,
//! or twice in one `names`) is an error at the second.

use std::collections::BTreeSet;

use crate::document::{Entry, Node, Table, Value};
use crate::error::{Issue, ProblemKind};
use crate::file_kind::FileKind;
use crate::path::{KeyPath, Segment};
use crate::source::Origin;

/// The arrays of a store scenario whose items have a `name` (at these key paths), and what
/// an item is called.
pub(crate) const NAMED_ARRAYS: &[(&[&str], &str)] = &[
    (&["sku"], "SKU"),
    (&["segment"], "segment"),
    (&["lane"], "lane"),
    (&["device"], "device"),
    (&["disruption"], "disruption"),
    (&["store", "zone"], "zone"),
];

/// The named arrays of a chain file.
pub(crate) const CHAIN_NAMED_ARRAYS: &[(&[&str], &str)] = &[
    (&["store"], "store"),
    (&["sku"], "SKU"),
    (&["online"], "online segment"),
    (&["coupon"], "coupon"),
    (&["members", "level"], "member level"),
    (&["partition"], "partition"),
    (&["courier_delay"], "courier delay"),
    (&["flash_sale", "preorder"], "pre-order tier"),
];

/// The named arrays of a file of this kind.
pub(crate) fn named_arrays(kind: FileKind) -> &'static [(&'static [&'static str], &'static str)] {
    match kind {
        FileKind::Store => NAMED_ARRAYS,
        FileKind::Chain => CHAIN_NAMED_ARRAYS,
    }
}

/// The most items one group may stand for (lane and device ids are 16-bit).
pub(crate) const MAX_GROUP: i64 = 65_535;

/// What an item of the named array at `path` is called, if it is one.
pub(crate) fn named_array(kind: FileKind, path: &[String]) -> Option<&'static str> {
    named_arrays(kind)
        .iter()
        .find(|(p, _)| p.len() == path.len() && p.iter().zip(path).all(|(a, b)| a == b))
        .map(|(_, w)| *w)
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
pub(crate) fn expand(root: &mut Node, kind: FileKind) -> Result<(), Vec<Issue>> {
    let mut issues = Vec::new();
    for &(path, what) in named_arrays(kind) {
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
        let devices = self.array == ["device"] && self.what == "device";
        let names = table.get("names");
        let count = table.get("count");
        let cells = if devices { table.get("cells") } else { None };
        let name = table.get("name");
        let pattern = name.and_then(|e| match &e.node.value {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        });
        let first = table.get("first");
        if names.is_none() && count.is_none() && cells.is_none() {
            if let Some(entry) = first {
                self.problem(
                    ProblemKind::BadValue,
                    entry.key,
                    "first",
                    "`first` is the number of the first item of a group with `count`".to_owned(),
                    "this block has no `count`",
                );
                return None;
            }
            if let (Some(entry), Some(p)) = (name, pattern)
                && p.contains("{n")
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
                if let Some(entry) = first {
                    self.problem(
                        ProblemKind::BadValue,
                        entry.key,
                        "first",
                        "`first` numbers the items of a `name` pattern; a group with `names` names each".to_owned(),
                        "not with `names`",
                    );
                    return None;
                }
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
                let pattern = match Pattern::parse(p) {
                    Ok(pattern) => pattern,
                    Err(why) => {
                        self.problem(
                            ProblemKind::BadValue,
                            entry.node.origin,
                            "name",
                            why,
                            "expected a pattern like \"L{n}\" or \"S{n:03}\"",
                        );
                        return None;
                    }
                };
                let start = match first {
                    Some(f) => self.first(f)?,
                    None => 1,
                };
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
                ((start..start + n).map(|k| (pattern.name(k), origin)).collect(), entry.key)
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
            for key in ["names", "count", "first", "cells"] {
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

    /// The value of `first`: a whole number from 0 to [`MAX_GROUP`].
    fn first(&mut self, entry: &Entry) -> Option<i64> {
        match entry.node.value {
            Value::Integer(n) if (0..=MAX_GROUP).contains(&n) => Some(n),
            _ => {
                self.problem(
                    ProblemKind::BadValue,
                    entry.node.origin,
                    "first",
                    "`first` is the number of the group's first item".to_owned(),
                    "expected a whole number from 0 to 65535",
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

/// A name pattern: text with `{n}` or `{n:0W}` (the number with at least `W` digits) where
/// each item's number goes.
struct Pattern {
    parts: Vec<PatternPart>,
}

enum PatternPart {
    Text(String),
    Number { width: usize },
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut numbered = false;
        while let Some(at) = rest.find("{n") {
            parts.push(PatternPart::Text(rest[..at].to_owned()));
            let after = &rest[at + 2..];
            let Some(close) = after.find('}') else {
                return Err(format!("\"{text}\" opens `{{n` but never closes it with `}}`"));
            };
            let width = match &after[..close] {
                "" => 0,
                spec => match spec.strip_prefix(":0").map(str::parse::<usize>) {
                    Some(Ok(width)) if (1..=9).contains(&width) => width,
                    _ => {
                        return Err(format!(
                            "`{{n{spec}}}` in \"{text}\" is not a number's place: write `{{n}}`, or `{{n:03}}` for 3 digits"
                        ));
                    }
                },
            };
            parts.push(PatternPart::Number { width });
            numbered = true;
            rest = &after[close + 1..];
        }
        parts.push(PatternPart::Text(rest.to_owned()));
        if !numbered {
            return Err(format!("the name of a group needs `{{n}}` where each item's number goes, found \"{text}\""));
        }
        Ok(Pattern { parts })
    }

    fn name(&self, n: i64) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                PatternPart::Text(t) => t.clone(),
                PatternPart::Number { width } => format!("{n:0width$}"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_number_items_with_padding() {
        let p = Pattern::parse("S{n:03}").expect("a pattern");
        assert_eq!((p.name(1), p.name(42), p.name(1234)), ("S001".into(), "S042".into(), "S1234".into()));
        assert_eq!(Pattern::parse("L{n}").expect("a pattern").name(7), "L7");
        assert_eq!(Pattern::parse("{n}-{n:02}").expect("a pattern").name(3), "3-03");
        for bad in ["S{n:3}", "S{n", "S", "S{n:0}", "S{n:x}"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
