//! The transaction manager: the clock, the status table, open snapshots,
//! write-conflict checks, commit validation and publication.
//!
//! # Visibility (the rule every read applies)
//!
//! A reader has a [`ReadView`] `(txn, snapshot, stmt)`. A version written by
//! `w` with sequence number `seq` is visible iff
//!
//! * V1: `w == txn` and `seq < stmt` (own writes of earlier statements: a
//!   statement never sees its own changes, which keeps `UPDATE t SET a=a+1`
//!   and `INSERT INTO t SELECT * FROM t` from chasing their tails), or
//! * V2: `w` committed at `c <= snapshot`, or `w` has no status entry
//!   (pruned: committed before every open snapshot).
//!
//! The newest visible version of a key decides its value (a tombstone means
//! absent).
//!
//! # Why newest-sequence-first is newest-commit-first
//!
//! W1: a transaction writes key `k` only after checking, under `k`'s stripe
//! lock, that the newest version of `k` is its own, or aborted, or committed
//! at or before its snapshot. The check and the write happen under the same
//! stripe lock and the sequence number is drawn after the check, so for one
//! key the committed versions' sequence order equals their commit order.
//! Otherwise the write does not happen, and what the writer met decides
//! what follows ([`Check`]):
//!
//! * another transaction's uncommitted version (`Check::Writer`): the
//!   writer waits for that transaction to end (`locks`); its statement is
//!   undone and runs again afterwards;
//! * a version committed after its snapshot (`Check::Newer`): under
//!   snapshot isolation the first committer wins, so the writer fails with
//!   1213, unless nothing it has read so far came from its snapshot (READ
//!   COMMITTED statements, and the first statement of a transaction): then
//!   the statement runs again on a newer snapshot (see `txn`).
//!
//! Example: T1 (snapshot 10) and T2 (snapshot 10) both update row r. T1
//! writes first (seq 12). T2 finds the newest version of r written by active
//! T1 and waits. T1 commits at 13; T2 wakes, and its statement, run again,
//! finds `13 > 10`: under REPEATABLE READ, if T2 had read anything before,
//! it fails (first committer wins); if the update was its first statement,
//! it takes a snapshot that includes 13 and updates T1's value. No lost
//! update is possible: no one ever overwrites a version it could not see.
//!
//! # Commit
//!
//! `commit_prepare` (under the commit lock): validate reads (SERIALIZABLE and
//! dictionary reads) against the write summaries of transactions that
//! committed after the snapshot, draw the commit time `c`, mark
//! `Committing(c)`, record the write summary. Then the commit record is made
//! durable (persistent engines) and `commit_publish` marks `Committed(c)` and
//! advances the visible time to just below the oldest commit still pending,
//! so snapshots never observe commits out of order.
//!
//! Invariants:
//! M1. The clock only grows; ids, sequence numbers and times are unique.
//! M2. `visible_ts` < every commit time still pending publication.
//! M3. Lock order: stripe lock, then (inside the engine) engine locks; the
//!     commit lock is never held together with a stripe lock, nor is the
//!     wait-for graph's lock (`locks`, L5). Status and snapshot shard locks
//!     are leaves. No lock is held while anyone waits for a lock.
//! M4. A commit returns only once it is visible: `PendingCommit::finish`
//!     publishes, then waits until every commit with an earlier time is
//!     published or withdrawn (`wait_visible`). Without this, a session
//!     whose commit became durable before an earlier-timed one could start
//!     its next transaction on a snapshot that misses its own commit (and
//!     fail with a write conflict against itself).
//! M5. A transaction's waiters are released (`LockTable::release`) after it
//!     is published or withdrawn, after an abort deleted its versions, and
//!     after a statement or savepoint undo: whenever a row it held may have
//!     become writable.

use std::collections::{BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{Durability, KeyRange, KvBatch, StorageEngine, WriteBatch};
use parking_lot::Mutex;

use crate::error::TxnError;
use crate::ids::{SpaceId, Ts, TxnId};
use crate::locks::LockTable;
use crate::status::{SnapshotRegistry, Status, StatusTable};
use crate::version::{self, Kind};

/// What a reader sees; see the module documentation (V1, V2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadView {
    /// The reading transaction (`TxnId(0)` for none).
    pub txn: TxnId,
    /// Commits at or before this time are visible.
    pub snapshot: Ts,
    /// Own versions with a sequence number below this are visible.
    pub stmt: Ts,
}

