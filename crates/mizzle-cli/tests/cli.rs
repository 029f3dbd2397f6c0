//! Runs the built `mizzle` binary with `-e` arguments and with scripts on
//! standard input against in-memory databases, checking output and exit
//! codes. Timings are turned off with `--no-timing` so output is exact.

use std::io::Write;
use std::process::{Command, Stdio};

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn mizzle(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mizzle"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start mizzle: {e}"));
    if let Some(mut input) = child.stdin.take() {
        // The binary may exit before reading everything (after an error);
        // a broken pipe here is then expected.
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("mizzle did not finish: {e}"));
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

const SETUP: &str = "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(6,2)); \
                     INSERT INTO t VALUES (1, 'apple', 1.50), (20, 'größe', NULL), (3, NULL, 12.00);";

#[test]
fn execute_flag_prints_boxed_results_and_exits_zero() {
    let r = mizzle(&["--no-timing", "-e", SETUP, "-e", "SELECT * FROM t ORDER BY id"], b"");
    assert_eq!(r.stderr, "");
    assert_eq!(r.code, Some(0));
    assert_eq!(
        r.stdout,
        "Query OK, 0 rows affected\n\n\
         Query OK, 3 rows affected\n\n\
         +----+-------+-------+\n\
         | id | name  | price |\n\
         +----+-------+-------+\n\
         |  1 | apple |  1.50 |\n\
         |  3 | NULL  | 12.00 |\n\
         | 20 | größe |  NULL |\n\
         +----+-------+-------+\n\
         3 rows in set\n\n"
    );
}

#[test]
fn shell_subcommand_behaves_like_no_subcommand() {
    let plain = mizzle(&["--no-timing", "-e", "SELECT 1 AS one"], b"");
    let sub = mizzle(&["shell", "--no-timing", "-e", "SELECT 1 AS one"], b"");
    assert_eq!(plain.code, Some(0));
    assert_eq!(plain.stdout, "+-----+\n| one |\n+-----+\n|   1 |\n+-----+\n1 row in set\n\n");
    assert_eq!(sub.stdout, plain.stdout);
    assert_eq!(sub.code, Some(0));
}

#[test]
fn empty_result_prints_empty_set() {
    let r = mizzle(&["--no-timing", "-e", SETUP, "-e", "SELECT * FROM t WHERE id = 99"], b"");
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.ends_with("Query OK, 3 rows affected\n\nEmpty set\n\n"), "{}", r.stdout);
}

#[test]
fn timing_is_shown_by_default() {
    let r = mizzle(&["-e", "SELECT 1"], b"");
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("1 row in set ("), "{}", r.stdout);
    assert!(r.stdout.contains(" sec)\n"), "{}", r.stdout);
}

#[test]
fn execute_error_goes_to_stderr_exits_one_and_stops() {
    let r = mizzle(&["--no-timing", "-e", "SELECT 1 AS a;\nSELECT * FROM missing; SELECT 2 AS b"], b"");
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stderr, "ERROR 1146 (42S02) at line 2: Table 'main.missing' doesn't exist\n");
    assert_eq!(r.stdout, "+---+\n| a |\n+---+\n| 1 |\n+---+\n1 row in set\n\n");
}

#[test]
fn later_execute_flags_do_not_run_after_an_error() {
    let r = mizzle(&["--no-timing", "-e", "SELECT * FROM missing", "-e", "SELECT 2 AS b"], b"");
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "");
}

#[test]
fn execute_ignores_standard_input() {
    let r = mizzle(&["--no-timing", "-e", "SELECT 1 AS a"], b"SELECT * FROM missing;");
    assert_eq!(r.code, Some(0));
    assert_eq!(r.stderr, "");
}

#[test]
fn stdin_script_splits_on_semicolons_outside_quotes_and_comments() {
    let script = "-- a script\n\
                  CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20)); # trailing comment\n\
                  INSERT INTO t VALUES (1, 'a;b'), /* two; rows */ (2, 'it''s');\n\
                  SELECT s\n  FROM t\n  ORDER BY id;\n\
                  SELECT id, s FROM t WHERE id = 2\\G\n\
                  SELECT COUNT(*) AS n FROM t";
    let r = mizzle(&["--no-timing"], script.as_bytes());
    assert_eq!(r.stderr, "");
    assert_eq!(r.code, Some(0));
    let stars = "*".repeat(27);
    assert_eq!(
        r.stdout,
        format!(
            "Query OK, 0 rows affected\n\n\
             Query OK, 2 rows affected\n\n\
             +------+\n| s    |\n+------+\n| a;b  |\n| it's |\n+------+\n2 rows in set\n\n\
             {stars} 1. row {stars}\nid: 2\n s: it's\n1 row in set\n\n\
             +---+\n| n |\n+---+\n| 2 |\n+---+\n1 row in set\n\n"
        )
    );
}

