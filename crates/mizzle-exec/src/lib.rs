//! The executor: builds physical operators from optimized plans and runs
//! them against a transaction's snapshot; executes DML and DDL.
//!
//! Invariants:
//! 1. Reads go through the statement's `Txn` only; nothing here bypasses
//!    MVCC.
//! 2. Nothing here commits or rolls back: transaction boundaries belong to
//!    the session.

pub mod build;
pub mod compile;
pub mod ctx;
pub mod ddl;
pub mod dml;
mod dml_multi;
pub mod error;
pub mod eval;
pub mod fk;
mod fk_ddl;
pub mod keys;
pub mod load;
pub mod ops;
mod stored_time;
#[cfg(test)]
mod testctx;

pub use build::{collect, Row};
pub use ctx::{Ctx, SessionInfo, SystemInfo};
pub use error::ExecError;
