//! Binding multi-table UPDATE (`UPDATE t1 JOIN t2 ON ... SET ...`,
//! `UPDATE t1, t2 SET ...`) and DELETE (`DELETE t1, t2 FROM ...`,
//! `DELETE FROM t1, t2 USING ...`).
//!
//! The FROM clause is bound as a query's, except that every base-table
//! scan of that clause itself (not of its subqueries, derived tables or
//! views) emits its row keys as one more column
//! ([`crate::plan::ROWKEY_COLUMN`]); WHERE becomes a filter over the joined
//! rows. The executor reads the joined rows, then changes each target row
//! once, found by its key.
//!
//! Invariants:
//! 1. A target is a base table of the statement's own FROM clause, named
//!    by its alias; assigning a column of a derived table or view, or
//!    naming one in a DELETE list, is 1288; a DELETE target that names no
//!    table of the FROM clause is 1109.
//! 2. ORDER BY and LIMIT are refused: UPDATE with 1221 (MySQL 8), DELETE
//!    with a syntax error (MySQL 8's grammar has no place for them there).
//! 3. Every assignment is bound over the joined row and reads it as it
//!    was before the statement, never an earlier assignment's value
//!    (MySQL leaves the order of a multi-table UPDATE's assignments
//!    undefined; MariaDB 10.11 also reads the values before the statement).

use std::sync::Arc;

use mizzle_dictionary::TableDef;
use mizzle_types::{SqlType, Value};
use sqlparser::ast::{self, AssignmentTarget, FromTable, TableWithJoins};

use super::expr::ExprCtx;
use super::{norm, Binder, Block};
use crate::error::BindError;
use crate::expr::Expr;
use crate::plan::{BoundStatement, DeletePlan, DmlTarget, MultiUpdate, OutCol, Plan, UpdatePlan, ROWKEY_COLUMN};

/// The tables of a multi-table statement's FROM clause that emit row
/// keys: alias, definition, and the position of the key in the joined row.
struct KeyedTable {
    alias: String,
    table: Arc<TableDef>,
    key: usize,
}

/// True if an UPDATE names more than one table.
pub(crate) fn is_multi_update(u: &ast::Update) -> bool {
    !u.table.joins.is_empty() || matches!(u.table.relation, ast::TableFactor::NestedJoin { .. })
}

/// True if a DELETE is of the multi-table forms.
pub(crate) fn is_multi_delete(d: &ast::Delete) -> bool {
    let from = match &d.from {
        FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
    };
    !d.tables.is_empty() || d.using.is_some() || from.len() != 1 || from.iter().any(|t| !t.joins.is_empty())
}

impl<'a> Binder<'a> {
    /// Binds the FROM clause and WHERE of a multi-table statement inside
    /// the block the caller pushed (so SET expressions can correlate too).
    fn bind_keyed_from(
        &mut self,
        from: &[TableWithJoins],
        selection: Option<&ast::Expr>,
    ) -> Result<(Plan, Vec<OutCol>, Vec<KeyedTable>), BindError> {
        let saved = self.rowkey_scans.replace((self.blocks.len(), Vec::new()));
        let r = self.bind_from_star(from);
        let tables = std::mem::replace(&mut self.rowkey_scans, saved).map(|(_, t)| t).unwrap_or_default();
        let (mut plan, scope, _) = r?;
        if let Some(b) = self.blocks.last_mut() {
            b.scope = scope.clone();
        }
        let mut keyed = Vec::with_capacity(tables.len());
        for (alias, table) in tables {
            let key = scope
                .iter()
                .position(|c| c.name == ROWKEY_COLUMN && c.table.as_deref() == Some(alias.as_str()))
                .ok_or_else(|| BindError::Internal("a keyed scan's row key is not in scope".into()))?;
            keyed.push(KeyedTable { alias, table, key });
        }
        if let Some(w) = selection {
            let pred = self.bind_scalar(w, &scope, ExprCtx::plain("where clause"))?;
            plan = Plan::Filter { input: Box::new(plan), pred };
        }
        Ok((plan, scope, keyed))
    }

