//! The checkpoint merge: the base tree plus a sorted stream of changes
//! gives the next tree, rewriting only the leaves and branch paths the
//! changes touch.
//!
//! # How it works
//!
//! The merge descends the base tree along the change stream. A child whose
//! key range holds no change is *untouched*: it is reused whole, a pointer
//! into the new tree. A touched leaf is read and merged with its changes;
//! a touched branch is read and its children are visited in order.
//!
//! Everything the new tree holds flows, in key order, into one *builder
//! per level*: level 0 takes key/value entries and produces leaf pages;
//! level `l > 0` takes `(separator, page of level l - 1)` items and produces
//! branch pages of level `l`. A builder keeps at most about two pages of
//! pending items: when it holds more, it writes one full page from the
//! front and hands it up. So a stream of any length needs a few pages of
//! memory per level, and a bulk load of ascending keys writes full pages.
//!
//! Before an untouched page of level `l` joins the builder of level
//! `l + 1`, the builders of levels `0..=l` are finished: what they hold is
//! split *evenly* over as few pages as fit, and handed up. Consecutive
//! touched pages therefore share one builder run and are repacked
//! together; an untouched page breaks a run.
//!
//! Small pages are avoided in two ways:
//! - *right absorption*: when a builder at or below the untouched page's
//!   level holds less than a quarter page (or a branch builder fewer than
//!   two children), the untouched page is not reused but opened, and its
//!   content flows into the builders (recursively, so only its left spine
//!   is rewritten);
//! - *left absorption*: when a builder is finished with less than a
//!   quarter page, it takes back the page handed up just before it (its
//!   left neighbour, which may be an untouched page) and repacks both.
//!
//! Empty leaves vanish (nothing flows), a root that splits gets a parent
//! (the top builder produced several pages), and a root left with one
//! child is dropped (the top builder holds one item: that is the root).
//!
//! Separators: a page's separator is a lower bound of its keys that is
//! above every key before it. A builder run starts with the lower bound of
//! the first base page it takes content from (every key before that page
//! is below it); inside a run, the separator between two new leaves is the
//! shortest prefix of the right leaf's first key above the left leaf's
//! last key (suffix truncation). Branch pages take their first child's
//! separator.
//!
//! Invariants:
//! 1. Pages of the base tree are never written; every page written comes
//!    from [`Checkpoint::allocate`] (D1). Every base page the new tree does
//!    not use (rewritten pages, overflow chains of replaced or deleted
//!    values) is retired exactly once.
//! 2. Overflow chains of values that are not replaced are shared, not
//!    copied; untouched subtrees are shared.
//! 3. Memory is bounded by a few pages per level plus the recursion's path,
//!    whatever the length of the change stream.
//! 4. The change stream must be strictly ascending; a key out of order is
//!    an internal error and nothing is committed.
//!
//! The merge writes pages but does not commit: the caller passes the
//! [`NewTree`] to [`Checkpoint::commit`].

use std::cmp::Ordering;
use std::iter::Peekable;

use mizzle_plugin_api::storage::StorageError;

use crate::ids::{Generation, PageNo};
use crate::page::{
    self, branch_size, common_prefix, internal, leaf_size, BranchView, LeafView, PageFault, ValueRef,
    BRANCH_ENTRY_OVERHEAD, LEAF_ENTRY_OVERHEAD, MAX_HEIGHT, OVERFLOW_CAPACITY, PAGE_SIZE,
};
use crate::pager::{Checkpoint, NewTree, PageRef};

/// A builder flushes a page from its front once it holds this many raw
/// bytes (about two pages).
const SPILL: usize = 2 * PAGE_SIZE;
/// A builder holding less than this is underfull.
const UNDERFULL: usize = PAGE_SIZE / 4;

/// Merges `changes` into the base tree of `ck` and writes the new tree's
/// pages; returns the tree to commit. `changes` is strictly ascending by
/// key: `(key, Some(value))` puts, `(key, None)` deletes (a no-op for an
/// absent key).
pub fn merge<I, K, V>(ck: &mut Checkpoint<'_>, changes: I) -> Result<NewTree, StorageError>
where
    I: IntoIterator<Item = (K, Option<V>)>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let base = ck.base().meta().to_owned();
    let mut m = Merger {
        generation: ck.generation(),
        base_generation: base.generation,
        ck,
        changes: changes.into_iter().peekable(),
        last_key: None,
        leaf: LeafBuilder::default(),
        branches: Vec::new(),
        entries: i128::from(base.entries),
        bytes: i128::from(base.bytes),
        buf: vec![0u8; PAGE_SIZE],
    };
    if base.root.0 == 0 {
        m.leaf.start(b"");
        while let Some((key, value)) = m.take()? {
            if let Some(v) = value {
                m.entries += 1;
                m.bytes += (key.as_ref().len() + v.as_ref().len()) as i128;
                m.push_put(&[], key.as_ref(), v.as_ref())?;
            }
        }
    } else if m.changes.peek().is_some() {
        m.process(base.root, base.height - 1, b"", None)?;
    } else {
        return Ok(NewTree { root: base.root, height: base.height, entries: base.entries, bytes: base.bytes });
    }
    m.finish()
}