/// A read a transaction must validate at commit. Keys and bounds are
/// `space prefix | user key`.
#[derive(Clone, Debug)]
pub(crate) enum ReadItem {
    Key(Vec<u8>),
    Range(Bound<Vec<u8>>, Bound<Vec<u8>>),
}

/// What a committed transaction wrote, for validating others.
pub(crate) struct CommitSummary {
    pub(crate) ts: Ts,
    pub(crate) spaces: Vec<SpaceId>,
    /// Sorted `space prefix | user key`s, or `None` when only the spaces
    /// were kept (very large transactions): then any read of a written
    /// space conflicts.
    pub(crate) keys: Option<Vec<Vec<u8>>>,
}

impl CommitSummary {
    fn touches(&self, item: &ReadItem) -> bool {
        let space_of = |k: &[u8]| -> Option<SpaceId> {
            (k.len() >= 5).then(|| SpaceId(u32::from_be_bytes([k[1], k[2], k[3], k[4]])))
        };
        match (&self.keys, item) {
            (Some(keys), ReadItem::Key(k)) => keys.binary_search(k).is_ok(),
            (Some(keys), ReadItem::Range(lo, hi)) => {
                let start = match lo {
                    Bound::Included(l) => keys.partition_point(|k| k < l),
                    Bound::Excluded(l) => keys.partition_point(|k| k <= l),
                    Bound::Unbounded => 0,
                };
                keys.get(start).is_some_and(|k| match hi {
                    Bound::Included(h) => k <= h,
                    Bound::Excluded(h) => k < h,
                    Bound::Unbounded => true,
                })
            }
            (None, ReadItem::Key(k)) => space_of(k).is_some_and(|s| self.spaces.contains(&s)),
            (None, ReadItem::Range(lo, hi)) => {
                let lo_space = match lo {
                    Bound::Included(l) | Bound::Excluded(l) => space_of(l).map(|s| s.0).unwrap_or(0),
                    Bound::Unbounded => 0,
                };
                let hi_space = match hi {
                    Bound::Included(h) | Bound::Excluded(h) => space_of(h).map(|s| s.0).unwrap_or(u32::MAX),
                    Bound::Unbounded => u32::MAX,
                };
                self.spaces.iter().any(|s| s.0 >= lo_space && s.0 <= hi_space)
            }
        }
    }
}

struct CommitState {
    pending: BTreeSet<u64>,
    last_commit: u64,
    recent: VecDeque<Arc<CommitSummary>>,
}

const STRIPES: usize = 1024;
/// Write summaries keep exact keys up to this many keys (larger
/// transactions keep only their spaces, so a read of those spaces conflicts
/// coarsely; memory stays bounded).
const SUMMARY_KEY_LIMIT: usize = 20_000;
/// Queued keys that trigger an incremental GC pass.
const GC_QUEUE_BATCH: usize = 4096;

/// State shared by every transaction of one database.
pub struct Shared {
    pub(crate) engine: Arc<dyn StorageEngine>,
    /// The engine keeps data across restarts: durable records are written
    /// (see `records`, R3).
    pub(crate) persistent: bool,
    clock: AtomicU64,
    /// The stored clock reservation (R2); `u64::MAX` when not persistent.
    clock_reserved: AtomicU64,
    /// Serialises raising the reservation.
    pub(crate) reserve_lock: Mutex<()>,
    visible: AtomicU64,
    pub(crate) status: StatusTable,
    pub(crate) snapshots: SnapshotRegistry,
    stripes: Vec<Mutex<()>>,
    commit: Mutex<CommitState>,
    pub(crate) active_validators: AtomicUsize,
    commits: AtomicU64,
    /// User keys (`space | key`) written by recent commits, for incremental GC.
    pub(crate) gc_queue: Mutex<Vec<Vec<u8>>>,
    /// Held while a GC pass runs (passes never overlap).
    pub(crate) gc_running: Mutex<()>,
    /// Watched spaces and the newest commit time that wrote each.
    watched: parking_lot::RwLock<Vec<(SpaceId, Arc<AtomicU64>)>>,
    /// Threads waiting for the visible time (M4), and where they wait.
    visibility_waiters: AtomicUsize,
    visibility_lock: Mutex<()>,
    visibility_cv: parking_lot::Condvar,
    /// Who waits for whom (lock waits and deadlock detection).
    pub(crate) locks: LockTable,
}

