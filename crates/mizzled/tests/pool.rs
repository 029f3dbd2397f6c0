//! The pool scheduler under concurrency: more connections than workers
//! (two), each mixing prepared queries, transactions whose commits park on
//! durability, and pipelined commands (several sent before any answer is
//! read, so a worker finds the next command already complete). Every answer
//! is checked, and every client has a deadline: a lost wake-up or a lost
//! readiness edge (a connection that nobody serves) fails the test instead
//! of hanging it. Sessions that end with temporary tables while others
//! commit must not hold the only worker.

mod harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use harness::{raw_login, Server, ROOT_PASSWORD};
use mysql::prelude::Queryable;

const PLAIN_CLIENTS: u32 = 12;
const PIPELINING_CLIENTS: u32 = 4;
const ROUNDS: u32 = 120;
/// Every `TXN_EVERY`-th round of a plain client is a transaction.
const TXN_EVERY: u32 = 4;

fn plain_client(server: &Server, client: u32) -> Result<(), String> {
    let mut c = server.connect_root(Some("stress"));
    let st = c.prep("SELECT ? + 1").map_err(|e| e.to_string())?;
    for round in 0..ROUNDS {
        if round % TXN_EVERY == 0 {
            c.query_drop("BEGIN").map_err(|e| e.to_string())?;
            c.exec_drop("INSERT INTO t (client, n) VALUES (?, ?)", (client, round)).map_err(|e| e.to_string())?;
            c.query_drop("COMMIT").map_err(|e| e.to_string())?;
        } else {
            let n = i64::from(client * 1000 + round);
            let got: Option<i64> = c.exec_first(&st, (n,)).map_err(|e| e.to_string())?;
            if got != Some(n + 1) {
                return Err(format!("client {client} round {round}: SELECT {n} + 1 gave {got:?}"));
            }
        }
    }
    Ok(())
}

fn read_packet(s: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).map_err(|e| e.to_string())?;
    let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).map_err(|e| e.to_string())?;
    Ok(p)
}

/// Sends `depth` text queries in one write, then reads their answers
/// (classic EOF framing: column count, definition, EOF, the row, EOF).
fn pipelining_client(server: &Server, client: u32, depth: u32) -> Result<(), String> {
    let mut s = raw_login(server.addr, ROOT_PASSWORD).map_err(|e| String::from_utf8_lossy(&e).into_owned())?;
    for round in 0..ROUNDS {
        let mut batch = Vec::new();
        let values: Vec<u32> = (0..depth).map(|k| client * 100_000 + round * 10 + k).collect();
        for v in &values {
            let sql = format!("SELECT {v}");
            let n = sql.len() + 1;
            batch.extend_from_slice(&[(n & 0xff) as u8, (n >> 8 & 0xff) as u8, (n >> 16 & 0xff) as u8, 0, 0x03]);
            batch.extend_from_slice(sql.as_bytes());
        }
        s.write_all(&batch).map_err(|e| e.to_string())?;
        for v in values {
            let head = read_packet(&mut s)?;
            if head.first() != Some(&1) {
                return Err(format!("client {client}: expected one column for SELECT {v}, got {head:?}"));
            }
            read_packet(&mut s)?; // the column definition
            read_packet(&mut s)?; // EOF
            let row = read_packet(&mut s)?;
            let want = v.to_string();
            if row.get(1..) != Some(want.as_bytes()) || row.first().map(|&l| usize::from(l)) != Some(want.len()) {
                return Err(format!("client {client}: SELECT {v} gave row {row:?}"));
            }
            let eof = read_packet(&mut s)?;
            if eof.first() != Some(&0xFE) {
                return Err(format!("client {client}: no EOF after the row of SELECT {v}"));
            }
        }
    }
    Ok(())
}

