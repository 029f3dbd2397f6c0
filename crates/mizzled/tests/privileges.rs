//! Accounts and privileges over the wire, with the stock `mariadb` client:
//! an account made with CREATE USER logs in with its password, gets what
//! it was granted and is refused the rest with MySQL's errors.

mod harness;

use std::io::Write;
use std::process::{Command, Stdio};

use harness::{require, Server, ROOT_PASSWORD};

/// Runs `input` through `mariadb --batch` as `user`; (success, stdout, stderr).
fn mariadb(server: &Server, user: &str, password: &str, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", &server.port().to_string(), "-u", user])
        .arg(format!("-p{password}"))
        .args(["--batch", "--skip-ssl", "--skip-column-names", "--force"])
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
fn account_gets_what_it_was_granted_and_nothing_else() {
    if !require("mariadb") {
        return;
    }
    let server = Server::start("privileges");
    let (ok, _, err) = mariadb(
        &server,
        "root",
        ROOT_PASSWORD,
        &[],
        "CREATE DATABASE shop;\n\
         CREATE DATABASE other;\n\
         CREATE TABLE shop.item (id INT PRIMARY KEY, name VARCHAR(20));\n\
         INSERT INTO shop.item VALUES (1, 'apple');\n\
         CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw';\n\
         GRANT SELECT ON shop.* TO 'app'@'%';\n",
    );
    assert!(ok, "{err}");

    // Root is the administrator made on first start.
    let (ok, out, err) = mariadb(&server, "root", ROOT_PASSWORD, &[], "SHOW GRANTS;\nSELECT CURRENT_USER();\n");
    assert!(ok, "{err}");
    assert_eq!(out, "GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION\nroot@%\n");

    // The authentication plugin is listed with the other plugins.
    let (ok, out, err) = mariadb(&server, "root", ROOT_PASSWORD, &[], "SHOW PLUGINS;\n");
    assert!(ok, "{err}");
    assert!(out.contains("native\tACTIVE\tAUTHENTICATION\tNULL"), "{out}");

    // The account logs in with its password, into its database.
    let (ok, out, err) = mariadb(
        &server,
        "app",
        "app-pw",
        &["shop"],
        "SELECT name FROM item;\n\
         INSERT INTO item VALUES (2, 'pear');\n\
         SHOW DATABASES;\n\
         USE other;\n\
         CREATE USER x;\n\
         SELECT CURRENT_USER(), USER() LIKE 'app@%';\n",
    );
    // --force goes on after errors (and exits with success).
    let _ = ok;
    assert_eq!(out, "apple\ninformation_schema\nshop\napp@%\t1\n", "stderr: {err}");
    assert!(
        err.contains("ERROR 1142 (42000) at line 2: INSERT command denied to user 'app'@'%' for table 'item'"),
        "{err}"
    );
    assert!(
        err.contains("ERROR 1044 (42000) at line 4: Access denied for user 'app'@'%' to database 'other'"),
        "{err}"
    );
    assert!(err.contains("ERROR 1227 (42000) at line 5"), "{err}");

    // A database the account may not use refuses the login itself.
    let (ok, _, err) = mariadb(&server, "app", "app-pw", &["other"], "SELECT 1;\n");
    assert!(!ok);
    assert!(err.contains("ERROR 1044 (42000)"), "{err}");

    // A wrong password is 1045.
    let (ok, _, err) = mariadb(&server, "app", "wrong", &[], "SELECT 1;\n");
    assert!(!ok);
    assert!(err.contains("ERROR 1045 (28000)"), "{err}");

    // A new password works at once; the old one no longer does.
    let (ok, _, err) = mariadb(&server, "root", ROOT_PASSWORD, &[], "ALTER USER app IDENTIFIED BY 'pw2';\n");
    assert!(ok, "{err}");
    let (ok, out, err) = mariadb(&server, "app", "pw2", &["shop"], "SELECT COUNT(*) FROM item;\n");
    assert!(ok, "{err}");
    assert_eq!(out, "1\n");

    // Dropped: the account can no longer log in.
    let (ok, _, err) = mariadb(&server, "root", ROOT_PASSWORD, &[], "DROP USER app;\n");
    assert!(ok, "{err}");
    let (ok, _, err) = mariadb(&server, "app", "pw2", &[], "SELECT 1;\n");
    assert!(!ok);
    assert!(err.contains("ERROR 1045 (28000)"), "{err}");
}

/// The `mysql` schema holds every account and grant: dropping it is
/// refused (3552, as MySQL 8). Dropping `mysql.user` itself is allowed to
/// root, as in MySQL 8; logins then fail cleanly, and a restart recreates
/// the administrator as a first start does.
#[test]
fn the_grant_tables_cannot_be_dropped_whole_and_a_lost_account_table_comes_back_at_restart() {
    use mysql::prelude::Queryable;
    let mut server = Server::start("grant-tables");
    let mut c = server.connect_root(None);
    let code = |e: mysql::Error| match e {
        mysql::Error::MySqlError(m) => m.code,
        other => panic!("not a server error: {other}"),
    };
    let e = c.query_drop("DROP DATABASE mysql").expect_err("the mysql schema cannot be dropped");
    assert_eq!(code(e), 3552);
    let e = c.query_drop("DROP DATABASE IF EXISTS mysql").expect_err("not with IF EXISTS either");
    assert_eq!(code(e), 3552);
    // Still there: a new login works.
    let mut again = server.connect_root(None);
    let n: Option<i64> = again.query_first("SELECT COUNT(*) FROM mysql.user").expect("accounts readable");
    assert!(n.unwrap_or(0) >= 1, "root's row is still there");
    drop(again);
    c.query_drop("DROP TABLE mysql.user").expect("root may drop the account table, as in MySQL 8");
    drop(c);
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some("127.0.0.1"))
        .tcp_port(server.port())
        .user(Some("root"))
        .pass(Some(ROOT_PASSWORD))
        .prefer_socket(false);
    assert!(mysql::Conn::new(opts).is_err(), "no account table: no login");
    let dir = server.datadir.clone();
    assert!(server.stop(), "clean stop");
    let restarted = Server::start_in(dir, &[]);
    let mut c = restarted.connect_root(None);
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM mysql.user").expect("recreated");
    assert_eq!(n, Some(1), "only root comes back");
}
