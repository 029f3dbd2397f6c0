//! The write-ahead log: an append-only sequence of opaque records, numbered
//! by LSN, kept in segment files (`wal-<n>.log`) and made durable by one
//! background writer thread that groups concurrent commits into one write
//! and one `fdatasync` (group commit). `docs/format/disk.md` sections 2, 4
//! and 6 specify the bytes and the recovery this module implements.
//!
//! Invariants:
//! 1. LSNs follow the order of [`Wal::append`] calls, from 1 and without
//!    gaps; records reach the file in LSN order, each inside one block.
//! 2. D5: a ticket of mode `full` completes only after an `fdatasync` that
//!    covers its block and every block before it; mode `normal` after the
//!    block is written; mode `off` at once. Each block records the last LSN
//!    known durable when it was written (its synced-through LSN).
//! 3. D4: a segment is synced completely before the next one is begun. A
//!    new segment is zero-filled and synced, renamed into place, the
//!    directory synced, and its header written and synced, all before its
//!    first block is written.
//! 4. M1: after any failed write or sync the log is poisoned: every pending
//!    and later ticket, append and sync fails with that error, which says
//!    the log refuses writes until the database is reopened.
//! 5. Memory: bytes appended but not yet written are bounded by
//!    `backlog_bytes` for callers that call [`Wal::wait_for_room`] first.
//! 6. Nothing read from a file is trusted before its checksum checks, and
//!    nothing on any file content panics (see `recovery` and `format`).
//!
//! This module does not interpret records (the engine encodes write batches
//! into them), does not decide when to checkpoint, and keeps no cache of
//! what it wrote.
//!
//! # How a commit becomes durable
//!
//! ```text
//!  committers                      writer thread                    disk
//!  ----------                      -------------                    ----
//!  append(r7) -> 7 ─┐
//!  append(r8) -> 8 ─┤ slots: [hdr|r7|r8] [hdr|r9]
//!  append(r9) -> 9 ─┘        (one slot per block, ≤ block_bytes)
//!  ticket(9).wait()  ···     takes every slot ──────── write block 7..8 ─▶ wal-3.log
//!                            (synced-through = 6)      write block 9     ─▶
//!  append(r10) -> 10         (waits for the next round) fdatasync        ─▶
//!                            durable = 9: tickets 7, 8, 9 complete
//!  ticket(10).wait() ···     next round: block 10, one more fdatasync
//! ```
//!
//! Appending only copies the record into the last slot under the log's
//! mutex; the writer swaps all slots out under the same mutex and does its
//! I/O without it, so committers arriving during a write or a sync queue up
//! for the next round and share its sync. A second thread prepares the next
//! segment (`wal-spare.tmp`) ahead of need so a segment switch costs a
//! rename, not 64 MiB of zeros.
//!
//! # Writer state machine
//!
//! The spare segment moves `Absent → Preparing → Ready | Failed` (the spare
//! thread, `spare_main`), and `Ready | Failed | Absent → Taken → Absent` (the
//! writer, `Writer::take_spare` and `Writer::switch`). The log itself is
//! `Open → Poisoned` (`Shared::poison`, on any I/O error) and
//! `Open | Poisoned → Closed` ([`Wal::close`]).

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{StorageError, SyncMode};
use parking_lot::{Condvar, Mutex};

use crate::ids::Lsn;
use crate::vfs::{Vfs, VfsFile};

mod format;
mod recovery;
#[cfg(test)]
mod tests;
mod writer;

use format::{BLOCK_HEADER_LEN, MAX_RECORD_BYTES, RECORD_PREFIX_LEN};
use recovery::SegmentInfo;

/// Segments smaller than this are raised to it (a header, a block header and
/// room for records).
pub const MIN_SEGMENT_BYTES: u64 = 1024;
/// Blocks gather at most this many bytes of records (larger settings are
/// lowered to it); a single larger record still gets a block of its own.
pub const MAX_BLOCK_BYTES: usize = 1 << 30;

/// The callback [`Wal::open`] replays records through: the record's LSN and
/// bytes; an error aborts the open.
pub type ReplayFn<'a> = dyn FnMut(Lsn, &[u8]) -> Result<(), StorageError> + 'a;

