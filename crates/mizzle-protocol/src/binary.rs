//! Values in the binary protocol (prepared statement parameters, binary
//! result rows, query attributes), and their mapping to and from
//! `mizzle_types::Value`.
//!
//! Wire forms by column type:
//!
//! | type                                   | form                                   |
//! |----------------------------------------|----------------------------------------|
//! | TINY / SHORT, YEAR / LONG, INT24 / LONGLONG | 1 / 2 / 4 / 8 bytes, LE, sign by the unsigned flag |
//! | FLOAT / DOUBLE                         | 4 / 8 bytes IEEE 754, LE               |
//! | DECIMAL, NEWDECIMAL                    | length-encoded text                    |
//! | strings, BLOBs, ENUM, SET, JSON, BIT, GEOMETRY | length-encoded bytes           |
//! | DATE, DATETIME, TIMESTAMP              | length 0, 4, 7 or 11, then y(2) m d h i s µs(4) |
//! | TIME                                   | length 0, 8 or 12, then neg days(4) h i s µs(4) |
//!
//! A TIME is `Value::Time` both ways; one beyond ±838:59:59 (the wire can
//! carry more days) becomes text. A BIT(n) value (`Value::UInt`) is sent
//! as its `ceil(n/8)` big-endian bytes, `n` from the column length.
//!
//! Lossy mappings to [`Value`] (documented on [`BinaryValue::to_value`]):
//! zero or otherwise invalid dates (`0000-00-00`) become text; DECIMAL text
//! beyond 81 significant digits (the most any decimal value holds) stays
//! text; strings that are not UTF-8 become bytes.
//!
//! Invariants:
//! 1. Decoding checks every length against the packet before reading and
//!    accepts only the lengths above for temporal values.
//! 2. Decoded values borrow from the payload ([`BinaryValue`] has a
//!    lifetime); nothing is allocated from a length read off the wire.
//! 3. Encoding a [`Value`] into a column whose type cannot hold it is an
//!    error ([`ProtocolError::ValueDoesNotFitColumn`]), never a silent
//!    truncation: integers are range-checked for the column's width.
//!
//! This module does not decide column types; the server does, from its
//! result metadata (`column::ColumnDefinition::for_sql_type`).

use std::borrow::Cow;
use std::fmt;

use mizzle_types::{Date, DateTime, Decimal, Value};

use crate::column::{ColumnDefinition, ColumnType};
use crate::error::ProtocolError;
use crate::wire::{self, put_lenenc_bytes, put_u16, put_u32, Reader};

/// A calendar value as the protocol carries it; zero parts are allowed
/// (`0000-00-00 00:00:00`), so this is wider than `mizzle_types::DateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTimeParts {
    /// Year (0..=9999 for valid dates).
    pub year: u16,
    /// Month (0..=12).
    pub month: u8,
    /// Day (0..=31).
    pub day: u8,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Microseconds.
    pub micros: u32,
}

impl DateTimeParts {
    /// The parts of a mizzle date (time zero).
    pub fn from_date(d: Date) -> DateTimeParts {
        let (y, m, day) = d.ymd();
        DateTimeParts {
            year: u16::try_from(y).unwrap_or(0),
            month: u8::try_from(m).unwrap_or(0),
            day: u8::try_from(day).unwrap_or(0),
            ..DateTimeParts::default()
        }
    }

    /// The parts of a mizzle date-time.
    pub fn from_datetime(dt: DateTime) -> DateTimeParts {
        let (h, mi, s, us) = dt.hms();
        DateTimeParts {
            hour: u8::try_from(h).unwrap_or(0),
            minute: u8::try_from(mi).unwrap_or(0),
            second: u8::try_from(s).unwrap_or(0),
            micros: us,
            ..DateTimeParts::from_date(dt.date())
        }
    }

    /// The mizzle date, if the parts form a valid one.
    pub fn to_date(self) -> Option<Date> {
        Date::from_ymd(i32::from(self.year), u32::from(self.month), u32::from(self.day))
    }

    /// The mizzle date-time, if the parts form a valid one.
    pub fn to_datetime(self) -> Option<DateTime> {
        if self.hour > 23 || self.minute > 59 || self.second > 59 || self.micros > 999_999 {
            return None;
        }
        let micros = ((i64::from(self.hour) * 60 + i64::from(self.minute)) * 60 + i64::from(self.second)) * 1_000_000
            + i64::from(self.micros);
        Some(DateTime::from_parts(self.to_date()?, micros))
    }

    fn has_time(&self) -> bool {
        self.hour != 0 || self.minute != 0 || self.second != 0 || self.micros != 0
    }

