//! Memcomparable key encoding: the byte order of encoded keys is the value
//! order of the tuples they encode.
//!
//! Invariants:
//! 1. For values `a`, `b` of one kind, `encode(a) < encode(b)` (bytewise) iff
//!    `a.sort_cmp(b) == Less`; NULL sorts before every value.
//! 2. Encodings are prefix-free: no encoded value is a prefix of another, so
//!    a tuple's encoding is the concatenation of its values' encodings and
//!    anything appended after a tuple (an MVCC version) never changes order.
//! 3. Decoding is the exact inverse and rejects malformed bytes with an error.
//! 4. A DECIMAL whose integer part is below 10^38 in magnitude encodes as
//!    it did when DECIMAL held 38 digits (integer part and fraction, each a
//!    16-byte i128), so indexes written then stay valid and ordered; wider
//!    integer parts take an escaped 34-byte form whose first byte (0x00 or
//!    0xFF) no narrow key can start with (see [`encode_decimal`]).
//!
//! Tags: 0x01 NULL, 0x10 INT, 0x11 UINT, 0x12 DOUBLE, 0x13 DECIMAL, 0x20
//! TEXT, 0x21 BYTES, 0x30 DATE, 0x31 DATETIME, 0x32 TIME (signed
//! microseconds with the sign bit flipped, big-endian).
//!
//! Values are encoded by their kind; callers convert values to the column's
//! type first, so one index column never mixes kinds.

use std::sync::Arc;

use crate::datetime::{Date, DateTime, Time};
use crate::decimal::{Decimal, MANTISSA_BYTES, MAX_SCALE};
use crate::error::TypeError;
use crate::value::Value;

const NULL: u8 = 0x01;
const INT: u8 = 0x10;
const UINT: u8 = 0x11;
const DOUBLE: u8 = 0x12;
const DECIMAL: u8 = 0x13;
const TEXT: u8 = 0x20;
const BYTES: u8 = 0x21;
const DATE: u8 = 0x30;
const DATETIME: u8 = 0x31;
const TIME: u8 = 0x32;

/// Appends the encoding of one value.
pub fn encode_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(NULL),
        Value::Int(i) => {
            out.push(INT);
            out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes());
        }
        Value::UInt(u) => {
            out.push(UINT);
            out.extend_from_slice(&u.to_be_bytes());
        }
        Value::Float(f) => encode_double(*f as f64, out),
        Value::Double(f) => encode_double(*f, out),
        Value::Decimal(d) => {
            out.push(DECIMAL);
            encode_decimal(**d, out);
        }
        Value::Text(s) => {
            out.push(TEXT);
            encode_bytes(s.as_bytes(), out);
        }
        Value::Bytes(b) => {
            out.push(BYTES);
            encode_bytes(b, out);
        }
        Value::Date(d) => {
            out.push(DATE);
            out.extend_from_slice(&d.to_bits().to_be_bytes());
        }
        Value::DateTime(d) => {
            out.push(DATETIME);
            out.extend_from_slice(&(d.to_bits() as u64).to_be_bytes());
        }
        // JSON columns cannot be indexed (MySQL error 3152); a JSON value
        // that reaches a key anyway is keyed by its normalized text.
        Value::Json(_) => {
            out.push(TEXT);
            encode_bytes(v.to_text_lossy().as_bytes(), out);
        }
        Value::Time(t) => {
            out.push(TIME);
            out.extend_from_slice(&((t.micros() as u64) ^ (1 << 63)).to_be_bytes());
        }
    }
}

/// `10^38`: integer parts below it in magnitude take the narrow form
/// (invariant 4).
const NARROW_INT_LIMIT: i128 = 100_000_000_000_000_000_000_000_000_000_000_000_000;
/// First payload byte of a wide negative DECIMAL key.
const WIDE_NEGATIVE: u8 = 0x00;
/// First payload byte of a wide positive DECIMAL key.
const WIDE_POSITIVE: u8 = 0xFF;

