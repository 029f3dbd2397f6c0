//! Physical operators that need more than a few lines: scans, joins,
//! aggregation, sorting, window functions, recursive CTEs, JSON_TABLE and
//! the built-in system tables.

pub mod agg;
pub mod hashkey;
pub mod join;
pub mod json_table;
pub mod recursive;
pub mod scan;
pub mod sort;
pub mod system;
pub mod window;
