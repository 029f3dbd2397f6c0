//! Shared pieces of mizzle's benchmarks: the workload's PRNG, its row data
//! and the statement catalogue read from `workload.sql`.
//!
//! Invariants:
//! 1. The data is exactly what `shared/bench/WORKLOAD.md` specifies, so two
//!    conforming programs (any language, any engine) load identical rows.
//! 2. Statements are looked up by their `-- name:` line and handed to the
//!    engine verbatim; this crate never rewrites SQL text.
//!
//! It does not talk to any engine: the criterion benches and the `workload`
//! binary own the connections.
//!
//! The package's targets:
//! - `cargo bench -p mizzle-bench`: criterion kernels (`benches/kernel.rs`),
//!   mizzle in memory with SQLite in memory beside it.
//! - `target/release/workload --engine mizzle|sqlite [--quick]`: the anchor
//!   workload, one `key=value` line per step.
//! - `benches/compare.sh [--quick]`: both engines alternately, with ratios.

pub mod catalogue;
pub mod data;
pub mod rng;
