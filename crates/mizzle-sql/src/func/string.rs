//! String functions: lengths, CONCAT, case, SUBSTRING and friends, padding,
//! searching, FIELD/ELT/FIND_IN_SET, INSERT, QUOTE and CHAR.
//!
//! Invariants:
//! 1. Character strings are handled by code point, binary strings by byte:
//!    each function body is written once over a unit type (`char` or `u8`)
//!    and the `by_mode!` macro instantiates it for the mode the arguments
//!    ask for. Numbers and dates are read in their MySQL text form.
//! 2. A function returns a binary string exactly when one of the arguments
//!    its result is made of is binary; `return_type` checks the same
//!    argument positions on types that `eval` checks on values.
//! 3. No result grows past `max_allowed_packet` (64 MiB): such calls give
//!    NULL with a warning instead of allocating.
//!
//! Comparisons use the binary collation (code point order); this module
//! does not know other collations.

use std::sync::Arc;

use mizzle_types::{ErrorCode, SqlType, Value, ValueKind};

use super::convert::{self, is_binary, is_binary_type};
use super::{FuncCtx, ScalarFunc};

/// MySQL's default `max_allowed_packet`, the largest string a function builds.
pub(super) const MAX_PACKET: usize = 67_108_864;

/// NULL with MySQL's warning for a result over `max_allowed_packet`.
/// MySQL uses ER_WARN_ALLOWED_PACKET_OVERFLOWED (1301), which the error
/// table lacks; the closest entry is ER_NET_PACKET_TOO_LARGE.
pub(super) fn too_large(ctx: &mut FuncCtx<'_>, func: &str) -> Value {
    ctx.warn(
        ErrorCode::PacketTooLarge,
        format!("Result of {func}() was larger than max_allowed_packet ({MAX_PACKET}) - truncated"),
    );
    Value::Null
}

fn chars_of(v: &Value) -> Vec<char> {
    convert::text(v).chars().collect()
}

fn bytes_of(v: &Value) -> Vec<u8> {
    convert::bytes(v).into_owned()
}

fn from_chars(u: Vec<char>) -> Value {
    Value::text(&u.into_iter().collect::<String>())
}

fn from_bytes(u: Vec<u8>) -> Value {
    Value::Bytes(Arc::from(u))
}

/// Runs `$body` with `$units` (value -> units) and `$wrap` (units -> value)
/// bound for bytes when `$bin` holds and for code points otherwise.
macro_rules! by_mode {
    ($bin:expr, |$units:ident, $wrap:ident| $body:expr) => {
        if $bin {
            let $units = bytes_of;
            let $wrap = from_bytes;
            $body
        } else {
            let $units = chars_of;
            let $wrap = from_chars;
            $body
        }
    };
}

