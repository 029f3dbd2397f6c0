//! tidy: the workspace's layout, documentation and dependency checks
//! (STYLE.md §1, §3, §4, §5 and §7), run as `cargo test -p tidy`.
//!
//! The checks themselves are the tests in `tests/tidy.rs`; this library holds
//! what they need:
//! 1. [`rules`]: every table tidy enforces (allowed dependency edges, banned
//!    module names, crates allowed `unsafe`), each in one place.
//! 2. [`workspace`]: the members and their dependencies, read from
//!    `cargo metadata`, plus the source files under `crates/` and `plugins/`.
//! 3. [`lexer`]: separates Rust code from comments and string literals, so
//!    source checks neither miss code nor trip over prose.
//! 4. [`checks`]: pure functions that return one line per violation.
//!
//! tidy never changes a file; it only reports.

pub mod checks;
pub mod lexer;
pub mod rules;
pub mod workspace;

use std::fmt;
use std::path::PathBuf;

/// Why tidy could not read the workspace (as opposed to a violation it found).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read.
    Io {
        /// What was being read.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// `cargo metadata` could not be run or printed something unexpected.
    Metadata {
        /// What went wrong, in words.
        detail: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::Metadata { detail } => write!(f, "cargo metadata: {detail}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Metadata { .. } => None,
        }
    }
}
