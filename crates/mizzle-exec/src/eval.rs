//! Expression evaluation over one row, with MySQL's NULL logic, warnings
//! and strict-mode errors.
//!
//! Invariants:
//! 1. Three-valued logic: comparisons with NULL are NULL; AND/OR follow
//!    SQL truth tables and short-circuit only where the result is decided.
//! 2. Division by zero gives NULL with warning 1365, or error 1365 when
//!    `Ctx::strict` (data-changing statements).
//! 3. Subquery results are cached per statement, keyed by every outer
//!    value the subquery reads, so a cached result is never reused for a
//!    different outer row.

use std::cmp::Ordering;
use std::sync::Arc;

use mizzle_sql::expr::{BitOp, CmpOp, Expr, SessionFunc, Subquery, SubqueryKind};
use mizzle_sql::func::{self, FuncCtx};
use mizzle_sql::plan::Plan;
use mizzle_types::cast;
use mizzle_types::ops::{self, ArithOp};
use mizzle_types::{Collation, ErrorCode, GroupKey, SqlType, TypeError, Value, Warning};
use recursive::recursive;

use crate::ctx::{Ctx, SubResult};
use crate::error::ExecError;

fn truth(v: &Value) -> Option<bool> {
    v.truth()
}

fn bool_val(b: Option<bool>) -> Value {
    match b {
        Some(b) => Value::Int(b as i64),
        None => Value::Null,
    }
}

/// Compares with an operator; NULL when undecided.
pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Option<bool> {
    if op == CmpOp::NullSafeEq {
        return Some(match (a.is_null(), b.is_null()) {
            (true, true) => true,
            (false, false) => a.sql_cmp(b) == Some(Ordering::Equal),
            _ => false,
        });
    }
    Some(holds(op, a.sql_cmp(b)?))
}

/// Whether `op` holds between two non-NULL values that order as `o`.
pub(crate) fn holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq | CmpOp::NullSafeEq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

/// A comparison of a collated text with a constant weight string (what the
/// binder's weighing and constant folding make of `c > '5'`): the text is
/// compared with the weight string in place, without building its own
/// (`Collation::compare_to_sort_key`, the same order). `None` for any
/// other comparison.
fn weighed_cmp(
    op: CmpOp,
    left: &Expr,
    right: &Expr,
    row: &[Value],
    ctx: &mut Ctx<'_>,
) -> Option<Result<Value, ExecError>> {
    let (arg, collation, key, flipped) = match (left, right) {
        (Expr::Weight { arg, collation }, Expr::Literal(Value::Bytes(k), _)) => (arg, *collation, k, false),
        (Expr::Literal(Value::Bytes(k), _), Expr::Weight { arg, collation }) => (arg, *collation, k, true),
        _ => return None,
    };
    let v = match eval(arg, row, ctx) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    Some(Ok(match v {
        Value::Text(t) => {
            let o = collation.compare_to_sort_key(&t, key);
            bool_val(Some(holds(op, if flipped { o.reverse() } else { o })))
        }
        // As `Expr::Weight` evaluates: only text is weighed.
        other => {
            let k = Value::Bytes(key.clone());
            bool_val(if flipped { compare(op, &k, &other) } else { compare(op, &other, &k) })
        }
    }))
}

/// SQL LIKE over characters: `%` any run, `_` one character, `escape`
/// quotes the next pattern character.
pub fn like(text: &str, pattern: &str, escape: char) -> bool {
    like_collated(text, pattern, escape, Collation::LEGACY)
}

