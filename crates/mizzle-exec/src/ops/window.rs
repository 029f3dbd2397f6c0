//! Window functions: evaluates the windows of one `Plan::Window` node over
//! input that arrives ordered for them, one chunk of rows at a time.
//!
//! A *chunk* is a run of rows equal on the partition keys of the node's
//! window with the fewest of them; every other window of the node
//! partitions more finely (its keys extend the same sort), so a chunk holds
//! whole partitions of every window and is all the operator keeps in memory
//! (plus the rows it has computed and not yet returned). Without PARTITION
//! BY the whole input is one chunk.
//!
//! Within a partition, for each row, the operator works out its peers (rows
//! equal on the ORDER BY keys) and, for the functions that read a frame, the
//! frame as a half-open range of positions. Frame ends only move forward as
//! the current row does (ROWS offsets are constant; RANGE bounds are values
//! of a sorted key), so frames are found with two forward-only pointers and
//! aggregates are kept as a running state that rows enter at the end and
//! leave at the start:
//!
//! - COUNT, and SUM/AVG of exact values (integers and DECIMAL), add and
//!   subtract exactly;
//! - MIN/MAX keep a monotonic queue of candidates (amortized O(1) per row);
//! - BIT_AND/BIT_OR keep a count of set bits per bit position, BIT_XOR
//!   XORs out;
//! - SUM/AVG of floating values and the variance family keep a running
//!   state while the frame only grows (the default frame, running totals)
//!   and recompute over the frame's values once rows have left it, since
//!   subtracting floating values would drift from what summing the frame
//!   gives.
//!
//! Invariants:
//! 1. Rows leave in the order they arrived, each extended by one value per
//!    call (windows in order, then their calls in order).
//! 2. A frame is `[lo, hi)` within the partition with `lo` and `hi`
//!    non-decreasing from row to row; an empty frame (`hi <= lo`) gives NULL
//!    (COUNT: 0; BIT_AND/OR/XOR: their identity, as over no rows).
//! 3. RANGE bounds place NULL keys as MySQL does: a NULL current row's
//!    `n PRECEDING/FOLLOWING` and CURRENT ROW bounds sit at the NULL peers,
//!    and NULLs sort first ascending, last descending.
//!
//! Not here: sorting (a `Sort` below the node does it, or the node shares
//! the order of the window node below it), name resolution and frame
//! validation (the binder's).

use std::cmp::Ordering;
use std::collections::VecDeque;

use mizzle_sql::expr::{AggFunc, Expr, FrameBound, FrameUnits, SortKey, WindowFunc};
use mizzle_sql::plan::WindowDef;
use mizzle_types::{Decimal, SqlType, TypeError, Value, ValueKind};

use crate::build::{Operator, Row, BATCH};
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;

/// A frame bound ready for evaluation.
enum Bound {
    /// UNBOUNDED PRECEDING / FOLLOWING.
    Unbounded,
    /// A ROWS offset from the current row (negative: preceding).
    Rows(i128),
    /// CURRENT ROW of a RANGE frame: the peers.
    Peers,
    /// A RANGE value bound: the bound's key from the current row's key.
    Value(Expr),
}

/// One window of the node, with its constants evaluated.
struct Win {
    partition_by: Vec<Expr>,
    order_by: Vec<SortKey>,
    units: FrameUnits,
    start: Bound,
    end: Bound,
    calls: Vec<Call>,
}

/// One call, with its constant argument (NTILE's bucket count, LAG/LEAD's
/// offset, NTH_VALUE's row) evaluated.
struct Call {
    func: WindowFunc,
    args: Vec<Expr>,
    ty: SqlType,
    n: u64,
}

/// Evaluates a constant count argument: a non-negative (or positive)
/// integer, else `Incorrect arguments to <name>` (1210).
fn const_count(e: &Expr, positive: bool, name: &str, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    let v = eval(e, &[], ctx)?;
    let n = match v {
        Value::Int(i) if i >= 0 => i as u64,
        Value::UInt(u) => u,
        _ => return Err(ExecError::WrongArguments(name.to_string())),
    };
    if positive && n == 0 {
        return Err(ExecError::WrongArguments(name.to_string()));
    }
    Ok(n)
}

