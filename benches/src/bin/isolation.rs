//! Concurrent-transaction benchmark: N threads run short transactions at
//! each isolation level and report throughput, abort rate and latency.
//!
//! Mixes:
//! - `read-heavy`: 90% read-only transactions reading 4 random rows of the
//!   big table, 10% read-modify-write of 2 rows (SELECT, then UPDATE with
//!   the value the client computed);
//! - `write-heavy`: every transaction is such a read-modify-write of 2 rows;
//! - `contended`: every transaction is `BEGIN; UPDATE hot SET v = v + 1
//!   WHERE id = a; UPDATE hot SET v = v + 1 WHERE id = b; COMMIT` with two
//!   distinct rows `a`, `b` drawn from a hot set of 10 rows (in random
//!   order, so two transactions can deadlock);
//! - `hot-autocommit`: every transaction is one autocommit
//!   `UPDATE hot SET v = v + 1 WHERE id = ?` on one of the 10 hot rows.
//!
//! A transaction that fails with 1213 (deadlock or write conflict) or 1205
//! (lock wait timeout) counts as an abort and is not retried. The two hot
//! mixes also check afterwards that the hot rows grew by exactly the number
//! of rows the committed increments reported changed (`lost_updates` must
//! be 0), and count increments that changed no row (`missed_rows`, also 0:
//! every hot row always exists).
//!
//! Output: one line per (mix, level, threads):
//! `mix=.. level=.. threads=.. txn_per_s=.. commits=.. aborts=.. abort_rate=.. p50_ms=.. p99_ms=.. [lost_updates=.. missed_rows=..]`.
//! Latency is per transaction attempt (BEGIN to COMMIT or to the error),
//! committed or aborted.
//!
//! This program uses only the embedded API as it was before lock waits
//! existed, so the same file measures the engine before and after.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use mizzle::{params, Database, IsolationLevel};
use mizzle_bench::rng::SplitMix64;

#[derive(Parser)]
#[command(about = "mizzle concurrent-transaction benchmark")]
struct Args {
    /// Rows in the big table (read-heavy, write-heavy).
    #[arg(long, default_value_t = 100_000)]
    rows: i64,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Thread counts to run.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,32")]
    threads: Vec<usize>,
    /// Mixes to run.
    #[arg(long, value_delimiter = ',', default_value = "read-heavy,write-heavy,contended,hot-autocommit")]
    mix: Vec<String>,
    /// Isolation levels to run (rc, rr, ser).
    #[arg(long, value_delimiter = ',', default_value = "rc,rr,ser")]
    levels: Vec<String>,
    /// Run this many transactions per thread instead of `--secs` (for
    /// instruction counts under `valgrind --tool=cachegrind`, which the
    /// load of a shared machine does not disturb).
    #[arg(long)]
    txns: Option<u64>,
}

/// Rows in the hot set of the contended mixes.
const HOT: u64 = 10;

fn level_name(l: IsolationLevel) -> &'static str {
    match l {
        IsolationLevel::ReadCommitted => "READ-COMMITTED",
        IsolationLevel::RepeatableRead => "REPEATABLE-READ",
        IsolationLevel::Serializable => "SERIALIZABLE",
    }
}

fn level_sql(l: IsolationLevel) -> &'static str {
    match l {
        IsolationLevel::ReadCommitted => "READ COMMITTED",
        IsolationLevel::RepeatableRead => "REPEATABLE READ",
        IsolationLevel::Serializable => "SERIALIZABLE",
    }
}

/// What one measurement produced.
struct Measured {
    commits: u64,
    aborts: u64,
    /// Increments committed on the hot rows (rows they reported changed).
    increments: u64,
    /// Committed transactions of the hot mixes that changed fewer rows than
    /// they updated.
    missed: u64,
    elapsed: f64,
    /// Attempt latencies in microseconds.
    latencies: Vec<u64>,
}

fn is_abort(e: &mizzle::Error) -> bool {
    matches!(e.number(), 1213 | 1205)
}

/// Runs one transaction of `mix`; returns the hot-row increments it made.
fn one_txn(
    s: &mizzle::Session,
    sel: &mut mizzle::Statement<'_>,
    upd: &mut mizzle::Statement<'_>,
    inc: &mut mizzle::Statement<'_>,
    mix: &str,
    rows: i64,
    rng: &mut SplitMix64,
) -> std::result::Result<u64, mizzle::Error> {
    match mix {
        "hot-autocommit" => {
            let id = 1 + (rng.next_u64() % HOT) as i64;
            Ok(inc.execute(params![id])?.rows_affected)
        }
        "contended" => {
            let a = 1 + (rng.next_u64() % HOT) as i64;
            let b = 1 + ((a as u64 + rng.next_u64() % (HOT - 1)) % HOT) as i64;
            s.begin()?;
            let n = inc.execute(params![a])?.rows_affected;
            let m = inc.execute(params![b])?.rows_affected;
            s.commit()?;
            Ok(n + m)
        }
        _ => {
            let read_only = mix == "read-heavy" && (rng.next_u64() % 100) < 90;
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
            s.commit()?;
            Ok(0)
        }
    }
}

