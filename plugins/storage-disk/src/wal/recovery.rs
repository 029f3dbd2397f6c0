//! Opening the log: replaying it and judging its tail
//! (`docs/format/disk.md`, section 6, steps 3–5).
//!
//! Invariants:
//! 1. A record is applied only if its whole block checks (magic, CRC, the
//!    expected first LSN) and every block before it did; records are applied
//!    in LSN order, each once, and only those above `after`.
//! 2. Damaged bytes are called a torn tail (and zeroed) only when nothing
//!    written later vouches for them: no later block of the segment says
//!    they had been synced (its synced-through LSN is below the expected
//!    LSN), and no later segment holds a valid header or any data (D4: a
//!    segment is synced completely before the next one's header is
//!    written). Anything else is a `Corrupt` error naming the file and byte
//!    offset; nothing is repaired silently.
//! 3. Every segment read is synced before the log accepts new writes, so a
//!    tail that a killed process left only in the OS cache cannot vanish
//!    later, under records written after it.
//!
//! Each branch of [`recover`] names the crash (or the damage) it handles.
//! This module does not start threads or prepare new segments; the caller
//! does that with what [`Recovered`] reports.

use std::path::Path;
use std::sync::Arc;

use mizzle_plugin_api::storage::StorageError;

use super::format::{
    decode_block, decode_segment_header, parse_segment_name, segment_name, split_records, BlockAt, HeaderCheck,
    SegmentHeader, BLOCK_ALIGN, BLOCK_MAGIC, SEGMENT_HEADER_LEN, SPARE_NAME,
};
use super::ReplayFn;
use crate::ids::Lsn;
use crate::ioerr::{storage_error, Op};
use crate::vfs::{read_full_at, OpenMode, Vfs, VfsFile};

/// Bytes written per call when zeroing a torn tail.
const ZERO_CHUNK: usize = 1 << 20;

/// One segment file of the log, as the log keeps track of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    /// The segment's number.
    pub number: u64,
    /// LSN of its first record (`None`: a segment before the needed range
    /// whose header did not check; it is never read again).
    pub first_lsn: Option<u64>,
    /// The file's length.
    pub bytes: u64,
}

/// What recovery found and left.
pub(crate) struct Recovered {
    /// Every segment file left in the directory, by number.
    pub segments: Vec<SegmentInfo>,
    /// The last segment, if it holds no block (its header is valid): new
    /// records can go there without touching any written byte.
    pub reusable: Option<(Arc<dyn VfsFile>, SegmentHeader)>,
    /// The last LSN of the log: the last record recovered, or `after` if
    /// that is higher (the checkpoint covers records the log no longer has).
    pub last_lsn: u64,
    /// The number the next new segment gets.
    pub next_number: u64,
    /// Records passed to `apply`.
    pub applied: u64,
}

struct Seg {
    number: u64,
    path: String,
    file: Arc<dyn VfsFile>,
    header: HeaderCheck,
}

fn corrupt(path: &str, offset: usize, why: &str) -> StorageError {
    StorageError::Corrupt(format!("log segment '{path}' at byte offset {offset}: {why}"))
}

fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

fn read_all(file: &dyn VfsFile, path: &str) -> Result<Vec<u8>, StorageError> {
    let len = file.len().map_err(|e| storage_error(&e, Op::Read, path))?;
    // Needs the file's own length, never a length field, to size the buffer.
    let len = usize::try_from(len)
        .map_err(|_| StorageError::ReadFailed(format!("'{path}' ({len} bytes) does not fit in memory")))?;
    let mut buf = vec![0u8; len];
    let n = read_full_at(file, &mut buf, 0).map_err(|e| storage_error(&e, Op::Read, path))?;
    buf.truncate(n);
    Ok(buf)
}

