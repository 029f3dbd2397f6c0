//! Binding queries: SELECT blocks, FROM items and joins, grouping and
//! aggregates, ORDER BY / LIMIT, set operations, views and CTEs.
//!
//! Invariants:
//! 1. Each SELECT block pushes a `Block` while it is bound, so inner
//!    blocks can resolve correlated names; when it pops, its depth-1 outer
//!    references are credited to the subquery being bound and deeper ones
//!    to the enclosing block (one level shallower).
//! 2. After aggregation the only columns an expression can read are the
//!    group expressions and the aggregate results (MySQL without
//!    ONLY_FULL_GROUP_BY: any other column reads an arbitrary row of its
//!    group, as `ANY_VALUE`).

use std::collections::HashMap;
use std::sync::Arc;

use mizzle_dictionary::Relation;
use mizzle_types::{Collation, SqlType, Value};

use super::coercion::{expr_collation, order_key, weigh_key};
use super::expr::{collated, localized, stored};
use recursive::recursive;
use sqlparser::ast::{
    self, GroupByExpr, JoinConstraint, JoinOperator, LimitClause, OrderBy, OrderByKind, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, TableFactor, TableWithJoins,
};

use super::expr::{coerce, ExprCtx};
use super::{norm, Binder, Block, CteDef};
use crate::error::BindError;
use crate::expr::{AggCall, AggFunc, CmpOp, Expr, SortKey, Subquery};
use crate::plan::{Access, JoinKind, LockMode, OutCol, Plan, SetOpKind};
use crate::typing::unify;

/// An ORDER BY key before projection.
enum OrderKey {
    /// A select-list position.
    Output(usize, bool),
    /// An expression over the FROM scope (or aggregate output).
    Expr(Expr, bool),
}

/// The display name MySQL gives an unaliased select item: a column's
/// name, a string literal's value, otherwise the item's source text as
/// written (`1/0`, `count(*)`), cut to MySQL's 256 characters; without the
/// source, the parsed tree's text.
fn item_name(e: &ast::Expr, source: Option<&str>) -> String {
    let name = match e {
        ast::Expr::Identifier(i) => i.value.clone(),
        ast::Expr::CompoundIdentifier(ids) => ids.last().map(|i| i.value.clone()).unwrap_or_default(),
        ast::Expr::Nested(inner) if matches!(**inner, ast::Expr::Identifier(_)) => item_name(inner, None),
        ast::Expr::Value(v)
            if matches!(v.value, ast::Value::SingleQuotedString(_) | ast::Value::DoubleQuotedString(_)) =>
        {
            match &v.value {
                ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                _ => String::new(),
            }
        }
        other => source.map(str::to_string).unwrap_or_else(|| other.to_string()),
    };
    if name.chars().count() > 256 {
        name.chars().take(256).collect()
    } else {
        name
    }
}

fn int_literal(e: &ast::Expr) -> Option<i64> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(s, _) => s.parse::<i64>().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn col_of(e: &Expr, name: String) -> OutCol {
    let ty = e.ty();
    OutCol {
        name,
        table: None,
        origin: None,
        ty,
        nullable: true,
        hidden: false,
        collation: expr_collation(e).map(|d| d.0),
    }
}

/// Rewrites Outer references of `depth` inside a plan through `map`.
fn remap_outer_plan(p: &Plan, depth: usize, map: &dyn Fn(usize) -> usize) -> Plan {
    let mut p = p.clone();
    map_plan_exprs(&mut p, &mut |e| remap_outer_expr(e, depth, map));
    p
}

fn remap_outer_expr(e: Expr, depth: usize, map: &dyn Fn(usize) -> usize) -> Expr {
    e.map(&mut |x| match x {
        Expr::Outer { depth: d, index, ty } if d == depth => Expr::Outer { depth: d, index: map(index), ty },
        Expr::Subquery(mut s) => {
            s.plan = Arc::new(remap_outer_plan(&s.plan, depth + 1, map));
            if depth == 1 {
                s.outer_refs = s.outer_refs.iter().map(|i| map(*i)).collect();
            }
            Expr::Subquery(s)
        }
        other => other,
    })
}

/// Applies `f` to every expression attached to the plan's nodes.
pub fn map_plan_exprs(p: &mut Plan, f: &mut dyn FnMut(Expr) -> Expr) {
    let apply = |e: &mut Expr, f: &mut dyn FnMut(Expr) -> Expr| {
        let taken = std::mem::replace(e, Expr::Literal(Value::Null, SqlType::Null));
        *e = f(taken);
    };
    match p {
        Plan::Values { rows, .. } => {
            for r in rows {
                for e in r {
                    apply(e, f);
                }
            }
        }
        Plan::Scan { filter, access, .. } => {
            if let Some(e) = filter {
                apply(e, f);
            }
            let ranges = match access {
                Access::Full => None,
                Access::Primary(r) | Access::Index { ranges: r, .. } => Some(r),
            };
            if let Some(rs) = ranges {
                for r in rs {
                    for e in &mut r.eq {
                        apply(e, f);
                    }
                    if let Some((e, _)) = &mut r.lower {
                        apply(e, f);
                    }
                    if let Some((e, _)) = &mut r.upper {
                        apply(e, f);
                    }
                }
            }
        }
        Plan::Filter { input, pred } => {
            map_plan_exprs(input, f);
            apply(pred, f);
        }
        Plan::Project { input, exprs, .. } => {
            map_plan_exprs(input, f);
            for e in exprs {
                apply(e, f);
            }
        }
        Plan::Join { left, right, equi, cond, .. } => {
            map_plan_exprs(left, f);
            map_plan_exprs(right, f);
            for (a, b) in equi {
                apply(a, f);
                apply(b, f);
            }
            if let Some(c) = cond {
                apply(c, f);
            }
        }
        Plan::Aggregate { input, groups, aggs, .. } => {
            map_plan_exprs(input, f);
            for g in groups {
                apply(g, f);
            }
            for a in aggs {
                for e in &mut a.args {
                    apply(e, f);
                }
                for k in &mut a.order_by {
                    apply(&mut k.expr, f);
                }
            }
        }
        Plan::Sort { input, keys } => {
            map_plan_exprs(input, f);
            for k in keys {
                apply(&mut k.expr, f);
            }
        }
        Plan::Limit { input, limit, offset } => {
            map_plan_exprs(input, f);
            if let Some(e) = limit {
                apply(e, f);
            }
            if let Some(e) = offset {
                apply(e, f);
            }
        }
        Plan::Distinct { input } => map_plan_exprs(input, f),
        Plan::JsonTable { input, doc, cond, .. } => {
            map_plan_exprs(input, f);
            apply(doc, f);
            if let Some(c) = cond {
                apply(c, f);
            }
        }
        Plan::SetOp { left, right, .. } => {
            map_plan_exprs(left, f);
            map_plan_exprs(right, f);
        }
        Plan::Window { input, windows, .. } => {
            map_plan_exprs(input, f);
            for w in windows {
                for e in &mut w.partition_by {
                    apply(e, f);
                }
                for k in &mut w.order_by {
                    apply(&mut k.expr, f);
                }
                for c in &mut w.calls {
                    for e in &mut c.args {
                        apply(e, f);
                    }
                }
                // Frame bounds too (parameters are renumbered through
                // here); a RANGE bound's Column 0 is the current row's
                // ORDER BY value, not an input column, so nothing that remaps
                // input columns may use this function on a Window node.
                for b in [&mut w.frame.start, &mut w.frame.end] {
                    if let crate::expr::FrameBound::Preceding(e) | crate::expr::FrameBound::Following(e) = b {
                        apply(e, f);
                    }
                }
            }
        }
        Plan::RecursiveCte { anchor, recursive, limit, offset, .. } => {
            map_plan_exprs(anchor, f);
            for r in recursive {
                map_plan_exprs(r, f);
            }
            if let Some(e) = limit {
                apply(e, f);
            }
            if let Some(e) = offset {
                apply(e, f);
            }
        }
        Plan::System { .. } | Plan::Empty { .. } | Plan::WorkTable { .. } => {}
    }
}

