//! The shell's driver: feeds input lines through the [`Splitter`], handles
//! meta commands, runs each statement on a session and writes what the
//! `mysql` client would print.
//!
//! States: `Running` -> `Quit` on `quit`/`exit`/`\q`, or in batch mode on
//! the first failed statement unless `force` is set ([`Shell::feed_line`]).
//! Nothing moves out of `Quit`; the caller stops feeding.
//!
//! Invariants:
//! 1. Results go to `out`, errors to `err`, and `out` is flushed before an
//!    error is written, so the two streams interleave in order on a terminal.
//! 2. Meta commands are recognised only at the start of a statement (when
//!    nothing is pending), so SQL text is never taken for one.
//! 3. Batch errors name the script line (`ERROR 1146 (42S02) at line 3: ...`);
//!    interactive ones do not.
//!
//! It does not read input or know about terminals: the binary owns line
//! editing and history.

use std::io::{self, Write};
use std::time::Instant;

use mizzle::{Output, Session};

use crate::format::{self, Table};
use crate::split::{Splitter, Statement};

/// How the shell is being driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A person at a terminal: errors do not stop the shell.
    Interactive,
    /// A script (`-e` or standard input): the first error stops it.
    Batch,
}

/// Whether the caller should keep feeding lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Feed the next line.
    Continue,
    /// Stop: the user quit, or a batch statement failed.
    Quit,
}

/// The text shown by `help`.
pub const HELP: &str = "\
List of mizzle shell commands:
help      (\\h) Display this help.
quit      (\\q) Leave the shell (also: exit).
\\timing        Toggle the statement timings shown after each result.
\\c             Clear the statement typed so far.

End a statement with ';' or '\\g' to run it, or with '\\G' to show its
rows vertically, one column per line.

";

/// A shell over one session.
pub struct Shell {
    session: Session,
    splitter: Splitter,
    mode: Mode,
    timing: bool,
    force: bool,
    failed: bool,
    quit: bool,
}

impl Shell {
    /// A shell running statements on `session`, showing timings.
    pub fn new(session: Session, mode: Mode) -> Shell {
        Shell { session, splitter: Splitter::new(), mode, timing: true, force: false, failed: false, quit: false }
    }

    /// Shows or hides `(0.00 sec)` after each statement.
    pub fn set_timing(&mut self, on: bool) {
        self.timing = on;
    }

    /// In batch mode, keeps going after a failed statement.
    pub fn set_force(&mut self, force: bool) {
        self.force = force;
    }

