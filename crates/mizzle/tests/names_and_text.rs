//! Two defects found from outside (issue 10, item 7): result columns of
//! unaliased select items are named by their source text, as MySQL names
//! them; invalid UTF-8 never becomes stored text.

use mizzle::{params, Database, Value};

fn names(s: &mizzle::Session, sql: &str) -> Vec<String> {
    s.query(sql, []).expect(sql).columns().iter().map(|c| c.name.clone()).collect()
}

#[test]
fn unaliased_items_are_named_by_their_source_text() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE t (a INT, b VARCHAR(5))", []).expect("create");
    s.execute("INSERT INTO t VALUES (1, 'x')", []).expect("insert");
    assert_eq!(
        names(&s, "SELECT 1/0, 1 + 1, count(*), 'abc', a, t.a, ABS( -2 ), CONCAT(b, ')') AS c, (a) FROM t"),
        vec!["1/0", "1 + 1", "count(*)", "abc", "a", "a", "ABS( -2 )", "c", "a"]
    );
    assert_eq!(names(&s, "SELECT\n  a*2,\n  UPPER(b)\nFROM t"), vec!["a*2", "UPPER(b)"]);
    assert_eq!(names(&s, "SELECT 1; SELECT 2*3"), vec!["2*3"], "the second statement's own text");
    assert_eq!(names(&s, "SELECT CAST(a AS CHAR), -a, a IS NULL FROM t"), vec!["CAST(a AS CHAR)", "-a", "a IS NULL"]);
    // A view's columns are named from its own definition, not from the
    // text of the statement that reads it.
    s.execute("CREATE VIEW v AS SELECT a+1, b FROM t", []).expect("view");
    assert_eq!(names(&s, "SELECT    *    FROM v WHERE 1 = 1"), vec!["a + 1", "b"]);
    // Prepared statements name their columns the same way.
    let mut q = s.prepare("SELECT a + ?, NOW() IS NOT NULL FROM t").expect("prepare");
    let r = q.query(params![1]).expect("run");
    let n: Vec<String> = r.columns().iter().map(|c| c.name.clone()).collect();
    assert_eq!(n, vec!["a + ?", "NOW() IS NOT NULL"]);
}

#[test]
fn invalid_utf8_is_never_stored() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE u (id INT PRIMARY KEY, s VARCHAR(10))", []).expect("create");
    for sql in [
        "INSERT INTO u VALUES (2, CAST(X'FF' AS CHAR))",
        "INSERT INTO u VALUES (3, CONVERT(X'C3' USING utf8mb4))",
        "INSERT INTO u VALUES (4, X'FF')",
        "INSERT INTO u VALUES (5, UNHEX('FF'))",
        "INSERT INTO u VALUES (6, CHAR(255))",
        "INSERT INTO u VALUES (7, CONCAT('a', X'FF'))",
        "INSERT INTO u VALUES (8, UPPER(X'FF'))",
        "INSERT INTO u SELECT 9, CAST(X'61FF' AS CHAR(5))",
    ] {
        let e = s.execute(sql, []).expect_err(sql);
        assert_eq!(e.number(), 1366, "{sql}: {e}");
    }
    let e = s.execute("INSERT INTO u VALUES (10, ?)", [Value::bytes(&[0xff])]).expect_err("parameter");
    assert_eq!(e.number(), 1366);
    s.execute("INSERT INTO u VALUES (1, 'ok')", []).expect("valid text");
    let e = s.execute("UPDATE u SET s = CAST(X'FF' AS CHAR)", []).expect_err("update");
    assert_eq!(e.number(), 1366);
    let r = s.query("SELECT id, HEX(s) FROM u", []).expect("rows");
    assert_eq!(r.len(), 1);
    assert_eq!(r.get(0).map(|x| x.get::<String>(1)), Some(Ok("6F6B".to_string())));
    // In a query: NULL with warning 1300, as MySQL 8.
    let r = s.query("SELECT CAST(X'FF' AS CHAR), CONVERT(X'41' USING utf8mb4)", []).expect("query");
    assert_eq!(r.get(0).map(|x| x.get::<Option<String>>(0)), Some(Ok(None)));
    assert_eq!(r.get(0).map(|x| x.get::<Option<String>>(1)), Some(Ok(Some("A".to_string()))));
    assert_eq!(s.warnings(), vec![(1300, "Invalid utf8mb4 character string: 'FF'".to_string())]);
}
