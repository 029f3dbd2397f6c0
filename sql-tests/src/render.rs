//! Rendering one result cell as the text a test file expects, and the md5
//! of a list of values: `render`, `format_real` and `md5_values` of
//! `slt_run.py`, applied to the MySQL text bytes PyMySQL hands it with
//! `conv={}`.
//!
//! Invariants:
//! 1. NULL is `NULL` whatever the type. `T`: `(empty)` for no bytes, every
//!    byte outside 0x20..=0x7e becomes `@`.
//! 2. `I` and `R` read the numeric prefix matched by
//!    `\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)` on the lossily decoded
//!    text, where `\s` and `\d` are Python's Unicode classes. `I` prints
//!    Python's `int(p)` (arbitrary precision), else `int(float(p))` (the exact
//!    integer of the double; infinity gives 0); no prefix is 0. `R` prints
//!    `float(p)` with `%.3f`, or with 16 significant digits when `%.3f` would
//!    show more.
//! 3. Rendered values are ASCII, so comparing them as Rust strings orders
//!    them exactly as Python orders `str`.
//!
//! It does not parse SQL values by type: the text is all there is.

use md5::{Digest, Md5};

/// The characters Python's `str.isspace` (and so regex `\s`, `str.split`,
/// `str.rstrip`) treats as whitespace (Unicode 14, Python 3.11).
const PY_SPACES: [char; 29] = [
    '\u{9}', '\u{a}', '\u{b}', '\u{c}', '\u{d}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}', ' ', '\u{85}', '\u{a0}',
    '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}',
    '\u{2008}', '\u{2009}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// The first code point of every run of ten Unicode decimal digits (category
/// Nd, regex `\d`), which Python's `int()` and `float()` accept too.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0,
    0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
    0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0,
    0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// Python's `str.isspace` for one character.
pub(crate) fn is_py_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | '\u{1c}'..=' ')
    } else {
        PY_SPACES.contains(&c)
    }
}

/// The ASCII digit of a Unicode decimal digit, as Python's `int()` reads it.
fn decimal_digit(c: char) -> Option<char> {
    if c.is_ascii_digit() {
        return Some(c);
    }
    let code = u32::from(c);
    let run = DECIMAL_ZEROS.partition_point(|&zero| zero <= code).checked_sub(1)?;
    let offset = code - DECIMAL_ZEROS[run];
    (offset < 10).then(|| char::from(b'0' + u8::try_from(offset).expect("invariant: offset < 10")))
}

/// The numeric prefix of `text` (see invariant 2), digits made ASCII.
fn numeric_prefix(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = chars.iter().take_while(|&&c| is_py_space(c)).count();
    let mut out = String::new();
    let at = |i: usize| chars.get(i).copied();
    let digit_at = |i: usize| at(i).and_then(decimal_digit);
    if let Some(sign @ ('+' | '-')) = at(i) {
        out.push(sign);
        i += 1;
    }
    if digit_at(i).is_some() {
        while let Some(d) = digit_at(i) {
            out.push(d);
            i += 1;
        }
        if at(i) == Some('.') {
            out.push('.');
            i += 1;
            while let Some(d) = digit_at(i) {
                out.push(d);
                i += 1;
            }
        }
    } else if at(i) == Some('.') && digit_at(i + 1).is_some() {
        out.push('.');
        i += 1;
        while let Some(d) = digit_at(i) {
            out.push(d);
            i += 1;
        }
    } else {
        return None;
    }
    if let Some(e @ ('e' | 'E')) = at(i) {
        let mut j = i + 1;
        let mut exponent = String::from(e);
        if let Some(sign @ ('+' | '-')) = at(j) {
            exponent.push(sign);
            j += 1;
        }
        if digit_at(j).is_some() {
            while let Some(d) = digit_at(j) {
                exponent.push(d);
                j += 1;
            }
            out.push_str(&exponent);
        }
    }
    Some(out)
}

