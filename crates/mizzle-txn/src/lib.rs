//! MVCC above the storage-engine API: every engine gets snapshot
//! isolation, serializable validation, savepoints and garbage collection
//! without knowing about transactions.
//!
//! Invariants:
//! 1. Reaches storage only through `mizzle-plugin-api`.
//! 2. Knows nothing of SQL, tables or rows: it stores opaque payloads under
//!    opaque, prefix-free user keys in numbered spaces.
//! 3. Readers never block writers and writers never block readers; a write
//!    that meets another transaction's uncommitted write waits for it to
//!    end (`locks`), parked on a ticket, and deadlocks are found when they
//!    form. Nothing here blocks a thread except `LockWait::wait` and the
//!    short visibility waits of M4, which the caller chooses to call.

pub mod backup;
pub mod cursor;
pub mod error;
pub mod gc;
pub mod ids;
pub mod locks;
pub mod manager;
pub mod records;
pub mod status;
pub mod txn;
pub mod version;

pub use backup::BackupReport;
pub use cursor::{TxnCursor, Visible};
pub use error::TxnError;
pub use gc::GcStats;
pub use ids::{IsolationLevel, SpaceId, Ts, TxnId};
pub use locks::{CycleWait, DeadlockReport, LockStats, LockWait, WaitOutcome};
pub use manager::{ReadView, SpaceWatch, TxnManager};
pub use mizzle_plugin_api::storage::{KvBatch, SyncMode};
pub use records::RecoveryReport;
pub use txn::{Blocked, PendingCommit, Published, Txn, TxnOptions, WaitPolicy};

/// An empty batch buffer for [`TxnCursor::next_batch`].
pub fn cursor_batch() -> mizzle_plugin_api::storage::KvBatch {
    mizzle_plugin_api::storage::KvBatch::new()
}
