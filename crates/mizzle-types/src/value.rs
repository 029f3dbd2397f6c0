//! Runtime values and their MySQL conversions and comparisons.
//!
//! Invariants:
//! 1. Text is always valid UTF-8 (`Arc<str>`); bytes from outside are
//!    validated before they become [`Value::Text`].
//! 2. Clones are cheap: text and bytes are reference-counted, everything
//!    else is `Copy`-sized.
//! 3. [`Value::sql_cmp`] implements MySQL comparison rules (numbers
//!    exactly where both sides are exact, strings by code point, mixed
//!    string/number as doubles); it returns `None` when either side is NULL.
//!
//! This module does not do arithmetic (see `ops`) or storage encoding
//! (see `key` and `row`).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::datetime::{Date, DateTime, Time};
use crate::decimal::Decimal;
use crate::sqltype::ValueKind;

/// One SQL value. `PartialEq` is structural (same kind, same value), used
/// to compare plans; SQL comparison is [`Value::sql_cmp`].
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// SQL NULL.
    #[default]
    Null,
    /// Signed integers and booleans.
    Int(i64),
    /// Unsigned integers.
    UInt(u64),
    /// FLOAT (single precision).
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL.
    Decimal(Box<Decimal>),
    /// Character strings (UTF-8).
    Text(Arc<str>),
    /// Binary strings.
    Bytes(Arc<[u8]>),
    /// DATE.
    Date(Date),
    /// DATETIME and TIMESTAMP.
    DateTime(DateTime),
    /// JSON: a binary document (see `json::binary`).
    Json(Arc<[u8]>),
    /// TIME.
    Time(Time),
}