/// A background thread's body.
type ThreadBody = Box<dyn FnOnce() + Send>;

/// How the log is written and synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// When tickets complete (see [`Wal::ticket`]).
    pub sync: SyncMode,
    /// Size a segment is prepared with (zero-filled); the writer moves to the
    /// next segment when a block does not fit. At least [`MIN_SEGMENT_BYTES`].
    pub segment_bytes: u64,
    /// Most bytes of records gathered into one block; a single bigger
    /// record makes a bigger block. At most [`MAX_BLOCK_BYTES`].
    pub block_bytes: usize,
    /// Appended-but-unwritten bytes above which [`Wal::wait_for_room`] blocks.
    pub backlog_bytes: usize,
    /// How often modes `normal` and `off` sync (and `off` writes) in the
    /// background, in milliseconds.
    pub normal_sync_interval_ms: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            sync: SyncMode::Full,
            segment_bytes: 64 << 20,
            block_bytes: 4 << 20,
            backlog_bytes: 64 << 20,
            normal_sync_interval_ms: 1000,
        }
    }
}

/// Options after clamping to the limits.
#[derive(Debug, Clone)]
struct Opts {
    sync: SyncMode,
    segment_bytes: u64,
    block_bytes: usize,
    backlog_bytes: usize,
    interval: Duration,
}

impl From<&WalOptions> for Opts {
    fn from(o: &WalOptions) -> Opts {
        Opts {
            sync: o.sync,
            segment_bytes: o.segment_bytes.max(MIN_SEGMENT_BYTES),
            block_bytes: o.block_bytes.clamp(1, MAX_BLOCK_BYTES),
            backlog_bytes: o.backlog_bytes.max(1),
            interval: Duration::from_millis(o.normal_sync_interval_ms),
        }
    }
}

/// Counters describing the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Segment files in the directory.
    pub segments: u64,
    /// Bytes of those files.
    pub segment_bytes: u64,
    /// Blocks written since open.
    pub blocks_written: u64,
    /// Bytes of blocks written since open.
    pub bytes_written: u64,
    /// `fdatasync` calls on log segments since open (preparing spare
    /// segments not counted).
    pub syncs: u64,
    /// Records appended since open.
    pub records_appended: u64,
    /// Records replayed by open.
    pub records_recovered: u64,
    /// Times the writer thread woke from a wait (for work, its interval,
    /// a committer's flush or a commit delay) since open.
    pub writer_wakeups: u64,
    /// The last LSN appended.
    pub last_lsn: Lsn,
    /// The last LSN written to a file.
    pub written_lsn: Lsn,
    /// The last LSN known durable.
    pub durable_lsn: Lsn,
    /// Bytes appended but not yet written.
    pub backlog_bytes: u64,
    /// Whether the next segment is prepared.
    pub spare_ready: bool,
    /// Why preparing the next segment failed, if it did (the writer retries
    /// when it needs the segment; failing again poisons the log).
    pub spare_error: Option<StorageError>,
}

/// The records appended for one block: 32 bytes of header space, then each
/// record as a u32 length and its bytes.
struct Slot {
    buf: Vec<u8>,
    first_lsn: u64,
    count: u32,
    /// No more records go here (a rotation point follows it).
    closed: bool,
}

impl Slot {
    fn payload_len(&self) -> usize {
        self.buf.len() - BLOCK_HEADER_LEN
    }

    fn last_lsn(&self) -> u64 {
        self.first_lsn + u64::from(self.count) - 1
    }
}

/// The spare segment (see the state machine in the module docs).
enum Spare {
    Absent,
    Preparing,
    Ready(Arc<dyn VfsFile>),
    Failed(StorageError),
    Taken,
}