fn run(
    db: &Database,
    rows: i64,
    mix: &str,
    level: IsolationLevel,
    threads: usize,
    secs: f64,
    txns: Option<u64>,
) -> Result<Measured> {
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let aborts = Arc::new(AtomicU64::new(0));
    let increments = Arc::new(AtomicU64::new(0));
    let missed = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut hs = Vec::new();
    for t in 0..threads {
        let (db, stop, commits, aborts, increments, missed, latencies) = (
            db.clone(),
            stop.clone(),
            commits.clone(),
            aborts.clone(),
            increments.clone(),
            missed.clone(),
            latencies.clone(),
        );
        let mix = mix.to_string();
        hs.push(std::thread::spawn(move || -> Result<()> {
            let s = db.session();
            s.execute(&format!("SET SESSION TRANSACTION ISOLATION LEVEL {}", level_sql(level)), [])?;
            let mut rng = SplitMix64::new(1000 + t as u64);
            let mut sel = s.prepare("SELECT v FROM acct WHERE id = ?")?;
            let mut upd = s.prepare("UPDATE acct SET v = ? WHERE id = ?")?;
            let mut inc = s.prepare("UPDATE hot SET v = v + 1 WHERE id = ?")?;
            let mut mine = Vec::with_capacity(1 << 16);
            let mut left = txns.unwrap_or(u64::MAX);
            while !stop.load(Ordering::Relaxed) && left > 0 {
                left -= 1;
                let started = Instant::now();
                let r = one_txn(&s, &mut sel, &mut upd, &mut inc, &mix, rows, &mut rng);
                mine.push(started.elapsed().as_micros() as u64);
                match r {
                    Ok(n) => {
                        commits.fetch_add(1, Ordering::Relaxed);
                        increments.fetch_add(n, Ordering::Relaxed);
                        let wanted = match mix.as_str() {
                            "contended" => 2,
                            "hot-autocommit" => 1,
                            _ => 0,
                        };
                        if n < wanted {
                            missed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) if is_abort(&e) => {
                        if std::env::var("MIZZLE_BENCH_DEBUG").is_ok() {
                            eprintln!("{e}");
                        }
                        // Ends the transaction whatever state the error left.
                        let _ = s.rollback();
                        aborts.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if let Ok(mut l) = latencies.lock() {
                l.extend(mine);
            }
            Ok(())
        }));
    }
    let start = Instant::now();
    if txns.is_none() {
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
    }
    for h in hs {
        h.join().map_err(|_| anyhow::anyhow!("benchmark thread panicked"))??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let latencies = std::mem::take(&mut *latencies.lock().map_err(|_| anyhow::anyhow!("latency lock"))?);
    Ok(Measured {
        commits: commits.load(Ordering::Relaxed),
        aborts: aborts.load(Ordering::Relaxed),
        increments: increments.load(Ordering::Relaxed),
        missed: missed.load(Ordering::Relaxed),
        elapsed,
        latencies,
    })
}

fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

fn hot_total(db: &Database) -> Result<i64> {
    let s = db.session();
    let r = s.query("SELECT SUM(v) FROM hot", [])?;
    Ok(r.get(0).map(|r| r.get::<Option<i64>>(0)).transpose()?.flatten().unwrap_or(0))
}

fn main() -> Result<()> {
    let a = Args::parse();
    let db = Database::open_in_memory()?;
    let s = db.session();
    s.execute("CREATE TABLE acct (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)", [])?;
    s.execute("CREATE TABLE hot (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)", [])?;
    s.begin()?;
    {
        let mut ins = s.prepare("INSERT INTO acct VALUES (?, 0)")?;
        for id in 1..=a.rows {
            ins.execute(params![id])?;
        }
        let mut hot = s.prepare("INSERT INTO hot VALUES (?, 0)")?;
        for id in 1..=HOT as i64 {
            hot.execute(params![id])?;
        }
    }
    s.commit()?;
    println!("# engine=mizzle-memory rows={} hot_rows={HOT} secs={}", a.rows, a.secs);
    let levels: Vec<IsolationLevel> = a
        .levels
        .iter()
        .map(|l| match l.as_str() {
            "rc" => Ok(IsolationLevel::ReadCommitted),
            "rr" => Ok(IsolationLevel::RepeatableRead),
            "ser" => Ok(IsolationLevel::Serializable),
            other => Err(anyhow::anyhow!("unknown level '{other}' (rc, rr, ser)")),
        })
        .collect::<Result<_>>()?;
    for mix in &a.mix {
        if !["read-heavy", "write-heavy", "contended", "hot-autocommit"].contains(&mix.as_str()) {
            anyhow::bail!("unknown mix '{mix}'");
        }
        for &level in &levels {
            for &t in &a.threads {
                let before = hot_total(&db)?;
                let mut m = run(&db, a.rows, mix, level, t, a.secs, a.txns)?;
                let after = hot_total(&db)?;
                m.latencies.sort_unstable();
                let total = (m.commits + m.aborts).max(1);
                let lost = if mix == "contended" || mix == "hot-autocommit" {
                    format!(" lost_updates={} missed_rows={}", m.increments as i64 - (after - before), m.missed)
                } else {
                    String::new()
                };
                println!(
                    "mix={mix} level={} threads={t} txn_per_s={:.0} commits={} aborts={} abort_rate={:.4} p50_ms={:.3} p99_ms={:.3}{lost}",
                    level_name(level),
                    m.commits as f64 / m.elapsed,
                    m.commits,
                    m.aborts,
                    m.aborts as f64 / total as f64,
                    percentile_ms(&m.latencies, 0.50),
                    percentile_ms(&m.latencies, 0.99),
                );
                db.collect_garbage()?;
            }
        }
    }
    Ok(())
}
