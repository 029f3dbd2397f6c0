//! The log's two background threads: the writer, which turns appended
//! records into blocks, writes them and syncs them (group commit), and the
//! spare thread, which prepares the next segment ahead of need.
//!
//! Invariants:
//! 1. One round of I/O runs at a time (`State::busy`), on the writer thread
//!    or on a committer flushing its own record ([`help`]); only that round
//!    writes to segments and moves the durable and written marks. The log's
//!    mutex is held only to swap work out and to publish progress, never
//!    across I/O. A round that fails poisons the log before it gives up
//!    `busy`, so no later round's sync can complete tickets that the
//!    failed sync may have lost.
//! 2. Blocks are written in LSN order; a block's synced-through LSN is the
//!    writer's durable mark when the block is sealed (D5, `disk.md` §4).
//! 3. D4: [`Writer::switch`] syncs the old segment before it begins the new
//!    one, and begins it in this order: zero-filled spare synced, renamed,
//!    directory synced, header written and synced.
//! 4. Only one thread prepares a spare at a time (the `Spare` states
//!    serialise it), so the writer never renames a file another thread is
//!    recreating.
//!
//! This module does not recover anything; see `recovery`.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{StorageError, SyncMode};

use super::format::{align_up, seal_block, segment_name, SegmentHeader, SEGMENT_HEADER_LEN, SPARE_NAME};
use super::recovery::SegmentInfo;
use super::{Opts, Shared, Slot, Spare};
use crate::ioerr::{storage_error, Op};
use crate::vfs::{OpenMode, Vfs, VfsFile};

/// Bytes written per call when zero-filling a spare segment.
const ZERO_CHUNK: u64 = 1 << 20;
/// Emptied slot buffers kept for reuse.
const FREE_BUFS: usize = 2;

/// The segment the writer appends blocks to.
pub(super) struct Current {
    pub number: u64,
    first_lsn: u64,
    file: Arc<dyn VfsFile>,
    path: String,
    /// Where the next block goes.
    pos: u64,
    /// The segment holds at least one block.
    has_blocks: bool,
    /// Blocks were written since the last sync.
    unsynced: bool,
}

fn seg_path(dir: &Path, number: u64) -> String {
    dir.join(segment_name(number)).display().to_string()
}

/// Creates `wal-spare.tmp` (replacing a leftover) zero-filled to `bytes`
/// and synced (M3: the bytes after the last block of a segment are then
/// zeros). Stops with `Closed` when `cancel` becomes true. On failure the
/// file is removed (best effort).
pub(super) fn prepare_spare(
    vfs: &dyn Vfs,
    dir: &Path,
    bytes: u64,
    cancel: Option<&AtomicBool>,
) -> Result<Arc<dyn VfsFile>, StorageError> {
    let path = dir.join(SPARE_NAME);
    let name = path.display().to_string();
    let made = (|| {
        if vfs.exists(&path).map_err(|e| storage_error(&e, Op::Read, &name))? {
            vfs.remove_file(&path).map_err(|e| storage_error(&e, Op::Create, &name))?;
        }
        let f = vfs.open(&path, OpenMode::CreateNew).map_err(|e| storage_error(&e, Op::Create, &name))?;
        let chunk = ZERO_CHUNK.min(bytes);
        let zeros = vec![0u8; usize::try_from(chunk).expect("invariant: a chunk is at most 1 MiB")];
        let mut at = 0u64;
        while at < bytes {
            if cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
                return Err(StorageError::Closed);
            }
            let n = chunk.min(bytes - at);
            let n = usize::try_from(n).expect("invariant: at most one chunk");
            f.write_all_at(&zeros[..n], at).map_err(|e| storage_error(&e, Op::Write, &name))?;
            at += n as u64;
        }
        f.sync_data().map_err(|e| storage_error(&e, Op::Sync, &name))?;
        Ok(f)
    })();
    if made.is_err() {
        let _ = vfs.remove_file(&path);
    }
    made
}

