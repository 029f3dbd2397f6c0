//! The page cache: verified pages of the data file, shared as `Arc<[u8]>`
//! buffers, bounded in pages, split into shards so readers on different
//! cores rarely meet on one lock.
//!
//! Each shard is a fixed array of slots swept by a CLOCK hand: a hit sets
//! the slot's reference bit; an insertion into a full shard advances the
//! hand, clearing reference bits, until it finds a slot whose bit is clear
//! and evicts that page. Pages a checkpoint writes enter with a clear bit,
//! so a large checkpoint does not push out the pages readers use.
//!
//! Invariants:
//! 1. A shard never holds more than its capacity of slots; the map and the
//!    slot vector are allocated once, so hits and insertions allocate
//!    nothing.
//! 2. Critical sections are a hash lookup and a few field updates; no I/O
//!    and no page copy happens under a shard lock. Callers get an `Arc` and
//!    hold no lock while they read the page.
//! 3. Only pages that passed their checks (or that this process wrote)
//!    enter the cache; an entry is replaced or removed whenever its page
//!    number is written again, so the cache never serves a stale page.
//!
//! Evicting a page a reader still holds only drops the cache's reference;
//! the reader's `Arc` keeps the buffer alive.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::ids::PageNo;

/// A verified page buffer of `PAGE_SIZE` bytes.
pub type PageRef = Arc<[u8]>;

/// Counters of the cache (summed over shards).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found the page.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Pages dropped to make room.
    pub evictions: u64,
    /// Pages held now.
    pub resident: u64,
    /// Pages the cache may hold.
    pub capacity: u64,
}

/// Multiplicative hashing of page numbers: cheap, and page numbers are
/// not chosen by an adversary.
#[derive(Clone, Copy, Default)]
struct PageHasher(u64);

impl Hasher for PageHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[derive(Clone, Copy, Default)]
struct BuildPageHasher;

impl BuildHasher for BuildPageHasher {
    type Hasher = PageHasher;

    fn build_hasher(&self) -> PageHasher {
        PageHasher(0)
    }
}

struct Slot {
    no: u64,
    page: PageRef,
    referenced: bool,
}

