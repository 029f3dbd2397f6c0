//! Table scans: full, primary-key ranges and secondary-index ranges, all
//! through the transaction's snapshot.
//!
//! Invariants:
//! 1. The rows a scan returns satisfy its key ranges read as predicates and
//!    its filter (the optimizer removes from the filter the conjuncts the
//!    ranges express). Each range becomes a byte interval holding at least
//!    its rows; when every bound converts exactly to the key column's type
//!    (same comparison rules: numbers against numeric columns, text against
//!    text, ...), the interval holds exactly its rows and nothing more is
//!    checked; otherwise (say text against an integer key) the interval is
//!    widened and each row is checked against the ranges by the SQL
//!    comparison rules.
//! 2. Ranges are normalised to half-open byte intervals, sorted and merged,
//!    so no row is produced twice.
//! 3. With `with_rowkey`, each row carries its encoded row key as one extra
//!    trailing `Bytes` value (DML needs it for hidden row ids).
//! 4. An interval that is exactly one whole primary key is read with a
//!    point get (no cursor); the rest of the row path is the same.
//! 5. Rows hold a TIMESTAMP column's stored UTC value and its key encodes
//!    that; range values are session time. Each bound on a TIMESTAMP key
//!    column becomes the first (lower) or last (upper) UTC instant with
//!    that local time, so the interval holds every matching row even
//!    across a daylight-saving change (local time goes back in a fold);
//!    unless the zone's offset is fixed, every row is then checked against
//!    the range in session time.
//! 6. Late decoding (`Late`): a filter that is a chain of ANDs, over a
//!    scan without row checks or locks whose other columns include one that
//!    allocates when decoded (text, blobs, DECIMAL, ...), runs its first
//!    conjunct on a row holding only that conjunct's columns; the rest of
//!    the row is decoded only if it is not FALSE. The conjuncts run in
//!    their order with AND's short-circuit (stop at the first FALSE; after
//!    a NULL the others still run), so results, warnings and errors are
//!    those of the whole filter.
//! 7. A descending scan (`with_desc`, optimizer rule 6) returns the same
//!    rows in descending key order: its intervals from the last, each read
//!    by a descending cursor (`Txn::scan_desc`).

use std::ops::Bound;
use std::sync::Arc;

use mizzle_dictionary::TableDef;
use mizzle_sql::expr::Expr;
use mizzle_sql::plan::{Access, KeyRange, LockMode};
use mizzle_txn::{SpaceId, TxnCursor};
use mizzle_types::key::{encode_value_collated, prefix_successor};
use mizzle_types::row::RowRef;
use mizzle_types::{Collation, Date, Decimal, SqlType, TimeZone, Value, ValueKind};

use crate::build::{Operator, Row, SpareRows};
use crate::compile::Compiled;
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::{compare, eval, in_subquery_values};
use mizzle_sql::expr::CmpOp;

/// How a constant relates to the values of a key column type.
enum Conv {
    /// Representable exactly.
    Exact(Value),
    /// Strictly between two consecutive representable values.
    Between(Value, Value),
    /// Below every value of the type.
    BelowAll,
    /// Above every value of the type.
    AboveAll,
    /// Compared by other rules than the key order (e.g. text vs number).
    Incomparable,
    /// NULL: no comparison is ever true.
    Null,
}

fn conv_int(d: Decimal, lo: i128, hi: i128, unsigned: bool) -> Conv {
    // Saturating: a decimal past i128 is beyond every integer type anyway.
    let f = d.floor().trunc_i128();
    let c = d.ceil().trunc_i128();
    let mk = |x: i128| if unsigned { Value::UInt(x as u64) } else { Value::Int(x as i64) };
    if c < lo {
        return Conv::BelowAll;
    }
    if f > hi {
        return Conv::AboveAll;
    }
    if f == c {
        return Conv::Exact(mk(f));
    }
    if f < lo {
        return Conv::Exact(mk(lo)).below_first();
    }
    if c > hi {
        return Conv::Between(mk(hi), mk(hi)).above_last();
    }
    Conv::Between(mk(f), mk(c))
}

impl Conv {
    /// A value just below the type's minimum: treat as BelowAll for bounds.
    fn below_first(self) -> Conv {
        match self {
            Conv::Exact(_) => Conv::BelowAll,
            o => o,
        }
    }
    fn above_last(self) -> Conv {
        Conv::AboveAll
    }
}

