//! Smoke test of the `workload` binary: tiny sizes on both engines, checking
//! that the output stays conforming (header, one line per step in the
//! specified order, numbers or an explicit skip) and that no workload
//! statement fails on either engine.
//!
//! It does not check performance. It is skipped, with a note, when the shared
//! `workload.sql` is not beside the repository.

use std::path::Path;
use std::process::Command;

const STEPS: [&str; 11] = ["W1", "W1b", "W2", "W3a", "W3b", "W5a", "W5b", "W4", "W6", "W6n", "W6r"];

fn run(engine: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_workload"))
        .args(["--engine", engine, "--rows", "1000", "--point-ops", "200", "--range-ops", "20"])
        .args(["--durable-commits", "10", "--agg-reps", "1", "--join-rows", "500", "--conc-secs", "0.2"])
        .output()
        .expect("the workload binary runs");
    let stdout = String::from_utf8(out.stdout).expect("output is UTF-8");
    assert!(out.status.success(), "{engine} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn assert_conforming(engine: &str, out: &str) {
    let mut lines = out.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with(&format!("# engine={engine} version=")), "header: {header}");
    let steps: Vec<&str> = lines.collect();
    assert_eq!(steps.len(), STEPS.len(), "one line per step:\n{out}");
    for (line, id) in steps.iter().zip(STEPS) {
        let mut fields = line.split_whitespace();
        assert_eq!(fields.next(), Some(id), "step order:\n{out}");
        let rest: Vec<&str> = fields.skip(1).collect();
        let measured = ["ops=", "secs=", "ops_per_s=", "p50_us=", "p99_us=", "max_us="]
            .iter()
            .all(|k| rest.iter().any(|f| f.starts_with(k)));
        let skipped = rest.first().is_some_and(|f| f.starts_with("skipped="));
        assert!(measured || skipped, "{engine}: step line neither measured nor skipped: {line}");
    }
}

#[test]
fn both_engines_print_one_line_per_step_in_order() {
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/workload.sql");
    if !sql.exists() {
        eprintln!("skipped: {} not found", sql.display());
        return;
    }
    for engine in ["sqlite", "mizzle"] {
        let out = run(engine);
        assert_conforming(engine, &out);
        if engine == "sqlite" {
            assert!(!out.contains("skipped="), "SQLite runs every step:\n{out}");
        }
    }
}
