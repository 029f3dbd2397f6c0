//! JSON path expressions (`$.a[1].*`, `$**.b`, `$[last-1]`, `$[1 to 3]`):
//! parsing with MySQL's error positions and evaluation over either the tree
//! ([`Json`]) or the stored bytes ([`JsonRef`]) through [`PathNode`].
//!
//! Invariants:
//! 1. A parsed path never ends with `**` (MySQL rejects it).
//! 2. Evaluation returns matches in document order; `**` visits a value
//!    before its descendants, and a value reached twice is returned once
//!    per distinct position.
//! 3. An array index applied to a non-array selects the value itself when
//!    it resolves to position 0 (MySQL's auto-wrapping), nothing otherwise.
//!
//! This module does not change documents; the SQL functions that do
//! (JSON_SET ...) use [`JsonPath::legs`] with [`locate_mut`].

use super::binary::tag;
use super::{Json, JsonError, JsonRef};

/// An array position: counted from the start or back from `last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrayIndex {
    /// `n`
    FromStart(u64),
    /// `last - n`
    FromLast(u64),
}

impl ArrayIndex {
    /// The position in an array of `len` elements (`None` before the start).
    pub fn resolve(self, len: usize) -> Option<usize> {
        match self {
            ArrayIndex::FromStart(n) => usize::try_from(n).ok(),
            ArrayIndex::FromLast(n) => {
                (len as u64).checked_sub(1)?.checked_sub(n).and_then(|v| usize::try_from(v).ok())
            }
        }
    }
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathLeg {
    /// `.key` / `."key"`
    Member(String),
    /// `.*`
    MemberWildcard,
    /// `[n]` / `[last-n]`
    Index(ArrayIndex),
    /// `[n to m]`
    Range(ArrayIndex, ArrayIndex),
    /// `[*]`
    IndexWildcard,
    /// `**`
    Ellipsis,
}

/// A parsed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath {
    legs: Vec<PathLeg>,
}

impl JsonPath {
    /// The legs after `$`.
    pub fn legs(&self) -> &[PathLeg] {
        &self.legs
    }

    /// True when the path has `*`, `**` or a range (it may match more than
    /// one value).
    pub fn has_wildcard(&self) -> bool {
        self.legs.iter().any(|l| {
            matches!(l, PathLeg::MemberWildcard | PathLeg::IndexWildcard | PathLeg::Ellipsis | PathLeg::Range(..))
        })
    }

    /// Parses a path; errors give MySQL's 1-based character position.
    pub fn parse(s: &str) -> Result<JsonPath, JsonError> {
        let mut p = PathParser { s, i: 0 };
        p.ws();
        if !p.eat('$') {
            return p.fail();
        }
        let mut legs = Vec::new();
        loop {
            p.ws();
            match p.peek() {
                None => break,
                Some('.') => {
                    p.i += 1;
                    p.ws();
                    legs.push(p.member()?);
                }
                Some('[') => {
                    p.i += 1;
                    legs.push(p.cell()?);
                }
                Some('*') => {
                    p.i += 1;
                    if !p.eat('*') {
                        return p.fail();
                    }
                    legs.push(PathLeg::Ellipsis);
                }
                _ => return p.fail(),
            }
        }
        if legs.last() == Some(&PathLeg::Ellipsis) {
            return Err(JsonError::Path { pos: s.chars().count() });
        }
        Ok(JsonPath { legs })
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("$")?;
        let idx = |i: &ArrayIndex| match i {
            ArrayIndex::FromStart(n) => n.to_string(),
            ArrayIndex::FromLast(0) => "last".to_string(),
            ArrayIndex::FromLast(n) => format!("last-{n}"),
        };
        for l in &self.legs {
            match l {
                PathLeg::Member(k) => {
                    if is_identifier(k) {
                        write!(f, ".{k}")?
                    } else {
                        let mut q = String::new();
                        super::text::write_string(k, &mut q);
                        write!(f, ".{q}")?
                    }
                }
                PathLeg::MemberWildcard => f.write_str(".*")?,
                PathLeg::Index(i) => write!(f, "[{}]", idx(i))?,
                PathLeg::Range(a, b) => write!(f, "[{} to {}]", idx(a), idx(b))?,
                PathLeg::IndexWildcard => f.write_str("[*]")?,
                PathLeg::Ellipsis => f.write_str("**")?,
            }
        }
        Ok(())
    }
}