fn rows_offset(e: &Expr, sign: i128, ctx: &mut Ctx<'_>) -> Result<i128, ExecError> {
    // The binder checked literals; a parameter is checked here (3586 in
    // MySQL at EXECUTE; a wrong count is 1210 here).
    let n = const_count(e, false, "window frame", ctx)?;
    Ok(sign * n as i128)
}

fn bound(b: &FrameBound, units: FrameUnits, ctx: &mut Ctx<'_>) -> Result<Bound, ExecError> {
    Ok(match (b, units) {
        (FrameBound::UnboundedPreceding | FrameBound::UnboundedFollowing, _) => Bound::Unbounded,
        (FrameBound::CurrentRow, FrameUnits::Rows) => Bound::Rows(0),
        (FrameBound::CurrentRow, FrameUnits::Range) => Bound::Peers,
        (FrameBound::Preceding(e), FrameUnits::Rows) => Bound::Rows(rows_offset(e, -1, ctx)?),
        (FrameBound::Following(e), FrameUnits::Rows) => Bound::Rows(rows_offset(e, 1, ctx)?),
        (FrameBound::Preceding(e) | FrameBound::Following(e), FrameUnits::Range) => Bound::Value(e.clone()),
    })
}

/// The window operator.
pub struct WindowOp {
    input: Box<dyn Operator>,
    wins: Vec<Win>,
    /// The window whose partition keys cut chunks.
    chunk_win: usize,
    pending: Vec<Row>,
    pending_key: Option<Vec<Value>>,
    out: VecDeque<Row>,
    done: bool,
}

impl WindowOp {
    /// Evaluates `windows` over `input`, which must arrive ordered for them
    /// (plan invariant 3).
    pub fn new(input: Box<dyn Operator>, windows: &[WindowDef], ctx: &mut Ctx<'_>) -> Result<WindowOp, ExecError> {
        let mut wins = Vec::with_capacity(windows.len());
        for w in windows {
            let mut calls = Vec::with_capacity(w.calls.len());
            for c in &w.calls {
                let n = match (c.func, c.args.get(1)) {
                    (WindowFunc::Ntile, _) => match c.args.first() {
                        Some(e) => const_count(e, true, "ntile", ctx)?,
                        None => return Err(ExecError::WrongArguments("ntile".into())),
                    },
                    (WindowFunc::Lag | WindowFunc::Lead, Some(e)) => const_count(e, false, c.func.name(), ctx)?,
                    (WindowFunc::Lag | WindowFunc::Lead, None) => 1,
                    (WindowFunc::NthValue, Some(e)) => const_count(e, true, "nth_value", ctx)?,
                    (WindowFunc::NthValue, None) => return Err(ExecError::WrongArguments("nth_value".into())),
                    _ => 0,
                };
                calls.push(Call { func: c.func, args: c.args.clone(), ty: c.ty, n });
            }
            wins.push(Win {
                partition_by: w.partition_by.clone(),
                order_by: w.order_by.clone(),
                units: w.frame.units,
                start: bound(&w.frame.start, w.frame.units, ctx)?,
                end: bound(&w.frame.end, w.frame.units, ctx)?,
                calls,
            });
        }
        let chunk_win = wins.iter().enumerate().min_by_key(|(_, w)| w.partition_by.len()).map(|(i, _)| i).unwrap_or(0);
        Ok(WindowOp {
            input,
            wins,
            chunk_win,
            pending: Vec::new(),
            pending_key: None,
            out: VecDeque::new(),
            done: false,
        })
    }

    fn chunk_key(&self, row: &Row, ctx: &mut Ctx<'_>) -> Result<Vec<Value>, ExecError> {
        match self.wins.get(self.chunk_win) {
            Some(w) => w.partition_by.iter().map(|e| eval(e, row, ctx)).collect(),
            None => Ok(Vec::new()),
        }
    }