impl Value {
    /// A text value.
    pub fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }

    /// A DECIMAL value (boxed: it is 40 bytes, and `Value` stays 24).
    pub fn decimal(d: Decimal) -> Value {
        Value::Decimal(Box::new(d))
    }

    /// A byte-string value.
    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(Arc::from(b))
    }

    /// The boolean `b` as MySQL represents it (1 or 0).
    pub fn bool(b: bool) -> Value {
        Value::Int(b as i64)
    }

    /// True for NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The runtime kind.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Null => ValueKind::Null,
            Value::Int(_) => ValueKind::Int,
            Value::UInt(_) => ValueKind::UInt,
            Value::Float(_) => ValueKind::Float,
            Value::Double(_) => ValueKind::Double,
            Value::Decimal(_) => ValueKind::Decimal,
            Value::Text(_) => ValueKind::Text,
            Value::Bytes(_) => ValueKind::Bytes,
            Value::Date(_) => ValueKind::Date,
            Value::DateTime(_) => ValueKind::DateTime,
            Value::Json(_) => ValueKind::Json,
            Value::Time(_) => ValueKind::Time,
        }
    }

    /// True for the numeric kinds.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Double(_) | Value::Decimal(_))
    }

    /// The text form MySQL sends in a text-protocol result row.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        match self {
            Value::Null => out.extend_from_slice(b"NULL"),
            Value::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Value::UInt(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Float(v) => out.extend_from_slice(format_float(*v).as_bytes()),
            Value::Double(v) => out.extend_from_slice(format_double(*v).as_bytes()),
            Value::Decimal(d) => {
                let _ = write!(out, "{d}");
            }
            Value::Text(s) => out.extend_from_slice(s.as_bytes()),
            Value::Bytes(b) => out.extend_from_slice(b),
            Value::Date(d) => {
                let _ = write!(out, "{d}");
            }
            Value::DateTime(d) => {
                let _ = write!(out, "{d}");
            }
            Value::Json(_) => out.extend_from_slice(self.json_text().as_bytes()),
            Value::Time(t) => {
                let _ = write!(out, "{t}");
            }
        }
    }

    /// The text form MySQL shows for a value of a column of type `ty`:
    /// DATETIME(n)/TIMESTAMP(n) values with exactly `n` fractional digits
    /// (a type without digits keeps [`Value::write_text`]'s form), the zero
    /// YEAR as `0000`; everything else as [`Value::write_text`].
    pub fn write_text_as(&self, ty: crate::SqlType, out: &mut Vec<u8>) {
        match (self, ty) {
            (Value::DateTime(d), crate::SqlType::DateTime(f) | crate::SqlType::Timestamp(f)) if f > 0 => {
                out.extend_from_slice(d.format(f).as_bytes())
            }
            (Value::Int(0), crate::SqlType::Year) => out.extend_from_slice(b"0000"),
            (Value::Time(t), crate::SqlType::Time(f)) => out.extend_from_slice(t.format(f).as_bytes()),
            (Value::UInt(u), crate::SqlType::Bit(n)) => out.extend_from_slice(&bit_bytes(*u, n)),
            _ => self.write_text(out),
        }
    }

    /// The text form as a string (bytes are shown lossily).
    pub fn to_text_lossy(&self) -> String {
        match self {
            Value::Text(s) => s.to_string(),
            other => {
                let mut v = Vec::new();
                other.write_text(&mut v);
                String::from_utf8_lossy(&v).into_owned()
            }
        }
    }

    /// The value as a double, MySQL style: strings by their numeric prefix,
    /// dates as `YYYYMMDD[hhmmss]`. NULL gives `None`.
    pub fn to_f64(&self) -> Option<f64> {
        Some(match self {
            Value::Null => return None,
            Value::Int(v) => *v as f64,
            Value::UInt(v) => *v as f64,
            Value::Float(v) => *v as f64,
            Value::Double(v) => *v,
            Value::Decimal(d) => d.to_f64(),
            Value::Text(s) => parse_f64_prefix(s).0,
            Value::Bytes(b) => parse_f64_prefix(&String::from_utf8_lossy(b)).0,
            Value::Date(d) => date_number(*d) as f64,
            Value::DateTime(d) => datetime_number(*d),
            Value::Json(_) => json_scalar(self).to_f64()?,
            Value::Time(t) => {
                let (n, us) = t.to_hhmmss();
                n as f64 + us as f64 / 1e6
            }
        })
    }

    /// The value as an exact decimal, MySQL style. NULL gives `None`; values
    /// that do not fit give `Some(None)`.
    pub fn to_decimal(&self) -> Option<Option<Decimal>> {
        Some(match self {
            Value::Null => return None,
            Value::Int(v) => Some(Decimal::from_i64(*v)),
            Value::UInt(v) => Some(Decimal::from_u64(*v)),
            Value::Float(v) => Decimal::from_f64(format_float(*v).parse::<f64>().unwrap_or(0.0)),
            Value::Double(v) => Decimal::from_f64(*v),
            Value::Decimal(d) => Some(**d),
            Value::Text(s) => Some(parse_decimal_prefix(s).0),
            Value::Bytes(b) => Some(parse_decimal_prefix(&String::from_utf8_lossy(b)).0),
            Value::Date(d) => Some(Decimal::from_i64(date_number(*d))),
            Value::DateTime(d) => Decimal::from_f64(datetime_number(*d)),
            Value::Json(_) => return json_scalar(self).to_decimal(),
            Value::Time(t) => {
                let (n, us) = t.to_hhmmss();
                if us == 0 {
                    Some(Decimal::from_i64(n))
                } else {
                    Decimal::new(i128::from(n) * 1_000_000 + i128::from(us), 6)
                }
            }
        })
    }

    /// The value as a signed integer for integer contexts (`CAST AS SIGNED`,
    /// `DIV`, `LIMIT` ...): decimals and doubles round half away from zero,
    /// strings use their integer prefix, out-of-range values saturate.
    pub fn to_i64_lossy(&self) -> Option<i64> {
        Some(match self {
            Value::Null => return None,
            Value::Int(v) => *v,
            Value::UInt(v) => *v as i64,
            Value::Float(v) => round_f64_to_i64(*v as f64),
            Value::Double(v) => round_f64_to_i64(*v),
            Value::Decimal(d) => {
                let r = d.round_i128();
                r.clamp(i64::MIN as i128, i64::MAX as i128) as i64
            }
            Value::Text(s) => parse_i64_prefix(s).0,
            Value::Bytes(b) => parse_i64_prefix(&String::from_utf8_lossy(b)).0,
            Value::Date(d) => date_number(*d),
            Value::DateTime(d) => datetime_number(*d) as i64,
            Value::Json(_) => json_scalar(self).to_i64_lossy()?,
            Value::Time(t) => {
                // Rounded to whole seconds, half away from zero, as MySQL does.
                let (n, _) = t.round(0).to_hhmmss();
                n
            }
        })
    }

    /// Truth value: non-zero numbers are true; NULL is unknown (`None`).
    pub fn truth(&self) -> Option<bool> {
        match self {
            Value::Null => None,
            Value::Int(v) => Some(*v != 0),
            Value::UInt(v) => Some(*v != 0),
            Value::Float(v) => Some(*v != 0.0),
            Value::Double(v) => Some(*v != 0.0),
            Value::Decimal(d) => Some(!d.is_zero()),
            Value::Date(_) | Value::DateTime(_) => Some(true),
            Value::Text(_) | Value::Bytes(_) | Value::Json(_) => self.to_f64().map(|f| f != 0.0),
            Value::Time(t) => Some(t.micros() != 0),
        }
    }

    /// MySQL comparison; `None` when either side is NULL.
    pub fn sql_cmp(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        Some(match (self, other) {
            (Null, _) | (_, Null) => return None,
            (Json(_), _) | (_, Json(_)) => {
                let a = self.to_json()?;
                let b = other.to_json()?;
                crate::json::compare(&a, &b)
            }
            (Int(a), Int(b)) => a.cmp(b),
            (UInt(a), UInt(b)) => a.cmp(b),
            (Int(a), UInt(b)) => (*a as i128).cmp(&(*b as i128)),
            (UInt(a), Int(b)) => (*a as i128).cmp(&(*b as i128)),
            (Decimal(a), Decimal(b)) => a.cmp(b),
            (Decimal(a), Int(b)) => (**a).cmp(&crate::Decimal::from_i64(*b)),
            (Decimal(a), UInt(b)) => (**a).cmp(&crate::Decimal::from_u64(*b)),
            (Int(a), Decimal(b)) => crate::Decimal::from_i64(*a).cmp(b),
            (UInt(a), Decimal(b)) => crate::Decimal::from_u64(*a).cmp(b),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Bytes(a), Bytes(b)) => a.as_ref().cmp(b.as_ref()),
            (Text(a), Bytes(b)) => a.as_bytes().cmp(b.as_ref()),
            (Bytes(a), Text(b)) => a.as_ref().cmp(b.as_bytes()),
            (Date(a), Date(b)) => a.cmp(b),
            (DateTime(a), DateTime(b)) => a.cmp(b),
            (Date(a), DateTime(b)) => a.at_midnight().cmp(b),
            (DateTime(a), Date(b)) => a.cmp(&b.at_midnight()),
            (Date(_) | DateTime(_), Text(s)) => return temporal_vs_text(self, s),
            (Text(s), Date(_) | DateTime(_)) => return temporal_vs_text(other, s).map(Ordering::reverse),
            (Time(a), Time(b)) => a.cmp(b),
            (Time(a), Text(s)) => return time_vs_text(*a, s),
            (Text(s), Time(b)) => return time_vs_text(*b, s).map(Ordering::reverse),
            _ => {
                let a = self.to_f64()?;
                let b = other.to_f64()?;
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        })
    }

    /// MySQL equality (`=`): `None` when either side is NULL.
    pub fn sql_eq(&self, other: &Value) -> Option<bool> {
        self.sql_cmp(other).map(|o| o == Ordering::Equal)
    }

    /// A total order for sorting: NULL first, then by [`Value::sql_cmp`].
    pub fn sort_cmp(&self, other: &Value) -> Ordering {
        match (self.is_null(), other.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => self.sql_cmp(other).unwrap_or(Ordering::Equal),
        }
    }

    /// Equality for grouping and `DISTINCT`: NULLs group together.
    pub fn group_eq(&self, other: &Value) -> bool {
        match (self.is_null(), other.is_null()) {
            (true, true) => true,
            (false, false) => self.sql_cmp(other) == Some(Ordering::Equal),
            _ => false,
        }
    }
}

