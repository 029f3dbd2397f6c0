//! The copy-on-write B+tree of the data file: point reads and ordered
//! iteration over one committed [`TreeVersion`], the checkpoint merge that
//! writes the next version ([`merge`]), and a full consistency check
//! ([`verify`]).
//!
//! The tree has no sibling pointers (a copy-on-write tree cannot keep them
//! up to date): an iterator keeps the path from the root to its leaf.
//!
//! Invariants:
//! 1. A reader walks one version, pinned by its `Arc` for the call or the
//!    batch; it holds page `Arc`s, never a lock, while it reads (pager
//!    invariant 1), and pages it can reach are not reused while it holds
//!    the version (D2).
//! 2. A page reached at level `l` of a version of generation `g` is a
//!    branch (l > 0) or a leaf (l = 0) written by a generation at most `g`;
//!    anything else is corruption naming the page.
//! 3. Point reads allocate nothing but the returned value
//!    ([`TreeVersion::get_with`] allocates nothing for inline values).
//!
//! This module does not buffer writes, log, or schedule checkpoints: the
//! engine does, and calls [`merge`] with its sorted changes.

mod merge;
mod verify;

use std::ops::Bound;
use std::sync::Arc;

use mizzle_plugin_api::storage::{KvBatch, StorageError};

pub use merge::merge;
pub use verify::{verify, VerifyReport};

use crate::ids::{Generation, PageNo};
use crate::page::{self, BranchView, LeafView, OverflowView, PageFault, ValueRef};
use crate::pager::{PageRef, Store, TreeVersion};

/// Checks invariant 2 for a page read at some level.
fn check_generation(store: &Store, page: &[u8], no: PageNo, max: Generation) -> Result<(), StorageError> {
    let h = page::header(page, no).map_err(|f| store.corrupt(f))?;
    if h.generation > max {
        return Err(store.corrupt(PageFault::new(
            no,
            format!(
                "written by generation {}, newer than the tree (generation {}) that references it",
                h.generation.0, max.0
            ),
        )));
    }
    Ok(())
}

/// Reads the `len` bytes of an overflow chain starting at `first` into
/// `out` (appending). Checks every page and that the chain holds exactly
/// `len` bytes.
pub(crate) fn read_overflow(
    store: &Store,
    first: PageNo,
    len: u32,
    max: Generation,
    out: &mut Vec<u8>,
) -> Result<(), StorageError> {
    walk_overflow(store, first, len, max, |_, data| out.extend_from_slice(data))
}

/// Walks an overflow chain, calling `f` with each page number and its data.
pub(crate) fn walk_overflow(
    store: &Store,
    first: PageNo,
    len: u32,
    max: Generation,
    mut f: impl FnMut(PageNo, &[u8]),
) -> Result<(), StorageError> {
    let mut remaining = len as usize;
    let mut no = first;
    loop {
        if no.0 == 0 {
            return Err(store.corrupt(PageFault::new(
                first,
                format!("overflow chain ends {remaining} bytes before the value's {len}"),
            )));
        }
        let p = store.read_cold(no)?;
        check_generation(store, &p, no, max)?;
        let view = OverflowView::new(&p, no).map_err(|e| store.corrupt(e))?;
        if view.data.is_empty() || view.data.len() > remaining {
            return Err(store.corrupt(PageFault::new(
                no,
                format!("overflow page holds {} bytes where {remaining} of the value remain", view.data.len()),
            )));
        }
        f(no, view.data);
        remaining -= view.data.len();
        if remaining == 0 {
            if view.next.0 != 0 {
                return Err(store.corrupt(PageFault::new(no, "overflow chain continues past the value's end")));
            }
            return Ok(());
        }
        no = view.next;
    }
}

