//! Binding `WITH RECURSIVE`: splitting a CTE's UNION into anchor and
//! recursive query blocks, checking MySQL's rules on recursive references,
//! and building `Plan::RecursiveCte`.
//!
//! While a CTE of a WITH RECURSIVE clause is bound, its name resolves to a
//! marker (`CteDef::recursive`); a FROM item naming it becomes a
//! `Plan::WorkTable`. The CTE's query must be a chain of UNION blocks whose
//! first blocks do not refer to it (anchors) and whose remaining blocks do
//! (recursive blocks).
//!
//! Invariants:
//! 1. The CTE's column types are those of the anchors' UNION (nullable);
//!    recursive blocks are checked against them only by width here, and
//!    their values are converted at run time (the operator's invariant 2).
//! 2. A recursive block refers to the CTE exactly once, in its own FROM
//!    clause (not in a subquery or derived table: 3577), not on the inner
//!    side of an outer join (3576), and has no aggregation or window
//!    function (3575), DISTINCT, ORDER BY or LIMIT (1235). A CTE that refers
//!    to itself but is not a UNION is 3573; a reference before any anchor,
//!    or an anchor after a recursive block, is 3574.
//! 3. A CTE of a WITH RECURSIVE clause that never refers to itself is bound
//!    as an ordinary CTE.

use mizzle_types::{SqlType, Value};
use sqlparser::ast::{self, SetExpr, SetOperator, SetQuantifier};

use super::expr::coerce;
use super::{norm, Binder, CteDef};
use crate::error::BindError;
use crate::expr::Expr;
use crate::plan::{OutCol, Plan, SetOpKind};
use crate::typing::unify;

/// The default of `cte_max_recursion_depth`.
const DEFAULT_MAX_DEPTH: u64 = 1000;

/// A recursive CTE whose definition is being bound.
pub(crate) struct RecCtx {
    pub(crate) name: String,
    pub(crate) id: usize,
    /// The CTE's columns, once the anchors are bound.
    pub(crate) cols: Option<Vec<OutCol>>,
    /// The query is a UNION chain (else a self-reference is 3573).
    pub(crate) in_union: bool,
    /// `Binder::blocks.len()` inside the query block being bound: a
    /// reference made at another depth is inside a subquery.
    pub(crate) block_depth: Option<usize>,
    /// References made by the block being bound.
    pub(crate) refs: usize,
    /// The block being bound aggregates or has window functions.
    pub(crate) block_aggregates: bool,
}

/// Splits a left-deep UNION chain into blocks and the DISTINCT flag of
/// each operator between them.
fn union_chain<'q>(e: &'q SetExpr, blocks: &mut Vec<&'q SetExpr>, distinct: &mut Vec<bool>) {
    match e {
        SetExpr::SetOperation { left, op: SetOperator::Union, set_quantifier, right } => {
            union_chain(left, blocks, distinct);
            distinct.push(!matches!(set_quantifier, SetQuantifier::All | SetQuantifier::AllByName));
            blocks.push(right);
        }
        other => blocks.push(other),
    }
}

fn not_in_recursive_block(what: &str) -> BindError {
    BindError::NotSupported(format!("{what} in recursive query block of Common Table Expression"))
}