impl Value {
    /// A JSON value holding `j` (encoded in the binary form).
    pub fn json(j: &crate::json::Json) -> Value {
        Value::Json(Arc::from(crate::json::binary::encode(j)))
    }

    /// The value as JSON, the way MySQL converts an SQL value for a JSON
    /// comparison or a JSON function argument that is not parsed: numbers
    /// as numbers, strings as JSON strings, dates as dates. `None` for NULL
    /// and for damaged JSON bytes.
    pub fn to_json(&self) -> Option<crate::json::Json> {
        use crate::json::Json as J;
        Some(match self {
            Value::Null => return None,
            Value::Int(i) => J::Int(*i),
            Value::UInt(u) => match i64::try_from(*u) {
                Ok(i) => J::Int(i),
                Err(_) => J::UInt(*u),
            },
            Value::Float(f) => J::Double(format_float(*f).parse::<f64>().unwrap_or(*f as f64)),
            Value::Double(d) => J::Double(*d),
            Value::Decimal(d) => J::Decimal(**d),
            Value::Text(s) => J::String(s.to_string()),
            Value::Bytes(b) => J::String(String::from_utf8_lossy(b).into_owned()),
            Value::Date(d) => J::Date(*d),
            Value::DateTime(d) => J::DateTime(*d),
            Value::Time(t) => J::Time(*t),
            Value::Json(b) => crate::json::binary::decode(b).ok()?,
        })
    }

