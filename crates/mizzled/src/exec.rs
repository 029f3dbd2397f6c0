//! The one module of the server that touches `mizzle_session`: opening the
//! database, running SQL text and prepared statements for a connection,
//! and the internal privileged session that reads and writes accounts.
//!
//! Invariants:
//! 1. Every other module sees only [`Engine`], [`SqlSession`], [`Output`],
//!    [`Outcome`] and [`PreparedSql`]; when the session grows a step API
//!    (results as cursors, parking on tickets without blocking), only this
//!    module changes.
//! 2. A statement's result is handed out only after its lock waits and
//!    the durability of its commit: the blocking calls wait on the tickets
//!    the session hands back (`Session::block_on`, `Execution::finish`);
//!    the step calls return [`Step::Wait`] until the session's execution
//!    is parked on nothing. An OK is never sent before its commit is
//!    durable.
//! 3. Dropping a [`SqlSession`] rolls back its open transaction (the
//!    kernel session's drop does; a vanished client loses its work).
//! 4. Client commands stream: a query that locks no rows (text or
//!    prepared) gives [`Step::Rows`], whose rows the connection pulls
//!    batch by batch ([`SqlSession::next_rows`]) as the client reads, then
//!    [`SqlSession::resume`] runs the rest of the text. The outputs handed
//!    out with it belong to statements whose commits are durable and
//!    published (a statement starts only after its predecessors' are).

use std::path::Path;
use std::sync::Arc;

use std::time::Instant;

use mizzle_plugin_api::durability::DurableTicket;
pub use mizzle_session::CancelHandle;
use mizzle_session::{ColumnInfo, Execution, Park, Prepared, Session, SessionError, StatementOutput};
use mizzle_txn::LockWait;
use mizzle_types::{ErrorCode, Value};

/// The database a server serves.
#[derive(Clone)]
pub struct Engine {
    db: mizzle::Database,
}

/// One statement's result.
pub enum Output {
    /// A result set.
    Rows {
        /// Column descriptions.
        columns: Arc<Vec<ColumnInfo>>,
        /// The rows.
        rows: Vec<Vec<Value>>,
    },
    /// A statement without a result set.
    Done {
        /// Rows changed.
        affected: u64,
        /// The statement's first generated AUTO_INCREMENT value, or 0.
        last_insert_id: u64,
        /// "Rows matched: ..." and similar.
        info: String,
    },
}

/// What a piece of SQL text produced.
pub struct Outcome {
    /// One output per statement.
    pub outputs: Vec<Output>,
    /// Warnings of the last statement.
    pub warnings: u16,
}

/// A statement prepared on a connection.
pub struct PreparedSql {
    inner: Prepared,
}

impl PreparedSql {
    /// Number of `?` placeholders.
    pub fn param_count(&self) -> usize {
        self.inner.param_count()
    }

    /// The result columns, when known at prepare time.
    pub fn columns(&self) -> Option<Vec<ColumnInfo>> {
        self.inner.columns()
    }
}

/// A statement stopped at a wait: a commit's durability or a row lock.
/// Park the connection on [`Pending::waiter`], then call
/// [`SqlSession::resume`].
pub struct Pending {
    ex: Execution,
}

/// What a pending statement waits for.
pub enum Waiter {
    /// The durability of a commit.
    Durable(DurableTicket),
    /// A row lock, until the deadline (`None`: never), or until the
    /// statement is killed (the handle of its session, once known).
    Lock(LockWait, Option<Instant>, Option<CancelHandle>),
}

/// How often a thread blocked on a row lock looks at its kill flag.
const KILL_POLL: std::time::Duration = std::time::Duration::from_millis(50);

impl Waiter {
    /// The same wait, also ended by `cancel` (`KILL QUERY`).
    pub fn killed_by(self, cancel: CancelHandle) -> Waiter {
        match self {
            Waiter::Lock(w, deadline, _) => Waiter::Lock(w, deadline, Some(cancel)),
            other => other,
        }
    }

    /// Blocks the calling thread until the wait is over (thread scheduler).
    pub fn block(&self) {
        match self {
            Waiter::Durable(t) => {
                let _ = t.wait();
            }
            Waiter::Lock(w, deadline, cancel) => {
                if w.poll().is_some() {
                    // A yield (a newer commit still being published).
                    std::thread::yield_now();
                    return;
                }
                let _ =
                    w.wait_until_or(*deadline, KILL_POLL, &|| cancel.as_ref().is_some_and(CancelHandle::is_cancelled));
            }
        }
    }

    /// Runs `wake` once the wait may be over (at once if it is), on the
    /// thread that ends it: keep it short. A lock wait's deadline is
    /// returned; the caller must also wake the session then.
    pub fn on_ready(&self, wake: impl FnOnce() + Send + 'static) -> Option<Instant> {
        match self {
            Waiter::Durable(t) => {
                t.on_complete(move |_| wake());
                None
            }
            Waiter::Lock(w, deadline, _) => {
                w.on_complete(move |_| wake());
                *deadline
            }
        }
    }
}

