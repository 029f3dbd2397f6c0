//! The `mizzle` binary. `mizzle shell [DIR]` (or plain `mizzle`) opens a
//! database, in memory without `DIR`, and runs SQL from `-e` arguments,
//! from standard input when it is not a terminal, or interactively with
//! line editing and history in `~/.mizzle_history`.
//!
//! Invariants:
//! 1. Exit status 0 means every statement succeeded; 1 means a statement
//!    failed or the database could not be opened; 2 is a usage error.
//! 2. Standard input is validated as UTF-8 line by line; invalid input is an
//!    error, never silently replaced.
//!
//! `mizzle backup SRC DEST` copies the database in `SRC` as one snapshot
//! sees it into a new directory `DEST`.
//!
//! It does not connect to a server (import and dump come later).

#![forbid(unsafe_code)]

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use mizzle::Database;
use mizzle_cli::format;
use mizzle_cli::shell::{Mode, Shell, Step};
use rustyline::error::ReadlineError;

#[derive(Parser, Debug)]
#[command(name = "mizzle", version, about = "mizzle: an embedded transactional SQL database (MySQL dialect)")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand, `mizzle` runs the shell.
    #[command(flatten)]
    shell: ShellArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run SQL interactively, from -e arguments, or from standard input.
    Shell(ShellArgs),
    /// Copy a database as one snapshot sees it into a new directory.
    Backup(BackupArgs),
}

#[derive(Args, Debug)]
struct BackupArgs {
    /// The database directory to copy (not open in another process).
    source: PathBuf,
    /// A new (or empty) directory for the copy.
    dest: PathBuf,
}

#[derive(Args, Debug, Default)]
struct ShellArgs {
    /// Database directory; without it the database lives in memory.
    dir: Option<PathBuf>,
    /// Run these statements and exit (repeatable); standard input is ignored.
    #[arg(short = 'e', long = "execute", value_name = "SQL")]
    execute: Vec<String>,
    /// In batch mode, keep going after a statement fails.
    #[arg(short = 'f', long)]
    force: bool,
    /// Do not print statement timings such as `(0.00 sec)`.
    #[arg(long)]
    no_timing: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Shell(args)) => args,
        Some(Command::Backup(b)) => return backup(&b),
        None => cli.shell,
    };
    match shell(args) {
        Ok(code) => code,
        Err(e) => {
            // Writing failed, e.g. a closed pipe: nothing more can be shown
            // on stdout, so say why on stderr.
            if e.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("mizzle: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn backup(args: &BackupArgs) -> ExitCode {
    let started = std::time::Instant::now();
    let db = match Database::open_with(&args.source, mizzle::OpenOptions::new().create(false)) {
        Ok(db) => db,
        Err(e) => {
            eprint!("{}", format::error_line(&e, None));
            return ExitCode::FAILURE;
        }
    };
    match db.backup_to(&args.dest) {
        Ok(r) => {
            println!(
                "Backed up {} keys ({} bytes) as of snapshot {} to {} in {:.2} sec",
                r.keys,
                r.bytes,
                r.snapshot,
                args.dest.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint!("{}", format::error_line(&e, None));
            ExitCode::FAILURE
        }
    }
}

fn shell(args: ShellArgs) -> io::Result<ExitCode> {
    let db = match &args.dir {
        Some(dir) => Database::open(dir),
        None => Database::open_in_memory(),
    };
    let db = match db {
        Ok(db) => db,
        Err(e) => {
            eprint!("{}", format::error_line(&e, None));
            return Ok(ExitCode::FAILURE);
        }
    };
    let interactive = args.execute.is_empty() && io::stdin().is_terminal();
    let mut sh = Shell::new(db.session(), if interactive { Mode::Interactive } else { Mode::Batch });
    sh.set_timing(!args.no_timing);
    sh.set_force(args.force);

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    if !args.execute.is_empty() {
        for script in &args.execute {
            if sh.run_script(script, &mut out, &mut err)? == Step::Quit {
                break;
            }
        }
    } else if interactive {
        drop(out);
        interact(&mut sh, args.dir.as_deref())?;
        out = stdout.lock();
    } else {
        read_stdin(&mut sh, &mut out, &mut err)?;
    }
    out.flush()?;
    Ok(if sh.failed() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Script mode: every line of standard input, then the end of input.
fn read_stdin(sh: &mut Shell, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
    let mut input = io::stdin().lock();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.strip_suffix('\n').unwrap_or(&line);
        let text = text.strip_suffix('\r').unwrap_or(text);
        if sh.feed_line(text, out, err)? == Step::Quit {
            return Ok(());
        }
    }
    sh.finish(out, err).map(|_| ())
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".mizzle_history"))
}

/// Interactive mode with rustyline. History problems are ignored: a shell
/// without history is still a shell.
fn interact(sh: &mut Shell, dir: Option<&Path>) -> io::Result<()> {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => return Err(io::Error::other(format!("cannot set up line editing: {e}"))),
    };
    let history = history_path();
    if let Some(p) = &history {
        let _ = editor.load_history(p);
    }
    let mut out = io::stdout();
    let mut err = io::stderr();
    writeln!(out, "Welcome to the mizzle shell, version {}.", env!("CARGO_PKG_VERSION"))?;
    match dir {
        Some(d) => writeln!(out, "Database: {}", d.display())?,
        None => writeln!(out, "Database: in memory (gone when the shell exits).")?,
    }
    writeln!(out, "Statements end with ';'. Type 'help' or '\\h' for help, 'quit' to leave.\n")?;
    out.flush()?;

    loop {
        match editor.readline(sh.prompt()) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if sh.feed_line(&line, &mut out, &mut err)? == Step::Quit {
                    break;
                }
                out.flush()?;
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C drops the statement being typed, as in mysql.
                sh.cancel();
                writeln!(out, "^C")?;
            }
            Err(ReadlineError::Eof) => {
                writeln!(out, "Bye")?;
                break;
            }
            Err(e) => {
                writeln!(err, "mizzle: cannot read input: {e}")?;
                break;
            }
        }
    }
    out.flush()?;
    if let Some(p) = &history {
        let _ = editor.save_history(p);
    }
    Ok(())
}
