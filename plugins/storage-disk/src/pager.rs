//! The pager: the data file as numbered, checksummed pages; the page cache;
//! page allocation and the free list; the two meta slots; and the
//! checkpoint commit protocol that moves the file from one tree generation
//! to the next (`docs/format/disk.md`, sections 3, 5 and 6).
//!
//! # Tree versions and the life of a page
//!
//! Readers walk a [`TreeVersion`]: one committed tree (its meta), held by
//! `Arc`. [`Pager::current`] hands out the newest one; a reader keeps its
//! clone for one call or one batch, so it never sees pages change under it.
//!
//! A page is in exactly one of these states:
//!
//! ```text
//!  unused/extend ──allocate──▶ written by checkpoint g+1 ──commit──▶ in tree g+1
//!        ▲                          │ (abort, or freed by the                │
//!        │                          ▼  same checkpoint)                      │ replaced by checkpoint g+2
//!  allocatable ◀────────────────────┘                                        ▼
//!        ▲                                                      retired (pending) with version g+1
//!        └──── every reader of version g+1 and older is gone ◀──────────────┘
//! ```
//!
//! `Checkpoint::allocate` takes allocatable pages (lowest number first)
//! or extends the file. `Checkpoint::commit` retires the pages the new tree
//! no longer uses (and the old free-list pages) under the *old* version's
//! generation; they become allocatable when that version's last `Arc`
//! drops. Each version holds an `Arc` of its successor, so versions drop
//! oldest first and a page retired by g+2 is not reused while a reader of g
//! (which may also walk it) is alive.
//!
//! # Commit protocol (D1–D3)
//!
//! 1. The merge writes new pages only to allocatable pages or past the
//!    meta's page count, never to a page the durable meta's tree or free
//!    list references (D1).
//! 2. `commit` writes the new free list: every page of `[2, page count)`
//!    that neither the new tree nor the free list itself uses (allocatable,
//!    retired and pending pages alike: after a crash no reader is left).
//! 3. `sync_data`, then the meta of generation g+1 to slot (g+1) % 2, then
//!    `sync_data` again (D3). Only then the new version is installed and
//!    the old one's retired pages are handed to it (D2).
//!
//! A crash anywhere before the second sync returns leaves meta g valid and
//! its pages untouched; a torn meta g+1 fails its checksum.
//!
//! Invariants:
//! 1. Every page read from disk is checked (checksum, own number, type)
//!    before use; reads do no I/O under a lock.
//! 2. After a failed write or sync the pager refuses every later checkpoint
//!    until the file is reopened (the file's durable state is unknown, M1).
//! 3. At most one checkpoint runs at a time.
//! 4. Lock order: `Pager::current`, then the free state, then a cache shard;
//!    no lock is held across I/O.
//!
//! The pager does not know keys or values: that is `btree`.

pub mod cache;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use mizzle_plugin_api::storage::StorageError;
use parking_lot::Mutex;

use crate::ids::{Generation, Lsn, PageNo};
use crate::ioerr::{storage_error, Op};
use crate::page::{self, internal, Meta, MetaSlot, PageFault, PageKind, FREE_LIST_CAPACITY, MAX_HEIGHT, PAGE_SIZE};
use crate::vfs::{read_full_at, OpenMode, Vfs, VfsFile};
use cache::PageCache;
pub use cache::{CacheStats, PageRef};

/// The file and its cache: what reading a page needs.
pub(crate) struct Store {
    file: Arc<dyn VfsFile>,
    name: String,
    cache: PageCache,
    loads: AtomicU64,
}

impl Store {
    /// The data file's name in messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The corruption error for a page fault.
    pub(crate) fn corrupt(&self, f: PageFault) -> StorageError {
        f.into_error(&self.name)
    }

    /// Page `no`, from the cache or from disk (then cached).
    pub(crate) fn read(&self, no: PageNo) -> Result<PageRef, StorageError> {
        if let Some(p) = self.cache.get(no) {
            return Ok(p);
        }
        let p = self.load(no)?;
        let (page, evicted) = self.cache.insert_loaded(no, p);
        if let Some(old) = evicted {
            SPARE_PAGE.with(|s| s.replace(Some(old)));
        }
        Ok(page)
    }

    /// Page `no`, from the cache if it is there, else from disk without
    /// caching it (overflow chains, checks).
    pub(crate) fn read_cold(&self, no: PageNo) -> Result<PageRef, StorageError> {
        match self.cache.peek(no) {
            Some(p) => Ok(p),
            None => self.load(no),
        }
    }

