//! The `memory` storage engine: an ordered map (`BTreeMap` behind a
//! `parking_lot` read-write latch) of byte keys to byte values.
//!
//! A B-tree under a latch beat the lock-free skiplist this engine began
//! with: point reads and short scans (the common case) are cache-friendly
//! and allocate nothing, and the latch is held only for the few
//! microseconds one call takes.
//!
//! Invariants:
//! 1. Latches are held only inside one call (`get`, `scan_first`, one
//!    cursor batch, one write batch); never across calls, never while
//!    waiting on anything else, so no deadlock can involve them.
//! 2. Cursors own an `Arc` of the map and re-seek after their last key for
//!    each batch, so a cursor holds no borrow and no latch between batches.
//! 3. A write batch applies under one write latch, so readers see it whole
//!    or not at all. Nothing is durable: every write ticket is ready at once.
//!
//! Size accounting is approximate (updated without synchronisation with the
//! map itself).

use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{
    Cursor, Durability, EngineInfo, EngineOptions, KeyRange, KvBatch, Mutation, StorageEngine, StorageEngineFactory,
    StorageError, WriteBatch,
};
use parking_lot::RwLock;
use std::collections::{btree_map, BTreeMap};

/// Values are boxed slices (16 bytes in a node, a `Vec` is 24).
type Map = RwLock<BTreeMap<Key, Box<[u8]>>>;

/// Bytes a key holds inline, without a heap allocation of its own.
const INLINE: usize = 31;

/// The length of an inline key, 0 to [`INLINE`]: a byte whose other 224
/// values are free, so that `Key` keeps its variant tag in them and is 32
/// bytes (a `u8` length, with every value valid, would need a tag byte of
/// its own and round the key up to 40). Half a cache line per key: a
/// descent's linear search within a node reads fewer lines.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Len {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
    L23,
    L24,
    L25,
    L26,
    L27,
    L28,
    L29,
    L30,
    L31,
}

impl Len {
    /// Every length, indexed by itself.
    const ALL: [Len; INLINE + 1] = {
        use Len::*;
        [
            L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16, L17, L18, L19, L20, L21, L22,
            L23, L24, L25, L26, L27, L28, L29, L30, L31,
        ]
    };
}

/// A map key: short keys (MVCC version keys of integer rows and indexes
/// are 21–31 bytes) live inside the B-tree node, so a descent compares
/// keys that are in the node's cache lines instead of chasing one heap
/// pointer per comparison; longer keys are boxed. Ordered as byte strings.
#[derive(Clone)]
enum Key {
    Inline(Len, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    fn new(bytes: &[u8]) -> Key {
        if bytes.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..bytes.len()].copy_from_slice(bytes);
            Key::Inline(Len::ALL[bytes.len()], buf)
        } else {
            Key::Heap(bytes.into())
        }
    }

    fn from_vec(bytes: Vec<u8>) -> Key {
        if bytes.len() <= INLINE {
            Key::new(&bytes)
        } else {
            Key::Heap(bytes.into_boxed_slice())
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Key::Inline(len, buf) => buf.get(..usize::from(*len as u8)).unwrap_or(buf),
            Key::Heap(b) => b,
        }
    }

    /// The first 16 bytes as a big-endian number, zero-padded (inline
    /// buffers are zero past the key): two keys whose heads differ are
    /// ordered as their heads are (a key shorter than 16 bytes is then a
    /// proper prefix of the other, which sorts it first, as its zero pad
    /// does); equal heads say nothing.
    fn head(&self) -> u128 {
        let mut h = [0u8; 16];
        match self {
            Key::Inline(_, buf) => h.copy_from_slice(&buf[..16]),
            Key::Heap(b) => {
                let n = b.len().min(16);
                h[..n].copy_from_slice(&b[..n]);
            }
        }
        u128::from_be_bytes(h)
    }
}

/// A range of the map from `lo` on. A bound short enough to be an inline
/// [`Key`] is looked up as one, so the descent compares keys by their
/// 16-byte heads (`Key::cmp`) instead of calling `memcmp` at every step.
fn range_from<'a>(map: &'a BTreeMap<Key, Box<[u8]>>, lo: Bound<&[u8]>) -> btree_map::Range<'a, Key, Box<[u8]>> {
    match lo {
        Bound::Included(k) if k.len() <= INLINE => map.range((Bound::Included(Key::new(k)), Bound::Unbounded)),
        Bound::Excluded(k) if k.len() <= INLINE => map.range((Bound::Excluded(Key::new(k)), Bound::Unbounded)),
        other => map.range::<[u8], _>((other, Bound::Unbounded)),
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        // Byte order; most comparisons are decided by the heads (version
        // keys share their first bytes within a space, so 16 are compared).
        match self.head().cmp(&other.head()) {
            std::cmp::Ordering::Equal => self.as_slice().cmp(other.as_slice()),
            o => o,
        }
    }
}

