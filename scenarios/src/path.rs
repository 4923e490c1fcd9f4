//! The address of a value in a scenario, written as a planner reads it:
//! `store.legend."#"`, `segment[1].share`, `lane[3].pay_s.cash`.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the top of the scenario to one value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub(crate) Vec<Segment>);

/// One step of a path as written in code: a key or an index.
pub(crate) enum Part<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> From<&'a str> for Part<'a> {
    fn from(key: &'a str) -> Part<'a> {
        Part::Key(key)
    }
}

impl<'a> From<&'a String> for Part<'a> {
    fn from(key: &'a String) -> Part<'a> {
        Part::Key(key)
    }
}

impl From<usize> for Part<'_> {
    fn from(index: usize) -> Self {
        Part::Index(index)
    }
}

impl KeyPath {
    pub(crate) fn from_parts(parts: &[Part<'_>]) -> KeyPath {
        KeyPath(
            parts
                .iter()
                .map(|p| match p {
                    Part::Key(k) => Segment::Key((*k).to_owned()),
                    Part::Index(i) => Segment::Index(*i),
                })
                .collect(),
        )
    }

    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

/// `at!["segment", i, "share"]`: a [`KeyPath`] from keys and indices.
macro_rules! at {
    ($($part:expr),* $(,)?) => {
        $crate::path::KeyPath::from_parts(&[$($crate::path::Part::from($part)),*])
    };
}
pub(crate) use at;

fn bare(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if bare(k) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_print_as_toml_readers_write_them() {
        assert_eq!(at!["segment", 1, "share"].to_string(), "segment[1].share");
        assert_eq!(at!["store", "legend", "#"].to_string(), "store.legend.\"#\"");
        assert_eq!(at![].to_string(), "");
    }
}
