//! A query's result as a cursor the front end pulls batch by batch, so a
//! result of any size streams in the memory of one operator batch.
//!
//! States (function performing each): `Open` -> `Done` when the operators
//! are exhausted ([`RowCursor::next_batch`] ends the statement, and an
//! autocommit statement's transaction commits); `Open` -> `Failed` when a
//! batch fails or panics (the statement fails as any statement does,
//! `Session::statement_failed`); `Open` -> dropped: an autocommit
//! statement's transaction rolls back at once (it only read), an explicit
//! transaction's statement is ended by the session's next step.
//!
//! Invariants:
//! 1. Between batches the cursor holds its operator tree, the statement's
//!    context state (`CtxState`) and at most the rest of one operator
//!    batch; nothing else of the result.
//! 2. A batch is pulled only while the cursor is its session's newest park
//!    (nothing else ran on the transaction since).
//! 3. Only queries that lock no rows stream: a locking read may run again
//!    after a lock wait, which rows already handed out forbid.
//!
//! Not here: the statement's start (`Session::run_in_txn` builds the
//! operators), and sending rows anywhere.

use super::*;

/// Rows pulled from a cursor.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// At most the `max_rows` asked for, at least one.
    pub rows: Vec<Vec<Value>>,
}

/// Where a cursor is (module documentation).
pub(super) enum CursorEnd {
    Open,
    /// Exhausted; the commit of an autocommit statement's transaction,
    /// if it is not settled yet.
    Done(Option<PendingCommit>),
    Failed,
}

/// A streaming query's rows (see the module documentation). `Send`: it
/// moves between worker threads with its session.
pub struct RowCursor {
    pub(super) columns: Arc<Vec<ColumnInfo>>,
    pub(super) op: Box<dyn mizzle_exec::build::Operator>,
    pub(super) state: Option<mizzle_exec::ctx::CtxState>,
    pub(super) txn: Txn,
    /// The statement runs in an autocommit transaction of its own.
    pub(super) implicit: bool,
    pub(super) params: Vec<Value>,
    /// Warnings of the statement before (`SHOW WARNINGS` in a subquery).
    pub(super) previous: Vec<Warning>,
    /// A diagnostic statement: the previous warnings stay once it ends.
    pub(super) diagnostic: bool,
    /// `NOW()` of the statement.
    pub(super) now: DateTime,
    /// Rows of the last operator batch not handed out yet.
    pub(super) rest: Vec<Vec<Value>>,
    pub(super) rows: u64,
    pub(super) end: CursorEnd,
    /// The session's park this cursor is (invariant 2).
    pub(super) seq: u64,
    /// When the statement times out (`max_execution_time`), in catalog
    /// clock microseconds.
    pub(super) deadline: Option<i64>,
    /// The operators may be kept for the prepared statement's next
    /// execution once they ran to the end, if its cached plan is still this
    /// one (`mizzle_exec::build::Reusable`).
    pub(super) keep: Option<Arc<BoundStatement>>,
}

impl RowCursor {
    /// The result columns.
    pub fn columns(&self) -> &Arc<Vec<ColumnInfo>> {
        &self.columns
    }

    /// Takes back rows of a batch once the caller has sent them: the
    /// operators reuse their vectors for the next batches (or drop them if
    /// the statement has ended).
    pub fn recycle(&mut self, rows: Vec<Vec<Value>>) {
        self.op.recycle(rows);
    }

    /// Rows handed out so far.
    pub fn rows_sent(&self) -> u64 {
        self.rows
    }

    /// True once the rows are exhausted or the statement failed.
    pub fn is_closed(&self) -> bool {
        !matches!(self.end, CursorEnd::Open)
    }

