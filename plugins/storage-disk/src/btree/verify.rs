//! A full consistency check of one tree version against the data file on
//! disk, for tests and a future `mizzle check` command.
//!
//! It reads every page of the tree, of its overflow chains and of its free
//! list from disk (bypassing the cache) and checks: checksums and headers;
//! page kinds per level; generations never above the parent's; key order
//! inside and across pages; that separators bound their children; that
//! overflow chains hold exactly their values' lengths; that the meta's
//! counts match; that no page is referenced twice; and that the tree, the
//! free list and its pages together account for every page of
//! `[2, page count)` exactly once.
//!
//! Invariants:
//! 1. Verification only reads; it never repairs.
//! 2. The first problem found is returned as `Corrupt`, naming the file and
//!    the page.

use std::collections::BTreeSet;

use mizzle_plugin_api::storage::StorageError;

use crate::ids::{Generation, PageNo};
use crate::page::{
    self, BranchView, FreeListView, LeafView, PageFault, PageKind, ValueRef, LEAF_ENTRY_OVERHEAD, PAGE_SIZE,
};
use crate::pager::{Store, TreeVersion};

/// What [`verify`] found in a consistent tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Key/value pairs.
    pub entries: u64,
    /// Bytes of keys and values.
    pub bytes: u64,
    /// Tree height.
    pub height: u8,
    /// Leaf pages.
    pub leaf_pages: u64,
    /// Branch pages.
    pub branch_pages: u64,
    /// Overflow pages.
    pub overflow_pages: u64,
    /// Pages holding the free list.
    pub free_list_pages: u64,
    /// Pages the free list lists.
    pub free_pages: u64,
    /// Bytes the leaf pages use (their layout, CRC included).
    pub leaf_bytes_used: u64,
    /// Pages of the file the meta counts.
    pub page_count: u64,
    /// Bytes the smallest leaf uses (0 for an empty tree).
    pub smallest_leaf: u64,
    /// Bytes the smallest branch other than the root uses (0 if none).
    pub smallest_branch: u64,
}

impl VerifyReport {
    /// Average fill of the leaf pages, 0.0 to 1.0.
    pub fn leaf_fill(&self) -> f64 {
        if self.leaf_pages == 0 {
            return 0.0;
        }
        self.leaf_bytes_used as f64 / (self.leaf_pages as f64 * PAGE_SIZE as f64)
    }
}

struct Checker<'a> {
    store: &'a Store,
    root: PageNo,
    page_count: u64,
    seen: BTreeSet<u64>,
    last_key: Option<Vec<u8>>,
    report: VerifyReport,
    key: Vec<u8>,
}

