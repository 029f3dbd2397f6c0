//! `FaultyFs`: an in-memory file system for tests that can lose power,
//! tear writes, flip bits, run out of space and fail chosen calls.
//!
//! The model of the medium (the assumptions `docs/format/disk.md` makes):
//! 1. A file's content is its *durable* bytes plus the writes and length
//!    changes made since its last successful `sync_data`, in order.
//! 2. Directory operations (create, rename, remove) are durable once
//!    `sync_dir` of their directory returned; a crash keeps an in-order
//!    prefix of the ones not yet synced (as a journaling file system does).
//! 3. On a crash ([`FaultyFs::crash`]) each unsynced write is, per the
//!    chosen [`CrashMode`], dropped, kept, or torn: a subset of its 512-byte
//!    sectors (aligned to file offsets) reaches the medium and the rest
//!    keeps its earlier content. Writes may reach the medium in any order.
//! 4. Bytes never written read as zeros; a file's length after a crash is
//!    at least as long as any persisted write reaches.
//!
//! Every handle opened before a crash fails from then on (the process that
//! held it is gone), so a crashed engine's background threads cannot write
//! into the recovered state. The same holds for directory operations made
//! through a clone: a clone is the view of one "process" and is bound to
//! the crash generation it was made in (a clone of the original
//! [`FaultyFs::new`] value binds to the current one), while the original
//! stays unbound for the test's own use across crashes.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{OpenMode, Vfs, VfsFile, VfsLock};

/// The sector size torn writes respect.
pub const SECTOR: u64 = 512;

/// What a crash does to writes not yet synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashMode {
    /// Every unsynced write and directory change is lost (power loss
    /// with nothing in flight reaching the medium).
    DropUnsynced,
    /// Every write reaches the medium (a process kill: the OS keeps them).
    KeepAll,
    /// Each unsynced write is dropped, kept or torn at random, and a random
    /// prefix of the unsynced directory changes is kept (seeded).
    Random(u64),
}

/// The error an injected failure returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `ENOSPC`.
    NoSpace,
    /// `EIO`.
    Io,
}

impl FaultKind {
    fn error(self, what: &str) -> io::Error {
        match self {
            FaultKind::NoSpace => io::Error::new(io::ErrorKind::StorageFull, format!("injected ENOSPC on {what}")),
            FaultKind::Io => io::Error::other(format!("injected EIO on {what}")),
        }
    }
}

/// A planned failure of the n-th call of one kind.
#[derive(Debug, Clone, Copy)]
struct Planned {
    /// Calls left before the failing one (0 = the next call fails).
    after: u64,
    kind: FaultKind,
    /// Keep failing every later call too.
    sticky: bool,
    fired: bool,
}

impl Planned {
    /// Counts one call; returns the error if this call must fail.
    fn check(&mut self, what: &str) -> Option<io::Error> {
        if self.fired {
            return self.sticky.then(|| self.kind.error(what));
        }
        if self.after == 0 {
            self.fired = true;
            return Some(self.kind.error(what));
        }
        self.after -= 1;
        None
    }
}

#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Default, Clone)]
struct Inode {
    durable: Vec<u8>,
    current: Vec<u8>,
    pending: Vec<Pending>,
}

#[derive(Debug, Clone)]
enum DirOp {
    Link(PathBuf, u64),
    Unlink(PathBuf),
}

#[derive(Default)]
struct State {
    /// Process generation: bumped by every crash; handles of older
    /// generations fail.
    generation: u64,
    next_inode: u64,
    inodes: BTreeMap<u64, Inode>,
    durable_names: BTreeMap<PathBuf, u64>,
    names: BTreeMap<PathBuf, u64>,
    pending_dir: Vec<DirOp>,
    locks: HashMap<PathBuf, u64>,
    next_lock: u64,
    capacity: Option<u64>,
    read_only: bool,
    fail_write: Option<Planned>,
    fail_sync: Option<Planned>,
    writes: u64,
    syncs: u64,
    /// How long each `sync_data` takes, as a real disk's flush does.
    sync_latency: std::time::Duration,
}

