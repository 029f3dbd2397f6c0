//! Joins: index lookup joins for equalities a key of the right table
//! serves when the left input is bounded (`mizzle_sql::optimize` rule 5),
//! hash join for other equality predicates, nested loops otherwise; inner
//! and left outer.
//!
//! Invariants:
//! 1. The hash and nested-loop joins read the right input once per run
//!    and keep it in memory (a rewound join, `Operator::reset`, empties it
//!    and reads it again); the left input streams. The lookup join reads the right
//!    input again for each left row (rewound), with that row pushed as the
//!    newest outer row (`Ctx::outer`) only while the right input runs: the
//!    right scan's key ranges and filter read the left row's columns as
//!    outer columns, and nothing else sees the pushed row.
//! 2. A NULL join key matches nothing (SQL equality).
//! 3. For a left join, a left row with no right row satisfying both the keys
//!    and the residual condition is emitted once, padded with NULLs.
//! 4. Output is produced incrementally: at most `BATCH` rows per call.
//! 5. The hash join keeps the right rows' values in one vector, chained per key in
//!    input order (a head/tail per key in the map, a next index per row), so
//!    building allocates nothing per key beyond the key itself and probing
//!    allocates nothing but output rows. It keeps only the right columns the
//!    operators above read, each row the same number of values (row `i` is
//!    `values[i * stride..]`), and its output rows carry NULL in the columns
//!    nobody reads, left and right (as a scan leaves columns undecoded): a
//!    probe touches the table, one stretch of `values` and, for a key with
//!    more than one row, the chain.
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
    /// The last row of the current left row's chain (hash join).
    last: usize,
    /// The current left row had a match.
    matched: bool,
    /// The current left row's key was looked up (hash join; `ri` then
    /// walks its chain, `NONE` at the end).
    keyed: bool,
}

/// End of a hash chain.
const NONE: u32 = u32::MAX;

/// Hash join.
pub struct HashJoinOp {
    left: Box<dyn Operator>,
    right: Box<dyn Operator>,
    /// The table holds this run's right input.
    built: bool,
    kind: JoinKind,
    left_keys: Vec<Compiled>,
    right_keys: Vec<Compiled>,
    cond: Option<Compiled>,
    right_width: usize,
    /// The left columns read above the join (`None`: all of them).
    left_cols: Option<Vec<usize>>,
    /// The right columns read above the join, in order (invariant 5).
    right_cols: Vec<usize>,
    /// Right rows with a non-NULL key (invariant 5), the kept columns of
    /// each one after another: row `i` is `values[i * stride..][..stride]`
    /// with `stride = right_cols.len()`.
    values: Vec<Value>,
    /// The next row with the same key, per row (one entry per right row).
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
    /// A hash join on `equi` pairs (left expression, right expression)
    /// whose output columns `needs` are read above it (`None`: all; the
    /// residual condition's columns among them).
    pub fn new(
        left: Box<dyn Operator>,
        right: Box<dyn Operator>,
        kind: JoinKind,
        equi: Vec<(Expr, Expr)>,
        cond: Option<Expr>,
        right_width: usize,
        needs: Option<&[bool]>,
    ) -> HashJoinOp {
        let (left_keys, right_keys) = equi.into_iter().map(|(l, r)| (Compiled::new(l), Compiled::new(r))).unzip();
        let split = needs.filter(|v| v.len() >= right_width).map(|v| v.split_at(v.len() - right_width));
        let left_cols = split.map(|(l, _)| l.iter().enumerate().filter(|(_, &n)| n).map(|(i, _)| i).collect());
        let right_cols = match split {
            Some((_, r)) => r.iter().enumerate().filter(|(_, &n)| n).map(|(i, _)| i).collect(),
            None => (0..right_width).collect(),
        };
        HashJoinOp {
            left,
            right,
            built: false,
            kind,
            left_keys,
            right_keys,
            cond: cond.map(Compiled::new),
            right_width,
            left_cols,
            right_cols,
            values: Vec::new(),
            next: Vec::new(),
            table: KeyIndex::new(),
            probe_key: GroupKey(Vec::new()),
            probe: None,
            done: false,
            spare: SpareRows::default(),
        }
    }

