//! A session: current database, transaction, variables and prepared
//! statements, and the dispatch of each statement.
//!
//! Transaction states and transitions (function performing each):
//! - `Idle` (no transaction) -> `Implicit` when a statement starts under
//!   autocommit ([`Session::ensure_txn`]); `Implicit` -> `Idle` when that
//!   statement ends (commit on success, rollback on error).
//! - `Idle` -> `Explicit` on BEGIN / START TRANSACTION, or on any statement
//!   while `autocommit=0` ([`Session::ensure_txn`]); `Explicit` -> `Idle` on
//!   COMMIT or ROLLBACK.
//! - `Explicit` -> `RolledBack` when an error rolls the whole transaction
//!   back (1213: deadlock, write conflict, serialization failure; 1205 when
//!   `innodb_rollback_on_timeout` is on) (`Session::statement_failed`). In
//!   `RolledBack` every statement fails with 3101 without running, COMMIT
//!   too (and ends the block), until ROLLBACK (-> `Idle`) or BEGIN / START
//!   TRANSACTION (-> `Explicit`, a new transaction)
//!   (`Session::in_rolled_back_block`). InnoDB instead goes on in
//!   autocommit after such an error, so a client that missed it commits
//!   the rest of its transaction half-way and its COMMIT succeeds; refusing
//!   until the client acknowledges (as PostgreSQL does) makes that
//!   impossible.
//!
//! Statement states, within any transaction state: `Running` -> `Waiting`
//! when a write or locking read meets another transaction's uncommitted
//! row ([`Session::run`] returns an [`Execution`] holding the lock ticket);
//! `Waiting` -> `Running` by [`Session::resume`] once the ticket completed
//! (the statement runs again from the start, on a new snapshot where the
//! transaction layer allows it) or `Waiting` -> failed (1205) by `resume`
//! after the deadline (`innodb_lock_wait_timeout`, or `lock_wait_timeout`
//! for a dictionary row); `Waiting` -> abandoned when the caller drops the
//! execution and runs something else (`Session::abandon_suspended`). A
//! statement that meets a row committed after its snapshot runs again at
//! once where allowed (`Running` -> `Running`). At most
//! [`MAX_STATEMENT_RESTARTS`] runs again per statement, then 1213. Lock
//! wait deadlines use the monotonic clock (`std::time::Instant`), not the
//! injected wall clock of `NOW()`: a timeout must not move when the wall
//! clock is set.
//!
//! Steps: [`Session::execute`], [`Session::execute_prepared`],
//! [`Session::start_transaction`] and [`Session::resume`] each run until the
//! text ends or the execution parks, and return an [`Execution`]:
//! `Parked(Lock)` (above), `Parked(Durable)` — a commit made by a statement
//! (the implicit commit of an autocommit statement, COMMIT, BEGIN, `SET
//! autocommit = 1`) is not durable yet and another statement of the text
//! follows (`drive`), or a step found the commit of a dropped execution
//! still pending (`settle`) — or finished, perhaps with the last commit's
//! ticket pending ([`Execution::ticket`]). `resume` after a `Durable` park
//! settles the commit (publishes it, or fails the step with its error)
//! and runs the next statement. Dropping an execution hands its pending
//! commit to the session (`CommitSlot`); the next step settles it first.
//! Only the caller-facing wrappers (`execute_blocking`, `query_blocking`,
//! `block_on`, `Execution::finish`, `begin_transaction`) block.
//!
//! Invariants:
//! 1. Every statement runs inside `begin_statement` / `end_statement`, so a
//!    failed statement leaves no effects and the transaction stays usable
//!    (except after 1213, which ends it, as InnoDB does).
//! 2. DDL never commits implicitly; it is part of the transaction.
//! 3. A commit's durability wait and a statement's lock wait happen after
//!    the session returned: [`Execution`] carries the pending commit or the
//!    lock ticket, so the caller decides whether to block or to park the
//!    session. No lock is held while the caller waits.
//! 4. After a transaction-ending error in an explicit block, nothing runs
//!    and nothing commits until the client ends the block.
//! 5. A statement never starts, and a step never finishes, before every
//!    commit of its session is durable, published and visible (so it and
//!    every later snapshot see them), and no step waits: it parks on the
//!    durability ticket, or — when its commit is published but an
//!    earlier-timed commit of another session is not yet (`TxnManager`'s
//!    M4) — yields by parking on its already complete ticket
//!    (`visibility_yield`); those other commits are published by their own
//!    sessions' steps, so no worker waits for a session not running.
//! 6. A panic inside a statement is caught at the session boundary
//!    (`run_caught`): the statement fails with 1105, its transaction rolls
//!    back (an explicit one goes to `RolledBack`), and the session goes on.
//! 7. Cancellation: a [`CancelHandle`] (`KILL QUERY` from another thread)
//!    or the statement's deadline (`max_execution_time`, or the
//!    `/*+ MAX_EXECUTION_TIME(n) */` hint, for queries that lock no rows)
//!    stops the running statement at its executor's next stop point
//!    (`mizzle_exec::ctx::StopCheck`: once per batch) with 1317 or 3024;
//!    it fails as any statement does (undone, the session usable). The kill
//!    flag is cleared when a command (text or prepared execution) starts,
//!    so a KILL QUERY of an idle session does nothing, as in MySQL.

use hashbrown::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mizzle_dictionary::{DictError, Relation, TableDef, DICT_SPACE};
use mizzle_exec::ctx::{Ctx, SessionInfo, StopCheck, StopReason, SystemInfo};
use mizzle_exec::dml::DmlResult;
use mizzle_exec::ExecError;
use mizzle_plugin_api::durability::DurableTicket;
use mizzle_sql::bind::Binder;
use mizzle_sql::plan::{BoundStatement, Ddl, OutCol, SessionStmt, TxnStmt, VarScope};
use mizzle_sql::{BindError, Catalog, StatementRef};
use mizzle_txn::{
    Blocked, IsolationLevel, LockWait, PendingCommit, Published, SpaceId, Ts, Txn, TxnError, TxnOptions, WaitPolicy,
};
use mizzle_types::{Collation, DateTime, ErrorCode, SqlError, SqlType, Value, Warning};
use parking_lot::Mutex;

use crate::catalog::{CatalogState, Clock, DEFAULT_SCHEMA};
use crate::error::SessionError;
use crate::explain::explain_lines;
use crate::vars;

mod cursor;
mod grants;
mod temporary;
use cursor::CursorEnd;
pub use cursor::{Batch, RowCursor};
pub use grants::{administrator_privileges, AccountId, DEFAULT_AUTH_PLUGIN, GRANT_TABLES};

/// Stops a session's running statement from another thread (`KILL
/// QUERY`): the statement fails with 1317 at its next stop point
/// (invariant 7). Cloning shares the session's flag.
#[derive(Clone, Debug)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// Asks the running statement (if any) to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`CancelHandle::cancel`] asked the running statement to
    /// stop (until the session's next statement starts).
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The session's [`StopCheck`] for one statement: its kill flag and its
/// deadline (catalog clock microseconds).
struct Stopper<'a> {
    killed: &'a AtomicBool,
    deadline: Option<i64>,
    clock: &'a dyn Clock,
}

impl StopCheck for Stopper<'_> {
    #[inline]
    fn should_stop(&self) -> Option<StopReason> {
        if self.killed.load(Ordering::Relaxed) {
            return Some(StopReason::Killed);
        }
        match self.deadline {
            Some(d) if self.clock.now_micros() >= d => Some(StopReason::TimedOut),
            _ => None,
        }
    }
}

/// The `MAX_EXECUTION_TIME(n)` optimizer hint of a statement text that is
/// one SELECT with the hint comment right after its keyword, as MySQL
/// reads it: `SELECT /*+ ... MAX_EXECUTION_TIME(n) ... */ ...`.
fn max_execution_time_hint(text: &str) -> Option<u64> {
    let t = text.trim_start();
    let kw = t.get(..6)?;
    if !kw.eq_ignore_ascii_case("select") {
        return None;
    }
    let rest = t.get(6..)?;
    if !rest.starts_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let body = rest.trim_start().strip_prefix("/*+")?;
    let body = body.get(..body.find("*/")?)?;
    let upper = body.to_ascii_uppercase();
    let at = upper.find("MAX_EXECUTION_TIME")? + "MAX_EXECUTION_TIME".len();
    let args = upper.get(at..)?.trim_start().strip_prefix('(')?;
    let args = args.get(..args.find(')')?)?;
    args.trim().parse().ok()
}

/// What running a statement inside its transaction gave.
enum Ran {
    Out(StatementOutput, Vec<Warning>),
    /// A streaming query; its statement is still open.
    Cursor(Box<RowCursor>),
}

/// A result column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnInfo {
    /// Name (alias or expression text).
    pub name: String,
    /// Table alias it came from.
    pub table: Option<String>,
    /// Base (schema, table, column), if a plain column.
    pub origin: Option<(String, String, String)>,
    /// SQL type.
    pub ty: SqlType,
    /// May be NULL.
    pub nullable: bool,
}

impl From<&OutCol> for ColumnInfo {
    fn from(c: &OutCol) -> Self {
        ColumnInfo {
            name: c.name.clone(),
            table: c.table.clone(),
            origin: c.origin.clone(),
            ty: c.ty,
            nullable: c.nullable,
        }
    }
}

/// What one statement produced.
#[derive(Clone, Debug, PartialEq)]
pub enum StatementOutput {
    /// A result set.
    Rows { columns: Arc<Vec<ColumnInfo>>, rows: Vec<Vec<Value>> },
    /// A statement without a result set.
    Done { affected: u64, last_insert_id: u64, info: String },
}

/// Runs of one statement (after lock waits, or on newer snapshots) before
/// it fails with 1213: a bound on livelock. Each run follows a commit (or
/// rollback) of a transaction that was in the way, so the bound is reached
/// only by a statement that loses a thousand races in a row.
pub const MAX_STATEMENT_RESTARTS: u32 = 1000;

/// What a statement text and its parameters are, to run it again after a
/// lock wait.
struct Job {
    parsed: Arc<mizzle_sql::parse::Parsed>,
    consistent: bool,
    /// The last statement must return rows (checked before it runs).
    expect_rows: bool,
    /// Queries return a cursor ([`Park::Rows`]) instead of their rows.
    stream: bool,
}

/// How one statement runs.
#[derive(Clone, Copy)]
struct Mode {
    /// It must return rows (checked before it runs).
    expect_rows: bool,
    /// A query that locks no rows returns a cursor.
    stream: bool,
}

/// What a parked execution waits for before [`Session::resume`] goes on.
enum Wait {
    /// Another transaction's row: run the statement again once the
    /// ticket completed (or fail it at the deadline).
    Lock(LockWait),
    /// The durability of the execution's pending commit: settle the
    /// commit, then run the statement at `index` (the next one, or the one
    /// that needed the commit durable before it could run).
    Durable(DurableTicket),
    /// The statement at `index` streams its rows: the caller pulls them;
    /// once the cursor is exhausted, `resume` runs the next statement.
    Rows(Box<RowCursor>),
}

/// A parked execution: what it waits for, and the rest of its text.
struct Suspended {
    /// The transaction it runs in, by `Txn::serial` (an execution outlived
    /// by its transaction was abandoned and cannot resume).
    txn: u64,
    /// The session's park count when it parked: only the newest park of a
    /// session can resume (the others were abandoned).
    seq: u64,
    wait: Wait,
    deadline: Option<Instant>,
    job: Job,
    params: Vec<Value>,
    /// The statement to run on resume (index into the parsed text).
    index: usize,
    restarts: u32,
}

/// Commits whose execution was dropped before they were settled: the
/// session settles them at its next step (and learns their outcome there),
/// so dropping an execution never waits for durability. When the session
/// is gone too, each commit is published by its ticket's completion
/// callback, on the completing thread.
struct CommitSlot {
    commits: Mutex<Vec<PendingCommit>>,
    /// `commits` is not empty: every step checks this, and only takes the
    /// lock when a commit was left (rarely).
    any: AtomicBool,
}

impl CommitSlot {
    fn new() -> CommitSlot {
        CommitSlot { commits: Mutex::new(Vec::new()), any: AtomicBool::new(false) }
    }

    fn put(&self, p: PendingCommit) {
        let mut v = self.commits.lock();
        v.push(p);
        self.any.store(true, Ordering::Release);
    }

    /// The oldest commit left here.
    fn pop(&self) -> Option<PendingCommit> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let mut v = self.commits.lock();
        let p = if v.is_empty() { None } else { Some(v.remove(0)) };
        self.any.store(!v.is_empty(), Ordering::Release);
        p
    }
}

