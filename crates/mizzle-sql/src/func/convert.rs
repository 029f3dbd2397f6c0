//! Argument conversions shared by the function families: numbers, strings
//! and date-times read out of [`Value`]s with the warnings MySQL raises.
//!
//! Invariants:
//! 1. A conversion that loses information the way MySQL warns about
//!    (`'abc'` read as a number, an unparsable date) pushes exactly one
//!    warning and still returns the converted value (or `None` for dates).
//! 2. NULL converts to `None` and never warns.
//! 3. The numeric class of a value ([`NumClass::of_kind`]) depends only on its
//!    [`ValueKind`], so `return_type` (which sees types) and `eval` (which sees
//!    values) always agree on it.
//!
//! This module does not decide result types; each function family does.

use std::borrow::Cow;

use mizzle_types::cast::{to_datetime, to_time};
use mizzle_types::datetime::{Time, TimeError};
use mizzle_types::decimal::MAX_PRECISION;
use mizzle_types::value::{parse_decimal_prefix, parse_f64_prefix, parse_i64_prefix};
use mizzle_types::{DateTime, Decimal, ErrorCode, SqlType, Value, ValueKind};

use super::FuncCtx;

/// The class a value takes part in numeric functions as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum NumClass {
    /// Signed integers, booleans and dates (as `YYYYMMDD`).
    Int,
    /// Unsigned integers.
    UInt,
    /// Exact decimals and date-times (as `YYYYMMDDhhmmss[.ffffff]`).
    Dec,
    /// Floating point numbers and strings.
    Dbl,
}

impl NumClass {
    /// The class of values of a kind. NULL counts as the weakest class so
    /// that it does not change the class of a combination.
    pub(super) fn of_kind(k: ValueKind) -> NumClass {
        match k {
            ValueKind::Null | ValueKind::Int | ValueKind::Date => NumClass::Int,
            ValueKind::UInt => NumClass::UInt,
            ValueKind::Decimal | ValueKind::DateTime | ValueKind::Time => NumClass::Dec,
            ValueKind::Float | ValueKind::Double | ValueKind::Text | ValueKind::Bytes | ValueKind::Json => {
                NumClass::Dbl
            }
        }
    }

    /// The class of a type's values.
    pub(super) fn of_type(t: SqlType) -> NumClass {
        NumClass::of_kind(t.kind())
    }

    /// A SQL type of this class; decimals take `dec` (precision, scale).
    pub(super) fn sql_type(self, dec: (u8, u8)) -> SqlType {
        match self {
            NumClass::Int => SqlType::BIGINT,
            NumClass::UInt => SqlType::UBIGINT,
            NumClass::Dec => SqlType::Decimal { precision: dec.0, scale: dec.1 },
            NumClass::Dbl => SqlType::Double,
        }
    }
}

/// Precision and scale a type contributes to a decimal result.
pub(super) fn decimal_shape(t: SqlType) -> (u8, u8) {
    match t {
        SqlType::Decimal { precision, scale } => (precision, scale),
        SqlType::DateTime(_) | SqlType::Timestamp(_) => (20, 6),
        SqlType::Time(_) => (13, 6),
        SqlType::Int { unsigned: true, .. } => (20, 0),
        _ => (19, 0),
    }
}

/// The decimal shape that holds every one of `types`.
pub(super) fn merged_decimal_shape(types: &[SqlType]) -> (u8, u8) {
    let mut int_digits = 1u8;
    let mut scale = 0u8;
    for t in types {
        let (p, s) = decimal_shape(*t);
        int_digits = int_digits.max(p.saturating_sub(s));
        scale = scale.max(s);
    }
    (int_digits.saturating_add(scale).min(MAX_PRECISION as u8), scale)
}

/// A number read from an argument, in its class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Num {
    Int(i64),
    UInt(u64),
    Dec(Decimal),
    Dbl(f64),
}