    /// Page `no` from disk, checked (invariant 1).
    pub(crate) fn load(&self, no: PageNo) -> Result<PageRef, StorageError> {
        if no.0 < 2 {
            return Err(self.corrupt(PageFault::new(no, "a meta page is referenced as a tree page")));
        }
        let offset =
            no.0.checked_mul(PAGE_SIZE as u64)
                .ok_or_else(|| self.corrupt(PageFault::new(no, "page number beyond any file")))?;
        let mut page = page_buffer();
        let Some(buf) = Arc::get_mut(&mut page) else {
            return Err(internal("a fresh page buffer is shared"));
        };
        let n = read_full_at(self.file.as_ref(), buf, offset)
            .map_err(|e| storage_error(&e, Op::Read, &format!("{} page {}", self.name, no.0)))?;
        self.loads.fetch_add(1, Ordering::Relaxed);
        if n < PAGE_SIZE {
            return Err(self.corrupt(PageFault::new(
                no,
                format!("the file ends {n} bytes into the page (the file is truncated)"),
            )));
        }
        page::check_page(buf, no).map_err(|f| self.corrupt(f))?;
        Ok(page)
    }
}

thread_local! {
    /// The page the cache last evicted on this thread's load, kept to be
    /// read into by the next load instead of allocating (and zeroing) a
    /// new buffer and freeing the old one.
    static SPARE_PAGE: std::cell::Cell<Option<PageRef>> = const { std::cell::Cell::new(None) };
}

/// A buffer of `PAGE_SIZE` bytes nobody else holds: the spare page if no
/// reader still holds it, else a new zeroed one (allocated as the `Arc`
/// itself: no copy from a vector).
fn page_buffer() -> PageRef {
    if let Some(mut spare) = SPARE_PAGE.with(std::cell::Cell::take) {
        if spare.len() == PAGE_SIZE && Arc::get_mut(&mut spare).is_some() {
            return spare;
        }
    }
    std::iter::repeat_n(0u8, PAGE_SIZE).collect()
}

/// Which pages are free, and the pager's health.
struct FreeState {
    /// Pages a checkpoint may write now.
    allocatable: BTreeSet<u64>,
    /// Pages retired by a commit, waiting for the readers of the version
    /// (named by its generation) that still used them (D2).
    pending: Vec<(Generation, Vec<PageNo>)>,
    /// Pages `[0, page_count)` are in use or free.
    page_count: u64,
    /// The pages holding the durable meta's free list (retired by the next
    /// commit).
    list_pages: Vec<PageNo>,
    /// Why checkpoints are refused (invariant 2).
    poisoned: Option<String>,
}

impl FreeState {
    fn release(&mut self, generation: Generation) {
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending.get(i).is_some_and(|(g, _)| *g == generation) {
                let (_, pages) = self.pending.swap_remove(i);
                self.allocatable.extend(pages.into_iter().map(|p| p.0));
            } else {
                i += 1;
            }
        }
    }

    fn pending_pages(&self) -> usize {
        self.pending.iter().map(|(_, v)| v.len()).sum()
    }
}

/// One committed tree: what a reader pins. Dropping the last `Arc` of a
/// version whose successor committed makes the pages that successor
/// retired allocatable (D2).
pub struct TreeVersion {
    store: Arc<Store>,
    meta: Meta,
    free: Arc<Mutex<FreeState>>,
    /// The next version, once committed: keeps newer versions alive until
    /// this one is gone, so retired pages are released oldest first.
    successor: Mutex<Option<Arc<TreeVersion>>>,
    /// The root page, once read: every walk starts here, so readers borrow
    /// it from the version instead of taking it from the cache.
    root_page: OnceLock<PageRef>,
    /// The branch pages of the upper levels (up to [`UPPER_PINNED`]),
    /// read once: point reads borrow them from the version, with no cache
    /// lock and no reference count touched per read.
    upper: OnceLock<Vec<(u64, PageRef)>>,
}

/// At most this many branch pages are pinned per tree version.
pub(crate) const UPPER_PINNED: usize = 128;

impl TreeVersion {
    /// The meta this version was committed with.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The checkpoint generation.
    pub fn generation(&self) -> Generation {
        self.meta.generation
    }

    /// Key/value pairs in the tree.
    pub fn entries(&self) -> u64 {
        self.meta.entries
    }

    /// Bytes of keys and values in the tree.
    pub fn bytes(&self) -> u64 {
        self.meta.bytes
    }

