//! A parsed scenario file as a tree of values that remember where they were written.
//!
//! [`parse`] turns TOML text into a [`Node`] tree (through `toml`'s span-keeping
//! `DeTable`); `extends` merges the trees of a chain of files (see [`crate::extends`]),
//! and [`Node::locate`] finds the origin of a key path after the merge, so that a problem
//! found in the merged scenario points into the file that wrote the value.
//!
//! Numbers keep their source text next to their value: prices are read from that text,
//! never through a float.

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use crate::error::{Issue, ProblemKind};
use crate::path::{KeyPath, Segment};
use crate::source::{FileId, Origin};

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) origin: Origin,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    String(String),
    Integer(i64),
    /// A float and its text as written (underscores removed).
    Float {
        value: f64,
        raw: String,
    },
    Boolean(bool),
    /// A TOML date, time or date-time, as its canonical text.
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

pub(crate) type Table = BTreeMap<String, Entry>;

/// A key of a table, where the key was written, and its value.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) key: Origin,
    pub(crate) node: Node,
}

impl Node {
    pub(crate) fn as_table(&self) -> Option<&Table> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The node at `path`, if every segment exists.
    pub(crate) fn get(&self, path: &KeyPath) -> Option<&Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match (seg, &node.value) {
                (Segment::Key(k), Value::Table(t)) => &t.get(k)?.node,
                (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Where the value at `path` was written (or its key, if `key` and the path ends in a
    /// key). A path that does not exist (a defaulted value) resolves to its deepest
    /// existing ancestor.
    pub(crate) fn locate(&self, path: &KeyPath, key: bool) -> Origin {
        let mut node = self;
        let mut key_origin = None;
        for seg in &path.0 {
            match (seg, &node.value) {
                (Segment::Key(k), Value::Table(t)) => match t.get(k) {
                    Some(entry) => {
                        key_origin = Some(entry.key);
                        node = &entry.node;
                    }
                    None => return node.origin,
                },
                (Segment::Index(i), Value::Array(a)) => match a.get(*i) {
                    Some(n) => {
                        key_origin = None;
                        node = n;
                    }
                    None => return node.origin,
                },
                _ => return node.origin,
            }
        }
        match key_origin {
            Some(origin) if key => origin,
            _ => node.origin,
        }
    }
}

/// Parses one file. A syntax error comes back as an issue.
pub(crate) fn parse(file: FileId, text: &str) -> Result<Node, Vec<Issue>> {
    let (root, errors) = DeTable::parse_recoverable(text);
    // Only the first syntax error is reported: after it, the parser's recovery tends to
    // report follow-on errors (duplicate keys, ...) that are not the planner's mistakes.
    if let Some(e) = errors.first() {
        let span = e.span().unwrap_or(0..0);
        let (message, label) = split_syntax_message(e.message());
        let mut issue = Issue::new(ProblemKind::Syntax, message).at(Origin::new(file, span));
        if let Some(label) = label {
            issue.label(label);
        }
        return Err(vec![issue]);
    }
    let origin = Origin::new(file, root.span());
    let mut issues = Vec::new();
    let table = convert_table(file, root.into_inner(), &mut issues);
    if issues.is_empty() { Ok(Node { value: Value::Table(table), origin }) } else { Err(issues) }
}

/// `toml` messages are "what is wrong" followed by an "expected ..." line: the first part
/// is the message, the second the label under the span.
fn split_syntax_message(message: &str) -> (String, Option<String>) {
    let message = message.trim();
    match message.split_once('\n') {
        Some((first, rest)) if !rest.trim().is_empty() => (first.trim().to_owned(), Some(rest.trim().to_owned())),
        _ => (message.to_owned(), None),
    }
}

fn convert_table(file: FileId, table: DeTable<'_>, issues: &mut Vec<Issue>) -> Table {
    let mut out = Table::new();
    for (key, value) in table {
        let key_origin = Origin::new(file, key.span());
        let node = convert(file, value, issues);
        out.insert(key.into_inner().into_owned(), Entry { key: key_origin, node });
    }
    out
}

fn convert(file: FileId, value: toml::Spanned<DeValue<'_>>, issues: &mut Vec<Issue>) -> Node {
    let origin = Origin::new(file, value.span());
    let value = match value.into_inner() {
        DeValue::String(s) => Value::String(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Integer(n),
            Err(_) => {
                issues.push(
                    Issue::new(ProblemKind::Syntax, format!("integer `{i}` is out of range"))
                        .at(origin)
                        .with_label("expected a whole number from -9223372036854775808 to 9223372036854775807"),
                );
                Value::Integer(0)
            }
        },
        DeValue::Float(f) => {
            let raw = f.as_str().to_owned();
            match raw.parse::<f64>() {
                Ok(value) => Value::Float { value, raw },
                Err(_) => {
                    issues.push(Issue::new(ProblemKind::Syntax, format!("`{raw}` is not a number")).at(origin));
                    Value::Float { value: 0.0, raw }
                }
            }
        }
        DeValue::Boolean(b) => Value::Boolean(b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(a.into_iter().map(|v| convert(file, v, issues)).collect()),
        DeValue::Table(t) => Value::Table(convert_table(file, t, issues)),
    };
    Node { value, origin }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::at;

    fn doc(file: usize, text: &str) -> Node {
        parse(FileId(file), text).expect("test documents are valid TOML")
    }

    #[test]
    fn locate_falls_back_to_the_deepest_existing_ancestor() {
        let text = "[run]\nseed = 1\n";
        let root = doc(0, text);
        let origin = root.locate(&at!["run", "replications"], false);
        assert_eq!(&text[origin.start..origin.end], "[run]");
        let key = root.locate(&at!["run", "seed"], true);
        assert_eq!(&text[key.start..key.end], "seed");
    }

    #[test]
    fn floats_keep_their_text() {
        let root = doc(0, "price = 2.490\n");
        match root.get(&at!["price"]).map(|n| &n.value) {
            Some(Value::Float { raw, .. }) => assert_eq!(raw, "2.490"),
            other => panic!("price is {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_point_at_the_text() {
        let issues = parse(FileId(0), "a = 1\nb = \n").expect_err("a value is missing");
        assert_eq!(issues[0].kind, ProblemKind::Syntax);
        assert!(issues[0].origin.is_some_and(|o| o.start >= 6), "{issues:?}");
    }
}
