//! The execution context: what operators and expressions may use while a
//! statement runs.
//!
//! Invariants:
//! 1. One `Ctx` per statement execution; it owns the statement's warnings,
//!    the stack of outer rows of correlated subqueries and their result
//!    caches, so nothing leaks between statements.
//! 2. `outer` holds exactly one row per subquery level being evaluated;
//!    `Expr::Outer { depth: d }` reads `outer[len - d]`.
//! 3. A statement stops (`KILL QUERY`, `max_execution_time`) only where an
//!    operator calls [`Ctx::check_stop`]: once per batch a scan hands out,
//!    once per outer row of a nested-loop join, once per round of a
//!    recursive CTE; never per row of a scan.

use std::collections::HashMap;
use std::sync::Arc;

use mizzle_dictionary::Dictionary;
use mizzle_txn::Txn;
use mizzle_types::{DateTime, GroupKey, TimeZone, Value, Warning};

use crate::error::ExecError;

/// Session facts that expressions may read (borrowed from the session, so
/// a statement copies no strings to start).
#[derive(Clone, Debug)]
pub struct SessionInfo<'s> {
    /// Current database.
    pub database: Option<&'s str>,
    /// `LAST_INSERT_ID()`.
    pub last_insert_id: u64,
    /// `ROW_COUNT()` of the previous statement.
    pub row_count: i64,
    /// `FOUND_ROWS()` of the previous query.
    pub found_rows: u64,
    /// `CONNECTION_ID()`.
    pub connection_id: u64,
    /// `USER()`.
    pub user: &'s str,
    /// `CURRENT_USER()`: the account whose privileges apply, `user@host`.
    pub current_user: &'s str,
    /// `VERSION()`.
    pub version: &'s str,
    /// The statement's start time (UTC).
    pub now: DateTime,
    /// The session's `time_zone`: TIMESTAMP values are stored in UTC and
    /// computed with in this zone.
    pub time_zone: &'s TimeZone,
    /// `foreign_key_checks`: foreign keys are checked and their actions run.
    pub foreign_key_checks: bool,
}

/// Answers for the built-in tables that describe the server and session.
pub trait SystemInfo {
    /// `SHOW VARIABLES` rows (name, value), sorted by name.
    fn variables(&self) -> Vec<(String, String)>;
    /// `SHOW STATUS` rows.
    fn status(&self) -> Vec<(String, String)>;
    /// Warnings of the previous statement.
    fn previous_warnings(&self) -> Vec<Warning>;
    /// `SHOW ENGINES` rows: (name, comment, default).
    fn engines(&self) -> Vec<(String, String, bool)>;
    /// `SHOW PLUGINS` rows: (name, type, library).
    fn plugins(&self) -> Vec<(String, String, String)>;
    /// Whether the session may see `schema` (and, if given, its table
    /// `table`) in `information_schema` and `SHOW`: it holds some
    /// privilege there. Everything is visible unless the session runs
    /// as an account with privilege checks.
    fn visible(&self, schema: &str, table: Option<&str>) -> bool {
        let _ = (schema, table);
        true
    }
}

/// Why a running statement must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `KILL QUERY` (or `KILL CONNECTION`) from another session.
    Killed,
    /// `max_execution_time` has passed.
    TimedOut,
}

/// Asked at each stop point (invariant 3): whether the statement must stop.
/// The session implements it over its kill flag and the statement's
/// deadline; it must be cheap (an atomic load, a clock read at most).
pub trait StopCheck: Sync {
    /// `Some` once the statement must stop.
    fn should_stop(&self) -> Option<StopReason>;
}

/// A result of a subquery kept for reuse within one statement.
pub(crate) enum SubResult {
    /// A scalar value (or NULL for no row).
    Scalar(Value),
    /// EXISTS.
    Exists(bool),
    /// The set of values of a one-column subquery.
    Set { values: Vec<Value>, hashed: crate::ops::hashkey::KeySet, has_null: bool, uniform: Option<u8> },
}

/// The part of a [`Ctx`] that lives as long as its statement, kept
/// between the calls of a cursor. `outer` is not kept: it is empty
/// between batches (invariant 2).
pub struct CtxState {
    warnings: Vec<Warning>,
    strict: bool,
    rand_state: u64,
    rows_examined: u64,
    subq_cache: HashMap<(usize, GroupKey), Arc<SubResult>>,
    subq_deps: HashMap<usize, Arc<Vec<(usize, usize)>>>,
    work_tables: HashMap<usize, Arc<Vec<Vec<Value>>>>,
}

impl CtxState {
    /// Warnings raised so far.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Takes the warnings raised so far.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }
}

