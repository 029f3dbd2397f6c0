//! The stock `mariadb` command-line client against mizzled, in batch mode:
//! login with a password, DDL, DML, queries, error messages.

mod harness;

use std::io::Write;
use std::process::{Command, Stdio};

use harness::{require, Server, ROOT_PASSWORD};

fn mariadb(server: &Server, password: &str, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", &server.port().to_string(), "-u", "root"])
        .arg(format!("-p{password}"))
        .args(["--batch", "--skip-ssl"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mariadb");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn batch_session_creates_inserts_and_queries() {
    if !require("mariadb") {
        return;
    }
    let server = Server::start("mariadb-batch");
    let (ok, out, err) = mariadb(
        &server,
        ROOT_PASSWORD,
        &[],
        "CREATE DATABASE shop;\n\
         USE shop;\n\
         CREATE TABLE item (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(40) NOT NULL, price DECIMAL(8,2));\n\
         INSERT INTO item (name, price) VALUES ('apple', 1.25), ('pear', 2.50), ('fig', NULL);\n\
         SELECT id, name, price FROM item ORDER BY id;\n\
         SELECT COUNT(*) AS n, SUM(price) AS total FROM item;\n\
         SELECT DATABASE(), @@version_comment;\n",
    );
    assert!(ok, "stderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "id\tname\tprice",
            "1\tapple\t1.25",
            "2\tpear\t2.50",
            "3\tfig\tNULL",
            "n\ttotal",
            "3\t3.75",
            "DATABASE()\t@@version_comment",
            "shop\tmizzle embedded SQL engine",
        ],
        "{out}"
    );
}

#[test]
fn errors_are_printed_as_mysql_prints_them() {
    if !require("mariadb") {
        return;
    }
    let server = Server::start("mariadb-errors");
    let (ok, _, err) = mariadb(&server, ROOT_PASSWORD, &[], "SELECT * FROM no_such_table;\n");
    assert!(!ok);
    assert!(err.contains("ERROR 1146 (42S02)"), "{err}");
    let (ok, _, err) = mariadb(
        &server,
        ROOT_PASSWORD,
        &[],
        "CREATE TABLE t (id INT PRIMARY KEY);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
    );
    assert!(!ok);
    assert!(err.contains("ERROR 1062 (23000)"), "{err}");
    assert!(err.contains("at line 3"), "{err}");
    // The first insert stays: its commit was acknowledged.
    let (ok, out, err) = mariadb(&server, ROOT_PASSWORD, &["-N"], "SELECT COUNT(*) FROM t;\n");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "1");
}

#[test]
fn wrong_password_is_denied() {
    if !require("mariadb") {
        return;
    }
    let server = Server::start("mariadb-denied");
    let (ok, _, err) = mariadb(&server, "wrong", &[], "SELECT 1;\n");
    assert!(!ok);
    assert!(err.contains("ERROR 1045 (28000)"), "{err}");
    let (ok, out, err) = mariadb(&server, ROOT_PASSWORD, &["-N"], "SELECT 1 + 1;\n");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2");
}

#[test]
fn interactive_session_through_a_terminal() {
    if !require("mariadb") || !require("script") {
        return;
    }
    let server = Server::start("mariadb-interactive");
    let client = format!("mariadb -h 127.0.0.1 -P {} -u root -p{ROOT_PASSWORD} --skip-ssl", server.port());
    let mut child = Command::new("script")
        .args(["-qec", &client, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            b"create database d;\nuse d\ncreate table t (a int);\ninsert into t values (1),(2);\n\
              select * from t;\nselect * from nope;\nstatus\nquit\n",
        )
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 rows in set"), "{text}");
    assert!(text.contains("ERROR 1146 (42S02): Table 'd.nope' doesn't exist"), "{text}");
    assert!(text.contains("Server version:\t\t8.0.36-mizzle"), "{text}");
    assert!(text.contains("Current database:\td"), "{text}");
}