fn convert(ty: SqlType, v: &Value) -> Conv {
    if v.is_null() {
        return Conv::Null;
    }
    match ty.kind() {
        // The common case without a decimal: an integer of the key's sign.
        ValueKind::Int if matches!(v, Value::Int(_)) => Conv::Exact(v.clone()),
        ValueKind::UInt if matches!(v, Value::UInt(_)) => Conv::Exact(v.clone()),
        ValueKind::Int | ValueKind::UInt => {
            let d = match v {
                Value::Int(i) => Decimal::from_i64(*i),
                Value::UInt(u) => Decimal::from_u64(*u),
                Value::Decimal(d) => **d,
                Value::Double(_) | Value::Float(_) | Value::Text(_) => {
                    let f = v.to_f64().unwrap_or(0.0);
                    if f.is_nan() {
                        return Conv::Incomparable;
                    }
                    if f >= 1.9e19 {
                        return Conv::AboveAll;
                    }
                    if f <= -1.0e19 {
                        return Conv::BelowAll;
                    }
                    match Decimal::from_f64(f) {
                        Some(d) => d,
                        None => return Conv::Incomparable,
                    }
                }
                _ => return Conv::Incomparable,
            };
            if ty.kind() == ValueKind::UInt {
                conv_int(d, 0, u64::MAX as i128, true)
            } else {
                conv_int(d, i64::MIN as i128, i64::MAX as i128, false)
            }
        }
        ValueKind::Double | ValueKind::Float => match v {
            Value::Date(_) | Value::DateTime(_) | Value::Time(_) | Value::Bytes(_) => Conv::Incomparable,
            other => match other.to_f64() {
                Some(f) if !f.is_nan() => Conv::Exact(Value::Double(f)),
                _ => Conv::Incomparable,
            },
        },
        ValueKind::Decimal => match v {
            Value::Int(i) => Conv::Exact(Value::decimal(Decimal::from_i64(*i))),
            Value::UInt(u) => Conv::Exact(Value::decimal(Decimal::from_u64(*u))),
            Value::Decimal(d) => Conv::Exact(Value::Decimal(d.clone())),
            _ => Conv::Incomparable,
        },
        ValueKind::Text => match v {
            Value::Text(_) => Conv::Exact(v.clone()),
            _ => Conv::Incomparable,
        },
        ValueKind::Bytes => match v {
            Value::Bytes(_) => Conv::Exact(v.clone()),
            Value::Text(s) => Conv::Exact(Value::bytes(s.as_bytes())),
            _ => Conv::Incomparable,
        },
        ValueKind::Date => {
            let dt = match v {
                Value::Date(d) => return Conv::Exact(Value::Date(*d)),
                Value::DateTime(d) => *d,
                Value::Text(s) => match mizzle_types::DateTime::parse(s) {
                    Some(d) => d,
                    None => return Conv::Incomparable,
                },
                _ => return Conv::Incomparable,
            };
            if dt.micros_of_day() == 0 {
                Conv::Exact(Value::Date(dt.date()))
            } else {
                let next = Date::from_day_number(dt.date().day_number() + 1).unwrap_or(dt.date());
                Conv::Between(Value::Date(dt.date()), Value::Date(next))
            }
        }
        ValueKind::DateTime => match v {
            Value::DateTime(d) => Conv::Exact(Value::DateTime(*d)),
            Value::Date(d) => Conv::Exact(Value::DateTime(d.at_midnight())),
            Value::Text(s) => match mizzle_types::DateTime::parse(s) {
                Some(d) => Conv::Exact(Value::DateTime(d)),
                None => Conv::Incomparable,
            },
            _ => Conv::Incomparable,
        },
        ValueKind::Time => match v {
            Value::Time(t) => Conv::Exact(Value::Time(*t)),
            Value::Text(s) => match mizzle_types::Time::parse(s) {
                Ok(t) => Conv::Exact(Value::Time(t)),
                Err(_) => Conv::Incomparable,
            },
            _ => Conv::Incomparable,
        },
        ValueKind::Null | ValueKind::Json => Conv::Incomparable,
    }
}

/// A half-open byte interval `[lo, hi)`; `None` bounds are open.
type Interval = (Option<Vec<u8>>, Option<Vec<u8>>);

fn succ(k: &[u8]) -> Option<Vec<u8>> {
    prefix_successor(k)
}

/// Whether comparing a key column of type `ty` with `v` follows the key
/// order, so a converted bound selects exactly the rows the comparison does.
fn same_rules(ty: SqlType, v: &Value) -> bool {
    use ValueKind as K;
    let numeric = |k: ValueKind| matches!(k, K::Int | K::UInt | K::Decimal);
    match ty.kind() {
        k if numeric(k) => numeric(v.kind()),
        k @ (K::Text | K::Bytes | K::Date | K::DateTime | K::Time | K::Double) => v.kind() == k,
        _ => false,
    }
}

