//! The storage-engine API: an ordered key -> value store with atomic write
//! batches, batched range scans and durability tickets.
//!
//! Engines know nothing of SQL, rows or transactions: MVCC lives above, in
//! `mizzle-txn`, and encodes versions in the keys. Invariants every engine
//! must keep (the shared conformance suite in `conformance` checks them):
//! 1. Keys are compared as byte strings; scans return keys in ascending order.
//! 2. A [`WriteBatch`] is atomic with respect to crashes: after recovery
//!    either all of it or none of it is present. Concurrent readers may see a
//!    batch partly applied; the MVCC layer never depends on the opposite.
//! 3. Once [`StorageEngine::write`]'s ticket completes with `Ok`, the batch
//!    survives a crash (for engines that persist at all).
//! 4. A cursor sees every key that was present for its whole lifetime and
//!    none that was absent for its whole lifetime.
//! 5. No method panics on any input; failures are [`StorageError`]s.

use std::ops::Bound;
use std::sync::Arc;

use mizzle_types::{ErrorCode, SqlError};

use crate::durability::DurableTicket;

/// Errors from storage engines.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// An I/O call failed.
    #[error("storage I/O error: {0}")]
    Io(String),
    /// Stored bytes failed a check.
    #[error("storage corruption: {0}")]
    Corrupt(String),
    /// The engine has been shut down.
    #[error("storage engine is closed")]
    Closed,
    /// A configured limit (memory, disk) was reached.
    #[error("storage limit reached: {0}")]
    Full(String),
    /// The operation is not available in this engine or build.
    #[error("{0}")]
    Unsupported(String),
    /// The device (or a configured limit) has no space left.
    #[error("Disk full ({0})")]
    DiskFull(String),
    /// A file or directory could not be created (read-only, permissions).
    #[error("Can't create file {0}")]
    CantCreate(String),
    /// The database is in use by another process.
    #[error("Can't lock file {0}")]
    Locked(String),
    /// A file is not one of this engine's files, or has a format version
    /// this build does not read.
    #[error("Incorrect information in file: {0}")]
    Foreign(String),
    /// A read failed.
    #[error("Error reading file {0}")]
    ReadFailed(String),
    /// A key longer than the engine stores (the message says the limit).
    #[error("{0}")]
    KeyTooLong(String),
}

impl SqlError for StorageError {
    fn code(&self) -> ErrorCode {
        match self {
            StorageError::Io(_) => ErrorCode::Io,
            StorageError::Corrupt(_) => ErrorCode::Corrupted,
            StorageError::Closed => ErrorCode::Io,
            StorageError::Full(_) => ErrorCode::OutOfResources,
            StorageError::Unsupported(_) => ErrorCode::FeatureUnavailable,
            StorageError::DiskFull(_) => ErrorCode::DiskFull,
            StorageError::CantCreate(_) => ErrorCode::CantCreateFile,
            StorageError::Locked(_) => ErrorCode::CantLock,
            StorageError::Foreign(_) => ErrorCode::NotOurFile,
            StorageError::ReadFailed(_) => ErrorCode::ReadFailed,
            StorageError::KeyTooLong(_) => ErrorCode::KeyTooLong,
        }
    }
}

/// One mutation in a write batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Insert or overwrite `key`.
    Put { key: Vec<u8>, value: Vec<u8> },
    /// Remove `key` if present.
    Delete { key: Vec<u8> },
    /// Remove every key in `[start, end)`.
    DeleteRange { start: Vec<u8>, end: Vec<u8> },
}

/// An ordered list of mutations applied atomically.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    ops: Vec<Mutation>,
    bytes: usize,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Adds a put.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.bytes += key.len() + value.len();
        self.ops.push(Mutation::Put { key, value });
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.bytes += key.len();
        self.ops.push(Mutation::Delete { key });
    }

    /// Adds a range delete of `[start, end)`.
    pub fn delete_range(&mut self, start: Vec<u8>, end: Vec<u8>) {
        self.bytes += start.len() + end.len();
        self.ops.push(Mutation::DeleteRange { start, end });
    }

    /// The mutations in order.
    pub fn ops(&self) -> &[Mutation] {
        &self.ops
    }

    /// The mutations in order, by value.
    pub fn into_ops(self) -> Vec<Mutation> {
        self.ops
    }

    /// True when the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Approximate payload size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.bytes
    }

    /// Removes every mutation, keeping the allocation.
    pub fn clear(&mut self) {
        self.ops.clear();
        self.bytes = 0;
    }
}

/// Whether a write must be durable before its ticket completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The ticket may complete before the data reaches stable storage.
    Relaxed,
    /// The ticket completes once the batch is as durable as the engine's
    /// configured [`SyncMode`] asks (a commit).
    Sync,
    /// The ticket completes once the batch is as durable as this mode
    /// asks, whatever the engine's configuration (a commit under a
    /// session's own setting).
    As(SyncMode),
}