/// Sets the lock mode of every scan of a plan (not of subqueries inside
/// expressions: MySQL locks the rows the statement's own blocks read).
fn set_lock(p: Plan, lock: LockMode) -> Plan {
    match p {
        Plan::Scan { table, alias, access, filter, cols, desc, .. } => {
            Plan::Scan { table, alias, access, filter, cols, lock, desc }
        }
        Plan::Filter { input, pred } => Plan::Filter { input: Box::new(set_lock(*input, lock)), pred },
        Plan::Project { input, exprs, cols } => Plan::Project { input: Box::new(set_lock(*input, lock)), exprs, cols },
        Plan::Join { left, right, kind, equi, cond } => Plan::Join {
            left: Box::new(set_lock(*left, lock)),
            right: Box::new(set_lock(*right, lock)),
            kind,
            equi,
            cond,
        },
        Plan::Aggregate { input, groups, aggs, cols } => {
            Plan::Aggregate { input: Box::new(set_lock(*input, lock)), groups, aggs, cols }
        }
        Plan::Sort { input, keys } => Plan::Sort { input: Box::new(set_lock(*input, lock)), keys },
        Plan::Limit { input, limit, offset } => Plan::Limit { input: Box::new(set_lock(*input, lock)), limit, offset },
        Plan::Distinct { input } => Plan::Distinct { input: Box::new(set_lock(*input, lock)) },
        Plan::JsonTable { input, doc, def, outer, cond, cols } => {
            Plan::JsonTable { input: Box::new(set_lock(*input, lock)), doc, def, outer, cond, cols }
        }
        Plan::Window { input, windows, cols } => {
            Plan::Window { input: Box::new(set_lock(*input, lock)), windows, cols }
        }
        Plan::SetOp { kind, all, left, right, cols } => Plan::SetOp {
            kind,
            all,
            left: Box::new(set_lock(*left, lock)),
            right: Box::new(set_lock(*right, lock)),
            cols,
        },
        other => other,
    }
}

/// A plan whose TIMESTAMP columns (stored UTC values) are given in the
/// session's time zone instead, as DATETIME: for rows that expressions
/// compute with (subqueries, recursive CTEs). Other plans are unchanged.
pub(crate) fn localize_plan((plan, cols): (Plan, Vec<OutCol>)) -> (Plan, Vec<OutCol>) {
    if !cols.iter().any(|c| matches!(c.ty, SqlType::Timestamp(_))) {
        return (plan, cols);
    }
    let exprs = cols.iter().enumerate().map(|(i, c)| localized(Expr::Column { index: i, ty: c.ty })).collect();
    let cols: Vec<OutCol> = cols
        .into_iter()
        .map(|c| match c.ty {
            SqlType::Timestamp(f) => OutCol { ty: SqlType::DateTime(f), ..c },
            _ => c,
        })
        .collect();
    (Plan::Project { input: Box::new(plan), exprs, cols: cols.clone() }, cols)
}

/// DISTINCT over rows with collated columns: a grouping by the columns'
/// weight strings, showing each group's first row.
fn collated_distinct(input: Plan, cols: &[OutCol]) -> Plan {
    let n = cols.len();
    let col = |i: usize| Expr::Column { index: i, ty: cols[i].ty };
    let groups: Vec<Expr> =
        (0..n).map(|i| weigh_key(SortKey { expr: collated(col(i), cols[i].collation), desc: false }).expr).collect();
    let aggs: Vec<AggCall> = (0..n)
        .map(|i| AggCall {
            func: AggFunc::AnyValue,
            args: vec![col(i)],
            distinct: false,
            order_by: vec![],
            separator: String::new(),
            ty: cols[i].ty,
        })
        .collect();
    let mut agg_cols: Vec<OutCol> = groups.iter().enumerate().map(|(i, g)| col_of(g, format!("group_{i}"))).collect();
    agg_cols.extend(cols.iter().cloned());
    let plan = Plan::Aggregate { input: Box::new(input), groups, aggs, cols: agg_cols };
    let exprs = (0..n).map(|i| Expr::Column { index: n + i, ty: cols[i].ty }).collect();
    Plan::Project { input: Box::new(plan), exprs, cols: cols.to_vec() }
}

struct AggRewriter<'g> {
    groups: &'g [Expr],
    aggs: Vec<AggCall>,
}

impl AggRewriter<'_> {
    fn slot_for(&mut self, call: AggCall) -> Expr {
        let ty = call.ty;
        let j = match self.aggs.iter().position(|a| *a == call) {
            Some(j) => j,
            None => {
                self.aggs.push(call);
                self.aggs.len() - 1
            }
        };
        Expr::Column { index: self.groups.len() + j, ty }
    }

    /// The post-aggregation position holding input column `i`.
    fn column_slot(&mut self, i: usize, ty: SqlType) -> usize {
        let col = Expr::Column { index: i, ty };
        if let Some(g) = self.groups.iter().position(|g| *g == col) {
            return g;
        }
        let call = AggCall {
            func: AggFunc::AnyValue,
            args: vec![col],
            distinct: false,
            order_by: vec![],
            separator: String::new(),
            ty,
        };
        match self.slot_for(call) {
            Expr::Column { index, .. } => index,
            _ => 0,
        }
    }

    #[recursive]
    fn rewrite(&mut self, e: Expr) -> Expr {
        if let Some(i) = self.groups.iter().position(|g| *g == e) {
            return Expr::Column { index: i, ty: e.ty() };
        }
        match e {
            Expr::Agg(call) => self.slot_for(*call),
            Expr::Column { index, ty } => Expr::Column { index: self.column_slot(index, ty), ty },
            Expr::Subquery(s) if !s.outer_refs.is_empty() => {
                let mut mapping: HashMap<usize, usize> = HashMap::new();
                let col_types = collect_outer_types(&s);
                for &i in &s.outer_refs {
                    let ty = col_types.get(&i).copied().unwrap_or(SqlType::Null);
                    let slot = self.column_slot(i, ty);
                    mapping.insert(i, slot);
                }
                let map = move |i: usize| mapping.get(&i).copied().unwrap_or(i);
                let mut s = *s;
                s.plan = Arc::new(remap_outer_plan(&s.plan, 1, &map));
                s.outer_refs = s.outer_refs.iter().map(|i| map(*i)).collect();
                let s = Expr::Subquery(Box::new(s));
                // The IN/ANY argument is bound in this block: rewrite it too.
                s.map_children(&mut |c| self.rewrite(c))
            }
            other => other.map_children(&mut |c| self.rewrite(c)),
        }
    }
}

/// Types of the depth-1 outer columns a subquery reads.
fn collect_outer_types(s: &Subquery) -> HashMap<usize, SqlType> {
    let mut out = HashMap::new();
    let mut p = (*s.plan).clone();
    collect_outer_in_plan(&mut p, 1, &mut out);
    out
}