impl Checker<'_> {
    fn fault(&self, no: PageNo, what: impl Into<std::borrow::Cow<'static, str>>) -> StorageError {
        self.store.corrupt(PageFault::new(no, what))
    }

    /// Marks page `no` as referenced once.
    fn claim(&mut self, no: PageNo, by: &str) -> Result<(), StorageError> {
        if no.0 < 2 || no.0 >= self.page_count {
            return Err(self.fault(no, format!("{by} references it, outside pages 2..{}", self.page_count)));
        }
        if !self.seen.insert(no.0) {
            return Err(self.fault(no, format!("{by} references it, but it is referenced before")));
        }
        Ok(())
    }

    /// Reads page `no` from disk and checks it; returns it with its header.
    fn load(&self, no: PageNo, max: Generation) -> Result<(Vec<u8>, page::Header), StorageError> {
        let p = self.store.load(no)?;
        let h = page::check_page(&p, no).map_err(|f| self.store.corrupt(f))?;
        if h.generation > max {
            return Err(
                self.fault(no, format!("written by generation {}, above its parent's {}", h.generation.0, max.0))
            );
        }
        Ok((p.to_vec(), h))
    }

    fn node(
        &mut self,
        no: PageNo,
        level: u8,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
        max: Generation,
    ) -> Result<(), StorageError> {
        let (p, h) = self.load(no, max)?;
        if level == 0 {
            return self.leaf(no, &p, h.generation, lower, upper);
        }
        page::expect_kind(&h, PageKind::Branch).map_err(|f| self.store.corrupt(f))?;
        self.report.branch_pages += 1;
        let b = BranchView::new(&p, no).map_err(|f| self.store.corrupt(f))?;
        if b.len() < 2 {
            return Err(self.fault(no, format!("branch with {} child", b.len())));
        }
        if !b.sep_suffix(0).map_err(|f| self.store.corrupt(f))?.is_empty() {
            return Err(self.fault(no, "child 0 has a separator"));
        }
        if no != self.root {
            let stored: usize = (1..b.len()).map(|i| b.sep_suffix(i).map_or(0, <[u8]>::len)).sum();
            let used = page::branch_size(b.len(), stored + b.prefix().len() * (b.len() - 1), b.prefix().len()) as u64;
            self.report.smallest_branch =
                if self.report.smallest_branch == 0 { used } else { self.report.smallest_branch.min(used) };
        }
        let mut seps: Vec<Vec<u8>> = Vec::with_capacity(b.len());
        for i in 1..b.len() {
            let mut s = b.prefix().to_vec();
            s.extend_from_slice(b.sep_suffix(i).map_err(|f| self.store.corrupt(f))?);
            if seps.last().is_some_and(|prev| prev >= &s) {
                return Err(self.fault(no, format!("separator {i} is not above separator {}", i - 1)));
            }
            if lower.is_some_and(|l| s.as_slice() <= l) || upper.is_some_and(|u| s.as_slice() >= u) {
                return Err(self.fault(no, format!("separator {i} is outside the page's key range")));
            }
            seps.push(s);
        }
        for i in 0..b.len() {
            let child = b.child(i).map_err(|f| self.store.corrupt(f))?;
            self.claim(child, "a branch")?;
            let lo = if i == 0 { lower } else { seps.get(i - 1).map(Vec::as_slice) };
            let hi = if i + 1 < b.len() { seps.get(i).map(Vec::as_slice) } else { upper };
            self.node(child, level - 1, lo, hi, h.generation)?;
        }
        Ok(())
    }

    fn leaf(
        &mut self,
        no: PageNo,
        p: &[u8],
        generation: Generation,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
    ) -> Result<(), StorageError> {
        let leaf = LeafView::new(p, no).map_err(|f| self.store.corrupt(f))?;
        if leaf.is_empty() {
            return Err(self.fault(no, "empty leaf"));
        }
        self.report.leaf_pages += 1;
        let mut raw = 0usize;
        let mut spans = Vec::with_capacity(leaf.len());
        for i in 0..leaf.len() {
            let e = leaf.entry(i).map_err(|f| self.store.corrupt(f))?;
            self.key.clear();
            self.key.extend_from_slice(leaf.prefix());
            self.key.extend_from_slice(e.suffix);
            if self.key.len() > page::MAX_KEY_LEN {
                return Err(self.fault(no, format!("entry {i}: key of {} bytes", self.key.len())));
            }
            if self.last_key.as_ref().is_some_and(|k| k >= &self.key) {
                return Err(self.fault(no, format!("entry {i}: keys out of order")));
            }
            if lower.is_some_and(|l| self.key.as_slice() < l) || upper.is_some_and(|u| self.key.as_slice() >= u) {
                return Err(self.fault(no, format!("entry {i}: key outside the range its parent's separators give")));
            }
            let start = e.suffix.as_ptr() as usize - p.as_ptr() as usize - 6;
            spans.push((start, start + 6 + e.suffix.len() + e.value.stored_len()));
            raw += LEAF_ENTRY_OVERHEAD + self.key.len() + e.value.stored_len();
            self.report.entries += 1;
            self.report.bytes += (self.key.len() + e.value.len()) as u64;
            if let ValueRef::Overflow { first, len } = e.value {
                self.overflow(no, first, len, generation)?;
            }
            let key = std::mem::take(&mut self.key);
            self.key = self.last_key.replace(key).unwrap_or_default();
        }
        spans.sort_unstable();
        if spans.windows(2).any(|w| matches!(w, [a, b] if a.1 > b.0)) {
            return Err(self.fault(no, "entries overlap"));
        }
        let used = page::leaf_size(leaf.len(), raw, leaf.prefix().len()) as u64;
        self.report.leaf_bytes_used += used;
        self.report.smallest_leaf =
            if self.report.smallest_leaf == 0 { used } else { self.report.smallest_leaf.min(used) };
        Ok(())
    }

    fn overflow(&mut self, leaf: PageNo, first: PageNo, len: u32, max: Generation) -> Result<(), StorageError> {
        let mut remaining = len as usize;
        let mut no = first;
        loop {
            if no.0 == 0 {
                return Err(
                    self.fault(leaf, format!("overflow chain at page {} ends {remaining} bytes early", first.0))
                );
            }
            self.claim(no, "an overflow chain")?;
            let (p, h) = self.load(no, max)?;
            let v = page::OverflowView::new(&p, no).map_err(|f| self.store.corrupt(f))?;
            if v.data.is_empty() || v.data.len() > remaining {
                return Err(
                    self.fault(no, format!("overflow page holds {} bytes where {remaining} remain", v.data.len()))
                );
            }
            self.report.overflow_pages += 1;
            remaining -= v.data.len();
            if remaining == 0 {
                if v.next.0 != 0 {
                    return Err(self.fault(no, "overflow chain continues past the value's end"));
                }
                return Ok(());
            }
            no = v.next;
            let _ = h;
        }
    }
}

