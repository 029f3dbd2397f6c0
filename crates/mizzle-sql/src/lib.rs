//! The SQL front end: parse with `sqlparser` (MySQL dialect), bind names and
//! types against the dictionary, build a logical plan and optimize it.
//!
//! Invariants:
//! 1. `sqlparser` appears only in this crate; downstream sees bound plans.
//!    No sqlparser type crosses this crate's API: a parsed statement is an
//!    opaque [`StatementRef`] (transaction control, the locking clause and
//!    the MySQL forms sqlparser lacks are read here), and nothing re-exports
//!    sqlparser (tidy checks that no other crate names it).
//! 2. Nothing here reads table data: plans are built from definitions only.

pub mod account;
pub mod bind;
pub mod dialect;
pub mod error;
pub mod expr;
pub mod func;
pub mod load;
pub mod locking;
pub mod optimize;
pub mod parse;
pub mod plan;
pub mod typing;

pub use bind::{bind, Catalog};
pub use error::BindError;
pub use parse::StatementRef;