fn is_identifier(k: &str) -> bool {
    let mut cs = k.chars();
    matches!(cs.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
        && cs.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

struct PathParser<'a> {
    s: &'a str,
    i: usize,
}

impl PathParser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i..).and_then(|r| r.chars().next())
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.i += 1;
        }
    }

    fn fail<T>(&self) -> Result<T, JsonError> {
        let chars = self.s.get(..self.i).map(|p| p.chars().count()).unwrap_or(0);
        Err(JsonError::Path { pos: chars + 1 })
    }

    fn member(&mut self) -> Result<PathLeg, JsonError> {
        match self.peek() {
            Some('*') => {
                self.i += 1;
                Ok(PathLeg::MemberWildcard)
            }
            Some('"') => {
                // A JSON string: find its closing quote, then let the JSON
                // parser decode the escapes.
                let start = self.i;
                self.i += 1;
                loop {
                    match self.peek() {
                        None => return self.fail(),
                        Some('\\') => {
                            self.i += 1;
                            if self.peek().is_none() {
                                return self.fail();
                            }
                            self.i += self.peek().map_or(1, char::len_utf8);
                        }
                        Some('"') => {
                            self.i += 1;
                            break;
                        }
                        Some(c) => self.i += c.len_utf8(),
                    }
                }
                match self.s.get(start..self.i).map(super::text::parse) {
                    Some(Ok(Json::String(k))) => Ok(PathLeg::Member(k)),
                    _ => self.fail(),
                }
            }
            _ => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '$' {
                        self.i += c.len_utf8();
                    } else {
                        break;
                    }
                }
                let k = self.s.get(start..self.i).unwrap_or("");
                if !is_identifier(k) {
                    self.i = start;
                    return self.fail();
                }
                Ok(PathLeg::Member(k.to_string()))
            }
        }
    }

    fn index(&mut self) -> Result<ArrayIndex, JsonError> {
        self.ws();
        if self.s.get(self.i..).is_some_and(|r| r.starts_with("last")) {
            self.i += 4;
            self.ws();
            if self.eat('-') {
                self.ws();
                return Ok(ArrayIndex::FromLast(self.number()?));
            }
            return Ok(ArrayIndex::FromLast(0));
        }
        Ok(ArrayIndex::FromStart(self.number()?))
    }

    fn number(&mut self) -> Result<u64, JsonError> {
        let start = self.i;
        while matches!(self.peek(), Some('0'..='9')) {
            self.i += 1;
        }
        match self.s.get(start..self.i).and_then(|d| d.parse::<u64>().ok()) {
            Some(n) if n <= u32::MAX as u64 => Ok(n),
            _ => self.fail(),
        }
    }

    fn cell(&mut self) -> Result<PathLeg, JsonError> {
        self.ws();
        if self.eat('*') {
            self.ws();
            if !self.eat(']') {
                return self.fail();
            }
            return Ok(PathLeg::IndexWildcard);
        }
        let a = self.index()?;
        self.ws();
        if self.s.get(self.i..).is_some_and(|r| r.starts_with("to")) {
            self.i += 2;
            if !matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
                return self.fail();
            }
            let b = self.index()?;
            self.ws();
            if !self.eat(']') {
                return self.fail();
            }
            // A range whose ends are both from the start must not run
            // backwards.
            if let (ArrayIndex::FromStart(x), ArrayIndex::FromStart(y)) = (a, b) {
                if x > y {
                    return self.fail();
                }
            }
            return Ok(PathLeg::Range(a, b));
        }
        if !self.eat(']') {
            return self.fail();
        }
        Ok(PathLeg::Index(a))
    }
}

