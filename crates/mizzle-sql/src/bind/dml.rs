//! Binding INSERT / REPLACE, UPDATE and DELETE.
//!
//! Invariants:
//! 1. Only base tables are targets (views are refused with 1288).
//! 2. Row expressions of `VALUES` are bound with no FROM scope; `DEFAULT`
//!    becomes the column's default expression.
//! 3. In `ON DUPLICATE KEY UPDATE`, columns read the existing row and
//!    `VALUES(c)` reads the row that was proposed.
//! 4. The proposed row may also be named by MySQL 8's row alias
//!    (`VALUES (...) AS new [(x, y)]`: `new.c`, or the column aliases) or,
//!    in INSERT ... SELECT, by the SELECT's columns; each such name reads
//!    the proposed value of its table column (after conversion to the
//!    column's type). Unqualified, a name that is also a column of the
//!    table reads the existing row.

use std::sync::Arc;

use mizzle_dictionary::{Relation, TableDef};
use mizzle_types::{SqlType, Value};
use sqlparser::ast::{self, AssignmentTarget, FromTable, SetExpr, TableObject};

use super::expr::ExprCtx;
use super::{norm, Binder};
use crate::error::BindError;
use crate::expr::{Expr, SortKey};
use crate::plan::{Access, BoundStatement, DeletePlan, InsertPlan, InsertSource, OutCol, Plan, UpdatePlan};

/// The alias under which `VALUES(c)` finds the proposed row.
pub(crate) const NEW_ROW: &str = "\u{1}new";

pub(crate) fn is_default_keyword(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
}

/// The scope of a table's own row.
/// A value other than DEFAULT for a generated column: 3105.
pub(crate) fn check_not_generated(t: &TableDef, col: usize) -> Result<(), BindError> {
    match t.columns.get(col) {
        Some(c) if c.generated.is_some() => Err(BindError::Definition {
            code: mizzle_types::ErrorCode::NonDefaultValueForGeneratedColumn,
            message: format!(
                "The value specified for generated column '{}' in table '{}' is not allowed.",
                c.name, t.name
            ),
        }),
        _ => Ok(()),
    }
}

pub(crate) fn table_scope(t: &TableDef, alias: &str) -> Vec<OutCol> {
    t.columns.iter().map(|c| table_column(t, c, alias)).collect()
}

/// The scope entry of column `c` of table `t` under `alias`. A hidden
/// column (a functional key part) belongs to no table alias and is hidden
/// from `*`, so no name reaches it; the optimizer refers to it by position.
pub(crate) fn table_column(t: &TableDef, c: &mizzle_dictionary::ColumnDef, alias: &str) -> OutCol {
    OutCol {
        name: c.name.clone(),
        table: (!c.hidden).then(|| alias.to_string()),
        origin: Some((t.schema.clone(), t.name.clone(), c.name.clone())),
        ty: c.ty,
        nullable: c.nullable,
        hidden: c.hidden,
        collation: Some(c.collation).filter(|&x| x != mizzle_types::Collation::LEGACY),
    }
}

impl<'a> Binder<'a> {
    pub(crate) fn require_table(&self, name: &ast::ObjectName, verb: &'static str) -> Result<Arc<TableDef>, BindError> {
        let (schema, tname) = self.object_name(name)?;
        match self.require_relation(&schema, &tname)? {
            Relation::Table(t) => Ok(t),
            Relation::View(_) => Err(BindError::WrongObject { schema, name: tname, kind: verb }),
        }
    }

    /// Binds a column's DEFAULT text to a constant expression of its type.
    pub(crate) fn default_expr(&mut self, t: &TableDef, col: usize) -> Result<Option<Expr>, BindError> {
        let c = &t.columns[col];
        if c.generated.is_some() {
            // Computed when the row is written (`mizzle_exec::dml`).
            return Ok(Some(Expr::Literal(Value::Null, SqlType::Null)));
        }
        let Some(text) = &c.default else {
            return Ok(match c.ty {
                _ if c.nullable => Some(Expr::Literal(Value::Null, SqlType::Null)),
                // A NOT NULL ENUM without DEFAULT defaults to its first member.
                SqlType::Enum(m) => m.get(1).map(|s| Expr::Literal(Value::text(s), c.ty)),
                _ => None,
            });
        };
        let e = parse_expr(text)?;
        let b = self.bind_scalar(&e, &[], ExprCtx::plain("default"))?;
        Ok(Some(b))
    }