/// A batch of key/value pairs in two flat buffers: no allocation per pair.
#[derive(Debug, Default, Clone)]
pub struct KvBatch {
    keys: Vec<u8>,
    key_ends: Vec<u32>,
    vals: Vec<u8>,
    val_ends: Vec<u32>,
}

impl KvBatch {
    /// An empty batch.
    pub fn new() -> KvBatch {
        KvBatch::default()
    }

    /// Bytes the batch's buffers hold allocated (for pools that keep
    /// batches for reuse).
    pub fn capacity_bytes(&self) -> usize {
        self.keys.capacity() + self.vals.capacity() + 4 * (self.key_ends.capacity() + self.val_ends.capacity())
    }

    /// Removes every pair, keeping the buffers.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.key_ends.clear();
        self.vals.clear();
        self.val_ends.clear();
    }

    /// Appends a pair.
    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len() as u32);
        self.vals.extend_from_slice(value);
        self.val_ends.push(self.vals.len() as u32);
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.key_ends.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.key_ends.is_empty()
    }

    /// Bytes held (keys and values).
    pub fn byte_len(&self) -> usize {
        self.keys.len() + self.vals.len()
    }

    /// The `i`-th key; empty if `i` is out of range.
    pub fn key(&self, i: usize) -> &[u8] {
        slice_at(&self.keys, &self.key_ends, i)
    }

    /// The `i`-th value; empty if `i` is out of range.
    pub fn value(&self, i: usize) -> &[u8] {
        slice_at(&self.vals, &self.val_ends, i)
    }

    /// Iterates over the pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        (0..self.len()).map(move |i| (self.key(i), self.value(i)))
    }
}

fn slice_at<'a>(buf: &'a [u8], ends: &[u32], i: usize) -> &'a [u8] {
    let Some(&end) = ends.get(i) else { return &[] };
    let start = if i == 0 { 0 } else { ends.get(i - 1).copied().unwrap_or(0) };
    buf.get(start as usize..end as usize).unwrap_or(&[])
}

/// A key range for scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// Lower bound.
    pub start: Bound<Vec<u8>>,
    /// Upper bound.
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key.
    pub fn all() -> KeyRange {
        KeyRange { start: Bound::Unbounded, end: Bound::Unbounded }
    }

    /// `[start, end)`.
    pub fn half_open(start: Vec<u8>, end: Vec<u8>) -> KeyRange {
        KeyRange { start: Bound::Included(start), end: Bound::Excluded(end) }
    }

    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> KeyRange {
        let end = match mizzle_types::key::prefix_successor(prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        KeyRange { start: Bound::Included(prefix.to_vec()), end }
    }

    /// Every key that starts with `prefix` (taking the buffer).
    pub fn prefix_owned(prefix: Vec<u8>) -> KeyRange {
        let end = match mizzle_types::key::prefix_successor(&prefix) {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        KeyRange { start: Bound::Included(prefix), end }
    }

    /// Calls `f` with the bounds of every key that starts with `prefix`
    /// (`[prefix, successor)`), borrowed: a short prefix's successor is
    /// built on the stack, so a point read allocates nothing for its range.
    pub fn with_prefix_bounds<R>(prefix: &[u8], f: impl FnOnce(Bound<&[u8]>, Bound<&[u8]>) -> R) -> R {
        const ON_STACK: usize = 64;
        let end = prefix.iter().rposition(|&b| b != 0xFF);
        let Some(last) = end else { return f(Bound::Included(prefix), Bound::Unbounded) };
        if last < ON_STACK {
            let mut buf = [0u8; ON_STACK];
            let succ = &mut buf[..=last];
            succ.copy_from_slice(&prefix[..=last]);
            succ[last] += 1;
            return f(Bound::Included(prefix), Bound::Excluded(succ));
        }
        let succ = mizzle_types::key::prefix_successor(prefix);
        f(Bound::Included(prefix), succ.as_deref().map_or(Bound::Unbounded, Bound::Excluded))
    }

    /// True if `key` is inside the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        let lo = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let hi = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        lo && hi
    }
}

/// An ascending cursor over a key range, read in batches.
pub trait Cursor: Send {
    /// Clears `out` and fills it with the next pairs (at most about
    /// `max_pairs`); returns `false` once the range is exhausted and `out` is empty.
    fn next_batch(&mut self, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError>;

    /// Moves forward so that the next batch starts at the first key `>= key`
    /// (never backward: a key before the current position is ignored).
    fn seek(&mut self, key: &[u8]);
}

/// Facts about an engine for `SHOW ENGINES`, limits and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// Engine name, e.g. `memory`.
    pub name: String,
    /// True if data survives a restart.
    pub persistent: bool,
}

/// An ordered key/value store. See the module documentation for the contract.
pub trait StorageEngine: Send + Sync {
    /// What this engine is.
    fn info(&self) -> EngineInfo;

    /// The value of `key`, if present.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// A cursor over `range` in ascending key order.
    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError>;