    /// Every log record at or below this LSN is in the tree.
    pub fn checkpoint_lsn(&self) -> Lsn {
        self.meta.checkpoint_lsn
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The pinned branch pages (see `upper`), read on first use: the
    /// branch levels top down, stopping at [`UPPER_PINNED`] pages. A page
    /// that fails to read is left out (the reader then reads it through
    /// the cache and reports the error itself).
    pub(crate) fn upper_pages(&self) -> &[(u64, PageRef)] {
        self.upper.get_or_init(|| {
            let mut pinned = Vec::new();
            if self.meta.height < 2 {
                return pinned;
            }
            let mut level = vec![self.meta.root];
            // Levels above the leaves: height - 1 of them.
            for depth in 1..self.meta.height {
                let mut next = Vec::new();
                for no in level {
                    if pinned.len() >= UPPER_PINNED {
                        pinned.sort_by_key(|(no, _)| *no);
                        return pinned;
                    }
                    let Ok(p) = self.store.read(no) else { continue };
                    if depth + 1 < self.meta.height {
                        if let Ok(b) = page::BranchView::new(&p, no) {
                            next.extend((0..b.len()).filter_map(|i| b.child(i).ok()));
                        }
                    }
                    pinned.push((no.0, p));
                }
                level = next;
            }
            pinned.sort_by_key(|(no, _)| *no);
            pinned
        })
    }

    /// The pinned page `no`, if it is one (a binary search).
    pub(crate) fn pinned(&self, no: PageNo) -> Option<&PageRef> {
        let pages = self.upper_pages();
        pages.binary_search_by_key(&no.0, |(n, _)| *n).ok().and_then(|i| pages.get(i)).map(|(_, p)| p)
    }

    /// The root page (checked, including its generation); `None` for an
    /// empty tree.
    pub(crate) fn root_page(&self) -> Result<Option<&[u8]>, StorageError> {
        if self.meta.root.0 == 0 {
            return Ok(None);
        }
        if let Some(p) = self.root_page.get() {
            return Ok(Some(p));
        }
        let p = self.store.read(self.meta.root)?;
        let h = page::header(&p, self.meta.root).map_err(|f| self.store.corrupt(f))?;
        if h.generation > self.meta.generation {
            return Err(self.store.corrupt(PageFault::new(
                self.meta.root,
                format!(
                    "written by generation {}, newer than the tree (generation {})",
                    h.generation.0, self.meta.generation.0
                ),
            )));
        }
        let p = self.root_page.get_or_init(|| p);
        Ok(Some(p))
    }
}

impl Drop for TreeVersion {
    fn drop(&mut self) {
        // Needs D2: every older version is gone (each holds its successor),
        // and the commit that retired these pages is durable.
        self.free.lock().release(self.meta.generation);
        // Drop the chain of successors iteratively: a long chain (a reader
        // held across many checkpoints) must not recurse deeply.
        let mut next = self.successor.get_mut().take();
        while let Some(v) = next {
            match Arc::into_inner(v) {
                Some(mut v) => {
                    next = v.successor.get_mut().take();
                    drop(v);
                }
                None => break,
            }
        }
    }
}

impl std::fmt::Debug for TreeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeVersion").field("meta", &self.meta).finish()
    }
}

/// Counters and sizes of the pager.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PagerStats {
    /// Page cache counters.
    pub cache: CacheStats,
    /// Pages read from disk (cache misses and uncached reads).
    pub page_loads: u64,
    /// Pages `[0, page_count)` are in use or free.
    pub page_count: u64,
    /// Pages a checkpoint may allocate now.
    pub allocatable_pages: u64,
    /// Pages retired but still used by a reader of an older version.
    pub pending_pages: u64,
    /// Pages written by checkpoints since open.
    pub pages_written: u64,
    /// `sync_data` calls on the data file since open.
    pub syncs: u64,
}

/// The data file.
pub struct Pager {
    store: Arc<Store>,
    free: Arc<Mutex<FreeState>>,
    current: Mutex<Arc<TreeVersion>>,
    checkpointing: AtomicBool,
    pages_written: AtomicU64,
    syncs: AtomicU64,
}

impl std::fmt::Debug for Pager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager").field("file", &self.store.name).finish()
    }
}

fn cache_pages(cache_bytes: u64) -> usize {
    usize::try_from(cache_bytes / PAGE_SIZE as u64).unwrap_or(usize::MAX)
}

/// Appends a note to an error's message.
fn with_note(e: StorageError, note: &str) -> StorageError {
    match e {
        StorageError::Io(m) => StorageError::Io(format!("{m}; {note}")),
        StorageError::DiskFull(m) => StorageError::DiskFull(format!("{m}; {note}")),
        StorageError::CantCreate(m) => StorageError::CantCreate(format!("{m}; {note}")),
        StorageError::ReadFailed(m) => StorageError::ReadFailed(format!("{m}; {note}")),
        other => other,
    }
}

const REFUSE_NOTE: &str = "the engine makes no further checkpoints until the database is reopened";

