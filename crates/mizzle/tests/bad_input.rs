//! Bad input gets a typed error with the right MySQL number, never a panic,
//! and the session (and its transaction where MySQL keeps it) stays usable.

use mizzle::{params, Database, Value};

fn db() -> mizzle::Session {
    let d = Database::open_in_memory().expect("in-memory database");
    let s = d.session();
    s.execute("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(10), n INT)", []).expect("create");
    s
}

fn code<T: std::fmt::Debug>(r: Result<T, mizzle::Error>) -> u16 {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.number(),
    }
}

#[test]
fn syntax_errors_are_1064() {
    let s = db();
    assert_eq!(code(s.execute("SELEC 1", [])), 1064);
    assert_eq!(code(s.execute("", [])), 1064);
}

#[test]
fn unknown_objects_have_their_numbers() {
    let s = db();
    assert_eq!(code(s.query("SELECT * FROM nope", [])), 1146);
    assert_eq!(code(s.query("SELECT nope FROM t", [])), 1054);
    assert_eq!(code(s.query("SELECT no_such_fn(1)", [])), 1305);
}

#[test]
fn deeply_nested_expressions_are_errors_not_crashes() {
    let s = db();
    let deep = format!("SELECT {}1{}", "(".repeat(200_000), ")".repeat(200_000));
    let e = s.query(&deep, []).expect_err("too deep");
    assert!(e.number() == 1436 || e.number() == 1064, "{e}");
    let chain = format!("SELECT 1{}", "+1".repeat(200_000));
    let e = s.query(&chain, []).expect_err("too deep");
    assert_eq!(e.number(), 1436, "{e}");
    let not = format!("SELECT {}1", "NOT ".repeat(200_000));
    assert!(s.query(&not, []).is_err());
    // The session still works.
    assert_eq!(s.query("SELECT 1 + 1", []).expect("works").len(), 1);
}

#[test]
fn deep_expressions_on_small_thread_stacks_are_errors() {
    let h = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let s = db();
            let chain = format!("SELECT 1{}", "*1".repeat(100_000));
            s.query(&chain, []).map(|r| r.len()).map_err(|e| e.number())
        })
        .expect("spawn");
    assert!(h.join().expect("no panic").is_err());
}

#[test]
fn invalid_utf8_in_a_parameter_is_1366() {
    let s = db();
    let bad = Value::bytes(&[0x66, 0xff, 0xfe]);
    let e = s.execute("INSERT INTO t VALUES (1, ?, 0)", [bad]).expect_err("invalid UTF-8");
    assert_eq!(e.number(), 1366);
    assert_eq!(e.sqlstate(), "HY000");
    assert_eq!(s.query("SELECT COUNT(*) FROM t", []).expect("count").get(0).map(|r| r.get::<i64>(0)), Some(Ok(0)));
}

#[test]
fn strict_division_by_zero_fails_the_statement_only() {
    let s = db();
    s.begin().expect("begin");
    s.execute("INSERT INTO t VALUES (1, 'a', 1)", []).expect("insert");
    assert_eq!(code(s.execute("INSERT INTO t VALUES (2, 'b', 1/0)", [])), 1365);
    assert_eq!(code(s.execute("UPDATE t SET n = n / 0", [])), 1365);
    s.execute("INSERT INTO t VALUES (3, 'c', 3)", []).expect("transaction still usable");
    s.commit().expect("commit");
    let rows = s.query("SELECT id FROM t ORDER BY id", []).expect("query");
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0).expect("int")).collect();
    assert_eq!(ids, vec![1, 3]);
    // In a query it is NULL with warning 1365.
    let r = s.query("SELECT 1/0", []).expect("query");
    assert_eq!(r.get(0).map(|x| x.get::<Option<i64>>(0)), Some(Ok(None)));
    assert_eq!(s.warnings().first().map(|w| w.0), Some(1365));
}

#[test]
fn duplicate_keys_are_1062_and_atomic() {
    let s = db();
    s.execute("INSERT INTO t VALUES (1, 'a', 1)", []).expect("insert");
    let e = s.execute("INSERT INTO t VALUES (2, 'b', 2), (1, 'c', 3)", []).expect_err("duplicate");
    assert_eq!(e.number(), 1062);
    assert_eq!(e.to_string(), "ERROR 1062 (23000): Duplicate entry '1' for key 't.PRIMARY'");
    assert_eq!(s.query("SELECT COUNT(*) FROM t", []).expect("count").get(0).map(|r| r.get::<i64>(0)), Some(Ok(1)));
}

#[test]
fn wrong_parameter_counts_are_errors() {
    let s = db();
    assert!(s.query("SELECT ?", []).is_err());
    let mut st = s.prepare("SELECT ? + ?").expect("prepare");
    assert_eq!(st.param_count(), 2);
    assert!(st.query(params![1]).is_err());
    let r = st.query(params![1, 2]).expect("two params");
    assert_eq!(r.get(0).map(|x| x.get::<i64>(0)), Some(Ok(3)));
}

#[test]
fn type_errors_in_inserts_are_reported() {
    let s = db();
    assert_eq!(code(s.execute("INSERT INTO t VALUES ('x', 'a', 1)", [])), 1366);
    assert_eq!(code(s.execute("INSERT INTO t VALUES (1, 'much too long', 1)", [])), 1406);
    assert_eq!(code(s.execute("INSERT INTO t VALUES (1, 'a', 99999999999)", [])), 1264);
    assert_eq!(code(s.execute("INSERT INTO t VALUES (NULL, 'a', 1)", [])), 1048);
}

#[test]
fn expressions_just_under_the_depth_limit_run_on_default_thread_stacks() {
    // 2 MiB: the default stack of threads spawned by Rust.
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let s = db();
            s.execute("INSERT INTO t VALUES (1, 'a', 1)", []).map_err(|e| e.to_string())?;
            let chain = format!("SELECT n{} FROM t", "+n".repeat(480));
            let r = s.query(&chain, []).map_err(|e| e.to_string())?;
            r.get(0).map(|x| x.get::<i64>(0)).transpose().map_err(|e| e.to_string())
        })
        .expect("spawn");
    assert_eq!(h.join().expect("no stack overflow"), Ok(Some(481)));
}
