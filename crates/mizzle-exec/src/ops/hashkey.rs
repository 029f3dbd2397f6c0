//! Hash tables keyed by grouping / join keys (a `Vec<Value>` compared as
//! `Value::group_eq`), with an inline form for the common key that is one
//! integer.
//!
//! Invariants:
//! 1. While every key inserted is one integer (`Int` or `UInt`), keys are
//!    stored inline as `i128` (no heap vector per key) and hashed by a
//!    seeded multiply-xorshift hash, far cheaper than SipHash; the random
//!    seed per table keeps key values chosen in advance from colliding by
//!    design.
//! 2. The first key of another shape, inserted or looked up, moves every
//!    entry into the general table of [`GroupKey`]s, so lookups always
//!    answer as the general table would.
//! 3. General keys ([`KeySet`], [`KeyMap`]: GROUP BY, DISTINCT, set
//!    operations, IN lists, the general join table) are hashed by
//!    `hashbrown`'s default hasher (foldhash, seeded at random per table):
//!    several times faster than SipHash on the byte strings that text and
//!    weight-string keys hash, and, like invariant 1's hash, seeded so that
//!    keys chosen in advance do not collide by design.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// A set of general keys (invariant 3).
pub type KeySet = hashbrown::HashSet<GroupKey>;
/// A map from general keys (invariant 3).
pub type KeyMap<V> = hashbrown::HashMap<GroupKey, V>;

use mizzle_types::{GroupKey, Value};

/// The seeded hash of one integer key (invariant 1).
#[derive(Clone, Copy)]
pub struct IntHash(u64);

impl IntHash {
    fn new() -> IntHash {
        IntHash(std::collections::hash_map::RandomState::new().build_hasher().finish() | 1)
    }
}

impl BuildHasher for IntHash {
    type Hasher = IntHasher;
    fn build_hasher(&self) -> IntHasher {
        IntHasher(self.0)
    }
}

/// The hasher of [`IntHash`].
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        let x = self.0;
        (x ^ (x >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x2545_F491_4F6C_DD1D);
        }
    }
    fn write_i128(&mut self, i: i128) {
        let lo = i as u64;
        let hi = (i >> 64) as u64;
        self.0 = (self.0 ^ lo).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ hi.rotate_left(29);
    }
}

/// A key that is one integer, as the inline table stores it.
fn int_key(key: &[Value]) -> Option<i128> {
    match key {
        [Value::Int(i)] => Some(i128::from(*i)),
        [Value::UInt(u)] => Some(i128::from(*u)),
        _ => None,
    }
}

/// A hash table from keys to `V`.
pub enum KeyIndex<V> {
    /// Every key so far is one integer (invariant 1).
    Ints(HashMap<i128, V, IntHash>),
    General(KeyMap<V>),
}

impl<V> Default for KeyIndex<V> {
    fn default() -> Self {
        KeyIndex::new()
    }
}

impl<V> KeyIndex<V> {
    /// An empty table (inline form).
    pub fn new() -> KeyIndex<V> {
        KeyIndex::Ints(HashMap::with_hasher(IntHash::new()))
    }

    /// Empties the table for another run (a rewound join): the inline
    /// form keeps its memory; a general table starts inline again.
    pub fn clear(&mut self) {
        match self {
            KeyIndex::Ints(m) => m.clear(),
            KeyIndex::General(_) => *self = KeyIndex::new(),
        }
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        match self {
            KeyIndex::Ints(m) => m.is_empty(),
            KeyIndex::General(m) => m.is_empty(),
        }
    }

    /// Moves every entry into the general table (invariant 2).
    fn generalize(&mut self) {
        if let KeyIndex::Ints(m) = self {
            let g = m
                .drain()
                .map(|(k, v)| {
                    let one = match i64::try_from(k) {
                        Ok(i) => Value::Int(i),
                        Err(_) => Value::UInt(u64::try_from(k).unwrap_or(u64::MAX)),
                    };
                    (GroupKey(vec![one]), v)
                })
                .collect();
            *self = KeyIndex::General(g);
        }
    }

    /// Updates the value of `key` with `update`, or inserts `insert()`.
    pub fn upsert(&mut self, key: Vec<Value>, update: impl FnOnce(&mut V), insert: impl FnOnce() -> V) {
        if let (KeyIndex::Ints(m), Some(k)) = (&mut *self, int_key(&key)) {
            match m.get_mut(&k) {
                Some(v) => update(v),
                None => {
                    m.insert(k, insert());
                }
            }
            return;
        }
        self.generalize();
        if let KeyIndex::General(m) = self {
            match m.entry(GroupKey(key)) {
                hashbrown::hash_map::Entry::Occupied(mut e) => update(e.get_mut()),
                hashbrown::hash_map::Entry::Vacant(e) => {
                    e.insert(insert());
                }
            }
        }
    }