impl Pager {
    /// Creates a new data file at `path` (failing if it exists): the meta
    /// of generation 0 in page 0 and a zero page 1, synced, and the
    /// directory entry synced.
    pub fn create(vfs: Arc<dyn Vfs>, path: &Path, cache_bytes: u64) -> Result<Pager, StorageError> {
        let name = path.display().to_string();
        let file = vfs.open(path, OpenMode::CreateNew).map_err(|e| storage_error(&e, Op::Create, &name))?;
        let meta = Meta::empty();
        let mut two = page::encode_meta(&meta)?;
        two.resize(2 * PAGE_SIZE, 0);
        file.write_all_at(&two, 0).map_err(|e| storage_error(&e, Op::Write, &name))?;
        file.sync_data().map_err(|e| storage_error(&e, Op::Sync, &name))?;
        if let Some(dir) = path.parent() {
            vfs.sync_dir(dir).map_err(|e| storage_error(&e, Op::Sync, &dir.display().to_string()))?;
        }
        let free = FreeState {
            allocatable: BTreeSet::new(),
            pending: Vec::new(),
            page_count: meta.page_count,
            list_pages: Vec::new(),
            poisoned: None,
        };
        Ok(Pager::assemble(file, name, cache_bytes, meta, free))
    }

    /// Opens an existing data file: picks the valid meta with the highest
    /// generation (section 6, step 1) and reads its free list (step 2).
    pub fn open(vfs: Arc<dyn Vfs>, path: &Path, cache_bytes: u64) -> Result<Pager, StorageError> {
        let name = path.display().to_string();
        let file = vfs.open(path, OpenMode::Existing).map_err(|e| storage_error(&e, Op::Open, &name))?;
        let len = file.len().map_err(|e| storage_error(&e, Op::Read, &name))?;
        if len == 0 {
            return Err(StorageError::Corrupt(format!(
                "data file '{name}' is empty (0 bytes): not a database, or its creation never completed"
            )));
        }
        let mut slots = Vec::with_capacity(2);
        for slot in 0..2u64 {
            let mut buf = vec![0u8; PAGE_SIZE];
            let n = read_full_at(file.as_ref(), &mut buf, slot * PAGE_SIZE as u64)
                .map_err(|e| storage_error(&e, Op::Read, &format!("{name} page {slot}")))?;
            buf.truncate(n);
            slots.push(page::decode_meta(&buf, slot));
        }
        let meta = choose_meta(&name, len, &slots)?;
        let needed = meta.page_count.saturating_mul(PAGE_SIZE as u64);
        if len < needed {
            return Err(StorageError::Corrupt(format!(
                "data file '{name}' is truncated: the meta of generation {} counts {} pages ({needed} bytes) but the file has {len} bytes",
                meta.generation.0, meta.page_count
            )));
        }
        let store =
            Store { file: file.clone(), name: name.clone(), cache: PageCache::new(8), loads: AtomicU64::new(0) };
        let (allocatable, list_pages) = read_free_list(&store, &meta)?;
        let free =
            FreeState { allocatable, pending: Vec::new(), page_count: meta.page_count, list_pages, poisoned: None };
        Ok(Pager::assemble(file, name, cache_bytes, meta, free))
    }

    fn assemble(file: Arc<dyn VfsFile>, name: String, cache_bytes: u64, meta: Meta, free: FreeState) -> Pager {
        let store =
            Arc::new(Store { file, name, cache: PageCache::new(cache_pages(cache_bytes)), loads: AtomicU64::new(0) });
        let free = Arc::new(Mutex::new(free));
        let version = Arc::new(TreeVersion {
            store: store.clone(),
            meta,
            free: free.clone(),
            successor: Mutex::new(None),
            root_page: OnceLock::new(),
            upper: OnceLock::new(),
        });
        Pager {
            store,
            free,
            current: Mutex::new(version),
            checkpointing: AtomicBool::new(false),
            pages_written: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        }
    }

    /// The data file's path as messages show it.
    pub fn file_name(&self) -> &str {
        &self.store.name
    }

    /// The newest committed tree. Readers clone it for one call or batch.
    pub fn current(&self) -> Arc<TreeVersion> {
        self.current.lock().clone()
    }

    /// Counters and sizes.
    pub fn stats(&self) -> PagerStats {
        let (page_count, allocatable, pending) = {
            let st = self.free.lock();
            (st.page_count, st.allocatable.len() as u64, st.pending_pages() as u64)
        };
        PagerStats {
            cache: self.store.cache.stats(),
            page_loads: self.store.loads.load(Ordering::Relaxed),
            page_count,
            allocatable_pages: allocatable,
            pending_pages: pending,
            pages_written: self.pages_written.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
        }
    }

    /// Why checkpoints are refused, if they are (invariant 2).
    pub fn refusal(&self) -> Option<String> {
        self.free.lock().poisoned.clone()
    }