impl TreeVersion {
    /// Calls `f` with the value of `key`, if present. Inline values are
    /// borrowed from the cached page (no allocation); overflow values are
    /// assembled first.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, StorageError> {
        if key.len() > page::MAX_KEY_LEN {
            return Ok(None);
        }
        let Some(root) = self.root_page()? else { return Ok(None) };
        let meta = self.meta();
        let store = self.store();
        // The page being read: the root (borrowed from the version), then
        // pages from the cache.
        let mut held: Option<PageRef> = None;
        let mut no = meta.root;
        for _ in 1..meta.height {
            let p: &[u8] = held.as_deref().unwrap_or(root);
            let b = BranchView::new(p, no).map_err(|f| store.corrupt(f))?;
            let i = b.child_for(key).map_err(|f| store.corrupt(f))?;
            let child = b.child(i).map_err(|f| store.corrupt(f))?;
            let next = store.read(child)?;
            check_generation(store, &next, child, meta.generation)?;
            held = Some(next);
            no = child;
        }
        let p: &[u8] = held.as_deref().unwrap_or(root);
        let leaf = LeafView::new(p, no).map_err(|e| store.corrupt(e))?;
        let Ok(i) = leaf.search(key).map_err(|e| store.corrupt(e))? else { return Ok(None) };
        match leaf.entry(i).map_err(|e| store.corrupt(e))?.value {
            ValueRef::Inline(v) => Ok(Some(f(v))),
            ValueRef::Overflow { first, len } => {
                let mut v = Vec::with_capacity((len as usize).min(1 << 26));
                read_overflow(store, first, len, self.generation(), &mut v)?;
                Ok(Some(f(&v)))
            }
        }
    }

    /// Reads the pairs of `[lo, hi]` (per the bounds) that lie in the one
    /// leaf holding `lo`, into `out` (appending, at most `max` in all), for
    /// short reads such as a key's versions: the upper levels are read from
    /// the version's pinned pages, so only the leaf goes through the cache.
    /// Says whether that was the whole range ([`LeafScan`]).
    /// `key` and `value` are scratch buffers (their content is replaced).
    pub fn scan_leaf(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        out: &mut KvBatch,
        max: usize,
        key: &mut Vec<u8>,
        value: &mut Vec<u8>,
    ) -> Result<LeafScan, StorageError> {
        let meta = self.meta();
        if meta.root.0 == 0 {
            return Ok(LeafScan::Complete);
        }
        let store = self.store();
        let start: Option<&[u8]> = match lo {
            Bound::Included(k) | Bound::Excluded(k) => Some(k),
            Bound::Unbounded => None,
        };
        // Whether the range provably ends inside the leaf reached: the
        // leaf's right fence (the separator after the path's child at the
        // deepest level where the path did not take the last child) lies
        // at or beyond `hi`, or the path took the last child at every
        // level. A fence from a higher level is no bound: the leaves
        // between the path and it hold keys below it. (Until December 2026
        // the first fence met, the highest, decided: a range whose end lay
        // below it but whose rest continued into the next leaf was cut at
        // the leaf's end, so a key with versions spanning two leaves lost
        // its older ones to the MVCC point read, and an UPDATE could find
        // no row.)
        let mut ends_inside = false;
        let mut rightmost = true;
        let mut held: Option<PageRef> = None;
        let mut no = meta.root;
        for _ in 1..meta.height {
            let p: &[u8] = match self.pinned(no) {
                Some(p) => p,
                None => {
                    let page = store.read(no)?;
                    check_generation(store, &page, no, meta.generation)?;
                    held = Some(page);
                    held.as_deref().unwrap_or_default()
                }
            };
            let b = BranchView::new(p, no).map_err(|f| store.corrupt(f))?;
            let i = match start {
                Some(k) => b.child_for(k).map_err(|f| store.corrupt(f))?,
                None => 0,
            };
            if i + 1 < b.len() {
                rightmost = false;
                // The fence is the page prefix followed by the suffix; a
                // deeper level's fence replaces this one.
                let suffix = b.sep_suffix(i + 1).map_err(|f| store.corrupt(f))?;
                ends_inside = match hi {
                    Bound::Included(h) => cmp_concat(h, b.prefix(), suffix).is_lt(),
                    Bound::Excluded(h) => cmp_concat(h, b.prefix(), suffix).is_le(),
                    Bound::Unbounded => false,
                };
            }
            no = b.child(i).map_err(|f| store.corrupt(f))?;
        }
        let leaf_page = match self.pinned(no) {
            Some(p) => p.clone(),
            None => {
                let page = store.read(no)?;
                check_generation(store, &page, no, meta.generation)?;
                page
            }
        };
        drop(held);
        let leaf = LeafView::new(&leaf_page, no).map_err(|f| store.corrupt(f))?;
        let mut i = match lo {
            Bound::Unbounded => 0,
            Bound::Included(k) => match leaf.search(k).map_err(|f| store.corrupt(f))? {
                Ok(i) | Err(i) => i,
            },
            Bound::Excluded(k) => match leaf.search(k).map_err(|f| store.corrupt(f))? {
                Ok(i) => i + 1,
                Err(i) => i,
            },
        };
        while i < leaf.len() {
            if out.len() >= max {
                return Ok(LeafScan::Full);
            }
            let e = leaf.entry(i).map_err(|f| store.corrupt(f))?;
            key.clear();
            key.extend_from_slice(leaf.prefix());
            key.extend_from_slice(e.suffix);
            let past = match hi {
                Bound::Included(h) => key.as_slice() > h,
                Bound::Excluded(h) => key.as_slice() >= h,
                Bound::Unbounded => false,
            };
            if past {
                return Ok(LeafScan::Complete);
            }
            match e.value {
                ValueRef::Inline(v) => out.push(key, v),
                ValueRef::Overflow { first, len } => {
                    value.clear();
                    read_overflow(store, first, len, self.generation(), value)?;
                    out.push(key, value);
                }
            }
            i += 1;
        }
        if ends_inside || rightmost {
            Ok(LeafScan::Complete)
        } else {
            Ok(LeafScan::LeafEnded)
        }
    }

    /// The largest key of this version (`None` when empty): one descent
    /// along the last children.
    pub fn last_key(&self) -> Result<Option<Vec<u8>>, StorageError> {
        let meta = *self.meta();
        if meta.root.0 == 0 {
            return Ok(None);
        }
        let store = self.store();
        let mut no = meta.root;
        for _ in 1..meta.height {
            let p = store.read(no)?;
            check_generation(store, &p, no, meta.generation)?;
            let b = BranchView::new(&p, no).map_err(|f| store.corrupt(f))?;
            let last =
                b.len().checked_sub(1).ok_or_else(|| store.corrupt(PageFault::new(no, "a branch without children")))?;
            no = b.child(last).map_err(|f| store.corrupt(f))?;
        }
        let p = store.read(no)?;
        check_generation(store, &p, no, meta.generation)?;
        let leaf = LeafView::new(&p, no).map_err(|f| store.corrupt(f))?;
        let last = leaf.len().checked_sub(1).ok_or_else(|| store.corrupt(PageFault::new(no, "an empty leaf")))?;
        let e = leaf.entry(last).map_err(|f| store.corrupt(f))?;
        let mut k = leaf.prefix().to_vec();
        k.extend_from_slice(e.suffix);
        Ok(Some(k))
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.get_with(key, |v| v.to_vec())
    }

    /// An iterator over the keys in `[start, end]` (per the bounds), in
    /// ascending order, pinning this version.
    pub fn range(self: &Arc<Self>, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Result<TreeIter, StorageError> {
        self.range_with(start, end, IterBuffers::default(), false)
    }

    /// [`TreeVersion::range`] reusing the allocations of an earlier
    /// iterator, ascending or (`desc`) from the last key at or below `end`
    /// down to `start`.
    pub fn range_with(
        self: &Arc<Self>,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        bufs: IterBuffers,
        desc: bool,
    ) -> Result<TreeIter, StorageError> {
        let mut it = TreeIter::with_buffers(self.clone(), bufs);
        it.rev = desc;
        // Iteration stops at the bound it moves towards: the lower one
        // descending.
        it.set_end(if desc { start } else { end });
        it.descend(if desc { end } else { start }, desc)?;
        Ok(it)
    }
}

