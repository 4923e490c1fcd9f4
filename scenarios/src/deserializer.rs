//! A serde `Deserializer` over the merged [`Node`] tree that knows where every error
//! happened.
//!
//! An error raised while a value is deserialized is stamped with that value's
//! [`Origin`] and key path on its way out; an unknown key is stamped with the key's own
//! origin. Messages speak TOML ("expected a number, found a string"), not Rust ("expected
//! f64"), and an unknown key comes with the keys that would have been accepted and the
//! closest one.
//!
//! Numbers and times can also be read as their source text: a type that asks for the
//! newtype struct [`RAW_TEXT`] gets `visit_str` with the text as written. Prices use it so
//! that `2.49` becomes 249 cents without ever being a float.

use std::collections::btree_map;
use std::fmt;

use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor};

use crate::document::{Entry, Node, Value};
use crate::error::{Issue, ProblemKind};
use crate::path::{KeyPath, Segment};
use crate::source::Origin;

/// The newtype-struct name through which a type asks for a value's source text.
pub(crate) const RAW_TEXT: &str = "$storetwin::raw_text";

/// Deserializes `node`, whose key path is `path`.
pub(crate) fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node, path: &KeyPath) -> Result<T, Box<Issue>> {
    T::deserialize(NodeDe { node, trail: Trail::Prefix(path) }).map_err(|e| Box::new(e.into_issue(node.origin, path)))
}

/// An unknown key, reported like serde's `unknown_field` (with the closest known key).
pub(crate) fn unknown_key(key: &str, origin: Origin, path: KeyPath, expected: &'static [&'static str]) -> Issue {
    <DeError as de::Error>::unknown_field(key, expected).into_issue(origin, &path)
}

/// The path to the value being deserialized, as a chain of borrowed links (no allocation
/// unless an error needs it).
#[derive(Clone, Copy)]
enum Trail<'t> {
    Prefix(&'t KeyPath),
    Key(&'t Trail<'t>, &'t str),
    Index(&'t Trail<'t>, usize),
}

impl Trail<'_> {
    fn to_path(self) -> KeyPath {
        let mut segments = Vec::new();
        let mut link = self;
        loop {
            match link {
                Trail::Prefix(p) => {
                    segments.extend(p.0.iter().rev().cloned());
                    break;
                }
                Trail::Key(parent, k) => {
                    segments.push(Segment::Key(k.to_owned()));
                    link = *parent;
                }
                Trail::Index(parent, i) => {
                    segments.push(Segment::Index(i));
                    link = *parent;
                }
            }
        }
        segments.reverse();
        KeyPath(segments)
    }
}

/// A deserialization error, located once it leaves the value it is about.
#[derive(Debug)]
pub(crate) struct DeError {
    kind: ProblemKind,
    message: String,
    label: Option<String>,
    help: Option<String>,
    at: Option<(Origin, KeyPath)>,
}

impl DeError {
    fn new(kind: ProblemKind, message: String) -> DeError {
        DeError { kind, message, label: None, help: None, at: None }
    }

    fn locate(mut self, origin: Origin, trail: Trail<'_>) -> DeError {
        if self.at.is_none() {
            self.at = Some((origin, trail.to_path()));
        }
        self
    }

