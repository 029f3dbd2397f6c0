//! Identifier newtypes of the transaction layer.
//!
//! Invariants:
//! 1. [`TxnId`]s and [`Ts`]s are drawn from one monotonic clock per
//!    database, so any two are distinct and ordered by when they were drawn.
//! 2. `TxnId(0)` and `Ts(0)` are never drawn: `TxnId(0)` means "no
//!    transaction" and `Ts(0)` is before everything.

/// A transaction's identity, drawn when it begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnId(pub u64);

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
