//! A session: current database, transaction, variables and prepared
//! statements, and the dispatch of each statement.
//!
//! Transaction states and transitions (function performing each):
//! - `Idle` (no transaction) -> `Implicit` when a statement starts under
//!   autocommit ([`Session::ensure_txn`]); `Implicit` -> `Idle` when that
//!   statement ends (commit on success, rollback on error).
//! - `Idle` -> `Explicit` on BEGIN / START TRANSACTION, or on any statement
//!   while `autocommit=0` ([`Session::ensure_txn`]); `Explicit` -> `Idle` on
//!   COMMIT, ROLLBACK, or a retryable error (which rolled it back).
//!
//! Invariants:
//! 1. Every statement runs inside `begin_statement` / `end_statement`, so a
//!    failed statement leaves no effects and the transaction stays usable
//!    (except after 1213, which ends it, as InnoDB does).
//! 2. DDL never commits implicitly; it is part of the transaction.
//! 3. A commit's durability wait happens after the statement's work is
//!    done: [`Execution`] carries the pending commit, so the caller decides
//!    whether to block or to park the session.

use std::collections::HashMap;
use std::sync::Arc;

use mizzle_dictionary::{Relation, TableDef, DICT_SPACE};
use mizzle_exec::ctx::{Ctx, SessionInfo, SystemInfo};
use mizzle_exec::dml::DmlResult;
use mizzle_plugin_api::durability::DurableTicket;
use mizzle_sql::bind::Binder;
use mizzle_sql::plan::{BoundStatement, OutCol, SessionStmt, TxnStmt, VarScope};
use mizzle_sql::{BindError, Catalog, Statement};
use mizzle_txn::{IsolationLevel, PendingCommit, Ts, Txn, TxnId, TxnOptions};
use mizzle_types::{DateTime, ErrorClass, ErrorCode, SqlError, SqlType, Value, Warning};

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

/// The outcome of executing text: outputs, and a commit that may still be
/// waiting for durability (invariant 3).
pub struct Execution {
    /// One output per statement.
    pub outputs: Vec<StatementOutput>,
    /// Warnings of the last statement.
    pub warnings: usize,
    pending: Option<PendingCommit>,
}

impl Execution {
    /// The durability ticket to wait or park on, if a commit is pending.
    pub fn ticket(&self) -> Option<&DurableTicket> {
        self.pending.as_ref().map(|p| p.ticket())
    }

    /// Waits for the pending commit (if any) and returns the outputs.
    pub fn finish(self) -> Result<Vec<StatementOutput>, SessionError> {
        if let Some(p) = self.pending {
            let _ = p.ticket().wait();
            p.finish()?;
        }
        Ok(self.outputs)
    }
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
    /// this session: a transaction's own dictionary changes (or their
    /// undoing) can only happen across a bump.
    ddl_epoch: u64,
}

struct BindCatalog<'a> {
    s: &'a Session,
    txn: &'a Txn,
}

impl Catalog for BindCatalog<'_> {
    fn current_schema(&self) -> Option<String> {
        self.s.database.clone()
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
        vec![("Threads_connected".into(), "1".into()), ("Uptime".into(), "0".into()), ("Questions".into(), "0".into())]
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

    /// True inside an explicit transaction.
    pub fn in_transaction(&self) -> bool {
        self.txn.as_ref().is_some_and(|t| t.explicit)
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
        }
    }

    /// Executes one or more `;`-separated statements with `?` parameters.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Execution, SessionError> {
        let pre = pre_parse(sql);
        self.txn_scope = pre.txn_scope;
        let consistent = pre.consistent_snapshot;
        let parsed = mizzle_sql::parse::parse(&pre.text)?;
        let stmts = parsed.statements();
        if stmts.is_empty() {
            return Err(SessionError::rule(ErrorCode::Syntax, "Query was empty"));
        }
        let mut outputs = Vec::with_capacity(stmts.len());
        let mut pending: Option<PendingCommit> = None;
        for s in stmts {
            if let Some(p) = pending.take() {
                let _ = p.ticket().wait();
                p.finish()?;
            }
            let (out, p) = self.run(s, params, None, consistent)?;
            pending = p;
            outputs.push(out);
        }
        Ok(Execution { outputs, warnings: self.warnings.len(), pending })
    }

    /// Executes text and waits for durability (blocking the thread).
    pub fn execute_blocking(&mut self, sql: &str, params: &[Value]) -> Result<Vec<StatementOutput>, SessionError> {
        self.execute(sql, params)?.finish()
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

    /// Executes a prepared statement with parameters.
    pub fn execute_prepared(&mut self, p: &mut Prepared, params: &[Value]) -> Result<Execution, SessionError> {
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
        let parsed = p.parsed.clone();
        let Some(stmt) = parsed.statements().first() else {
            return Err(SessionError::rule(ErrorCode::Syntax, "Query was empty"));
        };
        let (out, pending) = self.run(stmt, params, Some(p), false)?;
        Ok(Execution { outputs: vec![out], warnings: self.warnings.len(), pending })
    }

    fn plan(&self, stmt: &Statement, txn: &Txn) -> Result<(BoundStatement, usize), SessionError> {
        let cat = BindCatalog { s: self, txn };
        let mut b = Binder::new(&cat);
        let bound = b.bind_statement(stmt)?;
        let n = b.param_count();
        Ok((mizzle_sql::optimize::optimize_statement(bound), n))
    }

    /// Runs one statement (invariant 1).
    fn run(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        prepared: Option<&mut Prepared>,
        consistent: bool,
    ) -> Result<(StatementOutput, Option<PendingCommit>), SessionError> {
        // Transaction control and session statements need no snapshot.
        if let Some(r) = self.run_control(stmt, consistent)? {
            return Ok(r);
        }
        let txn = self.ensure_txn();
        let implicit = !self.txn.as_ref().is_some_and(|t| t.explicit);
        txn.begin_statement()?;
        let previous = std::mem::take(&mut self.warnings);
        let result = self.run_in_txn(stmt, params, prepared, &txn, &previous);
        let (out, warnings) = match result {
            Ok(x) => x,
            Err(e) => {
                let retry = e.code().class() == ErrorClass::Retryable;
                let _ = txn.end_statement(false);
                if retry || implicit {
                    self.rollback_current();
                }
                // SHOW WARNINGS after an error shows the error.
                let c = e.code();
                self.warnings = vec![Warning { code: c, message: e.to_string() }];
                return Err(e);
            }
        };
        txn.end_statement(true)?;
        self.warnings = warnings;
        let pending = if implicit { self.commit_current()? } else { None };
        Ok((out, pending))
    }

    fn run_in_txn(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        prepared: Option<&mut Prepared>,
        txn: &Txn,
        previous: &[Warning],
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
                let r = match parsed.statements().first() {
                    Some(stmt) => self.run_in_txn(stmt, &params, Some(&mut p), txn, &[]),
                    None => Err(SessionError::rule(ErrorCode::Syntax, "Query was empty")),
                };
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