/// A parked connection's wait, as the scheduler sees it.
impl mizzle_plugin_api::scheduler::Wait for Waiter {
    fn block(&self) {
        Waiter::block(self);
    }

    fn on_ready(&self, wake: Box<dyn FnOnce() + Send>) -> Option<Instant> {
        Waiter::on_ready(self, wake)
    }
}

impl Pending {
    /// The columns of the streaming query this step parked on.
    pub fn columns(&self) -> Option<Arc<Vec<ColumnInfo>>> {
        match self.ex.parked() {
            Some(Park::Rows(c)) => Some(c.columns().clone()),
            _ => None,
        }
    }

    /// Statements of the text after the streaming one.
    pub fn statements_after(&self) -> usize {
        self.ex.statements_after_park()
    }

    /// What the statement waits for.
    pub fn waiter(&self) -> Waiter {
        if let Some(w) = self.ex.lock_wait() {
            return Waiter::Lock(w.clone(), self.ex.lock_deadline(), None);
        }
        match self.ex.ticket() {
            Some(t) => Waiter::Durable(t.clone()),
            None => Waiter::Durable(DurableTicket::ready()),
        }
    }
}

/// The progress of a statement: done, or waiting (invariant 2 holds for
/// `Done`: its commit is durable).
pub enum Step {
    /// Finished.
    Done(Result<Outcome, SessionError>),
    /// Waiting; resume later.
    Wait(Pending),
    /// A query streams (invariant 4): send the outputs of the statements
    /// before it, then its columns ([`Pending::columns`]) and rows
    /// ([`SqlSession::next_rows`] until `None`), then resume.
    Rows(Pending, Vec<Output>),
    /// A statement of a multi-statement text failed after others ran:
    /// send their outputs, then the error (invariant 2 holds for them).
    Partial(Vec<Output>, SessionError),
}

/// Finishes `ex` if it is parked on nothing: a lock wait, a commit's
/// durability (between statements, or the last statement's) or a commit's
/// visibility (a complete ticket: a yield) park the connection, and
/// [`SqlSession::resume`] goes on. So no worker blocks for a group commit,
/// and a commit is published by its own connection's step, never waited
/// for by another's (which, with every worker waiting, could deadlock).
fn settle(mut ex: Execution) -> Step {
    match ex.parked() {
        Some(Park::Lock { .. } | Park::Durable(_)) => return Step::Wait(Pending { ex }),
        Some(Park::Rows(_)) => {
            let before = std::mem::take(&mut ex.outputs);
            return Step::Rows(Pending { ex }, convert(before, 0).outputs);
        }
        None => {}
    }
    let warnings = ex.warnings;
    Step::Done(ex.finish().map(|out| convert(out, warnings)))
}

fn convert(outputs: Vec<StatementOutput>, warnings: usize) -> Outcome {
    let outputs = outputs
        .into_iter()
        .map(|o| match o {
            StatementOutput::Rows { columns, rows } => Output::Rows { columns, rows },
            StatementOutput::Done { affected, last_insert_id, info } => Output::Done { affected, last_insert_id, info },
        })
        .collect();
    Outcome { outputs, warnings: u16::try_from(warnings).unwrap_or(u16::MAX) }
}

impl Engine {
    /// Opens (creating on first start) the on-disk database in `dir` with
    /// the disk engine.
    pub fn open(dir: &Path) -> Result<Engine, mizzle::Error> {
        Engine::open_with(dir, mizzle::OpenOptions::default())
    }

    /// [`Engine::open`] with options (`--collation-server`,
    /// `--default-time-zone`, `--transaction-isolation`; an unknown value is
    /// 1273, 1298 or 1231).
    pub fn open_with(dir: &Path, opts: mizzle::OpenOptions) -> Result<Engine, mizzle::Error> {
        let db = mizzle::Database::open_with(dir, opts)?;
        Ok(Engine { db })
    }

    /// An in-memory database (tests and fuzzing).
    pub fn open_in_memory() -> Result<Engine, mizzle::Error> {
        Ok(Engine { db: mizzle::Database::open_in_memory()? })
    }

    /// A session for a client connection.
    pub fn session(&self) -> SqlSession {
        let mut inner = self.db.session().into_kernel_session();
        // A client's LOCAL files come over the wire, never from the
        // server's file system.
        inner.set_local_files(mizzle_session::LocalFiles::Client(None));
        SqlSession { inner }
    }

    /// Writes every committed change to the data files (at shutdown).
    pub fn checkpoint(&self) -> Result<(), mizzle::Error> {
        self.db.checkpoint()
    }