#[test]
fn stdin_script_stops_at_first_error_with_its_line() {
    let r = mizzle(&["--no-timing"], b"SELECT 1 AS a;\n\nINSERT INTO nope VALUES (1);\nSELECT 2 AS b;\n");
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stderr, "ERROR 1146 (42S02) at line 3: Table 'main.nope' doesn't exist\n");
    assert!(!r.stdout.contains("| b |"), "{}", r.stdout);
}

#[test]
fn force_continues_after_errors_but_still_exits_one() {
    let r = mizzle(&["--no-timing", "--force"], b"SELECT * FROM nope;\nSELECT 2 AS b;\n");
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.starts_with("ERROR 1146 (42S02) at line 1: "), "{}", r.stderr);
    assert_eq!(r.stdout, "+---+\n| b |\n+---+\n| 2 |\n+---+\n1 row in set\n\n");
}

#[test]
fn duplicate_key_error_is_reported_by_number() {
    let r = mizzle(
        &["--no-timing"],
        b"CREATE TABLE t (id INT PRIMARY KEY);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
    );
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.starts_with("ERROR 1062 (23000) at line 3: "), "{}", r.stderr);
}

#[test]
fn quit_in_a_script_stops_reading() {
    let r = mizzle(&["--no-timing"], b"SELECT 1 AS a;\nquit\nSELECT * FROM missing;\n");
    assert_eq!(r.code, Some(0));
    assert_eq!(r.stderr, "");
    assert_eq!(r.stdout, "+---+\n| a |\n+---+\n| 1 |\n+---+\n1 row in set\n\n");
}

#[test]
fn windows_line_endings_are_accepted() {
    let r = mizzle(&["--no-timing"], b"SELECT 'x' AS c;\r\nSELECT 2 AS d;\r\n");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("| x |") && r.stdout.contains("| 2 |"), "{}", r.stdout);
}

#[test]
fn invalid_utf8_on_stdin_is_an_error() {
    let r = mizzle(&["--no-timing"], b"SELECT '\xff';\n");
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("UTF-8"), "{}", r.stderr);
}

#[test]
fn empty_input_runs_nothing_and_succeeds() {
    let r = mizzle(&["--no-timing"], b"-- only a comment\n;;\n");
    assert_eq!(r.code, Some(0));
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
}

#[test]
fn database_directory_that_cannot_be_opened_fails_with_mysql_style_error() {
    let dir = std::env::temp_dir().join(format!("mizzle-cli-test-{}", std::process::id()));
    let dir = dir.to_string_lossy().into_owned();
    let r = mizzle(&["shell", &dir, "-e", "SELECT 1"], b"");
    // Until the disk engine lands opening a directory is refused; once it
    // does, the statement must simply succeed.
    if r.code == Some(0) {
        assert!(r.stdout.contains("1 row in set"), "{}", r.stdout);
    } else {
        assert_eq!(r.code, Some(1));
        assert!(r.stderr.starts_with("ERROR "), "{}", r.stderr);
        assert_eq!(r.stdout, "");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_option_is_a_usage_error() {
    let r = mizzle(&["--no-such-flag"], b"");
    assert_eq!(r.code, Some(2));
}

#[test]
fn warnings_are_counted_and_listed_after_the_result() {
    let r = mizzle(&["--no-timing", "-e", "SELECT 1/0 AS x"], b"");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "+------+\n| x    |\n+------+\n| NULL |\n+------+\n1 row in set, 1 warning\nWarning (Code 1365): Division by 0\n\n"
    );
}

#[test]
fn a_note_is_listed_with_its_level() {
    let r = mizzle(&["--no-timing", "-e", "CREATE DATABASE d; USE d; DROP TABLE IF EXISTS nope"], b"");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.ends_with("Query OK, 0 rows affected, 1 warning\nNote (Code 1051): Unknown table 'd.nope'\n\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn binary_values_that_are_not_utf8_print_as_hex() {
    let r = mizzle(&["--no-timing", "-e", "SELECT x'00FF' AS b, x'6869' AS t"], b"");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "+--------+----+\n| b      | t  |\n+--------+----+\n| 0x00FF | hi |\n+--------+----+\n1 row in set\n\n"
    );
}
