//! Physical planning: turns a logical plan into a tree of operators, and
//! the simple operators (values, filter, project, limit, distinct, set
//! operations, empty).
//!
//! Invariants:
//! 1. Operators produce batches of at most [`BATCH`] rows; an empty batch
//!    is never returned (end of data is `None`).
//! 2. Constant subexpressions are folded once here when folding raises no
//!    warning and no error, so per-row evaluation never repeats them.
//! 3. Scans decode only the columns some operator above them reads (the
//!    others are NULL in their rows). An expression holding a subquery
//!    counts as reading every column, so correlated references are never
//!    missed.

use mizzle_sql::expr::Expr;
use mizzle_sql::plan::{JoinKind, Plan, SetOpKind};
use mizzle_types::{GroupKey, Value};
use recursive::recursive;

use crate::compile::Compiled;
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;
use crate::ops::agg::AggOp;
use crate::ops::hashkey::{KeyMap, KeySet};
use crate::ops::join::{HashJoinOp, LookupJoinOp, NestedLoopOp};
use crate::ops::recursive::{RecursiveCteOp, WorkTableOp};
use crate::ops::scan::ScanOp;
use crate::ops::sort::SortOp;
use crate::ops::system::system_rows;
use crate::ops::window::WindowOp;

/// A row of values.
pub type Row = Vec<Value>;

/// Rows per batch.
pub const BATCH: usize = 1024;

/// A physical operator. `Send`: a streaming statement's operator tree
/// moves between worker threads with its session (it borrows nothing; the
/// context is passed to each call).
pub trait Operator: Send {
    /// The next batch (never empty), or `None` at the end.
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError>;

    /// Rewinds the operator and its inputs to their state just after they
    /// were built, to run again for a later execution of the same plan (a
    /// prepared statement: [`Reusable`]). False if it cannot (the default):
    /// the caller then builds a new tree.
    fn reset(&mut self) -> bool {
        false
    }

    /// Takes back a batch this operator returned, once the consumer is
    /// done with it, so that its row vectors can hold later rows instead of
    /// being freed and allocated again (a scan feeding an aggregation
    /// reuses the same few thousand vectors however many rows it reads).
    /// Rows may come back cleared, partly emptied or untouched. The
    /// default drops them.
    fn recycle(&mut self, batch: Vec<Row>) {
        drop(batch);
    }

    /// Tells the operator that at most `rows` of its rows will be read (a
    /// LIMIT above it), before its first `next`. Only a size hint: the
    /// operator still returns every row asked for. An operator that returns
    /// its input's rows one for one passes it on; a scan then reads its
    /// first storage batch no larger. The default ignores it.
    fn limit_hint(&mut self, rows: usize) {
        let _ = rows;
    }
}

/// Spare row vectors, cleared, kept by an operator that builds rows
/// (bounded: at most two batches' worth).
#[derive(Default)]
pub struct SpareRows(Vec<Row>);

impl SpareRows {
    /// An empty row with room for `width` values: a spare one if any.
    pub fn take(&mut self, width: usize) -> Row {
        match self.0.pop() {
            Some(mut r) => {
                r.reserve(width);
                r
            }
            None => Vec::with_capacity(width),
        }
    }

    /// Keeps the vectors of `rows` (their values dropped).
    pub fn keep(&mut self, rows: impl IntoIterator<Item = Row>) {
        for mut r in rows {
            if self.0.len() >= 2 * BATCH {
                return;
            }
            r.clear();
            self.0.push(r);
        }
    }
}