    /// Lists the server's plugin (its authentication plugin) in `SHOW PLUGINS`.
    pub fn register_plugin(&self, d: &mizzle_plugin_api::registry::PluginDescriptor) {
        self.db.register_front_end_plugin(d);
    }

    /// Adds the server's status rows to every session's `SHOW STATUS`.
    pub fn register_status(&self, source: mizzle_session::StatusSource) {
        self.db.register_front_end_status(source);
    }

    /// Creates the grant tables that are missing, and upgrades a
    /// `secure_file_priv` (`None`: server-side LOAD DATA refused, 1290)
    /// and `local_infile`.
    pub fn set_file_options(&self, secure_file_priv: Option<&Path>, local_infile: bool) -> anyhow::Result<()> {
        let dir = match secure_file_priv {
            None => Value::Null,
            Some(p) => Value::text(&p.to_string_lossy()),
        };
        self.db.set_server_option("secure_file_priv", &dir).map_err(|e| anyhow::anyhow!("secure-file-priv: {e}"))?;
        self.db
            .set_server_option("local_infile", &Value::Int(local_infile as i64))
            .map_err(|e| anyhow::anyhow!("local-infile: {e}"))?;
        Ok(())
    }

    /// `mysql.user` made before privileges (`Session::install_grant_tables`).
    pub fn install_grant_tables(&self) -> Result<(), SessionError> {
        let mut s = self.session();
        s.inner.install_grant_tables()
    }

    /// Runs administrative SQL on an internal session (account bootstrap
    /// and look-ups): one statement, parameters bound, results returned.
    pub fn internal(&self, sql: &str, params: &[Value]) -> Result<Outcome, SessionError> {
        let mut s = self.session();
        s.inner.set_user("mizzled.internal@localhost");
        s.query_with(sql, params)
    }
}

/// A client's session.
pub struct SqlSession {
    inner: Session,
}

impl SqlSession {
    /// The session's id (the connection id clients see).
    pub fn id(&self) -> u64 {
        self.inner.id()
    }

    /// Keeps a connection's id in a replacement session.
    pub fn set_id(&mut self, id: u64) {
        self.inner.set_connection_id(id);
    }

    /// `@@global.local_infile`: the server accepts `LOAD DATA LOCAL`.
    pub fn local_infile_enabled(&self) -> bool {
        self.inner.catalog().globals.read().get("local_infile").is_some_and(|v| v == "ON")
    }

    /// Where `LOAD DATA LOCAL` reads (the client's bytes, spooled).
    pub fn set_local_files(&mut self, f: mizzle_session::LocalFiles) {
        self.inner.set_local_files(f);
    }