    /// Starts a checkpoint over the current version. Fails if another one
    /// is running or an earlier one failed (invariants 2 and 3).
    pub fn begin_checkpoint(&self) -> Result<Checkpoint<'_>, StorageError> {
        if let Some(why) = self.refusal() {
            return Err(StorageError::Io(format!(
                "data file '{}': an earlier checkpoint failed ({why}); {REFUSE_NOTE}",
                self.store.name
            )));
        }
        if self.checkpointing.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return Err(internal("two checkpoints of one data file at once"));
        }
        let base = self.current();
        let generation = Generation(base.meta.generation.0 + 1);
        Ok(Checkpoint { pager: self, base, generation, allocated: Vec::new(), retired: Vec::new(), committed: false })
    }

    fn poison(&self, e: StorageError) -> StorageError {
        let mut st = self.free.lock();
        if st.poisoned.is_none() {
            st.poisoned = Some(e.to_string());
        }
        with_note(e, REFUSE_NOTE)
    }

    fn write(&self, no: PageNo, bytes: &[u8]) -> Result<(), StorageError> {
        let offset = no.0.checked_mul(PAGE_SIZE as u64).ok_or_else(|| internal("page number overflow"))?;
        self.store
            .file
            .write_all_at(bytes, offset)
            .map_err(|e| self.poison(storage_error(&e, Op::Write, &format!("{} page {}", self.store.name, no.0))))?;
        self.pages_written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn sync(&self) -> Result<(), StorageError> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.store.file.sync_data().map_err(|e| self.poison(storage_error(&e, Op::Sync, &self.store.name)))
    }
}

/// Picks the meta to open from the two slots (section 6, step 1).
fn choose_meta(name: &str, len: u64, slots: &[MetaSlot]) -> Result<Meta, StorageError> {
    if let Some(v) = slots.iter().find_map(|s| match s {
        MetaSlot::Newer(v) => Some(*v),
        _ => None,
    }) {
        return Err(StorageError::Foreign(format!(
            "data file '{name}': format version {v} is newer than this build reads ({})",
            page::FORMAT_VERSION
        )));
    }
    let best = slots
        .iter()
        .filter_map(|s| match s {
            MetaSlot::Valid(m) => Some(*m),
            _ => None,
        })
        .max_by_key(|m| m.generation);
    if let Some(m) = best {
        return Ok(m);
    }
    if len < 2 * PAGE_SIZE as u64 && !slots.iter().any(|s| matches!(s, MetaSlot::Foreign)) {
        return Err(StorageError::Corrupt(format!(
            "data file '{name}' is truncated: {len} bytes, shorter than its two meta pages ({} bytes)",
            2 * PAGE_SIZE
        )));
    }
    let ours = |s: &MetaSlot| matches!(s, MetaSlot::Damaged(_));
    if !slots.iter().any(ours) {
        return Err(StorageError::Foreign(format!(
            "data file '{name}' is not a mizzle data file (no meta page starts with the magic number)"
        )));
    }
    let why = |i: usize| match slots.get(i) {
        Some(MetaSlot::Damaged(w)) => w.clone(),
        Some(MetaSlot::Zero) => "all zeros".to_string(),
        Some(MetaSlot::Foreign) => "no magic number".to_string(),
        _ => "missing".to_string(),
    };
    Err(StorageError::Corrupt(format!(
        "data file '{name}' has no valid meta page (page 0: {}; page 1: {})",
        why(0),
        why(1)
    )))
}

/// Reads the free list of `meta`: the listed pages and the pages holding
/// the list. Rejects a list that is inconsistent with the meta.
fn read_free_list(store: &Store, meta: &Meta) -> Result<(BTreeSet<u64>, Vec<PageNo>), StorageError> {
    let mut listed = BTreeSet::new();
    let mut list_pages = Vec::new();
    let mut seen = BTreeSet::new();
    let mut next = meta.free_head;
    let max_pages = meta.free_count.div_ceil(FREE_LIST_CAPACITY as u64).max(1);
    while next.0 != 0 {
        if list_pages.len() as u64 >= max_pages || next.0 < 2 || next.0 >= meta.page_count || !seen.insert(next.0) {
            return Err(store
                .corrupt(PageFault::new(next, "free-list chain is longer than its count, loops, or leaves the file")));
        }
        let p = store.load(next)?;
        let h = page::header(&p, next).map_err(|f| store.corrupt(f))?;
        if h.generation != meta.generation {
            return Err(store.corrupt(PageFault::new(
                next,
                format!(
                    "free-list page of generation {} under the meta of generation {} (every commit rewrites the free list)",
                    h.generation.0, meta.generation.0
                ),
            )));
        }
        let view = page::FreeListView::new(&p, next).map_err(|f| store.corrupt(f))?;
        for id in view.ids() {
            if id.0 < 2 || id.0 >= meta.page_count || !listed.insert(id.0) {
                return Err(store.corrupt(PageFault::new(
                    next,
                    format!("lists page {} twice or outside pages 2..{}", id.0, meta.page_count),
                )));
            }
        }
        list_pages.push(next);
        next = view.next;
    }
    if listed.len() as u64 != meta.free_count {
        return Err(StorageError::Corrupt(format!(
            "data file '{}': the free list holds {} pages but the meta of generation {} counts {}",
            store.name,
            listed.len(),
            meta.generation.0,
            meta.free_count
        )));
    }
    if let Some(p) = list_pages.iter().find(|p| listed.contains(&p.0)) {
        return Err(store.corrupt(PageFault::new(*p, "a free-list page lists itself or another free-list page")));
    }
    Ok((listed, list_pages))
}

