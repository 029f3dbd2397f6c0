//! Profiling helper: bulk insert of sbtest-like rows in one transaction,
//! CREATE INDEX over them, and a join with GROUP BY (steps W1, W1b and W5b
//! of the embedded workload). Usage: `bulk [ROWS] [DIR]` (default 100,000
//! rows in memory; with `DIR`, on the disk engine in that new directory).

use std::time::Instant;

use mizzle::{params, Database};

fn main() -> Result<(), mizzle::Error> {
    let n: i64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let db = match std::env::args().nth(2) {
        Some(dir) => {
            let _ = std::fs::remove_dir_all(&dir);
            Database::open(&dir)?
        }
        None => Database::open_in_memory()?,
    };
    let s = db.session();
    s.execute("CREATE TABLE sbtest1 (id INTEGER PRIMARY KEY, k INTEGER NOT NULL DEFAULT 0, c TEXT NOT NULL, pad TEXT NOT NULL)", [])?;
    let c = "0123456789-".repeat(10) + "0123456789";
    let pad = "0123456789-".repeat(5) + "01234";
    let t = Instant::now();
    s.begin()?;
    let mut ins = s.prepare("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)")?;
    for i in 1..=n {
        ins.execute(params![i, (i * 7919) % n + 1, c.as_str(), pad.as_str()])?;
    }
    let c = Instant::now();
    s.commit()?;
    println!("insert: {:.0} rows/s (commit {:.3} s)", n as f64 / t.elapsed().as_secs_f64(), c.elapsed().as_secs_f64());
    if std::env::var_os("BULK_STATS").is_some() {
        for (k, v) in db.engine_stats() {
            println!("  {k} = {v}");
        }
    }
    if std::env::var_os("BULK_INSERT_ONLY").is_some() {
        return Ok(());
    }
    let t = Instant::now();
    s.execute("CREATE INDEX k_1 ON sbtest1 (k)", [])?;
    println!("create index: {:.3} s", t.elapsed().as_secs_f64());
    s.execute("CREATE TABLE ja (id INTEGER PRIMARY KEY, b_code INTEGER NOT NULL, val INTEGER NOT NULL)", [])?;
    s.execute(
        "CREATE TABLE jb (id INTEGER PRIMARY KEY, code INTEGER NOT NULL, grp INTEGER NOT NULL, name TEXT NOT NULL)",
        [],
    )?;
    s.execute("CREATE UNIQUE INDEX jb_code ON jb (code)", [])?;
    s.begin()?;
    let mut ib = s.prepare("INSERT INTO jb (id, code, grp, name) VALUES (?, ?, ?, ?)")?;
    for i in 1..=n {
        ib.execute(params![i, n + (i * 7919) % n, i % 1000, format!("name-{i}")])?;
    }
    let mut ia = s.prepare("INSERT INTO ja (id, b_code, val) VALUES (?, ?, ?)")?;
    for i in 1..=n {
        ia.execute(params![i, n + (i * 31) % n, i % 1000])?;
    }
    s.commit()?;
    let t = Instant::now();
    let reps = 5;
    for _ in 0..reps {
        let r = s.query(
            "SELECT jb.grp, COUNT(*), SUM(ja.val) FROM ja JOIN jb ON ja.b_code = jb.code GROUP BY jb.grp ORDER BY jb.grp",
            [],
        )?;
        assert_eq!(r.len(), 1000);
    }
    println!("join: {:.3} s per query", t.elapsed().as_secs_f64() / reps as f64);
    Ok(())
}