/// The in-memory engine.
pub struct MemoryEngine {
    map: Arc<Map>,
    bytes: AtomicI64,
}

impl MemoryEngine {
    /// An empty engine.
    pub fn new() -> MemoryEngine {
        MemoryEngine { map: Arc::new(RwLock::new(BTreeMap::new())), bytes: AtomicI64::new(0) }
    }
}

impl Default for MemoryEngine {
    fn default() -> Self {
        MemoryEngine::new()
    }
}

impl StorageEngine for MemoryEngine {
    fn info(&self) -> EngineInfo {
        EngineInfo { name: "memory".into(), persistent: false }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let map = self.map.read();
        // A short key is looked up as an inline `Key` (see `range_from`).
        let v = if key.len() <= INLINE { map.get(&Key::new(key)) } else { map.get(key) };
        Ok(v.map(|v| v.to_vec()))
    }

    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
        Ok(Box::new(MemoryCursor {
            map: self.map.clone(),
            start: range.start,
            end: range.end,
            desc: false,
            done: false,
        }))
    }

    fn scan_rev(&self, range: KeyRange) -> Result<Option<Box<dyn Cursor>>, StorageError> {
        Ok(Some(Box::new(MemoryCursor {
            map: self.map.clone(),
            start: range.start,
            end: range.end,
            desc: true,
            done: false,
        })))
    }

    fn scan_first(&self, range: KeyRange, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        self.first_pairs(bound_ref(&range.start), bound_ref(&range.end), out, max_pairs)
    }

    fn scan_prefix_first(&self, prefix: &[u8], out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        KeyRange::with_prefix_bounds(prefix, |lo, hi| self.first_pairs(lo, hi, out, max_pairs))
    }

    fn write(&self, batch: WriteBatch, _durability: Durability) -> Result<DurableTicket, StorageError> {
        let mut delta: i64 = 0;
        let mut map = self.map.write();
        for m in batch.into_ops() {
            match m {
                Mutation::Put { key, value } => {
                    delta += (key.len() + value.len()) as i64;
                    let klen = key.len();
                    if let Some(old) = map.insert(Key::from_vec(key), value.into_boxed_slice()) {
                        delta -= (klen + old.len()) as i64;
                    }
                }
                Mutation::Delete { key } => {
                    let old =
                        if key.len() <= INLINE { map.remove(&Key::new(&key)) } else { map.remove(key.as_slice()) };
                    if let Some(old) = old {
                        delta -= (key.len() + old.len()) as i64;
                    }
                }
                Mutation::DeleteRange { start, end } => {
                    if start < end {
                        let doomed: Vec<Key> = map
                            .range::<[u8], _>((Bound::Included(start.as_slice()), Bound::Excluded(end.as_slice())))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for k in doomed {
                            if let Some(old) = map.remove(k.as_slice()) {
                                delta -= (k.as_slice().len() + old.len()) as i64;
                            }
                        }
                    }
                }
            }
        }
        drop(map);
        self.bytes.fetch_add(delta, Ordering::Relaxed);
        Ok(DurableTicket::ready())
    }

    fn approximate_size(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed).max(0) as u64
    }

    fn approximate_keys(&self) -> u64 {
        self.map.read().len() as u64
    }
}

impl MemoryEngine {
    /// `scan_first` over borrowed bounds.
    fn first_pairs(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        out: &mut KvBatch,
        max_pairs: usize,
    ) -> Result<bool, StorageError> {
        out.clear();
        if inverted(lo, hi) {
            return Ok(false);
        }
        let map = self.map.read();
        // A start past the last key (an append: the write check of a new
        // key at the end of the key space, as a growing AUTO_INCREMENT or
        // time-ordered primary key makes) finds nothing; following the
        // right edge to the last key compares no keys, a descent compares
        // one per slot of every node on its way.
        let past_end = match (lo, map.last_key_value()) {
            (_, None) => true,
            (Bound::Included(k), Some((last, _))) => last.as_slice() < k,
            (Bound::Excluded(k), Some((last, _))) => last.as_slice() <= k,
            (Bound::Unbounded, Some(_)) => false,
        };
        if past_end {
            return Ok(false);
        }
        // One descent for the start; the end is checked while walking
        // (a two-sided `range` descends twice).
        let mut it = range_from(&map, lo).take_while(|(k, _)| before_end(k.as_slice(), hi));
        for (k, v) in it.by_ref().take(max_pairs.max(1)) {
            out.push(k.as_slice(), v);
        }
        Ok(it.next().is_some())
    }
}