/// Visits every expression attached to the plan's nodes (not entering
/// subquery plans).
pub fn visit_plan_exprs(p: &Plan, f: &mut dyn FnMut(&Expr)) {
    use mizzle_sql::plan::Access;
    match p {
        Plan::Values { rows, .. } => rows.iter().flatten().for_each(&mut *f),
        Plan::Scan { filter, access, .. } => {
            if let Some(e) = filter {
                f(e);
            }
            if let Access::Primary(rs) | Access::Index { ranges: rs, .. } = access {
                for r in rs {
                    r.eq.iter().for_each(&mut *f);
                    if let Some((e, _)) = &r.lower {
                        f(e);
                    }
                    if let Some((e, _)) = &r.upper {
                        f(e);
                    }
                }
            }
        }
        Plan::Filter { input, pred } => {
            visit_plan_exprs(input, f);
            f(pred);
        }
        Plan::Project { input, exprs, .. } => {
            visit_plan_exprs(input, f);
            exprs.iter().for_each(f);
        }
        Plan::Join { left, right, equi, cond, .. } => {
            visit_plan_exprs(left, f);
            visit_plan_exprs(right, f);
            for (a, b) in equi {
                f(a);
                f(b);
            }
            if let Some(c) = cond {
                f(c);
            }
        }
        Plan::Aggregate { input, groups, aggs, .. } => {
            visit_plan_exprs(input, f);
            groups.iter().for_each(&mut *f);
            for a in aggs {
                a.args.iter().for_each(&mut *f);
                for k in &a.order_by {
                    f(&k.expr);
                }
            }
        }
        Plan::Sort { input, keys } => {
            visit_plan_exprs(input, f);
            for k in keys {
                f(&k.expr);
            }
        }
        Plan::Limit { input, limit, offset } => {
            visit_plan_exprs(input, f);
            if let Some(e) = limit {
                f(e);
            }
            if let Some(e) = offset {
                f(e);
            }
        }
        Plan::Distinct { input } => visit_plan_exprs(input, f),
        Plan::SetOp { left, right, .. } => {
            visit_plan_exprs(left, f);
            visit_plan_exprs(right, f);
        }
        Plan::Window { input, windows, .. } => {
            visit_plan_exprs(input, f);
            for w in windows {
                w.partition_by.iter().for_each(&mut *f);
                for k in &w.order_by {
                    f(&k.expr);
                }
                for c in &w.calls {
                    c.args.iter().for_each(&mut *f);
                }
            }
        }
        Plan::RecursiveCte { anchor, recursive, limit, offset, .. } => {
            visit_plan_exprs(anchor, f);
            for r in recursive {
                visit_plan_exprs(r, f);
            }
            if let Some(e) = limit {
                f(e);
            }
            if let Some(e) = offset {
                f(e);
            }
        }
        Plan::System { .. } | Plan::Empty { .. } | Plan::WorkTable { .. } => {}
        Plan::JsonTable { input, doc, cond, .. } => {
            visit_plan_exprs(input, f);
            f(doc);
            if let Some(c) = cond {
                f(c);
            }
        }
    }
}

/// Folds constant subexpressions (invariant 2).
pub fn fold(e: &Expr, ctx: &mut Ctx<'_>) -> Expr {
    if matches!(e, Expr::Literal(..)) {
        return e.clone();
    }
    if e.is_constant() {
        ctx.folded = true;
        let before = ctx.warnings.len();
        let strict = ctx.strict;
        ctx.strict = true;
        let r = eval(e, &[], ctx);
        ctx.strict = strict;
        let warned = ctx.warnings.len() != before;
        ctx.warnings.truncate(before);
        if let (Ok(v), false) = (r, warned) {
            return Expr::Literal(v, e.ty());
        }
        return e.clone();
    }
    e.clone().map_children(&mut |c| fold(&c, ctx))
}

/// Which columns of a node's output the operators above it read (`None`:
/// all of them). Invariant 3.
type Needs = Option<Vec<bool>>;

/// Marks the columns `e` reads as needed.
fn mark(e: &Expr, needs: &mut Needs) {
    let Some(v) = needs else { return };
    let mut all = false;
    e.walk(&mut |x| all |= matches!(x, Expr::Subquery(_)));
    let mut cols = Vec::new();
    e.columns_used(&mut cols);
    for c in cols {
        match v.get_mut(c) {
            Some(slot) => *slot = true,
            None => all = true,
        }
    }
    if all {
        *needs = None;
    }
}

/// Nothing needed yet from a node of `width` columns.
fn none_of(width: usize) -> Needs {
    Some(vec![false; width])
}

/// Builds the operator tree of a plan.
pub fn build(plan: &Plan, ctx: &mut Ctx<'_>) -> Result<Box<dyn Operator>, ExecError> {
    build_needing(plan, None, ctx)
}