/// Where a pending leaf entry's value is.
#[derive(Debug, Clone, Copy)]
enum PVal {
    /// Bytes in the builder's arena.
    Inline { start: usize, len: usize },
    /// An overflow chain.
    Overflow { first: PageNo, len: u32 },
}

#[derive(Debug, Clone, Copy)]
struct PEntry {
    key_start: usize,
    key_len: usize,
    val: PVal,
}

impl PEntry {
    fn raw(&self) -> usize {
        LEAF_ENTRY_OVERHEAD
            + self.key_len
            + match self.val {
                PVal::Inline { len, .. } => len,
                PVal::Overflow { .. } => 8,
            }
    }
}

/// Items a builder packs into pages.
trait Packable {
    fn count(&self) -> usize;
    /// Item `i`'s share of a page's bytes.
    fn weight(&self, i: usize) -> usize;
    /// The size of a page holding items `a..b`, whose weights sum to `w`.
    fn size_with(&self, a: usize, b: usize, w: usize) -> usize;
}

impl Packable for LeafBuilder {
    fn count(&self) -> usize {
        self.items.len()
    }

    fn weight(&self, i: usize) -> usize {
        self.items.get(i).map_or(0, PEntry::raw)
    }

    fn size_with(&self, a: usize, b: usize, w: usize) -> usize {
        let lcp = if b > a { common_prefix(self.key(a), self.key(b - 1)) } else { 0 };
        leaf_size(b - a, w, lcp)
    }
}

impl Packable for BranchBuilder {
    fn count(&self) -> usize {
        self.items.len()
    }

    fn weight(&self, i: usize) -> usize {
        self.items.get(i).map_or(0, |it| BRANCH_ENTRY_OVERHEAD + it.sep_len)
    }

    /// Item `a`'s separator moves up to the parent; the others share the
    /// prefix of separators `a + 1` and `b - 1`.
    fn size_with(&self, a: usize, b: usize, w: usize) -> usize {
        if b <= a + 1 {
            return branch_size(b - a, 0, 0);
        }
        let k = b - a;
        let first = self.items.get(a).map_or(0, |it| it.sep_len);
        let seps = w.saturating_sub(k * BRANCH_ENTRY_OVERHEAD + first);
        branch_size(k, seps, common_prefix(self.sep(a + 1), self.sep(b - 1)))
    }
}

/// The level-0 builder: pending entries in one arena.
#[derive(Default)]
struct LeafBuilder {
    arena: Vec<u8>,
    items: Vec<PEntry>,
    raw: usize,
    /// The separator of the run's first page (a lower bound of the run).
    run_lower: Option<Vec<u8>>,
    /// The last key of the page last emitted in this run.
    prev_last: Vec<u8>,
    emitted: bool,
}

impl LeafBuilder {
    fn key(&self, i: usize) -> &[u8] {
        match self.items.get(i) {
            Some(e) => self.arena.get(e.key_start..e.key_start + e.key_len).unwrap_or(&[]),
            None => &[],
        }
    }

