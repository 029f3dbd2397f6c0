//! Runs files through real worker processes: this test binary is its own
//! worker (`run_cli` re-executes the current executable with the hidden
//! worker flag, and `main` hands such invocations to `run_cli`), so it has
//! no libtest harness and runs its checks from `main`.

mod fake;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fake::FakeBackend;
use mizzle_slt::{collect_files, run_cli_with_args, run_files, FileResult, FileStatus, SuiteOptions};

fn runner_tests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runner-tests")
}

fn suite(jobs: usize, timeout: Duration) -> SuiteOptions {
    SuiteOptions {
        jobs,
        timeout: Some(timeout),
        labels: vec!["mysql".into(), "mizzle".into()],
        ..SuiteOptions::default()
    }
}

fn counts(r: &FileResult) -> (u64, u64, u64, FileStatus) {
    (r.passed, r.failed, r.skipped, r.status)
}

fn engine_crashes_hangs_and_overflows_cost_only_the_rest_of_their_file() {
    let dir = runner_tests().join("isolation");
    let files = [dir.join("crash.slt"), dir.join("hang.slt"), dir.join("overflow.slt")];
    let mut seen = 0;
    let results = run_files(&FakeBackend, &files, &suite(3, Duration::from_secs(3)), &mut |_| seen += 1);
    assert_eq!(seen, 3);
    let crash = &results[0];
    assert_eq!(counts(crash), (1, 3, 1, FileStatus::Crash), "{crash:#?}");
    assert_eq!(crash.failures.len(), 1);
    assert_eq!(crash.failures[0].line, 14);
    assert!(crash.failures[0].message.starts_with("worker died"), "{crash:#?}");
    let error = crash.error.as_deref().unwrap_or("");
    assert!(error.contains("fake engine panics on purpose"), "{crash:#?}");
    let hang = &results[1];
    assert_eq!(counts(hang), (2, 3, 0, FileStatus::Timeout), "{hang:#?}");
    assert_eq!(hang.failures[0].line, 15);
    assert!(hang.seconds >= 3.0 && hang.seconds < 20.0, "{hang:#?}");
    let overflow = &results[2];
    assert_eq!(counts(overflow), (1, 2, 0, FileStatus::Crash), "{overflow:#?}");
    assert_eq!(overflow.failures[0].line, 8);
}

fn workers_give_the_same_results_as_in_process_runs() {
    let files = collect_files(&[runner_tests()]);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(runner_tests()).expect("under runner-tests").display().to_string())
        .collect();
    // Sorted files of a directory first, then its subdirectories; only *.slt/*.test.
    assert_eq!(
        names,
        [
            "blocks.slt",
            "columns.slt",
            "conditions.slt",
            "connections.slt",
            "crlf.slt",
            "errors.slt",
            "fresh-database.slt",
            "halt-onlyif.slt",
            "halt.slt",
            "hashing.slt",
            "labels.slt",
            "render.slt",
            "sorting.slt",
            "unknown.test",
            "complete/after.slt",
            "complete/before.slt",
            "isolation/crash.slt",
            "isolation/hang.slt",
            "isolation/overflow.slt",
        ]
    );
    let top: Vec<PathBuf> = files.into_iter().take(14).collect();
    let in_process = SuiteOptions { in_process: true, ..suite(1, Duration::from_secs(60)) };
    let expected = run_files(&FakeBackend, &top, &in_process, &mut |_| {});
    let got = run_files(&FakeBackend, &top, &suite(2, Duration::from_secs(60)), &mut |_| {});
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(counts(e), counts(g), "{}", e.path.display());
        assert_eq!(e.failures, g.failures, "{}", e.path.display());
    }
}

fn cli_exit_code_follows_failures_or_min_passed_and_writes_json() {
    let backend: Arc<dyn mizzle_slt::Backend> = Arc::new(FakeBackend);
    let file = |name: &str| runner_tests().join(name).display().to_string();
    let cli = |args: &[String]| {
        let mut argv = vec!["mizzle-slt".to_owned(), "--quiet".to_owned()];
        argv.extend_from_slice(args);
        run_cli_with_args(Arc::clone(&backend), argv)
    };
    assert_eq!(cli(&[file("render.slt")]), 0);
    assert_eq!(cli(&[file("errors.slt")]), 1);
    assert_eq!(cli(&[file("errors.slt"), "--min-passed".into(), "9".into()]), 0);
    assert_eq!(cli(&[file("errors.slt"), "--min-passed".into(), "10".into()]), 1);
    // --label replaces the engine's labels: as "sqlite", `skipif mysql` records run and fail.
    assert_eq!(cli(&[file("conditions.slt"), "--label".into(), "SQLite".into()]), 1);
    let ours = ["--label".to_owned(), "MySQL".into(), "--label".into(), "mizzle".into()];
    assert_eq!(cli(&[&[file("conditions.slt")], &ours[..]].concat()), 0);
    assert_eq!(cli(&["--no-such-option".into()]), 2);
    let json = Path::new(env!("CARGO_TARGET_TMPDIR")).join("isolation-report.json");
    let code = cli(&[file("labels.slt"), "--jobs".into(), "2".into(), "--json".into(), json.display().to_string()]);
    assert_eq!(code, 1);
    let report = std::fs::read_to_string(&json).expect("json report");
    assert!(report.contains("\"passed\": 5, \"failed\": 3, \"skipped\": 2"), "{report}");
    assert!(report.contains("\"file\": \"labels.slt\""), "{report}");
}

fn main() {
    if std::env::args().any(|a| a == "--slt-worker") {
        std::process::exit(mizzle_slt::run_cli(Arc::new(FakeBackend)));
    }
    let tests: [(&str, fn()); 3] = [
        (
            "engine_crashes_hangs_and_overflows_cost_only_the_rest_of_their_file",
            engine_crashes_hangs_and_overflows_cost_only_the_rest_of_their_file,
        ),
        ("workers_give_the_same_results_as_in_process_runs", workers_give_the_same_results_as_in_process_runs),
        (
            "cli_exit_code_follows_failures_or_min_passed_and_writes_json",
            cli_exit_code_follows_failures_or_min_passed_and_writes_json,
        ),
    ];
    let mut failed = 0;
    for (name, test) in tests {
        let outcome = std::panic::catch_unwind(test);
        println!("test {name} ... {}", if outcome.is_ok() { "ok" } else { "FAILED" });
        failed += usize::from(outcome.is_err());
    }
    let passed = tests.len() - failed;
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out");
    std::process::exit(i32::from(failed > 0));
}