/// What path evaluation needs of a value: the tree and the stored bytes
/// both provide it.
pub trait PathNode<'a>: Copy + Sized {
    /// The element count when the value is an array.
    fn array_len(self) -> Result<Option<usize>, JsonError>;
    /// Element `i` of an array.
    fn array_get(self, i: usize) -> Result<Option<Self>, JsonError>;
    /// The member count when the value is an object.
    fn object_len(self) -> Result<Option<usize>, JsonError>;
    /// Member `i` of an object, in key order.
    fn object_member(self, i: usize) -> Result<Option<(&'a str, Self)>, JsonError>;
    /// Member `key` of an object.
    fn object_get(self, key: &str) -> Result<Option<Self>, JsonError>;
}

impl<'a> PathNode<'a> for &'a Json {
    fn array_len(self) -> Result<Option<usize>, JsonError> {
        Ok(match self {
            Json::Array(a) => Some(a.len()),
            _ => None,
        })
    }
    fn array_get(self, i: usize) -> Result<Option<Self>, JsonError> {
        Ok(match self {
            Json::Array(a) => a.get(i),
            _ => None,
        })
    }
    fn object_len(self) -> Result<Option<usize>, JsonError> {
        Ok(match self {
            Json::Object(o) => Some(o.len()),
            _ => None,
        })
    }
    fn object_member(self, i: usize) -> Result<Option<(&'a str, Self)>, JsonError> {
        Ok(match self {
            Json::Object(o) => o.get(i).map(|(k, v)| (k.as_str(), v)),
            _ => None,
        })
    }
    fn object_get(self, key: &str) -> Result<Option<Self>, JsonError> {
        Ok(self.member(key))
    }
}

impl<'a> PathNode<'a> for JsonRef<'a> {
    fn array_len(self) -> Result<Option<usize>, JsonError> {
        Ok(if self.tag()? == tag::ARRAY { Some(self.len()?) } else { None })
    }
    fn array_get(self, i: usize) -> Result<Option<Self>, JsonError> {
        self.index(i)
    }
    fn object_len(self) -> Result<Option<usize>, JsonError> {
        Ok(if self.tag()? == tag::OBJECT { Some(self.len()?) } else { None })
    }
    fn object_member(self, i: usize) -> Result<Option<(&'a str, Self)>, JsonError> {
        if self.tag()? != tag::OBJECT {
            return Ok(None);
        }
        self.member_at(i).map(Some)
    }
    fn object_get(self, key: &str) -> Result<Option<Self>, JsonError> {
        self.get(key)
    }
}

/// Every value the path selects, in document order (invariant 2).
pub fn eval<'a, N: PathNode<'a>>(root: N, path: &JsonPath) -> Result<Vec<N>, JsonError> {
    let mut out = Vec::new();
    walk(root, &path.legs, &mut out)?;
    Ok(out)
}

fn walk<'a, N: PathNode<'a>>(v: N, legs: &[PathLeg], out: &mut Vec<N>) -> Result<(), JsonError> {
    let Some((leg, rest)) = legs.split_first() else {
        out.push(v);
        return Ok(());
    };
    match leg {
        PathLeg::Member(k) => {
            if let Some(c) = v.object_get(k)? {
                walk(c, rest, out)?;
            }
        }
        PathLeg::MemberWildcard => {
            if let Some(n) = v.object_len()? {
                for i in 0..n {
                    if let Some((_, c)) = v.object_member(i)? {
                        walk(c, rest, out)?;
                    }
                }
            }
        }
        PathLeg::Index(ix) => match v.array_len()? {
            Some(n) => {
                if let Some(i) = ix.resolve(n).filter(|&i| i < n) {
                    if let Some(c) = v.array_get(i)? {
                        walk(c, rest, out)?;
                    }
                }
            }
            None if ix.resolve(1) == Some(0) => walk(v, rest, out)?,
            None => {}
        },
        PathLeg::Range(a, b) => match v.array_len()? {
            Some(n) => {
                if let (Some(lo), Some(hi)) = (a.resolve(n).or(Some(0)), b.resolve(n)) {
                    let hi = hi.min(n.saturating_sub(1));
                    if n > 0 && lo <= hi {
                        for i in lo..=hi {
                            if let Some(c) = v.array_get(i)? {
                                walk(c, rest, out)?;
                            }
                        }
                    }
                }
            }
            None if a.resolve(1).unwrap_or(0) == 0 && b.resolve(1).is_some() => walk(v, rest, out)?,
            None => {}
        },
        PathLeg::IndexWildcard => {
            if let Some(n) = v.array_len()? {
                for i in 0..n {
                    if let Some(c) = v.array_get(i)? {
                        walk(c, rest, out)?;
                    }
                }
            }
        }
        PathLeg::Ellipsis => descend(v, rest, out, 0)?,
    }
    Ok(())
}