/// Builds the operator tree of a plan whose parent reads `needs`.
#[recursive]
fn build_needing(plan: &Plan, mut needs: Needs, ctx: &mut Ctx<'_>) -> Result<Box<dyn Operator>, ExecError> {
    Ok(match plan {
        Plan::Values { rows, .. } => {
            let rows = rows.iter().map(|r| r.iter().map(|e| fold(e, ctx)).collect()).collect();
            Box::new(ValuesOp { rows, done: false })
        }
        Plan::Scan { table, access, filter, lock, cols, desc, .. } => {
            let filter = filter.as_ref().map(|f| fold(f, ctx));
            if let Some(f) = &filter {
                mark(f, &mut needs);
            }
            let scan = ScanOp::new(table.clone(), access.clone(), filter)
                .with_lock(*lock)
                .with_columns(needs)
                .with_desc(*desc);
            // A multi-table UPDATE/DELETE's scan: its last column is the row key.
            if mizzle_sql::plan::scan_emits_rowkey(table, cols) {
                Box::new(scan.with_rowkey())
            } else {
                Box::new(scan)
            }
        }
        Plan::Filter { input, pred } => {
            let pred = fold(pred, ctx);
            if let Expr::Literal(v, _) = &pred {
                if v.truth() != Some(true) {
                    return Ok(Box::new(EmptyOp));
                }
                return build_needing(input, needs, ctx);
            }
            mark(&pred, &mut needs);
            Box::new(FilterOp { input: build_needing(input, needs, ctx)?, pred: Compiled::new(pred) })
        }
        Plan::Project { input, exprs, .. } => {
            let exprs: Vec<Expr> = exprs.iter().map(|e| fold(e, ctx)).collect();
            let mut below = none_of(input.width());
            for e in &exprs {
                mark(e, &mut below);
            }
            Box::new(ProjectOp::new(build_needing(input, below, ctx)?, exprs))
        }
        Plan::Join { left, right, kind, equi, cond } => {
            let cond = cond.as_ref().map(|c| fold(c, ctx));
            let (lw, rw) = (left.width(), right.width());
            if let Some(c) = &cond {
                mark(c, &mut needs);
            }
            let above = needs.clone().filter(|v| v.len() == lw + rw);
            let (mut ln, mut rn) = match &needs {
                Some(v) if v.len() == lw + rw => (Some(v[..lw].to_vec()), Some(v[lw..].to_vec())),
                _ => (None, None),
            };
            for (a, b) in equi {
                mark(a, &mut ln);
                mark(b, &mut rn);
            }
            let l = build_needing(left, ln, ctx)?;
            let right_width = rw;
            if let Some(lookup) = mizzle_sql::optimize::lookup_join(left, right, *kind, equi) {
                // Optimizer rule 5; the equalities are in the right scan.
                let r = build_needing(&lookup, rn, ctx)?;
                return Ok(Box::new(LookupJoinOp::new(l, r, *kind, cond, right_width)));
            }
            let r = build_needing(right, rn, ctx)?;
            if equi.is_empty() {
                Box::new(NestedLoopOp::new(l, r, *kind, cond, right_width))
            } else {
                let equi = equi.iter().map(|(a, b)| (fold(a, ctx), fold(b, ctx))).collect();
                Box::new(HashJoinOp::new(l, r, *kind, equi, cond, right_width, above.as_deref()))
            }
        }
        Plan::Aggregate { input, groups, aggs, .. } => {
            let groups: Vec<Expr> = groups.iter().map(|g| fold(g, ctx)).collect();
            let mut below = none_of(input.width());
            for e in &groups {
                mark(e, &mut below);
            }
            for a in aggs {
                a.args.iter().chain(a.order_by.iter().map(|k| &k.expr)).for_each(|e| mark(e, &mut below));
            }
            let ordered = mizzle_sql::optimize::groups_in_key_order(input, &groups);
            Box::new(AggOp::new(build_needing(input, below, ctx)?, groups, aggs.clone()).streaming(ordered))
        }
        Plan::Sort { input, keys } => {
            for k in keys {
                mark(&k.expr, &mut needs);
            }
            Box::new(SortOp::new(build_needing(input, needs, ctx)?, keys.clone()))
        }
        Plan::Limit { input, limit, offset } => {
            let count = |e: &Option<Expr>, ctx: &mut Ctx<'_>| -> Result<Option<u64>, ExecError> {
                match e {
                    None => Ok(None),
                    Some(e) => {
                        // A `LIMIT ?` is read here, once: not a tree to keep.
                        ctx.folded |= !matches!(e, Expr::Literal(..));
                        let v = eval(e, &[], ctx)?;
                        match v {
                            Value::Int(i) if i >= 0 => Ok(Some(i as u64)),
                            Value::UInt(u) => Ok(Some(u)),
                            other => Err(ExecError::Type(mizzle_types::TypeError::BadLiteral {
                                ty: "LIMIT",
                                value: other.to_text_lossy(),
                            })),
                        }
                    }
                }
            };
            let limit = count(limit, ctx)?;
            let offset = count(offset, ctx)?.unwrap_or(0);
            if limit == Some(0) {
                return Ok(Box::new(EmptyOp));
            }
            // ORDER BY ... LIMIT: the sort only needs the rows the limit keeps.
            let input_op: Box<dyn Operator> = match (input.as_ref(), limit) {
                (Plan::Sort { input: sorted, keys }, Some(l)) => {
                    for k in keys {
                        mark(&k.expr, &mut needs);
                    }
                    let top = usize::try_from(l.saturating_add(offset)).ok();
                    Box::new(SortOp::new(build_needing(sorted, needs, ctx)?, keys.clone()).with_top(top))
                }
                _ => build_needing(input, needs, ctx)?,
            };
            let mut input_op = input_op;
            if let Some(rows) = limit.and_then(|l| usize::try_from(l.saturating_add(offset)).ok()) {
                input_op.limit_hint(rows);
            }
            Box::new(LimitOp { input: input_op, skip: offset, left: limit, start: (offset, limit) })
        }
        Plan::Distinct { input } => Box::new(DistinctOp { input: build(input, ctx)?, seen: KeySet::default() }),
        Plan::SetOp { kind, all, left, right, cols } => {
            // Text columns under a collation other than LEGACY compare by
            // their weight strings, as DISTINCT does.
            let weights = cols
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.collation.filter(|&k| k != mizzle_types::Collation::LEGACY).map(|k| (i, k)))
                .collect();
            Box::new(SetOp::new(*kind, *all, build(left, ctx)?, build(right, ctx)?, weights))
        }
        Plan::System { table, .. } => {
            let rows = system_rows(table, ctx)?;
            Box::new(RowsOp { rows: Some(rows) })
        }
        Plan::Empty { .. } => Box::new(EmptyOp),
        Plan::JsonTable { input, doc, def, outer, cond, .. } => Box::new(crate::ops::json_table::JsonTableOp {
            input: build(input, ctx)?,
            doc: fold(doc, ctx),
            def: def.clone(),
            outer: *outer,
            cond: cond.as_ref().map(|c| fold(c, ctx)),
        }),
        Plan::Window { input, windows, .. } => {
            let iw = input.width();
            let mut windows = windows.clone();
            for w in &mut windows {
                for e in &mut w.partition_by {
                    *e = fold(e, ctx);
                }
                for k in &mut w.order_by {
                    k.expr = fold(&k.expr, ctx);
                }
                for c in &mut w.calls {
                    for e in &mut c.args {
                        *e = fold(e, ctx);
                    }
                }
            }
            // The window columns are computed here; of the input's, the
            // parent's needs plus what the windows read.
            let mut below = match &needs {
                Some(v) if v.len() >= iw => Some(v[..iw].to_vec()),
                _ => None,
            };
            for w in &windows {
                w.partition_by.iter().for_each(|e| mark(e, &mut below));
                w.order_by.iter().for_each(|k| mark(&k.expr, &mut below));
                w.calls.iter().flat_map(|c| c.args.iter()).for_each(|e| mark(e, &mut below));
            }
            let input = build_needing(input, below, ctx)?;
            Box::new(WindowOp::new(input, &windows, ctx)?)
        }
        Plan::RecursiveCte { id, anchor, recursive, distinct, limit, offset, max_depth, cols, .. } => {
            let limit = match limit {
                Some(e) => Some(limit_count(e, ctx)?),
                None => None,
            };
            let offset = match offset {
                Some(e) => limit_count(e, ctx)?,
                None => 0,
            };
            Box::new(RecursiveCteOp::new(
                *id,
                (**anchor).clone(),
                recursive.clone(),
                *distinct,
                limit,
                offset,
                *max_depth,
                cols.clone(),
            ))
        }
        Plan::WorkTable { id, .. } => Box::new(WorkTableOp::new(*id, ctx)),
    })
}

