//! The line protocol between the runner and a worker process, and the
//! worker's side of it.
//!
//! A worker (`<exe> --slt-worker [--label L]... [--complete] -- FILE`) runs
//! one file and writes to stdout, as each record finishes, one line:
//!
//! ```text
//! @slt pass <index>
//! @slt skip <index>
//! @slt fail <index> <message>
//! @slt end <status> [<message>]
//! ```
//!
//! `<index>` is the 0-based record index in the parsed file (both sides parse
//! the same file), `<status>` a `FileStatus` word (`ok`, `halt`,
//! `connect-error`, `error`) and `<message>` is escaped: `\\`, `\n`, `\r`.
//!
//! Invariants:
//! 1. Every line is flushed as soon as it is written, so the runner knows
//!    exactly how far a worker got when it dies or is killed.
//! 2. `end` is written last, after the database is dropped; a worker that
//!    exits without it crashed.
//! 3. The reader looks for `@slt ` anywhere in a line and ignores lines
//!    without it, so stray engine output on stdout does not break the
//!    protocol.
//!
//! It does not time anything or count remaining records: that is the
//! runner's (`supervisor`).

use std::io::Write;
use std::path::Path;

use crate::runner::{self, FileStatus, RecordOutcome, RunOptions};
use crate::{script, Backend};

/// The hidden command-line flag that makes `run_cli` a worker.
pub(crate) const WORKER_FLAG: &str = "--slt-worker";

const MARKER: &str = "@slt ";

/// One protocol line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Message {
    Record { index: usize, outcome: RecordOutcome },
    End { status: FileStatus, error: Option<String> },
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

impl Message {
    pub(crate) fn encode(&self) -> String {
        match self {
            Message::Record { index, outcome: RecordOutcome::Passed } => format!("{MARKER}pass {index}"),
            Message::Record { index, outcome: RecordOutcome::Skipped } => format!("{MARKER}skip {index}"),
            Message::Record { index, outcome: RecordOutcome::Failed(message) } => {
                format!("{MARKER}fail {index} {}", escape(message))
            }
            Message::End { status, error: None } => format!("{MARKER}end {}", status.as_str()),
            Message::End { status, error: Some(error) } => {
                format!("{MARKER}end {} {}", status.as_str(), escape(error))
            }
        }
    }

    /// Reads one line of worker output; `None` for anything else.
    pub(crate) fn decode(line: &str) -> Option<Message> {
        let start = line.find(MARKER)?;
        let body = line[start + MARKER.len()..].trim_end_matches(['\n', '\r']);
        let (word, rest) = body.split_once(' ').unwrap_or((body, ""));
        let (first, tail) = rest.split_once(' ').map_or((rest, None), |(a, b)| (a, Some(b)));
        let record = |outcome| Some(Message::Record { index: first.parse().ok()?, outcome });
        match word {
            "pass" => record(RecordOutcome::Passed),
            "skip" => record(RecordOutcome::Skipped),
            "fail" => record(RecordOutcome::Failed(unescape(tail.unwrap_or("")))),
            "end" => Some(Message::End { status: FileStatus::from_word(first)?, error: tail.map(unescape) }),
            _ => None,
        }
    }
}

/// Writes one message; a worker whose runner is gone has nobody to tell, so
/// it exits.
fn send(message: &Message) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", message.encode()).and_then(|()| out.flush()).is_err() {
        std::process::exit(3);
    }
}

/// The worker process's whole job: run `path` on a fresh database from
/// `backend`, streaming outcomes. Returns the exit code.
pub(crate) fn run_worker(backend: &dyn Backend, path: &Path, options: &RunOptions) -> i32 {
    let data = match std::fs::read(path) {
        Ok(data) => data,
        Err(e) => {
            let error = Some(format!("cannot read {}: {e}", path.display()));
            send(&Message::End { status: FileStatus::Unreadable, error });
            return 0;
        }
    };
    let parsed = script::parse(&data);
    let db = match backend.open() {
        Ok(db) => db,
        Err(error) => {
            send(&Message::End { status: FileStatus::ConnectError, error: Some(error) });
            return 0;
        }
    };
    let options = RunOptions { max_failures: Some(0), ..options.clone() };
    let result = runner::run_script(db.as_ref(), path, &parsed, &options, &mut |index, outcome| {
        send(&Message::Record { index, outcome: outcome.clone() });
    });
    drop(db);
    send(&Message::End { status: result.status, error: result.error });
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_encoding_with_newlines_and_backslashes() {
        let messages = [
            Message::Record { index: 0, outcome: RecordOutcome::Passed },
            Message::Record { index: 17, outcome: RecordOutcome::Skipped },
            Message::Record { index: 3, outcome: RecordOutcome::Failed("a\\nb\nc\r d  ".into()) },
            Message::Record { index: 4, outcome: RecordOutcome::Failed(String::new()) },
            Message::End { status: FileStatus::Halt, error: None },
            Message::End { status: FileStatus::ConnectError, error: Some("no\ndisk".into()) },
        ];
        for m in messages {
            let line = m.encode();
            assert!(!line.contains('\n'), "{line:?}");
            assert_eq!(Message::decode(&line), Some(m));
        }
    }

    #[test]
    fn stray_output_is_ignored_and_marker_found_mid_line() {
        assert_eq!(Message::decode("engine says hi"), None);
        assert_eq!(Message::decode("@slt bogus 1"), None);
        assert_eq!(Message::decode("@slt pass x"), None);
        assert_eq!(
            Message::decode("partial print@slt pass 5\n"),
            Some(Message::Record { index: 5, outcome: RecordOutcome::Passed })
        );
    }
}
