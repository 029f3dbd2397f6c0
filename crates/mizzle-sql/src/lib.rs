//! The SQL front end: parse with `sqlparser` (MySQL dialect), bind names and
//! types against the dictionary, build a logical plan and optimize it.
//!
//! Invariants:
//! 1. `sqlparser` appears only in this crate; downstream sees bound plans.
//! 2. Nothing here reads table data: plans are built from definitions only.

pub mod bind;
pub mod error;
pub mod expr;
pub mod func;
pub mod locking;
pub mod optimize;
pub mod parse;
pub mod plan;
pub mod typing;

pub use bind::{bind, Catalog};
pub use error::BindError;
pub use sqlparser::ast::Statement;