fn bound_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// True for an empty or inverted range (`BTreeMap::range` would panic).
fn inverted(lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> bool {
    match (lo, hi) {
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            a > b || (a == b && !(matches!(lo, Bound::Included(_)) && matches!(hi, Bound::Included(_))))
        }
        _ => false,
    }
}

/// True if `k` is inside the upper bound `hi`.
fn before_end(k: &[u8], hi: Bound<&[u8]>) -> bool {
    match hi {
        Bound::Included(h) => k <= h,
        Bound::Excluded(h) => k < h,
        Bound::Unbounded => true,
    }
}

/// A cursor over `start..end`: ascending, each batch reads up from
/// `start` (then just above the last key returned); descending (`desc`,
/// `StorageEngine::scan_rev`), down from `end` (then just below it).
struct MemoryCursor {
    map: Arc<Map>,
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    desc: bool,
    done: bool,
}

/// Pushes pairs of `pairs` into `out` until it is full; the last key pushed
/// when it filled up (`None`: `pairs` ran out).
fn fill<'a>(
    out: &mut KvBatch,
    pairs: impl Iterator<Item = (&'a Key, &'a Box<[u8]>)>,
    max_pairs: usize,
) -> Option<Vec<u8>> {
    for (k, v) in pairs {
        out.push(k.as_slice(), v);
        if out.len() >= max_pairs || out.byte_len() >= 1 << 20 {
            return Some(k.as_slice().to_vec());
        }
    }
    None
}

impl Cursor for MemoryCursor {
    fn next_batch(&mut self, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        out.clear();
        if self.done {
            return Ok(false);
        }
        let max_pairs = max_pairs.max(1);
        let lo = bound_ref(&self.start);
        let hi = bound_ref(&self.end);
        if inverted(lo, hi) {
            self.done = true;
            return Ok(false);
        }
        let map = self.map.read();
        let last = if self.desc {
            fill(out, map.range::<[u8], _>((lo, hi)).rev(), max_pairs)
        } else {
            fill(out, range_from(&map, lo).take_while(|(k, _)| before_end(k.as_slice(), hi)), max_pairs)
        };
        drop(map);
        match last {
            Some(k) if self.desc => self.end = Bound::Excluded(k),
            Some(k) => self.start = Bound::Excluded(k),
            None => self.done = true,
        }
        Ok(!out.is_empty())
    }

    fn seek(&mut self, key: &[u8]) {
        // Never called on a descending cursor (`StorageEngine::scan_rev`).
        if self.desc {
            return;
        }
        let ahead = match &self.start {
            Bound::Included(k) => key > k.as_slice(),
            Bound::Excluded(k) => key > k.as_slice(),
            Bound::Unbounded => true,
        };
        if ahead {
            self.start = Bound::Included(key.to_vec());
        }
    }
}

/// Registers the `memory` engine.
pub struct MemoryEngineFactory;

impl StorageEngineFactory for MemoryEngineFactory {
    fn name(&self) -> &str {
        "memory"
    }

    fn description(&self) -> &str {
        "In-memory ordered map; data is lost when the database closes"
    }

