//! The file layer: every byte the disk engine reads or writes, and every
//! directory operation it makes, goes through [`Vfs`] and [`VfsFile`], so
//! tests can put [`faulty::FaultyFs`] underneath and break things.
//!
//! Invariants:
//! 1. The engine touches no file except through these traits (the tidy
//!    check forbids `std::fs` in the engine's other modules).
//! 2. Writes are positional (`write_all_at`) and whole: a call either
//!    returns `Ok` having written every byte, or an error. What a crash
//!    leaves of writes that were not yet synced is the medium's business;
//!    `docs/format/disk.md` states the assumptions and `FaultyFs` models them.
//! 3. `sync_data` returns `Ok` only when every byte written to that file
//!    before the call is durable. A failed sync leaves the file's durable
//!    state unknown (the engine then refuses further writes).
//!
//! This module holds no engine logic and no caching.

use std::io;
use std::path::Path;
use std::sync::Arc;

pub mod faulty;

/// How [`Vfs::open`] treats a missing or existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the file; fail if it exists.
    CreateNew,
    /// Open an existing file; fail if it is missing.
    Existing,
    /// Open the file if it exists, create it otherwise.
    CreateOrOpen,
    /// Open an existing file for reading only.
    ReadOnly,
}

/// An open file.
pub trait VfsFile: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read
    /// (fewer only at the end of the file).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// Writes all of `buf` at `offset`, extending the file if needed.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;

    /// Makes every byte written so far durable (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;

    /// The file's length in bytes.
    fn len(&self) -> io::Result<u64>;

    /// True if the file has no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Truncates or extends (with zeros) the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// A held exclusive lock on a file; dropping it releases the lock.
pub trait VfsLock: Send + Sync {}

/// A file system.
pub trait Vfs: Send + Sync {
    /// Opens a file.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn VfsFile>>;

    /// True if `path` exists.
    fn exists(&self, path: &Path) -> io::Result<bool>;

    /// Removes a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// Renames a file atomically, replacing `to` if it exists.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// The names of the entries in a directory.
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>>;

    /// Creates a directory and its parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;

    /// Makes the directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// Takes an exclusive lock on `path` (created if missing) for as long as
    /// the returned guard lives. Fails with `ErrorKind::WouldBlock` if
    /// another holder (another process) has it.
    fn lock_exclusive(&self, path: &Path) -> io::Result<Box<dyn VfsLock>>;
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
pub fn read_full_at(f: &dyn VfsFile, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = f.read_at(&mut buf[done..], offset + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// The real file system (`std::fs`).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

struct StdFile(std::fs::File);

impl VfsFile for StdFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        self.0.read_at(buf, offset)
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.0.write_all_at(buf, offset)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

struct StdLock(#[allow(dead_code)] std::fs::File);

impl VfsLock for StdLock {}

impl Vfs for StdFs {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn VfsFile>> {
        let mut o = std::fs::OpenOptions::new();
        match mode {
            OpenMode::CreateNew => o.read(true).write(true).create_new(true),
            OpenMode::Existing => o.read(true).write(true),
            OpenMode::CreateOrOpen => o.read(true).write(true).create(true),
            OpenMode::ReadOnly => o.read(true),
        };
        Ok(Arc::new(StdFile(o.open(path)?)))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists()
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(dir)? {
            v.push(e?.file_name().to_string_lossy().into_owned());
        }
        v.sort();
        Ok(v)
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }

    fn lock_exclusive(&self, path: &Path) -> io::Result<Box<dyn VfsLock>> {
        let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        match f.try_lock() {
            Ok(()) => Ok(Box::new(StdLock(f))),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(io::Error::new(io::ErrorKind::WouldBlock, "held by another process"))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_lock_is_exclusive_until_dropped() {
        let dir = std::env::temp_dir().join(format!("mizzle-vfs-lock-{}", std::process::id()));
        StdFs.create_dir_all(&dir).expect("dir");
        let p = dir.join("lock");
        let g = StdFs.lock_exclusive(&p).expect("first lock");
        let e = StdFs.lock_exclusive(&p).err().expect("second lock refused");
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        drop(g);
        assert!(StdFs.lock_exclusive(&p).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn std_file_positional_io_round_trips() {
        let dir = std::env::temp_dir().join(format!("mizzle-vfs-io-{}", std::process::id()));
        StdFs.create_dir_all(&dir).expect("dir");
        let p = dir.join("f");
        let f = StdFs.open(&p, OpenMode::CreateOrOpen).expect("open");
        f.write_all_at(b"hello", 10).expect("write");
        f.sync_data().expect("sync");
        assert_eq!(f.len().expect("len"), 15);
        let mut b = [1u8; 16];
        assert_eq!(read_full_at(f.as_ref(), &mut b, 0).expect("read"), 15);
        assert_eq!(&b[..15], b"\0\0\0\0\0\0\0\0\0\0hello");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
