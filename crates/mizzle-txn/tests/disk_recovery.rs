//! Transactions on the disk engine across crashes: a transaction larger
//! than the engine's memory (its provisional versions checkpointed into
//! the data file before it ends) commits or, if the process dies first,
//! is rolled back completely when the database is reopened.

use std::path::Path;
use std::sync::Arc;

use mizzle_plugin_api::storage::{StorageEngine, SyncMode};
use mizzle_txn::{SpaceId, TxnManager, TxnOptions};
use storage_disk::engine::{DiskEngine, DiskOptions};
use storage_disk::vfs::faulty::{CrashMode, FaultyFs};

const S: SpaceId = SpaceId(30);
const ROWS: u32 = 20_000;

fn open(fs: &FaultyFs) -> (Arc<dyn StorageEngine>, TxnManager, mizzle_txn::RecoveryReport) {
    let o = DiskOptions {
        sync: SyncMode::Full,
        cache_bytes: 128 << 10,
        create: true,
        memtable_bytes: 256 << 10,
        segment_bytes: 1 << 20,
        vfs: Arc::new(fs.clone()),
    };
    let e: Arc<dyn StorageEngine> = Arc::new(DiskEngine::open(Path::new("/db"), o).expect("open"));
    let (m, r) = TxnManager::open(e.clone()).expect("recover");
    (e, m, r)
}

fn row(i: u32) -> Vec<u8> {
    let mut v = i.to_be_bytes().to_vec();
    v.resize(300, b'x');
    v
}

fn count(m: &TxnManager) -> usize {
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    let mut c = t.scan(S, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded).expect("scan");
    let mut b = mizzle_txn::cursor_batch();
    let mut n = 0;
    while c.next_batch(&mut b, 500).expect("batch") {
        n += b.len();
    }
    n
}

#[test]
fn a_transaction_larger_than_memory_commits_and_survives_a_crash() {
    let fs = FaultyFs::new();
    let (e, m, _) = open(&fs);
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    for i in 0..ROWS {
        t.put(S, &i.to_be_bytes(), &row(i)).expect("put");
    }
    let stats: std::collections::HashMap<String, u64> = e.stats().into_iter().collect();
    assert!(stats["checkpoints"] > 0, "6 MB of versions against a 256 KiB memtable must have checkpointed");
    t.commit_blocking().expect("commit");
    fs.crash(CrashMode::DropUnsynced);
    drop((t, m, e));
    let (_e, m, r) = open(&fs);
    assert!(r.aborted_writers.is_empty());
    assert_eq!(count(&m), ROWS as usize);
}

#[test]
fn an_uncommitted_transaction_larger_than_memory_is_rolled_back_after_a_crash() {
    let fs = FaultyFs::new();
    let (e, m, _) = open(&fs);
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    t.put(S, b"committed", b"yes").expect("put");
    t.commit_blocking().expect("commit");
    let big = m.begin(TxnOptions::default());
    big.begin_statement().expect("stmt");
    for i in 0..ROWS {
        big.put(S, &i.to_be_bytes(), &row(i)).expect("put");
    }
    // Make everything written so far durable (as a later commit of another
    // transaction would), then die without committing `big`.
    let other = m.begin(TxnOptions::default());
    other.begin_statement().expect("stmt");
    other.put(SpaceId(31), b"k", b"v").expect("put");
    other.commit_blocking().expect("commit");
    let writer = big.id();
    fs.crash(CrashMode::KeepAll);
    std::mem::forget(big);
    drop((other, t, m, e));
    let (_e, m, r) = open(&fs);
    assert_eq!(r.aborted_writers, vec![writer.0]);
    assert_eq!(r.versions_removed, ROWS as u64);
    assert_eq!(count(&m), 1, "only the committed row is left");
    // And the rollback itself is durable: a second reopen finds nothing.
    drop(m);
    drop(_e);
    let (_e, m, r) = open(&fs);
    assert!(r.aborted_writers.is_empty());
    assert_eq!(count(&m), 1);
}