/// Renders one cell for the type character `ty` (`I`, `T` or `R`; the caller
/// has checked it).
pub(crate) fn render(cell: Option<&[u8]>, ty: char) -> String {
    let Some(bytes) = cell else {
        return "NULL".to_owned();
    };
    match ty {
        'T' if bytes.is_empty() => "(empty)".to_owned(),
        'T' => bytes.iter().map(|&b| if (0x20..=0x7e).contains(&b) { char::from(b) } else { '@' }).collect(),
        'I' => match numeric_prefix(&String::from_utf8_lossy(bytes)) {
            Some(p) => render_int(&p),
            None => "0".to_owned(),
        },
        'R' => {
            let real =
                numeric_prefix(&String::from_utf8_lossy(bytes)).and_then(|p| p.parse::<f64>().ok()).unwrap_or(0.0);
            format_real(real)
        }
        other => {
            unreachable!("invariant: type characters are checked before rendering, got {other:?}")
        }
    }
}

/// `int(p)`, or `int(float(p))` when `p` has a fraction or an exponent.
fn render_int(p: &str) -> String {
    if p.contains(['.', 'e', 'E']) {
        return match p.parse::<f64>() {
            Ok(real) if real.is_finite() => integer_of_float(real.trunc()),
            _ => "0".to_owned(),
        };
    }
    let (negative, digits) = match p.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, p.strip_prefix('+').unwrap_or(p)),
    };
    let digits = digits.trim_start_matches('0');
    match (digits.is_empty(), negative) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("-{digits}"),
        (false, false) => digits.to_owned(),
    }
}