fn any_binary(vals: &[&Value]) -> bool {
    vals.iter().any(|v| is_binary(v))
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `usize` from a non-negative `i64` known to be within a slice length.
fn idx(i: i64) -> usize {
    usize::try_from(i).unwrap_or(0)
}

/// Result types of the string-building functions (see invariant 2).
pub(super) fn return_type(f: ScalarFunc, args: &[SqlType]) -> SqlType {
    let at = |positions: &[usize]| positions.iter().any(|i| args.get(*i).copied().is_some_and(is_binary_type));
    let binary = match f {
        ScalarFunc::Concat | ScalarFunc::ConcatWs => args.iter().copied().any(is_binary_type),
        ScalarFunc::Elt => args.iter().skip(1).copied().any(is_binary_type),
        ScalarFunc::Upper
        | ScalarFunc::Lower
        | ScalarFunc::Substring
        | ScalarFunc::Left
        | ScalarFunc::Right
        | ScalarFunc::Trim
        | ScalarFunc::Ltrim
        | ScalarFunc::Rtrim
        | ScalarFunc::Repeat
        | ScalarFunc::Reverse => at(&[0]),
        ScalarFunc::Replace => at(&[0, 1, 2]),
        ScalarFunc::Lpad | ScalarFunc::Rpad => at(&[0, 2]),
        ScalarFunc::Insert => at(&[0, 3]),
        ScalarFunc::SubstringIndex => at(&[0, 1]),
        // A binary string's quoted form is binary too (its bytes are never
        // read as text).
        ScalarFunc::Quote => at(&[0]),
        // SPACE always gives a character string.
        _ => false,
    };
    if binary {
        SqlType::LONGBLOB
    } else {
        SqlType::LONGTEXT
    }
}

/// LENGTH (`bits` = 1) and BIT_LENGTH (`bits` = 8).
pub(super) fn length(v: &Value, bits: i64) -> Value {
    let n = match v {
        Value::Null => return Value::Null,
        Value::Text(s) => s.len(),
        Value::Bytes(b) => b.len(),
        other => other.to_text_lossy().len(),
    };
    Value::Int(len_i64(n).saturating_mul(bits))
}

/// CHAR_LENGTH: code points, or bytes for a binary string.
pub(super) fn char_length(v: &Value) -> Value {
    let n = match v {
        Value::Null => return Value::Null,
        Value::Bytes(b) => b.len(),
        other => convert::text(other).chars().count(),
    };
    Value::Int(len_i64(n))
}

/// CONCAT: NULL if any argument is NULL.
pub(super) fn concat(args: &[Value]) -> Value {
    if args.iter().any(Value::is_null) {
        return Value::Null;
    }
    if args.iter().any(is_binary) {
        let mut out = Vec::new();
        for a in args {
            out.extend_from_slice(&convert::bytes(a));
        }
        from_bytes(out)
    } else {
        let mut out = String::new();
        for a in args {
            out.push_str(&convert::text(a));
        }
        Value::text(&out)
    }
}

/// CONCAT_WS: NULL separator gives NULL, NULL arguments are skipped.
pub(super) fn concat_ws(args: &[Value]) -> Value {
    let Some((sep, rest)) = args.split_first() else {
        return Value::Null;
    };
    if sep.is_null() {
        return Value::Null;
    }
    let parts = rest.iter().filter(|v| !v.is_null());
    if args.iter().any(is_binary) {
        let sep = convert::bytes(sep);
        let mut out = Vec::new();
        for (i, a) in parts.enumerate() {
            if i > 0 {
                out.extend_from_slice(&sep);
            }
            out.extend_from_slice(&convert::bytes(a));
        }
        from_bytes(out)
    } else {
        let sep = convert::text(sep);
        let mut out = String::new();
        for (i, a) in parts.enumerate() {
            if i > 0 {
                out.push_str(&sep);
            }
            out.push_str(&convert::text(a));
        }
        Value::text(&out)
    }
}

/// A one-to-one case mapping: characters whose full mapping has several
/// code points (`ß` -> `SS`) stay as they are, as in MySQL.
fn simple_case(c: char, upper: bool) -> char {
    let mut m: Box<dyn Iterator<Item = char>> =
        if upper { Box::new(c.to_uppercase()) } else { Box::new(c.to_lowercase()) };
    match (m.next(), m.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// UPPER (`upper`) and LOWER; binary strings are returned unchanged.
pub(super) fn change_case(v: &Value, upper: bool) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bytes(b) => Value::Bytes(b.clone()),
        other => {
            let s: String = convert::text(other).chars().map(|c| simple_case(c, upper)).collect();
            Value::text(&s)
        }
    }
}

/// The units of `s` from 1-based `pos` (negative: from the end) for `len` units.
fn substr<T>(s: &[T], pos: i64, len: Option<i64>) -> &[T] {
    let n = len_i64(s.len());
    let start = match pos {
        0 => return &[],
        p if p > 0 => p - 1,
        p => n + p,
    };
    if start < 0 || start >= n {
        return &[];
    }
    let avail = n - start;
    let take = match len {
        None => avail,
        Some(l) if l <= 0 => return &[],
        Some(l) => l.min(avail),
    };
    s.get(idx(start)..idx(start + take)).unwrap_or(&[])
}

/// SUBSTRING(s, pos[, len]).
pub(super) fn substring(s: &Value, pos: &Value, len: Option<&Value>, ctx: &mut FuncCtx<'_>) -> Value {
    if s.is_null() || len.is_some_and(Value::is_null) {
        return Value::Null;
    }
    let Some(p) = convert::int(pos, ctx) else {
        return Value::Null;
    };
    let l = match len {
        Some(l) => convert::int(l, ctx),
        None => None,
    };
    by_mode!(is_binary(s), |units, wrap| {
        let u = units(s);
        wrap(substr(&u, p, l).to_vec())
    })
}

/// LEFT (`left`) and RIGHT.
pub(super) fn left_right(s: &Value, n: &Value, left: bool, ctx: &mut FuncCtx<'_>) -> Value {
    if s.is_null() {
        return Value::Null;
    }
    let Some(n) = convert::int(n, ctx) else {
        return Value::Null;
    };
    by_mode!(is_binary(s), |units, wrap| {
        let u = units(s);
        let len = len_i64(u.len());
        let take = idx(n.clamp(0, len));
        let part = if left { u.get(..take) } else { u.get(u.len() - take..) };
        wrap(part.unwrap_or(&[]).to_vec())
    })
}

/// TRIM, LTRIM (`lead` only) and RTRIM (`trail` only): spaces only.
pub(super) fn trim(v: &Value, lead: bool, trail: bool) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bytes(b) => {
            let mut s: &[u8] = b;
            if lead {
                while let [b' ', rest @ ..] = s {
                    s = rest;
                }
            }
            if trail {
                while let [rest @ .., b' '] = s {
                    s = rest;
                }
            }
            Value::bytes(s)
        }
        other => {
            let t = convert::text(other);
            let mut s: &str = &t;
            if lead {
                s = s.trim_start_matches(' ');
            }
            if trail {
                s = s.trim_end_matches(' ');
            }
            Value::text(s)
        }
    }
}