/// LIKE under a collation: pattern characters match text characters one
/// to one by `Collation::char_eq` (so `ß` never matches `ss`, as in MySQL).
pub fn like_collated(text: &str, pattern: &str, escape: char, collation: Collation) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Ch(char),
    }
    let mut pat: Vec<P> = Vec::with_capacity(pattern.len());
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        if c == escape {
            match it.next() {
                Some(n) => pat.push(P::Ch(n)),
                None => pat.push(P::Ch(c)),
            }
        } else if c == '%' {
            if pat.last() != Some(&P::Any) {
                pat.push(P::Any);
            }
        } else if c == '_' {
            pat.push(P::One);
        } else {
            pat.push(P::Ch(c));
        }
    }
    let s: Vec<char> = text.chars().collect();
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match pat.get(pi) {
            Some(P::Any) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(P::One) => {
                si += 1;
                pi += 1;
            }
            Some(P::Ch(c)) if *c == s[si] || (!collation.is_binary() && collation.char_eq(*c, s[si])) => {
                si += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    while pat.get(pi) == Some(&P::Any) {
        pi += 1;
    }
    pi == pat.len()
}

fn to_u64(v: &Value) -> Option<u64> {
    Some(match v {
        Value::Null => return None,
        Value::Int(i) => *i as u64,
        Value::UInt(u) => *u,
        other => {
            let c = cast::cast(other, SqlType::UBIGINT);
            match c.value {
                Value::UInt(u) => u,
                _ => 0,
            }
        }
    })
}

/// Handles a value-level error according to strictness: division by zero
/// becomes NULL with a warning outside data-changing statements.
pub(crate) fn soften(e: TypeError, ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    match e {
        TypeError::DivisionByZero if !ctx.strict => {
            ctx.warn(Warning::new(ErrorCode::DivisionByZero, "Division by 0"));
            Ok(Value::Null)
        }
        e => Err(ExecError::Type(e)),
    }
}

/// The weight string of `t` under `c`, built in a reused per-thread buffer
/// so that the value costs one allocation.
fn weight_string(c: Collation, t: &str) -> std::sync::Arc<[u8]> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|b| match b.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            c.sort_key(t, &mut buf);
            std::sync::Arc::from(&buf[..])
        }
        Err(_) => c.sort_key_vec(t).into(),
    })
}

/// Evaluates `e` over `row`. Leaves (a column, a literal, a parameter, a
/// column under a collation) are answered here, without the stack check that
/// every recursive step pays.
#[inline]
pub fn eval(e: &Expr, row: &[Value], ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    let leaf = match e {
        Expr::Literal(v, _) => Some(v),
        Expr::Column { index, .. } => row.get(*index),
        Expr::Param { index, .. } => ctx.params.get(*index),
        Expr::Collate { arg, .. } => match &**arg {
            Expr::Column { index, .. } => row.get(*index),
            _ => None,
        },
        _ => None,
    };
    match leaf {
        Some(v) => Ok(v.clone()),
        None => eval_node(e, row, ctx),
    }
}

