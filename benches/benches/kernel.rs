//! Criterion micro-benchmarks of mizzle's in-memory engine through the
//! embedded API, with SQLite (in-memory, through rusqlite) beside the point
//! select and the bulk insert so that one run gives both sides of a ratio.
//!
//! Invariants:
//! 1. Tables use the workload's `sbtest1` shape and rows (seed 42), so the
//!    numbers are comparable with W1–W3 of the workload program.
//! 2. Every statement is prepared once outside the timed loop.
//! 3. Sample sizes and times are small: `cargo bench -p mizzle-bench` is
//!    meant to finish in a few minutes on two cores.
//!
//! It does not measure durability (there is no on-disk engine yet); the
//! `workload` binary covers the full comparison.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use mizzle::{params, Database, Session};
use mizzle_bench::data::{to_i64, SbtestGen, SEED_LOAD};
use mizzle_bench::rng::SplitMix64;

/// Rows of the table read by the select benchmarks and written by the bulk
/// insert.
const ROWS: u64 = 100_000;

const SCHEMA: &str =
    "CREATE TABLE sbtest1 (id INTEGER PRIMARY KEY, k INTEGER NOT NULL DEFAULT 0, c TEXT NOT NULL, pad TEXT NOT NULL)";
const INSERT: &str = "INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)";
const POINT: &str = "SELECT c FROM sbtest1 WHERE id = ?";
const RANGE: &str = "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?";

/// One generated row: id, k, c, pad.
type Row = (i64, i64, String, String);

/// The workload's first `n` rows (seed 42), generated once per benchmark.
fn rows(n: u64) -> Vec<Row> {
    let mut rng = SplitMix64::new(SEED_LOAD);
    let mut gen = SbtestGen::new();
    (1..=n)
        .map(|id| {
            let r = gen.next_row(&mut rng, n);
            (to_i64(id), r.k, r.c.to_string(), r.pad.to_string())
        })
        .collect()
}

/// Inserts `data` into a fresh `sbtest1` in one transaction.
fn mizzle_load(s: &mut Session, data: &[Row]) {
    s.begin().expect("setup: begin");
    {
        let mut st = s.prepare(INSERT).expect("setup: prepare insert");
        for (id, k, c, pad) in data {
            st.execute(params![*id, *k, c.as_str(), pad.as_str()]).expect("setup: insert");
        }
    }
    s.commit().expect("setup: commit");
}

fn mizzle_table(data: &[Row]) -> (Database, Session) {
    let db = Database::open_in_memory().expect("setup: open mizzle");
    let mut s = db.session();
    s.execute(SCHEMA, []).expect("setup: create table");
    mizzle_load(&mut s, data);
    (db, s)
}

fn sqlite_load(conn: &mut rusqlite::Connection, data: &[Row]) {
    let tx = conn.transaction().expect("setup: begin");
    {
        let mut st = tx.prepare(INSERT).expect("setup: prepare insert");
        for (id, k, c, pad) in data {
            st.execute(rusqlite::params![id, k, c, pad]).expect("setup: insert");
        }
    }
    tx.commit().expect("setup: commit");
}

fn sqlite_table(data: &[Row]) -> rusqlite::Connection {
    let mut conn = rusqlite::Connection::open_in_memory().expect("setup: open sqlite");
    conn.execute_batch(SCHEMA).expect("setup: create table");
    sqlite_load(&mut conn, data);
    conn
}

