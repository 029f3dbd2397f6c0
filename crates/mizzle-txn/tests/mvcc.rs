//! Scripted MVCC behaviour over the memory engine.

use std::ops::Bound;
use std::sync::Arc;

use mizzle_plugin_api::storage::KvBatch;
use mizzle_txn::{IsolationLevel, SpaceId, Txn, TxnError, TxnId, TxnManager, TxnOptions};
use storage_memory::MemoryEngine;

const S: SpaceId = SpaceId(100);

fn mgr() -> TxnManager {
    TxnManager::new(Arc::new(MemoryEngine::new()))
}

fn begin(m: &TxnManager, iso: IsolationLevel) -> Txn {
    let t = m.begin(TxnOptions { isolation: iso, read_only: false });
    t.begin_statement().expect("active");
    t
}

fn rr(m: &TxnManager) -> Txn {
    begin(m, IsolationLevel::RepeatableRead)
}

fn get(t: &Txn, k: &str) -> Option<String> {
    t.get(S, k.as_bytes()).expect("get").map(|v| String::from_utf8(v).expect("utf8"))
}

fn put(t: &Txn, k: &str, v: &str) -> Result<(), TxnError> {
    t.put(S, k.as_bytes(), v.as_bytes())
}

fn autocommit_put(m: &TxnManager, k: &str, v: &str) {
    let t = rr(m);
    put(&t, k, v).expect("put");
    t.commit_blocking().expect("commit");
}

fn scan_all(t: &Txn) -> Vec<(String, String)> {
    let mut c = t.scan(S, Bound::Unbounded, Bound::Unbounded).expect("scan");
    let mut b = KvBatch::new();
    let mut out = Vec::new();
    while c.next_batch(&mut b, 2).expect("batch") {
        for (k, v) in b.iter() {
            out.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned()));
        }
    }
    out
}

#[test]
fn statement_sees_own_earlier_writes_but_not_its_own() {
    let m = mgr();
    let t = rr(&m);
    put(&t, "a", "1").expect("put");
    assert_eq!(get(&t, "a"), None, "same statement");
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "a"), Some("1".into()), "next statement");
}

#[test]
fn statements_after_read_only_ones_keep_the_own_write_rules() {
    // Read-only statements leave the statement mark where it is (no clock
    // draw); what a later statement writes must still be invisible to it,
    // visible to the next, and undone alone when it fails.
    let m = mgr();
    let t = rr(&m);
    assert_eq!(get(&t, "a"), None);
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "b"), None);
    t.begin_statement().expect("stmt");
    put(&t, "a", "1").expect("put");
    assert_eq!(get(&t, "a"), None, "same statement");
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "a"), Some("1".into()), "next statement");
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "a"), Some("1".into()), "and the one after a read-only one");
    put(&t, "b", "2").expect("put");
    put(&t, "a", "3").expect("put");
    assert_eq!(get(&t, "a"), Some("1".into()), "the overwrite is this statement's own");
    t.end_statement(false).expect("undo the statement");
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "a"), Some("1".into()), "only the failed statement was undone");
    assert_eq!(get(&t, "b"), None);
    t.commit_blocking().expect("commit");
    let r = rr(&m);
    assert_eq!(scan_all(&r), vec![("a".into(), "1".into())]);
}

#[test]
fn snapshot_does_not_see_later_commits() {
    let m = mgr();
    autocommit_put(&m, "a", "old");
    let t1 = rr(&m);
    assert_eq!(get(&t1, "a"), Some("old".into()));
    autocommit_put(&m, "a", "new");
    t1.begin_statement().expect("stmt");
    assert_eq!(get(&t1, "a"), Some("old".into()));
    let t3 = rr(&m);
    assert_eq!(get(&t3, "a"), Some("new".into()));
}

#[test]
fn read_committed_sees_commits_per_statement() {
    let m = mgr();
    autocommit_put(&m, "a", "old");
    let t1 = begin(&m, IsolationLevel::ReadCommitted);
    assert_eq!(get(&t1, "a"), Some("old".into()));
    autocommit_put(&m, "a", "new");
    assert_eq!(get(&t1, "a"), Some("old".into()), "same statement keeps its snapshot");
    t1.begin_statement().expect("stmt");
    assert_eq!(get(&t1, "a"), Some("new".into()));
}