    fn value(&self, e: &PEntry) -> ValueRef<'_> {
        match e.val {
            PVal::Inline { start, len } => ValueRef::Inline(self.arena.get(start..start + len).unwrap_or(&[])),
            PVal::Overflow { first, len } => ValueRef::Overflow { first, len },
        }
    }

    /// Notes the lower bound of a base page whose content is about to flow
    /// in; it becomes the run's separator if the run has not started.
    fn start(&mut self, lower: &[u8]) {
        if self.items.is_empty() && !self.emitted {
            self.run_lower = Some(lower.to_vec());
        }
    }

    fn push(&mut self, prefix: &[u8], suffix: &[u8], value: ValueRef<'_>) {
        let key_start = self.arena.len();
        self.arena.extend_from_slice(prefix);
        self.arena.extend_from_slice(suffix);
        let val = match value {
            ValueRef::Inline(v) => {
                let start = self.arena.len();
                self.arena.extend_from_slice(v);
                PVal::Inline { start, len: v.len() }
            }
            ValueRef::Overflow { first, len } => PVal::Overflow { first, len },
        };
        let e = PEntry { key_start, key_len: prefix.len() + suffix.len(), val };
        self.raw += e.raw();
        self.items.push(e);
    }

    fn underfull(&self) -> bool {
        !self.items.is_empty() && self.size_with(0, self.items.len(), self.raw) < UNDERFULL
    }

    /// Drops items `..n` and their arena bytes.
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.items.len());
        self.raw -= self.items.iter().take(n).map(PEntry::raw).sum::<usize>();
        self.items.drain(..n);
        let shift = self.items.first().map_or(self.arena.len(), |e| e.key_start);
        self.arena.drain(..shift);
        for e in &mut self.items {
            e.key_start -= shift;
            if let PVal::Inline { start, .. } = &mut e.val {
                *start -= shift;
            }
        }
    }

    fn reset_run(&mut self) {
        self.arena.clear();
        self.items.clear();
        self.raw = 0;
        self.run_lower = None;
        self.prev_last.clear();
        self.emitted = false;
    }
}

#[derive(Debug, Clone, Copy)]
struct BItem {
    sep_start: usize,
    sep_len: usize,
    child: PageNo,
}

/// A builder of branch pages of one level.
#[derive(Default)]
struct BranchBuilder {
    arena: Vec<u8>,
    items: Vec<BItem>,
    raw: usize,
}

impl BranchBuilder {
    fn sep(&self, i: usize) -> &[u8] {
        match self.items.get(i) {
            Some(it) => self.arena.get(it.sep_start..it.sep_start + it.sep_len).unwrap_or(&[]),
            None => &[],
        }
    }

    fn push(&mut self, sep: &[u8], child: PageNo) {
        let sep_start = self.arena.len();
        self.arena.extend_from_slice(sep);
        self.items.push(BItem { sep_start, sep_len: sep.len(), child });
        self.raw += BRANCH_ENTRY_OVERHEAD + sep.len();
    }

    fn pop(&mut self) -> Option<(Vec<u8>, PageNo)> {
        let it = self.items.pop()?;
        let sep = self.arena.get(it.sep_start..it.sep_start + it.sep_len).unwrap_or(&[]).to_vec();
        self.arena.truncate(it.sep_start);
        self.raw -= BRANCH_ENTRY_OVERHEAD + it.sep_len;
        Some((sep, it.child))
    }

    fn underfull(&self) -> bool {
        !self.items.is_empty() && (self.items.len() < 2 || self.size_with(0, self.items.len(), self.raw) < UNDERFULL)
    }

    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.items.len());
        self.raw -= self.items.iter().take(n).map(|it| BRANCH_ENTRY_OVERHEAD + it.sep_len).sum::<usize>();
        self.items.drain(..n);
        let shift = self.items.first().map_or(self.arena.len(), |it| it.sep_start);
        self.arena.drain(..shift);
        for it in &mut self.items {
            it.sep_start -= shift;
        }
    }
}

/// The end of the longest run of items from `a` (below `limit`) that fits
/// in one page; at least `a + 1`.
fn chunk_end(p: &impl Packable, a: usize, limit: usize) -> usize {
    let mut w = p.weight(a);
    let mut b = a + 1;
    while b < limit {
        let w2 = w + p.weight(b);
        if p.size_with(a, b + 1, w2) > PAGE_SIZE {
            break;
        }
        w = w2;
        b += 1;
    }
    b
}

