//! The embedded anchor workload (W1–W6 of `shared/bench/WORKLOAD.md`) as a
//! conforming program for two engines: mizzle's embedded API and SQLite
//! through rusqlite (`journal_mode=WAL`, `synchronous=FULL`).
//!
//! Invariants:
//! 1. Every statement is looked up by name in `workload.sql`, read at run
//!    time, and handed to the engine unchanged; the data comes from
//!    `mizzle_bench::data`.
//! 2. Output: first `# engine=<e> version=<v> ...`, then one line per step,
//!    `<id> <name> ops= secs= ops_per_s= p50_us= p99_us= max_us= [extras]`,
//!    in the specified order W1, W1b, W2, W3a, W3b, W5a, W5b, W4, W6, W6n, W6r.
//! 3. A failed check (wrong row count or length) prints the step with
//!    `check_failed=` and aborts with a non-zero exit. Any other failure, such
//!    as a statement the engine rejects, prints `error=` as the step's last
//!    key (its value runs to the end of the line) and the program goes on.
//! 4. A step the engine cannot run truthfully (durable commits on an
//!    in-memory engine) prints `skipped=<reason>` and no numbers.
//!
//! It does not compare engines: `benches/compare.sh` runs two programs
//! alternately and divides their `ops_per_s`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, ValueEnum};
use mizzle_bench::catalogue::Catalogue;
use mizzle_bench::data::{self, to_i64, SbtestGen};
use mizzle_bench::rng::SplitMix64;

/// With the `mimalloc` feature the program allocates through mimalloc, as
/// mizzled does (the Rust side only: SQLite's C code calls malloc). Off by
/// default: the figures of record use the system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Rust allocator this build uses, for the output's first line.
const ALLOCATOR_NAME: &str = if cfg!(feature = "mimalloc") { "mimalloc" } else { "system" };

// ---------------------------------------------------------------------------
// Arguments and configuration

/// Runs the embedded anchor workload W1–W6 on one engine.
#[derive(Parser, Debug)]
#[command(name = "workload")]
struct Args {
    /// Engine under test.
    #[arg(long, value_enum)]
    engine: EngineKind,
    /// Parent of the fresh database directory (default: the temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rows in sbtest1 (N).
    #[arg(long)]
    rows: Option<u64>,
    /// Point selects in W2.
    #[arg(long)]
    point_ops: Option<u64>,
    /// Range selects in W3a and in W3b.
    #[arg(long)]
    range_ops: Option<u64>,
    /// Commits in W4.
    #[arg(long)]
    durable_commits: Option<u64>,
    /// Repetitions of the W5a and W5b queries.
    #[arg(long)]
    agg_reps: Option<u64>,
    /// Rows in each join table (n).
    #[arg(long)]
    join_rows: Option<u64>,
    /// Seconds of each concurrent step (W6, W6n, W6r).
    #[arg(long)]
    conc_secs: Option<f64>,
    /// Threads of the concurrent steps.
    #[arg(long)]
    threads: Option<usize>,
    /// 100k rows and everything scaled down, for smoke tests.
    #[arg(long)]
    quick: bool,
    /// Keep the database directory at the end.
    #[arg(long)]
    keep: bool,
    /// Stop after this step (e.g. `W1`, to measure peak memory during the
    /// load with `/usr/bin/time -v`); the output then lists only the steps
    /// run.
    #[arg(long, value_name = "ID")]
    stop_after: Option<String>,
    /// The statement catalogue (default: `../shared/bench/workload.sql`
    /// relative to the repository root).
    #[arg(long)]
    workload_sql: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineKind {
    /// mizzle on its default on-disk engine (`disk`).
    Mizzle,
    /// mizzle on its in-memory engine (nothing durable; W4, W6, W6n skipped).
    MizzleMemory,
    Sqlite,
}

impl EngineKind {
    fn name(self) -> &'static str {
        match self {
            EngineKind::Mizzle => "mizzle",
            EngineKind::MizzleMemory => "mizzle-memory",
            EngineKind::Sqlite => "sqlite",
        }
    }
}

/// The sizes of one run, validated.
#[derive(Clone, Debug)]
struct Config {
    rows: u64,
    point_ops: u64,
    range_ops: u64,
    durable_commits: u64,
    agg_reps: u64,
    join_rows: u64,
    conc_secs: f64,
    threads: usize,
}

/// Sizes stay below this so that ids and codes (at most twice a size plus
/// the W4 inserts) always fit an `i64`.
const MAX_SIZE: u64 = 1 << 40;