/// Whether a segment is one that was being begun when the system crashed:
/// its header never became durable (invalid) and it holds nothing else.
fn is_unused(seg: &Seg) -> Result<bool, StorageError> {
    if seg.header != HeaderCheck::Invalid {
        return Ok(false);
    }
    let data = read_all(seg.file.as_ref(), &seg.path)?;
    Ok(all_zero(data.get(SEGMENT_HEADER_LEN..).unwrap_or(&[])))
}

/// Replays the log in `dir`: applies every record with an LSN above
/// `after`, in order, and repairs a torn tail (see the module invariants).
pub(crate) fn recover(
    vfs: &dyn Vfs,
    dir: &Path,
    after: u64,
    apply: &mut ReplayFn<'_>,
) -> Result<Recovered, StorageError> {
    let dir_name = dir.display().to_string();
    vfs.create_dir_all(dir).map_err(|e| storage_error(&e, Op::Create, &dir_name))?;
    let names = vfs.list_dir(dir).map_err(|e| storage_error(&e, Op::Read, &dir_name))?;
    let mut dir_dirty = false;
    if names.iter().any(|n| n == SPARE_NAME) {
        // A spare being prepared (or ready) when the process stopped.
        let p = dir.join(SPARE_NAME);
        vfs.remove_file(&p).map_err(|e| storage_error(&e, Op::Create, &p.display().to_string()))?;
        dir_dirty = true;
    }
    let mut numbers: Vec<u64> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    numbers.sort_unstable();

    let mut segs = Vec::with_capacity(numbers.len());
    for number in numbers {
        let path = dir.join(segment_name(number)).display().to_string();
        let file = vfs.open(Path::new(&path), OpenMode::Existing).map_err(|e| storage_error(&e, Op::Open, &path))?;
        let mut head = [0u8; SEGMENT_HEADER_LEN];
        let n = read_full_at(file.as_ref(), &mut head, 0).map_err(|e| storage_error(&e, Op::Read, &path))?;
        let header = decode_segment_header(head.get(..n).unwrap_or(&[]), number);
        segs.push(Seg { number, path, file, header });
    }

    let valid_first = |s: &Seg| match s.header {
        HeaderCheck::Valid(h) => Some(h.first_lsn),
        _ => None,
    };
    let need =
        after.checked_add(1).ok_or_else(|| StorageError::Corrupt(format!("checkpoint LSN {after} is out of range")))?;
    if segs.is_empty() {
        if after == 0 {
            // A new log (or one whose first segment was never begun).
            return Ok(Recovered { segments: Vec::new(), reusable: None, last_lsn: 0, next_number: 1, applied: 0 });
        }
        return Err(StorageError::Corrupt(format!(
            "the log in '{dir_name}' has no segment, but records from LSN {need} on are needed"
        )));
    }
    // The needed range starts in the last segment beginning at or before
    // `need`; earlier segments hold only records the checkpoint covers.
    let start = match segs.iter().rposition(|s| valid_first(s).is_some_and(|f| f <= need)) {
        Some(i) => i,
        // No header checks: only possible for a log whose first segment was
        // being begun at the crash (it is judged below like any other).
        None if after == 0 && segs.iter().all(|s| valid_first(s).is_none()) => 0,
        None => {
            let why = match segs.iter().position(|s| valid_first(s).is_some()) {
                Some(i) if i > 0 => format!(
                    "no log segment holds LSN {need}: the header of '{}' is damaged (byte offset 0)",
                    segs[i - 1].path
                ),
                Some(i) => format!(
                    "no log segment holds LSN {need}: the oldest, '{}', begins at LSN {}",
                    segs[i].path,
                    valid_first(&segs[i]).unwrap_or(0)
                ),
                None => {
                    format!("no log segment in '{dir_name}' has a valid header; records from LSN {need} on are needed")
                }
            };
            return Err(StorageError::Corrupt(why));
        }
    };

    let mut expected = valid_first(&segs[start]).unwrap_or(need);
    let mut applied = 0u64;
    let mut read: Vec<(Arc<dyn VfsFile>, String)> = Vec::new();
    let mut keep = segs.len();
    let mut last_empty: Option<SegmentHeader> = None;
    let mut lengths = vec![None; segs.len()];
    let mut idx = start;
    'segments: while idx < segs.len() {
        let seg = &segs[idx];
        if idx > start {
            let prev = segs[idx - 1].number;
            if seg.number != prev.saturating_add(1) {
                let missing = dir.join(segment_name(prev.saturating_add(1))).display().to_string();
                return Err(StorageError::Corrupt(format!(
                    "log segment '{missing}' is missing (segment {prev} is followed by segment {})",
                    seg.number
                )));
            }
        }
        let header = match seg.header {
            HeaderCheck::Valid(h) => h,
            HeaderCheck::Invalid => {
                // Crash while a new segment was being begun (renamed into
                // place, header not yet durable): its body is zeros, and no
                // later segment can have been begun. Anything else means a
                // durable header was damaged. Needs the writer's order:
                // header synced before the first block.
                let rest_unused = segs[idx..].iter().map(is_unused).collect::<Result<Vec<_>, _>>()?;
                if rest_unused.iter().all(|&u| u) {
                    for s in &segs[idx..] {
                        vfs.remove_file(Path::new(&s.path)).map_err(|e| storage_error(&e, Op::Create, &s.path))?;
                    }
                    dir_dirty = true;
                    keep = idx;
                    break 'segments;
                }
                return Err(corrupt(
                    &seg.path,
                    0,
                    "the segment header is damaged, but the segment holds data or later segments follow it",
                ));
            }
            HeaderCheck::WrongVersion(v) => {
                return Err(StorageError::Foreign(format!(
                    "'{}' is a log segment of format version {v}; this build reads version 1",
                    seg.path
                )))
            }
            HeaderCheck::WrongNumber(n) => {
                return Err(corrupt(&seg.path, 0, &format!("the header names segment {n}, not the file's number")))
            }
        };
        if idx > start && header.first_lsn != expected {
            // A gap is harmless only if the checkpoint covers it (the log
            // ended before the checkpoint LSN when it was last opened).
            if header.first_lsn > expected && header.first_lsn - 1 <= after {
                expected = header.first_lsn;
            } else {
                return Err(corrupt(
                    &seg.path,
                    0,
                    &format!(
                        "the segment begins at LSN {}, but the log before it ends at LSN {}",
                        header.first_lsn,
                        expected.saturating_sub(1)
                    ),
                ));
            }
        }
        let data = read_all(seg.file.as_ref(), &seg.path)?;
        lengths[idx] = Some(data.len() as u64);
        read.push((seg.file.clone(), seg.path.clone()));
        let mut pos = SEGMENT_HEADER_LEN;
        let mut blocks = 0u64;
        // The loop ends at the end of the file, after the last block.
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            match decode_block(seg.number, rest) {
                BlockAt::Zeros if all_zero(rest) => break, // The end of the log (M3).
                BlockAt::Valid(b) if b.first_lsn == expected => {
                    let records = split_records(b.payload, b.count).ok_or_else(|| {
                        corrupt(&seg.path, pos, "a block whose checksum holds has malformed record lengths")
                    })?;
                    for (lsn, record) in (expected..).zip(records) {
                        if lsn > after {
                            apply(Lsn(lsn), record)?;
                            applied += 1;
                        }
                    }
                    expected = expected
                        .checked_add(u64::from(b.count))
                        .ok_or_else(|| corrupt(&seg.path, pos, "the block's LSNs overflow"))?;
                    pos = pos.saturating_add(b.span);
                    blocks += 1;
                }
                _ => {
                    // Neither a block in sequence nor the zeros after the
                    // last one: a torn write, unless something later
                    // vouches that these bytes had been durable.
                    judge_damage(&segs, idx, &data, pos, expected)?;
                    // Torn tail (M2): zero it and make that durable before
                    // anything new is written.
                    let end = data.iter().rposition(|&b| b != 0).map_or(pos, |i| i + 1);
                    zero_range(seg.file.as_ref(), &seg.path, pos, end)?;
                    seg.file.sync_data().map_err(|e| storage_error(&e, Op::Sync, &seg.path))?;
                    // judge_damage found only unused segments after this one.
                    for s in &segs[idx + 1..] {
                        vfs.remove_file(Path::new(&s.path)).map_err(|e| storage_error(&e, Op::Create, &s.path))?;
                        dir_dirty = true;
                    }
                    keep = idx + 1;
                    last_empty = (blocks == 0).then_some(header);
                    break 'segments;
                }
            }
        }
        last_empty = (blocks == 0).then_some(header);
        idx += 1;
    }

    // Needs invariant 3: a killed process may have left the tail in the OS
    // cache only.
    for (file, path) in &read {
        file.sync_data().map_err(|e| storage_error(&e, Op::Sync, path))?;
    }
    if dir_dirty {
        vfs.sync_dir(dir).map_err(|e| storage_error(&e, Op::Sync, &dir_name))?;
    }

    let next_number = match segs.get(keep) {
        Some(removed) => removed.number,
        None => segs.last().map_or(1, |s| s.number.saturating_add(1)),
    };
    let mut segments = Vec::with_capacity(keep);
    for (i, s) in segs.iter().enumerate().take(keep) {
        let bytes = match lengths[i] {
            Some(n) => n,
            None => s.file.len().map_err(|e| storage_error(&e, Op::Read, &s.path))?,
        };
        segments.push(SegmentInfo { number: s.number, first_lsn: valid_first(s), bytes });
    }
    let reusable = match (keep.checked_sub(1).and_then(|i| segs.get(i)), last_empty) {
        (Some(s), Some(h)) if keep > start => Some((s.file.clone(), h)),
        _ => None,
    };
    Ok(Recovered { segments, reusable, last_lsn: expected.saturating_sub(1).max(after), next_number, applied })
}

