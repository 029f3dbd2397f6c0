//! Numeric functions: ABS, SIGN, CEIL, FLOOR, ROUND, TRUNCATE, MOD, POW,
//! the logarithms and trigonometry, RAND, GREATEST/LEAST and FORMAT.
//!
//! Invariants:
//! 1. Functions that keep their argument's class (ABS, CEIL, FLOOR, ROUND,
//!    TRUNCATE, MOD, GREATEST, LEAST) pick it with `convert::NumClass`, so
//!    the result kind follows from the argument kinds alone.
//! 2. Exact values (integers, decimals) round half away from zero; doubles
//!    round half to even, as MySQL's `rint` does.
//! 3. A double result that is infinite or NaN is never returned: MySQL gives
//!    NULL (SQRT, ASIN, ACOS, logarithms) or error 1690 (POW, EXP, COT).
//!
//! This module does not parse SQL numbers; `mizzle_types` does.

use std::cmp::Ordering;

use mizzle_types::decimal::{pow10, MAX_DIGITS, MAX_PRECISION};
use mizzle_types::ops::{arith, ArithOp};
use mizzle_types::{Decimal, ErrorCode, SqlType, TypeError, Value, ValueKind};

use super::convert::{self, merged_decimal_shape, Num, NumClass};
use super::{splitmix64_mix, FuncCtx, FuncError, ScalarFunc};

fn out_of_range(ty: &'static str, expr: String) -> FuncError {
    FuncError::Type(TypeError::OutOfRange { ty, expr })
}

/// Result types of the class-preserving functions.
pub(super) fn return_type(f: ScalarFunc, args: &[SqlType]) -> SqlType {
    let first = args.first().copied().unwrap_or(SqlType::Null);
    let class = NumClass::of_type(first);
    match f {
        ScalarFunc::Ceil | ScalarFunc::Floor => {
            let (precision, scale) = convert::decimal_shape(first);
            class.sql_type((precision.saturating_sub(scale).saturating_add(1).min(MAX_PRECISION as u8), 0))
        }
        ScalarFunc::Mod => {
            let second = args.get(1).copied().unwrap_or(SqlType::Null);
            match class.max(NumClass::of_type(second)) {
                NumClass::Int | NumClass::UInt if class == NumClass::UInt => SqlType::UBIGINT,
                NumClass::Int | NumClass::UInt => SqlType::BIGINT,
                other => other.sql_type(merged_decimal_shape(&[first, second])),
            }
        }
        ScalarFunc::Greatest | ScalarFunc::Least => match Pick::of(args.iter().map(|t| t.kind())) {
            None => SqlType::Null,
            Some(Pick::Text) => SqlType::LONGTEXT,
            Some(Pick::Bytes) => SqlType::LONGBLOB,
            Some(Pick::Date) => SqlType::Date,
            Some(Pick::DateTime) => {
                let fsp = args
                    .iter()
                    .map(|t| match t {
                        SqlType::DateTime(p) | SqlType::Timestamp(p) => *p,
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0);
                SqlType::DateTime(fsp)
            }
            Some(Pick::Num(c)) => c.sql_type(merged_decimal_shape(args)),
        },
        // ABS, ROUND, TRUNCATE keep the class and shape of their argument.
        _ => class.sql_type(convert::decimal_shape(first)),
    }
}

/// ABS(x).
pub(super) fn abs(v: &Value, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    Ok(match convert::num(v, ctx) {
        None => Value::Null,
        Some(Num::Int(i)) => match i.checked_abs() {
            Some(a) => Value::Int(a),
            None => return Err(out_of_range("BIGINT", format!("abs({i})"))),
        },
        Some(Num::UInt(u)) => Value::UInt(u),
        Some(Num::Dec(d)) => Value::decimal(d.abs()),
        Some(Num::Dbl(f)) => Value::Double(f.abs()),
    })
}

/// SIGN(x): -1, 0 or 1.
pub(super) fn sign(v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    match convert::num(v, ctx) {
        None => Value::Null,
        Some(Num::Int(i)) => Value::Int(i.signum()),
        Some(Num::UInt(u)) => Value::Int(i64::from(u > 0)),
        Some(Num::Dec(d)) => Value::Int(i64::from(d.signum())),
        Some(Num::Dbl(f)) => Value::Int(if f > 0.0 {
            1
        } else if f < 0.0 {
            -1
        } else {
            0
        }),
    }
}

/// CEIL(x) (`up`) or FLOOR(x).
pub(super) fn ceil_floor(v: &Value, up: bool, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    Ok(match convert::num(v, ctx) {
        None => Value::Null,
        Some(Num::Dec(d)) => Value::decimal(if up { d.ceil() } else { d.floor() }),
        Some(Num::Dbl(f)) => Value::Double(if up { f.ceil() } else { f.floor() }),
        Some(n) => n.into_value(),
    })
}

/// `10^n` as a double, read from its decimal literal like MySQL's table;
/// infinite beyond the double range.
fn pow10_f64(n: u64) -> f64 {
    if n > 400 {
        return f64::INFINITY;
    }
    format!("1e{n}").parse::<f64>().unwrap_or(f64::INFINITY)
}

/// MySQL's `my_double_round`: round half even (or truncate) to `dec` places.
pub(super) fn double_round(value: f64, dec: i64, truncate: bool) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let neg = dec < 0;
    let tmp = pow10_f64(dec.unsigned_abs());
    let div = value / tmp;
    let mul = value * tmp;
    let r = if neg && tmp.is_infinite() {
        0.0
    } else if !neg && mul.is_infinite() {
        value
    } else if truncate {
        match (value >= 0.0, neg) {
            (true, true) => div.floor() * tmp,
            (true, false) => mul.floor() / tmp,
            (false, true) => div.ceil() * tmp,
            (false, false) => mul.ceil() / tmp,
        }
    } else if neg {
        div.round_ties_even() * tmp
    } else {
        mul.round_ties_even() / tmp
    };
    if r.is_finite() {
        r
    } else {
        value
    }
}