/// The DECIMAL payload: the integer part, then the fraction scaled to
/// `10^30` as an i128 XOR 2^127 (16 bytes big-endian). An integer part
/// below `10^38` in magnitude is an i128 XOR 2^127 (16 bytes big-endian),
/// whose first byte is then 0x34..=0xCB; a larger one is the byte 0x00
/// (negative) or 0xFF (positive) and the 272-bit two's complement integer
/// with its sign bit flipped (34 bytes big-endian). Narrow keys are the
/// keys mizzle wrote before decimals grew past 38 digits, byte for byte.
fn encode_decimal(d: Decimal, out: &mut Vec<u8>) {
    // Fast path: the mantissa fits an i128.
    if let (Some(m), Some(f)) = (d.mantissa_i128(), crate::decimal::pow10(d.scale() as u32)) {
        let int = m / f;
        if int.unsigned_abs() < NARROW_INT_LIMIT as u128 {
            let frac = (m % f) * crate::decimal::pow10((MAX_SCALE - d.scale()) as u32).unwrap_or(1);
            out.extend_from_slice(&((int as u128) ^ (1 << 127)).to_be_bytes());
            out.extend_from_slice(&((frac as u128) ^ (1 << 127)).to_be_bytes());
            return;
        }
    }
    let int = d.truncate_to(0);
    // The fraction has fewer than 31 digits, so it is narrow at scale 30.
    let frac = d.checked_sub(int).and_then(|f| f.rescale(MAX_SCALE)).and_then(Decimal::mantissa_i128).unwrap_or(0);
    match int.mantissa_i128() {
        Some(i) if i.unsigned_abs() < NARROW_INT_LIMIT as u128 => {
            out.extend_from_slice(&((i as u128) ^ (1 << 127)).to_be_bytes());
        }
        _ => {
            out.push(if int.signum() < 0 { WIDE_NEGATIVE } else { WIDE_POSITIVE });
            let mut be = int.mantissa_le_bytes();
            be.reverse();
            be[0] ^= 0x80;
            out.extend_from_slice(&be);
        }
    }
    out.extend_from_slice(&((frac as u128) ^ (1 << 127)).to_be_bytes());
}

fn decode_decimal(b: &mut &[u8]) -> Result<Decimal, TypeError> {
    const BAD: TypeError = TypeError::Corrupt { what: "decimal key out of range" };
    let first = *b.first().ok_or(TypeError::Corrupt { what: "key ends inside a value" })?;
    let int = if first == WIDE_NEGATIVE || first == WIDE_POSITIVE {
        take(b, 1)?;
        let mut le = [0u8; MANTISSA_BYTES];
        le.copy_from_slice(take(b, MANTISSA_BYTES)?);
        le[0] ^= 0x80;
        le.reverse();
        let int = Decimal::from_mantissa_le_bytes(le, 0).ok_or(BAD)?;
        if (int.signum() < 0) != (first == WIDE_NEGATIVE)
            || int.mantissa_i128().is_some_and(|i| i.unsigned_abs() < NARROW_INT_LIMIT as u128)
        {
            return Err(BAD);
        }
        int
    } else {
        let i = (take16(b)? ^ (1 << 127)) as i128;
        if i.unsigned_abs() >= NARROW_INT_LIMIT as u128 {
            return Err(BAD);
        }
        Decimal::new(i, 0).ok_or(BAD)?
    };
    let frac = (take16(b)? ^ (1 << 127)) as i128;
    if frac.unsigned_abs() >= crate::decimal::pow10(MAX_SCALE as u32).unwrap_or(0) as u128 {
        return Err(BAD);
    }
    // The fraction at its smallest scale, so a value with many integer
    // digits still fits the digit limit.
    let frac = Decimal::new(frac, MAX_SCALE).ok_or(BAD)?.normalize();
    Ok(int.checked_add(frac).ok_or(BAD)?.normalize())
}

fn encode_double(f: f64, out: &mut Vec<u8>) {
    out.push(DOUBLE);
    // -0.0 and 0.0 are equal in SQL, so they must encode alike.
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
    out.extend_from_slice(&ordered.to_be_bytes());
}

/// Appends the encoding of text under a collation: the TEXT tag and the
/// collation's weight string (`Collation::sort_key`), escaped and
/// terminated as bytes are. Under `utf8mb4_0900_bin` this is exactly
/// [`encode_value`] of the text, so keys written before collations existed
/// stay valid. Such keys cannot be decoded back to the text.
pub fn encode_text_collated(s: &str, collation: crate::Collation, out: &mut Vec<u8>) {
    out.push(TEXT);
    // The binary collations' weight strings are the (trimmed) bytes
    // themselves: encode them in place, without a copy.
    if collation == crate::Collation::Utf8mb4_0900Bin {
        encode_bytes(s.as_bytes(), out);
    } else if collation == crate::Collation::Utf8mb4Bin {
        encode_bytes(s.trim_end_matches(' ').as_bytes(), out);
    } else {
        let mut w = Vec::with_capacity(s.len() * 2);
        collation.sort_key(s, &mut w);
        encode_bytes(&w, out);
    }
}