    fn write_date_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for DateTimeParts {
    /// `YYYY-MM-DD hh:mm:ss[.ffffff]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_date_text(f)?;
        write!(f, " {:02}:{:02}:{:02}", self.hour, self.minute, self.second)?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

/// A TIME value on the wire: a signed duration in days, hours, minutes,
/// seconds and microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Time {
    /// True for negative durations.
    pub negative: bool,
    /// Whole days.
    pub days: u32,
    /// Hours (0..=23).
    pub hours: u8,
    /// Minutes (0..=59).
    pub minutes: u8,
    /// Seconds (0..=59).
    pub seconds: u8,
    /// Microseconds.
    pub micros: u32,
}

impl Time {
    /// The wire form of a mizzle TIME.
    pub fn from_time(t: mizzle_types::Time) -> Time {
        let (h, m, s, us) = t.hms();
        Time {
            negative: t.is_negative(),
            days: h / 24,
            hours: (h % 24) as u8,
            minutes: m as u8,
            seconds: s as u8,
            micros: us,
        }
    }

    /// The mizzle TIME, if the fields are valid and within ±838:59:59.
    pub fn to_time(self) -> Option<mizzle_types::Time> {
        if self.hours > 23 || self.minutes > 59 || self.seconds > 59 || self.micros > 999_999 {
            return None;
        }
        let us = ((i64::from(self.days) * 24 + i64::from(self.hours)) * 3600
            + i64::from(self.minutes) * 60
            + i64::from(self.seconds))
            * 1_000_000
            + i64::from(self.micros);
        mizzle_types::Time::from_micros(if self.negative { -us } else { us })
    }
}

impl fmt::Display for Time {
    /// MySQL's text form: `[-]H:MM:SS[.ffffff]`, hours counting the days.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hours = u64::from(self.days) * 24 + u64::from(self.hours);
        let sign = if self.negative { "-" } else { "" };
        write!(f, "{sign}{hours:02}:{:02}:{:02}", self.minutes, self.seconds)?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

/// One value in binary protocol form, lossless for everything the wire
/// can carry.
#[derive(Debug, Clone, PartialEq)]
pub enum BinaryValue<'a> {
    /// NULL (from the NULL bitmap or type MYSQL_TYPE_NULL).
    Null,
    /// A signed integer of any width.
    Int(i64),
    /// An unsigned integer of any width.
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL/NEWDECIMAL text.
    Decimal(Cow<'a, str>),
    /// A character string type (VARCHAR, VAR_STRING, STRING, ENUM, SET,
    /// JSON); the bytes are in the connection's character set.
    String(Cow<'a, [u8]>),
    /// A binary type (BLOBs, BIT, GEOMETRY, VECTOR).
    Blob(Cow<'a, [u8]>),
    /// DATE.
    Date(DateTimeParts),
    /// DATETIME or TIMESTAMP.
    DateTime(DateTimeParts),
    /// TIME.
    Time(Time),
}

fn read_datetime(r: &mut Reader<'_>, field: &'static str) -> Result<DateTimeParts, ProtocolError> {
    let len = r.u8(field)?;
    let mut p = DateTimeParts::default();
    if !matches!(len, 0 | 4 | 7 | 11) {
        return Err(ProtocolError::InvalidField { field, value: u64::from(len) });
    }
    if len >= 4 {
        p.year = r.u16(field)?;
        p.month = r.u8(field)?;
        p.day = r.u8(field)?;
    }
    if len >= 7 {
        p.hour = r.u8(field)?;
        p.minute = r.u8(field)?;
        p.second = r.u8(field)?;
    }
    if len == 11 {
        p.micros = r.u32(field)?;
    }
    Ok(p)
}

fn read_time(r: &mut Reader<'_>, field: &'static str) -> Result<Time, ProtocolError> {
    let len = r.u8(field)?;
    let mut t = Time::default();
    if !matches!(len, 0 | 8 | 12) {
        return Err(ProtocolError::InvalidField { field, value: u64::from(len) });
    }
    if len >= 8 {
        t.negative = match r.u8(field)? {
            0 => false,
            1 => true,
            other => return Err(ProtocolError::InvalidField { field, value: u64::from(other) }),
        };
        t.days = r.u32(field)?;
        t.hours = r.u8(field)?;
        t.minutes = r.u8(field)?;
        t.seconds = r.u8(field)?;
    }
    if len == 12 {
        t.micros = r.u32(field)?;
    }
    Ok(t)
}

fn write_datetime(out: &mut Vec<u8>, p: &DateTimeParts, date_only: bool) {
    let zero_date = p.year == 0 && p.month == 0 && p.day == 0;
    if date_only || !p.has_time() {
        if zero_date {
            out.push(0);
            return;
        }
        out.push(4);
    } else if p.micros == 0 {
        out.push(7);
    } else {
        out.push(11);
    }
    put_u16(out, p.year);
    out.extend_from_slice(&[p.month, p.day]);
    if date_only || !p.has_time() {
        return;
    }
    out.extend_from_slice(&[p.hour, p.minute, p.second]);
    if p.micros != 0 {
        put_u32(out, p.micros);
    }
}

fn write_time(out: &mut Vec<u8>, t: &Time) {
    let zero = t.days == 0 && t.hours == 0 && t.minutes == 0 && t.seconds == 0 && t.micros == 0;
    if zero {
        out.push(0);
        return;
    }
    out.push(if t.micros == 0 { 8 } else { 12 });
    out.push(u8::from(t.negative));
    put_u32(out, t.days);
    out.extend_from_slice(&[t.hours, t.minutes, t.seconds]);
    if t.micros != 0 {
        put_u32(out, t.micros);
    }
}

impl<'a> BinaryValue<'a> {
    /// Reads one non-NULL value of type `ty` (invariant 1).
    pub fn decode(r: &mut Reader<'a>, ty: ColumnType, unsigned: bool) -> Result<BinaryValue<'a>, ProtocolError> {
        use ColumnType as T;
        const F: &str = "binary value";
        Ok(match ty {
            T::Null => BinaryValue::Null,
            T::Tiny => {
                let b = r.u8(F)?;
                if unsigned {
                    BinaryValue::UInt(u64::from(b))
                } else {
                    BinaryValue::Int(i64::from(i8::from_le_bytes([b])))
                }
            }
            T::Short | T::Year => {
                let v = r.array::<2>(F)?;
                if unsigned {
                    BinaryValue::UInt(u64::from(u16::from_le_bytes(v)))
                } else {
                    BinaryValue::Int(i64::from(i16::from_le_bytes(v)))
                }
            }
            T::Long | T::Int24 => {
                let v = r.array::<4>(F)?;
                if unsigned {
                    BinaryValue::UInt(u64::from(u32::from_le_bytes(v)))
                } else {
                    BinaryValue::Int(i64::from(i32::from_le_bytes(v)))
                }
            }
            T::LongLong => {
                let v = r.array::<8>(F)?;
                if unsigned {
                    BinaryValue::UInt(u64::from_le_bytes(v))
                } else {
                    BinaryValue::Int(i64::from_le_bytes(v))
                }
            }
            T::Float => BinaryValue::Float(f32::from_le_bytes(r.array(F)?)),
            T::Double => BinaryValue::Double(f64::from_le_bytes(r.array(F)?)),
            T::Decimal | T::NewDecimal => {
                BinaryValue::Decimal(Cow::Borrowed(wire::utf8(r.lenenc_bytes("decimal value")?, "decimal value")?))
            }
            T::Varchar | T::VarString | T::String | T::Enum | T::Set | T::Json => {
                BinaryValue::String(Cow::Borrowed(r.lenenc_bytes("string value")?))
            }
            T::TinyBlob | T::MediumBlob | T::LongBlob | T::Blob | T::Geometry | T::Bit | T::Vector => {
                BinaryValue::Blob(Cow::Borrowed(r.lenenc_bytes("blob value")?))
            }
            T::Date | T::NewDate => BinaryValue::Date(read_datetime(r, "date value")?),
            T::DateTime | T::Timestamp => BinaryValue::DateTime(read_datetime(r, "datetime value")?),
            T::Time => BinaryValue::Time(read_time(r, "time value")?),
            T::Timestamp2 | T::DateTime2 | T::Time2 | T::TypedArray | T::Invalid | T::Bool => {
                return Err(ProtocolError::UnknownColumnType { code: ty as u8 })
            }
        })
    }

    /// Appends the value in the form of column type `ty`. NULL writes
    /// nothing (the NULL bitmap carries it). Integers are written at the
    /// column's width and must fit it (invariant 3).
    pub fn encode(&self, out: &mut Vec<u8>, ty: ColumnType) -> Result<(), ProtocolError> {
        use ColumnType as T;
        let mismatch = || ProtocolError::ValueDoesNotFitColumn { kind: self.kind_name(), column_type: ty.name() };
        match (self, ty) {
            (BinaryValue::Null, _) => {}
            (
                BinaryValue::Int(_) | BinaryValue::UInt(_),
                T::Tiny | T::Short | T::Year | T::Long | T::Int24 | T::LongLong,
            ) => {
                let width: usize = match ty {
                    T::Tiny => 1,
                    T::Short | T::Year => 2,
                    T::Long | T::Int24 => 4,
                    _ => 8,
                };
                let bits = width * 8;
                let bytes = match *self {
                    BinaryValue::Int(v) => {
                        let fits = width == 8 || (v >= -(1i64 << (bits - 1)) && v < (1i64 << (bits - 1)));
                        if !fits {
                            return Err(mismatch());
                        }
                        v.to_le_bytes()
                    }
                    BinaryValue::UInt(v) => {
                        if width < 8 && v >= (1u64 << bits) {
                            return Err(mismatch());
                        }
                        v.to_le_bytes()
                    }
                    _ => return Err(mismatch()),
                };
                out.extend_from_slice(&bytes[..width]);
            }
            (BinaryValue::Float(v), T::Float) => out.extend_from_slice(&v.to_le_bytes()),
            (BinaryValue::Double(v), T::Double) => out.extend_from_slice(&v.to_le_bytes()),
            (BinaryValue::Decimal(s), T::Decimal | T::NewDecimal) => put_lenenc_bytes(out, s.as_bytes()),
            (BinaryValue::Decimal(s), t) if is_bytes_type(t) => put_lenenc_bytes(out, s.as_bytes()),
            (BinaryValue::String(b) | BinaryValue::Blob(b), t) if is_bytes_type(t) => put_lenenc_bytes(out, b),
            (BinaryValue::Date(p), T::Date | T::NewDate) | (BinaryValue::DateTime(p), T::Date | T::NewDate) => {
                write_datetime(out, p, true)
            }
            (BinaryValue::Date(p) | BinaryValue::DateTime(p), T::DateTime | T::Timestamp) => {
                write_datetime(out, p, false)
            }
            (BinaryValue::Time(t), T::Time) => write_time(out, t),
            _ => return Err(mismatch()),
        }
        Ok(())
    }

    fn kind_name(&self) -> &'static str {
        match self {
            BinaryValue::Null => "NULL",
            BinaryValue::Int(_) => "signed integer",
            BinaryValue::UInt(_) => "unsigned integer",
            BinaryValue::Float(_) => "FLOAT",
            BinaryValue::Double(_) => "DOUBLE",
            BinaryValue::Decimal(_) => "DECIMAL",
            BinaryValue::String(_) => "string",
            BinaryValue::Blob(_) => "blob",
            BinaryValue::Date(_) => "DATE",
            BinaryValue::DateTime(_) => "DATETIME",
            BinaryValue::Time(_) => "TIME",
        }
    }

    /// The mizzle value. Lossy cases:
    /// - `Time` beyond ±838:59:59 or with invalid fields becomes text;
    /// - dates that are not valid calendar dates (zero dates) become text;
    /// - DECIMAL text with more than 81 digits, or that does not parse,
    ///   stays `Value::Text` (a decimal value holds at most 81 digits);
    /// - `String` bytes that are not UTF-8 become `Value::Bytes`;
    /// - `Blob` is always `Value::Bytes`.
    pub fn to_value(&self) -> Value {
        match self {
            BinaryValue::Null => Value::Null,
            BinaryValue::Int(v) => Value::Int(*v),
            BinaryValue::UInt(v) => Value::UInt(*v),
            BinaryValue::Float(v) => Value::Float(*v),
            BinaryValue::Double(v) => Value::Double(*v),
            BinaryValue::Decimal(s) => {
                let digits = s.bytes().filter(u8::is_ascii_digit).count();
                match Decimal::parse(s) {
                    Some(d) if digits <= mizzle_types::decimal::MAX_DIGITS as usize => Value::decimal(d),
                    _ => Value::text(s),
                }
            }
            BinaryValue::String(b) => match std::str::from_utf8(b) {
                Ok(s) => Value::text(s),
                Err(_) => Value::bytes(b),
            },
            BinaryValue::Blob(b) => Value::bytes(b),
            BinaryValue::Date(p) => match p.to_date() {
                Some(d) => Value::Date(d),
                None => Value::text(&date_text(p)),
            },
            BinaryValue::DateTime(p) => match p.to_datetime() {
                Some(d) => Value::DateTime(d),
                None => Value::text(&p.to_string()),
            },
            BinaryValue::Time(t) => match t.to_time() {
                Some(t) => Value::Time(t),
                None => Value::text(&t.to_string()),
            },
        }
    }

    /// The binary form of `v` for a column of type `ty` (unsigned per
    /// `unsigned`), converting as MySQL would send a value of that column:
    /// numbers to text for string and decimal columns, dates to date-times.
    pub fn from_value(v: &'a Value, ty: ColumnType, unsigned: bool) -> Result<BinaryValue<'a>, ProtocolError> {
        use ColumnType as T;
        let mismatch = || ProtocolError::ValueDoesNotFitColumn { kind: value_kind_name(v), column_type: ty.name() };
        let text = || {
            let mut s = Vec::new();
            v.write_text(&mut s);
            s
        };
        Ok(match (v, ty) {
            (Value::Null, _) => BinaryValue::Null,
            (Value::Int(i), T::Tiny | T::Short | T::Year | T::Long | T::Int24 | T::LongLong) => {
                if unsigned {
                    BinaryValue::UInt(u64::try_from(*i).map_err(|_| mismatch())?)
                } else {
                    BinaryValue::Int(*i)
                }
            }
            (Value::UInt(u), T::Tiny | T::Short | T::Year | T::Long | T::Int24 | T::LongLong) => {
                if unsigned {
                    BinaryValue::UInt(*u)
                } else {
                    BinaryValue::Int(i64::try_from(*u).map_err(|_| mismatch())?)
                }
            }
            (Value::Float(f), T::Float) => BinaryValue::Float(*f),
            (Value::Float(f), T::Double) => BinaryValue::Double(f64::from(*f)),
            (Value::Double(d), T::Double) => BinaryValue::Double(*d),
            (Value::Int(_) | Value::UInt(_) | Value::Decimal(_), T::Double) => {
                BinaryValue::Double(v.to_f64().ok_or_else(mismatch)?)
            }
            (Value::Int(_) | Value::UInt(_) | Value::Decimal(_), T::Decimal | T::NewDecimal) => {
                BinaryValue::Decimal(Cow::Owned(String::from_utf8(text()).map_err(|_| mismatch())?))
            }
            (Value::Text(s), t) if is_bytes_type(t) => BinaryValue::String(Cow::Borrowed(s.as_bytes())),
            (Value::Bytes(b), t) if is_bytes_type(t) => BinaryValue::Blob(Cow::Borrowed(b)),
            (Value::Date(d), T::Date | T::DateTime | T::Timestamp) => BinaryValue::Date(DateTimeParts::from_date(*d)),
            (Value::DateTime(d), T::DateTime | T::Timestamp) => BinaryValue::DateTime(DateTimeParts::from_datetime(*d)),
            (Value::DateTime(d), T::Date) => BinaryValue::Date(DateTimeParts::from_date(d.date())),
            (Value::Time(t), T::Time) => BinaryValue::Time(Time::from_time(*t)),
            (Value::UInt(u), T::Bit) => BinaryValue::Blob(Cow::Owned(u.to_be_bytes().to_vec())),
            (_, t) if is_bytes_type(t) => BinaryValue::String(Cow::Owned(text())),
            _ => return Err(mismatch()),
        })
    }
}

fn date_text(p: &DateTimeParts) -> String {
    struct D<'a>(&'a DateTimeParts);
    impl fmt::Display for D<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.write_date_text(f)
        }
    }
    D(p).to_string()
}

fn value_kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Int(_) => "signed integer",
        Value::UInt(_) => "unsigned integer",
        Value::Float(_) => "FLOAT",
        Value::Double(_) => "DOUBLE",
        Value::Decimal(_) => "DECIMAL",
        Value::Text(_) => "text",
        Value::Bytes(_) => "bytes",
        Value::Date(_) => "DATE",
        Value::DateTime(_) => "DATETIME",
        Value::Json(_) => "JSON",
        Value::Time(_) => "TIME",
    }
}