/// A LIMIT / OFFSET count: a non-negative integer.
fn limit_count(e: &Expr, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    match eval(e, &[], ctx)? {
        Value::Int(i) if i >= 0 => Ok(i as u64),
        Value::UInt(u) => Ok(u),
        other => {
            Err(ExecError::Type(mizzle_types::TypeError::BadLiteral { ty: "LIMIT", value: other.to_text_lossy() }))
        }
    }
}

/// Builds the row source of UPDATE/DELETE: the plan's base scan emits row
/// keys (scan invariant 3); filters, sorts and limits pass them through.
pub fn build_dml_input(plan: &Plan, ctx: &mut Ctx<'_>) -> Result<Box<dyn Operator>, ExecError> {
    Ok(match plan {
        Plan::Scan { table, access, filter, desc, .. } => {
            let filter = filter.as_ref().map(|f| fold(f, ctx));
            Box::new(ScanOp::new(table.clone(), access.clone(), filter).with_rowkey().with_desc(*desc))
        }
        Plan::Filter { input, pred } => {
            let pred = fold(pred, ctx);
            Box::new(FilterOp { input: build_dml_input(input, ctx)?, pred: Compiled::new(pred) })
        }
        Plan::Sort { input, keys } => Box::new(SortOp::new(build_dml_input(input, ctx)?, keys.clone())),
        Plan::Limit { input, limit, .. } => {
            let n = match limit {
                Some(e) => match eval(e, &[], ctx)? {
                    Value::Int(i) if i >= 0 => Some(i as u64),
                    Value::UInt(u) => Some(u),
                    other => {
                        return Err(ExecError::Type(mizzle_types::TypeError::BadLiteral {
                            ty: "LIMIT",
                            value: other.to_text_lossy(),
                        }))
                    }
                },
                None => None,
            };
            Box::new(LimitOp { input: build_dml_input(input, ctx)?, skip: 0, left: n, start: (0, n) })
        }
        Plan::Empty { .. } => Box::new(EmptyOp),
        _ => return Err(ExecError::Internal("unexpected node in a DML row source".into())),
    })
}