impl Num {
    /// The value as a double.
    pub(super) fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::UInt(u) => u as f64,
            Num::Dec(d) => d.to_f64(),
            Num::Dbl(f) => f,
        }
    }

    /// The value as an exact decimal; doubles that do not fit give `None`.
    pub(super) fn to_decimal(self) -> Option<Decimal> {
        match self {
            Num::Int(i) => Some(Decimal::from_i64(i)),
            Num::UInt(u) => Some(Decimal::from_u64(u)),
            Num::Dec(d) => Some(d),
            Num::Dbl(f) => Decimal::from_f64(f),
        }
    }

    /// The value as a [`Value`] of its class.
    pub(super) fn into_value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::UInt(u) => Value::UInt(u),
            Num::Dec(d) => Value::decimal(d),
            Num::Dbl(f) => Value::Double(f),
        }
    }
}

/// Pushes MySQL's "Truncated incorrect X value" warning (1292).
pub(super) fn warn_truncated(ctx: &mut FuncCtx<'_>, what: &str, text: &str) {
    ctx.warn(ErrorCode::TruncatedWrongValue, format!("Truncated incorrect {what} value: '{text}'"));
}

/// Pushes MySQL's "Incorrect datetime value" warning (1292).
pub(super) fn warn_bad_datetime(ctx: &mut FuncCtx<'_>, v: &Value) {
    ctx.warn(ErrorCode::TruncatedWrongValue, format!("Incorrect datetime value: '{}'", v.to_text_lossy()));
}

/// A value as text: borrowed for text, lossy for invalid UTF-8 bytes, the
/// MySQL text form for everything else.
pub(super) fn text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Text(s) => Cow::Borrowed(s),
        Value::Bytes(b) => String::from_utf8_lossy(b),
        other => Cow::Owned(other.to_text_lossy()),
    }
}

/// A value as bytes: text as UTF-8, numbers and dates as their text form.
pub(super) fn bytes(v: &Value) -> Cow<'_, [u8]> {
    match v {
        Value::Text(s) => Cow::Borrowed(s.as_bytes()),
        Value::Bytes(b) => Cow::Borrowed(b),
        other => {
            let mut out = Vec::new();
            other.write_text(&mut out);
            Cow::Owned(out)
        }
    }
}