/// What a parked execution waits on (see [`Execution::parked`]).
pub enum Park<'a> {
    /// A lock held by another transaction; resume once the ticket
    /// completes or at the deadline (`None`: never).
    Lock { wait: &'a LockWait, deadline: Option<Instant> },
    /// A commit's durability (between statements of a multi-statement
    /// text, or before a statement that needs the previous commit
    /// published); resume once the ticket completes.
    Durable(&'a DurableTicket),
    /// A query's rows: pull them with [`Execution::next_batch`] until it
    /// returns `None`, then resume.
    Rows(&'a RowCursor),
}

/// The outcome of one step of the session: outputs, and either nothing
/// left to do, a commit that may still be waiting for durability (the
/// last statement's), or a park (a lock wait, or a commit that must be
/// durable before the next statement runs) after which
/// [`Session::resume`] goes on (invariant 3).
pub struct Execution {
    /// One output per statement run so far.
    pub outputs: Vec<StatementOutput>,
    /// Warnings of the last statement.
    pub warnings: usize,
    pending: Option<PendingCommit>,
    suspended: Option<Box<Suspended>>,
    /// Where `pending` goes if the execution is dropped unsettled.
    home: Option<Arc<CommitSlot>>,
    /// `pending` came from a dropped execution.
    orphan: bool,
    /// Parked until this published commit is visible (a yield: its ticket
    /// is complete). Boxed: rare, and executions move by value.
    unseen: Option<Box<Published>>,
}

impl Drop for Execution {
    fn drop(&mut self) {
        // Never waits: the session (or the ticket's callback) settles it.
        if let Some(p) = self.pending.take() {
            // Without a session, the drop leaves it to its ticket.
            if let Some(h) = &self.home {
                h.put(p);
            }
        }
    }
}

impl Execution {
    fn new() -> Execution {
        Execution {
            outputs: Vec::new(),
            warnings: 0,
            pending: None,
            suspended: None,
            home: None,
            orphan: false,
            unseen: None,
        }
    }

    /// What the execution is parked on, if anything: park (or block) on
    /// it, then call [`Session::resume`]. `None`: finished, apart from
    /// perhaps the last commit's durability ([`Execution::ticket`]).
    pub fn parked(&self) -> Option<Park<'_>> {
        self.suspended.as_ref().map(|s| match &s.wait {
            Wait::Lock(w) => Park::Lock { wait: w, deadline: s.deadline },
            Wait::Durable(t) => Park::Durable(t),
            Wait::Rows(c) => Park::Rows(c),
        })
    }

    /// The next batch of at most `max_rows` rows of the streaming query
    /// this execution is parked on (see [`RowCursor`]); `None` once the
    /// rows are exhausted (the statement has ended then: resume to go on)
    /// or if it streams nothing.
    pub fn next_batch(&mut self, session: &mut Session, max_rows: usize) -> Result<Option<Batch>, SessionError> {
        match self.suspended.as_mut().map(|s| &mut s.wait) {
            Some(Wait::Rows(c)) => c.next_batch(session, max_rows),
            _ => Ok(None),
        }
    }

    /// Gives back rows a [`Execution::next_batch`] returned, once sent
    /// ([`RowCursor::recycle`]); dropped if the execution no longer streams.
    pub fn recycle_rows(&mut self, rows: Vec<Vec<Value>>) {
        if let Some(Wait::Rows(c)) = self.suspended.as_mut().map(|s| &mut s.wait) {
            c.recycle(rows);
        }
    }

    /// How many statements of the text come after the one the execution
    /// is parked on (0 when not parked): a front end sets
    /// MORE_RESULTS_EXISTS on a streamed result's end from it.
    pub fn statements_after_park(&self) -> usize {
        self.suspended.as_ref().map_or(0, |s| s.job.parsed.len().saturating_sub(s.index + 1))
    }

    /// The cursor this execution is parked on, if a query streams.
    pub fn cursor(&mut self) -> Option<&mut RowCursor> {
        match self.suspended.as_mut().map(|s| &mut s.wait) {
            Some(Wait::Rows(c)) => Some(c),
            _ => None,
        }
    }

    /// The durability ticket to wait or park on, if a commit is pending
    /// (the one the execution is parked on, or the last statement's). A
    /// complete ticket while parked means "yield": resume soon.
    pub fn ticket(&self) -> Option<&DurableTicket> {
        if let Some(Wait::Durable(t)) = self.suspended.as_ref().map(|s| &s.wait) {
            return Some(t);
        }
        self.pending.as_ref().map(|p| p.ticket())
    }

    /// The lock ticket a statement waits on, if one does: park on it (or
    /// block), then [`Session::resume`] (also at the deadline).
    pub fn lock_wait(&self) -> Option<&LockWait> {
        match self.suspended.as_ref().map(|s| &s.wait) {
            Some(Wait::Lock(w)) => Some(w),
            _ => None,
        }
    }

    /// When the lock wait times out (`None`: never).
    pub fn lock_deadline(&self) -> Option<Instant> {
        self.suspended.as_ref().and_then(|s| s.deadline)
    }

    /// Caller-facing wrapper: blocks until the last statement's commit (if
    /// any) is durable and visible, publishes it and returns the outputs.
    /// An execution parked before the end of its text is an error: resume
    /// it first ([`Session::block_on`] does); one parked on its last commit
    /// (or that commit's visibility) is waited for here.
    pub fn finish(mut self) -> Result<Vec<StatementOutput>, SessionError> {
        if let Some(s) = &self.suspended {
            // Parked on the last commit only (or on its visibility): wait
            // here, as the caller asked to block.
            let at_end = matches!(s.wait, Wait::Durable(_)) && s.index >= s.job.parsed.len();
            if at_end {
                self.suspended = None;
            }
        }
        if self.suspended.is_some() {
            return Err(SessionError::rule(
                ErrorCode::Internal,
                "internal error (a bug in the caller of mizzle-session): the execution is parked (on a lock or \
                 on a commit between statements); resume it with Session::resume before finishing",
            ));
        }
        if let Some(p) = self.pending.take() {
            let _ = p.ticket().wait();
            p.finish()?;
        }
        if let Some(pb) = self.unseen.take() {
            pb.wait_visible();
        }
        Ok(std::mem::take(&mut self.outputs))
    }
}

/// One statement's run: done, stopped at a lock wait, or stopped before
/// it could run because the commit it made must be durable first.
enum Step {
    Done(StatementOutput, Option<PendingCommit>),
    Wait(LockWait, Option<Instant>),
    /// Park on this commit, settle it, then run the statement again
    /// (`START TRANSACTION WITH CONSISTENT SNAPSHOT` after an implicit
    /// commit: the snapshot must show it).
    Park(PendingCommit),
    /// A query whose rows the caller pulls; the statement stays open.
    Stream(Box<RowCursor>),
}

/// (schema, table, definition version) a plan was built against.
type TableVersion = (String, String, u64);

/// The circumstances of a prepared plan's last dictionary check.
#[derive(Clone, Copy, Debug)]
struct Checked {
    /// The checking transaction (`Txn::serial`).
    txn: u64,
    epoch: u64,
    snapshot: Ts,
    /// The checking transaction had no uncommitted dictionary changes, so
    /// it saw the committed dictionary as of `snapshot`.
    committed_view: bool,
}

/// A statement prepared once and executed many times.
pub struct Prepared {
    sql: String,
    parsed: Arc<mizzle_sql::parse::Parsed>,
    params: usize,
    plan: Option<(Arc<BoundStatement>, Vec<TableVersion>)>,
    /// Result columns of the cached plan (queries).
    columns: Option<Arc<Vec<ColumnInfo>>>,
    /// How the plan was last checked against the dictionary (see
    /// `Session::run_in_txn`).
    checked: Option<Checked>,
    /// The cached plan is a query that locks nothing: run in autocommit it
    /// is a read-only transaction, which never fails validation, so its
    /// dictionary reads need no recording.
    pure_query: bool,
    /// The session's `temp_epoch` when the plan was made.
    temp_epoch: u64,
    /// The operator tree of the cached query plan's last run, rewound and
    /// run again instead of built (`mizzle_exec::build::Reusable`); emptied
    /// whenever the statement is planned again.
    ops: mizzle_exec::build::Reusable,
}

impl Prepared {
    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Number of `?` parameters.
    pub fn param_count(&self) -> usize {
        self.params
    }

    /// Whether the operators of the last run are kept for the next
    /// execution (a query whose run ended and whose build folded no
    /// parameter, clock or variable; see `mizzle_exec::build::Reusable`).
    pub fn keeps_operators(&self) -> bool {
        self.ops.is_kept()
    }

    /// The kept operator trees, with the id of `bound` among them, when
    /// `bound` is this statement's cached plan (the only plan whose tree is
    /// kept). The id is the plan's address: `plan` keeps that `Arc` alive
    /// as long as `ops` may hold its tree, and planning again empties both.
    fn kept_ops(&mut self, bound: &Arc<BoundStatement>) -> Option<(usize, &mut mizzle_exec::build::Reusable)> {
        let cached = self.plan.as_ref().is_some_and(|(b, _)| Arc::ptr_eq(b, bound));
        cached.then_some((Arc::as_ptr(bound) as usize, &mut self.ops))
    }

    /// Gives back the rows an execution of this (query) statement returned,
    /// once the caller has read them: the kept operator tree reuses their
    /// vectors, so the next execution allocates no row vectors.
    pub fn recycle_rows(&mut self, rows: Vec<Vec<Value>>) {
        if let Some((bound, _)) = &self.plan {
            self.ops.recycle(Arc::as_ptr(bound) as usize, rows);
        }
    }

    /// Whether the statement returns rows, when known without running it
    /// (its plan is cached).
    pub fn returns_rows(&self) -> Option<bool> {
        self.plan.as_ref().map(|(b, _)| matches!(b.as_ref(), BoundStatement::Query(_) | BoundStatement::Explain { .. }))
    }

    /// Result columns, if the statement returns rows (as last planned).
    pub fn columns(&self) -> Option<Vec<ColumnInfo>> {
        match &self.plan {
            Some((b, _)) => match b.as_ref() {
                BoundStatement::Query(p) => Some(p.columns().iter().map(ColumnInfo::from).collect()),
                _ => None,
            },
            None => None,
        }
    }
}

struct TxnState {
    txn: Txn,
    explicit: bool,
}

/// One session.
pub struct Session {
    cat: Arc<CatalogState>,
    /// The statements being run (or prepared): the binder names select
    /// items from their text.
    source: Option<Arc<mizzle_sql::parse::Parsed>>,
    id: u64,
    user: String,
    /// `CURRENT_USER()`: `user@host` of the account, `root@localhost`
    /// without one.
    current_user: String,
    /// The account whose privileges are checked (`grants`); `None`: the
    /// session may do anything.
    account: Option<AccountId>,
    /// The account's privileges, while valid (`grants`).
    privs: Option<grants::PrivCache>,
    database: Option<String>,
    txn: Option<TxnState>,
    vars: HashMap<String, String>,
    /// `@@session.time_zone`, parsed (kept equal to `vars["time_zone"]`).
    time_zone: mizzle_types::TimeZone,
    /// Session variables every statement or transaction reads, parsed from
    /// their `vars` entries whenever a SET changes them (`Hot::of`), so the
    /// hot path looks up no variable by name.
    hot: Hot,
    /// The last statement time's day and date: consecutive statements
    /// mostly fall on the same day, whose calendar date is then not worked
    /// out again.
    today: std::cell::Cell<Option<(i64, mizzle_types::Date)>>,
    user_vars: HashMap<String, Value>,
    next_isolation: Option<IsolationLevel>,
    next_read_only: Option<bool>,
    prepared: HashMap<String, Prepared>,
    warnings: Vec<Warning>,
    /// The last statement was a diagnostic one that left the messages
    /// before it in `warnings` (its own count is 0).
    kept_warnings: bool,
    last_insert_id: u64,
    row_count: i64,
    found_rows: u64,
    /// Scope given as `SET SESSION|GLOBAL TRANSACTION` (see `mizzle_sql::parse::parse_mysql`).
    txn_scope: Option<VarScope>,
    /// Bumped by every DDL statement and every ROLLBACK [TO SAVEPOINT] of
    /// this session, and whenever a statement runs again (perhaps on a new
    /// snapshot): a transaction's own dictionary changes (or their undoing)
    /// and snapshot changes within a transaction happen across a bump.
    ddl_epoch: u64,
    /// An execution of this session is parked (it holds the rest; see
    /// `resume`).
    suspended: bool,
    /// Counts parks; a parked execution resumes only if it is the newest.
    park_seq: u64,
    /// Commits of dropped executions, settled at the next step.
    orphans: Arc<CommitSlot>,
    /// The last commit this session published, until it is visible
    /// (`visibility_yield`), with its (complete) ticket.
    unseen: Option<Published>,
    /// The commit `SET autocommit = 1` made, to become its statement's.
    stmt_commit: Option<PendingCommit>,
    /// Test hook: panic in the next statement (debug builds).
    debug_panic: bool,
    /// Where `LOAD DATA LOCAL` reads (see [`LocalFiles`]).
    local_files: LocalFiles,
    /// The parked execution streams a query whose statement is open.
    streaming: bool,
    /// `RolledBack` (see the module documentation): the code of the error
    /// that rolled the explicit transaction back.
    rolled_back: Option<ErrorCode>,
    /// The session's temporary tables (`session::temporary`).
    temp_tables: Vec<Arc<TableDef>>,
    /// Dropped temporary tables, cleared again at the end.
    temp_garbage: Vec<Arc<TableDef>>,
    /// Bumped by CREATE / DROP TEMPORARY TABLE (cached plans).
    temp_epoch: u64,
    /// Set by a [`CancelHandle`]; cleared when a command starts
    /// (invariant 7).
    killed: Arc<AtomicBool>,
    /// Outputs of the statements of a text that ran before the one that
    /// failed the step ([`Session::take_outputs_before_error`]).
    outputs_before_error: Vec<StatementOutput>,
    /// How many messages (errors, warnings and notes) the statement before
    /// the running one left: `@@warning_count`; how many of them were
    /// errors: `@@error_count`.
    previous_warning_count: usize,
    previous_error_count: usize,
}

struct BindCatalog<'a> {
    s: &'a Session,
    txn: &'a Txn,
}

