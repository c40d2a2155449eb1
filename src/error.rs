//! Errors as values: what went wrong, where (file, line, column, key path),
//! and what would be valid. The library never prints; `main` maps
//! [`Error::exit_code`] to the process exit status.

use std::fmt;
use std::path::{Path, PathBuf};

/// One segment of a key path such as `supply.byte_910b.orders[2].chips`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A path to a value inside a scenario file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The empty path (the document root).
    pub fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Key(key.to_string()));
        KeyPath(v)
    }

    /// This path extended by an array index.
    pub fn index(&self, i: usize) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if i > 0 {
                        write!(f, ".")?;
                    }
                    let plain = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if plain {
                        write!(f, "{k}")?
                    } else {
                        write!(f, "\"{k}\"")?
                    }
                }
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A problem with one value of a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// Key path of the offending value.
    pub key_path: KeyPath,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}: {}", self.key_path, self.message)
    }
}

/// Every error sancsim reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file is invalid (one or more problems).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Scenario(Vec<ScenarioError>),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A run could not complete.
    #[error("{0}")]
    Run(String),
    /// `sancsim check`: an expectation failed.
    #[error("{0}")]
    Check(String),
    /// `sancsim check` on a scenario without `[[expect]]` tables.
    #[error("{file}: no [[expect]] tables to check; add one such as:")]
    NoExpectations {
        /// The scenario file.
        file: String,
        /// A TOML snippet to paste, printed as it is after the message.
        example: String,
    },
    /// The command was stopped by a signal (Ctrl-C, SIGTERM) before its
    /// results were in place; `main` says which complete folders, if any,
    /// were written before it ([`crate::control::interrupted_message`]).
    #[error("interrupted: stopped before the results were written; earlier results left as they were")]
    Interrupted,
}

impl Error {
    /// An I/O error with the path it concerns.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Text to print after the message as it is, without the `error: `
    /// prefix (a snippet to paste).
    pub fn verbatim(&self) -> Option<&str> {
        match self {
            Error::NoExpectations { example, .. } => Some(example),
            _ => None,
        }
    }

    /// Process exit code: 2 for invalid input, 1 for a failed run or I/O.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Scenario(_) | Error::Usage(_) | Error::NoExpectations { .. } => 2,
            Error::Io { .. } | Error::Run(_) | Error::Check(_) => 1,
            Error::Interrupted => 130,
        }
    }
}

/// Levenshtein edit distance, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if any is reasonably close.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| {
            let longest = c.len().max(word.len());
            *d < longest && *d <= (longest / 2).max(2)
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_read_like_toml() {
        let p = KeyPath::root()
            .key("supply")
            .key("byte_910b")
            .key("orders")
            .index(2)
            .key("chips");
        assert_eq!(p.to_string(), "supply.byte_910b.orders[2].chips");
        assert_eq!(KeyPath::root().key("a b").to_string(), "\"a b\"");
    }

    #[test]
    fn suggests_the_closest_key() {
        assert_eq!(closest("fil_rate", ["chip", "fill_rate", "orders"]), Some("fill_rate"));
        assert_eq!(closest("zzzzzz", ["chip", "fill_rate"]), None);
    }
}
