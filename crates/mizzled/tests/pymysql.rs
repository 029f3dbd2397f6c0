//! Runs `tests/pymysql_client.py` (PyMySQL) against a fresh server.

mod harness;

use std::process::Command;

use harness::{Server, ROOT_PASSWORD};

fn have_pymysql() -> bool {
    Command::new("python3").args(["-c", "import pymysql"]).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn pymysql_script_passes() {
    if !have_pymysql() {
        assert!(std::env::var_os("CI").is_none(), "pymysql is not installed (.ci/run installs it)");
        eprintln!("skipped: pymysql is not installed");
        return;
    }
    let server = Server::start("pymysql");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pymysql_client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(server.port().to_string())
        .arg(ROOT_PASSWORD)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("checks passed"), "{stdout}");
}
