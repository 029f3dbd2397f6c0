//! Physical operators that need more than a few lines: scans, joins,
//! aggregation, sorting and the built-in system tables.

pub mod agg;
pub mod join;
pub mod scan;
pub mod sort;
pub mod system;