impl State {
    fn used(&self) -> u64 {
        self.inodes.values().map(|i| i.current.len() as u64).sum()
    }

    fn inode(&mut self, id: u64) -> io::Result<&mut Inode> {
        self.inodes.get_mut(&id).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "file was removed"))
    }
}

/// The fault-injecting in-memory file system. Clones share one state.
#[derive(Default)]
pub struct FaultyFs {
    st: Arc<Mutex<State>>,
    /// The crash generation this view belongs to (`None`: the test's own,
    /// unbound view).
    bound: Option<u64>,
}

impl Clone for FaultyFs {
    /// A view bound to its process: the current generation for a clone of
    /// the unbound original, the same generation for a clone of a bound one.
    fn clone(&self) -> FaultyFs {
        let bound = match self.bound {
            Some(g) => Some(g),
            None => Some(self.st.lock().generation),
        };
        FaultyFs { st: self.st.clone(), bound }
    }
}

impl FaultyFs {
    /// An empty file system.
    pub fn new() -> FaultyFs {
        FaultyFs::default()
    }

    /// Simulates a crash: every open handle dies and unsynced changes
    /// survive per `mode` (see the module documentation).
    pub fn crash(&self, mode: CrashMode) {
        let mut st = self.st.lock();
        st.generation += 1;
        st.locks.clear();
        let mut rng = match mode {
            CrashMode::Random(seed) => Some(SplitMix(seed)),
            _ => None,
        };
        // Directory operations: keep an in-order prefix.
        let keep_dir = match (&mode, rng.as_mut()) {
            (CrashMode::DropUnsynced, _) => 0,
            (CrashMode::KeepAll, _) => st.pending_dir.len(),
            (_, Some(r)) => (r.next() % (st.pending_dir.len() as u64 + 1)) as usize,
            _ => 0,
        };
        let ops: Vec<DirOp> = st.pending_dir.drain(..).take(keep_dir).collect();
        let mut names = st.durable_names.clone();
        for op in ops {
            match op {
                DirOp::Link(p, id) => {
                    names.insert(p, id);
                }
                DirOp::Unlink(p) => {
                    names.remove(&p);
                }
            }
        }
        st.names = names.clone();
        st.durable_names = names;
        let live: std::collections::HashSet<u64> = st.names.values().copied().collect();
        st.inodes.retain(|id, _| live.contains(id));
        for inode in st.inodes.values_mut() {
            let mut content = std::mem::take(&mut inode.durable);
            for p in inode.pending.drain(..) {
                match p {
                    Pending::SetLen(n) => {
                        let keep = match (&mode, rng.as_mut()) {
                            (CrashMode::DropUnsynced, _) => false,
                            (CrashMode::KeepAll, _) => true,
                            (_, Some(r)) => r.next().is_multiple_of(2),
                            _ => false,
                        };
                        if keep {
                            content.resize(n as usize, 0);
                        }
                    }
                    Pending::Write { offset, data } => match (&mode, rng.as_mut()) {
                        (CrashMode::DropUnsynced, _) => {}
                        (CrashMode::KeepAll, _) => apply_write(&mut content, offset, &data, |_| true),
                        (_, Some(r)) => {
                            let choice = r.next() % 3;
                            if choice == 1 {
                                apply_write(&mut content, offset, &data, |_| true);
                            } else if choice == 2 {
                                let salt = r.next();
                                apply_write(&mut content, offset, &data, |sector| {
                                    SplitMix(salt ^ sector.wrapping_mul(0x9E37)).next().is_multiple_of(2)
                                });
                            }
                        }
                        _ => {}
                    },
                }
            }
            inode.current = content.clone();
            inode.durable = content;
        }
    }

