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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mizzle_dictionary::{DictError, Relation, TableDef, DICT_SPACE};
use mizzle_exec::ctx::{Ctx, SessionInfo, SystemInfo};
use mizzle_exec::dml::DmlResult;
use mizzle_exec::ExecError;
use mizzle_plugin_api::durability::DurableTicket;
use mizzle_sql::bind::Binder;
use mizzle_sql::plan::{BoundStatement, OutCol, SessionStmt, TxnStmt, VarScope};
use mizzle_sql::{BindError, Catalog, Statement};
use mizzle_txn::{
    Blocked, IsolationLevel, LockWait, PendingCommit, SpaceId, Ts, Txn, TxnError, TxnId, TxnOptions, WaitPolicy,
};
use mizzle_types::{DateTime, ErrorCode, SqlError, SqlType, Value, Warning};

use crate::catalog::{CatalogState, DEFAULT_SCHEMA};
use crate::error::SessionError;
use crate::explain::explain_lines;
use crate::vars;

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
}

/// A statement stopped at a lock wait, and the rest of its text.
struct Suspended {
    /// The transaction it runs in (an execution outlived by its
    /// transaction was abandoned and cannot resume).
    txn: TxnId,
    wait: LockWait,
    deadline: Option<Instant>,
    job: Job,
    params: Vec<Value>,
    /// The statement that waits (index into the parsed text).
    index: usize,
    restarts: u32,
}

/// The outcome of executing text: outputs, a commit that may still be
/// waiting for durability, or a statement waiting for a lock (invariant 3).
pub struct Execution {
    /// One output per statement run so far.
    pub outputs: Vec<StatementOutput>,
    /// Warnings of the last statement.
    pub warnings: usize,
    pending: Option<PendingCommit>,
    suspended: Option<Box<Suspended>>,
}

impl Execution {
    fn new() -> Execution {
        Execution { outputs: Vec::new(), warnings: 0, pending: None, suspended: None }
    }

    /// The durability ticket to wait or park on, if a commit is pending.
    pub fn ticket(&self) -> Option<&DurableTicket> {
        self.pending.as_ref().map(|p| p.ticket())
    }

    /// The lock ticket a statement waits on, if one does: park on it (or
    /// block), then [`Session::resume`] (also at the deadline).
    pub fn lock_wait(&self) -> Option<&LockWait> {
        self.suspended.as_ref().map(|s| &s.wait)
    }

    /// When the lock wait times out (`None`: never).
    pub fn lock_deadline(&self) -> Option<Instant> {
        self.suspended.as_ref().and_then(|s| s.deadline)
    }

    /// Waits for the pending commit (if any) and returns the outputs. A
    /// statement still waiting for a lock is an error: resume it first.
    pub fn finish(self) -> Result<Vec<StatementOutput>, SessionError> {
        if self.suspended.is_some() {
            return Err(SessionError::rule(
                ErrorCode::Internal,
                "internal error (a bug in the caller of mizzle-session): a statement waits for a lock; \
                 resume it with Session::resume before finishing",
            ));
        }
        if let Some(p) = self.pending {
            let _ = p.ticket().wait();
            p.finish()?;
        }
        Ok(self.outputs)
    }
}

/// One statement's run: done, or stopped at a lock wait.
enum Step {
    Done(StatementOutput, Option<PendingCommit>),
    Wait(LockWait, Option<Instant>),
}

/// (schema, table, definition version) a plan was built against.
type TableVersion = (String, String, u64);

