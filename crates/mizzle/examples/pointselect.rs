//! Profiling helper: prepared point selects and 100-row range selects on
//! 100,000 rows. Usage: `pointselect [POINTS] [RANGES] [DIR]` (with `DIR`,
//! on the disk engine in that new directory, checkpointed after the load).

use mizzle::{params, Database};

fn main() -> Result<(), mizzle::Error> {
    let db = match std::env::args().nth(3) {
        Some(dir) => {
            let _ = std::fs::remove_dir_all(&dir);
            Database::open(&dir)?
        }
        None => Database::open_in_memory()?,
    };
    let s = db.session();
    s.execute("CREATE TABLE t (id INT PRIMARY KEY, k INT, c VARCHAR(120))", [])?;
    s.begin()?;
    let mut ins = s.prepare("INSERT INTO t VALUES (?, ?, ?)")?;
    for i in 0..100_000i64 {
        ins.execute(params![i, i % 1000, "x".repeat(120)])?;
    }
    s.commit()?;
    db.checkpoint()?;
    if std::env::var_os("PS_STATS").is_some() {
        for (k, v) in db
            .engine_stats()
            .into_iter()
            .filter(|(k, _)| k.starts_with("memtable") || k.starts_with("check") || k.starts_with("tree"))
        {
            println!("  {k} = {v}");
        }
    }
    let mut q = s.prepare("SELECT c FROM t WHERE id = ?")?;
    let n: i64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300_000);
    let start = std::time::Instant::now();
    let mut x: u64 = 1;
    for _ in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        let id = ((x >> 33) % 100_000) as i64;
        let r = q.query(params![id])?;
        assert_eq!(r.len(), 1);
    }
    let el = start.elapsed();
    println!("{} point selects/s", (n as f64 / el.as_secs_f64()) as u64);
    if std::env::var_os("PS_STATS").is_some() {
        for (k, v) in db.engine_stats().into_iter().filter(|(k, _)| k.starts_with("page")) {
            println!("  {k} = {v}");
        }
    }
    let ranges: i64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let mut r = s.prepare("SELECT c FROM t WHERE id BETWEEN ? AND ?")?;
    let start = std::time::Instant::now();
    for i in 0..ranges {
        let lo = (i * 37) % 99_000;
        assert_eq!(r.query(params![lo, lo + 99])?.len(), 100);
    }
    println!("{} ranges/s", (ranges as f64 / start.elapsed().as_secs_f64()) as u64);
    Ok(())
}