/// The newest commit time that wrote one watched space (see
/// [`TxnManager::watch_space`]).
#[derive(Clone)]
pub struct SpaceWatch(Arc<AtomicU64>);

impl SpaceWatch {
    /// The newest commit time (possibly not yet visible) of a transaction
    /// that wrote the space. Read after taking a snapshot `s`: if it is
    /// `<= s`, no commit after `s` that wrote the space has been prepared.
    pub fn last_commit(&self) -> Ts {
        Ts(self.0.load(Ordering::SeqCst))
    }
}

/// Result of looking at the newest version of a key before writing it.
pub(crate) enum Newest {
    /// No live version: the key is absent.
    Absent,
    /// The newest version is a put visible to (or written by) the writer.
    Present,
}

/// What a writer found when it checked W1 for a key.
pub(crate) enum Check {
    /// The key may be written: its newest live version, and whether the
    /// key had any version at all.
    Clear(Newest, bool),
    /// Another transaction, still running or committing, wrote the newest
    /// version: wait for it.
    Writer(TxnId),
    /// The newest version was committed at this time, after the writer's
    /// snapshot.
    Newer(Ts),
}

/// What [`Shared::write_version`] did.
pub(crate) enum Written {
    /// The version was written (or, for `must_be_absent`, the key was found
    /// present and nothing was written); the newest version before it.
    Done(Newest),
    /// Nothing written: see [`Check::Writer`].
    Writer(TxnId),
    /// Nothing written: see [`Check::Newer`].
    Newer(Ts),
}

impl Shared {
    /// Shared state whose clock starts at `start` (every value at or below
    /// it belongs to the past).
    pub(crate) fn new(engine: Arc<dyn StorageEngine>, start: u64) -> Shared {
        let start = start.max(1);
        let persistent = engine.info().persistent;
        Shared {
            engine,
            persistent,
            clock: AtomicU64::new(start),
            clock_reserved: AtomicU64::new(if persistent { start } else { u64::MAX }),
            reserve_lock: Mutex::new(()),
            visible: AtomicU64::new(start),
            status: StatusTable::new(),
            snapshots: SnapshotRegistry::new(),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            commit: Mutex::new(CommitState { pending: BTreeSet::new(), last_commit: start, recent: VecDeque::new() }),
            active_validators: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
            gc_queue: Mutex::new(Vec::new()),
            gc_running: Mutex::new(()),
            watched: parking_lot::RwLock::new(Vec::new()),
            visibility_waiters: AtomicUsize::new(0),
            visibility_lock: Mutex::new(()),
            visibility_cv: parking_lot::Condvar::new(),
            locks: LockTable::new(),
        }
    }

    /// Draws the next point on the clock (M1). Past the stored reservation
    /// the reservation is raised first (R2); a failure to store it means
    /// the engine refuses writes, so no commit can depend on the value.
    pub(crate) fn tick(&self) -> Ts {
        let t = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        if t >= self.clock_reserved.load(Ordering::Acquire) {
            let _ = self.reserve_clock(t);
        }
        Ts(t)
    }

    /// The last value drawn from the clock.
    pub(crate) fn clock_now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// The stored clock reservation.
    pub(crate) fn clock_reserved(&self) -> u64 {
        self.clock_reserved.load(Ordering::Acquire)
    }

    pub(crate) fn set_clock_reserved(&self, v: u64) {
        self.clock_reserved.store(v, Ordering::Release);
    }

    /// The newest time whose commits are all published (M2).
    pub(crate) fn visible_ts(&self) -> Ts {
        Ts(self.visible.load(Ordering::SeqCst))
    }

    /// Registers and returns a snapshot at the current visible time.
    pub(crate) fn open_snapshot(&self, slot: usize) -> Ts {
        self.snapshots.register(slot, || self.visible_ts())
    }