    /// Binds CHECK constraints over the table row.
    pub(crate) fn bind_checks(&mut self, t: &TableDef) -> Result<Vec<(String, Expr)>, BindError> {
        self.bind_checks_where(t, true)
    }

    /// Binds the CHECK constraints of `t` (only the ENFORCED ones if
    /// `only_enforced`), in definition order.
    pub(crate) fn bind_checks_where(
        &mut self,
        t: &TableDef,
        only_enforced: bool,
    ) -> Result<Vec<(String, Expr)>, BindError> {
        let scope = table_scope(t, &t.name);
        let mut out = Vec::with_capacity(t.checks.len());
        for c in t.checks.iter().filter(|c| c.enforced || !only_enforced) {
            let e = parse_expr(&c.expr)?;
            out.push((c.name.clone(), self.bind_scalar(&e, &scope, ExprCtx::plain("check constraint"))?));
        }
        Ok(out)
    }

    pub(crate) fn bind_insert(&mut self, i: &ast::Insert) -> Result<BoundStatement, BindError> {
        let name = match &i.table {
            TableObject::TableName(n) => n,
            _ => return Err(BindError::NotSupported("INSERT INTO a table function".into())),
        };
        let table = self.require_table(name, "BASE TABLE")?;
        let ncols = table.columns.len();
        // Target columns.
        let mut columns: Vec<usize> = Vec::new();
        let mut assign_exprs: Vec<&ast::Expr> = Vec::new();
        if !i.assignments.is_empty() {
            for a in &i.assignments {
                let cname = match &a.target {
                    AssignmentTarget::ColumnName(n) => n.0.last().map(|p| p.to_string()).unwrap_or_default(),
                    AssignmentTarget::Tuple(_) => return Err(BindError::NotSupported("tuple assignment".into())),
                };
                let cname = cname.trim_matches('`').to_string();
                let idx = table
                    .column_index(&cname)
                    .ok_or(BindError::UnknownColumn { name: cname.clone(), clause: "field list" })?;
                if columns.contains(&idx) {
                    return Err(BindError::DuplicateColumn(cname));
                }
                columns.push(idx);
                assign_exprs.push(&a.value);
            }
        } else if i.columns.is_empty() {
            // Hidden columns (functional key parts) take no value.
            columns = table.visible_columns().map(|(c, _)| c).collect();
        } else {
            for c in &i.columns {
                let cname = c.0.last().map(|p| p.to_string()).unwrap_or_default();
                let cname = cname.trim_matches('`').to_string();
                let idx = table
                    .column_index(&cname)
                    .ok_or(BindError::UnknownColumn { name: cname.clone(), clause: "field list" })?;
                if columns.contains(&idx) {
                    return Err(BindError::DuplicateColumn(cname));
                }
                columns.push(idx);
            }
        }
        // Defaults of the omitted columns, and of every column when a row
        // says DEFAULT or is `()`. A listed column's DEFAULT text is not
        // parsed and bound otherwise: doing it for every column took a
        // third of a text INSERT's instructions.
        let keyword_default = assign_exprs.iter().any(|e| is_default_keyword(e))
            || i.source.as_ref().is_some_and(|q| match q.body.as_ref() {
                SetExpr::Values(v) => v.rows.iter().any(|r| r.is_empty() || r.iter().any(is_default_keyword)),
                _ => false,
            });
        let mut defaults: Vec<Option<Expr>> = Vec::with_capacity(ncols);
        for c in 0..ncols {
            defaults.push(if keyword_default || !columns.contains(&c) { self.default_expr(&table, c)? } else { None });
        }
        let bind_row = |b: &mut Binder<'_>, row: &[ast::Expr], rown: usize| -> Result<Vec<Expr>, BindError> {
            if row.len() != columns.len() {
                return Err(BindError::WrongValueCount(rown));
            }
            let mut out = Vec::with_capacity(row.len());
            for (k, e) in row.iter().enumerate() {
                if !is_default_keyword(e) {
                    check_not_generated(&table, columns[k])?;
                }
                if is_default_keyword(e) {
                    out.push(defaults[columns[k]].clone().unwrap_or(Expr::Literal(Value::Null, SqlType::Null)));
                } else {
                    out.push(b.bind_scalar(e, &[], ExprCtx::plain("field list"))?);
                }
            }
            Ok(out)
        };
        // The output columns of INSERT ... SELECT (ON DUPLICATE KEY UPDATE
        // may name them).
        let mut query_cols: Vec<OutCol> = Vec::new();
        let source = if !assign_exprs.is_empty() {
            let row: Vec<ast::Expr> = assign_exprs.iter().map(|e| (*e).clone()).collect();
            InsertSource::Values(vec![bind_row(self, &row, 1)?])
        } else {
            let q = i.source.as_ref().ok_or_else(|| BindError::Syntax("INSERT needs VALUES, SET or SELECT".into()))?;
            match q.body.as_ref() {
                SetExpr::Values(v) if q.order_by.is_none() && q.limit_clause.is_none() && q.with.is_none() => {
                    let mut rows = Vec::with_capacity(v.rows.len());
                    for (n, r) in v.rows.iter().enumerate() {
                        if r.is_empty() && columns.len() == table.visible_columns().count() {
                            // INSERT INTO t VALUES (): every column takes its default.
                            rows.push(
                                columns
                                    .iter()
                                    .map(|c| defaults[*c].clone().unwrap_or(Expr::Literal(Value::Null, SqlType::Null)))
                                    .collect(),
                            );
                            continue;
                        }
                        rows.push(bind_row(self, r, n + 1)?);
                    }
                    InsertSource::Values(rows)
                }
                _ => {
                    let (plan, cols) = self.bind_query(q)?;
                    if cols.len() != columns.len() {
                        return Err(BindError::WrongValueCount(1));
                    }
                    for &c in &columns {
                        check_not_generated(&table, c)?;
                    }
                    query_cols = cols;
                    InsertSource::Query(Box::new(plan))
                }
            }
        };
        // ON DUPLICATE KEY UPDATE.
        let mut on_duplicate = Vec::new();
        if let Some(on) = &i.on {
            match on {
                ast::OnInsert::DuplicateKeyUpdate(assigns) => {
                    let mut scope = table_scope(&table, &table.name);
                    let mut newrow = table_scope(&table, NEW_ROW);
                    for c in &mut newrow {
                        c.hidden = true;
                    }
                    scope.extend(newrow);
                    // Names of the proposed row beyond VALUES(c): the row
                    // alias, or the SELECT's columns (invariant 4).
                    let extra = proposed_row_names(&table, &columns, i.insert_alias.as_ref(), &query_cols)?;
                    let ncols = table.columns.len();
                    scope.extend(extra.iter().map(|(c, _)| c.clone()));
                    let remap = |e: Expr| -> Expr {
                        e.map(&mut |x| match x {
                            Expr::Column { index, ty } if index >= 2 * ncols => match extra.get(index - 2 * ncols) {
                                Some((_, c)) => Expr::Column { index: ncols + c, ty },
                                None => Expr::Column { index, ty },
                            },
                            other => other,
                        })
                    };
                    self.values_fn = true;
                    let r = (|| {
                        for a in assigns {
                            let cname = match &a.target {
                                AssignmentTarget::ColumnName(n) => {
                                    n.0.last().map(|p| p.to_string()).unwrap_or_default()
                                }
                                AssignmentTarget::Tuple(_) => {
                                    return Err(BindError::NotSupported("tuple assignment".into()))
                                }
                            };
                            let cname = cname.trim_matches('`').to_string();
                            let idx = table
                                .column_index(&cname)
                                .ok_or(BindError::UnknownColumn { name: cname.clone(), clause: "field list" })?;
                            if is_default_keyword(&a.value) && table.columns[idx].generated.is_some() {
                                continue;
                            }
                            check_not_generated(&table, idx)?;
                            let e = self.bind_scalar(&a.value, &scope, ExprCtx::plain("field list"))?;
                            on_duplicate.push((idx, remap(e)));
                        }
                        Ok(())
                    })();
                    self.values_fn = false;
                    r?;
                }
                _ => return Err(BindError::NotSupported("ON CONFLICT".into())),
            }
        } else if i.insert_alias.is_some() {
            // MySQL accepts a row alias without ON DUPLICATE KEY UPDATE.
            proposed_row_names(&table, &columns, i.insert_alias.as_ref(), &query_cols)?;
        }
        if i.returning.is_some() {
            return Err(BindError::NotSupported("RETURNING".into()));
        }
        let checks = self.bind_checks(&table)?;
        // Only omitted columns use `defaults` at run time.
        let defaults =
            defaults.into_iter().enumerate().map(|(c, d)| if columns.contains(&c) { None } else { d }).collect();
        Ok(BoundStatement::Insert(Box::new(InsertPlan {
            table,
            columns,
            source,
            defaults,
            on_duplicate,
            replace: i.replace_into,
            ignore: i.ignore,
            checks,
        })))
    }

    fn single_target(&self, twj: &ast::TableWithJoins, verb: &str) -> Result<(Arc<TableDef>, String), BindError> {
        if !twj.joins.is_empty() {
            return Err(BindError::NotSupported(format!("multi-table {verb}")));
        }
        match &twj.relation {
            ast::TableFactor::Table { name, alias, .. } => {
                let t = self.require_table(name, "BASE TABLE")?;
                let a = alias.as_ref().map(|a| a.name.value.clone()).unwrap_or_else(|| t.name.clone());
                Ok((t, a))
            }
            _ => Err(BindError::NotSupported(format!("{verb} of a derived table"))),
        }
    }

    /// The row source of UPDATE/DELETE: scan, WHERE, ORDER BY, LIMIT.
    fn target_rows(
        &mut self,
        t: &Arc<TableDef>,
        alias: &str,
        selection: Option<&ast::Expr>,
        order_by: &[ast::OrderByExpr],
        limit: Option<&ast::Expr>,
    ) -> Result<(Plan, Vec<OutCol>), BindError> {
        let scope = table_scope(t, alias);
        self.blocks.push(super::Block { scope: scope.clone(), outer_used: Vec::new() });
        let r = (|| {
            let mut plan = Plan::Scan {
                table: t.clone(),
                alias: alias.to_string(),
                access: Access::Full,
                filter: None,
                cols: scope.clone(),
                lock: crate::plan::LockMode::None,
                desc: false,
            };
            if let Some(w) = selection {
                let pred = self.bind_scalar(w, &scope, ExprCtx::plain("where clause"))?;
                plan = Plan::Filter { input: Box::new(plan), pred };
            }
            if !order_by.is_empty() {
                let mut keys = Vec::new();
                for k in order_by {
                    let e = self.bind_scalar(&k.expr, &scope, ExprCtx::plain("order clause"))?;
                    keys.push(super::coercion::order_key(SortKey {
                        expr: e,
                        desc: matches!(k.options.sort, Some(ast::OrderBySort::Desc)),
                    }));
                }
                plan = Plan::Sort { input: Box::new(plan), keys };
            }
            if let Some(l) = limit {
                let e = self.bind_scalar(l, &[], ExprCtx::plain("LIMIT"))?;
                plan = Plan::Limit { input: Box::new(plan), limit: Some(e), offset: None };
            }
            Ok((plan, scope.clone()))
        })();
        self.blocks.pop();
        r
    }

    pub(crate) fn bind_update(&mut self, u: &ast::Update) -> Result<BoundStatement, BindError> {
        if super::dml_multi::is_multi_update(u) {
            return self.bind_multi_update(u);
        }
        if u.from.is_some() {
            return Err(BindError::NotSupported("UPDATE ... FROM".into()));
        }
        if u.returning.is_some() {
            return Err(BindError::NotSupported("RETURNING".into()));
        }
        let (table, alias) = self.single_target(&u.table, "UPDATE")?;
        let (input, scope) = self.target_rows(&table, &alias, u.selection.as_ref(), &u.order_by, u.limit.as_ref())?;
        let mut sets = Vec::with_capacity(u.assignments.len());
        self.blocks.push(super::Block { scope: scope.clone(), outer_used: Vec::new() });
        let r = (|| {
            for a in &u.assignments {
                let cname = match &a.target {
                    AssignmentTarget::ColumnName(n) => {
                        let parts: Vec<String> =
                            n.0.iter().map(|p| p.to_string().trim_matches('`').to_string()).collect();
                        if parts.len() == 2 && norm(&parts[0]) != norm(&alias) {
                            return Err(BindError::UnknownColumn { name: parts.join("."), clause: "field list" });
                        }
                        parts.last().cloned().unwrap_or_default()
                    }
                    AssignmentTarget::Tuple(_) => return Err(BindError::NotSupported("tuple assignment".into())),
                };
                let idx = table
                    .column_index(&cname)
                    .ok_or(BindError::UnknownColumn { name: cname.clone(), clause: "field list" })?;
                if is_default_keyword(&a.value) && table.columns[idx].generated.is_some() {
                    continue;
                }
                check_not_generated(&table, idx)?;
                let e = if is_default_keyword(&a.value) {
                    self.default_expr(&table, idx)?.unwrap_or(Expr::Literal(Value::Null, SqlType::Null))
                } else {
                    self.bind_scalar(&a.value, &scope, ExprCtx::plain("field list"))?
                };
                sets.push((idx, e));
            }
            Ok(())
        })();
        self.blocks.pop();
        r?;
        let checks = self.bind_checks(&table)?;
        Ok(BoundStatement::Update(Box::new(UpdatePlan { table, input: Box::new(input), sets, checks, multi: None })))
    }

    pub(crate) fn bind_delete(&mut self, d: &ast::Delete) -> Result<BoundStatement, BindError> {
        if super::dml_multi::is_multi_delete(d) {
            return self.bind_multi_delete(d);
        }
        if d.returning.is_some() {
            return Err(BindError::NotSupported("RETURNING".into()));
        }
        let from = match &d.from {
            FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
        };
        let [twj] = from.as_slice() else {
            return Err(BindError::NotSupported("multi-table DELETE".into()));
        };
        let (table, alias) = self.single_target(twj, "DELETE")?;
        let (input, _) = self.target_rows(&table, &alias, d.selection.as_ref(), &d.order_by, d.limit.as_ref())?;
        Ok(BoundStatement::Delete(Box::new(DeletePlan { table, input: Box::new(input), multi: Vec::new() })))
    }
}

