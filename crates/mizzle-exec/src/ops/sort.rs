//! Sorting: materialises its input and orders it by the sort keys.
//!
//! Invariants:
//! 1. The sort is stable; NULL sorts first ascending and last descending,
//!    as in MySQL.
//! 2. Key values are computed once per row, not once per comparison
//!    (plain column keys are compared in place).
//! 3. Under a LIMIT, only the rows the limit keeps are fully sorted; the
//!    result is the same prefix a full stable sort gives.

use std::cmp::Ordering;

use mizzle_sql::expr::{Expr, SortKey};
use mizzle_types::Value;

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

/// Compares two key tuples by `keys`' directions.
fn cmp_keys(keys: &[SortKey], a: &[Value], b: &[Value]) -> Ordering {
    for (i, s) in keys.iter().enumerate() {
        let o = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => x.sort_cmp(y),
            _ => Ordering::Equal,
        };
        let o = if s.desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
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
    let mut keyed: Vec<(Vec<Value>, usize, Row)> = Vec::with_capacity(rows.len());
    for (pos, r) in rows.into_iter().enumerate() {
        let mut k = Vec::new();
        if cols.is_none() {
            k.reserve(keys.len());
            for s in keys {
                k.push(eval(&s.expr, &r, ctx)?);
            }
        }
        keyed.push((k, pos, r));
    }
    let cmp = |a: &(Vec<Value>, usize, Row), b: &(Vec<Value>, usize, Row)| -> Ordering {
        let o = match &cols {
            Some(cs) => {
                let mut o = Ordering::Equal;
                for (s, &c) in keys.iter().zip(cs) {
                    let x = a.2.get(c).unwrap_or(&Value::Null).sort_cmp(b.2.get(c).unwrap_or(&Value::Null));
                    let x = if s.desc { x.reverse() } else { x };
                    if x != Ordering::Equal {
                        o = x;
                        break;
                    }
                }
                o
            }
            None => cmp_keys(keys, &a.0, &b.0),
        };
        o.then(a.1.cmp(&b.1))
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
    Ok(keyed.into_iter().map(|(_, _, r)| r).collect())
}

impl Operator for SortOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.out.is_none() {
            let mut rows = Vec::new();
            if let Some(mut input) = self.input.take() {
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
