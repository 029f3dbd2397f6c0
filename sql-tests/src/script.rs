//! Parsing a test file into records, following `parse_file` of `slt_run.py`
//! line for line, plus mizzle's extensions.
//!
//! Invariants:
//! 1. Lines are split on `\n`, then a trailing `\r` and trailing whitespace
//!    (Python's `str.isspace`) are dropped; a line of whitespace is blank;
//!    a line starting with `#` is dropped wherever it is. Blank lines end a
//!    record. Tokens are split like Python's `str.split()`.
//! 2. `skipif`/`onlyif` (and our `connection`) lines open a record; a block
//!    of only such lines is no record at all.
//! 3. Every record keeps the positions of its lines in the file (`Span`) so
//!    that `--complete` can rewrite it in place.
//! 4. Bytes that are not UTF-8 become U+FFFD (Python keeps them as lone
//!    surrogates; neither is whitespace, a digit or a keyword, so parsing and
//!    counting agree).
//!
//! It does not execute anything, and never fails: whatever a line holds
//! becomes some record, possibly `Unknown`.

use crate::render;

/// A whole parsed file.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// The file's raw lines (split on `\n`, `\r` kept), for `--complete`.
    pub(crate) raw_lines: Vec<Vec<u8>>,
    pub(crate) records: Vec<Record>,
}

/// One record with the lines that control it.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// 1-based line number of the record's command line (after conditions).
    pub(crate) line: usize,
    pub(crate) conditions: Vec<Condition>,
    /// The `connection NAME` the record runs on; `None` is `default`.
    pub(crate) connection: Option<String>,
    /// `connection NAME user USER@HOST [PASSWORD]`: the account the
    /// connection logs in as when this record opens it.
    pub(crate) login: Option<crate::Login>,
    pub(crate) kind: RecordKind,
    pub(crate) span: Span,
}

/// Where a record's lines are, as 0-based indexes into `Script::raw_lines`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// The command line (`statement ok`, `query II rowsort`, ...).
    pub(crate) header: usize,
    /// The `----` line of a query, if it has one.
    pub(crate) separator: Option<usize>,
    /// The record's last non-comment line.
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    SkipIf(String),
    OnlyIf(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Statement {
        expect: StatementExpect,
        sql: String,
    },
    Query(Query),
    /// Our `query error [<pattern>]`: the SQL must fail.
    QueryError {
        pattern: ErrorPattern,
        sql: String,
    },
    /// Our `unblocked ok|error [<pattern>]|query <types> [<sort>]`: the
    /// outcome of the statement that `statement blocks` left waiting on
    /// this record's connection (a query form lists expected values after
    /// `----` and has no SQL of its own).
    Unblocked(Unblocked),
    /// `hash-threshold N`; a bad N is 0 (never hash), as in `slt_run.py`.
    HashThreshold(i64),
    Halt,
    /// Any other first word: one failure, and the file stops.
    Unknown(String),
}

/// What an `unblocked` record expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unblocked {
    Ok,
    Error(ErrorPattern),
    /// The rows (the query's `sql` is empty).
    Query(Query),
    /// Any other argument: the record fails.
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatementExpect {
    Ok,
    /// Our `statement blocks`: the statement must wait for a lock; it
    /// goes on in the background and an `unblocked` record on the same
    /// connection checks how it ended.
    Blocks,
    /// Our `statement count N`: checked like `ok` (the trait reports no
    /// affected-row count).
    Count,
    Error(ErrorPattern),
    /// Any other argument: the record fails without running.
    Invalid(String),
}

/// What an expected error must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorPattern {
    /// Bare `statement error`: any error.
    Any,
    /// A MySQL error number: the message starts with `ERROR <n> (`.
    Code(String),
    /// Anything else: the message contains this text.
    Contains(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) types: String,
    pub(crate) sort: String,
    pub(crate) label: String,
    pub(crate) sql: String,
    pub(crate) expected: Vec<String>,
}

impl Record {
    /// The SQL text the record runs (empty for other records).
    pub(crate) fn sql(&self) -> &str {
        match &self.kind {
            RecordKind::Statement { sql, .. } | RecordKind::QueryError { sql, .. } => sql,
            RecordKind::Query(q) => &q.sql,
            _ => "",
        }
    }

