//! Binding expressions: literals, column references (with correlation),
//! operators, functions, aggregates and subqueries.
//!
//! Invariants:
//! 1. Every node gets its MySQL result type; branches of CASE, IF,
//!    COALESCE are converted to the unified type so a column's values have
//!    one kind.
//! 2. Aggregates are only accepted where the context allows them
//!    (`ExprCtx::allow_agg`), never nested (error 1111).

use std::sync::Arc;

use mizzle_types::ops::ArithOp;
use mizzle_types::{Collation, Decimal, SqlType, Value, ValueKind};
use recursive::recursive;
use sqlparser::ast::{
    self, BinaryOperator, DateTimeField, DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArguments, UnaryOperator,
};

use super::coercion::{comparison_collation, list_collation, weigh};
use super::{norm, Binder};
use crate::error::BindError;
use crate::expr::{AggCall, AggFunc, BitOp, CmpOp, Expr, SessionFunc, SortKey, Subquery, SubqueryKind};
use crate::func::{self, IntervalUnit};
use crate::plan::OutCol;
use crate::typing::{cast_type, decimal_of, unify};

/// Where an expression is being bound.
#[derive(Clone, Copy)]
pub(crate) struct ExprCtx<'s> {
    /// Aggregate calls are allowed (SELECT list, HAVING, ORDER BY).
    pub allow_agg: bool,
    /// Clause name for error messages ("field list", "where clause", ...).
    pub clause: &'static str,
    /// Select-list aliases usable by name (HAVING, ORDER BY).
    pub aliases: &'s [(String, Expr)],
}