/// Types whose binary form is a length-encoded string.
fn is_bytes_type(t: ColumnType) -> bool {
    use ColumnType as T;
    matches!(
        t,
        T::Varchar
            | T::VarString
            | T::String
            | T::Enum
            | T::Set
            | T::Json
            | T::TinyBlob
            | T::MediumBlob
            | T::LongBlob
            | T::Blob
            | T::Geometry
            | T::Bit
            | T::Vector
            | T::Decimal
            | T::NewDecimal
    )
}

/// Bytes of a NULL bitmap for `n` values at bit offset `offset`.
pub fn null_bitmap_len(n: usize, offset: usize) -> usize {
    (n + offset).div_ceil(8)
}

/// Whether value `i` is NULL in `bitmap` with bit offset `offset`.
pub fn null_bit(bitmap: &[u8], i: usize, offset: usize) -> bool {
    let bit = i + offset;
    bitmap.get(bit / 8).is_some_and(|b| b & (1 << (bit % 8)) != 0)
}

fn set_null_bit(bitmap: &mut [u8], i: usize, offset: usize) {
    let bit = i + offset;
    if let Some(b) = bitmap.get_mut(bit / 8) {
        *b |= 1 << (bit % 8);
    }
}

/// The bit offset of the NULL bitmap in binary result rows.
pub const ROW_NULL_BITMAP_OFFSET: usize = 2;

