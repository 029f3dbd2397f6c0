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
//! 5. The hash join keeps the right rows' values in one vector, chained per key in
//!    input order (a head/tail per key in the map, a next index per row), so
//!    building allocates nothing per key beyond the key itself and probing
//!    allocates nothing but output rows.
//! 6. Keys that are one integer each (the common join on an integer column)
//!    are stored inline in the table, hashed by a seeded multiply-shift
//!    hash; the first key of another shape moves every entry into the
//!    general table of [`GroupKey`]s, which compares as `Value::group_eq`.

use mizzle_sql::expr::Expr;
use mizzle_sql::plan::JoinKind;
use mizzle_types::{GroupKey, Value};

use crate::build::{concat, is_left, pad, Operator, Row, SpareRows, BATCH};
use crate::compile::Compiled;
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::ops::hashkey::KeyIndex;

/// Where a join is in its left input.
struct Probe {
    batch: Vec<Row>,
    /// Index of the current left row.
    li: usize,
    /// Next candidate for the current left row.
    ri: usize,
    /// The current left row had a match.
    matched: bool,
    /// The current left row's key was looked up (hash join; `ri` then
    /// walks its chain, `NONE` at the end).
    keyed: bool,
}

/// End of a hash chain.
const NONE: u32 = u32::MAX;

/// Row `i` of a hash join's right rows.
fn right_row<'a>(values: &'a [Value], starts: &[usize], i: usize) -> Option<&'a [Value]> {
    let (&a, &b) = (starts.get(i)?, starts.get(i + 1)?);
    values.get(a..b)
}

/// Hash join.
pub struct HashJoinOp {
    left: Box<dyn Operator>,
    right: Option<Box<dyn Operator>>,
    kind: JoinKind,
    left_keys: Vec<Compiled>,
    right_keys: Vec<Compiled>,
    cond: Option<Compiled>,
    right_width: usize,
    /// Right rows with a non-NULL key (invariant 5), their values one after
    /// another: row `i` is `values[starts[i]..starts[i + 1]]`.
    values: Vec<Value>,
    starts: Vec<usize>,
    /// The next row with the same key, per row.
    next: Vec<u32>,
    /// First and last row of each key.
    table: KeyIndex<(u32, u32)>,
    /// A reused key buffer for probes.
    probe_key: GroupKey,
    probe: Option<Probe>,
    done: bool,
    /// Vectors of joined rows given back by the consumer.
    spare: SpareRows,
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
        let (left_keys, right_keys) = equi.into_iter().map(|(l, r)| (Compiled::new(l), Compiled::new(r))).unzip();
        HashJoinOp {
            left,
            right: Some(right),
            kind,
            left_keys,
            right_keys,
            cond: cond.map(Compiled::new),
            right_width,
            values: Vec::new(),
            starts: vec![0],
            next: Vec::new(),
            table: KeyIndex::new(),
            probe_key: GroupKey(Vec::new()),
            probe: None,
            done: false,
            spare: SpareRows::default(),
        }
    }

    fn build_table(&mut self, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
        let Some(mut right) = self.right.take() else { return Ok(()) };
        while let Some(mut batch) = right.next(ctx)? {
            for r in &mut batch {
                let mut key = Vec::with_capacity(self.right_keys.len());
                let mut null = false;
                for e in &self.right_keys {
                    let v = e.eval(r, ctx)?;
                    null |= v.is_null();
                    key.push(v);
                }
                if null {
                    continue;
                }
                let i = u32::try_from(self.next.len())
                    .ok()
                    .filter(|&i| i != NONE)
                    .ok_or_else(|| ExecError::Internal("hash join input over 4 billion rows".into()))?;
                self.values.append(r);
                self.starts.push(self.values.len());
                self.next.push(NONE);
                let next = &mut self.next;
                self.table.upsert(
                    key,
                    |slot| {
                        if let Some(n) = next.get_mut(slot.1 as usize) {
                            *n = i;
                        }
                        slot.1 = i;
                    },
                    || (i, i),
                );
            }
            right.recycle(batch);
        }
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
                    Some(batch) => self.probe = Some(Probe { batch, li: 0, ri: 0, matched: false, keyed: false }),
                    None => {
                        self.done = true;
                        return Ok(if out.is_empty() { None } else { Some(out) });
                    }
                }
            }
            let Some(p) = self.probe.as_mut() else { continue };
            while p.li < p.batch.len() {
                let lrow = &p.batch[p.li];
                if !p.keyed {
                    let key = &mut self.probe_key.0;
                    key.clear();
                    let mut null = false;
                    for e in &self.left_keys {
                        let v = e.eval(lrow, ctx)?;
                        null |= v.is_null();
                        key.push(v);
                    }
                    let head = if null { None } else { self.table.get(&self.probe_key).map(|&(h, _)| h) };
                    p.ri = head.map_or(NONE as usize, |h| h as usize);
                    p.keyed = true;
                    p.matched = false;
                }
                while let Some(rrow) = right_row(&self.values, &self.starts, p.ri) {
                    let row = concat(self.spare.take(lrow.len() + rrow.len()), lrow, rrow);
                    p.ri = self.next.get(p.ri).map_or(NONE as usize, |&n| n as usize);
                    let ok = match &self.cond {
                        Some(c) => c.holds(&row, ctx)?,
                        None => true,
                    };
                    if ok {
                        p.matched = true;
                        out.push(row);
                        if out.len() >= BATCH {
                            return Ok(Some(out));
                        }
                    } else {
                        self.spare.keep(std::iter::once(row));
                    }
                }
                if !p.matched && is_left(self.kind) {
                    out.push(pad(lrow, self.right_width));
                }
                p.li += 1;
                p.keyed = false;
                if out.len() >= BATCH {
                    return Ok(Some(out));
                }
            }
            if let Some(p) = self.probe.take() {
                self.left.recycle(p.batch);
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }

    fn recycle(&mut self, batch: Vec<Row>) {
        self.spare.keep(batch);
    }
}

/// Nested-loop join over a materialised right input.
pub struct NestedLoopOp {
    left: Box<dyn Operator>,
    right: Option<Box<dyn Operator>>,
    rows: Vec<Row>,
    kind: JoinKind,
    cond: Option<Compiled>,
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
        NestedLoopOp {
            left,
            right: Some(right),
            rows: Vec::new(),
            kind,
            cond: cond.map(Compiled::new),
            right_width,
            probe: None,
            done: false,
        }
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
                    Some(batch) => self.probe = Some(Probe { batch, li: 0, ri: 0, matched: false, keyed: false }),
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
                    let row = concat(Vec::new(), lrow, &self.rows[p.ri]);
                    p.ri += 1;
                    let ok = match &self.cond {
                        Some(c) => c.holds(&row, ctx)?,
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
                // One stop point per outer row: the inner loop may reject
                // every row of a large input (ctx invariant 3).
                ctx.check_stop()?;
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
