//! Foreign keys at run time: a child row's parent must exist, and a parent
//! row's deletion or key change applies each referencing key's action
//! (RESTRICT / NO ACTION / SET DEFAULT: error 1451; CASCADE; SET NULL).
//!
//! Invariants:
//! 1. Checks run only while `foreign_key_checks` is ON; with it OFF neither
//!    checks nor cascades happen (as InnoDB), so rows written meanwhile are
//!    never re-checked.
//! 2. A child's look-up of its parent row waits for another transaction's
//!    uncommitted version of it and records the row as read, validated at
//!    commit at every isolation level ([`mizzle_txn::Txn::probe_shared`]).
//!    A parent's search for child rows records the searched key range the
//!    same way ([`mizzle_txn::Txn::record_read_range`]). So of a child
//!    insert and a concurrent deletion of its parent, whichever commits
//!    second fails with 1213: the write skew that plain snapshot reads
//!    would allow cannot commit (a committed parent deletion is seen at
//!    once: the child's look-up meets a version newer than its snapshot).
//! 3. Look-ups see the transaction's own writes, the current statement's
//!    included, so a statement may insert a parent and its children, or a
//!    row referencing itself.
//! 4. Cascades run inside the statement that caused them (one statement
//!    savepoint covers all), fewer than [`MAX_DEPTH`] levels deep (else 3008); an
//!    ON UPDATE CASCADE / SET NULL that reaches a table the same cascade
//!    already updated acts as RESTRICT, as MySQL documents.
//!
//! It does not check definitions: DDL does (`ddl`), and it guarantees an
//! index on the child columns and one on the referenced columns.

use std::ops::Bound;
use std::sync::Arc;

use mizzle_dictionary::{FkAction, ForeignKeyDef, Relation, TableDef};
use mizzle_txn::SpaceId;
use mizzle_types::cast::{assign, Target};
use mizzle_types::key::{encode_value_collated, prefix_successor};
use mizzle_types::row::RowRef;
use mizzle_types::{Collation, ErrorCode, Value};

use crate::build::Row;
use crate::ctx::Ctx;
use crate::error::ExecError;

/// MySQL's limit on nested cascades (`FK_MAX_CASCADE_DEL` in InnoDB): the
/// 15th nested level fails, so a chain of 14 cascaded rows is the most.
pub const MAX_DEPTH: usize = 15;

/// True when foreign keys are enforced for this statement (invariant 1).
pub(crate) fn enabled(ctx: &Ctx<'_>) -> bool {
    ctx.session.foreign_key_checks
}

fn quote_list(cols: &[String]) -> String {
    cols.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

/// `CONSTRAINT ... FOREIGN KEY ... REFERENCES ...` as SHOW CREATE TABLE and
/// the 1451/1452 messages print it: the referenced table is qualified only
/// when it lives in another schema; NO ACTION (the default) is not shown.
pub fn constraint_sql(child_schema: &str, fk: &ForeignKeyDef) -> String {
    let parent = if fk.ref_schema.eq_ignore_ascii_case(child_schema) {
        format!("`{}`", fk.ref_table)
    } else {
        format!("`{}`.`{}`", fk.ref_schema, fk.ref_table)
    };
    let mut s = format!(
        "CONSTRAINT `{}` FOREIGN KEY ({}) REFERENCES {} ({})",
        fk.name,
        quote_list(&fk.columns),
        parent,
        quote_list(&fk.ref_columns)
    );
    if fk.on_delete != FkAction::NoAction {
        s.push_str(" ON DELETE ");
        s.push_str(fk.on_delete.sql());
    }
    if fk.on_update != FkAction::NoAction {
        s.push_str(" ON UPDATE ");
        s.push_str(fk.on_update.sql());
    }
    s
}

/// The parenthesised part of MySQL's 1451/1452 messages.
pub fn failing_constraint(child: &TableDef, fk: &ForeignKeyDef) -> String {
    format!("(`{}`.`{}`, {})", child.schema, child.name, constraint_sql(&child.schema, fk))
}

fn no_parent(child: &TableDef, fk: &ForeignKeyDef) -> ExecError {
    ExecError::ddl(
        ErrorCode::NoReferencedRow,
        format!("Cannot add or update a child row: a foreign key constraint fails {}", failing_constraint(child, fk)),
    )
}

fn referenced(child: &TableDef, fk: &ForeignKeyDef) -> ExecError {
    ExecError::ddl(
        ErrorCode::RowIsReferenced,
        format!(
            "Cannot delete or update a parent row: a foreign key constraint fails {}",
            failing_constraint(child, fk)
        ),
    )
}

/// Positions of named columns; DDL keeps the names valid.
pub(crate) fn positions(t: &TableDef, names: &[String]) -> Result<Vec<usize>, ExecError> {
    names
        .iter()
        .map(|n| {
            t.column_index(n)
                .ok_or_else(|| ExecError::Internal(format!("foreign key names column '{n}' missing from '{}'", t.name)))
        })
        .collect()
}

/// How rows are found by values of leading columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// The columns are the whole primary key: a point read.
    Primary,
    /// The columns begin the primary key: a range of the table's space.
    PrimaryPrefix,
    /// The columns begin this secondary index.
    Index(usize),
}

