//! The `disk` engine: the log, the in-memory tables and the tree put
//! together behind the `StorageEngine` trait, with background checkpoints
//! and recovery at open.
//!
//! # How a write travels
//!
//! `write` encodes the batch as a log record (outside any lock), then under
//! the write lock appends it to the log's buffer (no I/O: the log's writer
//! thread writes it) and applies it to the *active* memtable; the ticket it
//! returns completes when the log says the record is durable. Readers see a
//! [`View`]: the active memtable, the *frozen* one a running checkpoint is
//! merging (if any), and the tree of the last checkpoint, searched in that
//! order; the first source holding a key decides (a tombstone hides what is
//! below).
//!
//! # Checkpoints
//!
//! When the active memtable passes its soft limit (or on request), the
//! checkpointer freezes it under the write lock (a new empty one takes its
//! place; the frozen one stays readable), merges it into a new tree version
//! copy-on-write without holding any engine lock (the pager writes pages,
//! syncs, then writes and syncs the meta: `docs/format/disk.md` D1–D3),
//! installs a view without the frozen table, and retires the log segments
//! the new meta covers. Writers wait (`admit`) only when the active table
//! passes twice the soft limit while a checkpoint still runs.
//!
//! # Recovery
//!
//! `open` locks the directory, opens the data file (newest valid meta),
//! replays the log records after the meta's checkpoint LSN into the active
//! memtable (`docs/format/disk.md` section 6) and starts the checkpointer.
//! Replaying a record applies it exactly as `write` did (D6).
//!
//! Invariants:
//! E1. Log order equals memtable order: the LSN is drawn and the memtable
//!     updated under one write lock, so recovery rebuilds the same state.
//! E2. A reader's view never loses data: a frozen memtable leaves the view
//!     only when a tree that contains it is installed, and a tree version
//!     stays readable while any reader holds it (pages are reused only after
//!     its last handle drops: D2).
//! E3. No engine lock is held across I/O, except that a range delete reads
//!     the tree under the write lock (the kernel issues none).
//! E4. After a failed log write or sync, or a failed checkpoint, every
//!     later write fails with the original error until the database is
//!     reopened; reads go on.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{
    Cursor, Durability, EngineInfo, EngineOptions, KeyRange, KvBatch, Mutation, StorageEngine, StorageEngineFactory,
    StorageError, SyncMode, WriteBatch,
};
use parking_lot::{Condvar, Mutex, RwLock};

use crate::base::{self, Tree};
use crate::btree::LeafScan;
use crate::ids::Lsn;
use crate::ioerr::{storage_error, Op};
use crate::memtable::{before, empty_range, Memtable};
use crate::record;
use crate::vfs::{StdFs, Vfs, VfsLock};
use crate::wal::{Wal, WalOptions};

/// The file name of the data file.
pub const DATA_FILE: &str = "data.mzd";
/// The file name of the lock file.
pub const LOCK_FILE: &str = "mizzle.lock";

/// Settings of one engine instance.
#[derive(Clone)]
pub struct DiskOptions {
    /// When commits become durable.
    pub sync: SyncMode,
    /// Page cache bytes.
    pub cache_bytes: u64,
    /// Create a database if the directory holds none.
    pub create: bool,
    /// Bytes of changes in the active memtable that start a checkpoint;
    /// writers wait at twice this while a checkpoint runs.
    pub memtable_bytes: usize,
    /// Size of a log segment.
    pub segment_bytes: u64,
    /// The file system (tests put a fault-injecting one here).
    pub vfs: Arc<dyn Vfs>,
}

impl DiskOptions {
    /// The defaults for `opts`, on the real file system.
    pub fn from_engine_options(opts: &EngineOptions) -> DiskOptions {
        DiskOptions {
            sync: opts.sync,
            cache_bytes: opts.cache_bytes,
            create: opts.create,
            memtable_bytes: 4 << 20,
            segment_bytes: 4 << 20,
            vfs: Arc::new(StdFs),
        }
    }
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions::from_engine_options(&EngineOptions::default())
    }
}

/// A memtable behind its latch, with its entry count readable without the
/// latch: a reader finds an empty table (the common case after a
/// checkpoint) without touching the latch, a cache line every reader would
/// otherwise write.
struct Table {
    latch: RwLock<Memtable>,
    entries: AtomicUsize,
}

