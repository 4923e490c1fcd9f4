//! The files a scenario is read from, and places in them.
//!
//! Every value of a scenario remembers its [`Origin`]: which file defined it and the byte
//! range of its text there. That is how an error about a value that layout B inherited
//! from layout A points into A, the file a planner has to change.

use std::path::PathBuf;
use std::sync::Arc;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FileId(pub(crate) usize);

/// Where a value (or key) was written: a byte range in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) file: FileId,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Origin {
    pub(crate) fn new(file: FileId, span: std::ops::Range<usize>) -> Origin {
        Origin { file, start: span.start, end: span.end.max(span.start) }
    }
}

/// One scenario file as read.
#[derive(Debug)]
pub(crate) struct SourceFile {
    /// The name errors show: the path as the user (or an `extends`) gave it.
    pub(crate) name: String,
    /// The file on disk, `None` for text given directly.
    pub(crate) path: Option<PathBuf>,
    pub(crate) text: Arc<str>,
}

/// The files of one load: the file named by the user first, then those it extends.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub(crate) fn add(&mut self, name: String, path: Option<PathBuf>, text: &str) -> FileId {
        self.files.push(SourceFile { name, path, text: Arc::from(text) });
        FileId(self.files.len() - 1)
    }

    pub(crate) fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub(crate) fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The text an origin covers, empty if the origin does not fit the file.
    pub(crate) fn text_at(&self, origin: Origin) -> &str {
        self.file(origin.file).text.get(origin.start..origin.end).unwrap_or("")
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (1, 5));
        assert_eq!(line_column(text, 6), (2, 1));
        // "é" is two bytes: the `=` after it is the 4th character of line 2.
        assert_eq!(line_column(text, 10), (2, 4));
        assert_eq!(line_column(text, 999), (3, 1));
    }
}
