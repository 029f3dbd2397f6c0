//! mizzle, embedded: open a database, take sessions, run SQL.
//!
//! ```
//! use mizzle::{params, Database};
//!
//! let db = Database::open_in_memory()?;
//! let s = db.session();
//! s.execute("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))", [])?;
//! s.execute("INSERT INTO t VALUES (?, ?)", params![1, "one"])?;
//! let rows = s.query("SELECT name FROM t WHERE id = ?", params![1])?;
//! assert_eq!(rows.get(0).map(|r| r.get::<String>(0)).transpose()?, Some("one".to_string()));
//! # Ok::<(), mizzle::Error>(())
//! ```
//!
//! Invariants:
//! 1. A [`Database`] owns its catalog: engine, transactions, dictionary.
//!    Two databases in one process share nothing.
//! 2. A [`Session`] is `Send`; many sessions may run at once on one
//!    database, each on its own thread.
//! 3. Every error is a [`Error`] carrying a MySQL error number and SQLSTATE.
//!
//! This crate chooses the plugins: it registers the `memory` and `disk` engines.

use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use mizzle_kernel::Registry;
use mizzle_plugin_api::registry::{PluginDescriptor, PluginKind, PluginOrigin};
use mizzle_plugin_api::storage::EngineOptions;
pub use mizzle_session::CancelHandle;
pub use mizzle_session::ColumnInfo as Column;
use mizzle_session::{CatalogState, StatementOutput};
pub use mizzle_txn::{BackupReport, DeadlockReport, IsolationLevel, LockStats};
pub use mizzle_types::error::Level;
use mizzle_types::SqlError;
pub use mizzle_types::{Date, DateTime, Decimal, ErrorCode, SqlType, Value};

/// A statement's message, as a row of `SHOW WARNINGS`
/// ([`Session::messages`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `Note`, `Warning` or `Error`.
    pub level: Level,
    /// The MySQL error number.
    pub code: u16,
    /// The text.
    pub text: String,
}

/// An error with its MySQL identity. `Display` prints it the way the
/// `mysql` client does: `ERROR 1062 (23000): Duplicate entry ...`.
///
/// ```
/// let db = mizzle::Database::open_in_memory()?;
/// let e = db.session().query("SELECT * FROM missing", []).unwrap_err();
/// assert_eq!((e.number(), e.sqlstate()), (1146, "42S02"));
/// assert_eq!(e.to_string(), "ERROR 1146 (42S02): Table 'main.missing' doesn't exist");
/// # Ok::<(), mizzle::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("ERROR {} ({}): {message}", code.number(), code.sqlstate())]
pub struct Error {
    /// The error's identity.
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
}

impl Error {
    /// The MySQL error number.
    pub fn number(&self) -> u16 {
        self.code.number()
    }

    /// The SQLSTATE.
    pub fn sqlstate(&self) -> &'static str {
        self.code.sqlstate()
    }

    fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }
}

fn err<E: SqlError>(e: E) -> Error {
    Error { code: e.code(), message: e.to_string() }
}

/// Builds a parameter array: `params![1, "a", None::<i64>]`.
#[macro_export]
macro_rules! params {
    () => { [] as [$crate::Value; 0] };
    ($($x:expr),+ $(,)?) => { [$($crate::Value::from($x)),+] };
}

pub use mizzle_plugin_api::storage::SyncMode;