impl Table {
    fn new(m: Memtable) -> Table {
        let n = m.len();
        Table { latch: RwLock::new(m), entries: AtomicUsize::new(n) }
    }

    fn read(&self) -> parking_lot::RwLockReadGuard<'_, Memtable> {
        self.latch.read()
    }

    fn write(&self) -> parking_lot::RwLockWriteGuard<'_, Memtable> {
        self.latch.write()
    }

    /// True when the table holds nothing. A writer publishes its count
    /// (Release) before releasing the latch, so a reader that is ordered
    /// after a write (by the caller's own locks) sees it.
    fn is_empty(&self) -> bool {
        self.entries.load(Ordering::Acquire) == 0
    }
}

/// What readers search, newest first.
struct View {
    active: Arc<Table>,
    frozen: Option<Arc<Table>>,
    tree: Arc<Tree>,
    /// The tree's largest key (`None`: empty), so a read above it skips the
    /// tree: appends (ascending keys, as a bulk load or AUTO_INCREMENT
    /// writes them) probe for an existing version at the end of the key
    /// space, where the tree has nothing.
    tree_last: Option<Arc<[u8]>>,
}

/// The largest key of `tree`, for [`View::tree_last`].
fn last_key_of(tree: &Tree) -> Result<Option<Arc<[u8]>>, StorageError> {
    Ok(tree.last_key()?.map(Arc::from))
}

/// True if no key of a tree whose largest key is `last` lies at or after `lo`.
fn above_tree(lo: Bound<&[u8]>, last: Option<&[u8]>) -> bool {
    match (lo, last) {
        (_, None) => true,
        (Bound::Included(k), Some(l)) => k > l,
        (Bound::Excluded(k), Some(l)) => k >= l,
        (Bound::Unbounded, Some(_)) => false,
    }
}

struct Inner {
    dir: PathBuf,
    opts: DiskOptions,
    wal: Wal,
    base: base::Base,
    view: ArcSwap<View>,
    /// Orders log appends with memtable updates (E1).
    write_lock: Mutex<()>,
    /// One checkpoint at a time.
    checkpoint_lock: Mutex<()>,
    /// Bytes in the active memtable (read without its latch by `admit`).
    active_bytes: AtomicUsize,
    /// The first failure that stopped writes (E4), and a flag read
    /// without the lock.
    failed: Mutex<Option<StorageError>>,
    has_failed: AtomicBool,
    /// Wakes the checkpointer; tells waiting writers a checkpoint ended.
    signal: Mutex<Signal>,
    cv: Condvar,
    checkpoints: AtomicU64,
    /// Writers that waited in `admit` for a checkpoint, and for how long.
    admit_waits: AtomicU64,
    admit_wait_us: AtomicU64,
    _lock: Box<dyn VfsLock>,
}

#[derive(Default)]
struct Signal {
    requested: bool,
    stop: bool,
    /// Checkpoints completed (waiters compare).
    done: u64,
}

