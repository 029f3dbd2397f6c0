//! `--complete`: rewriting a test file in place so that its failing records
//! expect what the engine actually did. The diff is for a human to review.
//!
//! Invariants:
//! 1. Only records that ran and failed change; every other line (comments,
//!    conditions, skipped records, records after a `halt`) stays byte for
//!    byte, and record order is kept.
//! 2. A rewritten record keeps its conditions, `connection` line and SQL
//!    lines (with their comments); comments among its old expected values
//!    move after the new ones.
//! 3. Statements that failed become `statement error <errno>` (the number
//!    from `ERROR <errno> (`, or bare `statement error` without one) and
//!    statements that succeeded become `statement ok`. Queries get their
//!    actual values, or the hash line above the hash threshold; a query that
//!    failed becomes `query error <errno>`, one without a result set
//!    `statement ok`.
//! 4. The file is replaced atomically (write a sibling, then rename), and
//!    only when its text changes.
//!
//! It does not invent type strings beyond `T` for every column when the
//! record's own do not fit the result.

use std::collections::HashMap;
use std::path::Path;

use crate::render::md5_values;
use crate::runner::{hashes, sorted_values};
use crate::script::{classify, Line, Record, RecordKind, Script};
use crate::ResultSet;

/// What a failing record actually produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Actual {
    Statement(Result<(), String>),
    Query(QueryActual),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryActual {
    Error(String),
    NoResultSet,
    /// The values to write: type string and sort mode used, and the lines
    /// (values, or one hash line).
    Rows {
        types: String,
        sort: String,
        lines: Vec<String>,
    },
}

impl Actual {
    /// Renders a query's result for writing. `types`/`sort` are the record's;
    /// types that are invalid or do not fit the result become all `T`, and an
    /// unknown sort mode becomes `nosort`.
    pub(crate) fn query(result: Result<Option<ResultSet>, String>, types: &str, sort: &str, threshold: i64) -> Actual {
        let rows = match result {
            Err(message) => return Actual::Query(QueryActual::Error(message)),
            Ok(None) => return Actual::Query(QueryActual::NoResultSet),
            Ok(Some(rows)) if rows.columns == 0 => return Actual::Query(QueryActual::NoResultSet),
            Ok(Some(rows)) => rows,
        };
        let fits = types.chars().count() == rows.columns && types.chars().all(|c| matches!(c, 'I' | 'T' | 'R'));
        let types = if fits { types.to_owned() } else { "T".repeat(rows.columns) };
        let sort = if matches!(sort, "nosort" | "rowsort" | "valuesort") { sort } else { "nosort" };
        let values = sorted_values(&rows.rows, &types, sort).expect("invariant: the sort mode is a known one");
        let lines = if hashes(threshold, values.len()) {
            vec![format!("{} values hashing to {}", values.len(), md5_values(&values))]
        } else {
            values
        };
        Actual::Query(QueryActual::Rows { types, sort: sort.to_owned(), lines })
    }
}

/// The MySQL error number at the start of `ERROR 1062 (23000): ...`.
fn error_number(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("ERROR ")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    (digits > 0 && rest[digits..].starts_with(" (")).then(|| &rest[..digits])
}

fn error_header(kind: &str, message: &str) -> String {
    match error_number(message) {
        Some(n) => format!("{kind} error {n}"),
        None => format!("{kind} error"),
    }
}

/// One replaced range of raw lines (inclusive).
struct Edit {
    first: usize,
    last: usize,
    lines: Vec<Vec<u8>>,
}

/// Rewrites `path` so that the records in `actuals` (by index) expect what
/// they produced.
pub(crate) fn rewrite(path: &Path, script: &Script, actuals: &HashMap<usize, Actual>) -> Result<(), String> {
    if actuals.is_empty() {
        return Ok(());
    }
    let mut indexes: Vec<usize> = actuals.keys().copied().collect();
    indexes.sort_unstable();
    let edits: Vec<Edit> =
        indexes.iter().filter_map(|&i| Some(edit(script, script.records.get(i)?, actuals.get(&i)?))).collect();
    let mut out: Vec<&[u8]> = Vec::with_capacity(script.raw_lines.len());
    let mut next = 0;
    for e in &edits {
        out.extend(script.raw_lines[next..e.first].iter().map(Vec::as_slice));
        out.extend(e.lines.iter().map(Vec::as_slice));
        next = e.last + 1;
    }
    out.extend(script.raw_lines[next..].iter().map(Vec::as_slice));
    let new_text = out.join(&b'\n');
    let old_text = script.raw_lines.join(&b'\n');
    if new_text == old_text {
        return Ok(());
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".complete-tmp");
    std::fs::write(&temporary, &new_text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| format!("cannot rewrite {}: {e}", path.display()))
}

/// The new lines of one failing record.
fn edit(script: &Script, record: &Record, actual: &Actual) -> Edit {
    let raw = &script.raw_lines;
    let span = record.span;
    let eol: &[u8] = if raw[span.header].ends_with(b"\r") { b"\r" } else { b"" };
    let line = |text: &str| -> Vec<u8> { [text.as_bytes(), eol].concat() };
    let query = match actual {
        Actual::Statement(result) => {
            let header = match result {
                Ok(()) => "statement ok".to_owned(),
                Err(message) => error_header("statement", message),
            };
            return Edit { first: span.header, last: span.header, lines: vec![line(&header)] };
        }
        Actual::Query(query) => query,
    };
    let sql_end = span.separator.unwrap_or(span.end + 1);
    let sql_lines = raw[span.header + 1..sql_end].iter().cloned();
    let value_comments: Vec<Vec<u8>> = match span.separator {
        Some(separator) => {
            raw[separator + 1..=span.end].iter().filter(|l| classify(l) == Line::Comment).cloned().collect()
        }
        None => Vec::new(),
    };
    let mut lines = Vec::new();
    match query {
        QueryActual::Error(message) => {
            lines.push(line(&error_header("query", message)));
            lines.extend(sql_lines);
        }
        QueryActual::NoResultSet => {
            lines.push(line("statement ok"));
            lines.extend(sql_lines);
        }
        QueryActual::Rows { types, sort, lines: values } => {
            let header = match &record.kind {
                RecordKind::Query(q) if q.types == *types && q.sort == *sort => raw[span.header].clone(),
                RecordKind::Query(q) if !q.label.is_empty() => line(&format!("query {types} {sort} {}", q.label)),
                _ => line(&format!("query {types} {sort}")),
            };
            lines.push(header);
            lines.extend(sql_lines);
            lines.push(line("----"));
            lines.extend(values.iter().map(|v| line(v)));
        }
    }
    lines.extend(value_comments);
    Edit { first: span.header, last: span.end, lines }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_number_is_read_from_the_mysql_client_prefix_only() {
        assert_eq!(error_number("ERROR 1062 (23000): Duplicate"), Some("1062"));
        assert_eq!(error_number("ERROR x (1)"), None);
        assert_eq!(error_number("ERROR 1062: no sqlstate"), None);
        assert_eq!(error_number("failed"), None);
    }

    #[test]
    fn wide_result_becomes_a_hash_line_and_misfit_types_become_text() {
        let rows = ResultSet { columns: 1, rows: (0..9).map(|i| vec![Some(format!("{i}").into_bytes())]).collect() };
        let Actual::Query(QueryActual::Rows { types, lines, .. }) = Actual::query(Ok(Some(rows)), "II", "nosort", 8)
        else {
            panic!("expected rows")
        };
        assert_eq!(types, "T");
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("9 values hashing to "));
    }
}
