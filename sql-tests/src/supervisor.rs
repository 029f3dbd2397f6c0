//! Running many files: finding them, keeping `jobs` worker processes busy,
//! enforcing the per-file timeout and turning each worker's stream of
//! outcomes into a `FileResult`.
//!
//! Invariants:
//! 1. Every file gets exactly one result, returned in input order; the
//!    `on_done` callback sees results in completion order.
//! 2. A worker that dies or is killed keeps the outcomes it reported; the
//!    first unreported record fails with the reason and every later
//!    unskipped statement or query record (up to an unskipped `halt`) counts
//!    as failed, as `slt_run.py` does on a timeout.
//! 3. The runner only kills its own children, by handle.
//!
//! It does not run SQL itself except in `in_process` mode, which trades the
//! isolation (and the timeout) for easier debugging.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::protocol::{Message, WORKER_FLAG};
use crate::runner::{self, FileResult, FileStatus, RunOptions};
use crate::script::{self, Script};
use crate::Backend;

/// How long a killed worker's last output is waited for.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How much of the start and of the end of a worker's stderr is kept for a
/// crash report (a panic message comes first, then maybe a backtrace).
const STDERR_HEAD: usize = 1500;
const STDERR_TAIL: usize = 1500;

/// How to run a set of files.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Files run at the same time (at least 1).
    pub jobs: usize,
    /// Per-file limit; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Engine labels for `skipif`/`onlyif`, lower case.
    pub labels: Vec<String>,
    /// Rewrite failing records with the actual results (`--complete`).
    pub complete: bool,
    /// Keep at most this many failure details per file.
    pub max_failures: Option<usize>,
    /// Run files one by one in this process: no isolation, no timeout.
    pub in_process: bool,
    /// The worker executable; `None` is the current executable.
    pub worker_exe: Option<PathBuf>,
}

impl Default for SuiteOptions {
    fn default() -> SuiteOptions {
        SuiteOptions {
            jobs: 1,
            timeout: Some(Duration::from_secs(300)),
            labels: Vec::new(),
            complete: false,
            max_failures: None,
            in_process: false,
            worker_exe: None,
        }
    }
}

/// The files named by `paths`: files as given, directories searched
/// recursively for `*.slt` and `*.test`, each directory's files (sorted by
/// name) before its subdirectories (sorted), symlinked directories not
/// entered, as `os.walk` does.
pub fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out);
        } else {
            out.push(path.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<_> = entries.filter_map(Result::ok).map(|e| e.file_name()).collect();
    names.sort();
    let mut subdirs = Vec::new();
    for name in names {
        let path = dir.join(&name);
        if path.is_dir() {
            if !path.is_symlink() {
                subdirs.push(path);
            }
        } else if path.extension().is_some_and(|e| e == "slt" || e == "test") {
            out.push(path);
        }
    }
    for sub in subdirs {
        walk(&sub, out);
    }
}

/// Runs `files` and returns their results in the same order, calling
/// `on_done` as each finishes.
pub fn run_files(
    backend: &dyn Backend,
    files: &[PathBuf],
    options: &SuiteOptions,
    on_done: &mut dyn FnMut(&FileResult),
) -> Vec<FileResult> {
    let run_options =
        RunOptions { labels: options.labels.clone(), complete: options.complete, max_failures: options.max_failures };
    if options.in_process {
        return files
            .iter()
            .map(|path| {
                let result = runner::run_path(backend, path, &run_options);
                on_done(&result);
                result
            })
            .collect();
    }
    Pool::new(options).run(files, on_done)
}

/// What a worker's reader threads send: (job id, event).
enum Event {
    Line(String),
    Closed,
}

/// One running worker.
struct Job {
    slot: usize,
    script: Script,
    child: Option<Child>,
    started: Instant,
    result: FileResult,
    /// The index after the last record the worker reported.
    next_record: usize,
    end: Option<(FileStatus, Option<String>)>,
    killed_at: Option<Instant>,
    stdout_closed: bool,
    stderr: Arc<Mutex<StderrCapture>>,
}

struct Pool<'a> {
    options: &'a SuiteOptions,
    sender: Sender<(usize, Event)>,
    receiver: Receiver<(usize, Event)>,
    running: HashMap<usize, Job>,
    next_id: usize,
}

impl<'a> Pool<'a> {
    fn new(options: &'a SuiteOptions) -> Pool<'a> {
        let (sender, receiver) = mpsc::channel();
        Pool { options, sender, receiver, running: HashMap::new(), next_id: 0 }
    }

    fn run(mut self, files: &[PathBuf], on_done: &mut dyn FnMut(&FileResult)) -> Vec<FileResult> {
        let mut results: Vec<Option<FileResult>> = vec![None; files.len()];
        let mut pending = files.iter().enumerate();
        loop {
            while self.running.len() < self.options.jobs.max(1) {
                let Some((slot, path)) = pending.next() else {
                    break;
                };
                if let Some(done) = self.start(slot, path) {
                    on_done(&done);
                    results[slot] = Some(done);
                }
            }
            if self.running.is_empty() {
                break;
            }
            match self.receiver.recv_timeout(self.wait_time()) {
                Ok((id, event)) => self.handle(id, event),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("invariant: the pool holds a sender")
                }
            }
            // Drain what else arrived before looking at the clock.
            while let Ok((id, event)) = self.receiver.try_recv() {
                self.handle(id, event);
            }
            for (result, slot) in self.poll() {
                on_done(&result);
                results[slot] = Some(result);
            }
        }
        results.into_iter().map(|r| r.expect("invariant: every started file finished")).collect()
    }

