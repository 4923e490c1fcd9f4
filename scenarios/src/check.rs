//! The collector of semantic problems, and the value checks every section shares.
//!
//! [`Checks`] remembers the merged document so that a problem found in a value (by its
//! key path) points at the text that wrote it, in whichever file that was. Its helpers
//! check shares and probabilities, signs and ranges, and resolve names with a "did you
//! mean" for typos. Problems accumulate: a scenario gets every problem reported at once.

use std::collections::BTreeMap;

use storetwin_actors::Dist;

use crate::deserializer::closest;
use crate::document::Node;
use crate::error::{Issue, ProblemKind};
use crate::path::KeyPath;
use crate::source::{Origin, Sources};

/// Shares that must sum to 1 may miss it by this much.
pub(crate) const SHARE_TOLERANCE: f64 = 1e-6;

pub(crate) struct Checks<'a> {
    pub(crate) root: &'a Node,
    pub(crate) sources: &'a Sources,
    pub(crate) issues: Vec<Issue>,
}

impl<'a> Checks<'a> {
    pub(crate) fn new(root: &'a Node, sources: &'a Sources) -> Checks<'a> {
        Checks { root, sources, issues: Vec::new() }
    }

    /// A problem with the value at `path`.
    pub(crate) fn value(&mut self, kind: ProblemKind, path: KeyPath, message: impl Into<String>) -> &mut Issue {
        let origin = self.root.locate(&path, false);
        self.push(Issue::new(kind, message).at(origin).with_path(path))
    }

    /// A problem with the key that ends `path` (a name that is wrong as a name).
    pub(crate) fn key(&mut self, kind: ProblemKind, path: KeyPath, message: impl Into<String>) -> &mut Issue {
        let origin = self.root.locate(&path, true);
        self.push(Issue::new(kind, message).at(origin).with_path(path))
    }

    /// A problem at an origin found otherwise (a cell of the floor art).
    pub(crate) fn at(
        &mut self,
        kind: ProblemKind,
        origin: Origin,
        path: KeyPath,
        message: impl Into<String>,
    ) -> &mut Issue {
        self.push(Issue::new(kind, message).at(origin).with_path(path))
    }

    fn push(&mut self, issue: Issue) -> &mut Issue {
        self.issues.push(issue);
        self.issues.last_mut().expect("an issue was just pushed")
    }

    pub(crate) fn bad(&mut self, path: KeyPath, message: impl Into<String>) -> &mut Issue {
        self.value(ProblemKind::BadValue, path, message)
    }

    /// A probability or share: a number from 0 to 1.
    pub(crate) fn share(&mut self, path: KeyPath, v: f64) -> bool {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            return true;
        }
        self.bad(path, format!("a share or probability is from 0 to 1, found {v}"))
            .label("expected a number from 0 to 1");
        false
    }

    /// A number above 0.
    pub(crate) fn positive(&mut self, path: KeyPath, v: f64) -> bool {
        if v.is_finite() && v > 0.0 {
            return true;
        }
        self.bad(path, format!("must be above 0, found {v}")).label("expected a number above 0");
        false
    }

    /// A number of 0 or more.
    pub(crate) fn non_negative(&mut self, path: KeyPath, v: f64) -> bool {
        if v.is_finite() && v >= 0.0 {
            return true;
        }
        self.bad(path, format!("must be 0 or more, found {v}")).label("expected a number of 0 or more");
        false
    }

    /// A distribution of seconds or counts: its mean must not be negative.
    pub(crate) fn non_negative_mean(&mut self, path: KeyPath, d: &Dist) -> bool {
        let mean = d.mean();
        if mean.is_finite() && mean >= 0.0 {
            return true;
        }
        self.bad(path, format!("the mean of this distribution is {mean}; a time or count cannot be negative"))
            .label("expected a mean of 0 or more");
        false
    }

    /// Shares of one whole: each from 0 to 1, summing to 1.
    pub(crate) fn sums_to_one(&mut self, path: KeyPath, what: &str, shares: &[(String, f64)]) -> bool {
        let sum: f64 = shares.iter().map(|(_, s)| s).sum();
        if (sum - 1.0).abs() <= SHARE_TOLERANCE {
            return true;
        }
        let list = shares.iter().map(|(n, s)| format!("{n} {s}")).collect::<Vec<_>>().join(" + ");
        // Rounded so that 0.6 + 0.3 + 0.2 reads 1.1, not 1.0999999999999999.
        let shown = (sum * 1e9).round() / 1e9;
        self.bad(path, format!("{what} sum to {shown}, not 1 ({list})")).label("these shares must sum to 1");
        false
    }

    /// Looks up `name` among `known` (for a reference at `path`), reporting an unknown
    /// name with the closest known one.
    pub(crate) fn resolve<T: Copy>(
        &mut self,
        path: KeyPath,
        what: &str,
        name: &str,
        known: &BTreeMap<String, T>,
    ) -> Option<T> {
        if let Some(id) = known.get(name) {
            return Some(*id);
        }
        let suggestion = closest(name, known.keys().map(String::as_str));
        let list = name_list(known.keys());
        let issue = self.value(ProblemKind::Reference, path, format!("no {what} is named \"{name}\""));
        issue.label(format!("not a known {what}"));
        match suggestion {
            Some(s) => issue.help(format!("did you mean \"{s}\"? Known: {list}")),
            None if known.is_empty() => issue.help(format!("no {what} is declared")),
            None => issue.help(format!("known: {list}")),
        };
        None
    }

    /// The issues, sorted by file and position (the order a reader meets them).
    pub(crate) fn finish(mut self) -> Vec<Issue> {
        self.issues.sort_by_key(|i| i.origin.map(|o| (o.file, o.start, o.end)));
        self.issues
    }
}

/// Names for a help text: the first few, quoted, and how many more.
pub(crate) fn name_list<'n>(names: impl ExactSizeIterator<Item = &'n String>) -> String {
    const SHOWN: usize = 12;
    let total = names.len();
    let mut list = names.take(SHOWN).map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
    if total > SHOWN {
        list.push_str(&format!(" and {} more", total - SHOWN));
    }
    list
}
