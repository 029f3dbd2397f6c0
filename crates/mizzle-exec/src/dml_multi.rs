//! Multi-table UPDATE and DELETE: the joined rows are read first (on the
//! statement's snapshot, like every read), then each target row is
//! changed once, found again by the row key its scan emitted.
//!
//! Invariants:
//! 1. A target row is updated or deleted at most once per alias, however
//!    many joined rows it appears in; an UPDATE takes its values from the
//!    first joined row it appears in (MySQL: "each matching row is updated
//!    once, even if it matches the conditions multiple times").
//! 2. Before a row is changed it is read again as this transaction's
//!    writer sees it (`Txn::get_latest`), so a row an earlier change of the
//!    same statement touched (a cascade, or the same table under another
//!    alias) is changed from its current value, and a row already deleted
//!    is left alone. The assigned columns replace that row's values; the
//!    others keep it.
//! 3. Writes go through the single-table paths (`dml::update_row`,
//!    `dml::cascade_delete`): unique keys, NOT NULL, CHECK and foreign keys
//!    are enforced as there, and a failure undoes the whole statement.
//! 4. UPDATE changes its targets in FROM order; DELETE deletes from a
//!    table that references another target before that target (children
//!    before parents), so `DELETE p, c FROM p JOIN c ...` works under a
//!    RESTRICT key.
//!
//! Affected rows are counted as MySQL counts them: rows changed (UPDATE;
//! "Rows matched" counts every target row found) or deleted, in every
//! target, cascades not included.

use std::collections::HashSet;

use mizzle_dictionary::TableDef;
use mizzle_sql::plan::{DmlTarget, MultiUpdate, UpdatePlan};
use mizzle_types::Value;

use crate::build::{collect, Row};
use crate::ctx::Ctx;
use crate::dml::{cascade_delete, check_row, decode_full, fk_after_update, same_row, update_row, DmlResult};
use crate::error::ExecError;

/// The row key a joined row holds for a target (None: an outer join found
/// no row of the target's table).
fn key_of<'r>(row: &'r Row, t: &DmlTarget) -> Result<Option<&'r [u8]>, ExecError> {
    match row.get(t.key) {
        Some(Value::Bytes(k)) => Ok(Some(k.as_ref())),
        Some(Value::Null) => Ok(None),
        _ => Err(ExecError::Internal("a multi-table DML row without its target's row key".into())),
    }
}

/// The current value of a row, as this transaction's writer sees it.
fn current_row(t: &TableDef, key: &[u8], ctx: &mut Ctx<'_>) -> Result<Option<Row>, ExecError> {
    match ctx.txn.get_latest(t.space, key)? {
        Some(payload) => Ok(Some(decode_full(t, &payload)?)),
        None => Ok(None),
    }
}

/// A target row's key and its assigned (column, value) pairs.
type PendingUpdate = (Vec<u8>, Vec<(usize, Value)>);

/// Executes a multi-table UPDATE.
pub(crate) fn update(p: &UpdatePlan, m: &MultiUpdate, ctx: &mut Ctx<'_>) -> Result<DmlResult, ExecError> {
    let rows = collect(&p.input, ctx)?;
    let strict = ctx.strict;
    ctx.strict = true;
    let r = update_rows(m, rows, ctx);
    ctx.strict = strict;
    r
}

fn update_rows(m: &MultiUpdate, rows: Vec<Row>, ctx: &mut Ctx<'_>) -> Result<DmlResult, ExecError> {
    // Per target: each row's key and its new values, in first-seen order.
    let mut pending: Vec<Vec<PendingUpdate>> = vec![Vec::new(); m.targets.len()];
    let mut seen: Vec<HashSet<Vec<u8>>> = vec![HashSet::new(); m.targets.len()];
    for row in &rows {
        for (ti, t) in m.targets.iter().enumerate() {
            let Some(key) = key_of(row, t)? else { continue };
            if seen[ti].contains(key) {
                continue;
            }
            seen[ti].insert(key.to_vec());
            let rown = pending[ti].len() as u64 + 1;
            let mut values = Vec::new();
            for (st, c, e) in &m.sets {
                if *st != ti {
                    continue;
                }
                let v = crate::stored_time::eval_for_column(e, row, &t.table.columns[*c], rown, ctx)?;
                values.push((*c, v));
            }
            pending[ti].push((key.to_vec(), values));
        }
    }
    drop(rows);
    let mut res = DmlResult::default();
    for (t, rows) in m.targets.iter().zip(pending) {
        let table = &t.table;
        let gens = crate::dml::generated_exprs(table)?;
        for (key, values) in rows {
            res.matched += 1;
            let Some(old) = current_row(table, &key, ctx)? else { continue };
            let mut new = old.clone();
            let assigned: Vec<usize> = values.iter().map(|(c, _)| *c).collect();
            for (c, v) in values {
                new[c] = v;
            }
            crate::dml::touch_on_update(table, &old, &mut new, |c| assigned.contains(&c), res.matched, ctx)?;
            crate::dml::fill_generated(table, &gens, &mut new, res.matched, ctx)?;
            if same_row(&old, &new) {
                continue;
            }
            check_row(table, &t.checks, &new, ctx)?;
            update_row(table, &old, &key, &new, ctx)?;
            fk_after_update(table, &old, &new, ctx)?;
            res.affected += 1;
        }
    }
    Ok(res)
}