/// Splits all items into as few pages as greedy packing needs, with
/// weights as even as the items allow; every page gets at least
/// `min_items` items (when there are enough). Returns each page's end.
fn plan(p: &impl Packable, min_items: usize) -> Vec<usize> {
    let n = p.count();
    let mut greedy_ends = Vec::new();
    let mut a = 0;
    while a < n {
        let b = chunk_end(p, a, n);
        greedy_ends.push(b);
        a = b;
    }
    let pages = greedy_ends.len();
    if pages <= 1 {
        return vec![n];
    }
    // Even packing over the same number of pages: each page aims at an
    // equal share of the real size of what is left (a branch page does
    // not store its first separator, and a leaf's prefix is stored once,
    // so real sizes, not item weights, are what must be balanced).
    let total: usize = (0..n).map(|i| p.weight(i)).sum();
    let mut ends = Vec::with_capacity(pages);
    let (mut a, mut done) = (0, 0);
    for page in 0..pages - 1 {
        let target = p.size_with(a, n, total - done) / (pages - page);
        let max_b = n.saturating_sub(min_items * (pages - page - 1));
        let (mut b, mut acc, mut size) = (a, 0, 0);
        while b < max_b {
            let w = acc + p.weight(b);
            let next = p.size_with(a, b + 1, w);
            if next > PAGE_SIZE {
                break;
            }
            if next > target && b - a >= min_items {
                // Take the item if that lands closer to the target.
                if next - target < target.saturating_sub(size) {
                    acc = w;
                    b += 1;
                }
                break;
            }
            acc = w;
            size = next;
            b += 1;
        }
        if b - a < min_items.max(1) {
            break;
        }
        ends.push(b);
        done += acc;
        a = b;
    }
    ends.push(n);
    let mut start = 0;
    let mut ok = ends.len() == pages;
    for &end in &ends {
        let w: usize = (start..end).map(|i| p.weight(i)).sum();
        ok &= end > start && end - start >= min_items.min(n) && p.size_with(start, end, w) <= PAGE_SIZE;
        start = end;
    }
    if ok {
        return ends;
    }
    // Fall back to greedy; top up a short last page from its neighbour
    // (a page holds at least four items of any size, so this fits).
    let len = greedy_ends.len();
    if len >= 2 {
        let last_start = greedy_ends.get(len - 2).copied().unwrap_or(0);
        if n - last_start < min_items {
            if let Some(e) = greedy_ends.get_mut(len - 2) {
                *e = n - min_items;
            }
        }
    }
    greedy_ends
}

/// The shortest separator `s` with `left < s <= right` (`left < right`).
fn shortest_separator(left: &[u8], right: &[u8]) -> Vec<u8> {
    let n = common_prefix(left, right);
    right.get(..n + 1).unwrap_or(right).to_vec()
}

/// Compares `prefix ++ suffix` with `key` without building the former.
fn cmp_split(prefix: &[u8], suffix: &[u8], key: &[u8]) -> Ordering {
    let n = prefix.len().min(key.len());
    match prefix.get(..n).cmp(&key.get(..n)) {
        Ordering::Equal if key.len() < prefix.len() => Ordering::Greater,
        Ordering::Equal => suffix.cmp(key.get(prefix.len()..).unwrap_or(&[])),
        o => o,
    }
}

struct Merger<'a, 'p, I: Iterator> {
    ck: &'a mut Checkpoint<'p>,
    generation: Generation,
    base_generation: Generation,
    changes: Peekable<I>,
    last_key: Option<Vec<u8>>,
    leaf: LeafBuilder,
    /// `branches[l - 1]` builds pages of level `l`.
    branches: Vec<BranchBuilder>,
    entries: i128,
    bytes: i128,
    buf: Vec<u8>,
}

enum Step {
    Old,
    Change,
    Both,
    Done,
}