/// The engine; dropping the last handle closes it cleanly (the log is
/// synced; the lock is released).
pub struct DiskEngine {
    inner: Arc<Inner>,
    checkpointer: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

fn locked_error(dir: &Path) -> StorageError {
    StorageError::Locked(format!(
        "'{}' (errno: 11 - Resource temporarily unavailable): the database is open in another process",
        dir.join(LOCK_FILE).display()
    ))
}

impl DiskEngine {
    /// Opens (or creates) the database in `dir`, recovering it.
    pub fn open(dir: &Path, opts: DiskOptions) -> Result<DiskEngine, StorageError> {
        let vfs = opts.vfs.clone();
        let shown = dir.display().to_string();
        let exists = vfs.exists(dir).map_err(|e| storage_error(&e, Op::Open, &shown))?;
        if !exists {
            if !opts.create {
                return Err(StorageError::Foreign(format!("'{shown}': no database (the directory does not exist)")));
            }
            vfs.create_dir_all(dir).map_err(|e| storage_error(&e, Op::Create, &shown))?;
        }
        let lock = match vfs.lock_exclusive(&dir.join(LOCK_FILE)) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Err(locked_error(dir)),
            Err(e) => return Err(storage_error(&e, Op::Create, &dir.join(LOCK_FILE).display().to_string())),
        };
        let data_path = dir.join(DATA_FILE);
        let data_exists = vfs.exists(&data_path).map_err(|e| storage_error(&e, Op::Open, &shown))?;
        let base = if data_exists {
            base::Base::open(vfs.clone(), &data_path, opts.cache_bytes)?
        } else {
            let names = vfs.list_dir(dir).map_err(|e| storage_error(&e, Op::Open, &shown))?;
            if names.iter().any(|n| n.starts_with("wal-") && n.ends_with(".log")) {
                return Err(StorageError::Corrupt(format!(
                    "'{}' is missing but the directory holds log segments: refusing to start an empty database over them",
                    data_path.display()
                )));
            }
            if !opts.create {
                return Err(StorageError::Foreign(format!("'{shown}': no database")));
            }
            base::Base::create(vfs.clone(), &data_path, opts.cache_bytes)?
        };
        let tree = base.current();
        let after = tree.checkpoint_lsn();
        // Replay (D6): records after the checkpoint, applied as `write` did.
        let mut active = Memtable::new();
        let wal_opts = WalOptions {
            sync: opts.sync,
            segment_bytes: opts.segment_bytes,
            // Big enough that a bulk load writes in large sequential writes,
            // small enough to keep the buffers' memory modest.
            block_bytes: 1 << 20,
            ..WalOptions::default()
        };
        let wal = Wal::open(vfs.clone(), dir, after, wal_opts, &mut |_lsn, rec| {
            let batch = record::decode(rec)?;
            apply(&mut active, None, &base, &tree, batch)
        })?;
        let bytes = active.bytes();
        let tree_last = last_key_of(&tree)?;
        let view = View { active: Arc::new(Table::new(active)), frozen: None, tree, tree_last };
        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            opts,
            wal,
            base,
            view: ArcSwap::from_pointee(view),
            write_lock: Mutex::new(()),
            checkpoint_lock: Mutex::new(()),
            active_bytes: AtomicUsize::new(bytes),
            failed: Mutex::new(None),
            has_failed: AtomicBool::new(false),
            signal: Mutex::new(Signal::default()),
            cv: Condvar::new(),
            checkpoints: AtomicU64::new(0),
            admit_waits: AtomicU64::new(0),
            admit_wait_us: AtomicU64::new(0),
            _lock: lock,
        });
        let worker = inner.clone();
        let handle = std::thread::Builder::new()
            .name("mizzle-checkpoint".into())
            .spawn(move || worker.checkpointer())
            .map_err(|e| StorageError::Io(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(DiskEngine { inner, checkpointer: Mutex::new(Some(handle)), closed: AtomicBool::new(false) })
    }

    /// Stops the checkpointer, checkpoints what remains and syncs the log.
    /// Called by `Drop`; errors are returned here and ignored there.
    pub fn close(&self) -> Result<(), StorageError> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        {
            let mut s = self.inner.signal.lock();
            s.stop = true;
        }
        self.inner.cv.notify_all();
        if let Some(h) = self.checkpointer.lock().take() {
            let _ = h.join();
        }
        let mut result = Ok(());
        if self.inner.failure().is_none() && self.inner.active_bytes.load(Ordering::SeqCst) > 0 {
            result = self.inner.run_checkpoint();
        }
        let closed = self.inner.wal.close();
        result.and(closed)
    }

    /// The directory this engine keeps its files in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}

impl Drop for DiskEngine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Applies one batch to `active` (E1): puts and deletes as they are; a
/// range delete becomes a tombstone for every key present in the range in
/// any source (`frozen`, the tree, `active` itself).
fn apply(
    active: &mut Memtable,
    frozen: Option<&Table>,
    base: &base::Base,
    tree: &Arc<Tree>,
    batch: WriteBatch,
) -> Result<(), StorageError> {
    for m in batch.into_ops() {
        match m {
            Mutation::Put { key, value } => active.set(key, Some(value)),
            Mutation::Delete { key } => active.set(key, None),
            Mutation::DeleteRange { start, end } => {
                if start >= end {
                    continue;
                }
                let lo = Bound::Included(start.as_slice());
                let hi = Bound::Excluded(end.as_slice());
                let mut doomed = active.keys_between(lo, hi);
                if let Some(f) = frozen {
                    doomed.extend(f.read().keys_between(lo, hi));
                }
                doomed.extend(base.keys_between(tree, lo, hi)?);
                for k in doomed {
                    active.set(k, None);
                }
            }
        }
    }
    Ok(())
}

