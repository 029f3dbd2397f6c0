//! The Rust `mysql` crate against mizzled: the binary protocol (prepared
//! statements) for every column type, parameters in and values out, and
//! the text protocol for the same rows.

mod harness;

use harness::{Server, ROOT_PASSWORD};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, Value};

/// (column type, value sent as a parameter, value expected back in the
/// binary protocol, text expected back in the text protocol). The `mysql`
/// crate reads unsigned columns narrower than BIGINT as `Int`.
fn cases() -> Vec<(&'static str, Value, Value, &'static str)> {
    use Value::*;
    vec![
        ("TINYINT", Int(-128), Int(-128), "-128"),
        ("TINYINT UNSIGNED", UInt(255), Int(255), "255"),
        ("SMALLINT", Int(-32768), Int(-32768), "-32768"),
        ("SMALLINT UNSIGNED", UInt(65535), Int(65535), "65535"),
        ("MEDIUMINT", Int(-8388608), Int(-8388608), "-8388608"),
        ("INT", Int(-2147483648), Int(-2147483648), "-2147483648"),
        ("INT UNSIGNED", UInt(4294967295), Int(4294967295), "4294967295"),
        ("BIGINT", Int(i64::MIN), Int(i64::MIN), "-9223372036854775808"),
        ("BIGINT UNSIGNED", UInt(u64::MAX), UInt(u64::MAX), "18446744073709551615"),
        ("FLOAT", Float(1.5), Float(1.5), "1.5"),
        ("DOUBLE", Double(-2.25e100), Double(-2.25e100), "-2.25e100"),
        ("DECIMAL(10,3)", Bytes(b"-1234.567".to_vec()), Bytes(b"-1234.567".to_vec()), "-1234.567"),
        (
            "DECIMAL(65,30)",
            Bytes(b"-12345678901234567890123456789012345.123456789012345678901234567890".to_vec()),
            Bytes(b"-12345678901234567890123456789012345.123456789012345678901234567890".to_vec()),
            "-12345678901234567890123456789012345.123456789012345678901234567890",
        ),
        ("CHAR(5)", Bytes(b"ab".to_vec()), Bytes(b"ab".to_vec()), "ab"),
        (
            "VARCHAR(20)",
            Bytes("h\u{e9} \u{1F600}".as_bytes().to_vec()),
            Bytes("h\u{e9} \u{1F600}".as_bytes().to_vec()),
            "h\u{e9} \u{1F600}",
        ),
        ("TEXT", Bytes(b"long text".to_vec()), Bytes(b"long text".to_vec()), "long text"),
        ("VARBINARY(8)", Bytes(vec![0, 1, 255]), Bytes(vec![0, 1, 255]), "\u{0}\u{1}\u{FFFD}"),
        ("BLOB", Bytes(vec![9, 8, 7]), Bytes(vec![9, 8, 7]), "\u{9}\u{8}\u{7}"),
        ("DATE", Date(2024, 2, 29, 0, 0, 0, 0), Date(2024, 2, 29, 0, 0, 0, 0), "2024-02-29"),
        ("DATETIME", Date(1999, 12, 31, 23, 59, 58, 0), Date(1999, 12, 31, 23, 59, 58, 0), "1999-12-31 23:59:58"),
        (
            "DATETIME(6)",
            Date(2001, 1, 2, 3, 4, 5, 678901),
            Date(2001, 1, 2, 3, 4, 5, 678901),
            "2001-01-02 03:04:05.678901",
        ),
        ("TIMESTAMP", Date(2020, 6, 1, 12, 0, 0, 0), Date(2020, 6, 1, 12, 0, 0, 0), "2020-06-01 12:00:00"),
        ("BOOL", Int(1), Int(1), "1"),
        ("TIME", Time(true, 1, 2, 3, 4, 0), Time(true, 1, 2, 3, 4, 0), "-26:03:04"),
        ("TIME(6)", Time(false, 10, 1, 2, 3, 456789), Time(false, 10, 1, 2, 3, 456789), "241:02:03.456789"),
        ("TIME(1)", Time(false, 0, 0, 0, 0, 0), Time(false, 0, 0, 0, 0, 0), "00:00:00.0"),
        // BIT(n): ceil(n/8) big-endian bytes both ways; a number parameter works too.
        ("BIT(16)", Bytes(b"AB".to_vec()), Bytes(b"AB".to_vec()), "AB"),
        ("BIT(12)", Int(0xABC), Bytes(vec![0x0A, 0xBC]), "\n\u{FFFD}"),
        ("BIT(1)", Int(1), Bytes(vec![1]), "\u{1}"),
    ]
}