/// Literal rows.
struct ValuesOp {
    rows: Vec<Vec<Expr>>,
    done: bool,
}

impl Operator for ValuesOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        let mut out = Vec::with_capacity(self.rows.len());
        for r in &self.rows {
            let mut row = Vec::with_capacity(r.len());
            for e in r {
                row.push(eval(e, &[], ctx)?);
            }
            out.push(row);
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }
}

/// Rows computed up front.
pub(crate) struct RowsOp {
    pub(crate) rows: Option<Vec<Row>>,
}

impl Operator for RowsOp {
    fn next(&mut self, _ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        match self.rows.take() {
            Some(mut rows) if !rows.is_empty() => {
                if rows.len() > BATCH {
                    let rest = rows.split_off(BATCH);
                    self.rows = Some(rest);
                }
                Ok(Some(rows))
            }
            _ => Ok(None),
        }
    }
}

struct EmptyOp;

impl Operator for EmptyOp {
    fn next(&mut self, _ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        Ok(None)
    }
}

struct FilterOp {
    input: Box<dyn Operator>,
    pred: Compiled,
}

impl Operator for FilterOp {
    fn reset(&mut self) -> bool {
        self.input.reset()
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        while let Some(batch) = self.input.next(ctx)? {
            let mut out = Vec::with_capacity(batch.len());
            let mut dropped = Vec::new();
            for r in batch {
                if self.pred.holds(&r, ctx)? {
                    out.push(r);
                } else {
                    dropped.push(r);
                }
            }
            self.input.recycle(dropped);
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
        Ok(None)
    }

    fn recycle(&mut self, batch: Vec<Row>) {
        // The rows are the input's.
        self.input.recycle(batch);
    }
}

struct ProjectOp {
    input: Box<dyn Operator>,
    exprs: Vec<Compiled>,
    /// For a projection of plain columns: per output column, the input
    /// column and whether this is its last use (the value moves instead of
    /// being cloned). Rows are then rebuilt in their own vectors.
    columns: Option<Vec<(usize, bool)>>,
    scratch: Vec<Value>,
    /// Vectors of computed rows given back by the consumer.
    spare: SpareRows,
}

impl ProjectOp {
    fn new(input: Box<dyn Operator>, exprs: Vec<Expr>) -> ProjectOp {
        let plain: Option<Vec<usize>> = exprs.iter().map(Expr::as_column).collect();
        let columns = plain
            .map(|cols| cols.iter().enumerate().map(|(i, &c)| (c, !cols[i + 1..].contains(&c))).collect::<Vec<_>>());
        let exprs = exprs.into_iter().map(Compiled::new).collect();
        ProjectOp { input, exprs, columns, scratch: Vec::new(), spare: SpareRows::default() }
    }
}

impl Operator for ProjectOp {
    fn reset(&mut self) -> bool {
        self.input.reset()
    }

