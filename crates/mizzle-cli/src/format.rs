//! Result formatting in the style of the `mysql` client: boxed tables,
//! vertical (`\G`) records, and the status lines that follow a statement.
//!
//! Invariants:
//! 1. Widths are counted in characters (`char`s), so multi-byte UTF-8 text
//!    lines up; East Asian wide characters are not given double width.
//! 2. SQL NULL is shown as `NULL`; a binary value that is not valid UTF-8 is
//!    shown as `0x` and upper-case hex digits.
//! 3. Values of numeric columns are right-aligned, everything else (and
//!    every header) left-aligned.
//! 4. Every function returns text ending in a newline, or an empty string.
//!
//! It does no I/O and reads no clock: callers pass the elapsed time in.

use std::fmt::Write as _;
use std::time::Duration;

use mizzle::{Rows, SqlType, Value};

/// A column heading and how its values are aligned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The column name shown.
    pub name: String,
    /// Right-align the values (numeric columns).
    pub numeric: bool,
}

impl Header {
    /// A left-aligned (text) column.
    pub fn text(name: &str) -> Header {
        Header { name: name.to_string(), numeric: false }
    }

    /// A right-aligned (numeric) column.
    pub fn numeric(name: &str) -> Header {
        Header { name: name.to_string(), numeric: true }
    }
}

/// One shown value: `None` is SQL NULL.
pub type Cell = Option<String>;

/// A result set reduced to the text the shell shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The columns.
    pub headers: Vec<Header>,
    /// The rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// The text shown for one value.
pub fn cell_text(v: &Value) -> Cell {
    match v {
        Value::Null => None,
        Value::Text(s) => Some(s.to_string()),
        Value::Bytes(b) => Some(match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => hex(b),
        }),
        other => {
            let mut out = Vec::new();
            other.write_text(&mut out);
            Some(String::from_utf8_lossy(&out).into_owned())
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

impl Table {
    /// The shown form of an engine result set.
    pub fn from_rows(rows: &Rows) -> Table {
        let headers =
            rows.columns().iter().map(|c| Header { name: c.name.clone(), numeric: c.ty.is_numeric() }).collect();
        let types: Vec<SqlType> = rows.columns().iter().map(|c| c.ty).collect();
        let rows = rows
            .iter()
            .map(|r| {
                r.values()
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match (v, types.get(i)) {
                        (Value::DateTime(_) | Value::Int(_) | Value::Time(_) | Value::UInt(_), Some(t)) => {
                            let mut out = Vec::new();
                            v.write_text_as(*t, &mut out);
                            Some(String::from_utf8_lossy(&out).into_owned())
                        }
                        _ => cell_text(v),
                    })
                    .collect()
            })
            .collect();
        Table { headers, rows }
    }

    /// Each column's width in characters: its widest header or value.
    fn widths(&self) -> Vec<usize> {
        self.headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let widest_value =
                    self.rows.iter().filter_map(|r| r.get(i)).map(|c| shown(c).chars().count()).max().unwrap_or(0);
                widest_value.max(h.name.chars().count())
            })
            .collect()
    }

    /// The boxed table, or an empty string when there are no rows (the
    /// `mysql` client then prints only `Empty set`).
    pub fn boxed(&self) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let widths = self.widths();
        let mut border = String::from("+");
        for w in &widths {
            border.push_str(&"-".repeat(w + 2));
            border.push('+');
        }
        border.push('\n');

        let mut out = border.clone();
        out.push('|');
        for (h, w) in self.headers.iter().zip(&widths) {
            push_padded(&mut out, &h.name, *w, false);
        }
        out.push('\n');
        out.push_str(&border);
        for row in &self.rows {
            out.push('|');
            for (i, (h, w)) in self.headers.iter().zip(&widths).enumerate() {
                let text = row.get(i).map_or("", shown);
                push_padded(&mut out, text, *w, h.numeric);
            }
            out.push('\n');
        }
        out.push_str(&border);
        out
    }

    /// The rows as vertical records, as after `\G`: a star line per row,
    /// then `name: value` lines with names right-aligned.
    pub fn vertical(&self) -> String {
        let name_width = self.headers.iter().map(|h| h.name.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (n, row) in self.rows.iter().enumerate() {
            let _ = writeln!(out, "{stars} {}. row {stars}", n + 1, stars = "*".repeat(27));
            for (i, h) in self.headers.iter().enumerate() {
                let pad = name_width.saturating_sub(h.name.chars().count());
                let text = row.get(i).map_or("", shown);
                let _ = writeln!(out, "{}{}: {}", " ".repeat(pad), h.name, text);
            }
        }
        out
    }
}

fn shown(c: &Cell) -> &str {
    c.as_deref().unwrap_or("NULL")
}