#[test]
fn second_writer_of_row_waits_for_the_first() {
    let m = mgr();
    autocommit_put(&m, "a", "0");
    let t1 = rr(&m);
    let t2 = rr(&m);
    put(&t1, "a", "1").expect("first writer");
    let e = put(&t2, "a", "2").expect_err("second writer");
    assert_eq!(e, TxnError::Blocked);
    assert!(t2.is_active(), "a wait does not end the transaction");
    let Some(mizzle_txn::Blocked::Wait { ticket, holder, .. }) = t2.blocked() else {
        panic!("not waiting: {:?}", t2.blocked())
    };
    assert_eq!(holder, t1.id());
    assert!(ticket.poll().is_none());
    t1.commit_blocking().expect("commit");
    assert_eq!(ticket.poll(), Some(mizzle_txn::WaitOutcome::Released));
    assert_eq!(get(&rr(&m), "a"), Some("1".into()));
}

#[test]
fn first_committer_wins_prevents_lost_update() {
    let m = mgr();
    autocommit_put(&m, "a", "0");
    let t1 = rr(&m);
    assert_eq!(get(&t1, "a"), Some("0".into()));
    autocommit_put(&m, "a", "other");
    // In the same statement the write could still run again on a newer
    // snapshot (nothing reached the client); in a later one it cannot.
    t1.begin_statement().expect("stmt");
    assert!(matches!(put(&t1, "a", "mine"), Err(TxnError::WriteConflict { .. })));
    assert!(!t1.is_active(), "a conflict rolls the transaction back");
}

#[test]
fn rollback_removes_every_version() {
    let m = mgr();
    let t = rr(&m);
    for i in 0..10 {
        put(&t, &format!("k{i}"), "x").expect("put");
    }
    t.rollback();
    let r = rr(&m);
    assert!(scan_all(&r).is_empty());
    assert_eq!(m.version_count(S, b"k3").expect("count"), 0);
}

#[test]
fn failed_statement_is_undone_alone() {
    let m = mgr();
    let t = rr(&m);
    put(&t, "a", "1").expect("put");
    t.end_statement(true).expect("end");
    t.begin_statement().expect("stmt");
    put(&t, "b", "2").expect("put");
    put(&t, "a", "3").expect("put");
    t.end_statement(false).expect("undo");
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "a"), Some("1".into()));
    assert_eq!(get(&t, "b"), None);
    t.commit_blocking().expect("commit");
}

#[test]
fn savepoints_nest() {
    let m = mgr();
    let t = rr(&m);
    put(&t, "a", "1").expect("put");
    t.savepoint("s1").expect("sp");
    put(&t, "b", "2").expect("put");
    t.savepoint("s2").expect("sp");
    put(&t, "c", "3").expect("put");
    t.rollback_to_savepoint("s2").expect("rb");
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "c"), None);
    assert_eq!(get(&t, "b"), Some("2".into()));
    t.rollback_to_savepoint("s1").expect("rb");
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "b"), None);
    assert!(matches!(t.rollback_to_savepoint("s2"), Err(TxnError::NoSuchSavepoint(_))));
    t.release_savepoint("s1").expect("release");
    assert!(matches!(t.release_savepoint("s1"), Err(TxnError::NoSuchSavepoint(_))));
    t.commit_blocking().expect("commit");
    assert_eq!(scan_all(&rr(&m)), vec![("a".to_string(), "1".to_string())]);
}

#[test]
fn insert_refuses_live_keys_including_own() {
    let m = mgr();
    let t = rr(&m);
    assert!(t.insert(S, b"a", b"1").expect("insert"));
    assert!(!t.insert(S, b"a", b"2").expect("insert again"));
    t.delete(S, b"a").expect("delete");
    assert!(t.insert(S, b"a", b"3").expect("insert after delete"));
}

#[test]
fn serializable_prevents_write_skew() {
    let m = mgr();
    autocommit_put(&m, "x", "1");
    autocommit_put(&m, "y", "1");
    let t1 = begin(&m, IsolationLevel::Serializable);
    let t2 = begin(&m, IsolationLevel::Serializable);
    get(&t1, "x");
    get(&t1, "y");
    get(&t2, "x");
    get(&t2, "y");
    put(&t1, "x", "0").expect("t1 write");
    put(&t2, "y", "0").expect("t2 write");
    t1.commit_blocking().expect("first commit");
    let e = t2.commit_blocking().expect_err("second must fail");
    assert!(matches!(e, TxnError::SerializationFailure { .. }));
}

