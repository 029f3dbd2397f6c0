//! One transaction: reads through its view, writes provisional versions,
//! statement and named savepoints, commit and rollback.
//!
//! Phases and transitions (function performing each):
//! `Active` -> `Preparing(c)` ([`Txn::commit`]) -> `Committed`
//! ([`PendingCommit::finish`]); `Active` -> `Aborted` ([`Txn::rollback`], a
//! write conflict, a serialization failure or a deadlock, each of which
//! rolls back before returning its error); `Preparing` -> `Aborted` when
//! the commit record could not be made durable.
//!
//! Within `Active`, a statement may stop at an obstacle (sub-states, and
//! the function performing each transition): `Running` -> `Blocked(Wait)`
//! (a write or locking read met another transaction's uncommitted version
//! and registered a lock wait) or `Blocked(Retry)` (it met a version
//! committed after its snapshot, and may run again on a newer one); both
//! undo the statement at once and return [`TxnError::Blocked`]. `Blocked`
//! -> `Running` by [`Txn::resume`] (after the ticket completed, or at once
//! for `Retry`), which returns [`TxnError::Deadlock`] instead if this
//! transaction was chosen as a deadlock victim; `Blocked(Wait)` ->
//! `Running` by [`Txn::give_up_wait`] (timeout: the statement failed);
//! `Blocked` -> `Running` when the next statement begins or the
//! transaction ends (the wait is withdrawn).
//!
//! # Running a statement again
//!
//! After a wait, or at a version newer than the snapshot, the caller runs
//! the statement again from the start (the session does; the statement's
//! writes were undone). Whether it runs on a newer snapshot depends on what
//! the client may already have seen of the old one:
//!
//! - READ COMMITTED: every statement takes its own snapshot, so the new run
//!   reads the newest committed rows and checks them against its `WHERE`
//!   again (nothing is lost, nothing fails);
//! - REPEATABLE READ and SERIALIZABLE: only if the snapshot was taken by
//!   this very statement (its first read), the transaction had written
//!   nothing before it and recorded no reads (so an autocommit statement,
//!   or the first statement after `BEGIN`): the snapshot is dropped and the
//!   run takes a new one. Otherwise the run keeps the snapshot, meets the
//!   newer commit again, and fails with 1213 (first committer wins).
//!
//! Invariants:
//! T1. Every version this transaction wrote is in its write log (or, after
//!     the log overflowed, findable by scanning the spaces it touched; or,
//!     for a space it filled with [`Txn::load_new_space`], by scanning that
//!     space, which one entry of the log names), so a rollback removes all
//!     of them.
//! T2. A statement is atomic: [`Txn::end_statement`] with `ok == false`
//!     removes exactly the versions written since [`Txn::begin_statement`];
//!     a blocked statement's versions are removed when it blocks.
//! T3. After a write conflict, serialization failure or deadlock (1213)
//!     the transaction is `Aborted`; `Blocked`, a lock wait timeout and
//!     NOWAIT end only the statement.
//! T4. While blocked, every read and write of the transaction fails with
//!     `Blocked`, so a stopped statement cannot go on by mistake.
//! T5. The snapshot is taken at the first read or write of a transaction
//!     (of each statement under READ COMMITTED), not at its first
//!     statement: a `SET` or `SELECT 1` takes none, as in InnoDB.
//!
//! A `Txn` is a cheap handle (`Arc`); cursors copy the read view and keep no
//! borrow, so a statement can scan and write the same table at once.

use std::ops::Bound;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{Durability, KeyRange, KvBatch, SyncMode, WriteBatch};
use parking_lot::Mutex;

use crate::cursor::TxnCursor;
use crate::error::TxnError;
use crate::ids::{IsolationLevel, SpaceId, Ts, TxnId};
use crate::locks::{LockWait, Registration, WaitOutcome};
use crate::manager::{Check, Newest, ReadItem, ReadView, Shared, SlotHandle, TxnManager, Written};
use crate::records;
use crate::status::Status;
use crate::version::{self, Kind};

/// Options for starting a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnOptions {
    /// Isolation level.
    pub isolation: IsolationLevel,
    /// Refuse writes.
    pub read_only: bool,
}

impl Default for TxnOptions {
    fn default() -> Self {
        TxnOptions { isolation: IsolationLevel::RepeatableRead, read_only: false }
    }
}

/// How a locking read (`FOR UPDATE` / `FOR SHARE`) treats a row another
/// transaction holds (wrote and has not committed). Writes always wait.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WaitPolicy {
    /// Wait for the holder to end (the default).
    #[default]
    Wait,
    /// Fail the statement at once (`NOWAIT`, error 3572).
    NoWait,
    /// Leave the row out of the result (`SKIP LOCKED`).
    SkipLocked,
}

/// Why a statement stopped; see the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub enum Blocked {
    /// A row of `space` holds `holder`'s uncommitted version: park on the
    /// ticket, then [`Txn::resume`] and run the statement again.
    Wait { ticket: LockWait, holder: TxnId, space: SpaceId },
    /// A row of `space` holds a version committed at `committed`, after
    /// the statement's snapshot: [`Txn::resume`] at once and run the
    /// statement again on a newer snapshot.
    Retry { space: SpaceId, committed: Ts },
}

/// What a writer that met another transaction's version does next.
enum Met {
    /// The holder is gone: look again.
    Again,
    /// `SKIP LOCKED`: leave the row.
    Skip,
}

/// Times a write looks again at a row whose holder ended before a wait
/// could begin; past it the statement runs again instead.
const HOLDER_RETRIES: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Active,
    Preparing(Ts),
    Committed,
    Aborted,
}

/// Log bytes above which only touched spaces are remembered (T1): a larger
/// transaction's rollback scans those spaces instead, so its memory stays
/// bounded however many rows it writes.
const LOG_LIMIT: usize = 16 << 20;

#[derive(Default)]
struct WriteLog {
    buf: Vec<u8>,
    ends: Vec<usize>,
    /// Per entry: the key had versions before this write (GC has work).
    older: Vec<bool>,
    spaces: Vec<SpaceId>,
    overflowed: bool,
    /// Spaces filled by `load_new_space`, each with the index of the
    /// empty entry that stands for its versions in the log (they are not
    /// listed one by one: undoing past that entry scans the space).
    loads: Vec<(usize, SpaceId)>,
}

impl WriteLog {
    fn push(&mut self, space: SpaceId, engine_key: &[u8], older: bool) {
        if !self.spaces.contains(&space) {
            self.spaces.push(space);
        }
        if self.overflowed {
            return;
        }
        if self.buf.len() + engine_key.len() > LOG_LIMIT {
            self.overflowed = true;
            return;
        }
        self.buf.extend_from_slice(engine_key);
        self.ends.push(self.buf.len());
        self.older.push(older);
    }

    /// Records that `space` was filled by `load_new_space`: one empty entry
    /// (skipped by [`WriteLog::keys_from`]) marks where, so undoing to a
    /// mark before it scans the space (T1).
    fn push_load(&mut self, space: SpaceId) {
        if !self.spaces.contains(&space) {
            self.spaces.push(space);
        }
        self.loads.push((self.ends.len(), space));
        self.ends.push(self.buf.len());
        self.older.push(false);
    }