/// Everything the threads share, under one mutex.
struct State {
    /// Appended records not yet taken by the writer, in LSN order.
    slots: VecDeque<Slot>,
    /// Emptied slot buffers kept for reuse.
    free_bufs: Vec<Vec<u8>>,
    /// The LSN the next append gets.
    next_lsn: u64,
    /// Bytes appended (records and their length prefixes) not yet written.
    unwritten_bytes: usize,
    /// Threads blocked in `wait_for_room` (mode `off` writes for them).
    room_waiters: usize,
    /// The last LSN written to a file.
    written_lsn: u64,
    /// The last LSN made durable.
    durable_lsn: u64,
    /// Pending tickets by LSN that complete once their record is written.
    written_tickets: BTreeMap<u64, Vec<DurableTicket>>,
    /// Pending tickets by LSN that complete once their record is durable.
    tickets: BTreeMap<u64, Vec<DurableTicket>>,
    /// `sync_all`/`close` want everything up to here durable.
    sync_target: u64,
    /// Rotation points not yet handled by the writer.
    rotations: VecDeque<u64>,
    /// The first write or sync error.
    poisoned: Option<StorageError>,
    /// `close` was called: no more appends.
    closing: bool,
    /// The writer thread has stopped.
    writer_done: bool,
    /// Segment files, by number; the last is the one being written.
    segments: Vec<SegmentInfo>,
    spare: Spare,
    /// Tests hold the writer back to shape blocks deterministically.
    held: bool,
    /// A round's I/O is running (on the writer thread or on a committer
    /// flushing its own record); `Shared::io` belongs to it.
    busy: bool,
    /// The writer thread waits for a committer's own flush to end (it saw
    /// `busy`): that flush's end must wake it. Otherwise the end of a
    /// committer's flush wakes the writer only if it left work for it.
    writer_waits_busy: bool,
    /// When the last sync finished (the interval for unwaited records).
    last_sync: std::time::Instant,
    /// How many of the recent syncs saw another commit ask for a durable
    /// ticket while they ran (0..=8): committers overlap, and a short wait
    /// before a sync lets one sync serve several of them.
    overlap: u32,
    /// Average duration of a sync, in microseconds.
    sync_us: u64,
    blocks_written: u64,
    bytes_written: u64,
    syncs: u64,
    records_appended: u64,
    records_recovered: u64,
    writer_wakeups: u64,
}

/// Takes the tickets of `map` at or below `mark`.
fn take_through(map: &mut BTreeMap<u64, Vec<DurableTicket>>, mark: u64, out: &mut Vec<DurableTicket>) {
    if map.first_key_value().is_none_or(|(&lsn, _)| lsn > mark) {
        return;
    }
    let rest = match mark.checked_add(1) {
        Some(m) => map.split_off(&m),
        None => BTreeMap::new(),
    };
    out.extend(std::mem::replace(map, rest).into_values().flatten());
}

impl State {
    /// Something the writer would act on now or time from now: records,
    /// waiters, rotations, a sync target, a blocked appender, a close.
    fn has_work(&self) -> bool {
        !self.slots.is_empty()
            || !self.tickets.is_empty()
            || !self.written_tickets.is_empty()
            || !self.rotations.is_empty()
            || self.room_waiters > 0
            || self.sync_target > self.durable_lsn
            || self.written_lsn > self.durable_lsn
            || self.closing
    }

    /// The tickets the progress made so far completes: written tickets up
    /// to the written LSN, durable ones up to the durable LSN.
    fn settle(&mut self) -> Vec<DurableTicket> {
        let mut out = Vec::new();
        take_through(&mut self.written_tickets, self.written_lsn, &mut out);
        take_through(&mut self.tickets, self.durable_lsn, &mut out);
        out
    }

    /// Every pending ticket (the log failed or closed).
    fn take_all_tickets(&mut self) -> Vec<DurableTicket> {
        let mut v: Vec<DurableTicket> = std::mem::take(&mut self.tickets).into_values().flatten().collect();
        v.extend(std::mem::take(&mut self.written_tickets).into_values().flatten());
        v
    }

    fn last_lsn(&self) -> u64 {
        self.next_lsn - 1
    }
}

struct Shared {
    vfs: Arc<dyn Vfs>,
    dir: PathBuf,
    opts: Opts,
    st: Mutex<State>,
    /// The segment being written and the I/O marks (see `writer::Io`).
    io: Mutex<writer::Io>,
    /// The writer waits here for work.
    work: Condvar,
    /// Waiters for progress (sync_all, wait_for_room, the writer waiting
    /// for the spare, tests) wait here.
    progress: Condvar,
    /// The spare thread waits here.
    spare_cv: Condvar,
    /// Set by `close`; the spare thread stops zero-filling when it sees it.
    closing: AtomicBool,
}