/// One key range read as a row predicate (invariant 1): the key columns
/// (row positions) compared with the range's values.
#[derive(Default)]
struct RangeCheck {
    /// Collations of the key's columns, by key position (filled by `open`
    /// only when the checks are kept).
    colls: Vec<Collation>,
    /// The session's zone when some key column is a TIMESTAMP (invariant
    /// 5): the row holds its stored UTC value, the range session time.
    zone: Option<(TimeZone, Vec<bool>)>,
    eq: Vec<(usize, Value)>,
    lower: Option<(usize, Value, bool)>,
    upper: Option<(usize, Value, bool)>,
}

impl RangeCheck {
    /// Emptied for another execution, keeping its vectors' room.
    fn recycled(mut self) -> RangeCheck {
        self.colls.clear();
        self.zone = None;
        self.eq.clear();
        self.lower = None;
        self.upper = None;
        self
    }

    fn passes(&self, row: &[Value]) -> bool {
        let n = self.eq.len();
        let coll = |i: usize| self.colls.get(i).copied().unwrap_or(Collation::LEGACY);
        let local = |key_pos: usize, x: &Value| -> Value {
            match (&self.zone, x) {
                (Some((tz, ts)), Value::DateTime(utc)) if ts.get(key_pos).copied().unwrap_or(false) => {
                    tz.from_utc(*utc).map_or(Value::Null, Value::DateTime)
                }
                _ => x.clone(),
            }
        };
        let holds = |col: usize, op: CmpOp, v: &Value, key_pos: usize| {
            let coll = coll(key_pos);
            row.get(col).map(|x| local(key_pos, x)).as_ref().and_then(|x| match (x, v) {
                (Value::Text(a), Value::Text(b)) if coll != Collation::LEGACY => {
                    let o = coll.compare(a, b);
                    compare(op, &Value::Int(o as i64), &Value::Int(0))
                }
                _ => compare(op, x, v),
            }) == Some(true)
        };
        self.eq.iter().enumerate().all(|(i, (c, v))| holds(*c, CmpOp::Eq, v, i))
            && self.lower.as_ref().is_none_or(|(c, v, inc)| holds(*c, if *inc { CmpOp::Ge } else { CmpOp::Gt }, v, n))
            && self.upper.as_ref().is_none_or(|(c, v, inc)| holds(*c, if *inc { CmpOp::Le } else { CmpOp::Lt }, v, n))
    }
}

/// The byte that follows NULL's tag: a lower bound from it skips NULLs.
const AFTER_NULL: u8 = 0x02;