    /// The record's kind as `slt_run.py` names it in its JSON output.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self.kind {
            RecordKind::Statement { .. } => "statement",
            RecordKind::Query(_) | RecordKind::QueryError { .. } => "query",
            RecordKind::Unblocked(_) => "unblocked",
            RecordKind::HashThreshold(_) => "hash-threshold",
            RecordKind::Halt => "halt",
            RecordKind::Unknown(_) => "unknown",
        }
    }

    /// Statement and query records are the ones that pass, fail or skip.
    pub(crate) fn is_counted(&self) -> bool {
        matches!(
            self.kind,
            RecordKind::Statement { .. }
                | RecordKind::Query(_)
                | RecordKind::QueryError { .. }
                | RecordKind::Unblocked(_)
        )
    }

    /// `slt_run.py`'s `is_skipped`, for an engine with several labels:
    /// `skipif L` skips if L is one of them, `onlyif L` unless it is.
    /// `labels` must be lower case.
    pub(crate) fn is_skipped(&self, labels: &[String]) -> bool {
        self.conditions.iter().any(|c| match c {
            Condition::SkipIf(engine) => labels.contains(&engine.to_lowercase()),
            Condition::OnlyIf(engine) => !labels.contains(&engine.to_lowercase()),
        })
    }
}

impl Script {
    /// The statement and query records that did not run when a file stopped
    /// before record `from`: the unskipped ones up to an unskipped `halt`.
    pub(crate) fn count_unfinished(&self, from: usize, labels: &[String]) -> u64 {
        let mut n = 0;
        for rec in self.records.iter().skip(from) {
            if rec.is_skipped(labels) {
                continue;
            }
            if rec.kind == RecordKind::Halt {
                break;
            }
            if rec.is_counted() {
                n += 1;
            }
        }
        n
    }

    /// Every unskipped statement and query record, `halt` or not: what
    /// `slt_run.py` counts as failed when it cannot open the database.
    pub(crate) fn count_all(&self, labels: &[String]) -> u64 {
        let n = self.records.iter().filter(|r| r.is_counted() && !r.is_skipped(labels)).count();
        u64::try_from(n).expect("invariant: a record count fits in u64")
    }
}

/// A raw line after `slt_run.py`'s clean-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    Blank,
    Comment,
    Text(String),
}

/// Cleans one raw line (without its `\n`) as `parse_file` does.
pub(crate) fn classify(raw: &[u8]) -> Line {
    let text = String::from_utf8_lossy(raw);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    let text = text.trim_end_matches(render::is_py_space);
    if text.is_empty() {
        Line::Blank
    } else if text.starts_with('#') {
        Line::Comment
    } else {
        Line::Text(text.to_owned())
    }
}

/// Python's `str.split()`: runs of whitespace separate, no empty tokens.
pub(crate) fn tokens(line: &str) -> Vec<&str> {
    line.split(render::is_py_space).filter(|t| !t.is_empty()).collect()
}

/// The text after the first `n` tokens of `line`, trimmed.
fn rest_after_tokens(line: &str, n: usize) -> &str {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.trim_start_matches(render::is_py_space);
        let end = rest.find(render::is_py_space).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest.trim_matches(render::is_py_space)
}

fn error_pattern(text: &str) -> ErrorPattern {
    if text.is_empty() {
        ErrorPattern::Any
    } else if text.bytes().all(|b| b.is_ascii_digit()) {
        ErrorPattern::Code(text.to_owned())
    } else {
        ErrorPattern::Contains(text.to_owned())
    }
}