    fn into_issue(self, fallback: Origin, path: &KeyPath) -> Issue {
        let (origin, path) = self.at.unwrap_or_else(|| (fallback, path.clone()));
        Issue {
            kind: self.kind,
            message: self.message,
            origin: Some(origin),
            path: Some(path),
            label: self.label,
            help: self.help,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(ProblemKind::BadValue, msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        let expected = plain_expected(exp);
        let mut e =
            DeError::new(ProblemKind::WrongType, format!("expected {expected}, found {}", plain_unexpected(&unexp)));
        e.label = Some(format!("expected {expected}"));
        e
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        let expected = plain_expected(exp);
        let mut e =
            DeError::new(ProblemKind::BadValue, format!("expected {expected}, found {}", plain_unexpected(&unexp)));
        e.label = Some(format!("expected {expected}"));
        e
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        let expected = plain_expected(exp);
        let mut e = DeError::new(ProblemKind::BadValue, format!("expected {expected}, found {len} items"));
        e.label = Some(format!("expected {expected}"));
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(ProblemKind::BadValue, format!("unknown value \"{variant}\""));
        e.label = Some(format!("expected {}", one_of(expected)));
        e.help = closest(variant, expected.iter().copied()).map(|c| format!("did you mean \"{c}\"?"));
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(ProblemKind::UnknownKey, format!("unknown key `{field}`"));
        e.label = Some("not a key of this table".to_owned());
        let keys = expected.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        e.help = Some(match closest(field, expected.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? The keys here are {keys}"),
            None if expected.is_empty() => "this table takes no keys".to_owned(),
            None => format!("the keys here are {keys}"),
        });
        e
    }

    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::new(ProblemKind::MissingKey, format!("missing key `{field}`"));
        e.label = Some(format!("this table needs `{field}`"));
        e
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(ProblemKind::BadValue, format!("key `{field}` is given twice"))
    }
}

/// "a", "b" or "c"
pub(crate) fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [one] => format!("\"{one}\""),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|n| format!("\"{n}\"")).collect();
            format!("one of {} or \"{last}\"", init.join(", "))
        }
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbouring characters as one edit (optimal
/// string alignment), the commonest typo.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best =
                (d[(i - 1) * width + j] + 1).min(d[i * width + j - 1] + 1).min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// What serde calls a type, in the words of a TOML file.
fn plain_expected(exp: &dyn Expected) -> String {
    let text = exp.to_string();
    match text.as_str() {
        "u8" => "a whole number from 0 to 255".to_owned(),
        "u16" => "a whole number from 0 to 65535".to_owned(),
        "u32" => "a whole number from 0 to 4294967295".to_owned(),
        "u64" | "usize" => "a whole number of 0 or more".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a map" => "a table".to_owned(),
        "a character" => "a single character".to_owned(),
        t if t.starts_with("struct ") => "a table".to_owned(),
        t if t.starts_with("an array of length ") => format!("an array of {} items", &t["an array of length ".len()..]),
        t => t.to_owned(),
    }
}

fn plain_unexpected(unexp: &Unexpected<'_>) -> String {
    match unexp {
        Unexpected::Bool(b) => format!("`{b}`"),
        Unexpected::Unsigned(n) => format!("the whole number {n}"),
        Unexpected::Signed(n) => format!("the whole number {n}"),
        Unexpected::Float(x) => format!("the number {x}"),
        Unexpected::Char(c) => format!("{c:?}"),
        Unexpected::Str(s) => format!("the string {s:?}"),
        Unexpected::Seq => "an array".to_owned(),
        Unexpected::Map => "a table".to_owned(),
        Unexpected::Other(s) => (*s).to_owned(),
        other => other.to_string(),
    }
}

struct NodeDe<'de, 't> {
    node: &'de Node,
    trail: Trail<'t>,
}

impl<'de> de::Deserializer<'de> for NodeDe<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let NodeDe { node, trail } = self;
        let result = match &node.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Integer(n) => visitor.visit_i64(*n),
            Value::Float { value, .. } => visitor.visit_f64(*value),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Datetime(d) => {
                Err(de::Error::invalid_type(Unexpected::Other(&format!("the date/time {d}")), &visitor))
            }
            Value::Array(items) => {
                let expected = ExpectedText(plain_expected(&visitor));
                let mut access = ArrayAccess { items: items.iter().enumerate(), trail: &trail };
                let value = visitor.visit_seq(&mut access)?;
                if access.items.len() > 0 {
                    return Err(
                        <DeError as de::Error>::invalid_length(items.len(), &expected).locate(node.origin, trail)
                    );
                }
                Ok(value)
            }
            Value::Table(table) => {
                visitor.visit_map(TableAccess { entries: table.iter(), pending: None, trail: &trail })
            }
        };
        result.map_err(|e| e.locate(node.origin, trail))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (origin, trail) = (self.node.origin, self.trail);
        visitor.visit_some(self).map_err(|e| e.locate(origin, trail))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        let (origin, trail) = (self.node.origin, self.trail);
        if name == RAW_TEXT {
            let result = match &self.node.value {
                Value::String(s) => visitor.visit_str(s),
                Value::Integer(n) => visitor.visit_str(&n.to_string()),
                Value::Float { raw, .. } => visitor.visit_str(raw),
                Value::Datetime(d) => visitor.visit_str(d),
                _ => return self.deserialize_any(visitor),
            };
            return result.map_err(|e: DeError| e.locate(origin, trail));
        }
        visitor.visit_newtype_struct(self).map_err(|e| e.locate(origin, trail))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (origin, trail) = (self.node.origin, self.trail);
        match &self.node.value {
            Value::String(s) => {
                let unit: de::value::StrDeserializer<'_, DeError> = s.as_str().into_deserializer();
                visitor.visit_enum(unit).map_err(|e| e.locate(origin, trail))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct ExpectedText(String);

impl Expected for ExpectedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct ArrayAccess<'de, 'a, 't> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Node>>,
    trail: &'a Trail<'t>,
}

impl<'de> de::SeqAccess<'de> for &mut ArrayAccess<'de, '_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        let Some((index, node)) = self.items.next() else {
            return Ok(None);
        };
        let trail = Trail::Index(self.trail, index);
        seed.deserialize(NodeDe { node, trail }).map(Some).map_err(|e| e.locate(node.origin, trail))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct TableAccess<'de, 'a, 't> {
    entries: btree_map::Iter<'de, String, Entry>,
    pending: Option<(&'de str, &'de Entry)>,
    trail: &'a Trail<'t>,
}

