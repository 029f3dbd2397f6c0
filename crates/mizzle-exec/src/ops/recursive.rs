//! `WITH RECURSIVE`: the recursive CTE operator and the work table its
//! recursive query blocks read.
//!
//! Evaluation is semi-naive, as MySQL's: the anchor's rows are the CTE's
//! first rows and the first round's input; each round runs every recursive
//! block over the rows the previous round made (the work table) and the rows
//! it makes are the next round's input, until a round makes none. Under
//! UNION DISTINCT a row equal to one already in the CTE is dropped, so it
//! feeds no further round; that is how traversals of cyclic graphs end.
//!
//! Invariants:
//! 1. Round `k` (1-based) reads exactly the rows round `k - 1` made (round
//!    0 being the anchor). A round starts only if its input is non-empty;
//!    starting round `max_depth + 1` is error 3636 (MySQL's count: with the
//!    default 1000, 1,000 rounds may run; a 1,001st that has rows to read
//!    aborts the query).
//! 2. Recursive rows are converted to the CTE's column types, which the
//!    anchor fixed, by the strict column-assignment rules (a string longer
//!    than the anchor's column is error 1406, as in MySQL's default
//!    `sql_mode`).
//! 3. With `LIMIT n [OFFSET m]`, generation stops as soon as `n + m` rows
//!    exist; the first `m` rows still feed the recursion but are not
//!    returned.
//! 4. A work table's rows are taken when its operator is built (each round
//!    builds its blocks after publishing its input in `Ctx::work_tables`),
//!    so a nested recursive CTE with the same id cannot disturb a round in
//!    progress.
//!
//! The CTE is materialized before its first row is returned (as MySQL
//! does): an outer LIMIT does not stop the recursion.

use std::sync::Arc;

use mizzle_sql::plan::{OutCol, Plan};
use mizzle_types::cast::{assign, Target};
use mizzle_types::GroupKey;

use crate::build::{build, collect, Operator, Row, BATCH};
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::ops::hashkey::KeySet;

/// The recursive CTE operator.
pub struct RecursiveCteOp {
    id: usize,
    anchor: Plan,
    recursive: Vec<Plan>,
    distinct: bool,
    limit: Option<u64>,
    offset: u64,
    max_depth: u64,
    cols: Vec<OutCol>,
    out: Option<std::vec::IntoIter<Row>>,
}

impl RecursiveCteOp {
    /// A recursive CTE over its bound parts (see `Plan::RecursiveCte`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: usize,
        anchor: Plan,
        recursive: Vec<Plan>,
        distinct: bool,
        limit: Option<u64>,
        offset: u64,
        max_depth: u64,
        cols: Vec<OutCol>,
    ) -> RecursiveCteOp {
        RecursiveCteOp { id, anchor, recursive, distinct, limit, offset, max_depth, cols, out: None }
    }

    fn conform(&self, row: Row, rowno: u64) -> Result<Row, ExecError> {
        let mut out = Vec::with_capacity(row.len());
        for (v, c) in row.into_iter().zip(&self.cols) {
            if v.is_null() || (c.ty.kind() == v.kind() && !needs_check(c)) {
                out.push(v);
                continue;
            }
            out.push(assign(&v, c.ty, &Target { column: &c.name, row: rowno })?);
        }
        Ok(out)
    }

    fn run(&self, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
        let cap = self.limit.map(|l| l.saturating_add(self.offset));
        let full = |n: usize| cap.is_some_and(|c| n as u64 >= c);
        let mut seen = KeySet::default();
        let mut all: Vec<Row> = Vec::new();
        let mut work: Vec<Row> = Vec::new();
        for r in collect(&self.anchor, ctx)? {
            if full(all.len()) {
                break;
            }
            if self.distinct && !seen.insert(GroupKey(r.clone())) {
                continue;
            }
            all.push(r.clone());
            work.push(r);
        }
        let mut round: u64 = 0;
        while !work.is_empty() && !full(all.len()) {
            round += 1;
            ctx.check_stop()?;
            if round > self.max_depth {
                return Err(ExecError::MaxRecursion { iterations: round });
            }
            let previous = ctx.work_tables.insert(self.id, Arc::new(std::mem::take(&mut work)));
            let r = self.round(ctx, &mut seen, &mut all, &mut work, &full);
            match previous {
                Some(p) => ctx.work_tables.insert(self.id, p),
                None => ctx.work_tables.remove(&self.id),
            };
            r?;
        }
        let skip = usize::try_from(self.offset).unwrap_or(usize::MAX).min(all.len());
        all.drain(..skip);
        Ok(all)
    }

    /// One round: every recursive block over the published work table.
    fn round(
        &self,
        ctx: &mut Ctx<'_>,
        seen: &mut KeySet,
        all: &mut Vec<Row>,
        fresh: &mut Vec<Row>,
        full: &dyn Fn(usize) -> bool,
    ) -> Result<(), ExecError> {
        for p in &self.recursive {
            let mut op = build(p, ctx)?;
            let mut rowno = 0u64;
            while let Some(batch) = op.next(ctx)? {
                for r in batch {
                    rowno += 1;
                    let r = self.conform(r, rowno)?;
                    if self.distinct && !seen.insert(GroupKey(r.clone())) {
                        continue;
                    }
                    all.push(r.clone());
                    fresh.push(r);
                    if full(all.len()) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Types whose values of the right kind may still not fit (lengths,
/// ranges, scales): those are checked value by value.
fn needs_check(c: &OutCol) -> bool {
    use mizzle_types::SqlType as T;
    !matches!(c.ty, T::Double | T::Date | T::Int { width: mizzle_types::IntWidth::Big, .. })
}

impl Operator for RecursiveCteOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.out.is_none() {
            let rows = self.run(ctx)?;
            self.out = Some(rows.into_iter());
        }
        let Some(it) = self.out.as_mut() else { return Ok(None) };
        let batch: Vec<Row> = it.take(BATCH).collect();
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}

/// The rows of the current round's input (invariant 4).
pub struct WorkTableOp {
    rows: Arc<Vec<Row>>,
    pos: usize,
}

impl WorkTableOp {
    /// Takes the rows published for recursive CTE `id` (none if absent).
    pub fn new(id: usize, ctx: &Ctx<'_>) -> WorkTableOp {
        WorkTableOp { rows: ctx.work_tables.get(&id).cloned().unwrap_or_default(), pos: 0 }
    }
}

impl Operator for WorkTableOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        ctx.check_stop()?;
        if self.pos >= self.rows.len() {
            return Ok(None);
        }
        let end = (self.pos + BATCH).min(self.rows.len());
        let batch: Vec<Row> = self.rows[self.pos..end].to_vec();
        self.pos = end;
        Ok(Some(batch))
    }
}
