//! Temporary tables (`CREATE TEMPORARY TABLE`): definitions the session
//! keeps, never written to the dictionary, over spaces of their own.
//!
//! Invariants:
//! 1. Only this session can name a temporary table: the binder finds it
//!    through `BindCatalog::relation`, which looks here before the
//!    dictionary, so it shadows a base table of the same name (MySQL's
//!    rule) and is invisible to other sessions, `SHOW TABLES` and
//!    `information_schema.TABLES`.
//! 2. Its rows are ordinary MVCC rows of this session's transactions: DML
//!    on it commits and rolls back like any other. CREATE and DROP are
//!    not transactional (as in MySQL, they neither commit implicitly nor
//!    roll back): the definition appears or goes when the statement
//!    succeeds. A dropped table's spaces are cleared again when the
//!    session ends, in case the transaction that cleared them rolled back.
//! 3. Creating or dropping one bumps `temp_epoch`, and a cached plan is
//!    reused only under the epoch it was planned in (a new temporary table
//!    may shadow a table a plan read).
//! 4. When the session is dropped its temporary tables' rows are deleted
//!    in a transaction of their own, best effort: if a parked statement of
//!    the session still holds one of the rows, or the process dies, the
//!    rows stay in the engine, unreachable. Nobody waits for that commit
//!    (it is dropped pending): it never waits for other sessions' commits to become
//!    visible, which, on a server's worker, could wait for a session
//!    queued behind that very worker.

use std::sync::Arc;

use mizzle_dictionary::TableDef;
use mizzle_exec::ctx::Ctx;
use mizzle_sql::plan::Ddl;
use mizzle_txn::{IsolationLevel, KvBatch, SpaceId, SyncMode, Txn, TxnOptions};
use mizzle_types::{ErrorCode, Value, Warning};

use super::{done, Session, StatementOutput, Sys};
use crate::error::SessionError;

/// What a temporary-table DDL statement gave: its output and warnings, and
/// the DDL left for the executor.
pub(crate) type TempDdlRun = (StatementOutput, Vec<Warning>, Option<Ddl>);

/// Names compare case-insensitively, as table names do in the dictionary.
fn same_name(t: &TableDef, schema: &str, name: &str) -> bool {
    t.schema.eq_ignore_ascii_case(schema) && t.name.eq_ignore_ascii_case(name)
}

impl Session {
    /// The temporary table `schema.name` of this session, if any.
    pub(crate) fn temporary_table(&self, schema: &str, name: &str) -> Option<Arc<TableDef>> {
        self.temp_tables.iter().find(|t| same_name(t, schema, name)).cloned()
    }

    /// Runs the DDL that concerns temporary tables: CREATE / DROP
    /// TEMPORARY TABLE, and DROP TABLE or TRUNCATE naming one. `None` when
    /// `d` concerns none; `Some(rest)` with the DDL left for the executor
    /// (a DROP TABLE list without its temporary tables).
    pub(crate) fn run_temporary_ddl(
        &mut self,
        d: &Ddl,
        txn: &Txn,
        params: &[Value],
    ) -> Result<Option<TempDdlRun>, SessionError> {
        match d {
            Ddl::CreateTemporaryTable { spec, if_not_exists, as_select } => {
                if self.temporary_table(&spec.schema, &spec.name).is_some() {
                    let message = format!("Table '{}' already exists", spec.name);
                    if *if_not_exists {
                        let w = Warning::new(ErrorCode::TableExists, message);
                        return Ok(Some((done(0), vec![w], None)));
                    }
                    return Err(SessionError::rule(ErrorCode::TableExists, message));
                }
                let (t, rows) = self.with_ctx(txn, params, |ctx| {
                    mizzle_exec::ddl::temporary_table(spec, as_select.as_deref(), ctx)
                })?;
                self.temp_tables.push(t);
                self.temp_epoch += 1;
                Ok(Some((done(rows), Vec::new(), None)))
            }
            Ddl::DropTemporaryTables { names, if_exists } => {
                let mut warnings = Vec::new();
                for (schema, name) in names {
                    if self.temporary_table(schema, name).is_none() {
                        let message = format!("Unknown table '{schema}.{name}'");
                        if !*if_exists {
                            return Err(SessionError::rule(ErrorCode::UnknownTable, message));
                        }
                        warnings.push(Warning::new(ErrorCode::UnknownTable, message));
                    }
                }
                self.drop_temporary(names, txn, params)?;
                Ok(Some((done(0), warnings, None)))
            }
            Ddl::DropTables { names, if_exists } => {
                let (temp, base): (Vec<_>, Vec<_>) =
                    names.iter().cloned().partition(|(s, n)| self.temporary_table(s, n).is_some());
                if temp.is_empty() {
                    return Ok(None);
                }
                self.drop_temporary(&temp, txn, params)?;
                let rest = (!base.is_empty()).then_some(Ddl::DropTables { names: base, if_exists: *if_exists });
                Ok(Some((done(0), Vec::new(), rest)))
            }
            Ddl::Truncate { schema, name } => {
                let Some(t) = self.temporary_table(schema, name) else { return Ok(None) };
                self.with_ctx(txn, params, |ctx| mizzle_exec::ddl::clear_table(&t, ctx))?;
                Ok(Some((done(0), Vec::new(), None)))
            }
            Ddl::AlterTable { schema, name, .. }
            | Ddl::CreateIndex { schema, table: name, .. }
            | Ddl::DropIndex { schema, table: name, .. }
                if self.temporary_table(schema, name).is_some() =>
            {
                Err(SessionError::rule(
                    ErrorCode::NotSupported,
                    "This version of mizzle doesn't yet support 'ALTER TABLE, CREATE INDEX or DROP INDEX on a TEMPORARY table'",
                ))
            }
            Ddl::RenameTables { pairs } if pairs.iter().any(|((s, n), _)| self.temporary_table(s, n).is_some()) => {
                Err(SessionError::rule(
                    ErrorCode::NotSupported,
                    "This version of mizzle doesn't yet support 'RENAME TABLE of a TEMPORARY table'",
                ))
            }
            _ => Ok(None),
        }
    }