/// Decides whether damaged bytes at `pos` of segment `segs[idx]` had been
/// durable (an error) or are a torn write (`Ok`). `expected` is the LSN the
/// damaged block should have begun with.
fn judge_damage(segs: &[Seg], idx: usize, data: &[u8], pos: usize, expected: u64) -> Result<(), StorageError> {
    let seg = &segs[idx];
    let mut q = pos + BLOCK_ALIGN;
    while let Some(rest) = data.get(q..).filter(|r| r.len() > BLOCK_MAGIC.len()) {
        if rest.starts_with(&BLOCK_MAGIC) {
            if let BlockAt::Valid(b) = decode_block(seg.number, rest) {
                // Step 4: a later block written after record `expected` was
                // synced (M1) proves the damaged bytes had been durable.
                if b.synced_through >= expected {
                    return Err(corrupt(
                        &seg.path,
                        pos,
                        &format!(
                            "the block holding LSN {expected} is damaged, and the block at byte offset {q} \
                             records that LSNs up to {} had been synced",
                            b.synced_through
                        ),
                    ));
                }
            }
        }
        q += BLOCK_ALIGN;
    }
    for later in &segs[idx + 1..] {
        // D4: a later segment was begun only after this one was synced
        // completely, so nothing in this one can be a torn write.
        if !is_unused(later)? {
            return Err(corrupt(
                &seg.path,
                pos,
                &format!(
                    "the bytes here are damaged, and '{}' follows; a segment is synced completely before the next \
                     is begun, so they had been durable",
                    later.path
                ),
            ));
        }
    }
    Ok(())
}

fn zero_range(file: &dyn VfsFile, path: &str, from: usize, to: usize) -> Result<(), StorageError> {
    let zeros = vec![0u8; ZERO_CHUNK.min(to.saturating_sub(from))];
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZERO_CHUNK);
        file.write_all_at(&zeros[..n], at as u64)
            .map_err(|e| storage_error(&e, Op::Write, &format!("{path} byte {at}")))?;
        at += n;
    }
    Ok(())
}