/// Parses a whole file's bytes.
pub(crate) fn parse(data: &[u8]) -> Script {
    let raw_lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let mut blocks: Vec<Vec<(usize, String)>> = Vec::new();
    let mut current = Vec::new();
    for (index, raw) in raw_lines.iter().enumerate() {
        match classify(raw) {
            Line::Comment => {}
            Line::Blank => {
                if !current.is_empty() {
                    blocks.push(std::mem::take(&mut current));
                }
            }
            Line::Text(text) => current.push((index, text)),
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    let records = blocks.iter().filter_map(|b| parse_block(b)).collect();
    Script { raw_lines, records }
}

fn parse_block(block: &[(usize, String)]) -> Option<Record> {
    let mut conditions = Vec::new();
    let mut connection = None;
    let mut login = None;
    let mut i = 0;
    while let Some((_, line)) = block.get(i) {
        let toks = tokens(line);
        let arg = toks.get(1).map_or(String::new(), |s| (*s).to_owned());
        match toks.first().copied() {
            Some("skipif") => conditions.push(Condition::SkipIf(arg)),
            Some("onlyif") => conditions.push(Condition::OnlyIf(arg)),
            Some("connection") => {
                connection = (!arg.is_empty()).then_some(arg);
                if toks.get(2) == Some(&"user") {
                    if let Some(spec) = toks.get(3) {
                        let (user, host) = spec.rsplit_once('@').unwrap_or((spec, "%"));
                        login = Some(crate::Login {
                            user: user.to_owned(),
                            host: host.to_owned(),
                            password: toks.get(4).map_or(String::new(), |p| (*p).to_owned()),
                        });
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }
    let (header, first) = block.get(i)?;
    let rest = &block[i + 1..];
    let end = block.last().map_or(*header, |(index, _)| *index);
    let mut separator = None;
    let toks = tokens(first);
    let word = |n: usize| toks.get(n).copied().unwrap_or("");
    let kind = match word(0) {
        "statement" => {
            let expect = match word(1) {
                "ok" => StatementExpect::Ok,
                "blocks" => StatementExpect::Blocks,
                "count" => StatementExpect::Count,
                "error" => StatementExpect::Error(error_pattern(rest_after_tokens(first, 2))),
                other => StatementExpect::Invalid(other.to_owned()),
            };
            let sql = join(rest);
            RecordKind::Statement { expect, sql }
        }
        "query" => {
            let sql_end = rest.iter().position(|(_, l)| l == "----");
            separator = sql_end.and_then(|j| rest.get(j).map(|(index, _)| *index));
            let sql_lines = &rest[..sql_end.unwrap_or(rest.len())];
            let expected = match sql_end {
                Some(j) => rest[j + 1..].iter().map(|(_, l)| l.clone()).collect(),
                None => Vec::new(),
            };
            if word(1) == "error" {
                let pattern = error_pattern(rest_after_tokens(first, 2));
                RecordKind::QueryError { pattern, sql: join(sql_lines) }
            } else {
                RecordKind::Query(Query {
                    types: word(1).to_owned(),
                    sort: toks.get(2).copied().unwrap_or("nosort").to_owned(),
                    label: word(3).to_owned(),
                    sql: join(sql_lines),
                    expected,
                })
            }
        }
        "unblocked" => RecordKind::Unblocked(match word(1) {
            "ok" => Unblocked::Ok,
            "error" => Unblocked::Error(error_pattern(rest_after_tokens(first, 2))),
            "query" => {
                let sql_end = rest.iter().position(|(_, l)| l == "----");
                separator = sql_end.and_then(|j| rest.get(j).map(|(index, _)| *index));
                let expected = match sql_end {
                    Some(j) => rest[j + 1..].iter().map(|(_, l)| l.clone()).collect(),
                    None => Vec::new(),
                };
                Unblocked::Query(Query {
                    types: word(2).to_owned(),
                    sort: toks.get(3).copied().unwrap_or("nosort").to_owned(),
                    label: word(4).to_owned(),
                    sql: String::new(),
                    expected,
                })
            }
            other => Unblocked::Invalid(other.to_owned()),
        }),
        "hash-threshold" => RecordKind::HashThreshold(render::parse_py_int(word(1)).unwrap_or(0)),
        "halt" => RecordKind::Halt,
        other => RecordKind::Unknown(other.to_owned()),
    };
    Some(Record {
        line: header + 1,
        conditions,
        connection,
        login,
        kind,
        span: Span { header: *header, separator, end },
    })
}

fn join(lines: &[(usize, String)]) -> String {
    lines.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<RecordKind> {
        parse(text.as_bytes()).records.into_iter().map(|r| r.kind).collect()
    }

    #[test]
    fn comments_are_dropped_inside_records_and_whitespace_lines_are_blank() {
        let s = parse(b"statement ok\r\n# note\nCREATE TABLE t(a INT)  \n \t\nstatement ok\nDROP TABLE t\n");
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0].sql(), "CREATE TABLE t(a INT)");
        assert_eq!(s.records[0].line, 1);
        assert_eq!(s.records[0].span, Span { header: 0, separator: None, end: 2 });
        assert_eq!(s.records[1].line, 5);
    }

    #[test]
    fn indented_hash_line_is_not_a_comment() {
        let s = parse(b"statement ok\nSELECT 1\n  # not a comment\n");
        assert_eq!(s.records[0].sql(), "SELECT 1\n  # not a comment");
    }

    #[test]
    fn query_header_defaults_to_nosort_without_label() {
        let s = parse(b"query IT\nSELECT 1, 'a'\n----\n1\na\n");
        let RecordKind::Query(q) = &s.records[0].kind else { panic!("not a query") };
        assert_eq!((q.types.as_str(), q.sort.as_str(), q.label.as_str()), ("IT", "nosort", ""));
        assert_eq!(q.expected, ["1", "a"]);
        assert_eq!(s.records[0].span.separator, Some(2));
    }

    #[test]
    fn query_without_separator_expects_nothing() {
        let s = parse(b"query I rowsort lbl\nSELECT 1\n");
        let RecordKind::Query(q) = &s.records[0].kind else { panic!("not a query") };
        assert!(q.expected.is_empty());
        assert_eq!(q.label, "lbl");
        assert_eq!(s.records[0].span.separator, None);
    }

    #[test]
    fn condition_engine_is_the_second_token_and_comments_after_it_are_ignored() {
        let s = parse(b"onlyif mysql # aggregate syntax:\nskipif MSSQL\nconnection c2\nstatement ok\nSELECT 1\n");
        let r = &s.records[0];
        assert_eq!(r.conditions, [Condition::OnlyIf("mysql".into()), Condition::SkipIf("MSSQL".into())]);
        assert_eq!(r.connection.as_deref(), Some("c2"));
        assert_eq!(r.line, 4);
        assert!(!r.is_skipped(&["mysql".into()]));
        assert!(r.is_skipped(&["mysql".into(), "mssql".into()]));
        assert!(r.is_skipped(&["sqlite".into()]));
    }

    #[test]
    fn block_of_only_conditions_is_no_record() {
        assert!(kinds("skipif mysql\nonlyif sqlite\n\nhalt\n") == [RecordKind::Halt]);
    }

    #[test]
    fn statement_arguments_and_error_patterns_are_recognised() {
        let got = kinds(
            "statement error\nX\n\nstatement error 1062\nX\n\nstatement error Duplicate  entry\nX\n\n\
             statement count 3\nX\n\nstatement maybe\nX\n\nquery error 1146\nSELECT 1\n",
        );
        let sql = String::from("X");
        assert_eq!(
            got,
            [
                RecordKind::Statement { expect: StatementExpect::Error(ErrorPattern::Any), sql: sql.clone() },
                RecordKind::Statement {
                    expect: StatementExpect::Error(ErrorPattern::Code("1062".into())),
                    sql: sql.clone()
                },
                RecordKind::Statement {
                    expect: StatementExpect::Error(ErrorPattern::Contains("Duplicate  entry".into())),
                    sql: sql.clone()
                },
                RecordKind::Statement { expect: StatementExpect::Count, sql: sql.clone() },
                RecordKind::Statement { expect: StatementExpect::Invalid("maybe".into()), sql },
                RecordKind::QueryError { pattern: ErrorPattern::Code("1146".into()), sql: "SELECT 1".into() },
            ]
        );
    }

    #[test]
    fn blocks_and_unblocked_records_are_recognised() {
        let got = kinds(
            "statement blocks\nUPDATE t SET a = 1\n\nunblocked ok\n\nunblocked error 1213\n\n\
             unblocked query II rowsort\n----\n1\n2\n\nunblocked maybe\n",
        );
        assert_eq!(
            got,
            [
                RecordKind::Statement { expect: StatementExpect::Blocks, sql: "UPDATE t SET a = 1".into() },
                RecordKind::Unblocked(Unblocked::Ok),
                RecordKind::Unblocked(Unblocked::Error(ErrorPattern::Code("1213".into()))),
                RecordKind::Unblocked(Unblocked::Query(Query {
                    types: "II".into(),
                    sort: "rowsort".into(),
                    label: String::new(),
                    sql: String::new(),
                    expected: vec!["1".into(), "2".into()],
                })),
                RecordKind::Unblocked(Unblocked::Invalid("maybe".into())),
            ]
        );
    }

    #[test]
    fn hash_threshold_argument_is_parsed_like_python_int() {
        assert_eq!(
            kinds("hash-threshold 20\n\nhash-threshold x\n\nhash-threshold\n\nhash-threshold 1_0\n"),
            [
                RecordKind::HashThreshold(20),
                RecordKind::HashThreshold(0),
                RecordKind::HashThreshold(0),
                RecordKind::HashThreshold(10)
            ]
        );
    }

    #[test]
    fn unknown_first_word_is_an_unknown_record() {
        assert_eq!(kinds("frobnicate 3\nX\n"), [RecordKind::Unknown("frobnicate".into())]);
    }

    #[test]
    fn unfinished_count_stops_at_unskipped_halt_only() {
        let s = parse(
            b"statement ok\nA\n\nonlyif mssql\nhalt\n\nquery I\nB\n\nskipif mysql\nstatement ok\nC\n\n\
              halt\n\nstatement ok\nD\n",
        );
        let labels = ["mysql".to_owned()];
        assert_eq!(s.count_unfinished(0, &labels), 2);
        assert_eq!(s.count_unfinished(2, &labels), 1);
        assert_eq!(s.count_all(&labels), 3);
    }
}