#[test]
fn repeatable_read_allows_write_skew() {
    let m = mgr();
    autocommit_put(&m, "x", "1");
    autocommit_put(&m, "y", "1");
    let t1 = rr(&m);
    let t2 = rr(&m);
    get(&t1, "y");
    get(&t2, "x");
    put(&t1, "x", "0").expect("t1 write");
    put(&t2, "y", "0").expect("t2 write");
    t1.commit_blocking().expect("commit");
    t2.commit_blocking().expect("commit: snapshot isolation allows write skew");
}

#[test]
fn serializable_read_only_never_aborts() {
    let m = mgr();
    autocommit_put(&m, "x", "1");
    let r = begin(&m, IsolationLevel::Serializable);
    get(&r, "x");
    autocommit_put(&m, "x", "2");
    assert_eq!(get(&r, "x"), Some("1".into()));
    r.commit_blocking().expect("read-only commits");
}

#[test]
fn serializable_range_read_conflicts_with_insert_into_range() {
    let m = mgr();
    let t1 = begin(&m, IsolationLevel::Serializable);
    assert!(scan_all(&t1).is_empty());
    put(&t1, "marker", "1").expect("write");
    let t2 = begin(&m, IsolationLevel::Serializable);
    put(&t2, "phantom", "1").expect("write");
    t2.commit_blocking().expect("commit");
    assert!(t1.commit_blocking().is_err(), "t1 scanned the range t2 inserted into");
}

#[test]
fn gc_keeps_one_version_or_what_snapshots_need() {
    let m = mgr();
    for i in 0..1000 {
        autocommit_put(&m, "hot", &i.to_string());
    }
    assert_eq!(m.version_count(S, b"hot").expect("count"), 1000);
    m.gc().expect("gc");
    assert_eq!(m.version_count(S, b"hot").expect("count"), 1);
    let reader = rr(&m);
    assert_eq!(get(&reader, "hot"), Some("999".into()));
    for i in 1000..1100 {
        autocommit_put(&m, "hot", &i.to_string());
    }
    m.gc().expect("gc");
    assert_eq!(m.version_count(S, b"hot").expect("count"), 2, "newest and the one the reader sees");
    assert_eq!(get(&reader, "hot"), Some("999".into()));
    reader.rollback();
    m.gc().expect("gc");
    assert_eq!(m.version_count(S, b"hot").expect("count"), 1);
    assert_eq!(get(&rr(&m), "hot"), Some("1099".into()));
}

#[test]
fn gc_removes_deleted_keys_entirely() {
    let m = mgr();
    autocommit_put(&m, "a", "1");
    let t = rr(&m);
    t.delete(S, b"a").expect("delete");
    t.commit_blocking().expect("commit");
    m.gc().expect("gc");
    assert_eq!(m.version_count(S, b"a").expect("count"), 0);
    assert!(m.status_entries() <= 1);
}

#[test]
fn dropped_handle_rolls_back() {
    let m = mgr();
    {
        let t = rr(&m);
        put(&t, "a", "1").expect("put");
    }
    assert_eq!(get(&rr(&m), "a"), None);
    assert_eq!(m.version_count(S, b"a").expect("count"), 0);
}

#[test]
fn dictionary_style_reads_validate_at_every_level() {
    let m = mgr();
    let dict = SpaceId(1);
    let dml = rr(&m);
    dml.record_read_key(dict, b"t1");
    put(&dml, "row", "x").expect("write");
    let ddl = rr(&m);
    ddl.put(dict, b"t1", b"new definition").expect("ddl write");
    ddl.commit_blocking().expect("ddl commits first");
    assert!(dml.commit_blocking().is_err(), "DML planned against the old definition must not commit");
}