/// [`eval`] of any expression (the recursive reference).
#[recursive]
fn eval_node(e: &Expr, row: &[Value], ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    Ok(match e {
        Expr::Literal(v, _) => v.clone(),
        Expr::Column { index, .. } => row
            .get(*index)
            .cloned()
            .ok_or_else(|| ExecError::Internal(format!("column {index} outside a row of {}", row.len())))?,
        Expr::Outer { depth, index, .. } => {
            let n = ctx.outer.len();
            let r = n
                .checked_sub(*depth)
                .and_then(|i| ctx.outer.get(i))
                .ok_or_else(|| ExecError::Internal(format!("outer row at depth {depth} missing")))?;
            r.get(*index).cloned().ok_or_else(|| ExecError::Internal("outer column out of range".into()))?
        }
        Expr::Param { index, .. } => ctx
            .params
            .get(*index)
            .cloned()
            .ok_or(ExecError::ParamCount { expected: index + 1, got: ctx.params.len() })?,
        Expr::Neg(x) => {
            let v = eval(x, row, ctx)?;
            ops::negate(&v)?
        }
        Expr::Not(x) => {
            let v = eval(x, row, ctx)?;
            bool_val(truth(&v).map(|b| !b))
        }
        Expr::BitNot(x) => match to_u64(&eval(x, row, ctx)?) {
            Some(u) => Value::UInt(!u),
            None => Value::Null,
        },
        Expr::Arith { op, left, right, .. } => {
            let a = eval(left, row, ctx)?;
            let b = eval(right, row, ctx)?;
            match ops::arith(*op, &a, &b) {
                Ok(v) => v,
                Err(e) => soften(e, ctx)?,
            }
        }
        Expr::Cmp { op, left, right } => {
            if let Some(v) = weighed_cmp(*op, left, right, row, ctx) {
                return v;
            }
            let a = eval(left, row, ctx)?;
            let b = eval(right, row, ctx)?;
            bool_val(compare(*op, &a, &b))
        }
        Expr::RowCmp { op, left, right } => {
            let mut a = Vec::with_capacity(left.len());
            let mut b = Vec::with_capacity(right.len());
            for x in left {
                a.push(eval(x, row, ctx)?);
            }
            for x in right {
                b.push(eval(x, row, ctx)?);
            }
            bool_val(row_compare(*op, &a, &b))
        }
        Expr::And(l, r) => {
            let a = truth(&eval(l, row, ctx)?);
            if a == Some(false) {
                return Ok(Value::Int(0));
            }
            let b = truth(&eval(r, row, ctx)?);
            bool_val(match (a, b) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            })
        }
        Expr::Or(l, r) => {
            let a = truth(&eval(l, row, ctx)?);
            if a == Some(true) {
                return Ok(Value::Int(1));
            }
            let b = truth(&eval(r, row, ctx)?);
            bool_val(match (a, b) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            })
        }
        Expr::Xor(l, r) => {
            let a = truth(&eval(l, row, ctx)?);
            let b = truth(&eval(r, row, ctx)?);
            bool_val(match (a, b) {
                (Some(x), Some(y)) => Some(x != y),
                _ => None,
            })
        }
        Expr::Bit { op, left, right } => {
            let (a, b) = (to_u64(&eval(left, row, ctx)?), to_u64(&eval(right, row, ctx)?));
            match (a, b) {
                (Some(a), Some(b)) => Value::UInt(match op {
                    BitOp::And => a & b,
                    BitOp::Or => a | b,
                    BitOp::Xor => a ^ b,
                    BitOp::Shl => a.checked_shl(b.min(64) as u32).unwrap_or(0),
                    BitOp::Shr => a.checked_shr(b.min(64) as u32).unwrap_or(0),
                }),
                _ => Value::Null,
            }
        }
        Expr::IsNull { arg, negated } => {
            let v = eval(arg, row, ctx)?;
            Value::Int((v.is_null() != *negated) as i64)
        }
        Expr::IsTruth { arg, truth: want, negated } => {
            let t = truth(&eval(arg, row, ctx)?);
            let is = t == *want;
            Value::Int((is != *negated) as i64)
        }
        Expr::InList { arg, list, negated } => {
            let v = eval(arg, row, ctx)?;
            if v.is_null() {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            let mut found = false;
            for item in list {
                let x = eval(item, row, ctx)?;
                match v.sql_eq(&x) {
                    Some(true) => {
                        found = true;
                        break;
                    }
                    Some(false) => {}
                    None => saw_null = true,
                }
            }
            let r = if found {
                Some(true)
            } else if saw_null {
                None
            } else {
                Some(false)
            };
            bool_val(r.map(|b| b != *negated))
        }
        Expr::RowInList { args, list, negated } => {
            let mut a = Vec::with_capacity(args.len());
            for x in args {
                a.push(eval(x, row, ctx)?);
            }
            let mut saw_null = false;
            let mut found = false;
            for r in list {
                let mut b = Vec::with_capacity(r.len());
                for x in r {
                    b.push(eval(x, row, ctx)?);
                }
                match row_compare(CmpOp::Eq, &a, &b) {
                    Some(true) => {
                        found = true;
                        break;
                    }
                    Some(false) => {}
                    None => saw_null = true,
                }
            }
            let r = if found {
                Some(true)
            } else if saw_null {
                None
            } else {
                Some(false)
            };
            bool_val(r.map(|b| b != *negated))
        }
        Expr::Between { arg, low, high, negated } => {
            let v = eval(arg, row, ctx)?;
            let lo = eval(low, row, ctx)?;
            let hi = eval(high, row, ctx)?;
            let a = compare(CmpOp::Ge, &v, &lo);
            let b = compare(CmpOp::Le, &v, &hi);
            let r = match (a, b) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            bool_val(r.map(|x| x != *negated))
        }
        Expr::Like { arg, pattern, escape, negated } => {
            let v = eval(arg, row, ctx)?;
            let p = eval(pattern, row, ctx)?;
            if v.is_null() || p.is_null() {
                return Ok(Value::Null);
            }
            // The binder marks a collated LIKE by its argument's collation.
            let m = match &**arg {
                Expr::Collate { collation, .. } => {
                    like_collated(&v.to_text_lossy(), &p.to_text_lossy(), *escape, *collation)
                }
                _ => like(&v.to_text_lossy(), &p.to_text_lossy(), *escape),
            };
            Value::Int((m != *negated) as i64)
        }
        Expr::Case { operand, whens, else_, .. } => {
            match operand {
                Some(op) => {
                    let v = eval(op, row, ctx)?;
                    for (w, t) in whens {
                        let x = eval(w, row, ctx)?;
                        if v.sql_eq(&x) == Some(true) {
                            return eval(t, row, ctx);
                        }
                    }
                }
                None => {
                    for (w, t) in whens {
                        if truth(&eval(w, row, ctx)?) == Some(true) {
                            return eval(t, row, ctx);
                        }
                    }
                }
            }
            match else_ {
                Some(e) => eval(e, row, ctx)?,
                None => Value::Null,
            }
        }
        Expr::Coalesce { args, .. } => {
            for a in args {
                let v = eval(a, row, ctx)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Value::Null
        }
        Expr::If { cond, then, else_, .. } => {
            if truth(&eval(cond, row, ctx)?) == Some(true) {
                eval(then, row, ctx)?
            } else {
                eval(else_, row, ctx)?
            }
        }
        Expr::NullIf { left, right, .. } => {
            let a = eval(left, row, ctx)?;
            let b = eval(right, row, ctx)?;
            if a.sql_eq(&b) == Some(true) {
                Value::Null
            } else {
                a
            }
        }
        Expr::Collate { arg, .. } => eval(arg, row, ctx)?,
        Expr::Weight { arg, collation } => match eval(arg, row, ctx)? {
            Value::Text(t) => Value::Bytes(weight_string(*collation, &t)),
            v => v,
        },
        Expr::Cast { arg, ty: SqlType::Json } => {
            // CAST(x AS JSON): text must be JSON (error 3141), not NULL with
            // a warning as the lenient casts do.
            let v = eval(arg, row, ctx)?;
            match mizzle_types::json::from_value(&v) {
                Ok(Some(j)) => Value::json(&j),
                Ok(None) => Value::Null,
                Err(error) => {
                    return Err(mizzle_types::TypeError::Json(mizzle_types::error::JsonErrorAt {
                        error,
                        at: mizzle_types::error::JsonErrorSite::Arg { arg: 1, func: "cast_as_json" },
                    })
                    .into())
                }
            }
        }
        Expr::LocalTime { arg, .. } => match eval(arg, row, ctx)? {
            Value::DateTime(utc) => ctx.session.time_zone.from_utc(utc).map_or(Value::Null, Value::DateTime),
            v => v,
        },
        Expr::EnumNumber { arg, ty } => match (eval(arg, row, ctx)?, ty) {
            (Value::Text(t), SqlType::Enum(m)) => {
                Value::Int(if t.is_empty() { 0 } else { m.position(&t).unwrap_or(0) as i64 })
            }
            (Value::Text(t), SqlType::Set(m)) => Value::Int(m.set_mask(&t).unwrap_or(0) as i64),
            (v, _) => v,
        },
        Expr::Cast { arg, ty } => {
            let v = eval(arg, row, ctx)?;
            if let Value::Bytes(b) = &v {
                if matches!(ty, SqlType::Char(_) | SqlType::Varchar(_) | SqlType::Text(_)) {
                    if let Err(e) = std::str::from_utf8(b) {
                        // Invalid UTF-8 never becomes text: in a data-changing
                        // statement (strict mode) the warning is an error, as in
                        // MySQL; elsewhere the value is NULL with warning 1300.
                        let bad = mizzle_types::error::hex_prefix(b.get(e.valid_up_to()..).unwrap_or_default());
                        if ctx.strict {
                            return Err(mizzle_types::TypeError::InvalidUtf8 { hex: bad }.into());
                        }
                        ctx.warn(Warning::new(
                            ErrorCode::InvalidCharacterString,
                            format!("Invalid utf8mb4 character string: '{bad}'"),
                        ));
                        return Ok(Value::Null);
                    }
                }
            }
            let v = match (&v, ty) {
                // Text of a DATETIME(n)/TIME(n) has exactly n digits, as MySQL shows it.
                (Value::DateTime(_) | Value::Time(_), SqlType::Char(_) | SqlType::Varchar(_) | SqlType::Text(_)) => {
                    let mut out = Vec::new();
                    v.write_text_as(arg.ty(), &mut out);
                    Value::text(&String::from_utf8_lossy(&out))
                }
                // A TIME becomes a date-time on the statement's date (MySQL's rule).
                (Value::Time(t), SqlType::DateTime(_) | SqlType::Timestamp(_) | SqlType::Date) => {
                    match mizzle_types::DateTime::from_unix_micros(
                        ctx.local_now().date().at_midnight().unix_micros().saturating_add(t.micros()),
                    ) {
                        Some(dt) => Value::DateTime(dt),
                        None => Value::Null,
                    }
                }
                _ => v,
            };
            let c = cast::cast(&v, *ty);
            if c.lossy {
                let tyname = match ty.kind() {
                    mizzle_types::ValueKind::Int | mizzle_types::ValueKind::UInt => "INTEGER",
                    mizzle_types::ValueKind::Decimal => "DECIMAL",
                    mizzle_types::ValueKind::Date | mizzle_types::ValueKind::DateTime => "DATETIME",
                    mizzle_types::ValueKind::Time => "TIME",
                    _ => "DOUBLE",
                };
                ctx.warn(Warning::new(
                    ErrorCode::TruncatedWrongValue,
                    format!("Truncated incorrect {tyname} value: '{}'", v.to_text_lossy()),
                ));
            }
            c.value
        }
        Expr::Func { func, args, .. } => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, row, ctx)?);
            }
            call_func(*func, &vals, ctx)?
        }
        Expr::Interval { arg, amount, unit, negate, .. } => {
            let d = eval(arg, row, ctx)?;
            let n = eval(amount, row, ctx)?;
            let mut warnings = Vec::new();
            let v = func::add_interval_with_warnings(&d, &n, *unit, *negate, &mut warnings)?;
            for w in warnings {
                ctx.warn(w);
            }
            v
        }
        Expr::Session { func, .. } => {
            let s = ctx.session;
            match func {
                SessionFunc::Database => match s.database {
                    Some(d) => Value::text(d),
                    None => Value::Null,
                },
                SessionFunc::LastInsertId => Value::UInt(s.last_insert_id),
                SessionFunc::RowCount => Value::Int(s.row_count),
                SessionFunc::FoundRows => Value::UInt(s.found_rows),
                SessionFunc::ConnectionId => Value::UInt(s.connection_id),
                SessionFunc::User => Value::text(s.user),
                SessionFunc::CurrentUser => Value::text(s.current_user),
                SessionFunc::Version => Value::text(s.version),
            }
        }
        Expr::Subquery(s) => eval_subquery(s, row, ctx)?,
        Expr::Agg(_) => return Err(ExecError::Internal("aggregate call left in a plan".into())),
        Expr::Window(_) => return Err(ExecError::Internal("window function call left in a plan".into())),
    })
}