    /// The text form of a JSON value (damaged bytes print as an empty string).
    fn json_text(&self) -> String {
        self.to_json().map(|j| j.to_text()).unwrap_or_default()
    }
}

/// A JSON value as the SQL scalar numeric contexts read: numbers as
/// themselves, booleans as 1/0, strings by their text, others as 0.
fn json_scalar(v: &Value) -> Value {
    use crate::json::Json as J;
    match v.to_json() {
        None => Value::Int(0),
        Some(J::Int(i)) => Value::Int(i),
        Some(J::UInt(u)) => Value::UInt(u),
        Some(J::Double(d)) => Value::Double(d),
        Some(J::Decimal(d)) => Value::decimal(d),
        Some(J::Bool(b)) => Value::Int(b as i64),
        Some(J::String(s)) => Value::Text(Arc::from(s.as_str())),
        Some(J::Date(d)) => Value::Date(d),
        Some(J::DateTime(d)) => Value::DateTime(d),
        Some(J::Time(t)) => Value::Time(t),
        Some(_) => Value::Int(0),
    }
}

fn temporal_vs_text(t: &Value, s: &str) -> Option<Ordering> {
    if let Some(dt) = DateTime::parse(s) {
        let lhs = match t {
            Value::Date(d) => d.at_midnight(),
            Value::DateTime(d) => *d,
            _ => return None,
        };
        return Some(lhs.cmp(&dt));
    }
    Some(t.to_text_lossy().as_bytes().cmp(s.as_bytes()))
}

fn time_vs_text(t: Time, s: &str) -> Option<Ordering> {
    match Time::parse(s) {
        Ok(u) | Err(crate::datetime::TimeError::OutOfRange(u)) => Some(t.cmp(&u)),
        Err(_) => Some(t.to_string().as_bytes().cmp(s.as_bytes())),
    }
}

/// The big-endian bytes MySQL shows and sends for a BIT(n) value.
pub fn bit_bytes(v: u64, n: u8) -> Vec<u8> {
    let len = crate::SqlType::bit_bytes(n).min(8);
    v.to_be_bytes()[8 - len..].to_vec()
}

fn date_number(d: Date) -> i64 {
    let (y, m, dd) = d.ymd();
    y as i64 * 10000 + m as i64 * 100 + dd as i64
}

fn datetime_number(d: DateTime) -> f64 {
    let (h, mi, s, us) = d.hms();
    date_number(d.date()) as f64 * 1e6 + (h * 10000 + mi * 100 + s) as f64 + us as f64 / 1e6
}

fn round_f64_to_i64(v: f64) -> i64 {
    if v.is_nan() {
        return 0;
    }
    let r = v.round();
    if r >= 9.223_372_036_854_776e18 {
        i64::MAX
    } else if r <= -9.223_372_036_854_776e18 {
        i64::MIN
    } else {
        r as i64
    }
}

/// Length of the longest numeric prefix `[ws][+-]digits[.digits][e[+-]digits]`.
/// Returns (start, end) byte offsets of the number within `s`; end == start
/// when there is none.
fn numeric_prefix(s: &str, allow_frac: bool) -> (usize, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t' || b[i] == b'\n' || b[i] == b'\r') {
        i += 1;
    }
    let start = i;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut nd = i - digits_start;
    if allow_frac && i < b.len() && b[i] == b'.' {
        let j = i + 1;
        let mut k = j;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if nd > 0 || k > j {
            nd += k - j;
            i = k;
        }
    }
    if nd == 0 {
        return (start, start);
    }
    if allow_frac && i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut k = i + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let es = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > es {
            i = k;
        }
    }
    (start, i)
}