    /// The time before which no open or future snapshot can look: read the
    /// visible time first, then the registry (see `SnapshotRegistry::register`).
    pub(crate) fn horizon(&self) -> Ts {
        let v = self.visible_ts();
        match self.snapshots.oldest() {
            Some(o) => o.min(v),
            None => v,
        }
    }

    /// Applies V1/V2.
    pub(crate) fn is_visible(&self, view: &ReadView, writer: TxnId, seq: Ts) -> bool {
        self.visibility(view, writer, seq).0
    }

    /// Visibility of a version, and whether it is settled: the same for
    /// every version by `writer` for the rest of this view's life (the
    /// writer is committed or pruned, and is not the viewer).
    pub(crate) fn visibility(&self, view: &ReadView, writer: TxnId, seq: Ts) -> (bool, bool) {
        if writer == view.txn {
            return (seq < view.stmt, false);
        }
        match self.status.get(writer) {
            None => (true, true),
            Some(Status::Committed(c)) => (c <= view.snapshot, true),
            Some(_) => (false, false),
        }
    }

    fn stripe(&self, space: SpaceId, key: &[u8]) -> &Mutex<()> {
        // FNV-1a over space and key.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in space.0.to_le_bytes().iter().chain(key.iter()) {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        &self.stripes[(h as usize) % STRIPES]
    }

