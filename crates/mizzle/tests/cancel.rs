//! Cancellation through the embedded API: a `CancelHandle` (what `KILL
//! QUERY` uses) and `max_execution_time` (the variable and the
//! `/*+ MAX_EXECUTION_TIME(n) */` hint) stop a statement that would run
//! for hours at its next batch with 1317 or 3024; the statement is undone
//! and the session and its transaction stay usable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mizzle::{Database, Session};

/// `x.v + y.v + z.v < 0` over 2,000^3 rows: never true, hours of work.
const ENDLESS: &str = "SELECT COUNT(*) FROM big x, big y, big z WHERE x.v + y.v + z.v < 0";

fn setup(db: &Database) -> Session {
    let s = db.session();
    s.execute("CREATE TABLE big (v INT NOT NULL)", []).expect("create");
    s.execute("SET cte_max_recursion_depth = 10000", []).expect("set");
    s.execute(
        "INSERT INTO big WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 2000) SELECT v FROM n",
        [],
    )
    .expect("fill");
    s
}

fn one(s: &Session, sql: &str) -> i64 {
    s.query(sql, []).expect("query").get(0).expect("a row").get::<i64>(0).expect("an integer")
}

/// Cancels `s`'s statements from another thread until `done` (the flag is
/// cleared when a statement starts, so one cancel could come too early).
fn keep_cancelling(s: &Session, done: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let h = s.cancel_handle();
    std::thread::spawn(move || {
        while !done.load(Ordering::Relaxed) {
            h.cancel();
            std::thread::sleep(Duration::from_millis(5));
        }
    })
}

#[test]
fn cancel_handle_stops_a_long_query_and_the_session_goes_on() {
    let db = Database::open_in_memory().expect("open");
    let s = setup(&db);
    let done = Arc::new(AtomicBool::new(false));
    let t = keep_cancelling(&s, done.clone());
    let start = Instant::now();
    let e = s.query(ENDLESS, []).expect_err("cancelled");
    done.store(true, Ordering::Relaxed);
    t.join().expect("canceller");
    assert_eq!(e.number(), 1317, "{e}");
    assert!(start.elapsed() < Duration::from_secs(60));
    assert_eq!(one(&s, "SELECT COUNT(*) FROM big"), 2000);
}

#[test]
fn a_cancelled_statement_is_undone_and_its_transaction_goes_on() {
    let db = Database::open_in_memory().expect("open");
    let s = setup(&db);
    s.execute("CREATE TABLE t (v INT)", []).expect("create");
    s.begin().expect("begin");
    s.execute("INSERT INTO t VALUES (-1)", []).expect("insert");
    let done = Arc::new(AtomicBool::new(false));
    let t = keep_cancelling(&s, done.clone());
    let e = s
        .execute("INSERT INTO t SELECT x.v FROM big x, big y, big z WHERE x.v + y.v + z.v < 0 OR z.v = 1", [])
        .expect_err("cancelled");
    done.store(true, Ordering::Relaxed);
    t.join().expect("canceller");
    assert_eq!(e.number(), 1317, "{e}");
    assert!(s.in_transaction(), "the transaction survives a cancelled statement");
    assert_eq!(one(&s, "SELECT COUNT(*) FROM t"), 1, "the cancelled INSERT left no row");
    s.commit().expect("commit");
    assert_eq!(one(&s, "SELECT COUNT(*) FROM t"), 1);
}

#[test]
fn a_cancel_while_idle_is_forgotten() {
    let db = Database::open_in_memory().expect("open");
    let s = setup(&db);
    s.cancel_handle().cancel();
    assert_eq!(one(&s, "SELECT COUNT(*) FROM big"), 2000);
}

#[test]
fn max_execution_time_stops_a_long_select() {
    let db = Database::open_in_memory().expect("open");
    let s = setup(&db);
    s.execute("SET max_execution_time = 50", []).expect("set");
    let start = Instant::now();
    let e = s.query(ENDLESS, []).expect_err("timed out");
    assert_eq!(e.number(), 3024, "{e}");
    assert!(e.to_string().contains("maximum statement execution time exceeded"), "{e}");
    assert!(start.elapsed() < Duration::from_secs(30));
    // Short queries still run; 0 turns the limit off.
    assert_eq!(one(&s, "SELECT COUNT(*) FROM big"), 2000);
    s.execute("SET max_execution_time = 0", []).expect("set");
    assert_eq!(one(&s, "SELECT COUNT(*) FROM big x, big y WHERE x.v = y.v"), 2000);
}

#[test]
fn max_execution_time_hint_limits_one_select() {
    let db = Database::open_in_memory().expect("open");
    let s = setup(&db);
    let hinted = ENDLESS.replacen("SELECT", "SELECT /*+ MAX_EXECUTION_TIME(50) */", 1);
    let e = s.query(&hinted, []).expect_err("timed out");
    assert_eq!(e.number(), 3024, "{e}");
    // The hint overrides the variable, for that statement only.
    s.execute("SET max_execution_time = 1", []).expect("set");
    let r = s.query("SELECT /*+ MAX_EXECUTION_TIME(0) */ COUNT(*) FROM big x, big y WHERE x.v = y.v", []);
    assert_eq!(r.expect("no limit").get(0).expect("row").get::<i64>(0).expect("int"), 2000);
}

#[test]
fn max_execution_time_does_not_limit_writes() {
    let db = Database::open_in_memory().expect("open");
    let s = setup(&db);
    s.execute("CREATE TABLE t (v INT)", []).expect("create");
    s.execute("SET max_execution_time = 1", []).expect("set");
    // A write that takes longer than 1 ms runs to its end, as in MySQL
    // (the limit is for read-only SELECTs).
    let n = s.execute("INSERT INTO t SELECT x.v FROM big x, big y WHERE x.v = y.v", []).expect("insert");
    assert_eq!(n.rows_affected, 2000);
}

#[test]
fn cancel_handle_stops_a_row_lock_wait() {
    let db = Database::open_in_memory().expect("open");
    let holder = db.session();
    holder.execute("CREATE TABLE hot (id INT PRIMARY KEY, v INT)", []).expect("create");
    holder.execute("INSERT INTO hot VALUES (1, 0)", []).expect("row");
    holder.begin().expect("begin");
    holder.execute("UPDATE hot SET v = 1 WHERE id = 1", []).expect("lock the row");
    let waiter = db.session();
    waiter.execute("SET innodb_lock_wait_timeout = 100", []).expect("timeout");
    let done = Arc::new(AtomicBool::new(false));
    let t = keep_cancelling(&waiter, done.clone());
    let start = Instant::now();
    let e = waiter.execute("UPDATE hot SET v = 2 WHERE id = 1", []).expect_err("cancelled while waiting");
    done.store(true, Ordering::Relaxed);
    t.join().expect("canceller");
    assert_eq!(e.number(), 1317, "{e}");
    assert!(start.elapsed() < Duration::from_secs(30), "stopped by the cancel, not by the 100 s timeout");
    holder.commit().expect("the holder commits");
    assert_eq!(one(&waiter, "SELECT v FROM hot WHERE id = 1"), 1);
}
