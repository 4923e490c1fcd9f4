//! `extends`: a scenario written as a change to another one.
//!
//! A file with `extends = "weekday.toml"` is read on top of that file (found relative to
//! the extending file): tables merge key by key, recursively, and any other value the
//! extending file gives (a string, a number, an array, arrays of tables such as
//! `[[lane]]` included) replaces the base's whole. Chains are allowed (C extends B extends
//! A); a cycle is an error that names the files. Every value keeps the origin of the file
//! that wrote it, so problems point into the right file.

use std::fs;
use std::path::{Path, PathBuf};

use crate::document::{self, Node, Value};
use crate::error::{Issue, ProblemKind};
use crate::source::{Origin, Sources};

/// Reads the scenario at `path` and everything it extends, merged.
pub(crate) fn read_path(path: &Path, sources: &mut Sources) -> Result<Node, Vec<Issue>> {
    read_file(path, None, &mut Vec::new(), sources)
}

/// Reads a scenario given as text; an `extends` in it is relative to the working directory.
pub(crate) fn read_text(name: &str, text: &str, sources: &mut Sources) -> Result<Node, Vec<Issue>> {
    let file = sources.add(name.to_owned(), None, text);
    with_base(document::parse(file, text)?, None, &mut Vec::new(), sources)
}

/// The files being read, outermost first: their canonical paths and names.
type Chain = Vec<(PathBuf, String)>;

fn read_file(path: &Path, via: Option<Origin>, chain: &mut Chain, sources: &mut Sources) -> Result<Node, Vec<Issue>> {
    let name = path.display().to_string();
    let cannot_read = |why: String| {
        let mut issue = Issue::new(if via.is_some() { ProblemKind::Extends } else { ProblemKind::Io }, why);
        if let Some(origin) = via {
            issue = issue.at(origin).with_label("this file cannot be read");
        }
        vec![issue]
    };
    let canonical = fs::canonicalize(path).map_err(|e| cannot_read(format!("cannot read {name}: {e}")))?;
    if let Some(first) = chain.iter().position(|(c, _)| *c == canonical) {
        let cycle: Vec<&str> =
            chain[first..].iter().map(|(_, n)| n.as_str()).chain(std::iter::once(name.as_str())).collect();
        let mut issue = Issue::new(ProblemKind::Extends, format!("extends cycle: {}", cycle.join(" extends ")));
        if let Some(origin) = via {
            issue = issue.at(origin).with_label("this file extends, through the chain, the file that extends it");
        }
        return Err(vec![issue.with_help("a scenario cannot extend itself; break the cycle")]);
    }
    let bytes = fs::read(&canonical).map_err(|e| cannot_read(format!("cannot read {name}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| cannot_read(format!("{name} is not UTF-8 text")))?;
    let file = sources.add(name.clone(), Some(path.to_path_buf()), &text);
    let root = document::parse(file, &text)?;
    chain.push((canonical, name));
    let merged = with_base(root, path.parent(), chain, sources);
    chain.pop();
    merged
}

/// `root` merged on top of the file its `extends` names (relative to `dir`), if any.
fn with_base(mut root: Node, dir: Option<&Path>, chain: &mut Chain, sources: &mut Sources) -> Result<Node, Vec<Issue>> {
    let Value::Table(table) = &mut root.value else {
        return Ok(root);
    };
    let Some(entry) = table.remove("extends") else {
        return Ok(root);
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
    let base = read_file(&base_path, Some(entry.node.origin), chain, sources)?;
    Ok(document::merge(base, root))
}