    /// The spaces loaded at or after entry `from`.
    fn loads_from(&self, from: usize) -> Vec<SpaceId> {
        self.loads.iter().filter(|(i, _)| *i >= from).map(|(_, s)| *s).collect()
    }

    /// The `space prefix | user key`s GC should visit after the commit:
    /// keys that had older versions (none if the log overflowed; a full
    /// pass finds those).
    fn gc_keys(&self) -> Vec<Vec<u8>> {
        if self.overflowed {
            return Vec::new();
        }
        // Entry by entry (not `keys_from`, which skips the empty entries of
        // loads): `older` runs parallel to the entries.
        let mut ks: Vec<Vec<u8>> = (0..self.ends.len())
            .filter(|&i| self.older.get(i).copied().unwrap_or(false))
            .map(|i| self.entry(i))
            .filter(|k| k.len() >= version::SUFFIX_LEN)
            .map(|k| k[..k.len() - version::SUFFIX_LEN].to_vec())
            .collect();
        ks.sort_unstable();
        ks.dedup();
        ks
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty() && !self.overflowed
    }

    fn keys_from(&self, from: usize) -> impl Iterator<Item = &[u8]> {
        (from..self.ends.len()).map(move |i| self.entry(i)).filter(|k| !k.is_empty())
    }

    /// Entry `i`'s engine key (empty for a load's entry).
    fn entry(&self, i: usize) -> &[u8] {
        let s = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[s..self.ends[i]]
    }

    fn truncate(&mut self, n: usize) {
        if n < self.ends.len() {
            let b = if n == 0 { 0 } else { self.ends[n - 1] };
            self.ends.truncate(n);
            self.older.truncate(n);
            self.loads.retain(|(i, _)| *i < n);
            self.buf.truncate(b);
        }
    }
}

/// Deletes the versions `writer` wrote from log entry `from` on, whose
/// sequence numbers are above `after` (T1): the logged keys, or, after an
/// overflow, by scanning every touched space; a loaded space by scanning it.
fn delete_logged(sh: &Shared, writer: TxnId, log: &WriteLog, from: usize, after: Ts) -> Result<(), TxnError> {
    if log.overflowed {
        return sh.delete_by_scan(writer, after, &log.spaces);
    }
    sh.delete_keys(log.keys_from(from))?;
    let loaded = log.loads_from(from);
    if loaded.is_empty() {
        Ok(())
    } else {
        sh.delete_by_scan(writer, after, &loaded)
    }
}

#[derive(Clone, Copy, Debug)]
struct Mark {
    log_len: usize,
    seq: Ts,
    reads_len: usize,
}

struct State {
    /// The transaction's id: drawn from the shared clock at begin, or, for
    /// a transaction begun with [`TxnManager::begin_deferred`] or declared
    /// read-only, at its first need of one ([`Txn::writer_id`]); `TxnId(0)`
    /// (no writer has it) until then.
    id: TxnId,
    phase: Phase,
    snapshot: Ts,
    registered: Option<Ts>,
    stmt: Ts,
    log: WriteLog,
    reads: Vec<ReadItem>,
    /// Under READ COMMITTED, the snapshot of the oldest row lock by
    /// validation (`FOR SHARE`, foreign-key checks): validation starts
    /// there, as a later statement's snapshot is newer and a commit between
    /// the two would otherwise go unseen. That snapshot stays registered
    /// (so the write summaries validation needs are kept) until the reads
    /// are dropped or the transaction ends.
    reads_from: Option<Ts>,
    savepoints: Vec<(String, Mark)>,
    stmt_mark: Option<Mark>,
    validator: bool,
    ticket: Option<DurableTicket>,
    commit_ts: Option<Ts>,
    /// A status entry exists (made before the first write: readers only
    /// ever look up writers, so pure readers never need one).
    has_status: bool,
    /// An in-flight marker is stored (persistent engines; records R1).
    marked: bool,
    /// Why the current statement stopped, if it did.
    blocked: Option<Blocked>,
    /// The statement (its `stmt_no`) during which the snapshot was taken;
    /// `None` when taken between statements or not taken.
    snapshot_stmt: Option<u64>,
    /// Counts statements and their steps: identifies the current one
    /// (`stmt`, a clock time, stays put while the transaction has written
    /// nothing).
    stmt_no: u64,
    /// The blocked statement runs again on a new snapshot (decided when
    /// it blocked; see "Running a statement again").
    restart_snapshot: bool,
    /// How the current statement's locking reads treat held rows.
    policy: WaitPolicy,
}

struct Inner {
    /// The shared state, through this thread's slot handle.
    shared: Arc<SlotHandle>,
    /// Unique among this process's transactions, drawn without shared
    /// state ([`crate::ids::next_serial`]): what callers compare to tell
    /// transactions apart, whether or not an id was drawn.
    serial: u64,
    isolation: IsolationLevel,
    read_only: bool,
    slot: usize,
    st: Mutex<State>,
}

/// A transaction handle; see the module documentation.
#[derive(Clone)]
pub struct Txn {
    inner: Arc<Inner>,
}

impl TxnManager {
    /// Starts a transaction. Its snapshot is taken at its first read or
    /// write (T5). A declared read-only transaction draws its id only if it
    /// needs one (see [`TxnManager::begin_deferred`]).
    pub fn begin(&self, opts: TxnOptions) -> Txn {
        self.start(opts, opts.read_only)
    }

    /// [`TxnManager::begin`] for a transaction that will probably only read
    /// (an autocommit statement): its id is drawn from the shared clock at
    /// its first write, lock wait or in-flight marker, not at begin, so a
    /// transaction that only reads begins and commits without writing any
    /// cache line that other transactions write (no increment of the
    /// shared clock). Until then it has no id (`TxnId(0)`, which no writer
    /// has: it owns no version), and its first statement's mark is 0 (it
    /// has no earlier writes to see); the versions it writes after drawing
    /// take later ticks than its id, as for any transaction (V1). The one
    /// difference: the deadlock victim among transactions of equal weight
    /// is the one whose id is largest (`locks` L4), which for these is the
    /// one that first wrote or waited last rather than began last.
    pub fn begin_deferred(&self, opts: TxnOptions) -> Txn {
        self.start(opts, true)
    }

