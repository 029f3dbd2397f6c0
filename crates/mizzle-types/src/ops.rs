//! Arithmetic on values with MySQL 8 semantics.
//!
//! Invariants:
//! 1. Integer `+ - *` are exact or fail with `OutOfRange` (error 1690); a
//!    result involving an unsigned operand must be non-negative.
//! 2. `/` never returns an integer: exact operands give a DECIMAL whose scale
//!    is the dividend's plus [`DIV_PRECISION_INCREMENT`]; doubles give doubles.
//! 3. Division or modulo by zero is reported as `DivisionByZero`; the caller
//!    decides between NULL with warning 1365 (queries) and an error (strict
//!    data-changing statements).
//! 4. NULL in, NULL out.

use crate::decimal::{Decimal, MAX_SCALE};
use crate::error::TypeError;
use crate::value::Value;

/// MySQL's `div_precision_increment` default.
pub const DIV_PRECISION_INCREMENT: u8 = 4;

/// A binary arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `DIV`
    IntDiv,
    /// `%` / `MOD`
    Mod,
}

impl ArithOp {
    /// The operator as written in SQL.
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::IntDiv => "DIV",
            ArithOp::Mod => "%",
        }
    }
}

/// The numeric class an operand takes part in arithmetic as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Int,
    Decimal,
    Double,
}

fn class_of(v: &Value) -> Class {
    match v {
        Value::Int(_) | Value::UInt(_) | Value::Date(_) => Class::Int,
        Value::Decimal(_) => Class::Decimal,
        Value::DateTime(d) if d.micros_of_day() % 1_000_000 == 0 => Class::Int,
        Value::Time(t) if t.micros() % 1_000_000 == 0 => Class::Int,
        _ => Class::Double,
    }
}

fn range_err(ty: &'static str, op: ArithOp, a: &Value, b: &Value) -> TypeError {
    TypeError::OutOfRange { ty, expr: format!("({} {} {})", a.to_text_lossy(), op.symbol(), b.to_text_lossy()) }
}

fn as_i128(v: &Value) -> i128 {
    match v {
        Value::Int(i) => *i as i128,
        Value::UInt(u) => *u as i128,
        other => other.to_i64_lossy().unwrap_or(0) as i128,
    }
}

fn as_dec(v: &Value) -> Decimal {
    v.to_decimal().flatten().unwrap_or(Decimal::ZERO)
}

/// Computes `a op b`.
pub fn arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value, TypeError> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    let class = class_of(a).max(class_of(b));
    match op {
        ArithOp::Add | ArithOp::Sub | ArithOp::Mul => match class {
            Class::Int => int_arith(op, a, b),
            Class::Decimal => {
                let (x, y) = (as_dec(a), as_dec(b));
                let r = match op {
                    ArithOp::Add => x.checked_add(y),
                    ArithOp::Sub => x.checked_sub(y),
                    _ => x.checked_mul(y),
                };
                r.map(Value::decimal).ok_or_else(|| range_err("DECIMAL", op, a, b))
            }
            Class::Double => {
                let (x, y) = (a.to_f64().unwrap_or(0.0), b.to_f64().unwrap_or(0.0));
                let r = match op {
                    ArithOp::Add => x + y,
                    ArithOp::Sub => x - y,
                    _ => x * y,
                };
                finite(r, op, a, b)
            }
        },
        ArithOp::Div => match class {
            Class::Int | Class::Decimal => {
                let (x, y) = (as_dec(a), as_dec(b));
                if y.is_zero() {
                    return Err(TypeError::DivisionByZero);
                }
                let scale = (x.scale() + DIV_PRECISION_INCREMENT).min(MAX_SCALE);
                x.checked_div(y, scale).map(Value::decimal).ok_or_else(|| range_err("DECIMAL", op, a, b))
            }
            Class::Double => {
                let (x, y) = (a.to_f64().unwrap_or(0.0), b.to_f64().unwrap_or(0.0));
                if y == 0.0 {
                    return Err(TypeError::DivisionByZero);
                }
                finite(x / y, op, a, b)
            }
        },
        ArithOp::IntDiv => {
            let unsigned = matches!(a, Value::UInt(_)) || matches!(b, Value::UInt(_));
            let q: i128 = match class {
                Class::Int => {
                    let (x, y) = (as_i128(a), as_i128(b));
                    if y == 0 {
                        return Err(TypeError::DivisionByZero);
                    }
                    x / y
                }
                _ => {
                    let (x, y) = (as_dec(a), as_dec(b));
                    if y.is_zero() {
                        return Err(TypeError::DivisionByZero);
                    }
                    // Saturated: a quotient past i128 is out of range below.
                    x.int_quotient(y).ok_or(TypeError::DivisionByZero)?
                }
            };
            int_result(q, unsigned, op, a, b)
        }
        ArithOp::Mod => match class {
            Class::Int => {
                let (x, y) = (as_i128(a), as_i128(b));
                if y == 0 {
                    return Err(TypeError::DivisionByZero);
                }
                let unsigned = matches!(a, Value::UInt(_));
                int_result(x % y, unsigned, op, a, b)
            }
            Class::Decimal => {
                let (x, y) = (as_dec(a), as_dec(b));
                x.checked_rem(y).map(Value::decimal).ok_or(TypeError::DivisionByZero)
            }
            Class::Double => {
                let (x, y) = (a.to_f64().unwrap_or(0.0), b.to_f64().unwrap_or(0.0));
                if y == 0.0 {
                    return Err(TypeError::DivisionByZero);
                }
                finite(x % y, op, a, b)
            }
        },
    }
}