    /// Checks W1 for a write of `key` by the owner of `view`, and if allowed
    /// writes the version. `must_be_absent` turns an existing live key into
    /// `Written::Done(Newest::Present)` without writing. Returns the engine
    /// key written (for the write log) through `written`, and through
    /// `older` whether the key had versions before this write (if not, the
    /// commit leaves nothing for GC to collect on it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_version(
        &self,
        view: &ReadView,
        space: SpaceId,
        key: &[u8],
        kind: Kind,
        payload: &[u8],
        must_be_absent: bool,
        written: &mut Vec<u8>,
        older: &mut bool,
    ) -> Result<Written, TxnError> {
        // Backpressure waits happen here, before the stripe lock: the
        // engine's write below then never waits for I/O.
        self.engine.admit(key.len() + payload.len() + version::HEADER_LEN + 13)?;
        let _g = self.stripe(space, key).lock();
        let (newest, had) = match self.newest_for_write(view, space, key)? {
            Check::Clear(n, had) => (n, had),
            Check::Writer(t) => return Ok(Written::Writer(t)),
            Check::Newer(c) => return Ok(Written::Newer(c)),
        };
        *older = had;
        if must_be_absent && matches!(newest, Newest::Present) {
            return Ok(Written::Done(newest));
        }
        let seq = self.tick();
        version::version_key(space, key, seq, written);
        let mut val = Vec::with_capacity(version::HEADER_LEN + payload.len());
        version::encode_value(kind, view.txn, payload, &mut val);
        let mut b = WriteBatch::new();
        b.put(written.clone(), val);
        self.engine.write(b, Durability::Relaxed)?;
        Ok(Written::Done(newest))
    }

    /// W1's check for `key` without writing: whether it has a live version
    /// a writer must respect, or who is in the way.
    pub(crate) fn probe(&self, view: &ReadView, space: SpaceId, key: &[u8]) -> Result<Check, TxnError> {
        let _g = self.stripe(space, key).lock();
        self.newest_for_write(view, space, key)
    }

    /// The newest live version of `key` for a writer (W1), or who is in the
    /// way; with whether the key has any version at all.
    fn newest_for_write(&self, view: &ReadView, space: SpaceId, key: &[u8]) -> Result<Check, TxnError> {
        let mut batch = crate::cursor::spare_batch();
        let r = self.newest_for_write_with(view, space, key, &mut batch);
        crate::cursor::give_back_batch(batch);
        r
    }

    fn newest_for_write_with(
        &self,
        view: &ReadView,
        space: SpaceId,
        key: &[u8],
        batch: &mut KvBatch,
    ) -> Result<Check, TxnError> {
        const FIRST: usize = 8;
        // Every version of `key` (built again for a second read, which is rare).
        let versions = || {
            let mut prefix = Vec::with_capacity(key.len() + 5);
            version::user_prefix(space, key, &mut prefix);
            KeyRange::prefix_owned(prefix)
        };
        // Most keys have a few versions: one cursor-free read decides.
        let more = crate::cursor::with_version_prefix(space, key, |p| self.engine.scan_prefix_first(p, batch, FIRST))?;
        let had = !batch.is_empty();
        for (k, v) in batch.iter() {
            match self.judge_for_write(view, key, k, v)? {
                Some(Check::Clear(n, _)) => return Ok(Check::Clear(n, had)),
                Some(other) => return Ok(other),
                None => {}
            }
        }
        if !more || batch.is_empty() {
            return Ok(Check::Clear(Newest::Absent, had));
        }
        let after = batch.key(batch.len() - 1).to_vec();
        let mut cur = self.engine.scan(KeyRange { start: Bound::Excluded(after), end: versions().end })?;
        while cur.next_batch(batch, FIRST)? {
            for (k, v) in batch.iter() {
                match self.judge_for_write(view, key, k, v)? {
                    Some(Check::Clear(n, _)) => return Ok(Check::Clear(n, true)),
                    Some(other) => return Ok(other),
                    None => {}
                }
            }
        }
        Ok(Check::Clear(Newest::Absent, true))
    }

    /// What one version (engine pair `k`, `v`, newest first) says to a
    /// writer of `key`: `None` when it is dead and older ones decide.
    fn judge_for_write(&self, view: &ReadView, key: &[u8], k: &[u8], v: &[u8]) -> Result<Option<Check>, TxnError> {
        let vk = version::parse_key(k)?;
        if vk.user_key != key {
            return Ok(None);
        }
        let vv = version::parse_value(v)?;
        if vv.writer != view.txn {
            match self.status.get(vv.writer) {
                Some(Status::Committed(c)) if c > view.snapshot => return Ok(Some(Check::Newer(c))),
                None | Some(Status::Committed(_)) => {}
                Some(Status::Active) | Some(Status::Committing(_)) => {
                    return Ok(Some(Check::Writer(vv.writer)));
                }
                Some(Status::Aborted { .. }) => return Ok(None),
            }
        }
        Ok(Some(Check::Clear(
            match vv.kind {
                Kind::Put => Newest::Present,
                Kind::Tombstone => Newest::Absent,
            },
            true,
        )))
    }

    /// Validates `reads` and prepares the commit; see the module docs.
    pub(crate) fn commit_prepare(
        &self,
        id: TxnId,
        snapshot: Ts,
        reads: &[ReadItem],
        summary: impl FnOnce() -> (Vec<SpaceId>, Option<Vec<Vec<u8>>>),
    ) -> Result<Ts, TxnError> {
        let mut st = self.commit.lock();
        if !reads.is_empty() {
            for s in st.recent.iter().rev() {
                if s.ts <= snapshot {
                    break;
                }
                if reads.iter().any(|r| s.touches(r)) {
                    return Err(TxnError::SerializationFailure {
                        what: "a row or range this transaction read was changed by a concurrent commit",
                    });
                }
            }
        }
        let c = self.tick();
        self.status.set(id, Status::Committing(c));
        st.pending.insert(c.0);
        st.last_commit = st.last_commit.max(c.0);
        let (spaces, keys) = summary();
        // Before the commit can become visible (M2), so a snapshot that
        // sees it also sees the watch move.
        for (space, last) in self.watched.read().iter() {
            if spaces.contains(space) {
                last.fetch_max(c.0, Ordering::SeqCst);
            }
        }
        if !spaces.is_empty() {
            st.recent.push_back(Arc::new(CommitSummary { ts: c, spaces, keys }));
        }
        Ok(c)
    }

    /// Makes a prepared commit durable: deletes the writer's in-flight
    /// marker (R1: once that deletion is durable, the transaction is
    /// committed) and returns the ticket to wait on.
    pub(crate) fn commit_durable(
        &self,
        id: TxnId,
        sync: Option<mizzle_plugin_api::storage::SyncMode>,
    ) -> Result<DurableTicket, TxnError> {
        if !self.persistent {
            return Ok(DurableTicket::ready());
        }
        let mut b = WriteBatch::new();
        b.delete(crate::records::marker_key(id));
        let d = match sync {
            Some(m) => Durability::As(m),
            None => Durability::Sync,
        };
        Ok(self.engine.write(b, d)?)
    }

    /// Publishes a durable commit (M2) and queues `gc_keys` (`space prefix |
    /// user key`s the commit left older versions of) for incremental GC.
    pub(crate) fn commit_publish(&self, id: TxnId, c: Ts, gc_keys: Vec<Vec<u8>>) {
        self.status.set(id, Status::Committed(c));
        let mut st = self.commit.lock();
        st.pending.remove(&c.0);
        let v = match st.pending.first() {
            Some(p) => p - 1,
            None => st.last_commit,
        };
        self.visible.fetch_max(v, Ordering::SeqCst);
        drop(st);
        self.wake_visibility_waiters();
        // After the status and the visible time (M5, L2): its waiters look
        // again, most often on a snapshot that already shows the commit.
        self.locks.release(id);
        if !gc_keys.is_empty() {
            self.gc_queue.lock().extend(gc_keys);
        }
        if self.commits.fetch_add(1, Ordering::Relaxed) % 64 == 63 {
            self.maintenance();
        }
        let due = self.gc_queue.lock().len() >= GC_QUEUE_BATCH;
        if due {
            // Amortised on the committing thread; skipped if a pass is running.
            if let Some(_g) = self.gc_running.try_lock() {
                let keys = std::mem::take(&mut *self.gc_queue.lock());
                let _ = crate::gc::collect_keys(self, keys);
            }
        }
    }

    /// Withdraws a prepared commit whose durability failed.
    pub(crate) fn commit_withdraw(&self, c: Ts) {
        let mut st = self.commit.lock();
        st.pending.remove(&c.0);
        st.recent.retain(|s| s.ts != c);
        let v = match st.pending.first() {
            Some(p) => p - 1,
            None => st.last_commit,
        };
        self.visible.fetch_max(v, Ordering::SeqCst);
        drop(st);
        self.wake_visibility_waiters();
    }

    /// Wakes threads in [`Shared::wait_visible`] after the visible time moved.
    fn wake_visibility_waiters(&self) {
        if self.visibility_waiters.load(Ordering::SeqCst) > 0 {
            let _g = self.visibility_lock.lock();
            self.visibility_cv.notify_all();
        }
    }

    /// Blocks until commit time `c` is visible (M4): every commit with an
    /// earlier time has been published or withdrawn. A commit returns only
    /// after this, so a snapshot taken after `COMMIT` returned (by this
    /// session or anyone it told) sees the commit.
    pub(crate) fn wait_visible(&self, c: Ts) {
        if self.visible_ts() >= c {
            return;
        }
        self.visibility_waiters.fetch_add(1, Ordering::SeqCst);
        let mut g = self.visibility_lock.lock();
        while self.visible_ts() < c {
            // Timed, so a wake-up lost between the check and the wait
            // costs a millisecond, not a hang.
            self.visibility_cv.wait_for(&mut g, std::time::Duration::from_millis(1));
        }
        drop(g);
        self.visibility_waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// Prunes status entries and write summaries no one can need.
    pub fn maintenance(&self) {
        let h = self.horizon();
        self.status.prune(h);
        let mut st = self.commit.lock();
        while st.recent.front().is_some_and(|s| s.ts <= h) {
            st.recent.pop_front();
        }
    }

    /// Deletes the given engine keys (a rollback).
    pub(crate) fn delete_keys<'a>(&self, keys: impl Iterator<Item = &'a [u8]>) -> Result<(), TxnError> {
        let mut b = WriteBatch::new();
        for k in keys {
            b.delete(k.to_vec());
            if b.size_bytes() > 1 << 20 {
                self.engine.admit(b.size_bytes())?;
                self.engine.write(std::mem::take(&mut b), Durability::Relaxed)?;
            }
        }
        if !b.is_empty() {
            self.engine.write(b, Durability::Relaxed)?;
        }
        Ok(())
    }

    /// Deletes every version written by `writer` with a sequence number
    /// above `after` in the given spaces, by scanning them (used when a
    /// transaction's write log overflowed).
    pub(crate) fn delete_by_scan(&self, writer: TxnId, after: Ts, spaces: &[SpaceId]) -> Result<(), TxnError> {
        let mut doomed: Vec<Vec<u8>> = Vec::new();
        for &space in spaces {
            let mut p = Vec::new();
            version::space_prefix(space, &mut p);
            let mut cur = self.engine.scan(KeyRange::prefix(&p))?;
            let mut batch = KvBatch::new();
            while cur.next_batch(&mut batch, 1024)? {
                for (k, v) in batch.iter() {
                    let vk = version::parse_key(k)?;
                    let vv = version::parse_value(v)?;
                    if vv.writer == writer && vk.seq > after {
                        doomed.push(k.to_vec());
                    }
                }
                if doomed.len() > 10_000 {
                    self.delete_keys(doomed.iter().map(|k| k.as_slice()))?;
                    doomed.clear();
                }
            }
        }
        self.delete_keys(doomed.iter().map(|k| k.as_slice()))
    }

    /// Exact keys are kept in summaries (for validation and incremental GC)
    /// for transactions this small; larger ones keep only their spaces.
    pub(crate) fn summary_key_limit(&self) -> usize {
        SUMMARY_KEY_LIMIT
    }
}