    fn start(&self, opts: TxnOptions, defer_id: bool) -> Txn {
        // The snapshot registry shard of this thread (`status::this_thread_slot`).
        let slot = crate::status::this_thread_slot();
        let shared = self.handle(slot);
        let id = if defer_id { TxnId(0) } else { TxnId(shared.tick().0) };
        let validator = opts.isolation == IsolationLevel::Serializable;
        if validator {
            shared.active_validators.fetch_add(1, Ordering::SeqCst);
        }
        // Every version this transaction writes takes a later tick than its
        // id, so the id serves as the first statement's mark (V1) without
        // drawing from the shared clock again.
        let stmt = Ts(id.0);
        Txn {
            inner: Arc::new(Inner {
                shared,
                serial: crate::ids::next_serial(),
                isolation: opts.isolation,
                read_only: opts.read_only,
                slot,
                st: Mutex::new(State {
                    id,
                    phase: Phase::Active,
                    snapshot: Ts(0),
                    registered: None,
                    stmt,
                    log: WriteLog::default(),
                    reads: Vec::new(),
                    reads_from: None,
                    savepoints: Vec::new(),
                    stmt_mark: None,
                    validator,
                    ticket: None,
                    commit_ts: None,
                    has_status: false,
                    marked: false,
                    blocked: None,
                    snapshot_stmt: None,
                    stmt_no: 0,
                    restart_snapshot: false,
                    policy: WaitPolicy::Wait,
                }),
            }),
        }
    }
}

impl Txn {
    /// This transaction's id; `TxnId(0)` while a deferred one has drawn
    /// none ([`TxnManager::begin_deferred`]).
    pub fn id(&self) -> TxnId {
        self.inner.st.lock().id
    }

    /// A number no other transaction of this process has, available
    /// without drawing an id (to tell transactions apart).
    pub fn serial(&self) -> u64 {
        self.inner.serial
    }

    /// The id, drawn from the shared clock now if the transaction has none
    /// yet (see [`TxnManager::begin_deferred`]). Called before anything
    /// that names the transaction to others: a version, a status entry, an
    /// in-flight marker, a lock wait, and a view that must see the
    /// transaction's own writes.
    fn writer_id(&self, st: &mut State) -> TxnId {
        if st.id == TxnId(0) {
            st.id = TxnId(self.inner.shared.tick().0);
        }
        st.id
    }

    /// Its isolation level.
    pub fn isolation(&self) -> IsolationLevel {
        self.inner.isolation
    }

    /// True if declared `READ ONLY`.
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// The current snapshot time, once taken (after the transaction ended:
    /// the last one it had).
    pub fn snapshot_ts(&self) -> Option<Ts> {
        let st = self.inner.st.lock();
        (st.snapshot.0 != 0).then_some(st.snapshot)
    }

    /// True if this transaction has written `space` (a rolled-back
    /// statement or savepoint may leave it true).
    pub fn wrote_space(&self, space: SpaceId) -> bool {
        self.inner.st.lock().log.spaces.contains(&space)
    }

    /// The commit time, once committed with writes (tests and history checking).
    pub fn commit_ts(&self) -> Option<Ts> {
        self.inner.st.lock().commit_ts
    }

    /// True until it commits or rolls back.
    pub fn is_active(&self) -> bool {
        self.inner.st.lock().phase == Phase::Active
    }

    /// True if it has written anything.
    pub fn has_writes(&self) -> bool {
        !self.inner.st.lock().log.is_empty()
    }

    /// The current read view.
    pub fn view(&self) -> ReadView {
        let mut st = self.inner.st.lock();
        self.ensure_snapshot(&mut st);
        ReadView { txn: st.id, snapshot: st.snapshot, stmt: st.stmt }
    }

    fn check_active(st: &State) -> Result<(), TxnError> {
        if st.phase == Phase::Active {
            Ok(())
        } else {
            Err(TxnError::NotActive)
        }
    }

    /// Active and not blocked (T4).
    fn check_usable(st: &State) -> Result<(), TxnError> {
        Self::check_active(st)?;
        if st.blocked.is_some() {
            return Err(TxnError::Blocked);
        }
        Ok(())
    }

    /// Stores (or widens) this writer's in-flight marker so it lists
    /// `space` before a version in it can reach the engine (records R1).
    fn mark_space(&self, st: &mut State, space: SpaceId) -> Result<(), TxnError> {
        let sh = &self.inner.shared;
        if !sh.persistent || (st.marked && st.log.spaces.contains(&space)) {
            return Ok(());
        }
        let mut spaces = st.log.spaces.clone();
        if !spaces.contains(&space) {
            spaces.push(space);
        }
        let id = self.writer_id(st);
        sh.put_record(records::marker_key(id), records::marker_value(&spaces))?;
        st.marked = true;
        Ok(())
    }

    /// Takes the snapshot if the transaction has none yet: at its first
    /// read or write, not at BEGIN (T5, as in InnoDB).
    fn ensure_snapshot(&self, st: &mut State) {
        if st.registered.is_none() && st.phase == Phase::Active {
            let s = self.inner.shared.open_snapshot(self.inner.slot);
            st.snapshot = s;
            st.registered = Some(s);
            st.snapshot_stmt = st.stmt_mark.map(|_| st.stmt_no);
        }
    }

    /// Drops the snapshot; the next read takes a new one.
    fn drop_snapshot(&self, st: &mut State) {
        if let Some(old) = st.registered.take() {
            self.inner.shared.snapshots.unregister(self.inner.slot, old);
        }
        st.snapshot = Ts(0);
        st.snapshot_stmt = None;
    }

    /// Takes the snapshot now (`START TRANSACTION WITH CONSISTENT SNAPSHOT`).
    pub fn take_snapshot(&self) {
        let mut st = self.inner.st.lock();
        self.ensure_snapshot(&mut st);
    }

    /// Starts a statement: later reads see this transaction's earlier writes
    /// (V1); under READ COMMITTED the snapshot moves to now.
    pub fn begin_statement(&self) -> Result<(), TxnError> {
        let sh = &self.inner.shared;
        let mut st = self.inner.st.lock();
        Self::check_active(&st)?;
        if st.blocked.take().is_some() {
            // The blocked statement was abandoned, not resumed.
            sh.locks.cancel(st.id, false);
            st.restart_snapshot = false;
        }
        if self.inner.isolation == IsolationLevel::ReadCommitted {
            self.drop_snapshot(&mut st);
        }
        // A statement's mark must only separate this transaction's earlier
        // writes from its own; with none logged yet, the current mark
        // already lies below every later write, and the shared clock is
        // left alone (read-only statements never draw from it here).
        st.stmt_no += 1;
        if !st.log.is_empty() {
            st.stmt = sh.tick();
        }
        st.stmt_mark = Some(Mark { log_len: st.log.len(), seq: st.stmt, reads_len: st.reads.len() });
        st.policy = WaitPolicy::Wait;
        Ok(())
    }

    /// Starts a new step of the current statement: what the statement wrote
    /// so far becomes visible to its later reads, while a failure still
    /// undoes the whole statement (its mark stays). For a statement that
    /// runs several internal statements (account management).
    pub fn next_step(&self) {
        let mut st = self.inner.st.lock();
        st.stmt = self.inner.shared.tick();
        st.stmt_no += 1;
    }

    /// Sets how the current statement's locking reads treat rows another
    /// transaction holds (`NOWAIT`, `SKIP LOCKED`); reset by every
    /// [`Txn::begin_statement`].
    pub fn set_wait_policy(&self, policy: WaitPolicy) {
        self.inner.st.lock().policy = policy;
    }