/// How many pages hold the new free list: `from_free` taken from the
/// allocatable pages (each one taken is one id fewer to list) and
/// `past_end` added at the end of the file (which lists nothing new).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FreeListPlan {
    from_free: usize,
    past_end: usize,
}

/// Plans the free list of a commit that has `free` ids to list before
/// choosing its pages, `allocatable` of them pages it may take, and pages
/// of `cap` ids: afterwards `from_free + past_end` is exactly
/// `(free - from_free).div_ceil(cap)` (a reader refuses a list with more
/// pages than its count needs, and a list with fewer cannot be written).
///
/// Allocatable pages are taken first, except when taking one would leave
/// one page too many: taking the `n`-th page can lower the pages needed
/// from `n` to `n - 1` when the ids fall to a multiple of `cap`; a page
/// from the end keeps the count. (Taking the free page and then giving it
/// back, as an earlier version did, left the list one page short: 2,045
/// free pages gave one list page for 2,044 ids.)
fn plan_free_list(free: usize, allocatable: usize, cap: usize) -> FreeListPlan {
    let mut plan = FreeListPlan { from_free: 0, past_end: 0 };
    let cap = cap.max(1);
    let allocatable = allocatable.min(free);
    loop {
        let pages = plan.from_free + plan.past_end;
        let need = (free - plan.from_free).div_ceil(cap);
        if pages >= need {
            return plan;
        }
        let need_if_taken = (free - plan.from_free).saturating_sub(1).div_ceil(cap);
        if plan.from_free < allocatable && pages < need_if_taken {
            plan.from_free += 1;
        } else {
            plan.past_end += 1;
        }
    }
}

/// The tree a merge produced, for [`Checkpoint::commit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewTree {
    /// Root page (0: empty tree).
    pub root: PageNo,
    /// Height (0: empty tree; 1: the root is a leaf).
    pub height: u8,
    /// Key/value pairs in the tree.
    pub entries: u64,
    /// Bytes of keys and values in the tree.
    pub bytes: u64,
}

/// A checkpoint in progress: allocates and writes the pages of generation
/// `base + 1`, collects the pages it retires, and commits. Dropping it
/// without committing abandons it: the pages it allocated become
/// allocatable again (unless a write failed; then nothing is reused before
/// reopening).
pub struct Checkpoint<'p> {
    pager: &'p Pager,
    base: Arc<TreeVersion>,
    generation: Generation,
    allocated: Vec<PageNo>,
    retired: Vec<PageNo>,
    committed: bool,
}

impl std::fmt::Debug for Checkpoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint").field("generation", &self.generation).finish()
    }
}

impl<'p> Checkpoint<'p> {
    /// The version this checkpoint starts from.
    pub fn base(&self) -> &Arc<TreeVersion> {
        &self.base
    }

