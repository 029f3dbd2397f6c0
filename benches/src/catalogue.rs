//! The statement catalogue: `workload.sql` split at its `-- name: X` lines.
//!
//! Invariants:
//! 1. A statement's text is every line after its name line up to the next
//!    name line or the end of the file, trimmed of surrounding whitespace and
//!    otherwise unchanged (it may hold several statements, as `schema_join`).
//! 2. Lines before the first name line are the file's header and belong to
//!    no statement.
//!
//! It does not parse SQL and does not read files; the caller passes the text.

use std::collections::BTreeMap;

/// Why a catalogue could not be built or a statement is missing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// A name appears twice.
    #[error("statement name {name:?} appears twice in the workload file")]
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// A name line has no SQL after it.
    #[error("statement {name:?} has no SQL text")]
    Empty {
        /// The statement's name.
        name: String,
    },
    /// No statement has the name.
    #[error("statement {name:?} is not in the workload file")]
    Missing {
        /// The name looked up.
        name: String,
    },
}

/// Statements by name.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    statements: BTreeMap<String, String>,
}

const NAME_PREFIX: &str = "-- name:";

impl Catalogue {
    /// Splits the text of a workload file (invariants 1 and 2).
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let mut statements = BTreeMap::new();
        let mut current: Option<(String, String)> = None;
        for line in text.lines() {
            if let Some(name) = line.trim_start().strip_prefix(NAME_PREFIX) {
                if let Some((n, body)) = current.take() {
                    insert(&mut statements, n, body)?;
                }
                current = Some((name.trim().to_string(), String::new()));
            } else if let Some((_, body)) = current.as_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        if let Some((n, body)) = current.take() {
            insert(&mut statements, n, body)?;
        }
        Ok(Catalogue { statements })
    }

    /// The statement named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.statements.get(name).map(String::as_str)
    }

    /// The statement named `name`, or an error naming it.
    pub fn require(&self, name: &str) -> Result<&str, CatalogueError> {
        self.get(name).ok_or_else(|| CatalogueError::Missing { name: name.to_string() })
    }

    /// All names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.statements.keys().map(String::as_str)
    }
}

fn insert(map: &mut BTreeMap<String, String>, name: String, body: String) -> Result<(), CatalogueError> {
    let body = body.trim().to_string();
    if body.is_empty() {
        return Err(CatalogueError::Empty { name });
    }
    if map.contains_key(&name) {
        return Err(CatalogueError::Duplicate { name });
    }
    map.insert(name, body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "-- header\n-- more header\n\n-- name: a\nSELECT 1;\n\n-- name: b\nCREATE TABLE t (x INT);\nCREATE TABLE u (y INT);\n";

    #[test]
    fn statements_are_split_at_name_lines() {
        let c = Catalogue::parse(TEXT).expect("valid text");
        assert_eq!(c.require("a").ok(), Some("SELECT 1;"));
        assert_eq!(c.get("b"), Some("CREATE TABLE t (x INT);\nCREATE TABLE u (y INT);"));
        assert_eq!(c.names().collect::<Vec<_>>(), ["a", "b"]);
        assert!(matches!(c.require("zz"), Err(CatalogueError::Missing { .. })));
    }

    #[test]
    fn duplicate_and_empty_names_are_rejected() {
        assert!(matches!(
            Catalogue::parse("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;"),
            Err(CatalogueError::Duplicate { .. })
        ));
        assert!(matches!(Catalogue::parse("-- name: a\n\n-- name: b\nSELECT 1;"), Err(CatalogueError::Empty { .. })));
    }
}