    /// The value of `key`, inserting `insert()` (and a copy of the key)
    /// first if it has none: one hash either way.
    pub fn get_or_insert(&mut self, key: &GroupKey, insert: impl FnOnce() -> V) -> &V {
        let k = int_key(&key.0);
        if k.is_none() {
            self.generalize();
        }
        match (self, k) {
            (KeyIndex::Ints(m), Some(k)) => m.entry(k).or_insert_with(insert),
            (KeyIndex::General(m), _) => m.entry_ref(key).or_insert_with(insert),
            (me @ KeyIndex::Ints(_), None) => {
                // Unreachable (generalized above); answered as the general
                // table would be.
                me.generalize();
                me.get_or_insert(key, insert)
            }
        }
    }

    /// The value of `key`.
    pub fn get(&mut self, key: &GroupKey) -> Option<&V> {
        let k = int_key(&key.0);
        if k.is_none() {
            self.generalize();
        }
        match (&*self, k) {
            (KeyIndex::Ints(m), Some(k)) => m.get(&k),
            (KeyIndex::General(m), _) => m.get(key),
            (KeyIndex::Ints(_), None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use mizzle_types::{Decimal, GroupKey, Value};

    use super::KeyIndex;

    fn key(v: Value) -> GroupKey {
        GroupKey(vec![v])
    }

    #[test]
    fn integer_keys_stay_inline_and_answer_as_the_general_table() {
        let mut t: KeyIndex<usize> = KeyIndex::new();
        for (i, v) in [Value::Int(1), Value::UInt(2), Value::Int(-3), Value::UInt(u64::MAX)].into_iter().enumerate() {
            t.upsert(vec![v], |_| {}, || i);
        }
        assert!(matches!(t, KeyIndex::Ints(_)));
        // A signed and an unsigned key of the same number are one key.
        t.upsert(vec![Value::Int(2)], |v| *v += 10, || 99);
        assert_eq!(t.get(&key(Value::UInt(2))), Some(&11));
        assert_eq!(t.get(&key(Value::UInt(u64::MAX))), Some(&3));
        assert_eq!(t.get(&key(Value::Int(4))), None);
        assert!(matches!(t, KeyIndex::Ints(_)));
        // A decimal probe moves the table to the general form, where an
        // integral decimal equals the integer.
        let d = Decimal::new(-300, 2).expect("decimal");
        assert_eq!(t.get(&key(Value::decimal(d))), Some(&2));
        assert!(matches!(t, KeyIndex::General(_)));
        assert_eq!(t.get(&key(Value::Int(1))), Some(&0));
        assert_eq!(t.get(&key(Value::UInt(u64::MAX))), Some(&3));
    }

    #[test]
    fn get_or_insert_inserts_a_key_once_in_either_form() {
        let mut t: KeyIndex<usize> = KeyIndex::new();
        let mut made = 0;
        for v in [Value::Int(5), Value::UInt(5), Value::Int(6), Value::Int(5)] {
            t.get_or_insert(&key(v), || {
                made += 1;
                made
            });
        }
        assert_eq!(made, 2);
        assert!(matches!(t, KeyIndex::Ints(_)));
        assert_eq!(t.get(&key(Value::UInt(6))), Some(&2));
        // A text key moves the table; the integers keep their values.
        assert_eq!(*t.get_or_insert(&key(Value::text("a")), || 3), 3);
        assert_eq!(*t.get_or_insert(&key(Value::text("a")), || 4), 3);
        assert_eq!(*t.get_or_insert(&key(Value::Int(5)), || 9), 1);
        assert!(matches!(t, KeyIndex::General(_)));
    }

    #[test]
    fn a_key_of_another_shape_moves_every_entry() {
        let mut t: KeyIndex<usize> = KeyIndex::new();
        t.upsert(vec![Value::Int(7)], |_| {}, || 0);
        t.upsert(vec![Value::Int(7), Value::Null], |_| {}, || 1);
        t.upsert(vec![Value::text("x")], |_| {}, || 2);
        assert!(matches!(t, KeyIndex::General(_)));
        assert_eq!(t.get(&key(Value::Int(7))), Some(&0));
        assert_eq!(t.get(&GroupKey(vec![Value::Int(7), Value::Null])), Some(&1));
        assert_eq!(t.get(&key(Value::text("x"))), Some(&2));
    }
}