#[test]
fn every_column_type_round_trips_in_both_protocols() {
    let server = Server::start("mysql-crate-types");
    let mut c = server.connect_root(None);
    c.query_drop("CREATE DATABASE types").expect("create db");
    c.query_drop("USE types").expect("use");
    for (i, (ty, sent, expected, text)) in cases().into_iter().enumerate() {
        let table = format!("t{i}");
        c.query_drop(format!("CREATE TABLE {table} (id INT PRIMARY KEY, v {ty})")).expect(ty);
        c.exec_drop(format!("INSERT INTO {table} VALUES (?, ?)"), (1, sent.clone()))
            .unwrap_or_else(|e| panic!("{ty}: {e}"));
        c.exec_drop(format!("INSERT INTO {table} VALUES (?, ?)"), (2, Value::NULL))
            .unwrap_or_else(|e| panic!("{ty}: {e}"));
        // Binary protocol out.
        let got: Vec<mysql::Row> = c.exec(format!("SELECT v FROM {table} WHERE id >= ? ORDER BY id"), (1,)).expect(ty);
        assert_eq!(got.len(), 2, "{ty}");
        assert_eq!(got[0].as_ref(0), Some(&expected), "{ty}: binary value");
        assert_eq!(got[1].as_ref(0), Some(&Value::NULL), "{ty}: binary NULL");
        // Text protocol out.
        let rows: Vec<mysql::Row> = c.query(format!("SELECT v FROM {table} ORDER BY id")).expect(ty);
        match rows[0].as_ref(0) {
            Some(Value::Bytes(b)) => assert_eq!(String::from_utf8_lossy(b), text, "{ty}: text value"),
            other => panic!("{ty}: text protocol gave {other:?}"),
        }
        assert_eq!(rows[1].as_ref(0), Some(&Value::NULL), "{ty}: text NULL");
    }
}

