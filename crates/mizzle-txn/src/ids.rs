//! Identifier newtypes of the transaction layer.
//!
//! Invariants:
//! 1. [`TxnId`]s and [`Ts`]s are drawn from one monotonic clock per
//!    database, so any two are distinct and ordered by when they were drawn.
//! 2. `TxnId(0)` and `Ts(0)` are never drawn: `TxnId(0)` means "no
//!    transaction" (or one that has not drawn its id yet) and `Ts(0)` is
//!    before everything.
//! 3. [`next_serial`] never returns the same number twice in a process:
//!    each thread numbers from a block of 2^32 that it alone was given.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// A transaction's identity, drawn from the clock when it begins or, if
/// deferred, when it first writes or waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnId(pub u64);

/// Blocks of serial numbers handed out so far (block 0 is never used).
static SERIAL_BLOCKS: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static NEXT_SERIAL: Cell<u64> = const { Cell::new(0) };
}

/// A number unique in the process (invariant 3) drawn from the calling
/// thread's own block: no shared cache line is written except once per
/// 2^32 numbers (and once per thread).
pub(crate) fn next_serial() -> u64 {
    NEXT_SERIAL.with(|next| {
        let mut n = next.get();
        if n & 0xFFFF_FFFF == 0 {
            // The thread's first number, or its block is used up.
            n = SERIAL_BLOCKS.fetch_add(1, Ordering::Relaxed) << 32 | 1;
        }
        next.set(n + 1);
        n
    })
}

/// A point on the database clock: a snapshot, a commit time or a write
/// sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub u64);

/// A key space: one table's rows, one index, or the dictionary. Chosen by
/// the layer above; the transaction layer only keeps spaces apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpaceId(pub u32);

/// Isolation levels, as MySQL names them (`READ UNCOMMITTED` runs as
/// `READ COMMITTED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IsolationLevel {
    /// Each statement reads a fresh snapshot.
    ReadCommitted,
    /// Snapshot isolation: one snapshot for the whole transaction, first
    /// committer wins.
    RepeatableRead,
    /// Snapshot isolation plus commit-time validation of everything read.
    Serializable,
}

impl IsolationLevel {
    /// The name as `@@transaction_isolation` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            IsolationLevel::ReadCommitted => "READ-COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE-READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}