#[test]
fn more_connections_than_workers_are_all_served() {
    let server = Server::start_with("pool", &["--workers", "2", "--scheduler", "pool"]);
    commit_table(&server, "stress");
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for client in 0..PLAIN_CLIENTS {
            let (tx, server) = (tx.clone(), &server);
            scope.spawn(move || {
                let _ = tx.send((format!("plain {client}"), plain_client(server, client)));
            });
        }
        for client in 0..PIPELINING_CLIENTS {
            let (tx, server) = (tx.clone(), &server);
            scope.spawn(move || {
                let _ = tx.send((format!("pipelining {client}"), pipelining_client(server, client, 2 + client % 3)));
            });
        }
        for _ in 0..PLAIN_CLIENTS + PIPELINING_CLIENTS {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok((who, Ok(()))) => eprintln!("{who}: done"),
                // The scope would wait for the other (maybe stuck) threads:
                // leave at once.
                Ok((who, Err(e))) => give_up(&server, &format!("{who}: {e}")),
                Err(_) => give_up(&server, "a client got no answer for 120 s: a connection nobody serves"),
            }
        }
    });
    let mut c = server.connect_root(Some("stress"));
    let counts: Vec<(u32, u64)> =
        c.query("SELECT client, COUNT(*) FROM t GROUP BY client ORDER BY client").expect("count");
    let want = u64::from(ROUNDS.div_ceil(TXN_EVERY));
    assert_eq!(counts, (0..PLAIN_CLIENTS).map(|k| (k, want)).collect::<Vec<_>>(), "every commit is there once");
    // Workers with nothing to do sleep while another leads (pool.rs
    // invariant 6): fewer idle rounds than tasks (0.1-0.3 per task in
    // release builds), plus the sleeps' and the poll's timeouts. Workers
    // that spun past the sleep made 10-150 per task in six of seven runs
    // with the bug put back (the spin needs a race in the hand-over).
    let status: Vec<(String, String)> = c.query("SHOW STATUS LIKE 'Mizzle_scheduler_%'").expect("status");
    let get = |name: &str| -> u64 {
        status
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in SHOW STATUS: {status:?}"))
    };
    let (idle, dispatched) = (get("Mizzle_scheduler_idle_rounds"), get("Mizzle_scheduler_dispatched"));
    eprintln!("idle rounds {idle}, tasks dispatched {dispatched}");
    assert!(dispatched > u64::from(ROUNDS), "the commands went through the workers: {dispatched}");
    assert!(idle <= 2 * dispatched + 1_000, "workers spin: {idle} idle rounds for {dispatched} tasks");
}

/// Connects, fills a temporary table, commits into a shared table and
/// leaves, `rounds` times: each session's end deletes its temporary rows in
/// a commit of its own, on the worker that closes the connection.
fn temporary_table_client(server: &Server, client: u32, rounds: u32) -> Result<(), String> {
    for round in 0..rounds {
        let mut c = server.connect_root(Some("tmpstress"));
        c.query_drop("CREATE TEMPORARY TABLE tt (a INT PRIMARY KEY)").map_err(|e| e.to_string())?;
        c.query_drop("INSERT INTO tt VALUES (1), (2), (3)").map_err(|e| e.to_string())?;
        c.exec_drop("INSERT INTO t (client, n) VALUES (?, ?)", (client, round)).map_err(|e| e.to_string())?;
        drop(c);
    }
    Ok(())
}

/// Creates database `db` and its table `t`, where each client commits one
/// row (`client`, `n`) per round.
fn commit_table(server: &Server, db: &str) {
    let mut c = server.connect_root(None);
    c.query_drop(format!("CREATE DATABASE {db}")).expect("create database");
    c.query_drop(format!(
        "CREATE TABLE {db}.t (id INT AUTO_INCREMENT PRIMARY KEY, client INT NOT NULL, n INT NOT NULL)"
    ))
    .expect("create table");
}

/// Ends the test process at once, killing the server first (a stuck
/// server would not stop on SIGTERM, and the harness's drop waits for it).
fn give_up(server: &Server, why: &str) -> ! {
    eprintln!("{why}");
    let _ = std::process::Command::new("kill").arg("-KILL").arg(server.pid().to_string()).status();
    std::process::exit(1);
}

#[test]
fn sessions_ending_with_temporary_tables_do_not_hold_the_only_worker() {
    // One worker: a session's end that waited for another connection's
    // commit to be published (which needs that worker) would hang it
    // (until 2026-12-05 the temporary tables' clean-up commit waited so;
    // with that put back, the worker hung in both runs tried).
    const CLIENTS: u32 = 6;
    const ROUNDS: u32 = 25;
    let server = Server::start_with("pool-temp", &["--workers", "1", "--scheduler", "pool"]);
    commit_table(&server, "tmpstress");
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let (tx, server) = (tx.clone(), &server);
            scope.spawn(move || {
                let _ = tx.send(temporary_table_client(server, client, ROUNDS).map(|()| None));
            });
        }
        // The sessions end on the server after their clients leave: a
        // query after them must still be answered.
        let mut done = 0;
        while done < CLIENTS {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(Ok(_)) => done += 1,
                Ok(Err(e)) => give_up(&server, &format!("a client failed: {e}")),
                Err(_) => give_up(&server, "a client got no answer for 120 s: the worker is stuck"),
            }
        }
        let (tx, server) = (tx.clone(), &server);
        scope.spawn(move || {
            let mut c = server.connect_root(Some("tmpstress"));
            let n = c.query_first::<u64, _>("SELECT COUNT(*) FROM t").map_err(|e| e.to_string());
            let _ = tx.send(n);
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(n)) => assert_eq!(n, Some(u64::from(CLIENTS * ROUNDS)), "every commit is there once"),
            Ok(Err(e)) => give_up(server, &format!("the count failed: {e}")),
            Err(_) => give_up(server, "the count got no answer for 120 s: the worker is stuck"),
        }
    });
}
