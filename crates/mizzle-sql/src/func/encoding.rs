//! Number and byte encodings: HEX, UNHEX, CONV (with BIN and OCT),
//! TO_BASE64 and FROM_BASE64.
//!
//! Invariants:
//! 1. Strings (and dates, which MySQL treats as strings here) are encoded
//!    byte by byte; numbers are encoded as 64-bit integers, negative ones in
//!    two's complement, as MySQL does.
//! 2. Malformed input to a decoder (UNHEX, FROM_BASE64) and bases outside
//!    2..=36 give NULL without a warning, as in MySQL.
//! 3. CONV parses like C's `strtoull`: leading spaces, an optional sign, then
//!    the longest run of valid digits; overflow saturates.
//!
//! TO_BASE64 breaks lines every 76 characters, as MySQL's does.

use std::fmt::Write;

use mizzle_types::Value;

use super::convert;
use super::FuncCtx;

/// HEX(x): upper-case hex of a string's bytes or of a number as BIGINT.
pub(super) fn hex(v: &Value) -> Value {
    let n: u64 = match v {
        Value::Null => return Value::Null,
        Value::Text(_) | Value::Bytes(_) | Value::Date(_) | Value::DateTime(_) | Value::Time(_) | Value::Json(_) => {
            let mut s = String::new();
            for b in convert::bytes(v).iter() {
                let _ = write!(s, "{b:02X}");
            }
            return Value::text(&s);
        }
        // Negative numbers print as their two's complement, as in MySQL.
        Value::Int(i) => *i as u64,
        Value::UInt(u) => *u,
        Value::Decimal(d) => {
            let r = d.round_i128();
            match u64::try_from(r) {
                Ok(u) => u,
                Err(_) if r < 0 => i64::try_from(r).unwrap_or(i64::MIN) as u64,
                Err(_) => u64::MAX,
            }
        }
        Value::Float(_) | Value::Double(_) => {
            let f = v.to_f64().unwrap_or(0.0);
            // MySQL: out-of-range doubles print as ~0; others round half away
            // from zero (float-to-int `as` saturates, which the bounds make moot).
            if f <= i64::MIN as f64 || f >= u64::MAX as f64 {
                u64::MAX
            } else if f >= 0.0 {
                (f + 0.5) as u64
            } else {
                ((f - 0.5) as i64) as u64
            }
        }
    };
    Value::text(&format!("{n:X}"))
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// UNHEX(s): the bytes a hex string spells; NULL if it has a non-hex digit.
pub(super) fn unhex(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let src = convert::bytes(v);
    let mut digits = Vec::with_capacity(src.len() + 1);
    if src.len() % 2 == 1 {
        digits.push(b'0');
    }
    digits.extend_from_slice(&src);
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks_exact(2) {
        match (pair.first().copied().and_then(nibble), pair.get(1).copied().and_then(nibble)) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ => return Value::Null,
        }
    }
    Value::bytes(&out)
}

fn digit_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// `strtoull`/`strtoll` on `s` in `base` (2..=36): (negative, magnitude,
/// overflowed).
fn parse_radix(s: &[u8], base: u32) -> (bool, u64, bool) {
    let mut i = 0;
    while s.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).copied().and_then(digit_value).filter(|d| *d < base) {
        match v.checked_mul(u64::from(base)).and_then(|x| x.checked_add(u64::from(d))) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    (neg, if overflow { u64::MAX } else { v }, overflow)
}

fn to_radix(mut v: u64, base: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if v == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    let b = u64::from(base);
    while v > 0 {
        let d = usize::try_from(v % b).unwrap_or(0);
        out.push(DIGITS.get(d).copied().unwrap_or(b'0'));
        v /= b;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// CONV on text: `None` for a bad base or an empty string.
fn conv_text(s: &[u8], from: i64, to: i64) -> Option<String> {
    let from_base = u32::try_from(from.unsigned_abs()).ok().filter(|b| (2..=36).contains(b))?;
    let to_base = u32::try_from(to.unsigned_abs()).ok().filter(|b| (2..=36).contains(b))?;
    if s.is_empty() {
        return None;
    }
    let (neg, mag, overflow) = parse_radix(s, from_base);
    let value: u64 = if from < 0 {
        // Signed parse: saturate to the i64 range, then two's complement.
        let signed: i64 = match (neg, overflow || mag > i64::MAX as u64) {
            (false, true) => i64::MAX,
            (true, true) if mag == i64::MAX as u64 + 1 => i64::MIN,
            (true, true) => i64::MIN,
            (false, false) => mag as i64,
            (true, false) => -(mag as i64),
        };
        signed as u64
    } else if neg && !overflow {
        mag.wrapping_neg()
    } else {
        mag
    };
    // A negative target base prints the value as signed.
    let signed = value as i64;
    Some(if to < 0 && signed < 0 {
        format!("-{}", to_radix(signed.unsigned_abs(), to_base))
    } else {
        to_radix(value, to_base)
    })
}

/// CONV(n, from_base, to_base).
pub(super) fn conv(n: &Value, from: &Value, to: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if n.is_null() || from.is_null() || to.is_null() {
        return Value::Null;
    }
    let (Some(f), Some(t)) = (convert::int(from, ctx), convert::int(to, ctx)) else {
        return Value::Null;
    };
    match conv_text(&convert::bytes(n), f, t) {
        Some(s) => Value::text(&s),
        None => Value::Null,
    }
}

/// BIN(n) and OCT(n): CONV(n, 10, base).
pub(super) fn conv_fixed(n: &Value, base: i64) -> Value {
    if n.is_null() {
        return Value::Null;
    }
    match conv_text(&convert::bytes(n), 10, base) {
        Some(s) => Value::text(&s),
        None => Value::Null,
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// TO_BASE64(s).
pub(super) fn to_base64(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let src = convert::bytes(v);
    let mut out = String::with_capacity(src.len().div_ceil(3) * 4 + src.len() / 57 + 1);
    let mut line = 0;
    for chunk in src.chunks(3) {
        if line == 76 {
            out.push('\n');
            line = 0;
        }
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                let idx = usize::try_from((n >> (18 - 6 * k)) & 63).unwrap_or(0);
                out.push(char::from(B64.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
        line += 4;
    }
    Value::text(&out)
}

fn b64_value(c: u8) -> Option<u32> {
    B64.iter().position(|x| *x == c).and_then(|p| u32::try_from(p).ok())
}

/// FROM_BASE64(s): the decoded bytes; NULL for malformed input. Whitespace
/// is ignored, `=` may only pad the end.
pub(super) fn from_base64(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let src = convert::bytes(v);
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0usize);
    for &c in src.iter() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return Value::Null;
        }
        let Some(d) = b64_value(c) else {
            return Value::Null;
        };
        acc = (acc << 6) | d;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xFF).unwrap_or(0));
        }
    }
    if pad > 2 || bits >= 6 {
        return Value::Null;
    }
    Value::bytes(&out)
}
