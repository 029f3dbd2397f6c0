//! Criterion benchmarks of the executor's kernels, each run on mizzle's
//! in-memory engine and on SQLite in memory (through rusqlite) in the same
//! run, so one run gives both sides of a ratio: expression evaluation over
//! a scan, a hash-join probe, grouped aggregation, a full sort, and an
//! index build.
//!
//! Invariants:
//! 1. Both engines hold the same rows: the workload's `sbtest1` shape
//!    (seed 42) and its join tables `ja`/`jb` (seed 5), `ROWS` rows each.
//! 2. Every statement is prepared once outside the timed loop, and every
//!    result is read to the end (a lazy engine cannot skip work).
//! 3. Each query's result is checked once against the other engine before
//!    timing: a benchmark of a wrong answer is worth nothing.
//! 4. Sample sizes are small: the whole file runs in a few minutes on two
//!    cores (`cargo bench -p mizzle-bench --bench executor`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use mizzle::{params, Database, Session, Value};
use mizzle_bench::data::{ja_row, jb_row, to_i64, SbtestGen, SEED_JOIN, SEED_LOAD};
use mizzle_bench::rng::SplitMix64;

/// Rows in `sbtest1`, `ja` and `jb`.
const ROWS: u64 = 50_000;

const SCHEMA: [&str; 3] = [
    "CREATE TABLE sbtest1 (id INTEGER PRIMARY KEY, k INTEGER NOT NULL DEFAULT 0, c TEXT NOT NULL, pad TEXT NOT NULL)",
    "CREATE TABLE jb (id INTEGER PRIMARY KEY, code INTEGER NOT NULL, grp INTEGER NOT NULL, name TEXT NOT NULL)",
    "CREATE TABLE ja (id INTEGER PRIMARY KEY, b_code INTEGER NOT NULL, val INTEGER NOT NULL)",
];

/// The timed queries: (benchmark group, SQL, rows it touches).
const QUERIES: [(&str, &str); 4] = [
    ("expr_filter", "SELECT SUM(k * 3 + id), COUNT(*) FROM sbtest1 WHERE k % 7 = 3 AND c > '5' AND id + k > 100"),
    ("hash_join", "SELECT COUNT(*), SUM(a.val) FROM ja a JOIN jb b ON a.b_code = b.code WHERE b.grp < 500"),
    ("aggregate", "SELECT k % 1000, COUNT(*), SUM(id), MAX(c) FROM sbtest1 GROUP BY k % 1000"),
    ("sort", "SELECT id, c FROM sbtest1 ORDER BY c DESC, id"),
];

const INDEX: &str = "CREATE INDEX k_idx ON sbtest1 (k)";

/// Every table's rows, as parameter lists for `INSERT`.
struct Data {
    sbtest: Vec<(i64, i64, String, String)>,
    jb: Vec<(i64, i64, i64, String)>,
    ja: Vec<(i64, i64, i64)>,
}

fn data() -> Data {
    let mut rng = SplitMix64::new(SEED_LOAD);
    let mut gen = SbtestGen::new();
    let sbtest = (1..=ROWS)
        .map(|id| {
            let r = gen.next_row(&mut rng, ROWS);
            (to_i64(id), r.k, r.c.to_string(), r.pad.to_string())
        })
        .collect();
    let jb = (1..=ROWS)
        .map(|id| {
            let (code, grp, name) = jb_row(id, ROWS);
            (to_i64(id), code, grp, name)
        })
        .collect();
    let mut rng = SplitMix64::new(SEED_JOIN);
    let ja = (1..=ROWS)
        .map(|id| {
            let (b_code, val) = ja_row(&mut rng, ROWS);
            (to_i64(id), b_code, val)
        })
        .collect();
    Data { sbtest, jb, ja }
}

fn mizzle_db(d: &Data) -> (Database, Session) {
    let db = Database::open_in_memory().expect("setup: open mizzle");
    let s = db.session();
    for ddl in SCHEMA {
        s.execute(ddl, []).expect("setup: create table");
    }
    s.begin().expect("setup: begin");
    {
        let mut st = s.prepare("INSERT INTO sbtest1 VALUES (?, ?, ?, ?)").expect("setup: prepare");
        for (id, k, c, pad) in &d.sbtest {
            st.execute(params![*id, *k, c.as_str(), pad.as_str()]).expect("setup: insert");
        }
        let mut st = s.prepare("INSERT INTO jb VALUES (?, ?, ?, ?)").expect("setup: prepare");
        for (id, code, grp, name) in &d.jb {
            st.execute(params![*id, *code, *grp, name.as_str()]).expect("setup: insert");
        }
        let mut st = s.prepare("INSERT INTO ja VALUES (?, ?, ?)").expect("setup: prepare");
        for (id, b_code, val) in &d.ja {
            st.execute(params![*id, *b_code, *val]).expect("setup: insert");
        }
    }
    s.commit().expect("setup: commit");
    (db, s)
}

