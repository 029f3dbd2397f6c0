//! The stored row format: compact, and readable column by column without
//! decoding the whole row.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | header: high nibble format version (1), bit 0 set = 4-byte offsets |
//! | 2 | column count `n` |
//! | `n` × 2 or 4 | end offset of each column's bytes, relative to the data |
//! | ... | data: per column a tag byte and its payload |
//!
//! Tags: 0 NULL, 1 signed int (1/2/4/8 payload bytes, sign-extended), 2
//! unsigned int (8), 3 float (4), 4 double (8), 5 decimal (16 mantissa + 1
//! scale), 6 text (UTF-8), 7 bytes, 8 date (4), 9 datetime (8), 10 time
//! (8: signed microseconds), 12 JSON (a binary document,
//! `docs/format/json.md`), 13 ENUM (2: the member's 1-based index, 0 for
//! the error value ''), 14 SET (8: the member bit mask), 15 wide decimal
//! (34: 272-bit two's complement mantissa, + 1 scale; written only when the
//! mantissa does not fit an i128, so rows of up to 38 digits are what they
//! were before DECIMAL grew to 65 digits). Tags 13 and 14 are
//! written only by [`encode_row_typed`] for ENUM and SET columns and read
//! back as text by [`RowRef::get_as`] (as the bare number by
//! [`RowRef::get`]). BIT values are unsigned ints (tag 2).
//!
//! Invariants:
//! 1. [`RowRef::get`] is O(1) in the column index.
//! 2. Every decode checks bounds and returns `Corrupt` instead of panicking.

use std::sync::Arc;

use crate::datetime::{Date, DateTime, Time};
use crate::decimal::{Decimal, MANTISSA_BYTES};
use crate::error::TypeError;
use crate::sqltype::SqlType;
use crate::value::Value;

const VERSION: u8 = 1;