    /// Flips one bit of a file's content (durable and current): media
    /// corruption. Fails if the file or offset does not exist.
    pub fn flip_bit(&self, path: &Path, offset: u64, bit: u8) -> io::Result<()> {
        let mut st = self.st.lock();
        let id = *st.names.get(path).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        let inode = st.inode(id)?;
        let mask = 1u8 << (bit % 8);
        let mut hit = false;
        for buf in [&mut inode.durable, &mut inode.current] {
            if let Some(b) = buf.get_mut(offset as usize) {
                *b ^= mask;
                hit = true;
            }
        }
        if hit {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::InvalidInput, "offset beyond the end of the file"))
        }
    }

    /// Overwrites bytes of a file directly (durable and current), as a
    /// test that damages a file on purpose does.
    pub fn poke(&self, path: &Path, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let mut st = self.st.lock();
        let id = *st.names.get(path).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        let inode = st.inode(id)?;
        apply_write(&mut inode.durable, offset, bytes, |_| true);
        apply_write(&mut inode.current, offset, bytes, |_| true);
        Ok(())
    }

    /// Truncates a file directly (durable and current).
    pub fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut st = self.st.lock();
        let id = *st.names.get(path).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        let inode = st.inode(id)?;
        inode.durable.truncate(len as usize);
        inode.current.truncate(len as usize);
        Ok(())
    }

    /// A copy of a file's current content.
    pub fn read_file(&self, path: &Path) -> io::Result<Vec<u8>> {
        let st = self.st.lock();
        let id = *st.names.get(path).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))?;
        Ok(st.inodes.get(&id).map(|i| i.current.clone()).unwrap_or_default())
    }

    /// Makes the call `after` writes from now fail with `kind` (and every
    /// later write too when `sticky`).
    pub fn fail_write(&self, after: u64, kind: FaultKind, sticky: bool) {
        self.st.lock().fail_write = Some(Planned { after, kind, sticky, fired: false });
    }

    /// Makes the call `after` syncs from now fail (see [`FaultyFs::fail_write`]).
    pub fn fail_sync(&self, after: u64, kind: FaultKind, sticky: bool) {
        self.st.lock().fail_sync = Some(Planned { after, kind, sticky, fired: false });
    }

    /// Removes planned failures.
    pub fn clear_faults(&self) {
        let mut st = self.st.lock();
        st.fail_write = None;
        st.fail_sync = None;
    }

    /// Limits the total bytes of all files: a write that would grow past it
    /// fails with `ENOSPC`. `None` removes the limit.
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.st.lock().capacity = bytes;
    }

    /// Makes directory changes (create, rename, remove) fail with
    /// permission errors, as in a read-only directory.
    pub fn set_read_only(&self, ro: bool) {
        self.st.lock().read_only = ro;
    }

    /// Makes every later `sync_data` take `latency` (as a disk's flush
    /// does), for tests of what happens while a sync runs.
    pub fn set_sync_latency(&self, latency: std::time::Duration) {
        self.st.lock().sync_latency = latency;
    }

    /// Write and sync calls made so far (to plan failures).
    pub fn counts(&self) -> (u64, u64) {
        let st = self.st.lock();
        (st.writes, st.syncs)
    }

    /// Total bytes of all files.
    pub fn used_bytes(&self) -> u64 {
        self.st.lock().used()
    }
}

fn apply_write(content: &mut Vec<u8>, offset: u64, data: &[u8], mut keep_sector: impl FnMut(u64) -> bool) {
    let start = offset as usize;
    let end = start + data.len();
    let mut pos = start;
    while pos < end {
        let sector = pos as u64 / SECTOR;
        let sector_end = (((sector + 1) * SECTOR) as usize).min(end);
        if keep_sector(sector) {
            if content.len() < sector_end {
                content.resize(sector_end, 0);
            }
            content[pos..sector_end].copy_from_slice(&data[pos - start..sector_end - start]);
        }
        pos = sector_end;
    }
}

/// splitmix64, for seeded crash choices.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
}