fn collect_outer_in_plan(p: &mut Plan, depth: usize, out: &mut HashMap<usize, SqlType>) {
    map_plan_exprs(p, &mut |e| {
        e.walk(&mut |x| match x {
            Expr::Outer { depth: d, index, ty } if *d == depth => {
                out.insert(*index, *ty);
            }
            Expr::Subquery(s) => {
                let mut inner = (*s.plan).clone();
                collect_outer_in_plan(&mut inner, depth + 1, out);
            }
            _ => {}
        });
        e
    });
}

impl<'a> Binder<'a> {
    /// Binds a full query expression (WITH, body, ORDER BY, LIMIT).
    #[recursive]
    pub(crate) fn bind_query(&mut self, q: &ast::Query) -> Result<(Plan, Vec<OutCol>), BindError> {
        self.enter()?;
        // A query expression starts a new context for window functions: its
        // own SELECT blocks decide where they may appear.
        let saved_ok = std::mem::replace(&mut self.window_ok, false);
        let saved_spec = self.in_window_spec.take();
        let pushed = q.with.is_some();
        let r = self.bind_query_inner(q);
        if pushed {
            self.ctes.pop();
        }
        self.window_ok = saved_ok;
        self.in_window_spec = saved_spec;
        self.leave();
        r
    }

    fn bind_query_inner(&mut self, q: &ast::Query) -> Result<(Plan, Vec<OutCol>), BindError> {
        if let Some(with) = &q.with {
            self.ctes.push(HashMap::new());
            for cte in &with.cte_tables {
                if with.recursive {
                    let def = self.bind_recursive_cte(cte)?;
                    if let Some(m) = self.ctes.last_mut() {
                        m.insert(norm(&cte.alias.name.value), def);
                    }
                    continue;
                }
                let (plan, mut cols) = self.bind_query(&cte.query)?;
                if !cte.alias.columns.is_empty() {
                    if cte.alias.columns.len() != cols.len() {
                        return Err(BindError::WrongArguments(format!(
                            "WITH column list of '{}' (wrong number of columns)",
                            cte.alias.name.value
                        )));
                    }
                    for (c, n) in cols.iter_mut().zip(&cte.alias.columns) {
                        c.name = n.name.value.clone();
                    }
                }
                if let Some(m) = self.ctes.last_mut() {
                    m.insert(norm(&cte.alias.name.value), CteDef { plan, cols, recursive: None });
                }
            }
        }
        if q.fetch.is_some() {
            return Err(BindError::NotSupported("FETCH".into()));
        }
        let lock = q.locks.iter().fold(LockMode::None, |m, l| match l.lock_type {
            ast::LockType::Update => LockMode::Update,
            ast::LockType::Share if m == LockMode::None => LockMode::Share,
            _ => m,
        });
        let r = self.bind_query_body(q)?;
        Ok(if lock == LockMode::None { r } else { (set_lock(r.0, lock), r.1) })
    }

    fn bind_query_body(&mut self, q: &ast::Query) -> Result<(Plan, Vec<OutCol>), BindError> {
        match q.body.as_ref() {
            SetExpr::Select(sel) => self.bind_select(sel, q.order_by.as_ref(), q.limit_clause.as_ref()),
            body => {
                let (mut plan, cols) = self.bind_set_expr(body)?;
                if let Some(ob) = &q.order_by {
                    let keys = self.output_order_keys(ob, &cols)?;
                    if !keys.is_empty() {
                        plan = Plan::Sort { input: Box::new(plan), keys };
                    }
                }
                plan = self.apply_limit(plan, q.limit_clause.as_ref())?;
                Ok((plan, cols))
            }
        }
    }

    /// ORDER BY over output columns only (set operations).
    fn output_order_keys(&mut self, ob: &OrderBy, cols: &[OutCol]) -> Result<Vec<SortKey>, BindError> {
        let mut keys = Vec::new();
        let OrderByKind::Expressions(items) = &ob.kind else {
            return Err(BindError::NotSupported("ORDER BY ALL".into()));
        };
        for it in items {
            let desc = matches!(it.options.sort, Some(ast::OrderBySort::Desc));
            let e = if let Some(n) = int_literal(&it.expr) {
                if n < 1 || n as usize > cols.len() {
                    return Err(BindError::UnknownColumn { name: n.to_string(), clause: "order clause" });
                }
                let i = (n - 1) as usize;
                collated(Expr::Column { index: i, ty: cols[i].ty }, cols[i].collation)
            } else {
                // Names refer to the output columns of the set operation.
                let out: Vec<OutCol> = cols.iter().map(|c| OutCol { table: None, ..c.clone() }).collect();
                match &it.expr {
                    ast::Expr::CompoundIdentifier(ids) if ids.len() == 2 => {
                        self.resolve_column(None, &ids[1].value, &out, ExprCtx::plain("order clause"))?
                    }
                    other => self.bind_scalar(other, &out, ExprCtx::plain("order clause"))?,
                }
            };
            keys.push(order_key(SortKey { expr: e, desc }));
        }
        Ok(keys)
    }