/// Parses the numeric prefix of a string as a double (0 if there is none).
/// The flag says whether the whole string (but spaces) was a number.
pub fn parse_f64_prefix(s: &str) -> (f64, bool) {
    let (a, b) = numeric_prefix(s, true);
    let num = s.get(a..b).unwrap_or("");
    let v = num.parse::<f64>().unwrap_or(0.0);
    (v, b > a && s[b..].trim().is_empty())
}

/// Parses the numeric prefix of a string as a decimal (0 if there is none).
pub fn parse_decimal_prefix(s: &str) -> (Decimal, bool) {
    let (a, b) = numeric_prefix(s, true);
    let num = s.get(a..b).unwrap_or("");
    match Decimal::parse(num) {
        Some(d) => (d, b > a && s[b..].trim().is_empty()),
        None => (Decimal::ZERO, false),
    }
}

/// Parses the integer prefix of a string, MySQL `CAST(s AS SIGNED)` style:
/// saturating, fraction ignored. The flag says whether the whole string was
/// an integer.
pub fn parse_i64_prefix(s: &str) -> (i64, bool) {
    let (a, b) = numeric_prefix(s, false);
    let num = s.get(a..b).unwrap_or("");
    let v = match num.parse::<i64>() {
        Ok(v) => v,
        Err(_) if num.starts_with('-') && num.len() > 1 => i64::MIN,
        Err(_) if !num.is_empty() => i64::MAX,
        Err(_) => 0,
    };
    (v, b > a && s[b..].trim().is_empty())
}

/// Formats a double the way MySQL prints it: the shortest digits that read
/// back to the same double, in plain notation for moderate exponents and
/// `1.5e20` notation otherwise.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let sci = format!("{v:e}");
    format_from_sci(&sci, 15)
}

/// Formats a FLOAT the way MySQL prints it (shortest single-precision digits).
pub fn format_float(v: f32) -> String {
    if !v.is_finite() {
        return format_double(v as f64);
    }
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:e}");
    format_from_sci(&sci, 15)
}

fn format_from_sci(sci: &str, max_exp: i32) -> String {
    let (mant, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => return sci.to_string(),
    };
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if exp >= max_exp || exp < -5 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push_str(&exp.to_string());
        return out;
    }
    if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    }
    out
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            other => f.write_str(&other.to_text_lossy()),
        }
    }
}

/// A hashable, comparable grouping key over values: equal under
/// [`Value::group_eq`] implies equal hashes for values of one kind, with
/// signed and unsigned integers and decimals of different scales unified.
#[derive(Clone, Debug)]
pub struct GroupKey(pub Vec<Value>);

/// A copy of a borrowed key, for hash tables that look a key up borrowed
/// and store it only when it is new (`hashbrown`'s `entry_ref`).
impl From<&GroupKey> for GroupKey {
    fn from(k: &GroupKey) -> GroupKey {
        k.clone()
    }
}

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a.group_eq(b))
    }
}

impl Eq for GroupKey {}

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for v in &self.0 {
            hash_value(v, state);
        }
    }
}

/// Hashes a value consistently with [`Value::group_eq`] for values of
/// comparable kinds (integers of either sign and integral decimals hash alike).
pub fn hash_value<H: Hasher>(v: &Value, state: &mut H) {
    match v {
        Value::Null => 0u8.hash(state),
        Value::Int(i) => {
            1u8.hash(state);
            (*i as i128).hash(state);
        }
        Value::UInt(u) => {
            1u8.hash(state);
            (*u as i128).hash(state);
        }
        Value::Decimal(d) => {
            let n = d.normalize();
            match n.mantissa_i128() {
                // An integral decimal hashes as the integer it equals.
                Some(m) if n.scale() == 0 => {
                    1u8.hash(state);
                    m.hash(state);
                }
                _ => {
                    2u8.hash(state);
                    n.hash(state);
                }
            }
        }
        Value::Float(f) => hash_f64(*f as f64, state),
        Value::Double(f) => hash_f64(*f, state),
        Value::Text(s) => {
            4u8.hash(state);
            s.as_bytes().hash(state);
        }
        Value::Bytes(b) => {
            4u8.hash(state);
            b.as_ref().hash(state);
        }
        Value::Date(d) => {
            5u8.hash(state);
            d.at_midnight().hash(state);
        }
        Value::DateTime(d) => {
            5u8.hash(state);
            d.hash(state);
        }
        Value::Json(_) => {
            6u8.hash(state);
            if let Some(j) = v.to_json() {
                crate::json::hash_json(&j, state);
            }
        }
        Value::Time(t) => {
            7u8.hash(state);
            t.hash(state);
        }
    }
}

