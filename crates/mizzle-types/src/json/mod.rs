//! JSON values as MySQL 8 defines them: the in-memory tree [`Json`], the
//! text parser and printer (`text`), the stored binary form (`binary`,
//! specified in `docs/format/json.md`) and path expressions (`path`).
//!
//! Invariants:
//! 1. An object's members are kept sorted by [`key_order`] (length first,
//!    then bytes, as MySQL stores them) with unique keys; a later duplicate
//!    replaces an earlier one (MySQL 8's "last duplicate key wins").
//! 2. Nesting is at most [`MAX_DEPTH`] levels; deeper documents are
//!    rejected with [`JsonError::TooDeep`] when parsed or decoded.
//! 3. Nothing here panics on any text or bytes: malformed input gives a
//!    [`JsonError`].
//!
//! This module does not know about SQL columns or functions; the SQL layer
//! wraps its errors with the argument or column they came from.

pub mod binary;
pub mod path;
pub mod text;

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use crate::datetime::{Date, DateTime, Time};
use crate::decimal::Decimal;

pub use binary::JsonRef;
pub use path::{JsonPath, PathLeg};

/// The deepest nesting MySQL accepts.
pub const MAX_DEPTH: usize = 100;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// A double.
    Double(f64),
    /// An exact decimal (from SQL DECIMAL values; JSON text numbers with a
    /// fraction parse as doubles, as in MySQL).
    Decimal(Decimal),
    /// A string.
    String(String),
    /// A DATE (from SQL values; text never parses to one).
    Date(Date),
    /// A DATETIME or TIMESTAMP.
    DateTime(DateTime),
    /// A TIME (from SQL values).
    Time(Time),
    /// An array.
    Array(Vec<Json>),
    /// An object, members sorted by [`key_order`] (invariant 1).
    Object(Vec<(String, Json)>),
}

/// The order MySQL keeps object keys in: shorter keys first, then bytewise.
pub fn key_order(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Errors of JSON text, paths and stored bytes, without the SQL context
/// (argument number, column) the caller adds.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Text that is not JSON: the parser's reason and byte position.
    Syntax { reason: &'static str, pos: usize },
    /// A path that does not parse; position of the error (1-based as MySQL
    /// reports it).
    Path { pos: usize },
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Stored bytes that are not a valid binary document.
    Corrupt,
}

impl Json {
    /// The nesting depth as JSON_DEPTH counts it (a scalar or empty
    /// container is 1).
    pub fn depth(&self) -> usize {
        match self {
            Json::Array(a) => 1 + a.iter().map(Json::depth).max().unwrap_or(0),
            Json::Object(o) => 1 + o.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 1,
        }
    }

    /// JSON_TYPE's name for the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "NULL",
            Json::Bool(_) => "BOOLEAN",
            Json::Int(_) => "INTEGER",
            Json::UInt(_) => "UNSIGNED INTEGER",
            Json::Double(_) => "DOUBLE",
            Json::Decimal(_) => "DECIMAL",
            Json::String(_) => "STRING",
            Json::Date(_) => "DATE",
            Json::DateTime(_) => "DATETIME",
            Json::Time(_) => "TIME",
            Json::Array(_) => "ARRAY",
            Json::Object(_) => "OBJECT",
        }
    }

    /// Looks a member up in an object.
    pub fn member(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => {
                m.binary_search_by(|(k, _)| key_order(k, key)).ok().and_then(|i| m.get(i)).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// Builds an object from members in any order; a later duplicate key
    /// replaces an earlier one.
    pub fn object(members: Vec<(String, Json)>) -> Json {
        let mut out: Vec<(String, Json)> = Vec::with_capacity(members.len());
        for (k, v) in members {
            object_insert(&mut out, k, v);
        }
        Json::Object(out)
    }

    /// The value as a double, for numeric contexts (non-numbers give `None`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Int(i) => Some(*i as f64),
            Json::UInt(u) => Some(*u as f64),
            Json::Double(d) => Some(*d),
            Json::Decimal(d) => Some(d.to_f64()),
            _ => None,
        }
    }

    /// True for the number kinds.
    pub fn is_number(&self) -> bool {
        matches!(self, Json::Int(_) | Json::UInt(_) | Json::Double(_) | Json::Decimal(_))
    }

    /// The text form (MySQL's: `", "` and `": "` separators).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        text::write(self, &mut s);
        s
    }
}

/// An SQL value as JSON the way `CAST(v AS JSON)` and storing into a JSON
/// column take it: strings are parsed as JSON text, JSON stays as it is,
/// other values convert ([`Value::to_json`](crate::Value::to_json)).
/// NULL gives `None`.
pub fn from_value(v: &crate::Value) -> Result<Option<Json>, JsonError> {
    match v {
        crate::Value::Null => Ok(None),
        crate::Value::Text(s) => text::parse(s).map(Some),
        crate::Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => text::parse(s).map(Some),
            Err(_) => Err(JsonError::Syntax { reason: "Invalid encoding in string.", pos: 0 }),
        },
        crate::Value::Json(b) => binary::decode(b).map(Some),
        other => Ok(other.to_json()),
    }
}