/// Appends the note M1 asks for to an error that poisons the log.
fn refusing(e: StorageError) -> StorageError {
    const NOTE: &str = "; the log refuses writes until the database is reopened";
    match e {
        StorageError::Io(m) => StorageError::Io(m + NOTE),
        StorageError::DiskFull(m) => StorageError::DiskFull(m + NOTE),
        StorageError::CantCreate(m) => StorageError::CantCreate(m + NOTE),
        StorageError::ReadFailed(m) => StorageError::ReadFailed(m + NOTE),
        StorageError::Corrupt(m) => StorageError::Corrupt(m + NOTE),
        StorageError::Full(m) => StorageError::Full(m + NOTE),
        other => other,
    }
}

impl Shared {
    /// Poisons the log (invariant 4) and fails every pending ticket.
    fn poison(&self, e: StorageError) {
        let (err, tickets) = {
            let mut st = self.st.lock();
            let err = st.poisoned.get_or_insert_with(|| refusing(e)).clone();
            let tickets = st.take_all_tickets();
            self.work.notify_all();
            self.progress.notify_all();
            self.spare_cv.notify_all();
            (err, tickets)
        };
        for t in tickets {
            t.complete(Err(err.clone()));
        }
    }
}

/// The write-ahead log of one database directory.
pub struct Wal {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Serialises `retire_through` calls.
    retiring: Mutex<()>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal").field("dir", &self.shared.dir).finish_non_exhaustive()
    }
}

impl Wal {
    /// Opens the log in `dir`, creating its first segment if there is none.
    ///
    /// Replays every record with an LSN above `after` in LSN order through
    /// `apply` (an error from `apply` aborts the open), handles the tail as
    /// `docs/format/disk.md` section 6 says (a torn tail is zeroed and
    /// synced; damaged durable bytes or a missing segment in the needed
    /// range are a `Corrupt` error naming the file and byte offset), and
    /// starts the writer and spare threads. New records go to a segment
    /// holding no block yet (a new one, or an empty last one).
    ///
    /// Records after a `SyncMode::Off`/`Normal` crash may be lost, never
    /// reordered. If `after` is beyond the last record found, new records
    /// are numbered from `after + 1`.
    pub fn open(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        after: Lsn,
        opts: WalOptions,
        apply: &mut ReplayFn<'_>,
    ) -> Result<Wal, StorageError> {
        let opts = Opts::from(&opts);
        let rec = recovery::recover(vfs.as_ref(), dir, after.0, apply)?;
        let last = rec.last_lsn;
        let mut segments = rec.segments;
        let cur = writer::first_segment(vfs.as_ref(), dir, &opts, rec.reusable, rec.next_number, last + 1)?;
        if segments.last().map(|s| s.number) != Some(cur.number) {
            segments.push(SegmentInfo { number: cur.number, first_lsn: Some(last + 1), bytes: opts.segment_bytes });
        } else if let Some(s) = segments.last_mut() {
            s.first_lsn = Some(last + 1);
        }
        let shared = Arc::new(Shared {
            vfs,
            dir: dir.to_path_buf(),
            opts,
            st: Mutex::new(State {
                slots: VecDeque::new(),
                free_bufs: Vec::new(),
                next_lsn: last + 1,
                unwritten_bytes: 0,
                room_waiters: 0,
                written_lsn: last,
                durable_lsn: last,
                tickets: BTreeMap::new(),
                written_tickets: BTreeMap::new(),
                sync_target: 0,
                rotations: VecDeque::new(),
                poisoned: None,
                closing: false,
                writer_done: false,
                segments,
                spare: Spare::Absent,
                held: false,
                busy: false,
                writer_waits_busy: false,
                last_sync: std::time::Instant::now(),
                overlap: 0,
                sync_us: 0,
                blocks_written: 0,
                bytes_written: 0,
                syncs: 0,
                records_appended: 0,
                records_recovered: rec.applied,
                writer_wakeups: 0,
            }),
            io: Mutex::new(writer::Io::new(cur, last)),
            work: Condvar::new(),
            progress: Condvar::new(),
            spare_cv: Condvar::new(),
            closing: AtomicBool::new(false),
        });
        let wal = Wal { shared: shared.clone(), threads: Mutex::new(Vec::new()), retiring: Mutex::new(()) };
        let spawn = |name: &str, f: ThreadBody| {
            std::thread::Builder::new()
                .name(name.to_string())
                .spawn(f)
                .map_err(|e| StorageError::Io(format!("starting the log's thread {name} failed: {e}")))
        };
        let s = shared.clone();
        let threads: [(&str, ThreadBody); 2] = [
            ("mizzle-wal-writer", Box::new(move || writer::writer_main(&s))),
            (
                "mizzle-wal-spare",
                Box::new({
                    let s = shared.clone();
                    move || writer::spare_main(&s)
                }),
            ),
        ];
        for (name, f) in threads {
            match spawn(name, f) {
                Ok(h) => wal.threads.lock().push(h),
                Err(e) => {
                    // Stops whichever thread did start.
                    let _ = wal.close();
                    return Err(e);
                }
            }
        }
        Ok(wal)
    }