fn hash_f64<H: Hasher>(f: f64, state: &mut H) {
    if f.fract() == 0.0 && f.abs() < 1e38 {
        1u8.hash(state);
        (f as i128).hash(state);
    } else {
        3u8.hash(state);
        f.to_bits().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_24_bytes_with_65_digit_decimals_boxed() {
        // A Decimal of 81 digits is 40 bytes; boxed, it no longer sets the
        // size of every value: the largest payload is a text's or a byte
        // string's reference (16 bytes), plus the tag.
        assert_eq!(std::mem::size_of::<Decimal>(), 40);
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn doubles_print_like_mysql() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(100.0), "100");
        assert_eq!(format_double(1e20), "1e20");
        assert_eq!(format_double(-0.25), "-0.25");
        assert_eq!(format_double(0.001), "0.001");
        assert_eq!(format_double(1.0e-7), "1e-7");
        assert_eq!(format_float(62.98), "62.98");
    }

    #[test]
    fn mixed_comparisons_follow_mysql() {
        assert_eq!(Value::Int(10).sql_cmp(&Value::text("10")), Some(Ordering::Equal));
        assert_eq!(Value::Int(-1).sql_cmp(&Value::UInt(u64::MAX)), Some(Ordering::Less));
        assert_eq!(Value::text("abc").sql_cmp(&Value::Int(0)), Some(Ordering::Equal));
        assert_eq!(Value::Null.sql_cmp(&Value::Int(0)), None);
        assert_eq!(Value::text("a").sql_cmp(&Value::text("b")), Some(Ordering::Less));
    }

    #[test]
    fn numeric_prefixes() {
        assert_eq!(parse_f64_prefix(" 12.5abc"), (12.5, false));
        assert_eq!(parse_f64_prefix("1e3"), (1000.0, true));
        assert_eq!(parse_i64_prefix("42"), (42, true));
        assert_eq!(parse_i64_prefix("x"), (0, false));
        assert_eq!(parse_i64_prefix("99999999999999999999"), (i64::MAX, true));
    }
}

macro_rules! from_int {
    ($($t:ty => $v:ident as $c:ty),*) => {
        $(impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::$v(x as $c)
            }
        })*
    };
}

from_int!(i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int as i64, isize => Int as i64,
          u8 => UInt as u64, u16 => UInt as u64, u32 => UInt as u64, u64 => UInt as u64, usize => UInt as u64);

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Double(x)
    }
}

impl From<f32> for Value {
    fn from(x: f32) -> Value {
        Value::Float(x)
    }
}

impl From<bool> for Value {
    fn from(x: bool) -> Value {
        Value::Int(x as i64)
    }
}

impl From<&str> for Value {
    fn from(x: &str) -> Value {
        Value::text(x)
    }
}

impl From<String> for Value {
    fn from(x: String) -> Value {
        Value::Text(Arc::from(x.as_str()))
    }
}

impl From<&String> for Value {
    fn from(x: &String) -> Value {
        Value::text(x)
    }
}

impl From<&[u8]> for Value {
    fn from(x: &[u8]) -> Value {
        Value::bytes(x)
    }
}

impl From<Vec<u8>> for Value {
    fn from(x: Vec<u8>) -> Value {
        Value::Bytes(Arc::from(x))
    }
}

impl From<Decimal> for Value {
    fn from(x: Decimal) -> Value {
        Value::decimal(x)
    }
}

impl From<Date> for Value {
    fn from(x: Date) -> Value {
        Value::Date(x)
    }
}

impl From<DateTime> for Value {
    fn from(x: DateTime) -> Value {
        Value::DateTime(x)
    }
}

impl From<Time> for Value {
    fn from(x: Time) -> Value {
        Value::Time(x)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(x: Option<T>) -> Value {
        match x {
            Some(v) => v.into(),
            None => Value::Null,
        }
    }
}
