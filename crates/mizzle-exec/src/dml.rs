//! INSERT / REPLACE / ON DUPLICATE KEY UPDATE, UPDATE and DELETE: rows and
//! their index entries change together.
//!
//! Invariants:
//! 1. A row and all its index entries are written in the same statement;
//!    if any write fails the session undoes the whole statement.
//! 2. Values are converted to column types with strict `sql_mode` rules
//!    (`cast::assign`); NOT NULL and CHECK constraints are checked before a
//!    row is written.
//! 3. AUTO_INCREMENT and hidden row ids come from non-transactional
//!    sequences: a rolled-back insert leaves a gap, as in InnoDB.

use std::sync::Arc;

use mizzle_dictionary::{Sequence, TableDef};
use mizzle_sql::plan::{DeletePlan, InsertPlan, InsertSource, UpdatePlan};
use mizzle_types::cast::{assign, Target};
use mizzle_types::key::decode_value;
use mizzle_types::row::{encode_row_typed, RowRef};
use mizzle_types::{ErrorCode, TypeError, Value, Warning};

use crate::build::{build_dml_input, collect, Row};
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;
use crate::fk;
use crate::keys::{dup_value, enforces_unique, index_key, row_key};
use crate::stored_time::{assign_column, assign_value, eval_for_column, shown_row};

/// What a data-changing statement did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DmlResult {
    /// Rows affected, counted as MySQL counts them.
    pub affected: u64,
    /// Rows matched (UPDATE).
    pub matched: u64,
    /// First AUTO_INCREMENT value generated, if any.
    pub last_insert_id: Option<u64>,
}

pub(crate) fn decode_full(t: &TableDef, payload: &[u8]) -> Result<Row, ExecError> {
    let r = RowRef::new(payload)?;
    let mut row = Vec::with_capacity(t.columns.len());
    for i in 0..t.columns.len() {
        row.push(if i < r.len() { r.get_as(i, t.columns[i].ty)? } else { Value::Null });
    }
    Ok(row)
}

/// Next free value of a column (sequence initialisation): max + 1.
/// The AUTO_INCREMENT value the table's next insert would take (1 for a
/// table without such a column).
pub(crate) fn next_auto_increment(t: &TableDef, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    let Some(ai) = t.auto_increment else { return Ok(1) };
    let start = t.auto_increment_start.max(1);
    ctx.dict.sequence(t.space).peek(|| next_free(t, ai, ctx).map(|x| x.max(start)))
}

fn next_free(t: &TableDef, col: usize, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    let mut cur = ctx.txn.scan(t.space, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)?;
    let mut b = mizzle_txn::KvBatch::new();
    let mut max: i128 = 0;
    while cur.next_batch(&mut b, 1024)? {
        for (_, v) in b.iter() {
            let r = RowRef::new(v)?;
            if col < r.len() {
                let x = r.get(col)?;
                let n = match x {
                    Value::Int(i) => i as i128,
                    Value::UInt(u) => u as i128,
                    Value::Null => continue,
                    other => other.to_f64().unwrap_or(0.0) as i128,
                };
                max = max.max(n);
            }
        }
    }
    Ok((max + 1).clamp(1, u64::MAX as i128) as u64)
}

/// Next free hidden row id: the largest stored one + 1.
fn next_rowid(t: &TableDef, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    let mut cur = ctx.txn.scan(t.space, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)?;
    let mut b = mizzle_txn::KvBatch::new();
    let mut max: u64 = 0;
    while cur.next_batch(&mut b, 1024)? {
        for (k, _) in b.iter() {
            let mut s = k;
            if let Value::UInt(u) = decode_value(&mut s)? {
                max = max.max(u);
            }
        }
    }
    Ok(max + 1)
}

/// The bound expressions of a table's generated columns, in column order
/// (none for most tables, without binding anything).
pub(crate) fn generated_exprs(t: &TableDef) -> Result<Vec<(usize, mizzle_sql::expr::Expr)>, ExecError> {
    if t.columns.iter().all(|c| c.generated.is_none()) {
        return Ok(Vec::new());
    }
    Ok(mizzle_sql::bind::bind_generated_for(t)?)
}