impl Config {
    fn from_args(a: &Args) -> Result<Config> {
        let full = Config {
            rows: 1_000_000,
            point_ops: 100_000,
            range_ops: 10_000,
            durable_commits: 2_000,
            agg_reps: 5,
            join_rows: 100_000,
            conc_secs: 10.0,
            threads: 2,
        };
        let quick = Config {
            rows: 100_000,
            point_ops: 20_000,
            range_ops: 2_000,
            durable_commits: 200,
            agg_reps: 2,
            join_rows: 20_000,
            conc_secs: 2.0,
            threads: 2,
        };
        let d = if a.quick { quick } else { full };
        let c = Config {
            rows: a.rows.unwrap_or(d.rows),
            point_ops: a.point_ops.unwrap_or(d.point_ops),
            range_ops: a.range_ops.unwrap_or(d.range_ops),
            durable_commits: a.durable_commits.unwrap_or(d.durable_commits),
            agg_reps: a.agg_reps.unwrap_or(d.agg_reps),
            join_rows: a.join_rows.unwrap_or(d.join_rows),
            conc_secs: a.conc_secs.unwrap_or(d.conc_secs),
            threads: a.threads.unwrap_or(d.threads),
        };
        if !(100..=MAX_SIZE).contains(&c.rows) {
            bail!("--rows must be in 100..={MAX_SIZE} (W3 reads ranges of 100 ids)");
        }
        if !(1..=MAX_SIZE).contains(&c.join_rows) || !data::jb_codes_are_unique(c.join_rows) {
            bail!("--join-rows must be in 1..={MAX_SIZE} and not a multiple of {}", data::JB_CODE_STRIDE);
        }
        if [c.point_ops, c.range_ops, c.durable_commits, c.agg_reps].iter().any(|&v| v > MAX_SIZE) {
            bail!("operation counts must be at most {MAX_SIZE}");
        }
        if !(c.conc_secs.is_finite() && c.conc_secs > 0.0 && c.conc_secs <= 86_400.0) {
            bail!("--conc-secs must be a positive number of seconds, at most a day");
        }
        if !(1..=1024).contains(&c.threads) {
            bail!("--threads must be in 1..=1024");
        }
        Ok(c)
    }
}

/// Every statement name the steps use; checked before anything runs.
const STATEMENTS: [&str; 12] = [
    "schema_sbtest",
    "insert_sbtest",
    "index_k",
    "point_select",
    "range_select",
    "range_order",
    "agg_group",
    "schema_join",
    "insert_ja",
    "insert_jb",
    "join_group",
    "update_k",
];

fn default_workload_sql() -> PathBuf {
    // The package sits at <repo>/benches; the shared folder is beside the repo.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/workload.sql")
}

// ---------------------------------------------------------------------------
// The engine interface the steps use

/// A statement parameter.
#[derive(Clone, Copy, Debug)]
enum Param<'a> {
    Int(i64),
    Text(&'a str),
}

/// Commit durability of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Durability {
    /// Commit waits until the log is on stable storage.
    Full,
    /// Commit may return before the log is flushed (W6n).
    Normal,
}

/// An engine with its one database.
trait Engine: Sync {
    /// The engine's version string.
    fn version(&self) -> String;
    /// Where the data lives: `file` or `memory`.
    fn storage(&self) -> &'static str;
    /// Why durable commits cannot be measured, if they cannot.
    fn durability_gap(&self) -> Option<&'static str>;
    /// A new connection (session) to the database.
    fn connect(&self, durability: Durability) -> Result<Box<dyn Conn>>;
}

/// A connection (a session).
trait Conn {
    /// Runs one or more statements that return no rows.
    fn script(&mut self, sql: &str) -> Result<()>;
    /// Starts a transaction.
    fn begin(&mut self) -> Result<()>;
    /// Commits the open transaction.
    fn commit(&mut self) -> Result<()>;
    /// Rolls the open transaction back.
    fn rollback(&mut self) -> Result<()>;
    /// Size of the main database file after a full checkpoint, or `None`
    /// when there is no file.
    fn checkpoint_size(&mut self) -> Result<Option<u64>>;
    /// Prepares `sqls` and calls `f` with them (addressed by index).
    fn with_statements(&mut self, sqls: &[&str], f: &mut dyn FnMut(&mut dyn Statements) -> Result<()>) -> Result<()>;
}

/// Prepared statements of one connection.
trait Statements {
    /// Executes statement `i`; returns the rows it changed.
    fn execute(&mut self, i: usize, params: &[Param<'_>]) -> Result<u64>;
    /// Runs query `i`, calling `on_row` for each row.
    fn query(
        &mut self,
        i: usize,
        params: &[Param<'_>],
        on_row: &mut dyn FnMut(&dyn RowView) -> Result<()>,
    ) -> Result<()>;
    /// Starts a write transaction that holds the write lock from the start
    /// (SQLite's `BEGIN IMMEDIATE`).
    fn begin_write(&mut self) -> Result<()>;
    /// Commits.
    fn commit(&mut self) -> Result<()>;
    /// Rolls back.
    fn rollback(&mut self) -> Result<()>;
}

/// One result row, read without copying.
trait RowView {
    /// Column `col` as an integer.
    fn int(&self, col: usize) -> Result<i64>;
    /// The byte length of text column `col`.
    fn text_len(&self, col: usize) -> Result<usize>;
}

// ---------------------------------------------------------------------------
// SQLite through rusqlite

mod sqlite {
    //! SQLite through rusqlite: every connection in WAL mode with the
    //! requested `synchronous` level and a 10 s busy timeout. Nothing else is
    //! changed from SQLite's defaults.

    use super::*;
    use rusqlite::types::{ToSqlOutput, ValueRef};
    use rusqlite::{params_from_iter, Connection, ToSql};

    pub(crate) struct SqliteEngine {
        pub(crate) path: PathBuf,
    }

    impl Engine for SqliteEngine {
        fn version(&self) -> String {
            rusqlite::version().to_string()
        }

        fn storage(&self) -> &'static str {
            "file"
        }

        fn durability_gap(&self) -> Option<&'static str> {
            None
        }

        fn connect(&self, durability: Durability) -> Result<Box<dyn Conn>> {
            let c = Connection::open(&self.path).with_context(|| format!("opening {}", self.path.display()))?;
            c.busy_timeout(Duration::from_secs(10))?;
            let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                bail!("SQLite refused WAL mode (journal_mode is {mode})");
            }
            let sync = match durability {
                Durability::Full => "FULL",
                Durability::Normal => "NORMAL",
            };
            c.execute_batch(&format!("PRAGMA synchronous={sync}"))?;
            Ok(Box::new(SqliteConn { conn: c, path: self.path.clone() }))
        }
    }