impl Catalog for BindCatalog<'_> {
    fn current_schema(&self) -> Option<String> {
        self.s.database.clone()
    }

    fn source_text(&self) -> Option<&str> {
        self.s.source.as_deref().map(|p| p.text())
    }

    fn relation(&self, schema: &str, name: &str) -> Result<Option<Relation>, BindError> {
        if let Some(t) = self.s.temporary_table(schema, name) {
            return Ok(Some(Relation::Table(t)));
        }
        Ok(self.s.cat.dict.get_relation(self.txn, schema, name)?)
    }

    fn schema_exists(&self, schema: &str) -> Result<bool, BindError> {
        Ok(self.s.cat.dict.schema_exists(self.txn, schema)?)
    }

    fn schema_collation(&self, schema: &str) -> Result<Option<Collation>, BindError> {
        Ok(self.s.cat.dict.get_schema(self.txn, schema)?.map(|s| s.collation))
    }

    fn system_variable(&self, name: &str, global: bool) -> Option<Value> {
        self.s.variable(name, global)
    }

    fn user_variable(&self, name: &str) -> Value {
        self.s.user_vars.get(&name.to_lowercase()).cloned().unwrap_or(Value::Null)
    }
}

struct Sys<'a> {
    s: &'a Session,
    previous: &'a [Warning],
}

impl SystemInfo for Sys<'_> {
    fn variables(&self) -> Vec<(String, String)> {
        vars::VARS
            .iter()
            .map(|d| {
                let v = self.s.vars.get(d.name).cloned().unwrap_or_else(|| d.default.to_string());
                (d.name.to_string(), v)
            })
            .collect()
    }

    fn status(&self) -> Vec<(String, String)> {
        let l = self.s.cat.txns.lock_stats();
        let ms = |us: u64| (us / 1000).to_string();
        let avg = if l.waits > l.current_waits { l.wait_micros / (l.waits - l.current_waits) } else { 0 };
        let last = match &l.last_deadlock {
            Some(d) => self.s.describe_deadlock(d),
            None => String::new(),
        };
        let own: Vec<(String, String)> = vec![
            // MariaDB's name; MySQL 8 counts it as INNODB_METRICS lock_deadlocks.
            ("Innodb_deadlocks".into(), l.deadlocks.to_string()),
            ("Innodb_row_lock_current_waits".into(), l.current_waits.to_string()),
            ("Innodb_row_lock_time".into(), ms(l.wait_micros)),
            ("Innodb_row_lock_time_avg".into(), ms(avg)),
            ("Innodb_row_lock_time_max".into(), ms(l.max_wait_micros)),
            ("Innodb_row_lock_waits".into(), l.waits.to_string()),
            ("Mizzle_last_deadlock".into(), last),
            ("Mizzle_lock_wait_timeouts".into(), l.timeouts.to_string()),
            ("Mizzle_statement_restarts".into(), l.restarts.to_string()),
            ("Questions".into(), "0".into()),
            ("Threads_connected".into(), "1".into()),
            ("Uptime".into(), "0".into()),
        ];
        // A front end's rows replace the catalog's of the same name; all
        // in name order.
        let mut rows: std::collections::BTreeMap<String, String> = own.into_iter().collect();
        // The storage engine's counters (the disk engine's log syncs,
        // checkpoints, page cache), as `Mizzle_engine_<name>`.
        rows.extend(
            self.s.cat.txns.engine().stats().into_iter().map(|(k, v)| (format!("Mizzle_engine_{k}"), v.to_string())),
        );
        rows.extend(self.s.cat.front_end_status());
        rows.into_iter().collect()
    }

    fn previous_warnings(&self) -> Vec<Warning> {
        self.previous.to_vec()
    }

    fn engines(&self) -> Vec<(String, String, bool)> {
        self.s
            .cat
            .plugins
            .iter()
            .filter(|p| p.kind == "STORAGE ENGINE")
            .map(|p| (p.name.clone(), p.description.clone(), p.name == self.s.cat.engine_name))
            .collect()
    }

    fn plugins(&self) -> Vec<(String, String, String)> {
        let extra = self.s.cat.front_end_plugins.read();
        self.s
            .cat
            .plugins
            .iter()
            .chain(extra.iter())
            .map(|p| (p.name.clone(), p.kind.clone(), p.library.clone()))
            .collect()
    }

    fn visible(&self, schema: &str, table: Option<&str>) -> bool {
        self.s.may_see(schema, table)
    }
}

fn done(affected: u64) -> StatementOutput {
    StatementOutput::Done { affected, last_insert_id: 0, info: String::new() }
}

fn iso_name(i: IsolationLevel) -> &'static str {
    i.as_str()
}

fn parse_iso(s: &str) -> IsolationLevel {
    match s {
        "READ-COMMITTED" | "READ-UNCOMMITTED" => IsolationLevel::ReadCommitted,
        "SERIALIZABLE" => IsolationLevel::Serializable,
        _ => IsolationLevel::RepeatableRead,
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The open transaction (if no execution holds it) rolls back
        // first, then the temporary tables go (`session::temporary`).
        self.txn = None;
        self.clear_temporary_tables();
    }
}

/// The session variables read on every statement or transaction, parsed
/// (`Session::hot`).
#[derive(Clone, Copy, Debug)]
struct Hot {
    /// `foreign_key_checks` (ON unless set otherwise).
    fk_checks: bool,
    /// `autocommit` (ON unless set otherwise).
    autocommit: bool,
    /// `transaction_read_only`.
    read_only: bool,
    /// `transaction_isolation` (REPEATABLE-READ unless set otherwise).
    isolation: IsolationLevel,
    /// `innodb_flush_log_at_trx_commit` as a sync mode: 1 full, 2 normal,
    /// 0 off; `None` (the engine's default) for anything else.
    commit_sync: Option<mizzle_txn::SyncMode>,
}

impl Hot {
    fn of(vars: &HashMap<String, String>) -> Hot {
        let on = |name: &str| vars.get(name).map(|v| v == "ON");
        Hot {
            fk_checks: on("foreign_key_checks").unwrap_or(true),
            autocommit: on("autocommit").unwrap_or(true),
            read_only: on("transaction_read_only").unwrap_or(false),
            isolation: parse_iso(vars.get("transaction_isolation").map(|s| s.as_str()).unwrap_or("REPEATABLE-READ")),
            commit_sync: match vars.get("innodb_flush_log_at_trx_commit").map(|s| s.as_str()) {
                Some("1") => Some(mizzle_txn::SyncMode::Full),
                Some("2") => Some(mizzle_txn::SyncMode::Normal),
                Some("0") => Some(mizzle_txn::SyncMode::Off),
                _ => None,
            },
        }
    }
}

impl Session {
    /// A new session on a catalog, in the default schema.
    pub fn new(cat: Arc<CatalogState>) -> Session {
        let id = cat.next_connection_id();
        let vars = cat.globals.read().clone();
        let mut s = Session {
            cat,
            source: None,
            id,
            user: "root@localhost".into(),
            current_user: "root@localhost".into(),
            account: None,
            privs: None,
            database: Some(DEFAULT_SCHEMA.into()),
            txn: None,
            time_zone: vars.get("time_zone").and_then(|z| mizzle_types::TimeZone::parse(z)).unwrap_or_default(),
            hot: Hot::of(&vars),
            today: std::cell::Cell::new(None),
            vars,
            user_vars: HashMap::new(),
            next_isolation: None,
            next_read_only: None,
            prepared: HashMap::new(),
            warnings: Vec::new(),
            kept_warnings: false,
            last_insert_id: 0,
            row_count: -1,
            found_rows: 0,
            txn_scope: None,
            ddl_epoch: 0,
            suspended: false,
            park_seq: 0,
            orphans: Arc::new(CommitSlot::new()),
            unseen: None,
            stmt_commit: None,
            debug_panic: false,
            local_files: LocalFiles::Process,
            streaming: false,
            rolled_back: None,
            temp_tables: Vec::new(),
            temp_garbage: Vec::new(),
            temp_epoch: 0,
            killed: Arc::new(AtomicBool::new(false)),
            outputs_before_error: Vec::new(),
            previous_warning_count: 0,
            previous_error_count: 0,
        };
        let c = Session::default_database_collation(&s.cat);
        s.set_database_vars(c);
        s
    }

    /// After a step failed on a statement of a multi-statement text: the
    /// outputs of the statements before it in that step, which ran and
    /// whose commits are durable (a front end sends them before the
    /// error, as MySQL does). Empty otherwise; cleared when a command
    /// starts.
    pub fn take_outputs_before_error(&mut self) -> Vec<StatementOutput> {
        std::mem::take(&mut self.outputs_before_error)
    }

    /// Gives this session the connection id `id` (`CONNECTION_ID()`): a
    /// front end that replaces a connection's session (COM_RESET_CONNECTION,
    /// COM_CHANGE_USER) keeps the connection's id.
    pub fn set_connection_id(&mut self, id: u64) {
        self.id = id;
    }