    /// Starts a worker for `path`, or returns the result right away when
    /// the file cannot be read or the worker cannot start.
    fn start(&mut self, slot: usize, path: &Path) -> Option<FileResult> {
        let started = Instant::now();
        let script = match std::fs::read(path) {
            Ok(data) => script::parse(&data),
            Err(e) => return Some(FileResult::unreadable(path, &format!("cannot read {}: {e}", path.display()))),
        };
        let exe = match &self.options.worker_exe {
            Some(exe) => exe.clone(),
            None => match std::env::current_exe() {
                Ok(exe) => exe,
                Err(e) => return Some(self.unstarted(path, &script, &format!("cannot find own executable: {e}"))),
            },
        };
        let mut command = Command::new(exe);
        command.arg(WORKER_FLAG);
        for label in &self.options.labels {
            command.arg("--label").arg(label);
        }
        if self.options.complete {
            command.arg("--complete");
        }
        command.arg("--").arg(path);
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return Some(self.unstarted(path, &script, &format!("cannot start worker: {e}"))),
        };
        let id = self.next_id;
        self.next_id += 1;
        if let Some(stdout) = child.stdout.take() {
            let sender = self.sender.clone();
            thread::spawn(move || read_lines(id, stdout, &sender));
        }
        let stderr = Arc::new(Mutex::new(StderrCapture::default()));
        if let Some(pipe) = child.stderr.take() {
            let capture = Arc::clone(&stderr);
            thread::spawn(move || capture_stderr(pipe, &capture));
        }
        let result = FileResult::new(path);
        let job = Job {
            slot,
            script,
            child: Some(child),
            started,
            result,
            next_record: 0,
            end: None,
            killed_at: None,
            stdout_closed: false,
            stderr,
        };
        self.running.insert(id, job);
        None
    }

    /// The result of a file whose worker never ran: all of it failed.
    fn unstarted(&self, path: &Path, script: &Script, error: &str) -> FileResult {
        let mut result = FileResult::new(path);
        result.status = FileStatus::Crash;
        result.failed = script.count_unfinished(0, &self.options.labels);
        result.error = Some(error.to_owned());
        result
    }

    fn handle(&mut self, id: usize, event: Event) {
        let Some(job) = self.running.get_mut(&id) else {
            return;
        };
        match event {
            Event::Closed => job.stdout_closed = true,
            Event::Line(line) => match Message::decode(&line) {
                Some(Message::Record { index, outcome }) => {
                    if let Some(record) = job.script.records.get(index) {
                        job.result.tally(record, &outcome, self.options.max_failures);
                        job.next_record = index + 1;
                    }
                }
                Some(Message::End { status, error }) => job.end = Some((status, error)),
                None => {}
            },
        }
    }

    /// How long to wait for the next event before checking the clock.
    fn wait_time(&self) -> Duration {
        let now = Instant::now();
        let mut wait = Duration::from_millis(200);
        for job in self.running.values() {
            if job.stdout_closed {
                wait = wait.min(Duration::from_millis(5));
            }
            let wake = match (job.killed_at, self.options.timeout) {
                (Some(killed), _) => Some(killed + KILL_GRACE),
                (None, Some(timeout)) => Some(job.started + timeout),
                (None, None) => None,
            };
            if let Some(wake) = wake {
                wait = wait.min(wake.saturating_duration_since(now));
            }
        }
        wait
    }

    /// Kills workers past the timeout and collects finished ones, with
    /// their slots.
    fn poll(&mut self) -> Vec<(FileResult, usize)> {
        let now = Instant::now();
        let mut finished = Vec::new();
        for (&id, job) in &mut self.running {
            let Some(child) = job.child.as_mut() else {
                continue;
            };
            let timed_out = self.options.timeout.is_some_and(|t| now >= job.started + t);
            if timed_out && job.killed_at.is_none() {
                // The worker may be stuck anywhere; it is our child, so
                // killing it by handle is safe. An error means it already exited.
                let _ = child.kill();
                job.killed_at = Some(now);
            }
            let exited =
                if job.stdout_closed || job.killed_at.is_some() { child.try_wait().ok().flatten() } else { None };
            let grace_over = job.killed_at.is_some_and(|k| now >= k + KILL_GRACE);
            if (job.stdout_closed && exited.is_some()) || grace_over {
                finished.push((id, exited));
            }
        }
        finished
            .into_iter()
            .filter_map(|(id, exit)| {
                let job = self.running.remove(&id)?;
                let slot = job.slot;
                Some((finish(job, exit, self.options), slot))
            })
            .collect()
    }
}