    struct SqliteConn {
        conn: Connection,
        path: PathBuf,
    }

    impl Conn for SqliteConn {
        fn script(&mut self, sql: &str) -> Result<()> {
            Ok(self.conn.execute_batch(sql)?)
        }

        fn begin(&mut self) -> Result<()> {
            Ok(self.conn.execute_batch("BEGIN")?)
        }

        fn commit(&mut self) -> Result<()> {
            Ok(self.conn.execute_batch("COMMIT")?)
        }

        fn rollback(&mut self) -> Result<()> {
            Ok(self.conn.execute_batch("ROLLBACK")?)
        }

        fn checkpoint_size(&mut self) -> Result<Option<u64>> {
            let busy: i64 = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                bail!("the full checkpoint could not complete (SQLITE_BUSY)");
            }
            let meta = fs::metadata(&self.path).with_context(|| format!("size of {}", self.path.display()))?;
            Ok(Some(meta.len()))
        }

        fn with_statements(
            &mut self,
            sqls: &[&str],
            f: &mut dyn FnMut(&mut dyn Statements) -> Result<()>,
        ) -> Result<()> {
            let stmts = sqls.iter().map(|s| self.conn.prepare(s)).collect::<rusqlite::Result<Vec<_>>>()?;
            f(&mut SqliteStatements { conn: &self.conn, stmts })
        }
    }

    struct SqliteStatements<'c> {
        conn: &'c Connection,
        stmts: Vec<rusqlite::Statement<'c>>,
    }

    impl<'c> SqliteStatements<'c> {
        fn stmt(&mut self, i: usize) -> Result<&mut rusqlite::Statement<'c>> {
            let n = self.stmts.len();
            self.stmts.get_mut(i).ok_or_else(|| anyhow!("statement index {i} out of range ({n} prepared)"))
        }
    }

    impl ToSql for Param<'_> {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(match *self {
                Param::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
                Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            })
        }
    }

    impl Statements for SqliteStatements<'_> {
        fn execute(&mut self, i: usize, params: &[Param<'_>]) -> Result<u64> {
            let n = self.stmt(i)?.execute(params_from_iter(params.iter()))?;
            Ok(u64::try_from(n)?)
        }

        fn query(
            &mut self,
            i: usize,
            params: &[Param<'_>],
            on_row: &mut dyn FnMut(&dyn RowView) -> Result<()>,
        ) -> Result<()> {
            let mut rows = self.stmt(i)?.query(params_from_iter(params.iter()))?;
            while let Some(r) = rows.next()? {
                on_row(&SqliteRow(r))?;
            }
            Ok(())
        }

        fn begin_write(&mut self) -> Result<()> {
            Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
        }

        fn commit(&mut self) -> Result<()> {
            Ok(self.conn.execute_batch("COMMIT")?)
        }

        fn rollback(&mut self) -> Result<()> {
            Ok(self.conn.execute_batch("ROLLBACK")?)
        }
    }

    struct SqliteRow<'a, 'r>(&'a rusqlite::Row<'r>);

    impl RowView for SqliteRow<'_, '_> {
        fn int(&self, col: usize) -> Result<i64> {
            match self.0.get_ref(col)? {
                ValueRef::Integer(i) => Ok(i),
                v => bail!("column {col}: expected an integer, got {:?}", v.data_type()),
            }
        }

        fn text_len(&self, col: usize) -> Result<usize> {
            match self.0.get_ref(col)? {
                ValueRef::Text(b) | ValueRef::Blob(b) => Ok(b.len()),
                v => bail!("column {col}: expected text, got {:?}", v.data_type()),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// mizzle through its embedded API

mod mizzle_engine {
    //! mizzle through its embedded API (`mizzle::Database`, `Session`,
    //! `Statement`). `mizzle` opens the database in the run's directory on
    //! the default `disk` engine with default options (durable commits);
    //! `mizzle-memory` uses the in-memory engine and skips the durable
    //! steps. A connection asked for `Normal` durability (W6n) sets
    //! `innodb_flush_log_at_trx_commit = 2` for its session: commits wait
    //! for the log write, not the sync (SQLite's `synchronous=NORMAL`).

    use super::*;
    use mizzle::{Database, Value};

    pub(crate) struct MizzleEngine {
        db: Database,
        /// The database directory when on disk.
        dir: Option<PathBuf>,
    }

    const NO_DISK: &str = "needs-durable-commits:the-in-memory-engine-keeps-nothing";

    impl MizzleEngine {
        /// Opens (creates) the database in `dir` on the disk engine.
        pub(crate) fn open(dir: &Path) -> Result<MizzleEngine> {
            let db = Database::open(dir).with_context(|| format!("opening a mizzle database in {}", dir.display()))?;
            Ok(MizzleEngine { db, dir: Some(dir.to_path_buf()) })
        }

        /// An in-memory database.
        pub(crate) fn in_memory() -> Result<MizzleEngine> {
            Ok(MizzleEngine { db: Database::open_in_memory()?, dir: None })
        }
    }

    impl Engine for MizzleEngine {
        fn version(&self) -> String {
            let s = self.db.session();
            s.query("SELECT @@version", [])
                .ok()
                .and_then(|rows| rows.get(0).and_then(|r| r.get::<String>(0).ok()))
                .map(|v| v.replace(char::is_whitespace, "_"))
                .unwrap_or_else(|| "unknown".to_string())
        }

        fn storage(&self) -> &'static str {
            if self.dir.is_some() {
                "file"
            } else {
                "memory"
            }
        }

        fn durability_gap(&self) -> Option<&'static str> {
            if self.dir.is_some() {
                None
            } else {
                Some(NO_DISK)
            }
        }

        fn connect(&self, durability: Durability) -> Result<Box<dyn Conn>> {
            let session = self.db.session();
            if durability == Durability::Normal {
                session.execute("SET innodb_flush_log_at_trx_commit = 2", [])?;
            }
            Ok(Box::new(MizzleConn { db: self.db.clone(), session, dir: self.dir.clone() }))
        }
    }

    struct MizzleConn {
        db: Database,
        session: mizzle::Session,
        dir: Option<PathBuf>,
    }

    impl Conn for MizzleConn {
        fn script(&mut self, sql: &str) -> Result<()> {
            self.session.run(sql)?;
            Ok(())
        }

        fn begin(&mut self) -> Result<()> {
            Ok(self.session.begin()?)
        }

        fn commit(&mut self) -> Result<()> {
            Ok(self.session.commit()?)
        }

        fn rollback(&mut self) -> Result<()> {
            Ok(self.session.rollback()?)
        }

        fn checkpoint_size(&mut self) -> Result<Option<u64>> {
            // The main file is the data file after a checkpoint (the log
            // segments that remain are preallocated, mostly zeros).
            let Some(dir) = &self.dir else { return Ok(None) };
            self.db.checkpoint()?;
            Ok(Some(fs::metadata(dir.join("data.mzd"))?.len()))
        }

        fn with_statements(
            &mut self,
            sqls: &[&str],
            f: &mut dyn FnMut(&mut dyn Statements) -> Result<()>,
        ) -> Result<()> {
            let mut stmts = Vec::with_capacity(sqls.len());
            for sql in sqls {
                stmts.push(self.session.prepare(sql)?);
            }
            f(&mut MizzleStatements { session: &self.session, stmts, params: Vec::with_capacity(4) })
        }
    }

    struct MizzleStatements<'s> {
        session: &'s mizzle::Session,
        stmts: Vec<mizzle::Statement<'s>>,
        /// Reused parameter buffer.
        params: Vec<Value>,
    }

    impl MizzleStatements<'_> {
        fn bind(&mut self, i: usize, params: &[Param<'_>]) -> Result<()> {
            if i >= self.stmts.len() {
                bail!("statement index {i} out of range ({} prepared)", self.stmts.len());
            }
            self.params.clear();
            self.params.extend(params.iter().map(|p| match *p {
                Param::Int(v) => Value::Int(v),
                Param::Text(s) => Value::from(s),
            }));
            Ok(())
        }
    }

    impl Statements for MizzleStatements<'_> {
        fn execute(&mut self, i: usize, params: &[Param<'_>]) -> Result<u64> {
            self.bind(i, params)?;
            Ok(self.stmts[i].execute(self.params.as_slice())?.rows_affected)
        }

        fn query(
            &mut self,
            i: usize,
            params: &[Param<'_>],
            on_row: &mut dyn FnMut(&dyn RowView) -> Result<()>,
        ) -> Result<()> {
            self.bind(i, params)?;
            // Rows borrowed as rusqlite's `Rows::next` hands them out.
            let mut failed = None;
            self.stmts[i].query_each(self.params.as_slice(), |r| {
                if failed.is_none() {
                    failed = on_row(&MizzleRow(r)).err();
                }
                Ok(())
            })?;
            failed.map_or(Ok(()), Err)
        }

        fn begin_write(&mut self) -> Result<()> {
            Ok(self.session.begin()?)
        }

        fn commit(&mut self) -> Result<()> {
            Ok(self.session.commit()?)
        }

        fn rollback(&mut self) -> Result<()> {
            Ok(self.session.rollback()?)
        }
    }

    struct MizzleRow<'a>(mizzle::RowRef<'a>);

    impl RowView for MizzleRow<'_> {
        fn int(&self, col: usize) -> Result<i64> {
            Ok(self.0.get::<i64>(col)?)
        }

        fn text_len(&self, col: usize) -> Result<usize> {
            match self.0.values().get(col) {
                Some(Value::Text(s)) => Ok(s.len()),
                Some(Value::Bytes(b)) => Ok(b.len()),
                Some(v) => bail!("column {col}: expected text, got {v:?}"),
                None => bail!("column {col} out of range"),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Measurements and output

/// A failed workload check: the program aborts (invariant 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CheckFailed(String);

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(CheckFailed(what()).into())
    }
}

fn elapsed_ns(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn capacity(n: u64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// What one step measured.
struct Stats {
    ops: u64,
    secs: f64,
    latencies_ns: Vec<u64>,
    extras: Vec<(&'static str, String)>,
}

impl Stats {
    fn new(secs: f64, latencies_ns: Vec<u64>) -> Stats {
        Stats { ops: latencies_ns.len() as u64, secs, latencies_ns, extras: Vec::new() }
    }

    fn extra(mut self, key: &'static str, value: impl ToString) -> Stats {
        self.extras.push((key, value.to_string()));
        self
    }

    /// The key=value part of the step line.
    fn render(mut self) -> String {
        self.latencies_ns.sort_unstable();
        let us = |p: f64| format!("{:.2}", nearest_rank(&self.latencies_ns, p) as f64 / 1000.0);
        let rate = if self.secs > 0.0 { self.ops as f64 / self.secs } else { 0.0 };
        let mut s = format!(
            "ops={} secs={:.3} ops_per_s={:.1} p50_us={} p99_us={} max_us={}",
            self.ops,
            self.secs,
            rate,
            us(0.50),
            us(0.99),
            us(1.0)
        );
        for (k, v) in &self.extras {
            s.push_str(&format!(" {k}={v}"));
        }
        s
    }
}

/// The nearest-rank percentile `p` (0..=1) of sorted values; 0 when empty.
fn nearest_rank(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied().unwrap_or(0)
}

/// How a step ended.
enum Outcome {
    Done(Stats),
    Skipped(&'static str),
}

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs a step and prints its line (invariants 2–4).
fn step(id: &str, name: &str, f: impl FnOnce() -> Result<Outcome>) -> Result<()> {
    match f() {
        Ok(Outcome::Done(s)) => println!("{id} {name} {}", s.render()),
        Ok(Outcome::Skipped(reason)) => println!("{id} {name} skipped={reason}"),
        Err(e) if e.chain().any(|c| c.is::<CheckFailed>()) => {
            println!("{id} {name} check_failed={}", one_line(&e));
            return Err(e.context(format!("{id} {name}: check failed")));
        }
        Err(e) => println!("{id} {name} error={}", one_line(&e)),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Steps

/// What every step reads.
#[derive(Clone, Copy)]
struct Env<'a> {
    engine: &'a dyn Engine,
    cat: &'a Catalogue,
    cfg: &'a Config,
}

impl<'a> Env<'a> {
    fn sql(&self, name: &str) -> Result<&'a str> {
        Ok(self.cat.require(name)?)
    }
}

/// Runs `f` inside BEGIN..COMMIT, rolling back if it fails; returns the
/// commit's latency.
fn in_transaction(conn: &mut dyn Conn, f: impl FnOnce(&mut dyn Conn) -> Result<()>) -> Result<u64> {
    conn.begin()?;
    if let Err(e) = f(conn) {
        // The step's error matters more than a failed rollback.
        let _ = conn.rollback();
        return Err(e);
    }
    let t = Instant::now();
    conn.commit()?;
    Ok(elapsed_ns(t))
}

fn sbtest_params<'r>(id: i64, row: &data::SbtestRow<'r>) -> [Param<'r>; 4] {
    [Param::Int(id), Param::Int(row.k), Param::Text(row.c), Param::Text(row.pad)]
}

fn size_extras(stats: Stats, db_bytes: Option<u64>, rows: u64) -> Stats {
    match db_bytes {
        Some(b) => stats.extra("db_bytes", b).extra("bytes_per_row", format!("{:.1}", b as f64 / rows as f64)),
        None => stats.extra("db_bytes", "na").extra("bytes_per_row", "na"),
    }
}

/// W1: N rows in one transaction, then a checkpoint and the file size.
fn w1_bulk_insert(env: Env, conn: &mut dyn Conn) -> Result<Outcome> {
    let n = env.cfg.rows;
    conn.script(env.sql("schema_sbtest")?)?;
    let insert = env.sql("insert_sbtest")?;
    let mut rng = SplitMix64::new(data::SEED_LOAD);
    let mut gen = SbtestGen::new();
    let mut lat = Vec::with_capacity(capacity(n));
    let start = Instant::now();
    let commit_ns = in_transaction(conn, |conn| {
        conn.with_statements(&[insert], &mut |st| {
            for id in 1..=n {
                let row = gen.next_row(&mut rng, n);
                let t = Instant::now();
                st.execute(0, &sbtest_params(to_i64(id), &row))?;
                lat.push(elapsed_ns(t));
            }
            Ok(())
        })
    })?;
    let secs = start.elapsed().as_secs_f64();
    let db_bytes = conn.checkpoint_size()?;
    let stats = Stats::new(secs, lat).extra("commit_us", format!("{:.1}", commit_ns as f64 / 1000.0));
    Ok(Outcome::Done(size_extras(stats, db_bytes, n)))
}

/// W1b: the secondary index on k.
fn w1b_index(env: Env, conn: &mut dyn Conn) -> Result<Outcome> {
    let start = Instant::now();
    conn.script(env.sql("index_k")?)?;
    let ns = elapsed_ns(start);
    let db_bytes = conn.checkpoint_size()?;
    Ok(Outcome::Done(size_extras(Stats::new(ns as f64 / 1e9, vec![ns]), db_bytes, env.cfg.rows)))
}

/// Reads one `point_select` row and checks it is one row of 120 bytes.
fn point_select(st: &mut dyn Statements, i: usize, id: i64) -> Result<()> {
    let (mut rows, mut len) = (0usize, 0usize);
    st.query(i, &[Param::Int(id)], &mut |r| {
        rows += 1;
        len = r.text_len(0)?;
        Ok(())
    })?;
    check(rows == 1 && len == data::C_BYTES, || {
        format!("point select of id {id} read {rows} rows of {len} bytes, want 1 row of {}", data::C_BYTES)
    })
}

/// W2: prepared point selects in autocommit.
fn w2_point_select(env: Env, conn: &mut dyn Conn) -> Result<Outcome> {
    let (n, ops) = (env.cfg.rows, env.cfg.point_ops);
    let mut rng = SplitMix64::new(data::SEED_POINT);
    let mut lat = Vec::with_capacity(capacity(ops));
    let mut secs = 0.0;
    conn.with_statements(&[env.sql("point_select")?], &mut |st| {
        let start = Instant::now();
        for _ in 0..ops {
            let id = to_i64(rng.range(1, n));
            let t = Instant::now();
            point_select(st, 0, id)?;
            lat.push(elapsed_ns(t));
        }
        secs = start.elapsed().as_secs_f64();
        Ok(())
    })?;
    Ok(Outcome::Done(Stats::new(secs, lat)))
}

/// W3a and W3b: ranges of 100 ids with statement `name`.
fn w3_range(env: Env, conn: &mut dyn Conn, name: &str) -> Result<Outcome> {
    let (n, ops) = (env.cfg.rows, env.cfg.range_ops);
    let mut rng = SplitMix64::new(data::SEED_RANGE);
    let mut lat = Vec::with_capacity(capacity(ops));
    let mut secs = 0.0;
    conn.with_statements(&[env.sql(name)?], &mut |st| {
        let start = Instant::now();
        for _ in 0..ops {
            let lo = to_i64(rng.range(1, n - 99));
            let hi = lo + 99;
            let t = Instant::now();
            let mut rows = 0u64;
            st.query(0, &[Param::Int(lo), Param::Int(hi)], &mut |r| {
                r.text_len(0)?;
                rows += 1;
                Ok(())
            })?;
            lat.push(elapsed_ns(t));
            check(rows == 100, || format!("range {lo}..={hi} read {rows} rows, want 100"))?;
        }
        secs = start.elapsed().as_secs_f64();
        Ok(())
    })?;
    Ok(Outcome::Done(Stats::new(secs, lat)))
}

/// Runs query `name` `reps` times; each run's column-1 sum must be `want`.
fn repeated_count(env: Env, conn: &mut dyn Conn, name: &str, want: u64) -> Result<(f64, Vec<u64>)> {
    let reps = env.cfg.agg_reps;
    let mut lat = Vec::with_capacity(capacity(reps));
    let mut secs = 0.0;
    conn.with_statements(&[env.sql(name)?], &mut |st| {
        let start = Instant::now();
        for _ in 0..reps {
            let t = Instant::now();
            let mut total: i64 = 0;
            st.query(0, &[], &mut |r| {
                total = total.saturating_add(r.int(1)?);
                Ok(())
            })?;
            lat.push(elapsed_ns(t));
            check(u64::try_from(total).ok() == Some(want), || format!("{name} counted {total} rows, want {want}"))?;
        }
        secs = start.elapsed().as_secs_f64();
        Ok(())
    })?;
    Ok((secs, lat))
}

/// W5a: GROUP BY k % 100 over all N rows.
fn w5a_agg(env: Env, conn: &mut dyn Conn) -> Result<Outcome> {
    let (secs, lat) = repeated_count(env, conn, "agg_group", env.cfg.rows)?;
    Ok(Outcome::Done(Stats::new(secs, lat)))
}

/// W5b: the join tables filled in one transaction, then the grouped join.
fn w5b_join(env: Env, conn: &mut dyn Conn) -> Result<Outcome> {
    let n = env.cfg.join_rows;
    let start = Instant::now();
    conn.script(env.sql("schema_join")?)?;
    let (insert_jb, insert_ja) = (env.sql("insert_jb")?, env.sql("insert_ja")?);
    in_transaction(conn, |conn| {
        conn.with_statements(&[insert_jb], &mut |st| {
            for id in 1..=n {
                let (code, grp, name) = data::jb_row(id, n);
                st.execute(0, &[Param::Int(to_i64(id)), Param::Int(code), Param::Int(grp), Param::Text(&name)])?;
            }
            Ok(())
        })?;
        let mut rng = SplitMix64::new(data::SEED_JOIN);
        conn.with_statements(&[insert_ja], &mut |st| {
            for id in 1..=n {
                let (b_code, val) = data::ja_row(&mut rng, n);
                st.execute(0, &[Param::Int(to_i64(id)), Param::Int(b_code), Param::Int(val)])?;
            }
            Ok(())
        })
    })?;
    let setup_secs = start.elapsed().as_secs_f64();
    let (secs, lat) = repeated_count(env, conn, "join_group", n)?;
    Ok(Outcome::Done(Stats::new(secs, lat).extra("setup_secs", format!("{setup_secs:.3}"))))
}

/// W4: durable autocommit writes, alternating insert and update.
fn w4_durable(env: Env, conn: &mut dyn Conn) -> Result<Outcome> {
    if let Some(reason) = env.engine.durability_gap() {
        return Ok(Outcome::Skipped(reason));
    }
    let (n, commits) = (env.cfg.rows, env.cfg.durable_commits);
    let mut rng = SplitMix64::new(data::SEED_DURABLE);
    let mut gen = SbtestGen::new();
    let mut lat = Vec::with_capacity(capacity(commits));
    let mut secs = 0.0;
    conn.with_statements(&[env.sql("insert_sbtest")?, env.sql("update_k")?], &mut |st| {
        let start = Instant::now();
        for i in 0..commits {
            if i % 2 == 0 {
                let id = to_i64(n + 1 + i / 2);
                let row = gen.next_row(&mut rng, n);
                let t = Instant::now();
                st.execute(0, &sbtest_params(id, &row))?;
                lat.push(elapsed_ns(t));
            } else {
                let id = to_i64(rng.range(1, n));
                let t = Instant::now();
                let changed = st.execute(1, &[Param::Int(id)])?;
                lat.push(elapsed_ns(t));
                check(changed == 1, || format!("update_k of id {id} changed {changed} rows, want 1"))?;
            }
        }
        secs = start.elapsed().as_secs_f64();
        Ok(())
    })?;
    Ok(Outcome::Done(Stats::new(secs, lat)))
}

/// One W6 transaction: BEGIN IMMEDIATE; point_select; update_k; COMMIT.
fn read_write_txn(st: &mut dyn Statements, id: i64) -> Result<()> {
    st.begin_write()?;
    let body = (|| {
        point_select(st, 0, id)?;
        let changed = st.execute(1, &[Param::Int(id)])?;
        check(changed == 1, || format!("update_k of id {id} changed {changed} rows, want 1"))?;
        st.commit()
    })();
    if body.is_err() {
        let _ = st.rollback();
    }
    body
}

/// True for a write conflict the transaction should be retried after.
fn is_conflict(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<mizzle::Error>().is_some_and(|m| m.number() == 1213))
}

/// One worker of a concurrent step; returns its latencies.
fn worker(env: Env, thread: usize, durability: Durability, writes: bool, barrier: &Barrier) -> Result<Vec<u64>> {
    let mut waited = false;
    let run = (|| {
        let mut conn = env.engine.connect(durability)?;
        let mut rng = SplitMix64::new(data::SEED_CONCURRENT_BASE + thread as u64);
        let n = env.cfg.rows;
        let mut sqls = vec![env.sql("point_select")?];
        if writes {
            sqls.push(env.sql("update_k")?);
        }
        let mut lat = Vec::new();
        conn.with_statements(&sqls, &mut |st| {
            barrier.wait();
            waited = true;
            let deadline = Instant::now() + Duration::from_secs_f64(env.cfg.conc_secs);
            while Instant::now() < deadline {
                let id = to_i64(rng.range(1, n));
                let t = Instant::now();
                if writes {
                    // A transaction that loses a write conflict (mizzle's
                    // 1213, the analogue of SQLite's busy wait) is retried
                    // with the same row after a short pause, for up to 10 s
                    // (SQLite's busy timeout); its time counts.
                    let first = Instant::now();
                    loop {
                        match read_write_txn(st, id) {
                            Ok(()) => break,
                            Err(e) if is_conflict(&e) && first.elapsed() < Duration::from_secs(10) => {
                                thread::sleep(Duration::from_micros(50));
                            }
                            Err(e) => return Err(e),
                        }
                    }
                } else {
                    point_select(st, 0, id)?;
                }
                lat.push(elapsed_ns(t));
            }
            Ok(())
        })?;
        Ok(lat)
    })();
    if !waited {
        // Release the others even when this worker could not start.
        barrier.wait();
    }
    run
}

/// W6, W6n, W6r: `threads` connections for `conc_secs`.
fn concurrent(env: Env, durability: Durability, writes: bool) -> Result<Outcome> {
    if writes {
        if let Some(reason) = env.engine.durability_gap() {
            return Ok(Outcome::Skipped(reason));
        }
    }
    let threads = env.cfg.threads;
    let barrier = Barrier::new(threads + 1);
    let (secs, results) = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || worker(env, t, durability, writes, barrier))
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let results: Vec<Result<Vec<u64>>> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("a worker thread panicked"))))
            .collect();
        (start.elapsed().as_secs_f64(), results)
    });
    let mut lat = Vec::new();
    for r in results {
        lat.extend(r?);
    }
    Ok(Outcome::Done(Stats::new(secs, lat).extra("threads", threads)))
}

