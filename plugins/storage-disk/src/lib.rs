//! The `disk` storage engine: an ordered key/value store kept in a
//! directory, durable across crashes and power loss.
//!
//! Writes go to a write-ahead log (`wal`) and an in-memory table; a
//! background checkpoint merges the table into a copy-on-write B+tree of
//! checksummed pages (`btree`, `page`, `pager`) and lets the log be
//! truncated. `docs/format/disk.md` specifies every byte and the recovery
//! algorithm.
//!
//! Invariants:
//! 1. Every file access goes through [`vfs::Vfs`], so tests can inject faults.
//! 2. Nothing read from a file is trusted before its checksum is verified;
//!    a failed check is a `Corrupt` error naming the file and position.

pub mod base;
pub mod btree;
pub mod engine;
pub mod ids;
pub mod ioerr;
pub mod memtable;
pub mod page;
pub mod pager;
pub mod record;
pub mod vfs;
pub mod wal;