/// Appends a binary result row: header 0x00, the NULL bitmap (offset 2),
/// then each non-NULL value in its column's form.
pub fn encode_binary_row(
    out: &mut Vec<u8>,
    columns: &[ColumnDefinition],
    values: &[Value],
) -> Result<(), ProtocolError> {
    if columns.len() != values.len() {
        return Err(ProtocolError::InvalidField { field: "binary row value count", value: values.len() as u64 });
    }
    out.push(0x00);
    let at = out.len();
    out.resize(at + null_bitmap_len(values.len(), ROW_NULL_BITMAP_OFFSET), 0);
    for (i, (c, v)) in columns.iter().zip(values).enumerate() {
        let b = match (v, c.column_type) {
            // BIT(n): exactly ceil(n/8) bytes, as MySQL sends.
            (Value::UInt(u), ColumnType::Bit) => {
                let n = u8::try_from(c.column_length.clamp(1, 64)).unwrap_or(64);
                BinaryValue::Blob(Cow::Owned(mizzle_types::value::bit_bytes(*u, n)))
            }
            _ => BinaryValue::from_value(v, c.column_type, c.is_unsigned())?,
        };
        if b == BinaryValue::Null {
            set_null_bit(&mut out[at..], i, ROW_NULL_BITMAP_OFFSET);
        } else {
            b.encode(out, c.column_type)?;
        }
    }
    Ok(())
}