    /// Why the current statement stopped, if it did (see the module
    /// documentation). The statement's writes are already undone.
    pub fn blocked(&self) -> Option<Blocked> {
        self.inner.st.lock().blocked.clone()
    }

    /// False while the statement is blocked at a version committed at `c`
    /// ([`Blocked::Retry`]) and `c` is not visible yet: earlier commits of
    /// other transactions are still being published (M4). [`Txn::resume`]
    /// would block until it is; a scheduler yields instead and asks again,
    /// so no worker waits for a publication that may need a worker.
    pub fn retry_visible(&self) -> bool {
        match &self.inner.st.lock().blocked {
            Some(Blocked::Retry { committed, .. }) => self.inner.shared.visible_ts() >= *committed,
            _ => true,
        }
    }

    /// Blocks until [`Txn::retry_visible`] (a caller that owns its thread).
    pub fn wait_retry_visible(&self) {
        let c = match &self.inner.st.lock().blocked {
            Some(Blocked::Retry { committed, .. }) => *committed,
            _ => return,
        };
        self.inner.shared.wait_visible(c);
    }

    /// Continues after a [`Blocked`] statement's obstacle is gone (a
    /// `Wait` ticket completed, or at once for `Retry`; it blocks until
    /// the newer commit is visible, see [`Txn::retry_visible`]): prepares the
    /// transaction to run the statement again from
    /// [`Txn::begin_statement`], on a new snapshot where allowed. Fails
    /// with [`TxnError::Deadlock`], the transaction rolled back, if it was
    /// chosen as a deadlock victim. Resuming a wait whose ticket is still
    /// pending withdraws the wait (the statement runs again and may wait
    /// again).
    pub fn resume(&self) -> Result<(), TxnError> {
        let sh = &self.inner.shared;
        let mut st = self.inner.st.lock();
        let Some(b) = st.blocked.take() else {
            return Ok(());
        };
        let committed = match &b {
            Blocked::Wait { ticket, .. } => {
                if ticket.poll().is_none() {
                    sh.locks.cancel(st.id, false);
                }
                if let Some(WaitOutcome::Deadlock(report)) = ticket.poll() {
                    self.abort_locked(&mut st);
                    return Err(TxnError::Deadlock { report });
                }
                None
            }
            Blocked::Retry { committed, .. } => Some(*committed),
        };
        if st.restart_snapshot {
            // Nothing was read or written before this statement (see
            // "Running a statement again"); its reads are void.
            self.drop_snapshot(&mut st);
            st.reads.clear();
            self.drop_reads_from(&mut st);
            st.restart_snapshot = false;
        }
        drop(st);
        sh.locks.note_restart();
        if let Some(c) = committed {
            // So the next snapshot shows the commit that stopped us (M4).
            sh.wait_visible(c);
        }
        Ok(())
    }

    /// Withdraws a blocked statement's lock wait at its timeout. True if
    /// it was withdrawn (the statement fails with a lock wait timeout; the
    /// transaction goes on); false if there was no wait or its ticket
    /// completed meanwhile (then [`Txn::resume`]).
    pub fn give_up_wait(&self) -> bool {
        let sh = &self.inner.shared;
        let mut st = self.inner.st.lock();
        if !matches!(st.blocked, Some(Blocked::Wait { .. })) {
            return false;
        }
        if sh.locks.cancel(st.id, true) {
            st.blocked = None;
            st.restart_snapshot = false;
            true
        } else {
            false
        }
    }

    /// Whether the current statement could run again on a new snapshot
    /// (see "Running a statement again").
    fn restartable(&self, st: &State) -> bool {
        let Some(m) = st.stmt_mark else {
            return false;
        };
        if self.inner.isolation == IsolationLevel::ReadCommitted {
            return true;
        }
        st.snapshot_stmt == Some(st.stmt_no) && m.log_len == 0 && !st.log.overflowed && m.reads_len == 0
    }

    /// Stops the current statement at `b`: undoes it (T2) and returns the
    /// error that unwinds it.
    fn block(&self, st: &mut State, b: Blocked) -> TxnError {
        st.restart_snapshot = self.inner.isolation != IsolationLevel::ReadCommitted && self.restartable(st);
        if let Some(m) = st.stmt_mark.take() {
            if let Err(e) = self.undo_to(st, m) {
                st.restart_snapshot = false;
                return e;
            }
        }
        st.blocked = Some(b);
        TxnError::Blocked
    }

    /// A write or locking read met `holder`'s uncommitted version of a row
    /// of `space`: wait (register and block), fail (NOWAIT), skip (SKIP
    /// LOCKED), or roll back as a deadlock victim.
    fn meet_writer(&self, st: &mut State, holder: TxnId, space: SpaceId, policy: WaitPolicy) -> Result<Met, TxnError> {
        match policy {
            WaitPolicy::NoWait => return Err(TxnError::LockNowait { space }),
            WaitPolicy::SkipLocked => return Ok(Met::Skip),
            WaitPolicy::Wait => {}
        }
        if st.stmt_mark.is_none() {
            // Outside a statement nothing can be undone and run again.
            self.abort_locked(st);
            return Err(TxnError::WriteConflict { space });
        }
        let sh = &self.inner.shared;
        let writes = st.stmt_mark.map_or(st.log.len(), |m| m.log_len);
        let id = self.writer_id(st);
        match sh.locks.register(id, writes, holder, space, &sh.status) {
            Registration::HolderGone => Ok(Met::Again),
            Registration::Wait(ticket) => Err(self.block(st, Blocked::Wait { ticket, holder, space })),
            Registration::Deadlock(report) => {
                self.abort_locked(st);
                Err(TxnError::Deadlock { report })
            }
        }
    }

    /// A write or locking read met a version of a row of `space` committed
    /// at `c`, after the snapshot: run again on a newer snapshot if allowed,
    /// else first committer wins (1213, rolled back).
    fn meet_newer(&self, st: &mut State, space: SpaceId, c: Ts) -> TxnError {
        if self.restartable(st) {
            return self.block(st, Blocked::Retry { space, committed: c });
        }
        self.abort_locked(st);
        TxnError::WriteConflict { space }
    }

    /// Ends a statement; a failed one is undone (T2). Safe to call when the
    /// transaction has already ended.
    pub fn end_statement(&self, ok: bool) -> Result<(), TxnError> {
        let mut st = self.inner.st.lock();
        let mark = st.stmt_mark.take();
        if ok || st.phase != Phase::Active {
            return Ok(());
        }
        match mark {
            Some(m) => self.undo_to(&mut st, m),
            None => Ok(()),
        }
    }

    fn undo_to(&self, st: &mut State, m: Mark) -> Result<(), TxnError> {
        let sh = &self.inner.shared;
        let undone = st.log.overflowed || st.log.len() > m.log_len;
        delete_logged(sh, st.id, &st.log, m.log_len, m.seq)?;
        st.log.truncate(m.log_len);
        if undone {
            // Rows it held may be free now (M5).
            sh.locks.release(st.id);
        }
        Ok(())
    }

