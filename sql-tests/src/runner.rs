//! Running one file's records in this process, following `run_file` and
//! `run_query` of `slt_run.py`, and tallying the outcomes.
//!
//! Invariants:
//! 1. Records run in order; each statement or query record yields exactly
//!    one outcome (passed, failed or skipped), reported as it happens.
//!    Unskipped `halt` and unknown records end the run.
//! 2. A query's checks come in `slt_run.py`'s order: type string (before
//!    running), error, column count, sort mode, values or hash, then label.
//!    A label registers the md5 of the first passing (or skipped) query
//!    carrying it; later ones must agree.
//! 3. Connections are opened on first use, by name, on the file's database,
//!    and closed before the run returns.
//! 4. `statement blocks` passes only once its statement waits for a lock
//!    (the database's count of lock waits grew; an engine that does not
//!    count: still running after [`ASSUME_BLOCKED`]) and fails if it ends
//!    first; the statement goes on in a thread of its own with its
//!    connection. The next `unblocked` record on that connection waits for
//!    it to end (at most [`UNBLOCK_TIMEOUT`]) and checks its outcome; any
//!    other record on the connection first waits for it and ignores it.
//!
//! It does not isolate the engine: a panic or a hang here is the caller's
//! (see `supervisor`, which runs this in a worker process).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::complete::{self, Actual};
use crate::render::{md5_values, render};
use crate::script::{self, ErrorPattern, Query, Record, RecordKind, Script, StatementExpect, Unblocked};
use crate::{Backend, Connection, Database, ResultSet};

/// `slt_run.py`'s default hash threshold.
pub(crate) const DEFAULT_HASH_THRESHOLD: i64 = 8;

/// The connection of records without a `connection` line.
const DEFAULT_CONNECTION: &str = "default";

/// How long `statement blocks` waits for its statement to begin waiting
/// for a lock (or, when the engine does not count lock waits, how long it
/// must still be running to count as waiting).
pub(crate) const BLOCK_DETECTION: Duration = Duration::from_secs(10);

/// Without a lock-wait count: a statement still running after this long
/// counts as waiting.
pub(crate) const ASSUME_BLOCKED: Duration = Duration::from_millis(300);

/// How long `unblocked` (or any record on the connection) waits for a
/// blocked statement to end.
pub(crate) const UNBLOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// How to run a file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Engine labels for `skipif`/`onlyif`, lower case.
    pub labels: Vec<String>,
    /// Rewrite the file with the actual results of its failing records.
    pub complete: bool,
    /// Keep at most this many failure details (all are counted).
    pub max_failures: Option<usize>,
}

/// The outcome of one statement or query record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Passed,
    Failed(String),
    Skipped,
}

/// How a file's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Ran to the end (or to an unknown record).
    Ok,
    /// Stopped at an unskipped `halt`.
    Halt,
    /// The worker was killed at the timeout; the rest counts as failed.
    Timeout,
    /// The worker died; the rest counts as failed.
    Crash,
    /// `Backend::open` failed; every unskipped record counts as failed.
    ConnectError,
    /// The file could not be read; counts as one failure.
    Unreadable,
}

impl FileStatus {
    /// The status word `slt_run.py` uses in its JSON and summary lines.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ok => "ok",
            FileStatus::Halt => "halt",
            FileStatus::Timeout => "timeout",
            FileStatus::Crash => "crash",
            FileStatus::ConnectError => "connect-error",
            FileStatus::Unreadable => "error",
        }
    }

    pub(crate) fn from_word(word: &str) -> Option<FileStatus> {
        [
            FileStatus::Ok,
            FileStatus::Halt,
            FileStatus::Timeout,
            FileStatus::Crash,
            FileStatus::ConnectError,
            FileStatus::Unreadable,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }
}

/// One failing record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// 1-based line of the record's command line.
    pub line: usize,
    /// `statement`, `query` or `unknown`.
    pub kind: String,
    pub message: String,
    pub sql: String,
}

/// The result of one file.
#[derive(Debug, Clone)]
pub struct FileResult {
    pub path: PathBuf,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub status: FileStatus,
    /// A file-level problem: why the file stopped early (timeout, crash,
    /// no database, unreadable) or why `--complete` could not rewrite it.
    pub error: Option<String>,
    pub seconds: f64,
    /// The first failures (see `RunOptions::max_failures`).
    pub failures: Vec<Failure>,
}