/// Appends ` text |` with `text` padded to `width` characters.
fn push_padded(out: &mut String, text: &str, width: usize, right: bool) {
    let pad = " ".repeat(width.saturating_sub(text.chars().count()));
    out.push(' ');
    if right {
        out.push_str(&pad);
        out.push_str(text);
    } else {
        out.push_str(text);
        out.push_str(&pad);
    }
    out.push_str(" |");
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `, N warning(s)` when there are any.
fn warnings_suffix(warnings: usize) -> String {
    if warnings == 0 {
        String::new()
    } else {
        format!(", {}", plural(warnings as u64, "warning", "warnings"))
    }
}

/// ` (1.23 sec)` when timing is shown.
fn time_suffix(elapsed: Option<Duration>) -> String {
    elapsed.map(|d| format!(" ({})", elapsed_text(d))).unwrap_or_default()
}

/// The `mysql` client's duration form: `0.00 sec`, `1 min 2.50 sec`,
/// `1 hour 0 min 5.00 sec`.
pub fn elapsed_text(d: Duration) -> String {
    let total = d.as_secs();
    let hours = total / 3600;
    let mins = (total % 3600) / 60;
    let secs = (total % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let mut s = String::new();
    if hours > 0 {
        let _ = write!(s, "{} ", plural(hours, "hour", "hours"));
    }
    if hours > 0 || mins > 0 {
        let _ = write!(s, "{mins} min ");
    }
    let _ = write!(s, "{secs:.2} sec");
    s
}

/// The line after a result set: `3 rows in set (0.00 sec)` or
/// `Empty set (0.00 sec)`.
pub fn rows_status(rows: usize, warnings: usize, elapsed: Option<Duration>) -> String {
    let head =
        if rows == 0 { "Empty set".to_string() } else { format!("{} in set", plural(rows as u64, "row", "rows")) };
    format!("{head}{}{}\n", warnings_suffix(warnings), time_suffix(elapsed))
}

/// The line after a statement without rows:
/// `Query OK, 1 row affected, 1 warning (0.00 sec)`.
pub fn done_status(affected: u64, warnings: usize, elapsed: Option<Duration>) -> String {
    format!(
        "Query OK, {} affected{}{}\n",
        plural(affected, "row", "rows"),
        warnings_suffix(warnings),
        time_suffix(elapsed)
    )
}

/// The messages of a statement, one line each, as the `mysql` client
/// prints them: `Warning (Code 1265): Data truncated ...`, `Note (Code
/// 1051): Unknown table ...`.
pub fn warning_lines(messages: &[mizzle::Message]) -> String {
    let mut out = String::new();
    for m in messages {
        let _ = writeln!(out, "{} (Code {}): {}", m.level.as_str(), m.code, m.text);
    }
    out
}

/// An error as the `mysql` client prints it: `ERROR 1146 (42S02): ...`, and
/// in batch mode with the script line, `ERROR 1146 (42S02) at line 3: ...`.
pub fn error_line(e: &mizzle::Error, line: Option<usize>) -> String {
    match line {
        Some(n) => format!("ERROR {} ({}) at line {n}: {}\n", e.number(), e.sqlstate(), e.message),
        None => format!("{e}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(row: &[Option<&str>]) -> Vec<Cell> {
        row.iter().map(|c| c.map(str::to_string)).collect()
    }

    #[test]
    fn boxed_table_right_aligns_numbers_and_left_aligns_text() {
        let t = Table {
            headers: vec![Header::numeric("id"), Header::text("name")],
            rows: vec![cells(&[Some("1"), Some("one")]), cells(&[Some("100"), Some("a")])],
        };
        assert_eq!(
            t.boxed(),
            "+-----+------+\n\
             | id  | name |\n\
             +-----+------+\n\
             |   1 | one  |\n\
             | 100 | a    |\n\
             +-----+------+\n"
        );
    }

    #[test]
    fn null_is_shown_as_null_and_counts_toward_width() {
        let t = Table { headers: vec![Header::text("x"), Header::numeric("n")], rows: vec![cells(&[None, None])] };
        assert_eq!(t.boxed(), "+------+------+\n| x    | n    |\n+------+------+\n| NULL | NULL |\n+------+------+\n");
    }

    #[test]
    fn header_wider_than_values_sets_the_width() {
        let t = Table { headers: vec![Header::numeric("count(*)")], rows: vec![cells(&[Some("7")])] };
        assert_eq!(t.boxed(), "+----------+\n| count(*) |\n+----------+\n|        7 |\n+----------+\n");
    }

    #[test]
    fn multi_byte_text_is_padded_by_characters_not_bytes() {
        let t = Table {
            headers: vec![Header::text("name")],
            rows: vec![cells(&[Some("héllo")]), cells(&[Some("ab")]), cells(&[Some("日本")])],
        };
        let out = t.boxed();
        assert_eq!(out, "+-------+\n| name  |\n+-------+\n| héllo |\n| ab    |\n| 日本    |\n+-------+\n");
        // Every line has the same number of characters.
        let lens: Vec<usize> = out.lines().map(|l| l.chars().count()).collect();
        assert!(lens.iter().all(|&n| n == lens[0]), "{lens:?}");
    }

    #[test]
    fn multi_byte_header_is_measured_in_characters() {
        let t = Table { headers: vec![Header::text("größe")], rows: vec![cells(&[Some("x")])] };
        assert_eq!(t.boxed(), "+-------+\n| größe |\n+-------+\n| x     |\n+-------+\n");
    }

    #[test]
    fn empty_string_and_empty_header_keep_the_border_shape() {
        let t = Table { headers: vec![Header::text("")], rows: vec![cells(&[Some("")])] };
        assert_eq!(t.boxed(), "+--+\n|  |\n+--+\n|  |\n+--+\n");
    }

    #[test]
    fn empty_result_prints_no_table() {
        let t = Table { headers: vec![Header::text("a")], rows: vec![] };
        assert_eq!(t.boxed(), "");
        assert_eq!(t.vertical(), "");
    }

    #[test]
    fn vertical_output_right_aligns_names_and_numbers_rows() {
        let t = Table {
            headers: vec![Header::numeric("id"), Header::text("name")],
            rows: vec![cells(&[Some("1"), Some("one")]), cells(&[Some("2"), None])],
        };
        let stars = "*".repeat(27);
        assert_eq!(
            t.vertical(),
            format!("{stars} 1. row {stars}\n  id: 1\nname: one\n{stars} 2. row {stars}\n  id: 2\nname: NULL\n")
        );
    }

    #[test]
    fn cell_text_shows_null_numbers_and_text() {
        assert_eq!(cell_text(&Value::Null), None);
        assert_eq!(cell_text(&Value::Int(-5)).as_deref(), Some("-5"));
        assert_eq!(cell_text(&Value::UInt(18446744073709551615)).as_deref(), Some("18446744073709551615"));
        assert_eq!(cell_text(&Value::text("héllo")).as_deref(), Some("héllo"));
    }

    #[test]
    fn binary_value_that_is_utf8_is_shown_as_text() {
        assert_eq!(cell_text(&Value::bytes(b"abc")).as_deref(), Some("abc"));
    }

    #[test]
    fn binary_value_that_is_not_utf8_is_shown_as_hex() {
        assert_eq!(cell_text(&Value::bytes(&[0x00, 0xff, 0x1a])).as_deref(), Some("0x00FF1A"));
    }

    #[test]
    fn rows_status_uses_singular_plural_and_empty_set() {
        assert_eq!(rows_status(1, 0, None), "1 row in set\n");
        assert_eq!(rows_status(3, 0, None), "3 rows in set\n");
        assert_eq!(rows_status(0, 0, None), "Empty set\n");
        assert_eq!(rows_status(2, 1, Some(Duration::from_millis(1234))), "2 rows in set, 1 warning (1.23 sec)\n");
    }

    #[test]
    fn done_status_reports_affected_rows_and_warnings() {
        assert_eq!(done_status(0, 0, None), "Query OK, 0 rows affected\n");
        assert_eq!(done_status(1, 0, Some(Duration::ZERO)), "Query OK, 1 row affected (0.00 sec)\n");
        assert_eq!(done_status(5, 2, None), "Query OK, 5 rows affected, 2 warnings\n");
    }

    #[test]
    fn elapsed_text_adds_minutes_and_hours_when_long() {
        assert_eq!(elapsed_text(Duration::from_millis(50)), "0.05 sec");
        assert_eq!(elapsed_text(Duration::from_millis(62_500)), "1 min 2.50 sec");
        assert_eq!(elapsed_text(Duration::from_secs(3605)), "1 hour 0 min 5.00 sec");
    }

    #[test]
    fn warning_lines_name_code_and_message() {
        let m = |level, code, text: &str| mizzle::Message { level, code, text: text.into() };
        assert_eq!(
            warning_lines(&[
                m(mizzle::Level::Warning, 1265, "Data truncated for column 'a' at row 1"),
                m(mizzle::Level::Note, 1051, "Unknown table 'db.t'"),
            ]),
            "Warning (Code 1265): Data truncated for column 'a' at row 1\nNote (Code 1051): Unknown table 'db.t'\n"
        );
    }

    #[test]
    fn error_line_matches_the_mysql_client() {
        let e = mizzle::Error { code: mizzle::ErrorCode::NoSuchTable, message: "Table 'main.t' doesn't exist".into() };
        assert_eq!(error_line(&e, None), "ERROR 1146 (42S02): Table 'main.t' doesn't exist\n");
        assert_eq!(error_line(&e, Some(3)), "ERROR 1146 (42S02) at line 3: Table 'main.t' doesn't exist\n");
    }
}
