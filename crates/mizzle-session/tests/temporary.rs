//! Temporary tables end with their session: no other session sees them,
//! and the session's end deletes their rows from the engine.

use std::ops::Bound;
use std::sync::Arc;

use mizzle_plugin_api::storage::{KeyRange, KvBatch, StorageEngine};
use mizzle_session::{CatalogState, Session, StatementOutput};
use mizzle_types::SqlError;
use storage_memory::MemoryEngine;

/// Every pair the engine holds.
fn engine_pairs(e: &MemoryEngine) -> usize {
    let mut cur = e.scan(KeyRange { start: Bound::Unbounded, end: Bound::Unbounded }).expect("scan");
    let mut b = KvBatch::new();
    let mut n = 0;
    while cur.next_batch(&mut b, 1024).expect("batch") {
        n += b.len();
    }
    n
}

fn count(s: &mut Session, sql: &str) -> String {
    match s.execute_blocking(sql, &[]).expect("query").pop() {
        Some(StatementOutput::Rows { rows, .. }) => format!("{:?}", rows),
        other => panic!("no rows: {other:?}"),
    }
}

#[test]
fn a_dropped_session_takes_its_temporary_rows_with_it() {
    let engine = Arc::new(MemoryEngine::new());
    let cat = CatalogState::open(engine.clone(), "memory", Vec::new()).expect("open");
    cat.bootstrap().expect("bootstrap");
    let mut other = Session::new(cat.clone());
    other.execute_blocking("CREATE TABLE keep (id INT PRIMARY KEY)", &[]).expect("create");
    cat.txns.gc().expect("gc");
    let before = engine_pairs(&engine);
    {
        let mut s = Session::new(cat.clone());
        s.execute_blocking("CREATE TEMPORARY TABLE tt (a INT PRIMARY KEY, b INT, KEY (b))", &[]).expect("create");
        for i in 0..200 {
            s.execute_blocking(&format!("INSERT INTO tt VALUES ({i}, {})", i % 7), &[]).expect("insert");
        }
        // Uncommitted rows too: the open transaction rolls back at the end.
        s.execute_blocking("BEGIN", &[]).expect("begin");
        s.execute_blocking("INSERT INTO tt VALUES (1000, 1)", &[]).expect("insert");
        assert!(count(&mut s, "SELECT COUNT(*) FROM tt").contains("201"));
        assert!(engine_pairs(&engine) > before + 400);
        let e = other.execute_blocking("SELECT * FROM tt", &[]).expect_err("private");
        assert_eq!(e.code().number(), 1146);
    }
    cat.txns.gc().expect("gc");
    assert_eq!(engine_pairs(&engine), before);
    let e = other.execute_blocking("SELECT * FROM tt", &[]).expect_err("gone");
    assert_eq!(e.code().number(), 1146);
}

/// Runs a prepared statement to the end.
fn run_prepared(s: &mut Session, p: &mut mizzle_session::Prepared) -> Vec<StatementOutput> {
    let ex = s.execute_prepared(p, &[]).expect("execute");
    s.block_on(ex, None).expect("block").finish().expect("finish")
}

#[test]
fn a_prepared_statement_follows_temporary_tables_that_come_and_go() {
    let cat = CatalogState::open(Arc::new(MemoryEngine::new()), "memory", Vec::new()).expect("open");
    cat.bootstrap().expect("bootstrap");
    let mut s = Session::new(cat);
    s.execute_blocking("CREATE TABLE t (a INT)", &[]).expect("create");
    s.execute_blocking("INSERT INTO t VALUES (1), (2)", &[]).expect("insert");
    let mut p = s.prepare("SELECT COUNT(*) FROM t").expect("prepare");
    let count = |out: Vec<StatementOutput>| match out.into_iter().last() {
        Some(StatementOutput::Rows { rows, .. }) => format!("{:?}", rows[0][0]),
        other => panic!("no rows: {other:?}"),
    };
    assert_eq!(count(run_prepared(&mut s, &mut p)), count(s.execute_blocking("SELECT 2", &[]).expect("2")));
    // A temporary table shadows t: the cached plan is planned again.
    s.execute_blocking("CREATE TEMPORARY TABLE t (a INT)", &[]).expect("temp");
    assert_eq!(count(run_prepared(&mut s, &mut p)), count(s.execute_blocking("SELECT 0", &[]).expect("0")));
    s.execute_blocking("INSERT INTO t VALUES (5)", &[]).expect("insert");
    assert_eq!(count(run_prepared(&mut s, &mut p)), count(s.execute_blocking("SELECT 1", &[]).expect("1")));
    // Gone again: the base table shows.
    s.execute_blocking("DROP TEMPORARY TABLE t", &[]).expect("drop");
    assert_eq!(count(run_prepared(&mut s, &mut p)), count(s.execute_blocking("SELECT 2", &[]).expect("2")));
}