/// Converts one key range over key columns `cols` (row positions, of types
/// `types`) into a byte interval and its row check; `None` when no row can
/// be in it. Clears `exact` when the interval is wider than the range; sets
/// `point` when it is exactly one whole key (whose interval then has no end
/// if `lone_point`: the caller reads it with a point get and merges it with
/// no other). `reused` is an emptied check and key vector from an earlier
/// execution (or new ones), filled instead of allocating.
fn interval(
    (types, cols): (&[(SqlType, Collation)], &[usize]),
    r: &KeyRange,
    ctx: &mut Ctx<'_>,
    exact: &mut bool,
    point: &mut bool,
    lone_point: bool,
    reused: (RangeCheck, Vec<u8>),
) -> Result<Option<(Interval, RangeCheck)>, ExecError> {
    *point = false;
    let (mut check, mut prefix) = reused;
    let col =
        |i: usize| cols.get(i).copied().ok_or_else(|| ExecError::Internal("key range longer than its key".into()));
    let tz = ctx.session.time_zone;
    let is_ts = |ty: SqlType| matches!(ty, SqlType::Timestamp(_)) && !tz.is_utc();
    check.zone = types.iter().any(|t| is_ts(t.0)).then(|| (tz.clone(), types.iter().map(|t| is_ts(t.0)).collect()));
    // Room for an integer key (tag and 8 bytes) without growing.
    prefix.clear();
    prefix.reserve(16);
    for (i, e) in r.eq.iter().enumerate() {
        let (ty, coll) = types.get(i).copied().unwrap_or((SqlType::Null, Collation::LEGACY));
        let v = eval(e, &[], ctx)?;
        *exact &= same_rules(ty, &v);
        match convert(ty, &v) {
            // A TIMESTAMP key holds UTC instants (invariant 5).
            Conv::Exact(Value::DateTime(local)) if is_ts(ty) => {
                *exact &= tz.is_fixed();
                let (first, last) = (tz.utc_bound(local, true), tz.utc_bound(local, false));
                check.eq.push((col(i)?, v));
                if first == last {
                    encode_value_collated(&Value::DateTime(first), coll, &mut prefix);
                    continue;
                }
                // A time of a daylight-saving fold names two instants: the
                // interval spans both, and every row is checked.
                *exact = false;
                for (j, e) in r.eq.iter().enumerate().skip(i + 1) {
                    let v = eval(e, &[], ctx)?;
                    check.eq.push((col(j)?, v));
                }
                if let Some((e, incl)) = &r.lower {
                    check.lower = Some((col(r.eq.len())?, eval(e, &[], ctx)?, *incl));
                }
                if let Some((e, incl)) = &r.upper {
                    check.upper = Some((col(r.eq.len())?, eval(e, &[], ctx)?, *incl));
                }
                let mut lo = prefix.clone();
                encode_value_collated(&Value::DateTime(first), coll, &mut lo);
                let mut hi = prefix;
                encode_value_collated(&Value::DateTime(last), coll, &mut hi);
                return Ok(Some(((Some(lo), succ(&hi)), check)));
            }
            Conv::Exact(x) => encode_value_collated(&x, coll, &mut prefix),
            Conv::Incomparable => {
                *exact = false;
                check.eq.push((col(i)?, v));
                return Ok(Some((prefix_interval(prefix), check)));
            }
            _ => return Ok(None),
        }
        check.eq.push((col(i)?, v));
    }
    if r.lower.is_none() && r.upper.is_none() {
        *point = !prefix.is_empty() && r.eq.len() == types.len();
        if *point && lone_point {
            // Read with a point get and merged with nothing: no end needed.
            return Ok(Some(((Some(prefix), None), check)));
        }
        return Ok(Some((prefix_interval(prefix), check)));
    }
    let n = r.eq.len();
    let (ty, coll) = types.get(n).copied().unwrap_or((SqlType::Null, Collation::LEGACY));
    // A bound on this column is never true for NULL: start after NULLs.
    let mut after_null = prefix.clone();
    after_null.push(AFTER_NULL);
    let mut lo: Option<Vec<u8>> = Some(after_null);
    let mut hi: Option<Vec<u8>> = if prefix.is_empty() { None } else { succ(&prefix) };
    if let Some((e, incl)) = &r.lower {
        let v = eval(e, &[], ctx)?;
        *exact &= same_rules(ty, &v);
        match convert(ty, &v) {
            // The first instant whose local time is at least `local`
            // (inclusive: a superset, checked per row unless the offset is
            // fixed).
            Conv::Exact(Value::DateTime(local)) if is_ts(ty) => {
                let fixed = tz.is_fixed();
                *exact &= fixed;
                let mut k = prefix.clone();
                encode_value_collated(&Value::DateTime(tz.utc_bound(local, true)), coll, &mut k);
                lo = if *incl || !fixed { Some(k) } else { succ(&k).or(Some(k)) };
            }
            Conv::Exact(x) => {
                let mut k = prefix.clone();
                encode_value_collated(&x, coll, &mut k);
                lo = if *incl { Some(k) } else { succ(&k).or(Some(k)) };
            }
            Conv::Between(_, c) => {
                let mut k = prefix.clone();
                encode_value_collated(&c, coll, &mut k);
                lo = Some(k);
            }
            Conv::AboveAll | Conv::Null => return Ok(None),
            Conv::BelowAll => {}
            Conv::Incomparable => *exact = false,
        }
        check.lower = Some((col(n)?, v, *incl));
    }
    if let Some((e, incl)) = &r.upper {
        let v = eval(e, &[], ctx)?;
        *exact &= same_rules(ty, &v);
        match convert(ty, &v) {
            // The last instant whose local time is at most `local`.
            Conv::Exact(Value::DateTime(local)) if is_ts(ty) => {
                let fixed = tz.is_fixed();
                *exact &= fixed;
                let mut k = prefix.clone();
                encode_value_collated(&Value::DateTime(tz.utc_bound(local, false)), coll, &mut k);
                hi = if *incl || !fixed { succ(&k) } else { Some(k) };
            }
            Conv::Exact(x) => {
                let mut k = prefix.clone();
                encode_value_collated(&x, coll, &mut k);
                hi = if *incl { succ(&k) } else { Some(k) };
            }
            Conv::Between(f, _) => {
                let mut k = prefix.clone();
                encode_value_collated(&f, coll, &mut k);
                hi = succ(&k);
            }
            Conv::BelowAll | Conv::Null => return Ok(None),
            Conv::AboveAll => {}
            Conv::Incomparable => *exact = false,
        }
        check.upper = Some((col(n)?, v, *incl));
    }
    if let (Some(l), Some(h)) = (&lo, &hi) {
        if l >= h {
            return Ok(None);
        }
    }
    Ok(Some(((lo, hi), check)))
}

fn prefix_interval(prefix: Vec<u8>) -> Interval {
    if prefix.is_empty() {
        (None, None)
    } else {
        let hi = succ(&prefix);
        (Some(prefix), hi)
    }
}

