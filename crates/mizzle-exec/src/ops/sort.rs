//! Sorting: materialises its input and orders it by the sort keys.
//!
//! Invariants:
//! 1. The sort is stable; NULL sorts first ascending and last descending,
//!    as in MySQL.
//! 2. Key values are computed once per row, not once per comparison.

use mizzle_sql::expr::SortKey;
use mizzle_types::Value;

use crate::build::{Operator, Row, BATCH};
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;

/// The sort operator.
pub struct SortOp {
    input: Option<Box<dyn Operator>>,
    keys: Vec<SortKey>,
    out: Option<std::vec::IntoIter<Row>>,
}

impl SortOp {
    /// Sorts `input` by `keys`.
    pub fn new(input: Box<dyn Operator>, keys: Vec<SortKey>) -> SortOp {
        SortOp { input: Some(input), keys, out: None }
    }
}

/// Sorts rows by keys computed with `key_of`.
pub fn sort_rows(rows: Vec<Row>, keys: &[SortKey], ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    let mut keyed: Vec<(Vec<Value>, Row)> = Vec::with_capacity(rows.len());
    for r in rows {
        let mut k = Vec::with_capacity(keys.len());
        for s in keys {
            k.push(eval(&s.expr, &r, ctx)?);
        }
        keyed.push((k, r));
    }
    keyed.sort_by(|a, b| {
        for (i, s) in keys.iter().enumerate() {
            let o = a.0[i].sort_cmp(&b.0[i]);
            let o = if s.desc { o.reverse() } else { o };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
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
            self.out = Some(sort_rows(rows, &self.keys, ctx)?.into_iter());
        }
        let Some(it) = self.out.as_mut() else { return Ok(None) };
        let batch: Vec<Row> = it.take(BATCH).collect();
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}