/// Options for [`Database::open_with`]. Every field has a sensible default
/// ([`OpenOptions::default`]): the `disk` engine, `SyncMode::Full`, a 64 MiB
/// page cache, and creating the database if the directory holds none.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Storage engine name (`disk`; `memory` is only for
    /// [`Database::open_in_memory`]).
    pub engine: String,
    /// When a commit counts as durable: `Full` (after `fdatasync`; survives
    /// power loss), `Normal` (after the log write; survives a process
    /// crash, may lose the newest commits on power loss) or `Off` (at once;
    /// a crash may lose the newest commits). None of them corrupts.
    pub sync: SyncMode,
    /// Page cache size in bytes.
    pub cache_bytes: u64,
    /// Create the database (and the directory) if missing; otherwise
    /// opening a directory without a database is an error.
    pub create: bool,
    /// The server's default collation (`@@collation_server`: new
    /// databases take it, and so the tables created in them); `None`:
    /// MySQL 8's `utf8mb4_0900_ai_ci`. Any utf8mb4 collation of SHOW
    /// COLLATION; another name fails the open with error 1273. Databases
    /// and tables created before keep theirs.
    pub collation_server: Option<String>,
    /// The time zone new sessions start in (`@@global.time_zone`, MySQL's
    /// `default_time_zone` option): `SYSTEM` (UTC), an offset such as
    /// `+05:30`, or an IANA name such as `Europe/Paris`; `None`: `SYSTEM`.
    /// TIMESTAMP values are stored in UTC and shown in the session's zone.
    /// Another value fails the open with error 1298.
    pub default_time_zone: Option<String>,
    /// The isolation level new sessions start at
    /// (`@@global.transaction_isolation`, MySQL's `transaction-isolation`
    /// option): `READ-UNCOMMITTED` (run as READ COMMITTED),
    /// `READ-COMMITTED`, `REPEATABLE-READ` or `SERIALIZABLE`; `None`:
    /// REPEATABLE READ. Another value fails the open with error 1231.
    pub transaction_isolation: Option<String>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            engine: "disk".into(),
            sync: SyncMode::Full,
            cache_bytes: 64 << 20,
            create: true,
            collation_server: None,
            default_time_zone: None,
            transaction_isolation: None,
        }
    }
}

impl OpenOptions {
    /// Default options.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Chooses the storage engine.
    pub fn engine(mut self, name: &str) -> OpenOptions {
        self.engine = name.to_string();
        self
    }

    /// Chooses the commit durability.
    pub fn sync(mut self, s: SyncMode) -> OpenOptions {
        self.sync = s;
        self
    }

    /// Sets the page cache size.
    pub fn cache_bytes(mut self, n: u64) -> OpenOptions {
        self.cache_bytes = n;
        self
    }

    /// Whether a missing database is created.
    pub fn create(mut self, yes: bool) -> OpenOptions {
        self.create = yes;
        self
    }

    /// Sets the server's default collation ([`OpenOptions::collation_server`]).
    pub fn collation_server(mut self, name: &str) -> OpenOptions {
        self.collation_server = Some(name.to_string());
        self
    }

    /// Sets the time zone new sessions start in ([`OpenOptions::default_time_zone`]).
    pub fn default_time_zone(mut self, zone: &str) -> OpenOptions {
        self.default_time_zone = Some(zone.to_string());
        self
    }

    /// Sets the isolation level new sessions start at
    /// ([`OpenOptions::transaction_isolation`]).
    pub fn transaction_isolation(mut self, level: &str) -> OpenOptions {
        self.transaction_isolation = Some(level.to_string());
        self
    }

    /// The global variables these options set before the catalog's
    /// bootstrap (1273 for an unknown collation, 1298 for an unknown time
    /// zone).
    fn globals(&self) -> Result<Vec<(String, String)>, Error> {
        let mut g = Vec::new();
        if let Some(name) = &self.collation_server {
            let c = mizzle_types::Collation::from_name(name)
                .ok_or_else(|| Error::new(ErrorCode::UnknownCollation, format!("Unknown collation: '{name}'")))?;
            g.push(("collation_server".to_string(), c.name().to_string()));
            g.push(("collation_database".to_string(), c.name().to_string()));
        }
        if let Some(zone) = &self.default_time_zone {
            let z = mizzle_types::TimeZone::parse(zone).ok_or_else(|| {
                Error::new(ErrorCode::UnknownTimeZone, format!("Unknown or incorrect time zone: '{zone}'"))
            })?;
            g.push(("time_zone".to_string(), z.name().to_string()));
        }
        if let Some(level) = &self.transaction_isolation {
            let def = mizzle_session::vars::find("transaction_isolation")
                .expect("invariant: transaction_isolation is a known variable");
            let v = mizzle_session::vars::normalise(def, &mizzle_types::Value::text(level)).ok_or_else(|| {
                Error::new(
                    ErrorCode::WrongValueForVar,
                    format!("Variable 'transaction_isolation' can't be set to the value of '{level}'"),
                )
            })?;
            g.push(("transaction_isolation".to_string(), v));
        }
        Ok(g)
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    // Registering into an empty registry cannot collide.
    let _ = r.register_storage(Arc::new(storage_memory::MemoryEngineFactory));
    let _ = r.register_storage(Arc::new(storage_disk::engine::DiskEngineFactory));
    let _ = r.register(PluginDescriptor {
        name: "caller-thread".into(),
        kind: PluginKind::Scheduler,
        version: env!("CARGO_PKG_VERSION").into(),
        description: "runs each session's steps on the thread that calls the embedded API; lock and \
                      durability waits block that thread"
            .into(),
        origin: PluginOrigin::CompiledIn,
    });
    r
}

/// A database: one catalog with its engine, transactions and dictionary.
/// Cloning gives another handle on the same database.
///
/// ```
/// let db = mizzle::Database::open_in_memory()?;
/// let a = db.session();
/// let b = db.clone().session();
/// a.execute("CREATE TABLE t (x INT)", [])?;
/// assert_eq!(b.query("SELECT COUNT(*) FROM t", [])?.len(), 1);
/// # Ok::<(), mizzle::Error>(())
/// ```
#[derive(Clone)]
pub struct Database {
    cat: Arc<CatalogState>,
}

impl Database {
    /// A new, empty in-memory database (gone when the last handle drops).
    pub fn open_in_memory() -> Result<Database, Error> {
        Database::open_in_memory_with(OpenOptions::default())
    }