/// Sorts and merges intervals (invariant 2).
fn merge(mut v: Vec<Interval>) -> Vec<Interval> {
    v.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    });
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for iv in v {
        if let Some(last) = out.last_mut() {
            let overlaps = match (&last.1, &iv.0) {
                (None, _) => true,
                (Some(_), None) => true,
                (Some(h), Some(l)) => l <= h,
            };
            if overlaps {
                last.1 = match (&last.1, &iv.1) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b).clone()),
                };
                continue;
            }
        }
        out.push(iv);
    }
    out
}

enum Source {
    Primary,
    Index,
}

struct Open {
    source: Source,
    space: SpaceId,
    intervals: Vec<Interval>,
    /// Per interval: it holds exactly one whole primary key, read with a
    /// point lookup instead of a cursor.
    points: Vec<bool>,
    /// The ranges as row checks, when the intervals are wider (invariant 1).
    checks: Option<Vec<RangeCheck>>,
    next: usize,
    cur: Option<TxnCursor>,
}

/// The row positions of the key `access` reads by (none for a full scan).
fn key_columns<'t>(table: &'t TableDef, access: &Access) -> &'t [usize] {
    match access {
        Access::Full => &[],
        Access::Primary(_) => &table.primary_key,
        Access::Index { index, .. } => table.indexes.get(*index).map_or(&[], |ix| &ix.columns),
    }
}

/// A filter split for late decoding (invariant 6).
struct Late {
    /// The first conjunct, and the columns it reads (decoded first).
    first: Compiled,
    first_cols: Vec<usize>,
    /// The other conjuncts, in order, and the other wanted columns.
    rest: Compiled,
    rest_cols: Vec<usize>,
}

/// What the first conjunct made of a row decoded late.
enum Early {
    /// FALSE: the row is rejected (its vector can be reused).
    Rejected(Row),
    /// The whole row, and whether the first conjunct was TRUE (NULL:
    /// rejected once the other conjuncts ran).
    Decoded(Row, bool),
}

/// The conjuncts of an AND chain in evaluation order (left to right).
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let (mut out, mut stack) = (Vec::new(), vec![e]);
    while let Some(x) = stack.pop() {
        match x {
            Expr::And(l, r) => {
                stack.push(r);
                stack.push(l);
            }
            x => out.push(x),
        }
    }
    out
}

/// True for a column whose decoded value is a heap allocation.
fn allocates(ty: SqlType) -> bool {
    !matches!(
        ty,
        SqlType::Null
            | SqlType::Bool
            | SqlType::Int { .. }
            | SqlType::Float
            | SqlType::Double
            | SqlType::Date
            | SqlType::DateTime(_)
            | SqlType::Timestamp(_)
            | SqlType::Year
            | SqlType::Time(_)
            | SqlType::Bit(_)
    )
}

/// A table scan operator.
pub struct ScanOp {
    table: Arc<TableDef>,
    access: Access,
    filter: Option<Compiled>,
    /// The filter's conjuncts (first, the others), until `with_columns`
    /// decides on late decoding.
    split: Option<(Expr, Expr)>,
    late: Option<Late>,
    with_rowkey: bool,
    /// Columns to decode (`None`: all); the others are NULL.
    columns: Option<Vec<bool>>,
    lock: LockMode,
    open: Option<Open>,
    done: bool,
    /// Type and collation of each column of the key the ranges bound
    /// (computed once: the operator may run many times, `Operator::reset`).
    key_types: Vec<(SqlType, Collation)>,
    /// The last run's interval, point and check lists, emptied and reused
    /// by the next `open` (a kept tree runs again without allocating them).
    spare: (Vec<Interval>, Vec<bool>, Vec<RangeCheck>),
    /// A point read's key vector, given back for the next execution.
    spare_key: Vec<u8>,
    /// At most this many rows will be read (`Operator::limit_hint`): the
    /// size of each cursor's first storage batch.
    first_batch: Option<usize>,
    /// Read in descending key order: the last interval first, each one
    /// backwards (invariant 7).
    desc: bool,
    /// Row vectors given back by the consumer (`Operator::recycle`),
    /// decoded into again.
    rows: SpareRows,
    /// A batch vector given back, filled again by the next batch.
    batch: Vec<Row>,
}