#[test]
fn concurrent_increments_never_lose_updates() {
    let m = mgr();
    autocommit_put(&m, "n", "0");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                let mut done = 0;
                while done < 200 {
                    let t = rr(&m);
                    let v: i64 = get(&t, "n").and_then(|s| s.parse().ok()).unwrap_or(-1_000_000);
                    if put(&t, "n", &(v + 1).to_string()).is_ok() && t.commit_blocking().is_ok() {
                        done += 1;
                    }
                }
            })
        })
        .collect();
    for h in threads {
        h.join().expect("thread");
    }
    assert_eq!(get(&rr(&m), "n"), Some("800".into()));
}

#[test]
fn a_million_updates_of_one_row_stay_bounded_and_collect_to_one_version() {
    let m = mgr();
    autocommit_put(&m, "hot", "0");
    let mut max_versions = 0;
    let mut max_bytes = 0;
    for i in 1..=1_000_000u32 {
        let t = rr(&m);
        put(&t, "hot", &i.to_string()).expect("put");
        t.commit_blocking().expect("commit");
        if i % 50_000 == 0 {
            max_versions = max_versions.max(m.version_count(S, b"hot").expect("count"));
            max_bytes = max_bytes.max(m.stored_bytes());
        }
    }
    assert!(max_versions <= 8192, "versions grew to {max_versions}");
    assert!(max_bytes < 2 << 20, "storage grew to {max_bytes} bytes");
    assert!(m.status_entries() < 10_000, "status table grew to {}", m.status_entries());
    m.gc().expect("gc");
    assert_eq!(m.version_count(S, b"hot").expect("count"), 1);
    // With a snapshot open, exactly the version it needs survives as well.
    let reader = rr(&m);
    assert_eq!(get(&reader, "hot"), Some("1000000".into()));
    for i in 0..10_000u32 {
        autocommit_put(&m, "hot", &format!("after-{i}"));
    }
    m.gc().expect("gc");
    assert_eq!(m.version_count(S, b"hot").expect("count"), 2);
    assert_eq!(get(&reader, "hot"), Some("1000000".into()));
    reader.rollback();
    m.gc().expect("gc");
    assert_eq!(m.version_count(S, b"hot").expect("count"), 1);
}

#[test]
fn a_scan_past_a_key_with_many_versions_keeps_the_next_key() {
    let m = mgr();
    autocommit_put(&m, "b", "b");
    // 20 versions: the engine's first batch holds 16 of them, the second
    // the last 4 and then "b", in the same batch as the 16th skipped version.
    for i in 0..20 {
        autocommit_put(&m, "a", &i.to_string());
    }
    let t = rr(&m);
    assert_eq!(scan_all(&t), vec![("a".to_string(), "19".to_string()), ("b".to_string(), "b".to_string())]);
}

fn pairs(keys: &[&str]) -> Vec<(Vec<u8>, Vec<u8>)> {
    keys.iter().map(|k| (k.as_bytes().to_vec(), format!("v{k}").into_bytes())).collect()
}

/// `pairs` borrowed, as `load_new_space` takes them.
fn borrowed(p: &[(Vec<u8>, Vec<u8>)]) -> impl Iterator<Item = (&[u8], &[u8])> {
    p.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
}

#[test]
fn bulk_load_of_a_new_space_is_provisional_like_any_write() {
    let m = mgr();
    let t = rr(&m);
    let other = rr(&m);
    assert_eq!(t.load_new_space(S, borrowed(&pairs(&["a", "b", "c"]))), Ok(true));
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "b"), Some("vb".into()), "own later statement sees the load");
    assert_eq!(get(&other, "b"), None, "others do not see uncommitted versions");
    assert_eq!(put(&other, "b", "x"), Err(TxnError::Blocked), "a concurrent writer waits");
    t.commit_blocking().expect("commit");
    let after = rr(&m);
    assert_eq!(scan_all(&after).len(), 3);
}

#[test]
fn bulk_load_rolls_back_with_its_statement_and_transaction() {
    let m = mgr();
    let t = rr(&m);
    assert_eq!(t.load_new_space(S, borrowed(&pairs(&["a", "b"]))), Ok(true));
    t.end_statement(false).expect("statement rollback");
    t.begin_statement().expect("stmt");
    assert_eq!(scan_all(&t), vec![], "the failed statement's load is gone");
    assert_eq!(t.load_new_space(S, borrowed(&pairs(&["c"]))), Ok(true), "the space is empty again");
    t.rollback();
    let after = rr(&m);
    assert_eq!(scan_all(&after), vec![]);
}

