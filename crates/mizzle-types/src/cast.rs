//! Conversions between types: explicit `CAST` and storing into a column.
//!
//! Invariants:
//! 1. [`cast`] (explicit `CAST`/`CONVERT` and implicit conversions in
//!    expressions) never fails on a value: like MySQL it saturates, truncates
//!    or uses a numeric prefix, and reports that through `lossy`.
//! 2. [`assign`] (INSERT/UPDATE into a column) under strict mode rejects
//!    anything that would lose information, with the MySQL error for it.
//! 3. Text results are valid UTF-8; bytes become text only if they are.

use std::sync::Arc;

use crate::datetime::{Date, DateTime, Time, TimeError, MICROS_PER_DAY};
use crate::decimal::{pow10, Decimal};
use crate::error::{hex_prefix, TypeError};
use crate::sqltype::{IntWidth, SqlType};
use crate::timezone::{LocalKind, TimeZone};
use crate::value::{parse_decimal_prefix, parse_f64_prefix, parse_i64_prefix, Value};

/// Result of a lenient conversion: the value and whether information was lost.
pub struct Cast {
    /// The converted value.
    pub value: Value,
    /// True when the input did not convert cleanly (MySQL would warn).
    pub lossy: bool,
}

fn ok(value: Value) -> Cast {
    Cast { value, lossy: false }
}

fn lossy(value: Value) -> Cast {
    Cast { value, lossy: true }
}

/// Converts `v` to `target` the way `CAST(v AS target)` does.
pub fn cast(v: &Value, target: SqlType) -> Cast {
    if v.is_null() {
        return ok(Value::Null);
    }
    match target {
        SqlType::Null => ok(Value::Null),
        SqlType::Bool | SqlType::Int { unsigned: false, .. } => cast_signed(v),
        SqlType::Int { unsigned: true, .. } => cast_unsigned(v),
        SqlType::Double => match v {
            Value::Text(s) => {
                let (f, clean) = parse_f64_prefix(s);
                Cast { value: Value::Double(f), lossy: !clean }
            }
            _ => ok(Value::Double(v.to_f64().unwrap_or(0.0))),
        },
        SqlType::Float => {
            let f = match v {
                Value::Text(s) => parse_f64_prefix(s).0,
                _ => v.to_f64().unwrap_or(0.0),
            };
            ok(Value::Float(f as f32))
        }
        SqlType::Decimal { precision, scale } => cast_decimal(v, precision, scale),
        // The evaluator converts to JSON itself (a bad text is an error
        // there); this lenient form gives NULL for text that is not JSON.
        SqlType::Json => match crate::json::from_value(v) {
            Ok(Some(j)) => ok(Value::json(&j)),
            _ => lossy(Value::Null),
        },
        SqlType::Year => match year_of(v) {
            Ok(y) => ok(Value::Int(y)),
            Err(_) => lossy(Value::Null),
        },
        SqlType::Char(_) | SqlType::Varchar(_) | SqlType::Text(_) | SqlType::Enum(_) | SqlType::Set(_) => {
            let s: Arc<str> = match v {
                Value::Text(s) => return ok(Value::Text(s.clone())),
                Value::Bytes(b) => match std::str::from_utf8(b) {
                    Ok(s) => Arc::from(s),
                    Err(_) => return lossy(Value::Text(Arc::from(String::from_utf8_lossy(b).as_ref()))),
                },
                other => Arc::from(other.to_text_lossy().as_str()),
            };
            let s: Arc<str> = match target.max_len() {
                Some(n) if s.chars().count() > n as usize => {
                    let cut: String = s.chars().take(n as usize).collect();
                    return lossy(Value::Text(Arc::from(cut.as_str())));
                }
                _ => s,
            };
            ok(Value::Text(s))
        }
        SqlType::Binary(_) | SqlType::Varbinary(_) | SqlType::Blob(_) => {
            let b: Arc<[u8]> = match v {
                Value::Bytes(b) => b.clone(),
                Value::Text(s) => Arc::from(s.as_bytes()),
                other => {
                    let mut out = Vec::new();
                    other.write_text(&mut out);
                    Arc::from(out)
                }
            };
            ok(Value::Bytes(b))
        }
        SqlType::Date => match to_datetime(v) {
            Some(dt) => ok(Value::Date(dt.date())),
            None => lossy(Value::Null),
        },
        SqlType::DateTime(fsp) | SqlType::Timestamp(fsp) => match to_datetime(v) {
            Some(dt) => ok(Value::DateTime(round_fsp(dt, fsp))),
            None => lossy(Value::Null),
        },
        SqlType::Time(fsp) => match to_time(v) {
            Ok(t) => ok(Value::Time(t.round(fsp))),
            Err(TimeError::OutOfRange(t)) => lossy(Value::Time(t)),
            Err(TimeError::Invalid) => lossy(Value::Null),
        },
        SqlType::Bit(_) => cast_unsigned(v),
    }
}