/// `a / b` rounded half away from zero (or truncated).
fn int_div_round(a: i128, b: i128, truncate: bool) -> i128 {
    let q = a / b;
    let r = a % b;
    if truncate || r.unsigned_abs() * 2 < b.unsigned_abs() {
        q
    } else if a < 0 {
        q - 1
    } else {
        q + 1
    }
}

/// Rounds an integer to `-places` tens (places < 0); `None` when it overflows i128.
fn round_int(i: i128, places: i64, truncate: bool) -> i128 {
    if places >= 0 {
        return i;
    }
    match u32::try_from(places.unsigned_abs()).ok().and_then(pow10) {
        Some(f) => int_div_round(i, f, truncate) * f,
        None => 0,
    }
}

/// ROUND(x[, d]) or TRUNCATE(x, d).
pub(super) fn round(
    x: &Value,
    places: Option<&Value>,
    truncate: bool,
    ctx: &mut FuncCtx<'_>,
) -> Result<Value, FuncError> {
    let places = match places {
        None => 0,
        Some(p) => match convert::int(p, ctx) {
            Some(p) => p,
            None => return Ok(Value::Null),
        },
    };
    let name = if truncate { "truncate" } else { "round" };
    Ok(match convert::num(x, ctx) {
        None => Value::Null,
        Some(Num::Int(i)) => {
            let r = round_int(i128::from(i), places, truncate);
            match i64::try_from(r) {
                Ok(r) => Value::Int(r),
                Err(_) => return Err(out_of_range("BIGINT", format!("{name}({i},{places})"))),
            }
        }
        Some(Num::UInt(u)) => {
            let r = round_int(i128::from(u), places, truncate);
            match u64::try_from(r) {
                Ok(r) => Value::UInt(r),
                Err(_) => return Err(out_of_range("BIGINT UNSIGNED", format!("{name}({u},{places})"))),
            }
        }
        Some(Num::Dec(d)) => {
            let p = i32::try_from(places).unwrap_or(if places < 0 { i32::MIN } else { i32::MAX });
            if p < -(MAX_DIGITS as i32) {
                Value::decimal(Decimal::ZERO)
            } else {
                let r = if truncate { d.truncate_places(p) } else { d.round_to(p) };
                match r {
                    Some(r) => Value::decimal(r),
                    None => return Err(out_of_range("DECIMAL", format!("{name}({d},{places})"))),
                }
            }
        }
        Some(Num::Dbl(f)) => Value::Double(double_round(f, places, truncate)),
    })
}

/// MOD(a, b): `ops::arith` on the arguments' classes; division by zero is
/// NULL with warning 1365.
pub(super) fn modulo(a: &Value, b: &Value, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    let (Some(x), Some(y)) = (convert::num(a, ctx), convert::num(b, ctx)) else {
        return Ok(Value::Null);
    };
    match arith(ArithOp::Mod, &x.into_value(), &y.into_value()) {
        Ok(v) => Ok(v),
        Err(TypeError::DivisionByZero) => {
            ctx.warn(ErrorCode::DivisionByZero, "Division by 0".into());
            Ok(Value::Null)
        }
        Err(e) => Err(FuncError::Type(e)),
    }
}

/// A function of one double; `None` or a non-finite result gives NULL.
pub(super) fn unary(v: &Value, ctx: &mut FuncCtx<'_>, f: impl Fn(f64) -> Option<f64>) -> Value {
    match convert::double(v, ctx).and_then(f) {
        Some(r) if r.is_finite() => Value::Double(r),
        _ => Value::Null,
    }
}