/// A handle on [`Shared`] for the transactions and cursors of one
/// snapshot-registry slot (`status::this_thread_slot`): they hold and count
/// references on their slot's handle instead of on `Shared`, so threads in
/// different slots write no common reference count when a transaction
/// begins or ends. Aligned so that two handles share no cache line.
#[repr(align(128))]
pub(crate) struct SlotHandle {
    shared: Arc<Shared>,
}

impl std::ops::Deref for SlotHandle {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// The entry point: owns the shared state of one database's transactions.
#[derive(Clone)]
pub struct TxnManager {
    pub(crate) shared: Arc<Shared>,
    /// One handle per snapshot-registry slot.
    handles: Arc<[Arc<SlotHandle>]>,
}

impl TxnManager {
    /// A manager over an empty `engine` (a new database). An engine that
    /// may hold data goes through [`TxnManager::open`].
    pub fn new(engine: Arc<dyn StorageEngine>) -> TxnManager {
        TxnManager::with_clock(engine, 1)
    }

    /// A manager whose clock starts at `start`.
    pub(crate) fn with_clock(engine: Arc<dyn StorageEngine>, start: u64) -> TxnManager {
        let shared = Arc::new(Shared::new(engine, start));
        let handles =
            (0..crate::status::SNAP_SHARDS).map(|_| Arc::new(SlotHandle { shared: shared.clone() })).collect();
        TxnManager { shared, handles }
    }