    /// The next batch of at most `max_rows` rows (at least one), or `None`
    /// once the rows are exhausted: the statement has ended then, and an
    /// autocommit statement's transaction committed. An error fails the
    /// statement (and closes the cursor).
    pub fn next_batch(&mut self, s: &mut Session, max_rows: usize) -> Result<Option<Batch>, SessionError> {
        if !matches!(self.end, CursorEnd::Open) {
            return Ok(None);
        }
        if !s.suspended || s.park_seq != self.seq {
            return Err(SessionError::rule(
                ErrorCode::WrongUsage,
                "this result cursor was abandoned: the session ran other statements since",
            ));
        }
        let max = max_rows.max(1);
        let mut out: Vec<Vec<Value>> = Vec::new();
        if !self.rest.is_empty() {
            if self.rest.len() <= max {
                out = std::mem::take(&mut self.rest);
            } else {
                let tail = self.rest.split_off(max);
                out = std::mem::replace(&mut self.rest, tail);
            }
        }
        let mut exhausted = false;
        let mut failure: Option<Result<SessionError, Box<dyn std::any::Any + Send>>> = None;
        if out.len() < max {
            let mut info = s.info();
            info.now = self.now;
            let sys = Sys { s, previous: &self.previous };
            let stopper = Stopper { killed: &s.killed, deadline: self.deadline, clock: &*s.cat.clock };
            let mut ctx = Ctx::new(&self.txn, &s.cat.dict, &self.params, &info, &sys);
            ctx.stop = Some(&stopper);
            if let Some(st) = self.state.take() {
                ctx.resume_state(st);
            }
            let op = &mut self.op;
            let rest = &mut self.rest;
            let debug_panic = s.debug_panic;
            let pulled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if debug_panic {
                    panic!("debug_panic_in_next_statement: a cursor panicked on purpose");
                }
                while out.len() < max {
                    match op.next(&mut ctx)? {
                        Some(mut b) => {
                            let room = max - out.len();
                            if b.len() > room {
                                *rest = b.split_off(room);
                            }
                            if out.is_empty() {
                                out = b;
                            } else {
                                out.append(&mut b);
                            }
                        }
                        None => return Ok(true),
                    }
                }
                Ok::<bool, ExecError>(false)
            }));
            match pulled {
                Ok(Ok(end)) => exhausted = end,
                Ok(Err(e)) => failure = Some(Ok(e.into())),
                Err(payload) => failure = Some(Err(payload)),
            }
            self.state = Some(ctx.suspend_state());
        }
        if let Some(f) = failure {
            self.end = CursorEnd::Failed;
            s.streaming = false;
            return Err(match f {
                Ok(e) => s.statement_failed(e, &self.txn, self.implicit),
                Err(payload) => s.statement_panicked(payload.as_ref()),
            });
        }
        self.rows += out.len() as u64;
        if exhausted && self.rest.is_empty() {
            self.finish(s)?;
        }
        Ok(if out.is_empty() { None } else { Some(Batch { rows: out }) })
    }

    /// Ends the exhausted statement (and an autocommit transaction).
    fn finish(&mut self, s: &mut Session) -> Result<(), SessionError> {
        s.streaming = false;
        let own = self.state.as_mut().map(|st| st.take_warnings()).unwrap_or_default();
        s.kept_warnings = self.diagnostic && own.is_empty();
        s.warnings = if s.kept_warnings { std::mem::take(&mut self.previous) } else { own };
        s.found_rows = self.rows;
        s.row_count = -1;
        if let Err(e) = self.txn.end_statement(true) {
            self.end = CursorEnd::Failed;
            return Err(s.statement_failed(e.into(), &self.txn, self.implicit));
        }
        let pending = if self.implicit {
            match s.commit_current() {
                Ok(p) => p,
                Err(e) => {
                    self.end = CursorEnd::Failed;
                    return Err(e);
                }
            }
        } else {
            None
        };
        // A read-only commit is settled at once (nothing to publish).
        let pending = match pending {
            Some(p) if p.ticket().poll().is_some() => {
                if let Err(e) = s.publish(p) {
                    self.end = CursorEnd::Failed;
                    return Err(e.into());
                }
                None
            }
            p => p,
        };
        self.end = CursorEnd::Done(pending);
        Ok(())
    }
}

impl Drop for RowCursor {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.end, CursorEnd::Failed) {
            // The autocommit query's transaction ends with its cursor (it
            // only read, so rolling back loses nothing and never waits).
            CursorEnd::Open if self.implicit => self.txn.rollback(),
            // A commit left pending is settled by its ticket (dropping
            // a `PendingCommit` never waits).
            _ => {}
        }
    }
}
