//! JSON text: a strict RFC 8259 parser with the error reasons and byte
//! positions MySQL reports (its messages come from RapidJSON), and the
//! printer that writes MySQL's normalized form.
//!
//! Invariants:
//! 1. [`parse`] accepts exactly one value surrounded by optional whitespace
//!    (space, tab, CR, LF); it never panics and never recurses deeper than
//!    [`MAX_DEPTH`](super::MAX_DEPTH) + 1 frames.
//! 2. Integers that fit `i64` parse as `Int`, larger ones that fit `u64` as
//!    `UInt`, everything else (fraction, exponent, overflow) as `Double`.
//! 3. [`write`] separates with `", "` and `": "`, escapes `"`, `\` and
//!    control characters, and prints doubles with a fraction or exponent
//!    (`1.0`, `1e20`) so they read back as doubles.

use super::{object_insert, Json, JsonError, MAX_DEPTH};
use crate::value::format_double;

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

type Res<T> = Result<T, JsonError>;

fn err<T>(reason: &'static str, pos: usize) -> Res<T> {
    Err(JsonError::Syntax { reason, pos })
}

/// Parses a JSON document.
pub fn parse(s: &str) -> Result<Json, JsonError> {
    let mut p = Parser { b: s.as_bytes(), i: 0 };
    p.ws();
    if p.i >= p.b.len() {
        return err("The document is empty.", p.i);
    }
    let v = p.value(0)?;
    p.ws();
    if p.i < p.b.len() {
        return err("The document root must not be followed by other values.", p.i);
    }
    Ok(v)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Res<Json> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => err("Invalid value.", self.i),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Res<Json> {
        if self.b.get(self.i..self.i + word.len()) == Some(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            err("Invalid value.", self.i)
        }
    }

    fn object(&mut self, depth: usize) -> Res<Json> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                return err("Missing a name for object member.", self.i);
            }
            let k = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return err("Missing a colon after a name of object member.", self.i);
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            object_insert(&mut members, k, v);
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                _ => return err("Missing a comma or '}' after an object member.", self.i),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Res<Json> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return err("Missing a comma or ']' after an array element.", self.i),
            }
        }
    }

    fn hex4(&mut self, esc: usize) -> Res<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return err("Incorrect hex digit after \\u escape in string.", esc),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Res<String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = match self.peek() {
                None => return err("Missing a closing quotation mark in string.", self.i),
                Some(c) => c,
            };
            match c {
                b'"' => {
                    self.i += 1;
                    // The input was a &str and escapes add whole characters.
                    return String::from_utf8(out).or_else(|_| err("Invalid encoding in string.", self.i));
                }
                b'\\' => {
                    let esc = self.i;
                    self.i += 1;
                    let e = self.peek();
                    self.i += 1;
                    match e {
                        Some(b'"') => out.push(b'"'),
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'/') => out.push(b'/'),
                        Some(b'b') => out.push(8),
                        Some(b'f') => out.push(12),
                        Some(b'n') => out.push(b'\n'),
                        Some(b'r') => out.push(b'\r'),
                        Some(b't') => out.push(b'\t'),
                        Some(b'u') => {
                            let mut cp = self.hex4(esc)?;
                            if (0xD800..0xDC00).contains(&cp) {
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return err("The surrogate pair in string is invalid.", esc);
                                }
                                self.i += 2;
                                let lo = self.hex4(esc)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return err("The surrogate pair in string is invalid.", esc);
                                }
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            } else if (0xDC00..0xE000).contains(&cp) {
                                return err("The surrogate pair in string is invalid.", esc);
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return err("Invalid escape character in string.", esc),
                    }
                }
                c if c < 0x20 => return err("Invalid encoding in string.", self.i),
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn digits(&mut self) -> usize {
        let s = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - s
    }

    fn number(&mut self) -> Res<Json> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return err("Invalid value.", start),
        }
        let mut is_int = true;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return err("Miss fraction part in number.", self.i);
            }
            is_int = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return err("Miss exponent in number.", self.i);
            }
            is_int = false;
        }
        let text = std::str::from_utf8(self.b.get(start..self.i).unwrap_or(b"0")).unwrap_or("0");
        if is_int {
            if let Ok(v) = text.parse::<i64>() {
                return Ok(Json::Int(v));
            }
            if let Ok(v) = text.parse::<u64>() {
                return Ok(Json::UInt(v));
            }
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Json::Double(v)),
            _ => err("Number too big to be stored in double.", start),
        }
    }
}

