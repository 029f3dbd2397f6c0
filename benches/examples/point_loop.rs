//! A loop of prepared statements on the in-memory engine (or the disk
//! engine, below), for profilers:
//! `cargo build --release -p mizzle-bench --example point_loop` then
//! `perf record -g target/release/examples/point_loop 2000000 [point|range]`
//! or `valgrind --tool=callgrind --toggle-collect='mizzle::Statement::query*'
//! target/release/examples/point_loop 100000` (the load is not counted).
//! `point`: `SELECT c FROM sbtest1 WHERE id = ?` (W2); `range`: 100 rows by
//! primary key (W3a); `order`: the same ranges `ORDER BY c` (W3b);
//! `distinct`: sysbench's `SELECT DISTINCT c` over the same ranges; `agg`:
//! the W5a group-by over all rows; `sort`: every row by `c DESC, id` (the
//! criterion `sort` bench); `join`: the W5b join and group-by;
//! `page`: keyset pagination, `SELECT c FROM sbtest1 WHERE id > ? ORDER
//! BY id LIMIT 10` (the primary key's order, no sort); `lastpage`: the
//! same backwards, `WHERE id < ? ORDER BY id DESC LIMIT 10` (a descending
//! scan);
//! `pointjoin`: one row of `ja` by primary key joined with its `jb` row by
//! `jb`'s unique `code` (an index lookup join; before lookup joins, a hash
//! join over all of `jb`);
//! `index`: the W1b `CREATE INDEX` (n indexes on `k`, named k_1..k_n);
//! `textinsert`: sysbench's `oltp_insert`, a text INSERT per autocommit
//! statement (parsed and planned each time).
//! `POINT_LOOP_UPDATES=N` runs N autocommit updates of random rows first;
//! `POINT_LOOP_SYNC=off|normal` opens the disk database in that sync mode.
//! Prints ns per statement. With `POINT_LOOP_DIR=DIR` the database is a
//! new disk database in DIR (removed first) instead of the memory engine;
//! `POINT_LOOP_ROWS=N` loads N rows instead of 100,000 (the join tables
//! too).

use std::hint::black_box;
use std::time::Instant;