struct FaultyFile {
    st: Arc<Mutex<State>>,
    inode: u64,
    generation: u64,
    writable: bool,
    name: String,
}

impl FaultyFile {
    fn live<'a>(&self, st: &'a mut State) -> io::Result<&'a mut Inode> {
        if st.generation != self.generation {
            return Err(io::Error::other(format!("{}: handle from before a simulated crash", self.name)));
        }
        st.inode(self.inode)
    }
}

impl VfsFile for FaultyFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut st = self.st.lock();
        let inode = self.live(&mut st)?;
        let start = (offset as usize).min(inode.current.len());
        let n = buf.len().min(inode.current.len() - start);
        buf[..n].copy_from_slice(&inode.current[start..start + n]);
        Ok(n)
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut st = self.st.lock();
        self.live(&mut st)?;
        if !self.writable {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "file opened read-only"));
        }
        st.writes += 1;
        let what = self.name.clone();
        if let Some(e) = st.fail_write.as_mut().and_then(|p| p.check(&what)) {
            return Err(e);
        }
        let end = offset + buf.len() as u64;
        let cur_len = st.inode(self.inode)?.current.len() as u64;
        if let Some(cap) = st.capacity {
            let grow = end.saturating_sub(cur_len);
            if st.used() + grow > cap {
                return Err(FaultKind::NoSpace.error(&what));
            }
        }
        let inode = st.inode(self.inode)?;
        apply_write(&mut inode.current, offset, buf, |_| true);
        inode.pending.push(Pending::Write { offset, data: buf.to_vec() });
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let latency = self.st.lock().sync_latency;
        if !latency.is_zero() {
            // Outside the lock: other files' calls go on meanwhile.
            std::thread::sleep(latency);
        }
        let mut st = self.st.lock();
        self.live(&mut st)?;
        st.syncs += 1;
        let what = self.name.clone();
        if let Some(e) = st.fail_sync.as_mut().and_then(|p| p.check(&what)) {
            return Err(e);
        }
        let inode = st.inode(self.inode)?;
        inode.durable = inode.current.clone();
        inode.pending.clear();
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        let mut st = self.st.lock();
        Ok(self.live(&mut st)?.current.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut st = self.st.lock();
        self.live(&mut st)?;
        if let Some(cap) = st.capacity {
            let cur = st.inode(self.inode)?.current.len() as u64;
            if st.used() + len.saturating_sub(cur) > cap {
                return Err(FaultKind::NoSpace.error(&self.name));
            }
        }
        let inode = st.inode(self.inode)?;
        inode.current.resize(len as usize, 0);
        inode.pending.push(Pending::SetLen(len));
        Ok(())
    }
}

struct FaultyLock {
    st: Arc<Mutex<State>>,
    path: PathBuf,
    token: u64,
}

impl VfsLock for FaultyLock {}

impl Drop for FaultyLock {
    fn drop(&mut self) {
        let mut st = self.st.lock();
        if st.locks.get(&self.path) == Some(&self.token) {
            st.locks.remove(&self.path);
        }
    }
}

fn not_found(p: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{}: no such file", p.display()))
}

fn read_only_error(p: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, format!("{}: read-only directory", p.display()))
}

impl FaultyFs {
    /// Fails for a view bound to a generation before the last crash.
    fn alive(&self, st: &State) -> io::Result<()> {
        match self.bound {
            Some(g) if g != st.generation => {
                Err(io::Error::other("file system view of a process from before a simulated crash"))
            }
            _ => Ok(()),
        }
    }
}