/// POW(x, y); a result outside the doubles is error 1690, as in MySQL.
pub(super) fn pow(a: &Value, b: &Value, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    let (Some(x), Some(y)) = (convert::double(a, ctx), convert::double(b, ctx)) else {
        return Ok(Value::Null);
    };
    let r = x.powf(y);
    if r.is_finite() {
        Ok(Value::Double(r))
    } else {
        Err(out_of_range("DOUBLE", format!("pow({},{})", a.to_text_lossy(), b.to_text_lossy())))
    }
}

/// EXP(x); overflow is error 1690.
pub(super) fn exp(a: &Value, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    let Some(x) = convert::double(a, ctx) else {
        return Ok(Value::Null);
    };
    let r = x.exp();
    if r.is_finite() {
        Ok(Value::Double(r))
    } else {
        Err(out_of_range("DOUBLE", format!("exp({})", a.to_text_lossy())))
    }
}

/// COT(x); COT(0) is error 1690.
pub(super) fn cot(a: &Value, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    let Some(x) = convert::double(a, ctx) else {
        return Ok(Value::Null);
    };
    let r = 1.0 / x.tan();
    if r.is_finite() {
        Ok(Value::Double(r))
    } else {
        Err(out_of_range("DOUBLE", format!("cot({})", a.to_text_lossy())))
    }
}

/// ATAN2(y, x) and ATAN(y, x).
pub(super) fn atan2(y: &Value, x: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    match (convert::double(y, ctx), convert::double(x, ctx)) {
        (Some(y), Some(x)) => Value::Double(y.atan2(x)),
        _ => Value::Null,
    }
}

fn warn_log(ctx: &mut FuncCtx<'_>) -> Value {
    // MySQL raises ER_INVALID_ARGUMENT_FOR_LOGARITHM (3020); the table has no
    // such entry, so the warning uses ER_WRONG_ARGUMENTS.
    ctx.warn(ErrorCode::WrongArguments, "Invalid argument for logarithm".into());
    Value::Null
}

/// LN, LOG2, LOG10 (`f`) of `x`, or LOG(base, x) when `base` is given.
/// Non-positive arguments (and base 1) give NULL with a warning.
pub(super) fn log(base: Option<&Value>, x: &Value, ctx: &mut FuncCtx<'_>, f: fn(f64) -> f64) -> Value {
    if x.is_null() || base.is_some_and(Value::is_null) {
        return Value::Null;
    }
    let b = match base {
        Some(b) => match convert::double(b, ctx) {
            Some(b) if b > 0.0 => Some(b),
            _ => return warn_log(ctx),
        },
        None => None,
    };
    let Some(v) = convert::double(x, ctx) else {
        return Value::Null;
    };
    if v <= 0.0 || b == Some(1.0) {
        return warn_log(ctx);
    }
    let r = match b {
        Some(b) => f(v) / f(b),
        None => f(v),
    };
    if r.is_finite() {
        Value::Double(r)
    } else {
        Value::Null
    }
}

/// A double in [0, 1) from 64 random bits.
fn unit_interval(bits: u64) -> f64 {
    // 53 bits fill a double's mantissa exactly.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// RAND([seed]): the session's splitmix64 stream, or a value fixed by the seed.
pub(super) fn rand(seed: Option<&Value>, ctx: &mut FuncCtx<'_>) -> Value {
    let bits = match seed {
        None => ctx.next_random(),
        Some(s) => {
            // RAND(NULL) seeds with 0, as in MySQL.
            let n = convert::int(s, ctx).unwrap_or(0);
            // Two's complement reinterpretation: every seed maps to one state.
            splitmix64_mix((n as u64).wrapping_add(0x9E37_79B9_7F4A_7C15))
        }
    };
    Value::Double(unit_interval(bits))
}

/// How GREATEST and LEAST compare their arguments (MySQL 8 aggregation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pick {
    /// Character strings, compared by code point (binary collation).
    Text,
    /// Binary strings, compared by byte.
    Bytes,
    /// All dates.
    Date,
    /// Dates and date-times.
    DateTime,
    /// Numbers (dates among numbers count as numbers).
    Num(NumClass),
}