/// Checks `version` completely (see the module documentation).
pub fn verify(version: &TreeVersion) -> Result<VerifyReport, StorageError> {
    let meta = *version.meta();
    let store = version.store();
    let mut c = Checker {
        store,
        root: meta.root,
        page_count: meta.page_count,
        seen: BTreeSet::new(),
        last_key: None,
        report: VerifyReport { height: meta.height, page_count: meta.page_count, ..VerifyReport::default() },
        key: Vec::new(),
    };
    if meta.root.0 != 0 {
        c.claim(meta.root, "the meta")?;
        c.node(meta.root, meta.height - 1, None, None, meta.generation)?;
    }
    if c.report.entries != meta.entries || c.report.bytes != meta.bytes {
        return Err(StorageError::Corrupt(format!(
            "data file '{}': the meta of generation {} counts {} entries and {} bytes; the tree holds {} and {}",
            store.name(),
            meta.generation.0,
            meta.entries,
            meta.bytes,
            c.report.entries,
            c.report.bytes
        )));
    }
    // The free list.
    let mut next = meta.free_head;
    let mut listed = 0u64;
    let mut free = Vec::new();
    while next.0 != 0 {
        c.claim(next, "the free list")?;
        let (p, h) = c.load(next, meta.generation)?;
        if h.generation != meta.generation {
            return Err(c.fault(
                next,
                format!("free-list page of generation {}, not the meta's {}", h.generation.0, meta.generation.0),
            ));
        }
        let v = FreeListView::new(&p, next).map_err(|f| store.corrupt(f))?;
        c.report.free_list_pages += 1;
        for id in v.ids() {
            listed += 1;
            free.push(id);
        }
        next = v.next;
    }
    for id in free {
        c.claim(id, "the free list")?;
    }
    if listed != meta.free_count {
        return Err(StorageError::Corrupt(format!(
            "data file '{}': the free list holds {listed} pages, the meta counts {}",
            store.name(),
            meta.free_count
        )));
    }
    c.report.free_pages = listed;
    if let Some(leak) = (2..meta.page_count).find(|n| !c.seen.contains(n)) {
        return Err(c.fault(PageNo(leak), "neither the tree nor the free list accounts for it (a leaked page)"));
    }
    Ok(c.report)
}
