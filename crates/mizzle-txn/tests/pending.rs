//! A pending commit dropped by its committer: the drop never blocks (a
//! server's worker drops sessions, and must not wait for a sync or for
//! other sessions' commits), and the commit is settled by its ticket —
//! published once durable, rolled back if the sync fails. The engine is
//! the memory engine behind a gate that holds every durable write's ticket
//! until the test completes it.

use std::sync::Arc;
use std::time::Duration;

use mizzle_plugin_api::durability::DurableTicket;
use mizzle_plugin_api::storage::{
    Cursor, Durability, EngineInfo, KeyRange, KvBatch, StorageEngine, StorageError, WriteBatch,
};
use mizzle_txn::{IsolationLevel, SpaceId, Txn, TxnManager, TxnOptions};
use parking_lot::Mutex;
use storage_memory::MemoryEngine;

const S: SpaceId = SpaceId(100);

struct Gated {
    inner: MemoryEngine,
    held: Mutex<Vec<DurableTicket>>,
}

impl StorageEngine for Gated {
    fn info(&self) -> EngineInfo {
        EngineInfo { name: "gated".into(), persistent: true }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }

    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
        self.inner.scan(range)
    }

    fn scan_first(&self, range: KeyRange, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        self.inner.scan_first(range, out, max_pairs)
    }

    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<DurableTicket, StorageError> {
        let t = self.inner.write(batch, durability)?;
        if matches!(durability, Durability::Relaxed) {
            return Ok(t);
        }
        let held = DurableTicket::pending();
        self.held.lock().push(held.clone());
        Ok(held)
    }

    fn approximate_size(&self) -> u64 {
        self.inner.approximate_size()
    }

    fn approximate_keys(&self) -> u64 {
        self.inner.approximate_keys()
    }
}

impl Gated {
    /// Completes every held ticket with `r`; returns how many there were.
    fn complete_all(&self, r: &Result<(), StorageError>) -> usize {
        let held: Vec<DurableTicket> = std::mem::take(&mut *self.held.lock());
        for t in &held {
            t.complete(r.clone());
        }
        held.len()
    }
}

fn setup() -> (Arc<Gated>, TxnManager) {
    let g = Arc::new(Gated { inner: MemoryEngine::new(), held: Mutex::new(Vec::new()) });
    let m = TxnManager::new(g.clone());
    (g, m)
}

fn begin(m: &TxnManager) -> Txn {
    let t = m.begin(TxnOptions { isolation: IsolationLevel::RepeatableRead, read_only: false });
    t.begin_statement().expect("active");
    t
}

fn read(m: &TxnManager, k: &str) -> Option<Vec<u8>> {
    let t = begin(m);
    let v = t.get(S, k.as_bytes()).expect("get");
    t.rollback();
    v
}

fn must_not_block(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok(), "blocked");
}

#[test]
fn a_dropped_pending_commit_does_not_block_and_is_published_once_durable() {
    let (g, m) = setup();
    let t = begin(&m);
    t.put(S, b"k", b"v").expect("put");
    t.end_statement(true).expect("end statement");
    let p = t.commit().expect("commit");
    assert!(p.ticket().poll().is_none(), "the gate holds the ticket");
    drop(t);
    must_not_block(move || drop(p));
    assert_eq!(read(&m, "k"), None, "not published before it is durable");
    assert!(g.complete_all(&Ok(())) >= 1);
    assert_eq!(read(&m, "k").as_deref(), Some(&b"v"[..]), "published by the ticket's completion");
}

#[test]
fn a_dropped_pending_commit_whose_sync_fails_is_rolled_back() {
    let (g, m) = setup();
    let t = begin(&m);
    t.put(S, b"k", b"v").expect("put");
    t.end_statement(true).expect("end statement");
    let p = t.commit().expect("commit");
    drop(t);
    must_not_block(move || drop(p));
    assert!(g.complete_all(&Err(StorageError::Io("the test's failed sync".into()))) >= 1);
    assert_eq!(read(&m, "k"), None, "rolled back");
    // Nothing is left locked: another transaction writes the key.
    let u = begin(&m);
    u.put(S, b"k", b"w").expect("the key is free");
    u.end_statement(true).expect("end statement");
    let p = u.commit().expect("commit");
    g.complete_all(&Ok(()));
    p.ticket().wait().expect("durable");
    p.finish().expect("finish");
    assert_eq!(read(&m, "k").as_deref(), Some(&b"w"[..]));
}