/// Refuses what the tree could not store, before it reaches the log (a
/// logged record the checkpoint cannot merge would stop the engine).
fn check_keys(batch: &WriteBatch) -> Result<(), StorageError> {
    for m in batch.ops() {
        match m {
            Mutation::Put { key, value } => {
                crate::page::check_key(key)?;
                crate::page::check_value(value)?;
            }
            Mutation::Delete { key } => crate::page::check_key(key)?,
            Mutation::DeleteRange { .. } => {}
        }
    }
    Ok(())
}

impl Inner {
    fn failure(&self) -> Option<StorageError> {
        if !self.has_failed.load(Ordering::Acquire) {
            return None;
        }
        self.failed.lock().clone()
    }

    fn fail(&self, e: &StorageError) {
        let mut f = self.failed.lock();
        if f.is_none() {
            *f = Some(e.clone());
        }
        self.has_failed.store(true, Ordering::Release);
        drop(f);
        self.cv.notify_all();
    }

    fn soft_limit(&self) -> usize {
        self.opts.memtable_bytes.max(64 << 10)
    }

    fn request_checkpoint(&self) {
        let mut s = self.signal.lock();
        if !s.requested {
            s.requested = true;
            self.cv.notify_all();
        }
    }

    fn checkpointer(&self) {
        loop {
            {
                let mut s = self.signal.lock();
                while !s.requested && !s.stop {
                    // Idle checkpoints keep the log short when writes stop.
                    let timed_out = self.cv.wait_for(&mut s, Duration::from_secs(30)).timed_out();
                    if timed_out && self.active_bytes.load(Ordering::SeqCst) > 0 {
                        s.requested = true;
                    }
                }
                if s.stop {
                    return;
                }
                s.requested = false;
            }
            if self.failure().is_some() {
                continue;
            }
            if let Err(e) = self.run_checkpoint() {
                self.fail(&e);
            }
        }
    }

    /// One checkpoint (see the module documentation).
    fn run_checkpoint(&self) -> Result<(), StorageError> {
        let _one = self.checkpoint_lock.lock();
        if let Some(e) = self.failure() {
            return Err(e);
        }
        // Freeze.
        let (frozen, lsn, tree) = {
            let _w = self.write_lock.lock();
            let view = self.view.load_full();
            if view.active.read().is_empty() {
                return Ok(());
            }
            let lsn = self.wal.last_lsn();
            let fresh = Arc::new(Table::new(Memtable::new()));
            self.view.store(Arc::new(View {
                active: fresh,
                frozen: Some(view.active.clone()),
                tree: view.tree.clone(),
                tree_last: view.tree_last.clone(),
            }));
            self.active_bytes.store(0, Ordering::SeqCst);
            (view.active.clone(), lsn, view.tree.clone())
        };
        // Merge, without engine locks (E3). The frozen table takes no more
        // writes, so its read latch is uncontended.
        let new_tree = {
            let f = frozen.read();
            let mut changes = f.iter();
            let r = self.base.checkpoint(&tree, &mut changes, lsn);
            drop(changes);
            r?
        };
        // Install (E2).
        let tree_last = last_key_of(&new_tree)?;
        {
            let _w = self.write_lock.lock();
            let view = self.view.load_full();
            self.view.store(Arc::new(View { active: view.active.clone(), frozen: None, tree: new_tree, tree_last }));
        }
        drop(tree);
        self.wal.retire_through(lsn)?;
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
        {
            let mut s = self.signal.lock();
            s.done += 1;
        }
        self.cv.notify_all();
        Ok(())
    }