/// The value as a double (strings by their numeric prefix, with a warning
/// when there is text left over).
pub(super) fn double(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<f64> {
    match v {
        Value::Text(_) | Value::Bytes(_) => {
            let s = text(v);
            let (f, clean) = parse_f64_prefix(&s);
            if !clean {
                warn_truncated(ctx, "DOUBLE", &s);
            }
            Some(f)
        }
        other => other.to_f64(),
    }
}

/// The value as a signed integer: decimals and doubles round half away from
/// zero, strings use their integer prefix (warning if there is more).
pub(super) fn int(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<i64> {
    match v {
        Value::Text(_) | Value::Bytes(_) => {
            let s = text(v);
            let (i, clean) = parse_i64_prefix(&s);
            if !clean {
                warn_truncated(ctx, "INTEGER", &s);
            }
            Some(i)
        }
        // `to_i64_lossy` wraps large unsigned values; a count or position saturates.
        Value::UInt(u) => Some(i64::try_from(*u).unwrap_or(i64::MAX)),
        other => other.to_i64_lossy(),
    }
}

/// The value as an exact decimal (strings by their numeric prefix, with a
/// warning when there is text left over); `None` for NULL and for doubles
/// beyond the decimal range.
pub(super) fn decimal(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<Decimal> {
    match v {
        Value::Text(_) | Value::Bytes(_) => {
            let s = text(v);
            let (d, clean) = parse_decimal_prefix(&s);
            if !clean {
                warn_truncated(ctx, "DECIMAL", &s);
            }
            Some(d)
        }
        Value::DateTime(dt) => Some(datetime_decimal(*dt)),
        other => other.to_decimal().flatten(),
    }
}

/// An integer argument clamped into `i32` (positions, counts, places).
pub(super) fn int32(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<i32> {
    let i = int(v, ctx)?;
    Some(i32::try_from(i).unwrap_or(if i < 0 { i32::MIN } else { i32::MAX }))
}

/// The exact decimal value of a date-time, `YYYYMMDDhhmmss[.ffffff]`.
pub(super) fn datetime_decimal(dt: DateTime) -> Decimal {
    let (y, m, d) = dt.date().ymd();
    let (h, mi, s, us) = dt.hms();
    let whole = ((i128::from(y) * 100 + i128::from(m)) * 100 + i128::from(d)) * 1_000_000
        + i128::from(h) * 10_000
        + i128::from(mi) * 100
        + i128::from(s);
    let exact = if us == 0 { Decimal::new(whole, 0) } else { Decimal::new(whole * 1_000_000 + i128::from(us), 6) };
    // Decimal::new only checks the scale, and 0 and 6 are valid.
    exact.expect("invariant: scale 0 or 6 is a valid decimal scale")
}

/// The value as a number of its class (see [`NumClass::of_kind`]).
pub(super) fn num(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<Num> {
    Some(match v {
        Value::Null => return None,
        Value::Int(i) => Num::Int(*i),
        Value::UInt(u) => Num::UInt(*u),
        Value::Decimal(d) => Num::Dec(**d),
        Value::Float(f) => Num::Dbl(f64::from(*f)),
        Value::Double(f) => Num::Dbl(*f),
        Value::Date(_) => Num::Int(v.to_i64_lossy().unwrap_or(0)),
        Value::DateTime(dt) => Num::Dec(datetime_decimal(*dt)),
        Value::Time(_) => Num::Dec(v.to_decimal().flatten().unwrap_or(Decimal::ZERO)),
        Value::Text(_) | Value::Bytes(_) => Num::Dbl(double(v, ctx)?),
        // JSON in a numeric context: its number (see `Value::to_f64`).
        Value::Json(_) => Num::Dbl(v.to_f64()?),
    })
}

/// The value converted to `class` (used when several arguments must share a class).
pub(super) fn num_as(v: &Value, class: NumClass, ctx: &mut FuncCtx<'_>) -> Option<Num> {
    let n = num(v, ctx)?;
    Some(match (class, n) {
        (NumClass::Dbl, n) => Num::Dbl(n.to_f64()),
        (NumClass::Dec, n) => Num::Dec(n.to_decimal().unwrap_or(Decimal::ZERO)),
        (NumClass::UInt, Num::Int(i)) => Num::UInt(u64::try_from(i).unwrap_or(0)),
        (NumClass::Int, Num::UInt(u)) => Num::Int(i64::try_from(u).unwrap_or(i64::MAX)),
        (_, n) => n,
    })
}

/// The value as a date-time: date-times as they are, dates at midnight,
/// times on the statement's date (MySQL's rule), strings and numbers
/// parsed. Unparsable values give `None` with warning 1292.
pub(super) fn datetime(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<DateTime> {
    if v.is_null() {
        return None;
    }
    if let Value::Time(t) = v {
        return time_on_date(*t, ctx.local_now());
    }
    match to_datetime(v) {
        Some(dt) => Some(dt),
        None => {
            warn_bad_datetime(ctx, v);
            None
        }
    }
}

/// A TIME on the date of `now` (a TIME turned into a DATETIME).
pub(crate) fn time_on_date(t: Time, now: DateTime) -> Option<DateTime> {
    DateTime::from_unix_micros(now.date().at_midnight().unix_micros().checked_add(t.micros())?)
}

/// The value as a TIME: times as they are, date-times by their time of
/// day, strings and numbers parsed ([`to_time`]). An unparsable value gives
/// `None` with warning 1292; one out of range gives the nearest end of the
/// range with the same warning, as MySQL does.
pub(super) fn time(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<Time> {
    if v.is_null() {
        return None;
    }
    match to_time(v) {
        Ok(t) => Some(t),
        Err(TimeError::OutOfRange(t)) => {
            warn_truncated(ctx, "time", &v.to_text_lossy());
            Some(t)
        }
        Err(TimeError::Invalid) => {
            warn_truncated(ctx, "time", &v.to_text_lossy());
            None
        }
    }
}

/// True for binary strings.
pub(super) fn is_binary(v: &Value) -> bool {
    matches!(v, Value::Bytes(_))
}

/// True for binary string types.
pub(super) fn is_binary_type(t: SqlType) -> bool {
    t.kind() == ValueKind::Bytes
}