/// The exact decimal text of an integer-valued finite double.
fn integer_of_float(value: f64) -> String {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if value.abs() < TWO_POW_63 {
        // In range and integer-valued: the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        return (value as i64).to_string();
    }
    // |value| >= 2^63: mantissa * 2^shift with shift > 0.
    let bits = value.to_bits();
    let exponent = i32::try_from((bits >> 52) & 0x7ff).expect("invariant: 11 bits");
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let shift = exponent - 1075;
    // Little-endian base-10^9 limbs.
    const BASE: u64 = 1_000_000_000;
    let mut limbs = vec![mantissa % BASE, (mantissa / BASE) % BASE, mantissa / BASE / BASE];
    for _ in 0..shift {
        let mut carry = 0;
        for limb in &mut limbs {
            let v = *limb * 2 + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::from(if value < 0.0 { "-" } else { "" });
    let mut iter = limbs.iter().rev();
    if let Some(top) = iter.next() {
        out.push_str(&top.to_string());
    }
    for limb in iter {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

/// `slt_run.py`'s `format_real`: `%.3f`, but with at most 16 significant
/// digits, the rest shown as zeros (as SQLite's own printf does).
pub(crate) fn format_real(real: f64) -> String {
    let fixed = format!("{real:.3}");
    if !real.is_finite() {
        return fixed;
    }
    let significant = fixed.trim_start_matches('-').chars().filter(|&c| c != '.').skip_while(|&c| c == '0').count();
    if significant <= 16 {
        return fixed;
    }
    // "{:.3f}".format(Decimal("%.15e" % r)): 16 digits times a power of ten.
    let scientific = format!("{real:.15e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("invariant: {:e} output has an exponent");
    let exponent: i32 = exponent.parse().expect("invariant: {:e} exponent is an integer");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    fixed3(negative, &digits, exponent - 15)
}

/// `digits * 10^scale` with exactly three decimals, rounding half to even
/// like Python's `Decimal` formatting.
fn fixed3(negative: bool, digits: &str, scale: i32) -> String {
    let mut digits = digits.to_owned();
    let fraction_len = if scale >= 0 {
        digits.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize + 3));
        3
    } else {
        scale.unsigned_abs() as usize
    };
    // Now value = digits * 10^-fraction_len.
    let mut fraction_len = fraction_len;
    if fraction_len < 3 {
        digits.extend(std::iter::repeat_n('0', 3 - fraction_len));
        fraction_len = 3;
    }
    if fraction_len > 3 {
        let cut = digits.len().saturating_sub(fraction_len - 3);
        let (kept, dropped) = digits.split_at(cut);
        let mut kept = kept.to_owned();
        let first = dropped.as_bytes().first().copied().unwrap_or(b'0');
        let beyond_half = dropped.bytes().skip(1).any(|b| b != b'0');
        let last_odd = kept.as_bytes().last().is_some_and(|b| (b - b'0') % 2 == 1);
        if first > b'5' || (first == b'5' && (beyond_half || last_odd)) {
            kept = increment_decimal(&kept);
        }
        digits = kept;
    }
    let width = digits.len().max(4);
    let padded = format!("{digits:0>width$}");
    let (int_part, frac_part) = padded.split_at(width - 3);
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    format!("{}{int_part}.{frac_part}", if negative { "-" } else { "" })
}

/// Adds one to a string of ASCII digits.
fn increment_decimal(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8(bytes).expect("invariant: ASCII digits");
        }
    }
    let mut out = String::from("1");
    out.push_str(&String::from_utf8(bytes).expect("invariant: ASCII digits"));
    out
}

/// The md5 hex digest of every value followed by `\n`.
pub(crate) fn md5_values<S: AsRef<str>>(values: &[S]) -> String {
    let mut hasher = Md5::new();
    for v in values {
        hasher.update(v.as_ref().as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Python's `int(token)` for a token without whitespace inside, saturated to
/// `i64`: an optional sign, then decimal digits, single underscores allowed
/// between digits. `None` where Python raises `ValueError`.
pub(crate) fn parse_py_int(token: &str) -> Option<i64> {
    let token = token.trim_matches(is_py_space);
    let (negative, body) = match token.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, token.strip_prefix('+').unwrap_or(token)),
    };
    let mut value: i64 = 0;
    let mut previous_was_digit = false;
    for c in body.chars() {
        if c == '_' && previous_was_digit {
            previous_was_digit = false;
            continue;
        }
        let digit = decimal_digit(c)?;
        let d = i64::from(u8::try_from(digit).ok()? - b'0');
        value = value.saturating_mul(10).saturating_add(d);
        previous_was_digit = true;
    }
    if !previous_was_digit {
        return None; // empty, or ends with '_'
    }
    Some(if negative { value.saturating_neg() } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input bytes, `render(v, "I")`, `render(v, "R")`) as printed by
    /// `slt_run.py` (Python 3.11) for the same bytes.
    const NUMERIC: &[(&[u8], &str, &str)] = &[
        (b"3", "3", "3.000"),
        (b"3.9", "3", "3.900"),
        (b"-3.9", "-3", "-3.900"),
        (b"abc", "0", "0.000"),
        (b"  12abc", "12", "12.000"),
        (b"1e20", "100000000000000000000", "100000000000000000000.000"),
        (b"99999999999999999999", "99999999999999999999", "100000000000000000000.000"),
        (b"+5", "5", "5.000"),
        (b"-0", "0", "-0.000"),
        (b"", "0", "0.000"),
        (b"-", "0", "0.000"),
        (b".5", "0", "0.500"),
        (b"-.5e1", "-5", "-5.000"),
        (b"1.e5", "100000", "100000.000"),
        (b"1e", "1", "1.000"),
        (b"1e+", "1", "1.000"),
        (b"1e400", "0", "inf"),
        (b"-1e400", "0", "-inf"),
        (b"123456789012345678901234567890.5", "123456789012345677877719597056", "123456789012345700000000000000.000"),
        (b"0x1A", "0", "0.000"),
        (b"\t\n 7", "7", "7.000"),
        (b"\xa0 8", "0", "0.000"),
        ("\u{663}\u{664}".as_bytes(), "34", "34.000"),
        ("\u{2003}-\u{661}.5".as_bytes(), "-1", "-1.500"),
        (b"\xff12", "0", "0.000"),
        (b"9223372036854775808", "9223372036854775808", "9223372036854776000.000"),
        (b"-9223372036854775809", "-9223372036854775809", "-9223372036854776000.000"),
        (b"1e19", "10000000000000000000", "10000000000000000000.000"),
        (b"-1e19", "-10000000000000000000", "-10000000000000000000.000"),
        (b"4.5e15", "4500000000000000", "4500000000000000.000"),
        (b"2.5", "2", "2.500"),
        (b"-2.5", "-2", "-2.500"),
        (b"0.0625", "0", "0.062"),
        (b"0.0005", "0", "0.001"),
        (b"0.0015", "0", "0.002"),
        (b"9999999999999.9995", "10000000000000", "10000000000000.000"),
        (b"10000000000000", "10000000000000", "10000000000000.000"),
        (b"-9223372036854775808", "-9223372036854775808", "-9223372036854776000.000"),
        (b"123456789012345.678", "123456789012345", "123456789012345.700"),
        (b"1234567890123.4567", "1234567890123", "1234567890123.457"),
        (b"3.5000", "3", "3.500"),
        (b"00012", "12", "12.000"),
        (b"1_000", "1", "1.000"),
        (b"NULL", "0", "0.000"),
        (b"1.5e-7", "0", "0.000"),
        (b"5e-324", "0", "0.000"),
        (b"12345678901234567890.123", "12345678901234567168", "12345678901234570000.000"),
        (b"0.1", "0", "0.100"),
        (b"-0.0004", "0", "-0.000"),
        (b"\x1c5", "5", "5.000"),
    ];

    #[test]
    fn integer_and_real_rendering_match_slt_run_py() {
        for (input, int, real) in NUMERIC {
            assert_eq!(render(Some(input), 'I'), *int, "I of {input:?}");
            assert_eq!(render(Some(input), 'R'), *real, "R of {input:?}");
        }
    }

    #[test]
    fn huge_doubles_render_as_their_exact_integer() {
        let max = b"1.7976931348623157e308";
        let expected_int = "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368";
        assert_eq!(render(Some(max), 'I'), expected_int);
        let expected_real = format!("1797693134862316{}.000", "0".repeat(293));
        assert_eq!(render(Some(max), 'R'), expected_real);
        let e300 = format!("1{}.000", "0".repeat(300));
        assert_eq!(render(Some(b"1e300"), 'R'), e300);
    }

    #[test]
    fn text_rendering_matches_slt_run_py() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "(empty)"),
            (b"abc", "abc"),
            (b"a b", "a b"),
            (b"\x01x\x7f", "@x@"),
            ("\u{e9}".as_bytes(), "@@"),
            (b"\t", "@"),
            (b"~ ", "~ "),
            (b"NULL", "NULL"),
        ];
        for (input, text) in cases {
            assert_eq!(render(Some(input), 'T'), *text, "T of {input:?}");
        }
    }

    #[test]
    fn null_renders_as_null_for_every_type() {
        for ty in ['I', 'T', 'R'] {
            assert_eq!(render(None, ty), "NULL");
        }
    }

    #[test]
    fn md5_of_values_matches_python_hashlib() {
        assert_eq!(md5_values(&["1", "2", "3"]), "c0710d6b4f15dfa88f600b0e6b624077");
        assert_eq!(md5_values::<&str>(&[]), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn python_whitespace_includes_file_separators_but_not_zero_width_space() {
        assert!(is_py_space('\u{1c}') && is_py_space('\u{85}') && is_py_space('\u{3000}'));
        assert!(!is_py_space('\u{200b}') && !is_py_space('a') && !is_py_space('\u{0}'));
    }

    #[test]
    fn py_int_accepts_underscores_signs_and_unicode_digits_only() {
        assert_eq!(parse_py_int("1_000"), Some(1000));
        assert_eq!(parse_py_int("-7"), Some(-7));
        assert_eq!(parse_py_int("+\u{663}"), Some(3));
        assert_eq!(parse_py_int("99999999999999999999999"), Some(i64::MAX));
        for bad in ["", "_1", "1_", "1__0", "1.0", "x", "-"] {
            assert_eq!(parse_py_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fixed3_rounds_half_to_even() {
        assert_eq!(fixed3(false, "12345", -4), "1.234");
        assert_eq!(fixed3(false, "12355", -4), "1.236");
        assert_eq!(fixed3(false, "123451", -5), "1.235");
        assert_eq!(fixed3(true, "9995", -4), "-1.000");
        assert_eq!(fixed3(false, "5", -4), "0.000");
        assert_eq!(fixed3(false, "12", 2), "1200.000");
    }
}
