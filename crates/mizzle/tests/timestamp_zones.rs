//! TIMESTAMP columns under session time zones: an index on a TIMESTAMP
//! column gives the same rows as a full scan for every range and equality,
//! also across daylight-saving changes (where local time skips an hour or
//! repeats one), and the time zone's defaults reach new sessions.
//!
//! The differential part loads the same instants into a table with an index
//! on `ts` and into one without, then runs seeded random predicates (bounds
//! drawn near the changes) under several zones on both; a mismatch names
//! its seed, zone and predicate. `TLP_SEEDS` raises the number of seeds.

use mizzle::{Database, OpenOptions, Session, Value};

mod rng;
use rng::Rng;

/// UTC instants near Paris's and New York's changes of 2024, and ordinary ones.
const INSTANTS: &[&str] = &[
    "2024-03-10 06:30:00",
    "2024-03-10 07:00:00",
    "2024-03-10 07:30:00",
    "2024-03-31 00:00:00",
    "2024-03-31 00:59:59",
    "2024-03-31 01:00:00",
    "2024-03-31 01:30:00",
    "2024-10-27 00:00:00",
    "2024-10-27 00:30:00",
    "2024-10-27 00:59:59",
    "2024-10-27 01:00:00",
    "2024-10-27 01:30:00",
    "2024-10-27 02:00:00",
    "2024-11-03 05:30:00",
    "2024-11-03 06:00:00",
    "2024-11-03 06:30:00",
    "2024-06-01 12:00:00.250000",
    "2024-01-01 00:00:00",
];

/// Local times used as bounds: inside gaps and folds, and at their edges.
const BOUNDS: &[&str] = &[
    "'2024-03-31 01:59:59'",
    "'2024-03-31 02:00:00'",
    "'2024-03-31 02:30:00'",
    "'2024-03-31 03:00:00'",
    "'2024-10-27 01:59:59'",
    "'2024-10-27 02:00:00'",
    "'2024-10-27 02:30:00'",
    "'2024-10-27 02:59:59'",
    "'2024-10-27 03:00:00'",
    "'2024-03-10 02:30:00'",
    "'2024-03-10 03:00:00'",
    "'2024-11-03 01:30:00'",
    "'2024-11-03 02:00:00'",
    "'2024-10-27 01:00:00'",
    "'2024-06-01 14:00:00.25'",
    "'2024-01-01 01:00:00'",
    "20241027023000",
    "'2024-10-27'",
];

const ZONES: &[&str] = &["Europe/Paris", "America/New_York", "+05:30", "-03:00", "UTC", "SYSTEM"];

fn predicate(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!("ts {} {}", r.pick(&["=", "<", "<=", ">", ">=", "<=>"]), r.pick(BOUNDS)),
        1 => format!("ts BETWEEN {} AND {}", r.pick(BOUNDS), r.pick(BOUNDS)),
        2 => format!("ts IN ({}, {})", r.pick(BOUNDS), r.pick(BOUNDS)),
        _ => format!("ts > {} AND ts < {}", r.pick(BOUNDS), r.pick(BOUNDS)),
    }
}

/// The ids a query returns, sorted.
fn ids(s: &Session, sql: &str) -> Vec<i64> {
    let rows = s.query(sql, []).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut v: Vec<i64> = rows
        .iter()
        .map(|row| match &row.values()[0] {
            Value::Int(i) => *i,
            other => panic!("id is not an integer: {other:?}"),
        })
        .collect();
    v.sort_unstable();
    v
}

fn text(s: &Session, sql: &str) -> String {
    let rows = s.query(sql, []).unwrap_or_else(|e| panic!("{sql}: {e}"));
    match rows.iter().next().map(|r| &r.values()[0]) {
        Some(Value::Text(t)) => t.to_string(),
        other => format!("{other:?}"),
    }
}

fn loaded(db: &Database) -> Session {
    let s = db.session();
    s.execute("SET time_zone = '+00:00'", []).expect("utc");
    s.execute("CREATE TABLE ix (id INT PRIMARY KEY, ts TIMESTAMP(6) NULL, KEY k (ts))", []).expect("ix");
    s.execute("CREATE TABLE pk (ts TIMESTAMP(6) NOT NULL PRIMARY KEY, id INT)", []).expect("pk");
    s.execute("CREATE TABLE scan (id INT PRIMARY KEY, ts TIMESTAMP(6) NULL)", []).expect("scan");
    for (i, t) in INSTANTS.iter().enumerate() {
        for table in ["ix", "pk", "scan"] {
            s.execute(&format!("INSERT INTO {table} (id, ts) VALUES ({i}, '{t}')"), []).expect("insert");
        }
    }
    s.execute("INSERT INTO ix VALUES (100, NULL)", []).expect("null");
    s.execute("INSERT INTO scan VALUES (100, NULL)", []).expect("null");
    s
}

#[test]
fn timestamp_index_gives_the_rows_of_a_scan_in_every_zone() {
    let db = Database::open_in_memory().expect("db");
    let s = loaded(&db);
    let seeds: u64 = std::env::var("TLP_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    for zone in ZONES {
        s.execute(&format!("SET time_zone = '{zone}'"), []).expect("zone");
        for seed in 1..=seeds {
            let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5);
            let p = predicate(&mut r);
            let want = ids(&s, &format!("SELECT id FROM scan WHERE {p}"));
            let got = ids(&s, &format!("SELECT id FROM ix WHERE {p}"));
            assert_eq!(got, want, "seed {seed}, zone {zone}: secondary index, WHERE {p}");
            let got = ids(&s, &format!("SELECT id FROM pk WHERE {p}"));
            assert_eq!(
                got,
                want.iter().copied().filter(|i| *i != 100).collect::<Vec<_>>(),
                "seed {seed}, zone {zone}: primary key, WHERE {p}"
            );
        }
    }
}

