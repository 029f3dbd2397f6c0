//! Runs the files in `runner-tests/` in this process against the fake engine
//! and checks the exact counts, end status and failing lines of each.

mod fake;

use std::path::{Path, PathBuf};

use fake::{BrokenBackend, FakeBackend};
use mizzle_slt::{run_file, run_files, run_path, FileResult, FileStatus, RunOptions, SuiteOptions};

fn runner_tests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runner-tests")
}

fn labels() -> Vec<String> {
    vec!["mysql".into(), "mizzle".into()]
}

fn run(name: &str) -> FileResult {
    let options = RunOptions { labels: labels(), ..RunOptions::default() };
    run_path(&FakeBackend, &runner_tests().join(name), &options)
}

/// Asserts counts, status and the lines of the failing records.
fn check(name: &str, passed: u64, failed: u64, skipped: u64, status: FileStatus, failing_lines: &[usize]) {
    let result = run(name);
    let lines: Vec<usize> = result.failures.iter().map(|f| f.line).collect();
    assert_eq!(
        (result.passed, result.failed, result.skipped, result.status, lines.as_slice()),
        (passed, failed, skipped, status, failing_lines),
        "{name}: failures {:#?}",
        result.failures
    );
}

#[test]
fn skipif_and_onlyif_match_any_declared_label_case_insensitively() {
    check("conditions.slt", 6, 0, 8, FileStatus::Ok, &[]);
}

#[test]
fn unskipped_halt_stops_the_file_and_skipped_halt_does_not() {
    check("halt.slt", 2, 0, 1, FileStatus::Halt, &[]);
}

#[test]
fn halt_guarded_by_onlyif_of_our_label_stops_the_file() {
    check("halt-onlyif.slt", 1, 0, 0, FileStatus::Halt, &[]);
}

#[test]
fn results_above_the_hash_threshold_must_match_the_md5_line() {
    check("hashing.slt", 7, 3, 0, FileStatus::Ok, &[24, 38, 44]);
}

#[test]
fn sort_modes_order_rendered_values_like_python() {
    check("sorting.slt", 5, 2, 0, FileStatus::Ok, &[47, 54]);
}

#[test]
fn queries_sharing_a_label_must_agree_including_skipped_ones() {
    check("labels.slt", 5, 3, 2, FileStatus::Ok, &[18, 41, 61]);
}

#[test]
fn integer_real_and_text_values_render_like_slt_run_py() {
    check("render.slt", 4, 0, 0, FileStatus::Ok, &[]);
}

#[test]
fn expected_errors_match_by_number_or_text() {
    check("errors.slt", 9, 9, 0, FileStatus::Ok, &[12, 16, 24, 28, 32, 44, 60, 64, 68]);
}

#[test]
fn blocked_statements_run_in_the_background_until_unblocked_checks_them() {
    check("blocks.slt", 16, 4, 0, FileStatus::Ok, &[22, 67, 71, 85]);
}

#[test]
fn column_count_and_type_string_are_checked_and_bad_types_do_not_run() {
    check("columns.slt", 1, 5, 0, FileStatus::Ok, &[4, 11, 15, 20, 31]);
}

#[test]
fn connection_records_use_named_sessions_of_one_database() {
    check("connections.slt", 9, 0, 1, FileStatus::Ok, &[]);
}

#[test]
fn unknown_record_type_fails_once_and_stops_the_file() {
    check("unknown.test", 1, 1, 0, FileStatus::Ok, &[9]);
}

#[test]
fn crlf_line_endings_and_whitespace_lines_are_ignored() {
    check("crlf.slt", 2, 1, 0, FileStatus::Ok, &[17]);
}

#[test]
fn every_runner_test_file_is_checked_by_a_test() {
    let checked = [
        "README.md",
        "blocks.slt",
        "columns.slt",
        "complete",
        "conditions.slt",
        "connections.slt",
        "crlf.slt",
        "errors.slt",
        "fresh-database.slt",
        "halt-onlyif.slt",
        "halt.slt",
        "hashing.slt",
        "isolation",
        "labels.slt",
        "render.slt",
        "sorting.slt",
        "unknown.test",
    ];
    let mut found: Vec<String> = std::fs::read_dir(runner_tests())
        .expect("runner-tests exists")
        .map(|e| e.expect("readable entry").file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, checked);
}

#[test]
fn each_file_of_a_suite_gets_a_fresh_database() {
    let file = runner_tests().join("fresh-database.slt");
    let options = SuiteOptions { in_process: true, labels: labels(), ..SuiteOptions::default() };
    let results = run_files(&FakeBackend, &[file.clone(), file], &options, &mut |_| {});
    for r in &results {
        assert_eq!((r.passed, r.failed, r.skipped), (3, 0, 0), "{:#?}", r.failures);
    }
}

#[test]
fn run_file_uses_the_database_it_is_given() {
    let db = fake::FakeDatabase::default();
    let options = RunOptions { labels: labels(), ..RunOptions::default() };
    let file = runner_tests().join("fresh-database.slt");
    let first = run_file(&db, &file, &options);
    assert_eq!((first.passed, first.failed), (3, 0));
    // The same database again: no longer fresh, so the first two queries fail.
    let second = run_file(&db, &file, &options);
    assert_eq!((second.passed, second.failed), (1, 2));
}

#[test]
fn database_that_cannot_open_fails_every_unskipped_record() {
    let options = RunOptions { labels: vec!["mysql".into()], ..RunOptions::default() };
    let result = run_path(&BrokenBackend, &runner_tests().join("halt.slt"), &options);
    // Like slt_run.py's connect-error: all statement/query records, halt or not.
    assert_eq!((result.passed, result.failed, result.skipped), (0, 4, 0));
    assert_eq!(result.status, FileStatus::ConnectError);
    assert!(result.error.as_deref().is_some_and(|e| e.contains("no storage")));
}

#[test]
fn missing_file_counts_as_one_failure() {
    let result = run("no-such-file.slt");
    assert_eq!((result.failed, result.status), (1, FileStatus::Unreadable));
}

#[test]
fn complete_rewrites_failing_records_and_the_result_then_passes() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("slt-complete");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("complete.slt");
    std::fs::copy(runner_tests().join("complete/before.slt"), &file).expect("copy");
    let options = RunOptions { labels: labels(), complete: true, ..RunOptions::default() };
    let first = run_path(&FakeBackend, &file, &options);
    assert_eq!((first.passed, first.failed, first.skipped), (1, 11, 1), "{:#?}", first.failures);
    assert_eq!(first.error, None);
    let written = std::fs::read_to_string(&file).expect("rewritten file");
    let expected = std::fs::read_to_string(runner_tests().join("complete/after.slt")).expect("after.slt");
    assert_eq!(written, expected);
    let second = run_path(&FakeBackend, &file, &options);
    assert_eq!((second.passed, second.failed, second.skipped), (12, 0, 1), "{:#?}", second.failures);
    assert_eq!(std::fs::read_to_string(&file).expect("file"), expected, "a passing file is left alone");
}