/// The circumstances of a prepared plan's last dictionary check.
#[derive(Clone, Copy, Debug)]
struct Checked {
    txn: TxnId,
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
    database: Option<String>,
    txn: Option<TxnState>,
    vars: HashMap<String, String>,
    user_vars: HashMap<String, Value>,
    next_isolation: Option<IsolationLevel>,
    next_read_only: Option<bool>,
    prepared: HashMap<String, Prepared>,
    warnings: Vec<Warning>,
    last_insert_id: u64,
    row_count: i64,
    found_rows: u64,
    /// Scope given as `SET SESSION|GLOBAL TRANSACTION` (see `pre_parse`).
    txn_scope: Option<VarScope>,
    /// Bumped by every DDL statement and every ROLLBACK [TO SAVEPOINT] of
    /// this session, and whenever a statement runs again (perhaps on a new
    /// snapshot): a transaction's own dictionary changes (or their undoing)
    /// and snapshot changes within a transaction happen across a bump.
    ddl_epoch: u64,
    /// A statement of this session waits for a lock (its `Execution` holds
    /// the rest; see `resume`).
    suspended: bool,
    /// `RolledBack` (see the module documentation): the code of the error
    /// that rolled the explicit transaction back.
    rolled_back: Option<ErrorCode>,
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
        Ok(self.s.cat.dict.get_relation(self.txn, schema, name)?)
    }

    fn schema_exists(&self, schema: &str) -> Result<bool, BindError> {
        Ok(self.s.cat.dict.schema_exists(self.txn, schema)?)
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
        vec![
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
        ]
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
        self.s.cat.plugins.iter().map(|p| (p.name.clone(), p.kind.clone(), p.library.clone())).collect()
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

/// What [`pre_parse`] learned from the text.
struct PreParsed {
    text: String,
    consistent_snapshot: bool,
    txn_scope: Option<VarScope>,
}

/// Recognises MySQL forms `sqlparser` does not parse or parses without a
/// detail we need: `START TRANSACTION WITH CONSISTENT SNAPSHOT`,
/// `SET SESSION|GLOBAL TRANSACTION ...` and `... LOCK IN SHARE MODE`.
fn pre_parse(sql: &str) -> PreParsed {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    let upper = trimmed.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    let plain = |text: String| PreParsed { text, consistent_snapshot: false, txn_scope: None };
    if words.len() >= 5
        && words[0] == "START"
        && words[1] == "TRANSACTION"
        && upper.contains("WITH CONSISTENT SNAPSHOT")
    {
        let text =
            upper.replace("WITH CONSISTENT SNAPSHOT", "").replace(", ,", ",").trim().trim_end_matches(',').to_string();
        return PreParsed { text, consistent_snapshot: true, txn_scope: None };
    }
    if words.len() >= 3 && words[0] == "SET" && words[2] == "TRANSACTION" && !trimmed.contains(';') {
        let scope = match words[1] {
            "SESSION" | "LOCAL" => Some(VarScope::Session),
            "GLOBAL" => Some(VarScope::Global),
            _ => None,
        };
        if let Some(scope) = scope {
            // Drop the scope word: sqlparser parses the rest as SET TRANSACTION.
            let rest = trimmed.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
            return PreParsed { text: format!("SET {rest}"), consistent_snapshot: false, txn_scope: Some(scope) };
        }
    }
    if upper.ends_with("LOCK IN SHARE MODE") {
        let cut = trimmed.len() - "LOCK IN SHARE MODE".len();
        return plain(format!("{} FOR SHARE", &trimmed[..cut]));
    }
    plain(sql.to_string())
}

impl Session {
    /// A new session on a catalog, in the default schema.
    pub fn new(cat: Arc<CatalogState>) -> Session {
        let id = cat.next_connection_id();
        let vars = cat.globals.read().clone();
        Session {
            cat,
            source: None,
            id,
            user: "root@localhost".into(),
            database: Some(DEFAULT_SCHEMA.into()),
            txn: None,
            vars,
            user_vars: HashMap::new(),
            next_isolation: None,
            next_read_only: None,
            prepared: HashMap::new(),
            warnings: Vec::new(),
            last_insert_id: 0,
            row_count: -1,
            found_rows: 0,
            txn_scope: None,
            ddl_epoch: 0,
            suspended: false,
            rolled_back: None,
        }
    }

    /// The connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The current database.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Selects the current database (like `USE`), checking that it exists.
    pub fn set_database(&mut self, db: Option<String>) -> Result<(), SessionError> {
        if let Some(d) = &db {
            let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
            t.begin_statement()?;
            let ok = self.cat.dict.schema_exists(&t, d)?;
            t.rollback();
            if !ok {
                return Err(SessionError::rule(ErrorCode::UnknownDatabase, format!("Unknown database '{d}'")));
            }
        }
        self.database = db;
        Ok(())
    }

    /// Sets the user name shown by USER().
    pub fn set_user(&mut self, user: &str) {
        self.user = user.to_string();
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
        self.vars.get("autocommit").map(|v| v == "ON").unwrap_or(true)
    }

    /// Warnings of the last statement.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
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
        parse_iso(self.vars.get("transaction_isolation").map(|s| s.as_str()).unwrap_or("REPEATABLE-READ"))
    }

    fn begin_txn(&mut self, explicit: bool, iso: Option<IsolationLevel>, ro: Option<bool>) -> Txn {
        let isolation = iso.or(self.next_isolation.take()).unwrap_or_else(|| self.session_isolation());
        let read_only = ro
            .or(self.next_read_only.take())
            .unwrap_or_else(|| self.vars.get("transaction_read_only").is_some_and(|v| v == "ON"));
        let txn = self.cat.txns.begin(TxnOptions { isolation, read_only });
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

    fn commit_current(&mut self) -> Result<Option<PendingCommit>, SessionError> {
        match self.txn.take() {
            Some(t) if t.txn.is_active() => Ok(Some(t.txn.commit_with(self.commit_sync())?)),
            _ => Ok(None),
        }
    }

    /// The durability commits of this session ask for
    /// (`innodb_flush_log_at_trx_commit`: 1 full, 2 normal, 0 off).
    fn commit_sync(&self) -> Option<mizzle_txn::SyncMode> {
        match self.vars.get("innodb_flush_log_at_trx_commit").map(|s| s.as_str()) {
            Some("1") => Some(mizzle_txn::SyncMode::Full),
            Some("2") => Some(mizzle_txn::SyncMode::Normal),
            Some("0") => Some(mizzle_txn::SyncMode::Off),
            _ => None,
        }
    }

    fn rollback_current(&mut self) {
        if let Some(t) = self.txn.take() {
            t.txn.rollback();
        }
    }

    fn now(&self) -> DateTime {
        DateTime::from_unix_micros(self.cat.clock.now_micros()).unwrap_or_else(|| DateTime::from_parts(epoch(), 0))
    }

    fn info(&self) -> SessionInfo<'_> {
        SessionInfo {
            database: self.database.as_deref(),
            last_insert_id: self.last_insert_id,
            row_count: self.row_count,
            found_rows: self.found_rows,
            connection_id: self.id,
            user: &self.user,
            version: vars::VERSION,
            now: self.now(),
            foreign_key_checks: self.vars.get("foreign_key_checks").is_none_or(|v| v == "ON"),
        }
    }

    /// Executes one or more `;`-separated statements with `?` parameters.
    /// The result may hold a statement waiting for a lock: see
    /// [`Execution::lock_wait`] and [`Session::resume`].
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Execution, SessionError> {
        self.execute_text(sql, params, false)
    }

    /// [`Session::execute`] for text whose last statement must return rows:
    /// if it is one that returns none, it fails (1221) before it runs.
    pub fn execute_query(&mut self, sql: &str, params: &[Value]) -> Result<Execution, SessionError> {
        self.execute_text(sql, params, true)
    }

    fn execute_text(&mut self, sql: &str, params: &[Value], expect_rows: bool) -> Result<Execution, SessionError> {
        self.abandon_suspended();
        let pre = pre_parse(sql);
        self.txn_scope = pre.txn_scope;
        let parsed = mizzle_sql::parse::parse(&pre.text)?;
        if parsed.is_empty() {
            return Err(SessionError::rule(ErrorCode::Syntax, "Query was empty"));
        }
        let job = Job { parsed: Arc::new(parsed), consistent: pre.consistent_snapshot, expect_rows };
        self.drive(Execution::new(), job, params, 0, None, 0)
    }

    /// Runs the statements of `job` from `from` on, until the end or a
    /// lock wait.
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
        let stmts = parsed.statements();
        for (i, stmt) in stmts.iter().enumerate().skip(from) {
            if let Some(p) = ex.pending.take() {
                let _ = p.ticket().wait();
                p.finish()?;
            }
            let expect = job.expect_rows && i + 1 == stmts.len();
            match self.run(stmt, params, prepared.as_deref_mut(), job.consistent, expect, &mut restarts)? {
                Step::Done(out, pending) => {
                    ex.pending = pending;
                    ex.outputs.push(out);
                    restarts = 0;
                }
                Step::Wait(wait, deadline) => {
                    self.suspended = true;
                    ex.warnings = self.warnings.len();
                    let txn = self.txn.as_ref().map_or(TxnId(0), |t| t.txn.id());
                    ex.suspended = Some(Box::new(Suspended {
                        txn,
                        wait,
                        deadline,
                        job,
                        params: params.to_vec(),
                        index: i,
                        restarts,
                    }));
                    return Ok(ex);
                }
            }
        }
        ex.warnings = self.warnings.len();
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

    fn resume_with(&mut self, mut ex: Execution, prepared: Option<&mut Prepared>) -> Result<Execution, SessionError> {
        let Some(mut s) = ex.suspended.take() else {
            return Ok(ex);
        };
        let current = self.txn.as_ref().filter(|t| t.txn.id() == s.txn && self.suspended);
        let Some((txn, implicit)) = current.map(|t| (t.txn.clone(), !t.explicit)) else {
            return Err(SessionError::rule(
                ErrorCode::WrongUsage,
                "this execution waited for a lock and was abandoned: the session ran other statements since",
            ));
        };
        self.suspended = false;
        if s.wait.poll().is_none() {
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

    /// Blocks the calling thread through every lock wait of `ex`.
    pub fn block_on(
        &mut self,
        mut ex: Execution,
        mut prepared: Option<&mut Prepared>,
    ) -> Result<Execution, SessionError> {
        while let Some(w) = ex.lock_wait() {
            let _ = w.wait_until(ex.lock_deadline());
            ex = self.resume_with(ex, prepared.as_deref_mut())?;
        }
        Ok(ex)
    }

    /// A statement's waiting execution was dropped: its statement (already
    /// undone) is abandoned; an autocommit transaction ends with it.
    fn abandon_suspended(&mut self) {
        if !std::mem::take(&mut self.suspended) {
            return;
        }
        if self.txn.as_ref().is_some_and(|t| !t.explicit) {
            self.rollback_current();
        }
        // An explicit transaction's wait is withdrawn by its next statement.
    }

    /// Prepares a single statement; it is planned now and re-planned only
    /// when a table it uses changed definition.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared, SessionError> {
        let pre = pre_parse(sql);
        self.txn_scope = pre.txn_scope;
        let parsed = mizzle_sql::parse::parse(&pre.text)?;
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
        };
        // Plan against a snapshot now, to report errors and parameter counts early.
        self.source = Some(p.parsed.clone());
        let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
        t.begin_statement()?;
        let r = match p.parsed.statements().first() {
            Some(stmt) => self.plan(stmt, &t),
            None => Err(SessionError::rule(ErrorCode::Syntax, "Query was empty")),
        };
        t.rollback();
        match r {
            Ok((b, n)) => {
                p.params = n;
                if is_cacheable(&b) {
                    let versions = table_versions(&b);
                    p.columns = query_columns(&b);
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
        self.abandon_suspended();
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
        if p.parsed.statements().is_empty() {
            return Err(SessionError::rule(ErrorCode::Syntax, "Query was empty"));
        }
        let job = Job { parsed: p.parsed.clone(), consistent: false, expect_rows: false };
        self.drive(Execution::new(), job, params, 0, Some(p), 0)
    }

    /// Starts an explicit transaction (as BEGIN does: an open one commits
    /// first) with the given characteristics, or the session's defaults.
    pub fn begin_transaction(
        &mut self,
        isolation: Option<IsolationLevel>,
        read_only: Option<bool>,
    ) -> Result<(), SessionError> {
        self.abandon_suspended();
        self.rolled_back = None;
        if let Some(p) = self.commit_current()? {
            let _ = p.ticket().wait();
            p.finish()?;
        }
        self.begin_txn(true, isolation, read_only);
        self.warnings.clear();
        Ok(())
    }

    fn plan(&self, stmt: &Statement, txn: &Txn) -> Result<(BoundStatement, usize), SessionError> {
        let cat = BindCatalog { s: self, txn };
        let mut b = Binder::new(&cat);
        let bound = b.bind_statement(stmt)?;
        let n = b.param_count();
        Ok((mizzle_sql::optimize::optimize_statement(bound), n))
    }

    /// Runs one statement (invariant 1), again after a row committed after
    /// its snapshot where allowed, until it ends or waits for a lock.
    fn run(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        mut prepared: Option<&mut Prepared>,
        consistent: bool,
        expect_rows: bool,
        restarts: &mut u32,
    ) -> Result<Step, SessionError> {
        if let Some(code) = self.rolled_back {
            self.in_rolled_back_block(stmt, code)?;
        }
        if expect_rows && is_txn_control(stmt) {
            return Err(no_result_set());
        }
        // Transaction control and session statements need no snapshot.
        if let Some((out, pending)) = self.run_control(stmt, consistent)? {
            return Ok(Step::Done(out, pending));
        }
        let txn = self.ensure_txn();
        let implicit = !self.txn.as_ref().is_some_and(|t| t.explicit);
        let policy = mizzle_sql::locking::wait_policy(stmt);
        let previous = std::mem::take(&mut self.warnings);
        loop {
            txn.begin_statement()?;
            if policy != WaitPolicy::Wait {
                txn.set_wait_policy(policy);
            }
            let result = self.run_in_txn(stmt, params, prepared.as_deref_mut(), &txn, &previous, expect_rows);
            let e = match result {
                Ok((out, warnings)) => {
                    txn.end_statement(true)?;
                    self.warnings = warnings;
                    let pending = if implicit { self.commit_current()? } else { None };
                    return Ok(Step::Done(out, pending));
                }
                Err(e) => e,
            };
            match txn.blocked() {
                Some(Blocked::Retry { .. }) => {
                    let _ = txn.end_statement(false);
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
        self.warnings = vec![Warning { code, message: e.to_string() }];
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
    fn in_rolled_back_block(&mut self, stmt: &Statement, code: ErrorCode) -> Result<(), SessionError> {
        match stmt {
            Statement::Rollback { savepoint: None, .. } | Statement::StartTransaction { .. } => {
                self.rolled_back = None;
                Ok(())
            }
            Statement::Commit { .. } => {
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
        stmt: &Statement,
        params: &[Value],
        prepared: Option<&mut Prepared>,
        txn: &Txn,
        previous: &[Warning],
        expect_rows: bool,
    ) -> Result<(StatementOutput, Vec<Warning>), SessionError> {
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
        let bound: Arc<BoundStatement> = match prepared {
            Some(p) => {
                let stable = !matches!(txn.isolation(), IsolationLevel::ReadCommitted);
                if txn.snapshot_ts().is_none() {
                    txn.take_snapshot();
                }
                let snapshot = txn.snapshot_ts().unwrap_or(Ts(0));
                let committed_view = !txn.wrote_space(DICT_SPACE);
                let stamp = Checked { txn: txn.id(), epoch: self.ddl_epoch, snapshot, committed_view };
                let unchanged = match (&p.plan, p.checked) {
                    (Some(_), Some(c)) if stable && c.txn == txn.id() && c.epoch == self.ddl_epoch => true,
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
                let fresh = match &p.plan {
                    Some((b, _)) if unchanged => Some(b.clone()),
                    Some((b, versions)) if self.still_valid(versions, txn)? => {
                        p.checked = Some(stamp);
                        Some(b.clone())
                    }
                    _ => None,
                };
                let b = match fresh {
                    Some(b) => b,
                    None => {
                        let (b, n) = self.plan(stmt, txn)?;
                        p.params = n;
                        let b = Arc::new(b);
                        if is_cacheable(&b) {
                            p.columns = query_columns(&b);
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
        if expect_rows && !matches!(bound.as_ref(), BoundStatement::Query(_) | BoundStatement::Explain { .. }) {
            return Err(no_result_set());
        }
        if let BoundStatement::Session(s) = bound.as_ref() {
            return Ok((self.run_session(s, txn)?, Vec::new()));
        }
        if matches!(bound.as_ref(), BoundStatement::Ddl(_)) {
            self.ddl_epoch += 1;
        }
        if *bound == BoundStatement::NoOp {
            return Ok((done(0), Vec::new()));
        }
        let info = self.info();
        let sys = Sys { s: self, previous };
        let mut ctx = Ctx::new(txn, &self.cat.dict, params, &info, &sys);
        let out = exec_bound(&bound, cached_columns, &mut ctx)?;
        let warnings = std::mem::take(&mut ctx.warnings);
        drop(ctx);
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
        Ok((out.0, warnings))
    }

    fn still_valid(&self, versions: &[(String, String, u64)], txn: &Txn) -> Result<bool, SessionError> {
        for (schema, name, v) in versions {
            match self.cat.dict.get_relation(txn, schema, name)? {
                Some(Relation::Table(t)) if t.version == *v => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Transaction statements, handled outside any statement snapshot.
    fn run_control(
        &mut self,
        stmt: &Statement,
        consistent: bool,
    ) -> Result<Option<(StatementOutput, Option<PendingCommit>)>, SessionError> {
        let ts = match stmt {
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. } => {
                // These bind without a catalog.
                let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: true });
                let r = self.plan(stmt, &t);
                t.rollback();
                match r?.0 {
                    BoundStatement::Txn(ts) => ts,
                    _ => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        // Undoing the transaction's own DDL changes what it sees without a
        // dictionary commit; commits are seen through the dictionary watch.
        if matches!(ts, TxnStmt::Rollback | TxnStmt::RollbackTo(_)) {
            self.ddl_epoch += 1;
        }
        self.warnings.clear();
        let out = match ts {
            TxnStmt::Begin { isolation, read_only, .. } => {
                // MySQL commits an open transaction on BEGIN.
                let pending = self.commit_current()?;
                if let Some(p) = pending {
                    let _ = p.ticket().wait();
                    p.finish()?;
                }
                let t = self.begin_txn(true, isolation, read_only);
                if consistent {
                    t.take_snapshot();
                }
                (done(0), None)
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
        Ok(Some(out))
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
        let text = vars::normalise(d, v).ok_or_else(|| {
            SessionError::rule(
                ErrorCode::WrongValueForVar,
                format!("Variable '{name}' can't be set to the value of '{}'", v.to_text_lossy()),
            )
        })?;
        match scope {
            VarScope::Global => {
                self.cat.globals.write().insert(name.to_string(), text);
            }
            _ => {
                if name == "autocommit" && text == "ON" && !self.autocommit() {
                    // Turning autocommit on commits the open transaction.
                    if let Some(p) = self.commit_current()? {
                        let _ = p.ticket().wait();
                        p.finish()?;
                    }
                }
                self.vars.insert(name.to_string(), text);
            }
        }
        Ok(())
    }

    fn run_session(&mut self, s: &SessionStmt, txn: &Txn) -> Result<StatementOutput, SessionError> {
        match s {
            SessionStmt::Use(db) => {
                self.database = Some(db.clone());
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
            SessionStmt::SetNames(_) => {}
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
                let r = match parsed.statements().first() {
                    Some(stmt) => self.run_in_txn(stmt, &params, Some(&mut p), txn, &[], false),
                    None => Err(SessionError::rule(ErrorCode::Syntax, "Query was empty")),
                };
                self.source = outer;
                self.prepared.insert(name.to_lowercase(), p);
                return r.map(|x| x.0);
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

/// Transaction control statements (they return no rows).
fn is_txn_control(s: &Statement) -> bool {
    matches!(
        s,
        Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
    )
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

/// Executes a bound statement that runs inside the transaction.
/// Result columns of a query statement.
fn query_columns(b: &BoundStatement) -> Option<Arc<Vec<ColumnInfo>>> {
    match b {
        BoundStatement::Query(p) => Some(Arc::new(p.columns().iter().map(ColumnInfo::from).collect())),
        _ => None,
    }
}

fn exec_bound(
    b: &BoundStatement,
    columns: Option<Arc<Vec<ColumnInfo>>>,
    ctx: &mut Ctx<'_>,
) -> Result<(StatementOutput, Option<DmlResult>), SessionError> {
    Ok(match b {
        BoundStatement::Query(p) => {
            let rows = mizzle_exec::collect(p, ctx)?;
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
        BoundStatement::Explain { analyze, stmt } => {
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
                    let mut l = vec![format!("-> Update {}", u.table.name)];
                    l.extend(explain_lines(&u.input).into_iter().map(|x| format!("    {x}")));
                    l
                }
                BoundStatement::Delete(d) => {
                    let mut l = vec![format!("-> Delete from {}", d.table.name)];
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
                    rows: lines.into_iter().map(|l| vec![Value::text(&l)]).collect(),
                },
                None,
            )
        }
        BoundStatement::Txn(_) | BoundStatement::Session(_) | BoundStatement::NoOp => (done(0), None),
    })
}