impl<'de> de::MapAccess<'de> for TableAccess<'de, '_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some((key, entry)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key, entry));
        let trail = Trail::Key(self.trail, key);
        seed.deserialize(KeyDe { key }).map(Some).map_err(|e| e.locate(entry.key, trail))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, entry)) = self.pending.take() else {
            return Err(de::Error::custom("a table value was read before its key"));
        };
        let trail = Trail::Key(self.trail, key);
        seed.deserialize(NodeDe { node: &entry.node, trail }).map_err(|e| e.locate(entry.node.origin, trail))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct KeyDe<'de> {
    key: &'de str,
}

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(self.key)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse;
    use crate::path::at;
    use crate::source::FileId;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
        ratio: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Vec<Inner>,
        pair: Option<[u16; 2]>,
    }

    fn load(text: &str) -> Result<Outer, (Box<Issue>, String)> {
        let root = parse(FileId(0), text).expect("valid TOML");
        from_node::<Outer>(&root, &KeyPath::default()).map_err(|i| {
            let o = i.origin.expect("located");
            let spanned = text[o.start..o.end].to_owned();
            (i, spanned)
        })
    }

    #[test]
    fn a_wrong_type_points_at_the_value_with_its_path() {
        let (issue, text) =
            load("name = 'x'\n[[inner]]\ncount = 1\nratio = 0.5\n[[inner]]\ncount = 'many'\nratio = 1\n")
                .expect_err("count is a string");
        assert_eq!(issue.kind, ProblemKind::WrongType);
        assert_eq!(text, "'many'");
        assert_eq!(issue.path.map(|p| p.to_string()).as_deref(), Some("inner[1].count"));
        assert_eq!(issue.message, "expected a whole number from 0 to 4294967295, found the string \"many\"");
    }

    #[test]
    fn an_unknown_key_points_at_the_key_and_suggests_the_closest() {
        let (issue, text) = load("name = 'x'\ninner = []\nnmae = 2\n").expect_err("unknown key");
        assert_eq!(issue.kind, ProblemKind::UnknownKey);
        assert_eq!(text, "nmae");
        assert!(issue.help.as_deref().is_some_and(|h| h.starts_with("did you mean `name`?")), "{:?}", issue.help);
    }

    #[test]
    fn a_missing_key_points_at_its_table() {
        let (issue, text) = load("name = 'x'\n[[inner]]\nratio = 1\n").expect_err("count is missing");
        assert_eq!(issue.kind, ProblemKind::MissingKey);
        assert_eq!(text, "[[inner]]");
        assert_eq!(issue.message, "missing key `count`");
    }

    #[test]
    fn arrays_of_the_wrong_length_are_refused() {
        let (issue, text) = load("name = 'x'\ninner = []\npair = [1, 2, 3]\n").expect_err("three items");
        assert_eq!(text, "[1, 2, 3]");
        assert!(issue.message.contains("expected an array of 2 items"), "{}", issue.message);
        let (issue, _) = load("name = 'x'\ninner = []\npair = [1]\n").expect_err("one item");
        assert!(issue.message.contains("found 1 items"), "{}", issue.message);
    }

    #[test]
    fn suggestions_need_a_close_name() {
        assert_eq!(closest("dary", ["dairy", "bakery"]), Some("dairy"));
        assert_eq!(closest("xyz", ["dairy", "bakery"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn prefix_paths_are_kept() {
        let root = parse(FileId(0), "count = -1\nratio = 1\n").expect("valid TOML");
        let issue = from_node::<Inner>(&root, &at!["sku", 3]).expect_err("negative count");
        assert_eq!(issue.path.map(|p| p.to_string()).as_deref(), Some("sku[3].count"));
    }
}