/// Computes the generated columns of a row whose other columns are set,
/// each converted to its column's type (strict rules), in column order.
pub(crate) fn fill_generated(
    t: &TableDef,
    gens: &[(usize, mizzle_sql::expr::Expr)],
    row: &mut Row,
    rown: u64,
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    for (c, e) in gens {
        let col = &t.columns[*c];
        let v = match eval_for_column(e, row, col, rown, ctx) {
            Ok(v) => v,
            Err(ExecError::Type(e)) if col.hidden => return Err(functional_index_error(t, *c, e, rown)),
            Err(e) => return Err(e),
        };
        if let Some(slot) = row.get_mut(*c) {
            *slot = v;
        }
    }
    Ok(())
}

/// A value of a functional key part that does not convert to the type of
/// its expression, reported as MySQL does: naming the index, never the
/// hidden column.
fn functional_index_error(t: &TableDef, col: usize, e: TypeError, rown: u64) -> ExecError {
    let index = t.functional_index_of(col).map(|ix| ix.name.as_str()).unwrap_or("");
    match e {
        TypeError::OutOfRangeForColumn { .. } => ExecError::ddl(
            ErrorCode::OutOfRangeForFunctionalIndex,
            format!("Value is out of range for functional index '{index}' at row {rown}"),
        ),
        TypeError::DataTooLong { .. } => ExecError::ddl(
            ErrorCode::FunctionalIndexDataTooLong,
            format!("Data too long for functional index '{index}'."),
        ),
        other => other.into(),
    }
}

/// Checks NOT NULL and CHECK constraints of a full row.
pub(crate) fn check_row(
    t: &TableDef,
    checks: &[(String, mizzle_sql::expr::Expr)],
    row: &Row,
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    for (i, c) in t.columns.iter().enumerate() {
        if !c.nullable && row.get(i).is_none_or(|v| v.is_null()) {
            return Err(TypeError::NullNotAllowed { column: c.name.clone() }.into());
        }
    }
    for (name, e) in checks {
        if eval(e, row, ctx)?.truth() == Some(false) {
            return Err(ExecError::CheckViolated(name.clone()));
        }
    }
    Ok(())
}

fn key_name(t: &TableDef, index: Option<usize>) -> String {
    match index {
        None => format!("{}.PRIMARY", t.name),
        Some(i) => format!("{}.{}", t.name, t.indexes.get(i).map(|x| x.name.as_str()).unwrap_or("?")),
    }
}

fn key_cols(t: &TableDef, index: Option<usize>) -> Vec<usize> {
    match index {
        None => t.primary_key.clone(),
        Some(i) => t.indexes.get(i).map(|x| x.columns.clone()).unwrap_or_default(),
    }
}

/// Writes a new row and its index entries. `Ok(Some(i))` reports a
/// duplicate on key `i` (None = primary) when `probe_first` found one
/// before anything was written.
fn write_new_row(t: &TableDef, row: &Row, rowkey: &[u8], ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    // Sized by the encoder, in one allocation.
    let mut payload = Vec::new();
    encode_row_typed(row, t.columns.iter().map(|c| c.ty), &mut payload);
    if !ctx.txn.insert(t.space, rowkey, &payload)? {
        let cols = key_cols(t, None);
        return Err(ExecError::Duplicate { value: dup_value(&cols, &shown_row(t, row, ctx)), key: key_name(t, None) });
    }
    write_index_entries(t, row, rowkey, ctx)
}

fn write_index_entries(t: &TableDef, row: &Row, rowkey: &[u8], ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if t.indexes.is_empty() {
        return Ok(());
    }
    let mut k = Vec::with_capacity(32);
    for (i, ix) in t.indexes.iter().enumerate() {
        index_key(t, ix, row, rowkey, &mut k);
        if enforces_unique(ix, row) {
            if !ctx.txn.insert(ix.space, &k, rowkey)? {
                return Err(ExecError::Duplicate {
                    value: dup_value(&ix.columns, &shown_row(t, row, ctx)),
                    key: key_name(t, Some(i)),
                });
            }
        } else {
            ctx.txn.put(ix.space, &k, rowkey)?;
        }
    }
    Ok(())
}