/// The value as a TIME, MySQL style: text by [`Time::parse`], numbers as
/// `[-]HHMMSS[.ffffff]`, date-times by their time of day, dates as midnight.
pub fn to_time(v: &Value) -> Result<Time, TimeError> {
    match v {
        Value::Time(t) => Ok(*t),
        Value::DateTime(d) => Ok(Time::of_datetime(*d)),
        Value::Date(_) => Ok(Time::from_micros(0).unwrap_or(Time::MAX)),
        Value::Text(s) => Time::parse(s),
        Value::Bytes(b) => Time::parse(std::str::from_utf8(b).map_err(|_| TimeError::Invalid)?),
        Value::Int(i) => Time::from_number(*i < 0, i.unsigned_abs(), 0),
        Value::UInt(u) => Time::from_number(false, *u, 0),
        Value::Decimal(d) => {
            let us = d.rescale(6).and_then(Decimal::mantissa_i128).ok_or(TimeError::Invalid)?;
            let mag = us.unsigned_abs();
            let int = u64::try_from(mag / 1_000_000).map_err(|_| TimeError::Invalid)?;
            Time::from_number(us < 0, int, (mag % 1_000_000) as u64)
        }
        Value::Double(_) | Value::Float(_) => {
            let f = v.to_f64().unwrap_or(0.0);
            match Decimal::from_f64(f) {
                Some(d) => to_time(&Value::decimal(d)),
                None => Err(TimeError::Invalid),
            }
        }
        Value::Json(_) => match v.to_json() {
            Some(crate::json::Json::Time(t)) => Ok(t),
            Some(crate::json::Json::DateTime(d)) => Ok(Time::of_datetime(d)),
            Some(crate::json::Json::Date(_)) => Ok(Time::from_micros(0).unwrap_or(Time::MAX)),
            Some(crate::json::Json::String(s)) => Time::parse(&s),
            _ => Err(TimeError::Invalid),
        },
        Value::Null => Err(TimeError::Invalid),
    }
}

/// Stores a value into a BIT(n) column: integers as they are, strings as
/// their big-endian bytes (MySQL's rule); a value needing more than `n`
/// bits, or a negative number, is too long (error 1406).
fn assign_bit(v: &Value, n: u8, at: &Target<'_>) -> Result<Value, TypeError> {
    let too_long = || TypeError::DataTooLong { column: at.column.to_string(), row: at.row };
    let u: u64 = match v {
        Value::UInt(u) => *u,
        Value::Int(i) => u64::try_from(*i).map_err(|_| too_long())?,
        Value::Text(_) | Value::Bytes(_) => {
            let b: &[u8] = match v {
                Value::Text(s) => s.as_bytes(),
                Value::Bytes(b) => b,
                _ => &[],
            };
            let b = {
                let lead = b.iter().take_while(|x| **x == 0).count();
                &b[lead..]
            };
            if b.len() > 8 {
                return Err(too_long());
            }
            b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
        }
        other => {
            let d = other.to_decimal().flatten().ok_or_else(too_long)?;
            u64::try_from(d.round_i128()).map_err(|_| too_long())?
        }
    };
    if n < 64 && u >> n != 0 {
        return Err(too_long());
    }
    Ok(Value::UInt(u))
}

fn cast_signed(v: &Value) -> Cast {
    match v {
        Value::Int(i) => ok(Value::Int(*i)),
        Value::UInt(u) => ok(Value::Int(*u as i64)),
        Value::Text(s) => {
            let (i, clean) = parse_i64_prefix(s);
            Cast { value: Value::Int(i), lossy: !clean }
        }
        other => ok(Value::Int(other.to_i64_lossy().unwrap_or(0))),
    }
}