fn selects(c: &mut Criterion) {
    let data = rows(ROWS);
    let (_db, s) = mizzle_table(&data);
    let sqlite = sqlite_table(&data);
    drop(data);

    let mut g = c.benchmark_group("point_select");
    g.throughput(Throughput::Elements(1));
    {
        let mut st = s.prepare(POINT).expect("setup: prepare point select");
        let mut rng = SplitMix64::new(2);
        // The row borrowed, as SQLite's `query_row` below reads it.
        g.bench_function("mizzle", |b| {
            b.iter(|| {
                let id = to_i64(rng.range(1, ROWS));
                let mut len = 0;
                st.query_each(params![id], |r| {
                    len = r.values().len();
                    Ok(())
                })
                .expect("point select");
                black_box(len);
            })
        });
    }
    {
        let mut st = sqlite.prepare(POINT).expect("setup: prepare point select");
        let mut rng = SplitMix64::new(2);
        g.bench_function("sqlite", |b| {
            b.iter(|| {
                let id = to_i64(rng.range(1, ROWS));
                let len = st.query_row([id], |r| Ok(r.get_ref(0)?.as_bytes()?.len())).expect("point select");
                black_box(len);
            })
        });
    }
    g.finish();

    // The same select returning an owned result (`Statement::query`).
    let mut g = c.benchmark_group("point_select_rows");
    g.throughput(Throughput::Elements(1));
    {
        let mut st = s.prepare(POINT).expect("setup: prepare point select");
        let mut rng = SplitMix64::new(2);
        g.bench_function("mizzle", |b| {
            b.iter(|| {
                let id = to_i64(rng.range(1, ROWS));
                let rows = st.query(params![id]).expect("point select");
                black_box(rows.get(0).map(|r| r.values().len()));
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("range_scan_100");
    g.throughput(Throughput::Elements(100));
    {
        let mut st = s.prepare(RANGE).expect("setup: prepare range select");
        let mut rng = SplitMix64::new(3);
        g.bench_function("mizzle", |b| {
            b.iter(|| {
                let lo = to_i64(rng.range(1, ROWS - 99));
                let rows = st.query(params![lo, lo + 99]).expect("range select");
                assert_eq!(rows.len(), 100, "a range of 100 ids reads 100 rows");
                black_box(rows);
            })
        });
    }
    g.finish();
}

fn inserts(c: &mut Criterion) {
    // Single-row autocommit inserts into a growing table; only id and k
    // change, so the loop measures the insert and not the data generation.
    let mut g = c.benchmark_group("insert_autocommit");
    g.throughput(Throughput::Elements(1));
    {
        let db = Database::open_in_memory().expect("setup: open mizzle");
        let s = db.session();
        s.execute(SCHEMA, []).expect("setup: create table");
        let mut st = s.prepare(INSERT).expect("setup: prepare insert");
        let (c_text, pad) = ("1".repeat(120), "2".repeat(60));
        let mut id: i64 = 0;
        g.bench_function("mizzle", |b| {
            b.iter(|| {
                id += 1;
                let done = st.execute(params![id, id % 1000, c_text.as_str(), pad.as_str()]).expect("insert");
                black_box(done);
            })
        });
    }
    g.finish();

    // 100,000 rows in one transaction into a fresh table per iteration; the
    // rows are generated once, and opening and dropping databases is not
    // timed.
    let data = rows(ROWS);
    let mut g = c.benchmark_group("bulk_insert_100k");
    g.throughput(Throughput::Elements(ROWS));
    g.sample_size(10);
    // One iteration takes tenths of a second: equal-sized samples keep the
    // group within its time instead of criterion's growing ones.
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("mizzle", |b| {
        b.iter_batched(
            || {
                let db = Database::open_in_memory().expect("setup: open mizzle");
                let s = db.session();
                s.execute(SCHEMA, []).expect("setup: create table");
                (db, s)
            },
            |(db, mut s)| {
                mizzle_load(&mut s, &data);
                (db, s)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("sqlite", |b| {
        b.iter_batched(
            || {
                let conn = rusqlite::Connection::open_in_memory().expect("setup: open sqlite");
                conn.execute_batch(SCHEMA).expect("setup: create table");
                conn
            },
            |mut conn| {
                sqlite_load(&mut conn, &data);
                conn
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group! {
    name = kernel;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = selects, inserts
}
criterion_main!(kernel);