/// Begins the prepared spare as segment `number` (invariant 3): rename,
/// directory sync, header write and sync. Returns the segment's path.
fn activate(
    vfs: &dyn Vfs,
    dir: &Path,
    file: &dyn VfsFile,
    number: u64,
    first_lsn: u64,
) -> Result<String, StorageError> {
    let from = dir.join(SPARE_NAME);
    let path = seg_path(dir, number);
    vfs.rename(&from, Path::new(&path)).map_err(|e| storage_error(&e, Op::Create, &path))?;
    vfs.sync_dir(dir).map_err(|e| storage_error(&e, Op::Sync, &dir.display().to_string()))?;
    write_header(file, &path, number, first_lsn)?;
    Ok(path)
}

fn write_header(file: &dyn VfsFile, path: &str, number: u64, first_lsn: u64) -> Result<(), StorageError> {
    let header = SegmentHeader { number, first_lsn }.encode();
    file.write_all_at(&header, 0).map_err(|e| storage_error(&e, Op::Write, &format!("{path} byte 0")))?;
    file.sync_data().map_err(|e| storage_error(&e, Op::Sync, path))
}

/// The segment new records go to after open: the empty last segment
/// recovery found, or a new one numbered `number`.
pub(super) fn first_segment(
    vfs: &dyn Vfs,
    dir: &Path,
    opts: &Opts,
    reusable: Option<(Arc<dyn VfsFile>, SegmentHeader)>,
    number: u64,
    first_lsn: u64,
) -> Result<Current, StorageError> {
    let (number, file, path) = match reusable {
        Some((file, header)) => {
            let path = seg_path(dir, header.number);
            if header.first_lsn != first_lsn {
                write_header(file.as_ref(), &path, header.number, first_lsn)?;
            }
            (header.number, file, path)
        }
        None => {
            let file = prepare_spare(vfs, dir, opts.segment_bytes, None)?;
            let path = activate(vfs, dir, file.as_ref(), number, first_lsn)?;
            (number, file, path)
        }
    };
    Ok(Current { number, first_lsn, file, path, pos: SEGMENT_HEADER_LEN as u64, has_blocks: false, unsynced: false })
}

/// What one round of the writer does.
struct Round {
    slots: Vec<Slot>,
    rotations: VecDeque<u64>,
    sync: bool,
}

/// The state of the log's I/O: the segment being written and the marks
/// its writes and syncs reached. Kept in `Shared::io`; only the thread that
/// set `State::busy` (the writer thread, or a committer flushing its own
/// record: [`help`]) touches it, so its mutex is never contended.
pub(super) struct Io {
    cur: Current,
    /// The last LSN written (the I/O's own copy of the shared mark).
    written: u64,
    /// The last LSN made durable.
    durable: u64,
}

impl Io {
    pub(super) fn new(cur: Current, durable: u64) -> Io {
        Io { cur, written: durable, durable }
    }
}

/// How the writer paces syncs (the writer thread's own).
struct Writer<'a> {
    shared: &'a Shared,
    /// When the current wait for company before a sync began.
    waiting_since: Option<Instant>,
}

/// The longest the writer waits for a second commit before syncing.
const MAX_COMMIT_DELAY: Duration = Duration::from_micros(500);

/// The writer thread's body. Any error poisons the log; so does a panic
/// (a bug), so that no ticket waits forever.
pub(super) fn writer_main(shared: &Shared) {
    let run = catch_unwind(AssertUnwindSafe(|| Writer { shared, waiting_since: None }.run()));
    match run {
        Ok(Ok(())) => {}
        Ok(Err(e)) => shared.poison(e),
        Err(_) => shared.poison(StorageError::Io("internal error (a bug): the log writer thread panicked".to_string())),
    }
    let mut st = shared.st.lock();
    st.writer_done = true;
    shared.progress.notify_all();
}

fn complete(tickets: Vec<DurableTicket>) {
    for t in tickets {
        t.complete(Ok(()));
    }
}