fn cast_unsigned(v: &Value) -> Cast {
    match v {
        Value::Int(i) => ok(Value::UInt(*i as u64)),
        Value::UInt(u) => ok(Value::UInt(*u)),
        Value::Text(s) => {
            let t = s.trim_start();
            if let Ok(u) = t.trim_end().parse::<u64>() {
                return ok(Value::UInt(u));
            }
            let (i, clean) = parse_i64_prefix(s);
            Cast { value: Value::UInt(i as u64), lossy: !clean }
        }
        Value::Double(f) if *f >= 9.223_372_036_854_776e18 => {
            ok(Value::UInt(if *f >= 1.8446744073709552e19 { u64::MAX } else { f.round() as u64 }))
        }
        Value::Decimal(d) if d.round_i128() > i64::MAX as i128 => {
            ok(Value::UInt(d.round_i128().clamp(0, u64::MAX as i128) as u64))
        }
        other => {
            let i = other.to_i64_lossy().unwrap_or(0);
            if i < 0 && matches!(other, Value::Double(_) | Value::Float(_) | Value::Decimal(_)) {
                // MySQL clamps negative non-integers to 0 for UNSIGNED.
                return lossy(Value::UInt(0));
            }
            ok(Value::UInt(i as u64))
        }
    }
}

fn cast_decimal(v: &Value, precision: u8, scale: u8) -> Cast {
    let (d, mut was_lossy) = match v {
        Value::Text(s) => {
            let (d, clean) = parse_decimal_prefix(s);
            (Some(d), !clean)
        }
        other => (other.to_decimal().flatten(), false),
    };
    let d = match d.and_then(|d| d.rescale(scale)) {
        Some(d) => d,
        None => {
            was_lossy = true;
            max_decimal(precision, scale, v.to_f64().unwrap_or(0.0) < 0.0)
        }
    };
    let d = if d.digits() > precision as u32 && !d.is_zero() {
        was_lossy = true;
        max_decimal(precision, scale, d.signum() < 0)
    } else {
        d
    };
    Cast { value: Value::decimal(d), lossy: was_lossy }
}

fn max_decimal(precision: u8, scale: u8, negative: bool) -> Decimal {
    let m = pow10(precision as u32).unwrap_or(1) - 1;
    Decimal::new(if negative { -m } else { m }, scale).unwrap_or(Decimal::ZERO)
}

fn round_fsp(dt: DateTime, fsp: u8) -> DateTime {
    let unit = 10i64.pow(6 - fsp.min(6) as u32);
    let us = dt.micros_of_day();
    let r = (us + unit / 2) / unit * unit;
    if r >= MICROS_PER_DAY {
        return DateTime::from_unix_micros(dt.unix_micros() - us + r).unwrap_or(dt);
    }
    DateTime::from_parts(dt.date(), r)
}

/// The value as a date-time, if it is one or reads as one.
pub fn to_datetime(v: &Value) -> Option<DateTime> {
    match v {
        Value::DateTime(d) => Some(*d),
        Value::Date(d) => Some(d.at_midnight()),
        Value::Text(s) => DateTime::parse(s),
        Value::Bytes(b) => DateTime::parse(std::str::from_utf8(b).ok()?),
        Value::Json(_) => match v.to_json()? {
            crate::json::Json::Date(d) => Some(d.at_midnight()),
            crate::json::Json::DateTime(d) => Some(d),
            crate::json::Json::String(s) => DateTime::parse(&s),
            _ => None,
        },
        Value::Int(_) | Value::UInt(_) | Value::Decimal(_) | Value::Double(_) | Value::Float(_) => {
            let i = v.to_i64_lossy()?;
            if i <= 0 {
                return None;
            }
            DateTime::parse(&i.to_string())
        }
        Value::Time(_) | Value::Null => None,
    }
}

/// Where a value is being stored, for error messages.
pub struct Target<'a> {
    /// Column name.
    pub column: &'a str,
    /// 1-based row number within the statement.
    pub row: u64,
}

/// [`assign`] of an owned value: an integer already in a signed integer
/// column's range, or a text that fits a TEXT column, is returned as it is
/// (a text's reference count is not touched again); anything else converts
/// as [`assign`] does, with the same result.
pub fn assign_owned(v: Value, ty: SqlType, at: &Target<'_>) -> Result<Value, TypeError> {
    match (&v, ty) {
        (Value::Int(i), SqlType::Int { width, unsigned: false }) => {
            let (lo, hi) = width.signed_range();
            if (lo..=hi).contains(i) {
                return Ok(v);
            }
        }
        (Value::Text(s), SqlType::Text(max)) if s.len() as u64 <= u64::from(max) => return Ok(v),
        _ => {}
    }
    assign(&v, ty, at)
}

