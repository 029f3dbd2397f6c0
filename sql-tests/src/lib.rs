//! The sqllogictest runner: parses `.slt`/`.test` files, runs their records
//! against any engine behind the [`Backend`] traits and counts passed, failed
//! and skipped records exactly as the reference runner
//! `shared/tools/slt_run.py` does, so both runners agree file by file.
//!
//! Invariants:
//! 1. Parsing, value rendering, hashing, labels and counting reproduce
//!    `slt_run.py`; the extensions (`connection [user U@H [PW]]`, `statement error <pattern>`,
//!    `query error <pattern>`, `statement count`, `statement blocks` and
//!    `unblocked`) only change the meaning of records that `slt_run.py`
//!    would fail.
//! 2. Each file runs against a fresh database from [`Backend::open`].
//! 3. Under [`run_cli`] each file runs in its own worker process, so an engine
//!    that panics, overflows its stack or hangs costs only the rest of that
//!    file, bounded by the timeout.
//!
//! It does not know any engine: the `mizzle-slt` binary supplies the backend.
//!
//! A binary is one call; the same executable is re-run as the worker of
//! each file (hidden flag `--slt-worker`), so anything the backend needs
//! besides the file must come from the environment, which workers inherit:
//!
//! ```text
//! fn main() {
//!     std::process::exit(mizzle_slt::run_cli(std::sync::Arc::new(MyBackend::new())));
//! }
//! ```
//!
//! `cargo run -p mizzle-slt --example fake_engine -- sql-tests/runner-tests`
//! shows the runner over the fake engine of the tests.

mod cli;
mod complete;
mod protocol;
mod render;
mod runner;
mod script;
mod supervisor;

pub use cli::{run_cli, run_cli_with_args};
pub use runner::{run_file, run_path, Failure, FileResult, FileStatus, RecordOutcome, RunOptions};
pub use supervisor::{collect_files, run_files, SuiteOptions};

/// One result cell: NULL, or the value's MySQL text-protocol bytes (what a
/// MySQL server sends in a text result row, e.g. `b"3.5000"`, `b"abc"`,
/// `b"1e20"`).
pub type Cell = Option<Vec<u8>>;

/// The rows a query returned. Every row should hold `columns` cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    /// The number of result columns the engine announced.
    pub columns: usize,
    /// The rows, in the order the engine returned them.
    pub rows: Vec<Vec<Cell>>,
}

/// One client session of a [`Database`]. It is `Send` because a statement
/// that waits for a lock (`statement blocks`) runs on a thread of its own
/// while the file's other connections go on.
pub trait Connection: Send {
    /// Runs the SQL text of one record. `Ok(None)`: a statement without a
    /// result set. `Ok(Some(rs))`: a result set. `Err(message)`: the engine's
    /// error message, which begins the way the mysql client prints errors:
    /// `"ERROR 1062 (23000): Duplicate entry ..."`.
    fn run(&mut self, sql: &str) -> Result<Option<ResultSet>, String>;
}

/// The account a `connection NAME user USER@HOST [PASSWORD]` record logs
/// in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// User name.
    pub user: String,
    /// The account's host (`%` when not given).
    pub host: String,
    /// Password (empty when not given).
    pub password: String,
}

/// The database one test file runs against.
pub trait Database {
    /// Opens a new session on this database.
    fn connect(&self) -> Result<Box<dyn Connection>, String>;

    /// Opens a new session logged in as `login`, in this database if the
    /// account may use it (otherwise with none). Engines without accounts
    /// refuse.
    fn connect_as(&self, login: &Login) -> Result<Box<dyn Connection>, String> {
        Err(format!("this engine cannot log in as {}@{}", login.user, login.host))
    }

    /// A count that grows each time a statement of this database begins to
    /// wait for a lock, if the engine tells (`statement blocks` then knows
    /// for sure that its statement waits; without it, a statement still
    /// running after a short pause counts as waiting).
    fn lock_waits_begun(&self) -> Option<u64> {
        None
    }
}

/// The engine under test.
pub trait Backend: Send + Sync {
    /// A fresh, empty database (called once per file).
    fn open(&self) -> Result<Box<dyn Database>, String>;
    /// The engine's labels for `skipif`/`onlyif`, lower case, e.g.
    /// `["mysql", "mizzle"]`.
    fn labels(&self) -> Vec<String>;
}