/// Flushes record `lsn` on the calling thread (a committer about to wait
/// for its ticket): if no round is running, it runs one itself (write, and
/// sync for `Full`), saving the hand-off to the writer thread and back.
/// It leaves the work to the writer thread when a round is running (that
/// thread then groups this commit with others), when commits have been
/// overlapping (the writer's commit delay groups them better), and when
/// the log is held, closing or poisoned. Errors poison the log and reach
/// the ticket through it.
pub(super) fn help(shared: &Shared, lsn: u64, mode: SyncMode) {
    let round = {
        let mut st = shared.st.lock();
        let done = match mode {
            SyncMode::Full => st.durable_lsn >= lsn,
            SyncMode::Normal => st.written_lsn >= lsn,
            SyncMode::Off => true,
        };
        if done || st.busy || st.held || st.closing || st.poisoned.is_some() || st.overlap >= 2 {
            return;
        }
        st.busy = true;
        Round {
            slots: st.slots.drain(..).collect(),
            rotations: std::mem::take(&mut st.rotations),
            sync: mode == SyncMode::Full || st.sync_target > st.durable_lsn || !st.tickets.is_empty(),
        }
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut io = shared.io.lock();
        run_round(shared, &mut io, round)
    }));
    // A failed round poisons the log while this round still holds `busy`:
    // released first, the writer could start a round whose sync succeeds
    // after the failed one and complete the tickets Ok, though the failed
    // sync may have dropped their pages (invariant 1; the log test
    // `failed_sync_poisons_the_log_until_reopened` caught it once commits
    // stopped waking the writer).
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => shared.poison(e),
        Err(_) => shared.poison(StorageError::Io("internal error (a bug): a log flush panicked".to_string())),
    }
    let mut st = shared.st.lock();
    st.busy = false;
    // Wake the writer only if it waits for this flush or has work left:
    // waking an idle writer for nothing cost a thread wake-up per commit,
    // on the CPU the client needed next (sysbench `oltp_insert`, one
    // client, thread scheduler).
    if st.writer_waits_busy || st.has_work() {
        shared.work.notify_all();
    }
    shared.progress.notify_all();
}

impl Writer<'_> {
    fn run(&mut self) -> Result<(), StorageError> {
        while let Some(round) = self.next_round() {
            {
                let mut io = self.shared.io.lock();
                run_round(self.shared, &mut io, round)?;
            }
            let mut st = self.shared.st.lock();
            st.busy = false;
            self.shared.work.notify_all();
            self.shared.progress.notify_all();
        }
        Ok(())
    }

    /// Waits for work; `None` when the log is closing with nothing left to
    /// do, or poisoned.
    fn next_round(&mut self) -> Option<Round> {
        let sh = self.shared;
        let mut st = sh.st.lock();
        loop {
            if st.poisoned.is_some() {
                return None;
            }
            if st.busy {
                // A committer is flushing its own record; it wakes us.
                st.writer_waits_busy = true;
                sh.work.wait(&mut st);
                st.writer_waits_busy = false;
                st.writer_wakeups += 1;
                continue;
            }
            let held = st.held && !st.closing;
            let elapsed = st.last_sync.elapsed();
            let due = elapsed >= sh.opts.interval;
            let has_slots = !st.slots.is_empty();
            let unsynced = st.written_lsn > st.durable_lsn;
            // Work is driven by waiters: a commit's ticket (written or
            // durable), `sync_all`, a full block or a writer blocked on
            // room. Records nobody waits for (a transaction's provisional
            // versions) are written and synced on the interval, or with the
            // next commit: writing and syncing each as it comes would cost a
            // sync per record.
            let waiting_write = !st.written_tickets.is_empty() || !st.tickets.is_empty();
            let waiting_sync = !st.tickets.is_empty();
            let sync = st.sync_target > st.durable_lsn || waiting_sync || (due && (unsynced || has_slots));
            let write = has_slots
                && (waiting_write || sync || st.unwritten_bytes >= sh.opts.block_bytes || st.room_waiters > 0);
            // Commit delay (group commit for few committers): when commits
            // have been overlapping and only one waits now, wait a little
            // (up to half a sync) for a second one, so one sync serves both
            // instead of each paying its own. A lone committer (no overlap
            // seen) never waits.
            if !held && sync && st.sync_target <= st.durable_lsn && st.overlap >= 2 {
                let waiting: usize = st.tickets.values().map(Vec::len).sum();
                if waiting == 1 {
                    let since = *self.waiting_since.get_or_insert_with(Instant::now);
                    let delay = Duration::from_micros(st.sync_us / 2).min(MAX_COMMIT_DELAY);
                    let waited = since.elapsed();
                    if waited < delay {
                        sh.work.wait_for(&mut st, delay - waited);
                        st.writer_wakeups += 1;
                        continue;
                    }
                }
            }
            if !held && (write || sync || !st.rotations.is_empty()) {
                self.waiting_since = None;
                st.busy = true;
                return Some(Round {
                    slots: st.slots.drain(..).collect(),
                    rotations: std::mem::take(&mut st.rotations),
                    sync,
                });
            }
            if st.closing {
                return None;
            }
            if !held && (unsynced || has_slots) {
                let left = sh.opts.interval.saturating_sub(elapsed);
                sh.work.wait_for(&mut st, left);
            } else if held {
                sh.work.wait(&mut st);
            } else {
                // Idle: wake at least once an interval, so a record that a
                // quiet append left without waking the writer
                // (`Wal::append_quiet_with`) is written within it.
                sh.work.wait_for(&mut st, sh.opts.interval);
            }
            st.writer_wakeups += 1;
        }
    }
}

