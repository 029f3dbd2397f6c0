//! Reopening a transaction manager over an engine a previous one wrote
//! (records R1, R2): the clock resumes above every value used, writers
//! that never committed are rolled back, committed ones stay.
//!
//! A "crash" here leaks the old manager and its open transactions
//! (`mem::forget`), so nothing they would do on drop happens; the engine
//! is a memory engine that calls itself persistent, holding exactly what
//! was written (the disk engine's own crash tests cover what a real crash
//! leaves of unsynced writes).

use std::sync::Arc;

use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{Cursor, Durability, EngineInfo, KeyRange, StorageEngine, StorageError, WriteBatch};
use mizzle_txn::{SpaceId, TxnManager, TxnOptions};
use storage_memory::MemoryEngine;

/// A memory engine that reports itself persistent, so records are written.
struct Persistent(MemoryEngine);

impl StorageEngine for Persistent {
    fn info(&self) -> EngineInfo {
        EngineInfo { name: "persistent-memory".into(), persistent: true }
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.get(key)
    }
    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
        self.0.scan(range)
    }
    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<DurableTicket, StorageError> {
        self.0.write(batch, durability)
    }
    fn approximate_size(&self) -> u64 {
        self.0.approximate_size()
    }
    fn approximate_keys(&self) -> u64 {
        self.0.approximate_keys()
    }
}

const S: SpaceId = SpaceId(40);
const T: SpaceId = SpaceId(41);

fn engine() -> Arc<dyn StorageEngine> {
    Arc::new(Persistent(MemoryEngine::new()))
}

fn open(e: &Arc<dyn StorageEngine>) -> (TxnManager, mizzle_txn::RecoveryReport) {
    TxnManager::open(e.clone()).expect("open")
}

fn read(m: &TxnManager, space: SpaceId, k: &str) -> Option<String> {
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    t.get(space, k.as_bytes()).expect("get").map(|v| String::from_utf8_lossy(&v).into_owned())
}

fn keys_in_engine(e: &Arc<dyn StorageEngine>, tag: u8) -> usize {
    let mut c = e.scan(KeyRange::prefix(&[tag])).expect("scan");
    let mut b = mizzle_txn::cursor_batch();
    let mut n = 0;
    while c.next_batch(&mut b, 100).expect("batch") {
        n += b.len();
    }
    n
}

#[test]
fn committed_writes_survive_and_uncommitted_ones_are_rolled_back() {
    let e = engine();
    let (m, _) = open(&e);
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    t.put(S, b"a", b"committed").expect("put");
    t.commit_blocking().expect("commit");

    let open_writer = m.begin(TxnOptions::default());
    open_writer.begin_statement().expect("stmt");
    open_writer.put(S, b"a", b"never committed").expect("put");
    open_writer.put(T, b"b", b"never committed").expect("put");
    let old_id = open_writer.id();
    std::mem::forget(open_writer);
    std::mem::forget(m);

    let (m, report) = open(&e);
    assert_eq!(report.aborted_writers, vec![old_id.0]);
    assert_eq!(report.versions_removed, 2);
    assert_eq!(read(&m, S, "a"), Some("committed".into()));
    assert_eq!(read(&m, T, "b"), None);
    assert_eq!(m.version_count(S, b"a").expect("count"), 1, "the provisional version is gone");
    assert_eq!(keys_in_engine(&e, 0x02), 0, "no in-flight marker is left");
    // A new writer of the same key does not conflict with the dead one.
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    t.put(S, b"a", b"after").expect("no conflict with a rolled-back writer");
    t.commit_blocking().expect("commit");
    assert_eq!(read(&m, S, "a"), Some("after".into()));
}

#[test]
fn the_clock_resumes_above_every_id_used_before() {
    let e = engine();
    let (m, _) = open(&e);
    let mut last = 0;
    for i in 0..50u32 {
        let t = m.begin(TxnOptions::default());
        t.begin_statement().expect("stmt");
        t.put(S, &i.to_be_bytes(), b"v").expect("put");
        t.commit_blocking().expect("commit");
        last = t.commit_ts().expect("committed").0;
    }
    std::mem::forget(m);
    let (m, report) = open(&e);
    assert!(report.clock > last, "clock {} must start above the last commit {last}", report.clock);
    let t = m.begin(TxnOptions::default());
    assert!(t.id().0 > last);
    // Old versions (writers without status entries) are visible to new readers.
    assert_eq!(read(&m, S, &String::from_utf8_lossy(&7u32.to_be_bytes())), Some("v".into()));
}

#[test]
fn a_rolled_back_writer_leaves_no_marker_and_a_reopen_finds_nothing_to_do() {
    let e = engine();
    let (m, _) = open(&e);
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    t.put(S, b"x", b"1").expect("put");
    t.rollback();
    // A writer whose only statement failed, then committed (nothing left).
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("stmt");
    t.put(S, b"y", b"1").expect("put");
    t.end_statement(false).expect("undo");
    t.commit_blocking().expect("commit");
    assert_eq!(keys_in_engine(&e, 0x02), 0);
    drop(m);
    let (m, report) = open(&e);
    assert!(report.aborted_writers.is_empty());
    assert_eq!(read(&m, S, "x"), None);
    assert_eq!(read(&m, S, "y"), None);
}

#[test]
fn counters_are_stored_and_read_back() {
    let e = engine();
    let (m, _) = open(&e);
    assert_eq!(m.counter(b"n").expect("read"), None);
    m.store_counter(b"n", 42).expect("store");
    drop(m);
    let (m, _) = open(&e);
    assert_eq!(m.counter(b"n").expect("read"), Some(42));
    // A memory engine stores nothing.
    let mem = TxnManager::new(Arc::new(MemoryEngine::new()));
    mem.store_counter(b"n", 1).expect("no-op");
    assert_eq!(mem.counter(b"n").expect("read"), None);
}