use mizzle::{params, Database};
use mizzle_bench::data::{self, to_i64, SbtestGen, SEED_LOAD};
use mizzle_bench::rng::SplitMix64;

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let mode = std::env::args().nth(2).unwrap_or_else(|| "point".into());
    // `POINT_LOOP_ROWS=N`: rows in sbtest1 (and the join tables), 100,000 by default.
    let rows: u64 = std::env::var("POINT_LOOP_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    // `POINT_LOOP_DIR=DIR`: a disk database created afresh in DIR.
    let dir = std::env::var_os("POINT_LOOP_DIR").map(std::path::PathBuf::from);
    if let Some(d) = &dir {
        let _ = std::fs::remove_dir_all(d);
    }
    let db = match &dir {
        // `POINT_LOOP_SYNC=normal|off`: commits do not wait for `fdatasync`
        // (to see a statement's own cost on disk).
        Some(d) => {
            let sync = match std::env::var("POINT_LOOP_SYNC").as_deref() {
                Ok("off") => mizzle::SyncMode::Off,
                Ok("normal") => mizzle::SyncMode::Normal,
                _ => mizzle::SyncMode::Full,
            };
            Database::open_with(d, mizzle::OpenOptions { sync, ..Default::default() }).expect("open on disk")
        }
        None => Database::open_in_memory().expect("open"),
    };
    let s = db.session();
    s.execute(
        "CREATE TABLE sbtest1 (id INTEGER PRIMARY KEY, k INTEGER NOT NULL DEFAULT 0, c TEXT NOT NULL, pad TEXT NOT NULL)",
        [],
    )
    .expect("create");
    let mut rng = SplitMix64::new(SEED_LOAD);
    let mut gen = SbtestGen::new();
    s.begin().expect("begin");
    {
        let mut st = s.prepare("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)").expect("prepare");
        for id in 1..=rows {
            let r = gen.next_row(&mut rng, rows);
            st.execute(params![to_i64(id), r.k, r.c, r.pad]).expect("insert");
        }
    }
    s.commit().expect("commit");
    // `POINT_LOOP_UPDATES=N`: N autocommit updates of random rows before
    // the loop, so recent versions sit in the disk engine's memtable beside
    // its tree, as under a read-write load (the scans then merge them).
    let updates: u64 = std::env::var("POINT_LOOP_UPDATES").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    if updates > 0 {
        let mut st = s.prepare("UPDATE sbtest1 SET k = k + 1 WHERE id = ?").expect("prepare update");
        let mut urng = SplitMix64::new(7);
        for _ in 0..updates {
            st.execute(params![to_i64(urng.range(1, rows))]).expect("update");
        }
    }
    if mode == "join" || mode == "pointjoin" {
        load_join_tables(&s, rows);
    }
    if mode == "index" {
        let start = Instant::now();
        for i in 1..=n {
            s.execute(&format!("CREATE INDEX k_{i} ON sbtest1 (k)"), []).expect("create index");
        }
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        println!("{n} index builds: {ns:.0} ns each");
        return;
    }
    if mode == "textinsert" {
        // sysbench's oltp_insert: a text INSERT per autocommit statement,
        // parsed and planned each time.
        let texts: Vec<String> = (0..n)
            .map(|i| {
                let r = gen.next_row(&mut rng, rows);
                format!(
                    "INSERT INTO sbtest1 (id, k, c, pad) VALUES ({}, {}, '{}', '{}')",
                    rows + 1 + i,
                    r.k,
                    r.c,
                    r.pad
                )
            })
            .collect();
        let start = Instant::now();
        for t in &texts {
            s.execute(t, []).expect("text insert");
        }
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        println!("{n} text inserts: {ns:.0} ns each");
        return;
    }
    let sql = match mode.as_str() {
        "point" => "SELECT c FROM sbtest1 WHERE id = ?",
        "range" => "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?",
        "order" => "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
        "distinct" => "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
        "agg" => "SELECT k % 100, COUNT(*), SUM(LENGTH(c)) FROM sbtest1 GROUP BY 1",
        "sort" => "SELECT id, c FROM sbtest1 ORDER BY c DESC, id",
        "join" => {
            "SELECT jb.grp, COUNT(*), SUM(ja.val) FROM ja JOIN jb ON ja.b_code = jb.code GROUP BY jb.grp ORDER BY jb.grp"
        }
        "page" => "SELECT c FROM sbtest1 WHERE id > ? ORDER BY id LIMIT 10",
        "lastpage" => "SELECT c FROM sbtest1 WHERE id < ? ORDER BY id DESC LIMIT 10",
        "pointjoin" => "SELECT ja.val, jb.name FROM ja JOIN jb ON ja.b_code = jb.code WHERE ja.id = ?",
        other => panic!("unknown mode {other}: point, range, order, distinct, agg, sort, join, pointjoin, page or lastpage"),
    };
    let mut st = s.prepare(sql).expect("prepare");
    let mut rng = SplitMix64::new(2);
    let start = Instant::now();
    for _ in 0..n {
        // Rows read borrowed, as the workload reads them.
        let mut width = 0;
        let mut read = |r: mizzle::RowRef<'_>| {
            width = r.values().len();
            Ok(())
        };
        match mode.as_str() {
            "point" | "pointjoin" | "page" | "lastpage" => {
                st.query_each(params![to_i64(rng.range(1, rows))], &mut read).expect("point select")
            }
            "agg" | "join" | "sort" => st.query_each(params![], &mut read).expect("whole-table query"),
            _ => {
                let lo = to_i64(rng.range(1, rows - 99));
                st.query_each(params![lo, lo + 99], &mut read).expect("range select")
            }
        };
        black_box(width);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{n} {mode} selects: {ns:.0} ns each");
}

/// The W5b tables, filled as the workload fills them.
fn load_join_tables(s: &mizzle::Session, rows: u64) {
    s.execute("CREATE TABLE ja (id INTEGER PRIMARY KEY, b_code INTEGER NOT NULL, val INTEGER NOT NULL)", [])
        .expect("ja");
    s.execute(
        "CREATE TABLE jb (id INTEGER PRIMARY KEY, code INTEGER NOT NULL, grp INTEGER NOT NULL, name TEXT NOT NULL)",
        [],
    )
    .expect("jb");
    s.execute("CREATE UNIQUE INDEX jb_code ON jb (code)", []).expect("jb_code");
    s.begin().expect("begin");
    let mut ins = s.prepare("INSERT INTO jb (id, code, grp, name) VALUES (?, ?, ?, ?)").expect("prepare");
    for id in 1..=rows {
        let (code, grp, name) = data::jb_row(id, rows);
        ins.execute(params![to_i64(id), code, grp, name]).expect("jb row");
    }
    let mut ins = s.prepare("INSERT INTO ja (id, b_code, val) VALUES (?, ?, ?)").expect("prepare");
    let mut rng = SplitMix64::new(data::SEED_JOIN);
    for id in 1..=rows {
        let (b_code, val) = data::ja_row(&mut rng, rows);
        ins.execute(params![to_i64(id), b_code, val]).expect("ja row");
    }
    s.commit().expect("commit");
}