    /// True once any statement has failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// The prompt for the next line: `mizzle> `, or a continuation prompt
    /// naming what is open (`    -> `, `    '> `, `   /*> `).
    pub fn prompt(&self) -> &'static str {
        if !self.splitter.is_pending() {
            return "mizzle> ";
        }
        match self.splitter.open_delimiter() {
            Some("'") => "    '> ",
            Some("\"") => "    \"> ",
            Some("`") => "    `> ",
            Some(_) => "   /*> ",
            None => "    -> ",
        }
    }

    /// Forgets a partly typed statement (Ctrl-C at the prompt).
    pub fn cancel(&mut self) {
        self.splitter.clear();
    }

    /// Handles one line of input: a meta command, or SQL that may complete
    /// statements, which run in order.
    pub fn feed_line(&mut self, line: &str, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Step> {
        if self.quit {
            return Ok(Step::Quit);
        }
        if !self.splitter.is_pending() && self.meta_command(line, out)? {
            self.splitter.push_line("");
            return Ok(self.step());
        }
        for stmt in self.splitter.push_line(line) {
            self.run_statement(&stmt, out, err)?;
            if self.quit {
                break;
            }
        }
        Ok(self.step())
    }

    /// Ends the input: runs an unterminated last statement, if any.
    pub fn finish(&mut self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Step> {
        if let Some(stmt) = self.splitter.finish() {
            if !self.quit {
                self.run_statement(&stmt, out, err)?;
            }
        }
        Ok(self.step())
    }

    /// Feeds a whole script (one `-e` argument) and ends it, with line
    /// numbers counted from the script's first line.
    pub fn run_script(&mut self, script: &str, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Step> {
        self.splitter = Splitter::new();
        for line in script.lines() {
            if self.feed_line(line, out, err)? == Step::Quit {
                return Ok(Step::Quit);
            }
        }
        self.finish(out, err)
    }

    fn step(&self) -> Step {
        if self.quit {
            Step::Quit
        } else {
            Step::Continue
        }
    }

    /// Runs a meta command if `line` is one; says whether it was.
    fn meta_command(&mut self, line: &str, out: &mut dyn Write) -> io::Result<bool> {
        let word = line.trim();
        let word = word.strip_suffix(';').unwrap_or(word).trim_end();
        match word.to_ascii_lowercase().as_str() {
            "quit" | "exit" | "\\q" => {
                self.quit = true;
                if self.mode == Mode::Interactive {
                    writeln!(out, "Bye")?;
                }
            }
            "help" | "\\h" | "?" | "\\?" => out.write_all(HELP.as_bytes())?,
            "\\timing" => {
                self.timing = !self.timing;
                writeln!(out, "Timing is {}.", if self.timing { "on" } else { "off" })?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn run_statement(&mut self, stmt: &Statement, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let started = Instant::now();
        let result = self.session.run(&stmt.sql);
        let elapsed = self.timing.then(|| started.elapsed());
        match result {
            Ok(outputs) => {
                let warnings = self.session.messages();
                let mut text = String::new();
                for output in outputs {
                    match output {
                        Output::Rows(rows) => {
                            let table = Table::from_rows(&rows);
                            text.push_str(&if stmt.vertical { table.vertical() } else { table.boxed() });
                            text.push_str(&format::rows_status(rows.len(), warnings.len(), elapsed));
                        }
                        Output::Done(done) => {
                            text.push_str(&format::done_status(done.rows_affected, warnings.len(), elapsed));
                        }
                    }
                }
                text.push_str(&format::warning_lines(&warnings));
                text.push('\n');
                out.write_all(text.as_bytes())?;
            }
            Err(e) => {
                self.failed = true;
                out.flush()?;
                let line = (self.mode == Mode::Batch).then_some(stmt.line);
                err.write_all(format::error_line(&e, line).as_bytes())?;
                err.flush()?;
                if self.mode == Mode::Batch && !self.force {
                    self.quit = true;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(mode: Mode) -> Shell {
        let db = match mizzle::Database::open_in_memory() {
            Ok(db) => db,
            Err(e) => panic!("in-memory database: {e}"),
        };
        let mut s = Shell::new(db.session(), mode);
        s.set_timing(false);
        s
    }

    fn feed(s: &mut Shell, lines: &[&str]) -> (String, String, Step) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut step = Step::Continue;
        for l in lines {
            step = s.feed_line(l, &mut out, &mut err).unwrap_or(Step::Quit);
            if step == Step::Quit {
                break;
            }
        }
        (String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned(), step)
    }

    #[test]
    fn prompt_shows_continuation_until_statement_ends() {
        let mut s = shell(Mode::Interactive);
        assert_eq!(s.prompt(), "mizzle> ");
        feed(&mut s, &["SELECT"]);
        assert_eq!(s.prompt(), "    -> ");
        feed(&mut s, &["'a"]);
        assert_eq!(s.prompt(), "    '> ");
        let (out, _, _) = feed(&mut s, &["';"]);
        assert!(out.contains("1 row in set"), "{out}");
        assert_eq!(s.prompt(), "mizzle> ");
    }

    #[test]
    fn quit_is_a_meta_command_only_at_statement_start() {
        let mut s = shell(Mode::Interactive);
        let (_, err, step) = feed(&mut s, &["SELECT 1 AS", "quit;"]);
        assert_eq!(step, Step::Continue, "{err}");
        let (out, _, step) = feed(&mut s, &["\\q"]);
        assert_eq!((out.as_str(), step), ("Bye\n", Step::Quit));
    }

    #[test]
    fn timing_command_toggles_and_reports() {
        let mut s = shell(Mode::Interactive);
        let (out, _, _) = feed(&mut s, &["\\timing", "\\timing"]);
        assert_eq!(out, "Timing is on.\nTiming is off.\n");
    }

    #[test]
    fn interactive_error_does_not_stop_the_shell() {
        let mut s = shell(Mode::Interactive);
        let (out, err, step) = feed(&mut s, &["SELECT * FROM missing;", "SELECT 1;"]);
        assert!(err.starts_with("ERROR 1146 (42S02): "), "{err}");
        assert_eq!(step, Step::Continue);
        assert!(out.contains("1 row in set"), "{out}");
        assert!(s.failed());
    }

    #[test]
    fn batch_error_stops_and_names_the_line() {
        let mut s = shell(Mode::Batch);
        let (out, err, step) = feed(&mut s, &["SELECT 1;", "SELECT * FROM missing;", "SELECT 2;"]);
        assert!(err.starts_with("ERROR 1146 (42S02) at line 2: "), "{err}");
        assert_eq!(step, Step::Quit);
        assert_eq!(out.matches("1 row in set").count(), 1, "{out}");
    }

    #[test]
    fn batch_with_force_continues_after_error() {
        let mut s = shell(Mode::Batch);
        s.set_force(true);
        let (out, err, step) = feed(&mut s, &["SELECT * FROM missing;", "SELECT 2;"]);
        assert!(err.contains("1146"), "{err}");
        assert_eq!(step, Step::Continue);
        assert!(out.contains("1 row in set"), "{out}");
        assert!(s.failed());
    }

    #[test]
    fn statements_on_one_line_run_in_order() {
        let mut s = shell(Mode::Batch);
        let (out, err, _) = feed(&mut s, &["CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2);"]);
        assert_eq!(err, "");
        assert_eq!(out, "Query OK, 0 rows affected\n\nQuery OK, 2 rows affected\n\n");
    }

    #[test]
    fn vertical_terminator_prints_records() {
        let mut s = shell(Mode::Batch);
        let (out, _, _) = feed(&mut s, &["SELECT 1 AS a\\G"]);
        let stars = "*".repeat(27);
        assert_eq!(out, format!("{stars} 1. row {stars}\na: 1\n1 row in set\n\n"));
    }
}