    /// Fills `out` with up to `max` pairs of `[lo, hi)` (bounds as given)
    /// merged from the view, in ascending order or, with `desc`, from the
    /// top of the range down; returns the bound to resume from (the new
    /// lower bound, or with `desc` the new upper one), or `None` when the
    /// range is exhausted.
    fn fill(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        out: &mut KvBatch,
        max: usize,
        desc: bool,
    ) -> Result<Option<Bound<Vec<u8>>>, StorageError> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut sc) => self.fill_with(&mut sc, lo, hi, out, max, desc),
            // Not reachable (fill does not call itself), but never panic.
            Err(_) => self.fill_with(&mut Scratch::default(), lo, hi, out, max, desc),
        })
    }

    fn fill_with(
        &self,
        sc: &mut Scratch,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        out: &mut KvBatch,
        max: usize,
        desc: bool,
    ) -> Result<Option<Bound<Vec<u8>>>, StorageError> {
        out.clear();
        let max = max.max(1);
        let view = self.view.load();
        let Scratch { parts, head_key, head_val, last, iter_bufs } = sc;
        // Copy the memtables' part of the range, so no latch is held while
        // the tree is read (E3). A source cut short caps the batch: keys
        // past its last copied key are unknown here.
        if view.active.is_empty() {
            parts[0].clear();
        } else {
            parts[0].copy_from(&view.active.read(), lo, hi, max, desc);
        }
        let nparts = match &view.frozen {
            Some(f) => {
                parts[1].copy_from(&f.read(), lo, hi, max, desc);
                2
            }
            None => 1,
        };
        let parts = &parts[..nparts];
        let tree_above = above_tree(lo, view.tree_last.as_deref());
        if parts.iter().all(|p| p.ends.is_empty()) {
            if tree_above {
                return Ok(None);
            }
            // A short read with nothing recent in range (a key's versions
            // after a checkpoint): one leaf, upper levels pinned.
            if max <= SHORT_READ && !desc {
                match view.tree.scan_leaf(lo, hi, out, max, head_key, head_val)? {
                    LeafScan::Complete => return Ok(None),
                    LeafScan::Full => return Ok(Some(Bound::Excluded(out.key(out.len() - 1).to_vec()))),
                    LeafScan::LeafEnded => out.clear(),
                }
            }
        }
        // A source cut short caps the batch at its last copied key: the
        // lowest such key ascending, the highest descending.
        let cut = parts.iter().filter(|p| p.truncated).filter_map(|p| p.last_key());
        let cap: Option<&[u8]> = if desc { cut.max() } else { cut.min() };
        let mut tree_it = if tree_above {
            None
        } else {
            Some(self.base.iter(&view.tree, lo, hi, std::mem::take(iter_bufs), desc)?)
        };
        // The iterator's allocations go back to the scratch however this
        // ends; its version and pages are released (no pinning: D2).
        let result = if parts.iter().all(|p| p.ends.is_empty()) {
            // Nothing recent in the range (the common read after a
            // checkpoint): the tree's pairs go straight to `out`.
            tree_only(&mut tree_it, out, max)
        } else {
            merge_sources(parts, cap, &mut tree_it, head_key, head_val, last, out, max, desc)
        };
        if let Some(it) = tree_it {
            *iter_bufs = it.into_buffers();
        }
        result
    }
}

/// `Inner::fill` when only the tree has pairs in the range.
fn tree_only(
    tree_it: &mut Option<crate::btree::TreeIter>,
    out: &mut KvBatch,
    max: usize,
) -> Result<Option<Bound<Vec<u8>>>, StorageError> {
    let Some(it) = tree_it.as_mut() else { return Ok(None) };
    while out.len() < max {
        match it.next_pair()? {
            Some((k, v)) => out.push(k, v),
            None => return Ok(None),
        }
    }
    // Full: resume after the last pair (the range may hold more).
    Ok(Some(Bound::Excluded(out.key(out.len() - 1).to_vec())))
}

/// The merge loop of `Inner::fill`: every source (and the tree iterator)
/// runs in the same direction, ascending or (`desc`) descending.
#[allow(clippy::too_many_arguments)]
fn merge_sources(
    parts: &[MemPart],
    cap: Option<&[u8]>,
    tree_it: &mut Option<crate::btree::TreeIter>,
    head_key: &mut Vec<u8>,
    head_val: &mut Vec<u8>,
    last: &mut Vec<u8>,
    out: &mut KvBatch,
    max: usize,
    desc: bool,
) -> Result<Option<Bound<Vec<u8>>>, StorageError> {
    // `a` comes before `b` in the merge's order (or ties with it).
    let first = |a: &[u8], b: &[u8]| if desc { a >= b } else { a <= b };
    let mut has_head = match tree_it.as_mut() {
        Some(it) => next_tree_pair(it, head_key, head_val)?,
        None => false,
    };
    let mut pos = [0usize; 2];
    let mut have_last = false;
    loop {
        // The first key among the sources in the merge's order (the
        // smallest, or descending the largest); ties go to the newest
        // (the active memtable, then the frozen one, then the tree).
        let mut best: Option<&[u8]> = if has_head { Some(head_key.as_slice()) } else { None };
        for (i, p) in parts.iter().enumerate() {
            if let Some(k) = p.key(pos[i]) {
                if best.is_none_or(|b| first(k, b)) {
                    best = Some(k);
                }
            }
        }
        let Some(key) = best else { break };
        if cap.is_some_and(|c| !first(key, c)) {
            return Ok(cap.map(|c| Bound::Excluded(c.to_vec())));
        }
        if out.len() >= max {
            return Ok(have_last.then(|| Bound::Excluded(last.to_vec())));
        }
        last.clear();
        last.extend_from_slice(key);
        have_last = true;
        // Emit the newest source's entry for the key; advance every
        // source past it.
        let mut decided = false;
        for (i, p) in parts.iter().enumerate() {
            if p.key(pos[i]) == Some(last.as_slice()) {
                if !decided {
                    if let Some(v) = p.value(pos[i]) {
                        out.push(last, v);
                    }
                    decided = true;
                }
                pos[i] += 1;
            }
        }
        if has_head && head_key.as_slice() == last.as_slice() {
            if !decided {
                out.push(last, head_val);
            }
            has_head = match tree_it.as_mut() {
                Some(it) => next_tree_pair(it, head_key, head_val)?,
                None => false,
            };
        }
    }
    Ok(cap.map(|c| Bound::Excluded(c.to_vec())))
}