/// Converts `v` for storing into a column of type `ty` in strict mode.
pub fn assign(v: &Value, ty: SqlType, at: &Target<'_>) -> Result<Value, TypeError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let range = || TypeError::OutOfRangeForColumn { column: at.column.to_string(), row: at.row };
    let incorrect = |tyname: &'static str| TypeError::IncorrectValue {
        ty: tyname,
        value: v.to_text_lossy(),
        column: at.column.to_string(),
        row: at.row,
    };
    match ty {
        SqlType::Null => Ok(Value::Null),
        SqlType::Bool | SqlType::Int { .. } => {
            let (width, unsigned) = match ty {
                SqlType::Int { width, unsigned } => (width, unsigned),
                _ => (IntWidth::Tiny, false),
            };
            let n: i128 = match v {
                Value::Int(i) => *i as i128,
                Value::UInt(u) => *u as i128,
                Value::Decimal(d) => d.round_i128(),
                Value::Double(f) => float_to_i128(*f).ok_or_else(range)?,
                Value::Float(f) => float_to_i128(*f as f64).ok_or_else(range)?,
                Value::Text(s) => text_to_i128(s).ok_or_else(|| incorrect("integer"))?,
                Value::Bytes(b) => {
                    std::str::from_utf8(b).ok().and_then(text_to_i128).ok_or_else(|| incorrect("integer"))?
                }
                Value::Json(_) => match v.to_json() {
                    Some(j @ (crate::json::Json::Int(_) | crate::json::Json::UInt(_) | crate::json::Json::Bool(_))) => {
                        Value::json(&j).to_i64_lossy().unwrap_or(0) as i128
                    }
                    _ => return Err(incorrect("integer")),
                },
                Value::Date(_) | Value::DateTime(_) | Value::Time(_) => v.to_i64_lossy().unwrap_or(0) as i128,
                Value::Null => return Ok(Value::Null),
            };
            if unsigned {
                if n < 0 || n > width.unsigned_max() as i128 {
                    return Err(range());
                }
                Ok(Value::UInt(n as u64))
            } else {
                let (lo, hi) = width.signed_range();
                if n < lo as i128 || n > hi as i128 {
                    return Err(range());
                }
                Ok(Value::Int(n as i64))
            }
        }
        SqlType::Double | SqlType::Float => {
            let f = match v {
                Value::Text(s) => {
                    let (f, clean) = parse_f64_prefix(s);
                    if !clean {
                        return Err(incorrect("double"));
                    }
                    f
                }
                other => other.to_f64().unwrap_or(0.0),
            };
            if !f.is_finite() {
                return Err(range());
            }
            if ty == SqlType::Float {
                if f.abs() > f32::MAX as f64 {
                    return Err(range());
                }
                return Ok(Value::Float(f as f32));
            }
            Ok(Value::Double(f))
        }
        SqlType::Decimal { precision, scale } => {
            let d = match v {
                Value::Text(s) => {
                    let (d, clean) = parse_decimal_prefix(s);
                    if !clean {
                        return Err(incorrect("decimal"));
                    }
                    d
                }
                other => other.to_decimal().flatten().ok_or_else(range)?,
            };
            let d = d.rescale(scale).ok_or_else(range)?;
            if d.digits() > precision as u32 && !d.is_zero() {
                return Err(range());
            }
            Ok(Value::decimal(d))
        }
        SqlType::Char(_) | SqlType::Varchar(_) | SqlType::Text(_) => {
            let s: Arc<str> = match v {
                Value::Text(s) => s.clone(),
                Value::Bytes(b) => match std::str::from_utf8(b) {
                    Ok(s) => Arc::from(s),
                    Err(_) => {
                        return Err(TypeError::IncorrectValue {
                            ty: "string",
                            value: format!("\\x{}", hex_prefix(b)),
                            column: at.column.to_string(),
                            row: at.row,
                        })
                    }
                },
                other => Arc::from(other.to_text_lossy().as_str()),
            };
            let too_long = match ty {
                SqlType::Text(max) => s.len() as u64 > max as u64,
                _ => ty.max_len().is_some_and(|n| s.chars().count() > n as usize),
            };
            if too_long {
                return Err(TypeError::DataTooLong { column: at.column.to_string(), row: at.row });
            }
            Ok(Value::Text(s))
        }
        SqlType::Binary(_) | SqlType::Varbinary(_) | SqlType::Blob(_) => {
            let b: Arc<[u8]> = match v {
                Value::Bytes(b) => b.clone(),
                Value::Text(s) => Arc::from(s.as_bytes()),
                other => Arc::from(other.to_text_lossy().into_bytes()),
            };
            let limit = match ty {
                SqlType::Blob(max) => Some(max),
                _ => ty.max_len(),
            };
            if limit.is_some_and(|n| b.len() as u64 > n as u64) {
                return Err(TypeError::DataTooLong { column: at.column.to_string(), row: at.row });
            }
            if let SqlType::Binary(n) = ty {
                if b.len() < n as usize {
                    let mut padded = b.to_vec();
                    padded.resize(n as usize, 0);
                    return Ok(Value::Bytes(Arc::from(padded)));
                }
            }
            Ok(Value::Bytes(b))
        }
        SqlType::Json => match crate::json::from_value(v) {
            Ok(Some(j)) => Ok(Value::json(&j)),
            Ok(None) => Ok(Value::Null),
            Err(error) => Err(TypeError::Json(crate::error::JsonErrorAt {
                error,
                at: crate::error::JsonErrorSite::Column(at.column.to_string()),
            })),
        },
        SqlType::Year => match year_of(v) {
            Ok(y) => Ok(Value::Int(y)),
            Err(YearError::Range) => Err(range()),
            Err(YearError::NotANumber) => Err(incorrect("year")),
        },
        SqlType::Enum(m) | SqlType::Set(m) => {
            let truncated = || TypeError::DataTruncated { column: at.column.to_string(), row: at.row };
            let set = matches!(ty, SqlType::Set(_));
            // Numbers are indexes (ENUM) or masks (SET), as in MySQL.
            let number: Option<i128> = match v {
                Value::Int(i) => Some(*i as i128),
                Value::UInt(u) => Some(*u as i128),
                Value::Decimal(d) => Some(d.round_i128()),
                Value::Double(f) => Some(float_to_i128(*f).ok_or_else(truncated)?),
                Value::Float(f) => Some(float_to_i128(*f as f64).ok_or_else(truncated)?),
                _ => None,
            };
            let text = match number {
                Some(n) if set => u64::try_from(n).ok().and_then(|n| m.set_text(n)).ok_or_else(truncated)?,
                Some(n) => usize::try_from(n).ok().and_then(|n| m.get(n)).ok_or_else(truncated)?.to_string(),
                None => {
                    let s = match v {
                        Value::Bytes(b) => std::str::from_utf8(b).map_err(|_| truncated())?.to_string(),
                        other => other.to_text_lossy(),
                    };
                    if set {
                        m.set_mask(&s).and_then(|mask| m.set_text(mask)).ok_or_else(truncated)?
                    } else {
                        m.position(&s).and_then(|p| m.get(p)).ok_or_else(truncated)?.to_string()
                    }
                }
            };
            Ok(Value::Text(Arc::from(text.as_str())))
        }
        SqlType::Date => match v {
            Value::Date(d) => Ok(Value::Date(*d)),
            Value::DateTime(d) => Ok(Value::Date(d.date())),
            other => to_datetime(other).map(|d| Value::Date(d.date())).ok_or_else(|| TypeError::IncorrectTemporal {
                ty: "date",
                value: other.to_text_lossy(),
                column: at.column.to_string(),
                row: at.row,
            }),
        },
        SqlType::DateTime(fsp) | SqlType::Timestamp(fsp) => {
            let dt = to_datetime(v).ok_or_else(|| TypeError::IncorrectTemporal {
                ty: "datetime",
                value: v.to_text_lossy(),
                column: at.column.to_string(),
                row: at.row,
            })?;
            if matches!(ty, SqlType::Timestamp(_)) {
                let secs = dt.unix_micros() / 1_000_000;
                if !(1..=2_147_483_647).contains(&secs) {
                    return Err(TypeError::IncorrectTemporal {
                        ty: "datetime",
                        value: v.to_text_lossy(),
                        column: at.column.to_string(),
                        row: at.row,
                    });
                }
            }
            Ok(Value::DateTime(round_fsp(dt, fsp)))
        }
        // MySQL 8 in strict mode reports both an invalid and an out-of-range
        // TIME as ER_TRUNCATED_WRONG_VALUE (1292), not 1264.
        SqlType::Time(fsp) => match to_time(v) {
            Ok(t) => Ok(Value::Time(t.round(fsp))),
            Err(_) => Err(TypeError::IncorrectTemporal {
                ty: "time",
                value: v.to_text_lossy(),
                column: at.column.to_string(),
                row: at.row,
            }),
        },
        SqlType::Bit(n) => assign_bit(v, n, at),
    }
}

