//! Joins: hash join for equality predicates, nested loops otherwise; inner
//! and left outer.
//!
//! Invariants:
//! 1. The right input is read once and kept in memory; the left input
//!    streams.
//! 2. A NULL join key matches nothing (SQL equality).
//! 3. For a left join, a left row with no right row satisfying both the keys
//!    and the residual condition is emitted once, padded with NULLs.
//! 4. Output is produced incrementally: at most `BATCH` rows per call.

use std::collections::HashMap;

use mizzle_sql::expr::Expr;
use mizzle_sql::plan::JoinKind;
use mizzle_types::GroupKey;

use crate::build::{concat, is_left, pad, Operator, Row, BATCH};
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::{eval, eval_pred};

/// Where a join is in its left input.
struct Probe {
    batch: Vec<Row>,
    /// Index of the current left row.
    li: usize,
    /// Next candidate for the current left row.
    ri: usize,
    /// The current left row had a match.
    matched: bool,
    /// Candidates of the current left row (hash join).
    cands: Option<std::sync::Arc<Vec<Row>>>,
}

/// Hash join.
pub struct HashJoinOp {
    left: Box<dyn Operator>,
    right: Option<Box<dyn Operator>>,
    kind: JoinKind,
    left_keys: Vec<Expr>,
    right_keys: Vec<Expr>,
    cond: Option<Expr>,
    right_width: usize,
    table: HashMap<GroupKey, std::sync::Arc<Vec<Row>>>,
    probe: Option<Probe>,
    done: bool,
}

impl HashJoinOp {
    /// A hash join on `equi` pairs (left expression, right expression).
    pub fn new(
        left: Box<dyn Operator>,
        right: Box<dyn Operator>,
        kind: JoinKind,
        equi: Vec<(Expr, Expr)>,
        cond: Option<Expr>,
        right_width: usize,
    ) -> HashJoinOp {
        let (left_keys, right_keys) = equi.into_iter().unzip();
        HashJoinOp {
            left,
            right: Some(right),
            kind,
            left_keys,
            right_keys,
            cond,
            right_width,
            table: HashMap::new(),
            probe: None,
            done: false,
        }
    }

    fn build_table(&mut self, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
        let Some(mut right) = self.right.take() else { return Ok(()) };
        let mut tmp: HashMap<GroupKey, Vec<Row>> = HashMap::new();
        while let Some(batch) = right.next(ctx)? {
            for r in batch {
                let mut key = Vec::with_capacity(self.right_keys.len());
                let mut null = false;
                for e in &self.right_keys {
                    let v = eval(e, &r, ctx)?;
                    null |= v.is_null();
                    key.push(v);
                }
                if !null {
                    tmp.entry(GroupKey(key)).or_default().push(r);
                }
            }
        }
        self.table = tmp.into_iter().map(|(k, v)| (k, std::sync::Arc::new(v))).collect();
        Ok(())
    }
}

impl Operator for HashJoinOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.done {
            return Ok(None);
        }
        self.build_table(ctx)?;
        if self.table.is_empty() && !is_left(self.kind) {
            self.done = true;
            return Ok(None);
        }
        let mut out = Vec::new();
        loop {
            if self.probe.is_none() {
                match self.left.next(ctx)? {
                    Some(batch) => self.probe = Some(Probe { batch, li: 0, ri: 0, matched: false, cands: None }),
                    None => {
                        self.done = true;
                        return Ok(if out.is_empty() { None } else { Some(out) });
                    }
                }
            }
            let Some(p) = self.probe.as_mut() else { continue };
            while p.li < p.batch.len() {
                let lrow = &p.batch[p.li];
                if p.cands.is_none() {
                    let mut key = Vec::with_capacity(self.left_keys.len());
                    let mut null = false;
                    for e in &self.left_keys {
                        let v = eval(e, lrow, ctx)?;
                        null |= v.is_null();
                        key.push(v);
                    }
                    p.cands = Some(if null {
                        std::sync::Arc::new(Vec::new())
                    } else {
                        self.table.get(&GroupKey(key)).cloned().unwrap_or_default()
                    });
                    p.ri = 0;
                    p.matched = false;
                }
                let cands = p.cands.clone().unwrap_or_default();
                while p.ri < cands.len() {
                    let row = concat(lrow, &cands[p.ri]);
                    p.ri += 1;
                    let ok = match &self.cond {
                        Some(c) => eval_pred(c, &row, ctx)?,
                        None => true,
                    };
                    if ok {
                        p.matched = true;
                        out.push(row);
                        if out.len() >= BATCH {
                            return Ok(Some(out));
                        }
                    }
                }
                if !p.matched && is_left(self.kind) {
                    out.push(pad(lrow, self.right_width));
                }
                p.li += 1;
                p.cands = None;
                if out.len() >= BATCH {
                    return Ok(Some(out));
                }
            }
            self.probe = None;
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }
}

/// Nested-loop join over a materialised right input.
pub struct NestedLoopOp {
    left: Box<dyn Operator>,
    right: Option<Box<dyn Operator>>,
    rows: Vec<Row>,
    kind: JoinKind,
    cond: Option<Expr>,
    right_width: usize,
    probe: Option<Probe>,
    done: bool,
}

impl NestedLoopOp {
    /// A nested-loop join.
    pub fn new(
        left: Box<dyn Operator>,
        right: Box<dyn Operator>,
        kind: JoinKind,
        cond: Option<Expr>,
        right_width: usize,
    ) -> NestedLoopOp {
        NestedLoopOp { left, right: Some(right), rows: Vec::new(), kind, cond, right_width, probe: None, done: false }
    }
}

impl Operator for NestedLoopOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.done {
            return Ok(None);
        }
        if let Some(mut r) = self.right.take() {
            while let Some(b) = r.next(ctx)? {
                self.rows.extend(b);
            }
        }
        if self.rows.is_empty() && !is_left(self.kind) {
            self.done = true;
            return Ok(None);
        }
        let mut out = Vec::new();
        loop {
            if self.probe.is_none() {
                match self.left.next(ctx)? {
                    Some(batch) => self.probe = Some(Probe { batch, li: 0, ri: 0, matched: false, cands: None }),
                    None => {
                        self.done = true;
                        return Ok(if out.is_empty() { None } else { Some(out) });
                    }
                }
            }
            let Some(p) = self.probe.as_mut() else { continue };
            while p.li < p.batch.len() {
                let lrow = &p.batch[p.li];
                while p.ri < self.rows.len() {
                    let row = concat(lrow, &self.rows[p.ri]);
                    p.ri += 1;
                    let ok = match &self.cond {
                        Some(c) => eval_pred(c, &row, ctx)?,
                        None => true,
                    };
                    if ok {
                        p.matched = true;
                        out.push(row);
                        if out.len() >= BATCH {
                            return Ok(Some(out));
                        }
                    }
                }
                if !p.matched && is_left(self.kind) {
                    out.push(pad(lrow, self.right_width));
                }
                p.li += 1;
                p.ri = 0;
                p.matched = false;
                if out.len() >= BATCH {
                    return Ok(Some(out));
                }
            }
            self.probe = None;
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }
}