/// Calls the scalar function `func` on its evaluated arguments `vals`
/// (every argument of a scalar function is evaluated, in order, before the
/// call): the session's clock and zone, the statement's random state, its
/// warnings, and a type error softened to a warning outside strict mode.
/// Shared by `eval` and compiled expressions, so both answer alike.
pub(crate) fn call_func(func: func::ScalarFunc, vals: &[Value], ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    let now = ctx.session.now;
    let mut warnings = Vec::new();
    let mut rs = ctx.rand_state;
    let r = {
        let mut fc = FuncCtx { now, tz: ctx.session.time_zone, warnings: &mut warnings, rand_state: &mut rs };
        func.eval(vals, &mut fc)
    };
    ctx.rand_state = rs;
    for w in warnings {
        ctx.warn(w);
    }
    match r {
        Ok(v) => Ok(v),
        Err(func::FuncError::Type(t)) => soften(t, ctx),
        Err(e) => Err(e.into()),
    }
}

/// Row comparison with NULL logic (`(a,b) = (c,d)` etc.).
pub fn row_compare(op: CmpOp, a: &[Value], b: &[Value]) -> Option<bool> {
    match op {
        CmpOp::Eq | CmpOp::NullSafeEq => {
            let mut unknown = false;
            for (x, y) in a.iter().zip(b) {
                match compare(op, x, y) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    _ => {}
                }
            }
            if unknown {
                None
            } else {
                Some(true)
            }
        }
        CmpOp::Ne => row_compare(CmpOp::Eq, a, b).map(|x| !x),
        _ => {
            // Lexicographic: the first unequal pair decides.
            for (x, y) in a.iter().zip(b) {
                match x.sql_cmp(y) {
                    None => return None,
                    Some(Ordering::Equal) => continue,
                    Some(o) => {
                        return Some(match op {
                            CmpOp::Lt | CmpOp::Le => o == Ordering::Less,
                            _ => o == Ordering::Greater,
                        })
                    }
                }
            }
            Some(matches!(op, CmpOp::Le | CmpOp::Ge))
        }
    }
}