/// The seconds since the epoch a TIMESTAMP holds: `1970-01-01 00:00:01`
/// .. `2038-01-19 03:14:07` UTC.
fn timestamp_in_range(utc: DateTime) -> bool {
    (1..=2_147_483_647).contains(&utc.unix_micros().div_euclid(1_000_000))
}

/// Converts `v`, a value in session time (zone `tz`), for storing into a
/// TIMESTAMP(`fsp`) column in strict mode: read as a DATETIME, rounded to
/// `fsp` digits, then turned into the UTC instant the column stores. A
/// local time in a daylight-saving gap, or one whose instant is outside
/// TIMESTAMP's range, is error 1292 naming the value as given (MySQL 8 in
/// strict mode). [`cast_timestamp`] is the lenient form.
pub fn assign_timestamp(v: &Value, fsp: u8, tz: &TimeZone, at: &Target<'_>) -> Result<Value, TypeError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let incorrect = || TypeError::IncorrectTemporal {
        ty: "datetime",
        value: v.to_text_lossy(),
        column: at.column.to_string(),
        row: at.row,
    };
    let local = round_fsp(to_datetime(v).ok_or_else(incorrect)?, fsp);
    match tz.to_utc(local) {
        Some((utc, LocalKind::Exact | LocalKind::Fold)) if timestamp_in_range(utc) => Ok(Value::DateTime(utc)),
        _ => Err(incorrect()),
    }
}