/// Compares `a` with the concatenation `p1 ‖ p2` without building it.
fn cmp_concat(a: &[u8], p1: &[u8], p2: &[u8]) -> std::cmp::Ordering {
    let n = a.len().min(p1.len());
    match a[..n].cmp(&p1[..n]) {
        std::cmp::Ordering::Equal if a.len() <= p1.len() => a.len().cmp(&(p1.len() + p2.len())),
        std::cmp::Ordering::Equal => a[n..].cmp(p2),
        other => other,
    }
}

/// How [`TreeVersion::scan_leaf`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafScan {
    /// Every pair of the range in this version was read.
    Complete,
    /// `max` pairs were read; more of the range may follow the last.
    Full,
    /// The leaf ended; later leaves may hold more of the range.
    LeafEnded,
}

/// A key and its value, borrowed from a [`TreeIter`].
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// One branch on the iterator's path: the page and the child taken.
struct Frame {
    no: PageNo,
    page: PageRef,
    child: usize,
    count: usize,
}

/// An iterator over one tree version, ascending (seek to a start bound,
/// then take pairs until the end bound) or descending
/// ([`TreeVersion::range_with`] with `desc`: from an upper bound down to a
/// lower one). Keys and inline values are borrowed from the iterator (no
/// allocation per pair).
pub struct TreeIter {
    version: Arc<TreeVersion>,
    path: Vec<Frame>,
    leaf: Option<(PageNo, PageRef)>,
    /// Ascending: the leaf entry returned next. Descending: the number of
    /// the leaf's entries still ahead (the next is `pos - 1`).
    pos: usize,
    /// Descending order.
    rev: bool,
    /// Where iteration stops: the upper bound ascending, the lower one
    /// descending.
    end: Bound<Vec<u8>>,
    /// The end bound's buffer while the bound is unbounded (kept for reuse).
    spare_end: Vec<u8>,
    key: Vec<u8>,
    value: Vec<u8>,
    done: bool,
}

