//! JSON_TABLE: for each input row, evaluates the document expression and
//! appends the rows the table's row path and columns make of it (a lateral
//! join; a JSON_TABLE alone in FROM reads one empty input row).
//!
//! Invariants:
//! 1. Output rows are the input row followed by the table's columns in the
//!    slot order of `plan::JtColumn` (depth-first, as written).
//! 2. A NESTED PATH that finds nothing leaves its parent row in place once
//!    with its columns NULL; sibling NESTED PATHs are not joined with each
//!    other: each sibling's rows have the other siblings' columns NULL.
//! 3. A column value's failure answers by its ON EMPTY / ON ERROR clause
//!    (NULL unless it says DEFAULT or ERROR), as MySQL 8 does.
//!
//! It does not push predicates into the document walk: every row is made
//! and then filtered by the join condition.

use mizzle_sql::expr::Expr;
use mizzle_sql::plan::{JsonTableDef, JtColumn, JtOnMiss};
use mizzle_types::cast::{assign, Target};
use mizzle_types::error::{JsonErrorAt, JsonErrorSite};
use mizzle_types::json::{self, Json, JsonPath};
use mizzle_types::{SqlType, TypeError, Value, ValueKind};

use crate::build::{Operator, Row};
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;

/// The lateral JSON_TABLE operator.
pub(crate) struct JsonTableOp {
    pub(crate) input: Box<dyn Operator>,
    pub(crate) doc: Expr,
    pub(crate) def: JsonTableDef,
    /// LEFT JOIN: an input row without table rows (or none passing
    /// `cond`) is kept once with the table's columns NULL.
    pub(crate) outer: bool,
    /// The join condition, over input ++ table columns.
    pub(crate) cond: Option<Expr>,
}