impl ScanOp {
    /// A scan; nothing is read until the first `next`.
    pub fn new(table: Arc<TableDef>, access: Access, filter: Option<Expr>) -> ScanOp {
        let key_types = key_columns(&table, &access)
            .iter()
            .filter_map(|&c| table.columns.get(c))
            .map(|c| (c.ty, c.collation))
            .collect();
        let split = filter.as_ref().and_then(|f| {
            let mut cs = conjuncts(f).into_iter().cloned();
            let first = cs.next()?;
            let rest = cs.reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))?;
            Some((first, rest))
        });
        ScanOp {
            key_types,
            table,
            access,
            filter: filter.map(Compiled::new),
            split,
            late: None,
            with_rowkey: false,
            columns: None,
            lock: LockMode::None,
            open: None,
            done: false,
            spare: (Vec::new(), Vec::new(), Vec::new()),
            spare_key: Vec::new(),
            first_batch: None,
            desc: false,
            rows: SpareRows::default(),
            batch: Vec::new(),
        }
    }

    /// Reads in descending key order (invariant 7).
    pub fn with_desc(mut self, desc: bool) -> ScanOp {
        self.desc = desc;
        self
    }

    /// Locks each row it returns (`FOR UPDATE` / `FOR SHARE`).
    pub fn with_lock(mut self, lock: LockMode) -> ScanOp {
        self.lock = lock;
        self
    }

    /// Decodes only the columns marked in `needs` (`None`: all), and the
    /// key columns, which range checks read (invariant 1).
    pub fn with_columns(mut self, needs: Option<Vec<bool>>) -> ScanOp {
        self.columns = needs.map(|mut v| {
            for &k in key_columns(&self.table, &self.access) {
                if let Some(slot) = v.get_mut(k) {
                    *slot = true;
                }
            }
            v
        });
        self.late = self.plan_late();
        self
    }

    /// Late decoding for this scan's filter, if it pays (invariant 6).
    fn plan_late(&mut self) -> Option<Late> {
        let (first, rest) = self.split.take()?;
        if self.lock != LockMode::None {
            return None;
        }
        let mut subquery = false;
        first.walk(&mut |x| subquery |= matches!(x, Expr::Subquery(_)));
        let mut first_cols = Vec::new();
        first.columns_used(&mut first_cols);
        first_cols.sort_unstable();
        first_cols.dedup();
        let n = self.table.columns.len();
        if subquery || first_cols.is_empty() || first_cols.iter().any(|&c| c >= n) {
            return None;
        }
        let wanted = |i: usize| self.columns.as_ref().is_none_or(|c| c.get(i).copied().unwrap_or(true));
        let rest_cols: Vec<usize> = (0..n).filter(|&i| wanted(i) && first_cols.binary_search(&i).is_err()).collect();
        if !rest_cols.iter().any(|&c| allocates(self.table.columns[c].ty)) {
            return None;
        }
        Some(Late { first: Compiled::new(first), first_cols, rest: Compiled::new(rest), rest_cols })
    }

    /// Appends each row's key as a trailing value (invariant 3).
    pub fn with_rowkey(mut self) -> ScanOp {
        self.with_rowkey = true;
        self
    }

    fn open(&mut self, ctx: &mut Ctx<'_>) -> Result<Open, ExecError> {
        let t = &self.table;
        let (source, space, cols, ranges): (Source, SpaceId, &[usize], Option<&Vec<KeyRange>>) = match &self.access {
            Access::Full => (Source::Primary, t.space, &[], None),
            Access::Primary(r) => (Source::Primary, t.space, &t.primary_key, Some(r)),
            Access::Index { index, ranges } => {
                let ix =
                    t.indexes.get(*index).ok_or_else(|| ExecError::Internal("index position out of range".into()))?;
                (Source::Index, ix.space, &ix.columns, Some(ranges))
            }
        };
        let (mut intervals, mut points, mut checks) = std::mem::take(&mut self.spare);
        intervals.clear();
        points.clear();
        // The last execution's checks and point key are filled again.
        let mut old_checks = std::mem::take(&mut checks);
        let mut key = std::mem::take(&mut self.spare_key);
        let Some(rs) = ranges else {
            intervals.push((None, None));
            points.push(false);
            return Ok(Open { source, space, intervals, points, checks: None, next: 0, cur: None });
        };
        let types = &self.key_types;
        let mut exact = true;
        // One range on the primary key that turns out to be a point is read
        // with a point get and merged with nothing: its interval needs no end.
        let lone_point = rs.len() == 1 && !rs[0].list && matches!(source, Source::Primary);
        for r in rs {
            // A list range: one range per value of its subquery (see
            // `KeyRange::list`), each with the value as its last equality.
            let mut expanded: Vec<KeyRange> = Vec::new();
            let one = std::slice::from_ref(r);
            let each: &[KeyRange] = match r.eq.split_last() {
                Some((sub, fixed)) if r.list => {
                    in_subquery_values(sub, ctx, |v| {
                        let mut eq = fixed.to_vec();
                        eq.push(Expr::Literal(v.clone(), SqlType::Null));
                        expanded.push(KeyRange { eq, lower: None, upper: None, list: false });
                    })?;
                    &expanded
                }
                _ => one,
            };
            for r in each {
                let mut point = false;
                let reused = (old_checks.pop().map(RangeCheck::recycled).unwrap_or_default(), std::mem::take(&mut key));
                if let Some((iv, check)) = interval((types, cols), r, ctx, &mut exact, &mut point, lone_point, reused)?
                {
                    points.push(point && matches!(source, Source::Primary));
                    intervals.push(iv);
                    checks.push(check);
                }
            }
        }
        let checks = if exact {
            self.spare.2 = checks;
            None
        } else {
            for c in &mut checks {
                c.colls = types.iter().map(|t| t.1).collect();
            }
            Some(checks)
        };
        if intervals.len() > 1 {
            let mut whole_keys: Vec<Vec<u8>> =
                intervals.iter().zip(&points).filter(|(_, p)| **p).filter_map(|(iv, _)| iv.0.clone()).collect();
            intervals = merge(intervals);
            // A merged interval is a point iff it is still [whole key, successor).
            whole_keys.sort_unstable();
            points = intervals
                .iter()
                .map(|(lo, hi)| match lo {
                    Some(k) => whole_keys.binary_search(k).is_ok() && *hi == succ(k),
                    None => false,
                })
                .collect();
        }
        Ok(Open { source, space, intervals, points, checks, next: 0, cur: None })
    }

    /// Decodes a stored row for late decoding (invariant 6): the first
    /// conjunct's columns, then, unless it is FALSE, the other wanted ones.
    fn decode_late(
        &self,
        late: &Late,
        payload: &[u8],
        key: &[u8],
        mut row: Row,
        ctx: &mut Ctx<'_>,
    ) -> Result<Early, ExecError> {
        let r = RowRef::new(payload)?;
        let cols = &self.table.columns;
        row.clear();
        row.resize(cols.len(), Value::Null);
        if self.with_rowkey {
            row.push(Value::bytes(key));
        }
        let fill = |row: &mut Row, which: &[usize]| -> Result<(), ExecError> {
            for &i in which {
                if let (Some(slot), Some(c)) = (row.get_mut(i), cols.get(i)) {
                    if i < r.len() {
                        r.get_as_into(i, c.ty, slot)?;
                    }
                }
            }
            Ok(())
        };
        fill(&mut row, &late.first_cols)?;
        let first = late.first.eval(&row, ctx)?.truth();
        if first == Some(false) {
            return Ok(Early::Rejected(row));
        }
        fill(&mut row, &late.rest_cols)?;
        Ok(Early::Decoded(row, first == Some(true)))
    }

    /// Decodes a stored row into `row` (empty; a spare vector or new).
    fn decode(&self, payload: &[u8], key: &[u8], mut row: Row) -> Result<Row, ExecError> {
        let r = RowRef::new(payload)?;
        let n = self.table.columns.len();
        row.clear();
        row.resize(n, Value::Null);
        row.reserve(usize::from(self.with_rowkey));
        // Decoded in place (`get_as_into`): no copies of each value.
        for (i, (slot, c)) in row.iter_mut().zip(&self.table.columns).enumerate() {
            let wanted = self.columns.as_ref().is_none_or(|c| c.get(i).copied().unwrap_or(true));
            if wanted && i < r.len() {
                r.get_as_into(i, c.ty, slot)?;
            }
        }
        if self.with_rowkey {
            row.push(Value::bytes(key));
        }
        Ok(row)
    }
}