    /// Computes every window over the pending chunk and queues its rows.
    fn flush(&mut self, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
        let rows = std::mem::take(&mut self.pending);
        self.pending_key = None;
        if rows.is_empty() {
            return Ok(());
        }
        let n = rows.len();
        let width: usize = self.wins.iter().map(|w| w.calls.len()).sum();
        let mut extra: Vec<Vec<Value>> = (0..n).map(|_| Vec::with_capacity(width)).collect();
        for w in &self.wins {
            let mut pkeys = Vec::with_capacity(n);
            let mut okeys = Vec::with_capacity(n);
            for r in &rows {
                pkeys.push(w.partition_by.iter().map(|e| eval(e, r, ctx)).collect::<Result<Vec<_>, _>>()?);
                okeys.push(w.order_by.iter().map(|k| eval(&k.expr, r, ctx)).collect::<Result<Vec<_>, _>>()?);
            }
            let mut ps = 0;
            while ps < n {
                let mut pe = ps + 1;
                while pe < n && same(&pkeys[pe], &pkeys[ps]) {
                    pe += 1;
                }
                partition(w, &rows[ps..pe], &okeys[ps..pe], &mut extra[ps..pe], ctx)?;
                ps = pe;
            }
        }
        for (mut r, ex) in rows.into_iter().zip(extra) {
            r.extend(ex);
            self.out.push_back(r);
        }
        Ok(())
    }
}

impl Operator for WindowOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        loop {
            if self.out.len() >= BATCH || (self.done && !self.out.is_empty()) {
                let k = self.out.len().min(BATCH);
                return Ok(Some(self.out.drain(..k).collect()));
            }
            if self.done {
                return Ok(None);
            }
            match self.input.next(ctx)? {
                None => {
                    self.flush(ctx)?;
                    self.done = true;
                }
                Some(batch) => {
                    for r in batch {
                        let key = self.chunk_key(&r, ctx)?;
                        if self.pending_key.as_ref().is_some_and(|k| !same(k, &key)) {
                            self.flush(ctx)?;
                        }
                        if self.pending_key.is_none() {
                            self.pending_key = Some(key);
                        }
                        self.pending.push(r);
                    }
                }
            }
        }
    }
}

/// Equal partition keys (NULLs equal).
fn same(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.group_eq(y))
}