/// Reads of at most this many pairs try the one-leaf path first.
const SHORT_READ: usize = 16;

/// Reused buffers of `Inner::fill`, one set per thread.
#[derive(Default)]
struct Scratch {
    parts: [MemPart; 2],
    head_key: Vec<u8>,
    head_val: Vec<u8>,
    last: Vec<u8>,
    iter_bufs: crate::btree::IterBuffers,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Copies the tree iterator's next pair into the buffers; false at the end.
fn next_tree_pair(it: &mut crate::btree::TreeIter, k: &mut Vec<u8>, v: &mut Vec<u8>) -> Result<bool, StorageError> {
    match it.next_pair()? {
        Some((key, val)) => {
            k.clear();
            k.extend_from_slice(key);
            v.clear();
            v.extend_from_slice(val);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A copy of one memtable's entries in a range (see `Inner::fill`).
#[derive(Default)]
struct MemPart {
    keys: Vec<u8>,
    ends: Vec<(usize, usize, bool)>,
    vals: Vec<u8>,
    /// More entries in range follow the last copied one.
    truncated: bool,
}

impl MemPart {
    fn clear(&mut self) {
        self.keys.clear();
        self.ends.clear();
        self.vals.clear();
        self.truncated = false;
    }

    /// Copies `m`'s entries in the range, from its bottom or (`desc`) its
    /// top, in that order.
    fn copy_from(&mut self, m: &Memtable, lo: Bound<&[u8]>, hi: Bound<&[u8]>, max: usize, desc: bool) {
        self.clear();
        if m.is_empty() {
            return;
        }
        if desc {
            self.copy_entries(m.between_rev(lo, hi), max);
        } else {
            self.copy_entries(m.from(lo).take_while(|(k, _)| before(k, hi)), max);
        }
    }

    fn copy_entries<'a>(&mut self, entries: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>, max: usize) {
        // Tombstones produce nothing, so copy somewhat more than `max`.
        let limit = max + 64;
        for (k, v) in entries {
            if self.ends.len() >= limit {
                self.truncated = true;
                break;
            }
            self.keys.extend_from_slice(k);
            if let Some(v) = v {
                self.vals.extend_from_slice(v);
            }
            self.ends.push((self.keys.len(), self.vals.len(), v.is_some()));
        }
    }

    fn key(&self, i: usize) -> Option<&[u8]> {
        let (end, _, _) = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1].0 };
        self.keys.get(start..end)
    }

    /// The value at `i`, `None` for a tombstone.
    fn value(&self, i: usize) -> Option<&[u8]> {
        let (_, end, live) = *self.ends.get(i)?;
        if !live {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1].1 };
        self.vals.get(start..end)
    }

    fn last_key(&self) -> Option<&[u8]> {
        self.key(self.ends.len().checked_sub(1)?)
    }
}

