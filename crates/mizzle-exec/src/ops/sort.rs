//! Sorting: materialises its input and orders it by the sort keys.
//!
//! Invariants:
//! 1. The sort is stable; NULL sorts first ascending and last descending,
//!    as in MySQL.
//! 2. Key values are computed once per row, not once per comparison
//!    (plain column keys are compared in place).
//! 3. Under a LIMIT, only the rows the limit keeps are fully sorted; the
//!    result is the same prefix a full stable sort gives.
//! 4. A key ordered by a collation's weight strings is compared with
//!    `Collation::compare`, whose order is the weight strings' order
//!    (`collation::tests::sort_keys_order_as_compare` checks it).

use std::cmp::Ordering;

use mizzle_sql::expr::{Expr, SortKey};
use mizzle_types::{Collation, Value};

use crate::build::{Operator, Row, BATCH};
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;

/// The sort operator.
pub struct SortOp {
    input: Option<Box<dyn Operator>>,
    keys: Vec<SortKey>,
    /// Only this many leading rows are wanted (LIMIT + OFFSET above).
    top: Option<usize>,
    out: Option<std::vec::IntoIter<Row>>,
}

impl SortOp {
    /// Sorts `input` by `keys`.
    pub fn new(input: Box<dyn Operator>, keys: Vec<SortKey>) -> SortOp {
        SortOp { input: Some(input), keys, top: None, out: None }
    }

    /// Produces only the first `n` rows of the order (a top-n sort).
    pub fn with_top(mut self, n: Option<usize>) -> SortOp {
        self.top = n;
        self
    }
}

/// Compares two key tuples by `keys`' directions. `collations[i]` is set
/// for a key that orders text by its weight string: two texts are then
/// compared by the collation directly, which orders exactly as their
/// weight strings do (invariant 4), without building them.
/// `ascii` has bit `i` set when both texts of key `i` (below 64) have
/// `Collation::has_ascii_order`.
fn cmp_keys(keys: &[SortKey], collations: &[Option<Collation>], ascii: u64, a: &[Value], b: &[Value]) -> Ordering {
    for (i, s) in keys.iter().enumerate() {
        let o = match (a.get(i), b.get(i), collations.get(i).copied().flatten()) {
            (Some(Value::Text(x)), Some(Value::Text(y)), Some(c)) => {
                if i < 64 && ascii & (1 << i) != 0 {
                    c.compare_ascii(x, y)
                } else {
                    c.compare(x, y)
                }
            }
            (Some(x), Some(y), Some(c)) => weighed(x, c).sort_cmp(&weighed(y, c)),
            (Some(x), Some(y), None) => x.sort_cmp(y),
            _ => Ordering::Equal,
        };
        let o = if s.desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// The value a weight-string key has: text becomes its weight string, as
/// `Expr::Weight` evaluates; other values stay.
fn weighed(v: &Value, c: Collation) -> std::borrow::Cow<'_, Value> {
    match v {
        Value::Text(t) => std::borrow::Cow::Owned(Value::Bytes(c.sort_key_vec(t).into())),
        v => std::borrow::Cow::Borrowed(v),
    }
}

/// A row with its computed sort keys and input position.
struct Keyed {
    keys: KeyVals,
    /// Bit `i`: key `i` is text with `Collation::has_ascii_order`.
    ascii: u64,
    pos: usize,
    row: Row,
}

/// A row's computed sort keys: one key (the common `ORDER BY x`) is held
/// inline, so sorting allocates no vector per row for it.
enum KeyVals {
    One(Value),
    Many(Vec<Value>),
}

impl KeyVals {
    fn as_slice(&self) -> &[Value] {
        match self {
            KeyVals::One(v) => std::slice::from_ref(v),
            KeyVals::Many(v) => v,
        }
    }
}

/// Sorts rows by `keys` (stable). With `top`, only the first `top` rows of
/// the order are returned: they are selected in linear time first (ties
/// broken by input position, so the result equals the full stable sort's
/// prefix) and only they are sorted.
pub fn sort_rows(
    rows: Vec<Row>,
    keys: &[SortKey],
    top: Option<usize>,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Row>, ExecError> {
    // Plain column keys are compared in place; others are computed once.
    let cols: Option<Vec<usize>> = keys
        .iter()
        .map(|k| match k.expr {
            Expr::Column { index, .. } => Some(index),
            _ => None,
        })
        .collect();
    // A weight-string key is evaluated as its text (compared under the
    // collation in `cmp_keys`).
    let (exprs, collations): (Vec<&Expr>, Vec<Option<Collation>>) = keys
        .iter()
        .map(|k| match &k.expr {
            Expr::Weight { arg, collation } => (&**arg, Some(*collation)),
            e => (e, None),
        })
        .unzip();
    let mut keyed: Vec<Keyed> = Vec::with_capacity(rows.len());
    for (pos, row) in rows.into_iter().enumerate() {
        let mut ascii = 0u64;
        let mut key = |i: usize, ctx: &mut Ctx<'_>| -> Result<Value, ExecError> {
            let v = eval(exprs[i], &row, ctx)?;
            if let (Value::Text(t), Some(c)) = (&v, collations[i]) {
                if i < 64 && c.has_ascii_order(t) {
                    ascii |= 1 << i;
                }
            }
            Ok(v)
        };
        let keys = match (&cols, exprs.len()) {
            (Some(_), _) => KeyVals::Many(Vec::new()),
            (None, 1) => KeyVals::One(key(0, ctx)?),
            (None, n) => KeyVals::Many((0..n).map(|i| key(i, ctx)).collect::<Result<_, _>>()?),
        };
        keyed.push(Keyed { keys, ascii, pos, row });
    }
    let cmp = |a: &Keyed, b: &Keyed| -> Ordering {
        let o = match &cols {
            Some(cs) => {
                let mut o = Ordering::Equal;
                for (s, &c) in keys.iter().zip(cs) {
                    let x = a.row.get(c).unwrap_or(&Value::Null).sort_cmp(b.row.get(c).unwrap_or(&Value::Null));
                    let x = if s.desc { x.reverse() } else { x };
                    if x != Ordering::Equal {
                        o = x;
                        break;
                    }
                }
                o
            }
            None => cmp_keys(keys, &collations, a.ascii & b.ascii, a.keys.as_slice(), b.keys.as_slice()),
        };
        o.then(a.pos.cmp(&b.pos))
    };
    if let Some(n) = top {
        if n == 0 {
            return Ok(Vec::new());
        }
        if n < keyed.len() {
            keyed.select_nth_unstable_by(n - 1, cmp);
            keyed.truncate(n);
        }
    }
    keyed.sort_unstable_by(cmp);
    Ok(keyed.into_iter().map(|k| k.row).collect())
}

impl Operator for SortOp {
    fn reset(&mut self) -> bool {
        self.out = None;
        self.input.as_mut().is_some_and(|i| i.reset())
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.out.is_none() {
            let mut rows = Vec::new();
            // The input stays, so the operator can run again (`reset`).
            if let Some(input) = self.input.as_mut() {
                while let Some(b) = input.next(ctx)? {
                    rows.extend(b);
                }
            }
            self.out = Some(sort_rows(rows, &self.keys, self.top, ctx)?.into_iter());
        }
        let Some(it) = self.out.as_mut() else { return Ok(None) };
        let batch: Vec<Row> = it.take(BATCH).collect();
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}