impl Operator for JsonTableOp {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        loop {
            let Some(batch) = self.input.next(ctx)? else { return Ok(None) };
            let mut out = Vec::new();
            for r in batch {
                let d = eval(&self.doc, &r, ctx)?;
                let rows = table_rows(&d, &self.def)?;
                let mut any = false;
                for t in rows {
                    let mut row = r.clone();
                    row.extend(t);
                    if let Some(c) = &self.cond {
                        if eval(c, &row, ctx)?.truth() != Some(true) {
                            continue;
                        }
                    }
                    any = true;
                    out.push(row);
                }
                if self.outer && !any {
                    let mut row = r;
                    row.resize(row.len() + self.def.width, Value::Null);
                    out.push(row);
                }
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }
}

fn json_err(error: json::JsonError) -> ExecError {
    ExecError::Type(TypeError::Json(JsonErrorAt { error, at: JsonErrorSite::Arg { arg: 1, func: "json_table" } }))
}

/// The rows of the table for one document value (none for NULL).
pub(crate) fn table_rows(d: &Value, def: &JsonTableDef) -> Result<Vec<Row>, ExecError> {
    let doc = match d {
        Value::Null => return Ok(Vec::new()),
        Value::Json(_) | Value::Text(_) | Value::Bytes(_) => match json::from_value(d).map_err(json_err)? {
            Some(j) => j,
            None => return Ok(Vec::new()),
        },
        _ => {
            return Err(ExecError::Type(TypeError::Json(JsonErrorAt::site(JsonErrorSite::NotJson {
                arg: 1,
                func: "json_table",
            }))))
        }
    };
    let mut out = Vec::new();
    for (i, node) in matches(&doc, &def.path)?.into_iter().enumerate() {
        out.extend(level_rows(&node, &def.columns, i as u64 + 1, def)?);
    }
    Ok(out)
}

fn matches(j: &Json, path: &JsonPath) -> Result<Vec<Json>, ExecError> {
    Ok(json::path::eval(j, path).map_err(json_err)?.into_iter().cloned().collect())
}

/// The rows one row context makes at one nesting level (invariant 2).
fn level_rows(node: &Json, cols: &[JtColumn], ord: u64, def: &JsonTableDef) -> Result<Vec<Row>, ExecError> {
    let mut base = vec![Value::Null; def.width];
    for c in cols {
        match c {
            JtColumn::Ordinality { slot } => set(&mut base, *slot, Value::UInt(ord)),
            JtColumn::Exists { slot, name, ty, path } => {
                let found = !json::path::eval(node, path).map_err(json_err)?.is_empty();
                let v = assign(&Value::Int(found as i64), *ty, &Target { column: name, row: 1 })?;
                set(&mut base, *slot, v);
            }
            JtColumn::Value { slot, name, ty, path, on_empty, on_error } => {
                let v = column_value(node, name, *ty, path, on_empty, on_error)?;
                set(&mut base, *slot, v);
            }
            JtColumn::Nested { .. } => {}
        }
    }
    let mut rows = Vec::new();
    for c in cols {
        if let JtColumn::Nested { path, columns, .. } = c {
            for (i, n) in matches(node, path)?.into_iter().enumerate() {
                for sub in level_rows(&n, columns, i as u64 + 1, def)? {
                    // `sub` holds this nested level's columns; the rest of
                    // the row comes from `base`.
                    let mut row = base.clone();
                    fill_slots(&mut row, columns, &sub);
                    rows.push(row);
                }
            }
        }
    }
    if rows.is_empty() {
        rows.push(base);
    }
    Ok(rows)
}

/// Copies the slots of `cols` (nested levels included) from `from`.
fn fill_slots(row: &mut [Value], cols: &[JtColumn], from: &[Value]) {
    for c in cols {
        match c {
            JtColumn::Ordinality { slot } | JtColumn::Exists { slot, .. } | JtColumn::Value { slot, .. } => {
                if let (Some(dst), Some(v)) = (row.get_mut(*slot), from.get(*slot)) {
                    *dst = v.clone();
                }
            }
            JtColumn::Nested { columns, .. } => fill_slots(row, columns, from),
        }
    }
}

fn set(row: &mut [Value], slot: usize, v: Value) {
    if let Some(dst) = row.get_mut(slot) {
        *dst = v;
    }
}

/// A PATH column's value for one row context (invariant 3).
fn column_value(
    node: &Json,
    name: &str,
    ty: SqlType,
    path: &JsonPath,
    on_empty: &JtOnMiss,
    on_error: &JtOnMiss,
) -> Result<Value, ExecError> {
    let found = matches(node, path)?;
    let j = match found.as_slice() {
        [] => {
            return match on_empty {
                JtOnMiss::Null => Ok(Value::Null),
                JtOnMiss::Error => Err(ExecError::JsonTableMissing(name.to_string())),
                JtOnMiss::Default(d) => convert(d, name, ty).or_else(|e| miss(on_error, name, ty, e)),
            };
        }
        [one] => one,
        _ => return miss(on_error, name, ty, ExecError::JsonTableOutOfRange(name.to_string())),
    };
    match convert(j, name, ty) {
        Ok(v) => Ok(v),
        Err(e) => miss(on_error, name, ty, e),
    }
}

/// The ON ERROR answer to `err`.
fn miss(on_error: &JtOnMiss, name: &str, ty: SqlType, err: ExecError) -> Result<Value, ExecError> {
    match on_error {
        JtOnMiss::Null => Ok(Value::Null),
        JtOnMiss::Error => Err(err),
        JtOnMiss::Default(d) => convert(d, name, ty),
    }
}

/// A JSON value as a value of the column's type: JSON columns take it as
/// it is; others take a scalar (a JSON null is SQL NULL), converted in
/// strict mode.
fn convert(j: &Json, name: &str, ty: SqlType) -> Result<Value, ExecError> {
    if ty == SqlType::Json {
        return Ok(Value::json(j));
    }
    let sql = match j {
        Json::Null => return Ok(Value::Null),
        Json::Array(_) | Json::Object(_) => return Err(ExecError::JsonTableWrongValue(name.to_string())),
        Json::String(s) => Value::Text(s.as_str().into()),
        Json::Bool(b) if ty.kind() != ValueKind::Text => Value::Int(*b as i64),
        Json::Bool(b) => Value::Text(if *b { "true" } else { "false" }.into()),
        Json::Int(i) => Value::Int(*i),
        Json::UInt(u) => Value::UInt(*u),
        Json::Double(d) => Value::Double(*d),
        Json::Decimal(d) => Value::decimal(*d),
        Json::Date(d) => Value::Date(*d),
        Json::DateTime(d) => Value::DateTime(*d),
        Json::Time(t) => Value::Time(*t),
    };
    assign(&sql, ty, &Target { column: name, row: 1 }).map_err(|_| ExecError::JsonTableOutOfRange(name.to_string()))
}