impl FileResult {
    pub(crate) fn new(path: &Path) -> FileResult {
        FileResult {
            path: path.to_path_buf(),
            passed: 0,
            failed: 0,
            skipped: 0,
            status: FileStatus::Ok,
            error: None,
            seconds: 0.0,
            failures: Vec::new(),
        }
    }

    /// PASS as `slt_run.py` prints it: no failure and a normal end.
    pub fn is_pass(&self) -> bool {
        self.failed == 0 && matches!(self.status, FileStatus::Ok | FileStatus::Halt)
    }

    /// Counts one record's outcome.
    pub(crate) fn tally(&mut self, record: &Record, outcome: &RecordOutcome, max: Option<usize>) {
        match outcome {
            RecordOutcome::Passed => self.passed += 1,
            RecordOutcome::Skipped => self.skipped += 1,
            RecordOutcome::Failed(message) => {
                self.failed += 1;
                self.note_failure(record.line, record.kind_name(), message, record.sql(), max);
            }
        }
    }

    pub(crate) fn note_failure(&mut self, line: usize, kind: &str, message: &str, sql: &str, max: Option<usize>) {
        if max.is_none_or(|m| self.failures.len() < m) {
            self.failures.push(Failure {
                line,
                kind: kind.to_owned(),
                message: message.to_owned(),
                sql: sql.to_owned(),
            });
        }
    }

    /// A file that could not be read: one failure, as in `slt_run.py`.
    pub(crate) fn unreadable(path: &Path, error: &str) -> FileResult {
        let mut result = FileResult::new(path);
        result.status = FileStatus::Unreadable;
        result.failed = 1;
        result.error = Some(error.to_owned());
        result
    }
}

/// Opens a fresh database from `backend` and runs the file in this process.
pub fn run_path(backend: &dyn Backend, path: &Path, options: &RunOptions) -> FileResult {
    let started = Instant::now();
    let script = match std::fs::read(path) {
        Ok(data) => script::parse(&data),
        Err(e) => return FileResult::unreadable(path, &format!("cannot read {}: {e}", path.display())),
    };
    let mut result = match backend.open() {
        Ok(db) => run_script(db.as_ref(), path, &script, options, &mut |_, _| {}),
        Err(e) => connect_error(path, &script, &options.labels, &e),
    };
    result.seconds = started.elapsed().as_secs_f64();
    result
}

/// Runs a file in this process against `db`, which should be fresh.
pub fn run_file(db: &dyn Database, path: &Path, options: &RunOptions) -> FileResult {
    let started = Instant::now();
    let mut result = match std::fs::read(path) {
        Ok(data) => run_script(db, path, &script::parse(&data), options, &mut |_, _| {}),
        Err(e) => FileResult::unreadable(path, &format!("cannot read {}: {e}", path.display())),
    };
    result.seconds = started.elapsed().as_secs_f64();
    result
}

/// The result of a file whose database could not be opened.
pub(crate) fn connect_error(path: &Path, script: &Script, labels: &[String], error: &str) -> FileResult {
    let mut result = FileResult::new(path);
    result.status = FileStatus::ConnectError;
    result.failed = script.count_all(labels);
    result.error = Some(format!("cannot open a database: {error}"));
    result
}

/// Runs a parsed file, telling `observer` each record's index and outcome as
/// it happens, then rewrites the file if `options.complete`.
pub(crate) fn run_script(
    db: &dyn Database,
    path: &Path,
    script: &Script,
    options: &RunOptions,
    observer: &mut dyn FnMut(usize, &RecordOutcome),
) -> FileResult {
    let mut result = FileResult::new(path);
    let mut actuals = HashMap::new();
    let status = {
        let mut session = Session { db, connections: HashMap::new(), blocked: HashMap::new() };
        let mut run = Run {
            hash_threshold: DEFAULT_HASH_THRESHOLD,
            labels: HashMap::new(),
            complete: options.complete,
            actuals: &mut actuals,
        };
        run.records(script, &mut session, &options.labels, &mut |index, outcome| {
            result.tally(&script.records[index], outcome, options.max_failures);
            observer(index, outcome);
        })
    };
    result.status = status;
    if options.complete {
        if let Err(e) = complete::rewrite(path, script, &actuals) {
            result.error = Some(e);
        }
    }
    result
}