/// Start offsets of the non-overlapping occurrences of `needle`, left to right.
fn occurrences<T: PartialEq>(hay: &[T], needle: &[T]) -> Vec<usize> {
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return out;
    }
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if hay.get(i..i + needle.len()) == Some(needle) {
            out.push(i);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out
}

/// The first occurrence of `needle` at or after `from`.
fn find_from<T: PartialEq>(hay: &[T], needle: &[T], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return (from <= hay.len()).then_some(from);
    }
    let last = hay.len().checked_sub(needle.len())?;
    (from..=last).find(|&i| hay.get(i..i + needle.len()) == Some(needle))
}

/// `s` with every occurrence of `from` replaced by `to`; `None` past `limit` units.
fn replace_units<T: PartialEq + Copy>(s: &[T], from: &[T], to: &[T], limit: usize) -> Option<Vec<T>> {
    let hits = occurrences(s, from);
    let grown = s.len().saturating_add(hits.len().saturating_mul(to.len()));
    if grown > limit {
        return None;
    }
    let mut out = Vec::with_capacity(grown);
    let mut last = 0;
    for h in hits {
        out.extend_from_slice(s.get(last..h).unwrap_or(&[]));
        out.extend_from_slice(to);
        last = h + from.len();
    }
    out.extend_from_slice(s.get(last..).unwrap_or(&[]));
    Some(out)
}

/// REPLACE(s, from, to): case-sensitive; an empty `from` changes nothing.
pub(super) fn replace(s: &Value, from: &Value, to: &Value) -> Value {
    if s.is_null() || from.is_null() || to.is_null() {
        return Value::Null;
    }
    by_mode!(any_binary(&[s, from, to]), |units, wrap| {
        match replace_units(&units(s), &units(from), &units(to), MAX_PACKET) {
            Some(r) => wrap(r),
            // Inputs already inside one packet can only grow past it through
            // the replacement; MySQL gives NULL then, as here.
            None => Value::Null,
        }
    })
}

/// REPEAT(s, n).
pub(super) fn repeat(s: &Value, n: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if s.is_null() {
        return Value::Null;
    }
    let Some(n) = convert::int(n, ctx) else {
        return Value::Null;
    };
    let count = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    let b = convert::bytes(s);
    if b.len().saturating_mul(count) > MAX_PACKET {
        return too_large(ctx, "repeat");
    }
    if is_binary(s) {
        from_bytes(b.repeat(count))
    } else {
        Value::text(&convert::text(s).repeat(count))
    }
}

/// REVERSE(s).
pub(super) fn reverse(s: &Value) -> Value {
    if s.is_null() {
        return Value::Null;
    }
    by_mode!(is_binary(s), |units, wrap| {
        let mut u = units(s);
        u.reverse();
        wrap(u)
    })
}

/// `s` padded with `pad` (or cut) to `len` units; `None` if padding is
/// needed and `pad` is empty.
fn pad_units<T: Copy>(s: &[T], len: usize, pad: &[T], left: bool) -> Option<Vec<T>> {
    if len <= s.len() {
        return Some(s.get(..len).unwrap_or(s).to_vec());
    }
    if pad.is_empty() {
        return None;
    }
    let fill: Vec<T> = pad.iter().copied().cycle().take(len - s.len()).collect();
    let mut out = Vec::with_capacity(len);
    if left {
        out.extend_from_slice(&fill);
        out.extend_from_slice(s);
    } else {
        out.extend_from_slice(s);
        out.extend_from_slice(&fill);
    }
    Some(out)
}