/// The names ON DUPLICATE KEY UPDATE has for the proposed row besides
/// `VALUES(c)`, each with the table column holding its value: MySQL 8's row
/// alias (`VALUES (...) AS new` names every column `new.c`; `AS new(x, y)`
/// names the listed columns `x`, `y` and `new.x`, `new.y`), or else the
/// columns of INSERT ... SELECT's tables that its select list names. An
/// unqualified name that is also a column of the table means the existing
/// row's column, as without the alias (invariant 4).
fn proposed_row_names(
    table: &TableDef,
    columns: &[usize],
    alias: Option<&ast::InsertAliases>,
    query_cols: &[OutCol],
) -> Result<Vec<(OutCol, usize)>, BindError> {
    let shadowed = |name: &str| table.column_index(name).is_some();
    let col = |name: String, table_alias: Option<String>, c: usize, hidden: bool| OutCol {
        name,
        table: table_alias,
        origin: None,
        ty: table.columns[c].ty,
        nullable: true,
        hidden,
        collation: Some(table.columns[c].collation).filter(|&x| x != mizzle_types::Collation::LEGACY),
    };
    let Some(a) = alias else {
        // Only columns of the SELECT's tables, not computed items (MySQL
        // resolves these names in the SELECT's FROM clause).
        return Ok(query_cols
            .iter()
            .zip(columns)
            .filter(|(q, _)| q.table.is_some())
            .map(|(q, &c)| (OutCol { hidden: q.hidden || shadowed(&q.name), ..q.clone() }, c))
            .collect());
    };
    let row = a.row_alias.0.last().map(|p| p.to_string().trim_matches('`').to_string()).unwrap_or_default();
    if norm(&row) == norm(&table.name) {
        return Err(BindError::NonUniqueTable(row));
    }
    match a.col_aliases.as_deref() {
        Some(names) if !names.is_empty() => {
            if names.len() != columns.len() {
                return Err(BindError::WrongValueCount(1));
            }
            let mut out = Vec::with_capacity(names.len());
            for (n, &c) in names.iter().zip(columns) {
                if out.iter().any(|(o, _): &(OutCol, usize)| norm(&o.name) == norm(&n.value)) {
                    return Err(BindError::DuplicateColumn(n.value.clone()));
                }
                out.push((col(n.value.clone(), Some(row.clone()), c, shadowed(&n.value)), c));
            }
            Ok(out)
        }
        _ => Ok(table
            .visible_columns()
            .map(|(c, _)| (col(table.columns[c].name.clone(), Some(row.clone()), c, true), c))
            .collect()),
    }
}

/// Parses a standalone expression (DEFAULT and CHECK texts).
pub(crate) fn parse_expr(text: &str) -> Result<ast::Expr, BindError> {
    let parsed = crate::parse::parse(&format!("SELECT {text}"))?;
    match parsed.statements().first() {
        Some(ast::Statement::Query(q)) => match q.body.as_ref() {
            SetExpr::Select(s) => match s.projection.first() {
                Some(ast::SelectItem::UnnamedExpr(e)) | Some(ast::SelectItem::ExprWithAlias { expr: e, .. }) => {
                    Ok(e.clone())
                }
                _ => Err(BindError::Syntax(format!("bad expression '{text}'"))),
            },
            _ => Err(BindError::Syntax(format!("bad expression '{text}'"))),
        },
        _ => Err(BindError::Syntax(format!("bad expression '{text}'"))),
    }
}