/// The allocations of a finished [`TreeIter`], handed back so the next one
/// needs none ([`TreeIter::into_buffers`], [`TreeVersion::range_with`]).
/// Holds no page and no version.
#[derive(Default)]
pub struct IterBuffers {
    path: Vec<Frame>,
    end: Vec<u8>,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl std::fmt::Debug for TreeIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeIter").field("generation", &self.version.generation()).field("done", &self.done).finish()
    }
}

impl TreeIter {
    /// An iterator over `version`, positioned before its first key, with
    /// no end bound.
    pub fn new(version: Arc<TreeVersion>) -> TreeIter {
        TreeIter::with_buffers(version, IterBuffers::default())
    }

    /// [`TreeIter::new`] reusing the allocations of an earlier iterator.
    pub fn with_buffers(version: Arc<TreeVersion>, mut b: IterBuffers) -> TreeIter {
        b.path.clear();
        let mut it = TreeIter {
            version,
            path: b.path,
            leaf: None,
            pos: 0,
            rev: false,
            end: Bound::Unbounded,
            spare_end: b.end,
            key: b.key,
            value: b.value,
            done: false,
        };
        it.done = it.version.meta().root.0 == 0;
        it
    }

    /// Ends the iterator, releasing its version and pages and keeping its
    /// allocations.
    pub fn into_buffers(mut self) -> IterBuffers {
        self.path.clear();
        let end = match std::mem::replace(&mut self.end, Bound::Unbounded) {
            Bound::Included(v) | Bound::Excluded(v) => v,
            Bound::Unbounded => std::mem::take(&mut self.spare_end),
        };
        IterBuffers {
            path: std::mem::take(&mut self.path),
            end,
            key: std::mem::take(&mut self.key),
            value: std::mem::take(&mut self.value),
        }
    }

    /// The version this iterator reads.
    pub fn version(&self) -> &Arc<TreeVersion> {
        &self.version
    }