/// Sends each line of a worker's stdout, then `Closed`.
fn read_lines(id: usize, stdout: impl Read, sender: &Sender<(usize, Event)>) {
    let mut reader = BufReader::new(stdout);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buffer).into_owned();
                if sender.send((id, Event::Line(line))).is_err() {
                    return;
                }
            }
        }
    }
    // The pool may be gone already; nobody to tell then.
    let _ = sender.send((id, Event::Closed));
}

/// The start and the end of what a worker wrote to stderr.
#[derive(Debug, Default)]
struct StderrCapture {
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Bytes dropped between `head` and `tail`.
    dropped: usize,
}

impl StderrCapture {
    fn add(&mut self, mut bytes: &[u8]) {
        let room = STDERR_HEAD.saturating_sub(self.head.len()).min(bytes.len());
        self.head.extend_from_slice(&bytes[..room]);
        bytes = &bytes[room..];
        self.tail.extend_from_slice(bytes);
        let excess = self.tail.len().saturating_sub(STDERR_TAIL);
        self.tail.drain(..excess);
        self.dropped += excess;
    }

    fn text(&self) -> String {
        let gap = if self.dropped > 0 { format!("\n[... {} bytes ...]\n", self.dropped) } else { String::new() };
        let text = format!("{}{gap}{}", String::from_utf8_lossy(&self.head), String::from_utf8_lossy(&self.tail));
        text.trim().to_owned()
    }
}

/// Collects a worker's stderr until it closes.
fn capture_stderr(mut pipe: impl Read, capture: &Mutex<StderrCapture>) {
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = pipe.read(&mut chunk) {
        let Ok(mut kept) = capture.lock() else { return };
        kept.add(&chunk[..n]);
    }
}

/// The file's result once its worker is gone (or given up on).
fn finish(mut job: Job, exit: Option<ExitStatus>, options: &SuiteOptions) -> FileResult {
    let labels = &options.labels;
    let seconds = job.started.elapsed().as_secs_f64();
    if let Some(mut child) = job.child.take() {
        if exit.is_none() {
            // Killed but not yet reaped, or given up on after the grace
            // period: make sure it is gone. Errors mean it already is.
            let _ = child.kill();
            let _ = child.try_wait();
        }
    }
    let path = job.result.path.clone();
    let mut result = match job.end.take() {
        Some((FileStatus::ConnectError, error)) => {
            runner::connect_error(&path, &job.script, labels, error.as_deref().unwrap_or(""))
        }
        Some((FileStatus::Unreadable, error)) => FileResult::unreadable(&path, error.as_deref().unwrap_or("")),
        Some((status, error)) => {
            job.result.status = status;
            job.result.error = error;
            job.result
        }
        None => {
            let reason = if job.killed_at.is_some() {
                let limit = options.timeout.map_or(0.0, |t| t.as_secs_f64());
                format!("timeout after {limit}s")
            } else {
                let status = exit.map_or("unknown status".to_owned(), |s| s.to_string());
                format!("worker died ({status})")
            };
            let stderr = job.stderr.lock().map(|c| c.text()).unwrap_or_default();
            let error = if stderr.is_empty() { reason.clone() } else { format!("{reason}; its stderr:\n{stderr}") };
            let mut result = stop_early(job, &reason, labels);
            result.error = Some(error);
            result
        }
    };
    result.seconds = seconds;
    result
}

/// Counts the unreported rest of a stopped file as failed; the first
/// unreported record carries the reason.
fn stop_early(job: Job, reason: &str, labels: &[String]) -> FileResult {
    let unfinished = job.script.count_unfinished(job.next_record, labels);
    let first = job.script.records.iter().skip(job.next_record).find(|r| r.is_counted() && !r.is_skipped(labels));
    let mut result = job.result;
    result.status = if job.killed_at.is_some() { FileStatus::Timeout } else { FileStatus::Crash };
    if let (Some(record), true) = (first, unfinished > 0) {
        let message = format!("{reason}; this record and {} after it count as failed", unfinished - 1);
        result.note_failure(record.line, record.kind_name(), &message, record.sql(), None);
    }
    result.failed += unfinished;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_capture_keeps_start_and_end_of_long_output() {
        let mut capture = StderrCapture::default();
        capture.add(b"panicked at here\n");
        for _ in 0..1000 {
            capture.add(b"backtrace line\n");
        }
        capture.add(b"last words");
        let text = capture.text();
        assert!(text.starts_with("panicked at here"), "{text}");
        assert!(text.ends_with("last words"), "{text}");
        assert!(text.contains("bytes ...]"), "{text}");
        assert!(text.len() < STDERR_HEAD + STDERR_TAIL + 40);
    }

    #[test]
    fn short_stderr_is_kept_whole() {
        let mut capture = StderrCapture::default();
        capture.add(b"  boom\n");
        assert_eq!(capture.text(), "boom");
    }
}
