//! The `mizzle-slt` command line: options, per-file and total output, the
//! JSON report and the exit code. The same entry point serves as the worker
//! process when given the hidden `--slt-worker` flag.
//!
//! Invariants:
//! 1. The last line printed is exactly `N passed, N failed, N skipped`
//!    (record totals), also with `--quiet`.
//! 2. Exit code: 0 iff no record failed, or with `--min-passed N` iff at
//!    least N passed; 1 otherwise; 2 for usage errors, no files, or an
//!    unwritable JSON report.
//! 3. Labels are lower case: `--label` values, else the backend's.
//!
//! It does not run records itself (see `supervisor` and `protocol`).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::protocol::run_worker;
use crate::runner::{FileResult, RunOptions};
use crate::supervisor::{collect_files, run_files, SuiteOptions};
use crate::Backend;

/// Failure details kept per file for the JSON report, as `slt_run.py` does.
const JSON_FAILURES: usize = 20;

#[derive(Debug, Parser)]
#[command(name = "mizzle-slt", about = "Run sqllogictest files (.slt, .test) against the engine.")]
struct Options {
    /// Test files, or directories searched recursively for *.slt and *.test.
    #[arg(required = true, value_name = "PATHS")]
    paths: Vec<PathBuf>,
    /// Files run in parallel, each in its own worker process.
    #[arg(short, long, default_value_t = 1, value_name = "N")]
    jobs: usize,
    /// Per-file timeout in seconds (0 = none); the rest of the file fails.
    #[arg(long, default_value_t = 300.0, value_name = "S")]
    timeout: f64,
    /// Engine label for skipif/onlyif (repeatable; replaces the engine's own).
    #[arg(long = "label", value_name = "L")]
    labels: Vec<String>,
    /// Show only the first N failures of each failing file (default: all).
    #[arg(short, long, value_name = "N")]
    verbose: Option<usize>,
    /// Print only the final totals line.
    #[arg(short, long)]
    quiet: bool,
    /// Write per-file results as JSON (the shape slt_run.py writes).
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Exit 0 iff at least N records passed (compare with a baseline).
    #[arg(long, value_name = "N")]
    min_passed: Option<u64>,
    /// Rewrite the files so that failing records expect the actual results.
    #[arg(long)]
    complete: bool,
    /// Run files in this process, one by one: no crash isolation, no timeout.
    #[arg(long)]
    in_process: bool,
    /// Internal: run one file and stream its outcomes (see `protocol`).
    #[arg(long = "slt-worker", hide = true)]
    worker: bool,
}

/// The whole `mizzle-slt` program with the process's arguments; returns
/// the exit code.
pub fn run_cli(backend: Arc<dyn Backend>) -> i32 {
    run_cli_with_args(backend, std::env::args_os())
}

/// `run_cli` with explicit arguments (the first is the program name).
pub fn run_cli_with_args<I, T>(backend: Arc<dyn Backend>, args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let options = match Options::try_parse_from(args) {
        Ok(options) => options,
        Err(e) => {
            // Printing help or a usage error; nothing better to do if it fails.
            let _ = e.print();
            return e.exit_code();
        }
    };
    let labels: Vec<String> = if options.labels.is_empty() { backend.labels() } else { options.labels.clone() };
    let labels: Vec<String> = labels.iter().map(|l| l.to_lowercase()).collect();
    if options.worker {
        let [path] = options.paths.as_slice() else {
            eprintln!("mizzle-slt: a worker runs exactly one file");
            return 2;
        };
        let run = RunOptions { labels, complete: options.complete, max_failures: Some(0) };
        return run_worker(backend.as_ref(), path, &run);
    }
    run_suite(backend.as_ref(), &options, labels)
}