/// LPAD (`left`) and RPAD: negative lengths and empty pads give NULL.
pub(super) fn pad(s: &Value, len: &Value, padding: &Value, left: bool, ctx: &mut FuncCtx<'_>) -> Value {
    if s.is_null() || padding.is_null() {
        return Value::Null;
    }
    let Some(n) = convert::int(len, ctx) else {
        return Value::Null;
    };
    let Ok(n) = usize::try_from(n) else {
        return Value::Null;
    };
    let binary = any_binary(&[s, padding]);
    let pad_bytes = convert::bytes(padding).len();
    by_mode!(binary, |units, wrap| {
        let (su, pu) = (units(s), units(padding));
        if n > su.len() && !pu.is_empty() {
            // Bytes per pad unit, rounded up, bound the size of the fill.
            let per_unit = pad_bytes.div_ceil(pu.len()).max(1);
            if (n - su.len()).saturating_mul(per_unit) > MAX_PACKET {
                return too_large(ctx, if left { "lpad" } else { "rpad" });
            }
        }
        match pad_units(&su, n, &pu, left) {
            Some(r) => wrap(r),
            None => Value::Null,
        }
    })
}

/// LOCATE(sub, s[, pos]) and INSTR(s, sub): 1-based position or 0.
pub(super) fn locate(sub: &Value, s: &Value, pos: Option<&Value>, ctx: &mut FuncCtx<'_>) -> Value {
    if sub.is_null() || s.is_null() {
        return Value::Null;
    }
    let start = match pos {
        Some(p) => match convert::int(p, ctx) {
            Some(p) => p.saturating_sub(1),
            None => return Value::Null,
        },
        None => 0,
    };
    by_mode!(any_binary(&[sub, s]), |units, _wrap| {
        let (hay, needle) = (units(s), units(sub));
        if start < 0 || start > len_i64(hay.len()) {
            return Value::Int(0);
        }
        match find_from(&hay, &needle, idx(start)) {
            Some(i) => Value::Int(len_i64(i) + 1),
            None => Value::Int(0),
        }
    })
}

/// ASCII(s): the first byte, 0 for an empty string.
pub(super) fn ascii(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    Value::Int(i64::from(convert::bytes(v).first().copied().unwrap_or(0)))
}

/// ORD(s): the bytes of the first character as a big-endian number.
pub(super) fn ord(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bytes(b) => Value::Int(i64::from(b.first().copied().unwrap_or(0))),
        other => {
            let t = convert::text(other);
            let mut n: i64 = 0;
            if let Some(c) = t.chars().next() {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    n = n * 256 + i64::from(b);
                }
            }
            Value::Int(n)
        }
    }
}

/// CHAR(n, ...): each number's low 32 bits as big-endian bytes without
/// leading zero bytes; NULLs are skipped.
pub(super) fn char_fn(args: &[Value], ctx: &mut FuncCtx<'_>) -> Value {
    let mut out = Vec::new();
    for a in args {
        let Some(i) = convert::int(a, ctx) else {
            continue;
        };
        let n = u32::try_from(i & 0xFFFF_FFFF).unwrap_or(0);
        let be = n.to_be_bytes();
        let skip = be.iter().take(3).take_while(|b| **b == 0).count();
        out.extend_from_slice(be.get(skip..).unwrap_or(&be));
    }
    from_bytes(out)
}

/// SPACE(n).
pub(super) fn space(n: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    let Some(n) = convert::int(n, ctx) else {
        return Value::Null;
    };
    let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    if n > MAX_PACKET {
        return too_large(ctx, "space");
    }
    Value::text(&" ".repeat(n))
}

/// STRCMP(a, b): -1, 0 or 1 in code point (byte) order.
pub(super) fn strcmp(a: &Value, b: &Value) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    Value::Int(match convert::bytes(a).cmp(&convert::bytes(b)) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
}

fn is_stringish(v: &Value) -> bool {
    matches!(v.kind(), ValueKind::Text | ValueKind::Bytes | ValueKind::Date | ValueKind::DateTime)
}