fn descend<'a, N: PathNode<'a>>(v: N, rest: &[PathLeg], out: &mut Vec<N>, depth: usize) -> Result<(), JsonError> {
    if depth > super::MAX_DEPTH {
        return Err(JsonError::TooDeep);
    }
    walk(v, rest, out)?;
    if let Some(n) = v.array_len()? {
        for i in 0..n {
            if let Some(c) = v.array_get(i)? {
                descend(c, rest, out, depth + 1)?;
            }
        }
    } else if let Some(n) = v.object_len()? {
        for i in 0..n {
            if let Some((_, c)) = v.object_member(i)? {
                descend(c, rest, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// The value a wildcard-free path names, for changing it in place.
pub fn locate_mut<'j>(v: &'j mut Json, legs: &[PathLeg]) -> Option<&'j mut Json> {
    let Some((leg, rest)) = legs.split_first() else {
        return Some(v);
    };
    match leg {
        PathLeg::Member(k) => match v {
            Json::Object(o) => {
                let i = o.binary_search_by(|(x, _)| super::key_order(x, k)).ok()?;
                locate_mut(&mut o.get_mut(i)?.1, rest)
            }
            _ => None,
        },
        PathLeg::Index(ix) => match v {
            Json::Array(a) => {
                let i = ix.resolve(a.len())?;
                locate_mut(a.get_mut(i)?, rest)
            }
            other if ix.resolve(1) == Some(0) => locate_mut(other, rest),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::binary::encode;
    use crate::json::text::parse;

    fn texts(doc: &str, path: &str) -> Vec<String> {
        let j = parse(doc).unwrap();
        let p = JsonPath::parse(path).unwrap();
        let tree: Vec<String> = eval(&j, &p).unwrap().into_iter().map(|v| v.to_text()).collect();
        let bytes = encode(&j);
        let r = JsonRef::from_doc(&bytes).unwrap();
        let seek: Vec<String> = eval(r, &p).unwrap().into_iter().map(|v| v.to_json().unwrap().to_text()).collect();
        assert_eq!(tree, seek, "tree and bytes agree on {path}");
        tree
    }

    #[test]
    fn legs_select_like_mysql() {
        let d = r#"{"a": {"b": [10, 20, 30]}, "c d": 1, "e": [{"b": 1}, {"b": 2}]}"#;
        assert_eq!(texts(d, "$.a.b[1]"), ["20"]);
        assert_eq!(texts(d, "$.a.b[last]"), ["30"]);
        assert_eq!(texts(d, "$.a.b[last-1]"), ["20"]);
        assert_eq!(texts(d, "$.a.b[1 to 2]"), ["20", "30"]);
        assert_eq!(texts(d, r#"$."c d""#), ["1"]);
        assert_eq!(texts(d, "$.e[*].b"), ["1", "2"]);
        assert_eq!(texts(d, "$**.b"), ["[10, 20, 30]", "1", "2"]);
        assert_eq!(texts(d, "$.a[0].b[0]"), ["10"]);
        assert!(texts(d, "$.a[1]").is_empty());
        assert_eq!(texts(d, "$.*").len(), 3);
    }

    #[test]
    fn bad_paths_report_positions() {
        assert_eq!(JsonPath::parse("a"), Err(JsonError::Path { pos: 1 }));
        assert_eq!(JsonPath::parse("$a"), Err(JsonError::Path { pos: 2 }));
        assert_eq!(JsonPath::parse("$.a[x]"), Err(JsonError::Path { pos: 5 }));
        assert_eq!(JsonPath::parse("$**"), Err(JsonError::Path { pos: 3 }));
        assert!(JsonPath::parse("$[3 to 1]").is_err());
        assert!(JsonPath::parse("$.\"a\\\"b\"[ last - 2 ]").is_ok());
    }
}