fn encode_col(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0),
        Value::Int(i) => {
            out.push(1);
            let i = *i;
            if i8::try_from(i).is_ok() {
                out.push(i as u8);
            } else if let Ok(x) = i16::try_from(i) {
                out.extend_from_slice(&x.to_le_bytes());
            } else if let Ok(x) = i32::try_from(i) {
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
        Value::UInt(u) => {
            out.push(2);
            out.extend_from_slice(&u.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Double(f) => {
            out.push(4);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Decimal(d) => match d.mantissa_i128() {
            Some(m) => {
                out.push(5);
                out.extend_from_slice(&m.to_le_bytes());
                out.push(d.scale());
            }
            None => {
                out.push(15);
                out.extend_from_slice(&d.mantissa_le_bytes());
                out.push(d.scale());
            }
        },
        Value::Text(s) => {
            out.push(6);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(7);
            out.extend_from_slice(b);
        }
        Value::Date(d) => {
            out.push(8);
            out.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Value::DateTime(d) => {
            out.push(9);
            out.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Value::Json(b) => {
            out.push(12);
            out.extend_from_slice(b);
        }
        Value::Time(t) => {
            out.push(10);
            out.extend_from_slice(&t.micros().to_le_bytes());
        }
    }
}

/// ENUM and SET values in their compact form; anything else (a value that
/// is not a member cannot reach a column, but would be kept) as usual.
fn encode_col_typed(v: &Value, ty: Option<SqlType>, out: &mut Vec<u8>) {
    match (v, ty) {
        (Value::Text(s), Some(SqlType::Enum(m))) => {
            let idx = if s.is_empty() { Some(0) } else { m.position(s) };
            if let Some(i) = idx.and_then(|i| u16::try_from(i).ok()) {
                out.push(13);
                out.extend_from_slice(&i.to_le_bytes());
                return;
            }
        }
        (Value::Text(s), Some(SqlType::Set(m))) => {
            if let Some(mask) = m.set_mask(s) {
                out.push(14);
                out.extend_from_slice(&mask.to_le_bytes());
                return;
            }
        }
        _ => {}
    }
    encode_col(v, out)
}

/// Encodes a row into `out` (which is cleared first).
pub fn encode_row(vals: &[Value], out: &mut Vec<u8>) {
    encode_row_typed(vals, std::iter::empty(), out)
}

/// Encodes a row of a table whose column types are `types` (ENUM and SET
/// columns take their compact form) into `out`, which is cleared first.
pub fn encode_row_typed(vals: &[Value], types: impl IntoIterator<Item = SqlType>, out: &mut Vec<u8>) {
    let mut types = types.into_iter();
    out.clear();
    let n = vals.len();
    // One allocation at most: the header with 2-byte ends, then the data
    // encoded in place after it (text and bytes take their length plus a
    // tag, every other value at most 18 bytes: a DECIMAL of up to 38
    // digits; a wider one grows the buffer). Past 64 KiB of data the ends
    // no longer fit in 2 bytes and the row is laid out again with 4.
    let hint: usize = vals
        .iter()
        .map(|v| match v {
            Value::Text(s) => 1 + s.len(),
            Value::Bytes(b) | Value::Json(b) => 1 + b.len(),
            _ => 18,
        })
        .sum();
    let head = 3 + 2 * n;
    out.reserve(head + hint);
    out.push(VERSION << 4);
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.resize(head, 0);
    for (i, v) in vals.iter().enumerate() {
        encode_col_typed(v, types.next(), out);
        let end = out.len() - head;
        match u16::try_from(end) {
            Ok(e) => out[3 + 2 * i..5 + 2 * i].copy_from_slice(&e.to_le_bytes()),
            Err(_) => return relayout_wide(vals, i, types, head, out),
        }
    }
}

/// Finishes [`encode_row_typed`] with 4-byte ends: columns `..=done` are
/// encoded in `out[head..]` (their 2-byte ends in the header, but for
/// `done`'s own, which did not fit); the rest take `types`.
fn relayout_wide(
    vals: &[Value],
    done: usize,
    mut types: impl Iterator<Item = SqlType>,
    head: usize,
    out: &mut Vec<u8>,
) {
    let n = vals.len();
    let mut data = out.split_off(head);
    let mut ends: Vec<usize> =
        (0..done).map(|i| usize::from(u16::from_le_bytes([out[3 + 2 * i], out[4 + 2 * i]]))).collect();
    ends.push(data.len());
    for v in &vals[done + 1..] {
        encode_col_typed(v, types.next(), &mut data);
        ends.push(data.len());
    }
    out.clear();
    out.reserve(3 + 4 * n + data.len());
    out.push((VERSION << 4) | 1);
    out.extend_from_slice(&(n as u16).to_le_bytes());
    for e in ends {
        out.extend_from_slice(&(e as u32).to_le_bytes());
    }
    out.extend_from_slice(&data);
}

/// A borrowed encoded row.
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    bytes: &'a [u8],
    n: usize,
    wide: bool,
    data_start: usize,
}

const CORRUPT: TypeError = TypeError::Corrupt { what: "row bytes" };

/// [`CORRUPT`], made only on the error path (`ok_or(CORRUPT)` builds and
/// drops an error on every successful read of a value).
fn corrupt() -> TypeError {
    CORRUPT
}

impl<'a> RowRef<'a> {
    /// Checks the header and wraps the bytes.
    pub fn new(bytes: &'a [u8]) -> Result<RowRef<'a>, TypeError> {
        let h = *bytes.first().ok_or_else(corrupt)?;
        if h >> 4 != VERSION {
            return Err(TypeError::Corrupt { what: "unknown row format version" });
        }
        let wide = h & 1 == 1;
        let n = u16::from_le_bytes([*bytes.get(1).ok_or_else(corrupt)?, *bytes.get(2).ok_or_else(corrupt)?]) as usize;
        let data_start = 3 + n * if wide { 4 } else { 2 };
        if bytes.len() < data_start {
            return Err(CORRUPT);
        }
        Ok(RowRef { bytes, n, wide, data_start })
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True for a row without columns.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn end(&self, i: usize) -> Result<usize, TypeError> {
        if self.wide {
            let p = 3 + i * 4;
            let s = self.bytes.get(p..p + 4).ok_or_else(corrupt)?;
            Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        } else {
            let p = 3 + i * 2;
            let s = self.bytes.get(p..p + 2).ok_or_else(corrupt)?;
            Ok(u16::from_le_bytes([s[0], s[1]]) as usize)
        }
    }

    fn raw(&self, i: usize) -> Result<&'a [u8], TypeError> {
        if i >= self.n {
            return Err(TypeError::Corrupt { what: "row has fewer columns than its table" });
        }
        let start = if i == 0 { 0 } else { self.end(i - 1)? };
        let end = self.end(i)?;
        let data = &self.bytes[self.data_start..];
        data.get(start..end).ok_or_else(corrupt)
    }

    /// True if column `i` is NULL.
    pub fn is_null(&self, i: usize) -> Result<bool, TypeError> {
        Ok(self.raw(i)?.first() == Some(&0))
    }

    /// Decodes column `i`.
    pub fn get(&self, i: usize) -> Result<Value, TypeError> {
        let mut v = Value::Null;
        self.get_into(i, &mut v)?;
        Ok(v)
    }

    /// Decodes column `i` into `slot` (left as it was on an error). Writing
    /// in place spares a row decoder the copies of a returned `Value`
    /// through temporaries.
    pub fn get_into(&self, i: usize, slot: &mut Value) -> Result<(), TypeError> {
        let raw = self.raw(i)?;
        let (&tag, p) = raw.split_first().ok_or_else(corrupt)?;
        let fixed = |n: usize| -> Result<&[u8], TypeError> {
            if p.len() == n {
                Ok(p)
            } else {
                Err(CORRUPT)
            }
        };
        *slot = match tag {
            0 => Value::Null,
            1 => Value::Int(match p.len() {
                1 => p[0] as i8 as i64,
                2 => i16::from_le_bytes([p[0], p[1]]) as i64,
                4 => i32::from_le_bytes([p[0], p[1], p[2], p[3]]) as i64,
                8 => i64::from_le_bytes(arr8(p)),
                _ => return Err(CORRUPT),
            }),
            2 => Value::UInt(u64::from_le_bytes(arr8(fixed(8)?))),
            3 => {
                let s = fixed(4)?;
                Value::Float(f32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            }
            4 => Value::Double(f64::from_le_bytes(arr8(fixed(8)?))),
            5 => {
                let s = fixed(17)?;
                let mut m = [0u8; 16];
                m.copy_from_slice(&s[..16]);
                Value::decimal(Decimal::new(i128::from_le_bytes(m), s[16]).ok_or_else(corrupt)?)
            }
            15 => {
                let s = fixed(MANTISSA_BYTES + 1)?;
                let mut m = [0u8; MANTISSA_BYTES];
                m.copy_from_slice(&s[..MANTISSA_BYTES]);
                Value::decimal(Decimal::from_mantissa_le_bytes(m, s[MANTISSA_BYTES]).ok_or_else(corrupt)?)
            }
            6 => Value::Text(Arc::from(
                simdutf8::basic::from_utf8(p).map_err(|_| TypeError::Corrupt { what: "stored text is not UTF-8" })?,
            )),
            7 => Value::Bytes(Arc::from(p)),
            8 => {
                let s = fixed(4)?;
                Value::Date(Date::from_bits(u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok_or_else(corrupt)?)
            }
            9 => Value::DateTime(DateTime::from_bits(i64::from_le_bytes(arr8(fixed(8)?))).ok_or_else(corrupt)?),
            12 => {
                // Only the version byte is checked here: every later read of
                // the document is bounds-checked (json::binary invariant 1).
                crate::json::JsonRef::from_doc(p).map_err(|_| TypeError::Corrupt { what: "bad JSON document" })?;
                Value::Json(Arc::from(p))
            }
            13 => {
                let s = fixed(2)?;
                Value::UInt(u16::from_le_bytes([s[0], s[1]]) as u64)
            }
            14 => Value::UInt(u64::from_le_bytes(arr8(fixed(8)?))),
            10 => Value::Time(Time::from_micros(i64::from_le_bytes(arr8(fixed(8)?))).ok_or_else(corrupt)?),
            _ => return Err(TypeError::Corrupt { what: "unknown column tag" }),
        };
        Ok(())
    }

    /// Decodes column `i` of a column of type `ty`: ENUM and SET columns
    /// give their text.
    pub fn get_as(&self, i: usize, ty: SqlType) -> Result<Value, TypeError> {
        let (SqlType::Enum(m) | SqlType::Set(m)) = ty else { return self.get(i) };
        Self::member_text(self.raw(i)?.first(), self.get(i)?, m)
    }

    /// [`RowRef::get_as`] into `slot` (see [`RowRef::get_into`]).
    pub fn get_as_into(&self, i: usize, ty: SqlType, slot: &mut Value) -> Result<(), TypeError> {
        let (SqlType::Enum(m) | SqlType::Set(m)) = ty else { return self.get_into(i, slot) };
        *slot = Self::member_text(self.raw(i)?.first(), self.get(i)?, m)?;
        Ok(())
    }

    /// An ENUM's or SET's stored number as its text (`tag` 13 or 14).
    fn member_text(tag: Option<&u8>, v: Value, m: crate::members::Members) -> Result<Value, TypeError> {
        let bad = TypeError::Corrupt { what: "stored ENUM or SET value names no member" };
        match (tag, v) {
            (Some(13), Value::UInt(0)) => Ok(Value::text("")),
            (Some(13), Value::UInt(n)) => Ok(Value::text(usize::try_from(n).ok().and_then(|n| m.get(n)).ok_or(bad)?)),
            (Some(14), Value::UInt(mask)) => Ok(Value::Text(Arc::from(m.set_text(mask).ok_or(bad)?.as_str()))),
            (_, v) => Ok(v),
        }
    }

    /// Decodes every column.
    pub fn to_values(&self) -> Result<Vec<Value>, TypeError> {
        (0..self.n).map(|i| self.get(i)).collect()
    }
}

fn arr8(p: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    let n = p.len().min(8);
    a[..n].copy_from_slice(&p[..n]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let vals = vec![
            Value::Null,
            Value::Int(-5),
            Value::Int(70000),
            Value::Int(i64::MIN),
            Value::UInt(u64::MAX),
            Value::Float(1.5),
            Value::Double(-2.25),
            Value::decimal(Decimal::parse("-12.345").expect("lit")),
            Value::text("héllo"),
            Value::bytes(&[0, 1, 2]),
            Value::Date(Date::parse("2024-02-29").expect("lit")),
            Value::DateTime(DateTime::parse("2024-02-29 12:00:01").expect("lit")),
            Value::json(&crate::json::text::parse(r#"{"a": [1, 2.5, "x"]}"#).expect("lit")),
            Value::Time(Time::parse("-100:00:01.5").expect("lit")),
        ];
        let mut buf = Vec::new();
        encode_row(&vals, &mut buf);
        let r = RowRef::new(&buf).expect("valid");
        assert_eq!(r.len(), vals.len());
        for (i, v) in vals.iter().enumerate() {
            let got = r.get(i).expect("decodes");
            assert!(got.group_eq(v), "column {i}: {got:?} vs {v:?}");
        }
    }

    #[test]
    fn wide_decimals_round_trip_and_narrow_ones_keep_the_old_bytes() {
        let nines = "9".repeat(65);
        let vals: Vec<Value> = [
            nines.clone(),
            format!("-{nines}"),
            format!("{}.{}", "1".repeat(35), "2".repeat(30)),
            "170141183460469231731687303715884105728".to_string(),
            "-170141183460469231731687303715884105728".to_string(),
            "9".repeat(81),
            "-12.345".to_string(),
        ]
        .iter()
        .map(|s| Value::decimal(Decimal::parse(s).expect("lit")))
        .collect();
        let mut buf = Vec::new();
        encode_row(&vals, &mut buf);
        let r = RowRef::new(&buf).expect("valid");
        for (i, v) in vals.iter().enumerate() {
            let got = r.get(i).expect("decodes");
            assert_eq!(got.to_text_lossy(), v.to_text_lossy(), "column {i}");
        }
        // -12.345 as written before: tag 5, i128 mantissa -12345, scale 3.
        let mut old = vec![0x10, 1, 0, 18, 0, 5];
        old.extend_from_slice(&(-12345i128).to_le_bytes());
        old.push(3);
        let mut now = Vec::new();
        encode_row(&vals[6..], &mut now);
        assert_eq!(now, old);
        assert_eq!(RowRef::new(&old).expect("valid").get(0).expect("decodes").to_text_lossy(), "-12.345");
        // A stored wide mantissa past 81 digits, or a bad scale, is corrupt.
        let mut bad = Vec::new();
        encode_row(&vals[..1], &mut bad);
        let last = bad.len() - 1;
        bad[last] = 31;
        assert!(RowRef::new(&bad).expect("valid").get(0).is_err());
        let mut bad = Vec::new();
        encode_row(&vals[..1], &mut bad);
        bad[last - 1] = 0x7f;
        assert!(RowRef::new(&bad).expect("valid").get(0).is_err());
    }

    #[test]
    fn enum_and_set_columns_are_compact() {
        let e = SqlType::Enum(crate::Members::intern(&["a", "bb"], crate::Collation::LEGACY));
        let st = SqlType::Set(crate::Members::intern(&["x", "y", "z"], crate::Collation::LEGACY));
        let vals = vec![Value::text("bb"), Value::text("x,z"), Value::text(""), Value::Null];
        let types = [e, st, e, e];
        let mut buf = Vec::new();
        encode_row_typed(&vals, types, &mut buf);
        let r = RowRef::new(&buf).expect("valid");
        assert_eq!(r.get(0).expect("raw"), Value::UInt(2));
        assert_eq!(r.get(1).expect("raw"), Value::UInt(0b101));
        for (i, v) in vals.iter().enumerate() {
            assert_eq!(&r.get_as(i, types[i]).expect("decodes"), v);
            let mut slot = Value::Int(7);
            r.get_as_into(i, types[i], &mut slot).expect("decodes in place");
            assert_eq!(&slot, v);
        }
        // A stored index beyond the members is corruption, not a panic.
        let mut bad = Vec::new();
        encode_row_typed(&[Value::text("bb")], [e], &mut bad);
        let short = SqlType::Enum(crate::Members::intern(&["a"], crate::Collation::LEGACY));
        assert!(RowRef::new(&bad).expect("valid").get_as(0, short).is_err());
        let mut slot = Value::Int(7);
        assert!(RowRef::new(&bad).expect("valid").get_as_into(0, short, &mut slot).is_err());
        assert_eq!(slot, Value::Int(7), "a failed decode leaves the slot as it was");
    }

    #[test]
    fn decoding_in_place_matches_decoding_by_value() {
        let vals = vec![
            Value::Null,
            Value::Int(-3),
            Value::UInt(9),
            Value::Double(0.5),
            Value::text("héllo"),
            Value::bytes(&[1, 2]),
        ];
        let mut buf = Vec::new();
        encode_row(&vals, &mut buf);
        let r = RowRef::new(&buf).expect("valid");
        for (i, v) in vals.iter().enumerate() {
            let mut slot = Value::text("old");
            r.get_into(i, &mut slot).expect("decodes");
            assert_eq!(&slot, v);
        }
        let mut slot = Value::Int(1);
        assert!(r.get_into(vals.len(), &mut slot).is_err());
        assert_eq!(slot, Value::Int(1));
    }

    #[test]
    fn wide_rows_use_wide_offsets() {
        let big = "x".repeat(70_000);
        let vals = vec![Value::text(&big), Value::Int(1)];
        let mut buf = Vec::new();
        encode_row(&vals, &mut buf);
        let r = RowRef::new(&buf).expect("valid");
        assert_eq!(r.get(1).expect("decodes").to_text_lossy(), "1");
        assert_eq!(r.get(0).expect("decodes").to_text_lossy().len(), 70_000);
    }

    #[test]
    fn a_row_turning_wide_in_its_middle_keeps_every_column() {
        let a = "a".repeat(40_000);
        let b = "b".repeat(40_000);
        let vals = vec![Value::Int(7), Value::text(&a), Value::text(&b), Value::Int(9), Value::Null, Value::text("z")];
        for cols in [vals.clone(), vals[..3].to_vec()] {
            let mut buf = Vec::new();
            encode_row(&cols, &mut buf);
            assert_eq!(buf[0] & 1, 1, "wide offsets");
            let r = RowRef::new(&buf).expect("valid");
            assert_eq!(r.to_values().expect("decodes"), cols);
        }
        let mut narrow = Vec::new();
        encode_row(&[Value::text(&"c".repeat(65_000)), Value::Int(1)], &mut narrow);
        assert_eq!(narrow[0] & 1, 0, "65,000 data bytes still fit 2-byte ends");
        assert_eq!(RowRef::new(&narrow).expect("valid").get(1).expect("decodes"), Value::Int(1));
    }

    #[test]
    fn stored_text_that_is_not_utf8_is_an_error() {
        let mut buf = Vec::new();
        let long = "é".repeat(40);
        encode_row(&[Value::text("abc"), Value::text(&long)], &mut buf);
        assert_eq!(RowRef::new(&buf).expect("valid").get(1).expect("decodes"), Value::text(&long));
        // Damage a byte of each text: a lone 0xFF, then a cut 2-byte sequence.
        let at = buf.len() - 1;
        let mut bad = buf.clone();
        bad[at] = 0xFF;
        assert!(RowRef::new(&bad).expect("valid").get(1).is_err());
        let first = buf.windows(3).position(|w| w == b"abc").expect("the first text");
        let mut bad = buf.clone();
        bad[first + 1] = 0xC3;
        assert!(RowRef::new(&bad).expect("valid").get(0).is_err());
    }

    #[test]
    fn corrupt_rows_are_errors_not_panics() {
        let mut buf = Vec::new();
        encode_row(&[Value::Int(1), Value::text("abc")], &mut buf);
        for cut in 0..buf.len() {
            if let Ok(r) = RowRef::new(&buf[..cut]) {
                let _ = r.get(0);
                let _ = r.get(1);
            }
        }
        let mut bad = buf.clone();
        bad[0] = 0x90;
        assert!(RowRef::new(&bad).is_err());
    }
}