    fn limit_hint(&mut self, rows: usize) {
        self.input.limit_hint(rows);
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        let Some(mut batch) = self.input.next(ctx)? else { return Ok(None) };
        if let Some(cols) = &self.columns {
            for r in &mut batch {
                self.scratch.clear();
                for &(c, last) in cols {
                    let v = match r.get_mut(c) {
                        Some(v) if last => std::mem::take(v),
                        Some(v) => v.clone(),
                        None => Value::Null,
                    };
                    self.scratch.push(v);
                }
                r.clear();
                r.append(&mut self.scratch);
            }
            return Ok(Some(batch));
        }
        let mut out = Vec::with_capacity(batch.len());
        for r in &batch {
            let mut row = self.spare.take(self.exprs.len());
            for e in &self.exprs {
                row.push(e.eval(r, ctx)?);
            }
            out.push(row);
        }
        self.input.recycle(batch);
        Ok(Some(out))
    }

    fn recycle(&mut self, batch: Vec<Row>) {
        if self.columns.is_some() {
            // Plain columns are rebuilt in the input's own vectors.
            self.input.recycle(batch);
        } else {
            self.spare.keep(batch);
        }
    }
}

struct LimitOp {
    input: Box<dyn Operator>,
    skip: u64,
    left: Option<u64>,
    /// `skip` and `left` as built (for `reset`).
    start: (u64, Option<u64>),
}

impl Operator for LimitOp {
    fn reset(&mut self) -> bool {
        (self.skip, self.left) = self.start;
        self.input.reset()
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        loop {
            if self.left == Some(0) {
                return Ok(None);
            }
            let Some(mut batch) = self.input.next(ctx)? else { return Ok(None) };
            if self.skip > 0 {
                let n = (self.skip as usize).min(batch.len());
                batch.drain(..n);
                self.skip -= n as u64;
            }
            if let Some(left) = &mut self.left {
                if batch.len() as u64 > *left {
                    batch.truncate(*left as usize);
                }
                *left -= batch.len() as u64;
            }
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
        }
    }
}

struct DistinctOp {
    input: Box<dyn Operator>,
    seen: KeySet,
}

impl Operator for DistinctOp {
    fn reset(&mut self) -> bool {
        self.seen.clear();
        self.input.reset()
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        while let Some(batch) = self.input.next(ctx)? {
            let mut out = Vec::new();
            for r in batch {
                // One hash per row; a new row is copied once, for the set.
                if let hashbrown::hash_set::Entry::Vacant(v) = self.seen.entry(GroupKey(r)) {
                    out.push(v.get().0.clone());
                    v.insert();
                }
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
        Ok(None)
    }
}

/// UNION / INTERSECT / EXCEPT, [ALL].
struct SetOp {
    kind: SetOpKind,
    all: bool,
    left: Box<dyn Operator>,
    right: Box<dyn Operator>,
    state: u8,
    seen: KeySet,
    counts: KeyMap<usize>,
    /// Columns compared by weight string under a collation.
    weights: Vec<(usize, mizzle_types::Collation)>,
}

impl SetOp {
    fn new(
        kind: SetOpKind,
        all: bool,
        left: Box<dyn Operator>,
        right: Box<dyn Operator>,
        weights: Vec<(usize, mizzle_types::Collation)>,
    ) -> SetOp {
        SetOp { kind, all, left, right, state: 0, seen: KeySet::default(), counts: KeyMap::default(), weights }
    }

    /// The row's comparison key: the row, with the text of collated
    /// columns replaced by its weight string.
    fn key(&self, r: &Row) -> GroupKey {
        let mut k = r.clone();
        for &(i, c) in &self.weights {
            if let Some(Value::Text(t)) = k.get(i) {
                let w = Value::Bytes(c.sort_key_vec(t).into());
                k[i] = w;
            }
        }
        GroupKey(k)
    }
}

impl Operator for SetOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        match self.kind {
            SetOpKind::Union => loop {
                let side = if self.state == 0 { &mut self.left } else { &mut self.right };
                match side.next(ctx)? {
                    None if self.state == 0 => self.state = 1,
                    None => return Ok(None),
                    Some(batch) if self.all => return Ok(Some(batch)),
                    Some(batch) => {
                        let mut out = Vec::new();
                        for r in batch {
                            let k = self.key(&r);
                            if !self.seen.contains(&k) {
                                out.push(r);
                                self.seen.insert(k);
                            }
                        }
                        if !out.is_empty() {
                            return Ok(Some(out));
                        }
                    }
                }
            },
            SetOpKind::Intersect | SetOpKind::Except => {
                if self.state == 0 {
                    while let Some(batch) = self.right.next(ctx)? {
                        for r in batch {
                            let k = self.key(&r);
                            *self.counts.entry(k).or_insert(0) += 1;
                        }
                    }
                    self.state = 1;
                }
                while let Some(batch) = self.left.next(ctx)? {
                    let mut out = Vec::new();
                    for r in batch {
                        let k = self.key(&r);
                        let n = self.counts.get(&k).copied().unwrap_or(0);
                        let keep = match (self.kind, self.all) {
                            (SetOpKind::Intersect, true) => {
                                if n > 0 {
                                    self.counts.insert(k.clone(), n - 1);
                                    true
                                } else {
                                    false
                                }
                            }
                            (SetOpKind::Except, true) => {
                                if n > 0 {
                                    self.counts.insert(k.clone(), n - 1);
                                    false
                                } else {
                                    true
                                }
                            }
                            (SetOpKind::Intersect, false) => n > 0 && !self.seen.contains(&k),
                            _ => n == 0 && !self.seen.contains(&k),
                        };
                        if keep {
                            if !self.all {
                                self.seen.insert(k);
                            }
                            out.push(r);
                        }
                    }
                    if !out.is_empty() {
                        return Ok(Some(out));
                    }
                }
                Ok(None)
            }
        }
    }
}

/// Builds a query whose rows go to the client: its TIMESTAMP columns, which
/// hold stored UTC values (`mizzle_sql::expr` invariant 4), are shown in
/// the session's time zone. DML inputs and `INSERT ... SELECT` use
/// [`build`]/[`collect`] and keep the stored values.
pub fn build_for_client(plan: &Plan, ctx: &mut Ctx<'_>) -> Result<Box<dyn Operator>, ExecError> {
    let op = build(plan, ctx)?;
    let columns: Vec<usize> = plan
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.ty, mizzle_types::SqlType::Timestamp(_)))
        .map(|(i, _)| i)
        .collect();
    if columns.is_empty() {
        return Ok(op);
    }
    Ok(Box::new(LocalTimeOp { input: op, columns }))
}