fn run_suite(backend: &dyn Backend, options: &Options, labels: Vec<String>) -> i32 {
    let files = collect_files(&options.paths);
    if files.is_empty() {
        eprintln!("mizzle-slt: no .slt or .test files found");
        return 2;
    }
    let timeout = (options.timeout > 0.0).then(|| Duration::try_from_secs_f64(options.timeout).ok()).flatten();
    let suite = SuiteOptions {
        jobs: options.jobs.max(1),
        timeout,
        labels: labels.clone(),
        complete: options.complete,
        max_failures: Some(options.verbose.unwrap_or(usize::MAX).max(JSON_FAILURES)),
        in_process: options.in_process,
        worker_exe: None,
    };
    let started = Instant::now();
    let results = run_files(backend, &files, &suite, &mut |result| {
        if !options.quiet {
            print_file(result, options.verbose);
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let passed: u64 = results.iter().map(|r| r.passed).sum();
    let failed: u64 = results.iter().map(|r| r.failed).sum();
    let skipped: u64 = results.iter().map(|r| r.skipped).sum();
    let mut code = match options.min_passed {
        Some(minimum) => i32::from(passed < minimum),
        None => i32::from(failed > 0),
    };
    if let Some(out) = &options.json {
        let report = Report { labels: &labels, options, wall, results: &results, totals: (passed, failed, skipped) };
        if let Err(e) = std::fs::write(out, report.to_json()) {
            eprintln!("mizzle-slt: cannot write {}: {e}", out.display());
            code = 2;
        }
    }
    let mut out = std::io::stdout().lock();
    // Output errors (a closed pipe) cannot be reported anywhere useful.
    if !options.quiet {
        let _ = writeln!(out, "{} files, {skipped} skipped records, {wall:.1}s wall", results.len());
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped");
    let _ = out.flush();
    code
}

/// A file's failures (at most `limit`), problem and summary line.
fn print_file(result: &FileResult, limit: Option<usize>) {
    let mut out = std::io::stdout().lock();
    let path = result.path.display();
    let mut text = String::new();
    for failure in result.failures.iter().take(limit.unwrap_or(usize::MAX)) {
        text.push_str(&format!("{path}:{}: {}\n", failure.line, failure.message));
        for line in failure.sql.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    if let Some(error) = &result.error {
        text.push_str(&format!("{path}: {error}\n"));
    }
    let verdict = if result.is_pass() { "PASS" } else { "FAIL" };
    let status = match result.status.as_str() {
        "ok" => String::new(),
        other => format!(" [{other}]"),
    };
    text.push_str(&format!(
        "{verdict} {path}: {} passed, {} failed, {} skipped ({:.2}s){status}\n",
        result.passed, result.failed, result.skipped, result.seconds
    ));
    // See run_suite about output errors.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The `--json` report.
struct Report<'a> {
    labels: &'a [String],
    options: &'a Options,
    wall: f64,
    results: &'a [FileResult],
    totals: (u64, u64, u64),
}

impl Report<'_> {
    /// The timeout as a JSON number: 0 for none.
    fn timeout_seconds(&self) -> f64 {
        let t = self.options.timeout;
        if t.is_finite() && t > 0.0 {
            t
        } else {
            0.0
        }
    }

    fn to_json(&self) -> String {
        let root = common_root(self.results.iter().map(|r| r.path.as_path()));
        let labels: Vec<String> = self.labels.iter().map(|l| json_string(l)).collect();
        let files: Vec<String> = self.results.iter().map(|r| file_json(r, root.as_deref())).collect();
        let (passed, failed, skipped) = self.totals;
        format!(
            "{{\"labels\": [{}], \"jobs\": {}, \"timeout\": {}, \"wall_seconds\": {:.3},\n \
             \"passed\": {passed}, \"failed\": {failed}, \"skipped\": {skipped},\n \"files\": [\n{}\n]}}\n",
            labels.join(", "),
            self.options.jobs,
            self.timeout_seconds(),
            self.wall,
            files.join(",\n")
        )
    }
}

fn file_json(result: &FileResult, root: Option<&Path>) -> String {
    let shown = root
        .and_then(|root| normalized(&result.path).strip_prefix(root).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| result.path.clone());
    let failures: Vec<String> = result
        .failures
        .iter()
        .take(JSON_FAILURES)
        .map(|f| {
            format!(
                "{{\"line\": {}, \"kind\": {}, \"error\": {}, \"sql\": {}}}",
                f.line,
                json_string(&f.kind),
                json_string(&truncate(&f.message, 400)),
                json_string(&truncate(&f.sql, 300))
            )
        })
        .collect();
    let error =
        result.error.as_deref().map_or(String::new(), |e| format!(", \"error\": {}", json_string(&truncate(e, 300))));
    format!(
        "  {{\"file\": {}, \"path\": {}, \"passed\": {}, \"failed\": {}, \"skipped\": {}, \"status\": {}, \
         \"seconds\": {:.3}{error}, \"failures\": [{}]}}",
        json_string(&shown.to_string_lossy()),
        json_string(&result.path.to_string_lossy()),
        result.passed,
        result.failed,
        result.skipped,
        json_string(result.status.as_str()),
        result.seconds,
        failures.join(", ")
    )
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An absolute path with `.` and `..` resolved lexically (Python's
/// `os.path.abspath`).
fn normalized(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The directory file names are shown relative to in the JSON report, as
/// `slt_run.py` does: the paths' common prefix, or its parent if that is a
/// file.
fn common_root<'a>(paths: impl Iterator<Item = &'a Path>) -> Option<PathBuf> {
    let mut root: Option<PathBuf> = None;
    for path in paths {
        let path = normalized(path);
        root = Some(match root {
            None => path,
            Some(root) => {
                root.components().zip(path.components()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect()
            }
        });
    }
    let root = root?;
    if root.is_file() {
        root.parent().map(Path::to_path_buf)
    } else {
        Some(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_quotes_and_control_characters() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn common_root_is_the_shared_directory_prefix() {
        let a = Path::new("/x/y/a.test");
        let b = Path::new("/x/z/b.test");
        assert_eq!(common_root([a, b].into_iter()), Some(PathBuf::from("/x")));
        assert_eq!(normalized(Path::new("/x/./y/../z")), PathBuf::from("/x/z"));
    }
}
