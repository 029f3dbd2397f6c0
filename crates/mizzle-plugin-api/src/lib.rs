//! The plugin API: the traits a plugin implements and the kernel calls.
//!
//! Invariants:
//! 1. Depends on `mizzle-types` only; plugins depend on this crate alone.
//! 2. Every trait here is object-safe, `Send + Sync`, and passes data on hot
//!    paths in batches ([`storage::KvBatch`]), so a dynamically loaded plugin
//!    never crosses the boundary once per row.
//! 3. [`API_VERSION`] changes whenever a trait or the C-ABI table changes
//!    shape; the kernel refuses plugins built for another version.
//!
//! Storage engines ([`storage`]), authentication ([`auth`]) and
//! schedulers ([`scheduler`]) have traits; replication logs and query
//! observers arrive with their issues.

pub mod auth;
pub mod conformance;
pub mod durability;
pub mod registry;
pub mod scheduler;
pub mod storage;

pub use mizzle_types;

/// The plugin API version this build of the kernel speaks.
pub const API_VERSION: u32 = 1;