fn bound_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl StorageEngine for DiskEngine {
    fn info(&self) -> EngineInfo {
        EngineInfo { name: "disk".into(), persistent: true }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let inner = &self.inner;
        let view = inner.view.load();
        if !view.active.is_empty() {
            if let Some(v) = view.active.read().get(key) {
                return Ok(v.map(|v| v.to_vec()));
            }
        }
        if let Some(f) = &view.frozen {
            if let Some(v) = f.read().get(key) {
                return Ok(v.map(|v| v.to_vec()));
            }
        }
        if above_tree(Bound::Included(key), view.tree_last.as_deref()) {
            return Ok(None);
        }
        inner.base.get(&view.tree, key)
    }

    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
        Ok(Box::new(DiskCursor { inner: self.inner.clone(), lo: range.start, hi: range.end, desc: false, done: false }))
    }

    fn scan_rev(&self, range: KeyRange) -> Result<Option<Box<dyn Cursor>>, StorageError> {
        Ok(Some(Box::new(DiskCursor {
            inner: self.inner.clone(),
            lo: range.start,
            hi: range.end,
            desc: true,
            done: false,
        })))
    }

    fn scan_first(&self, range: KeyRange, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        let lo = bound_ref(&range.start);
        let hi = bound_ref(&range.end);
        if empty_range(lo, hi) {
            out.clear();
            return Ok(false);
        }
        Ok(self.inner.fill(lo, hi, out, max_pairs, false)?.is_some())
    }

    fn scan_prefix_first(&self, prefix: &[u8], out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        KeyRange::with_prefix_bounds(prefix, |lo, hi| Ok(self.inner.fill(lo, hi, out, max_pairs, false)?.is_some()))
    }

    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<DurableTicket, StorageError> {
        let inner = &self.inner;
        if let Some(e) = inner.failure() {
            return Err(e);
        }
        check_keys(&batch)?;
        record::check_lengths(&batch)?;
        let len = record::encoded_len(&batch);
        let lsn: Lsn;
        let bytes;
        {
            let _w = inner.write_lock.lock();
            let view = inner.view.load();
            // Encoded straight into the log's buffer (no copy of its own).
            let encode = |buf: &mut [u8]| record::encode_into(&batch, buf);
            // Only a mode `off` commit wakes the log writer here: its ticket
            // is ready at once and wakes nobody (see `Wal::append_quiet_with`).
            let mode = match durability {
                Durability::Relaxed => None,
                Durability::Sync => Some(inner.wal.sync_mode()),
                Durability::As(m) => Some(m),
            };
            let appended = if mode == Some(SyncMode::Off) {
                inner.wal.append_with(len, encode)
            } else {
                inner.wal.append_quiet_with(len, encode)
            };
            lsn = match appended {
                Ok(l) => l,
                Err(e) => {
                    drop(_w);
                    inner.fail(&e);
                    return Err(e);
                }
            };
            let mut active = view.active.write();
            let before_bytes = active.bytes();
            let applied = apply(&mut active, view.frozen.as_deref(), &inner.base, &view.tree, batch);
            bytes = active.bytes();
            view.active.entries.store(active.len(), Ordering::Release);
            inner.active_bytes.fetch_add(bytes.saturating_sub(before_bytes), Ordering::SeqCst);
            if let Err(e) = applied {
                drop(active);
                drop(_w);
                // The record is in the log but not in memory: a reopen
                // replays it; until then writes stop (E4).
                inner.fail(&e);
                return Err(e);
            }
        }
        if bytes >= inner.soft_limit() {
            inner.request_checkpoint();
        }
        Ok(match durability {
            Durability::Sync => inner.wal.ticket(lsn),
            Durability::As(mode) => inner.wal.ticket_as(lsn, mode),
            Durability::Relaxed => DurableTicket::ready(),
        })
    }

    fn approximate_size(&self) -> u64 {
        let view = self.inner.view.load();
        view.tree.bytes() + self.inner.active_bytes.load(Ordering::Relaxed) as u64
    }

    fn approximate_keys(&self) -> u64 {
        let view = self.inner.view.load();
        let puts = view.active.read().counts().0;
        view.tree.entries() + puts
    }

    fn admit(&self, _bytes: usize) -> Result<(), StorageError> {
        let inner = &self.inner;
        if let Some(e) = inner.failure() {
            return Err(e);
        }
        inner.wal.wait_for_room()?;
        let hard = inner.soft_limit().saturating_mul(2);
        if inner.active_bytes.load(Ordering::SeqCst) < hard {
            return Ok(());
        }
        inner.request_checkpoint();
        let started = std::time::Instant::now();
        inner.admit_waits.fetch_add(1, Ordering::Relaxed);
        let mut s = inner.signal.lock();
        let _timer = WaitTimer(&inner.admit_wait_us, started);
        while inner.active_bytes.load(Ordering::SeqCst) >= hard && !s.stop {
            if let Some(e) = inner.failed.lock().clone() {
                return Err(e);
            }
            s.requested = true;
            inner.cv.notify_all();
            inner.cv.wait_for(&mut s, Duration::from_millis(50));
        }
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), StorageError> {
        let r = self.inner.run_checkpoint();
        if let Err(e) = &r {
            self.inner.fail(e);
        }
        r
    }

    fn stats(&self) -> Vec<(String, u64)> {
        let inner = &self.inner;
        let view = inner.view.load();
        let mut v = vec![
            ("memtable_bytes".to_string(), inner.active_bytes.load(Ordering::Relaxed) as u64),
            ("memtable_entries".to_string(), view.active.read().len() as u64),
            ("checkpoints".to_string(), inner.checkpoints.load(Ordering::Relaxed)),
            ("admit_waits".to_string(), inner.admit_waits.load(Ordering::Relaxed)),
            ("admit_wait_us".to_string(), inner.admit_wait_us.load(Ordering::Relaxed)),
            ("tree_entries".to_string(), view.tree.entries()),
        ];
        v.extend(inner.base.stats());
        let w = inner.wal.stats();
        v.extend([
            ("log_segments".to_string(), w.segments),
            ("log_bytes".to_string(), w.segment_bytes),
            ("log_blocks_written".to_string(), w.blocks_written),
            ("log_syncs".to_string(), w.syncs),
            ("log_records".to_string(), w.records_appended),
            ("log_records_recovered".to_string(), w.records_recovered),
        ]);
        v
    }
}