/// Inserts or replaces a member of a sorted member list (invariant 1).
pub fn object_insert(members: &mut Vec<(String, Json)>, key: String, value: Json) {
    match members.binary_search_by(|(k, _)| key_order(k, &key)) {
        Ok(i) => {
            if let Some(slot) = members.get_mut(i) {
                slot.1 = value;
            }
        }
        Err(i) => members.insert(i, (key, value)),
    }
}

/// The rank of a value's type in MySQL's JSON comparison (higher sorts later):
/// NULL < numbers < STRING < OBJECT < ARRAY < BOOLEAN < DATE < TIME <
/// DATETIME.
fn rank(j: &Json) -> u8 {
    match j {
        Json::Null => 0,
        Json::Int(_) | Json::UInt(_) | Json::Double(_) | Json::Decimal(_) => 1,
        Json::String(_) => 2,
        Json::Object(_) => 3,
        Json::Array(_) => 4,
        Json::Bool(_) => 5,
        Json::Date(_) => 6,
        Json::Time(_) => 7,
        Json::DateTime(_) => 8,
    }
}

fn num_cmp(a: &Json, b: &Json) -> Ordering {
    use Json::*;
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (UInt(x), UInt(y)) => x.cmp(y),
        (Int(x), UInt(y)) => (*x as i128).cmp(&(*y as i128)),
        (UInt(x), Int(y)) => (*x as i128).cmp(&(*y as i128)),
        (Decimal(x), Decimal(y)) => x.cmp(y),
        (Decimal(x), Int(y)) => x.cmp(&crate::Decimal::from_i64(*y)),
        (Int(x), Decimal(y)) => crate::Decimal::from_i64(*x).cmp(y),
        (Decimal(x), UInt(y)) => x.cmp(&crate::Decimal::from_u64(*y)),
        (UInt(x), Decimal(y)) => crate::Decimal::from_u64(*x).cmp(y),
        _ => {
            let x = a.as_f64().unwrap_or(0.0);
            let y = b.as_f64().unwrap_or(0.0);
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

/// MySQL's JSON comparison: by type rank first, then within the type
/// (numbers numerically, strings bytewise, arrays element by element and
/// then by length, objects by size and then member by member).
pub fn compare(a: &Json, b: &Json) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Json::String(x), Json::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Json::Bool(x), Json::Bool(y)) => x.cmp(y),
        (Json::Date(x), Json::Date(y)) => x.cmp(y),
        (Json::DateTime(x), Json::DateTime(y)) => x.cmp(y),
        (Json::Time(x), Json::Time(y)) => x.cmp(y),
        (Json::Array(x), Json::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = compare(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Json::Object(x), Json::Object(y)) => {
            let o = x.len().cmp(&y.len());
            if o != Ordering::Equal {
                return o;
            }
            for ((kx, vx), (ky, vy)) in x.iter().zip(y) {
                let o = key_order(kx, ky).then_with(|| compare(vx, vy));
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        }
        (Json::Null, Json::Null) => Ordering::Equal,
        _ => num_cmp(a, b),
    }
}

/// Hashes a value consistently with [`compare`] returning `Equal` (numbers
/// hash by their double value, so `1` and `1.0` hash alike).
pub fn hash_json<H: Hasher>(j: &Json, state: &mut H) {
    rank(j).hash(state);
    match j {
        Json::Null => {}
        Json::Bool(b) => b.hash(state),
        Json::String(s) => s.hash(state),
        Json::Date(d) => d.to_bits().hash(state),
        Json::DateTime(d) => d.to_bits().hash(state),
        Json::Time(t) => t.micros().hash(state),
        Json::Array(a) => {
            a.len().hash(state);
            for v in a {
                hash_json(v, state);
            }
        }
        Json::Object(o) => {
            o.len().hash(state);
            for (k, v) in o {
                k.hash(state);
                hash_json(v, state);
            }
        }
        other => {
            let f = other.as_f64().unwrap_or(0.0);
            let f = if f == 0.0 { 0.0 } else { f };
            f.to_bits().hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let j = Json::object(vec![("a".into(), Json::Int(1)), ("a".into(), Json::Int(2))]);
        assert_eq!(j.to_text(), r#"{"a": 2}"#);
    }

    #[test]
    fn keys_sort_by_length_then_bytes() {
        let j = Json::object(vec![("bb".into(), Json::Null), ("c".into(), Json::Null), ("a".into(), Json::Null)]);
        assert_eq!(j.to_text(), r#"{"a": null, "c": null, "bb": null}"#);
    }

    #[test]
    fn comparison_ranks_types() {
        assert_eq!(compare(&Json::Int(1), &Json::Double(1.0)), Ordering::Equal);
        assert_eq!(compare(&Json::Int(5), &Json::String("1".into())), Ordering::Less);
        assert_eq!(compare(&Json::Bool(false), &Json::Array(vec![])), Ordering::Greater);
        assert_eq!(compare(&Json::Null, &Json::Int(-5)), Ordering::Less);
    }
}
