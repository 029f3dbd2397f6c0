//! Errors of the transaction layer.
//!
//! Invariants:
//! 1. Conflicts are `Retryable` (1213 / 40001) and the transaction that gets
//!    one has already been rolled back when the error is returned.

use mizzle_plugin_api::storage::StorageError;
use mizzle_types::{ErrorCode, SqlError};

use crate::ids::SpaceId;

/// Transaction-layer failures.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TxnError {
    /// Another transaction wrote the same row first (uncommitted, or
    /// committed after this transaction's snapshot).
    #[error("Deadlock found when trying to get lock; try restarting transaction (write conflict on a row of space {})", space.0)]
    WriteConflict { space: SpaceId },
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
            TxnError::WriteConflict { .. } | TxnError::SerializationFailure { .. } => ErrorCode::WriteConflict,
            TxnError::Storage(e) => e.code(),
            TxnError::Corrupt(_) => ErrorCode::Corrupted,
            TxnError::NotActive => ErrorCode::Internal,
            TxnError::ReadOnly => ErrorCode::ReadOnlyTransaction,
            TxnError::NoSuchSavepoint(_) => ErrorCode::DoesNotExist,
        }
    }
}