/// The way to find rows of `t` by `cols`, if an index supports it.
pub(crate) fn path(t: &TableDef, cols: &[usize]) -> Option<Path> {
    if cols.is_empty() {
        return None;
    }
    if t.primary_key == cols {
        return Some(Path::Primary);
    }
    if t.primary_key.starts_with(cols) {
        return Some(Path::PrimaryPrefix);
    }
    t.indexes.iter().position(|ix| ix.columns.starts_with(cols)).map(Path::Index)
}

/// The key prefix of `values` on path `path` of `t`: text encoded under
/// the key columns' collations, as `keys` encodes stored keys.
fn prefix_of(t: &TableDef, path: Path, values: &[Value]) -> Vec<u8> {
    let cols: &[usize] = match path {
        Path::Primary | Path::PrimaryPrefix => &t.primary_key,
        Path::Index(i) => t.indexes.get(i).map(|ix| ix.columns.as_slice()).unwrap_or(&[]),
    };
    let mut p = Vec::with_capacity(16 * values.len());
    for (i, v) in values.iter().enumerate() {
        let coll = cols.get(i).and_then(|&c| t.columns.get(c)).map(|c| c.collation).unwrap_or(Collation::LEGACY);
        encode_value_collated(v, coll, &mut p);
    }
    p
}