impl Vfs for FaultyFs {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn VfsFile>> {
        let mut st = self.st.lock();
        self.alive(&st)?;
        let existing = st.names.get(path).copied();
        let id = match (mode, existing) {
            (OpenMode::CreateNew, Some(_)) => {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{}: exists", path.display())))
            }
            (OpenMode::Existing | OpenMode::ReadOnly, None) => return Err(not_found(path)),
            (_, Some(id)) => id,
            (OpenMode::CreateNew | OpenMode::CreateOrOpen, None) => {
                if st.read_only {
                    return Err(read_only_error(path));
                }
                st.next_inode += 1;
                let id = st.next_inode;
                st.inodes.insert(id, Inode::default());
                st.names.insert(path.to_path_buf(), id);
                st.pending_dir.push(DirOp::Link(path.to_path_buf(), id));
                id
            }
        };
        Ok(Arc::new(FaultyFile {
            st: self.st.clone(),
            inode: id,
            generation: st.generation,
            writable: mode != OpenMode::ReadOnly,
            name: path.display().to_string(),
        }))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        let st = self.st.lock();
        self.alive(&st)?;
        Ok(st.names.contains_key(path) || st.names.keys().any(|k| k.starts_with(path)))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut st = self.st.lock();
        self.alive(&st)?;
        if st.read_only {
            return Err(read_only_error(path));
        }
        if st.names.remove(path).is_none() {
            return Err(not_found(path));
        }
        st.pending_dir.push(DirOp::Unlink(path.to_path_buf()));
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut st = self.st.lock();
        self.alive(&st)?;
        if st.read_only {
            return Err(read_only_error(from));
        }
        let id = st.names.remove(from).ok_or_else(|| not_found(from))?;
        st.names.insert(to.to_path_buf(), id);
        // One journal transaction in a real file system; two ops applied
        // in order here, and a crash keeps prefixes of whole ops: the
        // target link goes first so the file is never lost.
        st.pending_dir.push(DirOp::Link(to.to_path_buf(), id));
        st.pending_dir.push(DirOp::Unlink(from.to_path_buf()));
        Ok(())
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let st = self.st.lock();
        self.alive(&st)?;
        let mut v: Vec<String> = st
            .names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        v.sort();
        Ok(v)
    }

    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        let st = self.st.lock();
        self.alive(&st)?;
        if st.read_only {
            return Err(read_only_error(_dir));
        }
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut st = self.st.lock();
        self.alive(&st)?;
        st.syncs += 1;
        let what = dir.display().to_string();
        if let Some(e) = st.fail_sync.as_mut().and_then(|p| p.check(&what)) {
            return Err(e);
        }
        let ops: Vec<DirOp> = st.pending_dir.drain(..).collect();
        let mut rest = Vec::new();
        for op in ops {
            let in_dir = match &op {
                DirOp::Link(p, _) | DirOp::Unlink(p) => p.parent() == Some(dir),
            };
            if in_dir && rest.is_empty() {
                match op {
                    DirOp::Link(p, id) => {
                        st.durable_names.insert(p, id);
                    }
                    DirOp::Unlink(p) => {
                        st.durable_names.remove(&p);
                    }
                }
            } else {
                rest.push(op);
            }
        }
        st.pending_dir = rest;
        Ok(())
    }

    fn lock_exclusive(&self, path: &Path) -> io::Result<Box<dyn VfsLock>> {
        let mut st = self.st.lock();
        self.alive(&st)?;
        if st.locks.contains_key(path) {
            return Err(io::Error::new(io::ErrorKind::WouldBlock, "held by another process"));
        }
        st.next_lock += 1;
        let token = st.next_lock;
        st.locks.insert(path.to_path_buf(), token);
        Ok(Box::new(FaultyLock { st: self.st.clone(), path: path.to_path_buf(), token }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from("/db").join(s)
    }

    #[test]
    fn unsynced_writes_vanish_on_power_loss() {
        let fs = FaultyFs::new();
        let f = fs.open(&p("a"), OpenMode::CreateNew).expect("open");
        fs.sync_dir(Path::new("/db")).expect("sync dir");
        f.write_all_at(b"durable", 0).expect("w");
        f.sync_data().expect("s");
        f.write_all_at(b"LOST", 0).expect("w");
        fs.crash(CrashMode::DropUnsynced);
        assert!(f.read_at(&mut [0u8; 4], 0).is_err(), "old handle is dead");
        let f = fs.open(&p("a"), OpenMode::Existing).expect("reopen");
        let mut b = [0u8; 7];
        assert_eq!(f.read_at(&mut b, 0).expect("r"), 7);
        assert_eq!(&b, b"durable");
    }

    #[test]
    fn unsynced_file_creation_vanishes_on_power_loss() {
        let fs = FaultyFs::new();
        let f = fs.open(&p("new"), OpenMode::CreateNew).expect("open");
        f.write_all_at(b"x", 0).expect("w");
        f.sync_data().expect("s");
        fs.crash(CrashMode::DropUnsynced);
        assert!(!fs.exists(&p("new")).expect("exists"));
    }

    #[test]
    fn torn_writes_keep_whole_sectors() {
        for seed in 0..64 {
            let fs = FaultyFs::new();
            let f = fs.open(&p("t"), OpenMode::CreateNew).expect("open");
            fs.sync_dir(Path::new("/db")).expect("sync dir");
            f.write_all_at(&[0xAA; 2048], 0).expect("w");
            f.sync_data().expect("s");
            f.write_all_at(&[0xBB; 2048], 0).expect("w");
            fs.crash(CrashMode::Random(seed));
            let c = fs.read_file(&p("t")).expect("read");
            assert_eq!(c.len(), 2048);
            for s in c.chunks(SECTOR as usize) {
                assert!(s.iter().all(|&b| b == 0xAA) || s.iter().all(|&b| b == 0xBB), "seed {seed}: mixed sector");
            }
        }
    }

    #[test]
    fn planned_failures_fire_once_or_stick() {
        let fs = FaultyFs::new();
        let f = fs.open(&p("f"), OpenMode::CreateNew).expect("open");
        fs.fail_write(1, FaultKind::NoSpace, false);
        assert!(f.write_all_at(b"1", 0).is_ok());
        let e = f.write_all_at(b"2", 0).expect_err("second write fails");
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert!(f.write_all_at(b"3", 0).is_ok());
        fs.fail_sync(0, FaultKind::Io, true);
        assert!(f.sync_data().is_err());
        assert!(f.sync_data().is_err());
    }

    #[test]
    fn capacity_limits_growth() {
        let fs = FaultyFs::new();
        fs.set_capacity(Some(100));
        let f = fs.open(&p("f"), OpenMode::CreateNew).expect("open");
        assert!(f.write_all_at(&[1; 100], 0).is_ok());
        assert!(f.write_all_at(&[2; 50], 0).is_ok(), "overwrite needs no space");
        assert_eq!(f.write_all_at(&[3], 100).err().map(|e| e.kind()), Some(io::ErrorKind::StorageFull));
    }

    #[test]
    fn a_view_from_before_a_crash_cannot_touch_the_directory() {
        let fs = FaultyFs::new();
        let process = fs.clone();
        process.open(&p("f"), OpenMode::CreateNew).expect("create");
        fs.crash(CrashMode::KeepAll);
        assert!(process.remove_file(&p("f")).is_err(), "a dead process removes nothing");
        assert!(process.rename(&p("f"), &p("g")).is_err());
        assert!(process.open(&p("h"), OpenMode::CreateNew).is_err());
        let next = fs.clone();
        assert!(next.exists(&p("f")).expect("exists"), "the new process sees the file");
        assert!(fs.list_dir(Path::new("/db")).is_ok(), "the test's own view is unbound");
    }

    #[test]
    fn lock_is_exclusive_and_crash_releases_it() {
        let fs = FaultyFs::new();
        let g = fs.lock_exclusive(&p("lock")).expect("lock");
        assert!(fs.lock_exclusive(&p("lock")).is_err());
        fs.crash(CrashMode::KeepAll);
        let _g2 = fs.lock_exclusive(&p("lock")).expect("crash released the lock");
        drop(g);
        assert!(fs.lock_exclusive(&p("lock")).is_err(), "a stale guard does not release the new holder");
    }
}
