//! The scenario hash: a stable fingerprint of what a scenario says.
//!
//! Recipe: the merged document (after `extends`, without the `extends` keys) is written
//! as canonical JSON: tables with keys in byte order, no whitespace, strings JSON-escaped,
//! integers in decimal, floats with an integral value below 2^53 as integers and others
//! in Rust's shortest round-trip form (`nan`, `inf` and `-inf` as strings), dates and
//! times as strings. The hash is the 64-bit FNV-1a of that text, as 16 lowercase hex
//! digits. Comments, key order, layout, `1.0` versus `1`, and whether a value came
//! from a base file do not change it; any change of a value does.

use std::fmt::Write;

use crate::document::{Node, Value};

/// The canonical JSON of a document.
pub(crate) fn canonical_json(node: &Node) -> String {
    let mut out = String::new();
    write_node(&mut out, node);
    out
}

/// The 16-hex-digit FNV-1a hash of the canonical JSON of a document.
pub(crate) fn scenario_hash(node: &Node) -> String {
    fnv1a_hex(&canonical_json(node))
}

/// The 64-bit FNV-1a hash of a text, as 16 lowercase hex digits.
pub(crate) fn fnv1a_hex(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn write_node(out: &mut String, node: &Node) {
    match &node.value {
        Value::String(s) | Value::Datetime(s) => write_string(out, s),
        Value::Integer(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float { value, .. } => write_float(out, *value),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_node(out, item);
            }
            out.push(']');
        }
        Value::Table(table) => {
            out.push('{');
            for (i, (key, entry)) in table.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_node(out, &entry.node);
            }
            out.push('}');
        }
    }
}

fn write_float(out: &mut String, v: f64) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if v.is_nan() {
        out.push_str("\"nan\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "\"inf\"" } else { "\"-inf\"" });
    } else if v.fract() == 0.0 && v.abs() < EXACT {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v:?}");
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse;
    use crate::source::FileId;

    fn hash(text: &str) -> String {
        scenario_hash(&parse(FileId(0), text).expect("valid TOML"))
    }

    #[test]
    fn layout_and_comments_do_not_change_the_hash() {
        let a = hash("b = 2\na = 1.0 # one\n[t]\nx = 'é\"'\n");
        let b = hash("# header\na = 1\nb = 2\nt = { x = \"é\\\"\" }\n");
        assert_eq!(a, b);
        assert_ne!(a, hash("a = 1\nb = 3\n[t]\nx = 'é\"'\n"));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn canonical_json_is_sorted_and_compact() {
        let root = parse(FileId(0), "z = [1, 2.5]\na = { q = true, p = \"x\\n\" }\n").expect("valid TOML");
        assert_eq!(canonical_json(&root), r#"{"a":{"p":"x\n","q":true},"z":[1,2.5]}"#);
    }
}
