//! TIMESTAMP values on their way into a column: rows and keys hold a
//! TIMESTAMP as its UTC instant, while expressions compute in the session's
//! time zone (`mizzle_sql::expr` invariant 4), so every write of a computed
//! value to a TIMESTAMP column converts here.
//!
//! Invariants:
//! 1. A value computed by an expression is session-local; it is stored as
//!    its UTC instant ([`assign_column`]; strict: a time in a
//!    daylight-saving gap or outside TIMESTAMP's range is 1292).
//! 2. A value that is already stored UTC — a TIMESTAMP column copied as
//!    it is (`SET a = b`, `INSERT ... SELECT ts`), `NOW()` — is stored
//!    without a round trip through local time ([`eval_for_column`]), so
//!    the two instants of a daylight-saving fold stay apart, as in MySQL.
//!
//! This module does not read rows: scans keep stored values, and the
//! binder's `Expr::LocalTime` and `build::build_for_client` show them.

use mizzle_dictionary::{ColumnDef, TableDef};
use mizzle_sql::expr::Expr;
use mizzle_sql::func::ScalarFunc;
use mizzle_types::cast::{assign, assign_owned, assign_timestamp, Target};
use mizzle_types::{SqlType, Value};

use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;

/// Converts `v`, computed in session time, for storing into `col` (strict
/// rules; invariant 1).
pub(crate) fn assign_column(v: &Value, col: &ColumnDef, row: u64, ctx: &Ctx<'_>) -> Result<Value, ExecError> {
    let at = Target { column: &col.name, row };
    Ok(match col.ty {
        SqlType::Timestamp(fsp) => assign_timestamp(v, fsp, ctx.session.time_zone, &at)?,
        ty => assign(v, ty, &at)?,
    })
}

/// Converts `v` for storing into `col` when `stored` says it already is a
/// stored TIMESTAMP value (UTC; invariant 2), else as [`assign_column`].
pub(crate) fn assign_value(
    v: &Value,
    stored: bool,
    col: &ColumnDef,
    row: u64,
    ctx: &Ctx<'_>,
) -> Result<Value, ExecError> {
    match (stored, col.ty, v) {
        (true, SqlType::Timestamp(_), _) => Ok(assign(v, col.ty, &Target { column: &col.name, row })?),
        (true, _, Value::DateTime(utc)) => {
            let local = ctx.session.time_zone.from_utc(*utc).map_or(Value::Null, Value::DateTime);
            assign_column(&local, col, row, ctx)
        }
        _ => assign_column(v, col, row, ctx),
    }
}

/// Evaluates `e` over `input` and converts the value for storing into
/// `col`: a TIMESTAMP column read as it is, or `NOW()`, goes into a
/// TIMESTAMP column as its UTC instant (invariant 2).
pub(crate) fn eval_for_column(
    e: &Expr,
    input: &[Value],
    col: &ColumnDef,
    row: u64,
    ctx: &mut Ctx<'_>,
) -> Result<Value, ExecError> {
    if let SqlType::Timestamp(_) = col.ty {
        match e {
            Expr::LocalTime { arg, .. } => {
                let v = eval(arg, input, ctx)?;
                return assign_value(&v, true, col, row, ctx);
            }
            Expr::Func { func: ScalarFunc::Now | ScalarFunc::SysDate, args, ty } => {
                let utc = Expr::Func { func: ScalarFunc::UtcTimestamp, args: args.clone(), ty: *ty };
                let v = eval(&utc, input, ctx)?;
                return assign_value(&v, true, col, row, ctx);
            }
            _ => {}
        }
    }
    let v = eval(e, input, ctx)?;
    if v.is_null() {
        return Ok(v);
    }
    match col.ty {
        SqlType::Timestamp(_) => assign_column(&v, col, row, ctx),
        // Moved, not copied: most values already fit (`assign_owned`).
        ty => Ok(assign_owned(v, ty, &Target { column: &col.name, row })?),
    }
}

/// A stored row as the session sees it (its TIMESTAMP columns in session
/// time), for messages such as a duplicate key's value.
pub(crate) fn shown_row(t: &TableDef, row: &[Value], ctx: &Ctx<'_>) -> Vec<Value> {
    row.iter()
        .enumerate()
        .map(|(i, v)| match (t.columns.get(i).map(|c| c.ty), v) {
            (Some(SqlType::Timestamp(_)), Value::DateTime(utc)) => {
                ctx.session.time_zone.from_utc(*utc).map_or(Value::Null, Value::DateTime)
            }
            _ => v.clone(),
        })
        .collect()
}
