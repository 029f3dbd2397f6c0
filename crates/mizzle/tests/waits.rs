//! Lock waits seen through the embedded API: contended autocommit updates
//! lose nothing and fail never, deadlocks are reported at once, a rolled
//! back transaction block refuses statements, `query` refuses statements
//! without rows before running them, and a waiting statement is a ticket a
//! caller can park on.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use mizzle::{params, BeginOptions, Database, IsolationLevel, OpenOptions, SyncMode};
use mizzle_types::SqlError;

const LEVELS: [(&str, IsolationLevel); 3] = [
    ("READ COMMITTED", IsolationLevel::ReadCommitted),
    ("REPEATABLE READ", IsolationLevel::RepeatableRead),
    ("SERIALIZABLE", IsolationLevel::Serializable),
];

fn count(db: &Database, sql: &str) -> i64 {
    db.session().query(sql, []).expect("query").get(0).expect("one row").get::<i64>(0).expect("an integer")
}

/// Waits until `n` statements of `db` wait for a lock (a handshake with a
/// thread that is about to block, not a sleep).
fn until_waiting(db: &Database, n: u64) {
    let start = Instant::now();
    while db.lock_stats().current_waits < n {
        assert!(start.elapsed() < Duration::from_secs(30), "no statement began to wait");
        std::thread::yield_now();
    }
}

