//! Smaller server behaviours: the results of the statements before a
//! failing one in a multi-statement text reach the client before the
//! error (as MySQL sends them); CONNECTION_ID() survives
//! COM_RESET_CONNECTION and COM_CHANGE_USER; SHOW PLUGINS lists the
//! server's schedulers and authentication plugins.

mod harness;

use std::process::Command;

use harness::{Server, ROOT_PASSWORD};
use mysql::prelude::Queryable;

#[test]
fn results_before_a_failing_statement_are_sent() {
    let server = Server::start("partial");
    let mut c = server.connect_root(None);
    c.query_drop("CREATE TABLE t (a INT PRIMARY KEY)").expect("create");
    let mut r = c
        .query_iter("INSERT INTO t VALUES (1); SELECT a + 10 FROM t; INSERT INTO t VALUES (1); SELECT 99")
        .expect("first result");
    assert_eq!(r.affected_rows(), 1, "the first INSERT's OK");
    let mut sets = Vec::new();
    let mut error = None;
    while let Some(set) = r.iter() {
        let mut rows = Vec::new();
        for row in set {
            match row {
                Ok(row) => rows.push(mysql::from_row::<Option<i64>>(row)),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        sets.push(rows);
        if error.is_some() {
            break;
        }
    }
    drop(r);
    assert!(sets.iter().any(|s| s == &vec![Some(11)]), "the SELECT before the error arrived: {sets:?}");
    assert!(!sets.iter().any(|s| s == &vec![Some(99)]), "nothing runs after the error: {sets:?}");
    match error {
        Some(mysql::Error::MySqlError(e)) => assert_eq!(e.code, 1062, "{e}"),
        other => panic!("expected the duplicate-key error, got {other:?}"),
    }
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM t").expect("count");
    assert_eq!(n, Some(1), "the first INSERT committed");

    if harness::require("mariadb") {
        let out = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", &server.port().to_string(), "-u", "root"])
            .arg(format!("-p{ROOT_PASSWORD}"))
            .args(["--batch", "--skip-column-names", "-e", "SELECT 'before'; SELECT * FROM nowhere; SELECT 'after'"])
            .output()
            .expect("mariadb");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stdout.contains("before"), "{stdout} {stderr}");
        assert!(!stdout.contains("after"), "{stdout}");
        assert!(stderr.contains("ERROR 1146"), "{stderr}");
    }
}

#[test]
fn connection_id_survives_reset_and_change_user() {
    let server = Server::start("conn-id");
    let mut c = server.connect_root(None);
    let id = c.connection_id();
    let first: Option<u64> = c.query_first("SELECT CONNECTION_ID()").expect("id");
    assert_eq!(first, Some(u64::from(id)));
    c.query_drop("SET @x = 1").expect("set");
    c.reset().expect("COM_RESET_CONNECTION");
    let after_reset: Option<u64> = c.query_first("SELECT CONNECTION_ID()").expect("id");
    assert_eq!(after_reset, Some(u64::from(id)), "same id after COM_RESET_CONNECTION");
    let x: Option<Option<i64>> = c.query_first("SELECT @x").expect("@x");
    assert_eq!(x, Some(None), "the session was reset");
    c.change_user(
        mysql::ChangeUserOpts::default().with_user(Some("root".into())).with_pass(Some(ROOT_PASSWORD.into())),
    )
    .expect("COM_CHANGE_USER");
    let after_change: Option<u64> = c.query_first("SELECT CONNECTION_ID()").expect("id");
    assert_eq!(after_change, Some(u64::from(id)), "same id after COM_CHANGE_USER");
    // KILL by that id still reaches this connection.
    let mut other = server.connect_root(None);
    other.query_drop(format!("KILL {id}")).expect("kill by the kept id");
    assert!(c.query_drop("SELECT 1").is_err(), "killed");
}

#[test]
fn show_plugins_lists_schedulers_and_authentication() {
    let server = Server::start_with("plugins", &["--scheduler", "thread"]);
    let mut c = server.connect_root(None);
    let rows: Vec<(String, String, String)> = c
        .query_map(
            "SHOW PLUGINS",
            |(name, status, kind, _lib, _lic): (String, String, String, Option<String>, String)| (name, status, kind),
        )
        .expect("show plugins");
    let has = |n: &str, s: &str, k: &str| rows.iter().any(|r| r.0 == n && r.1 == s && r.2 == k);
    assert!(has("thread", "ACTIVE", "SCHEDULER"), "{rows:?}");
    assert!(has("pool", "INACTIVE", "SCHEDULER"), "{rows:?}");
    assert!(has("native", "ACTIVE", "AUTHENTICATION"), "{rows:?}");
    assert!(has("caching_sha2_password", "ACTIVE", "AUTHENTICATION"), "{rows:?}");
    assert!(has("mysql_native_password", "ACTIVE", "AUTHENTICATION"), "{rows:?}");
    assert!(rows.iter().any(|r| r.0 == "disk" && r.2 == "STORAGE ENGINE"), "{rows:?}");
}