#[test]
fn a_bulk_load_is_undone_by_what_undoes_its_statement_and_nothing_later() {
    const T: SpaceId = SpaceId(101);
    let all = |t: &Txn, space: SpaceId| -> Vec<String> {
        let mut c = t.scan(space, Bound::Unbounded, Bound::Unbounded).expect("scan");
        let mut b = KvBatch::new();
        let mut out = Vec::new();
        while c.next_batch(&mut b, 100).expect("batch") {
            out.extend(b.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()));
        }
        out
    };
    let keys: Vec<String> = (0..5000).map(|i| format!("k{i:05}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let m = mgr();
    let t = rr(&m);
    put(&t, "before", "1").expect("put");
    t.begin_statement().expect("stmt");
    assert_eq!(t.load_new_space(T, borrowed(&pairs(&refs))), Ok(true));
    t.begin_statement().expect("stmt");
    // A later statement that fails undoes only itself: the load stays.
    put(&t, "later", "2").expect("put");
    t.end_statement(false).expect("undo the later statement");
    t.begin_statement().expect("stmt");
    assert_eq!(all(&t, T).len(), 5000);
    assert_eq!(get(&t, "later"), None);
    // Undone past the load (a savepoint taken before it): the space empties,
    // the write before it stays.
    t.savepoint("s").expect("savepoint");
    put(&t, "x", "3").expect("put");
    t.rollback_to_savepoint("s").expect("to savepoint");
    assert_eq!(all(&t, T).len(), 5000, "the load came before the savepoint");
    t.commit_blocking().expect("commit");
    let r = rr(&m);
    assert_eq!(all(&r, T).len(), 5000);
    assert_eq!(get(&r, "before"), Some("1".into()));
    // Loaded after a savepoint, undone by it; then loaded again and the
    // transaction dropped without a rollback: nothing remains.
    let u = rr(&m);
    u.savepoint("s").expect("savepoint");
    assert_eq!(u.load_new_space(SpaceId(102), borrowed(&pairs(&refs))), Ok(true));
    u.rollback_to_savepoint("s").expect("to savepoint");
    u.begin_statement().expect("stmt");
    assert_eq!(all(&u, SpaceId(102)).len(), 0);
    assert_eq!(u.load_new_space(SpaceId(102), borrowed(&pairs(&refs))), Ok(true));
    drop(u);
    assert_eq!(all(&rr(&m), SpaceId(102)).len(), 0, "a dropped handle rolls the load back");
    let engine_keys = m.engine().approximate_keys();
    assert!(engine_keys <= 5002 + 2, "only the committed load and rows remain: {engine_keys}");
}

#[test]
fn a_bulk_load_does_not_widen_its_commit_to_whole_spaces() {
    // The loader also writes key "x" of S; a concurrent serializable
    // transaction read key "y" of S. Validation must compare keys: the
    // load's keys are not listed (its space is new), but the loader's other
    // keys are, so the reader's commit does not fail.
    let m = mgr();
    autocommit_put(&m, "y", "0");
    let loader = rr(&m);
    put(&loader, "x", "1").expect("put");
    assert_eq!(loader.load_new_space(SpaceId(103), borrowed(&pairs(&["a", "b"]))), Ok(true));
    let reader = begin(&m, IsolationLevel::Serializable);
    assert_eq!(get(&reader, "y"), Some("0".into()));
    loader.commit_blocking().expect("loader commits");
    reader.put(SpaceId(104), b"z", b"1").expect("reader writes elsewhere");
    reader.commit_blocking().expect("no conflict: the loader wrote x, the reader read y");
}

#[test]
fn bulk_load_refuses_a_space_that_holds_versions() {
    let m = mgr();
    autocommit_put(&m, "a", "1");
    let t = rr(&m);
    assert_eq!(t.load_new_space(S, borrowed(&pairs(&["b"]))), Ok(false));
    t.begin_statement().expect("stmt");
    assert_eq!(get(&t, "b"), None, "nothing was written");
}

#[test]
fn in_place_batches_match_copied_batches() {
    let m = mgr();
    for i in 0..3000 {
        autocommit_put(&m, &format!("k{:05}", i % 1200), &format!("v{i}"));
    }
    let t = rr(&m);
    t.delete(S, b"k00007").expect("delete");
    t.begin_statement().expect("stmt");
    let mut c = t.scan(S, Bound::Unbounded, Bound::Unbounded).expect("scan");
    let mut in_place = Vec::new();
    while let Some(v) = c.next_visible().expect("batch") {
        assert!(!v.is_empty());
        for n in 0..v.len() {
            let (k, val) = v.get(n).expect("pair");
            in_place.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(val).into_owned()));
        }
    }
    assert_eq!(in_place, scan_all(&t));
    assert_eq!(in_place.len(), 1199);
}