/// Executes a multi-table DELETE.
pub(crate) fn delete(
    input: &mizzle_sql::plan::Plan,
    targets: &[DmlTarget],
    ctx: &mut Ctx<'_>,
) -> Result<DmlResult, ExecError> {
    let rows = collect(input, ctx)?;
    let mut keys: Vec<Vec<Vec<u8>>> = vec![Vec::new(); targets.len()];
    let mut seen: Vec<HashSet<Vec<u8>>> = vec![HashSet::new(); targets.len()];
    for row in &rows {
        for (ti, t) in targets.iter().enumerate() {
            let Some(key) = key_of(row, t)? else { continue };
            if seen[ti].insert(key.to_vec()) {
                keys[ti].push(key.to_vec());
            }
        }
    }
    drop(rows);
    drop(seen);
    let mut res = DmlResult::default();
    for ti in delete_order(targets) {
        let t = &targets[ti].table;
        for key in &keys[ti] {
            let Some(old) = current_row(t, key, ctx)? else { continue };
            cascade_delete(t, &old, key, 0, ctx)?;
            res.affected += 1;
            res.matched += 1;
        }
    }
    Ok(res)
}

/// The order in which a DELETE visits its targets: a table with a foreign
/// key to another target's table comes before it (invariant 4); otherwise,
/// and within a cycle, FROM order.
fn delete_order(targets: &[DmlTarget]) -> Vec<usize> {
    let refers = |child: &TableDef, parent: &TableDef| {
        child.space != parent.space && child.foreign_keys.iter().any(|fk| fk.references(&parent.schema, &parent.name))
    };
    let mut left: Vec<usize> = (0..targets.len()).collect();
    let mut out = Vec::with_capacity(targets.len());
    while !left.is_empty() {
        // The first target that no remaining target references.
        let pick = left
            .iter()
            .position(|&i| !left.iter().any(|&j| j != i && refers(&targets[j].table, &targets[i].table)))
            .unwrap_or(0);
        out.push(left.remove(pick));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mizzle_dictionary::{FkAction, ForeignKeyDef};
    use std::sync::Arc;

    fn target(name: &str, space: u32, parents: &[&str]) -> DmlTarget {
        let mut t = TableDef {
            schema: "db".into(),
            name: name.into(),
            space: mizzle_txn::SpaceId(space),
            columns: Vec::new(),
            primary_key: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            auto_increment: None,
            auto_increment_start: 1,
            engine: String::new(),
            comment: String::new(),
            version: 1,
            foreign_keys: Vec::new(),
            referenced_by: Vec::new(),
            collation: mizzle_types::Collation::LEGACY,
        };
        for p in parents {
            t.foreign_keys.push(ForeignKeyDef {
                name: format!("{name}_{p}"),
                columns: vec!["a".into()],
                ref_schema: "db".into(),
                ref_table: (*p).into(),
                ref_columns: vec!["a".into()],
                on_delete: FkAction::Restrict,
                on_update: FkAction::Restrict,
            });
        }
        DmlTarget { table: Arc::new(t), alias: name.into(), key: 0, checks: Vec::new() }
    }

    #[test]
    fn children_are_deleted_before_their_parents() {
        let ts = vec![target("p", 1, &[]), target("c", 2, &["p"]), target("g", 3, &["c"])];
        assert_eq!(delete_order(&ts), vec![2, 1, 0]);
    }

    #[test]
    fn unrelated_targets_keep_from_order_and_cycles_end() {
        let ts = vec![target("a", 1, &[]), target("b", 2, &[])];
        assert_eq!(delete_order(&ts), vec![0, 1]);
        let cyc = vec![target("x", 1, &["y"]), target("y", 2, &["x"])];
        assert_eq!(delete_order(&cyc), vec![0, 1]);
    }
}