/// The lenient form of [`assign_timestamp`] (what a non-strict store
/// keeps): the UTC instant of `v` in `tz`, a gap's time moved to the gap's
/// end (with `true`: warning 1299 is due); `None` when `v` is not a
/// date-time or its instant is outside TIMESTAMP's range.
pub fn cast_timestamp(v: &Value, fsp: u8, tz: &TimeZone) -> Option<(DateTime, bool)> {
    let local = round_fsp(to_datetime(v)?, fsp);
    let (utc, kind) = tz.to_utc(local)?;
    timestamp_in_range(utc).then_some((utc, kind == LocalKind::Gap))
}

/// Why a value is not a YEAR.
#[derive(Debug, PartialEq)]
enum YearError {
    /// A number outside 1901..=2155 (and not 0 or a two-digit year).
    Range,
    /// Text that is not a number.
    NotANumber,
}

/// MySQL's YEAR conversion: 1901..=2155 as they are; numbers 1..=69 and
/// 70..=99 are 2001..=2069 and 1970..=1999, 0 is the zero year; strings of
/// one or two digits are two-digit years ('0' and '00' are 2000); dates
/// give their year.
fn year_of(v: &Value) -> Result<i64, YearError> {
    let two_digit = |n: i128| match n {
        0..=69 => 2000 + n as i64,
        _ => 1900 + n as i64,
    };
    let number = |n: i128| match n {
        0 => Ok(0),
        1..=99 => Ok(two_digit(n)),
        1901..=2155 => Ok(n as i64),
        _ => Err(YearError::Range),
    };
    match v {
        Value::Int(i) => number(*i as i128),
        Value::UInt(u) => number(*u as i128),
        Value::Decimal(d) => number(d.round_i128()),
        Value::Double(f) => float_to_i128(*f).map_or(Err(YearError::Range), number),
        Value::Float(f) => float_to_i128(*f as f64).map_or(Err(YearError::Range), number),
        Value::Text(_) | Value::Bytes(_) => {
            let t = match v {
                Value::Text(s) => s.trim().to_string(),
                Value::Bytes(b) => std::str::from_utf8(b).map_err(|_| YearError::NotANumber)?.trim().to_string(),
                _ => String::new(),
            };
            let n = text_to_i128(&t).ok_or(YearError::NotANumber)?;
            let digits = t.trim_start_matches(['+', '-']).len();
            if digits <= 2 && (0..=99).contains(&n) {
                Ok(two_digit(n))
            } else {
                number(n)
            }
        }
        Value::Date(d) => number(d.ymd().0 as i128),
        Value::DateTime(d) => number(d.date().ymd().0 as i128),
        Value::Json(_) => v.to_i64_lossy().map_or(Err(YearError::NotANumber), |n| number(n as i128)),
        Value::Time(_) => number(v.to_i64_lossy().unwrap_or(0) as i128),
        Value::Null => Err(YearError::NotANumber),
    }
}

