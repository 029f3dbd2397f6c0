//! The member lists of ENUM and SET types.
//!
//! `SqlType` is `Copy`, so an ENUM or SET type names its members through a
//! [`Members`] handle: a reference to a list interned once per process.
//!
//! Invariants:
//! 1. Interning is by content: two handles are equal iff their member lists
//!    and collations are equal, so equality and hashing use the address.
//! 2. The interner only grows; a list is never freed or changed, so a
//!    handle stays valid for the life of the process (memory grows with the
//!    number of distinct lists ever declared, not with their use).
//! 3. Member names are stored as declared, trailing spaces removed (MySQL
//!    strips them from ENUM and SET definitions).
//!
//! This module does not check definitions (duplicates, commas in SET
//! members, counts): the binder does, with MySQL's errors.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use crate::collation::Collation;

/// The most members an ENUM may have.
pub const MAX_ENUM_MEMBERS: usize = 65535;
/// The most members a SET may have.
pub const MAX_SET_MEMBERS: usize = 64;

/// An interned member list.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MemberList {
    names: Box<[Box<str>]>,
    collation: Collation,
}

/// A handle on an interned member list (invariant 1).
#[derive(Clone, Copy)]
pub struct Members(&'static MemberList);

type Interner = Mutex<HashMap<(Vec<Box<str>>, Collation), &'static MemberList>>;

fn interner() -> &'static Interner {
    static I: OnceLock<Interner> = OnceLock::new();
    I.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Members {
    /// Interns a member list (trailing spaces of each name removed).
    pub fn intern<S: AsRef<str>>(names: &[S], collation: Collation) -> Members {
        let names: Vec<Box<str>> = names.iter().map(|s| Box::from(s.as_ref().trim_end_matches(' '))).collect();
        let mut map = interner().lock().unwrap_or_else(|e| e.into_inner());
        let key = (names, collation);
        if let Some(l) = map.get(&key) {
            return Members(l);
        }
        let list: &'static MemberList =
            Box::leak(Box::new(MemberList { names: key.0.clone().into_boxed_slice(), collation }));
        map.insert(key, list);
        Members(list)
    }

    /// The members in definition order.
    pub fn names(self) -> &'static [Box<str>] {
        &self.0.names
    }

    /// Number of members.
    pub fn len(self) -> usize {
        self.0.names.len()
    }

    /// True for a list without members.
    pub fn is_empty(self) -> bool {
        self.0.names.is_empty()
    }

    /// The collation members are matched under.
    pub fn collation(self) -> Collation {
        self.0.collation
    }

    /// The same members under another collation.
    pub fn with_collation(self, collation: Collation) -> Members {
        if collation == self.0.collation {
            return self;
        }
        Members::intern(&self.0.names[..], collation)
    }

    /// The member `i` (1-based), if any.
    pub fn get(self, i: usize) -> Option<&'static str> {
        i.checked_sub(1).and_then(|i| self.0.names.get(i)).map(|s| &**s)
    }

    /// The 1-based position of the member equal to `s` under the
    /// collation (trailing spaces of `s` ignored), if any.
    pub fn position(self, s: &str) -> Option<usize> {
        let s = s.trim_end_matches(' ');
        let c = self.0.collation;
        self.0
            .names
            .iter()
            .position(|m| &**m == s)
            .or_else(|| self.0.names.iter().position(|m| c.eq(m, s)))
            .map(|i| i + 1)
    }

    /// The longest member, in characters.
    pub fn max_chars(self) -> u32 {
        self.0.names.iter().map(|m| m.chars().count() as u32).max().unwrap_or(0)
    }

    /// The SET mask of a comma-separated text: `None` if an element is not
    /// a member. The empty text is the empty set; trailing spaces of the
    /// whole text are ignored, not those of an element (as MySQL).
    pub fn set_mask(self, s: &str) -> Option<u64> {
        let s = s.trim_end_matches(' ');
        if s.is_empty() {
            return Some(0);
        }
        let c = self.0.collation;
        let mut mask = 0u64;
        for part in s.split(',') {
            let p = self
                .0
                .names
                .iter()
                .position(|m| &**m == part)
                .or_else(|| self.0.names.iter().position(|m| c.eq(m, part)))?
                + 1;
            if p > 64 {
                return None;
            }
            mask |= 1u64 << (p - 1);
        }
        Some(mask)
    }

    /// The text of a SET mask: members in definition order, joined by
    /// commas; `None` if a bit names no member.
    pub fn set_text(self, mask: u64) -> Option<String> {
        let n = self.0.names.len().min(64);
        if n < 64 && mask >> n != 0 {
            return None;
        }
        let mut out = String::new();
        for (i, m) in self.0.names.iter().take(n).enumerate() {
            if mask & (1u64 << i) != 0 {
                if !out.is_empty() {
                    out.push(',');
                }
                out.push_str(m);
            }
        }
        Some(out)
    }

    /// Writes the list as SQL: `'a','b'` (quotes doubled).
    pub fn write_sql(self, f: &mut impl fmt::Write) -> fmt::Result {
        for (i, m) in self.0.names.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            f.write_char('\'')?;
            for ch in m.chars() {
                if ch == '\'' {
                    f.write_char('\'')?;
                }
                f.write_char(ch)?;
            }
            f.write_char('\'')?;
        }
        Ok(())
    }
}

impl PartialEq for Members {
    fn eq(&self, other: &Members) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Members {}

impl Hash for Members {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::ptr::hash(self.0, h)
    }
}

impl fmt::Debug for Members {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.names.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_by_content() {
        let a = Members::intern(&["x", "y "], Collation::LEGACY);
        let b = Members::intern(&["x", "y"], Collation::LEGACY);
        let c = Members::intern(&["x", "y"], Collation::Utf8mb4_0900AiCi);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.with_collation(Collation::Utf8mb4_0900AiCi), c);
        assert_eq!(a.names()[1].as_ref(), "y");
    }

    #[test]
    fn positions_follow_the_collation() {
        let bin = Members::intern(&["a", "b"], Collation::LEGACY);
        let ci = bin.with_collation(Collation::Utf8mb4_0900AiCi);
        assert_eq!(bin.position("B"), None);
        assert_eq!(ci.position("B"), Some(2));
        assert_eq!(bin.position("b  "), Some(2));
        assert_eq!(bin.get(0), None);
        assert_eq!(bin.get(2), Some("b"));
    }

    #[test]
    fn set_masks_are_normalized() {
        let s = Members::intern(&["a", "b", "c"], Collation::LEGACY);
        let m = s.set_mask("c,a,c").expect("members");
        assert_eq!(m, 0b101);
        assert_eq!(s.set_text(m).as_deref(), Some("a,c"));
        assert_eq!(s.set_mask(""), Some(0));
        assert_eq!(s.set_mask("a,d"), None);
        assert_eq!(s.set_mask("a,c "), Some(0b101));
        assert_eq!(s.set_mask("a ,c"), None);
        assert_eq!(s.set_mask("a,"), None);
        assert_eq!(s.set_text(0b1000), None);
        let mut sql = String::new();
        Members::intern(&["it's", "b"], Collation::LEGACY).write_sql(&mut sql).expect("write");
        assert_eq!(sql, "'it''s','b'");
    }
}