fn delete_index_entries(t: &TableDef, row: &Row, rowkey: &[u8], ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    let mut k = Vec::with_capacity(32);
    for ix in &t.indexes {
        index_key(t, ix, row, rowkey, &mut k);
        ctx.txn.delete(ix.space, &k)?;
    }
    Ok(())
}

/// A unique-key conflict: the key (None = primary) and the existing row key.
type Conflict = (Option<usize>, Vec<u8>);

/// Finds an existing row that conflicts with `row` on any unique key:
/// (key index, existing row key).
fn find_conflict(t: &TableDef, row: &Row, rowkey: &[u8], ctx: &mut Ctx<'_>) -> Result<Option<Conflict>, ExecError> {
    if !t.primary_key.is_empty() && ctx.txn.probe(t.space, rowkey)? {
        return Ok(Some((None, rowkey.to_vec())));
    }
    let mut k = Vec::with_capacity(32);
    for (i, ix) in t.indexes.iter().enumerate() {
        if !enforces_unique(ix, row) {
            continue;
        }
        index_key(t, ix, row, rowkey, &mut k);
        if ctx.txn.probe(ix.space, &k)? {
            if let Some(existing) = ctx.txn.get_latest(ix.space, &k)? {
                return Ok(Some((Some(i), existing)));
            }
        }
    }
    Ok(None)
}

/// Replaces `old` (at `old_key`) by `new`, moving the row if its key changed.
pub(crate) fn update_row(
    t: &TableDef,
    old: &Row,
    old_key: &[u8],
    new: &Row,
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    let mut new_key = Vec::with_capacity(old_key.len());
    if t.primary_key.is_empty() {
        new_key.extend_from_slice(old_key);
    } else {
        row_key(t, new, None, &mut new_key);
    }
    // Sized by the encoder, in one allocation.
    let mut payload = Vec::new();
    encode_row_typed(new, t.columns.iter().map(|c| c.ty), &mut payload);
    if new_key.as_slice() != old_key {
        delete_index_entries(t, old, old_key, ctx)?;
        ctx.txn.delete(t.space, old_key)?;
        if !ctx.txn.insert(t.space, &new_key, &payload)? {
            let cols = key_cols(t, None);
            return Err(ExecError::Duplicate {
                value: dup_value(&cols, &shown_row(t, new, ctx)),
                key: key_name(t, None),
            });
        }
        return write_index_entries(t, new, &new_key, ctx);
    }
    ctx.txn.put(t.space, &new_key, &payload)?;
    let mut ko = Vec::with_capacity(32);
    let mut kn = Vec::with_capacity(32);
    for (i, ix) in t.indexes.iter().enumerate() {
        index_key(t, ix, old, old_key, &mut ko);
        index_key(t, ix, new, &new_key, &mut kn);
        if ko == kn {
            continue;
        }
        ctx.txn.delete(ix.space, &ko)?;
        if enforces_unique(ix, new) {
            if !ctx.txn.insert(ix.space, &kn, &new_key)? {
                return Err(ExecError::Duplicate {
                    value: dup_value(&ix.columns, &shown_row(t, new, ctx)),
                    key: key_name(t, Some(i)),
                });
            }
        } else {
            ctx.txn.put(ix.space, &kn, &new_key)?;
        }
    }
    Ok(())
}

pub(crate) fn same_row(a: &Row, b: &Row) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
}

fn same_value(x: &Value, y: &Value) -> bool {
    match (x.is_null(), y.is_null()) {
        (true, true) => true,
        (false, false) => x.kind() == y.kind() && x.group_eq(y),
        _ => false,
    }
}

/// `ON UPDATE CURRENT_TIMESTAMP`: when an update changes a stored column
/// of the row and does not assign an auto-updated column (`assigned`),
/// that column takes the statement's time, as in MySQL 8. Runs before
/// [`fill_generated`], so generated columns see the new time.
pub(crate) fn touch_on_update(
    t: &TableDef,
    old: &Row,
    new: &mut Row,
    assigned: impl Fn(usize) -> bool,
    rown: u64,
    ctx: &Ctx<'_>,
) -> Result<(), ExecError> {
    if t.columns.iter().all(|c| c.on_update.is_none()) {
        return Ok(());
    }
    let changed = t.columns.iter().enumerate().any(|(i, c)| c.generated.is_none() && !same_value(&old[i], &new[i]));
    if !changed {
        return Ok(());
    }
    for (i, c) in t.columns.iter().enumerate() {
        if c.on_update.is_some() && !assigned(i) {
            // A TIMESTAMP stores the instant, a DATETIME the session's
            // wall-clock time.
            let now = match c.ty {
                mizzle_types::SqlType::Timestamp(_) => ctx.session.now,
                _ => ctx.local_now(),
            };
            new[i] = assign(&Value::DateTime(now), c.ty, &Target { column: &c.name, row: rown })?;
        }
    }
    Ok(())
}

