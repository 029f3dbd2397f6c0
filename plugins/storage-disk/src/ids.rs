//! Identifier newtypes of the disk engine.
//!
//! Invariants:
//! 1. [`Lsn`]s number log records from 1, consecutively; `Lsn(0)` means
//!    "before every record".
//! 2. [`PageNo`] 0 and 1 are the meta slots; 0 in a page reference means
//!    "none".

/// A log sequence number: the position of one record in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

impl Lsn {
    /// The record after this one.
    pub fn next(self) -> Lsn {
        Lsn(self.0 + 1)
    }
}

/// A page number in the data file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PageNo(pub u64);

/// A checkpoint generation (see `docs/format/disk.md`, section 3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Generation(pub u64);
