//! A pending commit dropped by its committer: the drop never blocks (a
//! server's worker drops sessions, and must not wait for a sync or for
//! other sessions' commits), and the commit is settled by its ticket —
//! published once durable, rolled back if the sync fails. The engine is
//! the memory engine behind `conformance::HeldDurability`, which holds
//! every durable write's ticket until the test completes it.

use std::sync::Arc;
use std::time::Duration;

use mizzle_plugin_api::conformance::{self, HeldDurability};
use mizzle_plugin_api::storage::StorageError;
use mizzle_txn::{IsolationLevel, PendingCommit, SpaceId, Txn, TxnManager, TxnOptions};
use storage_memory::MemoryEngine;

const S: SpaceId = SpaceId(100);

fn setup() -> (Arc<HeldDurability>, TxnManager) {
    let g = Arc::new(HeldDurability::new(Arc::new(MemoryEngine::new()), true));
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

/// Writes `k` = `v` in a new transaction and commits it; the commit is
/// pending while the engine holds its ticket.
fn commit_put(m: &TxnManager, k: &str, v: &str) -> PendingCommit {
    let t = begin(m);
    t.put(S, k.as_bytes(), v.as_bytes()).expect("put");
    t.end_statement(true).expect("end statement");
    t.commit().expect("commit")
}

/// Runs `f` on another thread and fails if it does not return promptly.
fn must_not_block(f: impl FnOnce() + Send + 'static) {
    assert!(conformance::finishes_within(Duration::from_secs(10), f), "blocked");
}

#[test]
fn a_dropped_pending_commit_does_not_block_and_is_published_once_durable() {
    let (g, m) = setup();
    let p = commit_put(&m, "k", "v");
    assert!(p.ticket().poll().is_none(), "the engine holds the ticket");
    must_not_block(move || drop(p));
    assert_eq!(read(&m, "k"), None, "not published before it is durable");
    assert!(g.complete_all(&Ok(())) >= 1);
    assert_eq!(read(&m, "k").as_deref(), Some(&b"v"[..]), "published by the ticket's completion");
}

#[test]
fn a_dropped_pending_commit_whose_sync_fails_is_rolled_back() {
    let (g, m) = setup();
    let p = commit_put(&m, "k", "v");
    must_not_block(move || drop(p));
    assert!(g.complete_all(&Err(StorageError::Io("the test's failed sync".into()))) >= 1);
    assert_eq!(read(&m, "k"), None, "rolled back");
    // Nothing is left locked: another transaction writes the key.
    let p = commit_put(&m, "k", "w");
    g.complete_all(&Ok(()));
    p.ticket().wait().expect("durable");
    p.finish().expect("finish");
    assert_eq!(read(&m, "k").as_deref(), Some(&b"w"[..]));
}