    /// Stops this session's running statement from another connection
    /// (`KILL QUERY`): it fails with 1317 at its next batch.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.inner.cancel_handle()
    }

    /// Runs SQL text (one or more statements), blocking through lock
    /// waits and durability (invariant 2).
    pub fn query(&mut self, sql: &str) -> Result<Outcome, SessionError> {
        self.query_with(sql, &[])
    }

    fn query_with(&mut self, sql: &str, params: &[Value]) -> Result<Outcome, SessionError> {
        let ex = self.inner.execute(sql, params)?;
        let ex = self.inner.block_on(ex, None)?;
        let warnings = ex.warnings;
        let out = ex.finish()?;
        Ok(convert(out, warnings))
    }

    /// Starts SQL text; it may stop at a wait or stream (see [`Step`]).
    pub fn query_step(&mut self, sql: &str) -> Step {
        match self.inner.execute_streaming(sql, &[]) {
            Ok(ex) => settle(ex),
            Err(e) => self.failed(e),
        }
    }

    /// A failed step: the error alone, or with the outputs of the
    /// statements of the text that ran before it.
    fn failed(&mut self, e: SessionError) -> Step {
        let before = self.inner.take_outputs_before_error();
        if before.is_empty() {
            Step::Done(Err(e))
        } else {
            Step::Partial(convert(before, 0).outputs, e)
        }
    }

    /// Starts a prepared statement; it may stop at a wait or stream.
    pub fn execute_step(&mut self, p: &mut PreparedSql, params: &[Value]) -> Step {
        match self.inner.execute_prepared_streaming(&mut p.inner, params) {
            Ok(ex) => settle(ex),
            Err(e) => Step::Done(Err(e)),
        }
    }

    /// The next at most `max_rows` rows of the query `pending` streams;
    /// `None` once they are exhausted (then [`SqlSession::resume`]). An
    /// error fails the statement; the rest of the text does not run.
    pub fn next_rows(
        &mut self,
        pending: &mut Pending,
        max_rows: usize,
    ) -> Result<Option<Vec<Vec<Value>>>, SessionError> {
        Ok(pending.ex.next_batch(&mut self.inner, max_rows)?.map(|b| b.rows))
    }

    /// Gives back rows [`SqlSession::next_rows`] returned, once encoded,
    /// for the statement's operators to reuse.
    pub fn recycle_rows(&mut self, pending: &mut Pending, rows: Vec<Vec<Value>>) {
        pending.ex.recycle_rows(rows);
    }

    /// Goes on after a wait is over (or its deadline passed); `p` is the
    /// prepared statement the pending execution came from, if any.
    pub fn resume(&mut self, pending: Pending, p: Option<&mut PreparedSql>) -> Step {
        let ex = pending.ex;
        if ex.parked().is_none() {
            return settle(ex);
        }
        let r = match p {
            Some(p) => self.inner.resume_prepared(&mut p.inner, ex),
            None => self.inner.resume(ex),
        };
        match r {
            Ok(ex) => settle(ex),
            Err(e) => self.failed(e),
        }
    }

    /// How many statements `sql` holds (to refuse multi-statement text from
    /// a client without CLIENT_MULTI_STATEMENTS). Text that does not parse
    /// counts as one: running it reports the syntax error.
    pub fn statement_count(sql: &str) -> usize {
        mizzle_sql_count(sql)
    }

    /// Prepares one statement.
    pub fn prepare(&mut self, sql: &str) -> Result<PreparedSql, SessionError> {
        Ok(PreparedSql { inner: self.inner.prepare(sql)? })
    }

    /// Executes a prepared statement (invariant 2).
    pub fn execute_prepared(&mut self, p: &mut PreparedSql, params: &[Value]) -> Result<Outcome, SessionError> {
        let ex = self.inner.execute_prepared(&mut p.inner, params)?;
        let ex = self.inner.block_on(ex, Some(&mut p.inner))?;
        let warnings = ex.warnings;
        let out = ex.finish()?;
        Ok(convert(out, warnings))
    }

    /// The current database.
    pub fn database(&self) -> Option<&str> {
        self.inner.database()
    }

    /// `USE db` (checking that it exists).
    pub fn set_database(&mut self, db: &str) -> Result<(), SessionError> {
        self.inner.set_database(Some(db.to_owned()))
    }

    /// `@@collation_connection` from the handshake's collation id
    /// ([`Session::set_client_collation`](mizzle_session::Session::set_client_collation)).
    pub fn set_client_collation(&mut self, id: u16) {
        self.inner.set_client_collation(id);
    }

    /// The `user@host` that `USER()` shows.
    pub fn set_user(&mut self, user: &str, host: &str) {
        self.inner.set_user(&format!("{user}@{host}"));
    }

    /// Runs the session as the account `user@host_pattern`: its privileges
    /// are checked on every statement from now on.
    pub fn set_account(&mut self, user: &str, host_pattern: &str) {
        self.inner.set_account(user, host_pattern);
    }

    /// True if the session's account holds the global privilege `name`
    /// (e.g. `SUPER`, `PROCESS`).
    pub fn has_global_privilege(&mut self, name: &str) -> bool {
        self.inner.has_global_privilege(name)
    }

    /// Inside an explicit transaction (the IN_TRANS status bit).
    pub fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }

    /// Autocommit on (the AUTOCOMMIT status bit).
    pub fn autocommit(&self) -> bool {
        self.inner.autocommit()
    }

    /// Number of warnings of the last statement.
    pub fn warning_count(&self) -> u16 {
        u16::try_from(self.inner.statement_warnings().len()).unwrap_or(u16::MAX)
    }

    /// Columns of a table, for COM_FIELD_LIST.
    pub fn table_columns(&mut self, table: &str) -> Result<Vec<ColumnInfo>, SessionError> {
        let quoted = table.replace('`', "``");
        let ex = self.inner.execute_query(&format!("SELECT * FROM `{quoted}` LIMIT 0"), &[])?;
        let ex = self.inner.block_on(ex, None)?;
        match ex.finish()?.pop() {
            Some(StatementOutput::Rows { columns, .. }) => Ok(columns.as_ref().clone()),
            _ => Err(SessionError::rule(ErrorCode::NoSuchTable, format!("Table '{table}' doesn't exist"))),
        }
    }
}

/// Sessions and waits move between worker threads (pool scheduler).
#[allow(dead_code)]
fn assert_send() {
    fn is_send<T: Send>() {}
    is_send::<SqlSession>();
    is_send::<Pending>();
    is_send::<PreparedSql>();
}

/// Counts statements by parsing, as the session does.
fn mizzle_sql_count(sql: &str) -> usize {
    // Only text with a `;` followed by more text can hold several.
    let trimmed = sql.trim().trim_end_matches(';');
    if !trimmed.contains(';') {
        return 1;
    }
    match mizzle_sql::parse::parse(sql) {
        Ok(p) => p.len().max(1),
        Err(_) => 1,
    }
}