    pub(crate) fn apply_limit(&mut self, plan: Plan, limit: Option<&LimitClause>) -> Result<Plan, BindError> {
        let (l, o) = match limit {
            None => return Ok(plan),
            Some(LimitClause::LimitOffset { limit, offset, limit_by }) => {
                if !limit_by.is_empty() {
                    return Err(BindError::NotSupported("LIMIT BY".into()));
                }
                (limit.as_ref(), offset.as_ref().map(|o| &o.value))
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit), Some(offset)),
        };
        let mut bind_count = |e: &ast::Expr| -> Result<Expr, BindError> {
            let b = self.bind_scalar(e, &[], ExprCtx::plain("LIMIT"))?;
            match &b {
                Expr::Literal(Value::Int(i), _) if *i >= 0 => Ok(b),
                Expr::Literal(Value::UInt(_), _) | Expr::Param { .. } => Ok(b),
                _ => Err(BindError::Syntax(format!("LIMIT and OFFSET take non-negative integer constants, not '{e}'"))),
            }
        };
        let limit = match l {
            Some(e) => Some(bind_count(e)?),
            None => None,
        };
        let offset = match o {
            Some(e) => Some(bind_count(e)?),
            None => None,
        };
        if limit.is_none() && offset.is_none() {
            return Ok(plan);
        }
        Ok(Plan::Limit { input: Box::new(plan), limit, offset })
    }

    pub(crate) fn bind_set_expr(&mut self, s: &SetExpr) -> Result<(Plan, Vec<OutCol>), BindError> {
        match s {
            SetExpr::Select(sel) => self.bind_select(sel, None, None),
            SetExpr::Query(q) => self.bind_query(q),
            SetExpr::SetOperation { left, op, set_quantifier, right } => {
                self.enter()?;
                let r = self.bind_set_op(left, op, set_quantifier, right);
                self.leave();
                r
            }
            SetExpr::Values(v) => {
                let mut rows = Vec::with_capacity(v.rows.len());
                let mut width = None;
                for r in &v.rows {
                    let exprs = r
                        .iter()
                        .map(|x| self.bind_scalar(x, &[], ExprCtx::plain("field list")))
                        .collect::<Result<Vec<_>, _>>()?;
                    if *width.get_or_insert(exprs.len()) != exprs.len() {
                        return Err(BindError::WrongValueCount(rows.len() + 1));
                    }
                    rows.push(exprs);
                }
                let w = width.unwrap_or(0);
                let mut cols = Vec::with_capacity(w);
                for i in 0..w {
                    let ty = rows.iter().fold(SqlType::Null, |t, r| unify(t, r[i].ty()));
                    cols.push(OutCol {
                        name: format!("column_{i}"),
                        table: None,
                        origin: None,
                        ty,
                        nullable: true,
                        hidden: false,
                        collation: None,
                    });
                }
                let rows = rows
                    .into_iter()
                    .map(|r| r.into_iter().zip(&cols).map(|(e, c)| coerce(e, c.ty)).collect())
                    .collect();
                Ok((Plan::Values { rows, cols: cols.clone() }, cols))
            }
            SetExpr::Table(t) => {
                // MySQL 8's `TABLE t` is `SELECT * FROM t`.
                let Some(name) = &t.table_name else {
                    return Err(BindError::Syntax("TABLE needs a table name".into()));
                };
                let quote = |i: &ast::Ident| format!("`{}`", i.value.replace('`', "``"));
                let from = match &t.schema_name {
                    Some(s) => format!("{}.{}", quote(s), quote(name)),
                    None => quote(name),
                };
                let dialect = sqlparser::dialect::MySqlDialect {};
                let q = sqlparser::parser::Parser::new(&dialect)
                    .try_with_sql(&format!("SELECT * FROM {from}"))
                    .and_then(|mut p| p.parse_query())
                    .map_err(|e| BindError::Syntax(e.to_string()))?;
                match q.body.as_ref() {
                    SetExpr::Select(sel) => self.bind_select(sel, None, None),
                    _ => Err(BindError::Syntax(format!("TABLE {from}"))),
                }
            }
            other => Err(BindError::NotSupported(format!("query body {other}"))),
        }
    }

    fn bind_set_op(
        &mut self,
        left: &SetExpr,
        op: &SetOperator,
        q: &SetQuantifier,
        right: &SetExpr,
    ) -> Result<(Plan, Vec<OutCol>), BindError> {
        let (lp, lc) = self.bind_set_expr(left)?;
        let (rp, rc) = self.bind_set_expr(right)?;
        if lc.len() != rc.len() {
            return Err(BindError::SetOpWidth);
        }
        let kind = match op {
            SetOperator::Union => SetOpKind::Union,
            SetOperator::Intersect => SetOpKind::Intersect,
            SetOperator::Except | SetOperator::Minus => SetOpKind::Except,
        };
        let all = matches!(q, SetQuantifier::All);
        let cols: Vec<OutCol> = lc
            .iter()
            .zip(&rc)
            .map(|(a, b)| OutCol {
                name: a.name.clone(),
                table: None,
                origin: None,
                ty: unify(a.ty, b.ty),
                nullable: a.nullable || b.nullable,
                hidden: false,
                collation: a.collation.or(b.collation),
            })
            .collect();
        let conform = |p: Plan, pc: &[OutCol]| -> Plan {
            if pc.iter().zip(&cols).all(|(a, b)| a.ty == b.ty) {
                return p;
            }
            let exprs =
                pc.iter().enumerate().map(|(i, c)| coerce(Expr::Column { index: i, ty: c.ty }, cols[i].ty)).collect();
            Plan::Project { input: Box::new(p), exprs, cols: cols.clone() }
        };
        let lp = conform(lp, &lc);
        let rp = conform(rp, &rc);
        Ok((Plan::SetOp { kind, all, left: Box::new(lp), right: Box::new(rp), cols: cols.clone() }, cols))
    }

    /// Binds one SELECT block with the ORDER BY and LIMIT that apply to it.
    fn bind_select(
        &mut self,
        sel: &ast::Select,
        order: Option<&OrderBy>,
        limit: Option<&LimitClause>,
    ) -> Result<(Plan, Vec<OutCol>), BindError> {
        self.blocks.push(Block { scope: Vec::new(), outer_used: Vec::new() });
        let saved_windows = std::mem::take(&mut self.windows);
        let saved_ok = std::mem::replace(&mut self.window_ok, false);
        let r = self.bind_select_inner(sel, order, limit);
        self.windows = saved_windows;
        self.window_ok = saved_ok;
        if let Some(block) = self.blocks.pop() {
            for (depth, idx) in block.outer_used {
                if depth == 1 {
                    if let Some(acc) = self.sub_refs.last_mut() {
                        acc.push(idx);
                    }
                } else if let Some(parent) = self.blocks.last_mut() {
                    parent.outer_used.push((depth - 1, idx));
                }
            }
        }
        r
    }

    fn bind_select_inner(
        &mut self,
        sel: &ast::Select,
        order: Option<&OrderBy>,
        limit: Option<&LimitClause>,
    ) -> Result<(Plan, Vec<OutCol>), BindError> {
        if sel.into.is_some() {
            return Err(BindError::NotSupported("SELECT ... INTO".into()));
        }
        if sel.qualify.is_some() {
            return Err(BindError::NotSupported("QUALIFY".into()));
        }
        let (mut plan, scope, star) = if sel.from.is_empty() {
            (Plan::Values { rows: vec![vec![]], cols: vec![] }, Vec::new(), Vec::new())
        } else {
            self.bind_from_star(&sel.from)?
        };
        if let Some(b) = self.blocks.last_mut() {
            b.scope = scope.clone();
        }
        self.bind_named_windows(&sel.named_window, &scope)?;
        if let Some(w) = &sel.selection {
            let pred = self.bind_scalar(w, &scope, ExprCtx::plain("where clause"))?;
            plan = Plan::Filter { input: Box::new(plan), pred };
        }
        // Select list (window functions allowed).
        let mut items: Vec<(Expr, OutCol)> = Vec::new();
        let list_ctx = ExprCtx { allow_agg: true, clause: "field list", aliases: &[] };
        self.window_ok = true;
        let r = self.bind_select_items(sel, &scope, &star, list_ctx, &mut items);
        self.window_ok = false;
        r?;
        self.bind_select_rest(sel, order, limit, plan, scope, items)
    }

    fn bind_select_items(
        &mut self,
        sel: &ast::Select,
        scope: &[OutCol],
        star: &[usize],
        list_ctx: ExprCtx<'_>,
        items: &mut Vec<(Expr, OutCol)>,
    ) -> Result<(), BindError> {
        // The items' source text, when the statement's text is known and
        // reads as one text per item.
        // Only items named by their text need it (a list of columns and
        // stars reads none).
        let needs_text = sel.projection.iter().any(|i| match i {
            SelectItem::UnnamedExpr(e) => !matches!(
                e,
                ast::Expr::Identifier(_)
                    | ast::Expr::CompoundIdentifier(_)
                    | ast::Expr::Value(ast::ValueWithSpan {
                        value: ast::Value::SingleQuotedString(_) | ast::Value::DoubleQuotedString(_),
                        ..
                    })
            ),
            _ => false,
        });
        // A view's query was parsed from its own text, not the statement's:
        // its items are named from the tree.
        let texts = self
            .cat
            .source_text()
            .filter(|_| needs_text && self.views.is_empty())
            .and_then(|t| super::select_item_texts(t, sel.select_token.0.span.start))
            .filter(|v| v.len() == sel.projection.len());
        for (k, item) in sel.projection.iter().enumerate() {
            match item {
                SelectItem::Wildcard(_) => {
                    if scope.is_empty() && sel.from.is_empty() {
                        return Err(BindError::Syntax("SELECT * needs a FROM clause".into()));
                    }
                    for &i in star {
                        if let Some(c) = scope.get(i).filter(|c| !c.hidden) {
                            items.push((Expr::Column { index: i, ty: c.ty }, c.clone()));
                        }
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            n.0.last().map(|p| p.to_string()).unwrap_or_default()
                        }
                        SelectItemQualifiedWildcardKind::Expr(e) => e.to_string(),
                    };
                    let q = q.trim_matches('`').to_string();
                    let lq = norm(&q);
                    let before = items.len();
                    for (i, c) in scope.iter().enumerate() {
                        if c.table.as_deref().map(norm).as_deref() == Some(lq.as_str()) {
                            items.push((Expr::Column { index: i, ty: c.ty }, c.clone()));
                        }
                    }
                    if items.len() == before {
                        return Err(BindError::UnknownTable(q));
                    }
                }
                SelectItem::UnnamedExpr(e) => {
                    let b = stored(self.bind_scalar(e, scope, list_ctx)?);
                    let mut c = match &b {
                        Expr::Column { index, .. } => scope[*index].clone(),
                        _ => col_of(&b, String::new()),
                    };
                    c.name = item_name(e, texts.as_ref().and_then(|v| v.get(k)).map(String::as_str));
                    c.hidden = false;
                    items.push((b, c));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let b = stored(self.bind_scalar(expr, scope, list_ctx)?);
                    let mut c = match &b {
                        Expr::Column { index, .. } => scope[*index].clone(),
                        _ => col_of(&b, alias.value.clone()),
                    };
                    c.name = alias.value.clone();
                    c.hidden = false;
                    items.push((b, c));
                }
                SelectItem::ExprWithAliases { .. } => return Err(BindError::NotSupported("multiple aliases".into())),
            }
        }
        Ok(())
    }

    fn bind_select_rest(
        &mut self,
        sel: &ast::Select,
        order: Option<&OrderBy>,
        limit: Option<&LimitClause>,
        mut plan: Plan,
        scope: Vec<OutCol>,
        mut items: Vec<(Expr, OutCol)>,
    ) -> Result<(Plan, Vec<OutCol>), BindError> {
        let aliases: Vec<(String, Expr)> = items.iter().map(|(e, c)| (c.name.clone(), e.clone())).collect();
        // GROUP BY.
        let mut groups: Vec<Expr> = Vec::new();
        match &sel.group_by {
            GroupByExpr::Expressions(list, mods) => {
                if !mods.is_empty() {
                    return Err(BindError::NotSupported("GROUP BY modifiers (WITH ROLLUP)".into()));
                }
                for g in list {
                    let e = if let Some(n) = int_literal(g) {
                        if n < 1 || n as usize > items.len() {
                            return Err(BindError::UnknownColumn { name: n.to_string(), clause: "group statement" });
                        }
                        items[(n - 1) as usize].0.clone()
                    } else {
                        let ctx = ExprCtx { allow_agg: false, clause: "group statement", aliases: &aliases };
                        self.bind_scalar(g, &scope, ctx)?
                    };
                    let e = stored(e);
                    if e.has_agg() {
                        return Err(BindError::InvalidGroupFuncUse);
                    }
                    if let Some(f) = first_window(&e) {
                        // `GROUP BY 1` naming a window function's column.
                        return Err(BindError::WindowInvalidUse(f.to_string()));
                    }
                    groups.push(e);
                }
            }
            GroupByExpr::All(_) => return Err(BindError::NotSupported("GROUP BY ALL".into())),
        }
        // HAVING.
        let having = match &sel.having {
            Some(h) => {
                let ctx = ExprCtx { allow_agg: true, clause: "having clause", aliases: &aliases };
                Some(self.bind_scalar(h, &scope, ctx)?)
            }
            None => None,
        };
        // ORDER BY, resolved against the select list first (MySQL).
        let mut okeys: Vec<OrderKey> = Vec::new();
        if let Some(ob) = order {
            let OrderByKind::Expressions(list) = &ob.kind else {
                return Err(BindError::NotSupported("ORDER BY ALL".into()));
            };
            for it in list {
                let desc = matches!(it.options.sort, Some(ast::OrderBySort::Desc));
                if let Some(n) = int_literal(&it.expr) {
                    if n < 1 || n as usize > items.len() {
                        return Err(BindError::UnknownColumn { name: n.to_string(), clause: "order clause" });
                    }
                    okeys.push(OrderKey::Output((n - 1) as usize, desc));
                    continue;
                }
                if let ast::Expr::Identifier(id) = &it.expr {
                    let ln = norm(&id.value);
                    let hits: Vec<usize> =
                        items.iter().enumerate().filter(|(_, (_, c))| norm(&c.name) == ln).map(|(i, _)| i).collect();
                    if let Some(&i) = hits.first() {
                        okeys.push(OrderKey::Output(i, desc));
                        continue;
                    }
                }
                let ctx = ExprCtx { allow_agg: true, clause: "order clause", aliases: &aliases };
                self.window_ok = true;
                let e = self.bind_scalar(&it.expr, &scope, ctx);
                self.window_ok = false;
                let e = stored(e?);
                match items.iter().position(|(x, _)| *x == e) {
                    Some(i) => okeys.push(OrderKey::Output(i, desc)),
                    None => okeys.push(OrderKey::Expr(e, desc)),
                }
            }
        }
        let is_agg = !groups.is_empty()
            || items.iter().any(|(e, _)| e.has_agg())
            || having.as_ref().is_some_and(|h| h.has_agg())
            || okeys.iter().any(|k| matches!(k, OrderKey::Expr(e, _) if e.has_agg()));
        let mut having = having;
        if is_agg && self.rec.last().is_some_and(|r| r.block_depth == Some(self.blocks.len())) {
            if let Some(r) = self.rec.last_mut() {
                r.block_aggregates = true;
            }
        }
        if is_agg {
            let mut rw = AggRewriter { groups: &groups, aggs: Vec::new() };
            let items_rw: Vec<(Expr, OutCol)> = items.into_iter().map(|(e, c)| (rw.rewrite(e), c)).collect();
            items = items_rw;
            having = having.map(|h| rw.rewrite(h));
            okeys = okeys
                .into_iter()
                .map(|k| match k {
                    OrderKey::Expr(e, d) => OrderKey::Expr(rw.rewrite(e), d),
                    o => o,
                })
                .collect();
            let mut aggs = rw.aggs;
            // A collated group key groups by its weight string; the group's
            // value shown is its first row's (an ANY_VALUE slot), and
            // references to the key move there, keeping their collation.
            let mut plan_groups = groups.clone();
            let mut moved: HashMap<usize, (usize, Collation)> = HashMap::new();
            for (i, g) in groups.iter().enumerate() {
                if let Some((c, _)) = expr_collation(g).filter(|d| d.0 != Collation::LEGACY) {
                    plan_groups[i] = Expr::Weight { arg: Box::new(g.clone()), collation: c };
                    aggs.push(AggCall {
                        func: AggFunc::AnyValue,
                        args: vec![g.clone()],
                        distinct: false,
                        order_by: vec![],
                        separator: String::new(),
                        ty: g.ty(),
                    });
                    moved.insert(i, (groups.len() + aggs.len() - 1, c));
                }
            }
            if !moved.is_empty() {
                let mut remap = |e: Expr| match e {
                    Expr::Column { index, ty } => match moved.get(&index) {
                        Some(&(to, c)) => collated(Expr::Column { index: to, ty }, Some(c)),
                        None => Expr::Column { index, ty },
                    },
                    other => other,
                };
                for (e, _) in items.iter_mut() {
                    *e = std::mem::replace(e, Expr::lit(Value::Null)).map(&mut remap);
                }
                having = having.map(|h| h.map(&mut remap));
                for k in okeys.iter_mut() {
                    if let OrderKey::Expr(e, _) = k {
                        *e = std::mem::replace(e, Expr::lit(Value::Null)).map(&mut remap);
                    }
                }
            }
            let groups = plan_groups;
            let mut cols: Vec<OutCol> =
                groups.iter().enumerate().map(|(i, g)| col_of(g, format!("group_{i}"))).collect();
            for (j, a) in aggs.iter().enumerate() {
                cols.push(OutCol {
                    name: format!("agg_{j}"),
                    table: None,
                    origin: None,
                    ty: a.ty,
                    nullable: true,
                    hidden: false,
                    collation: None,
                });
            }
            plan = Plan::Aggregate { input: Box::new(plan), groups: groups.clone(), aggs, cols };
            if let Some(h) = having.take() {
                plan = Plan::Filter { input: Box::new(plan), pred: h };
            }
        } else if let Some(h) = having.take() {
            plan = Plan::Filter { input: Box::new(plan), pred: h };
        }
        // Window functions, over the grouped and HAVING-filtered rows.
        let windowed = items.iter().any(|(e, _)| e.has_window())
            || okeys.iter().any(|k| matches!(k, OrderKey::Expr(e, _) if e.has_window()));
        if windowed {
            if self.rec.last().is_some_and(|r| r.block_depth == Some(self.blocks.len())) {
                if let Some(r) = self.rec.last_mut() {
                    r.block_aggregates = true;
                }
            }
            let mut refs: Vec<&mut Expr> = items.iter_mut().map(|(e, _)| e).collect();
            refs.extend(okeys.iter_mut().filter_map(|k| match k {
                OrderKey::Expr(e, _) => Some(e),
                OrderKey::Output(..) => None,
            }));
            plan = self.plan_windows(plan, &mut refs)?;
        }
        // Projection, with ORDER BY expressions as hidden extra columns.
        let visible = items.len();
        let mut exprs: Vec<Expr> = Vec::with_capacity(visible);
        let mut cols: Vec<OutCol> = Vec::with_capacity(visible);
        for (e, c) in items {
            exprs.push(e);
            cols.push(c);
        }
        let distinct = matches!(sel.distinct, Some(ast::Distinct::Distinct));
        if matches!(sel.distinct, Some(ast::Distinct::On(_))) {
            return Err(BindError::NotSupported("DISTINCT ON".into()));
        }
        let mut sort_keys = Vec::new();
        for k in okeys {
            match k {
                OrderKey::Output(i, desc) => sort_keys.push(order_key(SortKey {
                    expr: collated(Expr::Column { index: i, ty: cols[i].ty }, cols[i].collation),
                    desc,
                })),
                OrderKey::Expr(e, desc) => {
                    let i = exprs.len();
                    let ty = e.ty();
                    let c = col_of(&e, format!("order_{i}"));
                    let coll = c.collation;
                    cols.push(c);
                    exprs.push(e);
                    sort_keys.push(order_key(SortKey { expr: collated(Expr::Column { index: i, ty }, coll), desc }));
                }
            }
        }
        let extra = exprs.len() > visible;
        let all_cols = cols.clone();
        plan = Plan::Project { input: Box::new(plan), exprs, cols: all_cols.clone() };
        if distinct {
            if extra {
                // Sorting by something outside the select list: distinct over
                // the visible columns first, keeping the first key per group.
                let keep: Vec<Expr> = (0..visible).map(|i| Expr::Column { index: i, ty: all_cols[i].ty }).collect();
                let _ = keep;
                return Err(BindError::NotSupported(
                    "ORDER BY an expression that is not in the select list of a SELECT DISTINCT".into(),
                ));
            }
            if all_cols[..visible].iter().any(|c| c.collation.is_some()) {
                plan = collated_distinct(plan, &all_cols[..visible]);
            } else {
                plan = Plan::Distinct { input: Box::new(plan) };
            }
        }
        if !sort_keys.is_empty() {
            plan = Plan::Sort { input: Box::new(plan), keys: sort_keys };
        }
        plan = self.apply_limit(plan, limit)?;
        if extra {
            let exprs = (0..visible).map(|i| Expr::Column { index: i, ty: all_cols[i].ty }).collect();
            cols.truncate(visible);
            plan = Plan::Project { input: Box::new(plan), exprs, cols: cols.clone() };
        }
        Ok((plan, cols))
    }

    /// Binds the FROM list (comma joins are cross joins).
    /// Binds a FROM clause; also returns the order in which `SELECT *`
    /// lists the scope's columns (positions into the scope): scope order,
    /// except that each USING/NATURAL join lists its coalesced columns
    /// first, in the order of the first table (the right one for RIGHT
    /// JOIN), then the first table's other columns, then the other's.
    pub(crate) fn bind_from_star(
        &mut self,
        from: &[TableWithJoins],
    ) -> Result<(Plan, Vec<OutCol>, Vec<usize>), BindError> {
        let mut aliases: Vec<String> = Vec::new();
        let mut acc: Option<(Plan, Vec<OutCol>, Vec<usize>)> = None;
        for twj in from {
            self.lateral_left = match &acc {
                Some((_, lc, _)) if twj.joins.is_empty() => lc.clone(),
                _ => Vec::new(),
            };
            let (p, c, st) = self.bind_table_with_joins(twj, &mut aliases)?;
            self.lateral_left.clear();
            acc = Some(match acc {
                None => (p, c, st),
                Some((lp, mut lc, mut lst)) if is_lateral(&p) => {
                    let off = lc.len();
                    lst.extend(st.into_iter().map(|i| i + off));
                    lc.extend(c);
                    (lateral_join(lp, p, false, None), lc, lst)
                }
                Some((lp, mut lc, mut lst)) => {
                    let off = lc.len();
                    lst.extend(st.into_iter().map(|i| i + off));
                    lc.extend(c);
                    (
                        Plan::Join {
                            left: Box::new(lp),
                            right: Box::new(p),
                            kind: JoinKind::Inner,
                            equi: vec![],
                            cond: None,
                        },
                        lc,
                        lst,
                    )
                }
            });
        }
        acc.ok_or_else(|| BindError::Internal("empty FROM".into()))
    }

    /// A FROM item and its `SELECT *` order (see `bind_from_star`).
    fn bind_factor_star(
        &mut self,
        tf: &TableFactor,
        aliases: &mut Vec<String>,
    ) -> Result<(Plan, Vec<OutCol>, Vec<usize>), BindError> {
        match tf {
            TableFactor::NestedJoin { table_with_joins, alias: None } => {
                self.bind_table_with_joins(table_with_joins, aliases)
            }
            other => {
                let (p, c) = self.bind_factor(other, aliases)?;
                let star = (0..c.len()).collect();
                Ok((p, c, star))
            }
        }
    }

    fn bind_table_with_joins(
        &mut self,
        twj: &TableWithJoins,
        aliases: &mut Vec<String>,
    ) -> Result<(Plan, Vec<OutCol>, Vec<usize>), BindError> {
        let refs_at_start = self.recursive_refs();
        let (mut plan, mut cols, mut star) = self.bind_factor_star(&twj.relation, aliases)?;
        for j in &twj.joins {
            let refs_before = self.recursive_refs();
            self.lateral_left = cols.clone();
            let bound = self.bind_factor_star(&j.relation, aliases);
            self.lateral_left.clear();
            let (rp, rc, rstar) = bound?;
            let right_refs = self.recursive_refs() > refs_before;
            let left_refs = refs_before > refs_at_start;
            let (kind, constraint, right_join) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::StraightJoin(c) => {
                    (JoinKind::Inner, c, false)
                }
                JoinOperator::CrossJoin(c) => (JoinKind::Inner, c, false),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, c, false),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinKind::Left, c, true),
                other => return Err(BindError::NotSupported(format!("join {other:?}").chars().take(60).collect())),
            };
            // The recursive table may not be the inner side of an outer join.
            if (kind == JoinKind::Left && !right_join && right_refs) || (right_join && left_refs) {
                return Err(self.forbidden_join_order());
            }
            let mut combined = cols.clone();
            combined.extend(rc.iter().cloned());
            let nl = cols.len();
            let mut using_pairs: Vec<(usize, usize)> = Vec::new();
            // ON is bound over the row the join evaluates it on (for a RIGHT
            // JOIN, which runs as the mirrored LEFT JOIN, right ++ left), and
            // that row is the block's scope meanwhile, so subqueries in ON
            // can correlate to the joined tables.
            let on_scope: Vec<OutCol> =
                if right_join { rc.iter().chain(cols.iter()).cloned().collect() } else { combined.clone() };
            let cond = match constraint {
                JoinConstraint::On(e) => {
                    let saved = self.blocks.last_mut().map(|b| std::mem::replace(&mut b.scope, on_scope.clone()));
                    let r = self.bind_scalar(e, &on_scope, ExprCtx::plain("on clause"));
                    if let (Some(b), Some(s)) = (self.blocks.last_mut(), saved) {
                        b.scope = s;
                    }
                    Some(r?)
                }
                JoinConstraint::None => None,
                JoinConstraint::Using(names) => {
                    let mut parts = Vec::new();
                    for n in names {
                        let name = n.0.last().map(|p| p.to_string()).unwrap_or_default();
                        let name = name.trim_matches('`').to_string();
                        let li = cols.iter().position(|c| !c.hidden && norm(&c.name) == norm(&name));
                        let ri = rc.iter().position(|c| norm(&c.name) == norm(&name));
                        match (li, ri) {
                            (Some(l), Some(r)) => {
                                using_pairs.push((l, r));
                                parts.push(Expr::Cmp {
                                    op: CmpOp::Eq,
                                    left: Box::new(Expr::Column { index: l, ty: cols[l].ty }),
                                    right: Box::new(Expr::Column { index: nl + r, ty: rc[r].ty }),
                                });
                            }
                            _ => return Err(BindError::UnknownColumn { name, clause: "from clause" }),
                        }
                    }
                    Expr::and_all(parts)
                }
                JoinConstraint::Natural => {
                    let mut parts = Vec::new();
                    for (r, rcol) in rc.iter().enumerate() {
                        if let Some(l) = cols.iter().position(|c| !c.hidden && norm(&c.name) == norm(&rcol.name)) {
                            using_pairs.push((l, r));
                            parts.push(Expr::Cmp {
                                op: CmpOp::Eq,
                                left: Box::new(Expr::Column { index: l, ty: cols[l].ty }),
                                right: Box::new(Expr::Column { index: nl + r, ty: rcol.ty }),
                            });
                        }
                    }
                    Expr::and_all(parts)
                }
                JoinConstraint::UsingAlias(..) => return Err(BindError::NotSupported("USING ... AS".into())),
            };
            // Columns named in USING/NATURAL appear once in SELECT *.
            let mut rc = rc;
            let mut left_cols = cols.clone();
            for (l, r) in &using_pairs {
                if right_join {
                    left_cols[*l].hidden = true;
                } else {
                    rc[*r].hidden = true;
                }
            }
            star = join_star(&star, &rstar, &using_pairs, right_join);
            if right_join && is_lateral(&rp) {
                return Err(BindError::NotSupported("RIGHT JOIN to a JSON_TABLE naming its left side".into()));
            }
            if right_join {
                // a RIGHT JOIN b == b LEFT JOIN a, with columns put back in order.
                let nr = rc.len();
                // USING/NATURAL conditions were built over left ++ right.
                let on = matches!(constraint, JoinConstraint::On(_));
                let cond = cond.map(|c| {
                    if on {
                        return c;
                    }
                    c.map(&mut |e| match e {
                        Expr::Column { index, ty } if index < nl => Expr::Column { index: index + nr, ty },
                        Expr::Column { index, ty } => Expr::Column { index: index - nl, ty },
                        o => o,
                    })
                });
                let joined =
                    Plan::Join { left: Box::new(rp), right: Box::new(plan), kind: JoinKind::Left, equi: vec![], cond };
                let mut out_cols: Vec<OutCol> = left_cols
                    .iter()
                    .cloned()
                    .map(|mut c| {
                        c.nullable = true;
                        c
                    })
                    .collect();
                out_cols.extend(rc.iter().cloned());
                let exprs: Vec<Expr> = (0..nl)
                    .map(|i| Expr::Column { index: nr + i, ty: left_cols[i].ty })
                    .chain((0..nr).map(|i| Expr::Column { index: i, ty: rc[i].ty }))
                    .collect();
                plan = Plan::Project { input: Box::new(joined), exprs, cols: out_cols.clone() };
                cols = out_cols;
            } else if is_lateral(&rp) {
                plan = lateral_join(plan, rp, kind == JoinKind::Left, cond);
                let mut out = left_cols;
                out.extend(rc.into_iter().map(|mut c| {
                    c.nullable = true;
                    c
                }));
                cols = out;
            } else {
                plan = Plan::Join { left: Box::new(plan), right: Box::new(rp), kind, equi: vec![], cond };
                let mut out = left_cols;
                out.extend(rc.into_iter().map(|mut c| {
                    if kind == JoinKind::Left {
                        c.nullable = true;
                    }
                    c
                }));
                cols = out;
            }
        }
        Ok((plan, cols, star))
    }

    fn register_alias(aliases: &mut Vec<String>, a: &str) -> Result<(), BindError> {
        let l = norm(a);
        if aliases.contains(&l) {
            return Err(BindError::NonUniqueTable(a.to_string()));
        }
        aliases.push(l);
        Ok(())
    }

    fn bind_factor(&mut self, tf: &TableFactor, aliases: &mut Vec<String>) -> Result<(Plan, Vec<OutCol>), BindError> {
        match tf {
            TableFactor::Table { name, alias, args, .. } => {
                if args.is_some() {
                    return Err(BindError::NotSupported("table functions".into()));
                }
                let alias_name = alias.as_ref().map(|a| a.name.value.clone());
                // CTEs shadow tables.
                if name.0.len() == 1 {
                    let n = norm(name.0[0].to_string().trim_matches('`'));
                    let found = self.ctes.iter().rev().find_map(|m| m.get(&n).cloned());
                    if let Some(cte) = found {
                        let a = alias_name.unwrap_or_else(|| name.0[0].to_string().trim_matches('`').to_string());
                        Self::register_alias(aliases, &a)?;
                        if let Some(k) = cte.recursive {
                            return self.recursive_reference(k, &a);
                        }
                        let cols: Vec<OutCol> =
                            cte.cols.iter().map(|c| OutCol { table: Some(a.clone()), ..c.clone() }).collect();
                        return Ok((cte.plan, cols));
                    }
                }
                let (schema, tname) = self.object_name(name)?;
                if norm(&schema) == "information_schema" {
                    let a = alias_name.unwrap_or_else(|| tname.clone());
                    Self::register_alias(aliases, &a)?;
                    return self.information_schema(&tname, &a);
                }
                if norm(&schema) == "performance_schema" {
                    let a = alias_name.unwrap_or_else(|| tname.clone());
                    Self::register_alias(aliases, &a)?;
                    return self.performance_schema(&tname, &a);
                }
                let rel = self.require_relation(&schema, &tname)?;
                let a = alias_name.unwrap_or_else(|| tname.clone());
                Self::register_alias(aliases, &a)?;
                match rel {
                    Relation::Table(t) => {
                        let cols: Vec<OutCol> = t.columns.iter().map(|c| super::dml::table_column(&t, c, &a)).collect();
                        let mut cols = cols;
                        // A multi-table UPDATE/DELETE's own FROM clause: the
                        // scan emits row keys (plan::ROWKEY_COLUMN).
                        let depth = self.blocks.len();
                        if let Some((d, tables)) = &mut self.rowkey_scans {
                            if *d == depth {
                                cols.push(crate::plan::rowkey_column(&a));
                                tables.push((a.clone(), t.clone()));
                            }
                        }
                        Ok((
                            Plan::Scan {
                                table: t,
                                alias: a,
                                access: Access::Full,
                                filter: None,
                                cols: cols.clone(),
                                lock: LockMode::None,
                                desc: false,
                            },
                            cols,
                        ))
                    }
                    Relation::View(v) => {
                        let key = (norm(&v.schema), norm(&v.name));
                        if self.views.contains(&key) || self.views.len() > 32 {
                            return Err(BindError::ViewInvalid {
                                schema: v.schema.clone(),
                                name: v.name.clone(),
                                why: "the view refers to itself".into(),
                            });
                        }
                        let parsed = crate::parse::parse(&v.sql)?;
                        let q = match parsed.statements().as_slice() {
                            [sqlparser::ast::Statement::Query(q)] => q.clone(),
                            _ => {
                                return Err(BindError::ViewInvalid {
                                    schema: v.schema.clone(),
                                    name: v.name.clone(),
                                    why: "stored definition is not a query".into(),
                                })
                            }
                        };
                        let mut vb = Binder::new(self.cat);
                        vb.views = self.views.clone();
                        vb.views.push(key);
                        let (plan, cols) = vb.bind_query(&q).map_err(|e| match e {
                            e @ (BindError::NoSuchTable { .. } | BindError::UnknownColumn { .. }) => {
                                BindError::ViewInvalid {
                                    schema: v.schema.clone(),
                                    name: v.name.clone(),
                                    why: e.to_string(),
                                }
                            }
                            e => e,
                        })?;
                        let mut cols: Vec<OutCol> =
                            cols.into_iter().map(|c| OutCol { table: Some(a.clone()), hidden: false, ..c }).collect();
                        if !v.columns.is_empty() {
                            if v.columns.len() != cols.len() {
                                return Err(BindError::ViewInvalid {
                                    schema: v.schema.clone(),
                                    name: v.name.clone(),
                                    why: "column list does not match the query".into(),
                                });
                            }
                            for (c, n) in cols.iter_mut().zip(&v.columns) {
                                c.name = n.clone();
                            }
                        }
                        Ok((plan, cols))
                    }
                }
            }
            TableFactor::Derived { subquery, alias, lateral, .. } => {
                if *lateral {
                    return Err(BindError::NotSupported("LATERAL".into()));
                }
                let alias = alias.as_ref().ok_or(BindError::DerivedMustHaveAlias)?;
                let a = alias.name.value.clone();
                Self::register_alias(aliases, &a)?;
                let (plan, cols) = self.bind_query(subquery)?;
                let mut cols: Vec<OutCol> =
                    cols.into_iter().map(|c| OutCol { table: Some(a.clone()), hidden: false, ..c }).collect();
                if !alias.columns.is_empty() {
                    if alias.columns.len() != cols.len() {
                        return Err(BindError::WrongArguments(format!("column list of derived table '{a}'")));
                    }
                    for (c, n) in cols.iter_mut().zip(&alias.columns) {
                        c.name = n.name.value.clone();
                    }
                }
                let mut seen: Vec<String> = Vec::new();
                for c in &cols {
                    let l = norm(&c.name);
                    if seen.contains(&l) {
                        return Err(BindError::DuplicateColumn(c.name.clone()));
                    }
                    seen.push(l);
                }
                Ok((plan, cols))
            }
            TableFactor::NestedJoin { table_with_joins, alias } => {
                if alias.is_some() {
                    return Err(BindError::NotSupported("alias on a parenthesized join".into()));
                }
                self.bind_table_with_joins(table_with_joins, aliases).map(|(p, c, _)| (p, c))
            }
            TableFactor::JsonTable { json_expr, json_path, columns, alias } => {
                let left = std::mem::take(&mut self.lateral_left);
                let (def, doc, jcols, lateral) = self.bind_json_table(json_expr, json_path, columns, alias, &left)?;
                if let Some(a) = alias {
                    Self::register_alias(aliases, &a.name.value)?;
                }
                if lateral {
                    // Joined to the FROM items on its left where they are
                    // joined (`lateral_join`); until then its input is a
                    // placeholder with their columns.
                    let mut cols = left.clone();
                    cols.extend(jcols.iter().cloned());
                    let input = Box::new(Plan::Empty { cols: left });
                    return Ok((Plan::JsonTable { input, doc, def, outer: false, cond: None, cols }, jcols));
                }
                Ok((super::json_table::standalone(def, doc, jcols.clone()), jcols))
            }
            other => Err(BindError::NotSupported(format!("FROM item {other}"))),
        }
    }
}

