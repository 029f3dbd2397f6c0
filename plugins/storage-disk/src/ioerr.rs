//! Turning file-system errors into storage errors that name the file.
//!
//! Invariants:
//! 1. Every I/O error the engine reports names the file (and, where one
//!    applies, the page or byte offset) and the operation.
//! 2. `ENOSPC` becomes [`StorageError::DiskFull`], a permission or
//!    read-only-file-system error becomes [`StorageError::CantCreate`];
//!    everything else is [`StorageError::Io`] (reads: `ReadFailed`).

use std::io;

use mizzle_plugin_api::storage::StorageError;

/// What was being done when an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Reading.
    Read,
    /// Writing or extending.
    Write,
    /// `fdatasync`.
    Sync,
    /// Creating, renaming or removing.
    Create,
    /// Opening.
    Open,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::Read => "reading",
            Op::Write => "writing",
            Op::Sync => "syncing",
            Op::Create => "creating",
            Op::Open => "opening",
        }
    }
}

/// A storage error for `e`, raised while doing `op` on `file` (a path or
/// a path with a position, e.g. `data.mzd page 7`).
pub fn storage_error(e: &io::Error, op: Op, file: &str) -> StorageError {
    let detail = format!("'{file}' ({} failed: {e})", op.verb());
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => StorageError::DiskFull(detail),
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => StorageError::CantCreate(detail),
        _ if op == Op::Read => StorageError::ReadFailed(detail),
        _ => StorageError::Io(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_full_and_permissions_are_classified() {
        let full = io::Error::new(io::ErrorKind::StorageFull, "no space");
        assert!(
            matches!(storage_error(&full, Op::Write, "data.mzd"), StorageError::DiskFull(m) if m.contains("data.mzd"))
        );
        let ro = io::Error::new(io::ErrorKind::PermissionDenied, "ro");
        assert!(matches!(storage_error(&ro, Op::Create, "d/wal-1.log"), StorageError::CantCreate(_)));
        let eio = io::Error::other("eio");
        assert!(matches!(storage_error(&eio, Op::Sync, "x"), StorageError::Io(m) if m.contains("syncing")));
        assert!(matches!(storage_error(&eio, Op::Read, "x"), StorageError::ReadFailed(_)));
    }
}