/// FIELD(s, s1, ...): index of the first `si` equal to `s`, else 0. All
/// strings compare as strings, all numbers as numbers, a mix as doubles.
pub(super) fn field(args: &[Value], ctx: &mut FuncCtx<'_>) -> Value {
    let Some((needle, list)) = args.split_first() else {
        return Value::Int(0);
    };
    if needle.is_null() {
        return Value::Int(0);
    }
    let present = || args.iter().filter(|v| !v.is_null());
    let all_strings = present().all(is_stringish);
    let all_numbers = present().all(Value::is_numeric);
    let target = if all_strings || all_numbers { None } else { convert::double(needle, ctx) };
    for (i, v) in list.iter().enumerate() {
        if v.is_null() {
            continue;
        }
        let equal = if all_strings {
            convert::bytes(v) == convert::bytes(needle)
        } else if all_numbers {
            v.sql_eq(needle) == Some(true)
        } else {
            let d = convert::double(v, ctx);
            d.is_some() && d == target
        };
        if equal {
            return Value::Int(len_i64(i) + 1);
        }
    }
    Value::Int(0)
}

/// ELT(n, s1, ...): the n-th string, NULL when out of range.
pub(super) fn elt(args: &[Value], ctx: &mut FuncCtx<'_>) -> Value {
    let Some((n, list)) = args.split_first() else {
        return Value::Null;
    };
    let Some(n) = convert::int(n, ctx) else {
        return Value::Null;
    };
    let chosen = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)).and_then(|i| list.get(i));
    match chosen {
        None | Some(Value::Null) => Value::Null,
        Some(v) if list.iter().any(is_binary) => from_bytes(convert::bytes(v).into_owned()),
        Some(v) => Value::text(&convert::text(v)),
    }
}

/// FIND_IN_SET(s, list): 1-based position of `s` in a comma-separated list.
pub(super) fn find_in_set(s: &Value, list: &Value) -> Value {
    if s.is_null() || list.is_null() {
        return Value::Null;
    }
    let (needle, hay) = (convert::bytes(s), convert::bytes(list));
    if hay.is_empty() || needle.contains(&b',') {
        return Value::Int(0);
    }
    match hay.split(|b| *b == b',').position(|part| part == needle.as_ref()) {
        Some(i) => Value::Int(len_i64(i) + 1),
        None => Value::Int(0),
    }
}

/// INSERT(s, pos, len, new): `s` with `len` units from `pos` replaced.
pub(super) fn insert(s: &Value, pos: &Value, len: &Value, new: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if s.is_null() || new.is_null() {
        return Value::Null;
    }
    let (Some(p), Some(l)) = (convert::int(pos, ctx), convert::int(len, ctx)) else {
        return Value::Null;
    };
    by_mode!(any_binary(&[s, new]), |units, wrap| {
        let u = units(s);
        let n = len_i64(u.len());
        if p < 1 || p > n {
            return wrap(u);
        }
        let start = p - 1;
        let l = if l < 0 || l > n - start { n - start } else { l };
        let mut out = u.get(..idx(start)).unwrap_or(&[]).to_vec();
        out.extend(units(new));
        out.extend_from_slice(u.get(idx(start + l)..).unwrap_or(&[]));
        wrap(out)
    })
}

/// QUOTE(s): a quoted SQL literal; NULL gives the word NULL; a binary
/// string gives a binary string (its bytes are never read as text).
pub(super) fn quote(v: &Value) -> Value {
    if v.is_null() {
        return Value::text("NULL");
    }
    if let Value::Bytes(b) = v {
        let mut out = vec![b'\''];
        for &c in b.iter() {
            match c {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\'' => out.extend_from_slice(b"\\'"),
                0 => out.extend_from_slice(b"\\0"),
                0x1a => out.extend_from_slice(b"\\Z"),
                c => out.push(c),
            }
        }
        out.push(b'\'');
        return from_bytes(out);
    }
    let mut out = String::from("'");
    for c in convert::text(v).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            '\u{1a}' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Value::text(&out)
}

/// SUBSTRING_INDEX(s, delim, count).
pub(super) fn substring_index(s: &Value, delim: &Value, count: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if s.is_null() || delim.is_null() {
        return Value::Null;
    }
    let Some(count) = convert::int(count, ctx) else {
        return Value::Null;
    };
    by_mode!(any_binary(&[s, delim]), |units, wrap| {
        let (u, d) = (units(s), units(delim));
        if d.is_empty() || count == 0 {
            return wrap(Vec::new());
        }
        let hits = occurrences(&u, &d);
        let k = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        let part = if count > 0 {
            match hits.get(k - 1) {
                Some(&h) => u.get(..h),
                None => Some(&u[..]),
            }
        } else {
            match hits.len().checked_sub(k).and_then(|i| hits.get(i)) {
                Some(&h) => u.get(h + d.len()..),
                None => Some(&u[..]),
            }
        };
        wrap(part.unwrap_or(&[]).to_vec())
    })
}