/// A statement's outcome, with the connection it ran on.
type Finished = (Box<dyn Connection>, Result<Option<ResultSet>, String>);

/// The open connections of one file's database.
struct Session<'a> {
    db: &'a dyn Database,
    connections: HashMap<String, Box<dyn Connection>>,
    /// Connections whose statement `statement blocks` left running.
    blocked: HashMap<String, mpsc::Receiver<Finished>>,
}

impl Session<'_> {
    fn name(record: &Record) -> String {
        record.connection.as_deref().unwrap_or(DEFAULT_CONNECTION).to_owned()
    }

    /// The connection `name`, opened on first use; a blocked statement on
    /// it is waited for first and its outcome dropped.
    fn connection(&mut self, name: &str, login: Option<&crate::Login>) -> Result<Box<dyn Connection>, String> {
        if let Some(rx) = self.blocked.remove(name) {
            let (c, _) = rx
                .recv_timeout(UNBLOCK_TIMEOUT)
                .map_err(|_| format!("connection '{name}' is still blocked after {} s", UNBLOCK_TIMEOUT.as_secs()))?;
            return Ok(c);
        }
        match self.connections.remove(name) {
            Some(c) => Ok(c),
            None => match login {
                Some(l) => self.db.connect_as(l),
                None => self.db.connect(),
            }
            .map_err(|m| format!("cannot connect '{name}': {m}")),
        }
    }

    fn run(&mut self, record: &Record, sql: &str) -> Result<Option<ResultSet>, String> {
        let name = Session::name(record);
        let mut connection = self.connection(&name, record.login.as_ref())?;
        let r = connection.run(sql);
        self.connections.insert(name, connection);
        r
    }

    /// `statement blocks`: runs `sql` in the background; `Ok` once it
    /// waits for a lock, `Err` (with the connection back) if it ended
    /// first (invariant 4).
    fn run_blocking(&mut self, record: &Record, sql: &str) -> Result<(), String> {
        let name = Session::name(record);
        let mut connection = self.connection(&name, record.login.as_ref())?;
        let before = self.db.lock_waits_begun();
        let (tx, rx) = mpsc::channel::<Finished>();
        let sql = sql.to_owned();
        std::thread::spawn(move || {
            let r = connection.run(&sql);
            let _ = tx.send((connection, r));
        });
        let started = Instant::now();
        loop {
            match rx.try_recv() {
                Ok((c, r)) => {
                    self.connections.insert(name, c);
                    return Err(match r {
                        Ok(_) => "statement did not block: it succeeded at once".to_owned(),
                        Err(m) => format!("statement did not block: it failed at once: {m}"),
                    });
                }
                Err(mpsc::TryRecvError::Disconnected) => return Err("the statement's thread died".to_owned()),
                Err(mpsc::TryRecvError::Empty) => {}
            }
            let waiting = match (before, self.db.lock_waits_begun()) {
                (Some(b), Some(n)) => n > b,
                _ => started.elapsed() >= ASSUME_BLOCKED,
            };
            if waiting {
                self.blocked.insert(name, rx);
                return Ok(());
            }
            if started.elapsed() >= BLOCK_DETECTION {
                self.blocked.insert(name, rx);
                return Err(format!(
                    "statement neither ended nor waited for a lock within {} s",
                    BLOCK_DETECTION.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// `unblocked`: the outcome of the connection's blocked statement.
    fn unblocked(&mut self, record: &Record) -> Result<Result<Option<ResultSet>, String>, String> {
        let name = Session::name(record);
        let rx = self.blocked.remove(&name).ok_or_else(|| format!("no blocked statement on connection '{name}'"))?;
        let (c, r) = rx
            .recv_timeout(UNBLOCK_TIMEOUT)
            .map_err(|_| format!("the blocked statement did not end within {} s", UNBLOCK_TIMEOUT.as_secs()))?;
        self.connections.insert(name, c);
        Ok(r)
    }
}

/// The state a file's run carries from record to record.
struct Run<'a> {
    hash_threshold: i64,
    /// label -> md5 of the first result carrying it.
    labels: HashMap<String, String>,
    complete: bool,
    /// Record index -> actual result, for failing records under `--complete`.
    actuals: &'a mut HashMap<usize, Actual>,
}

/// A query's check result: `Err(message)` on failure, with the md5 of the
/// values when `slt_run.py` computes one.
struct Checked {
    verdict: Result<(), String>,
    digest: Option<String>,
}

impl Run<'_> {
    fn records(
        &mut self,
        script: &Script,
        session: &mut Session<'_>,
        labels: &[String],
        report: &mut dyn FnMut(usize, &RecordOutcome),
    ) -> FileStatus {
        for (index, record) in script.records.iter().enumerate() {
            if record.is_skipped(labels) {
                if record.is_counted() {
                    if let RecordKind::Query(q) = &record.kind {
                        if !q.label.is_empty() {
                            // An expected-vs-expected mismatch is no engine failure.
                            self.labels.entry(q.label.clone()).or_insert_with(|| expected_digest(q));
                        }
                    }
                    report(index, &RecordOutcome::Skipped);
                }
                continue;
            }
            let outcome = match &record.kind {
                RecordKind::Halt => return FileStatus::Halt,
                RecordKind::HashThreshold(n) => {
                    self.hash_threshold = *n;
                    continue;
                }
                RecordKind::Unknown(word) => {
                    report(index, &RecordOutcome::Failed(format!("unknown record type '{word}'")));
                    return FileStatus::Ok;
                }
                RecordKind::Statement { expect, sql } => self.statement(index, record, expect, sql, session),
                RecordKind::QueryError { pattern, sql } => self.query_error(index, record, pattern, sql, session),
                RecordKind::Query(query) => self.query(index, record, query, session),
                RecordKind::Unblocked(expect) => self.unblocked(record, expect, session),
            };
            report(index, &outcome);
        }
        FileStatus::Ok
    }

    fn statement(
        &mut self,
        index: usize,
        record: &Record,
        expect: &StatementExpect,
        sql: &str,
        session: &mut Session<'_>,
    ) -> RecordOutcome {
        let pattern = match expect {
            StatementExpect::Invalid(_) => {
                return RecordOutcome::Failed("statement argument should be 'ok' or 'error'".to_owned())
            }
            StatementExpect::Blocks => {
                return match session.run_blocking(record, sql) {
                    Ok(()) => RecordOutcome::Passed,
                    Err(message) => RecordOutcome::Failed(message),
                }
            }
            StatementExpect::Ok | StatementExpect::Count => None,
            StatementExpect::Error(pattern) => Some(pattern),
        };
        let result = session.run(record, sql);
        let verdict = match (&result, pattern) {
            (Ok(_), None) => Ok(()),
            (Err(message), None) => Err(format!("statement failed: {message}")),
            (Ok(_), Some(_)) => Err("statement succeeded but error was expected".to_owned()),
            (Err(message), Some(pattern)) => check_error(pattern, message),
        };
        self.finish(index, verdict, || Actual::Statement(result.map(|_| ())))
    }

    /// An `unblocked` record; `--complete` leaves it as it is.
    fn unblocked(&mut self, record: &Record, expect: &Unblocked, session: &mut Session<'_>) -> RecordOutcome {
        if let Unblocked::Invalid(word) = expect {
            return RecordOutcome::Failed(format!(
                "unblocked argument should be 'ok', 'error' or 'query', not '{word}'"
            ));
        }
        if let Unblocked::Query(q) = expect {
            if q.types.is_empty() || q.types.chars().any(|c| !matches!(c, 'I' | 'T' | 'R')) {
                return RecordOutcome::Failed(format!("bad type string '{}'", q.types));
            }
        }
        let result = match session.unblocked(record) {
            Ok(r) => r,
            Err(message) => return RecordOutcome::Failed(message),
        };
        let verdict = match (expect, &result) {
            (Unblocked::Ok, Ok(_)) => Ok(()),
            (Unblocked::Ok, Err(message)) => Err(format!("blocked statement failed: {message}")),
            (Unblocked::Error(_), Ok(_)) => Err("blocked statement succeeded but error was expected".to_owned()),
            (Unblocked::Error(pattern), Err(message)) => check_error(pattern, message),
            (Unblocked::Query(_), Err(message)) => Err(format!("blocked query failed: {message}")),
            (Unblocked::Query(q), Ok(rows)) => check_rows(q, rows.as_ref(), self.hash_threshold).verdict,
            (Unblocked::Invalid(_), _) => Err("invalid".to_owned()),
        };
        match verdict {
            Ok(()) => RecordOutcome::Passed,
            Err(message) => RecordOutcome::Failed(message),
        }
    }

    fn query_error(
        &mut self,
        index: usize,
        record: &Record,
        pattern: &ErrorPattern,
        sql: &str,
        session: &mut Session<'_>,
    ) -> RecordOutcome {
        let result = session.run(record, sql);
        let verdict = match &result {
            Ok(_) => Err("query succeeded but an error was expected".to_owned()),
            Err(message) => check_error(pattern, message),
        };
        let threshold = self.hash_threshold;
        self.finish(index, verdict, || Actual::query(result, "", "rowsort", threshold))
    }

    fn query(&mut self, index: usize, record: &Record, query: &Query, session: &mut Session<'_>) -> RecordOutcome {
        if query.types.is_empty() || query.types.chars().any(|c| !matches!(c, 'I' | 'T' | 'R')) {
            return RecordOutcome::Failed(format!("bad type string '{}'", query.types));
        }
        let result = session.run(record, &query.sql);
        let Checked { mut verdict, digest } = match &result {
            Err(message) => Checked { verdict: Err(format!("query failed: {message}")), digest: None },
            Ok(rows) => check_rows(query, rows.as_ref(), self.hash_threshold),
        };
        if verdict.is_ok() && !query.label.is_empty() {
            let digest = digest.expect("invariant: a labeled query's digest is computed");
            let first = self.labels.entry(query.label.clone()).or_insert_with(|| digest.clone());
            if *first != digest {
                verdict = Err(format!("labeled result [{}] does not agree with previous values", query.label));
            }
        }
        let threshold = self.hash_threshold;
        self.finish(index, verdict, || Actual::query(result, &query.types, &query.sort, threshold))
    }

    /// Turns a verdict into an outcome, keeping the actual result of a
    /// failure for `--complete`.
    fn finish(&mut self, index: usize, verdict: Result<(), String>, actual: impl FnOnce() -> Actual) -> RecordOutcome {
        match verdict {
            Ok(()) => RecordOutcome::Passed,
            Err(message) => {
                if self.complete {
                    self.actuals.insert(index, actual());
                }
                RecordOutcome::Failed(message)
            }
        }
    }
}

/// Does an error message match what `statement error`/`query error` asked?
fn check_error(pattern: &ErrorPattern, message: &str) -> Result<(), String> {
    let matches = match pattern {
        ErrorPattern::Any => true,
        ErrorPattern::Code(code) => message.starts_with(&format!("ERROR {code} (")),
        ErrorPattern::Contains(text) => message.contains(text.as_str()),
    };
    if matches {
        Ok(())
    } else {
        let wanted = match pattern {
            ErrorPattern::Any => String::new(),
            ErrorPattern::Code(code) => format!("error {code}"),
            ErrorPattern::Contains(text) => format!("an error containing [{text}]"),
        };
        Err(format!("expected {wanted} but got: {message}"))
    }
}

/// Renders a result's values in the query's sort order, or says why not.
pub(crate) fn sorted_values(rows: &[Vec<crate::Cell>], types: &str, sort: &str) -> Result<Vec<String>, String> {
    let render_row = |row: &Vec<crate::Cell>| -> Vec<String> {
        row.iter().zip(types.chars()).map(|(cell, ty)| render(cell.as_deref(), ty)).collect()
    };
    match sort {
        "rowsort" => {
            let mut rendered: Vec<Vec<String>> = rows.iter().map(render_row).collect();
            rendered.sort();
            Ok(rendered.into_iter().flatten().collect())
        }
        "nosort" | "valuesort" => {
            let mut values: Vec<String> = rows.iter().flat_map(render_row).collect();
            if sort == "valuesort" {
                values.sort();
            }
            Ok(values)
        }
        other => Err(format!("unknown sort method '{other}'")),
    }
}

/// Whether `n` values are shown as a hash line.
pub(crate) fn hashes(threshold: i64, n: usize) -> bool {
    threshold > 0 && i64::try_from(n).is_ok_and(|n| n > threshold)
}

/// `run_query` after the SQL ran: column count, sorting, values or hash.
fn check_rows(query: &Query, rows: Option<&ResultSet>, threshold: i64) -> Checked {
    let fail = |message: String| Checked { verdict: Err(message), digest: None };
    let width = query.types.chars().count();
    let Some(rows) = rows.filter(|rs| rs.columns == width) else {
        let got = rows.map_or("None".to_owned(), |rs| rs.columns.to_string());
        return fail(format!("wrong number of result columns: expected {width} but got {got}"));
    };
    let values = match sorted_values(&rows.rows, &query.types, &query.sort) {
        Ok(values) => values,
        Err(message) => return fail(message),
    };
    let n = values.len();
    let hashed = hashes(threshold, n);
    let digest = (hashed || !query.label.is_empty()).then(|| md5_values(&values));
    let verdict = if hashed {
        let got = format!("{n} values hashing to {}", digest.as_deref().unwrap_or_default());
        let expected = query.expected.first().map_or("", String::as_str);
        if got != expected || query.expected.len() > 1 {
            Err(format!("wrong result hash: expected [{expected}] got [{got}]"))
        } else {
            Ok(())
        }
    } else if values == query.expected {
        Ok(())
    } else {
        let mismatch = query.expected.iter().zip(&values).position(|(e, g)| e != g);
        Err(match mismatch {
            Some(i) => format!(
                "wrong result at value {}: expected [{}] got [{}] ({} values expected, {n} got)",
                i + 1,
                query.expected[i],
                values[i],
                query.expected.len()
            ),
            None => format!("wrong number of values: expected {} got {n}", query.expected.len()),
        })
    };
    Checked { verdict, digest }
}

/// The md5 a skipped labeled query registers: its hash line's, or that of
/// its expected values.
fn expected_digest(query: &Query) -> String {
    if let Some(first) = query.expected.first() {
        if let Some((count, hash)) = first.split_once(" values hashing to ") {
            let count_ok = !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit());
            let hash_ok = hash.len() == 32 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if count_ok && hash_ok {
                return hash.to_owned();
            }
        }
    }
    md5_values(&query.expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(types: &str, sort: &str, label: &str, expected: &[&str]) -> Query {
        Query {
            types: types.into(),
            sort: sort.into(),
            label: label.into(),
            sql: String::new(),
            expected: expected.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn cells(rows: &[&[&str]]) -> Vec<Vec<crate::Cell>> {
        rows.iter().map(|r| r.iter().map(|v| Some(v.as_bytes().to_vec())).collect()).collect()
    }

    #[test]
    fn rowsort_compares_rendered_strings_like_python_lists() {
        let rows = cells(&[&["9", "b"], &["10", "a"], &["9", "a"]]);
        assert_eq!(sorted_values(&rows, "IT", "rowsort").unwrap(), ["10", "a", "9", "a", "9", "b"]);
        assert_eq!(sorted_values(&rows, "IT", "valuesort").unwrap(), ["10", "9", "9", "a", "a", "b"]);
        assert_eq!(sorted_values(&rows, "IT", "nosort").unwrap(), ["9", "b", "10", "a", "9", "a"]);
        assert!(sorted_values(&rows, "IT", "sorted").is_err());
    }

    #[test]
    fn hash_threshold_zero_or_negative_never_hashes() {
        assert!(!hashes(0, 1000) && !hashes(-1, 1000) && !hashes(8, 8));
        assert!(hashes(8, 9));
    }

    #[test]
    fn expected_digest_reads_hash_lines_and_hashes_plain_values() {
        let hashed = query("I", "nosort", "l", &["9 values hashing to 0123456789abcdef0123456789abcdef"]);
        assert_eq!(expected_digest(&hashed), "0123456789abcdef0123456789abcdef");
        let plain = query("I", "nosort", "l", &["1", "2", "3"]);
        assert_eq!(expected_digest(&plain), "c0710d6b4f15dfa88f600b0e6b624077");
    }

    #[test]
    fn result_without_columns_reports_none_like_python() {
        let checked = check_rows(&query("I", "nosort", "", &[]), None, 8);
        assert_eq!(checked.verdict.unwrap_err(), "wrong number of result columns: expected 1 but got None");
    }

    #[test]
    fn error_number_pattern_needs_the_mysql_client_prefix() {
        let code = ErrorPattern::Code("1062".into());
        assert!(check_error(&code, "ERROR 1062 (23000): Duplicate entry").is_ok());
        assert!(check_error(&code, "ERROR 10620 (23000): x").is_err());
        assert!(check_error(&code, "error 1062").is_err());
        let text = ErrorPattern::Contains("Duplicate".into());
        assert!(check_error(&text, "ERROR 1062 (23000): Duplicate entry").is_ok());
        assert!(check_error(&ErrorPattern::Any, "anything").is_ok());
    }
}
