//! The write-ahead log on the real file system (`StdFs`): the public API
//! end to end, with real renames, directory syncs and `fdatasync`.

use std::path::PathBuf;
use std::sync::Arc;

use mizzle_plugin_api::storage::{StorageError, SyncMode};
use storage_disk::ids::Lsn;
use storage_disk::vfs::StdFs;
use storage_disk::wal::{Wal, WalOptions};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("mizzle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn replay(dir: &TempDir, after: u64, opts: &WalOptions) -> (Wal, Vec<(Lsn, Vec<u8>)>) {
    let mut got = Vec::new();
    let wal = Wal::open(Arc::new(StdFs), &dir.0, Lsn(after), opts.clone(), &mut |lsn, r| {
        got.push((lsn, r.to_vec()));
        Ok(())
    })
    .expect("open");
    (wal, got)
}

#[test]
fn records_survive_reopen_on_the_real_file_system() {
    let dir = TempDir::new("wal-stdfs");
    let opts = WalOptions { sync: SyncMode::Full, segment_bytes: 8192, block_bytes: 1024, ..WalOptions::default() };
    let (wal, got) = replay(&dir, 0, &opts);
    assert!(got.is_empty());
    for i in 0..200u32 {
        let lsn = wal.append(&i.to_le_bytes()).expect("append");
        if i % 10 == 9 {
            wal.ticket(lsn).wait().expect("durable");
        }
        if i == 99 {
            wal.rotate_after(lsn);
        }
    }
    assert_eq!(wal.sync_all().expect("sync"), Lsn(200));
    wal.retire_through(Lsn(100)).expect("retire");
    wal.close().expect("close");
    drop(wal);

    let (wal, got) = replay(&dir, 100, &opts);
    assert_eq!(got.len(), 100);
    for (k, (lsn, r)) in got.iter().enumerate() {
        let i = 100 + k as u32;
        assert_eq!(*lsn, Lsn(u64::from(i) + 1));
        assert_eq!(r, &i.to_le_bytes().to_vec());
    }
    assert_eq!(wal.append(b"more").expect("append"), Lsn(201));
    drop(wal);
    // The segments holding LSNs 1..=100 are gone.
    let r = Wal::open(Arc::new(StdFs), &dir.0, Lsn(0), opts, &mut |_, _| Ok(()));
    assert!(matches!(r, Err(StorageError::Corrupt(_))), "{r:?}");
}