    fn record(&self, st: &mut State, item: ReadItem) {
        // A read recorded for validation depends on the state as of the
        // snapshot, so there must be one.
        self.ensure_snapshot(st);
        if let ReadItem::Key(k) = &item {
            // Statements re-read the same dictionary keys; keep one copy.
            let dup = st.reads.iter().rev().take(16).any(|r| matches!(r, ReadItem::Key(x) if x == k));
            if dup {
                return;
            }
        }
        if !st.validator {
            st.validator = true;
            self.inner.shared.active_validators.fetch_add(1, Ordering::SeqCst);
        }
        st.reads.push(item);
    }

    /// Under READ COMMITTED, makes validation start at the current
    /// snapshot or earlier, and keeps that snapshot registered (see
    /// `State::reads_from`).
    fn hold_reads_from(&self, st: &mut State) {
        if self.inner.isolation != IsolationLevel::ReadCommitted || st.reads_from.is_some() {
            return;
        }
        let snap = st.snapshot;
        let held = self.inner.shared.snapshots.register(self.inner.slot, || snap);
        st.reads_from = Some(held);
    }

    fn drop_reads_from(&self, st: &mut State) {
        if let Some(h) = st.reads_from.take() {
            self.inner.shared.snapshots.unregister(self.inner.slot, h);
        }
    }

    /// Records that this transaction depends on `key` not changing before it
    /// commits (dictionary reads by DML). Validated at commit at every level.
    pub fn record_read_key(&self, space: SpaceId, key: &[u8]) {
        let mut k = Vec::with_capacity(key.len() + 5);
        version::user_prefix(space, key, &mut k);
        let mut st = self.inner.st.lock();
        self.record(&mut st, ReadItem::Key(k));
    }

    /// Records a dependency on the whole space (DDL over a table's rows).
    pub fn record_read_space(&self, space: SpaceId) {
        let mut lo = Vec::with_capacity(5);
        version::space_prefix(space, &mut lo);
        let hi = mizzle_types::key::prefix_successor(&lo).map_or(Bound::Unbounded, Bound::Excluded);
        let mut st = self.inner.st.lock();
        self.record(&mut st, ReadItem::Range(Bound::Included(lo), hi));
    }

    /// The visible value of `key`.
    pub fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Vec<u8>>, TxnError> {
        self.get_with(space, key, <[u8]>::to_vec)
    }

