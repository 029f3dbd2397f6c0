//! Sessions: the state a connection or an embedded handle carries, and the
//! dispatch of statements through binder, optimizer and executor inside
//! MVCC transactions.
//!
//! Invariants:
//! 1. A session is state, not a thread: it may move between threads between
//!    statements, and it never blocks on durability inside a statement.
//! 2. Depends on the kernel crates below it only; it names no plugin.

pub mod catalog;
pub mod error;
pub mod explain;
pub mod session;
pub mod vars;

pub use catalog::{CatalogState, Clock, PluginRow, StatusSource, SystemClock, DEFAULT_SCHEMA};
pub use error::SessionError;
pub use session::{
    administrator_privileges, AccountId, Batch, CancelHandle, ColumnInfo, Execution, LocalFiles, Park, Prepared,
    RowCursor, Session, StatementOutput, DEFAULT_AUTH_PLUGIN, GRANT_TABLES, MAX_STATEMENT_RESTARTS,
};