/// Row keys of `t` whose `path` columns equal `values`, as this
/// transaction's writer sees them (invariant 3). With `record`, the
/// searched range is recorded for validation (invariant 2).
fn row_keys(
    t: &TableDef,
    p: Path,
    values: &[Value],
    record: bool,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Vec<u8>>, ExecError> {
    let prefix = prefix_of(t, p, values);
    let end = prefix_successor(&prefix);
    let (space, index): (SpaceId, bool) = match p {
        Path::Primary => {
            if record {
                ctx.txn.record_read_key(t.space, &prefix);
            }
            return Ok(if ctx.txn.get_latest(t.space, &prefix)?.is_some() { vec![prefix] } else { vec![] });
        }
        Path::PrimaryPrefix => (t.space, false),
        Path::Index(i) => match t.indexes.get(i) {
            Some(ix) => (ix.space, true),
            None => return Err(ExecError::Internal("foreign key index position out of range".into())),
        },
    };
    if record {
        ctx.txn.record_read_range(space, &prefix, end.as_deref());
    }
    let hi = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut cur = ctx.txn.scan_own(space, Bound::Included(&prefix), hi)?;
    let mut b = mizzle_txn::KvBatch::new();
    let mut out = Vec::new();
    while cur.next_batch(&mut b, 256)? {
        for (k, v) in b.iter() {
            out.push(if index { v.to_vec() } else { k.to_vec() });
        }
    }
    Ok(out)
}

/// A table by name, looked up once per statement (definitions do not
/// change while a DML statement runs; the first look-up records the
/// dictionary read).
fn table(schema: &str, name: &str, ctx: &mut Ctx<'_>) -> Result<Option<Arc<TableDef>>, ExecError> {
    let key = (schema.to_lowercase(), name.to_lowercase());
    if let Some(t) = ctx.fk_tables.get(&key) {
        return Ok(t.clone());
    }
    let t = match ctx.dict.get_relation(ctx.txn, schema, name)? {
        Some(Relation::Table(t)) => Some(t),
        _ => None,
    };
    ctx.fk_tables.insert(key, t.clone());
    Ok(t)
}

/// A child table and the positions of its keys referencing a parent.
type Referencing = (Arc<TableDef>, Vec<usize>);

/// The tables referencing `parent` and, for each, its keys that do.
fn children(parent: &TableDef, ctx: &mut Ctx<'_>) -> Result<Vec<Referencing>, ExecError> {
    let mut out = Vec::new();
    for (s, n) in &parent.referenced_by {
        // A self-reference reads the parent's own definition (the same as
        // the statement's).
        let Some(child) = table(s, n, ctx)? else { continue };
        let fks: Vec<usize> = child
            .foreign_keys
            .iter()
            .enumerate()
            .filter(|(_, f)| f.references(&parent.schema, &parent.name))
            .map(|(i, _)| i)
            .collect();
        if !fks.is_empty() {
            out.push((child, fks));
        }
    }
    Ok(out)
}

fn values_at(row: &Row, cols: &[usize]) -> Vec<Value> {
    cols.iter().map(|&c| row.get(c).cloned().unwrap_or(Value::Null)).collect()
}

fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x.is_null(), y.is_null()) {
            (true, true) => true,
            (false, false) => x.kind() == y.kind() && x.group_eq(y),
            _ => false,
        })
}

/// `same_values` with text compared under `colls` (by position).
fn same_values_collated(a: &[Value], b: &[Value], colls: &[Collation]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).enumerate().all(|(i, (x, y))| match (x, y) {
            (Value::Text(p), Value::Text(q)) => colls.get(i).copied().unwrap_or(Collation::LEGACY).eq(p, q),
            _ => same_values(std::slice::from_ref(x), std::slice::from_ref(y)),
        })
}

/// Checks that every foreign key of `t` whose columns `row` sets (all
/// non-NULL, and changed from `old` for an update) finds its parent row.
pub(crate) fn check_parents(t: &TableDef, row: &Row, old: Option<&Row>, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    for fk in &t.foreign_keys {
        let cols = positions(t, &fk.columns)?;
        let vals = values_at(row, &cols);
        if vals.iter().any(|v| v.is_null()) {
            continue;
        }
        if let Some(o) = old {
            if same_values(&values_at(o, &cols), &vals) {
                continue;
            }
        }
        let parent = if fk.references(&t.schema, &t.name) {
            None
        } else {
            match table(&fk.ref_schema, &fk.ref_table, ctx)? {
                Some(p) => Some(p),
                // A parent dropped or never created while checks were off.
                None => return Err(no_parent(t, fk)),
            }
        };
        let parent: &TableDef = parent.as_deref().unwrap_or(t);
        if !parent_exists(parent, fk, &vals, ctx)? {
            return Err(no_parent(t, fk));
        }
    }
    Ok(())
}

