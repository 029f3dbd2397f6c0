//! A short sysbench `oltp_read_write` run (8 threads, a few seconds, the
//! default prepared-statement mode) against mizzled: it must finish with no
//! fatal error. The 30-second run is `benches/sysbench-30s.sh`.

mod harness;

use std::process::Command;

use harness::{require, Server, ROOT_PASSWORD};

fn sysbench(server: &Server, args: &[&str]) -> (bool, String) {
    let port = format!("--mysql-port={}", server.port());
    let password = format!("--mysql-password={ROOT_PASSWORD}");
    let out = Command::new("sysbench")
        .arg("oltp_read_write")
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

#[test]
fn sysbench_oltp_read_write_runs_without_errors() {
    if !require("sysbench") || !require("mariadb") {
        return;
    }
    let server = Server::start("sysbench");
    let created = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", &server.port().to_string(), "-u", "root", "--skip-ssl"])
        .arg(format!("-p{ROOT_PASSWORD}"))
        .args(["-e", "CREATE DATABASE sbtest"])
        .status()
        .expect("mariadb");
    assert!(created.success());
    let (ok, text) = sysbench(&server, &["prepare"]);
    assert!(ok, "{text}");
    let (ok, text) = sysbench(&server, &["--threads=8", "--time=4", "run"]);
    assert!(ok, "{text}");
    assert!(!text.contains("FATAL"), "{text}");
    let transactions = text
        .lines()
        .find(|l| l.trim_start().starts_with("transactions:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(transactions > 0, "{text}");
    let (ok, text) = sysbench(&server, &["cleanup"]);
    assert!(ok, "{text}");
}