    /// A handle that stops this session's running statement from another
    /// thread (invariant 7).
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.killed.clone())
    }

    /// The deadline of a statement bound as `bound` starting now: queries
    /// that lock no rows get `max_execution_time` milliseconds (or their
    /// hint's), as MySQL applies it to read-only SELECTs (invariant 7).
    fn statement_deadline(&self, bound: &BoundStatement) -> Option<i64> {
        if !matches!(bound, BoundStatement::Query(_)) {
            return None;
        }
        let hint = self.source.as_deref().filter(|p| p.len() == 1).and_then(|p| max_execution_time_hint(p.text()));
        let ms = match hint {
            Some(ms) => ms,
            None => self.vars.get("max_execution_time").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0),
        };
        // The plan walk last: most statements have no limit.
        if ms == 0 || matches!(bound, BoundStatement::Query(q) if q.locks_rows()) {
            return None;
        }
        let micros = i64::try_from(ms.saturating_mul(1000)).unwrap_or(i64::MAX);
        Some(self.cat.clock.now_micros().saturating_add(micros))
    }

    /// The connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The current database.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Selects the current database (like `USE`), checking that it exists
    /// and that the session's account holds some privilege in it (1044).
    pub fn set_database(&mut self, db: Option<String>) -> Result<(), SessionError> {
        // `information_schema` and `performance_schema` exist in every
        // catalog (as MySQL spells them, whatever the case given).
        if let Some(sys) = db.as_deref().and_then(mizzle_sql::plan::system_schema) {
            self.check_use(sys)?;
            self.set_database_vars(None);
            self.database = Some(sys.to_string());
            return Ok(());
        }
        if let Some(d) = &db {
            self.check_use(d)?;
            let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
            t.begin_statement()?;
            let schema = self.cat.dict.get_schema(&t, d)?;
            t.rollback();
            let Some(schema) = schema else {
                return Err(SessionError::rule(ErrorCode::UnknownDatabase, format!("Unknown database '{d}'")));
            };
            self.set_database_vars(Some(schema.collation));
        } else {
            self.set_database_vars(None);
        }
        self.database = db;
        Ok(())
    }

    /// Sets `@@collation_database` / `@@character_set_database` when the
    /// current database changes (MySQL: to the database's default; with
    /// none, to `@@collation_server`).
    fn set_database_vars(&mut self, collation: Option<Collation>) {
        let c = collation
            .or_else(|| self.vars.get("collation_server").and_then(|c| Collation::from_name(c)))
            .unwrap_or(Collation::SERVER_DEFAULT);
        self.vars.insert("collation_database".into(), c.name().into());
        self.vars.insert("character_set_database".into(), "utf8mb4".into());
    }

    /// The default database's collation, read once when a session starts.
    fn default_database_collation(cat: &CatalogState) -> Option<Collation> {
        let t = cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
        t.begin_statement().ok()?;
        let c = cat.dict.get_schema(&t, DEFAULT_SCHEMA).ok().flatten().map(|s| s.collation);
        t.rollback();
        c
    }

    /// Sets `@@collation_connection` as a client's handshake asks (its
    /// collation id): a utf8mb4 collation mizzle has, else the
    /// `_general_ci` of a client that named another character set, as
    /// every client is answered in utf8mb4.
    pub fn set_client_collation(&mut self, id: u16) {
        let c = Collation::from_id(id).unwrap_or(Collation::Utf8mb4GeneralCi);
        self.vars.insert("collation_connection".into(), c.name().to_string());
    }

    /// Sets the user name shown by USER().
    pub fn set_user(&mut self, user: &str) {
        self.user = user.to_string();
    }

    /// Where `LOAD DATA LOCAL INFILE` reads its file (a server sets
    /// [`LocalFiles::Client`]).
    pub fn set_local_files(&mut self, f: LocalFiles) {
        self.local_files = f;
    }

    /// Opens LOAD DATA's file: LOCAL from the client's bytes or this
    /// process's files; otherwise a server-side file that
    /// `secure_file_priv` allows (NULL: none, 1290; empty: any; else only
    /// files under that directory). Relative names are relative to the
    /// process's working directory.
    fn open_load_file(&self, l: &mizzle_sql::plan::LoadPlan) -> Result<Box<dyn std::io::Read + Send>, SessionError> {
        let not_found = |name: &str, e: &std::io::Error| {
            SessionError::rule(
                ErrorCode::FileNotFound,
                format!("File '{name}' not found (OS errno {} - {e})", e.raw_os_error().unwrap_or(0)),
            )
        };
        let path = match (&self.local_files, l.local) {
            (LocalFiles::Process, true) => std::path::PathBuf::from(&l.file),
            (LocalFiles::Client(Some((name, path))), true) if *name == l.file => path.clone(),
            (LocalFiles::Client(_), true) => {
                return Err(SessionError::rule(
                    ErrorCode::NotAllowedCommand,
                    "The used command is not allowed with this MySQL version (LOAD DATA LOCAL runs only as a statement of its own)",
                ))
            }
            (_, false) => {
                let Some(dir) = &l.secure_file_priv else {
                    return Err(SessionError::rule(
                        ErrorCode::OptionPreventsStatement,
                        "The MySQL server is running with the --secure-file-priv option so it cannot execute this statement",
                    ));
                };
                let path = std::path::PathBuf::from(&l.file);
                if !dir.is_empty() {
                    let full = std::fs::canonicalize(&path).map_err(|e| not_found(&l.file, &e))?;
                    let root = std::fs::canonicalize(dir).map_err(|e| not_found(dir, &e))?;
                    if !full.starts_with(&root) {
                        return Err(SessionError::rule(
                            ErrorCode::OptionPreventsStatement,
                            "The MySQL server is running with the --secure-file-priv option so it cannot execute this statement",
                        ));
                    }
                }
                path
            }
        };
        let f = std::fs::File::open(&path).map_err(|e| not_found(&l.file, &e))?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(SessionError::rule(
                ErrorCode::FileNotFound,
                format!("File '{}' not found (OS errno 21 - Is a directory)", l.file),
            ));
        }
        Ok(Box::new(f))
    }

    /// True inside an explicit transaction block (also one that an error
    /// rolled back and that the client has not ended yet).
    pub fn in_transaction(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.explicit) || self.rolled_back.is_some()
    }

    /// True when an error rolled the explicit transaction back and every
    /// statement is refused until ROLLBACK or BEGIN (module documentation).
    pub fn transaction_rolled_back(&self) -> bool {
        self.rolled_back.is_some()
    }

    /// True when autocommit is on.
    pub fn autocommit(&self) -> bool {
        self.hot.autocommit
    }

    /// The messages `SHOW WARNINGS` shows now: the last statement's, or,
    /// after a diagnostic statement (`SHOW WARNINGS`, `SHOW ERRORS`, `SHOW
    /// COUNT(*) ...`), which leaves them in place, those before it.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The last statement's own messages: none after a diagnostic
    /// statement (what a client reports as the statement's warning count).
    pub fn statement_warnings(&self) -> &[Warning] {
        if self.kept_warnings {
            &[]
        } else {
            &self.warnings
        }
    }

    /// `LAST_INSERT_ID()`.
    pub fn last_insert_id(&self) -> u64 {
        self.last_insert_id
    }

    /// The catalog.
    pub fn catalog(&self) -> &Arc<CatalogState> {
        &self.cat
    }

    fn variable(&self, name: &str, global: bool) -> Option<Value> {
        if name == "warning_count" || name == "error_count" {
            // Session-only and read-only, as in MySQL: the messages (or
            // errors) of the statement before the one reading it.
            let n = if name == "warning_count" { self.previous_warning_count } else { self.previous_error_count };
            return (!global).then_some(Value::UInt(n as u64));
        }
        let name = match name {
            "tx_isolation" => "transaction_isolation",
            "tx_read_only" => "transaction_read_only",
            n => n,
        };
        let d = vars::find(name)?;
        let text = if global { self.cat.globals.read().get(name).cloned() } else { self.vars.get(name).cloned() };
        Some(vars::to_value(d, &text.unwrap_or_else(|| d.default.to_string())))
    }

    fn session_isolation(&self) -> IsolationLevel {
        self.hot.isolation
    }

    fn begin_txn(&mut self, explicit: bool, iso: Option<IsolationLevel>, ro: Option<bool>) -> Txn {
        let isolation = iso.or(self.next_isolation.take()).unwrap_or_else(|| self.session_isolation());
        let read_only = ro.or(self.next_read_only.take()).unwrap_or(self.hot.read_only);
        let opts = TxnOptions { isolation, read_only };
        // An autocommit statement's transaction draws its id only if it
        // writes or waits: an autocommit read writes no shared cache line.
        let txn = if explicit { self.cat.txns.begin(opts) } else { self.cat.txns.begin_deferred(opts) };
        self.txn = Some(TxnState { txn: txn.clone(), explicit });
        txn
    }

    /// The transaction a statement runs in, starting one if needed.
    fn ensure_txn(&mut self) -> Txn {
        if let Some(t) = &self.txn {
            if t.txn.is_active() {
                return t.txn.clone();
            }
        }
        let explicit = !self.autocommit();
        self.begin_txn(explicit, None, None)
    }

    /// Commits the open transaction; `None` if there was none or its
    /// commit is settled already (read-only), so the hot path of an
    /// autocommit query carries no commit to settle.
    fn commit_current(&mut self) -> Result<Option<PendingCommit>, SessionError> {
        match self.txn.take() {
            Some(t) if t.txn.is_active() => {
                Ok(Some(t.txn.commit_with(self.commit_sync())?).filter(|p| !p.is_settled()))
            }
            _ => Ok(None),
        }
    }

    /// The durability commits of this session ask for
    /// (`innodb_flush_log_at_trx_commit`: 1 full, 2 normal, 0 off).
    fn commit_sync(&self) -> Option<mizzle_txn::SyncMode> {
        self.hot.commit_sync
    }

    fn rollback_current(&mut self) {
        if let Some(t) = self.txn.take() {
            t.txn.rollback();
        }
    }

    fn now(&self) -> DateTime {
        use mizzle_types::datetime::MICROS_PER_DAY;
        let us = self.cat.clock.now_micros();
        let day = us.div_euclid(MICROS_PER_DAY);
        let date = match self.today.get() {
            Some((d, date)) if d == day => Some(date),
            _ => {
                let date = mizzle_types::Date::from_day_number(day);
                self.today.set(date.map(|x| (day, x)));
                date
            }
        };
        match date {
            Some(d) => DateTime::from_parts(d, us.rem_euclid(MICROS_PER_DAY)),
            None => DateTime::from_parts(epoch(), 0),
        }
    }

    fn info(&self) -> SessionInfo<'_> {
        SessionInfo {
            database: self.database.as_deref(),
            last_insert_id: self.last_insert_id,
            row_count: self.row_count,
            found_rows: self.found_rows,
            connection_id: self.id,
            user: &self.user,
            current_user: &self.current_user,
            version: vars::VERSION,
            now: self.now(),
            time_zone: &self.time_zone,
            foreign_key_checks: self.hot.fk_checks,
        }
    }

    /// Executes one or more `;`-separated statements with `?` parameters.
    /// The result may hold a statement waiting for a lock: see
    /// [`Execution::lock_wait`] and [`Session::resume`].
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Execution, SessionError> {
        self.execute_text(sql, params, false, false)
    }

    /// [`Session::execute`] whose queries (those that lock no rows) stream:
    /// the execution parks on a [`RowCursor`] ([`Park::Rows`]) that the
    /// caller drains with [`Execution::next_batch`] before resuming; the
    /// rows are not in `outputs`. Locking reads are materialized (they may
    /// have to run again after a lock wait, which rows already sent forbid).
    pub fn execute_streaming(&mut self, sql: &str, params: &[Value]) -> Result<Execution, SessionError> {
        self.execute_text(sql, params, false, true)
    }

    /// [`Session::execute`] for text whose last statement must return rows:
    /// if it is one that returns none, it fails (1221) before it runs.
    pub fn execute_query(&mut self, sql: &str, params: &[Value]) -> Result<Execution, SessionError> {
        self.execute_text(sql, params, true, false)
    }

    fn execute_text(
        &mut self,
        sql: &str,
        params: &[Value],
        expect_rows: bool,
        stream: bool,
    ) -> Result<Execution, SessionError> {
        self.abandon_suspended();
        self.killed.store(false, Ordering::Relaxed);
        self.outputs_before_error.clear();
        let parsed = mizzle_sql::parse::parse_mysql(sql)?;
        self.txn_scope = parsed.txn_scope();
        if parsed.is_empty() {
            return Err(SessionError::rule(ErrorCode::Syntax, "Query was empty"));
        }
        let consistent = parsed.consistent_snapshot();
        let job = Job { parsed: Arc::new(parsed), consistent, expect_rows, stream };
        self.drive(Execution::new(), job, params, 0, None, 0)
    }

    /// Settles the commits a statement must follow: the execution's own
    /// pending commit, and (before the first statement a step runs) those
    /// of dropped executions, oldest first. Returns the ticket to park on
    /// if one is not durable yet (it stays in `ex.pending`). A failed
    /// commit fails the step; nothing after it runs.
    #[inline]
    fn settle(&mut self, ex: &mut Execution, first: bool) -> Result<Option<DurableTicket>, SessionError> {
        // The hot path: nothing to settle (checked without a call).
        if ex.pending.is_none() && self.unseen.is_none() && !(first && self.orphans.any.load(Ordering::Acquire)) {
            return Ok(None);
        }
        self.settle_slow(ex, first)
    }

    #[inline(never)]
    fn settle_slow(&mut self, ex: &mut Execution, first: bool) -> Result<Option<DurableTicket>, SessionError> {
        loop {
            let (p, orphan) = match ex.pending.take() {
                Some(p) => (p, ex.orphan),
                None if first => match self.orphans.pop() {
                    Some(p) => (p, true),
                    None => return Ok(self.visibility_yield(ex)),
                },
                None => return Ok(self.visibility_yield(ex)),
            };
            if p.ticket().poll().is_none() {
                let t = p.ticket().clone();
                ex.pending = Some(p);
                ex.orphan = orphan;
                return Ok(Some(t));
            }
            ex.orphan = false;
            // Durable (or failed): publishing does not wait for I/O.
            if let Err(e) = self.publish(p) {
                let e = SessionError::from(e);
                if !orphan {
                    return Err(e);
                }
                return Err(SessionError::rule(
                    e.code(),
                    format!("the commit of an earlier statement (whose execution was dropped) failed: {e}"),
                ));
            }
        }
    }

    /// Publishes a durable commit without waiting for it to become
    /// visible (M4): `visibility_yield` parks instead.
    fn publish(&mut self, p: PendingCommit) -> Result<(), TxnError> {
        // `None`: visible already, which makes every earlier commit of the
        // session visible too.
        self.unseen = p.publish()?;
        Ok(())
    }

    /// The (complete) ticket to park on if the session's last published
    /// commit is not visible yet: earlier commits of other sessions are
    /// still being published. A scheduler resumes at once (a yield), and
    /// the next statement starts only once its session's commits are
    /// visible; `block_on` and `finish` block instead.
    fn visibility_yield(&mut self, ex: &mut Execution) -> Option<DurableTicket> {
        match &self.unseen {
            Some(pb) if !pb.is_visible() => {
                ex.unseen = Some(Box::new(pb.clone()));
                Some(pb.ticket().clone())
            }
            _ => {
                self.unseen = None;
                None
            }
        }
    }

    /// Parks `ex` on `wait`, to go on at statement `index` of `job`.
    #[allow(clippy::too_many_arguments)]
    fn park(
        &mut self,
        mut ex: Execution,
        wait: Wait,
        deadline: Option<Instant>,
        job: Job,
        params: &[Value],
        index: usize,
        restarts: u32,
    ) -> Execution {
        self.suspended = true;
        self.park_seq += 1;
        ex.warnings = self.statement_warnings().len();
        let txn = self.txn.as_ref().map_or(0, |t| t.txn.serial());
        ex.suspended = Some(Box::new(Suspended {
            txn,
            seq: self.park_seq,
            wait,
            deadline,
            job,
            params: params.to_vec(),
            index,
            restarts,
        }));
        if ex.pending.is_some() && ex.home.is_none() {
            ex.home = Some(self.orphans.clone());
        }
        ex
    }

    /// Runs the statements of `job` from `from` on, until the end or a
    /// park: a lock wait, or a commit not yet durable before the next
    /// statement (a statement never starts before the previous one's
    /// commit is published, so it sees it). Never blocks on a ticket.
    fn drive(
        &mut self,
        mut ex: Execution,
        job: Job,
        params: &[Value],
        from: usize,
        mut prepared: Option<&mut Prepared>,
        mut restarts: u32,
    ) -> Result<Execution, SessionError> {
        let parsed = job.parsed.clone();
        self.source = Some(parsed.clone());
        let n = parsed.len();
        for (i, stmt) in parsed.iter().enumerate().skip(from) {
            if let Some(t) = self.settle(&mut ex, i == from)? {
                return Ok(self.park(ex, Wait::Durable(t), None, job, params, i, restarts));
            }
            let mode = Mode { expect_rows: job.expect_rows && i + 1 == n, stream: job.stream };
            let step = match self.run_caught(stmt, params, prepared.as_deref_mut(), job.consistent, mode, &mut restarts)
            {
                Ok(s) => s,
                Err(e) => {
                    // The statements before it ran and their commits are
                    // durable and published (they were settled above).
                    self.outputs_before_error = std::mem::take(&mut ex.outputs);
                    return Err(e);
                }
            };
            match step {
                Step::Done(out, pending) => {
                    ex.pending = pending;
                    ex.outputs.push(out);
                    restarts = 0;
                }
                Step::Wait(wait, deadline) => {
                    return Ok(self.park(ex, Wait::Lock(wait), deadline, job, params, i, restarts));
                }
                Step::Park(p) => {
                    let t = p.ticket().clone();
                    ex.pending = Some(p);
                    return Ok(self.park(ex, Wait::Durable(t), None, job, params, i, restarts));
                }
                Step::Stream(mut c) => {
                    c.seq = self.park_seq + 1;
                    self.streaming = true;
                    return Ok(self.park(ex, Wait::Rows(c), None, job, params, i, 0));
                }
            }
        }
        ex.warnings = self.statement_warnings().len();
        // The last commit: published now if durable (always, on a
        // non-persistent engine); otherwise the execution parks on it at
        // the end of the text (`finish` may block on it instead).
        if let Some(t) = self.settle(&mut ex, false)? {
            return Ok(self.park(ex, Wait::Durable(t), None, job, params, n, restarts));
        }
        Ok(ex)
    }

    /// Goes on with an execution whose statement waited for a lock: once
    /// its ticket completed, runs the statement again (and the rest of the
    /// text); at or after its deadline with the ticket still pending, fails
    /// the statement with 1205 (the transaction goes on, unless
    /// `innodb_rollback_on_timeout`). Called early, it returns the
    /// execution still waiting. An execution that waits for nothing is
    /// returned as it is.
    pub fn resume(&mut self, ex: Execution) -> Result<Execution, SessionError> {
        self.resume_with(ex, None)
    }

    /// [`Session::resume`] for an execution of a prepared statement.
    pub fn resume_prepared(&mut self, p: &mut Prepared, ex: Execution) -> Result<Execution, SessionError> {
        self.resume_with(ex, Some(p))
    }

    fn resume_with(
        &mut self,
        mut ex: Execution,
        mut prepared: Option<&mut Prepared>,
    ) -> Result<Execution, SessionError> {
        let Some(mut s) = ex.suspended.take() else {
            return Ok(ex);
        };
        if !self.suspended || s.seq != self.park_seq {
            return Err(SessionError::rule(
                ErrorCode::WrongUsage,
                "this execution was parked and abandoned: the session ran other statements since",
            ));
        }
        if let Wait::Rows(c) = &mut s.wait {
            let pending = match &mut c.end {
                CursorEnd::Open => {
                    // Still streaming: the caller drains it first.
                    ex.suspended = Some(s);
                    return Ok(ex);
                }
                CursorEnd::Failed => {
                    self.suspended = false;
                    return Err(SessionError::rule(
                        ErrorCode::WrongUsage,
                        "the streaming statement failed; the rest of the text does not run",
                    ));
                }
                CursorEnd::Done(p) => p.take(),
            };
            if let (Some(plan), Some(p)) = (c.keep.take(), prepared.as_deref_mut()) {
                if let Some((id, ops)) = p.kept_ops(&plan) {
                    // Ran to its end: kept for the next execution.
                    ops.keep(id, std::mem::replace(&mut c.op, mizzle_exec::build::empty()));
                }
            }
            self.suspended = false;
            ex.pending = pending;
            let params = std::mem::take(&mut s.params);
            let s = *s;
            return self.drive(ex, s.job, &params, s.index + 1, prepared, 0);
        }
        if let Wait::Durable(t) = &s.wait {
            if t.poll().is_none() {
                ex.suspended = Some(s);
                return Ok(ex);
            }
            self.suspended = false;
            ex.unseen = None;
            // `drive` settles the commit (reporting a failed one) first.
            let params = std::mem::take(&mut s.params);
            let s = *s;
            return self.drive(ex, s.job, &params, s.index, prepared, s.restarts);
        }
        let Wait::Lock(wait) = &s.wait else {
            return Err(SessionError::rule(ErrorCode::Internal, "internal error (a bug): unknown park"));
        };
        let current = self.txn.as_ref().filter(|t| t.txn.serial() == s.txn);
        let Some((txn, implicit)) = current.map(|t| (t.txn.clone(), !t.explicit)) else {
            return Err(SessionError::rule(
                ErrorCode::WrongUsage,
                "this execution waited for a lock and was abandoned: the session ran other statements since",
            ));
        };
        self.suspended = false;
        if self.killed.load(Ordering::Relaxed) {
            // KILL QUERY while parked on a row lock: the statement stops
            // with 1317 and its transaction stays open, as in MySQL.
            if !txn.give_up_wait() && txn.retry_visible() {
                // The ticket completed meanwhile: settle the wait first (a
                // retry whose commit is not visible yet is left blocked; the
                // next statement withdraws it).
                if let Err(e) = txn.resume() {
                    return Err(self.statement_failed(e.into(), &txn, implicit));
                }
            }
            let e = SessionError::rule(ErrorCode::QueryInterrupted, "Query execution was interrupted");
            return Err(self.statement_failed(e, &txn, implicit));
        }
        if wait.poll().is_none() {
            let due = s.deadline.is_some_and(|d| Instant::now() >= d);
            if !due {
                self.suspended = true;
                ex.suspended = Some(s);
                return Ok(ex);
            }
            if txn.give_up_wait() {
                let e = SessionError::rule(
                    ErrorCode::LockWaitTimeout,
                    "Lock wait timeout exceeded; try restarting transaction",
                );
                return Err(self.statement_failed(e, &txn, implicit));
            }
            // The ticket completed meanwhile: go on.
        }
        if !txn.retry_visible() {
            // A yield (see `run`): the commit that stopped the statement is
            // still being published.
            self.suspended = true;
            ex.suspended = Some(s);
            return Ok(ex);
        }
        if let Err(e) = txn.resume() {
            return Err(self.statement_failed(e.into(), &txn, implicit));
        }
        s.restarts += 1;
        if s.restarts > MAX_STATEMENT_RESTARTS {
            return Err(self.too_many_restarts(&txn, implicit));
        }
        // The run may see a newer snapshot (see `ddl_epoch`).
        self.ddl_epoch += 1;
        let params = std::mem::take(&mut s.params);
        let s = *s;
        self.drive(ex, s.job, &params, s.index, prepared, s.restarts)
    }

    /// Executes text and waits for lock waits and durability (blocking the
    /// thread).
    pub fn execute_blocking(&mut self, sql: &str, params: &[Value]) -> Result<Vec<StatementOutput>, SessionError> {
        let ex = self.execute(sql, params)?;
        self.block_on(ex, None)?.finish()
    }

    /// [`Session::execute_blocking`] for a query: fails before running a
    /// last statement that returns no rows.
    pub fn query_blocking(&mut self, sql: &str, params: &[Value]) -> Result<Vec<StatementOutput>, SessionError> {
        let ex = self.execute_query(sql, params)?;
        self.block_on(ex, None)?.finish()
    }

    /// Caller-facing wrapper: blocks the calling thread through every park
    /// of `ex` (lock waits and commits between statements), resuming after
    /// each; a streaming query's rows are collected into an output. The last statement's commit is left to [`Execution::finish`].
    pub fn block_on(
        &mut self,
        mut ex: Execution,
        mut prepared: Option<&mut Prepared>,
    ) -> Result<Execution, SessionError> {
        loop {
            match ex.parked() {
                None => return Ok(ex),
                Some(Park::Lock { wait, deadline }) => {
                    // A cancel from another thread is noticed within 50 ms.
                    let killed = &self.killed;
                    let _ = wait.wait_until_or(deadline, Duration::from_millis(50), &|| killed.load(Ordering::Relaxed));
                    if let Some(t) = &self.txn {
                        // A yield for a newer commit's publication: this
                        // thread is the session's own, so it may block.
                        t.txn.wait_retry_visible();
                    }
                }
                Some(Park::Durable(t)) => {
                    let _ = t.wait();
                    if let Some(pb) = &ex.unseen {
                        pb.wait_visible();
                    }
                }
                Some(Park::Rows(c)) => {
                    // Materialized for the blocking API, as `execute` does.
                    let columns = c.columns().clone();
                    let mut rows = Vec::new();
                    while let Some(b) = ex.next_batch(self, mizzle_exec::build::BATCH)? {
                        rows.extend(b.rows);
                    }
                    ex.outputs.push(StatementOutput::Rows { columns, rows });
                }
            }
            ex = self.resume_with(ex, prepared.as_deref_mut())?;
        }
    }

    /// A statement's waiting execution was dropped: its statement (already
    /// undone) is abandoned; an autocommit transaction ends with it.
    #[inline]
    fn abandon_suspended(&mut self) {
        if !std::mem::take(&mut self.suspended) {
            return;
        }
        if std::mem::take(&mut self.streaming) {
            // A dropped cursor's statement only read: it ends as a success.
            if let Some(t) = &self.txn {
                let _ = t.txn.end_statement(true);
            }
        }
        if self.txn.as_ref().is_some_and(|t| !t.explicit) {
            self.rollback_current();
        }
        // An explicit transaction's wait is withdrawn by its next statement.
    }

    /// Prepares a single statement; it is planned now and re-planned only
    /// when a table it uses changed definition.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared, SessionError> {
        let parsed = mizzle_sql::parse::parse_mysql(sql)?;
        self.txn_scope = parsed.txn_scope();
        if parsed.len() != 1 {
            return Err(SessionError::rule(ErrorCode::Syntax, "a prepared statement holds exactly one statement"));
        }
        let mut p = Prepared {
            sql: sql.to_string(),
            parsed: Arc::new(parsed),
            params: 0,
            plan: None,
            columns: None,
            checked: None,
            pure_query: false,
            temp_epoch: 0,
            ops: Default::default(),
        };
        // Plan against a snapshot now, to report errors and parameter counts early.
        self.source = Some(p.parsed.clone());
        let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
        t.begin_statement()?;
        let r = match p.parsed.get(0) {
            Some(stmt) => self.plan_noting_variables(stmt, &t),
            None => Err(SessionError::rule(ErrorCode::Syntax, "Query was empty")),
        };
        t.rollback();
        match r {
            Ok((b, n, read_variables)) => {
                p.params = n;
                p.columns = query_columns(&b);
                if is_cacheable(&b) && !read_variables {
                    let versions = table_versions(&b);
                    p.pure_query = matches!(&b, BoundStatement::Query(q) if !q.locks_rows());
                    p.plan = Some((Arc::new(b), versions));
                }
            }
            Err(e) => return Err(e),
        }
        Ok(p)
    }

    /// Executes a prepared statement with parameters. The result may hold
    /// a statement waiting for a lock: see [`Session::resume_prepared`].
    pub fn execute_prepared(&mut self, p: &mut Prepared, params: &[Value]) -> Result<Execution, SessionError> {
        self.execute_prepared_with(p, params, false)
    }

    /// [`Session::execute_prepared`] whose query (if it locks no rows)
    /// streams, as [`Session::execute_streaming`].
    pub fn execute_prepared_streaming(
        &mut self,
        p: &mut Prepared,
        params: &[Value],
    ) -> Result<Execution, SessionError> {
        self.execute_prepared_with(p, params, true)
    }

    fn execute_prepared_with(
        &mut self,
        p: &mut Prepared,
        params: &[Value],
        stream: bool,
    ) -> Result<Execution, SessionError> {
        self.abandon_suspended();
        self.killed.store(false, Ordering::Relaxed);
        self.outputs_before_error.clear();
        if params.len() != p.params {
            return Err(SessionError::rule(
                ErrorCode::WrongArguments,
                format!(
                    "Incorrect arguments to EXECUTE: the statement takes {} parameters, {} given",
                    p.params,
                    params.len()
                ),
            ));
        }
        if p.parsed.is_empty() {
            return Err(SessionError::rule(ErrorCode::Syntax, "Query was empty"));
        }
        let job = Job { parsed: p.parsed.clone(), consistent: false, expect_rows: false, stream };
        self.drive(Execution::new(), job, params, 0, Some(p), 0)
    }

    /// Caller-facing wrapper over [`Session::start_transaction`]: blocks
    /// until the commit of the transaction that was open is durable.
    pub fn begin_transaction(
        &mut self,
        isolation: Option<IsolationLevel>,
        read_only: Option<bool>,
    ) -> Result<(), SessionError> {
        self.start_transaction(isolation, read_only)?.finish()?;
        Ok(())
    }

    /// Starts an explicit transaction (as BEGIN does: an open one commits
    /// first) with the given characteristics, or the session's defaults.
    /// The commit of the open transaction, if not durable yet, is the
    /// returned execution's pending commit (park on [`Execution::ticket`]);
    /// the new transaction takes its snapshot at its first read, after the
    /// next step published that commit.
    pub fn start_transaction(
        &mut self,
        isolation: Option<IsolationLevel>,
        read_only: Option<bool>,
    ) -> Result<Execution, SessionError> {
        self.abandon_suspended();
        // Commits of dropped executions stay unsettled: nothing here reads,
        // and the next statement settles them before it runs.
        let mut ex = Execution::new();
        self.rolled_back = None;
        let pending = self.commit_current()?;
        self.begin_txn(true, isolation, read_only);
        self.warnings.clear();
        if let Some(p) = pending {
            if p.ticket().poll().is_some() {
                self.publish(p)?;
            } else {
                ex.pending = Some(p);
                ex.home = Some(self.orphans.clone());
            }
        }
        Ok(ex)
    }

    fn plan(&self, stmt: StatementRef<'_>, txn: &Txn) -> Result<(BoundStatement, usize), SessionError> {
        self.plan_noting_variables(stmt, txn).map(|(b, n, _)| (b, n))
    }

    /// [`Session::plan`], also saying whether the statement read a variable
    /// (then its plan holds the value and is not kept for a prepared
    /// statement's next execution).
    fn plan_noting_variables(
        &self,
        stmt: StatementRef<'_>,
        txn: &Txn,
    ) -> Result<(BoundStatement, usize, bool), SessionError> {
        let cat = BindCatalog { s: self, txn };
        let mut b = Binder::new(&cat);
        let bound = b.bind_parsed(stmt)?;
        let n = b.param_count();
        Ok((mizzle_sql::optimize::optimize_statement(bound), n, b.read_variables()))
    }

    /// [`Session::run`] with a panic caught at the session boundary
    /// (invariant 5): the statement fails with 1105, its transaction rolls
    /// back, and the session goes on. Costs nothing unless it panics.
    fn run_caught(
        &mut self,
        stmt: StatementRef<'_>,
        params: &[Value],
        prepared: Option<&mut Prepared>,
        consistent: bool,
        mode: Mode,
        restarts: &mut u32,
    ) -> Result<Step, SessionError> {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run(stmt, params, prepared, consistent, mode, restarts)
        }));
        match r {
            Ok(r) => r,
            Err(payload) => Err(self.statement_panicked(payload.as_ref())),
        }
    }

    /// Ends the transaction of a statement that panicked, and words the
    /// error. An explicit transaction goes to `RolledBack` (module
    /// documentation), as after 1213.
    fn statement_panicked(&mut self, payload: &(dyn std::any::Any + Send)) -> SessionError {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        let explicit = self.txn.as_ref().is_some_and(|t| t.explicit);
        if let Some(t) = self.txn.take() {
            let _ = t.txn.end_statement(false);
            t.txn.rollback();
        }
        if let Some(p) = self.stmt_commit.take() {
            self.orphans.put(p);
        }
        self.debug_panic = false;
        let code = ErrorCode::Internal;
        if explicit {
            self.rolled_back = Some(code);
        }
        let e = SessionError::rule(
            code,
            format!(
                "internal error (this is a bug in mizzle): the statement panicked ({what}); its transaction \
                 was rolled back"
            ),
        );
        self.warnings = vec![Warning::error(code, e.to_string())];
        e
    }

    /// Test hook: the next statement that reaches the executor panics
    /// after executing (its writes made), as a bug would. Debug builds
    /// only.
    #[cfg(debug_assertions)]
    #[doc(hidden)]
    pub fn debug_panic_in_next_statement(&mut self) {
        self.debug_panic = true;
    }

    /// Runs one statement (invariant 1), again after a row committed after
    /// its snapshot where allowed, until it ends or waits for a lock.
    fn run(
        &mut self,
        stmt: StatementRef<'_>,
        params: &[Value],
        mut prepared: Option<&mut Prepared>,
        consistent: bool,
        mode: Mode,
        restarts: &mut u32,
    ) -> Result<Step, SessionError> {
        if let Some(code) = self.rolled_back {
            self.in_rolled_back_block(stmt, code)?;
        }
        if mode.expect_rows && stmt.is_txn_control() {
            return Err(no_result_set());
        }
        // Transaction control and session statements need no snapshot.
        if let Some(step) = self.run_control(stmt, consistent)? {
            return Ok(step);
        }
        let txn = self.ensure_txn();
        let implicit = !self.txn.as_ref().is_some_and(|t| t.explicit);
        let policy = stmt.wait_policy();
        let mut previous = std::mem::take(&mut self.warnings);
        self.kept_warnings = false;
        self.previous_warning_count = previous.len();
        self.previous_error_count = previous.iter().filter(|w| w.level == mizzle_types::Level::Error).count();
        loop {
            txn.begin_statement()?;
            if policy != WaitPolicy::Wait {
                txn.set_wait_policy(policy);
            }
            let result = self.run_in_txn(stmt, params, prepared.as_deref_mut(), &txn, &previous, mode);
            let e = match result {
                Ok(Ran::Cursor(mut c)) => {
                    // The statement stays open until the cursor ends.
                    c.implicit = implicit;
                    c.previous = previous;
                    c.diagnostic = stmt.is_diagnostic();
                    return Ok(Step::Stream(c));
                }
                Ok(Ran::Out(out, warnings)) => {
                    txn.end_statement(true)?;
                    // A diagnostic statement leaves the messages it shows in
                    // place (MySQL: only nondiagnostic statements clear them).
                    self.kept_warnings = warnings.is_empty() && stmt.is_diagnostic();
                    self.warnings = if self.kept_warnings { std::mem::take(&mut previous) } else { warnings };
                    // `SET autocommit = 1` committed the transaction.
                    let set_commit = self.stmt_commit.take();
                    let pending = if implicit { self.commit_current()? } else { None };
                    return Ok(Step::Done(out, pending.or(set_commit)));
                }
                Err(e) => e,
            };
            if let Some(p) = self.stmt_commit.take() {
                // The statement failed after its implicit commit: settled
                // by the next step.
                self.orphans.put(p);
            }
            match txn.blocked() {
                Some(Blocked::Retry { .. }) => {
                    let _ = txn.end_statement(false);
                    if !txn.retry_visible() {
                        // The newer commit is published by its own session,
                        // which may need this worker: yield, do not block.
                        self.warnings = previous;
                        return Ok(Step::Wait(LockWait::released(), None));
                    }
                    *restarts += 1;
                    if *restarts > MAX_STATEMENT_RESTARTS {
                        return Err(self.too_many_restarts(&txn, implicit));
                    }
                    if let Err(e) = txn.resume() {
                        return Err(self.statement_failed(e.into(), &txn, implicit));
                    }
                    self.ddl_epoch += 1;
                }
                Some(Blocked::Wait { ticket, space, .. }) => {
                    let _ = txn.end_statement(false);
                    // The run after the wait sees the same previous warnings.
                    self.warnings = previous;
                    return Ok(Step::Wait(ticket, self.lock_deadline(space)));
                }
                None => return Err(self.statement_failed(e, &txn, implicit)),
            }
        }
    }

    /// When a wait for a row of `space` times out: `lock_wait_timeout` for
    /// the dictionary (MySQL's metadata locks), `innodb_lock_wait_timeout`
    /// for table rows (seconds).
    fn lock_deadline(&self, space: SpaceId) -> Option<Instant> {
        let (var, default) =
            if space == DICT_SPACE { ("lock_wait_timeout", 31_536_000) } else { ("innodb_lock_wait_timeout", 50) };
        let secs = self.vars.get(var).and_then(|v| v.parse::<u64>().ok()).unwrap_or(default);
        Instant::now().checked_add(Duration::from_secs(secs))
    }

    /// Ends a failed statement: undoes it, and ends the transaction where
    /// the error did or should (invariant 1, module documentation), names
    /// the tables in transaction errors, and records the error for SHOW
    /// WARNINGS.
    fn statement_failed(&mut self, e: SessionError, txn: &Txn, implicit: bool) -> SessionError {
        let e = self.name_tables(e);
        let _ = txn.end_statement(false);
        let code = e.code();
        let rollback_on_timeout = code == ErrorCode::LockWaitTimeout
            && self.vars.get("innodb_rollback_on_timeout").is_some_and(|v| v == "ON");
        if rollback_on_timeout {
            txn.rollback();
        }
        if !txn.is_active() {
            self.rollback_current();
            if !implicit {
                self.rolled_back = Some(code);
            }
        } else if implicit {
            self.rollback_current();
        }
        // SHOW WARNINGS after an error shows the error.
        self.warnings = vec![Warning::error(code, e.to_string())];
        e
    }

    /// The statement ran again too often: it fails and its transaction
    /// rolls back (1213).
    fn too_many_restarts(&mut self, txn: &Txn, implicit: bool) -> SessionError {
        txn.rollback();
        let e = SessionError::rule(
            ErrorCode::WriteConflict,
            format!(
                "Deadlock found when trying to get lock; try restarting transaction (the statement was run \
                 again {MAX_STATEMENT_RESTARTS} times after concurrent commits and gave up)"
            ),
        );
        self.statement_failed(e, txn, implicit)
    }

    /// In `RolledBack`: ROLLBACK and BEGIN end the state (and run); COMMIT
    /// ends it with an error; anything else is refused.
    fn in_rolled_back_block(&mut self, stmt: StatementRef<'_>, code: ErrorCode) -> Result<(), SessionError> {
        match stmt.txn_control() {
            Some(Ok(TxnStmt::Rollback | TxnStmt::Begin { .. })) => {
                self.rolled_back = None;
                Ok(())
            }
            Some(Ok(TxnStmt::Commit)) => {
                self.rolled_back = None;
                Err(SessionError::rule(
                    ErrorCode::TransactionRolledBack,
                    format!(
                        "Transaction was rolled back by an earlier error (ERROR {}) and nothing was committed; \
                         the transaction block is now ended",
                        code.number()
                    ),
                ))
            }
            _ => Err(SessionError::rule(
                ErrorCode::TransactionRolledBack,
                format!(
                    "Transaction was rolled back by an earlier error (ERROR {}); statements are refused until \
                     ROLLBACK (or a new BEGIN) ends the transaction block",
                    code.number()
                ),
            )),
        }
    }

    /// Replaces space numbers in transaction errors by table names.
    fn name_tables(&self, e: SessionError) -> SessionError {
        let Some(t) = txn_error(&e) else {
            return e;
        };
        let message = match t {
            TxnError::WriteConflict { space } => format!(
                "Deadlock found when trying to get lock; try restarting transaction (a row of {} was changed by \
                 a transaction that committed after this transaction's snapshot)",
                self.space_names(&[*space])
            ),
            TxnError::Deadlock { report } => format!(
                "Deadlock found when trying to get lock; try restarting transaction (deadlock of {} transactions \
                 waiting for rows of {}; this transaction was rolled back to break it)",
                report.cycle.len(),
                self.space_names(&report.spaces())
            ),
            _ => return e,
        };
        SessionError::rule(e.code(), message)
    }

    /// `schema.table` (or `schema.table index name`) for each space, from
    /// the committed dictionary.
    fn space_names(&self, spaces: &[SpaceId]) -> String {
        let mut names: HashMap<SpaceId, String> = HashMap::new();
        let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
        if t.begin_statement().is_ok() {
            for schema in self.cat.dict.list_schemas(&t).unwrap_or_default() {
                for r in self.cat.dict.list_relations(&t, &schema.name).unwrap_or_default() {
                    if let Relation::Table(td) = r {
                        names.insert(td.space, format!("{}.{}", td.schema, td.name));
                        for ix in &td.indexes {
                            names.insert(ix.space, format!("{}.{} index {}", td.schema, td.name, ix.name));
                        }
                    }
                }
            }
        }
        t.rollback();
        spaces
            .iter()
            .map(|s| match names.get(s) {
                Some(n) => n.clone(),
                None if *s == DICT_SPACE => "the data dictionary".to_string(),
                None => "a table not committed yet".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The last deadlock in words, for `SHOW STATUS`.
    fn describe_deadlock(&self, d: &mizzle_txn::DeadlockReport) -> String {
        let waits: Vec<String> = d
            .cycle
            .iter()
            .map(|w| {
                format!("transaction {} waited for {} on {}", w.waiter.0, w.holder.0, self.space_names(&[w.space]))
            })
            .collect();
        format!("#{}: {}; transaction {} was rolled back", d.seq + 1, waits.join("; "), d.victim.0)
    }

    fn run_in_txn(
        &mut self,
        stmt: StatementRef<'_>,
        params: &[Value],
        prepared: Option<&mut Prepared>,
        txn: &Txn,
        previous: &[Warning],
        mode: Mode,
    ) -> Result<Ran, SessionError> {
        // A cached plan is reused while every table it read keeps its version
        // (the check reads the definitions, recording the reads, which is
        // what makes concurrent DDL conflict). The check is skipped when the
        // dictionary this statement sees is provably the one last checked:
        // either the same transaction under a transaction-long snapshot with
        // no DDL or ROLLBACK TO since (the DDL epoch), or both the checking
        // and this transaction see the committed dictionary (no own DDL)
        // and no commit changed it up to both snapshots (then the reads are
        // recorded without being made).
        let mut cached_columns: Option<Arc<Vec<ColumnInfo>>> = None;
        let mut prepared = prepared;
        let bound: Arc<BoundStatement> = match prepared.as_deref_mut() {
            Some(p) => {
                let stable = !matches!(txn.isolation(), IsolationLevel::ReadCommitted);
                if txn.snapshot_ts().is_none() {
                    txn.take_snapshot();
                }
                let snapshot = txn.snapshot_ts().unwrap_or(Ts(0));
                let committed_view = !txn.wrote_space(DICT_SPACE);
                let stamp = Checked { txn: txn.serial(), epoch: self.ddl_epoch, snapshot, committed_view };
                let unchanged = match (&p.plan, p.checked) {
                    (Some(_), Some(c)) if stable && c.txn == txn.serial() && c.epoch == self.ddl_epoch => true,
                    (Some((_, versions)), Some(c)) if c.committed_view && committed_view => {
                        let same = self.cat.dict_watch.last_commit() <= c.snapshot.min(snapshot);
                        let implicit = !self.txn.as_ref().is_some_and(|t| t.explicit);
                        if same && !(implicit && p.pure_query) {
                            for (schema, name, _) in versions {
                                self.cat.dict.note_relation_read(txn, schema, name);
                            }
                        }
                        same
                    }
                    _ => false,
                };
                // A temporary table created or dropped since may shadow a
                // table the plan read, or be one.
                let same_temps = p.temp_epoch == self.temp_epoch;
                let fresh = match &p.plan {
                    Some((b, _)) if unchanged && same_temps => Some(b.clone()),
                    Some((b, versions)) if same_temps && self.still_valid(versions, txn)? => {
                        p.checked = Some(stamp);
                        Some(b.clone())
                    }
                    _ => None,
                };
                let b = match fresh {
                    Some(b) => b,
                    None => {
                        p.ops = Default::default();
                        let (b, n, read_variables) = self.plan_noting_variables(stmt, txn)?;
                        p.params = n;
                        let b = Arc::new(b);
                        p.columns = query_columns(&b);
                        if is_cacheable(&b) && !read_variables {
                            p.temp_epoch = self.temp_epoch;
                            p.plan = Some((b.clone(), table_versions(&b)));
                            p.checked = Some(stamp);
                            p.pure_query = matches!(b.as_ref(), BoundStatement::Query(q) if !q.locks_rows());
                        }
                        b
                    }
                };
                cached_columns = p.columns.clone();
                b
            }
            None => Arc::new(self.plan(stmt, txn)?.0),
        };
        if mode.expect_rows
            && !matches!(bound.as_ref(), BoundStatement::Query(_) | BoundStatement::Explain { .. })
            && !matches!(bound.as_ref(), BoundStatement::Account(a)
                if matches!(**a, mizzle_sql::account::AccountStmt::ShowGrants { .. }))
        {
            return Err(no_result_set());
        }
        self.check_privileges(&bound)?;
        if let BoundStatement::Account(a) = bound.as_ref() {
            let (out, warnings) = self.run_account(a, txn)?;
            return Ok(Ran::Out(out, warnings));
        }
        if let BoundStatement::Session(s) = bound.as_ref() {
            return Ok(Ran::Out(self.run_session(s, txn)?, Vec::new()));
        }
        if matches!(bound.as_ref(), BoundStatement::Ddl(_)) {
            self.ddl_epoch += 1;
        }
        if *bound == BoundStatement::NoOp {
            return Ok(Ran::Out(done(0), Vec::new()));
        }
        // DDL of temporary tables runs here (`session::temporary`).
        let mut bound = bound;
        if let BoundStatement::Ddl(d) = bound.as_ref() {
            if let Some((out, warnings, rest)) = self.run_temporary_ddl(d, txn, params)? {
                match rest {
                    None => return Ok(Ran::Out(out, warnings)),
                    Some(rest) => bound = Arc::new(BoundStatement::Ddl(Box::new(rest))),
                }
            }
        }
        let load_src = match bound.as_ref() {
            BoundStatement::Load(l) => Some(self.open_load_file(l)?),
            _ => None,
        };
        let deadline = self.statement_deadline(&bound);
        let info = self.info();
        let sys = Sys { s: self, previous };
        let stopper = Stopper { killed: &self.killed, deadline, clock: &*self.cat.clock };
        let mut ctx = Ctx::new(txn, &self.cat.dict, params, &info, &sys);
        ctx.stop = Some(&stopper);
        // The cached plan of a prepared query runs its kept operator tree
        // again instead of building one.
        let kept = prepared.and_then(|p| p.kept_ops(&bound));
        if mode.stream {
            if let BoundStatement::Query(q) = bound.as_ref() {
                if !q.locks_rows() {
                    let (op, keep) = match kept {
                        Some((id, ops)) => {
                            let (op, keep) = ops.build_for_client(id, q, &mut ctx)?;
                            (op, keep.then(|| bound.clone()))
                        }
                        None => (mizzle_exec::build::build_for_client(q, &mut ctx)?, None),
                    };
                    let columns = match cached_columns {
                        Some(c) => c,
                        None => Arc::new(q.columns().iter().map(ColumnInfo::from).collect()),
                    };
                    return Ok(Ran::Cursor(Box::new(RowCursor {
                        columns,
                        op,
                        state: Some(ctx.suspend_state()),
                        txn: txn.clone(),
                        implicit: false,
                        params: params.to_vec(),
                        previous: Vec::new(),
                        diagnostic: false,
                        now: info.now,
                        rest: Vec::new(),
                        rows: 0,
                        end: CursorEnd::Open,
                        seq: 0,
                        deadline,
                        keep,
                    })));
                }
            }
        }
        let out = match (bound.as_ref(), load_src) {
            (BoundStatement::Load(l), Some(src)) => {
                let r = mizzle_exec::load::load(l, src, &mut ctx)?;
                let info = format!(
                    "Records: {}  Deleted: {}  Skipped: {}  Warnings: {}",
                    r.records,
                    r.deleted,
                    r.skipped,
                    ctx.warnings.len()
                );
                (
                    StatementOutput::Done { affected: r.affected, last_insert_id: r.last_insert_id.unwrap_or(0), info },
                    Some(DmlResult { affected: r.affected, matched: r.records, last_insert_id: r.last_insert_id }),
                )
            }
            _ => exec_bound(&bound, cached_columns, kept, &mut ctx)?,
        };
        let warnings = std::mem::take(&mut ctx.warnings);
        drop(ctx);
        if let BoundStatement::Ddl(d) = bound.as_ref() {
            if let Ddl::AlterSchema { name, collation } = d.as_ref() {
                // MySQL: ALTER DATABASE of the current database sets its
                // @@collation_database too.
                if self.database.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(name)) {
                    self.set_database_vars(Some(*collation));
                }
            }
        }
        if self.debug_panic {
            panic!("debug_panic_in_next_statement: a statement panicked on purpose");
        }
        match &out.1 {
            Some(d) => {
                if let Some(id) = d.last_insert_id {
                    self.last_insert_id = id;
                }
                self.row_count = d.affected as i64;
            }
            None => {
                if let StatementOutput::Rows { rows, .. } = &out.0 {
                    self.found_rows = rows.len() as u64;
                }
                self.row_count = -1;
            }
        }
        Ok(Ran::Out(out.0, warnings))
    }

    fn still_valid(&self, versions: &[(String, String, u64)], txn: &Txn) -> Result<bool, SessionError> {
        for (schema, name, v) in versions {
            // A temporary table (the plan's temp_epoch is current).
            if let Some(t) = self.temporary_table(schema, name) {
                if t.version == *v {
                    continue;
                }
                return Ok(false);
            }
            match self.cat.dict.get_relation(txn, schema, name)? {
                Some(Relation::Table(t)) if t.version == *v => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Transaction statements, handled outside any statement snapshot.
    fn run_control(&mut self, stmt: StatementRef<'_>, consistent: bool) -> Result<Option<Step>, SessionError> {
        // These bind without a catalog.
        let Some(ts) = stmt.txn_control() else {
            return Ok(None);
        };
        let ts = ts?;
        // Undoing the transaction's own DDL changes what it sees without a
        // dictionary commit; commits are seen through the dictionary watch.
        if matches!(ts, TxnStmt::Rollback | TxnStmt::RollbackTo(_)) {
            self.ddl_epoch += 1;
        }
        self.warnings.clear();
        let out = match ts {
            TxnStmt::Begin { isolation, read_only, .. } => {
                // MySQL commits an open transaction on BEGIN. The new
                // transaction's snapshot is taken at its first read, which
                // a later statement makes after this commit is published;
                // a consistent snapshot is taken now, so it waits.
                let mut pending = self.commit_current()?;
                if let Some(p) = pending.take_if(|p| p.ticket().poll().is_some()) {
                    self.publish(p)?;
                }
                if consistent {
                    if let Some(p) = pending {
                        return Ok(Some(Step::Park(p)));
                    }
                }
                let t = self.begin_txn(true, isolation, read_only);
                if consistent {
                    t.take_snapshot();
                }
                (done(0), pending)
            }
            TxnStmt::Commit => (done(0), self.commit_current()?),
            TxnStmt::Rollback => {
                self.rollback_current();
                (done(0), None)
            }
            TxnStmt::Savepoint(name) => {
                let t = self.ensure_txn();
                t.savepoint(&name)?;
                let implicit = !self.txn.as_ref().is_some_and(|t| t.explicit);
                let p = if implicit { self.commit_current()? } else { None };
                (done(0), p)
            }
            TxnStmt::RollbackTo(name) => {
                match &self.txn {
                    Some(t) if t.txn.is_active() => t.txn.rollback_to_savepoint(&name)?,
                    _ => {
                        return Err(SessionError::rule(
                            ErrorCode::DoesNotExist,
                            format!("SAVEPOINT {name} does not exist"),
                        ))
                    }
                }
                (done(0), None)
            }
            TxnStmt::Release(name) => {
                match &self.txn {
                    Some(t) if t.txn.is_active() => t.txn.release_savepoint(&name)?,
                    _ => {
                        return Err(SessionError::rule(
                            ErrorCode::DoesNotExist,
                            format!("SAVEPOINT {name} does not exist"),
                        ))
                    }
                }
                (done(0), None)
            }
        };
        Ok(Some(Step::Done(out.0, out.1)))
    }

    fn set_var(&mut self, scope: VarScope, name: &str, v: &Value) -> Result<(), SessionError> {
        let name = match name {
            "tx_isolation" => "transaction_isolation",
            "tx_read_only" => "transaction_read_only",
            n => n,
        };
        let d = vars::find(name).ok_or_else(|| {
            SessionError::rule(ErrorCode::UnknownSystemVariable, format!("Unknown system variable '{name}'"))
        })?;
        if d.read_only {
            return Err(SessionError::rule(
                ErrorCode::ReadOnlyVariable,
                format!("Variable '{name}' is a read only variable"),
            ));
        }
        // `SET time_zone = DEFAULT`: the global value (the server's default
        // for GLOBAL).
        let default_zone;
        let v = match (d.kind, v) {
            (vars::VarKind::TimeZone, Value::Text(t)) if t.eq_ignore_ascii_case("DEFAULT") => {
                default_zone = Value::text(&match scope {
                    VarScope::Global => d.default.to_string(),
                    _ => self.cat.globals.read().get(name).cloned().unwrap_or_else(|| d.default.to_string()),
                });
                &default_zone
            }
            _ => v,
        };
        let text = vars::normalise(d, v).ok_or_else(|| match (d.kind, v) {
            // MySQL: an unknown collation is 1273, not 1231.
            (vars::VarKind::Collation, _) => {
                SessionError::rule(ErrorCode::UnknownCollation, format!("Unknown collation: '{}'", v.to_text_lossy()))
            }
            (vars::VarKind::TimeZone, Value::Text(_) | Value::Bytes(_)) => SessionError::rule(
                ErrorCode::UnknownTimeZone,
                format!("Unknown or incorrect time zone: '{}'", v.to_text_lossy()),
            ),
            (vars::VarKind::TimeZone, x) if !x.is_null() => {
                SessionError::rule(ErrorCode::WrongTypeForVar, format!("Incorrect argument type to variable '{name}'"))
            }
            _ => SessionError::rule(
                ErrorCode::WrongValueForVar,
                format!("Variable '{name}' can't be set to the value of '{}'", v.to_text_lossy()),
            ),
        })?;
        match scope {
            VarScope::Global => {
                self.cat.globals.write().insert(name.to_string(), text);
            }
            _ => {
                if name == "autocommit" && text == "ON" && !self.autocommit() {
                    // Turning autocommit on commits the open transaction;
                    // the commit becomes the statement's (`run`), so the
                    // session parks on it instead of waiting here.
                    if let Some(p) = self.commit_current()? {
                        if let Some(old) = self.stmt_commit.replace(p) {
                            self.orphans.put(old);
                        }
                    }
                }
                if d.kind == vars::VarKind::TimeZone {
                    self.time_zone = mizzle_types::TimeZone::parse(&text).unwrap_or_default();
                }
                self.vars.insert(name.to_string(), text);
                self.hot = Hot::of(&self.vars);
            }
        }
        Ok(())
    }

    fn run_session(&mut self, s: &SessionStmt, txn: &Txn) -> Result<StatementOutput, SessionError> {
        match s {
            SessionStmt::Use(db) => {
                self.database = Some(db.clone());
                let c = self.cat.dict.get_schema(txn, db)?.map(|s| s.collation);
                self.set_database_vars(c);
            }
            SessionStmt::Set(items) => {
                let info = self.info();
                let mut values = Vec::with_capacity(items.len());
                {
                    let previous: Vec<Warning> = Vec::new();
                    let sys = Sys { s: self, previous: &previous };
                    let mut ctx = Ctx::new(txn, &self.cat.dict, &[], &info, &sys);
                    for (scope, name, e) in items {
                        values.push((*scope, name.clone(), mizzle_exec::eval::eval(e, &[], &mut ctx)?));
                    }
                }
                for (scope, name, v) in values {
                    self.set_var(scope, &name, &v)?;
                }
            }
            SessionStmt::SetUser(items) => {
                let info = self.info();
                let mut values = Vec::with_capacity(items.len());
                {
                    let previous: Vec<Warning> = Vec::new();
                    let sys = Sys { s: self, previous: &previous };
                    let mut ctx = Ctx::new(txn, &self.cat.dict, &[], &info, &sys);
                    for (name, e) in items {
                        values.push((name.to_lowercase(), mizzle_exec::eval::eval(e, &[], &mut ctx)?));
                    }
                }
                for (n, v) in values {
                    self.user_vars.insert(n, v);
                }
            }
            SessionStmt::SetTransaction { scope, isolation, read_only } => {
                match self.txn_scope.as_ref().unwrap_or(scope) {
                    VarScope::NextTransaction => {
                        if self.in_transaction() {
                            return Err(SessionError::rule(
                                ErrorCode::TxnCharacteristicsInProgress,
                                "Transaction characteristics can't be changed while a transaction is in progress",
                            ));
                        }
                        if isolation.is_some() {
                            self.next_isolation = *isolation;
                        }
                        if read_only.is_some() {
                            self.next_read_only = *read_only;
                        }
                    }
                    scope => {
                        let scope = *scope;
                        if let Some(i) = isolation {
                            self.set_var(scope, "transaction_isolation", &Value::text(iso_name(*i)))?;
                        }
                        if let Some(r) = read_only {
                            self.set_var(scope, "transaction_read_only", &Value::Int(*r as i64))?;
                        }
                    }
                }
            }
            SessionStmt::SetNames(c) => {
                self.set_var(VarScope::Session, "collation_connection", &Value::text(c.name()))?;
            }
            SessionStmt::Prepare { .. } => return Err(SessionError::rule(ErrorCode::NotSupported, "PREPARE ... FROM")),
            SessionStmt::Execute { name, using } => {
                let params: Vec<Value> = using
                    .iter()
                    .map(|u| self.user_vars.get(&u.to_lowercase()).cloned().unwrap_or(Value::Null))
                    .collect();
                let Some(mut p) = self.prepared.remove(&name.to_lowercase()) else {
                    return Err(SessionError::rule(
                        ErrorCode::UnknownPreparedStatement,
                        format!("Unknown prepared statement handler ({name}) given to EXECUTE"),
                    ));
                };
                let parsed = p.parsed.clone();
                let outer = self.source.replace(parsed.clone());
                let r = match parsed.get(0) {
                    Some(stmt) => self.run_in_txn(
                        stmt,
                        &params,
                        Some(&mut p),
                        txn,
                        &[],
                        Mode { expect_rows: false, stream: false },
                    ),
                    None => Err(SessionError::rule(ErrorCode::Syntax, "Query was empty")),
                };
                self.source = outer;
                self.prepared.insert(name.to_lowercase(), p);
                return match r? {
                    Ran::Out(out, _) => Ok(out),
                    Ran::Cursor(_) => {
                        Err(SessionError::rule(ErrorCode::Internal, "internal error (a bug): EXECUTE streamed"))
                    }
                };
            }
            SessionStmt::Deallocate(name) => {
                if self.prepared.remove(&name.to_lowercase()).is_none() {
                    return Err(SessionError::rule(
                        ErrorCode::UnknownPreparedStatement,
                        format!("Unknown prepared statement handler ({name}) given to DEALLOCATE PREPARE"),
                    ));
                }
            }
        }
        Ok(done(0))
    }
}

fn epoch() -> mizzle_types::Date {
    // 1970-01-01 is a valid date; from_ymd cannot fail for it.
    mizzle_types::Date::from_day_number(0).expect("invariant: 1970-01-01 is a valid date")
}

fn no_result_set() -> SessionError {
    SessionError::rule(ErrorCode::WrongUsage, "the statement returns no result set; use execute()")
}

/// The transaction-layer error inside `e`, if it is one.
fn txn_error(e: &SessionError) -> Option<&TxnError> {
    match e {
        SessionError::Txn(t) => Some(t),
        SessionError::Exec(ExecError::Txn(t)) => Some(t),
        SessionError::Exec(ExecError::Dict(DictError::Txn(t))) => Some(t),
        _ => None,
    }
}

fn is_cacheable(b: &BoundStatement) -> bool {
    matches!(
        b,
        BoundStatement::Query(_) | BoundStatement::Insert(_) | BoundStatement::Update(_) | BoundStatement::Delete(_)
    )
}

fn table_versions(b: &BoundStatement) -> Vec<(String, String, u64)> {
    let mut out: Vec<(String, String, u64)> = Vec::new();
    let mut add = |t: &Arc<TableDef>| {
        let k = (t.schema.clone(), t.name.clone(), t.version);
        if !out.contains(&k) {
            out.push(k);
        }
    };
    match b {
        BoundStatement::Query(p) => p.visit_tables(&mut add),
        BoundStatement::Insert(i) => {
            add(&i.table);
            if let mizzle_sql::plan::InsertSource::Query(p) = &i.source {
                p.visit_tables(&mut add);
            }
        }
        BoundStatement::Update(u) => {
            add(&u.table);
            u.input.visit_tables(&mut add);
        }
        BoundStatement::Delete(d) => {
            add(&d.table);
            d.input.visit_tables(&mut add);
        }
        _ => {}
    }
    out
}

/// Where `LOAD DATA LOCAL INFILE` reads its file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LocalFiles {
    /// From this process's file system (embedded: the client is this
    /// process).
    #[default]
    Process,
    /// From what a server's client sent: (name as written, where the
    /// server put its bytes) for the statement being run; any other LOCAL
    /// load is refused (1148), so a client never reads the server's files.
    Client(Option<(String, std::path::PathBuf)>),
}

/// Executes a bound statement that runs inside the transaction.
/// Result columns of a query statement.
fn query_columns(b: &BoundStatement) -> Option<Arc<Vec<ColumnInfo>>> {
    match b {
        BoundStatement::Query(p) => Some(Arc::new(p.columns().iter().map(ColumnInfo::from).collect())),
        _ => None,
    }
}

/// Runs a bound statement to its end. `kept`: a prepared statement's kept
/// operator trees (`Prepared::kept_ops`), which a query runs from.
fn exec_bound(
    b: &BoundStatement,
    columns: Option<Arc<Vec<ColumnInfo>>>,
    kept: Option<(usize, &mut mizzle_exec::build::Reusable)>,
    ctx: &mut Ctx<'_>,
) -> Result<(StatementOutput, Option<DmlResult>), SessionError> {
    Ok(match b {
        BoundStatement::Query(p) => {
            let rows = match kept {
                Some((id, ops)) => ops.collect_for_client(id, p, ctx)?,
                None => mizzle_exec::build::collect_for_client(p, ctx)?,
            };
            let columns = match columns {
                Some(c) => c,
                None => Arc::new(p.columns().iter().map(ColumnInfo::from).collect()),
            };
            (StatementOutput::Rows { columns, rows }, None)
        }
        BoundStatement::Insert(p) => {
            let r = mizzle_exec::dml::insert(p, ctx)?;
            let info = if r.affected > 1 {
                format!("Records: {}  Duplicates: 0  Warnings: {}", r.affected, ctx.warnings.len())
            } else {
                String::new()
            };
            (
                StatementOutput::Done { affected: r.affected, last_insert_id: r.last_insert_id.unwrap_or(0), info },
                Some(r),
            )
        }
        BoundStatement::Update(p) => {
            let r = mizzle_exec::dml::update(p, ctx)?;
            let info =
                format!("Rows matched: {}  Changed: {}  Warnings: {}", r.matched, r.affected, ctx.warnings.len());
            (StatementOutput::Done { affected: r.affected, last_insert_id: 0, info }, Some(r))
        }
        BoundStatement::Delete(p) => {
            let r = mizzle_exec::dml::delete(p, ctx)?;
            (StatementOutput::Done { affected: r.affected, last_insert_id: 0, info: String::new() }, Some(r))
        }
        BoundStatement::Ddl(d) => {
            let r = mizzle_exec::ddl::execute(d, ctx)?;
            (done(r.rows), Some(DmlResult { affected: r.rows, matched: r.rows, last_insert_id: None }))
        }
        BoundStatement::Explain { analyze, tree, stmt } => {
            let lines = match stmt.as_ref() {
                BoundStatement::Query(p) => {
                    let mut lines = explain_lines(p);
                    if *analyze {
                        let start = std::time::Instant::now();
                        let rows = mizzle_exec::collect(p, ctx)?;
                        lines.push(format!(
                            "-> actual: {} rows, {} rows examined, {:.3} ms",
                            rows.len(),
                            ctx.rows_examined,
                            start.elapsed().as_secs_f64() * 1000.0
                        ));
                    }
                    lines
                }
                BoundStatement::Update(u) => {
                    let names = match &u.multi {
                        Some(m) => m.targets.iter().map(|t| t.table.name.as_str()).collect::<Vec<_>>().join(", "),
                        None => u.table.name.clone(),
                    };
                    let mut l = vec![format!("-> Update {names}")];
                    l.extend(explain_lines(&u.input).into_iter().map(|x| format!("    {x}")));
                    l
                }
                BoundStatement::Delete(d) => {
                    let names = if d.multi.is_empty() {
                        d.table.name.clone()
                    } else {
                        d.multi.iter().map(|t| t.table.name.as_str()).collect::<Vec<_>>().join(", ")
                    };
                    let mut l = vec![format!("-> Delete from {names}")];
                    l.extend(explain_lines(&d.input).into_iter().map(|x| format!("    {x}")));
                    l
                }
                BoundStatement::Insert(i) => vec![format!("-> Insert into {}", i.table.name)],
                _ => vec!["-> (statement without a plan)".to_string()],
            };
            let columns = vec![ColumnInfo {
                name: "EXPLAIN".into(),
                table: None,
                origin: None,
                ty: SqlType::LONGTEXT,
                nullable: false,
            }];
            (
                StatementOutput::Rows {
                    columns: Arc::new(columns),
                    rows: if *tree {
                        // One row: the whole tree, each line ended by a newline.
                        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
                        vec![vec![Value::text(&text)]]
                    } else {
                        lines.into_iter().map(|l| vec![Value::text(&l)]).collect()
                    },
                },
                None,
            )
        }
        BoundStatement::Txn(_) | BoundStatement::Session(_) | BoundStatement::NoOp | BoundStatement::Account(_) => {
            (done(0), None)
        }
        // LOAD DATA runs where its file is opened (`Session::open_load_file`).
        BoundStatement::Load(_) => return Err(SessionError::rule(ErrorCode::Internal, "LOAD DATA without its file")),
    })
}
