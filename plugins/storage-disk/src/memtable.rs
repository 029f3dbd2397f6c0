//! The in-memory table: every change written since the last checkpoint
//! froze its predecessor, in key order, with deletions kept as tombstones
//! so they hide older values in the tree below.
//!
//! Invariants:
//! 1. A key's entry is the newest change to it among the records applied
//!    to this table (`Some(value)` for a put, `None` for a delete).
//! 2. `bytes` counts keys, values and a fixed per-entry overhead of every
//!    entry, so the engine can bound memory.
//!
//! This module knows nothing of the log or the tree.

use std::collections::BTreeMap;
use std::ops::Bound;

/// Bytes counted per entry besides its key and value (allocation and node
/// overhead, approximately).
const ENTRY_OVERHEAD: usize = 64;

/// Recent changes in key order.
#[derive(Debug, Default)]
pub struct Memtable {
    map: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    bytes: usize,
}

fn cost(k: &[u8], v: &Option<Vec<u8>>) -> usize {
    k.len() + v.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD
}

impl Memtable {
    /// An empty table.
    pub fn new() -> Memtable {
        Memtable::default()
    }

    /// Records a put (or, with `None`, a delete) of `key`.
    pub fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        use std::collections::btree_map::Entry;
        let add = cost(&key, &value);
        // One descent (an entry), not a lookup and then an insert.
        match self.map.entry(key) {
            Entry::Occupied(mut o) => {
                let old = cost(o.key(), o.get());
                *o.get_mut() = value;
                self.bytes = self.bytes + add - old;
            }
            Entry::Vacant(v) => {
                v.insert(value);
                self.bytes += add;
            }
        }
    }

    /// The change recorded for `key`: `None` if the table has none,
    /// `Some(None)` for a tombstone.
    pub fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.map.get(key).map(|v| v.as_deref())
    }

    /// Entries from `lo` upward (the caller checks the upper bound).
    pub fn from(&self, lo: Bound<&[u8]>) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.map.range::<[u8], _>((lo, Bound::Unbounded)).map(|(k, v)| (k.as_slice(), v.as_deref()))
    }

    /// Entries between the bounds, in descending key order.
    pub fn between_rev<'a>(
        &'a self,
        lo: Bound<&'a [u8]>,
        hi: Bound<&'a [u8]>,
    ) -> impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)> + 'a {
        // `BTreeMap::range` panics on an inverted range: give it an empty one.
        let (lo, hi) = if empty_range(lo, hi) { (Bound::Unbounded, Bound::Excluded(&[][..])) } else { (lo, hi) };
        self.map.range::<[u8], _>((lo, hi)).rev().map(|(k, v)| (k.as_slice(), v.as_deref()))
    }

    /// Every key in `[lo, hi)` order-wise between the bounds.
    pub fn keys_between(&self, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> Vec<Vec<u8>> {
        self.from(lo).take_while(|(k, _)| before(k, hi)).map(|(k, _)| k.to_vec()).collect()
    }

    /// Entries in key order (a checkpoint's change stream).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.map.iter().map(|(k, v)| (k.as_slice(), v.as_deref()))
    }

    /// Approximate bytes held (invariant 2).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held, tombstones included.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no change is recorded.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Puts and tombstones held.
    pub fn counts(&self) -> (u64, u64) {
        let puts = self.map.values().filter(|v| v.is_some()).count() as u64;
        (puts, self.map.len() as u64 - puts)
    }
}

/// True for a range that holds no key (inverted, or one key excluded).
pub fn empty_range(lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a >= b,
        _ => false,
    }
}

/// True if `k` lies below the upper bound `hi`.
pub fn before(k: &[u8], hi: Bound<&[u8]>) -> bool {
    match hi {
        Bound::Included(h) => k <= h,
        Bound::Excluded(h) => k < h,
        Bound::Unbounded => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_change_wins_and_bytes_track_it() {
        let mut m = Memtable::new();
        m.set(b"a".to_vec(), Some(b"1".to_vec()));
        let one = m.bytes();
        m.set(b"a".to_vec(), Some(b"22".to_vec()));
        assert_eq!(m.bytes(), one + 1);
        m.set(b"a".to_vec(), None);
        assert_eq!(m.get(b"a"), Some(None));
        assert_eq!(m.get(b"b"), None);
        assert_eq!(m.bytes(), one - 1);
        m.set(b"b".to_vec(), Some(vec![]));
        let keys: Vec<&[u8]> = m.from(Bound::Excluded(b"a")).map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"b".as_ref()]);
        assert_eq!(m.counts(), (1, 1));
        assert_eq!(m.keys_between(Bound::Unbounded, Bound::Excluded(b"b")), vec![b"a".to_vec()]);
    }
}