    /// A new, empty in-memory database with options (only
    /// [`OpenOptions::collation_server`] and
    /// [`OpenOptions::default_time_zone`] apply).
    pub fn open_in_memory_with(opts: OpenOptions) -> Result<Database, Error> {
        let globals = opts.globals()?;
        let cat = registry().open_catalog_with("memory", None, &EngineOptions::default(), &globals).map_err(err)?;
        Ok(Database { cat })
    }

    /// Opens (or creates) a database stored in directory `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Database, Error> {
        Database::open_with(dir, OpenOptions::default())
    }

    /// Opens a database in `dir` with options: recovers what a crash left
    /// (every acknowledged commit is there, nothing uncommitted is) and
    /// locks the directory against other processes (error 1015).
    pub fn open_with(dir: impl AsRef<Path>, opts: OpenOptions) -> Result<Database, Error> {
        let reg = registry();
        match reg.is_persistent(&opts.engine) {
            None => {
                return Err(Error::new(
                    ErrorCode::FeatureUnavailable,
                    format!("Unknown storage engine '{}'", opts.engine),
                ))
            }
            Some(false) => {
                return Err(Error::new(
                    ErrorCode::FeatureUnavailable,
                    format!(
                        "storage engine '{}' keeps no data in a directory; use Database::open_in_memory()",
                        opts.engine
                    ),
                ))
            }
            Some(true) => {}
        }
        let globals = opts.globals()?;
        let eopts = EngineOptions { sync: opts.sync, cache_bytes: opts.cache_bytes, create: opts.create };
        let cat = reg.open_catalog_with(&opts.engine, Some(dir.as_ref()), &eopts, &globals).map_err(err)?;
        Ok(Database { cat })
    }

    /// Moves every committed change into the data files now and truncates
    /// the log (a checkpoint; the engine also runs them in the background).
    pub fn checkpoint(&self) -> Result<(), Error> {
        self.cat.txns.checkpoint().map_err(err)
    }

    /// Copies the database, as one snapshot taken now sees it, into a new
    /// on-disk database in `dir` (which must not exist or be empty), while
    /// other sessions go on writing. The copy opens with
    /// [`Database::open`] and holds exactly the rows committed at the
    /// snapshot. Works for in-memory databases too (saving one to disk).
    pub fn backup_to(&self, dir: impl AsRef<Path>) -> Result<BackupReport, Error> {
        let dir = dir.as_ref();
        if let Ok(mut entries) = std::fs::read_dir(dir) {
            if entries.next().is_some() {
                return Err(Error::new(
                    ErrorCode::CantCreateFile,
                    format!("Can't create file '{}' (the backup directory is not empty)", dir.display()),
                ));
            }
        }
        let target = registry().open_engine("disk", Some(dir), &EngineOptions::default()).map_err(err)?;
        let r = self.cat.txns.backup_into(target.as_ref(), &self.cat.dict.counter_values()).map_err(err)?;
        drop(target);
        Ok(r)
    }

    /// A new session in the default schema `main`. It may do anything (it
    /// runs as no account; `CURRENT_USER()` is `root@localhost`).
    pub fn session(&self) -> Session {
        Session { inner: RefCell::new(mizzle_session::Session::new(self.cat.clone())) }
    }