fn finite(r: f64, op: ArithOp, a: &Value, b: &Value) -> Result<Value, TypeError> {
    if r.is_finite() {
        Ok(Value::Double(r))
    } else {
        Err(range_err("DOUBLE", op, a, b))
    }
}

fn int_arith(op: ArithOp, a: &Value, b: &Value) -> Result<Value, TypeError> {
    let unsigned = matches!(a, Value::UInt(_)) || matches!(b, Value::UInt(_));
    let (x, y) = (as_i128(a), as_i128(b));
    let r = match op {
        ArithOp::Add => x.checked_add(y),
        ArithOp::Sub => x.checked_sub(y),
        _ => x.checked_mul(y),
    };
    match r {
        Some(r) => int_result(r, unsigned, op, a, b),
        None => Err(range_err(if unsigned { "BIGINT UNSIGNED" } else { "BIGINT" }, op, a, b)),
    }
}

fn int_result(r: i128, unsigned: bool, op: ArithOp, a: &Value, b: &Value) -> Result<Value, TypeError> {
    if unsigned {
        if (0..=u64::MAX as i128).contains(&r) {
            Ok(Value::UInt(r as u64))
        } else {
            Err(range_err("BIGINT UNSIGNED", op, a, b))
        }
    } else if (i64::MIN as i128..=i64::MAX as i128).contains(&r) {
        Ok(Value::Int(r as i64))
    } else {
        Err(range_err("BIGINT", op, a, b))
    }
}

/// Unary minus.
pub fn negate(v: &Value) -> Result<Value, TypeError> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => return Err(TypeError::OutOfRange { ty: "BIGINT", expr: format!("-({i})") }),
        },
        Value::UInt(u) => {
            if *u <= i64::MAX as u64 + 1 {
                Value::Int((-(*u as i128)) as i64)
            } else {
                return Err(TypeError::OutOfRange { ty: "BIGINT", expr: format!("-({u})") });
            }
        }
        Value::Decimal(d) => Value::decimal(d.negated()),
        Value::Float(f) => Value::Double(-(*f as f64)),
        Value::Double(f) => Value::Double(-f),
        Value::Date(_) => Value::Int(-v.to_i64_lossy().unwrap_or(0)),
        other => Value::Double(-other.to_f64().unwrap_or(0.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: Result<Value, TypeError>) -> String {
        match v {
            Ok(v) => v.to_text_lossy(),
            Err(e) => format!("err: {e}"),
        }
    }

    #[test]
    fn integer_division_gives_decimal() {
        assert_eq!(t(arith(ArithOp::Div, &Value::Int(7), &Value::Int(2))), "3.5000");
        assert_eq!(t(arith(ArithOp::IntDiv, &Value::Int(7), &Value::Int(2))), "3");
        assert_eq!(t(arith(ArithOp::IntDiv, &Value::Int(-7), &Value::Int(2))), "-3");
        assert!(matches!(arith(ArithOp::Div, &Value::Int(1), &Value::Int(0)), Err(TypeError::DivisionByZero)));
        assert!(matches!(arith(ArithOp::Mod, &Value::Int(1), &Value::Int(0)), Err(TypeError::DivisionByZero)));
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(arith(ArithOp::Add, &Value::Int(i64::MAX), &Value::Int(1)).is_err());
        assert!(arith(ArithOp::Sub, &Value::UInt(1), &Value::Int(2)).is_err());
        assert_eq!(t(arith(ArithOp::Add, &Value::UInt(5), &Value::Int(-3))), "2");
        assert!(negate(&Value::Int(i64::MIN)).is_err());
    }

    #[test]
    fn mixed_classes() {
        assert_eq!(t(arith(ArithOp::Add, &Value::text("1.5"), &Value::Int(1))), "2.5");
        assert_eq!(t(arith(ArithOp::Mul, &Value::decimal(Decimal::parse("1.5").expect("lit")), &Value::Int(2))), "3.0");
        assert_eq!(t(arith(ArithOp::Mod, &Value::Int(-7), &Value::Int(3))), "-1");
        assert_eq!(t(arith(ArithOp::Add, &Value::Null, &Value::Int(3))), "NULL");
    }
}