fn float_to_i128(f: f64) -> Option<i128> {
    if !f.is_finite() || f.abs() >= 1.8446744073709552e19 * 2.0 {
        return None;
    }
    Some(f.round() as i128)
}

/// Text into an integer column: a number (fraction rounded), nothing else.
fn text_to_i128(s: &str) -> Option<i128> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i128>() {
        return Some(i);
    }
    let (d, clean) = parse_decimal_prefix(t);
    if clean {
        return Some(d.round_i128());
    }
    None
}

/// Checks that bytes are UTF-8 and makes them text, or reports them the
/// way MySQL does (error 1366 with the bad bytes in hex).
pub fn text_from_bytes(b: &[u8]) -> Result<Value, TypeError> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(Value::Text(Arc::from(s))),
        Err(e) => Err(TypeError::InvalidUtf8 { hex: hex_prefix(&b[e.valid_up_to()..]) }),
    }
}

/// A date value from text, for literals such as `DATE '2024-01-01'`.
pub fn parse_date_literal(s: &str) -> Result<Value, TypeError> {
    Date::parse(s).map(Value::Date).ok_or_else(|| TypeError::BadLiteral { ty: "DATE", value: s.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_owned_agrees_with_assign() {
        let at = Target { column: "c", row: 1 };
        let values = [
            Value::Int(5),
            Value::Int(300),
            Value::Int(-129),
            Value::Int(i64::MIN),
            Value::UInt(7),
            Value::text("abc"),
            Value::text("12"),
            Value::text(&"x".repeat(300)),
            Value::Double(2.5),
            Value::Null,
        ];
        let types = [
            SqlType::Int { width: IntWidth::Tiny, unsigned: false },
            SqlType::Int { width: IntWidth::Big, unsigned: false },
            SqlType::Int { width: IntWidth::Int, unsigned: true },
            SqlType::Text(255),
            SqlType::Text(u32::MAX),
            SqlType::Varchar(2),
            SqlType::Double,
        ];
        for v in &values {
            for ty in types {
                let want = assign(v, ty, &at).map_err(|e| e.to_string());
                let got = assign_owned(v.clone(), ty, &at).map_err(|e| e.to_string());
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "{v:?} into {ty:?}");
            }
        }
    }

    fn at() -> Target<'static> {
        Target { column: "c", row: 1 }
    }

    #[test]
    fn enum_and_set_assignment_follows_mysql() {
        use crate::{Collation, Members};
        let e = SqlType::Enum(Members::intern(&["x", "b", "a"][..], Collation::LEGACY));
        let s = SqlType::Set(Members::intern(&["p", "q", "r"][..], Collation::LEGACY));
        let ok = |v: Value, ty| assign(&v, ty, &at()).expect("member");
        assert_eq!(ok(Value::text("a"), e), Value::text("a"));
        assert_eq!(ok(Value::Int(2), e), Value::text("b"));
        assert_eq!(ok(Value::text("b  "), e), Value::text("b"));
        for bad in [Value::text("z"), Value::text(""), Value::Int(0), Value::Int(4), Value::Int(-1)] {
            let err = assign(&bad, e, &at()).expect_err("not a member");
            assert_eq!(crate::SqlError::code(&err), crate::ErrorCode::DataTruncated, "{bad:?}");
        }
        assert_eq!(ok(Value::text("r,p,p"), s), Value::text("p,r"));
        assert_eq!(ok(Value::Int(6), s), Value::text("q,r"));
        assert_eq!(ok(Value::text(""), s), Value::text(""));
        for bad in [Value::text("x"), Value::text("p,"), Value::Int(8), Value::text("q ,p")] {
            assert!(assign(&bad, s, &at()).is_err(), "{bad:?}");
        }
        // Under a case-insensitive collation the member's own spelling is stored.
        let ci = SqlType::Enum(Members::intern(&["a", "b"][..], Collation::Utf8mb4GeneralCi));
        assert_eq!(ok(Value::text("B"), ci), Value::text("b"));
    }

    #[test]
    fn cast_is_lenient() {
        assert_eq!(cast(&Value::text("12abc"), SqlType::BIGINT).value.to_text_lossy(), "12");
        assert!(cast(&Value::text("12abc"), SqlType::BIGINT).lossy);
        assert_eq!(cast(&Value::Int(-1), SqlType::UBIGINT).value.to_text_lossy(), "18446744073709551615");
        assert_eq!(cast(&Value::Double(1.5), SqlType::BIGINT).value.to_text_lossy(), "2");
        let dec = SqlType::Decimal { precision: 4, scale: 1 };
        assert_eq!(cast(&Value::Int(123456), dec).value.to_text_lossy(), "999.9");
        assert_eq!(cast(&Value::text("1.25"), dec).value.to_text_lossy(), "1.3");
    }

    #[test]
    fn assign_is_strict() {
        let tiny = SqlType::Int { width: IntWidth::Tiny, unsigned: false };
        assert!(matches!(assign(&Value::Int(300), tiny, &at()), Err(TypeError::OutOfRangeForColumn { .. })));
        assert!(matches!(assign(&Value::text("abc"), SqlType::INT, &at()), Err(TypeError::IncorrectValue { .. })));
        assert_eq!(assign(&Value::text(" 42 "), SqlType::INT, &at()).map(|v| v.to_text_lossy()), Ok("42".into()));
        assert!(matches!(
            assign(&Value::text("hello"), SqlType::Varchar(3), &at()),
            Err(TypeError::DataTooLong { .. })
        ));
        assert!(matches!(
            assign(&Value::bytes(&[0xff, 0xfe]), SqlType::Varchar(10), &at()),
            Err(TypeError::IncorrectValue { .. })
        ));
        assert_eq!(
            assign(&Value::text("2024-01-02"), SqlType::Date, &at()).map(|v| v.to_text_lossy()),
            Ok("2024-01-02".into())
        );
    }

    #[test]
    fn times_cast_and_assign_like_mysql() {
        let t = |v: Value, f: u8| cast(&v, SqlType::Time(f)).value.to_text_lossy();
        assert_eq!(t(Value::decimal(Decimal::parse("123456.5").expect("lit")), 1), "12:34:56.500000");
        assert_eq!(t(Value::Int(-100), 0), "-00:01:00");
        assert_eq!(t(Value::text("900:00:00"), 0), "838:59:59");
        assert!(matches!(
            assign(&Value::text("900:00:00"), SqlType::Time(0), &at()),
            Err(TypeError::IncorrectTemporal { .. })
        ));
        assert!(matches!(
            assign(&Value::text("10:61:00"), SqlType::Time(0), &at()),
            Err(TypeError::IncorrectTemporal { .. })
        ));
        assert_eq!(
            assign(&Value::text("10:20:30.45"), SqlType::Time(1), &at()).map(|v| v.to_text_lossy()),
            Ok("10:20:30.500000".into())
        );
    }

    #[test]
    fn bits_store_big_endian_and_check_width() {
        assert_eq!(assign(&Value::text("a"), SqlType::Bit(8), &at()), Ok(Value::UInt(0x61)));
        assert_eq!(assign(&Value::Int(5), SqlType::Bit(3), &at()), Ok(Value::UInt(5)));
        assert!(matches!(assign(&Value::Int(8), SqlType::Bit(3), &at()), Err(TypeError::DataTooLong { .. })));
        assert!(matches!(assign(&Value::Int(-1), SqlType::Bit(64), &at()), Err(TypeError::DataTooLong { .. })));
        assert_eq!(assign(&Value::UInt(u64::MAX), SqlType::Bit(64), &at()), Ok(Value::UInt(u64::MAX)));
    }

    #[test]
    fn invalid_utf8_is_reported_in_hex() {
        assert!(matches!(
            text_from_bytes(b"ab\xC3"),
            Err(TypeError::InvalidUtf8 { hex }) if hex == "C3"
        ));
    }
}