    /// The generation this checkpoint writes.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    pub(crate) fn store(&self) -> &Store {
        &self.pager.store
    }

    fn check_live(&self) -> Result<(), StorageError> {
        match self.pager.refusal() {
            Some(why) => Err(StorageError::Io(format!(
                "data file '{}': checkpoint abandoned after a failed write or sync ({why}); {REFUSE_NOTE}",
                self.pager.store.name
            ))),
            None => Ok(()),
        }
    }

    /// A page to write: an allocatable one (lowest first) or a new one at
    /// the end of the file. Never a page the durable meta uses (D1).
    pub fn allocate(&mut self) -> Result<PageNo, StorageError> {
        let no = {
            let mut st = self.pager.free.lock();
            if let Some(why) = &st.poisoned {
                return Err(StorageError::Io(format!(
                    "data file '{}': checkpoint abandoned after a failed write or sync ({why}); {REFUSE_NOTE}",
                    self.pager.store.name
                )));
            }
            // Needs D1: an allocatable page is used by neither the durable
            // meta's tree nor its free list, nor by any reader's version.
            match st.allocatable.pop_first() {
                Some(n) => PageNo(n),
                None => {
                    let n = st.page_count;
                    st.page_count += 1;
                    PageNo(n)
                }
            }
        };
        self.allocated.push(no);
        Ok(no)
    }

    /// Writes a sealed page to `no` (a page this checkpoint allocated).
    /// Leaf and branch pages enter the cache; other pages leave it.
    pub fn write_page(&mut self, no: PageNo, bytes: &[u8]) -> Result<(), StorageError> {
        if bytes.len() != PAGE_SIZE {
            return Err(internal("writing a buffer that is not a page"));
        }
        self.pager.write(no, bytes)?;
        // Branches stay cached (few, and every descent reads them); leaves
        // and the rest are read back when needed, so a large checkpoint (a
        // bulk load) does not fill memory with pages nobody asked for.
        let branch = matches!(page::header(bytes, no).map(|h| h.kind), Ok(PageKind::Branch));
        if branch {
            self.pager.store.cache.insert_written(no, Arc::from(bytes));
        } else {
            self.pager.store.cache.invalidate(no);
        }
        Ok(())
    }

    /// Page `no` of the base tree (or of this checkpoint), through the cache.
    pub fn read_page(&self, no: PageNo) -> Result<PageRef, StorageError> {
        self.pager.store.read(no)
    }

    /// Page `no` without caching it (overflow chains being freed).
    pub fn read_page_cold(&self, no: PageNo) -> Result<PageRef, StorageError> {
        self.pager.store.read_cold(no)
    }

    /// Retires page `no` of the base tree (or of its overflow chains): it
    /// is listed free by this commit and reused once no reader needs it.
    pub fn retire(&mut self, no: PageNo) {
        self.retired.push(no);
    }

    /// Gives back page `no`, which this checkpoint allocated and no longer
    /// needs: no durable meta references it, so it is allocatable at once.
    pub fn release_new(&mut self, no: PageNo) {
        self.pager.free.lock().allocatable.insert(no.0);
    }

    /// Pages allocated so far.
    pub fn allocated_pages(&self) -> usize {
        self.allocated.len()
    }

    /// Writes the free list and the meta of this generation (the commit
    /// protocol in the module documentation) and installs the new version.
    pub fn commit(mut self, tree: NewTree, checkpoint_lsn: Lsn) -> Result<Arc<TreeVersion>, StorageError> {
        self.check_live()?;
        if (tree.root.0 == 0) != (tree.height == 0) || tree.height > MAX_HEIGHT {
            return Err(internal(format!("committing root {} with height {}", tree.root.0, tree.height)));
        }
        if checkpoint_lsn < self.base.meta.checkpoint_lsn {
            return Err(internal("checkpoint LSN moves backwards"));
        }
        let pager = self.pager;
        let generation = self.generation;
        // The pages this commit retires: the replaced pages and the old
        // free list's pages.
        let mut retired = std::mem::take(&mut self.retired);
        // Step 2: choose the free-list pages and the ids they list.
        let (list_pages, ids, page_count) = {
            let mut st = pager.free.lock();
            retired.extend(st.list_pages.iter().copied());
            let base_free = st.allocatable.len() + st.pending_pages() + retired.len();
            let plan = plan_free_list(base_free, st.allocatable.len(), FREE_LIST_CAPACITY);
            let mut list_pages: Vec<PageNo> = Vec::with_capacity(plan.from_free + plan.past_end);
            for _ in 0..plan.from_free {
                match st.allocatable.pop_first() {
                    Some(n) => list_pages.push(PageNo(n)),
                    None => break,
                }
            }
            for _ in 0..plan.past_end {
                list_pages.push(PageNo(st.page_count));
                st.page_count += 1;
            }
            // Recorded at once: an abandoned commit gives them back.
            self.allocated.extend(list_pages.iter().copied());
            let mut ids: Vec<u64> = st.allocatable.iter().copied().collect();
            for (_, pages) in &st.pending {
                ids.extend(pages.iter().map(|p| p.0));
            }
            ids.extend(retired.iter().map(|p| p.0));
            (list_pages, ids, st.page_count)
        };
        // Sorted outside the lock: readers dropping versions take it.
        let mut ids = ids;
        ids.sort_unstable();
        ids.dedup();
        let mut buf = vec![0u8; PAGE_SIZE];
        if list_pages.len() != ids.len().div_ceil(FREE_LIST_CAPACITY) {
            return Err(internal(format!(
                "free list of {} pages for {} ids (a list page holds {FREE_LIST_CAPACITY})",
                list_pages.len(),
                ids.len()
            )));
        }
        let mut chunks = ids.chunks(FREE_LIST_CAPACITY);
        for (i, &no) in list_pages.iter().enumerate() {
            let next = list_pages.get(i + 1).copied().unwrap_or(PageNo(0));
            let chunk: Vec<PageNo> = chunks.next().unwrap_or(&[]).iter().map(|&p| PageNo(p)).collect();
            page::encode_free_list(&mut buf, no, generation, next, &chunk)?;
            self.write_page(no, &buf)?;
        }
        if chunks.next().is_some() {
            return Err(internal("free list longer than its pages"));
        }
        // Pages allocated but never written (an abandoned allocation past
        // the end) must still exist in the file: the meta counts them.
        let want = page_count * PAGE_SIZE as u64;
        let have = pager.store.file.len().map_err(|e| pager.poison(storage_error(&e, Op::Read, &pager.store.name)))?;
        if have < want {
            pager
                .store
                .file
                .set_len(want)
                .map_err(|e| pager.poison(storage_error(&e, Op::Write, &pager.store.name)))?;
        }
        // Step 3, needs D3: the pages, then the meta, each made durable.
        pager.sync()?;
        let meta = Meta {
            generation,
            root: tree.root,
            height: tree.height,
            page_count,
            free_head: list_pages.first().copied().unwrap_or(PageNo(0)),
            free_count: ids.len() as u64,
            checkpoint_lsn,
            entries: tree.entries,
            bytes: tree.bytes,
        };
        let meta_page = page::encode_meta(&meta)?;
        pager.write(meta.slot(), &meta_page)?;
        pager.sync()?;
        // Installed: hand the retired pages to the old version (D2).
        let version = Arc::new(TreeVersion {
            store: pager.store.clone(),
            meta,
            free: pager.free.clone(),
            successor: Mutex::new(None),
            root_page: OnceLock::new(),
            upper: OnceLock::new(),
        });
        {
            // Needs D2: retired pages wait for the base version (and, via
            // the successor chain, every older one) to be dropped.
            let mut st = pager.free.lock();
            st.list_pages = list_pages;
            st.pending.push((self.base.meta.generation, retired));
        }
        let old = std::mem::replace(&mut *pager.current.lock(), version.clone());
        *old.successor.lock() = Some(version.clone());
        drop(old);
        self.committed = true;
        Ok(version)
    }
}

