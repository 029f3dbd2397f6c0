//! Short sysbench `oltp_read_write` runs (8 threads, a few seconds, the
//! default prepared-statement mode) against mizzled: each must finish with
//! no fatal error and within a bound of time. At the default REPEATABLE
//! READ, sysbench retries the write conflicts of first-committer-wins (its
//! transactions read, then update rows others changed meanwhile: 1213, by
//! design); at READ COMMITTED a statement that meets a newer commit runs
//! again on a new snapshot, so nearly nothing is retried. The 30-second
//! runs are `benches/sysbench-30s.sh`.

mod harness;

use std::process::Command;

use harness::{require, Server, ROOT_PASSWORD};

fn sysbench(server: &Server, args: &[&str]) -> (bool, String) {
    let port = format!("--mysql-port={}", server.port());
    let password = format!("--mysql-password={ROOT_PASSWORD}");
    // A server that stops answering must fail the test, not hang it.
    let out = Command::new("timeout")
        .args(["120", "sysbench", "oltp_read_write"])
        .args(["--db-driver=mysql", "--mysql-host=127.0.0.1", "--mysql-user=root", "--mysql-db=sbtest"])
        .arg(&port)
        .arg(&password)
        .args(["--tables=2", "--table-size=5000"])
        .args(args)
        .output()
        .expect("run sysbench");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The number after `label` on sysbench's report line starting with it.
fn figure(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no '{label}' in sysbench's report:\n{text}"))
}

/// Prepares, runs and cleans up; returns (transactions, ignored errors).
fn run(server: &Server) -> (u64, u64) {
    let created = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", &server.port().to_string(), "-u", "root", "--skip-ssl"])
        .arg(format!("-p{ROOT_PASSWORD}"))
        .args(["-e", "CREATE DATABASE sbtest"])
        .status()
        .expect("mariadb");
    assert!(created.success());
    let (ok, text) = sysbench(server, &["prepare"]);
    assert!(ok, "{text}");
    let (ok, text) = sysbench(server, &["--threads=8", "--time=4", "run"]);
    assert!(ok, "{text}");
    assert!(!text.contains("FATAL"), "{text}");
    let transactions = figure(&text, "transactions:");
    let ignored = figure(&text, "ignored errors:");
    assert!(transactions > 0, "{text}");
    let (ok, text) = sysbench(server, &["cleanup"]);
    assert!(ok, "{text}");
    (transactions, ignored)
}

#[test]
fn sysbench_oltp_read_write_runs_without_errors() {
    if !require("sysbench") || !require("mariadb") {
        return;
    }
    let server = Server::start("sysbench");
    let (transactions, ignored) = run(&server);
    eprintln!("REPEATABLE READ: {transactions} transactions, {ignored} retried");
}

#[test]
fn sysbench_at_read_committed_retries_almost_nothing() {
    if !require("sysbench") || !require("mariadb") {
        return;
    }
    // The run that once hung the pool: statements meeting a newer commit
    // still being published (they yield now, rather than block a worker).
    let server = Server::start_with("sysbench-rc", &["--transaction-isolation", "READ-COMMITTED"]);
    let (transactions, ignored) = run(&server);
    eprintln!("READ COMMITTED: {transactions} transactions, {ignored} retried");
    // Only deadlocks remain possible (two transactions updating two rows in
    // opposite orders; InnoDB has them too): rare, not a tenth of the runs
    // as first-committer-wins gives at REPEATABLE READ.
    assert!(ignored * 100 <= transactions, "{ignored} retried of {transactions}");
}

#[test]
fn transaction_isolation_sets_the_level_sessions_start_at() {
    if !require("mariadb") {
        return;
    }
    let query = |server: &Server, sql: &str| {
        let out = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-P", &server.port().to_string(), "-u", "root", "--skip-ssl", "-N", "-B"])
            .arg(format!("-p{ROOT_PASSWORD}"))
            .args(["-e", sql])
            .output()
            .expect("mariadb");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let server = Server::start_with("isolation-option", &["--transaction-isolation", "serializable"]);
    assert_eq!(
        query(&server, "SELECT @@global.transaction_isolation, @@transaction_isolation"),
        "SERIALIZABLE\tSERIALIZABLE"
    );
    let server = Server::start("isolation-default");
    assert_eq!(query(&server, "SELECT @@transaction_isolation"), "REPEATABLE-READ");

    // A level that does not exist stops the start, saying why.
    let dir = harness::temp_dir("isolation-bad");
    let out = Command::new(env!("CARGO_BIN_EXE_mizzled"))
        .arg("--datadir")
        .arg(&dir)
        .args(["--port", "0", "--transaction-isolation", "SNAPSHOT"])
        .output()
        .expect("mizzled");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("can't be set to the value of 'SNAPSHOT'"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}