#[test]
fn a_small_first_batch_grows_and_misses_nothing() {
    let m = mgr();
    // Several versions per key (3000 puts over 1200 keys) and a deletion:
    // the small first refills end inside a key's versions.
    for i in 0..3000 {
        autocommit_put(&m, &format!("k{:05}", i % 1200), &format!("v{i}"));
    }
    let t = rr(&m);
    t.delete(S, b"k00007").expect("delete");
    t.begin_statement().expect("stmt");
    let mut c = t.scan(S, Bound::Unbounded, Bound::Unbounded).expect("scan");
    c.first_batch(10);
    let mut sizes = Vec::new();
    let mut rows = Vec::new();
    while let Some(v) = c.next_visible().expect("batch") {
        sizes.push(v.len());
        for n in 0..v.len() {
            let (k, val) = v.get(n).expect("pair");
            rows.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(val).into_owned()));
        }
    }
    assert_eq!(rows, scan_all(&t));
    // The first batch holds at most 16 versions' rows; later ones grow.
    assert!(sizes[0] <= 16 && sizes.len() > 3, "{sizes:?}");
    assert!(sizes.iter().any(|&n| n > 16), "{sizes:?}");
}

/// The memory engine without its descending cursor: descending scans then
/// read the range ascending and reverse it.
struct NoDescending(MemoryEngine);

impl mizzle_plugin_api::storage::StorageEngine for NoDescending {
    fn info(&self) -> mizzle_plugin_api::storage::EngineInfo {
        self.0.info()
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, mizzle_plugin_api::storage::StorageError> {
        self.0.get(key)
    }
    fn scan(
        &self,
        range: mizzle_plugin_api::storage::KeyRange,
    ) -> Result<Box<dyn mizzle_plugin_api::storage::Cursor>, mizzle_plugin_api::storage::StorageError> {
        self.0.scan(range)
    }
    fn write(
        &self,
        batch: mizzle_plugin_api::storage::WriteBatch,
        durability: mizzle_plugin_api::storage::Durability,
    ) -> Result<mizzle_plugin_api::durability::DurableTicket, mizzle_plugin_api::storage::StorageError> {
        self.0.write(batch, durability)
    }
    fn approximate_size(&self) -> u64 {
        self.0.approximate_size()
    }
    fn approximate_keys(&self) -> u64 {
        self.0.approximate_keys()
    }
}

fn scan_desc_all(t: &Txn, lo: Bound<&[u8]>, hi: Bound<&[u8]>, first: Option<usize>) -> Vec<(String, String)> {
    let mut c = t.scan_desc(S, lo, hi).expect("scan");
    if let Some(n) = first {
        c.first_batch(n);
    }
    let mut out = Vec::new();
    while let Some(v) = c.next_visible().expect("batch") {
        for n in 0..v.len() {
            let (k, val) = v.get(n).expect("pair");
            out.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(val).into_owned()));
        }
    }
    out
}