#[test]
fn a_fold_time_finds_both_instants_through_the_index() {
    let db = Database::open_in_memory().expect("db");
    let s = loaded(&db);
    s.execute("SET time_zone = 'Europe/Paris'", []).expect("zone");
    // 00:30 and 01:30 UTC are both 02:30 in Paris that night.
    assert_eq!(ids(&s, "SELECT id FROM ix WHERE ts = '2024-10-27 02:30:00'"), vec![8, 11]);
    assert_eq!(ids(&s, "SELECT id FROM pk WHERE ts = '2024-10-27 02:30:00'"), vec![8, 11]);
    // (01:00, 02:00] local holds 00:00 and 01:00 UTC: both are 02:00 local.
    assert_eq!(
        ids(&s, "SELECT id FROM ix WHERE ts > '2024-10-27 01:00:00' AND ts <= '2024-10-27 02:00:00'"),
        vec![7, 10]
    );
    // ORDER BY follows the stored instants, not the repeated local times.
    let rows = s
        .query("SELECT id FROM ix WHERE ts >= '2024-10-27 02:00:00' AND ts < '2024-10-27 03:00:00' ORDER BY ts", [])
        .expect("order");
    let order: Vec<i64> = rows
        .iter()
        .map(|r| match r.values()[0] {
            Value::Int(i) => i,
            _ => -1,
        })
        .collect();
    assert_eq!(order, vec![7, 8, 9, 10, 11]);
}

#[test]
fn global_time_zone_reaches_new_sessions_only() {
    let db = Database::open_in_memory().expect("db");
    let a = db.session();
    a.execute("SET GLOBAL time_zone = 'Asia/Tokyo'", []).expect("global");
    assert_eq!(text(&a, "SELECT @@global.time_zone"), "Asia/Tokyo");
    assert_eq!(text(&a, "SELECT @@time_zone"), "SYSTEM");
    let b = db.session();
    assert_eq!(text(&b, "SELECT @@time_zone"), "Asia/Tokyo");
    assert_eq!(text(&b, "SELECT CAST(FROM_UNIXTIME(0) AS CHAR)"), "1970-01-01 09:00:00");
    b.execute("SET @@global.time_zone = '+01:00'", []).expect("global");
    assert_eq!(text(&db.session(), "SELECT @@session.time_zone"), "+01:00");
    // DEFAULT is the global value.
    b.execute("SET time_zone = DEFAULT", []).expect("default");
    assert_eq!(text(&b, "SELECT @@time_zone"), "+01:00");
    let e = a.execute("SET GLOBAL time_zone = 'Nowhere/Nothing'", []).expect_err("unknown");
    assert_eq!(e.number(), 1298);
    assert_eq!(e.to_string(), "ERROR 1298 (HY000): Unknown or incorrect time zone: 'Nowhere/Nothing'");
}

#[test]
fn open_options_set_the_default_time_zone() {
    let db = Database::open_in_memory_with(OpenOptions::new().default_time_zone("-05:00")).expect("db");
    let s = db.session();
    assert_eq!(text(&s, "SELECT @@time_zone"), "-05:00");
    s.execute("CREATE TABLE t (ts TIMESTAMP)", []).expect("create");
    s.execute("INSERT INTO t VALUES ('2024-01-01 00:00:00')", []).expect("insert");
    s.execute("SET time_zone = 'UTC'", []).expect("utc");
    assert_eq!(text(&s, "SELECT CAST(ts AS CHAR) FROM t"), "2024-01-01 05:00:00");
    let e = Database::open_in_memory_with(OpenOptions::new().default_time_zone("+15:00")).err().expect("refused");
    assert_eq!(e.number(), 1298);
}

#[test]
fn a_prepared_statement_follows_the_zone_of_each_execution() {
    let db = Database::open_in_memory().expect("db");
    let s = loaded(&db);
    let mut q = s.prepare("SELECT id FROM ix WHERE ts = ?").expect("prepare");
    let mut shown = s.prepare("SELECT CAST(ts AS CHAR), ts FROM ix WHERE id = 17").expect("prepare");
    let ids_of = |rows: mizzle::Rows| -> Vec<i64> {
        rows.iter().map(|r| if let Value::Int(i) = r.values()[0] { i } else { -1 }).collect()
    };
    // 2024-01-01 00:00:00 UTC (id 17) is 09:00 in Tokyo and 19:00 the day before in New York.
    s.execute("SET time_zone = 'Asia/Tokyo'", []).expect("zone");
    assert_eq!(ids_of(q.query([Value::text("2024-01-01 09:00:00")]).expect("run")), vec![17]);
    let row = shown.query([]).expect("run");
    let v = row.iter().next().map(|r| r.values().to_vec()).expect("a row");
    assert_eq!(v[0], Value::text("2024-01-01 09:00:00.000000"));
    assert_eq!(v[1].to_text_lossy(), "2024-01-01 09:00:00");
    s.execute("SET time_zone = 'America/New_York'", []).expect("zone");
    assert_eq!(ids_of(q.query([Value::text("2024-01-01 09:00:00")]).expect("run")), Vec::<i64>::new());
    assert_eq!(ids_of(q.query([Value::text("2023-12-31 19:00:00")]).expect("run")), vec![17]);
    let row = shown.query([]).expect("run");
    let v = row.iter().next().map(|r| r.values().to_vec()).expect("a row");
    assert_eq!(v[0], Value::text("2023-12-31 19:00:00.000000"));
    assert_eq!(v[1].to_text_lossy(), "2023-12-31 19:00:00");
}