    /// Clears and forgets the temporary tables `names` (each must exist or
    /// is skipped).
    fn drop_temporary(&mut self, names: &[(String, String)], txn: &Txn, params: &[Value]) -> Result<(), SessionError> {
        let tables: Vec<Arc<TableDef>> = names.iter().filter_map(|(s, n)| self.temporary_table(s, n)).collect();
        self.with_ctx(txn, params, |ctx| {
            for t in &tables {
                mizzle_exec::ddl::clear_table(t, ctx)?;
            }
            Ok(())
        })?;
        for t in tables {
            self.temp_tables.retain(|x| x.space != t.space);
            self.temp_garbage.push(t);
        }
        self.temp_epoch += 1;
        Ok(())
    }

    /// Runs `f` with an execution context over `txn`.
    fn with_ctx<R>(
        &self,
        txn: &Txn,
        params: &[Value],
        f: impl FnOnce(&mut Ctx<'_>) -> Result<R, mizzle_exec::ExecError>,
    ) -> Result<R, SessionError> {
        let info = self.info();
        let sys = Sys { s: self, previous: &[] };
        let mut ctx = Ctx::new(txn, &self.cat.dict, params, &info, &sys);
        Ok(f(&mut ctx)?)
    }

    /// Deletes the rows of every temporary table of the session, live or
    /// dropped (invariant 4); errors are ignored.
    pub(crate) fn clear_temporary_tables(&mut self) {
        let tables: Vec<Arc<TableDef>> = self.temp_tables.drain(..).chain(self.temp_garbage.drain(..)).collect();
        if tables.is_empty() {
            return;
        }
        let spaces: Vec<SpaceId> =
            tables.iter().flat_map(|t| std::iter::once(t.space).chain(t.indexes.iter().map(|i| i.space))).collect();
        let t = self.cat.txns.begin(TxnOptions { isolation: IsolationLevel::ReadCommitted, read_only: false });
        let cleared = t.begin_statement().is_ok() && spaces.iter().all(|&s| clear_space(&t, s).is_ok());
        if cleared && t.end_statement(true).is_ok() {
            // Nobody waits for this commit: it publishes when durable
            // without waiting for earlier commits to become visible (a
            // server's worker drops sessions, and the earlier commits may
            // be published only by sessions waiting for a worker).
            drop(t.commit_with(Some(SyncMode::Off)));
        }
    }
}

/// Deletes every visible key of `space` in `t`.
fn clear_space(t: &Txn, space: SpaceId) -> Result<(), mizzle_txn::TxnError> {
    let mut keys = Vec::new();
    {
        let mut cur = t.scan(space, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)?;
        let mut b = KvBatch::new();
        while cur.next_batch(&mut b, 1024)? {
            keys.extend(b.iter().map(|(k, _)| k.to_vec()));
        }
    }
    for k in keys {
        t.delete(space, &k)?;
    }
    Ok(())
}