    fn open(
        &self,
        _dir: Option<&std::path::Path>,
        _opts: &EngineOptions,
    ) -> Result<Arc<dyn StorageEngine>, StorageError> {
        Ok(Arc::new(MemoryEngine::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mizzle_plugin_api::conformance;

    #[test]
    fn memory_engine_conforms() {
        let r = conformance::run_all(|| Arc::new(MemoryEngine::new()));
        assert_eq!(r, Ok(()));
    }

    /// Delegates everything but `scan_first`, so the trait's default
    /// (cursor-based) `scan_first` runs the conformance suite too.
    struct DefaultScanFirst(MemoryEngine);

    impl StorageEngine for DefaultScanFirst {
        fn info(&self) -> EngineInfo {
            self.0.info()
        }
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
            self.0.get(key)
        }
        fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
            self.0.scan(range)
        }
        fn scan_rev(&self, range: KeyRange) -> Result<Option<Box<dyn Cursor>>, StorageError> {
            self.0.scan_rev(range)
        }
        fn write(&self, batch: WriteBatch, durability: Durability) -> Result<DurableTicket, StorageError> {
            self.0.write(batch, durability)
        }
        fn approximate_size(&self) -> u64 {
            self.0.approximate_size()
        }
        fn approximate_keys(&self) -> u64 {
            self.0.approximate_keys()
        }
    }

    #[test]
    fn default_scan_first_conforms() {
        let r = conformance::run_all(|| Arc::new(DefaultScanFirst(MemoryEngine::new())));
        assert_eq!(r, Ok(()));
    }

    /// Keys of 0..48 bytes over a small alphabet with long shared
    /// prefixes (as version keys have), inline and boxed.
    fn keys() -> Vec<Vec<u8>> {
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        (0..400)
            .map(|_| {
                let len = next(49) as usize;
                let shared = next(20) as usize;
                (0..len).map(|i| if i < shared { 0x10 } else { next(3) as u8 }).collect()
            })
            .collect()
    }

    #[test]
    fn keys_order_as_their_bytes() {
        let ks = keys();
        for a in &ks {
            for b in &ks {
                let (x, y) = (Key::new(a), Key::from_vec(b.clone()));
                assert_eq!(x.cmp(&y), a.as_slice().cmp(b.as_slice()), "{a:?} vs {b:?}");
                assert_eq!(x == y, a == b);
            }
        }
    }

    #[test]
    fn a_key_is_half_a_cache_line_and_keeps_its_bytes() {
        assert_eq!(std::mem::size_of::<Key>(), 32);
        for n in 0..=40usize {
            let bytes: Vec<u8> = (0..n).map(|i| i as u8 ^ 0xA5).collect();
            let k = Key::new(&bytes);
            assert_eq!(k.as_slice(), bytes.as_slice());
            assert_eq!(matches!(k, Key::Inline(..)), n <= INLINE);
            assert_eq!(Key::from_vec(bytes.clone()).as_slice(), bytes.as_slice());
        }
    }

    #[test]
    fn lookups_by_inline_and_boxed_keys_agree() {
        let e = MemoryEngine::new();
        let mut b = WriteBatch::new();
        let ks = keys();
        for (i, k) in ks.iter().enumerate() {
            b.put(k.clone(), vec![i as u8]);
        }
        e.write(b, Durability::Relaxed).expect("write");
        let mut model = BTreeMap::new();
        for (i, k) in ks.iter().enumerate() {
            model.insert(k.clone(), vec![i as u8]);
        }
        for k in &ks {
            assert_eq!(e.get(k).expect("get").as_ref(), model.get(k));
            let mut out = KvBatch::new();
            e.scan_first(KeyRange { start: Bound::Excluded(k.clone()), end: Bound::Unbounded }, &mut out, 3)
                .expect("scan");
            let want: Vec<&Vec<u8>> =
                model.range::<Vec<u8>, _>((Bound::Excluded(k), Bound::Unbounded)).map(|(k, _)| k).take(3).collect();
            let got: Vec<Vec<u8>> = out.iter().map(|(k, _)| k.to_vec()).collect();
            assert_eq!(got.iter().collect::<Vec<_>>(), want);
        }
        let mut b = WriteBatch::new();
        for k in ks.iter().step_by(2) {
            b.delete(k.clone());
            model.remove(k);
        }
        e.write(b, Durability::Relaxed).expect("delete");
        assert_eq!(e.approximate_keys(), model.len() as u64);
        for k in &ks {
            assert_eq!(e.get(k).expect("get").as_ref(), model.get(k));
        }
    }

    #[test]
    fn starts_at_and_past_the_last_key() {
        let e = MemoryEngine::new();
        let first = |lo: Bound<Vec<u8>>| -> (Vec<Vec<u8>>, bool) {
            let mut out = KvBatch::new();
            let more = e.scan_first(KeyRange { start: lo, end: Bound::Unbounded }, &mut out, 1).expect("scan");
            (out.iter().map(|(k, _)| k.to_vec()).collect(), more)
        };
        assert_eq!(first(Bound::Unbounded), (vec![], false), "an empty map");
        assert_eq!(first(Bound::Included(vec![1])), (vec![], false), "an empty map");
        let mut b = WriteBatch::new();
        for k in [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()] {
            b.put(k, vec![0]);
        }
        e.write(b, Durability::Relaxed).expect("write");
        assert_eq!(first(Bound::Included(b"c".to_vec())), (vec![b"c".to_vec()], false));
        assert_eq!(first(Bound::Excluded(b"c".to_vec())), (vec![], false));
        assert_eq!(first(Bound::Included(b"c\0".to_vec())), (vec![], false));
        assert_eq!(first(Bound::Excluded(b"bz".to_vec())), (vec![b"c".to_vec()], false));
        assert_eq!(first(Bound::Unbounded), (vec![b"a".to_vec()], true));
        let mut out = KvBatch::new();
        assert!(!e.scan_prefix_first(b"d", &mut out, 1).expect("prefix") && out.is_empty());
        assert!(!e.scan_prefix_first(b"c", &mut out, 1).expect("prefix") && out.len() == 1);
    }

    #[test]
    fn inverted_ranges_are_empty() {
        let e = MemoryEngine::new();
        let mut c = e.scan(KeyRange { start: Bound::Included(vec![5]), end: Bound::Excluded(vec![1]) }).expect("scan");
        let mut b = KvBatch::new();
        assert_eq!(c.next_batch(&mut b, 10), Ok(false));
    }
}