fn sqlite_db(d: &Data) -> rusqlite::Connection {
    let mut conn = rusqlite::Connection::open_in_memory().expect("setup: open sqlite");
    for ddl in SCHEMA {
        conn.execute_batch(ddl).expect("setup: create table");
    }
    let tx = conn.transaction().expect("setup: begin");
    {
        let mut st = tx.prepare("INSERT INTO sbtest1 VALUES (?, ?, ?, ?)").expect("setup: prepare");
        for (id, k, c, pad) in &d.sbtest {
            st.execute(rusqlite::params![id, k, c, pad]).expect("setup: insert");
        }
        let mut st = tx.prepare("INSERT INTO jb VALUES (?, ?, ?, ?)").expect("setup: prepare");
        for (id, code, grp, name) in &d.jb {
            st.execute(rusqlite::params![id, code, grp, name]).expect("setup: insert");
        }
        let mut st = tx.prepare("INSERT INTO ja VALUES (?, ?, ?)").expect("setup: prepare");
        for (id, b_code, val) in &d.ja {
            st.execute(rusqlite::params![id, b_code, val]).expect("setup: insert");
        }
    }
    tx.commit().expect("setup: commit");
    conn
}

/// A value as text, the same way for both engines (integers as integers,
/// text as text), for the one-time cross-check.
fn mizzle_rows(s: &Session, sql: &str) -> Vec<Vec<String>> {
    let rows = s.query(sql, []).expect("query");
    rows.iter()
        .map(|r| {
            r.values()
                .iter()
                .map(|v| match v {
                    Value::Null => "NULL".to_string(),
                    v => v.to_string(),
                })
                .collect()
        })
        .collect()
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut st = conn.prepare(sql).expect("prepare");
    let n = st.column_count();
    let mut out = Vec::new();
    let mut rows = st.query([]).expect("query");
    while let Some(r) = rows.next().expect("row") {
        let mut line = Vec::with_capacity(n);
        for i in 0..n {
            line.push(match r.get_ref(i).expect("column") {
                rusqlite::types::ValueRef::Null => "NULL".to_string(),
                rusqlite::types::ValueRef::Integer(x) => x.to_string(),
                rusqlite::types::ValueRef::Real(x) => x.to_string(),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    String::from_utf8_lossy(t).into_owned()
                }
            });
        }
        out.push(line);
    }
    out
}

/// Reads every row of a prepared SQLite query; returns the row count.
fn sqlite_drain(st: &mut rusqlite::Statement<'_>) -> usize {
    let mut rows = st.query([]).expect("query");
    let mut n = 0;
    while let Some(r) = rows.next().expect("row") {
        black_box(r.get_ref(0).expect("column"));
        n += 1;
    }
    n
}

fn queries(c: &mut Criterion) {
    let d = data();
    let (_db, s) = mizzle_db(&d);
    let sqlite = sqlite_db(&d);
    drop(d);

    for (group, sql) in QUERIES {
        let mut ours = mizzle_rows(&s, sql);
        let mut theirs = sqlite_rows(&sqlite, sql);
        if !sql.contains("ORDER BY") {
            ours.sort();
            theirs.sort();
        }
        assert_eq!(ours, theirs, "{group}: mizzle and SQLite disagree on {sql}");
        let expected = ours.len();

        let mut g = c.benchmark_group(group);
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Elements(ROWS));
        {
            let mut st = s.prepare(sql).expect("setup: prepare");
            g.bench_function("mizzle", |b| {
                b.iter(|| {
                    let rows = st.query(params![]).expect("query");
                    assert_eq!(rows.len(), expected);
                    black_box(rows);
                })
            });
        }
        {
            let mut st = sqlite.prepare(sql).expect("setup: prepare");
            g.bench_function("sqlite", |b| b.iter(|| assert_eq!(sqlite_drain(&mut st), expected)));
        }
        g.finish();
    }
}

fn index_build(c: &mut Criterion) {
    let d = data();
    let (_db, s) = mizzle_db(&d);
    let sqlite = sqlite_db(&d);
    drop(d);

    let mut g = c.benchmark_group("index_build");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(ROWS));
    g.bench_function("mizzle", |b| {
        b.iter_batched(
            || {
                // Fails only on the first round, when there is no index yet.
                let _ = s.execute("DROP INDEX k_idx ON sbtest1", []);
            },
            |()| s.execute(INDEX, []).expect("create index"),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("sqlite", |b| {
        b.iter_batched(
            || sqlite.execute_batch("DROP INDEX IF EXISTS k_idx").expect("setup: drop index"),
            |()| sqlite.execute_batch(INDEX).expect("create index"),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group! {
    name = executor;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = queries, index_build
}
criterion_main!(executor);