struct Shard {
    map: HashMap<u64, usize, BuildPageHasher>,
    slots: Vec<Slot>,
    hand: usize,
    capacity: usize,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl Shard {
    fn new(capacity: usize) -> Shard {
        Shard {
            map: HashMap::with_capacity_and_hasher(capacity, BuildPageHasher),
            slots: Vec::with_capacity(capacity),
            hand: 0,
            capacity,
            hits: 0,
            misses: 0,
            evictions: 0,
        }
    }

    /// Puts `page` into a slot (replacing the page of the same number, or a
    /// victim of the CLOCK sweep); returns the page it displaced, for the
    /// caller to drop (or reuse) outside the lock.
    fn put(&mut self, no: u64, page: PageRef, referenced: bool) -> Option<PageRef> {
        if let Some(&i) = self.map.get(&no) {
            if let Some(slot) = self.slots.get_mut(i) {
                slot.referenced |= referenced;
                return Some(std::mem::replace(&mut slot.page, page));
            }
        }
        if self.slots.len() < self.capacity {
            self.map.insert(no, self.slots.len());
            self.slots.push(Slot { no, page, referenced });
            return None;
        }
        // CLOCK: at most two sweeps find a clear bit.
        let n = self.slots.len();
        for _ in 0..2 * n + 1 {
            let i = self.hand % n;
            self.hand = (i + 1) % n;
            let Some(slot) = self.slots.get_mut(i) else { break };
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            let old = std::mem::replace(slot, Slot { no, page, referenced });
            self.map.remove(&old.no);
            self.map.insert(no, i);
            self.evictions += 1;
            return Some(old.page);
        }
        None
    }

    fn remove(&mut self, no: u64) {
        let Some(i) = self.map.remove(&no) else { return };
        let last = self.slots.len() - 1;
        self.slots.swap_remove(i);
        if i != last {
            if let Some(moved) = self.slots.get(i) {
                self.map.insert(moved.no, i);
            }
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
    }
}

/// The sharded page cache.
pub struct PageCache {
    shards: Box<[Mutex<Shard>]>,
    capacity: usize,
}

impl PageCache {
    /// A cache of about `capacity_pages` pages (at least 8).
    pub fn new(capacity_pages: usize) -> PageCache {
        let capacity = capacity_pages.max(8);
        let nshards = (capacity / 64).clamp(1, 16);
        let per = capacity.div_ceil(nshards);
        let shards = (0..nshards).map(|_| Mutex::new(Shard::new(per))).collect();
        PageCache { shards, capacity: per * nshards }
    }

    fn shard(&self, no: PageNo) -> &Mutex<Shard> {
        let h = no.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let i = (h as usize) % self.shards.len();
        &self.shards[i]
    }

    /// The cached page `no`, counting a hit or a miss.
    pub fn get(&self, no: PageNo) -> Option<PageRef> {
        let mut s = self.shard(no).lock();
        let found = match s.map.get(&no.0) {
            Some(&i) => s.slots.get_mut(i).map(|slot| {
                slot.referenced = true;
                slot.page.clone()
            }),
            None => None,
        };
        if found.is_some() {
            s.hits += 1;
        } else {
            s.misses += 1;
        }
        found
    }

    /// The cached page `no` without counting or marking it (for reads that
    /// should not keep a page cached, such as overflow chains and checks).
    pub fn peek(&self, no: PageNo) -> Option<PageRef> {
        let s = self.shard(no).lock();
        s.map.get(&no.0).and_then(|&i| s.slots.get(i)).map(|slot| slot.page.clone())
    }

    /// Adds a page just loaded from disk, unless another reader added it
    /// meanwhile; returns the cached copy, and the page it no longer holds
    /// (the one evicted to make room, or `page` itself when another reader
    /// came first), which the caller drops or reuses outside the lock.
    pub fn insert_loaded(&self, no: PageNo, page: PageRef) -> (PageRef, Option<PageRef>) {
        let mut s = self.shard(no).lock();
        if let Some(existing) = s.map.get(&no.0).and_then(|&i| s.slots.get(i)) {
            let existing = existing.page.clone();
            drop(s);
            return (existing, Some(page));
        }
        let evicted = s.put(no.0, page.clone(), true);
        drop(s);
        (page, evicted)
    }

    /// Replaces page `no` with content this process just wrote; it enters
    /// with a clear reference bit.
    pub fn insert_written(&self, no: PageNo, page: PageRef) {
        let displaced = self.shard(no).lock().put(no.0, page, false);
        drop(displaced);
    }

    /// Forgets page `no`.
    pub fn invalidate(&self, no: PageNo) {
        self.shard(no).lock().remove(no.0);
    }

    /// Current counters.
    pub fn stats(&self) -> CacheStats {
        let mut st = CacheStats { capacity: self.capacity as u64, ..CacheStats::default() };
        for s in self.shards.iter() {
            let s = s.lock();
            st.hits += s.hits;
            st.misses += s.misses;
            st.evictions += s.evictions;
            st.resident += s.slots.len() as u64;
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(b: u8) -> PageRef {
        Arc::from(vec![b; 16])
    }

    #[test]
    fn stays_within_capacity_and_evicts_unreferenced_pages_first() {
        let c = PageCache::new(8);
        for n in 0..8 {
            c.insert_loaded(PageNo(n), page(n as u8));
        }
        // All 8 are referenced; touch nothing, insert 8 more.
        for n in 8..16 {
            c.insert_loaded(PageNo(n), page(n as u8));
        }
        let st = c.stats();
        assert_eq!(st.resident, 8);
        assert_eq!(st.evictions, 8);
        assert!(c.get(PageNo(15)).is_some());
    }

    #[test]
    fn insertion_hands_back_the_page_it_no_longer_holds() {
        let c = PageCache::new(8);
        for n in 0..8 {
            assert!(c.insert_loaded(PageNo(n), page(n as u8)).1.is_none());
        }
        // A second load of a cached page: the cached copy, the new one back.
        let (kept, spare) = c.insert_loaded(PageNo(3), page(99));
        assert_eq!((kept[0], spare.map(|p| p[0])), (3, Some(99)));
        // A full cache: the CLOCK victim comes back, and is gone from the cache.
        let (kept, evicted) = c.insert_loaded(PageNo(40), page(40));
        assert_eq!(kept[0], 40);
        let evicted = evicted.expect("a full cache evicts");
        let no = u64::from(evicted[0]);
        assert!(no < 8);
        assert!(c.peek(PageNo(no)).is_none());
    }

    #[test]
    fn written_pages_replace_stale_content() {
        let c = PageCache::new(8);
        c.insert_loaded(PageNo(3), page(1));
        c.insert_written(PageNo(3), page(2));
        assert_eq!(c.get(PageNo(3)).map(|p| p[0]), Some(2));
        c.invalidate(PageNo(3));
        assert!(c.get(PageNo(3)).is_none());
        let st = c.stats();
        assert_eq!((st.hits, st.misses), (1, 1));
    }

    #[test]
    fn removal_keeps_the_map_consistent() {
        let c = PageCache::new(8);
        for n in 0..8 {
            c.insert_loaded(PageNo(n), page(n as u8));
        }
        for n in (0..8).step_by(2) {
            c.invalidate(PageNo(n));
        }
        for n in (1..8).step_by(2) {
            assert_eq!(c.get(PageNo(n)).map(|p| p[0]), Some(n as u8));
        }
        for n in 20..30 {
            c.insert_loaded(PageNo(n), page(n as u8));
        }
        assert_eq!(c.stats().resident, 8);
    }
}