fn parent_exists(parent: &TableDef, fk: &ForeignKeyDef, vals: &[Value], ctx: &mut Ctx<'_>) -> Result<bool, ExecError> {
    let rcols = match positions(parent, &fk.ref_columns) {
        Ok(c) => c,
        Err(_) => return Ok(false),
    };
    // The child's values in the parent's column types (the types are
    // compatible, checked by DDL; a value that does not convert has no
    // parent).
    let mut conv = Vec::with_capacity(vals.len());
    for (v, &c) in vals.iter().zip(&rcols) {
        let col = &parent.columns[c];
        match assign(v, col.ty, &Target { column: &col.name, row: 1 }) {
            Ok(x) => conv.push(x),
            Err(_) => return Ok(false),
        }
    }
    let Some(p) = path(parent, &rcols) else { return Ok(false) };
    if p == Path::Primary {
        let key = prefix_of(parent, p, &conv);
        return Ok(ctx.txn.probe_shared(parent.space, &key)?);
    }
    for rowkey in row_keys(parent, p, &conv, false, ctx)? {
        if ctx.txn.probe_shared(parent.space, &rowkey)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn decode_full(t: &TableDef, payload: &[u8]) -> Result<Row, ExecError> {
    let r = RowRef::new(payload)?;
    let mut row = Vec::with_capacity(t.columns.len());
    for i in 0..t.columns.len() {
        row.push(if i < r.len() { r.get_as(i, t.columns[i].ty)? } else { Value::Null });
    }
    Ok(row)
}

/// The child rows (key, row) referencing `vals` through `fk`, each waited
/// for if another transaction holds it.
fn child_rows(
    child: &TableDef,
    fk: &ForeignKeyDef,
    vals: &[Value],
    ctx: &mut Ctx<'_>,
) -> Result<Vec<(Vec<u8>, Row)>, ExecError> {
    let cols = positions(child, &fk.columns)?;
    let mut conv = Vec::with_capacity(vals.len());
    for (v, &c) in vals.iter().zip(&cols) {
        let col = &child.columns[c];
        match assign(v, col.ty, &Target { column: &col.name, row: 1 }) {
            Ok(x) => conv.push(x),
            Err(_) => return Ok(Vec::new()),
        }
    }
    let Some(p) = path(child, &cols) else {
        return Err(ExecError::Internal(format!("foreign key '{}' has no index on its columns", fk.name)));
    };
    let mut out = Vec::new();
    for key in row_keys(child, p, &conv, true, ctx)? {
        // Waits for a concurrent writer of the row (it may be deleting it).
        if !ctx.txn.probe(child.space, &key)? {
            continue;
        }
        if let Some(payload) = ctx.txn.get_latest(child.space, &key)? {
            let row = decode_full(child, &payload)?;
            // The key found the row by weights; compare the same way.
            let colls: Vec<Collation> = cols.iter().map(|&c| child.columns[c].collation).collect();
            if same_values_collated(&values_at(&row, &cols), &conv, &colls) {
                out.push((key, row));
            }
        }
    }
    Ok(out)
}

/// Applies the ON DELETE actions of every key referencing `parent` for
/// its deleted row `old` (already removed, so a row referencing itself is
/// not found).
pub(crate) fn on_parent_delete(parent: &TableDef, old: &Row, depth: usize, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if parent.referenced_by.is_empty() {
        return Ok(());
    }
    for (child, fks) in children(parent, ctx)? {
        for i in fks {
            let fk = &child.foreign_keys[i];
            let vals = values_at(old, &positions(parent, &fk.ref_columns)?);
            if vals.iter().any(|v| v.is_null()) {
                continue;
            }
            let restrict = matches!(fk.on_delete, FkAction::NoAction | FkAction::Restrict | FkAction::SetDefault);
            if restrict
                && child.space == parent.space
                && same_values(&values_at(old, &positions(parent, &fk.columns)?), &vals)
            {
                // The deleted row referenced itself: InnoDB refuses that too.
                return Err(referenced(&child, fk));
            }
            let rows = child_rows(&child, fk, &vals, ctx)?;
            if rows.is_empty() {
                continue;
            }
            match fk.on_delete {
                FkAction::NoAction | FkAction::Restrict | FkAction::SetDefault => return Err(referenced(&child, fk)),
                FkAction::Cascade => {
                    if depth + 1 >= MAX_DEPTH {
                        return Err(depth_exceeded());
                    }
                    for (key, row) in rows {
                        crate::dml::cascade_delete(&child, &row, &key, depth + 1, ctx)?;
                    }
                }
                FkAction::SetNull => {
                    if depth + 1 >= MAX_DEPTH {
                        return Err(depth_exceeded());
                    }
                    let cols = positions(&child, &fk.columns)?;
                    for (key, row) in rows {
                        let mut new = row.clone();
                        for &c in &cols {
                            new[c] = Value::Null;
                        }
                        crate::dml::cascade_update(&child, &row, &key, &new, depth + 1, &[], ctx)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn depth_exceeded() -> ExecError {
    ExecError::ddl(
        ErrorCode::FkDepthExceeded,
        format!("Foreign key cascade delete/update exceeds max depth of {MAX_DEPTH}."),
    )
}

/// Applies the ON UPDATE actions of every key referencing `parent` whose
/// referenced values changed from `old` to `new`. `chain` lists the tables
/// this cascade updated so far (invariant 4).
pub(crate) fn on_parent_update(
    parent: &TableDef,
    old: &Row,
    new: &Row,
    depth: usize,
    chain: &[SpaceId],
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    if parent.referenced_by.is_empty() {
        return Ok(());
    }
    for (child, fks) in children(parent, ctx)? {
        for i in fks {
            let fk = &child.foreign_keys[i];
            let rcols = positions(parent, &fk.ref_columns)?;
            let old_vals = values_at(old, &rcols);
            let new_vals = values_at(new, &rcols);
            if old_vals.iter().any(|v| v.is_null()) || same_values(&old_vals, &new_vals) {
                continue;
            }
            let rows = child_rows(&child, fk, &old_vals, ctx)?;
            if rows.is_empty() {
                continue;
            }
            let again = child.space == parent.space || chain.contains(&child.space);
            match fk.on_update {
                FkAction::NoAction | FkAction::Restrict | FkAction::SetDefault => return Err(referenced(&child, fk)),
                FkAction::Cascade | FkAction::SetNull if again => return Err(referenced(&child, fk)),
                action => {
                    if depth + 1 >= MAX_DEPTH {
                        return Err(depth_exceeded());
                    }
                    let cols = positions(&child, &fk.columns)?;
                    let mut chain2 = chain.to_vec();
                    chain2.push(parent.space);
                    for (key, row) in rows {
                        let mut newrow = row.clone();
                        for (k, &c) in cols.iter().enumerate() {
                            newrow[c] = if action == FkAction::SetNull {
                                Value::Null
                            } else {
                                let col = &child.columns[c];
                                let v = &new_vals[k];
                                if v.is_null() {
                                    Value::Null
                                } else {
                                    assign(v, col.ty, &Target { column: &col.name, row: 1 })?
                                }
                            };
                        }
                        crate::dml::cascade_update(&child, &row, &key, &newrow, depth + 1, &chain2, ctx)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// For ALTER TABLE ADD FOREIGN KEY with checks on: the first existing row
/// of `child` whose key values have no parent fails with 1452.
pub(crate) fn check_existing_rows(child: &TableDef, fk: &ForeignKeyDef, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    let cols = positions(child, &fk.columns)?;
    for (_, row) in crate::dml::rows_with_columns(child, &cols, ctx)? {
        let vals = values_at(&row, &cols);
        if vals.iter().any(|v| v.is_null()) {
            continue;
        }
        let parent = if fk.references(&child.schema, &child.name) {
            None
        } else {
            match ctx.dict.get_relation(ctx.txn, &fk.ref_schema, &fk.ref_table)? {
                Some(Relation::Table(p)) => Some(p),
                _ => return Err(no_parent(child, fk)),
            }
        };
        let parent: &TableDef = parent.as_deref().unwrap_or(child);
        if !parent_exists(parent, fk, &vals, ctx)? {
            return Err(no_parent(child, fk));
        }
    }
    Ok(())
}