    /// A new session running as the account `user@host` (an account made
    /// with `CREATE USER`): every statement is checked against the
    /// account's privileges (errors 1044, 1142, 1227...). No password is
    /// asked: the caller, which holds the database, vouches for the user.
    /// The session starts in the default schema `main` if the account
    /// holds some privilege there, else with no current database.
    pub fn session_as(&self, user: &str, host: &str) -> Session {
        let mut s = mizzle_session::Session::new(self.cat.clone());
        s.set_account(user, host);
        s.set_user(&format!("{user}@{host}"));
        Session { inner: RefCell::new(s) }
    }

    /// Sets the global value of a server option, read-only ones included,
    /// as a server does from its configuration at start-up: for example
    /// `secure_file_priv` (where server-side `LOAD DATA INFILE` may read;
    /// `Value::Null` turns it off) or `local_infile`. Error 1193 for an
    /// unknown name, 1231 for a value it cannot take.
    pub fn set_server_option(&self, name: &str, value: &Value) -> Result<(), Error> {
        if mizzle_session::vars::find(name).is_none() {
            return Err(Error::new(ErrorCode::UnknownSystemVariable, format!("Unknown system variable '{name}'")));
        }
        self.cat.set_server_option(name, value).ok_or_else(|| {
            Error::new(
                ErrorCode::WrongValueForVar,
                format!("Variable '{name}' can't be set to the value of '{}'", value.to_text_lossy()),
            )
        })
    }

    /// Lists a front end's plugin (a server's authentication plugin) in
    /// `SHOW PLUGINS`, after the plugins the database was opened with.
    pub fn register_front_end_plugin(&self, d: &PluginDescriptor) {
        self.cat.register_front_end_plugin(mizzle_session::PluginRow {
            name: d.name.clone(),
            kind: d.kind.to_string(),
            library: match &d.origin {
                PluginOrigin::CompiledIn => String::new(),
                PluginOrigin::Dynamic { path } => path.clone(),
            },
            description: d.description.clone(),
        });
    }

    /// Adds a front end's status rows (a server's connections and
    /// scheduler) to `SHOW STATUS` and `performance_schema.global_status`
    /// in every session; they replace the engine's rows of the same name.
    pub fn register_front_end_status(&self, source: mizzle_session::StatusSource) {
        self.cat.register_front_end_status(source);
    }

    /// Runs a version-collection pass now (normally the kernel schedules it).
    pub fn collect_garbage(&self) -> Result<(), Error> {
        self.cat.txns.gc().map(|_| ()).map_err(err)
    }

    /// The storage engine's counters as name/value pairs (the disk engine:
    /// page cache hits and misses, log syncs, checkpoints, waits of writers
    /// on a checkpoint; empty for the memory engine).
    pub fn engine_stats(&self) -> Vec<(String, u64)> {
        self.cat.txns.engine().stats()
    }

    /// Lock-wait counters (waits, waits in progress, time waited,
    /// deadlocks, timeouts, statements run again) and the last deadlock;
    /// `SHOW STATUS` shows the same.
    pub fn lock_stats(&self) -> LockStats {
        self.cat.txns.lock_stats()
    }
}

/// How [`Session::begin_with`] starts a transaction: an isolation level
/// (else the session's), and whether it is `READ ONLY`.
///
/// ```
/// use mizzle::{BeginOptions, Database, IsolationLevel};
/// let db = Database::open_in_memory()?;
/// let s = db.session();
/// s.execute("CREATE TABLE t (x INT)", [])?;
/// s.begin_with(BeginOptions::new().isolation(IsolationLevel::Serializable).read_only())?;
/// assert_eq!(s.execute("INSERT INTO t VALUES (1)", []).unwrap_err().number(), 1792);
/// s.commit()?;
/// s.begin_with(IsolationLevel::ReadCommitted)?;   // a level converts
/// s.commit()?;
/// # Ok::<(), mizzle::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BeginOptions {
    /// The isolation level (`None`: the session's).
    pub isolation: Option<IsolationLevel>,
    /// Refuse writes (error 1792).
    pub read_only: bool,
}

impl BeginOptions {
    /// The session's level, read-write.
    pub fn new() -> BeginOptions {
        BeginOptions::default()
    }

    /// Chooses the isolation level.
    pub fn isolation(mut self, level: IsolationLevel) -> BeginOptions {
        self.isolation = Some(level);
        self
    }

    /// Makes the transaction `READ ONLY`.
    pub fn read_only(mut self) -> BeginOptions {
        self.read_only = true;
        self
    }
}

impl From<IsolationLevel> for BeginOptions {
    fn from(level: IsolationLevel) -> BeginOptions {
        BeginOptions::new().isolation(level)
    }
}