/// Executes INSERT / REPLACE.
pub fn insert(p: &InsertPlan, ctx: &mut Ctx<'_>) -> Result<DmlResult, ExecError> {
    let t: &Arc<TableDef> = &p.table;
    let ncols = t.columns.len();
    let strict = ctx.strict;
    ctx.strict = true;
    let r = insert_inner(p, t, ncols, ctx);
    ctx.strict = strict;
    r
}

fn insert_inner(p: &InsertPlan, t: &Arc<TableDef>, ncols: usize, ctx: &mut Ctx<'_>) -> Result<DmlResult, ExecError> {
    let target = |k: usize| -> Result<usize, ExecError> {
        p.columns.get(k).copied().ok_or_else(|| ExecError::Internal("insert row wider than its column list".into()))
    };
    let converted = vec![true; ncols];
    let mut given = vec![false; ncols];
    if let InsertSource::Values(rows) = &p.source {
        if let [r] = rows.as_slice() {
            // One row (a prepared INSERT's usual shape): its values go
            // straight into the table row, with no list of rows between.
            let mut row: Row = vec![Value::Null; ncols];
            for (k, e) in r.iter().enumerate() {
                let c = target(k)?;
                row[c] = eval_for_column(e, &[], &t.columns[c], 1, ctx)?;
                given[c] = true;
            }
            let mut w = RowWriter::new(p, t, ctx);
            w.write(row, &given, &converted, 1, ctx)?;
            return Ok(w.res);
        }
    }
    // Values are converted to the columns' types here (`stored_time`: a
    // stored TIMESTAMP or NOW() keeps its instant), so `write` converts none.
    let sources: Vec<Row> = match &p.source {
        InsertSource::Values(rows) => {
            let mut out = Vec::with_capacity(rows.len());
            for (n, r) in rows.iter().enumerate() {
                let mut vals = Vec::with_capacity(r.len());
                for (k, e) in r.iter().enumerate() {
                    vals.push(eval_for_column(e, &[], &t.columns[target(k)?], n as u64 + 1, ctx)?);
                }
                out.push(vals);
            }
            out
        }
        InsertSource::Query(plan) => {
            let stored: Vec<bool> =
                plan.columns().iter().map(|c| matches!(c.ty, mizzle_types::SqlType::Timestamp(_))).collect();
            let mut out = collect(plan, ctx)?;
            for (n, r) in out.iter_mut().enumerate() {
                for (k, v) in r.iter_mut().enumerate() {
                    if !v.is_null() {
                        let raw = stored.get(k).copied().unwrap_or(false);
                        *v = assign_value(v, raw, &t.columns[target(k)?], n as u64 + 1, ctx)?;
                    }
                }
            }
            out
        }
    };
    let mut w = RowWriter::new(p, t, ctx);
    for (n, src) in sources.into_iter().enumerate() {
        let mut row: Row = vec![Value::Null; ncols];
        given.fill(false);
        for (k, v) in src.into_iter().enumerate() {
            let c = target(k)?;
            row[c] = v;
            given[c] = true;
        }
        w.write(row, &given, &converted, n as u64 + 1, ctx)?;
    }
    Ok(w.res)
}

