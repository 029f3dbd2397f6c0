//! Cancellation over the wire: `KILL QUERY id` from a second connection
//! stops a long cross-join SELECT with 1317 and leaves the connection
//! usable; `max_execution_time` stops a long SELECT with 3024; `KILL id`
//! stops the statement and closes the connection; `KILL QUERY` stops a
//! statement waiting for a row lock. Under both schedulers.

mod harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::Server;
use mysql::prelude::Queryable;
use mysql::Conn;

/// Never true over 2,000^3 rows: hours of work unless stopped.
const ENDLESS: &str = "SELECT COUNT(*) FROM big x, big y, big z WHERE x.v + y.v + z.v < 0";

fn fill(c: &mut Conn) {
    c.query_drop("CREATE TABLE big (v INT NOT NULL)").expect("create");
    c.query_drop("SET cte_max_recursion_depth = 10000").expect("set");
    c.query_drop(
        "INSERT INTO big WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 2000) SELECT v FROM n",
    )
    .expect("fill");
}

fn code(e: &mysql::Error) -> u16 {
    match e {
        mysql::Error::MySqlError(m) => m.code,
        other => panic!("not a server error: {other}"),
    }
}

/// Runs `ENDLESS` on `victim` while a second connection sends `kill`
/// (with the victim's id appended) every 20 ms; returns the error.
fn run_killed(server: &Server, victim: &mut Conn, kill: &str) -> mysql::Error {
    let id = victim.connection_id();
    let done = Arc::new(AtomicBool::new(false));
    let mut killer = server.connect_root(None);
    let d = done.clone();
    let kill = format!("{kill} {id}");
    let t = std::thread::spawn(move || {
        while !d.load(Ordering::Relaxed) {
            // The victim may be gone already after KILL CONNECTION.
            let _ = killer.query_drop(&kill);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let start = Instant::now();
    let r: Result<Option<i64>, _> = victim.query_first(ENDLESS);
    done.store(true, Ordering::Relaxed);
    t.join().expect("killer");
    assert!(start.elapsed() < Duration::from_secs(60));
    r.expect_err("the query was killed")
}

fn kill_query_stops_a_long_select(scheduler: &str) {
    let server = Server::start_with(&format!("kill-{scheduler}"), &["--scheduler", scheduler]);
    let mut a = server.connect_root(None);
    fill(&mut a);
    let e = run_killed(&server, &mut a, "KILL QUERY");
    assert_eq!(code(&e), 1317, "{e}");
    // The connection goes on.
    let n: Option<i64> = a.query_first("SELECT COUNT(*) FROM big").expect("query after kill");
    assert_eq!(n, Some(2000));
    // KILL of the connection stops its statement and closes it.
    let e = run_killed(&server, &mut a, "KILL");
    assert!(matches!(e, mysql::Error::MySqlError(_) | mysql::Error::IoError(_) | mysql::Error::DriverError(_)), "{e}");
    assert!(a.query_drop("SELECT 1").is_err(), "a killed connection is closed");
    // Other connections are served.
    let mut b = server.connect_root(None);
    let n: Option<i64> = b.query_first("SELECT COUNT(*) FROM big").expect("other connection");
    assert_eq!(n, Some(2000));
}

#[test]
fn kill_query_stops_a_long_select_pool() {
    kill_query_stops_a_long_select("pool");
}

#[test]
fn kill_query_stops_a_long_select_thread() {
    kill_query_stops_a_long_select("thread");
}

#[test]
fn max_execution_time_stops_a_long_select() {
    let server = Server::start("max-exec-time");
    let mut a = server.connect_root(None);
    fill(&mut a);
    a.query_drop("SET SESSION max_execution_time = 100").expect("set");
    let start = Instant::now();
    let e = a.query_first::<i64, _>(ENDLESS).expect_err("timed out");
    assert_eq!(code(&e), 3024, "{e}");
    assert!(start.elapsed() < Duration::from_secs(30));
    // Prepared too (the binary protocol).
    let e = a.exec_first::<i64, _, _>(ENDLESS, ()).expect_err("timed out");
    assert_eq!(code(&e), 3024, "{e}");
    let n: Option<i64> = a.query_first("SELECT COUNT(*) FROM big").expect("short query");
    assert_eq!(n, Some(2000));
}

/// `KILL QUERY` of a statement waiting for a row lock another transaction
/// holds: it fails with 1317 long before its lock wait timeout (100 s
/// here), its own transaction stays open and the connection usable, and
/// the holder commits unharmed.
fn kill_query_stops_a_row_lock_wait(scheduler: &str) {
    let server = Server::start_with(&format!("kill-lock-{scheduler}"), &["--scheduler", scheduler]);
    let mut holder = server.connect_root(None);
    holder.query_drop("CREATE TABLE hot (id INT PRIMARY KEY, v INT)").expect("create");
    holder.query_drop("INSERT INTO hot VALUES (1, 0), (2, 0)").expect("rows");
    holder.query_drop("BEGIN").expect("begin");
    holder.query_drop("UPDATE hot SET v = 1 WHERE id = 1").expect("lock row 1");
    let mut victim = server.connect_root(None);
    victim.query_drop("SET innodb_lock_wait_timeout = 100").expect("timeout");
    victim.query_drop("BEGIN").expect("begin");
    victim.query_drop("UPDATE hot SET v = 2 WHERE id = 2").expect("own write");
    let id = victim.connection_id();
    let done = Arc::new(AtomicBool::new(false));
    let mut killer = server.connect_root(None);
    let d = done.clone();
    let t = std::thread::spawn(move || {
        // Repeated: a KILL that arrives before the wait begins is forgotten
        // when the statement starts.
        while !d.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
            let _ = killer.query_drop(format!("KILL QUERY {id}"));
        }
    });
    let start = Instant::now();
    let r = victim.query_drop("UPDATE hot SET v = 3 WHERE id = 1");
    done.store(true, Ordering::Relaxed);
    t.join().expect("killer");
    let e = r.expect_err("the waiting statement was killed");
    assert_eq!(code(&e), 1317, "{e}");
    assert!(start.elapsed() < Duration::from_secs(30), "stopped by KILL, not by the timeout");
    // The victim's transaction is still open: its own write is there, and
    // rolling back undoes it.
    let v: Option<i64> = victim.query_first("SELECT v FROM hot WHERE id = 2").expect("read own write");
    assert_eq!(v, Some(2));
    victim.query_drop("ROLLBACK").expect("rollback");
    holder.query_drop("COMMIT").expect("holder commits");
    let rows: Vec<(i64, i64)> = victim.query("SELECT id, v FROM hot ORDER BY id").expect("rows");
    assert_eq!(rows, vec![(1, 1), (2, 0)]);
}

#[test]
fn kill_query_stops_a_row_lock_wait_pool() {
    kill_query_stops_a_row_lock_wait("pool");
}

#[test]
fn kill_query_stops_a_row_lock_wait_thread() {
    kill_query_stops_a_row_lock_wait("thread");
}