/// What `execute` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Executed {
    /// Rows inserted, changed or deleted.
    pub rows_affected: u64,
    /// The first AUTO_INCREMENT value the statement generated (0 if none).
    pub last_insert_id: u64,
}

/// One row of a result.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    values: Vec<Value>,
    columns: Arc<Vec<Column>>,
}

impl Row {
    /// The value at `idx` converted to `T`.
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T, Error> {
        self.as_row_ref().get(idx)
    }

    /// The value of the column named `name` (case-insensitive).
    pub fn get_by_name<T: FromValue>(&self, name: &str) -> Result<T, Error> {
        self.as_row_ref().get_by_name(name)
    }

    /// The raw values.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The row borrowed.
    pub fn as_row_ref(&self) -> RowRef<'_> {
        RowRef { values: &self.values, columns: &self.columns }
    }
}

/// A borrowed result row, as [`Statement::query_each`] hands it out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowRef<'a> {
    values: &'a [Value],
    columns: &'a [Column],
}

impl<'a> RowRef<'a> {
    /// The value at `idx` converted to `T`.
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T, Error> {
        let v = self.values.get(idx).ok_or_else(|| {
            Error::new(
                ErrorCode::WrongArguments,
                format!("column index {idx} out of range (row has {})", self.values.len()),
            )
        })?;
        T::from_value(v).map_err(|m| Error::new(ErrorCode::WrongArguments, format!("column {idx}: {m}")))
    }

    /// The value of the column named `name` (case-insensitive).
    pub fn get_by_name<T: FromValue>(&self, name: &str) -> Result<T, Error> {
        let i = self
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::new(ErrorCode::UnknownColumn, format!("Unknown column '{name}' in result")))?;
        self.get(i)
    }

    /// The raw values.
    pub fn values(&self) -> &'a [Value] {
        self.values
    }

    /// Column descriptions.
    pub fn columns(&self) -> &'a [Column] {
        self.columns
    }

    /// An owned copy of the row.
    pub fn to_row(&self) -> Row {
        Row { values: self.values.to_vec(), columns: Arc::new(self.columns.to_vec()) }
    }
}

/// A result set.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    columns: Arc<Vec<Column>>,
    rows: Vec<Row>,
}

impl Rows {
    /// Column descriptions.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `i`.
    pub fn get(&self, i: usize) -> Option<&Row> {
        self.rows.get(i)
    }

    /// Iterates over the rows.
    pub fn iter(&self) -> std::slice::Iter<'_, Row> {
        self.rows.iter()
    }
}

impl IntoIterator for Rows {
    type Item = Row;
    type IntoIter = std::vec::IntoIter<Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

/// The outcome of one statement run with [`Session::run`].
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// A result set.
    Rows(Rows),
    /// A statement without a result set.
    Done(Executed),
}

fn to_rows(columns: Arc<Vec<Column>>, rows: Vec<Vec<Value>>) -> Rows {
    Rows { rows: rows.into_iter().map(|values| Row { values, columns: columns.clone() }).collect(), columns }
}

fn to_output(o: StatementOutput) -> Output {
    match o {
        StatementOutput::Rows { columns, rows } => Output::Rows(to_rows(columns, rows)),
        StatementOutput::Done { affected, last_insert_id, .. } => {
            Output::Done(Executed { rows_affected: affected, last_insert_id })
        }
    }
}