    /// Binds `UPDATE <joined tables> SET ... [WHERE ...]`.
    pub(crate) fn bind_multi_update(&mut self, u: &ast::Update) -> Result<BoundStatement, BindError> {
        if !u.order_by.is_empty() {
            return Err(BindError::WrongUsage("UPDATE and ORDER BY".into()));
        }
        if u.limit.is_some() {
            return Err(BindError::WrongUsage("UPDATE and LIMIT".into()));
        }
        if u.from.is_some() {
            return Err(BindError::NotSupported("UPDATE ... FROM".into()));
        }
        if u.returning.is_some() {
            return Err(BindError::NotSupported("RETURNING".into()));
        }
        self.blocks.push(Block { scope: Vec::new(), outer_used: Vec::new() });
        let r = self.bind_multi_update_inner(u);
        self.blocks.pop();
        r
    }

    fn bind_multi_update_inner(&mut self, u: &ast::Update) -> Result<BoundStatement, BindError> {
        let (plan, scope, keyed) = self.bind_keyed_from(std::slice::from_ref(&u.table), u.selection.as_ref())?;
        // (keyed table, column, expression) per assignment.
        let mut raw: Vec<(usize, usize, Expr)> = Vec::with_capacity(u.assignments.len());
        for a in &u.assignments {
            let parts: Vec<String> = match &a.target {
                AssignmentTarget::ColumnName(n) => {
                    n.0.iter().map(|p| p.to_string().trim_matches('`').to_string()).collect()
                }
                AssignmentTarget::Tuple(_) => return Err(BindError::NotSupported("tuple assignment".into())),
            };
            let at = resolve_assigned(&parts, &scope)?;
            let Some((k, kt)) =
                keyed.iter().enumerate().find(|(_, kt)| at < kt.key && at + kt.table.columns.len() >= kt.key)
            else {
                let name = scope[at].table.clone().unwrap_or_default();
                return Err(BindError::NotUpdatableTarget { name, verb: "UPDATE" });
            };
            let col = at + kt.table.columns.len() - kt.key;
            let table = kt.table.clone();
            if !super::dml::is_default_keyword(&a.value) {
                super::dml::check_not_generated(&table, col)?;
            }
            let e = if super::dml::is_default_keyword(&a.value) {
                self.default_expr(&table, col)?.unwrap_or(Expr::Literal(Value::Null, SqlType::Null))
            } else {
                self.bind_scalar(&a.value, &scope, ExprCtx::plain("field list"))?
            };
            raw.push((k, col, e));
        }
        // Targets: the assigned tables, in FROM order.
        let mut targets: Vec<DmlTarget> = Vec::new();
        let mut target_of: Vec<Option<usize>> = vec![None; keyed.len()];
        for (k, kt) in keyed.iter().enumerate() {
            if raw.iter().any(|(rk, _, _)| *rk == k) {
                target_of[k] = Some(targets.len());
                let checks = self.bind_checks(&kt.table)?;
                targets.push(DmlTarget { table: kt.table.clone(), alias: kt.alias.clone(), key: kt.key, checks });
            }
        }
        let sets = raw
            .into_iter()
            .map(|(k, c, e)| {
                target_of[k]
                    .map(|t| (t, c, e))
                    .ok_or_else(|| BindError::Internal("an assigned table is not a target".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let table = targets
            .first()
            .map(|t| t.table.clone())
            .ok_or_else(|| BindError::Internal("UPDATE without assignments".into()))?;
        Ok(BoundStatement::Update(Box::new(UpdatePlan {
            table,
            input: Box::new(plan),
            sets: Vec::new(),
            checks: Vec::new(),
            multi: Some(MultiUpdate { targets, sets }),
        })))
    }

    /// Binds `DELETE t1, t2 FROM ...` and `DELETE FROM t1, t2 USING ...`.
    pub(crate) fn bind_multi_delete(&mut self, d: &ast::Delete) -> Result<BoundStatement, BindError> {
        if !d.order_by.is_empty() || d.limit.is_some() {
            return Err(BindError::Syntax(
                "a multiple-table DELETE has no ORDER BY or LIMIT (MySQL 8's grammar)".into(),
            ));
        }
        if d.returning.is_some() {
            return Err(BindError::NotSupported("RETURNING".into()));
        }
        let from = match &d.from {
            FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
        };
        // (names of the targets, the FROM clause of the rows).
        let (names, source): (Vec<ast::ObjectName>, &[TableWithJoins]) = match (&d.using, d.tables.is_empty()) {
            (None, false) => (d.tables.clone(), from.as_slice()),
            (Some(using), true) => {
                let mut names = Vec::with_capacity(from.len());
                for twj in from {
                    match (&twj.relation, twj.joins.is_empty()) {
                        (ast::TableFactor::Table { name, alias: None, .. }, true) => names.push(name.clone()),
                        _ => {
                            return Err(BindError::Syntax(
                                "DELETE FROM ... USING lists tables to delete from by name only".into(),
                            ))
                        }
                    }
                }
                (names, using.as_slice())
            }
            _ => return Err(BindError::Syntax("DELETE FROM needs one table, or a list with USING".into())),
        };
        self.blocks.push(Block { scope: Vec::new(), outer_used: Vec::new() });
        let r = self.bind_keyed_from(source, d.selection.as_ref());
        self.blocks.pop();
        let (plan, scope, keyed) = r?;
        let mut chosen: Vec<usize> = Vec::new();
        for n in &names {
            let parts: Vec<String> = n.0.iter().map(|p| p.to_string().trim_matches('`').to_string()).collect();
            let (schema, name) = match parts.as_slice() {
                [t] => (None, t.clone()),
                [s, t] => (Some(s.clone()), t.clone()),
                _ => return Err(BindError::Syntax(format!("bad table name '{}'", parts.join(".")))),
            };
            let found = keyed.iter().position(|kt| {
                norm(&kt.alias) == norm(&name) && schema.as_ref().is_none_or(|s| norm(s) == norm(&kt.table.schema))
            });
            match found {
                Some(k) => {
                    if !chosen.contains(&k) {
                        chosen.push(k);
                    }
                }
                None if schema.is_none() && scope.iter().any(|c| c.table.as_deref().map(norm) == Some(norm(&name))) => {
                    return Err(BindError::NotUpdatableTarget { name, verb: "DELETE" })
                }
                None => return Err(BindError::UnknownTableIn { name, clause: "MULTI DELETE" }),
            }
        }
        chosen.sort_unstable();
        let targets: Vec<DmlTarget> = chosen
            .into_iter()
            .map(|k| DmlTarget {
                table: keyed[k].table.clone(),
                alias: keyed[k].alias.clone(),
                key: keyed[k].key,
                checks: Vec::new(),
            })
            .collect();
        let table =
            targets.first().map(|t| t.table.clone()).ok_or_else(|| BindError::Syntax("DELETE of no table".into()))?;
        Ok(BoundStatement::Delete(Box::new(DeletePlan { table, input: Box::new(plan), multi: targets })))
    }
}

/// The scope position of an assigned column `[[schema.]table.]column`.
fn resolve_assigned(parts: &[String], scope: &[OutCol]) -> Result<usize, BindError> {
    let (schema, table, column) = match parts {
        [c] => (None, None, c),
        [t, c] => (None, Some(t), c),
        [s, t, c] => (Some(s), Some(t), c),
        _ => return Err(BindError::UnknownColumn { name: parts.join("."), clause: "field list" }),
    };
    let matches: Vec<usize> = scope
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.name != ROWKEY_COLUMN
                && norm(&c.name) == norm(column)
                && match table {
                    None => !c.hidden,
                    Some(t) => c.table.as_deref().map(norm) == Some(norm(t)),
                }
                && schema.is_none_or(|s| c.origin.as_ref().is_some_and(|o| norm(&o.0) == norm(s)))
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => Err(BindError::UnknownColumn { name: parts.join("."), clause: "field list" }),
        _ => Err(BindError::AmbiguousColumn { name: parts.join("."), clause: "field list" }),
    }
}