    fn build_table(&mut self, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
        if self.built {
            return Ok(());
        }
        self.built = true;
        while let Some(mut batch) = self.right.next(ctx)? {
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
                for &c in &self.right_cols {
                    self.values.push(r.get_mut(c).map(std::mem::take).unwrap_or(Value::Null));
                }
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
            self.right.recycle(batch);
        }
        Ok(())
    }
}

/// The columns a hash join keeps (invariant 5).
struct Kept<'a> {
    left: Option<&'a [usize]>,
    right: &'a [usize],
    right_width: usize,
}

impl Kept<'_> {
    /// A joined row of `lrow` and a kept right row, NULL in the columns
    /// nobody reads, in a spare vector.
    fn joined(&self, spare: &mut SpareRows, lrow: &[Value], rrow: &[Value]) -> Row {
        let mut row = spare.take(lrow.len() + self.right_width);
        match self.left {
            None => row.extend(lrow.iter().cloned()),
            Some(cols) => {
                row.resize(lrow.len(), Value::Null);
                for &c in cols {
                    if let (Some(slot), Some(v)) = (row.get_mut(c), lrow.get(c)) {
                        *slot = v.clone();
                    }
                }
            }
        }
        let base = row.len();
        row.resize(base + self.right_width, Value::Null);
        for (&c, v) in self.right.iter().zip(rrow) {
            if let Some(slot) = row.get_mut(base + c) {
                *slot = v.clone();
            }
        }
        row
    }
}