/// Every (relative depth, index) of outer values a subquery plan reads.
fn subquery_deps(plan: &Plan) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    collect_deps(plan, 0, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

fn collect_deps(plan: &Plan, level: usize, out: &mut Vec<(usize, usize)>) {
    let on_expr = |e: &Expr, out: &mut Vec<(usize, usize)>| {
        e.walk(&mut |x| match x {
            Expr::Outer { depth, index, .. } if *depth > level => out.push((depth - level, *index)),
            Expr::Subquery(s) => collect_deps(&s.plan, level + 1, out),
            _ => {}
        });
    };
    crate::build::visit_plan_exprs(plan, &mut |e| on_expr(e, out));
}

fn subquery_result(s: &Subquery, row: &[Value], ctx: &mut Ctx<'_>) -> Result<Arc<SubResult>, ExecError> {
    let deps = match ctx.subq_deps.get(&s.id) {
        Some(d) => d.clone(),
        None => {
            let d = Arc::new(subquery_deps(&s.plan));
            ctx.subq_deps.insert(s.id, d.clone());
            d
        }
    };
    let mut key = Vec::with_capacity(deps.len());
    for (depth, index) in deps.iter() {
        let v = if *depth == 1 {
            row.get(*index).cloned()
        } else {
            let n = ctx.outer.len();
            n.checked_sub(depth - 1).and_then(|i| ctx.outer.get(i)).and_then(|r| r.get(*index)).cloned()
        };
        key.push(v.unwrap_or(Value::Null));
    }
    let cache_key = (s.id, GroupKey(key));
    if let Some(r) = ctx.subq_cache.get(&cache_key) {
        return Ok(r.clone());
    }
    ctx.outer.push(row.to_vec());
    let r = run_subquery(s, ctx);
    ctx.outer.pop();
    let r = Arc::new(r?);
    if ctx.subq_cache.len() > 200_000 {
        ctx.subq_cache.clear();
    }
    ctx.subq_cache.insert(cache_key, r.clone());
    Ok(r)
}

fn run_subquery(s: &Subquery, ctx: &mut Ctx<'_>) -> Result<SubResult, ExecError> {
    let mut op = crate::build::build(&s.plan, ctx)?;
    match &s.kind {
        SubqueryKind::Scalar => {
            let mut first: Option<Value> = None;
            let mut n = 0usize;
            while let Some(batch) = op.next(ctx)? {
                for r in batch {
                    n += 1;
                    if n > 1 {
                        return Err(ExecError::SubqueryRows);
                    }
                    first = r.into_iter().next();
                }
            }
            Ok(SubResult::Scalar(first.unwrap_or(Value::Null)))
        }
        SubqueryKind::Exists => {
            while let Some(batch) = op.next(ctx)? {
                if !batch.is_empty() {
                    return Ok(SubResult::Exists(true));
                }
            }
            Ok(SubResult::Exists(false))
        }
        SubqueryKind::In { .. } | SubqueryKind::Quantified { .. } => {
            let mut values = Vec::new();
            let mut hashed = crate::ops::hashkey::KeySet::default();
            let mut has_null = false;
            while let Some(batch) = op.next(ctx)? {
                for r in batch {
                    let v = r.into_iter().next().unwrap_or(Value::Null);
                    if v.is_null() {
                        has_null = true;
                    } else {
                        hashed.insert(GroupKey(vec![v.clone()]));
                        values.push(v);
                    }
                }
            }
            let uniform = match values.first() {
                Some(f) => {
                    let k = kind_code(f);
                    values.iter().all(|x| kind_code(x) == k).then_some(k)
                }
                None => None,
            };
            Ok(SubResult::Set { values, hashed, has_null, uniform })
        }
    }
}

/// A code per runtime kind, with signed and unsigned integers alike.
pub(crate) fn kind_code(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Int(_) | Value::UInt(_) => 1,
        Value::Float(_) => 2,
        Value::Double(_) => 3,
        Value::Decimal(_) => 4,
        Value::Text(_) => 5,
        Value::Bytes(_) => 6,
        Value::Date(_) => 7,
        Value::DateTime(_) => 8,
        Value::Time(_) => 9,
        Value::Json(_) => 10,
    }
}

