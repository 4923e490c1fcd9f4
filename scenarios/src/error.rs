//! What goes wrong when a scenario is loaded, said the way a compiler says it.
//!
//! Every check produces an `Issue`: a kind, a message and, where possible, the
//! origin of the offending text. Once loading is over, issues become [`Problem`]s with
//! the file name, line, column and source text resolved, and are gathered into one
//! [`ScenarioError`]. Both implement [`miette::Diagnostic`], so the CLI renders each
//! problem with the source snippet, the span underlined and what was expected.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};

use crate::path::KeyPath;
use crate::source::{Origin, Sources, line_column};

/// What kind of mistake a [`Problem`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// A file could not be read.
    Io,
    /// The text is not valid TOML.
    Syntax,
    /// `extends` names a file that cannot be used (missing, or a cycle).
    Extends,
    /// A key the format does not know.
    UnknownKey,
    /// A value of the wrong type (a string where a number belongs, ...).
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A value of the right type that is out of range or inconsistent.
    BadValue,
    /// The floor plan is malformed or unwalkable.
    Floor,
    /// A name refers to nothing declared (a lane, category, device, SKU, line).
    Reference,
    /// The file is plainly not a scenario (a Cargo manifest, ...).
    NotAScenario,
}

impl ProblemKind {
    /// The diagnostic code shown in brackets by miette.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::Io => "scenario::io",
            ProblemKind::Syntax => "scenario::syntax",
            ProblemKind::Extends => "scenario::extends",
            ProblemKind::UnknownKey => "scenario::unknown_key",
            ProblemKind::WrongType => "scenario::wrong_type",
            ProblemKind::MissingKey => "scenario::missing_key",
            ProblemKind::BadValue => "scenario::bad_value",
            ProblemKind::Floor => "scenario::floor",
            ProblemKind::Reference => "scenario::reference",
            ProblemKind::NotAScenario => "scenario::not_a_scenario",
        }
    }
}

/// A problem found while loading, before its place is resolved to a line and column.
#[derive(Clone, Debug)]
pub(crate) struct Issue {
    pub(crate) kind: ProblemKind,
    pub(crate) message: String,
    pub(crate) origin: Option<Origin>,
    pub(crate) path: Option<KeyPath>,
    pub(crate) label: Option<String>,
    pub(crate) help: Option<String>,
}

impl Issue {
    pub(crate) fn new(kind: ProblemKind, message: impl Into<String>) -> Issue {
        Issue { kind, message: message.into(), origin: None, path: None, label: None, help: None }
    }

    pub(crate) fn at(mut self, origin: Origin) -> Issue {
        self.origin = Some(origin);
        self
    }

    pub(crate) fn with_label(mut self, label: impl Into<String>) -> Issue {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Issue {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn with_path(mut self, path: KeyPath) -> Issue {
        self.path = Some(path);
        self
    }

    pub(crate) fn label(&mut self, label: impl Into<String>) -> &mut Issue {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn help(&mut self, help: impl Into<String>) -> &mut Issue {
        self.help = Some(help.into());
        self
    }

    /// The issue with its place resolved against the files it came from.
    pub(crate) fn resolve(self, sources: &Sources) -> Problem {
        let path = self.path.filter(|p| !p.is_root()).map(|p| p.to_string());
        let mut problem = Problem {
            kind: self.kind,
            message: self.message,
            path,
            location: None,
            source: None,
            span: None,
            label: self.label,
            help: self.help,
        };
        if let Some(origin) = self.origin {
            let file = sources.file(origin.file);
            let (line, column) = line_column(&file.text, origin.start);
            problem.location = Some(Location { file: file.name.clone(), line, column });
            problem.source = Some(NamedSource::new(&file.name, Arc::clone(&file.text)));
            let start = origin.start.min(file.text.len());
            let end = origin.end.clamp(start, file.text.len());
            problem.span = Some(SourceSpan::from(start..end));
        }
        problem
    }
}

/// A place in a scenario file: the file's name as given, and a 1-based line and column
/// (in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One thing wrong with a scenario, with where it is and what was expected.
#[derive(Clone, Debug)]
pub struct Problem {
    kind: ProblemKind,
    message: String,
    path: Option<String>,
    location: Option<Location>,
    source: Option<NamedSource<Arc<str>>>,
    span: Option<SourceSpan>,
    label: Option<String>,
    help: Option<String>,
}

impl Problem {
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// What is wrong, without the path or place.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The key path of the offending value, like `segment[1].share`, when there is one.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// File, line and column of the offending text, when the problem has a place.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    /// The text under the span: what was expected, or why this place is wrong.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// A hint at the fix.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{path}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(self.label.clone(), span))))
    }
}

/// A scenario could not be loaded. Holds every problem found (at least one), in file
/// order; several problems render as one report with each problem related.
#[derive(Debug)]
pub struct ScenarioError {
    name: String,
    problems: Vec<Problem>,
}

impl ScenarioError {
    pub(crate) fn new(name: String, problems: Vec<Problem>) -> ScenarioError {
        debug_assert!(!problems.is_empty(), "a scenario error has at least one problem");
        ScenarioError { name, problems }
    }

    /// Every problem found, in file order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    fn single(&self) -> Option<&Problem> {
        match self.problems.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.single() {
            Some(one) => one.fmt(f),
            None => write!(f, "scenario {} has {} problems", self.name, self.problems.len()),
        }
    }
}

impl std::error::Error for ScenarioError {}

impl Diagnostic for ScenarioError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.single() {
            Some(one) => one.code(),
            None => Some(Box::new("scenario::invalid")),
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.single().and_then(|one| one.help())
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.single().and_then(|one| one.source_code())
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.single().and_then(|one| one.labels())
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.single().is_some() {
            return None;
        }
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}