/// Adds the time since `.1` to the counter `.0` when dropped.
struct WaitTimer<'a>(&'a AtomicU64, std::time::Instant);

impl Drop for WaitTimer<'_> {
    fn drop(&mut self) {
        let us = u64::try_from(self.1.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.0.fetch_add(us, Ordering::Relaxed);
    }
}

/// A cursor over the view, ascending (its lower bound moves up) or
/// descending (its upper bound moves down); each batch reads the view
/// current at that moment.
struct DiskCursor {
    inner: Arc<Inner>,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    desc: bool,
    done: bool,
}

impl Cursor for DiskCursor {
    fn next_batch(&mut self, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        out.clear();
        if self.done {
            return Ok(false);
        }
        loop {
            let (lo, hi) = (bound_ref(&self.lo), bound_ref(&self.hi));
            if empty_range(lo, hi) {
                self.done = true;
                return Ok(!out.is_empty());
            }
            let resume = self.inner.fill(lo, hi, out, max_pairs, self.desc)?;
            match resume {
                Some(b) => {
                    if self.desc {
                        self.hi = b;
                    } else {
                        self.lo = b;
                    }
                    if !out.is_empty() {
                        return Ok(true);
                    }
                    // A batch of nothing but tombstones: go on.
                }
                None => {
                    self.done = true;
                    return Ok(!out.is_empty());
                }
            }
        }
    }

    fn seek(&mut self, key: &[u8]) {
        if self.desc {
            // Never called on a descending cursor (`scan_rev`'s contract).
            return;
        }
        let ahead = match &self.lo {
            Bound::Included(k) | Bound::Excluded(k) => key > k.as_slice(),
            Bound::Unbounded => true,
        };
        if ahead {
            self.lo = Bound::Included(key.to_vec());
            self.done = false;
        }
    }
}

/// Registers the `disk` engine.
pub struct DiskEngineFactory;

impl StorageEngineFactory for DiskEngineFactory {
    fn name(&self) -> &str {
        "disk"
    }

    fn description(&self) -> &str {
        "Checksummed pages holding a copy-on-write B+tree, a write-ahead log with group commit; durable across crashes"
    }

    fn persistent(&self) -> bool {
        true
    }

    fn open(&self, dir: Option<&Path>, opts: &EngineOptions) -> Result<Arc<dyn StorageEngine>, StorageError> {
        let dir = dir.ok_or_else(|| {
            StorageError::Unsupported("the disk engine needs a directory; use the memory engine in memory".into())
        })?;
        Ok(Arc::new(DiskEngine::open(dir, DiskOptions::from_engine_options(opts))?))
    }
}