/// [`collect`] for rows that go to the client ([`build_for_client`]).
pub fn collect_for_client(plan: &Plan, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    drain(&mut *build_for_client(plan, ctx)?, ctx)
}

/// An operator tree kept between executions of one prepared query, so a
/// point select does not build (and drop) its operators, fold and compile
/// its expressions each time.
///
/// Invariants:
/// 1. A tree is kept only if its build folded nothing ([`Ctx::folded`]):
///    a constant subtree's value may depend on the session (a time zone, a
///    character set), so a tree holding one is built again. Parameters,
///    the clock and non-deterministic functions are never folded: the
///    operators read them from the context as they run, so a kept tree
///    computes what a new build would. (Variables are bound as values;
///    a statement reading one is planned again for every execution.)
/// 2. It is used again only for the plan it was built from (the same
///    `Arc`: a prepared statement planned again drops it), and only after
///    every operator in it rewound ([`Operator::reset`]).
/// 3. A run that failed or stopped early is not kept.
#[derive(Default)]
pub struct Reusable {
    kept: Option<(usize, Box<dyn Operator>)>,
}

impl Reusable {
    /// [`collect_for_client`], with the tree kept from the last run of
    /// `plan` if there is one. `id` names the plan: the caller gives a new
    /// one whenever the plan may have changed (the address of the `Arc`
    /// that holds it, kept alive meanwhile).
    pub fn collect_for_client(&mut self, id: usize, plan: &Plan, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
        let (mut op, keep) = self.build_for_client(id, plan, ctx)?;
        // A failed run returns here and keeps nothing (invariant 3).
        let out = drain(&mut *op, ctx)?;
        if keep {
            self.keep(id, op);
        }
        Ok(out)
    }