    /// Appends a record and returns its LSN. Does no I/O: the record is
    /// copied into the buffer the writer thread drains. LSNs follow the
    /// order of calls. Fails once the log is poisoned or closed, and for a
    /// record longer than the format frames (about 4 GiB).
    pub fn append(&self, record: &[u8]) -> Result<Lsn, StorageError> {
        self.append_with(record.len(), |dst| dst.copy_from_slice(record))
    }

    /// Appends a record of `len` bytes that `fill` encodes straight into the
    /// log's buffer (handed a zeroed slice of exactly `len` bytes). `fill`
    /// runs under the log's mutex: it must only encode, never call into the
    /// log. If it panics, nothing is appended and the panic continues.
    pub fn append_with(&self, len: usize, fill: impl FnOnce(&mut [u8])) -> Result<Lsn, StorageError> {
        self.append_inner(len, fill, true)
    }

    /// [`Wal::append_with`] without waking the writer for the first record
    /// of an empty buffer: for a record nobody waits for (the idle writer
    /// wakes once an interval, so it is still written within one), or one
    /// whose `Full` or `Normal` ticket the caller asks for next (its
    /// committer flushes it, or the ticket's nudge wakes the writer once
    /// someone waits on it). Waking it here too cost a wake-up per
    /// transaction for nothing: the writer found no work yet and slept
    /// again. A block filling up still wakes it.
    pub fn append_quiet_with(&self, len: usize, fill: impl FnOnce(&mut [u8])) -> Result<Lsn, StorageError> {
        self.append_inner(len, fill, false)
    }

    /// The log's own sync mode (what [`Wal::ticket`] uses).
    pub fn sync_mode(&self) -> SyncMode {
        self.shared.opts.sync
    }