/// Decodes a binary result row (the client side; tests and tools).
pub fn decode_binary_row<'a>(
    payload: &'a [u8],
    columns: &[ColumnDefinition],
) -> Result<Vec<BinaryValue<'a>>, ProtocolError> {
    let mut r = Reader::new(payload);
    let header = r.u8("binary row header")?;
    if header != 0 {
        return Err(ProtocolError::InvalidField { field: "binary row header", value: u64::from(header) });
    }
    let bitmap = r.bytes(null_bitmap_len(columns.len(), ROW_NULL_BITMAP_OFFSET), "NULL bitmap")?;
    let mut row = Vec::with_capacity(columns.len().min(payload.len()));
    for (i, c) in columns.iter().enumerate() {
        if null_bit(bitmap, i, ROW_NULL_BITMAP_OFFSET) {
            row.push(BinaryValue::Null);
        } else {
            row.push(BinaryValue::decode(&mut r, c.column_type, c.is_unsigned())?);
        }
    }
    r.finish("last binary value")?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charset::Collation;
    use crate::wire::testing::assert_every_truncation_fails;
    use mizzle_types::SqlType;

    fn round_trip(v: BinaryValue<'_>, ty: ColumnType, unsigned: bool, expect: &[u8]) {
        let mut out = Vec::new();
        v.encode(&mut out, ty).expect("encodes");
        assert_eq!(out, expect, "{v:?} as {ty:?}");
        let mut r = Reader::new(&out);
        assert_eq!(BinaryValue::decode(&mut r, ty, unsigned).expect("decodes"), v);
        assert!(r.is_empty());
        assert_every_truncation_fails(&out, |b| BinaryValue::decode(&mut Reader::new(b), ty, unsigned));
    }

    #[test]
    fn integers_at_every_width_and_sign() {
        use ColumnType as T;
        round_trip(BinaryValue::Int(-1), T::Tiny, false, &[0xFF]);
        round_trip(BinaryValue::UInt(255), T::Tiny, true, &[0xFF]);
        round_trip(BinaryValue::Int(-2), T::Short, false, &[0xFE, 0xFF]);
        round_trip(BinaryValue::UInt(2024), T::Year, true, &[0xE8, 0x07]);
        round_trip(BinaryValue::Int(i64::from(i32::MIN)), T::Long, false, &[0, 0, 0, 0x80]);
        round_trip(BinaryValue::UInt(u64::from(u32::MAX)), T::Int24, true, &[0xFF; 4]);
        round_trip(BinaryValue::Int(i64::MIN), T::LongLong, false, &[0, 0, 0, 0, 0, 0, 0, 0x80]);
        round_trip(BinaryValue::UInt(u64::MAX), T::LongLong, true, &[0xFF; 8]);
        let mut out = Vec::new();
        assert!(BinaryValue::Int(128).encode(&mut out, T::Tiny).is_err());
        assert!(BinaryValue::Int(-129).encode(&mut out, T::Tiny).is_err());
        assert!(BinaryValue::UInt(256).encode(&mut out, T::Tiny).is_err());
        assert!(BinaryValue::UInt(1 << 32).encode(&mut out, T::Long).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn floats_decimals_and_strings() {
        use ColumnType as T;
        round_trip(BinaryValue::Float(1.5), T::Float, false, &1.5f32.to_le_bytes());
        round_trip(BinaryValue::Double(-0.25), T::Double, false, &(-0.25f64).to_le_bytes());
        round_trip(BinaryValue::Decimal("-12.50".into()), T::NewDecimal, false, b"\x06-12.50");
        round_trip(BinaryValue::String(Cow::Borrowed(b"foo")), T::VarString, false, b"\x03foo");
        round_trip(BinaryValue::Blob(Cow::Borrowed(&[0, 1, 2])), T::Blob, false, &[3, 0, 1, 2]);
        round_trip(BinaryValue::String(Cow::Borrowed(b"")), T::String, false, &[0]);
    }

    #[test]
    fn time_values_map_to_mizzle_times_both_ways() {
        let t = mizzle_types::Time::parse("-26:03:04.5").expect("valid");
        let v = Value::Time(t);
        let b = BinaryValue::from_value(&v, ColumnType::Time, false).expect("fits");
        let mut out = Vec::new();
        b.encode(&mut out, ColumnType::Time).expect("encodes");
        assert_eq!(out, [12, 1, 1, 0, 0, 0, 2, 3, 4, 0x20, 0xA1, 0x07, 0]);
        let back = BinaryValue::decode(&mut Reader::new(&out), ColumnType::Time, false).expect("decodes");
        assert_eq!(back.to_value(), v);
        // Beyond 838:59:59 the wire value stays text.
        let far = Time { days: 40, ..Time::default() };
        assert_eq!(BinaryValue::Time(far).to_value(), Value::text("960:00:00"));
    }

    #[test]
    fn bit_columns_send_their_bytes_big_endian() {
        let mut col = ColumnDefinition::for_sql_type("b", SqlType::Bit(12), true, Collation::BINARY);
        assert_eq!((col.column_type, col.column_length), (ColumnType::Bit, 12));
        let mut out = Vec::new();
        encode_binary_row(&mut out, std::slice::from_ref(&col), &[Value::UInt(0xABC)]).expect("encodes");
        assert_eq!(out, [0, 0, 2, 0x0A, 0xBC]);
        col.column_length = 64;
        out.clear();
        encode_binary_row(&mut out, std::slice::from_ref(&col), &[Value::UInt(1)]).expect("encodes");
        assert_eq!(out, [0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn dates_in_their_0_4_7_11_byte_forms() {
        use ColumnType as T;
        let d = DateTimeParts { year: 2010, month: 10, day: 17, ..DateTimeParts::default() };
        round_trip(BinaryValue::Date(d), T::Date, false, &[4, 0xDA, 0x07, 10, 17]);
        round_trip(BinaryValue::DateTime(DateTimeParts::default()), T::DateTime, false, &[0]);
        round_trip(BinaryValue::DateTime(d), T::DateTime, false, &[4, 0xDA, 0x07, 10, 17]);
        let dt = DateTimeParts { hour: 19, minute: 27, second: 30, ..d };
        round_trip(BinaryValue::DateTime(dt), T::Timestamp, false, &[7, 0xDA, 0x07, 10, 17, 19, 27, 30]);
        let dt = DateTimeParts { micros: 1, ..dt };
        round_trip(BinaryValue::DateTime(dt), T::DateTime, false, &[11, 0xDA, 0x07, 10, 17, 19, 27, 30, 1, 0, 0, 0]);
        for bad in [1u8, 5, 8, 12] {
            let mut input = vec![bad];
            input.resize(20, 1);
            assert!(BinaryValue::decode(&mut Reader::new(&input), T::DateTime, false).is_err());
        }
    }

    // Protocol docs examples of binary TIME: `0c 01 78 00 00 00 13 1b 1e 01
    // 00 00 00` is -120d 19:27:30.000001; `08 01 78 00 00 00 13 1b 1e`
    // without the microseconds; `00` is zero.
    #[test]
    fn time_in_its_0_8_12_byte_forms_including_negative() {
        use crate::wire::testing::hex;
        let t = Time { negative: true, days: 120, hours: 19, minutes: 27, seconds: 30, micros: 1 };
        round_trip(BinaryValue::Time(t), ColumnType::Time, false, &hex("0c 01 78 00 00 00 13 1b 1e 01 00 00 00"));
        let t = Time { micros: 0, ..t };
        round_trip(BinaryValue::Time(t), ColumnType::Time, false, &hex("08 01 78 00 00 00 13 1b 1e"));
        assert_eq!(t.to_string(), "-2899:27:30");
        round_trip(BinaryValue::Time(Time::default()), ColumnType::Time, false, &[0]);
        assert_eq!(BinaryValue::Time(t).to_value(), Value::text("-2899:27:30"));
        let bad = hex("08 02 78 00 00 00 13 1b 1e");
        assert!(BinaryValue::decode(&mut Reader::new(&bad), ColumnType::Time, false).is_err());
    }

    #[test]
    fn mapping_to_values_documents_its_lossy_cases() {
        let d = DateTimeParts { year: 2024, month: 2, day: 29, ..DateTimeParts::default() };
        assert_eq!(BinaryValue::Date(d).to_value(), Value::Date(Date::from_ymd(2024, 2, 29).expect("valid")));
        assert_eq!(BinaryValue::Date(DateTimeParts::default()).to_value(), Value::text("0000-00-00"));
        assert_eq!(BinaryValue::DateTime(DateTimeParts::default()).to_value(), Value::text("0000-00-00 00:00:00"));
        assert_eq!(
            BinaryValue::Decimal("1.50".into()).to_value(),
            Value::decimal(Decimal::parse("1.50").expect("valid"))
        );
        let wide = "9".repeat(65);
        assert_eq!(
            BinaryValue::Decimal(wide.as_str().into()).to_value(),
            Value::decimal(Decimal::parse(&wide).expect("65 digits"))
        );
        let long = "1".repeat(82);
        assert_eq!(BinaryValue::Decimal(long.as_str().into()).to_value(), Value::text(&long));
        assert_eq!(BinaryValue::String(Cow::Borrowed(b"\xff")).to_value(), Value::bytes(b"\xff"));
        assert_eq!(BinaryValue::String(Cow::Borrowed(b"ok")).to_value(), Value::text("ok"));
        assert_eq!(BinaryValue::Blob(Cow::Borrowed(b"ok")).to_value(), Value::bytes(b"ok"));
    }

    #[test]
    fn values_round_trip_through_their_columns() {
        let dt = DateTime::parse("2021-03-04 05:06:07.000008").expect("valid");
        let cases: Vec<(Value, SqlType)> = vec![
            (Value::Int(-7), SqlType::Int { width: mizzle_types::IntWidth::Tiny, unsigned: false }),
            (Value::UInt(65535), SqlType::Int { width: mizzle_types::IntWidth::Small, unsigned: true }),
            (Value::Int(-8388608), SqlType::Int { width: mizzle_types::IntWidth::Medium, unsigned: false }),
            (Value::Int(i64::MAX), SqlType::BIGINT),
            (Value::UInt(u64::MAX), SqlType::UBIGINT),
            (Value::Float(2.5), SqlType::Float),
            (Value::Double(1e300), SqlType::Double),
            (Value::decimal(Decimal::parse("-3.14").expect("valid")), SqlType::Decimal { precision: 5, scale: 2 }),
            (Value::text("héllo"), SqlType::Varchar(10)),
            (Value::bytes(&[0, 255]), SqlType::Blob(100)),
            (Value::Date(Date::from_ymd(1999, 12, 31).expect("valid")), SqlType::Date),
            (Value::DateTime(dt), SqlType::DateTime(6)),
            (Value::DateTime(dt.date().at_midnight()), SqlType::Timestamp(0)),
            (Value::Null, SqlType::INT),
        ];
        let cols: Vec<ColumnDefinition> = cases
            .iter()
            .map(|(_, t)| ColumnDefinition::for_sql_type("c", *t, true, Collation::UTF8MB4_0900_AI_CI))
            .collect();
        let values: Vec<Value> = cases.iter().map(|(v, _)| v.clone()).collect();
        let mut out = Vec::new();
        encode_binary_row(&mut out, &cols, &values).expect("fits");
        let row = decode_binary_row(&out, &cols).expect("decodes");
        let back: Vec<Value> = row.iter().map(BinaryValue::to_value).collect();
        assert_eq!(back, values);
        assert_every_truncation_fails(&out, |b| decode_binary_row(b, &cols));
        // NULL bitmap: 14 columns at offset 2 → 2 bytes; the last value is NULL (bit 15).
        assert_eq!(&out[..3], &[0x00, 0x00, 0x80]);
    }

    #[test]
    fn values_are_converted_for_text_columns_and_refused_when_they_cannot_fit() {
        let c = ColumnDefinition::for_sql_type("c", SqlType::Varchar(5), true, Collation::UTF8MB4_0900_AI_CI);
        let mut out = Vec::new();
        encode_binary_row(&mut out, std::slice::from_ref(&c), &[Value::Int(42)]).expect("fits");
        assert_eq!(out, vec![0, 0, 2, b'4', b'2']);
        let c = ColumnDefinition::for_sql_type("c", SqlType::INT, true, Collation::UTF8MB4_0900_AI_CI);
        let mut out = Vec::new();
        assert!(matches!(
            encode_binary_row(&mut out, std::slice::from_ref(&c), &[Value::text("x")]),
            Err(ProtocolError::ValueDoesNotFitColumn { .. })
        ));
        assert!(encode_binary_row(&mut out, std::slice::from_ref(&c), &[Value::Int(1 << 40)]).is_err());
        let c = ColumnDefinition::for_sql_type("c", SqlType::UBIGINT, true, Collation::UTF8MB4_0900_AI_CI);
        assert!(encode_binary_row(&mut out, std::slice::from_ref(&c), &[Value::Int(-1)]).is_err());
    }

    #[test]
    fn null_bitmaps_have_the_documented_lengths() {
        assert_eq!(null_bitmap_len(0, 2), 1);
        assert_eq!(null_bitmap_len(6, 2), 1);
        assert_eq!(null_bitmap_len(7, 2), 2);
        assert_eq!(null_bitmap_len(8, 0), 1);
        assert_eq!(null_bitmap_len(9, 0), 2);
        assert!(null_bit(&[0b100], 0, 2));
        assert!(!null_bit(&[], 0, 0));
    }

    proptest::proptest! {
        #[test]
        fn integers_round_trip_at_their_widths(v: i64, u: u64) {
            use ColumnType as T;
            for (ty, bits) in [(T::Tiny, 8u32), (T::Short, 16), (T::Long, 32), (T::LongLong, 64)] {
                let sv = if bits == 64 { v } else { v >> (64 - bits) };
                let uv = if bits == 64 { u } else { u >> (64 - bits) };
                for (val, unsigned) in [(BinaryValue::Int(sv), false), (BinaryValue::UInt(uv), true)] {
                    let mut out = Vec::new();
                    val.encode(&mut out, ty).expect("fits its width");
                    proptest::prop_assert_eq!(out.len(), (bits / 8) as usize);
                    let back = BinaryValue::decode(&mut Reader::new(&out), ty, unsigned).expect("decodes");
                    proptest::prop_assert_eq!(back, val);
                }
            }
        }

        #[test]
        fn random_bytes_never_panic_the_value_decoder(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40), code: u8, unsigned: bool) {
            if let Ok(ty) = ColumnType::from_u8(code) {
                let mut r = Reader::new(&bytes);
                if let Ok(v) = BinaryValue::decode(&mut r, ty, unsigned) {
                    let _ = v.to_value();
                }
            }
        }
    }
}