/// A connection-like handle: current schema, transaction, variables.
///
/// ```
/// use mizzle::{params, Database};
/// let db = Database::open_in_memory()?;
/// let s = db.session();
/// s.execute("CREATE TABLE acct (id INT PRIMARY KEY, bal INT)", [])?;
/// s.begin()?;
/// s.execute("INSERT INTO acct VALUES (?, ?)", params![1, 100])?;
/// s.rollback()?;
/// assert!(s.query("SELECT * FROM acct", [])?.is_empty());
/// # Ok::<(), mizzle::Error>(())
/// ```
///
/// Methods take `&self` (as rusqlite's `Connection` does), so prepared
/// statements, transactions and ad-hoc statements can be used together on
/// one session. A session is `Send` but not `Sync`: use one per thread.
///
/// A statement that meets a row another session has changed and not yet
/// committed waits (blocking the calling thread) until that transaction
/// ends, at most `innodb_lock_wait_timeout` seconds (50 by default; then
/// error 1205, which ends only the statement). A deadlock is found at
/// once: one of the transactions gets 1213 and is rolled back. After 1213
/// inside `BEGIN ... COMMIT`, every statement fails with 3101 until
/// [`Session::rollback`] (or a new `BEGIN`); `COMMIT` then fails too.
///
/// ```
/// use mizzle::Database;
/// let db = Database::open_in_memory()?;
/// let (a, b) = (db.session(), db.session());
/// a.execute("CREATE TABLE c (id INT PRIMARY KEY, v INT)", [])?;
/// a.execute("INSERT INTO c VALUES (1, 0)", [])?;
/// a.begin()?;
/// a.execute("UPDATE c SET v = v + 1 WHERE id = 1", [])?;
/// let t = std::thread::spawn(move || b.execute("UPDATE c SET v = v + 1 WHERE id = 1", []).map(|e| e.rows_affected));
/// # while db.lock_stats().current_waits == 0 { std::thread::yield_now(); }
/// a.commit()?;                          // b was waiting; now it goes on
/// assert_eq!(t.join().unwrap()?, 1);
/// assert_eq!(a.query("SELECT v FROM c", [])?.get(0).unwrap().get::<i64>(0)?, 2);
/// # Ok::<(), mizzle::Error>(())
/// ```
pub struct Session {
    inner: RefCell<mizzle_session::Session>,
}

impl Session {
    /// Runs one or more statements and returns each one's output.
    pub fn run(&self, sql: &str) -> Result<Vec<Output>, Error> {
        let outs = self.inner.borrow_mut().execute_blocking(sql, &[]).map_err(err)?;
        Ok(outs.into_iter().map(to_output).collect())
    }

    /// Runs a statement that returns no rows (any statement, in fact: for
    /// one that returns rows, such as a `SELECT ... FOR UPDATE` run for its
    /// locks, the rows are dropped and `rows_affected` is their number).
    /// With several statements, reports the last one.
    pub fn execute<P: AsRef<[Value]>>(&self, sql: &str, params: P) -> Result<Executed, Error> {
        let outs = self.inner.borrow_mut().execute_blocking(sql, params.as_ref()).map_err(err)?;
        match outs.into_iter().last().map(to_output) {
            Some(Output::Done(e)) => Ok(e),
            Some(Output::Rows(r)) => Ok(Executed { rows_affected: r.len() as u64, last_insert_id: 0 }),
            None => Ok(Executed { rows_affected: 0, last_insert_id: 0 }),
        }
    }

    /// Runs a query and returns its rows. A statement that returns no rows
    /// (an `UPDATE`, a `SET`) is refused with error 1221 before it runs.
    pub fn query<P: AsRef<[Value]>>(&self, sql: &str, params: P) -> Result<Rows, Error> {
        let outs = self.inner.borrow_mut().query_blocking(sql, params.as_ref()).map_err(err)?;
        match outs.into_iter().last().map(to_output) {
            Some(Output::Rows(r)) => Ok(r),
            _ => Err(Error::new(ErrorCode::WrongUsage, "the statement returned no result set; use execute()")),
        }
    }