impl Binder<'_> {
    /// The recursive reference a FROM item names, as a work table (or the
    /// error invariant 2 gives).
    pub(crate) fn recursive_reference(&mut self, k: usize, alias: &str) -> Result<(Plan, Vec<OutCol>), BindError> {
        let depth = self.blocks.len();
        let Some(rc) = self.rec.get_mut(k) else {
            return Err(BindError::Internal("recursive CTE marker without context".into()));
        };
        let Some(cols) = rc.cols.clone() else {
            return Err(if rc.in_union {
                BindError::CteRecursiveRequiresNonRecursiveFirst(rc.name.clone())
            } else {
                BindError::CteRecursiveRequiresUnion(rc.name.clone())
            });
        };
        rc.refs += 1;
        if rc.block_depth != Some(depth) || rc.refs > 1 {
            return Err(BindError::CteRecursiveRequiresSingleReference(rc.name.clone()));
        }
        let cols: Vec<OutCol> = cols.into_iter().map(|c| OutCol { table: Some(alias.to_string()), ..c }).collect();
        Ok((Plan::WorkTable { id: rc.id, cols: cols.clone() }, cols))
    }

    /// Recursive references made so far by the definitions being bound
    /// (to find one on the inner side of an outer join).
    pub(crate) fn recursive_refs(&self) -> usize {
        self.rec.iter().map(|r| r.refs).sum()
    }

    /// 3576 for the innermost recursive CTE being bound.
    pub(crate) fn forbidden_join_order(&self) -> BindError {
        BindError::CteRecursiveForbiddenJoinOrder(self.rec.last().map(|r| r.name.clone()).unwrap_or_default())
    }

    /// Binds one CTE of a WITH RECURSIVE clause (invariant 3 for those that
    /// are not recursive).
    pub(crate) fn bind_recursive_cte(&mut self, cte: &ast::Cte) -> Result<CteDef, BindError> {
        let name = cte.alias.name.value.clone();
        let params_before = (self.params, self.param_pos.len());
        let mut blocks = Vec::new();
        let mut distinct = Vec::new();
        union_chain(&cte.query.body, &mut blocks, &mut distinct);
        let id = self.next_cte_id();
        let k = self.rec.len();
        self.rec.push(RecCtx {
            name: name.clone(),
            id,
            cols: None,
            in_union: blocks.len() > 1,
            block_depth: None,
            refs: 0,
            block_aggregates: false,
        });
        let key = norm(&name);
        let marker = CteDef { plan: Plan::Empty { cols: vec![] }, cols: vec![], recursive: Some(k) };
        let shadowed = self.ctes.last_mut().and_then(|m| m.insert(key.clone(), marker));
        let r = if blocks.len() > 1 {
            self.bind_recursive_union(cte, &blocks, &distinct, k, params_before)
        } else {
            self.bind_query(&cte.query).and_then(|(plan, cols)| self.rename_cte_columns(cte, plan, cols))
        };
        if let Some(m) = self.ctes.last_mut() {
            match shadowed {
                Some(old) => m.insert(key, old),
                None => m.remove(&key),
            };
        }
        self.rec.pop();
        r
    }

    fn rename_cte_columns(&self, cte: &ast::Cte, plan: Plan, mut cols: Vec<OutCol>) -> Result<CteDef, BindError> {
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
        Ok(CteDef { plan, cols, recursive: None })
    }

    fn bind_recursive_union(
        &mut self,
        cte: &ast::Cte,
        blocks: &[&SetExpr],
        distinct_ops: &[bool],
        k: usize,
        params_before: (usize, usize),
    ) -> Result<CteDef, BindError> {
        let name = cte.alias.name.value.clone();
        let mut anchors: Vec<(Plan, Vec<OutCol>)> = Vec::new();
        let mut recursive: Vec<Plan> = Vec::new();
        let mut first_recursive: Option<usize> = None;
        let mut cols: Vec<OutCol> = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            let depth = self.blocks.len() + 1;
            if let Some(rc) = self.rec.get_mut(k) {
                rc.cols = if anchors.is_empty() { None } else { Some(cols.clone()) };
                rc.block_depth = Some(depth);
                rc.refs = 0;
                rc.block_aggregates = false;
            }
            // Rounds are converted to the CTE's types by value: session time.
            let (plan, bcols) = super::query::localize_plan(self.bind_set_expr(b)?);
            let (refs, aggregates) = self.rec.get(k).map(|r| (r.refs, r.block_aggregates)).unwrap_or((0, false));
            if refs == 0 {
                if first_recursive.is_some() {
                    return Err(BindError::CteRecursiveRequiresNonRecursiveFirst(name));
                }
                anchors.push((plan, bcols));
                cols = self.anchor_columns(cte, &anchors)?;
                continue;
            }
            first_recursive.get_or_insert(i);
            if aggregates {
                return Err(BindError::CteRecursiveForbidsAggregation(name));
            }
            match b {
                SetExpr::Select(sel) if matches!(sel.distinct, Some(ast::Distinct::Distinct)) => {
                    return Err(not_in_recursive_block("ORDER BY / LIMIT / SELECT DISTINCT"))
                }
                SetExpr::Query(q) if q.order_by.is_some() || q.limit_clause.is_some() => {
                    return Err(not_in_recursive_block("ORDER BY / LIMIT / SELECT DISTINCT"))
                }
                _ => {}
            }
            if bcols.len() != cols.len() {
                return Err(BindError::SetOpWidth);
            }
            recursive.push(plan);
        }
        let Some(first) = first_recursive else {
            // Never refers to itself: an ordinary UNION, bound again as a
            // whole (its `?` parameters counted once).
            self.params = params_before.0;
            self.param_pos.truncate(params_before.1);
            let (plan, cols) = self.bind_query(&cte.query)?;
            return self.rename_cte_columns(cte, plan, cols);
        };
        // UNION DISTINCT anywhere from the anchors' end on makes the whole
        // CTE distinct; MySQL refuses a DISTINCT whose right-hand recursive
        // block is followed by UNION ALL blocks.
        let last_distinct = distinct_ops.iter().rposition(|d| *d);
        let distinct = last_distinct.is_some_and(|j| j + 1 >= first);
        if let Some(j) = last_distinct {
            if j + 1 >= first && j + 2 < blocks.len() {
                return Err(BindError::NotSupported(
                    "recursive query blocks with UNION DISTINCT then UNION ALL, in recursive Common Table Expression"
                        .into(),
                ));
            }
        }
        if cte.query.order_by.is_some() {
            return Err(BindError::NotSupported("ORDER BY over UNION in recursive Common Table Expression".into()));
        }
        let (limit, offset) = self.recursive_limit(cte.query.limit_clause.as_ref())?;
        // The anchors as one UNION conformed to the CTE's types.
        let mut anchor: Option<Plan> = None;
        for (i, (p, pc)) in anchors.into_iter().enumerate() {
            let p = conform(p, &pc, &cols);
            anchor = Some(match anchor {
                None => p,
                Some(left) => Plan::SetOp {
                    kind: SetOpKind::Union,
                    all: !distinct_ops.get(i - 1).copied().unwrap_or(false),
                    left: Box::new(left),
                    right: Box::new(p),
                    cols: cols.clone(),
                },
            });
        }
        let anchor = anchor.ok_or_else(|| BindError::Internal("recursive CTE without anchors".into()))?;
        let max_depth = match self.cat.system_variable("cte_max_recursion_depth", false) {
            Some(Value::Int(i)) => u64::try_from(i).unwrap_or(0),
            Some(Value::UInt(u)) => u,
            Some(Value::Text(t)) => t.trim().parse().unwrap_or(DEFAULT_MAX_DEPTH),
            _ => DEFAULT_MAX_DEPTH,
        };
        let plan = Plan::RecursiveCte {
            id: self.rec.get(k).map(|r| r.id).unwrap_or(0),
            name,
            anchor: Box::new(anchor),
            recursive,
            distinct,
            limit,
            offset,
            max_depth,
            cols: cols.clone(),
        };
        Ok(CteDef { plan, cols, recursive: None })
    }

    /// The CTE's columns from its anchors (invariant 1): UNION types,
    /// nullable, named by the column list or the first anchor.
    fn anchor_columns(&self, cte: &ast::Cte, anchors: &[(Plan, Vec<OutCol>)]) -> Result<Vec<OutCol>, BindError> {
        let first = &anchors[0].1;
        let mut cols: Vec<OutCol> = first
            .iter()
            .map(|c| OutCol {
                name: c.name.clone(),
                table: None,
                origin: None,
                ty: c.ty,
                nullable: true,
                hidden: false,
                collation: c.collation,
            })
            .collect();
        for (_, other) in &anchors[1..] {
            if other.len() != cols.len() {
                return Err(BindError::SetOpWidth);
            }
            for (c, o) in cols.iter_mut().zip(other) {
                c.ty = unify(c.ty, o.ty);
            }
        }
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
        Ok(cols)
    }

    fn recursive_limit(&mut self, l: Option<&ast::LimitClause>) -> Result<(Option<Expr>, Option<Expr>), BindError> {
        let Some(l) = l else { return Ok((None, None)) };
        let p = self.apply_limit(Plan::Empty { cols: vec![] }, Some(l))?;
        Ok(match p {
            Plan::Limit { limit, offset, .. } => (limit, offset),
            _ => (None, None),
        })
    }
}

/// Converts a plan's columns to the CTE's types where their kinds differ.
fn conform(p: Plan, pc: &[OutCol], cols: &[OutCol]) -> Plan {
    if pc.iter().zip(cols).all(|(a, b)| a.ty == b.ty) {
        return p;
    }
    let exprs = pc
        .iter()
        .enumerate()
        .map(|(i, c)| coerce(Expr::Column { index: i, ty: c.ty }, cols.get(i).map(|x| x.ty).unwrap_or(SqlType::Null)))
        .collect();
    Plan::Project { input: Box::new(p), exprs, cols: cols.to_vec() }
}
