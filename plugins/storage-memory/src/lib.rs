//! The `memory` storage engine: a lock-free ordered map (a crossbeam
//! skiplist) of byte keys to byte values.
//!
//! Invariants:
//! 1. Readers never block and are never blocked: `get` and scans walk the
//!    skiplist without locks.
//! 2. Cursors own an `Arc` of the map and re-seek after their last key for
//!    each batch, so a cursor holds no borrow and no lock between batches.
//! 3. Write batches apply in order; concurrent readers may observe a batch
//!    partly applied (allowed by the storage contract). Nothing is durable:
//!    every write ticket is ready at once.
//!
//! Size accounting is approximate (updated without synchronisation with the
//! map itself).

use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crossbeam_skiplist::SkipMap;
use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{
    Cursor, Durability, EngineInfo, KeyRange, KvBatch, Mutation, StorageEngine, StorageEngineFactory, StorageError,
    WriteBatch,
};

type Map = SkipMap<Vec<u8>, Vec<u8>>;

/// The in-memory engine.
pub struct MemoryEngine {
    map: Arc<Map>,
    bytes: AtomicI64,
}

impl MemoryEngine {
    /// An empty engine.
    pub fn new() -> MemoryEngine {
        MemoryEngine { map: Arc::new(SkipMap::new()), bytes: AtomicI64::new(0) }
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
        Ok(self.map.get(key).map(|e| e.value().clone()))
    }

    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
        Ok(Box::new(MemoryCursor { map: self.map.clone(), next: range.start, end: range.end, done: false }))
    }

    fn write(&self, batch: &WriteBatch, _durability: Durability) -> Result<DurableTicket, StorageError> {
        let mut delta: i64 = 0;
        for m in batch.ops() {
            match m {
                Mutation::Put { key, value } => {
                    delta += (key.len() + value.len()) as i64;
                    if let Some(old) = self.map.get(key.as_slice()) {
                        delta -= (old.key().len() + old.value().len()) as i64;
                    }
                    self.map.insert(key.clone(), value.clone());
                }
                Mutation::Delete { key } => {
                    if let Some(old) = self.map.remove(key.as_slice()) {
                        delta -= (old.key().len() + old.value().len()) as i64;
                    }
                }
                Mutation::DeleteRange { start, end } => {
                    let range = (Bound::Included(start.as_slice()), Bound::Excluded(end.as_slice()));
                    for e in self.map.range::<[u8], _>(range) {
                        delta -= (e.key().len() + e.value().len()) as i64;
                        e.remove();
                    }
                }
            }
        }
        self.bytes.fetch_add(delta, Ordering::Relaxed);
        Ok(DurableTicket::ready())
    }

    fn approximate_size(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed).max(0) as u64
    }

    fn approximate_keys(&self) -> u64 {
        self.map.len() as u64
    }
}

struct MemoryCursor {
    map: Arc<Map>,
    next: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    done: bool,
}

impl Cursor for MemoryCursor {
    fn next_batch(&mut self, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        out.clear();
        if self.done {
            return Ok(false);
        }
        let max_pairs = max_pairs.max(1);
        let lo = match &self.next {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let hi = match &self.end {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        };
        // An empty or inverted range yields nothing (SkipMap::range would panic).
        if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) = (lo, hi) {
            let inverted = a > b || (a == b && !(matches!(lo, Bound::Included(_)) && matches!(hi, Bound::Included(_))));
            if inverted {
                self.done = true;
                return Ok(false);
            }
        }
        let mut last: Option<Vec<u8>> = None;
        for e in self.map.range::<[u8], _>((lo, hi)) {
            out.push(e.key(), e.value());
            if out.len() >= max_pairs || out.byte_len() >= 1 << 20 {
                last = Some(e.key().clone());
                break;
            }
        }
        match last {
            Some(k) => self.next = Bound::Excluded(k),
            None => self.done = true,
        }
        Ok(!out.is_empty())
    }

    fn seek(&mut self, key: &[u8]) {
        let ahead = match &self.next {
            Bound::Included(k) => key > k.as_slice(),
            Bound::Excluded(k) => key > k.as_slice(),
            Bound::Unbounded => true,
        };
        if ahead {
            self.next = Bound::Included(key.to_vec());
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

    fn open(&self, _dir: Option<&std::path::Path>) -> Result<Arc<dyn StorageEngine>, StorageError> {
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

    #[test]
    fn inverted_ranges_are_empty() {
        let e = MemoryEngine::new();
        let mut c = e.scan(KeyRange { start: Bound::Included(vec![5]), end: Bound::Excluded(vec![1]) }).expect("scan");
        let mut b = KvBatch::new();
        assert_eq!(c.next_batch(&mut b, 10), Ok(false));
    }
}