    /// Prepares a statement: planned once, re-planned only when a table it
    /// uses changed definition.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>, Error> {
        let p = self.inner.borrow_mut().prepare(sql).map_err(err)?;
        Ok(Statement { session: self, prepared: p })
    }

    /// Starts a transaction at the session's isolation level.
    pub fn begin(&self) -> Result<(), Error> {
        self.run("START TRANSACTION").map(|_| ())
    }

    /// Starts a transaction with the given options: an isolation level
    /// (an [`IsolationLevel`] converts), and read-only or not. As `BEGIN`
    /// does, it commits an open transaction first.
    pub fn begin_with(&self, opts: impl Into<BeginOptions>) -> Result<(), Error> {
        let o = opts.into();
        self.inner.borrow_mut().begin_transaction(o.isolation, Some(o.read_only)).map_err(err)
    }

    /// True inside `BEGIN ... COMMIT` (or while `autocommit` is off and a
    /// transaction is open), also after an error rolled it back until the
    /// client ends it.
    pub fn in_transaction(&self) -> bool {
        self.inner.borrow().in_transaction()
    }

    /// True while an error (1213) has rolled the open transaction back and
    /// statements are refused until [`Session::rollback`].
    pub fn transaction_rolled_back(&self) -> bool {
        self.inner.borrow().transaction_rolled_back()
    }

    /// True when `autocommit` is on (the default).
    pub fn autocommit(&self) -> bool {
        self.inner.borrow().autocommit()
    }

    /// Commits the open transaction.
    pub fn commit(&self) -> Result<(), Error> {
        self.run("COMMIT").map(|_| ())
    }

    /// Rolls the open transaction back.
    pub fn rollback(&self) -> Result<(), Error> {
        self.run("ROLLBACK").map(|_| ())
    }

    /// Warnings of the last statement as (code, message) (none after
    /// `SHOW WARNINGS` and the other diagnostic statements, which leave the
    /// statement before's messages for `SHOW WARNINGS` to show again).
    pub fn warnings(&self) -> Vec<(u16, String)> {
        self.inner.borrow().statement_warnings().iter().map(|w| (w.code.number(), w.message.clone())).collect()
    }

    /// [`Session::warnings`] with each message's level, as `SHOW WARNINGS`
    /// shows it: `Note` for what an `IF [NOT] EXISTS` skipped, `Warning`,
    /// or `Error`.
    pub fn messages(&self) -> Vec<Message> {
        self.inner
            .borrow()
            .statement_warnings()
            .iter()
            .map(|w| Message { level: w.level, code: w.code.number(), text: w.message.clone() })
            .collect()
    }

    /// A handle that stops this session's running statement from another
    /// thread: it fails with error 1317 (`ER_QUERY_INTERRUPTED`) at its next
    /// batch, undone, and the session stays usable (as `KILL QUERY`). A
    /// cancel while no statement runs is forgotten when the next starts.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.inner.borrow().cancel_handle()
    }

    /// The underlying kernel session (for front ends such as the server).
    pub fn into_kernel_session(self) -> mizzle_session::Session {
        self.inner.into_inner()
    }
}

/// A prepared statement bound to its session: planned once, executed many
/// times with new parameters.
///
/// ```
/// use mizzle::{params, Database};
/// let db = Database::open_in_memory()?;
/// let s = db.session();
/// s.execute("CREATE TABLE sq (n INT PRIMARY KEY, sq INT)", [])?;
/// let mut ins = s.prepare("INSERT INTO sq VALUES (?, ? * ?)")?;
/// for n in 1..=3 {
///     ins.execute(params![n, n, n])?;
/// }
/// let total: i64 = s.query("SELECT SUM(sq) FROM sq", [])?.get(0).unwrap().get(0)?;
/// assert_eq!(total, 14);
/// # Ok::<(), mizzle::Error>(())
/// ```
pub struct Statement<'s> {
    session: &'s Session,
    prepared: mizzle_session::Prepared,
}