#[test]
fn prepared_statement_parameter_types_are_kept_between_executes() {
    let server = Server::start("mysql-crate-prepared");
    let mut c = server.connect_root(None);
    c.query_drop("CREATE TABLE p (id BIGINT PRIMARY KEY, s VARCHAR(10))").expect("create");
    let stmt = c.prep("INSERT INTO p VALUES (?, ?)").expect("prepare");
    for i in 0..50i64 {
        c.exec_drop(&stmt, (i, format!("s{i}"))).expect("execute");
    }
    let sum: Option<i64> = c.query_first("SELECT CAST(SUM(id) AS SIGNED) FROM p").expect("sum");
    assert_eq!(sum, Some(49 * 50 / 2));
    let q = c.prep("SELECT s FROM p WHERE id = ?").expect("prepare select");
    let s: Option<String> = c.exec_first(&q, (42,)).expect("select");
    assert_eq!(s.as_deref(), Some("s42"));
    c.close(q).expect("close");
    // A closed statement is gone; unknown ids fail with 1243.
    let err = c.exec_drop("SELECT * FROM missing WHERE id = ?", (1,)).expect_err("missing table");
    match err {
        mysql::Error::MySqlError(e) => assert_eq!(e.code, 1146),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ok_packets_carry_affected_rows_last_insert_id_and_status() {
    let server = Server::start("mysql-crate-ok");
    let mut c = server.connect_root(None);
    c.query_drop("CREATE TABLE a (id INT PRIMARY KEY AUTO_INCREMENT, x INT)").expect("create");
    c.query_drop("INSERT INTO a (x) VALUES (1), (2), (3)").expect("insert");
    assert_eq!(c.affected_rows(), 3);
    assert_eq!(c.last_insert_id(), 1);
    c.query_drop("UPDATE a SET x = x + 1 WHERE id >= 2").expect("update");
    assert_eq!(c.affected_rows(), 2);
    c.query_drop("BEGIN").expect("begin");
    c.query_drop("DELETE FROM a WHERE id = 1").expect("delete");
    assert_eq!(c.affected_rows(), 1);
    c.query_drop("ROLLBACK").expect("rollback");
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM a").expect("count");
    assert_eq!(n, Some(3));
}

#[test]
fn a_lock_wait_parks_without_holding_the_only_worker() {
    let server = Server::start_with("mysql-crate-lockpark", &["--scheduler", "pool", "--workers", "1"]);
    let mut a = server.connect_root(None);
    a.query_drop("CREATE TABLE l (id INT PRIMARY KEY, v INT)").expect("create");
    a.query_drop("INSERT INTO l VALUES (1, 0)").expect("insert");
    a.query_drop("BEGIN").expect("begin");
    a.query_drop("UPDATE l SET v = 1 WHERE id = 1").expect("lock the row");
    let port = server.port();
    let waiter = std::thread::spawn(move || {
        let opts = OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(port)
            .user(Some("root"))
            .pass(Some(ROOT_PASSWORD))
            .prefer_socket(false);
        let mut b = Conn::new(opts).expect("connect b");
        b.query_drop("UPDATE l SET v = v + 10 WHERE id = 1").expect("update after the wait");
    });
    // While b waits for the row, the single worker still serves c.
    let mut c = server.connect_root(None);
    let start = std::time::Instant::now();
    loop {
        let row: Option<(String, String)> =
            c.query_first("SHOW STATUS LIKE 'Innodb_row_lock_current_waits'").expect("status");
        if row.map(|r| r.1) == Some("1".to_owned()) {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "b never started waiting");
        std::thread::yield_now();
    }
    let one: Option<i64> = c.query_first("SELECT 1").expect("c runs while b is parked");
    assert_eq!(one, Some(1));
    a.query_drop("COMMIT").expect("commit");
    waiter.join().expect("b finished");
    let v: Option<i64> = c.query_first("SELECT v FROM l WHERE id = 1").expect("select");
    assert_eq!(v, Some(11));
}

#[test]
fn processlist_shows_connections_and_kill_ends_one() {
    for scheduler in ["pool", "thread"] {
        let server = Server::start_with("mysql-crate-kill", &["--scheduler", scheduler]);
        let mut a = server.connect_root(None);
        let mut b = server.connect_root(None);
        let b_id: Option<u64> = b.query_first("SELECT CONNECTION_ID()").expect("id");
        let b_id = b_id.expect("an id");
        let rows: Vec<(u64, String, String)> = a
            .query_map("SHOW PROCESSLIST", |r: mysql::Row| {
                let id: u64 = r.get(0).expect("Id");
                let user: String = r.get(1).expect("User");
                let command: String = r.get(4).expect("Command");
                (id, user, command)
            })
            .expect("processlist");
        assert_eq!(rows.len(), 2, "{scheduler}: {rows:?}");
        assert!(rows.iter().any(|(id, user, _)| *id == b_id && user == "root"), "{rows:?}");
        // b ran a query and waits for the next: it sleeps (the pool showed
        // it as Query until 2026-12-05, and counted it as running).
        assert!(rows.iter().any(|(id, _, command)| *id == b_id && command == "Sleep"), "{scheduler}: {rows:?}");
        let running: Option<(String, u64)> =
            a.query_first("SHOW GLOBAL STATUS LIKE 'Threads_running'").expect("Threads_running");
        assert_eq!(running.map(|r| r.1), Some(1), "{scheduler}: only the connection asking runs");
        let status: Option<(String, String)> = a.query_first("SHOW STATUS LIKE 'Mizzle_scheduler'").expect("status");
        assert_eq!(status.map(|s| s.1).as_deref(), Some(scheduler));
        let err = a.query_drop("KILL 999999").expect_err("unknown id");
        match err {
            mysql::Error::MySqlError(e) => assert_eq!(e.code, 1094),
            other => panic!("{other:?}"),
        }
        a.query_drop(format!("KILL {b_id}")).expect("kill b");
        assert!(b.query_drop("SELECT 1").is_err(), "{scheduler}: a killed connection is closed");
        let n: Option<i64> = a.query_first("SELECT 1").expect("a goes on");
        assert_eq!(n, Some(1));
    }
}

#[test]
fn json_columns_arrive_as_normalized_text_typed_json_in_both_protocols() {
    use mysql::consts::ColumnType;
    let server = Server::start("mysql-crate-json");
    let mut c = server.connect_root(None);
    c.query_drop("CREATE DATABASE j").expect("create db");
    c.query_drop("USE j").expect("use");
    c.query_drop("CREATE TABLE d (id INT PRIMARY KEY, doc JSON)").expect("table");
    // A parameter string is JSON text, validated and normalized on the way in.
    c.exec_drop("INSERT INTO d VALUES (?, ?)", (1, r#"{"b":1,"a":[true,null]}"#)).expect("insert");
    let err = c.exec_drop("INSERT INTO d VALUES (?, ?)", (2, "{oops")).expect_err("invalid JSON");
    match err {
        mysql::Error::MySqlError(e) => assert_eq!(e.code, 3140, "{}", e.message),
        other => panic!("{other}"),
    }
    let normalized = r#"{"a": [true, null], "b": 1}"#;
    // Text protocol.
    let mut text = c.query_iter("SELECT doc, doc->'$.a[0]' FROM d").expect("text query");
    let cols: Vec<ColumnType> = text.columns().as_ref().iter().map(|c| c.column_type()).collect();
    assert_eq!(cols, [ColumnType::MYSQL_TYPE_JSON, ColumnType::MYSQL_TYPE_JSON]);
    let row = text.next().expect("a row").expect("row");
    assert_eq!(row.get::<String, _>(0).as_deref(), Some(normalized));
    assert_eq!(row.get::<String, _>(1).as_deref(), Some("true"));
    drop(text);
    // Binary protocol.
    let stmt = c.prep("SELECT doc FROM d WHERE id = ?").expect("prepare");
    assert_eq!(stmt.columns()[0].column_type(), ColumnType::MYSQL_TYPE_JSON);
    let got: Option<String> = c.exec_first(&stmt, (1,)).expect("execute");
    assert_eq!(got.as_deref(), Some(normalized));
}