    /// Sets the end bound (later pairs are not returned).
    pub fn set_end(&mut self, end: Bound<&[u8]>) {
        let mut buf = match std::mem::replace(&mut self.end, Bound::Unbounded) {
            Bound::Included(v) | Bound::Excluded(v) => v,
            Bound::Unbounded => std::mem::take(&mut self.spare_end),
        };
        buf.clear();
        self.end = match end {
            Bound::Included(k) => {
                buf.extend_from_slice(k);
                Bound::Included(buf)
            }
            Bound::Excluded(k) => {
                buf.extend_from_slice(k);
                Bound::Excluded(buf)
            }
            Bound::Unbounded => {
                self.spare_end = buf;
                Bound::Unbounded
            }
        };
    }

    /// Positions the iterator so that the next pair is the first one after
    /// `start` (inclusive or exclusive); for a descending iterator, the last
    /// one at or below it. May move either way.
    pub fn seek(&mut self, start: Bound<&[u8]>) -> Result<(), StorageError> {
        self.descend(start, self.rev)
    }

    /// Descends to the leaf holding `bound` (the first leaf, or with
    /// `back` the last, when unbounded) and sets `pos`: ascending, to the
    /// first entry after the bound; descending (`back`), past the last
    /// entry at or below it.
    fn descend(&mut self, bound: Bound<&[u8]>, back: bool) -> Result<(), StorageError> {
        self.path.clear();
        self.leaf = None;
        self.pos = 0;
        let meta = *self.version.meta();
        self.done = meta.root.0 == 0;
        if self.done {
            return Ok(());
        }
        let key = match bound {
            Bound::Included(k) | Bound::Excluded(k) => Some(k),
            Bound::Unbounded => None,
        };
        let store = self.version.store();
        let mut no = meta.root;
        for _ in 1..meta.height {
            let p = store.read(no)?;
            check_generation(store, &p, no, meta.generation)?;
            let b = BranchView::new(&p, no).map_err(|f| store.corrupt(f))?;
            let count = b.len();
            let child = match key {
                Some(k) => b.child_for(k).map_err(|f| store.corrupt(f))?,
                None if back => count.saturating_sub(1),
                None => 0,
            };
            let next = b.child(child).map_err(|f| store.corrupt(f))?;
            self.path.push(Frame { no, page: p, child, count });
            no = next;
        }
        let p = store.read(no)?;
        check_generation(store, &p, no, meta.generation)?;
        let leaf = LeafView::new(&p, no).map_err(|f| store.corrupt(f))?;
        let found = match key {
            Some(k) => Some(leaf.search(k).map_err(|f| store.corrupt(f))?),
            None => None,
        };
        // Ascending, the first entry to return; descending, one past it.
        self.pos = match (bound, found) {
            (Bound::Unbounded, _) | (_, None) => {
                if back {
                    leaf.len()
                } else {
                    0
                }
            }
            (Bound::Included(_), Some(Ok(i))) => i + usize::from(back),
            (Bound::Excluded(_), Some(Ok(i))) => i + usize::from(!back),
            (_, Some(Err(i))) => i,
        };
        self.leaf = Some((no, p));
        Ok(())
    }

    /// Moves to the leaf after the current one (with `back`, the one
    /// before), at its first entry (with `back`, past its last); sets
    /// `done` past the end.
    fn step_leaf(&mut self, back: bool) -> Result<(), StorageError> {
        let meta = *self.version.meta();
        let store = self.version.store();
        self.leaf = None;
        self.pos = 0;
        // Climb to the lowest branch with a child on that side.
        while let Some(top) = self.path.last_mut() {
            if back && top.child > 0 {
                top.child -= 1;
                break;
            }
            if !back && top.child + 1 < top.count {
                top.child += 1;
                break;
            }
            self.path.pop();
        }
        let Some(top) = self.path.last() else {
            self.done = true;
            return Ok(());
        };
        let b = BranchView::new(&top.page, top.no).map_err(|f| store.corrupt(f))?;
        let mut no = b.child(top.child).map_err(|f| store.corrupt(f))?;
        // Descend along first children (with `back`, last children).
        while self.path.len() + 1 < usize::from(meta.height) {
            let p = store.read(no)?;
            check_generation(store, &p, no, meta.generation)?;
            let b = BranchView::new(&p, no).map_err(|f| store.corrupt(f))?;
            let count = b.len();
            let child = if back {
                count.checked_sub(1).ok_or_else(|| store.corrupt(PageFault::new(no, "a branch without children")))?
            } else {
                0
            };
            let next = b.child(child).map_err(|f| store.corrupt(f))?;
            self.path.push(Frame { no, page: p, child, count });
            no = next;
        }
        let p = store.read(no)?;
        check_generation(store, &p, no, meta.generation)?;
        if back {
            self.pos = LeafView::new(&p, no).map_err(|f| store.corrupt(f))?.len();
        }
        self.leaf = Some((no, p));
        Ok(())
    }

