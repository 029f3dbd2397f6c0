//! The stored binary form of a JSON document (specified byte by byte in
//! `docs/format/json.md`): a version byte, then one node. Containers carry
//! an offset table, so a path is followed by seeking, never by reparsing:
//! array element `i` is one table read, object member `k` a binary search
//! over keys kept in [`key_order`](super::key_order).
//!
//! Invariants:
//! 1. Every read is bounds-checked; damaged bytes give
//!    [`JsonError::Corrupt`], never a panic or an out-of-bounds read.
//! 2. A node's slice is exactly its bytes: a child's slice ends where the
//!    next child starts (or where the parent ends), so a child can be
//!    copied out as a document of its own without rewriting offsets.
//! 3. [`encode`] of [`decode`] output is byte-identical to the input for
//!    any document [`encode`] produced.
//!
//! This module does not parse text (see `text`) or evaluate paths (see
//! `path`).

use super::{Json, JsonError, MAX_DEPTH};
use crate::datetime::{Date, DateTime, Time};
use crate::decimal::{Decimal, MANTISSA_BYTES};

/// The format version, the first byte of every document.
pub const VERSION: u8 = 1;

/// Node type tags.
pub mod tag {
    /// `null`
    pub const NULL: u8 = 0x00;
    /// `false`
    pub const FALSE: u8 = 0x01;
    /// `true`
    pub const TRUE: u8 = 0x02;
    /// i64, 8 bytes
    pub const INT: u8 = 0x03;
    /// u64, 8 bytes
    pub const UINT: u8 = 0x04;
    /// f64, 8 bytes
    pub const DOUBLE: u8 = 0x05;
    /// u32 length + UTF-8 bytes
    pub const STRING: u8 = 0x06;
    /// i128 mantissa (16) + scale (1)
    pub const DECIMAL: u8 = 0x07;
    /// DATE bits, u32
    pub const DATE: u8 = 0x08;
    /// DATETIME bits, i64
    pub const DATETIME: u8 = 0x09;
    /// u32 count, u32 node size, count × u32 element offset
    pub const ARRAY: u8 = 0x0A;
    /// u32 count, u32 node size, count × u32 member offset; a member is
    /// u32 key length, key bytes, value node
    pub const OBJECT: u8 = 0x0B;
    /// TIME, i64 signed microseconds
    pub const TIME: u8 = 0x0C;
    /// A decimal whose mantissa does not fit an i128: 272-bit two's
    /// complement mantissa (34) + scale (1)
    pub const WIDE_DECIMAL: u8 = 0x0D;
}

const CORRUPT: JsonError = JsonError::Corrupt;

/// Encodes a value as a document (version byte + root node).
pub fn encode(j: &Json) -> Vec<u8> {
    let mut out = vec![VERSION];
    encode_node(j, &mut out);
    out
}

fn put_u32(out: &mut [u8], at: usize, v: usize) {
    // Documents are limited to u32 sizes by the row format's 4-byte offsets.
    let b = (v as u32).to_le_bytes();
    if let Some(s) = out.get_mut(at..at + 4) {
        s.copy_from_slice(&b);
    }
}