    /// The handle for transactions of registry slot `slot`.
    pub(crate) fn handle(&self, slot: usize) -> Arc<SlotHandle> {
        self.handles[slot % self.handles.len()].clone()
    }

    /// The storage engine underneath.
    pub fn engine(&self) -> &Arc<dyn StorageEngine> {
        &self.shared.engine
    }

    /// Number of status entries kept (tests, statistics).
    pub fn status_entries(&self) -> usize {
        self.shared.status.len()
    }

    /// Number of open snapshots.
    pub fn open_snapshots(&self) -> usize {
        self.shared.snapshots.open_count()
    }

    /// Starts tracking the newest commit time that wrote `space` (the
    /// dictionary uses it to know when cached plans need no re-check).
    pub fn watch_space(&self, space: SpaceId) -> SpaceWatch {
        let mut w = self.shared.watched.write();
        if let Some((_, a)) = w.iter().find(|(s, _)| *s == space) {
            return SpaceWatch(a.clone());
        }
        let a = Arc::new(AtomicU64::new(self.shared.clock.load(Ordering::SeqCst)));
        w.push((space, a.clone()));
        SpaceWatch(a)
    }

    /// Prunes bookkeeping that no transaction needs any more.
    pub fn maintenance(&self) {
        self.shared.maintenance();
    }

    /// The current visible time (tests, statistics).
    pub fn visible_ts(&self) -> Ts {
        self.shared.visible_ts()
    }

    /// Lock-wait counters and the last deadlock (`SHOW STATUS`).
    pub fn lock_stats(&self) -> crate::locks::LockStats {
        self.shared.locks.stats()
    }
}
