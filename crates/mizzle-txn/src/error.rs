//! Errors of the transaction layer.
//!
//! Invariants:
//! 1. Conflicts and deadlocks are 1213 / 40001 and the transaction that
//!    gets one has already been rolled back when the error is returned.
//! 2. `Blocked` and `LockNowait` end only the statement (already undone
//!    for `Blocked`); `Blocked` is for the caller that runs statements
//!    (`Txn::blocked` says why) and reaches no client.

use mizzle_plugin_api::storage::StorageError;
use mizzle_types::{ErrorCode, SqlError};

use std::sync::Arc;

use crate::ids::SpaceId;
use crate::locks::DeadlockReport;

/// Transaction-layer failures.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TxnError {
    /// Another transaction wrote the same row first (uncommitted, or
    /// committed after this transaction's snapshot).
    #[error("Deadlock found when trying to get lock; try restarting transaction (a row of space {} was changed by a transaction that committed after this transaction's snapshot)", space.0)]
    WriteConflict { space: SpaceId },
    /// Waiting would have closed a cycle of waiting transactions, and this
    /// one was chosen to break it (see `locks`, L4).
    #[error("Deadlock found when trying to get lock; try restarting transaction (deadlock between {} transactions)", report.cycle.len())]
    Deadlock { report: Arc<DeadlockReport> },
    /// The statement stopped at another transaction's lock or at a newer
    /// commit; `Txn::blocked` says which. The statement was undone.
    #[error("Lock wait timeout exceeded; try restarting transaction (the statement met a lock where it cannot wait)")]
    Blocked,
    /// A locking read with `NOWAIT` met a row another transaction holds.
    #[error("Statement aborted because lock(s) could not be acquired immediately and NOWAIT is set.")]
    LockNowait { space: SpaceId },
    /// Commit-time validation found that something this transaction read
    /// was changed by a transaction that committed after its snapshot.
    #[error("Deadlock found when trying to get lock; try restarting transaction (serialization failure: {what})")]
    SerializationFailure { what: &'static str },
    /// The storage engine failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Stored MVCC bytes did not decode.
    #[error("corrupted MVCC record: {0}")]
    Corrupt(&'static str),
    /// The transaction has already committed or rolled back.
    #[error("transaction is no longer active")]
    NotActive,
    /// A write in a `READ ONLY` transaction.
    #[error("Cannot execute statement in a READ ONLY transaction.")]
    ReadOnly,
    /// `ROLLBACK TO` / `RELEASE` of an unknown savepoint.
    #[error("SAVEPOINT {0} does not exist")]
    NoSuchSavepoint(String),
}

impl SqlError for TxnError {
    fn code(&self) -> ErrorCode {
        match self {
            TxnError::WriteConflict { .. } | TxnError::SerializationFailure { .. } | TxnError::Deadlock { .. } => {
                ErrorCode::WriteConflict
            }
            TxnError::Blocked => ErrorCode::LockWaitTimeout,
            TxnError::LockNowait { .. } => ErrorCode::LockNowait,
            TxnError::Storage(e) => e.code(),
            TxnError::Corrupt(_) => ErrorCode::Corrupted,
            TxnError::NotActive => ErrorCode::Internal,
            TxnError::ReadOnly => ErrorCode::ReadOnlyTransaction,
            TxnError::NoSuchSavepoint(_) => ErrorCode::DoesNotExist,
        }
    }
}
