//! Concurrent-transaction benchmark: N threads run short transactions on a
//! table of 100,000 rows at each isolation level and report throughput and
//! abort rate.
//!
//! Mixes: `read-heavy` (90% read-only transactions reading 4 rows, 10%
//! read-modify-write of 2 rows) and `write-heavy` (every transaction is a
//! read-modify-write of 2 rows). A transaction that fails with 1213 counts
//! as an abort and is not retried. Output: one line per (mix, level,
//! threads): `mix=.. level=.. threads=.. txn_per_s=.. commits=.. aborts=.. abort_rate=..`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use mizzle::{params, Database, IsolationLevel};
use mizzle_bench::rng::SplitMix64;

#[derive(Parser)]
#[command(about = "mizzle concurrent-transaction benchmark")]
struct Args {
    /// Rows in the table.
    #[arg(long, default_value_t = 100_000)]
    rows: i64,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Thread counts to run.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    threads: Vec<usize>,
    /// Mixes to run.
    #[arg(long, value_delimiter = ',', default_value = "read-heavy,write-heavy")]
    mix: Vec<String>,
}

fn level_name(l: IsolationLevel) -> &'static str {
    match l {
        IsolationLevel::ReadCommitted => "READ-COMMITTED",
        IsolationLevel::RepeatableRead => "REPEATABLE-READ",
        IsolationLevel::Serializable => "SERIALIZABLE",
    }
}

fn run(
    db: &Database,
    rows: i64,
    mix: &str,
    level: IsolationLevel,
    threads: usize,
    secs: f64,
) -> Result<(u64, u64, f64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let aborts = Arc::new(AtomicU64::new(0));
    let read_only_share = if mix == "read-heavy" { 90 } else { 0 };
    let mut hs = Vec::new();
    for t in 0..threads {
        let (db, stop, commits, aborts) = (db.clone(), stop.clone(), commits.clone(), aborts.clone());
        hs.push(std::thread::spawn(move || -> Result<()> {
            let s = db.session();
            let iso = match level {
                IsolationLevel::ReadCommitted => "READ COMMITTED",
                IsolationLevel::RepeatableRead => "REPEATABLE READ",
                IsolationLevel::Serializable => "SERIALIZABLE",
            };
            s.execute(&format!("SET SESSION TRANSACTION ISOLATION LEVEL {iso}"), [])?;
            let mut rng = SplitMix64::new(1000 + t as u64);
            let mut sel = s.prepare("SELECT v FROM acct WHERE id = ?")?;
            let mut upd = s.prepare("UPDATE acct SET v = ? WHERE id = ?")?;
            while !stop.load(Ordering::Relaxed) {
                let read_only = (rng.next_u64() % 100) < read_only_share;
                let r: std::result::Result<(), mizzle::Error> = (|| {
                    s.begin()?;
                    if read_only {
                        for _ in 0..4 {
                            let id = 1 + (rng.next_u64() % rows as u64) as i64;
                            sel.query(params![id])?;
                        }
                    } else {
                        for _ in 0..2 {
                            let id = 1 + (rng.next_u64() % rows as u64) as i64;
                            let v: i64 = sel.query(params![id])?.get(0).map(|r| r.get(0)).transpose()?.unwrap_or(0);
                            upd.execute(params![v + 1, id])?;
                        }
                    }
                    s.commit()
                })();
                match r {
                    Ok(()) => commits.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.number() == 1213 => {
                        if std::env::var("MIZZLE_BENCH_DEBUG").is_ok() {
                            eprintln!("{e}");
                        }
                        let _ = s.rollback();
                        aborts.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => return Err(e.into()),
                };
            }
            Ok(())
        }));
    }
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hs {
        h.join().map_err(|_| anyhow::anyhow!("benchmark thread panicked"))??;
    }
    let el = start.elapsed().as_secs_f64();
    Ok((commits.load(Ordering::Relaxed), aborts.load(Ordering::Relaxed), el))
}

fn main() -> Result<()> {
    let a = Args::parse();
    let db = Database::open_in_memory()?;
    let s = db.session();
    s.execute("CREATE TABLE acct (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)", [])?;
    s.begin()?;
    {
        let mut ins = s.prepare("INSERT INTO acct VALUES (?, 0)")?;
        for id in 1..=a.rows {
            ins.execute(params![id])?;
        }
    }
    s.commit()?;
    println!("# engine=mizzle-memory rows={} secs={}", a.rows, a.secs);
    for mix in &a.mix {
        for level in [IsolationLevel::ReadCommitted, IsolationLevel::RepeatableRead, IsolationLevel::Serializable] {
            for &t in &a.threads {
                let (c, ab, el) = run(&db, a.rows, mix, level, t, a.secs)?;
                let total = (c + ab).max(1);
                println!(
                    "mix={mix} level={} threads={t} txn_per_s={:.0} commits={c} aborts={ab} abort_rate={:.4}",
                    level_name(level),
                    c as f64 / el,
                    ab as f64 / total as f64
                );
                db.collect_garbage()?;
            }
        }
    }
    Ok(())
}
