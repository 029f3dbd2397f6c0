//! Streaming over the wire: `tests/stream_client.py` reads a 2,000,000-row
//! result with PyMySQL's unbuffered cursor, slowly at first, against a
//! server with one worker, and checks that the server's RSS stays bounded
//! and that another client is answered meanwhile.

mod harness;

use std::process::Command;

use harness::{Server, ROOT_PASSWORD};

fn have_pymysql() -> bool {
    Command::new("python3").args(["-c", "import pymysql"]).status().map(|s| s.success()).unwrap_or(false)
}

fn stream(scheduler: &str, workers: &[&str]) {
    if !have_pymysql() {
        assert!(std::env::var_os("CI").is_none(), "pymysql is not installed (.ci/run installs it)");
        eprintln!("skipped: pymysql is not installed");
        return;
    }
    let mut args = vec!["--scheduler", scheduler];
    args.extend_from_slice(workers);
    let server = Server::start_with(&format!("stream-{scheduler}"), &args);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stream_client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(server.port().to_string())
        .arg(ROOT_PASSWORD)
        .arg(server.pid().to_string())
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("checks passed"), "{stdout}");
}

#[test]
fn a_big_result_streams_in_bounded_memory_pool() {
    stream("pool", &["--workers", "1"]);
}