    /// A cursor over `range` in descending key order, if the engine has
    /// one; its `seek` is never called. `None` (the default): the caller
    /// reads the range ascending and reverses it itself.
    fn scan_rev(&self, range: KeyRange) -> Result<Option<Box<dyn Cursor>>, StorageError> {
        let _ = range;
        Ok(None)
    }

    /// [`StorageEngine::scan_first`] over every key that starts with
    /// `prefix` (the MVCC point read: the versions of one key). The default
    /// builds the range; engines that read from borrowed bounds override
    /// it with [`KeyRange::with_prefix_bounds`] and allocate nothing.
    fn scan_prefix_first(&self, prefix: &[u8], out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        self.scan_first(KeyRange::prefix(prefix), out, max_pairs)
    }

    /// Clears `out` and fills it with the first pairs of `range`, at least
    /// one (when the range has any) and at most `max_pairs`: a one-shot
    /// scan for point reads, which engines may serve without allocating a
    /// cursor. Returns `false` only if no pair of the range is left out;
    /// `true` means there may be more (callers then open a cursor).
    fn scan_first(&self, range: KeyRange, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        out.clear();
        let mut c = self.scan(range)?;
        let mut part = KvBatch::new();
        while out.len() < max_pairs.max(1) {
            if !c.next_batch(&mut part, max_pairs.max(1) - out.len())? {
                return Ok(false);
            }
            for (k, v) in part.iter() {
                out.push(k, v);
            }
        }
        Ok(true)
    }

    /// Applies `batch` atomically. The ticket completes when the batch is as
    /// durable as `durability` asks. The batch is handed over, so an engine
    /// may keep its key and value buffers instead of copying them.
    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<DurableTicket, StorageError>;

    /// Approximate bytes of keys and values stored, for limits and tests.
    fn approximate_size(&self) -> u64;

    /// Number of keys stored (may be approximate for large engines).
    fn approximate_keys(&self) -> u64;

    /// Waits while the engine's write buffers are over their limits (the
    /// log not yet written, changes not yet checkpointed). Callers that
    /// hold a lock across [`StorageEngine::write`] call this first, without
    /// the lock, so that `write` itself never waits for I/O. About `bytes`
    /// are about to be written.
    fn admit(&self, bytes: usize) -> Result<(), StorageError> {
        let _ = bytes;
        Ok(())
    }

    /// Moves every change written so far into the engine's data files and
    /// returns when that is durable (a checkpoint). Engines without a log
    /// do nothing.
    fn checkpoint(&self) -> Result<(), StorageError> {
        Ok(())
    }

    /// Facts for `SHOW STATUS` and tests, as name/value pairs (file sizes,
    /// cache hits, syncs). Empty by default.
    fn stats(&self) -> Vec<(String, u64)> {
        Vec::new()
    }
}

/// When a commit's durability ticket completes, for engines with a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// After the log records are on stable storage (`fdatasync`): a commit
    /// that returned survives a crash and a power loss.
    #[default]
    Full,
    /// After the log records are handed to the operating system (written,
    /// not synced): a commit survives a crash of the process, not a power
    /// loss. The log is still synced at checkpoints, so a power loss never
    /// corrupts; it may lose the newest commits.
    Normal,
    /// At once: the log is written in the background and synced only at
    /// checkpoints. A crash may lose the newest commits; it never corrupts.
    Off,
}

impl SyncMode {
    /// The name as settings spell it (`full`, `normal`, `off`).
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Full => "full",
            SyncMode::Normal => "normal",
            SyncMode::Off => "off",
        }
    }

    /// Parses a setting (case-insensitive); `None` for anything else.
    pub fn parse(s: &str) -> Option<SyncMode> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Some(SyncMode::Full),
            "normal" => Some(SyncMode::Normal),
            "off" => Some(SyncMode::Off),
            _ => None,
        }
    }
}

/// Settings handed to [`StorageEngineFactory::open`]. Engines ignore the
/// ones that do not apply to them (the memory engine ignores all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// When commits become durable.
    pub sync: SyncMode,
    /// Bytes of page cache the engine may keep.
    pub cache_bytes: u64,
    /// Create the database if `dir` holds none (otherwise opening an empty
    /// directory is an error).
    pub create: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { sync: SyncMode::Full, cache_bytes: 64 << 20, create: true }
    }
}

/// Creates engine instances; what a storage plugin registers.
pub trait StorageEngineFactory: Send + Sync {
    /// The engine's name as used in `ENGINE=` and `SHOW ENGINES`.
    fn name(&self) -> &str;

    /// One line describing the engine.
    fn description(&self) -> &str;

    /// True if the engine keeps data in a directory across restarts.
    fn persistent(&self) -> bool {
        false
    }

    /// Opens (or creates) an engine instance. `dir` is `None` for an
    /// in-memory database.
    fn open(&self, dir: Option<&std::path::Path>, opts: &EngineOptions)
        -> Result<Arc<dyn StorageEngine>, StorageError>;
}