// ---------------------------------------------------------------------------
// Main

/// The run's fresh database directory, removed on drop unless kept.
struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    fn create(parent: Option<PathBuf>, engine: &str, keep: bool) -> Result<ScratchDir> {
        let parent = parent.unwrap_or_else(std::env::temp_dir);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let path = parent.join(format!("mizzle-bench-{engine}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(ScratchDir { path, keep })
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("# kept {}", self.path.display());
        } else if let Err(e) = fs::remove_dir_all(&self.path) {
            eprintln!("# could not remove {}: {e}", self.path.display());
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let cfg = Config::from_args(&args)?;
    let sql_path = args.workload_sql.clone().unwrap_or_else(default_workload_sql);
    let text = fs::read_to_string(&sql_path).with_context(|| format!("reading {}", sql_path.display()))?;
    let cat = Catalogue::parse(&text).with_context(|| format!("parsing {}", sql_path.display()))?;
    for name in STATEMENTS {
        cat.require(name).with_context(|| format!("checking {}", sql_path.display()))?;
    }

    let dir = ScratchDir::create(args.dir.clone(), args.engine.name(), args.keep)?;
    let engine: Box<dyn Engine> = match args.engine {
        EngineKind::Sqlite => Box::new(sqlite::SqliteEngine { path: dir.path.join("sbtest.db") }),
        EngineKind::Mizzle => Box::new(mizzle_engine::MizzleEngine::open(&dir.path)?),
        EngineKind::MizzleMemory => Box::new(mizzle_engine::MizzleEngine::in_memory()?),
    };
    println!(
        "# engine={} version={} storage={} allocator={} rows={} point_ops={} range_ops={} durable_commits={} \
         agg_reps={} join_rows={} conc_secs={} threads={}",
        args.engine.name(),
        engine.version(),
        engine.storage(),
        ALLOCATOR_NAME,
        cfg.rows,
        cfg.point_ops,
        cfg.range_ops,
        cfg.durable_commits,
        cfg.agg_reps,
        cfg.join_rows,
        cfg.conc_secs,
        cfg.threads
    );

    let env = Env { engine: engine.as_ref(), cat: &cat, cfg: &cfg };
    let stop_after = args.stop_after.clone();
    let mut conn = engine.connect(Durability::Full)?;
    let c = conn.as_mut();
    step("W1", "bulk_insert", || w1_bulk_insert(env, c))?;
    if stop_after.as_deref() == Some("W1") {
        return Ok(());
    }
    step("W1b", "index_k", || w1b_index(env, c))?;
    if stop_after.as_deref() == Some("W1b") {
        return Ok(());
    }
    step("W2", "point_select", || w2_point_select(env, c))?;
    if stop_after.as_deref() == Some("W2") {
        return Ok(());
    }
    step("W3a", "range_select", || w3_range(env, c, "range_select"))?;
    if stop_after.as_deref() == Some("W3a") {
        return Ok(());
    }
    step("W3b", "range_order", || w3_range(env, c, "range_order"))?;
    if stop_after.as_deref() == Some("W3b") {
        return Ok(());
    }
    step("W5a", "agg_group", || w5a_agg(env, c))?;
    if stop_after.as_deref() == Some("W5a") {
        return Ok(());
    }
    step("W5b", "join_group", || w5b_join(env, c))?;
    if stop_after.as_deref() == Some("W5b") {
        return Ok(());
    }
    step("W4", "durable_write", || w4_durable(env, c))?;
    if stop_after.as_deref() == Some("W4") {
        return Ok(());
    }
    step("W6", "concurrent_rw", || concurrent(env, Durability::Full, true))?;
    if stop_after.as_deref() == Some("W6") {
        return Ok(());
    }
    step("W6n", "concurrent_rw_normal", || concurrent(env, Durability::Normal, true))?;
    if stop_after.as_deref() == Some("W6n") {
        return Ok(());
    }
    step("W6r", "concurrent_read", || concurrent(env, Durability::Full, false))?;
    if stop_after.as_deref() == Some("W6r") {
        return Ok(());
    }
    drop(conn);
    drop(engine);
    drop(dir);
    Ok(())
}