/// Writes the rows of one INSERT, REPLACE or LOAD DATA statement, one at a
/// time: defaults, conversion to the column types, AUTO_INCREMENT, CHECKs,
/// keys (REPLACE / IGNORE / ON DUPLICATE KEY UPDATE) and foreign keys.
pub(crate) struct RowWriter<'p> {
    p: &'p InsertPlan,
    t: &'p Arc<TableDef>,
    seq: Option<Arc<Sequence>>,
    rowid_seq: Option<Arc<Sequence>>,
    /// What the rows written so far did.
    pub(crate) res: DmlResult,
    rowkey: Vec<u8>,
    /// A value that does not convert is adjusted with a warning instead of
    /// failing the statement (LOAD DATA with IGNORE or LOCAL).
    pub(crate) lenient: bool,
    /// The table's generated columns, bound at the first row.
    gens: Option<Vec<(usize, mizzle_sql::expr::Expr)>>,
    /// Per column, whether the row's value has its column's type (reused).
    done: Vec<bool>,
}

impl<'p> RowWriter<'p> {
    pub(crate) fn new(p: &'p InsertPlan, t: &'p Arc<TableDef>, ctx: &Ctx<'_>) -> RowWriter<'p> {
        RowWriter {
            p,
            t,
            seq: t.auto_increment.map(|_| ctx.dict.sequence(t.space)),
            rowid_seq: t.primary_key.is_empty().then(|| ctx.dict.sequence(t.space)),
            res: DmlResult::default(),
            rowkey: Vec::with_capacity(32),
            lenient: false,
            gens: None,
            done: Vec::new(),
        }
    }

    /// Writes one row (`row` has one value per table column; `given[c]` is
    /// false for columns that take their default; `converted[c]` is true
    /// for given values already of the column's type, `stored_time`). `rown`
    /// counts rows from 1 for messages.
    pub(crate) fn write(
        &mut self,
        mut row: Row,
        given: &[bool],
        converted: &[bool],
        rown: u64,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), ExecError> {
        let RowWriter { p, t, seq, rowid_seq, res, rowkey, lenient, gens, done } = self;
        let (p, t): (&InsertPlan, &Arc<TableDef>) = (*p, *t);
        if gens.is_none() {
            *gens = Some(generated_exprs(t)?);
        }
        let gens: &[(usize, mizzle_sql::expr::Expr)] = gens.as_deref().unwrap_or_default();
        let ncols = t.columns.len();
        done.clear();
        done.extend_from_slice(converted);
        for c in 0..ncols {
            if given[c] {
                continue;
            }
            match &p.defaults[c] {
                Some(e) => {
                    row[c] = eval_for_column(e, &[], &t.columns[c], rown, ctx)?;
                    done[c] = true;
                }
                None => {
                    if !t.columns[c].auto_increment && !t.columns[c].nullable {
                        return Err(ExecError::NoDefault(t.columns[c].name.clone()));
                    }
                }
            }
        }
        for (c, col) in t.columns.iter().enumerate() {
            if !row[c].is_null() && !done.get(c).copied().unwrap_or(false) {
                row[c] = match assign_column(&row[c], col, rown, ctx) {
                    Ok(v) => v,
                    Err(ExecError::Type(e)) if *lenient => crate::load::lenient_value(&row[c], col, e, ctx)?,
                    Err(e) => return Err(e),
                };
            }
        }
        if let (Some(ai), Some(seq)) = (t.auto_increment, &seq) {
            let zero = matches!(row[ai], Value::Int(0) | Value::UInt(0)) || row[ai].is_null();
            if zero {
                let start = t.auto_increment_start.max(1);
                let v = seq.next_value(|| next_free(t, ai, ctx).map(|x| x.max(start)))?;
                let col = &t.columns[ai];
                row[ai] = assign(&Value::UInt(v), col.ty, &Target { column: &col.name, row: rown })?;
                if res.last_insert_id.is_none() {
                    res.last_insert_id = Some(v);
                }
            } else {
                let v = match &row[ai] {
                    Value::Int(i) if *i > 0 => *i as u64,
                    Value::UInt(u) => *u,
                    _ => 0,
                };
                if v > 0 {
                    let start = t.auto_increment_start.max(1);
                    seq.observe(v, || next_free(t, ai, ctx).map(|x| x.max(start)))?;
                }
            }
        }
        fill_generated(t, gens, &mut row, rown, ctx)?;
        check_row(t, &p.checks, &row, ctx)?;
        let rowid = match &rowid_seq {
            Some(s) => Some(s.next_value(|| next_rowid(t, ctx))?),
            None => None,
        };
        row_key(t, &row, rowid, rowkey);
        let special = p.replace || p.ignore || !p.on_duplicate.is_empty();
        if !special {
            write_new_row(t, &row, rowkey, ctx)?;
            if !t.foreign_keys.is_empty() && fk::enabled(ctx) {
                fk::check_parents(t, &row, None, ctx)?;
            }
            res.affected += 1;
            return Ok(());
        }
        let mut replaced = 0;
        // INSERT IGNORE skips a row without its parent, with warning 1452, as
        // MySQL does; so it is checked before anything is written.
        let ignore_fk = p.ignore && !t.foreign_keys.is_empty() && fk::enabled(ctx);
        if ignore_fk {
            if let Err(e) = fk::check_parents(t, &row, None, ctx) {
                if mizzle_types::SqlError::code(&e) != ErrorCode::NoReferencedRow {
                    return Err(e);
                }
                ctx.warn(Warning::new(ErrorCode::NoReferencedRow, e.to_string()));
                return Ok(());
            }
        }
        loop {
            match find_conflict(t, &row, rowkey, ctx)? {
                None => {
                    write_new_row(t, &row, rowkey, ctx)?;
                    if !ignore_fk && !t.foreign_keys.is_empty() && fk::enabled(ctx) {
                        fk::check_parents(t, &row, None, ctx)?;
                    }
                    res.affected += 1 + replaced;
                    break;
                }
                Some((which, existing_key)) => {
                    if p.ignore && p.on_duplicate.is_empty() && !p.replace {
                        ctx.warn(Warning::new(
                            ErrorCode::DuplicateEntry,
                            format!(
                                "Duplicate entry '{}' for key '{}'",
                                dup_value(&key_cols(t, which), &shown_row(t, &row, ctx)),
                                key_name(t, which)
                            ),
                        ));
                        break;
                    }
                    let Some(payload) = ctx.txn.get_latest(t.space, &existing_key)? else {
                        return Err(ExecError::Internal("index entry without its row".into()));
                    };
                    let old = decode_full(t, &payload)?;
                    if p.replace {
                        // REPLACE deletes the old row: ON DELETE actions apply, as in MySQL.
                        cascade_delete(t, &old, &existing_key, 0, ctx)?;
                        replaced += 1;
                        continue;
                    }
                    // ON DUPLICATE KEY UPDATE: assignments read the row being
                    // built, then the proposed row (VALUES()).
                    let mut new = old.clone();
                    for (c, e) in &p.on_duplicate {
                        let mut scope = new.clone();
                        scope.extend(row.iter().cloned());
                        new[*c] = eval_for_column(e, &scope, &t.columns[*c], rown, ctx)?;
                    }
                    touch_on_update(t, &old, &mut new, |i| p.on_duplicate.iter().any(|(c, _)| *c == i), rown, ctx)?;
                    fill_generated(t, gens, &mut new, rown, ctx)?;
                    if !same_row(&old, &new) {
                        check_row(t, &p.checks, &new, ctx)?;
                        update_row(t, &old, &existing_key, &new, ctx)?;
                        fk_after_update(t, &old, &new, ctx)?;
                        res.affected += 2;
                    }
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Executes UPDATE.
pub fn update(p: &UpdatePlan, ctx: &mut Ctx<'_>) -> Result<DmlResult, ExecError> {
    if let Some(m) = &p.multi {
        return crate::dml_multi::update(p, m, ctx);
    }
    let t = &p.table;
    let n = t.columns.len();
    let rows = {
        let mut op = build_dml_input(&p.input, ctx)?;
        let mut rows = Vec::new();
        while let Some(b) = op.next(ctx)? {
            rows.extend(b);
        }
        rows
    };
    let gens = generated_exprs(t)?;
    let strict = ctx.strict;
    ctx.strict = true;
    let r = (|| {
        let mut res = DmlResult::default();
        for (i, mut row) in rows.into_iter().enumerate() {
            let Some(Value::Bytes(key)) = row.pop() else {
                return Err(ExecError::Internal("update input without row key".into()));
            };
            res.matched += 1;
            let old = row;
            let mut new = old.clone();
            for (c, e) in &p.sets {
                new[*c] = eval_for_column(e, &new, &t.columns[*c], i as u64 + 1, ctx)?;
            }
            touch_on_update(t, &old, &mut new, |c| p.sets.iter().any(|(s, _)| *s == c), i as u64 + 1, ctx)?;
            fill_generated(t, &gens, &mut new, i as u64 + 1, ctx)?;
            if same_row(&old, &new) {
                continue;
            }
            debug_assert_eq!(new.len(), n);
            check_row(t, &p.checks, &new, ctx)?;
            update_row(t, &old, &key, &new, ctx)?;
            fk_after_update(t, &old, &new, ctx)?;
            res.affected += 1;
        }
        Ok(res)
    })();
    ctx.strict = strict;
    r
}

/// Executes DELETE.
pub fn delete(p: &DeletePlan, ctx: &mut Ctx<'_>) -> Result<DmlResult, ExecError> {
    if !p.multi.is_empty() {
        return crate::dml_multi::delete(&p.input, &p.multi, ctx);
    }
    let t = &p.table;
    let rows = {
        let mut op = build_dml_input(&p.input, ctx)?;
        let mut rows = Vec::new();
        while let Some(b) = op.next(ctx)? {
            rows.extend(b);
        }
        rows
    };
    let mut res = DmlResult::default();
    for mut row in rows {
        let Some(Value::Bytes(key)) = row.pop() else {
            return Err(ExecError::Internal("delete input without row key".into()));
        };
        cascade_delete(t, &row, &key, 0, ctx)?;
        res.affected += 1;
        res.matched += 1;
    }
    Ok(res)
}

/// The foreign-key work after a row of `t` changed from `old` to `new`:
/// the child side's parents, then the parent side's actions.
pub(crate) fn fk_after_update(t: &TableDef, old: &Row, new: &Row, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if (t.foreign_keys.is_empty() && t.referenced_by.is_empty()) || !fk::enabled(ctx) {
        return Ok(());
    }
    fk::check_parents(t, new, Some(old), ctx)?;
    fk::on_parent_update(t, old, new, 0, &[], ctx)
}

/// Deletes a row and its index entries, then applies the ON DELETE
/// actions of keys referencing it (`depth`: cascade level, `fk`).
pub(crate) fn cascade_delete(
    t: &TableDef,
    row: &Row,
    key: &[u8],
    depth: usize,
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    delete_index_entries(t, row, key, ctx)?;
    ctx.txn.delete(t.space, key)?;
    if !t.referenced_by.is_empty() && fk::enabled(ctx) {
        fk::on_parent_delete(t, row, depth, ctx)?;
    }
    Ok(())
}

/// A row change made by a cascade (ON UPDATE CASCADE, SET NULL): NOT NULL
/// is checked, then the change goes on to the row's own children.
pub(crate) fn cascade_update(
    t: &TableDef,
    old: &Row,
    key: &[u8],
    new: &Row,
    depth: usize,
    chain: &[mizzle_txn::SpaceId],
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    check_row(t, &[], new, ctx)?;
    update_row(t, old, key, new, ctx)?;
    fk::check_parents(t, new, Some(old), ctx)?;
    fk::on_parent_update(t, old, new, depth, chain, ctx)
}

/// Inserts already-converted full rows (CREATE TABLE ... SELECT, ALTER
/// TABLE copies). Returns the number of rows.
pub(crate) fn insert_rows(t: &TableDef, rows: Vec<Row>, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    let rowid_seq: Option<Arc<Sequence>> = t.primary_key.is_empty().then(|| ctx.dict.sequence(t.space));
    let mut key = Vec::with_capacity(32);
    let mut n = 0;
    for row in rows {
        let rowid = match &rowid_seq {
            Some(s) => Some(s.next_value(|| next_rowid(t, ctx))?),
            None => None,
        };
        row_key(t, &row, rowid, &mut key);
        write_new_row(t, &row, &key, ctx)?;
        n += 1;
    }
    Ok(n)
}

/// Reads every row of a table with its row key.
pub(crate) fn all_rows(t: &TableDef, ctx: &mut Ctx<'_>) -> Result<Vec<(Vec<u8>, Row)>, ExecError> {
    let mut cur = ctx.txn.scan(t.space, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)?;
    let mut b = mizzle_txn::KvBatch::new();
    let mut out = Vec::new();
    while cur.next_batch(&mut b, 1024)? {
        for (k, v) in b.iter() {
            out.push((k.to_vec(), decode_full(t, v)?));
        }
    }
    Ok(out)
}

/// Reads every row of a table with its row key, decoding only the columns
/// `cols` (the others are NULL).
pub(crate) fn rows_with_columns(
    t: &TableDef,
    cols: &[usize],
    ctx: &mut Ctx<'_>,
) -> Result<Vec<(Vec<u8>, Row)>, ExecError> {
    let mut cur = ctx.txn.scan(t.space, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)?;
    let mut b = mizzle_txn::KvBatch::new();
    let mut out = Vec::new();
    while cur.next_batch(&mut b, 1024)? {
        for (k, v) in b.iter() {
            let mut row = vec![Value::Null; t.columns.len()];
            decode_columns(t, cols, v, &mut row)?;
            out.push((k.to_vec(), row));
        }
    }
    Ok(out)
}

/// Decodes the columns `cols` of a stored row into `row`: each is its
/// stored value, or NULL when the row was written before the column
/// existed; the other slots are left as they are (so a row can be reused).
pub(crate) fn decode_columns(t: &TableDef, cols: &[usize], payload: &[u8], row: &mut [Value]) -> Result<(), ExecError> {
    let r = RowRef::new(payload)?;
    for &c in cols {
        if let (Some(slot), Some(col)) = (row.get_mut(c), t.columns.get(c)) {
            *slot = if c < r.len() { r.get_as(c, col.ty)? } else { Value::Null };
        }
    }
    Ok(())
}

/// Deletes every visible key of a space (DROP, TRUNCATE, rebuilds).
pub(crate) fn clear_space(space: mizzle_txn::SpaceId, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    let mut cur = ctx.txn.scan(space, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)?;
    let mut b = mizzle_txn::KvBatch::new();
    let mut keys = Vec::new();
    while cur.next_batch(&mut b, 1024)? {
        for (k, _) in b.iter() {
            keys.push(k.to_vec());
        }
    }
    let n = keys.len() as u64;
    for k in keys {
        ctx.txn.delete(space, &k)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use mizzle_dictionary::{ColumnDef, Generated, IndexDef, TableDef};
    use mizzle_types::{Collation, ErrorCode, SqlError, SqlType, TypeError};

    use super::functional_index_error;

    #[test]
    fn a_key_part_that_does_not_fit_names_its_index_not_its_hidden_column() {
        let col = |name: &str, hidden: bool| ColumnDef {
            name: name.into(),
            ty: SqlType::Varchar(2),
            nullable: true,
            default: None,
            auto_increment: false,
            comment: String::new(),
            collation: Collation::LEGACY,
            generated: hidden.then(|| Generated { expr: "lower(s)".into(), stored: false }),
            on_update: None,
            hidden,
        };
        let t = TableDef {
            schema: "d".into(),
            name: "t".into(),
            space: mizzle_txn::SpaceId(20),
            columns: vec![col("s", false), col("!fidx!ls!1", true)],
            primary_key: vec![],
            indexes: vec![IndexDef {
                name: "ls".into(),
                space: mizzle_txn::SpaceId(21),
                columns: vec![1],
                unique: false,
            }],
            checks: vec![],
            auto_increment: None,
            auto_increment_start: 1,
            engine: "memory".into(),
            comment: String::new(),
            version: 1,
            foreign_keys: vec![],
            referenced_by: vec![],
            collation: Collation::LEGACY,
        };
        let long = functional_index_error(&t, 1, TypeError::DataTooLong { column: "!fidx!ls!1".into(), row: 3 }, 3);
        assert_eq!(long.code(), ErrorCode::FunctionalIndexDataTooLong);
        assert_eq!(long.to_string(), "Data too long for functional index 'ls'.");
        let range =
            functional_index_error(&t, 1, TypeError::OutOfRangeForColumn { column: "!fidx!ls!1".into(), row: 3 }, 3);
        assert_eq!(range.code(), ErrorCode::OutOfRangeForFunctionalIndex);
        assert_eq!(range.to_string(), "Value is out of range for functional index 'ls' at row 3");
    }
}