/// Writes `s` as a quoted JSON string.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The text of a JSON double: MySQL's shortest form, with `.0` added to
/// integral values.
pub fn format_json_double(d: f64) -> String {
    let s = format_double(d);
    if s.contains(['.', 'e', 'n', 'N']) {
        s
    } else {
        s + ".0"
    }
}

/// Writes a scalar's text (strings quoted) or a container's.
pub fn write(j: &Json, out: &mut String) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(i) => out.push_str(&i.to_string()),
        Json::UInt(u) => out.push_str(&u.to_string()),
        Json::Double(d) => out.push_str(&format_json_double(*d)),
        Json::Decimal(d) => out.push_str(&d.to_string()),
        Json::String(s) => write_string(s, out),
        Json::Date(d) => {
            out.push('"');
            out.push_str(&d.to_string());
            out.push('"');
        }
        Json::DateTime(d) => {
            out.push('"');
            out.push_str(&d.format(6));
            out.push('"');
        }
        Json::Time(t) => {
            out.push('"');
            out.push_str(&t.format(6));
            out.push('"');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(v, out);
            }
            out.push(']');
        }
        Json::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, out);
                out.push_str(": ");
                write(v, out);
            }
            out.push('}');
        }
    }
}

/// JSON_PRETTY's form: two-space indentation, one member or element a line.
pub fn write_pretty(j: &Json, indent: usize, out: &mut String) {
    let pad = |n: usize, out: &mut String| out.extend(std::iter::repeat_n(' ', n));
    match j {
        Json::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pad(indent + 2, out);
                write_pretty(v, indent + 2, out);
            }
            out.push('\n');
            pad(indent, out);
            out.push(']');
        }
        Json::Object(o) if !o.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pad(indent + 2, out);
                write_string(k, out);
                out.push_str(": ");
                write_pretty(v, indent + 2, out);
            }
            out.push('\n');
            pad(indent, out);
            out.push('}');
        }
        other => write(other, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> (&'static str, usize) {
        match parse(s) {
            Err(JsonError::Syntax { reason, pos }) => (reason, pos),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn normalizes_like_mysql() {
        let j = parse(r#" { "b" : [1, 2.0, -3e2, 18446744073709551615], "a":"x\ny" } "#).unwrap();
        assert_eq!(j.to_text(), r#"{"a": "x\ny", "b": [1, 2.0, -300.0, 18446744073709551615]}"#);
    }

    #[test]
    fn errors_carry_mysql_reasons_and_positions() {
        assert_eq!(e(""), ("The document is empty.", 0));
        assert_eq!(e("[1,2"), ("Missing a comma or ']' after an array element.", 4));
        assert_eq!(e("{a}"), ("Missing a name for object member.", 1));
        assert_eq!(e("1 2"), ("The document root must not be followed by other values.", 2));
        assert_eq!(e("tru"), ("Invalid value.", 0));
        assert_eq!(e("1."), ("Miss fraction part in number.", 2));
        assert_eq!(e(r#""a\x""#), ("Invalid escape character in string.", 2));
    }

    #[test]
    fn depth_is_limited() {
        let deep = "[".repeat(101) + &"]".repeat(101);
        assert_eq!(parse(&deep), Err(JsonError::TooDeep));
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn surrogate_pairs_decode() {
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap(), Json::String("\u{1F600}".into()));
        assert!(parse(r#""\ud83d""#).is_err());
    }
}