    /// The kept tree of plan `id`, rewound, or a new one
    /// ([`build_for_client`]); true if the tree may be kept after its run
    /// ([`Reusable::keep`]; invariant 1).
    pub fn build_for_client(
        &mut self,
        id: usize,
        plan: &Plan,
        ctx: &mut Ctx<'_>,
    ) -> Result<(Box<dyn Operator>, bool), ExecError> {
        if let Some((kept_id, mut op)) = self.kept.take() {
            if kept_id == id && op.reset() {
                return Ok((op, true));
            }
        }
        let before = std::mem::replace(&mut ctx.folded, false);
        let op = build_for_client(plan, ctx)?;
        let folded = std::mem::replace(&mut ctx.folded, before);
        Ok((op, !folded))
    }

    /// True if a tree is kept for the next execution.
    pub fn is_kept(&self) -> bool {
        self.kept.is_some()
    }

    /// Keeps `op`, the tree of plan `id` that ran to its end, for the next
    /// execution (only a tree [`Reusable::build_for_client`] said may be
    /// kept).
    pub fn keep(&mut self, id: usize, op: Box<dyn Operator>) {
        self.kept = Some((id, op));
    }

    /// Gives the rows a run of plan `id` returned back to its kept tree
    /// ([`Operator::recycle`]), whose operators reuse their vectors for the
    /// next execution; dropped if no tree of `id` is kept.
    pub fn recycle(&mut self, id: usize, rows: Vec<Row>) {
        if let Some((kept_id, op)) = self.kept.as_mut() {
            if *kept_id == id {
                op.recycle(rows);
            }
        }
    }
}

/// An operator that returns nothing (a placeholder for a tree moved out).
pub fn empty() -> Box<dyn Operator> {
    Box::new(EmptyOp)
}

/// Every row `op` returns.
pub(crate) fn drain(op: &mut dyn Operator, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    // The first batch is the result's vector (a point select's only one).
    let Some(mut out) = op.next(ctx)? else { return Ok(Vec::new()) };
    while let Some(mut b) = op.next(ctx)? {
        out.append(&mut b);
        // The emptied vector goes back for the next batch.
        op.recycle(b);
    }
    Ok(out)
}

/// Shows stored TIMESTAMP values (UTC) of some columns in session time.
struct LocalTimeOp {
    input: Box<dyn Operator>,
    columns: Vec<usize>,
}

impl Operator for LocalTimeOp {
    fn reset(&mut self) -> bool {
        self.input.reset()
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        let Some(mut rows) = self.input.next(ctx)? else { return Ok(None) };
        let tz = ctx.session.time_zone;
        if tz.is_utc() {
            return Ok(Some(rows));
        }
        for row in &mut rows {
            for &c in &self.columns {
                if let Some(slot) = row.get_mut(c) {
                    if let Value::DateTime(utc) = slot {
                        *slot = tz.from_utc(*utc).map_or(Value::Null, Value::DateTime);
                    }
                }
            }
        }
        Ok(Some(rows))
    }
}

/// Runs a plan to completion and returns all rows.
pub fn collect(plan: &Plan, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    drain(&mut *build(plan, ctx)?, ctx)
}

/// Null-padding helper for outer joins.
pub(crate) fn pad(left: &[Value], width: usize) -> Row {
    let mut r = Vec::with_capacity(left.len() + width);
    r.extend(left.iter().cloned());
    r.extend(std::iter::repeat_n(Value::Null, width));
    r
}

/// Joins two rows into `r` (empty: a new or spare vector).
pub(crate) fn concat(mut r: Row, a: &[Value], b: &[Value]) -> Row {
    r.reserve(a.len() + b.len());
    r.extend(a.iter().cloned());
    r.extend(b.iter().cloned());
    r
}

/// The join kind is used by join operators.
pub(crate) fn is_left(k: JoinKind) -> bool {
    k == JoinKind::Left
}

#[cfg(test)]
mod spare_tests {
    use super::{SpareRows, BATCH};
    use mizzle_types::Value;

    #[test]
    fn spare_rows_come_back_empty_and_are_bounded() {
        let mut spare = SpareRows::default();
        spare.keep(vec![vec![Value::Int(1), Value::text("x")]; 3 * BATCH]);
        assert_eq!(spare.0.len(), 2 * BATCH);
        let r = spare.take(4);
        assert!(r.is_empty());
        assert!(r.capacity() >= 4);
        assert_eq!(spare.0.len(), 2 * BATCH - 1);
        let mut empty = SpareRows::default();
        assert!(empty.take(3).capacity() >= 3);
    }
}