    fn append_inner(&self, len: usize, fill: impl FnOnce(&mut [u8]), wake_first: bool) -> Result<Lsn, StorageError> {
        if len > MAX_RECORD_BYTES {
            return Err(StorageError::Full(format!(
                "a log record of {len} bytes exceeds the largest the log frames ({MAX_RECORD_BYTES} bytes)"
            )));
        }
        let block_bytes = self.shared.opts.block_bytes;
        let mut guard = self.shared.st.lock();
        let st = &mut *guard;
        if let Some(e) = &st.poisoned {
            return Err(e.clone());
        }
        if st.closing {
            return Err(StorageError::Closed);
        }
        let was_empty = st.slots.is_empty();
        let need_slot = match st.slots.back() {
            None => true,
            Some(s) => s.closed || (s.count > 0 && s.payload_len() + RECORD_PREFIX_LEN + len > block_bytes),
        };
        if need_slot {
            let mut buf = st.free_bufs.pop().unwrap_or_default();
            buf.clear();
            // Room for a whole block at once, so the buffer does not double
            // past it while records arrive.
            buf.reserve(block_bytes.min(MAX_RECORD_BYTES).max(BLOCK_HEADER_LEN + RECORD_PREFIX_LEN + len));
            buf.resize(BLOCK_HEADER_LEN, 0);
            st.slots.push_back(Slot { buf, first_lsn: st.next_lsn, count: 0, closed: false });
        }
        let slot = st.slots.back_mut().expect("invariant: a slot was just ensured");
        let start = slot.buf.len();
        let prefix = u32::try_from(len).expect("invariant: len was checked against MAX_RECORD_BYTES");
        slot.buf.extend_from_slice(&prefix.to_le_bytes());
        slot.buf.resize(start + RECORD_PREFIX_LEN + len, 0);
        let filled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fill(&mut slot.buf[start + RECORD_PREFIX_LEN..]);
        }));
        if let Err(panic) = filled {
            slot.buf.truncate(start);
            if slot.count == 0 {
                st.slots.pop_back();
            }
            drop(guard);
            std::panic::resume_unwind(panic);
        }
        slot.count += 1;
        let lsn = st.next_lsn;
        st.next_lsn += 1;
        st.unwritten_bytes += RECORD_PREFIX_LEN + len;
        st.records_appended += 1;
        // The writer acts on tickets, full blocks and its interval; it only
        // needs waking when a block fills or the first record arrives (so it
        // starts timing its interval; a quiet append leaves that to the
        // idle writer's own interval wake). A commit's ticket wakes it
        // through its nudge, once a waiter is left waiting (`ticket_as`).
        if (was_empty && wake_first) || st.unwritten_bytes >= block_bytes {
            self.shared.work.notify_one();
        }
        Ok(Lsn(lsn))
    }

    /// A ticket completing when record `lsn` is durable as the sync mode
    /// defines: `Full`, its block and every earlier one are synced (D5);
    /// `Normal`, its block is written to the file; `Off`, at once. It
    /// completes with an error if the log fails (or is closed) before that.
    pub fn ticket(&self, lsn: Lsn) -> DurableTicket {
        self.ticket_as(lsn, self.shared.opts.sync)
    }

    /// [`Wal::ticket`] for a record whose commit asks for `mode` rather
    /// than the log's own (MySQL's `innodb_flush_log_at_trx_commit` set per
    /// session). A `Full` ticket makes the writer sync even in mode `off`.
    pub fn ticket_as(&self, lsn: Lsn, mode: SyncMode) -> DurableTicket {
        let failed = |e: StorageError| {
            let t = DurableTicket::pending();
            t.complete(Err(e));
            t
        };
        let mut st = self.shared.st.lock();
        let mark = match mode {
            SyncMode::Full => st.durable_lsn,
            SyncMode::Normal => st.written_lsn,
            SyncMode::Off if st.poisoned.is_none() => u64::MAX,
            SyncMode::Off => 0,
        };
        if lsn.0 <= mark {
            return DurableTicket::ready();
        }
        if let Some(e) = &st.poisoned {
            return failed(e.clone());
        }
        if st.writer_done {
            return failed(StorageError::Closed);
        }
        // A thread that blocks on the ticket first tries to flush the
        // record itself (`writer::help`); a parked waiter leaves it to the
        // writer thread. The writer is woken (the nudge) only when a waiter
        // blocks or parks with the ticket still pending: waking it here
        // would make it race the committer's own flush, and cost a thread
        // wake-up per commit (sysbench oltp_insert, one client, thread
        // scheduler: 4,180 -> 4,690 tps). A writer awake for another reason
        // flushes the record as well (its ticket is in `tickets` already).
        let helper = {
            let shared = self.shared.clone();
            move || writer::help(&shared, lsn.0, mode)
        };
        // Someone waits for this record now: a writer waiting for its
        // interval (modes normal and off) goes at once.
        let nudge = {
            let shared = self.shared.clone();
            move || {
                shared.work.notify_all();
            }
        };
        let t = DurableTicket::pending_with_helper(helper, nudge);
        match mode {
            SyncMode::Full => st.tickets.entry(lsn.0).or_default().push(t.clone()),
            _ => st.written_tickets.entry(lsn.0).or_default().push(t.clone()),
        }
        t
    }

    /// Blocks while more than `backlog_bytes` appended bytes are unwritten.
    /// Holds no lock the writer needs while it waits; callers call it before
    /// taking their own locks. Fails if the log is poisoned or closed.
    pub fn wait_for_room(&self) -> Result<(), StorageError> {
        let mut st = self.shared.st.lock();
        loop {
            if let Some(e) = &st.poisoned {
                return Err(e.clone());
            }
            if st.closing {
                return Err(StorageError::Closed);
            }
            if st.unwritten_bytes <= self.shared.opts.backlog_bytes {
                return Ok(());
            }
            st.room_waiters += 1;
            self.shared.work.notify_one();
            self.shared.progress.wait(&mut st);
            st.room_waiters -= 1;
        }
    }

    /// Writes and syncs everything appended so far, whatever the mode, and
    /// returns the last LSN made durable (for checkpoints and clean
    /// shutdown). Fails if the log is poisoned or closed.
    pub fn sync_all(&self) -> Result<Lsn, StorageError> {
        let mut st = self.shared.st.lock();
        let target = st.last_lsn();
        st.sync_target = st.sync_target.max(target);
        self.shared.work.notify_one();
        loop {
            if let Some(e) = &st.poisoned {
                return Err(e.clone());
            }
            if st.durable_lsn >= target {
                return Ok(Lsn(st.durable_lsn));
            }
            if st.writer_done {
                return Err(StorageError::Closed);
            }
            self.shared.progress.wait(&mut st);
        }
    }

    /// Makes records with LSNs above `after` go to a new segment; the writer
    /// thread makes the switch (syncing the old segment completely first,
    /// D4) without the caller waiting. `after` should be the last LSN
    /// appended (the engine calls this under its write lock when it freezes
    /// its in-memory table); the switch always happens at the last LSN
    /// appended when called, so another value only moves it there. Nothing
    /// happens if the current segment holds no record up to that point.
    pub fn rotate_after(&self, after: Lsn) {
        // The point is always the current end of the log (see above); `after`
        // documents the caller's intent.
        let _ = after;
        let mut st = self.shared.st.lock();
        let point = st.last_lsn();
        if let Some(s) = st.slots.back_mut() {
            s.closed = true;
        }
        if point > 0 && st.rotations.back() != Some(&point) {
            st.rotations.push_back(point);
            self.shared.work.notify_one();
        }
    }

    /// Deletes the segments whose records all have LSNs at or below `lsn`
    /// (call it once a checkpoint covering them is durable), oldest first,
    /// then syncs the directory. The segment being written is never deleted.
    /// A failure leaves the rest in place (they are harmless: recovery skips
    /// segments below the needed range) and does not poison the log.
    pub fn retire_through(&self, lsn: Lsn) -> Result<(), StorageError> {
        let _one_at_a_time = self.retiring.lock();
        let bound = lsn.0.saturating_add(1);
        let victims: Vec<u64> = {
            let st = self.shared.st.lock();
            let segs = &st.segments;
            let mut v = Vec::new();
            // Segment i holds only LSNs below the first LSN of the next
            // segment whose header is known; never the last (current) one.
            for i in 0..segs.len().saturating_sub(1) {
                match segs[i + 1..].iter().find_map(|s| s.first_lsn) {
                    Some(next_first) if next_first <= bound => v.push(segs[i].number),
                    _ => break,
                }
            }
            v
        };
        if victims.is_empty() {
            return Ok(());
        }
        let mut result = Ok(());
        for number in victims {
            let path = self.shared.dir.join(format::segment_name(number));
            if let Err(e) = self.shared.vfs.remove_file(&path) {
                result = Err(crate::ioerr::storage_error(&e, crate::ioerr::Op::Create, &path.display().to_string()));
                break;
            }
            self.shared.st.lock().segments.retain(|s| s.number != number);
        }
        let synced = self.shared.vfs.sync_dir(&self.shared.dir).map_err(|e| {
            crate::ioerr::storage_error(&e, crate::ioerr::Op::Sync, &self.shared.dir.display().to_string())
        });
        result.and(synced)
    }

    /// The last LSN appended (0 for an empty log).
    pub fn last_lsn(&self) -> Lsn {
        Lsn(self.shared.st.lock().last_lsn())
    }

    /// Counters describing the log.
    pub fn stats(&self) -> WalStats {
        let st = self.shared.st.lock();
        WalStats {
            segments: st.segments.len() as u64,
            segment_bytes: st.segments.iter().map(|s| s.bytes).sum(),
            blocks_written: st.blocks_written,
            bytes_written: st.bytes_written,
            syncs: st.syncs,
            records_appended: st.records_appended,
            records_recovered: st.records_recovered,
            writer_wakeups: st.writer_wakeups,
            last_lsn: Lsn(st.last_lsn()),
            written_lsn: Lsn(st.written_lsn),
            durable_lsn: Lsn(st.durable_lsn),
            backlog_bytes: st.unwritten_bytes as u64,
            spare_ready: matches!(st.spare, Spare::Ready(_)),
            spare_error: match &st.spare {
                Spare::Failed(e) => Some(e.clone()),
                _ => None,
            },
        }
    }

    /// Writes and syncs everything appended, then stops the threads. Later
    /// appends fail with `Closed`; tickets not yet complete fail with the
    /// log's error (or `Closed`). Returns the log's error if it is
    /// poisoned. Calling it again returns the same outcome. Also done by
    /// `Drop`, which ignores the outcome.
    pub fn close(&self) -> Result<(), StorageError> {
        {
            let mut st = self.shared.st.lock();
            st.closing = true;
            st.sync_target = st.sync_target.max(st.last_lsn());
            self.shared.closing.store(true, Ordering::SeqCst);
            self.shared.work.notify_all();
            self.shared.progress.notify_all();
            self.shared.spare_cv.notify_all();
        }
        {
            // Held while joining, so a concurrent `close` returns only after
            // the threads have stopped.
            let mut threads = self.threads.lock();
            for h in threads.drain(..) {
                // The threads catch their own panics (they poison the log).
                let _ = h.join();
            }
        }
        let (result, tickets, spare) = {
            let mut st = self.shared.st.lock();
            let result = match &st.poisoned {
                Some(e) => Err(e.clone()),
                None if st.durable_lsn < st.last_lsn() => Err(StorageError::Io(
                    "internal error (a bug): the log writer stopped before syncing every record".to_string(),
                )),
                None => Ok(()),
            };
            let tickets = st.take_all_tickets();
            let spare = matches!(st.spare, Spare::Ready(_));
            if spare {
                st.spare = Spare::Absent;
            }
            (result, tickets, spare)
        };
        let err = result.clone().err().unwrap_or(StorageError::Closed);
        for t in tickets {
            t.complete(Err(err.clone()));
        }
        if spare && result.is_ok() {
            // Tidiness only: open deletes a leftover spare anyway.
            let _ = self.shared.vfs.remove_file(&self.shared.dir.join(format::SPARE_NAME));
        }
        result
    }

    /// Holds the writer back (tests use it to shape blocks): while held it
    /// takes no records, though close still flushes everything.
    #[cfg(test)]
    pub(crate) fn hold_writer(&self, held: bool) {
        self.shared.st.lock().held = held;
        self.shared.work.notify_all();
    }

    /// Stops the log as a killed process stops: no flush, no sync; what was
    /// written stays in the (simulated) OS cache, unsynced.
    #[cfg(test)]
    pub(crate) fn kill(&self) {
        self.shared.poison(StorageError::Closed);
        for h in std::mem::take(&mut *self.threads.lock()) {
            let _ = h.join();
        }
    }

    /// Waits until the writer has nothing left to do (no records or
    /// rotations waiting, no round under way).
    #[cfg(test)]
    pub(crate) fn wait_idle(&self) {
        let mut st = self.shared.st.lock();
        while (st.busy || !st.slots.is_empty() || !st.rotations.is_empty()) && st.poisoned.is_none() && !st.writer_done
        {
            self.shared.progress.wait(&mut st);
        }
    }

    /// Waits until the spare thread has finished preparing (or failed).
    #[cfg(test)]
    pub(crate) fn wait_spare_settled(&self) {
        let mut st = self.shared.st.lock();
        while matches!(st.spare, Spare::Absent | Spare::Preparing) && st.poisoned.is_none() && !st.closing {
            self.shared.progress.wait(&mut st);
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