impl Pick {
    /// The comparison for arguments of these kinds; `None` if all are NULL.
    fn of(kinds: impl Iterator<Item = ValueKind> + Clone) -> Option<Pick> {
        let kinds = kinds.filter(|k| *k != ValueKind::Null);
        let mut any = false;
        let (mut text, mut bytes, mut temporal, mut datetime, mut all_temporal) = (false, false, false, false, true);
        for k in kinds.clone() {
            any = true;
            match k {
                ValueKind::Text => text = true,
                ValueKind::Bytes => bytes = true,
                ValueKind::Date => temporal = true,
                ValueKind::DateTime => {
                    temporal = true;
                    datetime = true;
                }
                _ => {}
            }
            if !matches!(k, ValueKind::Date | ValueKind::DateTime) {
                all_temporal = false;
            }
        }
        if !any {
            return None;
        }
        if text {
            return Some(Pick::Text);
        }
        if bytes {
            return Some(Pick::Bytes);
        }
        if temporal && all_temporal {
            return Some(if datetime { Pick::DateTime } else { Pick::Date });
        }
        let mut classes = kinds.map(NumClass::of_kind);
        let first = classes.next()?;
        let mut class = first;
        let mut mixed_sign = false;
        for c in classes {
            if matches!((class, c), (NumClass::Int, NumClass::UInt) | (NumClass::UInt, NumClass::Int)) {
                mixed_sign = true;
            }
            class = class.max(c);
        }
        if mixed_sign && class <= NumClass::Dec {
            // BIGINT and BIGINT UNSIGNED only meet in DECIMAL.
            class = NumClass::Dec;
        }
        Some(Pick::Num(class))
    }
}

fn num_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::UInt(x), Num::UInt(y)) => x.cmp(&y),
        (Num::Dec(x), Num::Dec(y)) => x.cmp(&y),
        (x, y) => x.to_f64().partial_cmp(&y.to_f64()).unwrap_or(Ordering::Equal),
    }
}

/// Keeps the better of `best` and `cand` (the first on ties).
fn better<T>(best: Option<T>, cand: T, greatest: bool, cmp: impl Fn(&T, &T) -> Ordering) -> Option<T> {
    match best {
        None => Some(cand),
        Some(b) => {
            let o = cmp(&cand, &b);
            if (greatest && o == Ordering::Greater) || (!greatest && o == Ordering::Less) {
                Some(cand)
            } else {
                Some(b)
            }
        }
    }
}

/// GREATEST (`greatest`) or LEAST: NULL if any argument is NULL.
pub(super) fn greatest_least(args: &[Value], greatest: bool, ctx: &mut FuncCtx<'_>) -> Value {
    if args.iter().any(Value::is_null) {
        return Value::Null;
    }
    let Some(pick) = Pick::of(args.iter().map(Value::kind)) else {
        return Value::Null;
    };
    match pick {
        Pick::Text | Pick::Bytes => {
            let mut best: Option<Vec<u8>> = None;
            for v in args {
                let b = convert::bytes(v).into_owned();
                best = better(best, b, greatest, |x, y| x.cmp(y));
            }
            let b = best.unwrap_or_default();
            if pick == Pick::Text {
                Value::text(&String::from_utf8_lossy(&b))
            } else {
                Value::bytes(&b)
            }
        }
        Pick::Date | Pick::DateTime => {
            let mut best = None;
            for v in args {
                let dt = match v {
                    Value::Date(d) => d.at_midnight(),
                    Value::DateTime(d) => *d,
                    _ => continue,
                };
                best = better(best, dt, greatest, |x, y| x.cmp(y));
            }
            match (best, pick) {
                (Some(dt), Pick::Date) => Value::Date(dt.date()),
                (Some(dt), _) => Value::DateTime(dt),
                (None, _) => Value::Null,
            }
        }
        Pick::Num(class) => {
            let mut best = None;
            for v in args {
                if let Some(n) = convert::num_as(v, class, ctx) {
                    best = better(best, n, greatest, |x, y| num_cmp(*x, *y));
                }
            }
            best.map(Num::into_value).unwrap_or(Value::Null)
        }
    }
}

/// Inserts thousands separators into `digits[.frac]` (an optional `-` first).
fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3 + 1);
    // A zero result has no sign: FORMAT(-0.4, 0) is '0'.
    if rest.bytes().any(|c| c.is_ascii_digit() && c != b'0') {
        out.push_str(sign);
    }
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// FORMAT(x, d): rounded to `d` places (0..=30) with thousands separators.
pub(super) fn format(x: &Value, places: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    let Some(d) = convert::int32(places, ctx) else {
        return Value::Null;
    };
    let d = d.clamp(0, 30);
    let Some(n) = convert::num(x, ctx) else {
        return Value::Null;
    };
    let width = usize::try_from(d).unwrap_or(0);
    let exact = match n {
        Num::Dbl(_) => None,
        exact => exact.to_decimal().and_then(|v| v.round_to(d)),
    };
    let plain = match exact {
        Some(r) => {
            let s = r.to_string();
            let have = s.split_once('.').map_or(0, |(_, f)| f.len());
            let mut s = s;
            if width > 0 && have == 0 {
                s.push('.');
            }
            for _ in have..width {
                s.push('0');
            }
            s
        }
        None => format!("{:.*}", width, double_round(n.to_f64(), i64::from(d), false)),
    };
    Value::text(&group_thousands(&plain))
}