fn encode_node(j: &Json, out: &mut Vec<u8>) {
    match j {
        Json::Null => out.push(tag::NULL),
        Json::Bool(false) => out.push(tag::FALSE),
        Json::Bool(true) => out.push(tag::TRUE),
        Json::Int(i) => {
            out.push(tag::INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Json::UInt(u) => {
            out.push(tag::UINT);
            out.extend_from_slice(&u.to_le_bytes());
        }
        Json::Double(d) => {
            out.push(tag::DOUBLE);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Json::String(s) => {
            out.push(tag::STRING);
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Json::Decimal(d) => match d.mantissa_i128() {
            Some(m) => {
                out.push(tag::DECIMAL);
                out.extend_from_slice(&m.to_le_bytes());
                out.push(d.scale());
            }
            None => {
                out.push(tag::WIDE_DECIMAL);
                out.extend_from_slice(&d.mantissa_le_bytes());
                out.push(d.scale());
            }
        },
        Json::Date(d) => {
            out.push(tag::DATE);
            out.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Json::DateTime(d) => {
            out.push(tag::DATETIME);
            out.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Json::Time(t) => {
            out.push(tag::TIME);
            out.extend_from_slice(&t.micros().to_le_bytes());
        }
        Json::Array(items) => {
            let start = out.len();
            out.push(tag::ARRAY);
            out.extend_from_slice(&(items.len() as u32).to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            let table = out.len();
            out.resize(table + 4 * items.len(), 0);
            for (i, v) in items.iter().enumerate() {
                let off = out.len() - start;
                put_u32(out, table + 4 * i, off);
                encode_node(v, out);
            }
            let size = out.len() - start;
            put_u32(out, start + 5, size);
        }
        Json::Object(members) => {
            let start = out.len();
            out.push(tag::OBJECT);
            out.extend_from_slice(&(members.len() as u32).to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            let table = out.len();
            out.resize(table + 4 * members.len(), 0);
            for (i, (k, v)) in members.iter().enumerate() {
                let off = out.len() - start;
                put_u32(out, table + 4 * i, off);
                out.extend_from_slice(&(k.len() as u32).to_le_bytes());
                out.extend_from_slice(k.as_bytes());
                encode_node(v, out);
            }
            let size = out.len() - start;
            put_u32(out, start + 5, size);
        }
    }
}

/// A borrowed node of a binary document.
#[derive(Clone, Copy, Debug)]
pub struct JsonRef<'a> {
    node: &'a [u8],
}

fn u32_at(b: &[u8], at: usize) -> Result<usize, JsonError> {
    let s = b.get(at..at.checked_add(4).ok_or(CORRUPT)?).ok_or(CORRUPT)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

fn arr8(b: &[u8]) -> Result<[u8; 8], JsonError> {
    b.get(1..9).and_then(|s| <[u8; 8]>::try_from(s).ok()).ok_or(CORRUPT)
}

impl<'a> JsonRef<'a> {
    /// The root node of a document, after checking the version byte.
    pub fn from_doc(doc: &'a [u8]) -> Result<JsonRef<'a>, JsonError> {
        match doc.split_first() {
            Some((&VERSION, node)) => Ok(JsonRef { node }),
            _ => Err(CORRUPT),
        }
    }

    /// The node's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.node
    }

    /// The node as a document of its own (version byte + node; invariant 2).
    pub fn to_doc(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.node.len() + 1);
        v.push(VERSION);
        v.extend_from_slice(self.node);
        v
    }

    /// The node's type tag.
    pub fn tag(&self) -> Result<u8, JsonError> {
        self.node.first().copied().ok_or(CORRUPT)
    }

    /// The number of elements or members (0 for scalars).
    pub fn len(&self) -> Result<usize, JsonError> {
        match self.tag()? {
            tag::ARRAY | tag::OBJECT => {
                let n = u32_at(self.node, 1)?;
                // Each entry needs a 4-byte offset: a count larger than the
                // node can hold is damage.
                if n > self.node.len() / 4 {
                    return Err(CORRUPT);
                }
                Ok(n)
            }
            _ => Ok(0),
        }
    }

    /// True for a container with no entries or a scalar.
    pub fn is_empty(&self) -> Result<bool, JsonError> {
        Ok(self.len()? == 0)
    }

    /// The byte range of entry `i` of a container.
    fn entry(&self, i: usize) -> Result<&'a [u8], JsonError> {
        let n = self.len()?;
        let size = u32_at(self.node, 5)?;
        if size != self.node.len() || i >= n {
            return Err(CORRUPT);
        }
        let table = 9;
        let start = u32_at(self.node, table + 4 * i)?;
        let end = if i + 1 < n { u32_at(self.node, table + 4 * (i + 1))? } else { size };
        if start < table + 4 * n || start > end {
            return Err(CORRUPT);
        }
        self.node.get(start..end).ok_or(CORRUPT)
    }

    /// Array element `i`, or `None` past the end (or for a non-array).
    pub fn index(&self, i: usize) -> Result<Option<JsonRef<'a>>, JsonError> {
        if self.tag()? != tag::ARRAY || i >= self.len()? {
            return Ok(None);
        }
        Ok(Some(JsonRef { node: self.entry(i)? }))
    }

    /// Object member `i` (in key order).
    pub fn member_at(&self, i: usize) -> Result<(&'a str, JsonRef<'a>), JsonError> {
        if self.tag()? != tag::OBJECT {
            return Err(CORRUPT);
        }
        let e = self.entry(i)?;
        let klen = u32_at(e, 0)?;
        let kend = klen.checked_add(4).ok_or(CORRUPT)?;
        let key = std::str::from_utf8(e.get(4..kend).ok_or(CORRUPT)?).map_err(|_| CORRUPT)?;
        Ok((key, JsonRef { node: e.get(kend..).ok_or(CORRUPT)? }))
    }

    /// Object member `key` by binary search over the sorted keys.
    pub fn get(&self, key: &str) -> Result<Option<JsonRef<'a>>, JsonError> {
        if self.tag()? != tag::OBJECT {
            return Ok(None);
        }
        let (mut lo, mut hi) = (0, self.len()?);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, v) = self.member_at(mid)?;
            match super::key_order(k, key) {
                std::cmp::Ordering::Equal => return Ok(Some(v)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(None)
    }

    /// Decodes the node into a tree, checking it fully.
    pub fn to_json(&self) -> Result<Json, JsonError> {
        self.decode(0)
    }

    fn decode(&self, depth: usize) -> Result<Json, JsonError> {
        let b = self.node;
        let t = self.tag()?;
        let exact = |n: usize| if b.len() == n { Ok(()) } else { Err(CORRUPT) };
        Ok(match t {
            tag::NULL => {
                exact(1)?;
                Json::Null
            }
            tag::FALSE | tag::TRUE => {
                exact(1)?;
                Json::Bool(t == tag::TRUE)
            }
            tag::INT => {
                exact(9)?;
                Json::Int(i64::from_le_bytes(arr8(b)?))
            }
            tag::UINT => {
                exact(9)?;
                Json::UInt(u64::from_le_bytes(arr8(b)?))
            }
            tag::DOUBLE => {
                exact(9)?;
                let d = f64::from_le_bytes(arr8(b)?);
                if !d.is_finite() {
                    return Err(CORRUPT);
                }
                Json::Double(d)
            }
            tag::STRING => {
                let n = u32_at(b, 1)?;
                exact(n.checked_add(5).ok_or(CORRUPT)?)?;
                Json::String(std::str::from_utf8(b.get(5..).ok_or(CORRUPT)?).map_err(|_| CORRUPT)?.to_string())
            }
            tag::DECIMAL => {
                exact(18)?;
                let m = b.get(1..17).and_then(|s| <[u8; 16]>::try_from(s).ok()).ok_or(CORRUPT)?;
                let scale = *b.get(17).ok_or(CORRUPT)?;
                Json::Decimal(Decimal::new(i128::from_le_bytes(m), scale).ok_or(CORRUPT)?)
            }
            tag::WIDE_DECIMAL => {
                exact(MANTISSA_BYTES + 2)?;
                let m =
                    b.get(1..=MANTISSA_BYTES).and_then(|s| <[u8; MANTISSA_BYTES]>::try_from(s).ok()).ok_or(CORRUPT)?;
                let scale = *b.get(MANTISSA_BYTES + 1).ok_or(CORRUPT)?;
                Json::Decimal(Decimal::from_mantissa_le_bytes(m, scale).ok_or(CORRUPT)?)
            }
            tag::DATE => {
                exact(5)?;
                let s = b.get(1..5).and_then(|s| <[u8; 4]>::try_from(s).ok()).ok_or(CORRUPT)?;
                Json::Date(Date::from_bits(u32::from_le_bytes(s)).ok_or(CORRUPT)?)
            }
            tag::DATETIME => {
                exact(9)?;
                Json::DateTime(DateTime::from_bits(i64::from_le_bytes(arr8(b)?)).ok_or(CORRUPT)?)
            }
            tag::TIME => {
                exact(9)?;
                Json::Time(Time::from_micros(i64::from_le_bytes(arr8(b)?)).ok_or(CORRUPT)?)
            }
            tag::ARRAY => {
                if depth >= MAX_DEPTH {
                    return Err(JsonError::TooDeep);
                }
                let n = self.len()?;
                if n == 0 {
                    exact(9)?;
                }
                let mut items = Vec::with_capacity(n);
                for i in 0..n {
                    items.push(JsonRef { node: self.entry(i)? }.decode(depth + 1)?);
                }
                Json::Array(items)
            }
            tag::OBJECT => {
                if depth >= MAX_DEPTH {
                    return Err(JsonError::TooDeep);
                }
                let n = self.len()?;
                if n == 0 {
                    exact(9)?;
                }
                let mut members: Vec<(String, Json)> = Vec::with_capacity(n);
                for i in 0..n {
                    let (k, v) = self.member_at(i)?;
                    if let Some((prev, _)) = members.last() {
                        if super::key_order(prev, k) != std::cmp::Ordering::Less {
                            return Err(CORRUPT);
                        }
                    }
                    members.push((k.to_string(), v.decode(depth + 1)?));
                }
                Json::Object(members)
            }
            _ => return Err(CORRUPT),
        })
    }
}

/// Decodes a whole document.
pub fn decode(doc: &[u8]) -> Result<Json, JsonError> {
    JsonRef::from_doc(doc)?.to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::text::parse;
    use proptest::prelude::*;

    #[test]
    fn time_scalar_round_trips_and_prints_six_digits() {
        let t = Time::parse("-12:34:56.5").expect("lit");
        let doc = Json::Array(vec![Json::Time(t), Json::Int(1)]);
        let bytes = encode(&doc);
        assert_eq!(decode(&bytes).expect("decodes"), doc);
        assert_eq!(doc.to_text(), r#"["-12:34:56.500000", 1]"#);
        assert_eq!(Json::Time(t).type_name(), "TIME");
    }

    #[test]
    fn decimals_of_65_digits_round_trip() {
        let wide = Decimal::parse(&format!("-{}.5", "9".repeat(64))).expect("lit");
        let narrow = Decimal::parse("12.50").expect("lit");
        let doc = Json::Array(vec![Json::Decimal(wide), Json::Decimal(narrow)]);
        let bytes = encode(&doc);
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back.to_text(), doc.to_text());
        assert_eq!(back, doc);
        // A narrow decimal keeps its old 18-byte node.
        assert_eq!(encode(&Json::Decimal(narrow)).len(), 1 + 18);
        assert_eq!(encode(&Json::Decimal(wide)).len(), 1 + 2 + MANTISSA_BYTES);
    }

    #[test]
    fn example_document_from_the_spec() {
        // docs/format/json.md: {"a": [true, 7]}
        let bytes: Vec<u8> = vec![
            0x01, // version
            0x0B, 1, 0, 0, 0, 45, 0, 0, 0, // object: 1 member, 45 bytes
            13, 0, 0, 0, // member 0 at node offset 13
            1, 0, 0, 0, b'a', // key "a"
            0x0A, 2, 0, 0, 0, 27, 0, 0, 0, // array: 2 elements, 27 bytes
            17, 0, 0, 0, 18, 0, 0, 0,    // element offsets
            0x02, // true
            0x03, 7, 0, 0, 0, 0, 0, 0, 0, // int 7
        ];
        let j = parse(r#"{"a": [true, 7]}"#).unwrap();
        assert_eq!(encode(&j), bytes);
        assert_eq!(decode(&bytes).unwrap(), j);
        let root = JsonRef::from_doc(&bytes).unwrap();
        let a = root.get("a").unwrap().unwrap();
        assert_eq!(a.index(1).unwrap().unwrap().to_json().unwrap(), Json::Int(7));
    }

    #[test]
    fn lookups_seek_without_decoding() {
        let j = parse(r#"{"b": 2, "aa": {"x": [1, 2, 3]}, "c": "s"}"#).unwrap();
        let doc = encode(&j);
        let root = JsonRef::from_doc(&doc).unwrap();
        assert_eq!(root.get("c").unwrap().unwrap().to_json().unwrap(), Json::String("s".into()));
        assert!(root.get("zz").unwrap().is_none());
        let x = root.get("aa").unwrap().unwrap().get("x").unwrap().unwrap();
        assert_eq!(x.index(2).unwrap().unwrap().to_json().unwrap(), Json::Int(3));
        assert!(x.index(3).unwrap().is_none());
        // A child is a document of its own (invariant 2).
        assert_eq!(decode(&x.to_doc()).unwrap().to_text(), "[1, 2, 3]");
    }

    #[test]
    fn damaged_bytes_are_errors_not_panics() {
        let j = parse(r#"{"k": [1, "two", 3.5, null, {"z": false}], "n": 18446744073709551615}"#).unwrap();
        let doc = encode(&j);
        for cut in 0..doc.len() {
            assert!(decode(&doc[..cut]).is_err(), "truncated at {cut}");
        }
        for i in 0..doc.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut d = doc.clone();
                d[i] ^= flip;
                let _ = decode(&d);
                if let Ok(r) = JsonRef::from_doc(&d) {
                    let _ = r.get("k").map(|k| k.map(|k| k.index(4)));
                }
            }
        }
        assert_eq!(decode(&[2, 0]), Err(JsonError::Corrupt));
        assert_eq!(decode(&[1, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 9, 0, 0, 0]), Err(JsonError::Corrupt));
    }

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::Int),
            (i64::MAX as u64 + 1..=u64::MAX).prop_map(Json::UInt),
            (-1e300f64..1e300).prop_map(Json::Double),
            ".{0,8}".prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                prop::collection::vec(("[a-z]{0,3}", inner), 0..6).prop_map(Json::object),
            ]
        })
    }

    proptest! {
        #[test]
        fn encode_decode_round_trips(j in arb_json()) {
            let doc = encode(&j);
            let back = decode(&doc).unwrap();
            prop_assert_eq!(&back, &j);
            prop_assert_eq!(encode(&back), doc);
            // The text form reads back to the same value.
            prop_assert_eq!(crate::json::text::parse(&j.to_text()).unwrap(), j);
        }
    }
}
