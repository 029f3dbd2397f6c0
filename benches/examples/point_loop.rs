//! A loop of prepared statements on the in-memory engine, for profilers:
//! `cargo build --release -p mizzle-bench --example point_loop` then
//! `perf record -g target/release/examples/point_loop 2000000 [point|range]`
//! or `valgrind --tool=callgrind --toggle-collect='mizzle::Statement::query*'
//! target/release/examples/point_loop 100000` (the load is not counted).
//! `point`: `SELECT c FROM sbtest1 WHERE id = ?` (W2); `range`: 100 rows by
//! primary key (W3a); `order`: the same ranges `ORDER BY c` (W3b); `agg`:
//! the W5a group-by over all rows. Prints ns per statement.

use std::hint::black_box;
use std::time::Instant;

use mizzle::{params, Database};
use mizzle_bench::data::{to_i64, SbtestGen, SEED_LOAD};
use mizzle_bench::rng::SplitMix64;

const ROWS: u64 = 100_000;

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let mode = std::env::args().nth(2).unwrap_or_else(|| "point".into());
    let db = Database::open_in_memory().expect("open");
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
        for id in 1..=ROWS {
            let r = gen.next_row(&mut rng, ROWS);
            st.execute(params![to_i64(id), r.k, r.c, r.pad]).expect("insert");
        }
    }
    s.commit().expect("commit");
    let sql = match mode.as_str() {
        "point" => "SELECT c FROM sbtest1 WHERE id = ?",
        "range" => "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?",
        "order" => "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
        "agg" => "SELECT k % 100, COUNT(*), SUM(LENGTH(c)) FROM sbtest1 GROUP BY 1",
        other => panic!("unknown mode {other}: point, range, order or agg"),
    };
    let mut st = s.prepare(sql).expect("prepare");
    let mut rng = SplitMix64::new(2);
    let start = Instant::now();
    for _ in 0..n {
        let rows = match mode.as_str() {
            "point" => st.query(params![to_i64(rng.range(1, ROWS))]).expect("point select"),
            "agg" => st.query(params![]).expect("group by"),
            _ => {
                let lo = to_i64(rng.range(1, ROWS - 99));
                st.query(params![lo, lo + 99]).expect("range select")
            }
        };
        black_box(rows.get(0).map(|r| r.values().len()));
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{n} {mode} selects: {ns:.0} ns each");
}