impl Operator for ScanOp {
    fn reset(&mut self) -> bool {
        // The ranges are evaluated when the scan opens, so a new run reads
        // the new execution's parameters.
        if let Some(o) = self.open.take() {
            // `open` empties them before use.
            let checks = o.checks.unwrap_or_else(|| std::mem::take(&mut self.spare.2));
            self.spare = (o.intervals, o.points, checks);
        }
        self.done = false;
        true
    }

    fn limit_hint(&mut self, rows: usize) {
        // Rows the filter rejects or that are not visible need more
        // versions than rows; later batches grow (`TxnCursor::first_batch`).
        self.first_batch = Some(rows);
    }

    fn recycle(&mut self, mut batch: Vec<Row>) {
        self.rows.keep(batch.drain(..));
        if self.batch.capacity() == 0 {
            self.batch = batch;
        }
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.done {
            return Ok(None);
        }
        if self.open.is_none() {
            let o = self.open(ctx)?;
            self.open = Some(o);
        }
        loop {
            // One stop point per storage batch (ctx invariant 3).
            ctx.check_stop()?;
            let Some(o) = self.open.as_mut() else { return Ok(None) };
            if o.cur.is_none() {
                // Descending: the intervals from the last (invariant 7).
                let at = if self.desc { o.intervals.len().checked_sub(o.next + 1) } else { Some(o.next) };
                let Some(iv) = at.and_then(|at| o.intervals.get_mut(at)) else {
                    self.done = true;
                    return Ok(None);
                };
                let point = at.and_then(|at| o.points.get(at)).copied().unwrap_or(false);
                o.next += 1;
                if point {
                    // Each interval is read once: its key can leave it.
                    let (space, key) = (o.space, iv.0.take().unwrap_or_default());
                    // Decoded in place from the engine's batch, into a
                    // spare vector.
                    let into = self.rows.take(self.table.columns.len() + usize::from(self.with_rowkey));
                    let row = ctx.txn.get_with(space, &key, |payload| self.decode(payload, &key, into))?;
                    let accepted = match row.transpose()? {
                        Some(row) => self.accept(row, &key, None, ctx)?,
                        None => None,
                    };
                    self.spare_key = key;
                    if let Some(row) = accepted {
                        // The batch vector given back last time, if any.
                        let mut out = std::mem::take(&mut self.batch);
                        out.push(row);
                        return Ok(Some(out));
                    }
                    continue;
                }
                let lo = match &iv.0 {
                    Some(k) => Bound::Included(k.as_slice()),
                    None => Bound::Unbounded,
                };
                let hi = match &iv.1 {
                    Some(k) => Bound::Excluded(k.as_slice()),
                    None => Bound::Unbounded,
                };
                let mut cur =
                    if self.desc { ctx.txn.scan_desc(o.space, lo, hi)? } else { ctx.txn.scan(o.space, lo, hi)? };
                if let Some(n) = self.first_batch {
                    cur.first_batch(n);
                }
                o.cur = Some(cur);
            }
            let is_index = matches!(o.source, Source::Index);
            // The cursor leaves `self` while its batch is read in place.
            let Some(mut cur) = o.cur.take() else { continue };
            let table_space = self.table.space;
            let width = self.table.columns.len() + usize::from(self.with_rowkey);
            // Late decoding only where no row checks run (invariant 6).
            let late =
                self.late.as_ref().filter(|_| !is_index && self.open.as_ref().is_some_and(|o| o.checks.is_none()));
            let mut out = std::mem::take(&mut self.batch);
            let more = match cur.next_visible()? {
                None => false,
                Some(vis) => {
                    out.reserve(vis.len());
                    for n in 0..vis.len() {
                        let (k, v) = vis.get(n)?;
                        let mut first = None;
                        let (row, rowkey) = if let Some(late) = late {
                            let into = self.rows.take(width);
                            match self.decode_late(late, v, k, into, ctx)? {
                                Early::Rejected(row) => {
                                    ctx.rows_examined += 1;
                                    self.rows.keep(std::iter::once(row));
                                    continue;
                                }
                                Early::Decoded(row, was_true) => {
                                    first = Some(was_true);
                                    (row, k)
                                }
                            }
                        } else if is_index {
                            match ctx.txn.get(table_space, v)? {
                                Some(payload) => {
                                    let into = self.rows.take(width);
                                    (self.decode(&payload, v, into)?, v)
                                }
                                None => continue,
                            }
                        } else {
                            let into = self.rows.take(width);
                            (self.decode(v, k, into)?, k)
                        };
                        if let Some(row) = self.accept(row, rowkey, first, ctx)? {
                            out.push(row);
                        }
                    }
                    true
                }
            };
            if more {
                if let Some(o) = self.open.as_mut() {
                    o.cur = Some(cur);
                }
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
            self.batch = out;
        }
    }
}

impl ScanOp {
    /// Applies the range checks, the filter and the row lock to a fetched
    /// row; `None` when the row is not selected. `first`: the row was
    /// decoded late and its first conjunct was TRUE (or NULL: false); only
    /// the other conjuncts run here.
    fn accept(
        &self,
        row: Row,
        rowkey: &[u8],
        first: Option<bool>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Option<Row>, ExecError> {
        ctx.rows_examined += 1;
        if let Some(checks) = self.open.as_ref().and_then(|o| o.checks.as_ref()) {
            if !checks.iter().any(|c| c.passes(&row)) {
                return Ok(None);
            }
        }
        let (filter, first_true) = match (first, &self.late) {
            (Some(t), Some(late)) => (Some(&late.rest), t),
            _ => (self.filter.as_ref(), true),
        };
        if let Some(f) = filter {
            if !f.holds(&row, ctx)? {
                return Ok(None);
            }
        }
        if !first_true {
            return Ok(None);
        }
        // A locking read waits for a row another transaction holds, or per
        // the statement's NOWAIT / SKIP LOCKED fails or leaves the row out.
        let locked = match self.lock {
            LockMode::None => true,
            LockMode::Share => ctx.txn.lock_row_shared(self.table.space, rowkey)?,
            LockMode::Update => ctx.txn.lock_row(self.table.space, rowkey)?,
        };
        Ok(locked.then_some(row))
    }
}