/// A JSON_TABLE bound over the columns to its left (its input still the
/// placeholder `bind_factor` gave it).
fn is_lateral(p: &Plan) -> bool {
    matches!(p, Plan::JsonTable { input, .. } if matches!(**input, Plan::Empty { .. }))
}

/// Joins a lateral JSON_TABLE `right` to `left`: the table reads each row
/// of `left` (`cond` over left ++ table, `outer` for LEFT JOIN).
fn lateral_join(left: Plan, right: Plan, outer: bool, cond: Option<Expr>) -> Plan {
    match right {
        Plan::JsonTable { doc, def, cols, .. } => {
            Plan::JsonTable { input: Box::new(left), doc, def, outer, cond, cols }
        }
        other => other,
    }
}

/// The name of the first window function in `e`, if any.
fn first_window(e: &Expr) -> Option<&'static str> {
    let mut name = None;
    e.walk(&mut |x| {
        if let Expr::Window(w) = x {
            name.get_or_insert(w.func.name());
        }
    });
    name
}

/// The `SELECT *` order of a join's output (left ++ right positions) from
/// its sides' orders and its USING/NATURAL pairs (see `bind_from_star`).
fn join_star(left: &[usize], right: &[usize], pairs: &[(usize, usize)], right_join: bool) -> Vec<usize> {
    let nl = left.len();
    let right: Vec<usize> = right.iter().map(|&i| i + nl).collect();
    if pairs.is_empty() {
        return left.iter().chain(&right).copied().collect();
    }
    let (first, other, common): (&[usize], &[usize], Vec<usize>) = if right_join {
        (&right, left, pairs.iter().map(|&(_, r)| r + nl).collect())
    } else {
        (left, &right, pairs.iter().map(|&(l, _)| l).collect())
    };
    // Coalesced columns in the first table's order, then the rest.
    let mut out: Vec<usize> = first.iter().copied().filter(|i| common.contains(i)).collect();
    out.extend(first.iter().copied().filter(|i| !common.contains(i)));
    out.extend(other.iter().copied());
    out
}
