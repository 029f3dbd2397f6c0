//! Durable commits per second: T threads each run autocommit
//! `UPDATE c SET v = v + 1 WHERE id = ?` on a row of their own (no
//! conflicts), for mizzle's disk engine and for SQLite (WAL mode,
//! `synchronous=FULL`, one connection per thread, busy timeout 10 s),
//! beside the machine's own `fdatasync` rate measured in the same
//! directory (one thread appending 512 bytes and syncing, in a loop).
//!
//! Every commit is durable before it returns on both engines; mizzle
//! shares one `fdatasync` among the commits waiting at once (group
//! commit), SQLite takes one writer at a time.
//!
//! Output: one line per measurement, `engine=.. threads=.. commits=..
//! secs=.. commits_per_s=..`, and `fdatasync_per_s=..` first.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use mizzle::{params, Database};

#[derive(Parser)]
#[command(about = "durable commits per second: mizzle (disk) against SQLite (WAL, FULL)")]
struct Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Thread counts.
    #[arg(long, value_delimiter = ',', default_value = "1,2,8,32")]
    threads: Vec<usize>,
    /// Engines: mizzle, sqlite.
    #[arg(long, value_delimiter = ',', default_value = "mizzle,sqlite")]
    engines: Vec<String>,
    /// Parent of the scratch directory (default: the temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Each commit is a W6-style transaction (BEGIN; SELECT the row;
    /// UPDATE it; COMMIT) instead of one autocommit UPDATE.
    #[arg(long)]
    txn: bool,
}

fn scratch(parent: &Path, name: &str) -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let p = parent.join(format!("mizzle-commits-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p)?;
    Ok(p)
}

/// The machine's fdatasync rate: append 512 bytes and sync, for `secs`.
fn fdatasync_rate(dir: &Path, secs: f64) -> Result<f64> {
    use std::io::Write;
    let p = dir.join("fsync-probe");
    let mut f = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&p)?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        f.write_all(&[7u8; 512])?;
        f.sync_data()?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    std::fs::remove_file(&p)?;
    Ok(rate)
}

fn run_threads(
    threads: usize,
    secs: f64,
    work: impl Fn(usize, &AtomicBool, &AtomicU64) -> Result<()> + Sync,
) -> Result<(u64, f64)> {
    let stop = AtomicBool::new(false);
    let commits = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let (work, stop, commits) = (&work, &stop, &commits);
        let hs: Vec<_> = (0..threads).map(|t| s.spawn(move || work(t, stop, commits))).collect();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::SeqCst);
        for h in hs {
            h.join().map_err(|_| anyhow::anyhow!("a worker panicked"))??;
        }
        Ok(())
    })?;
    Ok((commits.load(Ordering::SeqCst), start.elapsed().as_secs_f64()))
}

fn log_syncs(db: &Database) -> u64 {
    db.engine_stats().into_iter().find(|(k, _)| k == "log_syncs").map(|(_, v)| v).unwrap_or(0)
}

fn mizzle_run(dir: &Path, threads: usize, secs: f64, txn: bool) -> Result<(u64, f64)> {
    let db = Database::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    let s = db.session();
    s.execute("CREATE TABLE c (id INT PRIMARY KEY, v BIGINT NOT NULL)", [])?;
    for i in 0..threads {
        s.execute("INSERT INTO c VALUES (?, 0)", params![i as i64])?;
    }
    let syncs_before = log_syncs(&db);
    let r = run_threads(threads, secs, |t, stop, commits| {
        let s = db.session();
        let mut st = s.prepare("UPDATE c SET v = v + 1 WHERE id = ?")?;
        let mut sel = s.prepare("SELECT v FROM c WHERE id = ?")?;
        while !stop.load(Ordering::Relaxed) {
            if txn {
                s.begin()?;
                sel.query(params![t as i64])?;
                st.execute(params![t as i64])?;
                s.commit()?;
            } else {
                st.execute(params![t as i64])?;
            }
            commits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })?;
    let syncs = log_syncs(&db) - syncs_before;
    eprintln!(
        "# mizzle threads={threads}: {syncs} log syncs, {:.2} commits per sync",
        r.0 as f64 / syncs.max(1) as f64
    );
    Ok(r)
}

fn sqlite_run(dir: &Path, threads: usize, secs: f64, txn: bool) -> Result<(u64, f64)> {
    let path = dir.join("bench.db");
    let open = || -> Result<rusqlite::Connection> {
        let c = rusqlite::Connection::open(&path)?;
        c.busy_timeout(Duration::from_secs(10))?;
        c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
        c.execute_batch("PRAGMA synchronous=FULL")?;
        Ok(c)
    };
    let c = open()?;
    c.execute_batch("CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")?;
    for i in 0..threads {
        c.execute("INSERT INTO c VALUES (?1, 0)", [i as i64])?;
    }
    drop(c);
    run_threads(threads, secs, |t, stop, commits| {
        let c = open()?;
        let mut st = c.prepare("UPDATE c SET v = v + 1 WHERE id = ?1")?;
        let mut sel = c.prepare("SELECT v FROM c WHERE id = ?1")?;
        while !stop.load(Ordering::Relaxed) {
            if txn {
                c.execute_batch("BEGIN IMMEDIATE")?;
                let _: i64 = sel.query_row([t as i64], |r| r.get(0))?;
                st.execute([t as i64])?;
                c.execute_batch("COMMIT")?;
            } else {
                st.execute([t as i64])?;
            }
            commits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    let parent = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let probe = scratch(&parent, "probe")?;
    println!("fdatasync_per_s={:.0}", fdatasync_rate(&probe, args.secs.min(3.0))?);
    std::fs::remove_dir_all(&probe)?;
    for &threads in &args.threads {
        for engine in &args.engines {
            let dir = scratch(&parent, engine)?;
            let (n, secs) = match engine.as_str() {
                "mizzle" => mizzle_run(&dir, threads, args.secs, args.txn)?,
                "sqlite" => sqlite_run(&dir, threads, args.secs, args.txn)?,
                other => anyhow::bail!("unknown engine {other}"),
            };
            println!(
                "engine={engine} threads={threads} commits={n} secs={secs:.2} commits_per_s={:.0}",
                n as f64 / secs
            );
            std::fs::remove_dir_all(&dir)?;
        }
    }
    Ok(())
}