impl<I, K, V> Merger<'_, '_, I>
where
    I: Iterator<Item = (K, Option<V>)>,
    K: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    // --- The change stream -------------------------------------------------

    /// True if the next change's key is below `upper` (any key if `None`).
    fn change_below(&mut self, upper: Option<&[u8]>) -> bool {
        match (self.changes.peek(), upper) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some((k, _)), Some(u)) => k.as_ref() < u,
        }
    }

    /// Takes the next change, checking the order (invariant 4).
    fn take(&mut self) -> Result<Option<(K, Option<V>)>, StorageError> {
        let Some((k, v)) = self.changes.next() else { return Ok(None) };
        if let Some(last) = &self.last_key {
            if k.as_ref() <= last.as_slice() {
                return Err(internal("checkpoint changes are not in strictly ascending key order"));
            }
        }
        let last = self.last_key.get_or_insert_with(Vec::new);
        last.clear();
        last.extend_from_slice(k.as_ref());
        if let Some(v) = &v {
            page::check_key(k.as_ref())?;
            page::check_value(v.as_ref())?;
        }
        Ok(Some((k, v)))
    }

    // --- Reading the base tree ----------------------------------------------

    fn read(&self, no: PageNo) -> Result<PageRef, StorageError> {
        let p = self.ck.read_page(no)?;
        let store = self.ck.store();
        let h = page::header(&p, no).map_err(|f| store.corrupt(f))?;
        if h.generation > self.base_generation {
            return Err(store.corrupt(PageFault::new(
                no,
                format!(
                    "written by generation {}, newer than the tree being merged ({})",
                    h.generation.0, self.base_generation.0
                ),
            )));
        }
        Ok(p)
    }

    fn corrupt(&self, f: PageFault) -> StorageError {
        self.ck.store().corrupt(f)
    }

    /// Frees page `no` (content `p`), which the new tree no longer uses: a
    /// base page is retired, a page this checkpoint wrote (it carries this
    /// generation) is released at once.
    fn drop_page(&mut self, no: PageNo, p: &[u8]) -> Result<(), StorageError> {
        let h = page::header(p, no).map_err(|f| self.corrupt(f))?;
        if h.generation == self.generation {
            self.ck.release_new(no);
        } else {
            self.ck.retire(no);
        }
        Ok(())
    }

    fn retire_overflow(&mut self, first: PageNo, len: u32) -> Result<(), StorageError> {
        let mut pages = Vec::new();
        super::walk_overflow(self.ck.store(), first, len, self.base_generation, |no, _| pages.push(no))?;
        for p in pages {
            self.ck.retire(p);
        }
        Ok(())
    }

    // --- Descending -----------------------------------------------------------

    /// Merges the changes below `upper` into base page `no` of `level`,
    /// whose keys are at least `lower`.
    fn process(&mut self, no: PageNo, level: u8, lower: &[u8], upper: Option<&[u8]>) -> Result<(), StorageError> {
        if level == 0 {
            return self.process_leaf(no, lower, upper);
        }
        let p = self.read(no)?;
        let b = BranchView::new(&p, no).map_err(|f| self.corrupt(f))?;
        self.ck.retire(no);
        let n = b.len();
        let mut sep = lower.to_vec();
        let mut next_sep = Vec::new();
        for i in 0..n {
            let child = b.child(i).map_err(|f| self.corrupt(f))?;
            let child_upper = if i + 1 < n {
                next_sep.clear();
                next_sep.extend_from_slice(b.prefix());
                next_sep.extend_from_slice(b.sep_suffix(i + 1).map_err(|f| self.corrupt(f))?);
                Some(next_sep.as_slice())
            } else {
                upper
            };
            if self.change_below(child_upper) {
                self.process(child, level - 1, &sep, child_upper)?;
            } else {
                self.feed_untouched(child, level - 1, &sep)?;
            }
            std::mem::swap(&mut sep, &mut next_sep);
        }
        Ok(())
    }

    /// Merges the changes below `upper` into base leaf `no`.
    fn process_leaf(&mut self, no: PageNo, lower: &[u8], upper: Option<&[u8]>) -> Result<(), StorageError> {
        let p = self.read(no)?;
        let leaf = LeafView::new(&p, no).map_err(|f| self.corrupt(f))?;
        // Deletes of absent keys change nothing: if only those fall into
        // this leaf, it stays untouched.
        loop {
            let found = match self.changes.peek() {
                Some((k, None)) if upper.is_none_or(|u| k.as_ref() < u) => Some(leaf.search(k.as_ref())),
                _ => None,
            };
            let skip = match found {
                Some(r) => r.map_err(|f| self.corrupt(f))?.is_err(),
                None => false,
            };
            if !skip {
                break;
            }
            self.take()?;
        }
        if !self.change_below(upper) {
            return self.feed_untouched(no, 0, lower);
        }
        self.ck.retire(no);
        self.leaf.start(lower);
        let prefix = leaf.prefix();
        let mut i = 0;
        loop {
            let old = if i < leaf.len() { Some(leaf.entry(i).map_err(|f| self.corrupt(f))?) } else { None };
            let step = {
                let ch = match (self.changes.peek(), upper) {
                    (Some((k, _)), Some(u)) if k.as_ref() >= u => None,
                    (Some((k, _)), _) => Some(k.as_ref()),
                    (None, _) => None,
                };
                match (&old, ch) {
                    (None, None) => Step::Done,
                    (Some(_), None) => Step::Old,
                    (None, Some(_)) => Step::Change,
                    (Some(e), Some(k)) => match cmp_split(prefix, e.suffix, k) {
                        Ordering::Less => Step::Old,
                        Ordering::Greater => Step::Change,
                        Ordering::Equal => Step::Both,
                    },
                }
            };
            match step {
                Step::Done => break,
                Step::Old => {
                    if let Some(e) = old {
                        self.push_entry(prefix, e.suffix, e.value)?;
                    }
                    i += 1;
                }
                Step::Change => {
                    if let Some((k, Some(v))) = self.take()? {
                        self.entries += 1;
                        self.bytes += (k.as_ref().len() + v.as_ref().len()) as i128;
                        self.push_put(&[], k.as_ref(), v.as_ref())?;
                    }
                }
                Step::Both => {
                    let Some(e) = old else { break };
                    let old_len = (prefix.len() + e.suffix.len() + e.value.len()) as i128;
                    if let ValueRef::Overflow { first, len } = e.value {
                        self.retire_overflow(first, len)?;
                    }
                    self.entries -= 1;
                    self.bytes -= old_len;
                    if let Some((k, Some(v))) = self.take()? {
                        self.entries += 1;
                        self.bytes += (k.as_ref().len() + v.as_ref().len()) as i128;
                        self.push_put(&[], k.as_ref(), v.as_ref())?;
                    }
                    i += 1;
                }
            }
        }
        Ok(())
    }

    /// Base page `no` of `level` (keys at least `sep`) holds no change: it
    /// joins the new tree whole, unless a builder at or below its level is
    /// underfull; then it is opened and its content flows in (right
    /// absorption).
    fn feed_untouched(&mut self, no: PageNo, level: u8, sep: &[u8]) -> Result<(), StorageError> {
        let underfull = (0..=level).any(|j| self.underfull(j));
        if !underfull {
            self.flush_upto(level)?;
            self.branch(level + 1)?.push(sep, no);
            return self.spill(level + 1);
        }
        let p = self.read(no)?;
        self.ck.retire(no);
        self.absorb(&p, no, level, sep)
    }

    /// Feeds the content of page `p` (number `no`, of `level`, keys at
    /// least `sep`) into the builders as untouched content.
    fn absorb(&mut self, p: &[u8], no: PageNo, level: u8, sep: &[u8]) -> Result<(), StorageError> {
        if level == 0 {
            let leaf = LeafView::new(p, no).map_err(|f| self.corrupt(f))?;
            self.leaf.start(sep);
            for i in 0..leaf.len() {
                let e = leaf.entry(i).map_err(|f| self.corrupt(f))?;
                self.push_entry(leaf.prefix(), e.suffix, e.value)?;
            }
            return Ok(());
        }
        let b = BranchView::new(p, no).map_err(|f| self.corrupt(f))?;
        let mut child_sep = sep.to_vec();
        for i in 0..b.len() {
            if i > 0 {
                child_sep.clear();
                child_sep.extend_from_slice(b.prefix());
                child_sep.extend_from_slice(b.sep_suffix(i).map_err(|f| self.corrupt(f))?);
            }
            let child = b.child(i).map_err(|f| self.corrupt(f))?;
            self.feed_untouched(child, level - 1, &child_sep)?;
        }
        Ok(())
    }

    // --- Builders -------------------------------------------------------------

    fn underfull(&self, level: u8) -> bool {
        if level == 0 {
            self.leaf.underfull()
        } else {
            self.branches.get(usize::from(level) - 1).is_some_and(BranchBuilder::underfull)
        }
    }

    fn builder_len(&self, level: u8) -> usize {
        if level == 0 {
            self.leaf.items.len()
        } else {
            self.branches.get(usize::from(level) - 1).map_or(0, |b| b.items.len())
        }
    }

    /// The builder of branch level `level` (>= 1), created if needed.
    fn branch(&mut self, level: u8) -> Result<&mut BranchBuilder, StorageError> {
        if level == 0 || level > MAX_HEIGHT {
            return Err(internal(format!("branch builder for level {level}")));
        }
        let i = usize::from(level) - 1;
        while self.branches.len() <= i {
            self.branches.push(BranchBuilder::default());
        }
        self.branches.get_mut(i).ok_or_else(|| internal("branch builder"))
    }

    /// Adds an entry whose key is `prefix ++ suffix`.
    fn push_entry(&mut self, prefix: &[u8], suffix: &[u8], value: ValueRef<'_>) -> Result<(), StorageError> {
        self.leaf.push(prefix, suffix, value);
        self.spill(0)
    }

    /// Adds a new value, writing an overflow chain if it needs one.
    fn push_put(&mut self, prefix: &[u8], key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        if page::needs_overflow(prefix.len() + key.len(), value.len()) {
            let len = u32::try_from(value.len()).map_err(|_| internal("value length checked before"))?;
            let first = self.write_overflow(value)?;
            self.push_entry(prefix, key, ValueRef::Overflow { first, len })
        } else {
            self.push_entry(prefix, key, ValueRef::Inline(value))
        }
    }

    fn write_overflow(&mut self, value: &[u8]) -> Result<PageNo, StorageError> {
        // Needs D1: pages come from the checkpoint's allocator only.
        let first = self.ck.allocate()?;
        let mut no = first;
        let mut chunks = value.chunks(OVERFLOW_CAPACITY).peekable();
        while let Some(chunk) = chunks.next() {
            let next = if chunks.peek().is_some() { self.ck.allocate()? } else { PageNo(0) };
            page::encode_overflow(&mut self.buf, no, self.generation, next, chunk)?;
            self.ck.write_page(no, &self.buf)?;
            no = next;
        }
        Ok(first)
    }

    /// Writes full pages from the front of builder `level` while it holds
    /// more than [`SPILL`] bytes.
    fn spill(&mut self, level: u8) -> Result<(), StorageError> {
        loop {
            let (raw, n) = if level == 0 {
                (self.leaf.raw, self.leaf.items.len())
            } else {
                let b = self.branch(level)?;
                (b.raw, b.items.len())
            };
            if raw <= SPILL || n < 2 {
                return Ok(());
            }
            let k = if level == 0 { chunk_end(&self.leaf, 0, n) } else { chunk_end(self.branch(level)?, 0, n).max(2) };
            self.emit(level, k)?;
        }
    }

    /// Writes the first `k` items of builder `level` as one page and hands
    /// it to the builder above.
    fn emit(&mut self, level: u8, k: usize) -> Result<(), StorageError> {
        // Needs D1: a new page, never a page of the base tree.
        let no = self.ck.allocate()?;
        let sep = if level == 0 {
            let run_lower = if self.leaf.emitted { None } else { self.leaf.run_lower.take() };
            let l = &self.leaf;
            let first = l.key(0);
            let sep = match run_lower {
                Some(s) => s,
                None if l.emitted => shortest_separator(&l.prev_last, first),
                None => return Err(internal("a leaf run without a lower bound")),
            };
            let prefix_len = common_prefix(first, l.key(k - 1));
            let prefix = first.get(..prefix_len).unwrap_or(&[]);
            let entries = l.items.get(..k).unwrap_or(&[]).iter().enumerate().map(|(i, e)| (l.key(i), l.value(e)));
            page::encode_leaf(&mut self.buf, no, self.generation, prefix, k, entries)?;
            let last = l.key(k - 1).to_vec();
            let l = &mut self.leaf;
            l.prev_last = last;
            l.emitted = true;
            l.drop_front(k);
            sep
        } else {
            let generation = self.generation;
            let i = usize::from(level) - 1;
            let b = self.branches.get_mut(i).ok_or_else(|| internal("emit from a missing builder"))?;
            let sep = b.sep(0).to_vec();
            let prefix_len = if k >= 2 { common_prefix(b.sep(1), b.sep(k - 1)) } else { 0 };
            let prefix = b.sep(1).get(..prefix_len).unwrap_or(&[]).to_vec();
            let children = (0..k).map(|j| (b.sep(j), b.items.get(j).map_or(PageNo(0), |it| it.child)));
            page::encode_branch(&mut self.buf, no, generation, &prefix, k, children)?;
            b.drop_front(k);
            sep
        };
        self.ck.write_page(no, &self.buf)?;
        self.branch(level + 1)?.push(&sep, no);
        self.spill(level + 1)
    }

    /// Finishes the builders of levels `0..=level` in order.
    fn flush_upto(&mut self, level: u8) -> Result<(), StorageError> {
        for j in 0..=level {
            self.finish_builder(j)?;
        }
        Ok(())
    }

    /// Writes everything builder `level` holds as evenly filled pages,
    /// taking back its left neighbour first if it holds too little (left
    /// absorption).
    fn finish_builder(&mut self, level: u8) -> Result<(), StorageError> {
        if self.builder_len(level) == 0 {
            if level == 0 {
                self.leaf.reset_run();
            }
            return Ok(());
        }
        let emitted = level == 0 && self.leaf.emitted;
        if self.underfull(level) && !emitted {
            if let Some((sep, no)) = self.borrow_left(level)? {
                let p = self.ck.read_page(no)?;
                self.drop_page(no, &p)?;
                self.prepend(&p, no, level, &sep)?;
            }
        }
        let ends = if level == 0 { plan(&self.leaf, 1) } else { plan(self.branch(level)?, 2) };
        let mut start = 0;
        for end in ends {
            self.emit(level, end - start)?;
            start = end;
        }
        if level == 0 {
            self.leaf.reset_run();
        }
        Ok(())
    }

    /// Puts the content of page `p` (of `level`, keys at least `sep`) in
    /// front of what builder `level` holds.
    fn prepend(&mut self, p: &[u8], no: PageNo, level: u8, sep: &[u8]) -> Result<(), StorageError> {
        if level == 0 {
            let held = std::mem::take(&mut self.leaf);
            self.leaf.start(sep);
            let leaf = LeafView::new(p, no).map_err(|f| self.corrupt(f))?;
            for i in 0..leaf.len() {
                let e = leaf.entry(i).map_err(|f| self.corrupt(f))?;
                self.leaf.push(leaf.prefix(), e.suffix, e.value);
            }
            for (i, e) in held.items.iter().enumerate() {
                self.leaf.push(&[], held.key(i), held.value(e));
            }
            return Ok(());
        }
        let b = BranchView::new(p, no).map_err(|f| self.corrupt(f))?;
        let held = std::mem::take(self.branch(level)?);
        let mut child_sep = sep.to_vec();
        for i in 0..b.len() {
            if i > 0 {
                child_sep.clear();
                child_sep.extend_from_slice(b.prefix());
                child_sep.extend_from_slice(b.sep_suffix(i).map_err(|f| self.corrupt(f))?);
            }
            let child = b.child(i).map_err(|f| self.corrupt(f))?;
            self.branch(level)?.push(&child_sep, child);
        }
        let target = self.branch(level)?;
        for (i, it) in held.items.iter().enumerate() {
            target.push(held.sep(i), it.child);
        }
        Ok(())
    }

    /// Takes the page of `level` just left of builder `level`'s content
    /// out of the builder above, opening pages of higher builders if the
    /// builder right above is empty. `None` if there is none.
    fn borrow_left(&mut self, level: u8) -> Result<Option<(Vec<u8>, PageNo)>, StorageError> {
        let top = self.branches.len();
        let Some(mut m) = (usize::from(level) + 1..=top).find(|&m| self.builder_len(m as u8) > 0) else {
            return Ok(None);
        };
        while m > usize::from(level) + 1 {
            let lm = u8::try_from(m).map_err(|_| internal("level"))?;
            let Some((sep, no)) = self.branch(lm)?.pop() else { return Ok(None) };
            let p = self.ck.read_page(no)?;
            self.drop_page(no, &p)?;
            let b = BranchView::new(&p, no).map_err(|f| self.corrupt(f))?;
            let mut child_sep = sep.clone();
            for i in 0..b.len() {
                if i > 0 {
                    child_sep.clear();
                    child_sep.extend_from_slice(b.prefix());
                    child_sep.extend_from_slice(b.sep_suffix(i).map_err(|f| self.corrupt(f))?);
                }
                let child = b.child(i).map_err(|f| self.corrupt(f))?;
                self.branch(lm - 1)?.push(&child_sep, child);
            }
            m -= 1;
        }
        let lm = level + 1;
        Ok(self.branch(lm)?.pop())
    }

    /// Finishes every builder bottom-up and returns the new tree.
    fn finish(mut self) -> Result<NewTree, StorageError> {
        let mut level: u8 = 0;
        loop {
            let top = u8::try_from(self.branches.len()).map_err(|_| internal("too many levels"))?;
            let above_empty = (level + 1..=top).all(|m| self.builder_len(m) == 0);
            if above_empty {
                let n = self.builder_len(level);
                if level >= 1 && n <= 1 {
                    let root = match self.branch(level)?.items.first() {
                        Some(it) => it.child,
                        None => PageNo(0),
                    };
                    let height = if root.0 == 0 { 0 } else { level };
                    return self.outcome(root, height);
                }
                if level == 0 && n == 0 {
                    return self.outcome(PageNo(0), 0);
                }
            }
            self.finish_builder(level)?;
            level += 1;
            if level > MAX_HEIGHT {
                return Err(internal("merged tree is taller than the format allows"));
            }
        }
    }

    fn outcome(&self, root: PageNo, height: u8) -> Result<NewTree, StorageError> {
        let entries = u64::try_from(self.entries);
        let bytes = u64::try_from(self.bytes);
        match (entries, bytes) {
            (Ok(entries), Ok(bytes)) if (entries == 0) == (root.0 == 0) => Ok(NewTree { root, height, entries, bytes }),
            _ => Err(StorageError::Corrupt(format!(
                "data file '{}': the meta's entry and byte counts do not match the tree (the merge arrived at {} entries, {} bytes)",
                self.ck.store().name(),
                self.entries,
                self.bytes
            ))),
        }
    }
}