#[test]
fn a_descending_scan_sees_what_the_ascending_one_sees_in_reverse() {
    for engine in [
        Arc::new(MemoryEngine::new()) as Arc<dyn mizzle_plugin_api::storage::StorageEngine>,
        Arc::new(NoDescending(MemoryEngine::new())),
    ] {
        let m = TxnManager::new(engine);
        // Several committed versions per key, deletions, a writer still
        // open (invisible to others) and the reader's own writes.
        for i in 0..900 {
            autocommit_put(&m, &format!("k{:04}", i % 300), &format!("v{i}"));
        }
        let del = rr(&m);
        for i in (0..300).step_by(7) {
            del.delete(S, format!("k{i:04}").as_bytes()).expect("delete");
        }
        del.commit_blocking().expect("commit");
        let open = rr(&m);
        put(&open, "k0001", "uncommitted").expect("put");
        put(&open, "k9999", "uncommitted").expect("put");
        let t = rr(&m);
        put(&t, "k0002", "mine").expect("own write");
        t.delete(S, b"k0003").expect("own delete");
        t.begin_statement().expect("stmt");
        let mut want = scan_all(&t);
        want.reverse();
        assert!(want.len() > 200, "{}", want.len());
        assert_eq!(scan_desc_all(&t, Bound::Unbounded, Bound::Unbounded, None), want);
        assert_eq!(scan_desc_all(&t, Bound::Unbounded, Bound::Unbounded, Some(10)), want);
        // Bounded: every key in [k0010, k0100).
        let part: Vec<_> =
            want.iter().filter(|(k, _)| k.as_str() >= "k0010" && k.as_str() < "k0100").cloned().collect();
        assert_eq!(scan_desc_all(&t, Bound::Included(b"k0010"), Bound::Excluded(b"k0100"), Some(3)), part);
        let own = scan_desc_all(&t, Bound::Included(b"k0000"), Bound::Included(b"k0003"), None);
        assert_eq!(own, vec![("k0002".to_string(), "mine".to_string()), ("k0001".to_string(), "v601".to_string())]);
    }
}

#[test]
fn a_deferred_reader_draws_nothing_from_the_shared_clock() {
    let m = mgr();
    autocommit_put(&m, "a", "1");
    let before = m.begin(TxnOptions::default());
    for _ in 0..3 {
        let r = m.begin_deferred(TxnOptions::default());
        r.begin_statement().expect("statement");
        assert_eq!(get(&r, "a"), Some("1".into()));
        assert_eq!(scan_all(&r).len(), 1);
        r.end_statement(true).expect("end");
        assert_eq!(r.id(), TxnId(0), "a reader has no id");
        r.commit_blocking().expect("commit");
        assert_eq!(r.id(), TxnId(0));
    }
    // Nothing ticked the clock between the two eager begins (an eager
    // begin draws one tick; a snapshot reads the clock without drawing).
    let after = m.begin(TxnOptions::default());
    assert_eq!(after.id().0, before.id().0 + 1);
    assert_ne!(before.serial(), after.serial());
}

#[test]
fn a_deferred_transaction_that_writes_follows_the_own_write_rules() {
    let m = mgr();
    autocommit_put(&m, "a", "0");
    let t = m.begin_deferred(TxnOptions::default());
    t.begin_statement().expect("statement");
    assert_eq!(get(&t, "a"), Some("0".into()));
    put(&t, "a", "1").expect("put");
    let id = t.id();
    assert_ne!(id, TxnId(0), "drawn at the first write");
    assert_eq!(get(&t, "a"), Some("0".into()), "a statement does not see its own writes");
    t.begin_statement().expect("statement");
    assert_eq!(get(&t, "a"), Some("1".into()), "the next one does");
    put(&t, "b", "2").expect("put");
    assert_eq!(t.id(), id, "drawn once");
    // Another transaction sees none of it until the commit, and waits on
    // the row it holds.
    let o = rr(&m);
    assert_eq!(get(&o, "a"), Some("0".into()));
    assert!(matches!(put(&o, "a", "x"), Err(TxnError::Blocked)));
    o.rollback();
    t.commit_blocking().expect("commit");
    let r = rr(&m);
    assert_eq!(scan_all(&r), vec![("a".into(), "1".into()), ("b".into(), "2".into())]);
    // A statement undone before the first write leaves nothing either.
    let u = m.begin_deferred(TxnOptions::default());
    u.begin_statement().expect("statement");
    put(&u, "c", "3").expect("put");
    u.end_statement(false).expect("undo");
    u.commit_blocking().expect("commit");
    assert_eq!(get(&rr(&m), "c"), None);
}

#[test]
fn serials_differ_across_threads() {
    let m = Arc::new(mgr());
    let mut all: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                s.spawn(move || (0..100).map(|_| m.begin_deferred(TxnOptions::default()).serial()).collect::<Vec<_>>())
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().expect("thread")).collect()
    });
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 400);
}