/// 8 threads x 1,000 autocommit `UPDATE c SET v = v + 1 WHERE id = 1` at
/// `level`: every update succeeds and none is lost (half the threads use
/// text, half a prepared statement).
fn counter(db: &Database, level: &str) {
    let s = db.session();
    s.execute("CREATE TABLE c (id INT PRIMARY KEY, v BIGINT NOT NULL)", []).expect("create");
    s.execute("INSERT INTO c VALUES (1, 0)", []).expect("insert");
    let hs: Vec<_> = (0..8)
        .map(|t| {
            let db = db.clone();
            let level = level.to_string();
            std::thread::spawn(move || {
                let s = db.session();
                s.execute(&format!("SET SESSION TRANSACTION ISOLATION LEVEL {level}"), []).expect("level");
                let mut prepared = s.prepare("UPDATE c SET v = v + 1 WHERE id = ?").expect("prepare");
                for _ in 0..1000 {
                    let r = if t % 2 == 0 {
                        s.execute("UPDATE c SET v = v + 1 WHERE id = 1", [])
                    } else {
                        prepared.execute(params![1])
                    };
                    let done = r.unwrap_or_else(|e| panic!("{level}: an autocommit increment failed: {e}"));
                    assert_eq!(done.rows_affected, 1);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("thread");
    }
    assert_eq!(count(db, "SELECT v FROM c WHERE id = 1"), 8000, "{level}: lost updates");
}

#[test]
fn contended_autocommit_increments_never_fail_and_never_lose_an_update() {
    for (name, _) in LEVELS {
        let db = Database::open_in_memory().expect("db");
        counter(&db, name);
        let st = db.lock_stats();
        eprintln!("{name}: {} waits, {} restarts, {} deadlocks", st.waits, st.restarts, st.deadlocks);
        assert_eq!(st.current_waits, 0);
    }
}

#[test]
fn contended_autocommit_increments_on_disk_never_fail() {
    let dir = std::env::temp_dir().join(format!("mizzle-waits-counter-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Database::open_with(&dir, OpenOptions::new().sync(SyncMode::Off)).expect("disk db");
    counter(&db, "REPEATABLE READ");
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_deadlock_between_two_sessions_is_reported_at_once_not_after_the_timeout() {
    for (name, level) in LEVELS {
        let db = Database::open_in_memory().expect("db");
        let (a, b) = (db.session(), db.session());
        a.execute("CREATE TABLE d (id INT PRIMARY KEY, v INT)", []).expect("create");
        a.execute("INSERT INTO d VALUES (1, 0), (2, 0)", []).expect("insert");
        a.begin_with(level).expect("begin a");
        b.begin_with(level).expect("begin b");
        a.execute("UPDATE d SET v = 1 WHERE id = 1", []).expect("a writes row 1");
        b.execute("UPDATE d SET v = 2 WHERE id = 2", []).expect("b writes row 2");
        let t = std::thread::spawn(move || {
            let r = a.execute("UPDATE d SET v = 1 WHERE id = 2", []).map(|e| e.rows_affected);
            (a, r)
        });
        until_waiting(&db, 1);
        let started = Instant::now();
        let e = b.execute("UPDATE d SET v = 2 WHERE id = 1", []).expect_err("a deadlock");
        let took = started.elapsed();
        eprintln!("{name}: deadlock reported after {took:?}");
        assert!(took < Duration::from_millis(500), "{name}: the deadlock took {took:?} to report");
        assert_eq!((e.number(), e.sqlstate()), (1213, "40001"), "{e}");
        assert!(e.message.contains("main.d") && !e.message.contains("space"), "names the table: {e}");
        assert!(b.transaction_rolled_back() && b.in_transaction());
        let (a, r) = t.join().expect("thread");
        assert_eq!(r.expect("the survivor goes on"), 1);
        a.commit().expect("the survivor commits");
        assert_eq!(b.execute("SELECT 1", []).expect_err("refused").number(), 3101);
        b.rollback().expect("rollback ends the block");
        assert!(!b.in_transaction() && !b.transaction_rolled_back());
        assert_eq!(count(&db, "SELECT SUM(v) FROM d"), 2, "{name}: a's two rows");
        let st = db.lock_stats();
        assert_eq!(st.deadlocks, 1);
        let last = st.last_deadlock.expect("kept");
        assert_eq!(last.cycle.len(), 2);
        let status = db.session().query("SHOW STATUS LIKE 'Mizzle_last_deadlock'", []).expect("status");
        let text: String = status.get(0).expect("row").get(1).expect("text");
        assert!(text.contains("main.d") && text.contains("rolled back"), "{text}");
    }
}

#[test]
fn after_a_deadlock_the_block_refuses_statements_and_commit_until_it_ends() {
    let db = Database::open_in_memory().expect("db");
    let (a, b) = (db.session(), db.session());
    a.execute("CREATE TABLE r (id INT PRIMARY KEY, v INT)", []).expect("create");
    a.execute("INSERT INTO r VALUES (1, 0)", []).expect("insert");
    a.begin().expect("begin");
    assert_eq!(a.query("SELECT v FROM r", []).expect("read").len(), 1);
    b.execute("UPDATE r SET v = 5 WHERE id = 1", []).expect("concurrent commit");
    let e = a.execute("UPDATE r SET v = v + 1 WHERE id = 1", []).expect_err("first committer wins");
    assert_eq!(e.number(), 1213);
    // The client misses the error and goes on: nothing runs, nothing commits.
    assert_eq!(a.execute("INSERT INTO r VALUES (2, 2)", []).expect_err("refused").number(), 3101);
    let e = a.commit().expect_err("COMMIT of a rolled-back transaction");
    assert_eq!((e.number(), e.sqlstate()), (3101, "40000"));
    assert!(!a.in_transaction(), "COMMIT ended the block");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM r"), 1, "the INSERT never ran");
    // BEGIN also ends the state and starts afresh.
    a.begin().expect("begin");
    a.query("SELECT v FROM r", []).expect("read");
    b.execute("UPDATE r SET v = 6 WHERE id = 1", []).expect("concurrent commit");
    a.execute("UPDATE r SET v = v + 1 WHERE id = 1", []).expect_err("conflict");
    a.begin().expect("BEGIN ends the rolled-back block");
    a.execute("UPDATE r SET v = v + 1 WHERE id = 1", []).expect("a new transaction");
    a.commit().expect("commit");
    assert_eq!(count(&db, "SELECT v FROM r"), 7);
}

#[test]
fn query_refuses_a_statement_without_rows_before_running_it() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE q (id INT PRIMARY KEY, v INT)", []).expect("create");
    s.execute("INSERT INTO q VALUES (1, 1)", []).expect("insert");
    for sql in ["UPDATE q SET v = 99 WHERE id = 1", "DELETE FROM q", "SET @x = 1", "COMMIT", "CREATE TABLE q2 (a INT)"]
    {
        let e = s.query(sql, []).expect_err(sql);
        assert_eq!(e.number(), 1221, "{sql}: {e}");
    }
    assert_eq!(count(&db, "SELECT v FROM q"), 1, "the UPDATE did not run");
    assert!(s.query("SELECT * FROM q2", []).is_err(), "the CREATE did not run");
    let mut upd = s.prepare("UPDATE q SET v = ? WHERE id = 1").expect("prepare");
    assert_eq!(upd.query(params![5]).expect_err("no rows").number(), 1221);
    assert_eq!(count(&db, "SELECT v FROM q"), 1);
    // Statements that return rows are fine, SHOW and EXPLAIN included.
    assert_eq!(s.query("SHOW TABLES", []).expect("show").len(), 1);
    assert!(!s.query("EXPLAIN SELECT * FROM q", []).expect("explain").is_empty());
    // execute on a query runs it and reports its row count.
    assert_eq!(s.execute("SELECT * FROM q", []).expect("execute a query").rows_affected, 1);
}

#[test]
fn session_state_is_public_and_begin_with_can_start_a_read_only_transaction() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE ro (a INT)", []).expect("create");
    assert!(s.autocommit() && !s.in_transaction());
    s.begin_with(BeginOptions::new().read_only()).expect("begin read only");
    assert!(s.in_transaction());
    assert_eq!(s.execute("INSERT INTO ro VALUES (1)", []).expect_err("read only").number(), 1792);
    s.commit().expect("commit");
    s.execute("SET autocommit = 0", []).expect("autocommit off");
    assert!(!s.autocommit());
    s.execute("INSERT INTO ro VALUES (1)", []).expect("insert");
    assert!(s.in_transaction());
    s.rollback().expect("rollback");
}

#[test]
fn a_waiting_statement_is_a_ticket_the_caller_can_park_on() {
    let db = Database::open_in_memory().expect("db");
    let a = db.session();
    a.execute("CREATE TABLE p (id INT PRIMARY KEY, v INT)", []).expect("create");
    a.execute("INSERT INTO p VALUES (1, 0)", []).expect("insert");
    a.begin().expect("begin");
    a.execute("UPDATE p SET v = v + 1 WHERE id = 1", []).expect("hold row 1");
    let mut k = db.session().into_kernel_session();
    let ex = k.execute("UPDATE p SET v = v + 10 WHERE id = 1", &[]).expect("runs until the lock");
    let wait = ex.lock_wait().expect("waits for a").clone();
    assert!(ex.lock_deadline().is_some(), "innodb_lock_wait_timeout applies");
    assert_eq!(db.lock_stats().current_waits, 1);
    // A scheduler parks the session and is called back; no thread blocks.
    let (tx, rx) = mpsc::channel();
    wait.on_complete(move |_| {
        let _ = tx.send(());
    });
    // Resuming early changes nothing.
    let ex = k.resume(ex).expect("still waiting");
    assert!(ex.lock_wait().is_some());
    a.commit().expect("commit");
    rx.recv_timeout(Duration::from_secs(10)).expect("the callback ran");
    let ex = k.resume(ex).expect("runs again");
    assert!(ex.lock_wait().is_none());
    let outs = ex.finish().expect("commits");
    assert_eq!(outs.len(), 1);
    assert_eq!(count(&db, "SELECT v FROM p"), 11);
    // Running something else abandons a waiting statement; the old
    // execution cannot resume any more.
    a.begin().expect("begin");
    a.execute("UPDATE p SET v = 0 WHERE id = 1", []).expect("hold row 1");
    let ex = k.execute("UPDATE p SET v = 100 WHERE id = 1", &[]).expect("waits");
    assert!(ex.lock_wait().is_some());
    let out = k.execute_blocking("SELECT 1", &[]).expect("the session is usable");
    assert_eq!(out.len(), 1);
    assert_eq!(db.lock_stats().current_waits, 0, "the abandoned wait was withdrawn");
    assert_eq!(k.resume(ex).err().map(|e| e.code().number()), Some(1221));
    a.commit().expect("commit");
    assert_eq!(count(&db, "SELECT v FROM p"), 0, "the abandoned update never ran");
}

#[test]
fn open_options_set_the_isolation_level_sessions_start_at() {
    let level = |db: &Database| {
        db.session().query("SELECT @@transaction_isolation", []).expect("query").get(0).expect("row").get::<String>(0)
    };
    let db = Database::open_in_memory_with(OpenOptions::new().transaction_isolation("read-committed")).expect("db");
    assert_eq!(level(&db).expect("text"), "READ-COMMITTED");
    // Each statement of a transaction reads the newest commits.
    let second_read = |db: &Database| {
        let (a, b) = (db.session(), db.session());
        a.execute("CREATE TABLE n (v INT)", []).expect("create");
        a.execute("INSERT INTO n VALUES (0)", []).expect("insert");
        a.execute("BEGIN", []).expect("begin");
        assert_eq!(count(db, "SELECT v FROM n"), 0);
        a.query("SELECT v FROM n", []).expect("first read");
        b.execute("UPDATE n SET v = 1", []).expect("update");
        a.query("SELECT v FROM n", []).expect("second read").get(0).expect("row").get::<i64>(0).expect("int")
    };
    assert_eq!(second_read(&db), 1, "READ COMMITTED: a non-repeatable read");
    let db = Database::open_in_memory().expect("db");
    assert_eq!(level(&db).expect("text"), "REPEATABLE-READ");
    assert_eq!(second_read(&db), 0, "REPEATABLE READ: the snapshot of the first read");
    let e = Database::open_in_memory_with(OpenOptions::new().transaction_isolation("SNAPSHOT")).err().expect("refused");
    assert_eq!(e.number(), 1231);
}
