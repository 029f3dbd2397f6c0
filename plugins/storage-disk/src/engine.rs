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
use crate::ids::Lsn;
use crate::ioerr::{storage_error, Op};
use crate::memtable::{before, Memtable};
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
            memtable_bytes: 8 << 20,
            segment_bytes: 16 << 20,
            vfs: Arc::new(StdFs),
        }
    }
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions::from_engine_options(&EngineOptions::default())
    }
}

/// What readers search, newest first.
struct View {
    active: Arc<RwLock<Memtable>>,
    frozen: Option<Arc<RwLock<Memtable>>>,
    tree: Arc<Tree>,
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
    /// The first failure that stopped writes (E4).
    failed: Mutex<Option<StorageError>>,
    /// Wakes the checkpointer; tells waiting writers a checkpoint ended.
    signal: Mutex<Signal>,
    cv: Condvar,
    checkpoints: AtomicU64,
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
        let wal_opts = WalOptions { sync: opts.sync, segment_bytes: opts.segment_bytes, ..WalOptions::default() };
        let wal = Wal::open(vfs.clone(), dir, after, wal_opts, &mut |_lsn, rec| {
            let batch = record::decode(rec)?;
            apply(&mut active, None, &base, &tree, batch)
        })?;
        let bytes = active.bytes();
        let view = View { active: Arc::new(RwLock::new(active)), frozen: None, tree };
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
            signal: Mutex::new(Signal::default()),
            cv: Condvar::new(),
            checkpoints: AtomicU64::new(0),
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
    frozen: Option<&RwLock<Memtable>>,
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
        self.failed.lock().clone()
    }

    fn fail(&self, e: &StorageError) {
        let mut f = self.failed.lock();
        if f.is_none() {
            *f = Some(e.clone());
        }
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
            let fresh = Arc::new(RwLock::new(Memtable::new()));
            self.view.store(Arc::new(View {
                active: fresh,
                frozen: Some(view.active.clone()),
                tree: view.tree.clone(),
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
        {
            let _w = self.write_lock.lock();
            let view = self.view.load_full();
            self.view.store(Arc::new(View { active: view.active.clone(), frozen: None, tree: new_tree }));
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
    /// merged from the view; returns the bound to resume from, or `None`
    /// when the range is exhausted.
    fn fill(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        out: &mut KvBatch,
        max: usize,
    ) -> Result<Option<Bound<Vec<u8>>>, StorageError> {
        out.clear();
        let max = max.max(1);
        let view = self.view.load();
        // Copy the memtables' part of the range, so no latch is held while
        // the tree is read (E3). A source cut short caps the batch: keys
        // past its last copied key are unknown here.
        let mut srcs: Vec<MemPart> = Vec::with_capacity(2);
        srcs.push(MemPart::copy(&view.active.read(), lo, hi, max));
        if let Some(f) = &view.frozen {
            srcs.push(MemPart::copy(&f.read(), lo, hi, max));
        }
        let cap: Option<Vec<u8>> =
            srcs.iter().filter(|s| s.truncated).filter_map(|s| s.last_key().map(|k| k.to_vec())).min();
        let mut tree_it = self.base.iter(&view.tree, lo, hi)?;
        let mut pos = vec![0usize; srcs.len()];
        // The tree's current pair, copied into reused buffers.
        let mut tree_head: Option<(Vec<u8>, Vec<u8>)> = None;
        let mut spare: (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
        let mut advance_tree =
            |head: &mut Option<(Vec<u8>, Vec<u8>)>, spare: &mut (Vec<u8>, Vec<u8>)| -> Result<(), StorageError> {
                let mut buf = head.take().unwrap_or_else(|| std::mem::take(spare));
                match tree_it.next_pair()? {
                    Some((k, v)) => {
                        buf.0.clear();
                        buf.0.extend_from_slice(k);
                        buf.1.clear();
                        buf.1.extend_from_slice(v);
                        *head = Some(buf);
                    }
                    None => *spare = buf,
                }
                Ok(())
            };
        advance_tree(&mut tree_head, &mut spare)?;
        let mut last: Option<Vec<u8>> = None;
        loop {
            // The smallest key among the sources; ties go to the newest.
            let mut best: Option<(&[u8], usize)> = None;
            for (i, s) in srcs.iter().enumerate() {
                if let Some(k) = s.key(pos[i]) {
                    if best.is_none_or(|(b, _)| k < b) {
                        best = Some((k, i));
                    }
                }
            }
            let tree_first = match (&tree_head, best) {
                (Some((tk, _)), Some((bk, _))) => tk.as_slice() < bk,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let key: Vec<u8> = if tree_first {
                match &tree_head {
                    Some((k, _)) => k.clone(),
                    None => break,
                }
            } else {
                match best {
                    Some((k, _)) => k.to_vec(),
                    None => break,
                }
            };
            if cap.as_deref().is_some_and(|c| key.as_slice() > c) {
                return Ok(Some(Bound::Excluded(cap.unwrap_or_default())));
            }
            if out.len() >= max {
                return Ok(last.map(Bound::Excluded));
            }
            // Emit the newest source's entry for `key`; advance every
            // source past it.
            let mut emitted = false;
            let mut decided = false;
            for (i, s) in srcs.iter().enumerate() {
                if s.key(pos[i]) == Some(key.as_slice()) {
                    if !decided {
                        if let Some(v) = s.value(pos[i]) {
                            out.push(&key, v);
                            emitted = true;
                        }
                        decided = true;
                    }
                    pos[i] += 1;
                }
            }
            if tree_head.as_ref().is_some_and(|(k, _)| *k == key) {
                if !decided {
                    if let Some((_, v)) = &tree_head {
                        out.push(&key, v);
                        emitted = true;
                    }
                }
                advance_tree(&mut tree_head, &mut spare)?;
            }
            let _ = emitted;
            last = Some(key);
        }
        if let Some(c) = cap {
            return Ok(Some(Bound::Excluded(c)));
        }
        Ok(None)
    }
}

/// A copy of one memtable's entries in a range (see `Inner::fill`).
struct MemPart {
    keys: Vec<u8>,
    ends: Vec<(usize, usize, bool)>,
    vals: Vec<u8>,
    /// More entries in range follow the last copied one.
    truncated: bool,
}

impl MemPart {
    fn copy(m: &Memtable, lo: Bound<&[u8]>, hi: Bound<&[u8]>, max: usize) -> MemPart {
        let mut p = MemPart { keys: Vec::new(), ends: Vec::new(), vals: Vec::new(), truncated: false };
        if m.is_empty() {
            return p;
        }
        // Tombstones produce nothing, so copy somewhat more than `max`.
        let limit = max + 64;
        for (k, v) in m.from(lo) {
            if !before(k, hi) {
                break;
            }
            if p.ends.len() >= limit {
                p.truncated = true;
                break;
            }
            p.keys.extend_from_slice(k);
            if let Some(v) = v {
                p.vals.extend_from_slice(v);
            }
            p.ends.push((p.keys.len(), p.vals.len(), v.is_some()));
        }
        p
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

/// True for an empty range.
fn empty_range(lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a >= b,
        _ => false,
    }
}

impl StorageEngine for DiskEngine {
    fn info(&self) -> EngineInfo {
        EngineInfo { name: "disk".into(), persistent: true }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let inner = &self.inner;
        let view = inner.view.load();
        if let Some(v) = view.active.read().get(key) {
            return Ok(v.map(|v| v.to_vec()));
        }
        if let Some(f) = &view.frozen {
            if let Some(v) = f.read().get(key) {
                return Ok(v.map(|v| v.to_vec()));
            }
        }
        inner.base.get(&view.tree, key)
    }

    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
        Ok(Box::new(DiskCursor { inner: self.inner.clone(), next: range.start, end: range.end, done: false }))
    }

    fn scan_first(&self, range: KeyRange, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        let lo = bound_ref(&range.start);
        let hi = bound_ref(&range.end);
        if empty_range(lo, hi) {
            out.clear();
            return Ok(false);
        }
        Ok(self.inner.fill(lo, hi, out, max_pairs)?.is_some())
    }

    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<DurableTicket, StorageError> {
        let inner = &self.inner;
        if let Some(e) = inner.failure() {
            return Err(e);
        }
        check_keys(&batch)?;
        let mut rec = Vec::new();
        record::encode(&batch, &mut rec)?;
        let lsn: Lsn;
        let bytes;
        {
            let _w = inner.write_lock.lock();
            let view = inner.view.load();
            lsn = match inner.wal.append(&rec) {
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
        let mut s = inner.signal.lock();
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
            ("checkpoints".to_string(), inner.checkpoints.load(Ordering::Relaxed)),
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

struct DiskCursor {
    inner: Arc<Inner>,
    next: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    done: bool,
}

impl Cursor for DiskCursor {
    fn next_batch(&mut self, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        out.clear();
        if self.done {
            return Ok(false);
        }
        let lo = bound_ref(&self.next);
        let hi = bound_ref(&self.end);
        if empty_range(lo, hi) {
            self.done = true;
            return Ok(false);
        }
        loop {
            let resume = self.inner.fill(bound_ref(&self.next), bound_ref(&self.end), out, max_pairs)?;
            match resume {
                Some(b) => {
                    self.next = b;
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
        let ahead = match &self.next {
            Bound::Included(k) | Bound::Excluded(k) => key > k.as_slice(),
            Bound::Unbounded => true,
        };
        if ahead {
            self.next = Bound::Included(key.to_vec());
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