    /// The next pair in the iterator's order, or `None` past its end bound
    /// or the last key. The slices stay valid until the next call.
    pub fn next_pair(&mut self) -> Result<Option<Pair<'_>>, StorageError> {
        let back = self.rev;
        // Find a leaf with an entry to return: at `pos` ascending, before
        // it descending.
        loop {
            if self.done {
                return Ok(None);
            }
            let ready = if back {
                self.pos > 0
            } else {
                match &self.leaf {
                    Some((no, p)) => {
                        self.pos < LeafView::new(p, *no).map_err(|f| self.version.store().corrupt(f))?.len()
                    }
                    None => false,
                }
            };
            if ready {
                break;
            }
            self.step_leaf(back)?;
        }
        let TreeIter { version, leaf, pos, end, key, value, done, .. } = self;
        let store = version.store();
        let Some((no, p)) = leaf.as_ref() else { return Ok(None) };
        let view = LeafView::new(p, *no).map_err(|f| store.corrupt(f))?;
        let at = if back { *pos - 1 } else { *pos };
        let e = view.entry(at).map_err(|f| store.corrupt(f))?;
        key.clear();
        key.extend_from_slice(view.prefix());
        key.extend_from_slice(e.suffix);
        // The end bound: above it ascending, below it descending.
        let past_end = match (end, back) {
            (Bound::Included(k), false) => key.as_slice() > k.as_slice(),
            (Bound::Excluded(k), false) => key.as_slice() >= k.as_slice(),
            (Bound::Included(k), true) => key.as_slice() < k.as_slice(),
            (Bound::Excluded(k), true) => key.as_slice() <= k.as_slice(),
            (Bound::Unbounded, _) => false,
        };
        if past_end {
            *done = true;
            return Ok(None);
        }
        if back {
            *pos -= 1;
        } else {
            *pos += 1;
        }
        let v: &[u8] = match e.value {
            ValueRef::Inline(v) => v,
            ValueRef::Overflow { first, len } => {
                value.clear();
                read_overflow(store, first, len, version.generation(), value)?;
                value
            }
        };
        Ok(Some((key, v)))
    }

    /// Clears `out` and fills it with the next pairs, at most `max_pairs`
    /// (at least one is asked for). Returns `false` once the range is
    /// exhausted and `out` is empty.
    pub fn fill(&mut self, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        out.clear();
        while out.len() < max_pairs.max(1) {
            match self.next_pair()? {
                Some((k, v)) => out.push(k, v),
                None => break,
            }
        }
        Ok(!out.is_empty())
    }
}

#[cfg(test)]
mod cmp_tests {
    use super::cmp_concat;

    #[test]
    fn cmp_concat_agrees_with_comparing_the_concatenation() {
        let parts: [&[u8]; 6] = [b"", b"a", b"ab", b"abc", b"b", b"abd"];
        for a in parts {
            for p1 in parts {
                for p2 in parts {
                    let whole = [p1, p2].concat();
                    assert_eq!(cmp_concat(a, p1, p2), a.cmp(whole.as_slice()), "{a:?} vs {p1:?}+{p2:?}");
                }
            }
        }
    }
}