    /// `f` of the visible value of `key`, borrowed from the engine's batch
    /// (a point read that decodes the row in place copies no value).
    pub fn get_with<R>(&self, space: SpaceId, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, TxnError> {
        let view = {
            let mut st = self.inner.st.lock();
            Self::check_usable(&st)?;
            self.ensure_snapshot(&mut st);
            if self.inner.isolation == IsolationLevel::Serializable {
                let mut k = Vec::with_capacity(key.len() + 5);
                version::user_prefix(space, key, &mut k);
                self.record(&mut st, ReadItem::Key(k));
            }
            ReadView { txn: st.id, snapshot: st.snapshot, stmt: st.stmt }
        };
        crate::cursor::point_get(&self.inner.shared, &view, space, key, f)
    }

    /// A cursor over the visible keys of `space` between the bounds (user keys).
    pub fn scan(&self, space: SpaceId, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> Result<TxnCursor, TxnError> {
        self.scan_dir(space, lo, hi, false)
    }

    /// [`Txn::scan`] in descending key order.
    pub fn scan_desc(&self, space: SpaceId, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> Result<TxnCursor, TxnError> {
        self.scan_dir(space, lo, hi, true)
    }

    fn scan_dir(&self, space: SpaceId, lo: Bound<&[u8]>, hi: Bound<&[u8]>, desc: bool) -> Result<TxnCursor, TxnError> {
        let view = {
            let mut st = self.inner.st.lock();
            Self::check_usable(&st)?;
            self.ensure_snapshot(&mut st);
            if self.inner.isolation == IsolationLevel::Serializable {
                let full = |b: Bound<&[u8]>| -> Bound<Vec<u8>> {
                    let mk = |k: &[u8]| {
                        let mut v = Vec::with_capacity(k.len() + 5);
                        version::user_prefix(space, k, &mut v);
                        v
                    };
                    match b {
                        Bound::Included(k) => Bound::Included(mk(k)),
                        Bound::Excluded(k) => Bound::Excluded(mk(k)),
                        Bound::Unbounded => Bound::Unbounded,
                    }
                };
                let mut p = Vec::new();
                version::space_prefix(space, &mut p);
                let lo_full = match full(lo) {
                    Bound::Unbounded => Bound::Included(p.clone()),
                    b => b,
                };
                let hi_full = match full(hi) {
                    Bound::Unbounded => {
                        mizzle_types::key::prefix_successor(&p).map_or(Bound::Unbounded, Bound::Excluded)
                    }
                    b => b,
                };
                self.record(&mut st, ReadItem::Range(lo_full, hi_full));
            }
            ReadView { txn: st.id, snapshot: st.snapshot, stmt: st.stmt }
        };
        TxnCursor::open(self.inner.shared.clone(), view, space, lo, hi, desc)
    }

    /// Writes a version of `key` (W1); `Ok(None)` when `policy` is
    /// `SkipLocked` and another transaction holds the row; `Ok(Some(false))`
    /// when `must_be_absent` found the key present (nothing written).
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        space: SpaceId,
        key: &[u8],
        kind: Kind,
        payload: &[u8],
        must_be_absent: bool,
        policy: WaitPolicy,
    ) -> Result<Option<bool>, TxnError> {
        let mut st = self.inner.st.lock();
        Self::check_usable(&st)?;
        if self.inner.read_only {
            return Err(TxnError::ReadOnly);
        }
        self.ensure_snapshot(&mut st);
        let id = self.writer_id(&mut st);
        if !st.has_status {
            self.inner.shared.status.set(id, Status::Active);
            st.has_status = true;
        }
        self.mark_space(&mut st, space)?;
        let view = ReadView { txn: st.id, snapshot: st.snapshot, stmt: st.stmt };
        let mut written = Vec::with_capacity(key.len() + 13);
        for _ in 0..HOLDER_RETRIES {
            let mut older = true;
            written.clear();
            match self.inner.shared.write_version(
                &view,
                space,
                key,
                kind,
                payload,
                must_be_absent,
                &mut written,
                &mut older,
            )? {
                Written::Done(Newest::Present) if must_be_absent => return Ok(Some(false)),
                Written::Done(_) => {
                    st.log.push(space, &written, older);
                    return Ok(Some(true));
                }
                Written::Writer(holder) => match self.meet_writer(&mut st, holder, space, policy)? {
                    Met::Again => continue,
                    Met::Skip => return Ok(None),
                },
                Written::Newer(c) => return Err(self.meet_newer(&mut st, space, c)),
            }
        }
        Err(self.block(&mut st, Blocked::Retry { space, committed: Ts(0) }))
    }

    /// Writes `payload` as the new value of `key`.
    pub fn put(&self, space: SpaceId, key: &[u8], payload: &[u8]) -> Result<(), TxnError> {
        self.write(space, key, Kind::Put, payload, false, WaitPolicy::Wait).map(|_| ())
    }

    /// Writes `key` only if it has no live version; returns `false` (and
    /// writes nothing) if it has one. Sees uncommitted writes of this
    /// transaction, including the current statement's.
    pub fn insert(&self, space: SpaceId, key: &[u8], payload: &[u8]) -> Result<bool, TxnError> {
        self.write(space, key, Kind::Put, payload, true, WaitPolicy::Wait).map(|r| r.unwrap_or(false))
    }

    /// True if `key` has a live version, seen the way a writer sees it
    /// (including this statement's own writes); another transaction's
    /// uncommitted version is waited for and a newer committed one treated
    /// as for a write.
    pub fn probe(&self, space: SpaceId, key: &[u8]) -> Result<bool, TxnError> {
        self.check_row(space, key, WaitPolicy::Wait).map(|r| r.unwrap_or(false))
    }

    /// W1's check without a write: `Some(present)`, or `None` when skipped.
    fn check_row(&self, space: SpaceId, key: &[u8], policy: WaitPolicy) -> Result<Option<bool>, TxnError> {
        let mut st = self.inner.st.lock();
        Self::check_usable(&st)?;
        self.ensure_snapshot(&mut st);
        let view = ReadView { txn: st.id, snapshot: st.snapshot, stmt: st.stmt };
        for _ in 0..HOLDER_RETRIES {
            match self.inner.shared.probe(&view, space, key)? {
                Check::Clear(n, _) => return Ok(Some(matches!(n, Newest::Present))),
                Check::Writer(holder) => match self.meet_writer(&mut st, holder, space, policy)? {
                    Met::Again => continue,
                    Met::Skip => return Ok(None),
                },
                Check::Newer(c) => return Err(self.meet_newer(&mut st, space, c)),
            }
        }
        Err(self.block(&mut st, Blocked::Retry { space, committed: Ts(0) }))
    }

    /// The value of `key` as a writer sees it: the newest live version,
    /// including this statement's own writes (used to read the row a
    /// duplicate key refers to).
    pub fn get_latest(&self, space: SpaceId, key: &[u8]) -> Result<Option<Vec<u8>>, TxnError> {
        let view = {
            let mut st = self.inner.st.lock();
            Self::check_usable(&st)?;
            self.ensure_snapshot(&mut st);
            // Seeing every own write: a statement boundary in the future.
            let id = self.writer_id(&mut st);
            ReadView { txn: id, snapshot: st.snapshot, stmt: Ts(u64::MAX) }
        };
        crate::cursor::point_get(&self.inner.shared, &view, space, key, <[u8]>::to_vec)
    }

    /// `SELECT ... FOR UPDATE`: treats the row as written, so a concurrent
    /// writer of it waits for this transaction (W1) exactly as if it had
    /// updated it; writes the current value again as a new own version. A
    /// row another transaction holds is waited for, or per the statement's
    /// [`WaitPolicy`] fails it (NOWAIT) or is skipped: `Ok(false)`.
    pub fn lock_row(&self, space: SpaceId, key: &[u8]) -> Result<bool, TxnError> {
        let policy = self.inner.st.lock().policy;
        match self.get_latest(space, key)? {
            Some(payload) => self.write(space, key, Kind::Put, &payload, false, policy).map(|r| r.is_some()),
            None => Ok(true),
        }
    }

    /// `SELECT ... FOR SHARE`: waits for (or, per the [`WaitPolicy`],
    /// fails at or skips: `Ok(false)`) another transaction's uncommitted
    /// version of the row, as InnoDB's shared lock does, then records the
    /// row as read, so the commit fails if a concurrent commit changes it.
    /// It leaves no mark on the row: a later writer does not wait for it.
    pub fn lock_row_shared(&self, space: SpaceId, key: &[u8]) -> Result<bool, TxnError> {
        let policy = self.inner.st.lock().policy;
        match self.check_row(space, key, policy)? {
            None => Ok(false),
            Some(_) => {
                self.record_read_key(space, key);
                let mut st = self.inner.st.lock();
                self.hold_reads_from(&mut st);
                Ok(true)
            }
        }
    }

    /// A foreign key's look-up of a parent row: as
    /// [`Txn::lock_row_shared`], always waiting for another transaction's
    /// uncommitted version, and returning whether the row is present as a
    /// writer sees it (this transaction's own writes included). The key is
    /// recorded as read and validated at commit, so a concurrent commit
    /// that deletes or changes the row makes this transaction's commit
    /// fail.
    pub fn probe_shared(&self, space: SpaceId, key: &[u8]) -> Result<bool, TxnError> {
        let present = self.check_row(space, key, WaitPolicy::Wait)?.unwrap_or(false);
        self.record_read_key(space, key);
        let mut st = self.inner.st.lock();
        self.hold_reads_from(&mut st);
        Ok(present)
    }

    /// Records a dependency on the keys of `space` from `lo` (included) to
    /// `hi` (excluded; `None`: to the end of the space), validated at commit
    /// at every level: a concurrent commit that writes in the range makes
    /// this transaction's commit fail (a foreign key's search for child
    /// rows of a parent row being deleted).
    pub fn record_read_range(&self, space: SpaceId, lo: &[u8], hi: Option<&[u8]>) {
        let mut l = Vec::with_capacity(lo.len() + 5);
        version::user_prefix(space, lo, &mut l);
        let h = match hi {
            Some(h) => {
                let mut v = Vec::with_capacity(h.len() + 5);
                version::user_prefix(space, h, &mut v);
                Bound::Excluded(v)
            }
            None => {
                let mut p = Vec::with_capacity(5);
                version::space_prefix(space, &mut p);
                mizzle_types::key::prefix_successor(&p).map_or(Bound::Unbounded, Bound::Excluded)
            }
        };
        let mut st = self.inner.st.lock();
        self.record(&mut st, ReadItem::Range(Bound::Included(l), h));
        self.hold_reads_from(&mut st);
    }

    /// A cursor over the keys of `space` between the bounds as a writer
    /// sees them at the snapshot: this transaction's writes included, the
    /// current statement's too (foreign-key checks must see rows the same
    /// statement wrote). Not recorded as read.
    pub fn scan_own(&self, space: SpaceId, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> Result<TxnCursor, TxnError> {
        let view = {
            let mut st = self.inner.st.lock();
            Self::check_usable(&st)?;
            self.ensure_snapshot(&mut st);
            let id = self.writer_id(&mut st);
            ReadView { txn: id, snapshot: st.snapshot, stmt: Ts(u64::MAX) }
        };
        TxnCursor::open(self.inner.shared.clone(), view, space, lo, hi, false)
    }

    /// Deletes `key`.
    pub fn delete(&self, space: SpaceId, key: &[u8]) -> Result<(), TxnError> {
        self.write(space, key, Kind::Tombstone, &[], false, WaitPolicy::Wait).map(|_| ())
    }

    /// Fills `space` with `pairs` (distinct user keys and their payloads)
    /// in large engine batches, without the per-key conflict checks of
    /// [`Txn::put`]. Only for a space no other transaction can write: one
    /// this transaction created (a new index being filled). Returns `false`
    /// and writes nothing if the space already holds any version; the
    /// caller then writes key by key.
    pub fn load_new_space<'p>(
        &self,
        space: SpaceId,
        pairs: impl IntoIterator<Item = (&'p [u8], &'p [u8])>,
    ) -> Result<bool, TxnError> {
        const CHUNK: usize = 4096;
        let mut st = self.inner.st.lock();
        Self::check_usable(&st)?;
        if self.inner.read_only {
            return Err(TxnError::ReadOnly);
        }
        self.ensure_snapshot(&mut st);
        let shared = &self.inner.shared;
        let mut prefix = Vec::with_capacity(5);
        version::space_prefix(space, &mut prefix);
        let mut probe = KvBatch::new();
        shared.engine.scan_first(KeyRange::prefix(&prefix), &mut probe, 1)?;
        if !probe.is_empty() {
            return Ok(false);
        }
        let id = self.writer_id(&mut st);
        if !st.has_status {
            shared.status.set(id, Status::Active);
            st.has_status = true;
        }
        self.mark_space(&mut st, space)?;
        // Logged before the first batch: an error part way leaves versions
        // that the log's entry makes a rollback find (T1).
        st.log.push_load(space);
        let mut written = Vec::new();
        let mut pairs = pairs.into_iter().peekable();
        while pairs.peek().is_some() {
            let mut b = WriteBatch::new();
            for (key, payload) in pairs.by_ref().take(CHUNK) {
                version::version_key(space, key, shared.tick(), &mut written);
                let mut val = Vec::with_capacity(version::HEADER_LEN + payload.len());
                version::encode_value(Kind::Put, id, payload, &mut val);
                b.put(written.clone(), val);
            }
            // Backpressure (no shared lock is held here).
            shared.engine.admit(b.size_bytes())?;
            shared.engine.write(b, Durability::Relaxed)?;
        }
        Ok(true)
    }

    /// Sets (or moves) a named savepoint.
    pub fn savepoint(&self, name: &str) -> Result<(), TxnError> {
        let sh = &self.inner.shared;
        let mut st = self.inner.st.lock();
        Self::check_active(&st)?;
        let m = Mark { log_len: st.log.len(), seq: sh.tick(), reads_len: st.reads.len() };
        st.savepoints.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        st.savepoints.push((name.to_string(), m));
        Ok(())
    }

    /// Undoes everything written since the savepoint; later savepoints go.
    pub fn rollback_to_savepoint(&self, name: &str) -> Result<(), TxnError> {
        let mut st = self.inner.st.lock();
        Self::check_active(&st)?;
        let pos = st
            .savepoints
            .iter()
            .rposition(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| TxnError::NoSuchSavepoint(name.to_string()))?;
        let m = st.savepoints[pos].1;
        st.savepoints.truncate(pos + 1);
        self.undo_to(&mut st, m)
    }

    /// Forgets the savepoint and every later one.
    pub fn release_savepoint(&self, name: &str) -> Result<(), TxnError> {
        let mut st = self.inner.st.lock();
        Self::check_active(&st)?;
        let pos = st
            .savepoints
            .iter()
            .rposition(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| TxnError::NoSuchSavepoint(name.to_string()))?;
        st.savepoints.truncate(pos);
        Ok(())
    }

    fn release_resources(&self, st: &mut State) {
        let sh = &self.inner.shared;
        if let Some(s) = st.registered.take() {
            sh.snapshots.unregister(self.inner.slot, s);
        }
        if st.validator {
            st.validator = false;
            sh.active_validators.fetch_sub(1, Ordering::SeqCst);
        }
        st.reads.clear();
        self.drop_reads_from(st);
        st.savepoints.clear();
    }

    fn abort_locked(&self, st: &mut State) {
        if matches!(st.phase, Phase::Committed | Phase::Aborted) {
            return;
        }
        let sh = &self.inner.shared;
        if st.blocked.take().is_some() {
            sh.locks.cancel(st.id, false);
        }
        st.restart_snapshot = false;
        if !st.has_status {
            st.phase = Phase::Aborted;
            self.release_resources(st);
            return;
        }
        sh.status.set(st.id, Status::Aborted { cleaned: None });
        let cleaned = delete_logged(sh, st.id, &st.log, 0, Ts(0)).is_ok();
        if cleaned {
            // Readers that fetched these versions before the delete have
            // snapshots older than this tick; see status invariant 1.
            sh.status.set(st.id, Status::Aborted { cleaned: Some(sh.tick()) });
            // Every version is gone: the marker may go (R1). If this fails,
            // recovery finds the marker and cleans again.
            if st.marked && sh.delete_record(records::marker_key(st.id)).is_ok() {
                st.marked = false;
            }
        }
        st.log = WriteLog::default();
        st.phase = Phase::Aborted;
        self.release_resources(st);
        // Its versions are gone or dead (M5).
        sh.locks.release(st.id);
    }

    /// Rolls back everything. Idempotent.
    pub fn rollback(&self) {
        let mut st = self.inner.st.lock();
        self.abort_locked(&mut st);
    }

    /// Validates and prepares the commit. On `Err` the transaction has been
    /// rolled back (T3). Wait on [`PendingCommit::ticket`] (or park on it),
    /// then call [`PendingCommit::finish`].
    pub fn commit(&self) -> Result<PendingCommit, TxnError> {
        self.commit_with(None)
    }

    /// [`Txn::commit`] whose durability ticket follows `sync` rather than
    /// the engine's configured mode (MySQL's `innodb_flush_log_at_trx_commit`).
    pub fn commit_with(&self, sync: Option<SyncMode>) -> Result<PendingCommit, TxnError> {
        let sh = &self.inner.shared;
        let mut st = self.inner.st.lock();
        Self::check_active(&st)?;
        if st.blocked.take().is_some() {
            // The blocked statement was undone; the commit goes without it.
            sh.locks.cancel(st.id, false);
            st.restart_snapshot = false;
        }
        if st.log.is_empty() {
            // Read-only: serializable at its snapshot, nothing to publish.
            // Writes undone by statement or savepoint rollbacks may have
            // left a marker; no version of it remains (R1).
            if st.marked {
                sh.delete_record(records::marker_key(st.id))?;
                st.marked = false;
            }
            st.phase = Phase::Committed;
            if st.has_status {
                sh.status.set(st.id, Status::Committed(st.snapshot));
            }
            self.release_resources(&mut st);
            return Ok(PendingCommit { txn: self.clone(), ticket: DurableTicket::ready(), done: true });
        }
        let reads = std::mem::take(&mut st.reads);
        let limit = sh.summary_key_limit();
        let log = &st.log;
        let summary = || {
            // A loaded space's keys are not listed (`keys_from` skips its
            // entry): the space is new, so no other transaction can have
            // read in it, and its keys had no older versions for GC. The
            // other keys stay listed: a summary of spaces only would fail
            // every concurrent transaction that read the dictionary.
            let keys = if !log.overflowed && log.len() <= limit {
                let mut ks: Vec<Vec<u8>> =
                    log.keys_from(0).map(|k| k[..k.len() - version::SUFFIX_LEN].to_vec()).collect();
                ks.sort_unstable();
                ks.dedup();
                Some(ks)
            } else {
                None
            };
            (log.spaces.clone(), keys)
        };
        let c = match sh.commit_prepare(
            st.id,
            st.reads_from.map_or(st.snapshot, |f| f.min(st.snapshot)),
            &reads,
            summary,
        ) {
            Ok(c) => c,
            Err(e) => {
                self.abort_locked(&mut st);
                return Err(e);
            }
        };
        let ticket = match sh.commit_durable(st.id, sync) {
            Ok(t) => t,
            Err(e) => {
                sh.commit_withdraw(c);
                self.abort_locked(&mut st);
                return Err(e);
            }
        };
        st.phase = Phase::Preparing(c);
        st.ticket = Some(ticket.clone());
        Ok(PendingCommit { txn: self.clone(), ticket, done: false })
    }

    /// Commits and blocks the calling thread until durable.
    pub fn commit_blocking(&self) -> Result<(), TxnError> {
        let p = self.commit()?;
        let _ = p.ticket().wait();
        p.finish()
    }

    fn finish_commit(&self) -> Result<(), TxnError> {
        self.finish_commit_then(true).map(|_| ())
    }

    /// [`Txn::finish_commit`], waiting for the commit to become visible
    /// (M4) only if `wait_visible`. Returns the commit time if this call
    /// published it.
    fn finish_commit_then(&self, wait_visible: bool) -> Result<Option<Ts>, TxnError> {
        let sh = &self.inner.shared;
        let mut st = self.inner.st.lock();
        let Phase::Preparing(c) = st.phase else {
            return match st.phase {
                Phase::Committed => Ok(None),
                _ => Err(TxnError::NotActive),
            };
        };
        let outcome = st.ticket.take().map(|t| t.wait()).unwrap_or(Ok(()));
        match outcome {
            Ok(()) => {
                sh.commit_publish(st.id, c, st.log.gc_keys());
                st.commit_ts = Some(c);
                st.phase = Phase::Committed;
                st.log = WriteLog::default();
                self.release_resources(&mut st);
                drop(st);
                if wait_visible {
                    sh.wait_visible(c); // M4
                }
                Ok(Some(c))
            }
            Err(e) => {
                sh.commit_withdraw(c);
                st.phase = Phase::Active;
                self.abort_locked(&mut st);
                Err(TxnError::Storage(e))
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: settle the transaction.
        let st = self.st.get_mut();
        if st.blocked.take().is_some() {
            self.shared.locks.cancel(st.id, false);
        }
        match st.phase {
            Phase::Active if !st.has_status => {}
            Phase::Active => {
                let sh = &self.shared;
                sh.status.set(st.id, Status::Aborted { cleaned: None });
                let cleaned = delete_logged(sh, st.id, &st.log, 0, Ts(0)).is_ok();
                if cleaned {
                    sh.status.set(st.id, Status::Aborted { cleaned: Some(sh.tick()) });
                    if st.marked {
                        let _ = sh.delete_record(records::marker_key(st.id));
                    }
                }
                sh.locks.release(st.id);
            }
            Phase::Preparing(c) => {
                let ok = st.ticket.take().map(|t| t.wait().is_ok()).unwrap_or(true);
                if ok {
                    self.shared.commit_publish(st.id, c, st.log.gc_keys());
                } else {
                    self.shared.commit_withdraw(c);
                    self.shared.status.set(st.id, Status::Aborted { cleaned: None });
                    self.shared.locks.release(st.id);
                }
            }
            Phase::Committed | Phase::Aborted => {}
        }
        if let Some(s) = st.registered.take() {
            self.shared.snapshots.unregister(self.slot, s);
        }
        if st.validator {
            self.shared.active_validators.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A commit waiting for durability.
pub struct PendingCommit {
    txn: Txn,
    ticket: DurableTicket,
    done: bool,
}

impl PendingCommit {
    /// The durability ticket to wait or park on.
    pub fn ticket(&self) -> &DurableTicket {
        &self.ticket
    }

    /// True when there is nothing to wait for or publish: a read-only
    /// commit, complete when it was made (dropping it is free).
    #[inline]
    pub fn is_settled(&self) -> bool {
        self.done
    }

    /// Publishes the commit once durable (blocking if it is not yet).
    pub fn finish(mut self) -> Result<(), TxnError> {
        self.done = true;
        self.txn.finish_commit()
    }

    /// [`PendingCommit::finish`] without M4's wait: publishes the commit
    /// (blocking only if it is not durable yet: call it once the ticket
    /// completed) and returns what the committer must see visible before
    /// its next snapshot, so that a caller that must not block (a session
    /// step) can yield instead of waiting for other commits to publish.
    /// `None` when the commit is visible already (always for a read-only
    /// one).
    pub fn publish(mut self) -> Result<Option<Published>, TxnError> {
        if self.done {
            // Read-only: committed when it was made, nothing to publish.
            return Ok(None);
        }
        self.done = true;
        let Some(c) = self.txn.finish_commit_then(false)? else {
            return Ok(None);
        };
        if self.txn.inner.shared.visible_ts() >= c {
            return Ok(None);
        }
        Ok(Some(Published { txn: self.txn.clone(), c: Some(c), ticket: self.ticket.clone() }))
    }
}

/// A published commit that may not be visible yet (M4): earlier-timed
/// commits of other transactions may still be unpublished.
#[derive(Clone)]
pub struct Published {
    txn: Txn,
    /// Its commit time (`None`: read-only, nothing to see).
    c: Option<Ts>,
    ticket: DurableTicket,
}

impl Published {
    /// True once every commit up to this one is published (or withdrawn),
    /// so a new snapshot shows it.
    pub fn is_visible(&self) -> bool {
        self.c.is_none_or(|c| self.txn.inner.shared.visible_ts() >= c)
    }

    /// The commit's (complete) durability ticket, to park on while
    /// yielding.
    pub fn ticket(&self) -> &DurableTicket {
        &self.ticket
    }

    /// Blocks until [`Published::is_visible`] (M4's wait).
    pub fn wait_visible(&self) {
        if let Some(c) = self.c {
            self.txn.inner.shared.wait_visible(c);
        }
    }
}

/// Dropping a pending commit never blocks: it is published once durable —
/// at once if its ticket is complete, otherwise from the ticket's
/// completion callback (on the thread that completes it). Nobody waits for it to become visible (M4 is
/// the committer's guarantee, and the committer let it go), so a thread
/// that drops one never waits for other sessions' commits, which may be
/// published only by sessions waiting for that thread (a server's worker).
impl Drop for PendingCommit {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if self.ticket.poll().is_some() {
            let _ = self.txn.finish_commit_then(false);
            return;
        }
        let txn = self.txn.clone();
        self.ticket.on_complete(move |_| {
            let _ = txn.finish_commit_then(false);
        });
    }
}