/// Runs one round: writes its slots (switching segments as needed), then
/// syncs if asked. The caller set `State::busy` and holds `Shared::io`.
fn run_round(shared: &Shared, io: &mut Io, round: Round) -> Result<(), StorageError> {
    let mut w = IoRun { shared, io };
    let mut rotations = round.rotations;
    for slot in round.slots {
        // Every record up to a rotation point is in an earlier slot
        // (`rotate_after` closes the slot it ends).
        while let Some(p) = rotations.front().copied().filter(|&p| p < slot.first_lsn) {
            rotations.pop_front();
            w.rotate(p)?;
        }
        w.write_slot(slot)?;
    }
    for p in rotations {
        w.rotate(p)?;
    }
    if round.sync && w.io.cur.unsynced {
        w.sync()?;
    }
    Ok(())
}

/// The I/O of one round.
struct IoRun<'a> {
    shared: &'a Shared,
    io: &'a mut Io,
}

impl IoRun<'_> {
    /// Records above `p` go to a new segment if this one holds any up to it.
    fn rotate(&mut self, p: u64) -> Result<(), StorageError> {
        if self.io.cur.has_blocks && self.io.cur.first_lsn <= p {
            self.switch()?;
        }
        Ok(())
    }

    fn write_slot(&mut self, mut slot: Slot) -> Result<(), StorageError> {
        let appended = slot.payload_len();
        let span = align_up(slot.buf.len());
        if self.io.cur.has_blocks && self.io.cur.pos + span as u64 > self.shared.opts.segment_bytes {
            self.switch()?;
        }
        seal_block(&mut slot.buf, self.io.cur.number, slot.first_lsn, slot.count, self.io.durable);
        slot.buf.resize(span, 0);
        let pos = self.io.cur.pos;
        self.io
            .cur
            .file
            .write_all_at(&slot.buf, pos)
            .map_err(|e| storage_error(&e, Op::Write, &format!("{} byte {pos}", self.io.cur.path)))?;
        self.io.cur.pos += span as u64;
        self.io.cur.has_blocks = true;
        self.io.cur.unsynced = true;
        self.io.written = slot.last_lsn();
        let sh = self.shared;
        let tickets = {
            let mut st = sh.st.lock();
            st.written_lsn = self.io.written;
            st.unwritten_bytes = st.unwritten_bytes.saturating_sub(appended);
            st.blocks_written += 1;
            st.bytes_written += span as u64;
            if let Some(s) = st.segments.last_mut() {
                s.bytes = s.bytes.max(self.io.cur.pos);
            }
            if st.free_bufs.len() < FREE_BUFS && slot.buf.capacity() <= 2 * sh.opts.block_bytes.max(1 << 16) {
                slot.buf.clear();
                st.free_bufs.push(slot.buf);
            }
            sh.progress.notify_all();
            st.settle()
        };
        complete(tickets);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        let started = Instant::now();
        self.io.cur.file.sync_data().map_err(|e| storage_error(&e, Op::Sync, &self.io.cur.path))?;
        self.io.cur.unsynced = false;
        self.io.durable = self.io.written;
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let sh = self.shared;
        let tickets = {
            let mut st = sh.st.lock();
            st.last_sync = Instant::now();
            st.sync_us = if st.sync_us == 0 { took } else { (st.sync_us * 7 + took) / 8 };
            st.durable_lsn = self.io.durable;
            st.syncs += 1;
            sh.progress.notify_all();
            // A durable ticket beyond what this sync covered arrived while
            // it ran: commits overlap.
            let arrived = st.tickets.last_key_value().is_some_and(|(&lsn, _)| lsn > self.io.durable);
            st.overlap = if arrived { (st.overlap + 1).min(8) } else { st.overlap.saturating_sub(1) };
            st.settle()
        };
        complete(tickets);
        Ok(())
    }

    /// Moves to the next segment (invariant 3).
    fn switch(&mut self) -> Result<(), StorageError> {
        if self.io.cur.unsynced {
            self.sync()?; // Needs D4.
        }
        let sh = self.shared;
        let file = self.take_spare()?;
        let number = self.io.cur.number + 1;
        let first_lsn = self.io.written + 1;
        let path = activate(sh.vfs.as_ref(), &sh.dir, file.as_ref(), number, first_lsn)?;
        {
            let mut st = sh.st.lock();
            st.spare = Spare::Absent;
            st.segments.push(SegmentInfo { number, first_lsn: Some(first_lsn), bytes: sh.opts.segment_bytes });
            sh.spare_cv.notify_all();
        }
        self.io.cur = Current {
            number,
            first_lsn,
            file,
            path,
            pos: SEGMENT_HEADER_LEN as u64,
            has_blocks: false,
            unsynced: false,
        };
        Ok(())
    }

    /// The prepared spare, waiting for the spare thread if it is at work,
    /// or prepared here if it is absent or its preparation failed (a second
    /// failure, e.g. the disk still full, then poisons the log). Leaves the
    /// state `Taken` until the switch completes.
    fn take_spare(&self) -> Result<Arc<dyn VfsFile>, StorageError> {
        let sh = self.shared;
        let mut st = sh.st.lock();
        loop {
            match std::mem::replace(&mut st.spare, Spare::Taken) {
                Spare::Ready(f) => return Ok(f),
                Spare::Preparing => {
                    st.spare = Spare::Preparing;
                    sh.progress.wait(&mut st);
                }
                Spare::Absent | Spare::Failed(_) | Spare::Taken => {
                    drop(st);
                    return prepare_spare(sh.vfs.as_ref(), &sh.dir, sh.opts.segment_bytes, None);
                }
            }
        }
    }
}

/// The spare thread's body: prepares a spare whenever there is none.
pub(super) fn spare_main(shared: &Shared) {
    if catch_unwind(AssertUnwindSafe(|| spare_loop(shared))).is_err() {
        let mut st = shared.st.lock();
        st.spare =
            Spare::Failed(StorageError::Io("internal error (a bug): the log's spare thread panicked".to_string()));
        shared.progress.notify_all();
    }
}

fn spare_loop(sh: &Shared) {
    loop {
        {
            let mut st = sh.st.lock();
            loop {
                if st.closing || st.poisoned.is_some() {
                    return;
                }
                if matches!(st.spare, Spare::Absent) {
                    break;
                }
                sh.spare_cv.wait(&mut st);
            }
            st.spare = Spare::Preparing;
        }
        let made = prepare_spare(sh.vfs.as_ref(), &sh.dir, sh.opts.segment_bytes, Some(&sh.closing));
        let mut st = sh.st.lock();
        st.spare = match made {
            Ok(f) => Spare::Ready(f),
            Err(StorageError::Closed) => Spare::Absent,
            // Kept until the writer needs a spare; it retries once then.
            Err(e) => Spare::Failed(e),
        };
        sh.progress.notify_all();
    }
}