/// Calls `f` with each non-NULL value an uncorrelated `x IN (SELECT ...)`
/// subquery returns (`e` is the `Expr::Subquery`), from the statement's
/// cache that the IN test itself reads: a scan's list range (optimizer
/// rule 3) runs the subquery once for both.
pub(crate) fn in_subquery_values(e: &Expr, ctx: &mut Ctx<'_>, f: impl FnMut(&Value)) -> Result<(), ExecError> {
    let Expr::Subquery(s) = e else {
        return Err(ExecError::Internal("a list range without its subquery".into()));
    };
    match &*subquery_result(s, &[], ctx)? {
        SubResult::Set { values, .. } => {
            values.iter().for_each(f);
            Ok(())
        }
        _ => Err(ExecError::Internal("IN subquery result kind".into())),
    }
}

fn eval_subquery(s: &Subquery, row: &[Value], ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    match &s.kind {
        SubqueryKind::Scalar => match &*subquery_result(s, row, ctx)? {
            SubResult::Scalar(v) => Ok(v.clone()),
            _ => Err(ExecError::Internal("scalar subquery result kind".into())),
        },
        SubqueryKind::Exists => match &*subquery_result(s, row, ctx)? {
            SubResult::Exists(b) => Ok(Value::Int(*b as i64)),
            _ => Err(ExecError::Internal("exists subquery result kind".into())),
        },
        SubqueryKind::In { arg, negated } => {
            let v = eval(arg, row, ctx)?;
            let res = subquery_result(s, row, ctx)?;
            let SubResult::Set { values, hashed, has_null, uniform } = &*res else {
                return Err(ExecError::Internal("IN subquery result kind".into()));
            };
            if v.is_null() {
                return Ok(if values.is_empty() && !has_null { Value::Int(*negated as i64) } else { Value::Null });
            }
            // Hash lookup is exact when every value has the argument's kind;
            // otherwise compare one by one with MySQL's mixed-type rules.
            let found = match uniform {
                Some(k) if *k == kind_code(&v) => hashed.contains(&GroupKey(vec![v.clone()])),
                _ => values.iter().any(|x| v.sql_eq(x) == Some(true)),
            };
            let r = if found {
                Some(true)
            } else if *has_null {
                None
            } else {
                Some(false)
            };
            Ok(bool_val(r.map(|b| b != *negated)))
        }
        SubqueryKind::Quantified { arg, op, all } => {
            let v = eval(arg, row, ctx)?;
            let res = subquery_result(s, row, ctx)?;
            let SubResult::Set { values, has_null, .. } = &*res else {
                return Err(ExecError::Internal("quantified subquery result kind".into()));
            };
            if values.is_empty() && !has_null {
                return Ok(Value::Int(*all as i64));
            }
            let mut unknown = *has_null || v.is_null();
            for x in values {
                match compare(*op, &v, x) {
                    Some(true) if !*all => return Ok(Value::Int(1)),
                    Some(false) if *all => return Ok(Value::Int(0)),
                    None => unknown = true,
                    _ => {}
                }
            }
            Ok(if unknown { Value::Null } else { Value::Int(*all as i64) })
        }
    }
}