impl<'s> ExprCtx<'s> {
    pub(crate) fn plain(clause: &'static str) -> ExprCtx<'static> {
        ExprCtx { allow_agg: false, clause, aliases: &[] }
    }
}

/// A column reference marked with its collation when that is not LEGACY
/// (`coercion`, invariant 1).
pub(crate) fn collated(e: Expr, collation: Option<Collation>) -> Expr {
    match collation {
        Some(c) if c != Collation::LEGACY => Expr::Collate { arg: Box::new(e), collation: c, explicit: false },
        _ => e,
    }
}

/// A TIMESTAMP operand in the session's time zone (`Expr::LocalTime`,
/// expr invariant 4); other expressions are unchanged.
pub(crate) fn localized(e: Expr) -> Expr {
    match e.ty() {
        SqlType::Timestamp(fsp) => Expr::LocalTime { arg: Box::new(e), fsp },
        _ => e,
    }
}

/// The stored (UTC) TIMESTAMP under a bare [`localized`] column: select
/// lists, GROUP BY and ORDER BY keep the stored value, so a TIMESTAMP
/// column is shown with its type and sorts and groups by its UTC instant,
/// as in MySQL.
pub(crate) fn stored(e: Expr) -> Expr {
    match e {
        Expr::LocalTime { arg, .. } if matches!(*arg, Expr::Column { .. } | Expr::Outer { .. }) => *arg,
        other => other,
    }
}

/// An ENUM or SET operand in a numeric context becomes its index or mask
/// (MySQL's numeric value of the type); other expressions are unchanged.
pub(crate) fn enum_number(e: Expr) -> Expr {
    match e.ty() {
        ty @ (SqlType::Enum(_) | SqlType::Set(_)) => Expr::EnumNumber { arg: Box::new(e), ty },
        _ => e,
    }
}

/// `FIND_IN_SET('m', set_column)` with a constant member of the column's
/// SET: MySQL answers from the mask, giving the member's position in the
/// definition (`CASE WHEN s IS NULL THEN NULL WHEN s & bit THEN k ELSE 0`).
/// `None` for any other call (the string function applies).
fn find_in_set_member(args: &[Expr]) -> Option<Expr> {
    let [Expr::Literal(Value::Text(needle), _), set] = args else { return None };
    let SqlType::Set(m) = set.ty() else { return None };
    let k = m.set_mask(needle).filter(|mask| mask.count_ones() == 1)?.trailing_zeros() as i64 + 1;
    let bx = Box::new;
    let int = |v: i64| Expr::Literal(Value::Int(v), SqlType::BIGINT);
    let bit = Expr::Bit {
        op: BitOp::And,
        left: bx(enum_number(set.clone())),
        right: bx(Expr::Literal(Value::UInt(1u64 << (k - 1)), SqlType::UBIGINT)),
    };
    Some(Expr::Case {
        operand: None,
        whens: vec![
            (Expr::IsNull { arg: bx(set.clone()), negated: false }, Expr::Literal(Value::Null, SqlType::BIGINT)),
            (bit, int(k)),
        ],
        else_: Some(bx(int(0))),
        ty: SqlType::BIGINT,
    })
}

/// Adds a conversion so `e` produces values of type `ty` when its own type
/// has another runtime kind or another decimal scale.
pub(crate) fn coerce(e: Expr, ty: SqlType) -> Expr {
    // A stored TIMESTAMP becomes anything else from session time (expr
    // invariant 4); nothing becomes a TIMESTAMP (`unify` never asks).
    let e = if matches!(e.ty(), SqlType::Timestamp(_)) && !matches!(ty, SqlType::Timestamp(_) | SqlType::Null) {
        localized(e)
    } else {
        e
    };
    let et = e.ty();
    if et == ty || et == SqlType::Null || ty == SqlType::Null {
        return e;
    }
    let needs = match (et.kind(), ty.kind()) {
        (a, b) if a != b => true,
        (ValueKind::Decimal, ValueKind::Decimal) => {
            matches!((et, ty), (SqlType::Decimal { scale: a, .. }, SqlType::Decimal { scale: b, .. }) if a != b)
        }
        _ => false,
    };
    if !needs {
        return e;
    }
    if let Expr::Literal(v, _) = &e {
        let c = mizzle_types::cast::cast(v, ty);
        if !c.lossy {
            return Expr::Literal(c.value, ty);
        }
    }
    // Widen decimal targets so a conversion never clips a value.
    let target = match ty {
        SqlType::Decimal { precision, scale } => {
            SqlType::Decimal { precision: precision.max(65.min(precision + 10)), scale }
        }
        t => t,
    };
    Expr::Cast { arg: Box::new(e), ty: target }
}

/// MySQL's result type of an arithmetic operator.
pub(crate) fn arith_type(op: ArithOp, l: SqlType, r: SqlType) -> SqlType {
    #[derive(PartialEq, Clone, Copy)]
    enum C {
        Int(bool),
        Dec(u32, u32),
        Dbl,
        Null,
    }
    let class = |t: SqlType| match t {
        SqlType::Null => C::Null,
        SqlType::Bool => C::Int(false),
        SqlType::Int { unsigned, .. } => C::Int(unsigned),
        SqlType::Decimal { precision, scale } => C::Dec((precision - scale) as u32, scale as u32),
        SqlType::Date => C::Int(false),
        SqlType::Float | SqlType::Double => C::Dbl,
        SqlType::DateTime(f) | SqlType::Timestamp(f) | SqlType::Time(f) if f == 0 => C::Int(false),
        SqlType::Bit(_) => C::Int(true),
        _ => C::Dbl,
    };
    let (a, b) = (class(l), class(r));
    let as_dec = |c: C| match c {
        C::Int(_) => (20u32, 0u32),
        C::Dec(i, s) => (i, s),
        _ => (20, 0),
    };
    if a == C::Null && b == C::Null {
        return SqlType::BIGINT;
    }
    let (a, b) = match (a, b) {
        (C::Null, x) => (x, x),
        (x, C::Null) => (x, x),
        p => p,
    };
    match op {
        ArithOp::IntDiv => {
            let uns = matches!(a, C::Int(true)) || matches!(b, C::Int(true));
            if uns {
                SqlType::UBIGINT
            } else {
                SqlType::BIGINT
            }
        }
        _ if a == C::Dbl || b == C::Dbl => SqlType::Double,
        ArithOp::Div => {
            let (ia, sa) = as_dec(a);
            let (_, sb) = as_dec(b);
            decimal_of(ia + sb, sa + 4)
        }
        ArithOp::Add | ArithOp::Sub | ArithOp::Mul | ArithOp::Mod => match (a, b) {
            (C::Int(ua), C::Int(ub)) => {
                if ua || ub {
                    SqlType::UBIGINT
                } else {
                    SqlType::BIGINT
                }
            }
            _ => {
                let (ia, sa) = as_dec(a);
                let (ib, sb) = as_dec(b);
                match op {
                    ArithOp::Mul => decimal_of(ia + ib, sa + sb),
                    ArithOp::Mod => decimal_of(ia.max(ib), sa.max(sb)),
                    _ => decimal_of(ia.max(ib) + 1, sa.max(sb)),
                }
            }
        },
    }
}

/// Parses a numeric literal the way MySQL types it.
pub(crate) fn number_literal(s: &str) -> Result<Expr, BindError> {
    let bad = || BindError::Syntax(format!("bad number '{s}'"));
    if s.contains(['e', 'E']) {
        let f: f64 = s.parse().map_err(|_| bad())?;
        if !f.is_finite() {
            return Err(BindError::Syntax(format!("number '{s}' is out of range")));
        }
        return Ok(Expr::Literal(Value::Double(f), SqlType::Double));
    }
    if !s.contains('.') {
        if let Ok(i) = s.parse::<i64>() {
            return Ok(Expr::Literal(Value::Int(i), SqlType::BIGINT));
        }
        if let Ok(u) = s.parse::<u64>() {
            return Ok(Expr::Literal(Value::UInt(u), SqlType::UBIGINT));
        }
    }
    match Decimal::parse(s) {
        Some(d) => Ok(Expr::lit(Value::decimal(d))),
        None => {
            // Beyond 81 digits (more than any decimal holds): a double.
            let f: f64 = s.parse().map_err(|_| bad())?;
            Ok(Expr::Literal(Value::Double(f), SqlType::Double))
        }
    }
}

pub(crate) fn interval_unit(f: &DateTimeField) -> Result<IntervalUnit, BindError> {
    Ok(match f {
        DateTimeField::Year | DateTimeField::Years => IntervalUnit::Year,
        DateTimeField::Quarter => IntervalUnit::Quarter,
        DateTimeField::Month | DateTimeField::Months => IntervalUnit::Month,
        DateTimeField::Week(_) | DateTimeField::Weeks => IntervalUnit::Week,
        DateTimeField::Day | DateTimeField::Days => IntervalUnit::Day,
        DateTimeField::Hour | DateTimeField::Hours => IntervalUnit::Hour,
        DateTimeField::Minute | DateTimeField::Minutes => IntervalUnit::Minute,
        DateTimeField::Second | DateTimeField::Seconds => IntervalUnit::Second,
        DateTimeField::Microsecond | DateTimeField::Microseconds => IntervalUnit::Microsecond,
        other => return Err(BindError::NotSupported(format!("INTERVAL unit {other}"))),
    })
}

fn cmp_op(op: &BinaryOperator) -> Option<CmpOp> {
    Some(match op {
        BinaryOperator::Eq => CmpOp::Eq,
        BinaryOperator::NotEq => CmpOp::Ne,
        BinaryOperator::Lt => CmpOp::Lt,
        BinaryOperator::LtEq => CmpOp::Le,
        BinaryOperator::Gt => CmpOp::Gt,
        BinaryOperator::GtEq => CmpOp::Ge,
        BinaryOperator::Spaceship => CmpOp::NullSafeEq,
        _ => return None,
    })
}

pub(crate) fn agg_func(name: &str) -> Option<AggFunc> {
    Some(match name {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "avg" => AggFunc::Avg,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        "group_concat" => AggFunc::GroupConcat,
        "bit_and" => AggFunc::BitAnd,
        "bit_or" => AggFunc::BitOr,
        "bit_xor" => AggFunc::BitXor,
        "std" | "stddev" | "stddev_pop" => AggFunc::StddevPop,
        "stddev_samp" => AggFunc::StddevSamp,
        "variance" | "var_pop" => AggFunc::VarPop,
        "var_samp" => AggFunc::VarSamp,
        "any_value" => AggFunc::AnyValue,
        "json_arrayagg" => AggFunc::JsonArrayAgg,
        "json_objectagg" => AggFunc::JsonObjectAgg,
        _ => return None,
    })
}

/// The result type of an aggregate over an argument of type `t`.
pub(crate) fn agg_type(f: AggFunc, t: SqlType) -> SqlType {
    match f {
        AggFunc::CountStar | AggFunc::Count => SqlType::BIGINT,
        AggFunc::Sum => match t {
            SqlType::Bool | SqlType::Int { .. } => decimal_of(38, 0),
            SqlType::Decimal { precision, scale } => decimal_of((precision - scale) as u32 + 22, scale as u32),
            SqlType::Null => decimal_of(38, 0),
            _ => SqlType::Double,
        },
        AggFunc::Avg => match t {
            SqlType::Bool | SqlType::Int { .. } => decimal_of(24, 4),
            SqlType::Decimal { precision, scale } => decimal_of((precision - scale) as u32 + 4, scale as u32 + 4),
            SqlType::Null => decimal_of(24, 4),
            _ => SqlType::Double,
        },
        AggFunc::Min | AggFunc::Max | AggFunc::AnyValue => t,
        // Binary strings concatenate to a binary string (as MySQL's BLOB).
        AggFunc::GroupConcat => match t {
            SqlType::Binary(_) | SqlType::Varbinary(_) | SqlType::Blob(_) => SqlType::Blob(1024),
            _ => SqlType::Text(1024),
        },
        AggFunc::BitAnd | AggFunc::BitOr | AggFunc::BitXor => SqlType::UBIGINT,
        AggFunc::StddevPop | AggFunc::StddevSamp | AggFunc::VarPop | AggFunc::VarSamp => SqlType::Double,
        AggFunc::JsonArrayAgg | AggFunc::JsonObjectAgg => SqlType::Json,
    }
}

/// The digits of MySQL's `0b` bit literal: `0b` (lower case) and one or
/// more binary digits, nothing else.
fn bin_literal_digits(word: &str) -> Option<&str> {
    let digits = word.strip_prefix("0b")?;
    (!digits.is_empty() && digits.bytes().all(|b| b == b'0' || b == b'1')).then_some(digits)
}

impl<'a> Binder<'a> {
    /// Resolves a possibly qualified column name.
    pub(crate) fn resolve_column(
        &mut self,
        qualifier: Option<&str>,
        name: &str,
        scope: &[OutCol],
        ctx: ExprCtx<'_>,
    ) -> Result<Expr, BindError> {
        let lname = norm(name);
        let lq = qualifier.map(norm);
        let find = |cols: &[OutCol], allow_hidden: bool| -> Result<Option<usize>, BindError> {
            let mut found: Option<usize> = None;
            for (i, c) in cols.iter().enumerate() {
                if norm(&c.name) != lname {
                    continue;
                }
                match &lq {
                    Some(q) => {
                        if c.table.as_deref().map(norm).as_deref() != Some(q.as_str()) {
                            continue;
                        }
                    }
                    None => {
                        if c.hidden && !allow_hidden {
                            continue;
                        }
                    }
                }
                if found.is_some() {
                    return Err(BindError::AmbiguousColumn { name: name.to_string(), clause: ctx.clause });
                }
                found = Some(i);
            }
            Ok(found)
        };
        if let Some(i) = find(scope, false)? {
            return Ok(localized(collated(Expr::Column { index: i, ty: scope[i].ty }, scope[i].collation)));
        }
        if qualifier.is_none() {
            if let Some((_, e)) = ctx.aliases.iter().find(|(a, _)| norm(a) == lname) {
                if e.has_window() && matches!(ctx.clause, "group statement" | "having clause") {
                    return Err(BindError::WindowInvalidAliasUse(name.to_string()));
                }
                return Ok(localized(e.clone()));
            }
        }
        // Correlation: enclosing blocks, innermost first. The current block
        // is the last one; its own scope is `scope` (already searched).
        let n = self.blocks.len();
        for depth in 1..n {
            let idx = n - 1 - depth;
            let found = find(&self.blocks[idx].scope, false)?;
            if let Some(i) = found {
                let ty = self.blocks[idx].scope[i].ty;
                let coll = self.blocks[idx].scope[i].collation;
                if let Some(b) = self.blocks.last_mut() {
                    b.outer_used.push((depth, i));
                }
                return Ok(localized(collated(Expr::Outer { depth, index: i, ty }, coll)));
            }
        }
        let shown = match qualifier {
            Some(q) => format!("{q}.{name}"),
            None => name.to_string(),
        };
        Err(BindError::UnknownColumn { name: shown, clause: ctx.clause })
    }