/// Appends the encoding of one value of a column with `collation`: text
/// through [`encode_text_collated`], everything else as [`encode_value`].
pub fn encode_value_collated(v: &Value, collation: crate::Collation, out: &mut Vec<u8>) {
    match v {
        Value::Text(s) => encode_text_collated(s, collation, out),
        _ => encode_value(v, out),
    }
}

/// Escapes 0x00 as 0x00 0xFF and terminates with 0x00 0x00.
fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    for &c in b {
        if c == 0 {
            out.extend_from_slice(&[0, 0xFF]);
        } else {
            out.push(c);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Appends the encoding of a tuple.
pub fn encode_tuple(vals: &[Value], out: &mut Vec<u8>) {
    for v in vals {
        encode_value(v, out);
    }
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], TypeError> {
    if b.len() < n {
        return Err(TypeError::Corrupt { what: "key ends inside a value" });
    }
    let (h, t) = b.split_at(n);
    *b = t;
    Ok(h)
}

fn take8(b: &mut &[u8]) -> Result<[u8; 8], TypeError> {
    let s = take(b, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(a)
}

fn take16(b: &mut &[u8]) -> Result<u128, TypeError> {
    let s = take(b, 16)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(s);
    Ok(u128::from_be_bytes(a))
}

/// Decodes one value from the front of `b`, advancing it.
pub fn decode_value(b: &mut &[u8]) -> Result<Value, TypeError> {
    let tag = *take(b, 1)?.first().ok_or(TypeError::Corrupt { what: "empty key" })?;
    Ok(match tag {
        NULL => Value::Null,
        INT => Value::Int((u64::from_be_bytes(take8(b)?) ^ (1 << 63)) as i64),
        UINT => Value::UInt(u64::from_be_bytes(take8(b)?)),
        DOUBLE => {
            let o = u64::from_be_bytes(take8(b)?);
            let bits = if o >> 63 == 1 { o & !(1 << 63) } else { !o };
            Value::Double(f64::from_bits(bits))
        }
        DECIMAL => Value::decimal(decode_decimal(b)?),
        TEXT => {
            let raw = decode_bytes(b)?;
            let s = String::from_utf8(raw).map_err(|_| TypeError::Corrupt { what: "key text is not UTF-8" })?;
            Value::Text(Arc::from(s.as_str()))
        }
        BYTES => Value::Bytes(Arc::from(decode_bytes(b)?)),
        DATE => {
            let s = take(b, 4)?;
            let mut a = [0u8; 4];
            a.copy_from_slice(s);
            Value::Date(Date::from_bits(u32::from_be_bytes(a)).ok_or(TypeError::Corrupt { what: "bad date in key" })?)
        }
        DATETIME => Value::DateTime(
            DateTime::from_bits(u64::from_be_bytes(take8(b)?) as i64)
                .ok_or(TypeError::Corrupt { what: "bad datetime in key" })?,
        ),
        TIME => Value::Time(
            Time::from_micros((u64::from_be_bytes(take8(b)?) ^ (1 << 63)) as i64)
                .ok_or(TypeError::Corrupt { what: "bad time in key" })?,
        ),
        _ => return Err(TypeError::Corrupt { what: "unknown key tag" }),
    })
}

fn decode_bytes(b: &mut &[u8]) -> Result<Vec<u8>, TypeError> {
    let mut out = Vec::new();
    loop {
        let c = *take(b, 1)?.first().ok_or(TypeError::Corrupt { what: "key string" })?;
        if c != 0 {
            out.push(c);
            continue;
        }
        match *take(b, 1)?.first().ok_or(TypeError::Corrupt { what: "key string" })? {
            0 => return Ok(out),
            0xFF => out.push(0),
            _ => return Err(TypeError::Corrupt { what: "bad escape in key string" }),
        }
    }
}

/// Decodes `n` values from the front of `b`, advancing it.
pub fn decode_tuple(b: &mut &[u8], n: usize) -> Result<Vec<Value>, TypeError> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(decode_value(b)?);
    }
    Ok(out)
}

/// The smallest byte string greater than every string with prefix `p`,
/// or `None` if there is none (all 0xFF).
pub fn prefix_successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut v = p.to_vec();
    while let Some(last) = v.pop() {
        if last != 0xFF {
            v.push(last + 1);
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::MAX_TIME_MICROS;
    use proptest::prelude::*;

    fn enc(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode_value(v, &mut out);
        out
    }

    #[test]
    fn legacy_collation_keys_equal_plain_text_keys() {
        for s in ["", "a", "a\0b", "ÉMILE ", "😀"] {
            let mut k = Vec::new();
            encode_text_collated(s, crate::Collation::LEGACY, &mut k);
            assert_eq!(k, enc(&Value::text(s)));
        }
    }

    proptest! {
        #[test]
        fn collated_keys_order_as_the_collation(a in "[aAéÉß s\\x00]{0,5}", b in "[aAéÉß s\\x00]{0,5}", c in 0usize..7) {
            let coll = crate::Collation::ALL[c];
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            encode_text_collated(&a, coll, &mut ka);
            encode_value(&Value::Int(1), &mut ka);
            encode_text_collated(&b, coll, &mut kb);
            encode_value(&Value::Int(0), &mut kb);
            // Prefix-free: the suffix decides only between equal texts.
            let want = coll.compare(&a, &b).then(std::cmp::Ordering::Greater);
            prop_assert_eq!(ka.cmp(&kb), want);
        }
    }

    fn same_kind_values() -> impl Strategy<Value = (Value, Value)> {
        prop_oneof![
            (any::<i64>(), any::<i64>()).prop_map(|(a, b)| (Value::Int(a), Value::Int(b))),
            (any::<u64>(), any::<u64>()).prop_map(|(a, b)| (Value::UInt(a), Value::UInt(b))),
            (-1e300f64..1e300, -1e300f64..1e300).prop_map(|(a, b)| (Value::Double(a), Value::Double(b))),
            (any::<i64>(), 0u8..=10, any::<i64>(), 0u8..=10).prop_map(|(a, sa, b, sb)| (
                Value::decimal(Decimal::new(a as i128, sa).expect("fits")),
                Value::decimal(Decimal::new(b as i128, sb).expect("fits"))
            )),
            (".{0,8}", ".{0,8}").prop_map(|(a, b): (String, String)| (Value::text(&a), Value::text(&b))),
            (proptest::collection::vec(any::<u8>(), 0..8), proptest::collection::vec(any::<u8>(), 0..8))
                .prop_map(|(a, b)| (Value::bytes(&a), Value::bytes(&b))),
            (-MAX_TIME_MICROS..=MAX_TIME_MICROS, -MAX_TIME_MICROS..=MAX_TIME_MICROS).prop_map(|(a, b)| (
                Value::Time(Time::from_micros(a).expect("in range")),
                Value::Time(Time::from_micros(b).expect("in range"))
            )),
        ]
    }

    proptest! {
        #[test]
        fn byte_order_is_value_order((a, b) in same_kind_values()) {
            prop_assert_eq!(enc(&a).cmp(&enc(&b)), a.sort_cmp(&b));
        }

        #[test]
        fn round_trips((a, b) in same_kind_values()) {
            let mut buf = Vec::new();
            encode_tuple(&[a.clone(), Value::Null, b.clone()], &mut buf);
            let mut s = buf.as_slice();
            let back = decode_tuple(&mut s, 3).expect("decodes");
            prop_assert!(s.is_empty());
            prop_assert!(back[0].group_eq(&a));
            prop_assert!(back[1].is_null());
            prop_assert!(back[2].group_eq(&b));
        }

        #[test]
        fn tuples_are_prefix_free(a in ".{0,6}", b in ".{0,6}", x in any::<i64>(), y in any::<i64>()) {
            let mut ka = Vec::new();
            encode_tuple(&[Value::text(&a), Value::Int(x)], &mut ka);
            let mut kb = Vec::new();
            encode_tuple(&[Value::text(&b), Value::Int(y)], &mut kb);
            let want = Value::text(&a).sort_cmp(&Value::text(&b)).then(x.cmp(&y));
            prop_assert_eq!(ka.cmp(&kb), want);
        }
    }

    /// Decimals of every width, dense around the narrow/wide boundary of
    /// the integer part (10^38) and at 65 and 81 digits.
    fn decimals() -> impl Strategy<Value = Decimal> {
        let digits = prop_oneof![1usize..=20, 37usize..=40, 60usize..=66, 75usize..=81];
        (digits, 0u8..=30, any::<bool>(), any::<u64>(), 0u8..4).prop_map(|(n, scale, neg, seed, kind)| {
            let mut x = seed;
            let mut s: String = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    char::from(b'0' + ((x >> 33) % 10) as u8)
                })
                .collect();
            match kind {
                // Exactly 10^38 - 1 and 10^38 as integer parts.
                0 => s = "9".repeat(38),
                1 => s = format!("1{}", "0".repeat(38)),
                _ => {}
            }
            let scale = (scale as usize).min(81usize.saturating_sub(s.len())) as u8;
            let frac: String = (0..scale).map(|i| char::from(b'0' + (seed >> (i % 60)) as u8 % 10)).collect();
            let text = if scale > 0 { format!("{s}.{frac}") } else { s };
            let d = Decimal::parse(&text).expect("at most 81 digits");
            if neg {
                d.negated()
            } else {
                d
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn decimal_keys_order_across_the_narrow_wide_boundary(a in decimals(), b in decimals()) {
            let (va, vb) = (Value::decimal(a), Value::decimal(b));
            prop_assert_eq!(enc(&va).cmp(&enc(&vb)), a.cmp(&b));
            let mut buf = Vec::new();
            encode_tuple(&[va, Value::Int(7)], &mut buf);
            let mut s = buf.as_slice();
            let back = decode_tuple(&mut s, 2).expect("decodes");
            prop_assert!(s.is_empty());
            prop_assert!(matches!(&back[0], Value::Decimal(x) if *x == Box::new(a) && x.to_string() == a.normalize().to_string()));
            prop_assert_eq!(&back[1], &Value::Int(7));
        }
    }

    #[test]
    fn narrow_decimal_keys_are_the_old_bytes() {
        // -12.5 as mizzle wrote it before DECIMAL went past 38 digits:
        // integer -12 and fraction -0.5 * 10^30, each an i128 XOR 2^127.
        let mut want = vec![DECIMAL];
        want.extend_from_slice(&((-12i128 as u128) ^ (1 << 127)).to_be_bytes());
        want.extend_from_slice(&((-500_000_000_000_000_000_000_000_000_000i128 as u128) ^ (1 << 127)).to_be_bytes());
        let v = Value::decimal(Decimal::parse("-12.5").expect("lit"));
        assert_eq!(enc(&v), want);
        let mut s = want.as_slice();
        assert_eq!(decode_value(&mut s).expect("decodes"), v);
        // The largest old integer part keeps the old form; one more is wide.
        let old_max = Value::decimal(Decimal::parse(&"9".repeat(38)).expect("lit"));
        assert_eq!(enc(&old_max).len(), 33);
        assert_eq!(enc(&old_max)[1], 0xCB);
        let wide = Value::decimal(Decimal::parse(&format!("1{}", "0".repeat(38))).expect("lit"));
        assert_eq!(enc(&wide).len(), 1 + 1 + MANTISSA_BYTES + 16);
        assert_eq!(enc(&wide)[1], WIDE_POSITIVE);
        assert_eq!(
            enc(&Value::decimal(Decimal::parse(&format!("-{}", "9".repeat(65))).expect("lit")))[1],
            WIDE_NEGATIVE
        );
    }

    #[test]
    fn malformed_decimal_keys_are_errors() {
        // A wide form holding a narrow integer is not canonical.
        let mut k = vec![DECIMAL, WIDE_POSITIVE];
        let mut be = Decimal::from_i64(5).mantissa_le_bytes();
        be.reverse();
        be[0] ^= 0x80;
        k.extend_from_slice(&be);
        k.extend_from_slice(&(1u128 << 127).to_be_bytes());
        assert!(decode_value(&mut k.as_slice()).is_err());
        // A fraction of 10^30 or more.
        let mut k = vec![DECIMAL];
        k.extend_from_slice(&(1u128 << 127).to_be_bytes());
        k.extend_from_slice(&((10u128.pow(30)) ^ (1 << 127)).to_be_bytes());
        assert!(decode_value(&mut k.as_slice()).is_err());
        // Cut short inside the wide integer.
        let wide = enc(&Value::decimal(Decimal::parse(&"9".repeat(65)).expect("lit")));
        for cut in 1..wide.len() {
            assert!(decode_value(&mut &wide[..cut]).is_err());
        }
    }

    #[test]
    fn null_sorts_first() {
        assert!(enc(&Value::Null) < enc(&Value::Int(i64::MIN)));
        assert!(enc(&Value::Null) < enc(&Value::text("")));
    }

    #[test]
    fn truncated_keys_are_errors() {
        let mut b: &[u8] = &[INT, 1, 2];
        assert!(decode_value(&mut b).is_err());
        let mut b: &[u8] = &[0x99];
        assert!(decode_value(&mut b).is_err());
    }
}