impl Drop for Checkpoint<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let mut st = self.pager.free.lock();
            if st.poisoned.is_none() {
                // Abandoned without a failed write: nothing the durable
                // meta uses was touched, so the pages are free again.
                let pages: Vec<u64> = self.allocated.iter().map(|p| p.0).collect();
                st.allocatable.extend(pages);
            }
        }
        self.pager.checkpointing.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::{plan_free_list, FreeListPlan, FREE_LIST_CAPACITY};

    fn check(free: usize, allocatable: usize, cap: usize) {
        let plan = plan_free_list(free, allocatable, cap);
        let pages = plan.from_free + plan.past_end;
        let listed = free - plan.from_free;
        assert_eq!(pages, listed.div_ceil(cap), "free {free}, allocatable {allocatable}, cap {cap}: {plan:?}");
        assert!(plan.from_free <= allocatable, "free {free}, allocatable {allocatable}, cap {cap}: {plan:?}");
        // Never more than one page from the end while free pages remain.
        if plan.from_free < allocatable {
            assert!(plan.past_end <= 1, "free {free}, allocatable {allocatable}, cap {cap}: {plan:?}");
        }
    }

    #[test]
    fn the_free_list_has_exactly_the_pages_its_ids_need() {
        for cap in 1..=7 {
            for free in 0..=80 {
                for allocatable in 0..=free {
                    check(free, allocatable, cap);
                }
            }
        }
    }

    #[test]
    fn the_count_seen_short_under_two_writers_is_planned_right() {
        // 2,045 free pages, all allocatable: the list's first page takes
        // one (2,044 ids left, two pages needed). Taking a second free
        // page too would leave 2,043 ids, which one page holds: two pages
        // where one is needed; giving it back (the old code) left one page
        // for 2,044 ids. The second page comes from the end.
        let plan = plan_free_list(FREE_LIST_CAPACITY + 2, FREE_LIST_CAPACITY + 2, FREE_LIST_CAPACITY);
        assert_eq!(plan, FreeListPlan { from_free: 1, past_end: 1 });
        for free in [FREE_LIST_CAPACITY - 1, FREE_LIST_CAPACITY, 2 * FREE_LIST_CAPACITY + 1, 2 * FREE_LIST_CAPACITY + 3]
        {
            for allocatable in [0, 1, 2, 3, free] {
                check(free, allocatable, FREE_LIST_CAPACITY);
            }
        }
    }
}