/// Compares ORDER BY key tuples in the window's order.
fn cmp_keys(keys: &[SortKey], a: &[Value], b: &[Value]) -> Ordering {
    for (i, k) in keys.iter().enumerate() {
        let o = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => x.sort_cmp(y),
            _ => Ordering::Equal,
        };
        let o = if k.desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Evaluates one window's calls over one partition, appending a value per
/// call to each row's `extra`.
fn partition(
    w: &Win,
    rows: &[Row],
    okeys: &[Vec<Value>],
    extra: &mut [Vec<Value>],
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    let n = rows.len();
    // Peer groups: [peer_start[i], peer_end[i]).
    let mut peer_start = vec![0usize; n];
    let mut peer_end = vec![n; n];
    if !w.order_by.is_empty() {
        let mut gs = 0;
        for i in 1..=n {
            if i == n || cmp_keys(&w.order_by, &okeys[i], &okeys[gs]) != Ordering::Equal {
                for j in gs..i {
                    peer_start[j] = gs;
                    peer_end[j] = i;
                }
                gs = i;
            }
        }
    }
    let frames = if w.calls.iter().any(|c| c.func.uses_frame()) {
        frames(w, okeys, &peer_start, &peer_end, ctx)?
    } else {
        Vec::new()
    };
    for c in &w.calls {
        match c.func {
            WindowFunc::RowNumber => {
                for (i, ex) in extra.iter_mut().enumerate() {
                    ex.push(Value::Int(i as i64 + 1));
                }
            }
            WindowFunc::Rank => {
                for (i, ex) in extra.iter_mut().enumerate() {
                    ex.push(Value::Int(peer_start[i] as i64 + 1));
                }
            }
            WindowFunc::DenseRank => {
                let mut rank = 0i64;
                for (i, ex) in extra.iter_mut().enumerate() {
                    if peer_start[i] == i {
                        rank += 1;
                    }
                    ex.push(Value::Int(rank));
                }
            }
            WindowFunc::PercentRank => {
                for (i, ex) in extra.iter_mut().enumerate() {
                    let v = if n > 1 { peer_start[i] as f64 / (n - 1) as f64 } else { 0.0 };
                    ex.push(Value::Double(v));
                }
            }
            WindowFunc::CumeDist => {
                for (i, ex) in extra.iter_mut().enumerate() {
                    ex.push(Value::Double(peer_end[i] as f64 / n as f64));
                }
            }
            WindowFunc::Ntile => {
                // The first n % buckets buckets hold one row more.
                let buckets = c.n.max(1) as u128;
                let total = n as u128;
                let q = total / buckets;
                let r = total % buckets;
                for (i, ex) in extra.iter_mut().enumerate() {
                    let i = i as u128;
                    let big = r * (q + 1);
                    let b = if i < big { i / (q + 1) } else { r + (i - big) / q.max(1) };
                    ex.push(Value::UInt((b + 1) as u64));
                }
            }
            WindowFunc::Lag | WindowFunc::Lead => {
                let vals = arg_values(c, rows, ctx)?;
                for (i, ex) in extra.iter_mut().enumerate() {
                    let j = if c.func == WindowFunc::Lag {
                        (i as u128).checked_sub(c.n as u128)
                    } else {
                        Some(i as u128 + c.n as u128).filter(|j| *j < n as u128)
                    };
                    let v = match j.and_then(|j| usize::try_from(j).ok()).and_then(|j| vals.get(j)) {
                        Some(v) => v.clone(),
                        None => match c.args.get(2) {
                            Some(d) => eval(d, &rows[i], ctx)?,
                            None => Value::Null,
                        },
                    };
                    ex.push(v);
                }
            }
            WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue => {
                let vals = arg_values(c, rows, ctx)?;
                for (i, ex) in extra.iter_mut().enumerate() {
                    let (lo, hi) = frames[i];
                    let pos = match c.func {
                        WindowFunc::FirstValue => Some(lo),
                        WindowFunc::LastValue => hi.checked_sub(1),
                        _ => usize::try_from(c.n - 1).ok().and_then(|k| lo.checked_add(k)),
                    };
                    let v = match pos {
                        Some(p) if p >= lo && p < hi => vals.get(p).cloned().unwrap_or(Value::Null),
                        _ => Value::Null,
                    };
                    ex.push(v);
                }
            }
            WindowFunc::Agg(f) => aggregate(f, c, rows, &frames, extra, ctx)?,
        }
    }
    Ok(())
}

/// The first argument's value on every row of the partition.
fn arg_values(c: &Call, rows: &[Row], ctx: &mut Ctx<'_>) -> Result<Vec<Value>, ExecError> {
    let Some(e) = c.args.first() else { return Ok(vec![Value::Null; rows.len()]) };
    rows.iter().map(|r| eval(e, r, ctx)).collect()
}

/// Each row's frame `[lo, hi)` (invariant 2).
fn frames(
    w: &Win,
    okeys: &[Vec<Value>],
    peer_start: &[usize],
    peer_end: &[usize],
    ctx: &mut Ctx<'_>,
) -> Result<Vec<(usize, usize)>, ExecError> {
    let n = okeys.len();
    let clamp = |x: i128| -> usize { x.clamp(0, n as i128) as usize };
    let mut out = Vec::with_capacity(n);
    if w.units == FrameUnits::Rows {
        for i in 0..n {
            let lo = match &w.start {
                Bound::Rows(o) => clamp(i as i128 + o),
                _ => 0,
            };
            let hi = match &w.end {
                Bound::Rows(o) => clamp(i as i128 + o + 1),
                _ => n,
            };
            out.push((lo, hi));
        }
        return Ok(out);
    }
    if w.order_by.is_empty() {
        // Every row is a peer of every other: the frame is the partition.
        return Ok(vec![(0, n); n]);
    }
    let asc = w.order_by.first().is_none_or(|k| !k.desc);
    let (mut s, mut e) = (0usize, 0usize);
    let mut start_target: Option<(usize, Value)> = None;
    let mut end_target: Option<(usize, Value)> = None;
    for i in 0..n {
        let lo = match &w.start {
            Bound::Unbounded | Bound::Rows(_) => 0,
            Bound::Peers => peer_start[i],
            Bound::Value(b) => {
                let cur = okeys[i].first().cloned().unwrap_or(Value::Null);
                let target = target_for(b, &cur, i, peer_start, &mut start_target, ctx)?;
                while s < n && before_start(&okeys[s][0], &cur, &target, asc) {
                    s += 1;
                }
                s
            }
        };
        let hi = match &w.end {
            Bound::Unbounded | Bound::Rows(_) => n,
            Bound::Peers => peer_end[i],
            Bound::Value(b) => {
                let cur = okeys[i].first().cloned().unwrap_or(Value::Null);
                let target = target_for(b, &cur, i, peer_start, &mut end_target, ctx)?;
                while e < n && !after_end(&okeys[e][0], &cur, &target, asc) {
                    e += 1;
                }
                e
            }
        };
        out.push((lo, hi));
    }
    Ok(out)
}

/// The bound's key for row `i` (computed once per peer group).
fn target_for(
    b: &Expr,
    cur: &Value,
    i: usize,
    peer_start: &[usize],
    cache: &mut Option<(usize, Value)>,
    ctx: &mut Ctx<'_>,
) -> Result<Value, ExecError> {
    if let Some((g, v)) = cache {
        if *g == peer_start[i] {
            return Ok(v.clone());
        }
    }
    let v = if cur.is_null() { Value::Null } else { eval(b, std::slice::from_ref(cur), ctx)? };
    *cache = Some((peer_start[i], v.clone()));
    Ok(v)
}

/// True if `cand` lies before the frame start whose key is `target`
/// (MySQL's `Window::before_or_after_frame(true)`).
fn before_start(cand: &Value, cur: &Value, target: &Value, asc: bool) -> bool {
    if cur.is_null() {
        return !cand.is_null() && !asc;
    }
    if cand.is_null() {
        return asc;
    }
    match cand.sql_cmp(target) {
        Some(o) => {
            if asc {
                o == Ordering::Less
            } else {
                o == Ordering::Greater
            }
        }
        None => false,
    }
}

/// True if `cand` lies after the frame end whose key is `target`.
fn after_end(cand: &Value, cur: &Value, target: &Value, asc: bool) -> bool {
    if cur.is_null() {
        return !cand.is_null() && asc;
    }
    if cand.is_null() {
        return !asc;
    }
    match cand.sql_cmp(target) {
        Some(o) => {
            if asc {
                o == Ordering::Greater
            } else {
                o == Ordering::Less
            }
        }
        None => false,
    }
}

/// An exact running sum.
#[derive(Clone, Copy)]
enum Exact {
    Int(i128),
    Dec(Decimal),
}

fn range() -> ExecError {
    ExecError::Type(TypeError::OutOfRange { ty: "DECIMAL", expr: "SUM".into() })
}

impl Exact {
    fn dec(self) -> Result<Decimal, ExecError> {
        match self {
            Exact::Int(i) => Decimal::new(i, 0).ok_or_else(range),
            Exact::Dec(d) => Ok(d),
        }
    }

    fn add(self, v: &Value, negate: bool) -> Result<Exact, ExecError> {
        let as_int = match v {
            Value::Int(i) => Some(*i as i128),
            Value::UInt(u) => Some(*u as i128),
            _ => None,
        };
        if let (Exact::Int(s), Some(x)) = (self, as_int) {
            let r = if negate { s.checked_sub(x) } else { s.checked_add(x) };
            if let Some(r) = r {
                return Ok(Exact::Int(r));
            }
        }
        let d = v.to_decimal().flatten().ok_or_else(range)?;
        let d = if negate { d.negated() } else { d };
        Ok(Exact::Dec(self.dec()?.checked_add(d).ok_or_else(range)?))
    }
}

/// The running state of an aggregate over a moving frame (module docs).
struct Acc {
    func: AggFunc,
    ty: SqlType,
    /// Rows in the frame (COUNT(*)).
    rows: i64,
    /// Rows with a non-NULL argument.
    count: i64,
    exact: Exact,
    /// Floating path: the frame's values in order, the running sum and
    /// Welford's state, and whether rows have left (then recompute).
    floats: VecDeque<f64>,
    fsum: f64,
    mean: f64,
    m2: f64,
    shrunk: bool,
    /// MIN/MAX candidates: (position, value), best first.
    queue: VecDeque<(usize, Value)>,
    bits: [u32; 64],
    xor: u64,
    /// MIN/MAX of text under a collation.
    collation: Option<mizzle_types::Collation>,
}

fn to_bits(v: &Value) -> u64 {
    match v {
        Value::Int(i) => *i as u64,
        Value::UInt(u) => *u,
        other => other.to_i64_lossy().unwrap_or(0) as u64,
    }
}

impl Acc {
    fn new(func: AggFunc, ty: SqlType) -> Acc {
        Acc {
            func,
            ty,
            rows: 0,
            count: 0,
            exact: Exact::Int(0),
            floats: VecDeque::new(),
            fsum: 0.0,
            mean: 0.0,
            m2: 0.0,
            shrunk: false,
            queue: VecDeque::new(),
            bits: [0; 64],
            xor: 0,
            collation: None,
        }
    }

    /// Orders two MIN/MAX candidates.
    fn cmp_values(&self, a: &Value, b: &Value) -> Ordering {
        match (a, b, self.collation) {
            (Value::Text(x), Value::Text(y), Some(c)) => c.compare(x, y),
            _ => a.sort_cmp(b),
        }
    }

    fn exact_path(&self) -> bool {
        self.ty.kind() == ValueKind::Decimal
    }

    fn add(&mut self, pos: usize, v: &Value) -> Result<(), ExecError> {
        self.rows += 1;
        if v.is_null() {
            return Ok(());
        }
        self.count += 1;
        match self.func {
            AggFunc::Sum | AggFunc::Avg if self.exact_path() => self.exact = self.exact.add(v, false)?,
            AggFunc::Sum
            | AggFunc::Avg
            | AggFunc::StddevPop
            | AggFunc::StddevSamp
            | AggFunc::VarPop
            | AggFunc::VarSamp => {
                let x = v.to_f64().unwrap_or(0.0);
                self.floats.push_back(x);
                self.fsum += x;
                let d = x - self.mean;
                self.mean += d / self.floats.len() as f64;
                self.m2 += d * (x - self.mean);
            }
            AggFunc::Min | AggFunc::Max => {
                let worse = if self.func == AggFunc::Min { Ordering::Less } else { Ordering::Greater };
                while self.queue.back().is_some_and(|(_, b)| {
                    let o = self.cmp_values(v, b);
                    o == worse || o == Ordering::Equal
                }) {
                    self.queue.pop_back();
                }
                self.queue.push_back((pos, v.clone()));
            }
            AggFunc::BitAnd | AggFunc::BitOr => {
                let u = to_bits(v);
                for (b, c) in self.bits.iter_mut().enumerate() {
                    if u >> b & 1 == 1 {
                        *c += 1;
                    }
                }
            }
            AggFunc::BitXor => self.xor ^= to_bits(v),
            _ => {}
        }
        Ok(())
    }

    /// Removes the oldest row of the frame (at `pos`, holding `v`).
    fn remove(&mut self, pos: usize, v: &Value) -> Result<(), ExecError> {
        self.rows -= 1;
        if v.is_null() {
            return Ok(());
        }
        self.count -= 1;
        match self.func {
            AggFunc::Sum | AggFunc::Avg if self.exact_path() => self.exact = self.exact.add(v, true)?,
            AggFunc::Sum
            | AggFunc::Avg
            | AggFunc::StddevPop
            | AggFunc::StddevSamp
            | AggFunc::VarPop
            | AggFunc::VarSamp => {
                self.floats.pop_front();
                self.shrunk = true;
            }
            AggFunc::Min | AggFunc::Max if self.queue.front().is_some_and(|(p, _)| *p == pos) => {
                self.queue.pop_front();
            }
            AggFunc::BitAnd | AggFunc::BitOr => {
                let u = to_bits(v);
                for (b, c) in self.bits.iter_mut().enumerate() {
                    if u >> b & 1 == 1 {
                        *c = c.saturating_sub(1);
                    }
                }
            }
            AggFunc::BitXor => self.xor ^= to_bits(v),
            _ => {}
        }
        Ok(())
    }

    /// Sum, mean and M2 of the floating values now in the frame.
    fn float_state(&self) -> (f64, f64, f64) {
        if !self.shrunk {
            return (self.fsum, self.mean, self.m2);
        }
        let (mut sum, mut mean, mut m2) = (0.0, 0.0, 0.0);
        for (k, x) in self.floats.iter().enumerate() {
            sum += x;
            let d = x - mean;
            mean += d / (k + 1) as f64;
            m2 += d * (x - mean);
        }
        (sum, mean, m2)
    }

    fn value(&self) -> Result<Value, ExecError> {
        Ok(match self.func {
            AggFunc::CountStar => Value::Int(self.rows),
            AggFunc::Count => Value::Int(self.count),
            _ if self.count == 0 && !matches!(self.func, AggFunc::BitAnd | AggFunc::BitOr | AggFunc::BitXor) => {
                Value::Null
            }
            AggFunc::Sum if self.exact_path() => Value::decimal(self.exact.dec()?),
            AggFunc::Avg if self.exact_path() => {
                let scale = match self.ty {
                    SqlType::Decimal { scale, .. } => scale,
                    _ => 4,
                };
                Value::decimal(self.exact.dec()?.checked_div(Decimal::from_i64(self.count), scale).ok_or_else(range)?)
            }
            AggFunc::Sum => Value::Double(self.float_state().0),
            AggFunc::Avg => Value::Double(self.float_state().0 / self.count as f64),
            AggFunc::StddevPop | AggFunc::StddevSamp | AggFunc::VarPop | AggFunc::VarSamp => {
                let samp = matches!(self.func, AggFunc::StddevSamp | AggFunc::VarSamp);
                let n = self.count as f64;
                if samp && n < 2.0 {
                    return Ok(Value::Null);
                }
                let var = self.float_state().2 / if samp { n - 1.0 } else { n };
                match self.func {
                    AggFunc::StddevPop | AggFunc::StddevSamp => Value::Double(var.sqrt()),
                    _ => Value::Double(var),
                }
            }
            AggFunc::Min | AggFunc::Max => self.queue.front().map(|(_, v)| v.clone()).unwrap_or(Value::Null),
            AggFunc::BitAnd => {
                let mut u = 0u64;
                for (b, c) in self.bits.iter().enumerate() {
                    if *c as i64 == self.count {
                        u |= 1 << b;
                    }
                }
                Value::UInt(if self.count == 0 { u64::MAX } else { u })
            }
            AggFunc::BitOr => {
                let mut u = 0u64;
                for (b, c) in self.bits.iter().enumerate() {
                    if *c > 0 {
                        u |= 1 << b;
                    }
                }
                Value::UInt(u)
            }
            AggFunc::BitXor => Value::UInt(self.xor),
            AggFunc::GroupConcat | AggFunc::AnyValue | AggFunc::JsonArrayAgg | AggFunc::JsonObjectAgg => {
                return Err(ExecError::Internal(
                    "GROUP_CONCAT / ANY_VALUE / JSON_ARRAYAGG / JSON_OBJECTAGG as a window function".into(),
                ))
            }
        })
    }
}

/// An aggregate call over each row's frame.
fn aggregate(
    f: AggFunc,
    c: &Call,
    rows: &[Row],
    frames: &[(usize, usize)],
    extra: &mut [Vec<Value>],
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    // The argument per row; COUNT(a, b) counts rows where all are non-NULL.
    let mut vals = Vec::with_capacity(rows.len());
    for r in rows {
        let v = match f {
            AggFunc::CountStar => Value::Int(1),
            _ => {
                let mut v = Value::Null;
                for (k, a) in c.args.iter().enumerate() {
                    let x = eval(a, r, ctx)?;
                    if x.is_null() {
                        v = Value::Null;
                        break;
                    }
                    if k == 0 {
                        v = x;
                    }
                }
                v
            }
        };
        vals.push(v);
    }
    let mut acc = Acc::new(f, c.ty);
    // A collated argument (marked by the binder) compares under its
    // collation, as the grouped MIN/MAX does.
    if let Some(Expr::Collate { collation, .. }) = c.args.first() {
        acc.collation = Some(*collation);
    }
    let (mut cl, mut ch) = (0usize, 0usize);
    let mut last: Option<((usize, usize), Value)> = None;
    for (i, ex) in extra.iter_mut().enumerate() {
        let (lo, hi) = frames[i];
        let hi = hi.max(lo);
        if let Some((fr, v)) = &last {
            if *fr == (lo, hi) {
                ex.push(v.clone());
                continue;
            }
        }
        while ch < hi {
            acc.add(ch, &vals[ch])?;
            ch += 1;
        }
        while cl < lo {
            acc.remove(cl, &vals[cl])?;
            cl += 1;
        }
        let v = acc.value()?;
        ex.push(v.clone());
        last = Some(((lo, hi), v));
    }
    Ok(())
}