    /// Binds an expression over `scope`.
    #[recursive]
    pub(crate) fn bind_expr(&mut self, e: &ast::Expr, scope: &[OutCol], ctx: ExprCtx<'_>) -> Result<Expr, BindError> {
        self.enter()?;
        let r = self.bind_expr_inner(e, scope, ctx);
        self.leave();
        r
    }

    fn bind_expr_inner(&mut self, e: &ast::Expr, scope: &[OutCol], ctx: ExprCtx<'_>) -> Result<Expr, BindError> {
        use ast::Expr as A;
        let bx = |x: Expr| Box::new(x);
        Ok(match e {
            A::Identifier(id) if id.quote_style.is_none() && id.value.starts_with('@') => self
                .variable_expr(&id.value)
                .ok_or_else(|| BindError::UnknownSystemVariable(id.value.trim_start_matches('@').to_string()))?,
            // MySQL's `0b0101` (sqlparser reads it as a name, as it does
            // `0B0101` and `0b012`, which MySQL also takes as names): the
            // bit literal b'0101'.
            A::Identifier(id) if id.quote_style.is_none() && bin_literal_digits(&id.value).is_some() => {
                let digits = bin_literal_digits(&id.value).unwrap_or_default();
                self.bind_value(&ast::Value::SingleQuotedByteStringLiteral(digits.to_string()))?
            }
            A::Identifier(id) => self.resolve_column(None, &id.value, scope, ctx)?,
            A::CompoundIdentifier(ids) if ids.first().is_some_and(|i| i.value.starts_with("@@")) && ids.len() == 2 => {
                let name = format!("{}.{}", ids[0].value, ids[1].value);
                self.variable_expr(&name).ok_or_else(|| BindError::UnknownSystemVariable(ids[1].value.clone()))?
            }
            A::CompoundIdentifier(ids) => match ids.as_slice() {
                [t, c] => self.resolve_column(Some(&t.value), &c.value, scope, ctx)?,
                [_, t, c] => self.resolve_column(Some(&t.value), &c.value, scope, ctx)?,
                _ => return Err(BindError::UnknownColumn { name: e.to_string(), clause: ctx.clause }),
            },
            A::Value(v) => {
                if matches!(v.value, ast::Value::Placeholder(_)) {
                    let s = v.span.start;
                    self.param_pos.push((s.line, s.column));
                }
                self.bind_value(&v.value)?
            }
            A::Nested(inner) => self.bind_expr(inner, scope, ctx)?,
            A::UnaryOp { op, expr } => {
                let inner = self.bind_expr(expr, scope, ctx)?;
                match op {
                    UnaryOperator::Plus => inner,
                    UnaryOperator::Minus => match inner {
                        Expr::Literal(Value::Int(i), _) if i != i64::MIN => {
                            Expr::Literal(Value::Int(-i), SqlType::BIGINT)
                        }
                        Expr::Literal(Value::UInt(u), _) if u == 1u64 << 63 => {
                            Expr::Literal(Value::Int(i64::MIN), SqlType::BIGINT)
                        }
                        Expr::Literal(Value::Decimal(d), t) => Expr::Literal(Value::decimal(d.negated()), t),
                        Expr::Literal(Value::Double(f), t) => Expr::Literal(Value::Double(-f), t),
                        other => Expr::Neg(bx(other)),
                    },
                    UnaryOperator::Not | UnaryOperator::BangNot => Expr::Not(bx(inner)),
                    UnaryOperator::BitwiseNot => Expr::BitNot(bx(inner)),
                    other => return Err(BindError::NotSupported(format!("operator {other}"))),
                }
            }
            A::BinaryOp { left, op, right } => self.bind_binary(left, op, right, scope, ctx)?,
            A::IsNull(x) => Expr::IsNull { arg: bx(self.bind_expr(x, scope, ctx)?), negated: false },
            A::IsNotNull(x) => Expr::IsNull { arg: bx(self.bind_expr(x, scope, ctx)?), negated: true },
            A::IsTrue(x) => {
                Expr::IsTruth { arg: bx(self.bind_expr(x, scope, ctx)?), truth: Some(true), negated: false }
            }
            A::IsNotTrue(x) => {
                Expr::IsTruth { arg: bx(self.bind_expr(x, scope, ctx)?), truth: Some(true), negated: true }
            }
            A::IsFalse(x) => {
                Expr::IsTruth { arg: bx(self.bind_expr(x, scope, ctx)?), truth: Some(false), negated: false }
            }
            A::IsNotFalse(x) => {
                Expr::IsTruth { arg: bx(self.bind_expr(x, scope, ctx)?), truth: Some(false), negated: true }
            }
            A::IsUnknown(x) => Expr::IsTruth { arg: bx(self.bind_expr(x, scope, ctx)?), truth: None, negated: false },
            A::IsNotUnknown(x) => Expr::IsTruth { arg: bx(self.bind_expr(x, scope, ctx)?), truth: None, negated: true },
            A::IsDistinctFrom(a, b) => {
                let (l, r) = (self.bind_expr(a, scope, ctx)?, self.bind_expr(b, scope, ctx)?);
                let c = comparison_collation(&l, &r, "<=>")?;
                Expr::Not(bx(Expr::Cmp { op: CmpOp::NullSafeEq, left: bx(weigh(l, c)), right: bx(weigh(r, c)) }))
            }
            A::IsNotDistinctFrom(a, b) => {
                let (l, r) = (self.bind_expr(a, scope, ctx)?, self.bind_expr(b, scope, ctx)?);
                let c = comparison_collation(&l, &r, "<=>")?;
                Expr::Cmp { op: CmpOp::NullSafeEq, left: bx(weigh(l, c)), right: bx(weigh(r, c)) }
            }
            A::Between { expr, negated, low, high } => {
                let mut arg = self.bind_scalar(expr, scope, ctx)?;
                let low = self.bind_scalar(low, scope, ctx)?;
                let high = self.bind_scalar(high, scope, ctx)?;
                if low.ty().is_numeric() && high.ty().is_numeric() {
                    arg = enum_number(arg);
                }
                let c = list_collation(&[&arg, &low, &high], "between")?;
                Expr::Between {
                    arg: bx(weigh(arg, c)),
                    low: bx(weigh(low, c)),
                    high: bx(weigh(high, c)),
                    negated: *negated,
                }
            }
            A::In { expr, target, negated, .. } => self.bind_in(expr, target, *negated, scope, ctx)?,
            A::Like { negated, expr, pattern, escape_char, any } => {
                if *any {
                    return Err(BindError::NotSupported("LIKE ANY".into()));
                }
                let arg = self.bind_scalar(expr, scope, ctx)?;
                let pat = self.bind_scalar(pattern, scope, ctx)?;
                let escape = match escape_char {
                    None => '\\',
                    Some(x) => match self.bind_expr(x, scope, ctx)? {
                        Expr::Literal(Value::Text(s), _) if s.chars().count() == 1 => s.chars().next().unwrap_or('\\'),
                        _ => return Err(BindError::WrongArguments("ESCAPE".into())),
                    },
                };
                // A collated LIKE is marked by its argument's collation (read by the executor).
                let arg = match comparison_collation(&arg, &pat, "like")? {
                    Some(c) if c != Collation::LEGACY => match arg {
                        Expr::Collate { arg, collation, .. } if collation == c => {
                            Expr::Collate { arg, collation, explicit: true }
                        }
                        a => Expr::Collate { arg: bx(a), collation: c, explicit: true },
                    },
                    _ => arg,
                };
                Expr::Like { arg: bx(arg), pattern: bx(pat), escape, negated: *negated }
            }
            A::Case { operand, conditions, else_result, .. } => {
                let operand = match operand {
                    Some(o) => Some(bx(self.bind_scalar(o, scope, ctx)?)),
                    None => None,
                };
                let mut whens = Vec::with_capacity(conditions.len());
                for c in conditions {
                    let w = self.bind_scalar(&c.condition, scope, ctx)?;
                    let t = self.bind_scalar(&c.result, scope, ctx)?;
                    whens.push((w, t));
                }
                let else_ = match else_result {
                    Some(x) => Some(self.bind_scalar(x, scope, ctx)?),
                    None => None,
                };
                let mut ty = SqlType::Null;
                for (_, t) in &whens {
                    ty = unify(ty, t.ty());
                }
                if let Some(x) = &else_ {
                    ty = unify(ty, x.ty());
                }
                let whens = whens.into_iter().map(|(w, t)| (w, coerce(t, ty))).collect();
                Expr::Case { operand, whens, else_: else_.map(|x| bx(coerce(x, ty))), ty }
            }
            A::MemberOf(m) => {
                let v = self.bind_scalar(&m.value, scope, ctx)?;
                let a = self.bind_scalar(&m.array, scope, ctx)?;
                Expr::Func { func: func::ScalarFunc::JsonMemberOf, args: vec![v, a], ty: SqlType::BIGINT }
            }
            A::Cast { expr, data_type, .. } => {
                let arg = self.bind_scalar(expr, scope, ctx)?;
                let ty = cast_type(data_type)?;
                let arg = if ty.is_numeric() { enum_number(arg) } else { arg };
                Expr::Cast { arg: bx(arg), ty }
            }
            A::Convert { expr, data_type, charset, .. } => {
                let arg = self.bind_scalar(expr, scope, ctx)?;
                match (data_type, charset) {
                    (Some(dt), _) => Expr::Cast { arg: bx(arg), ty: cast_type(dt)? },
                    (None, Some(cs)) => {
                        let c = norm(&cs.to_string());
                        if !(c.starts_with("utf8") || c == "binary") {
                            return Err(BindError::NotSupported(format!(
                                "character set {cs}; mizzle stores UTF-8 only"
                            )));
                        }
                        if c == "binary" {
                            Expr::Cast { arg: bx(arg), ty: SqlType::LONGBLOB }
                        } else {
                            Expr::Cast { arg: bx(arg), ty: SqlType::LONGTEXT }
                        }
                    }
                    (None, None) => arg,
                }
            }
            A::Collate { expr, collation } => {
                let arg = self.bind_expr(expr, scope, ctx)?;
                let name = collation.to_string();
                let name = name.trim_matches(|c| c == '`' || c == '\'' || c == '"');
                let c = match Collation::resolve(name) {
                    None => return Err(BindError::UnknownCollation(name.to_string())),
                    Some(mizzle_types::collation::Resolved::Native(c)) => c,
                    Some(_) => {
                        return Err(BindError::CollationCharsetMismatch {
                            collation: name.to_string(),
                            charset: "utf8mb4".into(),
                        })
                    }
                };
                let arg = match arg {
                    Expr::Collate { arg, .. } => *arg,
                    a => a,
                };
                Expr::Collate { arg: bx(arg), collation: c, explicit: true }
            }
            A::TypedString(ts) => {
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                let ty = cast_type(&ts.data_type)?;
                let c = mizzle_types::cast::cast(&Value::text(&text), ty);
                if c.value.is_null() {
                    return Err(BindError::Type(mizzle_types::TypeError::BadLiteral { ty: "DATE/TIME", value: text }));
                }
                Expr::Literal(c.value, ty)
            }
            A::Function(f) => self.bind_function(f, scope, ctx)?,
            A::Ceil { expr, .. } => {
                let a = self.bind_scalar(expr, scope, ctx)?;
                self.call_lib("ceiling", vec![a])?
            }
            A::Floor { expr, .. } => {
                let a = self.bind_scalar(expr, scope, ctx)?;
                self.call_lib("floor", vec![a])?
            }
            A::Position { expr, r#in } => {
                let a = self.bind_scalar(expr, scope, ctx)?;
                let b = self.bind_scalar(r#in, scope, ctx)?;
                self.call_lib("locate", vec![a, b])?
            }
            A::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.bind_scalar(expr, scope, ctx)?];
                match substring_from {
                    Some(f) => args.push(self.bind_scalar(f, scope, ctx)?),
                    None => args.push(Expr::lit(Value::Int(1))),
                }
                if let Some(n) = substring_for {
                    args.push(self.bind_scalar(n, scope, ctx)?);
                }
                self.call_lib("substring", args)?
            }
            A::Trim { expr, trim_where, trim_what, trim_characters } => {
                if trim_characters.is_some() {
                    return Err(BindError::NotSupported("TRIM with a character list".into()));
                }
                let arg = self.bind_scalar(expr, scope, ctx)?;
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "trim",
                };
                match trim_what {
                    None => self.call_lib(name, vec![arg])?,
                    Some(w) => {
                        let what = self.bind_scalar(w, scope, ctx)?;
                        let fname = match name {
                            "ltrim" => "__trim_leading",
                            "rtrim" => "__trim_trailing",
                            _ => "__trim_both",
                        };
                        match func::lookup(fname) {
                            Some(f) => {
                                let args = vec![arg, what];
                                let ty = f.return_type(&args.iter().map(|a| a.ty()).collect::<Vec<_>>());
                                Expr::Func { func: f, args, ty }
                            }
                            None => return Err(BindError::NotSupported("TRIM(... FROM ...)".into())),
                        }
                    }
                }
            }
            A::Extract { field, expr, .. } => {
                let arg = self.bind_scalar(expr, scope, ctx)?;
                let name = match field {
                    DateTimeField::Year | DateTimeField::Years => "year",
                    DateTimeField::Month | DateTimeField::Months => "month",
                    DateTimeField::Day | DateTimeField::Days => "day",
                    DateTimeField::Hour | DateTimeField::Hours => "hour",
                    DateTimeField::Minute | DateTimeField::Minutes => "minute",
                    DateTimeField::Second | DateTimeField::Seconds => "second",
                    DateTimeField::Microsecond | DateTimeField::Microseconds => "microsecond",
                    DateTimeField::Quarter => "quarter",
                    DateTimeField::Week(_) | DateTimeField::Weeks => "week",
                    other => return Err(BindError::NotSupported(format!("EXTRACT({other})"))),
                };
                self.call_lib(name, vec![arg])?
            }
            A::Exists { subquery, negated } => {
                let sq = self.bind_subquery(subquery, SubqueryKind::Exists, SqlType::BIGINT)?;
                if *negated {
                    Expr::Not(bx(sq))
                } else {
                    sq
                }
            }
            A::Subquery(q) => self.bind_subquery(q, SubqueryKind::Scalar, SqlType::Null)?,
            A::AnyOp { left, compare_op, right, .. } | A::AllOp { left, compare_op, right } => {
                let all = matches!(e, A::AllOp { .. });
                let op = cmp_op(compare_op).ok_or_else(|| BindError::NotSupported(format!("{compare_op} ANY/ALL")))?;
                let q = match right.as_ref() {
                    A::Subquery(q) => q,
                    _ => return Err(BindError::NotSupported("ANY/ALL over a non-subquery".into())),
                };
                let arg = self.bind_scalar(left, scope, ctx)?;
                self.bind_subquery(q, SubqueryKind::Quantified { arg: bx(arg), op, all }, SqlType::BIGINT)?
            }
            A::Tuple(items) => {
                if items.len() == 1 {
                    return self.bind_expr(&items[0], scope, ctx);
                }
                return Err(BindError::OperandColumns(1));
            }
            A::Interval(_) => return Err(BindError::Syntax("INTERVAL is only allowed in date arithmetic".into())),
            A::Wildcard(_) | A::QualifiedWildcard(..) => {
                return Err(BindError::Syntax("'*' is not allowed here".into()));
            }
            A::MatchAgainst { .. } => return Err(BindError::NotSupported("MATCH ... AGAINST".into())),
            A::RLike { .. } => return Err(BindError::NotSupported("REGEXP".into())),
            other => return Err(BindError::NotSupported(format!("expression {other}"))),
        })
    }

    /// Binds an expression that must produce one column (not a row).
    pub(crate) fn bind_scalar(&mut self, e: &ast::Expr, scope: &[OutCol], ctx: ExprCtx<'_>) -> Result<Expr, BindError> {
        if let ast::Expr::Tuple(items) = e {
            if items.len() != 1 {
                return Err(BindError::OperandColumns(1));
            }
        }
        self.bind_expr(e, scope, ctx)
    }

    fn bind_value(&mut self, v: &ast::Value) -> Result<Expr, BindError> {
        use ast::Value as V;
        Ok(match v {
            V::Number(s, _) => number_literal(s)?,
            V::SingleQuotedString(s)
            | V::DoubleQuotedString(s)
            | V::NationalStringLiteral(s)
            | V::EscapedStringLiteral(s)
            | V::TripleSingleQuotedString(s)
            | V::TripleDoubleQuotedString(s) => Expr::lit(Value::text(s)),
            V::HexStringLiteral(h) => {
                let bytes = decode_hex(h).ok_or_else(|| BindError::Syntax(format!("bad hex literal X'{h}'")))?;
                Expr::lit(Value::bytes(&bytes))
            }
            V::SingleQuotedByteStringLiteral(s) | V::DoubleQuotedByteStringLiteral(s) => {
                // b'0101' bit literals.
                let mut n: u64 = 0;
                for c in s.chars() {
                    n = n
                        .checked_mul(2)
                        .and_then(|x| x.checked_add(if c == '1' { 1 } else { 0 }))
                        .ok_or_else(|| BindError::Syntax(format!("bit literal b'{s}' is too long")))?;
                }
                Expr::Literal(Value::UInt(n), SqlType::UBIGINT)
            }
            V::Boolean(b) => Expr::Literal(Value::Int(*b as i64), SqlType::Bool),
            V::Null => Expr::Literal(Value::Null, SqlType::Null),
            V::Placeholder(p) => {
                if p == "?" {
                    let index = self.params;
                    self.params += 1;
                    Expr::Param { index, ty: SqlType::Null }
                } else {
                    return Err(BindError::Syntax(format!("unsupported placeholder {p}")));
                }
            }
            other => return Err(BindError::NotSupported(format!("literal {other}"))),
        })
    }

    fn bind_binary(
        &mut self,
        left: &ast::Expr,
        op: &BinaryOperator,
        right: &ast::Expr,
        scope: &[OutCol],
        ctx: ExprCtx<'_>,
    ) -> Result<Expr, BindError> {
        let bx = |x: Expr| Box::new(x);
        // Date arithmetic with INTERVAL.
        if let (ast::Expr::Interval(iv), BinaryOperator::Plus | BinaryOperator::Minus) = (right, op) {
            return self.bind_interval(left, iv, matches!(op, BinaryOperator::Minus), scope, ctx);
        }
        if let (ast::Expr::Interval(iv), BinaryOperator::Plus) = (left, op) {
            return self.bind_interval(right, iv, false, scope, ctx);
        }
        if let Some(cop) = cmp_op(op) {
            if let (ast::Expr::Tuple(l), ast::Expr::Tuple(r)) = (left, right) {
                if l.len() != r.len() {
                    return Err(BindError::OperandColumns(l.len()));
                }
                let mut le = Vec::with_capacity(l.len());
                let mut re = Vec::with_capacity(r.len());
                for (a, b) in l.iter().zip(r) {
                    le.push(self.bind_scalar(a, scope, ctx)?);
                    re.push(self.bind_scalar(b, scope, ctx)?);
                }
                return Ok(Expr::RowCmp { op: cop, left: le, right: re });
            }
            let mut l = self.bind_scalar(left, scope, ctx)?;
            let mut r = self.bind_scalar(right, scope, ctx)?;
            // ENUM / SET against a number compares the index or mask.
            if r.ty().is_numeric() {
                l = enum_number(l);
            }
            if l.ty().is_numeric() {
                r = enum_number(r);
            }
            let c = comparison_collation(&l, &r, &op.to_string())?;
            return Ok(Expr::Cmp { op: cop, left: bx(weigh(l, c)), right: bx(weigh(r, c)) });
        }
        let mut l = self.bind_scalar(left, scope, ctx)?;
        let mut r = self.bind_scalar(right, scope, ctx)?;
        if !matches!(op, BinaryOperator::And | BinaryOperator::Or | BinaryOperator::Xor | BinaryOperator::StringConcat)
        {
            l = enum_number(l);
            r = enum_number(r);
        }
        let arith = |op: ArithOp, l: Expr, r: Expr| {
            let ty = arith_type(op, l.ty(), r.ty());
            Expr::Arith { op, left: bx(l), right: bx(r), ty }
        };
        Ok(match op {
            BinaryOperator::Plus => arith(ArithOp::Add, l, r),
            BinaryOperator::Minus => arith(ArithOp::Sub, l, r),
            BinaryOperator::Multiply => arith(ArithOp::Mul, l, r),
            BinaryOperator::Divide => arith(ArithOp::Div, l, r),
            BinaryOperator::Modulo => arith(ArithOp::Mod, l, r),
            BinaryOperator::MyIntegerDivide | BinaryOperator::DuckIntegerDivide => arith(ArithOp::IntDiv, l, r),
            BinaryOperator::And => Expr::And(bx(l), bx(r)),
            // MySQL's default sql_mode has no PIPES_AS_CONCAT: || is OR.
            BinaryOperator::Or | BinaryOperator::StringConcat => Expr::Or(bx(l), bx(r)),
            BinaryOperator::Xor => Expr::Xor(bx(l), bx(r)),
            BinaryOperator::BitwiseAnd => Expr::Bit { op: BitOp::And, left: bx(l), right: bx(r) },
            BinaryOperator::BitwiseOr => Expr::Bit { op: BitOp::Or, left: bx(l), right: bx(r) },
            BinaryOperator::BitwiseXor | BinaryOperator::PGBitwiseXor => {
                Expr::Bit { op: BitOp::Xor, left: bx(l), right: bx(r) }
            }
            BinaryOperator::PGBitwiseShiftLeft => Expr::Bit { op: BitOp::Shl, left: bx(l), right: bx(r) },
            BinaryOperator::PGBitwiseShiftRight => Expr::Bit { op: BitOp::Shr, left: bx(l), right: bx(r) },
            // `doc->path` is JSON_EXTRACT(doc, path); `doc->>path` unquotes it.
            BinaryOperator::Arrow => self.call_lib("json_extract", vec![l, r])?,
            BinaryOperator::LongArrow => {
                let e = self.call_lib("json_extract", vec![l, r])?;
                self.call_lib("json_unquote", vec![e])?
            }
            other => return Err(BindError::NotSupported(format!("operator {other}"))),
        })
    }

    fn bind_interval(
        &mut self,
        date: &ast::Expr,
        iv: &ast::Interval,
        negate: bool,
        scope: &[OutCol],
        ctx: ExprCtx<'_>,
    ) -> Result<Expr, BindError> {
        let unit = match &iv.leading_field {
            Some(f) => interval_unit(f)?,
            None => return Err(BindError::Syntax("INTERVAL needs a unit".into())),
        };
        let arg = self.bind_scalar(date, scope, ctx)?;
        let amount = self.bind_scalar(&iv.value, scope, ctx)?;
        let ty = func::interval_return_type(arg.ty(), unit);
        Ok(Expr::Interval { arg: Box::new(arg), amount: Box::new(amount), unit, negate, ty })
    }

    fn bind_in(
        &mut self,
        expr: &ast::Expr,
        target: &ast::InTarget,
        negated: bool,
        scope: &[OutCol],
        ctx: ExprCtx<'_>,
    ) -> Result<Expr, BindError> {
        match target {
            ast::InTarget::List(list) => {
                if let ast::Expr::Tuple(items) = expr {
                    if items.len() > 1 {
                        let args =
                            items.iter().map(|x| self.bind_scalar(x, scope, ctx)).collect::<Result<Vec<_>, _>>()?;
                        let mut rows = Vec::with_capacity(list.len());
                        for r in list {
                            match r {
                                ast::Expr::Tuple(vals) if vals.len() == args.len() => rows.push(
                                    vals.iter()
                                        .map(|x| self.bind_scalar(x, scope, ctx))
                                        .collect::<Result<Vec<_>, _>>()?,
                                ),
                                _ => return Err(BindError::OperandColumns(args.len())),
                            }
                        }
                        return Ok(Expr::RowInList { args, list: rows, negated });
                    }
                }
                let arg = self.bind_scalar(expr, scope, ctx)?;
                let list = list.iter().map(|x| self.bind_scalar(x, scope, ctx)).collect::<Result<Vec<_>, _>>()?;
                if matches!(arg.ty(), SqlType::Enum(_) | SqlType::Set(_)) && list.iter().any(|x| x.ty().is_numeric()) {
                    // ENUM / SET against numbers compares the index or mask,
                    // against strings the text: `e IN (t..) OR e + 0 IN (n..)`.
                    let (nums, texts): (Vec<Expr>, Vec<Expr>) = list.into_iter().partition(|x| x.ty().is_numeric());
                    let by_number =
                        Expr::InList { arg: Box::new(enum_number(arg.clone())), list: nums, negated: false };
                    let either = if texts.is_empty() {
                        by_number
                    } else {
                        let c = list_collation(&std::iter::once(&arg).chain(texts.iter()).collect::<Vec<_>>(), "in")?;
                        let texts = texts.into_iter().map(|x| weigh(x, c)).collect();
                        let by_text = Expr::InList { arg: Box::new(weigh(arg, c)), list: texts, negated: false };
                        Expr::Or(Box::new(by_text), Box::new(by_number))
                    };
                    return Ok(if negated { Expr::Not(Box::new(either)) } else { either });
                }
                let mut all: Vec<&Expr> = vec![&arg];
                all.extend(list.iter());
                let c = list_collation(&all, "in")?;
                let list = list.into_iter().map(|x| weigh(x, c)).collect();
                Ok(Expr::InList { arg: Box::new(weigh(arg, c)), list, negated })
            }
            ast::InTarget::Subquery(q) => {
                let arg = self.bind_scalar(expr, scope, ctx)?;
                let bound = self.bind_subquery(q, SubqueryKind::In { arg: Box::new(arg), negated }, SqlType::BIGINT)?;
                // Texts compare under the collation the two sides
                // reconcile to (the column's, against a subquery of
                // literals): the argument and the subquery's values are
                // both weighed under it.
                let Expr::Subquery(mut s) = bound else { return Ok(bound) };
                let col_ty = s.plan.columns().first().map_or(SqlType::Null, |c| c.ty);
                // The subquery as an operand of its column's type.
                let probe = Expr::Subquery(Box::new(Subquery { ty: col_ty, ..(*s).clone() }));
                let SubqueryKind::In { arg, negated } = std::mem::replace(&mut s.kind, SubqueryKind::Exists) else {
                    return Err(BindError::NotSupported("this form of IN".into()));
                };
                let c = comparison_collation(&arg, &probe, "in")?;
                let weighed = weigh(Expr::Column { index: 0, ty: col_ty }, c);
                if matches!(weighed, Expr::Weight { .. }) {
                    let cols = s.plan.columns();
                    let input = (*s.plan).clone();
                    s.plan =
                        Arc::new(crate::plan::Plan::Project { input: Box::new(input), exprs: vec![weighed], cols });
                    s.kind = SubqueryKind::In { arg: Box::new(weigh(*arg, c)), negated };
                } else {
                    s.kind = SubqueryKind::In { arg, negated };
                }
                Ok(Expr::Subquery(s))
            }
            _ => Err(BindError::NotSupported("this form of IN".into())),
        }
    }

    /// Binds a subquery used inside an expression.
    pub(crate) fn bind_subquery(&mut self, q: &ast::Query, kind: SubqueryKind, ty: SqlType) -> Result<Expr, BindError> {
        self.sub_refs.push(Vec::new());
        let r = self.bind_query(q);
        let mut refs = self.sub_refs.pop().unwrap_or_default();
        // Its values are compared and computed with: session time.
        let (plan, cols) = super::query::localize_plan(r?);
        let correlated = !refs.is_empty();
        refs.sort_unstable();
        refs.dedup();
        let width = cols.len();
        let ty = match &kind {
            SubqueryKind::Scalar => {
                if width != 1 {
                    return Err(BindError::OperandColumns(1));
                }
                cols[0].ty
            }
            SubqueryKind::In { .. } | SubqueryKind::Quantified { .. } => {
                if width != 1 {
                    return Err(BindError::OperandColumns(1));
                }
                ty
            }
            SubqueryKind::Exists => ty,
        };
        let ty = if ty == SqlType::Null && matches!(kind, SubqueryKind::Scalar) { SqlType::Null } else { ty };
        let id = self.next_subquery_id();
        // Its column's derivation, from the select item when the plan shows
        // it (a table column is implicit, a literal coercible), else the
        // column's collation as coercible (a UNION's, say).
        let collation = match top_derivation(&plan) {
            Some((c, how)) if c != Collation::LEGACY => Some((c, how <= super::coercion::Coercibility::Implicit)),
            _ => cols.first().and_then(|c| c.collation.map(|coll| (coll, false))),
        };
        Ok(Expr::Subquery(Box::new(Subquery {
            plan: Arc::new(plan),
            kind,
            correlated,
            outer_refs: refs,
            ty,
            id,
            collation,
        })))
    }

    pub(crate) fn call_lib(&mut self, name: &str, args: Vec<Expr>) -> Result<Expr, BindError> {
        let f = func::lookup(name).ok_or_else(|| BindError::UnknownFunction(name.to_string()))?;
        if f == func::ScalarFunc::FindInSet {
            if let Some(e) = find_in_set_member(&args) {
                return Ok(e);
            }
        }
        let (min, max) = f.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            return Err(BindError::WrongParamCount(name.to_string()));
        }
        // UNIX_TIMESTAMP of a TIMESTAMP column reads its stored UTC value
        // (a local time in a fold would be ambiguous).
        let (f, args) = match (f, <[Expr; 1]>::try_from(args)) {
            (func::ScalarFunc::UnixTimestamp, Ok([Expr::LocalTime { arg, .. }])) => {
                (func::ScalarFunc::UnixTimestampUtc, vec![*arg])
            }
            (f, Ok(one)) => (f, Vec::from(one)),
            (f, Err(args)) => (f, args),
        };
        let tys: Vec<SqlType> = args.iter().map(|a| a.ty()).collect();
        let constants: Vec<Option<&Value>> = args
            .iter()
            .map(|a| match a {
                Expr::Literal(v, _) => Some(v),
                _ => None,
            })
            .collect();
        let ty = f.return_type_with_constants(&tys, &constants);
        Ok(Expr::Func { func: f, args, ty })
    }

    pub(crate) fn function_args<'f>(
        &self,
        f: &'f ast::Function,
    ) -> Result<(Vec<&'f FunctionArgExpr>, Option<&'f ast::FunctionArgumentList>), BindError> {
        match &f.args {
            FunctionArguments::None => Ok((Vec::new(), None)),
            FunctionArguments::Subquery(_) => Err(BindError::NotSupported(format!("function {}", f.name))),
            FunctionArguments::List(l) => {
                let mut out = Vec::with_capacity(l.args.len());
                for a in &l.args {
                    match a {
                        FunctionArg::Unnamed(x) => out.push(x),
                        _ => return Err(BindError::NotSupported(format!("named arguments in {}", f.name))),
                    }
                }
                Ok((out, Some(l)))
            }
        }
    }

    fn bind_function(&mut self, f: &ast::Function, scope: &[OutCol], ctx: ExprCtx<'_>) -> Result<Expr, BindError> {
        let name = norm(&f.name.to_string());
        if let Some(over) = &f.over {
            return self.bind_window_call(f, &name, over, scope, ctx);
        }
        if f.null_treatment.is_some() || super::window::is_window_only(&name) {
            // RANKING functions without OVER, or RESPECT NULLS outside a
            // window call: not MySQL grammar.
            return Err(BindError::Syntax(format!("'{name}' needs an OVER clause")));
        }
        let (args, list) = self.function_args(f)?;
        if name == "values" && self.values_fn {
            return match args.as_slice() {
                [FunctionArgExpr::Expr(ast::Expr::Identifier(c))] => {
                    self.resolve_column(Some(super::dml::NEW_ROW), &c.value, scope, ctx)
                }
                [FunctionArgExpr::Expr(ast::Expr::CompoundIdentifier(ids))] => match ids.last() {
                    Some(c) => self.resolve_column(Some(super::dml::NEW_ROW), &c.value, scope, ctx),
                    None => Err(BindError::WrongParamCount(name)),
                },
                _ => Err(BindError::WrongParamCount(name)),
            };
        }
        if matches!(name.as_str(), "collation" | "coercibility") {
            // Answered from the bound argument's derivation (`coercion`).
            let [FunctionArgExpr::Expr(x)] = args.as_slice() else {
                return Err(BindError::WrongParamCount(name));
            };
            let arg = self.bind_scalar(x, scope, ctx)?;
            let d = super::coercion::expr_collation(&arg);
            return Ok(Expr::lit(match (name.as_str(), d) {
                ("collation", Some((c, _))) => Value::text(c.name()),
                ("collation", None) => Value::text("binary"),
                (_, Some((_, k))) => Value::Int(k as i64),
                // NULL is IGNORABLE (6); numbers and dates NUMERIC (5).
                (_, None) if arg.ty() == SqlType::Null => Value::Int(6),
                (_, None) => Value::Int(5),
            }));
        }
        if name == "weight_string" {
            // The weight string under the argument's derived collation (the
            // bytes that collation compares); a binary string is its own.
            let [FunctionArgExpr::Expr(x)] = args.as_slice() else {
                return Err(BindError::WrongParamCount(name));
            };
            let arg = self.bind_scalar(x, scope, ctx)?;
            // Wrapped in a CAST so that the optimizer, which reads
            // `Weight(column)` as "the column under its collation" (index
            // ranges), does not mistake it for one.
            return Ok(match super::coercion::expr_collation(&arg) {
                Some((collation, _)) => Expr::Cast {
                    arg: Box::new(Expr::Weight { arg: Box::new(arg), collation }),
                    ty: SqlType::Blob(u32::MAX),
                },
                None => arg,
            });
        }
        if matches!(name.as_str(), "timestampdiff" | "timestampadd") {
            // TIMESTAMPDIFF(unit, a, b) / TIMESTAMPADD(unit, n, d): the unit
            // is a bare word.
            let [FunctionArgExpr::Expr(u), FunctionArgExpr::Expr(x), FunctionArgExpr::Expr(y)] = args.as_slice() else {
                return Err(BindError::WrongParamCount(name));
            };
            let unit = match u {
                ast::Expr::Identifier(id) => IntervalUnit::from_name(&id.value),
                _ => None,
            }
            .ok_or_else(|| BindError::Syntax(format!("{u} is not a unit of {}", name.to_uppercase())))?;
            let x = self.bind_scalar(x, scope, ctx)?;
            let y = self.bind_scalar(y, scope, ctx)?;
            if name == "timestampadd" {
                let ty = func::interval_return_type(y.ty(), unit);
                return Ok(Expr::Interval { arg: Box::new(y), amount: Box::new(x), unit, negate: false, ty });
            }
            return Ok(Expr::Func {
                func: func::ScalarFunc::TimestampDiff,
                args: vec![Expr::lit(Value::Int(unit.code())), x, y],
                ty: SqlType::BIGINT,
            });
        }
        let distinct = matches!(list.and_then(|l| l.duplicate_treatment), Some(DuplicateTreatment::Distinct));
        if let Some(af) = agg_func(&name) {
            return self.bind_aggregate(af, &name, &args, list, distinct, scope, ctx);
        }
        let mut bound = Vec::with_capacity(args.len());
        for a in &args {
            match a {
                FunctionArgExpr::Expr(ast::Expr::Interval(iv))
                    if matches!(name.as_str(), "date_add" | "adddate" | "date_sub" | "subdate") && bound.len() == 1 =>
                {
                    let date = bound.pop().ok_or_else(|| BindError::Internal("date_add arity".into()))?;
                    let unit = match &iv.leading_field {
                        Some(fld) => interval_unit(fld)?,
                        None => return Err(BindError::Syntax("INTERVAL needs a unit".into())),
                    };
                    let amount = self.bind_scalar(&iv.value, scope, ctx)?;
                    let negate = matches!(name.as_str(), "date_sub" | "subdate");
                    let ty = func::interval_return_type(Expr::ty(&date), unit);
                    if args.len() != 2 {
                        return Err(BindError::WrongParamCount(name));
                    }
                    return Ok(Expr::Interval { arg: Box::new(date), amount: Box::new(amount), unit, negate, ty });
                }
                FunctionArgExpr::Expr(x) => bound.push(self.bind_scalar(x, scope, ctx)?),
                _ => return Err(BindError::Syntax(format!("'*' is not allowed in {name}()"))),
            }
        }
        let n = bound.len();
        let want = |lo: usize, hi: usize| -> Result<(), BindError> {
            if n < lo || n > hi {
                Err(BindError::WrongParamCount(name.clone()))
            } else {
                Ok(())
            }
        };
        Ok(match name.as_str() {
            "coalesce" | "ifnull" => {
                if name == "ifnull" {
                    want(2, 2)?;
                } else {
                    want(1, usize::MAX)?;
                }
                let ty = bound.iter().fold(SqlType::Null, |t, a| unify(t, a.ty()));
                Expr::Coalesce { args: bound.into_iter().map(|a| coerce(a, ty)).collect(), ty }
            }
            "if" => {
                want(3, 3)?;
                let mut it = bound.into_iter();
                let (c, a, b) = match (it.next(), it.next(), it.next()) {
                    (Some(c), Some(a), Some(b)) => (c, a, b),
                    _ => return Err(BindError::WrongParamCount(name)),
                };
                let ty = unify(a.ty(), b.ty());
                Expr::If { cond: Box::new(c), then: Box::new(coerce(a, ty)), else_: Box::new(coerce(b, ty)), ty }
            }
            "nullif" => {
                want(2, 2)?;
                let mut it = bound.into_iter();
                let (a, b) = match (it.next(), it.next()) {
                    (Some(a), Some(b)) => (a, b),
                    _ => return Err(BindError::WrongParamCount(name)),
                };
                let ty = a.ty();
                Expr::NullIf { left: Box::new(a), right: Box::new(b), ty }
            }
            "database" | "schema" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::Database, ty: SqlType::Varchar(64) }
            }
            "last_insert_id" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::LastInsertId, ty: SqlType::UBIGINT }
            }
            "row_count" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::RowCount, ty: SqlType::BIGINT }
            }
            "found_rows" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::FoundRows, ty: SqlType::BIGINT }
            }
            "connection_id" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::ConnectionId, ty: SqlType::UBIGINT }
            }
            "user" | "session_user" | "system_user" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::User, ty: SqlType::Varchar(288) }
            }
            "current_user" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::CurrentUser, ty: SqlType::Varchar(288) }
            }
            "version" => {
                want(0, 0)?;
                Expr::Session { func: SessionFunc::Version, ty: SqlType::Varchar(64) }
            }
            _ => {
                if func::lookup(&name).is_none() {
                    return Err(BindError::UnknownFunction(name));
                }
                self.call_lib(&name, bound)?
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_aggregate(
        &mut self,
        af: AggFunc,
        name: &str,
        args: &[&FunctionArgExpr],
        list: Option<&ast::FunctionArgumentList>,
        distinct: bool,
        scope: &[OutCol],
        ctx: ExprCtx<'_>,
    ) -> Result<Expr, BindError> {
        if !ctx.allow_agg {
            return Err(BindError::InvalidGroupFuncUse);
        }
        // Arguments of an aggregate may not contain aggregates, nor window
        // functions (3593).
        let inner = ExprCtx { allow_agg: false, clause: ctx.clause, aliases: &[] };
        let saved_window = std::mem::replace(&mut self.window_ok, false);
        let r = self.bind_aggregate_inner(af, name, args, list, distinct, scope, inner);
        self.window_ok = saved_window;
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_aggregate_inner(
        &mut self,
        af: AggFunc,
        name: &str,
        args: &[&FunctionArgExpr],
        list: Option<&ast::FunctionArgumentList>,
        distinct: bool,
        scope: &[OutCol],
        inner: ExprCtx<'_>,
    ) -> Result<Expr, BindError> {
        let mut func = af;
        let mut bound = Vec::with_capacity(args.len());
        for a in args {
            match a {
                FunctionArgExpr::Wildcard if af == AggFunc::Count => func = AggFunc::CountStar,
                FunctionArgExpr::Expr(x) => bound.push(self.bind_scalar(x, scope, inner).map_err(|e| match e {
                    BindError::InvalidGroupFuncUse => BindError::InvalidGroupFuncUse,
                    e => e,
                })?),
                _ => return Err(BindError::Syntax(format!("'*' is not allowed in {name}()"))),
            }
        }
        if matches!(
            func,
            AggFunc::Sum
                | AggFunc::Avg
                | AggFunc::BitAnd
                | AggFunc::BitOr
                | AggFunc::BitXor
                | AggFunc::StddevPop
                | AggFunc::StddevSamp
                | AggFunc::VarPop
                | AggFunc::VarSamp
        ) {
            bound = bound.into_iter().map(enum_number).collect();
        }
        let arity_ok = match func {
            AggFunc::CountStar => bound.is_empty(),
            AggFunc::GroupConcat | AggFunc::Count => !bound.is_empty(),
            AggFunc::JsonObjectAgg => bound.len() == 2,
            _ => bound.len() == 1,
        };
        if !arity_ok {
            return Err(BindError::WrongParamCount(name.to_string()));
        }
        let mut order_by = Vec::new();
        let mut separator = ",".to_string();
        if let Some(l) = list {
            for c in &l.clauses {
                match c {
                    FunctionArgumentClause::OrderBy(keys) if func == AggFunc::GroupConcat => {
                        for k in keys {
                            let e = self.bind_scalar(&k.expr, scope, inner)?;
                            let desc = matches!(k.options.sort, Some(ast::OrderBySort::Desc));
                            order_by.push(super::coercion::order_key(SortKey { expr: e, desc }));
                        }
                    }
                    FunctionArgumentClause::Separator(v) if func == AggFunc::GroupConcat => {
                        separator = match &v.value {
                            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                            other => other.to_string(),
                        };
                    }
                    other => return Err(BindError::NotSupported(format!("{other} in {name}()"))),
                }
            }
        }
        let arg_ty = bound.first().map(|a| a.ty()).unwrap_or(SqlType::Null);
        let ty = agg_type(func, arg_ty);
        // COUNT(DISTINCT x) counts values distinct under x's collation.
        if distinct && func == AggFunc::Count {
            bound = bound
                .into_iter()
                .map(|a| {
                    let c = super::coercion::expr_collation(&a).map(|d| d.0);
                    weigh(a, c)
                })
                .collect();
        }
        Ok(Expr::Agg(Box::new(AggCall { func, args: bound, distinct, order_by, separator, ty })))
    }
}

fn decode_hex(h: &str) -> Option<Vec<u8>> {
    let h = if h.len() % 2 == 1 { format!("0{h}") } else { h.to_string() };
    (0..h.len()).step_by(2).map(|i| h.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok())).collect()
}

/// The collation derivation of a plan's first output column, read from the
/// projection that makes it (through filters, sorts, limits and DISTINCT).
fn top_derivation(p: &crate::plan::Plan) -> Option<super::coercion::Derivation> {
    use crate::plan::Plan;
    match p {
        Plan::Project { exprs, .. } => exprs.first().and_then(super::coercion::expr_collation),
        Plan::Filter { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::Distinct { input } => top_derivation(input),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::bin_literal_digits;

    #[test]
    fn only_lower_case_0b_with_binary_digits_is_a_bit_literal() {
        assert_eq!(bin_literal_digits("0b0101"), Some("0101"));
        assert_eq!(bin_literal_digits("0b1"), Some("1"));
        assert_eq!(bin_literal_digits("0B0101"), None, "a name in MySQL");
        assert_eq!(bin_literal_digits("0b012"), None, "a name in MySQL");
        assert_eq!(bin_literal_digits("0b"), None);
        assert_eq!(bin_literal_digits("0b01a"), None);
    }
}