/// Evaluates a predicate: true only when the value is true (NULL is false).
pub fn eval_pred(e: &Expr, row: &[Value], ctx: &mut Ctx<'_>) -> Result<bool, ExecError> {
    Ok(truth(&eval(e, row, ctx)?) == Some(true))
}

/// Evaluates an arithmetic operator (used by aggregates).
pub fn arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value, ExecError> {
    Ok(ops::arith(op, a, b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_sql_patterns() {
        assert!(like("hello", "h%o", '\\'));
        assert!(like("hello", "_ello", '\\'));
        assert!(!like("hello", "h_o", '\\'));
        assert!(like("", "%", '\\'));
        assert!(like("50%", "50\\%", '\\'));
        assert!(!like("500", "50\\%", '\\'));
        assert!(like("héllo", "h_llo", '\\'));
        assert!(like("aXbXc", "%X%X%", '\\'));
    }

    #[test]
    fn row_comparison_is_lexicographic() {
        let a = [Value::Int(1), Value::Int(2)];
        let b = [Value::Int(1), Value::Int(3)];
        assert_eq!(row_compare(CmpOp::Lt, &a, &b), Some(true));
        assert_eq!(row_compare(CmpOp::Eq, &a, &b), Some(false));
        let c = [Value::Int(1), Value::Null];
        assert_eq!(row_compare(CmpOp::Eq, &a, &c), None);
    }
}