impl Operator for HashJoinOp {
    fn reset(&mut self) -> bool {
        if let Some(p) = self.probe.take() {
            self.left.recycle(p.batch);
        }
        self.values.clear();
        self.next.clear();
        self.table.clear();
        self.built = false;
        self.done = false;
        self.left.reset() && self.right.reset()
    }

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
                    Some(batch) => {
                        self.probe = Some(Probe { batch, li: 0, ri: 0, last: 0, matched: false, keyed: false })
                    }
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
                    let chain = if null { None } else { self.table.get(&self.probe_key).copied() };
                    (p.ri, p.last) = chain.map_or((NONE as usize, NONE as usize), |(h, t)| (h as usize, t as usize));
                    p.keyed = true;
                    p.matched = false;
                }
                let kept =
                    Kept { left: self.left_cols.as_deref(), right: &self.right_cols, right_width: self.right_width };
                let stride = kept.right.len();
                while p.ri < self.next.len() {
                    let rrow = self.values.get(p.ri * stride..(p.ri + 1) * stride).unwrap_or_default();
                    let row = kept.joined(&mut self.spare, lrow, rrow);
                    // The last row of a chain is known from the table: a
                    // unique key's probe reads no `next`.
                    p.ri = match self.next.get(p.ri) {
                        Some(&n) if p.ri != p.last => n as usize,
                        _ => NONE as usize,
                    };
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

/// Index lookup join: the right input (a scan whose key ranges read the
/// newest outer row) is rewound and read once per left row (invariant 1).
pub struct LookupJoinOp {
    left: Box<dyn Operator>,
    right: Box<dyn Operator>,
    kind: JoinKind,
    cond: Option<Compiled>,
    right_width: usize,
    /// The current left batch and the index of its next row.
    probe: Option<(Vec<Row>, usize)>,
    /// The right rows of one left row.
    matches: Vec<Row>,
    done: bool,
    spare: SpareRows,
}

impl LookupJoinOp {
    /// A lookup join of `left` with `right`, whose ranges read each left
    /// row as the newest outer row; `cond` is checked on the joined rows.
    pub fn new(
        left: Box<dyn Operator>,
        right: Box<dyn Operator>,
        kind: JoinKind,
        cond: Option<Expr>,
        right_width: usize,
    ) -> LookupJoinOp {
        LookupJoinOp {
            left,
            right,
            kind,
            cond: cond.map(Compiled::new),
            right_width,
            probe: None,
            matches: Vec::new(),
            done: false,
            spare: SpareRows::default(),
        }
    }

    /// Reads the right rows of `lrow` into `self.matches`, with `lrow`
    /// pushed as the newest outer row meanwhile (popped on every path).
    fn lookup(&mut self, lrow: Row, ctx: &mut Ctx<'_>) -> Result<Row, ExecError> {
        if !self.right.reset() {
            return Err(ExecError::Internal("a lookup join's right input cannot be rewound".into()));
        }
        ctx.outer.push(lrow);
        let depth = ctx.outer.len();
        let mut read = || -> Result<(), ExecError> {
            while let Some(batch) = self.right.next(ctx)? {
                // The scan's own batch vector when it is the first: given
                // back to it with the rows (`recycle`), it is reused.
                if self.matches.is_empty() {
                    self.matches = batch;
                } else {
                    self.matches.extend(batch);
                }
            }
            Ok(())
        };
        let result = read();
        // The right input pushes and pops its own levels in balance.
        debug_assert_eq!(ctx.outer.len(), depth);
        let lrow = ctx.outer.pop().unwrap_or_default();
        result.map(|()| lrow)
    }
}

impl Operator for LookupJoinOp {
    fn reset(&mut self) -> bool {
        if let Some((batch, _)) = self.probe.take() {
            self.left.recycle(batch);
        }
        self.matches.clear();
        self.done = false;
        self.left.reset() && self.right.reset()
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::new();
        loop {
            let (mut batch, li) = match self.probe.take() {
                Some(p) => p,
                None => match self.left.next(ctx)? {
                    Some(b) => (b, 0),
                    None => {
                        self.done = true;
                        return Ok(if out.is_empty() { None } else { Some(out) });
                    }
                },
            };
            let mut li = li;
            while li < batch.len() {
                // One stop point per left row (ctx invariant 3).
                ctx.check_stop()?;
                let lrow = std::mem::take(&mut batch[li]);
                self.matches.clear();
                let lrow = self.lookup(lrow, ctx)?;
                let mut matched = false;
                for rrow in &self.matches {
                    let row = concat(self.spare.take(lrow.len() + rrow.len()), &lrow, rrow);
                    let ok = match &self.cond {
                        Some(c) => c.holds(&row, ctx)?,
                        None => true,
                    };
                    if ok {
                        matched = true;
                        out.push(row);
                    } else {
                        self.spare.keep(std::iter::once(row));
                    }
                }
                // The right rows go back to the scan, for its next lookup.
                self.right.recycle(std::mem::take(&mut self.matches));
                if !matched && is_left(self.kind) {
                    out.push(pad(&lrow, self.right_width));
                }
                batch[li] = lrow;
                li += 1;
                if out.len() >= BATCH {
                    self.probe = Some((batch, li));
                    return Ok(Some(out));
                }
            }
            self.left.recycle(batch);
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
    right: Box<dyn Operator>,
    /// `rows` holds this run's right input.
    built: bool,
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
            right,
            built: false,
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
    fn reset(&mut self) -> bool {
        if let Some(p) = self.probe.take() {
            self.left.recycle(p.batch);
        }
        self.rows.clear();
        self.built = false;
        self.done = false;
        self.left.reset() && self.right.reset()
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.done {
            return Ok(None);
        }
        if !self.built {
            self.built = true;
            while let Some(b) = self.right.next(ctx)? {
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
                    Some(batch) => {
                        self.probe = Some(Probe { batch, li: 0, ri: 0, last: 0, matched: false, keyed: false })
                    }
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

#[cfg(test)]
mod tests {
    use mizzle_sql::expr::Expr;
    use mizzle_sql::plan::JoinKind;
    use mizzle_types::sqltype::IntWidth;
    use mizzle_types::{SqlType, Value};

    use super::HashJoinOp;
    use crate::build::{drain, Row, RowsOp};
    use crate::testctx::with_ctx;

    const BIGINT: SqlType = SqlType::Int { width: IntWidth::Big, unsigned: false };

    fn col(index: usize) -> Expr {
        Expr::Column { index, ty: BIGINT }
    }

    /// Left (id, key, text) and right (key, grp, name): key 1 has two right
    /// rows (a chain), key 2 one, key 3 none; a NULL key on either side
    /// matches nothing.
    fn join(kind: JoinKind, needs: Option<&[bool]>) -> Vec<Row> {
        let l = |id: i64, key: Value| vec![Value::Int(id), key, Value::text(&format!("l{id}"))];
        let r = |key: Value, grp: i64| vec![key, Value::Int(grp), Value::text(&format!("r{grp}"))];
        let left = vec![l(10, Value::Int(1)), l(11, Value::Int(3)), l(12, Value::Null), l(13, Value::Int(2))];
        let right = vec![r(Value::Int(1), 100), r(Value::Int(2), 200), r(Value::Null, 300), r(Value::Int(1), 101)];
        let mut op = HashJoinOp::new(
            Box::new(RowsOp { rows: Some(left) }),
            Box::new(RowsOp { rows: Some(right) }),
            kind,
            vec![(col(1), col(0))],
            None,
            3,
            needs,
        );
        with_ctx(&[], true, |ctx| drain(&mut op, ctx)).expect("join")
    }

    fn ints(row: &[Value]) -> Vec<Option<i64>> {
        row.iter()
            .map(|v| match v {
                Value::Int(i) => Some(*i),
                Value::Null => None,
                _ => Some(-1),
            })
            .collect()
    }

    #[test]
    fn a_hash_join_follows_chains_in_input_order_and_keeps_every_column_by_default() {
        let rows = join(JoinKind::Inner, None);
        let got: Vec<_> = rows.iter().map(|r| ints(r)).collect();
        // Texts are -1 in `ints`; checked by value below.
        assert_eq!(
            got,
            vec![
                vec![Some(10), Some(1), Some(-1), Some(1), Some(100), Some(-1)],
                vec![Some(10), Some(1), Some(-1), Some(1), Some(101), Some(-1)],
                vec![Some(13), Some(2), Some(-1), Some(2), Some(200), Some(-1)],
            ]
        );
        assert_eq!(rows[1][2], Value::text("l10"));
        assert_eq!(rows[1][5], Value::text("r101"));
    }

    #[test]
    fn a_hash_join_fills_only_the_columns_read_above_it() {
        // Read above: the left id and the right grp.
        let needs = [true, false, false, false, true, false];
        let rows = join(JoinKind::Inner, Some(&needs));
        let got: Vec<_> = rows.iter().map(|r| ints(r)).collect();
        assert_eq!(
            got,
            vec![
                vec![Some(10), None, None, None, Some(100), None],
                vec![Some(10), None, None, None, Some(101), None],
                vec![Some(13), None, None, None, Some(200), None],
            ]
        );
        // Nothing read on the right: the rows still count.
        let needs = [false, true, false, false, false, false];
        let rows = join(JoinKind::Inner, Some(&needs));
        assert_eq!(
            rows.iter().map(|r| ints(r)).collect::<Vec<_>>(),
            vec![
                vec![None, Some(1), None, None, None, None],
                vec![None, Some(1), None, None, None, None],
                vec![None, Some(2), None, None, None, None],
            ]
        );
    }

    #[test]
    fn a_left_hash_join_pads_unmatched_rows_once() {
        let needs = [true, false, false, false, true, false];
        let rows = join(JoinKind::Left, Some(&needs));
        let got: Vec<_> = rows.iter().map(|r| (ints(r)[0], ints(r)[4])).collect();
        assert_eq!(
            got,
            vec![
                (Some(10), Some(100)),
                (Some(10), Some(101)),
                (Some(11), None),
                (Some(12), None),
                (Some(13), Some(200))
            ]
        );
    }
}