/// Per-statement execution state.
pub struct Ctx<'a> {
    /// The statement's transaction.
    pub txn: &'a Txn,
    /// The dictionary.
    pub dict: &'a Dictionary,
    /// Prepared-statement parameters.
    pub params: &'a [Value],
    /// Session facts.
    pub session: &'a SessionInfo<'a>,
    /// Server and session tables.
    pub system: &'a dyn SystemInfo,
    /// Warnings raised so far.
    pub warnings: Vec<Warning>,
    /// Data-changing context: division by zero and bad conversions are
    /// errors (strict `sql_mode`), not warnings.
    pub strict: bool,
    /// Rows of enclosing query levels (invariant 2).
    pub outer: Vec<Vec<Value>>,
    /// State of `RAND()`.
    pub rand_state: u64,
    /// Rows read from storage, for statistics.
    pub rows_examined: u64,
    pub(crate) subq_cache: HashMap<(usize, GroupKey), Arc<SubResult>>,
    pub(crate) subq_deps: HashMap<usize, Arc<Vec<(usize, usize)>>>,
    /// The input rows of the current round of each running recursive CTE,
    /// by plan id (`ops::recursive`).
    pub(crate) work_tables: HashMap<usize, Arc<Vec<Vec<Value>>>>,
    /// Tables foreign-key checks looked up in this statement, by lower-case
    /// (schema, name); `None` for a missing one (`fk`).
    pub(crate) fk_tables: HashMap<(String, String), Option<Arc<mizzle_dictionary::TableDef>>>,
    /// What may stop the statement (invariant 3); `None`: nothing.
    pub stop: Option<&'a dyn StopCheck>,
    /// `build::fold` evaluated a constant subtree (not a bare literal): an
    /// operator tree built meanwhile may hold a value of this session's
    /// state (a time zone, a character set) and is not kept for another
    /// execution (`build::Reusable`).
    pub folded: bool,
}

impl<'a> Ctx<'a> {
    /// A context for one statement.
    pub fn new(
        txn: &'a Txn,
        dict: &'a Dictionary,
        params: &'a [Value],
        session: &'a SessionInfo<'a>,
        system: &'a dyn SystemInfo,
    ) -> Ctx<'a> {
        let seed = session.now.to_bits() as u64 ^ session.connection_id.rotate_left(32);
        Ctx {
            txn,
            dict,
            params,
            session,
            system,
            warnings: Vec::new(),
            strict: false,
            outer: Vec::new(),
            rand_state: seed,
            rows_examined: 0,
            subq_cache: HashMap::new(),
            subq_deps: HashMap::new(),
            work_tables: HashMap::new(),
            fk_tables: HashMap::new(),
            stop: None,
            folded: false,
        }
    }

    /// Fails with [`ExecError::Interrupted`] or [`ExecError::TimedOut`]
    /// once the statement must stop (invariant 3).
    #[inline]
    pub fn check_stop(&self) -> Result<(), ExecError> {
        match self.stop.and_then(|s| s.should_stop()) {
            None => Ok(()),
            Some(StopReason::Killed) => Err(ExecError::Interrupted),
            Some(StopReason::TimedOut) => Err(ExecError::TimedOut),
        }
    }

    /// Ends this call's use of the context, keeping the statement's state
    /// (warnings, caches, `RAND()` state, counters) for the next: a cursor
    /// pulls its rows over several calls, each with a fresh `Ctx` over the
    /// same transaction and parameters ([`Ctx::resume_state`]).
    pub fn suspend_state(self) -> CtxState {
        CtxState {
            warnings: self.warnings,
            strict: self.strict,
            rand_state: self.rand_state,
            rows_examined: self.rows_examined,
            subq_cache: self.subq_cache,
            subq_deps: self.subq_deps,
            work_tables: self.work_tables,
        }
    }

    /// Goes on with a statement's state kept by [`Ctx::suspend_state`].
    pub fn resume_state(&mut self, st: CtxState) {
        self.warnings = st.warnings;
        self.strict = st.strict;
        self.rand_state = st.rand_state;
        self.rows_examined = st.rows_examined;
        self.subq_cache = st.subq_cache;
        self.subq_deps = st.subq_deps;
        self.work_tables = st.work_tables;
    }

    /// The statement's start time in the session's time zone.
    pub fn local_now(&self) -> DateTime {
        self.session.time_zone.from_utc(self.session.now).unwrap_or(self.session.now)
    }

    /// Adds a warning (at most 64 kept, as `max_error_count`).
    pub fn warn(&mut self, w: Warning) {
        if self.warnings.len() < 64 {
            self.warnings.push(w);
        }
    }
}