impl Statement<'_> {
    /// Number of `?` parameters.
    pub fn param_count(&self) -> usize {
        self.prepared.param_count()
    }

    fn run(&mut self, params: &[Value]) -> Result<Output, Error> {
        self.run_raw(params).map(to_output)
    }

    /// Runs the statement to its end (its commit durable) and returns its
    /// output as the session made it. The session is not borrowed after.
    fn run_raw(&mut self, params: &[Value]) -> Result<StatementOutput, Error> {
        let mut s = self.session.inner.borrow_mut();
        let ex = s.execute_prepared(&mut self.prepared, params).map_err(err)?;
        let ex = s.block_on(ex, Some(&mut self.prepared)).map_err(err)?;
        drop(s);
        let outs = ex.finish().map_err(err)?;
        outs.into_iter()
            .last()
            .ok_or_else(|| Error::new(ErrorCode::Internal, "internal error (a bug in mizzle): no output"))
    }

    /// Executes with parameters; returns rows affected.
    pub fn execute<P: AsRef<[Value]>>(&mut self, params: P) -> Result<Executed, Error> {
        match self.run(params.as_ref())? {
            Output::Done(e) => Ok(e),
            Output::Rows(r) => Ok(Executed { rows_affected: r.len() as u64, last_insert_id: 0 }),
        }
    }

    /// Executes a query with parameters and calls `f` with each row in
    /// order, borrowed; returns the number of rows. Nothing of the result
    /// is built for the caller: the statement's kept operators get the
    /// rows' vectors back for its next execution, so a loop of
    /// `query_each` allocates no result rows (as `rusqlite`'s `query_row`
    /// reads in place). An error from `f` stops the loop and is returned;
    /// the statement has run to its end by then (autocommit: committed).
    /// A statement known to return no rows is refused (1221) before it
    /// runs.
    ///
    /// ```
    /// use mizzle::{params, Database};
    /// let db = Database::open_in_memory()?;
    /// let s = db.session();
    /// s.execute("CREATE TABLE t (n INT PRIMARY KEY, name TEXT)", [])?;
    /// s.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')", [])?;
    /// let mut st = s.prepare("SELECT name FROM t WHERE n >= ? ORDER BY n")?;
    /// let mut names = Vec::new();
    /// let n = st.query_each(params![2], |row| {
    ///     names.push(row.get::<String>(0)?);
    ///     Ok(())
    /// })?;
    /// assert_eq!((n, names), (2, vec!["two".to_string(), "three".to_string()]));
    /// # Ok::<(), mizzle::Error>(())
    /// ```
    pub fn query_each<P, F>(&mut self, params: P, mut f: F) -> Result<u64, Error>
    where
        P: AsRef<[Value]>,
        F: FnMut(RowRef<'_>) -> Result<(), Error>,
    {
        if self.prepared.returns_rows() == Some(false) {
            return Err(Error::new(ErrorCode::WrongUsage, "the statement returns no result set; use execute()"));
        }
        let (columns, rows) = match self.run_raw(params.as_ref())? {
            StatementOutput::Rows { columns, rows } => (columns, rows),
            StatementOutput::Done { .. } => {
                return Err(Error::new(ErrorCode::WrongUsage, "the statement returned no result set"))
            }
        };
        let mut result = Ok(rows.len() as u64);
        for values in &rows {
            if let Err(e) = f(RowRef { values, columns: &columns }) {
                result = Err(e);
                break;
            }
        }
        self.prepared.recycle_rows(rows);
        result
    }

    /// Executes a query with parameters. A statement known to return no
    /// rows is refused (1221) before it runs.
    pub fn query<P: AsRef<[Value]>>(&mut self, params: P) -> Result<Rows, Error> {
        if self.prepared.returns_rows() == Some(false) {
            return Err(Error::new(ErrorCode::WrongUsage, "the statement returns no result set; use execute()"));
        }
        match self.run(params.as_ref())? {
            Output::Rows(r) => Ok(r),
            Output::Done(_) => Err(Error::new(ErrorCode::WrongUsage, "the statement returned no result set")),
        }
    }
}

/// Conversion from a SQL value to a Rust type for [`Row::get`].
pub trait FromValue: Sized {
    /// Converts, or says why not.
    fn from_value(v: &Value) -> Result<Self, String>;
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self, String> {
        Ok(v.clone())
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::UInt(u) => i64::try_from(*u).map_err(|_| format!("{u} does not fit i64")),
            Value::Null => Err("NULL (use Option<i64>)".into()),
            Value::Decimal(d) if d.scale() == 0 || d.normalize().scale() == 0 => {
                i64::try_from(d.trunc_i128()).map_err(|_| format!("{d} does not fit i64"))
            }
            other => Err(format!("{} is not an integer", other.to_text_lossy())),
        }
    }
}

impl FromValue for u64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::UInt(u) => Ok(*u),
            Value::Int(i) => u64::try_from(*i).map_err(|_| format!("{i} does not fit u64")),
            Value::Null => Err("NULL (use Option<u64>)".into()),
            other => i64::from_value(other).and_then(|i| u64::try_from(i).map_err(|_| format!("{i} does not fit u64"))),
        }
    }
}

impl FromValue for i32 {
    fn from_value(v: &Value) -> Result<Self, String> {
        let i = i64::from_value(v)?;
        i32::try_from(i).map_err(|_| format!("{i} does not fit i32"))
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Err("NULL (use Option<f64>)".into()),
            Value::Text(_) | Value::Bytes(_) => Err("a string is not a number".into()),
            other => other.to_f64().ok_or_else(|| "not a number".into()),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        v.truth().ok_or_else(|| "NULL (use Option<bool>)".into())
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Err("NULL (use Option<String>)".into()),
            Value::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| "binary value is not UTF-8".into()),
            other => Ok(other.to_text_lossy()),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Err("NULL (use Option<Vec<u8>>)".into()),
            Value::Bytes(b) => Ok(b.to_vec()),
            other => {
                let mut out = Vec::new();
                other.write_text(&mut out);
                Ok(out)
            }
        }
    }
}

impl FromValue for Decimal {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Err("NULL (use Option<Decimal>)".into()),
            other => other.to_decimal().flatten().ok_or_else(|| "not an exact number".into()),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        if v.is_null() {
            Ok(None)
        } else {
            T::from_value(v).map(Some)
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Session({})", self.inner.borrow().id())
    }
}
